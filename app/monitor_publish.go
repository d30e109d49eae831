// Snapshots: publishing what changed, at most one snapshot per gap under
// load, with the list kept sorted and patched chunk by chunk.

package app

import (
	"slices"
	"strings"
	"time"
)

func (m *Monitor) setConn(c Conn) {
	if c.LastEvent.IsZero() {
		c.LastEvent = m.conn.LastEvent
	}
	if c.Status != m.conn.Status {
		c.Since = m.cfg.Now()
	} else {
		c.Since = m.conn.Since
	}
	m.conn = c
	m.publish(nil, time.Time{})
}

// publish builds and hands out a new immutable snapshot. After events it
// costs O(log N) per edited session, a copy of its chunk and of the
// chunk headers (N/chunkSize), never a copy of the list; after a
// fetch, which made the list (relist), nothing more. Update.Delta and Touched tell subscribers which sessions
// differ from the previous snapshot, so they need not look at the rest.
func (m *Monitor) publish(changes []Change, eventTime time.Time) {
	m.lastPublish = time.Now()
	if m.stagedOK {
		changes = append(m.staged, changes...)
		if eventTime.IsZero() || (!m.stagedAt.IsZero() && m.stagedAt.Before(eventTime)) {
			eventTime = m.stagedAt
		}
		m.staged, m.stagedAt, m.stagedOK = nil, time.Time{}, false
	}
	m.dirty = false
	m.seq++
	delta := !m.rebuild
	var touched []Session
	switch {
	case m.rebuild: // merge made the list
		touched = nil
	case !m.patch(&touched):
		m.list = sortedSessions(m.sessions)
		touched, delta = nil, false
	}
	m.rebuild = false
	clear(m.edits)
	snap := &Snapshot{Server: m.cfg.Server, URL: *m.url.Load(), Demo: m.cfg.Demo, sessions: m.list, Conn: m.conn, Seq: m.seq, Time: m.cfg.Now()}
	m.last.Store(snap)
	up := Update{Snapshot: snap, Changes: changes, Event: eventTime, Delta: delta, Touched: touched}
	for _, fn := range m.subs {
		fn(up)
	}
	m.publishCost = time.Since(m.lastPublish)
}

// gap is the least time between two snapshots made for events: gapFactor
// times the last one's cost, at most publishGap.
func (m *Monitor) gap() time.Duration {
	return min(publishGap, gapFactor*m.publishCost)
}

// stage records changes applied from an event (at: its arrival) for the
// next publish; flush publishes them.
func (m *Monitor) stage(changes []Change, at time.Time) {
	m.staged = append(m.staged, changes...)
	if !at.IsZero() && (m.stagedAt.IsZero() || at.Before(m.stagedAt)) {
		m.stagedAt = at
	}
	m.stagedOK = true
}

// flush publishes the staged changes, if any.
func (m *Monitor) flush() {
	if m.stagedOK {
		m.publish(nil, time.Time{})
	}
}

// patch makes m.list the published list with m.edits applied: a new
// sessionList (the old one belongs to a published snapshot) sharing
// every chunk but those of the edited sessions, each found by binary
// search and replaced or dropped. It returns the changed sessions still
// listed through touched, or false when an edit is not where the order
// says (then the caller sorts).
func (m *Monitor) patch(touched *[]Session) bool {
	if len(m.edits) == 0 {
		return true // nothing moved: the snapshot shares the list
	}
	edits := make([]edit, 0, len(m.edits))
	for k, old := range m.edits {
		s, ok := m.sessions[k]
		edits = append(edits, edit{old: old, s: s, keep: ok})
	}
	list, ok := m.list.patch(edits, touched)
	if ok {
		m.list = list
	}
	return ok
}

// sortedSessions returns the sessions sorted by FirstSeen, then Key.
func sortedSessions(sessions map[string]Session) sessionList {
	all := make([]Session, 0, len(sessions))
	for _, s := range sessions {
		all = append(all, s)
	}
	// Sort positions, not the sessions (hundreds of bytes each), then
	// place each once.
	idx := make([]int32, len(all))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(a, b int32) int { return compareSessions(all[a], all[b]) })
	list := make([]Session, len(all))
	for i, j := range idx {
		list[i] = all[j]
	}
	return newSessionList(list)
}

// compareSessions orders sessions as a Snapshot lists them: by FirstSeen,
// then Key, without building the keys.
func compareSessions(a, b Session) int {
	if c := a.FirstSeen.Compare(b.FirstSeen); c != 0 {
		return c
	}
	if a.Server != b.Server {
		return strings.Compare(a.Key(), b.Key())
	}
	// Key is Server + "/" + SessionKey, or Server + "/id:" + ID.
	ak, bk := a.SessionKey, b.SessionKey
	switch {
	case ak != "" && bk != "":
		return strings.Compare(ak, bk)
	case ak == "" && bk == "":
		return strings.Compare(a.ID, b.ID)
	}
	return strings.Compare(a.Key(), b.Key())
}
