//go:build unix

package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/app/history"
	"github.com/plexwarden/plexwarden/app/local"
	"github.com/plexwarden/plexwarden/app/local/localtest"
	"github.com/plexwarden/plexwarden/app/rules"
	"github.com/plexwarden/plexwarden/plex"
	"github.com/plexwarden/plexwarden/plex/plexsim"
)

// Names of this file's stand-in transcoders: watch is told to look only
// for them, so no other test's (or engineer's) processes are touched.
const (
	wlPlexName = "PW Watch Transcoder"
	wlFFName   = "pw-watch-ffmpeg"
)

// localWatchArgs are the flags limiting watch's scan to this file's names.
func localWatchArgs(extra ...string) []string {
	return append([]string{"--json", "--plex-names", wlPlexName, "--ffmpeg-names", wlFFName}, extra...)
}

// waitLong is waitOutput with a deadline of d.
func (w *watchRun) waitLong(t *testing.T, what string, d time.Duration, cond func(out string) bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond(w.stdout()) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; stdout:\n%s\nstderr:\n%s", what, w.stdout(), w.stderr())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// actionLines returns watch's JSON lines of kind "action" for rule.
func actionLines(t *testing.T, out, rule string) []map[string]any {
	t.Helper()
	var got []map[string]any
	for _, l := range parseLines(t, out) {
		if l["kind"] == "action" && l["rule"] == rule {
			got = append(got, l)
		}
	}
	return got
}

// watch on the server's computer carries out the local section: an orphan
// (its key known to no session and no job) is killed within "after" plus
// one scan interval and reported like the desktop app records it; the
// transcoder of a live session and the one of a sync job (listed only in
// /transcode/sessions, context static) are never touched.
func TestWatchLocalOrphan(t *testing.T) {
	sim := startSim(t, plexsim.Options{Token: watchToken, PlexPass: true, PingInterval: time.Hour})
	live := sim.AddSession(plexsim.SessionSpec{User: "alice", Title: "Night Harbor", Transcode: &plexsim.TranscodeSpec{Video: "transcode"}})
	syncKey := sim.AddJob(plexsim.JobSpec{Progress: 12})
	after := time.Second
	path := writeRules(t, rules.File{Version: rules.Version, Local: &rules.LocalRules{
		Orphan: rules.LocalRule{Enabled: true, After: rules.Duration(after)}}})

	bin := localtest.SharedDir(t)
	fake := func(key, uuid string) *localtest.Proc {
		return localtest.Fake(t, localtest.FakeOptions{Name: wlPlexName, Dir: bin,
			Args: []string{"-progressurl", localtest.ProgressURL(sim.URL(), key, uuid)}})
	}
	linked := fake(live.TranscodeKey, "u1")
	synced := fake(syncKey, "u2")
	orphan := fake("orphankey1", "u3")

	started := time.Now()
	histDir := t.TempDir()
	w := startWatch(t, map[string]string{"PLEX_URL": sim.URL(), "PLEX_TOKEN": watchToken}, localWatchArgs("--config", path, "--history", histDir)...)
	w.waitOutput(t, "connected", func(out string) bool { return strings.Contains(out, `"event":"connected"`) })
	connected := time.Now()
	// Linking starts at the first scan after the connection: at most one
	// scan interval (2s), then "after", then the kill itself.
	if !orphan.WaitExit(after + 2*time.Second + 3*time.Second) {
		t.Fatalf("the orphan was not ended within %s of the connection; stdout:\n%s\nstderr:\n%s", time.Since(connected), w.stdout(), w.stderr())
	}
	// Start-up recovery: a leftover from before watch started is judged
	// like any other, never ended sooner than "after".
	if took := time.Since(started); took < after {
		t.Errorf("the leftover orphan was ended %s after start, before after (%s)", took, after)
	}
	w.waitLong(t, "the orphan action", 5*time.Second, func(out string) bool { return strings.Contains(out, `"rule":"orphan"`) })
	time.Sleep(2500 * time.Millisecond) // one more scan: nothing else may be ended
	if code := w.stop(t); code != 0 {
		t.Fatalf("exit %d; stderr %s", code, w.stderr())
	}
	acts := actionLines(t, w.stdout(), string(local.RuleOrphan))
	if len(acts) != 1 {
		t.Fatalf("orphan actions = %v, want exactly one", acts)
	}
	a := acts[0]
	wantTitle := fmt.Sprintf("PID %d %s", orphan.PID, wlPlexName)
	if a["action"] != string(local.ActionKill) || a["outcome"] != "done" || a["title"] != wantTitle || a["dryRun"] != false ||
		!strings.Contains(fmt.Sprint(a["detail"]), "orphankey1") {
		t.Errorf("action line = %v, want a done kill of %s naming its key", a, wantTitle)
	}
	// The same history record as the desktop app's.
	r, err := history.Read(histDir, history.Filter{Kind: history.KindLocal})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Records) != 1 || r.Records[0].Rule != string(local.RuleOrphan) || r.Records[0].Action != string(local.ActionKill) ||
		r.Records[0].Title != wantTitle || r.Records[0].Outcome != "done" {
		t.Errorf("history = %+v, want the orphan kill", r.Records)
	}
	if linked.Exited() {
		t.Error("the transcoder of a live session was ended")
	}
	if synced.Exited() {
		t.Error("the transcoder of a sync job (only in /transcode/sessions) was ended")
	}
	if !strings.Contains(w.stderr(), "local clean-up (orphan after 1s)") {
		t.Errorf("start line does not announce the local clean-up:\n%s", w.stderr())
	}
}

