package plextv_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/plex"
	"github.com/plexwarden/plexwarden/plex/plexsim"
	"github.com/plexwarden/plexwarden/plex/plextv"
)

// identityCalls counts the /identity probes a simulated server answered.
func identityCalls(s *plexsim.Server) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Path == "/identity" {
			n++
		}
	}
	return n
}

// probeRig is a server "home-1" reachable in several ways, plus an
// impostor and dead addresses.
type probeRig struct {
	conns   map[string]plextv.Connection
	servers map[string]*plexsim.Server
}

func newProbeRig(t *testing.T) *probeRig {
	t.Helper()
	r := &probeRig{conns: map[string]plextv.Connection{}, servers: map[string]*plexsim.Server{}}
	add := func(name, machineID string, c plextv.Connection) {
		s := startPMS(t, machineID)
		r.servers[name] = s
		c.URI = s.URL()
		c.Protocol = "http"
		r.conns[name] = c
	}
	add("local", "home-1", plextv.Connection{Local: true})
	add("impostor", "someone-else", plextv.Connection{Local: true}) // a reused LAN address
	add("remote", "home-1", plextv.Connection{})
	add("relay", "home-1", plextv.Connection{Relay: true})
	r.conns["dead local"] = plextv.Connection{Protocol: "http", URI: "http://127.0.0.1:" + closedPort(t), Local: true}
	// An HTTPS plex.direct address nobody answers on; the test dialer sends it to 127.0.0.1.
	r.conns["dead direct"] = plextv.Connection{Protocol: "https", URI: "https://10-0-0-9.0123abcd.plex.direct:" + closedPort(t)}
	r.conns["hanging"] = plextv.Connection{Protocol: "http", URI: "http://127.0.0.1:" + hangingServer(t)}
	return r
}

func (r *probeRig) resource(owned bool, names ...string) plextv.Resource {
	res := plextv.Resource{Name: "Home", ClientIdentifier: "home-1", Provides: "server", Owned: owned}
	for _, n := range names {
		res.Connections = append(res.Connections, r.conns[n])
	}
	return res
}

// nameOf returns the rig name of a connection.
func (r *probeRig) nameOf(c plextv.Connection) string {
	for n, rc := range r.conns {
		if rc.URI == c.URI {
			return n
		}
	}
	return c.URI
}

func TestProbe(t *testing.T) {
	tests := []struct {
		name      string
		owned     bool
		conns     []string
		want      string // rig name of the chosen connection; "" = none answers
		wantWrong bool   // the failure mentions a different server
		unprobed  string // a server that must not be asked
	}{
		{"local first", true, []string{"relay", "dead direct", "remote", "impostor", "local"}, "local", false, ""},
		{"wrong machineIdentifier is rejected", true, []string{"impostor", "relay"}, "relay", false, ""},
		{"remote before relay", true, []string{"relay", "dead local", "remote"}, "remote", false, ""},
		{"relay only when nothing else answers", true, []string{"relay", "dead local", "dead direct"}, "relay", false, ""},
		{"shared server: local skipped", false, []string{"local", "remote"}, "remote", false, "local"},
		{"nothing answers", true, []string{"dead local", "dead direct"}, "", false, ""},
		{"only a different server answers", true, []string{"impostor", "dead direct"}, "", true, ""},
		{"shared server with only local connections", false, []string{"local"}, "", false, "local"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rig := newProbeRig(t)
			res := rig.resource(tt.owned, tt.conns...)
			got, err := plextv.Probe(testCtx(t), res, plextv.ProbeOptions{Info: testInfo, HTTPClient: loopbackClient(t), Timeout: 2 * time.Second})
			if tt.want != "" {
				if err != nil || rig.nameOf(got) != tt.want {
					t.Fatalf("Probe = %s, %v; want %s", rig.nameOf(got), err, tt.want)
				}
			} else {
				var pe *plextv.ProbeError
				if !errors.As(err, &pe) || !errors.Is(err, plex.ErrUnreachable) {
					t.Fatalf("Probe = %s, %v; want a *ProbeError wrapping ErrUnreachable", rig.nameOf(got), err)
				}
				if errors.Is(err, plextv.ErrWrongServer) != tt.wantWrong {
					t.Errorf("errors.Is(%v, ErrWrongServer) = %v, want %v", err, !tt.wantWrong, tt.wantWrong)
				}
				if !strings.Contains(err.Error(), "Home") {
					t.Errorf("error %q does not name the server", err)
				}
			}
			if tt.unprobed != "" {
				if n := identityCalls(rig.servers[tt.unprobed]); n != 0 {
					t.Errorf("%s was probed %d times; local connections of a shared server must be skipped", tt.unprobed, n)
				}
			}
		})
	}
}

func TestProbeAllReportsEachConnection(t *testing.T) {
	rig := newProbeRig(t)
	res := rig.resource(true, "relay", "hanging", "impostor", "local", "dead direct")
	results := plextv.ProbeAll(testCtx(t), res, plextv.ProbeOptions{Info: testInfo, HTTPClient: loopbackClient(t), Timeout: 300 * time.Millisecond})
	want := []struct {
		name string
		err  error
	}{
		{"impostor", plextv.ErrWrongServer}, // local http, in plex.tv's order
		{"local", nil},
		{"dead direct", plex.ErrUnreachable},
		{"hanging", plex.ErrTimeout},
		{"relay", nil},
	}
	if len(results) != len(want) {
		t.Fatalf("ProbeAll returned %d results, want %d", len(results), len(want))
	}
	for i, w := range want {
		r := results[i]
		if got := rig.nameOf(r.Connection); got != w.name {
			t.Errorf("result %d is %s, want %s", i, got, w.name)
		}
		if w.err == nil && r.Err != nil || w.err != nil && !errors.Is(r.Err, w.err) {
			t.Errorf("%s: error %v, want %v", w.name, r.Err, w.err)
		}
	}
}

func TestProbeDoesNotWaitForWorseConnections(t *testing.T) {
	rig := newProbeRig(t)
	res := rig.resource(true, "hanging", "relay", "local")
	start := time.Now()
	got, err := plextv.Probe(testCtx(t), res, plextv.ProbeOptions{Info: testInfo, HTTPClient: loopbackClient(t), Timeout: 10 * time.Second})
	if err != nil || rig.nameOf(got) != "local" {
		t.Fatalf("Probe = %s, %v; want local", rig.nameOf(got), err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Probe took %v; it should not wait for a hanging remote once the local one answered", d)
	}
}

func TestProbeServers(t *testing.T) {
	rig := newProbeRig(t)
	other := startPMS(t, "cabin-1")
	servers := []plextv.Resource{
		rig.resource(true, "relay", "local"),
		{Name: "Cabin", ClientIdentifier: "cabin-1", Provides: "server", Owned: true,
			Connections: []plextv.Connection{{Protocol: "http", URI: other.URL()}}},
		rig.resource(true, "dead local"),
	}
	got := plextv.ProbeServers(testCtx(t), servers, plextv.ProbeOptions{Info: testInfo, HTTPClient: loopbackClient(t)})
	if len(got) != 3 || got[0].Err != nil || rig.nameOf(got[0].Connection) != "local" ||
		got[1].Err != nil || got[1].Connection.URI != other.URL() || got[1].Resource.Name != "Cabin" || got[2].Err == nil {
		t.Errorf("ProbeServers = %+v", got)
	}
}
