package plex

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Sentinel errors. Every error from Client wraps one of them, so callers use
// errors.Is; the Error type carries the operation and HTTP status.
var (
	ErrUnauthorized     = errors.New("token rejected")
	ErrPlexPassRequired = errors.New("terminating needs Plex Pass")
	ErrForbidden        = errors.New("not allowed for this account")
	ErrNotFound         = errors.New("not found")
	ErrUnreachable      = errors.New("server unreachable")
	ErrTimeout          = errors.New("server did not answer in time")
	ErrServer           = errors.New("server error")
	ErrBadRequest       = errors.New("request refused")
	ErrTooLarge         = errors.New("answer too large")
	ErrRateLimited      = errors.New("the server asked to slow down")
	ErrUntrustedCert    = errors.New("the server's certificate is not trusted")
)

// UntrustedCertHint says how to trust a server's certificate, in the
// desktop app and on the command line.
const UntrustedCertHint = "trust it with the server's CA file, or turn on \"Allow insecure TLS\" for the server in Settings; " +
	"on the command line use --ca-file FILE (or PLEX_CA_FILE) or --insecure"

// certError reports whether err is a failed certificate check, and its
// cause in words.
func certError(err error) (string, bool) {
	var (
		ua  x509.UnknownAuthorityError
		he  x509.HostnameError
		ci  x509.CertificateInvalidError
		cve *tls.CertificateVerificationError
	)
	switch {
	case errors.As(err, &ua):
		return "signed by an unknown authority (self-signed or a private CA)", true
	case errors.As(err, &he):
		return "issued for another name: " + he.Error(), true
	case errors.As(err, &ci):
		return ci.Error(), true
	case errors.As(err, &cve):
		return cve.Err.Error(), true
	}
	return "", false
}

// Error is a failed call to a Plex server. Its text never contains the token:
// the token travels only in a header and URLs are printed without queries.
type Error struct {
	Op     string // "sessions", "terminate", …
	Server string // scheme://host:port
	Status int    // HTTP status, 0 when no answer
	Err    error  // one of the sentinels above
	Detail string // underlying cause in words, token-free
	// RetryAfter is the server's Retry-After on a 429 or 503 answer, 0
	// when it gave none.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("%s on %s: %v", e.Op, e.Server, e.Err)
	if e.Status != 0 {
		msg += fmt.Sprintf(" (HTTP %d)", e.Status)
	}
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// Unwrap returns the sentinel.
func (e *Error) Unwrap() error { return e.Err }

// statusError maps an HTTP status to a sentinel.
func statusError(status int) error {
	switch {
	case status == 401:
		return ErrUnauthorized
	case status == 403:
		return ErrForbidden
	case status == 404:
		return ErrNotFound
	case status == 429:
		return ErrRateLimited
	case status >= 500:
		return ErrServer
	default:
		return ErrBadRequest
	}
}

// Peer says whose round trip failed, for the words of TransportError.
type Peer int

// The peers Plex Warden talks to.
const (
	PeerServer Peer = iota // a Plex Media Server
	PeerPlexTV             // plex.tv (sign-in, discovery)
	PeerOther              // another service (an alert channel's server)
)

// TransportError maps a failed round trip to a sentinel with a token-free
// detail; package plex and package plextv share it. url.Error texts carry the
// URL; ours never has a token in it, but the detail is rebuilt from the inner
// error anyway.
func TransportError(ctx context.Context, err error, peer Peer) (detail string, sentinel error) {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var re *RedirectError
	if errors.As(err, &re) {
		return re.Error(), ErrRedirectRefused
	}
	if why, ok := certError(err); ok {
		switch peer {
		case PeerPlexTV:
			return "plex.tv's certificate is not trusted (a proxy intercepting HTTPS?): " + err.Error(), ErrUntrustedCert
		case PeerOther:
			return "its certificate is not trusted: " + why, ErrUntrustedCert
		}
		return why + "; " + UntrustedCertHint, ErrUntrustedCert
	}
	switch {
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		return "cancelled", context.Canceled
	case errors.Is(err, context.DeadlineExceeded), isTimeout(err):
		return "no answer before the deadline", ErrTimeout
	case errors.Is(err, syscall.ECONNREFUSED) && peer != PeerServer:
		return "connection refused", ErrUnreachable
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused (is Plex Media Server running at this address?)", ErrUnreachable
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return "unknown host " + dnsErr.Name, ErrUnreachable
	}
	return err.Error(), ErrUnreachable
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// maxRetryAfter bounds a Retry-After we accept at all; the caller's own
// backoff cap bounds it further.
const maxRetryAfter = time.Hour

// parseRetryAfter reads the Retry-After header of a 429 or 503 answer
// (delay seconds or an HTTP date) as a duration from now; 0 when there is
// none, it is unreadable, in the past, or the status is another.
func parseRetryAfter(resp *http.Response, now time.Time) time.Duration {
	if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable {
		return 0
	}
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		d = time.Duration(min(secs, int64(maxRetryAfter/time.Second))) * time.Second
	} else if at, err := http.ParseTime(v); err == nil {
		d = at.Sub(now)
	}
	return max(0, min(d, maxRetryAfter))
}

// IsCertError reports whether err is a failed certificate check.
func IsCertError(err error) bool {
	_, ok := certError(err)
	return ok
}
