import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['lib/**', 'node_modules/**', 'python_shim/**', '.venv/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-properties': ['error', { property: 'innerHTML', message: 'Token text is data: use textContent.' }],
    },
  },
  {
    // compute/ and layout/ run in workers and on the main thread alike: pure maths on
    // typed arrays, no page (dependency-cruiser forbids their importing ui/, render/, three).
    files: ['src/compute/**/*.ts', 'src/layout/**/*.ts'],
    rules: {
      'no-restricted-globals': [
        'error',
        ...['document', 'window', 'localStorage', 'sessionStorage', 'requestAnimationFrame', 'getComputedStyle'].map((name) => ({
          name,
          message: 'compute/ and layout/ do not touch the page (they run in workers too).',
        })),
      ],
    },
  },
  {
    // The e2e tests are plain JavaScript (Node, plus page.evaluate code run in the browser):
    // nothing type-checks them, so an undefined name must fail the lint, not the CI run.
    files: ['e2e/**/*.mjs'],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: { 'no-undef': 'error' },
  },
);
