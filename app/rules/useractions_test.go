package rules

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/plex"
)

func machine(id string) func(*app.Session) {
	return func(s *app.Session) { s.Player.MachineIdentifier = id }
}

func TestDeviceScopeAndExempt(t *testing.T) {
	runMatchCases(t, []matchCase{
		{name: "scope by machineIdentifier, exactly",
			rule:     rule(KindRemote, func(r *Rule) { r.Scope.Devices = []string{"TV-abc"} }),
			sessions: []app.Session{sess("1", machine("TV-abc")), sess("2", machine("tv-abc")), sess("3", machine("TV-abcd"))},
			want:     []string{"1"}},
		{name: "devices and player patterns: either picks",
			rule: rule(KindRemote, func(r *Rule) {
				r.Scope.Devices, r.Scope.Players = []string{"TV-abc"}, []string{"roku"}
			}),
			sessions: []app.Session{sess("1", machine("TV-abc")), sess("2", player("Plex for Roku", "Roku")), sess("3")},
			want:     []string{"1", "2"}},
		{name: "exempt by machineIdentifier",
			rule:     rule(KindRemote, func(r *Rule) { r.Exempt.Devices = []string{"m2"} }),
			sessions: []app.Session{sess("1"), sess("2"), sess("3")},
			want:     []string{"1", "3"}},
		{name: "a player without an id matches no device",
			rule:     rule(KindRemote, func(r *Rule) { r.Scope.Devices = []string{"m1"} }),
			sessions: []app.Session{sess("1", machine(""))},
			want:     nil},
	})
	bad := rule(KindRemote, func(r *Rule) { r.Exempt.Devices = []string{" "} })
	if err := (&File{Rules: []Rule{bad}}).Validate(); err == nil || !strings.Contains(err.Error(), `"exempt.devices[0]"`) {
		t.Errorf("an empty device: error %v, want one naming exempt.devices[0]", err)
	}
}

func TestTerminateUserHits(t *testing.T) {
	runMatchCases(t, []matchCase{
		{name: "every stream of the user, whatever the scope",
			rule: rule(KindTranscode, func(r *Rule) {
				r.Action, r.Scope.Servers = ActionTerminateUser, []string{"home"}
			}),
			sessions: []app.Session{sess("1", transcoding), sess("2", onServer("away")), sess("3", user("bob", "200")), sess("4", lan)},
			want:     []string{"1", "2", "4"}, reason: "video"},
		{name: "never an exempt stream, a pre-roll or a leaving one",
			rule: rule(KindTranscode, func(r *Rule) {
				r.Action, r.Exempt.Devices = ActionTerminateUser, []string{"m2"}
			}),
			sessions: []app.Session{sess("1", transcoding), sess("2"), sess("3", func(s *app.Session) { s.Leaving = "stopped" })},
			want:     []string{"1"}},
		{name: "counting kinds expand too",
			rule: rule(KindUserStreams, func(r *Rule) {
				r.Action, r.MaxStreams, r.Scope.Servers = ActionTerminateUser, 1, []string{"home"}
			}),
			sessions: []app.Session{sess("1"), sess("2"), sess("3", onServer("away"))},
			want:     []string{"2", "1", "3"}},
	})
}

