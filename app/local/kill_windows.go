//go:build windows

package local

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"
)

// Windows access rights and wait results used here (winnt.h, synchapi.h).
const (
	processTerminate               = 0x0001
	processQueryLimitedInformation = 0x1000
	synchronize                    = 0x00100000
	waitObject0                    = 0x00000000
	waitTimeout                    = 0x00000102
	errorInvalidParameter          = syscall.Errno(87) // OpenProcess on a PID that does not exist
)

// procHandle is an open process handle: it pins the process, so a reused
// PID cannot be hit.
type procHandle struct {
	h   syscall.Handle
	pid int32
	err error // why no handle could be opened
}

func openProcess(pid int32) (*procHandle, error) {
	h, err := syscall.OpenProcess(processTerminate|processQueryLimitedInformation|synchronize, false, uint32(pid))
	switch {
	case err == nil:
		return &procHandle{h: h, pid: pid}, nil
	case errors.Is(err, errorInvalidParameter):
		return nil, fmt.Errorf("PID %d: %w", pid, ErrNoProcess)
	case errors.Is(err, syscall.ERROR_ACCESS_DENIED):
		// Kill reports it after checking that the PID is a transcoder.
		return &procHandle{pid: pid, err: err}, nil
	}
	return nil, fmt.Errorf("PID %d: OpenProcess: %w", pid, err)
}

func (h *procHandle) release() {
	if h.h != 0 {
		_ = syscall.CloseHandle(h.h)
	}
}

// alive reports whether the process has not exited yet.
func (h *procHandle) alive() bool {
	if h.h == 0 {
		return true // cannot tell without a handle; processGone asks gopsutil
	}
	ev, err := syscall.WaitForSingleObject(h.h, 0)
	return err != nil || ev == waitTimeout
}

// terminate calls TerminateProcess: Windows has no SIGTERM for console-less
// processes such as the transcoder, so forceAfter does not apply.
func terminate(ctx context.Context, h *procHandle, id ProcID, forceAfter time.Duration, res *KillResult) error {
	_ = forceAfter
	if h.err != nil {
		return &PermissionError{PID: id.PID, Err: h.err}
	}
	if err := syscall.TerminateProcess(h.h, 1); err != nil {
		if errors.Is(err, syscall.ERROR_ACCESS_DENIED) {
			if !h.alive() { // TerminateProcess on an exiting process is refused too
				return nil
			}
			return &PermissionError{PID: id.PID, Err: err}
		}
		return fmt.Errorf("PID %d: TerminateProcess: %w", id.PID, err)
	}
	res.Signals = append(res.Signals, "TerminateProcess")
	res.Forced = true
	gone, err := waitGone(ctx, h, id, killWait)
	if err != nil {
		return err
	}
	if !gone {
		return fmt.Errorf("PID %d: %w", id.PID, ErrStillRunning)
	}
	return nil
}

// canSignal cannot be answered from an account name on Windows; Kill
// reports a refusal with its remedy.
func canSignal(int64) bool { return true }

// permissionAdvice is the remedy for a refused TerminateProcess. Plex Media
// Server usually runs as the signed-in user or as a service account.
func permissionAdvice(e *PermissionError) string {
	return "Windows refused to end it. Run Plex Warden as administrator (Run as administrator) " +
		"or as the account Plex Media Server runs under, or stop the transcode through Plex instead."
}

func retryAdvice(_ *PermissionError, command string) string {
	return "Try: " + command + " in a terminal opened with Run as administrator"
}
