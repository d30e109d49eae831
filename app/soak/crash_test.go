package soak

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/app/history"
	"github.com/plexwarden/plexwarden/app/rules"
	"github.com/plexwarden/plexwarden/plex/plexsim"
)

// recordSlack is how long after the server answered a terminate the
// process must have lived for its history record to be required. The
// record is written right after the answer (one write, one fsync, well
// under this on any disk); a SIGKILL inside that window may lose it, and
// nothing else may.
const recordSlack = time.Second

// watchBinary returns the plexwarden binary to run: PLEXWARDEN_BIN, or one
// built from the module root into a temporary directory.
func watchBinary(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("PLEXWARDEN_BIN"); bin != "" {
		abs, err := filepath.Abs(bin)
		if err != nil {
			t.Fatal(err)
		}
		return abs
	}
	goCmd, err := exec.LookPath("go") // go test puts its own go first in PATH
	if err != nil {
		t.Fatalf("no go command to build plexwarden with (or set PLEXWARDEN_BIN): %v", err)
	}
	bin := filepath.Join(t.TempDir(), "plexwarden")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, goCmd, "build", "-o", bin, ".")
	cmd.Dir = filepath.Join("..", "..") // the module root (tests run in their package's directory)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building plexwarden: %v\n%s", err, out)
	}
	t.Logf("built %s in %s", bin, time.Since(start).Round(time.Millisecond))
	return bin
}

// watchProc is one run of `plexwarden watch --json`.
type watchProc struct {
	cmd       *exec.Cmd
	connected chan struct{} // closed at the first "connected" line
	done      chan error    // the exit status, once
	waited    bool          // done was received (test goroutine only)
	stderr    *bytes.Buffer
	stdout    *os.File
}

// wait returns the exit status once the process has ended and its output
// is read.
func (p *watchProc) wait() error {
	p.waited = true
	return <-p.done
}

// end kills the process if it was not waited for: no run outlives the test.
func (p *watchProc) end() {
	if p != nil && !p.waited {
		_ = p.cmd.Process.Kill()
		_ = p.wait()
	}
}

// startWatch runs the real binary against the simulator, with the config
// directory dir (rules.json, config.json, client-id, history/).
func startWatch(t *testing.T, bin, dir, url string, n int) *watchProc {
	t.Helper()
	out, err := os.Create(filepath.Join(filepath.Dir(dir), fmt.Sprintf("watch-%03d.jsonl", n)))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "watch", "--json")
	cmd.Env = append(os.Environ(), "PLEXWARDEN_CONFIG_DIR="+dir, "PLEX_URL="+url, "PLEX_TOKEN="+simToken)
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &watchProc{cmd: cmd, connected: make(chan struct{}), done: make(chan error, 1), stderr: &bytes.Buffer{}, stdout: out}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		sc := bufio.NewScanner(pipe)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			line := sc.Bytes()
			_, _ = out.Write(append(line, '\n'))
			var l struct{ Kind, Event string }
			if json.Unmarshal(line, &l) == nil && l.Kind == "connection" && l.Event == "connected" {
				once.Do(func() { close(p.connected) })
			}
		}
		_, _ = io.Copy(io.Discard, pipe)
	}()
	go func() {
		<-readDone // Wait closes the pipe: read it to the end first
		p.done <- cmd.Wait()
		out.Close()
	}()
	return p
}

// fileSizes returns the size of every history file in dir.
func fileSizes(dir string) map[string]int64 {
	out := map[string]int64{}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if info, err := e.Info(); err == nil && !e.IsDir() {
			out[e.Name()] = info.Size()
		}
	}
	return out
}

// readAll returns the content of every history file in dir.
func readAll(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
	}
	return out
}

// checkPrefix reports history files of before that are not a byte prefix
// of the same file in after: records lost or changed.
func checkPrefix(t *testing.T, when string, before, after map[string][]byte) {
	t.Helper()
	for name, b := range before {
		if a, ok := after[name]; !ok || !bytes.HasPrefix(a, b) {
			t.Errorf("history file %s after %s (%d bytes) is not a prefix of its next state (%d bytes): records were lost or changed",
				name, when, len(b), len(after[name]))
		}
	}
}

func hashFiles(t *testing.T, paths ...string) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[p] = sha256.Sum256(b)
	}
	return out
}

