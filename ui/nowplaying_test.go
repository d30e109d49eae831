package ui

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/plex"
	"github.com/plexwarden/plexwarden/plex/plexsim"
)

// shownText is what a lineText draws after layout (shortened to fit).
func shownText(t *lineText) string {
	return test.WidgetRenderer(t).(*lineTextRenderer).text.Text
}

func nowPlayingUI(t *testing.T, opts Options) *UI {
	t.Helper()
	u := newOptsUI(t, newFakeBackend(), opts)
	if u.tabs.Selected() != u.nowPlayingTab {
		t.Fatalf("first tab shown = %q, want Now Playing", u.tabs.Selected().Text)
	}
	return u
}

func TestNowPlayingCards(t *testing.T) {
	u := nowPlayingUI(t, Options{})
	u.apply(fixedState())
	sec := u.nowPlaying.sections["Demo server"]
	if sec == nil {
		t.Fatal("no section for Demo server")
	}
	if got := len(sec.cards.Objects); got != 3 {
		t.Fatalf("%d cards, want 3", got)
	}
	tests := []struct {
		key                                string
		title, who, time, decision, reason string
		net                                string
		decisionImp                        widget.Importance
		progress                           float64
	}{
		{"Demo server/12", "The Matrix", "alice · Plex Web · Chrome/Windows · Playing", "0:52:10 / 2:07:00 · 1:14:50 left",
			"Transcode (HEVC 4K→1080p)", "video HEVC 4K to H.264 1080p (HW), audio copy · throttled · speed 1.4×",
			"12.3 Mbps · Remote 203.0.113.7", widget.WarningImportance, float64(52*60+10) / float64(2*3600+7*60)},
		{"Demo server/14", "Severance - S01E03 - In Perpetuity", "bob · Plex for Roku · Roku/Roku Ultra · Paused",
			"0:10:00 / 0:57:00 · 0:47:00 left", "Direct Play", "", "8.6 Mbps · LAN 192.168.1.20", widget.SuccessImportance, 10.0 / 57},
		{"Demo server/15", "Dune: Part Two", "carol · Plex for iOS · iOS/iPhone · Buffering", "2:00:00 / 2:46:00 · 0:46:00 left",
			"Direct Stream", "Direct Stream: video copy, audio copy", "950 kbps · Relayed", widget.MediumImportance, 120.0 / 166},
	}
	for _, tt := range tests {
		c := sec.byKey[tt.key]
		if c == nil {
			t.Errorf("no card for %s", tt.key)
			continue
		}
		for _, f := range []struct {
			name      string
			got, want string
		}{
			{"title", c.title.text, tt.title}, {"who", c.who.text, tt.who}, {"time", c.time.text, tt.time},
			{"decision", c.decision.text, tt.decision}, {"reason", c.reason.text, tt.reason}, {"net", c.net.text, tt.net},
		} {
			if f.got != f.want {
				t.Errorf("%s %s = %q, want %q", tt.key, f.name, f.got, f.want)
			}
		}
		if c.decision.imp != tt.decisionImp {
			t.Errorf("%s decision importance = %v, want %v", tt.key, c.decision.imp, tt.decisionImp)
		}
		if d := c.bar.value - tt.progress; d > 1e-9 || d < -1e-9 {
			t.Errorf("%s progress = %v, want %v", tt.key, c.bar.value, tt.progress)
		}
	}

	// Bob's direct play turns into a transcode of a longer film: the
	// reason line appears under the decision, laid out, and the longer
	// time beside the bar shows whole.
	st := fixedState()
	ss := sessionsOf(st, 0)
	bob := &ss[0]
	bob.Decision, bob.Short, bob.Reason = plex.Transcode, "Transcode (H.264 1080p)", "Transcode: video H.264 1080p → H.264 720p"
	bob.ViewOffsetMs, bob.DurationMs = 1000, 11*3600*1000
	setSessions(st, 0, ss...)
	u.apply(st)
	c := sec.byKey["Demo server/14"]
	if !c.reason.Visible() || c.reason.Size().Height == 0 || c.reason.Position().Y <= c.decision.Position().Y {
		t.Errorf("bob's reason line: shown %v, size %v at %v; want shown below the decision at %v",
			c.reason.Visible(), c.reason.Size(), c.reason.Position(), c.decision.Position())
	}
	if got := shownText(c.time); got != c.time.text {
		t.Errorf("bob's time %q shown as %q", c.time.text, got)
	}

	// A session that ends loses its card; one that is leaving shows none.
	st = fixedState()
	ss = sessionsOf(st, 0)[:2]
	ss[1].Leaving = app.LeavingTerminated
	setSessions(st, 0, ss...)
	u.apply(st)
	if got := len(sec.cards.Objects); got != 1 || sec.byKey["Demo server/14"] == nil {
		t.Errorf("after two ended: %d cards (%v), want bob's only", got, sec.byKey)
	}
	setSessions(st, 0)
	u.apply(st)
	if !sec.idle.Visible() || len(sec.cards.Objects) != 0 {
		t.Errorf("nothing playing: idle line shown %v, %d cards; want shown, none", sec.idle.Visible(), len(sec.cards.Objects))
	}
}

