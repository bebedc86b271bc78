/**
 * Points drawn as image patches (vision captures, the original AttentionViz's look):
 * an atlas texture holding one tile per token's patch, and a points material that
 * samples it. Queries are outlined in their point colour, keys sit on a filled square of
 * theirs (`outline`); without outline the bare patches. Tokens without a patch ([CLS])
 * stay dots. The attributes are the dots' (pointColor, emphasis, marked, sizeScale) plus
 * `tile` (atlas offset, x < 0: no patch) and `isKey`.
 */
import * as THREE from 'three';

/** Tile edge in the atlas, in texels. */
export const TILE = 16;

export interface SpriteAtlas {
  /** The atlas picture: `columns` x `rows` tiles of TILE texels. */
  canvas: HTMLCanvasElement;
  /** Per token row: atlas offset (u, v) of its tile in [0, 1], or (-1, -1) for no patch. */
  tiles: Float32Array;
  /** Tile size in atlas uv units. */
  tileScale: [number, number];
}

/** A token row's patch: its picture, and the patch's cell in the picture's grid. */
export interface PatchSource {
  picture: CanvasImageSource & { width: number; height: number };
  row: number;
  col: number;
  gridRows: number;
  gridCols: number;
}

/** The atlas of `nTokens` rows; `patchOf(row)` is null for rows without a patch (or picture). */
export function buildAtlas(nTokens: number, patchOf: (row: number) => PatchSource | null): SpriteAtlas {
  const sources: Array<PatchSource | null> = Array.from({ length: nTokens }, (_, row) => patchOf(row));
  const count = sources.filter(Boolean).length;
  const columns = Math.max(1, Math.ceil(Math.sqrt(count)));
  const rows = Math.max(1, Math.ceil(count / columns));
  const canvas = document.createElement('canvas');
  canvas.width = columns * TILE;
  canvas.height = rows * TILE;
  const context = canvas.getContext('2d');
  const tiles = new Float32Array(2 * nTokens).fill(-1);
  let next = 0;
  sources.forEach((source, row) => {
    if (!source || !context) return;
    const x = (next % columns) * TILE;
    const y = Math.floor(next / columns) * TILE;
    next++;
    const cellW = source.picture.width / source.gridCols;
    const cellH = source.picture.height / source.gridRows;
    context.drawImage(source.picture, source.col * cellW, source.row * cellH, cellW, cellH, x, y, TILE, TILE);
    tiles[2 * row] = x / canvas.width;
    tiles[2 * row + 1] = y / canvas.height;
  });
  return { canvas, tiles, tileScale: [TILE / canvas.width, TILE / canvas.height] };
}

const vertexShader = /* glsl */ `
  attribute vec3 pointColor;
  attribute float emphasis;
  attribute float marked;
  attribute float sizeScale;
  attribute vec2 tile;
  attribute float isKey;
  uniform float pointSize;
  uniform float pixelRatio;
  varying vec3 vColor;
  varying float vEmphasis;
  varying vec2 vTile;
  varying float vKey;
  void main() {
    vColor = pointColor;
    vEmphasis = emphasis;
    vTile = tile;
    vKey = isKey;
    gl_Position = projectionMatrix * modelViewMatrix * vec4(position, 1.0);
    float patch = tile.x < 0.0 ? 1.0 : 2.6; // patches are drawn larger than dots to be seen
    gl_PointSize = pointSize * patch * pixelRatio * sizeScale * (emphasis > 1.5 ? 1.5 : 1.0) * (marked > 0.5 ? 1.6 : 1.0);
  }
`;

const fragmentShader = /* glsl */ `
  uniform sampler2D atlas;
  uniform vec2 tileScale;
  uniform float outline;
  uniform vec3 ringColor;
  varying vec3 vColor;
  varying float vEmphasis;
  varying vec2 vTile;
  varying float vKey;
  void main() {
    vec2 c = gl_PointCoord * 2.0 - 1.0;
    float alpha = vEmphasis < 0.5 ? 0.15 : 0.95;
    if (vTile.x < 0.0) { // no patch: a dot, as in the dot style
      float r = length(c);
      if (r > 1.0) discard;
      vec3 dot = vEmphasis > 1.5 && r > 0.62 ? ringColor : vColor;
      gl_FragColor = vec4(dot, alpha * (1.0 - smoothstep(0.8, 1.0, r)));
      return;
    }
    float edge = max(abs(c.x), abs(c.y));
    // outline: queries get a frame in their colour, keys a filled square with the patch inset
    float frame = outline > 0.5 ? (vKey > 0.5 ? 0.7 : 0.8) : 2.0;
    vec2 inner = outline > 0.5 && vKey > 0.5 ? c / 0.7 : c;
    vec2 uv = vTile + (inner * 0.5 + 0.5) * tileScale;
    vec3 color = texture2D(atlas, vec2(uv.x, 1.0 - uv.y)).rgb;
    if (edge > frame) color = vColor;
    if (vEmphasis > 1.5 && edge > 0.9) color = ringColor;
    gl_FragColor = vec4(color, alpha);
  }
`;

/** The patch material; `pointSize`, `pixelRatio` and `ringColor` are the dots' own uniforms (shared objects). */
export function spriteMaterial(shared: Record<string, THREE.IUniform>, atlas: SpriteAtlas, outline: boolean): THREE.ShaderMaterial {
  const texture = new THREE.CanvasTexture(atlas.canvas);
  texture.flipY = false;
  texture.magFilter = THREE.NearestFilter; // patches stay crisp when zoomed in
  texture.minFilter = THREE.LinearFilter;
  texture.generateMipmaps = false;
  return new THREE.ShaderMaterial({
    vertexShader,
    fragmentShader,
    transparent: true,
    depthTest: false,
    depthWrite: false,
    uniforms: {
      pointSize: shared.pointSize,
      pixelRatio: shared.pixelRatio,
      ringColor: shared.ringColor,
      atlas: { value: texture },
      tileScale: { value: new THREE.Vector2(...atlas.tileScale) },
      outline: { value: outline ? 1 : 0 },
    },
  });
}

/** Per point (queries then keys) tile offsets and key flags for `nTokens` tokens. */
export function pointTiles(atlas: SpriteAtlas, nTokens: number): { tile: Float32Array; isKey: Float32Array } {
  const tile = new Float32Array(4 * nTokens);
  const rows = Math.min(nTokens, atlas.tiles.length / 2);
  tile.fill(-1);
  tile.set(atlas.tiles.subarray(0, 2 * rows), 0);
  tile.set(atlas.tiles.subarray(0, 2 * rows), 2 * nTokens);
  const isKey = new Float32Array(2 * nTokens).fill(1, nTokens);
  return { tile, isKey };
}
