package local

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/plexwarden/plexwarden/plex"
)

// Live is what a Plex server reports at one moment: the playback sessions
// (/status/sessions) and the transcoder jobs (/transcode/sessions, the
// authority for "is this key alive", which also lists sync jobs).
type Live struct {
	Sessions   []Session
	Transcodes []LiveTranscode
	// SessionDirs are the folders of the servers' playback jobs
	// (<TranscoderTempDirectory>/Transcode/Sessions, from their settings):
	// a transcoder's output is looked for there when its working folder
	// cannot be read (it runs as another user).
	SessionDirs []string
}

// TempDirAPI is the optional part of a PlexAPI that reads the server's
// transcoder temporary folder (*plex.Client has it).
type TempDirAPI interface {
	TranscoderTempDir(ctx context.Context) (string, error)
}

// SessionDirOf is the folder of the playback jobs under a server's
// transcoder temporary folder tempDir ("" when it is Plex's default, which
// DefaultSessionDirs cover).
func SessionDirOf(tempDir string) string {
	if tempDir == "" {
		return ""
	}
	return filepath.Join(tempDir, "Transcode", "Sessions")
}

// LiveTranscode is one entry of /transcode/sessions.
type LiveTranscode struct {
	Key      string // bare id
	Complete bool   // the job finished: its process has legitimately exited
	Context  string // "streaming", or "static" for sync/download
	// Throttled: Plex slowed the job down because it is ahead of a
	// watching viewer (never a sign of an idle transcoder).
	Throttled bool
	Speed     float64 // times real time; 0 when not reported
}

// ErrNoLocalServer is what a LiveSource returns when no connected Plex
// server runs on this computer: links are unknown (never orphaned), and the
// scan says Plex runs elsewhere (PlexStatus.Elsewhere).
var ErrNoLocalServer = errors.New("no connected Plex Media Server on this computer")

// RemoteJob is a transcoder job of a Plex server on another computer, as
// its /transcode/sessions reports it: what a desktop without the server can
// still show of its transcodes.
type RemoteJob struct {
	Server    string  `json:"server"`
	Key       string  `json:"key"`
	Context   string  `json:"context,omitempty"` // "streaming", or "static" for sync/download/optimize
	Video     string  `json:"video,omitempty"`   // video decision: transcode, copy
	Speed     float64 `json:"speed,omitempty"`   // times real time
	Throttled bool    `json:"throttled,omitempty"`
	HW        bool    `json:"hw,omitempty"` // hardware decoding or encoding
	Progress  float64 `json:"progress,omitempty"`
}

// ElsewhereError is the ErrNoLocalServer of a source that also read the
// transcoder jobs of the connected servers on other computers.
type ElsewhereError struct {
	Jobs []RemoteJob
	Errs []string // servers that could not be asked, "name: error"
}

// Error implements error.
func (e *ElsewhereError) Error() string { return ErrNoLocalServer.Error() }

// Is makes errors.Is(err, ErrNoLocalServer) true.
func (e *ElsewhereError) Is(target error) bool { return target == ErrNoLocalServer }

// RemoteJobs converts a server's /transcode/sessions answer.
func RemoteJobs(server string, tcs []plex.TranscodeSession) []RemoteJob {
	out := make([]RemoteJob, 0, len(tcs))
	for i := range tcs {
		t := &tcs[i]
		out = append(out, RemoteJob{Server: server, Key: t.ID(), Context: t.Context, Video: t.VideoDecision,
			Speed: float64(t.Speed), Throttled: bool(t.Throttled), Progress: float64(t.Progress),
			HW: t.TranscodeHwDecoding != "" || t.TranscodeHwEncoding != "" || bool(t.TranscodeHwFullPipeline)})
	}
	return out
}

// LiveSource reports what Plex is doing. A Scanner asks it once per scan.
type LiveSource interface {
	Live(ctx context.Context) (*Live, error)
}

// LiveFunc adapts a function to LiveSource, e.g. one that reads the
// desktop app's latest snapshot instead of asking the server again.
type LiveFunc func(ctx context.Context) (*Live, error)

// Live calls f.
func (f LiveFunc) Live(ctx context.Context) (*Live, error) { return f(ctx) }

// PlexAPI is the part of *plex.Client a ClientSource uses.
type PlexAPI interface {
	Sessions(ctx context.Context) ([]plex.Metadata, error)
	TranscodeSessions(ctx context.Context) ([]plex.TranscodeSession, error)
}

// ClientSource asks a Plex server directly: GET /status/sessions and
// GET /transcode/sessions on every call.
type ClientSource struct {
	API    PlexAPI
	Server string // server name put into each Session
}

// Live implements LiveSource.
func (c ClientSource) Live(ctx context.Context) (*Live, error) {
	items, err := c.API.Sessions(ctx)
	if err != nil {
		return nil, err
	}
	tcs, err := c.API.TranscodeSessions(ctx)
	if err != nil {
		return nil, err
	}
	l := LiveFromPlex(c.Server, items, tcs)
	if td, ok := c.API.(TempDirAPI); ok {
		if dir, err := td.TranscoderTempDir(ctx); err == nil && dir != "" {
			l.SessionDirs = []string{SessionDirOf(dir)}
		}
	}
	return l, nil
}