// A transcoder that ignores SIGTERM is ended with SIGKILL --force-after
// later, and the record says so.
func TestWatchLocalSIGKILL(t *testing.T) {
	sim := startSim(t, plexsim.Options{Token: watchToken, PlexPass: true, PingInterval: time.Hour})
	path := writeRules(t, rules.File{Version: rules.Version, Local: &rules.LocalRules{
		Orphan: rules.LocalRule{Enabled: true, After: rules.Duration(500 * time.Millisecond)}}})
	stubborn := localtest.Fake(t, localtest.FakeOptions{Name: wlPlexName, IgnoreTERM: true,
		Args: []string{"-progressurl", localtest.ProgressURL(sim.URL(), "stubbornkey", "u1")}})
	const force = 1500 * time.Millisecond
	w := startWatch(t, map[string]string{"PLEX_URL": sim.URL(), "PLEX_TOKEN": watchToken},
		localWatchArgs("--config", path, "--force-after", force.String())...)
	if !stubborn.WaitExit(10 * time.Second) {
		t.Fatalf("the SIGTERM-ignoring orphan is still running; stdout:\n%s\nstderr:\n%s", w.stdout(), w.stderr())
	}
	w.waitLong(t, "the orphan action", 5*time.Second, func(out string) bool { return strings.Contains(out, `"rule":"orphan"`) })
	w.stop(t)
	acts := actionLines(t, w.stdout(), string(local.RuleOrphan))
	if len(acts) != 1 {
		t.Fatalf("orphan actions = %v, want one", acts)
	}
	ms, _ := acts[0]["latencyMs"].(float64)
	if acts[0]["outcome"] != "killed (SIGKILL)" || ms < float64(force.Milliseconds()) || ms > float64(force.Milliseconds())+2000 {
		t.Errorf("action = %v (latency %.0f ms), want killed (SIGKILL) after about %s", acts[0], ms, force)
	}
}

