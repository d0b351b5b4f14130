package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"
)

// After SIGKILL, how long to wait for the collector to be reaped, and after
// it has been reaped, how long to wait for the rest of its output (a
// descendant may still hold the pipe open).
const (
	killWait   = 5 * time.Second
	outputWait = 2 * time.Second
)

// collectorInstance is one run of the collector process.
type collectorInstance struct {
	*child
	outputDone chan struct{} // closed when its output pipe reached EOF
}

// collector starts, restarts and stops the collector process.
type collector struct {
	cfg    *config
	reaper *reaper
	out    *lineWriter
	devNul *os.File

	stopRequest chan struct{} // closed by stop
	stopped     chan struct{} // closed when supervise has returned
}

func newCollector(cfg *config, r *reaper, out *lineWriter, devNull *os.File) *collector {
	return &collector{
		cfg:         cfg,
		reaper:      r,
		out:         out,
		devNul:      devNull,
		stopRequest: make(chan struct{}),
		stopped:     make(chan struct{}),
	}
}

// start runs the collector once, with stdout and stderr on one pipe whose
// lines are copied to the supervisor's stderr with the log prefix. The
// collector runs in its own process group, so a terminal's Ctrl-C reaches
// the app, not the collector.
func (c *collector) start() (*collectorInstance, error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("cannot create the collector's output pipe: %w", err)
	}
	argv := append([]string{c.cfg.collector}, c.cfg.collectorArgs...)
	c.out.logf("starting collector: %s", strings.Join(argv, " "))
	ch, err := c.reaper.start(c.cfg.collector, argv, &os.ProcAttr{
		Env:   os.Environ(),
		Files: []*os.File{c.devNul, pw, pw},
		Sys:   &syscall.SysProcAttr{Setpgid: true},
	})
	_ = pw.Close()
	if err != nil {
		_ = pr.Close()
		return nil, fmt.Errorf("cannot start the collector %q: %w", c.cfg.collector, unwrapPathError(err))
	}
	inst := &collectorInstance{child: ch, outputDone: make(chan struct{})}
	go func() {
		defer close(inst.outputDone)
		defer pr.Close()
		c.out.copyLines(pr, c.cfg.collectorLogPrefix)
	}()
	return inst, nil
}

// awaitOutput waits, bounded, until the instance's output has been copied.
func (c *collector) awaitOutput(inst *collectorInstance) {
	select {
	case <-inst.outputDone:
	case <-time.After(outputWait):
	}
}

// stopInstance stops a running instance: SIGTERM, then SIGKILL to its process
// group after the stop timeout. It returns once the instance has been reaped
// (or could not be, after SIGKILL and killWait) and its output copied.
func (c *collector) stopInstance(inst *collectorInstance) {
	select {
	case <-inst.exited:
		c.awaitOutput(inst)
		return
	default:
	}
	c.out.logf("stopping collector (pid %d): SIGTERM, SIGKILL after %s", inst.pid, c.cfg.stopTimeout)
	if err := c.reaper.signal(inst.child, syscall.SIGTERM, false); err != nil && !errors.Is(err, errExited) {
		c.out.logf("cannot send SIGTERM to the collector (pid %d): %v", inst.pid, err)
	}
	timer := time.NewTimer(c.cfg.stopTimeout)
	defer timer.Stop()
	select {
	case <-inst.exited:
		c.awaitOutput(inst)
		c.out.logf("collector stopped (%s)", describeStatus(inst.status))
		return
	case <-timer.C:
	}
	c.out.logf("collector (pid %d) did not stop within %s: sending SIGKILL", inst.pid, c.cfg.stopTimeout)
	if err := c.reaper.signal(inst.child, syscall.SIGKILL, true); err != nil && !errors.Is(err, errExited) {
		c.out.logf("cannot send SIGKILL to the collector (pid %d): %v", inst.pid, err)
	}
	select {
	case <-inst.exited:
		c.awaitOutput(inst)
		c.out.logf("collector stopped (%s)", describeStatus(inst.status))
	case <-time.After(killWait):
		c.out.logf("collector (pid %d) still not reaped %s after SIGKILL; giving up on it", inst.pid, killWait)
	}
}

// supervise keeps the collector running until stop is called: a collector
// that exits is restarted after a delay that starts at the initial backoff,
// doubles after each restart up to the maximum, and starts over once a
// collector has stayed up for the reset period.
func (c *collector) supervise(inst *collectorInstance) {
	defer close(c.stopped)
	delay := c.cfg.restartInitial
	for {
		if inst != nil {
			select {
			case <-c.stopRequest:
				c.stopInstance(inst)
				return
			case <-inst.exited:
			}
			c.awaitOutput(inst)
			uptime := time.Since(inst.started)
			if uptime >= c.cfg.restartResetAfter {
				delay = c.cfg.restartInitial
			}
			c.out.logf("collector (pid %d) exited unexpectedly (%s) after %s; restarting in %s",
				inst.pid, describeStatus(inst.status), uptime.Round(time.Millisecond), delay)
		}
		timer := time.NewTimer(delay)
		select {
		case <-c.stopRequest:
			timer.Stop()
			return
		case <-timer.C:
		}
		delay = min(delay*2, c.cfg.restartMax)
		var err error
		inst, err = c.start()
		if err != nil {
			c.out.logf("%v; retrying in %s", err, delay)
			inst = nil
		}
	}
}

// stop ends supervision, stops the running collector and waits for it.
func (c *collector) stop() {
	close(c.stopRequest)
	<-c.stopped
}

// unwrapPathError drops the operation and path from an *os.PathError, which
// the callers' messages already name.
func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
