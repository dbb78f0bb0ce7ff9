#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# deb-chroot-test.sh DEBDIR SOURCE_DIR
#
# Installs the built packages (DEBDIR/*.deb, not the -dbgsym ones) into a
# clean Debian 12 root and builds and runs an example there as a user of the
# packages would: examples/minimal.c compiled with
# `pkg-config --cflags --libs libiommufd`, run under
# LD_PRELOAD=<libdir>/libiommufd-preload.so (no /dev/iommu in the root: the
# preload library gives it the emulator), which must print its lines.
#
# The root is `debootstrap --variant=minbase bookworm` with gcc, libc6-dev,
# pkg-config and the libraries the packages depend on; it is cached as a
# tarball in CACHEDIR (default ~/.cache/libiommufd-packaging): a warm cache
# needs no network. debootstrap uses its own configuration (the mirror of
# this machine's sources, the Debian keyring): the machine's apt sources
# and state are not touched, and nothing runs apt in the root.
#
# Needs root (chroot, mount). Exit status: 0 pass, 1 fail, 77 skip when the
# root cannot be made (no debootstrap, not root, or no network with a cold
# cache) unless CI=true, which makes those failures.
# Environment: IOMMUFD_PKG_CACHE (CACHEDIR), IOMMUFD_PKG_TIMEOUT (seconds
# for debootstrap, default 900).
set -eu
[ $# = 2 ] || { echo "usage: $0 DEBDIR SOURCE_DIR" >&2; exit 2; }
debdir=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
cache=${IOMMUFD_PKG_CACHE:-${HOME:-/root}/.cache/libiommufd-packaging}
base=$cache/bookworm-minbase-gcc.tar.zst

skip() {
	if [ "${CI:-}" = true ]; then
		echo "deb-chroot-test: FAIL (CI=true): $*" >&2
		exit 1
	fi
	echo "deb-chroot-test: SKIP: $*"
	exit 77
}
fail() { echo "deb-chroot-test: FAIL: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || skip "needs root (chroot, mount)"
ls "$debdir"/*.deb >/dev/null 2>&1 || fail "no .deb in $debdir (scripts/build-debs)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/iommufd-chroot.XXXXXX")
root=$tmp/root
cleanup() {
	if mountpoint -q "$root/proc" 2>/dev/null; then umount "$root/proc" || umount -l "$root/proc"; fi
	rm -rf --one-file-system "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

mkdir -p "$cache"
if [ ! -s "$base" ]; then
	command -v debootstrap >/dev/null 2>&1 || skip "debootstrap missing (scripts/install-deps)"
	mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
	[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
	[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
	echo "# debootstrap --variant=minbase bookworm from $mirror (cold cache: $base)"
	mkdir "$tmp/boot"
	if ! timeout "${IOMMUFD_PKG_TIMEOUT:-900}" debootstrap --variant=minbase \
		--include=gcc,libc6-dev,pkg-config,libkmod2,zlib1g \
		--keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
		bookworm "$tmp/boot" "$mirror" >"$tmp/debootstrap.log" 2>&1; then
		tail -5 "$tmp/debootstrap.log"
		skip "debootstrap failed (network?): the root could not be made"
	fi
	# the packages' cache is not part of the root
	rm -rf "$tmp/boot/var/cache/apt/archives/"*.deb "$tmp/boot/var/lib/apt/lists/"*_* 2>/dev/null || :
	tar -C "$tmp/boot" --zstd -cf "$base.tmp" . && mv "$base.tmp" "$base"
	rm -rf --one-file-system "${tmp:?}/boot"
fi

echo "# the root: $base"
mkdir "$root"
tar -C "$root" --zstd -xf "$base"
mkdir -p "$root/tmp/debs" "$root/tmp/example"
for d in "$debdir"/*.deb; do
	case $d in *-dbgsym_*) ;; *) cp "$d" "$root/tmp/debs/" ;; esac
done
cp "$src/examples/minimal.c" "$root/tmp/example/"
mount -t proc proc "$root/proc"

cat >"$root/tmp/run.sh" <<'IN'
set -eu
echo "# dpkg -i: $(cd /tmp/debs && echo *.deb)"
dpkg -i /tmp/debs/*.deb >/tmp/dpkg.log 2>&1 || { cat /tmp/dpkg.log; exit 1; }
cd /tmp/example
flags=$(pkg-config --cflags --libs libiommufd)
echo "# cc minimal.c $flags (pkg-config libiommufd $(pkg-config --modversion libiommufd))"
# shellcheck disable=SC2086
cc -Wall -Wextra -Werror -o minimal minimal.c $flags
libdir=$(pkg-config --variable=libdir libiommufd)
[ ! -e /dev/iommu ] || echo "# (the root sees a /dev/iommu: the preload library hides it)"
echo "# LD_PRELOAD=$libdir/libiommufd-preload.so ./minimal"
LD_PRELOAD=$libdir/libiommufd-preload.so ./minimal | tee out.txt
grep -q '^unmapped 1048576 bytes$' out.txt
echo "# iommufd --version: $(iommufd --version 2>&1 | head -1)"
IN
if ! timeout 300 chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
	/bin/sh /tmp/run.sh; then
	fail "the example did not build or run in the Debian 12 root"
fi
echo "deb-chroot-test: PASS"
