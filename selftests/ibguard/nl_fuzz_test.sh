#!/bin/bash
# The ibguard netlink family under nl_fuzz: malformed, out-of-order and
# interleaved requests from several sockets leave no kernel report, the
# active policy is exactly the last one committed, no staging memory is left
# once the sockets are closed, and loads and rmmod work afterwards.
#
# NL_FUZZ_MESSAGES (default 20000; a full run uses 200000), NL_FUZZ_SEED
# (default 1) and NL_FUZZ_SOCKETS (default 4) go to nl_fuzz -n, -s and -j.
. "$(dirname "$0")/lib.sh"
tap_plan

FUZZ=$IBG_BUILD/selftests/nl_fuzz
messages=${NL_FUZZ_MESSAGES:-20000}
seed=${NL_FUZZ_SEED:-1}
sockets=${NL_FUZZ_SOCKETS:-4}
reports='\bBUG\b|\bWARNING\b|Oops|general protection|KASAN|UBSAN|kmemleak|lockdep|possible recursive|circular locking'
work=$(mktemp -d /tmp/ibg-fuzz.XXXXXX)

# kernel_reports: report lines logged since the test started.
kernel_reports() {
	{ cat "$work/dmesg"; dmesg; } 2>/dev/null | grep -E "$reports" | sort -u
}

# staging_memory_drops: staging_memory reaches 0 within about 2 s.
staging_memory_drops() {
	for _ in $(seq 20); do
		[ "$($IBGUARDCTL status -j | jq .staging_memory)" = 0 ] && return 0
		sleep 0.1
	done
	return 1
}

if [ ! -x "$FUZZ" ]; then
	tap_not_ok "nl_fuzz is built" "missing $FUZZ (make selftests)"
	tap_done
	exit
fi

[ -d /sys/module/ibguard_ib ] && rmmod ibguard_ib
rmmod ibguard 2>/dev/null
dmesg -C
# Follow the log to a file: a long run may log more than the ring holds.
dmesg -w >"$work/dmesg" 2>&1 &
follower=$!

expect_status "insmod ibguard.ko" 0 insmod "$IBG_MODULES/ibguard.ko"
printf '%s\n' 'map fs tmpfs prot exec deny uid 4242' \
	'pkey 0x8001 deny uid 4242' 'endport * * deny uid 4242' >"$work/ref.conf"
expect_status "the reference policy loads" 0 "$IBGUARDCTL" load "$work/ref.conf"
show_before=$($IBGUARDCTL show)
status_before=$($IBGUARDCTL status -j)
generation_before=$(jq .generation <<<"$status_before")
echo "# before: generation $generation_before, rules $(jq .rules <<<"$status_before"), memory $(jq .memory <<<"$status_before"), staging_memory $(jq .staging_memory <<<"$status_before")"

start=$(date +%s%N)
"$FUZZ" -n "$messages" -s "$seed" -j "$sockets" >"$work/out" 2>"$work/err"
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
sed 's/^/# /' "$work/out"
head -c 30000 "$work/err" | sed 's/^# //; s/^/# /'
echo "# nl_fuzz: $messages messages, seed $seed, $sockets sockets: $ms ms (guest wall time)"
expect_eq "nl_fuzz -n $messages -s $seed -j $sockets exits 0" 0 "$rc"

sent=$(sed -n 's/^nl_fuzz: sent \([0-9]*\) messages.*/\1/p' "$work/out")
if [ -n "$sent" ] && [ "$sent" -ge "$messages" ]; then
	tap_ok "nl_fuzz sent at least $messages messages"
else
	tap_not_ok "nl_fuzz sent at least $messages messages" "sent: ${sent:-nothing}"
fi

out=$(kernel_reports)
expect_eq "no kernel report while fuzzing" "" "$out"

# The fuzzer counts its successful commits (COMMIT answered with success);
# the generation must have moved by exactly that much, and the fuzzer has
# compared the active policy with the last one it committed.
commits=$(sed -n 's/.* \([0-9]*\) commits, generation .*/\1/p' "$work/out")
status_after=$($IBGUARDCTL status -j)
generation_after=$(jq .generation <<<"$status_after")
echo "# after: generation $generation_after, rules $(jq .rules <<<"$status_after"), memory $(jq .memory <<<"$status_after"), staging_memory $(jq .staging_memory <<<"$status_after")"
expect_eq "the generation moved by the fuzzer's $commits successful commits" \
	"$((generation_before + ${commits:-0}))" "$generation_after"
if [ "${commits:-0}" = 0 ]; then
	expect_eq "no commit: ibguardctl show is as before" "$show_before" \
		"$($IBGUARDCTL show 2>&1)"
else
	expect_eq "the active policy is the last one the fuzzer committed" 1 \
		"$(grep -c '^nl_fuzz: check: the active policy is the last committed one' "$work/out")"
	expect_status "ibguardctl show reads the fuzzed policy" 0 "$IBGUARDCTL" show
fi

# Readers with a small buffer (libmnl's MNL_SOCKET_BUFFER_SIZE is 4 KiB) get
# the whole policy too.
out=$(grep '^nl_fuzz: check: .* 4 KiB at a time' "$work/out")
if [ -z "$out" ]; then
	tap_ok "POLICY_GET dumps read 4 KiB at a time are complete"
else
	tap_not_ok "POLICY_GET dumps read 4 KiB at a time are complete" "$out" \
		"$(grep -m1 'dump read 4 KiB at a time differs' "$work/err")"
fi

if staging_memory_drops; then
	tap_ok "no staging memory once the fuzzer's sockets are closed"
else
	tap_not_ok "no staging memory once the fuzzer's sockets are closed" \
		"$($IBGUARDCTL status -j | jq -c .)"
fi

expect_status "the reference policy loads again" 0 "$IBGUARDCTL" load "$work/ref.conf"
expect_eq "ibguardctl show is the reference policy again" "$show_before" \
	"$($IBGUARDCTL show 2>&1)"
status=$($IBGUARDCTL status -j)
expect_eq "status is sane: generation, rules, staging memory, mode, not locked" \
	"$((generation_after + 1)) 3 0 \"enforcing\" false" \
	"$(jq -r '"\(.generation) \(.rules) \(.staging_memory) \(.mode | tojson) \(.locked // false)"' <<<"$status")"
mem=$(jq .memory <<<"$status")
if [ "$mem" = "$(jq .memory <<<"$status_before")" ]; then
	tap_ok "the reference policy uses the same memory as before ($mem bytes)"
else
	tap_not_ok "the reference policy uses the same memory as before" \
		"before $(jq .memory <<<"$status_before"), now $mem"
fi

[ -d /sys/module/ibguard_ib ] && rmmod ibguard_ib
expect_status "rmmod ibguard" 0 rmmod ibguard
sleep 0.2
kill "$follower" 2>/dev/null
wait "$follower" 2>/dev/null
out=$(kernel_reports)
expect_eq "no kernel report at all" "" "$out"
rm -rf "$work"
tap_done
