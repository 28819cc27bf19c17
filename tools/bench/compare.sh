#!/usr/bin/env bash
# Side-by-side benchmark of real etcd 3.4 and our server: same machine, same run, same load generator
# (tools/Benchmark), a fresh data dir per target. Writes a markdown table with both results and ours/etcd ratios.
#
#   tools/bench/compare.sh [--targets etcd,ours] [--cases LIST|all] [--with-1m] [--out FILE]
#                          [--case-timeout SECONDS] [--warmup SECONDS] [--no-build] [--list-cases]
#
# Before each measured case, the same case runs unrecorded for --warmup seconds (default 5, 0 for none) on
# both targets alike: a .NET server compiles its hot paths to optimized code in its first seconds of load
# (tiered JIT), and a run right after start-up measures that rather than the steady state.
#
# Everything listens on 127.0.0.1 only, on free ports. Every process started here is stopped by PID on exit,
# and every step is bounded in time. A target that fails to build or start is reported, not fatal.
# Raw outputs and logs are kept in artifacts/bench/results/<timestamp>/ (git-ignored).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ART="$ROOT/artifacts/bench"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
RESULTS="$ART/results/$STAMP"
TARGETS="etcd,ours"
CASES_ARG="default"
WITH_1M=0
OUT=""
CASE_TIMEOUT=300
WARMUP=5
BUILD=1
READY_TIMEOUT=60
RESTART_READY_TIMEOUT=600
LOAD_1M_TIMEOUT=1800
OURS_EXTRA_FLAGS="${OURS_EXTRA_FLAGS:-}"

# name|benchmark arguments (the endpoint is prepended). Range cases read the key foo, written when the target starts.
ALL_CASES=(
  "put-c1|--conns 1 --clients 1 --total 10000 put --val-size 256"
  "put-c64|--conns 8 --clients 64 --total 50000 put --val-size 256"
  "range-l-c64|--conns 8 --clients 64 --total 50000 range foo --consistency l"
  "range-s-c64|--conns 8 --clients 64 --total 50000 range foo --consistency s"
  "txn-put-c64|--conns 8 --clients 64 --total 50000 txn-put --val-size 256"
  "put-c1000|--conns 100 --clients 1000 --total 100000 put --val-size 256"
  "range-l-c1|--conns 1 --clients 1 --total 10000 range foo --consistency l"
  "range-s-c1|--conns 1 --clients 1 --total 10000 range foo --consistency s"
  "watch-1k|--conns 10 --clients 4 watch --watchers 1000 --streams 100 --put-rate 200 --total 1000"
)
DEFAULT_CASES="put-c1,put-c64,range-l-c64,range-s-c64,txn-put-c64"

usage() { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case "$1" in
    --targets) TARGETS="$2"; shift 2 ;;
    --cases) CASES_ARG="$2"; shift 2 ;;
    --with-1m) WITH_1M=1; shift ;;
    --out) OUT="$2"; shift 2 ;;
    --case-timeout) CASE_TIMEOUT="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --list-cases) printf '%s\n' "${ALL_CASES[@]}"; exit 0 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "compare.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done

case "$CASES_ARG" in
  default) CASES_ARG="$DEFAULT_CASES" ;;
  all) CASES_ARG="$(printf '%s\n' "${ALL_CASES[@]}" | cut -d'|' -f1 | paste -sd, -)" ;;
esac
SELECTED=()
IFS=',' read -r -a WANTED <<< "$CASES_ARG"
for w in "${WANTED[@]}"; do
  found=""
  for c in "${ALL_CASES[@]}"; do [ "${c%%|*}" = "$w" ] && found="$c"; done
  [ -n "$found" ] || { echo "compare.sh: unknown case $w (see --list-cases)" >&2; exit 2; }
  SELECTED+=("$found")
done
IFS=',' read -r -a TARGET_LIST <<< "$TARGETS"
for t in "${TARGET_LIST[@]}"; do
  case "$t" in etcd|ours) ;; *) echo "compare.sh: unknown target $t (etcd, ours)" >&2; exit 2 ;; esac
