"""The ``.attnviz`` capture file: one self-describing file, readable lazily.

Layout
------
A ``.attnviz`` file **is a valid safetensors file** (any safetensors reader opens it):

* ``__metadata__["attnviz"]``: the manifest, a JSON string (``format``, ``format_version``,
  ``model_name``, ``architecture``, ``scale``, ``mask``, ``dtype``, ``n_layers``, ``n_heads``,
  ``n_kv_heads``, ``d_head``, ``n_tokens``, ``n_seqs``, ``layer_ids``, ``library_version``,
  ``extra``; optional ``n_query_rows``: Q was kept for sampled query positions only, the
  token rows whose ``has_query`` column is True).
* ``q.{i}``: queries of stored layer ``i``, ``[n_heads, n_query_rows or n_tokens, d_head]``
  (F16 or F32).
* ``k.{i}``: keys of stored layer ``i``, ``[n_kv_heads, n_tokens, d_head]``.
* ``vnorm.{i}``: F32 ``[n_heads, n_tokens]``, optional (``manifest["extra"]["value_norms"]``):
  the norm of each token's value vector per head (value-weighted attention); stored right
  after Q/K, so readers that do not know it still agree on the file size.
* ``image.{j}``: U8 ``[n_bytes]``, vision captures only: image ``j`` (sequence ``j``) as the
  model saw it, PNG-encoded; ``manifest["extra"]["n_images"]`` says how many. Stored between
  Q/K and the token table, so files written before images existed (and readers that do not
  know them) still agree on the file size.
* ``tokens.parquet``: U8 ``[n_bytes]``, the token table as a Parquet file, stored last.

Tensors are head-major so one head is one contiguous block: ``qk(layer, head)`` touches only
its own pages of the memory map. One file (not a directory) so that saving is atomic: we
write ``.<name>.tmp-*`` in the same directory, fsync it and ``os.replace`` it over the
target; a crash mid-write leaves the previous file untouched.

This module is the format: the layout (``tensor_plan``), the writer and the header
reader, which validates every field it relies on so that a damaged or foreign file ends in
``CaptureFileError`` naming the problem. ``file_store`` reads the data; ``loading.load``
opens files (and shards) as a ``Capture``.
"""

from __future__ import annotations

import io
import json
import struct
from collections.abc import Sequence
from contextlib import ExitStack
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .atomic import PathLike, atomic_path
from .errors import CaptureFileError

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "CaptureFileError",
    "CaptureWriter",
    "PathLike",
    "read_header",
    "tensor_plan",
    "value_norm_plan",
]

FORMAT = "attnviz"
FORMAT_VERSION = 1
ST_DTYPES = {"float16": "F16", "float32": "F32"}
NP_DTYPES = {"F16": np.float16, "F32": np.float32}
_MAX_HEADER = 100 * 1024 * 1024
#: manifest fields that size the tensors: non-negative integers
_COUNTS = ("n_layers", "n_heads", "n_kv_heads", "d_head", "n_tokens", "n_seqs")


def tensor_plan(manifest: dict[str, Any]) -> list[tuple[str, list[int]]]:
    """Names and shapes of the Q/K tensors, in on-disk order."""
    n, d = manifest["n_tokens"], manifest["d_head"]
    n_q = manifest.get("n_query_rows", n)  # captures with sampled query positions
    plan = []
    for i in range(manifest["n_layers"]):
        plan.append((f"q.{i}", [manifest["n_heads"], n_q, d]))
        plan.append((f"k.{i}", [manifest["n_kv_heads"], n, d]))
    return plan


def value_norm_plan(manifest: dict[str, Any]) -> list[tuple[str, list[int]]]:
    """Names and shapes of the optional value-norm tensors (empty for files without them)."""
    if not has_value_norms(manifest):
        return []
    shape = [manifest["n_heads"], manifest["n_tokens"]]
    return [(f"vnorm.{i}", shape) for i in range(manifest["n_layers"])]


def has_value_norms(manifest: dict[str, Any]) -> bool:
    """Whether the capture holds value-vector norms (``extra.value_norms``)."""
    return bool((manifest.get("extra") or {}).get("value_norms", False))


def itemsize(manifest: dict[str, Any]) -> int:
    """Bytes per stored Q/K value."""
    return np.dtype(NP_DTYPES[ST_DTYPES[manifest["dtype"]]]).itemsize


def n_images(manifest: dict[str, Any]) -> int:
    """Images stored with the capture (``extra.n_images``; 0 when absent)."""
    extra = manifest.get("extra") or {}
    return int(extra.get("n_images", 0) or 0)


