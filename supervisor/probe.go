package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"
)

// probeGrace is how much longer than its own --timeout a probe run may take
// before the supervisor kills it.
const probeGrace = time.Second

// maxProbeOutput bounds the probe output kept for error messages.
const maxProbeOutput = 4096

// probeResult is the outcome of one probe run.
type probeResult struct {
	healthy bool
	killed  bool   // killed for outliving its time limit
	summary string // for messages: exit status and last output line
	err     error  // the probe could not be run at all
}

// runProbe runs the probe once, killing it if it outlives limit.
func runProbe(cfg *config, r *reaper, devNull *os.File, limit time.Duration) probeResult {
	pr, pw, err := os.Pipe()
	if err != nil {
		return probeResult{err: fmt.Errorf("cannot create the probe's output pipe: %w", err)}
	}
	argv := []string{cfg.probe, "--url", cfg.probeURL, "--timeout", cfg.probeTimeout.String()}
	ch, err := r.start(cfg.probe, argv, &os.ProcAttr{
		Env:   os.Environ(),
		Files: []*os.File{devNull, pw, pw},
	})
	_ = pw.Close()
	if err != nil {
		_ = pr.Close()
		return probeResult{err: fmt.Errorf("cannot run the probe %q: %w", cfg.probe, unwrapPathError(err))}
	}
	output := make(chan []byte, 1)
	go func() {
		defer pr.Close()
		b, _ := io.ReadAll(io.LimitReader(pr, 64*maxProbeOutput))
		// Keep reading to EOF so the probe never blocks on a full pipe.
		_, _ = io.Copy(io.Discard, pr)
		output <- b
	}()
	timer := time.NewTimer(limit)
	defer timer.Stop()
	killed := false
	select {
	case <-ch.exited:
	case <-timer.C:
		killed = true
		_ = r.signal(ch, syscall.SIGKILL, false)
		select {
		case <-ch.exited:
		case <-time.After(killWait):
		}
	}
	var out []byte
	select {
	case out = <-output:
	case <-time.After(outputWait):
	}
	status := describeStatus(ch.status)
	if killed {
		status = fmt.Sprintf("killed after %s", limit)
	}
	res := probeResult{healthy: !killed && ch.status.Exited() && ch.status.ExitStatus() == 0, killed: killed}
	res.summary = status
	if line := lastLine(out); line != "" {
		res.summary += ": " + line
	}
	return res
}

// lastLine returns the last non-empty line of b, shortened to maxProbeOutput.
func lastLine(b []byte) string {
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	line := strings.TrimSpace(string(lines[len(lines)-1]))
	if len(line) > maxProbeOutput {
		line = line[:maxProbeOutput] + "..."
	}
	return line
}
