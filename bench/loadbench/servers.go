package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// proc is a server child process the tool started and owns.
type proc struct {
	name    string
	cmd     *exec.Cmd
	exited  chan struct{} // closed when Wait returned
	waitErr error
	logPath string
}

// startProc runs bin with args in the directory of logPath (so a server
// does not pick up a .env file from the caller's directory), pinned with
// taskset when cpus is set, stdout and stderr written to logPath.
func startProc(name, cpus, logPath, bin string, args ...string) (*proc, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	if cpus != "" {
		// taskset execs the program, so the pid stays the server's.
		args = append([]string{"-c", cpus, bin}, args...)
		bin = "taskset"
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = filepath.Dir(logPath)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, exited: make(chan struct{}), logPath: logPath}
	go func() {
		p.waitErr = cmd.Wait()
		logf.Close()
		close(p.exited)
	}()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// alive reports an error if the process has already exited.
func (p *proc) alive() error {
	select {
	case <-p.exited:
		return fmt.Errorf("%s exited (%v); its log %s ends with:\n%s", p.name, p.waitErr, p.logPath, tailFile(p.logPath, 2000))
	default:
		return nil
	}
}

// signal sends sig to the process if it is still running.
func (p *proc) signal(sig os.Signal) error {
	if err := p.alive(); err != nil {
		return err
	}
	return p.cmd.Process.Signal(sig)
}

// stop asks the process to exit (SIGTERM) and kills it after grace.
func (p *proc) stop(grace time.Duration) error {
	select {
	case <-p.exited:
		return p.waitErr
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return nil
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.exited
		return fmt.Errorf("%s did not exit within %s of SIGTERM; killed", p.name, grace)
	}
}

// cpuTime is the user+system CPU time the process has used so far, from
// /proc/<pid>/stat (all threads; 10 ms resolution).
func (p *proc) cpuTime() time.Duration {
	return procCPU(p.pid())
}

func procCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	// After the command name: state is field 3 of stat(5), utime 14, stime 15.
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / clockTicks
}

// clockTicks is USER_HZ, 100 on every Linux configuration Go supports.
const clockTicks = 100

func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// freePort asks the kernel for an unused loopback port. Another process can
// take it before the server binds it; the servers then exit at once, which
// waitReady reports.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// lumaServer is one Luma process with its own data directory.
type lumaServer struct {
	*proc
	base string // http://127.0.0.1:<port>
	dir  string
}

// startLuma starts the Luma binary bin on a fresh data directory under
// parent. With profile set it runs this binary's in-process harness (serve
// subcommand) instead, writing a CPU profile there for the window the tool
// marks with SIGUSR1/SIGUSR2.
func startLuma(cfg *config, bin, parent, tag, profile string) (*lumaServer, error) {
	dir, err := os.MkdirTemp(parent, "luma-"+tag+"-")
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	args := []string{"--data-dir", filepath.Join(dir, "data"), "--port", strconv.Itoa(port), "--logs", "warn"}
	args = append(args, cfg.lumaExtra...)
	if profile != "" {
		self, err := os.Executable()
		if err != nil {
			return nil, err
		}
		bin = self
		pre := []string{"serve", "-cpuprofile", profile}
		if cfg.ProfileContention {
			pre = append(pre, "-contention")
		}
		args = append(append(pre, "--"), args...)
	}
	p, err := startProc("luma", cfg.ServerCPUs, filepath.Join(dir, "luma.log"), bin, args...)
	if err != nil {
		return nil, err
	}
	s := &lumaServer{proc: p, base: "http://127.0.0.1:" + strconv.Itoa(port), dir: dir}
	if err := s.waitReady(30 * time.Second); err != nil {
		_ = s.close(false)
		return nil, err
	}
	return s, nil
}

