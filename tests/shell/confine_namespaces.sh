#!/bin/sh
# A jail's hostname, SysV IPC and network are its own (namespaces.py):
# host=new carries host.hostname both ways, host=inherit shares it; sysvshm=new
# has its own segments, disable refuses with ENOSYS; vnet=new sees only lo and
# the epairs moved in (veth pairs), which go home when the jail is freed.
# Nothing here changes the host: every write is inside a namespace the test
# checked is not the host's.
. "$(dirname "$0")/lib/rootfs.subr"
. "$(dirname "$0")/lib/fs.subr"
JAILFS_MOUNT=$MNT; export JAILFS_MOUNT
make_rootfs "$OUT/root" || exit 1
PY=$(cd "$(dirname "$0")/../.." 2>/dev/null; pwd)/.venv/bin/python
[ -x "$PY" ] || PY=$(command -v python3)
write_probe "$OUT/probe.py"
probe() { expect 0 "$3" "" -- jexec "$1" "$PY" "$OUT/probe.py" "$2"; }
ctl() { exec 3<>"$MNT/.ctl"; printf '%s\n' "$*" >&3; cat <&3; exec 3>&-; }
host_name=$(hostname)
host_uts=$(readlink /proc/self/ns/uts)

# ---- UTS
expect 0 "" "" -- jail -c name=u "path=$ROOT" persist host.hostname=inside.example
[ "$(jexec u readlink /proc/self/ns/uts)" != "$host_uts" ]; is "host=new: its own UTS namespace" $? 0
expect 0 "inside.example" "" -- jexec u hostname
expect 0 "" "" -- jexec u hostname set.inside
# the keeper writes it before jexec returns; should that request be refused
# for a passing reason, the anchor reports it within 2 s
_n=30; while [ "$(cat "$MNT/u/host.hostname")" != set.inside ] && [ $_n -gt 0 ]; do sleep 0.1; _n=$((_n - 1)); done
is "a hostname set inside lands in host.hostname" "$(cat "$MNT/u/host.hostname")" set.inside
# set by a process that outlives its jexec: the anchor reports it (within 2 s)
expect 0 "" "" -- jexec u sh -c '(sleep 0.3; hostname set.background) >/dev/null 2>&1 &'
_n=50; while [ "$(cat "$MNT/u/host.hostname")" != set.background ] && [ $_n -gt 0 ]; do sleep 0.1; _n=$((_n - 1)); done
is "a hostname set in the background lands in host.hostname" "$(cat "$MNT/u/host.hostname")" set.background
echo set.outside >"$MNT/u/host.hostname"
expect 0 "set.outside" "" -- jexec u hostname
expect 0 "" "" -- jail -c name=u.c "path=$ROOT" persist host=inherit
expect 0 "set.outside" "" -- jexec u.c hostname
is "host=inherit shares its parent's UTS namespace" "$(jexec u.c readlink /proc/self/ns/uts)" "$(jexec u readlink /proc/self/ns/uts)"
expect 1 "" "sethostname: Operation not permitted" -- jexec u.c hostname from.child
expect 0 "" "" -- jail -c name=n "path=$ROOT" persist host=new host.hostname=fixed allow.noset_hostname
expect 1 "" "sethostname: Operation not permitted" -- jexec n hostname changed
is "refused: host.hostname unchanged" "$(cat "$MNT/n/host.hostname")" fixed
is "the host's hostname is untouched" "$(hostname)" "$host_name"

# ---- SysV IPC (probes in path=/ jails: the host's tree has Python)
host_ipc=$(readlink /proc/self/ns/ipc)
expect 0 "" "" -- jail -c name=s1 path=/ persist sysvshm=new children.max=1
expect 0 "" "" -- jail -c name=s2 path=/ persist sysvshm=new
expect 0 "" "" -- jail -c name=sd path=/ persist
[ "$(jexec s1 readlink /proc/self/ns/ipc)" != "$host_ipc" ]; is "sysvshm=new: its own IPC namespace" $? 0
probe s1 shmget ok
probe s1 shmget ok
is "ipcs in s1 shows its two segments" "$(jexec s1 /usr/bin/ipcs -m | grep -c '^0x')" 2
is "ipcs in s2 shows none of them" "$(jexec s2 /usr/bin/ipcs -m | grep -c '^0x')" 0
probe sd shmget ENOSYS
probe sd semget ENOSYS
probe sd msgget ENOSYS
expect 0 "" "" -- jail -c name=s1.kid path=/ persist sysvshm=inherit
is "sysvshm=inherit shares its parent jail's IPC namespace" "$(jexec s1.kid readlink /proc/self/ns/ipc)" "$(jexec s1 readlink /proc/self/ns/ipc)"
expect 0 "" "" -- jail -c name=si path=/ persist sysvshm=inherit
is "sysvshm=inherit at the top shares the host's IPC" "$(jexec si readlink /proc/self/ns/ipc)" "$host_ipc"

# ---- vnet
expect 0 "" "" -- jail -c name=v1 "path=$ROOT" persist vnet allow.raw_sockets
expect 0 "" "" -- jail -c name=v2 "path=$ROOT" persist vnet allow.raw_sockets
expect 0 "lo" "" -- jexec v1 sh -c 'ls /sys/class/net 2>/dev/null || ip -o link | cut -d: -f2 | tr -d " "'
a=$(ctl ifcreate epair)
is "epair created" "$a" "ok epair0a epair0b"
is "vnet: move epair0a into v1" "$(ctl ifvnet epair0a v1)" "ok epair0a"
is "vnet: move epair0b into v2" "$(ctl ifvnet epair0b v2)" "ok epair0b"
wait_in() { _n=40; while ! jexec "$1" ip link show "$2" >/dev/null 2>&1 && [ $_n -gt 0 ]; do sleep 0.1; _n=$((_n - 1)); done; }
wait_in v1 epair0a; wait_in v2 epair0b
expect 0 "epair0a lo" "" -- jexec v1 sh -c 'echo $(ip -o link | cut -d: -f2 | cut -d@ -f1 | tr -d " " | sort)'
[ "$(jexec v1 readlink /proc/self/ns/net)" != "$(readlink /proc/self/ns/net)" ]; is "v1's network is not the host's" $? 0
expect 0 "" "" -- jexec v1 sh -c 'ip addr add 10.213.0.1/24 dev epair0a && ip link set epair0a up'
expect 0 "" "" -- jexec v2 sh -c 'ip addr add 10.213.0.2/24 dev epair0b && ip link set epair0b up'
expect 0 "" "" -- jexec v1 sh -c "ping -c 1 -W 5 10.213.0.2 >/dev/null"
host_if=$(ip -o link | grep -c 'alias epair0')
is "on the host, neither end" "$host_if" 0
expect 0 "" "" -- jail -r v1
wait_host() { _n=40; while [ "$(ip -o link | grep -c "alias $1")" = 0 ] && [ $_n -gt 0 ]; do sleep 0.1; _n=$((_n - 1)); done; }
wait_host epair0a
is "freed: epair0a is back on the host stack" "$(ip -o link | grep -c 'alias epair0a$')" 1
names=$(ip -o link | grep 'alias epair0' | cut -d: -f2 | cut -d@ -f1 | tr -d ' ')
done_testing_net() {
    expect 0 "" "" -- jail -r v2
    cd / && jailfs umount "$MNT"
    _left=0
    for _n in $names; do ip link show "$_n" >/dev/null 2>&1 && _left=$((_left + 1)); done
    is "daemon gone: none of its interfaces left" "$_left" 0
}
done_testing_net
done_testing
