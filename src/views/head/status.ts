/** The head view's status line: which head, which layout, what is selected or matched. */
import type { HeadQK } from '../../model/qk_source';
import type { ViewContext } from '../context';

const METHOD_NAMES: Record<string, string> = { pca: 'PCA', umap: 'UMAP', tsne: 't-SNE' };

/** A layout method as the status line and figure titles name it ("umap" -> "UMAP"). */
export function methodName(method: string): string {
  return METHOD_NAMES[method] ?? method;
}

/** "L2 H3 · 1,024 tokens". */
export function describeHead(qk: Pick<HeadQK, 'layer' | 'head' | 'nTokens'>): string {
  return `L${qk.layer} H${qk.head} · ${qk.nTokens.toLocaleString()} tokens`;
}

/** The status of a laid-out head: the head, its layout method, the selection and search matches. */
export function headStatus(ctx: ViewContext, qk: HeadQK, method: string): string {
  const parts = [describeHead(qk), methodName(method)];
  const selected = ctx.selectedRows().length;
  if (selected) parts.push(`${selected} selected`);
  const search = ctx.model.get('search').trim();
  if (search) parts.push(`${ctx.searchMatches().length} match "${search}"`);
  return parts.join(' · ');
}

/**
 * The toolbar's status line, for a plot shown in view `shownIn`. The status line belongs
 * to the view on screen: a hidden head view that finishes a layout (e.g. behind the
 * compare view) must not overwrite it.
 */
export function toolbarStatus(ctx: ViewContext, shownIn: string): (text: string) => void {
  return (text) => {
    if (ctx.model.get('view') === shownIn) ctx.setStatus(text);
  };
}
