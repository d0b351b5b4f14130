// Command healthcheck is a static HTTP health probe for containers built
// FROM scratch. It sends one GET request to the OpenTelemetry Collector's
// health_check extension and turns the answer into an exit code that an ECS
// container health check (exec form) understands.
//
// Exit codes: 0 healthy (2xx), 2 usage error, 3 endpoint unreachable or timed
// out, 4 unhealthy response (any status outside 2xx, redirects included).
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// Exit codes; part of the probe's interface, see README.md.
const (
	exitHealthy     = 0
	exitUsage       = 2
	exitUnreachable = 3
	exitUnhealthy   = 4
)

const (
	defaultURL     = "http://127.0.0.1:13133/"
	defaultTimeout = 2 * time.Second

	envURL     = "HEALTHCHECK_URL"
	envTimeout = "HEALTHCHECK_TIMEOUT"

	// maxBodyBytes bounds how much of a healthy answer's body is read; the
	// rest is never read, the connection is closed.
	maxBodyBytes = 64 << 10
	// maxHeaderBytes bounds the response head: status lines and header
	// fields, interim 1xx responses included.
	maxHeaderBytes = 64 << 10
	// snippetBytes is how much of an unhealthy body is quoted on stderr.
	snippetBytes = 200
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// options is the validated command line.
type options struct {
	url     *url.URL
	timeout time.Duration
	help    bool
	version bool
	// roots are the trust anchors for https; nil means the system's. Only
	// tests set them.
	roots *x509.CertPool
}

// usageError is a problem with the command line or the environment.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// run is the whole program; main only supplies the process's arguments,
// environment and streams, and exits with the returned code.
func run(args []string, env func(string) string, stdout, stderr io.Writer) int {
	opts, err := parseArgs(args, env)
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\nRun 'healthcheck --help' for usage.\n", err)
		return exitUsage
	}
	switch {
	case opts.help:
		fmt.Fprint(stdout, usageText)
		return exitHealthy
	case opts.version:
		fmt.Fprintln(stdout, versionString())
		return exitHealthy
	}
	return check(opts, stdout, stderr)
}

const usageText = `Usage: healthcheck [--url URL] [--timeout DURATION]

Sends one HTTP GET to URL and exits 0 when the answer has a 2xx status.
Redirects are not followed, proxy environment variables are ignored, and the
whole exchange (connect, headers, at most 64 KiB of body) must finish within
the timeout.

Flags:
  --url URL            endpoint to probe; falls back to $HEALTHCHECK_URL, then
                       http://127.0.0.1:13133/ (the collector's health_check
                       extension); only http and https URLs with a host
  --timeout DURATION   limit for the whole exchange, as a Go duration (500ms,
                       2s); falls back to $HEALTHCHECK_TIMEOUT, then 2s;
                       must be greater than zero
  --version            print the version and build information, then exit 0
  --help               print this help, then exit 0

A flag given on the command line wins over its environment variable; an
environment variable that is empty counts as unset.

Exit codes:
  0  healthy: the response status is 2xx
  2  usage error (stderr starts with "error:")
  3  cannot reach the endpoint ("error:") or no complete answer in time ("timeout:")
  4  unhealthy: any other status, redirects included ("unhealthy:")
`

