package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/plex/plexsim"
	"github.com/plexwarden/plexwarden/plex/plextv/plextvsim"
)

// authURLRe finds the sign-in page in the command's output.
var authURLRe = regexp.MustCompile(`https://app\.plex\.tv/auth#\?\S+`)

// urlWatcher is a goroutine-safe output buffer that reports the first
// sign-in URL written to it.
type urlWatcher struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	found chan string // receives the URL once
	sent  bool
}

func newURLWatcher() *urlWatcher { return &urlWatcher{found: make(chan string, 1)} }

func (w *urlWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	if !w.sent {
		if u := authURLRe.FindString(w.buf.String()); u != "" {
			w.sent = true
			w.found <- u
		}
	}
	return n, err
}

func (w *urlWatcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// setLoginHooks swaps in store, a fast poll and a browser that must not
// be opened (tests pass --no-browser unless they replace it again).
func setLoginHooks(t *testing.T, store app.SecretStore) {
	t.Helper()
	saved := loginHooks
	t.Cleanup(func() { loginHooks = saved })
	loginHooks.secrets = func() app.SecretStore { return store }
	loginHooks.pollInterval = 10 * time.Millisecond
	loginHooks.openBrowser = func(string) error {
		t.Error("a browser was opened despite --no-browser")
		return nil
	}
}

// runLogin runs "plexwarden args…" with the configuration in dir; once
// the sign-in URL is printed, a goroutine calls approve with it, as the
// user in the browser would.
func runLogin(t *testing.T, dir string, approve func(url string), args ...string) (code int, stdout, stderr string) {
	t.Helper()
	t.Setenv("PLEXWARDEN_CONFIG_DIR", dir)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var errBuf bytes.Buffer
	out, errw := newURLWatcher(), &syncWriter{w: &errBuf}
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, Env{Args: args, Stdout: out, Stderr: errw, Version: "1.2.3", Getenv: func(string) string { return "" }})
	}()
	var approved sync.WaitGroup
	approved.Add(1)
	go func() {
		defer approved.Done()
		select {
		case u := <-out.found:
			if approve != nil {
				approve(u)
			}
		case <-ctx.Done():
		}
	}()
	select {
	case code = <-done:
	case <-time.After(25 * time.Second):
		t.Fatal("plexwarden login did not return")
	}
	cancel()
	approved.Wait()
	errw.mu.Lock()
	defer errw.mu.Unlock()
	return code, out.String(), errBuf.String()
}

// startTVSim starts a simulated plex.tv.
func startTVSim(t *testing.T, opts plextvsim.Options) *plextvsim.Server {
	t.Helper()
	tv := plextvsim.New(opts)
	if err := tv.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tv.Close() })
	return tv
}

// deadURL returns an http URL on a loopback port nothing listens on.
func deadURL(t *testing.T) string {
	t.Helper()
	s := startSim(t, plexsim.Options{})
	u := s.URL()
	s.Close()
	return u
}

// approveWith returns an approve func that signs the PIN in with token.
func approveWith(t *testing.T, tv *plextvsim.Server, token string) func(string) {
	return func(u string) {
		if err := tv.ApproveURL(u, token); err != nil {
			t.Errorf("approving %s: %v", u, err)
		}
	}
}

