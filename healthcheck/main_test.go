package main

import (
	"bufio"
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
	"sync"
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
// empty) and, optionally, substrings of stderr.
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
}

// statusServer answers every request with the given status and body.
func statusServer(t *testing.T, status int, body string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// rawServer accepts TCP connections on 127.0.0.1 and hands each to handle.
// Connections are closed when the test ends.
func rawServer(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				handle(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return "http://" + ln.Addr().String() + "/"
}

// closedPortURL returns a URL on 127.0.0.1 where nothing listens.
func closedPortURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr + "/"
}

// waitOrDone blocks until the client goes away or the test's patience runs out.
func waitOrDone(r *http.Request, d time.Duration) {
	select {
	case <-r.Context().Done():
	case <-time.After(d):
	}
}

func TestResponses(t *testing.T) {
	const short = 300 * time.Millisecond
	// slack is how much longer than its timeout a run may take.
	const slack = 1500 * time.Millisecond

	tests := []struct {
		name     string
		url      func(t *testing.T) string
		timeout  time.Duration
		code     int
		prefix   string // stderr prefix; empty means stderr must be empty
		contains []string
		stdout   string
		maxTime  time.Duration
	}{
		{
			name:   "200 is healthy",
			url:    func(t *testing.T) string { return statusServer(t, 200, `{"status":"Server available"}`).URL + "/" },
			code:   exitHealthy,
			stdout: "healthy: ",
		},
		{
			name:   "204 is healthy",
			url:    func(t *testing.T) string { return statusServer(t, 204, "").URL + "/" },
			code:   exitHealthy,
			stdout: "healthy: ",
		},
		{
			name:     "500 is unhealthy and quotes the body",
			url:      func(t *testing.T) string { return statusServer(t, 500, "boom").URL + "/" },
			code:     exitUnhealthy,
			prefix:   "unhealthy:",
			contains: []string{"500 Internal Server Error", `"boom"`},
		},
		{
			name:     "503 is unhealthy",
			url:      func(t *testing.T) string { return statusServer(t, 503, `{"status":"Server not available"}`).URL + "/" },
			code:     exitUnhealthy,
			prefix:   "unhealthy:",
			contains: []string{"503 Service Unavailable"},
		},
		{
			name:     "404 is unhealthy",
			url:      func(t *testing.T) string { return statusServer(t, 404, "").URL + "/" },
			code:     exitUnhealthy,
			prefix:   "unhealthy:",
			contains: []string{"404 Not Found"},
		},
		{
			name: "server accepts and never answers",
			url: func(t *testing.T) string {
				return rawServer(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
			},
			timeout:  short,
			code:     exitUnreachable,
			prefix:   "timeout:",
			contains: []string{"within 300ms"},
			maxTime:  short + slack,
		},
		{
			name: "headers arrive after the timeout",
			url: func(t *testing.T) string {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					waitOrDone(r, 3*time.Second)
					w.WriteHeader(200)
				}))
				t.Cleanup(srv.Close)
				return srv.URL + "/"
			},
			timeout: short,
			code:    exitUnreachable,
			prefix:  "timeout:",
			maxTime: short + slack,
		},
		{
			name: "body streamed forever is cut after 64 KiB",
			url: func(t *testing.T) string {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.WriteHeader(200)
					chunk := bytes.Repeat([]byte("x"), 4096)
					for stop := time.Now().Add(forever); r.Context().Err() == nil && time.Now().Before(stop); {
						if _, err := w.Write(chunk); err != nil {
							return
						}
						w.(http.Flusher).Flush()
					}
				}))
				t.Cleanup(srv.Close)
				return srv.URL + "/"
			},
			timeout: 5 * time.Second,
			code:    exitHealthy,
			stdout:  "healthy: ",
			maxTime: 3 * time.Second,
		},
		{
			name: "body trickling past the timeout",
			url: func(t *testing.T) string {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.WriteHeader(200)
					for stop := time.Now().Add(forever); r.Context().Err() == nil && time.Now().Before(stop); {
						if _, err := w.Write([]byte("x")); err != nil {
							return
						}
						w.(http.Flusher).Flush()
						waitOrDone(r, 50*time.Millisecond)
					}
				}))
				t.Cleanup(srv.Close)
				return srv.URL + "/"
			},
			timeout:  short,
			code:     exitUnreachable,
			prefix:   "timeout:",
			contains: []string{"body did not arrive"},
			maxTime:  short + slack,
		},
		{
			name: "huge body with Content-Length is healthy and quick",
			url: func(t *testing.T) string {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					const size = 512 << 20
					w.Header().Set("Content-Length", fmt.Sprint(size))
					w.WriteHeader(200)
					chunk := bytes.Repeat([]byte("y"), 32<<10)
					for n := 0; n < size; n += len(chunk) {
						if _, err := w.Write(chunk); err != nil {
							return
						}
					}
				}))
				t.Cleanup(srv.Close)
				return srv.URL + "/"
			},
			timeout: 5 * time.Second,
			code:    exitHealthy,
			stdout:  "healthy: ",
			maxTime: 3 * time.Second,
		},
		{
			name:     "huge unhealthy body is quoted only in part",
			url:      func(t *testing.T) string { return statusServer(t, 503, strings.Repeat("z", 10<<20)).URL + "/" },
			timeout:  5 * time.Second,
			code:     exitUnhealthy,
			prefix:   "unhealthy:",
			contains: []string{`"` + strings.Repeat("z", snippetBytes) + `"...`},
			maxTime:  3 * time.Second,
		},
		{
			name: "huge headers are refused",
			url: func(t *testing.T) string {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					for i := 0; i < 100; i++ {
						w.Header().Set(fmt.Sprintf("X-Big-%d", i), strings.Repeat("h", 1024))
					}
					w.WriteHeader(200)
				}))
				t.Cleanup(srv.Close)
				return srv.URL + "/"
			},
			timeout:  5 * time.Second,
			code:     exitUnreachable,
			prefix:   "error:",
			contains: []string{"header"},
		},
		{
			name: "bytes that are not HTTP",
			url: func(t *testing.T) string {
				return rawServer(t, func(c net.Conn) {
					_, _ = io.WriteString(c, "SSH-2.0-OpenSSH_9.6\r\n")
					c.Close()
				})
			},
			timeout:  5 * time.Second,
			code:     exitUnreachable,
			prefix:   "error:",
			contains: []string{"malformed HTTP"},
		},
		{
			name: "connection closed without an answer",
			url: func(t *testing.T) string {
				return rawServer(t, func(c net.Conn) {
					_, _ = bufio.NewReader(c).ReadString('\n')
					c.Close()
				})
			},
			timeout: 5 * time.Second,
			code:    exitUnreachable,
			prefix:  "error:",
		},
		{
			name:     "connection refused",
			url:      closedPortURL,
			timeout:  5 * time.Second,
			code:     exitUnreachable,
			prefix:   "error:",
			contains: []string{"connection refused"},
		},
		{
			name: "https to a server with an unknown certificate",
			url: func(t *testing.T) string {
				srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
				t.Cleanup(srv.Close)
				return srv.URL + "/"
			},
			timeout:  5 * time.Second,
			code:     exitUnreachable,
			prefix:   "error:",
			contains: []string{"certificate"},
		},
		{
			name: "user info in the URL is not printed",
			url: func(t *testing.T) string {
				srv := statusServer(t, 503, "")
				return strings.Replace(srv.URL, "http://", "http://user:s3cret@", 1) + "/"
			},
			code:     exitUnhealthy,
			prefix:   "unhealthy:",
			contains: []string{"user:xxxxx@"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// GIVEN a server behaving as described
			url := tt.url(t)
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 5 * time.Second
			}
			// WHEN the probe checks it
			r := runProbe(t, []string{"--url", url, "--timeout", timeout.String()}, nil)
			// THEN the exit code and the message say what happened
			expect(t, r, tt.code, tt.prefix, tt.contains...)
			if !strings.HasPrefix(r.stdout, tt.stdout) || (tt.stdout == "" && r.stdout != "") {
				t.Errorf("stdout = %q, want prefix %q", r.stdout, tt.stdout)
			}
			if strings.Contains(r.stderr, "s3cret") || strings.Contains(r.stdout, "s3cret") {
				t.Errorf("password printed: stdout %q, stderr %q", r.stdout, r.stderr)
			}
			if tt.maxTime > 0 && r.elapsed > tt.maxTime {
				t.Errorf("took %s, want at most %s", r.elapsed, tt.maxTime)
			}
		})
	}
}

