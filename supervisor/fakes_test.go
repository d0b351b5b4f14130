package main

// Fake collector, app and probe for the tests. The test binary plays them
// when started under their names (symbolic links made by TestMain). They
// record what happens to them, one line per event, in $FAKE_DIR/events.

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Roles the test binary can play, by the name it is started under.
var fakeRoles = map[string]func() int{
	"supervisor":     func() int { return run(os.Args[1:], os.Stdout, os.Stderr) },
	"fake-collector": fakeCollector,
	"fake-app":       fakeApp,
	"fake-probe":     fakeProbe,
	"fake-spawner":   fakeSpawner,
	"fake-sleeper":   fakeSleeper,
}

func fakeDir() string { return os.Getenv("FAKE_DIR") }

// event appends one line to the shared event log.
func event(format string, args ...any) {
	f, err := os.OpenFile(filepath.Join(fakeDir(), "events"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		panic(err)
	}
	defer f.Close()
	if _, err := fmt.Fprintf(f, format+"\n", args...); err != nil {
		panic(err)
	}
}

func envDuration(name string, def time.Duration) time.Duration {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		panic(fmt.Sprintf("%s=%q: %v", name, v, err))
	}
	return d
}

func envInt(name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		panic(fmt.Sprintf("%s=%q: %v", name, v, err))
	}
	return n
}

// nextRun counts the runs of the fake collector.
func nextRun() int {
	path := filepath.Join(fakeDir(), "collector.runs")
	b, _ := os.ReadFile(path)
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	n++
	if err := os.WriteFile(path, []byte(strconv.Itoa(n)), 0o644); err != nil {
		panic(err)
	}
	return n
}

// fakeCollector behaves according to:
//
//	FAKE_COLLECTOR_EXIT        exit at once with this status (default: run)
//	FAKE_COLLECTOR_READY_AFTER become healthy after this long; "never" never
//	FAKE_COLLECTOR_CRASH_AFTER exit 1 this long after the app started (or after
//	                           its own start, if later), in runs 1..FAKE_COLLECTOR_CRASH_RUNS (default 1)
//	FAKE_COLLECTOR_IGNORE_TERM ignore SIGTERM when set
//	FAKE_COLLECTOR_FLUSH       time spent "flushing" after SIGTERM (default 100ms)
func fakeCollector() int {
	terms := make(chan os.Signal, 4)
	signal.Notify(terms, syscall.SIGTERM)
	n := nextRun()
	event("collector start run=%d pid=%d args=%s", n, os.Getpid(), strings.Join(os.Args[1:], " "))
	fmt.Fprintf(os.Stdout, "collector stdout run %d\n", n)
	fmt.Fprintf(os.Stderr, "collector stderr run %d\n", n)
	if code := os.Getenv("FAKE_COLLECTOR_EXIT"); code != "" {
		fmt.Fprintln(os.Stderr, "invalid configuration: exporters::nope: unknown type")
		event("collector exit run=%d", n)
		return envInt("FAKE_COLLECTOR_EXIT", 1)
	}

	var ready <-chan time.Time
	if os.Getenv("FAKE_COLLECTOR_READY_AFTER") != "never" {
		ready = time.After(envDuration("FAKE_COLLECTOR_READY_AFTER", 0))
	}
	// A crash is scheduled once the app runs, so that slow starts (as under
	// the race detector) cannot turn it into a crash before healthy.
	var crash <-chan time.Time
	var appPoll <-chan time.Time
	if d := os.Getenv("FAKE_COLLECTOR_CRASH_AFTER"); d != "" && n <= envInt("FAKE_COLLECTOR_CRASH_RUNS", 1) {
		appPoll = time.After(0)
	}
	for {
		select {
		case <-appPoll:
			appPoll = time.After(10 * time.Millisecond)
			if _, err := os.Stat(filepath.Join(fakeDir(), "app.started")); err == nil {
				appPoll = nil
				crash = time.After(envDuration("FAKE_COLLECTOR_CRASH_AFTER", 0))
			}
		case <-ready:
			ready = nil
			if err := os.WriteFile(filepath.Join(fakeDir(), "collector.ready"), nil, 0o644); err != nil {
				panic(err)
			}
			event("collector ready run=%d", n)
		case <-crash:
			fmt.Fprintf(os.Stderr, "panic: fake crash in run %d\n", n)
			event("collector crash run=%d", n)
			return 1
		case <-terms:
			if os.Getenv("FAKE_COLLECTOR_IGNORE_TERM") != "" {
				event("collector SIGTERM ignored run=%d", n)
				continue
			}
			event("collector SIGTERM run=%d", n)
			fmt.Fprintln(os.Stderr, "shutting down, flushing exporters")
			time.Sleep(envDuration("FAKE_COLLECTOR_FLUSH", 100*time.Millisecond))
			// A last line without a newline.
			fmt.Fprint(os.Stderr, "shutdown complete")
			event("collector stopped run=%d", n)
			return 0
		}
	}
}