func readConfig(t *testing.T, dir string) app.Config {
	t.Helper()
	cfg, err := app.LoadConfig(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestLoginEndToEnd(t *testing.T) {
	dir := t.TempDir()
	store := app.NewMemoryStore()
	setLoginHooks(t, store)
	// An existing server the sign-in must keep.
	if err := app.SaveConfig(filepath.Join(dir, "config.json"), app.Config{Version: 1,
		Servers: []app.ServerConfig{{Name: "Attic", URL: "http://192.0.2.1:32400", MachineID: "attic-1"}}}); err != nil {
		t.Fatal(err)
	}

	home := startSim(t, plexsim.Options{MachineID: "home-1", FriendlyName: "Home"})
	cabin := startSim(t, plexsim.Options{MachineID: "cabin-1", FriendlyName: "Cabin"})
	friend := startSim(t, plexsim.Options{MachineID: "friend-1", FriendlyName: "Friend's"})
	dead := deadURL(t)

	const account = "acct-token-ZZZZ9"
	tokens := map[string]string{"home-1": "home-tok-AAAA1", "cabin-1": "cabin-tok-BBBB2", "friend-1": "friend-tok-CCCC3", "garage-1": "garage-tok-DDDD4"}
	tv := startTVSim(t, plextvsim.Options{Username: "alice"})
	tv.AddServer(plextvsim.ResourceSpec{Name: "Friend's", MachineID: "friend-1", AccessToken: tokens["friend-1"], SourceTitle: "bob",
		Connections: []plextvsim.ConnSpec{{URI: friend.URL()}}})
	tv.AddServer(plextvsim.ResourceSpec{Name: "Home", MachineID: "home-1", Owned: true, AccessToken: tokens["home-1"],
		Connections: []plextvsim.ConnSpec{{URI: dead}, {URI: home.URL(), Local: true}}})
	tv.AddServer(plextvsim.ResourceSpec{Name: "Cabin", MachineID: "cabin-1", Owned: true, AccessToken: tokens["cabin-1"],
		Connections: []plextvsim.ConnSpec{{URI: cabin.URL(), Relay: true}, {URI: home.URL(), Local: true}}}) // home answers as the wrong server
	tv.AddServer(plextvsim.ResourceSpec{Name: "Garage", MachineID: "garage-1", Owned: true, AccessToken: tokens["garage-1"], Offline: true,
		Connections: []plextvsim.ConnSpec{{URI: dead, Local: true}}})

	code, out, errText := runLogin(t, dir, approveWith(t, tv, account), "login", "--no-browser", "--plextv", tv.URL())
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errText)
	}
	for _, want := range []string{
		"Waiting for you to approve Plex Warden",
		"Signed in to plex.tv as alice.",
		"Home", "Cabin", "plex.tv relay", "local network",
		"Friend's", "not added: shared with you",
		"Garage", "not added: no address answered", "Garage did not answer:\n  " + dead + ": server unreachable: connection refused",
		`Added "Home" at ` + home.URL(),
		`Added "Cabin" at ` + cabin.URL(),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Owned servers come first and may terminate; the shared one may not.
	if i, j := strings.Index(out, "Home "), strings.Index(out, "Friend's "); i < 0 || j < i {
		t.Errorf("owned servers are not listed first:\n%s", out)
	}
	if !regexp.MustCompile(`Home\s+you\s+yes`).MatchString(out) || !regexp.MustCompile(`Friend's\s+bob\s+no`).MatchString(out) {
		t.Errorf("the table does not mark who may terminate:\n%s", out)
	}

	// Tokens: in the store under each machineIdentifier, nowhere else.
	for id, want := range map[string]string{"home-1": tokens["home-1"], "cabin-1": tokens["cabin-1"]} {
		if got, err := store.Get(context.Background(), id); err != nil || got != want {
			t.Errorf("stored token for %s = %q, %v; want %q", id, got, err, want)
		}
	}
	for _, id := range []string{"friend-1", "garage-1", "attic-1", account} {
		if _, err := store.Get(context.Background(), id); !errors.Is(err, app.ErrNoSecret) {
			t.Errorf("store holds an entry for %s", id)
		}
	}
	got := readConfig(t, dir).Servers
	want := []app.ServerConfig{
		{Name: "Attic", URL: "http://192.0.2.1:32400", MachineID: "attic-1"},
		// Every address is kept, most preferred first, for re-probing.
		{Name: "Home", URL: home.URL(), MachineID: "home-1", Connections: []app.ServerConnection{{URI: home.URL(), Local: true}, {URI: dead}}},
		{Name: "Cabin", URL: cabin.URL(), MachineID: "cabin-1", Connections: []app.ServerConnection{{URI: home.URL(), Local: true}, {URI: cabin.URL(), Relay: true}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("configured servers =\n%+v\nwant\n%+v", got, want)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	secrets := append([]string{account}, tokens["home-1"], tokens["cabin-1"], tokens["friend-1"], tokens["garage-1"])
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s contains a token", filepath.Base(f))
			}
		}
	}
	for _, s := range secrets {
		if strings.Contains(out+errText, s) {
			t.Errorf("the output contains a token:\n%s\n%s", out, errText)
		}
	}

	// plex.tv saw one client id (the persisted one) and tokens only in headers.
	idFile, err := os.ReadFile(filepath.Join(dir, "client-id"))
	if err != nil {
		t.Fatal(err)
	}
	clientID := strings.TrimSpace(string(idFile))
	var created, polled, listed int
	for _, r := range tv.Requests() {
		if got := r.Header.Get("X-Plex-Client-Identifier"); got != clientID {
			t.Errorf("%s %s sent client id %q, want the persisted %q", r.Method, r.Path, got, clientID)
		}
		if r.TokenInQuery || strings.Contains(r.RawQuery, account) {
			t.Errorf("%s %s?%s carries a token in the URL", r.Method, r.Path, r.RawQuery)
		}
		switch {
		case r.Method == "POST" && r.Path == "/api/v2/pins":
			created++
		case strings.HasPrefix(r.Path, "/api/v2/pins/"):
			polled++
			if r.Header.Get("X-Plex-Token") != "" {
				t.Error("a PIN poll carried a token")
			}
		case r.Path == "/api/v2/resources":
			listed++
			if r.Header.Get("X-Plex-Token") != account {
				t.Error("the resources request did not carry the account token in its header")
			}
		}
	}
	if created != 1 || polled < 1 || listed != 1 {
		t.Errorf("plex.tv saw %d PIN creations, %d polls, %d resource lists; want 1, ≥1, 1", created, polled, listed)
	}
	// The probes ask /identity without any token; the shared server is not contacted.
	for _, r := range home.Requests() {
		if r.Header.Get("X-Plex-Token") != "" || r.TokenInQuery {
			t.Errorf("a probe sent a token to %s", r.Path)
		}
	}
	if n := len(friend.Requests()); n != 0 {
		t.Errorf("the shared server got %d requests; it is not ours to probe", n)
	}
}

// failingKeyring is a keyring that is not running.
type failingKeyring struct{}

func (failingKeyring) Get(context.Context, string) (string, error) {
	return "", fmt.Errorf("%w: no Secret Service on the session bus", app.ErrKeyringUnavailable)
}

func (failingKeyring) Set(context.Context, string, string) error {
	return fmt.Errorf("%w: no Secret Service on the session bus", app.ErrKeyringUnavailable)
}

func (failingKeyring) Delete(context.Context, string) error {
	return fmt.Errorf("%w: no Secret Service on the session bus", app.ErrKeyringUnavailable)
}

// lockedKeyring is a keyring that runs but is locked, worded as
// app.Keyring words it.
type lockedKeyring struct{}

func (lockedKeyring) err() error {
	return &app.KeyringError{Locked: true, Reason: "log in to your desktop session", Raw: "failed to unlock correct collection"}
}
func (k lockedKeyring) Get(context.Context, string) (string, error) { return "", k.err() }
func (k lockedKeyring) Set(context.Context, string, string) error   { return k.err() }
func (k lockedKeyring) Delete(context.Context, string) error        { return k.err() }

func TestLoginOutcomes(t *testing.T) {
	const account, serverTok = "acct-OUT-1", "srv-OUT-2"
	tests := []struct {
		name      string
		store     func() app.SecretStore
		owned     bool
		act       func(t *testing.T, tv *plextvsim.Server, url string)
		wantCode  int
		wantOut   []string // in stdout
		wantErr   []string // in stderr
		wantSaved bool     // the server is in the configuration afterwards
	}{
		{name: "PIN expires", store: func() app.SecretStore { return app.NewMemoryStore() }, owned: true,
			act: func(t *testing.T, tv *plextvsim.Server, _ string) {
				pins := tv.PINs()
				if len(pins) != 1 {
					t.Errorf("plex.tv holds %d PINs, want 1", len(pins))
					return
				}
				_ = tv.Expire(pins[0].ID)
			},
			wantCode: 1, wantErr: []string{"the sign-in code expired before it was approved", `Run "plexwarden login" again`}},
		{name: "no keyring: refused before the sign-in", store: func() app.SecretStore { return failingKeyring{} }, owned: true,
			act:      func(t *testing.T, tv *plextvsim.Server, url string) { t.Errorf("a sign-in page was shown: %s", url) },
			wantCode: 1,
			wantErr:  []string{"cannot keep the server tokens", "login --no-browser --token-file", "PLEX_TOKEN_FILE", "LoadCredential=plexwarden-tokens", "Nothing was changed"}},
		{name: "locked keyring: refused before the sign-in", store: func() app.SecretStore { return lockedKeyring{} }, owned: true,
			act:      func(t *testing.T, tv *plextvsim.Server, url string) { t.Errorf("a sign-in page was shown: %s", url) },
			wantCode: 1,
			wantErr:  []string{"cannot keep the server tokens: Your keyring is locked: unlock it (", "and try again", "--token-file"}},
		{name: "keyring fails while saving", store: func() app.SecretStore { return app.NewFallbackStore(failingKeyring{}) }, owned: true,
			act:      func(t *testing.T, tv *plextvsim.Server, url string) { approveWith(t, tv, account)(url) },
			wantCode: 1,
			wantErr:  []string{`Could not store the token of "Home" in the system keyring`, "no server was added", "--token-file"}},
		{name: "only shared servers", store: func() app.SecretStore { return app.NewMemoryStore() }, owned: false,
			act:      func(t *testing.T, tv *plextvsim.Server, url string) { approveWith(t, tv, account)(url) },
			wantCode: 1, wantOut: []string{"not added: shared with you"}, wantErr: []string{"no server was added"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			setLoginHooks(t, tt.store())
			pms := startSim(t, plexsim.Options{MachineID: "home-1"})
			tv := startTVSim(t, plextvsim.Options{})
			tv.AddServer(plextvsim.ResourceSpec{Name: "Home", MachineID: "home-1", Owned: tt.owned, AccessToken: serverTok,
				Connections: []plextvsim.ConnSpec{{URI: pms.URL()}}})
			code, out, errText := runLogin(t, dir, func(u string) { tt.act(t, tv, u) }, "login", "--no-browser", "--plextv", tv.URL())
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, out, errText)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(errText, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errText)
				}
			}
			if strings.Contains(out+errText, account) || strings.Contains(out+errText, serverTok) {
				t.Errorf("the output contains a token")
			}
			saved := len(readConfig(t, dir).Servers) == 1
			if saved != tt.wantSaved {
				t.Errorf("server saved = %v, want %v", saved, tt.wantSaved)
			}
			if b, err := os.ReadFile(filepath.Join(dir, "config.json")); err == nil && bytes.Contains(b, []byte(serverTok)) {
				t.Error("config.json contains the token")
			}
		})
	}
}

