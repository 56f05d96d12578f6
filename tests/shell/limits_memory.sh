#!/bin/sh
# Issue 11: with `memoryuse:deny=64m` on web, a process allocating 100 MB in
# web fails (the jail's memory cgroup stops it) while the same allocation on
# the host succeeds; the OOM kill is a refusal in .events, a log rule's
# line is there; rctl -u reads the jail's memory from its cgroup; a rule
# added while the jail runs reaches its cgroup; `rmdir` clears it.
. "$(dirname "$0")/lib/alive.subr"
. "$ROOT/tests/shell/lib/jailed.subr"
eval "$(jailfs env -m "$MNT")" || { echo "FAIL: jailfs env"; exit 1; }   # FreeBSD's rctl(8)

HOG='b = bytearray(100 * 1024 * 1024); print(len(b) >> 20)'   # zero-filled: every page touched

expect 0 "" "" -- mkdir web
expect 0 "" "" -- rctl -a jail:web:memoryuse:deny=64m jail:web:memoryuse:log=1m
# a process that stays in web, to look at its cgroup
HOLD='sleep 300 </dev/null >/dev/null 2>&1 & echo $! > "$0"'
expect 0 "" "" -- jexec web sh -c "$HOLD" "$OUT/hold"
HP=$(hostpid "$(cat "$OUT/hold")"); started "$HP"
MEM=$(dirname "$(cgdir "$HP" memory)")
if [ -e "$MEM/memory.max" ]; then LIMIT=$MEM/memory.max; else LIMIT=$MEM/memory.limit_in_bytes; fi
expect 0 "67108864" "" -- cat "$LIMIT"
TESTS=$((TESTS + 1))
timeout 60 jexec web python3 -c "$HOG" >"$OUT/o" 2>&1; rc=$?
if [ $rc = 0 ] || [ $rc = 124 ]; then echo "FAIL: 100 MB in web: exit $rc: $(cat "$OUT/o")"; FAILS=$((FAILS + 1))
else echo "ok: 100 MB in web fails (exit $rc)"; fi
expect 0 "100" "" -- timeout 60 python3 -c "$HOG"             # the host is untouched
# the OOM kill reaches the host's .events as a refusal of the rule, in web
oom() { grep -q "refused op=memory errno=ENOMEM msg='rctl: rule \"jail:web:memoryuse:deny=67108864\" refused memoryuse in jail web, usage [0-9]*: [0-9]* process(es) killed by the OOM killer'" .events; }
expect 0 "" "" -- wait_for 10 oom
# the log rule: FreeBSD's console line when the jail's real usage went over 1m
# (again each time it went over after coming back under: the hog, a jexec)
logged() { grep -q "rctl log='rctl: rule \"jail:web:memoryuse:log=1048576\" matched by jail web, usage [0-9]*'\$" .events; }
expect 0 "" "" -- wait_for 10 logged
used() { rctl -u jail:web | sed -n 's/^memoryuse=//p'; }
is "memoryuse comes from the cgroup" "$([ "$(used)" -gt 0 ] && [ "$(used)" -le 67108864 ] && echo yes)" yes
# a rule added while the jail runs reaches its cgroup at once (the kernel's rctl event)
CPU=$(dirname "$(cgdir "$HP" cpu)")
if [ -e "$CPU/cpu.max" ]; then QUOTA=$CPU/cpu.max; NONE="max 100000"; WANT="50000 100000"
else QUOTA=$CPU/cpu.cfs_quota_us; NONE=-1; WANT=50000; fi
expect 0 "" "" -- rctl -a jail:web:pcpu:deny=50
expect 0 "$WANT" "" -- cat "$QUOTA"
expect 0 "" "" -- rctl -r jail:web:pcpu
expect 0 "$NONE" "" -- cat "$QUOTA"
expect 0 "" "" -- rmdir web
expect 0 "" "" -- wait_for 10 test ! -d "$MEM"
expect 0 "" "" -- jailfs sim check
done_testing
