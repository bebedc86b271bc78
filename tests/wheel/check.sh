#!/usr/bin/env bash
# What `pip install attentionviz` gives a user: build the wheel, install it in a fresh venv
# with no torch and no Node on PATH, then check import, av.load() of a saved capture,
# `attentionviz html` and that the page draws from file:// (Chromium, driven from the repo's
# node_modules outside that venv). Then torch CPU + attentionviz[models] and a capture.
# Prints the wheel's size and contents summary. usage: bash tests/wheel/check.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DEV="$ROOT/.venv/bin/python"
OUT="$ROOT/test-output/wheel"
WORK="$(mktemp -d /tmp/attentionviz-wheel-XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
rm -rf "$OUT" && mkdir -p "$OUT"
export HF_HUB_OFFLINE=1

echo "== build the wheel (the bundle built by make install is reused: skip-if-exists)"
"$DEV" -m build --wheel --no-isolation --outdir "$WORK/dist" "$ROOT" >"$OUT/build.log" 2>&1 \
  || { tail -30 "$OUT/build.log"; exit 1; }
WHEEL="$(ls "$WORK"/dist/attentionviz-*.whl)"
"$DEV" - "$WHEEL" "$OUT/contents.txt" <<'PY'
import sys, zipfile
wheel, report = sys.argv[1:]
infos = zipfile.ZipFile(wheel).infolist()
names = [i.filename for i in infos]
bad = [n for n in names if "/tests/" in n or n.endswith((".map", ".ts")) and not n.endswith(".d.ts")
       or "node_modules" in n or "__pycache__" in n]
with open(report, "w") as f:
    for i in infos:
        f.write(f"{i.file_size:>10} {i.filename}\n")
import os
size = os.path.getsize(wheel)
print(f"wheel {os.path.basename(wheel)}: {size / 1e6:.2f} MB, {len(names)} files "
      f"({sum(i.file_size for i in infos) / 1e6:.2f} MB unpacked); list in {report}")
assert not bad, f"the wheel ships files a user does not need: {bad[:10]}"
assert any(n.endswith("static/widget.js") for n in names), "no widget bundle in the wheel"
PY

echo "== fresh venv, no torch, no Node"
python3 -m venv "$WORK/venv"
VPY="$WORK/venv/bin/python"
"$VPY" -m pip install --quiet "$WHEEL" 2>&1 | grep -v "is ignored" || true
# A saved capture, written by the dev venv from arrays (torch-free writer).
"$DEV" -c '
import sys, numpy as np, pandas as pd, attentionviz as av
rng = np.random.default_rng(0)
tokens = pd.DataFrame({"text": [f"w{i % 11}" for i in range(60)], "seq": np.repeat(np.arange(3), 20)})
base = rng.normal(size=(60, 16))
q = (base + 0.4 * rng.normal(size=(2, 4, 60, 16))).astype(np.float16)
k = (base + 0.4 * rng.normal(size=(2, 4, 60, 16))).astype(np.float16)
av.Capture.from_arrays(tokens, q, k, scale=0.25, mask="causal", model_name="wheel-check").save(sys.argv[1])
' "$WORK/saved.attnviz"
env -i HOME="$WORK" PATH="$WORK/venv/bin" HF_HUB_OFFLINE=1 "$VPY" -c '
import importlib.util, shutil, sys
assert importlib.util.find_spec("torch") is None, "torch is installed in the fresh venv"
assert shutil.which("node") is None, "node is on PATH"
import attentionviz as av
cap = av.load(sys.argv[1])
assert (cap.n_layers, cap.n_heads, len(cap.tokens)) == (2, 4, 60), cap
print("import + av.load ok:", cap)
try:
    av.capture
except ImportError as error:
    assert "attentionviz[models]" in str(error), error
    print("av.capture without torch: ImportError naming attentionviz[models]")
else:
    raise AssertionError("av.capture resolved without torch")
' "$WORK/saved.attnviz"
env -i HOME="$WORK" PATH="$WORK/venv/bin" "$WORK/venv/bin/attentionviz" html "$WORK/saved.attnviz" \
  -o "$OUT/page.html" --head 1,2 --no-progress
node "$ROOT/tests/wheel/draws.mjs" "$OUT/page.html" "$OUT/page-from-wheel.png"

echo "== torch CPU first, then attentionviz[models], then a capture"
"$VPY" -m pip install --quiet torch==2.13.0 2>&1 | grep -v "is ignored" || true
"$VPY" -m pip install --quiet "$WHEEL[models]" 2>&1 | grep -v "is ignored" || true
env -i HOME="$WORK" PATH="$WORK/venv/bin" HF_HUB_OFFLINE=1 "$VPY" -c '
import torch
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import GPT2Config, GPT2Model, PreTrainedTokenizerFast
import attentionviz as av
assert "+cpu" in torch.__version__ or not torch.cuda.is_available(), torch.__version__
words = "the cat sat on a mat dog ran".split()
raw = Tokenizer(models.WordLevel({w: i for i, w in enumerate(["[UNK]", *words])}, unk_token="[UNK]"))
raw.pre_tokenizer = pre_tokenizers.Whitespace()
tok = PreTrainedTokenizerFast(tokenizer_object=raw, unk_token="[UNK]", pad_token="[UNK]")
model = GPT2Model(GPT2Config(vocab_size=16, n_embd=32, n_layer=2, n_head=2, n_positions=32)).eval()
cap = av.capture(model, tok, ["the cat sat on a mat", "a dog ran"], progress=False)
assert (cap.n_layers, cap.n_heads, len(cap.tokens)) == (2, 2, 9), cap
print("torch", torch.__version__, "+ attentionviz[models]: capture ok:", cap)
'
echo "wheel check: 1 passed, 0 failed"
