package config

import (
	"fmt"
	"log/slog"
	"math"
	"net"
	"strconv"
	"strings"
	"time"
)

// setting is one configurable value: where it can come from and how it is
// parsed. The table below is the single source for Load, --help and the
// docs/CONFIG.md check.
type setting struct {
	key      string
	group    string
	flags    []string // without dashes
	envs     []string // bare names; LUMA_<name> is also accepted for each
	def      string
	allowed  string
	help     string
	boolFlag bool
	// flagValues maps a flag to the value it implies when given bare
	// (e.g. --no-sqlite = "false"); default "true".
	flagValues map[string]string
	set        func(c *Config, raw, src string) error
}

func (s *setting) flagValue(name string) string {
	if v, ok := s.flagValues[name]; ok {
		return v
	}
	return "true"
}

// isBare reports whether flag name takes no separate value.
func (s *setting) isBare(name string) bool {
	_, implied := s.flagValues[name]
	return s.boolFlag || implied
}

func (s *setting) label() string {
	var parts []string
	for _, f := range s.flags {
		parts = append(parts, "--"+f)
	}
	parts = append(parts, s.envs...)
	return strings.Join(parts, " / ")
}

// find returns the raw value and its source, by precedence.
func (s *setting) find(flags map[string]flagValue, lookup func(string) (string, bool)) (string, string, bool) {
	if f, ok := flags[s.key]; ok {
		return f.value, f.name, true
	}
	for _, e := range s.envs {
		names := []string{e}
		if !strings.HasPrefix(e, "LUMA_") {
			names = []string{"LUMA_" + e, e}
		}
		for _, n := range names {
			if v, ok := lookup(n); ok && strings.TrimSpace(v) != "" {
				return strings.TrimSpace(v), n, true
			}
		}
	}
	return "", "", false
}

var flagIndex = map[string]*setting{}

func init() {
	for _, s := range settings {
		for _, f := range s.flags {
			if _, dup := flagIndex[f]; dup {
				panic("config: duplicate flag " + f)
			}
			flagIndex[f] = s
		}
	}
}

// Parsers.

func parseBool(raw string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(raw)) {
	case "1", "true", "on", "yes":
		return true, nil
	case "0", "false", "off", "no":
		return false, nil
	}
	return false, fmt.Errorf("not a boolean")
}

func parseIntIn(raw string, lo, hi int) (int, error) {
	v, err := strconv.Atoi(strings.TrimSpace(raw))
	if err != nil || v < lo || v > hi {
		return 0, fmt.Errorf("out of range")
	}
	return v, nil
}

// parseMiB reads a (possibly fractional) number of MiB.
func parseMiB(raw string) (int64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
	if err != nil || f <= 0 || math.IsInf(f, 0) || f > 1<<20 {
		return 0, fmt.Errorf("bad size")
	}
	return int64(f * (1 << 20)), nil
}

// parseDurationMs reads a Go duration ("30s", "1h") or a plain number of
// the given unit.
func parseDurationUnit(raw string, unit time.Duration) (time.Duration, error) {
	raw = strings.TrimSpace(raw)
	if n, err := strconv.ParseInt(raw, 10, 64); err == nil {
		if n < 0 {
			return 0, fmt.Errorf("negative")
		}
		return time.Duration(n) * unit, nil
	}
	d, err := time.ParseDuration(raw)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("bad duration")
	}
	return d, nil
}

func intSetting(key, group string, flags, envs []string, def string, lo, hi int, help string, dst func(*Config) *int) *setting {
	return &setting{
		key: key, group: group, flags: flags, envs: envs, def: def, help: help,
		allowed: fmt.Sprintf("an integer from %d to %d", lo, hi),
		set: func(c *Config, raw, _ string) error {
			v, err := parseIntIn(raw, lo, hi)
			*dst(c) = v
			return err
		},
	}
}

func boolSetting(key, group string, flags, envs []string, def, help string, dst func(*Config) *bool) *setting {
	return &setting{
		key: key, group: group, flags: flags, envs: envs, def: def, help: help, boolFlag: len(flags) > 0,
		allowed: "1, true, on, yes / 0, false, off, no",
		set: func(c *Config, raw, _ string) error {
			v, err := parseBool(raw)
			*dst(c) = v
			return err
		},
	}
}

