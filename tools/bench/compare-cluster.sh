#!/usr/bin/env bash
# Side-by-side benchmark of a 3-member real etcd 3.4 cluster and a 3-member cluster of our server:
# same machine, same run, same load generator (tools/Benchmark), fresh data dirs, loopback only.
#
#   tools/bench/compare-cluster.sh [--targets etcd,ours] [--cases NAME,...] [--rounds N] [--no-build] [--failovers N] [--freezes N] [--warmup SECONDS]
#
# Start three members of each target with etcd's cluster flags (default heartbeat 100 ms, election
# timeout 1000 ms for both) and wait for their leaders; only the target being measured runs, the
# other's members wait under SIGSTOP. Then each case (routed to the leader, to a
# follower or spread over all three members, see CASES) runs --rounds times (default 3) per target,
# alternating which target goes first, so that drift in what else the machine does falls on both;
# rates and pooled p50/p99 are over all rounds. Before a case's first round the same case runs
# unrecorded for --warmup seconds (default 5, 0 for none) on each target alike, so the measurement
# sees a .NET server's steady state rather than its tiered JIT at work. Then, per target, leader
# failover N times: SIGKILL the leader, time until a put through the survivors succeeds, restart the
# killed member and wait until it serves again; then --freezes times the same with SIGSTOP (the
# leader's process stays, its connections open, so the others can only notice by their election
# timeout) and SIGCONT. A put that waits for a leader is given up after PROBE_TIMEOUT (100 ms) and
# tried again, so a measured time is at most about 0.15 s late on either target.
# Raw outputs and logs go to artifacts/bench/results/<timestamp>-cluster/ (git-ignored).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ART="$ROOT/artifacts/bench"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
RESULTS="$ART/results/$STAMP-cluster"
TARGETS="etcd,ours"
BUILD=1
FAILOVERS=5
FREEZES=5
PROBE_TIMEOUT=100ms
WARMUP=5
ROUNDS=3
ONLY=""
# name|route|arguments. Route "leader" or "follower": the case's one connection goes to the member that
# leads when it starts, or to one that follows (whose puts the leader must first receive from it, and
# whose reply waits until it learns of the commit); "all": the connections are spread over the three.
CASES=(
  "put-c1|leader|--conns 1 --clients 1 --total 20000 put --val-size 256"
  "put-c1-via-follower|follower|--conns 1 --clients 1 --total 20000 put --val-size 256"
  "put-c64|all|--conns 8 --clients 64 --total 30000 put --val-size 256"
  "range-l-c64|all|--conns 8 --clients 64 --total 30000 range foo --consistency l"
  "range-s-c64|all|--conns 8 --clients 64 --total 30000 range foo --consistency s"
)

while [ $# -gt 0 ]; do
  case "$1" in
    --targets) TARGETS="$2"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --failovers) FAILOVERS="$2"; shift 2 ;;
    --freezes) FREEZES="$2"; shift 2 ;;
    --cases) ONLY=",$2,"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "compare-cluster.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

