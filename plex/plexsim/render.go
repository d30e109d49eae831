package plexsim

import (
	"encoding/xml"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/plexwarden/plexwarden/plex"
)

// This file renders simulated sessions in the wire models of package plex.

// defaultBitrate is a typical source bitrate in kbps for a resolution, or
// for the audio codec of a track.
func defaultBitrate(res, audio string) int64 {
	switch res {
	case "4k":
		return 40000
	case "1080":
		return 10000
	case "720":
		return 4000
	case "sd":
		return 1500
	case "":
		switch audio {
		case "flac", "alac":
			return 1000
		case "mp3":
			return 320
		}
		return 256
	}
	return 8000
}

// sourceDims returns the frame size of a videoResolution.
func sourceDims(res string) (w, h int) {
	switch res {
	case "4k":
		return 3840, 2160
	case "1080":
		return 1920, 1080
	case "720":
		return 1280, 720
	case "sd":
		return 720, 480
	}
	return 0, 0
}

// elementName is the XML element of an item kind.
func elementName(typ string) string {
	switch typ {
	case "track":
		return "Track"
	case "photo":
		return "Photo"
	}
	return "Video"
}

func displayCodec(c string) string {
	switch c {
	case "eac3":
		return "EAC3 5.1"
	case "ac3":
		return "AC3 5.1"
	case "truehd":
		return "TrueHD 7.1"
	case "dca", "dts":
		return "DTS 5.1"
	}
	return plex.CodecName(c) + " Stereo"
}

func audioTitle(spec SessionSpec) string {
	if spec.Type == "track" {
		return plex.CodecName(spec.AudioCodec) // music streams carry no language
	}
	return "English (" + displayCodec(spec.AudioCodec) + ")"
}

func audioChannels(c string) int {
	switch c {
	case "eac3", "ac3", "dca", "dts":
		return 6
	case "truehd":
		return 8
	}
	return 2
}

func containerOf(spec SessionSpec) string {
	switch {
	case spec.Type == "track":
		switch spec.AudioCodec {
		case "flac":
			return "flac"
		case "mp3":
			return "mp3"
		}
		return "mp4"
	case spec.VideoCodec == "hevc" || spec.Resolution == "4k" || spec.AudioCodec == "truehd" || spec.AudioCodec == "dca" || spec.AudioCodec == "dts":
		return "mkv"
	}
	return "mp4"
}

func filePath(spec SessionSpec, container string) string {
	switch spec.Type {
	case "episode":
		return fmt.Sprintf("/data/tv/%s/Season %02d/%s - S%02dE%02d - %s.%s", spec.Show, spec.Season, spec.Show, spec.Season, spec.Episode, spec.Title, container)
	case "track":
		return fmt.Sprintf("/data/music/%s/%s/%s.%s", spec.Show, spec.Album, spec.Title, container)
	}
	name := spec.Title
	if spec.Year > 0 {
		name = fmt.Sprintf("%s (%d)", spec.Title, spec.Year)
	}
	return fmt.Sprintf("/data/%s/%s/%s.%s", strings.ToLower(strings.ReplaceAll(spec.Library, " ", "")), name, name, container)
}

// itemOf renders the item fields every answer about a library item shares.
func itemOf(spec SessionSpec) plex.Metadata {
	rk := spec.RatingKey
	m := plex.Metadata{
		XMLName:             xml.Name{Local: elementName(spec.Type)},
		RatingKey:           plex.String(rk),
		Key:                 "/library/metadata/" + rk,
		GUID:                guidOf(spec),
		Type:                spec.Type,
		Title:               spec.Title,
		Year:                plex.Int(spec.Year),
		Duration:            plex.Int(spec.DurationMs),
		LibrarySectionID:    plex.String(spec.LibraryID),
		LibrarySectionTitle: spec.Library,
		LibrarySectionKey:   "/library/sections/" + spec.LibraryID,
		Thumb:               "/library/metadata/" + rk + "/thumb/1700000000",
		Art:                 "/library/metadata/" + rk + "/art/1700000000",
		AddedAt:             plex.Int(1_600_000_000 + int64(hashNum(rk+"added", 90_000_000))),
	}
	if spec.LiveTV {
		m.Key, m.Live = itemKey(spec), true
		m.Thumb, m.Art, m.LibrarySectionKey, m.LibrarySectionID = "", "", "", ""
	}
	switch spec.Type {
	case "episode":
		show := strconv.FormatUint(1000+hashNum("show/"+spec.Show, 90000), 10)
		m.GrandparentKey = "/library/metadata/" + show
		m.GrandparentThumb = "/library/metadata/" + show + "/thumb/1700000000"
		m.GrandparentTitle = spec.Show
		m.ParentTitle = fmt.Sprintf("Season %d", spec.Season)
		m.ParentIndex = plex.Int(spec.Season)
		m.Index = plex.Int(spec.Episode)
	case "track":
		m.GrandparentTitle = spec.Show
		m.ParentTitle = spec.Album
	}
	return m
}

