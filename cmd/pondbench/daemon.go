package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// server is a FUSE server the bench started: pondd, or the reference
// in-memory file system (pondbench memfs). The bench drives its mount
// from this process; the server never touches its own mount.
type server struct {
	name string
	dir  string // the mount point
	cmd  *exec.Cmd
	log  bytes.Buffer
	done chan struct{}
}

// startPondd starts pondd on dir with flags and waits until the tree
// answers.
func startPondd(pondd, dir string, flags ...string) (*server, error) {
	return startServer("pondd", dir, exec.Command(pondd, append([]string{"--mount", dir}, flags...)...))
}

// startMemfs starts the reference file system on dir, with args (the
// number of entries of its dir/), and waits until it answers.
func startMemfs(dir string, args ...string) (*server, error) {
	return startServer("memfs", dir, exec.Command("/proc/self/exe", append([]string{"memfs", dir}, args...)...))
}

func startServer(name, dir string, cmd *exec.Cmd) (*server, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	s := &server{name: name, dir: dir, cmd: cmd, done: make(chan struct{})}
	cmd.Stderr = &s.log
	// Should the bench die, its servers unmount and go with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		cmd.Wait()
		close(s.done)
	}()
	deadline := time.Now().Add(15 * time.Second)
	for {
		// An open reaches the daemon, where a stat might be answered
		// from the kernel's cache; the directory has no stats unmounted.
		if f, err := os.Open(filepath.Join(dir, "stats")); err == nil {
			f.Close()
			return s, nil
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("%s exited while starting: %s", name, strings.TrimSpace(s.log.String()))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("%s did not answer on %s in 15s", name, dir)
		}
	}
}

// pid is the server's process id.
func (s *server) pid() int { return s.cmd.Process.Pid }

// stop signals the server to unmount and exit and waits for it; one that
// does not go in 15 s is killed and its mount detached. It returns an
// error when the server had to be forced or left its mount.
func (s *server) stop() error {
	s.cmd.Process.Signal(syscall.SIGTERM)
	var err error
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
		err = fmt.Errorf("%s did not stop on SIGTERM in 15s: killed", s.name)
	}
	if unix.Unmount(s.dir, unix.MNT_DETACH) == nil {
		err = errors.Join(err, fmt.Errorf("%s left %s mounted: detached", s.name, s.dir))
	}
	if st := s.cmd.ProcessState; err == nil && st != nil && !st.Success() {
		err = fmt.Errorf("%s exited with %v after SIGTERM: %s", s.name, st, strings.TrimSpace(s.log.String()))
	}
	return err
}

// oneLine is text on one line, its words a space apart.
func oneLine(text []byte) string { return strings.Join(strings.Fields(string(text)), " ") }

// residentMiB is the resident memory (VmRSS) of the process pid, in MiB.
func residentMiB(pid int) (float64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	_, rest, _ := strings.Cut(string(data), "\nVmRSS:")
	var kb float64
	if _, err := fmt.Sscan(rest, &kb); err != nil {
		return 0, fmt.Errorf("/proc/%d/status: VmRSS: %w", pid, err)
	}
	return kb / 1024, nil
}

// arenaPath is a path to pondd's arena memfd through /proc: opening it
// opens the memfd itself, as the daemon's own descriptor does.
func arenaPath(pid int) (string, error) {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	for _, e := range ents {
		target, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err == nil && strings.HasPrefix(target, "/memfd:pond") {
			return filepath.Join(dir, e.Name()), nil
		}
	}
	return "", fmt.Errorf("pondd (pid %d) holds no /memfd:pond descriptor", pid)
}

// allocated is how many bytes of memory the file at path holds: for a
// memfd, the pages it has (hole punching takes them away).
func allocated(path string) (int64, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0, err
	}
	return st.Blocks * 512, nil
}

// cpuOf is the CPU time the process pid has used so far, summed over its
// threads (from /proc/PID/task/*/schedstat, in nanoseconds).
func cpuOf(pid int) time.Duration {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	var total int64
	for _, t := range tasks {
		data, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		var ns int64
		if _, err := fmt.Sscan(string(data), &ns); err == nil {
			total += ns
		}
	}
	return time.Duration(total)
}
