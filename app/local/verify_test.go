package local

import (
	"strings"
	"testing"
)

func TestVerify(t *testing.T) {
	progress := []string{"-progressurl", "http://127.0.0.1:32400/video/:/transcode/session/abc123/" + "6ba7b810-9dad-11d1-80b4-00c04fd430c8/progress"}
	tests := []struct {
		name string
		kind Kind
		ev   Evidence
		want string // "" accepted, else a part of the reason
	}{
		{"Plex: key in the arguments", KindPlex, Evidence{Args: progress}, ""},
		{"Plex: session folder", KindPlex, Evidence{Cwd: "/var/lib/plexmediaserver/Library/Application Support/Plex Media Server/Cache/Transcode/Sessions/plex-transcode-abc-uuid"}, ""},
		{"Plex: program under the Linux install", KindPlex, Evidence{Exe: "/usr/lib/plexmediaserver/Plex Transcoder"}, ""},
		{"Plex: program under the Windows install", KindPlex, Evidence{Exe: `C:\Program Files\Plex\Plex Media Server\Plex Transcoder.exe`}, ""},
		{"Plex: parent is Plex Media Server (comm cut)", KindPlex, Evidence{Parent: "Plex Media Serv"}, ""},
		{"Plex: name only", KindPlex, Evidence{Args: []string{"-c", "sleep 600"}, Cwd: "/tmp", Exe: "/tmp/x/Plex Transcoder", Parent: "bash"}, "it has only the name"},
		{"Plex: nothing readable", KindPlex, Evidence{}, "parent is not Plex Media Server"},
		{"ffmpeg with an input", KindFFmpeg, Evidence{Args: []string{"-i", "udp://x", "-f", "hls", "o.m3u8"}}, ""},
		{"ffmpeg without input", KindFFmpeg, Evidence{Args: []string{"600"}}, "no input (-i)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Verify(tt.kind, tt.ev)
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("Verify = %q, want %q", got, tt.want)
			}
		})
	}
}
