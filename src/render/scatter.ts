/**
 * The three.js scene of one joint Q/K scatterplot: a single Points object whose
 * positions, colours and emphasis live in typed buffers, an orthographic camera
 * with pan/zoom, and rendering on demand (no loop while nothing changes).
 * It draws what it is given; layouts and colours are computed elsewhere.
 */
import * as THREE from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';
import { pointTiles, spriteMaterial, type SpriteAtlas } from './sprites';

const vertexShader = /* glsl */ `
  attribute vec3 pointColor;
  attribute float emphasis;
  attribute float marked;
  attribute float sizeScale;
  uniform float pointSize;
  uniform float pixelRatio;
  varying vec3 vColor;
  varying float vEmphasis;
  varying float vMarked;
  void main() {
    vColor = pointColor;
    vEmphasis = emphasis;
    vMarked = marked;
    gl_Position = projectionMatrix * modelViewMatrix * vec4(position, 1.0);
    gl_PointSize = pointSize * pixelRatio * sizeScale * (emphasis > 1.5 ? 1.7 : 1.0) * (marked > 0.5 ? 1.6 : 1.0);
  }
`;

const fragmentShader = /* glsl */ `
  uniform vec3 ringColor;
  uniform vec3 markColor;
  varying vec3 vColor;
  varying float vEmphasis;
  varying float vMarked;
  void main() {
    vec2 c = gl_PointCoord * 2.0 - 1.0;
    float r = length(c);
    if (r > 1.0) discard;
    float edge = 1.0 - smoothstep(0.8, 1.0, r);
    float alpha = vEmphasis < 0.5 ? (vMarked > 0.5 ? 0.5 : 0.12) : 0.85;
    vec3 color = vColor;
    if (vEmphasis > 1.5 && r > 0.62) color = ringColor;
    // Marked points (tokens typed into the view): a thick outline in the mark colour.
    if (vMarked > 0.5 && r > 0.55) color = markColor;
    gl_FragColor = vec4(color, alpha * edge);
  }
`;

/** Emphasis per point: dimmed (something else is selected), normal, highlighted. */
export const EMPHASIS = { dimmed: 0, normal: 1, highlighted: 2 } as const;

export class ScatterScene {
  readonly canvas: HTMLCanvasElement;
  private readonly renderer: THREE.WebGLRenderer;
  private readonly scene = new THREE.Scene();
  private readonly flatCamera = new THREE.OrthographicCamera(-1, 1, 1, -1, -1000, 1000);
  private readonly orbitCamera = new THREE.PerspectiveCamera(45, 1, 0.001, 10000);
  private camera: THREE.OrthographicCamera | THREE.PerspectiveCamera = this.flatCamera;
  private dims: 2 | 3 = 2;
  /** Positions as given ([n, dims]), for projecting to the canvas. */
  private positions = new Float32Array(0);
  private readonly controls: OrbitControls;
  private readonly geometry = new THREE.BufferGeometry();
  private readonly material: THREE.ShaderMaterial;
  private readonly points: THREE.Points;
  private width = 1;
  private height = 1;
  /** Centre and half-extent of the data in world units, used to fit the camera. */
  private extent = { cx: 0, cy: 0, cz: 0, half: 1 };
  private frameRequest = 0;
  private readonly changeListeners = new Set<() => void>();

  constructor(container: HTMLElement) {
    // Throws when WebGL is unavailable; the caller shows that to the user.
    this.renderer = new THREE.WebGLRenderer({ antialias: true, alpha: false, preserveDrawingBuffer: true });
    this.renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
    this.canvas = this.renderer.domElement;
    container.appendChild(this.canvas);
    this.material = new THREE.ShaderMaterial({
      vertexShader,
      fragmentShader,
      transparent: true,
      depthTest: false,
      depthWrite: false,
      uniforms: {
        pointSize: { value: 6 },
        pixelRatio: { value: this.renderer.getPixelRatio() },
        ringColor: { value: new THREE.Color('#111111') },
        markColor: { value: new THREE.Color('#f59e0b') },
      },
    });
    this.points = new THREE.Points(this.geometry, this.material);
    this.points.frustumCulled = false;
    this.scene.add(this.points);
    this.flatCamera.position.set(0, 0, 10);
    this.controls = new OrbitControls(this.camera, this.canvas);
    this.configureControls();
    this.controls.addEventListener('change', this.onControlsChange);
  }

