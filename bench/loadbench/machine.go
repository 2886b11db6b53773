package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// machine is what the report says about where and how it ran.
type machine struct {
	Date         string `json:"date"`
	CPU          string `json:"cpu"`
	CPUs         int    `json:"cpus"`
	Kernel       string `json:"kernel"`
	Go           string `json:"go"`
	Redis        string `json:"redis"`
	LumaBin      string `json:"luma_bin"`
	GitCommit    string `json:"git_commit"`
	Dir          string `json:"dir"`
	Filesystem   string `json:"filesystem"`
	Device       string `json:"device"`
	MountOptions string `json:"mount_options"`
	ServerCPUs   string `json:"server_cpus"`
	ClientCPUs   string `json:"client_cpus"`
	NoFile       uint64 `json:"nofile_limit"`
	LoadAvgStart string `json:"loadavg_start"`
	LoadAvgEnd   string `json:"loadavg_end"`
	// CPU and I/O pressure (PSI "some" avg10, percent) at start and end.
	CPUPressureStart float64 `json:"cpu_pressure_start"`
	CPUPressureEnd   float64 `json:"cpu_pressure_end"`
	IOPressureStart  float64 `json:"io_pressure_start"`
	IOPressureEnd    float64 `json:"io_pressure_end"`
	Elapsed          string  `json:"elapsed"`
}

func describeMachine(cfg *config) machine {
	m := machine{
		Date:             time.Now().UTC().Format(time.RFC3339),
		CPU:              cpuModel(),
		CPUs:             runtime.NumCPU(),
		Kernel:           firstLine("/proc/sys/kernel/osrelease"),
		Go:               runtime.Version(),
		LumaBin:          cfg.LumaBin,
		Dir:              cfg.Dir,
		ServerCPUs:       cfg.ServerCPUs,
		ClientCPUs:       cfg.ClientCPUs,
		LoadAvgStart:     readLoadAvg(),
		CPUPressureStart: pressure("cpu"),
		IOPressureStart:  pressure("io"),
	}
	if out, err := exec.Command(cfg.RedisBin, "--version").Output(); err == nil {
		m.Redis = strings.TrimSpace(string(out))
	}
	m.GitCommit = cfg.LumaRev
	if m.GitCommit == "" {
		if out, err := exec.Command("git", "describe", "--always", "--dirty").Output(); err == nil {
			m.GitCommit = strings.TrimSpace(string(out))
		}
	}
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) == nil {
		m.NoFile = rl.Cur
	}
	m.Filesystem, m.Device, m.MountOptions = mountOf(cfg.Dir)
	return m
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func firstLine(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	s, _, _ := strings.Cut(string(b), "\n")
	return strings.TrimSpace(s)
}

func readLoadAvg() string {
	f := strings.Fields(firstLine("/proc/loadavg"))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// pressure returns the "some avg10" share (percent) of /proc/pressure/<res>
// (cpu or io): the time at least one task waited for that resource; -1 if
// the kernel does not report it.
func pressure(res string) float64 {
	f := strings.Fields(firstLine("/proc/pressure/" + res))
	for _, kv := range f {
		if v, ok := strings.CutPrefix(kv, "avg10="); ok {
			if x, err := strconv.ParseFloat(v, 64); err == nil {
				return x
			}
		}
	}
	return -1
}

func loadAvg1() float64 {
	f := strings.Fields(firstLine("/proc/loadavg"))
	if len(f) == 0 {
		return -1
	}
	x, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	return x
}

// mountOf returns the filesystem type, source device and options of the
// mount holding dir, from the longest matching mount point.
func mountOf(dir string) (fstype, device, options string) {
	abs, err := filepath.EvalSymlinks(dir)
	if err != nil {
		abs = dir
	}
	f, err := os.Open("/proc/self/mounts")
	if err != nil {
		return "unknown", "", ""
	}
	defer f.Close()
	best := -1
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fl := strings.Fields(sc.Text())
		if len(fl) < 4 {
			continue
		}
		mp := fl[1]
		if abs != mp && !strings.HasPrefix(abs, strings.TrimSuffix(mp, "/")+"/") {
			continue
		}
		if len(mp) > best {
			best = len(mp)
			device, fstype, options = fl[0], fl[2], fl[3]
		}
	}
	if best < 0 {
		return "unknown", "", ""
	}
	return fstype, device, options
}

const (
	tmpfsMagic = 0x01021994
	ramfsMagic = 0x858458f6
)

// checkDataDir refuses a directory in memory, where fsync costs nothing and
// the durable workloads would measure something else.
func checkDataDir(dir string) error {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return fmt.Errorf("statfs %s: %w", dir, err)
	}
	if t := uint64(st.Type); t == tmpfsMagic || t == ramfsMagic {
		return fmt.Errorf("%s is on tmpfs/ramfs, where fsync is free: pass -dir on a real disk", dir)
	}
	return nil
}

// sameDevice reports whether a and b are on the same filesystem.
func sameDevice(a, b string) bool {
	var sa, sb syscall.Stat_t
	if syscall.Stat(a, &sa) != nil || syscall.Stat(b, &sb) != nil {
		return false
	}
	return sa.Dev == sb.Dev
}

// deviceFlushes returns the number of cache flushes the block device holding
// path has completed (/proc/diskstats: the 16th statistic after the name,
// Linux 5.5+), or -1.
func deviceFlushes(path string) int64 {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return -1
	}
	dev := uint64(st.Dev)
	major := (dev>>8)&0xfff | (dev>>32)&^uint64(0xfff)
	minor := dev&0xff | (dev>>12)&^uint64(0xff)
	f, err := os.Open("/proc/diskstats")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fl := strings.Fields(sc.Text())
		if len(fl) < 20 || fl[0] != strconv.FormatUint(major, 10) || fl[1] != strconv.FormatUint(minor, 10) {
			continue
		}
		n, err := strconv.ParseInt(fl[18], 10, 64)
		if err != nil {
			return -1
		}
		return n
	}
	return -1
}

// parseCPUList reads a taskset-style list: "0", "0-1", "0,2-3".
func parseCPUList(s string) (unix.CPUSet, int, error) {
	var set unix.CPUSet
	n := 0
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return set, 0, fmt.Errorf("bad CPU list %q", s)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return set, 0, fmt.Errorf("bad CPU list %q", s)
			}
		}
		for c := a; c <= b; c++ {
			if !set.IsSet(c) {
				set.Set(c)
				n++
			}
		}
	}
	return set, n, nil
}

// pinSelf restricts every thread of this process to cpus and sets
// GOMAXPROCS to their number. Threads inherit the mask from the thread that
// creates them, so after two passes over /proc/self/task (a thread created
// during the first is caught by the second) no thread escapes.
func pinSelf(cpus string) error {
	set, n, err := parseCPUList(cpus)
	if err != nil {
		return err
	}
	for range 2 {
		ents, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return err
		}
		for _, e := range ents {
			tid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			if err := unix.SchedSetaffinity(tid, &set); err != nil && err != unix.ESRCH {
				return fmt.Errorf("sched_setaffinity %d: %w", tid, err)
			}
		}
	}
	runtime.GOMAXPROCS(n)
	return nil
}

// raiseNoFile lifts the open-files soft limit to the hard limit (children,
// the servers, inherit it) and returns the new soft limit.
func raiseNoFile() (uint64, error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, err
	}
	if rl.Cur < rl.Max {
		rl.Cur = rl.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
			return 0, err
		}
	}
	return rl.Cur, nil
}
