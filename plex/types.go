package plex

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"math"
	"strconv"
	"strings"
)

// Plex answers differ by server version and format: XML carries every value
// as a string ("1"/"0" for booleans), recent JSON uses real numbers and
// booleans, older JSON used strings. The types below read all of these and
// never fail a whole response because of one odd field.

// Every number Plex sends is a count, size, time or rate, so a negative,
// NaN or infinite one is a server's bug or a hostile answer: it decodes to
// 0, which everywhere means unknown.

// Int is an integer that decodes from 12, "12", 12.0, "1.0", "" and null.
// Anything else, and a negative number, decodes to 0.
type Int int64

// Float is a float that decodes from 1.5, "1.5", "" and null. Anything
// else, and a negative, NaN or infinite number, decodes to 0.
type Float float64

// Bool is a boolean that decodes from true/false, 1/0 and their quoted forms.
type Bool bool

// String is a string that also accepts a JSON number or boolean (ids such as
// sessionKey are strings on the wire, but not every server agrees).
type String string

func unquote(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		s, err := strconv.Unquote(string(b))
		if err == nil {
			return s
		}
		return string(b[1 : len(b)-1])
	}
	if string(b) == "null" {
		return ""
	}
	return string(b)
}

func parseInt(s string) int64 {
	s = strings.TrimSpace(s)
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return max(i, 0)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != f || f < 0 { // NaN or negative: unknown
		return 0
	}
	if f > 9e18 {
		return 0
	}
	return int64(f)
}

func parseFloat(s string) float64 {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f != f || f < 0 || math.IsInf(f, 0) { // unknown
		return 0
	}
	return f
}

func parseBool(s string) bool {
	s = strings.TrimSpace(s)
	return s == "1" || strings.EqualFold(s, "true")
}

// UnmarshalJSON implements json.Unmarshaler and never fails.
func (n *Int) UnmarshalJSON(b []byte) error {
	if v, ok := fastInt(b); ok {
		*n = Int(v)
		return nil
	}
	*n = Int(parseInt(unquote(b)))
	return nil
}

// fastInt parses a plain or quoted decimal integer without allocating: the
// common case, decoded thousands of times per /status/sessions answer.
func fastInt(b []byte) (int64, bool) {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		b = b[1 : len(b)-1]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	neg := b[0] == '-'
	if neg {
		b = b[1:]
		if len(b) == 0 {
			return 0, false
		}
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		return 0, true // negative: unknown
	}
	return v, true
}

// UnmarshalXMLAttr implements xml.UnmarshalerAttr and never fails.
func (n *Int) UnmarshalXMLAttr(a xml.Attr) error { *n = Int(parseInt(a.Value)); return nil }

// MarshalXMLAttr writes the number as Plex does.
func (n Int) MarshalXMLAttr(name xml.Name) (xml.Attr, error) {
	return xml.Attr{Name: name, Value: strconv.FormatInt(int64(n), 10)}, nil
}

// UnmarshalJSON implements json.Unmarshaler and never fails.
func (f *Float) UnmarshalJSON(b []byte) error {
	// A number, or a quoted one without escapes, is parsed in place: the
	// same as going through unquote, without allocating a string.
	if n := len(b); n > 0 && (b[0] == '-' || '0' <= b[0] && b[0] <= '9') {
		*f = Float(parseFloat(string(b)))
		return nil
	} else if n >= 2 && b[0] == '"' && b[n-1] == '"' && bytes.IndexByte(b, '\\') < 0 {
		*f = Float(parseFloat(string(b[1 : n-1])))
		return nil
	}
	*f = Float(parseFloat(unquote(b)))
	return nil
}

// UnmarshalXMLAttr implements xml.UnmarshalerAttr and never fails.
func (f *Float) UnmarshalXMLAttr(a xml.Attr) error { *f = Float(parseFloat(a.Value)); return nil }

// MarshalXMLAttr writes the number as Plex does.
func (f Float) MarshalXMLAttr(name xml.Name) (xml.Attr, error) {
	return xml.Attr{Name: name, Value: strconv.FormatFloat(float64(f), 'f', -1, 64)}, nil
}

