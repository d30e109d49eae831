package ui

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/plex"
)

// fakeBackend records what the UI asks of the domain. Its methods may be
// called from the UI's goroutines, hence the mutex.
type fakeBackend struct {
	mu         sync.Mutex
	cfg        app.Config
	saveErr    error
	terminated []terminateCall
	userCalls  []terminateCall // TerminateUser calls
	others     []app.Session   // UserSessions adds these to the session asked about
	stopped    []app.Session
	result     app.Result
	added      []app.NewServer
	addErr     error
	signOuts   int   // SignOut calls
	signOutErr error // returned by SignOut
	removed    []string
	paused     bool
}

type terminateCall struct {
	Session app.Session
	Message string
}

func newFakeBackend() *fakeBackend {
	return &fakeBackend{cfg: app.DefaultConfig(), result: app.Result{Outcome: app.OutcomeDone}}
}

func (f *fakeBackend) Terminate(_ context.Context, s app.Session, message string) app.Result {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.terminated = append(f.terminated, terminateCall{s, message})
	return f.result
}

// UserSessions is the session asked about with f.others of the same user.
func (f *fakeBackend) UserSessions(s app.Session) []app.Session {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []app.Session{s}
	for _, o := range f.others {
		if o.User == s.User {
			out = append(out, o)
		}
	}
	return out
}

func (f *fakeBackend) TerminateUser(_ context.Context, s app.Session, message string) []app.SessionResult {
	list := f.UserSessions(s)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.userCalls = append(f.userCalls, terminateCall{s, message})
	var out []app.SessionResult
	for _, x := range list {
		out = append(out, app.SessionResult{Session: x, Result: f.result})
	}
	return out
}

func (f *fakeBackend) StopTranscode(_ context.Context, s app.Session) app.Result {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stopped = append(f.stopped, s)
	return f.result
}

func (f *fakeBackend) DefaultMessage(s app.Session) string {
	return "Sorry " + s.User + ", the server owner ended this stream."
}

func (f *fakeBackend) Config() app.Config {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cfg
}

func (f *fakeBackend) UpdateConfig(fn func(*app.Config)) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.saveErr != nil {
		return f.saveErr
	}
	fn(&f.cfg)
	return nil
}

func (f *fakeBackend) AddServer(_ context.Context, ns app.NewServer) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.addErr != nil {
		return "", f.addErr
	}
	if ns.Token == "" {
		return "", errors.New("no token")
	}
	f.added = append(f.added, ns)
	f.cfg.Servers = append(f.cfg.Servers, app.ServerConfig{Name: "Home", URL: ns.URL, Insecure: ns.Insecure, CAFile: ns.CAFile})
	return "Home", nil
}

// SignOut records the call and signs out of every configured server, or
// fails with signOutErr (after signing out of none).
func (f *fakeBackend) SignOut(context.Context) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.signOuts++
	if f.signOutErr != nil {
		return 0, f.signOutErr
	}
	return len(f.cfg.Servers), nil
}

// signOutCalls is how many times SignOut ran.
func (f *fakeBackend) signOutCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.signOuts
}

func (f *fakeBackend) RemoveServer(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.removed = append(f.removed, name)
	f.cfg.Servers = slices.DeleteFunc(f.cfg.Servers, func(s app.ServerConfig) bool { return s.Name == name })
	return nil
}

func (f *fakeBackend) SetRulesPaused(p bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.paused = p
}

func (f *fakeBackend) RulesPaused() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.paused
}

// testNow is the fixed moment of the UI tests.
var testNow = time.Date(2026, 3, 14, 12, 5, 0, 0, time.UTC)

// fakeClock is a settable clock, safe for the notifier's goroutine.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newTestUI builds a UI on a fresh test app, in demo mode with the fixed
// clock, and applies st (when not nil).
func newTestUI(t *testing.T, b *fakeBackend, st *app.State) *UI {
	t.Helper()
	a := test.NewTempApp(t)
	u := New(a, b, Options{Demo: true, Version: "1.2.3", Now: func() time.Time { return testNow }})
	u.Window().Resize(windowSize)
	u.tabs.Select(u.sessionsTab) // most tests are about the sessions table
	t.Cleanup(func() {
		u.Stop()
		u.bg.Wait()
		u.Window().Close()
	})
	if st != nil {
		u.apply(st)
	}
	return u
}

