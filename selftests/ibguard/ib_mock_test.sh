#!/bin/bash
# The pkey and endport classes on an InfiniBand link layer: the mock HCA
# (build/mockhca.ko) with two ports, P_Key table 0xffff 0x8001 0x8002 0x0003
# and subnet prefix fe80::. Kernel QPs are driven through the real ib_core
# verbs by qpctl in the calling task's context; infiniband-diags' smpquery
# and perfquery are the real umad clients.
. "$(dirname "$0")/lib.sh"
tap_plan

QPCTL=$IBG_BUILD/selftests/qpctl
work=$(mktemp -d /tmp/ibg-mock.XXXXXX)
chmod 755 "$work"

as() { # UID CMD...
	local uid=$1
	shift
	setpriv --reuid="$uid" --regid="$uid" --clear-groups "$@"
}

load() {
	printf '%s\n' "$@" >"$work/policy.conf"
	$IBGUARDCTL load "$work/policy.conf" >/dev/null
}

# qp UID STEPS...: qpctl's last line ("step: ok" or "step: EACCES ...").
qp() {
	local uid=$1
	shift
	as "$uid" "$QPCTL" "$@" 2>&1 | tail -n 1 | cut -d' ' -f1-2
}

rmmod ibguard_ib ibguard mockhca 2>/dev/null
modprobe -a ib_core ib_umad
insmod "$IBG_MODULES/mockhca.ko"
insmod "$IBG_MODULES/ibguard.ko"
insmod "$IBG_MODULES/ibguard_ib.ko"

# --- pkey: RESET->INIT ------------------------------------------------------
load "pkey 0x8001 deny uid 1000"
expect_eq "P_Key 0x8001 denied for uid 1000 at INIT" "init: EACCES" \
	"$(qp 1000 create rc 1 init 1 1)"
expect_eq "P_Key 0x8001 allowed for uid 1001" "init: ok" "$(qp 1001 create rc 1 init 1 1)"
expect_eq "P_Key 0x8002 allowed for uid 1000" "init: ok" "$(qp 1000 create rc 1 init 1 2)"
expect_eq "a full RESET->INIT->RTR->RTS with an allowed P_Key" "rts: ok" \
	"$(qp 1000 create rc 1 init 1 2 rtr rts)"
expect_eq "UD QPs are checked too" "init: EACCES" "$(qp 1000 create ud 1 init 1 1)"

out=$(as 1000 "$QPCTL" -k create rc 1 init 1 0 pkey 1 query 2>&1)
expect_eq "changing only the P_Key index is checked" 1 "$(grep -c '^pkey: EACCES' <<<"$out")"
expect_eq "a denied QP keeps its state and P_Key index" 1 \
	"$(grep -c 'state=init port=1 pkey_index=0' <<<"$out")"

load "pkey 0x8000-0x80ff subnet fe80:: deny uid 1000"
expect_eq "range with the port's subnet prefix denies" "init: EACCES" "$(qp 1000 create rc 1 init 1 2)"
load "pkey 0x8000-0x80ff subnet fe80::1 deny uid 1000"
expect_eq "range with another subnet prefix does not apply" "init: ok" "$(qp 1000 create rc 1 init 1 2)"

# Port 2 gets its own table so that the port alone decides.
"$QPCTL" setpkeys 2 0xffff,0x8005 >/dev/null
load "pkey 0x8005 deny uid 1000"
expect_eq "changing only the port is checked against the resulting pair" "port: EACCES" \
	"$(qp 1000 create rc 1 init 1 1 port 2)"
expect_eq "the alternate path is checked" "alt: EACCES" "$(qp 1000 create rc 1 init 1 1 alt 2 1)"
expect_eq "an allowed alternate path passes" "alt: ok" "$(qp 1000 create rc 1 init 1 1 alt 2 0)"
"$QPCTL" setpkeys 2 0xffff,0x8001,0x8002,0x0003 >/dev/null

# An empty slot names no partition: refused as upstream refuses it, whatever
# the policy says (revalidation cuts off a QP whose slot is emptied).
"$QPCTL" setpkeys 2 0xffff,0x0000,0x8000 >/dev/null
load "pkey any allow"
expect_eq "a P_Key index to an empty slot (0x0000) is refused" "init: EINVAL" \
	"$(qp 1000 create rc 2 init 2 1)"
