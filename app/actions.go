package app

import (
	"context"
	"errors"
	"strings"

	"github.com/plexwarden/plexwarden/plex"
)

// Terminator stops sessions on one server. *plex.Client implements it;
// tests inject fakes.
type Terminator interface {
	Terminate(ctx context.Context, sessionID, reason string) error
	StopTranscode(ctx context.Context, key string) error
}

// Outcome is the result of an action in one word, as history and the UI show it.
type Outcome string

// Outcomes of terminate and stop-transcode.
const (
	OutcomeDone         Outcome = "done"
	OutcomeGone         Outcome = "already gone"
	OutcomePlexPass     Outcome = "Plex Pass required"
	OutcomeUnauthorized Outcome = "token rejected"
	OutcomeForbidden    Outcome = "not allowed"
	OutcomeNoID         Outcome = "no session id"
	OutcomeFailed       Outcome = "failed"
	OutcomeDryRun       Outcome = "dry run"
)

// Result is the outcome of one action with its error, if any.
type Result struct {
	Outcome Outcome
	Err     error
}

// OK reports whether the action achieved its aim (done, or the session was
// already gone).
func (r Result) OK() bool { return r.Outcome == OutcomeDone || r.Outcome == OutcomeGone }

// Text is a sentence for the window and notifications.
func (r Result) Text() string {
	switch r.Outcome {
	case OutcomeDone:
		return "Done."
	case OutcomeGone:
		return "The session had already ended."
	case OutcomePlexPass:
		return "The server refused: terminating sessions needs an active Plex Pass on the owner's account."
	case OutcomeUnauthorized:
		return "The server rejected the token. Sign in again or update the token in Settings."
	case OutcomeForbidden:
		return "The server refused: this account is not allowed to do that (use the owner's token)."
	case OutcomeNoID:
		return "Plex did not report a Session id for this stream, so it cannot be terminated; stop its transcode instead."
	case OutcomeDryRun:
		return "Dry run: nothing was sent."
	}
	if r.Err != nil {
		return "Failed: " + r.Err.Error()
	}
	return "Failed."
}

// ResultOf classifies the error of a terminate or stop-transcode call.
func ResultOf(err error) Result {
	switch {
	case err == nil:
		return Result{Outcome: OutcomeDone}
	case errors.Is(err, plex.ErrNotFound):
		return Result{Outcome: OutcomeGone, Err: err}
	case errors.Is(err, plex.ErrPlexPassRequired):
		return Result{Outcome: OutcomePlexPass, Err: err}
	case errors.Is(err, plex.ErrUnauthorized):
		return Result{Outcome: OutcomeUnauthorized, Err: err}
	case errors.Is(err, plex.ErrForbidden):
		return Result{Outcome: OutcomeForbidden, Err: err}
	}
	return Result{Outcome: OutcomeFailed, Err: err}
}

// TerminateSession terminates s with message through t. A session without a
// Session id cannot be terminated (OutcomeNoID).
func TerminateSession(ctx context.Context, t Terminator, s Session, message string) Result {
	if s.ID == "" {
		return Result{Outcome: OutcomeNoID}
	}
	return ResultOf(t.Terminate(ctx, s.ID, message))
}

// StopSessionTranscode kills the transcode of s through t.
func StopSessionTranscode(ctx context.Context, t Terminator, s Session) Result {
	if s.TranscodeKey == "" {
		return Result{Outcome: OutcomeGone, Err: errors.New("the session is not transcoding")}
	}
	return ResultOf(t.StopTranscode(ctx, s.TranscodeKey))
}

// DefaultMessage is the terminate message prefilled for a session: a
// sentence that fits the player, naming where its quality setting lives so
// the viewer can fix the cause without calling the admin.
func DefaultMessage(s Session) string {
	base := "The server owner has ended this stream."
	if !s.Transcoding() {
		return base
	}
	// No rule is claimed: the admin is acting by hand, and may have no rule
	// about transcodes at all.
	return base + " It was being converted (transcoded) for your player. " + qualityHint(s.Player)
}

// qualityHint tells a viewer how to pick Original quality on their player.
func qualityHint(p Player) string {
	prod := strings.ToLower(p.Product + " " + p.Platform + " " + p.Device)
	switch {
	case strings.Contains(prod, "roku"):
		return "On Roku: Settings › Playback › Remote quality › Original, then play again."
	case strings.Contains(prod, "web") || strings.Contains(prod, "chrome") || strings.Contains(prod, "firefox") || strings.Contains(prod, "safari"):
		return "In Plex Web: Settings › Quality › Remote Streaming › Original (and turn off 'Automatically adjust quality'), then play again."
	case strings.Contains(prod, "android"):
		return "On Android: Settings › Video › Remote quality › Original, then play again."
	case strings.Contains(prod, "ios") || strings.Contains(prod, "iphone") || strings.Contains(prod, "ipad"):
		return "On iPhone/iPad: Settings › Video quality › Remote streaming › Original, then play again."
	case strings.Contains(prod, "tvos") || strings.Contains(prod, "apple tv"):
		return "On Apple TV: Settings › Video › Remote quality › Original, then play again."
	case strings.Contains(prod, "tizen") || strings.Contains(prod, "webos") || strings.Contains(prod, "samsung") || strings.Contains(prod, "lg") || strings.Contains(prod, "vizio"):
		return "On your TV's Plex app: Settings › Video › Remote quality › Original, then play again."
	}
	return "Set the player's streaming quality to Original (Maximum), then play again."
}
