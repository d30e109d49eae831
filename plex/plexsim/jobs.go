package plexsim

import (
	"errors"

	"github.com/plexwarden/plexwarden/plex"
)

// JobSpec describes a transcoder job without a playback session: a sync
// (mobile download), a download-with-conversion or an Optimize version.
// Plex lists such jobs only in /transcode/sessions, with context "static";
// /status/sessions does not show them.
type JobSpec struct {
	Key      string  // bare transcode key; default a random id
	Context  string  // default "static"
	Progress float64 // percent
	Speed    float64 // default 2.0
}

// AddJob adds a job to /transcode/sessions and returns its bare key. It
// emits no events: sync jobs do not show in the notification feed's
// playing events.
func (s *Server) AddJob(spec JobSpec) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if spec.Key == "" {
		spec.Key = s.randIDLocked(24)
	}
	if spec.Context == "" {
		spec.Context = "static"
	}
	if spec.Speed == 0 {
		spec.Speed = 2
	}
	s.jobs = append(s.jobs, plex.TranscodeSession{Key: spec.Key, Context: spec.Context,
		Progress: plex.Float(spec.Progress), Speed: plex.Float(spec.Speed), VideoDecision: "transcode", AudioDecision: "transcode"})
	return spec.Key
}

// EndJob removes the job with key from /transcode/sessions.
func (s *Server) EndJob(key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, j := range s.jobs {
		if j.Key == key {
			s.jobs = append(s.jobs[:i], s.jobs[i+1:]...)
			return nil
		}
	}
	return errors.New("plexsim: no job " + key)
}

// simJob is a sessionless job as /transcode/sessions renders it.
type simJob = plex.TranscodeSession

// jobsLocked returns the jobs for /transcode/sessions.
func (s *Server) jobsLocked() []plex.TranscodeSession {
	return append([]plex.TranscodeSession(nil), s.jobs...)
}
