# Shared prelude of the toolbox_*.sh tests (sourced, plain sh): jls_lib.sh's
# private mount and byte-exact checks, then `eval "$(jailfs env)"` as a user
# would, so sysctl, rctl, ifconfig, ipcs, ipcrm, pgrep, pkill, ps and daemon
# are FreeBSD's; the processes a test starts are killed, by pid, at its end.
case $0 in *toolbox_lib.sh) echo "toolbox_lib.sh: sourced by toolbox_*.sh, nothing to run"; exit 0;; esac
. "$(dirname "$0")/jls_lib.sh"
MYPIDS=
trap 'for _p in $MYPIDS; do kill -9 "$_p" 2>/dev/null; done; cd /; jailfs umount "$MNT"; rm -rf "$TMP"; rmdir "$MNT" 2>/dev/null' EXIT
trap 'exit 1' INT TERM HUP
eval "$(jailfs env -m "$MNT")" || { echo "FAIL: jailfs env"; exit 1; }

# wait_for SECONDS CMD...: poll CMD every 50 ms until it succeeds; 1 on timeout
wait_for() {
    _n=$(($1 * 20)); shift
    while ! "$@" >/dev/null 2>&1; do
        _n=$((_n - 1)); [ $_n -gt 0 ] || return 1
        sleep 0.05
    done
}

# hostpid JID NSPID: the host's pid of the process a jail's pid namespace calls
# NSPID (jails have their own pid namespace: what a jailed process writes down
# as its pid is not the host's)
hostpid() { jailfs sim proclist | awk -v j="$1" -v n="$2" '$2 == j && $3 ~ ("," n "$") {print $1}'; }
