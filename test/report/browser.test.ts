import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeReport } from '../../controller/report/mod.js';
import { checkPage, chromiumMissing } from '../support/chromium.js';
import { writeStudy } from './fixture.js';

const missing = chromiumMissing();

test('report.html in headless Chromium: no console errors, no requests, table and charts visible', { skip: missing ?? false, timeout: 60_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ablate-report-browser-'));
  try {
    await writeStudy(dir);
    const { path } = await writeReport(dir);
    const page = await checkPage(path, { measure: ['#results-table', '#results-table tbody tr', 'svg.chart', 'svg.chart polyline', 'svg.chart circle.ensemble'] });
    if (process.env['ABLATE_SCREENSHOT']) await writeFile(process.env['ABLATE_SCREENSHOT'], page.screenshot);
    assert.deepEqual(page.errors, []);
    assert.deepEqual(page.failedRequests, []);
    const visible = (sel: string) => (page.boxes[sel] ?? []).filter((b) => b.width > 0 && b.height > 0).length;
    assert.equal(visible('#results-table'), 1);
    assert.equal(visible('#results-table tbody tr'), 3);
    assert.equal(visible('svg.chart'), 1 + 2 * 8, 'score chart plus a loss and a learning-rate chart for each of the 8 runs with curves');
    assert.equal(visible('svg.chart circle.ensemble'), 3 + 1, 'one ensemble dot per ablation plus the legend');
    assert.ok(visible('svg.chart polyline') >= 8 * 2, 'every curve chart draws lines');
    // A blank or unstyled page is nearly all white; this one has a table and 17 charts.
    assert.ok(page.inkRatio > 0.02, `screenshot is nearly blank: ${(page.inkRatio * 100).toFixed(2)}% non-white pixels`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
