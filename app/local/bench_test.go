//go:build unix

package local

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/plexwarden/plexwarden/app/local/localtest"
	"github.com/plexwarden/plexwarden/plex/plexsim"
)

// BenchmarkScan measures one full scan of a machine with a few hundred
// processes: 300 sleeps started here, plus three stand-in Plex
// transcoders, each with a session folder of 60 segments. Scans after the
// first reuse CPU baselines and folder listings, as Run does.
// Results: docs/BENCHMARKS.md, "Local transcoder scan".
func BenchmarkScan(b *testing.B) {
	for range 300 {
		localtest.Start(b, exec.Command("sleep", "600"))
	}
	sim := plexsim.New(plexsim.Options{Token: "tok"})
	if err := sim.Start("127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { sim.Close() })
	root := localtest.SharedDir(b)
	for i := range 3 {
		ref := sim.AddSession(plexsim.SessionSpec{User: fmt.Sprint("user", i), Transcode: &plexsim.TranscodeSpec{Video: "transcode"}})
		dir := localtest.SessionDir(b, root, ref.TranscodeKey, jobUUID)
		for j := range 60 {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("chunk-stream0-%05d.m4s", j)), make([]byte, 4096), 0o644); err != nil {
				b.Fatal(err)
			}
		}
		localtest.Fake(b, localtest.FakeOptions{Dir: root, Cwd: dir,
			Args: []string{"-progressurl", localtest.ProgressURL(sim.URL(), ref.TranscodeKey, jobUUID)}})
	}
	_, src := startSimSource(b, sim)

	for _, bc := range []struct {
		name string
		opts Options
	}{
		{"keys-only", Options{}},
		{"linked", Options{Live: src}}, // plus /status/sessions and /transcode/sessions over loopback
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := NewScanner(bc.opts)
			ctx := context.Background()
			if _, err := s.Scan(ctx); err != nil { // baselines, folder caches
				b.Fatal(err)
			}
			var last *Scan
			b.ReportAllocs()
			for b.Loop() {
				sc, err := s.Scan(ctx)
				if err != nil {
					b.Fatal(err)
				}
				last = sc
			}
			b.ReportMetric(float64(last.Processes), "procs/scan")
			b.ReportMetric(float64(last.Count()), "transcoders/scan")
		})
	}
}
