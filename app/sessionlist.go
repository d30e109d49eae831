// A snapshot's sorted session list, shared between snapshots: a patch
// copies only the chunks it changes.

package app

import (
	"iter"
	"slices"
	"sort"
	"sync"
)

// chunkSize is the most sessions a chunk of a sessionList holds: a patch
// copies the chunks of the sessions it changes (up to chunkSize sessions
// each) and the chunk headers (N/chunkSize). A variable only so that
// tests can make small lists span many chunks. 32 sessions (about 22 KB)
// balance the chunk copied against the headers copied (24 bytes each) for
// 2,000–5,000 sessions: BenchmarkMonitorStateChange allocates 31 KB per
// change at 2,000 sessions with 32, 55 KB with 64.
var chunkSize = 32

// sessionList is an immutable list of sessions sorted by FirstSeen, then
// Key (compareSessions), kept in chunks so that snapshots share what did
// not change: patching k sessions copies at most k chunks and the slice
// of chunk headers, never the whole list. A sessionList and every chunk
// it holds is never written once made; a patch returns a new one.
type sessionList struct {
	chunks [][]Session // each non-empty and full-capacity-capped, in order
	n      int         // sessions in all chunks
	flat   *flatList   // the list as one slice, made once, when first asked
}

// flatList is a sessionList as one contiguous slice, made at most once
// and shared by every snapshot that holds the same list.
type flatList struct {
	once sync.Once
	list []Session // set beforehand when the list was built contiguous
}

// newSessionList returns a list of sorted (kept, not copied: the caller
// gives it up) in chunks that are windows of it, so its flat form costs
// nothing.
func newSessionList(sorted []Session) sessionList {
	l := sessionList{n: len(sorted), flat: &flatList{list: sorted}}
	l.chunks = make([][]Session, 0, (len(sorted)+chunkSize-1)/chunkSize)
	for i := 0; i < len(sorted); i += chunkSize {
		j := min(i+chunkSize, len(sorted))
		l.chunks = append(l.chunks, sorted[i:j:j])
	}
	return l
}

// len returns the number of sessions.
func (l sessionList) len() int { return l.n }

// all yields every session in order; the sessions must not be modified.
func (l sessionList) all() iter.Seq[*Session] {
	return func(yield func(*Session) bool) {
		for _, c := range l.chunks {
			for i := range c {
				if !yield(&c[i]) {
					return
				}
			}
		}
	}
}

// slice returns the list as one slice, made on the first call and shared
// afterwards (by every snapshot holding this list); it must not be
// modified.
func (l sessionList) slice() []Session {
	if l.flat == nil { // the zero list
		return nil
	}
	l.flat.once.Do(func() {
		if l.flat.list != nil || l.n == 0 {
			return
		}
		out := make([]Session, 0, l.n)
		for _, c := range l.chunks {
			out = append(out, c...)
		}
		l.flat.list = out
	})
	return l.flat.list
}

// find returns where s (by its place in the order: FirstSeen and key) is
// listed, by binary search: chunk c, index i within it.
func (l sessionList) find(s *Session) (c, i int, ok bool) {
	c = sort.Search(len(l.chunks), func(j int) bool {
		ch := l.chunks[j]
		return compareSessions(ch[len(ch)-1], *s) >= 0
	})
	if c == len(l.chunks) {
		return c, 0, false
	}
	i, ok = slices.BinarySearchFunc(l.chunks[c], *s, compareSessions)
	return c, i, ok
}

// edit is one session to patch into a sessionList: the one listed like
// old (same FirstSeen and key) becomes s, or is dropped when !keep.
type edit struct {
	old  Session
	s    Session
	keep bool
}

// patch returns the list with edits applied, each edited session found by
// binary search: only the chunks holding them and the chunk headers are
// copied; the rest is shared with l. touched gets the sessions kept, in
// the list's order. It returns false when an edit is not where the order
// says (the caller then builds the list afresh). l is not changed. A
// patch never inserts: a monitor learns of new sessions only from a
// fetch, whose list is built afresh (relist).
func (l sessionList) patch(edits []edit, touched *[]Session) (sessionList, bool) {
	if len(edits) == 0 {
		return l, true // nothing moved: share the list
	}
	type place struct{ c, i, e int }
	at := make([]place, 0, len(edits))
	for e := range edits {
		c, i, ok := l.find(&edits[e].old)
		if !ok {
			return sessionList{}, false
		}
		at = append(at, place{c, i, e})
	}
	slices.SortFunc(at, func(a, b place) int {
		if a.c != b.c {
			return a.c - b.c
		}
		return a.i - b.i
	})
	out := sessionList{n: l.n, flat: &flatList{}}
	chunks := slices.Clone(l.chunks)
	empty := 0
	for p := 0; p < len(at); {
		c := at[p].c
		old := l.chunks[c]
		ch := make([]Session, 0, len(old))
		from := 0
		for ; p < len(at) && at[p].c == c; p++ {
			i, ed := at[p].i, &edits[at[p].e]
			if i < from {
				return sessionList{}, false // the same session edited twice
			}
			ch = append(ch, old[from:i]...)
			from = i + 1
			if ed.keep {
				ch = append(ch, ed.s)
				*touched = append(*touched, ed.s)
			} else {
				out.n--
			}
		}
		ch = append(ch, old[from:]...)
		chunks[c] = ch[:len(ch):len(ch)]
		if len(ch) == 0 {
			empty++
		}
	}
	if empty > 0 {
		chunks = slices.DeleteFunc(chunks, func(ch []Session) bool { return len(ch) == 0 })
	}
	out.chunks = chunks
	// Ends shrink chunks; once they hold half of what they could on
	// average, pack them again (O(N), after at least N/2 ends).
	if len(out.chunks) > 2*(out.n+chunkSize-1)/chunkSize+1 {
		return newSessionList(out.slice()), true
	}
	return out, true
}
