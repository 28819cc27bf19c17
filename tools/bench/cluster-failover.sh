#!/usr/bin/env bash
# usage: cluster-failover.sh etcd|ours BASE_PORT ; builds nothing (build the server in Release first); prints ms from SIGKILL of the leader until both survivors report the same new leader
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
kind=$1; base=$2; dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT; cd "$dir"
DLL=${SERVER_DLL:-$ROOT/src/Server/Coordination.Server/bin/Release/net10.0/Coordination.Server.dll}
IC=""; for i in 1 2 3; do IC="$IC${IC:+,}n$i=http://127.0.0.1:$((base+10+i))"; done
for i in 1 2 3; do
  args="--name n$i --data-dir d$i --listen-client-urls http://127.0.0.1:$((base+i)) --advertise-client-urls http://127.0.0.1:$((base+i)) --listen-peer-urls http://127.0.0.1:$((base+10+i)) --initial-advertise-peer-urls http://127.0.0.1:$((base+10+i)) --initial-cluster $IC --initial-cluster-state new --heartbeat-interval 100 --election-timeout 1000"
  if [ $kind = etcd ]; then /usr/bin/etcd $args > n$i.log 2>&1 & else dotnet $DLL $args > n$i.log 2>&1 & fi
  echo $! > n$i.pid
done
export ETCDCTL_API=3
EPS=127.0.0.1:$((base+1)),127.0.0.1:$((base+2)),127.0.0.1:$((base+3))
leader_of() { etcdctl --endpoints $1 --dial-timeout=300ms --command-timeout=300ms endpoint status -w json 2>/dev/null | grep -o '"leader":[0-9]*' | head -1 | cut -d: -f2; }
id_of() { etcdctl --endpoints $1 --dial-timeout=300ms endpoint status -w json 2>/dev/null | grep -o '"member_id":[0-9]*' | head -1 | cut -d: -f2; }
for t in $(seq 1 100); do l=$(leader_of 127.0.0.1:$((base+1))); [ -n "$l" ] && [ "$l" != 0 ] && break; sleep 0.2; done
sleep 1
l=$(leader_of 127.0.0.1:$((base+1)))
for i in 1 2 3; do [ "$(id_of 127.0.0.1:$((base+i)))" = "$l" ] && li=$i; done
others=""; for i in 1 2 3; do [ $i != $li ] && others="$others $((base+i))"; done
kill -9 $(cat n$li.pid); t0=$(date +%s%N)
while true; do
  set -- $others; a=$(leader_of 127.0.0.1:$1); b=$(leader_of 127.0.0.1:$2)
  if [ -n "$a" ] && [ "$a" != 0 ] && [ "$a" != "$l" ] && [ "$a" = "$b" ]; then break; fi
  if [ $(( ($(date +%s%N) - t0) / 1000000 )) -gt 15000 ]; then echo "timeout"; break; fi
done
echo "$kind failover $(( ($(date +%s%N) - t0) / 1000000 )) ms"
for i in 1 2 3; do kill -9 $(cat n$i.pid) 2>/dev/null; done
