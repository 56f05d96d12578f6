#!/bin/sh
# Mount lifecycle from the shell: double mount, umount, stale mount, background.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
if [ -x "$ROOT/.venv/bin/jailfs" ]; then PATH="$ROOT/.venv/bin:$PATH"; export PATH; fi
MNT=$(mktemp -d /tmp/jailfs-fs-test.XXXXXX)
pid=
cleanup() { fusermount3 -u -z "$MNT" 2>/dev/null; [ -n "$pid" ] && kill "$pid" 2>/dev/null; rmdir "$MNT" 2>/dev/null; }
trap cleanup EXIT
FAILS=0
ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; FAILS=$((FAILS + 1)); }

jailfs mount --background "$MNT" 2>/dev/null && ok "background mount" || bad "background mount"
[ -e "$MNT/.ctl" ] && ok "ready on return" || bad "ready on return"
grep -q " $MNT fuse.jailfs " /proc/mounts && ok "listed as fuse.jailfs" || bad "listed as fuse.jailfs"
msg=$(jailfs mount "$MNT" 2>&1); rc=$?
[ $rc = 1 ] && ok "second mount exits 1" || bad "second mount exits 1 (got $rc)"
case $msg in *"already mounted"*) ok "second mount says why";; *) bad "second mount message: $msg";; esac
jailfs umount "$MNT" && ok "umount" || bad "umount"
grep -q " $MNT " /proc/mounts && bad "still mounted" || ok "gone from /proc/mounts"
msg=$(jailfs umount "$MNT" 2>&1); rc=$?
[ $rc = 1 ] && ok "umount of nothing exits 1" || bad "umount of nothing exits 1 ($rc: $msg)"

# A daemon killed with SIGKILL leaves a stale mount; the next mount clears it.
jailfs mount "$MNT" 2>/dev/null & pid=$!
i=0; while [ ! -e "$MNT/.ctl" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
kill -9 "$pid"; wait "$pid" 2>/dev/null; pid=
ls "$MNT" >/dev/null 2>&1 && bad "mount should be stale" || ok "stale after SIGKILL"
jailfs mount --background "$MNT" 2>/dev/null && ok "mount over a stale mount" || bad "mount over a stale mount"
mkdir "$MNT/web" && ok "usable" || bad "usable"
jailfs umount "$MNT" && ok "umount again" || bad "umount again"

# Foreground: SIGTERM unmounts.
jailfs mount "$MNT" 2>/dev/null & pid=$!
i=0; while [ ! -e "$MNT/.ctl" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
kill -TERM "$pid"; wait "$pid"; rc=$?; pid=
[ $rc = 0 ] && ok "SIGTERM exits 0" || bad "SIGTERM exits 0 (got $rc)"
grep -q " $MNT " /proc/mounts && bad "SIGTERM left it mounted" || ok "SIGTERM unmounted"

[ $FAILS = 0 ] && echo "all passed" || echo "$FAILS failure(s)"
[ $FAILS = 0 ]
