package ui

import (
	"slices"
	"strings"
	"testing"

	"github.com/plexwarden/plexwarden/app"
)

func users(list []app.Session) string {
	out := make([]string, 0, len(list))
	for _, s := range list {
		out = append(out, s.User)
	}
	return strings.Join(out, ",")
}

func TestFilterSessions(t *testing.T) {
	all := []app.Session{aliceSession(), bobSession(), carolSession()}
	home := bobSession()
	home.Server, home.User, home.SessionKey = "Home", "dave", "99"
	all = append(all, home)
	tests := []struct {
		query string
		want  string
	}{
		{"", "alice,bob,carol,dave"},
		{"   ", "alice,bob,carol,dave"},
		{"ALICE", "alice"},
		{"matrix", "alice"},                // title
		{"roku", "bob,dave"},               // player product
		{"iphone", "carol"},                // device
		{"living room", "bob,dave"},        // player name
		{"transcode", "alice"},             // decision
		{"direct", "bob,carol,dave"},       // decision
		{"home", "dave"},                   // server
		{"demo server", "alice,bob,carol"}, // server
		{"192.168", "bob,dave"},            // IP address
		{"nobody", ""},
		// Several words are AND terms over location, quality and decision
		// too (issue 14.7).
		{"remote 4K", "alice"},
		{"hevc", "alice,carol"},
		{"lan", "bob,dave"},
		{"remote", "alice,carol"},
		{"relayed", "carol"},
		{"1080p direct", "bob,carol,dave"},
		{"hw transcode", "alice"},
		{"remote roku", ""},
	}
	for _, tt := range tests {
		if got := users(filterSessions(all, tt.query)); got != tt.want {
			t.Errorf("filterSessions(%q) = %q, want %q", tt.query, got, tt.want)
		}
	}
}

func TestFilterSessionsDoesNotAlias(t *testing.T) {
	all := []app.Session{aliceSession(), bobSession()}
	got := filterSessions(all, "")
	sortSessions(got, sessionOrder{col: colUser, desc: true})
	if all[0].User != "alice" {
		t.Error("sorting the filtered rows reordered the state's sessions")
	}
}

func TestSortSessions(t *testing.T) {
	alice, bob, carol := aliceSession(), bobSession(), carolSession()
	erin := bobSession()
	erin.User, erin.SessionKey, erin.BandwidthKbps = "Erin", "30", 8600 // same bandwidth as bob
	zed := aliceSession()
	zed.User, zed.SessionKey = "zed", "31" // a second transcode
	tests := []struct {
		name  string
		order sessionOrder
		want  string
	}{
		{"default: transcodes first, then user", sessionOrder{}, "alice,zed,bob,carol,Erin"},
		{"user", sessionOrder{col: colUser}, "alice,bob,carol,Erin,zed"},
		{"user descending", sessionOrder{col: colUser, desc: true}, "zed,Erin,carol,bob,alice"},
		{"bandwidth, ties by user", sessionOrder{col: colBandwidth}, "carol,bob,Erin,alice,zed"},
		{"bandwidth descending", sessionOrder{col: colBandwidth, desc: true}, "alice,zed,bob,Erin,carol"},
		{"progress", sessionOrder{col: colProgress}, "bob,Erin,alice,zed,carol"},
		{"quality by source height, then text", sessionOrder{col: colQuality, desc: true}, "alice,zed,carol,bob,Erin"},
		{"decision: direct play to transcode", sessionOrder{col: colDecision}, "bob,Erin,carol,alice,zed"},
		{"title", sessionOrder{col: colTitle}, "carol,bob,Erin,alice,zed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list := []app.Session{carol, zed, bob, alice, erin}
			sortSessions(list, tt.order)
			if got := users(list); got != tt.want {
				t.Errorf("sortSessions(%+v) = %s, want %s", tt.order, got, tt.want)
			}
		})
	}
}

func TestSortOrderToggle(t *testing.T) {
	var o sessionOrder
	steps := []struct {
		click *column[app.Session]
		want  sessionOrder
	}{
		{colUser, sessionOrder{col: colUser}},
		{colUser, sessionOrder{col: colUser, desc: true}},
		{colUser, sessionOrder{col: colUser}},
		{colBandwidth, sessionOrder{col: colBandwidth}},
	}
	for i, s := range steps {
		o = o.toggle(s.click)
		if o != s.want {
			t.Errorf("click %d on %s: order %+v, want %+v", i+1, s.click.title, o, s.want)
		}
	}
}

