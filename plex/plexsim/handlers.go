package plexsim

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/plexwarden/plexwarden/plex"
)

// Paths the simulator answers.
const (
	pathIdentity       = "/identity"
	pathSessions       = "/status/sessions"
	pathTerminate      = "/status/sessions/terminate"
	pathTranscodes     = "/transcode/sessions"
	pathTranscodesPref = "/transcode/sessions/"
	pathUniversalStop  = "/video/:/transcode/universal/stop"
	pathEvents         = "/:/eventsource/notifications"
	pathMetadataPref   = "/library/metadata/"
)

// maxRequestURI is the longest request address the simulator takes.
const maxRequestURI = 8 << 10

// Owner features as GET / lists them; with Plex Pass they include "pass"
// and "session_kick".
const (
	featuresPlexPass = "adaptive_bitrate,collections,download_certificates,hardware_transcoding,pass,session_kick,sync,webhooks"
	featuresFree     = "adaptive_bitrate,collections,download_certificates"
)

// serve is the whole request pipeline: log, delay, /identity, injected
// failures, token check, routing.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests.Add(r, s.now())
	delay := s.delay
	s.mu.Unlock()

	if delay > 0 {
		s.sleep(r.Context(), delay)
	}
	w.Header().Set("X-Plex-Protocol", "1.0")
	if r.URL.Path == pathIdentity {
		s.handleIdentity(w, r)
		return
	}
	if c, ok := callOf(r); ok {
		rec := &callRecorder{ResponseWriter: w, s: s, call: c}
		defer rec.record(http.StatusOK) // a handler that wrote nothing answered 200
		w = rec
	}
	if len(r.RequestURI) > maxRequestURI {
		// As a real server does with an address this long (a 70,000
		// character terminate message), refuse it whole.
		http.Error(w, http.StatusText(http.StatusRequestURITooLong), http.StatusRequestURITooLong)
		return
	}
	if status := s.takeFailure(); status != 0 {
		http.Error(w, http.StatusText(status), status)
		return
	}
	if !s.authorized(r) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte("<html><head><title>Unauthorized</title></head><body><h1>401 Unauthorized</h1></body></html>"))
		return
	}
	p := r.URL.Path
	switch {
	case p == "/":
		s.handleRoot(w, r)
	case p == pathSessions:
		s.handleSessions(w, r)
	case p == pathTerminate:
		s.handleTerminate(w, r)
	case p == pathTranscodes:
		s.handleTranscodes(w, r)
	case strings.HasPrefix(p, pathTranscodesPref):
		s.handleTranscodeDelete(w, r, strings.TrimPrefix(p, pathTranscodesPref))
	case p == pathUniversalStop:
		s.handleUniversalStop(w, r)
	case p == pathEvents:
		s.handleEvents(w, r)
	case strings.HasPrefix(p, pathMetadataPref):
		if rk, ok := thumbPath(strings.TrimPrefix(p, pathMetadataPref)); ok {
			s.handleThumb(w, r, rk)
			return
		}
		s.handleMetadata(w, r, strings.TrimPrefix(p, pathMetadataPref))
	case p == pathPrefs:
		s.handlePrefs(w, r)
	default:
		http.NotFound(w, r)
	}
}

// sleep waits d; if the request or the server ends first it aborts the
// answer, so a client never mistakes an interrupted delay for an empty 200.
func (s *Server) sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		panic(http.ErrAbortHandler)
	case <-s.closedCh:
		panic(http.ErrAbortHandler)
	}
}

// authorized checks X-Plex-Token in the header, else in the query (as real
// Plex does; the request log flags the latter).
func (s *Server) authorized(r *http.Request) bool {
	tok := r.Header.Get("X-Plex-Token")
	if tok == "" {
		tok = r.URL.Query().Get("X-Plex-Token")
	}
	if tok == "" {
		return false
	}
	return s.opts.Token == "" || tok == s.opts.Token
}

// callOf says whether r is a terminate or stop-transcode call, and its
// parameters.
func callOf(r *http.Request) (Call, bool) {
	p := r.URL.Path
	switch {
	case p == pathTerminate:
		_ = r.ParseForm()
		return Call{Kind: CallTerminate, Method: r.Method, SessionID: r.Form.Get("sessionId"), Reason: r.Form.Get("reason")}, true
	case strings.HasPrefix(p, pathTranscodesPref) && r.Method == http.MethodDelete:
		return Call{Kind: CallStopTranscode, Method: r.Method, TranscodeKey: strings.TrimPrefix(p, pathTranscodesPref)}, true
	case p == pathUniversalStop:
		return Call{Kind: CallStopTranscode, Method: r.Method, TranscodeKey: plex.TranscodeID(r.URL.Query().Get("session"))}, true
	}
	return Call{}, false
}

// callRecorder records a call when its status is decided, before the answer
// leaves, so a client that got its answer always finds the call in Calls.
type callRecorder struct {
	http.ResponseWriter
	s    *Server
	call Call
	done bool
}

func (c *callRecorder) record(status int) {
	if c.done {
		return
	}
	c.done = true
	c.call.Status = status
	c.s.recordCall(c.call)
}

// WriteHeader records the call, then answers.
func (c *callRecorder) WriteHeader(status int) {
	c.record(status)
	c.ResponseWriter.WriteHeader(status)
}

