// Sessions to simulate: the specs a test or the demo gives, and the
// defaults that make a partial spec look like what a real server lists.

package plexsim

import (
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// Player states a session can be put in with SetState.
const (
	StatePlaying   = "playing"
	StatePaused    = "paused"
	StateBuffering = "buffering"
	StateStopped   = "stopped" // only in the playing event that ends a session
)

// Transcode decisions for TranscodeSpec.
const (
	DecisionTranscode = "transcode"
	DecisionCopy      = "copy"
	DecisionBurn      = "burn"
)

// SessionSpec describes one playback to simulate. Zero fields get plausible
// defaults (see AddSession).
type SessionSpec struct {
	User, UserID string     // default "owner", "1" (the server owner)
	Player       PlayerSpec // the device playing
	Type         string     // "movie" (default), "episode", "track" or "clip"
	Title        string     // the item: movie, episode or track title
	Show         string     // episodes: the series; tracks: the artist
	Album        string     // tracks: the album
	Season       int        // episodes: season number (parentIndex)
	Episode      int        // episodes: episode number (index)
	Year         int        // release year, optional
	RatingKey    string     // default derived from the title
	DurationMs   int64      // default by type (movie 110 min, episode 45, track 4, clip 2)
	ViewOffsetMs int64      // starting position
	Library      string     // librarySectionTitle, default by type ("Movies", "TV Shows", "Music", …)
	LibraryID    string     // librarySectionID, default by type
	Resolution   string     // "4k", "1080" (default for video), "720", "sd"; none for tracks
	VideoCodec   string     // source video codec, default "h264" (none for tracks)
	AudioCodec   string     // source audio codec, default "aac" ("flac" for tracks)
	BitrateKbps  int64      // source bitrate, default by resolution
	// BandwidthKbps is Session.bandwidth; default the source bitrate, or the
	// transcoded bitrate while transcoding video.
	BandwidthKbps int64
	Local         bool           // on the LAN (Session.location "lan"), else "wan"
	Address       string         // player address; default 192.168.1.x (local) or 203.0.113.x
	State         string         // "playing" (default), "paused" or "buffering"
	Transcode     *TranscodeSpec // nil = direct play
	Subtitles     string         // codec of a selected subtitle stream ("srt", "pgs"); optional
	Zombie        bool           // the player ignores terminate: 200, but the session stays
	// NoLocation leaves out Session.location and Player.local, as some
	// servers and players do: only the address tells where the player is.
	NoLocation bool
	// Relayed: the player reaches the server through plex.tv's relay
	// (Player.relayed, address 127.0.0.1).
	Relayed bool
	// Cellular: a remote player on a mobile network (Session.location
	// "cellular").
	Cellular bool
	// LiveTV: a Live TV channel (key /livetv/sessions/<uuid>, live="1", a
	// ratingKey that is no library key, no /library/metadata).
	LiveTV bool
	// SilentStop: when the session ends (terminated, stopped), no playing
	// "stopped" event is sent: the player was told to stop and never
	// reported it, so only the list shows it leaving, seconds later.
	SilentStop bool
	// NoSessionID leaves out Session.id (Plexamp-like players): such a
	// session cannot be terminated by id.
	NoSessionID bool
	// Versions are the item's other versions (a 4K and a 1080p copy of one
	// film), listed by /library/metadata before the one played.
	Versions []VersionSpec
}

// VersionSpec is another version (Media) of a library item.
type VersionSpec struct {
	Resolution  string // "4k", "1080", …
	VideoCodec  string // default "h264"
	AudioCodec  string // default "aac"
	BitrateKbps int64  // default by resolution
}

// leavingSession is a stopped session still listed until until.
type leavingSession struct {
	ss    *simSession
	until time.Time
}

// PlayerSpec describes the player device (Player element, and the
// clientIdentifier of playing events).
type PlayerSpec struct {
	MachineID       string // Player.machineIdentifier; default random
	Title           string // device name, e.g. "Living Room"
	Product         string // e.g. "Plex Web", "Plex for Roku"
	Platform        string // e.g. "Chrome", "Roku", "tvOS"
	PlatformVersion string // optional
	Device          string // e.g. "Apple TV", "Roku Ultra", "Windows"
}

// TranscodeSpec describes a transcoder job. Video and Audio are
// "transcode" or "copy" (empty means copy); Subtitle is "burn", "transcode",
// "copy" or empty (no subtitle work). Video copy plus audio copy is a direct
// stream.
type TranscodeSpec struct {
	Video, Audio, Subtitle string
	TargetHeight           int     // default: 4K→1080, 1080→720, else 480 (video transcode only)
	TargetVideoCodec       string  // default "h264"
	TargetAudioCodec       string  // default "aac"
	HW                     bool    // hardware transcoding (Intel QuickSync)
	Speed                  float64 // default 1.5 (software) or 4.0 (HW)
	Throttled              bool
}

// SessionRef identifies a session added with AddSession: Key is the
// sessionKey, ID the Session.id terminate wants, TranscodeKey the bare
// transcode id ("" for direct play).
type SessionRef struct {
	Key, ID, TranscodeKey string
}

// simSession is the state of one playback.
type simSession struct {
	key       string // sessionKey
	id        string // Session.id
	spec      SessionSpec
	offset    int64
	state     string
	pqItem    int
	tc        *simTranscode
	createdAt time.Time
}

type simTranscode struct {
	spec     TranscodeSpec
	id       string // bare key
	started  time.Time
	startMs  int64   // viewOffset when the job started (minOffsetAvailable)
	progress float64 // percent
}

// randIDLocked returns a Plex-looking random id (lower-case letters and digits).
func (s *Server) randIDLocked(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[s.rng.IntN(len(alphabet))]
	}
	return string(b)
}

