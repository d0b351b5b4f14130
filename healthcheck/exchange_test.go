package main

import (
	"bufio"
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// rawAnswer starts a server that reads the request head, writes answer as
// it is and then either closes the connection or, with keepOpen, waits for
// the probe to close it.
func rawAnswer(t *testing.T, answer string, keepOpen bool) string {
	t.Helper()
	return rawServer(t, func(c net.Conn) {
		defer c.Close()
		br := bufio.NewReader(c)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			if line == "\r\n" {
				break
			}
		}
		_, _ = io.WriteString(c, answer)
		if keepOpen {
			_, _ = io.Copy(io.Discard, c)
		}
	})
}

// checkRequestShape fails unless req is a GET request head whose lines all
// end in CRLF, with no other CR or LF and no other control byte, ending in an
// empty line.
func checkRequestShape(t *testing.T, req string) {
	t.Helper()
	head, ok := strings.CutSuffix(req, "\r\n\r\n")
	if !ok || strings.Contains(head, "\r\n\r\n") {
		t.Fatalf("request %q does not end with its only empty line", req)
	}
	lines := strings.Split(head, "\r\n")
	for _, line := range lines {
		for i := 0; i < len(line); i++ {
			if c := line[i]; c < ' ' || c == 0x7f {
				t.Fatalf("request line %q holds control byte %#x", line, c)
			}
		}
	}
	parts := strings.Split(lines[0], " ")
	if len(parts) != 3 || parts[0] != "GET" || !strings.HasPrefix(parts[1], "/") || parts[2] != "HTTP/1.1" {
		t.Fatalf("request line %q is not GET /target HTTP/1.1", lines[0])
	}
	for _, line := range lines[1:] {
		name, _, ok := strings.Cut(line, ": ")
		if !ok || !isToken(name) {
			t.Fatalf("header line %q is not name: value", line)
		}
	}
}

func TestRequestOnTheWire(t *testing.T) {
	// GIVEN a server that records the request head and answers 204
	got := make(chan string, 1)
	base := rawServer(t, func(c net.Conn) {
		defer c.Close()
		var head strings.Builder
		br := bufio.NewReader(c)
		for {
			line, err := br.ReadString('\n')
			head.WriteString(line)
			if err != nil || line == "\r\n" {
				break
			}
		}
		got <- head.String()
		_, _ = io.WriteString(c, "HTTP/1.1 204 No Content\r\n\r\n")
	})
	hostPort := strings.TrimSuffix(strings.TrimPrefix(base, "http://"), "/")
	probeURL := "http://probe:s3cret@" + hostPort + "/health/a%20b?x=1&y=a b#fragment"
	// WHEN the probe checks a URL with credentials, an escaped path, a query and a fragment
	r := runProbe(t, []string{"--url", probeURL}, nil)
	// THEN it sends exactly this request and reports healthy
	expect(t, r, exitHealthy, "")
	want := "GET /health/a%20b?x=1&y=a%20b HTTP/1.1\r\n" +
		"Host: " + hostPort + "\r\n" +
		"User-Agent: otel-fargate-healthcheck/" + version + "\r\n" +
		"Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("probe:s3cret")) + "\r\n" +
		"Accept: */*\r\n" +
		"Connection: close\r\n\r\n"
	if req := <-got; req != want {
		t.Errorf("request =\n%q\nwant\n%q", req, want)
	}
	checkRequestShape(t, want)
}

func TestRequestTargetAndHostHeader(t *testing.T) {
	tests := []struct{ url, target, host string }{
		{"http://h", "/", "h"},
		{"http://h/", "/", "h"},
		{"http://h:/", "/", "h"},
		{"http://h:80/x", "/x", "h"},
		{"https://h:443/", "/", "h"},
		{"https://h:80/", "/", "h:80"},
		{"http://h:443/", "/", "h:443"},
		{"http://h:13133/", "/", "h:13133"},
		{"http://[::1]/", "/", "[::1]"},
		{"http://[::1]:13133/", "/", "[::1]:13133"},
		{"https://[fe80::1%25eth0]:443/", "/", "[fe80::1]"},
		{"http://[fe80::1%25eth0]:13133/", "/", "[fe80::1]:13133"},
		{"http://h/p?q#frag", "/p?q", "h"},
		{"http://h?", "/?", "h"},
		{"http://h/?q=a b", "/?q=a%20b", "h"},
		{"http://h/a%2Fb/%7e", "/a%2Fb/%7e", "h"},
		{"http://h/caf%C3%A9", "/caf%C3%A9", "h"},
		{"http://u:p@h:8080/", "/", "h:8080"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			// GIVEN a URL accepted by the parser
			opts, err := parseArgs([]string{"--url", tt.url}, envMap(nil))
			if err != nil {
				t.Fatal(err)
			}
			// WHEN the request is built
			req := string(buildRequest(opts.url))
			// THEN the target and the Host header are these
			checkRequestShape(t, req)
			if !strings.HasPrefix(req, "GET "+tt.target+" HTTP/1.1\r\nHost: "+tt.host+"\r\n") {
				t.Errorf("request = %q, want target %q and Host %q", req, tt.target, tt.host)
			}
		})
	}
}

