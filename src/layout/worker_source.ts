/** The layout worker's bundled source text (see webpack.config.js), for blob-URL workers. */
import source from 'attentionviz-layout-worker';

export default source;
