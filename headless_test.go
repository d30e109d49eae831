package main

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestHeadlessBuild checks the headless variant that `make
// build-headless` builds (CGO_ENABLED=0, -tags headless; main_headless.go
// instead of main.go): it links neither Fyne nor the desktop packages, it
// is a static executable, and its command line works. make smoke builds it
// and points PLEXWARDEN_HEADLESS at it (after the rest of the suite, so its
// cold build does not compete with timing-sensitive tests); without the
// variable the test is skipped.
func TestHeadlessBuild(t *testing.T) {
	bin := os.Getenv("PLEXWARDEN_HEADLESS")
	if bin == "" {
		t.Skip("set PLEXWARDEN_HEADLESS to the headless binary (make smoke does)")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal("the go command is not on PATH")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	list := exec.CommandContext(ctx, gobin, "list", "-tags", "headless", "-deps", ".")
	list.Env = append(os.Environ(), "CGO_ENABLED=0")
	var listErr bytes.Buffer
	list.Stderr = &listErr
	deps, err := list.Output()
	if err != nil {
		t.Fatalf("go list -tags headless -deps .: %v\n%s", err, listErr.Bytes())
	}
	for _, pkg := range strings.Fields(string(deps)) {
		if strings.HasPrefix(pkg, "fyne.io/") || strings.HasPrefix(pkg, "github.com/go-gl/") ||
			pkg == "github.com/plexwarden/plexwarden/ui" || pkg == "github.com/plexwarden/plexwarden/app/desktop" {
			t.Errorf("the headless build imports %s", pkg)
		}
	}

	if runtime.GOOS == "linux" {
		f, err := elf.Open(bin)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Errorf("the headless binary is dynamically linked (it has a program interpreter)")
			}
		}
		if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
			t.Errorf("the headless binary needs shared libraries: %v", libs)
		}
		f.Close()
	}

	// run starts the binary with args in an empty configuration directory
	// and returns its exit code, stdout and stderr.
	run := func(args ...string) (int, string, string) {
		t.Helper()
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(rctx, bin, args...)
		cmd.Env = append(os.Environ(), "PLEXWARDEN_CONFIG_DIR="+t.TempDir(), "PLEX_URL=", "PLEX_TOKEN=")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		switch {
		case err == nil:
			return 0, stdout.String(), stderr.String()
		case errors.As(err, &exit) && exit.Exited():
			return exit.ExitCode(), stdout.String(), stderr.String()
		}
		t.Fatalf("plexwarden-headless %s: %v\n%s%s", strings.Join(args, " "), err, stdout.Bytes(), stderr.Bytes())
		return 0, "", ""
	}

	want := "plexwarden " + os.Getenv("PLEXWARDEN_VERSION") + "\n" // the version make built it with
	if code, out, errOut := run("version"); code != 0 || out != want {
		t.Errorf("version: exit %d, stdout %q, stderr %q; want exit 0 and %q", code, out, errOut, want)
	}
	if code, out, errOut := run("watch", "--help"); code != 0 || !strings.Contains(out+errOut, "Usage: plexwarden watch") ||
		!strings.Contains(out+errOut, "-dry-run") {
		t.Errorf("watch --help: exit %d, stdout %q, stderr %q; want exit 0 and watch's usage", code, out, errOut)
	}
	if code, out, errOut := run(); code != 1 || !strings.Contains(errOut, "no desktop app") {
		t.Errorf("no command: exit %d, stdout %q, stderr %q; want exit 1 and \"no desktop app\"", code, out, errOut)
	}
}
