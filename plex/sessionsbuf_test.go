package plex_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"sync/atomic"
	"testing"
	"unsafe"

	"github.com/plexwarden/plexwarden/plex"
)

// TestSessionsBufferReuse: Sessions reads each answer into the storage of
// the one before, so nothing it returned may refer to those bytes. Real
// answers of different sizes and formats, with and without a
// Content-Length, are fetched in turn; every result must equal a decode of
// its own bytes, also after the later fetches have overwritten the storage.
func TestSessionsBufferReuse(t *testing.T) {
	files := []string{
		"appliance-pms1.43-sessions-hw-transcode.json",
		"appliance-pms1.43-sessions-directplay.json",
		"plexopedia-sessions-transcode.xml",
		"spec-status-sessions.json",
		"appliance-pms1.43-sessions-transcode-not-started.json",
		"plexopedia-sessions-music-directplay.xml",
	}
	var answers [][]byte
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join("testdata", "real", f))
		if err != nil {
			t.Fatal(err)
		}
		answers = append(answers, b)
	}
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1) - 1)
		b := answers[i%len(answers)]
		if (i/len(answers))%2 == 0 {
			w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		} // else chunked: the length is not known beforehand
		_, _ = w.Write(b)
	}))
	defer srv.Close()
	c, err := plex.NewClient(srv.URL, "tok", plex.ClientInfo{ID: "test"})
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		i    int
		got  []plex.Metadata
		want []plex.Metadata
	}
	var results []result
	for i := range 4 * len(answers) {
		got, err := c.Sessions(context.Background())
		if err != nil {
			t.Fatalf("fetch %d (%s): %v", i, files[i%len(files)], err)
		}
		want, err := plex.DecodeSessions(answers[i%len(answers)])
		if err != nil {
			t.Fatal(err)
		}
		want = plex.MergeDuplicates(want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("fetch %d (%s): got %+v, want %+v", i, files[i%len(files)], got, want)
		}
		results = append(results, result{i, got, want})
	}
	for _, r := range results {
		if !reflect.DeepEqual(r.got, r.want) {
			t.Errorf("fetch %d (%s) changed after later fetches reused its storage", r.i, files[r.i%len(files)])
		}
	}
	// The same answer again is read into the same storage.
	before := plex.SessionsBufForTest(c)
	n.Store(0) // the first answer, with a Content-Length
	if _, err := c.Sessions(context.Background()); err != nil {
		t.Fatal(err)
	}
	n.Store(0)
	kept := plex.SessionsBufForTest(c)
	if _, err := c.Sessions(context.Background()); err != nil {
		t.Fatal(err)
	}
	after := plex.SessionsBufForTest(c)
	if kept == nil || unsafe.SliceData(kept) != unsafe.SliceData(after) {
		t.Errorf("storage not reused for an answer of the same size (before %p, kept %p, after %p)", unsafe.SliceData(before), unsafe.SliceData(kept), unsafe.SliceData(after))
	}
}
