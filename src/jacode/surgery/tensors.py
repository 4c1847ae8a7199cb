"""Tensor-by-tensor reading and writing of safetensors model directories, with bounded memory.

safetensors' own `safe_open` memory-maps whole files, and every page touched stays in the process's resident set
while the file is mapped: merging three 16 GB models that way peaks near 48 GB of RSS. Here a tensor is read
with seek + read into a fresh buffer and dropped after use, and an output shard is written as it is computed
(its header, hence every tensor's offset, is known up front because outputs have the target's names, dtypes and
shapes). Peak memory is a few tensors, whatever the model size.

The format: 8-byte little-endian header length, a JSON header {name: {dtype, shape, data_offsets}, "__metadata__"},
then the raw little-endian tensor bytes.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path

import torch

from jacode.errors import JacodeError

DTYPES = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
          "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
          "BOOL": torch.bool}
NAMES = {v: k for k, v in DTYPES.items()}


@dataclass(frozen=True)
class TensorInfo:
    name: str
    file: Path
    dtype: str
    shape: tuple[int, ...]
    start: int  # absolute byte offset in the file
    end: int


def read_header(path: Path) -> tuple[dict, int]:
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
    return header, 8 + n


class ModelTensors:
    """The tensors of a HF model directory (single file or sharded with model.safetensors.index.json)."""

    def __init__(self, model_dir: str | Path):
        self.dir = Path(model_dir)
        index = self.dir / "model.safetensors.index.json"
        if index.exists():
            files = sorted(set(json.loads(index.read_text())["weight_map"].values()))
        elif (self.dir / "model.safetensors").exists():
            files = ["model.safetensors"]
        else:
            raise JacodeError(f"{self.dir}: no model.safetensors(.index.json) — not a safetensors HF model directory")
        self.files = [self.dir / f for f in files]
        self.infos: dict[str, TensorInfo] = {}
        self.metadata: dict[str, dict] = {}
        for path in self.files:
            header, base = read_header(path)
            self.metadata[path.name] = header.pop("__metadata__", {}) or {}
            for name, h in header.items():
                if h["dtype"] not in DTYPES:
                    raise JacodeError(f"{path}: tensor {name} has unsupported dtype {h['dtype']}")
                s, e = h["data_offsets"]
                self.infos[name] = TensorInfo(name, path, h["dtype"], tuple(h["shape"]), base + s, base + e)
        self._handles: dict[Path, object] = {}

    def __contains__(self, name: str) -> bool:
        return name in self.infos

    def names_by_file(self) -> dict[Path, list[str]]:
        out: dict[Path, list[str]] = {f: [] for f in self.files}
        for info in sorted(self.infos.values(), key=lambda i: (i.file, i.start)):
            out[info.file].append(info.name)
        return out

    def read(self, name: str) -> torch.Tensor:
        info = self.infos[name]
        f = self._handles.get(info.file)
        if f is None:
            f = self._handles[info.file] = open(info.file, "rb")  # noqa: SIM115 (closed in close())
        f.seek(info.start)
        buf = bytearray(info.end - info.start)
        if f.readinto(buf) != len(buf):
            raise JacodeError(f"{info.file}: truncated while reading tensor {name}")
        if not buf:
            return torch.empty(info.shape, dtype=DTYPES[info.dtype])
        return torch.frombuffer(buf, dtype=DTYPES[info.dtype]).reshape(info.shape)

    def close(self) -> None:
        for f in self._handles.values():
            f.close()
        self._handles.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class ShardWriter:
    """Writes one safetensors file whose tensors (name, dtype, shape) are declared first, then given in order."""

    def __init__(self, path: Path, entries: list[tuple[str, str, tuple[int, ...]]], metadata: dict | None = None):
        self.path = path
        header: dict = {"__metadata__": {str(k): str(v) for k, v in (metadata or {"format": "pt"}).items()}}
        offset = 0
        self.expected: list[tuple[str, str, tuple[int, ...]]] = []
        for name, dtype, shape in entries:
            size = torch.Size(shape).numel() * torch.empty((), dtype=DTYPES[dtype]).element_size()
            header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + size]}
            offset += size
            self.expected.append((name, dtype, tuple(shape)))
        raw = json.dumps(header, separators=(",", ":")).encode()
        raw += b" " * (-len(raw) % 8)  # keep tensor data 8-byte aligned, as safetensors does
        self.total = offset
        self.f = open(path, "wb")  # noqa: SIM115 (closed in close())
        self.f.write(struct.pack("<Q", len(raw)) + raw)
        self.next = 0

    def write(self, name: str, tensor: torch.Tensor) -> None:
        want_name, dtype, shape = self.expected[self.next]
        if name != want_name or NAMES.get(tensor.dtype) != dtype or tuple(tensor.shape) != shape:
            raise JacodeError(f"{self.path.name}: expected {want_name} {dtype} {shape}, got {name} "
                              f"{NAMES.get(tensor.dtype)} {tuple(tensor.shape)}")
        if tensor.numel():
            self.f.write(tensor.detach().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
        self.next += 1

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is None:
            self.close()
        else:  # an error part-way: release the file and leave no half-written shard that looks complete
            self.f.close()
            self.path.unlink(missing_ok=True)

    def close(self) -> None:
        self.f.close()
        if self.next != len(self.expected):
            missing = [n for n, _, _ in self.expected[self.next:]]
            raise JacodeError(f"{self.path}: {len(missing)} tensors never written (first: {missing[0]})")


def write_index(out_dir: Path, weight_map: dict[str, str], total_size: int) -> None:
    if len(set(weight_map.values())) > 1:
        (out_dir / "model.safetensors.index.json").write_text(json.dumps(
            {"metadata": {"total_size": total_size}, "weight_map": dict(sorted(weight_map.items()))}, indent=2))
