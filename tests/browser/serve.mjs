// Browser test of `mailtls serve` in Debian's Chromium, driven by playwright-core.
//
//   BASE_URL=http://127.0.0.40:8080 ADDRESS=jane@customer.test EXPECTED_NAME=luna.hostingco.test \
//   SCREENSHOTS=target/browser [FLEET=1] [PASTE_HOST=mail.customer.test] node tests/browser/serve.mjs
//
// Optional: CHROMIUM (browser executable, default /usr/bin/chromium), VERDICT_TIMEOUT_MS (how long
// a check may take, default and at most 60000).
//
// Walks the pages as a person would: the box on /, the 303 to /r/{id}, the result page that
// refreshes itself (meta refresh, no JavaScript) until #verdict appears, the permalink, the print
// view, a phone-sized screen, the same with JavaScript off, and with FLEET=1 the fleet pages.
// With PASTE_HOST: the words of Thunderbird's "Add Security Exception" dialog for PASTE_HOST,
// whose certificate is for EXPECTED_NAME, pasted in the box: the explanation, a button that
// checks PASTE_HOST and, clicked, its result naming EXPECTED_NAME; words no mail app shows get
// "not recognised" and the box again. Every
// request must go to BASE_URL's host (no CDN, no web font). Prints one JSON line and exits 0 when
// all holds; otherwise prints one line `serve.mjs: FAIL: <step>: expected ..., found ...` and exits
// 1 (2 for a usage error).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const env = process.env;
const usage = (msg) => {
  console.log(`serve.mjs: usage: ${msg} (set BASE_URL, ADDRESS, EXPECTED_NAME, SCREENSHOTS; optional FLEET=1)`);
  process.exit(2);
};
for (const k of ['BASE_URL', 'ADDRESS', 'EXPECTED_NAME', 'SCREENSHOTS']) if (!env[k]) usage(`${k} is not set`);
let base;
try {
  base = new URL(env.BASE_URL);
} catch {
  usage(`BASE_URL ${JSON.stringify(env.BASE_URL)} is not a URL`);
}
const BASE = base.origin;
const ADDRESS = env.ADDRESS;
const EXPECTED = env.EXPECTED_NAME;
const SHOTS = env.SCREENSHOTS;
const FLEET = env.FLEET === '1';
const PASTE_HOST = env.PASTE_HOST || '';
const EXE = env.CHROMIUM || '/usr/bin/chromium';
const VERDICT_MS = Math.min(Number(env.VERDICT_TIMEOUT_MS) || 60_000, 60_000);
const STEP_MS = 15_000; // any single navigation, click or lookup
const TOTAL_MS = 5 * 60_000; // the whole run, whatever hangs
const VERDICT_CLASSES = ['verdict-ok', 'verdict-warn', 'verdict-fail', 'verdict-unknown'];
// Flags for root in a container without internet (shared/notes/servers.md).
const ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

class Fail extends Error {}
let step = 'start';
const fail = (expected, found) => {
  throw new Fail(`expected ${expected}; found ${found}`);
};
const q = (s) => JSON.stringify(s);
const oneLine = (s, n = 160) => String(s ?? '').replace(/\s+/g, ' ').trim().slice(0, n);

const summary = { ok: true, base: BASE, address: ADDRESS, expected_name: EXPECTED, screenshots: [] };
const foreign = []; // requests to other hosts (aborted, so nothing leaves the machine)
const hosts = new Set();
const checkRedirects = []; // responses to GET /check
const pageErrors = [];
const consoleErrors = [];

async function newContext(browser, options = {}) {
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
  ctx.on('request', (req) => {
    try {
      const u = new URL(req.url());
      if (u.protocol.startsWith('http')) hosts.add(u.host);
    } catch {}
  });
  ctx.on('response', (res) => {
    const u = new URL(res.url());
    if (u.host === base.host && u.pathname === '/check') {
      checkRedirects.push({ status: res.status(), location: res.headers()['location'] ?? null });
    }
  });
  ctx.on('page', (p) => {
    p.on('pageerror', (e) => pageErrors.push(oneLine(e.message)));
    p.on('console', (m) => m.type() === 'error' && consoleErrors.push(oneLine(m.text())));
  });
  return ctx;
}

