#!/bin/bash
# Builds the BPF-LSM comparator: OUTDIR/map_guard.bpf.o (the BPF LSM
# programs, CO-RE, no vmlinux.h needed) and OUTDIR/map_guard (the libbpf
# loader).
#
# usage: bench/bpf/build.sh OUTDIR
set -euo pipefail
[ $# = 1 ] || { echo "usage: ${0##*/} OUTDIR" >&2; exit 2; }
src=$(dirname "$(readlink -f "$0")")
out=$1
mkdir -p "$out"
set -x
clang -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/x86_64-linux-gnu \
	-c -o "$out/map_guard.bpf.o" "$src/map_guard.bpf.c"
cc -O2 -g -Wall -Wextra -Werror -o "$out/map_guard" "$src/map_guard.c" -lbpf
