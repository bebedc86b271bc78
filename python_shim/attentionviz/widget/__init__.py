"""The notebook widget: ``AttentionViz`` (traits in ``traits``), its request router
(``router``, protocol v1), the wire encoding of a head (``wire``), selection <-> pandas
(``selection``), typed text (``text_input``), kernel layouts, the standalone HTML export
(``html``) and the JS bundle (``bundle``). Imports ``attentionviz.core``, never
``attentionviz.models``: a saved capture shows without torch.
"""

from .viz import AttentionViz

__all__ = ["AttentionViz"]
