#!/bin/sh
# The jail-manager smoke test: what scripts that manage jails call jls for.
. "$(dirname "$0")/jls_lib.sh"

J=$(ctl_ok create name=smoke persist host.hostname=smoke.example ip4.addr=192.0.2.99)
check "jls -j NAME jid" 0 "$J$NL" "" -- jls -j smoke jid
check "jls name" 0 "smoke$NL" "" -- jls name
check "jls -N" 0 " JID             IP Address      Hostname                      Path
 smoke           192.0.2.99      smoke.example                 /
" "" -- jls -N
jls --libxo json -v >"$TMP/v.json"
same "jls --libxo json -v exit" "$?" 0
OUT=$("$PY" -c '
import json, sys
doc = json.load(open(sys.argv[1]))
j = doc["jail-information"]["jail"]
assert doc["__version"] == "2", doc
assert len(j) == 1, j
j = j[0]
print(j["jid"], j["name"], j["hostname"], j["path"], j["state"], type(j["cpusetid"]).__name__,
      ",".join(j["ipv4_addrs"]), len(j["ipv6_addrs"]))
' "$TMP/v.json" 2>&1)
same "jls --libxo json -v content" "$OUT" "$J smoke smoke.example / ACTIVE int 192.0.2.99 0"
check "existence check" 0 "" "" -- jls -c -j smoke
ctl_ok remove smoke >/dev/null
check "gone" 1 "" "" -- jls -c -j smoke
check "gone, by name" 1 "" "jls: jail \"smoke\" not found$NL" -- jls -j smoke jid
finish
