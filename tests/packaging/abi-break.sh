#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# abi-break.sh SOURCE_DIR: the ABI check (scripts/abi-check) catches a break.
# Three tiny libraries are built from copies of include/iommufd.h, each
# exporting a function that takes struct iommufd_hwpt_alloc_opts:
#   base:   the header as it is;
#   broken: a field inserted into the struct before its last member;
#   added:  the header as it is, and one more function in a new version node;
#   samenode: the same function added to the released node.
# broken and samenode against base must fail (an incompatible change, a
# released node changed), added against base must pass (additions are
# compatible). Exit 77 without abigail-tools or cc.
set -eu
src=$1
abicheck=$src/scripts/abi-check
CC=${CC:-cc}
if ! command -v abidw >/dev/null 2>&1 || ! command -v abidiff >/dev/null 2>&1; then
	echo "SKIP: abigail-tools missing"
	exit 77
fi
command -v "$CC" >/dev/null 2>&1 || { echo "SKIP: no $CC"; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/iommufd-abibreak.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# abidw and abidiff leave scratch files (mldbm-elf-*) in TMPDIR: keep them in ours
export TMPDIR="$tmp"

# build NAME EXTRA_NODE: lib NAME/libprobe.so from NAME/iommufd.h
build() {
	d=$tmp/$1
	cat >"$d/probe.c" <<'C'
#include <iommufd.h>
__attribute__((visibility("default"))) size_t probe_opts(const struct iommufd_hwpt_alloc_opts *o);
size_t probe_opts(const struct iommufd_hwpt_alloc_opts *o)
{
	return o->sz + o->data_len;
}
#ifdef PROBE_ADDED
__attribute__((visibility("default"))) int probe_added(struct iommufd_hwpt_alloc_opts *o);
int probe_added(struct iommufd_hwpt_alloc_opts *o)
{
	return (int)o->flags;
}
#endif
C
	case $3 in
	*PROBE_SAME_NODE*) printf 'PROBE_1.0 { global: probe_opts; probe_added; local: *; };\n' ;;
	*) printf 'PROBE_1.0 { global: probe_opts; local: *; };\n%s\n' "$2" ;;
	esac >"$d/probe.sym"
	# shellcheck disable=SC2086
	"$CC" -g -O2 -shared -fPIC -fvisibility=hidden -I"$d" $3 -Wl,-soname,libprobe.so.1 \
		-Wl,--version-script="$d/probe.sym" -o "$d/libprobe.so" "$d/probe.c"
	"$abicheck" --dump "$d/libprobe.so" "$d" "$d/probe.abi"
}

for v in base broken added; do
	mkdir "$tmp/$v"
	cp "$src/include/iommufd.h" "$tmp/$v/"
done
# the field goes before the struct's last member (const void *data;)
awk '/^struct iommufd_hwpt_alloc_opts \{/ { s = 1 }
     s && /^[ \t]*const void \*data;/ { print "\tuint32_t abi_break_inserted;"; s = 0 }
     { print }' "$src/include/iommufd.h" >"$tmp/broken/iommufd.h"
grep -q abi_break_inserted "$tmp/broken/iommufd.h" ||
	{ echo "FAIL: could not insert a field into struct iommufd_hwpt_alloc_opts"; exit 1; }

build base '' ''
build broken '' ''
build added 'PROBE_1.1 { global: probe_added; } PROBE_1.0;' '-DPROBE_ADDED'
mkdir "$tmp/samenode"
cp "$src/include/iommufd.h" "$tmp/samenode/"
build samenode '' '-DPROBE_ADDED -DPROBE_SAME_NODE'

echo "# a field inserted into struct iommufd_hwpt_alloc_opts:"
if "$abicheck" --compare "$tmp/base/probe.abi" "$tmp/broken/probe.abi"; then
	echo "FAIL: the inserted field was not reported as an incompatible change"
	exit 1
fi
echo "# a function added in a new version node:"
"$abicheck" --compare "$tmp/base/probe.abi" "$tmp/added/probe.abi" ||
	{ echo "FAIL: an addition was reported as incompatible"; exit 1; }
echo "# a function added to the released node PROBE_1.0:"
if "$abicheck" --compare "$tmp/base/probe.abi" "$tmp/samenode/probe.abi"; then
	echo "FAIL: an addition to a released version node was accepted"
	exit 1
fi
echo "# the unchanged library:"
"$abicheck" --compare "$tmp/base/probe.abi" "$tmp/base/probe.abi"
echo "PASS"
