#!/bin/sh
# Runs the kernel's own iommufd selftests (iommufd, iommufd_fail_nth), unmodified,
# against the emulator through the preload library, and reports how many pass.
#
#   tests/kselftest/run.sh BUILDDIR [OUTDIR]
#
# BUILDDIR: a meson build dir holding lib/preload/libiommufd-preload.so.
# OUTDIR (default BUILDDIR/tests/kselftest/run): the binaries and the logs
#   (iommufd.log, iommufd_fail_nth.log: TAP + diagnostics; failures.txt; summary.txt).
#
# It builds the selftests with build.sh (cached in KSELFTEST_CACHE, default
# ~/.cache/libiommufd-kselftest; the first build downloads linux-source-7.2 from
# the Debian mirror), runs each binary once with LD_PRELOAD, prints the
# kselftest totals and the failed tests with their first diagnostic line, and
# compares the pass count (both programs) with tests/kselftest/expected-pass.
#
# Exit status: 0 when the run completed and passed >= expected-pass tests
# (some selftests failing is normal: the figure is what is tracked); 1 when
# fewer passed than that (a regression) or the preload library is missing;
# 77 (skip) when the selftest sources cannot be fetched (no cache and no network).
#
# Environment:
#   KSELFTEST_BIN=DIR       use already built binaries (no build.sh)
#   KSELFTEST_CACHE=DIR     build.sh's cache
#   KSELFTEST_TIMEOUT=S     wall-clock limit per program (default 900 s; the
#                           harness itself stops a single test after 30 s)
#   KSELFTEST_ARGS="..."    extra harness arguments for iommufd (e.g. "-f iommufd_ioas")
#   KSELFTEST_HUGEPAGES=N   as root, raise /proc/sys/vm/nr_hugepages to N for the run
#                           (restored afterwards); default 0: leave the host alone
#   KSELFTEST_FAKE_HUGETLB=0  do not let the preload library stand in for missing
#                           hugetlb pages (default 1: IOMMUFD_PRELOAD_FAKE_HUGETLB=1, a
#                           MAP_HUGETLB mmap that fails gets 2 MiB-aligned normal pages)
#   KSELFTEST_UPDATE=1      write the pass count achieved into expected-pass
set -u

