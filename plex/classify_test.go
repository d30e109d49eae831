package plex

import "testing"

func TestClassify(t *testing.T) {
	// Streams as real Plex lists them: while transcoding, codec is the
	// output's and displayTitle still names the source.
	video := func(dec string) Stream {
		return Stream{StreamType: StreamVideo, Codec: "hevc", Decision: dec, Selected: true, DisplayTitle: "4K (HEVC Main 10)"}
	}
	audio := func(dec string) Stream {
		return Stream{StreamType: StreamAudio, Codec: "eac3", Decision: dec, Selected: true, DisplayTitle: "English (EAC3 5.1)"}
	}
	// item is a 4K HEVC/EAC3 file played directly or remuxed: its Media
	// describe the source.
	item := func(ts *TranscodeSession, streams ...Stream) *Metadata {
		return &Metadata{
			Media:            []Media{{Selected: true, VideoResolution: "4k", VideoCodec: "hevc", AudioCodec: "eac3", Part: []Part{{Selected: true, Stream: streams}}}},
			TranscodeSession: ts,
		}
	}
	// transcoding is the same file while Plex transcodes it: the Media
	// describe the output (codec, resolution), the stream titles the source.
	transcoding := func(ts *TranscodeSession, vcodec, res, acodec string, streams ...Stream) *Metadata {
		if len(streams) == 0 {
			v, a := video(ts.VideoDecision), audio(ts.AudioDecision)
			v.Codec, a.Codec = vcodec, acodec
			streams = []Stream{v, a}
		}
		return &Metadata{
			Media:            []Media{{Selected: true, VideoResolution: res, VideoCodec: vcodec, AudioCodec: acodec, Part: []Part{{Selected: true, Stream: streams}}}},
			TranscodeSession: ts,
		}
	}
	tests := []struct {
		name       string
		m          *Metadata
		want       Decision
		videoTC    bool
		audioOnly  bool
		burn       bool
		wantReason string
		wantShort  string
	}{
		{"no transcoder", item(nil), DirectPlay, false, false, false, "Direct Play", "Direct Play"},
		{"no transcoder, copy streams", item(nil, video("copy"), audio("copy")), DirectPlay, false, false, false, "Direct Play", "Direct Play"},
		{"remux", item(&TranscodeSession{VideoDecision: "copy", AudioDecision: "copy"}), DirectStream, false, false, false, "Direct Stream: video copy, audio copy", "Direct Stream"},
		{"audio only", transcoding(&TranscodeSession{VideoDecision: "copy", AudioDecision: "transcode", AudioCodec: "aac"}, "hevc", "4k", "aac"), Transcode, false, true, false,
			"Transcode: video copy, audio EAC3 → AAC", "Transcode (audio)"},
		{"video hw 4k to 1080", transcoding(&TranscodeSession{VideoDecision: "transcode", AudioDecision: "copy", VideoCodec: "h264", Height: 1080, TranscodeHwFullPipeline: true, SourceVideoCodec: "hevc"}, "h264", "1080", "eac3"), Transcode, true, false, false,
			"Transcode: video HEVC 4K → H.264 1080p (HW), audio copy", "Transcode (HEVC 4K→1080p)"},
		{"subtitle burn", transcoding(&TranscodeSession{VideoDecision: "transcode", AudioDecision: "copy", SubtitleDecision: "burn", VideoCodec: "h264", Height: 2160}, "h264", "4k", "eac3"), Transcode, true, false, true,
			"Transcode: video HEVC 4K → H.264 4K, audio copy, subtitles burned in", "Transcode (HEVC 4K)"},
		{"decisions only in streams", transcoding(&TranscodeSession{}, "h264", "720", "eac3", video("transcode"), audio("copy")), Transcode, true, false, false,
			"Transcode: video HEVC 4K → H.264 720p, audio copy", "Transcode (HEVC 4K→720p)"},
		{"source unknown", transcoding(&TranscodeSession{VideoDecision: "transcode"}, "h264", "720", "aac", Stream{StreamType: StreamVideo, Codec: "h264", Decision: "transcode"}), Transcode, true, false, false,
			"Transcode: video → H.264 720p", "Transcode"},
		{"empty transcode session", item(&TranscodeSession{}), DirectStream, false, false, false, "Direct Stream", "Direct Stream"},
		{"hw encode only", transcoding(&TranscodeSession{VideoDecision: "transcode", TranscodeHwEncodingTitle: "Intel (QuickSync)", VideoCodec: "h264", Height: 720}, "h264", "720", ""), Transcode, true, false, false,
			"Transcode: video HEVC 4K → H.264 720p (HW encode)", "Transcode (HEVC 4K→720p)"},
		{"nothing at all", &Metadata{}, DirectPlay, false, false, false, "Direct Play", "Direct Play"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Classify(tt.m)
			if c.Decision != tt.want {
				t.Errorf("Decision = %q, want %q", c.Decision, tt.want)
			}
			if c.VideoTranscode != tt.videoTC || c.AudioOnly != tt.audioOnly || c.SubtitleBurn != tt.burn {
				t.Errorf("video/audioOnly/burn = %v/%v/%v, want %v/%v/%v", c.VideoTranscode, c.AudioOnly, c.SubtitleBurn, tt.videoTC, tt.audioOnly, tt.burn)
			}
			if got := c.Reason(); got != tt.wantReason {
				t.Errorf("Reason() = %q, want %q", got, tt.wantReason)
			}
			if got := c.Short(); got != tt.wantShort {
				t.Errorf("Short() = %q, want %q", got, tt.wantShort)
			}
		})
	}
}

