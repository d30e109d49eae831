//go:build unix

package localtest

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// PlexName is the process name of Plex's transcoder on Linux.
const PlexName = "Plex Transcoder"

// Proc is a started process.
type Proc struct {
	Cmd  *exec.Cmd
	PID  int32
	Path string // the executable
	done chan struct{}
	once sync.Once
}

// Done is closed once the process has exited and been reaped.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has exited (and was reaped).
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// WaitExit waits up to d for the process to exit and reports whether it did.
func (p *Proc) WaitExit(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.done:
		return true
	case <-t.C:
		return false
	}
}

// Signal sends sig to the process (not its group).
func (p *Proc) Signal(sig syscall.Signal) error { return syscall.Kill(int(p.PID), sig) }

// Stop kills the whole process group with SIGKILL and waits for the
// process to be reaped. It is safe to call more than once.
func (p *Proc) Stop() {
	p.once.Do(func() {
		_ = syscall.Kill(-int(p.PID), syscall.SIGKILL)
	})
	<-p.done
}

// Start starts cmd in a new process group, reaps it in the background and
// registers a cleanup that kills the group and waits.
func Start(t testing.TB, cmd *exec.Cmd) *Proc {
	t.Helper()
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	for try := 0; ; try++ {
		err := cmd.Start()
		if err == nil {
			break
		}
		// A binary copied just now is "busy" while a fork made by another
		// goroutine still holds the inherited write descriptor until that
		// child execs (golang/go#22315). It passes within milliseconds.
		if !errors.Is(err, syscall.ETXTBSY) || try == 100 {
			t.Fatalf("start %s: %v", cmd.Path, err)
		}
		time.Sleep(10 * time.Millisecond)
		cmd = cloneCmd(cmd)
	}
	p := &Proc{Cmd: cmd, PID: int32(cmd.Process.Pid), Path: cmd.Path, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(p.Stop)
	return p
}

// cloneCmd returns an unstarted copy of cmd (a Cmd cannot be started twice).
func cloneCmd(c *exec.Cmd) *exec.Cmd {
	n := exec.Command(c.Path, c.Args[1:]...)
	n.Args = c.Args
	n.Dir, n.Env, n.SysProcAttr = c.Dir, c.Env, c.SysProcAttr
	n.Stdin, n.Stdout, n.Stderr = c.Stdin, c.Stdout, c.Stderr
	return n
}

// SharedDir returns a new temporary folder every user may read and enter
// (t.TempDir is private to the test's user), removed at cleanup. Binaries
// run as another user (nobody) must live in one.
func SharedDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "plexwarden-localtest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Binary copies the program src (symlinks followed) to dir/name with mode
// 0755 and returns the new path.
func Binary(t testing.TB, src, dir, name string) string {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatalf("copy %s: %v", src, err)
	}
	defer in.Close()
	dst := filepath.Join(dir, name)
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatalf("copy %s: %v", src, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		t.Fatalf("copy %s: %v", src, err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return dst
}

// ProgressURL is the -progressurl value Plex passes its transcoder.
func ProgressURL(base, key, uuid string) string {
	return fmt.Sprintf("%s/video/:/transcode/session/%s/%s/progress", strings.TrimRight(base, "/"), key, uuid)
}

// SessionDir creates and returns root/Transcode/Sessions/plex-transcode-<key>-<uuid>,
// the working directory Plex gives a playback transcoder.
func SessionDir(t testing.TB, root, key, uuid string) string {
	t.Helper()
	dir := filepath.Join(root, "Transcode", "Sessions", "plex-transcode-"+key+"-"+uuid)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// FakeOptions describes a stand-in transcoder that sleeps.
type FakeOptions struct {
	Name       string              // process name; default PlexName
	Dir        string              // where the binary copy goes; default a SharedDir
	Cwd        string              // working directory; default Dir
	Args       []string            // extra arguments (Plex markers: -progressurl URL …)
	IgnoreTERM bool                // the process ignores SIGTERM (only SIGKILL ends it)
	Credential *syscall.Credential // run as another user (needs root)
}

// Fake starts a copy of /bin/sh named opts.Name that runs "sleep 600"
// with opts.Args as its (ignored) positional arguments, so its argv
// carries whatever markers a test needs:
//
//	"<dir>/Plex Transcoder" -c "sleep 600; :" -progressurl http://…/transcode/session/<key>/<uuid>/progress
//
// The sleep is a child in the same process group; "; :" keeps the shell
// from replacing itself with it.
func Fake(t testing.TB, opts FakeOptions) *Proc {
	t.Helper()
	if opts.Name == "" {
		opts.Name = PlexName
	}
	if opts.Dir == "" {
		opts.Dir = SharedDir(t)
	}
	bin := filepath.Join(opts.Dir, opts.Name)
	if _, err := os.Stat(bin); err != nil {
		bin = Binary(t, "/bin/sh", opts.Dir, opts.Name)
	}
	script := "sleep 600; :"
	if opts.IgnoreTERM {
		// An ignored disposition is inherited by the sleep too.
		script = "trap '' TERM; sleep 600; :"
	}
	cmd := exec.Command(bin, append([]string{"-c", script}, opts.Args...)...)
	cmd.Dir = opts.Cwd
	if cmd.Dir == "" {
		cmd.Dir = opts.Dir
	}
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	if opts.Credential != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: opts.Credential}
	}
	p := Start(t, cmd)
	waitExec(t, p, opts.Name)
	if opts.IgnoreTERM {
		waitIgnored(t, p, syscall.SIGTERM)
	}
	return p
}

// waitIgnored waits until the process ignores sig: the shell runs its
// trap only some time after exec, and a signal sent before would still
// end it.
func waitIgnored(t testing.TB, p *Proc, sig syscall.Signal) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.PID))
		if err != nil {
			if !isLinux() { // no /proc: give the shell a moment
				time.Sleep(200 * time.Millisecond)
				return
			}
			t.Fatalf("PID %d: %v", p.PID, err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if hex, ok := strings.CutPrefix(line, "SigIgn:"); ok {
				if mask, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64); err == nil && mask&(1<<(uint(sig)-1)) != 0 {
					return
				}
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("PID %d never started ignoring %v", p.PID, sig)
}

// FFmpegOptions describes an ffmpeg encode of a synthetic source to HLS.
type FFmpegOptions struct {
	Name       string   // process name: "" runs ffmpeg itself, else a copy named so ("Plex Transcoder")
	Dir        string   // where a renamed copy goes; default a SharedDir
	Cwd        string   // working directory (Plex writes segments relative to it)
	Output     string   // playlist path, relative to Cwd or absolute; default "index.m3u8"
	Args       []string // extra output options placed before -f hls (e.g. -metadata title=<progress URL>)
	Credential *syscall.Credential
}

// FFmpegPath is the ffmpeg the helpers run.
func FFmpegPath() (string, error) { return exec.LookPath("ffmpeg") }

// FFmpeg starts ffmpeg encoding testsrc and a sine tone in real time
// (-re) with libx264 ultrafast into one-second HLS segments. It skips the
// test when ffmpeg is not installed.
func FFmpeg(t testing.TB, opts FFmpegOptions) *Proc {
	t.Helper()
	ff, err := FFmpegPath()
	if err != nil {
		t.Skip("ffmpeg not installed")
	}
	bin := ff
	name := "ffmpeg"
	if opts.Name != "" {
		if opts.Dir == "" {
			opts.Dir = SharedDir(t)
		}
		name = opts.Name
		bin = filepath.Join(opts.Dir, opts.Name)
		if _, err := os.Stat(bin); err != nil {
			bin = Binary(t, ff, opts.Dir, opts.Name)
		}
	}
	if opts.Output == "" {
		opts.Output = "index.m3u8"
	}
	args := []string{
		"-nostdin", "-hide_banner", "-loglevel", "error",
		"-re", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25",
		"-re", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-sc_threshold", "0",
		"-c:a", "aac",
	}
	args = append(args, opts.Args...)
	args = append(args, "-f", "hls", "-hls_time", "1", "-hls_list_size", "0", opts.Output)
	cmd := exec.Command(bin, args...)
	cmd.Dir = opts.Cwd
	if opts.Credential != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: opts.Credential}
	}
	p := Start(t, cmd)
	waitExec(t, p, name)
	return p
}

// waitExec waits until the child has exec'd (its name is the new one), so
// a scan right after start sees it.
func waitExec(t testing.TB, p *Proc, name string) {
	t.Helper()
	want := name
	if len(want) > 15 {
		want = want[:15]
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", p.PID))
		if err != nil { // not Linux, or gone: give exec a moment
			if p.Exited() {
				t.Fatalf("%s exited at start", name)
			}
			if os.IsNotExist(err) && !isLinux() {
				time.Sleep(100 * time.Millisecond)
				return
			}
		} else if strings.TrimSpace(string(b)) == want {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%s (PID %d) did not start", name, p.PID)
}

func isLinux() bool {
	_, err := os.Stat("/proc/self/comm")
	return err == nil
}
