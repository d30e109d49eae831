//go:generate go run ./internal/genfields

package plex

import (
	"encoding/json"
	"encoding/xml"
	"strings"
)

// Container is the MediaContainer of /status/sessions and /transcode/sessions.
// In XML the session items are children named by kind (Video, Track, Photo);
// in JSON they are the Metadata array.
type Container struct {
	XMLName  xml.Name   `xml:"MediaContainer" json:"-"`
	Size     Int        `xml:"size,attr" json:"size"`
	Metadata []Metadata `xml:",any" json:"Metadata,omitempty"`
}

// TranscodeContainer is the MediaContainer of GET /transcode/sessions: only
// TranscodeSession children, keyed by bare ids, including sync jobs.
type TranscodeContainer struct {
	XMLName          xml.Name           `xml:"MediaContainer" json:"-"`
	Size             Int                `xml:"size,attr" json:"size"`
	TranscodeSession []TranscodeSession `xml:"TranscodeSession" json:"TranscodeSession,omitempty"`
}

// Metadata is one item of /status/sessions: a movie, episode, track, clip or
// photo being played, with its User, Player, Session and, while the
// transcoder is involved, its TranscodeSession. Every field is optional.
type Metadata struct {
	XMLName             xml.Name          `xml:"" json:"-"`
	SessionKey          String            `xml:"sessionKey,attr,omitempty" json:"sessionKey,omitempty"`
	RatingKey           String            `xml:"ratingKey,attr,omitempty" json:"ratingKey,omitempty"`
	Key                 string            `xml:"key,attr,omitempty" json:"key,omitempty"`
	GUID                string            `xml:"guid,attr,omitempty" json:"guid,omitempty"`
	Type                string            `xml:"type,attr,omitempty" json:"type,omitempty"`
	Subtype             string            `xml:"subtype,attr,omitempty" json:"subtype,omitempty"`
	Title               string            `xml:"title,attr,omitempty" json:"title,omitempty"`
	ParentTitle         string            `xml:"parentTitle,attr,omitempty" json:"parentTitle,omitempty"`
	GrandparentTitle    string            `xml:"grandparentTitle,attr,omitempty" json:"grandparentTitle,omitempty"`
	Index               Int               `xml:"index,attr,omitempty" json:"index,omitempty"`
	ParentIndex         Int               `xml:"parentIndex,attr,omitempty" json:"parentIndex,omitempty"`
	Year                Int               `xml:"year,attr,omitempty" json:"year,omitempty"`
	Duration            Int               `xml:"duration,attr,omitempty" json:"duration,omitempty"`
	ViewOffset          Int               `xml:"viewOffset,attr" json:"viewOffset"` // sent when 0, as Plex does
	LibrarySectionID    String            `xml:"librarySectionID,attr,omitempty" json:"librarySectionID,omitempty"`
	LibrarySectionTitle string            `xml:"librarySectionTitle,attr,omitempty" json:"librarySectionTitle,omitempty"`
	Live                Bool              `xml:"live,attr,omitempty" json:"live,omitempty"`
	Thumb               string            `xml:"thumb,attr,omitempty" json:"thumb,omitempty"`
	Art                 string            `xml:"art,attr,omitempty" json:"art,omitempty"`
	AddedAt             Int               `xml:"addedAt,attr,omitempty" json:"addedAt,omitempty"`
	LibrarySectionKey   string            `xml:"librarySectionKey,attr,omitempty" json:"librarySectionKey,omitempty"`
	GrandparentKey      string            `xml:"grandparentKey,attr,omitempty" json:"grandparentKey,omitempty"`
	GrandparentThumb    string            `xml:"grandparentThumb,attr,omitempty" json:"grandparentThumb,omitempty"`
	Media               []Media           `xml:"Media" json:"Media,omitempty"`
	User                *User             `xml:"User" json:"User,omitempty"`
	Player              *Player           `xml:"Player" json:"Player,omitempty"`
	Session             *Session          `xml:"Session" json:"Session,omitempty"`
	TranscodeSession    *TranscodeSession `xml:"TranscodeSession" json:"TranscodeSession,omitempty"`
}

