/**
 * Light/dark theme. "auto" follows JupyterLab and Notebook 7 (body[data-jp-theme-light]),
 * VS Code (its notebook outputs' body carries the workbench theme's kind as a class:
 * vscode-light, vscode-dark, vscode-high-contrast[-light]; their prefers-color-scheme does
 * not follow the workbench, microsoft/vscode#176698) and elsewhere the browser's
 * prefers-color-scheme.
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
  const vscode = document.body?.classList;
  if (vscode?.contains('vscode-light') || vscode?.contains('vscode-high-contrast-light')) return LIGHT;
  if (vscode?.contains('vscode-dark') || vscode?.contains('vscode-high-contrast')) return DARK;
  return window.matchMedia?.('(prefers-color-scheme: dark)').matches ? DARK : LIGHT;
}

/** Calls `onChange` whenever the automatic theme may have changed; returns the unsubscribe. */
export function watchTheme(onChange: () => void): () => void {
  const observer = new MutationObserver(onChange);
  if (document.body) observer.observe(document.body, { attributes: true, attributeFilter: ['data-jp-theme-light', 'class'] });
  const media = window.matchMedia?.('(prefers-color-scheme: dark)');
  media?.addEventListener('change', onChange);
  return () => {
    observer.disconnect();
    media?.removeEventListener('change', onChange);
  };
}
