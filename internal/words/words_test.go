package words

import (
	"testing"
	"time"
)

func TestShortDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{-time.Second, "0s"},
		{1400 * time.Millisecond, "1s"},
		{45 * time.Second, "45s"},
		{5 * time.Minute, "5m"},
		{3*time.Minute + 20*time.Second, "3m20s"},
		{90 * time.Minute, "1h30m"},
		{2 * time.Hour, "2h"},
		{2*time.Hour + 5*time.Minute + 10*time.Second, "2h5m"},
		{26 * time.Hour, "26h"},
	} {
		if got := ShortDuration(tc.d); got != tc.want {
			t.Errorf("ShortDuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestCapitalizePluralJoin(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{Capitalize(""), ""},
		{Capitalize("paused for 5m"), "Paused for 5m"},
		{Plural(1, "session", "sessions"), "1 session"},
		{Plural(0, "session", "sessions"), "0 sessions"},
		{Plural(3, "session", "sessions"), "3 sessions"},
		{Join("", "b"), "b"},
		{Join("a", ""), "a"},
		{Join("a", "b"), "a b"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

// Times taken read with their unit; a rule's grace makes them seconds
// ("10 s", not "10001").
func TestMillis(t *testing.T) {
	for _, tc := range []struct {
		ms   float64
		want string
	}{
		{0, ""},
		{3.4, "3.4 ms"},
		{212, "212 ms"},
		{1500, "1.5 s"},
		{5001.8, "5.0 s"},
		{10001, "10 s"},
		{20188, "20 s"},
		{125000, "2m5s"},
	} {
		if got := Millis(tc.ms); got != tc.want {
			t.Errorf("Millis(%v) = %q, want %q", tc.ms, got, tc.want)
		}
	}
}