// parseArgs validates the command line and the environment fallbacks. It
// never touches the network.
func parseArgs(args []string, env func(string) string) (options, error) {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	rawURL := fs.String("url", defaultURL, "")
	rawTimeout := fs.String("timeout", defaultTimeout.String(), "")
	showVersion := fs.Bool("version", false, "")

	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return options{help: true}, nil
		}
		return options{}, &usageError{msg: flagErrorMessage(err)}
	}
	if fs.NArg() > 0 {
		return options{}, usageErrorf("unexpected argument %q: the probe takes flags only", fs.Arg(0))
	}
	if *showVersion {
		return options{version: true}, nil
	}

	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	urlSource, urlValue := "default", defaultURL
	if set["url"] {
		urlSource, urlValue = "--url", *rawURL
	} else if v := env(envURL); v != "" {
		urlSource, urlValue = envURL, v
	}
	timeoutSource, timeoutValue := "default", defaultTimeout.String()
	if set["timeout"] {
		timeoutSource, timeoutValue = "--timeout", *rawTimeout
	} else if v := env(envTimeout); v != "" {
		timeoutSource, timeoutValue = envTimeout, v
	}

	u, err := parseURL(urlSource, urlValue)
	if err != nil {
		return options{}, err
	}
	timeout, err := parseTimeout(timeoutSource, timeoutValue)
	if err != nil {
		return options{}, err
	}
	return options{url: u, timeout: timeout}, nil
}

// flagErrorMessage rewords the flag package's errors to show flags the way
// this probe documents them (--name).
func flagErrorMessage(err error) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		return fmt.Sprintf("unknown flag --%s", name)
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return fmt.Sprintf("flag --%s needs a value", name)
	}
	return strings.Replace(msg, " for -", " for --", 1)
}

func parseURL(source, value string) (*url.URL, error) {
	if value == "" {
		return nil, usageErrorf("%s=%q: must be an http:// or https:// URL, got an empty string", source, value)
	}
	u, err := url.Parse(value)
	if err != nil && !strings.Contains(value, "://") {
		return nil, usageErrorf("%s=%q: the URL has no scheme; only http:// and https:// are supported", source, value)
	}
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, usageErrorf("%s=%q: not a valid URL: %v", source, value, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		if u.Scheme == "" {
			return nil, usageErrorf("%s=%q: the URL has no scheme; only http:// and https:// are supported", source, value)
		}
		return nil, usageErrorf("%s=%q: scheme %q is not supported; only http:// and https:// are", source, value, u.Scheme)
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return nil, usageErrorf("%s=%q: the URL has no host", source, value)
	}
	if !isVisibleASCII(u.Hostname()) {
		return nil, usageErrorf("%s=%q: the host must be written in ASCII; give an internationalised name in its xn-- form", source, value)
	}
	return u, nil
}

func parseTimeout(source, value string) (time.Duration, error) {
	d, err := time.ParseDuration(value)
	if err != nil {
		return 0, usageErrorf("%s=%q: not a Go duration such as 500ms or 2s", source, value)
	}
	if d <= 0 {
		return 0, usageErrorf("%s=%q: must be greater than zero", source, value)
	}
	return d, nil
}

// check performs the probe and reports the outcome.
func check(opts options, stdout, stderr io.Writer) int {
	target := opts.url.Redacted()
	ctx, cancel := context.WithTimeout(context.Background(), opts.timeout)
	defer cancel()

	timedOut := func(err error) bool {
		var ne net.Error
		return ctx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded) ||
			errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
	}

	conn, err := connect(ctx, opts.url, opts.roots)
	if err != nil {
		if timedOut(err) {
			fmt.Fprintf(stderr, "timeout: no response from %s within %s\n", target, opts.timeout)
			return exitUnreachable
		}
		fmt.Fprintf(stderr, "error: cannot reach %s: %v\n", target, err)
		return exitUnreachable
	}
	defer conn.Close()

	resp, err := exchange(conn, buildRequest(opts.url))
	if err != nil {
		if timedOut(err) {
			fmt.Fprintf(stderr, "timeout: no response from %s within %s\n", target, opts.timeout)
			return exitUnreachable
		}
		fmt.Fprintf(stderr, "error: no valid HTTP response from %s: %v\n", target, err)
		return exitUnreachable
	}

	if resp.code < 200 || resp.code > 299 {
		detail := ""
		if resp.code >= 300 && resp.code <= 399 && resp.location != "" {
			detail = fmt.Sprintf(" (redirect to %q, not followed)", resp.location)
		} else if body, _ := readBody(resp.body, snippetBytes+1); len(body) > 0 {
			// Whatever arrived before an error or the deadline is quoted;
			// the status alone decides.
			detail = ": " + snippet(body)
		}
		fmt.Fprintf(stderr, "unhealthy: %s answered %s%s\n", target, resp.status, detail)
		return exitUnhealthy
	}
	if _, err := readBody(resp.body, maxBodyBytes); err != nil {
		if timedOut(err) {
			fmt.Fprintf(stderr, "timeout: %s answered %s but the body did not arrive within %s\n", target, resp.status, opts.timeout)
			return exitUnreachable
		}
		fmt.Fprintf(stderr, "error: %s answered %s but the body could not be read: %v\n", target, resp.status, err)
		return exitUnreachable
	}
	fmt.Fprintf(stdout, "healthy: %s answered %s\n", target, resp.status)
	return exitHealthy
}

