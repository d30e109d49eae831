package rules

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/plex"
)

// rule returns DefaultRule(k) changed by mods.
func rule(k Kind, mods ...func(*Rule)) Rule {
	r := DefaultRule(k, "test "+string(k))
	for _, m := range mods {
		m(&r)
	}
	return r
}

type matchCase struct {
	name     string
	rule     Rule
	sessions []app.Session
	now      time.Time // default t0 + 1h
	want     []string  // session keys hit, in order
	reason   string    // substring of the first hit's reason
}

func runMatchCases(t *testing.T, tests []matchCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := compile(tt.rule)
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			now := tt.now
			if now.IsZero() {
				now = t0.Add(time.Hour)
			}
			hits, _ := c.evaluate(tt.sessions, now, nil)
			var got []string
			for _, h := range hits {
				got = append(got, tt.sessions[h.i].SessionKey)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("hits = %v, want %v", got, tt.want)
			}
			if tt.reason != "" && len(hits) > 0 {
				if r := c.reasonOf(hits[0], &tt.sessions[hits[0].i], now); !strings.Contains(r, tt.reason) {
					t.Errorf("reason = %q, want it to contain %q", r, tt.reason)
				}
			}
		})
	}
}

func TestTranscodeKind(t *testing.T) {
	runMatchCases(t, []matchCase{
		{name: "video transcode", rule: rule(KindTranscode), sessions: []app.Session{sess("1", transcoding)}, want: []string{"1"}, reason: "video H.264 1080p to H.264 720p"},
		{name: "direct play untouched", rule: rule(KindTranscode), sessions: []app.Session{sess("1")}},
		{name: "direct stream untouched", rule: rule(KindTranscode), sessions: []app.Session{sess("1", directStream)}},
		{name: "audio-only ignored by default", rule: rule(KindTranscode), sessions: []app.Session{sess("1", audioOnly)}},
		{name: "audio-only with option", rule: rule(KindTranscode, func(r *Rule) { r.IncludeAudioOnly = true }),
			sessions: []app.Session{sess("1", audioOnly)}, want: []string{"1"}, reason: "audio transcode from TrueHD"},
		{name: "subtitle burn only ignored by default", rule: rule(KindTranscode), sessions: []app.Session{sess("1", burnOnlyTranscode)}},
		{name: "subtitle burn counts with option", rule: rule(KindTranscode, func(r *Rule) { r.CountSubtitleBurn = true }),
			sessions: []app.Session{sess("1", burnOnlyTranscode)}, want: []string{"1"}, reason: "subtitles burned"},
		{name: "burn while downscaling is a real transcode", rule: rule(KindTranscode),
			sessions: []app.Session{sess("1", burnOnlyTranscode, func(s *app.Session) { s.TargetResolution = "480p" })}, want: []string{"1"}},
		{name: "burn with video copy is burn only", rule: rule(KindTranscode),
			sessions: []app.Session{sess("1", burnOnlyTranscode, func(s *app.Session) { s.VideoDecision = "copy" })}},
		{name: "missing resolutions: burn counts as burn only", rule: rule(KindTranscode),
			sessions: []app.Session{sess("1", burnOnlyTranscode, func(s *app.Session) { s.SourceResolution, s.TargetResolution = "", "" })}},
		{name: "only some sessions", rule: rule(KindTranscode),
			sessions: []app.Session{sess("1"), sess("2", transcoding), sess("3", directStream), sess("4", transcoding)}, want: []string{"2", "4"}},
		{name: "session without a Session id still matches", rule: rule(KindTranscode), sessions: []app.Session{sess("1", transcoding, noID)}, want: []string{"1"}},
		{name: "pre-rolls never", rule: rule(KindTranscode),
			sessions: []app.Session{sess("1", transcoding, func(s *app.Session) { s.Kind = plex.KindPreroll })}},
	})
}

