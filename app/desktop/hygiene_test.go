package desktop

import (
	"bytes"
	"context"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/app/rules"
	"github.com/plexwarden/plexwarden/internal/testutil"
	"github.com/plexwarden/plexwarden/plex/plexsim"
)

// Token hygiene over everything the assembled app writes: the logs (at
// debug level, through failures: a 401 answer, a server restart), the
// config directory (config, rules, history, client id) and the requests
// (the token only ever in the X-Plex-Token header).
func TestTokenNeverWritten(t *testing.T) {
	const token = "SeCrEt-Plex-Token-4711"
	sim := plexsim.New(plexsim.Options{Token: token, PlexPass: true, PingInterval: 100 * time.Millisecond})
	if err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	dir := t.TempDir()
	if err := rules.Save(filepath.Join(dir, rules.FileName), rules.File{Version: rules.Version,
		Rules: []rules.Rule{rules.DefaultRule(rules.KindTranscode, "No transcodes")}}); err != nil {
		t.Fatal(err)
	}
	var logs testutil.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	env := map[string]string{"PLEX_URL": sim.URL(), "PLEX_TOKEN": token}
	d, err := New(Options{Log: log, Controller: app.ControllerOptions{ConfigDir: dir, Secrets: app.NewMemoryStore(), Getenv: func(k string) string { return env[k] }}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := d.Start(ctx, Sinks{}); err != nil {
		t.Fatal(err)
	}
	sim.AddSession(plexsim.SessionSpec{User: "alice", Transcode: &plexsim.TranscodeSpec{Video: "transcode"}})
	if _, err := sim.WaitCalls(ctxTimeout(t, 5*time.Second), 1); err != nil {
		t.Fatal(err)
	}
	sim.FailNext(500, 3) // failures get logged
	sim.DropStreams()
	time.Sleep(500 * time.Millisecond)
	_ = d.SetRules(d.Rules()) // rewrites rules.json
	cancel()
	d.Wait()

	if strings.Contains(logs.String(), token) {
		t.Errorf("the logs contain the token:\n%s", logs.String())
	}
	if logs.String() == "" {
		t.Error("nothing was logged: the check proves nothing")
	}
	files := 0
	_ = filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		files++
		b, _ := os.ReadFile(path)
		if bytes.Contains(b, []byte(token)) {
			t.Errorf("%s contains the token", path)
		}
		return nil
	})
	if files < 3 {
		t.Errorf("only %d files written; want at least rules, history and client id", files)
	}
	for _, r := range sim.Requests() {
		if strings.Contains(r.RawQuery, token) || strings.Contains(r.Path, token) {
			t.Errorf("%s %s?%s carries the token in the URL", r.Method, r.Path, r.RawQuery)
		}
	}
}
