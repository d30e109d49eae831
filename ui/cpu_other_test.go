//go:build !unix

package ui

import "time"

// processCPU is not measured here: the benchmarks report 0 cpu-ms/op.
func processCPU() time.Duration { return 0 }
