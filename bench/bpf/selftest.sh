#!/bin/bash
# Checks the BPF-LSM comparator (map_guard) end to end. Run as root in the
# guest (BPF LSM active), e.g. from the repository:
#
#   scripts/vm-run --timeout 300 -- bench/bpf/selftest.sh [BUILDDIR]
#
# BUILDDIR holds a built map_guard and map_guard.bpf.o (e.g. build/bench);
# without it, they are built into a temporary directory with build.sh.
# Prints "ok N - ..." or "not ok N - ..." per assertion; exits 1 if any
# failed, 2 if the test could not run.
set -uo pipefail
src=$(dirname "$(readlink -f "$0")")
n=0 failed=0
loader_pid=""

bail() {
	echo "Bail out! $*"
	exit 2
}

check() { # description expected actual
	n=$((n + 1))
	if [ "$2" = "$3" ]; then
		echo "ok $n - $1"
	else
		echo "not ok $n - $1 (expected '$2', got '$3')"
		failed=$((failed + 1))
	fi
}

[ "$(id -u)" = 0 ] || bail "must run as root (in the guest)"
work=$(mktemp -d /tmp/map_guard_selftest.XXXXXX) || bail "mktemp failed"
cleanup() {
	if [ -n "$loader_pid" ]; then
		kill "$loader_pid" 2>/dev/null
		wait "$loader_pid" 2>/dev/null
	fi
	if [ -n "${blockdev:-}" ]; then
		umount "$work/mnt"
	fi
	if [ -n "${loopdev:-}" ]; then
		losetup -d "$loopdev"
	fi
	rm -rf "$work"
}
trap cleanup EXIT
chmod 755 "$work"

