package rules

import (
	"fmt"
	"time"

	"github.com/plexwarden/plexwarden/app"
)

// PreviewItem is one session a rule would act on now.
type PreviewItem struct {
	Rule    string      // rule name
	Session app.Session // the session as in the state given
	Action  Action      // what the rule would do
	Message string      // exactly what the player would show (terminate)
	Reason  string      // why the rule matches, in words
	DryRun  bool        // the global dry run or a log-only rule: nothing would be sent
	// Grace is how long the rule waits before acting.
	Grace time.Duration
	// Done: the rule already acted on this session (engine previews only).
	Done bool
	// CoolDown is the cool-down acting would start for the user (0: none).
	CoolDown time.Duration
	// Blocked: a cool-down of Rule stops this new stream of its user
	// (engine previews only).
	Blocked bool
}

// Evaluate returns what the enabled rules of f would do to the sessions of
// st at now, rule by rule in file order, ignoring grace delays and the
// pause switch. It is pure: the GUI previews unsaved rules with it.
func Evaluate(f File, st *app.State, now time.Time) ([]PreviewItem, error) {
	return EvaluateWith(f, st, now, nil)
}

// EvaluateWith is Evaluate with a source for diagnostic rules' conditions.
// Quota rules never match here: the time used is the Engine's (Preview).
func EvaluateWith(f File, st *app.State, now time.Time, diag DiagSource) ([]PreviewItem, error) {
	return evaluateFile(f, st, now, diag, nil)
}

func evaluateFile(f File, st *app.State, now time.Time, diag DiagSource, usage usageFunc) ([]PreviewItem, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	var sessions []app.Session
	if st != nil {
		sessions = st.Sessions()
	}
	var out []PreviewItem
	for _, r := range f.Rules {
		if !r.Enabled {
			continue
		}
		c, err := compile(r)
		if err != nil {
			return nil, err
		}
		c.diag, c.usage = diag, usage
		hits, _ := c.evaluate(sessions, now, nil)
		for _, h := range hits {
			s := sessions[h.i]
			reason := c.reasonOf(h, &s, now)
			out = append(out, PreviewItem{
				Rule: c.Name, Session: s, Action: c.Action, Message: render(c.Rule, s, reason), Reason: reason,
				DryRun: f.DryRun || c.Action == ActionLog, Grace: c.Grace.Std(), CoolDown: c.CoolDown.Std(),
			})
		}
	}
	return out, nil
}

// Preview lists which sessions of st each rule in force would act on right
// now, with the exact message, marking those already acted on.
func (e *Engine) Preview(st *app.State) []PreviewItem {
	e.mu.Lock()
	f := e.file
	e.mu.Unlock()
	now := e.now()
	items, err := evaluateFile(f, st, now, e.opts.Diag, e.usageSnapshot())
	if err != nil {
		return nil // SetRules only accepts valid files
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := range items {
		_, items[i].Done = e.acted[actKey{items[i].Rule, ident(items[i].Session)}]
	}
	return append(items, e.previewBlocksLocked(st, now)...)
}

// previewBlocksLocked lists the streams of st the cool-downs in force stop.
func (e *Engine) previewBlocksLocked(st *app.State, now time.Time) []PreviewItem {
	if st == nil || len(e.blocks) == 0 {
		return nil
	}
	var out []PreviewItem
	sessions := st.Sessions()
	for _, b := range e.blocks {
		if !now.Before(b.Until) {
			continue
		}
		c := e.ruleLocked(b.Rule)
		for i := range sessions {
			s := &sessions[i]
			if !e.blockedLocked(b, c, s) {
				continue
			}
			_, done := e.acted[actKey{blockKeyPrefix + b.Rule, ident(*s)}]
			out = append(out, PreviewItem{Rule: b.Rule, Session: *s, Action: ActionTerminate, Message: e.blockMessage(b),
				Reason: fmt.Sprintf("cool-down after rule %q until %s", b.Rule, e.clock(b.Until)), Blocked: true, Done: done, DryRun: e.file.DryRun})
		}
	}
	return out
}
