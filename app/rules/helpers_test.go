package rules

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/app/history"
	"github.com/plexwarden/plexwarden/plex"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// t0 is a Wednesday.
var t0 = time.Date(2026, 3, 4, 20, 0, 0, 0, time.UTC)

// sess builds a live session: alice playing a 1080p H.264 movie directly on
// Plex Web from a remote address, first seen at t0 plus key minutes.
func sess(key string, mods ...func(*app.Session)) app.Session {
	n := 0
	for _, c := range key {
		n = n*10 + int(c-'0')
	}
	s := app.Session{
		Server: "home", ID: "id" + key, SessionKey: key, User: "alice", UserID: "100", Title: "Movie " + key,
		Type: "movie", Kind: plex.KindPlayback, Library: "Movies", LibrarySectionID: "1", State: "playing",
		Player:   app.Player{Title: "Firefox", Product: "Plex Web", Platform: "Firefox", Device: "Linux", Address: "203.0.113.5", MachineIdentifier: "m" + key},
		Decision: plex.DirectPlay, Reason: "Direct Play", Short: "Direct Play",
		SourceResolution: "1080p", SourceHeight: 1080, SourceVideoCodec: "h264", SourceAudioCodec: "aac",
		TargetResolution: "1080p", TargetVideoCodec: "h264", BitrateKbps: 8000, BandwidthKbps: 8000, Location: "wan",
		FirstSeen: t0.Add(time.Duration(n) * time.Minute), StateSince: t0.Add(time.Duration(n) * time.Minute),
	}
	for _, m := range mods {
		m(&s)
	}
	return s
}

// Session modifiers.
func transcoding(s *app.Session) {
	s.Decision, s.VideoDecision, s.AudioDecision, s.VideoTranscode = plex.Transcode, "transcode", "copy", true
	s.TranscodeKey, s.TargetResolution, s.Short = "tc"+s.SessionKey, "720p", "Transcode (H.264 1080p→720p)"
}

func audioOnly(s *app.Session) {
	s.Decision, s.VideoDecision, s.AudioDecision, s.AudioOnly = plex.Transcode, "copy", "transcode", true
	s.TranscodeKey, s.SourceAudioCodec = "tc"+s.SessionKey, "truehd"
}

func burnOnlyTranscode(s *app.Session) {
	transcoding(s)
	s.SubtitleDecision, s.SubtitleBurn, s.TargetResolution = "burn", true, s.SourceResolution
}

func directStream(s *app.Session) {
	s.Decision, s.VideoDecision, s.AudioDecision, s.TranscodeKey = plex.DirectStream, "copy", "copy", "tc"+s.SessionKey
}

func uhdHEVC(s *app.Session) {
	s.SourceResolution, s.SourceHeight, s.SourceVideoCodec = "4K", 2160, "hevc"
}

func lan(s *app.Session) { s.Location, s.Player.Local, s.Player.Address = "lan", true, "192.168.1.20" }

func user(name, id string) func(*app.Session) {
	return func(s *app.Session) { s.User, s.UserID = name, id }
}

func addr(a string) func(*app.Session) {
	return func(s *app.Session) { s.Player.Address = a }
}

func player(product, platform string) func(*app.Session) {
	return func(s *app.Session) {
		s.Player.Product, s.Player.Platform, s.Player.Title, s.Player.Device = product, platform, "", ""
	}
}

func paused(since time.Time) func(*app.Session) {
	return func(s *app.Session) { s.State, s.StateSince = "paused", since }
}

func noID(s *app.Session) { s.ID = "" }

func onServer(name string) func(*app.Session) { return func(s *app.Session) { s.Server = name } }

func update(server string, sessions ...app.Session) app.Update {
	return app.Update{Snapshot: app.Snapshot{Server: server, Conn: app.Conn{Status: app.Connected}}.WithSessions(sessions...), Event: time.Now()}
}

// fakeActor records calls and answers them from its funcs (default: done).
type fakeActor struct {
	mu        sync.Mutex
	calls     []fakeCall
	terminate func(s app.Session) app.Result
	stop      func(s app.Session) app.Result
	live      map[string]app.Session // what Find sees, by Key
	called    chan struct{}
}

type fakeCall struct {
	kind    string // "terminate" or "stop"
	key, id string
	message string
}

func newFakeActor() *fakeActor {
	return &fakeActor{live: map[string]app.Session{}, called: make(chan struct{}, 100)}
}

func (f *fakeActor) Terminate(_ context.Context, s app.Session, msg string) app.Result {
	f.mu.Lock()
	f.calls = append(f.calls, fakeCall{"terminate", s.Key(), s.ID, msg})
	fn := f.terminate
	f.mu.Unlock()
	f.called <- struct{}{}
	if s.ID == "" {
		return app.Result{Outcome: app.OutcomeNoID}
	}
	if fn != nil {
		return fn(s)
	}
	return app.Result{Outcome: app.OutcomeDone}
}

func (f *fakeActor) StopTranscode(_ context.Context, s app.Session) app.Result {
	f.mu.Lock()
	f.calls = append(f.calls, fakeCall{"stop", s.Key(), s.ID, ""})
	fn := f.stop
	f.mu.Unlock()
	f.called <- struct{}{}
	if fn != nil {
		return fn(s)
	}
	return app.Result{Outcome: app.OutcomeDone}
}

func (f *fakeActor) Find(key string) (app.Session, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.live[key]
	return s, ok
}

func (f *fakeActor) setLive(ss ...app.Session) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.live = map[string]app.Session{}
	for _, s := range ss {
		f.live[s.Key()] = s
	}
}

func (f *fakeActor) Calls() []fakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeCall(nil), f.calls...)
}

// waitCalls waits until n calls were made.
func (f *fakeActor) waitCalls(t *testing.T, n int) []fakeCall {
	t.Helper()
	deadline := time.After(3 * time.Second)
	for len(f.Calls()) < n {
		select {
		case <-f.called:
		case <-deadline:
			t.Fatalf("timed out waiting for %d calls; got %+v", n, f.Calls())
		}
	}
	return f.Calls()
}

// memHistory is an in-memory Recorder.
type memHistory struct {
	mu   sync.Mutex
	recs []history.Record
}

func (m *memHistory) Append(r history.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs = append(m.recs, r)
	return nil
}

func (m *memHistory) all() []history.Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]history.Record(nil), m.recs...)
}

// waitRecord waits for a record with the action and outcome.
func (m *memHistory) waitRecord(t *testing.T, action, outcome string) history.Record {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		for _, r := range m.all() {
			if r.Action == action && r.Outcome == outcome {
				return r
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s/%s record; have %+v", action, outcome, m.all())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func waitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
