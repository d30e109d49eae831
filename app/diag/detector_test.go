package diag_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/app/diag"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// feeder plays a server's session history into a detector as the monitor
// would: one app.Update per step, with the full snapshot.
type feeder struct {
	det    *diag.Detector
	clk    *fakeClock
	server string
	live   []app.Session
	got    []diag.Finding
	seq    int
}

func newFeeder(opts diag.Options) *feeder {
	clk := newClock()
	opts.Clock = clk.Now
	return &feeder{det: diag.New(opts), clk: clk, server: "srv"}
}

func (f *feeder) wait(d time.Duration) { f.clk.Advance(d) }

func (f *feeder) publish(changes ...app.Change) {
	sn := app.Snapshot{Server: f.server, Time: f.clk.Now()}.WithSessions(append([]app.Session(nil), f.live...)...)
	f.got = append(f.got, f.det.Observe(app.Update{Snapshot: sn, Changes: changes})...)
}

// start publishes the sessions as started, in one update.
func (f *feeder) start(ss ...app.Session) {
	var ch []app.Change
	for _, s := range ss {
		s.Server = f.server
		if s.FirstSeen.IsZero() {
			s.FirstSeen = f.clk.Now()
		}
		f.live = append(f.live, s)
		ch = append(ch, app.Change{Kind: app.Started, Session: s})
	}
	f.publish(ch...)
}

func (f *feeder) endChanges(keys ...string) []app.Change {
	var ch []app.Change
	for _, k := range keys {
		for i, s := range f.live {
			if s.SessionKey == k {
				f.live = append(f.live[:i:i], f.live[i+1:]...)
				ch = append(ch, app.Change{Kind: app.Ended, Session: s})
				break
			}
		}
	}
	return ch
}

// end publishes the sessions as ended, in one update.
func (f *feeder) end(keys ...string) { f.publish(f.endChanges(keys...)...) }

// replace ends old and starts s in one update, as one fetch shows it.
func (f *feeder) replace(old string, s app.Session) {
	ch := f.endChanges(old)
	s.Server = f.server
	s.FirstSeen = f.clk.Now()
	f.live = append(f.live, s)
	f.publish(append(ch, app.Change{Kind: app.Started, Session: s})...)
}

// retranscode gives a live session a new transcode key ("" stops it).
func (f *feeder) retranscode(key, tk string) {
	for i, s := range f.live {
		if s.SessionKey == key {
			prev := s
			s.TranscodeKey = tk
			f.live[i] = s
			f.publish(app.Change{Kind: app.Changed, Session: s, Prev: &prev})
			return
		}
	}
	panic("no session " + key)
}

// tick publishes an update with no changes (a ping or position update).
func (f *feeder) tick() { f.publish() }

func (f *feeder) nextKey() string { f.seq++; return fmt.Sprint(f.seq) }

// Players used in the tests.
var (
	phone  = app.Player{MachineIdentifier: "phone-id-0001", Product: "Rivulet", Device: "iPhone", Platform: "iOS", Title: "Ann's iPhone"}
	tv     = app.Player{MachineIdentifier: "tv-id-0002", Product: "Plex for Roku", Device: "Roku Ultra", Platform: "Roku", Title: "Living Room"}
	laptop = app.Player{MachineIdentifier: "laptop-id-0003", Product: "Plex Web", Device: "Windows", Platform: "Chrome", Title: "Chrome"}
)

func session(key, typ, title string, p app.Player) app.Session {
	return app.Session{SessionKey: key, ID: "sid-" + key, User: "alice", UserID: "7", Title: title, Type: typ, State: "playing", Player: p}
}

func movie(key string, p app.Player) app.Session { return session(key, "movie", "Inception", p) }
func track(key string, p app.Player) app.Session { return session(key, "track", "Blue in Green", p) }
func episode(key string, n int, p app.Player) app.Session {
	return session(key, "episode", fmt.Sprintf("The Long Orbit - S01E%02d", n), p)
}

func transcoding(s app.Session, tk string) app.Session { s.TranscodeKey = tk; return s }

