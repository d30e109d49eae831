// Small helpers of the monitor: errors in words, replaced sessions, keys.

package app

import (
	"errors"
	"time"

	"github.com/plexwarden/plexwarden/plex"
)

func errText(err error) string {
	if err == nil {
		return ""
	}
	var pe *plex.Error
	if errors.As(err, &pe) {
		if pe.Detail != "" {
			return pe.Err.Error() + ": " + pe.Detail
		}
		return pe.Err.Error()
	}
	return err.Error()
}

// markReplaced marks, for each player listed with several sessions, all but
// the newest as leaving: a player plays one thing at a time, and one that
// moved to the next episode or replayed after a kill message leaves its
// old session listed for a few seconds. The mark holds while the newer
// session is younger than linger; after that, sessions still sharing a
// player are counted as they are (a collision the diagnostics report).
func markReplaced(fresh map[string]Session, now time.Time, linger time.Duration) {
	// Most players play one thing: find those listed more than once
	// before comparing anything.
	players := make(map[string][]string, len(fresh)) // machineIdentifier → keys
	shared := false
	for k := range fresh {
		s := fresh[k]
		id := s.Player.MachineIdentifier
		if id == "" || s.Leaving != "" {
			continue
		}
		players[id] = append(players[id], k)
		shared = shared || len(players[id]) > 1
	}
	if !shared {
		return
	}
	for _, keys := range players {
		if len(keys) < 2 {
			continue
		}
		n := fresh[keys[0]]
		for _, k := range keys[1:] {
			if s := fresh[k]; newer(s, n) {
				n = s
			}
		}
		if now.Sub(n.FirstSeen) >= linger {
			continue
		}
		for _, k := range keys {
			if s := fresh[k]; k != n.Key() {
				s.Leaving = LeavingReplaced
				fresh[k] = s
			}
		}
	}
}

// newer reports whether a started after b: first seen later, else the
// higher sessionKey (Plex numbers sessions in order).
func newer(a, b Session) bool {
	if !a.FirstSeen.Equal(b.FirstSeen) {
		return a.FirstSeen.After(b.FirstSeen)
	}
	ak, bk := a.Seq(), b.Seq()
	if ak != bk {
		return ak > bk
	}
	return a.Key() > b.Key()
}

// sessionKeyOf is Session.Key of an item without building the Session.
func sessionKeyOf(server string, m *plex.Metadata) string {
	if m.SessionKey != "" {
		return server + "/" + string(m.SessionKey)
	}
	id := ""
	if m.Session != nil {
		id = string(m.Session.ID)
	}
	return server + "/id:" + id
}
