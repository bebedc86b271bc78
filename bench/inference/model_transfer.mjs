// Model transfer for typed text (AttentionViz(cap, onnx=...)): the kernel sends the ONNX
// model, tokenizer, manifest and onnxruntime's WASM (~120 MB for MiniLM fp32) to the view
// as binary custom messages. Measures, in a real JupyterLab + headless Chromium, the time
// from pressing Enter to "starting onnxruntime…" (all bytes arrived) with 16 MB chunks
// (the default, attentionviz.text_input.CHUNK_BYTES) against one message per file (the
// baseline: 90 MB + 28 MB messages), in the same run, alternating.
// Usage: node bench/inference/model_transfer.mjs [--runs N]   (not a timed test)
import { launchBrowser, runInKernel, startLab } from '../../e2e/lab.mjs';

const argv = process.argv.slice(2);
const RUNS = Number(argv[argv.indexOf('--runs') + 1]) || 2;
const CHUNKS = { chunked: 16 << 20, 'one message per file': 1 << 30 };

const lab = await startLab();
const setup = [
  'import os, tempfile, pathlib, functools',
  'os.environ.setdefault("HF_HUB_OFFLINE", "1")',
  'import attentionviz as av',
  'from attentionviz.corpus import sentences',
  'from attentionviz.demo import load_minilm',
  'from attentionviz.onnx import export',
  'from attentionviz.text_input import OnnxFiles',
  'model, tokenizer = load_minilm()',
  'cap = av.capture(model, tokenizer, sentences(4), progress=False)',
  'onnx_dir = pathlib.Path(tempfile.mkdtemp(prefix="attnviz-transfer-"))',
  'export(model, tokenizer, onnx_dir / "model.onnx")',
  'def view(chunk):',
  '    viz = av.AttentionViz(cap, head=(0, 0), projection="pca", onnx=onnx_dir)',
  '    viz._onnx.read_chunk = functools.partial(OnnxFiles.read_chunk, viz._onnx, chunk_bytes=chunk)',
  '    return viz',
].join('\n');
const notebook = {
  type: 'notebook',
  content: {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
    cells: [{ cell_type: 'code', id: 'setup', metadata: {}, execution_count: null, outputs: [], source: setup }],
  },
};
await fetch(`${lab.url}/api/contents/transfer.ipynb`, {
  method: 'PUT',
  headers: { Authorization: `token ${lab.token}`, 'Content-Type': 'application/json' },
  body: JSON.stringify(notebook),
});
const browser = await launchBrowser();
const results = Object.fromEntries(Object.keys(CHUNKS).map((name) => [name, []]));
let bytes = 0;
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${lab.url}/lab/tree/transfer.ipynb?token=${lab.token}`);
  await page.waitForFunction(() => window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel, null, { timeout: 120_000 });
  await page.evaluate(() => window.jupyterapp.commands.execute('notebook:run-all-cells'));
  await page.waitForFunction(() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle', null, { timeout: 600_000 });
  for (let run = 0; run < RUNS; run++) {
    for (const [name, chunk] of Object.entries(CHUNKS)) {
      // A fresh view each time (its own transfer), shown in a new cell's output.
      await page.evaluate(async (code) => {
        const panel = window.jupyterapp.shell.currentWidget;
        await window.jupyterapp.commands.execute('notebook:insert-cell-below');
        panel.content.activeCell.model.sharedModel.setSource(code);
        await window.jupyterapp.commands.execute('notebook:run-cell');
      }, `view(${chunk})`);
      const root = page.locator('.attentionviz').last();
      await root.locator('.av-addtext input').waitFor({ timeout: 120_000 });
      bytes = JSON.parse(await runInKernel(page, 'import json\nprint(json.dumps(sum(p.stat().st_size for p in OnnxFiles(onnx_dir, cap).paths.values())))'));
      await root.locator('.av-addtext input').fill('The quick brown fox.');
      const started = Date.now();
      await root.locator('.av-addtext input').press('Enter');
      await page.waitForFunction(() => {
        const all = document.querySelectorAll('.attentionviz .av-addtext-status');
        return /starting|computing|added|could not/.test(all[all.length - 1].textContent);
      }, null, { timeout: 600_000, polling: 20 });
      const seconds = (Date.now() - started) / 1000;
      const status = await root.locator('.av-addtext-status').textContent();
      if (/could not/.test(status)) throw new Error(`${name}: ${status}`);
      results[name].push(seconds);
      await page.waitForFunction(() => {
        const all = document.querySelectorAll('.attentionviz .av-addtext-status');
        return /added|could not/.test(all[all.length - 1].textContent);
      }, null, { timeout: 600_000 });
    }
  }
} finally {
  await browser.close();
  await lab.stop();
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = median(results['one message per file']);
console.log(`\n| transfer of ${(bytes / 1e6).toFixed(0)} MB kernel -> view | median s | runs | vs one message per file |`);
console.log('|---|---|---|---|');
for (const [name, xs] of Object.entries(results)) {
  console.log(`| ${name} | ${median(xs).toFixed(2)} | ${xs.map((x) => x.toFixed(2)).join(', ')} | ${(median(xs) / base).toFixed(2)}x |`);
}
