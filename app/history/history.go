// Package history is Plex Warden's action log: every terminate, stop
// transcode, notification and dry run, manual or by a rule, kept as
// append-only JSON lines in the user's configuration directory.
//
// Each record is one line written with a single write call on a file
// opened with O_APPEND and synced before Append returns, so a crash or a
// power cut loses at most the record being written. Reading skips a torn
// last line (and any other undecodable line) and counts it, so every
// complete record survives. Files rotate by size and only the newest few
// are kept.
//
// Several processes may append to one directory at once (the desktop app
// and a `plexwarden watch` of the same user): a lock file serialises each
// append with the rotation, and a store that finds another process rotated
// or wrote meanwhile moves to the newest file first, so no record lands in
// a file that is about to be deleted.
//
// The package knows nothing of Plex or of the app, so the GUI, the rules
// engine and the command line share it.
package history

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofrs/flock"
)

// Kinds of record: who or what asked for the action.
const (
	KindManual = "manual" // the admin, from the window, tray or command line
	KindRule   = "rule"   // an automatic rule
	KindLocal  = "local"  // a local Plex Transcoder process (explicit user action)
)

// Record is one action and its outcome. Times are stored in UTC with
// nanoseconds. No field ever holds a token.
type Record struct {
	Time       time.Time `json:"time"`                 // when the outcome was known
	Kind       string    `json:"kind"`                 // KindManual, KindRule, KindLocal
	Server     string    `json:"server,omitempty"`     // server name
	SessionID  string    `json:"sessionId,omitempty"`  // Session.id (what terminate takes)
	SessionKey string    `json:"sessionKey,omitempty"` // Plex's sessionKey
	User       string    `json:"user,omitempty"`       // the viewer
	Title      string    `json:"title,omitempty"`      // what was playing
	Player     string    `json:"player,omitempty"`     // e.g. "Living Room (Plex for Roku)"
	Rule       string    `json:"rule,omitempty"`       // rule name, for KindRule
	Action     string    `json:"action"`               // terminate, stopTranscode, notify, log, verify, …
	DryRun     bool      `json:"dryRun,omitempty"`     // nothing was sent to the server
	Message    string    `json:"message,omitempty"`    // the text the player was (or would be) shown
	Outcome    string    `json:"outcome"`              // done, already gone, Plex Pass required, zombie, …
	// LatencyMs is the reaction time: from the event that triggered the
	// action reaching Plex Warden to the server's answer (grace included).
	LatencyMs float64 `json:"latencyMs,omitempty"`
	Detail    string  `json:"detail,omitempty"` // error text or extra facts, token-free
	// Intent ties an action's intent record (Outcome OutcomeSending,
	// written before the request is sent) to the record of its outcome.
	Intent string `json:"intent,omitempty"`
}

// Outcomes of the intent protocol. An action that reaches a server is
// written as an intent (OutcomeSending) before the request leaves and
// completed by its outcome record with the same Intent. An intent left
// open by a crash is closed at the next start by a record with
// OutcomeSentUnknown (Store.ResolveOpenIntents): the request may have
// reached the server, and nobody knows its answer.
const (
	OutcomeSending     = "sending"
	OutcomeSentUnknown = "sent, result unknown"
)

// NewIntent returns a new Intent id for an action of this process.
func NewIntent() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return strconv.Itoa(os.Getpid()) + "-" + hex.EncodeToString(b[:])
}

// intentPID is the process that wrote an intent, 0 if unknown.
func intentPID(id string) int {
	pid, _, ok := strings.Cut(id, "-")
	if !ok {
		return 0
	}
	n, _ := strconv.Atoi(pid)
	return n
}

// Defaults of Options.
const (
	DefaultMaxBytes = 4 << 20 // rotate the current file beyond 4 MiB
	DefaultKeep     = 5       // files kept, the current one included
)

// Options tunes a Store; zero fields take the defaults.
type Options struct {
	MaxBytes int64 // size at which the current file is closed and a new one started
	Keep     int   // how many files to keep, the current one included
}

