package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/plexwarden/plexwarden/plex"
	"github.com/plexwarden/plexwarden/plex/plexsim"
)

// The OS keyring test opens the process-wide D-Bus session connection,
// which godbus keeps for the life of the process by design.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("github.com/godbus/dbus/v5.newConn.func1"),
		goleak.IgnoreTopFunction("github.com/godbus/dbus/v5.(*Conn).inWorker"),
		goleak.IgnoreAnyFunction("github.com/godbus/dbus/v5.(*Conn).inWorker"),
	)
}

const simToken = "sim-token"

func startSim(t testing.TB, opts plexsim.Options) *plexsim.Server {
	t.Helper()
	if opts.Token == "" {
		opts.Token = simToken
	}
	if opts.PingInterval == 0 {
		opts.PingInterval = 200 * time.Millisecond
	}
	sim := plexsim.New(opts)
	if err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	return sim
}

// updates records everything a monitor publishes.
type updates struct {
	mu  sync.Mutex
	all []Update
}

func (u *updates) add(up Update) { u.mu.Lock(); u.all = append(u.all, up); u.mu.Unlock() }

func (u *updates) changes(kind ChangeKind, sessionKey string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	n := 0
	for _, up := range u.all {
		for _, c := range up.Changes {
			if c.Kind == kind && c.Session.SessionKey == sessionKey {
				n++
			}
		}
	}
	return n
}

func waitUntil(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type runningMonitor struct {
	mon    *Monitor
	ups    *updates
	client *plex.Client
	cancel context.CancelFunc
	done   chan error
}

func startMonitor(t *testing.T, sim *plexsim.Server, token string, tweak func(*MonitorConfig, *plex.Feed)) *runningMonitor {
	t.Helper()
	c, err := plex.NewClient(sim.URL(), token, plex.ClientInfo{ID: "monitor-test"}, plex.WithTimeout(3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	feed := c.NewFeed(nil)
	feed.MinBackoff, feed.MaxBackoff = 20*time.Millisecond, 100*time.Millisecond
	cfg := MonitorConfig{Server: "sim", URL: c.BaseURL(), Source: c, Feed: feed, Reconcile: time.Hour, Coalesce: 20 * time.Millisecond}
	if tweak != nil {
		tweak(&cfg, feed)
	}
	rm := &runningMonitor{mon: NewMonitor(cfg), ups: &updates{}, client: c, done: make(chan error, 1)}
	rm.mon.Subscribe(rm.ups.add)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	rm.cancel = cancel
	go func() { rm.done <- rm.mon.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-rm.done:
		case <-time.After(5 * time.Second):
			t.Error("monitor did not stop")
		}
	})
	return rm
}

func (rm *runningMonitor) session(key string) (Session, bool) {
	sn := rm.mon.Snapshot()
	for _, s := range sn.Sessions() {
		if s.SessionKey == key {
			return s, true
		}
	}
	return Session{}, false
}

func TestMonitorLifecycle(t *testing.T) {
	sim := startSim(t, plexsim.Options{PlexPass: true})
	pre := sim.AddSession(plexsim.SessionSpec{User: "bob", Title: "Before We Started"})
	rm := startMonitor(t, sim, simToken, nil)
	waitUntil(t, "resync shows the existing session", 3*time.Second, func() bool { _, ok := rm.session(pre.Key); return ok })
	if got := rm.mon.Snapshot().Conn.Status; got != Connected {
		t.Errorf("status = %v, want connected", got)
	}

	ref := sim.AddSession(plexsim.SessionSpec{User: "alice", Type: "episode", Show: "The Long Orbit", Season: 2, Episode: 5, Title: "Signal",
		Resolution: "4k", VideoCodec: "hevc", Player: plexsim.PlayerSpec{Product: "Plex Web", Platform: "Chrome"},
		Transcode: &plexsim.TranscodeSpec{Video: "transcode", Audio: "copy", HW: true}})
	waitUntil(t, "the new session", 3*time.Second, func() bool { _, ok := rm.session(ref.Key); return ok })
	s, _ := rm.session(ref.Key)
	want := Session{ID: ref.ID, User: "alice", Title: "The Long Orbit - S02E05 - Signal", Decision: plex.Transcode, TranscodeKey: ref.TranscodeKey, SourceResolution: "4K"}
	if s.ID != want.ID || s.User != want.User || s.Title != want.Title || s.Decision != want.Decision || s.TranscodeKey != want.TranscodeKey || s.SourceResolution != want.SourceResolution || !s.HWTranscode {
		t.Errorf("session = %+v\nwant fields of %+v with HW", s, want)
	}
	if rm.ups.changes(Started, ref.Key) != 1 {
		t.Errorf("Started changes for %s = %d, want 1", ref.Key, rm.ups.changes(Started, ref.Key))
	}

	if err := sim.SetState(ref.Key, "paused"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "paused", 3*time.Second, func() bool { s, _ := rm.session(ref.Key); return s.State == "paused" })
	if err := sim.StopTranscodeOf(ref.Key); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "transcode gone", 3*time.Second, func() bool { s, _ := rm.session(ref.Key); return s.TranscodeKey == "" })

	if err := sim.EndSession(ref.Key); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "ended", 3*time.Second, func() bool { _, ok := rm.session(ref.Key); return !ok })
	// Let any fetch in flight land, then check the end stuck and was reported once.
	rm.mon.Resync()
	waitUntil(t, "resync", 3*time.Second, func() bool { return rm.mon.Fetches() >= 4 })
	time.Sleep(100 * time.Millisecond)
	if _, ok := rm.session(ref.Key); ok {
		t.Error("an ended session came back")
	}
	if got := rm.ups.changes(Ended, ref.Key); got != 1 {
		t.Errorf("Ended changes = %d, want 1", got)
	}
}

