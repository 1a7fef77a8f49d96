// Opens a page in Debian's headless Chromium (via playwright-core, which ships no browser) and
// reports what a user would notice: console errors, uncaught page errors, failed requests, and a
// screenshot. Tests skip with a clear message when the browser is not installed; CI installs it.
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** Where Debian's `chromium` package puts the browser. @default '/usr/bin/chromium' */
export const CHROMIUM_PATH = process.env['ABLATE_CHROMIUM'] ?? '/usr/bin/chromium';

/** Flags for a quiet, sandbox-free, offline-friendly headless browser in a container. */
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** Runs in the browser (a string: the project compiles without DOM types): the share of
 * pixels of a PNG whose colour is not near-white. */
const INK_RATIO_SCRIPT = `(async () => {
  const img = new Image();
  img.src = 'data:image/png;base64,BASE64';
  await img.decode();
  const canvas = document.createElement('canvas');
  canvas.width = img.naturalWidth;
  canvas.height = img.naturalHeight;
  const ctx = canvas.getContext('2d');
  ctx.drawImage(img, 0, 0);
  const px = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  let ink = 0;
  for (let i = 0; i < px.length; i += 4) if (px[i] < 235 || px[i + 1] < 235 || px[i + 2] < 235) ink++;
  return ink / (px.length / 4);
})()`;

/** Why browser tests cannot run here, or null when they can. */
export function chromiumMissing(): string | null {
  return existsSync(CHROMIUM_PATH) ? null : `chromium not found at ${CHROMIUM_PATH} (install Debian's chromium package or set ABLATE_CHROMIUM)`;
}

export interface PageCheck {
  /** Console messages of type "error", and uncaught exceptions, as text. */
  errors: string[];
  /** Requests the page made that did not succeed (blocked by CSP, missing file, …). */
  failedRequests: string[];
  /** Full-page PNG. */
  screenshot: Buffer;
  /** Share of screenshot pixels that are not (near-)white, 0..1: a blank page is ~0. */
  inkRatio: number;
  /** Visible size (CSS pixels) of each element matched by the selectors passed in `measure`. */
  boxes: Record<string, Array<{ width: number; height: number }>>;
}

/** Loads a local HTML file in headless Chromium and checks it. */
export async function checkPage(file: string, opts: { measure?: string[]; width?: number } = {}): Promise<PageCheck> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: opts.width ?? 1400, height: 900 } });
    const errors: string[] = [];
    const failedRequests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`page: ${e.message}`));
    page.on('requestfailed', (r) => failedRequests.push(`${r.url()}: ${r.failure()?.errorText ?? 'failed'}`));
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    const boxes: PageCheck['boxes'] = {};
    for (const sel of opts.measure ?? []) {
      boxes[sel] = await page.$$eval(sel, (els) =>
        els.map((el) => {
          const r = el.getBoundingClientRect();
          return { width: r.width, height: r.height };
        }),
      );
    }
    const screenshot = await page.screenshot({ fullPage: true, type: 'png' });
    // Decode the PNG in the browser itself (a canvas), so the test needs no image library.
    const probe = await browser.newPage();
    const inkRatio = (await probe.evaluate(INK_RATIO_SCRIPT.replace('BASE64', screenshot.toString('base64')))) as number;
    return { errors, failedRequests, screenshot, inkRatio, boxes };
  } finally {
    await browser.close();
  }
}
