"""Recording Q and K as a transformers model multiplies them.

Transformers (>= 5) routes every attention layer through ``ALL_ATTENTION_FUNCTIONS``. We
register one more implementation, ``"attentionviz_capture"``: it records ``query`` / ``key``
(``[batch, heads, seq, d_head]``, already rotary-embedded; ``key`` has the kv heads under
grouped-query attention), the ``scaling``, the additive mask and any sliding window, then
lets the model's own attention do the arithmetic: the implementation it ran before the
capture (SDPA, the fast path, when it had it) or, on checked batches, its own
``eager_attention_forward`` (which returns the weights to check). No hooks are installed;
the model is switched to this implementation only inside ``capture_mode`` (through
``attention_impl``) and restored exactly afterwards.

Nothing is guessed: the mask must be causal (optionally within a sliding window of keys,
which is recorded) or bidirectional over the real tokens, and on checked batches the
model's own attention weights must equal ``softmax(Q K^T * scale + mask)`` recomputed
from what we recorded; otherwise we refuse.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import torch

from ..core.errors import UnsupportedModelError
from .attention_impl import attention_implementation, eager_for, model_configs, register_attention
from .masks import match_mask, refuse_mask

KEY = "attentionviz_capture"
#: The recorder of the forward pass running now (set by ``runner.run``, per batch).
ACTIVE: ContextVar[Recorder | None] = ContextVar("attentionviz_recorder", default=None)


def _capturing_attention(
    module: torch.nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    scaling: float | None = None,
    dropout: float = 0.0,
    **kwargs: Any,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    eager = eager_for(module)
    rec = ACTIVE.get()
    if rec is None:  # implementation selected outside a capture: behave exactly like eager
        return eager(
            module, query, key, value, attention_mask, scaling=scaling, dropout=dropout, **kwargs
        )
    return rec.record(module, eager, query, key, value, attention_mask, scaling, dropout, kwargs)


def attention_scale(
    module: torch.nn.Module, query: torch.Tensor, scaling: float | None, kwargs: dict[str, Any]
) -> float:
    """The scale one attention call multiplies q.k by, refusing by name what a capture of
    Q and K cannot reproduce (logit soft-capping, attention sinks)."""
    name = type(module).__name__
    if kwargs.get("softcap") is not None:
        raise UnsupportedModelError(f"{name}: attention logit soft-capping is not supported")
    if kwargs.get("s_aux") is not None or getattr(module, "sinks", None) is not None:
        raise UnsupportedModelError(f"{name}: attention sinks are not supported")
    return query.shape[-1] ** -0.5 if scaling is None else scaling  # eager's default for None


def check_features(model: torch.nn.Module) -> None:
    """Refuse, by name, position schemes that add a bias Q/K cannot carry."""
    for c in model_configs(model):
        mt = getattr(c, "model_type", "?")
        if (
            mt == "bloom"
            or getattr(c, "alibi", False)
            or getattr(getattr(c, "attn_config", None), "alibi", False)
        ):
            raise UnsupportedModelError(
                f"{type(model).__name__} ({mt}) uses ALiBi positional biases; attention is not "
                "softmax(Q K^T * scale + mask), so attentionviz cannot capture it faithfully"
            )
        if (
            getattr(c, "relative_attention_num_buckets", None)
            or getattr(c, "relative_attention", False)
            or str(getattr(c, "position_embedding_type", "absolute")).startswith("relative")
        ):
            raise UnsupportedModelError(
                f"{type(model).__name__} ({mt}) uses a relative position bias inside attention; "
                "attentionviz cannot capture it faithfully"
            )
        if getattr(c, "attn_logit_softcapping", None):
            raise UnsupportedModelError(
                f"{type(model).__name__} ({mt}) uses attention logit soft-capping; "
                "attentionviz cannot capture it faithfully"
            )
        if getattr(c, "is_encoder_decoder", False):
            raise UnsupportedModelError(
                f"{type(model).__name__} ({mt}) is an encoder-decoder; cross-attention capture "
                "is not supported (capture the encoder or decoder alone)"
            )


def require_pretrained(model: Any) -> None:
    """TypeError unless ``model`` is a transformers ``PreTrainedModel``."""
    from transformers import PreTrainedModel

    if not isinstance(model, PreTrainedModel):
        raise TypeError(
            f"capture expects a transformers PreTrainedModel, got {type(model).__name__}; "
            "for other models build the capture with Capture.from_arrays"
        )


def own_attention(model: torch.nn.Module) -> Callable[..., Any] | None:
    """The fast attention the model runs outside a capture (SDPA), or None (eager)."""
    from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS

    impl = getattr(model.config, "_attn_implementation", None)
    return ALL_ATTENTION_FUNCTIONS["sdpa"] if impl == "sdpa" else None


@contextmanager
def capture_mode(model: torch.nn.Module) -> Iterator[Callable[..., Any] | None]:
    """Eval mode + no_grad + the capturing attention; restores everything on exit. Yields
    the model's own fast attention (``own_attention``) for the recorder to delegate to."""
    require_pretrained(model)
    check_features(model)
    delegate = own_attention(model)
    register_attention(KEY, _capturing_attention)
    with attention_implementation(model, KEY):
        if model.config._attn_implementation != KEY:
            raise UnsupportedModelError(
                f"{type(model).__name__} does not route attention through transformers' "
                "AttentionInterface, so attentionviz cannot record its queries and keys"
            )
        with torch.no_grad():
            yield delegate


