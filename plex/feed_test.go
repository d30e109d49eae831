package plex_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/plexwarden/plexwarden/plex"
	"github.com/plexwarden/plexwarden/plex/plexsim"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const testToken = "secret-token-123"

func startSim(t *testing.T, opts plexsim.Options) *plexsim.Server {
	t.Helper()
	if opts.Token == "" {
		opts.Token = testToken
	}
	if opts.PingInterval == 0 {
		opts.PingInterval = 100 * time.Millisecond
	}
	sim := plexsim.New(opts)
	if err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	return sim
}

func newClient(t *testing.T, sim *plexsim.Server, token string) *plex.Client {
	t.Helper()
	c, err := plex.NewClient(sim.URL(), token, plex.ClientInfo{ID: "plexwarden-test-id", Version: "test"}, plex.WithTimeout(3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// recorder collects what a feed reports.
type recorder struct {
	mu       sync.Mutex
	events   []plex.Event
	bad      []string
	states   []plex.FeedState
	stateAt  []time.Time
	connects atomic.Int32
}

func (r *recorder) attach(f *plex.Feed) {
	f.OnEvent = func(e plex.Event) { r.mu.Lock(); r.events = append(r.events, e); r.mu.Unlock() }
	f.OnBadEvent = func(name string, err error) { r.mu.Lock(); r.bad = append(r.bad, name); r.mu.Unlock() }
	f.OnState = func(s plex.FeedState) {
		r.mu.Lock()
		r.states = append(r.states, s)
		r.stateAt = append(r.stateAt, time.Now())
		r.mu.Unlock()
	}
	f.OnConnect = func() { r.connects.Add(1) }
}

func (r *recorder) count(name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.events {
		if e.Name == name {
			n++
		}
	}
	return n
}

func (r *recorder) has(pred func(plex.Event) bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.events {
		if pred(e) {
			return true
		}
	}
	return false
}

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// runFeed runs f until the test ends. The returned channel yields Run's
// result once.
func runFeed(t *testing.T, f *plex.Feed) (context.CancelFunc, <-chan error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	done := make(chan error, 1)
	finished := make(chan struct{})
	go func() {
		done <- f.Run(ctx)
		close(finished)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-finished:
		case <-time.After(5 * time.Second):
			t.Error("feed did not stop within 5s of cancel")
		}
	})
	return cancel, done
}

func TestFeedEventsAndReconnect(t *testing.T) {
	sim := startSim(t, plexsim.Options{PlexPass: true})
	f := newClient(t, sim, testToken).NewFeed(nil)
	f.MinBackoff, f.MaxBackoff = 50*time.Millisecond, 200*time.Millisecond
	var r recorder
	r.attach(f)
	runFeed(t, f)
	waitFor(t, "first connect", 3*time.Second, func() bool { return r.connects.Load() == 1 })

	ref := sim.AddSession(plexsim.SessionSpec{User: "alice", Title: "Night Harbor",
		Transcode: &plexsim.TranscodeSpec{Video: "transcode", Audio: "copy"}})
	waitFor(t, "playing event", 3*time.Second, func() bool {
		return r.has(func(e plex.Event) bool {
			return e.Playing != nil && string(e.Playing.SessionKey) == ref.Key && e.Playing.TranscodeSession == ref.TranscodeKey
		})
	})
	waitFor(t, "transcode start event", 3*time.Second, func() bool { return r.count(plex.EventTranscodeStart) > 0 })
	waitFor(t, "pings", 3*time.Second, func() bool { return r.count(plex.EventPing) >= 2 })

	// A clean EOF: the library would stop here (r3labs/sse#147); we reconnect.
	sim.DropStreams()
	waitFor(t, "reconnect after EOF", 3*time.Second, func() bool { return r.connects.Load() == 2 })
	// A server restart on the same address.
	if err := sim.Restart(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "reconnect after restart", 5*time.Second, func() bool { return r.connects.Load() == 3 })
	before := r.count(plex.EventPlaying)
	if err := sim.SetState(ref.Key, "paused"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "events after restart", 3*time.Second, func() bool { return r.count(plex.EventPlaying) > before })
}

// TestFeedUnauthorizedRetriesSlowly: a 401 does not end the feed. It
// reports the rejected token with the time of the next try, retries on the
// long auth backoff (not the short one), and connects once the server
// accepts the token again.
func TestFeedUnauthorizedRetriesSlowly(t *testing.T) {
	sim := startSim(t, plexsim.Options{})
	sim.FailAll(401)
	f := newClient(t, sim, testToken).NewFeed(nil)
	f.MinBackoff, f.MaxBackoff = 5*time.Millisecond, 10*time.Millisecond
	f.AuthMinBackoff, f.AuthMaxBackoff = 150*time.Millisecond, 300*time.Millisecond
	var r recorder
	r.attach(f)
	_, done := runFeed(t, f)
	rejected := func() []time.Duration {
		r.mu.Lock()
		defer r.mu.Unlock()
		var waits []time.Duration
		for i, s := range r.states {
			if s.Status == plex.FeedUnauthorized {
				waits = append(waits, s.NextRetry.Sub(r.stateAt[i]))
				if strings.Contains(s.Err.Error(), testToken) {
					t.Errorf("state error leaks the token: %v", s.Err)
				}
			}
		}
		return waits
	}
	waitFor(t, "two rejected attempts", 3*time.Second, func() bool { return len(rejected()) >= 2 })
	for i, w := range rejected() {
		if w < 100*time.Millisecond {
			t.Errorf("retry %d after a 401 in %s, want the auth backoff (≥ 150ms − jitter)", i, w)
		}
	}
	sim.FailAll(0)
	waitFor(t, "connected once the token works again", 3*time.Second, func() bool { return r.connects.Load() >= 1 })
	select {
	case err := <-done:
		t.Fatalf("Run returned %v, want it to keep going", err)
	default:
	}
}

func TestFeedSilenceWatchdog(t *testing.T) {
	sim := startSim(t, plexsim.Options{PingInterval: 50 * time.Millisecond})
	f := newClient(t, sim, testToken).NewFeed(nil)
	f.Silence = 300 * time.Millisecond
	f.MinBackoff, f.MaxBackoff = 20*time.Millisecond, 50*time.Millisecond
	var r recorder
	r.attach(f)
	runFeed(t, f)
	waitFor(t, "connect", 3*time.Second, func() bool { return r.connects.Load() == 1 })
	sim.Stall(true)
	waitFor(t, "reconnecting state after silence", 3*time.Second, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, s := range r.states {
			if s.Status == plex.FeedReconnecting && s.Err != nil && strings.Contains(s.Err.Error(), "silence") {
				return true
			}
		}
		return false
	})
	sim.Stall(false)
	waitFor(t, "reconnect after the stall", 3*time.Second, func() bool { return r.connects.Load() >= 2 })
}