  /**
   * Replace the points: `positions` [n, dims] row-major, `rgb` three floats in [0, 1]
   * per point. `fit` re-centres the camera on them.
   */
  setPoints(positions: Float32Array, dims: 2 | 3, rgb: Float32Array, fit = true): void {
    const count = positions.length / dims;
    const xyz = new Float32Array(count * 3);
    for (let i = 0; i < count; i++) {
      xyz[3 * i] = positions[dims * i];
      xyz[3 * i + 1] = positions[dims * i + 1];
      xyz[3 * i + 2] = dims === 3 ? positions[dims * i + 2] : 0;
    }
    const dimsChanged = dims !== this.dims;
    this.dims = dims;
    this.positions = xyz;
    this.geometry.setAttribute('position', new THREE.BufferAttribute(xyz, 3));
    this.geometry.setAttribute('pointColor', new THREE.BufferAttribute(rgb, 3));
    this.geometry.setAttribute('emphasis', new THREE.BufferAttribute(new Float32Array(count).fill(1), 1));
    this.geometry.setAttribute('marked', new THREE.BufferAttribute(new Float32Array(count), 1));
    this.geometry.setAttribute('sizeScale', new THREE.BufferAttribute(new Float32Array(count).fill(1), 1));
    if (dimsChanged) {
      this.camera = dims === 3 ? this.orbitCamera : this.flatCamera;
      this.controls.object = this.camera;
      this.configureControls();
    }
    if (fit || dimsChanged) this.fitToData(xyz);
    this.requestRender();
  }

  getDims(): 2 | 3 {
    return this.dims;
  }

  /** Canvas CSS-pixel positions of every point ([n, 2]); NaN for points behind the camera. */
  projectAll(): Float32Array {
    const count = this.positions.length / 3;
    const out = new Float32Array(count * 2);
    this.camera.updateMatrixWorld();
    const m = new THREE.Matrix4().multiplyMatrices(this.camera.projectionMatrix, this.camera.matrixWorldInverse).elements;
    for (let i = 0; i < count; i++) {
      const x = this.positions[3 * i], y = this.positions[3 * i + 1], z = this.positions[3 * i + 2];
      const w = m[3] * x + m[7] * y + m[11] * z + m[15];
      if (w <= 0) {
        out[2 * i] = out[2 * i + 1] = NaN;
        continue;
      }
      const nx = (m[0] * x + m[4] * y + m[8] * z + m[12]) / w;
      const ny = (m[1] * x + m[5] * y + m[9] * z + m[13]) / w;
      out[2 * i] = ((nx + 1) / 2) * this.width;
      out[2 * i + 1] = ((1 - ny) / 2) * this.height;
    }
    return out;
  }

  /** Canvas position of point i. */
  pointToCanvas(i: number): [number, number] {
    const v = new THREE.Vector3(this.positions[3 * i], this.positions[3 * i + 1], this.positions[3 * i + 2]).project(this.camera);
    return [((v.x + 1) / 2) * this.width, ((1 - v.y) / 2) * this.height];
  }

  /** Camera state to save and restore (as plain numbers). */
  getCamera(): Record<string, number> {
    const p = this.camera.position;
    const t = this.controls.target;
    return { dims: this.dims, x: p.x, y: p.y, z: p.z, zoom: this.camera.zoom, tx: t.x, ty: t.y, tz: t.z };
  }

  setCamera(state: Record<string, number>): void {
    if (!state || state.dims !== this.dims || ![state.x, state.y, state.z, state.zoom].every(Number.isFinite)) return;
    this.camera.position.set(state.x, state.y, state.z);
    this.camera.zoom = state.zoom;
    this.controls.target.set(state.tx, state.ty, state.tz);
    this.updateFrustum();
    this.controls.update();
    this.requestRender();
  }

  setColors(rgb: Float32Array): void {
    this.geometry.setAttribute('pointColor', new THREE.BufferAttribute(rgb, 3));
    this.requestRender();
  }

