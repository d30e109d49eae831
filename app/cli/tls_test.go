package cli

import (
	"encoding/pem"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plexwarden/plexwarden/plex/plexsim"
)

// TestUntrustedCertificate runs sessions against the simulator behind TLS
// with a certificate no system trusts: without help the error says the
// certificate is not trusted and how to trust it (not "check the
// address"); --ca-file, PLEX_CA_FILE and --insecure each make it work.
func TestUntrustedCertificate(t *testing.T) {
	sim := plexsim.New(plexsim.Options{Token: "tok"})
	srv := httptest.NewTLSServer(sim.Handler())
	defer srv.Close()
	defer sim.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(ca, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"PLEX_URL": srv.URL, "PLEX_TOKEN": "tok"}
	withCA := map[string]string{"PLEX_URL": srv.URL, "PLEX_TOKEN": "tok", "PLEX_CA_FILE": ca}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
		want []string
	}{
		{"untrusted", env, []string{"sessions"}, 1, []string{"certificate is not trusted", "--ca-file FILE", "PLEX_CA_FILE", "--insecure", "Allow insecure TLS"}},
		{"--ca-file", env, []string{"sessions", "--ca-file", ca}, 0, []string{"Nothing is playing"}},
		{"PLEX_CA_FILE", withCA, []string{"sessions"}, 0, []string{"Nothing is playing"}},
		{"--insecure", env, []string{"sessions", "--insecure"}, 0, []string{"Nothing is playing"}},
		{"--ca-file that is not PEM", env, []string{"sessions", "--ca-file", os.Args[0]}, 1, []string{"holds no PEM certificate"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, e := run(t, tt.env, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr %q", code, tt.code, e)
			}
			for _, w := range tt.want {
				if !strings.Contains(out+e, w) {
					t.Errorf("output %q lacks %q", out+e, w)
				}
			}
			if strings.Contains(e, "check the address") {
				t.Errorf("stderr %q blames the address", e)
			}
		})
	}
}