func TestEvaluateTerminateUserDryRun(t *testing.T) {
	f := rulesFile(rule(KindTranscode, func(r *Rule) {
		r.Name = "all of them"
		r.Action = ActionTerminateUser
		r.CoolDown = Duration(30 * time.Minute)
	}))
	f.DryRun = true
	st := &app.State{Servers: []*app.Snapshot{app.Snapshot{Server: "home"}.WithSessions(sess("1", transcoding), sess("2", player("Plex for Roku", "Roku")), sess("3", user("bob", "200")))}}
	items, err := Evaluate(f, st, t0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range items {
		got = append(got, it.Session.SessionKey)
		if it.Action != ActionTerminateUser || !it.DryRun || it.CoolDown != 30*time.Minute {
			t.Errorf("item %+v: want terminateUser, dry run, 30m cool-down", it)
		}
	}
	if !slices.Equal(got, []string{"1", "2"}) {
		t.Errorf("preview sessions = %v, want alice's 1 and 2", got)
	}
	if len(items) == 2 && (!strings.Contains(items[1].Message, "On Roku") || !strings.Contains(items[1].Reason, "all of alice's streams")) {
		t.Errorf("second item: message %q reason %q; want the Roku message and the user reason", items[1].Message, items[1].Reason)
	}
}

func TestEngineTerminateUser(t *testing.T) {
	te := newTestEngine(t, rulesFile(rule(KindTranscode, func(r *Rule) { r.Name = "all"; r.Action = ActionTerminateUser })))
	a1, a2, b1 := sess("1", transcoding), sess("2", onServer("away"), player("Plex for Roku", "Roku")), sess("3", user("bob", "200"))
	te.actor.setLive(a1, a2, b1)
	te.Observe(update("away", a2))
	settle()
	if n := len(te.actor.Calls()); n != 0 {
		t.Fatalf("%d calls before the matching stream was seen, want 0", n)
	}
	te.Observe(update("home", a1, b1))
	calls := te.actor.waitCalls(t, 2)
	settle()
	var ids []string
	for _, c := range te.actor.Calls() {
		ids = append(ids, c.id)
		if c.id == "id2" && !strings.Contains(c.message, "On Roku") {
			t.Errorf("message on the Roku = %q, want its player's", c.message)
		}
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []string{"id1", "id2"}) || len(calls) != 2 {
		t.Errorf("terminated %v, want alice's id1 and id2 only", ids)
	}
	for _, id := range []string{"id1", "id2"} {
		found := false
		for _, r := range te.hist.all() {
			if r.SessionID == id && r.Action == string(ActionTerminateUser) && r.Outcome == "done" && r.Rule == "all" {
				found = true
			}
		}
		if !found {
			t.Errorf("no terminateUser/done record of %s by rule all: %+v", id, te.hist.all())
		}
	}
}

// TestEngineCoolDown: after the rule terminates alice's transcode, her new
// streams are stopped at once with the time she can play again; her
// stream that was already playing and bob's go on; the block survives a
// restart and can be lifted.
func TestEngineCoolDown(t *testing.T) {
	dir := t.TempDir()
	f := rulesFile(rule(KindTranscode, func(r *Rule) { r.Name = "tc"; r.CoolDown = Duration(30 * time.Minute) }))
	state := func(o *Options) { o.StateDir = dir }
	te := newTestEngine(t, f, state)
	a1, a2 := sess("1", transcoding), sess("2") // a2 plays directly, before the block
	te.actor.setLive(a1, a2)
	te.Observe(update("home", a1, a2))
	te.actor.waitCalls(t, 1)
	r := te.hist.waitRecord(t, HistoryBlockStart, OutcomeStarted)
	if r.Rule != "tc" || r.User != "alice" || !strings.Contains(r.Detail, "until 21:30") {
		t.Errorf("block start record = %+v, want rule tc, alice, until 21:30", r)
	}
	if st := te.Status(); st.Blocks != 1 {
		t.Errorf("Status().Blocks = %d, want 1", st.Blocks)
	}
	bl := te.Blocks()
	if len(bl) != 1 || bl[0].User != "alice" || !bl[0].Until.Equal(te.clock.Now().Add(30*time.Minute)) || !slices.Contains(bl[0].Allowed, ident(a2)) {
		t.Fatalf("Blocks() = %+v, want alice's until 21:30 allowing stream 2", bl)
	}
	// A new stream of alice's (direct play: the rule itself would not
	// match it) is stopped; bob's is not; stream 2 plays on.
	a3, b4 := sess("3", player("Plex for Roku", "Roku")), sess("4", user("bob", "200"))
	items := te.Preview(&app.State{Servers: []*app.Snapshot{app.Snapshot{Server: "home"}.WithSessions(a2, a3, b4)}})
	if len(items) != 1 || !items[0].Blocked || items[0].Session.ID != "id3" || items[0].Rule != "tc" ||
		!strings.Contains(items[0].Message, "You can play again at 21:30.") || items[0].Done {
		t.Errorf("Preview = %+v, want only stream 3, blocked by tc, with the message", items)
	}
	te.actor.setLive(a2, a3, b4)
	te.Observe(update("home", a2, a3, b4))
	calls := te.actor.waitCalls(t, 2)
	settle()
	if n := len(te.actor.Calls()); n != 2 || calls[1].id != "id3" {
		t.Fatalf("calls = %+v, want the cool-down to stop id3 only", te.actor.Calls())
	}
	if !strings.Contains(calls[1].message, "You can play again at 21:30.") {
		t.Errorf("block message = %q, want the time alice can play again", calls[1].message)
	}
	if rec := te.hist.waitRecord(t, HistoryBlock, "done"); rec.SessionID != "id3" || rec.Rule != "tc" || rec.Message != calls[1].message {
		t.Errorf("block record = %+v", rec)
	}
	b, err := os.ReadFile(filepath.Join(dir, BlocksFile))
	if err != nil || !strings.Contains(string(b), `"user": "alice"`) {
		t.Fatalf("blocks file: %v %s", err, b)
	}

	// A restart keeps the block.
	te.Close()
	te2 := newTestEngine(t, f, state)
	te2.clock.Add(10 * time.Minute)
	a5 := sess("5")
	te2.actor.setLive(a5)
	te2.Observe(update("home", a5))
	if c := te2.actor.waitCalls(t, 1); c[0].id != "id5" {
		t.Errorf("after a restart: calls %+v, want id5 stopped", c)
	}
	// Lifted: new streams play.
	if n, err := te2.LiftBlock("ALICE"); n != 1 || err != nil {
		t.Fatalf("LiftBlock = %d, %v; want 1, nil", n, err)
	}
	te2.hist.waitRecord(t, HistoryBlockLift, OutcomeLifted)
	if len(te2.Blocks()) != 0 {
		t.Errorf("Blocks() after lifting = %+v", te2.Blocks())
	}
	a6 := sess("6")
	te2.actor.setLive(a6)
	te2.Observe(update("home", a6))
	settle()
	if n := len(te2.actor.Calls()); n != 1 {
		t.Errorf("%d calls after lifting, want 1 (a6 plays)", n)
	}
	var saved blocksFile
	b, _ = os.ReadFile(filepath.Join(dir, BlocksFile))
	if err := json.Unmarshal(b, &saved); err != nil || len(saved.Blocks) != 0 {
		t.Errorf("blocks file after lifting = %s (%v), want no blocks", b, err)
	}
}

func TestEngineCoolDownRuleScopeAndExpiry(t *testing.T) {
	f := rulesFile(rule(KindTranscode, func(r *Rule) {
		r.Name, r.CoolDown, r.CoolDownScope = "movies", Duration(time.Hour), CoolDownRule
		r.Scope.Libraries = []string{"Movies"}
	}))
	te := newTestEngine(t, f)
	a1 := sess("1", transcoding)
	te.actor.setLive(a1)
	te.Observe(update("home", a1))
	te.hist.waitRecord(t, HistoryBlockStart, OutcomeStarted)
	tv := sess("2", func(s *app.Session) { s.Library = "TV"; s.LibrarySectionID = "2" })
	mv := sess("3")
	te.actor.setLive(tv, mv)
	te.Observe(update("home", tv, mv))
	calls := te.actor.waitCalls(t, 2)
	settle()
	if len(te.actor.Calls()) != 2 || calls[1].id != "id3" {
		t.Fatalf("calls = %+v, want only the Movies stream id3 stopped", te.actor.Calls())
	}
	// After the hour, new streams play again.
	te.clock.Add(time.Hour)
	mv2 := sess("4")
	te.actor.setLive(tv, mv2)
	te.Observe(update("home", tv, mv2))
	settle()
	if n := len(te.actor.Calls()); n != 2 {
		t.Errorf("%d calls after the cool-down ended, want 2", n)
	}
	if len(te.Blocks()) != 0 {
		t.Errorf("Blocks() after the end = %+v", te.Blocks())
	}
}

func TestEngineCoolDownDryRun(t *testing.T) {
	f := rulesFile(rule(KindTranscode, func(r *Rule) { r.CoolDown = Duration(time.Hour) }))
	f.DryRun = true
	te := newTestEngine(t, f)
	te.Observe(update("home", sess("1", transcoding)))
	r := te.hist.waitRecord(t, HistoryBlockStart, "dry run")
	if !r.DryRun || !strings.Contains(r.Detail, "would stop alice's new streams for 1h") {
		t.Errorf("dry-run block record = %+v", r)
	}
	if len(te.Blocks()) != 0 {
		t.Errorf("a dry run started a block: %+v", te.Blocks())
	}
}

func TestCoolDownValidation(t *testing.T) {
	tests := []struct {
		mod  func(*Rule)
		want string
	}{
		{func(r *Rule) { r.CoolDown = Duration(8 * 24 * time.Hour) }, `"coolDown"`},
		{func(r *Rule) { r.CoolDown, r.Action = Duration(time.Hour), ActionNotify }, "notify-only"},
		{func(r *Rule) { r.CoolDownScope = "some" }, `"coolDownScope"`},
	}
	for _, tt := range tests {
		f := rulesFile(rule(KindTranscode, tt.mod))
		if err := f.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Validate = %v, want an error containing %s", err, tt.want)
		}
	}
}

