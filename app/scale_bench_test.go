package app

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/plex"
	"github.com/plexwarden/plexwarden/plex/plexsim"
)

// scaleItems is a /status/sessions list of n sessions, a fifth of them
// transcoding, on n players of n/10 users.
func scaleItems(n int) []plex.Metadata {
	items := make([]plex.Metadata, n)
	for i := range items {
		it := plex.Metadata{
			SessionKey: plex.String(fmt.Sprint(i + 1)), Type: "movie", Title: fmt.Sprintf("Film %d", i),
			Player:  &plex.Player{State: "playing", MachineIdentifier: plex.String(fmt.Sprintf("p%d", i)), Product: "Plex Web", Title: "Chrome"},
			Session: &plex.Session{ID: plex.String(fmt.Sprintf("s%d", i))}, User: &plex.User{Title: fmt.Sprintf("user%d", i%max(1, n/10))},
		}
		if i%5 == 0 {
			it.TranscodeSession = &plex.TranscodeSession{Key: fmt.Sprintf("/transcode/sessions/t%d", i), VideoDecision: "transcode"}
		}
		items[i] = it
	}
	return items
}

// BenchmarkMonitorStateChange measures one state change (a "playing"
// event that pauses or resumes one of N known sessions) through the
// monitor to its published update, with no subscriber: the monitor's own
// cost per event.
func BenchmarkMonitorStateChange(b *testing.B) {
	for _, n := range []int{10, 200, 2000, 5000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			m := NewMonitor(MonitorConfig{Server: "x", Source: &fakeSource{}, Refresh: -1})
			m.merge(fetchResult{items: scaleItems(n)})
			if got := len(m.Snapshot().Sessions()); got != n {
				b.Fatalf("sessions = %d, want %d", got, n)
			}
			at := time.Now()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				k := i % n
				state := "paused"
				if (i/n)%2 == 1 {
					state = "playing"
				}
				ts := ""
				if k%5 == 0 {
					ts = fmt.Sprintf("t%d", k)
				}
				m.handle(feedMsg{ev: plex.Event{Name: plex.EventPlaying, Playing: &plex.PlayState{SessionKey: plex.String(fmt.Sprint(k + 1)), State: state, TranscodeSession: ts}}, at: at})
				m.flush()
			}
		})
	}
}

// BenchmarkMonitorFetch measures merging one /status/sessions answer of N
// sessions (a stand-in server's, decoded) in which one session is new:
// what a new session costs the monitor before the rules see it.
func BenchmarkMonitorFetch(b *testing.B) {
	for _, n := range []int{10, 2000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			sim := startSim(b, plexsim.Options{})
			for i := range n {
				sim.AddSession(plexsim.SessionSpec{User: fmt.Sprintf("user%d", i%(n/10+1)), Title: fmt.Sprintf("Film %d", i),
					Player: plexsim.PlayerSpec{MachineID: fmt.Sprintf("p%d", i)}})
			}
			c, err := plex.NewClient(sim.URL(), simToken, plex.ClientInfo{ID: "bench"})
			if err != nil {
				b.Fatal(err)
			}
			items, err := c.Sessions(context.Background())
			if err != nil || len(items) != n {
				b.Fatalf("sessions: %d, %v", len(items), err)
			}
			m := NewMonitor(MonitorConfig{Server: "x", Source: &fakeSource{}, Refresh: -1})
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				// every other answer lacks the last session: it is new in the next
				list := items
				if i%2 == 0 {
					list = items[:n-1]
				}
				m.merge(fetchResult{items: list})
			}
		})
	}
}