func TestCellText(t *testing.T) {
	alice, bob, carol := aliceSession(), bobSession(), carolSession()
	tests := []struct {
		s    *app.Session
		want []string
	}{
		{&alice, []string{"alice", "The Matrix", "Plex Web · Chrome/Windows", "Playing", "41% 0:52:10/2:07:00",
			"4K HEVC→1080p H.264", "Transcode (HEVC 4K→1080p)", "12.3 Mbps", "Remote 203.0.113.7", "Demo server"}},
		{&bob, []string{"bob", "Severance - S01E03 - In Perpetuity", "Plex for Roku · Roku/Roku Ultra", "Paused",
			"17% 0:10:00/0:57:00", "1080p H.264", "Direct Play", "8.6 Mbps", "LAN 192.168.1.20", "Demo server"}},
		{&carol, []string{"carol", "Dune: Part Two", "Plex for iOS · iOS/iPhone", "Buffering", "72% 2:00:00/2:46:00",
			"1080p HEVC", "Direct Stream", "950 kbps", "Relayed", "Demo server"}},
	}
	for _, tt := range tests {
		var got []string
		for _, c := range sessionColumns {
			got = append(got, c.text(tt.s, cellEnv{}))
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("cells of %s:\n got %q\nwant %q", tt.s.User, got, tt.want)
		}
	}
}

func TestVisibleColumns(t *testing.T) {
	if got := shownColumns(sessionColumns, 1); slices.Contains(got, colServer) || len(got) != len(sessionColumns)-1 {
		t.Errorf("shownColumns(1) = %d columns, want all but Server", len(got))
	}
	if got := shownColumns(sessionColumns, 2); len(got) != len(sessionColumns) || got[len(got)-1] != colServer {
		t.Errorf("shownColumns(2) = %d columns, want all, Server last", len(got))
	}
}

func TestSortGrouped(t *testing.T) {
	on := func(s app.Session, server, user, key string) app.Session {
		s.Server, s.User, s.SessionKey = server, user, key
		return s
	}
	homeT := on(aliceSession(), "Home", "alice", "1")   // transcode
	homeD := on(bobSession(), "Home", "bob", "2")       // direct play
	cabinT := on(aliceSession(), "Cabin", "dave", "3")  // transcode
	cabinD := on(carolSession(), "Cabin", "carol", "4") // direct stream
	denD := on(bobSession(), "Den", "erin", "5")        // a server the order does not list
	tests := []struct {
		name    string
		order   sessionOrder
		servers []string
		want    string
	}{
		{"one server: not grouped", sessionOrder{}, []string{"Home"}, "alice,dave,bob,carol,erin"},
		{"no order: not grouped", sessionOrder{}, nil, "alice,dave,bob,carol,erin"},
		{"grouped in the servers' order, unlisted last", sessionOrder{}, []string{"Home", "Cabin"}, "alice,bob,dave,carol,erin"},
		{"other order of servers", sessionOrder{}, []string{"Cabin", "Den", "Home"}, "dave,carol,erin,alice,bob"},
		{"a header sorts across servers", sessionOrder{col: colUser}, []string{"Home", "Cabin"}, "alice,bob,carol,dave,erin"},
		{"server header: by name", sessionOrder{col: colServer}, []string{"Home", "Cabin"}, "carol,dave,erin,alice,bob"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list := []app.Session{denD, cabinD, homeD, cabinT, homeT}
			sortGrouped(list, tt.order, tt.servers)
			if got := users(list); got != tt.want {
				t.Errorf("sortGrouped(%+v, %q) = %s, want %s", tt.order, tt.servers, got, tt.want)
			}
		})
	}
}

func TestFilterServer(t *testing.T) {
	mk := func(server, user string) app.Session {
		s := bobSession()
		s.Server, s.User = server, user
		return s
	}
	tests := []struct {
		server, want string
	}{
		{"", "a,b,c"},
		{"Home", "a,c"},
		{"Cabin", "b"},
		{"Den", ""},
	}
	for _, tt := range tests {
		list := []app.Session{mk("Home", "a"), mk("Cabin", "b"), mk("Home", "c")}
		if got := users(filterServer(list, tt.server)); got != tt.want {
			t.Errorf("filterServer(%q) = %s, want %s", tt.server, got, tt.want)
		}
	}
}

// The sessions table's columns the tests name.
var (
	colUser      = columnNamed(sessionColumns, "User")
	colTitle     = columnNamed(sessionColumns, "Title")
	colProgress  = columnNamed(sessionColumns, "Progress")
	colQuality   = columnNamed(sessionColumns, "Quality")
	colDecision  = columnNamed(sessionColumns, "Decision")
	colBandwidth = columnNamed(sessionColumns, "Bandwidth")
	colServer    = columnNamed(sessionColumns, "Server")
)