func withProduct(p app.Player, product, device string) app.Player {
	p.Product, p.Device = product, device
	return p
}

// brief describes findings for test messages and comparisons.
func brief(fs []diag.Finding) []string {
	out := []string{}
	for _, f := range fs {
		who := f.PlayerID
		if who == "" {
			who = "@" + f.User
		}
		out = append(out, string(f.Kind)+"/"+f.Cause+"/"+who)
	}
	return out
}

func TestCollisions(t *testing.T) {
	tests := []struct {
		name string
		run  func(f *feeder)
		want []string
	}{
		{"music replaces video (end, then start)", func(f *feeder) {
			f.start(movie("1", phone))
			f.wait(20 * time.Minute)
			f.end("1")
			f.wait(300 * time.Millisecond)
			f.start(track("2", phone))
		}, []string{"collision/replaced/phone-id-0001"}},
		{"music replaces video (one fetch)", func(f *feeder) {
			f.start(transcoding(movie("1", phone), "tc1"))
			f.wait(time.Minute)
			f.replace("1", track("2", phone))
		}, []string{"collision/replaced/phone-id-0001"}},
		{"music replaces video (new session seen first)", func(f *feeder) {
			f.start(movie("1", phone))
			f.wait(time.Minute)
			f.start(track("2", phone))
			f.wait(1500 * time.Millisecond)
			f.end("1")
		}, []string{"collision/replaced/phone-id-0001"}},
		{"another product takes over the id", func(f *feeder) {
			f.start(movie("1", phone))
			f.wait(time.Minute)
			f.end("1")
			f.wait(time.Second)
			f.start(movie("2", withProduct(phone, "PlexAPI", "Linux")))
		}, []string{"collision/replaced/phone-id-0001"}},
		{"switch slower than the window", func(f *feeder) {
			f.start(movie("1", phone))
			f.end("1")
			f.wait(2500 * time.Millisecond)
			f.start(track("2", phone))
		}, nil},
		{"next episode", func(f *feeder) {
			f.start(transcoding(episode("1", 1, tv), "tc1"))
			f.wait(45 * time.Minute)
			f.end("1")
			f.wait(200 * time.Millisecond)
			f.start(transcoding(episode("2", 2, tv), "tc2"))
		}, nil},
		{"next episode seen in one fetch", func(f *feeder) {
			f.start(episode("1", 1, tv))
			f.wait(45 * time.Minute)
			f.replace("1", episode("2", 2, tv))
		}, nil},
		{"next track of an album", func(f *feeder) {
			f.start(track("1", phone))
			f.wait(4 * time.Minute)
			f.replace("1", session("2", "track", "So What", phone))
		}, nil},
		{"pre-roll, then the film", func(f *feeder) {
			f.start(session("1", "clip", "Pre-roll", tv))
			f.wait(30 * time.Second)
			f.replace("1", movie("2", tv))
		}, nil},
		{"slideshow with music", func(f *feeder) {
			f.start(track("1", laptop), session("2", "photo", "Beach", laptop))
			f.wait(5 * time.Second)
			f.replace("2", session("3", "photo", "Dunes", laptop))
			f.wait(3 * time.Minute)
			f.replace("1", session("4", "photo", "Rocks", laptop))
		}, nil},
		{"two players of one user", func(f *feeder) {
			f.start(movie("1", tv), track("2", phone))
			f.wait(time.Minute)
			f.end("1") // the film on the TV ends…
			f.wait(100 * time.Millisecond)
			f.replace("2", track("3", phone)) // …as the phone moves to the next track
			f.start(movie("4", laptop))       // and the laptop starts a film
			f.tick()
		}, nil},
		{"two live sessions, one id, two products", func(f *feeder) {
			f.start(movie("1", phone))
			f.wait(10 * time.Second)
			f.start(movie("2", withProduct(phone, "PlexAPI", "Linux")))
			for range 20 {
				f.wait(10 * time.Second)
				f.tick()
			}
		}, []string{"collision/shared/phone-id-0001"}},
		{"two live sessions, one id, same product and device", func(f *feeder) {
			f.start(track("1", laptop), session("2", "photo", "Beach", laptop))
			f.tick()
		}, nil},
		{"players without an id", func(f *feeder) {
			anon := app.Player{Product: "Plex Web"}
			f.start(movie("1", anon))
			f.replace("1", track("2", anon))
		}, nil},
		{"collisions within Hold are one episode", func(f *feeder) {
			f.start(movie("1", phone))
			f.replace("1", track("2", phone))
			f.wait(3 * time.Minute)
			f.replace("2", movie("3", phone))
			f.wait(3 * time.Minute)
			f.replace("3", track("4", phone))
		}, []string{"collision/replaced/phone-id-0001"}},
		{"a collision after Hold is a new episode", func(f *feeder) {
			f.start(movie("1", phone))
			f.replace("1", track("2", phone))
			f.wait(11 * time.Minute)
			f.replace("2", movie("3", phone))
		}, []string{"collision/replaced/phone-id-0001", "collision/replaced/phone-id-0001"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFeeder(diag.Options{})
			tt.run(f)
			if got := brief(f.got); strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("findings = %q, want %q\n%s", got, tt.want, summaries(f.got))
			}
		})
	}
}

