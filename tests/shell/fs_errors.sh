#!/bin/sh
# Refusals a user meets at the terminal: exit codes and the messages of coreutils.
. "$(dirname "$0")/lib/fs.subr"

mkdir web || exit 1
expect 1 "" "Invalid argument" -- mkdir .hidden
expect 1 "" "Invalid argument" -- mkdir a.b
expect 1 "" "File exists" -- mkdir persist
expect 1 "" "File exists" -- mkdir web
expect 1 "" "File exists" -- mkdir web/host.hostname
expect 1 "" "write error: Invalid argument" -- sh -c 'env echo notanumber > web/securelevel'
expect 0 "-1" "" -- cat web/securelevel
expect 2 "" "Permission denied" -- sh -c 'echo 3 > web/children.cur'
expect 2 "" "Permission denied" -- sh -c 'echo x > host.hostname'
expect 2 "" "Permission denied" -- sh -c 'env echo /tmp > web/path'   # create-only: 0444
expect 1 "" "Operation not permitted" -- rm web/persist
expect 1 "" "Operation not permitted" -- touch web/newfile
expect 1 "" "Operation not permitted" -- mv web/persist web/p2
expect 1 "" "Operation not permitted" -- rmdir .dying
expect 1 "" "Not a directory" -- rmdir web/persist
expect 1 "" "No such file or directory" -- rmdir nosuch
expect 2 "" "Permission denied" -- setpriv --reuid=nobody --regid=nogroup --clear-groups sh -c "echo x > $MNT/web/host.hostname"
expect 1 "" "Operation not permitted" -- setpriv --reuid=nobody --regid=nogroup --clear-groups mkdir "$MNT/web/x"
expect 1 "" "Operation not permitted" -- setpriv --reuid=nobody --regid=nogroup --clear-groups rmdir "$MNT/web"
expect 0 "web" "" -- setpriv --reuid=nobody --regid=nogroup --clear-groups cat "$MNT/web/name"
# 18 refusals above; 5 are answered by the VFS itself or are not state changes
# (EEXIST x3, ENOTDIR, ENOENT) and so are not jailfs refusals.
is "refusals reach .events" "$(grep -c ' refused ' .events)" "13"
is "the kernel's message is in .events" "$(grep -c 'non-integer value' .events)" "1"
done_testing
