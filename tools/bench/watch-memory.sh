#!/usr/bin/env bash
# Memory per watcher and event delivery with 10,000 watchers, our server vs real etcd 3.4, same machine, same run.
#
#   tools/bench/watch-memory.sh [ours|etcd ...]     (default: ours etcd)
#
# Per target, on a fresh data dir and free 127.0.0.1 ports: start it, write one key, wait 2 s, take its RSS
# (idle), then run tools/Benchmark watch mode while sampling the server's RSS every 100 ms (peak):
#   A. creation only:   --watchers 10000 --streams 100 --watched-keys 10000 --total 1
#   B. 1,000 writes/s:   same watchers, --put-rate 1000 --total 5000 (one watcher per key: 1,000 events/s)
#   C. write throughput: 20,000 puts from 64 clients as fast as they go, with 1 watcher vs with the 10,000 watchers
# (peak - idle) / 10,000 is the memory added per watcher. Needs tools/Benchmark and the server built in Release.
# Every process started here is stopped by PID; every run is bounded by timeout.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BENCH="$ROOT/tools/Benchmark/bin/Release/net10.0/Benchmark.dll"
SERVER="$ROOT/src/Server/Coordination.Server/bin/Release/net10.0/Coordination.Server.dll"
WORK="$(mktemp -d /tmp/watch-memory.XXXXXX)"
TARGETS=("$@"); [ ${#TARGETS[@]} -eq 0 ] && TARGETS=(ours etcd)
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

free_port() { local p; while :; do p=$((20000 + RANDOM % 40000)); [ -z "$(ss -Htan "( sport = :$p or sport = :$((p + 1)) )")" ] && { echo "$p"; return; }; done; }

# run_case <target> <label> <benchmark args...>: prints "label idle_kb peak_kb <benchmark json>"
run_case() {
  local target="$1" label="$2"; shift 2
  local port dir url purl
  port="$(free_port)"; dir="$(mktemp -d "$WORK/d.XXXX")"; url="http://127.0.0.1:$port"; purl="http://127.0.0.1:$((port + 1))"
  local common=(--data-dir "$dir" --listen-client-urls "$url" --advertise-client-urls "$url" --listen-peer-urls "$purl"
                --initial-advertise-peer-urls "$purl" --initial-cluster "default=$purl")
  if [ "$target" = etcd ]; then /usr/bin/etcd "${common[@]}" >"$dir/log" 2>&1 & else dotnet "$SERVER" "${common[@]}" >"$dir/log" 2>&1 & fi
  PID=$!
  for _ in $(seq 100); do ETCDCTL_API=3 etcdctl --endpoints="$url" put warm up >/dev/null 2>&1 && break; sleep 0.2; done
  sleep 2
  local idle peak=0 r b
  idle="$(ps -o rss= -p "$PID")"
  timeout 180 dotnet "$BENCH" --endpoints "$url" "$@" >"$dir/bench.out" 2>&1 & b=$!
  while kill -0 "$b" 2>/dev/null; do r="$(ps -o rss= -p "$PID")"; [ "${r:-0}" -gt "$peak" ] && peak="$r"; sleep 0.1; done
  echo "$target $label idle_kb=$idle peak_kb=$peak per_watcher_b=$(( (peak - idle) * 1024 / 10000 )) $(tail -1 "$dir/bench.out")"
  kill "$PID"; wait "$PID" 2>/dev/null; PID=""
}

W=(watch --watchers 10000 --streams 100 --watched-keys 10000)
for t in "${TARGETS[@]}"; do
  run_case "$t" A --conns 10 --clients 4 "${W[@]}" --put-rate 1000 --total 1
  run_case "$t" B --conns 10 --clients 4 "${W[@]}" --put-rate 1000 --total 5000
  run_case "$t" C-1-watcher --conns 10 --clients 64 watch --watchers 1 --streams 1 --watched-keys 10000 --put-rate 1000000 --total 20000
  run_case "$t" C-10k-watchers --conns 10 --clients 64 "${W[@]}" --put-rate 1000000 --total 20000
done
