package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

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

// waitForClose reads and discards until the probe closes the connection or
// forever has passed.
func waitForClose(c net.Conn) {
	_ = c.SetReadDeadline(time.Now().Add(forever))
	_, _ = io.Copy(io.Discard, c)
}

// readRequestHead reads the request head up to its empty line and returns
// it; the empty string when the connection ends first.
func readRequestHead(br *bufio.Reader) string {
	var head strings.Builder
	for {
		line, err := br.ReadString('\n')
		head.WriteString(line)
		if err != nil {
			return ""
		}
		if line == "\r\n" {
			return head.String()
		}
	}
}

// rawAnswer starts a server that reads the request head, writes answer as
// it is and then either closes the connection or, with keepOpen, waits for
// the probe to close it.
func rawAnswer(t *testing.T, answer string, keepOpen bool) string {
	t.Helper()
	return rawServer(t, func(c net.Conn) {
		defer c.Close()
		br := bufio.NewReader(c)
		if readRequestHead(br) == "" {
			return
		}
		_, _ = io.WriteString(c, answer)
		if keepOpen {
			waitForClose(c)
		}
	})
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
			contains: []string{`503 Service Unavailable: "{\"status\":\"Server not available\"}"`},
		},
		{
			name:     "404 is unhealthy",
			url:      func(t *testing.T) string { return statusServer(t, 404, "").URL + "/" },
			code:     exitUnhealthy,
			prefix:   "unhealthy:",
			contains: []string{"404 Not Found"},
		},
		{
			name:     "304 is unhealthy",
			url:      func(t *testing.T) string { return statusServer(t, 304, "").URL + "/" },
			code:     exitUnhealthy,
			prefix:   "unhealthy:",
			contains: []string{"304 Not Modified"},
		},
		{
			name: "server accepts and never answers",
			url: func(t *testing.T) string {
				return rawServer(t, waitForClose)
			},
			timeout:  short,
			code:     exitUnreachable,
			prefix:   "timeout:",
			contains: []string{"no response from", "within 300ms"},
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
			timeout:  short,
			code:     exitUnreachable,
			prefix:   "timeout:",
			contains: []string{"within 300ms"},
			maxTime:  short + slack,
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
			contains: []string{"answered 200 OK but the body did not arrive within 300ms"},
			maxTime:  short + slack,
		},
		{
			name: "unhealthy body trickling past the timeout is quoted as far as it came",
			url: func(t *testing.T) string {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.WriteHeader(503)
					_, _ = io.WriteString(w, "busy")
					w.(http.Flusher).Flush()
					waitOrDone(r, forever)
				}))
				t.Cleanup(srv.Close)
				return srv.URL + "/"
			},
			timeout:  short,
			code:     exitUnhealthy,
			prefix:   "unhealthy:",
			contains: []string{`503 Service Unavailable: "busy"`},
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
			contains: []string{`: "` + strings.Repeat("z", snippetBytes) + `"...` + "\n"},
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
			contains: []string{"no valid HTTP response", "headers exceeded 65536 bytes"},
		},
		{
			name: "bytes that are not HTTP",
			url: func(t *testing.T) string {
				return rawServer(t, func(c net.Conn) {
					defer c.Close()
					if readRequestHead(bufio.NewReader(c)) != "" {
						_, _ = io.WriteString(c, "SSH-2.0-OpenSSH_9.6\r\n")
					}
				})
			},
			timeout:  5 * time.Second,
			code:     exitUnreachable,
			prefix:   "error:",
			contains: []string{"no valid HTTP response", "malformed HTTP"},
		},
		{
			// Whether the banner arrives before or after the request is
			// written decides net/http's error, not the exit code.
			name: "server that speaks first",
			url: func(t *testing.T) string {
				return rawServer(t, func(c net.Conn) {
					_, _ = io.WriteString(c, "SSH-2.0-OpenSSH_9.6\r\n")
					waitForClose(c)
				})
			},
			timeout:  5 * time.Second,
			code:     exitUnreachable,
			prefix:   "error:",
			contains: []string{"no valid HTTP response"},
		},
		{
			name: "connection closed without an answer",
			url: func(t *testing.T) string {
				return rawServer(t, func(c net.Conn) {
					_, _ = bufio.NewReader(c).ReadString('\n')
					c.Close()
				})
			},
			timeout:  5 * time.Second,
			code:     exitUnreachable,
			prefix:   "error:",
			contains: []string{"closed before a response arrived"},
		},
		{
			name:     "connection refused",
			url:      closedPortURL,
			timeout:  5 * time.Second,
			code:     exitUnreachable,
			prefix:   "error:",
			contains: []string{"cannot reach", "connection refused"},
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
			contains: []string{"cannot reach", "certificate"},
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
		{
			name: "user info is not printed when the endpoint is unreachable",
			url: func(t *testing.T) string {
				return strings.Replace(closedPortURL(t), "http://", "http://user:s3cret@", 1)
			},
			code:     exitUnreachable,
			prefix:   "error:",
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

// TestRawAnswers covers answers that httptest servers do not give: odd but
// valid framing, interim responses and broken answers.
func TestRawAnswers(t *testing.T) {
	const short = 300 * time.Millisecond
	const slack = 1500 * time.Millisecond
	tests := []struct {
		name     string
		answer   string
		keepOpen bool // the server waits for the probe to close the connection
		timeout  time.Duration
		code     int
		prefix   string
		contains []string
		stdout   string
	}{
		{
			name:   "Content-Length body",
			answer: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", keepOpen: true,
			code: exitHealthy, stdout: "answered 200 OK\n",
		},
		{
			name:   "HTTP/1.0 body up to the end of the connection",
			answer: "HTTP/1.0 200 OK\r\n\r\nfine",
			code:   exitHealthy, stdout: "answered 200 OK\n",
		},
		{
			name:   "no reason phrase",
			answer: "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", keepOpen: true,
			code: exitHealthy, stdout: "answered 200\n",
		},
		{
			name:   "chunked body",
			answer: "HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbusy\r\n5\r\n, try\r\n0\r\n\r\n", keepOpen: true,
			code: exitUnhealthy, prefix: "unhealthy:", contains: []string{`503 Service Unavailable: "busy, try"` + "\n"},
		},
		{
			name: "interim 1xx responses are skipped",
			answer: "HTTP/1.1 100 Continue\r\n\r\n" +
				"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n" +
				"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
			keepOpen: true,
			code:     exitHealthy, stdout: "answered 200 OK\n",
		},
		{
			name:   "interim response then silence",
			answer: "HTTP/1.1 100 Continue\r\n\r\n", keepOpen: true, timeout: short,
			code: exitUnreachable, prefix: "timeout:", contains: []string{"within 300ms"},
		},
		{
			name:   "101 is a final, unhealthy answer",
			answer: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n", keepOpen: true,
			code: exitUnhealthy, prefix: "unhealthy:", contains: []string{"answered 101 Switching Protocols\n"},
		},
		{
			name:   "204 has no body whatever its Content-Length",
			answer: "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", keepOpen: true,
			code: exitHealthy, stdout: "answered 204 No Content\n",
		},
		{
			name:   "connection closed before the Content-Length is reached",
			answer: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
			code:   exitUnreachable, prefix: "error:", contains: []string{"answered 200 OK but the body could not be read"},
		},
		{
			name:   "conflicting Content-Length values",
			answer: "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nok", keepOpen: true,
			code: exitUnreachable, prefix: "error:", contains: []string{"no valid HTTP response", "Content-Length"},
		},
		{
			name:   "malformed status line",
			answer: "HTTP/1.1 20 OK\r\n\r\n", keepOpen: true,
			code: exitUnreachable, prefix: "error:", contains: []string{"no valid HTTP response", "malformed HTTP status code"},
		},
		{
			name:   "HTTP/2 frames",
			answer: "\x00\x00\x12\x04\x00\x00\x00\x00\x00\r\n\r\n", keepOpen: true,
			code: exitUnreachable, prefix: "error:", contains: []string{"no valid HTTP response"},
		},
		{
			name:   "closed in the middle of the headers",
			answer: "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n",
			code:   exitUnreachable, prefix: "error:", contains: []string{"no valid HTTP response", "closed in the middle of the response"},
		},
		{
			name:   "closed in the middle of a header line",
			answer: "HTTP/1.1 200 OK\r\nContent-",
			code:   exitUnreachable, prefix: "error:", contains: []string{"no valid HTTP response", "malformed MIME header"},
		},
		{
			name:   "closed without a byte",
			answer: "",
			code:   exitUnreachable, prefix: "error:", contains: []string{"no valid HTTP response", "closed before a response arrived"},
		},
		{
			name:   "one long header line within the limit",
			answer: "HTTP/1.1 200 OK\r\nX-Long: " + strings.Repeat("l", 60<<10) + "\r\nContent-Length: 0\r\n\r\n", keepOpen: true,
			code: exitHealthy, stdout: "answered 200 OK\n",
		},
		{
			name:   "one header line over the limit",
			answer: "HTTP/1.1 200 OK\r\nX-Long: " + strings.Repeat("l", 70<<10) + "\r\n\r\n", keepOpen: true,
			code: exitUnreachable, prefix: "error:", contains: []string{"headers exceeded 65536 bytes"},
		},
		{
			name:   "reason phrase with control bytes is printed on one line",
			answer: "HTTP/1.1 503 Bad\x1b[2J\rNews\r\nContent-Length: 0\r\n\r\n", keepOpen: true,
			code: exitUnhealthy, prefix: "unhealthy:", contains: []string{"answered 503 Bad [2J News\n"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// GIVEN a server that answers with these bytes
			u := rawAnswer(t, tt.answer, tt.keepOpen)
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 5 * time.Second
			}
			// WHEN the probe checks it
			r := runProbe(t, []string{"--url", u, "--timeout", timeout.String()}, nil)
			// THEN the exit code and the message say what happened, in time
			expect(t, r, tt.code, tt.prefix, tt.contains...)
			if tt.stdout != "" && !strings.HasSuffix(r.stdout, tt.stdout) {
				t.Errorf("stdout = %q, want suffix %q", r.stdout, tt.stdout)
			}
			if tt.stdout == "" && r.stdout != "" {
				t.Errorf("stdout = %q, want empty", r.stdout)
			}
			if limit := timeout + slack; tt.timeout > 0 && r.elapsed > limit {
				t.Errorf("took %s, want at most %s", r.elapsed, limit)
			}
			if tt.timeout == 0 && r.elapsed > 2*time.Second {
				t.Errorf("took %s; the answer is complete, the probe must not wait for more", r.elapsed)
			}
		})
	}
}

func TestHeadersTricklingPastTheTimeout(t *testing.T) {
	// GIVEN a server that sends a status line, then one header line every 50 ms, forever
	u := rawServer(t, func(c net.Conn) {
		defer c.Close()
		if readRequestHead(bufio.NewReader(c)) == "" {
			return
		}
		if _, err := io.WriteString(c, "HTTP/1.1 200 OK\r\n"); err != nil {
			return
		}
		for stop := time.Now().Add(forever); time.Now().Before(stop); time.Sleep(50 * time.Millisecond) {
			if _, err := io.WriteString(c, "X-More: 1\r\n"); err != nil {
				return
			}
		}
	})
	// WHEN the probe checks it with a short timeout
	r := runProbe(t, []string{"--url", u, "--timeout", "300ms"}, nil)
	// THEN it times out close to the deadline
	expect(t, r, exitUnreachable, "timeout:", "within 300ms")
	if r.elapsed > 1800*time.Millisecond {
		t.Errorf("took %s, want about 300ms", r.elapsed)
	}
}

func TestRedirectsAreUnhealthyAndNotFollowed(t *testing.T) {
	for _, status := range []int{301, 302, 303, 307, 308} {
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
	t.Run("3xx without Location", func(t *testing.T) {
		// GIVEN a 300 answer that names no target
		srv := statusServer(t, 300, "choose")
		// WHEN the probe checks it
		r := runProbe(t, []string{"--url", srv.URL + "/"}, nil)
		// THEN it is unhealthy and the body is quoted
		expect(t, r, exitUnhealthy, "unhealthy:", `300 Multiple Choices: "choose"`)
	})
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

func TestRequestOnTheWire(t *testing.T) {
	// GIVEN a server that records the request head and answers 204
	got := make(chan string, 1)
	base := rawServer(t, func(c net.Conn) {
		defer c.Close()
		got <- readRequestHead(bufio.NewReader(c))
		_, _ = io.WriteString(c, "HTTP/1.1 204 No Content\r\n\r\n")
	})
	hostPort := strings.TrimSuffix(strings.TrimPrefix(base, "http://"), "/")
	probeURL := "http://probe:s3cret@" + hostPort + "/health/a%20b?x=1&y=a b#fragment"
	// WHEN the probe checks a URL with credentials, an escaped path, a query and a fragment
	r := runProbe(t, []string{"--url", probeURL}, nil)
	// THEN it reports healthy after sending one well-formed HTTP/1.1 GET
	expect(t, r, exitHealthy, "")
	req := <-got
	checkRequestShape(t, req)
	lines := strings.Split(strings.TrimSuffix(req, "\r\n\r\n"), "\r\n")
	if want := "GET /health/a%20b?x=1&y=a%20b HTTP/1.1"; lines[0] != want {
		t.Errorf("request line = %q, want %q", lines[0], want)
	}
	headers := map[string]string{}
	for _, line := range lines[1:] {
		name, value, _ := strings.Cut(line, ": ")
		if _, dup := headers[strings.ToLower(name)]; dup {
			t.Errorf("header %s sent twice", name)
		}
		headers[strings.ToLower(name)] = value
	}
	want := map[string]string{
		"host":          hostPort,
		"user-agent":    "otel-fargate-healthcheck/" + version,
		"authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("probe:s3cret")),
		"accept":        "*/*",
		"connection":    "close",
	}
	for name, value := range want {
		if headers[name] != value {
			t.Errorf("header %s = %q, want %q", name, headers[name], value)
		}
	}
	for name := range headers {
		if _, ok := want[name]; !ok {
			t.Errorf("unexpected header %s: %s", name, headers[name])
		}
	}
	if strings.Contains(req, "fragment") {
		t.Errorf("the fragment was sent: %q", req)
	}
}

func TestIPv6Literal(t *testing.T) {
	// GIVEN a healthy server on [::1] (skipped only where the host has no IPv6 loopback)
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("::1 is not available on this host: %v", err)
	}
	hosts := make(chan string, 1)
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hosts <- r.Host
		w.WriteHeader(200)
	})}}
	srv.Start()
	defer srv.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	url := fmt.Sprintf("http://[::1]:%d/", port)
	// WHEN the probe checks it through the literal
	r := runProbe(t, []string{"--url", url}, nil)
	// THEN it is healthy, and Host carries the literal in brackets
	expect(t, r, exitHealthy, "")
	if !strings.Contains(r.stdout, url) {
		t.Errorf("stdout = %q, want it to name %s", r.stdout, url)
	}
	if h, want := <-hosts, fmt.Sprintf("[::1]:%d", port); h != want {
		t.Errorf("Host = %q, want %q", h, want)
	}
}

