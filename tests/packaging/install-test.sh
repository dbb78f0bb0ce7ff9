#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# install-test.sh MESON BUILD_DIR SOURCE_DIR PREFIX LIBDIR MANDIR
#
# Install the build into a temporary DESTDIR, then build consumer.c,
# consumer.cc and examples/*.c against the INSTALLED copy through
# `pkg-config libiommufd` alone (as a driver or VMM would), and
# consumer-emu.c through `pkg-config libiommufd-emu` (as a test would), and
# run them against the installed libraries: the programs that name no
# backend run unmodified on the installed emulator through the preload
# library (there is no /dev/iommu here). Also checks the installed layout
# (headers, soname links, pkg-config files, man pages).
set -eu

meson=$1 build=$2 src=$3 prefix=$4 libdir=$5 mandir=$6
case $libdir in /*) ;; *) libdir=$prefix/$libdir ;; esac
case $mandir in /*) ;; *) mandir=$prefix/$mandir ;; esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/iommufd-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/root
out=$tmp/bin
mkdir -p "$out"

fail() {
	echo "FAIL: $*"
	exit 1
}

# meson install builds what is out of date first: `meson test` only builds
# what the tests need, and the install needs everything (the test is not
# parallel, so nothing else runs meanwhile)
echo "# meson install --destdir $dest"
"$meson" install -C "$build" --quiet --destdir "$dest" >"$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log"; fail "meson install"; }

# the installed layout
for f in "$prefix/include/iommufd.h" "$libdir/libiommufd.so" "$libdir/libiommufd.so.1" \
	 "$libdir/pkgconfig/libiommufd.pc" "$mandir/man3/libiommufd.3" \
	 "$mandir/man3/iommufd_ctx_new.3" \
	 "$prefix/include/iommufd-emu.h" "$libdir/libiommufd-emu.so" "$libdir/libiommufd-emu.so.1" \
	 "$libdir/pkgconfig/libiommufd-emu.pc" "$mandir/man3/iommufd_emu_new.3"; do
	[ -e "$dest$f" ] || fail "not installed: $f"
done
[ -L "$dest$libdir/libiommufd.so" ] || fail "$libdir/libiommufd.so is not a symlink"
[ -L "$dest$libdir/libiommufd-emu.so" ] || fail "$libdir/libiommufd-emu.so is not a symlink"
if [ -e "$dest$prefix/include/private.h" ]; then fail "the private header was installed"; fi

# every exported function has an installed man(3) page; an alias page
# (".so man3/page.3") points to an installed page
nsyms=0
for sym in $(sed -e 's:/\*.*\*/::g' "$src/lib/libiommufd.sym" "$src/lib/emu/libiommufd-emu.sym" |
	     grep -oE '^[[:space:]]*iommufd_[a-z0-9_]+;' |
	     tr -d ' \t;'); do
	page=$dest$mandir/man3/$sym.3
	[ -e "$page" ] || fail "no man page installed for $sym ($mandir/man3/$sym.3)"
	so=$(sed -n 's/^\.so //p' "$page")
	if [ -n "$so" ] && [ ! -e "$dest$mandir/$so" ]; then
		fail "$mandir/man3/$sym.3 points to $so, which is not installed"
	fi
	nsyms=$((nsyms + 1))
done
[ "$nsyms" -gt 0 ] || fail "no exported symbol found in lib/libiommufd.sym"
echo "# $nsyms exported functions: each has an installed man page"

