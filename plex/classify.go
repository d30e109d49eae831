package plex

import (
	"fmt"
	"strings"

	"github.com/plexwarden/plexwarden/internal/words"
)

// Decision is how Plex delivers a session: the three values Tautulli and the
// Plex dashboard use.
type Decision string

// The decisions. DirectStream is spelled "copy" on the wire and in our JSON.
const (
	DirectPlay   Decision = "directplay"
	DirectStream Decision = "copy"
	Transcode    Decision = "transcode"
)

// String returns the words an admin reads: "Direct Play", "Direct Stream",
// "Transcode".
func (d Decision) String() string {
	switch d {
	case DirectStream:
		return "Direct Stream"
	case Transcode:
		return "Transcode"
	default:
		return "Direct Play"
	}
}

// Classification is everything derived from one session item: the decision
// and the reason for it, hardware use and source/target formats.
type Classification struct {
	Decision         Decision
	VideoDecision    string // "transcode", "copy", "burn" or "" (direct play / unknown)
	AudioDecision    string
	SubtitleDecision string
	// VideoTranscode is the costly case; AudioOnly is a transcode of audio
	// alone (video copied, or a music track).
	VideoTranscode   bool
	AudioOnly        bool
	SubtitleBurn     bool
	HW               HW
	SourceVideoCodec string
	SourceAudioCodec string
	SourceResolution string // "4K", "1080p", "720p", "SD", … or ""
	SourceHeight     int
	TargetVideoCodec string
	TargetAudioCodec string
	TargetResolution string
	BitrateKbps      int64 // source bitrate of the version played; 0 when unknown
	// TargetBitrateKbps is what the player receives: the output's bitrate
	// while transcoding, else the source's.
	TargetBitrateKbps int64
}

// HW says how much of a transcode runs on hardware.
type HW struct {
	Requested    bool
	FullPipeline bool
	Decoding     string // title, e.g. "Intel (QuickSync)", or the short name
	Encoding     string
}

// Active reports whether any part of the transcode is known or asked to run on hardware.
func (h HW) Active() bool {
	return h.FullPipeline || h.Decoding != "" || h.Encoding != "" || h.Requested
}

// String returns "HW", "HW decode", "HW encode", "HW requested" or "".
func (h HW) String() string {
	switch {
	case h.FullPipeline || (h.Decoding != "" && h.Encoding != ""):
		return "HW"
	case h.Encoding != "":
		return "HW encode"
	case h.Decoding != "":
		return "HW decode"
	case h.Requested:
		return "HW requested"
	}
	return ""
}

// SelectedMedia returns the Media marked selected, else the first, else nil.
func (m *Metadata) SelectedMedia() *Media {
	for i := range m.Media {
		if m.Media[i].Selected {
			return &m.Media[i]
		}
	}
	if len(m.Media) > 0 {
		return &m.Media[0]
	}
	return nil
}

// SelectedPart returns the selected Part of the selected Media, else the first.
func (m *Metadata) SelectedPart() *Part {
	md := m.SelectedMedia()
	if md == nil {
		return nil
	}
	for i := range md.Part {
		if md.Part[i].Selected {
			return &md.Part[i]
		}
	}
	if len(md.Part) > 0 {
		return &md.Part[0]
	}
	return nil
}

// SelectedStream returns the selected stream of a type (StreamVideo, …) of
// the selected Part, else the first of that type, else nil.
func (m *Metadata) SelectedStream(streamType int) *Stream {
	return partStream(m.SelectedPart(), streamType)
}

// partStream returns p's selected stream of a type, else its first of that
// type, else nil.
func partStream(p *Part, streamType int) *Stream {
	if p == nil {
		return nil
	}
	var first *Stream
	for i := range p.Stream {
		s := &p.Stream[i]
		if int(s.StreamType) != streamType {
			continue
		}
		if s.Selected {
			return s
		}
		if first == nil {
			first = s
		}
	}
	return first
}

// Classify derives the decision and formats of a session item alone, as
// ClassifySource does without the library's description of the source.
func Classify(m *Metadata) Classification { return ClassifySource(m, nil) }

