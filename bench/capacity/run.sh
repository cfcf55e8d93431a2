#!/usr/bin/env bash
# Runs the capacity measurement (see main.go) at full size, 100,000 users ×
# 10 sessions, on a redis-server of its own (port 6390 unless -addr says
# otherwise), and saves the output as results/capacity-<UTC time>.txt.
# Flags are passed on: capacity/run.sh -users 10000 -duration 5s
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p results
out="results/capacity-$(date -u +%Y%m%dT%H%M%SZ).txt"
bin="$(mktemp -d)/capacity"
trap 'rm -rf "$(dirname "$bin")"' EXIT
go build -o "$bin" ./capacity
"$bin" "$@" 2>&1 | tee "$out"
echo "saved $out"
