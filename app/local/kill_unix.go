//go:build unix

package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// procHandle pins one process. On Linux os.FindProcess holds a pidfd, so
// signals reach the process that was checked even if its PID is reused.
type procHandle struct{ p *os.Process }

func openProcess(pid int32) (*procHandle, error) {
	p, err := os.FindProcess(int(pid)) // never fails on Unix
	if err != nil {
		return nil, fmt.Errorf("PID %d: %w", pid, err)
	}
	return &procHandle{p: p}, nil
}

func (h *procHandle) release() { _ = h.p.Release() }

// alive sends signal 0: false once the process has exited (a zombie still
// counts as alive here; processGone checks for that).
func (h *procHandle) alive() bool {
	err := h.p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}

// signal sends sig and maps the errors Kill reports.
func (h *procHandle) signal(id ProcID, sig syscall.Signal) error {
	err := h.p.Signal(sig)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, os.ErrProcessDone), errors.Is(err, syscall.ESRCH):
		return fmt.Errorf("PID %d: %w", id.PID, ErrNoProcess)
	case errors.Is(err, syscall.EPERM):
		return &PermissionError{PID: id.PID, Err: err}
	}
	return fmt.Errorf("PID %d: %s: %w", id.PID, sigName(sig), err)
}

// terminate sends SIGTERM, waits up to forceAfter, then SIGKILL and waits
// up to killWait. A process that exits between the checks and a signal is
// a success.
func terminate(ctx context.Context, h *procHandle, id ProcID, forceAfter time.Duration, res *KillResult) error {
	if err := h.signal(id, syscall.SIGTERM); err != nil {
		if errors.Is(err, ErrNoProcess) {
			res.Gone = true
			return nil
		}
		return err
	}
	res.Signals = append(res.Signals, "SIGTERM")
	gone, err := waitGone(ctx, h, id, forceAfter)
	if gone || err != nil {
		return err
	}
	if err := h.signal(id, syscall.SIGKILL); err != nil {
		if errors.Is(err, ErrNoProcess) {
			return nil // exited just now, after SIGTERM
		}
		return err
	}
	res.Signals = append(res.Signals, "SIGKILL")
	res.Forced = true
	gone, err = waitGone(ctx, h, id, killWait)
	if err != nil {
		return err
	}
	if !gone {
		return fmt.Errorf("PID %d: %w (it may be stuck in the kernel, e.g. on a hung network share)", id.PID, ErrStillRunning)
	}
	return nil
}

func sigName(sig syscall.Signal) string {
	switch sig {
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGKILL:
		return "SIGKILL"
	}
	return sig.String()
}

// canSignal guesses whether this process may signal one owned by uid:
// root may signal anything, others only their own processes (CAP_KILL
// aside, which is rare).
func canSignal(uid int64) bool {
	euid := int64(os.Geteuid())
	return uid < 0 || euid == 0 || euid == uid
}

// permissionAdvice is the remedy for a refused signal on Unix. Only the
// owner or root (strictly: CAP_KILL) may signal a process; group
// membership does not help, whatever the plex group may grant on files.
func permissionAdvice(e *PermissionError) string {
	const viaPlex = "or stop the transcode through Plex instead."
	switch e.Owner {
	case "root":
		return "Only root may stop it: run Plex Warden as root (sudo), " + viaPlex
	case "":
		return "Only its owner or root may stop it (group membership is not enough): " +
			"run Plex Warden as that user or as root (sudo), " + viaPlex
	}
	return fmt.Sprintf("Only %[1]s or root may stop it; being in the %[1]s group is not enough. "+
		"Run Plex Warden as %[1]s (sudo -u %[1]s) or as root (sudo), "+viaPlex, e.Owner)
}

func retryAdvice(e *PermissionError, command string) string {
	if e.Owner == "" || e.Owner == "root" {
		return "Try: sudo " + command
	}
	return fmt.Sprintf("Try: sudo -u %s %s   (or: sudo %s)", e.Owner, command, command)
}
