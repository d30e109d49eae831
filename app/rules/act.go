package rules

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/internal/words"
	"github.com/plexwarden/plexwarden/plex"
)

// act carries out one job.
func (e *Engine) act(j job) {
	defer e.wg.Done()
	c := j.rule
	if j.note != "" {
		e.warn(j)
		return
	}
	rec := e.record(j, j.s)
	if j.gone != "" {
		rec.Outcome, rec.Detail = string(app.OutcomeGone), j.gone
		e.write(rec)
		return
	}
	switch {
	case j.dryRun || c.Action == ActionLog:
		rec.DryRun = true
		rec.Outcome = string(app.OutcomeDryRun)
		if !j.dryRun {
			rec.Outcome = OutcomeLogged
		}
		rec.LatencyMs = Ms(time.Since(j.trigger))
		rec.Detail = "would " + string(c.Action)
		if c.Action == ActionLog {
			rec.Detail = "log-only rule"
		}
		e.write(rec)
		e.logBlock(j)
	case c.Action == ActionNotify:
		e.notify(app.Notification{Kind: app.NotifyTerminated, Title: fmt.Sprintf("Rule %q: %s", c.Name, what(j.s)), Body: words.Capitalize(j.reason) + "."})
		rec.Outcome, rec.LatencyMs = OutcomeNotified, Ms(time.Since(j.trigger))
		e.write(rec)
	case c.Action == ActionStopTranscode:
		rec.Message = ""
		if j.s.TranscodeKey == "" {
			rec.Outcome = OutcomeNotTranscoding
			e.write(rec)
			return
		}
		rec.Intent = e.intend(rec)
		res := e.stopTranscode(j.s)
		rec.Outcome, rec.Detail, rec.LatencyMs = string(res.Outcome), ErrText(res), Ms(time.Since(j.trigger))
		e.write(rec)
		e.notifyResult(j, "Transcode stopped", "Could not stop the transcode", res)
		if res.Outcome == app.OutcomeDone {
			e.startBlock(j, j.s)
		}
		if transient(res) {
			e.retryLater(j)
		}
	default:
		e.terminate(j)
	}
}

// terminate runs docs/plex-api.md §6.3: terminate; without a Session id,
// wait for the resync and try again, else stop the transcode; on a refusal
// (no Plex Pass, not the owner) stop the transcode if the rule allows;
// after success, verify.
func (e *Engine) terminate(j job) {
	s := j.s
	intent := e.intend(e.record(j, s))
	res := e.callTerminate(s, j.message)
	if res.Outcome == app.OutcomeNoID {
		if fresh, ok := e.awaitID(s); ok {
			s = fresh
			res = e.callTerminate(s, j.message)
		} else if !e.stillListed(s) {
			res = app.Result{Outcome: app.OutcomeGone}
		}
	}
	rec := e.record(j, s)
	rec.Outcome, rec.Detail, rec.LatencyMs = string(res.Outcome), ErrText(res), Ms(time.Since(j.trigger))
	rec.Intent = intent
	e.write(rec)
	switch res.Outcome {
	case app.OutcomeDone:
		e.clearProblem(s.Server)
		e.notifyResult(j, "Terminated", "Could not terminate", res)
		e.startBlock(j, s)
		e.startVerify(j, s, 1)
	case app.OutcomeGone:
	case app.OutcomeNoID:
		e.escalate(j, s, "Plex reported no Session id, so the stream could not be terminated; its transcode was stopped instead")
	case app.OutcomePlexPass, app.OutcomeForbidden, app.OutcomeUnauthorized:
		if e.setProblem(s.Server, res) {
			e.notifyResult(j, "Terminated", "Could not terminate", res)
		}
		if c := j.rule; c.FallbackStopTranscode && res.Outcome != app.OutcomeUnauthorized {
			e.escalate(j, s, "fallback: the server refused to terminate ("+string(res.Outcome)+")")
		}
		if transient(res) {
			e.retryLater(j)
		}
	default:
		e.notifyResult(j, "Terminated", "Could not terminate", res)
		switch {
		case transient(res):
			e.retryLater(j)
		case j.rule.FallbackStopTranscode:
			// Retrying cannot help (the server refused the request
			// itself): stop the transcode as the rule allows.
			e.escalate(j, s, "fallback: the server refused the terminate request ("+ErrText(res)+")")
		}
	}
}

