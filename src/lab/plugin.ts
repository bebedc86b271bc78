/**
 * The JupyterLab prebuilt extension. Installing the Python package installs it, so
 * JupyterLab knows attentionviz without a rebuild. The notebook widget itself is
 * served by anywidget; the kernel-free `.attnviz` file viewer registers here (issue 7).
 */
import type { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'attentionviz:plugin',
  description: 'AttentionViz for JupyterLab.',
  autoStart: true,
  activate: (app: JupyterFrontEnd) => {
    // Lets users and tests check the extension is installed and active.
    document.body.dataset.attentionvizExtension = app.name;
  },
};

export default plugin;
