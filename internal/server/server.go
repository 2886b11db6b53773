// Package server wires one Luma instance together from a Config: storage,
// event hub, domain stores, auth, metrics and the HTTP layer. cmd/luma and
// the integration tests both start servers through it.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/luma-db/luma/internal/auth"
	"github.com/luma-db/luma/internal/config"
	"github.com/luma-db/luma/internal/docstore"
	"github.com/luma-db/luma/internal/events"
	"github.com/luma-db/luma/internal/httpapi"
	"github.com/luma-db/luma/internal/metrics"
	"github.com/luma-db/luma/internal/query"
	"github.com/luma-db/luma/internal/sqlstore"
	"github.com/luma-db/luma/internal/state"
	"github.com/luma-db/luma/internal/storage"
	"github.com/luma-db/luma/internal/vector"
	"github.com/luma-db/luma/internal/vector/corpus"
	"github.com/luma-db/luma/internal/vector/distance"
)

// Version is the server version, set at build time with
// -ldflags "-X github.com/luma-db/luma/internal/server.Version=...".
var Version = "0.3.0-dev"

// App is a running instance (without its listener).
type App struct {
	Config  *config.Config
	Log     *slog.Logger
	Metrics *metrics.Metrics
	DB      *storage.DB
	Hub     *events.Hub
	State   *state.Store
	Docs    *docstore.Store
	Auth    *auth.Store
	SQL     *sqlstore.Store // nil when SQLite is disabled
	Vector  *vector.Store
	Corpus  *corpus.Store
	Query   *query.Engine
	HTTP    *httpapi.Server

	closers []func() error // in reverse order of opening
}

// Open starts every component. On error, whatever was opened is closed.
func Open(cfg *config.Config, log *slog.Logger) (_ *App, err error) {
	if log == nil {
		log = slog.Default()
	}
	a := &App{Config: cfg, Log: log, Metrics: metrics.New()}
	defer func() {
		if err != nil {
			_ = a.Close()
		}
	}()

	// The hub must exist before the committer publishes; its head is set
	// once the log's last offset is known.
	var hub *events.Hub
	db, err := storage.Open(storage.Options{
		Dir:        filepath.Join(cfg.DataDir, "store"),
		InMemory:   cfg.InMemory,
		NoSync:     cfg.NoSync,
		CacheBytes: cfg.CacheBytes,
		Logger:     log,
		Retention:  storage.Retention{MaxEvents: cfg.RetainEvents, MaxBytes: cfg.RetainBytes, MaxAge: cfg.RetainAge},
		Publish: func(evs []*events.Event) {
			hub.Publish(evs)
			a.Metrics.AddEvents(len(evs))
		},
		Observe: func(g storage.GroupStats) { a.Metrics.ObserveCommit(g.Requests, g.Sync, g.Err != nil) },
	})
	if err != nil {
		return nil, err
	}
	hub = events.NewHub(db.LastOffset())
	a.DB, a.Hub = db, hub
	a.closers = append(a.closers, db.Close)

	a.State, err = state.New(db, state.Options{
		Limits:  state.Limits{MaxKeyLen: cfg.MaxKeyLen, MaxJSONBytes: int(cfg.MaxJSONBytes), MaxBatch: cfg.MaxStateBatch},
		Metrics: a.Metrics,
		Logger:  log,
	})
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, func() error { a.State.Close(); return nil })

	a.Docs, err = docstore.New(db, a.State, docstore.Options{
		Limits: docstore.Limits{
			MaxCollectionLen: cfg.MaxCollectionLen, MaxIDLen: cfg.MaxIDLen,
			MaxJSONBytes: int(cfg.MaxJSONBytes), MaxFind: cfg.MaxDocFind,
		},
		Metrics: a.Metrics,
		Logger:  log,
	})
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, func() error { a.Docs.Close(); return nil })

	a.Auth, err = auth.Open(db, cfg.APIKey)
	if err != nil {
		return nil, err
	}

	if !cfg.SIMDEnabled {
		_, _ = distance.Force("generic")
	}
	a.Vector, err = vector.Open(db, VectorOptions(cfg, a.State, a.Metrics, log))
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, a.Vector.Close)
	if a.Corpus, err = corpus.Open(db, cfg.MaxBodyBytes, cfg.MaxK); err != nil {
		return nil, err
	}

	if err := a.openSQL(); err != nil {
		return nil, err
	}

	a.Query = query.New(query.Options{DB: db, Vector: a.Vector, SQL: a.SQL, Docs: a.Docs, State: a.State})

	a.Metrics.GaugeFunc("luma_last_offset", "Offset of the last durable event.", func() float64 { return float64(db.LastOffset()) })
	a.Metrics.GaugeFunc("luma_retention_floor", "Oldest retained event offset.", func() float64 { return float64(db.Floor()) })
	a.Metrics.GaugeFunc("luma_event_log_bytes", "Bytes of retained event records.", func() float64 { return float64(db.LogBytes()) })
	a.Metrics.GaugeFunc("luma_stream_subscribers", "Live stream subscribers registered with the hub.", func() float64 { return float64(hub.Subscribers()) })
	a.Metrics.GaugeFunc("luma_stream_live_drops_total", "Live deliveries skipped for full subscriber buffers (served from the log instead).", func() float64 { return float64(hub.Dropped()) })
	a.Metrics.GaugeFunc("luma_storage_disk_bytes", "Bytes the storage engine uses on disk.", func() float64 { return float64(db.DiskUsage()) })

	a.HTTP = httpapi.New(httpapi.Deps{
		Config: cfg, DB: db, Hub: hub, State: a.State, Docs: a.Docs, Auth: a.Auth,
		Metrics: a.Metrics, Logger: log, Version: Version, Started: time.Now(),
		SQL: a.SQL, Vector: a.Vector, Corpus: a.Corpus, Query: a.Query,
	})
	return a, nil
}

