#!/bin/sh
# An attacker's test: a descriptor the host opened on the mount does not carry
# the host's rights into a confined jail.  The host passes its open `.ctl` and
# a jail's parameter file to a process in a confined jail (SCM_RIGHTS over a
# unix socket: the jail's path is /, so it reaches the socket); the jailed
# process writes on them.  The descriptor's mount is in the host's mount
# namespace, not in the jail's mount table, and that must not make it look
# like some other file (ctlguard: when in doubt, deny).
# Then the attacks on the guard itself: the jailed process writes from one
# thread and, from another, puts /dev/null in the descriptor's place while the
# write waits for the daemon (until session 6 the guard looked for the
# descriptor and missed it: 5 of 8 such writes made the jail's own
# children.max 5), or tries an asynchronous write (Linux AIO: in flight with
# no thread in a write call; refused by the jail's seccomp filter).
. "$(dirname "$0")/lib/fs.subr"
JAILFS_MOUNT=$MNT; export JAILFS_MOUNT
chmod 711 "$OUT"
cat >"$OUT/give.py" <<'EOF'
import os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[2]); os.chmod(sys.argv[2], 0o777); s.listen(1)
print("ready", flush=True)
fd = os.open(sys.argv[1], os.O_RDWR if sys.argv[1].endswith(".ctl") else os.O_WRONLY)
c, _ = s.accept()
socket.send_fds(c, [b"x"], [fd])
os.close(fd)
c.recv(1)
EOF
cp "$ROOT/tests/shell/lib/take_fd.py" "$OUT/take.py"
chmod 644 "$OUT/give.py" "$OUT/take.py"

# pass FILE REQUEST [HOW]: the host passes FILE to jail web's process, which
# writes REQUEST (HOW: write, swap or aio, as take.py does)
pass() {
    rm -f "$OUT/sock"
    python "$OUT/give.py" "$1" "$OUT/sock" >"$OUT/give.out" &
    _g=$!
    _n=100; while [ ! -S "$OUT/sock" ] && [ $_n -gt 0 ]; do sleep 0.05; _n=$((_n - 1)); done
    jexec web /usr/bin/python3 "$OUT/take.py" "$OUT/sock" "$2" "${3:-write}"
    wait $_g
}

expect 0 "" "" -- jail -c name=web path=/ persist children.max=0
# the jail is confined: its mount namespace is not the host's
is "web's processes have their own mount namespace" \
    "$(jexec web readlink /proc/self/ns/mnt | grep -vcx "$(readlink /proc/self/ns/mnt)")" 1

expect 0 "errno 1" "" -- pass "$MNT/.ctl" "create name=evil persist"
is "no jail evil" "$(ls "$MNT" | grep -c '^evil$')" 0
expect 0 "errno 1" "" -- pass "$MNT/web/children.max" "5"
is "web's children.max unchanged" "$(cat "$MNT/web/children.max")" 0
i=0
while [ $i -lt 8 ]; do
    expect 0 "errno 1" "" -- pass "$MNT/web/children.max" "5" swap
    expect 0 "errno 1" "" -- pass "$MNT/.ctl" "create name=evil$i persist" swap
    i=$((i + 1))
done
is "web's children.max unchanged by the swapped descriptors" "$(cat "$MNT/web/children.max")" 0
is "no jail evil0..7" "$(ls "$MNT" | grep -c '^evil')" 0
expect 0 "errno 38" "" -- pass "$MNT/web/children.max" "5" aio
# the host's own writes still work, while a jailed process runs: by the
# opener, and by a child the descriptor was inherited by (found beyond the opener)
jexec web sleep 60 >/dev/null 2>&1 &
JEXEC=$!
_n=100
until (exec 3<>"$MNT/.ctl"; echo "procs web" >&3; cat <&3) | grep -q ' sleep$' || [ $_n = 0 ]; do
    sleep 0.05; _n=$((_n - 1))
done
is "a process runs in web" "$_n" "$(echo "$_n" | grep -v '^0$')"
expect 0 "" "" -- sh -c "echo 2 > '$MNT/web/children.max'"
is "the host set children.max" "$(cat "$MNT/web/children.max")" 2
expect 0 "" "" -- sh -c "exec 3>'$MNT/web/children.max'; /bin/echo 3 >&3"
is "a child of the opener set children.max" "$(cat "$MNT/web/children.max")" 3
kill "$JEXEC" 2>/dev/null
done_testing
