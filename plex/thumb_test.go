package plex_test

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/plex"
	"github.com/plexwarden/plexwarden/plex/plexsim"
)

// A poster comes from the simulator as a PNG, asked for with the token in
// the header only: never in the address.
func TestThumbFromSimulator(t *testing.T) {
	sim := plexsim.New(plexsim.Options{Token: "secret-token"})
	if err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	c, err := plex.NewClient(sim.URL(), "secret-token", plex.ClientInfo{ID: "test"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	const path = "/library/metadata/40200/thumb/1700000000"
	b, err := c.Thumb(ctx, path)
	if err != nil {
		t.Fatalf("Thumb: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("the poster is not a PNG: %v", err)
	}
	if got := img.Bounds().Dy(); got < 32 {
		t.Errorf("poster height = %d, want a visible picture", got)
	}
	var seen bool
	for _, r := range sim.Requests() {
		if r.Path != path {
			continue
		}
		seen = true
		if got := r.Header.Get("X-Plex-Token"); got != "secret-token" {
			t.Errorf("X-Plex-Token header = %q, want the token", got)
		}
		if r.TokenInQuery || strings.Contains(r.RawQuery, "secret-token") {
			t.Errorf("token in the address: %q", r.RawQuery)
		}
	}
	if !seen {
		t.Errorf("the simulator saw no request for %s", path)
	}
}

func TestThumbRefusesPathsOffTheServer(t *testing.T) {
	var hits int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits++ }))
	defer srv.Close()
	c, err := plex.NewClient(srv.URL, "tok", plex.ClientInfo{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"", "library/x", "//evil.example/x", "http://evil.example/x", "/a/../b",
		"/photo?url=x", "/a#b", `/a\b`} {
		if _, err := c.Thumb(context.Background(), p); !errors.Is(err, plex.ErrBadRequest) {
			t.Errorf("Thumb(%q) error = %v, want ErrBadRequest", p, err)
		}
	}
	if hits != 0 {
		t.Errorf("%d requests sent for refused paths, want 0", hits)
	}
}

// A poster over MaxThumb is not read.
func TestThumbSizeCap(t *testing.T) {
	big := bytes.Repeat([]byte{0}, plex.MaxThumb+1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(big)
	}))
	defer srv.Close()
	c, err := plex.NewClient(srv.URL, "tok", plex.ClientInfo{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Thumb(context.Background(), "/library/metadata/1/thumb/2")
	if !errors.Is(err, plex.ErrTooLarge) {
		t.Fatalf("error = %v, want ErrTooLarge", err)
	}
	if strings.Contains(err.Error(), "tok") {
		t.Errorf("error carries the token: %v", err)
	}
}