// sizeSetting reads a byte limit from a MiB flag, a *_BYTES variable or a
// *_MB variable (CONTRACT.md §9 #3).
func sizeSetting(key, flag, bytesEnv, mbEnv, help string, dst func(*Config) *int64) *setting {
	return &setting{
		key: key, group: "3 limits", flags: []string{flag}, envs: []string{bytesEnv, mbEnv}, def: "100",
		allowed: fmt.Sprintf("MiB (--%s, %s, may be fractional) or bytes (%s), greater than 0", flag, mbEnv, bytesEnv),
		help:    help,
		set: func(c *Config, raw, src string) error {
			if strings.HasSuffix(src, "_BYTES") {
				v, err := strconv.ParseInt(raw, 10, 64)
				if err != nil || v <= 0 {
					return fmt.Errorf("bad size")
				}
				*dst(c) = v
				return nil
			}
			v, err := parseMiB(raw)
			*dst(c) = v
			return err
		},
	}
}

var settings = []*setting{
	// 1 server
	{
		key: "port", group: "1 server", flags: []string{"port"}, envs: []string{"PORT_LUMA_VDB", "PORT_RUST_KISS_VDB"},
		def: "9917", allowed: "a TCP port from 1 to 65535", help: "Port to listen on.",
		set: func(c *Config, raw, _ string) error {
			v, err := parseIntIn(raw, 1, 65535)
			c.Port = v
			return err
		},
	},
	{
		key: "bind", group: "1 server", flags: []string{"bind", "host", "unsafe-bind"}, envs: []string{"BIND_ADDR"},
		def: "127.0.0.1", allowed: "an IP address (127.0.0.1, ::1, 0.0.0.0, ...); --unsafe-bind means 0.0.0.0",
		help:       "Address to listen on. Anything but loopback exposes the server and prints a warning; without an API key it also needs --allow-no-auth.",
		flagValues: map[string]string{"unsafe-bind": "0.0.0.0"},
		set: func(c *Config, raw, src string) error {
			if src == "--unsafe-bind" && raw == "true" {
				raw = "0.0.0.0"
			}
			if net.ParseIP(raw) == nil {
				return fmt.Errorf("bad ip")
			}
			c.Bind = raw
			return nil
		},
	},
	boolSetting("allow-no-auth", "1 server", []string{"allow-no-auth"}, []string{"ALLOW_NO_AUTH"}, "false",
		"Allow a non-loopback bind without an API key (trusted networks only).", func(c *Config) *bool { return &c.AllowNoAuth }),
	{
		key: "api-key", group: "1 server", flags: []string{"api-key"}, envs: []string{"LUMA_API_KEY", "RUSTKISS_API_KEY", "API_KEY"},
		allowed: "any non-empty string of at most 4096 bytes without spaces",
		help:    "API key. Unset = local mode: no authentication. Set = every route but health, dashboard and docs needs it (Bearer, x-api-key or ?api_key=).",
		set: func(c *Config, raw, _ string) error {
			if len(raw) > 4096 || strings.ContainsAny(raw, " \t\r\n") {
				return fmt.Errorf("bad key")
			}
			c.APIKey = raw
			return nil
		},
	},
	{
		key: "cors", group: "1 server", envs: []string{"CORS_ALLOWED_ORIGINS"},
		allowed: "a comma-separated list of origins (https://app.example.com), or * for any", help: "Origins allowed by CORS. Unset = any.",
		set: func(c *Config, raw, _ string) error {
			if strings.TrimSpace(raw) == "*" {
				return nil
			}
			for _, o := range strings.Split(raw, ",") {
				if o = strings.TrimSpace(o); o != "" {
					if !strings.HasPrefix(o, "http://") && !strings.HasPrefix(o, "https://") {
						return fmt.Errorf("bad origin")
					}
					c.CORSOrigins = append(c.CORSOrigins, o)
				}
			}
			return nil
		},
	},
	{
		key: "logs", group: "1 server", flags: []string{"logs"}, envs: []string{"LOG_LEVEL"}, def: "info",
		allowed: "debug, info, warning (warn), error, critical", help: "Log level.",
		set: func(c *Config, raw, _ string) error {
			switch strings.ToLower(raw) {
			case "debug", "trace":
				c.LogLevel = slog.LevelDebug
			case "info":
				c.LogLevel = slog.LevelInfo
			case "warning", "warn":
				c.LogLevel = slog.LevelWarn
			case "error":
				c.LogLevel = slog.LevelError
			case "critical":
				c.LogLevel = slog.LevelError + 4
			default:
				return fmt.Errorf("bad level")
			}
			return nil
		},
	},
	{
		key: "log-format", group: "1 server", flags: []string{"log-format"}, envs: []string{"LOG_FORMAT"}, def: "text",
		allowed: "text, json", help: "Log line format.",
		set: func(c *Config, raw, _ string) error {
			if raw != "text" && raw != "json" {
				return fmt.Errorf("bad format")
			}
			c.LogFormat = raw
			return nil
		},
	},
	{
		key: "request-timeout", group: "1 server", flags: []string{"request-timeout-secs"}, envs: []string{"REQUEST_TIMEOUT_SECS"}, def: "30",
		allowed: "seconds from 1 to 86400", help: "A request without response headers after this long gets 408 (SSE excluded).",
		set: func(c *Config, raw, _ string) error {
			v, err := parseIntIn(raw, 1, 86400)
			c.RequestTimeout = time.Duration(v) * time.Second
			return err
		},
	},

	// 2 storage and limits
	{
		key: "data-dir", group: "2 storage", flags: []string{"data-dir", "data", "DATA_DIR"}, envs: []string{"DATA_DIR"}, def: "./data",
		allowed: "a directory path (created if missing)", help: "Where data lives.",
		set: func(c *Config, raw, _ string) error {
			if raw == "" {
				return fmt.Errorf("empty")
			}
			c.DataDir = raw
			return nil
		},
	},
	boolSetting("memory", "2 storage", []string{"memory"}, []string{"MEMORY"}, "false",
		"Run on an in-memory store: nothing survives a restart (tests, demos).", func(c *Config) *bool { return &c.InMemory }),
	{
		key: "fsync", group: "2 storage", flags: []string{"fsync"}, envs: []string{"FSYNC"}, def: "always",
		allowed: "always, off", help: "always: a 2xx answer means the write is on disk. off: acknowledge before fsync (faster; a crash can lose the last writes).",
		set: func(c *Config, raw, _ string) error {
			switch raw {
			case "always":
				c.NoSync = false
			case "off":
				c.NoSync = true
			default:
				return fmt.Errorf("bad fsync")
			}
			return nil
		},
	},
	{
		key: "cache-mb", group: "2 storage", flags: []string{"cache-mb"}, envs: []string{"CACHE_MB"}, def: "128",
		allowed: "MiB from 8 to 1048576", help: "Storage engine block cache.",
		set: func(c *Config, raw, _ string) error {
			v, err := parseIntIn(raw, 8, 1<<20)
			c.CacheBytes = int64(v) << 20
			return err
		},
	},
	sizeSetting("max-body", "max-body-mb", "MAX_BODY_BYTES", "MAX_BODY_MB", "Largest request body; larger gets 413.", func(c *Config) *int64 { return &c.MaxBodyBytes }),
	sizeSetting("max-json", "max-json-mb", "MAX_JSON_BYTES", "MAX_JSON_MB", "Largest JSON value (state value, meta, filters, document); must not exceed the body limit.", func(c *Config) *int64 { return &c.MaxJSONBytes }),
	intSetting("max-key-len", "3 limits", []string{"max-key-len"}, []string{"MAX_KEY_LEN"}, "512", 1, 1<<20, "Longest state key in bytes.", func(c *Config) *int { return &c.MaxKeyLen }),
	intSetting("max-collection-len", "3 limits", []string{"max-collection-len"}, []string{"MAX_COLLECTION_LEN"}, "64", 1, 4096, "Longest collection name in bytes.", func(c *Config) *int { return &c.MaxCollectionLen }),
	intSetting("max-id-len", "3 limits", nil, []string{"MAX_ID_LEN"}, "128", 1, 1<<16, "Longest vector or document id in bytes.", func(c *Config) *int { return &c.MaxIDLen }),
	intSetting("max-vector-dim", "3 limits", []string{"max-vector-dim"}, []string{"MAX_VECTOR_DIM"}, "4096", 1, 1<<16, "Largest vector dimension.", func(c *Config) *int { return &c.MaxVectorDim }),
	intSetting("max-k", "3 limits", []string{"max-k"}, []string{"MAX_K"}, "256", 1, 1<<16, "Largest k of a search (and top_k of /search).", func(c *Config) *int { return &c.MaxK }),
	intSetting("max-state-batch", "3 limits", nil, []string{"MAX_STATE_BATCH"}, "256", 1, 1<<20, "Most operations in one state batch_put.", func(c *Config) *int { return &c.MaxStateBatch }),
	intSetting("max-vector-batch", "3 limits", nil, []string{"MAX_VECTOR_BATCH"}, "256", 1, 1<<20, "Most items in one vector upsert_batch / delete_batch.", func(c *Config) *int { return &c.MaxVectorBatch }),
	intSetting("max-doc-find", "3 limits", nil, []string{"MAX_DOC_FIND"}, "100", 1, 1<<20, "Most documents one find returns.", func(c *Config) *int { return &c.MaxDocFind }),

	// 3 events
	{
		key: "retain-events", group: "4 events", flags: []string{"retain-events"}, envs: []string{"EVENT_RETENTION_COUNT"},
		allowed: "an integer >= 0 (0 = no count limit)", help: "Keep at most this many events in the log. In --memory mode the default is EVENT_BUFFER_SIZE.",
		set: func(c *Config, raw, _ string) error {
			v, err := strconv.ParseUint(raw, 10, 64)
			c.RetainEvents = v
			return err
		},
	},
	{
		key: "retain-bytes", group: "4 events", flags: []string{"retain-bytes"}, envs: []string{"EVENT_RETENTION_BYTES"},
		allowed: "bytes > 0", help: "Keep at most this many bytes of events. Default: WAL_RETENTION_SEGMENTS x WAL_SEGMENT_MAX_BYTES (8 x 64 MiB).",
		set: func(c *Config, raw, _ string) error {
			v, err := strconv.ParseInt(raw, 10, 64)
			if err == nil && v <= 0 {
				err = fmt.Errorf("not positive")
			}
			c.RetainBytes = v
			return err
		},
	},
	{
		key: "retain-age", group: "4 events", flags: []string{"retain-age"}, envs: []string{"EVENT_RETENTION_AGE"},
		allowed: "a duration (72h, 30m) or seconds; 0 = no age limit", help: "Drop events older than this.",
		set: func(c *Config, raw, _ string) error {
			d, err := parseDurationUnit(raw, time.Second)
			c.RetainAge = d
			return err
		},
	},
	intSetting("wal-retention", "4 events", []string{"wal-retention"}, []string{"WAL_RETENTION_SEGMENTS"}, "8", 1, 1<<20,
		"Original's retention window in segments; with WAL_SEGMENT_MAX_BYTES it sets the default EVENT_RETENTION_BYTES.", func(c *Config) *int { return new(int) }),
	intSetting("wal-segment-bytes", "4 events", nil, []string{"WAL_SEGMENT_MAX_BYTES"}, "67108864", 1<<20, math.MaxInt32,
		"Original's segment size; see WAL_RETENTION_SEGMENTS.", func(c *Config) *int { return new(int) }),
	intSetting("event-buffer", "4 events", nil, []string{"EVENT_BUFFER_SIZE"}, "10000", 1, 1<<30,
		"In --memory mode, events kept for replay (unless EVENT_RETENTION_COUNT is set).", func(c *Config) *int { return &c.EventBufferCap }),
	intSetting("live-buffer", "4 events", nil, []string{"LIVE_BROADCAST_CAPACITY"}, "4096", 16, 1<<20,
		"Live events queued per stream subscriber before it is served from the log instead.", func(c *Config) *int { return &c.LiveBuffer }),
	{
		key: "sse-heartbeat", group: "4 events", envs: []string{"SSE_HEARTBEAT_SECS"}, def: "15",
		allowed: "seconds from 1 to 3600", help: "Idle time after which a stream sends a :keepalive comment.",
		set: func(c *Config, raw, _ string) error {
			v, err := parseIntIn(raw, 1, 3600)
			c.SSEHeartbeat = time.Duration(v) * time.Second
			return err
		},
	},

	// 4 sqlite
	{
		key: "sqlite", group: "5 sqlite", flags: []string{"sqlite", "sqlite-enabled", "no-sqlite"}, envs: []string{"SQLITE_ENABLED"}, def: "true",
		allowed: "1, true, on, yes / 0, false, off, no", help: "Enable the SQLite module (/v1/sql/*) and the API key store.", boolFlag: true,
		flagValues: map[string]string{"no-sqlite": "false"},
		set: func(c *Config, raw, _ string) error {
			v, err := parseBool(raw)
			c.SQLiteEnabled = v
			return err
		},
	},
	{
		key: "sqlite-path", group: "5 sqlite", envs: []string{"SQLITE_DB_PATH", "SQLITE_PATH"},
		allowed: "a file path", help: "SQLite database file. Default: <DATA_DIR>/sqlite/rustkiss.db.",
		set: func(c *Config, raw, _ string) error { c.SQLitePath = raw; return nil },
	},
	{
		key: "sql-timeout", group: "5 sqlite", envs: []string{"SQL_QUERY_TIMEOUT_MS"}, def: "30000",
		allowed: "milliseconds from 1 to 86400000", help: "Longest run time of one /v1/sql request.",
		set: func(c *Config, raw, _ string) error {
			v, err := parseIntIn(raw, 1, 86400000)
			c.SQLQueryTimeout = time.Duration(v) * time.Millisecond
			return err
		},
	},
	intSetting("sql-max-rows", "5 sqlite", nil, []string{"SQL_MAX_ROWS"}, "10000", 1, 1<<24, "Most rows one /v1/sql/query may return (more is an error, not a truncation).", func(c *Config) *int { return &c.SQLMaxRows }),
	intSetting("sql-readers", "5 sqlite", nil, []string{"SQL_READERS"}, "4", 1, 256, "Read-only SQLite connections.", func(c *Config) *int { return &c.SQLReaders }),

	// 5 vector
	{
		key: "index-kind", group: "6 vector", envs: []string{"INDEX_KIND"}, def: "hnsw",
		allowed: "hnsw, flat (also HNSW, FLAT)", help: "Default index kind of new collections.",
		set: func(c *Config, raw, _ string) error {
			k, ok := IndexKinds[raw]
			if !ok {
				return fmt.Errorf("unknown kind")
			}
			c.IndexKind = k
			return nil
		},
	},
	intSetting("hnsw-m", "6 vector", nil, []string{"HNSW_M"}, "16", 2, 128, "Default HNSW M (links per node) of new collections.", func(c *Config) *int { return &c.HNSWM }),
	intSetting("hnsw-ef-construction", "6 vector", nil, []string{"HNSW_EF_CONSTRUCTION"}, "200", 4, 4096, "Default HNSW efConstruction of new collections.", func(c *Config) *int { return &c.HNSWEfConstruction }),
	intSetting("hnsw-ef-search", "6 vector", nil, []string{"HNSW_EF_SEARCH"}, "64", 1, 65536, "Default HNSW ef of a search (at least k is used).", func(c *Config) *int { return &c.HNSWEfSearch }),
	intSetting("segment-size", "6 vector", nil, []string{"SEGMENT_SIZE"}, "65536", 1024, 1<<26, "Vectors per segment before it is sealed.", func(c *Config) *int { return &c.SegmentSize }),
	intSetting("search-threads", "6 vector", nil, []string{"SEARCH_THREADS"}, "0", 0, 4096, "Threads for searching segments in parallel (0 = CPUs).", func(c *Config) *int { return &c.SearchThreads }),
	intSetting("build-threads", "6 vector", nil, []string{"INDEX_BUILD_THREADS"}, "0", 0, 4096, "Goroutines inserting into HNSW graphs in the background, shared by all collections (0 = CPUs). Fewer leave more CPU to requests while a large ingest is indexed.", func(c *Config) *int { return &c.BuildThreads }),
	boolSetting("parallel-probe", "6 vector", nil, []string{"PARALLEL_PROBE"}, "true", "Search segments in parallel.", func(c *Config) *bool { return &c.ParallelProbe }),
	intSetting("parallel-probe-min-segments", "6 vector", nil, []string{"PARALLEL_PROBE_MIN_SEGMENTS"}, "4", 1, 1<<20, "Segments needed before searching them in parallel.", func(c *Config) *int { return &c.ParallelProbeMinSegments }),
	boolSetting("simd", "6 vector", nil, []string{"SIMD_ENABLED"}, "true", "Use SIMD distance kernels when the CPU has them.", func(c *Config) *bool { return &c.SIMDEnabled }),
	{
		key: "compaction-ratio", group: "6 vector", envs: []string{"COMPACTION_TRIGGER_TOMBSTONE_RATIO"}, def: "0.2",
		allowed: "a number from 0 (never) to 1", help: "Tombstone share of a segment that triggers its automatic rebuild.",
		set: func(c *Config, raw, _ string) error {
			f, err := strconv.ParseFloat(raw, 64)
			if err == nil && (f < 0 || f > 1) {
				err = fmt.Errorf("out of range")
			}
			c.CompactionTombstoneRatio = f
			return err
		},
	},
	intSetting("ivf-clusters", "6 vector", nil, []string{"IVF_CLUSTERS"}, "4096", 1, 1<<20, "Accepted for compatibility (IVF index settings).", func(c *Config) *int { return &c.IVFClusters }),
	intSetting("ivf-nprobe", "6 vector", nil, []string{"IVF_NPROBE"}, "16", 1, 1<<20, "Accepted for compatibility (IVF index settings).", func(c *Config) *int { return &c.IVFNProbe }),
	intSetting("ivf-training-sample", "6 vector", nil, []string{"IVF_TRAINING_SAMPLE"}, "200000", 1, 1<<30, "Accepted for compatibility (IVF index settings).", func(c *Config) *int { return &c.IVFTrainingSample }),
	intSetting("ivf-min-train", "6 vector", nil, []string{"IVF_MIN_TRAIN_VECTORS"}, "1024", 1, 1<<30, "Accepted for compatibility (IVF index settings).", func(c *Config) *int { return &c.IVFMinTrainVectors }),
	intSetting("ivf-retrain", "6 vector", nil, []string{"IVF_RETRAIN_MIN_DELTAS"}, "50000", 1, 1<<30, "Accepted for compatibility (IVF index settings).", func(c *Config) *int { return &c.IVFRetrainMinDeltas }),
	intSetting("q8-refine", "6 vector", nil, []string{"Q8_REFINE_TOPK"}, "512", 1, 1<<20, "Accepted for compatibility (quantized re-scoring depth).", func(c *Config) *int { return &c.Q8RefineTopK }),
	intSetting("diskann-max-degree", "6 vector", nil, []string{"DISKANN_MAX_DEGREE"}, "48", 4, 1024, "Accepted for compatibility (DiskANN settings).", func(c *Config) *int { return &c.DiskANNMaxDegree }),
	intSetting("diskann-build-threads", "6 vector", nil, []string{"DISKANN_BUILD_THREADS"}, "0", 0, 4096, "Accepted for compatibility (DiskANN settings; 0 = CPUs).", func(c *Config) *int { return &c.DiskANNBuildThreads }),
	intSetting("diskann-search-list", "6 vector", nil, []string{"DISKANN_SEARCH_LIST_SIZE"}, "64", 8, 65535, "Accepted for compatibility (DiskANN settings).", func(c *Config) *int { return &c.DiskANNSearchListSize }),
}
