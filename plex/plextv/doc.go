// Package plextv talks to plex.tv: the PIN sign-in ("Sign in with Plex"
// without pasting a token), validating an account token, discovering the
// account's servers through /api/v2/resources, and choosing the best way to
// reach each of them by probing every advertised connection's /identity.
//
// It imports nothing from Fyne; the desktop window and the command line
// (plexwarden login) drive it the same way:
//
//	c := &plextv.Client{Info: info} // info.ID: the one persisted client identifier
//	pin, err := c.CreatePIN(ctx)
//	open(c.AuthURL(pin))
//	token, err := c.PollPIN(ctx, pin, 0)
//	servers, err := c.Resources(ctx, token)
//	best, err := plextv.Probe(ctx, servers[0], plextv.ProbeOptions{Info: info})
//
// Tokens travel only in the X-Plex-Token header, never in a URL, and no
// error text of this package contains one (docs/plex-api.md §2).
//
// The simulated plex.tv used by tests lives in the plextvsim subpackage.
package plextv
