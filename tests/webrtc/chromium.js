// Debian's chromium, headless, for the WebRTC test and benchmark (puppeteer-core over
// --remote-debugging-pipe; never a downloaded browser). A fresh profile per launch,
// removed by close().
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');

const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage', '--autoplay-policy=no-user-gesture-required',
  // Loopback host candidates as they are (no mDNS .local names) so the relay can reach them.
  '--disable-features=WebRtcHideLocalIpsWithMdns',
  // Background pages keep rendering (the benchmark opens many).
  '--disable-background-timer-throttling', '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
];

/// `profileParent`: where the fresh profile goes (a caller's temp dir that it removes itself).
/// Resolves to {browser, close}; rejects with an Error whose message starts with
/// "cannot-start" when Chromium does not start, "no-puppeteer" when puppeteer-core is missing.
async function launch({ exe, ignoreCert, profileParent } = {}) {
  let puppeteer;
  try {
    puppeteer = require('puppeteer-core');
  } catch (e) {
    throw new Error('no-puppeteer puppeteer-core is not installed (run scripts/deps.sh): ' + e.message);
  }
  const profile = fs.mkdtempSync(path.join(profileParent || os.tmpdir(), 'veter-chromium-'));
  const args = FLAGS.concat(['--user-data-dir=' + profile]);
  if (ignoreCert) args.push('--ignore-certificate-errors');
  let browser;
  try {
    browser = await puppeteer.launch({ executablePath: exe || process.env.VETER_CHROMIUM || '/usr/bin/chromium',
                                       headless: true, args, pipe: true, handleSIGTERM: false,
                                       handleSIGINT: false, protocolTimeout: 60000 });
  } catch (e) {
    fs.rmSync(profile, { recursive: true, force: true });
    throw new Error('cannot-start ' + String(e.message).split('\n')[0]);
  }
  const close = async () => {
    try { await browser.close(); } catch (e) { /* already gone */ }
    // Chromium's helper processes may still be writing into the profile for a moment.
    try {
      fs.rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
    } catch (e) {
      console.log('warning: could not remove ' + profile + ': ' + e.message);
    }
  };
  return { browser, close };
}

/// The page's window.veter figures, flattened.
function readState() {
  const v = window.veter || {};
  const st = v.stats || {};
  return { state: v.state, error: v.error, connects: v.connects, frames: st.totalFrames || 0,
           framesDecoded: st.framesDecoded || 0, width: st.frameWidth || 0, height: st.frameHeight || 0,
           fps: st.fps || 0, lost: st.packetsLost || 0, nack: st.nackCount || 0, pli: st.pliCount || 0,
           jitterBufferMs: st.jitterBufferMs || 0, latencyMs: st.latencyMs, bitrateKbps: st.bitrateKbps || 0,
           timing: v.timing || {} };
}

module.exports = { launch, readState };
