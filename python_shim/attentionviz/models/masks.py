"""Reading an attention mask as the set of allowed (query, key) positions, and the masks
attentionviz can represent: causal (optionally limited to a sliding window of keys) or
bidirectional over the real (non-padding) tokens."""

from __future__ import annotations

import torch

from ..core.errors import UnsupportedModelError


def allowed_positions(mask: torch.Tensor | None, layer: int) -> torch.Tensor | None:
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


def expected_masks(valid: torch.Tensor, window: int | None) -> dict[str, torch.Tensor]:
    """The masks a capture can record, ``[batch, q, k]`` each: "causal" (keys at most
    ``window - 1`` positions back when a sliding window is given, as transformers'
    ``sliding_window_overlay``) and "bidirectional", both over the real tokens."""
    s = valid.shape[1]
    bidir = valid[:, None, :].expand(-1, s, -1)
    offset = torch.arange(s, device=valid.device)
    back = offset[:, None] - offset[None, :]  # query position - key position
    causal = back >= 0
    if window is not None:
        causal = causal & (back < window)
    return {"causal": bidir & causal, "bidirectional": bidir}


def match_mask(
    mask: torch.Tensor | None, layer: int, valid: torch.Tensor, window: int | None
) -> tuple[torch.Tensor, set[str]]:
    """``(allowed [batch, q, k], mask kinds it equals on the real query rows)``."""
    exp = expected_masks(valid, window)
    got = allowed_positions(mask, layer)
    got = exp["bidirectional"] if got is None else got.expand_as(exp["bidirectional"])
    rows = valid  # padding query rows are never shown, ignore them
    return got, {kind for kind, e in exp.items() if bool((got == e)[rows].all())}


def refuse_mask(layer: int, window: int | None) -> UnsupportedModelError:
    """The error for a mask that is none of the kinds still possible."""
    hint = f" (sliding window of {window} tokens)" if window else ""
    return UnsupportedModelError(
        f"layer {layer}: the attention mask is neither causal nor bidirectional over the "
        f"real tokens{hint}; attentionviz cannot represent it"
    )
