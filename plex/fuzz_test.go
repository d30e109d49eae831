package plex

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/r3labs/sse/v2"
)

// FuzzDecodeSessions: any input either decodes or fails with ErrMalformed;
// it never panics; and the fast paths give exactly what encoding/json and
// encoding/xml give (compareDecoders).
func FuzzDecodeSessions(f *testing.F) {
	for _, name := range []string{"sessions.xml", "sessions-typed.json", "sessions-strings.json"} {
		f.Add(readFixture(f, name))
	}
	f.Add([]byte(`{"MediaContainer":{"Metadata":[{"User":[],"Player":[[]],"Media":[{"Part":[{"Stream":[{}]}]}]}]}}`))
	f.Add([]byte(`<MediaContainer><Video><Media><Part><Stream/></Part></Media></Video></MediaContainer>`))
	for _, tt := range oddJSON {
		f.Add([]byte(tt.body))
	}
	for _, tt := range oddXML {
		f.Add([]byte(tt.body))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		compareDecoders(t, b)
		items, err := DecodeSessions(b)
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("error %v does not wrap ErrMalformed", err)
		}
		for i := range items {
			c := Classify(&items[i])
			_ = c.Reason() + c.Short() + DisplayTitle(&items[i]) + string(PlaybackKind(&items[i])) + Location(&items[i])
		}
	})
}

// FuzzSSEStream reads a raw event stream the way the feed does (the SSE
// library's frame reader with our 1 MiB limit, then ParseEvent): no input
// may panic, and every error is ErrMalformed.
func FuzzSSEStream(f *testing.F) {
	f.Add([]byte("event: ping\ndata: {}\n\n"))
	f.Add([]byte("event: playing\ndata: {\"PlaySessionStateNotification\":{\"sessionKey\":\"12\",\"state\":\"paused\"}}\n\n"))
	f.Add([]byte("event: transcodeSession.update\ndata: {\"TranscodeSession\":{\"key\":\"/transcode/sessions/a\",\"speed\":1.5}}\n\n"))
	f.Add([]byte(": comment\nid: 7\nretry: 10\nevent: playing\ndata: {\"PlaySessionStateNotification\":\ndata: {\"sessionKey\":\"1\"}}\n\n"))
	f.Add([]byte("event: playing\r\ndata: {}\r\n\r\n"))
	f.Add([]byte("data: {\"NotificationContainer\":{\"PlaySessionStateNotification\":[{}]}}\n\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := sse.NewEventStreamReader(bytes.NewReader(b), MaxEventSize)
		for range 1000 {
			frame, err := r.ReadEvent()
			if err != nil {
				if err != io.EOF && len(frame) == 0 {
					return
				}
				if len(frame) == 0 {
					return
				}
			}
			name, data := splitFrame(frame)
			if _, perr := ParseEvent(name, data); perr != nil && !errors.Is(perr, ErrMalformed) {
				t.Fatalf("ParseEvent error %v does not wrap ErrMalformed", perr)
			}
			if err != nil {
				return
			}
		}
	})
}

// splitFrame extracts the event name and joined data lines of one frame.
func splitFrame(frame []byte) (string, []byte) {
	var name string
	var data [][]byte
	for _, line := range bytes.Split(bytes.ReplaceAll(frame, []byte("\r\n"), []byte("\n")), []byte("\n")) {
		switch {
		case bytes.HasPrefix(line, []byte("event:")):
			name = string(bytes.TrimSpace(line[6:]))
		case bytes.HasPrefix(line, []byte("data:")):
			data = append(data, bytes.TrimPrefix(line[5:], []byte(" ")))
		}
	}
	return name, bytes.Join(data, []byte("\n"))
}

// FuzzParseEvent: any event name and payload decodes or fails cleanly.
func FuzzParseEvent(f *testing.F) {
	f.Add("playing", []byte(`{"PlaySessionStateNotification":{"sessionKey":"12","state":"playing","viewOffset":1}}`))
	f.Add("transcodeSession.end", []byte(`{"TranscodeSession":[{"key":"x"}]}`))
	f.Add("ping", []byte(`{}`))
	f.Add("activity", []byte(`{"ActivityNotification":{}}`))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		ev, err := ParseEvent(name, data)
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("error %v does not wrap ErrMalformed", err)
		}
		if ev.Name != name {
			t.Fatalf("Name = %q, want %q", ev.Name, name)
		}
	})
}

// FuzzTolerantFloat: Float.UnmarshalJSON's in-place cases agree with the
// general conversion on any input.
func FuzzTolerantFloat(f *testing.F) {
	for _, s := range []string{`1.5`, `"1.5"`, `"inf"`, "\"1\xff\"", `-0`, `"\u0031"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var got Float
		_ = got.UnmarshalJSON(b)
		if want := parseFloat(unquote(b)); float64(got) != want {
			t.Fatalf("Float(%q) = %v, want %v", b, got, want)
		}
	})
}

// FuzzWalkSessionsJSON: the JSON walk runs on large answers while their
// check is under way, so it meets invalid input; whatever the bytes, it
// must end without a panic escaping.
func FuzzWalkSessionsJSON(f *testing.F) {
	for _, name := range []string{"sessions-typed.json", "sessions-strings.json"} {
		b := readFixture(f, name)
		f.Add(b)
		f.Add(b[:len(b)/2])
		f.Add(bytes.Replace(b, []byte(`"`), nil, 3))
	}
	for _, tt := range oddJSON {
		f.Add([]byte(tt.body))
	}
	f.Add([]byte(`{"MediaContainer":{"Metadata":[{"title":tru`))
	f.Add([]byte(`{"MediaContainer":{"Metadata":[{"title" "x"}]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = walkSafely(b)
	})
}