func TestSourceTranscodeKind(t *testing.T) {
	res := func(label string) func(*app.Session) {
		return func(s *app.Session) { s.SourceResolution, s.SourceHeight = label, plex.ResolutionHeight(label) }
	}
	codec := func(c string) func(*app.Session) { return func(s *app.Session) { s.SourceVideoCodec = c } }
	only4K := func(r *Rule) { r.MinResolution, r.Codecs = "4K", nil }
	onlyCodecs := func(r *Rule) { r.MinResolution, r.Codecs = "", []string{"HEVC", "av1"} }
	both := func(r *Rule) { r.MinResolution, r.Codecs, r.RequireBoth = "4k", []string{"h265"}, true }
	runMatchCases(t, []matchCase{
		{name: "4K HEVC transcode", rule: rule(KindSourceTranscode), sessions: []app.Session{sess("1", transcoding, uhdHEVC)}, want: []string{"1"}, reason: "4K HEVC"},
		{name: "1080p H.264 transcode untouched", rule: rule(KindSourceTranscode), sessions: []app.Session{sess("1", transcoding)}},
		{name: "4K direct play untouched", rule: rule(KindSourceTranscode), sessions: []app.Session{sess("1", uhdHEVC)}},
		{name: "resolution at the threshold", rule: rule(KindSourceTranscode, func(r *Rule) { r.MinResolution, r.Codecs = "1080p", nil }),
			sessions: []app.Session{sess("1", transcoding)}, want: []string{"1"}},
		{name: "below the threshold", rule: rule(KindSourceTranscode, only4K), sessions: []app.Session{sess("1", transcoding, res("1440p"))}},
		{name: "8K is above 4K", rule: rule(KindSourceTranscode, only4K), sessions: []app.Session{sess("1", transcoding, res("8K"))}, want: []string{"1"}},
		{name: "height only (no label)", rule: rule(KindSourceTranscode, only4K),
			sessions: []app.Session{sess("1", transcoding, func(s *app.Session) { s.SourceResolution, s.SourceHeight = "", 1608 })}, want: []string{"1"}},
		{name: "no resolution at all", rule: rule(KindSourceTranscode, only4K),
			sessions: []app.Session{sess("1", transcoding, func(s *app.Session) { s.SourceResolution, s.SourceHeight = "", 0 })}},
		{name: "codec list, aliases and case", rule: rule(KindSourceTranscode, onlyCodecs),
			sessions: []app.Session{sess("1", transcoding, codec("hevc")), sess("2", transcoding, codec("AV1")), sess("3", transcoding, codec("h264"))}, want: []string{"1", "2"}},
		{name: "missing codec", rule: rule(KindSourceTranscode, onlyCodecs), sessions: []app.Session{sess("1", transcoding, codec(""))}},
		{name: "require both: 4K H.264 no", rule: rule(KindSourceTranscode, both), sessions: []app.Session{sess("1", transcoding, res("4K"))}},
		{name: "require both: 4K HEVC yes", rule: rule(KindSourceTranscode, both), sessions: []app.Session{sess("1", transcoding, uhdHEVC)}, want: []string{"1"}},
		{name: "either: 1080p HEVC yes", rule: rule(KindSourceTranscode), sessions: []app.Session{sess("1", transcoding, codec("hevc"))}, want: []string{"1"}},
		{name: "audio-only transcode of a 4K file untouched", rule: rule(KindSourceTranscode), sessions: []app.Session{sess("1", audioOnly, uhdHEVC)}},
	})
}

func TestBandwidthKind(t *testing.T) {
	bw := func(k int64) func(*app.Session) { return func(s *app.Session) { s.BandwidthKbps = k } }
	runMatchCases(t, []matchCase{
		{name: "above", rule: rule(KindBandwidth), sessions: []app.Session{sess("1", bw(25000))}, want: []string{"1"}, reason: "bandwidth 25.0 Mbps, limit 20.0 Mbps"},
		{name: "exactly the limit is allowed", rule: rule(KindBandwidth), sessions: []app.Session{sess("1", bw(20000))}},
		{name: "unknown bandwidth", rule: rule(KindBandwidth), sessions: []app.Session{sess("1", bw(0))}},
		{name: "source bitrate", rule: rule(KindBandwidth, func(r *Rule) { r.UseSourceBitrate, r.MaxKbps = true, 5000 }),
			sessions: []app.Session{sess("1", bw(100)), sess("2", func(s *app.Session) { s.BitrateKbps = 3000 })}, want: []string{"1"}, reason: "bitrate 8.0 Mbps"},
		{name: "kbps below 1 Mbps", rule: rule(KindBandwidth, func(r *Rule) { r.MaxKbps = 500 }), sessions: []app.Session{sess("1", bw(900))}, want: []string{"1"}, reason: "900 kbps"},
	})
}

