//go:build unix

package local

import (
	"context"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/app/local/localtest"
	"github.com/plexwarden/plexwarden/plex/plexsim"
)

// These tests run real processes: ffmpeg encoding a synthetic source to
// HLS (a copy of it named "Plex Transcoder" with Plex's markers), and
// copies of /bin/sh that sleep. Other tests, and other packages' tests,
// may run transcoders at the same time, so every assertion is about the
// test's own PIDs.

const jobUUID = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"

// waitScan scans every 250 ms until ok accepts a scan or d passes.
func waitScan(t *testing.T, s *Scanner, d time.Duration, what string, ok func(*Scan) bool) *Scan {
	t.Helper()
	deadline := time.Now().Add(d)
	var last *Scan
	for {
		sc, err := s.Scan(context.Background())
		if err != nil {
			t.Fatalf("Scan: %v", err)
		}
		last = sc
		if ok(sc) {
			return sc
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s never happened; last scan: %s", d, what, describe(last))
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func describe(sc *Scan) string {
	var b strings.Builder
	for _, tr := range sc.Transcoders {
		b.WriteString("\n  ")
		b.WriteString(strings.Join([]string{itoa(tr.PID), tr.Name, string(tr.Link), tr.Key, tr.State, tr.FormatCPU(), tr.Output.Activity(sc.Time)}, " | "))
	}
	return b.String()
}

// plexTranscoder starts ffmpeg renamed "Plex Transcoder" for the session
// with transcode key key: working directory …/plex-transcode-<key>-<uuid>
// and the progress URL inside an argument ffmpeg accepts (-metadata).
func plexTranscoder(t *testing.T, simURL, key string) (*localtest.Proc, string) {
	t.Helper()
	root := localtest.SharedDir(t)
	dir := localtest.SessionDir(t, root, key, jobUUID)
	p := localtest.FFmpeg(t, localtest.FFmpegOptions{
		Name: localtest.PlexName, Dir: root, Cwd: dir,
		Args: []string{"-metadata", "title=" + localtest.ProgressURL(simURL, key, jobUUID)},
	})
	return p, dir
}

func TestScanFindsAndLinksRealTranscoders(t *testing.T) {
	t.Parallel()
	sim, src := startSim(t)
	alice := sim.AddSession(plexsim.SessionSpec{User: "alice", Title: "Night Harbor",
		Player: plexsim.PlayerSpec{Title: "Living Room"}, Transcode: &plexsim.TranscodeSpec{Video: "transcode"}})
	bob := sim.AddSession(plexsim.SessionSpec{User: "bob", Title: "Gone Girl", Transcode: &plexsim.TranscodeSpec{Video: "transcode"}})

	plexProc, sessDir := plexTranscoder(t, sim.URL(), alice.TranscodeKey)
	outDir := filepath.Join(t.TempDir(), "live")
	if err := os.Mkdir(outDir, 0o755); err != nil {
		t.Fatal(err)
	}
	ffProc := localtest.FFmpeg(t, localtest.FFmpegOptions{Output: filepath.Join(outDir, "index.m3u8")})

	s := NewScanner(Options{Live: src})
	sc := waitScan(t, s, 20*time.Second, "both encodes sampled with segments", func(sc *Scan) bool {
		a, b := sc.Find(plexProc.PID), sc.Find(ffProc.PID)
		return a != nil && b != nil && a.CPUSampled && b.CPUSampled && a.Output.Segments > 0 && b.Output.Segments > 0
	})
	me, _ := user.Current()

	pt := sc.Find(plexProc.PID)
	checks := []struct {
		what      string
		got, want any
	}{
		{"kind", pt.Kind, KindPlex},
		{"name", pt.Name, "Plex Transcoder"},
		{"owner", pt.Owner, me.Username},
		{"key", pt.Key, alice.TranscodeKey},
		{"key source", pt.KeySource, KeySourceArgs},
		{"link", pt.Link, LinkLinked},
		{"cwd", pt.Cwd, sessDir},
		{"output dir", pt.Output.Dir, sessDir},
		{"input", pt.Input, "testsrc=size=320x240:rate=25"},
		{"can kill", pt.CanKill, true},
		{"state running or sleeping", pt.State == "running" || pt.State == "sleep", true},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("Plex transcoder %s = %v, want %v", c.what, c.got, c.want)
		}
	}
	if pt.Session == nil || pt.Session.User != "alice" || pt.Session.Title != "Night Harbor" || pt.Session.Player != "Living Room" || pt.Session.ID != alice.ID {
		t.Errorf("session = %+v, want alice's Night Harbor on Living Room", pt.Session)
	}
	if pt.CPUPercent <= 0 || pt.RSS == 0 || pt.Uptime <= 0 || pt.CPUSeconds <= 0 {
		t.Errorf("cpu %.1f%% (%.2fs), rss %d, uptime %s: want all > 0 for a running encode", pt.CPUPercent, pt.CPUSeconds, pt.RSS, pt.Uptime)
	}
	if o := pt.Output; !o.Known || o.Bytes <= 0 || o.Files < 2 || o.Newest.IsZero() || o.LastActive.Before(pt.Started) {
		t.Errorf("output = %+v, want segments, a playlist and bytes", o)
	}
	if !slices.ContainsFunc(pt.Cmdline, func(a string) bool { return strings.Contains(a, "/transcode/session/"+alice.TranscodeKey+"/") }) {
		t.Errorf("cmdline %q lacks the progress URL", pt.Cmdline)
	}

	ft := sc.Find(ffProc.PID)
	if ft.Kind != KindFFmpeg || ft.Link != LinkExternal || ft.Output.Dir != outDir || ft.Key != "" {
		t.Errorf("ffmpeg = kind %s, link %s, output %q, key %q; want ffmpeg, external, %q, no key", ft.Kind, ft.Link, ft.Output.Dir, ft.Key, outDir)
	}
	if ft.CPUPercent <= 0 || ft.RSS == 0 {
		t.Errorf("ffmpeg cpu %.1f%%, rss %d: want > 0", ft.CPUPercent, ft.RSS)
	}

	i := slices.IndexFunc(sc.Stale, func(st StaleSession) bool { return st.Key == bob.TranscodeKey })
	if i < 0 || sc.Stale[i].Session == nil || sc.Stale[i].Session.User != "bob" {
		t.Errorf("stale = %+v, want bob's transcode %s without a process", sc.Stale, bob.TranscodeKey)
	}
	if slices.ContainsFunc(sc.Stale, func(st StaleSession) bool { return st.Key == alice.TranscodeKey }) {
		t.Errorf("alice's transcode is listed stale although its process runs")
	}
	if sc.Count() < 2 || sc.TotalCPU() <= 0 || !strings.Contains(sc.Summary(), "local transcoders") {
		t.Errorf("count %d, total CPU %.1f, summary %q", sc.Count(), sc.TotalCPU(), sc.Summary())
	}
	if sc.Processes < 3 || sc.Took <= 0 || sc.Plex.Err != "" || !sc.Plex.Asked {
		t.Errorf("scan stats = processes %d, took %s, plex %+v", sc.Processes, sc.Took, sc.Plex)
	}

	// Without Plex: keys only.
	bare := NewScanner(Options{})
	if sc, err := bare.Scan(context.Background()); err != nil {
		t.Fatal(err)
	} else if pt := sc.Find(plexProc.PID); pt == nil || pt.Link != LinkKeyOnly || pt.Key != alice.TranscodeKey || pt.CPUSampled {
		t.Errorf("keys-only scan of PID %d = %+v, want key-only with the key and no CPU sample yet", plexProc.PID, pt)
	}
}

func TestIdleWhilePausedAndStopped(t *testing.T) {
	t.Parallel()
	sim, src := startSim(t)
	ref := sim.AddSession(plexsim.SessionSpec{User: "carol", State: plexsim.StatePaused, Transcode: &plexsim.TranscodeSpec{Video: "transcode"}})
	p, _ := plexTranscoder(t, sim.URL(), ref.TranscodeKey)

	const after = 3 * time.Second
	pol := NewPolicy(PolicyConfig{Idle: IdleRule{Enabled: true, After: after}}, nil)
	s := NewScanner(Options{Live: src})
	mine := func(fs []Finding) []Finding {
		return slices.DeleteFunc(fs, func(f Finding) bool { return f.PID != p.PID })
	}

	// Writing: paused, but output grows, so not idle.
	var firstBytes int64 = -1
	waitScan(t, s, 20*time.Second, "output growing for longer than the idle time", func(sc *Scan) bool {
		if fs := mine(pol.Evaluate(sc)); len(fs) > 0 {
			t.Fatalf("idle finding while output grows: %+v", fs)
		}
		tr := sc.Find(p.PID)
		if tr == nil || !tr.Output.Known || tr.Output.Bytes == 0 {
			return false
		}
		if tr.Session == nil || tr.Session.State != "paused" {
			t.Fatalf("session = %+v, want paused", tr.Session)
		}
		if firstBytes < 0 {
			firstBytes = tr.Output.Bytes
		}
		return tr.Output.Bytes > firstBytes && sc.Time.Sub(tr.Started) > after+time.Second
	})

	// Stopped: the output goes quiet and the rule fires once.
	if err := p.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stoppedAt := time.Now()
	var got Finding
	sc := waitScan(t, s, after+10*time.Second, "an idle finding", func(sc *Scan) bool {
		fs := mine(pol.Evaluate(sc))
		if len(fs) > 0 {
			got = fs[0]
			return true
		}
		return false
	})
	// The quiet time counts from the last output, which may be a little
	// before SIGSTOP on a busy machine.
	if tr := sc.Find(p.PID); got.At.Sub(tr.Output.LastActive) < after {
		t.Errorf("idle %s after the last output, want at least %s", got.At.Sub(tr.Output.LastActive), after)
	}
	if waited := time.Since(stoppedAt); waited > after+5*time.Second {
		t.Errorf("idle only %s after SIGSTOP, want about %s", waited, after)
	}
	if got.Rule != RuleIdle || got.Action != ActionStopTranscode || got.Key != ref.TranscodeKey || !strings.Contains(got.Reason, "paused") {
		t.Errorf("finding = %+v, want idle / stop-transcode of %s, reason mentioning the pause", got, ref.TranscodeKey)
	}
	if tr := sc.Find(p.PID); tr.State != "stop" || tr.CPUPercent > 1 {
		t.Errorf("stopped process: state %q, cpu %.1f%%; want stop and ~0%%", tr.State, tr.CPUPercent)
	}
	if fs := mine(pol.Evaluate(sc)); len(fs) != 0 {
		t.Errorf("second evaluation: %+v, want nothing (once per process and rule)", fs)
	}

	// Continued: output grows again.
	quiet := sc.Find(p.PID).Output.Bytes
	if err := p.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	waitScan(t, s, 10*time.Second, "output growing after SIGCONT", func(sc *Scan) bool {
		tr := sc.Find(p.PID)
		return tr != nil && tr.Output.Bytes > quiet && time.Since(tr.Output.LastActive) < 2*time.Second
	})
}

func TestOrphanAfterSessionEnds(t *testing.T) {
	t.Parallel()
	sim, src := startSim(t)
	ref := sim.AddSession(plexsim.SessionSpec{User: "dave", Transcode: &plexsim.TranscodeSpec{Video: "transcode"}})
	p, _ := plexTranscoder(t, sim.URL(), ref.TranscodeKey)

	const after = time.Second
	pol := NewPolicy(PolicyConfig{Orphan: OrphanRule{Enabled: true, After: after}}, nil)
	s := NewScanner(Options{Live: src})
	waitScan(t, s, 10*time.Second, "linked", func(sc *Scan) bool {
		tr := sc.Find(p.PID)
		for _, f := range pol.Evaluate(sc) {
			if f.PID == p.PID {
				t.Fatalf("finding while linked: %+v", f)
			}
		}
		return tr != nil && tr.Link == LinkLinked
	})

	if err := sim.EndSession(ref.Key); err != nil {
		t.Fatal(err)
	}
	ended := time.Now()
	var got Finding
	sc := waitScan(t, s, 10*time.Second, "an orphan finding", func(sc *Scan) bool {
		for _, f := range pol.Evaluate(sc) {
			if f.PID == p.PID {
				got = f
				return true
			}
		}
		return false
	})
	if waited := time.Since(ended); waited < after {
		t.Errorf("orphan after %s, want at least %s", waited, after)
	}
	if got.Rule != RuleOrphan || got.Action != ActionKill || got.Key != ref.TranscodeKey || got.DryRun {
		t.Errorf("finding = %+v, want orphan / kill of %s", got, ref.TranscodeKey)
	}
	if tr := sc.Find(p.PID); tr.Link != LinkOrphan || tr.Session != nil || !strings.HasPrefix(tr.LinkLabel(sc.Time), "orphan for ") {
		t.Errorf("transcoder link %s (%q), session %+v; want orphan, none", tr.Link, tr.LinkLabel(sc.Time), tr.Session)
	}
	if slices.ContainsFunc(sc.Stale, func(st StaleSession) bool { return st.Key == ref.TranscodeKey }) {
		t.Error("the ended session's key is listed stale")
	}

	// Act on it: ffmpeg stops on SIGTERM.
	res, err := Kill(context.Background(), got.Proc, KillOptions{ForceAfter: 5 * time.Second})
	if err != nil {
		t.Fatalf("Kill: %v", err)
	}
	if !slices.Equal(res.Signals, []string{"SIGTERM"}) || res.Forced || res.Name != "Plex Transcoder" {
		t.Errorf("kill result = %+v, want a polite SIGTERM", res)
	}
	if !p.WaitExit(5 * time.Second) {
		t.Fatal("the transcoder still runs after Kill")
	}
	sc, err = s.Scan(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if sc.Find(p.PID) != nil {
		t.Errorf("PID %d still listed after it exited", p.PID)
	}
}

func TestBackgroundJobsAreNeverOrphans(t *testing.T) {
	_, src := startSim(t) // a server with no sessions at all
	root := localtest.SharedDir(t)
	credits := filepath.Join(root, "Cache", "PlexCreditsDetection", "abc")
	if err := os.MkdirAll(credits, 0o755); err != nil {
		t.Fatal(err)
	}
	job := localtest.Fake(t, localtest.FakeOptions{Dir: root, Cwd: credits, Args: []string{"-i", "/media/movie.mkv", "-f", "null", "-"}})
	keyed := localtest.Fake(t, localtest.FakeOptions{Dir: root, Args: []string{"-progressurl", localtest.ProgressURL("http://127.0.0.1:32400", "deadbeef", jobUUID)}})

	all := PolicyConfig{
		Orphan:          OrphanRule{Enabled: true},
		Idle:            IdleRule{Enabled: true},
		CPUHog:          CPURule{Enabled: true, Percent: -1},
		MaxConcurrent:   ConcurrencyRule{Enabled: true, Max: 0},
		IncludeExternal: true,
	}
	pol := NewPolicy(all, nil)
	s := NewScanner(Options{Live: src})
	var findings []Finding
	var sc *Scan
	for range 3 {
		var err error
		if sc, err = s.Scan(context.Background()); err != nil {
			t.Fatal(err)
		}
		findings = append(findings, pol.Evaluate(sc)...)
	}
	bg := sc.Find(job.PID)
	if bg == nil || bg.Link != LinkBackground || bg.Job != "credits detection" || bg.Key != "" {
		t.Fatalf("credits job = %+v, want a background credits detection job", bg)
	}
	if got := bg.LinkLabel(sc.Time); got != "background: credits detection" {
		t.Errorf("label = %q", got)
	}
	var orphaned bool
	for _, f := range findings {
		if f.PID == job.PID {
			t.Errorf("finding for the background job: %+v", f)
		}
		if f.PID == keyed.PID && f.Rule == RuleOrphan {
			orphaned = true
		}
	}
	if !orphaned {
		t.Errorf("the keyed stand-in without a session was not reported orphan: %+v", findings)
	}
}

func TestScanOtherUsersProcess(t *testing.T) {
	nobody := nobodyCred(t)
	p := localtest.Fake(t, localtest.FakeOptions{Credential: nobody, Args: []string{"-progressurl", localtest.ProgressURL("http://127.0.0.1:32400", "k0", jobUUID)}})
	sc, err := NewScanner(Options{}).Scan(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	tr := sc.Find(p.PID)
	if tr == nil {
		t.Fatalf("PID %d not found", p.PID)
	}
	if tr.Owner != "nobody" || tr.UID != int64(nobody.Uid) || !tr.CanKill || tr.Key != "k0" {
		t.Errorf("owner %q uid %d canKill %v key %q; want nobody, %d, true (root), k0", tr.Owner, tr.UID, tr.CanKill, tr.Key, nobody.Uid)
	}
	res, err := Kill(context.Background(), tr.ID(), KillOptions{})
	if err != nil || !p.WaitExit(3*time.Second) {
		t.Errorf("root killing nobody's transcoder: %+v, %v", res, err)
	}
}

// nobodyCred returns the credential of user nobody, skipping the test when
// not root (only root may start processes as another user).
func nobodyCred(t *testing.T) *syscall.Credential {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to run processes as nobody")
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Skip("no user nobody")
	}
	uid, gid := atou(u.Uid), atou(u.Gid)
	return &syscall.Credential{Uid: uid, Gid: gid}
}

func atou(s string) uint32 {
	var n uint32
	for _, c := range s {
		n = n*10 + uint32(c-'0')
	}
	return n
}
