"""Claiming a node ID: the lowest free one, the same one again after a restart."""

from __future__ import annotations

import logging
from collections.abc import Callable

from kvstore import KVStore
from model import NODE_RECORD, KeySpace, NodeRecord

log = logging.getLogger(__name__)


class NodeIdExhausted(Exception):
    pass


async def claim_node_id(store: KVStore, keys: KeySpace, name: str, max_id: int,
                        record_for: Callable[[int], NodeRecord]) -> NodeRecord:
    """Find this node's record by name, or claim the lowest free ID with a
    create-if-absent transaction (two nodes racing for one ID: one wins, the
    other takes the next). The record is (re)written with current addresses."""
    while True:
        listed = await store.range(NodeRecord, keys.kind_prefix(NODE_RECORD))
        mine = [v for v in listed.items.values() if v.value.name == name]
        if mine:
            current = min(mine, key=lambda v: v.value.id)
            wanted = record_for(current.value.id)
            if wanted == current.value:
                return wanted
            result = await store.compare_and_swap(current.key, wanted, current.mod_revision)
            if result.succeeded:
                return wanted
            continue
        taken = {v.value.id for v in listed.items.values()}
        # An unreadable record still holds its ID: never claim over it.
        taken |= {int(bad.key.rsplit("/", 1)[1]) for bad in listed.invalid if bad.key.rsplit("/", 1)[1].isdigit()}
        free = next((i for i in range(1, max_id + 1) if i not in taken), None)
        if free is None:
            raise NodeIdExhausted(f"all {max_id} node IDs of the address plan are taken")
        record = record_for(free)
        if (await store.create_if_absent(keys.key(NODE_RECORD, free), record)).succeeded:
            log.info("node %s claimed ID %d", name, free)
            return record