func TestPausedKind(t *testing.T) {
	now := t0.Add(2 * time.Hour)
	r := rule(KindPaused, func(r *Rule) { r.PausedFor = Duration(30 * time.Minute) })
	runMatchCases(t, []matchCase{
		{name: "paused 31 minutes", rule: r, now: now, sessions: []app.Session{sess("1", paused(now.Add(-31*time.Minute)))}, want: []string{"1"}, reason: "paused for 31m"},
		{name: "paused exactly 30 minutes", rule: r, now: now, sessions: []app.Session{sess("1", paused(now.Add(-30*time.Minute)))}, want: []string{"1"}},
		{name: "paused 29 minutes", rule: r, now: now, sessions: []app.Session{sess("1", paused(now.Add(-29*time.Minute)))}},
		{name: "paused then resumed", rule: r, now: now,
			sessions: []app.Session{sess("1", func(s *app.Session) { s.State, s.StateSince = "playing", now.Add(-time.Minute) })}},
		{name: "buffering is not paused", rule: r, now: now,
			sessions: []app.Session{sess("1", func(s *app.Session) { s.State, s.StateSince = "buffering", now.Add(-time.Hour) })}},
		{name: "no StateSince: FirstSeen", rule: r, now: now, sessions: []app.Session{sess("1", paused(time.Time{}))}, want: []string{"1"}},
		{name: "no times at all", rule: r, now: now,
			sessions: []app.Session{sess("1", paused(time.Time{}), func(s *app.Session) { s.FirstSeen = time.Time{} })}},
		{name: "only transcodes", rule: rule(KindPaused, func(r *Rule) { r.PausedFor, r.OnlyTranscodes = Duration(time.Minute), true }), now: now,
			sessions: []app.Session{sess("1", paused(t0)), sess("2", paused(t0), transcoding)}, want: []string{"2"}},
		{name: "only remote", rule: rule(KindPaused, func(r *Rule) { r.PausedFor, r.OnlyRemote = Duration(time.Minute), true }), now: now,
			sessions: []app.Session{sess("1", paused(t0), lan), sess("2", paused(t0))}, want: []string{"2"}},
	})
}

func TestPausedWakesWhenDue(t *testing.T) {
	c, err := compile(rule(KindPaused, func(r *Rule) { r.PausedFor = Duration(10 * time.Minute) }))
	if err != nil {
		t.Fatal(err)
	}
	_, wake := c.evaluate([]app.Session{sess("1", paused(t0)), sess("2", paused(t0.Add(-5*time.Minute)))}, t0.Add(time.Minute), nil)
	if want := t0.Add(5 * time.Minute); !wake.Equal(want) {
		t.Errorf("wake = %v, want %v (the earlier pause reaching 10m)", wake, want)
	}
}

func TestUserStreamsKind(t *testing.T) {
	max2 := func(r *Rule) { r.MaxStreams = 2 }
	runMatchCases(t, []matchCase{
		{name: "exactly N streams", rule: rule(KindUserStreams, max2), sessions: []app.Session{sess("1"), sess("2")}},
		{name: "N+1: the newest goes", rule: rule(KindUserStreams, max2), sessions: []app.Session{sess("1"), sess("3"), sess("2")}, want: []string{"3"}, reason: "3 streams at once, limit 2"},
		{name: "N+2: the two newest", rule: rule(KindUserStreams, max2), sessions: []app.Session{sess("1"), sess("2"), sess("3"), sess("4")}, want: []string{"4", "3"}},
		{name: "oldest", rule: rule(KindUserStreams, max2, func(r *Rule) { r.Pick = PickOldest }), sessions: []app.Session{sess("2"), sess("1"), sess("3")}, want: []string{"1"}},
		{name: "per user", rule: rule(KindUserStreams, max2),
			sessions: []app.Session{sess("1"), sess("2"), sess("3", user("bob", "200")), sess("4", user("bob", "200")), sess("5", user("carol", "300"))}},
		{name: "user id, not name", rule: rule(KindUserStreams, func(r *Rule) { r.MaxStreams = 1 }),
			sessions: []app.Session{sess("1", user("alice", "100")), sess("2", user("Alice (renamed)", "100"))}, want: []string{"2"}},
		{name: "no id: by name", rule: rule(KindUserStreams, func(r *Rule) { r.MaxStreams = 1 }),
			sessions: []app.Session{sess("1", user("dave", "")), sess("2", user("Dave", ""))}, want: []string{"2"}},
		{name: "unknown users are not counted", rule: rule(KindUserStreams, func(r *Rule) { r.MaxStreams = 1 }),
			sessions: []app.Session{sess("1", user("(unknown user)", "")), sess("2", user("(unknown user)", ""))}},
		{name: "over all servers", rule: rule(KindUserStreams, max2),
			sessions: []app.Session{sess("1"), sess("2", onServer("cabin")), sess("3", onServer("cabin"))}, want: []string{"3"}},
		{name: "count IPs: two streams, one address", rule: rule(KindUserStreams, func(r *Rule) { r.MaxStreams, r.CountIPs = 1, true }),
			sessions: []app.Session{sess("1"), sess("2")}},
		{name: "count IPs: the newest address goes, with all its streams", rule: rule(KindUserStreams, func(r *Rule) { r.MaxStreams, r.CountIPs = 1, true }),
			sessions: []app.Session{sess("1"), sess("2", addr("198.51.100.9")), sess("3", addr("198.51.100.9")), sess("4")}, want: []string{"2", "3"}, reason: "2 addresses at once, limit 1"},
		{name: "count IPs: missing addresses count once", rule: rule(KindUserStreams, func(r *Rule) { r.MaxStreams, r.CountIPs = 1, true }),
			sessions: []app.Session{sess("1", addr("")), sess("2", addr(""))}},
		{name: "exempt sessions are not counted", rule: rule(KindUserStreams, max2, func(r *Rule) { r.Exempt.LAN = true }),
			sessions: []app.Session{sess("1", lan), sess("2"), sess("3")}},
	})
}