func TestIPv6LiteralWithZone(t *testing.T) {
	// GIVEN a healthy server on [::1] and a loopback interface named lo
	// (skipped where the host has neither)
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("::1 is not available on this host: %v", err)
	}
	if _, err := net.InterfaceByName("lo"); err != nil {
		ln.Close()
		t.Skipf("no interface named lo: %v", err)
	}
	hosts := make(chan string, 1)
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hosts <- r.Host
		w.WriteHeader(200)
	})}}
	srv.Start()
	defer srv.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	// WHEN the probe checks it through the literal with a zone
	r := runProbe(t, []string{"--url", fmt.Sprintf("http://[::1%%25lo]:%d/", port)}, nil)
	// THEN it connects through the zone and leaves the zone out of Host
	expect(t, r, exitHealthy, "")
	if h, want := <-hosts, fmt.Sprintf("[::1]:%d", port); h != want {
		t.Errorf("Host = %q, want %q", h, want)
	}
}

func setProxyEnv(t *testing.T, proxyURL string) {
	t.Helper()
	for _, k := range []string{"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"} {
		t.Setenv(k, proxyURL)
	}
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")
}

func TestTransportIgnoresProxiesAndKeepAlives(t *testing.T) {
	// GIVEN the probe's client for an https URL
	u, err := parseURL("--url", "https://127.0.0.1:13133/")
	if err != nil {
		t.Fatal(err)
	}
	client := newClient(u, nil, time.Now().Add(time.Second))
	tr, ok := client.Transport.(*http.Transport)
	// THEN it uses no proxy, one connection, HTTP/1.1 only and TLS 1.2 or newer
	if !ok {
		t.Fatalf("transport is %T", client.Transport)
	}
	if tr.Proxy != nil {
		t.Error("Transport.Proxy is set")
	}
	if !tr.DisableKeepAlives {
		t.Error("keep-alives are enabled")
	}
	if tr.ForceAttemptHTTP2 || tr.TLSNextProto == nil || len(tr.TLSNextProto) != 0 {
		t.Error("HTTP/2 is not disabled")
	}
	if tr.TLSClientConfig == nil || tr.TLSClientConfig.MinVersion != tls.VersionTLS12 {
		t.Error("TLS minimum version is not 1.2")
	}
	if client.CheckRedirect == nil || client.Timeout != 0 {
		t.Error("redirects are followed, or the client has a timeout of its own besides the context")
	}
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
	for _, bogus := range []string{"http://%zz", closedPortURL(t), "no proxy at all"} {
		t.Run(bogus, func(t *testing.T) {
			// GIVEN proxy variables that name no usable proxy (a dead address among them)
			setProxyEnv(t, bogus)
			healthy := statusServer(t, 200, "").URL + "/"
			// WHEN the probe checks a healthy server
			r := runProbe(t, []string{"--url", healthy}, nil)
			// THEN the variables change nothing
			expect(t, r, exitHealthy, "")
		})
	}
}

