package plex

import (
	"unicode"
	"unicode/utf8"
)

// Field tables for the fast decoders (decode_json.go, decode_xml.go): the
// wire names of each model's fields, and a method giving a pointer to the
// field of each index, so that both decoders set fields without
// reflection. TestFieldTables checks them against the tags in models.go.

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

var (
	metadataNames = newFieldTable("sessionKey", "ratingKey", "key", "guid", "type", "subtype", "title",
		"parentTitle", "grandparentTitle", "index", "parentIndex", "year", "duration", "viewOffset",
		"librarySectionID", "librarySectionTitle", "live", "Media", "User", "Player", "Session", "TranscodeSession")
	mediaNames = newFieldTable("id", "container", "bitrate", "videoCodec", "audioCodec", "videoResolution",
		"width", "height", "selected", "Part")
	partNames   = newFieldTable("id", "decision", "file", "container", "selected", "Stream")
	streamNames = newFieldTable("id", "streamType", "codec", "decision", "location", "selected",
		"displayTitle", "width", "height", "bitrate")
	userNames   = newFieldTable("id", "title", "thumb")
	playerNames = newFieldTable("machineIdentifier", "title", "product", "platform", "platformVersion",
		"device", "model", "profile", "version", "vendor", "state", "address", "remotePublicAddress",
		"local", "relayed", "secure", "userID")
	sessionNames   = newFieldTable("id", "bandwidth", "location")
	transcodeNames = newFieldTable("key", "throttled", "complete", "error", "progress", "speed", "size",
		"duration", "remaining", "context", "videoDecision", "audioDecision", "subtitleDecision", "protocol",
		"sourceVideoCodec", "sourceAudioCodec", "container", "videoCodec", "audioCodec", "audioChannels",
		"width", "height", "transcodeHwRequested", "transcodeHwFullPipeline", "transcodeHwDecoding",
		"transcodeHwDecodingTitle", "transcodeHwEncoding", "transcodeHwEncodingTitle", "timeStamp",
		"maxOffsetAvailable", "minOffsetAvailable")
)

func (m *Metadata) names() *fieldTable { return &metadataNames }

func (m *Metadata) field(i int) any {
	switch i {
	case 0:
		return &m.SessionKey
	case 1:
		return &m.RatingKey
	case 2:
		return &m.Key
	case 3:
		return &m.GUID
	case 4:
		return &m.Type
	case 5:
		return &m.Subtype
	case 6:
		return &m.Title
	case 7:
		return &m.ParentTitle
	case 8:
		return &m.GrandparentTitle
	case 9:
		return &m.Index
	case 10:
		return &m.ParentIndex
	case 11:
		return &m.Year
	case 12:
		return &m.Duration
	case 13:
		return &m.ViewOffset
	case 14:
		return &m.LibrarySectionID
	case 15:
		return &m.LibrarySectionTitle
	case 16:
		return &m.Live
	case 17:
		return &m.Media
	case 18:
		return &m.User
	case 19:
		return &m.Player
	case 20:
		return &m.Session
	case 21:
		return &m.TranscodeSession
	}
	return nil
}

func (m *Media) names() *fieldTable { return &mediaNames }

func (m *Media) field(i int) any {
	switch i {
	case 0:
		return &m.ID
	case 1:
		return &m.Container
	case 2:
		return &m.Bitrate
	case 3:
		return &m.VideoCodec
	case 4:
		return &m.AudioCodec
	case 5:
		return &m.VideoResolution
	case 6:
		return &m.Width
	case 7:
		return &m.Height
	case 8:
		return &m.Selected
	case 9:
		return &m.Part
	}
	return nil
}

func (p *Part) names() *fieldTable { return &partNames }

func (p *Part) field(i int) any {
	switch i {
	case 0:
		return &p.ID
	case 1:
		return &p.Decision
	case 2:
		return &p.File
	case 3:
		return &p.Container
	case 4:
		return &p.Selected
	case 5:
		return &p.Stream
	}
	return nil
}

func (s *Stream) names() *fieldTable { return &streamNames }

func (s *Stream) field(i int) any {
	switch i {
	case 0:
		return &s.ID
	case 1:
		return &s.StreamType
	case 2:
		return &s.Codec
	case 3:
		return &s.Decision
	case 4:
		return &s.Location
	case 5:
		return &s.Selected
	case 6:
		return &s.DisplayTitle
	case 7:
		return &s.Width
	case 8:
		return &s.Height
	case 9:
		return &s.Bitrate
	}
	return nil
}

func (u *User) names() *fieldTable { return &userNames }

func (u *User) field(i int) any {
	switch i {
	case 0:
		return &u.ID
	case 1:
		return &u.Title
	case 2:
		return &u.Thumb
	}
	return nil
}

func (p *Player) names() *fieldTable { return &playerNames }

func (p *Player) field(i int) any {
	switch i {
	case 0:
		return &p.MachineIdentifier
	case 1:
		return &p.Title
	case 2:
		return &p.Product
	case 3:
		return &p.Platform
	case 4:
		return &p.PlatformVersion
	case 5:
		return &p.Device
	case 6:
		return &p.Model
	case 7:
		return &p.Profile
	case 8:
		return &p.Version
	case 9:
		return &p.Vendor
	case 10:
		return &p.State
	case 11:
		return &p.Address
	case 12:
		return &p.RemotePublicAddress
	case 13:
		return &p.Local
	case 14:
		return &p.Relayed
	case 15:
		return &p.Secure
	case 16:
		return &p.UserID
	}
	return nil
}

func (s *Session) names() *fieldTable { return &sessionNames }

func (s *Session) field(i int) any {
	switch i {
	case 0:
		return &s.ID
	case 1:
		return &s.Bandwidth
	case 2:
		return &s.Location
	}
	return nil
}

func (t *TranscodeSession) names() *fieldTable { return &transcodeNames }

func (t *TranscodeSession) field(i int) any {
	switch i {
	case 0:
		return &t.Key
	case 1:
		return &t.Throttled
	case 2:
		return &t.Complete
	case 3:
		return &t.Error
	case 4:
		return &t.Progress
	case 5:
		return &t.Speed
	case 6:
		return &t.Size
	case 7:
		return &t.Duration
	case 8:
		return &t.Remaining
	case 9:
		return &t.Context
	case 10:
		return &t.VideoDecision
	case 11:
		return &t.AudioDecision
	case 12:
		return &t.SubtitleDecision
	case 13:
		return &t.Protocol
	case 14:
		return &t.SourceVideoCodec
	case 15:
		return &t.SourceAudioCodec
	case 16:
		return &t.Container
	case 17:
		return &t.VideoCodec
	case 18:
		return &t.AudioCodec
	case 19:
		return &t.AudioChannels
	case 20:
		return &t.Width
	case 21:
		return &t.Height
	case 22:
		return &t.TranscodeHwRequested
	case 23:
		return &t.TranscodeHwFullPipeline
	case 24:
		return &t.TranscodeHwDecoding
	case 25:
		return &t.TranscodeHwDecodingTitle
	case 26:
		return &t.TranscodeHwEncoding
	case 27:
		return &t.TranscodeHwEncodingTitle
	case 28:
		return &t.TimeStamp
	case 29:
		return &t.MaxOffsetAvailable
	case 30:
		return &t.MinOffsetAvailable
	}
	return nil
}
