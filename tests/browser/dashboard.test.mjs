// Headless-browser tests of the admin dashboard (/admin), against the real server binary.
//
// Run: `node --test tests/browser/` from the repo root (after `npm ci` in tests/browser), or through
// `cargo test -p oauth2-server --test it -- browser`, which does both.
//
// - The server: $OAUTH2_BIN (default target/debug/oauth2-server), on a free port of 127.0.0.1, with a
//   fresh SQLite file in a temp dir and cheap password hashing. The users come from its CLI: an admin
//   (`root`) and a user who is not one (`alice`).
// - The browser: Debian's /usr/bin/chromium driven by playwright-core (never a downloaded browser).
//   Missing chromium: a clear failure when $CI is set, otherwise a skip.
// - Scenario: the admin signs in through the login page, creates a client and sees its secret once
//   (shown, then gone once they navigate away and come back), the secret works at the token
//   endpoint, the admin revokes one of the client's tokens and it introspects inactive; alice is
//   refused with a 403 page.
// - Screenshots of every page (the overview, the client list, the new-client form, the secret-once
//   page, a client's page with its tokens, a user's page, the users, the keys, the events) and of
//   the refusal go to target/browser-artifacts/ (admin-*.png).
// - Every wait is bounded; the server and chromium are stopped in `after`, also when a test fails.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
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

const ADMIN = 'root';
const USER = 'alice';
const PASSWORD = 'correct horse battery staple';
const CLIENT_NAME = 'Inventory service';

/** One browser step (a click, a wait for an element); generous, as the machine is often busy. */
const STEP_MS = 10_000;
/** A navigation that goes through the server (a debug build on two busy cores). */
const NAV_MS = 20_000;
/** A whole test. */
const TEST_MS = 90_000;
/** Server start (migrations on a fresh database, key generation). */
const START_MS = 30_000;

