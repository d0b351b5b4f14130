package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// result is what one run of the probe produced.
type result struct {
	code    int
	stdout  string
	stderr  string
	elapsed time.Duration
}

// envMap turns a map into the env lookup function run expects.
func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func runProbe(t *testing.T, args []string, env map[string]string) result {
	t.Helper()
	done := make(chan result, 1)
	go func() {
		var stdout, stderr bytes.Buffer
		start := time.Now()
		code := run(args, envMap(env), &stdout, &stderr)
		done <- result{code: code, stdout: stdout.String(), stderr: stderr.String(), elapsed: time.Since(start)}
	}()
	select {
	case r := <-done:
		return r
	case <-time.After(probeWatchdog):
		t.Fatalf("probe %q still running after %s: the timeout does not bound it", args, probeWatchdog)
		return result{}
	}
}

// probeWatchdog fails a test whose probe hangs, instead of letting the whole
// test binary run into go test's own timeout.
const probeWatchdog = 20 * time.Second

// forever is how long the endless test servers keep going: longer than the
// watchdog, yet finite so that a probe that hangs cannot also hang the
// servers' shutdown.
const forever = probeWatchdog + 5*time.Second

// expect checks the exit code, the stderr prefix (empty: stderr must be
// empty) and, optionally, substrings of stderr. Every message is one line.
func expect(t *testing.T, r result, code int, prefix string, contains ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit code = %d, want %d\nstdout: %s\nstderr: %s", r.code, code, r.stdout, r.stderr)
	}
	if prefix == "" {
		if r.stderr != "" {
			t.Errorf("stderr = %q, want empty", r.stderr)
		}
	} else if !strings.HasPrefix(r.stderr, prefix) {
		t.Errorf("stderr = %q, want prefix %q", r.stderr, prefix)
	}
	for _, c := range contains {
		if !strings.Contains(r.stderr, c) {
			t.Errorf("stderr = %q, want it to contain %q", r.stderr, c)
		}
	}
	if code != exitUsage && strings.Count(r.stderr, "\n") > 1 {
		t.Errorf("stderr = %q, want at most one line", r.stderr)
	}
	if strings.Count(r.stdout, "\n") > 1 && !strings.HasPrefix(r.stdout, "Usage:") {
		t.Errorf("stdout = %q, want at most one line", r.stdout)
	}
}

func TestHelp(t *testing.T) {
	for _, arg := range []string{"--help", "-help", "-h", "--h"} {
		t.Run(arg, func(t *testing.T) {
			r := runProbe(t, []string{arg}, nil)
			expect(t, r, exitHealthy, "")
			for _, want := range []string{"Usage: healthcheck", "--url", "--timeout", "--version", "--help",
				envURL, envTimeout, "http://127.0.0.1:13133/", "2s", "0 ", "2 ", "3 ", "4 "} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("help does not mention %q", want)
				}
			}
		})
	}
}

func TestVersion(t *testing.T) {
	// GIVEN invalid environment values, which --version does not need
	env := map[string]string{envURL: "ftp://x", envTimeout: "never"}
	for _, args := range [][]string{{"--version"}, {"-version"}, {"--version=true"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := runProbe(t, args, env)
			expect(t, r, exitHealthy, "")
			want := "healthcheck " + version + " ("
			if !strings.HasPrefix(r.stdout, want) {
				t.Errorf("stdout = %q, want prefix %q", r.stdout, want)
			}
			for _, part := range []string{runtime.Version(), runtime.GOOS + "/" + runtime.GOARCH} {
				if !strings.Contains(r.stdout, part) {
					t.Errorf("stdout = %q, want it to contain %q", r.stdout, part)
				}
			}
		})
	}
}

// buildProbe compiles the probe the way the image does, into a temporary
// directory, with a recognisable version.
func buildProbe(t *testing.T, version string) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build the probe: %v", err)
	}
	out := filepath.Join(t.TempDir(), "healthcheck")
	cmd := exec.Command(goBin, "build", "-trimpath", "-ldflags", "-s -w -X main.version="+version, "-o", out, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOTOOLCHAIN=local")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return out
}

