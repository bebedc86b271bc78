"""The ``.attnviz`` capture file: one self-describing file, readable lazily.

Layout
------
A ``.attnviz`` file **is a valid safetensors file** (any safetensors reader opens it):

* ``__metadata__["attnviz"]``: the manifest, a JSON string (``format``, ``format_version``,
  ``model_name``, ``architecture``, ``scale``, ``mask``, ``dtype``, ``n_layers``, ``n_heads``,
  ``n_kv_heads``, ``d_head``, ``n_tokens``, ``n_seqs``, ``layer_ids``, ``library_version``,
  ``extra``).
* ``q.{i}``: queries of stored layer ``i``, ``[n_heads, n_tokens, d_head]`` (F16 or F32).
* ``k.{i}``: keys of stored layer ``i``, ``[n_kv_heads, n_tokens, d_head]``.
* ``image.{j}``: U8 ``[n_bytes]``, vision captures only: image ``j`` (sequence ``j``) as the
  model saw it, PNG-encoded; ``manifest["extra"]["n_images"]`` says how many. Stored between
  Q/K and the token table, so files written before images existed (and readers that do not
  know them) still agree on the file size.
* ``tokens.parquet``: U8 ``[n_bytes]``, the token table as a Parquet file, stored last.

Tensors are head-major so one head is one contiguous block: ``qk(layer, head)`` touches only
its own pages of the memory map. One file (not a directory) so that saving is atomic: we
write ``.<name>.tmp-*`` in the same directory, fsync it and ``os.replace`` it over the
target; a crash mid-write leaves the previous file untouched.

Sharded captures: ``load([a, b, ...])`` or ``load(directory)`` (every ``*.attnviz`` file in
the directory, sorted by name) opens several files as one capture; sequence numbers are
renumbered so that shard ``j``'s sequences follow shard ``j-1``'s.
"""

from __future__ import annotations

import io
import json
import os
import struct
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

if TYPE_CHECKING:
    from .capture import Capture

FORMAT = "attnviz"
FORMAT_VERSION = 1
_ST_DTYPES = {"float16": "F16", "float32": "F32"}
_NP_DTYPES = {"F16": np.float16, "F32": np.float32}
_MAX_HEADER = 100 * 1024 * 1024
_CHUNK_BYTES = 4 << 20  # stored bytes converted at a time when a head is read as another dtype
# Manifest fields every shard of one capture must agree on.
_SHARED_FIELDS = (
    "model_name",
    "architecture",
    "scale",
    "mask",
    "dtype",
    "n_layers",
    "n_heads",
    "n_kv_heads",
    "d_head",
    "layer_ids",
)

PathLike = str | os.PathLike[str]


class CaptureFileError(ValueError):
    """A file is not a readable ``.attnviz`` capture (truncated, foreign, or inconsistent)."""


def _tensor_plan(manifest: dict[str, Any]) -> list[tuple[str, list[int]]]:
    """Names and shapes of the Q/K tensors, in on-disk order."""
    n, d = manifest["n_tokens"], manifest["d_head"]
    plan = []
    for i in range(manifest["n_layers"]):
        plan.append((f"q.{i}", [manifest["n_heads"], n, d]))
        plan.append((f"k.{i}", [manifest["n_kv_heads"], n, d]))
    return plan


def _itemsize(manifest: dict[str, Any]) -> int:
    return np.dtype(_NP_DTYPES[_ST_DTYPES[manifest["dtype"]]]).itemsize


