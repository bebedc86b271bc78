"""The head map: every head of a capture as one point, placed by how alike its attention is.

Measure: for a shared sample of queries (the same token rows for every head), each head's
attention distribution over the keys of the query's sequence, softmax(q.K * scale + mask).
Two heads are compared by the Hellinger distance between their distributions, averaged
over the sample as a root mean square:

    d(a, b)^2 = mean_q H^2(p_a(q), p_b(q)),   H^2(p, r) = 1 - sum_j sqrt(p_j r_j)

Why Hellinger rather than Jensen-Shannon: both are bounded symmetric divergences that agree
on which heads are alike (bench/head_map/bench_head_map.py measures their rank correlation),
but with v_h = sqrt(p_h) / sqrt(n_queries) flattened over all (query, key) entries,
d(a, b) = |v_a - v_b| / sqrt(2): every pairwise distance comes from one matrix product, and
the distance is Euclidean. JSD needs a log of each pair's mixture: n_heads^2 / 2 passes
over the sample. Being Euclidean also makes the embedding exact and cheap: classical MDS of
these distances is the PCA of the v_h (done through the n_heads x n_heads Gram matrix), so
identical heads land on the same point, deterministically, with no iterations.

Per-head numbers from the same sample: ``entropy`` (nats), ``offset`` (mean attended
distance in tokens) and ``distance`` (query-key centroid distance over the rows read),
defined as in the view's ``src/compute/stats.ts``.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .capture import Capture

__all__ = ["HeadMap", "QuerySample", "head_map", "query_sample"]

#: Default number of (query, key) pairs in the sample: 32768 entries = 128 KiB per head.
#: With 2,048 rows (about a thousand queries of ~32 keys for 64-token causal sequences,
#: half of the rows') reading the rows is no longer what dominates at 512 heads.
DEFAULT_ENTRIES = 32_768
#: Rows read per head: the sample is drawn from complete sequences of the first rows.
DEFAULT_ROWS = 2_048


@dataclass(frozen=True)
class QuerySample:
    """Which attention weights every head is compared on: entry e is the weight of query
    ``query_rows[e]`` on key ``key_rows[e]``; entries of one query are contiguous, query i
    owning ``starts[i]:starts[i] + counts[i]``.

    For speed the weights are computed per sampled sequence as one batched product:
    ``batch_queries`` [n_seqs, max queries] and ``batch_keys`` [n_seqs, max length] are
    token rows (padded with a valid row), ``batch_mask`` is 0 where a query may attend to
    a key and -inf elsewhere, and ``entry_index`` picks each entry out of the flattened
    [n_seqs, max queries, max length] weights."""

    query_rows: np.ndarray
    key_rows: np.ndarray
    starts: np.ndarray
    counts: np.ndarray
    #: |pos_query - pos_key| of each entry (for the offset statistic).
    offsets: np.ndarray
    #: Rows of the capture read per head (all sampled rows are below it).
    rows: int
    batch_queries: np.ndarray
    batch_keys: np.ndarray
    batch_mask: np.ndarray
    entry_index: np.ndarray

    @property
    def n_queries(self) -> int:
        return len(self.starts)


@dataclass(frozen=True)
class HeadMap:
    """The head map of a capture: head i is (layer i // n_heads, head i % n_heads)."""

    n_layers: int
    n_heads: int
    #: [n_layers * n_heads, 2] float32: classical MDS of ``distances``.
    coords: np.ndarray
    #: [n_layers * n_heads, n_layers * n_heads] float32 RMS Hellinger distances in [0, 1].
    distances: np.ndarray
    #: name -> [n_layers * n_heads] float32 ("entropy", "distance", "offset").
    stats: dict[str, np.ndarray] = field(default_factory=dict)
    n_queries: int = 0
    #: Share of the variance of the sqrt-attention vectors each of the two axes shows.
    explained: tuple[float, float] = (0.0, 0.0)

    def nearest(self) -> tuple[np.ndarray, np.ndarray]:
        """For each head, the index of its closest other head and that distance."""
        d = self.distances.astype(np.float64, copy=True)
        if len(d) < 2:
            return np.zeros(len(d), np.int64), np.zeros(len(d), np.float32)
        np.fill_diagonal(d, np.inf)
        index = d.argmin(axis=1)
        return index, d[np.arange(len(d)), index].astype(np.float32)


def query_sample(
    capture: Capture, *, entries: int = DEFAULT_ENTRIES, rows: int = DEFAULT_ROWS, seed: int = 0
) -> QuerySample:
    """The shared sample: queries drawn at random (``seed``) from the complete sequences
    within the first ``rows`` token rows, each with all the keys it may attend to in its
    sequence (causal: those up to it), until ``entries`` weights are taken."""
    entries, rows, seed = operator.index(entries), operator.index(rows), operator.index(seed)
    if entries < 1 or rows < 1:
        raise ValueError(f"head map: entries and rows must be >= 1, got {entries}, {rows}")
    tokens = capture.tokens
    seq = tokens["seq"].to_numpy()
    pos = tokens["pos"].to_numpy().astype(np.int64)
    limit = min(rows, len(seq))
    # a sequence cut by the row limit is left out, unless it is the only one
    cut = limit < len(seq) and seq[limit] == seq[limit - 1]
    if cut and np.any(seq[:limit] != seq[limit - 1]):
        limit = int(np.flatnonzero(seq[:limit] != seq[limit - 1])[-1]) + 1
    groups: dict[int, list[int]] = {}
    for row in range(limit):
        groups.setdefault(int(seq[row]), []).append(row)
    causal = capture.mask == "causal"
    order = np.random.default_rng(seed).permutation(limit)
    query_rows: list[int] = []
    key_rows: list[np.ndarray] = []
    taken = 0
    for row in order:
        members = np.asarray(groups[int(seq[row])])
        keys = members[pos[members] <= pos[row]] if causal else members
        if taken and taken + len(keys) > entries:
            continue  # a shorter query may still fit
        query_rows.append(int(row))
        key_rows.append(keys)
        taken += len(keys)
        if taken >= entries:
            break
    counts = np.array([len(k) for k in key_rows], np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    queries = np.repeat(np.asarray(query_rows, np.int64), counts)
    keys_flat = np.concatenate(key_rows).astype(np.int64)
    batches = _batches(query_rows, key_rows, groups, seq)
    return QuerySample(
        query_rows=queries,
        key_rows=keys_flat,
        starts=starts,
        counts=counts,
        offsets=np.abs(pos[queries] - pos[keys_flat]).astype(np.float32),
        rows=int(limit),
        **batches,
    )


def _batches(
    query_rows: list[int], key_rows: list[np.ndarray], groups: dict[int, list[int]], seq: np.ndarray
) -> dict[str, np.ndarray]:
    """The padded per-sequence layout of the sample (see ``QuerySample``)."""
    by_seq: dict[int, list[int]] = {}
    for index, row in enumerate(query_rows):
        by_seq.setdefault(int(seq[row]), []).append(index)
    seqs = list(by_seq)
    most_queries = max(len(v) for v in by_seq.values())
    longest = max(len(groups[s]) for s in seqs)
    batch_queries = np.zeros((len(seqs), most_queries), np.int64)
    batch_keys = np.zeros((len(seqs), longest), np.int64)
    mask = np.full((len(seqs), most_queries, longest), -np.inf, np.float32)
    entry_index = np.empty(sum(len(k) for k in key_rows), np.int64)
    starts = np.concatenate([[0], np.cumsum([len(k) for k in key_rows])]).astype(np.int64)
    for b, s in enumerate(seqs):
        members = np.asarray(groups[s])
        batch_keys[b] = np.concatenate([members, np.full(longest - len(members), members[0])])
        column_of = {int(row): c for c, row in enumerate(members)}
        batch_queries[b] = query_rows[by_seq[s][0]]
        mask[b, len(by_seq[s]) :] = 0  # padded query slots: finite, never picked
        for slot, index in enumerate(by_seq[s]):
            batch_queries[b, slot] = query_rows[index]
            columns = np.array([column_of[int(r)] for r in key_rows[index]], np.int64)
            mask[b, slot, columns] = 0
            flat = (b * most_queries + slot) * longest + columns
            entry_index[starts[index] : starts[index + 1]] = flat
    return {
        "batch_queries": batch_queries,
        "batch_keys": batch_keys,
        "batch_mask": mask,
        "entry_index": entry_index,
    }


def attention_entries(
    queries: np.ndarray, keys: np.ndarray, sample: QuerySample, scale: float
) -> np.ndarray:
    """The sample's attention weights of one head (float32, one per entry): one batched
    product over the sampled sequences, masked, softmaxed, then the entries picked out."""
    logits = np.matmul(queries[sample.batch_queries], keys[sample.batch_keys].transpose(0, 2, 1))
    logits *= np.float32(scale)
    logits += sample.batch_mask
    logits -= logits.max(axis=2, keepdims=True)
    weights = np.exp(logits)
    weights /= weights.sum(axis=2, keepdims=True)
    return weights.reshape(-1)[sample.entry_index]


def _mean_norm(rows: np.ndarray) -> float:
    return float(np.sqrt(np.einsum("ij,ij->i", rows, rows)).mean())


def _centroid_distance(queries: np.ndarray, keys: np.ndarray) -> float:
    gap = np.linalg.norm(queries.mean(axis=0) - keys.mean(axis=0))
    norm = (_mean_norm(queries) + _mean_norm(keys)) / 2
    return float(gap / norm) if norm > 0 else 0.0


def _top_eigen(matrix: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` largest eigenvalues (descending) and eigenvectors of a symmetric PSD
    ``matrix``: full ``eigh`` when small, else block power iteration with oversampling and
    a Rayleigh-Ritz step (10 x 10 ``eigh``), a few small products instead of an O(n^3)
    decomposition (512 heads: ~10x less work); seeded, so the map is reproducible."""
    n = len(matrix)
    if n <= 128:
        values, vecs = np.linalg.eigh(matrix)
        return values[::-1][:k], vecs[:, ::-1][:, :k]
    block = np.random.default_rng(0).standard_normal((n, k + 8))
    for _ in range(40):
        block, _r = np.linalg.qr(matrix @ block)
    values, small = np.linalg.eigh(block.T @ matrix @ block)
    order = np.argsort(values)[::-1][:k]
    return values[order], block @ small[:, order]


def _classical_mds(gram: np.ndarray) -> tuple[np.ndarray, tuple[float, float]]:
    """2-D classical MDS of the Euclidean distances between vectors with Gram matrix
    ``gram`` (their PCA: the double-centred Gram matrix's top eigenvectors), each axis'
    sign fixed so the result is reproducible."""
    n = len(gram)
    gram = gram.astype(np.float64)
    gram = gram - gram.mean(axis=0) - gram.mean(axis=1)[:, None] + gram.mean()
    values, vecs = _top_eigen(gram, 2)
    coords = np.zeros((n, 2))
    for axis in range(min(2, n)):
        if values[axis] > 0:
            column = vecs[:, axis] * np.sqrt(values[axis])
            big = np.argmax(np.abs(column))
            coords[:, axis] = column * (1 if column[big] >= 0 else -1)
    total = float(np.trace(gram))
    shares = [float(max(v, 0) / total) if total > 0 else 0.0 for v in values]
    shares += [0.0, 0.0]
    return coords.astype(np.float32), (shares[0], shares[1])


def head_map(
    capture: Capture,
    *,
    entries: int = DEFAULT_ENTRIES,
    rows: int = DEFAULT_ROWS,
    seed: int = 0,
    progress: bool = False,
) -> HeadMap:
    """Place every head of ``capture`` by the similarity of its attention (see the module
    docstring): RMS Hellinger distances over a shared query sample (``query_sample``),
    embedded in 2-D by classical MDS. Reads the first ``rows`` rows of each head once."""
    from tqdm.auto import tqdm

    sample = query_sample(capture, entries=entries, rows=rows, seed=seed)
    n_total = capture.n_layers * capture.n_heads
    vectors = np.empty((n_total, len(sample.key_rows)), np.float32)
    stats = {name: np.zeros(n_total, np.float32) for name in ("entropy", "distance", "offset")}
    heads = [(la, h) for la in range(capture.n_layers) for h in range(capture.n_heads)]
    for index, (layer, head) in enumerate(tqdm(heads, desc="head map", disable=not progress)):
        q, k = capture.qk(layer, head, rows=sample.rows)
        weights = attention_entries(q, k, sample, capture.scale)
        plogp = weights * np.log(np.maximum(weights, np.float32(1e-30)))
        stats["entropy"][index] = -plogp.sum() / sample.n_queries
        stats["offset"][index] = (weights * sample.offsets).sum() / sample.n_queries
        stats["distance"][index] = _centroid_distance(q, k)
        np.sqrt(weights, out=vectors[index])
    vectors /= np.float32(np.sqrt(sample.n_queries))
    gram = vectors @ vectors.T  # mean Bhattacharyya coefficient of each pair
    diagonal = np.diag(gram)
    squared = np.clip((diagonal[:, None] + diagonal[None, :]) / 2 - gram, 0, 1)
    distances = np.sqrt(squared).astype(np.float32)
    np.fill_diagonal(distances, 0)
    # distances are |v_a - v_b| / sqrt(2): the Gram matrix of v / sqrt(2) is gram / 2
    coords, explained = _classical_mds(gram / 2)
    return HeadMap(
        n_layers=capture.n_layers,
        n_heads=capture.n_heads,
        coords=coords,
        distances=distances,
        stats=stats,
        n_queries=sample.n_queries,
        explained=explained,
    )
