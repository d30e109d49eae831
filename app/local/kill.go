package local

import (
	"context"
	"errors"
	"fmt"
	"os/user"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shirou/gopsutil/v4/process"
)

// DefaultForceAfter is how long Kill waits after SIGTERM before SIGKILL.
const DefaultForceAfter = 5 * time.Second

// killWait bounds the wait for a process to disappear after SIGKILL (or
// TerminateProcess); only a process stuck in the kernel takes longer.
const killWait = 3 * time.Second

// Errors of Kill. Test with errors.Is; the concrete errors carry details.
var (
	// ErrNoProcess: no such process, or it exited (its PID may now belong
	// to another process). For a clean-up this means "already gone".
	ErrNoProcess = errors.New("no such process")
	// ErrNotTranscoder: the PID is not a transcoder; Kill refuses it.
	ErrNotTranscoder = errors.New("not a transcoder")
	// ErrPermission: the process belongs to another user. The
	// *PermissionError says whose and what to do.
	ErrPermission = errors.New("permission denied")
	// ErrStillRunning: the process survived SIGKILL (stuck in the kernel).
	ErrStillRunning = errors.New("still running after SIGKILL")
)

// KillOptions configures Kill.
type KillOptions struct {
	// ForceAfter is the wait between SIGTERM and SIGKILL; 0 means
	// DefaultForceAfter. Windows has no polite stop: TerminateProcess at once.
	ForceAfter time.Duration
	// Matcher decides what counts as a transcoder; the zero value matches
	// the default names.
	Matcher Matcher
}

// KillResult says how a process was ended.
type KillResult struct {
	PID     int32         `json:"pid"`
	Name    string        `json:"name"`
	Signals []string      `json:"signals"` // what was sent, in order: SIGTERM, SIGKILL, TerminateProcess
	Forced  bool          `json:"forced"`  // it had to be killed outright (SIGKILL, TerminateProcess)
	Gone    bool          `json:"gone"`    // it had already exited before anything was sent
	Took    time.Duration `json:"tookNs"`
}

// Text is a sentence for the window, notifications and the terminal.
func (r KillResult) Text() string {
	who := fmt.Sprintf("PID %d (%s)", r.PID, r.Name)
	switch {
	case r.Gone:
		return who + " had already exited."
	case len(r.Signals) == 1 && r.Signals[0] == "SIGTERM":
		return fmt.Sprintf("Stopped %s with SIGTERM%s.", who, took(r.Took))
	case r.Forced && slices.Contains(r.Signals, "SIGTERM"):
		return fmt.Sprintf("%s did not exit after SIGTERM; killed it with SIGKILL%s.", who, took(r.Took))
	case r.Forced:
		return fmt.Sprintf("Ended %s with %s%s.", who, strings.Join(r.Signals, ", "), took(r.Took))
	}
	return fmt.Sprintf("Stopped %s.", who)
}

// took is " after 1.2s" for waits worth mentioning, else "".
func took(d time.Duration) string {
	if d < 50*time.Millisecond {
		return ""
	}
	return " after " + d.Round(100*time.Millisecond).String()
}

// NotTranscoderError is returned for a PID that is not a transcoder: its
// name is not a transcoder's, or (Reason) it has nothing but the name.
type NotTranscoderError struct {
	PID    int32
	Name   string
	Names  []string // the names that would have been accepted
	Reason string   // set when the name matched but nothing else did (Verify)
}

// Error implements error.
func (e *NotTranscoderError) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("PID %d is named %q but is not taken for a transcoder: %s. Plex Warden only stops transcoder processes",
			e.PID, e.Name, e.Reason)
	}
	return fmt.Sprintf("PID %d is %q, not a transcoder (%s): Plex Warden only stops transcoder processes",
		e.PID, e.Name, strings.Join(e.Names, ", "))
}

// Is makes errors.Is(err, ErrNotTranscoder) true.
func (e *NotTranscoderError) Is(target error) bool { return target == ErrNotTranscoder }

// PermissionError is returned when the system refuses to stop a process of
// another user. Its message names the owner and the remedy.
type PermissionError struct {
	PID   int32
	Name  string
	Owner string // the process's user, "" when unknown
	Self  string // the user Plex Warden runs as
	Err   error  // the system's error (EPERM, ERROR_ACCESS_DENIED)
}

// Error implements error.
func (e *PermissionError) Error() string {
	owner := e.Owner
	if owner == "" {
		owner = "another user"
	} else {
		owner = "user " + owner
	}
	return fmt.Sprintf("permission denied: PID %d (%s) belongs to %s and Plex Warden runs as %s. %s",
		e.PID, e.Name, owner, e.Self, permissionAdvice(e))
}

// Retry suggests how to run command (a command line) with the rights it
// needs, e.g. "Try: sudo -u plex plexwarden kill-local 4242 (or sudo …)".
func (e *PermissionError) Retry(command string) string { return retryAdvice(e, command) }

