package ui

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/plex"
	"github.com/plexwarden/plexwarden/plex/plextv"
)

const testAuthURL = "https://app.plex.tv/auth#?clientID=pw-test&code=k2q8x7vq&context%5Bdevice%5D%5Bproduct%5D=Plex%20Warden"

// signInResult is what the test lets the fake sign-in return.
type signInResult struct {
	added []string
	err   error
}

// fakeSignIn shows the URL, reports that it did, then waits for the test's
// result or for its context to end. It runs on the UI's goroutine for
// long calls; the channels order it with the test.
type fakeSignIn struct {
	b         *fakeBackend         // gets the added servers, as the real backend saves them
	shown     chan struct{}        // showURL returned
	release   chan signInResult    // the test's result
	cancelled chan error           // ctx.Err() when the context ended first
	calls     chan context.Context // one per SignIn
}

func newFakeSignIn(b *fakeBackend) *fakeSignIn {
	return &fakeSignIn{b: b, shown: make(chan struct{}, 1), release: make(chan signInResult, 1),
		cancelled: make(chan error, 1), calls: make(chan context.Context, 4)}
}

func (f *fakeSignIn) SignIn(ctx context.Context, showURL func(authURL, code string)) ([]string, error) {
	f.calls <- ctx
	showURL(testAuthURL, "K2Q8")
	f.shown <- struct{}{}
	select {
	case r := <-f.release:
		f.b.mu.Lock()
		for _, name := range r.added {
			f.b.cfg.Servers = append(f.b.cfg.Servers, app.ServerConfig{Name: name, URL: "https://" + strings.ToLower(name) + ".example:32400"})
		}
		f.b.mu.Unlock()
		return r.added, r.err
	case <-ctx.Done():
		f.cancelled <- ctx.Err()
		return nil, ctx.Err()
	}
}

// withOpenURL records the pages the UI opens instead of starting a browser.
func withOpenURL(t *testing.T) *[]string {
	t.Helper()
	var opened []string
	old := openURL
	openURL = func(u *url.URL) error {
		opened = append(opened, u.String())
		return nil
	}
	t.Cleanup(func() { openURL = old })
	return &opened
}

// startSignIn opens Settings, taps "Sign in with Plex…" and waits until the
// dialog shows the URL.
func startSignIn(t *testing.T) (*UI, *fakeSignIn, *fakeBackend) {
	t.Helper()
	withAutostart(t, false, nil)
	b := newFakeBackend()
	s := newFakeSignIn(b)
	u := newOptsUI(t, b, Options{TrayHost: true, SignIn: s})
	u.tabs.Select(u.settingsTab)
	test.Tap(findButton(t, u.settings.content, "Sign in with Plex…"))
	<-s.shown // the dialog was updated before the fake got here
	return u, s, b
}

func TestSignInSuccess(t *testing.T) {
	opened := withOpenURL(t)
	u, s, _ := startSignIn(t)
	f := u.signIn
	overlay := u.Window().Canvas().Overlays().Top()
	if overlay == nil || !f.shown {
		t.Fatal("Sign in with Plex… opened no dialog")
	}
	if got := f.msg.Text; got != "Waiting for you to approve Plex Warden in your browser…" {
		t.Errorf("dialog says %q", got)
	}
	if got := f.url.Text; got != testAuthURL || !f.url.Selectable || !f.urlBox.Visible() {
		t.Errorf("dialog URL %q (selectable %v, visible %v), want %q", got, f.url.Selectable, f.urlBox.Visible(), testAuthURL)
	}
	if got := f.code.Text; got != "Code K2Q8" {
		t.Errorf("code %q", got)
	}
	test.Tap(findButton(t, overlay, "Open browser"))
	if len(*opened) != 1 || (*opened)[0] != testAuthURL {
		t.Errorf("opened %q, want the auth URL", *opened)
	}
	test.Tap(findButton(t, overlay, "Copy address"))
	if got := u.app.Clipboard().Content(); got != testAuthURL {
		t.Errorf("clipboard %q, want the auth URL", got)
	}

	s.release <- signInResult{added: []string{"Den", "Cabin"}}
	u.bg.Wait()
	want := "Added: Den, Cabin. Plex Warden is watching them now."
	if got := f.msg.Text; got != want || f.msg.Importance != widget.SuccessImportance {
		t.Errorf("dialog result %q (importance %v), want %q", got, f.msg.Importance, want)
	}
	if f.urlBox.Visible() {
		t.Error("URL still shown after the sign-in finished")
	}
	if got := f.status.Text; got != want || !f.status.Visible() {
		t.Errorf("Settings says %q (visible %v), want %q", got, f.status.Visible(), want)
	}
	for _, name := range []string{"Den", "Cabin"} {
		if _, ok := u.settings.serverStatus[name]; !ok {
			t.Errorf("%s not listed in Settings", name)
		}
	}
	test.Tap(findButton(t, overlay, "Close"))
	if f.shown {
		t.Error("dialog open after Close")
	}
}