if [ $# -ge 1 ]; then
	bin=$(readlink -f "$1")
	if [ ! -x "$bin/map_guard" ] || [ ! -f "$bin/map_guard.bpf.o" ]; then
		bail "$bin has no map_guard and map_guard.bpf.o"
	fi
else
	bin=$work/bin
	"$src/build.sh" "$bin" >"$work/build.log" 2>&1 ||
		bail "build.sh failed: $(cat "$work/build.log")"
fi
cc -O2 -Wall -Wextra -Werror -o "$work/mmap_probe" "$src/mmap_probe.c" ||
	bail "cannot build mmap_probe"

if [ ! -e /sys/kernel/security/lsm ]; then
	mount -t securityfs securityfs /sys/kernel/security ||
		bail "cannot mount securityfs"
fi
lsms=$(cat /sys/kernel/security/lsm)
echo "# active LSMs: $lsms"
check "bpf is an active LSM" yes "$(tr , '\n' </sys/kernel/security/lsm | grep -qx bpf && echo yes || echo no)"

# probe UID OP [FILE]: prints OK or the errno name.
probe() {
	local uid=$1
	shift
	if [ "$uid" = 0 ]; then
		"$work/mmap_probe" "$@"
	else
		setpriv --reuid="$uid" --regid="$uid" --clear-groups "$work/mmap_probe" "$@"
	fi
}

denied=$work/denied allowed=$work/allowed other=$work/other
for f in "$denied" "$allowed" "$other"; do
	{ head -c 4096 /dev/zero >"$f" && chmod 666 "$f"; } || bail "cannot create $f"
done
cat >"$work/keys" <<EOF
# deny PROT_WRITE mappings of denied to uid 1000
$denied 2 1000 1000 1
# an explicit allow entry
$allowed 2 1000 1000 0
EOF
nkeys=2

# A file on a block device (loop, major 7), where stat's st_dev encoding
# differs from the kernel's sb->s_dev: checks the loader's conversion.
blockdev=""
mkdir "$work/mnt" || bail "cannot create $work/mnt"
modprobe -q loop 2>/dev/null
modprobe -q ext4 2>/dev/null
loopdev=""
if truncate -s 16M "$work/ext4.img" &&
	mkfs.ext4 -q -F "$work/ext4.img" 2>"$work/mount.err" &&
	loopdev=$(losetup -f --show "$work/ext4.img" 2>"$work/mount.err") &&
	mount -t ext4 "$loopdev" "$work/mnt" 2>"$work/mount.err"; then
	blockdev=$work/mnt/denied
	{ head -c 4096 /dev/zero >"$blockdev" && chmod 666 "$blockdev"; } ||
		bail "cannot create $blockdev"
	echo "# $blockdev: st_dev $(stat -c '%Hd:%Ld' "$blockdev")"
	echo "$blockdev 2 1000 1000 1" >>"$work/keys"
	nkeys=3
else
	echo "# no loop-mounted ext4: $(cat "$work/mount.err" 2>/dev/null)"
fi

# A key file naming a missing path: a clear error, exit 1.
echo "$work/missing 2 0 0 1" >"$work/bad-keys"
"$bin/map_guard" "$bin/map_guard.bpf.o" "$work/bad-keys" >"$work/bad.out" 2>&1
check "loader exits 1 on a missing path" 1 $?
check "loader names the missing path" yes "$(grep -q "cannot stat $work/missing: No such file or directory" "$work/bad.out" && echo yes || echo no)"
echo "# loader: $(cat "$work/bad.out")"

# Two lines for one inode cannot be expressed by one hash entry: an error.
printf '%s 2 0 0 1\n%s 4 0 0 1\n' "$denied" "$denied" >"$work/dup-keys"
"$bin/map_guard" "$bin/map_guard.bpf.o" "$work/dup-keys" >"$work/dup.out" 2>&1
check "loader exits 1 on two entries for one file" 1 $?
echo "# loader: $(cat "$work/dup.out")"

# Before the loader: nothing is denied.
check "before: uid 1000 mmap RW shared of denied" OK "$(probe 1000 mmap-rw "$denied")"

"$bin/map_guard" "$bin/map_guard.bpf.o" "$work/keys" >"$work/loader.out" 2>&1 &
loader_pid=$!
for _ in $(seq 600); do
	grep -q '^map_guard: ready' "$work/loader.out" && break
	kill -0 "$loader_pid" 2>/dev/null || break
	sleep 0.1
done
echo "# loader: $(cat "$work/loader.out")"
check "loader is ready with $nkeys entries" "map_guard: ready $nkeys entries" "$(head -n1 "$work/loader.out")"

check "uid 1000 mmap RW shared of denied" EACCES "$(probe 1000 mmap-rw "$denied")"
check "uid 1000 mprotect R->RW of denied" EACCES "$(probe 1000 mprotect-rw "$denied")"
check "uid 1000 mmap R shared of denied (not in prot mask)" OK "$(probe 1000 mmap-r "$denied")"
check "uid 0 mmap RW shared of denied (uid out of range)" OK "$(probe 0 mmap-rw "$denied")"
check "uid 0 mprotect R->RW of denied" OK "$(probe 0 mprotect-rw "$denied")"
check "uid 1001 mmap RW shared of denied (uid out of range)" OK "$(probe 1001 mmap-rw "$denied")"
if [ -n "$blockdev" ]; then
	check "uid 1000 mmap RW shared of a file on ext4 on loop" EACCES "$(probe 1000 mmap-rw "$blockdev")"
else
	n=$((n + 1))
	echo "ok $n - uid 1000 mmap RW shared of a file on ext4 on loop # SKIP no loop device"
fi
check "ruid 0, euid 1000: mmap RW shared of denied (effective uid decides)" EACCES \
	"$(setpriv --euid=1000 "$work/mmap_probe" mmap-rw "$denied")"
check "ruid 1000, euid 0: mmap RW shared of denied" OK \
	"$(setpriv --ruid=1000 --euid=0 "$work/mmap_probe" mmap-rw "$denied")"
check "uid 1000 mmap RW shared of allowed (allow verdict)" OK "$(probe 1000 mmap-rw "$allowed")"
check "uid 1000 mmap RW shared of other (no entry)" OK "$(probe 1000 mmap-rw "$other")"
check "uid 1000 anonymous mmap RW" OK "$(probe 1000 anon-rw)"

kill -TERM "$loader_pid"
wait "$loader_pid"
check "loader exits 0 on SIGTERM" 0 $?
loader_pid=""

check "after: uid 1000 mmap RW shared of denied" OK "$(probe 1000 mmap-rw "$denied")"
check "after: uid 1000 mprotect R->RW of denied" OK "$(probe 1000 mprotect-rw "$denied")"

echo "# $((n - failed))/$n passed"
[ $failed = 0 ]