func TestLoginOpensBrowser(t *testing.T) {
	dir := t.TempDir()
	setLoginHooks(t, app.NewMemoryStore())
	pms := startSim(t, plexsim.Options{MachineID: "home-1"})
	tv := startTVSim(t, plextvsim.Options{})
	tv.AddServer(plextvsim.ResourceSpec{Name: "Home", MachineID: "home-1", Owned: true, AccessToken: "t", Connections: []plextvsim.ConnSpec{{URI: pms.URL()}}})
	var opened []string
	loginHooks.openBrowser = func(u string) error {
		opened = append(opened, u)
		return tv.ApproveURL(u, "acct") // the user approves in the browser that opened
	}
	code, out, errText := runLogin(t, dir, nil, "login", "--plextv", tv.URL())
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errText)
	}
	if printed := authURLRe.FindString(out); len(opened) != 1 || opened[0] != printed {
		t.Errorf("browser opened %q, want once with the printed URL %q", opened, printed)
	}
}

func TestLoginUsage(t *testing.T) {
	dir := t.TempDir()
	setLoginHooks(t, app.NewMemoryStore())
	code, _, errText := runLogin(t, dir, nil, "login", "--help")
	if code != 0 || !strings.Contains(errText, "-no-browser") || strings.Contains(errText, "plextv") {
		t.Errorf("login --help: exit %d, %q; want --no-browser documented and --plextv hidden", code, errText)
	}
	if code, _, errText := runLogin(t, dir, nil, "logout", "--help"); code != 0 || !strings.Contains(errText, "Usage: plexwarden logout") {
		t.Errorf("logout --help: exit %d, %q", code, errText)
	}
	if code, _, errText := runLogin(t, dir, nil, "login", "extra"); code != 2 || !strings.Contains(errText, "unexpected argument") {
		t.Errorf("login extra: exit %d, %q", code, errText)
	}
	tv := startTVSim(t, plextvsim.Options{})
	tv.Close()
	code, _, errText = runLogin(t, dir, nil, "login", "--no-browser", "--plextv", tv.URL())
	if code != 1 || !strings.Contains(errText, "cannot reach plex.tv") || strings.Contains(errText, "Plex Media Server is running") {
		t.Errorf("login with plex.tv down: exit %d, %q; want a plex.tv (not a server) hint", code, errText)
	}
}

