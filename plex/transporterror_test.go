package plex

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
)

// TestTransportErrorPeers checks the one mapping package plex and package
// plextv share: the sentinel and the words for each peer.
func TestTransportErrorPeers(t *testing.T) {
	refused := &url.Error{Op: "Get", URL: "http://127.0.0.1:1/x", Err: &net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}
	cert := &url.Error{Op: "Get", URL: "https://127.0.0.1:1/x", Err: x509.UnknownAuthorityError{}}
	dns := &url.Error{Op: "Get", URL: "http://nowhere.invalid/x", Err: &net.DNSError{Name: "nowhere.invalid", Err: "no such host"}}
	for _, tc := range []struct {
		name       string
		err        error
		peer       Peer
		want       error
		wantDetail string
	}{
		{"refused server", refused, PeerServer, ErrUnreachable, "is Plex Media Server running"},
		{"refused plex.tv", refused, PeerPlexTV, ErrUnreachable, "connection refused"},
		{"cert server", cert, PeerServer, ErrUntrustedCert, "Allow insecure TLS"},
		{"cert plex.tv", cert, PeerPlexTV, ErrUntrustedCert, "proxy intercepting HTTPS"},
		{"refused other", refused, PeerOther, ErrUnreachable, "connection refused"},
		{"cert other", cert, PeerOther, ErrUntrustedCert, "its certificate is not trusted: signed by an unknown authority"},
		{"dns", dns, PeerServer, ErrUnreachable, "unknown host nowhere.invalid"},
		{"deadline", context.DeadlineExceeded, PeerPlexTV, ErrTimeout, "no answer before the deadline"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			detail, got := TransportError(context.Background(), tc.err, tc.peer)
			if !errors.Is(got, tc.want) {
				t.Errorf("sentinel = %v, want %v", got, tc.want)
			}
			if !strings.Contains(detail, tc.wantDetail) {
				t.Errorf("detail = %q, want it to contain %q", detail, tc.wantDetail)
			}
			if tc.peer != PeerServer && strings.Contains(detail, "Plex Media Server") {
				t.Errorf("detail = %q names Plex Media Server for plex.tv", detail)
			}
		})
	}
}
