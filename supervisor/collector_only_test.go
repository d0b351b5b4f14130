package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// fakeMetrics serves the collector's own metrics with a queue of held items
// that the test sets.
type fakeMetrics struct {
	server *httptest.Server
	queued atomic.Int64
	reads  atomic.Int64
}

func newFakeMetrics(t *testing.T, queued int64) *fakeMetrics {
	t.Helper()
	m := &fakeMetrics{}
	m.queued.Store(queued)
	m.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		m.reads.Add(1)
		fmt.Fprintf(w, "# HELP otelcol_exporter_queue_size Current size of the retry queue\n")
		fmt.Fprintf(w, "otelcol_exporter_queue_size{data_type=\"logs\",exporter=\"otlp_http/sink\"} 0\n")
		fmt.Fprintf(w, "otelcol_exporter_queue_size{data_type=\"traces\",exporter=\"otlp_http/sink\"} %d\n", m.queued.Load())
		fmt.Fprintf(w, "otelcol_exporter_queue_capacity{data_type=\"traces\",exporter=\"otlp_http/sink\"} 5000\n")
		fmt.Fprintf(w, "otelcol_exporter_in_flight_requests{data_type=\"traces\",exporter=\"otlp_http/sink\"} 0\n")
	}))
	t.Cleanup(m.server.Close)
	return m
}

// collectorOnly is a harness running the supervisor with --collector-only,
// draining from metrics.
func collectorOnly(t *testing.T, metrics *fakeMetrics, extra ...string) *harness {
	h := newHarness(t)
	h.flags = withoutFlag(h.flags, "--drain-metrics-url")
	h.flags = append(h.flags, "--collector-only", "--drain-poll-interval", "20ms")
	if metrics != nil {
		h.flags = append(h.flags, "--drain-metrics-url", metrics.server.URL+"/metrics")
	}
	h.flags = append(h.flags, extra...)
	h.app = nil
	return h
}

func TestSIGTERMDrainsTheQueueBeforeTheCollectorGetsIt(t *testing.T) {
	// GIVEN a collector run alone whose exporter holds 1000 items
	metrics := newFakeMetrics(t, 1000)
	h := collectorOnly(t, metrics, "--drain-timeout", "10s")
	h.start()
	h.awaitEvent("collector start run=1")

	// WHEN ECS sends SIGTERM, and the queue empties 300ms later
	h.signal(syscall.SIGTERM)
	time.Sleep(300 * time.Millisecond)
	h.assertNoEvent("collector SIGTERM")
	metrics.queued.Store(0)
	code := h.wait()

	// THEN the collector got SIGTERM only once it held nothing, and the
	// supervisor exits 0
	assertCode(t, h, code, 0)
	h.assertOrder("collector start run=1", "collector SIGTERM run=1", "collector stopped run=1")
	h.assertStderr(
		"supervisor: received SIGTERM: draining and stopping the collector\n",
		"supervisor: drain: keeping the collector running until it holds nothing (otelcol_exporter_queue_size, otelcol_exporter_in_flight_requests = 0 at "+metrics.server.URL+"/metrics), at most 10s\n",
		"supervisor: drain: the collector holds nothing after ",
		"supervisor: exiting with status 0\n",
	)
	if metrics.reads.Load() < 3 {
		t.Errorf("metrics read %d times, want the queue watched while it held data", metrics.reads.Load())
	}
}

func TestADrainPastItsTimeoutLogsWhatIsLost(t *testing.T) {
	// GIVEN a collector run alone whose exporter holds 1000 items that it
	// never sends
	metrics := newFakeMetrics(t, 1000)
	h := collectorOnly(t, metrics, "--drain-timeout", "400ms")
	h.start()
	h.awaitEvent("collector start run=1")

	// WHEN it gets SIGTERM
	started := time.Now()
	h.signal(syscall.SIGTERM)
	code := h.wait()

	// THEN the collector is stopped after the drain timeout, the held
	// series are logged, and the supervisor exits 1
	assertCode(t, h, code, exitNotDrained)
	if elapsed := time.Since(started); elapsed < 400*time.Millisecond {
		t.Errorf("stopped after %s, before the drain timeout", elapsed)
	}
	h.assertOrder("collector SIGTERM run=1", "collector stopped run=1")
	h.assertStderr(
		`supervisor: drain: timeout: the collector still holds otelcol_exporter_queue_size{data_type="traces",exporter="otlp_http/sink"} 1000 after --drain-timeout 400ms: stopping it;`,
		"supervisor: exiting with status 1\n",
	)
}

func TestTheMinimumDrainKeepsAnEmptyCollectorReceiving(t *testing.T) {
	// GIVEN a collector that holds nothing, and a minimum drain of 500ms
	// (a sampler still gets spans until the routers stop resolving it)
	metrics := newFakeMetrics(t, 0)
	h := collectorOnly(t, metrics, "--drain-min-wait", "500ms", "--drain-timeout", "5s")
	h.start()
	h.awaitEvent("collector start run=1")

	// WHEN it gets SIGTERM
	started := time.Now()
	h.signal(syscall.SIGTERM)
	code := h.wait()

	// THEN it is stopped no earlier than the minimum
	assertCode(t, h, code, 0)
	if elapsed := time.Since(started); elapsed < 500*time.Millisecond {
		t.Errorf("stopped after %s, before --drain-min-wait", elapsed)
	}
}

