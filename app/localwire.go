package app

import (
	"context"
	"errors"
	"time"

	"github.com/plexwarden/plexwarden/app/local"
)

// errNoLocalServer: no connected Plex server runs on this computer.
var errNoLocalServer = errors.New("no connected Plex Media Server on this computer")

// KillLocal ends a local transcoder process: SIGTERM, a short wait, then
// SIGKILL (TerminateProcess on Windows). Only transcoders are killed.
func (c *Controller) KillLocal(ctx context.Context, id local.ProcID) (local.KillResult, error) {
	return local.Kill(ctx, id, local.KillOptions{})
}

// KillLocalMatching is KillLocal for processes named as m says.
func (c *Controller) KillLocalMatching(ctx context.Context, id local.ProcID, m local.Matcher) (local.KillResult, error) {
	return local.Kill(ctx, id, local.KillOptions{Matcher: m})
}

// LocalLive links local transcoders to the sessions of the servers running
// on this computer, from the hub's latest snapshots (no extra requests).
// Sessions of remote servers are left out: their keys would make every
// local process look orphaned.
func (c *Controller) LocalLive() local.LiveSource {
	return local.LiveFunc(func(context.Context) (*local.Live, error) {
		st := c.hub.State()
		live := &local.Live{}
		found := false
		for _, sn := range st.Servers {
			// The demo server is on loopback but runs no transcoders.
			if sn.Demo || !local.IsLocalServer(sn.URL) || sn.Conn.Status != Connected {
				continue
			}
			found = true
			for _, s := range sn.Sessions {
				live.Sessions = append(live.Sessions, local.Session{
					Server: s.Server, SessionKey: s.SessionKey, ID: s.ID, User: s.User, Title: s.Title,
					Player: s.Player.Title, Product: s.Player.Product, State: s.State, TranscodeKey: s.TranscodeKey,
				})
				if s.TranscodeKey != "" {
					live.Transcodes = append(live.Transcodes, local.LiveTranscode{Key: s.TranscodeKey, Context: "streaming"})
				}
			}
		}
		if !found {
			// Unknown, not orphaned: never let a missing link look like death.
			return nil, errNoLocalServer
		}
		return live, nil
	})
}

// NewLocalScanner returns the scanner of this computer's transcoders
// (m: which process names count; the zero Matcher means the defaults),
// linked to local servers' sessions; onScan receives every scan.
func (c *Controller) NewLocalScanner(m local.Matcher, onScan func(*local.Scan)) *local.Scanner {
	return local.NewScanner(local.Options{Matcher: m, Live: c.LocalLive(), OnScan: onScan, Fast: 2 * time.Second})
}
