package app

import (
	"strings"
	"testing"

	"github.com/plexwarden/plexwarden/plex"
)

// The manual terminate message never claims a rule the admin may not
// have; a transcode gets the player's quality hint.
func TestDefaultMessage(t *testing.T) {
	tests := []struct {
		name string
		s    Session
		want string
	}{
		{"direct play", Session{Decision: plex.DirectPlay}, "The server owner has ended this stream."},
		{"roku transcode", Session{Decision: plex.Transcode, Player: Player{Product: "Plex for Roku"}},
			"The server owner has ended this stream. It was being converted (transcoded) for your player. On Roku: Settings › Playback › Remote quality › Original, then play again."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DefaultMessage(tt.s)
			if got != tt.want {
				t.Errorf("DefaultMessage = %q, want %q", got, tt.want)
			}
			if strings.Contains(strings.ToLower(got), "does not allow") {
				t.Errorf("DefaultMessage = %q claims a rule", got)
			}
		})
	}
}
