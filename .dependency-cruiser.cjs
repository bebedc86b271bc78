/**
 * The TypeScript layers (DESIGN.md "Components"), checked by `npm run lint`.
 * Rules are by folder, so they keep holding as modules move between files:
 *   hosts (src/index.ts, src/view.ts, src/host.ts, src/standalone.ts, src/lab/, src/hosts/)
 *     -> views/ -> export/, render/, ui/, layout/, inference/, protocol/, model/ -> compute/
 */
const LOWER = '^src/(compute|layout|model|render|ui|inference|protocol|export)/';
const VIEWS_AND_HOSTS = ['^src/views/', '^src/lab/', '^src/hosts/', '^src/(view|host|standalone|index)[.]ts$'];

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import cycles: each module can be read (and tested) after the ones it imports.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'lower-layers-not-to-views-or-hosts',
      comment: 'compute/, layout/, model/, render/, ui/, inference/, protocol/, export/ serve views and hosts and never import them.',
      severity: 'error',
      from: { path: LOWER },
      to: { path: VIEWS_AND_HOSTS },
    },
    {
      name: 'compute-and-layout-without-dom',
      comment: 'compute/ and layout/ are pure maths on typed arrays (they run in workers): no DOM, no three.js, no UI.',
      severity: 'error',
      from: { path: '^src/(compute|layout)/' },
      to: { path: ['^src/(ui|render|export|views|lab|hosts)/', '(^|/)node_modules/(three|@types/three)/'] },
    },
    {
      name: 'compute-below-layout',
      comment: 'compute/ is the bottom layer: layout/ builds on it (normalize, random), never the other way.',
      severity: 'error',
      from: { path: '^src/compute/' },
      to: { path: '^src/layout/' },
    },
    {
      name: 'render-does-not-lay-out',
      comment: 'render/ draws the positions it is given; computing a layout is the views\' job (through layout/).',
      severity: 'error',
      from: { path: '^src/render/' },
      to: { path: '^src/layout/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count too: a cycle or a layer breach through types is still one.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // The worker bundles are webpack aliases (webpack.config.js), inlined as text.
    exclude: { path: '^attentionviz-(layout|inference)-worker$' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
