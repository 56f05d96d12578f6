#!/bin/sh
# A refused `.ctl` request: its errno is what write(2) returns, for the host,
# for a jailed root and for a non-root jailed user -- the errno every writer
# that reports strerror shows (dd, cat, bash's builtins).  dash's builtins
# (echo, printf) report any failed write as "I/O error": dash keeps an error
# flag, not the errno (its evalbltin: `if (outerr(out1)) sh_warnx("%s: I/O
# error", ...)`); the answer read back from the same descriptor names the
# errno there.
. "$(dirname "$0")/jls_lib.sh"

EPERM="Operation not permitted" ENOENT="No such file or directory" EINVAL="Invalid argument"
jail -c name=j path=/ persist

# errno_of CMD...: when CMD fails, the words after the last ": " of its
# stderr's last line (a writer's strerror)
errno_of() { "$@" >/dev/null 2>"$TMP/writer.err" && return 1; sed -n 's/.*: //p' "$TMP/writer.err" | tail -1; }
# refused WANT NAME -- CMD...: CMD fails, and its error names the errno WANT
refused() { _want=$1 _name=$2; shift 3; contains "$_name" "$_want" -- errno_of "$@"; }
# writer WRITER REQUEST CTL: the shell command that writes REQUEST to CTL with
# WRITER (dd, cat, or bash's printf builtin)
writer() {
    case $1 in
        dd) printf "printf '%%s\\n' '%s' | dd of='%s' status=none" "$2" "$3" ;;
        cat) printf "printf '%%s\\n' '%s' | cat >'%s'" "$2" "$3" ;;
        bash) printf "bash -c \"printf '%%s\\n' '%s' >'%s'\"" "$2" "$3" ;;
    esac
}

for w in dd cat bash; do
    refused "$ENOENT" "host root, $w: a jail that is not there" -- sh -c "$(writer $w "remove nosuch" "$MNT/.ctl")"
    refused "$EINVAL" "host root, $w: an unknown request" -- sh -c "$(writer $w frobnicate "$MNT/.ctl")"
    refused "$EPERM" "host uid 65534, $w: create" -- setpriv --reuid=65534 --regid=65534 \
        --clear-groups sh -c "$(writer $w "create name=x persist" "$MNT/.ctl")"
    refused "$EPERM" "jailed root, $w: create without children.max" -- \
        jexec j sh -c "$(writer $w "create name=x persist" /dev/jailfs/.ctl)"
    refused "$EPERM" "jailed uid 65534, $w: create" -- \
        jexec -U nobody j sh -c "$(writer $w "create name=x persist" /dev/jailfs/.ctl)"
    refused "$ENOENT" "jailed root, $w: remove of a jail it cannot see" -- \
        jexec j sh -c "$(writer $w "remove j" /dev/jailfs/.ctl)"
done
# dash's wording, and the errno in the answer on the same descriptor
check "dash: exit status 1, the errno in the answer" 0 "1 error EPERM jail_set: $EPERM$NL" "" -- \
    jexec -U nobody j sh -c 'exec 3<>"$JAILFS_MOUNT/.ctl"; printf "create name=x persist\n" >&3 2>/dev/null; echo "$? $(cat <&3)"'
check "nothing was created" 1 "" "" -- sh -c "ls '$MNT' | grep -x x"
jail -r j
finish
