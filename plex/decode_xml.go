package plex

import (
	"bytes"
	"encoding/xml"
)

// The fast path for XML /status/sessions answers.
//
// encoding/xml's Unmarshal spends about half its time in reflection: for
// every attribute it walks the struct's fields, for every element it looks
// the field up by path. decodeSessionsXMLFast reads the same token stream
// (xml.Decoder.Token, so the tokenizer, its checks and its errors are
// encoding/xml's own) and sets the fields through the tables of fields.go,
// doing what Unmarshal does with the tags of models.go:
//
//   - the root element must be named MediaContainer; every child element of
//     it, whatever its name, is a Metadata (",any") whose XMLName is that
//     name;
//   - an attribute sets the field of its local name (in any name space),
//     the last one winning; attributes that name an element field, and
//     elements that name an attribute field, are ignored;
//   - Media, Part and Stream elements append to their slice; User, Player,
//     Session and TranscodeSession fill a new value, or the same one again
//     when repeated;
//   - everything after the root element's end is left unread.
//
// On any error it gives up (ok = false) and DecodeSessions calls
// xml.Unmarshal, which reports it. decode_fast_test.go compares both.

// decodeSessionsXMLFast decodes an XML /status/sessions answer. ok is false
// when xml.Unmarshal must decode it instead; c is then meaningless.
func decodeSessionsXMLFast(b []byte) (c Container, ok bool) {
	defer func() {
		// A bug here must not take the monitor down: encoding/xml decides.
		if recover() != nil {
			c, ok = Container{}, false
		}
	}()
	return walkSessionsXML(b)
}

// walkSessionsXML is decodeSessionsXMLFast without the safety net, so that
// tests see its panics.
func walkSessionsXML(b []byte) (c Container, ok bool) {
	d := xml.NewDecoder(bytes.NewReader(b))
	var start xml.StartElement
	for {
		tok, err := d.Token()
		if err != nil {
			return c, false
		}
		if t, isStart := tok.(xml.StartElement); isStart {
			start = t
			break
		}
	}
	if start.Name.Local != "MediaContainer" {
		return c, false // Unmarshal's "expected element type" error
	}
	c.XMLName = start.Name
	for _, a := range start.Attr {
		if a.Name.Local == "size" {
			_ = c.Size.UnmarshalXMLAttr(a)
		}
	}
	for {
		tok, err := d.Token()
		if err != nil {
			return c, false
		}
		switch t := tok.(type) {
		case xml.StartElement:
			c.Metadata = append(c.Metadata, Metadata{XMLName: t.Name})
			if !xmlElement(d, t, &c.Metadata[len(c.Metadata)-1]) {
				return c, false
			}
		case xml.EndElement:
			return c, true
		}
	}
}

// xmlElement decodes the attributes and children of start into v and reads
// up to its end. It reports false on an error.
func xmlElement(d *xml.Decoder, start xml.StartElement, v fielder) bool {
	t := v.names()
	for _, a := range start.Attr {
		if i, ok := t.exact[a.Name.Local]; ok {
			xmlAttr(v.field(i), a)
		}
	}
	for {
		tok, err := d.Token()
		if err != nil {
			return false
		}
		switch e := tok.(type) {
		case xml.StartElement:
			handled, ok := false, true
			if i, found := t.exact[e.Name.Local]; found {
				handled, ok = xmlChild(d, v.field(i), e)
			}
			if !ok {
				return false
			}
			if !handled && d.Skip() != nil {
				return false
			}
		case xml.EndElement:
			return true
		}
	}
}

// xmlAttr sets an attribute field as encoding/xml does: through
// UnmarshalXMLAttr where the type has it, else by copying the value.
func xmlAttr(p any, a xml.Attr) {
	switch p := p.(type) {
	case *string:
		*p = a.Value
	case *String:
		*p = String(a.Value)
	case *NumID:
		*p = NumID(a.Value)
	case *Int:
		_ = p.UnmarshalXMLAttr(a)
	case *Float:
		_ = p.UnmarshalXMLAttr(a)
	case *Bool:
		_ = p.UnmarshalXMLAttr(a)
	case *OptBool:
		_ = p.UnmarshalXMLAttr(a)
	}
	// Element fields (slices, children) take no attributes.
}

// xmlChild decodes a child element into the field p points to. handled is
// false when the field is not an element field (the caller skips the
// element); ok is false on an error.
func xmlChild(d *xml.Decoder, p any, start xml.StartElement) (handled, ok bool) {
	switch p := p.(type) {
	case *[]Media:
		return true, xmlAppend(d, p, start)
	case *[]Part:
		return true, xmlAppend(d, p, start)
	case *[]Stream:
		return true, xmlAppend(d, p, start)
	case **User:
		return true, xmlPointer(d, p, start)
	case **Player:
		return true, xmlPointer(d, p, start)
	case **Session:
		return true, xmlPointer(d, p, start)
	case **TranscodeSession:
		return true, xmlPointer(d, p, start)
	}
	return false, true
}

func xmlAppend[T any, P interface {
	*T
	fielder
}](d *xml.Decoder, dst *[]T, start xml.StartElement) bool {
	*dst = append(*dst, *new(T))
	return xmlElement(d, start, P(&(*dst)[len(*dst)-1]))
}

func xmlPointer[T any, P interface {
	*T
	fielder
}](d *xml.Decoder, dst **T, start xml.StartElement) bool {
	if *dst == nil {
		*dst = new(T)
	}
	return xmlElement(d, start, P(*dst))
}
