package ui

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/plexwarden/plexwarden/app"
)

// fakeAlerts is an AlertsBackend in memory.
type fakeAlerts struct {
	mu       sync.Mutex
	chs      []app.AlertChannel
	secrets  map[string]string
	changed  int
	saveErr  error
	testErr  error
	saved    []savedChannel
	tested   []testedChannel
	statuses map[string]string
}

type savedChannel struct {
	old    string
	ch     app.AlertChannel
	secret *string
}

type testedChannel struct {
	ch     app.AlertChannel
	secret *string
	st     *app.State
}

func newFakeAlerts(chs ...app.AlertChannel) *fakeAlerts {
	return &fakeAlerts{chs: chs, secrets: map[string]string{}, statuses: map[string]string{}}
}

func (f *fakeAlerts) NotificationsChanged() { f.mu.Lock(); f.changed++; f.mu.Unlock() }

func (f *fakeAlerts) AlertChannels() []app.AlertChannel {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]app.AlertChannel(nil), f.chs...)
}

func (f *fakeAlerts) HasAlertSecret(name string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.secrets[name] != ""
}

func (f *fakeAlerts) SaveAlertChannel(_ context.Context, old string, ch app.AlertChannel, secret *string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.saved = append(f.saved, savedChannel{old, ch, secret})
	if f.saveErr != nil {
		return f.saveErr
	}
	for i, c := range f.chs {
		if c.Name == old {
			f.chs[i] = ch
			return nil
		}
	}
	f.chs = append(f.chs, ch)
	return nil
}

func (f *fakeAlerts) RemoveAlertChannel(_ context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, c := range f.chs {
		if c.Name == name {
			f.chs = append(f.chs[:i], f.chs[i+1:]...)
		}
	}
	return nil
}

func (f *fakeAlerts) TestAlertChannel(_ context.Context, ch app.AlertChannel, secret *string, st *app.State) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tested = append(f.tested, testedChannel{ch, secret, st})
	return f.testErr
}

func (f *fakeAlerts) AlertStatus(name string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.statuses[name]
}

func alertsUI(t *testing.T, fa *fakeAlerts) *UI {
	t.Helper()
	u := newOptsUI(t, newFakeBackend(), Options{Version: "1.2.3", Alerts: fa})
	u.apply(fixedState())
	u.tabs.Select(u.settingsTab)
	return u
}

// Adding a channel in Settings: the form's fields reach the backend, the
// secret separately; bad input is explained in the dialog and changes
// nothing; a backend refusal keeps the dialog and what was typed.
func TestAlertChannelAdd(t *testing.T) {
	tests := []struct {
		name      string
		url       string
		limit     string
		saveErr   error
		wantSaved int
		wantMsg   string // in the dialog; "" when it closes
	}{
		{"valid", "https://ntfy.sh/plex-home", "3", nil, 1, ""},
		{"no URL", "", "", nil, 0, "Channel \"phone\": the URL is missing."},
		{"bad limit", "https://ntfy.sh/plex-home", "lots", nil, 0, "Per minute: \"lots\" is not a whole number of 1 or more."},
		{"refused", "https://ntfy.sh/plex-home", "", errors.New("there is already a channel named \"phone\""), 1, "There is already a channel named \"phone\"."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fa := newFakeAlerts()
			fa.saveErr = tt.saveErr
			u := alertsUI(t, fa)
			test.Tap(findButton(t, u.settings.alerts.box, "Add channel…"))
			f := u.settings.alerts.form
			if f == nil || u.Window().Canvas().Overlays().Top() == nil {
				t.Fatal("Add channel… opened no dialog")
			}
			if f.typ.Selected != "ntfy" {
				t.Errorf("type = %q, want ntfy first", f.typ.Selected)
			}
			test.Type(f.name, "phone")
			test.Type(f.url, tt.url)
			test.Type(f.secret, "tk_secret")
			test.Type(f.limit, tt.limit)
			test.Tap(f.save)
			u.bg.Wait()
			if len(fa.saved) != tt.wantSaved {
				t.Fatalf("backend saved %d times, want %d", len(fa.saved), tt.wantSaved)
			}
			open := u.Window().Canvas().Overlays().Top() != nil
			if tt.wantMsg != "" {
				if !open || !f.msg.Visible() || f.msg.Text != tt.wantMsg {
					t.Errorf("dialog open %v, message %q; want it open saying %q", open, f.msg.Text, tt.wantMsg)
				}
				if f.name.Text != "phone" {
					t.Errorf("name field = %q, want what was typed kept", f.name.Text)
				}
				return
			}
			if open {
				t.Errorf("dialog still open after saving (message %q)", f.msg.Text)
			}
			s := fa.saved[0]
			want := app.AlertChannel{Name: "phone", Type: "ntfy", URL: tt.url, PerMinute: 3,
				Kinds: app.Notifications{TranscodeStarted: true, Terminated: true, ServerLost: true, TokenRejected: true, Diagnostics: true}}
			if s.old != "" || !channelsEqual(s.ch, want) || s.secret == nil || *s.secret != "tk_secret" {
				t.Errorf("saved %q %+v secret %v, want a new %+v with the typed secret", s.old, s.ch, s.secret, want)
			}
			if got := strings.Join(labelTexts(u.settings.alerts.box), "\n"); !strings.Contains(got, "phone") || !strings.Contains(got, "ntfy · https://ntfy.sh/plex-home") {
				t.Errorf("channel list = %q, want the new channel", got)
			}
		})
	}
}

