package local_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/plexwarden/plexwarden/app/local"
	"github.com/plexwarden/plexwarden/plex"
)

// Example wires the pieces the way the desktop app does: a Scanner linked
// to a Plex server on this computer publishes scans, a Policy turns them
// into findings, and findings are carried out with Kill or through Plex.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	client, err := plex.NewClient("http://127.0.0.1:32400", "TOKEN", plex.ClientInfo{})
	if err != nil {
		log.Fatal(err)
	}
	policy := local.NewPolicy(local.PolicyConfig{
		Orphan: local.OrphanRule{Enabled: true, After: 30 * time.Second},
		Idle:   local.IdleRule{Enabled: true, After: 5 * time.Minute},
	}, nil)

	scanner := local.NewScanner(local.Options{
		Live: local.ClientSource{API: client, Server: "home"},
		OnScan: func(scan *local.Scan) {
			fmt.Println(scan.Summary()) // tray tooltip: count and total CPU
			for _, f := range policy.Evaluate(scan) {
				if f.DryRun {
					continue
				}
				// (The app carries findings out off the scan goroutine.)
				switch f.Action {
				case local.ActionKill:
					res, err := local.Kill(ctx, f.Proc, local.KillOptions{})
					fmt.Println(f.Reason, res.Text(), err)
				case local.ActionStopTranscode:
					fmt.Println(f.Reason, client.StopTranscode(ctx, f.Key))
				}
			}
		},
	})
	_ = scanner.Run(ctx)
}
