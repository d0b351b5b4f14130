package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// Defaults of the command-line flags.
const (
	defaultCollector          = "/otelcol-contrib"
	defaultCollectorArg       = "--config=env:OTEL_FARGATE_CONFIG"
	defaultProbe              = "/healthcheck"
	defaultProbeURL           = "http://127.0.0.1:13133/"
	defaultProbeTimeout       = 2 * time.Second
	defaultProbeInterval      = 500 * time.Millisecond
	defaultReadyTimeout       = 30 * time.Second
	defaultStopTimeout        = 20 * time.Second
	defaultRestartInitial     = 1 * time.Second
	defaultRestartMax         = 30 * time.Second
	defaultRestartResetAfter  = 60 * time.Second
	defaultCollectorLogPrefix = "[otelcol] "
)

// The drain budget: the longest one batch of the collector's exporters can
// spend being sent (retries plus one attempt's timeout), as the rendered
// collector configuration bounds it. Told to the supervisor with
// --collector-drain-budget or in envDrainBudget, it sets the default stop
// timeout to the budget plus drainMargin, and a stop timeout that is not
// longer than the budget is refused.
const (
	envDrainBudget  = "OTEL_FARGATE_DRAIN_BUDGET"
	flagDrainBudget = "collector-drain-budget"
	flagStopTimeout = "collector-stop-timeout"
	drainMargin     = 5 * time.Second
	maxDrainBudget  = time.Hour
)

// config is the validated command line.
type config struct {
	collector          string
	collectorArgs      []string
	collectorLogPrefix string
	probe              string
	probeURL           string
	probeTimeout       time.Duration
	probeInterval      time.Duration
	readyTimeout       time.Duration
	stopTimeout        time.Duration
	drainBudget        time.Duration
	drainBudgetFrom    string // where the budget came from ("" when not told)
	stopTimeoutDerived bool   // stopTimeout is drainBudget + drainMargin
	restartInitial     time.Duration
	restartMax         time.Duration
	restartResetAfter  time.Duration
	drainMetricsURL    string
	drainMetrics       []string
	drainTimeout       time.Duration
	drainMinWait       time.Duration
	drainPoll          time.Duration
	collectorOnly      bool
	app                []string

	help    bool
	version bool
}

// usageError is a command-line problem; the supervisor exits with exitUsage.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// stringList is a repeatable string flag.
type stringList struct {
	values []string
	set    bool
}

func (s *stringList) String() string { return strings.Join(s.values, " ") }

func (s *stringList) Set(v string) error {
	s.values = append(s.values, v)
	s.set = true
	return nil
}

// durationValue is a duration flag that must lie within [min, max].
type durationValue struct {
	d   *time.Duration
	min time.Duration
	max time.Duration
}

func (v durationValue) String() string {
	if v.d == nil {
		return ""
	}
	return v.d.String()
}

func (v durationValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return errors.New("must be a Go duration such as 500ms, 30s or 2m")
	}
	if d < v.min {
		return fmt.Errorf("must be at least %s", v.min)
	}
	if v.max > 0 && d > v.max {
		return fmt.Errorf("must be at most %s", v.max)
	}
	*v.d = d
	return nil
}

