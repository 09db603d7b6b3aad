import { test } from 'node:test';
import assert from 'node:assert/strict';
import { snapshotFromReport } from '../../src/review/drift.js';
import { escapeHtml, escapeMarkdown } from '../../src/review/escape.js';
import { renderHtml } from '../../src/review/render-html.js';
import { renderJson } from '../../src/review/render-json.js';
import { renderMarkdown } from '../../src/review/render-markdown.js';
import { fixtureReview, HOSTILE_CONTAINER, HOSTILE_EXE } from './fixtures.js';

/** Elements the HTML report is built from; anything else would have come from data. */
const REPORT_TAGS = new Set([
  'html',
  'head',
  'meta',
  'title',
  'style',
  'body',
  'main',
  'header',
  'section',
  'h1',
  'h2',
  'h3',
  'p',
  'dl',
  'dt',
  'dd',
  'ul',
  'li',
  'table',
  'thead',
  'tbody',
  'tr',
  'th',
  'td',
  'code',
  'span',
  'svg',
  'g',
  'rect',
  'line',
  'text',
]);

test('escapeHtml turns markup into text and control characters into U+FFFD', () => {
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  assert.equal(escapeHtml('a\nb\u001b[31m'), 'a\ufffdb\ufffd[31m');
  assert.equal(escapeMarkdown('a|b `c` [d](e) *f* <g>'), 'a\\|b \\`c\\` \\[d\\](e) \\*f\\* &lt;g&gt;');
});

test('HTML: hostile executable and container names appear only as text', async () => {
  const { report } = await fixtureReview();
  for (const lang of ['en', 'zh'] as const) {
    const html = renderHtml(report, lang);
    assert.doesNotMatch(html, /<script/i);
    assert.doesNotMatch(html, /<img/i);
    assert.match(html, /\[&lt;script&gt;alert\(1\)&lt;\/script&gt;\]/);
    assert.ok(html.includes(escapeHtml(HOSTILE_CONTAINER)));
    const tags = new Set(
      [...html.matchAll(/<([a-zA-Z][a-zA-Z0-9-]*)/g)].map((match) => match[1]!.toLowerCase()),
    );
    assert.deepEqual(
      [...tags].filter((tag) => !REPORT_TAGS.has(tag)),
      [],
    );
  }
});

test('HTML: self-contained, with a CSP forbidding scripts and fetches', async () => {
  const { report } = await fixtureReview();
  const html = renderHtml(report, 'en');
  assert.match(html, /^<!DOCTYPE html>\n<html lang="en-GB">/);
  assert.match(html, /Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'/);
  assert.doesNotMatch(html, /<[^>]*\s(src|href)=/i);
  assert.doesNotMatch(html, /url\(/);
  assert.equal((html.match(/<svg /g) ?? []).length, 4);
});

test('HTML in Chinese: translated headings, dates and numbers formatted for zh-CN', async () => {
  const { report } = await fixtureReview();
  const html = renderHtml(report, 'zh');
  assert.match(html, /<html lang="zh-CN">/);
  for (const heading of [
    '概要',
    '风险评分',
    '下次审查',
    '已允许但从未使用',
    '被记录或拒绝的系统调用',
    '自上次审查以来的变化',
  ]) {
    assert.ok(html.includes(`<h2>${heading}</h2>`), heading);
  }
  assert.ok(html.includes('2026年10月30日'));
  assert.ok(html.includes('已逾期 35 天'));
  assert.ok(html.includes('4,637'));
  assert.ok(!html.includes('<h2>Summary</h2>'));
});

test('Markdown carries the same findings, escaped', async () => {
  const { report } = await fixtureReview();
  const md = renderMarkdown(report, 'en');
  assert.match(md, /^# Policy review: web-review\n/);
  assert.match(md, /\*\*53 \/ 100 \(high\)\*\*/);
  assert.match(md, /- \*\*Status\*\*: Overdue — 30 Oct 2026 \(35 days overdue\)/);
  assert.match(
    md,
    /\| ptrace \| critical \| process injection \| always \| web-review \S*policy\.yaml:16 \| debugger attached during an incident \|/,
  );
  assert.match(
    md,
    /\| clone3 \| 12 \| errno 12 \| errno\(EPERM\) \| \/opt\/app-2\.1\/bin\/app \(12\) \| ctr-app \| x86\\_64 \|/,
  );
  assert.match(
    md,
    /- \*\*New executables\*\*: \/opt\/app-2\.1\/bin\/app, \\\[&lt;script&gt;alert\(1\)&lt;\/script&gt;\\\]/,
  );
  assert.ok(!md.includes(HOSTILE_EXE));
  assert.ok(!md.includes('<img'));
  const zh = renderMarkdown(report, 'zh');
  assert.match(zh, /^## 下次审查$/m);
  assert.match(zh, /- \*\*状态\*\*: 已逾期 — 2026年10月30日（已逾期 35 天）/);
});

test('JSON is the report model and its snapshot reads back as the next --previous', async () => {
  const { report } = await fixtureReview();
  const document: unknown = JSON.parse(renderJson(report));
  assert.deepEqual(document, JSON.parse(JSON.stringify(report)));
  const parsed = document as { format: string; score: { total: number }; due: { due: string } };
  assert.equal(parsed.format, 'sysfence-review/1');
  assert.equal(parsed.score.total, 53);
  assert.equal(parsed.due.due, '2026-10-30');
  assert.deepEqual(snapshotFromReport(document, 'r.json'), report.snapshot);
  assert.deepEqual(report.snapshot.denied, ['clone3', 'getrandom', 'keyctl', 'socket']);
});