PKG_CONFIG_PATH=$dest$libdir/pkgconfig
PKG_CONFIG_LIBDIR=$dest$libdir/pkgconfig
PKG_CONFIG_SYSROOT_DIR=$dest
export PKG_CONFIG_PATH PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR
flags=$(pkg-config --cflags --libs libiommufd) || fail "pkg-config --cflags --libs libiommufd"
echo "# pkg-config --cflags --libs libiommufd: $flags"
case $flags in *"$dest"*) ;; *) fail "pkg-config flags do not point into $dest: $flags" ;; esac
case $flags in *iommufd-emu*) fail "pkg-config libiommufd names the emulator: $flags" ;; esac
emu_flags=$(pkg-config --cflags --libs libiommufd-emu) || fail "pkg-config --cflags --libs libiommufd-emu"
echo "# pkg-config --cflags --libs libiommufd-emu: $emu_flags"
case $emu_flags in *-liommufd-emu*-liommufd*|*-liommufd*-liommufd-emu*) ;;
	*) fail "pkg-config libiommufd-emu does not link both libraries: $emu_flags" ;; esac
ver=$(pkg-config --modversion libiommufd)
echo "# pkg-config --modversion libiommufd: $ver"

CC=${CC:-cc}
CXX=${CXX:-c++}
warn="-Wall -Wextra -Werror"

# build_c SRC EXE [FLAGS]: FLAGS defaults to those of libiommufd alone
# shellcheck disable=SC2086 # $flags is a list of words
build_c() {
	f=${3:-$flags}
	echo "# $CC $warn -std=c11 $1 $f"
	$CC $warn -std=c11 -D_GNU_SOURCE -o "$2" "$1" $f || fail "compiling $1"
}
# shellcheck disable=SC2086
build_cxx() {
	echo "# $CXX $warn -std=c++11 $1 $flags"
	$CXX $warn -std=c++11 -o "$2" "$1" $flags || fail "compiling $1"
}

# run [--preload] EXE ARGS...: against the installed libraries; with
# --preload, unmodified on the installed emulator (LD_PRELOAD), as a program
# written for the kernel runs on a machine without /dev/iommu
run() {
	preload=
	if [ "$1" = --preload ]; then
		preload=$dest$libdir/libiommufd-preload.so
		[ -e "$preload" ] || fail "not installed: $libdir/libiommufd-preload.so"
		shift
	fi
	exe=$1
	shift
	LD_LIBRARY_PATH=$dest$libdir ldd "$exe" | grep -q "$dest$libdir/libiommufd.so.1" ||
		fail "$exe does not resolve libiommufd.so.1 in $dest$libdir"
	echo "# running $(basename "$exe") $*${preload:+ (LD_PRELOAD=$preload)}"
	LD_LIBRARY_PATH=$dest$libdir LD_PRELOAD=$preload "$exe" "$@" >"$tmp/run.log" 2>&1 ||
		{ cat "$tmp/run.log"; fail "$exe $* exited with $?"; }
	cat "$tmp/run.log"
}

build_c "$src/tests/packaging/consumer.c" "$out/consumer-c"
build_cxx "$src/tests/packaging/consumer.cc" "$out/consumer-cxx"
build_c "$src/tests/packaging/consumer-emu.c" "$out/consumer-emu" "$emu_flags"
# linked against libiommufd alone: nothing of the emulator is loaded
if LD_LIBRARY_PATH=$dest$libdir ldd "$out/consumer-c" | grep -q iommufd-emu; then
	fail "consumer-c, linked with pkg-config libiommufd, loads the emulator library"
fi
run --preload "$out/consumer-c"
grep -q '^OK ' "$tmp/run.log" || fail "consumer-c did not print OK"
run --preload "$out/consumer-cxx"
grep -q '^OK ' "$tmp/run.log" || fail "consumer-cxx did not print OK"
run "$out/consumer-emu"
grep -q '^OK ' "$tmp/run.log" || fail "consumer-emu did not print OK"

n=0
for ex in "$src"/examples/*.c; do
	[ -e "$ex" ] || continue
	name=$(basename "$ex" .c)
	build_c "$ex" "$out/$name"
	# an example is written for the kernel: it runs here on the emulator
	# through the preload library, unless it says "install-test: build only"
	# (it needs real hardware or the VM)
	if grep -q 'install-test: build only' "$ex"; then
		echo "# $name: built only"
	else
		run --preload "$out/$name"
	fi
	n=$((n + 1))
done
echo "# $n examples built and run against the installed library"
echo "PASS"
