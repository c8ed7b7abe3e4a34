#!/usr/bin/env node
// Opens the relay's player page in Debian's headless Chromium (chromium.js) and
// prints one line per 250 ms: "stats {json}" with the page's window.veter state
// (frames, width/height, state, error...). Used by the WebRTC e2e test
// (tests/webrtc/webrtc_e2e_test.cpp).
//
//   node watch.js --url URL [--seconds N] [--screenshot FILE] [--screenshot-after-frames N] [--ignore-cert]
//                 [--profile-parent DIR]
//
// Exit codes: 0 done (or SIGTERM), 2 bad arguments, 3 Chromium cannot start
// (the test skips then), 4 page error, 5 puppeteer-core missing (scripts/deps.sh installs it).
'use strict';
const { launch, readState } = require('./chromium');

function arg(name, dflt) {
  const i = process.argv.indexOf('--' + name);
  if (i < 0) return dflt;
  return process.argv[i + 1] === undefined || process.argv[i + 1].startsWith('--') ? true : process.argv[i + 1];
}

async function main() {
  const url = arg('url');
  if (!url) { console.error('usage: watch.js --url URL [--seconds N] [--screenshot FILE]'); process.exit(2); }
  const seconds = Number(arg('seconds', 60));
  const shot = arg('screenshot', '');
  const shotAfter = Number(arg('screenshot-after-frames', 30));
  let chrome;
  try {
    chrome = await launch({ ignoreCert: arg('ignore-cert', false), profileParent: arg('profile-parent', undefined) });
  } catch (e) {
    const cannot = e.message.startsWith('cannot-start');
    console.log(cannot ? e.message : 'error ' + e.message);
    process.exit(cannot ? 3 : 5);
  }
  const stop = () => { chrome.close().then(() => process.exit(0)); };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  const page = await chrome.browser.newPage();
  await page.setViewport({ width: 1280, height: 760 });
  page.on('console', (m) => { if (m.type() === 'error') console.log('console ' + m.text()); });
  const t0 = Date.now();
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  console.log('opened ' + (Date.now() - t0));
  let shotTaken = !shot;
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    const s = await page.evaluate(readState);
    s.t = Date.now() - t0;
    console.log('stats ' + JSON.stringify(s));
    if (!shotTaken && s.frames >= shotAfter) {
      await page.screenshot({ path: shot });
      console.log('screenshot ' + shot);
      shotTaken = true;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  await chrome.close();
  process.exit(0);
}

main().catch((e) => { console.log('error ' + e.message); process.exit(4); });
