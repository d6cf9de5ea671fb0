#!/usr/bin/env node
// Screenshots of HTML report pages, taken by headless Chromium (Debian's chromium).
//   node ts/scripts/report-screenshot.mjs
//       docs/report.png: the top of the page of a real run, python3 -c 'import sqlite3'
//       (the system's /usr/bin/python3, not a wrapper script from PATH)
//       under trapline (lazy mode, --allow-null-reads), as README shows it
//   node ts/scripts/report-screenshot.mjs PAGE.html OUT.png [CSS-SELECTOR [WIDTH]]
//       any page, or one element of it
// Needs `npm run build` first.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

async function shoot(page, out, { selector, width = 1280, height = 900, full = false } = {}) {
  const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  try {
    const p = await browser.newPage();
    p.on('pageerror', (e) => { console.error(`page error: ${e}`); process.exitCode = 1; });
    await p.setViewport({ width, height });
    await p.goto(`file://${resolve(page)}`);
    await p.waitForSelector('main[data-ready]');
    await p.waitForFunction(() => [...document.querySelectorAll('.chart')].every((c) => c.querySelector('svg')));
    if (selector) await (await p.$(selector)).screenshot({ path: out });
    else await p.screenshot({ path: out, fullPage: full });
  } finally {
    await browser.close();
  }
}

const [page, out, selector, width] = process.argv.slice(2);
if (page) {
  if (!out) throw new Error('usage: report-screenshot.mjs [PAGE.html OUT.png [CSS-SELECTOR [WIDTH]]]');
  await shoot(page, out, { selector, width: width ? Number(width) : undefined, full: !selector });
} else {
  const tmp = mkdtempSync(join(tmpdir(), 'trapline-shot-'));
  try {
    const html = join(tmp, 'python3-sqlite3.html');
    execFileSync(process.execPath, [join(root, 'dist', 'cli.js'), 'run', '--allow-null-reads', '--html', html, '--',
      existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3', '-c', 'import sqlite3'], { stdio: 'inherit' });
    await shoot(html, join(root, 'docs', 'report.png'), { width: 1200, height: 1850 });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