func TestNowPlayingHeaderTotals(t *testing.T) {
	u := nowPlayingUI(t, Options{})
	st := fixedState()
	second := app.Snapshot{Server: "Cabin", Conn: app.Conn{Status: app.Unreachable}}.WithSessions([]app.Session{
		{Server: "Cabin", SessionKey: "1", Title: "A", Decision: plex.Transcode, BandwidthKbps: 4000, Location: "lan"},
		{Server: "Cabin", SessionKey: "2", Title: "B", Decision: plex.Transcode, BandwidthKbps: 2500, Player: app.Player{Address: "10.0.0.9"}},
	}...)
	st.Servers = append(st.Servers, second)
	u.apply(st)
	tests := []struct {
		server, name, totals string
		nameImp              widget.Importance
	}{
		{"Demo server", "Demo server", "3 streams · 1 transcode · 21.9 Mbps (LAN 8.6 Mbps, WAN 13.2 Mbps)", widget.MediumImportance},
		{"Cabin", "Cabin — unreachable", "2 streams · 2 transcodes · 6.5 Mbps (LAN 6.5 Mbps, WAN 0 Mbps)", widget.DangerImportance},
	}
	for _, tt := range tests {
		sec := u.nowPlaying.sections[tt.server]
		if sec == nil {
			t.Fatalf("no section for %s", tt.server)
		}
		if sec.name.text != tt.name || sec.name.imp != tt.nameImp {
			t.Errorf("%s header = %q (%v), want %q (%v)", tt.server, sec.name.text, sec.name.imp, tt.name, tt.nameImp)
		}
		if sec.totals.text != tt.totals {
			t.Errorf("%s totals = %q, want %q", tt.server, sec.totals.text, tt.totals)
		}
	}
	if got := len(u.nowPlaying.servers.Objects); got != 2 {
		t.Errorf("%d server sections, want 2", got)
	}
	st = fixedState() // Cabin removed
	u.apply(st)
	if _, ok := u.nowPlaying.sections["Cabin"]; ok || len(u.nowPlaying.servers.Objects) != 1 {
		t.Errorf("a removed server keeps its section")
	}
}

func TestNowPlayingGraphSamples(t *testing.T) {
	clock := &fakeClock{t: testNow}
	u := nowPlayingUI(t, Options{Now: clock.Now})
	steps := []struct {
		after      time.Duration
		sessions   []app.Session
		wantKbps   []int64
		wantTrans  []int
		wantLegend string
	}{
		{0, []app.Session{aliceSession()}, []int64{12300}, []int{1}, "Bandwidth, last 5 min: peak 12.3 Mbps"},
		{30 * time.Second, []app.Session{aliceSession(), bobSession()}, []int64{12300, 20900}, []int{1, 1}, "Bandwidth, last 5 min: peak 20.9 Mbps"},
		{35 * time.Second, []app.Session{bobSession()}, []int64{12300, 20900, 8600}, []int{1, 1, 0}, "Bandwidth, last 5 min: peak 20.9 Mbps"},
		// An hour later the first samples have left the window, which the
		// graph now spans whole.
		{time.Hour, nil, []int64{8600, 0}, []int{0, 0}, "Bandwidth, last hour: peak 8.6 Mbps"},
	}
	for i, s := range steps {
		clock.t = clock.t.Add(s.after)
		st := fixedState()
		setSessions(st, 0, s.sessions...)
		u.apply(st)
		g := u.nowPlaying.sections["Demo server"].graph
		var kbps []int64
		var trans []int
		for _, smp := range g.samples {
			kbps, trans = append(kbps, smp.Kbps()), append(trans, smp.Transcodes)
		}
		if !slices.Equal(kbps, s.wantKbps) || !slices.Equal(trans, s.wantTrans) {
			t.Errorf("step %d: samples kbps %v transcodes %v, want %v %v", i, kbps, trans, s.wantKbps, s.wantTrans)
		}
		if bw, _ := g.legendText(); bw != s.wantLegend {
			t.Errorf("step %d: legend %q, want %q", i, bw, s.wantLegend)
		}
		r := test.WidgetRenderer(g).(*graphRenderer)
		shown := 0
		for _, b := range r.bars {
			if b.Visible() {
				shown++
			}
		}
		wantBars := 0
		for _, n := range s.wantTrans {
			if n > 0 {
				wantBars++
			}
		}
		if shown != wantBars || len(r.lines) != 2*len(s.wantKbps) {
			t.Errorf("step %d: %d transcode bars, %d line segments; want %d, %d", i, shown, len(r.lines), wantBars, 2*len(s.wantKbps))
		}
	}
}

