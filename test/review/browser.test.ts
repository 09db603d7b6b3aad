/**
 * The HTML report in a real browser: headless Debian Chromium driven by playwright-core. The page must
 * load without console errors or network requests, draw its charts, and show its sections, in English
 * and in Chinese (with a CJK font installed).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { messagesFor, type Lang } from '../../src/review/messages.js';
import { renderHtml, TOP_DENIED } from '../../src/review/render-html.js';
import type { ReviewReport } from '../../src/review/review-model.js';
import { fixtureReview, HOSTILE_EXE } from './fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
// Without the background-networking flags Chromium phones home, and this closed network refuses it.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const VIEWPORT = { width: 1100, height: 900 };

const dir = mkdtempSync(join(tmpdir(), 'sysfence-review-browser-'));
let browser: Browser | undefined;
let report: ReviewReport;

before(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: install it with apt-get install -y chromium`);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  report = (await fixtureReview()).report;
});

after(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface LoadedPage {
  readonly page: Page;
  /** Console errors, page errors, failed requests, requests for anything but the report, dialogs. */
  readonly problems: string[];
}

async function openReport(lang: Lang): Promise<LoadedPage> {
  const file = join(dir, `report-${lang}.html`);
  writeFileSync(file, renderHtml(report, lang));
  const url = pathToFileURL(file).href;
  const page = await browser!.newPage({ viewport: VIEWPORT });
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) => problems.push(`failed request: ${request.url()}`));
  page.on('request', (request) => {
    if (request.url() !== url) problems.push(`request: ${request.url()}`);
  });
  page.on('dialog', (dialog) => {
    problems.push(`dialog: ${dialog.message()}`);
    void dialog.dismiss();
  });
  await page.goto(url, { waitUntil: 'load' });
  return { page, problems };
}

/** The (exe, day) cells with calls: one stacked bar segment each. */
function usageSegments(): number {
  return report.usage.series.reduce(
    (sum, series) => sum + series.counts.filter((count) => count > 0).length,
    0,
  );
}

async function assertVisibleBoxes(page: Page, selector: string, expected: number): Promise<void> {
  const boxes = await page.locator(selector).evaluateAll((elements) =>
    elements.map((element) => {
      const rect = element.getBoundingClientRect();
      return { width: rect.width, height: rect.height };
    }),
  );
  assert.equal(boxes.length, expected, selector);
  for (const box of boxes) assert.ok(box.width > 0 && box.height > 0, `${selector}: ${JSON.stringify(box)}`);
}

async function assertHeadingsVisible(page: Page, lang: Lang): Promise<void> {
  const sections = messagesFor(lang).sections;
  const headings = [
    sections.summary,
    sections.score,
    sections.due,
    sections.usage,
    sections.topDenied,
    sections.riskBreakdown,
    sections.unused,
    sections.denied,
    sections.drift,
  ];
  for (const heading of headings) {
    const locator = page.locator('h2', { hasText: heading }).first();
    // Centre it: scrollIntoViewIfNeeded leaves a heading that is partly visible at the edge.
    await locator.evaluate((element) => element.scrollIntoView({ block: 'center' }));
    assert.ok(await locator.isVisible(), heading);
    const box = await locator.boundingBox();
    assert.ok(box !== null && box.width > 0 && box.height > 0, heading);
    assert.ok(
      box.y >= 0 && box.y + box.height <= VIEWPORT.height,
      `${heading} scrolled into view: ${JSON.stringify(box)}`,
    );
  }
}

/** Width and height from a PNG's IHDR chunk, after checking the signature. */
function pngSize(png: Buffer): { width: number; height: number } {
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.equal(png.subarray(12, 16).toString('latin1'), 'IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

test('the English report loads without errors or requests and draws its charts', async () => {
  const { page, problems } = await openReport('en');
  assert.equal(await page.title(), `Policy review: ${report.policy.name}`);
  await assertVisibleBoxes(page, 'svg.chart', 4);
  await assertVisibleBoxes(page, '#usage svg.stacked-chart g.series', report.usage.series.length);
  await assertVisibleBoxes(page, '#usage svg.stacked-chart rect.bar', usageSegments());
  await assertVisibleBoxes(page, '#top-denied rect.bar', Math.min(TOP_DENIED, report.denied.length));
  await assertVisibleBoxes(page, '#risk svg.chart >> nth=0 >> rect.bar', 3);
  await assertVisibleBoxes(
    page,
    '#risk svg.chart >> nth=1 >> rect.bar',
    report.riskBreakdown.byCategory.length,
  );
  // The hostile executable name is shown as text and ran nothing.
  assert.equal(await page.locator('script').count(), 0);
  assert.ok((await page.getByText(HOSTILE_EXE).count()) > 0);
  await page.close();
  assert.deepEqual(problems, []);
});

test('a full-page screenshot shows the key sections', async () => {
  const { page, problems } = await openReport('en');
  const path = join(dir, 'report-en.png');
  await page.screenshot({ path, fullPage: true });
  const png = readFileSync(path);
  const size = pngSize(png);
  assert.equal(size.width, VIEWPORT.width);
  assert.ok(size.height > 2 * VIEWPORT.height, `page height ${size.height}`);
  assert.ok(png.length > 50_000 && png.length < 20_000_000, `PNG of ${png.length} bytes`);
  await assertHeadingsVisible(page, 'en');
  await page.close();
  assert.deepEqual(problems, []);
});

test('the Chinese report renders its Chinese headings', async () => {
  const fonts = execFileSync('fc-list', [':lang=zh', 'family'], { encoding: 'utf8' }).trim();
  assert.notEqual(fonts, '', 'no Chinese font: install one with apt-get install -y fonts-wqy-zenhei');
  const { page, problems } = await openReport('zh');
  assert.equal(await page.locator('html').getAttribute('lang'), 'zh-CN');
  await assertHeadingsVisible(page, 'zh');
  await assertVisibleBoxes(page, 'svg.chart', 4);
  const path = join(dir, 'report-zh.png');
  await page.screenshot({ path, fullPage: true });
  assert.equal(pngSize(readFileSync(path)).width, VIEWPORT.width);
  await page.close();
  assert.deepEqual(problems, []);
});
