#!/bin/bash
# The audit trail, read with Debian's audit tools: with auditd running
# (started here, logging under /tmp), every denial, would-deny and "log"
# rule hit is one audit record that ausearch finds by ibguard's record type,
# joined to the syscall that caused it; loads and mode changes are
# MAC_POLICY_LOAD and MAC_STATUS records. ausearch output pasted into
# `ibguardctl explain` names the rule that decided, for a dozen decisions of
# each class, shadowing rules included.
. "$(dirname "$0")/lib.sh"
tap_plan

MAPIT=$IBG_BUILD/selftests/mapit
QPCTL=$IBG_BUILD/selftests/qpctl
work=$(mktemp -d /tmp/ibg-audit.XXXXXX)
chmod 755 "$work"
# auditd keeps its log directory to itself (mode 0700).
log=$work/audit/audit.log
cgroup=/sys/fs/cgroup/ibg-audit
auditd_pid=

cleanup() {
	[ -z "$auditd_pid" ] || { kill "$auditd_pid"; wait "$auditd_pid"; } 2>/dev/null
	auditctl -e 0 >/dev/null 2>&1
	chmod 600 /dev/infiniband/umad* 2>/dev/null
	rmdir "$cgroup" 2>/dev/null
	rmmod ibguard_ib ibguard mockhca 2>/dev/null
}
trap cleanup EXIT

# auditd with a configuration of its own: the log in $work, written through
# at once, no plugins, no rules (ibguard's records need none).
sed -e "s|^log_file = .*|log_file = $log|" -e 's|^log_group = .*|log_group = root|' \
	-e 's|^flush = .*|flush = DATA|' -e "s|^plugin_dir = .*|plugin_dir = $work/plugins|" \
	/etc/audit/auditd.conf >"$work/auditd.conf"
chmod 600 "$work/auditd.conf"
mkdir "$work/plugins" "$work/audit"
auditd -n -c "$work" >"$work/auditd.out" 2>&1 &
auditd_pid=$!
for _ in $(seq 50); do
	[ "$(auditctl -s 2>/dev/null | awk '$1 == "pid" { print $2 }')" = "$auditd_pid" ] && break
	sleep 0.1
done
expect_eq "auditd runs and audit is enabled" "enabled 1" "$(auditctl -s | grep '^enabled')"
# A burst must be limited by ibguard, not by the kernel's backlog.
auditctl -b 8192 >/dev/null

# records [ausearch options]: what ausearch finds in the log so far.
records() {
	ausearch -if "$log" "$@" 2>/dev/null
}

