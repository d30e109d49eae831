package plexsim

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/plexwarden/plexwarden/plex"
)

// DemoOptions tunes RunDemoOptions. Zero fields get the defaults.
type DemoOptions struct {
	Seed        int64
	Tick        time.Duration // mean time between changes; default 3 s (each wait is Tick×[0.5,1.5))
	MinSessions int           // default 3
	MaxSessions int           // default 9
	// Opening is when the scripted first arrival happens: a remote viewer
	// starts a 4K HEVC film that the server transcodes, so whoever tries
	// the demo sees a popup for it (a new transcoding session) soon after
	// start instead of whenever chance brings one. It comes after
	// the app's quiet period for sessions found at connect (10 s).
	// Default DefaultDemoOpening; negative: no scripted arrival.
	Opening time.Duration
}

// DefaultDemoOpening is when the demo's scripted first arrival happens.
const DefaultDemoOpening = 15 * time.Second

// RunDemo plays the demo scenario on s until ctx ends: the six sessions of
// DemoCast, a scripted arrival after DefaultDemoOpening (a remote 4K
// transcode), then every few seconds (randomised by seed) offsets advance,
// players pause and resume, seek, sessions end and new ones start, keeping
// between 3 and 9 sessions.
func RunDemo(ctx context.Context, s *Server, seed int64) {
	RunDemoOptions(ctx, s, DemoOptions{Seed: seed})
}

// demoPlayer is a device of the demo household and who uses it.
type demoPlayer struct {
	user    string
	player  PlayerSpec
	local   bool
	address string
}

// The demo's players: the six users and their devices. Each device has its
// own machineIdentifier, and the demo never starts two sessions on one
// device (Plex would stop the first).
var demoPlayers = []demoPlayer{
	{"alice", PlayerSpec{MachineID: "8b1c2d9e4f6a7b3c5d0e1f2a", Title: "Living Room", Product: "Plex for Apple TV", Platform: "tvOS", PlatformVersion: "17.4", Device: "Apple TV"}, true, "192.168.1.40"},
	{"bob", PlayerSpec{MachineID: "c4e7a1f0b2d3e5f6a7b8c9d0", Title: "Bedroom Roku", Product: "Plex for Roku", Platform: "Roku", PlatformVersion: "12.5.0", Device: "Roku Ultra"}, true, "192.168.1.51"},
	{"carol", PlayerSpec{MachineID: "f0a9e8d7c6b5a4f3e2d1c0b9", Title: "Pixel 8", Product: "Plex for Android (Mobile)", Platform: "Android", PlatformVersion: "14", Device: "Pixel 8"}, false, "203.0.113.42"},
	{"dave", PlayerSpec{MachineID: "1a2b3c4d5e6f7a8b9c0d1e2f", Title: "LG OLED65C2", Product: "Plex for LG", Platform: "webOS", PlatformVersion: "22", Device: "LG TV"}, true, "192.168.1.60"},
	{"erin", PlayerSpec{MachineID: "9d8c7b6a5f4e3d2c1b0a9f8e", Title: "Erin's iPhone", Product: "Plex for iOS", Platform: "iOS", PlatformVersion: "17.5", Device: "iPhone"}, true, "192.168.1.77"},
	{"frank", PlayerSpec{MachineID: "5e4d3c2b1a0f9e8d7c6b5a4f", Title: "FRANK-DESKTOP", Product: "Plex for Windows", Platform: "Windows", PlatformVersion: "10.0.22631", Device: "Windows"}, true, "192.168.1.88"},
	{"alice", PlayerSpec{MachineID: "2f3e4d5c6b7a8f9e0d1c2b3a", Title: "Chrome", Product: "Plex Web", Platform: "Chrome", PlatformVersion: "126.0", Device: "macOS"}, true, "192.168.1.23"},
	{"bob", PlayerSpec{MachineID: "7a6b5c4d3e2f1a0b9c8d7e6f", Title: "Firefox", Product: "Plex Web", Platform: "Firefox", PlatformVersion: "127.0", Device: "Windows"}, false, "198.51.100.23"},
	{"carol", PlayerSpec{MachineID: "b3a2c1d0e9f8a7b6c5d4e3f2", Title: "Carol's iPad", Product: "Plex for iOS", Platform: "iOS", PlatformVersion: "17.5", Device: "iPad"}, false, "203.0.113.42"},
	{"dave", PlayerSpec{MachineID: "e6f5a4b3c2d1e0f9a8b7c6d5", Title: "SHIELD Android TV", Product: "Plex for Android (TV)", Platform: "Android", PlatformVersion: "11", Device: "SHIELD Android TV"}, true, "192.168.1.61"},
	{"frank", PlayerSpec{MachineID: "0c1d2e3f4a5b6c7d8e9f0a1b", Title: "Frank's MacBook", Product: "Plexamp", Platform: "macOS", PlatformVersion: "14.5", Device: "Mac"}, true, "192.168.1.89"},
	{"erin", PlayerSpec{MachineID: "d2c3b4a5f6e7d8c9b0a1f2e3", Title: "Safari", Product: "Plex Web", Platform: "Safari", PlatformVersion: "17.5", Device: "macOS"}, false, "198.51.100.61"},
}