// fakeProbe passes once the fake collector has written its ready file.
func fakeProbe() int {
	if err := os.WriteFile(filepath.Join(fakeDir(), "probe.args"), []byte(strings.Join(os.Args[1:], " ")), 0o644); err != nil {
		panic(err)
	}
	if _, err := os.Stat(filepath.Join(fakeDir(), "collector.ready")); err != nil {
		fmt.Fprintln(os.Stderr, "error: cannot reach http://127.0.0.1:13133/: connection refused")
		return 3
	}
	return 0
}

// fakeApp behaves according to:
//
//	FAKE_APP_RUN        run this long, then exit with FAKE_APP_EXIT (default: until a signal)
//	FAKE_APP_EXIT       exit status (default 0)
//	FAKE_APP_SELF_KILL  after FAKE_APP_RUN, kill itself with this signal number
//	FAKE_APP_TERM       "handle" (default): on SIGTERM wait FAKE_APP_TERM_DELAY and
//	                    exit with FAKE_APP_EXIT; "default": SIGTERM kills it
//	FAKE_APP_STDIN      when set, copy one line of stdin to stdout
//	FAKE_APP_ORPHAN     when set, leave behind an orphan that exits after FAKE_ORPHAN_LIFETIME
func fakeApp() int {
	// Handlers are in place before the "app start" event tells the tests
	// that signals can be sent.
	terms := make(chan os.Signal, 4)
	if os.Getenv("FAKE_APP_TERM") != "default" {
		signal.Notify(terms, syscall.SIGTERM, syscall.SIGINT)
	}
	_, err := os.Stat(filepath.Join(fakeDir(), "collector.ready"))
	event("app start pid=%d collector_ready=%t args=%s", os.Getpid(), err == nil, strings.Join(os.Args[1:], " "))
	if err := os.WriteFile(filepath.Join(fakeDir(), "app.started"), nil, 0o644); err != nil {
		panic(err)
	}
	fmt.Println("app says hello")
	if os.Getenv("FAKE_APP_STDIN") != "" {
		line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
		fmt.Printf("app read %q\n", line)
	}
	if os.Getenv("FAKE_APP_ORPHAN") != "" {
		spawner := filepath.Join(filepath.Dir(os.Args[0]), "fake-spawner")
		out, err := exec.Command(spawner).Output()
		if err != nil {
			panic(err)
		}
		event("app orphan pid=%s", strings.TrimSpace(string(out)))
	}
	done := time.After(envDuration("FAKE_APP_RUN", time.Hour))
	select {
	case <-done:
		if sig := envInt("FAKE_APP_SELF_KILL", 0); sig != 0 {
			event("app kills itself signal=%d", sig)
			signal.Reset()
			_ = syscall.Kill(os.Getpid(), syscall.Signal(sig))
			time.Sleep(10 * time.Second)
		}
	case sig := <-terms:
		event("app signal %s", signalName(sig.(syscall.Signal)))
		time.Sleep(envDuration("FAKE_APP_TERM_DELAY", 200*time.Millisecond))
	}
	code := envInt("FAKE_APP_EXIT", 0)
	event("app exit code=%d", code)
	return code
}

// fakeSpawner starts a fake-sleeper, prints its PID and exits without
// waiting, which leaves the sleeper orphaned.
func fakeSpawner() int {
	sleeper := filepath.Join(filepath.Dir(os.Args[0]), "fake-sleeper")
	cmd := exec.Command(sleeper, os.Getenv("FAKE_ORPHAN_LIFETIME"))
	if err := cmd.Start(); err != nil {
		panic(err)
	}
	fmt.Println(cmd.Process.Pid)
	return 0
}

func fakeSleeper() int {
	d, err := time.ParseDuration(os.Args[1])
	if err != nil {
		panic(err)
	}
	time.Sleep(d)
	return 0
}
