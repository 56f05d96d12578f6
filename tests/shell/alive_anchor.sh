#!/bin/sh
# A jail's anchor (the process whose namespaces its processes join, and the
# init of its pid namespace) can end from outside at any moment, by a kill
# from the host's root or an OOM kill.  The daemon notices as it happens, with
# no request and no polling of every anchor: it ends what is left (the
# anchor's other half, every process of the jail's pid namespace), and the
# next entry starts a fresh anchor.
. "$(dirname "$0")/lib/alive.subr"
. "$ROOT/tests/shell/lib/jailed.subr"     # hostpid, dead
. "$ROOT/tests/shell/lib/rootfs.subr"
make_rootfs "$OUT/root" || exit 1
ppid_of() { awk '$1 == "PPid:" { print $2 }' "/proc/$1/status"; }
# init_of PID: the host pid of the init of PID's pid namespace
init_of() {
    _ns=$(readlink "/proc/$1/ns/pid")
    for _s in /proc/[0-9]*/status; do
        _p=${_s#/proc/}; _p=${_p%/status}
        [ "$(readlink "/proc/$_p/ns/pid" 2>/dev/null)" = "$_ns" ] || continue
        awk '$1 == "NSpid:" && $NF == 1 { found = 1 } END { exit !found }' "$_s" 2>/dev/null \
            && { echo "$_p"; return; }
    done
}
# follow JAIL: SP (a process left running in JAIL), INIT (the init of its
# pid namespace) and ANCHOR (the init's parent: the anchor process), host pids
follow() {
    SP=$(hostpid "$(jexec "$1" sh -c 'sleep 300 >/dev/null 2>&1 & echo $!')")
    [ -n "$SP" ] || return 1
    started "$SP"
    INIT=$(init_of "$SP")
    ANCHOR=$(ppid_of "$INIT")
    [ -n "$INIT" ] && [ "$INIT" != "$SP" ] && [ -n "$ANCHOR" ]
}

expect 0 "" "" -- jail -c name=a "path=$ROOT" persist host.hostname=a.example
expect 0 "a.example" "" -- jexec a hostname
follow a; is "a jailed process, its init and the anchor are found on the host" $? 0

# --- the init is killed: the anchor process and the jail's processes end
FIRST=$INIT
kill -9 "$INIT"
expect 0 "" "" -- wait_for 10 dead "$SP"
# reaped, not left a zombie: the daemon noticed with no entry asking
expect 0 "" "" -- wait_for 10 gone "$ANCHOR"
expect 0 "a.example" "" -- jexec a hostname          # a fresh anchor
follow a; is "the fresh anchor is found" $? 0
[ "$INIT" != "$FIRST" ]; is "a new init" $? 0

# --- the anchor process is killed: its init (and the namespace) ends
kill -9 "$ANCHOR"
expect 0 "" "" -- wait_for 10 dead "$INIT"
expect 0 "" "" -- wait_for 10 dead "$SP"
expect 0 "" "" -- wait_for 10 gone "$ANCHOR"
expect 0 "a.example" "" -- jexec a hostname
expect 0 "" "" -- sh -c 'echo 0 > a/persist'
done_testing
