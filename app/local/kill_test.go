//go:build unix

package local

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/app/local/localtest"
	"github.com/plexwarden/plexwarden/plex/plexsim"
)

func TestKill(t *testing.T) {
	tests := []struct {
		name        string
		ignoreTERM  bool
		forceAfter  time.Duration
		wantSignals []string
		wantForced  bool
		wantText    string
	}{
		{"polite", false, 5 * time.Second, []string{"SIGTERM"}, false, "with SIGTERM"},
		{"ignores SIGTERM", true, 300 * time.Millisecond, []string{"SIGTERM", "SIGKILL"}, true, "killed it with SIGKILL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := localtest.Fake(t, localtest.FakeOptions{IgnoreTERM: tt.ignoreTERM, Args: keyedArgs("killkey")})
			start := time.Now()
			res, err := Kill(context.Background(), ProcID{PID: p.PID}, KillOptions{ForceAfter: tt.forceAfter})
			if err != nil {
				t.Fatalf("Kill: %v", err)
			}
			if !slices.Equal(res.Signals, tt.wantSignals) || res.Forced != tt.wantForced || res.Gone {
				t.Errorf("result = %+v, want signals %v, forced %v", res, tt.wantSignals, tt.wantForced)
			}
			if !p.WaitExit(3 * time.Second) {
				t.Fatal("process still runs")
			}
			if tt.wantForced && time.Since(start) < tt.forceAfter {
				t.Errorf("SIGKILL after %s, want the %s grace first", time.Since(start), tt.forceAfter)
			}
			if !strings.Contains(res.Text(), tt.wantText) || !strings.Contains(res.Text(), strconv.Itoa(int(p.PID))) {
				t.Errorf("Text() = %q, want it to mention PID and %q", res.Text(), tt.wantText)
			}
		})
	}
}

func TestKillRefuses(t *testing.T) {
	sleeper := localtest.Start(t, exec.Command("sleep", "60"))
	fake := localtest.Fake(t, localtest.FakeOptions{Args: keyedArgs("refusekey")})
	impostor := localtest.Fake(t, localtest.FakeOptions{}) // "sleep" under Plex's name, nothing more
	ffImpostor := localtest.Fake(t, localtest.FakeOptions{Name: "ffmpeg"})
	done := exec.Command("true")
	if err := done.Run(); err != nil {
		t.Fatal(err)
	}
	gonePID := int32(done.Process.Pid)

	tests := []struct {
		name    string
		id      ProcID
		opts    KillOptions
		wantErr error
		wantMsg string
		alive   *localtest.Proc
	}{
		{"not a transcoder", ProcID{PID: sleeper.PID}, KillOptions{}, ErrNotTranscoder, `is "sleep", not a transcoder (Plex Transcoder, Plex New Transcoder, ffmpeg)`, sleeper},
		{"narrower names", ProcID{PID: fake.PID}, KillOptions{Matcher: Matcher{Plex: []string{"Other"}, FFmpeg: []string{}}}, ErrNotTranscoder, "not a transcoder (Other)", fake},
		{"name-only Plex Transcoder", ProcID{PID: impostor.PID}, KillOptions{}, ErrNotTranscoder,
			`is named "Plex Transcoder" but is not taken for a transcoder: it has only the name: no transcode key`, impostor},
		{"name-only ffmpeg", ProcID{PID: ffImpostor.PID}, KillOptions{}, ErrNotTranscoder, "its arguments name no input (-i)", ffImpostor},
		{"reused PID", ProcID{PID: fake.PID, Start: 12345}, KillOptions{}, ErrNoProcess, "newer process", fake},
		{"exited", ProcID{PID: gonePID}, KillOptions{}, ErrNoProcess, "no such process", nil},
		{"bad PID", ProcID{PID: 0}, KillOptions{}, ErrNoProcess, "no such process", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Kill(context.Background(), tt.id, tt.opts)
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Kill(%+v) = %v, want %v with %q", tt.id, err, tt.wantErr, tt.wantMsg)
			}
			if tt.alive != nil && tt.alive.Exited() {
				t.Errorf("PID %d was ended", tt.alive.PID)
			}
		})
	}
}