func TestRedirectsAreUnhealthyAndNotFollowed(t *testing.T) {
	for _, status := range []int{301, 302, 307, 308} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			// GIVEN a server that redirects / to a healthy /target
			var followed atomic.Int32
			mux := http.NewServeMux()
			mux.HandleFunc("/target", func(w http.ResponseWriter, r *http.Request) {
				followed.Add(1)
				w.WriteHeader(200)
			})
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "/target", status)
			})
			srv := httptest.NewServer(mux)
			defer srv.Close()
			// WHEN the probe checks /
			r := runProbe(t, []string{"--url", srv.URL + "/"}, nil)
			// THEN it reports the redirect as unhealthy and never visits /target
			expect(t, r, exitUnhealthy, "unhealthy:", fmt.Sprint(status), `redirect to "/target", not followed`)
			if n := followed.Load(); n != 0 {
				t.Errorf("redirect followed %d times", n)
			}
		})
	}
}

func TestUserInfoIsSentAsBasicAuth(t *testing.T) {
	// GIVEN a server that is healthy only for the right credentials
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "probe" || p != "s3cret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(200)
	}))
	defer srv.Close()
	withAuth := strings.Replace(srv.URL, "http://", "http://probe:s3cret@", 1) + "/"
	// WHEN the probe checks it with and without credentials in the URL
	r := runProbe(t, []string{"--url", withAuth}, nil)
	// THEN the credentials are used and the password is masked in the output
	expect(t, r, exitHealthy, "")
	if !strings.Contains(r.stdout, "probe:xxxxx@") || strings.Contains(r.stdout, "s3cret") {
		t.Errorf("stdout = %q, want the URL with its password masked", r.stdout)
	}
	r = runProbe(t, []string{"--url", srv.URL + "/"}, nil)
	expect(t, r, exitUnhealthy, "unhealthy:", "401")
}