type demoMovie struct {
	title           string
	year            int
	minutes         int
	res, vcodec, ac string
	bitrate         int64
	subtitles       string // codec of a subtitle track the viewer turns on
}

var demoMovies = []demoMovie{
	{title: "Night Harbor", year: 2019, minutes: 118, res: "4k", vcodec: "hevc", ac: "truehd", bitrate: 58200},
	{title: "Glass Meridian", year: 2021, minutes: 131, res: "4k", vcodec: "hevc", ac: "eac3", bitrate: 41800},
	{title: "The Cartographer's Daughter", year: 2016, minutes: 104, res: "1080", vcodec: "h264", ac: "dca", bitrate: 14500},
	{title: "Quiet Engines", year: 2022, minutes: 97, res: "1080", vcodec: "h264", ac: "eac3", bitrate: 9800},
	{title: "Ashfall Road", year: 2014, minutes: 112, res: "1080", vcodec: "h264", ac: "ac3", bitrate: 11200, subtitles: "srt"},
	{title: "Paper Moons over Lisbon", year: 2018, minutes: 95, res: "720", vcodec: "h264", ac: "aac", bitrate: 4200},
	{title: "Hollow Crown Protocol", year: 2023, minutes: 126, res: "4k", vcodec: "hevc", ac: "eac3", bitrate: 36400},
	{title: "The Winter Ledger", year: 2009, minutes: 109, res: "sd", vcodec: "mpeg4", ac: "ac3", bitrate: 2100},
	{title: "Stillwater Run", year: 2020, minutes: 101, res: "1080", vcodec: "hevc", ac: "aac", bitrate: 6500},
	{title: "Brass & Ember", year: 2017, minutes: 122, res: "1080", vcodec: "h264", ac: "dca", bitrate: 17800, subtitles: "pgs"},
	{title: "A Map of Small Hours", year: 2024, minutes: 99, res: "4k", vcodec: "av1", ac: "eac3", bitrate: 21300},
}

type demoShow struct {
	name            string
	res, vcodec, ac string
	bitrate         int64
	minutes         int
	seasons         int
}

var demoShows = []demoShow{
	{"The Long Orbit", "1080", "h264", "eac3", 8100, 52, 3},
	{"Saltmarsh", "1080", "h264", "aac", 6200, 45, 2},
	{"Copper Valley", "720", "h264", "ac3", 3500, 42, 5},
	{"Ninth Precinct Blues", "1080", "hevc", "eac3", 5200, 44, 4},
	{"Unplated", "720", "h264", "aac", 2900, 38, 6},
	{"Frontier Static", "4k", "hevc", "eac3", 24000, 58, 1},
}

var demoEpisodeTitles = []string{
	"Signal", "Low Tide", "The Quiet Part", "Ghost Light", "Dead Reckoning", "Parallax",
	"Open Water", "Static", "Homecoming", "Fault Lines", "Second Sunrise", "The Long Way Down",
	"Pilot", "Undertow", "Smoke and Mirrors", "Glass Houses", "Zero Hour", "Crossing",
}

type demoAlbum struct {
	artist, album, codec string
	bitrate              int64
	tracks               []string
}

var demoAlbums = []demoAlbum{
	{"The Paper Lanterns", "Harbor Lights", "flac", 1012, []string{"Lamplighter", "Northbound", "Salt & Cedar", "Harbor Lights", "Tin Roof Rain"}},
	{"Mira Okafor", "Glasshouse", "mp3", 320, []string{"Glasshouse", "Sundial", "Ferryman", "Orange Season"}},
	{"Velvet Static", "Night Bus Hymns", "aac", 256, []string{"Route 9", "Sodium Lights", "Last Stop Waltz", "Insomnia Choir"}},
	{"Juniper Avenue", "Field Recordings", "flac", 890, []string{"Morning, Finally", "Paper Planes", "Wren", "The Slow Thaw"}},
}

