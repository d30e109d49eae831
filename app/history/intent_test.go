package history

import (
	"os"
	"strconv"
	"testing"
	"time"
)

// deadPID returns the id of a process that has ended.
func deadPID(t *testing.T) int {
	t.Helper()
	for pid := 999_999; pid > 900_000; pid-- {
		if !processAlive(pid) {
			return pid
		}
	}
	t.Skip("no free process id found")
	return 0
}

// TestIntents: an intent completed by its outcome is closed; one left by a
// dead process is open, hidden from Read, and ResolveOpenIntents closes
// it once with "sent, result unknown"; one of a live process is left alone.
func TestIntents(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	dead := strconv.Itoa(deadPID(t)) + "-aaaa"
	live := strconv.Itoa(os.Getppid()) + "-bbbb"
	recs := []Record{
		{Time: at, Kind: KindRule, SessionID: "done1", Action: "terminate", Outcome: OutcomeSending, Intent: "1-done"},
		{Time: at, Kind: KindRule, SessionID: "done1", Action: "terminate", Outcome: "done", Intent: "1-done"},
		{Time: at, Kind: KindRule, SessionID: "crashed", User: "alice", Action: "terminate", Outcome: OutcomeSending, Intent: dead},
		{Time: at, Kind: KindRule, SessionID: "busy", Action: "terminate", Outcome: OutcomeSending, Intent: live},
	}
	for _, r := range recs {
		if err := s.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	open, err := OpenIntents(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(open) != 2 || open[0].SessionID != "crashed" || open[1].SessionID != "busy" {
		t.Fatalf("OpenIntents = %+v, want crashed and busy", open)
	}
	res, err := Read(dir, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Records) != 1 || res.Records[0].Outcome != "done" {
		t.Errorf("Read = %+v, want only the done record (intents are bookkeeping)", res.Records)
	}
	closed, err := s.ResolveOpenIntents()
	if err != nil {
		t.Fatal(err)
	}
	if len(closed) != 1 || closed[0].SessionID != "crashed" || closed[0].Outcome != OutcomeSentUnknown || closed[0].User != "alice" {
		t.Fatalf("ResolveOpenIntents = %+v, want the crashed one as %q", closed, OutcomeSentUnknown)
	}
	again, _ := s.ResolveOpenIntents()
	if len(again) != 0 {
		t.Errorf("second ResolveOpenIntents = %+v, want nothing (closed once)", again)
	}
	res, _ = Read(dir, Filter{Outcome: OutcomeSentUnknown})
	if len(res.Records) != 1 {
		t.Errorf("records sent, result unknown = %d, want 1", len(res.Records))
	}
}
