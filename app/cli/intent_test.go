package cli

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/app/history"
	"github.com/plexwarden/plexwarden/app/rules"
	"github.com/plexwarden/plexwarden/plex/plexsim"
)

// TestWatchReportsUnfinishedActions: a terminate a killed watch sent
// without recording its answer (an open intent in the history) is
// reported at the next start as "sent, result unknown", and recorded so.
func TestWatchReportsUnfinishedActions(t *testing.T) {
	sim := startSim(t, plexsim.Options{Token: watchToken, PingInterval: time.Hour})
	histDir := filepath.Join(t.TempDir(), "history")
	h, err := history.Open(histDir)
	if err != nil {
		t.Fatal(err)
	}
	// No process has this id (above any pid_max): the run that wrote it is gone.
	err = h.Append(history.Record{Kind: history.KindRule, Server: "home", SessionID: "abc", User: "alice", Title: "Heat",
		Rule: "No 4K", Action: "terminate", Outcome: history.OutcomeSending, Intent: "2147483646-test"})
	h.Close()
	if err != nil {
		t.Fatal(err)
	}
	path := writeRules(t, rules.File{})
	w := startWatch(t, map[string]string{"PLEX_URL": sim.URL(), "PLEX_TOKEN": watchToken}, "--json", "--config", path, "--history", histDir)
	w.waitOutput(t, "the unfinished action", func(out string) bool { return strings.Contains(out, `"outcome":"sent, result unknown"`) })
	w.stop(t)
	res, err := history.Read(histDir, history.Filter{Outcome: history.OutcomeSentUnknown})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Records) != 1 || res.Records[0].SessionID != "abc" {
		t.Errorf("records sent, result unknown = %+v, want the one terminate of abc", res.Records)
	}
}
