// Bundle-size probe: what importing our UMAP adds.
import { umap } from '../../src/layout/umap';

(globalThis as unknown as Record<string, unknown>).probe = umap;
