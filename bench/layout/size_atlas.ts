// Bundle-size probe: what importing embedding-atlas's WASM UMAP adds.
import { createUMAP } from 'embedding-atlas-umap';

(globalThis as unknown as Record<string, unknown>).probe = createUMAP;
