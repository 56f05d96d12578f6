#!/bin/sh
# A jail manager's start/stop path, end to end: a thin-jail style jail.conf
# over the busybox root starts the jail (its /etc/rc starts a daemon), jexec
# answers inside its root, jail -r runs /etc/rc.shutdown and stops it; after
# freeing and unmounting nothing of the jail remains: its namespaces, cgroup,
# mounts and interfaces, each checked by the id recorded while it ran.
. "$(dirname "$0")/lib/rootfs.subr"
. "$(dirname "$0")/lib/fs.subr"
JAILFS_MOUNT=$MNT; export JAILFS_MOUNT
make_rootfs "$OUT/root" || exit 1
cat >"$ROOT/etc/rc" <<'RC'
#!/bin/sh
echo "rc: started" >>/var/log/rc.log
# the jail's daemon: ticks once a second, its pid in /var/run/ticker.pid
/bin/sh -c 'echo $$ >/var/run/ticker.pid; while :; do date +%s >/var/run/ticker; sleep 1; done' \
    </dev/null >/dev/null 2>&1 &
RC
cat >"$ROOT/etc/rc.shutdown" <<'RC'
#!/bin/sh
kill "$(cat /var/run/ticker.pid)" && rm -f /var/run/ticker.pid
echo "rc.shutdown: done" >>/var/log/rc.log
RC
cat >"$OUT/jail.conf" <<EOF2
exec.start = "/bin/sh /etc/rc";
exec.stop = "/bin/sh /etc/rc.shutdown";
exec.clean;
mount.devfs;
path = "/tmp/\$name-unused";
www {
    path = "$ROOT";
    host.hostname = "www.example.org";
    ip4.addr = 127.0.0.2;
}
net {
    path = "$ROOT";
    host.hostname = "net.example.org";
    exec.start = "/bin/true";
    exec.stop = "/bin/true";
    vnet;
    persist;
}
EOF2
ctl() { exec 3<>"$MNT/.ctl"; printf '%s\n' "$*" >&3; cat <&3; exec 3>&-; }
# host mounts of the root or of this jailfs mount (the anchors' are in their namespaces)
host_mounts() { grep -c -e " $ROOT[ /]" -e " $MNT[ /]" /proc/self/mountinfo; }

expect 0 "www: created" "" -- jail -f "$OUT/jail.conf" -c www
is "rc ran inside the root" "$(cat "$ROOT/var/log/rc.log")" "rc: started"
_n=50; while [ ! -s "$ROOT/var/run/ticker.pid" ] && [ $_n -gt 0 ]; do sleep 0.1; _n=$((_n - 1)); done
expect 0 "www.example.org" "" -- jexec www hostname
expect 0 "127.0.0.2" "" -- jls -j www ip4.addr
expect 0 "1" "" -- jexec www sh -c 'ps | grep -c "[w]hile :"'
t1=$(jexec www cat /var/run/ticker); sleep 1.2; t2=$(jexec www cat /var/run/ticker)
[ -n "$t1" ] && [ "$t1" != "$t2" ]; is "the daemon runs (ticks)" $? 0
expect 0 "bin dev etc proc root sbin tmp var" "" -- jexec www sh -c 'echo $(ls /)'
expect 0 "" "" -- jexec www sh -c 'echo written-inside >/root/note'
is "jexec writes inside the root" "$(cat "$ROOT/root/note")" written-inside

# what to look for afterwards: namespace ids, the daemon's host pid, its cgroup
mnt_ns=$(ns_id www mnt); pid_ns=$(ns_id www pid); uts_ns=$(ns_id www uts)
dpid=$(ctl procs www | awk 'NR > 1 && $2 == "sh" {print $1}' | head -1)
[ -n "$dpid" ] && [ -d "/proc/$dpid" ]; is "the jail's daemon is a real process of the jail (.ctl procs)" $? 0
cgroup=$(awk -F: '$1 == "0" {print $3}' "/proc/$dpid/cgroup" 2>/dev/null)
v2=$(awk '$3 == "cgroup2" {print $2; exit}' /proc/mounts)
[ -n "$cgroup" ] && [ -d "$v2$cgroup" ]; is "its cgroup exists: $cgroup" $? 0

# a vnet jail with an epair end
expect 0 "net: created" "" -- jail -f "$OUT/jail.conf" -c net
is "epair" "$(ctl ifcreate epair)" "ok epair0a epair0b"
is "moved" "$(ctl ifvnet epair0b net)" "ok epair0b"
_n=40; while ! jexec net ip link show epair0b >/dev/null 2>&1 && [ $_n -gt 0 ]; do sleep 0.1; _n=$((_n - 1)); done
expect 0 "epair0b lo" "" -- jexec net sh -c 'echo $(ip -o link | cut -d: -f2 | cut -d@ -f1 | tr -d " " | sort)'
epair_host=$(ip -o link | awk -F': ' '/alias epair0a$/ {sub(/@.*/, "", $2); print $2}')
[ -n "$epair_host" ]; is "epair0a is a host interface ($epair_host)" $? 0
net_ns=$(ns_id net net)

expect 0 "www: removed" "" -- jail -f "$OUT/jail.conf" -r www
is "rc.shutdown ran" "$(tail -n 1 "$ROOT/var/log/rc.log")" "rc.shutdown: done"
expect 0 "net: removed" "" -- jail -f "$OUT/jail.conf" -r net
gone_ns() { _n=50; while [ "$(ns_users "$1" "$2")" != 0 ] && [ $_n -gt 0 ]; do sleep 0.1; _n=$((_n - 1)); done; ns_users "$1" "$2"; }
is "mount namespace gone" "$(gone_ns mnt "$mnt_ns")" 0
is "pid namespace gone" "$(gone_ns pid "$pid_ns")" 0
is "UTS namespace gone" "$(gone_ns uts "$uts_ns")" 0
is "network namespace gone" "$(gone_ns net "$net_ns")" 0
kill -0 "$dpid" 2>/dev/null; is "the jail's daemon is gone" $? 1
_n=50; while [ -d "$v2$cgroup" ] && [ $_n -gt 0 ]; do sleep 0.1; _n=$((_n - 1)); done
[ -d "$v2$cgroup" ]; is "its cgroup is gone" $? 1
is "no mount of the jail on the host (only the jailfs mount)" "$(host_mounts)" 1
cd / && jailfs umount "$MNT"
ip link show "$epair_host" >/dev/null 2>&1; is "after unmounting, no interface of the jail's left" $? 1
is "nor any mount" "$(host_mounts)" 0
done_testing