mkdir -p "$RESULTS"
WORK="$(mktemp -d /tmp/coord-cluster-bench.XXXXXX)"
PIDS=()
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
cleanup() { local p; for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

command -v etcd >/dev/null && command -v etcdctl >/dev/null || { echo "compare-cluster.sh: needs etcd and etcdctl (apt-get install etcd-server etcd-client)" >&2; exit 1; }
command -v jq >/dev/null || { echo "compare-cluster.sh: needs jq" >&2; exit 1; }
export ETCDCTL_API=3
BENCH_DLL="$ART/bin/Benchmark/release/Benchmark.dll"
SERVER_DLL="$ART/bin/Coordination.Server/release/Coordination.Server.dll"
if [ "$BUILD" = 1 ]; then
  log "building tools/Benchmark and the server (Release, artifacts in $ART)"
  timeout 900 dotnet build "$ROOT/tools/Benchmark/Benchmark.csproj" -c Release --artifacts-path "$ART" -nologo --disable-build-servers >"$RESULTS/build-benchmark.log" 2>&1 || { echo "build failed: $RESULTS/build-benchmark.log" >&2; exit 1; }
  timeout 900 dotnet build "$ROOT/src/Server/Coordination.Server/Coordination.Server.csproj" -c Release --artifacts-path "$ART" -nologo --disable-build-servers >"$RESULTS/build-server.log" 2>&1 || { echo "build failed: $RESULTS/build-server.log" >&2; exit 1; }
fi

USED=" "
free_port() {
  local p i
  for ((i = 0; i < 500; i++)); do
    p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
    [[ "$USED" == *" $p "* ]] && continue
    if [ -z "$(ss -Htan "( sport = :$p )" 2>/dev/null)" ]; then USED+="$p "; FREE_PORT=$p; return 0; fi
  done
  return 1
}

declare -A CPORT PPORT PID CLUSTER RUNNING RES FAIL LOADAVG LEADEND USED_M CPU REQS SECS P99S

# start_member <target> <i> <initial cluster>
start_member() {
  local t="$1" i="$2" cluster="$3" c="http://127.0.0.1:${CPORT[$1$2]}" p="http://127.0.0.1:${PPORT[$1$2]}"
  local flags=(--name "m$i" --data-dir "$WORK/$t-m$i" --listen-client-urls "$c" --advertise-client-urls "$c"
               --listen-peer-urls "$p" --initial-advertise-peer-urls "$p" --initial-cluster "$cluster"
               --initial-cluster-state new --initial-cluster-token "bench-$t")
  if [ "$t" = etcd ]; then etcd "${flags[@]}" >>"$RESULTS/$t-m$i.log" 2>&1 &
  else dotnet "$SERVER_DLL" "${flags[@]}" >>"$RESULTS/$t-m$i.log" 2>&1 &
  fi
  PID[$t$i]=$!
  PIDS+=("$!")
}

# selected <case name>: whether --cases (if given) names it
selected() { [ -z "$ONLY" ] || [[ "$ONLY" == *",$1,"* ]]; }
endpoints() { local t="$1" i out=""; for i in 1 2 3; do out+="http://127.0.0.1:${CPORT[$t$i]},"; done; echo "${out%,}"; }
# cpu_ticks <target>: CPU time (user + system, in clock ticks) used so far by the target's three members
cpu_ticks() {
  local t="$1" i sum=0 f
  for i in 1 2 3; do
    f=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/${PID[$t$i]}/stat" 2>/dev/null) || f=0
    sum=$((sum + ${f:-0}))
  done
  echo "$sum"
}

# route_endpoints <target> <route>: the endpoints a case uses (see CASES)
route_endpoints() {
  local t="$1" route="$2" lead i
  [ "$route" = all ] && { endpoints "$t"; return 0; }
  lead=$(leader_index "$t") || return 1
  if [ "$route" = leader ]; then echo "http://127.0.0.1:${CPORT[$t$lead]}"; return 0; fi
  for i in 1 2 3; do [ "$i" = "$lead" ] || { echo "http://127.0.0.1:${CPORT[$t$i]}"; return 0; }; done
}
survivors() { local t="$1" skip="$2" i out=""; for i in 1 2 3; do [ "$i" = "$skip" ] || out+="http://127.0.0.1:${CPORT[$t$i]},"; done; echo "${out%,}"; }

# wait_put <endpoints> <limit s>: until a put succeeds; prints seconds
wait_put() {
  local eps="$1" limit="$2" t0 now
  t0=$(date +%s%N)
  while :; do
    etcdctl --endpoints="$eps" --dial-timeout=500ms --command-timeout="$PROBE_TIMEOUT" put failover-probe x >/dev/null 2>&1 && break
    now=$(date +%s%N); (( (now - t0) / 1000000000 >= limit )) && return 1
    sleep 0.02
  done
  now=$(date +%s%N); awk -v ns=$((now - t0)) 'BEGIN { printf "%.3f", ns / 1e9 }'
}

leader_index() { # prints 1..3
  local t="$1" i id lead
  for i in 1 2 3; do
    lead=$(etcdctl --endpoints="http://127.0.0.1:${CPORT[$t$i]}" --command-timeout=2s endpoint status -w json 2>/dev/null | jq -r '.[0].Status.leader // empty')
    [ -n "$lead" ] && [ "$lead" != 0 ] && break
  done
  for i in 1 2 3; do
    id=$(etcdctl --endpoints="http://127.0.0.1:${CPORT[$t$i]}" --command-timeout=2s endpoint status -w json 2>/dev/null | jq -r '.[0].Status.header.member_id // empty')
    [ "$id" = "$lead" ] && { echo "$i"; return 0; }
  done
  return 1
}

# start_target <target>: three members on fresh ports and data dirs, then foo=bar
start_target() {
  local t="$1" i cluster=""
  for i in 1 2 3; do free_port; CPORT[$t$i]=$FREE_PORT; free_port; PPORT[$t$i]=$FREE_PORT; cluster+="m$i=http://127.0.0.1:${PPORT[$t$i]},"; done
  CLUSTER[$t]="${cluster%,}"
  log "$t: starting 3 members"
  for i in 1 2 3; do start_member "$t" "$i" "${CLUSTER[$t]}"; done
  if ! wait_put "$(endpoints "$t")" 60 >/dev/null; then FAIL[$t]="no leader within 60 s"; log "$t: ${FAIL[$t]}"; return; fi
  etcdctl --endpoints="$(endpoints "$t")" put foo bar >/dev/null
}

# run_case <target> <case spec> <round>: the case's warm-up (first round only), then one measured run
run_case() {
  local t="$1" c="$2" r="$3" name route args raw eps cpu0 line i
  name="${c%%|*}"; route="${c#*|}"; args="${route#*|}"; route="${route%%|*}"; raw="$RESULTS/$t-$name.r$r.txt"
  if ! eps="$(route_endpoints "$t" "$route")"; then log "$t $name round $r: no leader to route to"; return; fi
  if [ "$WARMUP" != 0 ] && [ "$r" = 1 ]; then
    # shellcheck disable=SC2086
    timeout -k 10 300 dotnet "$BENCH_DLL" --endpoints "$eps" --duration "$WARMUP" $args >"$RESULTS/$t-$name.warmup.txt" 2>&1
    log "$t $name warm-up: $(tail -n 1 "$RESULTS/$t-$name.warmup.txt")"
  fi
  LOADAVG[$t$name]+="${LOADAVG[$t$name]:+ }$(cut -d' ' -f1 /proc/loadavg)"
  cpu0=$(cpu_ticks "$t")
  # shellcheck disable=SC2086
  timeout -k 10 300 dotnet "$BENCH_DLL" --endpoints "$eps" --latency-file "$RESULTS/$t-$name.r$r.lat" $args >"$raw" 2>"$RESULTS/$t-$name.r$r.err"
  # The member that led when the case ended, to show the route held.
  LEADEND[$t$name]+="${LEADEND[$t$name]:+ }m$(leader_index "$t" || echo "?")"
  USED_M[$t$name]="all"; for i in 1 2 3; do [ "$eps" = "http://127.0.0.1:${CPORT[$t$i]}" ] && USED_M[$t$name]="m$i"; done
  line="$(tail -n 1 "$raw")"; [[ "$line" == "{"* ]] || { log "$t $name round $r: failed"; return; }
  CPU[$t$name]=$(( ${CPU[$t$name]:-0} + $(cpu_ticks "$t") - cpu0 ))
  REQS[$t$name]=$(( ${REQS[$t$name]:-0} + $(f "$line" total) ))
  SECS[$t$name]=$(awk -v a="${SECS[$t$name]:-0}" -v b="$(f "$line" seconds)" 'BEGIN { printf "%.3f", a + b }')
  P99S[$t$name]+="${P99S[$t$name]:+ }$(f "$line" p99_ms)"
  log "$t $name round $r: $line"
}

# pooled <target> <case> <q>: the q-quantile (nearest rank, as the load generator) of every round's latencies
pooled() {
  local files=("$RESULTS/$1-$2".r*.lat)
  [ -s "${files[0]}" ] || { echo "–"; return; }
  LC_ALL=C sort -n -m "${files[@]}" | awk -v q="$3" '{ a[NR] = $1 } END { r = int(q * NR); if (r < q * NR) r++; if (r < 1) r = 1; print a[r] }'
}

# failovers <target>: SIGKILL the leader FAILOVERS times, then SIGSTOP it FREEZES times; each time until a put succeeds
failovers() {
  local t="$1" n leader took times=()
  for ((n = 1; n <= FAILOVERS; n++)); do
    leader=$(leader_index "$t") || { times+=("no-leader"); continue; }
    kill -KILL "${PID[$t$leader]}"
    if took=$(wait_put "$(survivors "$t" "$leader")" 30); then times+=("$took"); else times+=("timeout"); fi
    log "$t failover $n: killed m$leader, a put succeeded after ${times[-1]} s"
    start_member "$t" "$leader" "${CLUSTER[$t]}"
    wait_put "http://127.0.0.1:${CPORT[$t$leader]}" 60 >/dev/null || log "$t: m$leader did not serve again within 60 s"
    sleep 2
  done
  RES[${t}failover]="${times[*]}"
  times=()
  for ((n = 1; n <= FREEZES; n++)); do
    leader=$(leader_index "$t") || { times+=("no-leader"); continue; }
    kill -STOP "${PID[$t$leader]}"
    if took=$(wait_put "$(survivors "$t" "$leader")" 30); then times+=("$took"); else times+=("timeout"); fi
    log "$t freeze $n: stopped m$leader, a put succeeded after ${times[-1]} s"
    kill -CONT "${PID[$t$leader]}"
    wait_put "http://127.0.0.1:${CPORT[$t$leader]}" 60 >/dev/null || log "$t: m$leader did not serve again within 60 s"
    sleep 2
  done
  RES[${t}freeze]="${times[*]}"
}

# only <target>: SIGCONT its members (waiting until a put goes through) and SIGSTOP every other
# target's, so that a cluster waiting for its turn takes no CPU from the one measured: an idle
# cluster of ours took ~5% of a core per member (the node loop spins after every tick), etcd's ~1.5%.
# Both sides' timers count ticks, so a stopped and continued cluster keeps its leader.
only() {
  local t="$1" o i
  for o in "${TLIST[@]}"; do
    [ "$o" = "$t" ] || [ -n "${FAIL[$o]:-}" ] || [ "${RUNNING[$o]:-1}" = 0 ] && continue
    for i in 1 2 3; do kill -STOP "${PID[$o$i]}" 2>/dev/null; done
    RUNNING[$o]=0
  done
  if [ "${RUNNING[$t]:-1}" = 0 ]; then
    for i in 1 2 3; do kill -CONT "${PID[$t$i]}" 2>/dev/null; done
    RUNNING[$t]=1
    wait_put "$(endpoints "$t")" 30 >/dev/null || log "$t: no put went through within 30 s of SIGCONT"
  fi
}

stop_target() { local t="$1" i; for i in 1 2 3; do kill -TERM "${PID[$t$i]}" 2>/dev/null; done; sleep 2; }

f() { [[ "$1" == "{"* ]] && jq -r --arg k "$2" '.[$k] // empty' <<< "$1"; }
IFS=',' read -r -a TLIST <<< "$TARGETS"
# Both clusters live for the whole of the cases, the one not measured stopped (see only), so that each
# case's rounds can alternate between the targets: whatever else the machine does drifts over minutes,
# and alternating spreads it over both instead of loading it onto whichever target ran second.
for t in "${TLIST[@]}"; do start_target "$t"; done
for c in "${CASES[@]}"; do
  selected "${c%%|*}" || continue
  for ((r = 1; r <= ROUNDS; r++)); do
    order=("${TLIST[@]}")
    if (( r % 2 == 0 )); then order=(); for ((k = ${#TLIST[@]} - 1; k >= 0; k--)); do order+=("${TLIST[k]}"); done; fi
    for t in "${order[@]}"; do [ -n "${FAIL[$t]:-}" ] || { only "$t"; run_case "$t" "$c" "$r"; }; done
  done
done
for t in "${TLIST[@]}"; do [ -n "${FAIL[$t]:-}" ] || { only "$t"; failovers "$t"; }; stop_target "$t"; done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a !~ /^[0-9.]+$/ || b !~ /^[0-9.]+$/ || b + 0 == 0) print "–"; else printf "%.2f", a / b }'; }
median() { tr ' ' '\n' <<< "$1" | grep -E '^[0-9.]+$' | sort -n | awk '{ a[NR] = $1 } END { if (NR == 0) print "–"; else if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
OUT="$RESULTS/compare-cluster.md"
# per_s <target> <case>: requests per second over all rounds (all requests / all measured seconds)
per_s() { awk -v n="${REQS[$1$2]:-0}" -v s="${SECS[$1$2]:-0}" 'BEGIN { if (s > 0) printf "%.1f", n / s; else print "–" }'; }
# cpu_per_req <target> <case>: CPU time of the three members per request, µs, over all rounds
cpu_per_req() { awk -v d="${CPU[$1$2]:-0}" -v hz="$(getconf CLK_TCK)" -v n="${REQS[$1$2]:-0}" 'BEGIN { if (n > 0) printf "%.0f", d / hz * 1e6 / n; else print "–" }'; }
{
  echo "# 3-member clusters: Coordination vs etcd"
  echo
  echo "- Run: $STAMP (UTC), \`tools/bench/compare-cluster.sh --targets $TARGETS --rounds $ROUNDS --failovers $FAILOVERS --freezes $FREEZES --warmup $WARMUP${ONLY:+ --cases ${ONLY:1:-1}}\` (each case first runs unrecorded for $WARMUP s per target); ours at commit $(git -C "$ROOT" rev-parse --short HEAD)"
  echo "- Three members per target on loopback, default timing flags (heartbeat 100 ms, election timeout 1000 ms); put-c1 connects to the leader, put-c1-via-follower to a follower, the other cases spread their channels over the three endpoints."
  echo "- Both clusters live during the cases, the one not measured under SIGSTOP; each case runs $ROUNDS measured rounds per target, alternating which target goes first. Rates are all requests over all measured seconds; p50 and p99 are over the rounds' latencies pooled into one distribution."
  for t in "${TLIST[@]}"; do [ -n "${FAIL[$t]:-}" ] && echo "- $t: FAILED: ${FAIL[$t]}"; done
  echo
  echo "| case | etcd req/s (p50 / p99 ms) | ours req/s (p50 / p99 ms) | ours/etcd req/s | ours/etcd p99 | p99 per round, etcd / ours (ms) | load avg before each round, etcd / ours | etcd: member used, leader after each round | ours: member used, leader after each round | members' CPU µs per request, etcd / ours |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  for c in "${CASES[@]}"; do
    selected "${c%%|*}" || continue
    name="${c%%|*}"
    ep99=$(pooled etcd "$name" 0.99); op99=$(pooled ours "$name" 0.99)
    echo "| $name | $(per_s etcd "$name") ($(pooled etcd "$name" 0.5) / $ep99) | $(per_s ours "$name") ($(pooled ours "$name" 0.5) / $op99) | $(ratio "$(per_s ours "$name")" "$(per_s etcd "$name")") | $(ratio "$op99" "$ep99") | ${P99S[etcd$name]:-–} / ${P99S[ours$name]:-–} | ${LOADAVG[etcd$name]:-–} / ${LOADAVG[ours$name]:-–} | ${USED_M[etcd$name]:-–}, ${LEADEND[etcd$name]:-–} | ${USED_M[ours$name]:-–}, ${LEADEND[ours$name]:-–} | $(cpu_per_req etcd "$name") / $(cpu_per_req ours "$name") |"
  done
  echo
  echo "| leader failover after SIGKILL (s until a put through the survivors succeeds) | etcd | ours |"
  echo "|---|---|---|"
  echo "| each run | ${RES[etcdfailover]:-–} | ${RES[oursfailover]:-–} |"
  echo "| median | $(median "${RES[etcdfailover]:-}") | $(median "${RES[oursfailover]:-}") |"
  echo
  echo "| leader failover after SIGSTOP (s until a put through the others succeeds) | etcd | ours |"
  echo "|---|---|---|"
  echo "| each run | ${RES[etcdfreeze]:-–} | ${RES[oursfreeze]:-–} |"
  echo "| median | $(median "${RES[etcdfreeze]:-}") | $(median "${RES[oursfreeze]:-}") |"
} >"$OUT"
cat "$OUT"
log "written to $OUT"
