package rules

import (
	"fmt"
	"time"

	"github.com/plexwarden/plexwarden/app"
)

// verification is a terminated session waiting to be confirmed gone.
type verification struct {
	j        job
	s        app.Session
	stage    int // 1 after terminate, 2 after stopping the transcode
	deadline time.Time
	since    time.Time // real time of the action being verified
}

// startVerify waits for s to leave the session list. If the newest
// snapshot already lacks it (it ended while the action's record was being
// written), it is confirmed at once.
func (e *Engine) startVerify(j job, s app.Session, stage int) {
	v := &verification{j: j, s: s, stage: stage, deadline: e.now().Add(e.opts.VerifyAfter), since: time.Now()}
	gone := false
	e.mu.Lock()
	if !e.closed {
		if sn := e.snaps[s.Server]; sn != nil {
			_, listed := find(sn.Sessions(), s)
			gone = !listed
		}
		if !gone {
			e.verifying[ident(s)] = v
		}
	}
	e.mu.Unlock()
	if gone {
		e.recordGone(v)
		return
	}
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

// checkStillThere runs when a verification deadline passes with the
// session still listed: after a terminate, stop its transcode and verify
// once more; after that, mark it a zombie. Never a loop.
func (e *Engine) checkStillThere(v *verification) {
	cur, ok := e.opts.Actor.Find(v.s.Key())
	if !ok || !sameStream(cur, v.s) {
		e.recordGone(v)
		return
	}
	after := time.Since(v.since).Round(time.Second)
	if v.stage == 1 && cur.TranscodeKey != "" {
		e.escalate(v.j, cur, fmt.Sprintf("still playing %s after terminate: the player ignored it", after))
		return
	}
	rec := e.record(v.j, cur)
	rec.Action, rec.Message, rec.Outcome = HistoryVerify, "", OutcomeZombie
	rec.Detail = fmt.Sprintf("still listed %s after terminate", after)
	if v.stage == 2 {
		rec.Detail = fmt.Sprintf("still listed %s after stopping its transcode", after)
	}
	rec.Detail += "; the player ignores the server (a zombie), so Plex Warden gives up on it"
	e.write(rec)
	e.notify(app.Notification{Kind: app.NotifyTerminated, Title: "Player ignored terminate: " + what(cur),
		Body: fmt.Sprintf("Rule %q: the session is still listed (a zombie). Plex Warden will not try again.", v.j.rule.Name)})
}

func (e *Engine) recordGone(v *verification) {
	rec := e.record(v.j, v.s)
	rec.Action, rec.Message, rec.Outcome = HistoryVerify, "", OutcomeGone
	rec.LatencyMs = Ms(time.Since(v.since))
	rec.Detail = "ended after terminate"
	if v.stage == 2 {
		rec.Detail = "ended after its transcode was stopped"
	}
	if !e.goTracked(func() { e.write(rec) }) {
		e.write(rec)
	}
}
