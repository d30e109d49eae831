package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/app/rules"
	"github.com/plexwarden/plexwarden/plex/plexsim"
)

// TestWatchTerminateUserCoolDown: watch runs terminateUser with a
// cool-down: both of alice's streams stop, the cool-down is printed and
// kept next to the rules file, and her next stream is stopped at once.
func TestWatchTerminateUserCoolDown(t *testing.T) {
	sim := startSim(t, plexsim.Options{Token: watchToken, PlexPass: true, PingInterval: time.Hour})
	r := rules.DefaultRule(rules.KindTranscode, "No transcodes")
	r.Action, r.CoolDown = rules.ActionTerminateUser, rules.Duration(time.Hour)
	path := writeRules(t, rules.File{Rules: []rules.Rule{r}})
	w := startWatch(t, map[string]string{"PLEX_URL": sim.URL(), "PLEX_TOKEN": watchToken}, "--json", "--config", path, "--history", "off")
	w.waitOutput(t, "connected", func(out string) bool { return strings.Contains(out, `"event":"connected"`) })

	direct := sim.AddSession(plexsim.SessionSpec{User: "alice", UserID: "5", Title: "Direct"})
	w.waitOutput(t, "the direct stream", func(out string) bool { return strings.Contains(out, direct.ID) })
	tc := sim.AddSession(plexsim.SessionSpec{User: "alice", UserID: "5", Title: "Converted", Transcode: &plexsim.TranscodeSpec{Video: "transcode"}})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	calls, err := sim.WaitCalls(ctx, 2)
	if err != nil {
		t.Fatalf("no terminates: %v\n%s", err, w.stdout())
	}
	got := map[string]bool{calls[0].SessionID: true, calls[1].SessionID: true}
	if !got[direct.ID] || !got[tc.ID] {
		t.Errorf("terminated %v, want both of alice's streams", got)
	}
	w.waitOutput(t, "the cool-down", func(out string) bool { return strings.Contains(out, `"action":"blockStart"`) })
	if b, err := os.ReadFile(filepath.Join(filepath.Dir(path), rules.BlocksFile)); err != nil || !strings.Contains(string(b), "alice") {
		t.Errorf("blocks file next to the rules: %v %s", err, b)
	}
	again := sim.AddSession(plexsim.SessionSpec{User: "alice", UserID: "5", Title: "Again"})
	if calls, err = sim.WaitCalls(ctx, 3); err != nil || calls[2].SessionID != again.ID || !strings.Contains(calls[2].Reason, "You can play again at") {
		t.Errorf("third call %+v (%v), want alice's new stream stopped by the cool-down", calls, err)
	}
	w.waitOutput(t, "the block line", func(out string) bool { return strings.Contains(out, `"action":"block"`) })
}