func TestParseStatusLine(t *testing.T) {
	good := []struct {
		line   string
		code   int
		status string
	}{
		{"HTTP/1.1 200 OK", 200, "200 OK"},
		{"HTTP/1.0 503 Service Unavailable", 503, "503 Service Unavailable"},
		{"HTTP/1.1 204", 204, "204"},
		{"HTTP/1.1 204 ", 204, "204"},
		{"HTTP/1.1 299 odd\treason", 299, "299 odd reason"},
		{"HTTP/1.1 100 Continue", 100, "100 Continue"},
		{"HTTP/1.1 599 x", 599, "599 x"},
		{"HTTP/1.1 200 \xffOK", 200, "200 ?OK"},
	}
	for _, tt := range good {
		code, status, err := parseStatusLine(tt.line)
		if err != nil || code != tt.code || status != tt.status {
			t.Errorf("parseStatusLine(%q) = %d, %q, %v; want %d, %q", tt.line, code, status, err, tt.code, tt.status)
		}
	}
	bad := []string{
		"", "HTTP/1.1", "HTTP/1.1 ", "HTTP/1.1 20", "HTTP/1.1 20 OK", "HTTP/1.1 2000 OK", "HTTP/1.1 200OK",
		"HTTP/1.1  200 OK", "HTTP/1.1 +20 OK", "HTTP/1.1 099 x", "HTTP/1.1 600 x", "HTTP/1.1 abc x",
		"HTTP/2 200 OK", "HTTP/2.0 200 OK", "HTTP/1.10 200 OK", "HTTP/1.x 200 OK", "http/1.1 200 OK",
		"HTTP/1.1\t200 OK", " HTTP/1.1 200 OK", "HTTP/1.1 200 O\x00K", "HTTP/1.1 200 O\rK", "HTTP/1.1 200 \x7f",
		"SSH-2.0-OpenSSH_9.6", "ICY 200 OK",
	}
	for _, line := range bad {
		if code, status, err := parseStatusLine(line); err == nil || !strings.Contains(err.Error(), "malformed HTTP") {
			t.Errorf("parseStatusLine(%q) = %d, %q, %v; want a malformed HTTP error", line, code, status, err)
		}
	}
}

