package ui

import (
	"fmt"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/app/local"
	"github.com/plexwarden/plexwarden/app/rules"
)

// TestWindowMinSizeWithLongLists: every list scrolls, so the window's
// minimum size stays within 800×600 with 300 stale transcodes and 300
// sessions, on every tab (issue 14.4; it was 1175×1594), and with 300
// cool-downs and quotas in the Rules tab.
func TestWindowMinSizeWithLongLists(t *testing.T) {
	fr := &fakeRules{file: twoRules()}
	for i := range 300 {
		user := fmt.Sprintf("user%03d with a rather long name", i)
		fr.blocks = append(fr.blocks, rules.Block{User: user, Rule: "A rule with a long name that goes on", Until: testNow.Add(time.Hour)})
		fr.usage = append(fr.usage, rules.QuotaUsage{User: user, Rule: "A quota rule with a long name", Used: rules.Duration(time.Hour),
			Limit: rules.Duration(2 * time.Hour), Resets: testNow.Add(12 * time.Hour)})
	}
	u := newOptsUI(t, newFakeBackend(), Options{TrayHost: true, Local: &fakeLocal{}, Rules: fr,
		Diag: fixedDiag(), History: &fakeHistory{recs: fixedRecords()}})
	st := fixedState()
	scan := fixedScan()
	ss := sessionsOf(st, 0)
	for i := range 300 {
		s := aliceSession()
		s.SessionKey, s.User = fmt.Sprint(100+i), fmt.Sprintf("user%03d", i)
		ss = append(ss, s)
		scan.Stale = append(scan.Stale, local.StaleSession{Key: fmt.Sprintf("stale%03d", i), Since: testNow.Add(-time.Hour),
			Session: &local.Session{User: s.User, Title: "A very long title of a film that no longer plays"}})
	}
	setSessions(st, 0, ss...)
	st.Servers[0].Conn = app.Conn{Status: app.Unreachable, LastEvent: testNow.Add(-time.Minute)}
	u.apply(st)
	u.applyLocal(scan)
	for _, tab := range u.tabs.Items {
		u.tabs.Select(tab)
		u.bg.Wait() // History queries in the background
		if got := u.Window().Content().MinSize(); got.Width > 800 || got.Height > 600 {
			t.Errorf("%s tab: window minimum size %.0f×%.0f, want at most 800×600", tab.Text, got.Width, got.Height)
		}
	}
}