// itemKey is an item's key: /library/metadata/<ratingKey>, or for Live TV
// /livetv/sessions/<id>.
func itemKey(spec SessionSpec) string {
	if spec.LiveTV {
		return "/livetv/sessions/" + spec.RatingKey
	}
	return "/library/metadata/" + spec.RatingKey
}

// libraryItem renders GET /library/metadata/<ratingKey>: the item with
// every version of its file as stored, the other versions first.
func libraryItem(spec SessionSpec) plex.Metadata {
	m := itemOf(spec)
	for i, v := range spec.Versions {
		o := spec
		o.Resolution = strings.ToLower(v.Resolution)
		o.VideoCodec, o.AudioCodec, o.BitrateKbps = videoDefaults(o.Resolution, v.VideoCodec, v.AudioCodec, v.BitrateKbps)
		md := sourceMedia(o, fmt.Sprintf("v%d", i+1))
		md.Selected = false
		m.Media = append(m.Media, md)
	}
	md := sourceMedia(spec, "")
	md.Selected = false
	m.Media = append(m.Media, md)
	return m
}

// sourceMedia renders the version spec describes as stored: codecs,
// resolution, bitrate and streams of the file. salt tells versions apart.
func sourceMedia(spec SessionSpec, salt string) plex.Media {
	rk := spec.RatingKey + salt
	container := containerOf(spec)
	var streams []plex.Stream
	w, h := sourceDims(spec.Resolution)
	if spec.Type != "track" {
		streams = append(streams, plex.Stream{
			ID:                   plex.NumID(strconv.Itoa(100000 + int(hashNum(rk+"v", 800000)))),
			StreamType:           plex.StreamVideo,
			Codec:                spec.VideoCodec,
			Selected:             true,
			Default:              true,
			DisplayTitle:         videoTitle(spec),
			ExtendedDisplayTitle: videoTitle(spec),
			Language:             "English",
			Width:                plex.Int(w),
			Height:               plex.Int(h),
			Bitrate:              plex.Int(spec.BitrateKbps * 9 / 10),
		})
	}
	audio := plex.Stream{
		ID:                   plex.NumID(strconv.Itoa(100000 + int(hashNum(rk+"a", 800000)))),
		StreamType:           plex.StreamAudio,
		Codec:                spec.AudioCodec,
		Selected:             true,
		Default:              true,
		Channels:             plex.Int(audioChannels(spec.AudioCodec)),
		DisplayTitle:         audioTitle(spec),
		ExtendedDisplayTitle: audioTitle(spec),
	}
	if spec.Type != "track" {
		audio.Language = "English"
	}
	streams = append(streams, audio)
	if spec.Subtitles != "" && spec.Type != "track" {
		streams = append(streams, subtitleStream(spec, spec.Subtitles))
	}
	partID := strconv.Itoa(20000 + int(hashNum(rk+"p", 80000)))
	md := plex.Media{
		ID:              plex.NumID(strconv.Itoa(10000 + int(hashNum(rk+"m", 80000)))),
		Container:       container,
		Bitrate:         plex.Int(spec.BitrateKbps),
		VideoCodec:      spec.VideoCodec,
		AudioCodec:      spec.AudioCodec,
		AudioChannels:   plex.Int(audioChannels(spec.AudioCodec)),
		VideoResolution: spec.Resolution,
		Width:           plex.Int(w),
		Height:          plex.Int(h),
		Duration:        plex.Int(spec.DurationMs),
		Selected:        true,
		Part: []plex.Part{{
			ID:        plex.NumID(partID),
			Key:       "/library/parts/" + partID + "/1700000000/file." + container,
			File:      filePath(spec, container),
			Container: container,
			Duration:  plex.Int(spec.DurationMs),
			Size:      plex.Int(spec.BitrateKbps * 125 * spec.DurationMs / 1000),
			Selected:  true,
			Stream:    streams,
		}},
	}
	if spec.Type != "track" {
		md.VideoFrameRate = "24p"
		md.VideoProfile = map[string]string{"hevc": "main 10", "h264": "high"}[spec.VideoCodec]
	}
	return md
}

