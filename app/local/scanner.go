package local

import (
	"context"
	"errors"
	"fmt"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shirou/gopsutil/v4/process"
)

// Default scan intervals.
const (
	// DefaultFast is the interval while transcoders run or the last scan
	// saw a change: CPU and output activity need fresh samples.
	DefaultFast = 2 * time.Second
	// DefaultSlow is the interval while nothing runs. A new transcoder
	// shows up within this time, or at once after Trigger.
	DefaultSlow = 15 * time.Second
	// MinInterval is the shortest time between two scans, whatever the
	// options and triggers say: scanning never busy-loops.
	MinInterval = 250 * time.Millisecond
	// maxScanShare caps scanning at about 1/maxScanShare of the time: a
	// scan that takes 40 ms waits at least 400 ms before the next.
	maxScanShare = 10
)

// DefaultSessionDirs are folders where Plex keeps transcode session
// folders (…/Transcode/Sessions) on common installs: the Linux package and
// the linuxserver and official Docker images. When a Plex transcoder's
// working directory cannot be read (it belongs to the plex user), its
// session folder plex-transcode-<key>-<uuid> is looked for here. [inferred]
var DefaultSessionDirs = []string{
	"/var/lib/plexmediaserver/Library/Application Support/Plex Media Server/Cache/Transcode/Sessions",
	"/config/Library/Application Support/Plex Media Server/Cache/Transcode/Sessions",
	"/transcode/Transcode/Sessions",
}

// Options configures a Scanner. The zero value scans for the default
// names with the default intervals and does not ask Plex.
type Options struct {
	Matcher Matcher    // which processes are transcoders
	Live    LiveSource // Plex to link with; nil shows keys only. Give one only for a server on this computer (IsLocalServer).
	// OnScan receives every scan Run makes, on Run's goroutine, in order.
	// It must return quickly (the UI posts it with fyne.Do).
	OnScan func(*Scan)
	Fast   time.Duration // default DefaultFast
	Slow   time.Duration // default DefaultSlow
	// SessionDirs are searched for a Plex transcoder's session folder when
	// its working directory is unreadable; nil means DefaultSessionDirs.
	SessionDirs []string
	// Now stamps scans, link and stale times (tests inject a clock). CPU
	// shares always use the real elapsed time between scans.
	Now func() time.Time
}

// Scanner finds the transcoder processes on this computer. Scan may be
// called from any goroutine; scans are serialised.
type Scanner struct {
	opts    Options
	trigger chan struct{}

	last atomic.Pointer[Scan]

	mu     sync.Mutex // serialises scans; guards everything below
	seq    uint64
	procs  map[ProcID]*procState
	stale  map[string]time.Time
	owners map[int64]string
	// plexDirs are the session folders the last Live answer named (the
	// server's own transcoder temporary folder): searched first from the
	// next scan on.
	plexDirs []string
}

// procState is what the scanner remembers about a process between scans.
type procState struct {
	cpu       float64   // user+system seconds at the last scan
	at        time.Time // when (real clock, monotonic)
	link      LinkStatus
	linkSince time.Time
	files     int
	bytes     int64
	newest    time.Time
	outSeen   bool      // files, bytes and newest hold a measurement
	changed   time.Time // last scan that saw the output change
	dir       *dirCache
}

