package diag_test

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/app/diag"
)

// TestFlaggedEqualsConditions plays random starts, ends, replacements by
// another product, transcode restarts, waits and clocks set back into a
// detector with low thresholds and room for few players, and checks after
// every step that Flagged lists exactly the players and users Storming,
// StormingUser and Colliding answer true for.
func TestFlaggedEqualsConditions(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			f := newFeeder(diag.Options{StormSessions: 4, StormTranscodes: 4, StormPlayers: 2,
				StormWindow: time.Minute, Hold: 30 * time.Second, Retain: 2 * time.Minute, MaxPlayers: 6})
			ids := []string{"m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7", ""}
			users := []string{"alice", "bob", "", "(unknown user)"}
			products := []string{"Plex Web", "Plex for Roku"}
			seen := map[string]int{}
			for step := range 3000 {
				switch r := rng.IntN(10); {
				case len(f.live) == 0 || (r < 4 && len(f.live) < 12):
					p := app.Player{MachineIdentifier: ids[rng.IntN(len(ids))], Product: products[rng.IntN(2)], Device: "D"}
					s := movie(f.nextKey(), p)
					s.User = users[rng.IntN(len(users))]
					if rng.IntN(2) == 0 {
						s = transcoding(s, "tc"+f.nextKey())
					}
					f.start(s)
				case r < 7:
					f.end(f.live[rng.IntN(len(f.live))].SessionKey)
				case r < 9:
					f.retranscode(f.live[rng.IntN(len(f.live))].SessionKey, "tc"+f.nextKey())
				default:
					f.tick()
				}
				switch r := rng.IntN(50); {
				case r == 0:
					f.wait(-time.Duration(rng.IntN(60)) * time.Second) // the clock set back
				case r < 5:
					f.wait(time.Duration(rng.IntN(120)) * time.Second)
				default:
					f.wait(time.Duration(rng.IntN(3000)) * time.Millisecond)
				}
				got := f.det.Flagged()
				want := diag.Flags{}
				add := func(m *map[diag.FlagKey]bool, id string) {
					if *m == nil {
						*m = map[diag.FlagKey]bool{}
					}
					(*m)[diag.FlagKey{Server: "srv", ID: id}] = true
				}
				for _, id := range ids {
					if f.det.Storming("srv", id) {
						add(&want.Storming, id)
					}
					if f.det.Colliding("srv", id) {
						add(&want.Colliding, id)
					}
				}
				for _, u := range users {
					if f.det.StormingUser("srv", u) {
						add(&want.StormingUsers, u)
					}
				}
				for name, pair := range map[string][2]map[diag.FlagKey]bool{
					"Storming": {got.Storming, want.Storming}, "StormingUsers": {got.StormingUsers, want.StormingUsers},
					"Colliding": {got.Colliding, want.Colliding}} {
					if !maps.Equal(pair[0], pair[1]) {
						t.Fatalf("step %d: Flagged().%s = %v, want %v", step, name, slices.Collect(maps.Keys(pair[0])), slices.Collect(maps.Keys(pair[1])))
					}
					if len(pair[0]) > 0 {
						seen[name]++
					}
				}
			}
			for _, name := range []string{"Storming", "StormingUsers", "Colliding"} {
				if seen[name] < 20 {
					t.Errorf("%s flagged in %d steps, want at least 20 (the test must exercise it)", name, seen[name])
				}
			}
			t.Logf("steps with flags: %v", seen)
		})
	}
}
