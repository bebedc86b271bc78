/**
 * The original AttentionViz's head-view options in the mounted view (issue #17): token
 * labels drawn without overlaps and switched off by their trait, sentence-wide lines,
 * hidden queries neither drawn nor picked, colour by position mod k with its legend.
 * Drawn with real WebGL (SwiftShader) on the kernel-free host.
 */
import { sentenceLines } from '../../src/compute/sentence_lines';
import type { HostedHead } from '../../src/host';
import { decodeRows } from '../../src/model/decode';
import type { MemoryModel } from '../../src/model/memory_model';
import type { ViewTraits } from '../../src/model/traits';
import type { ViewHandle } from '../../src/view';
import { dispatchPointer, gaussian, mountOnHost, mulberry32, tokenTable, waitFor } from './helpers';

const N_TOKENS = 30;
const D_HEAD = 8;
const PER_SEQ = 10;

type Plot = HTMLElement & { attentionviz: ViewHandle };

function fakeHead(layer: number, head: number): HostedHead & { q: Float32Array; k: Float32Array } {
  const normal = gaussian(mulberry32(5 + 17 * layer + head));
  const q = Float32Array.from({ length: N_TOKENS * D_HEAD }, () => 1.5 * normal());
  const k = Float32Array.from({ length: N_TOKENS * D_HEAD }, (_, i) => (i % D_HEAD) + 1.5 * normal());
  return { q, k, queries: new DataView(q.buffer), keys: new DataView(k.buffer), meta: { layer, head, n_tokens: N_TOKENS, d_head: D_HEAD, dtype: 'float32' } };
}

const cleanups: Array<() => void> = [];

async function mount(traits: Partial<ViewTraits> = {}): Promise<{ model: MemoryModel<ViewTraits>; plot: Plot }> {
  const mounted = mountOnHost({
    traits: { n_layers: 1, n_heads: 2, _tokens: tokenTable(N_TOKENS, PER_SEQ, (i) => `tok${i}`), projection: 'pca', view: 'head', theme: 'light', _capture_id: 'head-options-spec', scale: 0.35, ...traits },
    first: fakeHead(0, 0),
    qkFor: fakeHead,
  }, { width: 800, height: 500 }, cleanups);
  const root = mounted.root as Plot;
  const plot = await waitFor(() => (root.dataset.ready === 'true' && root.attentionviz.pointCount() > 0 ? root : null), 'a plot with points');
  return { model: mounted.model, plot };
}

function click(plot: HTMLElement, [x, y]: [number, number]): void {
  const target = plot.querySelector<HTMLElement>('.av-plot')!;
  dispatchPointer(target, 'pointerdown', x, y);
  dispatchPointer(target, 'pointerup', x, y);
}

describe('head view options of the original tool', () => {
  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  });

  it('labels the 60 points of a small capture (few enough to read), and none with labels off', async () => {
    const { model, plot } = await mount();
    await waitFor(() => Number(plot.dataset.labels) > 0, 'labels drawn');
    expect(Number(plot.dataset.labels)).toBeLessThanOrEqual(2 * N_TOKENS);
    model.set('labels', false);
    model.save_changes();
    await waitFor(() => plot.dataset.labels === '0', 'labels gone');
  });

  it('sentence-wide lines: a click draws the top 2 (>= 0.05) of every query of the sentence', async () => {
    const { model, plot } = await mount({ lines: 'sentence' });
    model.set('_selected_rows', new DataView(Uint32Array.from([13]).buffer));
    model.save_changes();
    const head = fakeHead(0, 0);
    const rows = Array.from({ length: PER_SEQ }, (_, i) => 10 + i);
    const expected = sentenceLines(head.q, head.k, D_HEAD, rows, { scale: 0.35, causal: false, hidden: null }).length;
    expect(expected).toBeGreaterThan(PER_SEQ); // more than one line per query somewhere
    await waitFor(() => plot.dataset.lines === String(expected), `${expected} lines`);
    model.set('lines', 'query');
    model.save_changes();
    await waitFor(() => plot.dataset.lines === '5', 'back to top_k lines');
  });

  it('hidden queries are not picked: a click on one selects nothing, on a key it selects', async () => {
    const { model, plot } = await mount({ hide_queries: true });
    await waitFor(() => plot.dataset.hiddenPoints === String(N_TOKENS), 'queries hidden');
    plot.attentionviz.snapshot();
    const width = plot.querySelector('.av-plot')!.getBoundingClientRect().width;
    // A query point with no key within the pick radius (else the key would be picked).
    const all = Array.from({ length: 2 * N_TOKENS }, (_, i) => plot.attentionviz.canvasPosition(i));
    const lone = [...Array(N_TOKENS).keys()].find((i) => all[i][0] > 10 && all[i][0] < width - 10 && all.slice(N_TOKENS).every(([x, y]) => Math.hypot(x - all[i][0], y - all[i][1]) > 12));
    expect(lone).withContext('a query far from every key').toBeDefined();
    click(plot, all[lone!]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(decodeRows(model.get('_selected_rows')).length).toBe(0);
    click(plot, all[N_TOKENS + 4]);
    await waitFor(() => decodeRows(model.get('_selected_rows')).length === 1, 'a key selected');
  });

  it('colour by position mod k follows pos_mod_k, one legend entry per residue', async () => {
    const { model, plot } = await mount({ color_by: 'pos_mod', pos_mod_k: 3 });
    const legend = (): string[] => Array.from(plot.querySelectorAll('.av-legend > span'), (el) => el.textContent ?? '');
    await waitFor(() => legend().length === 3, 'three legend entries');
    expect(legend()).toEqual(['pos mod 3 = 0', 'pos mod 3 = 1', 'pos mod 3 = 2']);
    model.set('pos_mod_k', 4);
    model.save_changes();
    await waitFor(() => legend().length === 4, 'four legend entries');
  });
});
