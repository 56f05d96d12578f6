#!/bin/sh
# An attacker's tests: root in a jail (path = a test root) tries every way out
# named in issue 10 to read a host file it knows the path of.  Each one reads
# the file when a jail does not confine (as before confinement), so each check
# fails there; here each must end in an error.  Whatever one of them might
# mount on the host is unmounted at the end (by its path).
. "$(dirname "$0")/lib/rootfs.subr"
. "$(dirname "$0")/lib/fs.subr"
JAILFS_MOUNT=$MNT; export JAILFS_MOUNT
make_rootfs "$OUT/root" || exit 1
make_escape "$ROOT/bin" || { echo "FAIL: cannot build the escape program (cc -static)"; exit 1; }
SECRET=$OUT/secret
echo host-secret >"$SECRET"
mkdir "$ROOT/mntpoint" "$ROOT/sub"
MYPIDS=
escape_cleanup() {
    for _p in $MYPIDS; do kill -9 "$_p" 2>/dev/null; done
    grep -q " $ROOT/mntpoint " /proc/self/mountinfo && umount "$ROOT/mntpoint"
    cd / && cleanup
}
trap escape_cleanup EXIT
ENOENT="No such file or directory"

expect 0 "" "" -- jail -c name=t "path=$ROOT" persist children.max=4
expect 0 "" "" -- jail -c name=b path=/ persist
expect 0 "root:x:0:0:root:/root:/bin/sh" "" -- jexec t sh -c '/bin/escape read /etc/passwd | head -1'

# .. from the root, however many
expect 1 "$ENOENT" "" -- jexec t /bin/escape read "../../../../../../..$SECRET"
expect 1 "" "can't open" -- jexec t sh -c "cd /; cd ../../../../..; cat .$SECRET"
# a directory descriptor opened on the host before entering (fd 7: the secret's directory)
expect 1 "Bad file descriptor" "" -- jexec t /bin/escape fd 7 secret 7<"$OUT"
# /proc/1/root: pid 1 is the jail's own init (undumpable, its root the jail's)
expect 1 "Permission denied" "" -- jexec t /bin/escape read "/proc/1/root$SECRET"
# the cwd of another jail's process (jail b has the host's tree; its sleeper's
# cwd is the secret's directory) and of a host process
jexec -d "$OUT" b sleep 300 &
JP=$!; MYPIDS="$MYPIDS $JP"
_n=50; while [ -z "$(pgrep -P "$(pgrep -P $JP | head -1)" 2>/dev/null)" ] && [ $_n -gt 0 ]; do sleep 0.1; _n=$((_n - 1)); done
BS=$(pgrep -P "$(pgrep -P $JP | head -1)" | head -1)
[ -n "$BS" ] && [ "$(readlink "/proc/$BS/cwd")" = "$OUT" ]; is "jail b's sleeper runs in the secret's directory" $? 0
expect 1 "$ENOENT" "" -- jexec t /bin/escape read "/proc/$BS/cwd/secret"
(cd "$OUT" && exec sleep 300) &
HS=$!; MYPIDS="$MYPIDS $HS"
expect 1 "$ENOENT" "" -- jexec t /bin/escape read "/proc/$HS/cwd/secret"
# mounting (relative: where the jail's / is: its root's mntpoint either way)
expect 1 "" "mount: permission denied" -- jexec t mount -t tmpfs none mntpoint
expect 1 "" "mount: permission denied" -- jexec t mount --bind / mntpoint
is "nothing mounted on the host" "$(grep -c " $ROOT/mntpoint " /proc/self/mountinfo)" 0
# unsharing or joining namespaces again
expect 1 "" "unshare" -- jexec t unshare -m true
expect 1 "" "nsenter" -- jexec t nsenter -t 1 -m true
expect 1 "setns: Permission denied" "" -- jexec t /bin/escape setns /proc/1/ns/mnt "$SECRET"
expect 1 "setns: Operation not permitted" "" -- jexec t /bin/escape setns /proc/self/ns/mnt "$SECRET"
# the classic chroot escape: chroot into a subdirectory, cwd left outside, .. up
expect 1 "$ENOENT" "" -- jexec t /bin/escape chroot /sub "$SECRET"
# signals: kill(0) reaches the caller's whole process group, host processes
# included (Linux does not check pid namespaces there): the command has its
# own group, so only it dies (were it in this script's group, the script would)
jexec t sh -c 'kill -9 0'
is "kill -9 0 inside kills the jail's group only (jexec passes on SIGKILL)" $? 137
# pivot_root
expect 1 "" "pivot_root" -- jexec t pivot_root / /sub
# the host's sysfs and cgroup hierarchies, in jail b whose root is the host's /:
# read-only, so a jailed root can neither change a host knob nor make, limit,
# freeze or kill a cgroup (another jail's, through its cgroup.kill, included)
expect 2 "" "Read-only file system" -- jexec b sh -c 'echo 0 > /sys/kernel/mm/ksm/run'
for _cg in $(awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { if ($(i + 1) ~ /^cgroup2?$/) print $5; break } }' /proc/self/mountinfo); do
    expect 1 "" "Read-only file system" -- jexec b mkdir "$_cg/jailfs-escape.$$"
    [ -d "$_cg/jailfs-escape.$$" ] && rmdir "$_cg/jailfs-escape.$$"
done
# the daemon's cgroup base (every jail's processes are below it): its cgroup.kill
CGBASE=$(awk -F: '$1 == "0" { split($3, p, "/"); print "/" p[2] }' "/proc/$BS/cgroup")
CG2=$(awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2") print $5; break } }' /proc/self/mountinfo | head -1)
if [ -n "$CG2" ] && [ -e "$CG2$CGBASE/cgroup.kill" ]; then
    expect 2 "" "Read-only file system" -- jexec b sh -c "echo 1 > $CG2$CGBASE/cgroup.kill"
    kill -0 "$BS" 2>/dev/null; is "jail b's sleeper survives its jail writing the base's cgroup.kill" $? 0
fi

# a child jail: made from inside without a path it gets the parent's root
# (never the host's), and through its processes' /proc/PID/root the parent
# reaches nothing outside its own root
expect 0 "ok" "" -- jexec t sh -c 'exec 3<>/dev/jailfs/.ctl; echo "create name=kid persist" >&3; head -1 <&3 | cut -d" " -f1'
expect 1 "$ENOENT" "" -- jexec t.kid /bin/escape read "$SECRET"
jexec t.kid sleep 300 &
KP=$!; MYPIDS="$MYPIDS $KP"
_n=50; while [ "$(jexec t sh -c 'ls -d /proc/[0-9]* | wc -l')" -lt 4 ] && [ $_n -gt 0 ]; do sleep 0.1; _n=$((_n - 1)); done
expect 0 "" "" -- jexec t sh -c "for p in /proc/[0-9]*; do /bin/escape read \$p/root$SECRET | grep host-secret; done; true"
# a child whose path lies outside its parent's root is refused, not run unconfined
expect 0 "" "" -- jail -c name=t.out "path=$OUT" persist
expect 1 "" "is outside its parent's root" -- jexec t.out /bin/escape read "$SECRET"
done_testing
