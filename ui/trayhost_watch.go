package ui

import (
	"context"
	"time"

	"fyne.io/fyne/v2"
)

// WatchTrayHost handles a tray host that appears after Plex Warden started:
// desktop sessions often start their panel after autostarted apps. While
// no host was found it asks avail every interval, for at most limit; once a
// host answers, the "no system tray" notice goes and closing the window
// hides it to the tray again. It returns at once when a host was found at
// start, and when ctx ends.
func (u *UI) WatchTrayHost(ctx context.Context, avail func() bool, interval, limit time.Duration) {
	if u.opts.TrayHost {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if avail() {
			fyne.Do(u.trayHostAppeared)
			return
		}
	}
}

// trayHostAppeared switches to tray behaviour (UI goroutine).
func (u *UI) trayHostAppeared() {
	u.opts.TrayHost = true
	u.setCloseBehaviour()
	if u.top != nil && len(u.top.Objects) > 1 {
		u.top.Objects = u.top.Objects[:1] // keep the demo banner, drop the notice
		u.top.Refresh()
		u.win.Content().Refresh()
	}
}
