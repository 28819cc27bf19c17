#!/usr/bin/env bash
# Builds the container images the integration tests use, without any registry: both FROM scratch.
#
#   tools/containers/build-images.sh [--server-only|--etcd-only]
#
#   coordination-server:test  our server, a self-contained publish plus exactly the shared libraries it loads
#   coordination-etcd:3.4     Debian's /usr/bin/etcd (package etcd-server) plus the loader and libc
#
# Contexts are assembled under artifacts/containers/ (git-ignored). Needs a running Docker engine.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="$ROOT/artifacts/containers"
WHAT="${1:-all}"

log() { echo "[build-images] $*" >&2; }

# Copies every shared library the given ELF files link against (resolved, symlinks followed) into rootfs.
copy_libs() {
  local rootfs="$1"; shift
  local lib
  # ldd prints "name => /path (addr)" per library, the loader as "\t/path (addr)", and a "file:" header per input.
  for lib in $(ldd "$@" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// && $1 !~ /:$/ { print $1 }' | sort -u); do
    case "$lib" in "$OUT"/*) continue ;; esac  # the app's own libraries are copied with the app
    mkdir -p "$rootfs$(dirname "$lib")"
    cp -L "$lib" "$rootfs$lib"
  done
}

# docker build, quiet unless it fails (the legacy builder also warns that it is deprecated).
docker_build() {
  local tag="$1" ctx="$2"
  docker build -q -t "$tag" "$ctx" >"$OUT/${tag%%:*}-build.log" 2>&1 || { cat "$OUT/${tag%%:*}-build.log" >&2; exit 1; }
}

base_rootfs() {
  local rootfs="$1"
  mkdir -p "$rootfs/etc" "$rootfs/tmp" "$rootfs/data"
  chmod 1777 "$rootfs/tmp"
  chmod 0777 "$rootfs/data"
  echo 'hosts: files dns' >"$rootfs/etc/nsswitch.conf"
  echo 'root:x:0:0:root:/root:/sbin/nologin' >"$rootfs/etc/passwd"
  echo 'root:x:0:' >"$rootfs/etc/group"
}

build_server() {
  local ctx="$OUT/server"
  rm -rf "$ctx" && mkdir -p "$ctx"
  log "publishing the server (self-contained, linux-x64)"
  dotnet publish "$ROOT/src/Server/Coordination.Server/Coordination.Server.csproj" -c Release -r linux-x64 --self-contained \
    -p:InvariantGlobalization=true -p:UseAppHost=true -o "$ctx/app" -nologo -v q >"$OUT/server-publish.log" 2>&1 \
    || { cat "$OUT/server-publish.log" >&2; exit 1; }
  rm -f "$ctx/app/libcoreclrtraceptprovider.so"
  base_rootfs "$ctx/rootfs"
  copy_libs "$ctx/rootfs" "$ctx/app/Coordination.Server" "$ctx"/app/*.so
  # dlopen()ed by the runtime for TLS and hashing; ldd cannot see them.
  for lib in libssl.so.3 libcrypto.so.3; do
    local path
    path="$(ldconfig -p | awk -v l="$lib" '$1 == l && /x86-64/ { print $NF; exit }')"
    [ -n "$path" ] && { mkdir -p "$ctx/rootfs$(dirname "$path")"; cp -L "$path" "$ctx/rootfs$path"; }
  done
  cat >"$ctx/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY rootfs/ /
COPY app/ /app/
ENV DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 DOTNET_gcServer=0
WORKDIR /data
ENTRYPOINT ["/app/Coordination.Server"]
DOCKERFILE
  log "building coordination-server:test"
  docker_build coordination-server:test "$ctx"
}

build_etcd() {
  local ctx="$OUT/etcd"
  rm -rf "$ctx" && mkdir -p "$ctx/rootfs/usr/bin"
  command -v etcd >/dev/null || { log "etcd not installed (apt-get install etcd-server)"; exit 1; }
  base_rootfs "$ctx/rootfs"
  cp -L "$(command -v etcd)" "$ctx/rootfs/usr/bin/etcd"
  copy_libs "$ctx/rootfs" "$ctx/rootfs/usr/bin/etcd"
  cat >"$ctx/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY rootfs/ /
WORKDIR /data
ENTRYPOINT ["/usr/bin/etcd"]
DOCKERFILE
  log "building coordination-etcd:3.4"
  docker_build coordination-etcd:3.4 "$ctx"
}

mkdir -p "$OUT"
case "$WHAT" in
  all) build_server; build_etcd ;;
  --server-only) build_server ;;
  --etcd-only) build_etcd ;;
  *) echo "usage: $0 [--server-only|--etcd-only]" >&2; exit 2 ;;
esac
log "done"