done

mkdir -p "$RESULTS"
OUT="${OUT:-$RESULTS/compare.md}"
WORK="$(mktemp -d /tmp/coord-bench.XXXXXX)"
PIDS=()

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

stop_pid() { # pid [grace seconds]
  local pid="$1" grace="${2:-30}" i
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < grace * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "pid $pid did not stop in ${grace}s, killing"
    kill -KILL "$pid" 2>/dev/null
  fi
  wait "$pid" 2>/dev/null
  local kept=() p
  for p in "${PIDS[@]}"; do [ "$p" = "$pid" ] || kept+=("$p"); done
  PIDS=("${kept[@]}")
  return 0
}

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do stop_pid "$pid" 10; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- prerequisites
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if [[ " ${TARGET_LIST[*]} " == *" etcd "* ]] || ! command -v etcdctl >/dev/null; then
  if ! command -v etcd >/dev/null || ! command -v etcdctl >/dev/null; then
    log "installing etcd-server and etcd-client"
    as_root timeout 600 apt-get install -y etcd-server etcd-client >"$RESULTS/apt.log" 2>&1 \
      || { as_root timeout 300 apt-get update >>"$RESULTS/apt.log" 2>&1 \
           && as_root timeout 600 apt-get install -y etcd-server etcd-client >>"$RESULTS/apt.log" 2>&1; }
  fi
fi
command -v jq >/dev/null || as_root timeout 600 apt-get install -y jq >>"$RESULTS/apt.log" 2>&1
command -v jq >/dev/null || { echo "compare.sh: jq is required" >&2; exit 1; }
ETCD_BIN="$(command -v etcd || true)"
[ -x /usr/bin/etcd ] && ETCD_BIN=/usr/bin/etcd
ETCDCTL="$(command -v etcdctl || true)"
export ETCDCTL_API=3

BENCH_DLL="$ART/bin/Benchmark/release/Benchmark.dll"
SERVER_DLL="$ART/bin/Coordination.Server/release/Coordination.Server.dll"
declare -A STATUS RES EXTRA LOADAVG

if [ "$BUILD" = 1 ]; then
  log "building tools/Benchmark (Release, artifacts in $ART)"
  if ! timeout 900 dotnet build "$ROOT/tools/Benchmark/Benchmark.csproj" -c Release --artifacts-path "$ART" -nologo --disable-build-servers \
       >"$RESULTS/build-benchmark.log" 2>&1; then
    echo "compare.sh: building tools/Benchmark failed, see $RESULTS/build-benchmark.log" >&2
    exit 1
  fi
  if [[ " ${TARGET_LIST[*]} " == *" ours "* ]]; then
    log "building src/Server/Coordination.Server (Release)"
    if ! timeout 900 dotnet build "$ROOT/src/Server/Coordination.Server/Coordination.Server.csproj" -c Release \
         --artifacts-path "$ART" -nologo --disable-build-servers >"$RESULTS/build-server.log" 2>&1; then
      STATUS[ours]="failed: build (see build-server.log)"
      log "our server does not build; its column will say so"
    fi
  fi
fi
[ -f "$BENCH_DLL" ] || { echo "compare.sh: $BENCH_DLL missing" >&2; exit 1; }

# ---------------------------------------------------------------- targets
USED_PORTS=" "
free_port() { # sets FREE_PORT (no subshell, so USED_PORTS remembers what was handed out)
  local p i
  for ((i = 0; i < 500; i++)); do
    p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
    [[ "$USED_PORTS" == *" $p "* ]] && continue
    if [ -z "$(ss -Htan "( sport = :$p )" 2>/dev/null)" ]; then USED_PORTS+="$p "; FREE_PORT=$p; return 0; fi
  done
  return 1
}

