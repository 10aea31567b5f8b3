#!/bin/bash
# Policy changes reach live QPs: on every load (unless --no-revoke) and on a
# port's P_Key table change, every QP ibguard allowed is re-decided against
# the task that set it up; those now denied go to the error state with
# IB_EVENT_QP_FATAL, the others keep working. On the mock HCA (kernel QPs,
# qpctl) and on rdma_rxe (ibv_rc_pingpong), with destruction racing the
# revalidation. Subnet-management agents: see ib_mock_test.sh.
. "$(dirname "$0")/lib.sh"
tap_plan

QPCTL=$IBG_BUILD/selftests/qpctl
RACEIT=$IBG_BUILD/selftests/raceit
work=$(mktemp -d /tmp/ibg-revoke.XXXXXX)
# A holder that failed early must fail its test, not kill this script.
trap '' PIPE
chmod 755 "$work"

as() { # UID CMD...
	local uid=$1
	shift
	setpriv --reuid="$uid" --regid="$uid" --clear-groups "$@"
}

load() { # [ibguardctl load options] -- policy lines
	local opts=()
	while [ "$1" != -- ]; do opts+=("$1"); shift; done
	shift
	printf '%s\n' "$@" >"$work/policy.conf"
	$IBGUARDCTL load "${opts[@]}" "$work/policy.conf" >/dev/null
}

# revoked [CLASS]: the revocations counted for CLASS (default pkey).
revoked() { $IBGUARDCTL stats -j | jq ".classes.${1:-pkey}.revoked"; }

# hold UID STEPS...: qpctl as UID in the background, stopping at each "wait"
# step until release; its output in $work/held.
hold() {
	local uid=$1
	shift
	rm -f "$work/fifo"
	mkfifo "$work/fifo"
	chmod 666 "$work/fifo"
	# setpriv execs qpctl: $! is qpctl.
	setpriv --reuid="$uid" --regid="$uid" --clear-groups "$QPCTL" "$@" \
		<"$work/fifo" >"$work/held" 2>&1 &
	holder=$!
	exec 3>"$work/fifo"
	until_waiting
}
# Until qpctl blocks in its next "wait" step (or has exited).
until_waiting() {
	while kill -0 $holder 2>/dev/null &&
		! grep -q pipe_read /proc/$holder/wchan 2>/dev/null; do
		sleep 0.05
	done
}
release() {
	echo >&3
	sleep 0.2
	until_waiting
}
# query_line N: QP state and events from the N-th query line of the holder.
query_line() {
	local n=$1 i=0
	for i in $(seq 1 50); do
		[ "$(grep -c '^query:' "$work/held")" -ge "$n" ] && break
		sleep 0.1
	done
	grep '^query:' "$work/held" | sed -n "${n}p" |
		sed 's/.* state=\([a-z]*\) port=\([0-9]*\) pkey_index=\([0-9]*\) .*fatal_events=\([0-9]*\)/\1 \2:\3 fatal=\4/'
}
finish() { exec 3>&-; wait $holder; }

rmmod ibguard_ib ibguard mockhca 2>/dev/null
modprobe -a ib_core ib_umad ib_uverbs rdma_rxe
insmod "$IBG_MODULES/mockhca.ko"
chmod 666 /dev/mockhca
insmod "$IBG_MODULES/ibguard.ko"
insmod "$IBG_MODULES/ibguard_ib.ko"

# --- a load cuts off exactly the QPs it denies ---------------------------------
# Port 1's P_Key table: 0xffff 0x8001 0x8002 0x0003.
load -- "pkey 0x7fff deny"
$IBGUARDCTL stats reset >/dev/null
hold 1000 create rc 1 init 1 1 rtr rts create rc 1 init 1 2 rtr rts wait \
	use 1 query use 2 query wait use 1 query use 2 query
expect_eq "two QPs of uid 1000 in RTS (P_Keys 0x8001, 0x8002)" "rts: ok" \
	"$(grep '^rts' "$work/held" | sort -u)"
monitor_start 20 "$work/events" -j -n 2
load -- "pkey 0x8001 deny uid 1000"
sleep 1
release
expect_eq "the QP on the denied P_Key is in error with a fatal event" "err 1:1 fatal=1" \
	"$(query_line 1)"
