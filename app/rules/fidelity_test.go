package rules

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/app/diag"
	"github.com/plexwarden/plexwarden/plex/plexsim"
)

// The scenario suite of docs/RULES.md ("Decisions on real Plex shapes"):
// every rule kind against plexsim, which lists sessions as real Plex does
// (a transcode's output in Media, the source only in /library/metadata,
// stopped sessions lingering, players replaying or moving to the next
// episode while the old session is listed, fields missing). Each scenario
// says which titles must be terminated; TestScenarioSuite fails on any
// wrong or missed termination and logs precision and recall per kind.

type scenario struct {
	name  string
	kind  Kind
	rules []Rule
	// play starts the sessions and returns, per title, whether it must be
	// terminated. It may act after the first terminations (wait).
	play func(s *plexsim.Server, wait func(n int)) map[string]bool
}

// diagScenarios run with the diagnostics detector before the engine, as
// the desktop app and watch wire it.
var diagScenarios = map[string]bool{"two players share one client identifier": true}

var (
	tv    = plexsim.PlayerSpec{MachineID: "tv-1", Title: "Living Room", Product: "Plex for LG", Platform: "webOS", Device: "LG TV"}
	web   = plexsim.PlayerSpec{MachineID: "web-1", Product: "Plex Web", Platform: "Firefox"}
	phone = plexsim.PlayerSpec{MachineID: "phone-1", Product: "Plex for iOS", Platform: "iOS", Device: "iPhone"}
)

func tc(video string, height int) *plexsim.TranscodeSpec {
	return &plexsim.TranscodeSpec{Video: video, TargetHeight: height}
}

