package app

import (
	"fmt"
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
type Snapshot struct {
	Server   string    // server name as configured
	URL      string    // base URL, token-free
	Demo     bool      // the built-in simulated server
	Sessions []Session // sorted by FirstSeen, then Key
	Conn     Conn
	Seq      uint64 // increases with every snapshot of this server
	Time     time.Time
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

// Sessions returns all sessions of all servers.
func (s *State) Sessions() []Session {
	n := 0
	for _, sn := range s.Servers {
		n += len(sn.Sessions)
	}
	out := make([]Session, 0, n)
	for _, sn := range s.Servers {
		out = append(out, sn.Sessions...)
	}
	return out
}

// Counts returns the number of sessions and of transcodes.
func (s *State) Counts() (streams, transcodes int) {
	for _, sn := range s.Servers {
		for i := range sn.Sessions {
			streams++
			if sn.Sessions[i].Transcoding() {
				transcodes++
			}
		}
	}
	return
}
