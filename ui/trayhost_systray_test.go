//go:build linux

package ui

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"github.com/godbus/dbus/v5"
)

// TestSystrayHostOverDBus drives the real tray (fyne.io/systray, exported
// on the session bus as a StatusNotifierItem with a dbusmenu) and clicks
// its items as a tray host does: a session's submenu actions and the rules
// switch reach the UI with the right session key, and a menu rebuilt
// without a session no longer offers it. systray is a process-wide
// singleton: this is the only test that starts it.
func TestSystrayHostOverDBus(t *testing.T) {
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		t.Skip("no session bus (run under dbus-run-session)")
	}
	test.NewTempApp(t)               // fyne.Do runs the clicks synchronously
	shared, err := dbus.SessionBus() // the connection systray exports on
	if err != nil {
		t.Skipf("session bus unusable: %v", err)
	}
	sender := shared.Names()[0]
	conn, err := dbus.ConnectSessionBus() // the tray host's side
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var acted []trayItem
	act := func(it trayItem) {
		mu.Lock()
		defer mu.Unlock()
		acted = append(acted, it)
	}
	h := newSystrayHost(ctx, func() {})
	defer h.end()
	st := fixedState()
	h.SetSystemTrayMenu(fyneMenu(trayMenu(st, false), act)) // before the tray is ready: shown once it is
	h.SetSystemTrayIcon(trayIcons[iconPlaying])
	h.run()

	menu := conn.Object(sender, "/StatusNotifierItem/menu")
	var items map[string]int32
	deadline := time.Now().Add(10 * time.Second)
	for {
		items = dbusMenuItems(t, menu)
		if _, ok := items["Open Plex Warden"]; ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("tray menu = %v, want it to have 'Open Plex Warden'", items)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// The rules switch is a check box while the rules run, not ticked.
	_, props := dbusMenuLayout(t, menu)
	if box, ticked := checkbox(props[trayPauseLabel]); !box || ticked {
		t.Errorf("%q: check box %v, ticked %v; want an unticked check box", trayPauseLabel, box, ticked)
	}

	carol := st.Servers[0].Sessions()[1]
	cases := []struct {
		label string
		want  trayItem
	}{
		{traySessionLabel(&carol, false) + "/Stop transcode", trayItem{Label: "Stop transcode", Action: trayStopTranscode, Key: carol.Key()}},
		{traySessionLabel(&carol, false) + "/Terminate…", trayItem{Label: "Terminate…", Action: trayTerminate, Key: carol.Key()}},
		{"Pause automatic rules", trayItem{Label: "Pause automatic rules", Action: trayToggleRules}},
		{"Quit", trayItem{Label: "Quit", Action: trayQuit}},
	}
	for _, c := range cases {
		id, ok := items[c.label]
		if !ok {
			t.Fatalf("no item %q in the tray menu %v", c.label, items)
		}
		mu.Lock()
		acted = nil
		mu.Unlock()
		if err := menu.Call("com.canonical.dbusmenu.Event", 0, id, "clicked", dbus.MakeVariant(""), uint32(0)).Err; err != nil {
			t.Fatalf("clicking %q: %v", c.label, err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			mu.Lock()
			got := append([]trayItem(nil), acted...)
			mu.Unlock()
			if len(got) > 0 {
				if len(got) != 1 || got[0].Label != c.want.Label || got[0].Action != c.want.Action || got[0].Key != c.want.Key {
					t.Errorf("clicking %q ran %+v, want %+v", c.label, got, c.want)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("clicking %q ran nothing", c.label)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	// The menu rebuilt without carol's session no longer offers it.
	setSessions(st, 0, sessionsOf(st, 0)[:1]...)
	h.SetSystemTrayMenu(fyneMenu(trayMenu(st, true), act))
	items = dbusMenuItems(t, menu)
	if _, ok := items[traySessionLabel(&carol, false)]; ok {
		t.Errorf("carol's session is still in the rebuilt menu %v", items)
	}
	if _, ok := items["Open Plex Warden"]; !ok {
		t.Errorf("rebuilt menu %v lacks 'Open Plex Warden'", items)
	}
	_, props = dbusMenuLayout(t, menu)
	if box, ticked := checkbox(props[trayPauseLabel]); !box || !ticked {
		t.Errorf("%q while paused: check box %v, ticked %v; want a ticked check box", trayPauseLabel, box, ticked)
	}
}

// dbusMenuItems reads the dbusmenu layout: item ids by label, a submenu's
// items as "parent label/child label". It asks twice: systray answers the
// first request after a rebuild with the top level only (for
// libdbusmenu-gtk3's sake).
func dbusMenuItems(t *testing.T, menu dbus.BusObject) map[string]int32 {
	t.Helper()
	items, _ := dbusMenuLayout(t, menu)
	return items
}

// dbusMenuLayout is dbusMenuItems with each item's properties by label.
func dbusMenuLayout(t *testing.T, menu dbus.BusObject) (map[string]int32, map[string]map[string]dbus.Variant) {
	t.Helper()
	var revision uint32
	var layout struct {
		ID       int32
		Props    map[string]dbus.Variant
		Children []dbus.Variant
	}
	for range 2 {
		if err := menu.Call("com.canonical.dbusmenu.GetLayout", 0, int32(0), int32(-1), []string{}).Store(&revision, &layout); err != nil {
			t.Fatalf("GetLayout: %v", err)
		}
	}
	items := map[string]int32{}
	propsOf := map[string]map[string]dbus.Variant{}
	var walk func(prefix string, children []dbus.Variant)
	walk = func(prefix string, children []dbus.Variant) {
		for _, c := range children {
			fields, ok := c.Value().([]any)
			if !ok || len(fields) != 3 {
				continue
			}
			id, _ := fields[0].(int32)
			label := ""
			if props, ok := fields[1].(map[string]dbus.Variant); ok {
				if l, ok := props["label"]; ok {
					label = prefix + fmt.Sprint(l.Value())
					items[label] = id
					propsOf[label] = props
				}
			}
			if kids, ok := fields[2].([]dbus.Variant); ok {
				walk(label+"/", kids)
			}
		}
	}
	walk("", layout.Children)
	return items, propsOf
}

// checkbox reads an item's dbusmenu check box: whether it has one and
// whether it is ticked.
func checkbox(props map[string]dbus.Variant) (box, ticked bool) {
	tt, _ := props["toggle-type"].Value().(string)
	ts, _ := props["toggle-state"].Value().(int32)
	return tt == "checkmark", ts == 1
}
