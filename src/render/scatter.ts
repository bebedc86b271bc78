/**
 * The three.js scene of one joint Q/K scatterplot: a single Points object whose
 * positions, colours and emphasis live in typed buffers, an orthographic camera
 * with pan/zoom, and rendering on demand (no loop while nothing changes).
 * It draws what it is given; layouts and colours are computed elsewhere.
 */
import * as THREE from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';

const vertexShader = /* glsl */ `
  attribute vec3 pointColor;
  attribute float emphasis;
  uniform float pointSize;
  uniform float pixelRatio;
  varying vec3 vColor;
  varying float vEmphasis;
  void main() {
    vColor = pointColor;
    vEmphasis = emphasis;
    gl_Position = projectionMatrix * modelViewMatrix * vec4(position, 1.0);
    gl_PointSize = pointSize * pixelRatio * (emphasis > 1.5 ? 1.7 : 1.0);
  }
`;

const fragmentShader = /* glsl */ `
  uniform vec3 ringColor;
  varying vec3 vColor;
  varying float vEmphasis;
  void main() {
    vec2 c = gl_PointCoord * 2.0 - 1.0;
    float r = length(c);
    if (r > 1.0) discard;
    float edge = 1.0 - smoothstep(0.8, 1.0, r);
    float alpha = vEmphasis < 0.5 ? 0.12 : 0.85;
    vec3 color = vColor;
    if (vEmphasis > 1.5 && r > 0.62) color = ringColor;
    gl_FragColor = vec4(color, alpha * edge);
  }
`;

/** Emphasis per point: dimmed (something else is selected), normal, highlighted. */
export const EMPHASIS = { dimmed: 0, normal: 1, highlighted: 2 } as const;

export class ScatterScene {
  readonly canvas: HTMLCanvasElement;
  private readonly renderer: THREE.WebGLRenderer;
  private readonly scene = new THREE.Scene();
  private readonly camera = new THREE.OrthographicCamera(-1, 1, 1, -1, -100, 100);
  private readonly controls: OrbitControls;
  private readonly geometry = new THREE.BufferGeometry();
  private readonly material: THREE.ShaderMaterial;
  private readonly points: THREE.Points;
  private width = 1;
  private height = 1;
  /** Half-extent of the data in world units, used to fit the camera. */
  private extent = { cx: 0, cy: 0, half: 1 };
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
      },
    });
    this.points = new THREE.Points(this.geometry, this.material);
    this.points.frustumCulled = false;
    this.scene.add(this.points);
    this.camera.position.set(0, 0, 10);
    this.controls = new OrbitControls(this.camera, this.canvas);
    this.controls.enableRotate = false;
    this.controls.screenSpacePanning = true;
    this.controls.zoomToCursor = true;
    this.controls.mouseButtons = { LEFT: THREE.MOUSE.PAN, MIDDLE: THREE.MOUSE.DOLLY, RIGHT: THREE.MOUSE.PAN };
    this.controls.touches = { ONE: THREE.TOUCH.PAN, TWO: THREE.TOUCH.DOLLY_PAN };
    this.controls.addEventListener('change', this.onControlsChange);
  }

  /** Replace the points: `xy` interleaved 2D positions, `rgb` three floats in [0, 1] per point. */
  setPoints(xy: Float32Array, rgb: Float32Array, fit = true): void {
    const count = xy.length >> 1;
    const positions = new Float32Array(count * 3);
    for (let i = 0; i < count; i++) {
      positions[3 * i] = xy[2 * i];
      positions[3 * i + 1] = xy[2 * i + 1];
    }
    this.geometry.setAttribute('position', new THREE.BufferAttribute(positions, 3));
    this.geometry.setAttribute('pointColor', new THREE.BufferAttribute(rgb, 3));
    this.geometry.setAttribute('emphasis', new THREE.BufferAttribute(new Float32Array(count).fill(1), 1));
    if (fit) this.fitToData(xy);
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
    this.camera.zoom = 1;
    this.camera.position.set(this.extent.cx, this.extent.cy, 10);
    this.controls.target.set(this.extent.cx, this.extent.cy, 0);
    this.updateFrustum();
    this.controls.update();
    this.requestRender();
  }

  /** World coordinates under a point given relative to the canvas' top-left, in CSS pixels. */
  canvasToWorld(px: number, py: number): [number, number] {
    const v = new THREE.Vector3((px / this.width) * 2 - 1, 1 - (py / this.height) * 2, 0).unproject(this.camera);
    return [v.x, v.y];
  }

  /** CSS-pixel position on the canvas of a world point. */
  worldToCanvas(x: number, y: number): [number, number] {
    const v = new THREE.Vector3(x, y, 0).project(this.camera);
    return [((v.x + 1) / 2) * this.width, ((1 - v.y) / 2) * this.height];
  }

  /** World units per CSS pixel at the current zoom. */
  worldPerPixel(): number {
    return (this.camera.right - this.camera.left) / this.camera.zoom / this.width;
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

  requestRender(): void {
    if (!this.frameRequest) this.frameRequest = requestAnimationFrame(() => this.renderNow());
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

  private fitToData(xy: Float32Array): void {
    let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
    for (let i = 0; i < xy.length; i += 2) {
      minX = Math.min(minX, xy[i]);
      maxX = Math.max(maxX, xy[i]);
      minY = Math.min(minY, xy[i + 1]);
      maxY = Math.max(maxY, xy[i + 1]);
    }
    if (!Number.isFinite(minX)) [minX, minY, maxX, maxY] = [-1, -1, 1, 1];
    const half = Math.max(maxX - minX, maxY - minY, 1e-6) * 0.55;
    this.extent = { cx: (minX + maxX) / 2, cy: (minY + maxY) / 2, half };
    this.resetCamera();
  }

  private updateFrustum(): void {
    const aspect = this.width / this.height;
    const half = this.extent.half;
    // Fit the data's larger side into the smaller canvas side.
    const halfX = aspect >= 1 ? half * aspect : half;
    const halfY = aspect >= 1 ? half : half / aspect;
    this.camera.left = -halfX;
    this.camera.right = halfX;
    this.camera.top = halfY;
    this.camera.bottom = -halfY;
    this.camera.updateProjectionMatrix();
  }
}
