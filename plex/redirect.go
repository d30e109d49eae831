package plex

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// ErrRedirectRefused is the sentinel of a redirect that was not followed
// because it leads to another scheme, host or port than the request's.
var ErrRedirectRefused = errors.New("redirect refused")

// maxRedirects bounds a chain of same-origin redirects (net/http's own
// default is 10 too).
const maxRedirects = 10

// RedirectError is a redirect the policy refused. Its text names the target
// (without a query) and says the token was not sent there.
type RedirectError struct {
	From string // scheme://host:port of the original request
	To   string // the refused target, scheme://host:port/path
}

// Error names the target and why it was refused.
func (e *RedirectError) Error() string {
	why := "another host or port"
	if strings.HasPrefix(e.From, "https:") && strings.HasPrefix(e.To, "http:") {
		why = "from https to plain http"
	}
	return fmt.Sprintf("the server redirected to %s (%s); not followed, the token was not sent there", e.To, why)
}

// Unwrap returns ErrRedirectRefused.
func (e *RedirectError) Unwrap() error { return ErrRedirectRefused }

// CheckRedirect is the one redirect policy of every HTTP client of Plex
// Warden (server, event stream, plex.tv, probes): a redirect is followed
// only to the same scheme, host and port as the original request, where
// the X-Plex-Token header may go; anything else, an https → http downgrade
// included, is refused with a *RedirectError. net/http strips only
// Authorization and Cookie on a cross-host redirect, not X-Plex-Token.
func CheckRedirect(req *http.Request, via []*http.Request) error {
	if len(via) == 0 {
		return nil
	}
	orig := via[0].URL
	if !sameOrigin(orig, req.URL) {
		return &RedirectError{From: origin(orig), To: origin(req.URL) + req.URL.EscapedPath()}
	}
	if len(via) >= maxRedirects {
		return fmt.Errorf("stopped after %d redirects", maxRedirects)
	}
	return nil
}

// SafeHTTPClient returns a shallow copy of h (nil: a plain client) that
// follows redirects by CheckRedirect. The copy shares h's transport, so
// connections and TLS settings are the same.
func SafeHTTPClient(h *http.Client) *http.Client {
	if h == nil {
		h = &http.Client{}
	}
	c := *h
	c.CheckRedirect = CheckRedirect
	return &c
}

func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}

func origin(u *url.URL) string {
	return strings.ToLower(u.Scheme) + "://" + u.Host
}