func TestLogout(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store := app.NewMemoryStore()
	setLoginHooks(t, store)
	if err := app.SaveConfig(filepath.Join(dir, "config.json"), app.Config{Version: 1, Servers: []app.ServerConfig{
		{Name: "Home", URL: "http://192.0.2.1:32400", MachineID: "home-1"},
		{Name: "Manual", URL: "http://192.0.2.2:32400"},
		{Name: "Tokenless", URL: "http://192.0.2.3:32400", MachineID: "bare-1"},
	}}); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"home-1": "a", "url:http://192.0.2.2:32400": "b", "unrelated": "c"} {
		_ = store.Set(ctx, k, v)
	}
	code, out, errText := runLogin(t, dir, nil, "logout")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errText)
	}
	for _, want := range []string{`Removed the token of "Home"`, `Removed the token of "Manual"`, `No token was stored for "Tokenless"`, "2 token(s) removed"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, k := range []string{"home-1", "url:http://192.0.2.2:32400"} {
		if _, err := store.Get(ctx, k); !errors.Is(err, app.ErrNoSecret) {
			t.Errorf("%s is still stored", k)
		}
	}
	if v, err := store.Get(ctx, "unrelated"); err != nil || v != "c" {
		t.Errorf("logout touched an entry that is not a configured server's")
	}
	if n := len(readConfig(t, dir).Servers); n != 3 {
		t.Errorf("logout changed the configuration: %d servers, want 3", n)
	}

	// The same run kept a token in memory: a keyring that cannot be used
	// must still not be reported as a removal.
	fallback := app.NewFallbackStore(failingKeyring{})
	_ = fallback.Set(ctx, "home-1", "in-memory")
	setLoginHooks(t, fallback)
	code, out, errText = runLogin(t, dir, nil, "logout")
	if code != 1 || !strings.Contains(errText, "keyring cannot be used") || !strings.Contains(errText, "no token was removed") || strings.Contains(out, "Removed") {
		t.Errorf("logout without a keyring: exit %d, stdout %q, stderr %q; want a failure saying nothing was removed", code, out, errText)
	}

	empty := t.TempDir()
	if code, out, _ := runLogin(t, empty, nil, "logout"); code != 0 || !strings.Contains(out, "No server is configured") {
		t.Errorf("logout with no servers: exit %d, %q", code, out)
	}
}