var scenarios = []scenario{
	{"4K HEVC transcoded to 1080p", KindSourceTranscode, []Rule{rule(KindSourceTranscode, func(r *Rule) {
		r.MinResolution, r.Codecs, r.RequireBoth = "4K", []string{"HEVC"}, true
	})}, func(s *plexsim.Server, _ func(int)) map[string]bool {
		s.AddSession(plexsim.SessionSpec{User: "a", Player: web, Title: "4K film", Resolution: "4k", VideoCodec: "hevc", Transcode: tc("transcode", 1080)})
		// The 1080p copy of a film that also has a 4K version.
		s.AddSession(plexsim.SessionSpec{User: "b", Player: tv, Title: "1080p copy", Resolution: "1080", VideoCodec: "hevc",
			Versions: []plexsim.VersionSpec{{Resolution: "4k", VideoCodec: "hevc", BitrateKbps: 40000}}, Transcode: tc("transcode", 720)})
		s.AddSession(plexsim.SessionSpec{User: "c", Player: phone, Title: "4K direct", Resolution: "4k", VideoCodec: "hevc"})
		return map[string]bool{"4K film": true, "1080p copy": false, "4K direct": false}
	}},
	{"30 Mbps source sent at 8 Mbps", KindBandwidth, []Rule{rule(KindBandwidth, func(r *Rule) { r.MaxKbps, r.UseSourceBitrate = 20000, true })},
		func(s *plexsim.Server, _ func(int)) map[string]bool {
			s.AddSession(plexsim.SessionSpec{User: "a", Player: web, Title: "Big source", Resolution: "4k", VideoCodec: "hevc", BitrateKbps: 30000, Transcode: tc("transcode", 1080)})
			s.AddSession(plexsim.SessionSpec{User: "b", Player: tv, Title: "Small source", Resolution: "1080", BitrateKbps: 8000, Transcode: tc("transcode", 720)})
			return map[string]bool{"Big source": true, "Small source": false}
		}},
	{"burn-in with a downscale is a video transcode", KindTranscode, []Rule{rule(KindTranscode)},
		func(s *plexsim.Server, _ func(int)) map[string]bool {
			s.AddSession(plexsim.SessionSpec{User: "a", Player: web, Title: "Burn and scale", Resolution: "1080", Subtitles: "pgs",
				Transcode: &plexsim.TranscodeSpec{Subtitle: plexsim.DecisionBurn, TargetHeight: 720}})
			s.AddSession(plexsim.SessionSpec{User: "b", Player: tv, Title: "Burn only", Resolution: "1080", Subtitles: "pgs",
				Transcode: &plexsim.TranscodeSpec{Subtitle: plexsim.DecisionBurn, TargetHeight: 1080}})
			s.AddSession(plexsim.SessionSpec{User: "c", Player: phone, Title: "Remux", Transcode: &plexsim.TranscodeSpec{Video: "copy"}})
			return map[string]bool{"Burn and scale": true, "Burn only": false, "Remux": false}
		}},
	{"no location: the address decides", KindRemote, []Rule{rule(KindRemote)},
		func(s *plexsim.Server, _ func(int)) map[string]bool {
			for i, a := range []string{"10.0.0.5", "fd12:3456::5", "::ffff:192.168.1.5", "fe80::1", "203.0.113.9"} {
				s.AddSession(plexsim.SessionSpec{User: fmt.Sprint("u", i), Player: plexsim.PlayerSpec{MachineID: fmt.Sprint("p", i)}, Title: a, Address: a, NoLocation: true})
			}
			s.AddSession(plexsim.SessionSpec{User: "w", Player: plexsim.PlayerSpec{MachineID: "pw"}, Title: "told wan", Address: "10.9.9.9"})
			return map[string]bool{"10.0.0.5": false, "fd12:3456::5": false, "::ffff:192.168.1.5": false, "fe80::1": false, "203.0.113.9": true,
				"told wan": true} // Plex said wan (a VPN or proxy address): Plex wins
		}},
	{"exempt LAN without location", KindTranscode, []Rule{rule(KindTranscode, func(r *Rule) { r.Exempt.LAN = true })},
		func(s *plexsim.Server, _ func(int)) map[string]bool {
			s.AddSession(plexsim.SessionSpec{User: "a", Player: web, Title: "home", Address: "10.0.0.6", NoLocation: true, Transcode: tc("transcode", 720)})
			s.AddSession(plexsim.SessionSpec{User: "b", Player: tv, Title: "away", Address: "198.51.100.20", NoLocation: true, Transcode: tc("transcode", 720)})
			return map[string]bool{"home": false, "away": true}
		}},
	{"next episode on the same player", KindUserStreams, []Rule{rule(KindUserStreams, func(r *Rule) { r.MaxStreams = 1 })},
		func(s *plexsim.Server, wait func(int)) map[string]bool {
			ep := s.AddSession(plexsim.SessionSpec{User: "carol", Player: tv, Type: "episode", Show: "Show", Title: "Pilot"})
			time.Sleep(400 * time.Millisecond)
			_, _ = s.NextEpisode(ep.Key)
			return map[string]bool{"Show - S01E01 - Pilot": false, "Show - S01E02 - Episode 2": false}
		}},
	{"replay after our kill message", KindUserStreams, []Rule{rule(KindTranscode), rule(KindUserStreams, func(r *Rule) { r.MaxStreams = 1 })},
		func(s *plexsim.Server, wait func(int)) map[string]bool {
			// The player never reports the stop: Plex lists the terminated
			// session, as it was, for a few seconds.
			s.AddSession(plexsim.SessionSpec{User: "dave", Player: web, Title: "Converted", Transcode: tc("transcode", 720), SilentStop: true})
			wait(1)
			// The viewer obeys: plays again at Original quality on the same
			// player while Plex still lists the terminated session.
			s.AddSession(plexsim.SessionSpec{User: "dave", Player: web, Title: "Original"})
			return map[string]bool{"Converted": true, "Original": false}
		}},
	{"a stream another rule terminates is not counted", KindUserStreams, []Rule{rule(KindTranscode), rule(KindUserStreams, func(r *Rule) { r.MaxStreams, r.Pick = 1, PickOldest })},
		func(s *plexsim.Server, _ func(int)) map[string]bool {
			s.AddSession(plexsim.SessionSpec{User: "erin", Player: tv, Title: "Direct"})
			time.Sleep(400 * time.Millisecond)
			s.AddSession(plexsim.SessionSpec{User: "erin", Player: phone, Title: "Converted", Transcode: tc("transcode", 480)})
			return map[string]bool{"Direct": false, "Converted": true}
		}},
	{"next episode before the old one reports its stop", KindUserStreams, []Rule{rule(KindUserStreams, func(r *Rule) { r.MaxStreams = 1 })},
		func(s *plexsim.Server, wait func(int)) map[string]bool {
			ep := s.AddSession(plexsim.SessionSpec{User: "kim", Player: tv, Type: "episode", Show: "Show", Title: "Pilot", SilentStop: true})
			time.Sleep(400 * time.Millisecond)
			_, _ = s.NextEpisode(ep.Key)
			return map[string]bool{"Show - S01E01 - Pilot": false, "Show - S01E02 - Episode 2": false}
		}},
	{"too many streams", KindUserStreams, []Rule{rule(KindUserStreams, func(r *Rule) { r.MaxStreams = 1 })},
		func(s *plexsim.Server, _ func(int)) map[string]bool {
			s.AddSession(plexsim.SessionSpec{User: "fay", Player: tv, Title: "First"})
			time.Sleep(400 * time.Millisecond)
			s.AddSession(plexsim.SessionSpec{User: "fay", Player: phone, Title: "Second"})
			return map[string]bool{"First": false, "Second": true}
		}},
	{"transcodes per server with a lingering one", KindServerTranscodes, []Rule{rule(KindServerTranscodes, func(r *Rule) { r.MaxTranscodes = 1 })},
		func(s *plexsim.Server, _ func(int)) map[string]bool {
			ep := s.AddSession(plexsim.SessionSpec{User: "gus", Player: tv, Type: "episode", Show: "Show", Title: "Pilot", Transcode: tc("transcode", 720)})
			time.Sleep(400 * time.Millisecond)
			_, _ = s.NextEpisode(ep.Key)
			return map[string]bool{"Show - S01E01 - Pilot": false, "Show - S01E02 - Episode 2": false}
		}},
	{"too many transcodes", KindServerTranscodes, []Rule{rule(KindServerTranscodes, func(r *Rule) { r.MaxTranscodes = 1 })},
		func(s *plexsim.Server, _ func(int)) map[string]bool {
			s.AddSession(plexsim.SessionSpec{User: "h", Player: tv, Title: "T1", Transcode: tc("transcode", 720)})
			time.Sleep(400 * time.Millisecond)
			s.AddSession(plexsim.SessionSpec{User: "i", Player: web, Title: "T2", Transcode: tc("transcode", 720)})
			return map[string]bool{"T1": false, "T2": true}
		}},
	{"two players share one client identifier", KindDiagnostic, []Rule{rule(KindDiagnostic, func(r *Rule) {
		r.Condition, r.Action = ConditionCollision, ActionTerminate
	})}, func(s *plexsim.Server, _ func(int)) map[string]bool {
		shared := plexsim.PlayerSpec{MachineID: "cloned-id", Product: "Plex Web", Platform: "Chrome"}
		s.AddSession(plexsim.SessionSpec{User: "a", Player: shared, Title: "first", Address: "192.168.1.20", Local: true})
		time.Sleep(600 * time.Millisecond) // seen by a fetch (at most 4 a second) before the other starts
		other := shared
		other.Platform = "Firefox"
		s.AddSession(plexsim.SessionSpec{User: "b", Player: other, Title: "second", Address: "192.168.1.30", Local: true})
		// Plex itself stops the earlier one (docs/plex-api.md §1.2): it is
		// leaving; the rule acts on the one that stays.
		return map[string]bool{"first": false, "second": true}
	}},
	{"paused too long", KindPaused, []Rule{rule(KindPaused, func(r *Rule) { r.PausedFor = Duration(time.Second) })},
		func(s *plexsim.Server, _ func(int)) map[string]bool {
			s.AddSession(plexsim.SessionSpec{User: "a", Player: tv, Title: "Paused", State: plexsim.StatePaused})
			s.AddSession(plexsim.SessionSpec{User: "b", Player: web, Title: "Playing"})
			return map[string]bool{"Paused": true, "Playing": false}
		}},
	{"denied network, mapped address", KindAddress, []Rule{rule(KindAddress, func(r *Rule) { r.DenyNetworks = []string{"203.0.113.0/24"} })},
		func(s *plexsim.Server, _ func(int)) map[string]bool {
			s.AddSession(plexsim.SessionSpec{User: "a", Player: tv, Title: "mapped", Address: "::ffff:203.0.113.5"})
			s.AddSession(plexsim.SessionSpec{User: "b", Player: web, Title: "other", Address: "198.51.100.5"})
			return map[string]bool{"mapped": true, "other": false}
		}},
	{"player", KindPlayer, []Rule{rule(KindPlayer, func(r *Rule) { r.Players, r.OnlyTranscodes = []string{"iOS"}, false })},
		func(s *plexsim.Server, _ func(int)) map[string]bool {
			s.AddSession(plexsim.SessionSpec{User: "a", Player: phone, Title: "on iPhone"})
			s.AddSession(plexsim.SessionSpec{User: "b", Player: tv, Title: "on TV"})
			return map[string]bool{"on iPhone": true, "on TV": false}
		}},
	{"time window", KindTimeWindow, []Rule{rule(KindTimeWindow, func(r *Rule) {
		r.Schedule = &Schedule{From: "00:00", To: "24:00"}
		r.Scope.Users = []string{"kid"}
	})}, func(s *plexsim.Server, _ func(int)) map[string]bool {
		s.AddSession(plexsim.SessionSpec{User: "kid", Player: tv, Title: "late"})
		s.AddSession(plexsim.SessionSpec{User: "parent", Player: web, Title: "allowed"})
		return map[string]bool{"late": true, "allowed": false}
	}},
}

