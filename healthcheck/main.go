// Command healthcheck is a static HTTP health probe for containers built
// FROM scratch. It sends one GET request to the OpenTelemetry Collector's
// health_check extension and turns the answer into an exit code that an ECS
// container health check (exec form) understands.
//
// Exit codes: 0 healthy (2xx), 2 usage error, 3 endpoint unreachable or timed
// out, 4 unhealthy response (any status outside 2xx, redirects included).
//
// The code is split like this: main.go holds the entry point, the exit codes
// and --version; flags.go parses and validates the command line and the
// environment; probe.go performs the HTTP check with net/http.
package main

import (
	"fmt"
	"io"
	"log"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
)

// Exit codes; part of the probe's interface, see README.md.
const (
	exitHealthy     = 0
	exitUsage       = 2
	exitUnreachable = 3
	exitUnhealthy   = 4
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	// net/http logs some oddities of a server (such as bytes sent before the
	// request) through the standard logger; the probe's stderr is one line
	// with a known prefix, so those logs are dropped.
	log.SetOutput(io.Discard)
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
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
