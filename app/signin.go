package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/plexwarden/plexwarden/plex/plextv"
)

// PlexTVURL is the plex.tv base URL sign-in uses; tests point it at a
// simulated plex.tv.
var PlexTVURL = ""

// ErrNoOwnedServers means the account owns no server Plex Warden can manage.
var ErrNoOwnedServers = errors.New("this Plex account owns no Plex Media Server (terminating streams needs the owner's account)")

// SignIn runs the plex.tv PIN sign-in: it creates a PIN with our persisted
// client identifier, hands the browser URL to showURL, waits until the
// user approves it (or the PIN expires, plextv.ErrPINExpired), then finds
// the account's owned servers, probes their connections (local first,
// relay last) and adds every reachable one with its own access token. It
// returns the names added. A keyring failure does not stop it: the servers
// run for this session and the error (wrapping ErrKeyringUnavailable) says so.
func (c *Controller) SignIn(ctx context.Context, showURL func(authURL, code string)) ([]string, error) {
	tv := &plextv.Client{BaseURL: PlexTVURL, Info: c.ClientInfo()}
	pin, err := tv.CreatePIN(ctx)
	if err != nil {
		return nil, fmt.Errorf("starting the sign-in at plex.tv: %w", err)
	}
	showURL(tv.AuthURL(pin), pin.Code)
	token, err := tv.PollPIN(ctx, pin, 0)
	if err != nil {
		return nil, err
	}
	all, err := tv.Resources(ctx, token)
	if err != nil {
		return nil, fmt.Errorf("listing your servers at plex.tv: %w", err)
	}
	var owned []plextv.Resource
	for _, r := range plextv.Servers(all) {
		if r.Owned {
			owned = append(owned, r)
		}
	}
	if len(owned) == 0 {
		return nil, ErrNoOwnedServers
	}
	var added, failed []string
	var keyErr error
	for _, p := range plextv.ProbeServers(ctx, owned, plextv.ProbeOptions{Info: c.ClientInfo()}) {
		if p.Err != nil {
			failed = append(failed, fmt.Sprintf("%s (%v)", p.Resource.Name, p.Err))
			continue
		}
		name, err := c.AddServer(ctx, NewServer{URL: p.Connection.URI, Token: p.Resource.AccessToken, Connections: ConnectionsOf(p.Resource)})
		switch {
		case errors.Is(err, ErrKeyringUnavailable):
			keyErr = err
			added = append(added, name)
		case err != nil:
			failed = append(failed, fmt.Sprintf("%s (%v)", p.Resource.Name, err))
		default:
			added = append(added, name)
		}
	}
	if len(added) == 0 {
		return nil, fmt.Errorf("none of your servers answered: %s", strings.Join(failed, "; "))
	}
	if keyErr != nil {
		return added, keyErr
	}
	if len(failed) > 0 {
		return added, fmt.Errorf("not reachable from here: %s", strings.Join(failed, "; "))
	}
	return added, nil
}

// ConnectionsOf returns the addresses of res worth keeping for a later
// re-probe (plextv.Candidates: most preferred first; others' LAN addresses
// and plain HTTP to a secure-only server left out).
func ConnectionsOf(res plextv.Resource) []ServerConnection {
	var out []ServerConnection
	for _, c := range plextv.Candidates(res) {
		out = append(out, ServerConnection{URI: c.URI, Local: c.Local, Relay: c.Relay})
	}
	return out
}
