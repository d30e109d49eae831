//go:build unix

package ui

import (
	"syscall"
	"time"
)

// processCPU is the user and system CPU time this process has used
// (benchmarks: on a shared machine the wall time includes waiting for a
// core).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
