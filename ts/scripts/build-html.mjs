#!/usr/bin/env node
// Builds the HTML report's page assets (trapline report --html): type-checks the page
// script (ts/client, browser code), bundles it with its charting library, Chartist, into
// one script, and Chartist's stylesheet with the page's into one stylesheet:
//   dist/report-page/report.js, dist/report-page/report.css
// ts/src/html/render.ts inlines both into every page, so a page needs nothing else.
// Run by `npm run build` (after tsc); usage: node ts/scripts/build-html.mjs
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(join(root, 'package.json'));
const out = join(root, 'dist', 'report-page');
mkdirSync(out, { recursive: true });

try {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'ts', 'client', 'tsconfig.json')], { stdio: 'inherit' });
} catch {
  console.error('build-html: the page script (ts/client) does not type-check');
  process.exit(1);
}

const chartistCss = require.resolve('chartist/dist/index.css');   // its exports hide package.json
const chartist = JSON.parse(readFileSync(join(dirname(chartistCss), '..', 'package.json'), 'utf8'));
const banner = `/* trapline report page. Bundles Chartist ${chartist.version} (${chartist.homepage}), ${chartist.license}, (c) Gion Kunz. */`;
await esbuild.build({
  entryPoints: [join(root, 'ts', 'client', 'main.ts')],
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  legalComments: 'inline',
  banner: { js: banner },
  outfile: join(out, 'report.js'),
  logLevel: 'warning',
});

const css = readFileSync(chartistCss, 'utf8') + '\n' + readFileSync(join(root, 'ts', 'client', 'style.css'), 'utf8');
const min = await esbuild.transform(css, { loader: 'css', minify: true });
writeFileSync(join(out, 'report.css'), min.code);
