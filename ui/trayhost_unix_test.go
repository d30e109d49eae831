//go:build linux || freebsd || openbsd || netbsd

package ui

import (
	"os"
	"testing"

	"github.com/godbus/dbus/v5"
)

func TestTrayHostAvailable(t *testing.T) {
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		t.Skip("no session bus (run under dbus-run-session)")
	}
	// A private connection plays the StatusNotifierWatcher of a desktop.
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		t.Skipf("session bus unusable: %v", err)
	}
	defer conn.Close()
	if TrayHostAvailable() {
		t.Skip("a real StatusNotifierWatcher is running on this bus")
	}
	reply, err := conn.RequestName("org.kde.StatusNotifierWatcher", dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("RequestName = %v, %v", reply, err)
	}
	if !TrayHostAvailable() {
		t.Error("TrayHostAvailable() = false while org.kde.StatusNotifierWatcher has an owner")
	}
	if _, err := conn.ReleaseName("org.kde.StatusNotifierWatcher"); err != nil {
		t.Fatal(err)
	}
	if TrayHostAvailable() {
		t.Error("TrayHostAvailable() = true after the watcher left")
	}
}
