"""Reading ``.attnviz`` files: ``FileStore`` (one file, lazily: the header is parsed, the
data read on demand) and ``ShardedStore`` (several files seen as one capture). Both follow
``store.CaptureStore``.

Sharded captures: ``load([a, b, ...])`` or ``load(directory)`` (every ``*.attnviz`` file in
the directory, sorted by name) opens several files as one capture; sequence numbers are
renumbered so that shard ``j``'s sequences follow shard ``j-1``'s.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .arrow import columns_to_ipc, sent_columns, tokens_to_arrow
from .attnviz_file import (
    NP_DTYPES,
    ST_DTYPES,
    PathLike,
    has_value_norms,
    itemsize,
    n_images,
    read_header,
)
from .errors import CaptureFileError

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


def _validate(table: pa.Table | pd.DataFrame) -> None:
    """Full Arrow validation (e.g. UTF-8 of every string) of what was read: Parquet pages
    carry no checksum pyarrow checks, and pandas keeps strings as Arrow data until used, so
    a damaged byte would otherwise surface later, anywhere, as an ArrowException."""
    if isinstance(table, pa.Table):
        table.validate(full=True)
        return
    for name in table.columns:
        values = table[name].array
        if hasattr(values, "__arrow_array__"):  # Arrow-backed (pandas 3 strings): no copy
            pa.array(values).validate(full=True)


class FileStore:
    """Lazy reader for one ``.attnviz`` file: the header is parsed, nothing else is read.

    ``q(layer)`` / ``k(layer)`` return read-only memory-mapped views
    ``[n_heads or n_kv_heads, n_tokens, d_head]``; pages load only when touched.
    ``head`` / ``head_bytes`` read one head with ``read()`` instead, into a fresh array or
    bytes: the process then holds that copy only, not also the touched pages of the map
    (which would stay resident, one head's worth per head viewed).
    """

    def __init__(self, path: PathLike) -> None:
        self.path = Path(path)
        self.manifest, self._header, self._data_start = read_header(self.path)
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
        return raw.view(NP_DTYPES[info["dtype"]]).reshape(info["shape"])

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
        dtype = np.dtype(NP_DTYPES[info["dtype"]]).newbyteorder("<")
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

    def value_norms(self, layer: int) -> np.ndarray | None:
        """``|v|`` ``[n_heads, n_tokens]`` of stored layer ``layer`` (a fresh float32 array
        read from the file), or None for files written without value norms."""
        if not has_value_norms(self.manifest):
            return None
        return np.array(self._view(f"vnorm.{layer}"), dtype=np.float32)

    def images(self) -> list[bytes]:
        """PNG bytes of the stored images (vision captures; empty otherwise)."""
        return [self.image_png(j) for j in range(n_images(self.manifest))]

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

    def read_tokens(self, read: Callable[[io.BytesIO], Any], raw: bytes | None = None) -> Any:
        """``read`` applied to the token table's Parquet; corrupt data or a row count that
        is not the manifest's raises ``CaptureFileError``."""
        try:
            table = read(io.BytesIO(self._parquet() if raw is None else raw))
            _validate(table)
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
            table = self.read_tokens(pd.read_parquet)
            missing = [c for c in ("text", "seq") if c not in table.columns]
            if missing:
                raise CaptureFileError(f"{self.path}: token table lacks column(s) {missing}")
            if not pd.api.types.is_integer_dtype(table["seq"]):
                raise CaptureFileError(f"{self.path}: token column 'seq' is not integers")
            self._tokens = table
        return self._tokens

    def tokens_arrow(self, columns: Sequence[str] | None = None) -> pa.Table:
        """The token table (or some ``columns``) as an Arrow table read from the Parquet,
        never through pandas; not kept (``tokens()`` keeps its DataFrame)."""
        return self.read_tokens(lambda f: pq.read_table(f, columns=columns))

    def tokens_ipc(self) -> bytes:
        """``tokens_to_arrow(self.tokens())`` (what the view receives), built from the
        Parquet without the DataFrame unless it is loaded already."""
        if self._tokens is not None:
            return tokens_to_arrow(self._tokens)
        raw = self._parquet()
        columns = sent_columns(  # the table read here is freed once its columns are taken
            self.read_tokens(pq.read_table, raw),
            lambda names: self.read_tokens(lambda f: pd.read_parquet(f, columns=names), raw),
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
        if all(n_images(s.manifest) == int(s.manifest["n_seqs"]) for s in shards):
            extra["n_images"] = sum(n_images(s.manifest) for s in shards)
        extra["value_norms"] = all(has_value_norms(s.manifest) for s in shards)
        self.manifest["extra"] = extra
        self._tokens: pd.DataFrame | None = None

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
        stored = NP_DTYPES[ST_DTYPES[self.manifest["dtype"]]]
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
            left -= len(part) // (int(self.manifest["d_head"]) * itemsize(self.manifest))
            if left <= 0:
                break
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def value_norms(self, layer: int) -> np.ndarray | None:
        """``|v|`` of every shard's tokens, in shard order; None unless all shards have them."""
        if not has_value_norms(self.manifest):
            return None
        parts = [s.value_norms(layer) for s in self.shards]
        return np.concatenate(parts, axis=1)  # type: ignore[arg-type]

    def images(self) -> list[bytes]:
        """Images of every shard in shard order (image j is sequence j), when all have them."""
        if not n_images(self.manifest):
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
        ``arrow.sent_columns``; columns only pandas can convert are read alone, shard by
        shard), without the DataFrame unless it is loaded already."""
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
            part = s.read_tokens(lambda f: pd.read_parquet(f, columns=list(names)))
            if "seq" in part.columns:
                part["seq"] = part["seq"] + offset
            offset += int(s.manifest["n_seqs"])
            parts.append(part)
        return pd.concat(parts, ignore_index=True)
