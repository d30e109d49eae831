//go:build unix

package desktop

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/app/history"
	"github.com/plexwarden/plexwarden/app/local"
	"github.com/plexwarden/plexwarden/app/local/localtest"
	"github.com/plexwarden/plexwarden/app/rules"
	"github.com/plexwarden/plexwarden/plex/plexsim"
)

// The orphan clean-up from rules.json's local section, end to end with real
// processes: a stand-in transcoder whose key no Plex session has is killed
// after the rule's delay and recorded in the history; one whose key belongs
// to a live session of this (local) server is left alone. The processes get
// a name of their own so no other test's transcoders are touched.
func TestLocalOrphanCleanup(t *testing.T) {
	const name = "PW Desktop Test Transcoder"
	sim := plexsim.New(plexsim.Options{Token: "tok", PlexPass: true, PingInterval: 200 * time.Millisecond})
	if err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	live := sim.AddSession(plexsim.SessionSpec{User: "alice", Transcode: &plexsim.TranscodeSpec{Video: "transcode"}})
	// A sync/optimize job: only /transcode/sessions lists its key.
	syncKey := sim.AddJob(plexsim.JobSpec{Progress: 40})

	dir := t.TempDir()
	rf := rules.File{Version: rules.Version, Local: &rules.LocalRules{Orphan: rules.LocalRule{Enabled: true, After: rules.Duration(time.Second)}}}
	if err := rules.Save(filepath.Join(dir, rules.FileName), rf); err != nil {
		t.Fatal(err)
	}
	bin := localtest.SharedDir(t)
	orphan := localtest.Fake(t, localtest.FakeOptions{Name: name, Dir: bin, Args: []string{"-progressurl", localtest.ProgressURL(sim.URL(), "deadbeefkey", "u1")}})
	linked := localtest.Fake(t, localtest.FakeOptions{Name: name, Dir: bin, Args: []string{"-progressurl", localtest.ProgressURL(sim.URL(), live.TranscodeKey, "u2")}})
	synced := localtest.Fake(t, localtest.FakeOptions{Name: name, Dir: bin, Args: []string{"-progressurl", localtest.ProgressURL(sim.URL(), syncKey, "u3")}})

	env := map[string]string{"PLEX_URL": sim.URL(), "PLEX_TOKEN": "tok"}
	d, err := New(Options{
		Controller:   app.ControllerOptions{ConfigDir: dir, Secrets: app.NewMemoryStore(), Getenv: func(k string) string { return env[k] }},
		LocalMatcher: local.Matcher{Plex: []string{name}, FFmpeg: []string{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := d.Start(ctx, Sinks{}); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); d.Wait() }()

	if !orphan.WaitExit(15 * time.Second) {
		t.Fatal("the orphaned transcoder was not killed within 15s")
	}
	waitFor(t, "the clean-up record", 5*time.Second, func() bool {
		r, _ := history.Read(filepath.Join(dir, "history"), history.Filter{Kind: history.KindLocal})
		return len(r.Records) > 0
	})
	time.Sleep(2500 * time.Millisecond) // one more scan: nothing else may be ended
	r, _ := history.Read(filepath.Join(dir, "history"), history.Filter{Kind: history.KindLocal})
	if rec := r.Records[0]; rec.Rule != string(local.RuleOrphan) || rec.Action != string(local.ActionKill) || rec.DryRun {
		t.Errorf("record = %+v, want an orphan kill", rec)
	}
	if linked.Exited() {
		t.Error("the transcoder of a live session was killed")
	}
	if synced.Exited() {
		t.Error("the transcoder of a sync job (only in /transcode/sessions) was killed")
	}
	if len(r.Records) != 1 {
		t.Errorf("records = %+v, want only the orphan's", r.Records)
	}
}
