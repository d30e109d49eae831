package plex

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
)

// ErrMalformed reports an answer that is neither valid JSON nor valid XML.
var ErrMalformed = errors.New("plex: malformed answer")

// isXML reports whether the body is XML, whatever Content-Type said: servers
// and proxies that ignore Accept answer XML.
func isXML(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n\ufeff")
	return len(b) > 0 && b[0] == '<'
}

// decodeBody decodes a JSON ({"MediaContainer":{…}}) or XML
// (<MediaContainer …>) answer into v, a pointer to a MediaContainer type.
// Fields of the wrong kind are skipped; only broken syntax is an error.
func decodeBody[T any](b []byte, v *T) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil // an empty body is an empty container
	}
	if isXML(b) {
		if err := xml.Unmarshal(b, v); err != nil {
			return fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		return nil
	}
	// One pass: decode straight into the wrapper rather than through a
	// RawMessage (1,000 sessions are a few MiB).
	var wrapper struct {
		MediaContainer *T `json:"MediaContainer"`
	}
	wrapper.MediaContainer = v
	if err := json.Unmarshal(b, &wrapper); err != nil && !isTypeError(err) {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return nil
}

func isTypeError(err error) bool {
	var te *json.UnmarshalTypeError
	return errors.As(err, &te)
}

// DecodeSessions decodes a /status/sessions answer in JSON or XML.
func DecodeSessions(b []byte) ([]Metadata, error) {
	// The fast paths (decode_json.go, decode_xml.go) give what decodeBody
	// gives, several times faster; they leave errors, and the rare answers
	// they do not handle, to decodeBody.
	if len(bytes.TrimSpace(b)) > 0 {
		decode := decodeSessionsJSONFast
		if isXML(b) {
			decode = decodeSessionsXMLFast
		}
		if c, ok := decode(b); ok {
			return c.Metadata, nil
		}
	}
	var c Container
	if err := decodeBody(b, &c); err != nil {
		return nil, err
	}
	return c.Metadata, nil
}

// DecodeTranscodeSessions decodes a /transcode/sessions answer in JSON or XML.
func DecodeTranscodeSessions(b []byte) ([]TranscodeSession, error) {
	var c TranscodeContainer
	if err := decodeBody(b, &c); err != nil {
		return nil, err
	}
	return c.TranscodeSession, nil
}

// DecodeIdentity decodes a /identity answer in JSON or XML.
func DecodeIdentity(b []byte) (*Identity, error) {
	var id Identity
	if err := decodeBody(b, &id); err != nil {
		return nil, err
	}
	return &id, nil
}

// DecodeServerInfo decodes a GET / answer in JSON or XML.
func DecodeServerInfo(b []byte) (*ServerInfo, error) {
	var s ServerInfo
	if err := decodeBody(b, &s); err != nil {
		return nil, err
	}
	return &s, nil
}
