"""Everything that needs torch / transformers: ``capture``, ``capture_vision``, the recorder
(``recorder``), the one place that swaps a model's attention implementation
(``attention_impl``), batching, model images and the ONNX export (``onnx_export``).

Nothing in ``attentionviz.core`` or ``attentionviz.widget`` imports this package; the
package ``attentionviz`` loads it only when ``av.capture`` / ``av.capture_vision`` is used.
"""

from .capture import capture, capture_vision

__all__ = ["capture", "capture_vision"]
