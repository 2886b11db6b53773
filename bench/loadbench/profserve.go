package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	lumaconfig "github.com/luma-db/luma/internal/config"
	"github.com/luma-db/luma/internal/server"
)

// serveMain is the profiling harness: `loadbench serve [flags] -- <luma
// flags>` runs a Luma server in this process exactly as cmd/luma does
// (internal/server, same config parsing) and profiles it between SIGUSR1
// (start) and SIGUSR2 (stop, write). The load tool uses it with -profile, so
// the profile covers only a point's measured window and nothing of the load
// generator, and the server's public API gains nothing.
func serveMain(args []string) int {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	cpuPath := fs.String("cpuprofile", "", "write a CPU profile of the SIGUSR1..SIGUSR2 window to this `file`")
	contention := fs.Bool("contention", false, "also write block and mutex profiles of the window (<cpuprofile>.block, .mutex)")
	floor := fs.Bool("floor", false, "serve the do-nothing state routes (see floorHandler) instead of Luma")
	fs.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: loadbench serve -cpuprofile FILE [-contention] -- [luma flags]")
		fs.PrintDefaults()
	}
	_ = fs.Parse(args)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg, err := lumaconfig.Load(fs.Args(), os.LookupEnv)
	if err != nil {
		log.Error("config", "err", err)
		return 2
	}
	if *floor {
		return serveFloor(log, cfg.Addr())
	}
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

	prof := &profiler{log: log, path: *cpuPath, contention: *contention}
	sigc := make(chan os.Signal, 4)
	signal.Notify(sigc, syscall.SIGUSR1, syscall.SIGUSR2)
	go func() {
		for sig := range sigc {
			if sig == syscall.SIGUSR1 {
				prof.start()
			} else {
				prof.stop()
			}
		}
	}()
	// A profile still being written when SIGTERM arrives must be finished
	// before the process exits.
	defer prof.stop()
	defer signal.Stop(sigc)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	serveErr := app.Serve(ctx, ln, 2*time.Second)
	if err := app.Close(); err != nil {
		log.Error("close", "err", err)
		return 1
	}
	if serveErr != nil {
		log.Error("serve", "err", serveErr)
		return 1
	}
	return 0
}

// profiler writes a CPU profile (and optionally block and mutex profiles)
// of the window between start and stop.
type profiler struct {
	log        *slog.Logger
	path       string
	contention bool

	mu sync.Mutex // guards f; held while a profile is written
	f  *os.File   // open while profiling
}

func (p *profiler) start() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.f != nil || p.path == "" {
		return
	}
	f, err := os.Create(p.path)
	if err != nil {
		p.log.Error("cpu profile", "err", err)
		return
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		p.log.Error("cpu profile", "err", err)
		f.Close()
		return
	}
	p.f = f
	if p.contention {
		runtime.SetBlockProfileRate(int(10 * time.Microsecond)) // one sample per 10 µs blocked
		runtime.SetMutexProfileFraction(10)
	}
}

// stop ends the window and writes the profiles; it does nothing when no
// profile is running.
func (p *profiler) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.f == nil {
		return
	}
	pprof.StopCPUProfile()
	if err := p.f.Close(); err != nil {
		p.log.Error("cpu profile", "err", err)
	}
	p.f = nil
	if p.contention {
		writeProfile(p.log, "block", p.path+".block")
		writeProfile(p.log, "mutex", p.path+".mutex")
		runtime.SetBlockProfileRate(0)
		runtime.SetMutexProfileFraction(0)
	}
}

func writeProfile(log *slog.Logger, name, path string) {
	f, err := os.Create(path)
	if err != nil {
		log.Error(name+" profile", "err", err)
		return
	}
	defer f.Close()
	if err := pprof.Lookup(name).WriteTo(f, 0); err != nil {
		log.Error(name+" profile", "err", err)
	}
}

// serveFloor answers GET and PUT /v1/state/{key} the way a server with no
// storage, no JSON work and no middleware would: read the request, write a
// fixed small JSON answer. Its throughput is the ceiling Go's net/http
// (HTTP/1.1 parsing, the connection goroutine, two syscalls per request)
// puts on any handler on this machine.
func serveFloor(log *slog.Logger, addr string) int {
	mux := http.NewServeMux()
	ok := []byte(`{"status":"ok","last_offset":0}`)
	putAnswer := []byte(`{"key":"k","revision":1,"expires_at_ms":null}`)
	var answers sync.Map // value size -> GET answer
	getAnswer := func(key string) []byte {
		// Keys are lb:<size>:<n>: answer with a value of that size.
		size := 100
		if f := strings.Split(key, ":"); len(f) == 3 {
			if n, err := strconv.Atoi(f[1]); err == nil && n >= 3 && n <= 1<<20 {
				size = n
			}
		}
		if b, ok := answers.Load(size); ok {
			return b.([]byte)
		}
		b := []byte(`{"key":"k","value":"` + strings.Repeat("v", size-2) + `","revision":1,"expires_at_ms":null}`)
		answers.Store(size, b)
		return b
	}
	write := func(w http.ResponseWriter, b []byte) {
		h := w.Header()
		h["Content-Type"] = []string{"application/json"}
		h["Content-Length"] = []string{strconv.Itoa(len(b))}
		_, _ = w.Write(b)
	}
	mux.HandleFunc("GET /v1/health", func(w http.ResponseWriter, r *http.Request) { write(w, ok) })
	mux.HandleFunc("PUT /v1/state/{key}", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		write(w, putAnswer)
	})
	mux.HandleFunc("POST /v1/state/batch_put", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		write(w, []byte(`{"results":[]}`))
	})
	mux.HandleFunc("GET /v1/state/{key}", func(w http.ResponseWriter, r *http.Request) { write(w, getAnswer(r.PathValue("key"))) })
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		log.Error("serve", "err", err)
		return 1
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	return 0
}
