package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
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

	sigc := make(chan os.Signal, 4)
	signal.Notify(sigc, syscall.SIGUSR1, syscall.SIGUSR2)
	defer signal.Stop(sigc)
	go profileOnSignals(log, sigc, *cpuPath, *contention)

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

// profileOnSignals starts profiling on SIGUSR1 and writes the profiles on
// SIGUSR2. It runs until the process exits.
func profileOnSignals(log *slog.Logger, sigc <-chan os.Signal, cpuPath string, contention bool) {
	var f *os.File
	for sig := range sigc {
		switch {
		case sig == syscall.SIGUSR1 && f == nil && cpuPath != "":
			var err error
			if f, err = os.Create(cpuPath); err != nil {
				log.Error("cpu profile", "err", err)
				f = nil
				continue
			}
			if err := pprof.StartCPUProfile(f); err != nil {
				log.Error("cpu profile", "err", err)
				f.Close()
				f = nil
				continue
			}
			if contention {
				runtime.SetBlockProfileRate(int(10 * time.Microsecond)) // one sample per 10 µs blocked
				runtime.SetMutexProfileFraction(10)
			}
		case sig == syscall.SIGUSR2 && f != nil:
			pprof.StopCPUProfile()
			if err := f.Close(); err != nil {
				log.Error("cpu profile", "err", err)
			}
			f = nil
			if contention {
				writeProfile(log, "block", cpuPath+".block")
				writeProfile(log, "mutex", cpuPath+".mutex")
				runtime.SetBlockProfileRate(0)
				runtime.SetMutexProfileFraction(0)
			}
		}
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
