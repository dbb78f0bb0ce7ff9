#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# check-mandoc.sh MANDOC MANDIR: `mandoc -Tlint -W warning` over every page of
# MANDIR (*.1 .. *.8); fails on any output. Exit 77 (skip) without mandoc.
set -u
mandoc=$1 dir=$2
if [ "$mandoc" = "" ] || ! command -v "$mandoc" >/dev/null 2>&1; then
	echo "mandoc is not installed (apt-get install mandoc): pages not linted"
	exit 77
fi
n=0 bad=0
for page in "$dir"/*.[1-8]; do
	[ -e "$page" ] || continue
	n=$((n + 1))
	out=$("$mandoc" -Tlint -W warning "$page" 2>&1)
	if [ -n "$out" ]; then
		echo "$out"
		bad=$((bad + 1))
	fi
done
echo "# $n pages linted, $bad with findings"
[ "$n" -gt 0 ] && [ "$bad" -eq 0 ]
