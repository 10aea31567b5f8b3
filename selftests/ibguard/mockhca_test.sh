#!/bin/bash
# The mock HCA (build/mockhca.ko): ib_core, ib_mad and ib_umad take it for an
# InfiniBand HCA; infiniband-diags read it (ibstat, smpquery answered by its
# subnet management agent); qpctl drives kernel QPs through /dev/mockhca;
# the P_Key table can be rewritten at run time; it unloads cleanly.
. "$(dirname "$0")/lib.sh"
tap_plan 41

MOCKHCA=$IBG_MODULES/mockhca.ko
QPCTL=$IBG_BUILD/selftests/qpctl
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)

rmmod mockhca 2>/dev/null
dmesg -C

# umad_ports DEV: "PORT:umadN:issmN" for each of DEV's ports that has both
# device nodes, in port order.
umad_ports() {
	local d n port
	for d in /sys/class/infiniband_mad/umad*; do
		[ -e "$d/ibdev" ] || continue
		[ "$(cat "$d/ibdev")" = "$1" ] || continue
		n=${d##*umad}
		port=$(cat "$d/port")
		[ -c "/dev/infiniband/umad$n" ] && [ -c "/dev/infiniband/issm$n" ] &&
			echo "$port:umad$n:issm$n"
	done | sort -n | tr '\n' ' '
}

# field NAME: the value of smpquery's "NAME:....value" line on stdin.
field() {
	sed -n "s/^$1:\.*//p"
}

expect_status "modprobe ib_core ib_umad" 0 modprobe -a ib_core ib_umad
expect_status "insmod mockhca.ko" 0 insmod "$MOCKHCA"

out=$(ibstat mock0 2>&1)
expect_eq "ibstat: 2 ports" 1 "$(grep -c 'Number of ports: 2$' <<<"$out")"
expect_eq "ibstat: both ports Active and LinkUp" "2 2" \
	"$(grep -c 'State: Active$' <<<"$out") $(grep -c 'Physical state: LinkUp$' <<<"$out")"
expect_eq "ibstat: link layer InfiniBand on both ports" 2 \
	"$(grep -c 'Link layer: InfiniBand$' <<<"$out")"
expect_eq "ibstat: base LIDs 1 and 2, SM LID 1" "1 2 / 1 1" \
	"$(sed -n 's/.*Base lid: //p' <<<"$out" | xargs) / $(sed -n 's/.*SM lid: //p' <<<"$out" | xargs)"

# umad0/umad1 when mock0 is the only device, as in a fresh guest.
umads=$(umad_ports mock0)
if [ "$(ls /sys/class/infiniband)" = mock0 ]; then
	expect_eq "umad0/issm0 on port 1, umad1/issm1 on port 2" \
		"1:umad0:issm0 2:umad1:issm1 " "$umads"
else
	expect_eq "umad and issm device nodes on ports 1 and 2" "1 2 " \
		"$(for e in $umads; do printf '%s ' "${e%%:*}"; done)"
fi
umad_port1=$(sed -n 's/^1:\(umad[0-9]*\):.*/\1/p' <<<"$umads")
expect_eq "sysfs P_Key table of port 2" "0xffff 0x8001 0x8002 0x0003" \
	"$(cat /sys/class/infiniband/mock0/ports/2/pkeys/{0,1,2,3} | xargs)"
expect_eq "GID 0 of port 1: subnet prefix and port GUID" \
	"fe80:0000:0000:0000:0200:00ff:fe4d:4801" \
	"$(cat /sys/class/infiniband/mock0/ports/1/gids/0)"

# LID-routed SMPs travel port to port (LID N is port N) to the SMA.
out=$(smpquery -C mock0 -P 1 nodeinfo 1 2>&1)
expect_eq "smpquery nodeinfo by LID 1" \
	"Channel Adapter/2/0x020000fffe4d4801/4/1" \
	"$(field NodeType <<<"$out")/$(field NumPorts <<<"$out")/$(field PortGuid <<<"$out")/$(field PartCap <<<"$out")/$(field LocalPort <<<"$out")"
out=$(smpquery -C mock0 -P 1 portinfo 2 2>&1)
expect_eq "smpquery portinfo by LID 2 through port 1" "2/1/Active/2" \
	"$(field Lid <<<"$out")/$(field SMLid <<<"$out")/$(field LinkState <<<"$out")/$(field LocalPort <<<"$out")"
# Directed-route SMPs to the local port are answered by process_mad directly.
out=$(smpquery -C mock0 -P 1 -D portinfo 0 2>&1)
expect_eq "smpquery -D portinfo 0" "1/Active/LinkUp/0xfe80000000000000/4X" \
	"$(field Lid <<<"$out")/$(field LinkState <<<"$out")/$(field PhysLinkState <<<"$out")/$(field GidPrefix <<<"$out")/$(field LinkWidthActive <<<"$out")"
out=$(smpquery -C mock0 -P 2 -D nodedesc 0 2>&1)
expect_eq "smpquery -D nodedesc 0" "mockhca mock0" "$(field 'Node Description' <<<"$out")"
out=$(smpquery -C mock0 -P 1 pkeys 1 2>&1)
expect_eq "smpquery pkeys shows the configured table" \
	"0: 0xffff 0x8001 0x8002 0x0003 0x0000 0x0000 0x0000 0x0000|4 pkeys capacity for this port" \
	"$(xargs <<<"$(head -1 <<<"$out")")|$(tail -1 <<<"$out")"
out=$(smpquery -C mock0 -P 2 -D guidinfo 0 2>&1)
expect_eq "smpquery -D guidinfo 0 on port 2" "0x020000fffe4d4802" \
	"$(awk '$1 == "0:" { print $2 }' <<<"$out")"
out=$(smpquery -C mock0 -P 1 switchinfo 1 2>&1)
expect_eq "smpquery of an unsupported attribute fails" 1 $((!!$?))

# Kernel QPs through /dev/mockhca and the real verbs.
out=$($QPCTL create rc 1 init 1 1 rtr rts query destroy 2>&1)
expect_eq "qpctl: RC QP RESET->INIT(port 1, pkey_index 1)->RTR->RTS exits 0" 0 $?
expect_eq "qpctl: RC QP steps" "create: ok qp=1 qpn=0x2
init: ok
rtr: ok
rts: ok
query: ok qpn=0x2 type=rc state=rts port=1 pkey_index=1 alt_port=0 alt_pkey_index=0 fatal_events=0
destroy: ok" "$out"
out=$($QPCTL create ud init 2 3 rtr rts pkey 0 alt 1 2 query 2>&1)
expect_eq "qpctl: UD QP on port 2, then pkey_index and alternate path changed" \
	"0|query: ok qpn=0x2 type=ud state=rts port=2 pkey_index=0 alt_port=1 alt_pkey_index=2 fatal_events=0" \
	"$?|$(tail -1 <<<"$out")"
out=$($QPCTL create rc init 1 4 2>&1)
expect_eq "qpctl: pkey_index past the table fails with EINVAL, exit 1" \
	"1|init: EINVAL (Invalid argument)" "$?|$(tail -1 <<<"$out")"
out=$($QPCTL create rc init 3 0 2>&1)
expect_eq "qpctl: a port that does not exist fails with EINVAL" \
	"1|init: EINVAL (Invalid argument)" "$?|$(tail -1 <<<"$out")"
out=$($QPCTL -k create rc use 1 destroy destroy state err 2>&1)
expect_eq "qpctl: a destroyed QP is gone (ENOENT)" \
	"1|destroy: ENOENT (No such file or directory)|state: ENOENT (No such file or directory)" \
	"$?|$(tail -2 <<<"$out" | paste -sd'|')"
expect_status "qpctl as an unprivileged user: RC QP to RTS" 0 \
	"${NOBODY[@]}" "$QPCTL" create rc init 1 2 rtr rts
out=$($QPCTL create rc init 1 0 create ud init 2 0 query use 1 query 2>&1)
expect_eq "qpctl: two QPs in one file, distinct numbers" \
	"0|qpn=0x2 port=1|qpn=0x3 port=2" \
	"$?|$(sed -n 's/^query: ok \(qpn=[^ ]*\) .*\(port=[0-9]*\) pkey.*/\1 \2/p' <<<"$out" | sort | paste -sd'|')"

# Rewriting a P_Key table at run time (IB_EVENT_PKEY_CHANGE).
out=$("${NOBODY[@]}" "$QPCTL" setpkeys 1 0xffff 2>&1)
expect_eq "setpkeys needs CAP_SYS_ADMIN (EPERM)" "1|setpkeys: EPERM (Operation not permitted)" \
	"$?|$out"
expect_status "setpkeys port 1: 0xffff,0x8005,0x7fff" 0 "$QPCTL" setpkeys 1 0xffff,0x8005,0x7fff
expect_eq "sysfs shows the new table of port 1" "0xffff 0x8005 0x7fff 0x0000" \
	"$(cat /sys/class/infiniband/mock0/ports/1/pkeys/{0,1,2,3} | xargs)"
expect_eq "ib_core's P_Key cache was updated before setpkeys returned" \
	"cachedpkeys: ok 0xffff,0x8005,0x7fff,0x0000" "$($QPCTL cachedpkeys 1 2>&1)"
out=$(smpquery -C mock0 -P 1 pkeys 1 2>&1)
expect_eq "smpquery pkeys shows the new table" \
	"0: 0xffff 0x8005 0x7fff 0x0000 0x0000 0x0000 0x0000 0x0000" "$(xargs <<<"$(head -1 <<<"$out")")"
expect_eq "port 2's table is unchanged" "getpkeys: ok 0xffff,0x8001,0x8002,0x0003" \
	"$($QPCTL getpkeys 2 2>&1)"

# QPs belong to the open file: the module stays while it is open.
fifo=$(mktemp -u) && mkfifo "$fifo"
$QPCTL create rc init 1 0 wait <"$fifo" >/dev/null 2>&1 &
qpctl_pid=$!
exec 4>"$fifo"
sleep 1
rmmod mockhca 2>/dev/null
expect_eq "rmmod refused while /dev/mockhca is open" 1 $((!!$?))
echo >&4
exec 4>&-
wait $qpctl_pid
rm -f "$fifo"

exec 3<>"/dev/infiniband/$umad_port1"
expect_status "rmmod mockhca while port 1's umad device is open" 0 rmmod mockhca
exec 3>&-
expect_eq "mock0 and its umad devices are gone" "1|" \
	"$([ -e /sys/class/infiniband/mock0 ]; echo $?)|$(umad_ports mock0)"

expect_status "insmod mockhca.ko ports=1 pkeys=0xffff subnet_prefix=0xfec0000000000000" 0 \
	insmod "$MOCKHCA" ports=1 pkeys=0xffff subnet_prefix=0xfec0000000000000
out=$(ibstat mock0 2>&1)
expect_eq "ibstat: 1 port, Active" "1 1" \
	"$(grep -c 'Number of ports: 1$' <<<"$out") $(grep -c 'State: Active$' <<<"$out")"
out=$(smpquery -C mock0 -P 1 -D portinfo 0 2>&1)
expect_eq "the subnet prefix in PortInfo and in GID 0" \
	"0xfec0000000000000 fec0:0000:0000:0000:0200:00ff:fe4d:4801" \
	"$(field GidPrefix <<<"$out") $(cat /sys/class/infiniband/mock0/ports/1/gids/0)"
out=$(smpquery -C mock0 -P 1 pkeys 1 2>&1)
expect_eq "smpquery pkeys: the one-entry table" \
	"0: 0xffff 0x0000 0x0000 0x0000 0x0000 0x0000 0x0000 0x0000|1 pkeys capacity for this port" \
	"$(xargs <<<"$(head -1 <<<"$out")")|$(tail -1 <<<"$out")"
expect_status "rmmod mockhca (one port)" 0 rmmod mockhca

bad=0
for args in ports=0 ports=5 pkeys=0x10000 pkeys= pkeys=0xffff,,1 pkey_tbl_len=129 \
	"pkeys=0xffff,0x8001 pkey_tbl_len=1"; do
	# shellcheck disable=SC2086
	if insmod "$MOCKHCA" $args 2>/dev/null; then
		bad=1
		rmmod mockhca
	fi
done
expect_eq "invalid parameters are refused" 0 $bad

cycles=0
for _ in 1 2 3; do
	insmod "$MOCKHCA" && smpquery -C mock0 -P 2 -D nodeinfo 0 >/dev/null &&
		rmmod mockhca && cycles=$((cycles + 1))
done
expect_eq "three load/query/unload cycles" 3 $cycles
expect_eq "kernel log: no mockhca errors, 5 loads and 5 unloads" "0 5 5" \
	"$(dmesg | grep -cE 'mockhca: (CQ overflow|cannot register|destroying QP|ib_register_device)') $(dmesg | grep -c 'mockhca: mock0: ') $(dmesg | grep -c 'mockhca: unloaded')"
tap_done
