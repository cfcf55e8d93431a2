#!/usr/bin/env bash
# Side-by-side benchmarks against a real Redis.
#
#   bench/run.sh          COUNT rounds (default 5) of every benchmark, -benchmem,
#                         raw output saved under OUT (default bench/results/),
#                         then a benchstat table (medians, ± 95% interval), the
#                         Redis bytes per session and the propagation test
#   bench/run.sh quick    go vet, then every benchmark once (-benchtime=1x), so
#                         that they build and pass; what CI runs
#
# Environment: REDIS_ADDR (default 127.0.0.1:6379), COUNT (5), BENCH (a -bench
# regexp, default .), BENCHTIME (go test's default 1s), OUT (results dir).
# The benchmarks share the machine with redis-server: run them on a quiet box.
set -euo pipefail
cd "$(dirname "$0")"

export REDIS_ADDR="${REDIS_ADDR:-127.0.0.1:6379}"
COUNT="${COUNT:-5}"
BENCH="${BENCH:-.}"
BENCHTIME="${BENCHTIME:-1s}"
OUT="${OUT:-results}"
BENCHSTAT=golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
PROPAGATION=RevocationPropagation

if [ "${1:-}" = quick ]; then
  go vet ./...
  go test -run '^$' -bench "$BENCH" -benchtime=1x ./...
  exit 0
fi
[ $# -eq 0 ] || { echo "usage: $0 [quick]" >&2; exit 2; }

mkdir -p "$OUT"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
raw="$OUT/bench-$stamp.txt"
logs="$OUT/tests-$stamp.txt"

{
  echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC'); uptime:$(uptime)"
  echo "# $(go version); redis $(redis-cli -u "redis://$REDIS_ADDR" info server 2>/dev/null | tr -d '\r' | sed -n 's/^redis_version://p')"
  echo "# cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(nproc) cores"
} | tee "$raw"

# One test binary, run COUNT rounds of every benchmark once (-count 1), so that
# a drift in the machine's load spreads over all rows instead of skewing a few.
bin="$OUT/bench.test"
go test -c -o "$bin" .
echo "== benchmarks: $COUNT rounds, -benchtime $BENCHTIME; REDIS_ADDR=$REDIS_ADDR"
for round in $(seq 1 "$COUNT"); do
  echo "# round $round; load:$(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$raw"
  "$bin" -test.run '^$' -test.bench "$BENCH" -test.skip "$PROPAGATION" -test.benchmem \
    -test.benchtime "$BENCHTIME" -test.timeout 0 | grep -v -E '^(PASS|ok)' | tee -a "$raw"
  if [[ "$PROPAGATION" =~ $BENCH ]]; then
    "$bin" -test.run '^$' -test.bench "$PROPAGATION" -test.benchtime 1000x -test.timeout 0 |
      grep '^Benchmark' | tee -a "$raw"
  fi
done
rm -f "$bin"

echo "== Redis bytes per session"
go test -count 1 -run '^$' -bench 'BytesPerSession' -benchtime 1x -v . | tee "$logs" |
  grep -E 'bytes_test|^Benchmark|^(ok|FAIL)'

echo "== benchstat (raw output: $raw)"
go run "$BENCHSTAT" "$raw"