func TestIPv6Literal(t *testing.T) {
	// GIVEN a healthy server on [::1] (skipped only where the host has no IPv6 loopback)
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("::1 is not available on this host: %v", err)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
	})}}
	srv.Start()
	defer srv.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	url := fmt.Sprintf("http://[::1]:%d/", port)
	// WHEN the probe checks it through the literal
	r := runProbe(t, []string{"--url", url}, nil)
	// THEN it is healthy
	expect(t, r, exitHealthy, "")
	if !strings.Contains(r.stdout, url) {
		t.Errorf("stdout = %q, want it to name %s", r.stdout, url)
	}
}

// proxyScenario starts a "proxy" that answers 200 to anything and a target
// that answers 503. The target is addressed as 0.0.0.0, which Go's proxy
// selection does not exempt the way it exempts localhost and 127.0.0.0/8; so a
// probe that honoured the proxy variables would report healthy.
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

func setProxyEnv(t *testing.T, proxyURL string) {
	t.Helper()
	for _, k := range []string{"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"} {
		t.Setenv(k, proxyURL)
	}
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")
}

// TestProxyEnvironmentIsIgnored checks the behaviour in this process;
// TestCompiledBinary repeats it in a fresh process started with the
// variables set.
func TestProxyEnvironmentIsIgnored(t *testing.T) {
	// GIVEN proxy variables pointing at a proxy that would answer 200
	target, proxyURL, hits := proxyScenario(t)
	setProxyEnv(t, proxyURL)
	// WHEN the probe checks a target that answers 503
	r := runProbe(t, []string{"--url", target}, nil)
	// THEN it talked to the target directly
	expect(t, r, exitUnhealthy, "unhealthy:", "503")
	if n := hits.Load(); n != 0 {
		t.Errorf("proxy received %d requests", n)
	}
}

