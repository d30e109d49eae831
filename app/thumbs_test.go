package app

import (
	"context"
	"errors"
	"strings"
	"testing"
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