// TestLoadStateFallsBackToBackup: a state file that does not decode is set
// aside (not deleted) and the backup is used.
func TestLoadStateFallsBackToBackup(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, BlocksFile)
	good := blocksFile{Version: 1, Blocks: []Block{{User: "alice", Rule: "r", Until: t0}}}
	if err := saveState(path, good); err != nil {
		t.Fatal(err)
	}
	if err := saveState(path, blocksFile{Version: 1, Blocks: []Block{}}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(`{"version": 1, "blocks": [{"user": "al`), 0o600); err != nil {
		t.Fatal(err)
	}
	// The backup holds the first content (the second save kept it).
	var got blocksFile
	err := loadState(path, &got)
	if err == nil || !strings.Contains(err.Error(), "backup") {
		t.Errorf("loadState error = %v, want one saying the backup was used", err)
	}
	if len(got.Blocks) != 1 || got.Blocks[0].User != "alice" {
		t.Errorf("loaded %+v, want the backup's block", got)
	}
	aside, _ := filepath.Glob(path + ".broken-*")
	if len(aside) != 1 {
		t.Errorf("broken files set aside: %v, want 1", aside)
	}
}

// TestEngineCoolDownRetries: a block's terminate that fails for a reason
// that may pass is tried again after RetryAfter, not at every update.
func TestEngineCoolDownRetries(t *testing.T) {
	te := newTestEngine(t, rulesFile(rule(KindTranscode, func(r *Rule) { r.Name = "tc"; r.CoolDown = Duration(time.Hour) })),
		func(o *Options) { o.RetryAfter = 5 * time.Second })
	a1 := sess("1", transcoding)
	te.actor.setLive(a1)
	te.Observe(update("home", a1))
	te.hist.waitRecord(t, HistoryBlockStart, OutcomeStarted)
	failed := false
	te.actor.mu.Lock()
	te.actor.terminate = func(s app.Session) app.Result {
		if s.ID == "id3" && !failed {
			failed = true
			return app.Result{Outcome: app.OutcomeFailed, Err: plex.ErrServer}
		}
		return app.Result{Outcome: app.OutcomeDone}
	}
	te.actor.mu.Unlock()
	a3 := sess("3")
	te.actor.setLive(a3)
	te.Observe(update("home", a3))
	te.hist.waitRecord(t, HistoryBlock, string(app.OutcomeFailed))
	settle()
	for range 3 {
		te.Observe(update("home", a3))
	}
	settle()
	if n := len(te.actor.Calls()); n != 2 {
		t.Fatalf("%d calls before RetryAfter, want 2 (no retry yet)", n)
	}
	te.clock.Add(5 * time.Second)
	te.tick()
	te.actor.waitCalls(t, 3)
	te.hist.waitRecord(t, HistoryBlock, "done")
}