// File names are history-000001.jsonl, history-000002.jsonl, …: rotation
// only ever creates a new file and deletes old ones, never renames, so a
// crash during rotation cannot lose or duplicate records.
const (
	filePrefix = "history-"
	fileSuffix = ".jsonl"
)

func fileName(seq int) string { return fmt.Sprintf("%s%06d%s", filePrefix, seq, fileSuffix) }

// Store appends records to the history directory. It is safe for
// concurrent use by the goroutines of one process and by several processes
// (see the package comment).
type Store struct {
	dir  string
	opts Options
	lock *flock.Flock // dir/.lock, held across one append (and rotation)

	mu   sync.Mutex
	f    *os.File
	seq  int
	size int64
	// torn: the last write may have been partial, so the next record
	// starts with a newline to keep it on its own line.
	torn bool
}

// Open opens (creating it if needed, mode 0700) the history directory dir
// with the default options.
func Open(dir string) (*Store, error) { return OpenWith(dir, Options{}) }

// OpenWith opens the history directory dir with opts.
func OpenWith(dir string, opts Options) (*Store, error) {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.Keep <= 0 {
		opts.Keep = DefaultKeep
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	seqs, err := listFiles(dir)
	if err != nil {
		return nil, err
	}
	s := &Store{dir: dir, opts: opts, seq: 1, lock: flock.New(filepath.Join(dir, lockName), flock.SetPermissions(0o600))}
	if len(seqs) > 0 {
		s.seq = seqs[len(seqs)-1]
	}
	if err := s.openCurrent(); err != nil {
		return nil, err
	}
	return s, nil
}

// Dir returns the history directory.
func (s *Store) Dir() string { return s.dir }

// openCurrent opens file s.seq for appending and notes whether it ends in
// the middle of a line (a crash during a write).
func (s *Store) openCurrent() error {
	path := filepath.Join(s.dir, fileName(s.seq))
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	if errors.Is(statErr, os.ErrNotExist) {
		syncDir(s.dir) // make the new file's name durable too
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("history: %w", err)
	}
	s.f, s.size, s.torn = f, st.Size(), false
	if s.size > 0 {
		last, err := lastByte(path, s.size)
		if err != nil {
			f.Close()
			return fmt.Errorf("history: %w", err)
		}
		s.torn = last != '\n'
	}
	return nil
}

func lastByte(path string, size int64) (byte, error) {
	r, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	b := make([]byte, 1)
	if _, err := r.ReadAt(b, size-1); err != nil {
		return 0, err
	}
	return b[0], nil
}

// Append writes r as one line and syncs it to disk before returning. A
// zero Time is set to now.
func (s *Store) Append(r Record) error {
	if r.Time.IsZero() {
		r.Time = time.Now()
	}
	line, err := encode(r)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return errors.New("history: store closed")
	}
	unlock, err := s.lockDir()
	if err != nil {
		return err
	}
	defer unlock()
	if err := s.catchUp(); err != nil {
		return err
	}
	if s.size > 0 && s.size+int64(len(line)) > s.opts.MaxBytes {
		if err := s.rotate(); err != nil {
			return err
		}
	}
	if s.torn {
		line = append([]byte{'\n'}, line...)
	}
	n, err := s.f.Write(line)
	s.size += int64(n)
	if err != nil {
		s.torn = true
		return fmt.Errorf("history: %w", err)
	}
	s.torn = false
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	return nil
}

// encode returns r as one JSON line; Marshal escapes newlines in values, so
// one record is always one line.
func encode(r Record) ([]byte, error) {
	r.Time = r.Time.UTC()
	b, err := json.Marshal(r)
	return append(b, '\n'), err
}

// lockName is the lock file that serialises appends of several processes.
const lockName = ".lock"

// lockWait bounds the wait for another process's append: one write and one
// fsync, so anything this long is a stuck process, not a busy one.
const lockWait = 10 * time.Second