// TestFeedSkipsEventTooLarge: an event over MaxEventSize, or a line that
// never ends, is skipped and counted, and the stream reopened at once (the
// reconnect is the resync) without a reconnecting state: not an outage.
func TestFeedSkipsEventTooLarge(t *testing.T) {
	tests := []struct {
		name string
		data string
	}{
		{"10 MB event", `{"PlaySessionStateNotification":{"sessionKey":"1","guid":"` + strings.Repeat("x", 10<<20) + `"}}`},
		{"line without end", strings.Repeat("y", plex.MaxEventSize+1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim := startSim(t, plexsim.Options{PingInterval: time.Hour})
			f := newClient(t, sim, testToken).NewFeed(nil)
			f.MinBackoff, f.MaxBackoff = time.Second, 2*time.Second // a backoff would outlast the wait below
			var r recorder
			r.attach(f)
			runFeed(t, f)
			waitFor(t, "connect", 3*time.Second, func() bool { return r.connects.Load() == 1 })
			sim.SendRaw("playing", []byte(tt.data))
			waitFor(t, "reopened at once", 900*time.Millisecond, func() bool { return r.connects.Load() == 2 })
			if got := f.TooLarge(); got != 1 {
				t.Errorf("TooLarge() = %d, want 1", got)
			}
			r.mu.Lock()
			defer r.mu.Unlock()
			if len(r.bad) != 1 {
				t.Errorf("bad events = %q, want the one too large", r.bad)
			}
			for _, s := range r.states {
				if s.Status == plex.FeedReconnecting {
					t.Errorf("state %v: an oversized event is not an outage", s)
				}
			}
		})
	}
}

