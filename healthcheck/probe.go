package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"strings"
	"time"
)

const (
	// maxBodyBytes bounds how much of a healthy answer's body is read; the
	// rest is never read, the connection is closed.
	maxBodyBytes = 64 << 10
	// maxHeaderBytes bounds the response head: status lines and header
	// fields, interim 1xx responses included.
	maxHeaderBytes = 64 << 10
	// snippetBytes is how much of an unhealthy body is quoted on stderr.
	snippetBytes = 200
)

// newClient returns the probe's HTTP client: HTTP/1.1 only, one connection
// that is closed after the answer, no proxy whatever the environment says,
// no redirects followed, no transparent decompression, TLS 1.2 or newer.
//
// The request's context, whose deadline is the one given here, bounds the
// exchange. The deadline is also set on the dialer and on the connection
// itself, so that every read and write ends by it even where net/http no
// longer watches the context (a connection handed over by 101 Switching
// Protocols, a dial that net/http lets finish in the background).
func newClient(u *url.URL, roots *x509.CertPool, deadline time.Time) *http.Client {
	dialer := &net.Dialer{KeepAlive: -1, Deadline: deadline}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dialer.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		if err := conn.SetDeadline(deadline); err != nil {
			conn.Close()
			return nil, err
		}
		return conn, nil
	}
	transport := &http.Transport{
		// Proxy nil: HTTP_PROXY, HTTPS_PROXY, NO_PROXY and friends are
		// never read; the probe connects straight to the URL's host.
		Proxy:       nil,
		DialContext: dial,
		TLSClientConfig: &tls.Config{
			// Set explicitly so that an IPv6 zone (fe80::1%eth0), which
			// belongs to the local socket, is not matched against the
			// certificate. For IP literals no SNI is sent.
			ServerName: hostWithoutZone(u.Hostname()),
			RootCAs:    roots,
			MinVersion: tls.VersionTLS12,
		},
		DisableKeepAlives:      true,
		DisableCompression:     true,
		MaxResponseHeaderBytes: maxHeaderBytes,
		// HTTP/1.1 only: no HTTP/2 upgrade is offered in TLS (ALPN).
		ForceAttemptHTTP2: false,
		TLSNextProto:      map[string]func(string, *tls.Conn) http.RoundTripper{},
	}
	return &http.Client{
		Transport: transport,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// newRequest builds the probe's request: a GET for the URL's path and query,
// without a body, asking the server to close the connection after
// answering. User info in the URL becomes basic authentication.
func newRequest(ctx context.Context, u *url.URL) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Close = true
	req.Header.Set("User-Agent", "otel-fargate-healthcheck/"+visibleASCII(version, '_'))
	req.Header.Set("Accept", "*/*")
	if u.User != nil {
		password, _ := u.User.Password()
		req.SetBasicAuth(u.User.Username(), password)
		req.URL.User = nil
	}
	return req, nil
}

// check performs the probe and reports the outcome.
func check(opts options, stdout, stderr io.Writer) int {
	target := opts.url.Redacted()
	deadline := time.Now().Add(opts.timeout)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()

	timedOut := func(err error) bool {
		var ne net.Error
		return ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) ||
			errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
	}

	req, err := newRequest(ctx, opts.url)
	if err != nil {
		// parseURL has built the same request already.
		fmt.Fprintf(stderr, "error: cannot build a request for %s: %v\n", target, err)
		return exitUsage
	}
	// connected records whether a connection (with TLS for https) was
	// established, to tell "cannot reach" from "no valid answer".
	connected := false
	req = req.WithContext(httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GotConn: func(httptrace.GotConnInfo) { connected = true },
	}))

	resp, err := newClient(opts.url, opts.roots, deadline).Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		switch {
		case timedOut(err):
			fmt.Fprintf(stderr, "timeout: no response from %s within %s\n", target, opts.timeout)
		case !connected:
			fmt.Fprintf(stderr, "error: cannot reach %s: %v\n", target, err)
		default:
			fmt.Fprintf(stderr, "error: no valid HTTP response from %s: %v\n", target, describeReadError(err))
		}
		return exitUnreachable
	}
	defer resp.Body.Close()
	status := printable(resp.Status)

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		fmt.Fprintf(stderr, "unhealthy: %s answered %s%s\n", target, status, unhealthyDetail(resp))
		return exitUnhealthy
	}
	if _, err := io.Copy(io.Discard, io.LimitReader(resp.Body, maxBodyBytes)); err != nil {
		if timedOut(err) {
			fmt.Fprintf(stderr, "timeout: %s answered %s but the body did not arrive within %s\n", target, status, opts.timeout)
			return exitUnreachable
		}
		fmt.Fprintf(stderr, "error: %s answered %s but the body could not be read: %v\n", target, status, describeReadError(err))
		return exitUnreachable
	}
	fmt.Fprintf(stdout, "healthy: %s answered %s\n", target, status)
	return exitHealthy
}

// unhealthyDetail is what the message about an unhealthy answer adds to its
// status: the target of a redirect, or the start of the body. Whatever part
// of the body arrived before an error or the deadline is quoted; the status
// alone decides.
func unhealthyDetail(resp *http.Response) string {
	location := resp.Header.Get("Location")
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode <= 399 && location != "":
		return fmt.Sprintf(" (redirect to %q, not followed)", location)
	case resp.StatusCode < 200:
		// 101 Switching Protocols: what follows is not an HTTP body.
		return ""
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, snippetBytes+1))
	if len(body) == 0 {
		return ""
	}
	return ": " + snippet(body)
}

// describeReadError words the errors of a failed exchange that net/http
// reports in its own terms: a bare end of stream, and bytes the server sent
// before the request was written (net/http names its internal function then;
// only the wording depends on that text, never the exit code).
func describeReadError(err error) string {
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the connection was closed in the middle of the response"
	case errors.Is(err, io.EOF):
		return "the connection was closed before a response arrived"
	}
	if rest, ok := strings.CutPrefix(err.Error(), "readLoopPeekFailLocked: "); ok {
		if errors.Unwrap(err) == nil {
			return "the server sent data before the request; it does not speak HTTP"
		}
		return rest
	}
	return err.Error()
}

// hostWithoutZone drops the zone of an IPv6 literal (fe80::1%eth0).
func hostWithoutZone(host string) string {
	if i := strings.IndexByte(host, '%'); i >= 0 && strings.Contains(host, ":") {
		return host[:i]
	}
	return host
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

// printable makes a status from the server safe to print on one line:
// control characters become spaces, invalid UTF-8 becomes "?".
func printable(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "?"))
	return strings.TrimSpace(s)
}

// snippet quotes the start of a body on one line.
func snippet(body []byte) string {
	if len(body) <= snippetBytes {
		return fmt.Sprintf("%q", body)
	}
	return fmt.Sprintf("%q...", body[:snippetBytes])
}
