package ui

import (
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/plex"
)

func TestClockText(t *testing.T) {
	tests := []struct {
		ms   int64
		want string
	}{
		{0, "0:00:00"},
		{-5, "0:00:00"},
		{999, "0:00:00"},
		{(52*60 + 10) * 1000, "0:52:10"},
		{(2*3600 + 7*60) * 1000, "2:07:00"},
		{(12*3600 + 1) * 1000, "12:00:01"},
	}
	for _, tt := range tests {
		if got := clockText(tt.ms); got != tt.want {
			t.Errorf("clockText(%d) = %q, want %q", tt.ms, got, tt.want)
		}
	}
}

func TestProgressText(t *testing.T) {
	tests := []struct {
		offset, duration int64
		want             string
	}{
		{(52*60 + 10) * 1000, (2*3600 + 7*60) * 1000, "41% 0:52:10/2:07:00"},
		{0, 60_000, "0% 0:00:00/0:01:00"},
		{90_000, 60_000, "100% 0:01:30/0:01:00"}, // past the end: clamped
		{90_000, 0, "0:01:30"},                   // live TV: no duration
		{0, 0, ""},
	}
	for _, tt := range tests {
		s := app.Session{ViewOffsetMs: tt.offset, DurationMs: tt.duration}
		if got := progressText(&s); got != tt.want {
			t.Errorf("progressText(%d/%d) = %q, want %q", tt.offset, tt.duration, got, tt.want)
		}
	}
}

func TestBitrateText(t *testing.T) {
	tests := []struct {
		kbps int64
		want string
	}{
		{0, "—"},
		{-1, "—"},
		{850, "850 kbps"},
		{999, "999 kbps"},
		{1000, "1.0 Mbps"},
		{12300, "12.3 Mbps"},
		{12345, "12.3 Mbps"},
		{120000, "120.0 Mbps"},
	}
	for _, tt := range tests {
		if got := bitrateText(tt.kbps); got != tt.want {
			t.Errorf("bitrateText(%d) = %q, want %q", tt.kbps, got, tt.want)
		}
	}
}

