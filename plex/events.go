package plex

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Event names Plex Warden asks for and understands.
const (
	EventPlaying         = "playing"
	EventTranscodeStart  = "transcodeSession.start"
	EventTranscodeUpdate = "transcodeSession.update"
	EventTranscodeEnd    = "transcodeSession.end"
	EventPing            = "ping"
	EventActivity        = "activity"
)

// DefaultFilters is the "filters" value of our event stream subscription.
// "ping" is asked for explicitly: a server that applies filters to pings
// (as the parameter is documented) would otherwise leave an idle stream
// silent, and the silence watchdog would reconnect it every 45 s.
var DefaultFilters = []string{EventPing, EventPlaying, EventTranscodeStart, EventTranscodeUpdate, EventTranscodeEnd}

// MaxEventSize is the largest single event the feed accepts (the SSE
// library's default of 64 KiB would loop forever on a larger one).
const MaxEventSize = 1 << 20

// PlayState is the PlaySessionStateNotification child of a "playing" event.
// It has no Session id, user or title: those come from /status/sessions.
type PlayState struct {
	SessionKey       String `json:"sessionKey,omitempty"`
	ClientIdentifier String `json:"clientIdentifier,omitempty"` // = Player.machineIdentifier; absent on old servers
	GUID             string `json:"guid"`                       // sent, often "", as real events do
	RatingKey        String `json:"ratingKey,omitempty"`
	Key              string `json:"key,omitempty"`
	URL              string `json:"url"`
	ViewOffset       Int    `json:"viewOffset"` // sent when 0
	PlayQueueItemID  Int    `json:"playQueueItemID,omitempty"`
	State            string `json:"state,omitempty"`            // playing, paused, buffering, stopped, error
	TranscodeSession string `json:"transcodeSession,omitempty"` // bare transcode key while transcoding
}

// Event is one decoded notification. Name is the SSE event name; exactly
// one of Playing and Transcode is set for the events we understand; Raw
// keeps the payload of the others.
type Event struct {
	Name      string
	Playing   *PlayState
	Transcode *TranscodeSession
	Raw       json.RawMessage
}

// ParseEvent decodes the data of one SSE event. The SSE payload is one object
// keyed by the child name ({"PlaySessionStateNotification":{…}}); the
// WebSocket form wraps it in NotificationContainer with arrays, which is
// accepted too. Unknown event names pass through with Raw set. A malformed
// payload of a known event is an error; the feed skips it and carries on.
func ParseEvent(name string, data []byte) (Event, error) {
	ev := Event{Name: name}
	data = bytes.TrimSpace(data)
	if name == EventPing || len(data) == 0 {
		return ev, nil
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return ev, fmt.Errorf("%w: event %q: %v", ErrMalformed, name, err)
	}
	if nc, ok := top["NotificationContainer"]; ok {
		var inner map[string]json.RawMessage
		if err := json.Unmarshal(nc, &inner); err != nil {
			return ev, fmt.Errorf("%w: event %q: %v", ErrMalformed, name, err)
		}
		top = inner
	}
	switch name {
	case EventPlaying:
		raw, ok := top["PlaySessionStateNotification"]
		if !ok {
			return ev, fmt.Errorf("%w: event %q without PlaySessionStateNotification", ErrMalformed, name)
		}
		var ps PlayState
		if err := decodeChild(raw, &ps); err != nil {
			return ev, fmt.Errorf("%w: event %q: %v", ErrMalformed, name, err)
		}
		ev.Playing = &ps
	case EventTranscodeStart, EventTranscodeUpdate, EventTranscodeEnd:
		raw, ok := top["TranscodeSession"]
		if !ok {
			return ev, fmt.Errorf("%w: event %q without TranscodeSession", ErrMalformed, name)
		}
		var ts TranscodeSession
		if err := decodeChild(raw, (*transcodeFields)(&ts)); err != nil {
			return ev, fmt.Errorf("%w: event %q: %v", ErrMalformed, name, err)
		}
		ev.Transcode = &ts
	default:
		ev.Raw = json.RawMessage(data)
	}
	return ev, nil
}

// decodeChild decodes an object or the first element of an array.
func decodeChild(raw json.RawMessage, v any) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '[' {
		var arr []json.RawMessage
		if err := json.Unmarshal(raw, &arr); err != nil {
			return err
		}
		if len(arr) == 0 {
			return fmt.Errorf("empty array")
		}
		raw = arr[0]
	}
	if len(raw) == 0 || raw[0] != '{' {
		return fmt.Errorf("not an object")
	}
	err := json.Unmarshal(raw, v)
	if isTypeError(err) {
		return nil
	}
	return err
}
