package plex

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
)

// compareDecoders decodes b with DecodeSessions and with decodeBody (the
// encoding/json and encoding/xml path the fast paths replace) and fails
// unless both give the same sessions, or the same error. It also runs the
// fast walk itself, without its recover, so that a panic fails the test,
// and reports whether the fast path decoded b (rather than leaving it to
// decodeBody).
func compareDecoders(t testing.TB, b []byte) (fast bool) {
	t.Helper()
	var want Container
	wantErr := decodeBody(b, &want)
	got, gotErr := DecodeSessions(b)
	switch {
	case (wantErr == nil) != (gotErr == nil):
		t.Fatalf("input %q:\nDecodeSessions error %v, decodeBody error %v", clip(b), gotErr, wantErr)
	case wantErr != nil && wantErr.Error() != gotErr.Error():
		t.Fatalf("input %q:\nDecodeSessions error %q, decodeBody error %q", clip(b), gotErr, wantErr)
	case wantErr == nil && !reflect.DeepEqual(got, want.Metadata):
		t.Fatalf("input %q:\nDecodeSessions gives\n%s\ndecodeBody gives\n%s", clip(b), dump(got), dump(want.Metadata))
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return false
	}
	var c Container
	if isXML(b) {
		c, fast = walkSessionsXML(b)
	} else if jsontext.Value(b).IsValid(jsonOptions...) {
		c, fast = walkSessionsJSON(b)
	}
	if !fast {
		return false
	}
	if wantErr != nil {
		t.Fatalf("input %q:\nthe fast path accepts what decodeBody rejects (%v)", clip(b), wantErr)
	}
	if !reflect.DeepEqual(c.Metadata, want.Metadata) {
		t.Fatalf("input %q:\nfast path gives\n%s\ndecodeBody gives\n%s", clip(b), dump(c.Metadata), dump(want.Metadata))
	}
	return true
}

func clip(b []byte) []byte {
	if len(b) > 600 {
		return append(b[:600:600], "…"...)
	}
	return b
}

func dump(v any) string { return fmt.Sprintf("%#v", v) }

