package ui

import (
	"cmp"
	"slices"
	"strings"

	"github.com/plexwarden/plexwarden/app"
)

// sessionColumns are the sessions table's columns, in display order. The
// widths fit the default window; narrow ones apply with the Server column
// (several servers).
var sessionColumns = []*column[app.Session]{
	{title: "User", width: 80, narrow: 72, text: func(s *app.Session, _ cellEnv) string { return s.User }},
	{title: "Title", width: 138, narrow: 116, text: func(s *app.Session, _ cellEnv) string { return s.Title }},
	{title: "Player", width: 125, narrow: 106, text: func(s *app.Session, _ cellEnv) string { return playerText(s.Player) }},
	{title: "State", width: 76, text: func(s *app.Session, env cellEnv) string {
		if at, ok := env.down[s.Server]; ok {
			return lastKnownText(at, env.loc)
		}
		return stateText(s.State)
	}},
	{
		title: "Progress", width: 140, text: func(s *app.Session, _ cellEnv) string { return progressText(s) },
		sort: func(a, b *app.Session) int { return cmp.Compare(a.Progress(), b.Progress()) },
	},
	{
		title: "Quality", width: 130, narrow: 118, text: func(s *app.Session, _ cellEnv) string { return qualityText(s) },
		sort: func(a, b *app.Session) int {
			return cmp.Or(cmp.Compare(a.SourceHeight, b.SourceHeight), compareFold(qualityText(a), qualityText(b)))
		},
	},
	{
		title: "Decision", width: 160, narrow: 150, text: func(s *app.Session, _ cellEnv) string { return displayArrows(decisionText(s)) },
		// Ascending: direct play … transcode.
		sort: func(a, b *app.Session) int {
			return cmp.Or(cmp.Compare(rank(b), rank(a)), compareFold(displayArrows(decisionText(a)), displayArrows(decisionText(b))))
		},
		// Transcodes stand out: the Decision cell is bold, orange, with a ⚠.
		warn: (*app.Session).Transcoding,
	},
	{
		title: "Bandwidth", width: 78, text: func(s *app.Session, _ cellEnv) string { return bitrateText(s.BandwidthKbps) },
		sort: func(a, b *app.Session) int { return cmp.Compare(a.BandwidthKbps, b.BandwidthKbps) },
	},
	{title: "Location", width: 133, narrow: 104, text: func(s *app.Session, _ cellEnv) string { return locationText(s) }},
	// With one server, the status line names it.
	{title: "Server", width: 110, narrow: 96, optional: true, text: func(s *app.Session, _ cellEnv) string { return s.Server }},
}

// compareFold compares two texts without case.
func compareFold(a, b string) int { return cmp.Compare(strings.ToLower(a), strings.ToLower(b)) }

// sessionOrder is how the sessions table is sorted. The zero value is the
// default order: transcodes first, then by user.
type sessionOrder = sortOrder[app.Session]

// filterSessions returns the sessions that match every word of query,
// ignoring case: "remote 4K" finds the remote streams of 4K sources. A word
// matches the user, title, player, server, location ("lan", "remote",
// "relayed"), IP address, quality (resolutions, codecs) or decision words
// ("transcode", "direct", "hw", "throttled"). An empty query keeps all.
func filterSessions(list []app.Session, query string) []app.Session {
	terms := strings.Fields(strings.ToLower(query))
	if len(terms) == 0 {
		return slices.Clone(list)
	}
	var out []app.Session
	for i := range list {
		hay := filterText(&list[i])
		if !slices.ContainsFunc(terms, func(t string) bool { return !strings.Contains(hay, t) }) {
			out = append(out, list[i])
		}
	}
	return out
}

// filterText is what the filter searches in a session, lower case.
func filterText(s *app.Session) string {
	where := s.Location
	if where == "wan" {
		where = "remote wan"
	}
	var flags []string
	if s.HWTranscode {
		flags = append(flags, "hw")
	}
	if s.Throttled {
		flags = append(flags, "throttled")
	}
	return strings.ToLower(strings.Join(append([]string{
		s.User, s.Title, playerText(s.Player), s.Player.Title, s.Server,
		decisionText(s), s.Decision.String(), s.Reason,
		locationText(s), where, s.Player.Address,
		qualityText(s), s.SourceResolution, s.TargetResolution,
		s.SourceVideoCodec, s.TargetVideoCodec, s.SourceAudioCodec,
	}, flags...), "\x00"))
}

// filterServer keeps, in place, the sessions of server; "" keeps all.
func filterServer(list []app.Session, server string) []app.Session {
	if server == "" {
		return list
	}
	return slices.DeleteFunc(list, func(s app.Session) bool { return s.Server != server })
}

// sortSessions sorts list in place by o. Ties fall back to the user and
// then the session key, so rows never swap places between updates.
func sortSessions(list []app.Session, o sessionOrder) { sortGrouped(list, o, nil) }

// sortGrouped is sortSessions for the table: with several servers, the
// default order groups the sessions by server, in the order of servers
// (the status lines' order; servers not listed come last, by name), and
// sorts each group as sortSessions does. A clicked header sorts across
// servers.
func sortGrouped(list []app.Session, o sessionOrder, servers []string) {
	grouped := o.col == nil && len(servers) > 1
	group := func(s *app.Session) int {
		if i := slices.Index(servers, s.Server); i >= 0 {
			return i
		}
		return len(servers)
	}
	// Sort positions, stably, and place each session once: the sessions
	// are hundreds of bytes each, and a stable sort moves its elements
	// O(n log² n) times (2,000 sessions: most of the apply time).
	idx := make([]int32, len(list))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortStableFunc(idx, func(i, j int32) int {
		a, b := &list[i], &list[j]
		if grouped {
			if c := cmp.Compare(group(a), group(b)); c != 0 {
				return c
			}
			if c := cmp.Compare(a.Server, b.Server); c != 0 { // servers not listed
				return c
			}
		}
		if o.col == nil {
			if c := cmp.Compare(rank(a), rank(b)); c != 0 {
				return c
			}
			return tieBreak(a, b)
		}
		if c := o.compare(a, b, cellEnv{}); c != 0 {
			return c
		}
		return tieBreak(a, b)
	})
	sorted := make([]app.Session, len(list))
	for k, i := range idx {
		sorted[k] = list[i]
	}
	copy(list, sorted)
}

// rank orders decisions for the default sort: transcodes first.
func rank(s *app.Session) int {
	if s.Transcoding() {
		return 0
	}
	return 1
}

func tieBreak(a, b *app.Session) int {
	if c := cmp.Compare(strings.ToLower(a.User), strings.ToLower(b.User)); c != 0 {
		return c
	}
	return cmp.Compare(a.Key(), b.Key())
}