func TestMonitorTerminateReachesServer(t *testing.T) {
	sim := startSim(t, plexsim.Options{PlexPass: true})
	ref := sim.AddSession(plexsim.SessionSpec{User: "carol", Player: plexsim.PlayerSpec{Product: "Plex for Roku", Platform: "Roku"},
		Transcode: &plexsim.TranscodeSpec{Video: "transcode"}})
	rm := startMonitor(t, sim, simToken, nil)
	waitUntil(t, "session", 3*time.Second, func() bool { _, ok := rm.session(ref.Key); return ok })
	s, _ := rm.session(ref.Key)
	msg := DefaultMessage(s)
	if !strings.Contains(msg, "Roku") {
		t.Errorf("default message for a Roku transcode = %q, want Roku instructions", msg)
	}
	res := TerminateSession(context.Background(), rm.client, s, msg)
	if res.Outcome != OutcomeDone {
		t.Fatalf("terminate = %+v, want done", res)
	}
	calls := sim.Calls()
	if len(calls) != 1 || calls[0].SessionID != ref.ID || calls[0].Reason != msg {
		t.Fatalf("calls = %+v, want one terminate of %s with the message", calls, ref.ID)
	}
	waitUntil(t, "session gone", 3*time.Second, func() bool { _, ok := rm.session(ref.Key); return !ok })
	// A second terminate finds it gone.
	if res := TerminateSession(context.Background(), rm.client, s, msg); res.Outcome != OutcomeGone {
		t.Errorf("second terminate = %v, want %q", res.Outcome, OutcomeGone)
	}
}

func TestTerminateOutcomes(t *testing.T) {
	sim := startSim(t, plexsim.Options{PlexPass: false})
	ref := sim.AddSession(plexsim.SessionSpec{Transcode: &plexsim.TranscodeSpec{Video: "transcode"}})
	good, _ := plex.NewClient(sim.URL(), simToken, plex.ClientInfo{ID: "t"})
	bad, _ := plex.NewClient(sim.URL(), "nope", plex.ClientInfo{ID: "t"})
	ctx := context.Background()
	tests := []struct {
		name string
		got  Result
		want Outcome
	}{
		{"no plex pass", TerminateSession(ctx, good, Session{ID: ref.ID}, "x"), OutcomePlexPass},
		{"bad token", TerminateSession(ctx, bad, Session{ID: ref.ID}, "x"), OutcomeUnauthorized},
		{"no session id", TerminateSession(ctx, good, Session{}, "x"), OutcomeNoID},
		{"stop transcode works without plex pass", StopSessionTranscode(ctx, good, Session{TranscodeKey: ref.TranscodeKey}), OutcomeDone},
		{"stop transcode again", StopSessionTranscode(ctx, good, Session{TranscodeKey: ref.TranscodeKey}), OutcomeGone},
	}
	for _, tt := range tests {
		if tt.got.Outcome != tt.want {
			t.Errorf("%s: outcome = %q (%v), want %q", tt.name, tt.got.Outcome, tt.got.Err, tt.want)
		}
		if tt.got.Text() == "" {
			t.Errorf("%s: empty Text()", tt.name)
		}
	}
}

