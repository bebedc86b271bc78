"""Q/K from text with onnxruntime (in Python) on a model written by ``onnx_export.export``:
the parity tests and the benchmarks compare it with ``capture`` and with the browser."""

from __future__ import annotations

import os
import pathlib
from collections.abc import Sequence

import numpy as np

from ..core.onnx_manifest import load_onnx_model

__all__ = ["OnnxQK"]


class OnnxQK:
    """Q/K from text with onnxruntime (Python) on an exported model, batch of one per text."""

    def __init__(self, path: str | os.PathLike[str], *, threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.manifest = load_onnx_model(path)
        folder = pathlib.Path(self.manifest["onnx_path"]).parent
        opts = ort.SessionOptions()
        if threads is not None:
            opts.intra_op_num_threads = threads
            opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(
            self.manifest["onnx_path"], opts, providers=["CPUExecutionProvider"]
        )
        self.tokenizer = Tokenizer.from_file(str(folder / self.manifest["tokenizer"]))

    def encode(self, text: str) -> tuple[list[int], bool, int]:
        """``(ids, truncated, original_length)``, truncated to the model's ``max_length``."""
        ids = self.tokenizer.encode(text).ids
        n, limit = len(ids), int(self.manifest["max_length"])
        if n <= limit:
            return ids, False, n
        self.tokenizer.enable_truncation(limit)
        try:
            return self.tokenizer.encode(text).ids, True, n
        finally:
            self.tokenizer.no_truncation()

    def run_ids(self, ids: Sequence[int]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per layer ``(Q [heads, seq, d_head], K [kv_heads, seq, d_head])`` for one sequence."""
        x = np.asarray([ids], dtype=np.int64)
        outs = self.session.run(None, {"input_ids": x, "attention_mask": np.ones_like(x)})
        by_name = dict(zip([o.name for o in self.session.get_outputs()], outs, strict=True))
        m = self.manifest["outputs"]
        return [(by_name[q][0], by_name[k][0]) for q, k in zip(m["q"], m["k"], strict=True)]

    def run(self, texts: Sequence[str]) -> tuple[list[list[int]], list[list[np.ndarray]]]:
        """Token ids per text and, per layer, ``[Q, K]`` stacked over texts as
        ``[heads, n_tokens, d_head]`` in token-table order (like ``capture``)."""
        ids = [self.encode(t)[0] for t in texts]
        per_text = [self.run_ids(x) for x in ids]
        layers = [
            [np.concatenate([r[layer][w] for r in per_text], axis=1) for w in (0, 1)]
            for layer in range(self.manifest["n_layers"])
        ]
        return ids, layers
