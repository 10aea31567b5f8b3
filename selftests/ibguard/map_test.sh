#!/bin/bash
# The map class end to end: policies loaded with ibguardctl decide mmap and
# mprotect of files for real tasks (several uids, groups, cgroups,
# executables), with exact statistics and events.
. "$(dirname "$0")/lib.sh"
tap_plan

MAPIT=$IBG_BUILD/selftests/mapit
work=$(mktemp -d /tmp/ibg-map.XXXXXX)
chmod 755 "$work"
mkdir -p "$work/tree/sub" "$work/other"
for f in secret pub tree/sub/deep other/plain; do
	echo "$f" >"$work/$f"
done
chmod 666 "$work"/secret "$work"/pub "$work"/tree/sub/deep "$work"/other/plain
cp "$MAPIT" "$work/mapit-exe"
policy=$work/policy.conf

# as UID[:GID[:GROUPS]] CMD...: run CMD with those credentials.
as() {
	local ids=$1 uid gid groups group_args=(--clear-groups)
	shift
	IFS=: read -r uid gid groups <<<"$ids"
	[ -z "$groups" ] || group_args=(--groups="$groups")
	setpriv --reuid="$uid" --regid="${gid:-$uid}" "${group_args[@]}" "$@"
}

# verdict NAME EXPECTED IDS ARGS...: mapit's answer ("ok" or "EACCES").
verdict() {
	local name=$1 want=$2 ids=$3
	shift 3
	expect_eq "$name" "$want" "$(as "$ids" "$MAPIT" "$@" 2>/dev/null)"
}

load() {
	printf '%s\n' "$@" >"$policy"
	$IBGUARDCTL load "$policy" >/dev/null
}

rmmod ibguard 2>/dev/null
insmod "$IBG_MODULES/ibguard.ko"

# --- objects ---------------------------------------------------------------
load "map path $work/secret deny uid 1000"
expect_eq "map hooks attached while the policy has map rules" '["map"]' \
	"$($IBGUARDCTL status -j | jq -c .hooks)"
verdict "path rule denies uid 1000" EACCES 1000 "$work/secret" r private
verdict "path rule leaves uid 1001 alone" ok 1001 "$work/secret" r private
verdict "path rule leaves other files alone" ok 1000 "$work/pub" r private
verdict "anonymous mappings are never touched" ok 1000 anon rwx

load "map tree $work/tree deny uid 1000"
verdict "tree rule covers files below the directory" EACCES 1000 "$work/tree/sub/deep" r private
verdict "tree rule does not cover a sibling directory" ok 1000 "$work/other/plain" r private

load "map chardev 1:5 deny uid 1000"
verdict "chardev major:minor rule denies /dev/zero" EACCES 1000 /dev/zero r private
load "map chardev 1:7-9 deny uid 1000"
verdict "chardev outside the minor range is allowed" ok 1000 /dev/zero r private
load "map chardev 1 deny uid 1000"
verdict "chardev major-only rule covers every minor" EACCES 1000 /dev/zero r private

load "map fs tmpfs prot exec deny"
verdict "fs rule with prot exec denies an executable mapping" EACCES 0 "$work/pub" rx private
verdict "fs rule with prot exec allows a readable mapping" ok 0 "$work/pub" r private

# --- stacked files: overlayfs ---------------------------------------------------
# ovl_mmap() puts the file of the layer below into the vma once
# security_mmap_file() has run, so mprotect sees that file: it must still be
# decided on the object user space named, the file in the merged view.
# Every layer on the one tmpfs: st_dev is the overlay's, st_ino the real one.
modprobe overlay
ovl=$work/ovl
mkdir -p "$ovl/lower/dir" "$ovl/upper" "$ovl/work" "$ovl/merged"
echo f >"$ovl/lower/f"
echo g >"$ovl/lower/dir/g"
chmod 755 "$ovl" "$ovl/lower" "$ovl/lower/dir" "$ovl/upper"
chmod 644 "$ovl/lower/f" "$ovl/lower/dir/g"
mount -t overlay overlay -o "lowerdir=$ovl/lower,upperdir=$ovl/upper,workdir=$ovl/work" \
	"$ovl/merged"
