#!/bin/bash
# The benchmark suite, inside one guest boot (scripts/bench starts it under
# scripts/vm-run --icount). Every round measures every configuration in the
# same order (A B C ... A B C ...), so drift between the first and later runs
# lands on all configurations alike; the report takes medians over rounds.
#
# Usage: bench/run-guest.sh RAW.jsonl
# Environment: BENCH_ROUNDS (default 4), BENCH_SCALE (percent of the full
# iteration counts, default 100), BENCH_MAX_RULES (default 100000),
# BENCH_SHORT_WARMUP (1: the warm-up round leaves out the 100,000-rule
# configurations, whose loads take most of its time; each still loads its
# policy once, untimed, before it is measured).
set -euo pipefail
raw=${1:?usage: run-guest.sh RAW.jsonl}
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build
bench=$build/bench
ctl=$build/ibguardctl
rounds=${BENCH_ROUNDS:-4}
scale=${BENCH_SCALE:-100}
max_rules=${BENCH_MAX_RULES:-100000}
short_warmup=${BENCH_SHORT_WARMUP:-0}
work=/tmp/ibg-bench
target=$work/target

die() { echo "run-guest: $*" >&2; exit 1; }
log() { echo "bench: $*" >&2; }

# Iterations per measurement at BENCH_SCALE=100: about 0.1-0.4 s of guest
# time each.
declare -A iterations=(
	[mmap_file]=24000 [mprotect_file]=24000 [mmap_anon]=24000
	[qp_rxe]=1000 [qp_mock]=4000 [umad_agent]=4000
)
map_workloads=(mmap_file mprotect_file mmap_anon)
all_workloads=(mmap_file mprotect_file mmap_anon qp_rxe qp_mock umad_agent)
# Where ibguard attaches: the floor puts empty handlers on the same points.
floor_points=security_mmap_file,security_file_mprotect,_ib_modify_qp,ib_destroy_qp_user,ib_create_send_mad,ib_register_mad_agent

# --- set-up ---------------------------------------------------------------

setup_devices() {
	modprobe -a ib_core ib_umad ib_uverbs rdma_rxe
	ip link add ibgbench0 type veth peer name ibgbench1
	ip link set ibgbench0 up
	ip link set ibgbench1 up
	rdma link add ibgbrxe0 type rxe netdev ibgbench0
	insmod "$build/mockhca.ko"
	local waited=0
	until [ -e /dev/mockhca ] && ls /sys/class/infiniband_mad/ | grep -q umad; do
		[ $waited -lt 50 ] || die "mock HCA devices did not appear"
		sleep 0.1
		waited=$((waited + 1))
	done
}

# Policies with N rules in each class where the deciding rule comes last:
# N-4 rules on other objects, then three rules on the benchmarked object whose
# subjects must be evaluated and do not match (uid, group, executable), then
# the rule that decides (VERDICT, for root).
write_policy() {
	local n=$1 verdict=$2 mode=$3 file=$4
	local fill=$((n - 4))
	{
		echo "mode $mode"
		echo "option pkey-on-roce yes"
		# map: other files, then the benchmarked file.
		awk -v n=$fill -v dir="$work/f" \
			'BEGIN { for (i = 0; i < n; i++) printf "map path %s/%d prot write deny uid 4242\n", dir, i }'
		echo "map path $target prot write deny uid 4242"
		echo "map tree $work prot read,write deny group nogroup"
		echo "map fs tmpfs prot read deny exe /bin/false"
		echo "map path $target prot read,write $verdict uid 0"
		# pkey: other (P_Key, subnet) pairs, then the default partition.
		awk -v n=$fill 'BEGIN { for (i = 0; i < n; i++)
			printf "pkey 0x%04x subnet fe80:0:0:%x deny uid 4242\n", 1 + i % 28672, 1 + int(i / 28672) }'
		echo "pkey 0xffff deny uid 4242"
		echo "pkey any deny group nogroup"
		echo "pkey 0x8000-0xffff deny exe /bin/false"
		echo "pkey 0xffff $verdict uid 0"
		# endport: other devices, then the mock HCA's port 1.
		awk -v n=$fill 'BEGIN { for (i = 0; i < n; i++) printf "endport benchdev%d 1 deny uid 4242\n", i }'
		echo "endport mock0 * deny uid 4242"
		echo "endport * 1 deny group nogroup"
		echo "endport * * deny exe /bin/false"
		echo "endport mock0 1 $verdict uid 0"
	} >"$file"
}

