package ui

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/plexwarden/plexwarden/app"
)

// withAutostart replaces the autostart hooks for one test.
func withAutostart(t *testing.T, on bool, setErr error) *[]bool {
	t.Helper()
	var calls []bool
	oldSet, oldOn := setAutostart, autostartOn
	setAutostart = func(enabled bool) error {
		calls = append(calls, enabled)
		return setErr
	}
	autostartOn = func() bool { return on }
	t.Cleanup(func() { setAutostart, autostartOn = oldSet, oldOn })
	return &calls
}

func twoServerBackend() *fakeBackend {
	b := newFakeBackend()
	b.cfg.Servers = []app.ServerConfig{
		{Name: "Home", URL: "https://192.168.1.10:32400"},
		{Name: "Cabin", URL: "https://cabin.example:32400", Insecure: true},
	}
	return b
}

func TestSettingsGolden(t *testing.T) {
	withAutostart(t, true, nil)
	b := twoServerBackend()
	st := &app.State{Servers: []*app.Snapshot{
		{Server: "Home", Conn: app.Conn{Status: app.Connected}},
		{Server: "Cabin", Conn: app.Conn{Status: app.Unauthorized}},
	}}
	u := newTestUI(t, b, st)
	u.tabs.SelectIndex(tabSettings)
	test.AssertRendersToMarkup(t, "settings.xml", u.Window().Canvas())
}

func TestNotificationToggles(t *testing.T) {
	withAutostart(t, false, nil)
	b := newFakeBackend()
	u := newTestUI(t, b, nil)
	checks := u.settings.notify
	if len(checks) != len(notifyToggles) {
		t.Fatalf("%d checks, want %d", len(checks), len(notifyToggles))
	}
	def := app.DefaultConfig().Notifications
	for i, c := range checks {
		if want := *notifyToggles[i].field(&def); c.Checked != want {
			t.Errorf("check %q = %v, want %v as in the default config", notifyToggles[i].label, c.Checked, want)
		}
	}
	if checks[0].Checked {
		t.Error("“New sessions” on by default, want off")
	}

	test.Tap(checks[1]) // transcode started
	if b.Config().Notifications.TranscodeStarted {
		t.Error("unticking “A session starts transcoding” did not save")
	}
	if u.settings.saveErr.Visible() {
		t.Error("save error shown after a successful save")
	}

	b.saveErr = errors.New("disk full")
	test.Tap(checks[0]) // new sessions
	if checks[0].Checked {
		t.Error("check left on although saving failed")
	}
	if b.Config().Notifications.NewSession {
		t.Error("config changed although saving failed")
	}
	if got := u.settings.saveErr.Text; !u.settings.saveErr.Visible() || !strings.Contains(got, "disk full") {
		t.Errorf("save error %q (visible %v), want it shown with the cause", got, u.settings.saveErr.Visible())
	}
}

func TestStartAtLogin(t *testing.T) {
	calls := withAutostart(t, false, nil)
	b := newFakeBackend()
	u := newTestUI(t, b, nil)
	check := u.settings.autostart
	if check.Checked {
		t.Fatal("Start at login ticked while autostart is off")
	}
	test.Tap(check)
	if len(*calls) != 1 || !(*calls)[0] || !b.Config().StartAtLogin {
		t.Errorf("ticking Start at login: autostart calls %v, config %v", *calls, b.Config().StartAtLogin)
	}

	withAutostart(t, true, app.ErrAutostartUnsupported)
	test.Tap(check) // untick: fails
	if !check.Checked {
		t.Error("check changed although the autostart entry could not be removed")
	}
	if got := u.settings.saveErr.Text; !strings.Contains(got, app.ErrAutostartUnsupported.Error()) {
		t.Errorf("error %q, want it to say %q", got, app.ErrAutostartUnsupported)
	}
}

