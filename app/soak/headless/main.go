// Command headless is Plex Warden's command line built without the
// desktop app (no Fyne, no GL): cli.Main with no GUI. `make measure` runs
// its `watch` beside the real binary's to show how much of the real
// binary's memory is the linked-in desktop app rather than the monitoring
// itself (docs/BENCHMARKS.md). It is a measuring aid, not a product.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/plexwarden/plexwarden/app/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, cli.Env{Args: os.Args[1:], Stdout: os.Stdout, Stderr: os.Stderr, Version: "headless"})
	stop()
	os.Exit(code)
}