func TestMergeServer(t *testing.T) {
	existing := []app.ServerConfig{
		{Name: "Home", URL: "http://10.0.0.5:32400", MachineID: "home-1", Insecure: true},
		{Name: "Manual", URL: "http://10.0.0.9:32400"},
		{Name: "Office", URL: "http://10.0.0.7:32400", MachineID: "office-1"},
	}
	tests := []struct {
		name      string
		add       app.ServerConfig
		want      []app.ServerConfig
		wantStale []string
	}{
		{"new server appended", app.ServerConfig{Name: "Cabin", URL: "http://c:1", MachineID: "cabin-1"},
			append(append([]app.ServerConfig(nil), existing...), app.ServerConfig{Name: "Cabin", URL: "http://c:1", MachineID: "cabin-1"}), nil},
		{"same machine replaced in place, TLS override dropped", app.ServerConfig{Name: "Home", URL: "https://h.plex.direct:32400", MachineID: "home-1"},
			[]app.ServerConfig{{Name: "Home", URL: "https://h.plex.direct:32400", MachineID: "home-1"}, existing[1], existing[2]}, nil},
		{"user's name kept", app.ServerConfig{Name: "Plex on NAS", URL: "http://10.0.0.7:32400", MachineID: "office-1"},
			[]app.ServerConfig{existing[0], existing[1], {Name: "Office", URL: "http://10.0.0.7:32400", MachineID: "office-1"}}, nil},
		{"manual entry at the same URL adopted", app.ServerConfig{Name: "Den", URL: "http://10.0.0.9:32400", MachineID: "den-1"},
			[]app.ServerConfig{existing[0], {Name: "Manual", URL: "http://10.0.0.9:32400", MachineID: "den-1"}, existing[2]},
			[]string{"url:http://10.0.0.9:32400"}},
		{"name clash renamed", app.ServerConfig{Name: "Office", URL: "http://o2:1", MachineID: "office-2"},
			append(append([]app.ServerConfig(nil), existing...), app.ServerConfig{Name: "Office (2)", URL: "http://o2:1", MachineID: "office-2"}), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := app.Config{Servers: append([]app.ServerConfig(nil), existing...)}
			name, stale := mergeServer(&cfg, tt.add)
			if i := slices.IndexFunc(cfg.Servers, func(s app.ServerConfig) bool { return s.MachineID == tt.add.MachineID }); i < 0 || cfg.Servers[i].Name != name {
				t.Errorf("mergeServer returned name %q, not the name it saved", name)
			}
			if !reflect.DeepEqual(cfg.Servers, tt.want) {
				t.Errorf("servers =\n%+v\nwant\n%+v", cfg.Servers, tt.want)
			}
			if !reflect.DeepEqual(stale, tt.wantStale) {
				t.Errorf("stale keys = %q, want %q", stale, tt.wantStale)
			}
			if err := cfg.Validate(); err != nil {
				t.Errorf("merged configuration is invalid: %v", err)
			}
		})
	}
}