// Media is one version of an item; the one with Selected set is played.
type Media struct {
	ID              NumID  `xml:"id,attr,omitempty" json:"id,omitempty"`
	Container       string `xml:"container,attr,omitempty" json:"container,omitempty"`
	Bitrate         Int    `xml:"bitrate,attr,omitempty" json:"bitrate,omitempty"`
	VideoCodec      string `xml:"videoCodec,attr,omitempty" json:"videoCodec,omitempty"`
	AudioCodec      string `xml:"audioCodec,attr,omitempty" json:"audioCodec,omitempty"`
	VideoResolution string `xml:"videoResolution,attr,omitempty" json:"videoResolution,omitempty"`
	Width           Int    `xml:"width,attr,omitempty" json:"width,omitempty"`
	Height          Int    `xml:"height,attr,omitempty" json:"height,omitempty"`
	Duration        Int    `xml:"duration,attr,omitempty" json:"duration,omitempty"`
	Protocol        string `xml:"protocol,attr,omitempty" json:"protocol,omitempty"`
	AudioChannels   Int    `xml:"audioChannels,attr,omitempty" json:"audioChannels,omitempty"`
	VideoProfile    string `xml:"videoProfile,attr,omitempty" json:"videoProfile,omitempty"`
	VideoFrameRate  string `xml:"videoFrameRate,attr,omitempty" json:"videoFrameRate,omitempty"`
	Selected        Bool   `xml:"selected,attr,omitempty" json:"selected,omitempty"`
	Part            []Part `xml:"Part" json:"Part,omitempty"`
}

// Part is one file of a Media.
type Part struct {
	ID        NumID    `xml:"id,attr,omitempty" json:"id,omitempty"`
	Decision  string   `xml:"decision,attr,omitempty" json:"decision,omitempty"`
	File      string   `xml:"file,attr,omitempty" json:"file,omitempty"`
	Container string   `xml:"container,attr,omitempty" json:"container,omitempty"`
	Key       string   `xml:"key,attr,omitempty" json:"key,omitempty"`
	Size      Int      `xml:"size,attr,omitempty" json:"size,omitempty"`
	Duration  Int      `xml:"duration,attr,omitempty" json:"duration,omitempty"`
	Selected  Bool     `xml:"selected,attr,omitempty" json:"selected,omitempty"`
	Stream    []Stream `xml:"Stream" json:"Stream,omitempty"`
}

// Stream types as Plex numbers them.
const (
	StreamVideo    = 1
	StreamAudio    = 2
	StreamSubtitle = 3
)

// Stream is one video, audio or subtitle stream of a Part.
type Stream struct {
	ID           NumID  `xml:"id,attr,omitempty" json:"id,omitempty"`
	StreamType   Int    `xml:"streamType,attr,omitempty" json:"streamType,omitempty"`
	Codec        string `xml:"codec,attr,omitempty" json:"codec,omitempty"`
	Decision     string `xml:"decision,attr,omitempty" json:"decision,omitempty"`
	Location     string `xml:"location,attr,omitempty" json:"location,omitempty"`
	Selected     Bool   `xml:"selected,attr,omitempty" json:"selected,omitempty"`
	DisplayTitle string `xml:"displayTitle,attr,omitempty" json:"displayTitle,omitempty"`
	// ExtendedDisplayTitle is "DTS 5.1 @ 1536 kbps (English)": the source too.
	ExtendedDisplayTitle string `xml:"extendedDisplayTitle,attr,omitempty" json:"extendedDisplayTitle,omitempty"`
	Language             string `xml:"language,attr,omitempty" json:"language,omitempty"`
	Channels             Int    `xml:"channels,attr,omitempty" json:"channels,omitempty"`
	Default              Bool   `xml:"default,attr,omitempty" json:"default,omitempty"`
	Width                Int    `xml:"width,attr,omitempty" json:"width,omitempty"`
	Height               Int    `xml:"height,attr,omitempty" json:"height,omitempty"`
	Bitrate              Int    `xml:"bitrate,attr,omitempty" json:"bitrate,omitempty"`
}

// User is the account playing an item. ID "1" is the server owner.
type User struct {
	ID    String `xml:"id,attr,omitempty" json:"id,omitempty"`
	Title string `xml:"title,attr,omitempty" json:"title,omitempty"`
	Thumb string `xml:"thumb,attr,omitempty" json:"thumb,omitempty"`
}