// videoTitle is the video stream's displayTitle, "4K (HEVC Main 10)",
// naming the source: Plex keeps it while it transcodes.
func videoTitle(spec SessionSpec) string {
	_, h := sourceDims(spec.Resolution)
	profile := ""
	switch spec.VideoCodec {
	case "hevc":
		profile = " Main"
		if spec.Resolution == "4k" {
			profile = " Main 10"
		}
	case "h264":
		profile = " High"
	}
	return fmt.Sprintf("%s (%s%s)", plex.ResolutionLabel(spec.Resolution, h), strings.ToUpper(plex.CodecName(spec.VideoCodec)), profile)
}

func subtitleStream(spec SessionSpec, codec string) plex.Stream {
	return plex.Stream{
		ID:           plex.NumID(strconv.Itoa(100000 + int(hashNum(spec.RatingKey+"s", 800000)))),
		StreamType:   plex.StreamSubtitle,
		Codec:        codec,
		Selected:     true,
		DisplayTitle: "English (" + plex.CodecName(codec) + ")",
	}
}

// metadataLocked renders a session as /status/sessions shows it. Played
// directly, its Media describe the file. While Plex transcodes them, as a
// real server does, Media, Part and Stream describe the transcoder's
// OUTPUT (codec, resolution, bitrate, container), keep the version's Media
// id, and the streams' displayTitle still names the source; the source
// itself is only in /library/metadata and TranscodeSession.source*.
func (s *Server) metadataLocked(ss *simSession) plex.Metadata {
	spec := ss.spec
	m := itemOf(spec)
	m.SessionKey = plex.String(ss.key)
	m.ViewOffset = plex.Int(ss.offset)

	var tc *TranscodeSpec
	if ss.tc != nil {
		tc = &ss.tc.spec
	}
	media := sourceMedia(spec, "")
	part := &media.Part[0]
	subCodec := spec.Subtitles
	if subCodec == "" && tc != nil && tc.Subtitle != "" {
		subCodec = "pgs"
		part.Stream = append(part.Stream, subtitleStream(spec, subCodec))
	}
	part.Decision = "directplay"
	for i := range part.Stream {
		st := &part.Stream[i]
		st.Location = "direct"
		if tc == nil {
			continue
		}
		switch int(st.StreamType) {
		case plex.StreamVideo:
			st.Decision, st.Location = tc.Video, "segments-video"
			if tc.Video == DecisionTranscode {
				st.Codec = tc.TargetVideoCodec
				st.Width, st.Height = plex.Int(tc.TargetHeight*16/9), plex.Int(tc.TargetHeight)
				st.Bitrate = plex.Int(targetBitrate(tc.TargetHeight))
			}
		case plex.StreamAudio:
			st.Decision, st.Location = tc.Audio, "segments-audio"
			if tc.Audio == DecisionTranscode {
				st.Codec, st.Channels = tc.TargetAudioCodec, 2
			}
		case plex.StreamSubtitle:
			st.Decision, st.Location = tc.Subtitle, ""
			if st.Decision == "" {
				st.Decision = "ignore"
			}
		}
	}
	if tc != nil {
		part.Decision = DecisionCopy
		if tc.Video == DecisionTranscode || tc.Audio == DecisionTranscode {
			part.Decision = DecisionTranscode
			// The output: what the player receives.
			out := transcodeContainer(spec, tc)
			media.Container, part.Container, part.File, part.Key, part.Size = out, out, "", "", 0
			media.Protocol = protocolFor(spec.Player)
			if tc.Video == DecisionTranscode {
				media.VideoCodec = tc.TargetVideoCodec
				media.VideoResolution = outputResolution(tc.TargetHeight)
				media.Width, media.Height = plex.Int(tc.TargetHeight*16/9), plex.Int(tc.TargetHeight)
				media.Bitrate = plex.Int(targetBitrate(tc.TargetHeight))
			}
			if tc.Audio == DecisionTranscode {
				media.AudioCodec, media.AudioChannels = tc.TargetAudioCodec, 2
				if spec.Type == "track" {
					media.Bitrate = 320
				}
			}
		}
	}
	m.Media = []plex.Media{media}

	m.User = &plex.User{ID: plex.String(spec.UserID), Title: spec.User}
	p := spec.Player
	m.Player = &plex.Player{
		MachineIdentifier:   plex.String(p.MachineID),
		Title:               p.Title,
		Product:             p.Product,
		Platform:            p.Platform,
		PlatformVersion:     p.PlatformVersion,
		Device:              p.Device,
		State:               ss.state,
		Address:             spec.Address,
		RemotePublicAddress: spec.Address,
		Local:               plex.OptBoolOf(spec.Local),
		Secure:              true,
		UserID:              plex.Int(userNumber(spec.UserID)),
		Relayed:             plex.Bool(spec.Relayed),
	}
	m.Player.Model, m.Player.Profile, m.Player.Version, m.Player.Vendor = playerDetails(p)
	if spec.Local {
		m.Player.RemotePublicAddress = "198.51.100.7" // the household's public address
	}
	if spec.Relayed {
		// Through plex.tv's relay the server sees the relay, not the player.
		m.Player.Address, m.Player.Secure = "127.0.0.1", true
	}
	loc := "wan"
	switch {
	case spec.Local:
		loc = "lan"
	case spec.Cellular:
		loc = "cellular"
	}
	if spec.NoLocation {
		loc, m.Player.Local = "", plex.Unknown
	}
	bw := spec.BandwidthKbps
	if bw <= 0 {
		bw = spec.BitrateKbps
		if tc != nil && tc.Video == DecisionTranscode {
			bw = targetBitrate(tc.TargetHeight)
		}
	}
	m.Session = &plex.Session{ID: plex.String(ss.id), Bandwidth: plex.Int(bw), Location: loc}
	if spec.NoSessionID {
		m.Session.ID = ""
	}
	if ss.tc != nil {
		ts := s.transcodeSessionLocked(ss)
		m.TranscodeSession = &ts
	}
	return m
}

