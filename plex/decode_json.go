package plex

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math/bits"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// The fast path for JSON /status/sessions answers.
//
// encoding/json spends most of its time on work Plex Warden does not need:
// it scans the whole answer to validate it, then scans it again with
// reflection, calling an UnmarshalJSON method (which scans its bytes once
// more) for every tolerant field. The fast path instead
//
//  1. validates the answer with jsontext (github.com/go-json-experiment/json,
//     the code base of encoding/json/v2) under the options that make it
//     accept exactly what encoding/json accepts: invalid UTF-8 inside strings
//     and repeated names. jsontext validates about three times faster than
//     encoding/json here; an answer it rejects goes to encoding/json, so
//     syntax errors and their messages are unchanged;
//  2. walks the now known-valid answer once (jdec: it only needs to find
//     where each value ends, never to check grammar) and hands each field,
//     by name, to the same tolerant conversions the types' UnmarshalJSON
//     methods use, with no reflection. Strings with escapes or invalid UTF-8
//     are unquoted by encoding/json itself.
//
// Walking with a jsontext.Decoder (ReadToken/ReadValue per token) instead of
// jdec needs no scanning code of ours, but its per-token bookkeeping made the
// whole decode 15–30 % slower, about 10 ms or more for 1,000 sessions on the
// benchmark machine (docs/BENCHMARKS.md).
//
// The result must be exactly what encoding/json gives with the types in
// models.go. Where reproducing that is not simple the fast path gives up
// (ok = false) and DecodeSessions uses encoding/json: when a slice or child
// is named twice in one object (encoding/json merges the values). What it
// does reproduce:
//
//   - field names match exactly or, failing that, case-insensitively as
//     encoding/json's foldName defines it; a scalar field named twice takes
//     both values in turn;
//   - a field given a value of the wrong kind is left as it is
//     (encoding/json records an UnmarshalTypeError, which decodeBody
//     ignores); a top-level value or MediaContainer that is not an object
//     gives no sessions;
//   - null leaves a plain string alone, zeroes an Int/Float/Bool/String (their
//     UnmarshalJSON sees "null"), and leaves a slice or child pointer nil;
//   - an empty array gives an empty, non-nil slice; elements that are not
//     objects (null included) give zero elements;
//   - User, Player, Session and TranscodeSession accept an object or a
//     one-element array (the first element wins); any other value gives a
//     non-nil empty child, as their UnmarshalJSON methods do.
//
// decode_fast_test.go compares both paths on the simulator's answers, the
// fixtures, the fuzz seeds and hand-written odd inputs, and fuzzes them.

// jsonOptions make jsontext accept what encoding/json accepts.
var jsonOptions = []jsontext.Options{jsontext.AllowInvalidUTF8(true), jsontext.AllowDuplicateNames(true)}

// errFallback makes the fast path give up and leave the answer to
// encoding/json. It never leaves this file.
var errFallback = errors.New("plex: answer needs the encoding/json path")

// decodeSessionsJSONFast decodes a JSON /status/sessions answer. ok is false
// when the answer must go through decodeBody instead; c is then
// meaningless.
func decodeSessionsJSONFast(b []byte) (c Container, ok bool) {
	// The check that the answer is valid JSON is about a third of the
	// work: for a large answer (a busy server's, hundreds of sessions) it
	// runs on another core while the walk goes on, and the walk's result
	// counts only if the answer is valid. The walk never reads past the
	// end of b nor loops forever, whatever b holds.
	var valid func() bool
	if len(b) >= parallelCheck {
		done := make(chan bool, 1)
		go func() { done <- jsontext.Value(b).IsValid(jsonOptions...) }()
		valid = func() bool { return <-done }
	} else {
		if !jsontext.Value(b).IsValid(jsonOptions...) {
			return c, false
		}
		valid = func() bool { return true }
	}
	c, ok = walkSafely(b)
	if !valid() {
		return Container{}, false
	}
	return c, ok
}

// parallelCheck is the answer size from which the JSON check runs beside
// the walk (about 50 sessions): below it, starting a goroutine costs more
// than it saves.
const parallelCheck = 64 << 10

// walkSafely is walkSessionsJSON that reports a panic as a failure.
func walkSafely(b []byte) (c Container, ok bool) {
	defer func() {
		// jdec relies on the answer being valid JSON. Should it ever
		// trip over an invalid one (it is walked while being checked) or
		// hit a bug, encoding/json decides.
		if recover() != nil {
			c, ok = Container{}, false
		}
	}()
	return walkSessionsJSON(b)
}

