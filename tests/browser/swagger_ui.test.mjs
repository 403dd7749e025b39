// Swagger UI (/swagger-ui/) in headless Chromium, under the CSP the server sends with it: the page
// renders every operation of /api-docs/openapi.json, "Execute" on GET /health works, and the
// browser reports no Content-Security-Policy violation and no failed request.
//
// Run: `node --test tests/browser/` from the repo root (after `npm ci` in tests/browser), or through
// `cargo test -p oauth2-server --test it -- browser`, which does both. The server is $OAUTH2_BIN
// (default target/debug/oauth2-server) on a free port with a fresh SQLite file. Missing chromium: a
// clear failure when $CI is set, otherwise a skip. A screenshot goes to target/browser-artifacts/.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CHROMIUM = '/usr/bin/chromium';
const SERVER_BIN = process.env.OAUTH2_BIN
  ? resolve(process.env.OAUTH2_BIN)
  : join(REPO_ROOT, 'target', 'debug', 'oauth2-server');
const ARTIFACTS = join(REPO_ROOT, 'target', 'browser-artifacts');
const STEP_MS = 10_000;
const START_MS = 30_000;
const SKIP_MESSAGE = 'skipping the Swagger UI browser test: chromium not installed (apt-get install chromium)';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolvePort, reject) => {
    const srv = createNetServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolvePort(port));
    });
  });
}

let dir = null;
let server = null;
let browser = null;
let base = null;
const serverLog = [];

async function startServer() {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('OAUTH2_')) env[k] = v;
  }
  server = spawn(SERVER_BIN, ['serve'], {
    cwd: dir,
    env: {
      ...env,
      OAUTH2_DATABASE_URL: `sqlite:${join(dir, 'oauth2.db')}`,
      OAUTH2_SERVER_HOST: '127.0.0.1',
      OAUTH2_SERVER_PORT: String(port),
      NO_COLOR: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (chunk) => {
    serverLog.push(chunk.toString());
    if (serverLog.length > 200) serverLog.shift();
  };
  server.stdout.on('data', keep);
  server.stderr.on('data', keep);
  const deadline = Date.now() + START_MS;
  while (Date.now() < deadline && server.exitCode === null) {
    try {
      const res = await fetch(`${base}/health`, { signal: AbortSignal.timeout(1_000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`the server did not become healthy on ${base}\n${serverLog.join('')}`);
}

async function stopServer() {
  const child = server;
  server = null;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const killed = await Promise.race([gone.then(() => true), sleep(5_000).then(() => false)]);
  if (!killed) child.kill('SIGKILL');
}

process.on('exit', () => {
  if (server && server.exitCode === null) server.kill('SIGKILL');
});

if (!existsSync(CHROMIUM) && process.env.CI) {
  test('chromium is installed', () => {
    assert.fail(`${CHROMIUM} is missing and CI is set (.ci/run installs it)`);
  });
} else if (!existsSync(CHROMIUM)) {
  console.log(SKIP_MESSAGE);
  test('Swagger UI in a real browser', { skip: SKIP_MESSAGE }, () => {});
} else {
  before(async () => {
    assert.ok(existsSync(SERVER_BIN), `the server binary ${SERVER_BIN} exists (cargo build -p oauth2-server)`);
    mkdirSync(ARTIFACTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'oauth2-swagger-'));
    await startServer();
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      timeout: 30_000,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
  });

  after(async () => {
    if (browser) await browser.close().catch(() => {});
    await stopServer();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('Swagger UI renders the document under its CSP, with no violation', { timeout: 90_000 }, async () => {
    const doc = await (await fetch(`${base}/api-docs/openapi.json`)).json();
    const operations = Object.values(doc.paths).reduce((n, item) => n + Object.keys(item).length, 0);

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.setDefaultTimeout(STEP_MS);
    const page = await context.newPage();
    const problems = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`);
      });
    });

    const res = await page.goto(`${base}/swagger-ui/`, { waitUntil: 'networkidle' });
    assert.equal(res.status(), 200);
    const csp = res.headers()['content-security-policy'];
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-/);

    await page.waitForSelector('.opblock');
    assert.equal(await page.locator('.opblock').count(), operations, 'every documented operation is shown');

    // Try GET /health from the page: Swagger UI's own fetch, under connect-src 'self'.
    await page.locator('#operations-Health-health > div').first().click();
    await page.getByRole('button', { name: 'Execute' }).click();
    const status = page.locator('.live-responses-table .response .response-col_status').first();
    await status.waitFor();
    assert.equal((await status.innerText()).trim(), '200');

    // The Authorize dialog (the security schemes) opens and closes.
    await page.getByRole('button', { name: /Authorize/ }).first().click();
    await page.waitForSelector('.modal-ux');
    assert.ok(await page.locator('.modal-ux').getByText('client_secret_basic').count());
    await page.locator('.modal-ux .close-modal').click();

    await page.screenshot({ path: join(ARTIFACTS, 'swagger-ui.png') });
    await context.close();
    assert.deepEqual(problems, [], problems.join('\n'));
  });
}
