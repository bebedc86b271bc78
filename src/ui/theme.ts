/**
 * Light/dark theme. "auto" follows JupyterLab (body[data-jp-theme-light]) and, outside
 * JupyterLab, the browser's prefers-color-scheme.
 */
export interface Theme {
  name: 'light' | 'dark';
  background: string;
  foreground: string;
  query: string;
  key: string;
  /** Ring drawn around highlighted points. */
  ring: string;
}

export const LIGHT: Theme = {
  name: 'light',
  background: '#ffffff',
  foreground: '#1f2328',
  query: '#1a9850',
  key: '#d6337f',
  ring: '#111111',
};

export const DARK: Theme = {
  name: 'dark',
  background: '#111418',
  foreground: '#e6e6e6',
  query: '#4cc38a',
  key: '#ff6fae',
  ring: '#ffffff',
};

export function resolveTheme(setting: string): Theme {
  if (setting === 'light') return LIGHT;
  if (setting === 'dark') return DARK;
  const jupyterLight = document.body?.dataset.jpThemeLight;
  if (jupyterLight === 'true') return LIGHT;
  if (jupyterLight === 'false') return DARK;
  return window.matchMedia?.('(prefers-color-scheme: dark)').matches ? DARK : LIGHT;
}

/** Calls `onChange` whenever the automatic theme may have changed; returns the unsubscribe. */
export function watchTheme(onChange: () => void): () => void {
  const observer = new MutationObserver(onChange);
  if (document.body) observer.observe(document.body, { attributes: true, attributeFilter: ['data-jp-theme-light'] });
  const media = window.matchMedia?.('(prefers-color-scheme: dark)');
  media?.addEventListener('change', onChange);
  return () => {
    observer.disconnect();
    media?.removeEventListener('change', onChange);
  };
}