func TestMonitorResyncAfterDropAndRestart(t *testing.T) {
	// The stop below happens while the stream is down, so its event is
	// lost; without lingering the resync alone must show it gone (with
	// Plex's few seconds of lingering, the next fetch does).
	sim := startSim(t, plexsim.Options{Linger: -1})
	rm := startMonitor(t, sim, simToken, nil)
	waitUntil(t, "connected", 3*time.Second, func() bool { return rm.mon.Snapshot().Conn.Status == Connected })

	// Sessions that start while the stream is down are found by the resync.
	sim.Stall(true)
	sim.DropStreams()
	ref := sim.AddSession(plexsim.SessionSpec{User: "dave"})
	sim.Stall(false)
	waitUntil(t, "session started during the outage", 3*time.Second, func() bool { _, ok := rm.session(ref.Key); return ok })

	if err := sim.Restart(); err != nil {
		t.Fatal(err)
	}
	ended := ref.Key
	_ = sim.EndSession(ended)
	ref2 := sim.AddSession(plexsim.SessionSpec{User: "erin"})
	waitUntil(t, "converged after restart", 5*time.Second, func() bool {
		_, gone := rm.session(ended)
		_, there := rm.session(ref2.Key)
		return !gone && there && rm.mon.Snapshot().Conn.Status == Connected
	})
}

// TestMonitorRejectAtStart: with RejectAtStart (watch), a token rejected
// before it ever worked ends Run with ErrUnauthorized and a token-free
// state; without it, the monitor keeps going in the token-rejected state.
func TestMonitorRejectAtStart(t *testing.T) {
	for _, atStart := range []bool{true, false} {
		t.Run(fmt.Sprintf("RejectAtStart=%v", atStart), func(t *testing.T) {
			sim := startSim(t, plexsim.Options{})
			rm := startMonitor(t, sim, "bad-token", func(c *MonitorConfig, f *plex.Feed) {
				c.RejectAtStart = atStart
				f.AuthMinBackoff, f.AuthMaxBackoff = 50*time.Millisecond, 100*time.Millisecond
			})
			select {
			case err := <-rm.done:
				rm.done <- err // for the cleanup
				if !atStart {
					t.Fatalf("Run = %v, want it to keep retrying", err)
				}
				if !errors.Is(err, plex.ErrUnauthorized) {
					t.Fatalf("Run = %v, want ErrUnauthorized", err)
				}
			case <-time.After(500 * time.Millisecond):
				if atStart {
					t.Fatal("monitor kept running after a 401 at start")
				}
			}
			c := rm.mon.Snapshot().Conn
			if c.Status != Unauthorized || !strings.Contains(c.Line(time.Now()), "token rejected") {
				t.Errorf("conn = %+v (%q), want token rejected", c, c.Line(time.Now()))
			}
			if strings.Contains(c.Err, "bad-token") {
				t.Errorf("status text leaks the token: %q", c.Err)
			}
		})
	}
}

// TestMonitorTokenRejectedWhileRunning: a server that rejects the token
// for a while (a 401 on the stream's reconnect) is a state, retried, and
// the monitor is connected again once the token works.
func TestMonitorTokenRejectedWhileRunning(t *testing.T) {
	sim := startSim(t, plexsim.Options{})
	rm := startMonitor(t, sim, simToken, func(c *MonitorConfig, f *plex.Feed) {
		c.RejectAtStart = true // only at start: this rejection comes later
		f.AuthMinBackoff, f.AuthMaxBackoff = 100*time.Millisecond, 200*time.Millisecond
	})
	waitUntil(t, "connected", 3*time.Second, func() bool { return rm.mon.Snapshot().Conn.Status == Connected })
	sim.FailAll(401)
	sim.DropStreams()
	waitUntil(t, "token-rejected state", 3*time.Second, func() bool {
		c := rm.mon.Snapshot().Conn
		return c.Status == Unauthorized && c.Err == TokenRejectedHint && !c.NextRetry.IsZero()
	})
	if line := rm.mon.Snapshot().Conn.Line(time.Now()); !strings.HasPrefix(line, "token rejected — retrying; sign in again if it persists") {
		t.Errorf("status line = %q, want the retrying hint", line)
	}
	sim.FailAll(0)
	waitUntil(t, "connected again", 3*time.Second, func() bool { return rm.mon.Snapshot().Conn.Status == Connected })
	select {
	case err := <-rm.done:
		rm.done <- err
		t.Fatalf("Run returned %v, want it to keep going", err)
	default:
	}
}

