// Command traywatch is a stand-in tray host for `make measure`. It owns
// org.kde.StatusNotifierWatcher (so Plex Warden sees a tray host and keeps
// its window hidden) and org.freedesktop.Notifications on the session bus,
// starts the given command, and reports how long the command took from
// exec to registering its tray item:
//
//	traywatch [-once] [-timeout 30s] -- ./plexwarden
//
// It prints "pid N" once the command runs and "tray_ready_ms X" when the
// item registers. With -once it then stops the command (SIGTERM) and
// exits; otherwise it keeps the command running until SIGINT or SIGTERM,
// then stops it. It exits 1 if the item does not register in time.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/godbus/dbus/v5"
)

// watcher is the StatusNotifierWatcher side of the tray protocol.
type watcher struct{ registered chan string }

// RegisterStatusNotifierItem is what the app calls when its tray is ready.
func (w *watcher) RegisterStatusNotifierItem(sender dbus.Sender, path string) *dbus.Error {
	select {
	case w.registered <- string(sender) + " " + path:
	default:
	}
	return nil
}

// notifications swallows desktop notifications like a notification daemon.
type notifications struct{ n atomic.Uint32 }

// Notify accepts a notification.
func (n *notifications) Notify(app string, replaces uint32, icon, summary, body string, actions []string,
	hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	return n.n.Add(1), nil
}

// CloseNotification accepts a close request.
func (n *notifications) CloseNotification(id uint32) *dbus.Error { return nil }

// GetCapabilities lists what the fake daemon shows.
func (n *notifications) GetCapabilities() ([]string, *dbus.Error) { return []string{"body"}, nil }

// GetServerInformation names the fake daemon.
func (n *notifications) GetServerInformation() (string, string, string, string, *dbus.Error) {
	return "traywatch", "plexwarden", "1", "1.2", nil
}

func main() {
	once := flag.Bool("once", false, "stop the command as soon as its tray item registers")
	timeout := flag.Duration("timeout", 30*time.Second, "how long to wait for the tray item")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: traywatch [-once] [-timeout 30s] -- COMMAND [ARGS...]")
		os.Exit(2)
	}
	os.Exit(run(flag.Args(), *once, *timeout))
}

func run(args []string, once bool, timeout time.Duration) int {
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		fmt.Fprintln(os.Stderr, "traywatch: no session bus (run under .ci/with-session):", err)
		return 1
	}
	defer conn.Close()
	w := &watcher{registered: make(chan string, 1)}
	exports := []struct {
		v          any
		path, name string
	}{
		{w, "/StatusNotifierWatcher", "org.kde.StatusNotifierWatcher"},
		{&notifications{}, "/org/freedesktop/Notifications", "org.freedesktop.Notifications"},
	}
	for _, e := range exports {
		if err := conn.Export(e.v, dbus.ObjectPath(e.path), e.name); err != nil {
			fmt.Fprintln(os.Stderr, "traywatch:", err)
			return 1
		}
		if reply, err := conn.RequestName(e.name, dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
			fmt.Fprintf(os.Stderr, "traywatch: cannot own %s (%v, reply %v)\n", e.name, err, reply)
			return 1
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "traywatch:", err)
		return 1
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	fmt.Printf("pid %d\n", cmd.Process.Pid)

	code := 0
	select {
	case <-w.registered:
		fmt.Printf("tray_ready_ms %.1f\n", float64(time.Since(start).Microseconds())/1000)
		if !once {
			select {
			case <-ctx.Done():
			case err := <-exited:
				fmt.Fprintln(os.Stderr, "traywatch: the command exited:", err)
				return 1
			}
		}
	case <-time.After(timeout):
		fmt.Fprintf(os.Stderr, "traywatch: no tray item registered within %s\n", timeout)
		code = 1
	case err := <-exited:
		fmt.Fprintln(os.Stderr, "traywatch: the command exited before registering:", err)
		return 1
	case <-ctx.Done():
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
		fmt.Fprintln(os.Stderr, "traywatch: the command ignored SIGTERM for 10s; killed")
		code = 1
	}
	return code
}
