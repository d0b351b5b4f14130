// Command supervisor runs an OpenTelemetry Collector and an app in one
// container: the collector starts first and stops last, its output is kept,
// and it is restarted if it dies while the app runs.
//
// Usage:
//
//	supervisor [flags] -- app [args...]
//
// Run "supervisor --help" for the flags and exit statuses.
package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"
)

// Exit statuses of the supervisor itself; otherwise it exits with the app's.
const (
	exitUsage            = 2   // bad command line
	exitNotReady         = 124 // collector not healthy within --ready-timeout
	exitCollectorFailed  = 125 // collector or probe could not run, or collector died before healthy
	exitAppNotExecutable = 126 // app found but could not be executed
	exitAppNotFound      = 127 // app not found
	exitNotDrained       = 1   // --collector-only: stopped while the collector still held data
)

// version is set at build time with -ldflags "-X main.version=..."; when
// empty, the module version from the build information is used.
var version = ""

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole program; it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	out := &lineWriter{out: stderr}
	cfg, err := parseFlags(args, os.Getenv)
	if err != nil {
		out.errorf("%v", err)
		out.writeLine([]byte("usage: supervisor [flags] -- app [args...]  (see supervisor --help)\n"))
		return exitUsage
	}
	if cfg.help {
		printHelp(stdout)
		return 0
	}
	if cfg.version {
		fmt.Fprintln(stdout, "supervisor", buildVersion())
		return 0
	}
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		out.errorf("cannot open %s: %v", os.DevNull, err)
		return exitCollectorFailed
	}
	defer devNull.Close()
	s := &supervisor{cfg: cfg, out: out, devNull: devNull}
	return s.run()
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		return info.Main.Version
	}
	return "(devel)"
}

type supervisor struct {
	cfg     *config
	out     *lineWriter
	devNull *os.File
	reaper  *reaper
	sigs    chan os.Signal
}

func (s *supervisor) run() int {
	// Signal handling and the reaper are in place before any child exists.
	s.sigs = make(chan os.Signal, 16)
	signal.Notify(s.sigs, forwardedSignals...)
	if os.Getpid() != 1 {
		if err := becomeSubreaper(); err != nil {
			s.out.logf("cannot become a child subreaper (%v): orphaned descendants are left to PID 1", err)
		}
	}
	s.reaper = newReaper()
	s.logStopTimeout()

	col := newCollector(s.cfg, s.reaper, s.out, s.devNull)
	inst, err := col.start()
	if err != nil {
		s.out.errorf("%v", err)
		return exitCollectorFailed
	}
	if s.cfg.collectorOnly {
		return s.runCollectorOnly(col, inst)
	}
	if s.cfg.probe == "" {
		s.out.logf("--probe is empty: starting the app without waiting for the collector to be healthy")
	} else if code, ok := s.waitReady(col, inst); !ok {
		return code
	}
	go col.supervise(inst)

	app, code := s.startApp()
	if app == nil {
		col.stop()
		return code
	}
	for running := true; running; {
		select {
		case sig := <-s.sigs:
			s.forward(app, sig)
		case <-app.exited:
			running = false
		}
	}
	code = exitCode(app.status)
	s.out.logf("app (pid %d) exited (%s)", app.pid, describeStatus(app.status))
	s.drain()
	go func() {
		for sig := range s.sigs {
			s.out.logf("ignoring %s: the app has exited and the collector is being stopped", sigName(sig))
		}
	}()
	col.stop()
	s.out.logf("exiting with status %d", code)
	return code
}

// runCollectorOnly supervises the collector alone (restarting it whenever it
// exits) until SIGTERM or SIGINT, then drains it and stops it. It exits 0
// when the collector was drained, 1 when it was stopped still holding data.
func (s *supervisor) runCollectorOnly(col *collector, inst *collectorInstance) int {
	go col.supervise(inst)
	for {
		sig := <-s.sigs
		if sig != syscall.SIGTERM && sig != syscall.SIGINT {
			s.out.logf("ignoring %s: only SIGTERM and SIGINT stop the collector", sigName(sig))
			continue
		}
		s.out.logf("received %s: draining and stopping the collector", sigName(sig))
		break
	}
	drained := s.drain()
	go func() {
		for sig := range s.sigs {
			s.out.logf("ignoring %s: the collector is being stopped", sigName(sig))
		}
	}()
	col.stop()
	code := 0
	if !drained && s.cfg.drainMetricsURL != "" {
		code = exitNotDrained
	}
	s.out.logf("exiting with status %d", code)
	return code
}

// logStopTimeout says how the stop timeout relates to the drain budget, when
// one was told.
func (s *supervisor) logStopTimeout() {
	cfg := s.cfg
	switch {
	case cfg.drainBudgetFrom == "":
	case cfg.stopTimeoutDerived:
		s.out.logf("collector stop timeout %s: the drain budget of %s (%s) plus %s",
			cfg.stopTimeout, cfg.drainBudget, cfg.drainBudgetFrom, drainMargin)
	default:
		s.out.logf("collector stop timeout %s (--%s): longer than the drain budget of %s (%s)",
			cfg.stopTimeout, flagStopTimeout, cfg.drainBudget, cfg.drainBudgetFrom)
	}
}

