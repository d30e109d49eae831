package ui

import (
	"fmt"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/plex"
)

// bigState is a snapshot of n live sessions on two servers, a third of
// them transcoding.
func bigState(n int) *app.State {
	now := testNow
	servers := []*app.Snapshot{{Server: "Den"}, {Server: "Cabin"}}
	lists := make([][]app.Session, len(servers))
	for i := range n {
		s := aliceSession()
		s.Server = servers[i%2].Server
		s.SessionKey = fmt.Sprint(i)
		s.ID = fmt.Sprintf("id-%d", i)
		s.User = fmt.Sprintf("user%03d", i%97)
		s.Title = fmt.Sprintf("Show %d - S01E%02d - Episode", i%31, i%24+1)
		s.FirstSeen = now.Add(-time.Duration(i) * time.Second)
		if i%3 != 0 {
			s.Decision, s.Short, s.Reason, s.TranscodeKey = plex.DirectPlay, "Direct Play", "Direct Play", ""
		}
		lists[i%2] = append(lists[i%2], s)
	}
	for i, sn := range servers {
		sn.Conn = app.Conn{Status: app.Connected, LastEvent: now}
		servers[i] = sn.WithSessions(lists[i]...)
	}
	return &app.State{Servers: servers, Time: now}
}

// BenchmarkApply measures the one door's work on the UI goroutine for a
// snapshot of up to 2,000 sessions (issue 13 asks for under 16 ms, one
// frame, at 2,000): rows rebuilt, filtered and sorted, status
// lines, tray model, and the table re-rendered (the test driver paints
// the visible cells in software, as a real frame would).
func BenchmarkApply(b *testing.B) {
	for _, n := range []int{100, 1000, 2000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			a := test.NewTempApp(b)
			u := New(a, newFakeBackend(), Options{TrayHost: true, Now: func() time.Time { return testNow }})
			b.Cleanup(func() { u.Stop(); u.bg.Wait() })
			u.Window().Resize(windowSize)
			states := [2]*app.State{bigState(n), bigState(n)}
			ss := sessionsOf(states[1], 0)
			ss[0].State = "paused" // consecutive states differ
			setSessions(states[1], 0, ss...)
			c := u.Window().Canvas()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				u.apply(states[i%2])
				i++
				_ = c.Capture()
			}
		})
	}
}

// BenchmarkApplyOnly is apply without painting: the cost that blocks the
// UI goroutine per hand-over, at 1,000 and 2,000 sessions.
func BenchmarkApplyOnly(b *testing.B) {
	for _, n := range []int{1000, 2000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			a := test.NewTempApp(b)
			u := New(a, newFakeBackend(), Options{TrayHost: true, Now: func() time.Time { return testNow }})
			b.Cleanup(func() { u.Stop(); u.bg.Wait() })
			u.Window().Resize(windowSize)
			states := [2]*app.State{bigState(n), bigState(n)}
			ss := sessionsOf(states[1], 0)
			ss[0].State = "paused" // consecutive states differ
			setSessions(states[1], 0, ss...)
			b.ReportAllocs()
			cpu0 := processCPU()
			i := 0
			for b.Loop() {
				u.apply(states[i%2])
				i++
			}
			// The CPU time of the process per apply: on a shared machine the
			// wall time (ns/op) includes waiting for a core.
			b.ReportMetric(float64(processCPU()-cpu0)/float64(time.Millisecond)/float64(i), "cpu-ms/op")
		})
	}
}