// ClassifySource derives the decision and formats of a session item,
// following Tautulli: no TranscodeSession means direct play; otherwise
// transcode if video or audio is transcoded, else direct stream (copy).
//
// While Plex transcodes, the item's Media, Part and Stream describe the
// transcoder's OUTPUT (docs/plex-api.md §4.2), so the source comes from src,
// the version being played as GET /library/metadata describes it
// (SourceMedia), else from TranscodeSession.source* and the streams'
// displayTitle, which still name the source ("4K (HEVC Main 10)"). What no
// source tells stays empty: an unknown source is never taken for the
// output.
func ClassifySource(m *Metadata, src *Media) Classification {
	var c Classification
	ts := m.TranscodeSession
	vs, as, ss := m.SelectedStream(StreamVideo), m.SelectedStream(StreamAudio), m.SelectedStream(StreamSubtitle)
	if ts != nil {
		c.VideoDecision, c.AudioDecision, c.SubtitleDecision = ts.VideoDecision, ts.AudioDecision, ts.SubtitleDecision
	}
	if c.VideoDecision == "" && vs != nil {
		c.VideoDecision = vs.Decision
	}
	if c.AudioDecision == "" && as != nil {
		c.AudioDecision = as.Decision
	}
	if c.SubtitleDecision == "" && ss != nil {
		c.SubtitleDecision = ss.Decision
	}
	c.SubtitleBurn = c.SubtitleDecision == "burn"
	switch {
	case c.VideoDecision == "transcode" || c.AudioDecision == "transcode" || (c.SubtitleBurn && ts != nil):
		c.Decision = Transcode
	case ts != nil && (c.VideoDecision == "copy" || c.AudioDecision == "copy"):
		c.Decision = DirectStream
	case ts == nil && (c.VideoDecision == "copy" || c.AudioDecision == "copy"):
		// Without a transcoder a "copy" stream decision is a direct play.
		c.Decision = DirectPlay
	case ts != nil:
		c.Decision = DirectStream
	default:
		c.Decision = DirectPlay
	}
	c.VideoTranscode = c.Decision == Transcode && (c.VideoDecision == "transcode" || c.SubtitleBurn)
	c.AudioOnly = c.Decision == Transcode && !c.VideoTranscode

	md := m.SelectedMedia()
	// output: the item's Media and Streams describe what the transcoder
	// sends. A direct stream only remuxes: codecs and picture are the
	// source's.
	output := c.Decision == Transcode
	videoConverted := c.VideoTranscode
	audioConverted := c.AudioDecision == "transcode"
	switch {
	case src != nil:
		c.SourceVideoCodec, c.SourceAudioCodec = src.VideoCodec, src.AudioCodec
		c.SourceHeight = int(src.Height)
		c.SourceResolution = ResolutionLabel(src.VideoResolution, int(src.Height))
		c.BitrateKbps = int64(src.Bitrate)
		if sv := mediaStream(src, StreamVideo); sv != nil {
			if c.SourceVideoCodec == "" {
				c.SourceVideoCodec = sv.Codec
			}
			if c.SourceHeight == 0 {
				c.SourceHeight = int(sv.Height)
			}
		}
		if c.SourceAudioCodec == "" {
			if sa := mediaStream(src, StreamAudio); sa != nil {
				c.SourceAudioCodec = sa.Codec
			}
		}
	case md != nil && !output:
		c.SourceVideoCodec, c.SourceAudioCodec = md.VideoCodec, md.AudioCodec
		c.SourceHeight = int(md.Height)
		c.SourceResolution = ResolutionLabel(md.VideoResolution, int(md.Height))
		c.BitrateKbps = int64(md.Bitrate)
	case md != nil:
		// Transcoding without the library's answer: what the output
		// shares with the source, and what the streams' titles name.
		if !videoConverted {
			c.SourceVideoCodec = md.VideoCodec
			c.SourceHeight = int(md.Height)
			c.SourceResolution = ResolutionLabel(md.VideoResolution, int(md.Height))
		}
		if !audioConverted {
			c.SourceAudioCodec = md.AudioCodec
		}
	}
	if vs != nil && (!output || !videoConverted) {
		if c.SourceVideoCodec == "" {
			c.SourceVideoCodec = vs.Codec
		}
		if c.SourceHeight == 0 {
			c.SourceHeight = int(vs.Height)
		}
	}
	if as != nil && c.SourceAudioCodec == "" && (!output || !audioConverted) {
		c.SourceAudioCodec = as.Codec
	}
	if vs != nil && (c.SourceResolution == "" && c.SourceHeight == 0 || c.SourceVideoCodec == "") {
		res, codec := ParseDisplayTitle(vs.DisplayTitle)
		if c.SourceResolution == "" && c.SourceHeight == 0 {
			c.SourceResolution = res
		}
		if c.SourceVideoCodec == "" && !(ts != nil && ts.SourceVideoCodec != "") {
			c.SourceVideoCodec = codec
		}
	}
	if as != nil && c.SourceAudioCodec == "" && !(ts != nil && ts.SourceAudioCodec != "") {
		_, c.SourceAudioCodec = ParseDisplayTitle(as.DisplayTitle)
	}
	if c.SourceResolution == "" && c.SourceHeight > 0 {
		c.SourceResolution = ResolutionLabel("", c.SourceHeight)
	}
	if c.SourceHeight == 0 {
		c.SourceHeight = ResolutionHeight(c.SourceResolution)
	}
	if ts != nil && src == nil {
		if ts.SourceVideoCodec != "" {
			c.SourceVideoCodec = ts.SourceVideoCodec
		}
		if ts.SourceAudioCodec != "" {
			c.SourceAudioCodec = ts.SourceAudioCodec
		}
	}
	if ts != nil {
		c.TargetVideoCodec, c.TargetAudioCodec = ts.VideoCodec, ts.AudioCodec
		if ts.Height > 0 {
			c.TargetResolution = ResolutionLabel("", int(ts.Height))
		}
		c.HW = HW{
			Requested:    bool(ts.TranscodeHwRequested),
			FullPipeline: bool(ts.TranscodeHwFullPipeline),
			Decoding:     firstNonEmpty(ts.TranscodeHwDecodingTitle, ts.TranscodeHwDecoding),
			Encoding:     firstNonEmpty(ts.TranscodeHwEncodingTitle, ts.TranscodeHwEncoding),
		}
	}
	if output && md != nil {
		// The transcoder's output, as the item's own Media tells it.
		if videoConverted && (c.TargetVideoCodec == "" || c.TargetVideoCodec == "*") {
			c.TargetVideoCodec = md.VideoCodec
		}
		if audioConverted && (c.TargetAudioCodec == "" || c.TargetAudioCodec == "*") {
			c.TargetAudioCodec = md.AudioCodec
		}
		if videoConverted && c.TargetResolution == "" {
			c.TargetResolution = ResolutionLabel(md.VideoResolution, int(md.Height))
		}
		c.TargetBitrateKbps = int64(md.Bitrate)
	}
	if c.TargetVideoCodec == "" || c.TargetVideoCodec == "*" {
		c.TargetVideoCodec = c.SourceVideoCodec
	}
	if c.TargetAudioCodec == "" || c.TargetAudioCodec == "*" {
		c.TargetAudioCodec = c.SourceAudioCodec
	}
	if c.TargetResolution == "" && !videoConverted {
		c.TargetResolution = c.SourceResolution
	}
	if c.TargetBitrateKbps == 0 && !output {
		c.TargetBitrateKbps = c.BitrateKbps
	}
	return c
}