func TestAddServer(t *testing.T) {
	withAutostart(t, false, nil)
	b := newFakeBackend()
	u := newTestUI(t, b, nil)
	v := u.settings

	test.Tap(v.add)
	if got := v.addStatus.Text; !strings.Contains(got, "address") {
		t.Errorf("empty URL: status %q, want a hint about the address", got)
	}
	v.url.SetText("https://10.0.0.2:32400")
	test.Tap(v.add)
	if got := v.addStatus.Text; !strings.Contains(got, "token") {
		t.Errorf("empty token: status %q, want a hint about the token", got)
	}

	test.Tap(v.insecure)
	if !v.insecureWarn.Visible() {
		t.Error("no warning shown for insecure TLS")
	}
	v.token.SetText("secret-token")
	test.Tap(v.add)
	u.bg.Wait()
	if len(b.added) != 1 || b.added[0].URL != "https://10.0.0.2:32400" || !b.cfg.Servers[0].Insecure {
		t.Errorf("AddServer called %d times (first URL %q), servers %+v", len(b.added), firstURL(b.added), b.cfg.Servers)
	}
	if got := v.addStatus.Text; !strings.Contains(got, "Added “Home”") {
		t.Errorf("status %q, want it to name the added server", got)
	}
	if v.token.Text != "" || v.insecure.Checked || v.insecureWarn.Visible() {
		t.Error("form not cleared after adding")
	}
	if _, ok := v.serverStatus["Home"]; !ok {
		t.Error("added server not listed")
	}

	b.addErr = errors.New("plex: token rejected (HTTP 401)")
	v.url.SetText("https://10.0.0.3:32400")
	v.token.SetText("bad")
	test.Tap(v.add)
	u.bg.Wait()
	if got := v.addStatus.Text; !strings.Contains(got, "token rejected (HTTP 401)") {
		t.Errorf("status %q, want the error", got)
	}
	if v.token.Text != "bad" || v.add.Disabled() {
		t.Error("form cleared or left disabled after an error")
	}
}

func TestRemoveServer(t *testing.T) {
	withAutostart(t, false, nil)
	b := twoServerBackend()
	u := newTestUI(t, b, nil)
	test.Tap(findButton(t, u.settings.servers, "Remove"))
	overlay := u.Window().Canvas().Overlays().Top()
	if overlay == nil {
		t.Fatal("Remove asked nothing")
	}
	test.Tap(findButton(t, overlay, "Yes"))
	u.bg.Wait()
	if len(b.removed) != 1 || b.removed[0] != "Home" {
		t.Errorf("removed %v, want [Home]", b.removed)
	}
}

func TestAddServerCAFile(t *testing.T) {
	tests := []struct {
		name   string
		caFile string // typed into the entry
		want   string // NewServer.CAFile
	}{
		{"none", "", ""},
		{"path", "/etc/ssl/home-ca.pem", "/etc/ssl/home-ca.pem"},
		{"spaces trimmed", "  /etc/ssl/home ca.pem \t", "/etc/ssl/home ca.pem"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			withAutostart(t, false, nil)
			b := newFakeBackend()
			u := newTestUI(t, b, nil)
			v := u.settings
			v.url.SetText("https://10.0.0.2:32400")
			v.token.SetText("secret-token")
			v.caFile.SetText(tt.caFile)
			test.Tap(v.add)
			u.bg.Wait()
			if len(b.added) != 1 {
				t.Fatalf("AddServer called %d times, want 1", len(b.added))
			}
			if got := b.added[0].CAFile; got != tt.want {
				t.Errorf("NewServer.CAFile = %q, want %q", got, tt.want)
			}
			if v.caFile.Text != "" {
				t.Errorf("CA file entry = %q after adding, want it cleared", v.caFile.Text)
			}
		})
	}
}

func TestAddServerCAFileKeptOnError(t *testing.T) {
	withAutostart(t, false, nil)
	b := newFakeBackend()
	b.addErr = errors.New(`server "": CA file /tmp/x.pem holds no PEM certificate`)
	u := newTestUI(t, b, nil)
	v := u.settings
	v.url.SetText("https://10.0.0.2:32400")
	v.token.SetText("secret-token")
	v.caFile.SetText("/tmp/x.pem")
	test.Tap(v.add)
	u.bg.Wait()
	if got, want := v.caFile.Text, "/tmp/x.pem"; got != want {
		t.Errorf("CA file entry = %q after a failed add, want %q kept", got, want)
	}
	if got := v.addStatus.Text; !strings.Contains(got, "holds no PEM certificate") {
		t.Errorf("status %q, want the backend's error", got)
	}
}

