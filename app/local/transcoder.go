package local

import (
	"fmt"
	"sort"
	"time"
)

// ProcID identifies one process across scans: the PID together with its
// start time, so a PID the system reuses for another process is a
// different ProcID.
type ProcID struct {
	PID   int32 `json:"pid"`
	Start int64 `json:"startMs"` // start time, ms since the epoch (as gopsutil reports it); 0 = unknown
}

// String returns "PID 1234".
func (p ProcID) String() string { return fmt.Sprintf("PID %d", p.PID) }

// LinkStatus says how a transcoder process relates to Plex.
type LinkStatus string

// Link states.
const (
	// LinkLinked: its transcode key is live in Plex (Session says whose).
	LinkLinked LinkStatus = "linked"
	// LinkOrphan: it has a key that neither /status/sessions nor
	// /transcode/sessions knows any more.
	LinkOrphan LinkStatus = "orphan"
	// LinkKeyOnly: it has a key, but no Plex server is being asked.
	LinkKeyOnly LinkStatus = "key-only"
	// LinkUnknown: it has a key, but Plex could not be asked this time.
	LinkUnknown LinkStatus = "unknown"
	// LinkBackground: a Plex transcoder without a key: thumbnails, credits
	// or intro detection, loudness analysis… (Job says which). Never an
	// orphan, never offered to rules.
	LinkBackground LinkStatus = "background"
	// LinkExternal: a non-Plex transcoder (ffmpeg) without a Plex key.
	LinkExternal LinkStatus = "external"
)

// Text returns the status in words for lists and tooltips.
func (l LinkStatus) Text() string {
	switch l {
	case LinkLinked:
		return "linked"
	case LinkOrphan:
		return "orphan (no Plex session)"
	case LinkKeyOnly:
		return "key only"
	case LinkUnknown:
		return "unknown (Plex not reachable)"
	case LinkBackground:
		return "background job"
	case LinkExternal:
		return "not a Plex job"
	}
	return string(l)
}

// Session is the Plex playback a transcoder belongs to, as far as this
// package needs it. It deliberately mirrors a subset of app.Session, which
// it cannot import (app may import this package).
type Session struct {
	Server            string `json:"server,omitempty"`
	SessionKey        string `json:"sessionKey,omitempty"`
	ID                string `json:"id,omitempty"` // Session.id, what terminate takes
	User              string `json:"user,omitempty"`
	Title             string `json:"title,omitempty"`
	Player            string `json:"player,omitempty"`  // device name ("Living Room")
	Product           string `json:"product,omitempty"` // "Plex Web", "Plex for Roku"
	State             string `json:"state,omitempty"`   // playing, paused, buffering
	TranscodeKey      string `json:"transcodeKey,omitempty"`
	TranscodeComplete bool   `json:"transcodeComplete,omitempty"`
	Context           string `json:"context,omitempty"` // "streaming", or "static" for sync/download jobs
	// Throttled: Plex slowed the transcoder down because it is ahead of
	// a watching viewer (/transcode/sessions "throttled").
	Throttled bool    `json:"throttled,omitempty"`
	Speed     float64 `json:"speed,omitempty"` // times real time, from Plex; 0 when not reported
}

// Who returns "user · title · player" for lists, skipping empty parts.
func (s *Session) Who() string {
	if s == nil {
		return ""
	}
	out := ""
	for _, p := range []string{s.User, s.Title, s.Player} {
		if p == "" {
			continue
		}
		if out != "" {
			out += " · "
		}
		out += p
	}
	if out == "" && s.Context == "static" {
		return "sync / download job"
	}
	return out
}

// Output is what a transcoder has written to its output folder (or file),
// measured by the scanner.
type Output struct {
	Dir      string    `json:"dir,omitempty"`  // output folder; "" when unknown
	File     string    `json:"file,omitempty"` // single output file, when not segmented
	Known    bool      `json:"known"`          // the folder or file could be read
	Files    int       `json:"files"`          // files in the folder (1 for a single file)
	Segments int       `json:"segments"`       // media segment files (.ts, .m4s, …)
	Bytes    int64     `json:"bytes"`          // total size of those files
	Newest   time.Time `json:"newest"`         // modification time of the newest file
	// LastActive is when output was last seen to grow: the newest file
	// time, a change between scans, or the process start, whichever is
	// latest. Idle detection counts from here.
	LastActive time.Time `json:"lastActive"`
	Err        string    `json:"error,omitempty"` // why it could not be read
}

