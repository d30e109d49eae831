// Command loadgrid measures Plex Warden from outside the process, as
// docs/BENCHMARKS.md reports it (`make loadgrid`):
//
//   - lag: a stand-in server (plexsim on 127.0.0.1) with N sessions
//     pauses and resumes them at R state changes a second; lag is the time
//     from the server writing a change to the matching line of
//     `plexwarden watch --json` (read on its stdout), with the CPU and RSS
//     of the watch process over the run;
//   - reaction: with N sessions playing directly, a transcoding session
//     starts; reaction is the time from the server writing its first event
//     to the terminate request arriving, for `watch` with a "transcode"
//     rule, for the floor (a minimal client in this process: the SSE read
//     and two loopback round trips, /status/sessions and the terminate,
//     knowing the session id beforehand), for the same floor as a process
//     of its own, as every real client is (the -floor mode of this
//     command: it finds the new session's id in the answer with a byte
//     search, no decoding), and for the peer (the Plexopedia script,
//     ported to Go's standard library: the -peer mode, its own process).
//
// It prints Markdown tables on stdout. Loopback only; every process it
// starts ends with it.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/plexwarden/plexwarden/plex"
	"github.com/plexwarden/plexwarden/plex/plexsim"
)

const token = "loadgrid-token"

// reactGap is the time between two new sessions of a reaction run
// (-reaction-gap). A new session costs watch up to four fetches (the new
// session, its playing event, the resync after the terminate, the stop);
// watch starts at most four in any second, so sessions a second apart
// would measure that pacing, not the reaction.
var reactGap time.Duration

func main() {
	bin := flag.String("bin", "./plexwarden-headless", "the plexwarden binary whose watch is measured")
	sizes := flag.String("sessions", "10,200,2000,5000", "session counts of the lag grid")
	rates := flag.String("rates", "100,500,2000", "state changes per second of the lag grid")
	dur := flag.Duration("duration", 10*time.Second, "length of each lag run")
	reactSizes := flag.String("reaction-sessions", "10,2000", "session counts of the reaction runs (empty: none)")
	reactN := flag.Int("reaction-runs", 40, "new transcoding sessions per reaction run")
	flag.DurationVar(&reactGap, "reaction-gap", 2*time.Second, "time between two new sessions of a reaction run")
	who := flag.String("reaction-who", "watch,floor,floorproc,peer", "whose reaction to measure")
	peer := flag.String("peer", "", "internal: run as the peer (the ported Plexopedia script) against this URL")
	floorProc := flag.String("floor", "", "internal: run as the floor in a process of its own against this URL")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *floorProc != "" {
		if err := runFloorProc(ctx, *floorProc, os.Getenv("PLEX_TOKEN")); err != nil && ctx.Err() == nil {
			fmt.Fprintln(os.Stderr, "floor:", err)
			os.Exit(1)
		}
		return
	}
	if *peer != "" {
		if err := runPeer(ctx, *peer, os.Getenv("PLEX_TOKEN")); err != nil && ctx.Err() == nil {
			fmt.Fprintln(os.Stderr, "peer:", err)
			os.Exit(1)
		}
		return
	}
	abs, err := filepath.Abs(*bin)
	if err != nil {
		fail(err)
	}
	if err := run(ctx, abs, ints(*sizes), ints(*rates), *dur, ints(*reactSizes), *reactN, strings.Split(*who, ",")); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "loadgrid:", err)
	os.Exit(1)
}

func ints(s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil {
			fail(fmt.Errorf("%q is not a number", f))
		}
		out = append(out, n)
	}
	return out
}