# start_target <target> <data dir> <client port> <peer port> <log file>; sets TARGET_PID
start_target() {
  local target="$1" dir="$2" cport="$3" pport="$4" logf="$5"
  local curl="http://127.0.0.1:$cport" purl="http://127.0.0.1:$pport"
  local common=(--name bench --data-dir "$dir" --listen-client-urls "$curl" --advertise-client-urls "$curl"
                --listen-peer-urls "$purl" --initial-advertise-peer-urls "$purl" --initial-cluster "bench=$purl")
  if [ "$target" = etcd ]; then
    "$ETCD_BIN" "${common[@]}" >>"$logf" 2>&1 &
  else
    # shellcheck disable=SC2086
    dotnet "$SERVER_DLL" "${common[@]}" $OURS_EXTRA_FLAGS >>"$logf" 2>&1 &
  fi
  TARGET_PID=$!
  PIDS+=("$TARGET_PID")
}

# wait_ready <pid> <client port> <timeout seconds>: until a linearizable Range answers; prints seconds waited
wait_ready() {
  local pid="$1" cport="$2" limit="$3" t0 now
  t0=$(date +%s%N)
  while :; do
    kill -0 "$pid" 2>/dev/null || return 1
    if [ -n "$ETCDCTL" ]; then
      "$ETCDCTL" --endpoints="127.0.0.1:$cport" --dial-timeout=1s --command-timeout=2s get foo >/dev/null 2>&1 && break
    else
      timeout 10 dotnet "$BENCH_DLL" --endpoints "http://127.0.0.1:$cport" --request-timeout 2 range foo --total 1 >/dev/null 2>&1 && break
    fi
    now=$(date +%s%N)
    (( (now - t0) / 1000000000 >= limit )) && return 2
    sleep 0.05
  done
  now=$(date +%s%N)
  awk -v ns=$((now - t0)) 'BEGIN { printf "%.2f", ns / 1e9 }'
}

rss_mb() { awk '{ printf "%.1f", $1 / 1024 }' <<< "$(ps -o rss= -p "$1" 2>/dev/null || echo 0)"; }

# run_bench <target> <name> <client port> <timeout> <args...>: stores the JSON line in RES[target|name]
run_bench() {
  local target="$1" name="$2" cport="$3" limit="$4"; shift 4
  local raw="$RESULTS/$target-$name.txt" rc line
  # Other work on the machine skews results; the 1-minute load average before each case is reported with it.
  LOADAVG["$target|$name"]="$(cut -d' ' -f1 /proc/loadavg)"
  # shellcheck disable=SC2086
  timeout -k 10 "$limit" dotnet "$BENCH_DLL" --endpoints "http://127.0.0.1:$cport" "$@" >"$raw" 2>"$RESULTS/$target-$name.err"
  rc=$?
  line="$(tail -n 1 "$raw" 2>/dev/null)"
  if [ $rc = 124 ] || [ $rc = 137 ]; then
    RES["$target|$name"]="timeout"
  elif [[ "$line" == "{"* ]]; then
    RES["$target|$name"]="$line"
  else
    RES["$target|$name"]="failed (rc $rc)"
  fi
  log "$target $name: ${RES["$target|$name"]}"
}

