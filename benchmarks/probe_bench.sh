#!/usr/bin/env bash
# Compares the health probe with `curl -fsS` against a local HTTP endpoint.
#
# Usage: benchmarks/probe_bench.sh [N]
#   N  calls of each client per round; default: 200. Three rounds run and the
#      fastest round of each client is reported.
#
# Prints the time per call of each client, the ratio probe/curl and the size
# of the stripped static probe (for this machine and, cross-compiled, for
# arm64), each against its target (PASS or MISS). It is
# a benchmark, not a test: it exits 0 whatever the figures, and non-zero only
# when it cannot measure (build failure, endpoint not answering).
set -euo pipefail

n=${1:-200}
if ! [[ "$n" =~ ^[1-9][0-9]*$ ]]; then
	echo "error: N must be a positive integer, got '$n'" >&2
	exit 2
fi
rounds=3
target_ratio=0.6
target_mib=6

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d)
server_pid=""
cleanup() {
	if [[ -n "$server_pid" ]]; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Build the probe exactly as the image does: for this machine (timed below) and, cross-compiled,
# for arm64 (the ARM64 gateway's image), whose size is reported beside it.
bin=$work/healthcheck
build_probe() {
	(cd "$root/healthcheck" &&
		CGO_ENABLED=0 GOTOOLCHAIN=local GOOS=linux GOARCH="$1" go build -trimpath \
			-ldflags "-s -w -X main.version=bench" -o "$2" .)
}
build_probe "$(go env GOARCH)" "$bin"
build_probe arm64 "$work/healthcheck-arm64"

# A small endpoint on a random loopback port that answers 200 on every GET,
# like the collector's health_check extension.
python3 - "$work/port" <<'PY' &
import http.server
import os
import sys


class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"status":"Server available"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Health)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
server.serve_forever()
PY
server_pid=$!

for _ in $(seq 100); do
	[[ -s "$work/port" ]] && break
	sleep 0.05
done
if [[ ! -s "$work/port" ]]; then
	echo "error: the local endpoint did not start" >&2
	exit 1
fi
url="http://127.0.0.1:$(cat "$work/port")/"

# Both clients must succeed before they are timed.
"$bin" --url "$url" --timeout 2s >/dev/null
curl -fsS --max-time 2 "$url" >/dev/null

now_us() { echo "${EPOCHREALTIME/./}"; }

time_probe() {
	local start end
	start=$(now_us)
	for ((i = 0; i < n; i++)); do
		"$bin" --url "$url" --timeout 2s >/dev/null
	done
	end=$(now_us)
	echo $((end - start))
}

time_curl() {
	local start end
	start=$(now_us)
	for ((i = 0; i < n; i++)); do
		curl -fsS --max-time 2 "$url" >/dev/null
	done
	end=$(now_us)
	echo $((end - start))
}

best_probe=""
best_curl=""
for ((r = 0; r < rounds; r++)); do
	p=$(time_probe)
	c=$(time_curl)
	if [[ -z "$best_probe" || "$p" -lt "$best_probe" ]]; then best_probe=$p; fi
	if [[ -z "$best_curl" || "$c" -lt "$best_curl" ]]; then best_curl=$c; fi
done

size=$(stat -c %s "$bin")
size_arm64=$(stat -c %s "$work/healthcheck-arm64")

awk -v n="$n" -v rounds="$rounds" -v p="$best_probe" -v c="$best_curl" -v size="$size" -v size_arm64="$size_arm64" \
	-v target_ratio="$target_ratio" -v target_mib="$target_mib" -v url="$url" \
	-v arch="$(go env GOARCH)" -v curlv="$(curl --version | head -n1 | cut -d' ' -f1-2)" '
BEGIN {
	probe_ms = p / n / 1000
	curl_ms = c / n / 1000
	ratio = probe_ms / curl_ms
	mib = size / 1048576
	printf "endpoint: %s; %d calls per client per round, fastest of %d rounds\n", url, n, rounds
	printf "%-28s %8.3f ms/call\n", "healthcheck", probe_ms
	printf "%-28s %8.3f ms/call\n", curlv " -fsS", curl_ms
	printf "%-28s %8.3f      target <= %.2f  %s\n", "ratio probe/curl", ratio, target_ratio, (ratio <= target_ratio ? "PASS" : "MISS")
	printf "%-28s %8.3f MiB  target <= %.2f  %s\n", "binary size (" arch ", stripped)", mib, target_mib, (mib <= target_mib ? "PASS" : "MISS")
	mib_arm64 = size_arm64 / 1048576
	printf "probe vs curl -fsS: %.1f ms vs %.1f ms per call (ratio %.2f)\n", probe_ms, curl_ms, ratio
	printf "stripped probe binary: %.1f MiB (%s), %.1f MiB (arm64, cross-compiled)  target <= %.2f  %s\n", mib, arch, mib_arm64, target_mib, (mib <= target_mib && mib_arm64 <= target_mib ? "PASS" : "MISS")
}'
