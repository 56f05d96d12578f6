# Shared prelude of the jail_*.sh tests (sourced, plain sh).
# Starts a private mount, exports JAILFS_MOUNT, and offers check helpers.
set -u
case $0 in *jail_lib.sh) echo "jail_lib.sh: sourced by the other jail_*.sh tests, nothing to run"; exit 0;; esac
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
if [ -x "$ROOT/.venv/bin/jailfs" ]; then BIN="$ROOT/.venv/bin"; PATH="$BIN:$PATH"; export PATH; fi
MNT=$(mktemp -d /tmp/jailfs-jail-test.XXXXXX)
TMP=$(mktemp -d /tmp/jailfs-jail-tmp.XXXXXX)
jailfs mount --background "$MNT" || { echo "FAIL: cannot mount $MNT"; exit 1; }
trap 'jailfs umount "$MNT"; rm -rf "$TMP"; rmdir "$MNT" 2>/dev/null' EXIT
JAILFS_MOUNT=$MNT; export JAILFS_MOUNT
FAILS=0

# check NAME EXPECTED_RC EXPECTED_STDOUT EXPECTED_STDERR -- CMD...
check() {
    _name=$1 _rc=$2 _out=$3 _err=$4; shift 5
    "$@" >"$TMP/out" 2>"$TMP/err"; _got=$?
    _o=$(cat "$TMP/out"); _e=$(cat "$TMP/err")
    if [ "$_got" != "$_rc" ] || [ "$_o" != "$_out" ] || [ "$_e" != "$_err" ]; then
        echo "FAIL: $_name"
        echo "  cmd:    $*"
        echo "  rc:     $_got (want $_rc)"
        echo "  stdout: [$_o] (want [$_out])"
        echo "  stderr: [$_e] (want [$_err])"
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

gone() { [ ! -e "$MNT/$1" ]; }

finish() {
    if [ "$FAILS" -ne 0 ]; then echo "$FAILS failure(s)"; exit 1; fi
    echo "all passed"; exit 0
}

USAGE='usage: jail [-dhilqv] [-J jid_file] [-u username] [-U username]
            -[cmr] param=value ... [command=command ...]
       jail [-dqv] [-f file] -[cmr] [jail]
       jail [-qv] [-f file] -[rR] ['"'"'*'"'"' | jail ...]
       jail [-dhilqv] [-J jid_file] [-u username] [-U username]
            [-n jailname] [-s securelevel]
            path hostname [ip[,...]] command ...
       jail [-f file] -e separator'
NOCONF="-f $TMP/none.conf"
