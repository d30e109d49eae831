package ui

import (
	"cmp"
	"slices"
	"strings"

	"github.com/plexwarden/plexwarden/app"
)

// column is a column of the sessions table.
type column int

// The sessions table's columns, in display order.
const (
	colUser column = iota
	colTitle
	colPlayer
	colState
	colProgress
	colQuality
	colDecision
	colBandwidth
	colLocation
	colServer
	numColumns
)

// columnTitles are the header texts.
var columnTitles = [numColumns]string{
	"User", "Title", "Player", "State", "Progress", "Quality", "Decision", "Bandwidth", "Location", "Server",
}

// columnWidths are the initial widths without the Server column; the user
// can drag header dividers. They fit the default window.
var columnWidths = [numColumns]float32{80, 138, 125, 76, 140, 130, 160, 78, 133, 110}

// serverColumnWidths are the initial widths with the Server column (several
// servers): narrower text columns, so that it too fits the default window.
var serverColumnWidths = [numColumns]float32{72, 116, 106, 76, 140, 118, 150, 78, 104, 96}

// visibleColumns are the columns shown for a number of servers: the Server
// column only when there are several (with one, the status line names it).
func visibleColumns(servers int) []column {
	cols := make([]column, 0, numColumns)
	for c := range numColumns {
		if c != colServer || servers > 1 {
			cols = append(cols, c)
		}
	}
	return cols
}

// cellText is the text of one cell.
func cellText(s *app.Session, c column) string {
	switch c {
	case colUser:
		return s.User
	case colTitle:
		return s.Title
	case colPlayer:
		return playerText(s.Player)
	case colState:
		return stateText(s.State)
	case colProgress:
		return progressText(s)
	case colQuality:
		return qualityText(s)
	case colDecision:
		return displayArrows(decisionText(s))
	case colBandwidth:
		return bitrateText(s.BandwidthKbps)
	case colLocation:
		return locationText(s)
	case colServer:
		return s.Server
	}
	return ""
}

// sortOrder is how the table is sorted. The zero value is the default
// order: transcodes first, then by user.
type sortOrder struct {
	set  bool // a header was clicked
	col  column
	desc bool
}

// toggle returns the order after a click on the header of c: ascending on
// a new column, flipped on the current one.
func (o sortOrder) toggle(c column) sortOrder {
	if o.set && o.col == c {
		return sortOrder{set: true, col: c, desc: !o.desc}
	}
	return sortOrder{set: true, col: c}
}

// filterSessions returns the sessions whose user, title, player, server or
// decision contains query, ignoring case. An empty query keeps all.
func filterSessions(list []app.Session, query string) []app.Session {
	q := strings.ToLower(strings.TrimSpace(query))
	if q == "" {
		return slices.Clone(list)
	}
	var out []app.Session
	for i := range list {
		s := &list[i]
		hay := strings.ToLower(strings.Join([]string{
			s.User, s.Title, playerText(s.Player), s.Player.Title, s.Server, decisionText(s), s.Decision.String(),
		}, "\x00"))
		if strings.Contains(hay, q) {
			out = append(out, *s)
		}
	}
	return out
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
func sortSessions(list []app.Session, o sortOrder) { sortGrouped(list, o, nil) }

// sortGrouped is sortSessions for the table: with several servers, the
// default order groups the sessions by server, in the order of servers
// (the status lines' order; servers not listed come last, by name), and
// sorts each group as sortSessions does. A clicked header sorts across
// servers.
func sortGrouped(list []app.Session, o sortOrder, servers []string) {
	grouped := !o.set && len(servers) > 1
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
		if !o.set {
			if c := cmp.Compare(rank(a), rank(b)); c != 0 {
				return c
			}
			return tieBreak(a, b)
		}
		c := compareBy(a, b, o.col)
		if o.desc {
			c = -c
		}
		if c != 0 {
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

// compareBy compares two sessions by one column: numbers where the column
// shows one, else the text without case.
func compareBy(a, b *app.Session, c column) int {
	switch c {
	case colProgress:
		return cmp.Compare(a.Progress(), b.Progress())
	case colBandwidth:
		return cmp.Compare(a.BandwidthKbps, b.BandwidthKbps)
	case colQuality:
		if c := cmp.Compare(a.SourceHeight, b.SourceHeight); c != 0 {
			return c
		}
	case colDecision:
		if c := cmp.Compare(rank(b), rank(a)); c != 0 { // ascending: direct play … transcode
			return c
		}
	}
	return cmp.Compare(strings.ToLower(cellText(a, c)), strings.ToLower(cellText(b, c)))
}
