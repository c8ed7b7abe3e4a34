// VETER player: WHEP (POST offer, PATCH trickle, DELETE) against the relay that
// serves this page, a <video> element, and a HUD with live figures from getStats.
// No build step, no external scripts. State for tests and tools: window.veter.
'use strict';
(function () {
  const video = document.getElementById('video');
  const hud = document.getElementById('hud');
  const msg = document.getElementById('msg');
  const login = document.getElementById('login');
  const params = new URLSearchParams(location.search);
  const path = decodeURIComponent(location.pathname.replace(/^\/+|\/+$/g, ''));
  const whepUrl = '/' + encodeURIComponent(path) + '/whep';
  // Unix ms -> NTP ms (RTCP sender reports and estimatedPlayoutTimestamp use NTP time).
  const NTP_OFFSET_MS = 2208988800000;

  const state = window.veter = {
    state: 'connecting', error: '', connects: 0, failures: 0, stats: {}, statsHistory: [],
    // Milliseconds since the script started (performance.now): the first join's milestones.
    timing: { start: performance.now() },
  };
  function mark(name) { if (state.timing[name] === undefined) state.timing[name] = performance.now() - state.timing.start; }
  // The first decoded frame shown (requestVideoFrameCallback where available, else 'loadeddata').
  if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(() => mark('firstFrame'));
  else video.addEventListener('loadeddata', () => mark('firstFrame'), { once: true });
  let auth = '';
  if (params.get('token')) auth = 'Bearer ' + params.get('token');
  else if (params.get('user')) auth = 'Basic ' + btoa(params.get('user') + ':' + (params.get('pass') || ''));

  let pc = null;
  let session = null;   // Location of the WHEP session
  let retryTimer = null;
  let watchdog = null;
  let last = null;      // previous inbound-rtp report (for rates)

  function show(text) { msg.textContent = text; msg.style.display = text ? 'block' : 'none'; }
  function headers(extra) {
    const h = Object.assign({}, extra || {});
    if (auth) h.Authorization = auth;
    return h;
  }

  function parseLinks(value) {
    // Link: <stun:host:port>; rel="ice-server", <turn:...>; rel="ice-server"; username="u"; credential="p"
    const servers = [];
    if (!value) return servers;
    for (const part of value.split(/,(?=\s*<)/)) {
      const m = part.match(/<([^>]+)>/);
      if (!m || !/rel="ice-server"/.test(part)) continue;
      const s = { urls: m[1] };
      const u = part.match(/username="([^"]*)"/); if (u) s.username = u[1];
      const c = part.match(/credential="([^"]*)"/); if (c) s.credential = c[1];
      servers.push(s);
    }
    return servers;
  }

  function close() {
    if (watchdog) { clearTimeout(watchdog); watchdog = null; }
    if (session) {
      fetch(session, { method: 'DELETE', headers: headers() }).catch(() => {});
      session = null;
    }
    if (pc) { pc.close(); pc = null; }
  }

  function retry(why) {
    close();
    state.state = 'reconnecting';
    state.failures += 1;
    show('reconnecting: ' + why);
    const delay = Math.min(5000, 500 * state.failures);
    if (!retryTimer) retryTimer = setTimeout(() => { retryTimer = null; connect(); }, delay);
  }

  async function connect() {
    state.state = 'connecting';
    let iceServers = [];
    try {
      const opt = await fetch(whepUrl, { method: 'OPTIONS', headers: headers() });
      iceServers = parseLinks(opt.headers.get('Link'));
    } catch (e) { /* the POST below reports the error */ }
    pc = new RTCPeerConnection({ iceServers });
    const mine = pc;
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.ontrack = (ev) => { video.srcObject = ev.streams[0] || new MediaStream([ev.track]); };
    const early = [];
    pc.onicecandidate = (ev) => {
      if (!ev.candidate || !ev.candidate.candidate) return;
      if (session) trickle([ev.candidate]); else early.push(ev.candidate);
    };
    pc.onconnectionstatechange = () => {
      if (pc !== mine) return;
      if (pc.connectionState === 'connected') {
        state.state = 'playing'; state.connects += 1; state.failures = 0; show('');
        mark('connected');
      } else if (pc.connectionState === 'failed' || pc.connectionState === 'closed') {
        retry('connection ' + pc.connectionState);
      } else if (pc.connectionState === 'disconnected') {
        // ICE may recover by itself; give it a moment.
        setTimeout(() => { if (pc === mine && pc.connectionState === 'disconnected') retry('connection lost'); }, 2000);
      }
    };
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    mark('offer');
    let res;
    try {
      res = await fetch(whepUrl, { method: 'POST', headers: headers({ 'Content-Type': 'application/sdp' }), body: offer.sdp });
    } catch (e) {
      retry('relay unreachable');
      return;
    }
    if (pc !== mine) return;
    if (res.status === 401) {
      const body = await res.json().catch(() => ({}));
      state.state = 'unauthorized';
      state.error = body.error || 'unauthorized';
      close();
      show('not authorised: ' + state.error);
      login.style.display = 'flex';
      return;
    }
    if (res.status !== 201) {
      const body = await res.text();
      state.error = 'HTTP ' + res.status + ' ' + body;
      retry(state.error);
      return;
    }
    mark('answer');
    session = new URL(res.headers.get('Location'), location.href).toString();
    await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
    if (early.length) trickle(early.splice(0));
    // No media within 10 s of the answer: start over.
    watchdog = setTimeout(() => { if (pc === mine && !state.stats.framesDecoded) retry('no video'); }, 10000);
  }

  function trickle(cands) {
    const mid = cands[0].sdpMid || '0';
    let frag = 'a=mid:' + mid + '\r\n';
    for (const c of cands) frag += 'a=' + c.candidate + '\r\n';
    fetch(session, { method: 'PATCH', headers: headers({ 'Content-Type': 'application/trickle-ice-sdpfrag' }), body: frag })
      .catch(() => {});
  }

  async function poll() {
    if (!pc) return;
    const report = await pc.getStats();
    let inbound = null;
    report.forEach((r) => { if (r.type === 'inbound-rtp' && r.kind === 'video') inbound = r; });
    if (!inbound) return;
    const s = {
      framesDecoded: inbound.framesDecoded || 0,
      frameWidth: inbound.frameWidth || 0,
      frameHeight: inbound.frameHeight || 0,
      fps: inbound.framesPerSecond || 0,
      packetsLost: inbound.packetsLost || 0,
      nackCount: inbound.nackCount || 0,
      pliCount: inbound.pliCount || 0,
      bytesReceived: inbound.bytesReceived || 0,
      bitrateKbps: 0,
      jitterBufferMs: inbound.jitterBufferEmittedCount ? 1000 * inbound.jitterBufferDelay / inbound.jitterBufferEmittedCount : 0,
      latencyMs: null,
    };
    if (last && inbound.timestamp > last.timestamp) {
      s.bitrateKbps = 8 * (s.bytesReceived - last.bytesReceived) / (inbound.timestamp - last.timestamp);
      if (s.framesDecoded < last.framesDecoded) s.framesDecoded = last.framesDecoded;
    }
    // Latency: the RTP timestamp of the frame being played, mapped to wall clock
    // through the relay's RTCP sender reports (Chrome's estimatedPlayoutTimestamp),
    // against this machine's clock. See docs/webrtc.md for what it covers.
    if (inbound.estimatedPlayoutTimestamp) {
      s.latencyMs = (Date.now() + NTP_OFFSET_MS) - inbound.estimatedPlayoutTimestamp;
    }
    // Carry the decoded-frame count across reconnects (tests watch it grow).
    const base = state.framesBase || 0;
    if (last && inbound.framesDecoded < (last.rawFrames || 0)) state.framesBase = base + last.rawFrames;
    s.totalFrames = (state.framesBase || 0) + (inbound.framesDecoded || 0);
    last = { timestamp: inbound.timestamp, bytesReceived: s.bytesReceived, framesDecoded: s.framesDecoded, rawFrames: inbound.framesDecoded || 0 };
    state.stats = s;
    state.statsHistory.push({ t: Date.now(), frames: s.totalFrames });
    if (state.statsHistory.length > 120) state.statsHistory.shift();
    hud.textContent =
      `${path}  ${state.state}\n` +
      `${s.frameWidth}x${s.frameHeight}  ${s.fps.toFixed(0)} fps  ${(s.bitrateKbps / 1000).toFixed(2)} Mbit/s\n` +
      `lost ${s.packetsLost}  nack ${s.nackCount}  pli ${s.pliCount}\n` +
      `jitter buffer ${s.jitterBufferMs.toFixed(0)} ms` +
      (s.latencyMs !== null ? `  latency ${s.latencyMs.toFixed(0)} ms` : '');
  }

  document.getElementById('login-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const u = document.getElementById('login-user').value;
    const p = document.getElementById('login-pass').value;
    auth = u ? 'Basic ' + btoa(u + ':' + p) : 'Bearer ' + p;
    login.style.display = 'none';
    state.error = '';
    connect();
  });
  window.addEventListener('pagehide', close);
  setInterval(() => { poll().catch(() => {}); }, 1000);
  connect().catch((e) => retry(String(e)));
})();