// runAsNobody runs this test binary as user nobody in helper mode and
// decodes its report. The binary is copied to a folder nobody may enter.
func runAsNobody(t *testing.T, env ...string) helperReport {
	t.Helper()
	cred := nobodyCred(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := localtest.Binary(t, self, localtest.SharedDir(t), "local.test")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = append([]string{"PATH=/usr/bin:/bin", "HOME=/"}, env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("helper as nobody: %v\n%s", err, errb.String())
	}
	var rep helperReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("helper output: %v\n%s\n%s", err, out.String(), errb.String())
	}
	return rep
}

func TestKillPermissionDenied(t *testing.T) {
	p := localtest.Fake(t, localtest.FakeOptions{Args: keyedArgs("permkey")}) // ours (root), nobody tries to kill it
	rep := runAsNobody(t, helperEnv+"=kill", "PLEXWARDEN_LOCAL_PID="+strconv.Itoa(int(p.PID)))
	if !rep.Permission {
		t.Fatalf("nobody's Kill = %q, want a permission error", rep.Err)
	}
	t.Logf("message: %s", rep.Err)
	if rep.Owner != "root" || rep.Self != "nobody" {
		t.Errorf("owner %q, self %q; want root, nobody", rep.Owner, rep.Self)
	}
	for _, want := range []string{"permission denied", "PID " + strconv.Itoa(int(p.PID)), "Plex Transcoder", "belongs to user root",
		"runs as nobody", "Only root may stop it", "sudo", "through Plex"} {
		if !strings.Contains(rep.Err, want) {
			t.Errorf("message %q lacks %q", rep.Err, want)
		}
	}
	if p.Exited() {
		t.Error("the process was ended")
	}
	if len(rep.Result.Signals) != 0 {
		t.Errorf("signals recorded despite the refusal: %v", rep.Result.Signals)
	}
}

func TestPermissionAdvice(t *testing.T) {
	tests := []struct {
		owner     string
		want      []string
		wantRetry string
	}{
		{"plex", []string{"belongs to user plex", "Only plex or root may stop it", "plex group is not enough", "sudo -u plex", "through Plex"},
			"Try: sudo -u plex plexwarden kill-local 42   (or: sudo plexwarden kill-local 42)"},
		{"root", []string{"belongs to user root", "Only root may stop it", "sudo"}, "Try: sudo plexwarden kill-local 42"},
		{"", []string{"belongs to another user", "Only its owner or root", "not enough"}, "Try: sudo plexwarden kill-local 42"},
	}
	for _, tt := range tests {
		e := &PermissionError{PID: 42, Name: "Plex Transcoder", Owner: tt.owner, Self: "alice", Err: syscall.EPERM}
		msg := e.Error()
		for _, w := range tt.want {
			if !strings.Contains(msg, w) {
				t.Errorf("owner %q: message %q lacks %q", tt.owner, msg, w)
			}
		}
		if got := e.Retry("plexwarden kill-local 42"); got != tt.wantRetry {
			t.Errorf("owner %q: Retry = %q, want %q", tt.owner, got, tt.wantRetry)
		}
		if !errors.Is(e, ErrPermission) || !errors.Is(e, syscall.EPERM) || !errors.Is(e, os.ErrPermission) {
			t.Errorf("owner %q: errors.Is fails for ErrPermission, EPERM or os.ErrPermission", tt.owner)
		}
	}
}

