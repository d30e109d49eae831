//go:build linux || freebsd || openbsd || netbsd

package alert

import (
	"context"
	"os"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/plexwarden/plexwarden/app"
)

// fakeServer is a notification server on the session bus: it records every
// Notify call and lists the capabilities it was given.
type fakeServer struct {
	caps []string

	mu    sync.Mutex
	calls []notifyCall
}

type notifyCall struct {
	App     string
	Summary string
	Body    string
	Actions []string
	Expire  int32
	Hints   map[string]dbus.Variant
}

func (f *fakeServer) Notify(app string, replaces uint32, icon, summary, body string, actions []string,
	hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, notifyCall{app, summary, body, actions, timeout, hints})
	return uint32(len(f.calls)), nil
}

func (f *fakeServer) CloseNotification(id uint32) *dbus.Error { return nil }

func (f *fakeServer) GetCapabilities() ([]string, *dbus.Error) { return f.caps, nil }

func (f *fakeServer) GetServerInformation() (string, string, string, string, *dbus.Error) {
	return "fake", "plexwarden", "1", "1.2", nil
}

func (f *fakeServer) last(t *testing.T) notifyCall {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) == 0 {
		t.Fatal("the notification server got no Notify call")
	}
	return f.calls[len(f.calls)-1]
}

// startFakeServer owns org.freedesktop.Notifications on the test's private
// session bus (./.ci/with-session) with caps, on its own connection.
func startFakeServer(t *testing.T, caps []string) (*fakeServer, *dbus.Conn) {
	t.Helper()
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		t.Skip("no session bus: run under ./.ci/with-session")
	}
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		t.Fatalf("connecting to the session bus: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	f := &fakeServer{caps: caps}
	if err := conn.Export(f, notifyPath, notifyIface); err != nil {
		t.Fatal(err)
	}
	reply, err := conn.RequestName(notifyName, dbus.NameFlagDoNotQueue|dbus.NameFlagReplaceExisting)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("owning %s: reply %v, %v", notifyName, reply, err)
	}
	return f, conn
}

// clientConn is Plex Warden's side: its own private connection.
func clientConn(t *testing.T) *dbus.Conn {
	t.Helper()
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func transcodeNote() app.Notification {
	return app.Notification{Kind: app.NotifyTranscode, Title: "Transcoding: alice", Body: "The Matrix · Transcode · Home",
		Server: "Home", User: "alice", SessionKey: "Home/12"}
}

// Popups over real D-Bus: the app name, the timeout (sticky ones stay),
// actions only on a single transcode and only when the server has them.
func TestPopupsNotify(t *testing.T) {
	tests := []struct {
		name        string
		caps        []string
		note        app.Notification
		wantExpire  int32
		wantActions []string
	}{
		{"transcode, server with actions", []string{"body", "actions"}, transcodeNote(), 6000,
			[]string{ActionTerminate, "Terminate…", ActionOpen, "Open"}},
		{"transcode, server without actions", []string{"body"}, transcodeNote(), 6000, nil},
		{"new session: no actions", []string{"body", "actions"},
			app.Notification{Kind: app.NotifyNewSession, Title: "New session: bob", SessionKey: "Home/3"}, 6000, nil},
		{"several transcodes: no actions", []string{"body", "actions"},
			app.Notification{Kind: app.NotifyTranscode, Title: "2 transcodes started: alice, bob"}, 6000, nil},
		{"failure stays", []string{"body", "actions"},
			app.Notification{Kind: app.NotifyTerminated, Title: "Could not terminate: alice · The Matrix", Sticky: true}, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _ := startFakeServer(t, tt.caps)
			p, err := NewPopups(PopupOptions{Conn: clientConn(t), DesktopEntry: "io.github.plexwarden.plexwarden",
				OnAction: func(app.Notification, string) {}})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := p.Send(ctx, tt.note); err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := f.last(t)
			if got.App != "Plex Warden" {
				t.Errorf("app_name = %q, want %q", got.App, "Plex Warden")
			}
			if got.Expire != tt.wantExpire {
				t.Errorf("expire_timeout = %d, want %d", got.Expire, tt.wantExpire)
			}
			if len(got.Actions) == 0 {
				got.Actions = nil
			}
			if !reflect.DeepEqual(got.Actions, tt.wantActions) {
				t.Errorf("actions = %q, want %q", got.Actions, tt.wantActions)
			}
			if got.Summary != tt.note.Title || got.Body != tt.note.Body {
				t.Errorf("summary, body = %q, %q; want %q, %q", got.Summary, got.Body, tt.note.Title, tt.note.Body)
			}
			if de := got.Hints["desktop-entry"].Value(); de != "io.github.plexwarden.plexwarden" {
				t.Errorf("desktop-entry hint = %v, want the app id", de)
			}
		})
	}
}

// The server's ActionInvoked signal reaches OnAction with the popup's
// notification; an action on an unknown popup is ignored.
func TestPopupsActionInvoked(t *testing.T) {
	f, server := startFakeServer(t, []string{"body", "actions"})
	type choice struct {
		key, action string
	}
	got := make(chan choice, 4)
	p, err := NewPopups(PopupOptions{Conn: clientConn(t), OnAction: func(n app.Notification, action string) {
		got <- choice{n.SessionKey, action}
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(runCtx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	if err := p.Send(ctx, transcodeNote()); err != nil {
		t.Fatal(err)
	}
	f.last(t)
	// Run must be listening before the signal is emitted: retry until the
	// choice arrives.
	emit := func(id uint32, key string) {
		if err := server.Emit(notifyPath, notifyIface+".ActionInvoked", id, key); err != nil {
			t.Fatal(err)
		}
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	emit(99, ActionOpen) // not ours
	for {
		emit(1, ActionTerminate)
		select {
		case c := <-got:
			if want := (choice{"Home/12", ActionTerminate}); c != want {
				t.Fatalf("OnAction got %+v, want %+v", c, want)
			}
			return
		case <-tick.C:
		case <-ctx.Done():
			t.Fatal("ActionInvoked never reached OnAction")
		}
	}
}
