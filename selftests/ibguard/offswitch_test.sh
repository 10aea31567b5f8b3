#!/bin/bash
# The ways to switch ibguard off without rmmod, and what closes them:
# kernel.ftrace_enabled=0 is refused while hooks are attached; another
# IPMODIFY user of an attach point makes that class unavailable while the
# others keep enforcing; `ibguardctl lock` refuses rmmod, permissive mode and
# flush until reboot. The lock cannot be undone: this test runs last.
. "$(dirname "$0")/lib.sh"
tap_plan

work=$(mktemp -d /tmp/ibg-off.XXXXXX)
chmod 755 "$work"
QPCTL=$IBG_BUILD/selftests/qpctl
MAPIT=$IBG_BUILD/selftests/mapit
ftrace_enabled=/proc/sys/kernel/ftrace_enabled
: >"$work/file"
chmod 644 "$work/file"

load() {
	printf '%s\n' "$@" >"$work/policy.conf"
	$IBGUARDCTL load "$work/policy.conf" 2>&1
}
as() { # UID CMD...
	local uid=$1
	shift
	setpriv --reuid="$uid" --regid="$uid" --clear-groups "$@"
}
map_as() { as "$1" "$MAPIT" "$work/file" "$2" 2>/dev/null; }
qp_as() { as "$1" "$QPCTL" create rc 1 init 1 1 2>&1 | tail -n 1 | cut -d' ' -f1-2; }
available() { $IBGUARDCTL status -j | jq -c .available; }

rmmod ibguard_ib ibguard mockhca ibguard_floor 2>/dev/null
modprobe -a ib_core ib_umad
insmod "$IBG_MODULES/mockhca.ko"
insmod "$IBG_MODULES/ibguard.ko"
insmod "$IBG_MODULES/ibguard_ib.ko"

# --- kernel.ftrace_enabled ----------------------------------------------------
load "map path $work/file prot exec deny uid 1000" "pkey 0x8001 deny uid 1000" >/dev/null
out=$(sysctl -w kernel.ftrace_enabled=0 2>&1)
expect_eq "ftrace_enabled=0 is refused while hooks are attached" \
	"Device or resource busy" "$(grep -o 'Device or resource busy' <<<"$out")"
expect_eq "ftrace stays enabled" 1 "$(cat $ftrace_enabled)"
expect_eq "map still enforced" EACCES "$(map_as 1000 rx)"

$IBGUARDCTL flush >/dev/null
expect_status "with no hooks attached ftrace can be disabled" 0 sysctl -w kernel.ftrace_enabled=0
out=$(load "map path $work/file prot exec deny uid 1000")
expect_eq "a map policy cannot load while ftrace is disabled (conflict, exit 5)" \
	"5 the map class is unavailable" \
	"$? $(grep -o 'the map class is unavailable' <<<"$out")"
expect_eq "status says map is unavailable" '["pkey","endport"]' "$(available)"
expect_eq "the kernel log says why" 1 \
	"$(dmesg | grep -c 'cannot attach to security_mmap_file: another user .* or kernel.ftrace_enabled is 0' | tr -d ' ' | sed 's/^[1-9][0-9]*$/1/')"
sysctl -q -w kernel.ftrace_enabled=1
expect_eq "after ftrace is enabled again the map policy loads" 0 \
	"$(load "map path $work/file prot exec deny uid 1000" >/dev/null; echo $?)"
expect_eq "and map is available again" '["pkey","endport","map"]' "$(available)"

# --- another IPMODIFY user on an attach point -----------------------------------
$IBGUARDCTL flush >/dev/null
load "pkey 0x8001 deny uid 1000" >/dev/null
insmod "$IBG_MODULES/ibguard_floor.ko" points=security_file_mprotect
out=$(load "map path $work/file prot exec deny uid 1000" "pkey 0x8001 deny uid 1000")
expect_eq "a policy with map rules is refused while another module holds security_file_mprotect" \
	"5 the map class is unavailable" "$? $(grep -o 'the map class is unavailable' <<<"$out")"
expect_eq "status: map unavailable, the others available" '["pkey","endport"]' "$(available)"
expect_eq "the kernel log names the attach point" 1 \
	"$(dmesg | grep -c 'cannot attach to security_file_mprotect: another user modifies its instruction pointer' | sed 's/^[1-9][0-9]*$/1/')"
