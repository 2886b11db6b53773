// Package config turns command-line flags and environment variables into one
// validated Config. Names follow the original server (CONTRACT.md §7, §9):
// every environment variable is also accepted with a LUMA_ prefix, which
// wins over the bare name. Precedence: flag > LUMA_<NAME> > <NAME> (and older
// aliases, in the order listed) > default.
//
// Unlike the original, a value that cannot be parsed stops start-up with a
// message naming the setting and the values it accepts: a typo in a limit
// should not silently run the server with the default.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Config is the whole configuration of a server.
type Config struct {
	// Network.
	Port        int
	Bind        string
	Exposed     bool // bind address is not loopback
	AllowNoAuth bool
	CORSOrigins []string // nil = any origin

	// Storage.
	DataDir    string
	InMemory   bool
	NoSync     bool
	CacheBytes int64

	// Auth.
	APIKey string // empty = local mode (no auth)

	// Logging.
	LogLevel  slog.Level
	LogFormat string // "text" or "json"

	// Limits.
	MaxBodyBytes     int64
	MaxJSONBytes     int64
	MaxKeyLen        int
	MaxCollectionLen int
	MaxIDLen         int
	MaxVectorDim     int
	MaxK             int
	MaxStateBatch    int
	MaxVectorBatch   int
	MaxDocFind       int
	RequestTimeout   time.Duration

	// Event log and stream.
	RetainEvents   uint64
	RetainBytes    int64
	RetainAge      time.Duration
	LiveBuffer     int // per-subscriber live queue
	SSEHeartbeat   time.Duration
	EventBufferCap int // memory mode: events kept

	// SQLite.
	SQLiteEnabled   bool
	SQLitePath      string
	SQLQueryTimeout time.Duration
	SQLMaxRows      int
	SQLReaders      int

	// Vector store.
	IndexKind                string
	HNSWM                    int
	HNSWEfConstruction       int
	HNSWEfSearch             int
	SegmentSize              int
	SearchThreads            int
	BuildThreads             int
	ParallelProbe            bool
	ParallelProbeMinSegments int
	SIMDEnabled              bool
	CompactionTombstoneRatio float64
	IVFClusters              int
	IVFNProbe                int
	IVFTrainingSample        int
	IVFMinTrainVectors       int
	IVFRetrainMinDeltas      int
	Q8RefineTopK             int
	DiskANNMaxDegree         int
	DiskANNBuildThreads      int
	DiskANNSearchListSize    int
}

// IndexKinds lists the accepted INDEX_KIND values and the kind each maps to.
// The original's names are accepted so existing environments keep working.
var IndexKinds = map[string]string{
	"hnsw": "hnsw", "HNSW": "hnsw",
	"flat": "flat", "FLAT": "flat",
}

// Error is a configuration error: which setting, where it came from, what
// was wrong and what is allowed.
type Error struct {
	Setting string // e.g. "--port / PORT_LUMA_VDB"
	Source  string // the flag or variable that carried the bad value
	Value   string
	Allowed string
}

func (e *Error) Error() string {
	return fmt.Sprintf("config: invalid value %q for %s (from %s): allowed %s", e.Value, e.Setting, e.Source, e.Allowed)
}

// ErrHelp is returned by Load when -h or --help was given.
var ErrHelp = errors.New("config: help requested")

// Load builds a Config from command-line arguments (without the program
// name and subcommand) and an environment lookup function (os.LookupEnv in
// production).
func Load(args []string, lookup func(string) (string, bool)) (*Config, error) {
	c := &Config{}
	flags, err := parseArgs(args)
	if err != nil {
		return nil, err
	}
	for _, s := range settings {
		raw, src, ok := s.find(flags, lookup)
		if !ok {
			if s.def == "" {
				continue
			}
			raw, src = s.def, "default"
		}
		if err := s.set(c, raw, src); err != nil {
			return nil, &Error{Setting: s.label(), Source: src, Value: raw, Allowed: s.allowed}
		}
	}
	if err := c.finish(flags, lookup); err != nil {
		return nil, err
	}
	return c, nil
}

