package cli

import (
	"debug/buildinfo"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
)

// headlessName is the file name of the build without the desktop app
// (make build-headless), which `make install` and the .deb put beside the
// full binary.
const headlessName = "plexwarden-headless"

// noDelegateEnv, set to anything, keeps `watch` in the full binary.
const noDelegateEnv = "PLEXWARDEN_NO_DELEGATE"

// delegateWatch runs `watch` in the build without the desktop app when the
// full binary is asked for it: it replaces this process (same PID, same
// arguments and environment, token included, never in the arguments) with
// plexwarden-headless from the same folder, if that file is the headless
// build of the same version for this system. The commands are the same
// code; what differs is memory: the full binary's 40 MB of code and data,
// most of it the desktop app's, end up mapped into the process, so its
// `watch` holds 27–35 MB where the headless build's holds 13–16 MB
// (docs/BENCHMARKS.md, "Scale"). It returns only when it did not replace
// the process (no such file, another version, noDelegateEnv set, Windows,
// or the exec failed); the caller then runs watch itself.
func delegateWatch(version string, args []string, getenv func(string) string) {
	if len(args) == 0 || args[0] != "watch" || getenv(noDelegateEnv) != "" || !canExec {
		return
	}
	exe, err := os.Executable()
	if err != nil {
		return
	}
	if exe, err = filepath.EvalSymlinks(exe); err != nil {
		return
	}
	path, err := headlessBeside(exe, version)
	if err != nil {
		return
	}
	_ = execve(path, append([]string{path}, args...), os.Environ())
}

// headlessBeside returns the headless build in exe's folder if it is the
// build of version for this system, or why not.
func headlessBeside(exe, version string) (string, error) {
	path := filepath.Join(filepath.Dir(exe), headlessName)
	if runtime.GOOS == "windows" {
		path += ".exe"
	}
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		return "", err
	}
	set := map[string]string{}
	for _, s := range bi.Settings {
		set[s.Key] = s.Value
	}
	switch {
	case !slices.Contains(strings.Split(set["-tags"], ","), "headless"):
		return "", errors.New("not the headless build")
	case set["GOOS"] != runtime.GOOS || set["GOARCH"] != runtime.GOARCH:
		return "", fmt.Errorf("built for %s/%s", set["GOOS"], set["GOARCH"])
	case ldVersion(set["-ldflags"]) != version || version == "":
		return "", fmt.Errorf("version %q, not %q", ldVersion(set["-ldflags"]), version)
	}
	return path, nil
}

// ldVersion is the main.version a build's -ldflags set ("" if none).
func ldVersion(ldflags string) string {
	for _, f := range strings.Fields(strings.Trim(ldflags, `"'`)) {
		if v, ok := strings.CutPrefix(strings.Trim(f, `"'`), "main.version="); ok {
			return v
		}
	}
	return ""
}
