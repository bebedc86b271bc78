// The inference worker bundle (webpack config `inference-worker`) as text.
declare module 'attentionviz-inference-worker' {
  const source: string;
  export default source;
}
