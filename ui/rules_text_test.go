package ui

import (
	"slices"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/app/rules"
	"github.com/plexwarden/plexwarden/internal/words"
)

func TestParseHelpers(t *testing.T) {
	durations := []struct {
		in   string
		want time.Duration
		err  string
	}{
		{"", 0, ""},
		{"30s", 30 * time.Second, ""},
		{" 5m ", 5 * time.Minute, ""},
		{"1h 30m", 90 * time.Minute, ""},
		{"soon", 0, "“soon” is not a duration: use e.g. 30s, 5m or 1h30m"},
		{"30", 0, "“30” needs a unit: e.g. 30s or 30m"},
	}
	for _, tt := range durations {
		got, err := parseDuration(tt.in)
		if got != tt.want || (err == nil) != (tt.err == "") || (err != nil && err.Error() != tt.err) {
			t.Errorf("parseDuration(%q) = %v, %v; want %v, %q", tt.in, got, err, tt.want, tt.err)
		}
	}
	wholes := []struct {
		in   string
		want int64
		ok   bool
	}{{"", 0, true}, {"20000", 20000, true}, {"20 000", 20000, true}, {"2.5", 0, false}, {"x", 0, false}}
	for _, tt := range wholes {
		if got, err := parseWhole(tt.in); got != tt.want || (err == nil) != tt.ok {
			t.Errorf("parseWhole(%q) = %d, %v; want %d, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
	lists := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{" , ,", nil},
		{"alice, bob", []string{"alice", "bob"}},
		{"10.0.0.0/8\n192.168.1.0/24, 2001:db8::/32", []string{"10.0.0.0/8", "192.168.1.0/24", "2001:db8::/32"}},
	}
	for _, tt := range lists {
		if got := parseList(tt.in); !slices.Equal(got, tt.want) || (got == nil) != (tt.want == nil) {
			t.Errorf("parseList(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	shorts := map[time.Duration]string{0: "0s", 30 * time.Second: "30s", 5 * time.Minute: "5m", 90 * time.Minute: "1h30m", 2 * time.Hour: "2h", 61 * time.Second: "1m1s"}
	for d, want := range shorts {
		if got := words.ShortDuration(d); got != want {
			t.Errorf("words.ShortDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestSentence(t *testing.T) {
	sentences := map[string]string{"": "", "disk full": "Disk full.", "“x” is bad.": "“x” is bad.", "é ok?": "É ok?"}
	for in, want := range sentences {
		if got := sentence(in); got != want {
			t.Errorf("sentence(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRuleSummaryTexts(t *testing.T) {
	r := twoRules().Rules[0]
	if got, want := ruleSummary(r), "Video transcode · terminate · grace 20s"; got != want {
		t.Errorf("ruleSummary = %q, want %q", got, want)
	}
	scheds := []struct {
		s    rules.Schedule
		want string
	}{
		{rules.Schedule{From: "01:00", To: "06:00"}, "every day 01:00–06:00"},
		{rules.Schedule{Days: []string{"weekdays"}, From: "22:00", To: "06:00"}, "weekdays 22:00–06:00"},
		{rules.Schedule{Days: []string{"Friday", "sat"}, From: "20:00", To: "24:00"}, "fri sat 20:00–24:00"},
	}
	for _, tt := range scheds {
		if got := scheduleText(&tt.s); got != tt.want {
			t.Errorf("scheduleText(%+v) = %q, want %q", tt.s, got, tt.want)
		}
	}
}
