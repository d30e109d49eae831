//go:build unix

package cli

import (
	"encoding/json"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/app/local"
	"github.com/plexwarden/plexwarden/app/local/localtest"
	"github.com/plexwarden/plexwarden/plex/plexsim"
)

const testUUID = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"

// fakeTranscoder starts a stand-in "Plex Transcoder" whose argv carries
// the progress URL of transcode key on server base.
func fakeTranscoder(t *testing.T, base, key string) *localtest.Proc {
	t.Helper()
	return localtest.Fake(t, localtest.FakeOptions{Args: []string{"-progressurl", localtest.ProgressURL(base, key, testUUID)}})
}

func decodeScan(t *testing.T, out string) *local.Scan {
	t.Helper()
	var sc local.Scan
	if err := json.Unmarshal([]byte(out), &sc); err != nil {
		t.Fatalf("not a JSON scan: %v\n%s", err, out)
	}
	return &sc
}

func TestLocalLinksToSessions(t *testing.T) {
	sim := startSim(t, plexsim.Options{Token: "tok"})
	alice := sim.AddSession(plexsim.SessionSpec{User: "alice", Title: "Night Harbor", Transcode: &plexsim.TranscodeSpec{Video: "transcode"}})
	bob := sim.AddSession(plexsim.SessionSpec{User: "bob", Transcode: &plexsim.TranscodeSpec{Video: "transcode"}})
	p := fakeTranscoder(t, sim.URL(), alice.TranscodeKey)
	env := map[string]string{"PLEX_URL": sim.URL(), "PLEX_TOKEN": "tok"}

	code, out, errText := run(t, env, "local", "--json", "--sample", "300ms")
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, errText)
	}
	sc := decodeScan(t, out)
	tr := sc.Find(p.PID)
	if tr == nil {
		t.Fatalf("PID %d missing from %s", p.PID, out)
	}
	if tr.Link != local.LinkLinked || tr.Key != alice.TranscodeKey || tr.Session == nil || tr.Session.User != "alice" || !tr.CPUSampled {
		t.Errorf("transcoder = link %s, key %q, session %+v, sampled %v; want linked to alice", tr.Link, tr.Key, tr.Session, tr.CPUSampled)
	}
	var stale bool
	for _, s := range sc.Stale {
		stale = stale || s.Key == bob.TranscodeKey
	}
	if !stale {
		t.Errorf("stale = %+v, want bob's transcode %s", sc.Stale, bob.TranscodeKey)
	}
	if strings.Contains(out, "tok\"") || errText != "" {
		t.Errorf("token in output or noise on stderr: %q", errText)
	}

	code, out, _ = run(t, env, "local")
	for _, want := range []string{"PID", strconv.Itoa(int(p.PID)), "Plex Transcoder", "linked", "alice · Night Harbor", "stale", bob.TranscodeKey, "local transcoder"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("table (exit %d) lacks %q:\n%s", code, want, out)
		}
	}
}

func TestLocalKeysOnly(t *testing.T) {
	p := fakeTranscoder(t, "http://127.0.0.1:32400", "keyonly1")
	tests := []struct {
		name     string
		env      map[string]string
		wantNote string
	}{
		{"no server", nil, "set PLEX_URL and PLEX_TOKEN"},
		{"no token", map[string]string{"PLEX_URL": "http://127.0.0.1:32400"}, "PLEX_TOKEN is not set"},
		{"remote server", map[string]string{"PLEX_URL": "http://192.0.2.7:32400", "PLEX_TOKEN": "x"}, "not on this computer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errText := run(t, tt.env, "local", "--sample", "250ms")
			if code != 0 || !strings.Contains(errText, tt.wantNote) {
				t.Errorf("exit %d, stderr %q; want 0 and %q", code, errText, tt.wantNote)
			}
			line := lineWith(out, strconv.Itoa(int(p.PID)))
			if !strings.Contains(line, "key only") || !strings.Contains(line, "key keyonly1") {
				t.Errorf("row of PID %d = %q, want key only with the key", p.PID, line)
			}
		})
	}
	// --json stays clean: the note goes nowhere.
	code, out, errText := run(t, nil, "local", "--json", "--sample", "250ms")
	if code != 0 || errText != "" {
		t.Errorf("--json: exit %d, stderr %q", code, errText)
	}
	if tr := decodeScan(t, out).Find(p.PID); tr == nil || tr.Link != local.LinkKeyOnly {
		t.Errorf("--json transcoder = %+v, want key-only", tr)
	}
}

func TestLocalPlexDown(t *testing.T) {
	dead := startSim(t, plexsim.Options{})
	url := dead.URL()
	dead.Close()
	p := fakeTranscoder(t, url, "downkey")
	code, out, errText := run(t, map[string]string{"PLEX_URL": url, "PLEX_TOKEN": "x"}, "local", "--sample", "250ms")
	if code != 0 || !strings.Contains(errText, "could not ask Plex") {
		t.Errorf("exit %d, stderr %q; want 0 and a warning", code, errText)
	}
	if line := lineWith(out, strconv.Itoa(int(p.PID))); !strings.Contains(line, "unknown") {
		t.Errorf("row = %q, want link unknown", line)
	}
}

func lineWith(out, pid string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, pid+" ") {
			return l
		}
	}
	return ""
}