async function goto(page, url) {
  let res;
  try {
    res = await page.goto(url, { waitUntil: 'load' });
  } catch (e) {
    fail(`GET ${url} to load within ${STEP_MS / 1000} s`, oneLine(e.message.split('\n')[0]));
  }
  if (!res || res.status() >= 400) fail(`GET ${url} to answer 2xx`, `HTTP ${res ? res.status() : 'no response'}`);
  return res;
}

async function count(page, selector) {
  return page.locator(selector).count();
}

async function shot(page, name, fullPage = true) {
  const path = join(SHOTS, name);
  await page.screenshot({ path, fullPage });
  summary.screenshots.push(path);
}

// What a stuck result page shows, for the failure line.
async function describe(page) {
  try {
    const state = page.locator('#state');
    if (await state.count()) return `#state says ${q(oneLine(await state.first().innerText()))} at ${page.url()}`;
    const title = await page.title();
    const body = oneLine(await page.locator('body').innerText(), 100);
    return `no #state at ${page.url()} (title ${q(title)}, text ${q(body)})`;
  } catch (e) {
    return `page ${page.url()} (${oneLine(e.message.split('\n')[0])})`;
  }
}

// The box on /: the form, its text area and its button.
async function box(page, label) {
  step = `${label}: the box on /`;
  await goto(page, `${BASE}/`);
  const form = page.locator('form[action="/check"]');
  if ((await form.count()) !== 1) fail('one <form action="/check"> on /', `${await form.count()}`);
  const method = ((await form.getAttribute('method')) || '').toLowerCase();
  if (method !== 'post') fail('<form method="post">', `method=${q(method)}`);
  const input = form.locator('textarea#target[name="target"]');
  if ((await input.count()) !== 1) fail('<textarea id="target" name="target"> in the form', 'none');
  const button = form.locator('button[type="submit"]');
  if ((await button.count()) < 1) fail('a <button type="submit"> in the form', 'none');
  return { input, button: button.first() };
}

// Paste `words` in the box on / and send them: the page must answer 200 (an explanation).
async function paste(page, words, label) {
  const { input, button } = await box(page, label);
  await input.fill(words);
  step = `${label}: send the words`;
  let res;
  try {
    [res] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === '/check' && r.request().method() === 'POST'),
      button.click(),
    ]);
  } catch (e) {
    fail(`POST /check to answer within ${STEP_MS / 1000} s`, oneLine(e.message.split('\n')[0]));
  }
  if (res.status() !== 200) fail('POST /check with words to answer 200 (an explanation)', `HTTP ${res.status()}`);
  await page.waitForLoadState('load');
  step = `${label}: explanation`;
  if (!(await count(page, '#explanation'))) fail('#explanation after pasting words', await describe(page));
}

// Fill the box on / with ADDRESS and submit it; returns the /r/{id} path it lands on.
async function submitForm(page, label) {
  const { input, button } = await box(page, label);
  await input.fill(ADDRESS);
  step = `${label}: submit`;
  const before = checkRedirects.length;
  await Promise.all([
    page.waitForURL((u) => /^\/r\/[^/]+\/?$/.test(u.pathname), { timeout: STEP_MS, waitUntil: 'commit' })
      .catch(async () => fail(`the form to lead to /r/{id} within ${STEP_MS / 1000} s`, `${page.url()}`)),
    button.click({ noWaitAfter: true }),
  ]);
  const redirect = checkRedirects[before];
  if (!redirect) fail('GET /check?target=... to be requested', 'no request to /check');
  if (redirect.status !== 303) fail('GET /check to answer 303', `HTTP ${redirect.status}`);
  const path = new URL(page.url()).pathname;
  if (!redirect.location || new URL(redirect.location, BASE).pathname !== path) {
    fail(`Location: ${path}`, `Location: ${redirect.location}`);
  }
  return path;
}

// Wait until the result page (which reloads itself) shows #verdict; returns what it saw.
async function waitVerdict(page, label) {
  step = `${label}: wait for #verdict`;
  const t0 = Date.now();
  const sawState = (await count(page, '#state').catch(() => 0)) > 0;
  try {
    await page.locator('#verdict').first().waitFor({ state: 'attached', timeout: VERDICT_MS });
  } catch (e) {
    if (!(e instanceof Error) || !/Timeout/i.test(e.message)) throw e;
    fail(`#verdict within ${VERDICT_MS / 1000} s`, await describe(page));
  }
  await page.waitForLoadState('load');
  return { sawState, seconds: Math.round((Date.now() - t0) / 100) / 10 };
}

