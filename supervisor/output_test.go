package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// lineSources are the writers sharing the supervisor's stderr, by the
// pattern each of their lines matches exactly.
var lineSources = []struct {
	name    string
	pattern *regexp.Regexp
}{
	{"collector", regexp.MustCompile(`^\[otelcol\] collector line (\d+) [a-z]+$`)},
	{"app", regexp.MustCompile(`^app line (\d+) [a-z]+$`)},
	{"supervisor", regexp.MustCompile(`^supervisor: message (\d+) [a-z]+$`)},
}

// busyLine is line i of a writer, long enough for a write to take a while.
func busyLine(what string, i int) string {
	return fmt.Sprintf("%s %d %s", what, i, strings.Repeat("abcdefghij", 1+i%12))
}

// checkLines reads lines until EOF and reports every line that is not one
// whole line of one writer with exactly that writer's prefix (a misattributed,
// split or merged line), and every writer whose lines did not all arrive
// intact and in order.
func checkLines(t *testing.T, r *os.File, want int) {
	t.Helper()
	last := make([]int, len(lineSources))
	intact := make([]int, len(lineSources))
	for i := range last {
		last[i] = -1
	}
	var bad []string
	badCount, total := 0, 0
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		total++
		ok := false
		for i, src := range lineSources {
			m := src.pattern.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			n, _ := strconv.Atoi(m[1])
			ok = n > last[i] && line == linePrefix(src.name)+busyLine(lineWhat(src.name), n)
			if ok {
				last[i] = n
				intact[i]++
			}
			break
		}
		if !ok {
			badCount++
			if len(bad) < 5 {
				bad = append(bad, strconv.Quote(line))
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("reading the shared output: %v", err)
	}
	if badCount > 0 {
		t.Errorf("%d of %d lines are misattributed, split or merged, e.g.:\n%s", badCount, total, strings.Join(bad, "\n"))
	}
	for i, src := range lineSources {
		if intact[i] != want {
			t.Errorf("%s: %d lines arrived intact and in order, want %d", src.name, intact[i], want)
		}
	}
}

func linePrefix(source string) string {
	switch source {
	case "collector":
		return "[otelcol] "
	case "supervisor":
		return "supervisor: "
	}
	return ""
}

func lineWhat(source string) string {
	if source == "supervisor" {
		return "message"
	}
	return source + " line"
}

func TestConcurrentWritersNeverMisattributeOrSplitLines(t *testing.T) {
	// GIVEN the supervisor's stderr as a pipe, shared by three busy writers:
	// the collector's output copied with its prefix, the supervisor's own
	// messages, and an app writing to the same file directly
	const lines = 20000
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// The app is another process: it writes through its own descriptor of
	// the pipe, not through the supervisor's *os.File and its lock.
	appFd, err := syscall.Dup(int(w.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	app := os.NewFile(uintptr(appFd), "app-stderr")
	out := &lineWriter{out: w}
	var collectorOutput strings.Builder
	for i := range lines {
		collectorOutput.WriteString(busyLine("collector line", i) + "\n")
	}

	// WHEN they all write at once
	var writers sync.WaitGroup
	writers.Add(3)
	go func() {
		defer writers.Done()
		out.copyLines(strings.NewReader(collectorOutput.String()), "[otelcol] ")
	}()
	go func() {
		defer writers.Done()
		for i := range lines {
			out.logf("%s", busyLine("message", i))
		}
	}()
	go func() {
		defer writers.Done()
		for i := range lines {
			if _, err := app.Write([]byte(busyLine("app line", i) + "\n")); err != nil {
				panic(err)
			}
		}
		app.Close()
	}()
	go func() {
		writers.Wait()
		w.Close()
	}()

	// THEN every line read back is one writer's next line, whole, with
	// exactly its own prefix
	checkLines(t, r, lines)
}

// writeRecorder keeps every Write call separately.
type writeRecorder struct{ writes []string }

func (w *writeRecorder) Write(p []byte) (int, error) {
	w.writes = append(w.writes, string(p))
	return len(p), nil
}

func TestEveryLineIsWrittenInOneWriteCall(t *testing.T) {
	// GIVEN collector output with an empty line and a last line without a
	// newline, and a supervisor message
	rec := &writeRecorder{}
	w := &lineWriter{out: rec}

	// WHEN it is copied and the message logged
	w.copyLines(strings.NewReader("first\n\nsecond\nlast"), "[p] ")
	w.logf("stopping %s", "collector")

	// THEN each Write call carries exactly one whole line with its prefix
	want := []string{"[p] first\n", "[p] \n", "[p] second\n", "[p] last\n", "supervisor: stopping collector\n"}
	if strings.Join(rec.writes, "|") != strings.Join(want, "|") {
		t.Errorf("writes = %q, want %q", rec.writes, want)
	}
}
