//go:build linux || freebsd || openbsd || netbsd

package ui

import (
	"context"
	"sync"
	"sync/atomic"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/systray"
)

// systrayHost is the trayHost of the real desktop app on Linux and the
// BSDs: it drives the system tray through fyne.io/systray directly instead
// of through desktop.App. Fyne 2.8.1's SetSystemTrayMenu and SetSystemTrayWindow
// create a hidden 9×9 "SystrayMonitor" window with a GL context at once
// (internal/driver/glfw/driver_desktop.go, runSystray), only to learn when
// the session asks the app to quit. That context loads the GL driver
// (Mesa's llvmpipe: about 70 MB) into an app that sits in the tray with no
// window shown. Without it, nothing creates a native window or a GL
// context until the user opens the main window (Fyne creates a window's
// native window on its first Show). SIGTERM and SIGINT still quit (cli.Run
// and Fyne both catch them).
//
// There the tray is a StatusNotifierItem and a dbusmenu on the session
// D-Bus: no GL, no window and no thread of its own. (On Windows and macOS
// the tray is a native window or status item that lives in Fyne's event
// loop on the main thread; there the app keeps Fyne's own tray, see
// trayhost_desktop.go.) The calls follow the order Fyne uses:
// newSystrayHost on the main goroutine before fyne.App.Run, run from
// Lifecycle OnStarted, end when the app quits.
//
// This makes the UI the owner of the process-wide systray: nothing may call
// desktop.App's SetSystemTrayMenu, SetSystemTrayIcon or SetSystemTrayWindow
// any more (that would start Fyne's tray too: a second registration and
// the GL window again).
//
// Its methods run on the UI goroutine, except end (see there).
type systrayHost struct {
	ctx         context.Context // ends the click goroutines
	start, stop func()
	running     bool        // run was called
	ended       atomic.Bool // end was called (Quit on the UI goroutine, or Stop)
	endOnce     sync.Once
	ready       bool // systray's onReady came: the tray shows what is set
	menu        *fyne.Menu
	icon        fyne.Resource
}

// newTrayHost returns the tray the UI drives: fyne.io/systray directly;
// the desktop.App is not asked for its tray.
func (u *UI) newTrayHost(desktop.App) trayHost {
	u.systray = newSystrayHost(u.ctx, u.showWindow) // left click shows the window
	return u.systray
}

// newSystrayHost registers the tray; tapped runs (on the UI goroutine) on a
// left click on the icon, where the platform reports one.
func newSystrayHost(ctx context.Context, tapped func()) *systrayHost {
	h := &systrayHost{ctx: ctx}
	h.start, h.stop = systray.RunWithExternalLoop(func() { fyne.Do(h.becomeReady) }, nil)
	systray.SetOnTapped(func() { fyne.Do(tapped) })
	return h
}

// run starts the tray (exports it on D-Bus on Linux). Call it once the app
// runs, on the main thread.
func (h *systrayHost) run() {
	if h.running {
		return
	}
	h.running = true
	h.start()
}

// end takes the tray down (Linux: closes the session bus connection it
// shares, as Fyne's own tray does at quit). Once is enough; later calls do
// nothing. It may run off the UI goroutine (Stop), after the loop ended.
func (h *systrayHost) end() {
	h.endOnce.Do(func() {
		h.ended.Store(true)
		if h.running {
			h.stop()
		}
	})
}

// becomeReady shows what was set before the tray was ready: a menu built
// before then is not exported (Fyne refreshes its tray here for the same
// reason).
func (h *systrayHost) becomeReady() {
	if h.ended.Load() {
		return
	}
	h.ready = true
	if h.icon != nil {
		h.SetSystemTrayIcon(h.icon)
	}
	if h.menu != nil {
		h.SetSystemTrayMenu(h.menu)
	}
}

// SetSystemTrayMenu replaces the tray menu (a full rebuild, as Fyne's).
func (h *systrayHost) SetSystemTrayMenu(m *fyne.Menu) {
	h.menu = m
	if !h.ready || h.ended.Load() {
		return
	}
	systray.ResetMenu() // closes the old items' ClickedCh: their goroutines end
	h.addItems(m.Items, nil)
}

// addItems adds items under parent (nil: the top level). An item with an
// action gets a goroutine that waits for its clicks (systray drops a click
// nobody waits for) until the item is removed or the UI stops.
func (h *systrayHost) addItems(items []*fyne.MenuItem, parent *systray.MenuItem) {
	for _, mi := range items {
		if mi.IsSeparator {
			if parent != nil {
				parent.AddSeparator()
			} else {
				systray.AddSeparator()
			}
			continue
		}
		var it *systray.MenuItem
		// The rules switch is a check box, ticked or not, so that it reads
		// as a switch (dbusmenu's toggle-type "checkmark").
		box := mi.Checked || mi.Label == trayPauseLabel
		switch {
		case parent == nil && box:
			it = systray.AddMenuItemCheckbox(mi.Label, "", mi.Checked)
		case parent == nil:
			it = systray.AddMenuItem(mi.Label, "")
		case box:
			it = parent.AddSubMenuItemCheckbox(mi.Label, "", mi.Checked)
		default:
			it = parent.AddSubMenuItem(mi.Label, "")
		}
		if mi.Disabled {
			it.Disable()
		}
		if mi.ChildMenu != nil {
			h.addItems(mi.ChildMenu.Items, it)
		}
		if fn := mi.Action; fn != nil {
			go h.clicks(it.ClickedCh, fn)
		}
	}
}

// clicks runs fn on the UI goroutine for every click on an item.
func (h *systrayHost) clicks(ch <-chan struct{}, fn func()) {
	for {
		select {
		case <-h.ctx.Done():
			return
		case _, ok := <-ch:
			if !ok {
				return // the item was removed
			}
			fyne.Do(fn)
		}
	}
}

// SetSystemTrayIcon sets the tray icon (a PNG resource).
func (h *systrayHost) SetSystemTrayIcon(r fyne.Resource) {
	h.icon = r
	if h.ended.Load() {
		return
	}
	systray.SetIcon(r.Content()) // a StatusNotifierItem takes PNG
}
