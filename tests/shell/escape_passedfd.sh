#!/bin/sh
# An attacker's test: a descriptor the host opened on the mount does not carry
# the host's rights into a confined jail.  The host passes its open `.ctl` and
# a jail's parameter file to a process in a confined jail (SCM_RIGHTS over a
# unix socket: the jail's path is /, so it reaches the socket); the jailed
# process writes on them.  The descriptor's mount is in the host's mount
# namespace, not in the jail's mount table, and that must not make it look
# like some other file (ctlguard: when in doubt, deny).
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
cat >"$OUT/take.py" <<'EOF'
import os, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
_, fds, _, _ = socket.recv_fds(s, 16, 1)
try:
    os.write(fds[0], (sys.argv[2] + "\n").encode()); print("wrote")
except OSError as e:
    print("errno", e.errno)
s.send(b"x")
EOF
chmod 644 "$OUT/give.py" "$OUT/take.py"

# pass FILE REQUEST: the host passes FILE to jail web's process, which writes REQUEST
pass() {
    rm -f "$OUT/sock"
    python "$OUT/give.py" "$1" "$OUT/sock" >"$OUT/give.out" &
    _g=$!
    _n=100; while [ ! -S "$OUT/sock" ] && [ $_n -gt 0 ]; do sleep 0.05; _n=$((_n - 1)); done
    jexec web /usr/bin/python3 "$OUT/take.py" "$OUT/sock" "$2"
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
# the host's own writes still work
expect 0 "" "" -- sh -c "echo 2 > '$MNT/web/children.max'"
is "the host set children.max" "$(cat "$MNT/web/children.max")" 2
done_testing
