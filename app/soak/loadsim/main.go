// Command loadsim runs a simulated Plex Media Server (plexsim) on
// 127.0.0.1 with a fixed number of live sessions, each of which sends a
// "playing" timeline every interval (and a transcodeSession.update if it
// transcodes), as real players do. `make measure` runs Plex Warden against
// it to measure memory and CPU (see docs/BENCHMARKS.md).
//
// By default the timelines are staggered evenly over the interval, as
// independent players send them; -burst sends them all at once with
// plexsim's Advance instead. It prints "url http://127.0.0.1:PORT" on
// stdout once it listens and runs until SIGINT or SIGTERM; every minute it
// prints on stderr how many events it sent and how many /status/sessions
// fetches it served.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/plexwarden/plexwarden/plex"
	"github.com/plexwarden/plexwarden/plex/plexsim"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback only)")
	n := flag.Int("sessions", 100, "live sessions")
	interval := flag.Duration("interval", 10*time.Second, "timeline interval of each session")
	token := flag.String("token", "measure-token", "accepted X-Plex-Token")
	transcodes := flag.Int("transcodes", 20, "percentage of sessions that transcode video")
	burst := flag.Bool("burst", false, "send every session's timeline at once (plexsim Advance) instead of staggered")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, *n, *interval, *token, *transcodes, *burst); err != nil {
		fmt.Fprintln(os.Stderr, "loadsim:", err)
		os.Exit(1)
	}
}

var players = []plexsim.PlayerSpec{
	{Title: "Living Room", Product: "Plex for Roku", Platform: "Roku", Device: "Roku Ultra"},
	{Title: "Chrome", Product: "Plex Web", Platform: "Chrome", Device: "Windows"},
	{Title: "Pixel 8", Product: "Plex for Android (Mobile)", Platform: "Android", Device: "Pixel 8"},
	{Title: "Apple TV", Product: "Plex for Apple TV", Platform: "tvOS", Device: "Apple TV"},
	{Title: "LG OLED", Product: "Plex for LG", Platform: "webOS", Device: "LG TV"},
}

// session is what a staggered timeline needs to know of one session.
type session struct {
	ref    plexsim.SessionRef
	player string
	offset int64
}

func run(ctx context.Context, addr string, n int, interval time.Duration, token string, transcodes int, burst bool) error {
	sim := plexsim.New(plexsim.Options{Token: token, FriendlyName: "loadsim", PlexPass: true})
	if err := sim.Start(addr); err != nil {
		return err
	}
	defer sim.Close()
	sessions := make([]*session, n)
	for i := range sessions {
		p := players[i%len(players)]
		p.MachineID = fmt.Sprintf("loadsim-player-%04d", i)
		spec := plexsim.SessionSpec{
			User: fmt.Sprintf("user%02d", i%20), Player: p, Title: fmt.Sprintf("Film %d", i),
			DurationMs: 24 * 3600 * 1000, Local: i%3 != 0, Resolution: []string{"1080", "4k", "720"}[i%3],
		}
		if i*100 < n*transcodes {
			spec.Transcode = &plexsim.TranscodeSpec{Video: plexsim.DecisionTranscode, HW: i%2 == 0}
		}
		sessions[i] = &session{ref: sim.AddSession(spec), player: p.MachineID}
	}
	fmt.Printf("url %s\n", sim.URL())
	os.Stdout.Sync()

	report := time.NewTicker(time.Minute)
	defer report.Stop()
	var events, lastFetches int
	fetches := func() int {
		c := 0
		for _, r := range sim.Requests() {
			if r.Path == "/status/sessions" {
				c++
			}
		}
		return c
	}
	step := interval
	if !burst && n > 0 {
		step = interval / time.Duration(n)
	}
	tick := time.NewTicker(step)
	defer tick.Stop()
	next := 0
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-report.C:
			f := fetches()
			fmt.Fprintf(os.Stderr, "loadsim: %d sessions, %d timeline events sent, %d /status/sessions fetches in the last minute\n", sim.SessionCount(), events, f-lastFetches)
			lastFetches, events = f, 0
		case <-tick.C:
			if burst {
				sim.Advance(interval)
				events += n
				continue
			}
			s := sessions[next]
			next = (next + 1) % n
			s.offset += interval.Milliseconds()
			timeline(sim, s)
			events++
		}
	}
}

// timeline sends the events a player's timeline report makes Plex send:
// playing with the new position, and the transcoder's progress.
func timeline(sim *plexsim.Server, s *session) {
	ps := plex.PlayState{
		SessionKey: plex.String(s.ref.Key), ClientIdentifier: plex.String(s.player),
		ViewOffset: plex.Int(s.offset), State: plexsim.StatePlaying,
	}
	if s.ref.TranscodeKey != "" {
		ps.TranscodeSession = s.ref.TranscodeKey
		ts := plex.TranscodeSession{Key: "/transcode/sessions/" + s.ref.TranscodeKey, Progress: plex.Float(float64(s.offset%1000) / 10), Speed: 1.5}
		b, _ := json.Marshal(map[string]any{"TranscodeSession": ts})
		sim.Emit(plex.EventTranscodeUpdate, b)
	}
	b, _ := json.Marshal(map[string]any{"PlaySessionStateNotification": ps})
	sim.Emit(plex.EventPlaying, b)
}
