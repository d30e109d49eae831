package app

import (
	"fmt"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/plex"
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
			if got := len(m.Snapshot().Sessions); got != n {
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