func TestLocationText(t *testing.T) {
	tests := []struct {
		name string
		s    app.Session
		want string
	}{
		{"lan", app.Session{Location: "lan", Player: app.Player{Address: "192.168.1.20"}}, "LAN 192.168.1.20"},
		{"local player without location", app.Session{Player: app.Player{Address: "10.0.0.5", Local: true}}, "LAN 10.0.0.5"},
		{"no location, private address", app.Session{Player: app.Player{Address: "fd12:3456::5"}}, "LAN (by address) fd12:3456::5"},
		{"no location, public address", app.Session{Player: app.Player{Address: "203.0.113.9"}}, "Remote (by address) 203.0.113.9"},
		{"remote", app.Session{Location: "wan", Player: app.Player{Address: "203.0.113.7"}}, "Remote 203.0.113.7"},
		{"cellular", app.Session{Location: "cellular", Player: app.Player{Address: "100.64.1.2"}}, "Cellular 100.64.1.2"},
		{"relayed", app.Session{Location: "wan", Relayed: true, Player: app.Player{Address: "203.0.113.7"}}, "Relayed"},
		{"unknown", app.Session{Player: app.Player{Address: "198.51.100.1"}}, "Remote (by address) 198.51.100.1"},
		{"nothing", app.Session{}, ""},
	}
	for _, tt := range tests {
		if got := locationText(&tt.s); got != tt.want {
			t.Errorf("locationText(%s) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestPlayerText(t *testing.T) {
	tests := []struct {
		p    app.Player
		want string
	}{
		{app.Player{Product: "Plex Web", Platform: "Chrome", Device: "Windows"}, "Plex Web · Chrome/Windows"},
		{app.Player{Product: "Plex for Roku", Platform: "Roku", Device: "roku"}, "Plex for Roku · Roku"},
		{app.Player{Product: "Plexamp", Device: "iPhone"}, "Plexamp · iPhone"},
		{app.Player{Title: "Living room TV"}, "Living room TV"},
		{app.Player{}, ""},
	}
	for _, tt := range tests {
		if got := playerText(tt.p); got != tt.want {
			t.Errorf("playerText(%+v) = %q, want %q", tt.p, got, tt.want)
		}
	}
}

func TestQualityText(t *testing.T) {
	tests := []struct {
		name string
		s    app.Session
		want string
	}{
		{"video transcode", app.Session{SourceResolution: "4K", SourceVideoCodec: "hevc", TargetResolution: "1080p",
			TargetVideoCodec: "h264", VideoTranscode: true}, "4K HEVC→1080p H.264"},
		{"direct play", app.Session{SourceResolution: "1080p", SourceVideoCodec: "h264", TargetResolution: "1080p",
			TargetVideoCodec: "h264"}, "1080p H.264"},
		{"audio-only transcode shows the source", app.Session{SourceResolution: "1080p", SourceVideoCodec: "h264",
			AudioOnly: true, Decision: plex.Transcode}, "1080p H.264"},
		{"burned subtitles, same format", app.Session{SourceResolution: "1080p", SourceVideoCodec: "h264",
			TargetResolution: "1080p", TargetVideoCodec: "h264", VideoTranscode: true}, "1080p H.264"},
		{"music", app.Session{SourceAudioCodec: "flac"}, "FLAC"},
		{"nothing known", app.Session{}, ""},
	}
	for _, tt := range tests {
		if got := qualityText(&tt.s); got != tt.want {
			t.Errorf("qualityText(%s) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestDisplayArrows(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Transcode: video HEVC 4K → H.264 1080p", "Transcode: video HEVC 4K to H.264 1080p"},
		{"Transcode (HEVC 4K→1080p)", "Transcode (HEVC 4K→1080p)"}, // renders fine
		{"a→ b", "a→b"},
		{"a →\u00a0b", "a →b"},
	}
	for _, tt := range tests {
		if got := displayArrows(tt.in); got != tt.want {
			t.Errorf("displayArrows(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMessageText(t *testing.T) {
	in := "On Roku: Settings → Playback → Remote quality → Original, then play again."
	want := "On Roku: Settings › Playback › Remote quality › Original, then play again."
	if got := messageText(in); got != want {
		t.Errorf("messageText(%q) = %q, want %q", in, got, want)
	}
}

func TestAgoText(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "just now"},
		{45 * time.Second, "45s ago"},
		{5*time.Minute + 59*time.Second, "5m ago"},
		{2*time.Hour + 10*time.Minute, "2h10m ago"},
	}
	for _, tt := range tests {
		if got := agoText(tt.d); got != tt.want {
			t.Errorf("agoText(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
	if got, want := timeAgoText(testNow.Add(-5*time.Minute), testNow), "12:00:00 (5m ago)"; got != want {
		t.Errorf("timeAgoText = %q, want %q", got, want)
	}
	if got := timeAgoText(time.Time{}, testNow); got != "—" {
		t.Errorf("timeAgoText(zero) = %q, want —", got)
	}
}

// stateOf builds a one-server state with sessions and a connection status.
func stateOf(status app.ConnStatus, sessions ...app.Session) *app.State {
	return &app.State{Servers: []*app.Snapshot{app.Snapshot{Server: "Demo server", Conn: app.Conn{Status: status}}.WithSessions(sessions...)}}
}

func TestSummaryAndTooltip(t *testing.T) {
	twoServers := stateOf(app.Connected, aliceSession())
	twoServers.Servers = append(twoServers.Servers, &app.Snapshot{Server: "Home", Conn: app.Conn{Status: app.Unauthorized}})
	tests := []struct {
		name    string
		st      *app.State
		summary string
		tooltip string
	}{
		{"no server", &app.State{}, "Nothing playing", "Plex Warden — no server yet"},
		{"idle", stateOf(app.Connected), "Nothing playing", "Plex Warden — Nothing playing"},
		{"one", stateOf(app.Connected, bobSession()), "1 stream", "Plex Warden — 1 stream"},
		{"three, one transcoding", stateOf(app.Connected, aliceSession(), bobSession(), carolSession()),
			"3 streams, 1 transcoding", "Plex Warden — 3 streams, 1 transcoding"},
		{"problem", twoServers, "1 stream, 1 transcoding", "Plex Warden — 1 stream, 1 transcoding · Home: token rejected"},
		{"token rejected while running", &app.State{Servers: []*app.Snapshot{{Server: "Home", Conn: app.Conn{Status: app.Unauthorized, Err: app.TokenRejectedHint}}}},
			"Nothing playing", "Plex Warden — Nothing playing · Home: token rejected — retrying; sign in again if it persists"},
		{"server down: its sessions are not counted", stateOf(app.Reconnecting, aliceSession(), bobSession()),
			"Nothing playing · server down", "Plex Warden — Nothing playing · server down"},
	}
	for _, tt := range tests {
		if got := summaryText(tt.st); got != tt.summary {
			t.Errorf("summaryText(%s) = %q, want %q", tt.name, got, tt.summary)
		}
		if got := tooltipText(tt.st); got != tt.tooltip {
			t.Errorf("tooltipText(%s) = %q, want %q", tt.name, got, tt.tooltip)
		}
	}
}

func TestServerLine(t *testing.T) {
	last := time.Date(2026, 3, 14, 12, 3, 4, 0, time.UTC)
	tests := []struct {
		conn app.Conn
		want string
	}{
		{app.Conn{Status: app.Connected, LastEvent: last}, "Demo server — connected · last event 12:03:04"},
		{app.Conn{Status: app.Reconnecting, NextRetry: testNow.Add(4 * time.Second)}, "Demo server — reconnecting (retry in 4s)"},
		{app.Conn{Status: app.Unauthorized, Err: "token rejected"}, "Demo server — token rejected: token rejected"},
		{app.Conn{Status: app.Unauthorized, Err: app.TokenRejectedHint, NextRetry: testNow.Add(5 * time.Minute)},
			"Demo server — token rejected — retrying; sign in again if it persists (next try in 5m0s)"},
		{app.Conn{Status: app.Unreachable, Err: "connection refused"}, "Demo server — unreachable: connection refused"},
	}
	for _, tt := range tests {
		sn := &app.Snapshot{Server: "Demo server", Conn: tt.conn}
		if got := serverLine(sn, testNow); got != tt.want {
			t.Errorf("serverLine(%v) = %q, want %q", tt.conn.Status, got, tt.want)
		}
	}
}

func TestEmptyText(t *testing.T) {
	three := &app.State{Servers: []*app.Snapshot{{Server: "A"}, {Server: "B"}, {Server: "C"}}}
	tests := []struct {
		st   *app.State
		want string
	}{
		{&app.State{}, "No server yet. Add your Plex server in Settings."},
		{stateOf(app.Connected), "Nothing is playing on Demo server."},
		{three, "Nothing is playing on A, B and C."},
	}
	for _, tt := range tests {
		if got := emptyText(tt.st); got != tt.want {
			t.Errorf("emptyText = %q, want %q", got, tt.want)
		}
	}
}

func TestTruncate(t *testing.T) {
	if got := truncate("The Lord of the Rings", 10); got != "The Lord …" {
		t.Errorf("truncate = %q", got)
	}
	if got := truncate("Heat", 10); got != "Heat" {
		t.Errorf("truncate short = %q", got)
	}
}

func TestFitText(t *testing.T) {
	test.NewTempApp(t)
	size, style := float32(14), fyne.TextStyle{}
	long := "Severance - S01E03 - In Perpetuity"
	full := fyne.MeasureText(long, size, style).Width
	if got := fitText(long, full, size, style); got != long {
		t.Errorf("fitText at full width = %q, want it unchanged", got)
	}
	got := fitText(long, full/2, size, style)
	if w := fyne.MeasureText(got, size, style).Width; w > full/2 || got[len(got)-len("…"):] != "…" {
		t.Errorf("fitText at half width = %q (%.0f wide), want a shortened text ending in … within %.0f", got, w, full/2)
	}
	if got := fitText(long, 1, size, style); got != "…" {
		t.Errorf("fitText at 1px = %q, want …", got)
	}
}