func TestFeedMalformedAndOversizedEvents(t *testing.T) {
	sim := startSim(t, plexsim.Options{})
	f := newClient(t, sim, testToken).NewFeed(nil)
	var r recorder
	r.attach(f)
	runFeed(t, f)
	waitFor(t, "connect", 3*time.Second, func() bool { return r.connects.Load() == 1 })
	sim.SendRaw("playing", []byte(`{"PlaySessionStateNotification":{"sessionKey":`))
	sim.SendRaw("transcodeSession.update", []byte(`not json at all`))
	big := `{"PlaySessionStateNotification":{"sessionKey":"77","state":"playing","key":"` + strings.Repeat("x", 200<<10) + `"}}`
	sim.SendRaw("playing", []byte(big))
	sim.SendRaw("playing", []byte(`{"PlaySessionStateNotification":{"sessionKey":"78","state":"paused"}}`))
	waitFor(t, "the 200 KB event", 3*time.Second, func() bool {
		return r.has(func(e plex.Event) bool { return e.Playing != nil && e.Playing.SessionKey == "77" })
	})
	waitFor(t, "the event after it", 3*time.Second, func() bool {
		return r.has(func(e plex.Event) bool { return e.Playing != nil && e.Playing.SessionKey == "78" })
	})
	r.mu.Lock()
	bad := len(r.bad)
	r.mu.Unlock()
	if bad != 2 {
		t.Errorf("bad events = %d, want 2", bad)
	}
	if got := r.connects.Load(); got != 1 {
		t.Errorf("connects = %d, want 1 (bad events must not break the stream)", got)
	}
}

func TestFeedCancelWhileServerFails(t *testing.T) {
	sim := startSim(t, plexsim.Options{})
	sim.FailAll(503)
	f := newClient(t, sim, testToken).NewFeed(nil)
	f.MinBackoff = 20 * time.Millisecond
	var r recorder
	r.attach(f)
	cancel, done := runFeed(t, f)
	waitFor(t, "retries", 3*time.Second, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(r.states) >= 3
	})
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run() = %v, want context.Canceled", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Run ignored cancel while retrying")
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("Run took %s to return after cancel", d)
	}
}