func channelsEqual(a, b app.AlertChannel) bool {
	return a.Name == b.Name && a.Type == b.Type && a.URL == b.URL && a.PerMinute == b.PerMinute && a.Kinds == b.Kinds &&
		a.Off == b.Off && a.SMTP == b.SMTP && strings.Join(a.To, ",") == strings.Join(b.To, ",")
}

// Editing with the secret field left empty keeps the stored secret (nil);
// switching the type to email shows the mail fields.
func TestAlertChannelEdit(t *testing.T) {
	fa := newFakeAlerts(app.AlertChannel{Name: "phone", Type: "ntfy", URL: "https://ntfy.sh/a", Kinds: app.Notifications{Terminated: true}})
	fa.secrets["phone"] = "tk_old"
	u := alertsUI(t, fa)
	test.Tap(findButton(t, u.settings.alerts.box, "Edit…"))
	f := u.settings.alerts.form
	if f.secret.PlaceHolder == "" || !strings.Contains(f.secret.PlaceHolder, "keyring") {
		t.Errorf("secret placeholder = %q, want it to say a secret is stored", f.secret.PlaceHolder)
	}
	if f.mailBox.Visible() || !f.httpBox.Visible() {
		t.Error("ntfy shows the mail fields or hides the URL")
	}
	f.typ.SetSelected("Email")
	if !f.mailBox.Visible() || f.httpBox.Visible() {
		t.Error("email hides the mail fields or shows the URL")
	}
	f.typ.SetSelected("ntfy")
	f.url.SetText("https://ntfy.sh/b")
	test.Tap(f.save)
	u.bg.Wait()
	if len(fa.saved) != 1 || fa.saved[0].old != "phone" || fa.saved[0].secret != nil || fa.saved[0].ch.URL != "https://ntfy.sh/b" {
		t.Fatalf("saved %+v, want phone replaced with the secret kept (nil)", fa.saved)
	}
}

// Send test renders the window's current state through the channel and
// says how it went; the channel's last failure is shown on its row.
func TestAlertChannelSendTest(t *testing.T) {
	tests := []struct {
		name    string
		testErr error
		want    string
		imp     widget.Importance
	}{
		{"sent", nil, "Test sent to phone.", widget.SuccessImportance},
		{"failed", errors.New("could not reach ntfy.sh (unknown host ntfy.sh)"), "Test failed: could not reach ntfy.sh (unknown host ntfy.sh)", widget.DangerImportance},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fa := newFakeAlerts(app.AlertChannel{Name: "phone", Type: "ntfy", URL: "https://ntfy.sh/a", Kinds: app.Notifications{Terminated: true}})
			fa.testErr = tt.testErr
			u := alertsUI(t, fa)
			test.Tap(findButton(t, u.settings.alerts.box, "Send test"))
			u.bg.Wait()
			if len(fa.tested) != 1 || fa.tested[0].ch.Name != "phone" || fa.tested[0].secret != nil || fa.tested[0].st != u.state {
				t.Fatalf("tested %+v, want phone with its stored secret and the current state", fa.tested)
			}
			st := u.settings.alerts.status["phone"]
			if st.Text != tt.want || st.Importance != tt.imp {
				t.Errorf("row status = %q (%v), want %q (%v)", st.Text, st.Importance, tt.want, tt.imp)
			}
		})
	}
	fa := newFakeAlerts(app.AlertChannel{Name: "hook", Type: "webhook", URL: "https://example.com/h"})
	fa.statuses["hook"] = "example.com answered 500 Internal Server Error"
	u := alertsUI(t, fa)
	if got := u.settings.alerts.status["hook"].Text; got != "Last alert failed: example.com answered 500 Internal Server Error" {
		t.Errorf("row status = %q, want the last failure", got)
	}
}

func TestChannelSummary(t *testing.T) {
	tests := []struct {
		ch   app.AlertChannel
		want string
	}{
		{app.AlertChannel{Type: "ntfy", URL: "https://ntfy.sh/plex", Kinds: app.Notifications{TranscodeStarted: true, Terminated: true}},
			"ntfy · https://ntfy.sh/plex · transcodes, terminate results · at most 5 alerts a minute"},
		{app.AlertChannel{Type: "email", SMTP: "smtp.example.com:587", To: []string{"a@example.com"}, PerMinute: 1, Off: true},
			"off · Email · a@example.com via smtp.example.com:587 · nothing switched on · at most 1 alert a minute"},
	}
	for _, tt := range tests {
		if got := channelSummary(tt.ch); got != tt.want {
			t.Errorf("channelSummary(%+v) = %q, want %q", tt.ch, got, tt.want)
		}
	}
}