expect_eq "the QP on the allowed P_Key keeps working" "rts 1:2 fatal=0" "$(query_line 2)"
wait $monitor
expect_eq "the revocation reaches the monitor" "revoked pkey revalidate 1 1000 mock0 1 0x8001" \
	"$(jq -r 'select(.type == "revoked") | [.type, .class, .operation, .rule, .uid, .device, .port, .pkey] | join(" ")' "$work/events")"
expect_eq "the event names the QP" "$(grep -m1 '^create' "$work/held" | sed 's/.*qpn=\(0x[0-9a-f]*\).*/\1/')" \
	"$(printf '0x%x' "$(jq 'select(.type == "revoked") | .qp' "$work/events")")"
expect_eq "stats: one revocation" 1 "$(revoked)"
load -- "pkey 0x8001 deny uid 1000" "pkey 0x8002 allow"
release
expect_eq "a revoked QP is not revoked again" "err 1:1 fatal=1" "$(query_line 3)"
expect_eq "a load that still allows the QP leaves it alone" "rts 1:2 fatal=0" "$(query_line 4)"
expect_eq "stats: still one revocation" 1 "$(revoked)"
finish

# --- decided against the task that set the QP up -------------------------------
load -- "pkey 0x7fff deny"
hold 1001 create rc 1 init 1 1 rtr rts wait query
load -- "pkey 0x8001 deny uid 1000"
release
expect_eq "a QP of uid 1001 survives a rule for uid 1000 (loaded by root)" "rts 1:1 fatal=0" \
	"$(query_line 1)"
finish

# --- an alternate path alone ---------------------------------------------------
load -- "pkey 0x7fff deny"
hold 1000 create rc 1 init 1 1 alt 1 2 rtr rts create rc 1 init 1 1 alt 1 3 rtr rts wait \
	use 1 query use 2 query
load -- "pkey 0x8002 deny uid 1000"
release
expect_eq "a QP whose alternate path's P_Key is now denied is cut off (primary allowed)" \
	"err 1:1 fatal=1" "$(query_line 1)"
expect_eq "a QP whose alternate path is still allowed keeps working" "rts 1:1 fatal=0" \
	"$(query_line 2)"
finish

# --- --no-revoke ---------------------------------------------------------------
load -- "pkey 0x7fff deny"
hold 1000 create rc 1 init 1 1 rtr rts wait query wait query
load --no-revoke -- "pkey 0x8001 deny uid 1000"
release
expect_eq "load --no-revoke leaves live QPs alone" "rts 1:1 fatal=0" "$(query_line 1)"
load -- "pkey 0x8001 deny uid 1000"
release
expect_eq "the next load without --no-revoke cuts it off" "err 1:1 fatal=1" "$(query_line 2)"
finish

# --- permissive mode revokes nothing -------------------------------------------
load -- "pkey 0x7fff deny"
hold 1000 create rc 1 init 1 1 rtr rts wait query
load -- "mode permissive" "pkey 0x8001 deny uid 1000"
release
expect_eq "permissive mode revokes nothing" "rts 1:1 fatal=0" "$(query_line 1)"
finish
hold 1000 create rc 1 init 1 1 rtr rts wait query
$IBGUARDCTL mode enforcing >/dev/null
release
expect_eq "switching to enforcing mode cuts off what permissive mode let through" \
	"err 1:1 fatal=1" "$(query_line 1)"
finish

# --- a P_Key table change ------------------------------------------------------
"$QPCTL" setpkeys 2 0xffff,0x8001,0x8002,0x0003 >/dev/null
load -- "pkey 0x8005 deny uid 1000"
$IBGUARDCTL stats reset >/dev/null
hold 1000 create rc 2 init 2 2 rtr rts create rc 2 init 2 1 rtr rts wait \
	use 1 query use 2 query
"$QPCTL" setpkeys 2 0xffff,0x8001,0x8005,0x0003 >/dev/null
sleep 1
release
expect_eq "index 2 now names the denied 0x8005: the QP is cut off" "err 2:2 fatal=1" \
	"$(query_line 1)"
expect_eq "index 1 still names 0x8001: the QP keeps working" "rts 2:1 fatal=0" "$(query_line 2)"
expect_eq "stats: one revocation from the table change" 1 "$(revoked)"
finish
"$QPCTL" setpkeys 2 0xffff,0x8001,0x8002,0x0003 >/dev/null
hold 1000 create rc 2 init 2 2 rtr rts wait query
"$QPCTL" setpkeys 2 0xffff,0x8001 >/dev/null
sleep 1
release
expect_eq "an index that names no valid P_Key any more is cut off (fails closed)" "err 2:2 fatal=1" \
	"$(query_line 1)"