// startFloor starts this binary's do-nothing HTTP server (serve -floor),
// which answers Luma's state routes without storing anything: what Go's
// net/http alone costs on this machine.
func startFloor(cfg *config, parent, tag string) (*lumaServer, error) {
	dir, err := os.MkdirTemp(parent, "nethttp-"+tag+"-")
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	p, err := startProc("nethttp", cfg.ServerCPUs, filepath.Join(dir, "nethttp.log"), self, "serve", "-floor", "--", "--port", strconv.Itoa(port))
	if err != nil {
		return nil, err
	}
	s := &lumaServer{proc: p, base: "http://127.0.0.1:" + strconv.Itoa(port), dir: dir}
	if err := s.waitReady(30 * time.Second); err != nil {
		_ = s.close(false)
		return nil, err
	}
	return s, nil
}

func (s *lumaServer) waitReady(limit time.Duration) error {
	c := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if err := s.alive(); err != nil {
			return err
		}
		if h, err := s.health(c); err == nil && h.Status == "ok" {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("luma at %s not ready after %s", s.base, limit)
}

type health struct {
	Status     string `json:"status"`
	LastOffset uint64 `json:"last_offset"`
}

func (s *lumaServer) health(c *http.Client) (health, error) {
	var h health
	resp, err := c.Get(s.base + "/v1/health")
	if err != nil {
		return h, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return h, fmt.Errorf("health: %s", resp.Status)
	}
	return h, json.NewDecoder(resp.Body).Decode(&h)
}

// close stops the server and removes its directory unless keep.
func (s *lumaServer) close(keep bool) error {
	err := s.stop(15 * time.Second)
	if !keep {
		err = errors.Join(err, os.RemoveAll(s.dir))
	}
	return err
}

// redisServer is one redis-server process with its own directory, durable
// as Luma is: AOF on, fsync before every reply (appendfsync always), no RDB
// snapshots.
type redisServer struct {
	*proc
	addr string
	dir  string
}

func startRedis(cfg *config, parent, tag string) (*redisServer, error) {
	dir, err := os.MkdirTemp(parent, "redis-"+tag+"-")
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	args := []string{
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--appendonly", "yes", "--appendfsync", "always", "--save", "",
		"--dir", dir, "--daemonize", "no", "--logfile", "",
	}
	p, err := startProc("redis", cfg.ServerCPUs, filepath.Join(dir, "redis.log"), cfg.RedisBin, args...)
	if err != nil {
		return nil, err
	}
	s := &redisServer{proc: p, addr: "127.0.0.1:" + strconv.Itoa(port), dir: dir}
	c := newRedisClient(s.addr, 1)
	defer c.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if err := s.alive(); err != nil {
			_ = s.close(false)
			return nil, err
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return s, nil
		}
		if time.Now().After(deadline) {
			_ = s.close(false)
			return nil, fmt.Errorf("redis at %s not ready: %w", s.addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *redisServer) close(keep bool) error {
	err := s.stop(15 * time.Second)
	if !keep {
		err = errors.Join(err, os.RemoveAll(s.dir))
	}
	return err
}

// newRedisClient returns a go-redis client with one pooled connection per
// load client, RESP2, no retries (an error must surface, not be hidden), no
// handshake extras (CLIENT SETINFO, maintenance notifications).
func newRedisClient(addr string, clients int) *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr:                     addr,
		Protocol:                 2,
		PoolSize:                 clients,
		MinIdleConns:             clients,
		MaxRetries:               -1,
		DialTimeout:              5 * time.Second,
		ReadTimeout:              30 * time.Second,
		WriteTimeout:             30 * time.Second,
		PoolTimeout:              30 * time.Second,
		DisableIdentity:          true,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	})
}

// redisInfo returns one field of INFO section, or "".
func redisInfo(ctx context.Context, c *redis.Client, section, field string) string {
	s, err := c.Info(ctx, section).Result()
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(s, "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && k == field {
			return v
		}
	}
	return ""
}

// buildLuma compiles ./cmd/luma into dir and returns the binary's path.
func buildLuma(dir string) (string, error) {
	out := filepath.Join(dir, "luma")
	cmd := exec.Command("go", "build", "-o", out, "./cmd/luma")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd/luma (run loadbench from the repository root, or pass -luma-bin): %w", err)
	}
	return out, nil
}