// Transcoder is one transcoder process as seen by one scan. It is a value:
// slices and pointers in a published Scan are never modified.
type Transcoder struct {
	PID        int32         `json:"pid"`
	PPID       int32         `json:"ppid"`
	Name       string        `json:"name"`
	Kind       Kind          `json:"kind"`
	Owner      string        `json:"owner"` // user name, or the uid in decimal
	UID        int64         `json:"uid"`   // -1 when unknown (Windows)
	State      string        `json:"state"` // gopsutil status: running, sleep, stop, …
	Started    time.Time     `json:"started"`
	Uptime     time.Duration `json:"uptimeNs"`
	CPUPercent float64       `json:"cpuPercent"` // share of one core since the previous scan (may exceed 100)
	CPUSampled bool          `json:"cpuSampled"` // false on a process's first scan: CPUPercent is not known yet
	CPUSeconds float64       `json:"cpuSeconds"` // user+system CPU time used so far
	RSS        uint64        `json:"rssBytes"`
	Cmdline    []string      `json:"cmdline"` // arguments, tokens redacted
	Cwd        string        `json:"cwd,omitempty"`
	CwdErr     string        `json:"cwdError,omitempty"` // why the working directory is unknown (other user)
	Input      string        `json:"input,omitempty"`    // first -i, tokens redacted
	Output     Output        `json:"output"`
	Key        string        `json:"key,omitempty"` // bare transcode key
	KeySource  KeySource     `json:"keySource,omitempty"`
	Link       LinkStatus    `json:"link"`
	LinkSince  time.Time     `json:"linkSince"`         // when Link last changed
	Session    *Session      `json:"session,omitempty"` // when Link is LinkLinked and Plex named a session
	Job        string        `json:"job,omitempty"`     // LinkBackground: what the job is
	CanKill    bool          `json:"canKill"`           // best guess whether Kill is permitted; Kill still reports errors
}

// ID returns the process identity used by Policy and Kill.
func (t *Transcoder) ID() ProcID {
	return ProcID{PID: t.PID, Start: t.Started.UnixMilli()}
}

// Playback reports whether the transcoder serves (or served) playback, as
// opposed to a background job or an unrelated ffmpeg.
func (t *Transcoder) Playback() bool { return t.Key != "" }

// StaleSession is a Plex transcode session whose transcoder process is not
// running on this computer (the server is local, so it should be).
type StaleSession struct {
	Key     string    `json:"key"`
	Session *Session  `json:"session,omitempty"` // nil when only /transcode/sessions lists it
	Since   time.Time `json:"since"`             // first scan that found it without a process
}

// PlexStatus says whether and how Plex was asked during a scan.
type PlexStatus struct {
	Asked bool   `json:"asked"`           // a LiveSource is configured
	Err   string `json:"error,omitempty"` // the last attempt failed: keys are LinkUnknown
	// Elsewhere: no connected Plex server runs on this computer
	// (ErrNoLocalServer), so its transcoders, and their clean-up, are on
	// another computer.
	Elsewhere bool `json:"elsewhere,omitempty"`
	// Remote are the transcoder jobs of the servers on other computers
	// (with Elsewhere, when the source read them: ElsewhereError).
	Remote []RemoteJob `json:"remote,omitempty"`
}

// Scan is the result of one scan. It is immutable once published:
// subscribers may keep it and read it from any goroutine.
type Scan struct {
	Seq         uint64         `json:"seq"`
	Time        time.Time      `json:"time"`
	Took        time.Duration  `json:"tookNs"`
	Processes   int            `json:"processes"`   // processes looked at
	Transcoders []Transcoder   `json:"transcoders"` // sorted by start time, then PID
	Stale       []StaleSession `json:"stale"`       // sorted by key
	Plex        PlexStatus     `json:"plex"`
}

// Find returns the transcoder with pid, or nil.
func (s *Scan) Find(pid int32) *Transcoder {
	if s == nil {
		return nil
	}
	for i := range s.Transcoders {
		if s.Transcoders[i].PID == pid {
			return &s.Transcoders[i]
		}
	}
	return nil
}

// Count returns the number of transcoder processes.
func (s *Scan) Count() int {
	if s == nil {
		return 0
	}
	return len(s.Transcoders)
}

// TotalCPU returns the summed CPU share of all transcoders, in percent of
// one core.
func (s *Scan) TotalCPU() float64 {
	if s == nil {
		return 0
	}
	var sum float64
	for i := range s.Transcoders {
		sum += s.Transcoders[i].CPUPercent
	}
	return sum
}

// CountLink returns how many transcoders have link status l.
func (s *Scan) CountLink(l LinkStatus) int {
	if s == nil {
		return 0
	}
	n := 0
	for i := range s.Transcoders {
		if s.Transcoders[i].Link == l {
			n++
		}
	}
	return n
}

// Summary is a one-line description for the tray tooltip, such as
// "2 local transcoders · 135% CPU · 1 orphan"; "" when there are none.
func (s *Scan) Summary() string {
	n := s.Count()
	if n == 0 {
		return ""
	}
	noun := "transcoders"
	if n == 1 {
		noun = "transcoder"
	}
	out := fmt.Sprintf("%d local %s · %.0f%% CPU", n, noun, s.TotalCPU())
	if o := s.CountLink(LinkOrphan); o > 0 {
		out += fmt.Sprintf(" · %d orphan", o)
		if o > 1 {
			out += "s"
		}
	}
	return out
}

// sortTranscoders orders by start time, then PID.
func sortTranscoders(ts []Transcoder) {
	sort.Slice(ts, func(i, j int) bool {
		if !ts[i].Started.Equal(ts[j].Started) {
			return ts[i].Started.Before(ts[j].Started)
		}
		return ts[i].PID < ts[j].PID
	})
}
