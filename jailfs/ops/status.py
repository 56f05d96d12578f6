"""jailfs status: one screen about the host's jailfs mounts.

For each jailfs mount (or the one given with -m): the daemon's pid and
state, its log, the jails live and dying, the simulated processes' total
and the clock.  A mount whose daemon does not answer within a few seconds
(stopped or hung) is reported as such instead of blocking.
"""

from __future__ import annotations

import os
import sys
import threading

from jailfs.ops import Failed
from jailfs.ops.deadline import STAT_DEADLINE, stat_within
from jailfs.ops.mountview import ctl, jails
from jailfs.ops.runfiles import log_file, mounts, process_state, read_pid

STATES = {"R": "running", "S": "sleeping", "D": "in disk wait", "T": "stopped", "t": "traced"}


def _summary(mount: str) -> str:
    found = jails(mount)
    dying = sum(1 for j in found if j.dying)
    procs = sum(j.processes for j in found)
    clock, _ = ctl(mount, "clock")
    return (f"  jails: {len(found) - dying} live, {dying} dying; "
            f"processes: {procs}; clock: {clock} s")


def _summary_within(mount: str, seconds: float) -> str:
    result: dict = {}

    def work():
        try:
            result["text"] = _summary(mount)
        except (Failed, OSError) as e:
            result["text"] = f"  cannot read it: {e}"
    t = threading.Thread(target=work, daemon=True)
    t.start()
    t.join(seconds)
    return result.get("text", f"  no answer within {seconds:g} s (daemon stopped or hung)")


def report(points: list[str]) -> str:
    if not points:
        return "no jailfs mount\n"
    lines = []
    for point in points:
        pid = read_pid(point)
        if pid:
            state = process_state(pid) or "gone"
            daemon = f"daemon pid {pid} ({STATES.get(state, state)})"
        else:
            daemon = "daemon unknown (no pid file)"
        lines.append(f"{point}: {daemon}")
        if os.path.exists(log_file(point)):
            lines.append(f"  log: {log_file(point)}")
        try:
            stat_within(point, STAT_DEADLINE)
        except TimeoutError:
            lines.append(f"  no answer within {STAT_DEADLINE:g} s (daemon stopped or hung)")
            continue
        except OSError as e:
            lines.append(f"  {e.strerror} (a stale mount: `jailfs umount {point}`)")
            continue
        lines.append(_summary_within(point, STAT_DEADLINE))
    return "\n".join(lines) + "\n"


def run(args) -> int:
    points = [os.path.abspath(args.mount)] if args.mount else \
        [point for _, point, _ in mounts("fuse.jailfs")]
    sys.stdout.write(report(points))
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser("status", help="one screen: mounts, daemons, jails, the clock",
                       description=__doc__.split("\n\n")[1])
    p.add_argument("-m", "--mount", help="only this mount (default: every jailfs mount)")
    p.set_defaults(func=run)
