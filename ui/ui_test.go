package ui

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/app"
)

func TestPostCoalesces(t *testing.T) {
	u := newTestUI(t, newFakeBackend(), nil)
	before := u.applies

	const posts = 2000
	var wg sync.WaitGroup
	wg.Add(1)
	start := time.Now()
	go func() { // a busy feed on its own goroutine
		defer wg.Done()
		for i := range posts {
			s := bobSession()
			s.User = fmt.Sprintf("viewer%04d", i)
			u.Post(stateOf(app.Connected, s))
		}
	}()
	wg.Wait()
	u.bg.Wait() // the last delayed hand-over, through fyne.Do (synchronous in the test driver)
	elapsed := time.Since(start)

	if got, want := len(u.sessions.rows), 1; got != want {
		t.Fatalf("%d rows, want %d", got, want)
	}
	if got, want := u.sessions.rows[0].User, fmt.Sprintf("viewer%04d", posts-1); got != want {
		t.Errorf("table shows %s, want the last posted state (%s)", got, want)
	}
	applies := u.applies - before
	// At most one apply per 100 ms, plus the first and the last.
	if limit := int(elapsed/applyInterval) + 2; applies > limit {
		t.Errorf("%d applies in %v, want at most %d (≤10 per second)", applies, elapsed, limit)
	}
	if applies < 1 {
		t.Error("nothing applied")
	}
}

func TestPostAfterQuiet(t *testing.T) {
	u := newTestUI(t, newFakeBackend(), nil)
	u.Post(stateOf(app.Connected, bobSession()))
	u.bg.Wait()
	if len(u.sessions.rows) != 1 {
		t.Fatalf("first Post not applied")
	}
	time.Sleep(applyInterval)
	u.Post(stateOf(app.Connected, bobSession(), aliceSession()))
	u.bg.Wait()
	if len(u.sessions.rows) != 2 {
		t.Errorf("second Post not applied: %d rows", len(u.sessions.rows))
	}
	u.Post(nil) // ignored
	u.bg.Wait()
	if len(u.sessions.rows) != 2 {
		t.Errorf("Post(nil) changed the table")
	}
}

func TestDemoBanner(t *testing.T) {
	u := newTestUI(t, newFakeBackend(), nil)
	if !u.banner.Visible() {
		t.Error("demo banner hidden before the first state")
	}
	u.apply(fixedState())
	if !u.banner.Visible() {
		t.Error("demo banner hidden while the demo server runs")
	}
	real := stateOf(app.Connected)
	real.Servers[0].Server = "Home"
	u.apply(real)
	if u.banner.Visible() {
		t.Error("demo banner shown once only a real server is left")
	}
}

func TestStatusLines(t *testing.T) {
	u := newTestUI(t, newFakeBackend(), nil)
	st := fixedState()
	st.Servers = append(st.Servers, &app.Snapshot{Server: "Home", Conn: app.Conn{Status: app.Reconnecting, NextRetry: testNow.Add(4 * time.Second)}},
		&app.Snapshot{Server: "Cabin", Conn: app.Conn{Status: app.Unauthorized}})
	u.apply(st)
	want := []string{
		"Demo server — connected · last event 12:03:04",
		"Home — reconnecting (retry in 4s)",
		"Cabin — token rejected",
	}
	if len(u.status.labels) != len(want) {
		t.Fatalf("%d status lines, want %d", len(u.status.labels), len(want))
	}
	for i, w := range want {
		if got := u.status.labels[i].Text; got != w {
			t.Errorf("status line %d = %q, want %q", i, got, w)
		}
	}
	if u.status.labels[2].Importance != connImportance(app.Unauthorized) || connImportance(app.Unauthorized) == connImportance(app.Connected) {
		t.Error("a rejected token is not coloured apart from connected")
	}
	// With several servers the table shows the Server column.
	if got := u.sessions.grid.cols[len(u.sessions.grid.cols)-1]; got != colServer {
		t.Errorf("last column %v with three servers, want Server", got)
	}
}
