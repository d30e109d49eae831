package app

import (
	"net"
	"net/http"
	"time"
)

// ConnTimeouts bound the set-up of a connection to a Plex Media Server, so
// an address that swallows packets (black-holed: no answer, no refusal)
// fails about as soon as a refused one instead of hanging for the
// system's TCP timeouts. A call's own deadline and the event stream's
// silence watchdog bound what comes after.
type ConnTimeouts struct {
	Dial           time.Duration // TCP connect
	TLSHandshake   time.Duration // TLS handshake, on https addresses
	ResponseHeader time.Duration // request sent until the response headers
}

// ConnSetup is what HTTPClientFor uses; tests shorten it.
var ConnSetup = ConnTimeouts{Dial: 5 * time.Second, TLSHandshake: 5 * time.Second, ResponseHeader: 10 * time.Second}

// apply sets the bounds on tr (a clone of http.DefaultTransport).
func (c ConnTimeouts) apply(tr *http.Transport) {
	d := &net.Dialer{Timeout: c.Dial, KeepAlive: 30 * time.Second}
	tr.DialContext = d.DialContext
	tr.TLSHandshakeTimeout = c.TLSHandshake
	tr.ResponseHeaderTimeout = c.ResponseHeader
}
