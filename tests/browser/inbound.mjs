// Browser test of `mailtls serve`'s inbound mail on a result page, in Debian's Chromium driven by
// playwright-core.
//
//   BASE_URL=http://127.0.25.40:8080 ADDRESS=user@sts-enforce-mismatch.example \
//   MX=mx.sts-enforce-mismatch.example MTA_STS=enforce STS_ACTION=defers \
//   COSTS='Yes: sts-enforce-mismatch.example enforces MTA-STS' COSTS_ANSWER=yes \
//   SCREENSHOTS=target/screenshots/inbound node tests/browser/inbound.mjs
//
// Optional: CHROMIUM (default /usr/bin/chromium).
//
// Opens /check?target=ADDRESS as a link from a support desk would, waits for the result page
// (it refreshes itself until #verdict appears), and holds it to: #costs-mail (class
// costs-COSTS_ANSWER) beginning with COSTS, inside #blocklist; #inbound after it and before the
// details, its MTA-STS line in state MTA_STS; for MX, the line of Gmail and Microsoft 365 with
// action STS_ACTION and its words; the same in the print view; on a phone-sized screen nothing
// wider than the screen; no request to another host. Prints one JSON line and exits 0 when all
// holds; otherwise one line `inbound.mjs: FAIL: <step>: expected ..., found ...` and exit 1 (2
// for a usage error).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const env = process.env;
const NEEDED = ['BASE_URL', 'ADDRESS', 'MX', 'MTA_STS', 'STS_ACTION', 'COSTS', 'COSTS_ANSWER', 'SCREENSHOTS'];
for (const k of NEEDED) {
  if (!env[k]) {
    console.log(`inbound.mjs: usage: ${k} is not set (set ${NEEDED.join(', ')})`);
    process.exit(2);
  }
}
const base = new URL(env.BASE_URL);
const BASE = base.origin;
const EXE = env.CHROMIUM || '/usr/bin/chromium';
const STEP_MS = 15_000;
const VERDICT_MS = 60_000;
const ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const WORDS = { delivers: 'deliver', defers: 'do not deliver there', unknown: 'not known' };

class Fail extends Error {}
let step = 'start';
const fail = (expected, found) => {
  throw new Fail(`expected ${expected}; found ${found}`);
};
const q = (s) => JSON.stringify(s);
const oneLine = (s, n = 200) => String(s ?? '').replace(/\s+/g, ' ').trim().slice(0, n);
const foreign = [];

async function context(browser, options = {}) {
  const ctx = await browser.newContext(options);
  ctx.setDefaultTimeout(STEP_MS);
  ctx.setDefaultNavigationTimeout(STEP_MS);
  await ctx.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (['http:', 'https:', 'ws:', 'wss:'].includes(u.protocol) && u.host !== base.host) {
      foreign.push(u.href);
      return route.abort('blockedbyclient');
    }
    return route.continue();
  });
  return ctx;
}

// Where each section starts in the page's order, -1 when absent.
async function order(page, selectors) {
  return page.evaluate((sels) => {
    const all = Array.from(document.querySelectorAll('*'));
    return sels.map((s) => all.indexOf(document.querySelector(s)));
  }, selectors);
}

