"""Recording Q and K as a transformers model multiplies them.

Transformers (>= 5) routes every attention layer through ``ALL_ATTENTION_FUNCTIONS``. We
register one more implementation, ``"attentionviz_capture"``: it records ``query`` / ``key``
(``[batch, heads, seq, d_head]``, already rotary-embedded; ``key`` has the kv heads under
grouped-query attention), the ``scaling`` and the additive mask, then delegates to the
model's own ``eager_attention_forward``. No hooks are installed; the model is switched to
this implementation only inside ``capture_mode`` (through ``attention_impl``) and restored
exactly afterwards.

Nothing is guessed: the mask must be plain causal or bidirectional over the real tokens,
and on verification batches the model's own attention weights must equal
``softmax(Q K^T * scale + mask)`` recomputed from what we recorded; otherwise we refuse.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import torch

from ..core.errors import UnsupportedModelError
from .attention_impl import attention_implementation, eager_for, model_configs, register_attention

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


@contextmanager
def capture_mode(model: torch.nn.Module) -> Iterator[None]:
    """Eval mode + no_grad + the capturing attention; restores everything on exit."""
    from transformers import PreTrainedModel

    if not isinstance(model, PreTrainedModel):
        raise TypeError(
            f"capture expects a transformers PreTrainedModel, got {type(model).__name__}; "
            "for other models build the capture with Capture.from_arrays"
        )
    check_features(model)
    register_attention(KEY, _capturing_attention)
    with attention_implementation(model, KEY):
        if model.config._attn_implementation != KEY:
            raise UnsupportedModelError(
                f"{type(model).__name__} does not route attention through transformers' "
                "AttentionInterface, so attentionviz cannot record its queries and keys"
            )
        with torch.no_grad():
            yield


def _allowed(mask: torch.Tensor | None, layer: int) -> torch.Tensor | None:
    """Boolean ``[batch, q, k]`` of allowed positions from a bool or additive float mask."""
    if mask is None:
        return None
    if mask.dim() != 4:
        raise UnsupportedModelError(
            f"layer {layer}: unexpected attention mask shape {tuple(mask.shape)}"
        )
    if mask.dtype == torch.bool:
        allowed = mask
    else:
        m = mask.float()
        allowed = m == 0
        if not (allowed | (m < -1e4)).all():  # anything else is a bias, not a mask
            raise UnsupportedModelError(
                f"layer {layer}: the attention mask adds a position bias to the scores (e.g. ALiBi "
                "or relative position bias); attentionviz cannot reproduce it from Q and K"
            )
    if allowed.shape[1] != 1 and not (allowed == allowed[:, :1]).all():
        raise UnsupportedModelError(f"layer {layer}: per-head attention masks are not supported")
    return allowed[:, 0]


class Recorder:
    """Collects Q/K of one forward pass over one padded batch.

    ``valid``: ``[batch, seq]`` bool, True for real (non-padding) tokens, or None (all real).
    ``kinds``: mask kinds still consistent with what the model did ("causal", "bidirectional").
    """

    def __init__(
        self, valid: torch.Tensor | None, kinds: set[str], wanted: set[int] | None, verify: bool
    ) -> None:
        self.valid = valid
        self.kinds = set(kinds)
        self.wanted = wanted
        self.verify = verify
        self.calls = 0
        self.q: dict[int, torch.Tensor] = {}
        self.k: dict[int, torch.Tensor] = {}
        self.scales: dict[int, float] = {}
        #: |v_j| per layer, ``[batch, kv_heads, seq]`` float32 (value-weighted attention)
        self.vnorm: dict[int, torch.Tensor] = {}
        self.is_causal_attr: bool | None = None
        self.max_verify_err = 0.0
        self._checked: list[tuple[torch.Tensor | None, torch.Tensor | None]] = []

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
        if scaling is None:
            scaling = query.shape[-1] ** -0.5  # what eager attention does with None
        if kwargs.get("softcap") is not None:
            raise UnsupportedModelError(f"{name}: attention logit soft-capping is not supported")
        if kwargs.get("s_aux") is not None or getattr(module, "sinks", None) is not None:
            raise UnsupportedModelError(f"{name}: attention sinks are not supported")
        if query.shape[-2] != key.shape[-2] or query.shape[1] % key.shape[1]:
            raise UnsupportedModelError(
                f"{name} (layer {layer}): query {tuple(query.shape)} and key {tuple(key.shape)} "
                "are not self-attention over one sequence (cross-attention or a cache?)"
            )
        for what, t in (("queries", query), ("keys", key)):
            if not torch.isfinite(t).all():
                raise ValueError(
                    f"the model produced NaN/inf {what} in layer {layer} ({name}); its output is "
                    "not usable (check the weights and inputs, or try float32)"
                )
        allowed = self._check_mask(mask, layer, query, kwargs.get("sliding_window"))
        if self.is_causal_attr is None and hasattr(module, "is_causal"):
            self.is_causal_attr = bool(module.is_causal)
        if self.wanted is None or layer in self.wanted:
            self.q[layer], self.k[layer] = query.detach(), key.detach()
            self.scales[layer] = float(scaling)
            self.vnorm[layer] = value.detach().float().norm(dim=-1)
        out, weights = eager(
            module, query, key, value, mask, scaling=scaling, dropout=dropout, **kwargs
        )
        if self.verify and weights is not None:
            self._verify(layer, name, query, key, float(scaling), allowed, weights)
        return out, weights

    def _valid(self, query: torch.Tensor) -> torch.Tensor:
        if self.valid is None:
            b, _, s, _ = query.shape
            return torch.ones(b, s, dtype=torch.bool, device=query.device)
        return self.valid.to(query.device)

    def _check_mask(
        self, mask: torch.Tensor | None, layer: int, query: torch.Tensor, window: int | None
    ) -> torch.Tensor:
        for m, allowed in self._checked:  # layers usually share one mask object
            if m is mask and allowed is not None:
                return allowed
        valid = self._valid(query)
        s = query.shape[-2]
        got = _allowed(mask, layer)
        bidir = valid[:, None, :].expand(-1, s, -1)
        causal = bidir & torch.ones(s, s, dtype=torch.bool, device=valid.device).tril()
        got = bidir if got is None else got.expand_as(bidir)
        rows = valid  # padding query rows are never shown, ignore them
        matches = {
            kind
            for kind, exp in (("causal", causal), ("bidirectional", bidir))
            if bool((got == exp)[rows].all())
        }
        if not (self.kinds & matches):
            hint = f" (sliding window of {window} tokens?)" if window else ""
            raise UnsupportedModelError(
                f"layer {layer}: the attention mask is neither causal nor bidirectional over the "
                f"real tokens{hint}; attentionviz cannot represent it"
                + (f"; capture with max_length <= {window}" if window else "")
            )
        self.kinds &= matches
        self._checked.append((mask, got))
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
        q, k = query.float(), key.float()
        k = k.repeat_interleave(q.shape[1] // k.shape[1], dim=1)
        scores = (q @ k.transpose(-1, -2)) * scaling
        scores = scores.masked_fill(~allowed[:, None], float("-inf"))
        probs = torch.softmax(scores, dim=-1)
        rows = self._valid(query)
        err = (probs - weights.float()).abs().permute(0, 2, 1, 3)[rows]
        worst = float(err.max()) if err.numel() else 0.0
        tol = 1e-4 if query.dtype == torch.float32 else 2e-2
        if not worst <= tol:
            raise UnsupportedModelError(
                f"{name} (layer {layer}): the model's attention weights differ from "
                f"softmax(Q K^T * scale + mask) by {worst:.2e}; it modifies attention scores in "
                "a way attentionviz cannot reproduce from Q and K"
            )
        self.max_verify_err = max(self.max_verify_err, worst)

    def rows(self, layer: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Q ``[n_heads, n_real, d_head]`` and K ``[n_kv_heads, n_real, d_head]`` of the real
        tokens of layer ``layer``, sequences in batch order."""
        q, k = self.q[layer], self.k[layer]
        valid = self._valid(q)
        return q.transpose(0, 1)[:, valid], k.transpose(0, 1)[:, valid]

    def value_norms(self, layer: int, n_heads: int) -> torch.Tensor:
        """``|v_j|`` ``[n_heads, n_real]`` of the real tokens of layer ``layer`` (a kv head's
        norms repeated for each query head it serves)."""
        norms = self.vnorm[layer]
        norms = norms.repeat_interleave(n_heads // norms.shape[1], dim=1)
        return norms.transpose(0, 1)[:, self._valid(self.q[layer])]