expect_eq "pkey keeps enforcing the policy already loaded" "init: EACCES" "$(qp_as 1000)"
expect_eq "and allows whom it allowed" "init: ok" "$(qp_as 1001)"
expect_eq "a pkey-only policy still loads" 0 \
	"$(load "pkey 0x8001 deny uid 1001" >/dev/null; echo $?)"
expect_eq "and is enforced" "init: EACCES init: ok" "$(qp_as 1001) $(qp_as 1000)"
expect_eq "map hooks were not left half attached" '["pkey","endport"]' \
	"$($IBGUARDCTL status -j | jq -c .hooks)"
rmmod ibguard_floor
expect_eq "once the other module is gone the map policy loads" 0 \
	"$(load "map path $work/file prot exec deny uid 1000" "pkey 0x8001 deny uid 1000" >/dev/null; echo $?)"
expect_eq "map is enforced" "EACCES ok" "$(map_as 1000 rx) $(map_as 1001 rx)"

# --- ibguardctl lock ----------------------------------------------------------------
expect_eq "lock needs CAP_MAC_ADMIN" 4 "$(as 1000 $IBGUARDCTL lock >/dev/null 2>&1; echo $?)"
expect_eq "status before: not locked" false "$($IBGUARDCTL status -j | jq .locked)"
$IBGUARDCTL mode permissive >/dev/null
out=$($IBGUARDCTL lock 2>&1)
expect_eq "lock is refused in permissive mode" "5 set enforcing mode before locking" \
	"$? $(grep -o 'set enforcing mode before locking' <<<"$out")"
$IBGUARDCTL mode enforcing >/dev/null
expect_eq "lock" "ibguard locked until reboot: rmmod, permissive mode, flush and policies that can deny nothing are refused" \
	"$($IBGUARDCTL lock)"
expect_eq "status: locked" true "$($IBGUARDCTL status -j | jq .locked)"
expect_eq "the kernel log says so" 1 \
	"$(dmesg | grep -Ec 'ibguard: locked by pid [0-9]+ \("ibguardctl", auid [0-9]+\): rmmod, permissive mode, flush and policies that can deny nothing are refused until reboot$')"
gen=$($IBGUARDCTL status -j | jq .generation)
expect_status "rmmod ibguard_ib is refused" 1 rmmod ibguard_ib
expect_status "rmmod ibguard is refused" 1 rmmod ibguard
out=$($IBGUARDCTL mode permissive 2>&1)
expect_eq "permissive mode is refused (EPERM: exit 4)" "4 permissive mode is refused until reboot" \
	"$? $(grep -o 'permissive mode is refused until reboot' <<<"$out")"
refused='a policy enforcing nothing (no deny rule or default; flush) is refused'
out=$($IBGUARDCTL flush 2>&1)
expect_eq "flush is refused" "4 $refused" "$? $(grep -oF "$refused" <<<"$out")"
# Allow and log rules with every default allow deny nothing either.
out=$(load "pkey 0 allow" "map path $work/file allow log" \
	"default pkey allow" "default endport allow" "default map allow")
expect_eq "a policy of allow and log rules only, every default allow, is refused" \
	"4 $refused" "$? $(grep -oF "$refused" <<<"$out")"
expect_eq "and the generation is unchanged" "$gen" "$($IBGUARDCTL status -j | jq .generation)"
out=$(load "mode permissive" "pkey 0x8001 deny uid 1000")
expect_eq "a policy setting permissive mode is refused" 4 "$?"
expect_eq "nothing changed: same generation, still enforcing" "$gen enforcing" \
	"$($IBGUARDCTL status -j | jq -r '"\(.generation) \(.mode)"')"
expect_eq "still enforced after the refusals" "EACCES init: EACCES" \
	"$(map_as 1000 rx) $(qp_as 1000)"
expect_eq "policy reloads are still allowed" 0 "$(load "pkey 0x8001 deny uid 1001" >/dev/null; echo $?)"
expect_eq "a policy without rules but a deny default is allowed" 0 \
	"$(load "default endport deny" >/dev/null; echo $?)"
expect_eq "lock again is a no-op" 0 "$($IBGUARDCTL lock >/dev/null; echo $?)"
load "pkey 0x8001 deny uid 4242" >/dev/null
rm -rf "$work"
tap_done