// lockDir takes the directory's lock for one append and returns its
// release. Called with mu held.
func (s *Store) lockDir() (func(), error) {
	ctx, cancel := context.WithTimeout(context.Background(), lockWait)
	defer cancel()
	ok, err := s.lock.TryLockContext(ctx, 5*time.Millisecond)
	if err != nil || !ok {
		if err == nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("history: another Plex Warden process holds %s: %w", filepath.Join(s.dir, lockName), err)
	}
	return func() { _ = s.lock.Unlock() }, nil
}

// catchUp follows what other processes did since our last append: when
// one rotated, it reopens the newest file; when one appended, it takes the
// file's real size and whether it ends mid-line. Called with mu and the
// directory lock held.
func (s *Store) catchUp() error {
	seqs, err := listFiles(s.dir)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	if n := len(seqs); n > 0 && seqs[n-1] > s.seq {
		_ = s.f.Close()
		s.f = nil
		s.seq = seqs[n-1]
		return s.openCurrent()
	}
	st, err := s.f.Stat()
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	if size := st.Size(); size != s.size {
		s.size = size
		if size > 0 {
			last, err := lastByte(filepath.Join(s.dir, fileName(s.seq)), size)
			if err != nil {
				return fmt.Errorf("history: %w", err)
			}
			s.torn = last != '\n'
		}
	}
	return nil
}

// rotate closes the current file, starts the next one and deletes the
// files beyond Keep. Called with mu held.
func (s *Store) rotate() error {
	if err := s.f.Close(); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	s.f = nil
	s.seq++
	if err := s.openCurrent(); err != nil {
		return err
	}
	seqs, err := listFiles(s.dir)
	if err != nil {
		return err
	}
	for _, q := range seqs {
		if q <= s.seq-s.opts.Keep {
			_ = os.Remove(filepath.Join(s.dir, fileName(q)))
		}
	}
	return nil
}

// Close closes the current file. Further Appends fail; Query still works.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}

// Filter selects records. Zero fields match everything; text fields match
// case-insensitively and exactly, except Text.
type Filter struct {
	Since, Until time.Time // Since ≤ Time < Until
	Server       string
	User         string
	Rule         string
	Kind         string
	Action       string
	Outcome      string
	Text         string // substring of user, title, player, rule, message or detail
	Limit        int    // keep only the newest Limit records (0 = all)
}

// Match reports whether r passes the filter (ignoring Limit).
func (f Filter) Match(r Record) bool {
	eq := func(want, got string) bool { return want == "" || strings.EqualFold(want, got) }
	switch {
	case !f.Since.IsZero() && r.Time.Before(f.Since):
		return false
	case !f.Until.IsZero() && !r.Time.Before(f.Until):
		return false
	case !eq(f.Server, r.Server), !eq(f.User, r.User), !eq(f.Rule, r.Rule),
		!eq(f.Kind, r.Kind), !eq(f.Action, r.Action), !eq(f.Outcome, r.Outcome):
		return false
	}
	if f.Text != "" {
		t := strings.ToLower(f.Text)
		for _, v := range []string{r.User, r.Title, r.Player, r.Rule, r.Message, r.Detail} {
			if strings.Contains(strings.ToLower(v), t) {
				return true
			}
		}
		return false
	}
	return true
}

// Result is what Scan found: the matching records in the order they were
// appended (oldest first), and how
// many lines could not be read (a line torn by a crash, or damage).
type Result struct {
	Records []Record // matching records, oldest first
	Skipped int      // lines that could not be read
	Files   int      // history files read
}

// Query returns the records matching f, oldest first, from every history
// file. Unreadable lines are skipped; Scan reports how many.
func (s *Store) Query(f Filter) ([]Record, error) {
	res, err := s.Scan(f)
	return res.Records, err
}

// Scan is Query with the count of skipped lines.
func (s *Store) Scan(f Filter) (Result, error) {
	// Appends hold mu while writing, so a scan never sees half a record
	// of this process as torn.
	s.mu.Lock()
	defer s.mu.Unlock()
	return Read(s.dir, f)
}

