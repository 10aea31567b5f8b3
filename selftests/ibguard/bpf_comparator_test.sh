#!/bin/bash
# The benchmark's BPF-LSM comparator makes the decision it claims to make
# (bench/bpf/selftest.sh): a comparison with a program that decides
# something else would be meaningless.
[ -e /sys/kernel/security/lsm ] || mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
if ! grep -qw bpf /sys/kernel/security/lsm 2>/dev/null || [ ! -e /sys/kernel/btf/vmlinux ]; then
	# The debug kernel of make check-debug is built without BTF (its build
	# time); the comparator is the benchmark's, not ibguard's.
	echo "ok 1 - BPF-LSM comparator decides like ibguard # SKIP kernel without the BPF LSM or BTF"
	echo "1..1"
	exit 0
fi
exec "$(dirname "$0")/../../bench/bpf/selftest.sh" "$(dirname "$0")/../../build/bench"