func summaries(fs []diag.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString("  " + f.Summary + "\n")
	}
	return b.String()
}

func TestCollisionEvidence(t *testing.T) {
	f := newFeeder(diag.Options{})
	f.start(transcoding(movie("10", phone), "tc-video"))
	f.wait(20 * time.Minute)
	endAt := f.clk.Now()
	f.end("10")
	f.wait(400 * time.Millisecond)
	f.start(track("11", phone))
	if len(f.got) != 1 {
		t.Fatalf("findings = %q, want one collision", brief(f.got))
	}
	c := f.got[0]
	if c.Kind != diag.KindCollision || c.Cause != diag.CauseReplaced || c.Server != "srv" || c.PlayerID != phone.MachineIdentifier || c.User != "alice" {
		t.Errorf("finding = %+v, want a replaced collision of alice's %s on srv", c, phone.MachineIdentifier)
	}
	if len(c.Evidence) != 2 {
		t.Fatalf("evidence = %+v, want the ended and the started session", c.Evidence)
	}
	e, s := c.Evidence[0], c.Evidence[1]
	if e.Role != diag.RoleEnded || e.SessionKey != "10" || e.SessionID != "sid-10" || e.Type != "movie" || e.Product != "Rivulet" || e.TranscodeKey != "tc-video" || !e.Time.Equal(endAt) {
		t.Errorf("ended evidence = %+v", e)
	}
	if s.Role != diag.RoleStarted || s.SessionKey != "11" || s.Type != "track" || s.Title != "Blue in Green" || !s.Time.Equal(endAt.Add(400*time.Millisecond)) {
		t.Errorf("started evidence = %+v", s)
	}
	for _, want := range []string{`"Inception" (movie, Rivulet on Ann's iPhone)`, `"Blue in Green" (track`, "400ms later", "phone-id-0001"} {
		if !strings.Contains(c.Summary, want) {
			t.Errorf("summary %q lacks %q", c.Summary, want)
		}
	}
	if !strings.Contains(c.Remedy, "its own client identifier") {
		t.Errorf("remedy = %q, want the fix in plain words", c.Remedy)
	}
	if len(c.Timeline) != 2 || !c.Timeline[0].Equal(endAt) {
		t.Errorf("timeline = %v, want end then start", c.Timeline)
	}
	if c.Counts.Collisions != 1 {
		t.Errorf("counts = %+v, want 1 collision", c.Counts)
	}
	if !f.det.Colliding("srv", phone.MachineIdentifier) || f.det.Colliding("srv", tv.MachineIdentifier) {
		t.Error("Colliding: want the phone only")
	}

	// In force for Hold, counting later replacements, then gone.
	f.wait(time.Minute)
	f.replace("11", movie("12", phone))
	act := f.det.Active()
	if len(act) != 1 || act[0].Counts.Collisions != 2 || act[0].ID != c.ID {
		t.Errorf("Active = %+v, want the episode with 2 collisions", act)
	}
	f.wait(diag.DefaultHold + time.Second)
	if act := f.det.Active(); len(act) != 0 || f.det.Colliding("srv", phone.MachineIdentifier) {
		t.Errorf("Active after Hold = %q (Colliding %v), want none", brief(act), f.det.Colliding("srv", phone.MachineIdentifier))
	}
}