func run(ctx context.Context, bin string, sizes, rates []int, dur time.Duration, reactSizes []int, reactN int, whos []string) error {
	host, _ := os.Hostname()
	fmt.Printf("Machine: %s, %d CPUs (%s), %s\n\n", host, numCPU(), cpuModel(), time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Println("| sessions × changes/s | sent | seen | lag p50 / p99 / max | CPU of one core | RSS (peak) |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, n := range sizes {
		for _, r := range rates {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			res, err := lagRun(ctx, bin, n, r, dur)
			if err != nil {
				return fmt.Errorf("%d × %d/s: %w", n, r, err)
			}
			fmt.Printf("| %d × %d/s | %d | %d | %s / %s / %s | %.0f %% | %.0f MB (%.0f MB) |\n", n, r, res.sent, len(res.lags),
				ms(pct(res.lags, 50)), ms(pct(res.lags, 99)), ms(pct(res.lags, 100)), res.cpu*100, res.rss, res.hwm)
		}
	}
	if len(reactSizes) == 0 {
		return nil
	}
	fmt.Println()
	fmt.Println("| sessions | watch p50 / p99 | floor p50 / p99 | floor, own process p50 / p99 | peer p50 / p99 | watch ÷ floor (p50) | watch ÷ floor, own process | peer ÷ watch (p50) |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	for _, n := range reactSizes {
		var res [4][]time.Duration
		for i, who := range []string{"watch", "floor", "peer", "floorproc"} {
			if !slices.Contains(whos, who) {
				continue
			}
			d, err := reactionRun(ctx, bin, who, n, reactN)
			if err != nil {
				return fmt.Errorf("reaction of %s at %d sessions: %w", who, n, err)
			}
			res[i] = d
		}
		w, f, p, fp := pct(res[0], 50), pct(res[1], 50), pct(res[2], 50), pct(res[3], 50)
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		fmt.Printf("| %d | %s / %s | %s / %s | %s / %s | %s / %s | %.2f× | %.2f× | %.2f× |\n", n, ms(w), ms(pct(res[0], 99)), ms(f), ms(pct(res[1], 99)),
			ms(fp), ms(pct(res[3], 99)), ms(p), ms(pct(res[2], 99)), float64(w)/float64(f), float64(w)/float64(fp), float64(p)/float64(w))
	}
	return nil
}

// newSim starts a stand-in server with n sessions, a fifth of them
// transcoding unless direct, on n players of n/10+1 users.
func newSim(n int, direct bool) (*plexsim.Server, []plexsim.SessionRef, error) {
	sim := plexsim.New(plexsim.Options{Token: token, FriendlyName: "loadgrid", PlexPass: true})
	if err := sim.Start("127.0.0.1:0"); err != nil {
		return nil, nil, err
	}
	refs := make([]plexsim.SessionRef, n)
	for i := range refs {
		spec := plexsim.SessionSpec{
			User: fmt.Sprintf("user%03d", i%(n/10+1)), Title: fmt.Sprintf("Film %d", i), DurationMs: 24 * 3600 * 1000, Local: i%3 != 0,
			Player: plexsim.PlayerSpec{Title: "Living Room", Product: "Plex for Roku", Platform: "Roku", Device: "Roku Ultra", MachineID: fmt.Sprintf("loadgrid-%05d", i)},
		}
		if !direct && i%5 == 0 {
			spec.Transcode = &plexsim.TranscodeSpec{Video: plexsim.DecisionTranscode}
		}
		refs[i] = sim.AddSession(spec)
	}
	return sim, refs, nil
}

// watchProc is a running `plexwarden watch --json`.
type watchProc struct {
	cmd   *exec.Cmd
	lines chan map[string]any
	dir   string
}

// lagRules are rules that never act in the lag runs but are evaluated on
// every change, as a real rules file's are: counting kinds and a paused
// limit.
const lagRules = `{"version":1,"rules":[
 {"name":"streams per user","kind":"userStreams","maxStreams":10000},
 {"name":"transcodes per server","kind":"serverTranscodes","maxTranscodes":100000},
 {"name":"paused too long","kind":"paused","pausedFor":"6h"},
 {"name":"4K transcodes","kind":"sourceTranscode","minResolution":"4k"}]}`

const reactionRules = `{"version":1,"rules":[{"name":"no transcodes","kind":"transcode","action":"terminate","message":"no transcoding"}]}`

func startWatch(ctx context.Context, bin, url, rules string) (*watchProc, error) {
	dir, err := os.MkdirTemp("", "loadgrid-")
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "rules.json")
	if err := os.WriteFile(path, []byte(rules), 0o600); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, "watch", "--json", "--history", "off", "--config", path, "--server", url)
	cmd.Env = append(os.Environ(), "PLEX_TOKEN="+token, "PLEXWARDEN_CONFIG_DIR="+dir)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	cmd.Stderr = io.Discard
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	w := &watchProc{cmd: cmd, lines: make(chan map[string]any, 1<<16), dir: dir}
	go func() {
		defer close(w.lines)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var l map[string]any
			if json.Unmarshal(sc.Bytes(), &l) == nil {
				l["_at"] = time.Now()
				w.lines <- l
			}
		}
	}()
	return w, nil
}

