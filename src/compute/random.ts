/**
 * Seeded pseudo-random numbers for the layouts (UMAP, t-SNE, NN-descent), so a layout
 * is a pure function of (data, options, seed).
 *
 * Generator: xoshiro128** (Blackman & Vigna 2018), 128-bit state, period 2^128 - 1,
 * seeded by running splitmix32 over the 32-bit seed (so nearby seeds give unrelated
 * streams and the state is never all zero). Floats are k / 2^32 for a 32-bit output k,
 * i.e. uniform on [0, 1) with 2^-32 resolution; normals come from Box-Muller.
 */

/** splitmix32 step: a well-mixed 32-bit hash of a running counter. */
function splitmix32(state: number): [number, number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [next, (z ^ (z >>> 16)) >>> 0];
}

export class Random {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed = 42) {
    let state = seed | 0;
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      const [next, value] = splitmix32(state);
      state = next;
      words.push(value | 0);
    }
    [this.s0, this.s1, this.s2, this.s3] = words;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Next 32-bit output as an unsigned integer in [0, 2^32). */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform float in [0, 1). */
  float(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n) (n <= 2^32; the modulo bias is below n / 2^32). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** Standard normal sample (Box-Muller, one of the pair). */
  normal(): number {
    const u = 1 - this.float(); // (0, 1]: log is finite
    const v = this.float();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** A fresh 32-bit seed drawn from this stream (for seeding an inner generator). */
  seed(): number {
    return this.nextUint32() | 0;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
