package plex

import (
	"context"
	"encoding/json"
	"encoding/xml"
)

// PrefTranscoderTempDir is the server preference naming the transcoder's
// temporary folder ("" means the default, <data folder>/Cache/Transcode);
// playback jobs work in <it>/Transcode/Sessions/plex-transcode-<key>-<uuid>.
const PrefTranscoderTempDir = "TranscoderTempDirectory"

// Setting is one server preference of GET /:/prefs.
type Setting struct {
	ID    string    `xml:"id,attr" json:"id"`
	Value PrefValue `xml:"value,attr" json:"value"`
}

// PrefValue is a preference's value as text, whatever its JSON type
// (string, bool or number).
type PrefValue string

// UnmarshalJSON accepts a string or any other JSON value (kept as its text).
func (v *PrefValue) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*v = PrefValue(s)
		return nil
	}
	*v = PrefValue(b)
	return nil
}

// PrefsContainer is the MediaContainer of GET /:/prefs.
type PrefsContainer struct {
	XMLName xml.Name  `xml:"MediaContainer" json:"-"`
	Setting []Setting `xml:"Setting" json:"Setting,omitempty"`
}

// DecodePrefs decodes a /:/prefs answer in JSON or XML.
func DecodePrefs(b []byte) ([]Setting, error) {
	var c PrefsContainer
	if err := decodeBody(b, &c); err != nil {
		return nil, err
	}
	return c.Setting, nil
}

// Prefs calls GET /:/prefs (admin token): the server's settings.
func (c *Client) Prefs(ctx context.Context) ([]Setting, error) {
	var s []Setting
	err := c.get(ctx, "preferences", "/:/prefs", func(b []byte) (err error) { s, err = DecodePrefs(b); return })
	return s, err
}

// TranscoderTempDir returns the server's transcoder temporary folder
// (PrefTranscoderTempDir), "" when it uses the default.
func (c *Client) TranscoderTempDir(ctx context.Context) (string, error) {
	prefs, err := c.Prefs(ctx)
	if err != nil {
		return "", err
	}
	for _, p := range prefs {
		if p.ID == PrefTranscoderTempDir {
			return string(p.Value), nil
		}
	}
	return "", nil
}
