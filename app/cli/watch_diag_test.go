package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/app/rules"
	"github.com/plexwarden/plexwarden/plex/plexsim"
)

// watch --json reports a client-identifier collision as a line of kind
// "collision" with evidence and remedy: a music player reusing the video
// player's id replaces the video session.
func TestWatchJSONCollision(t *testing.T) {
	sim := startSim(t, plexsim.Options{Token: watchToken, PlexPass: true, PingInterval: time.Hour})
	path := writeRules(t, rules.File{})
	w := startWatch(t, map[string]string{"PLEX_URL": sim.URL(), "PLEX_TOKEN": watchToken}, "--json", "--config", path)
	w.waitOutput(t, "connected", func(out string) bool { return strings.Contains(out, `"event":"connected"`) })

	shared := plexsim.PlayerSpec{MachineID: "shared-id-1", Title: "Phone", Product: "Plex for Android (Mobile)", Platform: "Android"}
	video := sim.AddSession(plexsim.SessionSpec{User: "alice", Title: "Night Harbor", Player: shared})
	w.waitOutput(t, "video started", func(out string) bool { return strings.Contains(out, `"title":"Night Harbor"`) })
	music := shared
	music.Product = "Plexamp"
	if err := sim.EndSession(video.Key); err != nil {
		t.Fatal(err)
	}
	sim.AddSession(plexsim.SessionSpec{User: "alice", Type: "track", Show: "Artist", Title: "Song", Player: music})
	w.waitOutput(t, "collision line", func(out string) bool { return strings.Contains(out, `"kind":"collision"`) })
	if code := w.stop(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, l := range parseLines(t, w.stdout()) {
		if l["kind"] != "collision" {
			continue
		}
		if l["playerId"] != "shared-id-1" || l["server"] == "" || l["remedy"] == "" {
			t.Errorf("collision line = %v", l)
		}
		if ev, _ := l["evidence"].([]any); len(ev) < 2 {
			t.Errorf("evidence = %v, want both sessions", l["evidence"])
		}
		return
	}
	t.Error("no collision line")
}
