import assert from 'node:assert/strict';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { QUEUES } from '@im/contracts';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { Fleet } from '../support/fleet';
import { randomUserBase } from '../support/env';
import { loadOpenApi } from '../support/openapi';
import { waitFor } from '../support/wait';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Screenshots land here, for a person to look at (kept by CI as artifacts; ignored by git). */
export const ARTIFACTS = join(ROOT, 'test-artifacts', 'browser');
/** Debian's Chromium (package chromium), which infra/stack/up.sh installs for the test stack. */
const CHROMIUM = '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `no browser at ${CHROMIUM}: install Debian's chromium package (npm test's stack does so with apt-get where it can)`;

describe('a real browser opens the API docs and the queue dashboard', { skip }, () => {
  let db: TestDatabase;
  let fleet: Fleet;
  let browser: Browser;
  let page: Page;

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    db = await createTestDatabase();
    fleet = await new Fleet(db.url, { IM_CLEANER_INTERVAL_S: '1' }).startAll(['ingest-api', 'worker-persist', 'worker-cleaner']);
    const base = randomUserBase();
    for (const n of [1n, 2n]) await fleet.api.put(`/v1/users/${base + n}`, { name: `user ${n}` });
    await fleet.api.post('/v1/messages', { sender_id: String(base + 1n), receiver_id: String(base + 2n), content: 'seen by the browser test' });
    // The flags keep Chromium off the network (this machine has none) and need no sandbox as root.
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      chromiumSandbox: false,
      args: ['--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  });

  after(async () => {
    await browser?.close();
    await fleet?.stop();
    await db?.drop();
  });

  async function screenshot(name: string): Promise<void> {
    const path = join(ARTIFACTS, `${name}.png`);
    await page.screenshot({ path, fullPage: true });
    assert.ok(statSync(path).size > 10_000, `${path} holds a real picture`);
  }

  it('/docs renders every documented route (Swagger UI, no token, nothing from the network)', async () => {
    const failed: string[] = [];
    page.on('requestfailed', (r) => failed.push(r.url()));
    const res = await page.goto(`${fleet.baseUrl}/docs`, { waitUntil: 'domcontentloaded' });
    assert.equal(res?.status(), 200);
    const doc = loadOpenApi();
    // The routes, and the webhooks the service calls (Swagger UI lists them by name).
    const expected = [...Object.entries(doc.paths), ...Object.entries((doc as { webhooks?: Record<string, object> }).webhooks ?? {})].flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`));
    await page.locator('.opblock').nth(expected.length - 1).waitFor({ timeout: 30_000 });
    const shown = await page.$$eval('.opblock', (blocks) =>
      blocks.map((b) => `${b.querySelector('.opblock-summary-method')?.textContent?.trim()} ${b.querySelector('.opblock-summary-path')?.getAttribute('data-path')}`),
    );
    assert.deepEqual([...shown].sort(), [...expected].sort());
    assert.match((await page.locator('.info .title').textContent()) ?? '', /im-message ingest API/);
    await screenshot('docs');
    assert.deepEqual(failed, [], 'every script and style of the page comes from ingest-api');
  });

  it('the dashboard lists every pipeline queue, read-only', async () => {
    const url = `http://127.0.0.1:${fleet.dashboardPort}/queues`;
    const res = await page.goto(url, { waitUntil: 'domcontentloaded' });
    assert.equal(res?.status(), 200);
    for (const name of Object.values(QUEUES)) await page.getByText(name, { exact: true }).first().waitFor({ timeout: 30_000 });
    // The overview fills in after the queue list: the screenshot shows it, not the spinner.
    await page.getByText('Loading...').first().waitFor({ state: 'hidden', timeout: 30_000 });
    await screenshot('dashboard');
    // Read-only: the board's own API refuses actions.
    const action = await fetch(`${url}/api/queues/${QUEUES.cleaner}/clean/completed`, { method: 'PUT' });
    assert.ok(action.status >= 400, `a clean in read-only mode answered ${action.status}`);
  });

  it("the dashboard shows the cleaner's finished sweeps with their progress", async () => {
    const url = `http://127.0.0.1:${fleet.dashboardPort}/queues/queue/${QUEUES.cleaner}?status=completed`;
    // Sweeps run every second here; the page lists the finished ones once the first is done.
    await waitFor(
      'a finished sweep on the page',
      async () => {
        await page.goto(url, { waitUntil: 'domcontentloaded' });
        await page.getByText('Progress', { exact: true }).first().waitFor({ timeout: 3000 });
        return true;
      },
      30_000,
    );
    await page.getByText('Progress', { exact: true }).first().click();
    const progress = page.locator('text=/step:\\s*"done"/').first();
    await progress.waitFor({ timeout: 10_000 });
    const shown = (await progress.evaluate((e) => e.closest('pre, code, div')?.parentElement?.textContent ?? '')) as string;
    for (const field of ['expired', 'trimmed', 'devicesOverCap', 'partitionsAdded', 'startedAt']) assert.match(shown, new RegExp(`${field}:`));
    const path = join(ARTIFACTS, 'dashboard-cleaner.png');
    await page.screenshot({ path });
    assert.ok(statSync(path).size > 10_000);
  });
});
