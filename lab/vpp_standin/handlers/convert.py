"""Small conversions between decoded wire values and the state model."""

from __future__ import annotations

from typing import Any


def mac_bytes(value: Any) -> bytes:
    """vpp_papi decodes mac_address_t into MACAddress; take its six bytes."""
    if value is None:
        return bytes(6)
    packed = getattr(value, "packed", value)
    return bytes(packed)


def to_int(value: Any) -> int:
    return int(value) if value is not None else 0