const noProbeYet = "no probe run completed"

// waitReady runs the probe until it passes. When it does not pass within the
// ready timeout, the collector exits, a signal arrives or the probe cannot be
// run, it stops the collector and returns false with the exit status.
func (s *supervisor) waitReady(col *collector, inst *collectorInstance) (int, bool) {
	cfg := s.cfg
	start := time.Now()
	deadline := start.Add(cfg.readyTimeout)
	last := noProbeYet
	s.out.logf("waiting up to %s for the collector to be healthy (%s --url %s)", cfg.readyTimeout, cfg.probe, cfg.probeURL)
	var pending chan probeResult
	// fail stops the collector once no probe is running any more.
	fail := func(code int, stop bool) (int, bool) {
		if pending != nil {
			<-pending
		}
		if stop {
			col.stopInstance(inst)
		} else {
			col.awaitOutput(inst)
		}
		return code, false
	}
	for {
		limit := min(cfg.probeTimeout+probeGrace, time.Until(deadline))
		pending = make(chan probeResult, 1)
		go func(ch chan<- probeResult) { ch <- runProbe(cfg, s.reaper, s.devNull, limit) }(pending)
		var res probeResult
		select {
		case res = <-pending:
			pending = nil
		case <-inst.exited:
			col.awaitOutput(inst)
			s.out.errorf("the collector exited (%s) before it became healthy", describeStatus(inst.status))
			return fail(exitCollectorFailed, false)
		case sig := <-s.sigs:
			s.out.logf("received %s before the app started: stopping the collector", sigName(sig))
			return fail(128+int(sig.(syscall.Signal)), true)
		}
		if res.err != nil {
			s.out.errorf("%v", res.err)
			return fail(exitCollectorFailed, true)
		}
		if res.healthy {
			s.out.logf("collector healthy after %s", time.Since(start).Round(time.Millisecond))
			return 0, true
		}
		// A probe cut short by the ready deadline says less than the
		// previous one that ran its course.
		if !res.killed || limit >= cfg.probeTimeout+probeGrace || last == noProbeYet {
			last = res.summary
		}
		remaining := time.Until(deadline)
		if remaining <= 0 {
			s.out.errorf("the collector is not healthy after %s (--ready-timeout); last probe: %s", cfg.readyTimeout, last)
			return fail(exitNotReady, true)
		}
		timer := time.NewTimer(min(cfg.probeInterval, remaining))
		select {
		case <-timer.C:
		case <-inst.exited:
			timer.Stop()
			col.awaitOutput(inst)
			s.out.errorf("the collector exited (%s) before it became healthy; last probe: %s", describeStatus(inst.status), last)
			return fail(exitCollectorFailed, false)
		case sig := <-s.sigs:
			timer.Stop()
			s.out.logf("received %s before the app started: stopping the collector", sigName(sig))
			return fail(128+int(sig.(syscall.Signal)), true)
		}
	}
}

// startApp starts the app with the supervisor's stdin, stdout, stderr and
// environment. On failure it returns a nil child and the exit status.
func (s *supervisor) startApp() (*child, int) {
	argv := s.cfg.app
	path := argv[0]
	if !strings.Contains(path, "/") {
		found, err := exec.LookPath(path)
		if err != nil && !errors.Is(err, exec.ErrDot) {
			s.out.errorf("cannot start the app %q: not found in PATH %q", path, os.Getenv("PATH"))
			return nil, exitAppNotFound
		}
		path = found
	}
	s.out.logf("starting app: %s", strings.Join(argv, " "))
	app, err := s.reaper.start(path, argv, &os.ProcAttr{
		Env:   os.Environ(),
		Files: []*os.File{os.Stdin, os.Stdout, os.Stderr},
	})
	if err != nil {
		s.out.errorf("cannot start the app %q: %v", path, unwrapPathError(err))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, exitAppNotFound
		}
		return nil, exitAppNotExecutable
	}
	return app, 0
}

// forward passes a signal on to the app.
func (s *supervisor) forward(app *child, sig os.Signal) {
	ssig, ok := sig.(syscall.Signal)
	if !ok {
		return
	}
	s.out.logf("forwarding %s to the app (pid %d)", sigName(sig), app.pid)
	if err := s.reaper.signal(app, ssig, false); err != nil && !errors.Is(err, errExited) {
		s.out.logf("cannot forward %s to the app (pid %d): %v", sigName(sig), app.pid, err)
	}
}

func sigName(sig os.Signal) string {
	if ssig, ok := sig.(syscall.Signal); ok {
		return signalName(ssig)
	}
	return sig.String()
}
