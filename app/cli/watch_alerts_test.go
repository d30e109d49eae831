package cli

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/app/alert"
	"github.com/plexwarden/plexwarden/app/rules"
	"github.com/plexwarden/plexwarden/plex/plexsim"
)

// watch sends its notifications to the alert channels of config.json,
// with the secret from the keyring; a channel whose server is down is
// reported once per failure and does not stop the others.
func TestWatchAlerts(t *testing.T) {
	sim := startSim(t, plexsim.Options{Token: "den-token", MachineID: "m-den", PlexPass: true, PingInterval: time.Hour})
	var mu sync.Mutex
	var got []alert.WebhookBody
	var auth []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b alert.WebhookBody
		raw, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(raw, &b)
		mu.Lock()
		got = append(got, b)
		auth = append(auth, r.Header.Get("Authorization"))
		mu.Unlock()
	}))
	defer hook.Close()
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "http://" + dead.Addr().String() + "/topic"
	dead.Close()

	dir := t.TempDir()
	t.Setenv("PLEXWARDEN_CONFIG_DIR", dir)
	cfg := app.DefaultConfig()
	cfg.Servers = []app.ServerConfig{{Name: "Den", URL: sim.URL(), MachineID: "m-den"}}
	cfg.Alerts = []app.AlertChannel{
		{Name: "down", Type: "ntfy", URL: deadURL, Kinds: app.Notifications{Terminated: true}},
		{Name: "hook", Type: "webhook", URL: hook.URL, Kinds: app.Notifications{Terminated: true}},
	}
	if err := app.SaveConfig(filepath.Join(dir, "config.json"), cfg); err != nil {
		t.Fatal(err)
	}
	if err := rules.Save(filepath.Join(dir, rules.FileName), rules.File{Rules: []rules.Rule{rules.DefaultRule(rules.KindTranscode, "No transcodes")}}); err != nil {
		t.Fatal(err)
	}
	secrets := app.NewMemoryStore()
	_ = secrets.Set(context.Background(), "m-den", "den-token")
	_ = secrets.Set(context.Background(), alert.SecretKey("hook"), "Bearer hook-secret")

	w := startWatchEnv(t, Env{Args: []string{"watch", "--history", "off"}, Secrets: secrets, Getenv: func(string) string { return "" }})
	w.waitOutput(t, "connected", func(s string) bool { return strings.Contains(s, "connected") })
	sim.AddSession(plexsim.SessionSpec{User: "carol", Title: "Alien", Transcode: &plexsim.TranscodeSpec{Video: "transcode"}})
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the webhook got nothing\nstdout:\n%s\nstderr:\n%s", w.stdout(), w.stderr())
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // the dead channel's failure
	if code := w.stop(t); code != 0 {
		t.Fatalf("exit %d: %s", code, w.stderr())
	}
	mu.Lock()
	defer mu.Unlock()
	if got[0].Kind != "terminated" || !strings.Contains(got[0].Title, "carol · Alien") || auth[0] != "Bearer hook-secret" {
		t.Errorf("webhook got %+v with Authorization %q, want carol's terminate with the keyring secret", got[0], auth[0])
	}
	if !strings.Contains(w.stderr(), "alerts to down, hook") {
		t.Errorf("start line does not name the channels:\n%s", w.stderr())
	}
	if want := `Note (alert): channel "down": could not reach ` + strings.TrimSuffix(strings.TrimPrefix(deadURL, "http://"), "/topic") + " (connection refused)"; !strings.Contains(w.stderr(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, w.stderr())
	}
}
