#!/usr/bin/env node
// Opens the relay's player page in Debian's headless Chromium and prints one
// line per 250 ms: "stats {json}" with the page's window.veter state
// (framesDecoded, frameWidth/Height, state, error...). Used by the WebRTC e2e
// test (tests/webrtc/webrtc_e2e_test.cpp) and bench/webrtc_bench.sh.
//
//   node watch.js --url URL [--seconds N] [--screenshot FILE] [--screenshot-after-frames N]
//                 [--ignore-cert] [--chromium PATH]
//
// Exit codes: 0 done (or SIGTERM), 2 bad arguments, 3 Chromium cannot start
// (the test skips then), 4 page error, 5 puppeteer-core missing (scripts/deps.sh installs it).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');

function arg(name, dflt) {
  const i = process.argv.indexOf('--' + name);
  if (i < 0) return dflt;
  return process.argv[i + 1] === undefined || process.argv[i + 1].startsWith('--') ? true : process.argv[i + 1];
}

async function main() {
  let puppeteer;
  try {
    puppeteer = require('puppeteer-core');
  } catch (e) {
    console.log('error puppeteer-core is not installed (run scripts/deps.sh): ' + e.message);
    process.exit(5);
  }
  const url = arg('url');
  if (!url) { console.error('usage: watch.js --url URL [--seconds N] [--screenshot FILE]'); process.exit(2); }
  const seconds = Number(arg('seconds', 60));
  const shot = arg('screenshot', '');
  const shotAfter = Number(arg('screenshot-after-frames', 30));
  const exe = arg('chromium', process.env.VETER_CHROMIUM || '/usr/bin/chromium');
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'veter-chromium-'));
  const flags = [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--disable-dev-shm-usage', '--autoplay-policy=no-user-gesture-required',
    // Loopback host candidates as they are (no mDNS .local names) so the relay can reach them.
    '--disable-features=WebRtcHideLocalIpsWithMdns',
    '--user-data-dir=' + profile,
  ];
  if (arg('ignore-cert', false)) flags.push('--ignore-certificate-errors');
  let browser;
  const cleanup = async () => {
    try { if (browser) await browser.close(); } catch (e) { /* already gone */ }
    fs.rmSync(profile, { recursive: true, force: true });
  };
  process.on('SIGTERM', () => { cleanup().then(() => process.exit(0)); });
  process.on('SIGINT', () => { cleanup().then(() => process.exit(0)); });
  try {
    browser = await puppeteer.launch({ executablePath: exe, headless: true, args: flags, pipe: true,
                                       handleSIGTERM: false, handleSIGINT: false, protocolTimeout: 30000 });
  } catch (e) {
    console.log('cannot-start ' + String(e.message).split('\n')[0]);
    await cleanup();
    process.exit(3);
  }
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 760 });
  page.on('console', (m) => { if (m.type() === 'error') console.log('console ' + m.text()); });
  const t0 = Date.now();
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  console.log('opened ' + (Date.now() - t0));
  let shotTaken = !shot;
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    const s = await page.evaluate(() => {
      const v = window.veter || {};
      const st = v.stats || {};
      const video = document.getElementById('video');
      return { state: v.state, error: v.error, connects: v.connects, frames: st.totalFrames || 0,
               framesDecoded: st.framesDecoded || 0, width: st.frameWidth || 0, height: st.frameHeight || 0,
               videoWidth: video ? video.videoWidth : 0, fps: st.fps || 0, lost: st.packetsLost || 0,
               nack: st.nackCount || 0, pli: st.pliCount || 0, jitterBufferMs: st.jitterBufferMs || 0,
               latencyMs: st.latencyMs, bitrateKbps: st.bitrateKbps || 0 };
    });
    s.t = Date.now() - t0;
    console.log('stats ' + JSON.stringify(s));
    if (!shotTaken && s.frames >= shotAfter) {
      await page.screenshot({ path: shot });
      console.log('screenshot ' + shot);
      shotTaken = true;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  await cleanup();
  process.exit(0);
}

main().catch((e) => { console.log('error ' + e.message); process.exit(4); });