func TestServerTranscodesKind(t *testing.T) {
	max1 := func(r *Rule) { r.MaxTranscodes = 1 }
	runMatchCases(t, []matchCase{
		{name: "at the limit", rule: rule(KindServerTranscodes, max1), sessions: []app.Session{sess("1", transcoding), sess("2")}},
		{name: "above: the newest goes", rule: rule(KindServerTranscodes, max1),
			sessions: []app.Session{sess("2", transcoding), sess("1", transcoding), sess("3")}, want: []string{"2"}, reason: "2 transcodes on home, limit 1"},
		{name: "per server", rule: rule(KindServerTranscodes, max1), sessions: []app.Session{sess("1", transcoding), sess("2", transcoding, onServer("cabin"))}},
		{name: "audio-only not counted by default", rule: rule(KindServerTranscodes, max1), sessions: []app.Session{sess("1", transcoding), sess("2", audioOnly)}},
		{name: "audio-only counted with option", rule: rule(KindServerTranscodes, max1, func(r *Rule) { r.IncludeAudioOnly = true }),
			sessions: []app.Session{sess("1", transcoding), sess("2", audioOnly)}, want: []string{"2"}},
		{name: "oldest", rule: rule(KindServerTranscodes, max1, func(r *Rule) { r.Pick = PickOldest }),
			sessions: []app.Session{sess("1", transcoding), sess("2", transcoding)}, want: []string{"1"}},
	})
}

func TestRemoteAndLAN(t *testing.T) {
	unknownLoc := func(a string) func(*app.Session) {
		return func(s *app.Session) { s.Location, s.Player.Local, s.Player.Address = "", false, a }
	}
	r := rule(KindRemote)
	runMatchCases(t, []matchCase{
		{name: "wan", rule: r, sessions: []app.Session{sess("1")}, want: []string{"1"}, reason: "remote stream from 203.0.113.5"},
		{name: "lan", rule: r, sessions: []app.Session{sess("1", lan)}},
		{name: "cellular is remote even from a private address", rule: r,
			sessions: []app.Session{sess("1", func(s *app.Session) { s.Location, s.Player.Address = "cellular", "10.1.2.3" })}, want: []string{"1"}},
		{name: "Player.local without location", rule: r, sessions: []app.Session{sess("1", unknownLoc(""), func(s *app.Session) { s.Player.Local = true })}},
		{name: "IPv4 private by address", rule: r, sessions: []app.Session{sess("1", unknownLoc("10.0.0.7")), sess("2", unknownLoc("172.16.4.1")), sess("3", unknownLoc("192.168.0.9"))}},
		{name: "IPv4 loopback and link-local", rule: r, sessions: []app.Session{sess("1", unknownLoc("127.0.0.1")), sess("2", unknownLoc("169.254.3.3"))}},
		{name: "IPv4 public by address", rule: r, sessions: []app.Session{sess("1", unknownLoc("8.8.8.8")), sess("2", unknownLoc("172.32.0.1"))}, want: []string{"1", "2"}},
		{name: "IPv6 ULA, link-local and loopback", rule: r,
			sessions: []app.Session{sess("1", unknownLoc("fd12:3456::1")), sess("2", unknownLoc("fe80::1%eth0")), sess("3", unknownLoc("::1"))}},
		{name: "IPv6 public", rule: r, sessions: []app.Session{sess("1", unknownLoc("2001:db8::5"))}, want: []string{"1"}},
		{name: "IPv4-mapped IPv6", rule: r, sessions: []app.Session{sess("1", unknownLoc("::ffff:192.168.1.5")), sess("2", unknownLoc("::ffff:203.0.113.9"))}, want: []string{"2"}},
		{name: "no address, no location: remote", rule: r, sessions: []app.Session{sess("1", unknownLoc(""))}, want: []string{"1"}, reason: "remote stream"},
		{name: "allowed network", rule: rule(KindRemote, func(r *Rule) { r.AllowNetworks = []string{"203.0.113.0/24", "2001:db8::/32"} }),
			sessions: []app.Session{sess("1"), sess("2", addr("2001:db8::77")), sess("3", addr("198.51.100.1"))}, want: []string{"3"}},
	})
}

