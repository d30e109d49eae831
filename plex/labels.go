// Labels for people: resolutions, codecs, playback kinds, locations and
// titles as the window and the command line print them.

package plex

import (
	"fmt"
	"strconv"
	"strings"
)

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// ResolutionLabel turns Plex's videoResolution ("4k", "1080", "720", "sd")
// or a pixel height into "4K", "1080p", "720p", "576p", "480p" or "SD".
func ResolutionLabel(res string, height int) string {
	switch r := strings.ToLower(strings.TrimSpace(res)); r {
	case "4k", "2160", "2160p", "uhd":
		return "4K"
	case "8k", "4320":
		return "8K"
	case "sd":
		return "SD"
	case "":
	default:
		r = strings.TrimSuffix(r, "p")
		if n, err := strconv.Atoi(r); err == nil {
			height = n
		} else {
			return res
		}
	}
	switch {
	case height >= 4000:
		return "8K"
	case height >= 1600:
		return "4K"
	case height >= 1300:
		return "1440p"
	case height >= 1000:
		return "1080p"
	case height >= 700:
		return "720p"
	case height >= 560:
		return "576p"
	case height >= 400:
		return "480p"
	case height > 0:
		return "SD"
	}
	return ""
}

// ResolutionHeight returns the nominal height of a label from
// ResolutionLabel ("4K" → 2160), or 0.
func ResolutionHeight(label string) int {
	switch label {
	case "8K":
		return 4320
	case "4K":
		return 2160
	case "1440p":
		return 1440
	case "1080p":
		return 1080
	case "720p":
		return 720
	case "576p":
		return 576
	case "480p":
		return 480
	case "SD":
		return 360
	}
	return 0
}

// CodecName returns the usual spelling of a codec id ("hevc" → "HEVC",
// "h264" → "H.264").
func CodecName(codec string) string {
	switch strings.ToLower(codec) {
	case "":
		return ""
	case "hevc", "h265":
		return "HEVC"
	case "h264", "avc":
		return "H.264"
	case "av1":
		return "AV1"
	case "vp9":
		return "VP9"
	case "mpeg2video":
		return "MPEG-2"
	case "mpeg4":
		return "MPEG-4"
	case "vc1":
		return "VC-1"
	case "aac":
		return "AAC"
	case "ac3":
		return "AC3"
	case "eac3":
		return "EAC3"
	case "truehd":
		return "TrueHD"
	case "dca", "dts":
		return "DTS"
	case "flac":
		return "FLAC"
	case "mp3":
		return "MP3"
	case "opus":
		return "Opus"
	case "pgs":
		return "PGS"
	case "srt":
		return "SRT"
	case "ass":
		return "ASS"
	}
	return strings.ToUpper(codec)
}

// Kind says what sort of playback an item is, so theme music and pre-rolls
// are never mistaken for a viewer's stream.
type Kind string

// Kinds of playback.
const (
	KindPlayback Kind = "playback"
	KindTheme    Kind = "theme"   // theme music (guid library://…): not user playback
	KindPreroll  Kind = "preroll" // librarySectionID -2: never auto-terminated
	KindLiveTV   Kind = "livetv"
)

// PlaybackKind classifies an item as playback, theme music, pre-roll or Live TV.
func PlaybackKind(m *Metadata) Kind {
	switch {
	case m.Type == "track" && strings.HasPrefix(m.GUID, "library://"):
		return KindTheme
	case m.LibrarySectionID == "-2" || (m.Type == "clip" && m.Subtype == "preroll"):
		return KindPreroll
	case strings.HasPrefix(m.Key, "/livetv/") || bool(m.Live):
		return KindLiveTV
	}
	return KindPlayback
}

// Location returns "lan", "wan" or "cellular": Session.location, else
// Player.local when Plex sent it, else "" (Plex said nothing: the caller
// may judge the player's address, docs/RULES.md).
func Location(m *Metadata) string {
	if m.Session != nil && m.Session.Location != "" {
		return strings.ToLower(m.Session.Location)
	}
	if m.Player != nil && m.Player.Local.Known() {
		if m.Player.Local.IsTrue() {
			return "lan"
		}
		return "wan"
	}
	return ""
}

// CleanAddress strips the IPv4-mapped IPv6 prefix ("::ffff:1.2.3.4").
func CleanAddress(a string) string {
	return strings.TrimPrefix(strings.TrimSpace(a), "::ffff:")
}

// DisplayTitle is the title an admin expects: episodes as
// "Show - S01E02 - Title", tracks as "Artist - Title", others as the title.
func DisplayTitle(m *Metadata) string {
	switch m.Type {
	case "episode":
		if m.GrandparentTitle != "" {
			return fmt.Sprintf("%s - S%02dE%02d - %s", m.GrandparentTitle, m.ParentIndex, m.Index, m.Title)
		}
	case "track":
		if m.GrandparentTitle != "" {
			return m.GrandparentTitle + " - " + m.Title
		}
	}
	if m.Title == "" {
		return "(untitled)"
	}
	return m.Title
}
