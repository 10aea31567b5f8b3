# Shared settings for ibguard's scripts. Sourced, not executed.
#
# The guest kernel version lives in exactly one place: the file
# "$IBGUARD_CACHE/kernel-version", written by scripts/fetch-kernel from
# whatever Debian's linux-image-amd64 metapackage points to when deps run.
# IBGUARD_KERNEL (or `make KVER=...`) overrides it.

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

ibg_kernel_dir() {
	echo "$IBGUARD_CACHE/kernels/$1"
}