// The backoff starts under a second, doubles, and caps at MaxBackoff.
func TestFeedBackoffSchedule(t *testing.T) {
	sim := startSim(t, plexsim.Options{})
	sim.FailAll(500)
	f := newClient(t, sim, testToken).NewFeed(nil)
	f.MinBackoff, f.MaxBackoff = 100*time.Millisecond, 400*time.Millisecond
	var r recorder
	r.attach(f)
	runFeed(t, f)
	waitFor(t, "5 retries", 6*time.Second, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		n := 0
		for _, s := range r.states {
			if s.Status == plex.FeedReconnecting {
				n++
			}
		}
		return n >= 5
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	var waits []time.Duration
	for i, s := range r.states {
		if s.Status == plex.FeedReconnecting {
			waits = append(waits, s.NextRetry.Sub(r.stateAt[i]))
		}
	}
	if waits[0] > time.Second {
		t.Errorf("first retry after %s, want within 1s", waits[0])
	}
	for i, w := range waits {
		if w > 480*time.Millisecond { // MaxBackoff + 20 % jitter
			t.Errorf("retry %d after %s, want at most the 400ms cap (+jitter)", i, w)
		}
	}
	if last := waits[len(waits)-1]; last < 300*time.Millisecond {
		t.Errorf("retry %d after %s: the backoff did not grow to its cap", len(waits)-1, last)
	}
	first := r.states[1]
	if first.Status != plex.FeedReconnecting || !errors.Is(first.Err, plex.ErrServer) {
		t.Fatalf("first state after failure = %+v, want reconnecting with ErrServer", first)
	}
}

func TestTokenOnlyInHeader(t *testing.T) {
	sim := startSim(t, plexsim.Options{PlexPass: true})
	c := newClient(t, sim, testToken)
	ctx := context.Background()
	ref := sim.AddSession(plexsim.SessionSpec{Transcode: &plexsim.TranscodeSpec{Video: "transcode"}})
	if _, err := c.Sessions(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ServerInfo(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.StopTranscode(ctx, ref.TranscodeKey); err != nil {
		t.Fatal(err)
	}
	if err := c.Terminate(ctx, ref.ID, "bye"); err != nil {
		t.Fatal(err)
	}
	f := c.NewFeed(nil)
	var r recorder
	r.attach(f)
	cancel, _ := runFeed(t, f)
	waitFor(t, "connect", 3*time.Second, func() bool { return r.connects.Load() == 1 })
	cancel()
	reqs := sim.Requests()
	if len(reqs) < 5 {
		t.Fatalf("only %d requests logged", len(reqs))
	}
	for _, req := range reqs {
		if strings.Contains(req.RawQuery, testToken) || strings.Contains(req.Path, testToken) {
			t.Errorf("%s %s?%s carries the token in the URL", req.Method, req.Path, req.RawQuery)
		}
		if req.Path != "/identity" && req.Header.Get("X-Plex-Token") != testToken {
			t.Errorf("%s %s: X-Plex-Token header = %q, want the token", req.Method, req.Path, req.Header.Get("X-Plex-Token"))
		}
		if got := req.Header.Get("X-Plex-Client-Identifier"); got != "plexwarden-test-id" {
			t.Errorf("%s %s: client identifier = %q", req.Method, req.Path, got)
		}
	}
}

// TestFeedFollowsSetBaseURL moves a client to another address of the
// server, as a re-probe does, in both situations: while the stream is open
// and while the feed waits out a long backoff after losing the old one.
// Reconnect makes the feed go to the new address at once; without it the
// backoff (10 s) would outlast the test's deadline.
func TestFeedFollowsSetBaseURL(t *testing.T) {
	tests := []struct {
		name     string
		loseOldA bool // close the first server before switching
	}{
		{"while connected", false},
		{"while waiting to retry", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := startSim(t, plexsim.Options{})
			b := startSim(t, plexsim.Options{})
			c := newClient(t, a, testToken)
			f := c.NewFeed(nil)
			f.MinBackoff, f.MaxBackoff = 10*time.Second, 10*time.Second
			var r recorder
			r.attach(f)
			runFeed(t, f)
			waitFor(t, "first connect", 3*time.Second, func() bool { return r.connects.Load() == 1 && a.StreamCount() == 1 })
			if tc.loseOldA {
				a.Close()
				waitFor(t, "the feed to notice", 3*time.Second, func() bool {
					r.mu.Lock()
					defer r.mu.Unlock()
					last := r.states[len(r.states)-1]
					return last.Status == plex.FeedReconnecting
				})
			}
			if err := c.SetBaseURL(b.URL()); err != nil {
				t.Fatal(err)
			}
			if got, want := c.BaseURL(), b.URL(); got != want {
				t.Errorf("BaseURL() = %q, want %q", got, want)
			}
			f.Reconnect()
			waitFor(t, "a stream on the new address", 3*time.Second, func() bool { return b.StreamCount() == 1 && r.connects.Load() == 2 })
			if n := a.StreamCount(); n != 0 {
				t.Errorf("streams left on the old address = %d, want 0", n)
			}
			// Calls go to the new address too.
			if _, err := c.Sessions(context.Background()); err != nil {
				t.Fatalf("Sessions after the move: %v", err)
			}
		})
	}
}

// TestClientSetBaseURLRejectsBadAddress keeps the old address when the new
// one is not a server address.
func TestClientSetBaseURLRejectsBadAddress(t *testing.T) {
	c, err := plex.NewClient("http://127.0.0.1:32400", testToken, plex.ClientInfo{})
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "ftp://x", "http://h:1/?X-Plex-Token=" + testToken} {
		if err := c.SetBaseURL(bad); err == nil {
			t.Errorf("SetBaseURL(%q) = nil, want an error", bad)
		}
		if got := c.BaseURL(); got != "http://127.0.0.1:32400" {
			t.Errorf("after SetBaseURL(%q): BaseURL() = %q, want the old address", bad, got)
		}
	}
}

// TestFeedIdleServerFilteringPings: a server that applies the filters to
// pings (as the parameter is documented) keeps an idle stream quiet unless
// "ping" is asked for. With DefaultFilters the feed stays connected; without
// "ping" its silence watchdog reconnects again and again.
func TestFeedIdleServerFilteringPings(t *testing.T) {
	tests := []struct {
		name    string
		filters []string
		wantMax int32 // connects in the window
		wantMin int32
	}{
		{"default filters ask for ping", nil, 1, 1},
		{"without ping", []string{plex.EventPlaying, plex.EventTranscodeStart, plex.EventTranscodeUpdate, plex.EventTranscodeEnd}, 100, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim := startSim(t, plexsim.Options{PingInterval: 40 * time.Millisecond})
			f := newClient(t, sim, testToken).NewFeed(tt.filters)
			f.Silence, f.MinBackoff, f.MaxBackoff = 250*time.Millisecond, 10*time.Millisecond, 20*time.Millisecond
			var rec recorder
			rec.attach(f)
			ctx, cancel := context.WithTimeout(context.Background(), 1200*time.Millisecond)
			defer cancel()
			_ = f.Run(ctx)
			if n := rec.connects.Load(); n < tt.wantMin || n > tt.wantMax {
				t.Errorf("%d connects in 1.2 s on an idle server, want %d…%d", n, tt.wantMin, tt.wantMax)
			}
		})
	}
}
