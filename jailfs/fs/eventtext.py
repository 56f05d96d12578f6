"""The text of ``.events`` lines: kernel events and refusals, as one view sees them."""

from __future__ import annotations

import errno

from .eventlog import field


def errname(code: int) -> str:
    return errno.errorcode.get(code, str(code))


def event_text(ev, view_root) -> str:
    """One kernel event about a prison below ``view_root``, named as that view
    names it.  Made from what the event recorded when it happened (its jid, its
    full name), never from the prison now: the line may be written later."""
    depth, pr = 0, view_root                # the root's name has this many parts
    while pr.parent is not None:
        depth, pr = depth + 1, pr.parent
    name = ev.name.split(".", depth)[depth]
    parts = [ev.kind, f"jid={ev.jid}", field("name", name)]
    d = ev.detail or {}
    if ev.kind == "updated":
        params = d.get("params")
        if isinstance(params, dict):
            parts += [field(k, v) for k, v in params.items() if k != "jid"]
        elif params:
            seen = []
            for p in params:
                if p != "jid" and p not in seen:
                    seen.append(p)
            if seen:
                parts.append(field("params", ",".join(seen)))
    else:
        parts += [field(k, v) for k, v in d.items()]
    return " ".join(parts)


def other_event_text(ev) -> str:
    """An event that names no prison."""
    return f"{ev.kind} " + " ".join(field(k, v) for k, v in (ev.detail or {}).items())


def refusal_text(op: str, code: int, msg: str, name: str = "") -> str:
    parts = [f"refused {field('op', op)} errno={errname(code)}"]
    if name:
        parts.append(field("name", name))
    parts.append(field("msg", msg))
    return " ".join(parts)
