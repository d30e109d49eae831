package rules

import (
	"testing"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/app/history"
)

// TestEngineWritesIntentBeforeSending: the intent record of a terminate
// and of a stop-transcode is in the history before the request leaves,
// and the outcome record carries the same Intent.
func TestEngineWritesIntentBeforeSending(t *testing.T) {
	tests := []struct {
		name   string
		action Action
	}{
		{"terminate", ActionTerminate},
		{"stop transcode", ActionStopTranscode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			te := newTestEngine(t, rulesFile(rule(KindTranscode, func(r *Rule) { r.Name = "No transcodes"; r.Action = tt.action })))
			var before []history.Record // what the history held when the request left
			check := func(app.Session) app.Result {
				before = te.hist.all()
				return app.Result{Outcome: app.OutcomeDone}
			}
			te.actor.mu.Lock()
			te.actor.terminate, te.actor.stop = check, check
			te.actor.mu.Unlock()
			s := sess("1", transcoding)
			te.actor.setLive(s)
			te.Observe(update("home", s))
			done := te.hist.waitRecord(t, string(tt.action), "done")
			if len(before) != 1 || before[0].Outcome != history.OutcomeSending || before[0].SessionID != "id1" || before[0].Intent == "" {
				t.Fatalf("history when the request left = %+v, want one intent record for id1", before)
			}
			if done.Intent != before[0].Intent {
				t.Errorf("outcome record's Intent = %q, want the intent's %q", done.Intent, before[0].Intent)
			}
		})
	}
}
