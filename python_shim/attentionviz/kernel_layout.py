"""Facade: kernel layouts live in ``attentionviz.widget.kernel_layout``."""

from .widget.kernel_layout import METHODS, joint_layout, layout_bytes, normalize_qk

__all__ = ["METHODS", "joint_layout", "layout_bytes", "normalize_qk"]
