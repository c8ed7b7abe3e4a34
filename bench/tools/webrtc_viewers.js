#!/usr/bin/env node
// WebRTC side of bench/webrtc_bench.sh: N player pages in one headless Chromium
// (tests/webrtc/chromium.js), all playing the relay's path; samples the relay's
// CPU time over a window once all play. Also time to first frame over J joins.
//
//   node webrtc_viewers.js --url URL --pages N [--window S] [--pid RELAY_PID]
//   node webrtc_viewers.js --url URL --joins J [--screenshot FILE]
// Prints one JSON object.
'use strict';
const fs = require('fs');
const path = require('path');
const { launch, readState } = require(path.join(__dirname, '../../tests/webrtc/chromium'));

function arg(name, dflt) {
  const i = process.argv.indexOf('--' + name);
  return i < 0 ? dflt : process.argv[i + 1];
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function cpuSeconds(pid) {
  // /proc/PID/stat fields 14 and 15: utime, stime in clock ticks (100 Hz on Linux).
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) / 100;
}

async function waitPlaying(page, timeoutMs) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const s = await page.evaluate(readState);
    if (s.frames > 0 && s.timing.firstFrame !== undefined) return s;
    await sleep(100);
  }
  return null;
}

async function main() {
  const url = arg('url');
  const pages = Number(arg('pages', 0));
  const joins = Number(arg('joins', 0));
  const chrome = await launch({});
  const out = { url };
  try {
    if (joins > 0) {
      // Sequential joins, a fresh page each: script start -> first frame shown.
      out.ttff_ms = [];
      out.phases = [];
      for (let j = 0; j < joins; j++) {
        const page = await chrome.browser.newPage();
        await page.goto(url, { waitUntil: 'domcontentloaded' });
        const s = await waitPlaying(page, 30000);
        if (s) { out.ttff_ms.push(s.timing.firstFrame); out.phases.push(s.timing); }
        if (j === joins - 1 && arg('screenshot')) {
          await sleep(2000);
          await page.screenshot({ path: arg('screenshot') });
        }
        await page.close();
        await sleep(500);
      }
      const v = out.ttff_ms.slice().sort((a, b) => a - b);
      out.ttff_p50_ms = v.length ? v[Math.floor((v.length - 1) / 2)] : null;
    } else {
      const list = [];
      for (let i = 0; i < pages; i++) {
        const page = await chrome.browser.newPage();
        await page.setViewport({ width: 320, height: 240 });
        await page.goto(url, { waitUntil: 'domcontentloaded' });
        list.push(page);
      }
      let playing = 0;
      for (const p of list) if (await waitPlaying(p, 60000)) playing += 1;
      out.pages = pages;
      out.playing = playing;
      await sleep(2000);
      const window = Number(arg('window', 10));
      const pid = arg('pid');
      const before = pid ? cpuSeconds(pid) : 0;
      const framesBefore = [];
      for (const p of list) framesBefore.push((await p.evaluate(readState)).frames);
      const t0 = Date.now();
      await sleep(window * 1000);
      const secs = (Date.now() - t0) / 1000;
      if (pid) out.relay_cpu_percent = (100 * (cpuSeconds(pid) - before)) / secs;
      let fps = 0;
      for (let i = 0; i < list.length; i++) fps += ((await list[i].evaluate(readState)).frames - framesBefore[i]) / secs;
      out.mean_fps_per_page = list.length ? fps / list.length : 0;
    }
  } finally {
    await chrome.close();
  }
  console.log(JSON.stringify(out));
}

main().catch((e) => { console.log(JSON.stringify({ error: e.message })); process.exit(1); });
