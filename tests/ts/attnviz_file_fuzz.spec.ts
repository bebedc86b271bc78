/**
 * The .attnviz reader on 1,000 damaged files (fast-check): bytes changed in the header
 * length, the manifest, the tensor table, the Q/K data or the Parquet token table, and
 * files cut short. Each either fails with AttnvizFileError saying what is wrong, or
 * reads back data consistent with its manifest (the token table decodes with one row per
 * token, each head's Q/K have the manifest's size); nothing else is thrown and no file
 * takes a second.
 */
import fc from 'fast-check';
import { AttnvizFileError, bufferSource, openAttnviz, type AttnvizReader } from '../../src/model/attnviz_file';
import { decodeTokenTable } from '../../src/model/tokens';

const FIXTURES = ['tiny_f32', 'tiny_gqa_f16'];
const RUNS = 1000;
/** A damaged file must be judged well within this (a hang or a huge allocation would exceed it). */
const BUDGET_MS = 1000;

type Region = 'length' | 'manifest' | 'tensors' | 'qk' | 'parquet';

interface Fixture {
  bytes: Uint8Array;
  /** [start, end) byte ranges of each region; 'tensors' is the header outside the manifest. */
  regions: Record<Region, Array<[number, number]>>;
}

/** Where each region of a (valid) fixture lies. */
function regionsOf(bytes: Uint8Array): Record<Region, Array<[number, number]>> {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  // The manifest is the JSON string value of __metadata__.attnviz (ASCII in the fixtures).
  const open = text.indexOf('"attnviz": "') + '"attnviz": "'.length;
  let close = open;
  while (text[close] !== '"' || text[close - 1] === '\\') close++;
  const header = JSON.parse(text) as Record<string, { data_offsets: [number, number] }>;
  const data = (name: string): [number, number] => [8 + n + header[name].data_offsets[0], 8 + n + header[name].data_offsets[1]];
  const qk = Object.keys(header).filter((name) => /^[qk]\.\d+$/.test(name));
  return {
    length: [[0, 8]],
    manifest: [[8 + open, 8 + close]],
    tensors: [
      [8, 8 + open],
      [8 + close, 8 + n],
    ],
    qk: qk.map(data),
    parquet: [data('tokens.parquet')],
  };
}

async function loadFixture(name: string): Promise<Fixture> {
  const response = await fetch(`/base/tests/fixtures/${name}.attnviz`);
  if (!response.ok) throw new Error(`fixture ${name} is not served (karma.conf.cjs files)`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  return { bytes, regions: regionsOf(bytes) };
}

interface Damage {
  fixture: number;
  region: Region;
  /** Positions as fractions of the region, each XOR-ed with a non-zero mask. */
  flips: Array<{ at: number; mask: number }>;
  /**
   * Instead: change the digits at those positions to other digits, so a JSON header
   * stays JSON and the numbers in it (counts, shapes, offsets, the length field's text
   * has none: there it is a plain XOR) disagree with each other.
   */
  digits: boolean;
  /** Keep only this fraction of the file (undefined: keep it whole). */
  cut?: number;
}

const damageArbitrary: fc.Arbitrary<Damage> = fc.record(
  {
    fixture: fc.nat(FIXTURES.length - 1),
    region: fc.constantFrom<Region>('length', 'manifest', 'tensors', 'qk', 'parquet'),
    digits: fc.boolean(),
    flips: fc.array(fc.record({ at: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), mask: fc.integer({ min: 1, max: 255 }) }), { minLength: 0, maxLength: 6 }),
    cut: fc.option(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { nil: undefined, freq: 4 }),
  },
  { requiredKeys: ['fixture', 'region', 'digits', 'flips'] },
);

const isDigit = (byte: number): boolean => byte >= 0x30 && byte <= 0x39;

const PARQUET_HOLE: Damage = {
  fixture: 0,
  region: 'parquet',
  digits: false,
  flips: [
    { at: 0.35061444652393614, mask: 67 },
    { at: 5.239869691599042e-267, mask: 86 },
    { at: 1.009207373864999e-212, mask: 231 },
    { at: 8.434788598458741e-19, mask: 140 },
    { at: 9.750160545510869e-142, mask: 248 },
    { at: 2.200936732791711e-100, mask: 255 },
  ],
};