// The cards flow into two columns at the window's 1100 px and one at
// 800×600, where the title, time left, decision and address still show
// whole.
func TestNowPlayingColumnsAdapt(t *testing.T) {
	tests := []struct {
		size fyne.Size
		cols int
	}{
		{fyne.NewSize(1100, 650), 2},
		{fyne.NewSize(800, 600), 1},
	}
	for _, tt := range tests {
		u := nowPlayingUI(t, Options{})
		u.Window().Resize(tt.size)
		u.apply(fixedState())
		sec := u.nowPlaying.sections["Demo server"]
		xs := map[float32]bool{}
		for _, o := range sec.cards.Objects {
			xs[o.Position().X] = true
		}
		if len(xs) != tt.cols {
			t.Errorf("at %v: cards in %d columns, want %d", tt.size, len(xs), tt.cols)
		}
		if min := u.Window().Content().MinSize(); min.Width > 800 || min.Height > 600 {
			t.Errorf("at %v: window minimum %v, want at most 800×600", tt.size, min)
		}
		c := sec.byKey["Demo server/12"]
		for _, l := range []*lineText{c.title, c.time, c.decision, c.net} {
			if got := shownText(l); got != l.text {
				t.Errorf("at %v: %q cut to %q", tt.size, l.text, got)
			}
		}
	}
}

// thumbsFunc adapts a function to ThumbBackend.
type thumbsFunc func(ctx context.Context, server, path string) ([]byte, error)

func (f thumbsFunc) Thumb(ctx context.Context, server, path string) ([]byte, error) {
	return f(ctx, server, path)
}

// The poster comes from the (simulated) server through the Plex client,
// over 127.0.0.1, with the token in the header and never in the address,
// and is shown in the card.
func TestNowPlayingPosterFetched(t *testing.T) {
	const token = "poster-secret"
	sim := plexsim.New(plexsim.Options{Token: token})
	if err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	client, err := plex.NewClient(sim.URL(), token, plex.ClientInfo{ID: "test"})
	if err != nil {
		t.Fatal(err)
	}
	cache := app.NewThumbCache(1<<20, func(ctx context.Context, _, path string) ([]byte, error) { return client.Thumb(ctx, path) })
	var mu sync.Mutex
	var asked []string
	u := nowPlayingUI(t, Options{Thumbs: thumbsFunc(func(ctx context.Context, server, path string) ([]byte, error) {
		mu.Lock()
		asked = append(asked, server+" "+path)
		mu.Unlock()
		return cache.Get(ctx, server, path)
	})})
	st := fixedState()
	alice := aliceSession()
	alice.Thumb = "/library/metadata/40200/thumb/1700000000"
	bob := bobSession() // no poster: the placeholder stays
	setSessions(st, 0, alice, bob)
	u.apply(st)
	u.bg.Wait()

	c := u.nowPlaying.sections["Demo server"].byKey[alice.Key()]
	if c.poster.Resource != nil || c.poster.Image == nil || c.poster.Image.Bounds().Dx() != 60 || c.poster.Image.Bounds().Dy() != 90 {
		t.Fatalf("alice's poster not shown (resource %v), want the simulator's 60×90 PNG", c.poster.Resource)
	}
	if b := u.nowPlaying.sections["Demo server"].byKey[bob.Key()]; b.poster.Resource == nil {
		t.Errorf("bob's card without a poster path shows no placeholder")
	}
	u.apply(st) // the same poster again: not fetched again
	u.bg.Wait()
	mu.Lock()
	if len(asked) != 1 || asked[0] != "Demo server "+alice.Thumb {
		t.Errorf("posters asked for: %q, want alice's once", asked)
	}
	mu.Unlock()
	var seen int
	for _, r := range sim.Requests() {
		if r.Path != alice.Thumb {
			continue
		}
		seen++
		if r.Header.Get("X-Plex-Token") != token {
			t.Errorf("poster request without the token header")
		}
		if r.TokenInQuery || strings.Contains(r.RawQuery, token) {
			t.Errorf("token in the poster's address: %q", r.RawQuery)
		}
	}
	if seen != 1 {
		t.Errorf("%d poster requests reached the server, want 1", seen)
	}
}
