// Bundle-size probe: what importing umap-js adds.
import { UMAP } from 'umap-js';

(globalThis as unknown as Record<string, unknown>).probe = UMAP;
