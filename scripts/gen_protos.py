"""Regenerate the Python gRPC modules of every `<package>/api/*.proto`.

Protos are compiled from the repository root, so each file is registered in the
protobuf descriptor pool under its path (`cni/api/cni.proto`), never under a
bare name that another library could also use, and the generated modules import
each other as `<package>.api.<name>_pb2`.

    python scripts/gen_protos.py          # rewrite the generated modules
    python scripts/gen_protos.py --check  # exit 1 if any is out of date
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent


def proto_files() -> list[Path]:
    return sorted(p.relative_to(ROOT) for p in ROOT.glob("*/api/*.proto"))


def generate(out_dir: Path) -> None:
    for proto in proto_files():
        args = ["protoc", f"-I{ROOT}", f"--python_out={out_dir}", f"--grpc_python_out={out_dir}", str(proto)]
        if protoc.main(args) != 0:
            raise SystemExit(f"protoc failed on {proto}")


def generated_names(proto: Path) -> list[Path]:
    stem = proto.with_suffix("")
    return [Path(f"{stem}_pb2.py"), Path(f"{stem}_pb2_grpc.py")]


def main() -> int:
    check = "--check" in sys.argv[1:]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        generate(out)
        stale = []
        for proto in proto_files():
            for rel in generated_names(proto):
                fresh = (out / rel).read_text()
                current = ROOT / rel
                if not current.exists() or current.read_text() != fresh:
                    stale.append(str(rel))
                    if not check:
                        current.write_text(fresh)
    if check and stale:
        print("out of date (run python scripts/gen_protos.py):", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
