#!/bin/bash
# Policy changes under running tasks. Workers (uid 1000, and 1001 on rdma_rxe)
# map a file and set up QPs on the mock HCA and on rdma_rxe (libibverbs) in
# tight loops while:
#  1. another task reloads between two policies that order and pad their rules
#    differently but agree on every worker's operation: each decision must be
#    that verdict (a reload never opens a window nor mixes two policies), and
#    the kernel's counters must equal what the workers saw;
#  2. the mode flips between enforcing and permissive with stats reads in
#    between: every decision is a denial or a would-deny, never an error;
#  3. ibguard and ibguard_ib are inserted, given a policy and removed,
#    cycle after cycle: operations only ever succeed or get EACCES.
# Counts: IBG_RELOADS (default 100), IBG_MODE_FLIPS (10), IBG_UNLOAD_CYCLES
# (10); make check-full runs 1,000 / 500 / 100.
. "$(dirname "$0")/lib.sh"
tap_plan

reloads=${IBG_RELOADS:-100}
flips=${IBG_MODE_FLIPS:-10}
cycles=${IBG_UNLOAD_CYCLES:-10}
RACEIT=$IBG_BUILD/selftests/raceit
work=$(mktemp -d /tmp/ibg-race.XXXXXX)
chmod 755 "$work"
: >"$work/file"
chmod 666 "$work/file"

rmmod ibguard_ib ibguard mockhca 2>/dev/null
modprobe -a ib_core ib_umad ib_uverbs rdma_rxe
ip link add ibgrace0 type veth peer name ibgrace1
ip link set ibgrace0 up
ip link set ibgrace1 up
rdma link add ibgracerxe type rxe netdev ibgrace0
insmod "$IBG_MODULES/mockhca.ko"
chmod 666 /dev/mockhca
insmod "$IBG_MODULES/ibguard.ko"
insmod "$IBG_MODULES/ibguard_ib.ko"

# Both deny uid 1000 writing the file, using P_Key index 1 (0x8001) on the
# mock HCA and the RoCE default P_Key (0xffff) on rdma_rxe, and allow reading
# the file, index 2 (0x8002) and uid 1001 on rdma_rxe; they differ in
# everything else.
printf '%s\n' "option pkey-on-roce yes" "pkey 0xffff deny uid 1000" \
	"map path $work/file prot write deny uid 1000" \
	"map fs tmpfs prot exec deny uid 4242" "pkey 0x8001 deny uid 1000" \
	"pkey 0x8003 deny uid 4242" "endport * * deny uid 4242" >"$work/a.conf"
printf '%s\n' "default endport deny" "endport * * allow" "pkey 0x7000-0x7fff deny" \
	"pkey 0xfffe-0xffff deny uid 1000-1000" "option pkey-on-roce yes" \
	"pkey 0x8001 deny uid 1000 gid 1000" "map tree $work prot exec deny" \
	"map path $work/file prot write,exec deny uid 1000-1000" "pkey 0x8002 allow" \
	>"$work/b.conf"