finish

# --- destruction racing revalidation -------------------------------------------
# Four tasks of uid 1000 create, set up and destroy QPs on P_Keys 0x8001 and
# 0x8002 until stopped; their last line counts what each step returned.
# Counts: IBG_REVOKE_RELOADS (default 30) reloads, IBG_ADOPT_CYCLES (10)
# detach/attach cycles; make check-full runs 300 / 100.
start_racers() {
	for w in 1 2 3 4; do
		setpriv --reuid=1000 --regid=1000 --clear-groups nice -n 19 "$RACEIT" qp \
			$((w % 2 + 1)) >"$work/race$w" 2>&1 &
		eval "racer$w=$!"
	done
	sleep 0.5
}
stop_racers() {
	for w in 1 2 3 4; do eval "kill -TERM \$racer$w; wait \$racer$w"; done
	echo "# racers: $(for w in 1 2 3 4; do tail -n 1 "$work/race$w"; done | paste -sd'|')"
}
racers_other() {
	for w in 1 2 3 4; do tail -n 1 "$work/race$w" | sed -n 's/.*other=\([0-9]*\).*/\1/p'; done |
		xargs
}
reloads=${IBG_REVOKE_RELOADS:-30}
start_racers
failed=0
for i in $(seq 1 "$reloads"); do
	if [ $((i % 2)) = 1 ]; then
		load -- "pkey 0x8001 deny uid 1000" || failed=$((failed + 1))
	else
		load -- "pkey 0x8002 deny uid 1000" || failed=$((failed + 1))
	fi
done
stop_racers
expect_eq "$reloads reloads while QPs are created and destroyed, none failed" 0 $failed
expect_eq "the racing tasks only saw success or EACCES" "0 0 0 0" "$(racers_other)"
echo "# revoked during the race: $(revoked)"

# Each attach adopts the QPs that exist while others are being destroyed: an
# entry left for a destroyed QP would stay followed once all are gone.
cycles=${IBG_ADOPT_CYCLES:-10}
start_racers
failed=0
for i in $(seq 1 "$cycles"); do
	load -- "map chardev 1:5 deny uid 4242" 2>>"$work/cycles" || failed=$((failed + 1))
	load -- "pkey 0x8001 deny uid 1000" 2>>"$work/cycles" || failed=$((failed + 1))
done
echo "# $(grep -c 'hooks are attached' "$work/cycles") attaches, $(grep -c 'hooks are detached' "$work/cycles") detaches that stopped following QPs"
stop_racers
expect_eq "$cycles detaches and attaches while QPs are created and destroyed, none failed" \
	0 $failed
expect_eq "the racing tasks only saw success or EACCES" "0 0 0 0" "$(racers_other)"
for i in $(seq 1 100); do
	[ "$($IBGUARDCTL status -j | jq -c .followed)" = '{"qps":0,"agents":0}' ] && break
	sleep 0.1
done
expect_eq "once every QP is destroyed, none is followed" '{"qps":0,"agents":0}' \
	"$($IBGUARDCTL status -j | jq -c .followed)"

# --- subnet-management sessions opened under an allowing policy --------------
# An SM's agent on port 1 (sends) and one on port 2 registered for traps
# (receives), both root, opened before the policies that follow.
# await_lines FILE N: until FILE has N lines (up to 10 s).
await_lines() {
	local i
	for i in $(seq 1 100); do
		[ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ] && return
		sleep 0.1
	done
}
# smi_start FD NAME PORT [traps]: an smiagent on PORT, commands through FD.
smi_start() {
	local fd=$1 name=$2
	shift 2
	rm -f "$work/$name.in"
	mkfifo "$work/$name.in"
	"$IBG_BUILD/selftests/smiagent" mock0 "$@" <"$work/$name.in" >"$work/$name.out" 2>&1 &
	smi_pids+=($!)
	eval "exec $fd>\"\$work/\$name.in\""
	# Its first line tells how registering went: wait for it, so that smi()
	# counts only the answers to commands (it read that line once).
	await_lines "$work/$name.out" 1
}
# smi FD NAME COMMAND: COMMAND's one line of output (up to 10 s).
smi() {
	local n
	n=$(($(wc -l <"$work/$2.out") + 1))
	echo "$3" >&"$1"
	await_lines "$work/$2.out" "$n"
	sed -n "${n}p" "$work/$2.out"
}
# trap_received: the SM on port 1 sends a trap to LID 2; what the agent on
# port 2 receives: "trap TID" when it is that trap, else the error.
trap_received() {
	local sent got
	sent=$(smi 4 sm "trap 2")
	got=$(smi 5 listener recv)
	case $sent in
	"trap: ok "*) [ "$got" = "recv: trap ${sent#trap: ok }" ] && echo received || echo "$got" ;;
	*) echo "not sent: $sent" ;;
	esac
}
# settled: revalidation runs in the background after a load.
settled() { sleep 1; }