func TestResolutionLabel(t *testing.T) {
	tests := []struct {
		res    string
		height int
		want   string
	}{
		{"4k", 0, "4K"}, {"4K", 0, "4K"}, {"1080", 0, "1080p"}, {"720", 0, "720p"}, {"sd", 0, "SD"}, {"480", 0, "480p"},
		{"", 2160, "4K"}, {"", 1080, "1080p"}, {"", 1036, "1080p"}, {"", 800, "720p"}, {"", 576, "576p"}, {"", 240, "SD"}, {"", 0, ""},
		{"1080p", 0, "1080p"}, {"weird", 0, "weird"}, {"8k", 0, "8K"},
	}
	for _, tt := range tests {
		if got := ResolutionLabel(tt.res, tt.height); got != tt.want {
			t.Errorf("ResolutionLabel(%q, %d) = %q, want %q", tt.res, tt.height, got, tt.want)
		}
	}
}

func TestPlaybackKindLocationTitle(t *testing.T) {
	kinds := []struct {
		m    Metadata
		want Kind
	}{
		{Metadata{Type: "track", GUID: "library://x/item/1"}, KindTheme},
		{Metadata{Type: "track", GUID: "plex://track/1"}, KindPlayback},
		{Metadata{Type: "clip", LibrarySectionID: "-2"}, KindPreroll},
		{Metadata{Type: "episode", Key: "/livetv/sessions/abc"}, KindLiveTV},
		{Metadata{Type: "movie"}, KindPlayback},
	}
	for _, k := range kinds {
		if got := PlaybackKind(&k.m); got != k.want {
			t.Errorf("PlaybackKind(%+v) = %q, want %q", k.m, got, k.want)
		}
	}
	locs := []struct {
		m    Metadata
		want string
	}{
		{Metadata{Session: &Session{Location: "WAN"}, Player: &Player{Local: True}}, "wan"},
		{Metadata{Player: &Player{Local: True}}, "lan"},
		{Metadata{Player: &Player{Local: False}}, "wan"},
		// Neither Session.location nor Player.local: Plex said nothing,
		// the address decides (app/rules), not a guess of "wan" here.
		{Metadata{Player: &Player{}}, ""},
		{Metadata{Session: &Session{}, Player: &Player{Address: "10.0.0.5"}}, ""},
		{Metadata{}, ""},
	}
	for _, l := range locs {
		if got := Location(&l.m); got != l.want {
			t.Errorf("Location(%+v) = %q, want %q", l.m, got, l.want)
		}
	}
	titles := []struct {
		m    Metadata
		want string
	}{
		{Metadata{Type: "episode", GrandparentTitle: "Show", ParentIndex: 1, Index: 2, Title: "Pilot"}, "Show - S01E02 - Pilot"},
		{Metadata{Type: "track", GrandparentTitle: "Artist", Title: "Song"}, "Artist - Song"},
		{Metadata{Type: "movie", Title: "Film"}, "Film"},
		{Metadata{}, "(untitled)"},
	}
	for _, tt := range titles {
		if got := DisplayTitle(&tt.m); got != tt.want {
			t.Errorf("DisplayTitle = %q, want %q", got, tt.want)
		}
	}
	if got := CleanAddress("::ffff:10.0.0.1"); got != "10.0.0.1" {
		t.Errorf("CleanAddress = %q", got)
	}
	if got := TranscodeID("/transcode/sessions/abc/"); got != "abc" {
		t.Errorf("TranscodeID = %q", got)
	}
}

func TestParseEvent(t *testing.T) {
	tests := []struct {
		name, event, data string
		wantErr           bool
		check             func(Event) bool
	}{
		{"ping", "ping", "{}", false, func(e Event) bool { return e.Name == "ping" && e.Playing == nil }},
		{"playing", "playing", `{"PlaySessionStateNotification":{"sessionKey":"12","clientIdentifier":"p1","viewOffset":61000,"state":"paused","transcodeSession":"abc"}}`, false,
			func(e Event) bool {
				return e.Playing != nil && e.Playing.SessionKey == "12" && e.Playing.State == "paused" && e.Playing.ViewOffset == 61000 && e.Playing.TranscodeSession == "abc"
			}},
		{"playing numeric key, no client id", "playing", `{"PlaySessionStateNotification":{"sessionKey":12,"viewOffset":"5","state":"playing"}}`, false,
			func(e Event) bool {
				return e.Playing.SessionKey == "12" && e.Playing.ClientIdentifier == "" && e.Playing.ViewOffset == 5
			}},
		{"websocket wrapped", "playing", `{"NotificationContainer":{"type":"playing","size":1,"PlaySessionStateNotification":[{"sessionKey":"3","state":"playing"}]}}`, false,
			func(e Event) bool { return e.Playing.SessionKey == "3" }},
		{"transcode update", "transcodeSession.update", `{"TranscodeSession":{"key":"/transcode/sessions/abc","videoDecision":"transcode","progress":4.5,"speed":2.1}}`, false,
			func(e Event) bool { return e.Transcode.ID() == "abc" && e.Transcode.Speed == 2.1 }},
		{"unknown event passes through", "activity", `{"ActivityNotification":{"event":"started"}}`, false, func(e Event) bool { return len(e.Raw) > 0 }},
		{"malformed json", "playing", `{"PlaySessionStateNotification":{`, true, nil},
		{"missing child", "playing", `{"Other":{}}`, true, nil},
		{"child not object", "transcodeSession.start", `{"TranscodeSession":"x"}`, true, nil},
		{"empty data", "playing", ``, false, func(e Event) bool { return e.Playing == nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := ParseEvent(tt.event, []byte(tt.data))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if tt.check != nil && !tt.check(ev) {
				t.Errorf("ParseEvent(%q, %s) = %+v (playing %+v, transcode %+v)", tt.event, tt.data, ev, ev.Playing, ev.Transcode)
			}
		})
	}
}
