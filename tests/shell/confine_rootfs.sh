#!/bin/sh
# The test root file system (lib/rootfs.subr) is complete and self-contained:
# a static busybox, its applets, etc/rc and etc/rc.shutdown that run with it.
set -u
. "$(dirname "$0")/lib/rootfs.subr"
T=$(mktemp -d /tmp/jailfs-rootfs.XXXXXX)
trap 'rm -rf "$T"' EXIT
FAILS=0
is() { if [ "$2" = "$3" ]; then echo "ok: $1"; else echo "FAIL: $1: got [$2], want [$3]"; FAILS=$((FAILS + 1)); fi; }

make_rootfs "$T/root" || { echo "FAIL: make_rootfs"; exit 1; }
is "ROOT set" "$ROOT" "$T/root"
for d in bin sbin etc dev tmp proc root var/run var/log; do
    [ -d "$ROOT/$d" ]; is "dir $d" $? 0
done
ldd "$ROOT/bin/busybox" >/dev/null 2>&1; is "busybox needs no shared library" $? 1
is "sh applet runs" "$("$ROOT/bin/sh" -c 'echo hi')" hi
is "ls applet is a link to busybox" "$(readlink "$ROOT/bin/ls")" busybox
[ -x "$ROOT/etc/rc" ] && [ -x "$ROOT/etc/rc.shutdown" ]; is "rc scripts executable" $? 0
is "root in passwd" "$(cut -d: -f1,3 "$ROOT/etc/passwd" | head -1)" root:0
[ "$FAILS" = 0 ] && echo "1 passed, 0 failed" || echo "0 passed, 1 failed"
[ "$FAILS" = 0 ]