async function verdictText(page) {
  return oneLine(await page.locator('#verdict').first().innerText(), 400);
}

async function checkResult(page) {
  step = 'result page';
  const v = page.locator('#verdict').first();
  const cls = ((await v.getAttribute('class')) || '').split(/\s+/).filter(Boolean);
  const vclass = cls.find((c) => VERDICT_CLASSES.includes(c));
  if (!vclass) fail(`#verdict with a class among ${VERDICT_CLASSES.join(' ')}`, `class=${q(cls.join(' '))}`);
  const text = await verdictText(page);
  if (!text) fail('#verdict with text', 'empty #verdict');
  if (await count(page, 'meta[http-equiv="refresh" i]')) {
    fail('the finished result page to stop refreshing itself', 'a <meta http-equiv="refresh"> next to #verdict');
  }
  if (!(await count(page, '#fix'))) fail('#fix on the result page', 'none');
  const fix = oneLine(await page.locator('#fix').first().innerText(), 2000);
  if (!fix.includes(EXPECTED)) fail(`#fix to contain ${q(EXPECTED)}`, `#fix says ${q(oneLine(fix, 200))}`);
  const names = (await page.locator('.verified-name').allInnerTexts()).map((s) => s.trim());
  if (!names.includes(EXPECTED)) {
    fail(`an element .verified-name with text ${q(EXPECTED)}`, names.length ? `.verified-name ${names.map(q).join(', ')}` : 'no .verified-name');
  }
  for (const sel of ['#clients', '#blocklist', 'details#details']) {
    if (!(await count(page, sel))) fail(`${sel} on the result page`, 'none');
  }
  return { class: vclass, text, verified_names: names };
}