function damage(fixture: Fixture, { region, flips, digits, cut }: Damage): Uint8Array {
  const bytes = fixture.bytes.slice();
  const positions = fixture.regions[region].flatMap(([a, b]) => Array.from({ length: b - a }, (_, i) => a + i));
  const textual = digits && (region === 'manifest' || region === 'tensors');
  const targets = textual ? positions.filter((p) => isDigit(bytes[p])) : positions;
  for (const { at, mask } of flips) {
    const p = targets[Math.floor(at * targets.length)];
    if (textual) bytes[p] = 0x30 + ((bytes[p] - 0x30 + 1 + (mask % 9)) % 10);
    else bytes[p] ^= mask;
  }
  return cut === undefined ? bytes : bytes.subarray(0, Math.floor(cut * bytes.length));
}

/** Thrown (not a jasmine expectation) so that fast-check sees the failure and shrinks it. */
function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`inconsistent read: ${what}`);
}

/** Everything a view reads from a file, checked against the manifest. */
async function readAll(reader: AttnvizReader): Promise<void> {
  const { n_layers, n_heads, n_tokens, d_head, dtype } = reader.manifest;
  const table = decodeTokenTable(await reader.tokens());
  check(table.length === n_tokens && table.text.length === n_tokens && table.seq.length === n_tokens, `token table of ${table.length} rows, manifest ${n_tokens}`);
  const size = n_tokens * d_head * (dtype === 'float16' ? 2 : 4);
  for (let layer = 0; layer < n_layers; layer++) {
    for (let head = 0; head < n_heads; head++) {
      const { queries, keys, meta } = await reader.qk(layer, head);
      check(queries.byteLength === size && keys.byteLength === size, `L${layer} H${head}: ${queries.byteLength} / ${keys.byteLength} bytes, expected ${size}`);
      check(JSON.stringify(meta) === JSON.stringify({ layer, head, n_tokens, d_head, dtype }), `L${layer} H${head} meta ${JSON.stringify(meta)}`);
    }
  }
}

/** How reading `bytes` ends: 'ok', or the AttnvizFileError's message; anything else is thrown on. */
async function outcome(bytes: Uint8Array): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${BUDGET_MS} ms`)), BUDGET_MS)));
  try {
    await Promise.race([openAttnviz(bufferSource(bytes), 'fuzzed.attnviz').then(readAll), hang]);
    return 'ok';
  } catch (error) {
    if (error instanceof AttnvizFileError) return error.message;
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

describe('.attnviz reader on damaged files', () => {
  let fixtures: Fixture[];
  beforeAll(async () => (fixtures = await Promise.all(FIXTURES.map(loadFixture))));

  it('reads the undamaged fixtures consistently', async () => {
    for (const fixture of fixtures) expect(await outcome(fixture.bytes)).toBe('ok');
  });

  it(`ends each of ${RUNS} damaged files in AttnvizFileError naming the problem, or consistent data, within ${BUDGET_MS} ms`, async () => {
    const seen = new Map<string, number>();
    let slowest = 0;
    await fc.assert(
      fc.asyncProperty(damageArbitrary, async (spec) => {
        const bytes = damage(fixtures[spec.fixture], spec);
        const started = performance.now();
        const result = await outcome(bytes);
        const elapsed = performance.now() - started;
        slowest = Math.max(slowest, elapsed);
        check(elapsed < BUDGET_MS, `${spec.region} damage took ${elapsed.toFixed(0)} ms`);
        // A message names the file and says what is wrong with it, not just that something is.
        check(result === 'ok' || /^fuzzed\.attnviz: .{12,}/.test(result), `message ${JSON.stringify(result)}`);
        const kind = result === 'ok' ? `${spec.region}: ok` : `${spec.region}: error`;
        seen.set(kind, (seen.get(kind) ?? 0) + 1);
      }),
      // First, damage found by earlier runs: a Parquet page whose column decodes to nothing
      // (the reader threw "kind is not a constructor").
      { numRuns: RUNS, seed: 20261204, endOnFailure: true, examples: [[PARQUET_HOLE]] },
    );
    // The damage reached every region, and damaged headers were refused.
    for (const region of ['length', 'manifest', 'tensors', 'qk', 'parquet']) {
      expect((seen.get(`${region}: ok`) ?? 0) + (seen.get(`${region}: error`) ?? 0)).withContext(region).toBeGreaterThan(50);
    }
    expect(seen.get('length: error') ?? 0).toBeGreaterThan(50);
    console.log(`attnviz fuzz: ${JSON.stringify(Object.fromEntries(seen))}; slowest ${slowest.toFixed(0)} ms`);
  }, 300000);
});
