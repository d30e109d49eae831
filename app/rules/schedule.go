package rules

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// schedule is a parsed Schedule.
type schedule struct {
	days     [7]bool // by time.Weekday
	from, to int     // minutes after midnight; to may be 1440
}

var dayNames = map[string][]time.Weekday{
	"sun": {time.Sunday}, "mon": {time.Monday}, "tue": {time.Tuesday}, "wed": {time.Wednesday},
	"thu": {time.Thursday}, "fri": {time.Friday}, "sat": {time.Saturday},
	"weekdays": {time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday},
	"weekend":  {time.Saturday, time.Sunday},
}

// Weekdays are the day keys of a schedule, Monday first, for the editor.
var Weekdays = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// dayKey normalizes a day as written in a schedule: "Monday" → "mon",
// "weekday" → "weekdays", "weekends" → "weekend".
func dayKey(d string) string {
	k := strings.ToLower(strings.TrimSpace(d))
	switch k {
	case "weekday", "weekdays":
		return "weekdays"
	case "weekend", "weekends":
		return "weekend"
	}
	if len(k) > 3 {
		k = k[:3] // "monday" → "mon"
	}
	return k
}

// ExpandDays returns the days of Weekdays a schedule's days name
// ("weekdays", "Monday", "sat", …); unknown days are left out (Validate
// reports them).
func ExpandDays(days []string) map[string]bool {
	on := map[string]bool{}
	for _, d := range days {
		for _, wd := range dayNames[dayKey(d)] {
			on[Weekdays[(wd+6)%7]] = true
		}
	}
	return on
}

func parseSchedule(s Schedule) (*schedule, error) {
	fail := func(field, format string, a ...any) error {
		return &FileError{Rule: -1, Field: "schedule." + field, Err: fmt.Errorf(format, a...)}
	}
	sc := &schedule{}
	var err error
	if sc.from, err = parseClock(s.From, false); err != nil {
		return nil, fail("from", "%v", err)
	}
	if sc.to, err = parseClock(s.To, true); err != nil {
		return nil, fail("to", "%v", err)
	}
	if sc.to == 1440 && sc.from == 0 {
		sc.to = 0 // 00:00–24:00 is the whole day
	}
	if len(s.Days) == 0 {
		for i := range sc.days {
			sc.days[i] = true
		}
	}
	for i, d := range s.Days {
		wds, ok := dayNames[dayKey(d)]
		if !ok {
			return nil, fail(fmt.Sprintf("days[%d]", i), "%q is not a day; use mon, tue, wed, thu, fri, sat, sun, weekdays or weekend", d)
		}
		for _, wd := range wds {
			sc.days[wd] = true
		}
	}
	return sc, nil
}

// parseClock reads "HH:MM" (24-hour) into minutes after midnight; "24:00"
// only when end is true.
func parseClock(s string, end bool) (int, error) {
	s = strings.TrimSpace(s)
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(m) != 2 || hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && (mm != 0 || !end)) {
		if s == "" {
			return 0, errors.New("missing; use a 24-hour time like \"22:30\"")
		}
		return 0, fmt.Errorf("%q is not a time; use a 24-hour time like \"22:30\"", s)
	}
	return hh*60 + mm, nil
}

// active reports whether t (in its location) is inside the window.
func (sc *schedule) active(t time.Time) bool {
	m := t.Hour()*60 + t.Minute()
	wd := t.Weekday()
	yesterday := (wd + 6) % 7
	switch {
	case sc.from == sc.to:
		return sc.days[wd]
	case sc.from < sc.to:
		return sc.days[wd] && m >= sc.from && m < sc.to
	}
	// Crosses midnight: the evening part belongs to today, the morning
	// part to yesterday's window.
	return (sc.days[wd] && m >= sc.from) || (sc.days[yesterday] && m < sc.to)
}

// nextStart returns when the window next opens after t; zero if never.
func (sc *schedule) nextStart(t time.Time) time.Time {
	y, mo, d := t.Date()
	for k := 0; k <= 7; k++ {
		start := time.Date(y, mo, d+k, sc.from/60, sc.from%60, 0, 0, t.Location())
		if sc.from == sc.to {
			start = time.Date(y, mo, d+k, 0, 0, 0, 0, t.Location())
		}
		if start.After(t) && sc.days[start.Weekday()] {
			return start
		}
	}
	return time.Time{}
}

// String returns the window in words, e.g. "Mon, Fri 22:00–06:00".
func (s *Schedule) String() string {
	if s == nil {
		return "always"
	}
	w := s.From + "–" + s.To
	if s.From == s.To {
		w = "all day"
	}
	if len(s.Days) == 0 {
		return w
	}
	return strings.Join(s.Days, ", ") + " " + w
}
