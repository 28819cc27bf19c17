#!/usr/bin/env bash
# Runs every test of the repository. Installs what the tests need on a Debian machine when it is
# missing (a real etcd 3.4 and etcdctl from Debian's etcd-server and etcd-client packages, and the
# Docker engine from docker.io, started when not running), builds the solution in Release, runs all
# test projects, removes leftover test containers, and ends with one line: "N passed, N failed".
# Extra arguments go to `dotnet test` (for example: ./test.sh --project tests/Server.Tests).
set -uo pipefail
cd "$(dirname "$0")"

log() { printf '[test.sh] %s\n' "$*" >&2; }

install_missing() {
  local pkgs=()
  command -v etcd >/dev/null 2>&1 || pkgs+=(etcd-server)
  command -v etcdctl >/dev/null 2>&1 || pkgs+=(etcd-client)
  if ((${#pkgs[@]})); then
    log "installing ${pkgs[*]} from Debian"
    local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq >&2 || true
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >&2 \
      || log "could not install ${pkgs[*]}; tests that need them will fail"
  fi
  # Debian's etcd-server package starts a system etcd where systemd runs; our tests use their own ports.
}

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# The integration tests run containers: install Debian's Docker engine when missing and start the
# daemon when it is not running (there is no systemd here). A pid file left by a dead daemon makes
# dockerd refuse to start, so it is removed first when no dockerd runs.
ensure_docker() {
  if ! command -v dockerd >/dev/null 2>&1; then
    log "installing docker.io from Debian"
    as_root apt-get update -qq >&2 || true
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends docker.io >&2 \
      || { log "could not install docker.io; the container tests will fail"; return; }
  fi
  if DOCKER_API_VERSION="${DOCKER_API_VERSION:-1.41}" docker info >/dev/null 2>&1; then return; fi
  # (Checked through /proc: procps, which has pgrep, is not on every clean machine.)
  if ! grep -qsx dockerd /proc/[0-9]*/comm; then as_root rm -f /var/run/docker.pid; fi
  log "starting dockerd"
  as_root sh -c 'nohup dockerd >/tmp/dockerd.log 2>&1 &'
  for _ in $(seq 1 60); do
    DOCKER_API_VERSION="${DOCKER_API_VERSION:-1.41}" docker info >/dev/null 2>&1 && return
    sleep 0.5
  done
  log "dockerd did not answer within 30 s (see /tmp/dockerd.log); the container tests will fail"
}

# Everything Testcontainers creates carries this label; a killed test run must not leak it.
remove_test_containers() {
  command -v docker >/dev/null 2>&1 || return 0
  local ids
  ids=$(DOCKER_API_VERSION="${DOCKER_API_VERSION:-1.41}" docker ps -aq --filter label=org.testcontainers=true 2>/dev/null)
  [ -n "$ids" ] && DOCKER_API_VERSION="${DOCKER_API_VERSION:-1.41}" docker rm -f $ids >/dev/null 2>&1
  ids=$(DOCKER_API_VERSION="${DOCKER_API_VERSION:-1.41}" docker network ls -q --filter label=org.testcontainers=true 2>/dev/null)
  [ -n "$ids" ] && DOCKER_API_VERSION="${DOCKER_API_VERSION:-1.41}" docker network rm $ids >/dev/null 2>&1
  return 0
}

install_missing
ensure_docker
trap remove_test_containers EXIT
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

log "building"
if ! dotnet build Coordination.sln -c Release -nologo -v q >build.log 2>&1; then
  grep -E "error" build.log | sort -u | head -50 >&2
  echo "0 passed, 1 failed"
  exit 1
fi

out=$(mktemp)
log "running tests"
if [ $# -gt 0 ]; then
  dotnet test -c Release --no-build "$@" 2>&1 | tee "$out"
else
  dotnet test --solution Coordination.sln -c Release --no-build 2>&1 | tee "$out"
fi
rc=${PIPESTATUS[0]}

# Microsoft.Testing.Platform ends with an aggregated summary: "total: N / failed: N / succeeded: N".
passed=$(grep -E '^\s+succeeded:\s+[0-9]+' "$out" | tail -1 | grep -oE '[0-9]+')
failed=$(grep -E '^\s+failed:\s+[0-9]+' "$out" | tail -1 | grep -oE '[0-9]+')
passed=${passed:-0}; failed=${failed:-0}
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
rm -f "$out"
echo "$passed passed, $failed failed"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]
