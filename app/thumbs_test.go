package app

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"strings"
	"testing"
	"time"
)

func TestThumbCache(t *testing.T) {
	fetched := map[string]int{}
	fail := false
	c := NewThumbCache(10, func(_ context.Context, server, path string) ([]byte, error) {
		if fail {
			return nil, errors.New("down")
		}
		fetched[server+path]++
		return []byte(strings.Repeat("x", len(path))), nil
	})
	get := func(server, path string) {
		t.Helper()
		if _, err := c.Get(context.Background(), server, path); err != nil {
			t.Fatalf("Get(%s, %s): %v", server, path, err)
		}
	}
	get("a", "/1234") // 5 bytes
	get("a", "/1234")
	if got := fetched["a/1234"]; got != 1 {
		t.Errorf("fetches of a cached poster = %d, want 1", got)
	}
	get("b", "/1234") // another server: its own entry; 10 bytes in all
	get("a", "/1234") // a's is now the most recent
	get("a", "/99")   // 3 bytes: over budget, b's (least recent) goes
	if n, size := c.Len(); n != 2 || size != 8 {
		t.Errorf("Len = %d posters, %d bytes; want 2, 8", n, size)
	}
	get("b", "/1234")
	if got := fetched["b/1234"]; got != 2 {
		t.Errorf("fetches of an evicted poster = %d, want 2", got)
	}
	get("a", "/0123456789xyz") // larger than the budget: returned, not kept
	if n, size := c.Len(); size > 10 {
		t.Errorf("Len = %d posters, %d bytes; want at most 10 bytes", n, size)
	}
	fail = true
	if _, err := c.Get(context.Background(), "c", "/1"); err == nil {
		t.Error("a failed fetch gave no error")
	}
	fail = false
	get("c", "/1")
	if got := fetched["c/1"]; got != 1 {
		t.Errorf("fetches after a failure = %d, want 1 (failures are not remembered)", got)
	}
}

// The desktop app's Thumb fetches a poster from the demo server through
// its Plex client and keeps it in memory; an unknown server is an error.
func TestControllerThumb(t *testing.T) {
	dir := t.TempDir()
	ctrl, err := NewController(ControllerOptions{ConfigDir: dir, Secrets: NewMemoryStore(), Demo: true,
		Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer func() { cancel(); ctrl.Hub().Wait() }()
	if err := ctrl.Start(ctx); err != nil {
		t.Fatal(err)
	}
	const path = "/library/metadata/40200/thumb/1700000000"
	b, err := ctrl.Thumb(ctx, DemoServerName, path)
	if err != nil {
		t.Fatalf("Thumb: %v", err)
	}
	if _, err := png.Decode(bytes.NewReader(b)); err != nil {
		t.Errorf("the demo server's poster is not a PNG: %v", err)
	}
	if n, size := ctrl.thumbs.Len(); n != 1 || size != len(b) {
		t.Errorf("cache holds %d posters, %d bytes; want 1, %d", n, size, len(b))
	}
	if _, err := ctrl.Thumb(ctx, "No such server", path); err == nil {
		t.Error("a poster from an unknown server gave no error")
	}
}