merged=$ovl/merged
for object in "fs overlay" "tree $merged/dir" "path $merged/dir/g"; do
	load "map $object prot exec deny"
	kind=${object%% *}
	verdict "overlay, $kind rule: a readable private mapping is allowed" ok 1000 \
		"$merged/dir/g" r private
	verdict "overlay, $kind rule: mmap with exec is denied" EACCES 1000 \
		"$merged/dir/g" rx private
	verdict "overlay, $kind rule: mprotect adding exec to a private mapping is denied" \
		EACCES 1000 "$merged/dir/g" r private mprotect rx
	verdict "overlay, $kind rule: mprotect adding exec to a shared mapping is denied" \
		EACCES 1000 "$merged/dir/g" r shared mprotect rx
done
verdict "overlay, path rule: another file of the merged view may add exec" ok 1000 \
	"$merged/f" r private mprotect rx

monitor_start 20 "$work/events" -j -n 1
as 1000 "$MAPIT" "$merged/dir/g" r private mprotect rx >/dev/null 2>&1
wait $monitor
expect_eq "an mprotect denial on overlayfs names the file in the merged view" \
	"denied mprotect $merged/dir/g $(stat -c '%Hd:%Ld %i' "$merged/dir/g") r-x" \
	"$(jq -r '"\(.type) \(.operation) \(.path) \(.dev) \(.ino) \(.prot)"' "$work/events")"
umount "$merged"

# --- prot, shared, mprotect ------------------------------------------------
load "map path $work/pub prot write deny"
verdict "prot write: read-only mapping allowed" ok 1000 "$work/pub" r shared
verdict "prot write: writable shared mapping denied" EACCES 1000 "$work/pub" rw shared
verdict "prot write: private writable mapping denied too" EACCES 1000 "$work/pub" rw private
verdict "mprotect adding write to a read mapping is denied" EACCES 1000 "$work/pub" r private mprotect rw

load "map path $work/pub prot write shared deny"
verdict "shared rule: private writable mapping allowed" ok 1000 "$work/pub" rw private
verdict "shared rule: shared writable mapping denied" EACCES 1000 "$work/pub" rw shared

# A MAP_SHARED mapping of a file opened read-only (mapit opens O_RDONLY for
# "r shared") loses VM_SHARED in do_mmap() and keeps only VM_MAYSHARE: it
# is still a shared mapping when mprotect asks for more.
load "map path $work/pub prot exec shared deny"
verdict "shared rule: read-only shared mapping allowed" ok 1000 "$work/pub" r shared
verdict "shared rule: mprotect adding exec to a read-only shared mapping denied" EACCES 1000 "$work/pub" r shared mprotect rx
verdict "shared rule: mprotect adding exec to a private mapping allowed" ok 1000 "$work/pub" r private mprotect rx

# --- subjects --------------------------------------------------------------
load "map path $work/secret deny user nobody"
verdict "user subject matches that user" EACCES 65534 "$work/secret" r private
verdict "user subject leaves others alone" ok 1000 "$work/secret" r private

load "map path $work/secret deny group nogroup"
verdict "group subject matches the effective gid" EACCES 1000:65534 "$work/secret" r private
verdict "group subject matches a supplementary group" EACCES 1000:1000:65534 "$work/secret" r private
verdict "group subject leaves other groups alone" ok 1000:1000:1001 "$work/secret" r private

load "map path $work/secret deny gid 2000-2010"
verdict "gid range matches inside" EACCES 1000:2005 "$work/secret" r private
verdict "gid range does not match outside" ok 1000:2011 "$work/secret" r private

mkdir -p /sys/fs/cgroup/ibgtest/a/b
load "map path $work/secret deny cgroup /ibgtest/a"
in_cgroup() { # CGROUP CMD...
	local cg=$1
	shift
	sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "/sys/fs/cgroup$cg" "$@"
}
expect_eq "cgroup subject matches a task in that cgroup" EACCES \
	"$(in_cgroup /ibgtest/a "$MAPIT" "$work/secret" r private 2>/dev/null)"
expect_eq "cgroup subject matches a task in a descendant" EACCES \
	"$(in_cgroup /ibgtest/a/b "$MAPIT" "$work/secret" r private 2>/dev/null)"
expect_eq "cgroup subject leaves other cgroups alone" ok \
	"$(in_cgroup /ibgtest "$MAPIT" "$work/secret" r private 2>/dev/null)"

load "map path $work/secret deny exe $work/mapit-exe"
expect_eq "exe subject matches that executable" EACCES \
	"$("$work/mapit-exe" "$work/secret" r private 2>/dev/null)"
