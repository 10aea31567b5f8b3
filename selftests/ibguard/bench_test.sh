#!/bin/bash
# Host-side test of the benchmark suite: a smoke run (one round, 1% of the
# iterations, rule sets up to 1,000) must produce a sample for every workload
# and configuration, the report must be complete, and the report code's own
# tests must pass. The figures themselves are not judged here: they come from
# `make bench`, not from a timed test.
. "$(dirname "$0")/lib.sh"
tap_plan

out=$IBG_BUILD/check/bench
rm -rf "$out"
log=$(mktemp)
if "$IBG_ROOT/scripts/bench" --smoke --out "$out" >"$log" 2>&1; then
	tap_ok "scripts/bench --smoke runs in the guest and reports"
else
	tap_not_ok "scripts/bench --smoke runs in the guest and reports" \
		"$(tail -n 20 "$log")"
fi
rm -f "$log"

results=$out/results.json
cells() {
	jq -r '.workloads | to_entries[] | .key as $w | .value | keys[] | "\($w)/\(.)"' \
		"$results" 2>/dev/null | sort | tr '\n' ' '
}
want=""
for w in mmap_anon mmap_file mprotect_file qp_mock qp_rxe umad_agent; do
	for c in none floor empty rules10 rules1k permissive; do
		want+="$w/$c "
	done
	case $w in mmap_*|mprotect_*) want+="$w/bpf " ;; esac
done
want=$(tr ' ' '\n' <<<"$want" | grep . | sort | tr '\n' ' ')
expect_eq "a sample for every workload and configuration" "$want" "$(cells)"

expect_eq "every sample is a positive cost" "true" \
	"$(jq '[.workloads[][] | .median > 0] | all' "$results" 2>/dev/null)"
expect_eq "policy load rows for 10 and 1,000 rules per class, with memory" \
	"10 30 true
1000 3000 true" \
	"$(jq -r '.load[] | "\(.rules_per_class) \(.rules) \(.memory > 0)"' "$results" 2>/dev/null)"
expect_eq "each load's time in the kernel recorded, positive and part of the whole" \
	"true" \
	"$(jq '[.load[] | .kernel_median_ns > 0 and .kernel_median_ns <= .median_ns] | all' \
		"$results" 2>/dev/null)"
expect_eq "the Markdown table has a row per workload" 6 \
	"$(grep -c '^| \(mmap\|mprotect\|QP\)' "$out/results.md" 2>/dev/null)"

if out_py=$(/usr/bin/python3 -m unittest -q "$IBG_ROOT/bench/report_test.py" 2>&1); then
	tap_ok "bench/report.py unit tests"
else
	tap_not_ok "bench/report.py unit tests" "$out_py"
fi
tap_done