// seekEvery restarts the transcoder of session key every period, n times.
func (f *feeder) seekEvery(key string, period time.Duration, n int) {
	for i := range n {
		f.wait(period)
		f.retranscode(key, fmt.Sprintf("tc-%s-%d-%d", key, f.clk.Now().UnixNano(), i))
	}
}

func TestStorms(t *testing.T) {
	tests := []struct {
		name string
		run  func(f *feeder)
		want []string
	}{
		{"real case: a new transcoded session every half second for 4 minutes", func(f *feeder) {
			for i := range 495 {
				s := transcoding(movie(f.nextKey(), tv), fmt.Sprint("tc", i))
				f.start(s)
				f.wait(240 * time.Millisecond)
				f.end(s.SessionKey)
				f.wait(240 * time.Millisecond)
			}
		}, []string{"storm/player/tv-id-0002"}},
		{"transcoder restarted every half second", func(f *feeder) {
			f.start(transcoding(movie("1", tv), "tc0"))
			f.seekEvery("1", 500*time.Millisecond, 200)
		}, []string{"storm/player/tv-id-0002"}},
		{"transcode stopped and started every half second", func(f *feeder) {
			f.start(transcoding(movie("1", tv), "tc0"))
			for i := range 100 {
				f.wait(250 * time.Millisecond)
				f.retranscode("1", "")
				f.wait(250 * time.Millisecond)
				f.retranscode("1", fmt.Sprint("tc", i+1))
			}
		}, []string{"storm/player/tv-id-0002"}},
		{"a single seek", func(f *feeder) {
			f.start(transcoding(movie("1", tv), "tc0"))
			f.seekEvery("1", time.Minute, 1)
			f.wait(time.Hour)
			f.tick()
		}, nil},
		{"scrubbing a few times a minute for an hour", func(f *feeder) {
			f.start(transcoding(movie("1", tv), "tc0"))
			f.seekEvery("1", 15*time.Second, 240)
		}, nil},
		{"hammering skip for a minute, then watching", func(f *feeder) {
			f.start(transcoding(movie("1", tv), "tc0"))
			f.seekEvery("1", 3*time.Second, 20)
			f.seekEvery("1", 5*time.Minute, 3)
		}, nil},
		{"skipping through a playlist every 5 seconds", func(f *feeder) {
			prev := ""
			for range 120 {
				s := transcoding(track(f.nextKey(), phone), "tc"+f.nextKey())
				if prev == "" {
					f.start(s)
				} else {
					f.replace(prev, s)
				}
				prev = s.SessionKey
				f.wait(5 * time.Second)
			}
		}, nil},
		{"binge: next episode every 22 minutes", func(f *feeder) {
			prev := ""
			for i := range 12 {
				s := transcoding(episode(f.nextKey(), i+1, tv), fmt.Sprint("tc", i))
				if prev == "" {
					f.start(s)
				} else {
					f.replace(prev, s)
				}
				prev = s.SessionKey
				f.wait(22 * time.Minute)
			}
		}, nil},
		{"household: four devices of one account scrubbing", func(f *feeder) {
			players := []app.Player{phone, tv, laptop, {MachineIdentifier: "tablet-id", Product: "Plex for Android", Device: "Tablet"}}
			for i, p := range players {
				f.start(transcoding(movie(fmt.Sprint(i+1), p), fmt.Sprint("tc-start-", i)))
			}
			for r := range 60 {
				for i := range players {
					f.wait(2500 * time.Millisecond)
					f.retranscode(fmt.Sprint(i+1), fmt.Sprintf("tc-%d-%d", i, r))
				}
			}
		}, nil},
		{"a client rotating its identifier", func(f *feeder) {
			for i := range 200 {
				p := app.Player{MachineIdentifier: fmt.Sprintf("rot-%04d", i), Product: "BrokenApp", Device: "Linux"}
				s := transcoding(movie(f.nextKey(), p), fmt.Sprint("tc", i))
				f.start(s)
				f.wait(500 * time.Millisecond)
				f.end(s.SessionKey)
			}
		}, []string{"storm/user/@alice"}},
		{"a storm, calm, then another storm", func(f *feeder) {
			f.start(transcoding(movie("1", tv), "tc0"))
			f.seekEvery("1", 500*time.Millisecond, 60)
			f.wait(3 * time.Minute)
			f.tick()
			f.seekEvery("1", 500*time.Millisecond, 60)
		}, []string{"storm/player/tv-id-0002", "storm/player/tv-id-0002"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFeeder(diag.Options{})
			tt.run(f)
			if got := brief(f.got); strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("findings = %q, want %q\n%s", got, tt.want, summaries(f.got))
			}
		})
	}
}

