#!/usr/bin/env bash
# Runs every test of the repository. Installs what the tests need on a Debian machine when it is
# missing (a real etcd 3.4 and etcdctl from Debian's etcd-server and etcd-client packages), builds
# the solution in Release, runs all test projects, and ends with one line: "N passed, N failed".
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

install_missing
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
