#!/bin/sh
# Which mount the tools use from a scrubbed environment (env -i), with
# several jailfs mounts (issue 10 item 8; the rule is in jailfs/ctlproto.py):
# $JAILFS_MOUNT, else the only mount, else the one whose daemon has served
# longest (oldest run file).  Runs in a private mount namespace with its own
# run-file directory, so other jailfs mounts on this machine (not served from
# there) do not take part and are not touched.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
if [ "$(id -u)" != 0 ]; then
    [ "${CI:-}" = true ] && { echo "FAIL: needs root (a private mount namespace)"; exit 1; }
    echo "skipped: needs root"; exit 0
fi
if [ -z "${JAILFS_IN_NS:-}" ]; then
    JAILFS_IN_NS=1 exec unshare --mount --propagation private sh "$0" "$@"
fi
mount -t tmpfs jailfs-test-run /run/jailfs 2>/dev/null || { mkdir -p /run/jailfs && mount -t tmpfs jailfs-test-run /run/jailfs; }
BIN=$ROOT/.venv/bin
unset JAILFS_MOUNT
A=$(mktemp -d /tmp/jailfs-mf-a.XXXXXX) B=$(mktemp -d /tmp/jailfs-mf-b.XXXXXX)
FAILS=0
cleanup() {
    "$BIN/jailfs" umount "$A" 2>/dev/null; "$BIN/jailfs" umount "$B" 2>/dev/null
    rmdir "$A" "$B" 2>/dev/null
}
trap cleanup EXIT
same() { if [ "$2" = "$3" ]; then echo "ok: $1"; else echo "FAIL: $1: got [$2], want [$3]"; FAILS=$((FAILS + 1)); fi; }
scrubbed() { env -i PATH=/usr/bin:/bin "$BIN/$@" 2>&1; }

"$BIN/jailfs" mount --background "$A" >/dev/null 2>&1 || { echo "FAIL: cannot mount $A"; exit 1; }
mkdir "$A/in_a"
same "one mount: env -i jls finds it" "$(scrubbed jls name)" "in_a"
sleep 1.1                                   # run-file times a second apart
"$BIN/jailfs" mount --background "$B" >/dev/null 2>&1 || { echo "FAIL: cannot mount $B"; exit 1; }
mkdir "$B/in_b"
same "two mounts: the longest served (A) is the default" "$(scrubbed jls name)" "in_a"
same "jexec too" "$(scrubbed jexec in_a sh -c 'echo $0')" "sh"
same "JAILFS_MOUNT chooses" "$(env -i PATH=/usr/bin:/bin JAILFS_MOUNT="$B" "$BIN/jls" name)" "in_b"
"$BIN/jailfs" umount "$A"
same "A gone: B" "$(scrubbed jls name)" "in_b"
rm -f /run/jailfs/*.pid                     # no daemon record: no default among several
"$BIN/jailfs" mount --background "$A" >/dev/null 2>&1 || { echo "FAIL: cannot mount $A"; exit 1; }
rm -f /run/jailfs/*.pid
case $(scrubbed jls name) in
    "jls: several jailfs mounts ("*"): set JAILFS_MOUNT to choose one") echo "ok: several, none recorded: refused" ;;
    *) echo "FAIL: several, none recorded: $(scrubbed jls name)"; FAILS=$((FAILS + 1)) ;;
esac
[ $FAILS = 0 ] && echo "all passed"
exit $FAILS