func newFlagSet(cfg *config, collectorArgs, drainMetrics *stringList) *flag.FlagSet {
	fs := flag.NewFlagSet("supervisor", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dur := func(p *time.Duration, name string, def, min, max time.Duration, usage string) {
		*p = def
		fs.Var(durationValue{d: p, min: min, max: max}, name, usage)
	}
	fs.StringVar(&cfg.collector, "collector", defaultCollector,
		"path of the collector binary")
	fs.Var(collectorArgs, "collector-arg",
		"argument passed to the collector; repeat for several; any use replaces the default")
	fs.StringVar(&cfg.collectorLogPrefix, "collector-log-prefix", defaultCollectorLogPrefix,
		"prefix of every collector output line copied to the supervisor's stderr")
	fs.StringVar(&cfg.probe, "probe", defaultProbe,
		"path of the health probe run until the collector is healthy; empty starts the app without waiting")
	fs.StringVar(&cfg.probeURL, "probe-url", defaultProbeURL,
		"URL of the collector's health_check extension, passed to the probe as --url")
	dur(&cfg.probeTimeout, "probe-timeout", defaultProbeTimeout, time.Millisecond, time.Minute,
		"timeout of one probe run, passed to the probe as --timeout")
	dur(&cfg.probeInterval, "probe-interval", defaultProbeInterval, 10*time.Millisecond, time.Minute,
		"pause between two probe runs while waiting for the collector")
	dur(&cfg.readyTimeout, "ready-timeout", defaultReadyTimeout, time.Millisecond, time.Hour,
		"how long to wait for the collector to become healthy before giving up")
	dur(&cfg.stopTimeout, flagStopTimeout, defaultStopTimeout, 0, time.Hour,
		"how long the collector may take to stop after SIGTERM before it gets SIGKILL; "+
			"must be longer than the drain budget (default: the drain budget plus 5s; 20s when no budget is told)")
	dur(&cfg.drainBudget, flagDrainBudget, 0, 0, maxDrainBudget,
		"the collector's drain budget: the longest its exporters retry plus one attempt's timeout, "+
			"from the rendered configuration (default: $"+envDrainBudget+"; none when unset or empty)")
	dur(&cfg.restartInitial, "restart-initial-backoff", defaultRestartInitial, time.Millisecond, time.Hour,
		"delay before restarting a collector that exited while the app runs")
	dur(&cfg.restartMax, "restart-max-backoff", defaultRestartMax, time.Millisecond, time.Hour,
		"cap of the restart delay, which doubles after each restart")
	dur(&cfg.restartResetAfter, "restart-reset-after", defaultRestartResetAfter, time.Millisecond, 24*time.Hour,
		"a collector that stayed up this long is restarted after the initial delay again")
	fs.BoolVar(&cfg.collectorOnly, "collector-only", false,
		"run the collector alone, without an app: SIGTERM or SIGINT drains and stops it (no app command may be given)")
	fs.StringVar(&cfg.drainMetricsURL, "drain-metrics-url", defaultDrainMetricsURL,
		"the collector's own Prometheus metrics, read while draining before SIGTERM; empty: no drain")
	fs.Var(drainMetrics, flagDrainMetric,
		"a metric whose every series must be 0 for the collector to be drained; repeat for several; "+
			"any use replaces the default (default: "+strings.Join(defaultDrainMetrics, " and ")+")")
	dur(&cfg.drainTimeout, "drain-timeout", defaultDrainTimeout, 0, time.Hour,
		"the longest the collector is kept running after a stop was asked for, before it gets SIGTERM")
	dur(&cfg.drainMinWait, "drain-min-wait", 0, 0, time.Hour,
		"the shortest drain: keep receiving this long even when nothing is held (at most --drain-timeout)")
	dur(&cfg.drainPoll, "drain-poll-interval", defaultDrainPoll, 10*time.Millisecond, time.Minute,
		"pause between two reads of the collector's metrics while draining")
	fs.BoolVar(&cfg.help, "help", false, "print this help and exit")
	fs.BoolVar(&cfg.version, "version", false, "print the version and exit")
	return fs
}

// parseFlags parses the supervisor's arguments (without the program name);
// getenv reads its environment. A *usageError reports a bad command line.
func parseFlags(args []string, getenv func(string) string) (*config, error) {
	cfg := &config{}
	var collectorArgs, drainMetrics stringList
	fs := newFlagSet(cfg, &collectorArgs, &drainMetrics)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			cfg.help = true
			return cfg, nil
		}
		return nil, usagef("%s", flagErrorText(err))
	}
	if cfg.help || cfg.version {
		return cfg, nil
	}
	if collectorArgs.set {
		cfg.collectorArgs = collectorArgs.values
	} else {
		cfg.collectorArgs = []string{defaultCollectorArg}
	}
	if cfg.collector == "" {
		return nil, usagef("--collector: must be the path of the collector binary, got %q", cfg.collector)
	}
	if cfg.probe != "" && cfg.probeURL == "" {
		return nil, usagef("--probe-url: must be the URL of the collector's health_check extension, got %q", cfg.probeURL)
	}
	if cfg.restartMax < cfg.restartInitial {
		return nil, usagef("--restart-max-backoff: must be at least --restart-initial-backoff (%s), got %q",
			cfg.restartInitial, cfg.restartMax.String())
	}
	if err := applyDrainBudget(cfg, fs, getenv); err != nil {
		return nil, err
	}
	if err := applyDrain(cfg, drainMetrics); err != nil {
		return nil, err
	}
	cfg.app = fs.Args()
	if cfg.collectorOnly {
		if len(cfg.app) != 0 {
			return nil, usagef("--collector-only: runs no app, got the app command %q", strings.Join(cfg.app, " "))
		}
		return cfg, nil
	}
	if len(cfg.app) == 0 {
		return nil, usagef("no app command given: usage is supervisor [flags] -- app [args...]")
	}
	if cfg.app[0] == "" {
		return nil, usagef("app command: must be a program name or path, got %q", cfg.app[0])
	}
	return cfg, nil
}

