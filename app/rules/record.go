package rules

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/app/history"
)

// record starts a history record of job j about session s.
func (e *Engine) record(j job, s app.Session) history.Record {
	action := string(j.rule.Action)
	if j.blockOf != "" {
		action = HistoryBlock
	}
	return history.Record{
		Kind: history.KindRule, Server: s.Server, SessionID: s.ID, SessionKey: s.SessionKey,
		User: s.User, Title: s.Title, Player: playerLabel(s.Player), Rule: j.rule.Name, Action: action,
		DryRun: j.dryRun, Message: j.message,
	}
}

// intend writes the intent record of r's action before its request is
// sent (history.OutcomeSending), so a crash before the outcome record
// leaves a trace the next start reports; it returns the Intent id for the
// outcome record ("" without a history).
func (e *Engine) intend(r history.Record) string {
	if e.opts.History == nil {
		return ""
	}
	r.Intent, r.Outcome, r.Time = history.NewIntent(), history.OutcomeSending, e.opts.Clock()
	if err := e.opts.History.Append(r); err != nil {
		e.opts.Log.Error("writing the history", "err", err)
	}
	return r.Intent
}

// write stamps r with the time the outcome is known and stores it.
func (e *Engine) write(r history.Record) {
	r.Time = e.opts.Clock()
	e.opts.Log.Info("rule action", "rule", r.Rule, "action", r.Action, "server", r.Server, "user", r.User,
		"title", r.Title, "outcome", r.Outcome, "dryRun", r.DryRun, "latencyMs", r.LatencyMs, "detail", r.Detail)
	if e.opts.History == nil {
		return
	}
	if err := e.opts.History.Append(r); err != nil {
		e.opts.Log.Error("writing the history", "err", err)
	}
}

func (e *Engine) notify(n app.Notification) {
	if e.opts.Notify != nil {
		e.opts.Notify(n)
	}
}

func (e *Engine) notifyResult(j job, done, failed string, res app.Result) {
	title := done + ": " + what(j.s)
	if !res.OK() {
		title = failed + ": " + what(j.s)
	}
	body := fmt.Sprintf("Rule %q: %s.", j.rule.Name, j.reason)
	if !res.OK() {
		body = res.Text() + " " + body
	}
	e.notify(app.Notification{Kind: app.NotifyTerminated, Title: title, Body: body})
}

// ManualRecord is the history record of an action the admin took by hand
// (the window, the tray, the command line): action is ActionTerminate or
// ActionStopTranscode, took the time the call took.
func ManualRecord(s app.Session, action Action, message string, res app.Result, took time.Duration) history.Record {
	return history.Record{
		Time: time.Now(), Kind: history.KindManual, Server: s.Server, SessionID: s.ID, SessionKey: s.SessionKey,
		User: s.User, Title: s.Title, Player: playerLabel(s.Player), Action: string(action), Message: message,
		Outcome: string(res.Outcome), LatencyMs: ms(took), Detail: errText(res),
	}
}

// playerLabel names a player for history: "Den (Plex for Roku)", or
// "Plex for Roku (Roku)" when it has no name of its own.
func playerLabel(p app.Player) string {
	if p.Title != "" && p.Product != "" && !strings.EqualFold(p.Title, p.Product) {
		return p.Title + " (" + p.Product + ")"
	}
	return playerName(p)
}

func what(s app.Session) string { return s.User + " · " + s.Title }

// errText is the result's error in words; plex errors never hold the token.
func errText(res app.Result) string {
	if res.Err == nil {
		return ""
	}
	if errors.Is(res.Err, context.Canceled) {
		return "cancelled (Plex Warden was stopping)"
	}
	return res.Err.Error()
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
