# Shared prelude of the toolbox_*.sh tests (sourced, plain sh): a private
# mount, then `eval "$(jailfs env)"` as a user would, so sysctl, rctl,
# ifconfig, ipcs, ipcrm, pgrep, pkill and ps are FreeBSD's; byte-exact checks.
set -u
case $0 in *toolbox_lib.sh) echo "toolbox_lib.sh: sourced by toolbox_*.sh, nothing to run"; exit 0;; esac
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PATH=$ROOT/.venv/bin:$PATH; export PATH
TMP=$(mktemp -d /tmp/jailfs-toolbox-tmp.XXXXXX)
MNT=$(mktemp -d /tmp/jailfs-toolbox-test.XXXXXX)
MYPIDS=
jailfs mount --background "$MNT" >/dev/null || { echo "FAIL: cannot mount $MNT"; rm -rf "$TMP"; exit 1; }
toolbox_cleanup() {
    for _p in $MYPIDS; do kill -9 "$_p" 2>/dev/null; done
    cd / && jailfs umount "$MNT"; rm -rf "$TMP"; rmdir "$MNT" 2>/dev/null
}
trap toolbox_cleanup EXIT
trap 'exit 1' INT TERM HUP
eval "$(jailfs env -m "$MNT")" || { echo "FAIL: jailfs env"; exit 1; }
FAILS=0
NL='
'

# check NAME RC STDOUT STDERR -- CMD...   (byte-exact stdout and stderr)
check() {
    _name=$1 _rc=$2
    printf '%s' "$3" >"$TMP/want.out"
    printf '%s' "$4" >"$TMP/want.err"
    shift 5
    "$@" >"$TMP/got.out" 2>"$TMP/got.err"; _got=$?
    if [ "$_got" != "$_rc" ] || ! cmp -s "$TMP/got.out" "$TMP/want.out" \
            || ! cmp -s "$TMP/got.err" "$TMP/want.err"; then
        echo "FAIL: $_name"
        echo "  cmd: $*"
        echo "  rc:  $_got (want $_rc)"
        diff -u "$TMP/want.out" "$TMP/got.out" | sed 's/^/  out /'
        diff -u "$TMP/want.err" "$TMP/got.err" | sed 's/^/  err /'
        FAILS=$((FAILS + 1))
    else
        echo "ok: $_name"
    fi
}

# same NAME GOT WANT
same() {
    if [ "$2" != "$3" ]; then
        echo "FAIL: $1"; echo "  got:  [$2]"; echo "  want: [$3]"; FAILS=$((FAILS + 1))
    else
        echo "ok: $1"
    fi
}

# wait_for SECONDS CMD...: poll CMD every 50 ms until it succeeds; 1 on timeout
wait_for() {
    _n=$(($1 * 20)); shift
    while ! "$@" >/dev/null 2>&1; do
        _n=$((_n - 1)); [ $_n -gt 0 ] || return 1
        sleep 0.05
    done
}

finish() {
    if [ "$FAILS" -ne 0 ]; then echo "$FAILS failure(s)"; exit 1; fi
    echo "all passed"; exit 0
}