// Player is the client device playing an item.
type Player struct {
	MachineIdentifier   String  `xml:"machineIdentifier,attr,omitempty" json:"machineIdentifier,omitempty"`
	Title               string  `xml:"title,attr,omitempty" json:"title,omitempty"`
	Product             string  `xml:"product,attr,omitempty" json:"product,omitempty"`
	Platform            string  `xml:"platform,attr,omitempty" json:"platform,omitempty"`
	PlatformVersion     string  `xml:"platformVersion,attr,omitempty" json:"platformVersion,omitempty"`
	Device              string  `xml:"device,attr,omitempty" json:"device,omitempty"`
	Model               string  `xml:"model,attr,omitempty" json:"model,omitempty"`
	Profile             string  `xml:"profile,attr,omitempty" json:"profile,omitempty"`
	Version             string  `xml:"version,attr,omitempty" json:"version,omitempty"`
	Vendor              string  `xml:"vendor,attr,omitempty" json:"vendor,omitempty"`
	State               string  `xml:"state,attr,omitempty" json:"state,omitempty"`
	Address             string  `xml:"address,attr,omitempty" json:"address,omitempty"`
	RemotePublicAddress string  `xml:"remotePublicAddress,attr,omitempty" json:"remotePublicAddress,omitempty"`
	Local               OptBool `xml:"local,attr,omitempty" json:"local,omitempty"` // unknown when absent
	Relayed             Bool    `xml:"relayed,attr" json:"relayed"`                 // sent when false, as Plex does
	Secure              Bool    `xml:"secure,attr" json:"secure"`
	UserID              Int     `xml:"userID,attr,omitempty" json:"userID,omitempty"` // a number in JSON (User.id is a string)
}

// Session carries the id that terminate needs, the bandwidth and location.
type Session struct {
	ID        String `xml:"id,attr,omitempty" json:"id,omitempty"`
	Bandwidth Int    `xml:"bandwidth,attr,omitempty" json:"bandwidth,omitempty"`
	Location  string `xml:"location,attr,omitempty" json:"location,omitempty"`
}

// TranscodeSession describes a transcoder job (transcode or direct stream).
type TranscodeSession struct {
	Key                      string `xml:"key,attr,omitempty" json:"key,omitempty"`
	Throttled                Bool   `xml:"throttled,attr" json:"throttled"` // the flags are sent when false, as Plex does
	Complete                 Bool   `xml:"complete,attr" json:"complete"`
	Error                    Bool   `xml:"error,attr" json:"error"`
	Progress                 Float  `xml:"progress,attr,omitempty" json:"progress,omitempty"`
	Speed                    Float  `xml:"speed,attr,omitempty" json:"speed,omitempty"`
	Size                     Int    `xml:"size,attr,omitempty" json:"size,omitempty"`
	Duration                 Int    `xml:"duration,attr,omitempty" json:"duration,omitempty"`
	Remaining                Int    `xml:"remaining,attr,omitempty" json:"remaining,omitempty"`
	Context                  string `xml:"context,attr,omitempty" json:"context,omitempty"`
	VideoDecision            string `xml:"videoDecision,attr,omitempty" json:"videoDecision,omitempty"`
	AudioDecision            string `xml:"audioDecision,attr,omitempty" json:"audioDecision,omitempty"`
	SubtitleDecision         string `xml:"subtitleDecision,attr,omitempty" json:"subtitleDecision,omitempty"`
	Protocol                 string `xml:"protocol,attr,omitempty" json:"protocol,omitempty"`
	SourceVideoCodec         string `xml:"sourceVideoCodec,attr,omitempty" json:"sourceVideoCodec,omitempty"`
	SourceAudioCodec         string `xml:"sourceAudioCodec,attr,omitempty" json:"sourceAudioCodec,omitempty"`
	Container                string `xml:"container,attr,omitempty" json:"container,omitempty"`
	VideoCodec               string `xml:"videoCodec,attr,omitempty" json:"videoCodec,omitempty"`
	AudioCodec               string `xml:"audioCodec,attr,omitempty" json:"audioCodec,omitempty"`
	AudioChannels            Int    `xml:"audioChannels,attr,omitempty" json:"audioChannels,omitempty"`
	Width                    Int    `xml:"width,attr,omitempty" json:"width,omitempty"`
	Height                   Int    `xml:"height,attr,omitempty" json:"height,omitempty"`
	TranscodeHwRequested     Bool   `xml:"transcodeHwRequested,attr" json:"transcodeHwRequested"`
	TranscodeHwFullPipeline  Bool   `xml:"transcodeHwFullPipeline,attr,omitempty" json:"transcodeHwFullPipeline,omitempty"`
	TranscodeHwDecoding      string `xml:"transcodeHwDecoding,attr,omitempty" json:"transcodeHwDecoding,omitempty"`
	TranscodeHwDecodingTitle string `xml:"transcodeHwDecodingTitle,attr,omitempty" json:"transcodeHwDecodingTitle,omitempty"`
	TranscodeHwEncoding      string `xml:"transcodeHwEncoding,attr,omitempty" json:"transcodeHwEncoding,omitempty"`
	TranscodeHwEncodingTitle string `xml:"transcodeHwEncodingTitle,attr,omitempty" json:"transcodeHwEncodingTitle,omitempty"`
	TimeStamp                Float  `xml:"timeStamp,attr,omitempty" json:"timeStamp,omitempty"`
	MaxOffsetAvailable       Float  `xml:"maxOffsetAvailable,attr,omitempty" json:"maxOffsetAvailable,omitempty"`
	MinOffsetAvailable       Float  `xml:"minOffsetAvailable,attr,omitempty" json:"minOffsetAvailable,omitempty"`
}

