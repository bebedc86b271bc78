"""attentionviz in marimo: a lasso in the view re-runs the cell that reads the selection.

    marimo edit examples/marimo_app.py      # or: marimo run examples/marimo_app.py

Synthetic Q/K (no model, no torch) so it runs anywhere; use ``av.capture(model, tok,
texts)`` or ``av.load("x.attnviz")`` for a real one.
"""

import marimo

app = marimo.App(width="full")


@app.cell
def _():
    import marimo as mo
    import numpy as np
    import pandas as pd

    import attentionviz as av

    return av, mo, np, pd


@app.cell
def _(av, np, pd):
    rng = np.random.default_rng(0)
    words = "the cat sat on a mat while dogs ran in the park".split()
    tokens = pd.DataFrame(
        {"text": [words[i % len(words)] for i in range(120)], "seq": np.repeat(np.arange(4), 30)}
    )
    base = rng.normal(size=(120, 16))
    q = (base + 0.4 * rng.normal(size=(2, 4, 120, 16))).astype(np.float32)
    k = (base + 0.4 * rng.normal(size=(2, 4, 120, 16))).astype(np.float32)
    cap = av.Capture.from_arrays(tokens, q, k, scale=0.25, mask="causal", model_name="marimo-demo")
    return (cap,)


@app.cell
def _(av, cap, mo):
    view = mo.ui.anywidget(av.AttentionViz(cap, head=(1, 2), view="head", projection="pca"))
    view
    return (view,)


@app.cell
def _(mo, view):
    # Reading view.value makes this cell re-run whenever the view's state changes (a click
    # or lasso); view.widget is the AttentionViz, whose .selection is a DataFrame.
    _ = view.value
    selected = view.widget.selection
    mo.vstack([mo.md(f"**{len(selected)} tokens selected**"), mo.ui.table(selected, selection=None)])
    return (selected,)


if __name__ == "__main__":
    app.run()