// The inbound facts of the page, as the checks below read them.
async function inbound(page, label) {
  step = `${label}: #costs-mail`;
  const costs = page.locator('#blocklist #costs-mail');
  if ((await costs.count()) !== 1) fail('one #costs-mail inside #blocklist', `${await costs.count()}`);
  const text = oneLine(await costs.innerText(), 600);
  if (!text.startsWith(env.COSTS)) fail(`#costs-mail to begin with ${q(env.COSTS)}`, q(text));
  const cls = (await costs.getAttribute('class')) || '';
  if (!cls.split(/\s+/).includes(`costs-${env.COSTS_ANSWER}`)) fail(`class costs-${env.COSTS_ANSWER}`, q(cls));
  step = `${label}: #inbound`;
  const [blocklist, section, details] = await order(page, ['#blocklist', '#inbound', '#details']);
  if (section < 0) fail('#inbound on the page', 'none');
  if (!(blocklist < section && section < details)) {
    fail('#blocklist, then #inbound, then #details', `positions ${blocklist}, ${section}, ${details}`);
  }
  const sts = await page.locator('#inbound-mta-sts').getAttribute('data-state');
  if (sts !== env.MTA_STS) fail(`#inbound-mta-sts in state ${q(env.MTA_STS)}`, q(sts));
  step = `${label}: the MX ${env.MX}`;
  const mx = page.locator(`#inbound .inbound-mx[data-host="${env.MX}"]`);
  if ((await mx.count()) !== 1) fail(`one .inbound-mx for ${env.MX}`, `${await mx.count()}`);
  const line = mx.locator('li[data-sender="mta-sts"]');
  const action = await line.getAttribute('data-action');
  if (action !== env.STS_ACTION) fail(`Gmail and Microsoft 365 to ${q(env.STS_ACTION)} there`, q(action));
  const words = oneLine(await line.innerText());
  const said = `Gmail and Microsoft 365 (MTA-STS): ${WORDS[env.STS_ACTION] ?? ''}`;
  if (words !== said) fail(q(said), q(words));
  return { costs: text, mta_sts: sts, action };
}

async function main() {
  mkdirSync(env.SCREENSHOTS, { recursive: true });
  step = 'launch Chromium';
  let browser;
  try {
    browser = await chromium.launch({ executablePath: EXE, headless: true, args: ARGS, timeout: 30_000 });
  } catch (e) {
    fail(`Chromium to start from ${EXE}`, oneLine(e.message.split('\n')[0]));
  }
  try {
    const ctx = await context(browser, { viewport: { width: 1100, height: 900 } });
    const page = await ctx.newPage();
    step = 'open /check?target=ADDRESS';
    await page.goto(`${BASE}/check?target=${encodeURIComponent(env.ADDRESS)}`, { waitUntil: 'load' });
    const path = new URL(page.url()).pathname;
    if (!/^\/r\/[^/]+$/.test(path)) fail('to land on /r/{id}', page.url());
    step = 'wait for #verdict';
    await page.locator('#verdict').first().waitFor({ state: 'attached', timeout: VERDICT_MS });
    await page.waitForLoadState('load');
    const seen = await inbound(page, 'result');
    await page.screenshot({ path: join(env.SCREENSHOTS, 'inbound.png'), fullPage: true });

    step = 'print view';
    await page.goto(`${BASE}${path}/print`, { waitUntil: 'load' });
    await inbound(page, 'print');

    step = 'phone';
    const phone = await context(browser, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const small = await phone.newPage();
    await small.goto(`${BASE}${path}`, { waitUntil: 'load' });
    await inbound(small, 'phone');
    const width = await small.evaluate(() => document.documentElement.scrollWidth);
    if (width > 390) fail('nothing wider than the 390 px screen', `${width} px`);
    await small.screenshot({ path: join(env.SCREENSHOTS, 'inbound-phone.png'), fullPage: true });

    if (foreign.length) fail('no request to another host', foreign.join(', '));
    console.log(JSON.stringify({ ok: true, path, ...seen }));
  } finally {
    await browser.close();
  }
}

const timer = setTimeout(() => {
  console.log(`inbound.mjs: FAIL: ${step}: expected to finish within 3 minutes; found it still running`);
  process.exit(1);
}, 180_000);
main()
  .then(() => {
    clearTimeout(timer);
    process.exit(0);
  })
  .catch((e) => {
    clearTimeout(timer);
    console.log(`inbound.mjs: FAIL: ${step}: ${e instanceof Fail ? e.message : oneLine(e.stack || e)}`);
    process.exit(1);
  });
