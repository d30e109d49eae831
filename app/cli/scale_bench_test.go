package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/plex/plexsim"
)

// lineCounter counts the "changed" lines watch prints.
type lineCounter struct {
	mu      sync.Mutex
	changed int
	started int
}

func (c *lineCounter) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.changed += bytes.Count(p, []byte(`"event":"changed"`))
	c.started += bytes.Count(p, []byte(`"event":"started"`))
	c.mu.Unlock()
	return len(p), nil
}

func (c *lineCounter) counts() (started, changed int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.started, c.changed
}

// BenchmarkWatchStateChanges runs watch --json in this process (monitor,
// diagnostics, four rules that never act, the JSON output) against a
// stand-in server with 2,000 sessions and measures one state change, from
// the server's SetState to the "changed" line: the whole chain `make
// loadgrid` measures from outside, here for a CPU profile
// (-cpuprofile).
func BenchmarkWatchStateChanges(b *testing.B) {
	const n = 2000
	sim := plexsim.New(plexsim.Options{Token: watchToken, PlexPass: true})
	if err := sim.Start("127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	defer sim.Close()
	keys := make([]string, n)
	for i := range keys {
		spec := plexsim.SessionSpec{User: fmt.Sprintf("user%03d", i%(n/10)), Title: fmt.Sprintf("Film %d", i), DurationMs: 24 * 3600 * 1000,
			Player: plexsim.PlayerSpec{Title: "TV", Product: "Plex for Roku", MachineID: fmt.Sprintf("bench-%05d", i)}}
		if i%5 == 0 {
			spec.Transcode = &plexsim.TranscodeSpec{Video: plexsim.DecisionTranscode}
		}
		keys[i] = sim.AddSession(spec).Key
	}
	dir := b.TempDir()
	rulesPath := filepath.Join(dir, "rules.json")
	if err := os.WriteFile(rulesPath, []byte(`{"version":1,"rules":[
 {"name":"streams per user","kind":"userStreams","maxStreams":10000},
 {"name":"transcodes per server","kind":"serverTranscodes","maxTranscodes":100000},
 {"name":"paused too long","kind":"paused","pausedFor":"6h"},
 {"name":"4K transcodes","kind":"sourceTranscode","minResolution":"4k"}]}`), 0o600); err != nil {
		b.Fatal(err)
	}
	b.Setenv("PLEXWARDEN_CONFIG_DIR", dir)
	out := &lineCounter{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	env := Env{Args: []string{"watch", "--json", "--history", "off", "--config", rulesPath, "--server", sim.URL()},
		Getenv: func(k string) string { return map[string]string{"PLEX_TOKEN": watchToken}[k] }, Stdout: out, Stderr: io.Discard, Version: "bench"}
	go func() { done <- Main(ctx, env) }()
	defer func() { cancel(); <-done }()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if s, _ := out.counts(); s >= n {
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("watch did not list every session")
		}
	}
	b.ResetTimer()
	paused := make([]bool, n)
	for i := 0; b.Loop(); i++ {
		k := i % n
		paused[k] = !paused[k]
		st := plexsim.StatePlaying
		if paused[k] {
			st = plexsim.StatePaused
		}
		_, before := out.counts()
		if err := sim.SetState(keys[k], st); err != nil {
			b.Fatal(err)
		}
		for deadline := time.Now().Add(5 * time.Second); ; {
			if _, c := out.counts(); c > before {
				break
			}
			if time.Now().After(deadline) {
				b.Fatal("no changed line in 5 s")
			}
			time.Sleep(20 * time.Microsecond)
		}
	}
}