// Sessions of the fixed snapshot: a hardware transcode from a remote web
// player, a direct play on the LAN and a relayed direct stream.
func aliceSession() app.Session {
	return app.Session{
		Server: "Demo server", ID: "7f3c9a", SessionKey: "12", User: "alice", UserID: "101",
		Title: "The Matrix", Type: "movie", Kind: plex.KindPlayback, Library: "Movies", State: "playing",
		Player: app.Player{Title: "Alice’s laptop", Product: "Plex Web", Platform: "Chrome", Device: "Windows",
			Address: "203.0.113.7", MachineIdentifier: "web-alice-01"},
		Decision: plex.Transcode, Reason: "Transcode: video HEVC 4K → H.264 1080p (HW), audio copy",
		Short: "Transcode (HEVC 4K→1080p)", VideoDecision: "transcode", AudioDecision: "copy",
		VideoTranscode: true, HWTranscode: true, HW: "HW", TranscodeKey: "tc-91",
		SourceResolution: "4K", SourceHeight: 2160, SourceVideoCodec: "hevc", SourceAudioCodec: "eac3",
		TargetResolution: "1080p", TargetVideoCodec: "h264", BitrateKbps: 40000, BandwidthKbps: 12300,
		Location: "wan", ViewOffsetMs: (52*60 + 10) * 1000, DurationMs: (2*3600 + 7*60) * 1000,
		TranscodeSpeed: 1.4, TranscodeProgress: 63, Throttled: true,
		FirstSeen: testNow.Add(-5 * time.Minute), StateSince: testNow.Add(-4 * time.Minute),
	}
}

func bobSession() app.Session {
	return app.Session{
		Server: "Demo server", ID: "a1b2c3", SessionKey: "14", User: "bob", Title: "Severance - S01E03 - In Perpetuity",
		Type: "episode", Kind: plex.KindPlayback, Library: "TV Shows", State: "paused",
		Player: app.Player{Title: "Living room", Product: "Plex for Roku", Platform: "Roku", Device: "Roku Ultra",
			Address: "192.168.1.20", Local: true, MachineIdentifier: "roku-7781"},
		Decision: plex.DirectPlay, Reason: "Direct Play", Short: "Direct Play",
		SourceResolution: "1080p", SourceHeight: 1080, SourceVideoCodec: "h264", SourceAudioCodec: "aac",
		TargetResolution: "1080p", TargetVideoCodec: "h264", BitrateKbps: 8200, BandwidthKbps: 8600,
		Location: "lan", ViewOffsetMs: 10 * 60 * 1000, DurationMs: 57 * 60 * 1000,
		FirstSeen: testNow.Add(-20 * time.Minute), StateSince: testNow.Add(-90 * time.Second),
	}
}

func carolSession() app.Session {
	return app.Session{
		Server: "Demo server", ID: "c4d5e6", SessionKey: "15", User: "carol", Title: "Dune: Part Two",
		Type: "movie", Kind: plex.KindPlayback, Library: "Movies", State: "buffering",
		Player: app.Player{Title: "Carol’s iPhone", Product: "Plex for iOS", Platform: "iOS", Device: "iPhone",
			Address: "198.51.100.23"},
		Decision: plex.DirectStream, Reason: "Direct Stream: video copy, audio copy", Short: "Direct Stream",
		VideoDecision: "copy", AudioDecision: "copy", TranscodeKey: "tc-95",
		SourceResolution: "1080p", SourceHeight: 1080, SourceVideoCodec: "hevc", SourceAudioCodec: "aac",
		TargetResolution: "1080p", TargetVideoCodec: "hevc", BitrateKbps: 9800, BandwidthKbps: 950,
		Location: "wan", Relayed: true, ViewOffsetMs: 2 * 3600 * 1000, DurationMs: (2*3600 + 46*60) * 1000,
		FirstSeen: testNow.Add(-70 * time.Minute), StateSince: testNow.Add(-3 * time.Second),
	}
}

// setSessions makes st's server i list sessions instead (a new snapshot:
// a published one never changes).
func setSessions(st *app.State, i int, sessions ...app.Session) {
	st.Servers[i] = st.Servers[i].WithSessions(sessions...)
}

// sessionsOf returns a copy of the sessions of st's server i, to change
// and set again with setSessions.
func sessionsOf(st *app.State, i int) []app.Session {
	return slices.Clone(st.Servers[i].Sessions())
}

// fixedState is the snapshot of the golden tests: the demo server with three sessions.
func fixedState() *app.State {
	return &app.State{
		Servers: []*app.Snapshot{app.Snapshot{
			Server: "Demo server", URL: "demo://", Demo: true,
			Conn: app.Conn{Status: app.Connected, LastEvent: time.Date(2026, 3, 14, 12, 3, 4, 0, time.UTC),
				Since: testNow.Add(-time.Hour)},
			Seq: 7, Time: testNow,
		}.WithSessions(bobSession(), carolSession(), aliceSession())},
		Time: testNow,
	}
}

// findButton returns the first button with text in the object tree.
func findButton(t *testing.T, o fyne.CanvasObject, text string) *widget.Button {
	t.Helper()
	for _, obj := range test.LaidOutObjects(o) {
		if b, ok := obj.(*widget.Button); ok && b.Text == text {
			return b
		}
	}
	t.Fatalf("no button %q", text)
	return nil
}

// findMultiLineEntry returns the first multi-line entry in the object tree.
func findMultiLineEntry(t *testing.T, o fyne.CanvasObject) *widget.Entry {
	t.Helper()
	for _, obj := range test.LaidOutObjects(o) {
		if e, ok := obj.(*widget.Entry); ok && e.MultiLine {
			return e
		}
		if e, ok := obj.(*escEntry); ok && e.MultiLine {
			return &e.Entry
		}
	}
	t.Fatal("no multi-line entry")
	return nil
}