def _n_images(manifest: dict[str, Any]) -> int:
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
        st_dtype = _ST_DTYPES[manifest["dtype"]]
        itemsize = np.dtype(_NP_DTYPES[st_dtype]).itemsize
        tok_bytes = _tokens_to_parquet(tokens)
        header: dict[str, Any] = {"__metadata__": {FORMAT: json.dumps(manifest)}}
        offset = 0
        self._blocks: dict[str, tuple[int, list[int]]] = {}
        for name, shape in _tensor_plan(manifest):
            size = int(np.prod(shape)) * itemsize
            header[name] = {
                "dtype": st_dtype,
                "shape": shape,
                "data_offsets": [offset, offset + size],
            }
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
        self._np_dtype = _NP_DTYPES[st_dtype]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.tmp-", dir=self.path.parent)
        self._tmp = Path(tmp)
        try:
            with os.fdopen(fd, "wb") as f:
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
            self._tmp.unlink(missing_ok=True)
            raise

    def block(self, name: str) -> np.ndarray:
        """Writable view of tensor ``name`` (e.g. ``"q.0"``), ``[heads, n_tokens, d_head]``."""
        start, shape = self._blocks[name]
        assert self._mm is not None
        size = int(np.prod(shape)) * np.dtype(self._np_dtype).itemsize
        return self._mm[start : start + size].view(self._np_dtype).reshape(shape)

    def write_rows(self, layer: int, q: np.ndarray, k: np.ndarray, row: int) -> None:
        """Write ``q [n_heads, n, d_head]`` and ``k [n_kv_heads, n, d_head]`` at token ``row``."""
        m = self.manifest
        want_q = (m["n_heads"], q.shape[1] if q.ndim == 3 else -1, m["d_head"])
        want_k = (m["n_kv_heads"], q.shape[1] if q.ndim == 3 else -1, m["d_head"])
        if q.shape != want_q or k.shape != want_k:  # numpy would broadcast a wrong head count
            raise ValueError(
                f"layer {layer}: queries {q.shape} / keys {k.shape} do not fit this file "
                f"(expected [{m['n_heads']}, n, {m['d_head']}] / [{m['n_kv_heads']}, n, "
                f"{m['d_head']}] with the same n)"
            )
        if not 0 <= row <= row + q.shape[1] <= m["n_tokens"]:
            raise ValueError(
                f"layer {layer}: token rows {row}..{row + q.shape[1] - 1} are outside "
                f"0..{m['n_tokens'] - 1}"
            )
        self.block(f"q.{layer}")[:, row : row + q.shape[1]] = q
        self.block(f"k.{layer}")[:, row : row + k.shape[1]] = k

    def commit(self) -> None:
        """Flush, fsync and move the finished file over ``path`` (atomic on POSIX)."""
        if self._mm is not None:
            self._mm.flush()
            del self._mm
            self._mm = None
        with open(self._tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(self._tmp, self.path)
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)  # make the rename itself durable
        finally:
            os.close(dir_fd)

    def abort(self) -> None:
        """Drop the temporary file; ``path`` is left exactly as it was."""
        self._mm = None
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> CaptureWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()


