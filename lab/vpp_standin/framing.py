"""VPP's socket framing: a 16-byte big-endian msgbuf header, then the message.

The header is (u64 queue address, u32 data length, u32 gc timestamp); only the
length means anything on a socket.
"""

from __future__ import annotations

import asyncio
import struct

HEADER = struct.Struct(">QII")

# Far above the largest real request; a length beyond it can only be a broken
# or hostile peer, and reading it would tie up memory for nothing.
MAX_MESSAGE_BYTES = 16 * 1024 * 1024


class FrameTooLarge(Exception):
    pass


def frame(payload: bytes) -> bytes:
    return HEADER.pack(0, len(payload), 0) + payload


async def read_frame(reader: asyncio.StreamReader) -> bytes | None:
    """One message payload, or None when the peer closed the stream."""
    try:
        header = await reader.readexactly(HEADER.size)
    except asyncio.IncompleteReadError:
        return None
    _, length, _ = HEADER.unpack(header)
    if length > MAX_MESSAGE_BYTES:
        raise FrameTooLarge(f"message of {length} bytes announced")
    try:
        return await reader.readexactly(length)
    except asyncio.IncompleteReadError:
        return None
