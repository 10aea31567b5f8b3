#!/bin/bash
# Runs the in-guest test suite (as root, inside scripts/vm-run) and prints
# TAP. Each test program prints its own TAP lines; a program that exits
# non-zero without reporting a failure gets a "not ok" line of its own.
#
# usage: selftests/ibguard/run.sh [TEST...]
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$here/../.." && pwd)/build

# name:setup, where setup is "none" (the test manages the module itself) or
# "module" (ibguard.ko loaded around it).
all_tests=(
	module_test.sh:none
	status_test:module
	policy_test:module
	map_test.sh:none
	stress_test.sh:none
	ib_rxe_test.sh:none
	mockhca_test.sh:none
	ib_mock_test.sh:none
	revoke_test.sh:none
	audit_test.sh:none
	load_order_test.sh:none
	unit_test.sh:none
	bpf_comparator_test.sh:none
	priv_test.sh:none
	nl_fuzz_test.sh:none
	race_test.sh:none
	failload_test.sh:none
	# Locks the module until reboot: keep it after every test that unloads.
	offswitch_test.sh:none
	# Reports what kmemleak found since the start: last.
	kmemleak_test.sh:none
)

selected=("$@")
status=0
# What kmemleak suspects before the suite (boot) is not the suite's doing.
if [ -w /sys/kernel/debug/kmemleak ]; then
	echo scan >/sys/kernel/debug/kmemleak
	echo clear >/sys/kernel/debug/kmemleak
fi
for entry in "${all_tests[@]}"; do
	name=${entry%%:*}
	setup=${entry#*:}
	if [ ${#selected[@]} -gt 0 ] && ! printf '%s\n' "${selected[@]}" | grep -qx "$name"; then
		continue
	fi
	case "$name" in
	*.sh) prog=("$here/$name") ;;
	*) prog=("$build/selftests/$name") ;;
	esac
	echo "# selftests: ibguard: $name"
	if [ "$setup" = module ]; then
		insmod "${IBG_MODULES:-$build}/ibguard.ko" || echo "# insmod ibguard.ko failed"
	fi
	log=$(mktemp)
	started=$SECONDS
	"${prog[@]}" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	echo "# $name took $((SECONDS - started)) s"
	if [ "$setup" = module ]; then
		rmmod ibguard || { echo "not ok - $name: rmmod ibguard after the test"; status=1; }
	fi
	if [ "$rc" != 0 ]; then
		status=1
		grep -q '^not ok' "$log" || echo "not ok - $name exited $rc"
	fi
	rm -f "$log"
done
exit $status