// mediaStream returns the selected stream of a type in m's selected (else
// first) Part, else the first of that type.
func mediaStream(m *Media, streamType int) *Stream {
	if m == nil || len(m.Part) == 0 {
		return nil
	}
	p := &m.Part[0]
	for i := range m.Part {
		if m.Part[i].Selected {
			p = &m.Part[i]
			break
		}
	}
	return partStream(p, streamType)
}

// SourceMedia returns the version of item (GET /library/metadata) that
// session plays: the Media whose id is the session's selected Media id
// (Plex keeps the version's id while it transcodes), else the only version.
// With several versions and no matching id it returns nil: guessing could
// judge a 1080p play by its 4K sibling.
func SourceMedia(session, item *Metadata) *Media {
	if item == nil {
		return nil
	}
	if sm := session.SelectedMedia(); sm != nil && sm.ID != "" {
		for i := range item.Media {
			if item.Media[i].ID == sm.ID {
				return &item.Media[i]
			}
		}
	}
	if len(item.Media) == 1 {
		return &item.Media[0]
	}
	return nil
}

// ParseDisplayTitle reads a stream's displayTitle, which names the source
// even while Plex transcodes: "4K (HEVC Main 10)" gives "4K" and "hevc",
// "720p (H.264)" gives "720p" and "h264", "English (TRUEHD 7.1)" gives ""
// and "truehd". Unknown words give "".
func ParseDisplayTitle(t string) (resolution, codec string) {
	t = strings.TrimSpace(t)
	first := t
	if i := strings.IndexByte(t, ' '); i > 0 {
		first = t[:i]
	}
	if r := ResolutionLabel(first, 0); ResolutionHeight(r) > 0 {
		resolution = r
	}
	open, close := strings.LastIndexByte(t, '('), strings.LastIndexByte(t, ')')
	if open < 0 || close < open {
		return resolution, ""
	}
	words := strings.Fields(t[open+1 : close])
	if len(words) == 0 {
		return resolution, ""
	}
	w := strings.ToLower(words[0])
	switch w {
	case "h.264", "h264", "avc":
		codec = "h264"
	case "hevc", "h.265", "h265":
		codec = "hevc"
	case "mpeg-2", "mpeg2", "mpeg2video":
		codec = "mpeg2video"
	case "mpeg-4", "mpeg4":
		codec = "mpeg4"
	case "vc-1", "vc1":
		codec = "vc1"
	case "dts", "dca", "dts-hd":
		codec = "dca"
	case "av1", "vp9", "vp8", "truehd", "eac3", "ac3", "aac", "flac", "mp3", "opus", "alac", "pcm", "vorbis":
		codec = w
	}
	return resolution, codec
}