func TestScanAsOtherUser(t *testing.T) {
	root := localtest.SharedDir(t)
	key := "otheruserkey"
	dir := localtest.SessionDir(t, root, key, jobUUID)
	if err := os.WriteFile(dir+"/media-00001.ts", []byte("segment"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := localtest.Fake(t, localtest.FakeOptions{Dir: root, Cwd: dir, Args: []string{"-progressurl", localtest.ProgressURL("http://127.0.0.1:32400", key, jobUUID)}})
	rep := runAsNobody(t, helperEnv+"=scan", "PLEXWARDEN_LOCAL_SESSIONS="+root+"/Transcode/Sessions")
	if rep.Err != "" {
		t.Fatalf("scan as nobody: %s", rep.Err)
	}
	tr := rep.Scan.Find(p.PID)
	if tr == nil {
		t.Fatalf("nobody's scan misses PID %d", p.PID)
	}
	checks := []struct {
		what      string
		got, want any
	}{
		{"owner", tr.Owner, "root"},
		{"cwd", tr.Cwd, ""},
		{"cwd error", tr.CwdErr, "permission denied"},
		{"key", tr.Key, key},
		{"key source", tr.KeySource, KeySourceProgressURL},
		{"output dir found in the session dirs", tr.Output.Dir, dir},
		{"segments", tr.Output.Segments, 1},
		{"can kill", tr.CanKill, false},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
}

// A transcoder of another user whose session folder is in none of the
// known places: its output is reported as not measurable, with the reason,
// and the idle rule says it does not apply instead of never firing.
func TestScanAsOtherUserNotMeasurable(t *testing.T) {
	root := localtest.SharedDir(t)
	key := "hiddenoutputkey"
	dir := localtest.SessionDir(t, root, key, jobUUID)
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	p := localtest.Fake(t, localtest.FakeOptions{Dir: root, Cwd: dir, Args: keyedArgs(key)})
	rep := runAsNobody(t, helperEnv+"=scan", "PLEXWARDEN_LOCAL_SESSIONS="+localtest.SharedDir(t))
	if rep.Err != "" {
		t.Fatalf("scan as nobody: %s", rep.Err)
	}
	tr := rep.Scan.Find(p.PID)
	if tr == nil {
		t.Fatalf("nobody's scan misses PID %d", p.PID)
	}
	cfg := PolicyConfig{Idle: IdleRule{Enabled: true, After: time.Second}}
	if got, want := tr.Output.Activity(rep.Scan.Time), "not measurable (output folder unknown (working directory: permission denied))"; got != want {
		t.Errorf("activity = %q, want %q", got, want)
	}
	if got, want := IdleNotApplicable(cfg, tr), "its output cannot be measured (output folder unknown (working directory: permission denied))"; got != want {
		t.Errorf("IdleNotApplicable = %q, want %q", got, want)
	}
}

// Another user's transcoder writing under the server's own transcoder
// temporary folder (TranscoderTempDirectory, e.g. /dev/shm): the scan
// finds its output there through the server's settings.
func TestScanAsOtherUserFindsPlexTempDir(t *testing.T) {
	sim, _ := startSim(t)
	ref := sim.AddSession(plexsim.SessionSpec{User: "alice", Transcode: &plexsim.TranscodeSpec{Video: "transcode"}})
	temp := localtest.SharedDir(t)
	sim.SetTranscoderTempDir(temp)
	dir := localtest.SessionDir(t, temp, ref.TranscodeKey, jobUUID)
	if err := os.WriteFile(dir+"/media-00001.ts", []byte("segment"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := localtest.Fake(t, localtest.FakeOptions{Cwd: dir, Args: keyedArgs(ref.TranscodeKey)})
	rep := runAsNobody(t, helperEnv+"=scanlive", "PLEXWARDEN_LOCAL_PLEXURL="+sim.URL())
	if rep.Err != "" {
		t.Fatalf("scan as nobody: %s", rep.Err)
	}
	tr := rep.Scan.Find(p.PID)
	if tr == nil {
		t.Fatalf("nobody's scan misses PID %d", p.PID)
	}
	if tr.CwdErr == "" || !tr.Output.Known || tr.Output.Dir != dir || tr.Output.Segments != 1 || tr.Link != LinkLinked {
		t.Errorf("cwd error %q, output %+v, link %s; want the output found in %s through the server's settings, linked", tr.CwdErr, tr.Output, tr.Link, dir)
	}
}

// keyedArgs are the arguments Plex gives a playback transcoder of key: what
// Kill requires beyond the name.
func keyedArgs(key string) []string {
	return []string{"-progressurl", localtest.ProgressURL("http://127.0.0.1:32400", key, jobUUID)}
}