// tlsProbe runs check against url trusting only srv's certificate.
func tlsProbe(t *testing.T, srv *httptest.Server, url string) result {
	t.Helper()
	opts, err := parseArgs([]string{"--url", url, "--timeout", "5s"}, envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	opts.roots = x509.NewCertPool()
	opts.roots.AddCert(srv.Certificate())
	var stdout, stderr bytes.Buffer
	start := time.Now()
	code := check(opts, &stdout, &stderr)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String(), elapsed: time.Since(start)}
}

func TestHTTPS(t *testing.T) {
	// GIVEN an https server whose certificate names 127.0.0.1, ::1 and example.com,
	// healthy only for an HTTP/1.1 request that asks to close the connection
	hosts := make(chan string, 10)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hosts <- r.Host
		if r.TLS == nil || r.ProtoMajor != 1 || !r.Close || r.URL.RequestURI() != "/health?x=1" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(200)
	})
	srv := httptest.NewTLSServer(handler)
	defer srv.Close()
	port := srv.Listener.Addr().(*net.TCPAddr).Port

	t.Run("verified IPv4 literal", func(t *testing.T) {
		// WHEN the probe checks it through 127.0.0.1, trusting its certificate
		r := tlsProbe(t, srv, srv.URL+"/health?x=1")
		// THEN the certificate is verified and the answer is healthy
		expect(t, r, exitHealthy, "")
		if h := <-hosts; h != strings.TrimPrefix(srv.URL, "https://") {
			t.Errorf("Host = %q", h)
		}
	})
	t.Run("name not in the certificate", func(t *testing.T) {
		// WHEN the probe reaches the same server as localhost, a name the certificate lacks
		r := tlsProbe(t, srv, fmt.Sprintf("https://localhost:%d/health?x=1", port))
		// THEN the verification against the URL's host fails
		expect(t, r, exitUnreachable, "error:", "cannot reach", "certificate", "localhost")
	})
	t.Run("not trusted", func(t *testing.T) {
		// WHEN the probe does not trust the certificate
		r := runProbe(t, []string{"--url", srv.URL + "/health?x=1"}, nil)
		// THEN the handshake fails
		expect(t, r, exitUnreachable, "error:", "cannot reach", "certificate")
	})
	t.Run("HTTP/2 server", func(t *testing.T) {
		// GIVEN the same handler on a server that offers HTTP/2
		srv2 := httptest.NewUnstartedServer(handler)
		srv2.EnableHTTP2 = true
		srv2.StartTLS()
		defer srv2.Close()
		// WHEN the probe checks it
		r := tlsProbe(t, srv2, srv2.URL+"/health?x=1")
		// THEN it still speaks HTTP/1.1
		expect(t, r, exitHealthy, "")
		<-hosts
	})
	t.Run("verified IPv6 literal", func(t *testing.T) {
		ln, err := net.Listen("tcp", "[::1]:0")
		if err != nil {
			t.Skipf("::1 is not available on this host: %v", err)
		}
		srv6 := httptest.NewUnstartedServer(handler)
		srv6.Listener.Close()
		srv6.Listener = ln
		srv6.StartTLS()
		defer srv6.Close()
		u := "https://" + ln.Addr().String() + "/health?x=1"
		// WHEN the probe checks it through [::1]
		r := tlsProbe(t, srv6, u)
		// THEN the certificate's IP address matches and the answer is healthy
		expect(t, r, exitHealthy, "")
		if h := <-hosts; h != ln.Addr().String() {
			t.Errorf("Host = %q, want %q", h, ln.Addr().String())
		}
	})
}

