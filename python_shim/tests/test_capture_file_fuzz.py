"""Property: a damaged ``.attnviz`` file never crashes, hangs or misleads the reader.

1,000 mutations of a small valid capture (bytes flipped in the header's length field, the
manifest, the tensor table, the Q/K data, the images or the Parquet token table; and/or the
file cut short) each either end in ``CaptureFileError`` naming the problem, or load as a
capture whose data is consistent (the mutation was harmless, e.g. a changed model name or a
Q/K value). Any other exception type, or an example slower than a second, fails.
"""

from __future__ import annotations

import json
import struct
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import attentionviz as av  # noqa: E402
from attentionviz.core.png import encode_png  # noqa: E402


def _valid_file(path: Path) -> bytes:
    """A small vision-style capture with two images: every section of the format present."""
    rng = np.random.default_rng(11)
    tokens = pd.DataFrame(
        {"text": [f"tok{i}" for i in range(6)], "seq": [0, 0, 0, 1, 1, 1], "label": list("abcabc")}
    )
    q = rng.normal(size=(2, 2, 6, 4)).astype(np.float16)
    k = rng.normal(size=(2, 1, 6, 4)).astype(np.float16)
    cap = av.Capture.from_arrays(tokens, q, k, scale=0.5, mask="causal", model_name="fuzz")
    pictures = [rng.integers(0, 255, size=(4, 4, 3), dtype=np.uint8) for _ in range(2)]
    from attentionviz.core.attnviz_file import CaptureWriter

    manifest = {**cap.manifest, "extra": {"n_images": 2}}
    with CaptureWriter(path, manifest, cap.tokens, [encode_png(p) for p in pictures]) as w:
        for layer in range(cap.n_layers):
            w.write_rows(layer, cap.store.q(layer), cap.store.k(layer), 0)
    return path.read_bytes()


def _regions(data: bytes) -> dict[str, tuple[int, int]]:
    """Byte ranges of the file's sections."""
    (n,) = struct.unpack("<Q", data[:8])
    header_text = data[8 : 8 + n]
    header = json.loads(header_text)
    manifest_at = header_text.index(b'"__metadata__"')
    manifest_end = manifest_at + len(json.dumps({"__metadata__": header["__metadata__"]}))
    start = 8 + n

    def span(*names: str) -> tuple[int, int]:
        offsets = [header[name]["data_offsets"] for name in names]
        return start + min(a for a, _ in offsets), start + max(b for _, b in offsets)

    return {
        "length field": (0, 8),
        "manifest": (8 + manifest_at, 8 + manifest_end),
        "tensor table": (8 + manifest_end, 8 + n),
        "q/k data": span("q.0", "k.0", "q.1", "k.1"),
        "images": span("image.0", "image.1"),
        "parquet": span("tokens.parquet"),
    }


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, dict, Path]:
    folder = tmp_path_factory.mktemp("fuzz")
    data = _valid_file(folder / "valid.attnviz")
    _check_consistent(av.load(folder / "valid.attnviz"))  # also warms up the imports
    return data, _regions(data), folder


def _check_consistent(cap: av.Capture) -> None:
    """Everything a reader hands out agrees with the manifest."""
    tokens = cap.tokens
    assert len(tokens) == cap.n_tokens and {"text", "seq"} <= set(tokens.columns)
    for layer in range(cap.n_layers):
        for head in range(cap.n_heads):
            q, k = cap.qk(layer, head)
            assert q.shape == k.shape == (cap.n_tokens, cap.d_head)
            assert np.isfinite(q).all() and np.isfinite(k).all()
            q_bytes, k_bytes = cap.qk_bytes(layer, head)
            assert len(q_bytes) == len(k_bytes) == q.size * (2 if cap.dtype == "float16" else 4)
    for seq in range(cap.n_images):
        assert cap.image(seq).ndim == 3
    assert cap.tokens_ipc()


@st.composite
def mutations(draw: st.DrawFn, regions: dict[str, tuple[int, int]], size: int) -> tuple:
    """(region, [(offset, xor mask)], cut length or None)."""
    region = draw(st.sampled_from(sorted(regions)))
    low, high = regions[region]
    flips = draw(
        st.lists(
            st.tuples(st.integers(low, high - 1), st.integers(1, 255)),
            min_size=0 if region != "length field" else 1,
            max_size=4,
        )
    )
    cut = draw(st.one_of(st.none(), st.integers(0, size - 1)))
    if not flips and cut is None:
        flips = [(low, 1)]
    return region, flips, cut


def test_damaged_files_end_in_capture_file_error_or_load_consistently(
    original: tuple[bytes, dict, Path],
) -> None:
    data, regions, folder = original
    outcomes = {"error": 0, "harmless": 0}

    @settings(
        max_examples=1000,
        deadline=timedelta(seconds=1),
        derandomize=True,  # the same 1,000 files on every run (reproducible failures)
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(mutations(regions, len(data)))
    def check(mutation: tuple) -> None:
        _, flips, cut = mutation
        damaged = bytearray(data)
        for offset, mask in flips:
            damaged[offset] ^= mask
        path = folder / "damaged.attnviz"
        path.write_bytes(bytes(damaged[:cut] if cut is not None else damaged))
        try:
            cap = av.load(path)
            _check_consistent(cap)
        except av.CaptureFileError as error:
            assert len(str(error)) > 15  # names the problem
            outcomes["error"] += 1
        else:
            outcomes["harmless"] += 1

    check()
    print(f"\n{outcomes}")
    assert outcomes["error"] > 500  # most damage is detected, not silently accepted
