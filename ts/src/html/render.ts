// `trapline report --html` and `trapline run --html`: one self-contained HTML file. The
// page holds the report data (model.ts: the reports as `--json` prints them, plus what the
// module files add) and the script that draws it, bundled at build time with its charting
// library (ts/scripts/build-html.mjs -> dist/report-page/). Nothing is fetched: a Content Security
// Policy forbids every request, and the script is allowed by its hash alone.
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { packageRoot } from '../paths.js';
import type { StatsSnapshot } from '../stats.js';
import { annotate } from './annotate.js';
import type { PageData } from './model.js';

export interface HtmlInput {
  /** What the page calls the report: its file name, or the program run. */
  label: string;
  report: StatsSnapshot;
}

let assets: { js: string; css: string } | undefined;

/** The bundled page script and style (dist/report-page/, made by npm run build). */
function pageAssets(): { js: string; css: string } {
  if (assets) return assets;
  const dir = join(packageRoot(), 'dist', 'report-page');
  try {
    assets = { js: readFileSync(join(dir, 'report.js'), 'utf8'), css: readFileSync(join(dir, 'report.css'), 'utf8') };
  } catch {
    throw new Error(`trapline: the HTML report assets are not built (${dir}/report.js): run npm run build`);
  }
  return assets;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function version(): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

/** The page data for one report, or two to compare (before, after). */
export function pageData(inputs: HtmlInput[]): PageData {
  if (inputs.length < 1 || inputs.length > 2) throw new Error('trapline: an HTML report shows one report, or compares two');
  return {
    generator: `trapline ${version()}`,
    generatedMs: Date.now(),
    reports: inputs.map((x) => ({ label: x.label, report: x.report, annotations: annotate(x.report) })),
  };
}

/** The whole page, as one string. */
export function renderHtml(inputs: HtmlInput[]): string {
  const data = pageData(inputs);
  const { js, css } = pageAssets();
  // inside <script>, only "</script" and "<!--" matter; \u003c keeps both out of the JSON
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  const script = js.replace(/<\/(script)/gi, '<\\/$1');
  const hash = createHash('sha256').update(script).digest('base64');
  const title = inputs.length === 2
    ? `trapline: ${inputs[0]!.label} compared with ${inputs[1]!.label}`
    : `trapline report: ${inputs[0]!.label}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'sha256-${hash}'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="${escapeHtml(data.generator)}">
<title>${escapeHtml(title)}</title>
<style>${css.replace(/<\/(style)/gi, '<\\/$1')}</style>
</head>
<body>
<a class="skip" href="#main">Skip to the report</a>
<main id="main" tabindex="-1"><h1>${escapeHtml(title)}</h1><p id="loading">Drawing the report… (this page needs JavaScript; the data is in it, as JSON)</p></main>
<script type="application/json" id="trapline-data">${json}</script>
<script>${script}</script>
</body>
</html>
`;
}

/**
 * Writes the page to path ('-': standard output), through a temporary file renamed into
 * place, so a reader never sees half a page.
 */
export function writeHtmlReport(path: string, inputs: HtmlInput[]): void {
  const html = renderHtml(inputs);
  if (path === '-') {
    process.stdout.write(html);
    return;
  }
  const tmp = join(dirname(path), `.${process.pid}.trapline-html.tmp`);
  try {
    writeFileSync(tmp, html, { mode: 0o644 });
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    const err = e as NodeJS.ErrnoException;
    throw new Error(`trapline: ${path}: cannot write the HTML report (${err.code ?? err.message})`);
  }
}