// Is makes errors.Is(err, ErrPermission) true.
func (e *PermissionError) Is(target error) bool { return target == ErrPermission }

// Unwrap returns the system's error.
func (e *PermissionError) Unwrap() error { return e.Err }

// Kill ends the transcoder id: SIGTERM, up to ForceAfter for it to exit,
// then SIGKILL (Windows: TerminateProcess). It first checks that the PID
// still is a transcoder and, when id.Start is set, the same process a scan
// saw, so a reused PID is never hit. It returns ErrNoProcess (wrapped) when
// the process is gone, a *NotTranscoderError for other processes and a
// *PermissionError when the system refuses. Confirmation is the caller's
// job.
func Kill(ctx context.Context, id ProcID, opts KillOptions) (KillResult, error) {
	res := KillResult{PID: id.PID}
	if id.PID <= 0 {
		return res, fmt.Errorf("PID %d: %w", id.PID, ErrNoProcess)
	}
	if opts.ForceAfter <= 0 {
		opts.ForceAfter = DefaultForceAfter
	}
	// Pin the process first (a pidfd on Linux), then check what it is: a
	// PID reused after the check can then no longer be hit.
	h, err := openProcess(id.PID)
	if err != nil {
		return res, err
	}
	defer h.release()

	p, err := process.NewProcessWithContext(ctx, id.PID)
	if err != nil {
		if errors.Is(err, process.ErrorProcessNotRunning) {
			return res, fmt.Errorf("PID %d: %w", id.PID, ErrNoProcess)
		}
		return res, fmt.Errorf("PID %d: %w", id.PID, err)
	}
	name, err := p.NameWithContext(ctx)
	if err != nil {
		if gone, _ := processGone(ctx, h, id); gone {
			return res, fmt.Errorf("PID %d: %w", id.PID, ErrNoProcess)
		}
		return res, fmt.Errorf("PID %d: cannot read its name: %w", id.PID, err)
	}
	res.Name = name
	kind, ok := opts.Matcher.Match(name)
	if !ok {
		return res, &NotTranscoderError{PID: id.PID, Name: name, Names: opts.Matcher.Names()}
	}
	if id.Start != 0 {
		if created, err := p.CreateTimeWithContext(ctx); err == nil && created != id.Start {
			return res, fmt.Errorf("PID %d: the transcoder exited and the PID now belongs to a newer process: %w", id.PID, ErrNoProcess)
		}
	}
	if why := Verify(kind, evidenceOf(ctx, p)); why != "" {
		return res, &NotTranscoderError{PID: id.PID, Name: name, Names: opts.Matcher.Names(), Reason: why}
	}
	if gone, _ := processGone(ctx, h, id); gone {
		res.Gone = true
		return res, nil
	}
	start := time.Now()
	err = terminate(ctx, h, id, opts.ForceAfter, &res)
	res.Took = time.Since(start)
	var pe *PermissionError
	if errors.As(err, &pe) {
		pe.Name = name
		pe.Owner = ownerName(ctx, p)
		pe.Self = selfName()
	}
	return res, err
}

// waitGone polls until the process is gone, d passes or ctx ends. It polls
// quickly at first (most transcoders exit within milliseconds of SIGTERM)
// and backs off to 100 ms.
func waitGone(ctx context.Context, h *procHandle, id ProcID, d time.Duration) (bool, error) {
	deadline := time.Now().Add(d)
	step := 5 * time.Millisecond
	for {
		if gone, err := processGone(ctx, h, id); gone || err != nil {
			return gone, err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return false, nil
		}
		t := time.NewTimer(min(step, left))
		select {
		case <-ctx.Done():
			t.Stop()
			return false, ctx.Err()
		case <-t.C:
		}
		step = min(step*2, 100*time.Millisecond)
	}
}

// processGone reports whether the process has exited: the system says so,
// it is a zombie waiting for its parent, or its PID was reused.
func processGone(ctx context.Context, h *procHandle, id ProcID) (bool, error) {
	if !h.alive() {
		return true, nil
	}
	p, err := process.NewProcessWithContext(ctx, id.PID)
	if err != nil {
		if errors.Is(err, process.ErrorProcessNotRunning) {
			return true, nil
		}
		return false, nil
	}
	if st, err := p.StatusWithContext(ctx); err == nil && slices.Contains(st, process.Zombie) {
		return true, nil
	}
	if id.Start != 0 {
		if created, err := p.CreateTimeWithContext(ctx); err == nil && created != id.Start {
			return true, nil
		}
	}
	return false, nil
}

func ownerName(ctx context.Context, p *process.Process) string {
	if uids, err := p.UidsWithContext(ctx); err == nil && len(uids) > 0 {
		id := strconv.FormatUint(uint64(uids[0]), 10)
		if u, err := user.LookupId(id); err == nil {
			return u.Username
		}
		return "uid " + id
	}
	name, _ := p.UsernameWithContext(ctx)
	return name
}

func selfName() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "the current user"
}
