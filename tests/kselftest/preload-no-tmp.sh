#!/bin/sh
# A program with emulated devices runs under the preload library (reading the
# devices' sysfs files, listing their directories, reading their links,
# opening the debugfs fault-injection knobs: test-preload does all of these),
# and /tmp holds no new entry afterwards: the emulator and the preload write
# nothing to disk.
#
#   preload-no-tmp.sh PRELOAD PROGRAM [ARGS...]
#
# It runs in a mount namespace of its own with an empty, read-only tmpfs on
# /tmp when it may (unshare -m as root, unshare -rm otherwise): other
# processes' files do not count, and an entry made and removed during the run
# (which a count after a clean exit would miss, and a crash would leave
# behind) fails the program. Else it compares the host's /tmp before and
# after, for the entry names the emulator and the preload library once used. Exit: 0 nothing new, 1 new entries or the
# program failed.
set -u
[ $# -ge 2 ] || { echo "usage: $0 PRELOAD PROGRAM [ARGS...]" >&2; exit 2; }

# a private /tmp would hide the programs when they are built under /tmp
# (a package build in a temporary copy): then count on the host's
case "$1 $2 $(pwd)" in
/tmp/*|*" /tmp/"*) PRELOAD_NO_TMP_NS=${PRELOAD_NO_TMP_NS:-host} ;;
esac
if [ -z "${PRELOAD_NO_TMP_NS:-}" ]; then
	for u in "unshare -m" "unshare -rm"; do
		# shellcheck disable=SC2086 # the command and its option
		if $u sh -c 'mount -t tmpfs -o mode=1777 none /tmp' 2>/dev/null; then
			# shellcheck disable=SC2086
			exec env PRELOAD_NO_TMP_NS=1 $u sh "$0" "$@"
		fi
	done
	PRELOAD_NO_TMP_NS=host
fi
if [ "$PRELOAD_NO_TMP_NS" = 1 ]; then
	mount -t tmpfs -o mode=1777 iommufd-test-tmp /tmp || exit 1
	mount -o remount,ro /tmp || exit 1
	pattern='*'
else
	# other tests may make their own iommufd-* scratch directories meanwhile:
	# count the names the emulator and the preload library ever used
	echo "# no private /tmp here: counting the host's iommufd-emu-*/iommufd-preload-* entries"
	pattern=names
fi

# the entries of /tmp that count, one a line
entries() {
	ls -A /tmp | while IFS= read -r e; do
		if [ "$pattern" = '*' ]; then
			printf '%s\n' "$e"
		else
			case $e in iommufd-emu-*|iommufd-preload-*) printf '%s\n' "$e" ;; esac
		fi
	done
}

preload=$1
shift
before=$(entries)
LD_PRELOAD=$preload IOMMUFD_EMU_DEVICES=edu@0000:00:02.0 "$@"
rc=$?
after=$(entries)
echo "# /tmp entries that count: $(printf '%s' "$before" | grep -c .) before, $(printf '%s' "$after" | grep -c .) after"
new=$(printf '%s\n' "$after" | while IFS= read -r e; do
	[ -n "$e" ] || continue
	printf '%s\n' "$before" | grep -qxF -- "$e" || printf '%s\n' "$e"
done)
if [ -n "$new" ]; then
	echo "FAIL: new in /tmp:"
	printf '  %s\n' $new
	exit 1
fi
[ "$rc" -eq 0 ] || { echo "FAIL: $* exited $rc"; exit 1; }
exit 0
