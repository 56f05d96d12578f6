# Shared prelude of the jls_*.sh and jexec_*.sh tests (sourced, plain sh).
# Starts a private mount, exports JAILFS_MOUNT, puts jls/jexec/jailfs/jail
# on PATH (the .venv's scripts when built, else `python -m` wrappers), and
# offers byte-exact check helpers.
set -u
case $0 in *jls_lib.sh) echo "jls_lib.sh: sourced by jls_*.sh and jexec_*.sh, nothing to run"; exit 0;; esac
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
if [ -x "$ROOT/.venv/bin/python" ]; then PY=$ROOT/.venv/bin/python; else PY=${PYTHON:-python3}; fi
PYTHONPATH=$ROOT${PYTHONPATH:+:$PYTHONPATH}; export PYTHONPATH
TMP=$(mktemp -d /tmp/jailfs-jls-tmp.XXXXXX)
MNT=$(mktemp -d /tmp/jailfs-jls-test.XXXXXX)
mkdir "$TMP/bin"
for _t in jailfs jail jls jexec; do
    if [ -x "$ROOT/.venv/bin/$_t" ]; then
        ln -s "$ROOT/.venv/bin/$_t" "$TMP/bin/$_t"
    else
        printf '#!/bin/sh\nexec "%s" -m jailfs.cli.%s "$@"\n' "$PY" "$_t" >"$TMP/bin/$_t"
        chmod +x "$TMP/bin/$_t"
    fi
done
PATH=$TMP/bin:$PATH; export PATH
trap 'jailfs umount "$MNT" 2>/dev/null; rm -rf "$TMP"; rmdir "$MNT" 2>/dev/null' EXIT
jailfs mount --background "$MNT" || { echo "FAIL: cannot mount $MNT"; exit 1; }
JAILFS_MOUNT=$MNT; export JAILFS_MOUNT
FAILS=0
NL='
'

# ctl REQUEST...  -- one .ctl transaction; prints the answer
ctl() {
    exec 3<>"$MNT/.ctl"
    printf '%s\n' "$*" >&3 2>/dev/null
    cat <&3
    exec 3>&-
}

# ctl_ok REQUEST... -- the value after "ok", or fail the test
ctl_ok() {
    _a=$(ctl "$@")
    case $_a in
        "ok "*) printf '%s\n' "${_a#ok }" | head -n 1 ;;
        ok) ;;
        *) echo "FAIL: .ctl $*: $_a" >&2; FAILS=$((FAILS + 1)) ;;
    esac
}

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

# contains NAME NEEDLE -- CMD...   (stdout has a line equal to NEEDLE, rc 0)
contains() {
    _name=$1 _needle=$2; shift 3
    "$@" >"$TMP/got.out" 2>"$TMP/got.err"; _got=$?
    if [ "$_got" = 0 ] && grep -qxF -- "$_needle" "$TMP/got.out"; then
        echo "ok: $_name"
    else
        echo "FAIL: $_name"; echo "  cmd: $*"; echo "  rc: $_got; want a line [$_needle] in:"
        sed 's/^/  | /' "$TMP/got.out" "$TMP/got.err"
        FAILS=$((FAILS + 1))
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

# row JID IP HOSTNAME PATH  -- one line of the default listing (no newline)
row() { printf '%6d  %-15.15s %-29.29s %.74s' "$1" "$2" "$3" "$4"; }
HDR="   JID  IP Address      Hostname                      Path$NL"

finish() {
    if [ "$FAILS" -ne 0 ]; then echo "$FAILS failure(s)"; exit 1; fi
    echo "all passed"; exit 0
}
