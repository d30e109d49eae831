package plex_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/plex"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		status int
		value  string
		want   time.Duration
	}{
		{"seconds on 429", 429, "7", 7 * time.Second},
		{"seconds on 503", 503, "120", 2 * time.Minute},
		{"HTTP date", 503, now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{"date in the past", 503, now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"absurdly long is bounded", 429, "99999999999", time.Hour},
		{"negative", 429, "-5", 0},
		{"garbage", 429, "soon", 0},
		{"absent", 429, "", 0},
		{"ignored on 500", 500, "7", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := &http.Response{StatusCode: tt.status, Header: http.Header{}}
			if tt.value != "" {
				resp.Header.Set("Retry-After", tt.value)
			}
			if got := plex.ParseRetryAfterForTest(resp, now); got != tt.want {
				t.Errorf("Retry-After %q on %d = %s, want %s", tt.value, tt.status, got, tt.want)
			}
		})
	}
}

// TestFeedHonoursRetryAfter: a 429/503 with Retry-After lengthens the
// feed's pause to it, but never past MaxBackoff.
func TestFeedHonoursRetryAfter(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		after    int // seconds
		max      time.Duration
		min, top time.Duration // the pause wanted
	}{
		{"under the cap", 429, 1, 5 * time.Second, 900 * time.Millisecond, 1100 * time.Millisecond},
		{"over the cap", 503, 60, 300 * time.Millisecond, 250 * time.Millisecond, 360 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", strconv.Itoa(tt.after))
				w.WriteHeader(tt.status)
			}))
			defer srv.Close()
			c, err := plex.NewClient(srv.URL, testToken, plex.ClientInfo{ID: "id"})
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseIdleConnections()
			f := c.NewFeed(nil)
			f.MinBackoff, f.MaxBackoff = 10*time.Millisecond, tt.max
			var r recorder
			r.attach(f)
			runFeed(t, f)
			var s plex.FeedState
			var at time.Time
			waitFor(t, "a failed attempt", 3*time.Second, func() bool {
				r.mu.Lock()
				defer r.mu.Unlock()
				for i, st := range r.states {
					if st.Status == plex.FeedReconnecting {
						s, at = st, r.stateAt[i]
						return true
					}
				}
				return false
			})
			if pause := s.NextRetry.Sub(at); pause < tt.min || pause > tt.top {
				t.Errorf("pause after Retry-After: %d = %s, want %s to %s", tt.after, pause, tt.min, tt.top)
			}
			if tt.status == 429 && !errors.Is(s.Err, plex.ErrRateLimited) {
				t.Errorf("err = %v, want ErrRateLimited", s.Err)
			}
		})
	}
}