func hashNum(s string, mod uint64) uint64 {
	h := fnv.New64a()
	_, _ = io.WriteString(h, s)
	return h.Sum64() % mod
}

// videoDefaults fills a video version's codecs (H.264, AAC) and bitrate
// (by resolution) where they are not given.
func videoDefaults(res, video, audio string, kbps int64) (string, string, int64) {
	if video == "" {
		video = "h264"
	}
	if audio == "" {
		audio = "aac"
	}
	if kbps <= 0 {
		kbps = defaultBitrate(res, audio)
	}
	return video, audio, kbps
}

// normalise fills the defaults of a spec.
func (s *Server) normaliseLocked(spec SessionSpec) SessionSpec {
	if spec.Type == "" {
		spec.Type = "movie"
	}
	isTrack := spec.Type == "track"
	if spec.Title == "" {
		spec.Title = "Untitled"
	}
	if spec.User == "" {
		spec.User = "owner"
		if spec.UserID == "" {
			spec.UserID = "1"
		}
	}
	if spec.UserID == "" {
		spec.UserID = strconv.FormatUint(1000000+hashNum("user:"+spec.User, 89000000), 10)
	}
	if spec.State == "" {
		spec.State = StatePlaying
	}
	if spec.DurationMs <= 0 {
		switch spec.Type {
		case "episode":
			spec.DurationMs = 45 * 60 * 1000
		case "track":
			spec.DurationMs = 4 * 60 * 1000
		case "clip":
			spec.DurationMs = 2 * 60 * 1000
		default:
			spec.DurationMs = 110 * 60 * 1000
		}
	}
	spec.ViewOffsetMs = max(0, min(spec.ViewOffsetMs, spec.DurationMs-1))
	if spec.Type == "episode" {
		spec.Season, spec.Episode = max(spec.Season, 1), max(spec.Episode, 1)
	}
	if spec.Library == "" || spec.LibraryID == "" {
		lib, id := "Movies", "1"
		switch spec.Type {
		case "episode":
			lib, id = "TV Shows", "2"
		case "track":
			lib, id = "Music", "3"
		case "clip":
			lib, id = "Home Videos", "4"
		}
		if spec.Library == "" {
			spec.Library = lib
		}
		if spec.LibraryID == "" {
			spec.LibraryID = id
		}
	}
	if spec.RatingKey == "" {
		spec.RatingKey = strconv.FormatUint(1000+hashNum(spec.Type+"/"+spec.Show+"/"+spec.Title, 90000), 10)
		if spec.LiveTV {
			spec.RatingKey = fmt.Sprintf("%016x", hashNum("live/"+spec.Title, math.MaxUint64))
		}
	}
	if isTrack {
		spec.Resolution, spec.VideoCodec = "", ""
		if spec.AudioCodec == "" {
			spec.AudioCodec = "flac"
		}
	} else {
		spec.Resolution = strings.ToLower(spec.Resolution)
		if spec.Resolution == "" {
			spec.Resolution = "1080"
		}
		spec.VideoCodec, spec.AudioCodec, spec.BitrateKbps = videoDefaults(spec.Resolution, spec.VideoCodec, spec.AudioCodec, spec.BitrateKbps)
	}
	if spec.BitrateKbps <= 0 {
		spec.BitrateKbps = defaultBitrate(spec.Resolution, spec.AudioCodec)
	}
	p := &spec.Player
	if p.MachineID == "" {
		p.MachineID = s.randIDLocked(24)
	}
	if p.Product == "" {
		p.Product = "Plex Web"
	}
	if p.Platform == "" {
		p.Platform = "Chrome"
	}
	if p.Title == "" {
		p.Title = p.Platform
	}
	if p.Device == "" {
		p.Device = p.Platform
	}
	if spec.Address == "" {
		n := 10 + hashNum(p.MachineID, 200)
		if spec.Local {
			spec.Address = fmt.Sprintf("192.168.1.%d", n)
		} else {
			spec.Address = fmt.Sprintf("203.0.113.%d", n)
		}
	}
	return spec
}

