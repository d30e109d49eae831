// Fetches: merging a /status/sessions answer into the sessions, and the
// holds after a refused or oversized answer.

package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/plexwarden/plexwarden/plex"
)

// merge applies a fetched session list: sessions not in it ended, new ones
// started, others changed if anything an admin sees differs.
func (m *Monitor) merge(r fetchResult) {
	now := m.cfg.Now()
	if r.err != nil {
		if errors.Is(r.err, context.Canceled) {
			return
		}
		c := m.conn
		c.Err = errText(r.err)
		switch {
		case errors.Is(r.err, plex.ErrUnauthorized):
			if m.rejectedAtStart(r.err) {
				return
			}
			c.Status, c.Err = Unauthorized, TokenRejectedHint
		case errors.Is(r.err, plex.ErrUnreachable), errors.Is(r.err, plex.ErrTimeout), errors.Is(r.err, plex.ErrUntrustedCert):
			c.Status = Unreachable
		}
		m.cfg.Log.Warn("sessions fetch failed", "server", m.cfg.Server, "err", r.err)
		m.setConn(c)
		return
	}
	m.accepted = true
	switch {
	case m.feedUp && m.conn.Status != Connected:
		// A failed fetch marked the server unreachable or the token
		// rejected while the event stream stayed open; this fetch worked,
		// so the server is back (an open stream never says so itself).
		m.conn = Conn{Status: Connected, LastEvent: m.conn.LastEvent, Since: now}
	case m.conn.Err != "" && m.conn.Status == Connected:
		m.conn.Err = ""
	}
	fresh := make(map[string]Session, len(r.items))
	var changes []Change
	for k, mk := range m.leaving {
		if !now.Before(mk.until) {
			delete(m.leaving, k)
		}
	}
	for i := range r.items {
		var src *plex.Media
		if i < len(r.sources) {
			src = r.sources[i]
		}
		s := NewSessionSource(m.cfg.Server, &r.items[i], src, now)
		if s.Kind == plex.KindTheme {
			continue // theme music is not user playback
		}
		if src == nil && r.reading[string(r.items[i].RatingKey)] && needsSource(&r.items[i]) {
			s.SourcePending = true
		}
		k := s.Key()
		if _, dup := fresh[k]; dup {
			continue // listed twice: one row, one rule decision (plex.MergeDuplicates)
		}
		if at, ok := m.tombstones[k]; ok && (r.started.Before(at) || time.Since(at) < m.cfg.Linger) {
			// Ended after this fetch began, or a stopped session Plex
			// still lists for a few seconds: it is gone.
			continue
		}
		if mk, ok := m.leaving[k]; ok {
			s.Leaving = mk.why
		}
		if old, ok := m.sessions[k]; ok {
			if at, ok := m.localAt[k]; ok && r.started.Before(at) {
				// The event is newer than this answer.
				s.State, s.StateSince, s.ViewOffsetMs = old.State, old.StateSince, old.ViewOffsetMs
			}
			s.FirstSeen = old.FirstSeen
			if old.State == s.State {
				s.StateSince = old.StateSince
			}
		}
		fresh[k] = s
	}
	markReplaced(fresh, now, m.cfg.Linger)
	announced := make(map[string]bool, len(fresh))
	for i := range r.items {
		k := sessionKeyOf(m.cfg.Server, &r.items[i])
		s, ok := fresh[k]
		if !ok || announced[k] {
			continue
		}
		announced[k] = true
		if old, ok := m.sessions[k]; !ok {
			changes = append(changes, Change{Kind: Started, Session: s})
		} else if sessionDiffers(old, s) {
			prev := old
			changes = append(changes, Change{Kind: Changed, Session: s, Prev: &prev})
		}
	}
	for k, old := range m.sessions {
		if _, ok := fresh[k]; !ok {
			changes = append(changes, Change{Kind: Ended, Session: old})
		}
	}
	for k, at := range m.tombstones {
		if !r.started.Before(at) && time.Since(at) >= m.cfg.Linger {
			delete(m.tombstones, k)
		}
	}
	for k, at := range m.localAt {
		if !r.started.Before(at) {
			delete(m.localAt, k)
		}
	}
	m.sessions = fresh
	clear(m.byTranscode)
	for k, s := range fresh {
		if s.TranscodeKey != "" {
			m.byTranscode[s.TranscodeKey] = k
		}
	}
	m.list = relist(m.list, fresh)
	m.rebuild = true
	m.publish(changes, r.trigger)
}