// userNumber is Player.userID: the account id as a number (0 when the
// spec's id is not one).
func userNumber(id string) int64 {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// playerDetails returns plausible Player model, profile, version and vendor
// for a player's product, as real servers list them.
func playerDetails(p PlayerSpec) (model, profile, version, vendor string) {
	switch {
	case strings.Contains(p.Product, "Web"):
		return "bundled", p.Platform, "4.145.0", ""
	case strings.Contains(p.Product, "Roku"):
		return "4800X", "Roku-4K", "8.4.0.2990", "Roku"
	case strings.Contains(p.Product, "Apple TV"), p.Platform == "tvOS":
		return "AppleTV14,1", "tvOS", "8.45", "Apple"
	case strings.Contains(p.Product, "iOS"):
		return "iPhone15,2", "iOS", "2024.25.0", "Apple"
	case strings.Contains(p.Product, "Android"):
		return "darcy", "Android", "10.24.0.30", "NVIDIA"
	case strings.Contains(p.Product, "Plexamp"):
		return "", "Plexamp", "4.11.2", ""
	}
	return "", p.Platform, "1.0.0", ""
}

// guidOf returns a stable plex:// guid with a 24-hex-digit id, as Plex's
// agent assigns.
func guidOf(spec SessionSpec) string {
	k := spec.Type + "/" + spec.Show + "/" + spec.Title
	return fmt.Sprintf("plex://%s/%016x%08x", spec.Type, hashNum(k, math.MaxUint64), hashNum("guid:"+k, 1<<32))
}

func targetBitrate(height int) int64 {
	switch {
	case height >= 2160:
		return 20000
	case height >= 1080:
		return 8000
	case height >= 720:
		return 4000
	}
	return 2000
}

// transcodeContainer is the container the transcoder writes for the
// player's protocol.
func transcodeContainer(spec SessionSpec, t *TranscodeSpec) string {
	if spec.Type == "track" {
		if t.Audio == DecisionTranscode {
			return t.TargetAudioCodec
		}
		return "mp3"
	}
	switch protocolFor(spec.Player) {
	case "hls":
		return "mpegts"
	case "dash":
		return "mp4"
	}
	return "mkv"
}

// outputResolution is the videoResolution Plex gives a transcode's output
// ("720p", "1080p", as in published answers).
func outputResolution(height int) string {
	if height >= 1600 {
		return "4k"
	}
	if height <= 480 {
		return "sd"
	}
	return plex.ResolutionLabel("", height)
}

// protocolFor guesses the streaming protocol a player's app uses.
func protocolFor(p PlayerSpec) string {
	switch {
	case strings.Contains(p.Product, "Web"), strings.Contains(p.Product, "Android"):
		return "dash"
	case strings.Contains(p.Product, "Windows"), strings.Contains(p.Product, "Plexamp"):
		return "http"
	}
	return "hls"
}

// transcodeSessionLocked renders a session's transcoder job with the key in
// its /transcode/sessions/<id> form.
func (s *Server) transcodeSessionLocked(ss *simSession) plex.TranscodeSession {
	t := ss.tc.spec
	spec := ss.spec
	proto := protocolFor(spec.Player)
	ts := plex.TranscodeSession{
		Key:              "/transcode/sessions/" + ss.tc.id,
		Throttled:        plex.Bool(t.Throttled),
		Progress:         plex.Float(math.Round(ss.tc.progress*10) / 10),
		Speed:            plex.Float(t.Speed),
		Duration:         plex.Int(spec.DurationMs),
		Remaining:        plex.Int(float64(spec.DurationMs) * (100 - ss.tc.progress) / 100 / 1000 / t.Speed),
		Context:          "streaming",
		Size:             -22, // unknown while streaming, as real servers send
		VideoDecision:    t.Video,
		AudioDecision:    t.Audio,
		SubtitleDecision: t.Subtitle,
		Protocol:         proto,
		SourceVideoCodec: spec.VideoCodec,
		SourceAudioCodec: spec.AudioCodec,
		TimeStamp:        plex.Float(float64(ss.tc.started.UnixMilli()) / 1000),
	}
	ts.Container = transcodeContainer(spec, &t)
	ts.AudioCodec, ts.AudioChannels = spec.AudioCodec, plex.Int(audioChannels(spec.AudioCodec))
	if t.Audio == DecisionTranscode {
		ts.AudioCodec, ts.AudioChannels = t.TargetAudioCodec, 2
	}
	if spec.Type != "track" {
		w, h := sourceDims(spec.Resolution)
		ts.VideoCodec = spec.VideoCodec
		if t.Video == DecisionTranscode {
			ts.VideoCodec = t.TargetVideoCodec
			h = t.TargetHeight
			w = h * 16 / 9
			if t.HW {
				ts.TranscodeHwRequested = true
				ts.TranscodeHwFullPipeline = true
				ts.TranscodeHwDecoding = "qsv"
				ts.TranscodeHwDecodingTitle = "Intel (QuickSync)"
				ts.TranscodeHwEncoding = "qsv"
				ts.TranscodeHwEncodingTitle = "Intel (QuickSync)"
			}
		}
		ts.Width, ts.Height = plex.Int(w), plex.Int(h)
	}
	durS := float64(spec.DurationMs) / 1000
	ts.MinOffsetAvailable = plex.Float(float64(ss.tc.startMs) / 1000)
	ts.MaxOffsetAvailable = plex.Float(math.Round(durS*ss.tc.progress/100*1000) / 1000)
	return ts
}
