package local

import (
	"path/filepath"
	"testing"
)

// realArgs is trimmed from a Plex Transcoder command line of a 2021+ build
// (KUBEPLEX5, docs/plex-api.md §7).
var realArgs = []string{
	"/usr/lib/plexmediaserver/Plex Transcoder", "-codec:0", "h264", "-codec:1", "aac",
	"-analyzeduration", "20000000", "-probesize", "20000000",
	"-i", "/data/movies/Night Harbor (2019)/Night Harbor.mkv",
	"-map", "0:0", "-codec:0", "libx264", "-crf:0", "21", "-maxrate:0", "4000k",
	"-f", "dash", "-seg_duration", "1", "-dash_segment_type", "mp4",
	"-init_seg_name", "init-stream$RepresentationID$.m4s",
	"-media_seg_name", "chunk-stream$RepresentationID$-$Number%05d$.m4s",
	"-manifest_name", "http://127.0.0.1:32400/video/:/transcode/session/x1y2z3/6ba7b810-9dad-11d1-80b4-00c04fd430c8/manifest",
	"-avoid_negative_ts", "disabled", "dash",
	"-start_at_zero", "-copyts", "-y", "-nostats", "-loglevel", "quiet", "-loglevel_plex", "error",
	"-progressurl", "http://127.0.0.1:32400/video/:/transcode/session/k7xj2m9p/8f3c1e2a-1111-2222-3333-444455556666/progress",
}

func TestKeyFromArgs(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		key    string
		uuid   string
		source KeySource
	}{
		{"progressurl preferred over an earlier manifest", realArgs, "k7xj2m9p", "8f3c1e2a-1111-2222-3333-444455556666", KeySourceProgressURL},
		{"2016 layout without uuid", []string{"x", "-progressurl", "http://127.0.0.1:32400/video/:/transcode/session/abc123/progress"}, "abc123", "", KeySourceProgressURL},
		{"manifest only", []string{"x", "-manifest_name", "http://h/video/:/transcode/session/m1/u1/manifest"}, "m1", "u1", KeySourceArgs},
		{"inside a longer value", []string{"ffmpeg", "-metadata", "title=http://127.0.0.1:9/video/:/transcode/session/abc/def/progress", "out.m3u8"}, "abc", "def", KeySourceArgs},
		{"plural sessions is an API path, not a marker", []string{"x", "http://h/transcode/sessions/abc/"}, "", "", ""},
		{"no marker", []string{"Plex Transcoder", "-i", "/a.mkv", "-f", "image2", "thumb.jpg"}, "", "", ""},
		{"progressurl without marker falls through", []string{"x", "-progressurl", "http://h/other", "-manifest_name", "/transcode/session/q/r/manifest"}, "q", "r", KeySourceArgs},
		{"empty", nil, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, uuid, src := KeyFromArgs(tt.args)
			if key != tt.key || uuid != tt.uuid || src != tt.source {
				t.Errorf("KeyFromArgs = %q, %q, %q; want %q, %q, %q", key, uuid, src, tt.key, tt.uuid, tt.source)
			}
		})
	}
}

func TestKeyFromDir(t *testing.T) {
	tests := []struct {
		dir  string
		want string
	}{
		{"/var/lib/plexmediaserver/Library/Application Support/Plex Media Server/Cache/Transcode/Sessions/plex-transcode-k7xj2m9p-8f3c1e2a-1111-2222-3333-444455556666", "k7xj2m9p"},
		{"/transcode/Transcode/Sessions/plex-transcode-abc-def", "abc"},
		{"/transcode/Transcode/Sessions/plex-transcode-a-b-c-6ba7b810-9dad-11d1-80b4-00c04fd430c8", "a-b-c"},
		{"/t/Sessions/plex-transcode-k1-6ba7b810-9dad-11d1-80b4-00c04fd430c8/sub", "k1"},
		{`C:\Users\plex\AppData\Local\Plex Media Server\Cache\Transcode\Sessions\plex-transcode-w1-6ba7b810-9dad-11d1-80b4-00c04fd430c8`, "w1"},
		{"/var/lib/plexmediaserver/Cache/PlexCreditsDetection/xyz", ""},
		{"", ""},
		{"/tmp/plex-transcode-", ""},
	}
	for _, tt := range tests {
		if got := KeyFromDir(tt.dir); got != tt.want {
			t.Errorf("KeyFromDir(%q) = %q, want %q", tt.dir, got, tt.want)
		}
	}
}

