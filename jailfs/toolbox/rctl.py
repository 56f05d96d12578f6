"""rctl(8): resource limit rules, through the kernel's rctl (`.ctl rctl`).

    rctl [ -h ] [-a rule | -l filter | -r filter | -u filter | filter]

As usr.bin/rctl/rctl.c: subject abbreviations (u: g: p: l: c: class: j:)
and user and group names are resolved here, amounts with k/m/g/t/p/e
suffixes are expanded here, several rules or filters may follow one flag,
the exit status counts the ones that failed, and the listing shows user ids
as names unless -n, amounts humanized with -h. Rules are listed by subject
(process, loginclass, user, jail), each newest first as the kernel keeps them.
"""

from __future__ import annotations

import grp
import pwd
import shlex

from jailfs.ops.runfiles import status_field
from jailfs.toolbox.common import Failed, Usage, getopts, request, run, strerror, warnx
from jailfs.toolbox.procs import as_seen_here

PROG = "rctl"
USAGE = "usage: rctl [ -h ] [-a rule | -l filter | -r filter | -u filter | filter]"
_ALIASES = {"u": "user", "g": "group", "p": "process", "l": "loginclass", "c": "loginclass",
            "class": "loginclass", "j": "jail"}
_SUBJECT_ORDER = ("process", "loginclass", "user", "jail")
_SUFFIXES = "bkmgtpe"


class Malformed(Exception):
    """A rule rctl(8) refuses before the kernel sees it (message after `rctl: `)."""


def expand_number(text: str) -> int | None:
    """libutil's expand_number: digits with an optional b/k/m/g/t/p/e suffix (powers of 1024)."""
    body, shift = text, 0
    if body and body[-1].lower() in _SUFFIXES:
        shift = 10 * _SUFFIXES.index(body[-1].lower())
        body = body[:-1]
    if not body.isdigit():
        return None
    value = int(body) << shift
    return value if value < 1 << 64 else None


def _resolve(textid: str, subject: str, rule: str) -> str:
    try:
        return str(pwd.getpwnam(textid).pw_uid if subject == "user" else grp.getgrnam(textid).gr_gid)
    except KeyError:
        pass
    if not textid[:1].isdigit():
        # rctl.c's own spelling
        raise Malformed(f"malformed rule '{rule}': uknown {subject} '{textid}'")
    if not textid.isdigit():
        raise Malformed(f"malformed rule '{rule}': trailing characters after numerical id")
    return textid


def expand_rule(rule: str, resolve_ids: bool) -> str:
    """The rule text rctl.c hands the kernel."""
    parts = rule.split(":", 2)
    if len(parts) < 2:
        raise Malformed(f"malformed rule '{rule}': missing subject")
    subject, textid = parts[0], parts[1]
    rest = parts[2] if len(parts) == 3 else ""
    subject = _ALIASES.get(subject.lower(), subject)
    if resolve_ids and subject.lower() in ("user", "group") and textid:
        textid = _resolve(textid, subject.lower(), rule)
    resource, _, action_amount = rest.partition(":")
    action, eq, amount_per = action_amount.partition("=")
    amount, slash, per = amount_per.partition("/")
    if not eq or amount == "":
        return f"{subject}:{textid}:{rest}"
    number = expand_number(amount)
    if number is None:
        raise Malformed(f"malformed rule '{rule}': invalid numeric value '{amount}'")
    return f"{subject}:{textid}:{resource}:{action}={number}" + (f"/{per}" if slash else "")