// NewScanner returns a scanner with opts.
func NewScanner(opts Options) *Scanner {
	if opts.Fast <= 0 {
		opts.Fast = DefaultFast
	}
	if opts.Slow <= 0 {
		opts.Slow = DefaultSlow
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SessionDirs == nil {
		opts.SessionDirs = DefaultSessionDirs
	}
	return &Scanner{
		opts:    opts,
		trigger: make(chan struct{}, 1),
		procs:   map[ProcID]*procState{},
		stale:   map[string]time.Time{},
		owners:  map[int64]string{},
	}
}

// Last returns the latest scan, or nil before the first.
func (s *Scanner) Last() *Scan { return s.last.Load() }

// Trigger asks Run to scan now, for example after a transcodeSession.start
// event or a kill. Triggers are coalesced and never make scans closer than
// MinInterval. It never blocks.
func (s *Scanner) Trigger() {
	select {
	case s.trigger <- struct{}{}:
	default:
	}
}

// Run scans until ctx ends and hands every scan to Options.OnScan. It waits
// Fast between scans while transcoders run or when the last scan found a
// change (a transcoder or a stale session came or went), and Slow
// otherwise. It returns ctx.Err().
func (s *Scanner) Run(ctx context.Context) error {
	var prev []string
	for {
		start := time.Now()
		scan, err := s.Scan(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		wait := s.opts.Slow
		if err == nil {
			if s.opts.OnScan != nil {
				s.opts.OnScan(scan)
			}
			ids := fingerprint(scan)
			if len(scan.Transcoders) > 0 || !slices.Equal(ids, prev) {
				wait = s.opts.Fast
			}
			prev = ids
		}
		wait = max(wait, MinInterval, maxScanShare*time.Since(start))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		case <-s.trigger:
			t.Stop()
			if d := MinInterval - time.Since(start); d > 0 {
				t := time.NewTimer(d)
				select {
				case <-ctx.Done():
					t.Stop()
					return ctx.Err()
				case <-t.C:
				}
			}
		}
	}
}

// fingerprint lists what Run compares between scans to notice a change.
func fingerprint(sc *Scan) []string {
	out := make([]string, 0, len(sc.Transcoders)+len(sc.Stale))
	for i := range sc.Transcoders {
		id := sc.Transcoders[i].ID()
		out = append(out, fmt.Sprintf("p%d/%d", id.PID, id.Start))
	}
	for _, st := range sc.Stale {
		out = append(out, "s"+st.Key)
	}
	return out
}

// Sample scans twice, interval apart, and returns the second scan: the
// one-shot way to get CPU percentages (the command line uses it).
func (s *Scanner) Sample(ctx context.Context, interval time.Duration) (*Scan, error) {
	if _, err := s.Scan(ctx); err != nil {
		return nil, err
	}
	t := time.NewTimer(interval)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-t.C:
	}
	return s.Scan(ctx)
}

// Scan lists the processes once and returns the transcoders among them,
// linked to Plex when a LiveSource is set. CPU percentages compare with the
// previous scan; a process's first scan has CPUSampled false. A failure
// to ask Plex is not an error: it is reported in Scan.Plex and leaves keyed
// transcoders LinkUnknown.
func (s *Scanner) Scan(ctx context.Context) (*Scan, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t0 := time.Now()
	now := s.opts.Now()
	pids, err := process.PidsWithContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("cannot list processes: %w", err)
	}
	ts := make([]Transcoder, 0, 4)
	for _, pid := range pids {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// A bare Process reads only what is asked for: the name (one small
		// file on Linux) for every process, the rest for transcoders only.
		p := &process.Process{Pid: pid}
		name, err := p.NameWithContext(ctx)
		if err != nil {
			continue // gone, or a kernel thread we may not read
		}
		kind, ok := s.opts.Matcher.Match(name)
		if !ok {
			continue
		}
		if t, ok := s.inspect(ctx, p, name, kind, now); ok {
			ts = append(ts, t)
		}
	}

	sc := &Scan{Time: now, Processes: len(pids)}
	var live *Live
	var liveErr error
	if s.opts.Live != nil {
		sc.Plex.Asked = true
		lctx, cancel := context.WithTimeout(ctx, liveTimeout)
		live, liveErr = s.opts.Live.Live(lctx)
		cancel()
		if liveErr == nil && live == nil {
			liveErr = errors.New("no answer")
		}
		if live != nil {
			s.plexDirs = live.SessionDirs
		}
		if liveErr != nil {
			sc.Plex.Err = liveErr.Error()
			sc.Plex.Elsewhere = errors.Is(liveErr, ErrNoLocalServer)
			if ee := (*ElsewhereError)(nil); errors.As(liveErr, &ee) {
				sc.Plex.Remote = ee.Jobs
			}
		}
	}
	stale := link(ts, live, s.opts.Live != nil, liveErr)

	seen := make(map[ProcID]bool, len(ts))
	for i := range ts {
		t := &ts[i]
		id := t.ID()
		seen[id] = true
		st := s.procs[id]
		if st.link != t.Link || st.linkSince.IsZero() {
			st.link, st.linkSince = t.Link, now
		}
		t.LinkSince = st.linkSince
	}
	for id := range s.procs {
		if !seen[id] {
			delete(s.procs, id)
		}
	}
	staleSeen := make(map[string]bool, len(stale))
	for i := range stale {
		since, ok := s.stale[stale[i].Key]
		if !ok {
			since = now
			s.stale[stale[i].Key] = now
		}
		stale[i].Since = since
		staleSeen[stale[i].Key] = true
	}
	if liveErr == nil { // an unanswered question keeps what was known
		for k := range s.stale {
			if !staleSeen[k] {
				delete(s.stale, k)
			}
		}
	}

	sortTranscoders(ts)
	s.seq++
	sc.Seq = s.seq
	sc.Transcoders = ts
	sc.Stale = stale
	if sc.Stale == nil {
		sc.Stale = []StaleSession{} // JSON: [] rather than null
	}
	sc.Took = time.Since(t0)
	s.last.Store(sc)
	return sc, nil
}