// defaultPort is the port a URL without one connects to.
func defaultPort(scheme string) string {
	if scheme == "https" {
		return "443"
	}
	return "80"
}

// hostWithoutZone drops the zone of an IPv6 literal (fe80::1%eth0): it
// belongs to the local socket, not to the Host header or the certificate.
func hostWithoutZone(host string) string {
	if i := strings.IndexByte(host, '%'); i >= 0 && strings.Contains(host, ":") {
		return host[:i]
	}
	return host
}

// connect opens the connection, with TLS for https, and sets the context's
// deadline on it, so that every later read and write ends by that deadline.
// Proxy environment variables play no part: the probe always dials the URL's
// host itself.
func connect(ctx context.Context, u *url.URL, roots *x509.CertPool) (net.Conn, error) {
	port := u.Port()
	if port == "" {
		port = defaultPort(u.Scheme)
	}
	dialer := net.Dialer{KeepAlive: -1}
	conn, err := dialer.DialContext(ctx, "tcp", net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return nil, err
	}
	if deadline, ok := ctx.Deadline(); ok {
		if err := conn.SetDeadline(deadline); err != nil {
			conn.Close()
			return nil, err
		}
	}
	if u.Scheme != "https" {
		return conn, nil
	}
	tlsConn := tls.Client(conn, &tls.Config{
		ServerName: hostWithoutZone(u.Hostname()),
		RootCAs:    roots,
		MinVersion: tls.VersionTLS12,
	})
	if err := tlsConn.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	return tlsConn, nil
}

// buildRequest writes the probe's request: a GET for the URL's path and
// query, without a body, asking the server to close the connection after
// answering.
func buildRequest(u *url.URL) []byte {
	var b strings.Builder
	b.WriteString("GET ")
	b.WriteString(requestTarget(u))
	b.WriteString(" HTTP/1.1\r\nHost: ")
	b.WriteString(hostHeader(u))
	b.WriteString("\r\nUser-Agent: otel-fargate-healthcheck/")
	b.WriteString(visibleASCII(version, '_'))
	if u.User != nil {
		password, _ := u.User.Password()
		b.WriteString("\r\nAuthorization: Basic ")
		b.WriteString(base64.StdEncoding.EncodeToString([]byte(u.User.Username() + ":" + password)))
	}
	b.WriteString("\r\nAccept: */*\r\nConnection: close\r\n\r\n")
	return []byte(b.String())
}

