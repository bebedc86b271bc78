"""Recording Q and K of every forward pass of a generation, through the model's KV cache.

``model.generate`` runs one prefill pass over the (left-padded) prompts, then one pass per
new token whose query attends to every cached key. ``StepRecorder`` is set as the active
recorder (``recorder.ACTIVE``) for the whole generation: the capturing attention calls its
``record`` once per layer per pass. Each pass adds its queries and the keys it appended to
the cache (the last ``q_len`` keys of the layer's key tensor), so concatenating the passes
gives Q/K of the prompt and of every generated token exactly as the model used them.

Nothing is guessed: the key tensor must be the whole cache (a dynamic cache, not a static
or sliding one), the mask must allow exactly the real tokens up to the query's position,
and on the first ``verify_passes`` passes (eager attention) the model's own attention
weights must equal ``softmax(Q K^T * scale + mask)`` recomputed from what was recorded;
later passes run transformers' SDPA attention, as a plain ``generate`` does by default.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from ..core.errors import UnsupportedModelError
from .recorder import attention_scale


def _fast_attention() -> Callable[..., Any]:
    """transformers' SDPA attention (same maths as eager, without materialising weights)."""
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    return sdpa_attention_forward


def _allowed(mask: torch.Tensor, layer: int) -> torch.Tensor:
    """Boolean ``[batch, q, k]`` of allowed positions from a bool or additive float mask."""
    if mask.dim() != 4:
        raise UnsupportedModelError(
            f"layer {layer}: unexpected attention mask shape {tuple(mask.shape)}"
        )
    if mask.dtype == torch.bool:
        return mask[:, 0]
    m = mask.float()
    allowed = m == 0
    if not (allowed | (m < -1e4)).all():
        raise UnsupportedModelError(
            f"layer {layer}: the attention mask adds a position bias to the scores; "
            "attentionviz cannot reproduce it from Q and K"
        )
    return allowed[:, 0]