// With includeExternal, the idle rule ends an external ffmpeg whose output
// has not grown for "after" and spares one that keeps writing segments.
func TestWatchLocalIdleExternal(t *testing.T) {
	sim := startSim(t, plexsim.Options{Token: watchToken, PlexPass: true, PingInterval: time.Hour})
	after := 4 * time.Second
	path := writeRules(t, rules.File{Version: rules.Version, Local: &rules.LocalRules{
		Idle: rules.LocalRule{Enabled: true, After: rules.Duration(after)}, IncludeExternal: true}})

	bin := localtest.SharedDir(t)
	busyDir, idleDir := t.TempDir(), t.TempDir()
	busy := localtest.FFmpeg(t, localtest.FFmpegOptions{Name: wlFFName, Dir: bin, Cwd: busyDir})
	// The idle one: an ffmpeg command line whose HLS folder holds an old
	// segment and never gets a new one.
	old := filepath.Join(idleDir, "index0.ts")
	if err := os.WriteFile(old, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	idle := localtest.Fake(t, localtest.FakeOptions{Name: wlFFName, Dir: bin,
		Args: []string{"-i", "udp://127.0.0.1:1", "-f", "hls", filepath.Join(idleDir, "index.m3u8")}})

	w := startWatch(t, map[string]string{"PLEX_URL": sim.URL(), "PLEX_TOKEN": watchToken}, localWatchArgs("--config", path)...)
	if !idle.WaitExit(after + 8*time.Second) {
		t.Fatalf("the idle ffmpeg is still running; stdout:\n%s\nstderr:\n%s", w.stdout(), w.stderr())
	}
	time.Sleep(2500 * time.Millisecond)
	w.stop(t)
	if busy.Exited() {
		t.Errorf("the busy ffmpeg was ended; stdout:\n%s", w.stdout())
	}
	acts := actionLines(t, w.stdout(), string(local.RuleIdle))
	if len(acts) != 1 || acts[0]["title"] != fmt.Sprintf("PID %d %s", idle.PID, wlFFName) || acts[0]["outcome"] != "done" {
		t.Errorf("idle actions = %v, want one done kill of PID %d", acts, idle.PID)
	}
}

// A dry run only records: the orphan keeps running and the line says
// "dry run".
func TestWatchLocalDryRun(t *testing.T) {
	sim := startSim(t, plexsim.Options{Token: watchToken, PlexPass: true, PingInterval: time.Hour})
	path := writeRules(t, rules.File{Version: rules.Version, Local: &rules.LocalRules{
		Orphan: rules.LocalRule{Enabled: true, After: rules.Duration(500 * time.Millisecond)}}})
	orphan := localtest.Fake(t, localtest.FakeOptions{Name: wlPlexName,
		Args: []string{"-progressurl", localtest.ProgressURL(sim.URL(), "dryrunkey", "u1")}})
	w := startWatch(t, map[string]string{"PLEX_URL": sim.URL(), "PLEX_TOKEN": watchToken}, localWatchArgs("--config", path, "--dry-run")...)
	w.waitLong(t, "the dry-run record", 10*time.Second, func(out string) bool { return strings.Contains(out, `"rule":"orphan"`) })
	time.Sleep(500 * time.Millisecond)
	w.stop(t)
	if orphan.Exited() {
		t.Fatal("a dry run ended the process")
	}
	acts := actionLines(t, w.stdout(), string(local.RuleOrphan))
	if len(acts) != 1 || acts[0]["dryRun"] != true || acts[0]["outcome"] != "dry run" {
		t.Errorf("actions = %v, want one dry-run record", acts)
	}
}

// The local section runs only where the transcoders are: a server on
// this computer, or any with --assume-local; otherwise watch says so.
func TestWatchLocalPlan(t *testing.T) {
	mk := func(url string) target {
		c, err := plex.NewClient(url, "tok", plex.ClientInfo{})
		if err != nil {
			t.Fatal(err)
		}
		return target{Name: url, Client: c}
	}
	on := &rules.LocalRules{Orphan: rules.LocalRule{Enabled: true}}
	here, remote := mk("http://127.0.0.1:32400"), mk("http://192.0.2.7:32400")
	tests := []struct {
		name    string
		l       *rules.LocalRules
		ts      []target
		assume  bool
		wantOn  bool
		wantWhy string
	}{
		{"no local section", nil, []target{here}, false, false, ""},
		{"all rules off", &rules.LocalRules{IncludeExternal: true}, []target{remote}, false, false, ""},
		{"server here", on, []target{here}, false, true, ""},
		{"one of two here", on, []target{remote, here}, false, true, ""},
		{"remote", on, []target{remote}, false, false, "192.0.2.7:32400 is not this computer; run plexwarden watch on the server"},
		{"remote assumed local", on, []target{remote}, true, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotOn, why := localPlan(tt.l, tt.ts, tt.assume)
			if gotOn != tt.wantOn || (tt.wantWhy == "") != (why == "") || !strings.Contains(why, tt.wantWhy) {
				t.Errorf("localPlan = %v, %q; want %v, %q", gotOn, why, tt.wantOn, tt.wantWhy)
			}
		})
	}
}