verdict "exe subject leaves other executables alone" ok 0 "$work/secret" r private

# --- order, defaults -------------------------------------------------------
load "map path $work/secret allow uid 1000" "map path $work/secret deny"
verdict "first match: an earlier allow wins" ok 1000 "$work/secret" r private
verdict "first match: the later deny applies to others" EACCES 1001 "$work/secret" r private

# Programs and libraries live on 9p (host root, repository) and tmpfs here.
load "default map deny" "map path $work/secret deny uid 1000" \
	"map fs 9p allow" "map fs tmpfs allow"
verdict "default deny with broad allows: allowed" ok 1001 "$work/secret" r private
verdict "default deny with broad allows: an earlier deny applies" EACCES 1000 "$work/secret" r private
verdict "default deny applies when no rule matches" EACCES 0 /dev/zero r private
verdict "default deny: anonymous mappings still untouched" ok 0 anon rw
load "map path $work/secret deny uid 1000"

# --- permissive mode and statistics ----------------------------------------
$IBGUARDCTL stats reset >/dev/null
$IBGUARDCTL mode permissive >/dev/null
verdict "permissive mode does not deny" ok 1000 "$work/secret" r private repeat 5
json=$($IBGUARDCTL stats -j --rules)
expect_eq "permissive: five would-deny, no denial" "5 0 5" \
	"$(jq -r '"\(.classes.map.would_deny) \(.classes.map.denied) \(.rules[0].hits)"' <<<"$json")"
$IBGUARDCTL mode enforcing >/dev/null
verdict "enforcing again denies" EACCES 1000 "$work/secret" r private
verdict "seven more allowed mappings" ok 1001 "$work/secret" r private repeat 7
json=$($IBGUARDCTL stats -j --rules)
expect_eq "stats: rule hits and denials equal the operations performed" "6 1" \
	"$(jq -r '"\(.rules[0].hits) \(.classes.map.denied)"' <<<"$json")"

# --- events ----------------------------------------------------------------
monitor_start 20 "$work/events" -j -n 1
as 1000 "$MAPIT" "$work/secret" r private >/dev/null 2>&1
wait $monitor
expect_eq "monitor receives the denial with its details" \
	"denied map mmap 1 1000 $work/secret r-- false" \
	"$(jq -r '"\(.type) \(.class) \(.operation) \(.rule) \(.uid) \(.path) \(.prot) \(.permissive)"' "$work/events")"

load "map path $work/pub allow uid 1000 log"
monitor_start 20 "$work/events" -j -n 1
as 1000 "$MAPIT" "$work/pub" r private >/dev/null 2>&1
wait $monitor
expect_eq "a log rule that allows reports a logged event" "logged allow 1 1000 false" \
	"$(jq -r '"\(.type) \(.verdict) \(.rule) \(.uid) \(.permissive)"' "$work/events")"

# The kernel log line of a denial: a comm and a file name the user chose
# are written as audit writes them (hex, as they hold a blank and a
# newline), so they can neither add a field nor forge a line.
mkdir "$work/nl"
chmod 755 "$work/nl"
odd=$work/nl/$'a\nb'
echo odd >"$odd"
chmod 644 "$odd"
cp "$MAPIT" "$work/x uid=0"
load "map tree $work/nl deny uid 1000" "map path $work/secret deny uid 1000"
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n' | tr a-f A-F; }
# await_log PATTERN: the last kernel log line matching PATTERN, waiting up to
# 5 s for one.
await_log() {
	local line
	for _ in $(seq 50); do
		line=$(dmesg -t | grep "$1" | tail -n 1)
		[ -n "$line" ] && break
		sleep 0.1
	done
	printf '%s' "$line"
}
# Past the kernel log's rate limit for this line (10 in 5 s).
sleep 6
expect_eq "a comm with a blank maps a file with a newline in its name: denied" EACCES \
	"$(as 1000 "$work/x uid=0" "$odd" r private 2>/dev/null)"
ino=$(stat -c %i "$odd")
line=$(await_log "^ibguard: denied map mmap by .* ino=$ino ")
expect_eq "the kernel log line writes comm and path in hex" \
	"ibguard: denied map mmap by rule 1: pid=PID comm=$(hex "x uid=0") uid=1000 gid=1000 dev=$(stat -c '%Hd:%Ld' "$odd") ino=$ino prot=r path=$(hex "$odd")" \
	"$(sed 's/ pid=[0-9]* / pid=PID /' <<<"$line")"
