package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/plex"
	"go.uber.org/goleak"
)

// helperEnv makes the test binary act as a small helper instead of running
// tests: the permission tests re-run it as another user (nobody).
const helperEnv = "PLEXWARDEN_LOCAL_HELPER"

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "":
	case "kill":
		os.Exit(helperKill())
	case "scan":
		os.Exit(helperScan())
	case "scanlive":
		os.Exit(helperScanLive())
	default:
		fmt.Fprintln(os.Stderr, "unknown helper", os.Getenv(helperEnv))
		os.Exit(2)
	}
	goleak.VerifyTestMain(m)
}

// helperReport is what a helper prints as JSON.
type helperReport struct {
	Err        string      `json:"err"`
	Permission bool        `json:"permission"`
	Owner      string      `json:"owner"`
	Self       string      `json:"self"`
	Result     *KillResult `json:"result,omitempty"`
	Scan       *Scan       `json:"scan,omitempty"`
}

// helperKill tries to kill $PLEXWARDEN_LOCAL_PID and reports how it went.
func helperKill() int {
	pid, _ := strconv.Atoi(os.Getenv("PLEXWARDEN_LOCAL_PID"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := Kill(ctx, ProcID{PID: int32(pid)}, KillOptions{ForceAfter: time.Second})
	rep := helperReport{Result: &res}
	if err != nil {
		rep.Err = err.Error()
		var pe *PermissionError
		if errors.As(err, &pe) {
			rep.Permission, rep.Owner, rep.Self = errors.Is(err, ErrPermission), pe.Owner, pe.Self
		}
	}
	return emit(rep)
}

// helperScan scans once and prints the scan.
func helperScan() int {
	s := NewScanner(Options{SessionDirs: []string{os.Getenv("PLEXWARDEN_LOCAL_SESSIONS")}})
	sc, err := s.Scan(context.Background())
	rep := helperReport{Scan: sc}
	if err != nil {
		rep.Err = err.Error()
	}
	return emit(rep)
}

// helperScanLive scans twice linked to the Plex server of
// $PLEXWARDEN_LOCAL_PLEXURL (token "tok"), with no built-in session
// folders: the second scan knows the server's own (from its settings).
func helperScanLive() int {
	c, err := plex.NewClient(os.Getenv("PLEXWARDEN_LOCAL_PLEXURL"), "tok", plex.ClientInfo{ID: "localtest"})
	if err != nil {
		return emit(helperReport{Err: err.Error()})
	}
	defer c.HTTPClient().CloseIdleConnections()
	s := NewScanner(Options{Live: ClientSource{API: c, Server: "sim"}, SessionDirs: []string{}})
	var sc *Scan
	for range 2 {
		if sc, err = s.Scan(context.Background()); err != nil {
			return emit(helperReport{Err: err.Error()})
		}
	}
	return emit(helperReport{Scan: sc})
}

func emit(rep helperReport) int {
	if err := json.NewEncoder(os.Stdout).Encode(rep); err != nil {
		return 1
	}
	return 0
}
