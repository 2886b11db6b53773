package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// machine is what the report says about where it ran.
type machine struct {
	Date         string `json:"date"`
	CPU          string `json:"cpu"`
	CPUs         int    `json:"cpus"`
	Kernel       string `json:"kernel"`
	Go           string `json:"go"`
	Pebble       string `json:"pebble"`
	Bbolt        string `json:"bbolt"`
	Dir          string `json:"dir"`
	Filesystem   string `json:"filesystem"`
	Device       string `json:"device"`
	MountOptions string `json:"mount_options"`
	LoadAvgStart string `json:"loadavg_start"`
	LoadAvgEnd   string `json:"loadavg_end"`
}

func describeMachine(dir string) machine {
	m := machine{
		Date:         time.Now().UTC().Format(time.RFC3339),
		CPU:          cpuModel(),
		CPUs:         runtime.NumCPU(),
		Kernel:       firstLine("/proc/sys/kernel/osrelease"),
		Go:           runtime.Version(),
		Dir:          dir,
		LoadAvgStart: readLoadAvg(),
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			switch d.Path {
			case "github.com/cockroachdb/pebble/v2":
				m.Pebble = d.Version
			case "go.etcd.io/bbolt":
				m.Bbolt = d.Version
			}
		}
	}
	m.Filesystem, m.Device, m.MountOptions = mountOf(dir)
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

// checkNotTmpfs refuses a data dir in memory: there fsync costs nothing and
// the benchmark would measure something else.
func checkNotTmpfs(dir string, allow bool) error {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return fmt.Errorf("statfs %s: %w", dir, err)
	}
	if t := uint64(st.Type); (t == tmpfsMagic || t == ramfsMagic) && !allow {
		return fmt.Errorf("%s is on tmpfs/ramfs, where fsync is free: pass -dir on a real disk (or -allow-tmpfs)", dir)
	}
	return nil
}

// deviceFlushes returns the number of cache flushes the block device holding
// path has completed (/proc/diskstats: the 16th statistic after the name, Linux 5.5+), or -1.
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