load -- "endport * * deny uid 4242"
smi_pids=()
smi_start 4 sm 1
smi_start 5 listener 2 traps
expect_eq "the QP0 agent registers and works" "nodeinfo: ok" "$(smi 4 sm 'nodeinfo 1')"
expect_eq "an agent registered for traps receives one" received "$(trap_received)"
$IBGUARDCTL stats reset >/dev/null
# Two loads, one denied send and two revocations.
monitor_start 30 "$work/smi-events" -j -n 5
load -- "endport mock0 1 deny uid 0"
expect_eq "after a denying load the open session can no longer send" \
	"nodeinfo: EACCES (Permission denied)" "$(smi 4 sm 'nodeinfo 1')"
load -- "endport mock0 2 deny uid 0"
expect_eq "a load that allows it again restores it" "nodeinfo: ok" "$(smi 4 sm 'nodeinfo 1')"
settled
expect_eq "an agent the new policy denies receives nothing" "recv: ETIMEDOUT (Connection timed out)" \
	"$(trap_received)"
wait $monitor
expect_eq "each agent's revocation reaches the monitor, once" \
	"revoked endport revalidate 0 mock0 1|revoked endport revalidate 0 mock0 2" \
	"$(jq -r 'select(.type == "revoked") | [.type, .class, .operation, .uid, .device, .port] | join(" ")' \
		"$work/smi-events" | paste -sd'|')"
expect_eq "stats: two endport revocations" 2 "$(revoked endport)"
load -- "mode permissive" "endport mock0 2 deny uid 0"
settled
expect_eq "permissive mode: the agent receives" received "$(trap_received)"
$IBGUARDCTL mode enforcing >/dev/null
settled
expect_eq "switching to enforcing mode stops it again" "recv: ETIMEDOUT (Connection timed out)" \
	"$(trap_received)"
load -- "endport * * deny uid 4242"
settled
expect_eq "a load that allows it again lets it receive again" received "$(trap_received)"
load -- "endport mock0 2 deny uid 4242" "endport mock0 2 deny uid 0"
settled
load --no-revoke -- "endport * * deny uid 4242"
settled
expect_eq "load --no-revoke leaves a revoked agent as it was" "recv: ETIMEDOUT (Connection timed out)" \
	"$(trap_received)"
exec 4>&- 5>&-
wait "${smi_pids[@]}"
expect_eq "the agents' sessions ended cleanly" "register: ok|register: ok" \
	"$(head -qn1 "$work/sm.out" "$work/listener.out" | paste -sd'|')"

# --- loads that stop or start following live objects ---------------------------
# followed: what the status says ibguard follows, as "QPS AGENTS".
followed() { $IBGUARDCTL status -j | jq -r '"\(.followed.qps) \(.followed.agents)"'; }
# note_of POLICY-LINES...: what the load says on stderr (its stdout dropped).
note_of() {
	printf '%s\n' "$@" >"$work/policy.conf"
	$IBGUARDCTL load "$work/policy.conf" 2>&1 >/dev/null
}
load -- "pkey 0x7fff deny"
# QP 1 on 0x8001, QP 2 on 0x8002, QP 3 on 0x8001 with its alternate path on
# 0x0003, all set up by uid 1000. The mock HCA creates QPs for qpctl with
# ib_create_qp(): they are kernel QPs, adopted as the kernel's.
hold 1000 create rc 1 init 1 1 rtr rts create rc 1 init 1 2 rtr rts \
	create rc 1 init 1 1 alt 1 3 rtr rts wait \
	use 1 query use 2 query use 3 query wait use 2 query wait use 2 query
