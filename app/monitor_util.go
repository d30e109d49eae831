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
	newest := map[string]Session{}
	for _, s := range fresh {
		id := s.Player.MachineIdentifier
		if id == "" || s.Leaving != "" {
			continue
		}
		if n, ok := newest[id]; !ok || newer(s, n) {
			newest[id] = s
		}
	}
	for k, s := range fresh {
		id := s.Player.MachineIdentifier
		n, ok := newest[id]
		if id == "" || s.Leaving != "" || !ok || n.Key() == s.Key() || now.Sub(n.FirstSeen) >= linger {
			continue
		}
		s.Leaving = LeavingReplaced
		fresh[k] = s
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
