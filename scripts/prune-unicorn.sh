#!/usr/bin/env bash
# Reproduces third_party/unicorn/unicorn-2.1.4-pruned.tar.xz from Unicorn's
# public repository: tag 2.1.4, commit 8028ec436f2d9376525352dd38ed9ed6b9f6be10,
# pruned to what an x86-64-only build on an x86-64 host needs.
#
#   scripts/prune-unicorn.sh GIT_DIR [OUT]
#
# GIT_DIR is a clone of https://github.com/unicorn-engine/unicorn (bare or not);
# OUT defaults to third_party/unicorn/unicorn-2.1.4-pruned.tar.xz. The archive is
# byte-for-byte reproducible (sorted names, fixed mtime/owner, single-threaded xz).
#
# Kept: the top-level build (CMakeLists.txt, cmake/, uc.c, list.c, glib_compat/,
# include/), QEMU's core (accel, exec, fpu, softmmu, tcg core, util, crypto,
# hw/core, hw/i386, include/), the x86 target (qemu/target/i386), the x86-64
# host's TCG back end (qemu/tcg/i386), and every other target's unicorn.h,
# which uc.c includes whatever UNICORN_ARCH says. Removed: language bindings,
# tests, samples, docs, other build systems (Rust, Zig, Go, MSVC), CI files,
# the other targets' sources, their hw/ models and symbol-renaming headers,
# libdecnumber (PowerPC only), and the other hosts' TCG back ends.
set -euo pipefail
commit=8028ec436f2d9376525352dd38ed9ed6b9f6be10
git_dir=${1:?usage: prune-unicorn.sh GIT_DIR [OUT]}
here=$(cd "$(dirname "$0")/.." && pwd)
out=${2:-$here/third_party/unicorn/unicorn-2.1.4-pruned.tar.xz}
case $out in /*) ;; *) out=$PWD/$out ;; esac

got=$(git --git-dir="$git_dir" rev-parse "2.1.4^{commit}" 2>/dev/null || git --git-dir="$git_dir" rev-parse "v2.1.4^{commit}")
[ "$got" = "$commit" ] || { echo "prune-unicorn: tag 2.1.4 is $got in $git_dir, want $commit" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
src=$work/unicorn-2.1.4
mkdir "$src"
git --git-dir="$git_dir" archive "$commit" | tar -x -C "$src"

cd "$src"
rm -rf .github bindings tests samples docs msvc \
  Cargo.toml build.rs build.zig build.zig.zon go.mod format.sh symbols.sh .clang-format .gitmodules \
  qemu/libdecnumber qemu/include/libdecnumber qemu/hw/ppc qemu/hw/s390x \
  qemu/MAINTAINERS qemu/CODING_STYLE.rst qemu/.editorconfig
for t in qemu/target/*/; do
  [ "$t" = qemu/target/i386/ ] && continue
  find "$t" -type f ! -name unicorn.h -delete
  find "$t" -depth -type d -empty -delete
done
for b in qemu/tcg/*/; do [ "$b" = qemu/tcg/i386/ ] || rm -rf "$b"; done
for h in aarch64 arm m68k mips mips64 mips64el mipsel ppc ppc64 riscv32 riscv64 s390x sparc sparc64 tricore; do
  rm -f "qemu/$h.h"
done

mtime=$(git --git-dir="$git_dir" log -1 --format=%cI "$commit")
mkdir -p "$(dirname "$out")"
tar -C "$work" --sort=name --mtime="$mtime" --owner=0 --group=0 --numeric-owner \
  --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime -cf - unicorn-2.1.4 \
  | xz -9e -T1 > "$out"
echo "prune-unicorn: wrote $out ($(stat -c %s "$out") bytes, $(tar -tJf "$out" | grep -vc '/$') files)" >&2
