package local

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func writeFile(t *testing.T, path string, size int, mod time.Time) {
	t.Helper()
	if err := os.WriteFile(path, make([]byte, size), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mod, mod); err != nil {
		t.Fatal(err)
	}
}

func TestMeasureDir(t *testing.T) {
	dir := t.TempDir()
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	writeFile(t, filepath.Join(dir, "index.m3u8"), 100, base.Add(3*time.Second))
	for i, name := range []string{"seg0.ts", "seg1.ts", "seg2.ts", "init.m4s"} {
		writeFile(t, filepath.Join(dir, name), 1000, base.Add(time.Duration(i)*time.Second))
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	// The folder last changed long ago: its listing is stable.
	if err := os.Chtimes(dir, base, base); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	o, c := measureDir(dir, nil, now)
	want := Output{Dir: dir, Known: true, Files: 5, Segments: 4, Bytes: 4100, Newest: base.Add(3 * time.Second)}
	if o != want {
		t.Fatalf("first read = %+v\nwant         %+v", o, want)
	}
	if c == nil || len(c.hot) != hotFiles {
		t.Fatalf("cache = %+v, want %d hot files", c, hotFiles)
	}

	// The newest file grows; the folder itself is unchanged: the cache
	// answers, with the hot file re-read.
	writeFile(t, filepath.Join(dir, "index.m3u8"), 300, base.Add(4*time.Second))
	o, c2 := measureDir(dir, c, now.Add(time.Second))
	if c2 != c || o.Bytes != 4300 || !o.Newest.Equal(base.Add(4*time.Second)) || o.Files != 5 {
		t.Errorf("cached read = %+v (same cache %v), want 4300 bytes, newest +4s", o, c2 == c)
	}

	// A new file changes the folder time: full read. Just after a change
	// the listing is not trusted (a file created in the same clock tick
	// would not change the folder time again), so the next read is full too.
	writeFile(t, filepath.Join(dir, "seg3.ts"), 1000, base.Add(5*time.Second))
	o, c3 := measureDir(dir, c, time.Now())
	if c3 == c || o.Files != 6 || o.Segments != 5 || o.Bytes != 5300 {
		t.Errorf("after a new file = %+v (new cache %v), want 6 files, 5 segments, 5300 bytes", o, c3 != c)
	}
	if _, c4 := measureDir(dir, c3, time.Now()); c4 == c3 {
		t.Error("a folder changed just now was served from the cache")
	}
}

func TestMeasureErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "movie.mp4")
	mod := time.Now().Add(-time.Minute).Truncate(time.Second)
	writeFile(t, file, 2048, mod)
	tests := []struct {
		name string
		got  Output
		want Output
	}{
		{"single file", measureFile(file), Output{Dir: dir, File: file, Known: true, Files: 1, Segments: 1, Bytes: 2048, Newest: mod}},
		{"missing file", measureFile(filepath.Join(dir, "none.mp4")), Output{Dir: dir, File: filepath.Join(dir, "none.mp4"), Err: "no such file or directory"}},
		{"missing folder", first(measureDir(filepath.Join(dir, "none"), nil, time.Now())), Output{Dir: filepath.Join(dir, "none"), Err: "no such file or directory"}},
		{"not a folder", first(measureDir(file, nil, time.Now())), Output{Dir: file, Err: "not a folder"}},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %+v\nwant %+v", tt.name, tt.got, tt.want)
		}
	}
}

func first(o Output, _ *dirCache) Output { return o }
