#!/bin/sh
# PID 1 of the test guest. The root filesystem is the host chroot, read-only
# over 9p; /mnt/host is this run's directory on the host (read-write): it
# holds the job to run, the kernel modules, and receives the results.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /var/tmp 2>/dev/null
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 host /mnt/host
mount --bind /mnt/host/modroot/lib/modules /lib/modules
export HOME=/tmp
echo "vgm-guest: kernel $(uname -r), job start"
rc=0
/bin/sh /mnt/host/job.sh >/mnt/host/job.log 2>&1 || rc=$?
echo "$rc" >/mnt/host/job.rc
dmesg >/mnt/host/dmesg.txt
sync
echo "vgm-guest: job exit $rc"
# (a root without systemd-sysv has no reboot: RB_AUTOBOOT through libc)
reboot -f 2>/dev/null || python3 -c 'import ctypes; ctypes.CDLL(None).reboot(0x01234567)'
