#!/bin/bash
# Who may do what: every mutating command needs CAP_MAC_ADMIN in the initial
# user namespace and changes nothing without it (also for a task holding
# only CAP_NET_ADMIN, root without CAP_MAC_ADMIN, and root of a user
# namespace); reads need CAP_NET_ADMIN; the family does not exist in other
# network namespaces.
. "$(dirname "$0")/lib.sh"
tap_plan

work=$(mktemp -d /tmp/ibg-priv.XXXXXX)
chmod 755 "$work"
printf '%s\n' "map fs tmpfs prot exec deny uid 4242" "pkey 0x8001 deny uid 4242" \
	>"$work/base.conf"
printf '%s\n' "mode permissive" "map fs tmpfs prot write deny uid 4243" >"$work/other.conf"
chmod 644 "$work"/*.conf
: >"$work/file"
chmod 644 "$work/file"

rmmod ibguard_ib ibguard 2>/dev/null
insmod "$IBG_MODULES/ibguard.ko"
$IBGUARDCTL load "$work/base.conf" >/dev/null
# One decision so that "stats reset" would show.
setpriv --reuid=4242 --regid=4242 --clear-groups "$IBG_BUILD/selftests/mapit" "$work/file" rx \
	>/dev/null 2>&1

state() {
	echo "$($IBGUARDCTL status -j | jq -c '[.generation, .mode, .rules, .locked]')" \
		"$($IBGUARDCTL stats -j | jq -c '.classes.map.denied')" \
		"$($IBGUARDCTL show | sha256sum | cut -c1-16)"
}
before=$(state)
expect_eq "baseline: one map denial counted" 1 "$($IBGUARDCTL stats -j | jq '.classes.map.denied')"

# The ways to hold too little privilege, each a command prefix.
declare -A who=(
	["an unprivileged user"]="setpriv --reuid=1000 --regid=1000 --clear-groups"
	["a user with only CAP_NET_ADMIN"]="setpriv --reuid=1000 --regid=1000 --clear-groups --inh-caps=+net_admin --ambient-caps=+net_admin"
	["root without CAP_MAC_ADMIN"]="setpriv --bounding-set=-mac_admin"
	["root of a user namespace"]="unshare --user --map-root-user"
)
commands=("load $work/other.conf" "flush" "mode permissive" "stats reset" "lock")

for w in "an unprivileged user" "a user with only CAP_NET_ADMIN" "root without CAP_MAC_ADMIN" \
	"root of a user namespace"; do
	for c in "${commands[@]}"; do
		# shellcheck disable=SC2086 # word splitting of the prefix is wanted
		out=$(${who[$w]} $IBGUARDCTL $c 2>&1)
		rc=$?
		expect_eq "$c by $w: EPERM (exit 4)" 4 "$rc"
		[ $rc = 4 ] || echo "# $out"
	done
	expect_eq "nothing changed after $w tried" "$before" "$(state)"
done

out=$(setpriv --reuid=1000 --regid=1000 --clear-groups $IBGUARDCTL load "$work/other.conf" 2>&1)
expect_eq "the refusal names the capability" 1 "$(grep -c 'needs CAP_MAC_ADMIN' <<<"$out")"

# Reads: CAP_NET_ADMIN, in the initial user namespace.
for c in "status" "show" "stats" "monitor -n 1"; do
	expect_status "$c by an unprivileged user: exit 4" 4 \
		setpriv --reuid=1000 --regid=1000 --clear-groups timeout 5 $IBGUARDCTL $c
done
for c in "status" "show" "stats"; do
	expect_status "$c with only CAP_NET_ADMIN: allowed" 0 \
		setpriv --reuid=1000 --regid=1000 --clear-groups --inh-caps=+net_admin \
		--ambient-caps=+net_admin $IBGUARDCTL $c
done
expect_status "status by root of a user namespace: exit 4" 4 \
	unshare --user --map-root-user $IBGUARDCTL status

# Other network namespaces: the family is not there.
out=$(unshare --net $IBGUARDCTL status 2>&1)
expect_eq "status in another network namespace: module not found (exit 3)" 3 $?
out=$(unshare --net $IBGUARDCTL load "$work/other.conf" 2>&1)
expect_eq "load in another network namespace: exit 3" 3 $?
expect_eq "nothing changed after the other namespaces tried" "$before" "$(state)"

expect_status "root with CAP_MAC_ADMIN may load" 0 $IBGUARDCTL load "$work/other.conf"
rmmod ibguard
rm -rf "$work"
tap_done
