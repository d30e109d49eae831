package desktop

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/app/history"
	"github.com/plexwarden/plexwarden/app/rules"
)

// TestManualRecord checks the history record of an action taken by hand.
func TestManualRecord(t *testing.T) {
	s := app.Session{Server: "Home", ID: "id1", SessionKey: "1", User: "alice", Title: "Night Harbor",
		Player: app.Player{Title: "Den", Product: "Plex for Roku", Platform: "Roku"}}
	for _, tc := range []struct {
		name   string
		action rules.Action
		res    app.Result
		want   history.Record
	}{
		{"terminate done", rules.ActionTerminate, app.Result{Outcome: app.OutcomeDone},
			history.Record{Kind: history.KindManual, Action: "terminate", Outcome: "done", Player: "Den (Plex for Roku)", LatencyMs: 12, SessionID: "id1", Message: "bye"}},
		{"user failed", rules.ActionTerminateUser, app.Result{Outcome: app.OutcomeFailed, Err: errors.New("server unreachable")},
			history.Record{Kind: history.KindManual, Action: "terminateUser", Outcome: "failed", Player: "Den (Plex for Roku)", LatencyMs: 12, SessionID: "id1", Message: "bye", Detail: "server unreachable"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := manualRecord(s, tc.action, "bye", tc.res, 12*time.Millisecond)
			got := history.Record{Kind: r.Kind, Action: r.Action, Outcome: r.Outcome, Player: r.Player, LatencyMs: r.LatencyMs, SessionID: r.SessionID, Message: r.Message, Detail: r.Detail}
			if got != tc.want {
				t.Errorf("manualRecord = %+v, want %+v", got, tc.want)
			}
			if r.User != "alice" || r.Server != "Home" || r.Time.IsZero() {
				t.Errorf("manualRecord lost who/where/when: %+v", r)
			}
		})
	}
}

// The desktop app keeps cool-downs in its configuration folder, so a
// restart keeps them in force.
func TestCoolDownsKeptInConfigDir(t *testing.T) {
	dir := t.TempDir()
	until := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	body := fmt.Sprintf(`{"version":1,"blocks":[{"user":"carol","rule":"No 4K","scope":"all","since":%q,"until":%q}]}`,
		time.Now().UTC().Format(time.RFC3339), until.Format(time.RFC3339))
	if err := writeFile(filepath.Join(dir, rules.BlocksFile), []byte(body)); err != nil {
		t.Fatal(err)
	}
	d, err := New(Options{Controller: app.ControllerOptions{ConfigDir: dir, Secrets: app.NewMemoryStore(), Getenv: func(string) string { return "" }}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.History.Close()
	got := d.Engine.Blocks()
	if len(got) != 1 || got[0].User != "carol" || !got[0].Until.Equal(until) {
		t.Errorf("Blocks after start = %+v, want carol's until %s", got, until)
	}
}
