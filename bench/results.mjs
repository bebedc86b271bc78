// Machine-readable benchmark results for bench/run_all.py: the same JSON shape as
// bench/_results.py (one file per benchmark; rows of figure / value / baseline / ratio /
// goal / met / note, display strings with units, met null when a figure has no goal).
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** One result row; `met` is null when the figure has no goal. */
export function row(figure, value, { baseline = '—', ratio = '—', goal = '—', met = null, note = '' } = {}) {
  return { figure, value, baseline, ratio, goal, met, note };
}

/** `--json=<file>` from argv, or null. */
export function jsonArg(argv = process.argv.slice(2)) {
  const a = argv.find((x) => x.startsWith('--json='));
  return a ? a.slice('--json='.length) : null;
}

/** `--mode=<quick|full>` from argv (set by the runner), else `custom`. */
export function modeArg(argv = process.argv.slice(2)) {
  const a = argv.find((x) => x.startsWith('--mode='));
  return a ? a.slice('--mode='.length) : 'custom';
}

/** Write one benchmark's result file; a no-op when `file` is null. */
export function writeResult(file, { bench, title, rows, started, details = null, extra = {} }) {
  if (!file) return;
  for (const r of rows) {
    for (const f of ['figure', 'value', 'baseline', 'ratio', 'goal', 'met', 'note']) {
      if (!(f in r)) throw new Error(`result row ${JSON.stringify(r)} is missing field ${f}`);
    }
  }
  const out = {
    bench,
    title,
    started: new Date(started).toISOString().replace(/\.\d+Z$/, '+00:00'),
    finished: new Date().toISOString().replace(/\.\d+Z$/, '+00:00'),
    command: ['node', path.relative(process.cwd(), process.argv[1]), ...process.argv.slice(2)].join(' '),
    mode: modeArg(),
    machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? '?', load_average: os.loadavg().map((v) => Math.round(v * 10) / 10), node: process.version },
    rows,
    details,
    ...extra,
  };
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp`);
  writeFileSync(tmp, JSON.stringify(out, null, 1) + '\n');
  renameSync(tmp, file);
}

/** The line in a bench's markdown report after which the text is written by hand. */
export const HAND_WRITTEN = '<!-- hand-written below: the bench scripts keep everything after this line -->';

/**
 * Write a bench's markdown report: the generated `text`, then whatever the file already
 * holds from the HAND_WRITTEN line on, so a rerun never loses written-up findings.
 */
export function writeReport(file, text) {
  const old = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const at = old.indexOf(HAND_WRITTEN);
  writeFileSync(file, at < 0 ? text : `${text.trimEnd()}\n\n${old.slice(at)}`);
}
