package plexsim

import (
	"encoding/json"
	"fmt"
)

// Background emits what a real server's feed carries besides playback, as
// published captures show (plex/testdata/real): an "activity" event of a
// library refresh (every call), a "log" line (which only streams that ask
// for log receive), and every fourth call an "update.statechange". Clients
// that subscribe to everything must skip them; the demo mixes them in.
func (s *Server) Background() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bgCount++
	uuid := fmt.Sprintf("%08x-2873-4381-9760-%012x", s.bgCount, hashNum(fmt.Sprint("activity", s.bgCount), 1<<48))
	act := map[string]any{"ActivityNotification": map[string]any{
		"event": "updated", "uuid": uuid,
		"Activity": map[string]any{"uuid": uuid, "type": "library.refresh.items", "cancellable": false, "userID": 1,
			"title": "Refreshing", "subtitle": "Checking files", "progress": (s.bgCount * 17) % 100,
			"Context": map[string]any{"key": "/library/sections/1"}},
	}}
	s.broadcastLocked("activity", mustJSON(act), false)
	s.broadcastLocked("log", mustJSON(map[string]any{"LogSentNotification": map[string]any{
		"level": 3, "message": "Request: [127.0.0.1:54321 (Loopback)] GET /status/sessions", "source": "Plex Media Server"}}), false)
	if s.bgCount%4 == 0 {
		s.broadcastLocked("update.statechange", mustJSON(map[string]any{"AutoUpdateNotification": map[string]any{
			"key": "", "version": "", "state": "done"}}), false)
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return []byte("{}")
	}
	return b
}