// DemoCast returns the demo's opening sessions: direct play (4K HEVC on
// Apple TV), direct stream (Roku), a HEVC 4K→1080p hardware transcode for a
// remote (WAN, 203.0.113.42) Android phone, a subtitle burn on an LG TV, an
// audio-only transcode on an iPhone, and a music track on Plex for Windows.
func DemoCast() []SessionSpec {
	p := demoPlayers
	return []SessionSpec{
		{
			User: p[0].user, Player: p[0].player, Local: p[0].local, Address: p[0].address,
			Type: "movie", Title: "Night Harbor", Year: 2019, DurationMs: 118 * 60000, ViewOffsetMs: 41*60000 + 12000,
			Resolution: "4k", VideoCodec: "hevc", AudioCodec: "truehd", BitrateKbps: 58200,
		},
		{
			User: p[1].user, Player: p[1].player, Local: p[1].local, Address: p[1].address,
			Type: "episode", Show: "The Long Orbit", Season: 2, Episode: 5, Title: "Signal", Year: 2023, DurationMs: 52 * 60000, ViewOffsetMs: 7*60000 + 30000,
			Resolution: "1080", VideoCodec: "h264", AudioCodec: "eac3", BitrateKbps: 8100,
			Transcode: &TranscodeSpec{Video: DecisionCopy, Audio: DecisionCopy, Speed: 14.2, Throttled: true},
		},
		{
			User: p[2].user, Player: p[2].player, Local: p[2].local, Address: p[2].address,
			Type: "movie", Title: "Glass Meridian", Year: 2021, DurationMs: 131 * 60000, ViewOffsetMs: 88*60000 + 5000,
			Resolution: "4k", VideoCodec: "hevc", AudioCodec: "eac3", BitrateKbps: 41800, BandwidthKbps: 8000,
			Transcode: &TranscodeSpec{Video: DecisionTranscode, Audio: DecisionTranscode, TargetHeight: 1080, TargetVideoCodec: "h264", TargetAudioCodec: "aac", HW: true, Speed: 3.8},
		},
		{
			User: p[3].user, Player: p[3].player, Local: p[3].local, Address: p[3].address,
			Type: "episode", Show: "Saltmarsh", Season: 1, Episode: 3, Title: "Low Tide", Year: 2022, DurationMs: 45 * 60000, ViewOffsetMs: 19*60000 + 44000,
			Resolution: "1080", VideoCodec: "h264", AudioCodec: "aac", BitrateKbps: 6200,
			Transcode: &TranscodeSpec{Video: DecisionTranscode, Audio: DecisionCopy, Subtitle: DecisionBurn, TargetHeight: 1080, Speed: 1.3},
		},
		{
			User: p[4].user, Player: p[4].player, Local: p[4].local, Address: p[4].address,
			Type: "movie", Title: "The Cartographer's Daughter", Year: 2016, DurationMs: 104 * 60000, ViewOffsetMs: 12*60000 + 3000,
			Resolution: "1080", VideoCodec: "h264", AudioCodec: "dca", BitrateKbps: 14500,
			Transcode: &TranscodeSpec{Video: DecisionCopy, Audio: DecisionTranscode, TargetAudioCodec: "aac", Speed: 18.5, Throttled: true},
		},
		{
			User: p[5].user, Player: p[5].player, Local: p[5].local, Address: p[5].address,
			Type: "track", Show: "The Paper Lanterns", Album: "Harbor Lights", Title: "Lamplighter", Year: 2020, DurationMs: 4*60000 + 17000, ViewOffsetMs: 95000,
			AudioCodec: "flac", BitrateKbps: 1012,
		},
	}
}

// RunDemoOptions is RunDemo with every knob; it returns when ctx ends.
func RunDemoOptions(ctx context.Context, s *Server, o DemoOptions) {
	if o.Tick <= 0 {
		o.Tick = 3 * time.Second
	}
	if o.MinSessions <= 0 {
		o.MinSessions = 3
	}
	if o.MaxSessions < o.MinSessions {
		o.MaxSessions = max(9, o.MinSessions)
	}
	d := &demo{s: s, rng: rand.New(rand.NewPCG(uint64(o.Seed), 0x5eed)), o: o}
	for _, spec := range DemoCast() {
		s.AddSession(spec)
	}
	if o.Opening == 0 {
		o.Opening = DefaultDemoOpening
	}
	var opening <-chan time.Time
	if o.Opening > 0 {
		t := time.NewTimer(o.Opening)
		defer t.Stop()
		opening = t.C
	}
	last := time.Now()
	timer := time.NewTimer(d.wait())
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-opening:
			opening = nil
			d.arrive()
			continue
		case <-timer.C:
		}
		now := time.Now()
		s.Advance(now.Sub(last))
		last = now
		d.step()
		timer.Reset(d.wait())
	}
}