verdict "a plain comm and path: denied" EACCES 1000 "$work/secret" r private
ino=$(stat -c %i "$work/secret")
line=$(await_log "^ibguard: denied map mmap by rule 2: .* ino=$ino ")
expect_eq "a plain comm and path are quoted" "comm=\"mapit\" path=\"$work/secret\"" \
	"$(grep -o 'comm=[^ ]*\|path=.*' <<<"$line" | paste -sd' ')"
load "map path $work/secret deny uid 1000"

out=$(as 1000 timeout 20 $IBGUARDCTL monitor -n 1 2>&1)
expect_eq "monitor needs CAP_NET_ADMIN: an unprivileged user gets exit 4" 4 $?
load "map path $work/secret deny uid 1000"

# --- the control plane -----------------------------------------------------
gen=$($IBGUARDCTL status -j | jq .generation)
printf 'map path %s deny\n' "$work/pub" >"$work/other.conf"
out=$(as 1000 $IBGUARDCTL load "$work/other.conf" 2>&1)
expect_eq "unprivileged load exits 4" 4 $?
expect_eq "unprivileged load changed nothing" "$gen" "$($IBGUARDCTL status -j | jq .generation)"

printf 'map path %s deny\nmap path /nonexistent deny\n' "$work/pub" >"$work/bad.conf"
$IBGUARDCTL load "$work/bad.conf" >/dev/null 2>&1
expect_eq "invalid policy exits 1" 1 $?
verdict "invalid policy leaves the previous one active" EACCES 1000 "$work/secret" r private

$IBGUARDCTL show >"$work/shown.conf"
$IBGUARDCTL load "$work/shown.conf" >/dev/null
expect_eq "show output loads back and shows identically" "$(cat "$work/shown.conf")" "$($IBGUARDCTL show)"

$IBGUARDCTL load --dry-run "$work/other.conf" >/dev/null
expect_eq "dry run changes nothing" "$(cat "$work/shown.conf")" "$($IBGUARDCTL show)"

# A rule the kernel rejects is reported at its line: a cgroup outside the
# loader's cgroup namespace resolves in user space but not in the kernel.
mkdir -p /sys/fs/cgroup/ibgns /sys/fs/cgroup/ibgother
printf '# comment\nmap path %s deny\nmap path %s deny cgroup /ibgother\n' \
	"$work/pub" "$work/secret" >"$work/ns.conf"
out=$(sh -c 'echo $$ >/sys/fs/cgroup/ibgns/cgroup.procs && exec unshare -C "$@"' \
	sh $IBGUARDCTL load "$work/ns.conf" 2>&1)
expect_eq "kernel rejection exits 1" 1 $?
expect_eq "kernel rejection names the file, line and reason" \
	"ibguardctl: $work/ns.conf:3:1: error: the kernel rejected this rule: no cgroup v2 with this id" \
	"$(head -n1 <<<"$out")"
expect_eq "kernel rejection changed nothing" "$(cat "$work/shown.conf")" "$($IBGUARDCTL show)"
rmdir /sys/fs/cgroup/ibgns /sys/fs/cgroup/ibgother

# Interval statistics count what happened in the interval (long enough for
# three short-lived processes on the debug kernel too).
$IBGUARDCTL stats -j -i 8 -n 1 >"$work/interval" &
stats=$!
sleep 0.5
for _ in 1 2 3; do as 1000 "$MAPIT" "$work/secret" r private >/dev/null 2>&1; done
wait $stats
expect_eq "stats -i reports the interval's denials" 3 "$(jq .classes.map.denied "$work/interval")"

$IBGUARDCTL flush >/dev/null
expect_eq "no hooks attached once the policy has no map rules" '[]' \
	"$($IBGUARDCTL status -j | jq -c .hooks)"
load "default map deny" "map fs 9p allow" "map fs tmpfs allow"
expect_eq "map hooks attached for a deny default alone" '["map"]' \
	"$($IBGUARDCTL status -j | jq -c .hooks)"

rmmod ibguard
rmdir /sys/fs/cgroup/ibgtest/a/b /sys/fs/cgroup/ibgtest/a /sys/fs/cgroup/ibgtest
rm -rf "$work"
tap_done
