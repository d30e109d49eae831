package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/plexwarden/plexwarden/plex"
	"github.com/plexwarden/plexwarden/plex/plextv"
)

// SignInError is a failed sign-in in plain words for the window; errors.Is
// and errors.As still see the cause.
type SignInError struct {
	Text string // a sentence, e.g. "Could not reach plex.tv — check this computer's internet connection."
	Err  error
}

func (e *SignInError) Error() string { return e.Text }

// Unwrap returns the cause.
func (e *SignInError) Unwrap() error { return e.Err }

// PlexTVProblem words a failed call to plex.tv for someone who does not
// care which call it was. Cancellation and an expired PIN pass unchanged.
func PlexTVProblem(err error) error {
	var text string
	switch {
	case err == nil, errors.Is(err, context.Canceled), errors.Is(err, plextv.ErrPINExpired):
		return err
	case errors.Is(err, plex.ErrUntrustedCert):
		text = "Could not connect to plex.tv securely: its certificate is not trusted on this computer (a proxy or security software may be intercepting connections)."
	case errors.Is(err, plex.ErrUnreachable), errors.Is(err, plex.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		text = "Could not reach plex.tv — check this computer's internet connection."
	case errors.Is(err, plex.ErrRateLimited):
		text = "plex.tv asked to slow down — wait a minute, then try again."
	case errors.Is(err, plex.ErrServer):
		text = "plex.tv is having trouble right now — try again in a few minutes."
	case errors.Is(err, plex.ErrUnauthorized):
		text = "plex.tv did not accept the sign-in — try again."
	default:
		text = "plex.tv gave an answer Plex Warden did not understand — try again in a few minutes."
	}
	return &SignInError{Text: text, Err: err}
}

// serverProblem words why a server found at sign-in could not be added.
func serverProblem(err error) string {
	switch {
	case errors.Is(err, plex.ErrUntrustedCert):
		return "its certificate is not trusted"
	case errors.Is(err, plex.ErrUnauthorized):
		return "it refused the token plex.tv gave"
	case errors.Is(err, ErrKeyringUnavailable):
		return "the keyring is not available"
	case errors.Is(err, plex.ErrTimeout):
		return "it did not answer in time"
	case errors.Is(err, plex.ErrUnreachable):
		return "none of its addresses answered from this computer"
	}
	return "it gave an unexpected answer"
}

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
		return nil, PlexTVProblem(err)
	}
	showURL(tv.AuthURL(pin), pin.Code)
	token, err := tv.PollPIN(ctx, pin, 0)
	if err != nil {
		return nil, PlexTVProblem(err)
	}
	all, err := tv.Resources(ctx, token)
	if err != nil {
		return nil, PlexTVProblem(err)
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
	var errs []error // the causes behind failed
	for _, p := range plextv.ProbeServers(ctx, owned, plextv.ProbeOptions{Info: c.ClientInfo()}) {
		if p.Err != nil {
			failed = append(failed, fmt.Sprintf("%s (%s)", p.Resource.Name, serverProblem(p.Err)))
			errs = append(errs, p.Err)
			continue
		}
		name, err := c.AddServer(ctx, NewServer{URL: p.Connection.URI, Token: p.Resource.AccessToken, Connections: ConnectionsOf(p.Resource)})
		switch {
		case errors.Is(err, ErrKeyringUnavailable):
			keyErr = err
			added = append(added, name)
		case err != nil:
			failed = append(failed, fmt.Sprintf("%s (%s)", p.Resource.Name, serverProblem(err)))
			errs = append(errs, err)
		default:
			added = append(added, name)
		}
	}
	if len(added) == 0 {
		return nil, &SignInError{Text: "None of your servers could be added: " + strings.Join(failed, "; ") + ".", Err: errors.Join(errs...)}
	}
	if keyErr != nil {
		return added, keyErr
	}
	if len(failed) > 0 {
		return added, &SignInError{Text: strings.Join(failed, "; ") + ".", Err: errors.Join(errs...)}
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