run_target() {
  local target="$1" cport pport dir logf pid ready
  if [ -n "${STATUS[$target]:-}" ]; then return; fi
  if [ "$target" = etcd ] && [ -z "$ETCD_BIN" ]; then STATUS[$target]="failed: etcd not installed"; return; fi
  if [ "$target" = ours ] && [ ! -f "$SERVER_DLL" ]; then STATUS[$target]="failed: $SERVER_DLL missing"; return; fi

  # Cases, on a fresh data dir.
  free_port && cport=$FREE_PORT && free_port && pport=$FREE_PORT || { STATUS[$target]="failed: no free port"; return; }
  dir="$WORK/$target-data"; logf="$RESULTS/$target-server.log"
  log "$target: starting on 127.0.0.1:$cport (data $dir)"
  start_target "$target" "$dir" "$cport" "$pport" "$logf"; pid=$TARGET_PID
  if ! ready=$(wait_ready "$pid" "$cport" "$READY_TIMEOUT"); then
    STATUS[$target]="failed: not ready within ${READY_TIMEOUT}s (see $target-server.log)"
    stop_pid "$pid"; return
  fi
  STATUS[$target]="ok"
  EXTRA["$target|start_empty_s"]="$ready"
  EXTRA["$target|rss_idle_mb"]="$(rss_mb "$pid")"
  [ -n "$ETCDCTL" ] && "$ETCDCTL" --endpoints="127.0.0.1:$cport" --command-timeout=5s put foo bar >/dev/null 2>&1
  local c name args
  for c in "${SELECTED[@]}"; do
    name="${c%%|*}"; args="${c#*|}"
    if ! kill -0 "$pid" 2>/dev/null; then RES["$target|$name"]="failed (server exited)"; continue; fi
    if [ "$WARMUP" != 0 ]; then
      # shellcheck disable=SC2086
      timeout -k 10 "$CASE_TIMEOUT" dotnet "$BENCH_DLL" --endpoints "http://127.0.0.1:$cport" --duration "$WARMUP" $args \
        >"$RESULTS/$target-$name.warmup.txt" 2>&1
      log "$target $name warm-up: $(tail -n 1 "$RESULTS/$target-$name.warmup.txt")"
    fi
    # shellcheck disable=SC2086
    run_bench "$target" "$name" "$cport" "$CASE_TIMEOUT" $args
  done
  EXTRA["$target|rss_after_cases_mb"]="$(rss_mb "$pid")"
  kill -0 "$pid" 2>/dev/null || STATUS[$target]="ok, but the server exited during the cases (see $target-server.log)"
  stop_pid "$pid"
  rm -rf "$dir"

  [ "$WITH_1M" = 1 ] || return
  # 1M keys of 256 B, on another fresh data dir: RSS after loading, then restart time and RSS.
  dir="$WORK/$target-data-1m"; logf="$RESULTS/$target-server-1m.log"
  log "$target: 1M-key run"
  start_target "$target" "$dir" "$cport" "$pport" "$logf"; pid=$TARGET_PID
  if ! wait_ready "$pid" "$cport" "$READY_TIMEOUT" >/dev/null; then
    EXTRA["$target|1m"]="failed: not ready"; stop_pid "$pid"; return
  fi
  run_bench "$target" load-1m "$cport" "$LOAD_1M_TIMEOUT" \
    --conns 8 --clients 64 put --sequential-keys --key-space-size 1000000 --total 1000000 --val-size 256
  sleep 2
  EXTRA["$target|rss_1m_mb"]="$(rss_mb "$pid")"
  EXTRA["$target|disk_1m_mb"]="$(du -sm "$dir" 2>/dev/null | cut -f1)"
  stop_pid "$pid" 60
  log "$target: restarting on the 1M-key data dir"
  start_target "$target" "$dir" "$cport" "$pport" "$logf"; pid=$TARGET_PID
  if ready=$(wait_ready "$pid" "$cport" "$RESTART_READY_TIMEOUT"); then
    EXTRA["$target|restart_1m_s"]="$ready"
    EXTRA["$target|rss_restart_1m_mb"]="$(rss_mb "$pid")"
    if [ -n "$ETCDCTL" ]; then
      EXTRA["$target|count_1m"]="$("$ETCDCTL" --endpoints="127.0.0.1:$cport" --command-timeout=60s get --from-key "" --limit 1 --keys-only -w json 2>/dev/null | jq -r '.count // 0')"
    fi
  else
    EXTRA["$target|restart_1m_s"]="failed (not ready within ${RESTART_READY_TIMEOUT}s)"
  fi
  stop_pid "$pid" 60
  rm -rf "$dir"
}

for t in "${TARGET_LIST[@]}"; do run_target "$t"; done

# ---------------------------------------------------------------- report
field() { # json key -> value or empty
  [[ "$1" == "{"* ]] && jq -r --arg k "$2" '.[$k] // empty' <<< "$1"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0 || a !~ /^[0-9.]+$/ || b !~ /^[0-9.]+$/) print "–"; else printf "%.2f", a / b }'; }
cell() { # result, key
  if [[ "$1" == "{"* ]]; then field "$1" "$2"; else echo "${1:-not run}"; fi
}

