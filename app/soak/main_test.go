package soak

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// soakDuration is the run time of the soak: PLEXWARDEN_SOAK, default 30s.
func soakDuration(t testing.TB) time.Duration {
	t.Helper()
	v := os.Getenv("PLEXWARDEN_SOAK")
	if v == "" {
		return 30 * time.Second
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		t.Fatalf("PLEXWARDEN_SOAK=%q is not a positive duration (e.g. 30s, 5m)", v)
	}
	return d
}

// soakRand returns the run's random source and its seed: PLEXWARDEN_SOAK_SEED
// if set, else a fresh one. The seed is logged now and again if the test
// fails, with the command that replays the run.
func soakRand(t *testing.T) (*rand.Rand, uint64) {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("PLEXWARDEN_SOAK_SEED"); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("PLEXWARDEN_SOAK_SEED=%q is not a number", v)
		}
		seed = s
	}
	t.Logf("seed %d", seed)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s failed with seed %d; replay: PLEXWARDEN_SOAK_SEED=%d PLEXWARDEN_SOAK=%s go test -run '^%s$' ./app/soak/",
				t.Name(), seed, seed, os.Getenv("PLEXWARDEN_SOAK"), t.Name())
		}
	})
	return rand.New(rand.NewPCG(seed, seed^0x5eed)), seed
}

// between returns a random duration in [lo, hi).
func between(r *rand.Rand, lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(r.Int64N(int64(hi-lo)))
}

// waitFor polls cond every 10 ms until it holds or timeout passes; it
// reports whether it held and how long it took.
func waitFor(timeout time.Duration, cond func() bool) (time.Duration, bool) {
	start := time.Now()
	for {
		if cond() {
			return time.Since(start), true
		}
		if time.Since(start) > timeout {
			return time.Since(start), false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// openFDs lists this process's open file descriptors with their targets.
func openFDs(t testing.TB) map[string]string {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count file descriptors: %v", err)
	}
	fds := map[string]string{}
	for _, e := range entries {
		target, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err != nil {
			continue // the directory's own fd, closed by now
		}
		fds[e.Name()] = target
	}
	return fds
}

// fdDiff describes the descriptors open now that were not open before.
func fdDiff(before, after map[string]string) string {
	s := ""
	for fd, target := range after {
		if before[fd] != target {
			s += fmt.Sprintf(" %s→%s", fd, target)
		}
	}
	return s
}