// ID returns the bare transcode id: the last path segment of Key, so
// "/transcode/sessions/abc" and "abc" both give "abc".
func (t *TranscodeSession) ID() string {
	if t == nil {
		return ""
	}
	return TranscodeID(t.Key)
}

// TranscodeID normalises any form of transcode key ("/transcode/sessions/<id>",
// a bare "<id>") to the bare id.
func TranscodeID(key string) string {
	key = strings.TrimRight(strings.TrimSpace(key), "/")
	if i := strings.LastIndexByte(key, '/'); i >= 0 {
		return key[i+1:]
	}
	return key
}

// Identity is the answer of GET /identity (no token needed).
type Identity struct {
	XMLName           xml.Name `xml:"MediaContainer" json:"-"`
	Claimed           Bool     `xml:"claimed,attr,omitempty" json:"claimed,omitempty"`
	MachineIdentifier String   `xml:"machineIdentifier,attr,omitempty" json:"machineIdentifier,omitempty"`
	Version           string   `xml:"version,attr,omitempty" json:"version,omitempty"`
}

// ServerInfo is the answer of GET / (token needed).
type ServerInfo struct {
	XMLName                       xml.Name `xml:"MediaContainer" json:"-"`
	MachineIdentifier             String   `xml:"machineIdentifier,attr,omitempty" json:"machineIdentifier,omitempty"`
	Version                       string   `xml:"version,attr,omitempty" json:"version,omitempty"`
	FriendlyName                  string   `xml:"friendlyName,attr,omitempty" json:"friendlyName,omitempty"`
	Platform                      string   `xml:"platform,attr,omitempty" json:"platform,omitempty"`
	MyPlexSubscription            Bool     `xml:"myPlexSubscription,attr,omitempty" json:"myPlexSubscription,omitempty"`
	MyPlexUsername                string   `xml:"myPlexUsername,attr,omitempty" json:"myPlexUsername,omitempty"`
	EventStream                   Bool     `xml:"eventStream,attr,omitempty" json:"eventStream,omitempty"`
	OwnerFeatures                 string   `xml:"ownerFeatures,attr,omitempty" json:"ownerFeatures,omitempty"`
	TranscoderActiveVideoSessions Int      `xml:"transcoderActiveVideoSessions,attr,omitempty" json:"transcoderActiveVideoSessions,omitempty"`
}

// HasFeature reports whether ownerFeatures lists name (e.g. "pass").
func (s *ServerInfo) HasFeature(name string) bool {
	for _, f := range strings.Split(s.OwnerFeatures, ",") {
		if strings.TrimSpace(f) == name {
			return true
		}
	}
	return false
}

// The JSON children User, Player, Session and TranscodeSession are objects,
// but a one-element array is accepted too, and a value of the wrong kind is
// ignored instead of failing the whole answer. Other fields of the wrong kind
// are skipped by encoding/json itself (it reports an UnmarshalTypeError after
// decoding everything else), which Decode* below ignore.

func decodeObject[T any](b []byte, dst *T) {
	if len(b) == 0 {
		return
	}
	switch b[0] {
	case '{':
		_ = json.Unmarshal(b, dst)
	case '[':
		var arr []T
		_ = json.Unmarshal(b, &arr)
		if len(arr) > 0 {
			*dst = arr[0]
		}
	}
}

type (
	userFields      User
	playerFields    Player
	sessionFields   Session
	transcodeFields TranscodeSession
)

func trimJSON(b []byte) []byte { return []byte(strings.TrimSpace(string(b))) }

// UnmarshalJSON accepts an object or a one-element array; never fails.
func (u *User) UnmarshalJSON(b []byte) error {
	decodeObject(trimJSON(b), (*userFields)(u))
	return nil
}

// UnmarshalJSON accepts an object or a one-element array; never fails.
func (p *Player) UnmarshalJSON(b []byte) error {
	decodeObject(trimJSON(b), (*playerFields)(p))
	return nil
}

// UnmarshalJSON accepts an object or a one-element array; never fails.
func (s *Session) UnmarshalJSON(b []byte) error {
	decodeObject(trimJSON(b), (*sessionFields)(s))
	return nil
}

// UnmarshalJSON accepts an object or a one-element array; never fails.
func (t *TranscodeSession) UnmarshalJSON(b []byte) error {
	decodeObject(trimJSON(b), (*transcodeFields)(t))
	return nil
}
