// Sessions of a server that is down: they are what was last known, not
// what plays now (issue 14.3). Fyne-free.

package ui

import (
	"time"

	"github.com/plexwarden/plexwarden/app"
)

// serverDown reports whether sn's sessions are stale: the server cannot
// be reached or refuses the token, so nothing is known of them now. A
// first connect (Connecting) has none yet.
func serverDown(sn *app.Snapshot) bool {
	switch sn.Conn.Status {
	case app.Connected, app.Connecting:
		return false
	}
	return true
}

// lastKnown is when the sessions of a down server were last known: its
// last event, else when it went down.
func lastKnown(sn *app.Snapshot) time.Time {
	if !sn.Conn.LastEvent.IsZero() {
		return sn.Conn.LastEvent
	}
	return sn.Conn.Since
}

// downServers maps each down server of st to when its sessions were last
// known; nil when all are up.
func downServers(st *app.State) map[string]time.Time {
	var down map[string]time.Time
	for _, sn := range st.Servers {
		if serverDown(sn) {
			if down == nil {
				down = map[string]time.Time{}
			}
			down[sn.Server] = lastKnown(sn)
		}
	}
	return down
}

// lastKnownText is the State cell of a stale session: "last known at
// 12:03" (in loc; nil is local time), or "last known" without a time.
func lastKnownText(at time.Time, loc *time.Location) string {
	if at.IsZero() {
		return "last known"
	}
	if loc == nil {
		loc = time.Local
	}
	return "last known at " + at.In(loc).Format("15:04")
}

// downReason says why actions on a session of server are off.
func downReason(server string) string {
	return server + " is down: its sessions are as last known, and actions wait until it is back."
}