func TestKillLocal(t *testing.T) {
	fake := fakeTranscoder(t, "http://127.0.0.1:32400", "killlocalkey")
	impostor := localtest.Fake(t, localtest.FakeOptions{}) // sleep under Plex's name
	sleeper := localtest.Start(t, exec.Command("sleep", "60"))
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	pid := func(p *localtest.Proc) string { return strconv.Itoa(int(p.PID)) }
	tests := []struct {
		name    string
		args    []string
		code    int
		stdout  string
		stderr  string
		survive *localtest.Proc
	}{
		{"refuses a non-transcoder", []string{"kill-local", pid(sleeper)}, 1, "", `is "sleep", not a transcoder`, sleeper},
		{"refuses a name-only impostor", []string{"kill-local", pid(impostor)}, 1, "",
			`is named "Plex Transcoder" but is not taken for a transcoder: it has only the name`, impostor},
		{"refuses with narrower names", []string{"kill-local", pid(fake), "--plex-names", "Other", "--ffmpeg-names", ""}, 1, "", "not a transcoder (Other)", fake},
		{"gone", []string{"kill-local", strconv.Itoa(gone.Process.Pid)}, 1, "", "no transcoder with PID", nil},
		{"not a number", []string{"kill-local", "abc"}, 2, "", "not a process id", nil},
		{"no PID", []string{"kill-local"}, 2, "", "Usage: plexwarden kill-local", nil},
		{"bad grace", []string{"kill-local", pid(fake), "--force-after", "0s"}, 2, "", "must be positive", fake},
		{"stops a transcoder", []string{"kill-local", pid(fake), "--force-after", "2s"}, 0, "Stopped PID " + pid(fake) + " (Plex Transcoder) with SIGTERM", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errText := run(t, nil, tt.args...)
			if code != tt.code || !strings.Contains(out, tt.stdout) || !strings.Contains(errText, tt.stderr) {
				t.Errorf("exit %d, stdout %q, stderr %q; want %d, %q, %q", code, out, errText, tt.code, tt.stdout, tt.stderr)
			}
			if tt.survive != nil && tt.survive.Exited() {
				t.Errorf("PID %d was stopped", tt.survive.PID)
			}
		})
	}
	if !fake.Exited() && !fake.WaitExit(3e9) {
		t.Error("the transcoder still runs")
	}
}

func TestLocalHelp(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"local", "--help"}, []string{"plexwarden local", "-json", "-sample", "-ffmpeg-names", "orphan", "stale"}},
		{[]string{"kill-local", "-h"}, []string{"plexwarden kill-local PID", "-force-after", "SIGKILL", "refused"}},
		{[]string{"--help"}, []string{"plexwarden local [--json]", "plexwarden kill-local PID"}},
	}
	for _, tt := range tests {
		code, out, errText := run(t, nil, tt.args...)
		for _, w := range tt.want {
			if code != 0 || !strings.Contains(out+errText, w) {
				t.Errorf("%v: exit %d, output lacks %q:\n%s", tt.args, code, w, out+errText)
			}
		}
	}
	if code, _, errText := run(t, nil, "local", "extra"); code != 2 || !strings.Contains(errText, "unexpected argument") {
		t.Errorf("local extra: exit %d, stderr %q", code, errText)
	}
}

// kill-local refuses the transcoder of a live session and names the
// stop-transcode command; --force signals it anyway. A sync job's
// transcoder is no live session and is stopped.
func TestKillLocalLiveSession(t *testing.T) {
	sim := startSim(t, plexsim.Options{Token: "tok"})
	alice := sim.AddSession(plexsim.SessionSpec{User: "alice", Title: "Night Harbor", Transcode: &plexsim.TranscodeSpec{Video: "transcode"}})
	syncKey := sim.AddJob(plexsim.JobSpec{})
	live := fakeTranscoder(t, sim.URL(), alice.TranscodeKey)
	synced := fakeTranscoder(t, sim.URL(), syncKey)
	env := map[string]string{"PLEX_URL": sim.URL(), "PLEX_TOKEN": "tok"}
	pid := func(p *localtest.Proc) string { return strconv.Itoa(int(p.PID)) }

	code, _, errText := run(t, env, "kill-local", pid(live))
	if code != 1 || !strings.Contains(errText, "live session (alice · Night Harbor") || !strings.Contains(errText, "plexwarden stop-transcode "+alice.TranscodeKey) {
		t.Errorf("exit %d, stderr %q; want a refusal naming stop-transcode %s", code, errText, alice.TranscodeKey)
	}
	if live.Exited() {
		t.Fatal("the live session's transcoder was stopped")
	}
	if code, out, errText := run(t, env, "kill-local", pid(synced), "--force-after", "2s"); code != 0 || !strings.Contains(out, "Stopped PID") {
		t.Errorf("sync job: exit %d, stdout %q, stderr %q; want stopped", code, out, errText)
	}
	if code, out, errText := run(t, env, "kill-local", pid(live), "--force", "--force-after", "2s"); code != 0 || !strings.Contains(out, "Stopped PID") {
		t.Errorf("--force: exit %d, stdout %q, stderr %q; want stopped", code, out, errText)
	}
	if !live.WaitExit(3 * time.Second) {
		t.Error("--force did not stop it")
	}
}
