#!/bin/sh
# Root in a jail is not root of the host (privileges.py, the README's table):
# each call made by a jailed root process, with and without the allow.* bit
# that grants it.  Every probe is harmless where it succeeds (no time set, no
# module loaded, no reboot), and would succeed today without confinement.
. "$(dirname "$0")/lib/rootfs.subr"
. "$(dirname "$0")/lib/fs.subr"
JAILFS_MOUNT=$MNT; export JAILFS_MOUNT
PY=$ROOT/.venv/bin/python
[ -x "$PY" ] || PY=$(command -v python3)
P=$OUT/probe.py
write_probe "$P"
probe() { expect 0 "$3" "" -- jexec "$1" "$PY" "$P" "$2"; }

[ "$(id -u)" = 0 ] || { echo "FAIL: needs root"; exit 1; }
expect 0 "" "" -- jail -c name=plain path=/ persist host=new
expect 0 "" "" -- jail -c name=raw path=/ persist allow.raw_sockets
expect 0 "" "" -- jail -c name=lock path=/ persist allow.mlock
expect 0 "" "" -- jail -c name=nohost path=/ persist host=new allow.noset_hostname

probe plain raw_socket EPERM
probe raw raw_socket ok
probe plain packet_socket EPERM
probe plain settimeofday EPERM
probe plain finit_module EPERM
probe plain reboot EPERM
probe plain mlock EPERM
probe lock mlock ok
probe plain mount_tmpfs EPERM
# allow.mount with a file system and enforce_statfs < 2: mounting works, in
# the jail's own mount namespace only (the host sees nothing at that point)
mkdir "$OUT/m"
expect 0 "" "" -- jail -c name=mounter path=/ persist allow.mount allow.mount.tmpfs enforce_statfs=1
expect 0 "ok" "" -- jexec mounter "$PY" "$P" mount_tmpfs "$OUT/m"
is "not mounted on the host" "$(grep -c " $OUT/m " /proc/self/mountinfo)" 0
expect 0 "" "" -- jail -c name=nostatfs path=/ persist allow.mount allow.mount.tmpfs enforce_statfs=2
expect 0 "EPERM" "" -- jexec nostatfs "$PY" "$P" mount_tmpfs "$OUT/m"
probe plain mknod EPERM
probe plain open_by_handle_at EPERM
probe plain iopl EPERM
probe nohost sethostname EPERM
# asynchronous I/O: a write in flight with no thread in a write call (fs/ctlguard.py)
probe plain io_setup ENOSYS
probe plain io_uring_setup ENOSYS
# the capability bounding set: nothing the jail execs gets more back
bnd=$(jexec plain sh -c 'grep CapBnd /proc/self/status' | awk '{print $2}')
is "CAP_SYS_MODULE (16) not in the bounding set" "$(( 0x$bnd >> 16 & 1 ))" 0
is "CAP_SYS_ADMIN (21) only for set_hostname: not without" "$(( 0x$(jexec nohost sh -c 'grep CapBnd /proc/self/status' | awk '{print $2}') >> 21 & 1 ))" 0
is "CAP_NET_RAW (13) with allow.raw_sockets" "$(( 0x$(jexec raw sh -c 'grep CapBnd /proc/self/status' | awk '{print $2}') >> 13 & 1 ))" 1
expect 0 "2" "" -- jexec plain sh -c 'grep ^Seccomp: /proc/self/status | tr -dc 0-9'
done_testing
