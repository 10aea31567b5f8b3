#!/bin/bash
# Runs last: kmemleak (the debug kernel of make check-debug) finds no
# unreferenced objects allocated since run.sh started the suite.
. "$(dirname "$0")/lib.sh"
tap_plan

leaks=/sys/kernel/debug/kmemleak
if [ ! -w $leaks ]; then
	tap_skip "kmemleak finds no leak" "kernel without kmemleak (make check-debug has it)"
	tap_done
	exit
fi
# An object is reported once it has been unreferenced for two scans and is
# older than five seconds.
sleep 6
echo scan >$leaks
echo scan >$leaks
report=$(cat $leaks)
if [ -z "$report" ]; then
	tap_ok "kmemleak finds no leak"
else
	mapfile -t lines < <(head -n 60 <<<"$report")
	tap_not_ok "kmemleak finds no leak" "$(grep -c '^unreferenced object' <<<"$report") objects" "${lines[@]}"
fi
tap_done
