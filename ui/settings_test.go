package ui

import (
	"errors"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

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
	for i, c := range checks {
		if !c.Checked {
			t.Errorf("check %q off, want on as in the default config", notifyToggles[i].label)
		}
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
	if !checks[0].Checked {
		t.Error("check left off although saving failed")
	}
	if !b.Config().Notifications.NewSession {
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
	if len(b.added) != 1 || b.added[0] != "https://10.0.0.2:32400" || !b.cfg.Servers[0].Insecure {
		t.Errorf("AddServer calls %v, servers %+v", b.added, b.cfg.Servers)
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
