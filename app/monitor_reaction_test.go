package app

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/plex"
	"github.com/plexwarden/plexwarden/plex/plexsim"
)

// heldMetadata is a library that answers only when let go.
type heldMetadata struct {
	inner MetadataSource
	let   chan struct{}
	asked atomic.Int64
}

func (h *heldMetadata) Metadata(ctx context.Context, rk string) (*plex.Metadata, error) {
	h.asked.Add(1)
	select {
	case <-h.let:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return h.inner.Metadata(ctx, rk)
}

// TestMonitorPublishesBeforeTheSourceRead: a new transcode is published as
// soon as the list has it, with its source pending, and published again
// with the library's source once read; the list is not held back by that
// read.
func TestMonitorPublishesBeforeTheSourceRead(t *testing.T) {
	sim := startSim(t, plexsim.Options{PlexPass: true})
	lib := &heldMetadata{let: make(chan struct{})}
	rm := startMonitor(t, sim, simToken, func(cfg *MonitorConfig, _ *plex.Feed) {
		lib.inner = cfg.Source.(MetadataSource)
		cfg.Metadata = lib
		cfg.Refresh = -1
	})
	waitUntil(t, "connected", 3*time.Second, func() bool { return rm.mon.Snapshot().Conn.Status == Connected })
	ref := sim.AddSession(plexsim.SessionSpec{User: "ann", Title: "Big Film", Resolution: "4k", VideoCodec: "hevc",
		Transcode: &plexsim.TranscodeSpec{Video: plexsim.DecisionTranscode}})
	waitUntil(t, "the transcode listed while its source is read", 3*time.Second, func() bool { _, ok := rm.session(ref.Key); return ok })
	s, _ := rm.session(ref.Key)
	if !s.SourcePending || s.SourceKnown || s.Decision != plex.Transcode {
		t.Errorf("before the library answers: SourcePending %v, SourceKnown %v, Decision %q; want true, false, %q", s.SourcePending, s.SourceKnown, s.Decision, plex.Transcode)
	}
	if got := lib.asked.Load(); got != 1 {
		t.Errorf("library asked %d times, want 1", got)
	}
	close(lib.let)
	waitUntil(t, "the source published", 3*time.Second, func() bool { s, _ := rm.session(ref.Key); return !s.SourcePending })
	s, _ = rm.session(ref.Key)
	if !s.SourceKnown || s.SourceResolution != "4K" {
		t.Errorf("after the library answered: SourceKnown %v, SourceResolution %q; want true, 4K", s.SourceKnown, s.SourceResolution)
	}
	if got := rm.ups.changes(Changed, ref.Key); got < 1 {
		t.Errorf("Changed updates for the session = %d, want at least 1 (its source)", got)
	}
}

// gatedSource holds a fetch until let go, and can leave one session out
// of its next answer, as a list made before that session existed.
type gatedSource struct {
	inner SessionSource
	mu    sync.Mutex
	gate  chan struct{} // nil: answer at once
	drop  string        // sessionKey left out of the next answer
	calls atomic.Int64
}

func (g *gatedSource) Sessions(ctx context.Context) ([]plex.Metadata, error) {
	g.calls.Add(1)
	g.mu.Lock()
	gate := g.gate
	g.gate = nil
	g.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	// drop is read once the gate opens: the test sets it after adding the
	// session, which may start this fetch first.
	g.mu.Lock()
	drop := g.drop
	g.drop = ""
	g.mu.Unlock()
	items, err := g.inner.Sessions(ctx)
	out := items[:0:0]
	for _, it := range items {
		if string(it.SessionKey) != drop || drop == "" {
			out = append(out, it)
		}
	}
	return out, err
}

// TestEventsDuringAFetchWaitForItsList: the events of a new session that
// come while a fetch is under way (transcodeSession.start starts it, the
// session's playing event follows) cost no second fetch when the list has
// the session, and one when it does not.
func TestEventsDuringAFetchWaitForItsList(t *testing.T) {
	tests := []struct {
		name        string
		listLacksIt bool
		wantFetches int64
	}{
		{name: "the list has the session", wantFetches: 1},
		{name: "the list was made before it", listLacksIt: true, wantFetches: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim := startSim(t, plexsim.Options{PlexPass: true})
			src := &gatedSource{}
			rm := startMonitor(t, sim, simToken, func(cfg *MonitorConfig, _ *plex.Feed) {
				src.inner = cfg.Source
				cfg.Metadata = cfg.Source.(MetadataSource)
				cfg.Source = src
				cfg.Refresh = -1
				cfg.MinFetchInterval = time.Millisecond
			})
			waitUntil(t, "connected and listed", 3*time.Second, func() bool {
				return rm.mon.Snapshot().Conn.Status == Connected && rm.mon.Fetches() >= 1 && src.calls.Load() >= 1
			})
			time.Sleep(100 * time.Millisecond) // the start-up fetch is over
			before := rm.mon.Fetches()
			gate := make(chan struct{})
			src.mu.Lock()
			src.gate = gate
			src.mu.Unlock()
			ref := sim.AddSession(plexsim.SessionSpec{User: "ann", Title: "New", Transcode: &plexsim.TranscodeSpec{Video: plexsim.DecisionTranscode}})
			if tt.listLacksIt {
				src.mu.Lock()
				src.drop = ref.Key
				src.mu.Unlock()
			}
			waitUntil(t, "the fetch under way", 3*time.Second, func() bool { return rm.mon.Fetches() > before })
			time.Sleep(200 * time.Millisecond) // the playing event arrives while the fetch waits
			close(gate)
			waitUntil(t, "the new session listed", 3*time.Second, func() bool { _, ok := rm.session(ref.Key); return ok })
			time.Sleep(300 * time.Millisecond) // room for a needless fetch to show
			if got := rm.mon.Fetches() - before; got != tt.wantFetches {
				t.Errorf("fetches for the new session = %d, want %d", got, tt.wantFetches)
			}
		})
	}
}