// LiveFromPlex builds a Live from the decoded answers of /status/sessions
// and /transcode/sessions.
func LiveFromPlex(server string, items []plex.Metadata, tcs []plex.TranscodeSession) *Live {
	l := &Live{Sessions: make([]Session, 0, len(items)), Transcodes: make([]LiveTranscode, 0, len(tcs))}
	for i := range items {
		m := &items[i]
		s := Session{
			Server:     server,
			SessionKey: string(m.SessionKey),
			Title:      plex.DisplayTitle(m),
		}
		if m.User != nil {
			s.User = m.User.Title
		}
		if p := m.Player; p != nil {
			s.Player, s.Product, s.State = p.Title, p.Product, p.State
			if s.Player == "" {
				s.Player = p.Product
			}
		}
		if m.Session != nil {
			s.ID = string(m.Session.ID)
		}
		if ts := m.TranscodeSession; ts != nil {
			s.TranscodeKey = ts.ID()
			s.TranscodeComplete = bool(ts.Complete)
			s.Context = ts.Context
			s.Throttled, s.Speed = bool(ts.Throttled), float64(ts.Speed)
		}
		l.Sessions = append(l.Sessions, s)
	}
	for i := range tcs {
		if id := tcs[i].ID(); id != "" {
			l.Transcodes = append(l.Transcodes, LiveTranscode{Key: id, Complete: bool(tcs[i].Complete), Context: tcs[i].Context,
				Throttled: bool(tcs[i].Throttled), Speed: float64(tcs[i].Speed)})
		}
	}
	return l
}

// link sets Link, Session and Job of every transcoder from live (nil when no
// source is configured; liveErr when asking failed) and returns the live
// transcode keys that have no process.
func link(ts []Transcoder, live *Live, asked bool, liveErr error) []StaleSession {
	bySession := map[string]*Session{}
	alive := map[string]LiveTranscode{}
	if live != nil {
		for i := range live.Sessions {
			s := &live.Sessions[i]
			if s.TranscodeKey != "" {
				bySession[s.TranscodeKey] = s
			}
		}
		for _, t := range live.Transcodes {
			alive[t.Key] = t
		}
	}
	running := map[string]bool{}
	for i := range ts {
		t := &ts[i]
		t.Session = nil
		switch {
		case t.Kind == KindPlex && (t.Key == "" || strings.Contains(strings.ToLower(t.Cwd), "plexcreditsdetection")):
			// Keyless, or in the credits-detection folder whatever its
			// arguments say: a background job (docs/plex-api.md §7).
			t.Link = LinkBackground
			t.Job = BackgroundLabel(t.Cmdline, t.Cwd)
		case t.Key == "":
			t.Link = LinkExternal
		case !asked:
			t.Link = LinkKeyOnly
		case liveErr != nil || live == nil:
			t.Link = LinkUnknown
		default:
			running[t.Key] = true
			s, inSessions := bySession[t.Key]
			job, inJobs := alive[t.Key]
			switch {
			case inSessions:
				c := *s
				if inJobs {
					// /transcode/sessions is the fresher word on the job.
					c.Throttled, c.Speed = job.Throttled, job.Speed
					if c.Context == "" {
						c.Context = job.Context
					}
				}
				t.Session = &c
				t.Link = LinkLinked
			case inJobs:
				t.Session = &Session{TranscodeKey: t.Key, Context: job.Context, TranscodeComplete: job.Complete,
					Throttled: job.Throttled, Speed: job.Speed}
				t.Link = LinkLinked
			default:
				t.Link = LinkOrphan
			}
		}
	}
	if !asked || liveErr != nil || live == nil {
		return nil
	}
	var stale []StaleSession
	seen := map[string]bool{}
	for i := range live.Sessions {
		s := live.Sessions[i]
		if s.TranscodeKey == "" || s.TranscodeComplete || running[s.TranscodeKey] || seen[s.TranscodeKey] {
			continue
		}
		if j, ok := alive[s.TranscodeKey]; ok && j.Complete {
			continue
		}
		seen[s.TranscodeKey] = true
		stale = append(stale, StaleSession{Key: s.TranscodeKey, Session: &s})
	}
	for _, j := range live.Transcodes {
		if j.Complete || running[j.Key] || seen[j.Key] {
			continue
		}
		seen[j.Key] = true
		stale = append(stale, StaleSession{Key: j.Key})
	}
	sort.Slice(stale, func(i, j int) bool { return stale[i].Key < stale[j].Key })
	return stale
}

// IsLocalServer reports whether a Plex server address points at this
// computer: localhost, a loopback address, an address of one of this
// computer's interfaces, this computer's host name, or a *.plex.direct name
// that encodes one of those addresses. Only then can its transcoders be
// among the local processes. It does not use DNS.
func IsLocalServer(raw string) bool {
	u, err := plex.ParseBaseURL(raw)
	if err != nil {
		return false
	}
	host := strings.ToLower(u.Hostname())
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	if name, err := os.Hostname(); err == nil && strings.EqualFold(host, name) {
		return true
	}
	if strings.HasSuffix(host, ".plex.direct") {
		// 192-168-1-5.<hash>.plex.direct; IPv6 uses dashes for colons.
		label, _, _ := strings.Cut(host, ".")
		if ip := net.ParseIP(strings.ReplaceAll(label, "-", ".")); ip != nil {
			return isLocalIP(ip)
		}
		if ip := net.ParseIP(strings.ReplaceAll(label, "-", ":")); ip != nil {
			return isLocalIP(ip)
		}
		return false
	}
	if ip := net.ParseIP(host); ip != nil {
		return isLocalIP(ip)
	}
	return false
}

func isLocalIP(ip net.IP) bool {
	if ip.IsLoopback() || ip.IsUnspecified() {
		return true
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
			return true
		}
	}
	return false
}

// liveTimeout bounds one LiveSource call so a slow server cannot stall
// scanning.
const liveTimeout = 5 * time.Second
