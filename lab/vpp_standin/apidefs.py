"""The API definitions the stand-in serves: messages, ids, modules, JSON.

Message ids are handed out the way VPP does it: every API module gets one
contiguous block, memclnt first (vpp_papi hard-codes sockclnt_create = 15 and
its reply = 16, which is where memclnt's own order puts them), then the other
core modules, then the plugins.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .serializer import build_message, register_types

_FIRST_MODULE = "memclnt"


@dataclass(frozen=True)
class ApiModule:
    name: str
    path: Path
    crc: str
    version: tuple[int, int, int]
    first_msg_id: int
    message_names: tuple[str, ...]

    @property
    def range_name(self) -> str:
        """The key get_first_msg_id looks up: `<module>_<crc as 8 hex digits>`."""
        return f"{self.name}_{int(self.crc, 16):08x}"


@dataclass
class ApiDefinitions:
    messages: dict[str, Any] = field(default_factory=dict)
    services: dict[str, dict[str, Any]] = field(default_factory=dict)
    crcs: dict[str, str] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)
    by_id: dict[int, str] = field(default_factory=dict)
    modules: list[ApiModule] = field(default_factory=list)
    json_array: str = "[]"

    def name_crc(self, name: str) -> str:
        return f"{name}_{self.crcs[name][2:]}"

    def message_table(self) -> list[dict[str, Any]]:
        return [{"index": self.ids[n], "name": self.name_crc(n)} for n in self.ids]

    def module_by_range_name(self, range_name: str) -> ApiModule | None:
        for module in self.modules:
            if module.range_name == range_name:
                return module
        return None

    def has(self, name: str) -> bool:
        return name in self.ids


def _module_name(path: Path, api: dict[str, Any]) -> str:
    name = api.get("module")
    if isinstance(name, str) and name:
        return name
    return path.name.removesuffix(".api.json")


def _version(api: dict[str, Any]) -> tuple[int, int, int]:
    text = str(api.get("options", {}).get("version", "0.0.0"))
    parts = [int(p) if p.isdigit() else 0 for p in text.split(".")[:3]]
    while len(parts) < 3:
        parts.append(0)
    return parts[0], parts[1], parts[2]


def _ordered_files(apidir: Path) -> list[Path]:
    files = sorted(apidir.rglob("*.api.json"))
    if not files:
        raise FileNotFoundError(f"no *.api.json files under {apidir}")

    def key(p: Path) -> tuple[int, str, str]:
        stem = p.name.removesuffix(".api.json")
        rank = 0 if stem == _FIRST_MODULE else (1 if p.parent.name != "plugins" else 2)
        return rank, p.parent.name, p.name

    return sorted(files, key=key)


def load_api_definitions(apidir: str | Path) -> ApiDefinitions:
    root = Path(apidir)
    defs = ApiDefinitions()
    raw_texts: list[str] = []
    next_id = 1  # id 0 is never a message in VPP
    for path in _ordered_files(root):
        text = path.read_text()
        raw_texts.append(text.strip())
        api = json.loads(text)
        register_types(api)
        names: list[str] = []
        first = next_id
        for entry in api.get("messages", []):
            name = entry[0]
            if name in defs.ids:
                continue
            definition = entry[1:]
            crc = next(d["crc"] for d in definition if isinstance(d, dict) and "crc" in d)
            defs.messages[name] = build_message(name, definition)
            defs.crcs[name] = crc
            defs.ids[name] = next_id
            defs.by_id[next_id] = name
            names.append(name)
            next_id += 1
        defs.services.update(api.get("services", {}))
        defs.modules.append(
            ApiModule(
                name=_module_name(path, api),
                path=path,
                crc=str(api.get("vl_api_version", "0x0")),
                version=_version(api),
                first_msg_id=first,
                message_names=tuple(names),
            )
        )
    if defs.ids.get("sockclnt_create") != 15 or defs.ids.get("sockclnt_create_reply") != 16:
        raise ValueError("memclnt.api.json does not put sockclnt_create at id 15 as vpp_papi expects")
    # get_api_json answers with every module's JSON in one array, as VPP does.
    defs.json_array = "[" + ",".join(raw_texts) + "]"
    return defs
