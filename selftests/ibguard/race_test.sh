#!/bin/bash
# Policy changes under running tasks. Workers (uid 1000) map a file and set
# up QPs on the mock HCA in tight loops while:
#  1. another task reloads between two policies that order and pad their rules
#    differently but agree on every worker's operation: each decision must be
#    that verdict (a reload never opens a window nor mixes two policies), and
#    the kernel's counters must equal what the workers saw;
#  2. the mode flips between enforcing and permissive with stats reads in
#    between: every decision is a denial or a would-deny, never an error;
#  3. ibguard and ibguard_ib are inserted, given a policy and removed,
#    cycle after cycle: operations only ever succeed or get EACCES.
# Counts: IBG_RELOADS (default 100), IBG_MODE_FLIPS (25), IBG_UNLOAD_CYCLES
# (10); make check-full runs 1,000 / 500 / 100.
. "$(dirname "$0")/lib.sh"
tap_plan

reloads=${IBG_RELOADS:-100}
flips=${IBG_MODE_FLIPS:-25}
cycles=${IBG_UNLOAD_CYCLES:-10}
RACEIT=$IBG_BUILD/selftests/raceit
work=$(mktemp -d /tmp/ibg-race.XXXXXX)
chmod 755 "$work"
: >"$work/file"
chmod 666 "$work/file"

rmmod ibguard_ib ibguard mockhca 2>/dev/null
modprobe -a ib_core ib_umad
insmod "$IBG_BUILD/mockhca.ko"
chmod 666 /dev/mockhca
insmod "$IBG_BUILD/ibguard.ko"
insmod "$IBG_BUILD/ibguard_ib.ko"

# Both deny uid 1000 writing the file and using P_Key index 1 (0x8001), and
# allow reading it and index 2 (0x8002); they differ in everything else.
printf '%s\n' "map path $work/file prot write deny uid 1000" \
	"map fs tmpfs prot exec deny uid 4242" "pkey 0x8001 deny uid 1000" \
	"pkey 0x8003 deny uid 4242" "endport * * deny uid 4242" >"$work/a.conf"
printf '%s\n' "default endport deny" "endport * * allow" "pkey 0x7000-0x7fff deny" \
	"pkey 0x8001 deny uid 1000 gid 1000" "map tree $work prot exec deny" \
	"map path $work/file prot write,exec deny uid 1000-1000" "pkey 0x8002 allow" \
	>"$work/b.conf"
chmod 644 "$work"/*.conf

# start_worker NAME ARGS...: raceit as uid 1000, output in $work/NAME.
start_worker() {
	local name=$1
	shift
	# Niced, so that the task changing things underneath gets the CPU.
	setpriv --reuid=1000 --regid=1000 --clear-groups nice -n 19 "$RACEIT" "$@" \
		>"$work/$name" 2>&1 &
	eval "pid_$name=$!"
	until grep -q running "$work/$name" 2>/dev/null; do sleep 0.05; done
}
start_workers() {
	start_worker map_denied map "$work/file" rw
	start_worker map_allowed map "$work/file" r
	start_worker qp_denied qp 1
	start_worker qp_allowed qp 2
}
stop_workers() {
	local name
	for name in map_denied map_allowed qp_denied qp_allowed; do
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
expect_eq "map denials counted = denials seen" "$(field map_denied eacces)" "$(stat_of map denied)"
expect_eq "pkey denials counted = denials seen" "$(field qp_denied eacces)" "$(stat_of pkey denied)"
echo "# map: $(tail -n 1 "$work/map_denied") / $(tail -n 1 "$work/map_allowed"); pkey: $(tail -n 1 "$work/qp_denied") / $(tail -n 1 "$work/qp_allowed")"

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
expect_eq "every QP on 0x8001 was a denial or a would-deny" \
	"$(($(field qp_denied ok) + $(field qp_denied eacces)))" \
	"$(($(stat_of pkey denied) + $(stat_of pkey would_deny)))"
expect_eq "read mappings and 0x8002 stay allowed" "0 0 0 0" \
	"$(field map_allowed eacces) $(field map_allowed other) $(field qp_allowed eacces) $(field qp_allowed other)"

# --- 3. insmod, load, rmmod under load --------------------------------------------
rmmod ibguard_ib ibguard
start_workers
failed=0
for i in $(seq 1 "$cycles"); do
	insmod "$IBG_BUILD/ibguard.ko" || failed=$((failed + 1))
	insmod "$IBG_BUILD/ibguard_ib.ko" || failed=$((failed + 1))
	$IBGUARDCTL load "$work/a.conf" >/dev/null || failed=$((failed + 1))
	rmmod ibguard_ib || failed=$((failed + 1))
	rmmod ibguard || failed=$((failed + 1))
done
stop_workers
echo "# phase 3: $SECONDS s"
expect_eq "$cycles insmod/load/rmmod cycles under load, no step failed" 0 $failed
expect_eq "operations only succeeded or got EACCES" "0 0 0 0" \
	"$(field map_denied other) $(field map_allowed other) $(field qp_denied other) $(field qp_allowed other)"
expect_eq "allowed operations were never denied" "0 0" \
	"$(field map_allowed eacces) $(field qp_allowed eacces)"
echo "# map: $(tail -n 1 "$work/map_denied"); pkey: $(tail -n 1 "$work/qp_denied")"
expect_eq "no module left behind" "" "$(lsmod | grep -E '^ibguard(_ib)? ')"

rmmod mockhca
rm -rf "$work"
tap_done
