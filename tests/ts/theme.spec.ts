/**
 * The "auto" theme follows the page it is shown in: JupyterLab / Notebook 7
 * (body[data-jp-theme-light]), VS Code (body classes vscode-light / vscode-dark /
 * vscode-high-contrast[-light]), else prefers-color-scheme; a mounted view re-themes
 * when the page's theme changes.
 */
import { MemoryModel } from '../../src/model/memory_model';
import { DEFAULT_TRAITS, type ViewTraits } from '../../src/model/traits';
import { DARK, LIGHT, resolveTheme } from '../../src/ui/theme';
import { mountView } from '../../src/view';
import { tokenTable, waitFor } from './helpers';

const VSCODE = ['vscode-light', 'vscode-dark', 'vscode-high-contrast', 'vscode-high-contrast-light'];

function resetBody(): void {
  delete document.body.dataset.jpThemeLight;
  document.body.classList.remove(...VSCODE);
}

describe('theme', () => {
  afterEach(resetBody);

  it('auto follows JupyterLab and Notebook 7 (data-jp-theme-light)', () => {
    document.body.dataset.jpThemeLight = 'false';
    expect(resolveTheme('auto')).toBe(DARK);
    document.body.dataset.jpThemeLight = 'true';
    expect(resolveTheme('auto')).toBe(LIGHT);
  });

  it("auto follows VS Code's theme kind (body classes), high-contrast light included", () => {
    const cases: Array<[string[], typeof LIGHT]> = [
      [['vscode-dark'], DARK],
      [['vscode-light'], LIGHT],
      [['vscode-high-contrast'], DARK],
      [['vscode-high-contrast', 'vscode-high-contrast-light'], LIGHT],
    ];
    for (const [classes, expected] of cases) {
      resetBody();
      document.body.classList.add(...classes);
      expect(resolveTheme('auto')).withContext(classes.join(' ')).toBe(expected);
    }
  });

  it('an explicit theme wins over the page', () => {
    document.body.classList.add('vscode-dark');
    expect(resolveTheme('light')).toBe(LIGHT);
    document.body.classList.replace('vscode-dark', 'vscode-light');
    expect(resolveTheme('dark')).toBe(DARK);
  });

  it('a mounted view re-themes when VS Code switches theme; other body class changes leave it', async () => {
    document.body.classList.add('vscode-light');
    const model = new MemoryModel<ViewTraits>({
      ...DEFAULT_TRAITS,
      view: 'head',
      projection: 'pca',
      n_layers: 1,
      n_heads: 1,
      theme: 'auto',
      _tokens: tokenTable(4, 4, (i) => `t${i}`),
      _queries: null,
      _keys: null,
      _qk_meta: null,
    });
    const el = document.createElement('div');
    document.body.append(el);
    const unmount = mountView(model, el);
    try {
      const root = el.querySelector<HTMLElement>('.attentionviz')!;
      expect(root.classList.contains('av-dark')).toBeFalse();
      document.body.classList.replace('vscode-light', 'vscode-dark');
      await waitFor(() => root.classList.contains('av-dark') || null, 'the dark theme');
      document.body.classList.add('some-unrelated-class'); // not a theme change: stays dark
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(root.classList.contains('av-dark')).toBeTrue();
      document.body.classList.remove('some-unrelated-class');
      document.body.classList.replace('vscode-dark', 'vscode-light');
      await waitFor(() => !root.classList.contains('av-dark') || null, 'back to light');
    } finally {
      unmount();
      el.remove();
    }
  });
});
