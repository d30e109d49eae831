package diag_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/app/diag"
	"github.com/plexwarden/plexwarden/plex"
	"github.com/plexwarden/plexwarden/plex/plexsim"
)

// stepClock is a clock that moves 10 ms at every reading, the same for
// every detector that reads it the same number of times.
func stepClock() func() time.Time {
	t := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	return func() time.Time { t = t.Add(10 * time.Millisecond); return t }
}

// TestIncrementalEqualsFull follows a real monitor through random state
// changes, seeks, ends, new sessions on shared player ids (some with
// another product: shared-identifier collisions) and transcode restarts,
// with two detectors: one takes the updates as published (following the
// live sessions from Delta updates), the other the same updates marked
// not Delta (reading every snapshot whole, as before). Their findings and
// player summaries must be the same after every update.
func TestIncrementalEqualsFull(t *testing.T) {
	sim := plexsim.New(plexsim.Options{Token: "sim-token", PlexPass: true, PingInterval: 100 * time.Millisecond})
	if err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	c, err := plex.NewClient(sim.URL(), "sim-token", plex.ClientInfo{ID: "diag-test"},
		plex.WithHTTPClient(&http.Client{Transport: tr}), plex.WithTimeout(3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	products := []string{"Plex Web", "Plex for Roku", "Plex Web"}
	n := 0
	add := func() {
		spec := plexsim.SessionSpec{User: fmt.Sprintf("u%d", n%3), Title: fmt.Sprintf("Film %d", n),
			Player: plexsim.PlayerSpec{Title: "P", Product: products[n%len(products)], MachineID: fmt.Sprintf("m%d", n%5)}}
		if n%2 == 0 {
			spec.Transcode = &plexsim.TranscodeSpec{Video: plexsim.DecisionTranscode}
		}
		n++
		sim.AddSession(spec)
	}
	for range 12 {
		add()
	}
	mon := app.NewMonitor(app.MonitorConfig{Server: "sim", Source: c, Feed: c.NewFeed(nil), Reconcile: 400 * time.Millisecond, Coalesce: 10 * time.Millisecond, Refresh: -1})
	opts := diag.Options{StormSessions: 6, StormTranscodes: 6, StormWindow: 30 * time.Second}
	inc, full := opts, opts
	inc.Clock, full.Clock = stepClock(), stepClock()
	di, df := diag.New(inc), diag.New(full)
	var (
		mu       sync.Mutex
		problems []string
		deltas   int
		found    int
	)
	ids := func(fs []diag.Finding) []string {
		var out []string
		for _, f := range fs {
			out = append(out, f.ID+" "+f.Summary+fmt.Sprint(f.Evidence))
		}
		slices.Sort(out)
		return out
	}
	mon.Subscribe(func(up app.Update) {
		mu.Lock()
		defer mu.Unlock()
		if up.Delta {
			deltas++
		}
		whole := up
		whole.Delta, whole.Touched = false, nil
		gi, gf := di.Observe(up), df.Observe(whole)
		found += len(gf)
		if a, b := ids(gi), ids(gf); !reflect.DeepEqual(a, b) {
			problems = append(problems, fmt.Sprintf("seq %d: findings %q, reading the snapshot whole %q", up.Snapshot.Seq, a, b))
		}
		if a, b := di.Players(), df.Players(); !reflect.DeepEqual(a, b) {
			problems = append(problems, fmt.Sprintf("seq %d: players %+v, reading the snapshot whole %+v", up.Snapshot.Seq, a, b))
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	done := make(chan error, 1)
	go func() { done <- mon.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	deadline := time.Now().Add(5 * time.Second)
	for len(mon.Snapshot().Sessions()) < 12 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}

	rng := rand.New(rand.NewPCG(7, 11))
	states := []string{plexsim.StatePlaying, plexsim.StatePaused, plexsim.StateBuffering}
	for step := range 800 {
		live := sim.Playing()
		if len(live) == 0 {
			add()
			continue
		}
		k := string(live[rng.IntN(len(live))].SessionKey)
		switch r := rng.IntN(100); {
		case r < 55:
			_ = sim.SetState(k, states[rng.IntN(len(states))])
		case r < 65:
			_ = sim.Seek(k, rng.Int64N(3_600_000))
		case r < 72:
			_ = sim.EndSession(k)
		case r < 82:
			add()
		case r < 90:
			if _, err := sim.StartTranscode(k, plexsim.TranscodeSpec{Video: plexsim.DecisionTranscode}); err != nil {
				_ = sim.StopTranscodeOf(k)
			}
		default:
			sim.Advance(time.Second)
		}
		if step%5 == 0 {
			time.Sleep(5 * time.Millisecond)
		}
	}
	time.Sleep(500 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if len(problems) > 0 {
		t.Errorf("%d updates differ; the first: %s", len(problems), strings.Join(problems[:min(3, len(problems))], "\n"))
	}
	if deltas < 5 || found == 0 {
		t.Errorf("deltas = %d, findings = %d: want both (the test must exercise the incremental path and find something)", deltas, found)
	}
}
