#!/bin/bash
# The boot-time setup as `make install` lays it out (build/unit-guest, a
# PREFIX and SYSCONFDIR of its own): the modules-load.d snippet loads the
# module, ibguard.service's ExecStart commands load the policy, ExecReload
# loads a changed one, and an invalid policy fails both visibly and changes
# nothing. The unit's commands are run as written, in order, as systemd
# would run them.
. "$(dirname "$0")/lib.sh"
tap_plan

inst=$IBG_BUILD/unit-guest
unit=$inst/usr/lib/systemd/system/ibguard.service
policy_dir=$inst/etc/ibguard

# unit_commands KEY: the unit's KEY= command lines.
unit_commands() {
	sed -n "s/^$1=//p" "$unit"
}

# run_unit KEY: runs each KEY= command, stopping at the first failure as
# systemd does; its status.
run_unit() {
	local line words
	while read -r line; do
		read -r -a words <<<"$line"
		"${words[@]}" || return $?
	done <<<"$(unit_commands "$1")"
}

rmmod ibguard_ib ibguard 2>/dev/null
install_modules || exit 1
mkdir -p /run/modprobe.d
cp "$inst/usr/lib/modprobe.d/ibguard.conf" /run/modprobe.d/
# The installed policy directory, writable for the test.
mount -t tmpfs -o mode=0700 tmpfs "$policy_dir"

expect_eq "the unit runs the installed ibguardctl on the configured policy" \
	"/sbin/modprobe ibguard|$inst/usr/sbin/ibguardctl load $policy_dir/policy.conf" \
	"$(unit_commands ExecStart | paste -sd'|')"

expect_status "systemd-modules-load loads ibguard from the snippet" 0 \
	/lib/systemd/systemd-modules-load "$inst/usr/lib/modules-load.d/ibguard.conf"
expect_eq "ibguard is loaded" yes "$([ -d /sys/module/ibguard ] && echo yes)"
rmmod ibguard

printf '%s\n' "mode enforcing" "map path /etc/hostname deny uid 4242" >"$policy_dir/policy.conf"
expect_status "ExecStart: module and policy come up" 0 run_unit ExecStart
expect_eq "the policy is active" "1 map path /etc/hostname deny uid 4242" \
	"$($IBGUARDCTL status -j | jq .generation) $($IBGUARDCTL show | tail -n 1)"

printf '%s\n' "mode enforcing" "map path /etc/hostname deny uid 4243" >"$policy_dir/policy.conf"
expect_status "ExecReload loads the changed policy" 0 run_unit ExecReload
expect_eq "the changed policy is active" "2 map path /etc/hostname deny uid 4243" \
	"$($IBGUARDCTL status -j | jq .generation) $($IBGUARDCTL show | tail -n 1)"

printf '%s\n' "mode enforcing" "map path /etc/hostname deny uid nosuchuser" >"$policy_dir/policy.conf"
out=$(run_unit ExecReload 2>&1)
expect_eq "an invalid policy fails the reload, with the error's place" \
	"1 $policy_dir/policy.conf:2:" "$? $(grep -o "^$policy_dir/policy.conf:2:" <<<"$out")"
expect_eq "and changes nothing" "2 map path /etc/hostname deny uid 4243" \
	"$($IBGUARDCTL status -j | jq .generation) $($IBGUARDCTL show | tail -n 1)"

rmmod ibguard
run_unit ExecStart >/dev/null 2>&1
expect_eq "at boot, an invalid policy fails the unit and leaves the module loaded" "1 yes" \
	"$? $([ -d /sys/module/ibguard ] && echo yes)"

rmmod ibguard
umount "$policy_dir"
rm -f /run/modprobe.d/ibguard.conf
uninstall_modules
tap_done