def humanize_number(num: int) -> str:
    """libutil's humanize_number(buf, 6, num, "", HN_AUTOSCALE, HN_DECIMAL | HN_NOSPACE)."""
    prefixes = ("", "K", "M", "G", "T", "P", "E")
    divisor, deccut = 1024, 973
    sign = -1 if num < 0 else 1
    quotient, remainder, scale = abs(num), 0, 0
    maximum = 10 ** (6 - (3 if sign < 0 else 2))
    while (quotient >= maximum or (quotient == maximum - 1 and
                                   (remainder >= deccut or remainder >= divisor // 2))) and scale < 6:
        remainder = quotient % divisor
        quotient //= divisor
        scale += 1
    if ((quotient == 9 and remainder < deccut) or quotient < 9) and scale > 0:
        s1 = quotient + ((remainder * 10 + divisor // 2) // divisor // 10)
        s2 = ((remainder * 10 + divisor // 2) // divisor) % 10
        return f"{sign * s1}.{s2}{prefixes[scale]}"
    return f"{sign * (quotient + (remainder + divisor // 2) // divisor)}{prefixes[scale]}"


def humanize_ids(rule: str) -> str:
    subject, textid, *rest = rule.split(":", 2)
    try:
        if subject == "user":
            textid = pwd.getpwuid(int(textid)).pw_name
        elif subject == "group":
            textid = grp.getgrgid(int(textid)).gr_name
    except (KeyError, ValueError):
        pass
    return ":".join([subject, textid, *rest])


def humanize_amount(rule: str) -> str:
    head, eq, tail = rule.partition("=")
    amount, slash, per = tail.partition("/")
    if not eq or not amount.isdigit():
        return rule
    return f"{head}={humanize_number(int(amount))}{slash}{per}"


def by_subject(rules: list[str]) -> list[str]:
    """The kernel answers newest first; rctl_get_rules walks processes, login
    classes, users and jails in turn, so group them (each group keeps its order)."""
    def subject_rank(rule: str) -> int:
        subject = rule.split(":", 1)[0]
        return _SUBJECT_ORDER.index(subject) if subject in _SUBJECT_ORDER else len(_SUBJECT_ORDER)
    return sorted(rules, key=subject_rank)


def print_rules(rules: list[str], hflag: bool, nflag: bool) -> None:
    for rule in by_subject(rules):
        if not nflag:
            rule = humanize_ids(rule)
        if hflag:
            rule = humanize_amount(rule)
        print(rule)


def one(flag: str, rule: str, unexpanded: str, hflag: bool, nflag: bool) -> bool:
    """One rule or filter; False (after rctl.c's warning) when it failed."""
    verb, what = {"a": (("-a",), "failed to add rule"), "r": (("-r",), "failed to remove rule"),
                  "u": (("-u",), "failed to show resource consumption for"),
                  "": ((), "failed to show rules for")}[flag]
    answer = request("rctl", *verb, rule)
    if not answer.ok:
        warnx(PROG, f"{what} '{unexpanded}': {strerror(answer.errname)}")
        return False
    if flag == "u":
        for line in answer.extra:
            name, _, amount = line.partition("=")
            print(f"{name}={humanize_number(int(amount))}" if hflag and amount.isdigit() else line)
    elif flag == "":
        print_rules(answer.extra, hflag, nflag)
    return True


def rctl(argv: list[str]) -> int:
    pairs, args = getopts(argv, "ahlnru")
    flags = {f[1] for f, _ in pairs}
    chosen = flags & set("alru")
    if len(chosen) > 1:
        raise Failed("at most one of -a, -l, -r, or -u may be specified")
    flag = chosen.pop() if chosen else ""
    hflag, nflag = "h" in flags, "n" in flags
    if not args:
        if flag:
            raise Usage()
        one("", "::", "::", hflag, nflag)
        return 0
    failed = 0
    for unexpanded in args:
        try:
            rule = expand_rule(unexpanded, resolve_ids=not (flag == "a" and nflag))
        except Malformed as e:
            warnx(PROG, str(e))
            failed += 1
            continue
        if flag == "l":
            failed += not limits(rule, unexpanded, hflag, nflag)
        else:
            failed += not one(flag, rule, unexpanded, hflag, nflag)
    return failed


def limits(rule: str, unexpanded: str, hflag: bool, nflag: bool) -> bool:
    """rctl -l process:PID: the rules that apply to one process (rctl_get_limits)."""
    subject, _, pid = rule.partition(":")
    pid = pid.split(":", 1)[0]
    answer = request("rctl", "::")
    where = request("proclist")
    jid = next((str(j) for p, j in as_seen_here(where.extra) if str(p) == pid), None) \
        if where.ok else None
    if subject != "process" or not pid.isdigit() or not answer.ok or jid is None:
        # kern_rctl.c's str2id: a pid strtoul cannot read whole is EINVAL
        numeric = subject == "process" and (pid == "" or pid.isdigit())
        errname = answer.errname if not answer.ok else "ESRCH" if numeric else "EINVAL"
        warnx(PROG, f"failed to get limits for '{unexpanded}': {strerror(errname)}")
        return False
    uids = status_field(pid, "Uid")
    if not uids:
        warnx(PROG, f"failed to get limits for '{unexpanded}': {strerror('ESRCH')}")
        return False
    uid = uids[0]
    names = jail_and_ancestors(jid)
    mine = {("process", pid), ("user", uid), ("loginclass", "default")} | {("jail", n) for n in names}
    print_rules([r for r in answer.extra if tuple(r.split(":")[:2]) in mine], hflag, nflag)
    return True


def jail_and_ancestors(jid: str) -> list[str]:
    """The full names a process's racct rules can name: its jail's and each ancestor's."""
    if jid == "0":
        return []
    answer = request("get", jid, "name")
    name = shlex.split(answer.extra[0].partition("=")[2])[0] if answer.ok and answer.extra else jid
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


def main(argv: list[str] | None = None) -> int:
    return run(PROG, rctl, argv, USAGE)
