#!/bin/bash
# Host-side tests of scripts/vm-run itself: exit statuses pass through, and a
# guest kernel WARNING or a hung guest fails the run.
. "$(dirname "$0")/lib.sh"
vm_run=$IBG_ROOT/scripts/vm-run
tap_plan

expect_status "vm-run -- true exits 0" 0 "$vm_run" -- true
expect_status "vm-run -- false exits 1" 1 "$vm_run" --quiet -- false

out=$("$vm_run" -- sh -c 'echo "a b"; echo err >&2; id -u; exit 7' 2>/dev/null)
rc=$?
expect_eq "command output and status come back" "a b
err
0
7" "$out
$rc"

out=$("$vm_run" -- insmod "$IBG_MODULES/ibguard_test_warn.ko" 2>&1 >/dev/null)
rc=$?
expect_eq "a guest kernel WARNING fails the run with 120" 120 $rc
case "$out" in
*"vm-run: guest kernel report: "*"cut here"*) tap_ok "the failure names the report" ;;
*) tap_not_ok "the failure names the report" "stderr: $out" ;;
esac

expect_status "a guest that does not finish is killed at --timeout (124)" 124 \
	"$vm_run" --timeout 25 -- sleep 600
tap_done
