#!/bin/bash
# Large policies, killed loaders and unloading under load.
. "$(dirname "$0")/lib.sh"
tap_plan

MAPIT=$IBG_BUILD/selftests/mapit
work=$(mktemp -d /tmp/ibg-stress.XXXXXX)
rmmod ibguard 2>/dev/null
insmod "$IBG_MODULES/ibguard.ko"

# 100,000 rules: chardev rules of an unused major, one per minor.
awk 'BEGIN { for (i = 0; i < 100000; i++) printf "map chardev 250:%d deny uid 4242\n", i }' \
	>"$work/big.conf"
start=$(date +%s%N)
$IBGUARDCTL load "$work/big.conf" >"$work/out" 2>&1
rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
expect_eq "a 100,000-rule policy loads" 0 $rc
echo "# 100,000 rules loaded in $ms ms (guest time, TCG)"
status=$($IBGUARDCTL status -j)
expect_eq "all 100,000 rules are active" 100000 "$(jq .rules <<<"$status")"
echo "# policy memory: $(jq .memory <<<"$status") bytes"
expect_eq "show prints every rule" 100005 "$($IBGUARDCTL show | wc -l)"

# A loader killed mid-load leaves the old policy and no staging.
gen=$(jq .generation <<<"$status")
awk 'BEGIN { for (i = 0; i < 100000; i++) printf "map chardev 251:%d deny uid 4242\n", i }' \
	>"$work/big2.conf"
$IBGUARDCTL load "$work/big2.conf" >/dev/null 2>&1 &
loader=$!
sleep 0.3
kill -9 $loader 2>/dev/null
wait $loader 2>/dev/null
status=$($IBGUARDCTL status -j)
expect_eq "a killed loader leaves no staging memory" 0 "$(jq .staging_memory <<<"$status")"
now=$(jq .generation <<<"$status")
if [ "$now" = "$gen" ] ||
	{ [ "$now" = $((gen + 1)) ] && $IBGUARDCTL show | grep -q '^map chardev 251:99999 '; }; then
	tap_ok "a killed loader leaves the old policy or the complete new one"
else
	tap_not_ok "a killed loader leaves the old policy or the complete new one" \
		"generation before $gen, after $now"
fi

# rmmod while other processes map and mprotect in a loop.
echo data >"$work/file"
printf 'map path %s prot exec deny uid 4242\nmap tree /tmp allow log\n' "$work/file" >"$work/p.conf"
$IBGUARDCTL load "$work/p.conf" >/dev/null
pids=()
for _ in 1 2 3; do
	(while :; do "$MAPIT" "$work/file" r private mprotect rw repeat 200 >/dev/null || exit 1; done) &
	pids+=($!)
done
sleep 1
expect_status "rmmod while mmap/mprotect loop" 0 rmmod ibguard
expect_status "insmod again under load" 0 insmod "$IBG_MODULES/ibguard.ko"
$IBGUARDCTL load "$work/p.conf" >/dev/null
sleep 0.5
expect_status "rmmod again under load" 0 rmmod ibguard
kill "${pids[@]}" 2>/dev/null
wait 2>/dev/null
rm -rf "$work"
tap_done
