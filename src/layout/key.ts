/**
 * Cache keys of layouts: one structured key type, one function that serialises it.
 * Callers match on fields (`key.layer`, `key.head`), never on the string.
 */
import type { LayoutParams } from './types';

/** Which capture of the view a head comes from (the compare view may show a second one). */
export type LayoutSource = 'capture' | 'compare';

/** Same key -> same layout: capture, head, token count, normalization, method and its parameters. */
export interface LayoutKey {
  /** The capture's id (`_capture_id`, or the compare capture's `capture_id`). */
  capture: string;
  source: LayoutSource;
  layer: number;
  head: number;
  method: LayoutParams['method'];
  dims: LayoutParams['dims'];
  normalize: boolean;
  seed: number;
  /** UMAP epochs when set explicitly (thumbnails); undefined = the method's default. */
  epochs?: number;
  /** Tokens laid out (a prefix sample of the capture's tokens for thumbnails). */
  nTokens: number;
}

export function layoutKey(
  capture: string,
  source: LayoutSource,
  head: { layer: number; head: number; nTokens: number },
  params: LayoutParams,
): LayoutKey {
  const { method, dims, normalize, seed, nEpochs } = params;
  return { capture, source, layer: head.layer, head: head.head, method, dims, normalize, seed, epochs: nEpochs, nTokens: head.nTokens };
}

/** The parameters a key's layout is computed with. */
export function keyParams(key: LayoutKey): LayoutParams {
  const params: LayoutParams = { method: key.method, dims: key.dims, normalize: key.normalize, seed: key.seed };
  if (key.epochs !== undefined) params.nEpochs = key.epochs;
  return params;
}

/**
 * The key as a string, for maps: a JSON array of every field in a fixed order, so two
 * keys serialise alike exactly when their fields are equal (whatever the capture id
 * holds), and a key without `epochs` equals one with `epochs: undefined`.
 */
export function layoutKeyId(key: LayoutKey): string {
  const { source, capture, layer, head, normalize, method, dims, seed, epochs, nTokens } = key;
  return JSON.stringify([source, capture, layer, head, normalize, method, dims, seed, epochs ?? null, nTokens]);
}
