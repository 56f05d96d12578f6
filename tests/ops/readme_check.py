"""Run the console examples of a Markdown file against a real jailfs mount.

A ```console block is a terminal session as root: a line starting with
``# `` is a command, the lines after it are what the command prints (stdout
and stderr, in order).  In an expected line, ``...`` matches any text, and
two or more spaces followed by ``# `` start an annotation that is not
output.  ``/mnt/j`` stands for the mount point, ``/var/lib/jailfs`` for an
empty scratch directory (both temporary, removed afterwards).

Each block runs in one interactive ``bash`` (so ``cd`` and ``export``
carry on, and messages read as at a terminal), on a
fresh mount: when the block mounts jailfs itself (a ``jailfs mount``
command) it gets an empty directory for /mnt/j and starts in the checkout;
otherwise it starts inside a mount made for it, with ``JAILFS_MOUNT`` set.
``.venv/bin`` is on PATH.  Whatever happens, the mount is undone and the
daemon ended.

    python tests/ops/readme_check.py README.md [FILE.md ...]
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MOUNT = "/mnt/j"                 # stands for the mount point
SCRATCH = "/var/lib/jailfs"      # stands for an empty directory (state files...)
MARK = "=== readme step "        # printed before each command's output


@dataclass
class Step:
    command: str
    expected: list[str] = field(default_factory=list)


@dataclass
class Block:
    source: str              # FILE:LINE of the opening fence
    steps: list[Step]

    @property
    def mounts_itself(self) -> bool:
        return any(re.search(r"\bjailfs mount\b", s.command) for s in self.steps)


def blocks(path: Path) -> list[Block]:
    found, steps, start = [], None, 0
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if steps is None:
            if line.strip() == "```console":
                steps, start = [], n
            continue
        if line.strip() == "```":
            found.append(Block(f"{path.name}:{start}", steps))
            steps = None
        elif line.startswith("# "):
            steps.append(Step(line[2:]))
        elif steps:
            steps[-1].expected.append(re.sub(r" {2,}# .*$", "", line).rstrip())
        else:
            raise ValueError(f"{path.name}:{n}: output before any command")
    return found


def _matches(expected: str, got: str) -> bool:
    pattern = ".*".join(re.escape(part) for part in expected.split("..."))
    return re.fullmatch(pattern, got) is not None


def _places(text: str, mnt: str, scratch: str) -> str:
    return text.replace(MOUNT, mnt).replace(SCRATCH, scratch)


def _script(block: Block, mnt: str, scratch: str) -> str:
    lines = ["set +H"]                    # no history expansion of "!"
    for i, step in enumerate(block.steps):
        lines.append(f"printf '\\n{MARK}{i}\\n'")
        lines.append("{ " + _places(step.command, mnt, scratch) + "\n} 2>&1")
    return "\n".join(lines) + "\n"


def _mount(mnt: str, env: dict) -> subprocess.Popen:
    proc = subprocess.Popen([str(REPO / ".venv/bin/jailfs"), "mount", "-q", mnt], env=env,
                            stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not os.path.exists(os.path.join(mnt, ".ctl")):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"cannot mount {mnt}")
        time.sleep(0.02)
    return proc


def _daemon_pid(mnt: str) -> int | None:
    sys.path.insert(0, str(REPO))
    from jailfs.ops.runfiles import read_pid
    return read_pid(mnt)


def run_block(block: Block) -> list[str]:
    """The differences between what the block says and what a shell prints."""
    top = tempfile.mkdtemp(prefix="jailfs-readme.")
    os.chmod(top, 0o755)
    mnt = os.path.join(top, "j")
    scratch = os.path.join(top, "scratch")
    os.mkdir(mnt)
    os.mkdir(scratch)
    env = {**os.environ, "PATH": f"{REPO / '.venv/bin'}:{os.environ['PATH']}", "LC_ALL": "C"}
    env.pop("JAILFS_MOUNT", None)
    proc = None
    daemon = None
    try:
        if block.mounts_itself:
            cwd = str(REPO)
        else:
            proc = _mount(mnt, env)
            env["JAILFS_MOUNT"] = cwd = mnt
        # an interactive bash, as at a terminal: its messages carry no line numbers
        run = subprocess.run(["bash", "--norc", "--noprofile", "-i"], input=_script(block, mnt, scratch),
                             capture_output=True, text=True, cwd=cwd, env=env, timeout=120)
        daemon = _daemon_pid(mnt)
        outputs = run.stdout.split("\n" + MARK)[1:]
        problems = []
        for i, step in enumerate(block.steps):
            got = outputs[i].split("\n", 1)[1].rstrip("\n").split("\n") if i < len(outputs) else []
            got = [] if got == [""] else got
            want = [_places(line, mnt, scratch) for line in step.expected]
            if len(got) != len(want) or not all(map(_matches, want, got)):
                problems.append(f"{block.source}: `{step.command}`\n"
                                f"    expected: {want}\n    got:      {got}")
        return problems
    finally:
        subprocess.run(["fusermount3", "-u", "-z", mnt], capture_output=True)
        if proc is not None:
            proc.wait(timeout=30)
        elif daemon is not None:          # the block's own background daemon
            for _ in range(200):
                if not os.path.exists(f"/proc/{daemon}"):
                    break
                time.sleep(0.05)
        for name in os.listdir(scratch):  # files the block made there
            os.unlink(os.path.join(scratch, name))
        for d in (mnt, scratch, top):     # rmdir, never a recursive removal: see the mount
            try:
                os.rmdir(d)
            except OSError:
                pass


def main(paths: list[str]) -> int:
    bad = 0
    for path in paths:
        for block in blocks(Path(path)):
            problems = run_block(block)
            print(f"{'FAIL' if problems else 'ok'} {block.source}")
            for p in problems:
                print(p)
            bad += bool(problems)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
