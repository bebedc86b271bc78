"""Joint Q/K layouts computed in this kernel (``layout_backend="kernel"``: umap-learn /
openTSNE), sent to the view as the ``_layout`` trait."""

from __future__ import annotations

import importlib.util

import numpy as np
import traitlets as t

from ..core.capture import Capture
from .traits import ViewTraits


class KernelLayoutView(ViewTraits):
    """The kernel-layout part of ``AttentionViz`` (its capture is ``self._capture``)."""

    _capture: Capture

    def _check_kernel_backend(self) -> None:
        missing = [m for m in ("umap", "openTSNE") if importlib.util.find_spec(m) is None]
        if missing:
            raise ImportError(
                f'layout_backend="kernel" needs {", ".join(missing)}: '
                'pip install "attentionviz[kernel-layout]"'
            )

    @t.observe("layout_backend")
    def _on_backend(self, change: dict) -> None:
        if change["new"] == "kernel":
            try:
                self._check_kernel_backend()
            except ImportError:
                self.layout_backend = "browser"  # the view keeps working
                raise
        self._send_layout()

    @t.observe("projection", "dims", "normalize")
    def _on_layout_params(self, _change: dict) -> None:
        self._send_layout()

    def kernel_layout(
        self, layer: int | None = None, head: int | None = None, *, progress: bool = True
    ) -> np.ndarray:
        """The joint Q/K layout of a head computed in this kernel (``projection``, ``dims``,
        ``normalize`` as set on the view): float32 ``[2 n_tokens, dims]``, queries first."""
        from .kernel_layout import joint_layout  # (umap / openTSNE load only when used)

        shown = self.head
        layer = shown[0] if layer is None else layer
        head = shown[1] if head is None else head
        queries, keys = self._capture.qk(layer, head)
        return joint_layout(
            queries,
            keys,
            self.projection,
            dims=int(self.dims),
            normalize=self.normalize,
            progress=progress,
        )

    def _send_layout(self) -> None:
        """With the kernel backend, compute and send the shown head's UMAP / t-SNE layout."""
        # not while __init__ is still setting traits (head is set last)
        if not getattr(self, "_layouts_live", False) or self.layout_backend != "kernel":
            return
        from .kernel_layout import METHODS, layout_bytes

        if self.projection not in METHODS:
            return  # PCA: the browser does it instantly
        layer, head = self.head
        meta = {
            "layer": layer,
            "head": head,
            "method": self.projection,
            "dims": int(self.dims),
            "normalize": bool(self.normalize),
        }
        if {k: v for k, v in self._layout_meta.items() if k != "n_points"} == meta:
            return
        try:
            positions = self.kernel_layout(layer, head)
        except Exception as error:  # shown in the view; the PCA layout stays
            self.error = f"kernel {self.projection} layout failed: {error}"
            raise
        with self.hold_sync():
            self._layout = layout_bytes(positions)
            self._layout_meta = {**meta, "n_points": int(positions.shape[0])}
