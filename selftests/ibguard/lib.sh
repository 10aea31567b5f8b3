# TAP helpers for the shell tests; sourced. Each test prints one
# "ok N - name" or "not ok N - name" line, kselftest style.
IBG_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
IBG_BUILD=$IBG_ROOT/build
# The kernel modules under test: build/ for the stock kernel, another
# directory when make check-debug runs the suite on its debug kernel.
IBG_MODULES=${IBG_MODULES:-$IBG_BUILD}
IBGUARDCTL=$IBG_BUILD/ibguardctl
tap_n=0
tap_failed=0

# The plan goes at the end (TAP allows it there), so it always matches the
# number of tests that ran.
tap_plan() {
	echo "TAP version 13"
}

tap_ok() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $1"
}

tap_not_ok() {
	tap_n=$((tap_n + 1))
	tap_failed=$((tap_failed + 1))
	echo "not ok $tap_n - $1"
	shift
	for line in "$@"; do echo "# $line"; done
}

tap_skip() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $1 # SKIP $2"
}

# expect_eq NAME EXPECTED ACTUAL
expect_eq() {
	if [ "$2" = "$3" ]; then
		tap_ok "$1"
	else
		tap_not_ok "$1" "expected: $(printf %q "$2")" "actual:   $(printf %q "$3")"
	fi
}

# expect_status NAME EXPECTED_STATUS CMD...: runs CMD, compares its exit status.
expect_status() {
	local name=$1 want=$2 got out
	shift 2
	out=$("$@" 2>&1)
	got=$?
	if [ "$got" = "$want" ]; then
		tap_ok "$name"
	else
		tap_not_ok "$name" "command: $*" "expected status $want, got $got" "output: $out"
	fi
}

tap_done() {
	echo "1..$tap_n"
	[ $tap_failed = 0 ]
}

# monitor_start SECONDS FILE ARGS...: `ibguardctl monitor ARGS` in the
# background for at most SECONDS, its output in FILE and the pid to wait
# for in $monitor. Returns once it polls for events (it subscribes before
# that), so that no event a test causes next is missed; on a slow guest
# that can take longer than any fixed sleep.
monitor_start() {
	local seconds=$1 out=$2 pid deadline
	shift 2
	timeout "$seconds" $IBGUARDCTL monitor "$@" >"$out" 2>&1 &
	monitor=$!
	# Five seconds of wall time at most, however slow each check is.
	deadline=$((${EPOCHREALTIME/./} + 5000000))
	while [ "${EPOCHREALTIME/./}" -lt "$deadline" ]; do
		pid=$(pgrep -P $monitor)
		[ -n "$pid" ] && grep -q poll "/proc/$pid/wchan" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "# monitor_start: ibguardctl monitor is not waiting for events after 5 s"
}

# install_modules: ibguard.ko and ibguard_ib.ko into the guest's module tree
# (extra/ibguard), with depmod's index for it that scripts/module-index
# wrote on the host; the tree's own index is kept for uninstall_modules.
IBG_MODULE_TREE=/lib/modules/$(uname -r)
install_modules() {
	local index=$IBG_MODULES/module-index
	if [ ! -f "$index/modules.dep.bin" ]; then
		echo "# no module index in $IBG_MODULES (make builds it)"
		return 1
	fi
	mkdir -p "$IBG_MODULE_TREE/extra/ibguard" /tmp/ibg-module-index
	cp -p "$IBG_MODULE_TREE"/modules.* /tmp/ibg-module-index/
	cp "$IBG_MODULES/ibguard.ko" "$IBG_MODULES/ibguard_ib.ko" "$IBG_MODULE_TREE/extra/ibguard/"
	cp "$index"/modules.* "$IBG_MODULE_TREE/"
}

uninstall_modules() {
	rm -rf "$IBG_MODULE_TREE/extra/ibguard"
	cp -p /tmp/ibg-module-index/modules.* "$IBG_MODULE_TREE/"
	rm -rf /tmp/ibg-module-index
}

# rxe_pair VETH RXE NET: a veth pair VETH0/VETH1 with addresses NET.1 and
# NET.2 (NET: three octets) and an rdma_rxe device on each, RXE0 and RXE1.
rxe_pair() {
	ip link add "${1}0" type veth peer name "${1}1"
	ip addr add "$3.1/24" dev "${1}0"
	ip addr add "$3.2/24" dev "${1}1"
	ip link set "${1}0" up
	ip link set "${1}1" up
	rdma link add "${2}0" type rxe netdev "${1}0"
	rdma link add "${2}1" type rxe netdev "${1}1"
}

# rxe_pair_delete VETH RXE: undoes rxe_pair.
rxe_pair_delete() {
	rdma link delete "${2}0"
	rdma link delete "${2}1"
	ip link delete "${1}0"
}
