#!/bin/bash
# Allocation failures during a policy load (fault injection, the debug kernel
# of make check-debug): every allocation a load makes fails in turn and each
# such load fails cleanly, keeping the previous policy whole and leaving no
# staging memory (selftests/ibguard/failload.c).
. "$(dirname "$0")/lib.sh"
tap_plan

if [ ! -d /sys/kernel/debug/failslab ] || [ ! -d /sys/kernel/debug/fail_page_alloc ]; then
	tap_skip "every allocation of a policy load fails in turn, cleanly" \
		"kernel without failslab/fail_page_alloc (make check-debug has them)"
	tap_done
	exit
fi

rmmod ibguard_ib ibguard 2>/dev/null
insmod "$IBG_MODULES/ibguard.ko"
printf '%s\n' "map fs tmpfs prot exec deny uid 4242" "pkey 0x8001 deny uid 4242" |
	$IBGUARDCTL load - >/dev/null

out=$("$IBG_BUILD/selftests/failload" 2>&1)
rc=$?
if [ $rc = 0 ]; then
	tap_ok "every allocation of a policy load fails in turn, cleanly"
	echo "# $out"
else
	tap_not_ok "every allocation of a policy load fails in turn, cleanly" \
		"failload exited $rc" "$out"
fi

# After the faults, loading still works and the module unloads.
expect_status "a load after the faults" 0 $IBGUARDCTL load - <<<"map fs tmpfs prot exec deny uid 4242"
expect_eq "no staging memory" 0 "$($IBGUARDCTL status -j | jq '.staging_memory')"
expect_status "rmmod ibguard" 0 rmmod ibguard
tap_done