// inspect reads the details of one transcoder process. ok is false when
// the process vanished meanwhile or is a zombie.
func (s *Scanner) inspect(ctx context.Context, p *process.Process, name string, kind Kind, now time.Time) (Transcoder, bool) {
	status, statusErr := p.StatusWithContext(ctx)
	if statusErr == nil && slices.Contains(status, process.Zombie) {
		return Transcoder{}, false // exited, not reaped: nothing to measure or kill
	}
	created, err := p.CreateTimeWithContext(ctx)
	if err != nil {
		return Transcoder{}, false
	}
	t := Transcoder{PID: p.Pid, Name: name, Kind: kind, UID: -1, Started: time.UnixMilli(created)}
	if statusErr == nil && len(status) > 0 {
		t.State = status[0]
	}
	t.Uptime = max(0, now.Sub(t.Started))
	t.PPID, _ = p.PpidWithContext(ctx)
	args, err := p.CmdlineSliceWithContext(ctx)
	if err != nil {
		return Transcoder{}, false
	}
	if cwd, err := p.CwdWithContext(ctx); err == nil {
		t.Cwd = cwd
	} else {
		t.CwdErr = errText(err)
	}
	t.UID, t.Owner = s.owner(ctx, p)
	t.CanKill = canSignal(t.UID)
	if mem, err := p.MemoryInfoWithContext(ctx); err == nil {
		t.RSS = mem.RSS
	}

	key, uuid, src := KeyFromArgs(args)
	if key == "" {
		if key = KeyFromDir(t.Cwd); key != "" {
			src = KeySourceCwd
		}
	}
	t.Key, t.KeySource = key, src
	t.Cmdline = redactAll(args)
	t.Input = Redact(InputOf(args))

	id := t.ID()
	st := s.procs[id]
	if st == nil {
		st = &procState{}
		s.procs[id] = st
	}

	if times, err := p.TimesWithContext(ctx); err == nil {
		cpu, at := times.User+times.System, time.Now()
		t.CPUSeconds = cpu
		if !st.at.IsZero() {
			if dt := at.Sub(st.at).Seconds(); dt > 0 {
				t.CPUPercent = max(0, (cpu-st.cpu)/dt*100)
				t.CPUSampled = true
			}
		}
		st.cpu, st.at = cpu, at
	}

	dir, file := OutputTarget(kind, args, t.Cwd)
	if dir == "" && kind == KindPlex && key != "" && uuid != "" {
		dir = s.findSessionDir(key, uuid)
	}
	switch {
	case file != "":
		t.Output = measureFile(file)
		st.dir = nil
	case dir != "":
		t.Output, st.dir = measureDir(dir, st.dir, now)
	default:
		t.Output.Err = "output folder unknown"
		if t.CwdErr != "" {
			t.Output.Err += " (working directory: " + t.CwdErr + ")"
		}
	}
	if o := &t.Output; o.Known {
		if !st.outSeen || o.Files != st.files || o.Bytes != st.bytes || !o.Newest.Equal(st.newest) {
			if st.outSeen {
				st.changed = now // seen changing between two scans
			}
			st.outSeen = true
			st.files, st.bytes, st.newest = o.Files, o.Bytes, o.Newest
		}
		o.LastActive = latest(o.Newest, st.changed, t.Started)
	}
	return t, true
}

// findSessionDir looks for plex-transcode-<key>-<uuid> in the session dirs.
func (s *Scanner) findSessionDir(key, uuid string) string {
	for _, base := range slices.Concat(s.plexDirs, s.opts.SessionDirs) {
		dir := filepath.Join(base, sessionDirPrefix+key+"-"+uuid)
		if isDir(dir) {
			return dir
		}
	}
	return ""
}

// owner returns the uid and user name of p, caching names per uid.
func (s *Scanner) owner(ctx context.Context, p *process.Process) (int64, string) {
	uids, err := p.UidsWithContext(ctx)
	if err != nil || len(uids) == 0 {
		// Windows has no uids; ask for the account name instead.
		name, _ := p.UsernameWithContext(ctx)
		return -1, name
	}
	uid := int64(uids[0]) // real uid, as ps shows it
	if name, ok := s.owners[uid]; ok {
		return uid, name
	}
	name := strconv.FormatInt(uid, 10)
	if u, err := user.LookupId(name); err == nil {
		name = u.Username
	}
	s.owners[uid] = name
	return uid, name
}

func latest(ts ...time.Time) time.Time {
	var out time.Time
	for _, t := range ts {
		if t.After(out) {
			out = t
		}
	}
	return out
}
