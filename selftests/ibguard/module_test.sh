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
  "followed": null,
  "events_dropped": 0,
  "audit_dropped": 0
}' "$out"

out=$(setpriv --reuid=65534 --regid=65534 --clear-groups $IBGUARDCTL status 2>&1)
expect_eq "status as an unprivileged user exits 4" 4 $?

# A policy dump that a load interrupts is flagged NLM_F_DUMP_INTR (so that
# the reader retries), also when it began before any policy was loaded: the
# first message built after the load carries the flag (the kernel flags
# where the sequence changed, readers keep it for the whole dump).
printf '%s\n' "map path /etc/passwd deny uid 4242" "map path /etc/group deny uid 4242" \
	>/tmp/ibg-module-dump.conf
expect_eq "a dump begun without a policy and read after a load is flagged interrupted" \
	"header rule:intr rule done" \
	"$("$IBG_ROOT/selftests/ibguard/dump_intr.py" $IBGUARDCTL /tmp/ibg-module-dump.conf 2>&1)"
rm -f /tmp/ibg-module-dump.conf

# The memory figures count what is allocated. A rule adds its source text
# (strlen + 1: 23 bytes for "map chardev 250:N deny") to a staging that
# has room for it, as a rule whose source attribute has 1000 bytes after
# its NUL does (only the string is kept); to a policy, also its chardev
# index entry (8 bytes). The rules array is counted whole, once.
expect_eq "a rule adds what it allocates to the staging and policy memory" \
	"staging +23 +23 policy +31 +31" \
	"$("$IBG_ROOT/selftests/ibguard/memory_figures.py" 2>&1)"

# Closing a generic netlink socket that began no load does not wait for
# ibguard's lock, which a load holds while it parses each message of rules
# and a commit while it builds the policy and waits for a grace period:
# during a 30,000-rule load (its commit alone holds the lock for about
# 60-75 ms) no close of another socket sleeps 20 ms. What
# is measured is the time asleep: under TCG a close's wall time also holds
# the other vCPU's turns (up to 100 ms), and a close may still sleep for
# microseconds on netlink's own table lock.
out=$("$IBG_ROOT/selftests/ibguard/close_latency.py" 30000 2>&1)
echo "# unrelated socket closes during a 30,000-rule load: $out"
slept=$(grep -o 'max_slept_ms=[0-9-]*' <<<"$out" | cut -d= -f2)
expect_eq "closing unrelated netlink sockets does not wait for a load" yes \
	"$([ -n "$slept" ] && [ "$slept" -lt 20 ] && echo yes || echo "$out")"

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

# A kernel without an attach point the module needs: require one that no
# kernel has.
out=$(insmod "$IBG_MODULES/ibguard.ko" require_function=ibguard_no_such_function 2>&1)
expect_eq "a missing attach point: the module refuses to load" "1 no" \
	"$? $([ -d /sys/module/ibguard ] && echo yes || echo no)"
expect_eq "with one kernel log line naming it" 1 \
	"$(dmesg | grep -F "ibguard: not loading: kernel $(uname -r) has no traceable ibguard_no_such_function() to attach to (-" |
		grep -c ')$')"
expect_status "and loads without the requirement" 0 insmod "$IBG_MODULES/ibguard.ko"

# The same for ib_core: the InfiniBand classes stay out, ib_core goes on.
modprobe ib_core
out=$(insmod "$IBG_MODULES/ibguard_ib.ko" require_function=ib_no_such_function 2>&1)
expect_eq "a missing ib_core attach point: ibguard_ib stays out" "1 no" \
	"$? $([ -d /sys/module/ibguard_ib ] && echo yes || echo no)"
expect_eq "the log says which and what it means" 1 \
	"$(dmesg | grep -Ec "ibguard_ib: pkey and endport are unavailable: this ib_core has no traceable ib_no_such_function\(\) to attach to \(-[0-9]+\)$")"
expect_eq "status shows map alone available" '["map"]' "$($IBGUARDCTL status -j | jq -c .available)"
expect_status "ib_core goes on: rdma_rxe loads and a device comes up" 0 \
	sh -c 'modprobe rdma_rxe && ip link add ibgmod0 type dummy && rdma link add rxemod0 type rxe netdev ibgmod0 && rdma link delete rxemod0 && ip link delete ibgmod0'
modprobe -r rdma_rxe ib_core 2>/dev/null

# --- events outlive ibguard_ib ----------------------------------------------------
# Denials are reported by a work item of ibguard.ko after the hook returned;
# what it reports must not point into ibguard_ib.ko (the operation name),
# which may be unloaded first. Bursts of denials on the mock HCA, each
# followed at once by rmmod ibguard_ib: every event arrives whole.
work=$(mktemp -d /tmp/ibg-module.XXXXXX)
modprobe -a ib_core ib_umad
insmod "$IBG_MODULES/mockhca.ko"
insmod "$IBG_MODULES/ibguard_ib.ko"
printf 'pkey 0x8001 deny uid 1000\n' >"$work/policy.conf"
$IBGUARDCTL load "$work/policy.conf" >/dev/null 2>&1
rounds=10 burst=8
steps=(create rc 1)
for _ in $(seq $burst); do steps+=(init 1 1); done
monitor_start 300 "$work/events" -j -n $((rounds * burst))
denied=0 reloaded=0
for _ in $(seq $rounds); do
	n=$(setpriv --reuid=1000 --regid=1000 --clear-groups \
		"$IBG_BUILD/selftests/qpctl" -k "${steps[@]}" 2>&1 | grep -c '^init: EACCES')
	denied=$((denied + n))
	rmmod ibguard_ib && insmod "$IBG_MODULES/ibguard_ib.ko" && reloaded=$((reloaded + 1))
done
wait $monitor
expect_eq "bursts of denials, each followed by rmmod ibguard_ib" \
	"$((rounds * burst)) denials, $rounds reloads" "$denied denials, $reloaded reloads"
expect_eq "every event arrives with its operation, none dropped" \
	"$((rounds * burst)) denied pkey modify_qp 1000 0" \
	"$(jq -r '"\(.type) \(.class) \(.operation) \(.uid)"' "$work/events" | sort | uniq -c |
		awk '{ $1 = $1; print }') $($IBGUARDCTL status -j | jq .events_dropped)"
rmmod ibguard_ib mockhca
rmmod ibguard
modprobe -r ib_umad ib_core 2>/dev/null
rm -rf "$work"
tap_done
