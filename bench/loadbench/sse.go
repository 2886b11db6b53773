package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// sseResult is the outcome of the fan-out run.
type sseResult struct {
	Subscribers  int     `json:"subscribers"`
	TargetRate   float64 `json:"target_puts_per_sec"`
	Writers      int     `json:"writers"`
	ValueSize    int     `json:"value_size"`
	Warmup       string  `json:"warmup"`
	Duration     string  `json:"duration"`
	Writes       uint64  `json:"writes_acked"`
	WriteErrors  uint64  `json:"write_errors"`
	FirstError   string  `json:"first_error,omitempty"`
	AchievedRate float64 `json:"achieved_puts_per_sec"`
	// Put is the writers' PUT latency (send to 200), measured window only.
	Put latency `json:"put_latency"`
	// Delivery is writer send time (embedded in the value) to subscriber
	// receive time (the data: line read), over every subscriber and every
	// event sent in the measured window.
	Delivery      latency `json:"delivery_latency"`
	WorstSubP99ms float64 `json:"worst_subscriber_p99_ms"`
	// Events is the number of offsets every subscriber had to receive
	// (head at the end minus head at the start).
	Events       uint64  `json:"events_per_subscriber"`
	Delivered    uint64  `json:"delivered_total"`
	Lost         uint64  `json:"lost"`
	Duplicates   uint64  `json:"duplicates"`
	OutOfOrder   uint64  `json:"out_of_order"`
	Gaps         uint64  `json:"gap_events"`
	Complete     int     `json:"subscribers_complete"`
	StreamErrors int     `json:"subscriber_errors"`
	DrainMs      float64 `json:"drain_ms"`
	// Server-side: CPU cores used by Luma on average during the writes, and
	// its hub counters (deliveries that overflowed a subscriber's live
	// buffer and were served from the log instead).
	ServerCores  float64 `json:"server_cores"`
	ClientCores  float64 `json:"client_cores"`
	HubDrops     float64 `json:"hub_live_drops"`
	Catchups     float64 `json:"sse_catchups"`
	SSEClients   float64 `json:"sse_clients_gauge"`
	LoadAvgStart float64 `json:"loadavg1_start"`
	LoadAvgEnd   float64 `json:"loadavg1_end"`
}

// subscriber reads one SSE connection and checks what it receives.
type subscriber struct {
	h      hist
	expect uint64 // next offset due
	last   atomic.Uint64

	received, dups, outOfOrder, missing, gaps uint64
	err                                       error       // read only after the reader returned
	failed                                    atomic.Bool // err is set
}

// read consumes the stream until ctx ends. from and to bound the send
// times (Unix ns) whose delivery latency is recorded.
func (s *subscriber) read(ctx context.Context, body *bufio.Reader, from, to int64) {
	var (
		offset  uint64
		sendNs  int64
		recvNs  int64
		isGap   bool
		haveID  bool
		dataKey = []byte(`"send_ns":`)
	)
	for {
		line, err := body.ReadSlice('\n')
		if err != nil {
			if ctx.Err() == nil {
				s.err = err
				s.failed.Store(true)
			}
			return
		}
		switch {
		case len(line) <= 2 && (line[0] == '\n' || line[0] == '\r'):
			// End of an event.
			if isGap {
				s.gaps++
			} else if haveID {
				switch {
				case offset == s.expect:
					s.received++
					s.expect++
				case offset < s.expect:
					s.dups++
				default:
					s.outOfOrder++
					s.missing += offset - s.expect
					s.received++
					s.expect = offset + 1
				}
				s.last.Store(offset)
				if sendNs >= from && sendNs <= to {
					s.h.record(time.Duration(recvNs - sendNs))
				}
			}
			isGap, haveID, sendNs = false, false, 0
		case line[0] == ':':
			// Comment (heartbeat).
		case bytes.HasPrefix(line, []byte("id:")):
			v, err := strconv.ParseUint(string(bytes.TrimSpace(line[3:])), 10, 64)
			if err == nil {
				offset, haveID = v, true
			}
		case bytes.HasPrefix(line, []byte("event:")):
			isGap = string(bytes.TrimSpace(line[6:])) == "gap"
		case bytes.HasPrefix(line, []byte("data:")):
			recvNs = time.Now().UnixNano()
			if i := bytes.Index(line, dataKey); i >= 0 {
				j := i + len(dataKey)
				k := j
				for k < len(line) && line[k] >= '0' && line[k] <= '9' {
					k++
				}
				sendNs, _ = strconv.ParseInt(string(line[j:k]), 10, 64)
			}
		}
	}
}

