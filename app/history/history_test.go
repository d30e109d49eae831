package history

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv("PLEXWARDEN_HISTORY_CHILD"); dir != "" {
		appendForever(dir) // never returns: the parent kills us
	}
	goleak.VerifyTestMain(m)
}

var t0 = time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC)

func rec(i int, mod func(*Record)) Record {
	r := Record{Time: t0.Add(time.Duration(i) * time.Minute), Kind: KindRule, Server: "home", SessionID: "sid" + strconv.Itoa(i),
		SessionKey: strconv.Itoa(i), User: "alice", Title: "Movie " + strconv.Itoa(i), Player: "Living Room (Roku)",
		Rule: "No transcodes", Action: "terminate", Message: "Set quality to Original.", Outcome: "done", LatencyMs: 3.5}
	if mod != nil {
		mod(&r)
	}
	return r
}

func mustOpen(t *testing.T, dir string, opts Options) *Store {
	t.Helper()
	s, err := OpenWith(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestAppendQueryRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "history")
	s := mustOpen(t, dir, Options{})
	want := []Record{
		rec(0, nil),
		rec(1, func(r *Record) { r.Kind, r.Rule, r.Action, r.Outcome = KindManual, "", "stopTranscode", "already gone" }),
		rec(2, func(r *Record) {
			r.User, r.DryRun, r.Outcome, r.Message = "bob", true, "dry run", "line one\nline two \"quoted\""
		}),
	}
	for _, r := range want {
		if err := s.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Query(Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("Query returned %d records, want %d", len(got), len(want))
	}
	for i := range want {
		if !got[i].Time.Equal(want[i].Time) {
			t.Errorf("record %d time = %v, want %v", i, got[i].Time, want[i].Time)
		}
		got[i].Time, want[i].Time = time.Time{}, time.Time{}
		if got[i] != want[i] {
			t.Errorf("record %d = %+v\nwant %+v", i, got[i], want[i])
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, fileName(1)))
	if n := bytes.Count(b, []byte{'\n'}); n != 3 {
		t.Errorf("file has %d lines, want 3 (one per record, newlines in messages escaped)", n)
	}
}

func TestPermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "history")
	s := mustOpen(t, dir, Options{})
	if err := s.Append(rec(0, nil)); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, fileName(1)): 0o600} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got != want {
			t.Errorf("mode of %s = %o, want %o", filepath.Base(path), got, want)
		}
	}
}

