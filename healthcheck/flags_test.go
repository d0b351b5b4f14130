package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

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
		{
			name:        "query made safe for the request line",
			args:        []string{"--url", "http://h/?q=a b&c=\u00e9"},
			wantURL:     "http://h/?q=a%20b&c=%C3%A9",
			wantTimeout: 2 * time.Second,
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
		{"bad port", []string{"--url", "http://127.0.0.1:http/"}, nil, []string{"not a valid URL"}},
		{"control byte in the URL", []string{"--url", "http://127.0.0.1/\x7f"}, nil, []string{"not a valid URL"}},
		{"--url without a scheme", []string{"--url", "127.0.0.1:13133"}, nil, []string{`--url="127.0.0.1:13133"`, "no scheme"}},
		{"--url with a path only", []string{"--url", "/health"}, nil, []string{`--url="/health"`, "no scheme"}},
		{"--url with another scheme", []string{"--url", "ftp://127.0.0.1/"}, nil, []string{`--url="ftp://127.0.0.1/"`, `scheme "ftp"`}},
		{"--url with grpc scheme", []string{"--url", "grpc://127.0.0.1:4317"}, nil, []string{`scheme "grpc"`}},
		{"--url with an upper-case scheme spelled otherwise", []string{"--url", "httpx://127.0.0.1/"}, nil, []string{`scheme "httpx"`}},
		{"--url without a host", []string{"--url", "http:///health"}, nil, []string{`--url="http:///health"`, "no host"}},
		{"--url with a port only", []string{"--url", "http://:13133/"}, nil, []string{`--url="http://:13133/"`, "no host"}},
		{"--url opaque", []string{"--url", "http:127.0.0.1"}, nil, []string{"no host"}},
		{"host with a quote", []string{"--url", `http://a"b/`}, nil, []string{"neither a DNS name nor an IP address"}},
		{"host with encoded non-ASCII bytes", []string{"--url", "http://b%C3%BCcher.example/"}, nil, []string{"ASCII", "xn--"}},
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
			if !strings.HasSuffix(r.stderr, "\nRun 'healthcheck --help' for usage.\n") {
				t.Errorf("stderr = %q, want the hint to --help", r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout = %q, want empty", r.stdout)
			}
			if r.elapsed > time.Second {
				t.Errorf("took %s; usage errors must not touch the network", r.elapsed)
			}
		})
	}
}

// isToken reports whether s is an HTTP token (RFC 9110 section 5.6.2), as a
// field name must be.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
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

// requestHead is the request net/http writes for u, as the probe builds it.
func requestHead(t *testing.T, u string) string {
	t.Helper()
	opts, err := parseArgs([]string{"--url", u}, envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	req, err := newRequest(context.Background(), opts.url)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := req.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestRequestTargetAndHostHeader(t *testing.T) {
	tests := []struct{ url, target, host string }{
		{"http://h", "/", "h"},
		{"http://h/", "/", "h"},
		{"http://h:13133/", "/", "h:13133"},
		{"http://[::1]/", "/", "[::1]"},
		{"http://[::1]:13133/", "/", "[::1]:13133"},
		{"https://[fe80::1%25eth0]:443/", "/", "[fe80::1]:443"},
		{"http://[fe80::1%25eth0]:13133/", "/", "[fe80::1]:13133"},
		{"http://h/p?q#frag", "/p?q", "h"},
		{"http://h/?q=a b", "/?q=a%20b", "h"},
		{"http://h/?q=\u00e9", "/?q=%C3%A9", "h"},
		{"http://h/a%2Fb/%7e", "/a%2Fb/%7e", "h"},
		{"http://h/caf%C3%A9", "/caf%C3%A9", "h"},
		{"http://h/a b", "/a%20b", "h"},
		{"http://u:p@h:8080/", "/", "h:8080"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			// WHEN the request for a URL accepted by the parser is written
			req := requestHead(t, tt.url)
			// THEN it is well formed, with this target and Host header
			checkRequestShape(t, req)
			if !strings.HasPrefix(req, "GET "+tt.target+" HTTP/1.1\r\nHost: "+tt.host+"\r\n") {
				t.Errorf("request = %q, want target %q and Host %q", req, tt.target, tt.host)
			}
			if strings.Contains(req, "u:p") || strings.Contains(req, "frag") {
				t.Errorf("request = %q leaks user info or the fragment", req)
			}
		})
	}
}

// FuzzParseArgs feeds arbitrary arguments and environment values to the
// parser. It must never panic; it either rejects the input as a usage error
// or produces options the probe can act on, whose request net/http writes as
// a well-formed request head.
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
		{"--url=http://u:p@h/?q=a b#f", "", ""},
		{"", "https://[fe80::1%25eth0]:8443/x", "1ms"},
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
		req, err := newRequest(context.Background(), opts.url)
		if err != nil {
			t.Fatalf("URL %q accepted, but no request can be built: %v", opts.url, err)
		}
		var b bytes.Buffer
		if err := req.Write(&b); err != nil {
			t.Fatalf("URL %q accepted, but net/http cannot write its request: %v", opts.url, err)
		}
		checkRequestShape(t, b.String())
		if opts.url.User != nil && !strings.Contains(b.String(), "\r\nAuthorization: Basic ") {
			t.Fatalf("request for %q does not send the user info as basic authentication", opts.url.Redacted())
		}
	})
}
