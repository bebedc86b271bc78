"""The ``head-map`` reply: the capture's head map (``core.head_map``) as it crosses the
wire, shared by the widget's router and the standalone HTML export."""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from ..core.capture import Capture
from ..core.head_map import head_map

#: Order of the columns of the stats buffer.
STAT_NAMES = ("entropy", "distance", "offset")

#: Payloads computed so far, per capture (a capture never changes; freed with it).
_computed: weakref.WeakKeyDictionary[Capture, tuple[dict[str, Any], list[bytes]]] = (
    weakref.WeakKeyDictionary()
)


def head_map_payload(
    capture: Capture, *, progress: bool = False
) -> tuple[dict[str, Any], list[bytes]]:
    """Result fields and buffers of a ``head-map`` reply: buffers are the coordinates
    (float32 little-endian ``[n_layers * n_heads, 2]``) and the per-head numbers (float32
    ``[n_layers * n_heads, 3]``, columns ``stats``); ``nearest`` / ``nearest_distance``
    name each head's closest other head (flat index) and how far it is. Computed once per
    capture: the view's request and the HTML export share it."""
    known = _computed.get(capture)
    if known is not None:
        return known
    found = head_map(capture, progress=progress)
    nearest, nearest_distance = found.nearest()
    stats = np.stack([found.stats[name] for name in STAT_NAMES], axis=1)
    result = {
        "n_layers": found.n_layers,
        "n_heads": found.n_heads,
        "n_queries": found.n_queries,
        "measure": "hellinger",
        "embedding": "classical-mds",
        "explained": [round(v, 4) for v in found.explained],
        "stats": list(STAT_NAMES),
        "nearest": [int(i) for i in nearest],
        "nearest_distance": [round(float(d), 5) for d in nearest_distance],
    }
    little = np.dtype("<f4")
    payload = result, [found.coords.astype(little).tobytes(), stats.astype(little).tobytes()]
    _computed[capture] = payload
    return payload