func TestStormFindingAndConditions(t *testing.T) {
	f := newFeeder(diag.Options{})
	start := f.clk.Now()
	f.start(transcoding(movie("1", tv), "tc0"))
	f.start(movie("2", phone)) // alice also watches on her phone, quietly
	for i := 1; len(f.got) == 0 && i < 1000; i++ {
		f.wait(500 * time.Millisecond)
		f.retranscode("1", fmt.Sprint("tc", i))
	}
	if len(f.got) != 1 {
		t.Fatalf("findings = %q, want one storm", brief(f.got))
	}
	s := f.got[0]
	// 1 at the start plus one per half second: the 41st key comes after 20 s.
	if d := s.Time.Sub(start); d != 20*time.Second {
		t.Errorf("storm raised after %s, want 20s (41 transcodes at 2 per second)", d)
	}
	if s.Kind != diag.KindStorm || s.Cause != diag.CausePlayer || s.PlayerID != tv.MachineIdentifier || s.User != "alice" {
		t.Errorf("finding = %+v", s)
	}
	if s.Counts.Transcodes != 41 || s.Counts.Sessions != 1 || s.Counts.Window != diag.DefaultStormWindow {
		t.Errorf("counts = %+v, want 41 transcodes and 1 session in 2m", s.Counts)
	}
	if len(s.Timeline) != 42 || !s.Timeline[0].Equal(start) {
		t.Errorf("timeline has %d times from %v, want 42 from %v", len(s.Timeline), s.Timeline[0], start)
	}
	if len(s.Evidence) == 0 || s.Evidence[len(s.Evidence)-1].TranscodeKey != "tc40" || s.Evidence[len(s.Evidence)-1].Role != diag.RoleTranscode {
		t.Errorf("evidence = %+v, want the latest transcodes ending with tc40", s.Evidence)
	}
	for _, want := range []string{"Transcode storm", "Plex for Roku on Living Room", "alice", "41 new transcodes", "1 new session", "2 minutes"} {
		if !strings.Contains(s.Summary, want) {
			t.Errorf("summary %q lacks %q", s.Summary, want)
		}
	}
	if !f.det.Storming("srv", tv.MachineIdentifier) || f.det.Storming("srv", phone.MachineIdentifier) || f.det.Storming("other", tv.MachineIdentifier) {
		t.Error("Storming: want the TV only, on srv only")
	}
	if !f.det.StormingUser("srv", "alice") || f.det.StormingUser("srv", "bob") {
		t.Error("StormingUser: want alice (through her TV) and not bob")
	}

	// It goes on: still one finding, Active shows the growing count.
	f.seekEvery("1", 500*time.Millisecond, 20)
	if len(f.got) != 1 {
		t.Errorf("findings = %q, want the storm reported once", brief(f.got))
	}
	act := f.det.Active()
	if len(act) != 1 || act[0].ID != s.ID || act[0].Counts.Transcodes != 61 {
		t.Errorf("Active = %+v, want the storm with 61 transcodes", act)
	}

	// The client is stopped: after the window it has calmed down.
	f.wait(diag.DefaultStormWindow)
	if f.det.Storming("srv", tv.MachineIdentifier) || f.det.StormingUser("srv", "alice") || len(f.det.Active()) != 0 {
		t.Errorf("after calming down: Storming, StormingUser or Active still set: %q", brief(f.det.Active()))
	}
	var kinds []diag.EntryKind
	for _, e := range f.det.Timeline("srv", tv.MachineIdentifier) {
		if e.Event == diag.EntryStorm || e.Event == diag.EntryCalm {
			kinds = append(kinds, e.Event)
		}
	}
	if fmt.Sprint(kinds) != "[storm calm]" {
		t.Errorf("storm entries in the timeline = %v, want [storm calm]", kinds)
	}
}