func TestBogusProxyVariablesHaveNoEffect(t *testing.T) {
	for _, bogus := range []string{"http://%zz", "http://127.0.0.1:1", "no proxy at all"} {
		t.Run(bogus, func(t *testing.T) {
			// GIVEN proxy variables that name no usable proxy
			setProxyEnv(t, bogus)
			healthy := statusServer(t, 200, "").URL + "/"
			// WHEN the probe checks a healthy server
			r := runProbe(t, []string{"--url", healthy}, nil)
			// THEN the variables change nothing
			expect(t, r, exitHealthy, "")
		})
	}
}

func TestEnvironmentFallbacksAndPrecedence(t *testing.T) {
	tests := []struct {
		name        string
		args        []string
		env         map[string]string
		wantURL     string
		wantTimeout time.Duration
	}{
		{
			name:        "defaults",
			wantURL:     "http://127.0.0.1:13133/",
			wantTimeout: 2 * time.Second,
		},
		{
			name:        "empty environment variables count as unset",
			env:         map[string]string{envURL: "", envTimeout: ""},
			wantURL:     "http://127.0.0.1:13133/",
			wantTimeout: 2 * time.Second,
		},
		{
			name:        "environment fallbacks",
			env:         map[string]string{envURL: "http://10.0.0.1:9/health", envTimeout: "750ms"},
			wantURL:     "http://10.0.0.1:9/health",
			wantTimeout: 750 * time.Millisecond,
		},
		{
			name:        "flags win over the environment",
			args:        []string{"--url", "https://[::1]:13133/", "--timeout=1s"},
			env:         map[string]string{envURL: "http://10.0.0.1:9/health", envTimeout: "750ms"},
			wantURL:     "https://[::1]:13133/",
			wantTimeout: time.Second,
		},
		{
			name:        "flags win even over invalid environment values",
			args:        []string{"--url", "http://127.0.0.1:1/", "--timeout", "3s"},
			env:         map[string]string{envURL: "ftp://nope", envTimeout: "soon"},
			wantURL:     "http://127.0.0.1:1/",
			wantTimeout: 3 * time.Second,
		},
		{
			name:        "one flag, one environment variable",
			args:        []string{"-timeout", "100ms"},
			env:         map[string]string{envURL: "http://example.internal:13133/"},
			wantURL:     "http://example.internal:13133/",
			wantTimeout: 100 * time.Millisecond,
		},
		{
			name:        "last flag wins",
			args:        []string{"--timeout", "1s", "--timeout", "4s"},
			wantURL:     "http://127.0.0.1:13133/",
			wantTimeout: 4 * time.Second,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// WHEN the arguments and environment are parsed
			opts, err := parseArgs(tt.args, envMap(tt.env))
			// THEN the effective URL and timeout follow flag > environment > default
			if err != nil {
				t.Fatalf("parseArgs: %v", err)
			}
			if got := opts.url.String(); got != tt.wantURL {
				t.Errorf("url = %q, want %q", got, tt.wantURL)
			}
			if opts.timeout != tt.wantTimeout {
				t.Errorf("timeout = %s, want %s", opts.timeout, tt.wantTimeout)
			}
		})
	}
}

