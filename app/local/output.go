package local

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// segmentExts are the extensions counted as media segments. Playlists
// (.m3u8, .mpd) and Plex's extension-less headers count as files only.
var segmentExts = map[string]bool{
	".ts": true, ".m4s": true, ".mp4": true, ".m4a": true, ".m4v": true, ".aac": true,
	".ac3": true, ".eac3": true, ".mp3": true, ".flac": true, ".opus": true, ".ogg": true,
	".webm": true, ".mkv": true, ".vtt": true, ".srt": true,
}

// maxDirEntries bounds the files examined in one output folder per scan; a
// folder with more is measured on its first maxDirEntries entries.
const maxDirEntries = 20000

// hotFiles is how many of the newest files are re-read when a folder has
// not changed: the ones being appended to (a DASH job writes a video and an
// audio chunk at once).
const hotFiles = 3

// stableAfter is how long after its last change a folder's listing is
// trusted to be complete. File systems stamp times with a coarse clock, so
// two creations within one tick leave the folder time unchanged; a second
// is far above any tick.
const stableAfter = time.Second

// dirCache remembers a full read of an output folder so that unchanged
// folders (the usual case between two scans) cost one stat per hot file.
type dirCache struct {
	modTime    time.Time // folder time at the full read
	readAt     time.Time // when the full read happened
	files      int
	segments   int
	bytesRest  int64     // bytes of the files not in hot
	newestRest time.Time // newest time among the files not in hot
	hot        []string  // newest files, re-read every scan
}

// measureDir measures folder dir, reusing prev when the folder has not
// changed since a full read that was stable. It returns the cache to pass
// next time (nil when the folder could not be read).
func measureDir(dir string, prev *dirCache, now time.Time) (Output, *dirCache) {
	out := Output{Dir: dir}
	fi, err := os.Stat(dir)
	if err != nil {
		out.Err = errText(err)
		return out, nil
	}
	if !fi.IsDir() {
		out.Err = "not a folder"
		return out, nil
	}
	if prev != nil && fi.ModTime().Equal(prev.modTime) && prev.readAt.Sub(prev.modTime) > stableAfter {
		if o, ok := measureHot(dir, prev); ok {
			return o, prev
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		out.Err = errText(err)
		return out, nil
	}
	if len(entries) > maxDirEntries {
		entries = entries[:maxDirEntries]
	}
	type file struct {
		name string
		size int64
		mod  time.Time
	}
	files := make([]file, 0, len(entries))
	c := &dirCache{modTime: fi.ModTime(), readAt: now}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil { // removed meanwhile
			continue
		}
		files = append(files, file{e.Name(), info.Size(), info.ModTime()})
		c.files++
		if segmentExts[strings.ToLower(filepath.Ext(e.Name()))] {
			c.segments++
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].mod.After(files[j].mod) })
	for i, f := range files {
		if i < hotFiles {
			c.hot = append(c.hot, f.name)
			continue
		}
		c.bytesRest += f.size
		if f.mod.After(c.newestRest) {
			c.newestRest = f.mod
		}
	}
	o, ok := measureHot(dir, c)
	if !ok { // a hot file vanished between ReadDir and now: report what was read
		o = Output{Dir: dir, Known: true, Files: c.files, Segments: c.segments}
		for _, f := range files {
			o.Bytes += f.size
			if f.mod.After(o.Newest) {
				o.Newest = f.mod
			}
		}
		return o, nil
	}
	return o, c
}

// measureHot completes a cached listing with fresh sizes and times of the
// hot files; ok is false when one of them is gone.
func measureHot(dir string, c *dirCache) (Output, bool) {
	o := Output{Dir: dir, Known: true, Files: c.files, Segments: c.segments, Bytes: c.bytesRest, Newest: c.newestRest}
	for _, name := range c.hot {
		info, err := os.Lstat(filepath.Join(dir, name))
		if err != nil {
			return Output{}, false
		}
		o.Bytes += info.Size()
		if info.ModTime().After(o.Newest) {
			o.Newest = info.ModTime()
		}
	}
	return o, true
}

// measureFile measures a single output file.
func measureFile(path string) Output {
	out := Output{Dir: filepath.Dir(path), File: path}
	info, err := os.Stat(path)
	if err != nil {
		out.Err = errText(err)
		return out
	}
	out.Known = true
	out.Files = 1
	if segmentExts[strings.ToLower(filepath.Ext(path))] {
		out.Segments = 1
	}
	out.Bytes = info.Size()
	out.Newest = info.ModTime()
	return out
}

// errText shortens file-system errors to their cause ("permission denied").
func errText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}
