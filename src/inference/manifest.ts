/** Checks on `attnviz-onnx.json` and on the ONNX session's inputs/outputs, with messages
 * that name what is missing. Pure functions (used by the worker and the main thread). */
import { MANIFEST_FORMAT, type OnnxManifest } from './protocol';

export function checkManifest(value: unknown): OnnxManifest {
  if (!value || typeof value !== 'object') throw new Error('attnviz-onnx.json is not a JSON object');
  const m = value as Partial<OnnxManifest>;
  if (m.format !== MANIFEST_FORMAT) {
    throw new Error(`attnviz-onnx.json has format ${JSON.stringify(m.format)}, expected "${MANIFEST_FORMAT}"`);
  }
  for (const key of ['n_layers', 'n_heads', 'n_kv_heads', 'd_head', 'max_length'] as const) {
    const v = m[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
      throw new Error(`attnviz-onnx.json: ${key} must be a positive integer, got ${JSON.stringify(v)}`);
    }
  }
  const { q, k } = m.outputs ?? ({} as OnnxManifest['outputs']);
  if (!Array.isArray(q) || !Array.isArray(k) || q.length !== m.n_layers || k.length !== m.n_layers) {
    throw new Error(`attnviz-onnx.json: outputs.q / outputs.k must name ${m.n_layers} outputs each`);
  }
  return m as OnnxManifest;
}

/** A message naming the Q/K outputs (or inputs) the model lacks, or null if it has all. */
export function missingOutputs(manifest: OnnxManifest, outputs: readonly string[], inputs: readonly string[]): string | null {
  const have = new Set(outputs);
  const wanted = [...manifest.outputs.q, ...manifest.outputs.k];
  const missing = wanted.filter((name) => !have.has(name));
  if (missing.length) {
    return (
      `the ONNX model lacks the Q/K output(s) ${missing.join(', ')} (${missing.length} of ${wanted.length}); ` +
      'export it with attentionviz.onnx.export'
    );
  }
  const missingIn = ['input_ids', 'attention_mask'].filter((name) => !inputs.includes(name));
  if (missingIn.length) return `the ONNX model lacks the input(s) ${missingIn.join(', ')}`;
  return null;
}