# The decision the BPF-LSM comparator makes, as an ibguard policy: one path
# rule per file, the benchmarked file's last.
write_path_policy() {
	local n=$1 file=$2
	{
		awk -v n=$((n - 1)) -v dir="$work/f" \
			'BEGIN { for (i = 0; i < n; i++) printf "map path %s/%d prot write deny uid 4242\n", dir, i }'
		echo "map path $target prot read,write allow uid 0"
	} >"$file"
}

# The BPF-LSM comparator's keys: the same files, the same decision.
write_bpf_keys() {
	local n=$1 file=$2
	{
		awk -v n=$((n - 1)) -v dir="$work/f" \
			'BEGIN { for (i = 0; i < n; i++) printf "%s/%d 2 4242 4242 1\n", dir, i }'
		echo "$target 3 0 0 0"
	} >"$file"
}

# --- measuring --------------------------------------------------------------

# The warm-up round's samples are not kept: it pulls binaries, libraries and
# policies into the page cache and grows the slab caches once.
warmup=0
emit() { [ $warmup = 1 ] || echo "$1" >>"$raw"; }

run_workload() {
	local round=$1 config=$2 workload=$3 n out
	n=$(( ${iterations[$workload]} * scale / 100 ))
	[ $warmup = 0 ] || n=$((n / 10))
	[ $n -gt 0 ] || n=1
	case $workload in
	mmap_file | mprotect_file) out=$("$bench/ibg-bench" "$workload" $n "$target") ;;
	mmap_anon) out=$("$bench/ibg-bench" mmap_anon $n) ;;
	qp_rxe) out=$("$bench/ibg-bench" qp_verbs $n ibgbrxe0) ;;
	qp_mock) out=$("$bench/ibg-bench" qp_mock $n) ;;
	umad_agent) out=$("$bench/ibg-bench" umad_agent $n mock0:1) ;;
	esac || die "$workload failed under $config"
	emit "{\"kind\":\"op\",\"round\":$round,\"config\":\"$config\",\"workload\":\"$workload\",\"ns_per_op\":$out,\"iterations\":$n}"
}

run_workloads() {
	local round=$1 config=$2 w
	shift 2
	for w in "$@"; do
		run_workload "$round" "$config" "$w"
	done
}

# ibguardctl load or flush, quietly: its notes (hooks attached or detached)
# would repeat through the whole run; on failure, all it said.
ctl_quiet() {
	local out
	out=$("$ctl" "$@" 2>&1 >/dev/null) || die "ibguardctl $* failed: $out"
}

# Attaching the hooks (first rule of a class) costs RCU grace periods and text
# patching; attach them before the clock starts so that a load measures
# replacing one policy with another.
attach_hooks() {
	[ "$("$ctl" status -j | jq '.hooks | length')" = 3 ] && return
	ctl_quiet load "$work/policy-attach.conf"
}

# The load time is what ibguardctl itself measures (--timing): compiling
# the file and loading it into the kernel, not starting the process. Both
# are recorded; the kernel's part is what icount makes repeatable. The
# compile reads the policy and resolves its names (stat, getgrnam) over the
# guest's 9p root: each wait for the host there lets the idle guest's clock
# jump ahead, by an amount that depends on the host. Small loads are mostly
# such waits, counted in whole timer ticks: the median of several loads of
# the same file smooths that.
load_once() {
	local timing ns
	timing=$("$ctl" load --timing "$1" 2>&1 >/dev/null) || die "loading $1 failed: $timing"
	ns=$(sed -n 's/^timing: compile \([0-9.]*\) ms, kernel load \([0-9.]*\) ms$/\1 \2/p' <<<"$timing" |
		awk '{ printf "%.0f %.0f", ($1 + $2) * 1e6, $2 * 1e6 }')
	[ -n "$ns" ] || die "no timing from ibguardctl load: $timing"
	echo "$ns"
}

# The median of column $1 of "total kernel" lines.
median_of_column() {
	sort -n -k "$1,$1" | awk -v c="$1" '{ v[NR] = $c } END { print v[int((NR + 1) / 2)] }'
}

load_policy() {
	local round=$1 n=$2 file=$3 repeats=5 samples status i
	attach_hooks
	[ "$n" -lt 10000 ] || repeats=1
	# The first load replaces what the configuration before left, of another
	# size (freeing 300,000 rules takes the kernel 170 ms): only loads that
	# replace this same policy are timed.
	load_once "$file" >/dev/null || die "loading $file failed"
	# The warm-up round keeps no sample: one load sets the configuration up.
	[ $warmup = 0 ] || return 0
	samples=$(for i in $(seq $repeats); do load_once "$file" || exit 1; done) || die "loading $file failed"
	status=$("$ctl" status -j)
	emit "{\"kind\":\"load\",\"round\":$round,\"rules_per_class\":$n,\"rules\":$(jq .rules <<<"$status"),\"load_ns\":$(median_of_column 1 <<<"$samples"),\"kernel_ns\":$(median_of_column 2 <<<"$samples"),\"memory\":$(jq .memory <<<"$status")}"
}