// finish derives dependent values and checks cross-field rules.
func (c *Config) finish(flags map[string]flagValue, lookup func(string) (string, bool)) error {
	if c.MaxJSONBytes > c.MaxBodyBytes {
		return &Error{Setting: "--max-json-mb / MAX_JSON_BYTES / MAX_JSON_MB", Source: "configuration",
			Value: strconv.FormatInt(c.MaxJSONBytes, 10), Allowed: fmt.Sprintf("at most the body limit (%d bytes)", c.MaxBodyBytes)}
	}
	ip := net.ParseIP(c.Bind)
	c.Exposed = ip == nil || !ip.IsLoopback()
	if c.APIKey == "" && c.Exposed && !c.AllowNoAuth {
		return fmt.Errorf("config: refusing to listen on %s without an API key: anyone who can reach it could read and change all data. "+
			"Set LUMA_API_KEY (or --api-key), bind 127.0.0.1, or pass --allow-no-auth if the network is trusted", c.Bind)
	}
	if !c.InMemory {
		abs, err := filepath.Abs(c.DataDir)
		if err != nil {
			return fmt.Errorf("config: data dir %q: %w", c.DataDir, err)
		}
		c.DataDir = abs
		if fi, err := os.Stat(abs); err == nil && !fi.IsDir() {
			return &Error{Setting: "--data-dir / DATA_DIR", Source: "configuration", Value: c.DataDir, Allowed: "a directory (this path is a file)"}
		}
	}
	if c.SQLitePath == "" && !c.InMemory {
		c.SQLitePath = filepath.Join(c.DataDir, "sqlite", "rustkiss.db")
	}
	// Retention by bytes defaults to the original's WAL window:
	// WAL_RETENTION_SEGMENTS x WAL_SEGMENT_MAX_BYTES.
	if c.RetainBytes == 0 {
		segs, _ := envInt(lookup, "WAL_RETENTION_SEGMENTS", 8)
		segBytes, _ := envInt(lookup, "WAL_SEGMENT_MAX_BYTES", 64<<20)
		c.RetainBytes = int64(max(segs, 1)) * int64(max(segBytes, 1<<20))
	}
	if c.InMemory && c.RetainEvents == 0 {
		c.RetainEvents = uint64(c.EventBufferCap)
	}
	if c.SearchThreads == 0 {
		c.SearchThreads = runtime.GOMAXPROCS(0)
	}
	if c.BuildThreads == 0 {
		c.BuildThreads = runtime.GOMAXPROCS(0)
	}
	if c.DiskANNBuildThreads == 0 {
		c.DiskANNBuildThreads = runtime.NumCPU()
	}
	return nil
}

// Addr is the listen address.
func (c *Config) Addr() string { return net.JoinHostPort(c.Bind, strconv.Itoa(c.Port)) }

// AuthEnabled reports whether requests need an API key.
func (c *Config) AuthEnabled() bool { return c.APIKey != "" }

// LookupEnv returns a lookup function over os.LookupEnv that also reads a
// .env file in the working directory (variables already set win).
func LookupEnv(dotenv string) func(string) (string, bool) {
	file := map[string]string{}
	if b, err := os.ReadFile(dotenv); err == nil {
		file = ParseDotEnv(string(b))
	}
	return func(k string) (string, bool) {
		if v, ok := os.LookupEnv(k); ok {
			return v, true
		}
		v, ok := file[k]
		return v, ok
	}
}

// ParseDotEnv parses KEY=VALUE lines, ignoring blanks and # comments,
// accepting an optional "export " and single or double quotes.
func ParseDotEnv(s string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'') {
			v = v[1 : len(v)-1]
		} else if i := strings.Index(v, " #"); i >= 0 {
			v = strings.TrimSpace(v[:i])
		}
		out[k] = v
	}
	return out
}

func envInt(lookup func(string) (string, bool), name string, def int) (int, bool) {
	for _, n := range []string{"LUMA_" + name, name} {
		if v, ok := lookup(n); ok {
			if i, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
				return i, true
			}
		}
	}
	return def, false
}

type flagValue struct {
	name  string
	value string
	bare  bool // given without a value
}

// parseArgs reads --name, --name=value and --name value. The first
// occurrence of a setting wins (CONTRACT.md §7). Boolean flags take no
// separate value.
func parseArgs(args []string) (map[string]flagValue, error) {
	out := map[string]flagValue{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "-h" || a == "--help" || a == "-help" {
			return nil, ErrHelp
		}
		if !strings.HasPrefix(a, "-") {
			return nil, fmt.Errorf("config: unexpected argument %q (flags look like --port 9917; run with --help)", a)
		}
		name := strings.TrimLeft(a, "-")
		value, hasValue := "", false
		if n, v, ok := strings.Cut(name, "="); ok {
			name, value, hasValue = n, v, true
		}
		s, ok := flagIndex[name]
		if !ok {
			return nil, fmt.Errorf("config: unknown flag --%s (run with --help for the list)", name)
		}
		fv := flagValue{name: "--" + name}
		switch {
		case s.isBare(name) && !hasValue:
			fv.bare = true
			fv.value = s.flagValue(name)
		case hasValue:
			fv.value = value
		default:
			if i+1 >= len(args) {
				return nil, fmt.Errorf("config: flag --%s needs a value", name)
			}
			i++
			fv.value = args[i]
		}
		if _, seen := out[s.key]; !seen {
			out[s.key] = fv
		}
	}
	return out, nil
}

// Usage returns the --help text: every setting with its flags, variables,
// default and allowed values.
func Usage() string {
	var b strings.Builder
	b.WriteString("Usage: luma [serve] [flags]\n       luma version\n       luma vacuum --collection NAME [--data-dir DIR]\n\nSettings (flag > LUMA_<VAR> > VAR > default):\n")
	rows := append([]*setting(nil), settings...)
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].group < rows[j].group })
	for _, s := range rows {
		fmt.Fprintf(&b, "  %s\n      %s", s.label(), s.help)
		if s.def != "" {
			fmt.Fprintf(&b, " Default: %s.", s.def)
		}
		fmt.Fprintf(&b, " Allowed: %s.\n", s.allowed)
	}
	return b.String()
}
