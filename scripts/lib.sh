# Shared settings for ibguard's scripts. Sourced, not executed.
#
# The kernel matrix: Debian 12's own kernel ("6.1", the default guest) and
# its 6.12 kernel ("6.12"). Each name's version lives in exactly one place,
# "$IBGUARD_CACHE/kernel-version" (6.1) or "kernel-version-6.12", written by
# scripts/fetch-kernel from what the name's metapackage points to when deps
# run. IBGUARD_KERNEL (or `make KVER=...`) overrides the default.

IBGUARD_CACHE=${IBGUARD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ibguard}

ibg_die() {
	echo "${0##*/}: $*" >&2
	exit 125
}

# Prints the guest kernel version (e.g. 6.1.0-57-amd64).
ibg_kernel_version() {
	if [ -n "${IBGUARD_KERNEL:-}" ]; then
		echo "$IBGUARD_KERNEL"
	elif [ -s "$IBGUARD_CACHE/kernel-version" ]; then
		cat "$IBGUARD_CACHE/kernel-version"
	else
		return 1
	fi
}

IBG_MATRIX="6.1 6.12"

# The in-guest suite's long counts (make check-full, and check-debug with
# IBGUARD_CHECK_FULL=1), as environment assignments for the guest. A string,
# not an array: make's /bin/sh sources this file too.
IBG_LONG_COUNTS="NL_FUZZ_MESSAGES=200000 IBG_RELOADS=1000 IBG_REVOKE_RELOADS=300 \
IBG_MODE_FLIPS=500 IBG_UNLOAD_CYCLES=100 IBG_ADOPT_CYCLES=100"

# The metapackage a matrix name follows.
ibg_matrix_metapackage() {
	case $1 in
	6.1) echo linux-image-amd64 ;;
	6.12) echo linux-image-6.12-amd64 ;;
	*) return 1 ;;
	esac
}

# The file recording a matrix name's version.
ibg_matrix_record() {
	case $1 in
	6.1) echo "$IBGUARD_CACHE/kernel-version" ;;
	*) echo "$IBGUARD_CACHE/kernel-version-$1" ;;
	esac
}

# Prints the version of a matrix name ("6.12"), or a version as it is.
ibg_resolve_kernel() {
	local record
	if ibg_matrix_metapackage "$1" >/dev/null; then
		record=$(ibg_matrix_record "$1")
		[ -s "$record" ] || return 1
		cat "$record"
	else
		echo "$1"
	fi
}

ibg_kernel_dir() {
	echo "$IBGUARD_CACHE/kernels/$1"
}
