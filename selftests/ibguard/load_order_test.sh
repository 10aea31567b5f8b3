#!/bin/bash
# Module ordering: with the ibguard modules installed (modules directory and
# modprobe configuration, as `make install` lays them out), InfiniBand
# enforcement comes up by itself whichever of ibguard and ib_core loads
# first, and comes back after ib_core is unloaded and loaded again.
. "$(dirname "$0")/lib.sh"
tap_plan

work=$(mktemp -d /tmp/ibg-order.XXXXXX)

# wait_for CONDITION...: up to 30 s for CONDITION to hold (modprobe of an
# xz-compressed 6.12 module took over 10 s under TCG with a second guest
# running beside it).
wait_for() {
	local i
	for i in $(seq 150); do
		"$@" && return 0
		sleep 0.2
	done
	return 1
}
loaded() { [ -d "/sys/module/$1" ]; }
not_loaded() { [ ! -d "/sys/module/$1" ]; }
available() { $IBGUARDCTL status -j | jq -c .available; }
# /sys/module/ibguard_ib appears before its init has run: wait for what it
# brings instead.
ib_available() { [ "$(available)" = '["pkey","endport","map"]' ]; }
# remove_tree MODULE: MODULE and every module that depends on it.
remove_tree() {
	local holder
	[ -d "/sys/module/$1" ] || return 0
	for holder in /sys/module/"$1"/holders/*; do
		[ -e "$holder" ] && remove_tree "$(basename "$holder")"
	done
	rmmod "$1"
}
unload_all() {
	remove_tree ibguard
	remove_tree ib_core
	wait_for not_loaded ib_core
}

unload_all
install_modules || exit 1
mkdir -p /run/modprobe.d
cp "$IBG_ROOT/dist/modprobe.d/ibguard.conf" /run/modprobe.d/

modprobe ibguard
expect_eq "ibguard alone: map only, ib_core not pulled in" '["map"] no' \
	"$(available) $(loaded ib_core && echo yes || echo no)"
modprobe ib_core
wait_for ib_available
expect_eq "ib_core after ibguard: ibguard_ib comes up by itself" '["pkey","endport","map"]' \
	"$(wait_for ib_available; available)"

expect_status "ib_core cannot go while its client ibguard_ib is loaded" 1 rmmod ib_core
# (modprobe -r ibguard_ib would take the then unused ibguard with it.)
expect_status "rmmod ibguard_ib, then ib_core unloads" 0 \
	sh -c 'rmmod ibguard_ib && modprobe -r ib_core'
expect_eq "ib_core is gone" no "$(loaded ib_core && echo yes || echo no)"
expect_eq "without ib_core: map only" '["map"]' "$(available)"
modprobe ib_core
expect_eq "ib_core loaded again: enforcement re-attaches" '["pkey","endport","map"]' \
	"$(wait_for ib_available; available)"

unload_all
modprobe ib_core
modprobe ibguard
expect_eq "ibguard after ib_core: ibguard_ib comes up by itself" '["pkey","endport","map"]' \
	"$(wait_for ib_available; available)"

# Enforcement survives rdma_rxe and ib_umad coming and going.
printf 'option pkey-on-roce yes\npkey 0xffff deny uid 1000\n' >"$work/p.conf"
$IBGUARDCTL load "$work/p.conf" >/dev/null
modprobe -a rdma_rxe ib_uverbs ib_umad
ip link add ibgoveth0 type veth peer name ibgoveth1
ip link set ibgoveth0 up
rdma link add ibgorxe0 type rxe netdev ibgoveth0
rdma link delete ibgorxe0
expect_status "rdma_rxe unloads under ibguard" 0 modprobe -r rdma_rxe
expect_status "ib_umad unloads under ibguard" 0 modprobe -r ib_umad
modprobe -a rdma_rxe ib_umad
rdma link add ibgorxe0 type rxe netdev ibgoveth0
out=$(setpriv --reuid=1000 --regid=1000 --clear-groups timeout 60 ibv_rc_pingpong -d ibgorxe0 -g 0 -n 1 2>&1)
expect_eq "after rdma_rxe came back, the policy still denies" "Failed to modify QP to INIT" "$out"
rdma link delete ibgorxe0
ip link delete ibgoveth0

# Every order in which the RDMA modules can go (rdma_rxe before ib_uverbs),
# then ib_core, and come back in the reverse order, with ibguard loaded and
# a policy active: no report, and the mock HCA's QPs are decided again each
# time ib_core and ibguard_ib are back.
$IBGUARDCTL load "$work/p.conf" >/dev/null
printf 'pkey 0x8001 deny uid 1000\n' >"$work/mock.conf"
$IBGUARDCTL load "$work/mock.conf" >/dev/null
mock_qp() {
	setpriv --reuid=1000 --regid=1000 --clear-groups "$IBG_BUILD/selftests/qpctl" \
		create rc 1 init 1 1 2>&1 | tail -n 1 | cut -d' ' -f1-2
}
insert() {
	case $1 in
	mockhca)
		loaded mockhca && return 0
		insmod "$IBG_MODULES/mockhca.ko" && chmod 666 /dev/mockhca
		;;
	*) modprobe "$1" ;;
	esac
}
orders=0 bad=""
for a in ib_umad mockhca rdma_rxe ib_uverbs; do
	for b in ib_umad mockhca rdma_rxe ib_uverbs; do
		for c in ib_umad mockhca rdma_rxe ib_uverbs; do
			for d in ib_umad mockhca rdma_rxe ib_uverbs; do
				order="$a $b $c $d"
				[ "$(tr ' ' '\n' <<<"$order" | sort -u | wc -l)" = 4 ] || continue
				# rdma_rxe uses ib_uverbs: it goes first.
				case "$order" in *ib_uverbs*rdma_rxe*) continue ;; esac
				for m in ib_uverbs rdma_rxe ib_umad mockhca; do insert $m; done
				for m in $order; do rmmod $m || bad+=" rmmod-$m($order)"; done
				rmmod ibguard_ib && modprobe -r ib_core || bad+=" ib_core($order)"
				loaded ibguard || bad+=" ibguard-gone($order)"
				modprobe ib_core
				wait_for ib_available || bad+=" no-ibguard_ib($order)"
				for m in $(tr ' ' '\n' <<<"$order" | tac); do insert $m || bad+=" insert-$m($order)"; done
				[ "$(mock_qp)" = "init: EACCES" ] || bad+=" not-enforced($order)"
				orders=$((orders + 1))
			done
		done
	done
done
expect_eq "12 removal orders and their reverse: ibguard stays, enforcement comes back" \
	"12 " "$orders $bad"
rmmod mockhca

expect_status "modprobe -r ibguard_ib ibguard with the policy loaded" 0 modprobe -r ibguard_ib ibguard
unload_all
rm -rf /run/modprobe.d/ibguard.conf "$work"
uninstall_modules
tap_done