// runSSE starts a fresh Luma, opens cfg.SSESubs streams, writes at
// rate PUT/s for warm-up + duration and checks every subscriber got
// every event once, in order.
func runSSE(lg *slog.Logger, cfg *config, rate float64) (*sseResult, error) {
	res := &sseResult{
		Subscribers: cfg.SSESubs, TargetRate: rate, Writers: cfg.SSEWriters, ValueSize: cfg.SSESize,
		Warmup: cfg.SSEWarmup.String(), Duration: cfg.SSEDuration.String(), LoadAvgStart: loadAvg1(),
	}
	profile := ""
	if cfg.ProfileDir != "" {
		profile = filepath.Join(cfg.ProfileDir, fmt.Sprintf("luma-sse-%.0f.cpu.pprof", rate))
	}
	s, err := startLuma(cfg, cfg.LumaBin, cfg.Dir, "sse", profile)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err := s.close(cfg.Keep); err != nil {
			lg.Warn("stopping luma", "err", err)
		}
	}()
	hc := &http.Client{Timeout: 10 * time.Second}
	h0, err := s.health(hc)
	if err != nil {
		return nil, err
	}

	// Subscribers: one connection each (no keep-alive pool to share).
	str := &http.Transport{
		Proxy:              nil,
		DialContext:        (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		DisableKeepAlives:  true,
		DisableCompression: true,
	}
	sctx, stopSubs := context.WithCancel(context.Background())
	defer stopSubs()
	subs := make([]*subscriber, cfg.SSESubs)
	var (
		subWG   sync.WaitGroup
		connErr atomic.Pointer[error]
		sem     = make(chan struct{}, 64) // connect at most 64 at a time
		ready   sync.WaitGroup
		from    atomic.Int64 // measured window, set before the writes start
		to      atomic.Int64
	)
	from.Store(-1)
	url := s.base + "/v1/stream?since=" + strconv.FormatUint(h0.LastOffset, 10)
	for i := range subs {
		sub := &subscriber{expect: h0.LastOffset + 1}
		subs[i] = sub
		subWG.Add(1)
		ready.Add(1)
		go func() {
			defer subWG.Done()
			sem <- struct{}{}
			req, _ := http.NewRequestWithContext(sctx, http.MethodGet, url, nil)
			resp, err := str.RoundTrip(req)
			<-sem
			if err == nil && resp.StatusCode != http.StatusOK {
				err = fmt.Errorf("stream: %s", resp.Status)
				resp.Body.Close()
			}
			ready.Done()
			if err != nil {
				sub.err = err
				sub.failed.Store(true)
				connErr.CompareAndSwap(nil, &err)
				return
			}
			defer resp.Body.Close()
			// Wait for the window to be known before the first event can
			// arrive (no write happens before it is set).
			for from.Load() < 0 && sctx.Err() == nil {
				time.Sleep(time.Millisecond)
			}
			sub.read(sctx, bufio.NewReaderSize(resp.Body, 64<<10), from.Load(), to.Load())
		}()
	}
	ready.Wait()
	if p := connErr.Load(); p != nil {
		return nil, fmt.Errorf("opening %d streams: %w", cfg.SSESubs, *p)
	}
	mc := &http.Client{Timeout: 10 * time.Second}
	// Every stream is registered with the hub once sse_clients counts it.
	deadline := time.Now().Add(30 * time.Second)
	for {
		m, err := scrape(mc, s.base+"/v1/metrics")
		if err != nil {
			return nil, err
		}
		if n := m["luma_stream_subscribers"]; int(n) >= cfg.SSESubs {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("only %v of %d streams registered", m["luma_stream_subscribers"], cfg.SSESubs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	lg.Info("sse: streams open", "subscribers", cfg.SSESubs)

	// Writers: open loop, the i-th PUT is due at start + i/rate.
	val := []byte(`"x"`)
	drv := newLumaDriver(s.base, cfg.SSEWriters, 1, len(val), val)
	defer drv.close()
	var (
		wg       sync.WaitGroup
		next     atomic.Uint64
		acked    atomic.Uint64
		failed   atomic.Uint64
		firstErr atomic.Pointer[string]
		putHists = make([]*hist, cfg.SSEWriters)
		interval = time.Duration(float64(time.Second) / rate)
		start    = time.Now().Add(50 * time.Millisecond)
		t0       = start.Add(cfg.SSEWarmup)
		end      = t0.Add(cfg.SSEDuration)
	)
	to.Store(end.UnixNano()) // before from: readers start once from is set
	from.Store(t0.UnixNano())
	m0, err := scrape(mc, s.base+"/v1/metrics")
	if err != nil {
		return nil, err
	}
	cpu0, self0 := s.cpuTime(), selfCPU()
	pad := bytes.Repeat([]byte("p"), max(cfg.SSESize-60, 1))
	for w := range cfg.SSEWriters {
		putHists[w] = new(hist)
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf bytes.Buffer
			body := make([]byte, 0, cfg.SSESize+64)
			for {
				i := next.Add(1) - 1
				due := start.Add(time.Duration(i) * interval)
				if !due.Before(end) || !time.Now().Before(end) {
					// Past the end: PUTs the server was too slow to take
					// are not sent (the report shows offered vs achieved).
					return
				}
				time.Sleep(time.Until(due))
				sent := time.Now()
				body = body[:0]
				body = append(body, `{"value":{"send_ns":`...)
				body = strconv.AppendInt(body, sent.UnixNano(), 10)
				body = append(body, `,"seq":`...)
				body = strconv.AppendUint(body, i, 10)
				body = append(body, `,"p":"`...)
				body = append(body, pad...)
				body = append(body, `"}}`...)
				key := s.base + "/v1/state/lb:sse:" + strconv.FormatUint(i%1000, 10)
				_, err := drv.do(context.Background(), http.MethodPut, key, body, &buf)
				done := time.Now()
				if err != nil {
					failed.Add(1)
					msg := err.Error()
					firstErr.CompareAndSwap(nil, &msg)
					continue
				}
				acked.Add(1)
				if !sent.Before(t0) {
					putHists[w].record(done.Sub(sent))
				}
			}
		}()
	}
	if profile != "" {
		time.Sleep(time.Until(t0))
		_ = s.signal(syscall.SIGUSR1)
		time.Sleep(time.Until(end))
		_ = s.signal(syscall.SIGUSR2)
	}
	wg.Wait()
	writeEnd := time.Now()
	cpu1, self1 := s.cpuTime(), selfCPU()
	elapsed := writeEnd.Sub(start)
	res.ServerCores = (cpu1 - cpu0).Seconds() / elapsed.Seconds()
	res.ClientCores = (self1 - self0).Seconds() / elapsed.Seconds()
	res.Writes, res.WriteErrors = acked.Load(), failed.Load()
	if p := firstErr.Load(); p != nil {
		res.FirstError = *p
	}
	res.AchievedRate = float64(res.Writes) / elapsed.Seconds()
	var ph hist
	for _, h := range putHists {
		ph.merge(h)
	}
	res.Put = ph.summary()

	h1, err := s.health(hc)
	if err != nil {
		return nil, err
	}
	res.Events = h1.LastOffset - h0.LastOffset
	// Wait for every subscriber to reach the head.
	drainDeadline := time.Now().Add(cfg.SSEDrain)
	for {
		behind := 0
		for _, sub := range subs {
			if sub.last.Load() < h1.LastOffset && !sub.failed.Load() {
				behind++
			}
		}
		if behind == 0 || time.Now().After(drainDeadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	res.DrainMs = ms(time.Since(writeEnd))
	m1, err := scrape(mc, s.base+"/v1/metrics")
	if err != nil {
		return nil, err
	}
	res.HubDrops = m1["luma_stream_live_drops_total"] - m0["luma_stream_live_drops_total"]
	res.Catchups = m1["luma_sse_catchups_total"] - m0["luma_sse_catchups_total"]
	res.SSEClients = m1["sse_clients"]
	stopSubs()
	subWG.Wait()

	var all hist
	for _, sub := range subs {
		all.merge(&sub.h)
		res.Delivered += sub.received
		res.Duplicates += sub.dups
		res.OutOfOrder += sub.outOfOrder
		res.Gaps += sub.gaps
		lost := sub.missing
		if sub.expect <= h1.LastOffset {
			lost += h1.LastOffset + 1 - sub.expect
		}
		res.Lost += lost
		if lost == 0 && sub.dups == 0 && sub.outOfOrder == 0 && sub.gaps == 0 && sub.err == nil {
			res.Complete++
		}
		if sub.err != nil {
			res.StreamErrors++
			lg.Warn("sse: subscriber failed", "err", sub.err)
		}
		res.WorstSubP99ms = max(res.WorstSubP99ms, ms(sub.h.quantile(0.99)))
	}
	res.Delivery = all.summary()
	res.LoadAvgEnd = loadAvg1()
	if res.Writes != res.Events {
		return res, fmt.Errorf("sse: %d PUTs acknowledged but the log grew by %d events (write errors: %d)", res.Writes, res.Events, res.WriteErrors)
	}
	if res.Lost+res.Duplicates+res.OutOfOrder+res.Gaps > 0 || res.StreamErrors > 0 {
		return res, errors.New("sse: some subscribers lost, repeated or reordered events (see the result)")
	}
	return res, nil
}
