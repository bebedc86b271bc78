/** Hover tooltip: the token, whether it is a query or a key, and its sentence around it. */
import { h } from './dom';

export interface TooltipContent {
  kind: 'query' | 'key';
  token: string;
  /** Tokens of the sentence, and which one is hovered. */
  context: string[];
  contextIndex: number;
  detail: string;
}

const CONTEXT_RADIUS = 12;

export class Tooltip {
  readonly element = h('div', { className: 'av-tooltip', attrs: { role: 'tooltip' } });

  show(content: TooltipContent, x: number, y: number, bounds: { width: number; height: number }): void {
    const { context, contextIndex } = content;
    const start = Math.max(0, contextIndex - CONTEXT_RADIUS);
    const end = Math.min(context.length, contextIndex + CONTEXT_RADIUS + 1);
    const sentence = h('div', { className: 'av-tooltip-context' });
    if (start > 0) sentence.append('… ');
    for (let i = start; i < end; i++) {
      const word = h('span', { className: i === contextIndex ? 'av-tooltip-current' : '' }, context[i]);
      sentence.append(word, ' ');
    }
    if (end < context.length) sentence.append('…');
    this.element.replaceChildren(
      h(
        'div',
        { className: 'av-tooltip-head' },
        h('span', { className: `av-badge av-badge-${content.kind}` }, content.kind),
        h('span', { className: 'av-tooltip-token' }, content.token),
      ),
      sentence,
      h('div', { className: 'av-tooltip-detail' }, content.detail),
    );
    this.element.style.display = 'block';
    const box = this.element.getBoundingClientRect();
    const left = x + 14 + box.width > bounds.width ? x - 14 - box.width : x + 14;
    const top = y + 14 + box.height > bounds.height ? y - 14 - box.height : y + 14;
    this.element.style.left = `${Math.max(0, left)}px`;
    this.element.style.top = `${Math.max(0, top)}px`;
  }

  hide(): void {
    this.element.style.display = 'none';
  }
}