// walkSessionsJSON is decodeSessionsJSONFast after validation, without the
// safety net, so that tests see its panics.
func walkSessionsJSON(b []byte) (c Container, ok bool) {
	j := &jdec{b: b, strs: make([]string, cacheSlots(len(b)))}
	if j.peek() == '{' {
		j.open()
		o := object{t: &wrapperNames, prev: -1}
		for j.more() {
			if j.field(&o) == 0 && j.peek() == '{' {
				j.container(&c)
			} else {
				j.skip() // other names; a MediaContainer that is null or not an object
			}
		}
	} else {
		j.skip() // another kind of value is a type error: no sessions
	}
	return c, j.err == nil
}

// jdec walks an answer already known to be valid JSON: it only has to find
// where values end. The first error (only errFallback) sticks: every method
// does nothing once err is set.
type jdec struct {
	b   []byte
	i   int // offset of the next byte to read
	err error
	// simple is set by stringEnd: see there.
	simple bool
	// strs holds recently made short strings, so that the values every
	// session repeats (codecs, decisions, products, platforms, titles)
	// are allocated once per answer instead of once per field. Its length
	// is a power of two, larger for larger answers (cacheSlots).
	strs []string
	// next[t][i+1] is 1 + the field of table t that followed field i (-1
	// for the first) the last time: see field.
	next [10][65]uint8
}

func (j *jdec) fail(err error) {
	if j.err == nil {
		j.err = err
	}
}

// ws skips white space (of which Plex sends none).
func (j *jdec) ws() {
	for j.i < len(j.b) && j.b[j.i] <= ' ' {
		switch j.b[j.i] {
		case ' ', '\t', '\n', '\r':
			j.i++
		default:
			return
		}
	}
}

// peek returns the first byte of the next value ('{', '[', '"', 'n', …).
func (j *jdec) peek() byte {
	j.ws()
	if j.err != nil || j.i >= len(j.b) {
		return 0
	}
	return j.b[j.i]
}

// open reads the '{' or '[' the caller has peeked.
func (j *jdec) open() {
	j.ws()
	j.i++
}

// more reports whether another name (in an object) or element (in an
// array) follows; at the closing '}' or ']' it reads it and reports false.
func (j *jdec) more() bool {
	if j.err != nil {
		return false
	}
	j.ws()
	if j.i >= len(j.b) {
		j.fail(errFallback)
		return false
	}
	switch j.b[j.i] {
	case ',':
		j.i++
	case '}', ']':
		j.i++
		return false
	}
	return true
}

// value reads the next value whole, as raw bytes.
func (j *jdec) value() []byte {
	if j.err != nil {
		return nil
	}
	j.ws()
	start := j.i
	j.simple = false
	switch j.b[start] {
	case '"':
		j.i = j.stringEnd(start)
	case '{', '[':
		j.i = j.compositeEnd(start)
	case 't', 'n':
		j.i += 4
	case 'f':
		j.i += 5
	default: // a number
		j.i++
		for j.i < len(j.b) && isNumberByte(j.b[j.i]) {
			j.i++
		}
	}
	return j.b[start:j.i]
}

func (j *jdec) skip() { _ = j.value() }

func isNumberByte(c byte) bool {
	return '0' <= c && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'
}

// stringEnd returns the offset just past the string that starts at p: past
// the first quote not escaped by a backslash. It sets j.simple to whether
// the string has no escape and only ASCII, so that its text is the bytes
// between the quotes.
func (j *jdec) stringEnd(p int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	b := j.b
	var high byte // bit 7 set once a byte is not ASCII or is escaped
	for p++; ; {
		// Eight bytes at a time up to the first quote, backslash or
		// non-ASCII byte: the lowest byte that is zero in x^quotes or in
		// x^backslashes, or has its high bit set.
		for p+8 <= len(b) {
			x := binary.LittleEndian.Uint64(b[p:])
			q, e := x^('"'*ones), x^('\\'*ones)
			if t := ((q-ones)&^q | (e-ones)&^e | x) & highs; t != 0 {
				p += bits.TrailingZeros64(t) / 8
				break
			}
			p += 8
		}
		if p >= len(b) {
			panic("plex: unterminated string in validated JSON")
		}
		switch c := b[p]; c {
		case '"':
			j.simple = high < utf8.RuneSelf
			return p + 1
		case '\\':
			high = utf8.RuneSelf
			p += 2 // and the escaped byte ('"', '\\', 'u', …)
		default:
			high |= c
			p++
		}
	}
}

