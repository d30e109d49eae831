package local

import (
	"reflect"
	"testing"
)

func TestMatcherMatch(t *testing.T) {
	custom := Matcher{Plex: []string{"Plex Transcoder"}, FFmpeg: []string{"ffmpeg*", "tvh-*"}}
	none := Matcher{FFmpeg: []string{}}
	tests := []struct {
		name    string
		m       Matcher
		process string
		want    Kind
		wantOK  bool
	}{
		{"linux plex", Matcher{}, "Plex Transcoder", KindPlex, true},
		{"windows plex", Matcher{}, "Plex Transcoder.exe", KindPlex, true},
		{"case", Matcher{}, "plex transcoder", KindPlex, true},
		{"old build", Matcher{}, "Plex New Transcoder", KindPlex, true},
		{"old build cut to 15 chars", Matcher{}, "Plex New Transc", KindPlex, true},
		{"ffmpeg", Matcher{}, "ffmpeg", KindFFmpeg, true},
		{"ffmpeg.exe", Matcher{}, "ffmpeg.exe", KindFFmpeg, true},
		{"ffprobe is not a transcoder", Matcher{}, "ffprobe", "", false},
		{"media server", Matcher{}, "Plex Media Server", "", false},
		{"sleep", Matcher{}, "sleep", "", false},
		{"empty", Matcher{}, "", "", false},
		{"glob", custom, "ffmpeg-static", KindFFmpeg, true},
		{"second glob", custom, "tvh-transcode", KindFFmpeg, true},
		{"no ffmpeg wanted", none, "ffmpeg", "", false},
		{"plex still matched", none, "Plex Transcoder", KindPlex, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.m.Match(tt.process)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("Match(%q) = %q, %v; want %q, %v", tt.process, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestParseNames(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"ffmpeg", []string{"ffmpeg"}},
		{" ffmpeg , ffmpeg-* ,, ", []string{"ffmpeg", "ffmpeg-*"}},
		{"", []string{}},
	}
	for _, tt := range tests {
		if got := ParseNames(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseNames(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMatcherNames(t *testing.T) {
	got := Matcher{}.Names()
	want := []string{"Plex Transcoder", "Plex New Transcoder", "ffmpeg"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Names() = %q, want %q", got, want)
	}
}