func (w *watchProc) stop() {
	_ = w.cmd.Process.Signal(os.Interrupt)
	for range w.lines {
	}
	_ = w.cmd.Wait()
	_ = os.RemoveAll(w.dir)
}

type lagResult struct {
	sent     int
	lags     []time.Duration
	cpu      float64 // of one core
	rss, hwm float64 // MB
}

func lagRun(ctx context.Context, bin string, n, rate int, dur time.Duration) (lagResult, error) {
	var res lagResult
	sim, refs, err := newSim(n, false)
	if err != nil {
		return res, err
	}
	defer sim.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := startWatch(ctx, bin, sim.URL(), lagRules)
	if err != nil {
		return res, err
	}
	defer w.stop()
	// Every session started, then a second of quiet.
	started := 0
	deadline := time.After(60 * time.Second)
	for started < n {
		select {
		case l, ok := <-w.lines:
			if !ok {
				return res, fmt.Errorf("watch ended before listing the sessions")
			}
			if l["kind"] == "session" && l["event"] == "started" {
				started++
			}
		case <-deadline:
			return res, fmt.Errorf("watch listed %d of %d sessions in 60 s", started, n)
		}
	}
	time.Sleep(time.Second)
	for len(w.lines) > 0 {
		<-w.lines
	}

	var mu sync.Mutex
	sentAt := map[string][]time.Time{} // sessionKey|state → when written, oldest first
	done := make(chan struct{})
	var lags []time.Duration
	go func() {
		defer close(done)
		for l := range w.lines {
			if l["kind"] != "session" || l["event"] != "changed" {
				continue
			}
			k := fmt.Sprint(l["sessionKey"], "|", l["state"])
			mu.Lock()
			if q := sentAt[k]; len(q) > 0 {
				lags = append(lags, l["_at"].(time.Time).Sub(q[0]))
				sentAt[k] = q[1:]
			}
			mu.Unlock()
		}
	}()

	cpu0, t0 := cpuTime(w.cmd.Process.Pid), time.Now()
	state := make([]bool, n) // paused
	next := 0
	for time.Since(t0) < dur && ctx.Err() == nil {
		due := int(time.Since(t0).Seconds()*float64(rate)) - res.sent
		for range due {
			i := next
			next = (next + 1) % n
			state[i] = !state[i]
			st := plexsim.StatePlaying
			if state[i] {
				st = plexsim.StatePaused
			}
			k := refs[i].Key + "|" + st
			mu.Lock()
			sentAt[k] = append(sentAt[k], time.Now())
			mu.Unlock()
			if err := sim.SetState(refs[i].Key, st); err != nil {
				return res, err
			}
			res.sent++
		}
		time.Sleep(time.Millisecond)
	}
	cpu1, t1 := cpuTime(w.cmd.Process.Pid), time.Now()
	res.cpu = (cpu1 - cpu0).Seconds() / t1.Sub(t0).Seconds()
	res.rss, res.hwm = memMB(w.cmd.Process.Pid)
	// Wait for the last lines (at most 5 s).
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		mu.Lock()
		got := len(lags)
		mu.Unlock()
		if got >= res.sent {
			break
		}
	}
	w.stop()
	<-done
	mu.Lock()
	res.lags = slices.Clone(lags)
	mu.Unlock()
	return res, nil
}

