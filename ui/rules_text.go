// Text helpers of the Rules tab, without Fyne: parsing what the admin
// types and writing rules, schedules and kinds briefly.

package ui

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/app/rules"
	"github.com/plexwarden/plexwarden/internal/words"
)

// sentence makes an error message a sentence: a capital first letter
// (rune-aware: messages may start with a quotation mark) and a full stop.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	s = string(r)
	if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "?") && !strings.HasSuffix(s, "!") {
		s += "."
	}
	return s
}

// ruleSummary is the second line of a rule in the list:
// "Video transcode · terminate · grace 20s".
func ruleSummary(r rules.Rule) string {
	grace := ""
	if r.Grace > 0 {
		grace = "grace " + words.ShortDuration(r.Grace.Std())
	}
	return joinDot(rules.KindName(r.Kind), rules.ActionShort(r.Action), grace)
}

// kindInfo describes kind k; unknown kinds get their name only.
func kindInfo(k rules.Kind) rules.KindInfo {
	if ki, ok := rules.LookupKind(k); ok {
		return ki
	}
	return rules.KindInfo{Kind: k, Name: string(k)}
}

// commonParam is the parameter named field every kind shares (for its
// label and help).
func commonParam(field string) rules.Param {
	if p, ok := rules.LookupParam("", field); ok {
		return p
	}
	return rules.Param{Field: field, Label: field}
}

// parseDuration reads a duration as the admin types it: "30s", "5m",
// "1h30m"; empty is 0.
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return 0, fmt.Errorf("“%s” needs a unit: e.g. %ss or %sm", s, s, s)
	}
	d, err := time.ParseDuration(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		return 0, fmt.Errorf("“%s” is not a duration: use e.g. 30s, 5m or 1h30m", s)
	}
	return d, nil
}

// parseWhole reads a whole number; empty is 0.
func parseWhole(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(strings.NewReplacer(" ", "", "_", "").Replace(s), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("“%s” is not a whole number", s)
	}
	return n, nil
}

// parseList reads a list typed with commas or one item a line; empty
// items are dropped and an empty list is nil.
func parseList(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == ';' }) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// scheduleText writes a schedule briefly: "mon, tue 01:00–06:00", "every
// day 22:00–06:00".
func scheduleText(s *rules.Schedule) string {
	days := "every day"
	if len(s.Days) > 0 {
		on := rules.ExpandDays(s.Days)
		var ds []string
		for _, d := range rules.Weekdays {
			if on[d] {
				ds = append(ds, d)
			}
		}
		switch {
		case len(ds) == 7:
		case slices.Equal(ds, rules.Weekdays[:5]):
			days = "weekdays"
		case slices.Equal(ds, rules.Weekdays[5:]):
			days = "weekend"
		default:
			days = strings.Join(ds, " ")
		}
	}
	return days + " " + s.From + "–" + s.To
}

func zeroEmpty(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

// sessionLabel names a session in the preview's select: "bob · Severance ·
// Plex for Roku", with the server when there are several.
func sessionLabel(s *app.Session, withServer bool) string {
	l := joinDot(s.User, truncate(s.Title, 32), s.Player.Product)
	if withServer {
		l += " — " + s.Server
	}
	return l
}

// previewNotes are the flags of a preview item: "dry run", "after 30s",
// "already acted".
func previewNotes(it *rules.PreviewItem, done bool) string {
	var notes []string
	if done {
		notes = append(notes, "already acted")
	}
	if it.DryRun {
		notes = append(notes, "dry run")
	}
	if it.Grace > 0 {
		notes = append(notes, "after "+words.ShortDuration(it.Grace))
	}
	return strings.Join(notes, ", ")
}

// previewMessage is the Message cell of a preview item.
func previewMessage(it *rules.PreviewItem) string {
	if it.Action == rules.ActionStopTranscode {
		return "(no message)"
	}
	return displayArrows(it.Message)
}
