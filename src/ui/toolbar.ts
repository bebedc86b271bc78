/**
 * The toolbar: a row of labelled controls. It knows nothing about traits: each
 * control reports changes through its callback and is updated through `set`.
 */
import { h, select } from './dom';

export interface Control<T> {
  element: HTMLElement;
  set(value: T): void;
  show(visible: boolean): void;
}

export class Toolbar {
  readonly element = h('div', { className: 'av-toolbar', attrs: { role: 'toolbar' } });
  private readonly title = h('span', { className: 'av-title' });
  private readonly controls = h('span', { className: 'av-controls' });
  private readonly status = h('span', { className: 'av-status', attrs: { 'aria-live': 'polite' } });

  constructor() {
    this.element.append(this.title, this.controls, h('span', { className: 'av-spacer' }), this.status);
  }

  setTitle(text: string): void {
    this.title.textContent = text;
    this.title.title = text;
  }

  setStatus(text: string): void {
    this.status.textContent = text;
  }

  select(label: string, options: Array<[string, string]>, value: string, onChange: (value: string) => void): Control<string> & { setOptions(options: Array<[string, string]>, value: string): void } {
    let element = select(options, value, label);
    const wrapper = h('label', { attrs: { 'data-control': label } }, `${label} `, element);
    const listen = (): void => element.addEventListener('change', () => onChange(element.value));
    listen();
    this.controls.append(wrapper);
    return {
      element: wrapper,
      set: (next) => {
        element.value = next;
      },
      show: (visible) => {
        wrapper.style.display = visible ? '' : 'none';
      },
      setOptions: (next, nextValue) => {
        const replacement = select(next, nextValue, label);
        element.replaceWith(replacement);
        element = replacement;
        listen();
      },
    };
  }

  checkbox(label: string, title: string, value: boolean, onChange: (value: boolean) => void): Control<boolean> {
    const box = h('input', { attrs: { type: 'checkbox', 'aria-label': label } });
    box.checked = value;
    box.addEventListener('change', () => onChange(box.checked));
    const wrapper = h('label', { title, attrs: { 'data-control': label } }, box, label);
    this.controls.append(wrapper);
    return { element: wrapper, set: (next) => (box.checked = next), show: (visible) => (wrapper.style.display = visible ? '' : 'none') };
  }

  search(placeholder: string, value: string, onChange: (value: string) => void): Control<string> & { focus(): void } {
    const input = h('input', { className: 'av-search', attrs: { type: 'search', placeholder, 'aria-label': 'search tokens' } });
    input.value = value;
    let timer = 0;
    input.addEventListener('input', () => {
      window.clearTimeout(timer);
      timer = window.setTimeout(() => onChange(input.value), 200);
    });
    input.addEventListener('keydown', (event) => event.stopPropagation()); // typing is not a shortcut
    this.controls.append(input);
    return {
      element: input,
      set: (next) => {
        if (input.value !== next) input.value = next;
      },
      show: (visible) => (input.style.display = visible ? '' : 'none'),
      focus: () => input.focus(),
    };
  }

  button(label: string, title: string, onClick: () => void): Control<string> {
    const button = h('button', { title, attrs: { type: 'button', 'data-control': label } }, label);
    button.addEventListener('click', onClick);
    this.controls.append(button);
    return { element: button, set: (next) => (button.textContent = next), show: (visible) => (button.style.display = visible ? '' : 'none') };
  }
}