// reactionRun starts runs transcoding sessions one by one beside n direct
// ones and returns, for each, the time from the server writing its first
// event to the terminate's arrival.
func reactionRun(ctx context.Context, bin, who string, n, runs int) ([]time.Duration, error) {
	sim, _, err := newSim(n, true)
	if err != nil {
		return nil, err
	}
	defer sim.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var armed atomic.Bool
	var firstEvent atomic.Int64
	sim.OnEventSent(func(name string, at time.Time) {
		if name != plex.EventPing && armed.Load() && firstEvent.Load() == 0 {
			firstEvent.Store(at.UnixNano())
		}
	})
	var nextID atomic.Pointer[string] // the floor's knowledge of the session to terminate
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }() // the floor ends with ctx
	switch who {
	case "watch":
		w, err := startWatch(ctx, bin, sim.URL(), reactionRules)
		if err != nil {
			return nil, err
		}
		defer w.stop()
		go func() {
			var inner []time.Duration
			for l := range w.lines {
				if v, ok := l["latencyMs"].(float64); ok && l["kind"] == "action" {
					inner = append(inner, time.Duration(v*float64(time.Millisecond)))
				}
			}
			if len(inner) > 0 {
				fmt.Fprintf(os.Stderr, "loadgrid: watch's own latency (event read → terminate answered, its action lines), %d sessions: p50 %s, p99 %s\n", n, ms(pct(inner, 50)), ms(pct(inner, 99)))
			}
		}()
	case "peer", "floorproc":
		self, err := os.Executable()
		if err != nil {
			return nil, err
		}
		mode := "-peer"
		if who == "floorproc" {
			mode = "-floor"
		}
		cmd := exec.CommandContext(ctx, self, mode, sim.URL())
		cmd.Env = append(os.Environ(), "PLEX_TOKEN="+token)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		defer func() { cancel(); _ = cmd.Wait() }()
	case "floor":
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = runFloor(ctx, sim.URL(), &nextID)
		}()
	}
	// Wait for the stream to be open.
	for end := time.Now().Add(30 * time.Second); sim.StreamCount() == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			return nil, fmt.Errorf("%s never opened the event stream", who)
		}
	}
	time.Sleep(2 * time.Second) // its start-up fetch of n sessions
	var out []time.Duration
	for i := range runs {
		before := len(sim.Calls())
		firstEvent.Store(0)
		armed.Store(true)
		// The floor is told the session id (at once, while the event is
		// on its way): it pays only for the transport.
		pending := ""
		nextID.Store(&pending)
		ref := sim.AddSession(plexsim.SessionSpec{User: "reactor", Title: fmt.Sprintf("Reaction %d", i),
			Player:    plexsim.PlayerSpec{Title: "Phone", Product: "Plex for Android (Mobile)", MachineID: fmt.Sprintf("react-%d", i)},
			Transcode: &plexsim.TranscodeSpec{Video: plexsim.DecisionTranscode}})
		nextID.Store(&ref.ID)
		wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
		calls, err := sim.WaitCalls(wctx, before+1)
		wcancel()
		armed.Store(false)
		if err != nil {
			return nil, fmt.Errorf("no terminate within 5 s (run %d)", i)
		}
		out = append(out, calls[before].Time.Sub(time.Unix(0, firstEvent.Load())))
		time.Sleep(reactGap) // apart, as sessions start
	}
	return out, nil
}

// runFloor is the least any client can do: read the event stream and, on
// the first event after a session is announced, GET /status/sessions and
// terminate the session it was told of, over one keep-alive connection.
func runFloor(ctx context.Context, url string, nextID *atomic.Pointer[string]) error {
	get := getter(ctx, &http.Client{}, url, token)
	resp, err := get("/:/eventsource/notifications?filters=playing,transcodeSession.start")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	done := ""
	for sc.Scan() {
		if !strings.HasPrefix(sc.Text(), "data:") {
			continue
		}
		id := nextID.Load()
		for id != nil && *id == "" { // announced, id on its way
			runtime.Gosched()
			id = nextID.Load()
		}
		if id == nil || *id == done {
			continue
		}
		done = *id
		for _, path := range []string{"/status/sessions", "/status/sessions/terminate?sessionId=" + *id + "&reason=floor"} {
			r, err := get(path)
			if err != nil {
				return err
			}
			_, _ = io.Copy(io.Discard, r.Body)
			r.Body.Close()
		}
	}
	return sc.Err()
}