// applyDrainBudget reads the drain budget from its flag or, when the flag is
// not given, from envDrainBudget; then derives the stop timeout from it, or
// checks that the one given covers it.
func applyDrainBudget(cfg *config, fs *flag.FlagSet, getenv func(string) string) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	switch {
	case given[flagDrainBudget]:
		cfg.drainBudgetFrom = "--" + flagDrainBudget
	case getenv(envDrainBudget) != "":
		raw := getenv(envDrainBudget)
		v := durationValue{d: &cfg.drainBudget, min: 0, max: maxDrainBudget}
		if err := v.Set(raw); err != nil {
			return usagef("%s: %v, got %q", envDrainBudget, err, raw)
		}
		cfg.drainBudgetFrom = envDrainBudget
	default:
		return nil
	}
	if !given[flagStopTimeout] {
		cfg.stopTimeout = cfg.drainBudget + drainMargin
		cfg.stopTimeoutDerived = true
		return nil
	}
	if cfg.stopTimeout <= cfg.drainBudget {
		return usagef("--%s: %s must be longer than the collector's drain budget of %s (%s), "+
			"or the collector is killed while its exporters still retry; leave --%s out to get %s (the budget plus %s)",
			flagStopTimeout, cfg.stopTimeout, cfg.drainBudget, cfg.drainBudgetFrom,
			flagStopTimeout, cfg.drainBudget+drainMargin, drainMargin)
	}
	return nil
}

// applyDrain checks the drain flags.
func applyDrain(cfg *config, drainMetrics stringList) error {
	cfg.drainMetrics = defaultDrainMetrics
	if drainMetrics.set {
		cfg.drainMetrics = drainMetrics.values
	}
	for _, name := range cfg.drainMetrics {
		if name == "" || strings.ContainsAny(name, "{} \t") {
			return usagef("--%s: must be a Prometheus metric name such as otelcol_exporter_queue_size, got %q", flagDrainMetric, name)
		}
	}
	if cfg.drainMinWait > cfg.drainTimeout {
		return usagef("--drain-min-wait: must be at most --drain-timeout (%s), got %q", cfg.drainTimeout, cfg.drainMinWait.String())
	}
	return nil
}

// printHelp writes the usage text.
func printHelp(w io.Writer) {
	cfg := &config{}
	var collectorArgs, drainMetrics stringList
	fs := newFlagSet(cfg, &collectorArgs, &drainMetrics)
	fmt.Fprint(w, `usage: supervisor [flags] -- app [args...]

Runs an OpenTelemetry Collector next to an app in one container: starts the
collector, waits until its health probe passes, runs the app as the main
process, forwards SIGTERM/SIGINT/SIGHUP/SIGQUIT/SIGUSR1/SIGUSR2 to the app,
restarts the collector if it dies, and once the app has exited stops the
collector (SIGTERM, then SIGKILL after --collector-stop-timeout) and exits
with the app's exit status.

Exit status: the app's (128+N if a signal N killed it); 2 bad command line;
124 collector not healthy within --ready-timeout; 125 collector or probe
could not be started, or the collector exited before it was healthy;
126 app not executable; 127 app not found.

flags:
`)
	defaults := map[string]string{"collector-arg": defaultCollectorArg, flagDrainMetric: ""}
	fs.VisitAll(func(f *flag.Flag) {
		def := f.DefValue
		if d, ok := defaults[f.Name]; ok {
			def = d
		}
		fmt.Fprintf(w, "  --%s\n        %s", f.Name, f.Usage)
		if def != "" && def != "false" && !strings.Contains(f.Usage, "(default") {
			fmt.Fprintf(w, " (default %q)", def)
		}
		fmt.Fprintln(w)
	})
}

// flagErrorText spells flag names in errors from the flag package with two
// dashes, the way the usage text shows them.
func flagErrorText(err error) string {
	msg := err.Error()
	for _, marker := range []string{"for flag -", "not defined: -", "needs an argument: -"} {
		msg = strings.Replace(msg, marker, marker+"-", 1)
	}
	return msg
}
