package main

import (
	"context"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"
)

// Defaults and the environment variables that stand in for missing flags.
const (
	defaultURL     = "http://127.0.0.1:13133/"
	defaultTimeout = 2 * time.Second

	envURL     = "HEALTHCHECK_URL"
	envTimeout = "HEALTHCHECK_TIMEOUT"
)

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

// parseURL accepts http and https URLs with an ASCII host. The returned URL
// has its query made safe for a request line: url.Parse leaves a query as it
// was written, so spaces and bytes outside ASCII are percent-encoded here.
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
	if !isHostName(u.Hostname()) {
		if !isVisibleASCII(u.Hostname()) {
			return nil, usageErrorf("%s=%q: the host must be written in ASCII; give an internationalised name in its xn-- form", source, value)
		}
		return nil, usageErrorf("%s=%q: the host %q is neither a DNS name nor an IP address", source, value, u.Hostname())
	}
	u.RawQuery = escapeInvalid(u.RawQuery)
	// Whatever net/http would refuse to send is a usage error too, found
	// before any network traffic.
	req, err := newRequest(context.Background(), u)
	if err == nil {
		err = req.Write(io.Discard)
	}
	if err != nil {
		return nil, usageErrorf("%s=%q: not a valid URL: %v", source, value, err)
	}
	return u, nil
}

// isHostName reports whether host (without brackets and port) holds only
// bytes that may appear in a DNS name, an IPv4 or IPv6 literal, or an IPv6
// zone: letters, digits and "-._~:%". Whether it resolves is the network's
// business.
func isHostName(host string) bool {
	for i := 0; i < len(host); i++ {
		c := host[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~:%", c) >= 0) {
			return false
		}
	}
	return true
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

// escapeInvalid percent-encodes every byte that may not appear in a request
// line: controls, space and bytes outside ASCII.
func escapeInvalid(s string) string {
	if isVisibleASCII(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
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