func TestSignInExpired(t *testing.T) {
	u, s, _ := startSignIn(t)
	s.release <- signInResult{err: fmt.Errorf("polling: %w", plextv.ErrPINExpired)}
	u.bg.Wait()
	f := u.signIn
	if got := f.msg.Text; got != "The sign-in code expired before it was approved. Try again." {
		t.Errorf("dialog says %q", got)
	}
	// Try again starts a new attempt with a new context.
	test.Tap(findButton(t, u.Window().Canvas().Overlays().Top(), "Try again"))
	<-s.shown
	if got := f.msg.Text; got != signInWaiting {
		t.Errorf("after Try again the dialog says %q", got)
	}
	if n := len(s.calls); n != 2 {
		t.Errorf("%d SignIn calls, want 2", n)
	}
	s.release <- signInResult{added: []string{"Den"}}
	u.bg.Wait()
	if got := f.msg.Text; got != "Added: Den. Plex Warden is watching it now." {
		t.Errorf("second attempt: %q", got)
	}
}

func TestSignInCancel(t *testing.T) {
	u, s, _ := startSignIn(t)
	ctx := <-s.calls
	test.Tap(findButton(t, u.Window().Canvas().Overlays().Top(), "Cancel"))
	u.bg.Wait()
	if err := <-s.cancelled; !errors.Is(err, context.Canceled) {
		t.Errorf("backend's context ended with %v, want context.Canceled", err)
	}
	if ctx.Err() == nil {
		t.Error("Cancel left the sign-in context running")
	}
	f := u.signIn
	if f.shown || u.Window().Canvas().Overlays().Top() != nil {
		t.Error("dialog still open after Cancel")
	}
	if got := f.status.Text; got != "Sign-in cancelled; nothing was changed." {
		t.Errorf("Settings says %q", got)
	}
	if f.cancel != nil {
		t.Error("attempt still marked running")
	}
}

func TestSignInKeyringUnavailable(t *testing.T) {
	u, s, _ := startSignIn(t)
	s.release <- signInResult{added: []string{"Den"}, err: fmt.Errorf("%w: no Secret Service. %s", app.ErrKeyringUnavailable, app.KeyringHelp)}
	u.bg.Wait()
	got := u.signIn.msg.Text
	if !strings.HasPrefix(got, "Added: Den. ") || !strings.Contains(got, "this run only") || !strings.HasSuffix(got, app.KeyringHelp) {
		t.Errorf("dialog says %q, want the server added for this run and the keyring help", got)
	}
	if _, ok := u.settings.serverStatus["Den"]; !ok {
		t.Error("Den not listed although it was added for this run")
	}
}