func TestAddressKind(t *testing.T) {
	deny := func(n ...string) func(*Rule) { return func(r *Rule) { r.DenyNetworks, r.AllowNetworks = n, nil } }
	allow := func(n ...string) func(*Rule) { return func(r *Rule) { r.AllowNetworks, r.DenyNetworks = n, nil } }
	runMatchCases(t, []matchCase{
		{name: "deny CIDR", rule: rule(KindAddress, deny("203.0.113.0/24")), sessions: []app.Session{sess("1"), sess("2", addr("198.51.100.3"))}, want: []string{"1"}, reason: "in the denied network 203.0.113.0/24"},
		{name: "deny one IP", rule: rule(KindAddress, deny("203.0.113.5")), sessions: []app.Session{sess("1"), sess("2", addr("203.0.113.6"))}, want: []string{"1"}},
		{name: "deny IPv6", rule: rule(KindAddress, deny("2001:db8:1::/48")), sessions: []app.Session{sess("1", addr("2001:db8:1:2::3")), sess("2", addr("2001:db8:2::1"))}, want: []string{"1"}},
		{name: "deny matches mapped addresses", rule: rule(KindAddress, deny("203.0.113.0/24")), sessions: []app.Session{sess("1", addr("::ffff:203.0.113.8"))}, want: []string{"1"}},
		{name: "mapped CIDR in the list", rule: rule(KindAddress, deny("::ffff:203.0.113.0/120")), sessions: []app.Session{sess("1")}, want: []string{"1"}},
		{name: "allow list: outside goes", rule: rule(KindAddress, allow("192.168.0.0/16", "203.0.113.0/24")),
			sessions: []app.Session{sess("1"), sess("2", lan), sess("3", addr("8.8.4.4"))}, want: []string{"3"}, reason: "not in an allowed network"},
		{name: "deny wins over allow", rule: rule(KindAddress, func(r *Rule) { r.AllowNetworks, r.DenyNetworks = []string{"203.0.0.0/8"}, []string{"203.0.113.5"} }),
			sessions: []app.Session{sess("1")}, want: []string{"1"}},
		{name: "missing address", rule: rule(KindAddress, allow("10.0.0.0/8")), sessions: []app.Session{sess("1", addr(""))}},
		{name: "unparsable address", rule: rule(KindAddress, allow("10.0.0.0/8")), sessions: []app.Session{sess("1", addr("not-an-ip"))}},
	})
}

func TestPlayerKind(t *testing.T) {
	players := func(p ...string) func(*Rule) { return func(r *Rule) { r.Players, r.OnlyTranscodes = p, false } }
	runMatchCases(t, []matchCase{
		{name: "web family, transcodes only (default rule)", rule: rule(KindPlayer),
			sessions: []app.Session{sess("1"), sess("2", transcoding), sess("3", transcoding, player("Plex for Roku", "Roku"))}, want: []string{"2"}, reason: "player Plex Web (Firefox)"},
		{name: "exact product, any case", rule: rule(KindPlayer, players("plex for roku")),
			sessions: []app.Session{sess("1", player("Plex for Roku", "Roku")), sess("2")}, want: []string{"1"}},
		{name: "platform", rule: rule(KindPlayer, players("tvOS")), sessions: []app.Session{sess("1", player("Plex for Apple TV", "tvOS")), sess("2")}, want: []string{"1"}},
		{name: "wildcard", rule: rule(KindPlayer, players("*xbox*")), sessions: []app.Session{sess("1", player("Plex for Xbox", "Xbox")), sess("2")}, want: []string{"1"}},
		{name: "player id", rule: rule(KindPlayer, players("m2")), sessions: []app.Session{sess("1"), sess("2")}, want: []string{"2"}},
		{name: "smart TV family", rule: rule(KindPlayer, players("smarttv")),
			sessions: []app.Session{sess("1", player("Plex for LG", "webOS")), sess("2", player("Plex for Samsung", "Tizen")), sess("3")}, want: []string{"1", "2"}},
		{name: "no player info", rule: rule(KindPlayer, players("web")), sessions: []app.Session{sess("1", func(s *app.Session) { s.Player = app.Player{} })}},
	})
}

