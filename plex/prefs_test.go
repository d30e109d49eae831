package plex_test

import (
	"context"
	"testing"

	"github.com/plexwarden/plexwarden/plex"
	"github.com/plexwarden/plexwarden/plex/plexsim"
)

func TestDecodePrefs(t *testing.T) {
	tests := []struct {
		name, body string
		want       map[string]string
	}{
		{"json, mixed value types", `{"MediaContainer":{"size":3,"Setting":[{"id":"TranscoderTempDirectory","value":"/dev/shm"},{"id":"TranscoderThrottleBuffer","value":60},{"id":"HardwareAcceleratedCodecs","value":true}]}}`,
			map[string]string{"TranscoderTempDirectory": "/dev/shm", "TranscoderThrottleBuffer": "60", "HardwareAcceleratedCodecs": "true"}},
		{"xml", `<?xml version="1.0"?><MediaContainer size="1"><Setting id="TranscoderTempDirectory" value="/transcode" type="text"/></MediaContainer>`,
			map[string]string{"TranscoderTempDirectory": "/transcode"}},
		{"empty", ``, map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := plex.DecodePrefs([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			m := map[string]string{}
			for _, s := range got {
				m[s.ID] = string(s.Value)
			}
			if len(m) != len(tt.want) {
				t.Errorf("settings = %v, want %v", m, tt.want)
			}
			for k, v := range tt.want {
				if m[k] != v {
					t.Errorf("%s = %q, want %q", k, m[k], v)
				}
			}
		})
	}
}

func TestTranscoderTempDir(t *testing.T) {
	sim := plexsim.New(plexsim.Options{Token: "tok"})
	if err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	c, err := plex.NewClient(sim.URL(), "tok", plex.ClientInfo{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.HTTPClient().CloseIdleConnections()
	for _, want := range []string{"", "/dev/shm/plex"} {
		sim.SetTranscoderTempDir(want)
		if got, err := c.TranscoderTempDir(context.Background()); err != nil || got != want {
			t.Errorf("TranscoderTempDir = %q, %v; want %q", got, err, want)
		}
	}
}
