"""The head map: every head one point, placed by how alike its attention is (RMS Hellinger
distance over a shared query sample, classical MDS). Copies of a head land on it, distinct
heads do not, heads of one kind sit together, and the view gets it over ``head-map``."""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import pandas as pd
import pytest

import attentionviz as av
from attentionviz.core.head_map import attention_entries, head_map, query_sample

N_LAYERS, N_HEADS, SEQ_LEN, N_SEQS, D_HEAD = 3, 4, 12, 10, 16
#: (copy, original) as (layer, head): the copies hold exactly the original's Q and K.
COPIES = {(1, 2): (0, 0), (2, 3): (0, 1), (2, 0): (0, 0)}


def tokens(n_seqs: int = N_SEQS, length: int = SEQ_LEN) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "text": [f"t{i}" for i in range(n_seqs * length)],
            "seq": np.repeat(np.arange(n_seqs), length),
        }
    )


@pytest.fixture(scope="module")
def copied() -> av.Capture:
    rng = np.random.default_rng(3)
    n = N_SEQS * SEQ_LEN
    # scaled so attention is neither uniform nor one-hot: heads differ clearly
    q = rng.normal(size=(N_LAYERS, N_HEADS, n, D_HEAD)).astype(np.float32) * 1.5
    k = rng.normal(size=(N_LAYERS, N_HEADS, n, D_HEAD)).astype(np.float32) * 1.5
    for (la, h), (src_la, src_h) in COPIES.items():
        q[la, h], k[la, h] = q[src_la, src_h], k[src_la, src_h]
    return av.Capture.from_arrays(tokens(), q, k, scale=D_HEAD**-0.5, mask="causal")


def flat(layer: int, head: int) -> int:
    return layer * N_HEADS + head


def test_copies_land_on_their_original_and_distinct_heads_do_not(copied: av.Capture) -> None:
    found = head_map(copied)
    assert found.coords.shape == (N_LAYERS * N_HEADS, 2)
    extent = np.ptp(found.coords, axis=0).max()
    groups: dict[int, set[int]] = {}
    for copy, original in COPIES.items():
        groups.setdefault(flat(*original), {flat(*original)}).add(flat(*copy))
    same = {i: g for g in groups.values() for i in g}
    for a in range(N_LAYERS * N_HEADS):
        for b in range(a + 1, N_LAYERS * N_HEADS):
            apart = np.linalg.norm(found.coords[a] - found.coords[b])
            if b in same.get(a, ()):
                # same weights through the same float32 code: only summation order differs
                assert found.distances[a, b] < 1e-3 and apart < 1e-4 * extent
            else:
                assert found.distances[a, b] > 0.05, (a, b)
                assert apart > 1e-3 * extent, (a, b)


def test_distances_are_the_rms_hellinger_of_each_query_s_attention(copied: av.Capture) -> None:
    found = head_map(copied)
    tokens_ = copied.tokens
    sample = query_sample(copied)
    # an independent path: Capture.attention (full per-sequence softmax) per sampled query
    query_rows = np.unique(sample.query_rows)

    def rows_of(layer: int, head: int) -> dict[int, np.ndarray]:
        out = {}
        for row in query_rows:
            seq = int(tokens_.seq[row])
            weights = copied.attention(layer, head, seq)
            pos = int(tokens_.pos[row])
            out[int(row)] = weights[pos, : pos + 1]  # causal: keys up to the query
        return out

    a, b = rows_of(0, 2), rows_of(1, 1)
    h2 = [1 - np.sqrt(a[r] * b[r]).sum() for r in query_rows]
    # float32 softmax on both paths, summed in different orders: 1e-4 is far above their gap
    assert found.distances[flat(0, 2), flat(1, 1)] == pytest.approx(np.sqrt(np.mean(h2)), abs=1e-4)
    assert len(query_rows) == found.n_queries


def test_sample_takes_whole_sequences_of_the_first_rows_and_its_weights_sum_to_one(
    copied: av.Capture,
) -> None:
    sample = query_sample(copied, entries=40, rows=30)
    assert sample.rows == 24  # the sequence cut by row 30 is left out
    assert sample.key_rows.max() < 24 and sample.counts.sum() <= 40
    q, k = copied.qk(0, 0)
    weights = attention_entries(q, k, sample, copied.scale)
    np.testing.assert_allclose(np.add.reduceat(weights, sample.starts), 1, atol=1e-5)
    with pytest.raises(ValueError, match="entries and rows must be >= 1"):
        query_sample(copied, entries=0)