  /** Per-point emphasis (see EMPHASIS). */
  setEmphasis(emphasis: Float32Array): void {
    this.geometry.setAttribute('emphasis', new THREE.BufferAttribute(emphasis, 1));
    this.requestRender();
  }

  /** Per-point size factor (1: the base point size; see compute/sizes.ts); null: all 1. */
  setSizes(sizes: Float32Array | null): void {
    const count = this.positions.length / 3;
    if (sizes && sizes.length !== count) throw new Error(`${sizes.length} sizes for ${count} points`);
    this.geometry.setAttribute('sizeScale', new THREE.BufferAttribute(sizes ?? new Float32Array(count).fill(1), 1));
    this.requestRender();
  }

  /**
   * Draw points as image patches from `atlas` (render/sprites.ts; `outline`: queries
   * framed, keys on a filled square), or null: dots again. Call after setPoints.
   */
  setSprites(atlas: SpriteAtlas | null, outline = true): void {
    const old = this.points.material;
    if (old !== this.material) (old as THREE.ShaderMaterial).dispose();
    if (!atlas) {
      this.points.material = this.material;
    } else {
      const { tile, isKey } = pointTiles(atlas, this.positions.length / 6);
      this.geometry.setAttribute('tile', new THREE.BufferAttribute(tile, 2));
      this.geometry.setAttribute('isKey', new THREE.BufferAttribute(isKey, 1));
      this.points.material = spriteMaterial(this.material.uniforms, atlas, outline);
    }
    this.requestRender();
  }

  /** Per-point mark (1: drawn larger with an outline in the mark colour, e.g. added tokens; 0: not). */
  setMarked(marked: Float32Array): void {
    this.geometry.setAttribute('marked', new THREE.BufferAttribute(marked, 1));
    this.requestRender();
  }

  setTheme(background: string, ring: string): void {
    this.renderer.setClearColor(new THREE.Color(background), 1);
    (this.material.uniforms.ringColor.value as THREE.Color).set(ring);
    this.requestRender();
  }

  setPointSize(pixels: number): void {
    this.material.uniforms.pointSize.value = pixels;
    this.requestRender();
  }

  setControlsEnabled(enabled: boolean): void {
    this.controls.enabled = enabled;
  }

  resize(width: number, height: number): void {
    this.width = Math.max(1, Math.floor(width));
    this.height = Math.max(1, Math.floor(height));
    this.renderer.setSize(this.width, this.height, true);
    this.updateFrustum();
    this.requestRender();
  }

  /** Back to the whole layout. */
  resetCamera(): void {
    const { cx, cy, cz, half } = this.extent;
    this.camera.zoom = 1;
    if (this.dims === 3) this.camera.position.set(cx + half * 1.6, cy + half * 1.1, cz + half * 2.2);
    else this.camera.position.set(cx, cy, 10);
    this.controls.target.set(cx, cy, cz);
    this.updateFrustum();
    this.controls.update();
    this.requestRender();
  }

  /** World coordinates (2D view) under a point given relative to the canvas' top-left, in CSS pixels. */
  canvasToWorld(px: number, py: number): [number, number] {
    const v = new THREE.Vector3((px / this.width) * 2 - 1, 1 - (py / this.height) * 2, 0).unproject(this.camera);
    return [v.x, v.y];
  }

  /** World units per CSS pixel at the current zoom (2D view). */
  worldPerPixel(): number {
    return (this.flatCamera.right - this.flatCamera.left) / this.flatCamera.zoom / this.width;
  }