// demoKeep is how many ticks (30 s by default) a demo session plays at
// least before a random step may end it, so that the rules under demo (a
// 4K transcode ended after a 5 s grace) act on what the demo shows, as a
// viewer who watches for more than a few seconds would let them.
const demoKeep = 10

type demo struct {
	s   *Server
	rng *rand.Rand
	o   DemoOptions
}

func (d *demo) wait() time.Duration {
	return time.Duration(float64(d.o.Tick) * (0.5 + d.rng.Float64()))
}

func (d *demo) pick(n int) int { return d.rng.IntN(n) }

// step makes one random change. Errors are ignored: the client under demo
// may terminate a session between our read and our change.
func (d *demo) step() {
	sessions := d.s.Playing() // not the stopped ones Plex still lists
	n := len(sessions)
	// Buffering players recover quickly.
	for _, m := range sessions {
		if m.Player != nil && m.Player.State == StateBuffering && d.rng.Float64() < 0.7 {
			_ = d.s.SetState(string(m.SessionKey), StatePlaying)
		}
	}
	switch {
	case n < d.o.MinSessions:
		d.startOne(sessions)
		return
	case n > d.o.MaxSessions:
		d.endOne(sessions)
		return
	case n == 0:
		return
	}
	m := sessions[d.pick(n)]
	key := string(m.SessionKey)
	switch r := d.rng.Float64(); {
	case r < 0.22:
		state := StatePaused
		if m.Player != nil && m.Player.State != StatePlaying {
			state = StatePlaying
		}
		_ = d.s.SetState(key, state)
	case r < 0.32:
		if n > d.o.MinSessions && d.s.age(key) >= demoKeep*d.o.Tick {
			_ = d.s.EndSession(key)
		}
	case r < 0.46:
		if n < d.o.MaxSessions {
			d.startOne(sessions)
		}
	case r < 0.52:
		_ = d.s.Seek(key, int64(d.rng.Float64()*float64(m.Duration)))
	case r < 0.56:
		if m.Player != nil && m.Player.State == StatePlaying {
			_ = d.s.SetState(key, StateBuffering)
		}
	case r < 0.64:
		d.s.Background() // library activity, as a real server's feed has
	}
}

// arrive is the scripted arrival: bob on Firefox, outside the LAN, starts
// a 4K HEVC film that is transcoded to 1080p. When that browser is already
// playing (or the demo is full) an ordinary random arrival happens instead.
func (d *demo) arrive() {
	// It always happens, as the one change the demo promises at start: at
	// MaxSessions too (random steps may have started three sessions by
	// then, and none has been playing long enough to be ended), on another
	// remote device if a random step took bob's browser.
	busy := map[string]bool{}
	for _, m := range d.s.Playing() { // not the stopped ones Plex still lists
		if m.Player != nil {
			busy[string(m.Player.MachineIdentifier)] = true
		}
	}
	p := demoPlayers[7] // bob, Firefox, remote
	if busy[p.player.MachineID] {
		for _, q := range demoPlayers {
			if !q.local && !busy[q.player.MachineID] {
				p = q
				break
			}
		}
		if busy[p.player.MachineID] {
			return // every remote device plays already
		}
	}
	mv := demoMovies[6] // Hollow Crown Protocol, 4K HEVC
	d.s.AddSession(SessionSpec{
		User: p.user, Player: p.player, Local: p.local, Address: p.address,
		Type: "movie", Title: mv.title, Year: mv.year, DurationMs: int64(mv.minutes) * 60000,
		Resolution: mv.res, VideoCodec: mv.vcodec, AudioCodec: mv.ac, BitrateKbps: mv.bitrate,
		Transcode: &TranscodeSpec{Video: DecisionTranscode, Audio: DecisionTranscode, HW: true, TargetHeight: 1080},
	})
}

