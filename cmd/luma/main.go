// Command luma runs the Luma server and its maintenance commands.
//
//	luma [serve] [flags]   run the server (the default)
//	luma vacuum --collection NAME [--data-dir DIR]
//	                       rebuild a vector collection without tombstones, offline
//	luma version           print the version
//
// See docs/CONFIG.md or `luma --help` for the flags and variables.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/luma-db/luma/internal/config"
	"github.com/luma-db/luma/internal/server"
	"github.com/luma-db/luma/internal/storage"
	"github.com/luma-db/luma/internal/vector"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(args, stderr)
	case "version":
		fmt.Fprintf(stdout, "luma %s\n", server.Version)
		return 0
	case "vacuum":
		return vacuum(args, stdout, stderr)
	case "help":
		fmt.Fprint(stdout, config.Usage())
		return 0
	default:
		fmt.Fprintf(stderr, "luma: unknown command %q (commands: serve, vacuum, version, help)\n", cmd)
		return 2
	}
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func loadConfig(args []string, stderr io.Writer) (*config.Config, int) {
	cfg, err := config.Load(args, config.LookupEnv(".env"))
	if errors.Is(err, config.ErrHelp) {
		fmt.Fprint(stderr, config.Usage())
		return nil, 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "luma: %v\n", err)
		return nil, 2
	}
	return cfg, -1
}

func serve(args []string, stderr io.Writer) int {
	cfg, code := loadConfig(args, stderr)
	if cfg == nil {
		return code
	}
	log := newLogger(cfg, stderr)
	ln, err := net.Listen("tcp", cfg.Addr())
	if err != nil {
		log.Error("cannot listen", "addr", cfg.Addr(), "err", err)
		return 1
	}
	app, err := server.Open(cfg, log)
	if err != nil {
		ln.Close()
		log.Error("cannot start", "err", err)
		return 1
	}
	if cfg.Exposed {
		log.Warn("LISTENING ON A NON-LOOPBACK ADDRESS: the server is reachable from other machines", "bind", cfg.Bind)
		if !cfg.AuthEnabled() {
			log.Warn("NO API KEY IS SET (--allow-no-auth): anyone who can reach this port can read and change all data")
		}
	}
	where := cfg.DataDir
	if cfg.InMemory {
		where = "memory (nothing survives a restart)"
	}
	log.Info("luma ready", "version", server.Version, "addr", "http://"+ln.Addr().String(), "data", where,
		"auth", cfg.AuthEnabled(), "last_offset", app.DB.LastOffset())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	serveErr := app.Serve(ctx, ln, 2*time.Second)
	stop()
	log.Info("shutting down")
	if err := app.Close(); err != nil {
		log.Error("close failed", "err", err)
		return 1
	}
	if serveErr != nil {
		log.Error("server stopped", "err", serveErr)
		return 1
	}
	return 0
}

// vacuum rebuilds one vector collection's segments without tombstones while
// the server is stopped: luma vacuum --collection NAME [--data-dir DIR]
// (other flags and variables as for serve). It prints the result as JSON.
func vacuum(args []string, stdout, stderr io.Writer) int {
	coll := ""
	var rest []string
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--collection" || a == "-collection":
			if i+1 == len(args) {
				fmt.Fprintln(stderr, "luma vacuum: --collection needs a collection name")
				return 2
			}
			coll, i = args[i+1], i+1
		case strings.HasPrefix(a, "--collection="):
			coll = strings.TrimPrefix(a, "--collection=")
		default:
			rest = append(rest, a)
		}
	}
	if coll == "" {
		fmt.Fprintln(stderr, "usage: luma vacuum --collection NAME [--data-dir DIR]")
		return 2
	}
	cfg, code := loadConfig(rest, stderr)
	if cfg == nil {
		return code
	}
	if cfg.InMemory {
		fmt.Fprintln(stderr, "luma vacuum: needs a data directory (--data-dir), not --memory")
		return 2
	}
	log := newLogger(cfg, stderr)
	db, err := storage.Open(storage.Options{Dir: filepath.Join(cfg.DataDir, "store"), CacheBytes: cfg.CacheBytes, Logger: log})
	if err != nil {
		fmt.Fprintf(stderr, "luma vacuum: %v (is a server running on %s? stop it first)\n", err, cfg.DataDir)
		return 1
	}
	defer db.Close()
	opts := server.VectorOptions(cfg, nil, nil, log)
	opts.Collections = []string{coll}
	vs, err := vector.Open(db, opts)
	if err != nil {
		fmt.Fprintf(stderr, "luma vacuum: %v\n", err)
		return 1
	}
	res, err := vs.Vacuum(context.Background(), coll)
	if cerr := vs.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, vector.ErrCollectionNotFound) {
		fmt.Fprintf(stderr, "luma vacuum: no vector collection %q in %s\n", coll, cfg.DataDir)
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "luma vacuum: %v\n", err)
		return 1
	}
	out, _ := json.Marshal(res)
	fmt.Fprintf(stdout, "%s\n", out)
	return 0
}