func TestTLSBelow12IsRefused(t *testing.T) {
	// GIVEN a trusted https server that speaks at most TLS 1.1
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.TLS = &tls.Config{MaxVersion: tls.VersionTLS11}
	srv.StartTLS()
	defer srv.Close()
	// WHEN the probe checks it
	r := tlsProbe(t, srv, srv.URL+"/")
	// THEN the handshake fails
	expect(t, r, exitUnreachable, "error:", "cannot reach", "tls")
}

func TestTLSHandshakeTimeout(t *testing.T) {
	// GIVEN a server that accepts and never says a word
	u := rawServer(t, waitForClose)
	u = strings.Replace(u, "http://", "https://", 1)
	// WHEN the probe speaks TLS to it
	r := runProbe(t, []string{"--url", u, "--timeout", "300ms"}, nil)
	// THEN the handshake is bounded by the timeout
	expect(t, r, exitUnreachable, "timeout:", "within 300ms")
	if r.elapsed > 1800*time.Millisecond {
		t.Errorf("took %s, want about 300ms", r.elapsed)
	}
}

func TestPlainHTTPToTLSServer(t *testing.T) {
	// GIVEN an https server
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	// WHEN the probe speaks plain HTTP to it
	r := runProbe(t, []string{"--url", strings.Replace(srv.URL, "https://", "http://", 1) + "/"}, nil)
	// THEN the server's 400 answer is unhealthy
	expect(t, r, exitUnhealthy, "unhealthy:", "400")
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
	silent := rawServer(t, waitForClose)
	r = runProbe(t, []string{"--url", silent}, map[string]string{envTimeout: "150ms"})
	// THEN the environment's timeout applies
	expect(t, r, exitUnreachable, "timeout:", "within 150ms")
}
