package plex

import (
	"unicode"
	"unicode/utf8"
)

// Field tables for the fast decoders (decode_json.go, decode_xml.go): the
// wire names of each model's fields, and a method giving a pointer to the
// field of each index, so that both decoders set fields without
// reflection. fields.go is generated from the tags in models.go
// (go generate ./plex); TestFieldTables checks it is up to date.

// fielder is a model type the fast decoders fill in.
type fielder interface {
	// names is the table of the type's field names (the json and xml tags,
	// which are the same).
	names() *fieldTable
	// field returns a pointer to the field of index i in names: *String,
	// *string, *Int, *Float, *Bool, *[]T or **T.
	field(i int) any
}

// fieldTable maps the wire names of one struct's fields to their index in
// names. JSON matches them as encoding/json does (exact name first, then
// case-insensitively: lookup); XML only exactly (exact), as encoding/xml
// does.
type fieldTable struct {
	id     int // index into jdec.next
	names  []string
	exact  map[string]int
	folded map[string]int
	// first[n] has bit c&63 set when a name of n bytes starts with c in
	// upper case: a cheap test that an ASCII name can match none.
	first [64]uint64
}

var numTables int

func newFieldTable(names ...string) fieldTable {
	if len(names) > 64 {
		panic("plex: a fieldTable holds at most 64 names")
	}
	if numTables == len(jdec{}.next) {
		panic("plex: too many fieldTables for jdec.next")
	}
	t := fieldTable{id: numTables, names: names, exact: map[string]int{}, folded: map[string]int{}}
	numTables++
	for i, n := range names {
		t.exact[n] = i
		t.folded[string(foldName(nil, []byte(n)))] = i
		if len(n) > 0 && len(n) < 64 {
			t.first[len(n)] |= 1 << (foldName(nil, []byte(n[:1]))[0] & 63)
		}
	}
	return t
}

// lookup returns the index of the field an (unquoted) JSON name selects,
// or -1.
func (t *fieldTable) lookup(name []byte) int {
	if i, ok := t.exact[string(name)]; ok {
		return i
	}
	// The names here are ASCII, so an ASCII name can only match one of the
	// same length and first letter; a non-ASCII one may fold to a shorter
	// name (U+017F, long s, folds to 'S'; U+212A, Kelvin, to 'K').
	ascii := true
	for _, c := range name {
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		n := len(name)
		if n == 0 || n >= 64 {
			return -1
		}
		c := name[0]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		if t.first[n]&(1<<(c&63)) == 0 {
			return -1
		}
	}
	var buf [64]byte
	if i, ok := t.folded[string(foldName(buf[:0], name))]; ok {
		return i
	}
	return -1
}

// foldName appends the case-folded form of in to out, as encoding/json's
// own foldName does: two names fold alike exactly when bytes.EqualFold
// reports them equal.
func foldName(out, in []byte) []byte {
	for i := 0; i < len(in); {
		if c := in[i]; c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			out = append(out, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(in[i:])
		for {
			r2 := unicode.SimpleFold(r)
			if r2 <= r {
				r = r2
				break
			}
			r = r2
		}
		out = utf8.AppendRune(out, r)
		i += n
	}
	return out
}
