#!/usr/bin/env bash
# Brings a machine to where faultline runs, and does nothing that is already
# done: Debian packages (as root), faultline's own build of Unicorn 2.1.4 from
# the source in third_party/unicorn (into vendor/unicorn-fl), the official 2.1.4
# wheel (into vendor/unicorn, the first fallback), npm packages (npm ci), and the
# TypeScript build.
# Both README commands (npm run demo, npm test) call it first.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "faultline setup: $*" >&2; }

# Debian packages: the 2.0.1 engine (fallback) and its headers (constant checks),
# the assembler and compilers for guest programs, busybox and qemu-user as peers,
# strace as the ground truth of --strace lines, the real programs the tests
# run natively and under faultline (time, procps, python3, util-linux, make, ...),
# and gdb, whose breakpoint hit counts are the ground truth of probe counts.
# cmake, xz-utils and patch build the engine; without them (not root, or no
# package) setup falls back to the wheel instead of stopping.
pkgs=(libunicorn2 libunicorn-dev binutils gcc libc6-dev busybox-static qemu-user musl-tools strace
  time procps python3 util-linux bsdutils tar gzip make gdb)
build_pkgs=(cmake xz-utils patch)
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }
missing=()
for p in "${pkgs[@]}"; do installed "$p" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ] && [ "$(id -u)" != 0 ]; then
  log "missing Debian packages: ${missing[*]} (install them, or run as root)"; exit 1
fi
if [ "$(id -u)" = 0 ]; then for p in "${build_pkgs[@]}"; do installed "$p" || missing+=("$p"); done; fi
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
    || { for p in "${pkgs[@]}"; do installed "$p" || { log "cannot install $p"; exit 1; }; done; }
fi

# faultline's own Unicorn 2.1.4: the pruned source archive plus our patches
# (third_party/unicorn), built with cmake into vendor/unicorn-fl/{lib,include}.
# Rebuilt only when the archive, a patch or the build flags changed (the stamp
# holds their hashes). On any failure the wheel below is used, with one line.
build_engine() {
  local tp=third_party/unicorn dest=vendor/unicorn-fl
  local archive=$tp/unicorn-2.1.4-pruned.tar.xz
  local flags="-DUNICORN_ARCH=x86 -DCMAKE_BUILD_TYPE=Release -DUNICORN_BUILD_TESTS=OFF -DUNICORN_LEGACY_STATIC_ARCHIVE=OFF"
  [ -f "$archive" ] || return 0
  local stamp
  stamp=$( { echo "$flags"; sha256sum "$archive" "$tp"/patches/*.patch 2>/dev/null; } | sha256sum | cut -d' ' -f1)
  [ -f "$dest/lib/libunicorn.so.2" ] && [ "$(cat "$dest/.stamp" 2>/dev/null)" = "$stamp" ] && return 0
  if [ "$(cat "$dest.failed" 2>/dev/null)" = "$stamp" ]; then
    log "not building Unicorn: this source failed to build before (log: $dest.build/build.log; remove $dest.failed to retry); using the 2.1.4 wheel"
    return 0
  fi
  local why=""
  for tool in cmake xz patch cc; do command -v "$tool" >/dev/null || why="$why $tool"; done
  if [ -n "$why" ]; then log "not building Unicorn from third_party/unicorn (missing:$why); using the 2.1.4 wheel"; return 0; fi
  local npatch
  npatch=$( (ls "$tp"/patches/*.patch 2>/dev/null || true) | wc -l)
  local work=$dest.build
  rm -rf "$work" "$dest" && mkdir -p "$work"
  local blog=$PWD/$work/build.log
  local gen=() par=(-j2)
  command -v ninja >/dev/null && gen=(-G Ninja)
  local t0=$SECONDS
  {
    tar -xJf "$archive" -C "$work" &&
      for p in "$tp"/patches/*.patch; do
        [ -f "$p" ] || continue
        echo "applying $p" && patch -p1 -s -t -d "$work/unicorn-2.1.4" < "$p" || exit 1
      done &&
      cmake -S "$work/unicorn-2.1.4" -B "$work/b" "${gen[@]}" $flags -DCMAKE_INSTALL_PREFIX="$PWD/$dest" &&
      cmake --build "$work/b" "${par[@]}" &&
      cmake --install "$work/b"
  } > "$blog" 2>&1 &
  local pid=$! line=""
  while kill -0 "$pid" 2>/dev/null; do
    line=$(grep -oE '^\[ *[0-9]+(/[0-9]+|%)\]' "$blog" 2>/dev/null | tail -1 || true)
    if [ -t 2 ]; then printf '\rfaultline setup: building Unicorn 2.1.4 + %s patches into %s %s %ds ' "$npatch" "$dest" "$line" $((SECONDS - t0)) >&2; fi
    sleep 1
  done
  [ -t 2 ] && printf '\n' >&2
  if wait "$pid" && [ -f "$dest/lib/libunicorn.so.2" ]; then
    echo "$stamp" > "$dest/.stamp"
    for p in "$tp"/patches/*.patch; do [ -f "$p" ] && basename "$p" .patch || true; done > "$dest/patches"
    cp "$blog" "$dest/build.log"
    rm -rf "$work" "$dest.failed"
    log "built Unicorn 2.1.4 + $npatch patches into $dest in $((SECONDS - t0)) s"
  else
    rm -rf "$dest"
    echo "$stamp" > "$dest.failed"
    log "building Unicorn from third_party/unicorn failed (log: $work/build.log); using the 2.1.4 wheel"
  fi
}
build_engine

# Unicorn 2.1.4 from the official wheel; only its libunicorn.so.2 is used.
uc_lib=vendor/unicorn/unicorn/lib/libunicorn.so.2
if [ ! -f "$uc_lib" ]; then
  log "installing the unicorn 2.1.4 wheel into vendor/unicorn"
  py=$(command -v python3 || true)
  if [ -z "$py" ] || ! "$py" -m pip --version >/dev/null 2>&1; then
    [ "$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pip >/dev/null || true
    py=$(command -v python3 || true)
  fi
  if [ -n "$py" ]; then
    "$py" -m pip install --quiet --disable-pip-version-check --target vendor/unicorn unicorn==2.1.4 2>/dev/null \
      || "$py" -m pip install --quiet --disable-pip-version-check --break-system-packages --target vendor/unicorn unicorn==2.1.4 \
      || true
  fi
  [ -f "$uc_lib" ] || log "warning: unicorn 2.1.4 not installed; the system's libunicorn2 (2.0.1) will be used"
fi

# npm packages, when package-lock.json changed since the last install.
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -d node_modules ] || [ "$(cat node_modules/.faultline-lock 2>/dev/null)" != "$lock_sum" ]; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  echo "$lock_sum" > node_modules/.faultline-lock
fi

# The TypeScript build (incremental), then the one-module bundle bin/faultline.mjs runs.
npm run --silent build