def _tokens_to_parquet(tokens: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    tokens.reset_index(drop=True).to_parquet(buf, index=False)
    return buf.getvalue()


class CaptureWriter:
    """Writes one ``.attnviz`` file atomically, tensor blocks filled in any order.

    The token table and manifest are known before the model runs (tokenization comes first),
    so the whole file is laid out up front and Q/K rows are written into a memory map as
    batches arrive: memory stays bounded by one batch. Use as a context manager; leaving it
    with an exception deletes the temporary file and leaves ``path`` as it was.
    """

    def __init__(
        self,
        path: PathLike,
        manifest: dict[str, Any],
        tokens: pd.DataFrame,
        images: Sequence[bytes] | None = None,
    ) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise IsADirectoryError(f"{self.path} is a directory; give a file path ending .attnviz")
        images = list(images or [])
        # n_images always describes exactly the image tensors this file holds
        extra = {k: v for k, v in (manifest.get("extra") or {}).items() if k != "n_images"}
        if images:
            extra["n_images"] = len(images)
        manifest = {**manifest, "extra": extra}
        self.manifest = manifest
        st_dtype = ST_DTYPES[manifest["dtype"]]
        itemsize = np.dtype(NP_DTYPES[st_dtype]).itemsize
        tok_bytes = _tokens_to_parquet(tokens)
        header: dict[str, Any] = {"__metadata__": {FORMAT: json.dumps(manifest)}}
        offset = 0
        self._blocks: dict[str, tuple[int, list[int]]] = {}
        for name, shape in tensor_plan(manifest):
            size = int(np.prod(shape)) * itemsize
            header[name] = {
                "dtype": st_dtype,
                "shape": shape,
                "data_offsets": [offset, offset + size],
            }
            self._blocks[name] = (offset, shape)
            offset += size
        for name, shape in value_norm_plan(manifest):
            size = int(np.prod(shape)) * 4
            header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + size]}
            self._blocks[name] = (offset, shape)
            offset += size
        image_start = offset
        for j, png in enumerate(images):
            header[f"image.{j}"] = {
                "dtype": "U8",
                "shape": [len(png)],
                "data_offsets": [image_start, image_start + len(png)],
            }
            image_start += len(png)
        tok_start = image_start
        end = tok_start + len(tok_bytes)
        header["tokens.parquet"] = {
            "dtype": "U8",
            "shape": [len(tok_bytes)],
            "data_offsets": [tok_start, end],
        }
        raw = json.dumps(header).encode()
        raw += b" " * (-(len(raw) + 8) % 8)  # data start 8-aligned so F32 views are aligned
        self._data_start = 8 + len(raw)
        self._np_dtype = NP_DTYPES[st_dtype]
        # the temporary file beside path, renamed over it by commit() (see atomic.py)
        self._atomic = ExitStack()
        self._tmp = self._atomic.enter_context(atomic_path(self.path))
        try:
            with open(self._tmp, "wb") as f:
                f.write(struct.pack("<Q", len(raw)) + raw)
                f.truncate(self._data_start + end)  # sparse: zero blocks cost nothing until written
                f.seek(self._data_start + offset)
                for png in images:
                    f.write(png)
                f.write(tok_bytes)
            self._mm: np.memmap | None = (
                np.memmap(
                    self._tmp, dtype=np.uint8, mode="r+", offset=self._data_start, shape=(offset,)
                )
                if offset
                else None
            )
        except BaseException:
            self.abort()
            raise

    def block(self, name: str) -> np.ndarray:
        """Writable view of tensor ``name`` (e.g. ``"q.0"``), ``[heads, n_tokens, d_head]``."""
        start, shape = self._blocks[name]
        assert self._mm is not None
        dtype = np.float32 if name.startswith("vnorm.") else self._np_dtype
        size = int(np.prod(shape)) * np.dtype(dtype).itemsize
        return self._mm[start : start + size].view(dtype).reshape(shape)

    def write_value_norms(self, layer: int, norms: np.ndarray, row: int) -> None:
        """Write ``|v|`` ``[n_heads, n]`` of stored layer ``layer`` at token ``row``."""
        block = self.block(f"vnorm.{layer}")
        if norms.ndim != 2 or norms.shape[0] != block.shape[0]:
            raise ValueError(
                f"layer {layer}: value norms {norms.shape} do not fit [{block.shape[0]}, n]"
            )
        block[:, row : row + norms.shape[1]] = norms

    def write_rows(
        self, layer: int, q: np.ndarray, k: np.ndarray, row: int, q_row: int | None = None
    ) -> None:
        """Write ``q [n_heads, n_q, d_head]`` at query row ``q_row`` (default ``row``) and
        ``k [n_kv_heads, n, d_head]`` at token ``row``; ``n_q == n`` unless the capture
        keeps sampled query positions only (manifest ``n_query_rows``)."""
        m = self.manifest
        sampled = "n_query_rows" in m
        q_row = row if q_row is None else q_row
        want_q = (m["n_heads"], q.shape[1] if q.ndim == 3 else -1, m["d_head"])
        n_k = k.shape[1] if sampled and k.ndim == 3 else want_q[1]
        want_k = (m["n_kv_heads"], n_k, m["d_head"])
        if q.shape != want_q or k.shape != want_k:  # numpy would broadcast a wrong head count
            raise ValueError(
                f"layer {layer}: queries {q.shape} / keys {k.shape} do not fit this file "
                f"(expected [{m['n_heads']}, n, {m['d_head']}] / [{m['n_kv_heads']}, n, "
                f"{m['d_head']}] with the same n)"
            )
        for name, start, n, total in (
            ("token", row, k.shape[1], m["n_tokens"]),
            ("query", q_row, q.shape[1], m.get("n_query_rows", m["n_tokens"])),
        ):
            if not 0 <= start <= start + n <= total:
                raise ValueError(
                    f"layer {layer}: {name} rows {start}..{start + n - 1} are outside "
                    f"0..{total - 1}"
                )
        self.block(f"q.{layer}")[:, q_row : q_row + q.shape[1]] = q
        self.block(f"k.{layer}")[:, row : row + k.shape[1]] = k

    def commit(self) -> None:
        """Flush, fsync and move the finished file over ``path`` (atomic on POSIX)."""
        if self._mm is not None:
            self._mm.flush()
            del self._mm
            self._mm = None
        self._atomic.close()  # fsync, os.replace, fsync of the folder

    def abort(self) -> None:
        """Drop the temporary file; ``path`` is left exactly as it was."""
        self._mm = None
        aborted = RuntimeError("capture write aborted")
        self._atomic.__exit__(type(aborted), aborted, None)  # deletes the temporary file

    def __enter__(self) -> CaptureWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()