// compositeEnd returns the offset just past the object or array that
// starts at p.
func (j *jdec) compositeEnd(p int) int {
	depth := 0
	for {
		switch j.b[p] {
		case '"':
			p = j.stringEnd(p)
			continue
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return p + 1
			}
		}
		p++
	}
}

// cacheSlots is the size of jdec.strs for an answer of n bytes: 256 slots
// (4 KiB), doubled each time the answer doubles past 128 KiB (about 100
// sessions), up to 1,024.
func cacheSlots(n int) int {
	s := 256
	for s < 1024 && s*512 < n {
		s *= 2
	}
	return s
}

// string returns b as a string, reusing an equal one made before if the
// cache has it. Strings are immutable, so sharing them changes nothing.
// The cache is two-way set-associative: a value is looked for in two slots,
// and a new one replaces the older of them, so that two values a session
// repeats cannot keep evicting each other.
func (j *jdec) string(b []byte) string {
	n := len(b)
	if n == 0 {
		return ""
	}
	if n > 48 {
		return string(b)
	}
	// A multiplicative hash of the length and the first and last (up to)
	// eight bytes.
	var lo, hi uint64
	if n >= 8 {
		lo, hi = binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[n-8:])
	} else {
		for _, c := range b {
			lo = lo<<8 | uint64(c)
		}
	}
	h := ((lo^uint64(n))*0x9E3779B97F4A7C15 ^ hi*0xC2B2AE3D27D4EB4F) >> 32
	h &= uint64(len(j.strs)-1) &^ 1
	set := j.strs[h : h+2 : h+2]
	if set[0] == string(b) {
		return set[0]
	}
	if set[1] == string(b) {
		return set[1]
	}
	s := string(b)
	set[1], set[0] = set[0], s
	return s
}

// object is the state of one object being read: which fields it has had,
// and the last one, to predict the next.
type object struct {
	t    *fieldTable
	v    fielder // nil for the wrapper and the container
	seen uint64
	prev int
}

// field reads an object name and its colon, and returns the index of the
// field it names in o.t, or -1 (the caller's default case then skips the
// value).
//
// A field named twice (in any case: Plex sends both "guid", a string, and
// "Guid", an array) is decoded twice, as encoding/json does. For the scalar
// fields that is what set does anyway: a tolerant type takes the last
// value; a plain string takes the last string and ignores other kinds. For
// a slice or child a second value merges into the first in ways not worth
// copying, so the fast path gives up.
//
// Plex writes the fields of every object of a kind in the same order, so
// the field that followed o.prev last time is tried first with one
// comparison; only a miss costs a lookup in o.t. (An exact match of the raw
// name cannot hide an escape: no field name has a backslash.)
func (j *jdec) field(o *object) int {
	if j.err != nil {
		return -1
	}
	j.ws()
	start := j.i
	j.i = j.stringEnd(start)
	quoted := j.b[start:j.i]
	j.ws()
	j.i++ // ':'
	next := &j.next[o.t.id][o.prev+1]
	i := int(*next) - 1
	if i < 0 || o.t.names[i] != string(quoted[1:len(quoted)-1]) {
		name := quoted[1 : len(quoted)-1]
		if !j.simple && bytes.IndexByte(name, '\\') >= 0 {
			var s string
			if json.Unmarshal(quoted, &s) != nil {
				return -1 // cannot happen: the answer is valid
			}
			name = []byte(s)
		}
		if i = o.t.lookup(name); i < 0 {
			return -1
		}
		*next = uint8(i + 1)
	}
	if o.seen&(1<<i) != 0 && !o.scalar(i) {
		j.fail(errFallback)
		return -1
	}
	o.seen |= 1 << i
	o.prev = i
	return i
}

// scalar reports whether field i is a string, Int, Float or Bool.
func (o *object) scalar(i int) bool {
	if o.v == nil {
		return false
	}
	switch o.v.field(i).(type) {
	case *string, *String, *NumID, *Int, *Float, *Bool, *OptBool:
		return true
	}
	return false
}

// The tolerant scalars go through the same conversion as their
// UnmarshalJSON methods, on the same raw bytes encoding/json would pass.

func (j *jdec) int(dst *Int) {
	if v := j.value(); v != nil {
		_ = dst.UnmarshalJSON(v)
	}
}

func (j *jdec) float(dst *Float) {
	if v := j.value(); v != nil {
		_ = dst.UnmarshalJSON(v)
	}
}

func (j *jdec) bool(dst *Bool) {
	if v := j.value(); v != nil {
		_ = dst.UnmarshalJSON(v)
	}
}

