//go:build headless

// The headless build (make build-headless: CGO_ENABLED=0 go build -tags
// headless) is the command line of main.go without the desktop app, for
// servers with no desktop: no Fyne, and no GL, X11 or Wayland library is
// linked or loaded, so `watch` needs about half the memory
// (docs/BENCHMARKS.md). Started with no command, or with `demo`, it says
// that it has no desktop app.

package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/plexwarden/plexwarden/app/cli"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, cli.Env{
		Args:    os.Args[1:],
		Stdout:  os.Stdout,
		Stderr:  os.Stderr,
		Version: version,
		GUI:     nil, // no desktop app in this build
	})
	stop()
	os.Exit(code)
}
