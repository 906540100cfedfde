// Shared pieces of the browser end-to-end tests: the real edgeclass binary on a free port
// with its own data dir and secret, tokens signed with that secret, headless Debian Chromium,
// and pages opened as a given user.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = process.env.EDGECLASS_BIN || path.join(ROOT, 'build/release/edgeclass');
const SECRET = 'e2e-secret-0123456789abcdef-0123456789';
// Screenshots go to build/e2e/ so a test run leaves the tree clean; to refresh the ones in
// the docs: E2E_SHOTS_DIR=docs/screenshots tests/scripts/e2e_live.sh (or e2e_video.sh)
export const SHOTS = path.resolve(ROOT, process.env.E2E_SHOTS_DIR || 'build/e2e');
fs.mkdirSync(SHOTS, { recursive: true });

function b64url(buf) {
  return Buffer.from(buf).toString('base64').replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
}

// An HS256 bearer token for the test server, valid for an hour.
export function token(sub, name, role) {
  const now = Math.floor(Date.now() / 1000);
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64url(JSON.stringify({ sub, name, role, iat: now, exp: now + 3600 }));
  const sig = b64url(crypto.createHmac('sha256', SECRET).update(`${head}.${body}`).digest());
  return `${head}.${body}.${sig}`;
}

export function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
  console.log(`ok - ${what}`);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// On the teacher's page `T`: creates a course titled `title` (capacity 30), goes live in it
// and waits for the live connection; resolves with the course's id.
export async function goLiveInNewCourse(T, title) {
  await T.fill('#course-title', title);
  await T.fill('#course-capacity', '30');
  await T.click('#new-course button[type=submit]');
  await T.waitForSelector('#courses option', { state: 'attached' });
  const courseId = await T.$eval('#courses', (s) => s.value);
  await T.click('#go-live');
  await T.waitForSelector('#conn.open');
  return courseId;
}

// Polls `read()` (a count such as framesDecoded; null while there is none) every 250 ms until
// it is more than `by` above `from` (default: its first value), or `ms` passed; resolves with
// { from, to, secs }. How many frames a fixed sleep sees depends on how fast the machine is
// (a loaded 2-core box decodes at a fraction of the rate): a check that something keeps
// flowing waits for this much of it, with a generous timeout, instead.
export async function waitRise(read, by, { ms = 30000, from } = {}) {
  const start = Date.now();
  const base = from ?? (await read()) ?? 0;
  let to = await read();
  while (!(to !== null && to > base + by) && Date.now() - start < ms) {
    await sleep(250);
    to = await read();
  }
  return { from: base, to, secs: (Date.now() - start) / 1000 };
}

// Starts `edgeclass serve`; resolves once it logs edgeclass.ready. `env` adds settings;
// a log line containing one of `failOn` (message names) fails the start.
// On a network (tests/scripts/e2e_video_netns.sh): E2E_SERVER_NETNS names the network
// namespace the server runs in, E2E_LISTEN its address; E2E_TLS_CERT/E2E_TLS_KEY make it HTTPS.
export const onNetwork = Boolean(process.env.E2E_SERVER_NETNS);