expect_eq "a P_Key index to an empty slot (0x8000) is refused" "init: EINVAL" \
	"$(qp 1000 create rc 2 init 2 2)"
expect_eq "a P_Key index past the table is refused" "init: EINVAL" \
	"$(qp 1000 create rc 2 init 2 4)"
"$QPCTL" setpkeys 2 0xffff,0x8001,0x8002,0x0003 >/dev/null

# Drivers' own QPs (IB_QPT_RESERVED1 and up, mlx5's UMR QP) are set up by
# the driver for the whole device: never decided, never followed.
load "pkey any deny uid 1000"
expect_eq "a driver's own QP type is not decided" "init: ok" "$(qp 1000 create driver 1 init 1 1)"
expect_eq "the same request on an RC QP is" "init: EACCES" "$(qp 1000 create rc 1 init 1 1)"

# --- defaults, first match, management QPs ----------------------------------
load "default pkey deny" "pkey 0xffff allow" "pkey 0x8001 allow group nogroup"
expect_eq "default deny: the default partition allowed" "init: ok" "$(qp 1000 create rc 1 init 1 0)"
expect_eq "default deny: other partitions refused" "init: EACCES" "$(qp 1000 create rc 1 init 1 2)"
expect_eq "an allow rule for a group" "init: ok" \
	"$(setpriv --reuid=1000 --regid=65534 --clear-groups "$QPCTL" create rc 1 init 1 1 2>&1 |
		tail -n 1 | cut -d' ' -f1-2)"
expect_status "management QPs are never checked: smpquery works" 0 \
	smpquery -C mock0 -P 1 nodeinfo 1

# --- membership bit, subjects, order, permissive, stats, events --------------
"$QPCTL" setpkeys 1 0xffff,0x8001,0x0001 >/dev/null
load "pkey 0x8001 deny uid 1000"
expect_eq "membership bit: 0x8001 (full) denied" "init: EACCES" "$(qp 1000 create rc 1 init 1 1)"
expect_eq "membership bit: 0x0001 (limited) is another value" "init: ok" "$(qp 1000 create rc 1 init 1 2)"
"$QPCTL" setpkeys 1 0xffff,0x8001,0x8002,0x0003 >/dev/null

mkdir -p /sys/fs/cgroup/ibgmock/t
load "pkey 0x8001 deny cgroup /ibgmock"
expect_eq "cgroup subject: a task below the cgroup is denied" "init: EACCES" \
	"$(sh -c 'echo $$ >/sys/fs/cgroup/ibgmock/t/cgroup.procs && exec "$@"' sh \
		"$QPCTL" create rc 1 init 1 1 2>&1 | tail -n 1 | cut -d' ' -f1-2)"
expect_eq "cgroup subject: other tasks are not" "init: ok" "$(qp 0 create rc 1 init 1 1)"
rmdir /sys/fs/cgroup/ibgmock/t /sys/fs/cgroup/ibgmock

cp "$QPCTL" "$work/qpctl-denied"
load "pkey 0x8001 deny exe $work/qpctl-denied"
expect_eq "exe subject: that executable is denied" "init: EACCES" \
	"$("$work/qpctl-denied" create rc 1 init 1 1 2>&1 | tail -n 1 | cut -d' ' -f1-2)"
expect_eq "exe subject: another executable is not" "init: ok" "$(qp 0 create rc 1 init 1 1)"

load "pkey 0x8001 allow uid 1000" "pkey 0x8000-0x80ff deny"
expect_eq "first match: an earlier allow wins" "init: ok" "$(qp 1000 create rc 1 init 1 1)"
expect_eq "first match: the later deny for the others" "init: EACCES" "$(qp 1001 create rc 1 init 1 1)"

$IBGUARDCTL stats reset >/dev/null
$IBGUARDCTL mode permissive >/dev/null
expect_eq "permissive: a denied P_Key goes through" "rts: ok" "$(qp 1001 create rc 1 init 1 1 rtr rts)"
$IBGUARDCTL mode enforcing >/dev/null
monitor_start 20 "$work/events" -j -n 1
qp 1001 create rc 1 init 1 2 >/dev/null
wait $monitor
expect_eq "monitor: device, port, P_Key and subnet of the denial" \
	"denied pkey modify_qp 2 1001 mock0 1 0x8002 fe80:0000:0000:0000" \
	"$(jq -r '"\(.type) \(.class) \(.operation) \(.rule) \(.uid) \(.device) \(.port) \(.pkey) \(.subnet)"' "$work/events")"
