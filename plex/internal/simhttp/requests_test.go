package simhttp

import (
	"net/http/httptest"
	"testing"
	"time"
)

// TestRequestLog keeps the newest requests, notes a token in the query and
// hands out copies.
func TestRequestLog(t *testing.T) {
	var l RequestLog
	at := time.Unix(1700000000, 0)
	for i := range MaxRequests + MaxRequests/10 + 1 {
		r := httptest.NewRequest("GET", "/status/sessions", nil)
		if i == MaxRequests+MaxRequests/10 {
			r = httptest.NewRequest("GET", "/x?X-Plex-Token=abc", nil)
		}
		r.Header.Set("X-Plex-Token", "abc")
		l.Add(r, at.Add(time.Duration(i)))
	}
	got := l.List()
	if len(got) != MaxRequests {
		t.Fatalf("len = %d after trimming, want %d", len(got), MaxRequests)
	}
	last := got[len(got)-1]
	if last.Path != "/x" || !last.TokenInQuery || got[0].TokenInQuery {
		t.Errorf("last = %+v, first TokenInQuery %v; want /x with the token in its query, the first without", last, got[0].TokenInQuery)
	}
	if want := at.Add(time.Duration(MaxRequests/10 + 1)); !got[0].Time.Equal(want) {
		t.Errorf("oldest kept at %v, want %v (the oldest dropped first)", got[0].Time, want)
	}
	got[0].Header.Set("X-Plex-Token", "changed")
	if l.List()[0].Header.Get("X-Plex-Token") != "abc" {
		t.Error("List's copy shares its header with the log")
	}
}
