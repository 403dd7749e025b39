// Headless-browser tests of the login and consent pages, against the real server binary.
//
// Run: `node --test tests/browser/` from the repo root (after `npm ci` in tests/browser), or through
// `cargo test -p oauth2-server --test it -- browser`, which does both.
//
// - The server: $OAUTH2_BIN (default target/debug/oauth2-server), on a free port of 127.0.0.1, with a
//   fresh SQLite file in a temp dir and cheap password hashing.
// - The client's redirect_uri is a tiny node HTTP server on another free port that records every query.
// - The browser: Debian's /usr/bin/chromium driven by playwright-core (never a downloaded browser).
//   Missing chromium: a clear failure when $CI is set, otherwise a skip.
// - Screenshots of the login, login-error and consent pages go to target/browser-artifacts/.
// - Every wait is bounded; the server, the callback server and chromium are stopped in `after`, also
//   when a test fails (and the server is killed on process exit as a last resort).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
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

// One user per test that consents: the server remembers a user's consent to a client and then skips
// the consent page, so a user who has allowed "Demo App" never sees that page again.
const USERS = { mouse: 'alice', keyboard: 'bob', deny: 'carol' };
const PASSWORD = 'correct horse battery staple';
const CLIENT_NAME = 'Demo App';
const SCOPES = ['openid', 'profile', 'api.read'];

/** One browser step (a click, a navigation, a wait for an element). */
const STEP_MS = 5_000;
/** A navigation that goes through the server (a debug build on two busy cores). */
const NAV_MS = 10_000;
/** A whole test. */
const TEST_MS = 60_000;
/** Server start (migrations on a fresh database, key generation). */
const START_MS = 30_000;

const IS_CI = Boolean(process.env.CI);
const CHROMIUM_MISSING = !existsSync(CHROMIUM);
const SKIP_MESSAGE = 'skipping browser tests: chromium not installed (apt-get install chromium)';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Rejects after `ms` with a message naming what was being waited for. */
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

const b64url = (buf) => buf.toString('base64url');

function pkce() {
  const verifier = b64url(randomBytes(32));
  const challenge = b64url(createHash('sha256').update(verifier).digest());
  return { verifier, challenge };
}