// The desktop app's pause switch pauses watch's clean-up too (it still
// scans); an idle rule that cannot measure a process's output says so
// instead of silently never firing.
func TestWatchLocalPausedAndNotApplicable(t *testing.T) {
	sim := startSim(t, plexsim.Options{Token: watchToken, PlexPass: true, PingInterval: time.Hour})
	path := writeRules(t, rules.File{Version: rules.Version, Local: &rules.LocalRules{
		Orphan: rules.LocalRule{Enabled: true, After: rules.Duration(300 * time.Millisecond)},
		Idle:   rules.LocalRule{Enabled: true, After: rules.Duration(300 * time.Millisecond)}, IncludeExternal: true}})
	orphan := localtest.Fake(t, localtest.FakeOptions{Name: wlPlexName,
		Args: []string{"-progressurl", localtest.ProgressURL(sim.URL(), "pausedkey", "u1")}})
	pipe := localtest.Fake(t, localtest.FakeOptions{Name: wlFFName, Args: []string{"-i", "in.ts", "-f", "mpegts", "-"}})

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"servers":[],"rulesPaused":true}`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PLEXWARDEN_CONFIG_DIR", dir)
	env := map[string]string{"PLEX_URL": sim.URL(), "PLEX_TOKEN": watchToken}
	w := startWatchEnv(t, Env{Args: append([]string{"watch"}, localWatchArgs("--config", path)...), Getenv: func(k string) string { return env[k] }})
	notApplicable := fmt.Sprintf(`"detail":"rule idle does not apply to PID %d %s: its output cannot be measured`, pipe.PID, wlFFName)
	w.waitLong(t, "the not-applicable notice", 10*time.Second, func(out string) bool { return strings.Contains(out, notApplicable) })
	time.Sleep(3 * time.Second) // an orphan after 300ms would be gone by now
	w.stop(t)
	if orphan.Exited() || pipe.Exited() {
		t.Fatal("a paused clean-up ended a process")
	}
	out := w.stdout()
	if !strings.Contains(out, `"kind":"notice","server":"","sessionId":"","user":"","rule":"","action":"","dryRun":false,"outcome":"","latencyMs":0,"event":"paused"`) {
		t.Errorf("no paused notice:\n%s", out)
	}
	if strings.Count(out, notApplicable) != 1 {
		t.Errorf("the not-applicable notice should come once per process:\n%s", out)
	}
	if len(actionLines(t, out, string(local.RuleOrphan))) != 0 {
		t.Errorf("a paused clean-up acted:\n%s", out)
	}
}