  /** Called after every camera move. */
  onChange(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /** Draw now (e.g. before reading pixels for an export). */
  renderNow(): void {
    if (this.frameRequest) cancelAnimationFrame(this.frameRequest);
    this.frameRequest = 0;
    this.renderer.render(this.scene, this.camera);
  }

  /**
   * A copy of the plot rendered at `scale` x the CSS size (e.g. 2 for a print-quality
   * PNG), as a 2D canvas; the on-screen canvas is restored afterwards.
   */
  renderAt(scale: number): HTMLCanvasElement {
    const ratio = this.renderer.getPixelRatio();
    this.renderer.setPixelRatio(scale);
    this.renderer.setSize(this.width, this.height, false);
    this.material.uniforms.pixelRatio.value = scale;
    this.renderer.render(this.scene, this.camera);
    const copy = document.createElement('canvas');
    copy.width = this.canvas.width;
    copy.height = this.canvas.height;
    copy.getContext('2d')?.drawImage(this.canvas, 0, 0);
    this.renderer.setPixelRatio(ratio);
    this.renderer.setSize(this.width, this.height, false);
    this.material.uniforms.pixelRatio.value = ratio;
    this.renderNow();
    return copy;
  }

  /** Point size in CSS pixels. */
  getPointSize(): number {
    return this.material.uniforms.pointSize.value as number;
  }

  /**
   * Draw on the next frame. Not while the canvas is hidden (e.g. the single-head view
   * behind the matrix view): the first draw compiles the shaders, ~60-80 ms the matrix
   * view needs more. Shown again, its ResizeObserver resizes and so redraws it.
   */
  requestRender(): void {
    if (this.frameRequest) return;
    this.frameRequest = requestAnimationFrame(() => {
      this.frameRequest = 0;
      if (this.canvas.isConnected && this.canvas.getClientRects().length === 0) return; // display: none
      this.renderNow();
    });
  }

  /** Free the GPU: geometry, material, renderer and its WebGL context. */
  dispose(): void {
    if (this.frameRequest) cancelAnimationFrame(this.frameRequest);
    this.frameRequest = 0;
    this.changeListeners.clear();
    this.controls.removeEventListener('change', this.onControlsChange);
    this.controls.dispose();
    this.geometry.dispose();
    this.material.dispose();
    this.renderer.dispose();
    this.renderer.forceContextLoss();
    this.canvas.remove();
  }

  private readonly onControlsChange = (): void => {
    this.requestRender();
    for (const listener of this.changeListeners) listener();
  };

  private configureControls(): void {
    const orbit = this.dims === 3;
    this.controls.enableRotate = orbit;
    this.controls.screenSpacePanning = true;
    this.controls.zoomToCursor = !orbit;
    this.controls.mouseButtons = orbit
      ? { LEFT: THREE.MOUSE.ROTATE, MIDDLE: THREE.MOUSE.DOLLY, RIGHT: THREE.MOUSE.PAN }
      : { LEFT: THREE.MOUSE.PAN, MIDDLE: THREE.MOUSE.DOLLY, RIGHT: THREE.MOUSE.PAN };
    this.controls.touches = orbit
      ? { ONE: THREE.TOUCH.ROTATE, TWO: THREE.TOUCH.DOLLY_PAN }
      : { ONE: THREE.TOUCH.PAN, TWO: THREE.TOUCH.DOLLY_PAN };
  }

  private fitToData(xyz: Float32Array): void {
    const min = [Infinity, Infinity, Infinity];
    const max = [-Infinity, -Infinity, -Infinity];
    for (let i = 0; i < xyz.length; i += 3) {
      for (let a = 0; a < 3; a++) {
        min[a] = Math.min(min[a], xyz[i + a]);
        max[a] = Math.max(max[a], xyz[i + a]);
      }
    }
    if (!Number.isFinite(min[0])) [min[0], min[1], min[2], max[0], max[1], max[2]] = [-1, -1, 0, 1, 1, 0];
    const half = Math.max(max[0] - min[0], max[1] - min[1], max[2] - min[2], 1e-6) * 0.55;
    this.extent = { cx: (min[0] + max[0]) / 2, cy: (min[1] + max[1]) / 2, cz: (min[2] + max[2]) / 2, half };
    this.resetCamera();
  }

  private updateFrustum(): void {
    const aspect = this.width / this.height;
    this.orbitCamera.aspect = aspect;
    this.orbitCamera.updateProjectionMatrix();
    const half = this.extent.half;
    // Fit the data's larger side into the smaller canvas side.
    const halfX = aspect >= 1 ? half * aspect : half;
    const halfY = aspect >= 1 ? half : half / aspect;
    this.flatCamera.left = -halfX;
    this.flatCamera.right = halfX;
    this.flatCamera.top = halfY;
    this.flatCamera.bottom = -halfY;
    this.flatCamera.updateProjectionMatrix();
  }
}