if (CHROMIUM_MISSING && IS_CI) {
  test('chromium is installed', () => {
    assert.fail(
      `${CHROMIUM} is missing and CI is set: the browser tests cannot run. ` +
        'Install it with `apt-get install -y chromium` (.ci/run does that before the tests).',
    );
  });
} else if (CHROMIUM_MISSING) {
  console.log(SKIP_MESSAGE);
  test('login and consent in a real browser', { skip: SKIP_MESSAGE }, () => {});
} else {
  describe('login and consent pages in headless Chromium', { timeout: 5 * TEST_MS }, () => {
    /** Everything started in `before`, stopped in `after`. */
    const env = {};
    const serverLog = [];
    let server = null;
    let callback = null;
    let browser = null;
    let failed = false;
    /** The query of every request the callback server saw, newest last. */
    const callbacks = [];

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
        // A port taken between picking it and binding it: try another one.
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

    // The last resort: never leave a server behind, whatever happens to this process.
    process.on('exit', () => {
      if (server && server.exitCode === null) server.kill('SIGKILL');
    });

    async function startCallbackServer() {
      const port = await freePort();
      callback = createServer((req, res) => {
        const url = new URL(req.url, `http://127.0.0.1:${port}`);
        if (url.pathname !== '/cb') {
          // e.g. the browser's /favicon.ico
          res.writeHead(404).end();
          return;
        }
        callbacks.push(Object.fromEntries(url.searchParams));
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end('<!doctype html><title>Callback</title><p>callback received</p>');
      });
      await within(STEP_MS, 'callback server listen', new Promise((r) => callback.listen(port, '127.0.0.1', r)));
      env.redirectUri = `http://127.0.0.1:${port}/cb`;
    }

    /** Runs a test body; remembers a failure so that `after` prints the server's log. */
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
        env.dir = mkdtempSync(join(tmpdir(), 'oauth2-browser-'));
        await startCallbackServer();
        await startServer();
        for (const username of Object.values(USERS)) {
          cli(['user', 'create', '--username', username, '--password-stdin'], `${PASSWORD}\n`);
        }
        const client = JSON.parse(
          cli([
            'client', 'create',
            '--name', CLIENT_NAME,
            '--redirect-uri', env.redirectUri,
            '--scope', SCOPES.join(' '),
          ]),
        );
        assert.ok(client.client_id && client.client_secret, `a confidential client: ${JSON.stringify(client)}`);
        env.clientId = client.client_id;
        env.clientSecret = client.client_secret;

        const { chromium } = await import('playwright-core');
        browser = await chromium.launch({
          executablePath: CHROMIUM,
          headless: true,
          timeout: 30_000,
          // playwright-core gives every launch a new, empty --user-data-dir of its own.
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
      if (callback) {
        callback.closeAllConnections?.();
        await within(STEP_MS, 'callback server close', new Promise((r) => callback.close(r))).catch(() => {});
      }
      await stopServer();
      if (failed && serverLog.length) {
        console.log(`--- server log (last ${serverLog.length} chunks) ---\n${serverLog.join('')}--- end of server log ---`);
      }
      if (env.dir) rmSync(env.dir, { recursive: true, force: true });
    });

    /** A fresh context (no cookies) and page with bounded waits. */
    async function newPage() {
      const context = await browser.newContext({ viewport: { width: 800, height: 700 }, colorScheme: 'light' });
      context.setDefaultTimeout(STEP_MS);
      context.setDefaultNavigationTimeout(NAV_MS);
      const page = await context.newPage();
      return { context, page };
    }

    function authorizeUrl(state, challenge) {
      const q = new URLSearchParams({
        response_type: 'code',
        client_id: env.clientId,
        redirect_uri: env.redirectUri,
        scope: SCOPES.join(' '),
        state,
        code_challenge: challenge,
        code_challenge_method: 'S256',
      });
      return `${env.issuer}/oauth/authorize?${q}`;
    }

    const isCallback = (url) => url.href.startsWith(env.redirectUri);
    /** After a successful sign-in; where it went is checked next, with a clearer message than a timeout. */
    const leftLogin = (url) => url.pathname !== '/auth/login';

    /** The query the browser ended at, checked against what the callback server saw. */
    function callbackQuery(page) {
      const url = new URL(page.url());
      assert.equal(`${url.origin}${url.pathname}`, env.redirectUri, 'the browser ends at the redirect_uri');
      const query = Object.fromEntries(url.searchParams);
      assert.deepEqual(callbacks.at(-1), query, 'the callback server saw the same query');
      return query;
    }

    /** Polls until `predicate` (run in the page) is true; CDP evaluation is not subject to the page's CSP. */
    async function waitInPage(page, what, predicate, arg) {
      const deadline = Date.now() + STEP_MS;
      let last;
      while (Date.now() < deadline) {
        last = await page.evaluate(predicate, arg);
        if (last === true) return;
        await sleep(50);
      }
      assert.fail(`timed out after ${STEP_MS} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
    }

    const focusedId = (page) => page.evaluate(() => document.activeElement?.id ?? null);

    async function expectLoginPage(page) {
      assert.equal(new URL(page.url()).pathname, '/auth/login', `on the login page, not ${page.url()}`);
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      await page.getByLabel('Username').waitFor();
      await page.getByLabel('Password').waitFor();
      await page.getByRole('button', { name: 'Sign in' }).waitFor();
    }

    async function expectConsentPage(page) {
      assert.equal(new URL(page.url()).pathname, '/oauth/authorize', `on the consent page, not ${page.url()}`);
      await page.getByRole('button', { name: 'Allow' }).waitFor();
      assert.equal((await page.locator('#client-name').textContent()).trim(), CLIENT_NAME);
      assert.match(await page.getByRole('heading', { level: 1 }).textContent(), /Demo App/);
      const scopeText = await page.locator('ul.scopes').textContent();
      for (const s of SCOPES) assert.ok(scopeText.includes(s), `the consent page lists the scope ${s}: ${scopeText}`);
      await page.getByRole('button', { name: 'Deny' }).waitFor();
      assert.equal(await page.locator('button[name="decision"][value="allow"]').count(), 1);
      assert.equal(await page.locator('button[name="decision"][value="deny"]').count(), 1);
    }

    /** No <script> element and no inline event handler attribute anywhere in the page. */
    async function expectNoScript(page, what) {
      assert.equal(await page.locator('script').count(), 0, `${what} has no <script> element`);
      const handlers = await page.evaluate(() =>
        [...document.querySelectorAll('*')].flatMap((el) =>
          [...el.attributes].filter((a) => a.name.toLowerCase().startsWith('on')).map((a) => `${el.tagName}[${a.name}]`),
        ),
      );
      assert.deepEqual(handlers, [], `${what} has no inline event handlers`);
    }

    function expectNoFraming(response, what) {
      assert.ok(response, `${what}: a response`);
      const h = response.headers();
      const csp = h['content-security-policy'];
      assert.ok(csp, `${what} has a Content-Security-Policy header (headers: ${JSON.stringify(h)})`);
      assert.match(csp, /(^|;)\s*frame-ancestors\s+'none'\s*(;|$)/, `${what}: CSP has frame-ancestors 'none': ${csp}`);
      assert.equal(h['x-frame-options']?.toUpperCase(), 'DENY', `${what}: X-Frame-Options DENY`);
    }

    async function screenshot(page, name) {
      const path = join(ARTIFACTS, `${name}.png`);
      await page.screenshot({ path, fullPage: true, timeout: NAV_MS });
      console.log(`screenshot: ${path}`);
    }

    /** Signs in with the mouse (click the field, type) on the login page the page is on. */
    async function signInWithMouse(page, username, password = PASSWORD) {
      // Select-all first: after a failed attempt the page keeps the username that was typed.
      await page.getByLabel('Username').click();
      await page.keyboard.press('ControlOrMeta+A');
      await page.keyboard.type(username);
      await page.getByLabel('Password').click();
      await page.keyboard.press('ControlOrMeta+A');
      await page.keyboard.type(password);
      await page.getByRole('button', { name: 'Sign in' }).click();
    }

    test('mouse: sign in, see the consent page, allow, get a code that works', { timeout: TEST_MS }, body(async () => {
      const { context, page } = await newPage();
      try {
        const state = `st-${b64url(randomBytes(9))}`;
        const { verifier, challenge } = pkce();
        await page.goto(authorizeUrl(state, challenge));
        await expectLoginPage(page);
        await screenshot(page, 'login');

        const consentResponse = page.waitForResponse(
          (r) => r.request().method() === 'GET' && new URL(r.url()).pathname === '/oauth/authorize' && r.status() === 200,
          { timeout: NAV_MS },
        );
        await signInWithMouse(page, USERS.mouse);
        await page.waitForURL(leftLogin);
        expectNoFraming(await consentResponse, 'the consent page');
        await expectConsentPage(page);
        await expectNoScript(page, 'the consent page');
        await screenshot(page, 'consent');

        await page.getByRole('button', { name: 'Allow' }).click();
        await page.waitForURL(isCallback);
        const q = callbackQuery(page);
        assert.ok(q.code, `a code: ${JSON.stringify(q)}`);
        assert.equal(q.state, state);
        assert.equal(q.iss, env.issuer);
        assert.equal(q.error, undefined);

        const discovery = await (await fetch(`${env.issuer}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(NAV_MS) })).json();
        assert.equal(discovery.issuer, env.issuer, 'iss is the issuer of the discovery document');

        // The code is real: it buys a token with the PKCE verifier.
        const res = await fetch(`${env.issuer}/oauth/token`, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            authorization: `Basic ${Buffer.from(`${encodeURIComponent(env.clientId)}:${encodeURIComponent(env.clientSecret)}`).toString('base64')}`,
          },
          body: new URLSearchParams({
            grant_type: 'authorization_code',
            code: q.code,
            redirect_uri: env.redirectUri,
            code_verifier: verifier,
          }),
          signal: AbortSignal.timeout(NAV_MS),
        });
        const token = await res.json();
        assert.equal(res.status, 200, `the token endpoint accepts the code: ${JSON.stringify(token)}`);
        assert.ok(token.access_token, 'an access token');
      } finally {
        await context.close();
      }
    }));

    test('keyboard only: autofocus, Tab, typing and Enter sign in and allow', { timeout: TEST_MS }, body(async () => {
      const { context, page } = await newPage();
      try {
        const state = `kb-${b64url(randomBytes(9))}`;
        const { challenge } = pkce();
        await page.goto(authorizeUrl(state, challenge));
        await expectLoginPage(page);
        await waitInPage(page, 'the username field to have focus (autofocus)', () => document.activeElement?.id === 'username');

        await page.keyboard.type(USERS.keyboard);
        await page.keyboard.press('Tab');
        assert.equal(await focusedId(page), 'password', 'Tab moves from the username to the password field');
        await page.keyboard.type(PASSWORD);
        await page.keyboard.press('Enter');

        await page.waitForURL(leftLogin);
        await expectConsentPage(page);
        await waitInPage(
          page,
          'the Allow button to have focus (autofocus)',
          () => document.activeElement?.tagName === 'BUTTON' && document.activeElement.value === 'allow',
        );
        await page.keyboard.press('Enter');

        await page.waitForURL(isCallback);
        const q = callbackQuery(page);
        assert.ok(q.code, `a code: ${JSON.stringify(q)}`);
        assert.equal(q.state, state);
        assert.equal(q.iss, env.issuer);
      } finally {
        await context.close();
      }
    }));

    test('deny: the redirect carries error=access_denied with state and iss', { timeout: TEST_MS }, body(async () => {
      const { context, page } = await newPage();
      try {
        const state = `deny-${b64url(randomBytes(9))}`;
        const { challenge } = pkce();
        await page.goto(authorizeUrl(state, challenge));
        await expectLoginPage(page);
        await signInWithMouse(page, USERS.deny);
        await page.waitForURL(leftLogin);
        await expectConsentPage(page);
        await page.getByRole('button', { name: 'Deny' }).click();

        await page.waitForURL(isCallback);
        const q = callbackQuery(page);
        assert.equal(q.error, 'access_denied', `error=access_denied: ${JSON.stringify(q)}`);
        assert.equal(q.code, undefined, 'no code after Deny');
        assert.equal(q.state, state);
        assert.equal(q.iss, env.issuer);
      } finally {
        await context.close();
      }
    }));

    test('wrong password: one message for every failure, no script, cannot be framed', { timeout: TEST_MS }, body(async () => {
      const { context, page } = await newPage();
      try {
        const loginResponse = await page.goto(`${env.issuer}/auth/login`);
        expectNoFraming(loginResponse, 'the login page');
        await expectLoginPage(page);
        await expectNoScript(page, 'the login page');
        assert.equal(await page.getByRole('alert').count(), 0, 'no error before a failed attempt');

        const failOnce = async (username, password) => {
          const posted = page.waitForResponse(
            (r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/auth/login',
            { timeout: NAV_MS },
          );
          await signInWithMouse(page, username, password);
          const response = await posted;
          await page.waitForLoadState('load');
          await page.getByRole('alert').waitFor();
          return { response, message: (await page.getByRole('alert').textContent()).trim() };
        };

        const wrong = await failOnce(USERS.mouse, 'not the password');
        assert.equal(wrong.response.status(), 401);
        expectNoFraming(wrong.response, 'the login page with an error');
        await expectLoginPage(page);
        await expectNoScript(page, 'the login page with an error');
        assert.ok(wrong.message.length > 0, 'the alert says something');
        assert.doesNotMatch(
          wrong.message,
          /(no such|unknown|not found|does not exist|doesn't exist|not registered|wrong password|invalid password)/i,
          `the message does not tell whether the user exists: ${wrong.message}`,
        );
        assert.ok(!wrong.message.includes(USERS.mouse), 'the message does not repeat the username');
        await screenshot(page, 'login-error');

        const unknown = await failOnce('nobody-by-this-name', 'not the password');
        assert.equal(unknown.response.status(), wrong.response.status(), 'the same status for an unknown user');
        assert.equal(unknown.message, wrong.message, 'the same text for an unknown user');
      } finally {
        await context.close();
      }
    }));
  });
}