// TestSoakCrash runs the real `plexwarden watch` binary against the
// simulator with the soak's rules and kills it with SIGKILL again and
// again while it acts (right after a session it must terminate appears),
// restarting it each time. It checks that the history is an append-only,
// prefix-consistent log (what was on disk before a kill is on disk after
// it, byte for byte; at most the line being written at a kill is torn, and
// reading skips it); that every terminate the server answered has its
// record unless the process died within recordSlack of the answer; that no
// session is terminated twice across restarts and none no rule matches is
// touched; and that the configuration and rules files are unchanged byte
// for byte. The last run ends with SIGTERM and must exit 0.
func TestSoakCrash(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("SIGKILL and /proc: Linux only")
	}
	d := max(soakDuration(t)/3, 10*time.Second)
	r, _ := soakRand(t)
	bin := watchBinary(t)

	root := t.TempDir()
	dir := filepath.Join(root, "config")
	histDir := filepath.Join(dir, "history")
	cfg := app.DefaultConfig()
	cfg.Servers = []app.ServerConfig{{Name: "Elsewhere", URL: "http://127.0.0.1:9", MachineID: "elsewhere"}}
	if err := app.SaveConfig(filepath.Join(dir, "config.json"), cfg); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, rules.FileName), []byte(soakRules), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := app.LoadClientID(dir); err != nil {
		t.Fatal(err)
	}
	guarded := []string{filepath.Join(dir, "config.json"), filepath.Join(dir, rules.FileName), filepath.Join(dir, "client-id")}
	hashes := hashFiles(t, guarded...)

	sim := plexsim.New(plexsim.Options{Token: simToken, PlexPass: true, PingInterval: time.Second})
	if err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	sc := newScenario(r, sim)
	for range 6 {
		sc.step()
	}

	var (
		kills    []time.Time         // when each SIGKILL was sent
		tornEnds = map[string]bool{} // "file@size": where a line torn by a kill may end
		previous map[string][]byte   // the history files after the last kill
		runs     int
	)
	var current *watchProc
	defer func() { current.end() }() // never leave a process behind, whatever failed
	start := time.Now()
	for time.Since(start) < d && !t.Failed() {
		runs++
		current = startWatch(t, bin, dir, sim.URL(), runs)
		select {
		case <-current.connected:
		case err := <-current.done:
			current.waited = true
			t.Fatalf("run %d: watch exited before connecting: %v\n%s", runs, err, current.stderr)
		case <-time.After(20 * time.Second):
			t.Fatalf("run %d: watch did not connect within 20s\n%s", runs, current.stderr)
		}
		churn(r, sc, between(r, 100*time.Millisecond, 1500*time.Millisecond))
		// Kill it while it acts: right after a session it must terminate
		// at once appears, so the kill lands anywhere between the event
		// and the history record.
		sc.add(sc.spec(userTranscodeBan, &videoTranscode), "xavier video transcode", time.Now())
		time.Sleep(between(r, 0, 4*time.Millisecond))
		kills = append(kills, time.Now())
		if err := current.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatalf("run %d: SIGKILL: %v", runs, err)
		}
		err := current.wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Errorf("run %d: exit %v, want killed by SIGKILL\n%s", runs, err, current.stderr)
		}
		for name, size := range fileSizes(histDir) {
			tornEnds[fmt.Sprintf("%s@%d", name, size)] = true
		}
		// 1. Append-only: what was on disk after the previous kill is a
		// byte prefix of what is there now (so, by induction, of the final
		// files). With 4 MiB files no rotation removes one during the test.
		now := readAll(t, histDir)
		checkPrefix(t, fmt.Sprintf("kill %d", len(kills)-1), previous, now)
		previous = now
	}

	// A last run acts on what the killed ones left, then stops gracefully.
	runs++
	current = startWatch(t, bin, dir, sim.URL(), runs)
	select {
	case <-current.connected:
	case <-time.After(20 * time.Second):
		t.Fatalf("last run did not connect\n%s", current.stderr)
	}
	if _, ok := waitFor(10*time.Second, func() bool { return len(sc.pendingTargets(sim.Calls())) == 0 }); !ok {
		t.Errorf("the last run left targets alive: %v", sc.pendingTargets(sim.Calls()))
	}
	time.Sleep(200 * time.Millisecond) // the last records and verifications
	_ = current.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-current.done:
		current.waited = true
		if err != nil {
			t.Errorf("last run: exit %v after SIGTERM, want 0\n%s", err, current.stderr)
		}
	case <-time.After(10 * time.Second):
		t.Errorf("last run did not exit within 10s of SIGTERM") // end() kills it
	}
	final := readAll(t, histDir)
	calls := sim.Calls()

	checkPrefix(t, fmt.Sprintf("kill %d", len(kills)), previous, final)

	// 2. Every line decodes, except a line torn by a kill, which must end
	// exactly where the file ended at that kill.
	torn := 0
	for name, b := range final {
		off := 0
		for _, line := range bytes.SplitAfter(b, []byte("\n")) {
			end := off + len(bytes.TrimSuffix(line, []byte("\n")))
			off += len(line)
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			var rec history.Record
			if err := json.Unmarshal(line, &rec); err != nil || rec.Time.IsZero() {
				if !tornEnds[fmt.Sprintf("%s@%d", name, end)] {
					t.Errorf("history %s: corrupt line at byte %d that no kill explains: %q", name, end-len(line), line)
				}
				torn++
			}
		}
	}
	res, err := history.Read(histDir, history.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Skipped != torn || torn > len(kills) {
		t.Errorf("history.Read skipped %d lines; %d torn lines after %d kills", res.Skipped, torn, len(kills))
	}

	// 3. Records match calls: each terminate the server answered 200 has
	// its record unless a kill came within recordSlack of the answer;
	// each "done" record has its 200.
	// A terminate sent by a run killed before the answer was recorded has
	// its intent: closed by the next run as "sent, result unknown", or
	// still open after the last run.
	recorded := map[string]bool{}
	for _, rec := range res.Records {
		if rec.Action == string(rules.ActionTerminate) && (rec.Outcome == string(app.OutcomeDone) || rec.Outcome == string(app.OutcomeGone) || rec.Outcome == history.OutcomeSentUnknown) {
			recorded[rec.SessionID] = true
		}
	}
	open, err := history.OpenIntents(histDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range open {
		recorded[rec.SessionID] = true
	}
	ok200 := map[string]bool{}
	lost, lostAfter := 0, 0
	for _, c := range calls {
		if c.Kind != plexsim.CallTerminate || c.Status != 200 {
			continue
		}
		ok200[c.SessionID] = true
		if recorded[c.SessionID] {
			continue
		}
		// The nearest kill: after the answer (the record was not written
		// yet), or before it (the server answered a request the dead
		// process had sent).
		var nearest time.Duration = 1<<63 - 1
		for _, k := range kills {
			if gap := k.Sub(c.Time); gap.Abs() < nearest.Abs() {
				nearest = gap
			}
		}
		killedSoon := nearest.Abs() < recordSlack
		if killedSoon && nearest < 0 {
			lostAfter++
		}
		// The intent is written and synced before the request leaves, so
		// none may be missing, kill or not (issue 12).
		t.Errorf("terminate of %v answered at %s has no history record nor intent (kill within %s: %v)",
			sc.byID[c.SessionID], c.Time.Format("15:04:05.000"), recordSlack, killedSoon)
		lost++
	}
	for _, rec := range res.Records {
		if rec.Action == string(rules.ActionTerminate) && rec.Outcome == string(app.OutcomeDone) && !ok200[rec.SessionID] {
			t.Errorf("history says terminated, but the server never answered 200: %+v", rec)
		}
	}

	// 4. Exactly once, and only targets.
	if errs := sc.checkCalls(calls); len(errs) > 0 {
		t.Errorf("calls:\n  %s", strings.Join(errs, "\n  "))
	}
	if p := sc.pendingTargets(calls); len(p) > 0 {
		t.Errorf("targets never terminated: %v", p)
	}

	// 5. The configuration is intact; watch writes none of it.
	for p, h := range hashFiles(t, guarded...) {
		if h != hashes[p] {
			t.Errorf("%s changed", p)
		}
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	if got := strings.Join(names, " "); got != "client-id config.json history rules.json" {
		t.Errorf("config directory holds %s, want only client-id config.json history rules.json", got)
	}

	targets := 0
	for _, tr := range sc.sessions {
		if tr.target() {
			targets++
		}
	}
	t.Logf("%d runs, %d SIGKILLs in %s; %d sessions, %d matched a rule, %d terminated; %d history records, %d torn lines",
		runs, len(kills), time.Since(start).Round(time.Second), len(sc.sessions), targets, len(ok200), len(res.Records), torn)
	t.Logf("terminates without a record: %d, all within %s of a kill (%d answered after the kill, to a request the dead process had sent; %d answered before it, the record not yet written)",
		lost, recordSlack, lostAfter, lost-lostAfter)
}
