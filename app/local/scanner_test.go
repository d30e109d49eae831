//go:build unix

package local

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/app/local/localtest"
)

// scanCounter records the scans Run publishes.
type scanCounter struct {
	mu    sync.Mutex
	scans []*Scan
}

func (c *scanCounter) add(s *Scan) { c.mu.Lock(); c.scans = append(c.scans, s); c.mu.Unlock() }
func (c *scanCounter) n() int      { c.mu.Lock(); defer c.mu.Unlock(); return len(c.scans) }

// runFor runs a scanner with opts for d, calling during(s) meanwhile, and
// returns how many scans it published.
func runFor(t *testing.T, opts Options, d time.Duration, during func(*Scanner)) int {
	t.Helper()
	var c scanCounter
	opts.OnScan = c.add
	s := NewScanner(opts)
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	if during != nil {
		during(s)
	}
	select {
	case err := <-done:
		if err != context.DeadlineExceeded {
			t.Errorf("Run = %v, want context.DeadlineExceeded", err)
		}
	case <-time.After(d + 5*time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	if s.Last() == nil {
		t.Error("Last() = nil after Run")
	}
	for i := 1; i < len(c.scans); i++ {
		if c.scans[i].Seq <= c.scans[i-1].Seq {
			t.Errorf("scan %d has seq %d after %d", i, c.scans[i].Seq, c.scans[i-1].Seq)
		}
	}
	return c.n()
}

func TestRunAdapts(t *testing.T) {
	nothing := Matcher{Plex: []string{"no such transcoder name"}, FFmpeg: []string{}}
	own := Matcher{Plex: []string{"Plex Transcoder"}, FFmpeg: []string{}}
	localtest.Fake(t, localtest.FakeOptions{})
	tests := []struct {
		name     string
		opts     Options
		trigger  bool
		min, max int
	}{
		// 2 s: fast is 300 ms while transcoders run, slow 1 h when none.
		{"transcoders: fast", Options{Matcher: own, Fast: 300 * time.Millisecond, Slow: time.Hour}, false, 5, 8},
		{"none: slow", Options{Matcher: nothing, Fast: 300 * time.Millisecond, Slow: time.Hour}, false, 1, 1},
		// Two triggers make one more scan, or two when the second arrives
		// while the first one's scan runs (it may report a later change).
		{"trigger: one more", Options{Matcher: nothing, Fast: 300 * time.Millisecond, Slow: time.Hour}, true, 2, 3},
		{"never closer than MinInterval", Options{Matcher: own, Fast: time.Nanosecond, Slow: time.Nanosecond}, false, 2, int(2*time.Second/MinInterval) + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n := runFor(t, tt.opts, 2*time.Second, func(s *Scanner) {
				if tt.trigger {
					time.Sleep(500 * time.Millisecond)
					s.Trigger()
					s.Trigger() // coalesced
				}
			})
			if n < tt.min || n > tt.max {
				t.Errorf("%d scans in 2 s, want %d…%d", n, tt.min, tt.max)
			}
		})
	}
}

func TestSample(t *testing.T) {
	p := localtest.Fake(t, localtest.FakeOptions{})
	s := NewScanner(Options{})
	sc, err := s.Sample(context.Background(), 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if tr := sc.Find(p.PID); tr == nil || !tr.CPUSampled {
		t.Errorf("Sample: PID %d = %+v, want a CPU sample", p.PID, tr)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Sample(ctx, time.Hour); err == nil {
		t.Error("Sample with a cancelled context: no error")
	}
}

// A source that finds no Plex server on this computer makes the scan say
// Plex runs elsewhere; any other failure does not.
func TestScanPlexElsewhere(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"no local server", fmt.Errorf("wrapped: %w", ErrNoLocalServer), true},
		{"server unreachable", errors.New("connection refused"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			live := LiveFunc(func(context.Context) (*Live, error) { return nil, tt.err })
			sc, err := NewScanner(Options{Live: live, Matcher: Matcher{Plex: []string{"no-such-transcoder"}, FFmpeg: []string{}}}).Scan(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if sc.Plex.Elsewhere != tt.want || sc.Plex.Err != tt.err.Error() {
				t.Errorf("Plex = %+v, want elsewhere %v and the error", sc.Plex, tt.want)
			}
		})
	}
}