// oddJSON are answers that exercise every rule the JSON fast path must
// reproduce. fast says whether it must decode them itself.
var oddJSON = []struct {
	name, body string
	fast       bool
}{
	{"empty object", `{}`, true},
	{"top-level array", `[{"MediaContainer":{"Metadata":[{"title":"x"}]}}]`, true},
	{"top-level string", `"MediaContainer"`, true},
	{"top-level number", ` 12 `, true},
	{"top-level null", `null`, true},
	{"container null", `{"MediaContainer":null}`, true},
	{"container array", `{"MediaContainer":[{"Metadata":[{}]}]}`, true},
	{"container string", `{"MediaContainer":"x"}`, true},
	{"container twice", `{"MediaContainer":{"Metadata":[{"title":"a"}]},"MediaContainer":{"size":2}}`, false},
	{"container null then object", `{"MediaContainer":null,"MediaContainer":{"Metadata":[{}]}}`, false},
	{"container in other case", `{"mediacontainer":{"METADATA":[{"TITLE":"a","SessionKey":"7"}]}}`, true},
	{"metadata null", `{"MediaContainer":{"Metadata":null}}`, true},
	{"metadata empty", `{"MediaContainer":{"size":0,"Metadata":[]}}`, true},
	{"metadata object", `{"MediaContainer":{"Metadata":{"title":"a"}}}`, true},
	{"metadata elements of every kind", `{"MediaContainer":{"Metadata":[null,1,"x",true,[],[{}],{},{"title":"t"}]}}`, true},
	{"size kinds", `{"MediaContainer":{"size":"3","Metadata":[]}}`, true},
	{"size object", `{"MediaContainer":{"size":{"a":1}}}`, true},
	{"size huge", `{"MediaContainer":{"size":99999999999,"Metadata":[{}]}}`, true},
	{"size negative", `{"MediaContainer":{"size":-5,"Metadata":[{}]}}`, true},
	{"metadata before size", `{"MediaContainer":{"Metadata":[{}],"size":1}}`, true},
	{"repeated field", `{"MediaContainer":{"Metadata":[{"title":"a","title":"b"}]}}`, true},
	{"repeated field in another case", `{"MediaContainer":{"Metadata":[{"title":"a","Title":"b"}]}}`, true},
	{"guid and Guid, as Plex sends them", `{"MediaContainer":{"Metadata":[{"guid":"plex://movie/1","Guid":[{"id":"imdb://tt1"}]},{"Guid":[{"id":"imdb://tt2"}],"guid":"plex://movie/2"}]}}`, true},
	{"repeated scalars of every kind", `{"MediaContainer":{"Metadata":[{"title":"a","TITLE":5,"Title":null,"index":3,"INDEX":null,"year":1,"Year":"x","live":true,"LIVE":{},"sessionKey":"1","SessionKey":[2],"ratingKey":"r","RATINGKEY":"s","Player":{"local":true,"Local":"0","title":"p","TITLE":"q"},"TranscodeSession":{"speed":1.5,"SPEED":"2.5","progress":3,"Progress":null}}]}}`, true},
	{"repeated size", `{"MediaContainer":{"size":1,"SIZE":2,"Metadata":[{}]}}`, false},
	{"repeated child merges", `{"MediaContainer":{"Metadata":[{"User":{"id":"1"},"User":{"title":"a"}}]}}`, false},
	{"repeated child, null", `{"MediaContainer":{"Metadata":[{"User":{"id":"1"},"user":null}]}}`, false},
	{"repeated slice merges", `{"MediaContainer":{"Metadata":[{"Media":[{"id":"1"},{"id":"2"}],"media":[{"bitrate":3}]}]}}`, false},
	{"repeated Metadata", `{"MediaContainer":{"Metadata":[{"title":"a"}],"metadata":[null]}}`, false},
	{"repeated field in a second array element", `{"MediaContainer":{"Metadata":[{"User":[{"id":"1"},{"id":"2","id":"3"}]}]}}`, true},
	{"same field in sibling objects", `{"MediaContainer":{"Metadata":[{"title":"a"},{"title":"b"}]}}`, true},
	{"names in any case", `{"MediaContainer":{"Metadata":[{"SESSIONKEY":"1","Title":"t","media":[{"PART":[{"stream":[{"STREAMTYPE":"1"}]}]}],"user":{"TITLE":"u"},"player":{"Local":true},"session":{"ID":"s"},"transcodesession":{"VIDEODECISION":"transcode"}}]}}`, true},
	{"long s folds to S", "{\"MediaContainer\":{\"Metadata\":[{\"\u017fessionKey\":\"1\",\"\u017fubtype\":\"x\"}]}}", true},
	{"kelvin folds to K", "{\"MediaContainer\":{\"Metadata\":[{\"\u212aey\":\"/k\",\"ratingKey\":\"2\"}]}}", true},
	{"non-folding unicode name", "{\"MediaContainer\":{\"Metadata\":[{\"t\u00eftle\":\"x\",\"title\":\"y\"}]}}", true},
	{"escaped names", `{"MediaContainer":{"Metadata":[{"t\u0069tle":"a","\u0073essionKey":"5","Us\u0065r":{"\u0069d":"9"}}]}}`, true},
	{"escaped name repeated", `{"MediaContainer":{"Metadata":[{"t\u0069tle":"a","title":"b"}]}}`, true},
	{"escaped child name repeated", `{"MediaContainer":{"Metadata":[{"\u0055ser":{"id":"1"},"User":{"title":"a"}}]}}`, false},
	{"escaped container name", `{"Media\u0043ontainer":{"Metadata":[{"title":"a"}]}}`, true},
	{"unknown names of every length", `{"MediaContainer":{"Metadata":[{"a":1,"ab":2,"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopq":3,"titlex":4,"":5,"title":"t"}]}}`, true},
	{"escaped strings", `{"MediaContainer":{"Metadata":[{"title":"a\"b\\c\/d\n\t\u00e9\ud83d\ude00","key":"\u0000","guid":"\"","type":"\\"}]}}`, true},
	{"lone surrogates", `{"MediaContainer":{"Metadata":[{"title":"\ud800","key":"\udc00x","guid":"\ud800\u0041","type":"\ud83d"}]}}`, true},
	{"invalid UTF-8", "{\"MediaContainer\":{\"Metadata\":[{\"title\":\"a\xffb\",\"sessionKey\":\"\xc3\",\"key\":\"\xed\xa0\x80\",\"guid\":\"\xf4\x90\x80\x80\",\"\xff\":1}]}}", true},
	{"valid UTF-8", `{"MediaContainer":{"Metadata":[{"title":"Amélie – 天気の子 😀","sessionKey":"ü"}]}}`, true},
	{"strings with brackets", `{"MediaContainer":{"Metadata":[{"x":["]}\"{[",{"a":"}\\"}],"title":"t]}"}]}}`, true},
	{"null everywhere", `{"MediaContainer":{"size":null,"Metadata":[{"sessionKey":null,"title":null,"index":null,"live":null,"Media":null,"User":null,"Player":null,"Session":null,"TranscodeSession":null}]}}`, true},
	{"wrong kinds everywhere", `{"MediaContainer":{"Metadata":[{"sessionKey":[1],"ratingKey":{"a":1},"key":5,"guid":true,"title":[],"index":{"x":1},"parentIndex":[2],"year":true,"live":"yes","Media":{"id":1},"User":"alice","Player":7,"Session":true,"TranscodeSession":1.5}]}}`, true},
	{"wrong kinds in media", `{"MediaContainer":{"Metadata":[{"Media":[{"Part":{"id":1},"selected":[],"bitrate":"fast"},{"Part":[{"Stream":"x"},{"Stream":[null,7,{"streamType":"2"}]}]}]}]}}`, true},
	{"children as arrays", `{"MediaContainer":{"Metadata":[{"User":[{"id":1,"title":"a"},{"id":2}],"Player":[],"Session":[null,{"id":"s"}],"TranscodeSession":[[],{"key":"k"}]}]}}`, true},
	{"child array of arrays", `{"MediaContainer":{"Metadata":[{"User":[[{"id":1}]],"Player":[[]],"Session":[1],"TranscodeSession":["x"]}]}}`, true},
	{"child nested wrong kinds", `{"MediaContainer":{"Metadata":[{"User":{"id":{"x":1},"title":5,"thumb":null},"Player":[{"local":"true","relayed":"TRUE","secure":"x","title":[1]}]}]}}`, true},
	{"numbers as strings", `{"MediaContainer":{"Metadata":[{"index":"5","parentIndex":" 2 ","year":"1999.0","duration":"2580000.0","viewOffset":"1e3","Media":[{"bitrate":"-1","width":"0x10","height":"2160","selected":"1"}],"TranscodeSession":{"progress":"4.5","speed":"NaN","timeStamp":"1e400","size":"-0","complete":"true","error":"0","throttled":" 1"}}]}}`, true},
	{"numbers as numbers", `{"MediaContainer":{"Metadata":[{"index":5,"parentIndex":2.0,"year":1.999e3,"duration":-0,"viewOffset":1e30,"sessionKey":12,"ratingKey":1.50,"Media":[{"id":-7,"bitrate":123456789012345678901234567890,"selected":1}],"TranscodeSession":{"progress":4.5,"speed":1E-7,"timeStamp":1795253501.436,"complete":true,"error":0}}]}}`, true},
	{"booleans", `{"MediaContainer":{"Metadata":[{"live":true,"Player":{"local":false,"relayed":"false","secure":"FALSE"},"Media":[{"selected":"0"},{"selected":""},{"selected":null},{"selected":2}]}]}}`, true},
	{"booleans as strings in String", `{"MediaContainer":{"Metadata":[{"sessionKey":true,"ratingKey":false,"librarySectionID":null,"User":{"id":"\"1\""}}]}}`, true},
	{"white space", " \t\r\n{ \"MediaContainer\" : { \"size\" : 1 , \"Metadata\" : [ { \"title\" : \"a\" , \"User\" : [ { \"id\" : 1 } ] } ] } } \n", true},
	{"unknown deep value", `{"MediaContainer":{"Metadata":[{"x":` + strings.Repeat("[", 9990) + strings.Repeat("]", 9990) + `,"title":"t"}]}}`, true},
	{"too deep", `{"MediaContainer":{"Metadata":[{"x":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}]}}`, false},
	{"trailing data", `{"MediaContainer":{}} {}`, false},
	{"trailing garbage", `{"MediaContainer":{}}x`, false},
	{"truncated", `{"MediaContainer":{"Metadata":[{"title":"a"`, false},
	{"trailing comma", `{"MediaContainer":{"Metadata":[{"title":"a"},]}}`, false},
	{"bad escape", `{"MediaContainer":{"Metadata":[{"title":"\x"}]}}`, false},
	{"control character", "{\"MediaContainer\":{\"Metadata\":[{\"title\":\"a\tb\"}]}}", false},
	{"bad number", `{"MediaContainer":{"size":01}}`, false},
	{"byte order mark", "\ufeff{\"MediaContainer\":{}}", false},
	{"no space but nbsp", "\u00a0{\"MediaContainer\":{}}", false},
	{"single quotes", `{'MediaContainer':{}}`, false},
}

