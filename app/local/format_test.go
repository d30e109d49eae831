package local

import (
	"testing"
	"time"
)

func TestFormatBytes(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0 B"},
		{812, "812 B"},
		{1536, "1.5 KiB"},
		{3355443, "3.2 MiB"},
		{1181116006, "1.1 GiB"},
	}
	for _, tt := range tests {
		if got := FormatBytes(tt.n); got != tt.want {
			t.Errorf("FormatBytes(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestFormatUptime(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{42 * time.Second, "42s"},
		{5*time.Minute + 12*time.Second, "5m12s"},
		{2*time.Hour + 5*time.Minute, "2h05m"},
		{76 * time.Hour, "3d04h"},
	}
	for _, tt := range tests {
		if got := FormatUptime(tt.d); got != tt.want {
			t.Errorf("FormatUptime(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestLabels(t *testing.T) {
	now := t0.Add(time.Hour)
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"cpu unsampled", (&Transcoder{}).FormatCPU(), "-"},
		{"cpu", (&Transcoder{CPUPercent: 87.4, CPUSampled: true}).FormatCPU(), "87%"},
		{"activity", Output{Known: true, Segments: 14, Bytes: 3355443, Newest: now.Add(-time.Second)}.Activity(now), "14 segments · 3.2 MiB · 1s ago"},
		{"single file", Output{Known: true, File: "/o.mp4", Bytes: 2048, Newest: now.Add(-time.Minute)}.Activity(now), "2.0 KiB · 1m00s ago"},
		{"nothing yet", Output{Known: true}.Activity(now), "0 segments · 0 B · nothing written"},
		{"not measurable", Output{Err: "permission denied"}.Activity(now), "not measurable (permission denied)"},
		{"orphan", (&Transcoder{Link: LinkOrphan, LinkSince: now.Add(-45 * time.Second)}).LinkLabel(now), "orphan for 45s"},
		{"linked", (&Transcoder{Link: LinkLinked}).LinkLabel(now), "linked"},
		{"external", (&Transcoder{Link: LinkExternal}).LinkLabel(now), "not a Plex job"},
		{"who", (&Session{User: "alice", Title: "Night Harbor", Player: "Roku"}).Who(), "alice · Night Harbor · Roku"},
		{"summary", (&Scan{Transcoders: []Transcoder{{CPUPercent: 100, Link: LinkOrphan}, {CPUPercent: 35}}}).Summary(), "2 local transcoders · 135% CPU · 1 orphan"},
		{"summary one", (&Scan{Transcoders: []Transcoder{{CPUPercent: 12.4}}}).Summary(), "1 local transcoder · 12% CPU"},
		{"summary none", (&Scan{}).Summary(), ""},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
	var nilScan *Scan
	if nilScan.Count() != 0 || nilScan.TotalCPU() != 0 || nilScan.Find(1) != nil || nilScan.Summary() != "" {
		t.Error("a nil Scan is not empty")
	}
}
