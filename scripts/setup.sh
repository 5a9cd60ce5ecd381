#!/usr/bin/env bash
# Brings a machine to where faultline runs, and does nothing that is already
# done: Debian packages (as root), the Unicorn 2.1.4 engine library from its
# official wheel (into vendor/), npm packages (npm ci), and the TypeScript build.
# Both README commands (npm run demo, npm test) call it first.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "faultline setup: $*" >&2; }

# Debian packages: the 2.0.1 engine (fallback) and its headers (constant checks),
# the assembler and compilers for guest programs, busybox and qemu-user as peers,
# strace as the ground truth of --strace lines, and the real programs the tests
# run natively and under faultline (time, procps, python3, util-linux, ...).
pkgs=(libunicorn2 libunicorn-dev binutils gcc libc6-dev busybox-static qemu-user musl-tools strace
  time procps python3 util-linux bsdutils tar gzip)
missing=()
for p in "${pkgs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then log "missing Debian packages: ${missing[*]} (install them, or run as root)"; exit 1; fi
  log "installing ${missing[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

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

# The TypeScript build (incremental).
npx tsc -p tsconfig.json
