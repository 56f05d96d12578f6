#!/bin/sh
# A user at a terminal: build a tree of jails, read and change parameters, list, remove.
. "$(dirname "$0")/lib/fs.subr"

expect 0 "" "" -- mkdir web
expect 0 "" "" -- mkdir -p web/db/cache
expect 0 "web.db.cache" "" -- cat web/db/cache/name
expect 0 "true" "" -- cat web/persist
expect 0 "1" "" -- cat web/jid
expect 0 "2" "" -- cat web/children.cur
expect 0 "" "" -- sh -c 'echo www.example.org > web/host.hostname'
expect 0 "www.example.org" "" -- cat web/host.hostname
# the child inherits the new hostname only if FreeBSD says so; the parent's file is what we wrote
expect 0 "" "" -- sh -c 'echo 2 > web/securelevel'
expect 0 "2" "" -- cat web/securelevel
expect 0 "" "" -- sh -c ': > web/securelevel'
expect 0 "2" "" -- cat web/securelevel
expect 0 "" "" -- sh -c 'echo true > web/allow.mount'
expect 0 "true" "" -- cat web/allow.mount
expect 0 "" "" -- sh -c 'echo 0 > web/allow.mount'
expect 0 "false" "" -- cat web/allow.mount
expect 0 "db" "" -- sh -c 'ls -d web/*/ | sed "s,web/,,; s,/,,"'
expect 0 "../web/db" "" -- readlink .jid/2
expect 0 "" "" -- mv web/db web/database
expect 0 "web.database" "" -- cat web/database/name
expect 0 "web.database.cache" "" -- cat .jid/3/name
expect 0 "" "" -- mkdir 42
expect 0 "42" "" -- cat 42/jid
expect 0 "1
2
3
42" "" -- sh -c 'ls .jid | sort -n'
expect 0 "" "" -- rmdir web
expect 1 "" "No such file or directory" -- cat web/name
expect 0 "42" "" -- ls .jid
expect 0 "" "" -- sh -c 'echo 0 > 42/persist'
expect 0 "" "" -- ls .jid
is "events logged" "$(awk '{print $2}' .events | sort | uniq -c | awk '{printf "%s=%s ", $2, $1}')" \
   "created=4 dying=4 freed=4 removed=1 updated=6 "
done_testing
