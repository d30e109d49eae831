package app

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/plex"
	"github.com/plexwarden/plexwarden/plex/plexsim"
)

// applyDelta is what a subscriber following a monitor's list does with a
// Delta update: drop the sessions Changes ends, put in the Touched ones.
func applyDelta(prev []Session, up Update) []Session {
	next := map[string]Session{}
	for _, s := range prev {
		next[s.Key()] = s
	}
	for _, c := range up.Changes {
		if c.Kind == Ended {
			delete(next, c.Session.Key())
		}
	}
	for _, s := range up.Touched {
		next[s.Key()] = s
	}
	return sortedSessions(next).slice()
}

// iterated returns a snapshot's sessions as its iterator yields them.
func iterated(sn *Snapshot) []Session {
	var out []Session
	for s := range sn.All() {
		out = append(out, *s)
	}
	return out
}

// kept is a published snapshot with a deep copy of its sessions taken
// when it was published.
type kept struct {
	sn   *Snapshot
	list []Session
}

// TestIncrementalSnapshotsEqualFullRebuild drives a monitor over loopback
// with random state changes, seeks, transcode starts and stops, ends, new
// sessions, terminates and transcode progress, and checks every published
// update: its list (as one slice and as its iterator yields it) equals a
// full sort of the monitor's sessions, its Len agrees, a Delta update
// applied to the previous list gives the new one, and every snapshot
// still lists at the end what it listed when published (snapshots share
// their unchanged parts: a later patch must never write into them).
func TestIncrementalSnapshotsEqualFullRebuild(t *testing.T) {
	withChunkSize(t, 4) // 30 sessions and more span many chunks
	sim := startSim(t, plexsim.Options{})
	var keys []string
	add := func(i int) {
		spec := plexsim.SessionSpec{User: fmt.Sprintf("u%d", i%4), Title: fmt.Sprintf("Film %d", i),
			Player: plexsim.PlayerSpec{Title: "P", Product: "Plex Web", MachineID: fmt.Sprintf("m%d", i%7)}}
		if i%3 == 0 {
			spec.Transcode = &plexsim.TranscodeSpec{Video: plexsim.DecisionTranscode}
		}
		keys = append(keys, sim.AddSession(spec).Key)
	}
	for i := range 30 {
		add(i)
	}
	c, err := plex.NewClient(sim.URL(), simToken, plex.ClientInfo{ID: "incremental-test"}, plex.WithTimeout(3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	m := NewMonitor(MonitorConfig{Server: "sim", Source: c, Feed: c.NewFeed(nil), Reconcile: 300 * time.Millisecond, Coalesce: 10 * time.Millisecond, Refresh: -1})
	var (
		mu              sync.Mutex
		prev            *Snapshot
		deltas, rebuilt int
		problems        []string
		snaps           []kept
	)
	m.Subscribe(func(up Update) { // on the monitor's goroutine: m.sessions may be read
		mu.Lock()
		defer mu.Unlock()
		sn := up.Snapshot
		want := sortedSessions(m.sessions).slice()
		if !reflect.DeepEqual(sn.Sessions(), want) && !(len(want) == 0 && len(sn.Sessions()) == 0) {
			problems = append(problems, fmt.Sprintf("seq %d: list differs from a full sort of the sessions (%d vs %d)", sn.Seq, len(sn.Sessions()), len(want)))
		}
		if got := iterated(sn); !reflect.DeepEqual(got, want) && !(len(want) == 0 && len(got) == 0) {
			problems = append(problems, fmt.Sprintf("seq %d: All yields a list that differs from a full sort of the sessions (%d vs %d)", sn.Seq, len(got), len(want)))
		}
		if sn.Len() != len(want) {
			problems = append(problems, fmt.Sprintf("seq %d: Len = %d, want %d", sn.Seq, sn.Len(), len(want)))
		}
		snaps = append(snaps, kept{sn, slices.Clone(want)})
		if up.Delta {
			deltas++
			switch {
			case prev == nil || prev.Seq+1 != sn.Seq:
				problems = append(problems, fmt.Sprintf("seq %d: Delta without the previous snapshot", sn.Seq))
			default:
				if got := applyDelta(prev.Sessions(), up); !reflect.DeepEqual(got, sn.Sessions()) && !(len(got) == 0 && len(sn.Sessions()) == 0) {
					problems = append(problems, fmt.Sprintf("seq %d: previous list + Delta differs from the snapshot", sn.Seq))
				}
			}
		} else {
			rebuilt++
		}
		prev = sn
	})
	prev = m.Snapshot() // the empty one before Run
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	waitUntil(t, "the first sessions", 5*time.Second, func() bool { return len(m.Snapshot().Sessions()) == 30 })

	rng := rand.New(rand.NewPCG(13, 1))
	states := []string{plexsim.StatePlaying, plexsim.StatePaused, plexsim.StateBuffering}
	for step := range 1000 {
		live := sim.Playing()
		if len(live) == 0 {
			add(len(keys))
			continue
		}
		k := string(live[rng.IntN(len(live))].SessionKey)
		switch r := rng.IntN(100); {
		case r < 55:
			_ = sim.SetState(k, states[rng.IntN(len(states))])
		case r < 70:
			_ = sim.Seek(k, rng.Int64N(3_600_000))
		case r < 75:
			_ = sim.EndSession(k)
		case r < 80:
			add(len(keys))
		case r < 84:
			if _, err := sim.StartTranscode(k, plexsim.TranscodeSpec{Video: plexsim.DecisionTranscode}); err != nil {
				_ = sim.StopTranscodeOf(k)
			}
		case r < 88:
			m.MarkLeaving("sim/"+k, LeavingTerminated)
		default:
			sim.Advance(time.Second) // timelines and transcoder progress of every session
		}
		if step%5 == 0 {
			time.Sleep(5 * time.Millisecond) // let events and fetches interleave
		}
	}
	time.Sleep(500 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	for _, p := range problems {
		t.Error(p)
	}
	for _, k := range snaps {
		if got := iterated(k.sn); !reflect.DeepEqual(got, k.list) && !(len(got) == 0 && len(k.list) == 0) {
			t.Errorf("seq %d: the snapshot's list changed after it was published (%d sessions, %d then)", k.sn.Seq, len(got), len(k.list))
		}
	}
	if len(snaps) < 10 {
		t.Errorf("%d snapshots kept, want at least 10", len(snaps))
	}
	if deltas < 5 || rebuilt < 2 {
		t.Errorf("deltas = %d, full = %d: want many of both (the test must exercise both paths)", deltas, rebuilt)
	}
}