func TestTimeWindowKind(t *testing.T) {
	loc := time.FixedZone("test", 3600)
	at := func(day time.Weekday, hh, mm int) time.Time {
		// 2026-03-01 is a Sunday.
		return time.Date(2026, 3, 1+int(day), hh, mm, 0, 0, loc)
	}
	night := func(days ...string) Rule {
		return rule(KindTimeWindow, func(r *Rule) { r.Schedule = &Schedule{Days: days, From: "22:00", To: "06:00"} })
	}
	s := []app.Session{sess("1")}
	runMatchCases(t, []matchCase{
		{name: "inside, evening", rule: night(), now: at(time.Wednesday, 23, 30), sessions: s, want: []string{"1"}, reason: "22:00–06:00"},
		{name: "inside, after midnight", rule: night(), now: at(time.Thursday, 5, 59), sessions: s, want: []string{"1"}},
		{name: "end is exclusive", rule: night(), now: at(time.Thursday, 6, 0), sessions: s},
		{name: "start is inclusive", rule: night(), now: at(time.Thursday, 22, 0), sessions: s, want: []string{"1"}},
		{name: "daytime", rule: night(), now: at(time.Thursday, 12, 0), sessions: s},
		{name: "friday night window, saturday 3:00", rule: night("fri"), now: at(time.Saturday, 3, 0), sessions: s, want: []string{"1"}},
		{name: "friday night window, friday 3:00", rule: night("fri"), now: at(time.Friday, 3, 0), sessions: s},
		{name: "friday night window, saturday 23:00", rule: night("fri"), now: at(time.Saturday, 23, 0), sessions: s},
		{name: "weekend all day", rule: rule(KindTimeWindow, func(r *Rule) { r.Schedule = &Schedule{Days: []string{"weekend"}, From: "00:00", To: "00:00"} }),
			now: at(time.Sunday, 13, 0), sessions: s, want: []string{"1"}},
		{name: "weekdays daytime on a monday", rule: rule(KindTimeWindow, func(r *Rule) { r.Schedule = &Schedule{Days: []string{"Weekdays"}, From: "09:00", To: "17:00"} }),
			now: at(time.Monday, 9, 0), sessions: s, want: []string{"1"}},
		{name: "to 24:00", rule: rule(KindTimeWindow, func(r *Rule) { r.Schedule = &Schedule{From: "20:00", To: "24:00"} }),
			now: at(time.Monday, 23, 59), sessions: s, want: []string{"1"}},
		{name: "schedule limits another kind", rule: rule(KindTranscode, func(r *Rule) { r.Schedule = &Schedule{Days: []string{"sat", "sun"}, From: "18:00", To: "23:00"} }),
			now: at(time.Wednesday, 19, 0), sessions: []app.Session{sess("1", transcoding)}},
		{name: "schedule lets another kind act", rule: rule(KindTranscode, func(r *Rule) { r.Schedule = &Schedule{Days: []string{"sat", "sun"}, From: "18:00", To: "23:00"} }),
			now: at(time.Sunday, 19, 0), sessions: []app.Session{sess("1", transcoding)}, want: []string{"1"}},
	})
}

func TestScheduleNextStart(t *testing.T) {
	loc := time.FixedZone("test", -5*3600)
	tests := []struct {
		name  string
		sched Schedule
		now   time.Time
		want  time.Time
	}{
		{"later today", Schedule{From: "22:00", To: "06:00"}, time.Date(2026, 3, 4, 12, 0, 0, 0, loc), time.Date(2026, 3, 4, 22, 0, 0, 0, loc)},
		{"tomorrow", Schedule{From: "08:00", To: "09:00"}, time.Date(2026, 3, 4, 12, 0, 0, 0, loc), time.Date(2026, 3, 5, 8, 0, 0, 0, loc)},
		{"next allowed day", Schedule{Days: []string{"mon"}, From: "08:00", To: "09:00"}, time.Date(2026, 3, 4, 12, 0, 0, 0, loc), time.Date(2026, 3, 9, 8, 0, 0, 0, loc)},
		{"whole day: next midnight", Schedule{Days: []string{"sat"}, From: "00:00", To: "00:00"}, time.Date(2026, 3, 4, 12, 0, 0, 0, loc), time.Date(2026, 3, 7, 0, 0, 0, 0, loc)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc, err := parseSchedule(tt.sched)
			if err != nil {
				t.Fatal(err)
			}
			if got := sc.nextStart(tt.now); !got.Equal(tt.want) {
				t.Errorf("nextStart(%v) = %v, want %v", tt.now, got, tt.want)
			}
		})
	}
}