def planted_heads() -> tuple[av.Capture, list[str]]:
    """Heads of known kinds, each with its own noise: previous-token (q_i = k_{i-1}),
    first-token (every query on key 0) and diffuse (near-uniform)."""
    rng = np.random.default_rng(11)
    n, d = N_SEQS * SEQ_LEN, 32
    pos = np.tile(np.arange(SEQ_LEN), N_SEQS)
    eye = np.eye(d, dtype=np.float32)
    kinds = ["previous", "first", "diffuse"] * 2
    q = np.zeros((1, len(kinds), n, d), np.float32)
    k = np.zeros_like(q)
    for h, kind in enumerate(kinds):
        noise = lambda: rng.normal(scale=0.3, size=(n, d)).astype(np.float32)  # noqa: E731
        if kind == "previous":
            q[0, h], k[0, h] = 8 * eye[np.maximum(pos - 1, 0)] + noise(), 8 * eye[pos] + noise()
        elif kind == "first":
            q[0, h] = 8 * eye[0] + noise()
            k[0, h] = np.where(pos[:, None] == 0, 8 * eye[0], 0) + noise()
        else:
            q[0, h], k[0, h] = 0.3 * noise(), noise()
    cap = av.Capture.from_arrays(tokens(), q, k, scale=0.5, mask="causal")
    return cap, kinds


def test_heads_of_one_kind_sit_together() -> None:
    cap, kinds = planted_heads()
    nearest, _ = head_map(cap).nearest()
    assert [kinds[i] for i in nearest] == kinds
    found = head_map(cap)
    assert found.stats["offset"][kinds.index("previous")] == pytest.approx(1, abs=0.15)
    assert found.stats["entropy"][kinds.index("first")] < 0.2


def deliver(viz: av.AttentionViz, content: Any) -> list[tuple[dict[str, Any], list[Any]]]:
    sent: list[tuple[dict[str, Any], list[Any]]] = []
    viz.send = lambda content, buffers=None: sent.append((content, list(buffers or [])))  # type: ignore[method-assign]
    viz._handle_msg({"content": {"data": {"method": "custom", "content": content}}, "buffers": []})
    return sent


def test_the_view_gets_the_map_over_head_map_and_the_html_page_embeds_it(
    copied: av.Capture, tmp_path: Any
) -> None:
    viz = av.AttentionViz(copied, view="headmap", headmap_color="entropy")
    ((reply, buffers),) = deliver(viz, {"kind": "head-map", "id": 7})
    assert (reply["kind"], reply["reply_to"], reply["ok"]) == ("head-map", 7, True)
    assert (reply["n_layers"], reply["n_heads"], reply["stats"]) == (
        N_LAYERS,
        N_HEADS,
        ["entropy", "distance", "offset"],
    )
    coords = np.frombuffer(buffers[0], "<f4").reshape(-1, 2)
    np.testing.assert_array_equal(coords, head_map(copied).coords)
    assert np.frombuffer(buffers[1], "<f4").shape == (N_LAYERS * N_HEADS * 3,)
    assert reply["nearest"][flat(1, 2)] in (flat(0, 0), flat(2, 0))
    page = viz.save(tmp_path / "map.html").read_text()
    state = json.loads(re.search(r'id="attentionviz-state">(.*?)</script>', page, re.S).group(1))
    assert state["traits"]["view"] == "headmap" and state["traits"]["headmap_color"] == "entropy"
    assert state["head_map"]["nearest"] == reply["nearest"] and state["head_map"]["coords"]
    with pytest.raises(Exception, match="headmap_color"):
        viz.headmap_color = "colour"


def test_the_map_s_axes_are_the_two_leading_eigenvectors_of_the_centred_gram_matrix() -> None:
    """Many heads (above the small-matrix path): the iterative top-2 eigenvectors give the
    same map as a full eigendecomposition of the double-centred Gram matrix."""
    rng = np.random.default_rng(8)
    n = 2 * SEQ_LEN
    # 160 heads of 3 kinds with a shared component: clear leading axes
    base = rng.normal(size=(3, n, D_HEAD)).astype(np.float32)
    q = np.stack([base[h % 3] + 0.4 * rng.normal(size=(n, D_HEAD)) for h in range(160)])
    k = np.stack([base[(h + 1) % 3] + 0.4 * rng.normal(size=(n, D_HEAD)) for h in range(160)])
    cap = av.Capture.from_arrays(
        tokens(2), q[None].astype(np.float32), k[None].astype(np.float32), scale=0.5, mask="causal"
    )
    found = head_map(cap)
    squared = found.distances.astype(np.float64) ** 2
    centre = np.eye(160) - 1 / 160
    gram = -0.5 * centre @ squared @ centre
    values, vecs = np.linalg.eigh(gram)
    exact = vecs[:, ::-1][:, :2] * np.sqrt(values[::-1][:2])
    for axis in range(2):
        # the sign of an eigenvector is arbitrary; float32 distances limit the agreement
        sign = np.sign(exact[:, axis] @ found.coords[:, axis])
        np.testing.assert_allclose(found.coords[:, axis], sign * exact[:, axis], atol=2e-3)
