# Shared prelude of the jail_*.sh tests (sourced, plain sh): jls_lib.sh's
# private mount (JAILFS_MOUNT exported), same and finish, with a check that
# compares output as $(...) gives it (trailing newlines dropped).
case $0 in *jail_lib.sh) echo "jail_lib.sh: sourced by the other jail_*.sh tests, nothing to run"; exit 0;; esac
. "$(dirname "$0")/jls_lib.sh"

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

gone() { [ ! -e "$MNT/$1" ]; }

USAGE='usage: jail [-dhilqv] [-J jid_file] [-u username] [-U username]
            -[cmr] param=value ... [command=command ...]
       jail [-dqv] [-f file] -[cmr] [jail]
       jail [-qv] [-f file] -[rR] ['"'"'*'"'"' | jail ...]
       jail [-dhilqv] [-J jid_file] [-u username] [-U username]
            [-n jailname] [-s securelevel]
            path hostname [ip[,...]] command ...
       jail [-f file] -e separator'
NOCONF="-f $TMP/none.conf"