func TestBrowseCAFile(t *testing.T) {
	withAutostart(t, false, nil)
	u := newTestUI(t, newFakeBackend(), nil)
	v := u.settings

	test.Tap(v.caBrowse)
	if u.Window().Canvas().Overlays().Top() == nil {
		t.Fatal("Browse… opened no file dialog")
	}

	path := filepath.Join(t.TempDir(), "home-ca.pem")
	if err := os.WriteFile(path, []byte("-----BEGIN CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := storage.Reader(storage.NewFileURI(path))
	if err != nil {
		t.Fatal(err)
	}
	v.caFileChosen(r, nil)
	if got := v.caFile.Text; got != path {
		t.Errorf("after choosing a file the entry = %q, want %q", got, path)
	}

	v.caFileChosen(nil, nil) // cancelled
	if got := v.caFile.Text; got != path {
		t.Errorf("after a cancel the entry = %q, want %q kept", got, path)
	}

	v.caFileChosen(nil, errors.New("permission denied"))
	if got := v.addStatus.Text; !v.addStatus.Visible() || !strings.Contains(got, "permission denied") {
		t.Errorf("status %q (visible %v), want the dialog's error", got, v.addStatus.Visible())
	}
}

func TestServerNotes(t *testing.T) {
	conns := func(n int) []app.ServerConnection {
		out := make([]app.ServerConnection, n)
		for i := range out {
			out[i].URI = fmt.Sprintf("https://10.0.0.%d:32400", i+1)
		}
		return out
	}
	tests := []struct {
		name string
		s    app.ServerConfig
		want []string
	}{
		{"plain", app.ServerConfig{URL: "https://h:32400"}, nil},
		{"CA file", app.ServerConfig{CAFile: "/etc/ssl/ca.pem"}, []string{"Trusts CA file /etc/ssl/ca.pem"}},
		{"one address", app.ServerConfig{Connections: conns(1)}, nil},
		{"three addresses", app.ServerConfig{Connections: conns(3)},
			[]string{"3 addresses known; switches to another when this one fails"}},
		{"both", app.ServerConfig{CAFile: "/ca.pem", Connections: conns(2)},
			[]string{"Trusts CA file /ca.pem", "2 addresses known; switches to another when this one fails"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := serverNotes(tt.s); !slices.Equal(got, tt.want) {
				t.Errorf("serverNotes = %q, want %q", got, tt.want)
			}
		})
	}
}

// labelTexts are the texts of the labels in o's tree.
func labelTexts(o fyne.CanvasObject) []string {
	var out []string
	for _, obj := range test.LaidOutObjects(o) {
		if l, ok := obj.(*widget.Label); ok {
			out = append(out, l.Text)
		}
	}
	return out
}

func TestServerListNotes(t *testing.T) {
	withAutostart(t, false, nil)
	b := twoServerBackend()
	b.cfg.Servers[0].CAFile = "/etc/ssl/home-ca.pem"
	b.cfg.Servers[0].Connections = []app.ServerConnection{{URI: "https://a:32400", Local: true}, {URI: "https://b:32400"}, {URI: "https://c:8443", Relay: true}}
	u := newTestUI(t, b, nil)
	text := strings.Join(labelTexts(u.settings.servers), "\n")
	for _, want := range []string{
		"https://192.168.1.10:32400\nTrusts CA file /etc/ssl/home-ca.pem\n3 addresses known; switches to another when this one fails",
		"https://cabin.example:32400",
		"Insecure TLS: the certificate is not verified.",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("server list lacks %q; it shows:\n%s", want, text)
		}
	}
	if got := strings.Count(text, "Trusts CA file"); got != 1 {
		t.Errorf("%d CA file lines, want 1 (Cabin has none)", got)
	}
}

func TestServerStatusNotWatched(t *testing.T) {
	withAutostart(t, false, nil)
	u := newTestUI(t, twoServerBackend(), nil)
	home, cabin := u.settings.serverStatus["Home"], u.settings.serverStatus["Cabin"]
	if home.Text != "" || cabin.Text != "" {
		t.Errorf("before any state: statuses %q, %q; want both blank", home.Text, cabin.Text)
	}

	u.apply(&app.State{Servers: []*app.Snapshot{{Server: "Home", Conn: app.Conn{Status: app.Connected}}}})
	if home.Text != app.Connected.String() || home.Importance != widget.SuccessImportance {
		t.Errorf("Home status %q (importance %v), want %q in success", home.Text, home.Importance, app.Connected.String())
	}
	if cabin.Text != "not watched" || cabin.Importance != widget.WarningImportance {
		t.Errorf("Cabin, missing from the state: status %q (importance %v), want \"not watched\" as a warning", cabin.Text, cabin.Importance)
	}

	// Watched again: the warning goes.
	u.apply(&app.State{Servers: []*app.Snapshot{
		{Server: "Home", Conn: app.Conn{Status: app.Connected}},
		{Server: "Cabin", Conn: app.Conn{Status: app.Reconnecting}},
	}})
	if cabin.Text != app.Reconnecting.String() {
		t.Errorf("Cabin status %q once watched again, want %q", cabin.Text, app.Reconnecting.String())
	}
}

func TestSignOut(t *testing.T) {
	tests := []struct {
		name    string
		confirm string // the dialog button tapped
		err     error  // returned by the backend
		calls   int
		status  string // contained in the result under the button; "" for no result
		imp     widget.Importance
		after   string // the servers' status once the hub dropped them
	}{
		{"confirmed", "Sign out", nil, 1,
			"Signed out of 2 servers; their tokens were removed from the keyring. Plex Warden stays listed under Authorized Devices",
			widget.SuccessImportance, "signed out"},
		{"cancelled", "Cancel", nil, 0, "", widget.MediumImportance, "not watched"},
		{"keyring unavailable", "Sign out", errors.New("keyring unavailable: no secret service, so no token was removed"), 1,
			"Keyring unavailable: no secret service, so no token was removed", widget.DangerImportance, "not watched"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			withAutostart(t, false, nil)
			b := twoServerBackend()
			b.signOutErr = tt.err
			u := newTestUI(t, b, &app.State{Servers: []*app.Snapshot{
				{Server: "Home", Conn: app.Conn{Status: app.Connected}},
				{Server: "Cabin", Conn: app.Conn{Status: app.Connected}},
			}})
			v := u.settings
			if v.signOut.Disabled() {
				t.Fatal("Sign out disabled with two servers configured")
			}
			test.Tap(v.signOut)
			overlay := u.Window().Canvas().Overlays().Top()
			if overlay == nil {
				t.Fatal("Sign out asked nothing")
			}
			if q := strings.Join(labelTexts(overlay), " "); !strings.Contains(q, "Remove the tokens of 2 servers from the system keyring and stop watching them?") {
				t.Errorf("confirmation %q does not say what happens", q)
			}
			test.Tap(findButton(t, overlay, tt.confirm))
			u.bg.Wait()

			if got := b.signOutCalls(); got != tt.calls {
				t.Errorf("SignOut called %d times, want %d", got, tt.calls)
			}
			switch {
			case tt.status == "" && v.signOutStatus.Visible():
				t.Errorf("result %q shown, want none", v.signOutStatus.Text)
			case tt.status != "" && (!v.signOutStatus.Visible() || !strings.Contains(v.signOutStatus.Text, tt.status)):
				t.Errorf("result %q (visible %v), want it to contain %q", v.signOutStatus.Text, v.signOutStatus.Visible(), tt.status)
			case tt.status != "" && v.signOutStatus.Importance != tt.imp:
				t.Errorf("result importance %v, want %v", v.signOutStatus.Importance, tt.imp)
			}
			if v.signOut.Disabled() {
				t.Error("Sign out left disabled although the servers are still configured")
			}
			if len(v.serverStatus) != 2 {
				t.Errorf("%d servers listed after signing out, want both kept", len(v.serverStatus))
			}

			u.apply(&app.State{}) // the hub watches neither any more
			for name, l := range v.serverStatus {
				if l.Text != tt.after || l.Importance != widget.WarningImportance {
					t.Errorf("%s status %q (importance %v), want %q as a warning", name, l.Text, l.Importance, tt.after)
				}
			}
		})
	}
}

