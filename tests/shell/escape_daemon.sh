#!/bin/sh
# Issue 9, item 14: no jailed real process keeps running with no jail once the
# daemon is gone: unmounting kills them; after `kill -9` of the daemon its
# sentinel does; with the sentinel killed too, the next daemon's start does.
. "$(dirname "$0")/lib/alive.subr"
. "$ROOT/tests/shell/lib/jailed.subr"

V2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
# base PID: the cgroup v2 base of daemon PID (empty when there is none)
base() { for _b in "$V2"/jailfs-"$1"-*; do [ -d "$_b" ] && echo "$_b"; done; }
no_base() { [ -z "$(base "$1")" ]; }
remount() { jailfs mount --background "$MNT" 2>"$OUT/mount.err"; }
# jailed JAIL: start `sleep 300` in JAIL; prints its host pid
jailed() {
    rm -f "$OUT/sp"
    jexec "$1" sh -c 'sleep 300 </dev/null >/dev/null 2>&1 & echo $! > "$0"' "$OUT/sp" || return 1
    wait_for 10 test -s "$OUT/sp" && hostpid "$(cat "$OUT/sp")"
}
# sentinel DAEMON: the pid of the process watching DAEMON's cgroups
sentinel() {
    _b=$(base "$1")
    for _c in /proc/[0-9]*/cmdline; do
        if { tr '\0' ' ' < "$_c"; } 2>/dev/null | grep -q "jailfs.host.cgroups sentinel [0-9]* $_b "; then
            _p=${_c#/proc/}; echo "${_p%/cmdline}"; return
        fi
    done
}

[ -n "$V2" ] || { echo "FAIL: no cgroup v2 mount"; exit 1; }

# --- a clean unmount kills what runs in the jails and removes the cgroups
D=$(daemon)
expect 0 "" "" -- test -d "$(base "$D")"
expect 0 "" "" -- mkdir web
SP=$(jailed web); started "$SP"
expect 0 "" "" -- grep -q "real pid $SP)" web/.refs
cd /
expect 0 "" "" -- jailfs umount "$MNT"
expect 0 "" "" -- wait_for 10 dead "$SP"
expect 0 "" "" -- no_base "$D"

# --- kill -9 of the daemon: its sentinel kills them and removes the cgroups
expect 0 "" "" -- remount
D=$(daemon); cd "$MNT"
expect 0 "" "" -- mkdir web
SP=$(jailed web); started "$SP"
S=$(sentinel "$D"); started "$S"
is "a sentinel watches the daemon" "$([ -n "$S" ] && echo yes)" yes
expect 0 "" "" -- kill -9 "$D"
expect 0 "" "" -- wait_for 10 dead "$SP"
expect 0 "" "" -- wait_for 10 no_base "$D"
expect 0 "" "" -- wait_for 10 dead "$S"
cd /; fusermount3 -u -z "$MNT"

# --- daemon and sentinel killed: the next daemon's start sweeps the orphans
expect 0 "" "" -- remount
D=$(daemon); cd "$MNT"
expect 0 "" "" -- mkdir web
SP=$(jailed web); started "$SP"
S=$(sentinel "$D"); started "$S"
expect 0 "" "" -- kill -9 "$S" "$D"
# (Where jails confine, SP may die with its jail's anchor already; its
# cgroups are still left for the next daemon.)
expect 0 "" "" -- test -d "$(base "$D")"
cd /; fusermount3 -u -z "$MNT"
expect 0 "" "" -- remount
cd "$MNT"
expect 0 "" "" -- wait_for 10 dead "$SP"
expect 0 "" "" -- no_base "$D"
expect 0 "" "" -- grep -q "removed .*jailfs-$D-.*left by a daemon that died" "$(sed -n 's/.*, log \(.*\))$/\1/p' "$OUT/mount.err")"
done_testing