func TestFastJSONAgrees(t *testing.T) {
	for _, tt := range oddJSON {
		t.Run(tt.name, func(t *testing.T) {
			if fast := compareDecoders(t, []byte(tt.body)); fast != tt.fast {
				t.Errorf("decoded by the fast path: %v, want %v", fast, tt.fast)
			}
		})
	}
}

// oddXML does the same for the XML fast path.
var oddXML = []struct {
	name, body string
	fast       bool
}{
	{"empty container", `<MediaContainer/>`, true},
	{"declaration, comments, doctype", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- hi --><!DOCTYPE x><MediaContainer size=\"1\"><!-- c --><Video title=\"a\"/></MediaContainer>", true},
	{"children of any name", `<MediaContainer><Video sessionKey="1"/><Track sessionKey="2"/><Photo/><Metadata/><size/><Whatever><Deep><Deeper/></Deep></Whatever></MediaContainer>`, true},
	{"wrong root", `<Container><Video/></Container>`, false},
	{"root in a name space", `<p:MediaContainer xmlns:p="urn:x"><p:Video p:title="a" title="b"/></p:MediaContainer>`, true},
	{"prefixed and xmlns attributes", `<MediaContainer xmlns:q="urn:q"><Video q:title="a" xmlns:sessionKey="urn:s" xmlns="urn:d"><q:Media q:id="m"/></Video></MediaContainer>`, true},
	{"unknown prefix", `<MediaContainer><Video u:title="a"><u:User u:id="1"/></Video></MediaContainer>`, true},
	{"repeated attribute", `<MediaContainer><Video title="a" title="b" index="1" index="x"/></MediaContainer>`, true},
	{"attributes naming elements", `<MediaContainer><Video Media="x" User="y" Player="z" TranscodeSession="t"/></MediaContainer>`, true},
	{"elements naming attributes", `<MediaContainer><Video title="a"><title>b</title><sessionKey/><index>3</index></Video></MediaContainer>`, true},
	{"repeated children", `<MediaContainer><Video><User id="1"/><User title="a"/><Media id="1"/><Media id="2"><Part/><Part id="p"><Stream/><Stream streamType="2"/></Part></Media><Player local="1"/><Player relayed="1" local="0"/></Video></MediaContainer>`, true},
	{"children in other case", `<MediaContainer><Video><user id="1"/><MEDIA/><player/></Video></MediaContainer>`, true},
	{"char data and CDATA", `<MediaContainer>text<Video>more<![CDATA[<User id="1"/>]]><User id="2">inner</User></Video></MediaContainer>`, true},
	{"entities", `<MediaContainer><Video title="a &amp; b &lt;c&gt; &#233; &#x1F600; &quot;q&quot;"/></MediaContainer>`, true},
	{"tolerant numbers", `<MediaContainer size=" 3 "><Video index="1.0" year="abc" duration="2580000.0" live="true"><Media selected="TRUE" bitrate="-1"/><TranscodeSession progress="4.5" speed="x" complete="1" timeStamp="1e400"/></Video></MediaContainer>`, true},
	{"trailing garbage after root", `<MediaContainer><Video title="a"/></MediaContainer><oops`, true},
	{"second root", `<MediaContainer><Video title="a"/></MediaContainer><MediaContainer><Video/></MediaContainer>`, true},
	{"truncated", `<MediaContainer><Video title="a">`, false},
	{"mismatched end", `<MediaContainer><Video></Media></MediaContainer>`, false},
	{"bad attribute", `<MediaContainer><Video title=a/></MediaContainer>`, false},
	{"unknown entity", `<MediaContainer><Video title="&nope;"/></MediaContainer>`, false},
	{"html", `<html><body>502 Bad Gateway</body></html>`, false},
	{"only a declaration", `<?xml version="1.0"?>`, false},
	{"byte order mark", "\ufeff<MediaContainer size=\"1\"><Video sessionKey=\"1\"/></MediaContainer>", true},
	{"invalid UTF-8", "<MediaContainer><Video title=\"a\xffb\"/></MediaContainer>", false},
	{"deep unknown element", `<MediaContainer><Video>` + strings.Repeat("<x>", 3000) + strings.Repeat("</x>", 3000) + `<User id="1"/></Video></MediaContainer>`, true},
}

