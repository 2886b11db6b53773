package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// promSamples is one scrape of a Prometheus text page: series -> value,
// the series written as on the page (name{labels}).
type promSamples map[string]float64

func scrape(c *http.Client, url string) (promSamples, error) {
	resp, err := c.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape %s: %s", url, resp.Status)
	}
	out := promSamples{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		out[line[:i]] = v
	}
	return out, sc.Err()
}

// promHist is a Prometheus histogram: cumulative bucket counts by upper
// bound. In JSON the bounds are strings, so the last can be "+Inf".
type promHist struct {
	Bounds []float64 `json:"-"` // ascending, last is +Inf
	Cum    []float64 `json:"cumulative"`
	Sum    float64   `json:"sum"`
	Count  float64   `json:"count"`
}

func (h promHist) MarshalJSON() ([]byte, error) {
	type plain promHist
	le := make([]string, len(h.Bounds))
	for i, b := range h.Bounds {
		le[i] = formatLe(b)
	}
	return json.Marshal(struct {
		Le []string `json:"le"`
		plain
	}{le, plain(h)})
}

// hist extracts the unlabelled histogram name from a scrape.
func (s promSamples) hist(name string) promHist {
	var h promHist
	prefix := name + `_bucket{le="`
	for k := range s {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		le := strings.TrimSuffix(k[len(prefix):], `"}`)
		b, err := strconv.ParseFloat(le, 64) // "+Inf" parses as +Inf
		if err != nil {
			continue
		}
		h.Bounds = append(h.Bounds, b)
	}
	slices.Sort(h.Bounds)
	for _, b := range h.Bounds {
		h.Cum = append(h.Cum, s[prefix+formatLe(b)+`"}`])
	}
	h.Sum, h.Count = s[name+"_sum"], s[name+"_count"]
	return h
}

// formatLe writes a bucket bound as client_golang does.
func formatLe(b float64) string {
	if math.IsInf(b, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(b, 'g', -1, 64)
}

// sub returns h minus an earlier scrape of the same histogram.
func (h promHist) sub(before promHist) promHist {
	out := promHist{Bounds: h.Bounds, Cum: slices.Clone(h.Cum), Sum: h.Sum - before.Sum, Count: h.Count - before.Count}
	if len(before.Cum) == len(h.Cum) {
		for i := range out.Cum {
			out.Cum[i] -= before.Cum[i]
		}
	}
	return out
}

func (h promHist) mean() float64 {
	if h.Count == 0 {
		return 0
	}
	return h.Sum / h.Count
}

// quantile returns the upper bound of the bucket holding the nearest-rank
// q-quantile (so "p50 <= x"); -1 if it is in the overflow (+Inf) bucket.
func (h promHist) quantile(q float64) float64 {
	if h.Count == 0 {
		return 0
	}
	rank := math.Ceil(q * h.Count)
	for i, c := range h.Cum {
		if c >= rank {
			if math.IsInf(h.Bounds[i], 1) {
				return -1
			}
			return h.Bounds[i]
		}
	}
	return -1
}

// shareAbove is the fraction of observations above bound (which must be one
// of the bucket bounds; -1 otherwise).
func (h promHist) shareAbove(bound float64) float64 {
	if h.Count == 0 {
		return 0
	}
	for i, b := range h.Bounds {
		if b == bound {
			return 1 - h.Cum[i]/h.Count
		}
	}
	return -1
}
