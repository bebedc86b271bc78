/**
 * A tiny element builder. Text always goes through textContent: token text is data,
 * never markup.
 */
type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { className?: string; title?: string; attrs?: Record<string, string> } = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (props.className) element.className = props.className;
  if (props.title) element.title = props.title;
  for (const [name, value] of Object.entries(props.attrs ?? {})) element.setAttribute(name, value);
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return element;
}

/** A <select> whose options are (value, label) pairs. */
export function select(options: Array<[string, string]>, value: string, label: string): HTMLSelectElement {
  const element = h('select', { attrs: { 'aria-label': label } });
  for (const [optionValue, optionLabel] of options) {
    const option = h('option', {}, optionLabel);
    option.value = optionValue;
    element.append(option);
  }
  element.value = value;
  return element;
}