func TestFilter(t *testing.T) {
	s := mustOpen(t, t.TempDir(), Options{})
	for i := range 6 {
		r := rec(i, nil)
		if i%2 == 1 {
			r.User, r.Rule, r.Outcome, r.Server = "Bob", "Paused too long", "zombie", "cabin"
		}
		if i == 4 {
			r.Kind, r.Rule, r.Action, r.Detail = KindManual, "", "stopTranscode", "asked from the tray"
		}
		if err := s.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		f    Filter
		want []string // session keys, oldest first
	}{
		{"all", Filter{}, []string{"0", "1", "2", "3", "4", "5"}},
		{"user case-insensitive", Filter{User: "bob"}, []string{"1", "3", "5"}},
		{"rule", Filter{Rule: "no transcodes"}, []string{"0", "2"}},
		{"kind manual", Filter{Kind: KindManual}, []string{"4"}},
		{"action", Filter{Action: "stopTranscode"}, []string{"4"}},
		{"outcome", Filter{Outcome: "zombie"}, []string{"1", "3", "5"}},
		{"server", Filter{Server: "cabin"}, []string{"1", "3", "5"}},
		{"since until", Filter{Since: t0.Add(2 * time.Minute), Until: t0.Add(4 * time.Minute)}, []string{"2", "3"}},
		{"text in detail", Filter{Text: "TRAY"}, []string{"4"}},
		{"text in title", Filter{Text: "movie 5"}, []string{"5"}},
		{"limit keeps newest", Filter{Limit: 2}, []string{"4", "5"}},
		{"combined", Filter{User: "bob", Limit: 1}, []string{"5"}},
		{"nothing", Filter{User: "carol"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Query(tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, r := range got {
				keys = append(keys, r.SessionKey)
			}
			if fmt.Sprint(keys) != fmt.Sprint(tt.want) {
				t.Errorf("Query(%+v) = %v, want %v", tt.f, keys, tt.want)
			}
		})
	}
}

func TestTornLastLine(t *testing.T) {
	tests := []struct {
		name string
		tail string // appended raw after two good records, as a crash would leave it
	}{
		{"half a record", `{"time":"2026-03-01T21:00:00Z","kind":"rule","user":"ali`},
		{"just an open brace", `{`},
		{"garbage bytes", "\x00\x00\x00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := OpenWith(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 2 {
				if err := s.Append(rec(i, nil)); err != nil {
					t.Fatal(err)
				}
			}
			s.Close()
			f, err := os.OpenFile(filepath.Join(dir, fileName(1)), os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteString(tt.tail); err != nil {
				t.Fatal(err)
			}
			f.Close()

			res, err := Read(dir, Filter{})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Records) != 2 || res.Skipped != 1 {
				t.Errorf("after the crash: %d records, %d skipped; want 2 and 1", len(res.Records), res.Skipped)
			}
			// Reopening must not glue the next record onto the torn line.
			s2 := mustOpen(t, dir, Options{})
			if err := s2.Append(rec(2, nil)); err != nil {
				t.Fatal(err)
			}
			res, err = s2.Scan(Filter{})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Records) != 3 || res.Skipped != 1 || res.Records[2].SessionKey != "2" {
				t.Errorf("after reopening: %d records (%+v), %d skipped; want 3 ending with key 2, 1 skipped", len(res.Records), res.Records, res.Skipped)
			}
		})
	}
}

