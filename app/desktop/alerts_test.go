package desktop

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/app/alert"
)

// testSecrets is the OS keyring under ./.ci/with-session (a throw-away
// unlocked gnome-keyring), else memory.
func testSecrets(t *testing.T) app.SecretStore {
	if os.Getenv("PLEXWARDEN_IN_SESSION") != "" {
		return app.NewKeyring()
	}
	t.Log("no session keyring: using memory")
	return app.NewMemoryStore()
}

// Channel secrets go to the keyring only: never into config.json, also
// after a rename; "Send test" uses the stored one; removing the channel
// deletes it.
func TestAlertChannelSecrets(t *testing.T) {
	var mu sync.Mutex
	var auth, title []string
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		mu.Lock()
		auth = append(auth, r.Header.Get("Authorization"))
		title = append(title, r.Header.Get("Title"))
		mu.Unlock()
	}))
	defer sink.Close()

	dir := t.TempDir()
	store := testSecrets(t)
	d, err := New(Options{Controller: app.ControllerOptions{ConfigDir: dir, Secrets: store, Getenv: func(string) string { return "" }}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Wait()
	ctx := ctxTimeout(t, 20*time.Second)
	const secret, name = "tk_never-on-disk-4711", "phone"
	t.Cleanup(func() {
		_ = store.Delete(context.Background(), alert.SecretKey(name))
		_ = store.Delete(context.Background(), alert.SecretKey("pocket"))
	})
	ch := app.AlertChannel{Name: name, Type: "ntfy", URL: sink.URL + "/plex", Kinds: app.Notifications{Terminated: true}}
	s := secret
	if err := d.SaveAlertChannel(ctx, "", ch, &s); err != nil {
		t.Fatalf("SaveAlertChannel: %v", err)
	}
	checkDisk := func(when string) {
		t.Helper()
		err := filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
			if err != nil || info.IsDir() {
				return err
			}
			if b, _ := os.ReadFile(path); strings.Contains(string(b), secret) {
				t.Errorf("%s: %s contains the channel secret", when, path)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	checkDisk("after adding")
	if got, err := store.Get(ctx, alert.SecretKey(name)); got != secret {
		t.Errorf("keyring %s = %q, %v; want the secret", alert.SecretKey(name), got, err)
	}
	if cfg := d.Ctrl.Config(); len(cfg.Alerts) != 1 || cfg.Alerts[0].URL != ch.URL {
		t.Errorf("config alerts = %+v, want the channel", cfg.Alerts)
	}

	// Rename, keeping the secret (nil: unchanged).
	ch.Name = "pocket"
	if err := d.SaveAlertChannel(ctx, name, ch, nil); err != nil {
		t.Fatalf("rename: %v", err)
	}
	checkDisk("after renaming")
	if got, _ := store.Get(ctx, alert.SecretKey("pocket")); got != secret {
		t.Errorf("secret under the new name = %q, want it moved", got)
	}
	if _, err := store.Get(ctx, alert.SecretKey(name)); !errors.Is(err, app.ErrNoSecret) {
		t.Errorf("secret under the old name: %v, want none", err)
	}

	// Send test: the stored secret, a realistic sample (nothing plays).
	if err := d.TestAlertChannel(ctx, ch, nil, nil); err != nil {
		t.Fatalf("TestAlertChannel: %v", err)
	}
	mu.Lock()
	if len(auth) != 1 || auth[0] != "Bearer "+secret || !strings.HasPrefix(title[0], "Transcoding: alice") {
		t.Errorf("test request: auth %q title %q, want the stored token and a sample transcode", auth, title)
	}
	mu.Unlock()

	// A second channel with the same name is refused, nothing changes.
	if err := d.SaveAlertChannel(ctx, "", ch, nil); err == nil || !strings.Contains(err.Error(), "already a channel named") {
		t.Errorf("duplicate name: %v, want a refusal", err)
	}
	if err := d.RemoveAlertChannel(ctx, "pocket"); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Get(ctx, alert.SecretKey("pocket")); !errors.Is(err, app.ErrNoSecret) {
		t.Errorf("secret after removal: %v, want none", err)
	}
	if cfg := d.Ctrl.Config(); len(cfg.Alerts) != 0 {
		t.Errorf("config alerts after removal = %+v", cfg.Alerts)
	}
}
