#!/bin/sh
# PID 1 of the libiommufd test VM; run-vm boots the kernel with init= pointing
# at a copy of this file. The guest root is the host's / (read-only, 9p).
#
# The job comes from the writable 9p share "out" (mounted on /run/out):
# run-vm writes vm.conf there, a sh fragment that sets
#   TEST_TIMEOUT, NTESTS, TEST_<i>_NAME, TEST_<i>_PATH (i = 1..NTESTS)
# and exports the variables given with --env. For each test this leaves
# <name>.log (stdout+stderr) and <name>.rc (exit status; 124/137 = timeout),
# then vm-setup.txt and vm-done, and powers off.
#
# No `set -e`/`set -u`: if PID 1 exits the kernel panics and run-vm only
# learns "VM did not finish". Failures are reported and we carry on.

export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/tmp TMPDIR=/tmp
OUT=/run/out

say() {                                    # to the console (ttyS0)
	read -r up _ < /proc/uptime
	echo "run-vm-guest [${up}s]: $*"
}
poweroff_now() {                           # PID 1 must never exit
	sync
	echo o > /proc/sysrq-trigger
	sleep 30
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null  # usually already mounted
mount -t tmpfs -o mode=0755 run /run
mkdir -p /run/host "$OUT"
# The tmpfs mounts on /run and /tmp hide the host's /run and /tmp; keep them
# reachable under /run/host so test programs built there can still run.
mount --bind / /run/host
mount -t tmpfs -o mode=1777 tmp /tmp
mount -t debugfs debugfs /sys/kernel/debug

if ! mount -t 9p -o trans=virtio,version=9p2000.L,msize=1048576 out "$OUT"; then
	say "FATAL: cannot mount the 9p share 'out'"
	poweroff_now
fi
: > "$OUT/vm-started" # run-vm's boot watchdog
# shellcheck disable=SC1091
if ! [ -r "$OUT/vm.conf" ] || ! . "$OUT/vm.conf"; then
	say "FATAL: cannot read $OUT/vm.conf"
	poweroff_now
fi

# Environment for the tests: hugepages (kernel selftests), edu and NVMe
# handed to vfio-pci. What happened goes to vm-setup.txt.
{
	echo 600 > /proc/sys/vm/nr_hugepages
	echo "nr_hugepages: $(cat /proc/sys/vm/nr_hugepages)"
	for d in /sys/bus/pci/devices/*; do
		case "$(cat "$d/vendor"):$(cat "$d/device")" in
		0x1234:0x11e8|0x1b36:0x0010)
			echo vfio-pci > "$d/driver_override"
			echo "${d##*/}" > /sys/bus/pci/drivers_probe
			drv=$(readlink "$d/driver")
			echo "${d##*/} $(cat "$d/vendor"):$(cat "$d/device") -> ${drv##*/}"
			;;
		esac
	done
	ls -l /dev/iommu /dev/vfio /dev/vfio/devices
	echo "uname: $(uname -a)"
} > "$OUT/vm-setup.txt" 2>&1

i=1
while [ "$i" -le "$NTESTS" ]; do
	name='' prog=''
	eval "name=\$TEST_${i}_NAME prog=\$TEST_${i}_PATH"
	case $prog in /tmp/*|/run/*) prog=/run/host$prog ;; esac
	mkdir -p "/tmp/work/$name"        # per-test scratch cwd on tmpfs
	say "start $name"
	(cd "/tmp/work/$name" && exec timeout -k 10 "$TEST_TIMEOUT" "$prog") \
		> "$OUT/$name.log" 2>&1 < /dev/null
	rc=$?
	echo "$rc" > "$OUT/$name.rc"
	say "end $name: exit $rc"
	i=$((i + 1))
done

echo finished > "$OUT/vm-done"
say "all done, powering off"
poweroff_now