func TestCompleteLastLineWithoutNewline(t *testing.T) {
	dir := t.TempDir()
	line := `{"time":"2026-03-01T21:00:00Z","kind":"rule","action":"terminate","outcome":"done","sessionKey":"9"}`
	if err := os.WriteFile(filepath.Join(dir, fileName(1)), []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	s := mustOpen(t, dir, Options{})
	if err := s.Append(rec(1, nil)); err != nil {
		t.Fatal(err)
	}
	res, err := s.Scan(Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Records) != 2 || res.Skipped != 0 || res.Records[0].SessionKey != "9" {
		t.Errorf("got %d records %+v, %d skipped; want the newline-less record kept and the new one", len(res.Records), res.Records, res.Skipped)
	}
}

func TestRotation(t *testing.T) {
	dir := t.TempDir()
	one, _ := jsonLen(rec(0, nil))
	s := mustOpen(t, dir, Options{MaxBytes: int64(one*3 + 10), Keep: 3})
	const n = 20
	for i := range n {
		if err := s.Append(rec(i, nil)); err != nil {
			t.Fatal(err)
		}
	}
	seqs, err := listFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(seqs) != 3 {
		t.Errorf("files = %v, want 3 kept", seqs)
	}
	got, err := s.Query(Filter{})
	if err != nil {
		t.Fatal(err)
	}
	// The kept files hold the newest records, complete and in order.
	if len(got) < 7 || len(got) > 9 {
		t.Fatalf("kept %d records, want 7–9 (three files of three, the newest partly filled)", len(got))
	}
	for i, r := range got {
		if want := strconv.Itoa(n - len(got) + i); r.SessionKey != want {
			t.Errorf("record %d has key %s, want %s", i, r.SessionKey, want)
		}
	}
	// Reopening continues in the newest file.
	s.Close()
	s2 := mustOpen(t, dir, Options{MaxBytes: int64(one*3 + 10), Keep: 3})
	if err := s2.Append(rec(n, nil)); err != nil {
		t.Fatal(err)
	}
	got, _ = s2.Query(Filter{Limit: 1})
	if len(got) != 1 || got[0].SessionKey != strconv.Itoa(n) {
		t.Errorf("newest after reopen = %+v, want key %d", got, n)
	}
}

func jsonLen(r Record) (int, error) {
	b, err := encode(r)
	return len(b), err
}

func TestConcurrentAppends(t *testing.T) {
	s := mustOpen(t, t.TempDir(), Options{MaxBytes: 2048, Keep: 1000})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				if err := s.Append(rec(g*100+i, nil)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	res, err := s.Scan(Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Records) != 200 || res.Skipped != 0 {
		t.Errorf("got %d records, %d skipped; want 200 and 0", len(res.Records), res.Skipped)
	}
}

func TestAppendAfterClose(t *testing.T) {
	s, err := OpenWith(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := s.Append(rec(0, nil)); err == nil {
		t.Error("Append after Close succeeded, want an error")
	}
	if _, err := s.Query(Filter{}); err != nil {
		t.Errorf("Query after Close = %v, want it to work", err)
	}
}

func TestReadMissingDir(t *testing.T) {
	res, err := Read(filepath.Join(t.TempDir(), "nope"), Filter{})
	if err != nil || len(res.Records) != 0 {
		t.Errorf("Read(missing) = %+v, %v; want empty, nil", res, err)
	}
}

func TestWriteCSV(t *testing.T) {
	recs := []Record{
		rec(0, nil),
		rec(1, func(r *Record) {
			r.Title, r.User, r.Message, r.DryRun, r.LatencyMs = "=HYPERLINK(\"http://x\")", "@bob", "Hello, \"world\"\nbye", true, 0
		}),
	}
	var b bytes.Buffer
	if err := WriteCSV(&b, recs); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatalf("output is not CSV: %v", err)
	}
	if len(rows) != 3 {
		t.Fatalf("got %d rows, want header + 2", len(rows))
	}
	if strings.Join(rows[0], ",") != strings.Join(CSVHeader, ",") {
		t.Errorf("header = %v, want %v", rows[0], CSVHeader)
	}
	col := func(name string) int {
		for i, h := range CSVHeader {
			if h == name {
				return i
			}
		}
		t.Fatalf("no column %s", name)
		return -1
	}
	tests := []struct {
		row  int
		col  string
		want string
	}{
		{1, "time", "2026-03-01T20:00:00Z"},
		{1, "latencyMs", "3.5"},
		{1, "dryRun", "false"},
		{2, "title", "'=HYPERLINK(\"http://x\")"},
		{2, "user", "'@bob"},
		{2, "message", "Hello, \"world\"\nbye"},
		{2, "dryRun", "true"},
		{2, "latencyMs", ""},
	}
	for _, tt := range tests {
		if got := rows[tt.row][col(tt.col)]; got != tt.want {
			t.Errorf("row %d %s = %q, want %q", tt.row, tt.col, got, tt.want)
		}
	}
}

// appendForever is the child process of TestCrashMidAppend: it appends
// numbered records, some of them large so a kill can land inside a write,
// until it is killed.
func appendForever(dir string) {
	s, err := OpenWith(dir, Options{MaxBytes: 2 << 20, Keep: 1 << 20})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	big := strings.Repeat("x", 512<<10)
	for i := 0; ; i++ {
		r := Record{Kind: KindRule, Action: "terminate", Outcome: "done", SessionKey: strconv.Itoa(i)}
		if i%3 == 2 {
			r.Detail = big
		}
		if err := s.Append(r); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(4)
		}
	}
}

// TestCrashMidAppend kills a process that is appending (SIGKILL: no
// cleanup at all) and checks that every complete record is still there, in
// order and without gaps, and that appending goes on cleanly afterwards.
func TestCrashMidAppend(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	for round := range 5 {
		dir := t.TempDir()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "PLEXWARDEN_HISTORY_CHILD="+dir)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			cancel()
			t.Fatal(err)
		}
		// Let it write for a while (rotating), then kill it at an arbitrary
		// moment: a different delay each round.
		deadline := time.Now().Add(10 * time.Second)
		for {
			seqs, _ := listFiles(dir)
			if len(seqs) >= 2 || time.Now().After(deadline) {
				break
			}
			time.Sleep(time.Millisecond)
		}
		time.Sleep(time.Duration(round*17+3) * time.Millisecond)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		cancel()
		if stderr.Len() > 0 {
			t.Fatalf("child failed: %s", stderr.String())
		}

		res, err := Read(dir, Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Records) < 4 {
			t.Fatalf("round %d: only %d records survived", round, len(res.Records))
		}
		if res.Skipped > 1 {
			t.Errorf("round %d: %d lines skipped, want at most the one torn by the kill", round, res.Skipped)
		}
		for i, r := range res.Records {
			if r.SessionKey != strconv.Itoa(i) {
				t.Fatalf("round %d: record %d has number %s: a complete record was lost", round, i, r.SessionKey)
			}
		}
		n := len(res.Records)
		s := mustOpen(t, dir, Options{MaxBytes: 2 << 20, Keep: 1 << 20})
		if err := s.Append(Record{Kind: KindManual, Action: "terminate", Outcome: "done", SessionKey: "after"}); err != nil {
			t.Fatal(err)
		}
		res2, err := s.Scan(Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res2.Records) != n+1 || res2.Records[n].SessionKey != "after" || res2.Skipped != res.Skipped {
			t.Errorf("round %d: after reopening: %d records (last %q), %d skipped; want %d, \"after\", %d",
				round, len(res2.Records), res2.Records[len(res2.Records)-1].SessionKey, res2.Skipped, n+1, res.Skipped)
		}
		t.Logf("round %d: %d complete records in %d files, %d torn line(s)", round, n, res.Files, res.Skipped)
	}
}