[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: $0 BUILDDIR [OUTDIR]" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
builddir=$(cd "$1" && pwd) || exit 2
out=${2:-$builddir/tests/kselftest/run}
preload=$builddir/lib/preload/libiommufd-preload.so
expected_file=$here/expected-pass
limit=${KSELFTEST_TIMEOUT:-900}

log() { echo "kselftest-emu: $*" >&2; }

[ -f "$preload" ] || { log "no $preload (ninja -C $builddir first)"; exit 1; }
mkdir -p "$out"
out=$(cd "$out" && pwd)

# --- the selftest binaries ------------------------------------------------------
if [ -n "${KSELFTEST_BIN:-}" ]; then
	bin=$KSELFTEST_BIN
else
	bin=$out/bin
	if ! sh "$here/build.sh" "$bin" ${KSELFTEST_CACHE:+"$KSELFTEST_CACHE"} >"$out/build.log" 2>&1; then
		tail -5 "$out/build.log" >&2
		if grep -q "compilation failed" "$out/build.log"; then
			log "FAIL: the kernel selftests do not compile (see $out/build.log)"
			exit 1
		fi
		log "SKIP: could not fetch or extract the kernel selftests (see $out/build.log)"
		exit 77
	fi
fi
for t in iommufd iommufd_fail_nth; do
	[ -x "$bin/$t" ] || { log "SKIP: no $bin/$t"; exit 77; }
done

# --- optional: hugepages for the *_huge* tests ------------------------------------
hp_file=/proc/sys/vm/nr_hugepages
hp_old=
if [ "${KSELFTEST_HUGEPAGES:-0}" -gt 0 ] 2>/dev/null && [ -w "$hp_file" ]; then
	hp_old=$(cat "$hp_file")
	if [ "$hp_old" -lt "$KSELFTEST_HUGEPAGES" ]; then
		echo "$KSELFTEST_HUGEPAGES" >"$hp_file" 2>/dev/null || true
		log "nr_hugepages $hp_old -> $(cat "$hp_file") for the run"
	else
		hp_old=
	fi
fi
restore() { [ -n "$hp_old" ] && echo "$hp_old" >"$hp_file" 2>/dev/null; true; }
trap restore EXIT
trap 'restore; exit 130' INT TERM

# --- run one program in its own session; kill whatever it leaves behind ------------
# run_one NAME ARGS...: TAP+diagnostics in $out/NAME.log
run_one() {
	name=$1
	shift
	rm -f "$out/$name.log"
	# setsid: the harness puts each test in its own process group, but all of
	# them stay in this session, so a timeout can find and kill every one
	setsid -w sh -c 'echo $$ >"$1"; shift; exec "$@"' sh "$out/$name.sid" \
		env LD_PRELOAD="$preload" IOMMUFD_PRELOAD_FAKE_HUGETLB="${KSELFTEST_FAKE_HUGETLB:-1}" \
		"$bin/$name" "$@" >"$out/$name.log" 2>&1 </dev/null &
	pid=$!
	waited=0
	while kill -0 "$pid" 2>/dev/null; do
		if [ "$waited" -ge "$limit" ]; then
			log "$name: still running after ${limit}s, killed"
			echo "# kselftest-emu: killed after ${limit}s" >>"$out/$name.log"
			break
		fi
		sleep 1
		waited=$((waited + 1))
	done
	sid=$(cat "$out/$name.sid" 2>/dev/null)
	if [ -n "$sid" ]; then
		for p in $(ps -o pid= -s "$sid" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	fi
	wait "$pid" 2>/dev/null
	rm -f "$out/$name.sid"
}

# counts NAME: "planned pass fail skip" from the TAP of $out/NAME.log
counts() {
	awk '
		/^1\.\.[0-9]+/ { planned = substr($0, 4) + 0 }
		/^ok [0-9]+ / { if ($0 ~ /# SKIP/) skip++; else pass++ }
		/^not ok [0-9]+ / { fail++ }
		END { printf "%d %d %d %d\n", planned, pass, fail, skip }
	' "$out/$1.log"
}

# failures NAME: "name: first diagnostic" for each failed or missing test
failures() {
	awk -v prog="$1" '
		/^#  RUN +/ { cur = $3; diag = ""; next }
		cur != "" && diag == "" && /^# .*(Expected|Assertion|terminated|signal|Test )/ {
			diag = $0; sub(/^# /, "", diag)
		}
		/^not ok [0-9]+ / {
			n = $4; reason = diag
			if (reason == "") reason = "(no diagnostic)"
			printf "%s %s: %s\n", prog, n, reason
			seen[n] = 1; cur = ""
		}
		/^ok [0-9]+ / { ran++; cur = "" }
		/^1\.\.[0-9]+/ { planned = substr($0, 4) + 0 }
		END {
			if (cur != "") printf "%s %s: did not finish (program killed or crashed)\n", prog, cur
		}
	' "$out/$2.log"
}

start=$(date +%s)
# shellcheck disable=SC2086 # KSELFTEST_ARGS: several harness arguments
run_one iommufd ${KSELFTEST_ARGS:-}
run_one iommufd_fail_nth
end=$(date +%s)

total_pass=0
total_planned=0
: >"$out/failures.txt"
{
	echo "kselftest-emu: the kernel's iommufd selftests against the emulator (LD_PRELOAD)"
	for t in iommufd iommufd_fail_nth; do
		# shellcheck disable=SC2046 # four numbers
		set -- $(counts "$t")
		planned=$1 pass=$2 fail=$3 skip=$4
		missing=$((planned - pass - fail - skip))
		totals=$(grep '^# Totals:' "$out/$t.log" | tail -1)
		[ -n "$totals" ] || totals="# Totals: (none: the program did not finish)"
		echo "$t: $totals"
		echo "$t: planned $planned, pass $pass, fail $fail, skip $skip, not run $missing"
		total_pass=$((total_pass + pass))
		total_planned=$((total_planned + planned))
		failures "$t" "$t" >>"$out/failures.txt"
		if [ "$missing" -gt 0 ]; then
			echo "$t: $missing tests never reported (see $out/$t.log)" >>"$out/failures.txt"
		fi
	done
	echo "pass: $total_pass of $total_planned (in $((end - start)) s)"
} >"$out/summary.txt"

cat "$out/summary.txt"
if [ -s "$out/failures.txt" ]; then
	echo "failed tests ($(wc -l <"$out/failures.txt")):"
	sed 's/^/  /' "$out/failures.txt"
fi

expected=0
[ -f "$expected_file" ] && expected=$(sed -n 's/^\([0-9][0-9]*\).*/\1/p' "$expected_file" | head -1)
expected=${expected:-0}
if [ "${KSELFTEST_UPDATE:-0}" = 1 ]; then
	if [ -f "$expected_file" ]; then
		sed -i "1s/.*/$total_pass/" "$expected_file"
	else
		echo "$total_pass" >"$expected_file"
	fi
	log "expected-pass set to $total_pass"
fi
if [ -n "${KSELFTEST_ARGS:-}" ]; then
	log "partial run (KSELFTEST_ARGS): threshold not checked"
	exit 0
fi
if [ "$total_pass" -lt "$expected" ]; then
	log "FAIL: $total_pass passed, fewer than expected-pass $expected"
	exit 1
fi
log "ok: $total_pass passed (threshold $expected)"
exit 0