class StepRecorder:
    """Collects Q/K of every pass of one ``generate`` call over one left-padded batch.

    ``valid``: ``[batch, prompt_len]`` bool, True for real prompt tokens. Every token fed
    after the prompt is real (sequences that finished keep being fed padding by
    ``generate``; the caller drops those rows, causal attention keeps them out of the others).
    """

    def __init__(
        self, valid: torch.Tensor, n_layers: int, wanted: set[int], verify_passes: int = 2
    ) -> None:
        self.valid = valid
        self.n_layers = n_layers
        self.wanted = wanted
        self.verify_passes = verify_passes
        self.calls = 0
        self.modules: list[torch.nn.Module] = []
        self.q: dict[int, list[torch.Tensor]] = {i: [] for i in wanted}
        self.k: dict[int, list[torch.Tensor]] = {i: [] for i in wanted}
        self.n_keys = [0] * n_layers  # keys recorded so far per layer (cache length)
        self.scales: dict[int, float] = {}
        self.max_verify_err = 0.0

    @property
    def passes(self) -> int:
        """Complete forward passes recorded."""
        return self.calls // self.n_layers

    def valid_keys(self, n_keys: int) -> torch.Tensor:
        """``[batch, n_keys]`` bool: real prompt tokens, then every fed token."""
        b, p = self.valid.shape
        tail = torch.ones(b, n_keys - p, dtype=torch.bool, device=self.valid.device)
        return torch.cat([self.valid, tail], dim=1)

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
        """The capturing attention's body during a generation (see ``recorder``)."""
        layer, pass_no = self.calls % self.n_layers, self.calls // self.n_layers
        self.calls += 1
        name = type(module).__name__
        self._check_module(module, layer, pass_no, name)
        scaling = attention_scale(module, query, scaling, kwargs)
        q_len, k_len = query.shape[-2], key.shape[-2]
        if query.shape[1] % key.shape[1]:
            raise UnsupportedModelError(
                f"{name} (layer {layer}): {query.shape[1]} query heads do not share "
                f"{key.shape[1]} key heads evenly"
            )
        expected = self.n_keys[layer] + q_len
        if k_len != expected:
            raise UnsupportedModelError(
                f"{name} (layer {layer}, pass {pass_no}): the attention saw {k_len} keys, "
                f"{expected} were fed so far; only a dynamic KV cache holding every key is "
                "supported (not a static, sliding-window or quantized cache)"
            )
        self.n_keys[layer] = k_len
        verify = pass_no < self.verify_passes
        allowed = None
        if verify or pass_no == 0:
            causal = bool(getattr(module, "is_causal", True))
            window = kwargs.get("sliding_window")
            allowed = self._check_mask(mask, layer, query, k_len, causal, window)
        if layer in self.wanted:
            s = float(scaling)
            if self.scales.setdefault(layer, s) != s:
                raise UnsupportedModelError(
                    f"{name} (layer {layer}): the attention scale changed between decode steps"
                )
            self.q[layer].append(query.detach())
            self.k[layer].append(key[:, :, k_len - q_len :].detach())
        if not verify:  # the model's fast attention does the arithmetic; weights unused
            return _fast_attention()(
                module, query, key, value, mask, scaling=scaling, dropout=dropout, **kwargs
            )
        out, weights = eager(
            module, query, key, value, mask, scaling=scaling, dropout=dropout, **kwargs
        )
        if weights is not None and allowed is not None:
            self._verify(layer, name, query, key, float(scaling), allowed, weights)
        return out, weights

    def _check_module(self, module: torch.nn.Module, layer: int, pass_no: int, name: str) -> None:
        if pass_no == 0:
            self.modules.append(module)
        elif self.modules[layer] is not module:
            raise UnsupportedModelError(
                f"{name}: attention layers were called in a different order in pass {pass_no}; "
                "attentionviz cannot tell which layer is which"
            )

    def _check_mask(
        self,
        mask: torch.Tensor | None,
        layer: int,
        query: torch.Tensor,
        k_len: int,
        is_causal: bool,
        window: int | None,
    ) -> torch.Tensor:
        """The allowed ``[batch, q, k]`` keys; refuses anything but causal over real tokens."""
        q_len = query.shape[-2]
        keys = self.valid_keys(k_len).to(query.device)
        q_pos = torch.arange(k_len - q_len, k_len, device=query.device)
        causal = torch.arange(k_len, device=query.device)[None, :] <= q_pos[:, None]
        expected = keys[:, None, :] & causal[None]
        if mask is None:
            if q_len > 1:  # eager attention applies no causal mask by itself
                raise UnsupportedModelError(
                    f"layer {layer}: the prompt pass has no causal attention mask"
                    + ("" if is_causal else " (a bidirectional model)")
                    + "; generation capture needs a causal decoder"
                )
            got = expected  # one query and no padding: every cached key is allowed
        else:
            got = _allowed(mask, layer).expand_as(expected)
        rows = keys[:, k_len - q_len :]  # padding query rows are never shown
        if not bool((got == expected)[rows].all()):
            raise UnsupportedModelError(
                f"layer {layer}: during generation the attention mask is not causal over the "
                "real tokens (a sliding window?); attentionviz cannot represent it"
                + (f" (window {window})" if window else "")
            )
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
        k_len, q_len = key.shape[-2], query.shape[-2]
        rows = self.valid_keys(k_len)[:, k_len - q_len :].to(query.device)
        err = (probs - weights.float()).abs().permute(0, 2, 1, 3)[rows]
        worst = float(err.max()) if err.numel() else 0.0
        tol = 1e-4 if query.dtype == torch.float32 else 2e-2
        if not worst <= tol:
            raise UnsupportedModelError(
                f"{name} (layer {layer}): during generation the model's attention weights differ "
                f"from softmax(Q K^T * scale + mask) by {worst:.2e}; attentionviz cannot "
                "reproduce them from Q and K"
            )
        self.max_verify_err = max(self.max_verify_err, worst)

    def stacked(self, layer: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Q ``[batch, n_heads, n_fed, d_head]`` and K ``[batch, n_kv_heads, n_fed, d_head]``
        of stored layer ``layer`` over all passes (padded prompt columns included)."""
        return torch.cat(self.q[layer], dim=2), torch.cat(self.k[layer], dim=2)
