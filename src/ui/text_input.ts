/**
 * The "Add text…" bar of the single-head view: an input, an Add button and a status
 * line ("loading model… 40%", "computing on WASM…", what was added, errors). DOM only:
 * it reports submitted text through its callback and shows what it is told.
 */
import { h } from './dom';

export type TextInputState = 'idle' | 'busy' | 'error';

const CSS = `
.av-addtext { display: flex; align-items: center; gap: 6px; padding: 4px 8px; border-bottom: 1px solid var(--av-border); background: var(--av-panel); font-size: 12px; }
.av-addtext input { flex: 1 1 auto; min-width: 12em; max-width: 48em; font: inherit; padding: 2px 6px; color: var(--av-fg); background: var(--av-bg); border: 1px solid var(--av-border); border-radius: 3px; }
.av-addtext button { font: inherit; }
.av-addtext-mark { display: inline-block; width: 10px; height: 10px; border-radius: 50%; border: 3px solid #f59e0b; box-sizing: border-box; flex: none; }
.av-addtext-status { color: var(--av-muted); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.av-addtext[data-state="error"] .av-addtext-status { color: #cf222e; white-space: normal; }
`;

export class TextInputBar {
  readonly element = h('div', { className: 'av-addtext', attrs: { 'data-state': 'idle' } });
  private readonly input = h('input', {
    attrs: { type: 'text', placeholder: 'Add text…', 'aria-label': 'add text: its tokens are computed in the browser and placed in this plot' },
  });
  private readonly button = h('button', { attrs: { type: 'button' }, title: 'Compute its queries and keys in the browser and place them in this plot' }, 'Add');
  private readonly status = h('span', { className: 'av-addtext-status', attrs: { role: 'status', 'aria-live': 'polite' } });

  constructor(onSubmit: (text: string) => void) {
    const submit = (): void => {
      const text = this.input.value;
      if (!text.trim() || this.element.dataset.state === 'busy') return;
      onSubmit(text);
    };
    this.input.addEventListener('keydown', (event) => {
      event.stopPropagation(); // typing is not a view shortcut
      if (event.key === 'Enter') {
        event.preventDefault();
        submit();
      }
    });
    this.button.addEventListener('click', submit);
    this.element.append(
      h('style', {}, CSS),
      h('span', { className: 'av-addtext-mark', title: 'added tokens are drawn with this outline' }),
      this.input,
      this.button,
      this.status,
    );
  }

  /** Status text; `busy` disables the input, `error` shows the text as an error. */
  setStatus(text: string, state: TextInputState = 'idle'): void {
    this.status.textContent = text;
    this.status.title = text;
    this.element.dataset.state = state;
    this.input.disabled = this.button.disabled = state === 'busy';
  }

  clear(): void {
    this.input.value = '';
  }

  show(visible: boolean): void {
    this.element.style.display = visible ? '' : 'none';
  }
}