class Recorder:
    """Collects Q/K of one forward pass over one padded batch.

    ``valid``: ``[batch, seq]`` bool, True for real (non-padding) tokens, or None (all real).
    ``kinds``: mask kinds still consistent with what the model did ("causal", "bidirectional").
    ``wanted``: model layers to keep (None: all). ``verify``: check this batch against the
    model's own attention weights (runs eager attention). ``queries``: ``[batch, seq]`` bool
    of the rows whose Q is kept (None: every real row); keys are always kept whole.
    ``heads``: model head indices to keep (None: all); under grouped-query attention each
    kept head then gets its own copy of its kv head. ``delegate``: the model's own
    attention for unverified batches (None: eager).
    """

    def __init__(
        self,
        valid: torch.Tensor | None,
        kinds: set[str],
        wanted: set[int] | None,
        verify: bool,
        *,
        queries: torch.Tensor | None = None,
        heads: Sequence[int] | None = None,
        delegate: Callable[..., Any] | None = None,
    ) -> None:
        self.valid = valid
        self.kinds = set(kinds)
        self.wanted = wanted
        self.verify = verify
        self.queries = queries
        self.heads = list(heads) if heads is not None else None
        self.delegate = delegate
        self.calls = 0
        self.q: dict[int, torch.Tensor] = {}  # [n_query_rows, heads, d_head] per layer
        self.k: dict[int, torch.Tensor] = {}  # [n_real_rows, kv_heads, d_head] per layer
        #: |v_j| per layer, ``[n_real_rows, kv_heads]`` float32 (value-weighted attention)
        self.vnorm: dict[int, torch.Tensor] = {}
        self.scales: dict[int, float] = {}
        self.windows: dict[int, int] = {}  # model layer -> sliding window (keys per query)
        self.names: dict[int, str] = {}  # model layer -> attention module class
        self.is_causal_attr: bool | None = None
        self.max_verify_err = 0.0
        self._checked: list[tuple[Any, int | None, torch.Tensor]] = []

    def record(
        self,
        module: torch.nn.Module,
        eager: Callable[..., Any],
        query: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        mask: torch.Tensor | None,
        scaling: float | None,
        dropout: float,
        kwargs: dict[str, Any],
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        layer = self.calls
        self.calls += 1
        name = type(module).__name__
        scaling = attention_scale(module, query, scaling, kwargs)
        if query.shape[-2] != key.shape[-2] or query.shape[1] % key.shape[1]:
            raise UnsupportedModelError(
                f"{name} (layer {layer}): query {tuple(query.shape)} and key {tuple(key.shape)} "
                "are not self-attention over one sequence (cross-attention or a cache?)"
            )
        window = kwargs.get("sliding_window")
        window = int(window) if window else None
        allowed = self._check_mask(mask, layer, query, window)
        if window is not None:
            self.windows[layer] = window
        if self.is_causal_attr is None and hasattr(module, "is_causal"):
            self.is_causal_attr = bool(module.is_causal)
        if self.wanted is None or layer in self.wanted:
            self._keep(layer, name, query, key, value)
            self.scales[layer] = float(scaling)
        if not self.verify:
            attend = self.delegate or eager
            return attend(  # type: ignore[no-any-return]
                module, query, key, value, mask, scaling=scaling, dropout=dropout, **kwargs
            )
        out, weights = eager(
            module, query, key, value, mask, scaling=scaling, dropout=dropout, **kwargs
        )
        if weights is not None:
            self._verify(layer, name, query, key, float(scaling), allowed, weights)
        return out, weights

    def _valid(self, query: torch.Tensor) -> torch.Tensor:
        if self.valid is None:
            b, _, s, _ = query.shape
            return torch.ones(b, s, dtype=torch.bool, device=query.device)
        return self.valid.to(query.device)

    def _query_rows(self, query: torch.Tensor) -> torch.Tensor:
        valid = self._valid(query)
        return valid if self.queries is None else valid & self.queries.to(query.device)

    def _keep(
        self, layer: int, name: str, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor
    ) -> None:
        """Copy the kept rows and heads only (the one copy a capture makes)."""
        if self.heads is not None:
            group = query.shape[1] // key.shape[1]
            query = query[:, self.heads]
            key = key[:, [h // group for h in self.heads]]
            value = value[:, [h // group for h in self.heads]]
        q = query.detach().transpose(1, 2)[self._query_rows(query)]
        k = key.detach().transpose(1, 2)[self._valid(query)]
        self.vnorm[layer] = value.detach().float().norm(dim=-1).transpose(1, 2)[self._valid(query)]
        # finiteness is checked once per stored copy in runner._to_numpy (one reduction)
        self.q[layer], self.k[layer] = q, k
        self.names[layer] = name

    def _check_mask(
        self, mask: torch.Tensor | None, layer: int, query: torch.Tensor, window: int | None
    ) -> torch.Tensor:
        for m, w, allowed in self._checked:  # layers usually share one mask object
            if m is mask and w == window and mask is not None:
                return allowed
        got, matches = match_mask(mask, layer, self._valid(query), window)
        if not (self.kinds & matches):
            raise refuse_mask(layer, window)
        self.kinds &= matches
        self._checked.append((mask, window, got))
        return got

    def _verify(
        self,
        layer: int,
        name: str,
        query: torch.Tensor,
        key: torch.Tensor,
        scaling: float,
        allowed: torch.Tensor,
        weights: torch.Tensor,
    ) -> None:
        """The model's weights vs softmax(Q K^T * scale + mask) on the kept query rows, one
        sequence at a time (memory: one sequence's kept rows x keys per head)."""
        q, k = query.float(), key.float()
        k = k.repeat_interleave(q.shape[1] // k.shape[1], dim=1)
        rows = self._query_rows(query)
        worst = 0.0
        for b in range(q.shape[0]):
            idx = rows[b].nonzero()[:, 0]
            if not len(idx):
                continue
            scores = (q[b][:, idx] @ k[b].transpose(-1, -2)) * scaling  # [heads, rows, keys]
            scores = scores.masked_fill(~allowed[b][idx][None], float("-inf"))
            err = (torch.softmax(scores, dim=-1) - weights[b][:, idx].float()).abs()
            worst = max(worst, float(err.max()))
        tol = 1e-4 if query.dtype == torch.float32 else 2e-2
        if not worst <= tol:
            raise UnsupportedModelError(
                f"{name} (layer {layer}): the model's attention weights differ from "
                f"softmax(Q K^T * scale + mask) by {worst:.2e}; it modifies attention scores in "
                "a way attentionviz cannot reproduce from Q and K"
            )
        self.max_verify_err = max(self.max_verify_err, worst)

    def rows(self, layer: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Q ``[heads, n_query_rows, d_head]`` and K ``[kv_heads, n_real, d_head]`` of layer
        ``layer`` (kept rows and heads), sequences in batch order."""
        return self.q[layer].transpose(0, 1), self.k[layer].transpose(0, 1)

    def value_norms(self, layer: int, n_heads: int) -> torch.Tensor:
        """``|v_j|`` ``[n_heads, n_real]`` of layer ``layer``'s real tokens (a kv head's norms
        repeated for each query head it serves)."""
        norms = self.vnorm[layer]
        return norms.repeat_interleave(n_heads // norms.shape[1], dim=1).transpose(0, 1)