// VectorOptions are the vector store's options for cfg (the server and the
// offline vacuum command open it alike).
func VectorOptions(cfg *config.Config, st *state.Store, m *metrics.Metrics, log *slog.Logger) vector.Options {
	o := vector.Options{
		Limits: vector.Limits{
			MaxCollectionLen: cfg.MaxCollectionLen, MaxIDLen: cfg.MaxIDLen, MaxVectorDim: cfg.MaxVectorDim,
			MaxJSONBytes: cfg.MaxJSONBytes, MaxK: cfg.MaxK, MaxBatch: cfg.MaxVectorBatch,
		},
		Defaults: vector.IndexSettings{
			Kind: vector.IndexKind(cfg.IndexKind), M: cfg.HNSWM,
			EfConstruction: cfg.HNSWEfConstruction, EfSearch: cfg.HNSWEfSearch,
		},
		SegmentSize:              cfg.SegmentSize,
		SearchThreads:            cfg.SearchThreads,
		BuildThreads:             cfg.BuildThreads,
		ParallelProbe:            cfg.ParallelProbe,
		ParallelProbeMinSegments: cfg.ParallelProbeMinSegments,
		TombstoneRatio:           cfg.CompactionTombstoneRatio,
		State:                    st,
		Metrics:                  m,
		Logger:                   log,
	}
	if !cfg.InMemory {
		o.DataDir = filepath.Join(cfg.DataDir, "vectors")
	}
	return o
}

// Handler is the root HTTP handler.
func (a *App) Handler() http.Handler { return a.HTTP.Handler() }

// Close stops every component in reverse order of opening.
func (a *App) Close() error {
	if a.HTTP != nil {
		a.HTTP.Shutdown()
	}
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		if err := a.closers[i](); err != nil {
			errs = append(errs, err)
		}
	}
	a.closers = nil
	return errors.Join(errs...)
}

// Serve answers HTTP on ln until ctx ends, then shuts down gracefully:
// streams are told to end, in-flight requests get up to grace to finish,
// then connections are closed.
func (a *App) Serve(ctx context.Context, ln net.Listener, grace time.Duration) error {
	srv := &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http: %w", err)
	case <-ctx.Done():
	}
	a.HTTP.Shutdown()
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
	}
	return nil
}