func TestEnvironmentFallbackEndToEnd(t *testing.T) {
	healthy := statusServer(t, 200, "").URL + "/"
	sick := statusServer(t, 503, "").URL + "/"

	// GIVEN HEALTHCHECK_URL names the healthy server
	r := runProbe(t, nil, map[string]string{envURL: healthy})
	// THEN the probe uses it
	expect(t, r, exitHealthy, "")

	// GIVEN --url names the sick one as well
	r = runProbe(t, []string{"--url", sick}, map[string]string{envURL: healthy})
	// THEN the flag wins
	expect(t, r, exitUnhealthy, "unhealthy:")

	// GIVEN HEALTHCHECK_TIMEOUT is short and the server never answers
	silent := rawServer(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
	r = runProbe(t, []string{"--url", silent}, map[string]string{envTimeout: "150ms"})
	// THEN the environment's timeout applies
	expect(t, r, exitUnreachable, "timeout:", "within 150ms")
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		contains []string
	}{
		{"unknown flag", []string{"--verbose"}, nil, []string{"unknown flag --verbose"}},
		{"unknown single-dash flag", []string{"-x"}, nil, []string{"unknown flag --x"}},
		{"flag without a value", []string{"--url"}, nil, []string{"--url needs a value"}},
		{"timeout without a value", []string{"--timeout"}, nil, []string{"--timeout needs a value"}},
		{"positional argument", []string{"http://127.0.0.1:13133/"}, nil, []string{`unexpected argument "http://127.0.0.1:13133/"`}},
		{"argument after flags", []string{"--timeout", "1s", "extra"}, nil, []string{`unexpected argument "extra"`}},
		{"bad --version value", []string{"--version=maybe"}, nil, []string{`"maybe"`, "--version"}},
		{"empty --url", []string{"--url", ""}, nil, []string{`--url=""`, "empty"}},
		{"malformed --url", []string{"--url", "http://%zz/"}, nil, []string{`--url="http://%zz/"`, "not a valid URL"}},
		{"unterminated IPv6 literal", []string{"--url", "http://[::1:13133/"}, nil, []string{`--url="http://[::1:13133/"`, "not a valid URL"}},
		{"--url without a scheme", []string{"--url", "127.0.0.1:13133"}, nil, []string{`--url="127.0.0.1:13133"`, "no scheme"}},
		{"--url with a path only", []string{"--url", "/health"}, nil, []string{`--url="/health"`, "no scheme"}},
		{"--url with another scheme", []string{"--url", "ftp://127.0.0.1/"}, nil, []string{`--url="ftp://127.0.0.1/"`, `scheme "ftp"`}},
		{"--url with grpc scheme", []string{"--url", "grpc://127.0.0.1:4317"}, nil, []string{`scheme "grpc"`}},
		{"--url without a host", []string{"--url", "http:///health"}, nil, []string{`--url="http:///health"`, "no host"}},
		{"--url with a port only", []string{"--url", "http://:13133/"}, nil, []string{`--url="http://:13133/"`, "no host"}},
		{"--url opaque", []string{"--url", "http:127.0.0.1"}, nil, []string{"no host"}},
		{"zero --timeout", []string{"--timeout", "0s"}, nil, []string{`--timeout="0s"`, "greater than zero"}},
		{"bare zero --timeout", []string{"--timeout=0"}, nil, []string{`--timeout="0"`, "greater than zero"}},
		{"negative --timeout", []string{"--timeout", "-1s"}, nil, []string{`--timeout="-1s"`, "greater than zero"}},
		{"unparseable --timeout", []string{"--timeout", "2"}, nil, []string{`--timeout="2"`, "not a Go duration"}},
		{"words as --timeout", []string{"--timeout", "soon"}, nil, []string{`--timeout="soon"`, "not a Go duration"}},
		{"bad HEALTHCHECK_URL", nil, map[string]string{envURL: "unix:///run/health.sock"}, []string{`HEALTHCHECK_URL="unix:///run/health.sock"`, `scheme "unix"`}},
		{"HEALTHCHECK_URL without a host", nil, map[string]string{envURL: "https://"}, []string{`HEALTHCHECK_URL="https://"`, "no host"}},
		{"bad HEALTHCHECK_TIMEOUT", nil, map[string]string{envTimeout: "2 seconds"}, []string{`HEALTHCHECK_TIMEOUT="2 seconds"`, "not a Go duration"}},
		{"non-ASCII host", []string{"--url", "http://bücher.example/"}, nil, []string{`--url="http://bücher.example/"`, "ASCII", "xn--"}},
		{"negative HEALTHCHECK_TIMEOUT", nil, map[string]string{envTimeout: "-5ms"}, []string{`HEALTHCHECK_TIMEOUT="-5ms"`, "greater than zero"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// WHEN the probe is started with bad input
			r := runProbe(t, tt.args, tt.env)
			// THEN it exits 2 at once, naming the flag or variable and the value
			expect(t, r, exitUsage, "error:", tt.contains...)
			if r.stdout != "" {
				t.Errorf("stdout = %q, want empty", r.stdout)
			}
			if r.elapsed > time.Second {
				t.Errorf("took %s; usage errors must not touch the network", r.elapsed)
			}
		})
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
	target, proxyURL, proxyHits := proxyScenario(t)

	tests := []struct {
		name   string
		args   []string
		env    []string
		code   int
		prefix string
		stdout string
	}{
		{"version", []string{"--version"}, nil, exitHealthy, "", "healthcheck 9.8.7-test ("},
		{"healthy", []string{"--url", healthy}, nil, exitHealthy, "", "healthy: "},
		{"unhealthy", []string{"--url", sick}, nil, exitUnhealthy, "unhealthy:", ""},
		{"refused", []string{"--url", closedPortURL(t)}, nil, exitUnreachable, "error:", ""},
		{"usage", []string{"--timeout", "-1s"}, nil, exitUsage, "error:", ""},
		{"environment fallback", nil, []string{envURL + "=" + healthy}, exitHealthy, "", "healthy: "},
		{
			"proxy variables ignored", []string{"--url", target},
			[]string{"HTTP_PROXY=" + proxyURL, "http_proxy=" + proxyURL, "HTTPS_PROXY=" + proxyURL,
				"ALL_PROXY=" + proxyURL, "NO_PROXY=", "no_proxy="},
			exitUnhealthy, "unhealthy:", "",
		},
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

// FuzzParseArgs feeds arbitrary arguments and environment values to the
// parser. It must never panic; it either rejects the input as a usage error
// or produces options the probe can act on.
func FuzzParseArgs(f *testing.F) {
	seeds := []struct{ args, url, timeout string }{
		{"", "", ""},
		{"--url\x00http://127.0.0.1:13133/", "", ""},
		{"--timeout=0", "", ""},
		{"--version", "ftp://x", "x"},
		{"--help", "", ""},
		{"-url=http://[::1]:1/\x00-timeout=1ns", "", ""},
		{"--url=http://%zz", "", "-1s"},
		{"---x", "http://:1", "1h"},
		{"--\x00--url", "https://a", "9223372036854775807ns"},
		{"--url=http:a", "", "1e3s"},
	}
	for _, s := range seeds {
		f.Add(s.args, s.url, s.timeout)
	}
	f.Fuzz(func(t *testing.T, rawArgs, envURLValue, envTimeoutValue string) {
		var args []string
		if rawArgs != "" {
			args = strings.Split(rawArgs, "\x00")
		}
		env := map[string]string{envURL: envURLValue, envTimeout: envTimeoutValue}
		opts, err := parseArgs(args, envMap(env))
		if err != nil || opts.help || opts.version {
			// These paths never reach the network, so the whole program runs.
			r := runProbe(t, args, env)
			switch {
			case err != nil:
				expect(t, r, exitUsage, "error:")
			default:
				expect(t, r, exitHealthy, "")
			}
			return
		}
		if opts.url == nil {
			t.Fatal("no URL and no error")
		}
		if s := opts.url.Scheme; s != "http" && s != "https" {
			t.Fatalf("scheme %q accepted", s)
		}
		if opts.url.Hostname() == "" {
			t.Fatalf("URL %q without a host accepted", opts.url)
		}
		if opts.timeout <= 0 {
			t.Fatalf("timeout %s accepted", opts.timeout)
		}
		checkRequestShape(t, string(buildRequest(opts.url)))
	})
}
