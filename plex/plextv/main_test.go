package plextv_test

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/plexwarden/plexwarden/plex"
	"github.com/plexwarden/plexwarden/plex/plexsim"
	"github.com/plexwarden/plexwarden/plex/plextv"
	"github.com/plexwarden/plexwarden/plex/plextv/plextvsim"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testInfo is the client identity every test signs in with.
var testInfo = plex.ClientInfo{ID: "6f1c2a44-8d1e-4a7b-9c3e-warden-test", Product: plex.DefaultProduct, Version: "0.0.1", DeviceName: "test box"}

// testCtx bounds a test.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// startTV starts a simulated plex.tv on loopback.
func startTV(t *testing.T, opts plextvsim.Options) *plextvsim.Server {
	t.Helper()
	sim := plextvsim.New(opts)
	if err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	return sim
}

// startPMS starts a simulated Plex Media Server with machineIdentifier id.
func startPMS(t *testing.T, id string) *plexsim.Server {
	t.Helper()
	sim := plexsim.New(plexsim.Options{MachineID: id, FriendlyName: id})
	if err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	return sim
}

// newClient returns a plex.tv client for sim with its own transport, closed
// at the end of the test so no keep-alive connection outlives it.
func newClient(t *testing.T, sim *plextvsim.Server) *plextv.Client {
	t.Helper()
	return &plextv.Client{BaseURL: sim.URL(), Info: testInfo, HTTPClient: loopbackClient(t), Timeout: 5 * time.Second}
}

// loopbackClient returns an HTTP client that sends every connection to
// 127.0.0.1 (keeping the port), so addresses such as
// https://10-0-0-9.<hash>.plex.direct:PORT stay on this machine.
func loopbackClient(t *testing.T) *http.Client {
	t.Helper()
	d := &net.Dialer{Timeout: 2 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			_, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			return d.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
		},
		TLSHandshakeTimeout: 2 * time.Second,
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	return port
}

// hangingServer accepts connections and never answers; it returns its port.
func hangingServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	conns := make(chan net.Conn, 64)
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			select {
			case conns <- c:
			default:
				c.Close()
			}
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		close(conns)
		for c := range conns {
			c.Close()
		}
	})
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}
