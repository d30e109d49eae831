package plex_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/plex"
)

func TestReadCapped(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		length int64
		limit  int
		want   string
		err    error
	}{
		{"unknown length under the cap", "hello", -1, 10, "hello", nil},
		{"unknown length at the cap", "0123456789", -1, 10, "0123456789", nil},
		{"unknown length over the cap", "0123456789A", -1, 10, "", plex.ErrTooLarge},
		{"announced length over the cap", "", 11, 10, "", plex.ErrTooLarge},
		{"announced length", "hello", 5, 10, "hello", nil},
		{"shorter than announced", "hel", 5, 10, "hel", nil},
		{"many chunks", strings.Repeat("x", 200<<10), -1, 1 << 20, strings.Repeat("x", 200<<10), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := plex.ReadCapped(strings.NewReader(tt.body), tt.length, tt.limit)
			if !errors.Is(err, tt.err) || string(got) != tt.want {
				t.Errorf("ReadCapped = %d bytes, %v; want %d bytes, %v", len(got), err, len(tt.want), tt.err)
			}
		})
	}
}

// endless writes a never-ending JSON-looking answer until the client goes.
func endless(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"MediaContainer":{"size":1,"Metadata":[{"title":"`)
	chunk := bytes.Repeat([]byte("A"), 64<<10)
	for r.Context().Err() == nil {
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
}

// TestOversizedSessionsBoundedMemory answers /status/sessions with an
// endless body, a 200 MB Content-Length, and a gzip bomb (a small
// compressed answer that inflates far past the cap): each fails with
// ErrTooLarge, and what the client allocates stays about the cap instead
// of two or three times it (io.ReadAll's growing buffer).
func TestOversizedSessionsBoundedMemory(t *testing.T) {
	var zeros bytes.Buffer
	zw := gzip.NewWriter(&zeros)
	_, _ = zw.Write([]byte(`{"MediaContainer":{"size":1,"Metadata":[{"title":"`))
	block := make([]byte, 1<<20)
	for range 20 { // 20 MiB inflated (over the 16 MiB cap), about 20 KiB sent
		_, _ = zw.Write(block)
	}
	_ = zw.Close()
	bomb := zeros.Bytes()

	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"endless", endless},
		{"200 MB announced", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(200<<20))
			endless(w, r)
		}},
		{"gzip bomb", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write(bomb)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			c, err := plex.NewClient(srv.URL, testToken, plex.ClientInfo{ID: "id"}, plex.WithTimeout(10*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseIdleConnections()
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err = c.Sessions(context.Background())
			runtime.ReadMemStats(&after)
			if !errors.Is(err, plex.ErrTooLarge) {
				t.Fatalf("Sessions = %v, want ErrTooLarge", err)
			}
			if got, limit := after.TotalAlloc-before.TotalAlloc, uint64(plex.MaxBody+4<<20); got > limit {
				t.Errorf("allocated %d MiB reading the answer, want at most %d MiB (the cap and a little)", got>>20, limit>>20)
			}
		})
	}
}
