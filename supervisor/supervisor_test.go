package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binDir holds links to the test binary named after the roles it plays.
var binDir string

func TestMain(m *testing.M) {
	if role, ok := fakeRoles[filepath.Base(os.Args[0])]; ok {
		os.Exit(role())
	}
	dir, err := os.MkdirTemp("", "supervisor-test-")
	if err != nil {
		panic(err)
	}
	exe, err := os.Executable()
	if err != nil {
		panic(err)
	}
	for name := range fakeRoles {
		if err := os.Symlink(exe, filepath.Join(dir, name)); err != nil {
			panic(err)
		}
	}
	binDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// syncBuffer is a bytes.Buffer safe to read while a process writes to it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// run is one supervisor process playing with the fakes.
type harness struct {
	t      *testing.T
	dir    string
	env    map[string]string
	flags  []string
	app    []string
	stdin  string
	cmd    *exec.Cmd
	stdout syncBuffer
	stderr syncBuffer
	done   chan struct{}
	code   int
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	t.Parallel()
	return &harness{
		t:   t,
		dir: t.TempDir(),
		env: map[string]string{},
		flags: []string{
			"--collector", filepath.Join(binDir, "fake-collector"),
			"--probe", filepath.Join(binDir, "fake-probe"),
			"--probe-interval", "20ms",
			"--ready-timeout", "10s",
			"--collector-stop-timeout", "5s",
			"--restart-initial-backoff", "50ms",
			"--drain-metrics-url", "",
		},
		app: []string{filepath.Join(binDir, "fake-app"), "one", "two words"},
	}
}

func (h *harness) start(extraFlags ...string) {
	h.t.Helper()
	args := append(append(append([]string{}, h.flags...), extraFlags...), "--")
	args = append(args, h.app...)
	h.cmd = exec.Command(filepath.Join(binDir, "supervisor"), args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, envDrainBudget+"=") {
			h.cmd.Env = append(h.cmd.Env, kv)
		}
	}
	h.cmd.Env = append(h.cmd.Env, "FAKE_DIR="+h.dir)
	for k, v := range h.env {
		h.cmd.Env = append(h.cmd.Env, k+"="+v)
	}
	h.cmd.Stdin = strings.NewReader(h.stdin)
	h.cmd.Stdout = &h.stdout
	h.cmd.Stderr = &h.stderr
	if err := h.cmd.Start(); err != nil {
		h.t.Fatalf("start supervisor: %v", err)
	}
	h.done = make(chan struct{})
	go func() {
		defer close(h.done)
		err := h.cmd.Wait()
		var ee *exec.ExitError
		switch {
		case err == nil:
			h.code = 0
		case errors.As(err, &ee):
			h.code = ee.ExitCode()
		default:
			h.code = -1
		}
	}()
	h.t.Cleanup(func() {
		select {
		case <-h.done:
		default:
			_ = h.cmd.Process.Kill()
			<-h.done
		}
	})
}

// wait waits for the supervisor to exit and returns its exit status.
func (h *harness) wait() int {
	h.t.Helper()
	select {
	case <-h.done:
		return h.code
	case <-time.After(20 * time.Second):
		h.t.Fatalf("supervisor still running after 20s\nstderr:\n%s\nevents:\n%s", h.stderr.String(), strings.Join(h.events(), "\n"))
		return -1
	}
}

// runToEnd starts the supervisor and waits for it to exit.
func (h *harness) runToEnd(extraFlags ...string) int {
	h.t.Helper()
	h.start(extraFlags...)
	return h.wait()
}

func (h *harness) signal(sig syscall.Signal) {
	h.t.Helper()
	if err := h.cmd.Process.Signal(sig); err != nil {
		h.t.Fatalf("signal supervisor: %v", err)
	}
}