{
  echo "# Coordination vs etcd: side-by-side benchmark"
  echo
  echo "- Run: $STAMP (UTC), \`tools/bench/compare.sh --targets $TARGETS --cases $CASES_ARG$([ "$WITH_1M" = 1 ] && echo ' --with-1m') --warmup $WARMUP\` (each case first runs unrecorded for $WARMUP s)"
  echo "- Machine: $(nproc) vCPU $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(free -g | awk '/^Mem:/ { print $2 " GiB RAM" }'), $(uname -sr)"
  echo "- etcd: $([ -n "$ETCD_BIN" ] && "$ETCD_BIN" --version 2>/dev/null | head -1 | sed 's/etcd Version: //') ($ETCD_BIN); ours: commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)$(git -C "$ROOT" diff --quiet HEAD -- src 2>/dev/null || echo ' + uncommitted changes in src/')"
  echo "- Load generator: tools/Benchmark (Release), on the same 2 cores as the server. Raw outputs: \`${RESULTS#"$ROOT"/}\`"
  for t in "${TARGET_LIST[@]}"; do echo "- $t: ${STATUS[$t]:-not run}"; done
  echo
  echo "| case | benchmark arguments | etcd req/s | ours req/s | ours/etcd req/s | etcd p50 / p99 ms | ours p50 / p99 ms | ours/etcd p99 | errors etcd / ours | load avg before etcd / ours |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  for c in "${SELECTED[@]}"; do
    name="${c%%|*}"; args="${c#*|}"
    e="${RES["etcd|$name"]:-not run}"; o="${RES["ours|$name"]:-not run}"
    [[ "${STATUS[etcd]:-}" == failed* ]] && e="target failed"
    [[ "${STATUS[ours]:-}" == failed* ]] && o="target failed"
    eq="$(cell "$e" qps)"; oq="$(cell "$o" qps)"
    ep="$(field "$e" p50_ms) / $(field "$e" p99_ms)"; op="$(field "$o" p50_ms) / $(field "$o" p99_ms)"
    [[ "$e" == "{"* ]] || ep="–"; [[ "$o" == "{"* ]] || op="–"
    echo "| $name | \`$args\` | $eq | $oq | $(ratio "$oq" "$eq") | $ep | $op | $(ratio "$(field "$o" p99_ms)" "$(field "$e" p99_ms)") | $(field "$e" errors || true)$([[ "$e" == "{"* ]] || echo –) / $(field "$o" errors || true)$([[ "$o" == "{"* ]] || echo –) | ${LOADAVG["etcd|$name"]:-–} / ${LOADAVG["ours|$name"]:-–} |"
  done
  echo
  echo "| per target | etcd | ours | ours/etcd |"
  echo "|---|---|---|---|"
  row() { echo "| $1 | ${EXTRA["etcd|$2"]:-–} | ${EXTRA["ours|$2"]:-–} | $(ratio "${EXTRA["ours|$2"]:-}" "${EXTRA["etcd|$2"]:-}") |"; }
  row "time to first linearizable Range, empty data dir (s)" start_empty_s
  row "RSS idle after start (MB)" rss_idle_mb
  row "RSS after the cases (MB)" rss_after_cases_mb
  if [ "$WITH_1M" = 1 ]; then
    el="${RES["etcd|load-1m"]:-}"; ol="${RES["ours|load-1m"]:-}"
    echo "| load 1M keys × 256 B, 64 clients / 8 conns (put/s) | $(cell "$el" qps) | $(cell "$ol" qps) | $(ratio "$(field "$ol" qps)" "$(field "$el" qps)") |"
    row "RSS after loading 1M keys (MB)" rss_1m_mb
    row "data dir after loading 1M keys (MB)" disk_1m_mb
    row "restart with 1M keys: time to first linearizable Range (s)" restart_1m_s
    row "RSS after that restart (MB)" rss_restart_1m_mb
    row "keys counted after restart" count_1m
  fi
} >"$OUT"

cat "$OUT"
log "written to $OUT"
