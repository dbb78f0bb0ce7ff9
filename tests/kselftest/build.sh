#!/bin/sh
# Builds the Linux kernel's own iommufd selftests (tools/testing/selftests/iommu:
# iommufd, iommufd_fail_nth) as ordinary DYNAMIC executables, from Debian
# unstable's linux-source-7.2 package.
#
#   tests/kselftest/build.sh DESTDIR [CACHEDIR]
#
# CACHEDIR (default $HOME/.cache/libiommufd-kselftest) keeps the source tarball
# and the few files extracted from it; a warm cache needs no network.
# The package is fetched with a PRIVATE apt configuration (same approach as
# shared/vm/build-kernel.sh): the system's apt sources and state are untouched.
#
# Environment: CC (default gcc), CFLAGS/LDFLAGS (prepended, like the kselftest
# Makefile's "CFLAGS +="), KSELFTEST_NO_APT=1 to never apt-get install libcap-dev.
set -eu

[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: $0 DESTDIR [CACHEDIR]" >&2; exit 2; }
destdir=$1
cache=${2:-${HOME:-/root}/.cache/libiommufd-kselftest}
ver=7.2
top=linux-source-$ver
tarball=$cache/$top.tar.xz
src=$cache/src/$top
CC=${CC:-gcc}

log() { echo "kselftest: $*" >&2; }

mkdir -p "$destdir" "$cache"
destdir=$(cd "$destdir" && pwd)
cache=$(cd "$cache" && pwd)
tarball=$cache/$top.tar.xz
src=$cache/src/$top

# --- build dependencies --------------------------------------------------------
for tool in "$CC" tar xz; do
	command -v "$tool" >/dev/null 2>&1 || { log "missing tool: $tool"; exit 1; }
done
if ! printf '#include <sys/capability.h>\n' | "$CC" -E -x c - >/dev/null 2>&1; then
	if [ "$(id -u)" = 0 ] && [ -z "${KSELFTEST_NO_APT:-}" ]; then
		log "installing libcap-dev (Debian package)"
		apt-get install -y -q --no-install-recommends libcap-dev >&2 ||
			{ apt-get update -q >&2 && apt-get install -y -q --no-install-recommends libcap-dev >&2; }
	else
		log "sys/capability.h missing: apt-get install libcap-dev"; exit 1
	fi
fi

# --- fetch: linux-source-7.2 tarball ------------------------------------------
fetch() {
	for tool in apt-get dpkg-deb; do
		command -v $tool >/dev/null 2>&1 || { log "missing tool: $tool"; exit 1; }
	done
	work=$(mktemp -d "$cache/fetch.XXXXXX")
	mkdir -p "$work/apt/lists/partial" "$work/apt/cache/partial"
	# the Debian mirror this machine already uses
	mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
	[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
	[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror sid main" \
		>"$work/apt/sources.list"
	aptopts="-o Dir::Etc::SourceList=$work/apt/sources.list -o Dir::Etc::SourceParts=/nonexistent
	 -o Dir::State::Lists=$work/apt/lists -o Dir::Cache::Archives=$work/apt/cache
	 -o Debug::NoLocking=1 -o APT::Sandbox::User=root"
	log "apt-get update (private sid config, mirror $mirror)"
	# shellcheck disable=SC2086
	apt-get -q $aptopts update >&2
	log "apt-get download $top"
	# shellcheck disable=SC2086
	(cd "$work" && apt-get -q $aptopts download "$top" >&2)
	dpkg-deb --fsys-tarfile "$work"/"$top"_*.deb |
		tar -x -C "$work" "./usr/src/$top.tar.xz"
	mv "$work/usr/src/$top.tar.xz" "$tarball"
	rm -rf "$work"
}

# --- extract only what the selftests need --------------------------------------
extract() {
	tmp=$(mktemp -d "$cache/extract.XXXXXX")
	# xz >= 5.4 decompresses the (multi-block) tarball on all cores
	if echo | xz -c | xz -dc -T0 >/dev/null 2>&1; then xzcmd="xz -dc -T0"; else xzcmd="xz -dc"; fi
	log "extracting selftest sources + uapi headers from $tarball"
	$xzcmd "$tarball" | tar -x -C "$tmp" \
		"$top/tools/testing/selftests/iommu" \
		"$top/tools/testing/selftests/kselftest.h" \
		"$top/tools/testing/selftests/kselftest_harness.h" \
		"$top/tools/testing/selftests/lib.mk" \
		"$top/drivers/iommu/iommufd/iommufd_test.h" \
		"$top/include/uapi/linux" \
		"$top/scripts/headers_install.sh" \
		"$top/scripts/unifdef.c"
	touch "$tmp/$top/.kselftest-extracted"
	mkdir -p "$cache/src"
	rm -rf "$src"
	mv "$tmp/$top" "$src"
	rmdir "$tmp"
}

if [ -f "$src/.kselftest-extracted" ]; then
	log "using cached sources in $src"
else
	if [ -s "$tarball" ]; then log "using cached $tarball"; else fetch; fi
	extract
fi

# --- "make headers" for the uapi headers the tests use --------------------------
# Debian 12's /usr/include/linux (6.1) lacks iommufd.h and its linux/stddef.h has
# no __counted_by (used by 7.2's vfio.h). Export linux/iommufd.h, linux/vfio.h and
# the closure of their <linux/...> includes with the kernel's own
# scripts/headers_install.sh; everything else (asm/*, libc) comes from the system.
build=$(mktemp -d "${TMPDIR:-/tmp}/kselftest-build.XXXXXX")
trap 'rm -rf "$build"' EXIT
khdr=$build/usr/include
mkdir -p "$khdr/linux" "$build/scripts"
"$CC" -O2 -w -o "$build/scripts/unifdef" "$src/scripts/unifdef.c"
cp "$src/scripts/headers_install.sh" "$build/scripts/"
todo="iommufd.h vfio.h"
done_list=" "
while [ -n "$todo" ]; do
	set -- $todo; h=$1; shift; todo=$*
	case "$done_list" in *" $h "*) continue ;; esac
	done_list="$done_list$h "
	mkdir -p "$(dirname "$khdr/linux/$h")"
	(cd "$build" && sh scripts/headers_install.sh "$src/include/uapi/linux/$h" "$khdr/linux/$h")
	for inc in $(sed -n 's@^[[:space:]]*#[[:space:]]*include[[:space:]]*<linux/\([^>]*\)>.*@\1@p' "$khdr/linux/$h"); do
		if [ -f "$src/include/uapi/linux/$inc" ]; then todo="$todo $inc"; fi
	done
done
log "exported uapi headers:$done_list"

# --- compile: the kselftest Makefile + lib.mk, as one gcc line per test -----------
# iommu/Makefile: CFLAGS += -Wall -O2 -Wno-unused-function $(KHDR_INCLUDES); LDLIBS += -lcap
# lib.mk:         CFLAGS += -D_GNU_SOURCE= -I$(top_srcdir)/tools/testing/selftests
#                 $(OUTPUT)/%: %.c -> $(CC) $(CFLAGS) $(LDFLAGS) $< $(LDLIBS) -o $@
sdir=$src/tools/testing/selftests
pids=
for t in iommufd iommufd_fail_nth; do	# both at once: the machines have 2 cores
	log "CC $t"
	# shellcheck disable=SC2086
	"$CC" ${CFLAGS:-} -Wall -O2 -Wno-unused-function -isystem "$khdr" \
		-D_GNU_SOURCE= -I"$sdir" ${LDFLAGS:-} \
		"$sdir/iommu/$t.c" -lcap -o "$destdir/$t" &
	pids="$pids $!"
done
rc=0
for p in $pids; do wait "$p" || rc=1; done
[ $rc = 0 ] || { log "compilation failed"; exit 1; }
log "built $destdir/iommufd $destdir/iommufd_fail_nth"