func TestSignOutDisabledWithoutServers(t *testing.T) {
	withAutostart(t, false, nil)
	b := newFakeBackend()
	u := newTestUI(t, b, nil)
	v := u.settings
	if !v.signOut.Disabled() {
		t.Fatal("Sign out enabled with no server configured")
	}
	test.Tap(v.signOut)
	if o := u.Window().Canvas().Overlays().Top(); o != nil {
		t.Error("a disabled Sign out opened a dialog")
	}

	// Adding a server enables it.
	v.url.SetText("https://10.0.0.2:32400")
	v.token.SetText("secret-token")
	test.Tap(v.add)
	u.bg.Wait()
	if v.signOut.Disabled() {
		t.Error("Sign out still disabled after a server was added")
	}

	// Removing it disables it again.
	test.Tap(findButton(t, v.servers, "Remove"))
	test.Tap(findButton(t, u.Window().Canvas().Overlays().Top(), "Yes"))
	u.bg.Wait()
	if !v.signOut.Disabled() {
		t.Error("Sign out enabled after the last server was removed")
	}
}

func TestSignOutWithSignIn(t *testing.T) {
	withAutostart(t, false, nil)
	b := twoServerBackend()
	u := newOptsUI(t, b, Options{TrayHost: true, SignIn: newFakeSignIn(b)})
	u.tabs.Select(u.settingsTab)
	test.Tap(findButton(t, u.settings.content, "Sign out"))
	overlay := u.Window().Canvas().Overlays().Top()
	if overlay == nil {
		t.Fatal("Sign out asked nothing")
	}
	test.Tap(findButton(t, overlay, "Sign out"))
	u.bg.Wait()
	if got := b.signOutCalls(); got != 1 {
		t.Errorf("SignOut called %d times, want 1", got)
	}
	if got := u.settings.signOutStatus.Text; !strings.HasPrefix(got, "Signed out of 2 servers") {
		t.Errorf("result %q, want the success message", got)
	}
}

