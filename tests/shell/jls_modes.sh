#!/bin/sh
# jls(8) through a live mount: every output mode, byte for byte.
. "$(dirname "$0")/jls_lib.sh"

# --- no jails: the header alone
check "empty default" 0 "$HDR" "" -- jls
check "empty json" 0 '{"__version": "2", "jail-information": {"jail": []}}
' "" -- jls --libxo json

# --- two jails: one by .ctl with everything, one by mkdir with defaults
W=$(ctl_ok create name=web persist host.hostname=www.example ip4.addr=192.0.2.10 children.max=2)
same "web is jid 1" "$W" 1
mkdir "$MNT/db"
D=$(jls -j db jid)
same "db is jid 2" "$D" 2

check "default" 0 "$HDR$(row 1 192.0.2.10 www.example /)$NL$(row 2 '' '' /)$NL" "" -- jls
check "names" 0 " JID             IP Address      Hostname                      Path
 web             192.0.2.10      www.example                   /
 db                                                            /
" "" -- jls -N
check "json" 0 '{"__version": "2", "jail-information": {"jail": [{"jid":1,"ipv4":"192.0.2.10","hostname":"www.example","path":"/"}, {"jid":2,"ipv4":"","hostname":"","path":"/"}]}}
' "" -- jls --libxo json
check "json pretty, one jail" 0 '{
  "__version": "2", 
  "jail-information": {
    "jail": [
      {
        "jid": 1,
        "ipv4": "192.0.2.10",
        "hostname": "www.example",
        "path": "/"
      }
    ]
  }
}
' "" -- jls --libxo json,pretty -j web
check "xml" 0 '<jail-information version="2"><jail><jid>1</jid><ipv4>192.0.2.10</ipv4><hostname>www.example</hostname><path>/</path></jail></jail-information>' "" -- jls --libxo xml -j 1

# --- verbose
C1=$(jls -j web cpuset.id); C2=$(jls -j db cpuset.id)
check "verbose" 0 "   JID  Hostname                      Path
        Name                          State
        CPUSetID
        IP Address(es)
     1  www.example                   /
        web                           ACTIVE
        $C1
        192.0.2.10
     2                                /
        db                            ACTIVE
        $C2
" "" -- jls -v

# --- parameter lists
check "params" 0 "web 1 false true -$NL" "" -- jls -j web name jid dying persist ip6.addr
check "params by jid" 0 "web 1 false true -$NL" "" -- jls -j 1 name jid dying persist ip6.addr
check "params all jails" 0 "1 web${NL}2 db$NL" "" -- jls jid name
check "duplicates collapse" 0 "1 web$NL" "" -- jls -j web jid name jid
check "empty string vs empty list" 0 "\"\" -$NL" "" -- jls -j db host.domainname ip4.addr
check "no-form boolean" 0 "false$NL" "" -- jls -j web nopersist
check "header" 0 "name jid${NL}web 1${NL}db 2$NL" "" -- jls -h name jid

# --- name=value
check "-n subset" 0 "name=web host.hostname=www.example persist ip4.addr=192.0.2.10 ip6.addr= host.domainname=\"\" nodying$NL" "" \
    -- jls -n -j web name host.hostname persist ip4.addr ip6.addr host.domainname dying
check "-nq empty list" 0 "ip4.addr=\"\"$NL" "" -- jls -nq -j db ip4.addr
check "-n no-form" 0 "persist nodying$NL" "" -- jls -n -j web nopersist nodying
N=$(jls -n -j web)
case $N in
    *" "*) echo "ok: -n all on one line" ;;
    *) echo "FAIL: -n all: [$N]"; FAILS=$((FAILS + 1)) ;;
esac
contains "-n all: one line per jail" "$N" -- jls -n
for w in jid=1 name=web persist nodying 'host.hostname=www.example' 'host.domainname=""' 'meta=""' path=/; do
    case " $N " in *" $w "*) echo "ok: -n has $w" ;; *) echo "FAIL: -n lacks $w"; FAILS=$((FAILS + 1)) ;; esac
done
# the order of all: undotted names first, each group in byte order
ORDER=$(jls -h -j web | head -n 1)
SORTED=$(printf '%s\n' $ORDER | LC_ALL=C awk '{ print (index($0, ".") ? 1 : 0) " " $0 }' | LC_ALL=C sort | cut -d' ' -f2- | tr '\n' ' ')
same "all order" "$ORDER " "$SORTED"

# --- -s: settable parameters only; host.* as host=new; ip4.* never (ip4 reads disable)
S=$(jls -s -j web)
for w in jid=1 name=web persist 'host.hostname=www.example' path=/; do
    case " $S " in *" $w "*) echo "ok: -s has $w" ;; *) echo "FAIL: -s lacks $w: [$S]"; FAILS=$((FAILS + 1)) ;; esac
done
for w in parent= nodying children.cur= cpuset.id= ip4.addr=; do
    case " $S" in *" $w"*) echo "FAIL: -s has $w: [$S]"; FAILS=$((FAILS + 1)) ;; *) echo "ok: -s leaves out $w" ;; esac
done

# --- quoting
# (.ctl splits requests like sh: the quotes travel inside the request)
Q=$(ctl_ok create name=q persist "'host.hostname=a b'")
check "unquoted" 0 "a b -$NL" "" -- jls -j q host.hostname ip4.addr
check "-q" 0 "\"a b\" \"\" \"\"$NL" "" -- jls -q -j q host.hostname host.domainname ip4.addr

# --- errors
check "not found by name" 1 "" "jls: jail \"nope\" not found$NL" -- jls -j nope jid
check "not found by jid" 1 "" "jls: jail 99 not found$NL" -- jls -j 99 jid
check "not found, default mode" 1 "$HDR" "jls: jail \"nope\" not found$NL" -- jls -j nope
check "unknown parameter" 1 "" "jls: unknown parameter: bogus$NL" -- jls bogus
check "usage" 1 "" "jls: illegal option -- x${NL}jls: usage: jls [-dhNnqv] [-j jail] [param ...]$NL" -- jls -x

# --- -c
check "-c exists" 0 "" "" -- jls -c -j web
check "-cj jid" 0 "" "" -- jls -cj 1
check "-c missing" 1 "" "" -- jls -cj 5309

# --- dying jails: a TCP connection in TIME_WAIT keeps one around
Y=$(ctl_ok create name=dy persist ip4.addr=192.0.2.30)
P=$(ctl_ok spawn dy)
F=$(ctl_ok connect "$P" 192.0.2.30:1234 198.51.100.1:80)
ctl_ok close "$P" "$F" >/dev/null
ctl_ok remove dy >/dev/null
contains "dying not listed" "$(row 1 192.0.2.10 www.example /)" -- jls
if jls | grep -q "192.0.2.30"; then echo "FAIL: dying jail listed without -d"; FAILS=$((FAILS + 1)); else echo "ok: -d needed"; fi
contains "-d lists it" "$(row "$Y" 192.0.2.30 '' /)" -- jls -d
check "-j dying" 1 "" "jls: jail \"dy\" is dying$NL" -- jls -j dy jid
check "-j dying by jid" 1 "" "jls: jail $Y is dying$NL" -- jls -j "$Y" jid
check "-dj dying" 0 "true$NL" "" -- jls -d -j dy dying
contains "-dv state" "        dy                            DYING" -- jls -dv
ctl_ok advance 61 >/dev/null
check "freed after TIME_WAIT" 1 "" "jls: jail \"dy\" not found$NL" -- jls -d -j dy jid

finish