def _parse_header(path: Path, raw: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """The JSON header and the manifest inside it, or CaptureFileError."""
    try:
        header = json.loads(raw)
        manifest = json.loads(header["__metadata__"][FORMAT])
    except (ValueError, KeyError, TypeError, RecursionError) as e:
        raise CaptureFileError(
            f"{path}: not an .attnviz file (no attentionviz manifest in the header: {e!r})"
        ) from e
    if not isinstance(manifest, dict):
        raise CaptureFileError(f"{path}: the manifest is not a JSON object")
    return header, manifest


def _check_manifest(path: Path, manifest: dict[str, Any]) -> None:
    """Every manifest field the reader relies on, with its type; else CaptureFileError."""
    if manifest.get("format") != FORMAT:
        raise CaptureFileError(
            f"{path}: manifest format is {manifest.get('format')!r}, not 'attnviz'"
        )
    version = manifest.get("format_version", 0)
    if not isinstance(version, int):
        raise CaptureFileError(f"{path}: manifest format_version is {version!r}, not an integer")
    if version > FORMAT_VERSION:
        raise CaptureFileError(
            f"{path}: format version {version} is newer than this attentionviz "
            f"reads ({FORMAT_VERSION}); upgrade attentionviz"
        )
    for field in (*_COUNTS, "dtype", "scale", "mask", "layer_ids"):
        if field not in manifest:
            raise CaptureFileError(f"{path}: manifest is missing field {field!r}")
    for field in _COUNTS:
        value = manifest[field]
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise CaptureFileError(f"{path}: manifest {field} is {value!r}, not a count")
    if manifest["dtype"] not in ST_DTYPES:
        raise CaptureFileError(f"{path}: manifest dtype {manifest['dtype']!r} is not float16/32")
    if manifest["mask"] not in ("causal", "bidirectional"):
        raise CaptureFileError(f"{path}: manifest mask {manifest['mask']!r} is not a mask kind")
    scale = manifest["scale"]
    if not isinstance(scale, (int, float)) or isinstance(scale, bool) or not scale > 0:
        raise CaptureFileError(f"{path}: manifest scale {scale!r} is not a positive number")
    heads, kv = manifest["n_heads"], manifest["n_kv_heads"]
    if kv == 0 or heads % kv:
        raise CaptureFileError(
            f"{path}: manifest n_heads={heads} is not a multiple of n_kv_heads={kv}"
        )
    n_q = manifest.get("n_query_rows", manifest["n_tokens"])
    if not isinstance(n_q, int) or isinstance(n_q, bool) or not 0 <= n_q <= manifest["n_tokens"]:
        raise CaptureFileError(f"{path}: manifest n_query_rows is {n_q!r}, not a count <= n_tokens")
    ids = manifest["layer_ids"]
    if not isinstance(ids, list) or len(ids) != manifest["n_layers"]:
        raise CaptureFileError(f"{path}: manifest layer_ids does not list {manifest['n_layers']}")
    extra = manifest.get("extra", {})
    images = extra.get("n_images", 0) if isinstance(extra, dict) else None
    if not isinstance(images, int) or isinstance(images, bool) or images < 0:
        raise CaptureFileError(f"{path}: manifest extra.n_images is {images!r}, not a count")
    if not isinstance(extra.get("value_norms", False), bool):
        raise CaptureFileError(f"{path}: manifest extra.value_norms is not true/false")


def _tensor_span(
    path: Path, header: dict[str, Any], name: str, shape: list[int] | None, dtype: str
) -> tuple[int, int]:
    """``data_offsets`` of tensor ``name`` after checking its entry against the manifest."""
    info = header.get(name)
    if not isinstance(info, dict):
        raise CaptureFileError(f"{path}: tensor {name!r} is missing from the header")
    if shape is not None and info.get("shape") != shape:
        raise CaptureFileError(
            f"{path}: tensor {name!r} has shape {info.get('shape')}, manifest implies {shape}"
        )
    if info.get("dtype") != dtype:
        raise CaptureFileError(
            f"{path}: tensor {name!r} has dtype {info.get('dtype')!r}, not {dtype}"
        )
    offsets, dims = info.get("data_offsets"), info.get("shape")
    ints = isinstance(offsets, list) and len(offsets) == 2 and isinstance(dims, list)
    ints = ints and all(type(v) is int and v >= 0 for v in (*offsets, *dims))  # type: ignore[misc]
    if not ints:
        raise CaptureFileError(f"{path}: tensor {name!r} has unreadable shape or data_offsets")
    start, end = offsets  # type: ignore[misc]
    width = np.dtype(NP_DTYPES[dtype]).itemsize if dtype in NP_DTYPES else 1
    if end - start != int(np.prod(dims, dtype=np.int64)) * width:
        raise CaptureFileError(
            f"{path}: tensor {name!r} spans {end - start} bytes, its shape {dims} needs "
            f"{int(np.prod(dims, dtype=np.int64)) * width}"
        )
    return start, end


def read_header(path: Path) -> tuple[dict[str, Any], dict[str, Any], int]:
    """Parse and validate the header of ``path``; returns (manifest, header, data_start).

    Checks every field the readers use, so reading a head or the token table later can only
    fail on the data itself (CaptureFileError there too)."""
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such capture file")
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise CaptureFileError(f"{path}: not an .attnviz file ({size} bytes, too short)")
        (n,) = struct.unpack("<Q", head)
        if n > min(size - 8, _MAX_HEADER):
            raise CaptureFileError(
                f"{path}: not an .attnviz file (header length field {n} does not fit a "
                f"{size}-byte file; the file is truncated or foreign)"
            )
        raw = f.read(n)
    header, manifest = _parse_header(path, raw)
    _check_manifest(path, manifest)
    data_start = 8 + n
    stored = ST_DTYPES[manifest["dtype"]]
    spans = [
        _tensor_span(path, header, name, shape, stored) for name, shape in tensor_plan(manifest)
    ]
    spans += [
        _tensor_span(path, header, name, shape, "F32") for name, shape in value_norm_plan(manifest)
    ]
    spans += [
        _tensor_span(path, header, name, None, "U8")
        for name in [*(f"image.{j}" for j in range(n_images(manifest))), "tokens.parquet"]
    ]
    end = max(b for _, b in spans)
    if data_start + end != size:
        raise CaptureFileError(
            f"{path}: truncated or corrupt: header describes {data_start + end} bytes, "
            f"the file has {size}"
        )
    ordered = sorted(spans)
    for (_, b), (a, _) in pairwise(ordered):
        if a < b:
            raise CaptureFileError(f"{path}: corrupt header: two tensors overlap in the file")
    return manifest, header, data_start