func TestCompiledBinary(t *testing.T) {
	if testing.Short() {
		t.Log("building the binary even in -short mode: it is the artefact that ships")
	}
	bin := buildProbe(t, "9.8.7-test")
	healthy := statusServer(t, 200, "").URL + "/"
	sick := statusServer(t, 503, "").URL + "/"
	redirect := httptest.NewServer(http.RedirectHandler("/elsewhere", http.StatusFound))
	t.Cleanup(redirect.Close)
	silent := rawServer(t, waitForClose)
	speaksFirst := rawServer(t, func(c net.Conn) {
		_, _ = io.WriteString(c, "SSH-2.0-OpenSSH_9.6\r\n")
		waitForClose(c)
	})
	target, proxyURL, proxyHits := proxyScenario(t)
	deadProxy := closedPortURL(t)

	proxyEnv := func(proxy string) []string {
		return []string{"HTTP_PROXY=" + proxy, "http_proxy=" + proxy, "HTTPS_PROXY=" + proxy,
			"https_proxy=" + proxy, "ALL_PROXY=" + proxy, "all_proxy=" + proxy, "NO_PROXY=", "no_proxy="}
	}
	tests := []struct {
		name   string
		args   []string
		env    []string
		code   int // the documented number (README.md), not the constant: it is the interface
		prefix string
		stdout string
	}{
		{"version", []string{"--version"}, nil, 0, "", "healthcheck 9.8.7-test ("},
		{"help", []string{"--help"}, nil, 0, "", "Usage: healthcheck"},
		{"healthy", []string{"--url", healthy}, nil, 0, "", "healthy: "},
		{"unhealthy", []string{"--url", sick}, nil, 4, "unhealthy:", ""},
		{"redirect", []string{"--url", redirect.URL + "/"}, nil, 4, "unhealthy:", ""},
		{"refused", []string{"--url", closedPortURL(t)}, nil, 3, "error:", ""},
		{"timeout", []string{"--url", silent, "--timeout", "200ms"}, nil, 3, "timeout:", ""},
		// net/http may log the banner; the probe's stderr stays one line.
		{"server that speaks first", []string{"--url", speaksFirst}, nil, 3, "error:", ""},
		{"usage", []string{"--timeout", "-1s"}, nil, 2, "error:", ""},
		{"unknown flag", []string{"--verbose"}, nil, 2, "error:", ""},
		{"environment fallback", nil, []string{envURL + "=" + healthy}, 0, "", "healthy: "},
		{"proxy variables ignored", []string{"--url", target}, proxyEnv(proxyURL), 4, "unhealthy:", ""},
		{"dead proxy ignored", []string{"--url", healthy}, proxyEnv(deadProxy), 0, "", "healthy: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(bin, tt.args...)
			cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, tt.env...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			if err != nil {
				ee, ok := err.(*exec.ExitError)
				if !ok {
					t.Fatalf("running %s: %v", bin, err)
				}
				code = ee.ExitCode()
			}
			expect(t, result{code: code, stdout: stdout.String(), stderr: stderr.String()}, tt.code, tt.prefix)
			if !strings.HasPrefix(stdout.String(), tt.stdout) {
				t.Errorf("stdout = %q, want prefix %q", stdout.String(), tt.stdout)
			}
		})
	}
	if n := proxyHits.Load(); n != 0 {
		t.Errorf("proxy received %d requests from the binary", n)
	}
}

// proxyScenario starts a "proxy" that answers 200 to anything and a target
// that answers 503. The target is addressed as 0.0.0.0 (which reaches the
// local host), because Go's proxy selection exempts localhost and
// 127.0.0.0/8 but not 0.0.0.0; so a probe that honoured the proxy variables
// would report healthy.
func proxyScenario(t *testing.T) (targetURL, proxyURL string, proxyHits *atomic.Int32) {
	t.Helper()
	proxyHits = &atomic.Int32{}
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxyHits.Add(1)
		w.WriteHeader(200)
	}))
	t.Cleanup(proxy.Close)
	target := statusServer(t, 503, "")
	port := target.Listener.Addr().(*net.TCPAddr).Port
	return fmt.Sprintf("http://0.0.0.0:%d/", port), proxy.URL, proxyHits
}