// requestTarget is the origin form of the URL (path and query, never the
// fragment). The URL parser leaves some bytes in a query as they were
// written; every byte that may not appear in a request line is
// percent-encoded.
func requestTarget(u *url.URL) string {
	raw := u.RequestURI()
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c <= ' ' || c >= 0x7f {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// hostHeader is the Host header for the URL: the host, in brackets for an
// IPv6 literal and without its zone, plus the port when it is not the
// scheme's default.
func hostHeader(u *url.URL) string {
	host := hostWithoutZone(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port := u.Port(); port != "" && port != defaultPort(u.Scheme) {
		host += ":" + port
	}
	return host
}

// isVisibleASCII reports whether s holds printable ASCII only, space
// excluded.
func isVisibleASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// visibleASCII replaces every byte outside printable ASCII (space included)
// with the given one.
func visibleASCII(s string, with byte) string {
	b := []byte(s)
	for i, c := range b {
		if c <= ' ' || c >= 0x7f {
			b[i] = with
		}
	}
	return string(b)
}

// response is what the probe uses of an HTTP response.
type response struct {
	code     int
	status   string // code and reason phrase, e.g. "503 Service Unavailable"
	location string // Location header, if any
	body     io.Reader
}

var (
	errHeadersTooLarge = fmt.Errorf("response headers exceed %d KiB", maxHeaderBytes>>10)
	errClosedEarly     = errors.New("connection closed before a response arrived")
	errClosedInHeaders = errors.New("connection closed in the middle of the response headers")
)

// exchange sends the request and reads the response head. Interim 1xx
// responses (100 Continue, 103 Early Hints, ...) are skipped; 101 is final,
// as no upgrade was asked for. The status lines and headers of all of them
// together may take at most maxHeaderBytes.
func exchange(conn net.Conn, request []byte) (*response, error) {
	_, writeErr := conn.Write(request)
	br := bufio.NewReader(conn)
	budget := maxHeaderBytes
	for {
		resp, err := readHead(br, &budget)
		if err != nil {
			// A server may answer and close before it has read the
			// request, failing the write; its answer is still the verdict.
			// Without an answer, the write's error says more, unless the
			// time ran out.
			if writeErr != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
				return nil, writeErr
			}
			return nil, err
		}
		if resp.code >= 100 && resp.code <= 199 && resp.code != 101 {
			continue
		}
		return resp, nil
	}
}

// readHead reads one status line and its header fields, and frames the body.
func readHead(br *bufio.Reader, budget *int) (*response, error) {
	// A status line starts with "HTTP/1."; anything else is refused as soon
	// as its first bytes arrive, without waiting for a line end.
	const prefix = "HTTP/1."
	start, err := br.Peek(len(prefix))
	if string(start) != prefix[:len(start)] {
		got, _ := br.Peek(min(br.Buffered(), 64))
		return nil, fmt.Errorf("malformed HTTP response: it starts with %q", got)
	}
	if err != nil {
		if errors.Is(err, io.EOF) {
			if len(start) == 0 && *budget == maxHeaderBytes {
				return nil, errClosedEarly
			}
			return nil, errClosedInHeaders
		}
		return nil, err
	}
	line, err := readLine(br, budget)
	if err != nil {
		return nil, headerError(err)
	}
	code, status, err := parseStatusLine(line)
	if err != nil {
		return nil, err
	}

	var fields [][2]string
	for {
		line, err := readLine(br, budget)
		if err != nil {
			return nil, headerError(err)
		}
		if line == "" {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			// Obsolete line folding continues the previous field.
			if len(fields) == 0 {
				return nil, fmt.Errorf("malformed HTTP response: header line %s", quoteStart(line))
			}
			fields[len(fields)-1][1] += " " + trimOWS(line)
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || !isToken(name) {
			return nil, fmt.Errorf("malformed HTTP response: header line %s", quoteStart(line))
		}
		fields = append(fields, [2]string{name, trimOWS(value)})
	}

	resp := &response{code: code, status: status}
	var lengths, codings []string
	for _, f := range fields {
		switch strings.ToLower(f[0]) {
		case "location":
			resp.location = f[1]
		case "content-length":
			lengths = append(lengths, strings.Split(f[1], ",")...)
		case "transfer-encoding":
			for _, c := range strings.Split(f[1], ",") {
				if c = trimOWS(c); c != "" {
					codings = append(codings, c)
				}
			}
		}
	}
	resp.body, err = frameBody(br, code, lengths, codings)
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// headerError turns a read error inside the response head into one that says
// where the answer stopped.
func headerError(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errClosedInHeaders
	}
	return err
}

// frameBody returns a reader of the body alone, following RFC 9112 section
// 6.3: no body for 1xx, 204 and 304; chunked when it is the last transfer
// coding; otherwise up to the end of the connection when there is a
// transfer coding; otherwise Content-Length bytes if given, else up to the
// end of the connection.
func frameBody(br *bufio.Reader, code int, lengths, codings []string) (io.Reader, error) {
	switch {
	case code < 200 || code == 204 || code == 304:
		return strings.NewReader(""), nil
	case len(codings) > 0:
		if strings.EqualFold(codings[len(codings)-1], "chunked") {
			return &chunkedReader{br: br}, nil
		}
		return br, nil
	case len(lengths) > 0:
		n := int64(-1)
		for _, l := range lengths {
			l = trimOWS(l)
			v, err := strconv.ParseInt(l, 10, 64)
			if err != nil || v < 0 || l[0] == '+' {
				return nil, fmt.Errorf("malformed HTTP response: Content-Length %s", quoteStart(l))
			}
			if n >= 0 && v != n {
				return nil, fmt.Errorf("malformed HTTP response: Content-Length both %d and %d", n, v)
			}
			n = v
		}
		return &lengthReader{r: br, left: n}, nil
	default:
		return br, nil
	}
}

// readLine reads one line of the response head, ended by CRLF or a bare LF,
// and charges it to budget.
func readLine(br *bufio.Reader, budget *int) (string, error) {
	var line []byte
	for {
		frag, err := br.ReadSlice('\n')
		if len(frag) > *budget {
			return "", errHeadersTooLarge
		}
		*budget -= len(frag)
		line = append(line, frag...)
		if err == nil {
			break
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if errors.Is(err, io.EOF) && len(line) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return "", err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return string(line), nil
}

// parseStatusLine checks "HTTP/1.x NNN reason" strictly: version 1.0 to
// 1.9, a three-digit status from 100 to 599, and a reason phrase, possibly
// empty, without control characters other than tab. It returns the code and
// the status as printed: the code and the reason phrase.
func parseStatusLine(line string) (int, string, error) {
	malformed := fmt.Errorf("malformed HTTP response: status line %s", quoteStart(line))
	if len(line) < 12 || line[:7] != "HTTP/1." || !isDigit(line[7]) || line[8] != ' ' ||
		line[9] < '1' || line[9] > '5' || !isDigit(line[10]) || !isDigit(line[11]) ||
		(len(line) > 12 && line[12] != ' ') {
		return 0, "", malformed
	}
	code := int(line[9]-'0')*100 + int(line[10]-'0')*10 + int(line[11]-'0')
	status := line[9:12]
	if len(line) > 13 {
		reason := line[13:]
		for i := 0; i < len(reason); i++ {
			if c := reason[i]; (c < ' ' && c != '\t') || c == 0x7f {
				return 0, "", malformed
			}
		}
		status += " " + strings.ToValidUTF8(strings.ReplaceAll(reason, "\t", " "), "?")
	}
	return code, status, nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isToken reports whether s is an HTTP token (RFC 9110 section 5.6.2), as a
// field name must be.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || isDigit(c) || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// trimOWS drops optional whitespace (spaces and tabs) at both ends.
func trimOWS(s string) string { return strings.Trim(s, " \t") }

// quoteStart quotes at most the first 64 bytes of s for an error message.
func quoteStart(s string) string {
	if len(s) > 64 {
		return strconv.Quote(s[:64]) + "..."
	}
	return strconv.Quote(s)
}

// readBody reads at most limit bytes of a body. It returns what it read
// even when it stops with an error.
func readBody(r io.Reader, limit int64) ([]byte, error) {
	return io.ReadAll(io.LimitReader(r, limit))
}

// lengthReader reads a body of known length; a connection that ends before
// the length is reached is an error.
type lengthReader struct {
	r    io.Reader
	left int64
}

func (l *lengthReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if errors.Is(err, io.EOF) && l.left > 0 {
		err = fmt.Errorf("connection closed %d bytes before the end of the body given by Content-Length", l.left)
	}
	return n, err
}

// maxChunkLine bounds one line of chunked framing (size and extensions).
const maxChunkLine = 4 << 10

// chunkedReader decodes the chunked transfer coding (RFC 9112 section 7.1).
// It stops at the last chunk and leaves trailer fields unread.
type chunkedReader struct {
	br      *bufio.Reader
	left    int64 // bytes left in the current chunk
	started bool  // a chunk's data has been read; its CRLF comes next
	done    bool
}

func (c *chunkedReader) Read(p []byte) (int, error) {
	if c.done {
		return 0, io.EOF
	}
	if c.left == 0 {
		if c.started {
			budget := 2
			line, err := readLine(c.br, &budget)
			if err != nil || line != "" {
				return 0, chunkError(err, "no line end after a chunk's data")
			}
		}
		budget := maxChunkLine
		line, err := readLine(c.br, &budget)
		if err != nil {
			return 0, chunkError(err, "chunk size line longer than 4 KiB")
		}
		size, err := parseChunkSize(line)
		if err != nil {
			return 0, err
		}
		c.started = true
		if size == 0 {
			c.done = true
			return 0, io.EOF
		}
		c.left = size
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.br.Read(p)
	c.left -= int64(n)
	if errors.Is(err, io.EOF) {
		err = errors.New("connection closed in the middle of a chunk")
	}
	return n, err
}

// chunkError describes a failed read of chunked framing.
func chunkError(err error, framing string) error {
	switch {
	case err == nil || errors.Is(err, errHeadersTooLarge):
		return errors.New("malformed chunked body: " + framing)
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("connection closed in the middle of the chunked body")
	default:
		return err
	}
}

// parseChunkSize reads the hexadecimal size at the start of a chunk line;
// chunk extensions after it are ignored.
func parseChunkSize(line string) (int64, error) {
	var size int64
	digits := 0
	for ; digits < len(line); digits++ {
		v, ok := hexValue(line[digits])
		if !ok {
			break
		}
		if size >= 1<<59 {
			return 0, fmt.Errorf("malformed chunked body: chunk size %s too large", quoteStart(line))
		}
		size = size<<4 | int64(v)
	}
	if rest := trimOWS(line[digits:]); digits == 0 || (rest != "" && rest[0] != ';') {
		return 0, fmt.Errorf("malformed chunked body: chunk size line %s", quoteStart(line))
	}
	return size, nil
}

func hexValue(c byte) (byte, bool) {
	switch {
	case isDigit(c):
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// snippet quotes the start of a body on one line.
func snippet(body []byte) string {
	if len(body) <= snippetBytes {
		return fmt.Sprintf("%q", body)
	}
	return fmt.Sprintf("%q...", body[:snippetBytes])
}

// versionString describes the binary: the version set at link time plus what
// the Go toolchain recorded in the build information.
func versionString() string {
	var b strings.Builder
	fmt.Fprintf(&b, "healthcheck %s", version)
	parts := []string{runtime.Version(), runtime.GOOS + "/" + runtime.GOARCH}
	if info, ok := debug.ReadBuildInfo(); ok {
		if info.Main.Path != "" {
			parts = append(parts, "module "+info.Main.Path+" "+info.Main.Version)
		}
		settings := map[string]string{}
		for _, s := range info.Settings {
			settings[s.Key] = s.Value
		}
		if rev := settings["vcs.revision"]; rev != "" {
			if settings["vcs.modified"] == "true" {
				rev += "-dirty"
			}
			parts = append(parts, "revision "+rev)
		}
		if cgo, ok := settings["CGO_ENABLED"]; ok {
			parts = append(parts, "CGO_ENABLED="+cgo)
		}
	}
	fmt.Fprintf(&b, " (%s)", strings.Join(parts, ", "))
	return b.String()
}
