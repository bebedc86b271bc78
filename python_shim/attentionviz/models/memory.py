"""How much memory a capture needs, before it starts, and whether that fits in RAM.

The estimate counts the stored Q/K (what the capture keeps: rows x heads x d_head x bytes
per value, exact once the texts are tokenized) and the transient peak of one batch: the
recorded rows in the model's dtype, the float mask and, on checked batches, the attention
weights eager attention returns plus the scores recomputed to check them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: activations of one layer's forward, in hidden-state copies per token (rough, fp32)
_ACTIVATION_COPIES = 8


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes a capture needs. ``stored``: the Q/K the capture keeps (in RAM, or on disk
    with ``out=``); ``batch_peak``: the largest transient working set of one batch;
    ``available``: RAM available now; ``in_memory``: whether Q/K are kept in RAM."""

    n_tokens: int
    n_query_rows: int
    n_layers: int
    n_heads: int
    n_kv_heads: int
    d_head: int
    stored: int
    batch_peak: int
    available: int | None
    in_memory: bool

    @property
    def peak(self) -> int:
        """RAM needed at the worst moment: stored Q/K (when in memory) plus one batch."""
        return (self.stored if self.in_memory else 0) + self.batch_peak

    @property
    def fits(self) -> bool:
        """Whether ``peak`` fits in the RAM available now (True when that is unknown)."""
        return self.available is None or self.peak <= self.available

    def __str__(self) -> str:
        where = "in memory" if self.in_memory else "on disk (out=)"
        avail = "unknown" if self.available is None else _mb(self.available)
        return (
            f"capture of {self.n_tokens:,} tokens ({self.n_query_rows:,} with queries), "
            f"{self.n_layers} layers x {self.n_heads} heads (K: {self.n_kv_heads}), "
            f"d_head {self.d_head}: Q/K {_mb(self.stored)} {where}, one batch up to "
            f"{_mb(self.batch_peak)}; peak RAM {_mb(self.peak)} of {avail} available"
        )


def _mb(n: int) -> str:
    return f"{n / 2**20:,.1f} MiB"


def available_memory() -> int | None:
    """RAM available to a new allocation now (psutil, else /proc/meminfo, else sysconf)."""
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except ImportError:
        pass
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def model_dims(model: Any) -> tuple[int, int, int, int, int]:
    """``(n_layers, n_heads, n_kv_heads, d_head, hidden)`` from the model's (text) config."""
    cfg = model.config.get_text_config()
    heads = int(cfg.num_attention_heads)
    hidden = int(cfg.hidden_size)
    kv = int(getattr(cfg, "num_key_value_heads", None) or heads)
    d_head = int(getattr(cfg, "head_dim", None) or hidden // heads)
    return int(cfg.num_hidden_layers), heads, kv, d_head, hidden


def estimate(
    model: Any,
    lengths: Sequence[int],
    query_counts: Sequence[int],
    *,
    batch_size: int,
    dtype: str,
    layers: Sequence[int] | None,
    heads: Sequence[int] | None,
    check: str,
    in_memory: bool,
) -> MemoryEstimate:
    """The memory a text capture of sequences of ``lengths`` tokens (``query_counts``
    queries kept in each) needs, from the model's config alone."""
    n_layers, n_heads, n_kv, d_head, hidden = model_dims(model)
    n_l = len(layers) if layers is not None else n_layers
    n_h = len(heads) if heads is not None else n_heads
    n_k = n_h if heads is not None else n_kv
    item = np.dtype(dtype).itemsize
    n_tokens, n_q = int(sum(lengths)), int(sum(query_counts))
    stored = n_l * (n_h * n_q + n_k * n_tokens) * d_head * item
    model_item = next(model.parameters()).element_size()
    peak = 0
    for start in range(0, len(lengths), batch_size):
        chunk = range(start, min(start + batch_size, len(lengths)))
        width, b = max(lengths[i] for i in chunk), len(chunk)
        rows_q, rows_k = sum(query_counts[i] for i in chunk), sum(lengths[i] for i in chunk)
        recorded = n_l * (n_h * rows_q + n_k * rows_k) * d_head * model_item
        work = b * width * width * 4 + _ACTIVATION_COPIES * b * width * hidden * 4
        checked = check == "all" or (check == "first" and start == 0)
        if checked:  # eager weights of one layer + the recomputed rows of one sequence
            longest = max(query_counts[i] for i in chunk)
            work += b * n_heads * width * width * model_item + 3 * n_heads * longest * width * 4
        peak = max(peak, recorded + work)
    return MemoryEstimate(
        n_tokens=n_tokens, n_query_rows=n_q, n_layers=n_l, n_heads=n_h, n_kv_heads=n_k,
        d_head=d_head, stored=stored, batch_peak=peak, available=available_memory(),
        in_memory=in_memory,
    )  # fmt: skip