// UnmarshalJSON implements json.Unmarshaler and never fails.
func (v *Bool) UnmarshalJSON(b []byte) error {
	switch string(b) { // no allocation: the compiler compares in place
	case "true", "1", `"1"`, `"true"`:
		*v = true
	case "false", "0", `"0"`, `"false"`, "null", `""`:
		*v = false
	default:
		*v = Bool(parseBool(unquote(b)))
	}
	return nil
}

// UnmarshalXMLAttr implements xml.UnmarshalerAttr and never fails.
func (v *Bool) UnmarshalXMLAttr(a xml.Attr) error { *v = Bool(parseBool(a.Value)); return nil }

// MarshalXMLAttr writes "1" or "0" as Plex does.
func (v Bool) MarshalXMLAttr(name xml.Name) (xml.Attr, error) {
	s := "0"
	if v {
		s = "1"
	}
	return xml.Attr{Name: name, Value: s}, nil
}

// UnmarshalJSON implements json.Unmarshaler and never fails: numbers and
// booleans keep their literal text, null becomes "".
func (s *String) UnmarshalJSON(b []byte) error {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' && bytes.IndexByte(b, '\\') < 0 {
		*s = String(b[1 : len(b)-1]) // plain string, no escapes
		return nil
	}
	b = bytes.TrimSpace(b)
	if len(b) > 0 && (b[0] == '{' || b[0] == '[') {
		*s = ""
		return nil
	}
	*s = String(unquote(b))
	return nil
}

// OptBool is a boolean that remembers whether Plex sent it: Player.local
// absent is not the same as local="0" (docs/RULES.md: only when Plex says
// nothing does the player's address decide). The zero value is unknown.
// It decodes like Bool; null and "" leave it unknown.
type OptBool uint8

// The values of an OptBool.
const (
	Unknown OptBool = iota
	False
	True
)

// Known reports whether the value was sent.
func (v OptBool) Known() bool { return v != Unknown }

// IsTrue reports a value sent as true.
func (v OptBool) IsTrue() bool { return v == True }

// OptBoolOf returns True or False for b.
func OptBoolOf(b bool) OptBool {
	if b {
		return True
	}
	return False
}

func optBool(s string) OptBool {
	if strings.TrimSpace(s) == "" {
		return Unknown
	}
	return OptBoolOf(parseBool(s))
}

// UnmarshalJSON implements json.Unmarshaler and never fails.
func (v *OptBool) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case "true", "1", `"1"`, `"true"`:
		*v = True
	case "false", "0", `"0"`, `"false"`:
		*v = False
	case "null", `""`:
		*v = Unknown
	default:
		*v = optBool(unquote(b))
	}
	return nil
}

// MarshalJSON writes true or false; an unknown value is null (fields of
// this type carry omitempty, so it is left out).
func (v OptBool) MarshalJSON() ([]byte, error) {
	switch v {
	case True:
		return []byte("true"), nil
	case False:
		return []byte("false"), nil
	}
	return []byte("null"), nil
}

// UnmarshalXMLAttr implements xml.UnmarshalerAttr and never fails.
func (v *OptBool) UnmarshalXMLAttr(a xml.Attr) error { *v = optBool(a.Value); return nil }

// MarshalXMLAttr writes "1" or "0" as Plex does; unknown is left out.
func (v OptBool) MarshalXMLAttr(name xml.Name) (xml.Attr, error) {
	switch v {
	case True:
		return xml.Attr{Name: name, Value: "1"}, nil
	case False:
		return xml.Attr{Name: name, Value: "0"}, nil
	}
	return xml.Attr{}, nil
}

// NumID is an id Plex sends as a number in JSON (Media, Part and Stream
// ids) but that stays a string here, like every id. It decodes as String
// does (a number or a string) and encodes as a JSON number when it is one.
type NumID string

// UnmarshalJSON implements json.Unmarshaler and never fails.
func (n *NumID) UnmarshalJSON(b []byte) error {
	var s String
	_ = s.UnmarshalJSON(b)
	*n = NumID(s)
	return nil
}

// MarshalJSON writes digits as a number, anything else as a string.
func (n NumID) MarshalJSON() ([]byte, error) {
	if v, ok := fastInt([]byte(n)); ok && len(n) > 0 && n[0] != '-' && strconv.FormatInt(v, 10) == string(n) {
		return []byte(n), nil
	}
	return json.Marshal(string(n))
}