ibguard_in() {
	lsmod | grep -q '^ibguard ' && return
	insmod "$build/ibguard.ko"
	insmod "$build/ibguard_ib.ko"
}

ibguard_out() {
	if lsmod | grep -q '^ibguard_ib '; then rmmod ibguard_ib; fi
	if lsmod | grep -q '^ibguard '; then rmmod ibguard; fi
}

rule_counts() {
	local n
	for n in 10 1000 10000 100000; do
		[ $n -le "$max_rules" ] && echo $n
	done
}

# Configurations in measuring order. rules10k is measured for load time and
# memory only.
configs() {
	echo none floor empty
	for n in $(rule_counts); do
		case $n in
		10) echo rules10 ;;
		1000) echo rules1k ;;
		10000) echo rules10k ;;
		100000) echo rules100k paths100k ;;
		esac
	done
	echo permissive bpf
}

bpf_pid=""

# enter_config ROUND CONFIG: from any state, set CONFIG up.
enter_config() {
	local r=$1 config=$2
	case $config in
	none) ibguard_out ;;
	floor)
		ibguard_out
		insmod "$build/ibguard_floor.ko" points=$floor_points ;;
	empty) ibguard_in; ctl_quiet flush ;;
	rules10) ibguard_in; load_policy "$r" 10 "$work/policy-10.conf" ;;
	rules1k) ibguard_in; load_policy "$r" 1000 "$work/policy-1000.conf" ;;
	rules10k) ibguard_in; load_policy "$r" 10000 "$work/policy-10000.conf" ;;
	rules100k) ibguard_in; load_policy "$r" 100000 "$work/policy-100000.conf" ;;
	paths100k)
		ibguard_in
		ctl_quiet load "$work/policy-paths.conf" ;;
	permissive)
		ibguard_in
		ctl_quiet load "$work/permissive.conf" ;;
	bpf)
		ibguard_out
		"$bench/map_guard" "$bench/map_guard.bpf.o" "$work/bpf-keys" >"$work/bpf.out" 2>&1 &
		bpf_pid=$!
		until grep -q '^map_guard: ready' "$work/bpf.out"; do
			kill -0 $bpf_pid 2>/dev/null || die "map_guard: $(cat "$work/bpf.out")"
			sleep 0.1
		done ;;
	esac
}

leave_config() {
	case $1 in
	floor) rmmod ibguard_floor ;;
	bpf)
		kill $bpf_pid
		wait $bpf_pid || die "map_guard did not exit cleanly: $(cat "$work/bpf.out")" ;;
	esac
}

# Odd rounds run the configurations forward, even rounds backward, so that
# whatever drifts during a round does not always favour the same ones.
round() {
	local r=$1 config list
	log "round $r/$rounds$([ $warmup = 0 ] || echo ' (warm-up)')"
	list=$(configs)
	[ $((r % 2)) = 1 ] || list=$(tr ' ' '\n' <<<"$list" | tac)
	for config in $list; do
		case $warmup$short_warmup$config in
		11rules100k | 11paths100k) continue ;;
		esac
		enter_config "$r" "$config"
		case $config in
		rules10k) ;;
		bpf | paths100k) run_workloads "$r" "$config" "${map_workloads[@]}" ;;
		*) run_workloads "$r" "$config" "${all_workloads[@]}" ;;
		esac
		leave_config "$config"
	done
}

main() {
	local r n
	# Address-space layout randomization changes the work an mmap does from
	# one process to the next; the comparison wants the same work.
	sysctl -q kernel.randomize_va_space=0
	mkdir -p $work
	setup_devices
	log "creating $max_rules files"
	"$bench/ibg-bench" mkfiles "$work/f" "$max_rules"
	: >"$target"
	for n in $(rule_counts); do
		write_policy $n allow enforcing "$work/policy-$n.conf"
	done
	write_policy 1000 deny permissive "$work/permissive.conf"
	printf '%s\n' "map fs tmpfs prot exec deny uid 4242" "pkey 0x8001 deny uid 4242" \
		"endport * * deny uid 4242" >"$work/policy-attach.conf"
	write_bpf_keys "$max_rules" "$work/bpf-keys"
	write_path_policy "$max_rules" "$work/policy-paths.conf"
	warmup=1
	round 0
	warmup=0
	for r in $(seq 1 "$rounds"); do
		round "$r"
	done
	log "done"
}

main