func TestBackgroundLabel(t *testing.T) {
	tests := []struct {
		name string
		args []string
		cwd  string
		want string
	}{
		{"credits by cwd", []string{"Plex Transcoder", "-i", "/m.mkv"}, "/var/lib/plexmediaserver/Library/Application Support/Plex Media Server/Cache/PlexCreditsDetection/abc", "credits detection"},
		{"intro via chromaprint", []string{"Plex Transcoder", "-i", "/m.mkv", "-f", "chromaprint", "-"}, "", "intro detection"},
		{"loudness", []string{"Plex Transcoder", "-i", "/a.flac", "-filter_complex", "ebur128=peak=true", "-f", "null", "-"}, "", "loudness analysis"},
		{"chapter thumbnails", []string{"Plex Transcoder", "-i", "/m.mkv", "-f", "image2", "/Media/localhost/x/Chapters/chapter1.jpg"}, "", "chapter images"},
		{"preview thumbnails", []string{"Plex Transcoder", "-i", "/m.mkv", "-f", "image2", "img-%06d.jpg"}, "/tmp/Media/localhost/a/b.bundle/Contents/Indexes", "thumbnails"},
		{"unknown", []string{"Plex Transcoder", "-i", "/m.mkv"}, "/tmp", "background job"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := BackgroundLabel(tt.args, tt.cwd); got != tt.want {
				t.Errorf("BackgroundLabel(%q, %q) = %q, want %q", tt.args, tt.cwd, got, tt.want)
			}
		})
	}
}

func TestOutputTarget(t *testing.T) {
	tests := []struct {
		name     string
		kind     Kind
		args     []string
		cwd      string
		wantDir  string
		wantFile string
	}{
		{"plex writes into its cwd", KindPlex, realArgs, "/t/plex-transcode-k-u", "/t/plex-transcode-k-u", ""},
		{"plex without cwd", KindPlex, realArgs, "", "", ""},
		{"hls absolute", KindFFmpeg, []string{"ffmpeg", "-i", "x", "-f", "hls", "/out/live/index.m3u8"}, "/home", "/out/live", ""},
		{"hls relative", KindFFmpeg, []string{"ffmpeg", "-i", "x", "-f", "hls", "index.m3u8"}, "/w", "/w", ""},
		{"relative without cwd", KindFFmpeg, []string{"ffmpeg", "-i", "x", "index.m3u8"}, "", "", ""},
		{"segment filename wins", KindFFmpeg, []string{"ffmpeg", "-i", "x", "-hls_segment_filename", "/seg/s%03d.ts", "/pl/index.m3u8"}, "", "/seg", ""},
		{"segment pattern", KindFFmpeg, []string{"ffmpeg", "-i", "x", "-f", "segment", "/s/out%03d.ts"}, "", "/s", ""},
		{"single file", KindFFmpeg, []string{"ffmpeg", "-i", "x", "/o/movie.mp4"}, "", "/o", "/o/movie.mp4"},
		{"pipe", KindFFmpeg, []string{"ffmpeg", "-i", "x", "-f", "mpegts", "pipe:1"}, "/w", "", ""},
		{"stdout", KindFFmpeg, []string{"ffmpeg", "-i", "x", "-f", "mpegts", "-"}, "/w", "", ""},
		{"udp", KindFFmpeg, []string{"ffmpeg", "-i", "x", "-f", "mpegts", "udp://239.0.0.1:1234"}, "/w", "", ""},
		{"no output", KindFFmpeg, []string{"ffmpeg", "-i", "x"}, "/w", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, file := OutputTarget(tt.kind, tt.args, tt.cwd)
			if dir != filepath.FromSlash(tt.wantDir) || file != filepath.FromSlash(tt.wantFile) {
				t.Errorf("OutputTarget = %q, %q; want %q, %q", dir, file, tt.wantDir, tt.wantFile)
			}
		})
	}
}

func TestInputAndRedact(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"http://127.0.0.1:32400/livetv/x?X-Plex-Token=s3cr3t&a=1", "http://127.0.0.1:32400/livetv/x?X-Plex-Token=REDACTED&a=1"},
		{"http://h/stream?token=abc", "http://h/stream?token=REDACTED"},
		{"http://h/get.php?username=u&password=p", "http://h/get.php?username=u&password=REDACTED"},
		{"/data/movie.mkv", "/data/movie.mkv"},
	}
	for _, tt := range tests {
		if got := Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got, want := InputOf(realArgs), "/data/movies/Night Harbor (2019)/Night Harbor.mkv"; got != want {
		t.Errorf("InputOf = %q, want %q", got, want)
	}
	if got := InputOf([]string{"ffmpeg", "-i"}); got != "" {
		t.Errorf("InputOf(dangling -i) = %q, want empty", got)
	}
}
