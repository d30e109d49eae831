package app

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/plex"
	"github.com/plexwarden/plexwarden/plex/plexsim"
)

// failingSource answers every fetch with err and records when it was asked.
type failingSource struct {
	err error
	mu  sync.Mutex
	at  []time.Time
}

func (f *failingSource) Sessions(context.Context) ([]plex.Metadata, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.at = append(f.at, time.Now())
	return nil, f.err
}

func (f *failingSource) calls() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.at...)
}

// TestMonitorHoldsBackAfterOversizedOrSlowDown: after an answer that was
// too large, or a 429/503, the next fetch waits (the hold doubles, and a
// Retry-After counts within HoldMax) instead of following at once, however
// often the reconcile timer and resyncs ask.
func TestMonitorHoldsBackAfterOversizedOrSlowDown(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		minGap   time.Duration // between the first two fetches
		maxCalls int           // in 600 ms
	}{
		{"answer too large", &plex.Error{Op: "sessions", Err: plex.ErrTooLarge}, 80 * time.Millisecond, 4},
		{"429 with Retry-After", &plex.Error{Op: "sessions", Status: 429, Err: plex.ErrRateLimited, RetryAfter: 300 * time.Millisecond}, 280 * time.Millisecond, 3},
		{"503 with a Retry-After over the cap", &plex.Error{Op: "sessions", Status: 503, Err: plex.ErrServer, RetryAfter: time.Hour}, 380 * time.Millisecond, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &failingSource{err: tt.err}
			mon := NewMonitor(MonitorConfig{Server: "s", Source: src, Reconcile: 5 * time.Millisecond,
				MinFetchInterval: time.Millisecond, HoldMin: 100 * time.Millisecond, HoldMax: 400 * time.Millisecond})
			ctx, cancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
			defer cancel()
			done := make(chan struct{})
			go func() {
				defer close(done)
				for ctx.Err() == nil {
					mon.Resync()
					time.Sleep(2 * time.Millisecond)
				}
			}()
			_ = mon.Run(ctx)
			<-done
			calls := src.calls()
			if len(calls) < 2 || len(calls) > tt.maxCalls {
				t.Fatalf("%d fetches in 600 ms, want 2 to %d", len(calls), tt.maxCalls)
			}
			if gap := calls[1].Sub(calls[0]); gap < tt.minGap {
				t.Errorf("second fetch %s after the first, want at least %s", gap, tt.minGap)
			}
		})
	}
}

// TestMonitorCoalescesUnknownSessionEvents floods the event stream with
// events for sessions the monitor does not know (each one asks for a
// /status/sessions fetch): fetches stay at about MinFetchInterval apart,
// while the first event after a quiet moment is fetched at once.
func TestMonitorCoalescesUnknownSessionEvents(t *testing.T) {
	sim := startSim(t, plexsim.Options{PingInterval: time.Hour})
	rm := startMonitor(t, sim, simToken, func(c *MonitorConfig, _ *plex.Feed) { c.MinFetchInterval = 250 * time.Millisecond })
	waitUntil(t, "connected", 3*time.Second, func() bool { return rm.mon.Snapshot().Conn.Status == Connected })
	time.Sleep(300 * time.Millisecond) // quiet: past MinFetchInterval since the resync

	// The first new session is fetched at once.
	before := rm.mon.Fetches()
	start := time.Now()
	ref := sim.AddSession(plexsim.SessionSpec{User: "first"})
	waitUntil(t, "the new session", 2*time.Second, func() bool { _, ok := rm.session(ref.Key); return ok })
	if d := time.Since(start); d > 150*time.Millisecond {
		t.Errorf("first new session shown after %s, want it fetched at once", d)
	}
	if got := rm.mon.Fetches() - before; got != 1 {
		t.Errorf("%d fetches for one new session, want 1", got)
	}

	// A flood: 200 events a second for unknown sessions, for one second.
	before = rm.mon.Fetches()
	flood := time.Now()
	for i := 0; time.Since(flood) < time.Second; i++ {
		sim.SendRaw("playing", []byte(fmt.Sprintf(`{"PlaySessionStateNotification":[{"sessionKey":"x%d","state":"playing","viewOffset":1}]}`, i)))
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // let the last held fetch run
	if got := rm.mon.Fetches() - before; got < 2 || got > 6 {
		t.Errorf("%d fetches for a second of unknown-session events, want 2 to 6 (at most 4 a second)", got)
	}
}

// dupSource answers every fetch with the same session listed twice.
type dupSource struct{}

func (dupSource) Sessions(context.Context) ([]plex.Metadata, error) {
	m := plex.Metadata{SessionKey: "7", Type: "movie", Title: "Twice", Session: &plex.Session{ID: "abc"}}
	return []plex.Metadata{m, m}, nil
}

// TestMonitorOneRowPerDuplicatedSession: a source that lists a session
// twice gives one row and one "started", so a rule decides once.
func TestMonitorOneRowPerDuplicatedSession(t *testing.T) {
	mon := NewMonitor(MonitorConfig{Server: "s", Source: dupSource{}, Reconcile: time.Hour})
	var mu sync.Mutex
	started := 0
	mon.Subscribe(func(up Update) {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range up.Changes {
			if c.Kind == Started {
				started++
			}
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mon.Run(ctx) }()
	waitUntil(t, "first fetch", 2*time.Second, func() bool { return len(mon.Snapshot().Sessions()) > 0 })
	cancel()
	<-done
	if n := len(mon.Snapshot().Sessions()); n != 1 {
		t.Errorf("%d rows, want 1", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if started != 1 {
		t.Errorf("%d started changes, want 1", started)
	}
}