// A quiet transcoder whose viewer paused is idle, and since its session is
// live, watch asks Plex to stop the transcode instead of signalling the
// process; a quiet one whose viewer is still watching is left alone.
func TestWatchLocalIdleStopsThroughPlex(t *testing.T) {
	sim := startSim(t, plexsim.Options{Token: watchToken, PlexPass: true, PingInterval: time.Hour})
	pausedRef := sim.AddSession(plexsim.SessionSpec{User: "alice", Title: "Night Harbor", Transcode: &plexsim.TranscodeSpec{Video: "transcode"}})
	watching := sim.AddSession(plexsim.SessionSpec{User: "bob", Title: "Gone Girl", Transcode: &plexsim.TranscodeSpec{Video: "transcode", Throttled: true}})
	if err := sim.SetState(pausedRef.Key, "paused"); err != nil {
		t.Fatal(err)
	}
	path := writeRules(t, rules.File{Version: rules.Version, Local: &rules.LocalRules{
		Idle: rules.LocalRule{Enabled: true, After: rules.Duration(time.Second)}}})
	root := localtest.SharedDir(t)
	quiet := func(key, uuid string) *localtest.Proc {
		dir := localtest.SessionDir(t, root, key, uuid)
		if err := os.WriteFile(filepath.Join(dir, "media-00001.ts"), []byte("segment"), 0o644); err != nil {
			t.Fatal(err)
		}
		return localtest.Fake(t, localtest.FakeOptions{Name: wlPlexName, Dir: root, Cwd: dir,
			Args: []string{"-progressurl", localtest.ProgressURL(sim.URL(), key, uuid)}})
	}
	pausedProc := quiet(pausedRef.TranscodeKey, "u1")
	watchingProc := quiet(watching.TranscodeKey, "u2")

	w := startWatch(t, map[string]string{"PLEX_URL": sim.URL(), "PLEX_TOKEN": watchToken}, localWatchArgs("--config", path)...)
	w.waitLong(t, "the idle action", 12*time.Second, func(out string) bool { return strings.Contains(out, `"rule":"idle"`) })
	time.Sleep(2500 * time.Millisecond) // one more scan: bob's may not be touched
	w.stop(t)
	acts := actionLines(t, w.stdout(), string(local.RuleIdle))
	if len(acts) != 1 || acts[0]["action"] != string(local.ActionStopTranscode) || acts[0]["outcome"] != "done" || acts[0]["user"] != "alice" {
		t.Fatalf("idle actions = %v, want one stop-transcode of alice's", acts)
	}
	var stops []string
	for _, c := range sim.Calls() {
		if c.Kind == plexsim.CallStopTranscode {
			stops = append(stops, c.TranscodeKey)
		}
	}
	if len(stops) != 1 || stops[0] != pausedRef.TranscodeKey {
		t.Errorf("stop-transcode calls = %v, want only %s", stops, pausedRef.TranscodeKey)
	}
	if pausedProc.Exited() || watchingProc.Exited() {
		t.Error("a live session's transcoder was signalled")
	}
}

// The clean-up verifies what it kills: a program merely named like ffmpeg
// (no input) that a rule picks is refused, with the reason recorded, and
// keeps running.
func TestWatchLocalRefusesImpostor(t *testing.T) {
	sim := startSim(t, plexsim.Options{Token: watchToken, PlexPass: true, PingInterval: time.Hour})
	path := writeRules(t, rules.File{Version: rules.Version, Local: &rules.LocalRules{
		MaxConcurrent: rules.LocalRule{Enabled: true, Max: 1, After: rules.Duration(100 * time.Millisecond)}, IncludeExternal: true}})
	bin := localtest.SharedDir(t)
	first := localtest.Fake(t, localtest.FakeOptions{Name: wlFFName, Dir: bin})
	impostor := localtest.Fake(t, localtest.FakeOptions{Name: wlFFName, Dir: bin}) // the newest: the one stopped
	w := startWatch(t, map[string]string{"PLEX_URL": sim.URL(), "PLEX_TOKEN": watchToken}, localWatchArgs("--config", path)...)
	w.waitLong(t, "the max-concurrent action", 10*time.Second, func(out string) bool { return strings.Contains(out, `"rule":"max-concurrent"`) })
	w.stop(t)
	if impostor.Exited() || first.Exited() {
		t.Fatal("an impostor was ended")
	}
	acts := actionLines(t, w.stdout(), string(local.RuleMaxConcurrent))
	if len(acts) != 1 || acts[0]["outcome"] != "refused" || !strings.Contains(fmt.Sprint(acts[0]["detail"]), "no input (-i)") {
		t.Errorf("actions = %v, want one refused with the reason", acts)
	}
}
