//go:build !headless

// Command plexwarden watches Plex Media Servers from the system tray and
// stops the streams an admin does not want. main only wires the parts
// together: the command line (app/cli), the domain (app), and the desktop
// UI (ui) on a Fyne app. Built with -tags headless, main_headless.go
// replaces this file: the same command line without the desktop app.
package main

import (
	"context"
	"log/slog"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/app/alert"
	"github.com/plexwarden/plexwarden/app/cli"
	"github.com/plexwarden/plexwarden/app/desktop"
	"github.com/plexwarden/plexwarden/assets"
	"github.com/plexwarden/plexwarden/ui"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// appID is the reverse-DNS id: preferences, notifications, .desktop entry.
const appID = "io.github.plexwarden.plexwarden"

func main() { cli.Run(version, runGUI) }

// runGUI starts the desktop app: tray, window and notifications over the
// controller's monitors. It returns when the user quits or ctx ends.
func runGUI(ctx context.Context, opts cli.GUIOptions) error {
	if os.Getenv("GOGC") == "" {
		// The desktop app keeps about 20 MB live (most of it the fonts
		// Fyne parses to measure text) and allocates little while it sits
		// in the tray, so collecting at 1.5× the live heap instead of 2×
		// saves about 8 MB for a collection every few seconds at most
		// (docs/BENCHMARKS.md, "Memory, CPU and start-up").
		debug.SetGCPercent(50)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	d, err := desktop.New(desktop.Options{Controller: app.ControllerOptions{Version: version, Demo: opts.Demo}, Log: log})
	if err != nil {
		return err
	}
	a := fyneapp.NewWithID(appID)
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.AppIcon))
	u := ui.New(a, d.Ctrl, ui.Options{Demo: d.Ctrl.WillDemo(), Version: version, TrayHost: ui.TrayHostAvailable(),
		Local: d, Diag: d.Diag, SignIn: d.Ctrl, Rules: d, History: d, Thumbs: d.Ctrl, Alerts: d})

	signals := ctx // ends on Ctrl-C or SIGTERM (cli.Run)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// stopped closes once the app is stopping (Quit from the tray, or the
	// end of a.Run): calling a.Quit after that panics in GLFW ("The GLFW
	// library is not initialized"), as it did under Wine.
	stopped := make(chan struct{})
	var stopOnce sync.Once
	markStopped := func() { stopOnce.Do(func() { close(stopped) }) }
	a.Lifecycle().SetOnStarted(u.Start)
	a.Lifecycle().SetOnStopped(func() {
		markStopped()
		cancel()
		u.Stop()
	})
	popups := ui.FynePopups(a) // Windows, macOS; Linux without a session bus
	if p, err := alert.NewPopups(alert.PopupOptions{DesktopEntry: appID, OnAction: u.PopupAction}); err == nil {
		popups = p
	}
	err = d.Start(ctx, desktop.Sinks{State: u.Post, Local: u.PostLocal, Diag: u.PostDiag, Popups: popups})
	if err != nil {
		log.Error("starting monitors", "err", err)
	}
	go u.WatchTrayHost(ctx, ui.TrayHostAvailable, 2*time.Second, 2*time.Minute)
	go func() { // Ctrl-C or SIGTERM ends the app like Quit
		select {
		case <-signals.Done():
			fyne.Do(func() {
				select {
				case <-stopped: // already stopping: nothing left to quit
				default:
					u.Quit() // the tray first, then the app
				}
			})
		case <-stopped:
		}
	}()
	a.Run()
	markStopped()
	cancel()
	d.Wait()
	return nil
}