// Reason explains the decision in words, e.g.
// "Transcode: video HEVC 4K → H.264 1080p (HW), audio copy, subtitles burned in".
func (c Classification) Reason() string {
	switch c.Decision {
	case DirectPlay:
		return "Direct Play"
	case DirectStream:
		parts := []string{}
		if c.VideoDecision == "copy" {
			parts = append(parts, "video copy")
		}
		if c.AudioDecision == "copy" {
			parts = append(parts, "audio copy")
		}
		if len(parts) == 0 {
			return "Direct Stream"
		}
		return "Direct Stream: " + strings.Join(parts, ", ")
	}
	var parts []string
	if c.VideoDecision == "transcode" || c.SubtitleBurn && c.VideoDecision != "copy" {
		v := "video " + words.Join(CodecName(c.SourceVideoCodec), c.SourceResolution) + " → " + words.Join(CodecName(c.TargetVideoCodec), c.TargetResolution)
		if c.SourceVideoCodec == "" && c.SourceResolution == "" {
			v = "video → " + words.Join(CodecName(c.TargetVideoCodec), c.TargetResolution) // source unknown
		}
		if hw := c.HW.String(); hw != "" {
			v += " (" + hw + ")"
		}
		parts = append(parts, v)
	} else if c.VideoDecision != "" {
		parts = append(parts, "video "+c.VideoDecision)
	}
	switch c.AudioDecision {
	case "transcode":
		parts = append(parts, "audio "+CodecName(c.SourceAudioCodec)+" → "+CodecName(c.TargetAudioCodec))
	case "":
	default:
		parts = append(parts, "audio "+c.AudioDecision)
	}
	if c.SubtitleBurn {
		parts = append(parts, "subtitles burned in")
	}
	return "Transcode: " + strings.Join(parts, ", ")
}

// Short is a compact label for menus: "Transcode (HEVC 4K→1080p)",
// "Direct Stream", "Direct Play".
func (c Classification) Short() string {
	if c.Decision != Transcode {
		return c.Decision.String()
	}
	if c.AudioOnly {
		return "Transcode (audio)"
	}
	src := words.Join(CodecName(c.SourceVideoCodec), c.SourceResolution)
	if src == "" {
		return "Transcode"
	}
	if c.TargetResolution != "" && c.TargetResolution != c.SourceResolution {
		return fmt.Sprintf("Transcode (%s→%s)", src, c.TargetResolution)
	}
	return fmt.Sprintf("Transcode (%s)", src)
}