func TestParseChunkSize(t *testing.T) {
	good := map[string]int64{
		"0": 0, "a": 10, "A": 10, "1f": 31, "0010": 16, "4;ext=1": 4, "4 ; ext": 4, "4\t;x=\"y\"": 4,
		"7fffffffffffffff": 1<<63 - 1, "00000000000000000001": 1,
	}
	for line, want := range good {
		if got, err := parseChunkSize(line); err != nil || got != want {
			t.Errorf("parseChunkSize(%q) = %d, %v; want %d", line, got, err, want)
		}
	}
	for _, line := range []string{"", ";ext", "g", "-1", "+1", "0x10", "4 4", "4x", "8000000000000000", "ffffffffffffffffff"} {
		if got, err := parseChunkSize(line); err == nil {
			t.Errorf("parseChunkSize(%q) = %d, want an error", line, got)
		}
	}
}

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
			name:   "bare LF line ends",
			answer: "HTTP/1.1 200 OK\nContent-Length: 0\n\n", keepOpen: true,
			code: exitHealthy, stdout: "answered 200 OK\n",
		},
		{
			name:   "no reason phrase",
			answer: "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", keepOpen: true,
			code: exitHealthy, stdout: "answered 200\n",
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
			name:   "interim response then nothing",
			answer: "HTTP/1.1 100 Continue\r\n\r\n",
			code:   exitUnreachable, prefix: "error:", contains: []string{"closed in the middle of the response headers"},
		},
		{
			name:   "interim response then silence",
			answer: "HTTP/1.1 100 Continue\r\n\r\n", keepOpen: true, timeout: short,
			code: exitUnreachable, prefix: "timeout:", contains: []string{"within 300ms"},
		},
		{
			name:   "endless interim responses hit the header limit",
			answer: strings.Repeat("HTTP/1.1 100 Continue\r\n\r\n", 3000), keepOpen: true,
			code: exitUnreachable, prefix: "error:", contains: []string{"headers exceed 64 KiB"},
		},
		{
			name:   "101 is a final, unhealthy answer",
			answer: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n", keepOpen: true,
			code: exitUnhealthy, prefix: "unhealthy:", contains: []string{"answered 101 Switching Protocols\n"},
		},
		{
			name:   "204 has no body whatever its Content-Length",
			answer: "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", keepOpen: true,
			code: exitHealthy, stdout: "answered 204 No Content\n",
		},
		{
			name:   "304 has no body",
			answer: "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", keepOpen: true,
			code: exitUnhealthy, prefix: "unhealthy:", contains: []string{"answered 304 Not Modified\n"},
		},
		{
			name:   "chunked body is decoded for the quote",
			answer: "HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nbusy\r\n5\r\n, try\r\n0\r\n\r\n", keepOpen: true,
			code: exitUnhealthy, prefix: "unhealthy:", contains: []string{`503 Service Unavailable: "busy, try"` + "\n"},
		},
		{
			name:   "chunked healthy body",
			answer: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\nTrailer: x\r\n\r\n", keepOpen: true,
			code: exitHealthy, stdout: "answered 200 OK\n",
		},
		{
			name:   "chunked wins over Content-Length",
			answer: "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", keepOpen: true,
			code: exitHealthy, stdout: "answered 200 OK\n",
		},
		{
			name:   "another last transfer coding reads to the end of the connection",
			answer: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", keepOpen: true, timeout: short,
			code: exitUnreachable, prefix: "timeout:", contains: []string{"body did not arrive"},
		},
		{
			name:   "malformed chunk size",
			answer: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", keepOpen: true,
			code: exitUnreachable, prefix: "error:", contains: []string{"answered 200 OK but the body could not be read", "malformed chunked body"},
		},
		{
			name:   "chunk data without its line end",
			answer: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcdef\r\n0\r\n\r\n", keepOpen: true,
			code: exitUnreachable, prefix: "error:", contains: []string{"malformed chunked body"},
		},
		{
			name:   "endless chunk size line",
			answer: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1" + strings.Repeat(";x", 4096), keepOpen: true,
			code: exitUnreachable, prefix: "error:", contains: []string{"longer than 4 KiB"},
		},
		{
			name:   "connection closed inside a chunk",
			answer: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc",
			code:   exitUnreachable, prefix: "error:", contains: []string{"closed in the middle of a chunk"},
		},
		{
			name:   "connection closed before the Content-Length is reached",
			answer: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
			code:   exitUnreachable, prefix: "error:", contains: []string{"7 bytes before the end of the body"},
		},
		{
			name:   "repeated equal Content-Length values",
			answer: "HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nok", keepOpen: true,
			code: exitHealthy, stdout: "answered 200 OK\n",
		},
		{
			name:   "conflicting Content-Length values",
			answer: "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nok", keepOpen: true,
			code: exitUnreachable, prefix: "error:", contains: []string{"Content-Length both 1 and 2"},
		},
		{
			name:   "signed Content-Length",
			answer: "HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok", keepOpen: true,
			code: exitUnreachable, prefix: "error:", contains: []string{`Content-Length "+2"`},
		},
		{
			name:   "negative Content-Length",
			answer: "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", keepOpen: true,
			code: exitUnreachable, prefix: "error:", contains: []string{`Content-Length "-1"`},
		},
		{
			name:   "header line without a colon",
			answer: "HTTP/1.1 200 OK\r\nnot a header\r\n\r\n", keepOpen: true,
			code: exitUnreachable, prefix: "error:", contains: []string{`malformed HTTP response: header line "not a header"`},
		},
		{
			name:   "space before the colon",
			answer: "HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n", keepOpen: true,
			code: exitUnreachable, prefix: "error:", contains: []string{"malformed HTTP response: header line"},
		},
		{
			name:   "folded header line continues the previous field",
			answer: "HTTP/1.1 302 Found\r\nLocation: /a\r\n\tb\r\nContent-Length: 0\r\n\r\n", keepOpen: true,
			code: exitUnhealthy, prefix: "unhealthy:", contains: []string{`redirect to "/a b", not followed`},
		},
		{
			name:   "folded line without a field",
			answer: "HTTP/1.1 200 OK\r\n folded\r\n\r\n", keepOpen: true,
			code: exitUnreachable, prefix: "error:", contains: []string{"malformed HTTP response: header line"},
		},
		{
			name:   "malformed status line",
			answer: "HTTP/1.1 20 OK\r\n\r\n", keepOpen: true,
			code: exitUnreachable, prefix: "error:", contains: []string{`malformed HTTP response: status line "HTTP/1.1 20 OK"`},
		},
		{
			name:   "HTTP/2 preface",
			answer: "\x00\x00\x12\x04\x00\x00\x00\x00\x00", keepOpen: true,
			code: exitUnreachable, prefix: "error:", contains: []string{"malformed HTTP response: it starts with"},
		},
		{
			name:   "closed in the middle of the status line",
			answer: "HTTP/1",
			code:   exitUnreachable, prefix: "error:", contains: []string{"closed in the middle of the response headers"},
		},
		{
			name:   "closed in the middle of the headers",
			answer: "HTTP/1.1 200 OK\r\nContent-",
			code:   exitUnreachable, prefix: "error:", contains: []string{"closed in the middle of the response headers"},
		},
		{
			name:   "closed without a byte",
			answer: "",
			code:   exitUnreachable, prefix: "error:", contains: []string{"connection closed before a response arrived"},
		},
		{
			name:   "one long header line within the limit",
			answer: "HTTP/1.1 200 OK\r\nX-Long: " + strings.Repeat("l", 60<<10) + "\r\nContent-Length: 0\r\n\r\n", keepOpen: true,
			code: exitHealthy, stdout: "answered 200 OK\n",
		},
		{
			name:   "one header line over the limit",
			answer: "HTTP/1.1 200 OK\r\nX-Long: " + strings.Repeat("l", 70<<10) + "\r\n\r\n", keepOpen: true,
			code: exitUnreachable, prefix: "error:", contains: []string{"headers exceed 64 KiB"},
		},
		{
			name:   "status line without end",
			answer: "HTTP/1.1 200 " + strings.Repeat("x", 70<<10), keepOpen: true,
			code: exitUnreachable, prefix: "error:", contains: []string{"headers exceed 64 KiB"},
		},
		{
			name:   "reason phrase with a control byte",
			answer: "HTTP/1.1 200 O\x1bK\r\n\r\n", keepOpen: true,
			code: exitUnreachable, prefix: "error:", contains: []string{"malformed HTTP response: status line"},
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
	// GIVEN an https server whose certificate names 127.0.0.1, ::1 and example.com
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
		expect(t, r, exitUnreachable, "error:", "certificate", "localhost")
	})
	t.Run("not trusted", func(t *testing.T) {
		// WHEN the probe does not trust the certificate
		r := runProbe(t, []string{"--url", srv.URL + "/health?x=1"}, nil)
		// THEN the handshake fails
		expect(t, r, exitUnreachable, "error:", "certificate")
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

func TestTLSHandshakeTimeout(t *testing.T) {
	// GIVEN a server that accepts and never says a word
	u := rawServer(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
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

// FuzzReadResponse feeds arbitrary bytes to the response reader. It must
// never panic, never go over its budgets, and only accept status codes from
// 100 to 599 with a printable status.
func FuzzReadResponse(f *testing.F) {
	seeds := []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 503 x\r\n\r\nbody",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;a=b\r\nbusy\r\n0\r\n\r\n",
		"HTTP/1.1 302 Found\nLocation: /a\n\tb\n\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n",
		"HTTP/1.1 204\r\n\r\n",
		"SSH-2.0-OpenSSH_9.6\r\n",
		"",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		br := bufio.NewReader(bytes.NewReader(data))
		budget := maxHeaderBytes
		for {
			resp, err := readHead(br, &budget)
			if budget < 0 {
				t.Fatalf("header budget overdrawn: %d", budget)
			}
			if err != nil {
				return
			}
			if resp.code < 100 || resp.code > 599 || !strings.HasPrefix(resp.status, strconv.Itoa(resp.code)) {
				t.Fatalf("code %d, status %q accepted", resp.code, resp.status)
			}
			for _, r := range resp.status {
				if r < ' ' || r == 0x7f || r == utf8.RuneError {
					t.Fatalf("status %q holds %q", resp.status, r)
				}
			}
			if resp.code < 200 && resp.code != 101 {
				continue
			}
			body, _ := readBody(resp.body, maxBodyBytes)
			if len(body) > maxBodyBytes {
				t.Fatalf("read %d bytes of body", len(body))
			}
			return
		}
	})
}
