package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/plex/plexsim"
)

// Two configured servers with their tokens in the (here in-memory)
// keyring: sessions lists both, --server NAME picks one, terminate finds
// the session on whichever server has it.
func TestTwoConfiguredServers(t *testing.T) {
	den := startSim(t, plexsim.Options{Token: "den-token", MachineID: "m-den", PlexPass: true})
	cabin := startSim(t, plexsim.Options{Token: "cabin-token", MachineID: "m-cabin", PlexPass: true})
	den.AddSession(plexsim.SessionSpec{User: "alice"})
	ref := cabin.AddSession(plexsim.SessionSpec{User: "bob", Transcode: &plexsim.TranscodeSpec{Video: "transcode"}})

	dir := t.TempDir()
	t.Setenv("PLEXWARDEN_CONFIG_DIR", dir)
	cfg := app.DefaultConfig()
	cfg.Servers = []app.ServerConfig{{Name: "Den", URL: den.URL(), MachineID: "m-den"}, {Name: "Cabin", URL: cabin.URL(), MachineID: "m-cabin"}}
	if err := app.SaveConfig(filepath.Join(dir, "config.json"), cfg); err != nil {
		t.Fatal(err)
	}
	secrets := app.NewMemoryStore()
	ctx := context.Background()
	_ = secrets.Set(ctx, "m-den", "den-token")
	_ = secrets.Set(ctx, "m-cabin", "cabin-token")
	runWith := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		code := Main(ctx, Env{Args: args, Stdout: &out, Stderr: &errb, Secrets: secrets, Getenv: func(string) string { return "" }})
		return code, out.String(), errb.String()
	}

	code, out, e := runWith("sessions", "--json")
	if code != 0 {
		t.Fatalf("sessions: exit %d, %s", code, e)
	}
	var got []app.Session
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	servers := map[string]string{}
	for _, s := range got {
		servers[s.User] = s.Server
	}
	if len(got) != 2 || servers["alice"] != "Den" || servers["bob"] != "Cabin" {
		t.Errorf("sessions = %v, want alice on Den and bob on Cabin", servers)
	}

	code, out, _ = runWith("sessions", "--server", "Cabin")
	if code != 0 || !strings.Contains(out, "bob") || strings.Contains(out, "alice") {
		t.Errorf("--server Cabin: exit %d\n%s", code, out)
	}
	code, out, e = runWith("terminate", ref.ID, "--message", "bye")
	if code != 0 || !strings.Contains(out, "on Cabin") {
		t.Fatalf("terminate: exit %d, out %q, err %q", code, out, e)
	}
	if calls := cabin.Calls(); len(calls) != 1 || calls[0].SessionID != ref.ID {
		t.Errorf("cabin calls = %+v", calls)
	}
	if code, _, e := runWith("sessions", "--server", "Nowhere"); code == 0 || !strings.Contains(e, `no configured server is named "Nowhere"`) {
		t.Errorf("unknown name: exit %d, %q", code, e)
	}
	// One server down: the other is still listed, the failure is reported,
	// and the exit code says it was partial.
	den.Close()
	code, out, e = runWith("sessions")
	if code != ExitPartial || !strings.Contains(out, "Nothing is playing") && !strings.Contains(out, "bob") || !strings.Contains(e, "Den") {
		t.Errorf("one server down: exit %d, out %q, err %q", code, out, e)
	}
}
