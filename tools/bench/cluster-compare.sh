#!/usr/bin/env bash
# usage: cluster-compare.sh etcd|ours BASE_PORT : (build the server and tools/Benchmark in Release first) starts a 3-member cluster, runs put/range loads against all endpoints, stops it
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
kind=$1; base=$2; dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT; cd "$dir"
DLL=${SERVER_DLL:-$ROOT/src/Server/Coordination.Server/bin/Release/net10.0/Coordination.Server.dll}
B=${BENCH_DLL:-$ROOT/tools/Benchmark/bin/Release/net10.0/Benchmark.dll}
IC=""; for i in 1 2 3; do IC="$IC${IC:+,}n$i=http://127.0.0.1:$((base+10+i))"; done
for i in 1 2 3; do
  args="--name n$i --data-dir d$i --listen-client-urls http://127.0.0.1:$((base+i)) --advertise-client-urls http://127.0.0.1:$((base+i)) --listen-peer-urls http://127.0.0.1:$((base+10+i)) --initial-advertise-peer-urls http://127.0.0.1:$((base+10+i)) --initial-cluster $IC --initial-cluster-state new"
  if [ $kind = etcd ]; then /usr/bin/etcd $args > n$i.log 2>&1 & else dotnet $DLL $args > n$i.log 2>&1 & fi
  echo $! > n$i.pid
done
EPS=http://127.0.0.1:$((base+1)),http://127.0.0.1:$((base+2)),http://127.0.0.1:$((base+3))
sleep 6
run() { echo "== $kind $*"; timeout 60 dotnet $B --endpoints $EPS --request-timeout 5 "$@" 2>&1 | grep -iE "^\{|error" | head -3; }
run put --clients 1 --conns 1 --duration 5
run put --clients 64 --conns 8 --duration 5
run range foo --clients 64 --conns 8 --duration 5
run range foo --clients 64 --conns 8 --duration 5 --consistency s
for i in 1 2 3; do kill -9 $(cat n$i.pid) 2>/dev/null; done