func (j *jdec) str(dst *String) {
	v := j.value()
	if len(v) >= 2 && v[0] == '"' && (j.simple || bytes.IndexByte(v, '\\') < 0) {
		*dst = String(j.string(v[1 : len(v)-1])) // String.UnmarshalJSON's fast case
		return
	}
	if v != nil {
		_ = dst.UnmarshalJSON(v)
	}
}

// plain decodes a plain Go string field: a JSON string sets it, anything
// else (null, or a type error) leaves it alone.
func (j *jdec) plain(dst *string) {
	v := j.value()
	if len(v) < 2 || v[0] != '"' {
		return
	}
	if j.simple || simpleString(v) {
		*dst = j.string(v[1 : len(v)-1])
		return
	}
	// Escapes or invalid UTF-8: let encoding/json unquote it, replacement
	// characters and all.
	var s string
	if json.Unmarshal(v, &s) == nil {
		*dst = s
	}
}

// simpleString reports whether a quoted JSON string has no escapes and is
// valid UTF-8, so its text is the bytes between the quotes.
func simpleString(quoted []byte) bool {
	s := quoted[1 : len(quoted)-1]
	for i, c := range s {
		if c == '\\' {
			return false
		}
		if c >= utf8.RuneSelf {
			return bytes.IndexByte(s[i:], '\\') < 0 && utf8.Valid(s[i:])
		}
	}
	return true
}

// set decodes the next value into the field p points to.
func (j *jdec) set(p any) {
	switch p := p.(type) {
	case *string:
		j.plain(p)
	case *String:
		j.str(p)
	case *NumID:
		var v String
		j.str(&v)
		*p = NumID(v)
	case *Int:
		j.int(p)
	case *Float:
		j.float(p)
	case *Bool:
		j.bool(p)
	case *OptBool:
		if v := j.value(); v != nil {
			_ = p.UnmarshalJSON(v)
		}
	case *[]Media:
		slice(j, p, 1)
	case *[]Part:
		slice(j, p, 1)
	case *[]Stream:
		slice(j, p, 2) // video and audio
	case **User:
		child(j, p)
	case **Player:
		child(j, p)
	case **Session:
		child(j, p)
	case **TranscodeSession:
		child(j, p)
	default:
		panic("plex: no JSON decoding for a field of this type")
	}
}

// object decodes the object at the next '{' into v.
func (j *jdec) object(v fielder) {
	j.open()
	o := object{t: v.names(), v: v, prev: -1}
	for j.more() {
		if i := j.field(&o); i >= 0 {
			j.set(v.field(i))
		} else {
			j.skip()
		}
	}
}

// slice decodes an array of structs: each object element into a zero T,
// any other element (null included) left zero. null and values of the wrong
// kind leave dst nil; [] gives an empty, non-nil slice. capHint is the
// expected number of elements.
func slice[T any, P interface {
	*T
	fielder
}](j *jdec, dst *[]T, capHint int) {
	if j.peek() != '[' {
		j.skip()
		return
	}
	j.open()
	s := make([]T, 0, capHint)
	for j.more() {
		s = append(s, *new(T))
		if j.peek() == '{' {
			j.object(P(&s[len(s)-1]))
		} else {
			j.skip()
		}
	}
	*dst = s
}

// child decodes User, Player, Session or TranscodeSession as their
// UnmarshalJSON methods do: null leaves dst nil; an object, or the first
// element of an array, fills a new value; anything else gives an empty one.
func child[T any, P interface {
	*T
	fielder
}](j *jdec, dst **T) {
	switch j.peek() {
	case 'n':
		j.skip()
	case '{':
		p := new(T)
		j.object(P(p))
		*dst = p
	case '[':
		p := new(T)
		j.open()
		for first := true; j.more(); first = false {
			if first && j.peek() == '{' {
				j.object(P(p))
			} else {
				j.skip()
			}
		}
		*dst = p
	default:
		j.skip()
		*dst = new(T)
	}
}

var (
	wrapperNames   = newFieldTable("MediaContainer")
	containerNames = newFieldTable("size", "Metadata")
)

// container decodes the object at the next '{' into c.
func (j *jdec) container(c *Container) {
	j.open()
	o := object{t: &containerNames, prev: -1}
	for j.more() {
		switch j.field(&o) {
		case 0:
			j.int(&c.Size)
		case 1:
			// Plex sends size first. Trust it only as far as the answer
			// could hold that many items, so that a wrong size cannot make
			// the slice much larger than the answer itself.
			slice(j, &c.Metadata, int(min(max(c.Size, 0), Int(len(j.b)/256))))
		default:
			j.skip()
		}
	}
}