// Read scans the history directory dir without opening it for writing
// (for the command line). A missing directory is an empty history. Intent
// records (OutcomeSending) are not returned: OpenIntents lists the ones
// never completed.
func Read(dir string, f Filter) (Result, error) {
	var res Result
	seqs, err := listFiles(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return res, nil
		}
		return res, err
	}
	for _, q := range seqs {
		b, err := os.ReadFile(filepath.Join(dir, fileName(q)))
		if errors.Is(err, os.ErrNotExist) {
			continue // rotated away meanwhile
		}
		if err != nil {
			return res, fmt.Errorf("history: %w", err)
		}
		res.Files++
		for len(b) > 0 {
			line := b
			i := bytes.IndexByte(b, '\n')
			if i >= 0 {
				line, b = b[:i], b[i+1:]
			} else {
				b = nil // no newline: a torn last line, or a complete one if it parses
			}
			line = bytes.TrimSpace(line)
			if len(line) == 0 {
				continue
			}
			var r Record
			if err := json.Unmarshal(line, &r); err != nil || r.Time.IsZero() {
				res.Skipped++
				continue
			}
			if r.Outcome == OutcomeSending {
				continue // bookkeeping; see OpenIntents
			}
			if f.Match(r) {
				res.Records = append(res.Records, r)
			}
		}
	}
	// Files are read in order and each file is in append order, so the
	// records are oldest first even if the clock stepped back meanwhile.
	if f.Limit > 0 && len(res.Records) > f.Limit {
		res.Records = res.Records[len(res.Records)-f.Limit:]
	}
	return res, nil
}

// listFiles returns the sequence numbers of the history files in dir,
// ascending.
func listFiles(dir string) ([]int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var seqs []int
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasPrefix(n, filePrefix) || !strings.HasSuffix(n, fileSuffix) {
			continue
		}
		q, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(n, filePrefix), fileSuffix))
		if err != nil || q <= 0 {
			continue
		}
		seqs = append(seqs, q)
	}
	sort.Ints(seqs)
	return seqs, nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// OpenIntents returns the intent records of dir that no outcome record
// completed, oldest first: actions that may have reached a server while
// the process that sent them died before writing the answer.
func OpenIntents(dir string) ([]Record, error) {
	seqs, err := listFiles(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var open []Record
	done := map[string]bool{}
	for _, q := range seqs {
		b, err := os.ReadFile(filepath.Join(dir, fileName(q)))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("history: %w", err)
		}
		for _, line := range bytes.Split(b, []byte{'\n'}) {
			if !bytes.Contains(line, []byte(`"intent"`)) {
				continue
			}
			var r Record
			if json.Unmarshal(bytes.TrimSpace(line), &r) != nil || r.Intent == "" {
				continue
			}
			if r.Outcome == OutcomeSending {
				open = append(open, r)
			} else {
				done[r.Intent] = true
			}
		}
	}
	kept := open[:0]
	for _, r := range open {
		if !done[r.Intent] {
			kept = append(kept, r)
		}
	}
	return kept, nil
}

// ResolveOpenIntents closes every open intent whose process is gone with
// a record saying the request was sent and its result is unknown, and
// returns those records (to report them). Intents of a process still
// running (a desktop app beside a watch) are left to it.
func (s *Store) ResolveOpenIntents() ([]Record, error) {
	open, err := OpenIntents(s.dir)
	if err != nil {
		return nil, err
	}
	var closed []Record
	for _, r := range open {
		if pid := intentPID(r.Intent); pid != 0 && pid != os.Getpid() && processAlive(pid) {
			continue
		}
		sent := r.Time
		r.Time = time.Now()
		r.Outcome = OutcomeSentUnknown
		r.Detail = "Plex Warden stopped after sending this at " + sent.Local().Format("15:04:05") + " and before recording the answer; check the server"
		if err := s.Append(r); err != nil {
			return closed, err
		}
		closed = append(closed, r)
	}
	return closed, nil
}