// endOne ends a random session among those playing for demoKeep ticks
// or more (none if all are younger: the scripted arrival may leave one
// session over MaxSessions for a while).
func (d *demo) endOne(sessions []plex.Metadata) {
	var old []string
	for _, m := range sessions {
		if k := string(m.SessionKey); d.s.age(k) >= demoKeep*d.o.Tick {
			old = append(old, k)
		}
	}
	if len(old) > 0 {
		_ = d.s.EndSession(old[d.pick(len(old))])
	}
}

// startOne starts a new session on a device that is not playing.
func (d *demo) startOne(sessions []plex.Metadata) {
	busy := map[string]bool{}
	for _, m := range sessions {
		if m.Player != nil {
			busy[string(m.Player.MachineIdentifier)] = true
		}
	}
	var free []demoPlayer
	for _, p := range demoPlayers {
		if !busy[p.player.MachineID] {
			free = append(free, p)
		}
	}
	if len(free) == 0 {
		return
	}
	p := free[d.pick(len(free))]
	spec := SessionSpec{User: p.user, Player: p.player, Local: p.local, Address: p.address}
	music := p.player.Product == "Plexamp" || d.rng.Float64() < 0.12
	switch {
	case music:
		a := demoAlbums[d.pick(len(demoAlbums))]
		spec.Type, spec.Show, spec.Album = "track", a.artist, a.album
		spec.Title = a.tracks[d.pick(len(a.tracks))]
		spec.DurationMs = int64(150+d.pick(200)) * 1000
		spec.AudioCodec, spec.BitrateKbps = a.codec, a.bitrate
		if d.rng.Float64() < 0.2 {
			spec.Transcode = &TranscodeSpec{Audio: DecisionTranscode, TargetAudioCodec: "mp3", Speed: 30}
		}
	case d.rng.Float64() < 0.5:
		mv := demoMovies[d.pick(len(demoMovies))]
		spec.Type, spec.Title, spec.Year = "movie", mv.title, mv.year
		spec.DurationMs = int64(mv.minutes) * 60000
		spec.Resolution, spec.VideoCodec, spec.AudioCodec, spec.BitrateKbps = mv.res, mv.vcodec, mv.ac, mv.bitrate
		spec.Subtitles = mv.subtitles
		spec.Transcode = d.videoTranscode(spec, p)
	default:
		sh := demoShows[d.pick(len(demoShows))]
		spec.Type, spec.Show = "episode", sh.name
		spec.Season, spec.Episode = 1+d.pick(sh.seasons), 1+d.pick(10)
		spec.Title = demoEpisodeTitles[d.pick(len(demoEpisodeTitles))]
		spec.DurationMs = int64(sh.minutes)*60000 + int64(d.pick(240))*1000
		spec.Resolution, spec.VideoCodec, spec.AudioCodec, spec.BitrateKbps = sh.res, sh.vcodec, sh.ac, sh.bitrate
		spec.Transcode = d.videoTranscode(spec, p)
	}
	// Most playbacks start from the beginning, some resume.
	if d.rng.Float64() < 0.4 {
		spec.ViewOffsetMs = int64(d.rng.Float64() * 0.7 * float64(spec.DurationMs))
	}
	d.s.AddSession(spec)
}

// videoTranscode decides how a video plays: mostly direct play on the LAN,
// transcodes for remote players and 4K sources.
func (d *demo) videoTranscode(spec SessionSpec, p demoPlayer) *TranscodeSpec {
	r := d.rng.Float64()
	if !p.local {
		r += 0.35 // remote players are bandwidth-limited
	}
	if spec.Resolution == "4k" && p.player.Device != "Apple TV" && p.player.Device != "SHIELD Android TV" {
		r += 0.25
	}
	hw := d.rng.Float64() < 0.7
	switch {
	case r < 0.45:
		return nil
	case r < 0.60:
		return &TranscodeSpec{Video: DecisionCopy, Audio: DecisionCopy, Throttled: d.rng.Float64() < 0.5}
	case r < 0.70:
		return &TranscodeSpec{Video: DecisionCopy, Audio: DecisionTranscode, Throttled: d.rng.Float64() < 0.5}
	case r < 0.78 && spec.Subtitles == "pgs":
		return &TranscodeSpec{Video: DecisionTranscode, Audio: DecisionCopy, Subtitle: DecisionBurn, HW: hw}
	default:
		t := &TranscodeSpec{Video: DecisionTranscode, Audio: DecisionTranscode, HW: hw}
		if !p.local {
			t.TargetHeight = 720
		}
		if spec.Resolution == "4k" {
			t.TargetHeight = 1080
		}
		return t
	}
}