func normaliseTranscode(t TranscodeSpec, spec SessionSpec) TranscodeSpec {
	if t.Video == "" && spec.Type != "track" {
		t.Video = DecisionCopy
	}
	if spec.Type == "track" {
		t.Video, t.Subtitle, t.TargetHeight = "", "", 0
	}
	if t.Audio == "" {
		t.Audio = DecisionCopy
	}
	if t.Subtitle == DecisionBurn {
		// Burning subtitles in means re-encoding the picture.
		t.Video = DecisionTranscode
	}
	if t.Video == DecisionTranscode {
		if t.TargetHeight <= 0 {
			_, h := sourceDims(spec.Resolution)
			switch {
			case h >= 2160:
				t.TargetHeight = 1080
			case h >= 1080 && t.Subtitle != DecisionBurn:
				t.TargetHeight = 720
			case h >= 1080:
				t.TargetHeight = 1080
			default:
				t.TargetHeight = 480
			}
		}
		if t.TargetVideoCodec == "" {
			t.TargetVideoCodec = "h264"
		}
	}
	if t.Audio == DecisionTranscode && t.TargetAudioCodec == "" {
		t.TargetAudioCodec = "aac"
	}
	if t.Speed <= 0 {
		t.Speed = 1.5
		if t.HW {
			t.Speed = 4.0
		}
		if t.Video != DecisionTranscode {
			t.Speed = 12.0 // remux and audio-only jobs run far ahead
		}
	}
	return t
}

func (s *Server) newTranscodeLocked(t TranscodeSpec, ss *simSession) *simTranscode {
	t = normaliseTranscode(t, ss.spec)
	pct := 0.0
	if ss.spec.DurationMs > 0 {
		pct = float64(ss.offset) / float64(ss.spec.DurationMs) * 100
	}
	return &simTranscode{spec: t, id: s.randIDLocked(24), started: s.now(), startMs: ss.offset, progress: math.Min(100, pct+1)}
}
