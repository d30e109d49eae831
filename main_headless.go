//go:build headless

// The headless build (make build-headless: CGO_ENABLED=0 go build -tags
// headless) is the command line of main.go without the desktop app, for
// servers with no desktop: no Fyne, and no GL, X11 or Wayland library is
// linked or loaded, so `watch` needs about half the memory
// (docs/BENCHMARKS.md). Started with no command, or with `demo`, it says
// that it has no desktop app.

package main

import "github.com/plexwarden/plexwarden/app/cli"

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() { cli.Run(version, nil) } // no desktop app in this build