chmod 644 "$work"/*.conf

workers="map_denied map_allowed qp_denied qp_allowed rxe_denied rxe_allowed"
# start_worker NAME UID ARGS...: raceit as UID, output in $work/NAME; set up
# and waiting for its stdin, the FIFO $work/go, to close.
start_worker() {
	local name=$1 uid=$2
	shift 2
	# Niced, so that the task changing things underneath gets the CPU.
	setpriv --reuid="$uid" --regid="$uid" --clear-groups nice -n 19 "$RACEIT" "$@" \
		<"$work/go" 3>&- >"$work/$name" 2>&1 &
	eval "pid_$name=$!"
	await_worker "$name" ready
}
# await_worker NAME LINE: until worker NAME has printed LINE (or has died).
await_worker() {
	until grep -q "$2" "$work/$1" 2>/dev/null; do
		eval "kill -0 \$pid_$1" 2>/dev/null || { echo "# worker $1: $(cat "$work/$1")"; break; }
		sleep 0.05
	done
}
# All workers are set up before any loops, then start together.
start_workers() {
	local name
	rm -f "$work/go"
	mkfifo "$work/go"
	# The one writer: the workers see the end of their stdin when it closes.
	exec 3<>"$work/go"
	start_worker map_denied 1000 map "$work/file" rw
	start_worker map_allowed 1000 map "$work/file" r
	start_worker qp_denied 1000 qp 1
	start_worker qp_allowed 1000 qp 2
	start_worker rxe_denied 1000 rxe ibgracerxe
	start_worker rxe_allowed 1001 rxe ibgracerxe
	exec 3>&-
	for name in $workers; do await_worker "$name" running; done
}
stop_workers() {
	local name
	for name in $workers; do
		eval "kill -TERM \$pid_$name; wait \$pid_$name"
	done
}
# field NAME KEY: a count from a worker's last line.
field() { tail -n 1 "$work/$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
stat_of() { $IBGUARDCTL stats -j | jq ".classes.$1.$2"; }

# --- 1. reloads ---------------------------------------------------------------
$IBGUARDCTL load "$work/a.conf" >/dev/null
$IBGUARDCTL stats reset >/dev/null
start_workers
failed_loads=0
for i in $(seq 1 "$reloads"); do
	if [ $((i % 2)) = 1 ]; then f=b; else f=a; fi
	$IBGUARDCTL load "$work/$f.conf" >/dev/null 2>&1 || failed_loads=$((failed_loads + 1))
done
stop_workers
echo "# phase 1: $SECONDS s"
expect_eq "$reloads reloads under load, none failed" 0 $failed_loads
expect_eq "every write mapping denied, nothing else seen" "ok=0 other=0 denied" \
	"ok=$(field map_denied ok) other=$(field map_denied other) $( [ "$(field map_denied eacces)" -gt 0 ] && echo denied)"
expect_eq "every read mapping allowed" "eacces=0 other=0 allowed" \
	"eacces=$(field map_allowed eacces) other=$(field map_allowed other) $( [ "$(field map_allowed ok)" -gt 0 ] && echo allowed)"
expect_eq "every QP on P_Key 0x8001 denied" "ok=0 other=0 denied" \
	"ok=$(field qp_denied ok) other=$(field qp_denied other) $( [ "$(field qp_denied eacces)" -gt 0 ] && echo denied)"
expect_eq "every QP on P_Key 0x8002 allowed" "eacces=0 other=0 allowed" \
	"eacces=$(field qp_allowed eacces) other=$(field qp_allowed other) $( [ "$(field qp_allowed ok)" -gt 0 ] && echo allowed)"
expect_eq "every rxe QP of uid 1000 denied" "ok=0 other=0 denied" \
	"ok=$(field rxe_denied ok) other=$(field rxe_denied other) $( [ "$(field rxe_denied eacces)" -gt 0 ] && echo denied)"
expect_eq "every rxe QP of uid 1001 allowed" "eacces=0 other=0 allowed" \
	"eacces=$(field rxe_allowed eacces) other=$(field rxe_allowed other) $( [ "$(field rxe_allowed ok)" -gt 0 ] && echo allowed)"
expect_eq "map denials counted = denials seen" "$(field map_denied eacces)" "$(stat_of map denied)"
expect_eq "pkey denials counted = denials seen (mock HCA and rxe)" \
	"$(($(field qp_denied eacces) + $(field rxe_denied eacces)))" "$(stat_of pkey denied)"
echo "# map: $(tail -n 1 "$work/map_denied") / $(tail -n 1 "$work/map_allowed"); pkey: $(tail -n 1 "$work/qp_denied") / $(tail -n 1 "$work/qp_allowed"); rxe: $(tail -n 1 "$work/rxe_denied") / $(tail -n 1 "$work/rxe_allowed")"

# --- 2. mode flips and stats reads ---------------------------------------------
$IBGUARDCTL load "$work/a.conf" >/dev/null
$IBGUARDCTL stats reset >/dev/null
start_workers
failed=0
for i in $(seq 1 "$flips"); do
	$IBGUARDCTL mode permissive >/dev/null || failed=$((failed + 1))
	$IBGUARDCTL stats -j >/dev/null || failed=$((failed + 1))
	$IBGUARDCTL mode enforcing >/dev/null || failed=$((failed + 1))
	$IBGUARDCTL status >/dev/null || failed=$((failed + 1))
done
stop_workers
echo "# phase 2: $SECONDS s"
expect_eq "$flips mode flips with stats reads, no command failed" 0 $failed
expect_eq "write mappings: denied or allowed in permissive mode, never an error" 0 \
	"$(field map_denied other)"
expect_eq "every write mapping was a denial or a would-deny" \
	"$(($(field map_denied ok) + $(field map_denied eacces)))" \
	"$(($(stat_of map denied) + $(stat_of map would_deny)))"
expect_eq "denials counted = denials seen" "$(field map_denied eacces)" "$(stat_of map denied)"
expect_eq "every QP on 0x8001 and on rxe as uid 1000 was a denial or a would-deny" \
	"$(($(field qp_denied ok) + $(field qp_denied eacces) + $(field rxe_denied ok) + $(field rxe_denied eacces)))" \
	"$(($(stat_of pkey denied) + $(stat_of pkey would_deny)))"
expect_eq "QPs: never an error" "0 0" "$(field qp_denied other) $(field rxe_denied other)"
expect_eq "read mappings, 0x8002 and rxe as uid 1001 stay allowed" "0 0 0 0 0 0" \
	"$(field map_allowed eacces) $(field map_allowed other) $(field qp_allowed eacces) $(field qp_allowed other) $(field rxe_allowed eacces) $(field rxe_allowed other)"

# --- 3. insmod, load, rmmod under load --------------------------------------------
rmmod ibguard_ib ibguard
start_workers
failed=0
for i in $(seq 1 "$cycles"); do
	insmod "$IBG_MODULES/ibguard.ko" || failed=$((failed + 1))
	insmod "$IBG_MODULES/ibguard_ib.ko" || failed=$((failed + 1))
	$IBGUARDCTL load "$work/a.conf" >/dev/null || failed=$((failed + 1))
	rmmod ibguard_ib || failed=$((failed + 1))
	rmmod ibguard || failed=$((failed + 1))
done
stop_workers
echo "# phase 3: $SECONDS s"
expect_eq "$cycles insmod/load/rmmod cycles under load, no step failed" 0 $failed
expect_eq "operations only succeeded or got EACCES" "0 0 0 0 0 0" \
	"$(field map_denied other) $(field map_allowed other) $(field qp_denied other) $(field qp_allowed other) $(field rxe_denied other) $(field rxe_allowed other)"
expect_eq "allowed operations were never denied" "0 0 0" \
	"$(field map_allowed eacces) $(field qp_allowed eacces) $(field rxe_allowed eacces)"
echo "# map: $(tail -n 1 "$work/map_denied"); pkey: $(tail -n 1 "$work/qp_denied")"
expect_eq "no module left behind" "" "$(lsmod | grep -E '^ibguard(_ib)? ')"

rmmod mockhca
rdma link delete ibgracerxe
ip link del ibgrace0
rm -rf "$work"
tap_done
