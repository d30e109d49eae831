package app

import (
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/plex"
)

func TestSampleOf(t *testing.T) {
	now := time.Date(2026, 12, 4, 20, 0, 0, 0, time.UTC)
	sn := Snapshot{Server: "home"}.WithSessions([]Session{
		{Location: "lan", BandwidthKbps: 8000, Decision: plex.Transcode},
		{Location: "wan", BandwidthKbps: 3000, Decision: plex.DirectPlay},
		{Player: Player{Address: "203.0.113.7"}, BandwidthKbps: 1000, Decision: plex.Transcode},
		{Location: "lan", BandwidthKbps: 9999, Decision: plex.Transcode, Leaving: LeavingTerminated},
	}...)
	got := SampleOf(sn, now)
	want := TrafficSample{Time: now, LANKbps: 8000, WANKbps: 4000, Streams: 3, Transcodes: 2}
	if got != want {
		t.Errorf("SampleOf = %+v, want %+v", got, want)
	}
}

func TestTrafficRing(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 20, 0, 0, 0, time.UTC)
	at := func(d time.Duration, kbps int64, tc int) TrafficSample {
		return TrafficSample{Time: t0.Add(d), LANKbps: kbps, Transcodes: tc}
	}
	tests := []struct {
		name string
		add  []TrafficSample
		now  time.Duration
		want []TrafficSample
	}{
		{"in order", []TrafficSample{at(0, 1, 0), at(10*time.Second, 2, 1)}, 20 * time.Second,
			[]TrafficSample{at(0, 1, 0), at(10*time.Second, 2, 1)}},
		{"one step keeps the peaks and the later time", []TrafficSample{at(0, 5, 0), at(3*time.Second, 2, 2)}, 10 * time.Second,
			[]TrafficSample{{Time: t0.Add(3 * time.Second), LANKbps: 5, Transcodes: 2}}},
		{"an older sample is ignored", []TrafficSample{at(20*time.Second, 1, 0), at(0, 9, 9)}, 30 * time.Second,
			[]TrafficSample{at(20*time.Second, 1, 0)}},
		{"older than the window is dropped", []TrafficSample{at(0, 1, 0), at(50*time.Second, 2, 0)}, 70 * time.Second,
			[]TrafficSample{at(50*time.Second, 2, 0)}},
		{"the ring overwrites the oldest", []TrafficSample{at(0, 1, 0), at(10*time.Second, 2, 0), at(20*time.Second, 3, 0),
			at(30*time.Second, 4, 0), at(40*time.Second, 5, 0), at(50*time.Second, 6, 0), at(60*time.Second, 7, 0)}, 60 * time.Second,
			[]TrafficSample{at(10*time.Second, 2, 0), at(20*time.Second, 3, 0), at(30*time.Second, 4, 0),
				at(40*time.Second, 5, 0), at(50*time.Second, 6, 0), at(60*time.Second, 7, 0)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := NewTraffic(time.Minute, 10*time.Second) // six slots
			for _, s := range tt.add {
				tr.Add("home", s)
			}
			got := tr.Samples("home", t0.Add(tt.now))
			if len(got) != len(tt.want) {
				t.Fatalf("got %d samples %+v, want %d %+v", len(got), got, len(tt.want), tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("sample %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
			if other := tr.Samples("other", t0.Add(tt.now)); other != nil {
				t.Errorf("another server's samples = %+v, want none", other)
			}
		})
	}
}