async function main() {
  mkdirSync(SHOTS, { recursive: true });
  step = 'launch Chromium';
  let browser;
  try {
    browser = await chromium.launch({ executablePath: EXE, headless: true, args: ARGS, timeout: 30_000 });
  } catch (e) {
    fail(`Chromium to start from ${EXE}`, oneLine(e.message.split('\n')[0]));
  }
  try {
    // 1. Desktop, JavaScript on: form, redirect, waiting page, result.
    const desk = await newContext(browser, { viewport: { width: 1280, height: 900 } });
    const page = await desk.newPage();
    const rpath = await submitForm(page, 'desktop');
    summary.result = rpath;
    const wait = await waitVerdict(page, 'desktop');
    summary.saw_state = wait.sawState;
    summary.check_seconds = wait.seconds;
    summary.verdict = await checkResult(page);
    step = 'result screenshot';
    await shot(page, 'result.png');

    // 2. Permalink and print view.
    step = 'permalink';
    const permalink = page.locator('a#permalink');
    if (!(await permalink.count())) fail('a#permalink on the result page', 'none');
    const phref = new URL(await permalink.first().getAttribute('href'), page.url());
    if (phref.pathname !== rpath) fail(`a#permalink href ${rpath}`, `href ${q(phref.pathname)}`);
    const p2 = await desk.newPage();
    await goto(p2, phref.href);
    await waitVerdict(p2, 'permalink');
    const ptext = await verdictText(p2);
    if (ptext !== summary.verdict.text) fail(`the permalink's #verdict ${q(summary.verdict.text)}`, q(ptext));
    await p2.close();

    step = 'print view';
    const print = page.locator('a#print');
    if (!(await print.count())) fail('a#print on the result page', 'none');
    const prhref = new URL(await print.first().getAttribute('href'), page.url());
    const p3 = await desk.newPage();
    await p3.emulateMedia({ media: 'print' });
    await goto(p3, prhref.href);
    await waitVerdict(p3, 'print view');
    await shot(p3, 'print.png');
    summary.print = prhref.pathname + prhref.search;
    await p3.close();

    // 3. A phone: the result page must fit 390 px without sideways scrolling.
    step = 'phone';
    const phone = await newContext(browser, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const pp = await phone.newPage();
    await goto(pp, `${BASE}${rpath}`);
    await waitVerdict(pp, 'phone');
    step = 'phone';
    const dims = await pp.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
      viewport: document.querySelector('meta[name="viewport"]')?.content ?? null,
    }));
    summary.phone = dims;
    if (!/width\s*=\s*device-width/.test(dims.viewport ?? '')) {
      fail('<meta name="viewport" content="width=device-width, ..."> (else phones lay the page out 980 px wide)', dims.viewport === null ? 'none' : `content=${q(dims.viewport)}`);
    }
    // A phone widens the layout to fit content that is too wide, so innerWidth grows too.
    const widest = Math.max(dims.scrollWidth, dims.innerWidth);
    if (widest > 391 || dims.scrollWidth > dims.innerWidth + 1) {
      fail('no horizontal scrolling at 390 px (content at most 391 px wide)', `content ${widest} px wide`);
    }
    await shot(pp, 'result-phone.png');
    await phone.close();

    // 4. JavaScript off: the form and the waiting page still work.
    const nojs = await newContext(browser, { javaScriptEnabled: false, viewport: { width: 1280, height: 900 } });
    const pn = await nojs.newPage();
    const npath = await submitForm(pn, 'no JavaScript');
    const nwait = await waitVerdict(pn, 'no JavaScript');
    summary.no_js = { result: npath, saw_state: nwait.sawState, verdict: await verdictText(pn) };

    // 5. The fleet pages (server-made SVG, so checked with JavaScript off).
    if (FLEET) {
      step = 'fleet';
      const pf = await nojs.newPage();
      await goto(pf, `${BASE}/fleet`);
      const rects = await count(pf, 'svg#causes-chart rect');
      if (!(await count(pf, 'svg#causes-chart'))) fail('an inline <svg id="causes-chart"> on /fleet', 'none');
      if (rects < 1) fail('at least one <rect> in svg#causes-chart', '0');
      const links = pf.locator('table#fleet-domains tr a[href]');
      const hrefs = (await links.evaluateAll((as) => as.map((a) => a.href)))
        .filter((h) => new URL(h).pathname.startsWith('/fleet/'));
      if (!hrefs.length) fail('a row of table#fleet-domains with a link to /fleet/...', `${await links.count()} links, none to /fleet/`);
      await shot(pf, 'fleet.png');
      step = 'fleet domain page';
      const first = pf.locator('table#fleet-domains tr a[href*="/fleet/"]').first();
      await Promise.all([pf.waitForURL(hrefs[0], { timeout: STEP_MS }), first.click()]).catch(() =>
        fail(`clicking the first domain to open ${hrefs[0]}`, pf.url()),
      );
      await waitVerdict(pf, 'fleet domain page');
      summary.fleet = {
        rects, domain_links: hrefs.length, opened: new URL(hrefs[0]).pathname, verdict: await verdictText(pf),
      };
      await shot(pf, 'fleet-domain.png');
    }

    // 6. Pasted words: explained, with a button that checks the server they name.
    if (PASTE_HOST) {
      const pe = await desk.newPage();
      const words = [
        'Add Security Exception',
        'You are about to override how Thunderbird identifies this site.',
        'Legitimate banks, stores, and other public sites will not ask you to do this.',
        'Server',
        `Location: ${PASTE_HOST}:993`,
        'Certificate Status',
        'This site attempts to identify itself with invalid information.',
        'Wrong Site',
        'The certificate belongs to a different site, which could mean that someone is trying to impersonate this site.',
        `Subject Name: Common Name ${EXPECTED}`,
      ].join('\n');
      await paste(pe, words, 'paste');
      const ex = pe.locator('#explanation').first();
      const exClass = ((await ex.getAttribute('class')) || '').split(/\s+/);
      const exText = oneLine(await ex.innerText(), 600);
      if (!exClass.includes('recognised')) fail('#explanation.recognised for a Thunderbird dialog', `class=${q(exClass.join(' '))}, text ${q(exText)}`);
      if (!/Thunderbird/.test(exText) || !/Add Security Exception/.test(exText)) {
        fail('#explanation to name Thunderbird\'s "Add Security Exception"', q(exText));
      }
      if (!(await count(pe, '#causes li'))) fail('#causes with at least one cause', 'none');
      const kept = await pe.locator('form[action="/check"] textarea#target').inputValue();
      if (kept !== words) fail('the box to keep the pasted words, line breaks and all', q(oneLine(kept, 100)));
      const names = await pe.locator('#names button[name="target"]').evaluateAll((bs) => bs.map((b) => b.value));
      if (!names.includes(PASTE_HOST)) fail(`a button in #names that checks ${q(PASTE_HOST)}`, `buttons for ${names.map(q).join(', ') || 'nothing'}`);
      summary.paste = { explanation: oneLine(exText, 200), names };
      await shot(pe, 'explain.png');

      step = 'paste: check button';
      const before = checkRedirects.length;
      const check = pe.locator(`#names button[name="target"][value="${PASTE_HOST}"]`);
      await Promise.all([
        pe.waitForURL((u) => /^\/r\/[^/]+\/?$/.test(u.pathname), { timeout: STEP_MS, waitUntil: 'commit' })
          .catch(async () => fail(`the button to lead to /r/{id} within ${STEP_MS / 1000} s`, pe.url())),
        check.click({ noWaitAfter: true }),
      ]);
      const started = checkRedirects[before];
      if (!started || started.status !== 303) fail('GET /check?target=... to answer 303', started ? `HTTP ${started.status}` : 'no request to /check');
      const pw = await waitVerdict(pe, 'paste: check');
      const checked = oneLine(await pe.locator('#verdict .target').first().innerText());
      if (!checked.includes(PASTE_HOST)) fail(`the result to be for ${q(PASTE_HOST)}`, q(checked));
      const verified = (await pe.locator('.verified-name').allInnerTexts()).map((t) => t.trim());
      if (!verified.includes(EXPECTED)) fail(`.verified-name ${q(EXPECTED)} on ${PASTE_HOST}'s result`, verified.map(q).join(', ') || 'none');
      summary.paste.check = { result: new URL(pe.url()).pathname, checked, verified, saw_state: pw.sawState, seconds: pw.seconds };

      // The explanation on a phone: no sideways scrolling.
      step = 'paste: phone';
      const phone2 = await newContext(browser, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
      const pph = await phone2.newPage();
      await paste(pph, words, 'paste on a phone');
      const pdims = await pph.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
      if (Math.max(pdims.scrollWidth, pdims.innerWidth) > 391) fail('no horizontal scrolling at 390 px on the explanation', `content ${pdims.scrollWidth} px wide`);
      await shot(pph, 'explain-phone.png');
      await phone2.close();

      // Words no mail app shows, with JavaScript off: "not recognised", and the box, empty.
      step = 'paste: not recognised';
      const pu = await nojs.newPage();
      await paste(pu, 'The printer on the third floor is out of paper again.', 'unrecognised words');
      const ux = pu.locator('#explanation').first();
      const uClass = ((await ux.getAttribute('class')) || '').split(/\s+/);
      const uText = oneLine(await ux.innerText(), 400);
      if (!uClass.includes('not-recognised') || !/not recognised/i.test(uText)) {
        fail('#explanation.not-recognised saying "not recognised"', `class=${q(uClass.join(' '))}, text ${q(uText)}`);
      }
      const again = pu.locator('form[action="/check"] textarea#target');
      if ((await again.count()) !== 1) fail('the box offered again under "not recognised"', 'none');
      if ((await again.inputValue()) !== '') fail('the box offered empty, to type an address', q(await again.inputValue()));
      summary.paste.unrecognised = uText;
      await shot(pu, 'explain-unrecognised.png');
    }

    step = 'requests';
    if (foreign.length) fail(`requests only to ${base.host}`, `${foreign.length} elsewhere, first ${foreign[0]}`);
    summary.hosts = [...hosts];
    step = 'errors';
    // No script runs on these pages; an error here is a broken page or a blocked resource
    // (a Content-Security-Policy violation is reported on the console).
    if (pageErrors.length) fail('no page errors', `${pageErrors.length}, first: ${pageErrors[0]}`);
    if (consoleErrors.length) fail('no console errors', `${consoleErrors.length}, first: ${consoleErrors[0]}`);
  } finally {
    await Promise.race([browser.close(), new Promise((r) => setTimeout(r, 10_000))]);
  }
}

const watchdog = setTimeout(() => {
  console.log(`serve.mjs: FAIL: ${step}: expected the whole run to finish within ${TOTAL_MS / 1000} s; found it still running`);
  process.exit(1);
}, TOTAL_MS);

try {
  await main();
  clearTimeout(watchdog);
  console.log(JSON.stringify(summary));
  process.exit(0);
} catch (e) {
  const msg = e instanceof Fail ? e.message : `unexpected error: ${oneLine(e && e.message ? e.message.split('\n')[0] : e, 300)}`;
  console.log(`serve.mjs: FAIL: ${step}: ${msg}`);
  process.exit(1);
}