// TestScenarioSuite runs every scenario with real terminations and checks
// precision and recall 1.0 per rule kind.
func TestScenarioSuite(t *testing.T) {
	type score struct{ tp, fp, fn, n int }
	scores := map[Kind]*score{}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			var first func(app.Update)
			var tweak func(*Options)
			if diagScenarios[sc.name] {
				det := diag.New(diag.Options{})
				first = func(up app.Update) { det.Observe(up) }
				tweak = func(o *Options) { o.Diag = det }
			}
			e := startSimEnvWith(t, plexsim.Options{PlexPass: true}, rulesFile(sc.rules...), tweak, first)
			wait := func(n int) { e.waitCalls(t, n) }
			want := sc.play(e.sim, wait)
			n := 0
			for _, kill := range want {
				if kill {
					n++
				}
			}
			if n > 0 {
				e.waitCalls(t, n)
			}
			time.Sleep(500 * time.Millisecond) // time for a wrong termination to show
			titles := map[string]string{}      // Session.id → title
			for _, s := range e.mon.Snapshot().Sessions() {
				titles[s.ID] = s.Title
			}
			for _, r := range mustQuery(t, e.hist) {
				if r.SessionID != "" && r.Title != "" {
					titles[r.SessionID] = r.Title
				}
			}
			if testing.Verbose() {
				for _, r := range mustQuery(t, e.hist) {
					t.Logf("history: %s %s %s %s %s", r.Action, r.Outcome, r.Title, r.Detail, r.SessionID)
				}
			}
			killed := map[string]bool{}
			for _, c := range e.sim.Calls() {
				if c.Kind == plexsim.CallTerminate {
					killed[titles[c.SessionID]] = true
				}
			}
			sc2 := scores[sc.kind]
			if sc2 == nil {
				sc2 = &score{}
				scores[sc.kind] = sc2
			}
			sc2.n++
			names := slices.Sorted(func(yield func(string) bool) {
				for k := range want {
					if !yield(k) {
						return
					}
				}
			})
			for _, title := range names {
				switch got, w := killed[title], want[title]; {
				case got && w:
					sc2.tp++
				case got && !w:
					sc2.fp++
					t.Errorf("%q was terminated; it must be spared", title)
				case !got && w:
					sc2.fn++
					t.Errorf("%q was not terminated; the rule asks for it", title)
				}
			}
			for title := range killed {
				if _, ok := want[title]; !ok {
					t.Errorf("terminated %q, which the scenario does not list", title)
				}
			}
		})
	}
	kinds := make([]string, 0, len(scores))
	for k := range scores {
		kinds = append(kinds, string(k))
	}
	sort.Strings(kinds)
	var b strings.Builder
	fmt.Fprintf(&b, "\n| kind | scenarios | terminations right / expected | wrong | precision | recall |\n|---|---|---|---|---|---|\n")
	for _, k := range kinds {
		s := scores[Kind(k)]
		p, r := 1.0, 1.0
		if s.tp+s.fp > 0 {
			p = float64(s.tp) / float64(s.tp+s.fp)
		}
		if s.tp+s.fn > 0 {
			r = float64(s.tp) / float64(s.tp+s.fn)
		}
		fmt.Fprintf(&b, "| %s | %d | %d / %d | %d | %.2f | %.2f |\n", k, s.n, s.tp, s.tp+s.fn, s.fp, p, r)
	}
	t.Log(b.String())
}
