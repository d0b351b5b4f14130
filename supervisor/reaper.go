package main

import (
	"errors"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// errExited is returned when signalling a child that has already been reaped.
var errExited = errors.New("process already exited")

// child is a process started through the reaper.
type child struct {
	pid     int
	started time.Time
	exited  chan struct{} // closed once the process has been reaped
	status  syscall.WaitStatus
}

// reaper is the only code in the supervisor that waits for processes. It
// calls wait4(-1) on every SIGCHLD, so it also collects orphaned descendants
// that the kernel re-parents to the supervisor when it runs as PID 1 or as a
// child subreaper; those are reaped and otherwise ignored. Children started
// with start get their exit status delivered.
//
// Starting and reaping share one lock, so a child that exits immediately is
// registered before its status can be collected, and a child is only
// signalled while it has not been reaped (its PID cannot have been reused).
type reaper struct {
	mu       sync.Mutex
	children map[int]*child
	sigchld  chan os.Signal
}

func newReaper() *reaper {
	r := &reaper{
		children: make(map[int]*child),
		sigchld:  make(chan os.Signal, 1),
	}
	signal.Notify(r.sigchld, syscall.SIGCHLD)
	go r.loop()
	return r
}

func (r *reaper) loop() {
	// The ticker is a safety net: SIGCHLD notifications coalesce, and a
	// pass over wait4 costs nothing when there is nothing to reap.
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-r.sigchld:
		case <-tick.C:
		}
		r.reap()
	}
}

func (r *reaper) reap() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil || pid <= 0 {
			return
		}
		if c, ok := r.children[pid]; ok {
			delete(r.children, pid)
			c.status = ws
			close(c.exited)
		}
	}
}

// start starts a process and registers it for its exit status.
func (r *reaper) start(path string, argv []string, attr *os.ProcAttr) (*child, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, err := os.StartProcess(path, argv, attr)
	if err != nil {
		return nil, err
	}
	c := &child{pid: p.Pid, started: time.Now(), exited: make(chan struct{})}
	r.children[p.Pid] = c
	// The reaper waits for the process; the handle is not needed.
	_ = p.Release()
	return c, nil
}

// signal sends sig to the child, or to its whole process group when group
// is true, unless the child has been reaped already.
func (r *reaper) signal(c *child, sig syscall.Signal, group bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.children[c.pid]; !ok {
		return errExited
	}
	if group {
		return syscall.Kill(-c.pid, sig)
	}
	return syscall.Kill(c.pid, sig)
}

// exitCode turns a wait status into a shell-style exit code: the exit
// status, or 128+N when signal N ended the process.
func exitCode(ws syscall.WaitStatus) int {
	switch {
	case ws.Exited():
		return ws.ExitStatus()
	case ws.Signaled():
		return 128 + int(ws.Signal())
	default:
		return 1
	}
}

// describeStatus describes a wait status for a log message.
func describeStatus(ws syscall.WaitStatus) string {
	switch {
	case ws.Exited():
		return "exit status " + itoa(ws.ExitStatus())
	case ws.Signaled():
		return "killed by " + signalName(ws.Signal())
	default:
		return "status " + itoa(int(ws))
	}
}