smi_pids=()
smi_start 4 sm 1
smi_start 5 listener 2 traps
expect_eq "the SM's agent works" "nodeinfo: ok" "$(smi 4 sm 'nodeinfo 1')"
expect_eq "status: three QPs and the two agents followed" "3 2" "$(followed)"
logged() {
	dmesg | grep -c "ibguard_ib: stopped following live objects (QPs: 3, subnet-management agents: 2): the next attach adopts the QPs that exist then, the agents at their next send$"
}
before=$(logged)
expect_eq "a load that detaches the InfiniBand hooks says what it stops following" \
	"ibguardctl: note: the pkey and endport hooks are detached (no pkey or endport rule, no deny default): ibguard no longer follows the 3 QPs and 2 subnet-management agents it followed; a policy that attaches the hooks again adopts the QPs that exist then, and the agents at their next send" \
	"$(note_of "map chardev 1:5 deny uid 4242")"
expect_eq "so does the kernel log" $((before + 1)) "$(logged)"
expect_eq "status: nothing followed" "0 0" "$(followed)"
$IBGUARDCTL stats reset >/dev/null
# eventually WANT: "REVOKED QPS AGENTS" once it is WANT, or as it is after 10 s
# (adoption waits for an RCU-tasks grace period, revalidation follows it).
eventually() {
	local got i
	for i in $(seq 1 100); do
		got="$(revoked) $(followed)"
		[ "$got" = "$1" ] && break
		sleep 0.1
	done
	printf '%s' "$got"
}
expect_eq "a load that attaches them says how what exists is adopted" \
	"ibguardctl: note: the pkey and endport hooks are attached from now on: the QPs that exist are adopted and followed, subnet-management agents registered before from their next send" \
	"$(note_of "pkey 0x8001 deny kernel" "pkey 0x0003 deny kernel" "pkey 0x8002 deny uid 1000" \
		"endport mock0 2 deny uid 0")"
expect_eq "it decides the adopted QPs against their creator, the kernel: two cut off, one followed" \
	"2 1 0" "$(eventually "2 1 0")"
expect_eq "a load that keeps them attached says nothing" "" \
	"$(note_of "pkey 0x8001 deny kernel" "pkey 0x0003 deny kernel" "pkey 0x8002 deny uid 1000" \
		"endport mock0 2 deny uid 0" "pkey 0x1234 deny uid 1000")"
release
expect_eq "the adopted QP on a denied P_Key is in error with a fatal event" "err 1:1 fatal=1" \
	"$(query_line 1)"
expect_eq "the adopted QP on an allowed P_Key keeps working" "rts 1:2 fatal=0" "$(query_line 2)"
expect_eq "the adopted QP whose alternate path is denied is cut off" "err 1:1 fatal=1" \
	"$(query_line 3)"
expect_eq "an agent registered before sends where the policy allows it" "nodeinfo: ok" \
	"$(smi 4 sm 'nodeinfo 1')"
expect_eq "one registered before on a port the policy denies its writer cannot send" \
	"nodeinfo: EACCES (Permission denied)" "$(smi 5 listener 'nodeinfo 1')"
expect_eq "both are followed from those sends" "1 2" "$(followed)"
settled
expect_eq "the agent adopted at a denied send receives nothing" \
	"recv: ETIMEDOUT (Connection timed out)" "$(trap_received)"
load -- "pkey 0x8001 deny kernel" "pkey 0x0003 deny kernel" "pkey 0x8002 deny uid 1000" \
	"endport mock0 2 deny uid 4242"
settled
expect_eq "a load that allows its writer lets it receive again" received "$(trap_received)"
$IBGUARDCTL flush >/dev/null
expect_eq "status: nothing followed after flush" "0 0" "$(followed)"
load --no-revoke -- "pkey 0x8002 deny kernel" 2>/dev/null
expect_eq "load --no-revoke adopts what exists and cuts nothing off" "2 1 0" \
	"$(eventually "2 1 0")"
release
expect_eq "the adopted QP keeps working" "rts 1:2 fatal=0" "$(query_line 4)"
load -- "pkey 0x8002 deny kernel"
expect_eq "the next load decides it: three revocations by then, nothing followed" "3 0 0" \
	"$(eventually "3 0 0")"
