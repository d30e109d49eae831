package main

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
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

// smokeBinary is the built binary the smoke tests run (PLEXWARDEN_SMOKE);
// without it they are skipped.
func smokeBinary(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("PLEXWARDEN_SMOKE")
	if bin == "" {
		t.Skip("set PLEXWARDEN_SMOKE to the built binary (make smoke does)")
	}
	return bin
}

// TestSmoke runs the real binary on the demo server under Xvfb and a
// private session bus (make smoke): the tray registers and exports its
// menu, the window appears and is not blank, a notification is sent, and
// SIGTERM ends the app cleanly.
func TestSmoke(t *testing.T) {
	bin := smokeBinary(t)
	if os.Getenv("DISPLAY") == "" || os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		t.Fatal("the smoke test needs DISPLAY and a session bus (run it through .ci/with-session)")
	}
	conn, watcher, notes := fakeDesktop(t)

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
		if slices.Contains(labels, "Open Plex Warden") && hasLabelContaining(labels, " · ") {
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

// fakeDesktop plays the desktop's side on the session bus: a tray host
// (StatusNotifierWatcher) and a notification daemon. The connection closes
// at the end of the test.
func fakeDesktop(t *testing.T) (*dbus.Conn, *fakeWatcher, *fakeNotifications) {
	t.Helper()
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
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
	return conn, watcher, notes
}

// TestSmokeTrayOnly runs the real binary with a tray host and a configured
// (unreachable) server, so it starts in the tray with its window hidden
// (make smoke): it must create no X window and load no GL driver until the
// window is opened, which the tray menu's "Open Plex Warden" does; the
// menu's Quit ends it cleanly.
func TestSmokeTrayOnly(t *testing.T) {
	bin := smokeBinary(t)
	if os.Getenv("DISPLAY") == "" || os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		t.Fatal("the smoke test needs DISPLAY and a session bus (run it through .ci/with-session)")
	}
	conn, watcher, _ := fakeDesktop(t)
	home := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = append(os.Environ(), "PLEXWARDEN_CONFIG_DIR="+filepath.Join(home, "config"), "XDG_CONFIG_HOME="+filepath.Join(home, "xdg"),
		"PLEX_URL=http://127.0.0.1:9", "PLEX_TOKEN=smoke-token") // the discard port: nothing answers
	exited := startApp(t, cmd)
	pid := strconv.Itoa(cmd.Process.Pid)

	var item string
	select {
	case item = <-watcher.items:
	case <-time.After(30 * time.Second):
		t.Fatal("the tray did not register with the StatusNotifierWatcher")
	}
	sender, _, _ := strings.Cut(item, "|")
	deadline := time.Now().Add(20 * time.Second)
	for !slices.Contains(menuLabels(t, conn, sender), "Open Plex Warden") {
		if time.Now().After(deadline) {
			t.Fatalf("tray menu labels = %q, want 'Open Plex Warden'", menuLabels(t, conn, sender))
		}
		time.Sleep(200 * time.Millisecond)
	}

	// In the tray: no window of the process at all (Fyne's own tray made a
	// hidden GL window here) and no GL driver mapped, for a few seconds.
	for range 3 {
		if out, err := exec.CommandContext(ctx, "xdotool", "search", "--pid", pid).Output(); err == nil || len(out) > 0 {
			t.Fatalf("the app has X windows while in the tray: %q (err %v)", out, err)
		}
		if libs := glLibraries(t, pid); len(libs) > 0 {
			t.Fatalf("GL driver loaded while in the tray: %q", libs)
		}
		time.Sleep(time.Second)
	}

	t.Logf("in the tray: %s", vmRSS(t, pid))

	// "Open Plex Warden" opens the window.
	clickMenu(t, conn, sender, "Open Plex Warden")
	find := exec.CommandContext(ctx, "xdotool", "search", "--sync", "--onlyvisible", "--name", "^Plex Warden$")
	if out, err := find.CombinedOutput(); err != nil {
		t.Fatalf("the window did not open from the tray: %v %s", err, out)
	}
	time.Sleep(2 * time.Second)
	t.Logf("window open: %s", vmRSS(t, pid))

	// Quit from the tray ends it cleanly.
	clickMenu(t, conn, sender, "Quit")
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("exit after Quit: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("the app did not exit within 10s of Quit")
	}
}

