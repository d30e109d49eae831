package app

import (
	"fmt"
	"iter"
	"time"
)

// ConnStatus is the state of one server's connection.
type ConnStatus int

// Connection states, in the order a healthy start goes through them.
const (
	Connecting   ConnStatus = iota // first connect in progress
	Connected                      // event stream open
	Reconnecting                   // stream lost, retrying (NextRetry set)
	Unauthorized                   // token rejected: retried slowly (NextRetry) until it works or the user acts
	Unreachable                    // server does not answer; retrying
	Stopped                        // monitor ended
	NoToken                        // no token is known for the server: nothing is sent until the user acts
)

// String returns the status in words.
func (c ConnStatus) String() string {
	switch c {
	case Connecting:
		return "connecting"
	case Connected:
		return "connected"
	case Reconnecting:
		return "reconnecting"
	case Unauthorized:
		return "token rejected"
	case Unreachable:
		return "unreachable"
	case Stopped:
		return "stopped"
	case NoToken:
		return "no token"
	}
	return "unknown"
}

// Problem reports whether the status needs the admin's attention.
func (c ConnStatus) Problem() bool { return c == Unauthorized || c == Unreachable || c == NoToken }

// Conn describes one server's connection for the status line.
type Conn struct {
	Status    ConnStatus
	Err       string    // last error in words, token-free
	NextRetry time.Time // when Reconnecting/Unreachable
	LastEvent time.Time // last event (pings included)
	Since     time.Time // when Status was entered
}

// TokenRejectedHint is the status detail of a server that rejected its
// token while it was being watched: the monitor keeps trying.
const TokenRejectedHint = "token rejected — retrying; sign in again if it persists"

// Line returns the status line text, e.g. "connected · last event 12:03:04",
// or "token rejected — retrying; sign in again if it persists (next try in 5m0s)".
func (c Conn) Line(now time.Time) string {
	if c.Status == Unauthorized && c.Err == TokenRejectedHint {
		s := TokenRejectedHint
		if d := c.NextRetry.Sub(now).Round(time.Second); !c.NextRetry.IsZero() && d > 0 {
			s += fmt.Sprintf(" (next try in %s)", d)
		}
		if !c.LastEvent.IsZero() {
			s += " · last event " + c.LastEvent.Format("15:04:05")
		}
		return s
	}
	s := c.Status.String()
	if !c.NextRetry.IsZero() && (c.Status == Reconnecting || c.Status == Unreachable) {
		if d := c.NextRetry.Sub(now).Round(time.Second); d > 0 {
			s += fmt.Sprintf(" (retry in %s)", d)
		} else {
			s += " (retrying)"
		}
	}
	if c.Err != "" && c.Status != Connected {
		s += ": " + c.Err
	}
	if !c.LastEvent.IsZero() {
		s += " · last event " + c.LastEvent.Format("15:04:05")
	}
	return s
}

// Snapshot is one server's state at one moment. It is immutable once
// published: subscribers may keep it and read it from any goroutine.
//
// Its sessions, sorted by FirstSeen, then Key, are read through Len, All,
// Find and Sessions. Snapshots of one server share the sessions that did
// not change between them (a monitor's snapshot after an event copies
// only a few chunks of the list), so a subscriber that follows
// Update.Delta pays for what changed, not for the whole list.
type Snapshot struct {
	Server   string // server name as configured
	URL      string // base URL, token-free
	Demo     bool   // the built-in simulated server
	Conn     Conn
	Seq      uint64 // increases with every snapshot of this server
	Time     time.Time
	sessions sessionList
}

// WithSessions returns a copy of s listing sessions in the order given,
// which should be FirstSeen, then Key, as a monitor lists them: for tests
// and for producers of snapshots other than a Monitor. A slice passed as
// sessions... is kept, not copied, and must not be modified afterwards.
func (s Snapshot) WithSessions(sessions ...Session) *Snapshot {
	s.sessions = newSessionList(sessions)
	return &s
}

// Len returns the number of sessions.
func (s *Snapshot) Len() int { return s.sessions.len() }

// All yields the sessions in order without copying them: a pointer to
// each, which must not be modified. For readers that need only a pass,
// and for those that run on every update.
func (s *Snapshot) All() iter.Seq[*Session] { return s.sessions.all() }

// Sessions returns the sessions in order as one slice, which must not be
// modified. The slice is made on the first call (O(N)) and shared by
// every later call and by the snapshots that list the same sessions;
// readers that run on every update should use All or follow
// Update.Delta instead.
func (s *Snapshot) Sessions() []Session { return s.sessions.slice() }

// Find returns the listed session with key (Session.Key).
func (s *Snapshot) Find(key string) (Session, bool) {
	for x := range s.All() {
		if x.Key() == key {
			return *x, true
		}
	}
	return Session{}, false
}

// ChangeKind says how a session changed between two snapshots.
type ChangeKind int

// Kinds of change.
const (
	Started ChangeKind = iota
	Changed
	Ended
)

// String returns "started", "changed" or "ended".
func (k ChangeKind) String() string {
	return [...]string{"started", "changed", "ended"}[k]
}

// Change is one session's lifecycle step. For Ended, Session is the last
// known state.
type Change struct {
	Kind    ChangeKind
	Session Session
	Prev    *Session // for Changed: the state before
}

// Update is what a monitor publishes: the new snapshot and what changed
// since the previous one (empty when only the connection changed).
type Update struct {
	Snapshot *Snapshot
	Changes  []Change
	// Event is the time the SSE event that caused this update arrived,
	// zero for polls; used to measure reaction time.
	Event time.Time
	// Delta: the snapshot differs from the server's previous one (Seq-1)
	// only in the sessions of Touched (their new values, play position
	// and transcode progress included) and those Changes ends, so a
	// subscriber that follows the list can apply just those (O(changed))
	// instead of reading every session. False after a fetch, and in any
	// update not made by a Monitor: then anything may differ.
	Delta bool
	// Touched are the sessions whose values changed since Seq-1, when
	// Delta, in the snapshot's order.
	Touched []Session
}

// State aggregates the latest snapshot of every server for the UI and tray.
type State struct {
	Servers []*Snapshot // in configuration order
	Time    time.Time
}

// Sessions returns all sessions of all servers, in a new slice.
func (s *State) Sessions() []Session {
	n := 0
	for _, sn := range s.Servers {
		n += sn.Len()
	}
	out := make([]Session, 0, n)
	for _, sn := range s.Servers {
		for x := range sn.All() {
			out = append(out, *x)
		}
	}
	return out
}

// All yields every session of every server, in configuration order, then
// each server's order, without copying them: a pointer to each, which
// must not be modified.
func (s *State) All() iter.Seq[*Session] {
	return func(yield func(*Session) bool) {
		for _, sn := range s.Servers {
			for x := range sn.All() {
				if !yield(x) {
					return
				}
			}
		}
	}
}

// Counts returns the number of sessions and of transcodes.
func (s *State) Counts() (streams, transcodes int) {
	for x := range s.All() {
		streams++
		if x.Transcoding() {
			transcodes++
		}
	}
	return
}