json=$($IBGUARDCTL stats -j --rules)
expect_eq "stats: would-deny 1, denied 1, allowed 0, rule 2 hit twice" "1 1 0 2" \
	"$(jq -r '"\(.classes.pkey.would_deny) \(.classes.pkey.denied) \(.classes.pkey.allowed) \(.rules[1].hits)"' <<<"$json")"

# --- unloading while QPs exist and tools run --------------------------------
load "pkey 0x8001 deny uid 1000"
mkfifo "$work/hold"
"$QPCTL" create rc 1 init 1 2 create ud 1 init 1 0 wait <"$work/hold" >/dev/null 2>&1 &
holder=$!
exec 7>"$work/hold"
(for _ in $(seq 30); do qp 1000 create rc 1 init 1 1 >/dev/null; done) &
looper=$!
sleep 1
expect_status "rmmod ibguard_ib while QPs exist and qpctl loops" 0 rmmod ibguard_ib
wait $looper
echo >&7
exec 7>&-
wait $holder
expect_eq "QPs set up under ibguard are destroyed cleanly after it left" 0 $?
expect_status "ibguard_ib loads again" 0 insmod "$IBG_MODULES/ibguard_ib.ko"
load "pkey 0x8001 deny uid 1000"
expect_eq "and enforces again" "init: EACCES" "$(qp 1000 create rc 1 init 1 1)"

# --- GSI MADs from umad agents ----------------------------------------------
load "pkey 0xffff deny uid 0"
expect_status "a umad GSI MAD with a denied P_Key is not sent (perfquery fails)" 1 \
	sh -c 'perfquery -C mock0 -P 1 1 1 >/dev/null 2>&1 && exit 0 || exit 1'
load "pkey 0xffff deny uid 4242"
expect_status "the same MAD for another task is sent" 0 perfquery -C mock0 -P 1 1 1

# --- endport ----------------------------------------------------------------
load "endport mock0 1 deny uid 0"
monitor_start 20 "$work/events" -j -n 1
expect_status "SMI agent registration on a denied port fails" 1 \
	sh -c 'smpquery -C mock0 -P 1 nodeinfo 1 >/dev/null 2>&1 && exit 0 || exit 1'
wait $monitor
expect_eq "the endport denial reaches the monitor" "denied endport register_smi_agent mock0 1 0" \
	"$(jq -r '"\(.type) \(.class) \(.operation) \(.device) \(.port) \(.uid)"' "$work/events")"
expect_status "the other port is not affected" 0 smpquery -C mock0 -P 2 nodeinfo 2

# The umad device nodes are root's; open them to two test users.
chmod 666 /dev/infiniband/umad*
load "endport mock0 * deny uid 1000"
expect_status "smpquery refused for a denied user" 1 \
	sh -c 'setpriv --reuid=1000 --regid=1000 --clear-groups \
		smpquery -C mock0 -P 1 nodeinfo 1 >/dev/null 2>&1 && exit 0 || exit 1'
expect_status "smpquery works for another user" 0 as 1001 smpquery -C mock0 -P 1 nodeinfo 1
expect_status "ibaddr gets a real answer from the mock HCA" 0 ibaddr -C mock0 -P 1
chmod 600 /dev/infiniband/umad*

load "endport * * allow uid 1000" "endport * * deny"
expect_status "endport * * deny covers every port" 1 \
	sh -c 'smpquery -C mock0 -P 2 nodeinfo 2 >/dev/null 2>&1 && exit 0 || exit 1'
rmmod mockhca
expect_status "ib_core's own SMI agents are never denied: the device comes back" 0 \
	insmod "$IBG_MODULES/mockhca.ko"
expect_eq "ibstat reads the re-registered device" 2 "$(ibstat mock0 | grep -c 'State: Active')"

$IBGUARDCTL flush >/dev/null
expect_status "after flush smpquery works again" 0 smpquery -C mock0 -P 1 nodeinfo 1

expect_status "rmmod ibguard_ib" 0 rmmod ibguard_ib
expect_status "rmmod ibguard" 0 rmmod ibguard
expect_status "rmmod mockhca" 0 rmmod mockhca
rm -rf "$work"
tap_done
