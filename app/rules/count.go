package rules

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/plexwarden/plexwarden/app"
)

// The counting kinds (spec.count): streams per user, transcodes per server.

// userStreams picks, per user, the sessions above the limit (newest or
// oldest first), counting sessions or distinct addresses over all servers.
// It counts first and only groups the users above the limit, so the usual
// update (nobody over) allocates next to nothing.
func userStreams(c *compiled, sessions []app.Session, leaving func(int) bool) []hit {
	counts := map[userID]int{}
	var over []userID
	for i := range sessions {
		s := &sessions[i]
		if !c.applies(s) || leaving(i) {
			continue
		}
		u, ok := userOf(s)
		if !ok {
			continue // an unknown user cannot be counted safely
		}
		counts[u]++
		if counts[u] == c.MaxStreams+1 {
			over = append(over, u)
		}
	}
	// A unit is one session, or with CountIPs all sessions of one address
	// (sessions without an address share one unit: unknown must not
	// inflate the count).
	type unit struct {
		first time.Time
		seq   int64 // the lowest sessionKey: Plex numbers sessions in order
		key   string
		idx   []int
	}
	if len(over) == 0 {
		return nil
	}
	members := make(map[userID][]int, len(over))
	for _, u := range over {
		members[u] = nil
	}
	for i := range sessions {
		s := &sessions[i]
		u, ok := userOf(s)
		if _, isOver := members[u]; ok && isOver && c.applies(s) && !leaving(i) {
			members[u] = append(members[u], i)
		}
	}
	var hits []hit
	for _, u := range over {
		var units []*unit
		byKey := map[string]*unit{}
		for _, i := range members[u] {
			s := &sessions[i]
			k := s.Server + "/" + s.SessionKey + "/" + s.ID
			if c.CountIPs {
				k = s.Addr().String()
			}
			un, ok := byKey[k]
			if !ok {
				un = &unit{first: s.FirstSeen, seq: s.Seq(), key: k}
				byKey[k] = un
				units = append(units, un)
			}
			if s.FirstSeen.Before(un.first) {
				un.first = s.FirstSeen
			}
			un.seq = min(un.seq, s.Seq())
			un.idx = append(un.idx, i)
		}
		if len(units) <= c.MaxStreams {
			continue
		}
		slices.SortFunc(units, func(a, b *unit) int { return compareFirst(a.first, a.seq, a.key, b.first, b.seq, b.key, c.Pick) })
		what := "streams"
		if c.CountIPs {
			what = "addresses"
		}
		reason := fmt.Sprintf("%d %s at once, limit %d", len(units), what, c.MaxStreams)
		for _, un := range units[:len(units)-c.MaxStreams] {
			for _, i := range un.idx {
				hits = append(hits, hit{rule: c, i: i, reason: reason})
			}
		}
	}
	return hits
}

// serverTranscodes picks, per server, the transcodes above the limit.
func serverTranscodes(c *compiled, sessions []app.Session, leaving func(int) bool) []hit {
	groups := map[string][]int{}
	var order []string
	for i := range sessions {
		s := &sessions[i]
		if !c.applies(s) || leaving(i) || !(videoTranscode(s, c.CountSubtitleBurn) || (c.IncludeAudioOnly && s.AudioOnly)) {
			continue
		}
		if _, ok := groups[s.Server]; !ok {
			order = append(order, s.Server)
		}
		groups[s.Server] = append(groups[s.Server], i)
	}
	var hits []hit
	for _, srv := range order {
		list := groups[srv]
		if len(list) <= c.MaxTranscodes {
			continue
		}
		slices.SortFunc(list, func(a, b int) int {
			x, y := &sessions[a], &sessions[b]
			if r := compareFirst(x.FirstSeen, x.Seq(), x.SessionKey, y.FirstSeen, y.Seq(), y.SessionKey, c.Pick); r != 0 {
				return r
			}
			return strings.Compare(x.ID, y.ID)
		})
		reason := fmt.Sprintf("%d transcodes on %s, limit %d", len(list), srv, c.MaxTranscodes)
		for _, i := range list[:len(list)-c.MaxTranscodes] {
			hits = append(hits, hit{rule: c, i: i, reason: reason})
		}
	}
	return hits
}

// compareFirst orders by start time, newest first (default) or oldest
// first; sessions first seen together (in one list) by their sessionKey,
// which Plex numbers in order; then by key so the order is stable.
func compareFirst(at time.Time, aseq int64, ak string, bt time.Time, bseq int64, bk string, pick string) int {
	c := at.Compare(bt)
	if c == 0 && aseq >= 0 && bseq >= 0 {
		c = cmp.Compare(aseq, bseq)
	}
	if c != 0 {
		if pick == PickOldest {
			return c
		}
		return -c
	}
	return strings.Compare(ak, bk)
}
