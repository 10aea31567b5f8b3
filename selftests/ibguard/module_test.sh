#!/bin/bash
# ibguard.ko loads and unloads cleanly; ibguardctl reads its status, and says
# so clearly when the module is not there.
. "$(dirname "$0")/lib.sh"
tap_plan

rmmod ibguard 2>/dev/null
dmesg -C

out=$($IBGUARDCTL status 2>&1)
expect_eq "status without the module exits 3" 3 $?
expect_eq "status without the module explains and hints" \
	"ibguardctl: the ibguard kernel module is not loaded
Hint: load it with 'modprobe ibguard' (or 'insmod build/ibguard.ko' from the source tree)" "$out"

expect_status "insmod ibguard.ko" 0 insmod "$IBG_MODULES/ibguard.ko"
expect_eq "family ibguard registered" 1 \
	"$(genl ctrl list 2>/dev/null | grep -c '^Name: ibguard$')"

out=$($IBGUARDCTL status 2>&1)
expect_eq "status text" "module version:    0.1.0
protocol version:  1
mode:              enforcing
locked:            no
policy generation: 0
rules:             0
policy memory:     0 bytes
staging memory:    0 bytes
classes available: map
hooks attached:    none
events dropped:    0
audit dropped:     0" "$out"

out=$($IBGUARDCTL status -j 2>&1)
expect_eq "status json" '{
  "schema_version": 1,
  "module_version": "0.1.0",
  "protocol_version": 1,
  "mode": "enforcing",
  "locked": false,
  "generation": 0,
  "rules": 0,
  "memory": 0,
  "staging_memory": 0,
  "available": [
    "map"
  ],
  "hooks": [],
  "events_dropped": 0,
  "audit_dropped": 0
}' "$out"

out=$(setpriv --reuid=65534 --regid=65534 --clear-groups $IBGUARDCTL status 2>&1)
expect_eq "status as an unprivileged user exits 4" 4 $?

expect_status "rmmod ibguard" 0 rmmod ibguard
expect_eq "family gone after rmmod" 0 \
	"$(genl ctrl list 2>/dev/null | grep -c '^Name: ibguard$')"

cycles_ok=1
for _ in 1 2 3 4 5; do
	insmod "$IBG_MODULES/ibguard.ko" && $IBGUARDCTL status >/dev/null &&
		rmmod ibguard || cycles_ok=0
done
expect_eq "five load/status/unload cycles" 1 $cycles_ok
expect_eq "kernel log names the module on each of the six loads" 6 \
	"$(dmesg | grep -c 'ibguard: version 0.1.0 loaded, protocol 1')"
tap_done
