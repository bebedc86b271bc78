// Unit tests for src/ in headless Chromium (Debian's /usr/bin/chromium; no browser download).
process.env.CHROME_BIN = process.env.CHROME_BIN || '/usr/bin/chromium';
// The layout worker bundle must exist first: `npm test` builds it (webpack --config-name worker).
// The inference worker bundle too (src/index.ts wires in-browser Q/K for typed text);
// `make test` builds both before karma (npm run build:prod).
const { workerSource, inferenceSource } = require('./webpack.config.js');

module.exports = (config) => {
  config.set({
    frameworks: ['jasmine', 'webpack'],
    files: [
      { pattern: 'tests/ts/**/*.spec.ts', watched: false },
      // .attnviz fixtures written by tests/fixtures/make_attnviz_fixture.py, fetched at /base/...
      { pattern: 'tests/fixtures/*.{attnviz,json}', included: false, served: true, watched: false },
    ],
    preprocessors: { 'tests/ts/**/*.spec.ts': ['webpack'] },
    webpack: {
      mode: 'development',
      devtool: 'inline-source-map',
      resolve: { extensions: ['.ts', '.js'], alias: { ...workerSource.resolve.alias, ...inferenceSource.resolve.alias } },
      module: {
        rules: [
          {
            test: /\.ts$/,
            loader: 'ts-loader',
            options: { transpileOnly: true, configFile: 'tests/ts/tsconfig.json' },
            exclude: /node_modules/,
          },
          workerSource.rule,
          inferenceSource.rule,
        ],
      },
    },
    browsers: ['ChromiumHeadlessNoSandbox'],
    customLaunchers: {
      ChromiumHeadlessNoSandbox: {
        base: 'ChromeHeadless',
        flags: [
          '--no-sandbox',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
          '--use-angle=swiftshader',
          '--enable-unsafe-swiftshader',
        ],
      },
    },
    reporters: ['progress'],
    // Layout specs run seconds-long synchronous loops on a 2-core machine: be patient.
    browserNoActivityTimeout: 300000,
    browserDisconnectTimeout: 120000,
    pingTimeout: 300000,
    singleRun: true,
  });
};
