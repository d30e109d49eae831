// What the event stream says: playing, transcode and leave events applied
// to the monitor's sessions between fetches.

package app

import (
	"errors"
	"time"

	"github.com/plexwarden/plexwarden/plex"
)

// handle applies one feed message; it reports whether a fetch is needed
// and the event time that triggered it.
func (m *Monitor) handle(msg feedMsg) (time.Time, bool) {
	now := m.cfg.Now()
	switch {
	case msg.leave != nil:
		m.leaving[msg.leave.key] = leaveMark{why: msg.leave.why, until: now.Add(m.cfg.Linger)}
		if s, ok := m.sessions[msg.leave.key]; ok && s.Leaving == "" {
			prev := s
			s.Leaving = msg.leave.why
			m.put(s)
			m.stage([]Change{{Kind: Changed, Session: s, Prev: &prev}}, time.Time{})
		}
		return time.Time{}, false
	case msg.connect:
		m.feedUp, m.accepted = true, true
		c := m.conn
		if c.Status != Connected {
			m.setConn(Conn{Status: Connected, LastEvent: c.LastEvent})
		}
		return time.Time{}, true // resync: Plex does not replay missed events
	case msg.state != nil:
		m.feedUp = false
		s := msg.state
		c := Conn{Status: Reconnecting, NextRetry: s.NextRetry, LastEvent: m.conn.LastEvent}
		if s.Err != nil {
			c.Err = errText(s.Err)
			if errors.Is(s.Err, plex.ErrUnreachable) || errors.Is(s.Err, plex.ErrTimeout) || errors.Is(s.Err, plex.ErrUntrustedCert) {
				c.Status = Unreachable
			}
		}
		switch s.Status {
		case plex.FeedConnecting:
			c = Conn{Status: Connecting}
		case plex.FeedUnauthorized:
			if m.rejectedAtStart(s.Err) {
				return time.Time{}, false
			}
			c = Conn{Status: Unauthorized, Err: TokenRejectedHint, NextRetry: s.NextRetry, LastEvent: m.conn.LastEvent}
		case plex.FeedStopped:
			return time.Time{}, false
		}
		m.setConn(c)
		return time.Time{}, false
	}
	m.conn.LastEvent = now
	ev := msg.ev
	switch {
	case ev.Playing != nil:
		return m.onPlaying(ev.Playing, msg.at, now)
	case ev.Transcode != nil:
		return m.onTranscode(ev.Name, ev.Transcode, msg.at)
	case ev.Name == plex.EventPing:
		m.dirty = true // carries the new LastEvent to the status line, coalesced
	}
	return time.Time{}, false
}

func (m *Monitor) findKey(sessionKey string) (Session, bool) {
	s, ok := m.sessions[m.cfg.Server+"/"+sessionKey]
	return s, ok
}

func (m *Monitor) onPlaying(p *plex.PlayState, at, now time.Time) (time.Time, bool) {
	key := string(p.SessionKey)
	s, known := m.findKey(key)
	if !known && p.State != "stopped" {
		// The player reports it playing again: a stop seen before was not
		// the end (a phantom stop), so a fetch may bring it back.
		delete(m.tombstones, m.cfg.Server+"/"+key)
	}
	if !known {
		// A new session (or one we missed): only /status/sessions has its
		// user, player, title and Session id. A "stopped" for a key not
		// known yet (it started and stopped between two fetches, or a
		// phantom stop under a new key) needs no fetch, but the list may
		// still show the session for a few seconds: it is gone.
		if p.State == "stopped" {
			m.tombstones[m.cfg.Server+"/"+key] = time.Now()
			return time.Time{}, false
		}
		return m.await(awaited{key: m.cfg.Server + "/" + key}, at)
	}
	switch {
	case p.State == "stopped":
		m.remove(s)
		m.tombstones[s.Key()] = time.Now()
		if m.fetching {
			m.again = true
		}
		m.stage([]Change{{Kind: Ended, Session: s}}, at)
		return at, true // confirm, and catch a new sessionKey after seek-to-end
	case plex.TranscodeID(p.TranscodeSession) != s.TranscodeKey:
		return at, true // transcode started, stopped or restarted: re-read
	case p.State != "" && p.State != s.State:
		prev := s
		s.State, s.StateSince, s.ViewOffsetMs = p.State, now, int64(p.ViewOffset)
		m.put(s)
		m.localAt[s.Key()] = time.Now()
		if m.fetching {
			m.again = true // the fetch under way may predate this change
		}
		m.stage([]Change{{Kind: Changed, Session: s, Prev: &prev}}, at)
	default:
		if int64(p.ViewOffset) != s.ViewOffsetMs {
			s.ViewOffsetMs = int64(p.ViewOffset)
			m.put(s)
			m.dirty = true
		}
		return at, m.refreshDue()
	}
	return time.Time{}, false
}

// await asks for a fetch for a session or transcode
// that an event named and the monitor does not know. While a fetch is
// under way and its list has not come, the key waits for that list
// instead: an event is sent after its session exists, so the list under
// way may well have it, and settle asks for one more fetch only if not.
func (m *Monitor) await(key awaited, at time.Time) (time.Time, bool) {
	if !m.fetching || m.listed {
		return at, true
	}
	if t, ok := m.awaiting[key]; !ok || at.Before(t) {
		m.awaiting[key] = at
	}
	return time.Time{}, false
}

// settle runs after a fetch's list is merged: the sessions and transcodes
// events named meanwhile that it lacks ask for one more fetch.
func (m *Monitor) settle() {
	for k, at := range m.awaiting {
		var ok bool
		if k.transcode {
			_, ok = m.byTranscode[k.key]
		} else if _, ok = m.sessions[k.key]; !ok {
			_, ok = m.tombstones[k.key]
		}
		if !ok {
			m.again = true
			if m.eventTime.IsZero() || at.Before(m.eventTime) {
				m.eventTime = at
			}
		}
	}
	clear(m.awaiting)
}

// refreshDue reports whether a report of a known session should re-read
// the list: what no event carries (bandwidth) changes too.
func (m *Monitor) refreshDue() bool {
	return m.cfg.Refresh > 0 && !m.fetching && time.Since(m.lastFetch) >= m.cfg.Refresh
}

func (m *Monitor) onTranscode(name string, t *plex.TranscodeSession, at time.Time) (time.Time, bool) {
	id := t.ID()
	var s Session
	found := false
	if k, ok := m.byTranscode[id]; ok && id != "" {
		s, found = m.sessions[k]
	}
	switch {
	case !found:
		if name == plex.EventTranscodeEnd {
			return time.Time{}, false
		}
		if id == "" {
			return at, true
		}
		return m.await(awaited{key: id, transcode: true}, at)
	case name == plex.EventTranscodeUpdate:
		s.TranscodeSpeed, s.TranscodeProgress, s.Throttled = float64(t.Speed), float64(t.Progress), bool(t.Throttled)
		m.put(s)
		m.dirty = true
		return at, m.refreshDue()
	}
	return at, true
}