release
expect_eq "the adopted QP is in error with a fatal event" "err 1:2 fatal=1" "$(query_line 5)"
finish
exec 4>&- 5>&-
wait "${smi_pids[@]}"
hold 1000 create rc 1 init 1 0 rtr rts wait
expect_eq "a QP set up from then on is followed" "1 0" "$(followed)"
finish
expect_eq "and no longer once destroyed" "0 0" "$(followed)"
$IBGUARDCTL flush >/dev/null

rmmod ibguard_ib ibguard mockhca

# --- rdma_rxe: a running ibv_rc_pingpong is cut off ----------------------------
rxe_pair ibgrvk ibgrvkrxe 10.98.0
insmod "$IBG_MODULES/ibguard.ko"
insmod "$IBG_MODULES/ibguard_ib.ko"
load -- "option pkey-on-roce yes" "pkey 0x7fff deny"
# Running means both QPs reached RTS (slow kernels take their time).
rts_qps() { rdma resource show qp 2>/dev/null | grep -c 'type RC state RTS'; }
# pingpong_start: an ibv_rc_pingpong session of uid 1000 over the rxe pair;
# $running says whether it runs: "2 running running" when it does.
pingpong_start() {
	as 1000 timeout 120 ibv_rc_pingpong -d ibgrvkrxe0 -g 0 -n 100000000 >"$work/server" 2>&1 &
	server=$!
	sleep 1
	as 1000 timeout 120 ibv_rc_pingpong -d ibgrvkrxe1 -g 0 -n 100000000 10.98.0.1 \
		>"$work/client" 2>&1 &
	client=$!
	for i in $(seq 1 600); do
		[ "$(rts_qps)" -ge 2 ] && break
		kill -0 $server 2>/dev/null && kill -0 $client 2>/dev/null || break
		sleep 0.1
	done
	sleep 1
	running="$(rts_qps) $(kill -0 $server 2>/dev/null && echo running) $(kill -0 $client 2>/dev/null && echo running)"
}
# pingpong_broken: after a load, waits for both ends to fail on their next
# completion; $broken is "yes" if both exited with an error within the time
# limit.
pingpong_broken() {
	local start elapsed client_rc server_rc limit=1000
	start=$(date +%s%N)
	for i in $(seq 1 100); do
		kill -0 $server 2>/dev/null || kill -0 $client 2>/dev/null || break
		sleep 0.05
	done
	elapsed=$((($(date +%s%N) - start) / 1000000))
	wait $client
	client_rc=$?
	wait $server
	server_rc=$?
	echo "# pingpong ended ${elapsed} ms after the load returned; client: $(tail -n 1 "$work/client"); server: $(tail -n 1 "$work/server")"
	# One second on the stock kernel; the debug kernel (KASAN, lockdep,
	# kmemleak under TCG) runs everything several times slower: five there.
	[ -e /sys/kernel/debug/kmemleak ] && limit=5000
	if [ $client_rc = 0 ] || [ $client_rc = 124 ] || [ $server_rc = 0 ] || [ $server_rc = 124 ]; then
		broken="no (exit status: client $client_rc, server $server_rc)"
	elif [ "$elapsed" -gt $limit ]; then
		broken="no ($elapsed ms)"
	else
		broken=yes
	fi
}
pingpong_start
expect_eq "pingpong is running under the allowing policy" "2 running running" "$running"
load -- "option pkey-on-roce yes" "pkey 0xffff deny uid 1000"
pingpong_broken
expect_eq "the session breaks: both ends exit with an error within 1 s of the load (5 s on the debug kernel)" \
	yes "$broken"
expect_eq "stats: both QPs revoked" 2 "$(revoked)"

# A session set up while no policy needed the InfiniBand hooks is adopted,
# and decided against the task that created its QPs, by the load that
# attaches them.
load -- "option pkey-on-roce yes" "map chardev 1:5 deny uid 4242"
pingpong_start
expect_eq "pingpong is running with the hooks detached" "2 running running" "$running"
load -- "option pkey-on-roce yes" "pkey 0xffff deny uid 1000" 2>/dev/null
pingpong_broken
expect_eq "the load that attaches them breaks it (adopted QPs, their creator's uid)" \
	yes "$broken"
expect_eq "stats: two more QPs revoked" 4 "$(revoked)"

rmmod ibguard_ib ibguard
rxe_pair_delete ibgrvk ibgrvkrxe
rm -rf "$work"
tap_done