func TestFastXMLAgrees(t *testing.T) {
	for _, tt := range oddXML {
		t.Run(tt.name, func(t *testing.T) {
			if fast := compareDecoders(t, []byte(tt.body)); fast != tt.fast {
				t.Errorf("decoded by the fast path: %v, want %v", fast, tt.fast)
			}
		})
	}
}

func TestFastFixturesAgree(t *testing.T) {
	for _, name := range []string{"sessions.xml", "sessions-typed.json", "sessions-strings.json"} {
		if !compareDecoders(t, readFixture(t, name)) {
			t.Errorf("%s: not decoded by the fast path", name)
		}
	}
}

// TestFieldTables checks fields.go against the tags of models.go: every
// json-tagged field of every type has an index whose field method points at
// it, and the xml tag names it the same.
func TestFieldTables(t *testing.T) {
	for _, v := range []fielder{&Metadata{}, &Media{}, &Part{}, &Stream{}, &User{}, &Player{}, &Session{}, &TranscodeSession{}} {
		rv := reflect.ValueOf(v).Elem()
		typ := rv.Type()
		tab := v.names()
		seen := map[string]bool{}
		for k := range typ.NumField() {
			f := typ.Field(k)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if xmlName, _, _ := strings.Cut(f.Tag.Get("xml"), ","); xmlName != name {
				t.Errorf("%s.%s: xml name %q, json name %q", typ.Name(), f.Name, xmlName, name)
			}
			i, ok := tab.exact[name]
			if !ok {
				t.Errorf("%s.%s: %q not in the field table", typ.Name(), f.Name, name)
				continue
			}
			seen[name] = true
			p := reflect.ValueOf(v.field(i))
			if p.Kind() != reflect.Pointer || p.Pointer() != rv.Field(k).Addr().Pointer() || p.Type().Elem() != f.Type {
				t.Errorf("%s: field(%d) for %q is not a pointer to %s", typ.Name(), i, name, f.Name)
			}
		}
		if len(seen) != len(tab.names) {
			t.Errorf("%s: the table has %d names, the type %d json fields", typ.Name(), len(tab.names), len(seen))
		}
		if v.field(len(tab.names)) != nil || v.field(-1) != nil {
			t.Errorf("%s: field gives a pointer past the table", typ.Name())
		}
	}
}

