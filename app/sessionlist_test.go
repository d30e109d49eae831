package app

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"
)

// withChunkSize sets chunkSize to n for the test t.
func withChunkSize(t *testing.T, n int) {
	old := chunkSize
	chunkSize = n
	t.Cleanup(func() { chunkSize = old })
}

// listSession is session number i of the random tests: FirstSeen and key
// from i, so the order is known.
func listSession(i, version int) Session {
	return Session{Server: "s", SessionKey: fmt.Sprintf("%05d", i), FirstSeen: time.Unix(int64(i/3), 0),
		State: fmt.Sprint(version), ViewOffsetMs: int64(version)}
}

// checkList compares l, read every way (its iterator, its slice, Len, its
// chunks' shape), with want.
func checkList(t *testing.T, step int, l sessionList, want []Session) {
	t.Helper()
	n := 0
	for s := range l.all() {
		if n >= len(want) || !sameListed(*s, want[n]) {
			var got []Session
			for s := range l.all() {
				got = append(got, *s)
			}
			t.Fatalf("step %d: all yields %v, want %v", step, keysOf(got), keysOf(want))
		}
		n++
	}
	if n != len(want) {
		t.Fatalf("step %d: all yields %d sessions, want %d", step, n, len(want))
	}
	if flat := l.slice(); !slices.EqualFunc(flat, want, sameListed) {
		t.Fatalf("step %d: slice has %d sessions, want %d", step, len(flat), len(want))
	}
	if l.len() != len(want) {
		t.Fatalf("step %d: len = %d, want %d", step, l.len(), len(want))
	}
	for c, ch := range l.chunks {
		if len(ch) == 0 || len(ch) > chunkSize || cap(ch) != len(ch) {
			t.Fatalf("step %d: chunk %d has %d sessions (capacity %d), want 1..%d with no room to append", step, c, len(ch), cap(ch), chunkSize)
		}
	}
	if most := 2*(len(want)+chunkSize-1)/chunkSize + 1; len(l.chunks) > most {
		t.Fatalf("step %d: %d chunks for %d sessions, want at most %d", step, len(l.chunks), len(want), most)
	}
}

// sameListed compares what the random tests vary: the place in the order
// and the version.
func sameListed(a, b Session) bool {
	return a.SessionKey == b.SessionKey && a.FirstSeen.Equal(b.FirstSeen) && a.State == b.State && a.ViewOffsetMs == b.ViewOffsetMs
}

// keysOf lists the first sessions of list as key@version, for messages.
func keysOf(list []Session) []string {
	var out []string
	for i, s := range list {
		if i == 40 {
			out = append(out, fmt.Sprintf("… (%d in all)", len(list)))
			break
		}
		out = append(out, s.SessionKey+"@"+s.State)
	}
	return out
}

// TestSessionListRandom drives a sessionList through thousands of random
// patches (changes and ends of a few sessions at a time, the same
// session more than once) and rebuilds (new sessions), against a plain
// sorted slice, and checks after every step that the new list matches
// and that every list made before still lists what it did: a patch
// shares the unchanged chunks and never writes into them.
func TestSessionListRandom(t *testing.T) {
	for _, tc := range []struct {
		seed  uint64
		chunk int
	}{{1, 64}, {2, 64}, {3, 5}, {4, 1}} {
		t.Run(fmt.Sprintf("seed %d, chunks of %d", tc.seed, tc.chunk), func(t *testing.T) {
			withChunkSize(t, tc.chunk)
			seed := tc.seed
			rng := rand.New(rand.NewPCG(seed, 13))
			next, version := 0, 0
			var want []Session
			grow := func(n int) {
				for range n {
					version++
					want = append(want, listSession(next, version))
					next++
				}
			}
			grow(rng.IntN(400))
			l := newSessionList(slices.Clone(want))
			type past struct {
				l    sessionList
				want []Session
			}
			var kept []past
			for step := range 2000 {
				switch r := rng.IntN(100); {
				case r < 5: // a fetch with new sessions: relist
					if len(want) < 600 { // else a fetch with nothing new
						grow(1 + rng.IntN(60))
					}
					fresh := map[string]Session{}
					for _, s := range want {
						fresh[s.Key()] = s
					}
					l = relist(l, fresh)
				case r < 7: // a full sort
					fresh := map[string]Session{}
					for _, s := range want {
						fresh[s.Key()] = s
					}
					l = sortedSessions(fresh)
				default: // events: change or end a few sessions
					if len(want) == 0 {
						grow(1)
						l = newSessionList(slices.Clone(want))
						break
					}
					var edits []edit
					edited := map[int]bool{}
					for range 1 + rng.IntN(min(8, len(want))) {
						i := rng.IntN(len(want))
						if edited[i] {
							continue // a monitor edits a session once per publish (by key)
						}
						edited[i] = true
						version++
						e := edit{old: want[i], keep: rng.IntN(100) < 70}
						if e.keep {
							e.s = want[i]
							e.s.State, e.s.ViewOffsetMs = fmt.Sprint(version), int64(version)
						}
						edits = append(edits, e)
					}
					var touched []Session
					nl, ok := l.patch(edits, &touched)
					if !ok {
						t.Fatalf("step %d: patch found an edit out of place", step)
					}
					var wantTouched []Session
					at := make([]int, len(edits))
					for j, e := range edits {
						at[j], _ = slices.BinarySearchFunc(want, e.old, compareSessions)
					}
					for j, e := range edits {
						i := at[j]
						if e.keep {
							want[i] = e.s
						} else {
							want[i].SessionKey = "" // dropped below
						}
					}
					want = slices.DeleteFunc(want, func(s Session) bool { return s.SessionKey == "" })
					for _, s := range want {
						for _, e := range edits {
							if e.keep && e.s.SessionKey == s.SessionKey {
								wantTouched = append(wantTouched, s)
							}
						}
					}
					if !reflect.DeepEqual(touched, wantTouched) {
						t.Fatalf("step %d: touched %v, want %v", step, keysOf(touched), keysOf(wantTouched))
					}
					l = nl
				}
				checkList(t, step, l, want)
				if step%50 == 0 {
					kept = append(kept, past{l, slices.Clone(want)})
				}
				if step%10 == 0 {
					for _, p := range kept[max(0, len(kept)-3):] {
						checkList(t, step, p.l, p.want)
					}
				}
			}
			for _, p := range kept {
				checkList(t, -1, p.l, p.want)
			}
			t.Logf("%d sessions at the end, %d chunks", len(want), len(l.chunks))
		})
	}
}

// TestSessionListPatchOutOfPlace: an edit not where the order says (its
// FirstSeen changed) is refused, and the list is left as it was.
func TestSessionListPatchOutOfPlace(t *testing.T) {
	want := []Session{listSession(0, 0), listSession(1, 0), listSession(2, 0)}
	l := newSessionList(slices.Clone(want))
	moved := want[1]
	moved.FirstSeen = moved.FirstSeen.Add(time.Hour)
	var touched []Session
	if _, ok := l.patch([]edit{{old: moved, s: moved, keep: true}}, &touched); ok {
		t.Errorf("patch of a session out of place = ok, want refused")
	}
	checkList(t, 0, l, want)
}