func (h *harness) events() []string {
	b, err := os.ReadFile(filepath.Join(h.dir, "events"))
	if err != nil {
		return nil
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// awaitEvent waits until an event starting with prefix has been recorded.
func (h *harness) awaitEvent(prefix string) string {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, e := range h.events() {
			if strings.HasPrefix(e, prefix) {
				return e
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	h.t.Fatalf("no event %q within 10s\nevents:\n%s\nstderr:\n%s", prefix, strings.Join(h.events(), "\n"), h.stderr.String())
	return ""
}

// awaitStderr waits until the supervisor's stderr contains text.
func (h *harness) awaitStderr(text string) {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(h.stderr.String(), text) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	h.t.Fatalf("stderr lacks %q after 10s\nstderr:\n%s", text, h.stderr.String())
}

// index returns the position of the first event starting with prefix, or -1.
func index(events []string, prefix string) int {
	for i, e := range events {
		if strings.HasPrefix(e, prefix) {
			return i
		}
	}
	return -1
}

// assertOrder checks that events with these prefixes all happened, in order.
func (h *harness) assertOrder(prefixes ...string) {
	h.t.Helper()
	events := h.events()
	prev := -1
	for _, p := range prefixes {
		i := index(events, p)
		if i < 0 {
			h.t.Fatalf("event %q missing\nevents:\n%s\nstderr:\n%s", p, strings.Join(events, "\n"), h.stderr.String())
		}
		if i <= prev {
			h.t.Fatalf("event %q came before %q\nevents:\n%s", p, prefixes[0], strings.Join(events, "\n"))
		}
		prev = i
	}
}

func (h *harness) assertNoEvent(prefix string) {
	h.t.Helper()
	if events := h.events(); index(events, prefix) >= 0 {
		h.t.Fatalf("unexpected event %q\nevents:\n%s", prefix, strings.Join(events, "\n"))
	}
}

func (h *harness) assertStderr(substrings ...string) {
	h.t.Helper()
	stderr := h.stderr.String()
	for _, s := range substrings {
		if !strings.Contains(stderr, s) {
			h.t.Errorf("stderr lacks %q\nstderr:\n%s", s, stderr)
		}
	}
}

func assertCode(t *testing.T, h *harness, got, want int) {
	t.Helper()
	if got != want {
		t.Fatalf("exit status %d, want %d\nstderr:\n%s\nevents:\n%s", got, want, h.stderr.String(), strings.Join(h.events(), "\n"))
	}
}

func TestCollectorIsHealthyBeforeTheAppStarts(t *testing.T) {
	// GIVEN a collector that takes 300ms to become healthy
	h := newHarness(t)
	h.env["FAKE_COLLECTOR_READY_AFTER"] = "300ms"
	h.env["FAKE_APP_RUN"] = "10ms"

	// WHEN the supervisor runs an app that exits by itself
	code := h.runToEnd("--probe-url", "http://127.0.0.1:23456/health", "--probe-timeout", "1500ms")

	// THEN the app starts only after the collector is healthy, and the
	// collector is stopped only after the app has exited
	assertCode(t, h, code, 0)
	h.assertOrder(
		"collector start run=1",
		"collector ready run=1",
		"app start",
		"app exit code=0",
		"collector SIGTERM run=1",
		"collector stopped run=1",
	)
	if e := h.awaitEvent("app start"); !strings.Contains(e, "collector_ready=true args=one two words") {
		t.Errorf("app start event %q: want the collector ready and the app's arguments passed through", e)
	}
	if e := h.awaitEvent("collector start"); !strings.HasSuffix(e, "args=--config=env:OTEL_FARGATE_CONFIG") {
		t.Errorf("collector start event %q: want the default collector argument", e)
	}
	probeArgs, err := os.ReadFile(filepath.Join(h.dir, "probe.args"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(probeArgs), "--url http://127.0.0.1:23456/health --timeout 1.5s"; got != want {
		t.Errorf("probe arguments %q, want %q", got, want)
	}
	h.assertStderr("supervisor: collector healthy after ", "supervisor: exiting with status 0\n")
}

func TestSignalsReachTheAppBeforeTheCollectorStops(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(signalName(sig), func(t *testing.T) {
			// GIVEN an app that takes 300ms to shut down after a signal
			h := newHarness(t)
			h.env["FAKE_APP_TERM_DELAY"] = "300ms"
			h.start()
			h.awaitEvent("app start")

			// WHEN the supervisor receives the signal
			h.signal(sig)
			code := h.wait()

			// THEN the app gets it first, and the collector is stopped
			// only after the app has exited
			assertCode(t, h, code, 0)
			h.assertOrder(
				"app start",
				"app signal "+signalName(sig),
				"app exit code=0",
				"collector SIGTERM run=1",
				"collector stopped run=1",
			)
			h.assertStderr("supervisor: forwarding " + signalName(sig) + " to the app (pid ")
		})
	}
}

func TestTheAppsExitStatusIsPropagated(t *testing.T) {
	cases := []struct {
		name   string
		env    map[string]string
		signal syscall.Signal
		want   int
	}{
		{name: "exit 0", env: map[string]string{"FAKE_APP_RUN": "10ms", "FAKE_APP_EXIT": "0"}, want: 0},
		{name: "exit 3", env: map[string]string{"FAKE_APP_RUN": "10ms", "FAKE_APP_EXIT": "3"}, want: 3},
		{name: "killed by SIGKILL", env: map[string]string{"FAKE_APP_RUN": "10ms", "FAKE_APP_SELF_KILL": "9"}, want: 128 + 9},
		{name: "killed by forwarded SIGTERM", env: map[string]string{"FAKE_APP_TERM": "default"}, signal: syscall.SIGTERM, want: 128 + 15},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN an app that ends this way
			h := newHarness(t)
			for k, v := range tc.env {
				h.env[k] = v
			}

			// WHEN it runs under the supervisor
			h.start()
			if tc.signal != 0 {
				h.awaitEvent("app start")
				h.signal(tc.signal)
			}
			code := h.wait()

			// THEN the supervisor exits with the app's status, after
			// stopping the collector
			assertCode(t, h, code, tc.want)
			h.assertOrder("app start", "collector SIGTERM run=1", "collector stopped run=1")
			h.assertStderr("supervisor: exiting with status " + strconv.Itoa(tc.want) + "\n")
		})
	}
}

func TestCollectorOutputIsKeptWithAPrefix(t *testing.T) {
	// GIVEN a collector writing to stdout and stderr, and an app reading stdin
	h := newHarness(t)
	h.env["FAKE_APP_RUN"] = "10ms"
	h.env["FAKE_APP_STDIN"] = "1"
	h.stdin = "ping\n"

	// WHEN the supervisor runs them
	code := h.runToEnd()

	// THEN the collector's lines are on the supervisor's stderr, prefixed,
	// including its shutdown output and a last line without a newline
	assertCode(t, h, code, 0)
	h.assertStderr(
		"[otelcol] collector stdout run 1\n",
		"[otelcol] collector stderr run 1\n",
		"[otelcol] shutting down, flushing exporters\n",
		"[otelcol] shutdown complete\nsupervisor: collector stopped (exit status 0)\n",
	)
	// AND the app's standard streams are passed through untouched
	stdout := h.stdout.String()
	if want := "app says hello\napp read \"ping\\n\"\n"; stdout != want {
		t.Errorf("stdout %q, want %q", stdout, want)
	}
	for _, line := range strings.Split(strings.TrimSpace(h.stderr.String()), "\n") {
		if !strings.HasPrefix(line, "[otelcol] ") && !strings.HasPrefix(line, "supervisor: ") {
			t.Errorf("stderr line %q has neither prefix", line)
		}
	}
}

func TestCustomCollectorArgumentsAndLogPrefix(t *testing.T) {
	// GIVEN collector arguments and a log prefix on the command line
	h := newHarness(t)
	h.env["FAKE_APP_RUN"] = "10ms"

	// WHEN the supervisor runs
	code := h.runToEnd("--collector-arg", "--config=/etc/otelcol/config.yaml",
		"--collector-arg", "--feature-gates=-foo", "--collector-log-prefix", "collector| ")

	// THEN the collector gets exactly those arguments and its lines the prefix
	assertCode(t, h, code, 0)
	if e := h.awaitEvent("collector start"); !strings.HasSuffix(e, "args=--config=/etc/otelcol/config.yaml --feature-gates=-foo") {
		t.Errorf("collector start event %q", e)
	}
	h.assertStderr("collector| collector stderr run 1\n")
}

func TestACrashedCollectorIsRestartedWhileTheAppKeepsRunning(t *testing.T) {
	// GIVEN a collector whose first run crashes 200ms after it became healthy
	h := newHarness(t)
	h.env["FAKE_COLLECTOR_CRASH_AFTER"] = "200ms"
	h.start("--restart-initial-backoff", "100ms")

	// WHEN the collector has been restarted and the app is stopped
	h.awaitEvent("collector start run=2")
	h.signal(syscall.SIGTERM)
	code := h.wait()

	// THEN the app ran on throughout, untouched by the crash, and the second
	// collector was stopped after the app
	assertCode(t, h, code, 0)
	h.assertOrder(
		"app start",
		"collector crash run=1",
		"collector start run=2",
		"app signal SIGTERM",
		"app exit code=0",
		"collector SIGTERM run=2",
		"collector stopped run=2",
	)
	h.assertStderr(
		"[otelcol] panic: fake crash in run 1\n",
		"exited unexpectedly (exit status 1) after ",
		"; restarting in 100ms\n",
	)
}

var restartDelay = regexp.MustCompile(`restarting in (\S+)\n`)

func restartDelays(h *harness) []string {
	var delays []string
	for _, m := range restartDelay.FindAllStringSubmatch(h.stderr.String(), -1) {
		delays = append(delays, m[1])
	}
	return delays
}

func TestRestartBackoffDoublesUpToTheCap(t *testing.T) {
	// GIVEN a collector that keeps crashing 50ms after each start
	h := newHarness(t)
	h.env["FAKE_COLLECTOR_CRASH_AFTER"] = "50ms"
	h.env["FAKE_COLLECTOR_CRASH_RUNS"] = "1000"
	h.start("--restart-initial-backoff", "20ms", "--restart-max-backoff", "80ms", "--restart-reset-after", "1m")

	// WHEN it has crashed five times
	h.awaitEvent("collector start run=6")
	h.signal(syscall.SIGTERM)
	code := h.wait()

	// THEN the delays doubled from the initial backoff up to the cap
	assertCode(t, h, code, 0)
	delays := restartDelays(h)
	want := []string{"20ms", "40ms", "80ms", "80ms", "80ms"}
	if len(delays) < len(want) || strings.Join(delays[:len(want)], " ") != strings.Join(want, " ") {
		t.Fatalf("restart delays %v, want them to start with %v", delays, want)
	}
	h.assertNoEvent("app exit code=1")
}

func TestRestartBackoffResetsAfterAStableRun(t *testing.T) {
	// GIVEN a collector that crashes 150ms after each start, longer than the
	// reset period
	h := newHarness(t)
	h.env["FAKE_COLLECTOR_CRASH_AFTER"] = "150ms"
	h.env["FAKE_COLLECTOR_CRASH_RUNS"] = "1000"
	h.start("--restart-initial-backoff", "20ms", "--restart-max-backoff", "1s", "--restart-reset-after", "100ms")

	// WHEN it has crashed three times
	h.awaitEvent("collector start run=4")
	h.signal(syscall.SIGTERM)
	code := h.wait()

	// THEN each restart used the initial delay
	assertCode(t, h, code, 0)
	delays := restartDelays(h)
	if len(delays) < 3 || strings.Join(delays[:3], " ") != "20ms 20ms 20ms" {
		t.Fatalf("restart delays %v, want 20ms each", delays)
	}
}

func TestReadyTimeout(t *testing.T) {
	// GIVEN a collector that never becomes healthy
	h := newHarness(t)
	h.env["FAKE_COLLECTOR_READY_AFTER"] = "never"

	// WHEN the ready timeout passes
	code := h.runToEnd("--ready-timeout", "400ms")

	// THEN the supervisor stops the collector, never starts the app, and
	// fails with a message naming the timeout and the last probe result
	assertCode(t, h, code, exitNotReady)
	h.assertStderr("supervisor: error: the collector is not healthy after 400ms (--ready-timeout); " +
		"last probe: exit status 3: error: cannot reach http://127.0.0.1:13133/: connection refused\n")
	h.assertOrder("collector start run=1", "collector SIGTERM run=1", "collector stopped run=1")
	h.assertNoEvent("app start")
}

func TestACollectorIgnoringSIGTERMGetsSIGKILL(t *testing.T) {
	// GIVEN a collector that ignores SIGTERM
	h := newHarness(t)
	h.env["FAKE_COLLECTOR_IGNORE_TERM"] = "1"
	h.env["FAKE_APP_RUN"] = "10ms"
	h.env["FAKE_APP_EXIT"] = "3"

	// WHEN the app exits
	started := time.Now()
	code := h.runToEnd("--collector-stop-timeout", "300ms")

	// THEN the collector gets SIGKILL once the stop timeout has passed, and
	// the supervisor still exits with the app's status
	assertCode(t, h, code, 3)
	if elapsed := time.Since(started); elapsed < 300*time.Millisecond {
		t.Errorf("supervisor exited after %s, before the stop timeout", elapsed)
	}
	h.assertOrder("app exit code=3", "collector SIGTERM ignored run=1")
	h.assertNoEvent("collector stopped")
	h.assertStderr(
		"did not stop within 300ms: sending SIGKILL\n",
		"supervisor: collector stopped (killed by SIGKILL)\n",
	)
}

func TestACollectorThatExitsBeforeItIsHealthyFails(t *testing.T) {
	// GIVEN a collector that rejects its configuration
	h := newHarness(t)
	h.env["FAKE_COLLECTOR_EXIT"] = "1"

	// WHEN the supervisor starts
	code := h.runToEnd()

	// THEN it fails at once with the collector's own output and no app
	assertCode(t, h, code, exitCollectorFailed)
	h.assertStderr(
		"[otelcol] invalid configuration: exporters::nope: unknown type\n",
		"supervisor: error: the collector exited (exit status 1) before it became healthy",
	)
	h.assertNoEvent("app start")
}

func TestASignalBeforeTheAppStartsStopsTheCollector(t *testing.T) {
	// GIVEN a collector that is not healthy yet
	h := newHarness(t)
	h.env["FAKE_COLLECTOR_READY_AFTER"] = "never"
	h.start()
	h.awaitEvent("collector start run=1")

	// WHEN the supervisor is told to stop
	h.signal(syscall.SIGTERM)
	code := h.wait()

	// THEN it stops the collector, never starts the app, and reports the signal
	assertCode(t, h, code, 128+int(syscall.SIGTERM))
	h.assertOrder("collector SIGTERM run=1", "collector stopped run=1")
	h.assertNoEvent("app start")
	h.assertStderr("supervisor: received SIGTERM before the app started: stopping the collector\n")
}

func TestStartFailures(t *testing.T) {
	notExecutable := filepath.Join(t.TempDir(), "app")
	if err := os.WriteFile(notExecutable, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name      string
		flags     []string
		app       []string
		want      int
		message   string
		collector bool // whether the collector was started (and must have been stopped)
	}{
		{
			name:    "collector missing",
			flags:   []string{"--collector", "/nonexistent/otelcol"},
			want:    exitCollectorFailed,
			message: `supervisor: error: cannot start the collector "/nonexistent/otelcol": no such file or directory`,
		},
		{
			name:      "probe missing",
			flags:     []string{"--probe", "/nonexistent/healthcheck"},
			want:      exitCollectorFailed,
			message:   `supervisor: error: cannot run the probe "/nonexistent/healthcheck": no such file or directory`,
			collector: true,
		},
		{
			name:      "app not in PATH",
			app:       []string{"no-such-app-anywhere"},
			want:      exitAppNotFound,
			message:   `supervisor: error: cannot start the app "no-such-app-anywhere": not found in PATH`,
			collector: true,
		},
		{
			name:      "app path missing",
			app:       []string{"/nonexistent/app"},
			want:      exitAppNotFound,
			message:   `supervisor: error: cannot start the app "/nonexistent/app": no such file or directory`,
			collector: true,
		},
		{
			name:      "app not executable",
			app:       []string{notExecutable},
			want:      exitAppNotExecutable,
			message:   `supervisor: error: cannot start the app "` + notExecutable + `": permission denied`,
			collector: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN something that cannot be started
			h := newHarness(t)
			if tc.app != nil {
				h.app = tc.app
			}

			// WHEN the supervisor runs
			code := h.runToEnd(tc.flags...)

			// THEN it fails with its own status and message, and leaves no
			// collector running
			assertCode(t, h, code, tc.want)
			h.assertStderr(tc.message)
			if tc.collector {
				// It may be stopped before its first event: the supervisor log tells.
				h.assertStderr("supervisor: starting collector: ", "supervisor: stopping collector (pid ", "supervisor: collector stopped (")
			} else {
				h.assertNoEvent("collector start")
			}
			h.assertNoEvent("app start")
		})
	}
}

func TestAnEmptyProbeStartsTheAppWithoutWaiting(t *testing.T) {
	// GIVEN a collector that never becomes healthy, and no probe
	h := newHarness(t)
	h.env["FAKE_COLLECTOR_READY_AFTER"] = "never"
	h.env["FAKE_APP_RUN"] = "10ms"

	// WHEN the supervisor runs
	code := h.runToEnd("--probe=")

	// THEN the app runs anyway
	assertCode(t, h, code, 0)
	h.assertOrder("app start", "app exit code=0", "collector SIGTERM run=1", "collector stopped run=1")
	h.assertOrder("collector start run=1", "collector SIGTERM run=1")
	h.assertStderr("supervisor: --probe is empty: starting the app without waiting")
}

func TestOrphansAreAdoptedAndReaped(t *testing.T) {
	// GIVEN an app that leaves behind an orphaned process living 1s
	h := newHarness(t)
	h.env["FAKE_APP_ORPHAN"] = "1"
	h.env["FAKE_ORPHAN_LIFETIME"] = "1s"
	h.start()
	e := h.awaitEvent("app orphan pid=")
	pid, err := strconv.Atoi(strings.TrimPrefix(e, "app orphan pid="))
	if err != nil {
		t.Fatal(err)
	}

	// WHEN the orphan runs and then exits while the app still runs
	ppid := parentOf(t, pid)

	// THEN the supervisor adopted it and reaped it: no zombie is left
	if ppid != h.cmd.Process.Pid {
		t.Errorf("orphan %d has parent %d, want the supervisor %d", pid, ppid, h.cmd.Process.Pid)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := os.Stat("/proc/" + strconv.Itoa(pid))
		if errors.Is(err, os.ErrNotExist) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("orphan %d not reaped within 5s: %s", pid, procState(pid))
		}
		time.Sleep(20 * time.Millisecond)
	}
	h.signal(syscall.SIGTERM)
	assertCode(t, h, h.wait(), 0)
}

func parentOf(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatalf("orphan %d already gone: %v", pid, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "PPid:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("no PPid in /proc/%d/status", pid)
	return 0
}

func procState(pid int) string {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	return string(b)
}

func TestBadCommandLinesExitWithStatus2(t *testing.T) {
	// GIVEN a bad flag value
	h := newHarness(t)

	// WHEN the supervisor starts
	code := h.runToEnd("--ready-timeout", "soon")

	// THEN it exits 2 naming the flag and the value, and starts nothing
	assertCode(t, h, code, exitUsage)
	h.assertStderr(`supervisor: error: invalid value "soon" for flag --ready-timeout: must be a Go duration`)
	h.assertNoEvent("collector start")
}

func TestParseFlagsRejectsBadValues(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--ready-timeout=soon", "--", "app"}, `invalid value "soon" for flag --ready-timeout: must be a Go duration`},
		{[]string{"--ready-timeout=0s", "--", "app"}, `invalid value "0s" for flag --ready-timeout: must be at least 1ms`},
		{[]string{"--collector-stop-timeout=-1s", "--", "app"}, `invalid value "-1s" for flag --collector-stop-timeout: must be at least 0s`},
		{[]string{"--probe-interval=2h", "--", "app"}, `invalid value "2h" for flag --probe-interval: must be at most 1m0s`},
		{[]string{"--restart-initial-backoff=10s", "--restart-max-backoff=1s", "--", "app"}, `--restart-max-backoff: must be at least --restart-initial-backoff (10s), got "1s"`},
		{[]string{"--colector=/x", "--", "app"}, `flag provided but not defined: --colector`},
		{[]string{"--collector=", "--", "app"}, `--collector: must be the path of the collector binary, got ""`},
		{[]string{"--probe-url=", "--", "app"}, `--probe-url: must be the URL of the collector's health_check extension, got ""`},
		{[]string{"--ready-timeout"}, `flag needs an argument: --ready-timeout`},
		{[]string{"--"}, `no app command given`},
		{[]string{"--", ""}, `app command: must be a program name or path, got ""`},
	}
	for _, tc := range cases {
		// GIVEN a bad command line WHEN it is parsed THEN the error names the flag and value
		_, err := parseFlags(tc.args, noEnv)
		var ue *usageError
		if !errors.As(err, &ue) {
			t.Errorf("parseFlags(%q): error %v, want a usage error", tc.args, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseFlags(%q): error %q, want it to contain %q", tc.args, err, tc.want)
		}
	}
}

func TestParseFlagsDefaults(t *testing.T) {
	// GIVEN only an app WHEN parsed THEN every flag has its documented default
	cfg, err := parseFlags([]string{"--", "python", "-m", "app"}, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string][2]string{
		"collector":      {cfg.collector, "/otelcol-contrib"},
		"collector-arg":  {strings.Join(cfg.collectorArgs, " "), "--config=env:OTEL_FARGATE_CONFIG"},
		"probe":          {cfg.probe, "/healthcheck"},
		"probe-url":      {cfg.probeURL, "http://127.0.0.1:13133/"},
		"probe-timeout":  {cfg.probeTimeout.String(), "2s"},
		"ready-timeout":  {cfg.readyTimeout.String(), "30s"},
		"stop-timeout":   {cfg.stopTimeout.String(), "20s"},
		"restart-init":   {cfg.restartInitial.String(), "1s"},
		"restart-max":    {cfg.restartMax.String(), "30s"},
		"restart-reset":  {cfg.restartResetAfter.String(), "1m0s"},
		"log-prefix":     {cfg.collectorLogPrefix, "[otelcol] "},
		"app":            {strings.Join(cfg.app, " "), "python -m app"},
		"probe-interval": {cfg.probeInterval.String(), "500ms"},
		"drain-budget":   {cfg.drainBudgetFrom, ""},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %q, want %q", name, c[0], c[1])
		}
	}
}

func TestHelpAndVersion(t *testing.T) {
	// GIVEN --help or --version WHEN run THEN it prints to stdout and exits 0
	var out, errOut bytes.Buffer
	if code := run([]string{"--help"}, &out, &errOut); code != 0 {
		t.Fatalf("--help exit status %d", code)
	}
	for _, want := range []string{"usage: supervisor [flags] -- app [args...]", "  --collector-stop-timeout\n", "  --collector-drain-budget\n", "124 collector not healthy"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--help output lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if code := run([]string{"--version"}, &out, &errOut); code != 0 {
		t.Fatalf("--version exit status %d", code)
	}
	if !strings.HasPrefix(out.String(), "supervisor ") {
		t.Errorf("--version output %q", out.String())
	}
	if errOut.Len() != 0 {
		t.Errorf("unexpected stderr %q", errOut.String())
	}
}

func TestCopyLinesPrefixesEveryLineOnce(t *testing.T) {
	// GIVEN output with short lines, a line longer than the read buffer and
	// a last line without a newline
	long := strings.Repeat("x", 3*maxLineChunk+17)
	in := "first\n\nsecond\n" + long + "\nlast"
	var out bytes.Buffer
	w := &lineWriter{out: &out}

	// WHEN it is copied
	w.copyLines(strings.NewReader(in), "[p] ")

	// THEN every line has the prefix exactly once and ends with a newline
	want := "[p] first\n[p] \n[p] second\n[p] " + long + "\n[p] last\n"
	if out.String() != want {
		t.Errorf("copyLines output differs: got %d bytes, want %d", out.Len(), len(want))
	}
}