// everyField returns an item with every field of every type set to a
// distinct value, with two of each repeated child.
func everyField() Metadata {
	n := 0
	var fill func(v reflect.Value)
	fill = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Struct:
			if v.Type() == reflect.TypeFor[xml.Name]() {
				return
			}
			for k := range v.NumField() {
				fill(v.Field(k))
			}
		case reflect.Pointer:
			v.Set(reflect.New(v.Type().Elem()))
			fill(v.Elem())
		case reflect.Slice:
			v.Set(reflect.MakeSlice(v.Type(), 2, 2))
			fill(v.Index(0))
			fill(v.Index(1))
		case reflect.String:
			n++
			v.SetString("s" + strconv.Itoa(n))
		case reflect.Int64:
			n++
			v.SetInt(int64(n) * 1001)
		case reflect.Float64:
			n++
			v.SetFloat(float64(n) + 0.25)
		case reflect.Bool:
			v.SetBool(true)
		}
	}
	var m Metadata
	fill(reflect.ValueOf(&m).Elem())
	return m
}

// stringly rewrites every number and boolean of a JSON value as older
// servers send them: as strings, booleans as "1".
func stringly(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			v[k] = stringly(e)
		}
	case []any:
		for i, e := range v {
			v[i] = stringly(e)
		}
	case json.Number:
		return string(v)
	case bool:
		if v {
			return "1"
		}
		return "0"
	}
	return v
}

func TestFastEveryField(t *testing.T) {
	m := everyField()
	items := []Metadata{m, {}, m}
	typed, err := json.Marshal(map[string]any{"MediaContainer": Container{Size: 3, Metadata: items}})
	if err != nil {
		t.Fatal(err)
	}
	var generic any
	dec := json.NewDecoder(bytes.NewReader(typed))
	dec.UseNumber()
	if err := dec.Decode(&generic); err != nil {
		t.Fatal(err)
	}
	strs, err := json.Marshal(stringly(generic))
	if err != nil {
		t.Fatal(err)
	}
	xmlBody, err := xml.Marshal(Container{Size: 3, Metadata: []Metadata{
		withName(m, "Video"), withName(Metadata{}, "Track"), withName(m, "Photo")}})
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string][]byte{"typed json": typed, "string json": strs, "xml": xmlBody} {
		t.Run(name, func(t *testing.T) {
			if !compareDecoders(t, body) {
				t.Fatal("not decoded by the fast path")
			}
			got, _ := DecodeSessions(body)
			for i := range got {
				got[i].XMLName = xml.Name{}
			}
			if !reflect.DeepEqual(got[0], m) || !reflect.DeepEqual(got[2], m) {
				t.Errorf("round trip lost fields:\n got %s\nwant %s", dump(got[0]), dump(m))
			}
		})
	}
}

