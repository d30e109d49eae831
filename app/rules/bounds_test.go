package rules

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/plex/plexsim"
)

// TestMessageTooLongRefused: a message no server would carry is refused
// when the rules file is read, naming the rule and the field.
func TestMessageTooLongRefused(t *testing.T) {
	long := strings.Repeat("x", 70000)
	tests := []struct{ name, rule, field string }{
		{"message", fmt.Sprintf(`{"name":"Long","kind":"transcode","message":%q}`, long), "message"},
		{"per player", fmt.Sprintf(`{"name":"Long","kind":"transcode","messages":{"roku":%q}}`, long), "messages.roku"},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(`{"version":1,"rules":[` + tt.rule + `]}`))
		var fe *FileError
		if !errors.As(err, &fe) || fe.Name != "Long" || fe.Field != tt.field || !strings.Contains(err.Error(), "70000 characters") {
			t.Errorf("%s: error %v, want a FileError for rule Long, field %s, saying 70000 characters", tt.name, err, tt.field)
		}
	}
	ok := fmt.Sprintf(`{"version":1,"rules":[{"name":"Fits","kind":"transcode","message":%q}]}`, strings.Repeat("y", MaxMessageLen))
	if _, err := Parse([]byte(ok)); err != nil {
		t.Errorf("a message of exactly %d characters: %v", MaxMessageLen, err)
	}
}

// TestRenderedMessageBounded: a long title cannot make the message too long
// for the request that carries it.
func TestRenderedMessageBounded(t *testing.T) {
	tests := []struct{ name, title string }{
		{"ascii", strings.Repeat("Long Title ", 200)},
		{"emoji", strings.Repeat("😀", 2000)},
	}
	for _, tt := range tests {
		r := rule(KindTranscode, func(r *Rule) { r.Message = "{title}: please play at Original quality." })
		got := render(r, app.Session{Title: tt.title, User: "u"}, "")
		if n := utf8.RuneCountInString(got); n > maxRendered || len(url.QueryEscape(got)) > maxEncoded || !strings.HasSuffix(got, "…") {
			t.Errorf("%s: rendered %d characters, %d encoded bytes, ends %q; want ≤ %d, ≤ %d, cut with …",
				tt.name, n, len(url.QueryEscape(got)), got[len(got)-6:], maxRendered, maxEncoded)
		}
	}
	short := render(rule(KindTranscode, func(r *Rule) { r.Message = "{title} stopped." }), app.Session{Title: "Dune"}, "")
	if short != "Dune stopped." {
		t.Errorf("short message = %q, want it untouched", short)
	}
}

// TestSimLongTitleStillTerminates: against plexsim, which refuses request
// addresses over 8 KiB as servers do (414), a message made long by its
// title is cut and the terminate goes through.
func TestSimLongTitleStillTerminates(t *testing.T) {
	f := rulesFile(rule(KindTranscode, func(r *Rule) { r.Message = "{title} {title} {title}" }))
	e := startSimEnv(t, plexsim.Options{PlexPass: true}, f, nil)
	e.sim.AddSession(plexsim.SessionSpec{User: "a", Title: strings.Repeat("字", 400), Transcode: tc("transcode", 720)})
	calls := e.waitCalls(t, 1)
	if calls[0].Kind != plexsim.CallTerminate || calls[0].Status != 200 {
		t.Errorf("call %+v, want a terminate answered 200", calls[0])
	}
}

// TestFallbackWhenTerminateCannotWork: a refusal that retrying cannot fix
// (the server rejected the request itself) falls back to stopping the
// transcode when the rule allows, and the record says why.
func TestFallbackWhenTerminateCannotWork(t *testing.T) {
	for _, fallback := range []bool{true, false} {
		f := rulesFile(rule(KindTranscode, func(r *Rule) { r.FallbackStopTranscode = fallback }))
		te := newTestEngine(t, f)
		te.actor.mu.Lock()
		te.actor.terminate = func(app.Session) app.Result {
			return app.Result{Outcome: app.OutcomeFailed, Err: errors.New("plex: 414 Request-URI Too Long")}
		}
		te.actor.mu.Unlock()
		s := sess("1", transcoding)
		te.actor.setLive(s)
		te.Observe(update("home", s))
		want := []string{"terminate"}
		if fallback {
			want = append(want, "stop")
		}
		te.actor.waitCalls(t, len(want))
		settle()
		var kinds []string
		for _, c := range te.actor.Calls() {
			kinds = append(kinds, c.kind)
		}
		if got := strings.Join(kinds, ","); got != strings.Join(want, ",") {
			t.Errorf("fallback %v: calls %s, want %s", fallback, got, strings.Join(want, ","))
		}
		if fallback {
			r := te.hist.waitRecord(t, string(ActionStopTranscode), "done")
			if !strings.Contains(r.Detail, "refused the terminate request") || !strings.Contains(r.Detail, "414") {
				t.Errorf("fallback record %+v, want it to say why", r)
			}
		}
	}
}