const IS_CI = Boolean(process.env.CI);
const CHROMIUM_MISSING = !existsSync(CHROMIUM);
const SKIP_MESSAGE = 'skipping browser tests: chromium not installed (apt-get install chromium)';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function within(ms, what, promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

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

const basic = (id, secret) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

if (CHROMIUM_MISSING && IS_CI) {
  test('chromium is installed', () => {
    assert.fail(`${CHROMIUM} is missing and CI is set: the browser tests cannot run (apt-get install -y chromium).`);
  });
} else if (CHROMIUM_MISSING) {
  console.log(SKIP_MESSAGE);
  test('the admin dashboard in a real browser', { skip: SKIP_MESSAGE }, () => {});
} else {
  describe('the admin dashboard in headless Chromium', { timeout: 3 * TEST_MS }, () => {
    const env = {};
    const serverLog = [];
    let server = null;
    let browser = null;
    let failed = false;

    const serverEnv = (port) => {
      const e = {};
      for (const [k, v] of Object.entries(process.env)) {
        if (!k.startsWith('OAUTH2_')) e[k] = v;
      }
      return {
        ...e,
        OAUTH2_DATABASE_URL: `sqlite:${join(env.dir, 'oauth2.db')}`,
        OAUTH2_SERVER_HOST: '127.0.0.1',
        OAUTH2_SERVER_PORT: String(port ?? 0),
        OAUTH2_ARGON2_MEMORY_KIB: '64',
        OAUTH2_ARGON2_ITERATIONS: '1',
        NO_COLOR: '1',
      };
    };

    const cli = (args, input) => {
      try {
        return execFileSync(SERVER_BIN, args, {
          cwd: env.dir,
          env: serverEnv(env.port),
          input: input ?? '',
          encoding: 'utf8',
          timeout: 60_000,
          stdio: ['pipe', 'pipe', 'pipe'],
        });
      } catch (e) {
        throw new Error(`oauth2-server ${args.join(' ')} failed: ${e.message}\nstdout: ${e.stdout}\nstderr: ${e.stderr}`);
      }
    };

    async function startServer() {
      for (let attempt = 1; ; attempt++) {
        const port = await freePort();
        env.port = port;
        env.issuer = `http://127.0.0.1:${port}`;
        const child = spawn(SERVER_BIN, ['serve'], {
          cwd: env.dir,
          env: serverEnv(port),
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        const keep = (chunk) => {
          // eslint-disable-next-line no-control-regex
          serverLog.push(chunk.toString().replace(/\x1b\[[0-9;]*m/g, ''));
          if (serverLog.length > 400) serverLog.shift();
        };
        child.stdout.on('data', keep);
        child.stderr.on('data', keep);
        let exited = null;
        child.on('exit', (code, signal) => {
          exited = { code, signal };
        });
        child.on('error', (e) => {
          exited = { error: e.message };
        });
        server = child;
        const deadline = Date.now() + START_MS;
        while (Date.now() < deadline && !exited) {
          try {
            const res = await fetch(`${env.issuer}/health`, { signal: AbortSignal.timeout(1_000) });
            if (res.ok) return;
          } catch {
            // not listening yet
          }
          await sleep(100);
        }
        await stopServer();
        if (exited && attempt < 3) continue;
        throw new Error(
          `the server did not become healthy on ${env.issuer} within ${START_MS} ms ` +
            `(${exited ? `exited: ${JSON.stringify(exited)}` : 'still running'})\n${serverLog.join('')}`,
        );
      }
    }

    async function stopServer() {
      const child = server;
      server = null;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      try {
        await within(5_000, 'server exit after SIGTERM', gone);
      } catch {
        child.kill('SIGKILL');
        await within(5_000, 'server exit after SIGKILL', gone).catch(() => {});
      }
    }

    process.on('exit', () => {
      if (server && server.exitCode === null) server.kill('SIGKILL');
    });

    const body = (fn) => async (t) => {
      try {
        await fn(t);
      } catch (e) {
        failed = true;
        throw e;
      }
    };

    before(async () => {
      try {
        assert.ok(existsSync(SERVER_BIN), `the server binary ${SERVER_BIN} exists (build it: cargo build -p oauth2-server, or set OAUTH2_BIN)`);
        mkdirSync(ARTIFACTS, { recursive: true });
        env.dir = mkdtempSync(join(tmpdir(), 'oauth2-dashboard-'));
        await startServer();
        cli(['user', 'create', '--username', ADMIN, '--admin', '--password-stdin'], `${PASSWORD}\n`);
        cli(['user', 'create', '--username', USER, '--password-stdin'], `${PASSWORD}\n`);

        const { chromium } = await import('playwright-core');
        browser = await chromium.launch({
          executablePath: CHROMIUM,
          headless: true,
          timeout: 30_000,
          args: [
            '--headless',
            '--no-sandbox',
            '--disable-gpu',
            '--disable-quic',
            '--no-first-run',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
          ],
        });
      } catch (e) {
        failed = true;
        throw e;
      }
    });

    after(async () => {
      if (browser) await within(10_000, 'browser close', browser.close()).catch((e) => console.log(`browser close: ${e.message}`));
      browser = null;
      await stopServer();
      if (failed && serverLog.length) {
        console.log(`--- server log (last ${serverLog.length} chunks) ---\n${serverLog.join('')}--- end of server log ---`);
      }
      if (env.dir) rmSync(env.dir, { recursive: true, force: true });
    });

    async function newPage() {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
      context.setDefaultTimeout(STEP_MS);
      context.setDefaultNavigationTimeout(NAV_MS);
      const page = await context.newPage();
      return { context, page };
    }

    async function screenshot(page, name) {
      const path = join(ARTIFACTS, `${name}.png`);
      await page.screenshot({ path, fullPage: true, timeout: NAV_MS });
      console.log(`screenshot: ${path}`);
    }

    /** The page's response carries the strict headers, and the page has no script at all. */
    async function expectStrictPage(page, response, what) {
      assert.ok(response, `${what}: a response`);
      const h = response.headers();
      const csp = h['content-security-policy'] ?? '';
      assert.match(csp, /default-src 'none'/, `${what}: CSP ${csp}`);
      assert.match(csp, /frame-ancestors 'none'/, `${what}: CSP ${csp}`);
      assert.doesNotMatch(csp, /unsafe-inline/, `${what}: CSP ${csp}`);
      assert.equal(h['cache-control'], 'no-store', `${what}: Cache-Control`);
      assert.equal(h['x-frame-options']?.toUpperCase(), 'DENY', `${what}: X-Frame-Options`);
      assert.equal(await page.locator('script').count(), 0, `${what} has no <script> element`);
      const handlers = await page.evaluate(() =>
        [...document.querySelectorAll('*')].flatMap((el) =>
          [...el.attributes].filter((a) => a.name.toLowerCase().startsWith('on')).map((a) => `${el.tagName}[${a.name}]`),
        ),
      );
      assert.deepEqual(handlers, [], `${what} has no inline event handlers`);
    }

    /**
     * Navigates by clicking `locator` and returns the response of the page it lands on, which must
     * be `path` (checked, so that a stray navigation, such as the overview's own refresh, fails
     * clearly instead of confusing the next step).
     */
    async function clickAndLoad(page, locator, path) {
      const [response] = await Promise.all([
        page.waitForNavigation({ timeout: NAV_MS }),
        locator.click(),
      ]);
      if (path) assert.equal(new URL(page.url()).pathname, path, `landed on ${path}`);
      return response;
    }

    async function signIn(page, username) {
      assert.equal(new URL(page.url()).pathname, '/auth/login', `on the login page, not ${page.url()}`);
      await page.getByLabel('Username').fill(username);
      await page.getByLabel('Password').fill(PASSWORD);
      return clickAndLoad(page, page.getByRole('button', { name: 'Sign in' }));
    }

    async function tokenRequest(clientId, secret, params) {
      const res = await fetch(`${env.issuer}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(clientId, secret) },
        body: new URLSearchParams(params),
        signal: AbortSignal.timeout(NAV_MS),
      });
      return { status: res.status, json: await res.json() };
    }

    async function introspect(clientId, secret, token) {
      const res = await fetch(`${env.issuer}/oauth/introspect`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(clientId, secret) },
        body: new URLSearchParams({ token }),
        signal: AbortSignal.timeout(NAV_MS),
      });
      assert.equal(res.status, 200, 'introspection answers');
      return res.json();
    }

    test('an admin signs in, creates a client, sees its secret once, and revokes a token', { timeout: TEST_MS }, body(async () => {
      const { context, page } = await newPage();
      try {
        // Not signed in: the server's own login, which comes back to the dashboard.
        await page.goto(`${env.issuer}/admin`);
        assert.equal(new URL(page.url()).searchParams.get('return_to'), '/admin', `redirected to sign in: ${page.url()}`);
        let response = await signIn(page, ADMIN);
        assert.equal(new URL(page.url()).pathname, '/admin', `back on the dashboard: ${page.url()}`);
        assert.equal(response.status(), 200);
        await expectStrictPage(page, response, 'the overview');
        await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
        assert.equal((await page.locator('#admin-username').textContent()).trim(), ADMIN);
        assert.equal(await page.locator('meta[http-equiv="refresh"]').getAttribute('content'), '10');
        await page.getByText("this server instance's own view", { exact: false }).waitFor();

        // Keyboard: the first Tab reaches the skip link.
        await page.keyboard.press('Tab');
        assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');

        // The client list, then the form.
        response = await clickAndLoad(page, page.getByRole('navigation', { name: 'Dashboard' }).getByRole('link', { name: 'Clients' }), '/admin/clients');
        await expectStrictPage(page, response, 'the client list');
        await page.getByText('There are no clients yet.').waitFor();
        response = await clickAndLoad(page, page.getByRole('link', { name: 'New client' }), '/admin/clients/new');
        await expectStrictPage(page, response, 'the new client form');
        await page.getByLabel('Name').fill(CLIENT_NAME);
        await page.getByLabel(/^Authorization code/).uncheck();
        await page.getByLabel(/^Password \(legacy\)/).check();
        await page.getByLabel(/^Refresh token/).check();
        await page.getByLabel('Scope', { exact: true }).fill('api.read');
        await screenshot(page, 'admin-client-new');
        response = await clickAndLoad(page, page.getByRole('button', { name: 'Create client' }), '/admin/clients/new');

        // The secret, this once.
        assert.equal(response.status(), 200);
        await expectStrictPage(page, response, 'the secret-once page');
        await page.getByRole('heading', { level: 1, name: 'Client created' }).waitFor();
        await page.getByRole('alert').getByText('Copy the client secret now').waitFor();
        const clientId = (await page.locator('#client-id').textContent()).trim();
        const secret = (await page.locator('#client-secret').textContent()).trim();
        assert.ok(clientId.length > 0, 'a client id');
        assert.ok(secret.length >= 32, `a secret: ${secret}`);
        assert.ok(!page.url().includes(secret), 'the secret is not in the URL');
        await screenshot(page, 'admin-client-secret');

        // Away and back: the secret is gone for good.
        response = await clickAndLoad(page, page.getByRole('navigation', { name: 'Dashboard' }).getByRole('link', { name: 'Clients' }), '/admin/clients');
        await expectStrictPage(page, response, 'the client list');
        const row = page.getByRole('row').filter({ hasText: CLIENT_NAME });
        await row.waitFor();
        assert.ok((await row.textContent()).includes(clientId), 'the list shows the client id');
        await screenshot(page, 'admin-clients');
        response = await clickAndLoad(page, row.getByRole('link', { name: CLIENT_NAME }), `/admin/clients/${clientId}`);
        await expectStrictPage(page, response, 'the client page');
        await page.getByRole('heading', { level: 1, name: `Client ${CLIENT_NAME}` }).waitFor();
        assert.equal(await page.locator('#client-secret').count(), 0, 'no secret on the client page');
        assert.ok(!(await page.content()).includes(secret), 'the secret is nowhere on the client page');
        await page.getByText('No active tokens.').waitFor();

        // The secret works: alice's tokens through the password grant.
        const issued = await tokenRequest(clientId, secret, { grant_type: 'password', username: USER, password: PASSWORD, scope: 'api.read' });
        assert.equal(issued.status, 200, `the token endpoint accepts the secret: ${JSON.stringify(issued.json)}`);
        const accessToken = issued.json.access_token;
        const jti = JSON.parse(Buffer.from(accessToken.split('.')[1], 'base64url').toString()).jti;
        assert.equal((await introspect(clientId, secret, accessToken)).active, true, 'active before');

        // Revoke the access token from the client's page.
        response = await page.reload();
        await expectStrictPage(page, response, 'the client page with tokens');
        const revoke = page.getByRole('button', { name: `Revoke token ${jti}` });
        await revoke.waitFor();
        await screenshot(page, 'admin-client');
        response = await clickAndLoad(page, revoke, `/admin/clients/${clientId}`);
        assert.equal(new URL(page.url()).searchParams.get('done'), 'token-revoked', `back with a confirmation: ${page.url()}`);
        await expectStrictPage(page, response, 'the client page after revoking');
        assert.equal((await page.getByRole('status').textContent()).trim(), 'The token was revoked.');
        assert.equal(await page.getByRole('button', { name: `Revoke token ${jti}` }).count(), 0, 'no longer listed');
        assert.equal((await introspect(clientId, secret, accessToken)).active, false, 'inactive after');

        // The token's user, through the link in the tokens table; then the users and the keys.
        response = await clickAndLoad(page, page.locator('#tokens tbody tr').first().getByRole('link'));
        await expectStrictPage(page, response, "alice's page");
        await page.getByRole('heading', { level: 1, name: `User ${USER}` }).waitFor();
        await page.getByRole('button', { name: 'Disable user' }).waitFor();
        await screenshot(page, 'admin-user');
        response = await clickAndLoad(page, page.getByRole('navigation', { name: 'Dashboard' }).getByRole('link', { name: 'Users' }), '/admin/users');
        await expectStrictPage(page, response, 'the user list');
        assert.equal(await page.locator('#users tbody tr').count(), 2, 'root and alice');
        await screenshot(page, 'admin-users');
        response = await clickAndLoad(page, page.getByRole('navigation', { name: 'Dashboard' }).getByRole('link', { name: 'Signing keys' }), '/admin/keys');
        await expectStrictPage(page, response, 'the signing keys');
        assert.ok((await page.locator('#keys tbody tr').count()) >= 1, 'a key');
        await screenshot(page, 'admin-keys');

        // The overview counts what happened on this instance.
        response = await clickAndLoad(page, page.getByRole('navigation', { name: 'Dashboard' }).getByRole('link', { name: 'Overview' }), '/admin');
        await expectStrictPage(page, response, 'the overview');
        assert.equal((await page.locator('#count-clients').textContent()).trim(), '1');
        assert.equal((await page.locator('#count-users').textContent()).trim(), '2');
        assert.equal((await page.locator('#issued-recent').textContent()).trim(), '1');
        await screenshot(page, 'admin-overview');

        // And the audit log has it all, newest first.
        response = await clickAndLoad(page, page.getByRole('navigation', { name: 'Dashboard' }).getByRole('link', { name: 'Events' }), '/admin/events');
        await expectStrictPage(page, response, 'the events');
        const kinds = await page.locator('#events tbody tr td:nth-child(3)').allTextContents();
        // The admin's changes, with the sign-ins and token events in between.
        assert.equal(kinds[0], 'token.revoked', kinds.join(', '));
        assert.ok(kinds.indexOf('client.created') > 0, kinds.join(', '));
        assert.ok(kinds.includes('login.succeeded'), kinds.join(', '));
        await screenshot(page, 'admin-events');
      } finally {
        await context.close();
      }
    }));

    test('a user who is not an admin is refused', { timeout: TEST_MS }, body(async () => {
      const { context, page } = await newPage();
      try {
        await page.goto(`${env.issuer}/admin/clients`);
        const response = await signIn(page, USER);
        assert.equal(new URL(page.url()).pathname, '/admin/clients');
        assert.equal(response.status(), 403, 'a 403');
        await expectStrictPage(page, response, 'the refusal');
        await page.getByRole('heading', { level: 1, name: 'Admins only' }).waitFor();
        await page.getByRole('alert').getByText('not as an admin user', { exact: false }).waitFor();
        await page.getByRole('button', { name: 'Sign out' }).waitFor();
        assert.equal(await page.locator('#clients').count(), 0, 'no client list');
        await screenshot(page, 'admin-refused');
      } finally {
        await context.close();
      }
    }));
  });
}