// Write records the call as 200 if no status was written yet.
func (c *callRecorder) Write(b []byte) (int, error) {
	c.record(http.StatusOK)
	return c.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer.
func (c *callRecorder) Unwrap() http.ResponseWriter { return c.ResponseWriter }

func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

// writeContainer answers v (a MediaContainer type of package plex) as JSON
// ({"MediaContainer":{…}}) when the client accepts it, else as XML.
func writeContainer(w http.ResponseWriter, r *http.Request, v any) {
	var buf bytes.Buffer
	if wantsJSON(r) {
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(map[string]any{"MediaContainer": v}); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
	} else {
		buf.WriteString(xml.Header)
		if err := xml.NewEncoder(&buf).Encode(v); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		buf.WriteByte('\n')
		w.Header().Set("Content-Type", "text/xml;charset=utf-8")
	}
	_, _ = w.Write(buf.Bytes())
}

func onlyGET(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
	return false
}

func (s *Server) handleIdentity(w http.ResponseWriter, r *http.Request) {
	if !onlyGET(w, r) {
		return
	}
	writeContainer(w, r, plex.Identity{
		Claimed:           true,
		MachineIdentifier: plex.String(s.opts.MachineID),
		Version:           Version,
	})
}

func (s *Server) handleRoot(w http.ResponseWriter, r *http.Request) {
	if !onlyGET(w, r) {
		return
	}
	info := plex.ServerInfo{
		MachineIdentifier:  plex.String(s.opts.MachineID),
		Version:            Version,
		FriendlyName:       s.opts.FriendlyName,
		Platform:           "Linux",
		MyPlexSubscription: plex.Bool(s.opts.PlexPass),
		MyPlexUsername:     "owner@example.com",
		EventStream:        true,
		OwnerFeatures:      featuresFree,
	}
	if s.opts.PlexPass {
		info.OwnerFeatures = featuresPlexPass
	}
	s.mu.Lock()
	for _, ss := range s.sessions {
		if ss.tc != nil && ss.tc.spec.Video == "transcode" {
			info.TranscoderActiveVideoSessions++
		}
	}
	s.mu.Unlock()
	writeContainer(w, r, info)
}

func (s *Server) handleSessions(w http.ResponseWriter, r *http.Request) {
	if !onlyGET(w, r) {
		return
	}
	c := plex.Container{Metadata: s.Sessions()}
	c.Size = plex.Int(len(c.Metadata))
	writeContainer(w, r, c)
}

// handleMetadata is GET /library/metadata/<ratingKey>: the item with its
// versions as stored (the source, whatever a session's transcode makes of
// it); 404 for an item never played here.
func (s *Server) handleMetadata(w http.ResponseWriter, r *http.Request, rk string) {
	if !onlyGET(w, r) {
		return
	}
	m, ok := s.Item(rk)
	if !ok {
		http.NotFound(w, r)
		return
	}
	writeContainer(w, r, plex.Container{Size: 1, Metadata: []plex.Metadata{m}})
}

// handleTerminate is /status/sessions/terminate (GET or POST): 401 without
// Plex Pass, 400 without a sessionId parameter (the name is case
// sensitive), 403 for an empty one, 404 for an unknown one.
func (s *Server) handleTerminate(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	if !s.opts.PlexPass {
		http.Error(w, http.StatusText(http.StatusUnauthorized), http.StatusUnauthorized)
		return
	}
	_ = r.ParseForm()
	if !r.Form.Has("sessionId") {
		http.Error(w, "missing sessionId", http.StatusBadRequest)
		return
	}
	id := r.Form.Get("sessionId")
	if id == "" {
		http.Error(w, "empty sessionId", http.StatusForbidden)
		return
	}
	s.mu.Lock()
	ss := s.findByIDLocked(id)
	switch {
	case ss == nil:
		s.mu.Unlock()
		http.NotFound(w, r)
		return
	case !ss.spec.Zombie:
		s.endSessionLocked(ss)
	}
	// A zombie player ignores the termination: 200, but it keeps playing.
	s.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// handleTranscodes is GET /transcode/sessions: the transcoder jobs with bare keys.
func (s *Server) handleTranscodes(w http.ResponseWriter, r *http.Request) {
	if !onlyGET(w, r) {
		return
	}
	var c plex.TranscodeContainer
	s.mu.Lock()
	for _, ss := range s.sessions {
		if ss.tc == nil {
			continue
		}
		ts := s.transcodeSessionLocked(ss)
		ts.Key = ss.tc.id
		c.TranscodeSession = append(c.TranscodeSession, ts)
	}
	c.TranscodeSession = append(c.TranscodeSession, s.jobsLocked()...)
	s.mu.Unlock()
	c.Size = plex.Int(len(c.TranscodeSession))
	writeContainer(w, r, c)
}

// handleTranscodeDelete is DELETE /transcode/sessions/<id>.
func (s *Server) handleTranscodeDelete(w http.ResponseWriter, r *http.Request, rawID string) {
	if r.Method != http.MethodDelete {
		w.Header().Set("Allow", "DELETE")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	id, err := url.PathUnescape(rawID)
	if err != nil || id == "" || strings.Contains(id, "/") {
		http.NotFound(w, r)
		return
	}
	s.stopTranscodeAnswer(w, r, id)
}

// handleUniversalStop is GET /video/:/transcode/universal/stop?session=<id>.
func (s *Server) handleUniversalStop(w http.ResponseWriter, r *http.Request) {
	if !onlyGET(w, r) {
		return
	}
	id := plex.TranscodeID(r.URL.Query().Get("session"))
	if id == "" {
		http.Error(w, "missing session", http.StatusBadRequest)
		return
	}
	s.stopTranscodeAnswer(w, r, id)
}

func (s *Server) stopTranscodeAnswer(w http.ResponseWriter, r *http.Request, id string) {
	s.mu.Lock()
	ss := s.findByTranscodeLocked(id)
	if ss != nil {
		s.stopTranscodeLocked(ss)
	}
	s.mu.Unlock()
	if ss == nil {
		http.NotFound(w, r)
		return
	}
	w.WriteHeader(http.StatusOK)
}
