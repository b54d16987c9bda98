"""`contiv-lab down`: stop every process of the lab and remove everything it
made. The state file says what was planned; the prefix finds the rest (a
crashed `up`, a state file written before a process was recorded), so the
two are unioned, never trusted alone."""

from __future__ import annotations

import shutil
from pathlib import Path

from lab import netns as labns
from lab import underlay
from lab.procs import alive, marked_pids, terminate
from lab.state import STATE_FILE, LabState, load

# What a lab directory holds besides the node directories (see lab.up).
_LAB_FILES = (STATE_FILE, "etcd", "logs")


def lab_pids(prefix: str, state: LabState | None) -> list[int]:
    pids: set[int] = set(marked_pids(prefix))
    if state is not None:
        records = [*state.components.values(), *(n.agent for n in state.nodes), *(n.kubelet for n in state.nodes)]
        pids |= {r.pid for r in records if r is not None and alive(r)}
    for name in labns.list_netns(f"{prefix}-"):
        pids |= set(labns.netns_pids(name))
    return sorted(pids)


def down(directory: Path, prefix: str) -> list[str]:
    directory = directory.resolve()
    state = load(directory)
    if state is not None:
        prefix = state.prefix
    removed: list[str] = []
    if state is not None:
        # Clients of the API before the API: the KSR takes seconds to stop
        # once its server is gone (it backs off reconnecting), a moment before.
        stages = [[*(n.kubelet for n in state.nodes), state.components.get("scheduler"), state.components.get("ksr")],
                  [n.agent for n in state.nodes],
                  [state.components.get("apiserver"), state.components.get("etcd")]]
        for stage in stages:
            pids = [r.pid for r in stage if r is not None and alive(r)]
            terminate(pids)
            removed += [f"process {pid}" for pid in pids]
    # Kubelets start processes and the CNI plugin starts none, but a round may
    # still catch a process mid-spawn: go again until none is left.
    for _ in range(5):
        pids = lab_pids(prefix, state)
        if not pids:
            break
        terminate(pids)
        removed += [f"process {pid}" for pid in pids]
    removed += underlay.remove_by_prefix(prefix)
    removed += _remove_files(directory, state)
    return removed


def _remove_files(directory: Path, state: LabState | None) -> list[str]:
    removed = []
    names = set(_LAB_FILES)
    if state is not None:
        names |= {n.dir.name for n in state.nodes if n.dir.parent == directory}
    if directory.exists():
        names |= {p.name for p in directory.glob("node-*") if p.is_dir()}
        names |= {p.name for p in directory.glob(f".{STATE_FILE}.*")}
    for name in sorted(names):
        path = directory / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        elif path.exists() or path.is_symlink():
            path.unlink()
        else:
            continue
        removed.append(f"file {path}")
    try:
        directory.rmdir()
        removed.append(f"dir {directory}")
    except OSError:
        pass  # not empty: someone else's files are there too
    return removed
