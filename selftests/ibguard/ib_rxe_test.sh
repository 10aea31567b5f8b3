#!/bin/bash
# The pkey class on rdma_rxe (soft-RoCE over a veth pair) with rdma-core's
# ibv_rc_pingpong as the real client. RoCE ports are decided only with
# "option pkey-on-roce yes", as upstream skips non-InfiniBand link layers.
. "$(dirname "$0")/lib.sh"
tap_plan

work=$(mktemp -d /tmp/ibg-rxe.XXXXXX)
chmod 755 "$work"
modprobe rdma_rxe && modprobe ib_uverbs || { echo "Bail out! cannot load rdma_rxe"; exit 1; }
rxe_pair ibgveth ibgrxe 10.99.0

rmmod ibguard_ib ibguard 2>/dev/null
expect_status "ibguard_ib needs ibguard" 1 insmod "$IBG_MODULES/ibguard_ib.ko"
insmod "$IBG_MODULES/ibguard.ko"
expect_status "ibguard_ib loads as an ib_core client" 0 insmod "$IBG_MODULES/ibguard_ib.ko"
expect_status "ibguard cannot go while ibguard_ib uses it" 1 rmmod ibguard

load() {
	printf '%s\n' "$@" >"$work/policy.conf"
	$IBGUARDCTL load "$work/policy.conf" >/dev/null
}

# pingpong UID: a server on ibgrxe0 and a client on ibgrxe1, both as UID.
# Prints the server's verdict line, then the client's.
pingpong() {
	local uid=$1
	setpriv --reuid="$uid" --regid="$uid" --clear-groups \
		timeout 30 ibv_rc_pingpong -d ibgrxe0 -g 0 -n 3 >"$work/server" 2>&1 &
	local server=$!
	sleep 1
	setpriv --reuid="$uid" --regid="$uid" --clear-groups \
		timeout 30 ibv_rc_pingpong -d ibgrxe1 -g 0 -n 3 10.99.0.1 >"$work/client" 2>&1
	local client=$?
	wait $server
	local srv=$?
	echo "server=$srv $(grep -c 'iters in' "$work/server") client=$client"
}

expect_eq "no policy: pingpong runs" "server=0 1 client=0" "$(pingpong 1000)"

load "pkey 0xffff deny uid 1000"
expect_eq "pkey hooks attached for pkey rules" '["pkey","endport"]' \
	"$($IBGUARDCTL status -j | jq -c .hooks)"
expect_eq "RoCE ports are not checked without pkey-on-roce" "server=0 1 client=0" "$(pingpong 1000)"

load "option pkey-on-roce yes" "pkey 0xffff deny uid 1000"
$IBGUARDCTL stats reset >/dev/null
monitor_start 20 "$work/events" -j -n 1
out=$(setpriv --reuid=1000 --regid=1000 --clear-groups timeout 60 ibv_rc_pingpong -d ibgrxe0 -g 0 -n 3 2>&1)
expect_eq "denied P_Key: ibv_modify_qp to INIT fails" "1 Failed to modify QP to INIT" "$? $out"
wait $monitor
expect_eq "the denial reaches the monitor" "denied pkey modify_qp 1 1000 ibgrxe0 1 0xffff" \
	"$(jq -r '"\(.type) \(.class) \(.operation) \(.rule) \(.uid) \(.device) \(.port) \(.pkey)"' "$work/events")"
expect_eq "another uid still runs pingpong" "server=0 1 client=0" "$(pingpong 1001)"
json=$($IBGUARDCTL stats -j --rules)
expect_eq "stats: one denial, two allowed QP setups, one rule hit" "1 2 1" \
	"$(jq -r '"\(.classes.pkey.denied) \(.classes.pkey.allowed) \(.rules[0].hits)"' <<<"$json")"

# write_bw UID: perftest's ib_write_bw between the two devices as UID;
# prints the client's exit status, the server's, then the client's output.
write_bw() {
	setpriv --reuid="$1" --regid="$1" --clear-groups \
		timeout 30 ib_write_bw -d ibgrxe0 -x 0 -n 5 >/dev/null 2>&1 &
	local server=$!
	sleep 1
	setpriv --reuid="$1" --regid="$1" --clear-groups \
		timeout 30 ib_write_bw -d ibgrxe1 -x 0 -n 5 10.99.0.1 >"$work/bw-client" 2>&1
	local client=$?
	wait $server
	echo "$client $?"
	cat "$work/bw-client"
}

# perftest reports the errno of the refused ibv_modify_qp.
expect_eq "perftest ib_write_bw: QP setup fails with EACCES (13)" 1 \
	"$(write_bw 1000 | grep -c '^Failed to modify QP to INIT, ret=13$')"
out=$(write_bw 1001)
expect_eq "perftest ib_write_bw: an allowed uid measures bandwidth" "0 0 1" \
	"$(head -n1 <<<"$out") $(grep -c '^ 65536 *5 ' <<<"$out")"

load "option pkey-on-roce yes" "default pkey deny" "pkey 0xffff allow uid 1001"
expect_eq "default deny: the allowed uid runs" "server=0 1 client=0" "$(pingpong 1001)"
out=$(setpriv --reuid=1002 --regid=1002 --clear-groups timeout 60 ibv_rc_pingpong -d ibgrxe0 -g 0 -n 3 2>&1)
expect_eq "default deny: other uids are refused" "1 Failed to modify QP to INIT" "$? $out"

$IBGUARDCTL mode permissive >/dev/null
$IBGUARDCTL stats reset >/dev/null
expect_eq "permissive: a refused uid runs" "server=0 1 client=0" "$(pingpong 1002)"
expect_eq "permissive: counted as would-deny" "2 0" \
	"$($IBGUARDCTL stats -j | jq -r '"\(.classes.pkey.would_deny) \(.classes.pkey.denied)"')"
$IBGUARDCTL mode enforcing >/dev/null

$IBGUARDCTL flush >/dev/null
expect_eq "no IB hooks once no IB rules remain" '[]' "$($IBGUARDCTL status -j | jq -c .hooks)"

load "option pkey-on-roce yes" "pkey 0xffff deny uid 1000"
expect_status "rmmod ibguard_ib with rules loaded" 0 rmmod ibguard_ib
expect_eq "without ibguard_ib nothing is checked" "server=0 1 client=0" "$(pingpong 1000)"
expect_status "rmmod ibguard" 0 rmmod ibguard

rxe_pair_delete ibgveth ibgrxe
expect_status "rmmod rdma_rxe afterwards" 0 rmmod rdma_rxe
rm -rf "$work"
tap_done
