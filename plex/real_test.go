package plex

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readReal returns a published real payload from testdata/real (see its
// SOURCES.md), with Home Assistant's placeholders filled in.
func readReal(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "real", name))
	if err != nil {
		t.Fatal(err)
	}
	return []byte(strings.NewReplacer("{user_id}", "1", "{name}", "Owner", "{machine_identifier}", "abc").Replace(string(b)))
}

// TestRealSessionsClassify checks, on /status/sessions answers published
// from real servers, that the source is read from what names it (the
// stream's displayTitle, TranscodeSession.source*) and never from the
// Media that describe the transcoder's output.
func TestRealSessionsClassify(t *testing.T) {
	tests := []struct {
		file                       string
		decision                   Decision
		videoTC, audioOnly         bool
		srcRes, srcVideo, srcAudio string
		dstRes, dstVideo, dstAudio string
		location                   string
		hw                         string
	}{
		{file: "plexopedia-sessions-transcode.xml", decision: Transcode, videoTC: true,
			srcRes: "720p", srcVideo: "hevc", srcAudio: "ac3", dstRes: "720p", dstVideo: "h264", dstAudio: "aac", location: "lan", hw: "HW encode"},
		{file: "appliance-pms1.43-sessions-hw-transcode.json", decision: Transcode, videoTC: true,
			srcRes: "4K", srcVideo: "hevc", srcAudio: "truehd", dstRes: "720p", dstVideo: "h264", dstAudio: "aac", location: "lan", hw: "HW"},
		{file: "appliance-pms1.43-sessions-transcode-not-started.json", decision: Transcode, videoTC: true,
			srcVideo: "hevc", srcAudio: "eac3", dstRes: "720p", dstVideo: "h264", dstAudio: "aac", location: "lan", hw: "HW"},
		{file: "appliance-pms1.43-sessions-directplay.json", decision: DirectPlay,
			srcRes: "1080p", srcVideo: "hevc", srcAudio: "ac3", dstRes: "1080p", dstVideo: "hevc", dstAudio: "ac3", location: "lan"},
		{file: "ha-session_base.xml", decision: Transcode, audioOnly: true,
			srcRes: "720p", srcVideo: "h264", srcAudio: "dca", dstRes: "720p", dstVideo: "h264", dstAudio: "aac", location: "lan"},
		{file: "ha-session_transient.xml", decision: Transcode, videoTC: true,
			srcRes: "1080p", srcVideo: "h264", srcAudio: "aac", dstRes: "SD", dstVideo: "h264", dstAudio: "aac", location: "lan"},
		{file: "plexopedia-sessions-music-directplay.xml", decision: DirectPlay, srcAudio: "flac", dstAudio: "flac", location: "lan"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			items, err := DecodeSessions(readReal(t, tt.file))
			if err != nil || len(items) != 1 {
				t.Fatalf("DecodeSessions: %d items, %v; want 1 item", len(items), err)
			}
			m := &items[0]
			c := Classify(m)
			got := []struct{ what, got, want string }{
				{"decision", string(c.Decision), string(tt.decision)},
				{"source resolution", c.SourceResolution, tt.srcRes},
				{"source video", c.SourceVideoCodec, tt.srcVideo},
				{"source audio", c.SourceAudioCodec, tt.srcAudio},
				{"target resolution", c.TargetResolution, tt.dstRes},
				{"target video", c.TargetVideoCodec, tt.dstVideo},
				{"target audio", c.TargetAudioCodec, tt.dstAudio},
				{"location", Location(m), tt.location},
				{"hw", c.HW.String(), tt.hw},
			}
			for _, g := range got {
				if g.got != g.want {
					t.Errorf("%s = %q, want %q (reason %q)", g.what, g.got, g.want, c.Reason())
				}
			}
			if c.VideoTranscode != tt.videoTC || c.AudioOnly != tt.audioOnly {
				t.Errorf("videoTranscode/audioOnly = %v/%v, want %v/%v", c.VideoTranscode, c.AudioOnly, tt.videoTC, tt.audioOnly)
			}
		})
	}
}

