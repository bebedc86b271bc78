"""The torch-free core: ``Capture``, ``load``, the stores behind a capture, the ``.attnviz``
format, the token table, Arrow encoding and the one atomic writer.

Imports neither torch nor transformers nor ``attentionviz.widget`` / ``attentionviz.models``
(import-linter checks it): a saved capture opens, shows and exports without PyTorch.
Import from the submodules (``attentionviz.core.capture`` ...); this package stays empty so
that importing one of them costs only what it needs.
"""