// enrich applies the sources a fetch read after its list was published:
// each session still waiting for its source is classified again with it
// (or, where the library did not answer in time, stays judged from its
// list entry) and published as changed, so the rules that judge the
// source decide now.
func (m *Monitor) enrich(r fetchResult) {
	for i := range r.items {
		it := &r.items[i]
		if !r.reading[string(it.RatingKey)] || !needsSource(it) {
			continue
		}
		s, ok := m.sessions[sessionKeyOf(m.cfg.Server, it)]
		if !ok || !s.SourcePending {
			continue // gone, or a newer list has it
		}
		prev := s
		var src *plex.Media
		if i < len(r.sources) {
			src = r.sources[i]
		}
		s.classify(it, src)
		s.SourcePending = false
		m.put(s)
		m.stage([]Change{{Kind: Changed, Session: s, Prev: &prev}}, r.trigger)
	}
	m.flush()
}

// relist returns the sessions of fresh in the published order (FirstSeen,
// then key) without sorting them all: those listed before keep their
// place, since a fetch carries their FirstSeen and key over, and the
// others (new sessions) are sorted and merged in. A list found out of
// order is sorted whole.
func relist(old sessionList, fresh map[string]Session) sessionList {
	list := make([]Session, 0, len(fresh))
	kept := make(map[string]bool, len(fresh))
	for o := range old.all() {
		k := o.Key()
		if s, ok := fresh[k]; ok && !kept[k] {
			kept[k] = true
			list = append(list, s)
		}
	}
	if len(list) < len(fresh) {
		added := make([]Session, 0, len(fresh)-len(list))
		for k, s := range fresh {
			if !kept[k] {
				added = append(added, s)
			}
		}
		slices.SortFunc(added, compareSessions)
		merged := make([]Session, 0, len(fresh))
		i, j := 0, 0
		for i < len(list) && j < len(added) {
			if compareSessions(added[j], list[i]) < 0 {
				merged = append(merged, added[j])
				j++
			} else {
				merged = append(merged, list[i])
				i++
			}
		}
		list = append(append(merged, list[i:]...), added[j:]...)
	}
	for i := 1; i < len(list); i++ {
		if compareSessions(list[i-1], list[i]) >= 0 {
			return sortedSessions(fresh)
		}
	}
	return newSessionList(list)
}

// put stores a changed session whose place in the order (FirstSeen, key)
// and transcode key are unchanged, for the next publish.
func (m *Monitor) put(s Session) {
	k := s.Key()
	if _, ok := m.edits[k]; !ok {
		m.edits[k] = m.sessions[k]
	}
	m.sessions[k] = s
}

// remove forgets a listed session, for the next publish.
func (m *Monitor) remove(s Session) {
	k := s.Key()
	if _, ok := m.edits[k]; !ok {
		m.edits[k] = m.sessions[k]
	}
	delete(m.sessions, k)
	if m.byTranscode[s.TranscodeKey] == k {
		delete(m.byTranscode, s.TranscodeKey)
	}
}

// holdAfter returns how long to hold back the next fetch after a fetch
// that ended with err: nothing after a good answer or an ordinary failure
// (the event stream's backoff paces those), a doubling pause after an
// oversized answer or a 429/503, at least its Retry-After, within HoldMax.
func (m *Monitor) holdAfter(err error) time.Duration {
	if err == nil {
		m.hold = 0
		return 0
	}
	var pe *plex.Error
	if !errors.As(err, &pe) || !(errors.Is(err, plex.ErrTooLarge) || errors.Is(err, plex.ErrRateLimited) || pe.Status == http.StatusServiceUnavailable) {
		return 0
	}
	m.hold = min(max(m.cfg.HoldMin, 2*m.hold), m.cfg.HoldMax)
	return min(max(m.hold, pe.RetryAfter), m.cfg.HoldMax)
}

// rejectedAtStart handles a token rejected before the server ever accepted
// it under RejectAtStart: it publishes the state, sets m.fatal and reports
// true; otherwise it does nothing and reports false.
func (m *Monitor) rejectedAtStart(err error) bool {
	if !m.cfg.RejectAtStart || m.accepted {
		return false
	}
	m.setConn(Conn{Status: Unauthorized, Err: errText(err)})
	m.fatal = fmt.Errorf("server %q: %w", m.cfg.Server, err)
	return true
}

// sessionDiffers reports a change an admin or a rule cares about; play
// position and transcode progress alone are not changes.
func sessionDiffers(a, b Session) bool {
	return a.State != b.State || a.Leaving != b.Leaving || a.SourceResolution != b.SourceResolution ||
		a.SourceVideoCodec != b.SourceVideoCodec || a.BitrateKbps != b.BitrateKbps || a.Decision != b.Decision || a.TranscodeKey != b.TranscodeKey ||
		a.VideoDecision != b.VideoDecision || a.AudioDecision != b.AudioDecision ||
		a.SubtitleDecision != b.SubtitleDecision || a.ID != b.ID || a.BandwidthKbps != b.BandwidthKbps ||
		a.Player != b.Player || a.User != b.User || a.Title != b.Title || a.SourcePending != b.SourcePending
}
