package rules

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/plex"
	"github.com/plexwarden/plexwarden/plex/plexsim"
)

// TestIncrementalEqualsFullMonitor follows a real monitor (on plexsim)
// through random state changes, seeks, ends, new sessions and transcode
// restarts, with periodic fetches, and hands every update to two engines:
// one incremental, one reading every update whole. The rules file has
// every kind and action, in a global dry run so that every change of the
// engines' state happens inside their passes. Their jobs and state must be
// the same after every update.
func TestIncrementalEqualsFullMonitor(t *testing.T) {
	sim := plexsim.New(plexsim.Options{Token: simToken, PlexPass: true, PingInterval: 100 * time.Millisecond})
	if err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	c, err := plex.NewClient(sim.URL(), simToken, plex.ClientInfo{ID: "rules-inc-test"},
		plex.WithHTTPClient(&http.Client{Transport: tr}), plex.WithTimeout(3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	users := []string{"alice", "bob", "carol", "dave", "erin"}
	products := [][2]string{{"Plex Web", "Chrome"}, {"Plex for Roku", "Roku"}, {"Plex for Android", "Android"}}
	n := 0
	add := func() {
		p := products[n%len(products)]
		spec := plexsim.SessionSpec{User: users[n%len(users)], UserID: fmt.Sprint(100 + n%len(users)), Title: fmt.Sprintf("Film %d", n),
			Player: plexsim.PlayerSpec{Title: "P", Product: p[0], Platform: p[1], MachineID: fmt.Sprintf("m%d", n%6)},
			Local:  n%4 == 0}
		if n%3 == 0 {
			spec.Transcode = &plexsim.TranscodeSpec{Video: plexsim.DecisionTranscode}
		}
		n++
		sim.AddSession(spec)
	}
	for range 12 {
		add()
	}

	var mu sync.Mutex // the clock both engines read, moved at every update
	offset := time.Duration(0)
	at := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return at }
	diag := &flagDiag{flags: map[string]bool{"storm sim/m1": true, "collide sim/m2": true, "stormuser sim/erin": true}}
	file := incRulesFile()
	file.DryRun = true
	var jobs [2][]string
	var passes [2]int
	var engines [2]*Engine
	for i := range engines {
		e := NewEngine(Options{Actor: incActor{}, Clock: clock, Location: time.UTC, Diag: diag})
		e.fullOnly = i == 1
		e.passed = func(js []job, incremental bool) {
			if incremental {
				passes[i]++
			}
			for _, j := range js {
				jobs[i] = append(jobs[i], jobString(j))
			}
		}
		t.Cleanup(e.Close)
		if err := e.SetRules(file); err != nil {
			t.Fatal(err)
		}
		engines[i] = e
	}
	jobs = [2][]string{}

	mon := app.NewMonitor(app.MonitorConfig{Server: "sim", Source: c, Feed: c.NewFeed(nil), Reconcile: 400 * time.Millisecond, Coalesce: 5 * time.Millisecond, Refresh: -1, MinFetchInterval: 20 * time.Millisecond})
	var problems []string
	updates, acted := 0, 0
	mon.Subscribe(func(up app.Update) {
		mu.Lock()
		offset += 7 * time.Second // pauses grow long, quotas fill up
		at = time.Now().Add(offset)
		mu.Unlock()
		updates++
		for _, e := range engines {
			e.Observe(up)
		}
		a, b := sortedTake(&jobs[0]), sortedTake(&jobs[1])
		acted += len(b)
		if d := firstDiff(a, b); d != "" && len(problems) < 3 {
			problems = append(problems, fmt.Sprintf("seq %d (delta %v): jobs differ: %s", up.Snapshot.Seq, up.Delta, d))
		}
		if x, y := engines[0].dumpState(), engines[1].dumpState(); x != y && len(problems) < 3 {
			problems = append(problems, fmt.Sprintf("seq %d (delta %v): state differs:\nincremental:\n%s\nfull:\n%s", up.Snapshot.Seq, up.Delta, x, y))
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	done := make(chan error, 1)
	go func() { done <- mon.Run(ctx) }()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			<-done
		}
	}
	t.Cleanup(stop)
	deadline := time.Now().Add(5 * time.Second)
	for len(mon.Snapshot().Sessions()) < 12 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}

	rng := rand.New(rand.NewPCG(13, 17))
	states := []string{plexsim.StatePlaying, plexsim.StatePaused, plexsim.StateBuffering}
	for range 800 {
		live := sim.Playing()
		if len(live) < 4 {
			add()
			continue
		}
		k := string(live[rng.IntN(len(live))].SessionKey)
		switch r := rng.IntN(100); {
		case r < 60:
			_ = sim.SetState(k, states[rng.IntN(len(states))])
		case r < 75:
			_ = sim.Seek(k, rng.Int64N(3_600_000))
		case r < 80:
			_ = sim.EndSession(k)
		case r < 84: // a new session: the monitor fetches the list (not a Delta)
			add()
		case r < 95:
			if _, err := sim.StartTranscode(k, plexsim.TranscodeSpec{Video: plexsim.DecisionTranscode}); err != nil {
				_ = sim.StopTranscodeOf(k)
			}
		default:
			sim.Advance(time.Second)
		}
		time.Sleep(3 * time.Millisecond) // events a few ms apart: mostly one update each
	}
	time.Sleep(500 * time.Millisecond)
	stop()
	for _, e := range engines {
		e.wg.Wait()
	}
	for _, p := range problems {
		t.Error(p)
	}
	if passes[0] < updates/3 || passes[1] != 0 || acted < 20 {
		t.Errorf("%d of %d updates passed incrementally (the reference: %d), %d jobs: want many (none), some", passes[0], updates, passes[1], acted)
	}
	t.Logf("%d updates, %d incremental passes, %d jobs", updates, passes[0], acted)
}
