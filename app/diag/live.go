package diag

import (
	"slices"
	"time"

	"github.com/plexwarden/plexwarden/app"
)

// liveIndex is what the detector keeps of one server's live sessions: the
// countable ones with a player id, grouped by player id. It follows the
// monitor's updates: an update that says what it changed (app.Update.Delta)
// costs the changed sessions; any other, or one after a gap in Seq, is
// read whole.
type liveIndex struct {
	seq    uint64
	byKey  map[string]app.Session         // by Session.Key
	groups map[string]map[string]struct{} // player id → keys
	multi  map[string]struct{}            // player ids with two or more sessions
}

func newLiveIndex() *liveIndex {
	return &liveIndex{byKey: map[string]app.Session{}, groups: map[string]map[string]struct{}{}, multi: map[string]struct{}{}}
}

// observe brings the index to the update's snapshot.
func (x *liveIndex) observe(up app.Update) {
	sn := up.Snapshot
	if !up.Delta || sn.Seq != x.seq+1 || x.seq == 0 {
		x.rebuild(sn)
		return
	}
	x.seq = sn.Seq
	for i := range up.Changes {
		if c := &up.Changes[i]; c.Kind == app.Ended {
			x.del(c.Session.Key())
		}
	}
	for i := range up.Touched {
		x.put(up.Touched[i])
	}
}

// rebuild reads the snapshot whole.
func (x *liveIndex) rebuild(sn *app.Snapshot) {
	x.seq = sn.Seq
	clear(x.byKey)
	clear(x.groups)
	clear(x.multi)
	for s := range sn.All() {
		x.put(*s)
	}
}

// put adds or updates a listed session.
func (x *liveIndex) put(s app.Session) {
	k := s.Key()
	id := s.Player.MachineIdentifier
	if old, ok := x.byKey[k]; ok && (old.Player.MachineIdentifier != id || id == "" || !countable(s)) {
		x.del(k)
	}
	if id == "" || !countable(s) {
		return
	}
	x.byKey[k] = s
	g := x.groups[id]
	if g == nil {
		g = map[string]struct{}{}
		x.groups[id] = g
	}
	g[k] = struct{}{}
	if len(g) > 1 {
		x.multi[id] = struct{}{}
	}
}

// del forgets a session.
func (x *liveIndex) del(k string) {
	s, ok := x.byKey[k]
	if !ok {
		return
	}
	delete(x.byKey, k)
	id := s.Player.MachineIdentifier
	g := x.groups[id]
	delete(g, k)
	switch len(g) {
	case 0:
		delete(x.groups, id)
		delete(x.multi, id)
	case 1:
		delete(x.multi, id)
	}
}

// count is how many live sessions player id has.
func (x *liveIndex) count(id string) int {
	if x == nil {
		return 0
	}
	return len(x.groups[id])
}

// group returns the sessions of player id in the snapshot's order
// (FirstSeen, then Key).
func (x *liveIndex) group(id string) []app.Session {
	out := make([]app.Session, 0, len(x.groups[id]))
	for k := range x.groups[id] {
		out = append(out, x.byKey[k])
	}
	slices.SortFunc(out, func(a, b app.Session) int {
		if c := a.FirstSeen.Compare(b.FirstSeen); c != 0 {
			return c
		}
		ak, bk := a.Key(), b.Key()
		switch {
		case ak < bk:
			return -1
		case ak > bk:
			return 1
		}
		return 0
	})
	return out
}

// shared checks the player ids with two or more live sessions for two that
// report different products or devices (a shared identifier).
func (d *Detector) shared(x *liveIndex, now time.Time) []Finding {
	var out []Finding
	for id := range x.multi {
		list := x.group(id)
		for i := 0; i < len(list); i++ {
			for j := i + 1; j < len(list); j++ {
				a, b := list[i], list[j]
				if !differs(a.Player.Product, b.Player.Product) && !differs(a.Player.Device, b.Player.Device) {
					continue
				}
				if a.FirstSeen.After(b.FirstSeen) {
					a, b = b, a
				}
				p := d.player(b, now)
				ta, tb := seenAtOr(a, now), seenAtOr(b, now)
				ev := []EvidenceItem{evidence(RoleLive, a, ta), evidence(RoleLive, b, tb)}
				if f, ok := d.collision(p, CauseShared, a, b, 0, ev, []time.Time{ta, tb}, now); ok {
					out = append(out, f)
				}
			}
		}
	}
	return out
}