export async function startServer({ env = {}, failOn = [], prefix = 'edgeclass-e2e-' } = {}) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const net = onNetwork ? { EDGECLASS_LISTEN: process.env.E2E_LISTEN,
    EDGECLASS_ADMIN_LISTEN: process.env.E2E_ADMIN_LISTEN,
    EDGECLASS_TLS_CERT: process.env.E2E_TLS_CERT, EDGECLASS_TLS_KEY: process.env.E2E_TLS_KEY } : {};
  // `ip netns exec` execs the server, so the child's pid is the server's.
  const [cmd, args] = onNetwork
    ? ['ip', ['netns', 'exec', process.env.E2E_SERVER_NETNS, BIN, 'serve']] : [BIN, ['serve']];
  const proc = spawn(cmd, args, {
    env: { ...process.env, EDGECLASS_LISTEN: '127.0.0.1:0', EDGECLASS_DATA_DIR: dataDir,
      EDGECLASS_JWT_SECRET: SECRET, EDGECLASS_THREADS: '2', EDGECLASS_LOG_LEVEL: 'info',
      EDGECLASS_ADMIN_LISTEN: '127.0.0.1:0',
      // A free UDP port, not the fixed default 7882 another server on the machine may hold.
      EDGECLASS_MEDIA_PORT: '0', ...env,
      ...net },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  let adminUrl = null;  // the admin listener (/metrics)
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`server did not start:\n${log}`));
    }, 30000);
    proc.stdout.on('data', (d) => {
      log += d;
      for (const line of log.split('\n')) {
        for (const name of failOn) {
          if (line.includes(`"${name}"`)) {
            clearTimeout(timer);
            reject(new Error(`server start failed: ${line}`));
          }
        }
        if (line.includes('"edgeclass.ready"')) {
          clearTimeout(timer);
          const ready = JSON.parse(line);
          if (ready.admin_url && ready.admin_url !== 'off') adminUrl = ready.admin_url.replace(/\/$/, '');
          resolve(ready.url.replace(/\/$/, ''));
        }
      }
    });
    proc.on('exit', (code) => reject(new Error(`server exited (${code})`)));
  });
  proc.stderr.resume();
  // The server writes its log from its own thread, so a line can reach us after an answer
  // or message the same event caused: wait for it (up to `ms`, generous for a loaded 2-core
  // machine; a line that is there returns at once) rather than read it once.
  const waitLog = async (needle, ms = 15000) => {
    for (const end = Date.now() + ms; !log.includes(needle) && Date.now() < end;) await sleep(50);
    return log.includes(needle);
  };
  return { proc, url, adminUrl, dataDir, log: () => log, waitLog };
}

// Headless Debian Chromium with a fake camera and microphone, plus `extraArgs`.
export function launchBrowser(extraArgs = []) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run',
      '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', ...extraArgs],
  });
}

// open(file, sub, name, role, options): a fresh browser context on `file` signed in as that
// user (options.locale: the browser's language, e.g. 'zh-CN'; default en-US); a page error
// marks the test failed.
export function pageOpener(browser, server, timeout) {
  return async (file, sub, name, role, { locale = 'en-US' } = {}) => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale, acceptDownloads: true });
    const page = await ctx.newPage();
    page.setDefaultTimeout(timeout);
    page.on('pageerror', (e) => { console.error(`[${sub}] page error: ${e.message}`); process.exitCode = 1; });
    // The pages' own warnings and notices (a failed subscribe, a stalled video), to tell why.
    page.on('console', (m) => {
      if (m.type() === 'warning' || m.type() === 'info') console.log(`[${sub}] ${m.type()}: ${m.text()}`);
    });
    // Chromium aborts a navigation with net::ERR_NETWORK_CHANGED when the machine's network
    // interfaces change under it (a namespace test's veth pair appearing in the host's
    // namespace): nothing reached the server, so the page is simply loaded again, after a
    // pause for the change to settle. The aborted navigation's error page can still be on its
    // way then and interrupt the next attempt ("interrupted by another navigation to
    // chrome-error://"): that attempt is made again too.
    const url = `${server.url}/${file}#token=${token(sub, name, role)}`;
    for (let attempt = 1; ; attempt++) {
      try {
        await page.goto(url);
        break;
      } catch (err) {
        const why = String(err.message);
        const network = why.includes('ERR_NETWORK_CHANGED') ||
          why.includes('interrupted by another navigation to "chrome-error://');
        if (attempt >= 5 || !network) throw err;
        console.log(`[${sub}] ${file}: navigation aborted (${why.split('\n')[0].slice(0, 120)}), loading it again`);
        await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
      }
    }
    return page;
  };
}

// Runs one browser scenario: starts the server (`server`: startServer's options) and Chromium
// (`browserArgs`), calls body({ server, open }) with a pageOpener of `timeout`, always closes
// both afterwards, and reports "e2e NAME: all checks passed" or FAILED with a non-zero exit.
export function runScenario(name, { server: serverOptions, browserArgs = [], timeout }, body) {
  const main = async () => {
    const server = await startServer(serverOptions);
    const browser = await launchBrowser(browserArgs);
    try {
      await body({ server, open: pageOpener(browser, server, timeout) });
    } finally {
      await browser.close();
      server.proc.kill('SIGTERM');
      fs.rmSync(server.dataDir, { recursive: true, force: true });
    }
  };
  main().then(() => {
    if (process.exitCode) console.error('FAILED: page errors');
    else console.log(`e2e ${name}: all checks passed`);
  }).catch((e) => {
    console.error(`FAILED: ${e.stack || e}`);
    process.exit(1);
  });
}
