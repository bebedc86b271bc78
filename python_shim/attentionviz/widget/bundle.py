"""The widget's ES module as anywidget loads it: a small loader, with the bundle beside it.

anywidget imports a widget's inline ``_esm`` text from a fresh ``blob:`` URL for every
widget instance, and a browser never frees a module it has imported. With the whole bundle
(~0.8 MB: three.js, the views, the workers) as ``_esm``, every AttentionViz shown kept its
own copy of the code and of three.js alive for the life of the page: about 4 MB of JS heap
per widget (measured by e2e/reliability.test.mjs, opening and closing the widget 50 times).

So ``_esm`` is ``LOADER``, a few hundred bytes, and the bundle crosses as the binary trait
``_bundle``; the loader imports it once per page and bundle version (keyed by its hash on
``globalThis``) and every later widget reuses that module. JupyterLab also keeps each closed
widget's model alive; the loader empties the model's buffers when the kernel closes it.
"""

from __future__ import annotations

import hashlib
import pathlib

#: Where ``npm run build`` writes the front end (the bundle, onnxruntime-web's WASM).
STATIC = pathlib.Path(__file__).resolve().parent.parent / "static"
#: onnxruntime-web's WASM runtime, shipped next to widget.js.
ORT_WASM = "ort-wasm-simd-threaded.jsep.wasm"


def bundle_path() -> pathlib.Path:
    """The built widget, or FileNotFoundError saying how to build it."""
    path = STATIC / "widget.js"
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: the package was installed without its JavaScript; "
            "reinstall attentionviz from a wheel or run `npm run build:prod`"
        )
    return path


def ort_wasm_path() -> pathlib.Path:
    """onnxruntime-web's WASM runtime shipped next to widget.js (the browser side needs its
    bytes: the widget is loaded from a blob: URL and never fetches from a CDN)."""
    path = STATIC / ORT_WASM
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: build the front end (npx webpack --mode=production)"
        )
    return path


#: The built widget (``npm run build`` writes it), as bytes.
BUNDLE: bytes = (STATIC / "widget.js").read_bytes()

_LOADER = """\
// attentionviz: import the bundle (the _bundle trait) once per page and version, then share it.
const KEY = Symbol.for('attentionviz.bundle.%(hash)s');
function bundle(model) {
  if (!globalThis[KEY]) {
    const url = URL.createObjectURL(new Blob([model.get('_bundle')], { type: 'text/javascript' }));
    globalThis[KEY] = import(url).then(
      (module) => (URL.revokeObjectURL(url), module),
      (error) => {
        URL.revokeObjectURL(url);
        delete globalThis[KEY];
        throw error;
      },
    );
  }
  return globalThis[KEY];
}
// JupyterLab keeps a closed widget's model alive (a comm handler of the closed comm still
// points at it), so when the kernel closes the widget drop the model's buffers: otherwise
// every closed widget keeps its bundle, token table and Q/K in the page.
function releaseOnClose(model) {
  model.on('destroy', () => {
    for (const name of ['_bundle', '_tokens', '_queries', '_keys', '_selected_rows']) {
      model.set(name, null);
    }
    model.set('_bundle', null); // once more: Backbone keeps the values before the last set
  });
}
// The bundle's own initialize/render, called with everything anywidget passes.
export default {
  async initialize(props) {
    releaseOnClose(props.model);
    const widget = await bundle(props.model);
    return widget.default.initialize?.(props);
  },
  async render(props) {
    const widget = await bundle(props.model);
    return widget.default.render(props);
  },
};
"""

#: The ``_esm`` of the widget: loads ``BUNDLE`` once per page.
LOADER: str = _LOADER % {"hash": hashlib.sha256(BUNDLE).hexdigest()[:16]}
