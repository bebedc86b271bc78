/** The inference worker's bundled source text (see webpack.config.js), for a blob-URL worker. */
import source from 'attentionviz-inference-worker';

export default source;
