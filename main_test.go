package main

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// fakeWatcher is a StatusNotifierWatcher: the tray host side of the Linux
// tray protocol. The app registers its StatusNotifierItem with it.
type fakeWatcher struct{ items chan string }

func (w *fakeWatcher) RegisterStatusNotifierItem(sender dbus.Sender, path string) *dbus.Error {
	w.items <- string(sender) + "|" + path
	return nil
}

// fakeNotifications records Notify calls, like a notification daemon.
type fakeNotifications struct {
	mu    sync.Mutex
	calls []string
}

func (n *fakeNotifications) Notify(app string, replaces uint32, icon, summary, body string, actions []string,
	hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.calls = append(n.calls, app+"|"+summary+"|"+body)
	return uint32(len(n.calls)), nil
}

func (n *fakeNotifications) GetCapabilities() ([]string, *dbus.Error) { return []string{"body"}, nil }

func (n *fakeNotifications) GetServerInformation() (string, string, string, string, *dbus.Error) {
	return "plexwarden-test", "test", "1", "1.2", nil
}

func (n *fakeNotifications) snapshot() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.calls...)
}

// TestSmoke runs the real binary on the demo server under Xvfb and a
// private session bus (make smoke): the tray registers and exports its
// menu, the window appears and is not blank, a notification is sent, and
// SIGTERM ends the app cleanly.
func TestSmoke(t *testing.T) {
	bin := os.Getenv("PLEXWARDEN_SMOKE")
	if bin == "" {
		t.Skip("set PLEXWARDEN_SMOKE to the built binary (make smoke does)")
	}
	if os.Getenv("DISPLAY") == "" || os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		t.Fatal("the smoke test needs DISPLAY and a session bus (run it through .ci/with-session)")
	}
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	watcher := &fakeWatcher{items: make(chan string, 4)}
	if err := conn.Export(watcher, "/StatusNotifierWatcher", "org.kde.StatusNotifierWatcher"); err != nil {
		t.Fatal(err)
	}
	notes := &fakeNotifications{}
	if err := conn.Export(notes, "/org/freedesktop/Notifications", "org.freedesktop.Notifications"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"org.kde.StatusNotifierWatcher", "org.freedesktop.Notifications"} {
		if reply, err := conn.RequestName(name, dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
			t.Fatalf("claiming %s: %v (reply %v)", name, err, reply)
		}
	}

	home := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "demo")
	cmd.Env = append(os.Environ(), "PLEXWARDEN_CONFIG_DIR="+filepath.Join(home, "config"), "XDG_CONFIG_HOME="+filepath.Join(home, "xdg"))
	exited := startApp(t, cmd)

	// 1. The tray registers with the watcher and exports its menu.
	var item string
	select {
	case item = <-watcher.items:
	case <-time.After(30 * time.Second):
		t.Fatal("the tray did not register with the StatusNotifierWatcher")
	}
	sender, path, _ := strings.Cut(item, "|")
	t.Logf("tray item %s at %s", sender, path)
	var labels []string
	deadline := time.Now().Add(20 * time.Second)
	for {
		labels = menuLabels(t, conn, sender)
		if hasLabel(labels, "Open Plex Warden") && hasLabelContaining(labels, " · ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("tray menu labels = %q, want 'Open Plex Warden' and a session entry", labels)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("tray menu: %q", labels)

	// 2. The window appears (the demo shows it) and is not blank.
	find := exec.CommandContext(ctx, "xdotool", "search", "--sync", "--onlyvisible", "--name", "^Plex Warden$")
	if out, err := find.CombinedOutput(); err != nil {
		t.Fatalf("window did not appear: %v %s", err, out)
	}
	time.Sleep(2 * time.Second) // let the first sessions render
	shot := filepath.Join(t.TempDir(), "window.png")
	if out, err := exec.CommandContext(ctx, "import", "-window", "root", shot).CombinedOutput(); err != nil {
		t.Fatalf("screenshot: %v %s", err, out)
	}
	if n := distinctColours(t, shot); n < 16 {
		t.Errorf("screenshot has %d distinct colours: blank window?", n)
	}
	if dir := os.Getenv("PLEXWARDEN_SHOT_DIR"); dir != "" {
		b, _ := os.ReadFile(shot)
		_ = os.WriteFile(filepath.Join(dir, "smoke-window.png"), b, 0o644)
	}

	// 3. A notification reaches org.freedesktop.Notifications.
	deadline = time.Now().Add(30 * time.Second)
	for len(notes.snapshot()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no notification was sent")
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("notifications: %q", notes.snapshot())

	// 4. SIGTERM ends it cleanly.
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("the app did not exit within 10s of SIGTERM")
	}
}

// menuLabels reads the exported dbusmenu layout of the tray item.
func menuLabels(t *testing.T, conn *dbus.Conn, sender string) []string {
	t.Helper()
	var revision uint32
	var layout struct {
		ID       int32
		Props    map[string]dbus.Variant
		Children []dbus.Variant
	}
	obj := conn.Object(sender, "/StatusNotifierItem/menu")
	if err := obj.Call("com.canonical.dbusmenu.GetLayout", 0, int32(0), int32(-1), []string{}).Store(&revision, &layout); err != nil {
		t.Logf("GetLayout: %v", err)
		return nil
	}
	var labels []string
	var walk func([]dbus.Variant)
	walk = func(children []dbus.Variant) {
		for _, c := range children {
			fields, ok := c.Value().([]any)
			if !ok || len(fields) != 3 {
				continue
			}
			if props, ok := fields[1].(map[string]dbus.Variant); ok {
				if l, ok := props["label"]; ok {
					labels = append(labels, fmt.Sprint(l.Value()))
				}
			}
			if kids, ok := fields[2].([]dbus.Variant); ok {
				walk(kids)
			}
		}
	}
	walk(layout.Children)
	return labels
}

func hasLabel(labels []string, want string) bool {
	for _, l := range labels {
		if l == want {
			return true
		}
	}
	return false
}

func hasLabelContaining(labels []string, part string) bool {
	for _, l := range labels {
		if strings.Contains(l, part) {
			return true
		}
	}
	return false
}

func distinctColours(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r >> 8, g >> 8, bl >> 8, a >> 8}] = true
		}
	}
	return len(seen)
}

// startApp starts the app's command, kills it at the end of the test if it
// is still running, and logs its output when the test failed. The channel
// receives its exit.
func startApp(t *testing.T, cmd *exec.Cmd) <-chan error {
	t.Helper()
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	done := make(chan error, 1)
	go func() {
		err := cmd.Wait()
		exited <- err
		done <- err
	}()
	t.Cleanup(func() {
		select {
		case <-done:
		default:
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("app output:\n%s", logs.String())
		}
	})
	return exited
}