func TestUserStormCountsPlayers(t *testing.T) {
	f := newFeeder(diag.Options{})
	for i := 0; len(f.got) == 0 && i < 500; i++ {
		p := app.Player{MachineIdentifier: fmt.Sprintf("rot-%04d", i), Product: "BrokenApp", Device: "Linux"}
		s := movie(f.nextKey(), p)
		f.start(s)
		f.wait(time.Second)
		f.end(s.SessionKey)
	}
	if len(f.got) != 1 {
		t.Fatalf("findings = %q, want one user storm", brief(f.got))
	}
	u := f.got[0]
	if u.Cause != diag.CauseUser || u.User != "alice" || u.PlayerID != "" || u.Counts.Sessions != 31 || u.Counts.Players != 31 {
		t.Errorf("finding = %+v, want alice's 31 sessions from 31 player ids", u)
	}
	if !strings.Contains(u.Summary, "from 31 player ids") || !strings.Contains(u.Remedy, "client identifier") {
		t.Errorf("summary %q / remedy %q", u.Summary, u.Remedy)
	}
	if !f.det.StormingUser("srv", "alice") || f.det.Storming("srv", "rot-0030") {
		t.Error("want alice storming as a user and no single player storming")
	}
}

func TestUnknownUserNeverStorms(t *testing.T) {
	f := newFeeder(diag.Options{})
	for i := range 100 {
		s := movie(f.nextKey(), app.Player{MachineIdentifier: fmt.Sprint("p", i)})
		s.User = "(unknown user)"
		f.start(s)
		f.wait(time.Second)
	}
	if len(f.got) != 0 {
		t.Errorf("findings = %q, want none for sessions without a user", brief(f.got))
	}
}

func TestFindingJSON(t *testing.T) {
	f := newFeeder(diag.Options{})
	f.start(movie("1", phone))
	f.replace("1", track("2", phone))
	f.start(transcoding(movie("3", tv), "tc0"))
	f.seekEvery("3", 100*time.Millisecond, 41)
	if len(f.got) != 2 {
		t.Fatalf("findings = %q, want a collision and a storm", brief(f.got))
	}
	for _, fd := range f.got {
		b, err := json.Marshal(fd)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"id", "time", "kind", "cause", "server", "user", "playerId", "summary", "evidence", "remedy", "counts", "timeline"} {
			if _, ok := m[k]; !ok {
				t.Errorf("%s JSON lacks %q: %s", fd.Kind, k, b)
			}
		}
		if m["kind"] != string(fd.Kind) || m["time"] != fd.Time.Format(time.RFC3339Nano) {
			t.Errorf("kind/time = %v/%v in %s", m["kind"], m["time"], b)
		}
		if fmt.Sprint(fd.JSON()) != fmt.Sprint(m) {
			t.Errorf("JSON() = %v, want %v", fd.JSON(), m)
		}
		if fd.Title() == "" || !strings.HasPrefix(fd.Text(), fd.Summary) {
			t.Errorf("Title %q / Text %q", fd.Title(), fd.Text())
		}
	}
	storm := f.got[1].JSON()
	counts, _ := storm["counts"].(map[string]any)
	if counts["windowSeconds"] != 120.0 || counts["transcodes"] != 41.0 {
		t.Errorf("storm counts JSON = %v, want windowSeconds 120 and 41 transcodes", counts)
	}
	ev, _ := f.got[0].JSON()["evidence"].([]any)
	if len(ev) != 2 || ev[0].(map[string]any)["sessionKey"] != "1" || ev[1].(map[string]any)["type"] != "track" {
		t.Errorf("collision evidence JSON = %v", ev)
	}
}

