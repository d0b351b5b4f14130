package main

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// noEnv is an empty environment.
func noEnv(string) string { return "" }

// envOf is an environment holding only vars.
func envOf(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

func TestTheDrainBudgetSetsTheStopTimeout(t *testing.T) {
	cases := []struct {
		name     string
		args     []string
		env      map[string]string
		stop     time.Duration
		from     string
		derived  bool
		budgeted time.Duration
	}{
		{"no budget told: the fixed default", nil, nil, 20 * time.Second, "", false, 0},
		{"empty variable: no budget", nil, map[string]string{envDrainBudget: ""}, 20 * time.Second, "", false, 0},
		{"budget from the environment", nil, map[string]string{envDrainBudget: "70s"}, 75 * time.Second, envDrainBudget, true, 70 * time.Second},
		{"budget from the flag", []string{"--collector-drain-budget=70s"}, nil, 75 * time.Second, "--collector-drain-budget", true, 70 * time.Second},
		{"the flag wins over the environment", []string{"--collector-drain-budget=1m10s"}, map[string]string{envDrainBudget: "10m"}, 75 * time.Second, "--collector-drain-budget", true, 70 * time.Second},
		{"fractional budget", nil, map[string]string{envDrainBudget: "12.5s"}, 17500 * time.Millisecond, envDrainBudget, true, 12500 * time.Millisecond},
		{"zero budget (synchronous exporters only)", nil, map[string]string{envDrainBudget: "0s"}, 5 * time.Second, envDrainBudget, true, 0},
		{"a longer stop timeout is kept", []string{"--collector-stop-timeout=90s"}, map[string]string{envDrainBudget: "70s"}, 90 * time.Second, envDrainBudget, false, 70 * time.Second},
		{"a stop timeout just over the budget is kept", []string{"--collector-stop-timeout=70001ms"}, map[string]string{envDrainBudget: "70s"}, 70001 * time.Millisecond, envDrainBudget, false, 70 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN a budget told by flag or environment (or none)
			args := append(append([]string{}, tc.args...), "--", "app")

			// WHEN the command line is parsed
			cfg, err := parseFlags(args, envOf(tc.env))

			// THEN the stop timeout is the budget plus the margin, unless given
			if err != nil {
				t.Fatalf("parseFlags(%q) with %v: %v", args, tc.env, err)
			}
			if cfg.stopTimeout != tc.stop || cfg.drainBudgetFrom != tc.from || cfg.stopTimeoutDerived != tc.derived || cfg.drainBudget != tc.budgeted {
				t.Errorf("stop timeout %s, budget %s from %q, derived %t; want %s, %s from %q, %t",
					cfg.stopTimeout, cfg.drainBudget, cfg.drainBudgetFrom, cfg.stopTimeoutDerived,
					tc.stop, tc.budgeted, tc.from, tc.derived)
			}
			if cfg.drainBudgetFrom != "" && cfg.stopTimeout <= cfg.drainBudget {
				t.Errorf("stop timeout %s does not cover the drain budget %s", cfg.stopTimeout, cfg.drainBudget)
			}
		})
	}
}

func TestAStopTimeoutNotLongerThanTheDrainBudgetIsRefused(t *testing.T) {
	cases := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{
			[]string{"--collector-stop-timeout=20s"}, map[string]string{envDrainBudget: "70s"},
			`--collector-stop-timeout: 20s must be longer than the collector's drain budget of 1m10s (OTEL_FARGATE_DRAIN_BUDGET), or the collector is killed while its exporters still retry; leave --collector-stop-timeout out to get 1m15s (the budget plus 5s)`,
		},
		{
			[]string{"--collector-drain-budget=70s", "--collector-stop-timeout=70s"}, nil,
			`--collector-stop-timeout: 1m10s must be longer than the collector's drain budget of 1m10s (--collector-drain-budget)`,
		},
		{
			[]string{"--collector-stop-timeout=0s"}, map[string]string{envDrainBudget: "0s"},
			`--collector-stop-timeout: 0s must be longer than the collector's drain budget of 0s (OTEL_FARGATE_DRAIN_BUDGET)`,
		},
		{nil, map[string]string{envDrainBudget: "soon"}, `OTEL_FARGATE_DRAIN_BUDGET: must be a Go duration such as 500ms, 30s or 2m, got "soon"`},
		{nil, map[string]string{envDrainBudget: "70"}, `OTEL_FARGATE_DRAIN_BUDGET: must be a Go duration such as 500ms, 30s or 2m, got "70"`},
		{nil, map[string]string{envDrainBudget: "-1s"}, `OTEL_FARGATE_DRAIN_BUDGET: must be at least 0s, got "-1s"`},
		{[]string{"--collector-drain-budget=2h"}, nil, `invalid value "2h" for flag --collector-drain-budget: must be at most 1h0m0s`},
	}
	for _, tc := range cases {
		// GIVEN a stop timeout that does not cover the budget, or a bad budget
		args := append(append([]string{}, tc.args...), "--", "app")

		// WHEN the command line is parsed
		_, err := parseFlags(args, envOf(tc.env))

		// THEN it is a usage error naming the flag (or variable) and both values
		var ue *usageError
		if !errors.As(err, &ue) {
			t.Errorf("parseFlags(%q) with %v: error %v, want a usage error", args, tc.env, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseFlags(%q) with %v:\n error %q\n want it to contain %q", args, tc.env, err, tc.want)
		}
	}
}

func TestTheSupervisorRefusesAStopTimeoutShorterThanTheDrainBudget(t *testing.T) {
	// GIVEN a drain budget of 70s in the environment and a stop timeout of 5s
	h := newHarness(t)
	h.env[envDrainBudget] = "70s"

	// WHEN the supervisor starts
	code := h.runToEnd()

	// THEN it exits 2 with an error naming the flag and both values, and
	// starts nothing
	assertCode(t, h, code, exitUsage)
	h.assertStderr("supervisor: error: --collector-stop-timeout: 5s must be longer than the collector's drain budget of 1m10s (OTEL_FARGATE_DRAIN_BUDGET)")
	h.assertNoEvent("collector start")
	h.assertNoEvent("app start")
}

func TestTheCollectorIsKilledOnlyAfterTheDerivedStopTimeout(t *testing.T) {
	// GIVEN a drain budget of 200ms, no stop timeout flag, and a collector
	// that ignores SIGTERM
	h := newHarness(t)
	h.flags = withoutFlag(h.flags, "--collector-stop-timeout")
	h.env[envDrainBudget] = "200ms"
	h.env["FAKE_COLLECTOR_IGNORE_TERM"] = "1"
	h.env["FAKE_APP_RUN"] = "10ms"

	// WHEN the app exits
	started := time.Now()
	code := h.runToEnd()

	// THEN the collector gets SIGKILL only after the budget plus the margin
	assertCode(t, h, code, 0)
	want := 200*time.Millisecond + drainMargin
	if elapsed := time.Since(started); elapsed < want {
		t.Errorf("supervisor exited after %s, before the derived stop timeout %s", elapsed, want)
	}
	h.assertStderr(
		"supervisor: collector stop timeout 5.2s: the drain budget of 200ms (OTEL_FARGATE_DRAIN_BUDGET) plus 5s\n",
		"SIGTERM, SIGKILL after 5.2s\n",
		"did not stop within 5.2s: sending SIGKILL\n",
	)
}

// withoutFlag drops a flag and its value from flags.
func withoutFlag(flags []string, name string) []string {
	var kept []string
	for i := 0; i < len(flags); i++ {
		if flags[i] == name {
			i++
			continue
		}
		kept = append(kept, flags[i])
	}
	return kept
}