// vmRSS is the VmRSS line of process pid.
func vmRSS(t *testing.T, pid string) string {
	t.Helper()
	status, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			return strings.Join(strings.Fields(line), " ")
		}
	}
	return "VmRSS unknown"
}

// glLibraries lists the GL driver files (Mesa's dri drivers, libgallium,
// libLLVM) that process pid has mapped.
func glLibraries(t *testing.T, pid string) []string {
	t.Helper()
	maps, err := os.ReadFile("/proc/" + pid + "/maps")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var libs []string
	for _, line := range strings.Split(string(maps), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 {
			continue
		}
		if name := f[5]; !seen[name] && (strings.Contains(name, "/dri/") || strings.Contains(name, "libgallium") || strings.Contains(name, "libLLVM")) {
			seen[name] = true
			libs = append(libs, name)
		}
	}
	return libs
}

// clickMenu clicks the tray menu item labelled label, as a tray host does
// (com.canonical.dbusmenu.Event "clicked").
func clickMenu(t *testing.T, conn *dbus.Conn, sender, label string) {
	t.Helper()
	id, ok := menuItemID(t, conn, sender, label)
	if !ok {
		t.Fatalf("no tray menu item %q in %q", label, menuLabels(t, conn, sender))
	}
	obj := conn.Object(sender, "/StatusNotifierItem/menu")
	if err := obj.Call("com.canonical.dbusmenu.Event", 0, id, "clicked", dbus.MakeVariant(""), uint32(time.Now().Unix())).Err; err != nil {
		t.Fatalf("clicking %q: %v", label, err)
	}
}

// menuItem is one labelled item of the tray's exported dbusmenu.
type menuItem struct {
	id    int32
	label string
}

// menuItems reads the tray item's dbusmenu layout: its labelled items,
// submenus included, in order.
func menuItems(conn *dbus.Conn, sender string) ([]menuItem, error) {
	var revision uint32
	var layout struct {
		ID       int32
		Props    map[string]dbus.Variant
		Children []dbus.Variant
	}
	obj := conn.Object(sender, "/StatusNotifierItem/menu")
	if err := obj.Call("com.canonical.dbusmenu.GetLayout", 0, int32(0), int32(-1), []string{}).Store(&revision, &layout); err != nil {
		return nil, fmt.Errorf("GetLayout: %w", err)
	}
	var items []menuItem
	var walk func([]dbus.Variant)
	walk = func(children []dbus.Variant) {
		for _, c := range children {
			fields, ok := c.Value().([]any)
			if !ok || len(fields) != 3 {
				continue
			}
			if props, ok := fields[1].(map[string]dbus.Variant); ok {
				if l, ok := props["label"]; ok {
					id, _ := fields[0].(int32)
					items = append(items, menuItem{id: id, label: fmt.Sprint(l.Value())})
				}
			}
			if kids, ok := fields[2].([]dbus.Variant); ok {
				walk(kids)
			}
		}
	}
	walk(layout.Children)
	return items, nil
}

// menuItemID finds the dbusmenu id of the item labelled label.
func menuItemID(t *testing.T, conn *dbus.Conn, sender, label string) (int32, bool) {
	t.Helper()
	items, err := menuItems(conn, sender)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if it.label == label {
			return it.id, true
		}
	}
	return 0, false
}

// menuLabels lists the labels of the tray item's menu (none, logged, when
// it cannot be read).
func menuLabels(t *testing.T, conn *dbus.Conn, sender string) []string {
	t.Helper()
	items, err := menuItems(conn, sender)
	if err != nil {
		t.Log(err)
		return nil
	}
	labels := make([]string, len(items))
	for i, it := range items {
		labels[i] = it.label
	}
	return labels
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