func TestPlayersAndTimeline(t *testing.T) {
	f := newFeeder(diag.Options{})
	f.start(transcoding(movie("1", phone), "tc1"))
	f.wait(time.Minute)
	f.retranscode("1", "tc2")
	f.wait(time.Minute)
	f.retranscode("1", "")
	f.end("1")
	f.start(track("2", phone))
	f.wait(time.Second)
	f.start(movie("3", tv))

	ps := f.det.Players()
	if len(ps) != 2 || ps[0].PlayerID != tv.MachineIdentifier || ps[1].PlayerID != phone.MachineIdentifier {
		t.Fatalf("players = %+v, want the TV (latest) then the phone", ps)
	}
	p := ps[1]
	if p.Server != "srv" || p.Title != "Ann's iPhone" || fmt.Sprint(p.Products) != "[Rivulet]" || fmt.Sprint(p.Users) != "[alice]" ||
		p.Live != 1 || p.Starts != 1 || p.Ends != 1 || p.Transcodes != 1 || !p.Collision || p.Storming {
		t.Errorf("phone summary = %+v", p)
	}
	var got []string
	for _, e := range f.det.Timeline("srv", phone.MachineIdentifier) {
		got = append(got, string(e.Event)+":"+e.SessionKey+":"+e.TranscodeKey)
	}
	want := []string{"start:1:tc1", "transcode:1:tc1", "transcode:1:tc2", "transcode-end:1:tc2", "end:1:", "start:2:", "collision:2:"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("timeline = %q\nwant       %q", got, want)
	}
	if tl := f.det.Timeline("", phone.MachineIdentifier); len(tl) != len(want) {
		t.Errorf("Timeline across servers has %d entries, want %d", len(tl), len(want))
	}
	if tl := f.det.Timeline("other", phone.MachineIdentifier); len(tl) != 0 {
		t.Errorf("Timeline of another server = %+v, want none", tl)
	}
}

func TestBoundedMemory(t *testing.T) {
	f := newFeeder(diag.Options{MaxPlayers: 50, TimelineLen: 30})
	for i := range 1000 {
		p := app.Player{MachineIdentifier: fmt.Sprintf("rot-%05d", i), Product: "BrokenApp"}
		s := transcoding(movie(f.nextKey(), p), fmt.Sprint("tc", i))
		s.User = fmt.Sprint("user", i)
		f.start(s)
		f.wait(100 * time.Millisecond)
		f.end(s.SessionKey)
	}
	if n := len(f.det.Players()); n > 50 {
		t.Errorf("%d players tracked, want at most MaxPlayers 50", n)
	}
	f.start(transcoding(movie("x", tv), "t0"))
	f.seekEvery("x", 10*time.Millisecond, 3000)
	if n := len(f.det.Timeline("srv", tv.MachineIdentifier)); n != 30 {
		t.Errorf("timeline has %d entries, want the cap 30", n)
	}
	if act := f.det.Active(); len(act) != 1 || len(act[0].Timeline) > 256 || len(act[0].Evidence) > 10 {
		t.Errorf("Active = %d findings (timeline %d, evidence %d), want one storm with capped lists", len(act), len(act[0].Timeline), len(act[0].Evidence))
	}
	// Idle players are forgotten after Retain.
	f.end("x")
	f.wait(diag.DefaultRetain + diag.DefaultStormWindow + time.Minute)
	f.tick()
	if n := len(f.det.Players()); n != 0 {
		t.Errorf("%d players tracked after an idle hour, want 0", n)
	}
}

