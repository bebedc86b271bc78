/**
 * The analysis pane beside the single-head plot, on the kernel-free host with real WebGL:
 * the pattern heatmap linked to the plot (a hovered cell highlights that query and that
 * key, a click selects the query and picks the key for the per-dimension view), attention
 * by offset of the shown head, and weight_by_value moving the focused query's top key to
 * the key with the large value norm.
 */
import { allowedKeys, attentionRow, topK } from '../../src/compute/attention';
import { attentionByOffset, offsetSummary } from '../../src/compute/aggregate';
import { hostModel, type HostedHead } from '../../src/host';
import { decodeRows } from '../../src/model/decode';
import type { ViewTraits } from '../../src/model/traits';
import { EMPHASIS } from '../../src/render/scatter';
import type { ViewHandle } from '../../src/view';
import { dispatchPointer, gaussian, mountOnHost, mulberry32, tokenTable, waitFor } from './helpers';

const N = 30;
const D = 8;
const PER_SEQ = 10;
type Plot = HTMLElement & { attentionviz: ViewHandle };

function fakeHead(layer: number, head: number): HostedHead {
  const normal = gaussian(mulberry32(5 + 17 * layer + head));
  const queries = Float32Array.from({ length: N * D }, () => normal());
  const keys = Float32Array.from({ length: N * D }, () => normal());
  return { queries: new DataView(queries.buffer), keys: new DataView(keys.buffer), meta: { layer, head, n_tokens: N, d_head: D, dtype: 'float32', value_norms: true } };
}

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function mount(traits: Partial<ViewTraits>): { model: ReturnType<typeof hostModel>['model']; root: Plot } {
  const { model, root } = mountOnHost({
    traits: { n_layers: 1, n_heads: 1, _tokens: tokenTable(N, PER_SEQ, (i) => `t${i}`), projection: 'pca', theme: 'light', view: 'head', scale: 0.5, mask: 'bidirectional', _capture_id: 'analysis-spec', ...traits },
    first: fakeHead(0, 0),
    qkFor: fakeHead,
  }, { width: 1000, height: 560 }, cleanups);
  return { model, root: root as Plot };
}

function select(model: ReturnType<typeof hostModel>['model'], row: number): void {
  model.set('_selected_rows', new DataView(Uint32Array.of(row).buffer));
  model.save_changes();
}

function headArrays(): { queries: Float32Array; keys: Float32Array } {
  const head = fakeHead(0, 0);
  return { queries: new Float32Array(head.queries.buffer), keys: new Float32Array(head.keys.buffer) };
}

describe('analysis pane', () => {
  it('pattern: a hovered cell highlights its query and key points, a click selects the query and picks the key', async () => {
    const { model, root } = mount({ analysis: 'pattern' });
    await waitFor(() => root.dataset.ready === 'true' && root.attentionviz.pointCount() > 0, 'the plot');
    select(model, 12); // sequence 1: rows 10..19
    await waitFor(() => root.dataset.heatmapSeq === '1', 'the heatmap of sequence 1');
    const canvas = root.querySelector<HTMLCanvasElement>('.av-heatmap canvas')!;
    // 10 tokens: label margin 64 px, cells of floor((280 - 64) / 10) = 21 px
    const cell = Math.floor((280 - 64) / PER_SEQ);
    const scale = canvas.getBoundingClientRect().width / canvas.width;
    dispatchPointer(canvas, 'pointermove', (64 + 5.5 * cell) * scale, (64 + 2.5 * cell) * scale);
    await waitFor(() => root.dataset.heatmapHover === '12,15', 'the hovered cell (query 12, key 15)');
    expect(root.attentionviz.emphasis(12)).toBe(EMPHASIS.highlighted); // query of row 12
    expect(root.attentionviz.emphasis(N + 15)).toBe(EMPHASIS.highlighted); // key of row 15
    expect(root.attentionviz.emphasis(15)).not.toBe(EMPHASIS.highlighted); // not the query of 15
    expect(root.attentionviz.emphasis(N + 3)).toBe(EMPHASIS.dimmed);
    dispatchPointer(canvas, 'pointerleave', 0, 0);
    await waitFor(() => root.dataset.heatmapHover === '', 'the hover cleared');
    canvas.dispatchEvent(new MouseEvent('click', { bubbles: true, clientX: canvas.getBoundingClientRect().left + (64 + 7.5 * cell) * scale, clientY: canvas.getBoundingClientRect().top + (64 + 4.5 * cell) * scale }));
    await waitFor(() => decodeRows(model.get('_selected_rows'))[0] === 14, 'query 14 selected');
    expect(model.get('pair_key')).toBe(17);
    model.set('analysis', 'dims');
    model.save_changes();
    await waitFor(() => root.dataset.dimsPair === '14,17', 'the per-dimension view of (14, 17)');
    expect(root.querySelectorAll('.av-dims-chart rect').length).toBe(D);
  });

  it('offsets: the chart summarises attention by offset over the corpus', async () => {
    const { root } = mount({ analysis: 'offsets' });
    await waitFor(() => root.dataset.aggregatePeak !== undefined, 'the offsets chart');
    const { queries, keys } = headArrays();
    const sequences = [0, 1, 2].map((s) => Array.from({ length: PER_SEQ }, (_, i) => s * PER_SEQ + i));
    const expected = offsetSummary(attentionByOffset({ queries, keys, dHead: D, sequences, scale: 0.5, causal: false }));
    expect(Number(root.dataset.aggregatePeak)).toBe(expected.peak);
    expect(Number(root.dataset.aggregateMeanOffset)).toBeCloseTo(expected.meanAbs, 3);
    expect(root.querySelectorAll('.av-aggregate-chart rect').length).toBe(2 * (PER_SEQ - 1) + 1);
  });

  it('weight by |v|: the key with a large value norm becomes the focused query\'s top key', async () => {
    const { queries, keys } = headArrays();
    const rows = Array.from({ length: PER_SEQ }, (_, i) => 10 + i);
    const weights = attentionRow(queries, keys, D, 12, allowedKeys(rows, 2, false), 0.5);
    const order = topK(weights, PER_SEQ);
    const heavy = rows[order[PER_SEQ - 1]]; // the least attended key of query 12
    const norms = new Float32Array(N).fill(1);
    norms[heavy] = 1e4 / Math.max(weights[order[PER_SEQ - 1]], 1e-6) ; // alpha * |v| now dominates
    const { model, root } = mount({ analysis: 'dims', _value_norms: new DataView(norms.buffer) });
    await waitFor(() => root.dataset.ready === 'true', 'the plot');
    select(model, 12);
    const top = rows[order[0]];
    await waitFor(() => root.dataset.dimsPair === `12,${top}`, 'the unweighted top key');
    expect(heavy).not.toBe(top);
    model.set('weight_by_value', true);
    model.save_changes();
    await waitFor(() => root.dataset.dimsPair === `12,${heavy}`, 'the value-weighted top key');
    expect(root.dataset.lines).toBe(String(5)); // lines still drawn (top_k 5), now value-weighted
  });
});
