package plexsim

import (
	"net/http"

	"github.com/plexwarden/plexwarden/plex"
)

// pathPrefs is the server's settings.
const pathPrefs = "/:/prefs"

// SetTranscoderTempDir sets the TranscoderTempDirectory preference that
// GET /:/prefs reports ("" is Plex's default).
func (s *Server) SetTranscoderTempDir(dir string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tempDir = dir
}

// handlePrefs is GET /:/prefs: a few settings, the transcoder's temporary
// folder among them.
func (s *Server) handlePrefs(w http.ResponseWriter, r *http.Request) {
	if !onlyGET(w, r) {
		return
	}
	s.mu.Lock()
	dir := s.tempDir
	s.mu.Unlock()
	writeContainer(w, r, plex.PrefsContainer{Setting: []plex.Setting{
		{ID: "FriendlyName", Value: plex.PrefValue(s.opts.FriendlyName)},
		{ID: plex.PrefTranscoderTempDir, Value: plex.PrefValue(dir)},
	}})
}
