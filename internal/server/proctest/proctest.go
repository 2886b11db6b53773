// Package proctest runs the real luma binary as a child process for crash
// and restart tests: build once per test binary (or take LUMA_BIN), start
// on a free loopback port, wait for health, stop with SIGTERM or SIGKILL.
package proctest

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Binary returns the path of the luma binary: $LUMA_BIN if set, else one
// built from ./cmd/luma into a temporary directory (once per process).
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		if p := os.Getenv("LUMA_BIN"); p != "" {
			binPath, buildErr = filepath.Abs(p)
			return
		}
		dir, err := os.MkdirTemp("", "luma-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "luma")
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..", "..")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/luma")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatalf("luma binary: %v", buildErr)
	}
	return binPath
}

// Proc is a running server process.
type Proc struct {
	t    testing.TB
	cmd  *exec.Cmd
	URL  string
	Port int
	log  *syncBuffer
	done chan struct{}
	mu   sync.Mutex
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Start runs `luma --data-dir dir --port <free> args...` and waits until
// /v1/health answers. The process is killed when the test ends.
func Start(t testing.TB, dir string, args ...string) *Proc {
	t.Helper()
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		p, err := start(t, dir, FreePort(t), args...)
		if err == nil {
			return p
		}
		lastErr = err
	}
	t.Fatalf("start luma: %v", lastErr)
	return nil
}

// StartOnPort is Start on a given port (to restart where clients expect it).
func StartOnPort(t testing.TB, dir string, port int, args ...string) *Proc {
	t.Helper()
	p, err := start(t, dir, port, args...)
	if err != nil {
		t.Fatalf("start luma: %v", err)
	}
	return p
}

func start(t testing.TB, dir string, port int, args ...string) (*Proc, error) {
	all := append([]string{"--data-dir", dir, "--port", strconv.Itoa(port), "--logs", "warning"}, args...)
	cmd := exec.Command(Binary(t), all...)
	cmd.Env = append(os.Environ(), "LUMA_API_KEY=", "API_KEY=", "RUSTKISS_API_KEY=")
	p := &Proc{t: t, cmd: cmd, Port: port, URL: fmt.Sprintf("http://127.0.0.1:%d", port), log: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout = p.log
	cmd.Stderr = p.log
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(p.Kill)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return nil, fmt.Errorf("exited during start-up: %s", p.log.String())
		default:
		}
		resp, err := http.Get(p.URL + "/v1/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p, nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.Kill()
	return nil, fmt.Errorf("no health answer within 30s: %s", p.log.String())
}

// Kill sends SIGKILL and waits for the process to exit.
func (p *Proc) Kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Stop sends SIGTERM and waits (graceful shutdown); it fails the test if
// the process does not exit within 10 s or exits non-zero.
func (p *Proc) Stop() {
	p.t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.Kill()
		p.t.Fatalf("luma did not stop within 10s after SIGTERM: %s", p.log.String())
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		p.t.Fatalf("luma exited with %d: %s", code, p.log.String())
	}
}

// syncBuffer is a bytes.Buffer safe for the process's writer and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Log returns what the process printed.
func (p *Proc) Log() string { return p.log.String() }