# wait_records TYPE N: until N records of TYPE (1490, MAC_POLICY_LOAD...) are in the log.
wait_records() {
	local i
	for i in $(seq 100); do
		[ "$(records -m "$1" --raw | grep -c lsm=ibguard)" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# field NAME: the value of NAME= in the record on stdin (raw records in the
# ENRICHED log format end in a 0x1d separator and interpreted fields).
field() {
	grep -o " $1=[^ ]*" | head -n 1 | cut -d= -f2- | cut -d $'\035' -f1
}

as() { # UID[:GROUPS] CMD...
	local uid=${1%%:*} groups=(--clear-groups)
	[ "$1" = "$uid" ] || groups=(--groups="${1#*:}")
	shift
	setpriv --reuid="$uid" --regid="$uid" "${groups[@]}" "$@"
}

# in_cgroup CMD...: CMD inside the test cgroup.
in_cgroup() {
	sh -c 'echo $$ >'"$cgroup"'/cgroup.procs && exec "$@"' sh "$@"
}

load() {
	printf '%s\n' "$@" >"$work/policy.conf"
	$IBGUARDCTL load "$work/policy.conf" >/dev/null
}

modprobe -a ib_core ib_umad
insmod "$IBG_MODULES/mockhca.ko"
insmod "$IBG_MODULES/ibguard.ko"
insmod "$IBG_MODULES/ibguard_ib.ko"
mkdir "$cgroup"
cgroup_id=$(stat -c %i "$cgroup")

for f in f1 f2 f3 f4 f5 f6 tree/inner tree/other; do
	mkdir -p "$(dirname "$work/$f")"
	echo "$f" >"$work/$f"
done
chmod 755 "$work/tree"
chmod 666 "$work"/f* "$work"/tree/*
cp "$MAPIT" "$work/mapit-exe"
cp "$QPCTL" "$work/qpctl-exe"
tmpfs_type=$(stat -f -c %T "$work")

# --- policy loads and mode changes --------------------------------------------
load "mode enforcing" "default endport deny" "option pkey-on-roce yes" \
	"map path $work/f1 deny" "map path $work/f2 allow" "pkey 0x8001 deny" "endport * * allow"
generation=$($IBGUARDCTL status -j | jq .generation)
wait_records MAC_POLICY_LOAD 1
rec=$(records -m MAC_POLICY_LOAD --raw | grep lsm=ibguard | tail -n 1)
expect_eq "a load is one MAC_POLICY_LOAD record with what was loaded" \
	"load $generation enforcing 4 1 1 2 allow deny allow 1 1 \"ibguardctl\" 0 1" \
	"$(for f in op generation mode rules pkey_rules endport_rules map_rules default_pkey \
		default_endport default_map pkey_on_roce revoke comm uid res; do
		field $f <<<"$rec"
	done | xargs -d'\n' echo)"
expect_eq "the kernel log names the load, its rules, defaults, options and loader" 1 \
	"$(dmesg | grep -c "ibguard: policy generation $generation loaded by pid [0-9]* (\"ibguardctl\", auid [0-9]*): 1 pkey, 1 endport, 2 map rules; defaults pkey allow, endport deny, map allow; options pkey-on-roce; mode enforcing$")"

# A loader's comm is the user's to choose: one with a blank is written in hex.
cp "$IBGUARDCTL" "$work/x auid=0"
"$work/x auid=0" load "$work/policy.conf" >/dev/null
expect_eq "a comm that could add a field is written in hex in the kernel log" 1 \
	"$(dmesg | grep -c "ibguard: policy generation $((generation + 1)) loaded by pid [0-9]* ($(printf 'x auid=0' | od -An -tx1 | tr -d ' \n' | tr a-f A-F), auid [0-9]*): 1 pkey")"
wait_records MAC_POLICY_LOAD 2
generation=$((generation + 1))

$IBGUARDCTL mode permissive >/dev/null
$IBGUARDCTL mode enforcing >/dev/null
wait_records MAC_STATUS 2
expect_eq "mode changes are MAC_STATUS records, old and new mode" \
	"mode permissive enforcing $generation|mode enforcing permissive $generation" \
	"$(records -m MAC_STATUS --raw | grep lsm=ibguard | while read -r rec; do
		echo "$(field op <<<"$rec") $(field mode <<<"$rec") $(field old_mode <<<"$rec") $(field generation <<<"$rec")"
	done | paste -sd'|')"
expect_eq "the kernel log names each mode change" 1 \
	"$(dmesg | grep -c "ibguard: mode set to permissive (was enforcing) by pid [0-9]* (\"ibguardctl\", auid [0-9]*), policy generation $generation$")"

# --- a map denial, field by field ---------------------------------------------
expect_eq "mapit is denied" EACCES "$(as 1000 "$MAPIT" "$work/f1" r private 2>/dev/null)"
wait_records 1490 1
rec=$(records -m 1490 --raw | grep lsm=ibguard | tail -n 1)
expect_eq "the record names class, operation, verdict, rule and generation" \
	"map mmap deny 0 0 1 $generation 0" \
	"$(for f in class op verdict permissive revoked rule generation res; do
		field $f <<<"$rec"
	done | xargs echo)"
expect_eq "the object: device, inode, path, protection" \
	"$(stat -c '%Hd:%Ld %i' "$work/f1") \"$work/f1\" r 0" \
	"$(for f in dev ino path prot shared; do field $f <<<"$rec"; done | xargs -d'\n' echo)"
expect_eq "the subject: ids, comm, exe, cgroup, groups" \
	"1000 1000 1000 1000 4294967295 \"mapit\" \"$MAPIT\" $(stat -c %i /sys/fs/cgroup) (none) $(stat -Lc '%Hd:%Ld %i' "$MAPIT")" \
	"$(for f in uid gid euid egid auid comm exe cgroup groups exe_dev exe_ino; do
		field $f <<<"$rec"
	done | xargs -d'\n' echo)"
expect_eq "the record joins its syscall's event: mmap failing with EACCES" \
	"9 no -13" \
	"$(records -m 1490 --raw | grep '^type=SYSCALL' | tail -n 1 |
		sed 's/^/ /' | { read -r s; echo "$(field syscall <<<"$s") $(field success <<<"$s") $(field exit <<<"$s")"; })"
expect_eq "ausearch -i reads it: ids to names, res to no" "no" \
	"$(records -m 1490 -i | grep lsm=ibguard | tail -n 1 | field res)"

$IBGUARDCTL mode permissive >/dev/null
as 1000 "$MAPIT" "$work/f1" r private >/dev/null 2>&1
wait_records 1490 2
expect_eq "permissive mode: verdict deny, permissive=1, res=1" "deny 1 1" \
	"$(records -m 1490 --raw | grep lsm=ibguard | tail -n 1 | { read -r r; echo "$(field verdict <<<" $r") $(field permissive <<<" $r") $(field res <<<" $r")"; })"

# --- rate limit: a burst of 500 would-denials ---------------------------------
before=$(records -m 1490 --raw | grep -c lsm=ibguard)
dropped_before=$($IBGUARDCTL stats -j | jq .audit_dropped)
start=$(date +%s%N)
as 1000 "$MAPIT" "$work/f1" r private repeat 500 >/dev/null
took=$((($(date +%s%N) - start + 999999999) / 1000000000))
sleep 2
written=$(($(records -m 1490 --raw | grep -c lsm=ibguard) - before))
dropped=$(($($IBGUARDCTL stats -j | jq .audit_dropped) - dropped_before))
# 200 a second: a burst over N started seconds writes at most 200 * (N + 1)
# (the window need not start with it). On a fast kernel 500 take under a
# second, so at most 400 are written; a slow (debug) kernel may write all.
echo "# burst of 500 in ${took}s: $written written, $dropped dropped"
expect_eq "a burst is rate-limited and every record is written or counted as dropped" \
	"500 yes yes" "$((written + dropped)) $([ "$written" -ge 1 ] && echo yes) $(
		[ "$written" -le $((200 * (took + 1))) ] && echo yes)"
expect_eq "the audit subsystem lost nothing" "lost 0" "$(auditctl -s | grep '^lost')"
$IBGUARDCTL mode enforcing >/dev/null

# --- audit off: no records ----------------------------------------------------
auditctl -e 0 >/dev/null
sleep 1
before=$(grep -c lsm=ibguard "$log")
as 1000 "$MAPIT" "$work/f1" r private >/dev/null 2>&1
sleep 1
expect_eq "with audit disabled nothing is recorded" "$before" "$(grep -c lsm=ibguard "$log")"
auditctl -e 1 >/dev/null

# --- a stacked file: mprotect on overlayfs ------------------------------------
# mprotect gets the lower layer's file that ovl_mmap() put into the vma; the
# record names the file user space mapped, in the merged view.
modprobe overlay
ovl=$work/ovl
mkdir -p "$ovl/lower" "$ovl/upper" "$ovl/work" "$ovl/merged"
echo g >"$ovl/lower/g"
chmod 755 "$ovl" "$ovl/lower" "$ovl/upper"
chmod 644 "$ovl/lower/g"
mount -t overlay overlay -o "lowerdir=$ovl/lower,upperdir=$ovl/upper,workdir=$ovl/work" \
	"$ovl/merged"
load "map path $ovl/merged/g prot exec deny"
before=$(records -m 1490 --raw | grep -c lsm=ibguard)
expect_eq "overlayfs: mprotect adding exec is denied" EACCES \
	"$(as 1000 "$MAPIT" "$ovl/merged/g" r private mprotect rx 2>/dev/null)"
wait_records 1490 $((before + 1))
rec=$(records -m 1490 --raw | grep lsm=ibguard | tail -n 1)
expect_eq "overlayfs: the record names the merged file, its device and inode" \
	"mprotect 1 $(stat -c '%Hd:%Ld %i' "$ovl/merged/g") \"$ovl/merged/g\" rx 0" \
	"$(for f in op rule dev ino path prot shared; do field $f <<<"$rec"; done | xargs -d'\n' echo)"
umount "$ovl/merged"

# explain_phase NAME EXPECTED: explains the decision records logged since
# mark_phase, against the active policy; EXPECTED lists the deciding rule of
# each ("d" for a class default), in order.
mark_phase() {
	phase_start=$(wc -l <"$log")
}
explain_phase() {
	local name=$1 want=$2 n got
	n=$(wc -w <<<"$want")
	for _ in $(seq 50); do
		[ "$(tail -n +$((phase_start + 1)) "$log" | grep -c lsm=ibguard.*class=)" -ge "$n" ] && break
		sleep 0.1
	done
	tail -n +$((phase_start + 1)) "$log" >"$work/phase.log"
	ausearch -if "$work/phase.log" -m 1490 2>/dev/null >"$work/phase.txt"
	got=$($IBGUARDCTL explain -j <"$work/phase.txt" |
		jq -r '(if .rule then .rule.number else "d" end | tostring) + (if (.notes | length) > 0 then "!" else "" end)' |
		xargs echo)
	expect_eq "$name" "$want" "$got"
}

# --- map: a dozen denials and a logged allow -----------------------------------
load "map path $work/f1 allow uid 1000 log" \
	"map path $work/f1 deny" \
	"map tree $work/tree deny uid 1001" \
	"map path $work/tree/inner allow uid 1001" \
	"map path $work/f2 prot write deny" \
	"map path $work/f2 prot exec deny uid 1002" \
	"map fs $tmpfs_type prot exec deny uid 1003" \
	"map chardev 1:5 deny uid 1004" \
	"map path $work/f3 shared deny uid 1005" \
	"map path $work/f4 deny exe $work/mapit-exe" \
	"map path $work/f5 deny gid 2000" \
	"map path $work/f6 deny cgroup /ibg-audit"
mark_phase
as 1000 "$MAPIT" "$work/f1" r private >/dev/null  # allowed, logged by rule 1
as 1001 "$MAPIT" "$work/f1" r private >/dev/null
as 1002 "$MAPIT" "$work/f1" r private >/dev/null
as 1001 "$MAPIT" "$work/tree/inner" r private >/dev/null
as 1001 "$MAPIT" "$work/tree/other" r private >/dev/null
as 0 "$MAPIT" "$work/f2" w shared >/dev/null
as 1002 "$MAPIT" "$work/f2" x private >/dev/null
as 1003 "$MAPIT" "$work/f3" x private >/dev/null
as 1004 "$MAPIT" /dev/zero r private >/dev/null
as 1005 "$MAPIT" "$work/f3" r shared >/dev/null
as 1006 "$work/mapit-exe" "$work/f4" r private >/dev/null
as 1007:2000 "$MAPIT" "$work/f5" r private >/dev/null
in_cgroup setpriv --reuid=1008 --regid=1008 --clear-groups "$MAPIT" "$work/f6" r private >/dev/null
explain_phase "explain names the rule of each map decision" "1 2 2 3 3 5 6 7 8 9 10 11 12"

out=$(ausearch -if "$work/phase.log" -m 1490 2>/dev/null | $IBGUARDCTL explain)
expect_eq "an earlier allow rule shadowing a later deny is shown" 1 \
	"$(grep -c "^shadowed: rule 2 (map path $work/f1 deny) would deny it, but comes later$" <<<"$out")"
expect_eq "the shadowed allow below a deny is shown, with the rule that flips it" \
	"to allow it, insert before rule 3:|    map path $work/tree/inner prot read allow uid 1001" \
	"$(grep -A1 '^to allow it, insert before rule 3:' <<<"$out" | head -n 2 | paste -sd'|')"

# --- pkey: a dozen denials and a logged allow ---------------------------------
load "pkey 0x8001 allow uid 1000 log" \
	"pkey 0x8001 deny" \
	"pkey 0x8002 subnet fe80:: deny uid 1001" \
	"pkey 0x8002 allow uid 1001" \
	"pkey 0x8000-0x80ff deny uid 1002" \
	"pkey 0x0003 deny gid 2000" \
	"pkey 0x0003 deny exe $work/qpctl-exe" \
	"pkey 0x0003 deny cgroup /ibg-audit" \
	"pkey 0xffff deny uid 1003"
mark_phase
as 1000 "$QPCTL" create rc 1 init 1 1 >/dev/null 2>&1  # allowed, logged by rule 1
for step in "1001 1 1" "1002 1 1" "1003 1 1" "1001 1 2" "1002 1 2" "1004:2000 1 3" \
	"1005x 1 3" "1006c 1 3" "1003 1 0" "1001 2 1" "1002 2 2" "1001 2 2"; do
	read -r who port index <<<"$step"
	case "$who" in
	*x) as "${who%x}" "$work/qpctl-exe" create rc 1 init "$port" "$index" ;;
	*c) in_cgroup setpriv --reuid="${who%c}" --regid="${who%c}" --clear-groups \
		"$QPCTL" create rc 1 init "$port" "$index" ;;
	*) as "$who" "$QPCTL" create rc 1 init "$port" "$index" ;;
	esac >/dev/null 2>&1
done
explain_phase "explain names the rule of each pkey decision" "1 2 2 2 3 5 6 7 8 9 2 5 3"
expect_eq "a hypothetical pkey request against the active policy" "deny 5" \
	"$($IBGUARDCTL explain -j --class pkey --pkey 0x8042 --subnet fe80:: --uid 1002 --gid 1002 |
		jq -r '"\(.verdict) \(.rule.number)"')"

# --- a revocation names the QP and the task that set it up ---------------------
load "pkey any allow"
mkfifo "$work/fifo"
chmod 666 "$work/fifo"
# setpriv execs qpctl, which holds its QP in RTS until the fifo closes.
setpriv --reuid=1009 --regid=1009 --groups=2000 "$QPCTL" create rc 1 init 1 1 rtr rts wait \
	<"$work/fifo" >"$work/held" 2>&1 &
holder=$!
exec 3>"$work/fifo"
for _ in $(seq 100); do
	grep -q pipe_read /proc/$holder/wchan 2>/dev/null && break
	sleep 0.05
done
mark_phase
load "pkey 0x8001 deny uid 1009"
explain_phase "explain names the rule of a revocation" "1"
rec=$(grep lsm=ibguard "$work/phase.log" | tail -n 1)
expect_eq "a revocation record: the QP, and who set it up as recorded then" \
	"pkey revalidate deny 1 0x8001 \"mock0\" 1 yes $holder 1009 1009 \"qpctl\" 2000 0" \
	"$(for f in class op verdict revoked pkey device port qp pid uid euid comm groups res; do
		if [ $f = qp ]; then
			[[ "$(field qp <<<"$rec")" =~ ^[0-9]+$ ]] && echo yes
		else
			field $f <<<"$rec"
		fi
	done | xargs -d'\n' echo)"
exec 3>&-
wait $holder

# --- endport: a dozen denials and a logged allow ------------------------------
chmod 666 /dev/infiniband/umad*
load "endport mock0 1 allow uid 1000 log" \
	"endport mock0 1 deny" \
	"endport mock0 2 deny uid 1001" \
	"endport * 2 allow uid 1001" \
	"endport * * deny uid 1002" \
	"endport mock0 * deny gid 2000" \
	"endport * * deny cgroup /ibg-audit"
endport_generation=$($IBGUARDCTL status -j | jq .generation)
mark_phase
as 1000 smpquery -C mock0 -P 1 nodeinfo 1 >/dev/null 2>&1  # allowed, logged by rule 1
for step in "1001 1" "1002 1" "1003 1" "1001 2" "1002 2" "1004:2000 2" "1005c 2" "0 1" \
	"1006 1" "1004:2000 1" "1005c 1" "1002 2"; do
	read -r who port <<<"$step"
	case "$who" in
	*c) in_cgroup setpriv --reuid="${who%c}" --regid="${who%c}" --clear-groups \
		smpquery -C mock0 -P "$port" nodeinfo "$port" ;;
	*) as "$who" smpquery -C mock0 -P "$port" nodeinfo "$port" ;;
	esac >/dev/null 2>&1
done
# smpquery registers two SMI agents and sends one SMP: three decisions.
explain_phase "explain names the rule of each endport decision" "1 1 1 2 2 2 3 5 6 7 2 2 2 2 5"
chmod 600 /dev/infiniband/umad*

# --- explain without the module's help -----------------------------------------
offline=$work/offline.conf
printf '%s\n' "map path $work/f2 allow uid 1001" "map tree $work deny" >"$offline"
expect_eq "a hypothetical request against a policy file" "deny 2" \
	"$($IBGUARDCTL explain --policy "$offline" --class map --path "$work/f2" --prot rx \
		--uid 1002 --gid 1002 -j | jq -r '"\(.verdict) \(.rule.number)"')"
ausearch -if "$work/phase.log" -m 1490 2>/dev/null | {
	load "endport * * allow"
	$IBGUARDCTL explain
} >"$work/old.txt"
expect_eq "old records against a newer policy say so, each" "15 15" \
	"$(grep -c '^request:' "$work/old.txt") $(grep -c "^note:     the audit record comes from policy generation $endport_generation$" "$work/old.txt")"
expect_status "input without an ibguard decision is an error" 1 \
	sh -c "echo 'type=SYSCALL msg=audit(1.2:3): syscall=9' | $IBGUARDCTL explain"

expect_eq "no audit record was lost" "lost 0" "$(auditctl -s | grep '^lost')"
tap_done