func TestSignInButtons(t *testing.T) {
	withAutostart(t, false, nil)
	// Without a backend: no button anywhere (the goldens show that).
	u := newOptsUI(t, newFakeBackend(), Options{Demo: true})
	for _, o := range test.LaidOutObjects(u.Window().Content()) {
		if b, ok := o.(*widget.Button); ok && b.Text == "Sign in with Plex…" {
			t.Fatal("Sign in with Plex… shown without a SignIn backend")
		}
	}

	// With one, the demo banner offers it beside "Add your Plex server…".
	b := newFakeBackend()
	s := newFakeSignIn(b)
	u = newOptsUI(t, b, Options{Demo: true, SignIn: s})
	test.Tap(findButton(t, u.banner, "Sign in with Plex…"))
	<-s.shown
	if findButton(t, u.banner, "Add your Plex server…").Importance == widget.HighImportance {
		t.Error("both banner buttons are prominent; sign-in should lead")
	}
	if u.Window().Canvas().Overlays().Top() == nil {
		t.Fatal("banner's Sign in with Plex… opened no dialog")
	}
	// Tapping again while it runs brings the same attempt back.
	test.Tap(findButton(t, u.banner, "Sign in with Plex…"))
	if n := len(s.calls); n != 1 {
		t.Errorf("%d SignIn calls, want 1", n)
	}
	s.release <- signInResult{added: []string{"Den"}}
	u.bg.Wait()
}

func TestSignInResultText(t *testing.T) {
	keyring := fmt.Errorf("%w: dbus", app.ErrKeyringUnavailable)
	tests := []struct {
		name  string
		added []string
		err   error
		want  string
		imp   widget.Importance
		retry bool
	}{
		{"two", []string{"Den", "Cabin"}, nil, "Added: Den, Cabin. Plex Warden is watching them now.", widget.SuccessImportance, false},
		{"one", []string{"Den"}, nil, "Added: Den. Plex Warden is watching it now.", widget.SuccessImportance, false},
		{"none owned", nil, nil, "Signed in, but the account owns no Plex server that Plex Warden could reach. " +
			"Add one by its address and token below.", widget.WarningImportance, false},
		{"expired", nil, fmt.Errorf("x: %w", plextv.ErrPINExpired), signInExpired, widget.WarningImportance, true},
		{"cancelled", nil, context.Canceled, "Sign-in cancelled; nothing was changed.", widget.LowImportance, false},
		{"keyring", []string{"Den", "Cabin"}, keyring, "Added: Den, Cabin. The system keyring is not available, " +
			"so their tokens are kept for this run only.\n" + app.KeyringHelp, widget.WarningImportance, false},
		{"keyring, nothing added", nil, keyring, "Sign-in failed: keyring unavailable: dbus", widget.DangerImportance, true},
		{"failed", nil, errors.New("cannot reach plex.tv"), "Sign-in failed: cannot reach plex.tv", widget.DangerImportance, true},
		{"plex.tv unreachable", nil, app.PlexTVProblem(&plex.Error{Op: "create PIN", Server: "https://plex.tv", Err: plex.ErrUnreachable, Detail: "dial tcp: connection refused"}),
			"Could not reach plex.tv — check this computer's internet connection.", widget.DangerImportance, true},
		{"partly", []string{"Den"}, errors.New("Cabin: no connection answered"),
			"Added: Den. Others could not be added: Cabin: no connection answered", widget.DangerImportance, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, imp, retry := signInResultText(tt.added, tt.err)
			if got != tt.want || imp != tt.imp || retry != tt.retry {
				t.Errorf("signInResultText(%v, %v) = %q, %v, %v; want %q, %v, %v", tt.added, tt.err, got, imp, retry, tt.want, tt.imp, tt.retry)
			}
		})
	}
}

// TestSettingsSignInGolden pins the servers section with the sign-in row.
func TestSettingsSignInGolden(t *testing.T) {
	withAutostart(t, true, nil)
	b := twoServerBackend()
	u := newOptsUI(t, b, Options{TrayHost: true, Version: "1.2.3", SignIn: newFakeSignIn(b)})
	u.tabs.Select(u.settingsTab)
	test.AssertRendersToMarkup(t, "settings_signin.xml", u.Window().Canvas())
}