func TestScopeAndExemptions(t *testing.T) {
	tc := func(mods ...func(*Rule)) Rule { return rule(KindTranscode, mods...) }
	live := func(s *app.Session) { s.Kind, s.Type = plex.KindLiveTV, "episode" }
	track := func(s *app.Session) { s.Type, s.Library, s.LibrarySectionID = "track", "Music", "3" }
	runMatchCases(t, []matchCase{
		{name: "scope users by name and id", rule: tc(func(r *Rule) { r.Scope.Users = []string{"ALICE", "300"} }),
			sessions: []app.Session{sess("1", transcoding), sess("2", transcoding, user("bob", "200")), sess("3", transcoding, user("carol", "300"))}, want: []string{"1", "3"}},
		{name: "scope servers", rule: tc(func(r *Rule) { r.Scope.Servers = []string{"Cabin"} }),
			sessions: []app.Session{sess("1", transcoding), sess("2", transcoding, onServer("cabin"))}, want: []string{"2"}},
		{name: "scope players", rule: tc(func(r *Rule) { r.Scope.Players = []string{"roku"} }),
			sessions: []app.Session{sess("1", transcoding), sess("2", transcoding, player("Plex for Roku", "Roku"))}, want: []string{"2"}},
		{name: "scope libraries by title and id", rule: tc(func(r *Rule) { r.Scope.Libraries = []string{"movies", "3"} }),
			sessions: []app.Session{sess("1", transcoding), sess("2", transcoding, func(s *app.Session) { s.Library, s.LibrarySectionID = "TV", "2" }), sess("3", transcoding, track)},
			want:     []string{"1", "3"}},
		{name: "media types", rule: tc(func(r *Rule) { r.Scope.MediaTypes = []string{"episode"} }),
			sessions: []app.Session{sess("1", transcoding), sess("2", transcoding, func(s *app.Session) { s.Type = "episode" })}, want: []string{"2"}},
		{name: "media type groups", rule: tc(func(r *Rule) { r.Scope.MediaTypes = []string{"music", "livetv"}; r.IncludeAudioOnly = true }),
			sessions: []app.Session{sess("1", transcoding), sess("2", audioOnly, track), sess("3", transcoding, live)}, want: []string{"2", "3"}},
		{name: "media type video", rule: tc(func(r *Rule) { r.Scope.MediaTypes = []string{"video"}; r.IncludeAudioOnly = true }),
			sessions: []app.Session{sess("1", transcoding), sess("2", audioOnly, track)}, want: []string{"1"}},
		{name: "exempt user", rule: tc(func(r *Rule) { r.Exempt.Users = []string{"bob"} }),
			sessions: []app.Session{sess("1", transcoding), sess("2", transcoding, user("Bob", "200"))}, want: []string{"1"}},
		{name: "exempt player pattern", rule: tc(func(r *Rule) { r.Exempt.Players = []string{"plex for *"} }),
			sessions: []app.Session{sess("1", transcoding), sess("2", transcoding, player("Plex for Roku", "Roku"))}, want: []string{"1"}},
		{name: "exempt LAN", rule: tc(func(r *Rule) { r.Exempt.LAN = true }),
			sessions: []app.Session{sess("1", transcoding), sess("2", transcoding, lan)}, want: []string{"1"}},
	})
}

