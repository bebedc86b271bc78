// The layout worker bundle (built first by webpack, see webpack.config.js) as text.
declare module 'attentionviz-layout-worker' {
  const source: string;
  export default source;
}
