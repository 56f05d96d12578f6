#!/bin/sh
# Issue 9, items 1 and 10, as an attacker does it: a command in jail web
# leaves a child behind and its keeper dies (`kill -9 $PPID` in the issue;
# inside a confining jail the keeper is outside the jail's pid namespace, so
# the test kills it from outside), hoping that the orphan, re-parented out of
# the keeper's tree, is taken for a host process.  It must stay in web: its
# write to a sibling jail fails (web's view has no sib), it is listed in
# web/.refs, it keeps the non-persistent jail alive, and `rmdir web` kills it.
. "$(dirname "$0")/lib/alive.subr"
. "$ROOT/tests/shell/lib/jailed.subr"

freed() { [ ! -e "$MNT/$1" ] && [ -z "$(ls "$MNT/.dying")" ]; }

expect 0 "" "" -- mkdir web sib
expect 0 "" "" -- sh -c 'echo sib.example > sib/host.hostname'

# The orphan: waits until the go file appears and its keeper is gone, tries
# the sibling's hostname, says how it went, then stays (exec sleep keeps its
# pid).  The command prints the orphan's pid (in the jail's pid namespace).
ORPHAN='(n=400; while [ ! -e "$3" ] && [ $n -gt 0 ]; do n=$((n - 1)); sleep 0.05; done
sleep 1
if echo pwned > "$0/sib/host.hostname" 2>/dev/null; then r=wrote; else r=refused; fi
echo $r > "$1.tmp"; mv "$1.tmp" "$1"; exec sleep 300) </dev/null >/dev/null 2>&1 &
echo $! > "$2.tmp"; mv "$2.tmp" "$2"; wait'
timeout 30 jexec web sh -c "$ORPHAN" "$MNT" "$OUT/result" "$OUT/orphan" "$OUT/go" &
JP=$!; started $JP
expect 0 "" "" -- wait_for 10 test -s "$OUT/orphan"
OP=$(hostpid "$(cat "$OUT/orphan")"); started "$OP"
KP=$(keeper web); started "$KP"
is "the orphan and its keeper are different processes" "$([ -n "$OP" ] && [ "$OP" != "$KP" ] && echo yes)" yes
expect 0 "" "" -- sh -c 'echo 0 > web/persist'       # from now on only its processes hold web
expect 0 "" "" -- kill -9 "$KP"
expect 0 "" "" -- wait_for 10 dead "$KP"
expect 0 "" "" -- touch "$OUT/go"
wait $JP; rc=$?
is "jexec dies of its keeper's SIGKILL (not by timeout)" "$rc" 137
expect 0 "" "" -- wait_for 15 test -s "$OUT/result"
expect 0 "refused" "" -- cat "$OUT/result"
expect 0 "sib.example" "" -- cat sib/host.hostname
expect 0 "false" "" -- cat web/dying                  # the orphan holds web (item 10)
expect 0 "" "" -- grep -qx "process [0-9]* (running, real pid $OP): uref 1" web/.refs
expect 0 "    command sleep" "" -- sh -c "grep -A1 '^process .*real pid $OP)' web/.refs | sed -n 2p"
expect 1 "" "" -- grep -q "real pid $OP" sib/.refs
expect 0 "" "" -- rmdir web
expect 0 "" "" -- wait_for 10 dead "$OP"
expect 0 "" "" -- wait_for 10 freed web
expect 0 "" "" -- jailfs sim check
done_testing