func withName(m Metadata, name string) Metadata {
	m.XMLName = xml.Name{Local: name}
	return m
}

// TestFastMutations compares both decoders on thousands of damaged
// variants of real answers: bytes deleted, inserted, replaced, spans
// duplicated or cut, so that both valid oddities and near-miss syntax
// errors come up.
func TestFastMutations(t *testing.T) {
	seeds := [][]byte{readFixture(t, "sessions-typed.json"), readFixture(t, "sessions-strings.json"), readFixture(t, "sessions.xml")}
	alphabet := []byte(`{}[]":,\ 0123456789.-+eEtrufalsn` + "\x00\xff\u00e9<>/=&;!?'xyzTKS")
	n := 3000
	if testing.Short() {
		n = 300
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range n {
		b := bytes.Clone(seeds[i%len(seeds)])
		for range 1 + rng.IntN(3) {
			p := rng.IntN(len(b))
			switch rng.IntN(5) {
			case 0: // delete a byte
				b = append(b[:p], b[p+1:]...)
			case 1: // insert one
				b = append(b[:p], append([]byte{alphabet[rng.IntN(len(alphabet))]}, b[p:]...)...)
			case 2: // replace one
				b[p] = alphabet[rng.IntN(len(alphabet))]
			case 3: // duplicate a span
				q := min(len(b), p+1+rng.IntN(40))
				b = append(b[:q], append(bytes.Clone(b[p:q]), b[q:]...)...)
			case 4: // cut a span
				q := min(len(b), p+1+rng.IntN(40))
				b = append(b[:p], b[q:]...)
			}
			if len(b) == 0 {
				break
			}
		}
		compareDecoders(t, b)
	}
}

// TestStringEnd checks the word-at-a-time string scanner against a plain
// byte loop, with quotes, backslashes and non-ASCII bytes at every offset.
func TestStringEnd(t *testing.T) {
	ref := func(b []byte, p int) (end int, simple bool) {
		simple = true
		for p++; ; p++ {
			switch c := b[p]; {
			case c == '"':
				return p + 1, simple
			case c == '\\':
				simple = false
				p++
			case c >= 0x80:
				simple = false
			}
		}
	}
	pieces := []string{`a`, `\"`, `\\`, `\u00e9`, "é", "\xff", `/`, `\\\"`, `0123456789abcdef`}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		var sb strings.Builder
		sb.WriteString(strings.Repeat(" ", rng.IntN(9)))
		start := sb.Len()
		sb.WriteByte('"')
		for range rng.IntN(12) {
			sb.WriteString(pieces[rng.IntN(len(pieces))])
		}
		sb.WriteString(`"`)
		sb.WriteString(strings.Repeat(`x"`, rng.IntN(3)))
		b := []byte(sb.String())
		j := &jdec{b: b}
		wantEnd, wantSimple := ref(b, start)
		if end := j.stringEnd(start); end != wantEnd || j.simple != wantSimple {
			t.Fatalf("stringEnd(%q, %d) = %d, simple %v; want %d, %v", b, start, end, j.simple, wantEnd, wantSimple)
		}
	}
}

// TestFloatFastCases: Float.UnmarshalJSON's in-place cases give what the
// general conversion gives.
func TestFloatFastCases(t *testing.T) {
	inputs := []string{`1.5`, `-1`, `0`, `-0`, `1e400`, `-1e400`, `1e-400`, `12345678901234567890`, `1.`, `-`, `01`, `1 `, `1.5e3x`,
		`"1.5"`, `""`, `" 1.5 "`, `"\t2"`, `"inf"`, `"-Inf"`, `"NaN"`, `"nan"`, `"0x1p-2"`, `"1_000"`, `"1e400"`, "\"1\n\"", "\"1\xff\"",
		"\"\xff\"", `"1.5`, `1.5"`, `"`, `"\u0031"`, `"a\"b"`, `null`, `true`, `{}`, `[1]`, ` 1.5`, `"1.5" `, `"é"`}
	for _, in := range inputs {
		var got Float
		_ = got.UnmarshalJSON([]byte(in))
		if want := parseFloat(unquote([]byte(in))); float64(got) != want {
			t.Errorf("Float(%q) = %v, want %v", in, got, want)
		}
	}
}
