/**
 * The JupyterLab prebuilt extension. Installing the Python package installs it, so
 * JupyterLab knows attentionviz without a rebuild. The notebook widget itself is
 * served by anywidget; this plugin adds the kernel-free `.attnviz` file viewer (issue 7):
 * double-clicking a capture in the file browser opens the full view in a tab.
 */
import type { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ABCWidgetFactory, Base64ModelFactory, DocumentWidget, type DocumentRegistry, type IDocumentWidget } from '@jupyterlab/docregistry';
import type { Contents } from '@jupyterlab/services';
import { LabIcon } from '@jupyterlab/ui-components';
import { httpSource } from './http_source';
import { AttnvizViewer } from './viewer';

const FILE_TYPE = 'attnviz';
const FACTORY = 'AttentionViz';
const MODEL = 'attnviz-bytes';

/** Query (green) and key (pink) points, the view's own colours. */
const captureIcon = new LabIcon({
  name: 'attentionviz:capture',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><g stroke="none">' +
    '<circle cx="4" cy="5" r="2" fill="#1a9850"/><circle cx="9.5" cy="3.5" r="1.6" fill="#d6337f"/>' +
    '<circle cx="5.5" cy="11.5" r="1.8" fill="#d6337f"/><circle cx="12" cy="9" r="2" fill="#1a9850"/>' +
    '<circle cx="11" cy="14" r="1.4" fill="#d6337f"/></g></svg>',
});

/**
 * A document model that never loads the file's content through the contents API (no
 * base64 of a possibly large file): the viewer reads the bytes itself, by range.
 */
class ByteRangeModelFactory extends Base64ModelFactory {
  get name(): string {
    return MODEL;
  }

  get fileFormat(): Contents.FileFormat {
    return null;
  }
}

class AttnvizWidgetFactory extends ABCWidgetFactory<IDocumentWidget<AttnvizViewer>> {
  constructor(
    private readonly app: JupyterFrontEnd,
    options: DocumentRegistry.IWidgetFactoryOptions<IDocumentWidget<AttnvizViewer>>,
  ) {
    super(options);
  }

  protected createNewWidget(context: DocumentRegistry.Context): IDocumentWidget<AttnvizViewer> {
    const content = new AttnvizViewer();
    const widget = new DocumentWidget({ content, context });
    widget.title.caption = `${context.path} (attentionviz capture)`;
    widget.title.icon = captureIcon;
    const { contents, serverSettings } = this.app.serviceManager;
    void context.ready.then(() =>
      content.load({
        name: context.path.split('/').pop() ?? context.path,
        id: `file:${context.path}@${context.contentsModel?.last_modified ?? ''}`,
        open: async () => httpSource(await contents.getDownloadUrl(context.path), serverSettings),
      }),
    );
    return widget;
  }
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'attentionviz:plugin',
  description: 'AttentionViz for JupyterLab: opens .attnviz capture files in a tab, without a kernel.',
  autoStart: true,
  activate: (app: JupyterFrontEnd) => {
    const registry = app.docRegistry;
    registry.addFileType({
      name: FILE_TYPE,
      displayName: 'AttentionViz capture',
      extensions: ['.attnviz'],
      mimeTypes: ['application/x-attnviz'],
      contentType: 'file',
      fileFormat: null,
      icon: captureIcon,
    });
    registry.addModelFactory(new ByteRangeModelFactory());
    registry.addWidgetFactory(
      new AttnvizWidgetFactory(app, {
        name: FACTORY,
        label: 'AttentionViz',
        modelName: MODEL,
        fileTypes: [FILE_TYPE],
        defaultFor: [FILE_TYPE],
        readOnly: true,
        preferKernel: false,
        canStartKernel: false,
      }),
    );
    // Lets users and tests check the extension is installed and active.
    document.body.dataset.attentionvizExtension = app.name;
  },
};

export default plugin;
