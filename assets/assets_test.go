package assets

import (
	"bytes"
	"image/png"
	"testing"
)

func TestIcons(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		size int
	}{
		{"AppIcon", AppIcon, 512},
		{"TrayIdle", TrayIdle, 64},
		{"TrayPlaying", TrayPlaying, 64},
		{"TrayTranscoding", TrayTranscoding, 64},
		{"TrayProblem", TrayProblem, 64},
	}
	seen := map[string]string{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := png.DecodeConfig(bytes.NewReader(tt.data))
			if err != nil {
				t.Fatalf("%s is not a PNG: %v", tt.name, err)
			}
			if cfg.Width != tt.size || cfg.Height != tt.size {
				t.Errorf("%s is %dx%d, want %dx%d", tt.name, cfg.Width, cfg.Height, tt.size, tt.size)
			}
			if other, ok := seen[string(tt.data)]; ok {
				t.Errorf("%s is identical to %s", tt.name, other)
			}
			seen[string(tt.data)] = tt.name
		})
	}
	if !bytes.HasPrefix(bytes.TrimSpace(AppIconSVG), []byte("<svg")) {
		t.Errorf("AppIconSVG does not start with <svg")
	}
}