func TestEvaluatePreview(t *testing.T) {
	f := File{Rules: []Rule{
		rule(KindTranscode, func(r *Rule) { r.Name = "No transcodes"; r.Messages = map[string]string{"web": "{user}: {quality}"} }),
		rule(KindRemote, func(r *Rule) { r.Name = "Off"; r.Enabled = false }),
		rule(KindBandwidth, func(r *Rule) { r.Name = "Bandwidth"; r.Action = ActionLog; r.Grace = Duration(time.Minute) }),
	}}
	st := &app.State{Servers: []*app.Snapshot{app.Snapshot{Server: "home"}.WithSessions(
		sess("1", transcoding), sess("2", func(s *app.Session) { s.BandwidthKbps = 30000 }), sess("3"),
	)}}
	items, err := Evaluate(f, st, t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 {
		t.Fatalf("items = %+v, want 2", items)
	}
	want0 := "alice: In Plex Web: Settings › Quality › Remote streaming › Original (and turn off \"Automatically adjust quality\"), then play again."
	if items[0].Rule != "No transcodes" || items[0].Session.SessionKey != "1" || items[0].Message != want0 || items[0].DryRun {
		t.Errorf("item 0 = %+v\nwant rule No transcodes, session 1, message %q", items[0], want0)
	}
	if items[1].Rule != "Bandwidth" || !items[1].DryRun || items[1].Grace != time.Minute || items[1].Action != ActionLog {
		t.Errorf("item 1 = %+v, want the log-only bandwidth rule with 1m grace", items[1])
	}
	f.DryRun = true
	items, _ = Evaluate(f, st, t0)
	if !items[0].DryRun {
		t.Error("global dry run not reflected in the preview")
	}
	if _, err := Evaluate(File{Rules: []Rule{{Name: "x"}}}, st, t0); err == nil {
		t.Error("Evaluate accepted an invalid file")
	}
}

type fakeDiag struct{ storming, stormingUser, colliding map[string]bool }

func (f fakeDiag) Storming(server, id string) bool       { return f.storming[server+"/"+id] }
func (f fakeDiag) StormingUser(server, user string) bool { return f.stormingUser[server+"/"+user] }
func (f fakeDiag) Colliding(server, id string) bool      { return f.colliding[server+"/"+id] }

func TestDiagnosticKind(t *testing.T) {
	mk := func(user, player string) app.Session {
		return app.Session{Server: "Den", SessionKey: user + player, ID: user + player, User: user, State: "playing",
			Player: app.Player{MachineIdentifier: player, Product: "Plex Web"}}
	}
	st := &app.State{Servers: []*app.Snapshot{app.Snapshot{Server: "Den"}.WithSessions(
		mk("alice", "p1"), mk("bob", "p2"), mk("carol", "p3"), mk("dave", ""),
	)}}
	d := fakeDiag{
		storming:     map[string]bool{"Den/p1": true},
		stormingUser: map[string]bool{"Den/carol": true},
		colliding:    map[string]bool{"Den/p2": true},
	}
	tests := []struct {
		condition string
		diag      DiagSource
		want      []string
	}{
		{ConditionStorm, d, []string{"alice", "carol"}},
		{ConditionCollision, d, []string{"bob"}},
		{ConditionStorm, nil, nil}, // no detector (watch, previews of unsaved rules): never matches
	}
	for _, tt := range tests {
		r := DefaultRule(KindDiagnostic, "diag")
		r.Condition = tt.condition
		items, err := EvaluateWith(File{Version: Version, Rules: []Rule{r}}, st, time.Now(), tt.diag)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, it := range items {
			got = append(got, it.Session.User)
			if it.Action != ActionStopTranscode {
				t.Errorf("%s: action = %q, want the default stopTranscode", tt.condition, it.Action)
			}
		}
		if strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("condition %s (diag %v): matched %v, want %v", tt.condition, tt.diag != nil, got, tt.want)
		}
	}
	bad := DefaultRule(KindDiagnostic, "bad")
	bad.Condition = "weather"
	if err := (&File{Version: Version, Rules: []Rule{bad}}).Validate(); err == nil || !strings.Contains(err.Error(), "condition") {
		t.Errorf("Validate(condition weather) = %v, want a condition error", err)
	}
}

// TestSourcePendingWaits: while the library read of a transcode's source is
// under way, rules that judge the source leave the session alone; the
// others act at once.
func TestSourcePendingWaits(t *testing.T) {
	pending := func(s *app.Session) { s.SourcePending, s.SourceKnown = true, false }
	bw := func(s *app.Session) { s.BandwidthKbps, s.BitrateKbps = 30000, 30000 }
	runMatchCases(t, []matchCase{
		{name: "transcode acts at once", rule: rule(KindTranscode), sessions: []app.Session{sess("1", transcoding, pending)}, want: []string{"1"}},
		{name: "transcode with subtitles burned waits (burn only or not is judged by the source)", rule: rule(KindTranscode),
			sessions: []app.Session{sess("1", burnOnlyTranscode, func(s *app.Session) { s.TargetResolution = "480p" }, pending)}},
		{name: "transcode counting burns acts at once", rule: rule(KindTranscode, func(r *Rule) { r.CountSubtitleBurn = true }),
			sessions: []app.Session{sess("1", burnOnlyTranscode, pending)}, want: []string{"1"}},
		{name: "expensive transcode waits", rule: rule(KindSourceTranscode), sessions: []app.Session{sess("1", transcoding, uhdHEVC, pending)}},
		{name: "expensive transcode once known", rule: rule(KindSourceTranscode), sessions: []app.Session{sess("1", transcoding, uhdHEVC)}, want: []string{"1"}},
		{name: "bandwidth acts at once", rule: rule(KindBandwidth), sessions: []app.Session{sess("1", transcoding, bw, pending)}, want: []string{"1"}},
		{name: "bandwidth by the file's bitrate waits", rule: rule(KindBandwidth, func(r *Rule) { r.UseSourceBitrate = true }),
			sessions: []app.Session{sess("1", transcoding, bw, pending)}},
		{name: "remote acts at once", rule: rule(KindRemote), sessions: []app.Session{sess("1", transcoding, pending, func(s *app.Session) { s.Location, s.Player.Local = "wan", false })}, want: []string{"1"}},
	})
}
