/** The view's stylesheet, injected into its root so every host (notebook, HTML export, Lab viewer) looks the same. */
export const css = /* css */ `
.attentionviz {
  --av-bg: #ffffff;
  --av-fg: #1f2328;
  --av-muted: #6a737d;
  --av-border: #d0d7de;
  --av-panel: #f6f8fa;
  --av-query: #1a9850;
  --av-key: #d6337f;
  position: relative;
  display: flex;
  flex-direction: column;
  width: 100%;
  min-width: 320px;
  font-family: var(--jp-ui-font-family, system-ui, -apple-system, "Segoe UI", sans-serif);
  font-size: 12px;
  color: var(--av-fg);
  background: var(--av-bg);
  border: 1px solid var(--av-border);
  border-radius: 4px;
  box-sizing: border-box;
}
.attentionviz.av-dark {
  --av-bg: #111418;
  --av-fg: #e6e6e6;
  --av-muted: #9aa4ae;
  --av-border: #30363d;
  --av-panel: #1a1f25;
  --av-query: #4cc38a;
  --av-key: #ff6fae;
}
.attentionviz .av-toolbar {
  display: flex;
  flex-wrap: wrap;
  align-items: center;
  gap: 8px;
  padding: 6px 8px;
  background: var(--av-panel);
  border-bottom: 1px solid var(--av-border);
}
/* Room for most Hugging Face model ids (org/name) before the ellipsis; full name on hover. */
.attentionviz .av-title { font-weight: 600; margin-right: 4px; max-width: 48ch; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.attentionviz .av-toolbar label { display: inline-flex; align-items: center; gap: 4px; color: var(--av-muted); }
.attentionviz select, .attentionviz button {
  font: inherit;
  color: var(--av-fg);
  background: var(--av-bg);
  border: 1px solid var(--av-border);
  border-radius: 3px;
  padding: 2px 6px;
}
.attentionviz button { cursor: pointer; }
.attentionviz .av-spacer { flex: 1; }
.attentionviz .av-status { color: var(--av-muted); white-space: nowrap; }
.attentionviz:focus { outline: none; }
.attentionviz:focus-visible { outline: 2px solid #5b7cfa; }
.attentionviz .av-controls { display: inline-flex; flex-wrap: wrap; align-items: center; gap: 8px; }
.attentionviz .av-search { font: inherit; width: 110px; padding: 2px 6px; color: var(--av-fg); background: var(--av-bg); border: 1px solid var(--av-border); border-radius: 3px; }
.attentionviz .av-body { position: relative; min-height: 200px; }
.attentionviz .av-head { display: flex; align-items: stretch; }
.attentionviz .av-plot { position: relative; flex: 1; min-width: 0; height: 520px; overflow: hidden; cursor: crosshair; }
.attentionviz .av-overlay { position: absolute; left: 0; top: 0; pointer-events: none; }
.attentionviz .av-sentence { width: 300px; max-height: 520px; overflow: auto; border-left: 1px solid var(--av-border); background: var(--av-panel); }
.attentionviz .av-sentence-empty { padding: 16px; color: var(--av-muted); }
.attentionviz .av-sentence-head { display: flex; justify-content: space-between; padding: 4px 10px; color: var(--av-muted); border-bottom: 1px solid var(--av-border); }
.attentionviz .av-sentence-token { font-size: 12px; fill: var(--av-fg); cursor: pointer; font-family: var(--jp-code-font-family, monospace); }
.attentionviz .av-sentence-focus { font-weight: 700; fill: var(--av-key); }
.attentionviz .av-sentence-toggled { text-decoration: underline; font-weight: 700; }
.attentionviz .av-sentence-hidden { fill: var(--av-muted); font-style: italic; }
.attentionviz .av-compare { display: flex; align-items: stretch; }
.attentionviz .av-compare-panel { flex: 1; min-width: 0; flex-direction: column; }
.attentionviz .av-compare-panel + .av-compare-panel { border-left: 1px solid var(--av-border); }
.attentionviz .av-compare-panel .av-plot { flex: none; height: 480px; }
.attentionviz .av-compare-header { display: flex; align-items: center; gap: 8px; padding: 3px 8px; color: var(--av-muted); background: var(--av-panel); border-bottom: 1px solid var(--av-border); white-space: nowrap; overflow: hidden; }
.attentionviz .av-compare-header label { display: inline-flex; align-items: center; gap: 4px; flex: none; }
/* A long model name gives way (ellipsis, full name on hover); the pickers never do. */
.attentionviz .av-compare-title { font-weight: 600; color: var(--av-fg); min-width: 0; overflow: hidden; text-overflow: ellipsis; }
.attentionviz .av-compare-status { overflow: hidden; text-overflow: ellipsis; }
.attentionviz .av-matrix { padding: 4px 8px 8px; }
.attentionviz .av-matrix-bar { display: flex; align-items: center; gap: 10px; min-height: 24px; color: var(--av-muted); font-size: 11px; }
.attentionviz .av-matrix-zoom { display: inline-flex; align-items: center; gap: 3px; flex: none; }
.attentionviz .av-matrix-zoom-slider { width: 110px; }
.attentionviz .av-matrix-zoom-button { font-size: 11px; padding: 0 5px; }
.attentionviz .av-matrix-note { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.attentionviz .av-matrix-scroll { overflow: auto; max-height: 640px; position: relative; }
.attentionviz .av-matrix-frame { display: inline-block; }
.attentionviz .av-matrix-rows { display: flex; align-items: flex-start; }
.attentionviz .av-matrix-axis { position: relative; flex: none; font-size: 10px; color: var(--av-muted); }
.attentionviz .av-matrix-heads { margin-left: 30px; }
.attentionviz .av-axis-label { position: absolute; white-space: nowrap; text-align: center; overflow: visible; }
.attentionviz .av-matrix-layers .av-axis-label { left: 0; width: 100%; text-align: right; padding-right: 4px; box-sizing: border-box; }
.attentionviz .av-matrix-grid { display: grid; gap: 0; }
.attentionviz .av-cell { display: flex; flex-direction: column; align-items: center; padding: 1px; margin: 0 2px 2px 0; border: 1px solid var(--av-border); border-radius: 3px; background: var(--av-bg); color: var(--av-fg); cursor: pointer; overflow: hidden; min-width: 0; }
.attentionviz .av-cell-strip { width: 100%; height: 3px; flex: none; background: transparent; }
.attentionviz .av-matrix-small .av-cell-caption { display: none; }
.attentionviz .av-matrix-small .av-cell { border-radius: 1px; position: relative; }
.attentionviz .av-matrix-small .av-cell-strip { position: absolute; left: 0; right: 0; bottom: 0; }
.attentionviz .av-cell-failed { border-color: #d33; }
.attentionviz .av-cell:hover { border-color: #5b7cfa; }
.attentionviz .av-cell canvas { display: block; }
.attentionviz .av-cell-pending canvas { opacity: 0.35; }
.attentionviz .av-cell-caption { font-size: 10px; line-height: 1.25; text-align: center; color: var(--av-muted); white-space: nowrap; overflow: hidden; max-width: 100%; }
.attentionviz .av-cell-caption span { display: block; }
.attentionviz .av-cell-caption .av-cell-sep { display: none; }
.attentionviz .av-plot canvas { display: block; }
.attentionviz .av-lasso { position: absolute; inset: 0; width: 100%; height: 100%; pointer-events: none; }
.attentionviz .av-lasso polyline { fill: rgba(100, 140, 255, 0.12); stroke: #5b7cfa; stroke-width: 1.5; stroke-dasharray: 4 3; }
.attentionviz .av-legend {
  position: absolute; left: 8px; bottom: 8px; display: flex; gap: 10px; padding: 3px 8px;
  background: var(--av-panel); border: 1px solid var(--av-border); border-radius: 3px; pointer-events: none;
}
.attentionviz .av-swatch { display: inline-block; width: 9px; height: 9px; border-radius: 50%; margin-right: 4px; vertical-align: -1px; }
/* top right, so a long legend (bottom left) never runs into it */
.attentionviz .av-hint { position: absolute; right: 8px; top: 6px; font-size: 11px; color: var(--av-muted); pointer-events: none; }
/* the head view's token tooltip; the head map's (its own class, so each view has one .av-tooltip) looks the same */
.attentionviz .av-tooltip, .attentionviz .av-headmap-tooltip {
  position: absolute; display: none; max-width: 360px; padding: 6px 8px; pointer-events: none; z-index: 2;
  background: var(--av-bg); border: 1px solid var(--av-border); border-radius: 4px; box-shadow: 0 2px 8px rgba(0, 0, 0, 0.18);
}
.attentionviz .av-tooltip-head { display: flex; align-items: center; gap: 6px; margin-bottom: 4px; }
.attentionviz .av-tooltip-token { font-weight: 600; font-family: var(--jp-code-font-family, monospace); white-space: pre; }
.attentionviz .av-tooltip-context { color: var(--av-muted); line-height: 1.4; }
.attentionviz .av-tooltip-current { color: var(--av-fg); font-weight: 600; text-decoration: underline; }
.attentionviz .av-tooltip-detail { color: var(--av-muted); margin-top: 4px; font-size: 11px; }
.attentionviz .av-badge { border-radius: 3px; padding: 0 4px; color: #fff; font-size: 10px; text-transform: uppercase; }
.attentionviz .av-badge-query { background: var(--av-query); }
.attentionviz .av-badge-key { background: var(--av-key); }
.attentionviz .av-message {
  position: absolute; inset: 0; display: none; align-items: center; justify-content: center; padding: 24px;
  text-align: center; color: var(--av-fg); background: var(--av-bg); white-space: pre-wrap;
}
.attentionviz .av-message.av-visible { display: flex; }
.attentionviz .av-notice { display: none; position: absolute; top: 6px; left: 50%; transform: translateX(-50%); z-index: 3; padding: 4px 10px; border-radius: 3px; background: #fff3cd; color: #664d03; border: 1px solid #ffe69c; cursor: pointer; }
.attentionviz .av-notice.av-visible { display: block; }
/* the head map view */
.attentionviz .av-headmap { padding: 8px; }
.attentionviz .av-headmap-legend { display: flex; flex-wrap: wrap; align-items: center; gap: 6px; font-size: 12px; color: var(--av-muted); margin-bottom: 6px; }
.attentionviz .av-headmap-legend > span { white-space: nowrap; }
.attentionviz .av-headmap-hint { margin-left: 12px; }
.attentionviz .av-headmap-ramp { display: inline-block; width: 120px; height: 10px; border-radius: 2px; }
.attentionviz .av-headmap-point { cursor: pointer; }
.attentionviz .av-headmap-point:hover, .attentionviz .av-headmap-point:focus { stroke: var(--av-fg); stroke-width: 2; outline: none; }
.attentionviz .av-headmap-tooltip { position: absolute; pointer-events: none; min-width: 140px; }
.attentionviz .av-headmap-thumb { min-height: 122px; }
.attentionviz .av-headmap-thumb canvas { display: block; margin: 4px 0; border: 1px solid var(--av-border); }
/* The analysis pane (views/analysis.ts): pattern heatmap, attention by offset, q·k per dimension. */
.attentionviz .av-analysis { width: 300px; max-height: 520px; overflow: auto; border-left: 1px solid var(--av-border); background: var(--av-panel); }
.attentionviz .av-analysis.av-analysis-collapsed { width: auto; }
.attentionviz .av-analysis-open { writing-mode: vertical-rl; margin: 6px 3px; padding: 6px 2px; font: inherit; color: var(--av-fg); background: var(--av-bg); border: 1px solid var(--av-border); border-radius: 3px; cursor: pointer; }
.attentionviz .av-analysis-tabs { display: flex; align-items: center; gap: 3px; padding: 4px 6px; border-bottom: 1px solid var(--av-border); }
.attentionviz .av-analysis-tabs button { font: inherit; font-size: 11px; padding: 1px 6px; color: var(--av-fg); background: var(--av-bg); border: 1px solid var(--av-border); border-radius: 3px; cursor: pointer; }
.attentionviz .av-analysis-tabs button.av-active { border-color: #5b7cfa; font-weight: 600; }
.attentionviz .av-analysis-weight { display: inline-flex; align-items: center; gap: 2px; margin-left: auto; font-size: 11px; color: var(--av-muted); }
.attentionviz .av-analysis-caption { padding: 4px 10px; font-size: 11px; color: var(--av-muted); }
.attentionviz .av-heatmap canvas, .attentionviz .av-aggregate canvas { display: block; margin: 6px auto; cursor: crosshair; }
.attentionviz .av-aggregate-chart, .attentionviz .av-dims-chart { display: block; margin: 4px auto; }
.attentionviz .av-aggregate-tick { font-size: 9px; fill: var(--av-muted); }
.attentionviz .av-dims-steps { padding: 4px 10px; font-size: 11px; font-family: var(--jp-code-font-family, monospace); color: var(--av-fg); line-height: 1.5; }
`;