// TestTwoStoresShareOneDirectory stands in for the desktop app and a
// `plexwarden watch` writing one history: two stores on one directory (the
// lock is per open file, so it works between them as between processes);
// the first appends most records, the second one now and then, while
// files rotate often and only three are kept. What
// survives must be exactly the newest records, with no gap: a store that
// kept writing to a file the other had rotated away from would lose its
// records when that file is deleted.
func TestTwoStoresShareOneDirectory(t *testing.T) {
	dir := t.TempDir()
	opts := Options{MaxBytes: 1024, Keep: 3}
	stores := []*Store{mustOpen(t, dir, opts), mustOpen(t, dir, opts)}
	const n = 200
	for i := range n {
		s := stores[0]
		if i%20 == 19 {
			s = stores[1]
		}
		if err := s.Append(rec(i, nil)); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
	res, err := Read(dir, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Skipped != 0 {
		t.Errorf("%d undecodable lines, want 0", res.Skipped)
	}
	if len(res.Records) < 5 {
		t.Fatalf("only %d records survived", len(res.Records))
	}
	got := map[string]bool{}
	for _, r := range res.Records {
		got[r.SessionID] = true
	}
	first := n - len(res.Records)
	for i := first; i < n; i++ {
		if !got["sid"+strconv.Itoa(i)] {
			t.Errorf("record %d is missing: the survivors are not the newest %d records", i, len(res.Records))
		}
	}
	files, _ := listFiles(dir)
	if len(files) > opts.Keep {
		t.Errorf("%d files kept, want at most %d", len(files), opts.Keep)
	}
	for _, q := range files[:len(files)-1] {
		st, err := os.Stat(filepath.Join(dir, fileName(q)))
		if err == nil && st.Size() > opts.MaxBytes+512 {
			t.Errorf("%s grew to %d bytes past the rotation size %d", fileName(q), st.Size(), opts.MaxBytes)
		}
	}
}
