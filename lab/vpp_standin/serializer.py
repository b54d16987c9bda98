"""vpp_papi's serializer classes, in a registry of the stand-in's own.

vpp_papi keeps every type it builds in one module-global table, and some
packers keep per-call state on the shared type objects (the top-level
conversion flag).  A stand-in running in a thread of the same process as a
sync client would then race with the client on those objects.  Loading a
second instance of the very same `vpp_serializer` source gives the server the
same classes and encodings with a private registry.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType
from typing import Any

import vpp_papi.vpp_serializer as _shared

_PRIVATE_NAME = "vpp_papi._contiv_standin_serializer"


def _load_private_serializer() -> ModuleType:
    existing = sys.modules.get(_PRIVATE_NAME)
    if existing is not None:
        return existing
    origin = _shared.__spec__.origin if _shared.__spec__ else None
    if origin is None:
        raise RuntimeError("cannot locate vpp_papi.vpp_serializer source")
    spec = importlib.util.spec_from_file_location(_PRIVATE_NAME, origin)
    if spec is None or spec.loader is None:
        raise RuntimeError("cannot load a private vpp_serializer")
    module = importlib.util.module_from_spec(spec)
    # Registered before exec so its relative import of vpp_format resolves
    # inside the vpp_papi package like the original's does.
    sys.modules[_PRIVATE_NAME] = module
    spec.loader.exec_module(module)
    return module


serializer: ModuleType = _load_private_serializer()


def _prefixed(name: str) -> str:
    return f"vl_api_{name}_t"


def register_types(api: dict[str, Any]) -> None:
    """Build the enums, unions, types and aliases of one .api.json module.

    Types refer to each other across and within modules in any order, so
    unresolved ones are retried until a pass makes no progress.
    """
    pending: list[tuple[str, str, Any]] = []
    for kind in ("enums", "enumflags", "unions", "types"):
        for entry in api.get(kind, []):
            pending.append((kind, _prefixed(entry[0]), entry[1:]))
    for alias, body in api.get("aliases", {}).items():
        pending.append(("aliases", _prefixed(alias), body))

    while pending:
        unresolved: list[tuple[str, str, Any]] = []
        for kind, name, body in pending:
            if serializer.vpp_get_type(name):
                continue
            try:
                if kind == "enums":
                    serializer.VPPEnumType(name, body)
                elif kind == "enumflags":
                    serializer.VPPEnumFlagType(name, body)
                elif kind == "unions":
                    serializer.VPPUnionType(name, body)
                elif kind == "types":
                    serializer.VPPType(name, body)
                else:
                    serializer.VPPTypeAlias(name, body)
            except ValueError:
                unresolved.append((kind, name, body))
        if len(unresolved) == len(pending):
            names = ", ".join(name for _, name, _ in unresolved)
            raise ValueError(f"unresolvable API types: {names}")
        pending = unresolved


def build_message(name: str, definition: list[Any]) -> Any:
    """A VPPMessage for one message definition (fields plus the crc dict)."""
    return serializer.VPPMessage(name, definition)