// TestRealSourceMedia picks the version a session plays from a library
// answer with several versions (4K and 1080p copies of one film): by the
// session's Media id, never by position.
func TestRealSourceMedia(t *testing.T) {
	items, err := DecodeSessions(readReal(t, "spec-tests-library-sections-all-multiversion-trimmed.json"))
	if err != nil || len(items) < 1 {
		t.Fatalf("decode: %d items, %v", len(items), err)
	}
	film := &items[0] // Alien: Covenant: 4K HEVC (44017) and 1080p HEVC (44016)
	session := func(mediaID string) *Metadata {
		return &Metadata{Media: []Media{{ID: NumID(mediaID), Selected: true, VideoCodec: "h264", VideoResolution: "720"}},
			TranscodeSession: &TranscodeSession{VideoDecision: "transcode", VideoCodec: "h264", Height: 720}}
	}
	tests := []struct {
		mediaID, wantRes string
		wantBitrate      int64
		wantNil          bool
	}{
		{"44016", "1080p", 2855, false},
		{"44017", "4K", 38983, false},
		{"", "", 0, true},      // no id: with two versions, no guess
		{"99999", "", 0, true}, // an id the library does not list
	}
	for _, tt := range tests {
		src := SourceMedia(session(tt.mediaID), film)
		if (src == nil) != tt.wantNil {
			t.Fatalf("SourceMedia(id %q) = %v, want nil %v", tt.mediaID, src, tt.wantNil)
		}
		if src == nil {
			continue
		}
		c := ClassifySource(session(tt.mediaID), src)
		if c.SourceResolution != tt.wantRes || c.BitrateKbps != tt.wantBitrate || c.TargetResolution != "720p" {
			t.Errorf("id %q: source %s %d kbps, target %s; want source %s %d kbps, target 720p",
				tt.mediaID, c.SourceResolution, c.BitrateKbps, c.TargetResolution, tt.wantRes, tt.wantBitrate)
		}
	}
	one, err := DecodeSessions(readReal(t, "spec-tests-library-metadata-movie-4k.json"))
	if err != nil || len(one) != 1 {
		t.Fatalf("decode: %d items, %v", len(one), err)
	}
	if src := SourceMedia(session(""), &one[0]); src == nil || ResolutionLabel(src.VideoResolution, int(src.Height)) != "4K" {
		t.Errorf("single version: SourceMedia = %+v, want the 4K version", src)
	}
}

func TestParseDisplayTitle(t *testing.T) {
	tests := []struct{ in, res, codec string }{
		{"4K (HEVC Main 10)", "4K", "hevc"},
		{"720p (HEVC Main)", "720p", "hevc"},
		{"1080p (H.264)", "1080p", "h264"},
		{"SD (MPEG-4)", "SD", "mpeg4"},
		{"4K DoVi/HDR10 (HEVC Main 10)", "4K", "hevc"},
		{"English (TRUEHD 7.1)", "", "truehd"},
		{"English (DTS 5.1)", "", "dca"},
		{"FLAC (Stereo)", "", ""},
		{"Unknown (AAC Stereo)", "", "aac"},
		{"", "", ""},
		{"1080p", "1080p", ""},
	}
	for _, tt := range tests {
		res, codec := ParseDisplayTitle(tt.in)
		if res != tt.res || codec != tt.codec {
			t.Errorf("ParseDisplayTitle(%q) = %q, %q; want %q, %q", tt.in, res, codec, tt.res, tt.codec)
		}
	}
}

// TestOptBoolPresence: Player.local absent is unknown, not false, in both
// formats and both JSON decoders.
func TestOptBoolPresence(t *testing.T) {
	tests := []struct {
		name, body string
		want       OptBool
	}{
		{"xml absent", `<MediaContainer size="1"><Video sessionKey="1"><Player address="10.0.0.5"/></Video></MediaContainer>`, Unknown},
		{"xml 0", `<MediaContainer size="1"><Video sessionKey="1"><Player local="0"/></Video></MediaContainer>`, False},
		{"xml 1", `<MediaContainer size="1"><Video sessionKey="1"><Player local="1"/></Video></MediaContainer>`, True},
		{"json absent", `{"MediaContainer":{"size":1,"Metadata":[{"sessionKey":"1","Player":{"address":"10.0.0.5"}}]}}`, Unknown},
		{"json null", `{"MediaContainer":{"size":1,"Metadata":[{"sessionKey":"1","Player":{"local":null}}]}}`, Unknown},
		{"json false", `{"MediaContainer":{"size":1,"Metadata":[{"sessionKey":"1","Player":{"local":false}}]}}`, False},
		{"json string 1", `{"MediaContainer":{"size":1,"Metadata":[{"sessionKey":"1","Player":{"local":"1"}}]}}`, True},
	}
	for _, tt := range tests {
		items, err := DecodeSessions([]byte(tt.body))
		if err != nil || len(items) != 1 || items[0].Player == nil {
			t.Fatalf("%s: decode %v", tt.name, err)
		}
		if got := items[0].Player.Local; got != tt.want {
			t.Errorf("%s: Local = %d, want %d", tt.name, got, tt.want)
		}
		var slow Container
		if err := decodeBody([]byte(tt.body), &slow); err == nil && len(slow.Metadata) == 1 && slow.Metadata[0].Player.Local != tt.want {
			t.Errorf("%s: encoding/* decoder: Local = %d, want %d", tt.name, slow.Metadata[0].Player.Local, tt.want)
		}
	}
}