// runFloorProc is runFloor in a process of its own, as any client is: on
// each transcodeSession.start it reads /status/sessions whole, finds the
// newest session of the user "reactor" (the one reactionRun starts) with
// a byte search instead of decoding, and terminates it, over one
// keep-alive connection.
func runFloorProc(ctx context.Context, url, tok string) error {
	get := getter(ctx, &http.Client{}, url, tok)
	resp, err := get("/:/eventsource/notifications?filters=transcodeSession.start")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	const user, session = `"title":"reactor"`, `"Session":{"id":"`
	for sc.Scan() {
		if !strings.HasPrefix(sc.Text(), "data:") {
			continue
		}
		r, err := get("/status/sessions")
		if err != nil {
			return err
		}
		b, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return err
		}
		u := bytes.LastIndex(b, []byte(user))
		i := bytes.LastIndex(b[:max(u, 0)], []byte(session))
		if u < 0 || i < 0 {
			return fmt.Errorf("no session of the user reactor in the answer")
		}
		id := b[i+len(session):]
		id = id[:max(bytes.IndexByte(id, '"'), 0)]
		t, err := get("/status/sessions/terminate?sessionId=" + string(id) + "&reason=floor")
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, t.Body)
		t.Body.Close()
	}
	return sc.Err()
}

// runPeer is the Plexopedia script that stops transcodes and tells the
// viewer why (plexopedia.com/blog/stop-transcode-session-automatically),
// ported line for line to Go's standard library: it reads the event
// stream; for each event whose data carries a TranscodeSession, it reads
// /status/sessions, finds the session with that transcode and terminates
// it with a reason. Like the script (requests.get without a Session), each
// request opens its own connection. The token goes in the X-Plex-Token
// header, not the URL as in the script: this project's rule.
func runPeer(ctx context.Context, url, tok string) error {
	get := getter(ctx, &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}, url, tok)
	resp, err := get("/:/eventsource/notifications")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data:")
		if !ok {
			continue
		}
		var msg map[string]json.RawMessage
		if json.Unmarshal([]byte(data), &msg) != nil {
			continue
		}
		raw, ok := msg["TranscodeSession"]
		if !ok {
			continue
		}
		var ts struct{ Key string }
		if json.Unmarshal(raw, &ts) != nil || ts.Key == "" {
			continue
		}
		r, err := get("/status/sessions")
		if err != nil {
			return err
		}
		var list struct {
			MediaContainer struct {
				Metadata []struct {
					Session          struct{ ID string }
					TranscodeSession struct{ Key string }
				}
			}
		}
		err = json.NewDecoder(r.Body).Decode(&list)
		r.Body.Close()
		if err != nil {
			continue
		}
		for _, m := range list.MediaContainer.Metadata {
			if m.TranscodeSession.Key == ts.Key {
				t, err := get("/status/sessions/terminate?sessionId=" + m.Session.ID + "&reason=Transcoding+is+not+allowed")
				if err == nil {
					_, _ = io.Copy(io.Discard, t.Body)
					t.Body.Close()
				}
			}
		}
	}
	return sc.Err()
}

// getter returns a GET of a path of url through c, with the token in the
// X-Plex-Token header and JSON asked for: the requests of the floor and
// the peer.
func getter(ctx context.Context, c *http.Client, url, tok string) func(path string) (*http.Response, error) {
	return func(path string) (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+path, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("X-Plex-Token", tok)
		req.Header.Set("Accept", "application/json")
		return c.Do(req)
	}
}

// cpuTime is the user+system CPU time of a process so far.
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

// memMB is a process's resident set and its peak, in MB.
func memMB(pid int) (rss, hwm float64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "VmRSS:":
			rss = kb / 1024
		case "VmHWM:":
			hwm = kb / 1024
		}
	}
	return rss, hwm
}

func numCPU() int {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return strings.Count(string(b), "processor\t:")
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "model name") {
			return strings.TrimSpace(l[strings.IndexByte(l, ':')+1:])
		}
	}
	return "unknown CPU"
}

// pct is the p-th percentile (100: the maximum).
func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[min(max(i-1, 0), len(s)-1)]
}

func ms(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%.0f ms", float64(d)/1e6)
	}
	return fmt.Sprintf("%.2f ms", float64(d)/1e6)
}