// transient reports a failure that may pass: the server erred, did not
// answer or could not be reached, or it rejected the token (while the
// monitor runs, the server takes the token again or the monitor stops).
func transient(res app.Result) bool {
	switch res.Outcome {
	case app.OutcomeUnauthorized:
		return true
	case app.OutcomeFailed:
		return errors.Is(res.Err, plex.ErrServer) || errors.Is(res.Err, plex.ErrTimeout) || errors.Is(res.Err, plex.ErrUnreachable)
	}
	return false
}

// retryLater forgets that j's rule acted on its stream, which was not
// stopped, so the rule acts again after RetryAfter if the stream still
// matches then (as after a grace delay of RetryAfter); it still acts at
// most once successfully.
func (e *Engine) retryLater(j job) {
	id := ident(j.s)
	k := actKey{j.rule.Name, id}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	if j.blockOf != "" {
		k.rule = blockKeyPrefix + j.blockOf
	}
	delete(e.acted, k)
	if j.rule.terminates() {
		delete(e.claimed, id)
	}
	if j.blockOf != "" {
		e.retryAt[k] = e.now().Add(e.opts.RetryAfter) // enforceBlocksLocked waits for it
	} else {
		e.pending[k] = &pending{due: e.now().Add(e.opts.RetryAfter), trigger: j.trigger, retry: &j}
		e.inc.reopen(k.rule)
	}
	e.mu.Unlock()
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

// escalate stops the transcode of s (if it has one) and verifies once more.
func (e *Engine) escalate(j job, s app.Session, why string) {
	cur, ok := e.opts.Actor.Find(s.Key())
	if ok && sameStream(cur, s) {
		s = cur
	}
	rec := e.record(j, s)
	rec.Action, rec.Message = string(ActionStopTranscode), ""
	if s.TranscodeKey == "" {
		rec.Outcome, rec.Detail = OutcomeNotTranscoding, why+"; but it is not transcoding, so nothing more can be done"
		e.write(rec)
		return
	}
	t0 := time.Now()
	res := e.stopTranscode(s)
	rec.Outcome, rec.Detail, rec.LatencyMs = string(res.Outcome), words.Join(why, ErrText(res)), Ms(time.Since(t0))
	e.write(rec)
	e.notifyResult(j, "Transcode stopped", "Could not stop the transcode", res)
	if res.OK() {
		e.startVerify(j, s, 2)
	}
}

// awaitID waits for the resync the hub starts after a terminate found no
// Session id, and returns the session if it now has one. It looks at the
// next two updates of the server (the first may be a coalesced position
// update published before the fetch ends), at most noIDWait.
func (e *Engine) awaitID(s app.Session) (app.Session, bool) {
	if cur, ok := e.opts.Actor.Find(s.Key()); ok && cur.ID != "" && cur.Player.MachineIdentifier == s.Player.MachineIdentifier {
		return cur, true // the resync was quicker than us
	}
	deadline := time.NewTimer(noIDWait)
	defer deadline.Stop()
	for range 2 {
		e.mu.Lock()
		ch, ok := e.updated[s.Server]
		if !ok {
			ch = make(chan struct{})
			e.updated[s.Server] = ch
		}
		e.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			return app.Session{}, false
		case <-e.ctx.Done():
			return app.Session{}, false
		}
		cur, ok := e.opts.Actor.Find(s.Key())
		if !ok {
			return app.Session{}, false
		}
		if cur.ID != "" && cur.Player.MachineIdentifier == s.Player.MachineIdentifier {
			return cur, true
		}
	}
	return app.Session{}, false
}

func (e *Engine) stillListed(s app.Session) bool {
	cur, ok := e.opts.Actor.Find(s.Key())
	return ok && sameStream(cur, s)
}

// callTerminate and stopTranscode bound one call by ActionTimeout; Close
// aborts them.
func (e *Engine) callTerminate(s app.Session, message string) app.Result {
	ctx, cancel := context.WithTimeout(e.ctx, e.opts.ActionTimeout)
	defer cancel()
	return e.opts.Actor.Terminate(ctx, s, message)
}

func (e *Engine) stopTranscode(s app.Session) app.Result {
	ctx, cancel := context.WithTimeout(e.ctx, e.opts.ActionTimeout)
	defer cancel()
	return e.opts.Actor.StopTranscode(ctx, s)
}

// setProblem remembers a refusal; it reports whether it is news (so it is
// announced once per server, not once per session).
func (e *Engine) setProblem(server string, res app.Result) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	old := e.problems[server]
	e.problems[server] = res.Text()
	return old != res.Text()
}

func (e *Engine) clearProblem(server string) {
	e.mu.Lock()
	delete(e.problems, server)
	e.mu.Unlock()
}
