package app

import (
	"strings"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/plex"
	"github.com/plexwarden/plexwarden/plex/plexsim"
)

// TestMonitorSeesBandwidthChange: no event carries bandwidth; a player's
// next report re-reads the list (at most every Refresh), so the change
// shows within Refresh plus one report, not at the next reconcile.
func TestMonitorSeesBandwidthChange(t *testing.T) {
	sim := startSim(t, plexsim.Options{})
	ref := sim.AddSession(plexsim.SessionSpec{User: "ann", BandwidthKbps: 4000})
	rm := startMonitor(t, sim, simToken, func(c *MonitorConfig, _ *plex.Feed) { c.Refresh = 200 * time.Millisecond })
	waitUntil(t, "the session", 3*time.Second, func() bool { _, ok := rm.session(ref.Key); return ok })
	if err := sim.SetBandwidth(ref.Key, 25000); err != nil {
		t.Fatal(err)
	}
	time.Sleep(250 * time.Millisecond)
	sim.Advance(time.Second) // the player's next report
	waitUntil(t, "the new bandwidth", 2*time.Second, func() bool {
		s, _ := rm.session(ref.Key)
		return s.BandwidthKbps == 25000
	})
}

// TestMonitorSourceFromLibrary: a transcoding session's source comes from
// /library/metadata (the list describes the output), once per item.
func TestMonitorSourceFromLibrary(t *testing.T) {
	sim := startSim(t, plexsim.Options{})
	ref := sim.AddSession(plexsim.SessionSpec{User: "bo", Title: "Dune", Resolution: "4k", VideoCodec: "hevc", BitrateKbps: 30000,
		Versions:  []plexsim.VersionSpec{{Resolution: "1080", BitrateKbps: 8000}},
		Transcode: &plexsim.TranscodeSpec{Video: plexsim.DecisionTranscode, TargetHeight: 1080}})
	rm := startMonitor(t, sim, simToken, nil)
	var s Session
	// Listed at once, then again with its source once the library answered.
	waitUntil(t, "the session with its source read", 3*time.Second, func() bool {
		var ok bool
		s, ok = rm.session(ref.Key)
		return ok && !s.SourcePending
	})
	if s.SourceResolution != "4K" || s.SourceVideoCodec != "hevc" || s.BitrateKbps != 30000 || !s.SourceKnown ||
		s.TargetResolution != "1080p" || s.TargetVideoCodec != "h264" || s.TargetBitrateKbps != 8000 {
		t.Errorf("session source %s %s %d kbps (known %v) → target %s %s %d kbps; want 4K hevc 30000 (known) → 1080p h264 8000",
			s.SourceResolution, s.SourceVideoCodec, s.BitrateKbps, s.SourceKnown, s.TargetResolution, s.TargetVideoCodec, s.TargetBitrateKbps)
	}
	rm.mon.Resync()
	rm.mon.Resync()
	time.Sleep(200 * time.Millisecond)
	n := 0
	for _, r := range sim.Requests() {
		if strings.HasPrefix(r.Path, "/library/metadata/") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d library requests for one item over three fetches, want 1 (cached)", n)
	}
}

// TestMonitorLeaving: a session Plex still lists after we terminated it,
// or after its player started a newer one, is marked leaving; a stopped
// one is not brought back by the list.
func TestMonitorLeaving(t *testing.T) {
	sim := startSim(t, plexsim.Options{PlexPass: true})
	player := plexsim.PlayerSpec{MachineID: "tv-1"}
	a := sim.AddSession(plexsim.SessionSpec{User: "cy", Player: player, Type: "episode", Show: "S", Title: "One", SilentStop: true})
	rm := startMonitor(t, sim, simToken, nil)
	waitUntil(t, "the session", 3*time.Second, func() bool { _, ok := rm.session(a.Key); return ok })
	next, err := sim.NextEpisode(a.Key)
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "old replaced, new playing", 3*time.Second, func() bool {
		old, ok1 := rm.session(a.Key)
		nw, ok2 := rm.session(next.Key)
		return ok1 && ok2 && old.Leaving == LeavingReplaced && nw.Leaving == ""
	})

	rm.mon.MarkLeaving("sim/"+next.Key, LeavingTerminated)
	waitUntil(t, "marked terminated", 3*time.Second, func() bool { s, _ := rm.session(next.Key); return s.Leaving == LeavingTerminated })

	// A stopped session (its stop reported) is gone, though still listed.
	b := sim.AddSession(plexsim.SessionSpec{User: "dee", Player: plexsim.PlayerSpec{MachineID: "web-9"}})
	waitUntil(t, "b", 3*time.Second, func() bool { _, ok := rm.session(b.Key); return ok })
	_ = sim.EndSession(b.Key)
	waitUntil(t, "b gone", 3*time.Second, func() bool { _, ok := rm.session(b.Key); return !ok })
	rm.mon.Resync()
	time.Sleep(200 * time.Millisecond)
	if _, ok := rm.session(b.Key); ok {
		t.Error("a stopped session came back from the list Plex still shows it in")
	}
}

// TestMonitorNewSessionNotHeldBack: the fetch pacing bounds floods, but a
// new session right after an ordinary fetch (a terminate's resync) is
// fetched at once, not after MinFetchInterval.
func TestMonitorNewSessionNotHeldBack(t *testing.T) {
	sim := startSim(t, plexsim.Options{})
	rm := startMonitor(t, sim, simToken, func(c *MonitorConfig, _ *plex.Feed) { c.MinFetchInterval = 2 * time.Second })
	waitUntil(t, "connected", 3*time.Second, func() bool { return rm.mon.Snapshot().Conn.Status == Connected })
	n := rm.mon.Fetches()
	rm.mon.Resync()
	waitUntil(t, "the resync", 3*time.Second, func() bool { return rm.mon.Fetches() > n })
	time.Sleep(50 * time.Millisecond)
	t0 := time.Now()
	ref := sim.AddSession(plexsim.SessionSpec{User: "newcomer"})
	waitUntil(t, "the new session", 3*time.Second, func() bool { _, ok := rm.session(ref.Key); return ok })
	if d := time.Since(t0); d > time.Second {
		t.Errorf("the new session showed after %v, want at once (not held back by the pacing of 2 s)", d.Round(time.Millisecond))
	}
}