class FileStore:
    """Lazy reader for one ``.attnviz`` file: the header is parsed, nothing else is read.

    ``q(layer)`` / ``k(layer)`` return read-only memory-mapped views
    ``[n_heads or n_kv_heads, n_tokens, d_head]``; pages load only when touched.
    ``head`` / ``head_bytes`` read one head with ``read()`` instead, into a fresh array or
    bytes: the process then holds that copy only, not also the touched pages of the map
    (which would stay resident, one head's worth per head viewed).
    """

    #: ``head`` returns a fresh array the caller owns (``Capture.qk`` need not copy it).
    heads_are_copies = True

    def __init__(self, path: PathLike) -> None:
        self.path = Path(path)
        self.manifest, self._header, self._data_start = _read_header(self.path)
        self._mm: np.memmap | None = None
        self._tokens: pd.DataFrame | None = None

    @property
    def n_tokens(self) -> int:
        return int(self.manifest["n_tokens"])

    @property
    def tokens_loaded(self) -> bool:
        """Whether ``tokens()`` has read its DataFrame already."""
        return self._tokens is not None

    def _view(self, name: str) -> np.ndarray:
        if self._mm is None:
            self._mm = np.memmap(self.path, dtype=np.uint8, mode="r")
        info = self._header[name]
        a, b = info["data_offsets"]
        raw = self._mm[self._data_start + a : self._data_start + b]
        return raw.view(_NP_DTYPES[info["dtype"]]).reshape(info["shape"])

    def q(self, layer: int) -> np.ndarray:
        return self._view(f"q.{layer}")

    def k(self, layer: int) -> np.ndarray:
        return self._view(f"k.{layer}")

    def _head_span(
        self, kind: str, layer: int, index: int, rows: int | None
    ) -> tuple[int, list[int], np.dtype]:
        """File offset, shape and dtype of the first ``rows`` rows of one Q or K head."""
        info = self._header[f"{kind}.{layer}"]
        heads, n, d = info["shape"]
        if not 0 <= index < heads:
            raise IndexError(f"{kind}.{layer} has heads 0..{heads - 1}, not {index}")
        dtype = np.dtype(_NP_DTYPES[info["dtype"]]).newbyteorder("<")
        n_rows = n if rows is None else max(0, min(int(rows), n))
        offset = self._data_start + info["data_offsets"][0] + index * n * d * dtype.itemsize
        return offset, [n_rows, d], dtype

    def head(
        self, kind: str, layer: int, index: int, rows: int | None, dtype: Any = None
    ) -> np.ndarray:
        """The first ``rows`` rows (all when None) of one Q or K head, read into a fresh
        array ``[rows, d_head]`` of ``dtype`` (default: the stored one; another dtype is
        converted a few MB at a time, so no stored-dtype copy of the whole head is made)."""
        offset, shape, stored = self._head_span(kind, layer, index, rows)
        out = np.empty(shape, dtype=stored if dtype is None else dtype)
        with open(self.path, "rb", buffering=0) as f:
            f.seek(offset)
            if out.dtype == stored:
                self._read_into(f, out, f"{kind}.{layer}")
                return out
            step = max(1, _CHUNK_BYTES // max(1, shape[1] * stored.itemsize))
            block = np.empty((min(step, shape[0]), shape[1]), dtype=stored)
            for start in range(0, shape[0], step):
                part = block[: min(step, shape[0] - start)]
                self._read_into(f, part, f"{kind}.{layer}")
                out[start : start + len(part)] = part
        return out

    def _read_into(self, f: Any, out: np.ndarray, name: str) -> None:
        """Fill the contiguous array ``out`` with the next bytes of the open file ``f``."""
        view = memoryview(out.reshape(-1).view(np.uint8))
        done = 0
        while done < len(view):
            got = f.readinto(view[done:])
            if not got:
                raise CaptureFileError(f"{self.path}: file ends inside {name}")
            done += got

    def head_bytes(self, kind: str, layer: int, index: int, rows: int | None) -> bytes:
        """The same rows as ``head`` as little-endian bytes of the stored dtype (what the view
        receives when it asks for that dtype): one read, no other copy."""
        offset, shape, dtype = self._head_span(kind, layer, index, rows)
        size = shape[0] * shape[1] * dtype.itemsize
        with open(self.path, "rb") as f:
            f.seek(offset)
            data = f.read(size)
        if len(data) != size:
            raise CaptureFileError(f"{self.path}: file ends inside {kind}.{layer}")
        return data

    def images(self) -> list[bytes]:
        """PNG bytes of the stored images (vision captures; empty otherwise)."""
        return [self.image_png(j) for j in range(_n_images(self.manifest))]

    def image_png(self, j: int) -> bytes:
        """PNG bytes of image ``j`` alone (read from the file on demand)."""
        a, b = self._header[f"image.{j}"]["data_offsets"]
        with open(self.path, "rb") as f:
            f.seek(self._data_start + a)
            return f.read(b - a)

    def _parquet(self) -> bytes:
        a, b = self._header["tokens.parquet"]["data_offsets"]
        with open(self.path, "rb") as f:
            f.seek(self._data_start + a)
            return f.read(b - a)

    def _read_tokens(self, read: Callable[[io.BytesIO], Any], raw: bytes | None = None) -> Any:
        """``read`` applied to the token table's Parquet; corrupt data or a row count that
        is not the manifest's raises ``CaptureFileError``."""
        try:
            table = read(io.BytesIO(self._parquet() if raw is None else raw))
        except Exception as e:  # pyarrow raises several types for corrupt data
            raise CaptureFileError(f"{self.path}: token table is corrupt ({e})") from e
        if len(table) != self.n_tokens:
            raise CaptureFileError(
                f"{self.path}: token table has {len(table)} rows, "
                f"manifest says {self.n_tokens} tokens"
            )
        return table

    def tokens(self) -> pd.DataFrame:
        if self._tokens is None:
            self._tokens = self._read_tokens(pd.read_parquet)
        return self._tokens

    def tokens_arrow(self, columns: Sequence[str] | None = None) -> pa.Table:
        """The token table (or some ``columns``) as an Arrow table read from the Parquet,
        never through pandas; not kept (``tokens()`` keeps its DataFrame)."""
        return self._read_tokens(lambda f: pq.read_table(f, columns=columns))

    def tokens_ipc(self) -> bytes:
        """``tokens_to_arrow(self.tokens())`` (what the view receives), built from the
        Parquet without the DataFrame unless it is loaded already."""
        from ._arrow import columns_to_ipc, sent_columns, tokens_to_arrow  # (loads alone)

        if self._tokens is not None:
            return tokens_to_arrow(self._tokens)
        raw = self._parquet()
        columns = sent_columns(  # the table read here is freed once its columns are taken
            self._read_tokens(pq.read_table, raw),
            lambda names: self._read_tokens(lambda f: pd.read_parquet(f, columns=names), raw),
        )
        return columns_to_ipc(columns)


class ShardedStore:
    """Several ``FileStore`` shards seen as one capture (rows concatenated in shard order)."""

    def __init__(self, shards: list[FileStore]) -> None:
        first = shards[0].manifest
        for s in shards[1:]:
            for field in _SHARED_FIELDS:
                if s.manifest.get(field) != first.get(field):
                    raise CaptureFileError(
                        f"shards disagree on {field!r}: {shards[0].path} has {first.get(field)!r}, "
                        f"{s.path} has {s.manifest.get(field)!r}; they are not one capture"
                    )
        self.shards = shards
        self.manifest = dict(first)
        self.manifest["n_tokens"] = sum(s.n_tokens for s in shards)
        self.manifest["n_seqs"] = sum(int(s.manifest["n_seqs"]) for s in shards)
        extra = {k: v for k, v in (first.get("extra") or {}).items() if k != "n_images"}
        if all(_n_images(s.manifest) == int(s.manifest["n_seqs"]) for s in shards):
            extra["n_images"] = sum(_n_images(s.manifest) for s in shards)
        self.manifest["extra"] = extra
        self._tokens: pd.DataFrame | None = None

    #: ``head`` returns a fresh array (each shard's rows read into their place).
    heads_are_copies = True

    @property
    def n_tokens(self) -> int:
        return int(self.manifest["n_tokens"])

    @property
    def tokens_loaded(self) -> bool:
        """Whether ``tokens()`` has built its DataFrame already."""
        return self._tokens is not None

    def q(self, layer: int) -> np.ndarray:
        return np.concatenate([s.q(layer) for s in self.shards], axis=1)

    def k(self, layer: int) -> np.ndarray:
        return np.concatenate([s.k(layer) for s in self.shards], axis=1)

    def head(
        self, kind: str, layer: int, index: int, rows: int | None, dtype: Any = None
    ) -> np.ndarray:
        """One head's first ``rows`` rows across shards (fresh array of ``dtype``, default
        the stored one), reading only the shards needed (never a whole layer of every head,
        as ``q``/``k`` do) straight into their place."""
        n_rows = self.n_tokens if rows is None else max(0, min(int(rows), self.n_tokens))
        stored = _NP_DTYPES[_ST_DTYPES[self.manifest["dtype"]]]
        out = np.empty((n_rows, int(self.manifest["d_head"])), stored if dtype is None else dtype)
        start = 0
        for s in self.shards:
            if start >= n_rows:
                break
            part = s.head(kind, layer, index, n_rows - start, out.dtype)
            out[start : start + len(part)] = part
            start += len(part)
        return out

    def head_bytes(self, kind: str, layer: int, index: int, rows: int | None) -> bytes:
        """``head``'s rows as little-endian bytes of the stored dtype (see FileStore)."""
        parts, left = [], self.n_tokens if rows is None else rows
        for s in self.shards:
            part = s.head_bytes(kind, layer, index, left)
            parts.append(part)
            left -= len(part) // (int(self.manifest["d_head"]) * _itemsize(self.manifest))
            if left <= 0:
                break
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def images(self) -> list[bytes]:
        """Images of every shard in shard order (image j is sequence j), when all have them."""
        if not _n_images(self.manifest):
            return []
        return [png for s in self.shards for png in s.images()]

    def image_png(self, j: int) -> bytes:
        """PNG bytes of image ``j`` (global sequence number) from the shard that holds it."""
        for s in self.shards:
            if j < int(s.manifest["n_seqs"]):
                return s.image_png(j)
            j -= int(s.manifest["n_seqs"])
        raise IndexError(f"image {j} is beyond the last shard")

    def tokens(self) -> pd.DataFrame:
        if self._tokens is None:
            parts, offset = [], 0
            for s in self.shards:
                t = s.tokens().copy()
                t["seq"] = t["seq"] + offset  # shard-local sequence numbers -> global
                offset += int(s.manifest["n_seqs"])
                parts.append(t)
            self._tokens = pd.concat(parts, ignore_index=True)
        return self._tokens

    def tokens_arrow(self, columns: Sequence[str] | None = None) -> pa.Table | None:
        """The token table (or some ``columns``) as one Arrow table, ``seq`` renumbered as in
        ``tokens()``; None when the shards' schemas differ (then only pandas can say what
        their concatenation is)."""
        offset, parts = 0, []
        for s in self.shards:
            table = s.tokens_arrow(columns)
            if "seq" in table.column_names:
                seq = table.column("seq")
                renumbered = pc.add(seq, pa.scalar(offset, seq.type))
                table = table.set_column(table.column_names.index("seq"), "seq", renumbered)
            offset += int(s.manifest["n_seqs"])
            parts.append(table.replace_schema_metadata(None))
        if any(not p.schema.equals(parts[0].schema) for p in parts[1:]):
            return None
        return pa.concat_tables(parts)

    def tokens_ipc(self) -> bytes:
        """``tokens_to_arrow(self.tokens())``, from the shards' Parquet (see
        ``_arrow.sent_columns``; columns only pandas can convert are read alone, shard by
        shard), without the DataFrame unless it is loaded already."""
        from ._arrow import columns_to_ipc, sent_columns, tokens_to_arrow

        table = None if self._tokens is not None else self.tokens_arrow()
        if table is None:
            return tokens_to_arrow(self.tokens())
        columns = sent_columns(table, self._tokens_frame)
        del table
        return columns_to_ipc(columns)

    def _tokens_frame(self, names: Sequence[str]) -> pd.DataFrame:
        """``self.tokens()[names]``, read column by column from the shards."""
        parts, offset = [], 0
        for s in self.shards:
            part = s._read_tokens(lambda f: pd.read_parquet(f, columns=list(names)))
            if "seq" in part.columns:
                part["seq"] = part["seq"] + offset
            offset += int(s.manifest["n_seqs"])
            parts.append(part)
        return pd.concat(parts, ignore_index=True)


def _read_header(path: Path) -> tuple[dict[str, Any], dict[str, Any], int]:
    """Parse and validate the header of ``path``; returns (manifest, header, data_start)."""
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
    try:
        header = json.loads(raw)
        manifest = json.loads(header["__metadata__"][FORMAT])
    except (ValueError, KeyError, TypeError) as e:
        raise CaptureFileError(
            f"{path}: not an .attnviz file (no attentionviz manifest in the header: {e!r})"
        ) from e
    if manifest.get("format") != FORMAT:
        raise CaptureFileError(
            f"{path}: manifest format is {manifest.get('format')!r}, not 'attnviz'"
        )
    if manifest.get("format_version", 0) > FORMAT_VERSION:
        raise CaptureFileError(
            f"{path}: format version {manifest['format_version']} is newer than this attentionviz "
            f"reads ({FORMAT_VERSION}); upgrade attentionviz"
        )
    data_start = 8 + n
    end = 0
    try:
        images = [(f"image.{j}", None) for j in range(_n_images(manifest))]
        expected = [*_tensor_plan(manifest), *images, ("tokens.parquet", None)]
        for name, shape in expected:
            info = header.get(name)
            if info is None:
                raise CaptureFileError(f"{path}: tensor {name!r} is missing from the header")
            if shape is not None and list(info["shape"]) != shape:
                raise CaptureFileError(
                    f"{path}: tensor {name!r} has shape {info['shape']}, manifest implies {shape}"
                )
            end = max(end, int(info["data_offsets"][1]))
    except KeyError as e:
        raise CaptureFileError(f"{path}: manifest is missing field {e}") from e
    if data_start + end != size:
        raise CaptureFileError(
            f"{path}: truncated or corrupt: header describes {data_start + end} bytes, "
            f"the file has {size}"
        )
    return manifest, header, data_start


def load(path: PathLike | Sequence[PathLike]) -> Capture:
    """Open a capture lazily: a ``.attnviz`` file, a list of shard files, or a directory of them.

    Only headers are read here; Q/K are memory-mapped and read on ``qk()``, the token table
    on first access of ``.tokens``. Raises ``CaptureFileError`` for truncated/foreign files.
    """
    from .capture import Capture

    if isinstance(path, (str, os.PathLike)):
        p = Path(path)
        if p.is_dir():
            files = sorted(p.glob("*.attnviz"))
            if not files:
                raise CaptureFileError(f"{p}: directory holds no *.attnviz shard files")
            paths: list[Path] = files
        else:
            return Capture._from_store(FileStore(p))
    else:
        paths = [Path(x) for x in path]
        if not paths:
            raise ValueError("load() got an empty list of shard paths")
    shards = [FileStore(x) for x in paths]
    if len(shards) == 1:
        return Capture._from_store(shards[0])
    return Capture._from_store(ShardedStore(shards))