func TestSignOutTexts(t *testing.T) {
	questions := []struct {
		n      int
		signIn bool
		want   string
	}{
		{2, true, "Remove the tokens of 2 servers from the system keyring and stop watching them? The servers stay listed; sign in again to resume."},
		{1, true, "Remove the token of 1 server from the system keyring and stop watching it? The server stays listed; sign in again to resume."},
		{2, false, "Remove the tokens of 2 servers from the system keyring and stop watching them? The servers stay listed; add their tokens again below to resume."},
		{1, false, "Remove the token of 1 server from the system keyring and stop watching it? The server stays listed; add the token again below to resume."},
	}
	for _, tt := range questions {
		if got := signOutQuestion(tt.n, tt.signIn); got != tt.want {
			t.Errorf("signOutQuestion(%d, %v) = %q, want %q", tt.n, tt.signIn, got, tt.want)
		}
	}

	const devices = " Plex Warden stays listed under Authorized Devices in your Plex account until you remove it there."
	results := []struct {
		n    int
		err  error
		want string
		imp  widget.Importance
	}{
		{3, nil, "Signed out of 3 servers; their tokens were removed from the keyring." + devices, widget.SuccessImportance},
		{1, nil, "Signed out of 1 server; its token was removed from the keyring." + devices, widget.SuccessImportance},
		{0, errors.New("keyring unavailable"), "Keyring unavailable", widget.DangerImportance},
		{2, errors.New(`some tokens could not be removed from the keyring: "Cabin": locked`),
			`Some tokens could not be removed from the keyring: "Cabin": locked`, widget.DangerImportance},
	}
	for _, tt := range results {
		got, imp := signOutResult(tt.n, tt.err)
		if got != tt.want || imp != tt.imp {
			t.Errorf("signOutResult(%d, %v) = %q, %v; want %q, %v", tt.n, tt.err, got, imp, tt.want, tt.imp)
		}
	}
}

// firstURL is the URL of the first AddServer call, for messages that must
// not print the token.
func firstURL(added []app.NewServer) string {
	if len(added) == 0 {
		return ""
	}
	return added[0].URL
}