func TestMonitorSurvivesBadEvents(t *testing.T) {
	sim := startSim(t, plexsim.Options{})
	rm := startMonitor(t, sim, simToken, nil)
	waitUntil(t, "connected", 3*time.Second, func() bool { return rm.mon.Snapshot().Conn.Status == Connected })
	sim.SendRaw("playing", []byte(`{"PlaySessionStateNotification":`))
	sim.SendRaw("playing", []byte(`{"PlaySessionStateNotification":{"sessionKey":"999","state":"playing","guid":"`+strings.Repeat("z", 200<<10)+`"}}`))
	ref := sim.AddSession(plexsim.SessionSpec{User: "frank"})
	waitUntil(t, "session after bad events", 3*time.Second, func() bool { _, ok := rm.session(ref.Key); return ok })
	if rm.mon.BadEvents() != 1 {
		t.Errorf("BadEvents = %d, want 1", rm.mon.BadEvents())
	}
}

func TestMonitorUnreachable(t *testing.T) {
	sim := startSim(t, plexsim.Options{})
	url := sim.URL()
	sim.Close()
	c, _ := plex.NewClient(url, simToken, plex.ClientInfo{ID: "t"}, plex.WithTimeout(time.Second))
	feed := c.NewFeed(nil)
	feed.MinBackoff, feed.MaxBackoff = 20*time.Millisecond, 50*time.Millisecond
	mon := NewMonitor(MonitorConfig{Server: "dead", Source: c, Feed: feed})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mon.Run(ctx) }()
	waitUntil(t, "unreachable", 3*time.Second, func() bool { return mon.Snapshot().Conn.Status == Unreachable })
	if line := mon.Snapshot().Conn.Line(time.Now()); !strings.Contains(line, "unreachable") || !strings.Contains(line, "refused") {
		t.Errorf("status line = %q, want unreachable + refused", line)
	}
	cancel()
	<-done
}

// A fake source for the pure merge logic: no network.
type fakeSource struct {
	mu    sync.Mutex
	items []plex.Metadata
}

func (f *fakeSource) Sessions(context.Context) ([]plex.Metadata, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]plex.Metadata(nil), f.items...), nil
}

func TestMonitorMergeKeepsFirstSeenAndSkipsThemes(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	src := &fakeSource{items: []plex.Metadata{
		{SessionKey: "1", Type: "movie", Title: "A", Player: &plex.Player{State: "playing"}, Session: &plex.Session{ID: "s1"}},
		{SessionKey: "2", Type: "track", GUID: "library://x/item/1", Title: "Theme"},
	}}
	m := NewMonitor(MonitorConfig{Server: "x", Source: src, Now: clock})
	m.merge(fetchResult{items: src.items})
	sn := m.Snapshot()
	if len(sn.Sessions()) != 1 || sn.Sessions()[0].SessionKey != "1" {
		t.Fatalf("sessions = %+v, want only the movie", sn.Sessions())
	}
	now = now.Add(time.Minute)
	items := []plex.Metadata{{SessionKey: "1", Type: "movie", Title: "A", Player: &plex.Player{State: "paused"}, Session: &plex.Session{ID: "s1"}}}
	var got []Change
	m.Subscribe(func(u Update) { got = append(got, u.Changes...) })
	m.merge(fetchResult{items: items})
	s := m.Snapshot().Sessions()[0]
	if !s.FirstSeen.Equal(now.Add(-time.Minute)) {
		t.Errorf("FirstSeen = %v, want the first sighting", s.FirstSeen)
	}
	if !s.StateSince.Equal(now) {
		t.Errorf("StateSince = %v, want the pause time %v", s.StateSince, now)
	}
	if len(got) != 1 || got[0].Kind != Changed || got[0].Prev.State != "playing" {
		t.Errorf("changes = %+v, want one Changed from playing", got)
	}
}