// failingMetadata is a library that refuses every read.
type failingMetadata struct{ asked atomic.Int64 }

func (f *failingMetadata) Metadata(context.Context, string) (*plex.Metadata, error) {
	f.asked.Add(1)
	return nil, &plex.Error{Op: "metadata", Status: 500, Err: plex.ErrServer}
}

// TestSourcePendingEndsWhenTheLibraryFails: a library that cannot answer
// never leaves a transcode waiting: it is published again, judged from
// its list entry (SourceKnown false, SourcePending false).
func TestSourcePendingEndsWhenTheLibraryFails(t *testing.T) {
	sim := startSim(t, plexsim.Options{PlexPass: true})
	lib := &failingMetadata{}
	rm := startMonitor(t, sim, simToken, func(cfg *MonitorConfig, _ *plex.Feed) {
		cfg.Metadata = lib
		cfg.Refresh = -1
	})
	waitUntil(t, "connected", 3*time.Second, func() bool { return rm.mon.Snapshot().Conn.Status == Connected })
	ref := sim.AddSession(plexsim.SessionSpec{User: "ann", Title: "Big Film", Resolution: "4k", VideoCodec: "hevc",
		Transcode: &plexsim.TranscodeSpec{Video: plexsim.DecisionTranscode}})
	waitUntil(t, "the transcode judged without its source", 3*time.Second, func() bool {
		s, ok := rm.session(ref.Key)
		return ok && !s.SourcePending
	})
	s, _ := rm.session(ref.Key)
	if s.SourceKnown || s.Decision != plex.Transcode {
		t.Errorf("SourceKnown %v, Decision %q; want false, %q", s.SourceKnown, s.Decision, plex.Transcode)
	}
	if got := lib.asked.Load(); got < 1 {
		t.Errorf("library asked %d times, want at least 1", got)
	}
}