func TestUnreadableMetricsStopTheCollectorWithoutDraining(t *testing.T) {
	// GIVEN metrics at an address nothing listens on
	metrics := newFakeMetrics(t, 0)
	url := metrics.server.URL + "/metrics"
	metrics.server.Close()
	h := collectorOnly(t, nil, "--drain-metrics-url", url)
	h.start()
	h.awaitEvent("collector start run=1")

	// WHEN it gets SIGTERM
	h.signal(syscall.SIGTERM)
	code := h.wait()

	// THEN the collector is stopped at once, and the supervisor says why
	assertCode(t, h, code, exitNotDrained)
	h.assertStderr("supervisor: drain: cannot read the collector's metrics at " + url)
	h.assertOrder("collector SIGTERM run=1", "collector stopped run=1")
}

func TestWithoutDrainTheCollectorStopsAtOnceAndExits0(t *testing.T) {
	// GIVEN --drain-metrics-url= (no drain)
	h := collectorOnly(t, nil, "--drain-metrics-url", "")
	h.start()
	h.awaitEvent("collector start run=1")

	// WHEN it gets SIGHUP, which it ignores, and then SIGINT (two signals sent at once may be
	// delivered in either order, so the second waits for the first to be handled)
	h.signal(syscall.SIGHUP)
	h.awaitStderr("supervisor: ignoring SIGHUP: only SIGTERM and SIGINT stop the collector\n")
	h.assertNoEvent("collector SIGTERM")
	h.signal(syscall.SIGINT)
	code := h.wait()

	// THEN the collector stops, and the supervisor exits 0
	assertCode(t, h, code, 0)
	h.assertOrder("collector SIGTERM run=1", "collector stopped run=1")
}

func TestAnEmbeddedAppsExitDrainsTheCollectorFirst(t *testing.T) {
	// GIVEN embedded mode with a collector that holds 10 items
	metrics := newFakeMetrics(t, 10)
	h := newHarness(t)
	h.flags = withoutFlag(h.flags, "--drain-metrics-url")
	h.flags = append(h.flags, "--drain-metrics-url", metrics.server.URL+"/metrics", "--drain-poll-interval", "20ms")
	h.env["FAKE_APP_RUN"] = "10ms"
	h.start()

	// WHEN the app exits and the queue empties 300ms later
	h.awaitEvent("app exit")
	time.Sleep(300 * time.Millisecond)
	h.assertNoEvent("collector SIGTERM")
	metrics.queued.Store(0)
	code := h.wait()

	// THEN the collector was stopped after it drained
	assertCode(t, h, code, 0)
	h.assertOrder("app exit code=0", "collector SIGTERM run=1")
	h.assertStderr("supervisor: drain: the collector holds nothing after ")
}

func TestDrainFlagsAreChecked(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--collector-only", "--", "app"}, `--collector-only: runs no app, got the app command "app"`},
		{[]string{"--drain-metric", "queue{a=b}", "--", "app"}, `--drain-metric: must be a Prometheus metric name such as otelcol_exporter_queue_size, got "queue{a=b}"`},
		{[]string{"--drain-min-wait", "2m", "--drain-timeout", "1m", "--", "app"}, `--drain-min-wait: must be at most --drain-timeout (1m0s), got "2m0s"`},
		{[]string{"--drain-poll-interval", "1ms", "--", "app"}, `invalid value "1ms" for flag --drain-poll-interval: must be at least 10ms`},
	}
	for _, tc := range cases {
		// GIVEN a bad drain flag; WHEN parsed; THEN a usage error names it
		_, err := parseFlags(tc.args, noEnv)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseFlags(%q): error %v, want %q", tc.args, err, tc.want)
		}
	}
	// AND a valid collector-only command line keeps the default drain metrics
	cfg, err := parseFlags([]string{"--collector-only"}, noEnv)
	if err != nil || !cfg.collectorOnly || strings.Join(cfg.drainMetrics, ",") != "otelcol_exporter_queue_size,otelcol_exporter_in_flight_requests" {
		t.Errorf("parseFlags(--collector-only): %+v, %v", cfg, err)
	}
}

func TestHeldReadsEveryNonZeroSeries(t *testing.T) {
	// GIVEN Prometheus text with comments, labels, a timestamp and zeros
	text := "# TYPE a gauge\na{x=\"1\"} 0\na{x=\"2\"} 2.5e+03 1700000000\nab 7\nb 3\nc 0\n"

	// WHEN the series of a and b are read
	got, err := held(strings.NewReader(text), []string{"a", "b", "c"})

	// THEN only the non-zero ones of those metrics are returned
	if err != nil {
		t.Fatal(err)
	}
	if describeHeld(got) != `a{x="2"} 2500, b 3` {
		t.Errorf("held = %q", describeHeld(got))
	}
	if _, err := held(strings.NewReader("a{x=\"1\" 3\n"), []string{"a"}); err == nil {
		t.Error("a malformed line was accepted")
	}
}