func TestConcurrentUse(t *testing.T) {
	clk := newClock()
	det := diag.New(diag.Options{Clock: clk.Now, StormTranscodes: 5})
	var wg sync.WaitGroup
	for srv := range 4 {
		wg.Go(func() {
			server := fmt.Sprint("srv", srv)
			prev := movie("1", tv)
			prev.Server = server
			prev.TranscodeKey = "k0"
			det.Observe(app.Update{Snapshot: app.Snapshot{Server: server}.WithSessions(prev), Changes: []app.Change{{Kind: app.Started, Session: prev}}})
			for i := range 200 {
				s := prev
				s.TranscodeKey = fmt.Sprint("k", i+1)
				det.Observe(app.Update{Snapshot: app.Snapshot{Server: server}.WithSessions(s), Changes: []app.Change{{Kind: app.Changed, Session: s, Prev: &prev}}})
				prev = s
				clk.Advance(time.Millisecond)
			}
		})
	}
	wg.Go(func() {
		for range 200 {
			det.Players()
			det.Active()
			det.Storming("srv0", tv.MachineIdentifier)
			det.StormingUser("srv1", "alice")
			det.Timeline("", tv.MachineIdentifier)
		}
	})
	wg.Wait()
	for srv := range 4 {
		if !det.Storming(fmt.Sprint("srv", srv), tv.MachineIdentifier) {
			t.Errorf("srv%d: not storming after 200 restarts", srv)
		}
	}
}

func TestDefaults(t *testing.T) {
	o := diag.New(diag.Options{}).Options()
	if o.CollisionWindow != 2*time.Second || o.StormSessions != 30 || o.StormTranscodes != 40 || o.StormWindow != 2*time.Minute || o.Clock == nil {
		t.Errorf("defaults = %+v", o)
	}
	if got := diag.New(diag.Options{}).Observe(app.Update{}); got != nil {
		t.Errorf("Observe without a snapshot = %v, want nil", got)
	}
}

// BenchmarkObserve measures one update of a busy server: 20 live sessions,
// one of them restarting its transcoder.
func BenchmarkObserve(b *testing.B) {
	f := newFeeder(diag.Options{})
	for i := range 20 {
		p := app.Player{MachineIdentifier: fmt.Sprint("player-", i), Product: "Plex Web"}
		f.start(transcoding(movie(fmt.Sprint(i+1), p), fmt.Sprint("tc-", i)))
	}
	i := 0
	for b.Loop() {
		i++
		f.wait(3 * time.Second)
		f.retranscode("1", fmt.Sprint("tc-r", i))
	}
}

// TestLivePlayersAreKept: MaxPlayers bounds the players without a live
// session; with more live players than that (a busy server), none is
// forgotten when others change, so each keeps its timeline, and once they
// end the bound holds again.
func TestLivePlayersAreKept(t *testing.T) {
	const max, live = 4, 12
	f := newFeeder(diag.Options{MaxPlayers: max, TimelineLen: 30})
	var keys []string
	for i := range live {
		p := app.Player{MachineIdentifier: fmt.Sprintf("p%02d", i), Product: "Plex Web"}
		s := transcoding(movie(f.nextKey(), p), fmt.Sprint("tc", i))
		s.User = fmt.Sprint("user", i)
		f.start(s)
		keys = append(keys, s.SessionKey)
		f.wait(time.Second)
	}
	for round := range 3 {
		for i, k := range keys {
			f.wait(time.Second)
			f.retranscode(k, fmt.Sprintf("tc%d-%d", i, round+1))
		}
	}
	for i := range live {
		tl := f.det.Timeline("srv", fmt.Sprintf("p%02d", i))
		if len(tl) == 0 || tl[0].Event != diag.EntryStart {
			t.Errorf("player p%02d: timeline %d entries starting with %v, want its start kept (a live player forgotten)", i, len(tl), tl)
		}
	}
	if n := len(f.det.Players()); n != live {
		t.Errorf("%d players tracked, want the %d live ones", n, live)
	}
	f.end(keys...)
	for i := range 3 * max {
		p := app.Player{MachineIdentifier: fmt.Sprintf("rot-%02d", i)}
		s := movie(f.nextKey(), p)
		f.start(s)
		f.end(s.SessionKey)
	}
	if n := len(f.det.Players()); n > max {
		t.Errorf("%d players tracked with none live, want at most MaxPlayers %d", n, max)
	}
}
