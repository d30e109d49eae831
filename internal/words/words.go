// Package words holds the small text helpers that plex, app and ui share
// when they write sentences for people: durations, capitals, plurals and
// joins. It lives at the module root's internal/ because all three
// top-level packages use it and none of them may own it (plex must not
// import app, and app must not import ui).
package words

import (
	"fmt"
	"strings"
	"time"
)

// ShortDuration writes d rounded to the second without zero units:
// "45s", "3m20s", "5m", "2h5m", "2h". Negative durations count as 0.
func ShortDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	d = d.Round(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", s)
	case d < time.Hour && s != 0:
		return fmt.Sprintf("%dm%ds", m, s)
	case d < time.Hour:
		return fmt.Sprintf("%dm", m)
	case m != 0:
		return fmt.Sprintf("%dh%dm", h, m)
	}
	return fmt.Sprintf("%dh", h)
}

// Capitalize upper-cases the first letter of s, for a phrase that starts
// a sentence on its own (an error message, a reason).
func Capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// Plural writes "1 session" or "3 sessions".
func Plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// Join writes a and b separated by a space, leaving out an empty one.
func Join(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + " " + b
}

// Millis writes a time taken, given in milliseconds, with its unit: "3.4
// ms", "212 ms", "1.5 s", "10 s", "2m5s"; "" for none (0 or less). A rule's
// grace delay makes an action's time seconds.
func Millis(ms float64) string {
	switch {
	case ms <= 0:
		return ""
	case ms < 10:
		return fmt.Sprintf("%.1f ms", ms)
	case ms < 1000:
		return fmt.Sprintf("%.0f ms", ms)
	case ms < 10_000:
		return fmt.Sprintf("%.1f s", ms/1000)
	case ms < 60_000:
		return fmt.Sprintf("%.0f s", ms/1000)
	}
	return ShortDuration(time.Duration(ms * float64(time.Millisecond)))
}
