package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Defaults of the drain: before the collector gets SIGTERM, the supervisor
// keeps it running and reads its own metrics until everything it holds has
// been sent (every series of the drain metrics is 0 on two reads in a row),
// the drain timeout has passed, or the metrics cannot be read.
const (
	defaultDrainMetricsURL = "http://127.0.0.1:8888/metrics"
	defaultDrainTimeout    = 100 * time.Second
	defaultDrainPoll       = time.Second
	drainScrapeTimeout     = 5 * time.Second
	flagDrainMetric        = "drain-metric"
)

// defaultDrainMetrics are what an exporter holds: its queue (items or bytes,
// in flight included) and its requests in flight.
var defaultDrainMetrics = []string{"otelcol_exporter_queue_size", "otelcol_exporter_in_flight_requests"}

// series is one sample of a metric: its name with labels, and its value.
type series struct {
	name  string
	value float64
}

// held returns the series of the metrics in names whose value is not 0.
func held(text io.Reader, names []string) ([]series, error) {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var out []series
	scan := bufio.NewScanner(text)
	scan.Buffer(make([]byte, 64*1024), 1024*1024)
	for scan.Scan() {
		line := strings.TrimSpace(scan.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		end := strings.IndexAny(line, "{ ")
		if end < 0 || !want[line[:end]] {
			continue
		}
		rest := line[end:]
		if rest[0] == '{' {
			close := strings.LastIndexByte(rest, '}')
			if close < 0 {
				return nil, fmt.Errorf("malformed metric line %q", line)
			}
			rest = rest[close+1:]
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			return nil, fmt.Errorf("metric line without a value %q", line)
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			return nil, fmt.Errorf("metric line with a bad value %q", line)
		}
		if v != 0 {
			out = append(out, series{name: strings.TrimSpace(line[:len(line)-len(rest)]), value: v})
		}
	}
	return out, scan.Err()
}

// scrape reads the collector's metrics once and returns what it still holds.
func scrape(url string, names []string) ([]series, error) {
	ctx, cancel := context.WithTimeout(context.Background(), drainScrapeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP status %d", resp.StatusCode)
	}
	return held(resp.Body, names)
}

// describeHeld lists held series for a log line, largest first.
func describeHeld(s []series) string {
	sorted := append([]series{}, s...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].value > sorted[j].value })
	parts := make([]string, 0, len(sorted))
	for _, x := range sorted {
		parts = append(parts, fmt.Sprintf("%s %s", x.name, strconv.FormatFloat(x.value, 'f', -1, 64)))
	}
	return strings.Join(parts, ", ")
}

// drain keeps the collector running after a stop was asked for, until it
// holds nothing (two reads in a row, no earlier than --drain-min-wait),
// --drain-timeout passes or its metrics cannot be read. It returns true when
// the collector was drained. Whatever is held at the deadline is logged: the
// collector drops an in-memory queue on SIGTERM, and a persistent one goes
// with the task's volume.
func (s *supervisor) drain() bool {
	cfg := s.cfg
	if cfg.drainMetricsURL == "" {
		return false
	}
	start := time.Now()
	minUntil := start.Add(cfg.drainMinWait)
	deadline := start.Add(cfg.drainTimeout)
	s.out.logf("drain: keeping the collector running until it holds nothing (%s = 0 at %s), at most %s",
		strings.Join(cfg.drainMetrics, ", "), cfg.drainMetricsURL, cfg.drainTimeout)
	zeros := 0
	var last []series
	for {
		h, err := scrape(cfg.drainMetricsURL, cfg.drainMetrics)
		if err != nil {
			s.out.logf("drain: cannot read the collector's metrics at %s (%v): stopping it without draining",
				cfg.drainMetricsURL, err)
			return false
		}
		last = h
		if len(h) == 0 {
			zeros++
		} else {
			zeros = 0
		}
		now := time.Now()
		if zeros >= 2 && !now.Before(minUntil) {
			s.out.logf("drain: the collector holds nothing after %s: stopping it", now.Sub(start).Round(time.Millisecond))
			return true
		}
		if !now.Before(deadline) {
			break
		}
		s.sleepDuringDrain(min(cfg.drainPoll, time.Until(deadline)))
	}
	if len(last) == 0 {
		s.out.logf("drain: timeout: --drain-timeout %s passed before two reads in a row found nothing held: stopping the collector", cfg.drainTimeout)
		return false
	}
	s.out.logf("drain: timeout: the collector still holds %s after --drain-timeout %s: stopping it; "+
		"an in-memory queue drops this (the collector logs the items it drops), a persistent one keeps it "+
		"on the queue volume, which a stopped task loses", describeHeld(last), cfg.drainTimeout)
	return false
}

// sleepDuringDrain waits d; signals that arrive meanwhile only get a log
// line (the platform's SIGKILL at its stop timeout ends everything anyway).
func (s *supervisor) sleepDuringDrain(d time.Duration) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case <-timer.C:
			return
		case sig := <-s.sigs:
			s.out.logf("drain: ignoring %s: the collector is being drained", sigName(sig))
		}
	}
}
