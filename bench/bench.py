#!/usr/bin/env python3
"""veter benchmark suite (called by bench/run.sh; see bench/README.md).

Runs on loopback: latency (capture -> viewer), time to first frame, relay fan-out and
publisher CPU, each beside its baseline measured in the same run, and writes a Markdown
report (medians over N runs, ratios against the baseline) plus gnuplot PNG plots.
"""
import argparse
import datetime
import json
import os
import random
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


# ---------------------------------------------------------------- processes and ports

def free_port(kind=socket.SOCK_DGRAM, pair=False):
    for _ in range(200):
        s = socket.socket(socket.AF_INET, kind)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        if pair:
            if port % 2 or port > 65000:
                continue
            t = socket.socket(socket.AF_INET, kind)
            try:
                t.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
            finally:
                t.close()
        return port
    raise RuntimeError("no free port")


def free_tcp():
    return free_port(socket.SOCK_STREAM)


class Proc:
    """A process we started; stopped (SIGTERM, then SIGKILL) by stop()."""

    def __init__(self, name, argv, workdir):
        self.name = name
        self.argv = argv
        self.log = os.path.join(workdir, f"{name}-{int(time.time() * 1000)}.log")
        self.p = subprocess.Popen(argv, stdout=open(self.log, "w"), stderr=subprocess.STDOUT,
                                  start_new_session=True)

    @property
    def pid(self):
        return self.p.pid

    def alive(self):
        return self.p.poll() is None

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(3)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(3)

    def tail(self, n=5):
        try:
            with open(self.log) as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    hz = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / hz


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


# ---------------------------------------------------------------- UDP proxy (fast-start switch)

class UdpProxy:
    """Forwards publisher -> relay RTP and RTCP through two local sockets.

    With feedback=True the relay's RTCP (receiver reports, PLI/FIR) is forwarded back to
    the publisher; with feedback=False it is dropped, which disables the relay's keyframe
    request without touching the relay. Both variants pay the same proxy hop.
    """

    def __init__(self, relay_rtp_port, feedback):
        self.feedback = feedback
        self.rtp_in = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtcp_in = None
        port = free_port(pair=True)
        self.rtp_in.bind(("127.0.0.1", port))
        self.rtcp_in = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtcp_in.bind(("127.0.0.1", port + 1))
        self.listen_port = port
        # Sockets towards the relay (the relay sees these as "the publisher").
        out_port = free_port(pair=True)
        self.rtp_out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtp_out.bind(("127.0.0.1", out_port))
        self.rtcp_out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtcp_out.bind(("127.0.0.1", out_port + 1))
        self.relay = ("127.0.0.1", relay_rtp_port)
        self.relay_rtcp = ("127.0.0.1", relay_rtp_port + 1)
        self.publisher_rtcp = None
        self.dropped_feedback = 0
        self.forwarded_feedback = 0
        self.stop_flag = False
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        sel = selectors.DefaultSelector()
        for s in (self.rtp_in, self.rtcp_in, self.rtcp_out, self.rtp_out):
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ)
        while not self.stop_flag:
            for key, _ in sel.select(0.2):
                s = key.fileobj
                try:
                    data, addr = s.recvfrom(65536)
                except OSError:
                    continue
                if s is self.rtp_in:
                    self.rtp_out.sendto(data, self.relay)
                elif s is self.rtcp_in:
                    self.publisher_rtcp = addr
                    self.rtcp_out.sendto(data, self.relay_rtcp)
                elif s is self.rtcp_out or s is self.rtp_out:
                    if self.feedback and self.publisher_rtcp:
                        self.rtcp_in.sendto(data, self.publisher_rtcp)
                        self.forwarded_feedback += 1
                    else:
                        self.dropped_feedback += 1

    def close(self):
        self.stop_flag = True
        self.thread.join(2)
        for s in (self.rtp_in, self.rtcp_in, self.rtp_out, self.rtcp_out):
            s.close()


# ---------------------------------------------------------------- the chains

SDP = """v=0
o=- 0 0 IN IP4 127.0.0.1
s=VETER Camera
c=IN IP4 127.0.0.1
t=0 0
m=video {port} RTP/AVP 96
a=rtpmap:96 H264/90000
a=fmtp:96 packetization-mode=1
"""


class Bench:
    def __init__(self, args):
        self.args = args
        self.bin = args.bin_dir
        self.work = tempfile.mkdtemp(prefix="veter-bench-")
        self.procs = []
        self.notes = []

    def exe(self, name):
        for sub in ("src/probe", "src/publisher", "src/relay", "bench/tools"):
            p = os.path.join(self.bin, sub, name)
            if os.path.exists(p):
                return p
        raise SystemExit(f"{name} not found under {self.bin}")

    def start(self, name, argv):
        p = Proc(name, argv, self.work)
        self.procs.append(p)
        return p

    def stop_all(self):
        for p in reversed(self.procs):
            p.stop()
        self.procs = []

    # -- senders
    def publisher(self, port, size="1280x720", fps=30, kbps=2000):
        local = free_port(pair=True)
        return self.start("publisher", [self.exe("veter-publisher"), size, str(fps), str(kbps), "--source", "test",
                                        "--host", "127.0.0.1", "--port", str(port), "--local-port", str(local)])

    def noise_sender(self, port):
        return self.start("sender", [self.exe("veter-bench-sender"), str(port), "1280", "720", "30", "2000", "snow"])

    # -- relays
    def veter_relay(self, ingest, rtsp, log_level="warn", record_dir=None):
        udp = free_port(pair=True)
        record = ""
        if record_dir:
            # Recording on: fMP4 segments from the forwarded packets (docs/recording.md).
            record = f"""    record: {{ enabled: true, dir: "{record_dir}", segment: 1m, format: fmp4 }}
"""
        cfg = os.path.join(self.work, f"relay-{rtsp}.yml")
        with open(cfg, "w") as f:
            f.write(f"""log_level: {log_level}
rtsp:
  listen: "127.0.0.1:{rtsp}"
  udp_port_range: "{udp}-{udp + 1}"
  max_connections: 0                # every bench viewer comes from 127.0.0.1: no per-address cap
  max_connections_per_address: 0
api: {{ enabled: false }}
metrics: {{ enabled: false }}
paths:
  camera:
    ingest:
      listen: "127.0.0.1:{ingest}"
{record}""")
        return self.start("relay", [self.exe("veter-relay"), "--config", cfg])

    def textbook_relay(self, ingest, rtsp):
        return self.start("textbook", [self.exe("veter-bench-textbook-relay"), str(ingest), str(rtsp), "camera"])

    def seed_relay(self, ingest, client_port):
        """ffmpeg -c copy (the seed's relay) publishing to rtsp-server-perl (MediaMTX stand-in)."""
        source_port = free_tcp()
        rtp_start = free_port(pair=True)
        srv = self.start("rtsp-server-perl", ["rtsp-server-perl", "--clientport", str(client_port), "--serverport",
                                              str(source_port), "--rtp_start_port", str(rtp_start),
                                              "--client_listen_address", "127.0.0.1",
                                              "--source_listen_address", "127.0.0.1", "--loglevel", "1"])
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", source_port), 0.5).close()
                break
            except OSError:
                time.sleep(0.1)
        sdp = os.path.join(self.work, f"camera-{ingest}.sdp")
        with open(sdp, "w") as f:
            f.write(SDP.format(port=ingest))
        ff = self.start("ffmpeg", ["ffmpeg", "-hide_banner", "-loglevel", "error", "-protocol_whitelist",
                                   "file,udp,rtp", "-i", sdp, "-c", "copy", "-f", "rtsp", "-rtsp_transport", "udp",
                                   f"rtsp://127.0.0.1:{source_port}/camera"])
        return srv, ff

    # -- the probe
    def probe(self, url, duration, transport="tcp", decode=False, samples=None, timeout_extra=20):
        argv = [self.exe("veter-probe"), url, "--duration", str(duration), "--json", "--transport", transport]
        if decode:
            argv.append("--decode")
        if samples:
            argv += ["--samples", samples]
        try:
            out = subprocess.run(argv, capture_output=True, text=True, timeout=duration + timeout_extra)
        except subprocess.TimeoutExpired:
            return {"exit_code": -1, "error": "probe timed out", "frames": 0}
        try:
            return json.loads(out.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            return {"exit_code": out.returncode, "error": out.stderr[-300:], "frames": 0}

    def wait_ready(self, url, transport="tcp", timeout=20.0):
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            last = self.probe(url, 1.0, transport)
            if last.get("exit_code") == 0:
                return True
            time.sleep(0.3)
        print(f"  ! {url} not ready after {timeout:.0f} s: {last and last.get('error')}", flush=True)
        return False


# ---------------------------------------------------------------- statistics helpers

def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def pct(xs, q):
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    pos = q * (len(xs) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def fmt(x, digits=1, unit=""):
    if x is None:
        return "n/a"
    return f"{x:.{digits}f}{unit}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "n/a"
    return f"{a / b:.2f}×"


# ---------------------------------------------------------------- 1. latency

def bench_latency(b, runs, duration, out):
    chains = [
        ("direct", "publisher → probe (no relay; rtp://)", "rtp-direct"),
        ("veter-tcp", "publisher → veter-relay → probe (TCP)", "tcp"),
        ("veter-udp", "publisher → veter-relay → probe (UDP)", "udp"),
        ("textbook-tcp", "publisher → textbook gst-rtsp-server relay → probe (TCP)", "tcp"),
        ("seed-udp", "publisher → ffmpeg -c copy → rtsp-server-perl → probe (UDP)", "udp"),
    ]
    results = {c[0]: [] for c in chains}
    samples = {c[0]: [] for c in chains}
    for run in range(runs):
        for key, label, transport in chains:
            if key == "veter-udp":
                continue  # measured together with veter-tcp on the same chain instance
            ingest = free_port(pair=True)
            rtsp = free_tcp()
            if key == "direct":
                b.publisher(ingest)
                time.sleep(1.0)
                urls = [(key, f"rtp://@:{ingest}", "tcp")]
            elif key == "veter-tcp":
                b.veter_relay(ingest, rtsp)
                b.publisher(ingest)
                url = f"rtsp://127.0.0.1:{rtsp}/camera"
                urls = [("veter-tcp", url, "tcp"), ("veter-udp", url, "udp")]
            elif key == "textbook-tcp":
                b.textbook_relay(ingest, rtsp)
                b.publisher(ingest)
                urls = [(key, f"rtsp://127.0.0.1:{rtsp}/camera", "tcp")]
            else:
                b.seed_relay(ingest, rtsp)
                b.publisher(ingest)
                # rtsp-server-perl resolves the stream's relative control URL only below the
                # mount, so viewers address the stream itself (see bench/README.md).
                urls = [(key, f"rtsp://127.0.0.1:{rtsp}/camera/streamid=0", "udp")]
            for k, url, tr in urls:
                if not url.startswith("rtp://") and not b.wait_ready(url, tr):
                    results[k].append({"exit_code": -1, "error": "not ready"})
                    continue
                sfile = os.path.join(b.work, f"lat-{k}-{run}.txt")
                r = b.probe(url, duration, tr, samples=sfile)
                results[k].append(r)
                if os.path.exists(sfile):
                    with open(sfile) as f:
                        samples[k] += [float(x) for x in f if x.strip()]
                lat = (r.get("latency") or {}).get("capture_to_arrival_ms") or {}
                print(f"  latency run {run + 1}/{runs} {k:13s} p50 {fmt(lat.get('p50'))} ms "
                      f"p99 {fmt(lat.get('p99'))} ms fps {fmt(r.get('fps'))} {r.get('error') or ''}", flush=True)
            b.stop_all()

    def stat(key, field):
        vals = []
        for r in results[key]:
            lat = (r.get("latency") or {}).get("capture_to_arrival_ms")
            if r.get("exit_code") == 0 and lat:
                vals.append(lat[field])
        return med(vals)

    seed_p50 = stat("seed-udp", "p50")
    direct_p50 = stat("direct", "p50")
    direct_p99 = stat("direct", "p99")
    rows = []
    for key, label, transport in chains:
        ok = sum(1 for r in results[key] if r.get("exit_code") == 0)
        p50, p95, p99, mx = (stat(key, f) for f in ("p50", "p95", "p99", "max"))
        fps = med([r.get("fps") for r in results[key] if r.get("exit_code") == 0])
        added50 = None if p50 is None or direct_p50 is None or key == "direct" else p50 - direct_p50
        added99 = None if p99 is None or direct_p99 is None or key == "direct" else p99 - direct_p99
        rows.append(f"| {label} | {ok}/{len(results[key])} | {fmt(p50)} | {fmt(p95)} | {fmt(p99)} | {fmt(mx)} | "
                    f"{fmt(added50)} | {fmt(added99)} | {fmt(fps)} | {ratio(p50, seed_p50)} |")
    out.append("## 1. Latency: capture → viewer arrival\n")
    out.append(f"1280x720@30, 2000 kbit/s, x264 (veter-publisher `--source test`), {runs} runs × {duration} s per "
               "chain, probe without decoding (capture-to-arrival of each frame's last packet, from the SEI stamp). "
               "Each number is the median over the runs of that run's percentile. \"Relay adds\" = chain minus the "
               "direct publisher → probe path measured in the same run (encoder output → viewer). "
               "Ratio = p50 against the seed chain's p50.\n")
    out.append("| chain | ok runs | p50 ms | p95 ms | p99 ms | max ms | relay adds p50 ms | relay adds p99 ms | fps | "
               "p50 vs seed |")
    out.append("|---|---|---|---|---|---|---|---|---|---|")
    out += rows
    out.append("")
    out.append("The seed chain's media server is rtsp-server-perl (Debian) standing in for MediaMTX, which is not "
               "packaged for Debian: it accepts RTSP publishing but serves viewers over UDP only, so FFmpeg pushes "
               "into it with `-rtsp_transport udp` and the probe reads it over UDP.\n")
    return results, samples


# ---------------------------------------------------------------- 2. time to first frame

def bench_ttff(b, joins, out):
    variants = [
        ("veter", "veter-relay, keyframe request on (RTCP passed back)", "veter", True),
        ("veter-nokf", "veter-relay, keyframe request dropped", "veter", False),
        ("textbook", "textbook gst-rtsp-server relay", "textbook", None),
        ("seed", "seed chain (ffmpeg → rtsp-server-perl, UDP)", "seed", None),
    ]
    res = {}
    for key, label, kind, feedback in variants:
        ingest = free_port(pair=True)
        rtsp = free_tcp()
        proxy = None
        transport = "tcp"
        if kind == "veter":
            b.veter_relay(ingest, rtsp)
            proxy = UdpProxy(ingest, feedback)
            b.publisher(proxy.listen_port)
            url = f"rtsp://127.0.0.1:{rtsp}/camera"
        elif kind == "textbook":
            b.textbook_relay(ingest, rtsp)
            b.publisher(ingest)
            url = f"rtsp://127.0.0.1:{rtsp}/camera"
        else:
            b.seed_relay(ingest, rtsp)
            b.publisher(ingest)
            url = f"rtsp://127.0.0.1:{rtsp}/camera/streamid=0"
            transport = "udp"
        if kind != "textbook":
            b.wait_ready(url, transport)
        else:
            time.sleep(1.5)  # the textbook relay builds its pipeline on the first DESCRIBE
        rs = []
        rnd = random.Random(7)
        for j in range(joins):
            time.sleep(rnd.uniform(0.05, 1.0))  # join at a random point of the GOP
            r = b.probe(url, 1.5, transport)
            rs.append(r)
        res[key] = (label, rs, proxy.forwarded_feedback if proxy else None, proxy.dropped_feedback if proxy else None)
        print(f"  ttff {key:10s} p50 {fmt(med([r.get('time_to_first_frame_ms') for r in rs]))} ms "
              f"ok {sum(1 for r in rs if r.get('exit_code') == 0)}/{len(rs)}", flush=True)
        b.stop_all()
        if proxy:
            proxy.close()
    base = med([r.get("time_to_first_frame_ms") for r in res["textbook"][1]])
    seed = med([r.get("time_to_first_frame_ms") for r in res["seed"][1]])
    out.append("## 2. Time to first frame for a joining viewer\n")
    out.append(f"{joins} joins per variant at random points of the 1 s GOP (publisher 1280x720@30, keyframe every "
               "30 frames); each join is a fresh `veter-probe --duration 1.5` (TCP; UDP for the seed chain). Time "
               "to first frame = from the probe's start to its first decodable frame (an IDR with SPS/PPS), "
               "connection set-up included. Age = that frame's capture → arrival: a fresh frame is young, a "
               "replayed cached one is old. For the keyframe-request comparison the publisher reaches the same "
               "relay through a small UDP proxy in bench.py that either passes the relay's RTCP back (PLI/FIR "
               "reach the publisher) or drops it (no keyframe request), so both variants pay the same hop.\n")
    out.append("| variant | ok joins | TTFF p50 ms | TTFF p90 ms | TTFF max ms | first-frame age p50 ms | connect p50 ms "
               "| vs textbook | vs seed |")
    out.append("|---|---|---|---|---|---|---|---|---|")
    for key, (label, rs, fwd, drop) in res.items():
        t = [r.get("time_to_first_frame_ms") for r in rs if r.get("exit_code") == 0]
        age = [r.get("first_frame_age_ms") for r in rs if r.get("exit_code") == 0]
        con = [r.get("time_to_connect_ms") for r in rs if r.get("exit_code") == 0]
        extra = ""
        if fwd is not None:
            extra = f" (RTCP back: {fwd} passed, {drop} dropped)"
        out.append(f"| {label}{extra} | {len(t)}/{len(rs)} | {fmt(med(t))} | {fmt(pct(t, 0.9))} | "
                   f"{fmt(max(t) if t else None)} | {fmt(med(age))} | {fmt(med(con))} | {ratio(med(t), base)} | "
                   f"{ratio(med(t), seed)} |")
    out.append("")
    return res


# ---------------------------------------------------------------- 3. fan-out

def dir_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except OSError:
                pass
    return total


def bench_fanout(b, runs, counts, window, out, record=False):
    relays = [("veter", "veter-relay"), ("textbook", "textbook gst-rtsp-server")]
    if record:
        # The same relay with recording on, interleaved with the others in every run.
        relays.insert(1, ("veter-rec", "veter-relay, recording on"))
    recorded = []  # bytes written per recording run
    data = {(r, n): [] for r, _ in relays for n in counts}
    lat = {(r, n): [] for r, _ in relays for n in counts}
    for run in range(runs):
        for key, _ in relays:
            ingest = free_port(pair=True)
            rtsp = free_tcp()
            rec_dir = os.path.join(b.work, f"rec-{run}") if key == "veter-rec" else None
            if key == "textbook":
                relay = b.textbook_relay(ingest, rtsp)
            else:
                relay = b.veter_relay(ingest, rtsp, record_dir=rec_dir)
            b.noise_sender(ingest)
            url = f"rtsp://127.0.0.1:{rtsp}/camera"
            if key != "textbook":
                b.wait_ready(url)
            else:
                time.sleep(1.0)
            for n in counts:
                reader = subprocess.Popen([b.exe("veter-bench-reader"), "--url", url, "--viewers", str(n),
                                           "--settle", "1.5", "--window", str(window), "--pid", str(relay.pid),
                                           "--connect-timeout", "30"], stdout=subprocess.PIPE, text=True)
                # One probe viewer beside the readers: latency through the loaded relay.
                time.sleep(1.0)
                pr = b.probe(url, window, "tcp")
                try:
                    o, _ = reader.communicate(timeout=window + 60)
                    r = json.loads(o.strip().splitlines()[-1])
                except (subprocess.TimeoutExpired, ValueError, IndexError):
                    reader.kill()
                    r = {"error": "reader failed"}
                data[(key, n)].append(r)
                lat[(key, n)].append(pr)
                pl = (pr.get("latency") or {}).get("capture_to_arrival_ms") or {}
                print(f"  fanout run {run + 1}/{runs} {key:8s} {n:4d} viewers: cpu {fmt(r.get('cpu_percent'))}% "
                      f"rss {fmt(r.get('rss_mb'))} MB streaming {r.get('streaming')} min rate "
                      f"{fmt((r.get('rate_kbps') or {}).get('min'), 0)} kbit/s probe p50 {fmt(pl.get('p50'))} "
                      f"p99 {fmt(pl.get('p99'))}", flush=True)
                if not relay.alive():
                    print(f"  ! {key} relay died: {relay.tail()}", flush=True)
                    break
            b.stop_all()
            if rec_dir:
                recorded.append(dir_bytes(rec_dir))
                print(f"  fanout run {run + 1}/{runs} recording wrote {recorded[-1] / 1e6:.1f} MB", flush=True)
                shutil.rmtree(rec_dir, ignore_errors=True)
    out.append("## 3. Relay fan-out: CPU, memory, every viewer's rate\n")
    out.append(f"{runs} runs; per run each relay is started fresh and fed by `veter-bench-sender` (the publisher's "
               "x264 settings and SEI stamps, 1280x720@30 at 2000 kbit/s, but a noise pattern so that the stream "
               "really is ~2 Mbit/s: the publisher's own test pattern compresses to ~0.35 Mbit/s). Viewers are TCP "
               "(interleaved) sessions of `veter-bench-reader`, which only counts bytes; after all are playing and "
               f"1.5 s of settling, the relay's CPU (utime+stime from /proc, % of one core) and RSS are measured "
               f"over a {window} s window, with every viewer's received rate. One `veter-probe` viewer joins beside "
               "them and reports capture → arrival latency through the loaded relay. Medians over the runs; "
               "\"full rate\" = viewers receiving ≥ 90 % of the median viewer's rate.\n")
    out.append("| viewers | relay | CPU % | RSS MB | viewers playing | full rate | min / median kbit/s | "
               "probe p50 ms | probe p99 ms | CPU vs textbook | RSS vs textbook |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|")
    plot_rows = []
    notes = []
    for n in counts:
        vals = {}
        rows = {}
        for key, label in relays:
            rs = [r for r in data[(key, n)] if "cpu_percent" in r]
            cpu = med([r["cpu_percent"] for r in rs])
            rss = med([r["rss_mb"] for r in rs])
            playing = med([r.get("streaming") for r in rs])
            full = []
            for r in rs:
                per = r.get("per_viewer_kbps") or []
                m = statistics.median(per) if per else 0
                full.append(sum(1 for x in per if m and x >= 0.9 * m))
            mins = med([(r.get("rate_kbps") or {}).get("min") for r in rs])
            p50s = med([(r.get("rate_kbps") or {}).get("p50") for r in rs])
            pl = [((p.get("latency") or {}).get("capture_to_arrival_ms") or {}) for p in lat[(key, n)]]
            vals[key] = (cpu, rss)
            rows[key] = (label, cpu, rss, playing, full, mins, p50s, pl)
            errs = {}
            for r in data[(key, n)]:
                for e, c in (r.get("errors") or {}).items():
                    errs[e] = errs.get(e, 0) + c
            if errs:
                notes.append(f"{label}, {n} viewers, summed over the runs: " +
                             "; ".join(f"{c} × {e}" for e, c in errs.items()))
        tb = vals.get("textbook", (None, None))
        plain = vals.get("veter", (None, None))
        for key, (label, cpu, rss, playing, full, mins, p50s, pl) in rows.items():
            out.append(f"| {n} | {label} | {fmt(cpu)} | {fmt(rss)} | {fmt(playing, 0)}/{n} | {fmt(med(full), 0)}/{n} | "
                       f"{fmt(mins, 0)} / {fmt(p50s, 0)} | {fmt(med([x.get('p50') for x in pl]))} | "
                       f"{fmt(med([x.get('p99') for x in pl]))} | "
                       f"{ratio(cpu, tb[0]) if key == 'veter' else ''}"
                       f"{ratio(cpu, plain[0]) + ' of off' if key == 'veter-rec' else ''} | "
                       f"{ratio(rss, tb[1]) if key == 'veter' else ''}"
                       f"{ratio(rss, plain[1]) + ' of off' if key == 'veter-rec' else ''} |")
        plot_rows.append((n, vals.get("veter", (None, None)), tb))
    out.append("")
    if record:
        out.append("\"veter-relay, recording on\": the same relay with `paths.camera.record` on (fMP4, 1 min "
                   "segments, in a directory on the run's disk); its ratio columns compare it with the relay with "
                   "recording off in the same runs. Bytes recorded per run: " +
                   ", ".join(f"{x / 1e6:.1f} MB" for x in recorded) + ".\n")
    if notes:
        out.append("Viewers that did not play (reader's reasons):\n")
        out += [f"- {x}" for x in notes]
        out.append("")
    return data, lat, plot_rows


# ---------------------------------------------------------------- 4. publisher CPU

def seed_publisher_pipeline(port, dry_run_source):
    # The seed's start_camera_mediamtx.sh pipeline (x264enc low-latency, baseline, RTP to UDP),
    # with the same test source as veter-publisher --source test so that only the rest differs.
    return (f"{dry_run_source} ! x264enc tune=zerolatency speed-preset=ultrafast bitrate=2000 key-int-max=30 ! "
            f"video/x-h264,profile=baseline ! rtph264pay config-interval=1 pt=96 ! "
            f"udpsink host=127.0.0.1 port={port} sync=false")


def publisher_source(b):
    out = subprocess.run([b.exe("veter-publisher"), "1280x720", "30", "2000", "--source", "test", "--host",
                          "127.0.0.1", "--port", "9", "--dry-run"], capture_output=True, text=True, timeout=30)
    for line in out.stdout.splitlines():
        if line.startswith("pipeline:"):
            desc = line.split(":", 1)[1]
            start = desc.index("videotestsrc")
            end = desc.index("! x264enc")
            return desc[start:end].strip(), line
    raise RuntimeError("cannot read the publisher's pipeline from --dry-run: " + out.stdout + out.stderr)


def bench_publisher_cpu(b, runs, window, out):
    source, veter_line = publisher_source(b)
    res = {"veter": [], "seed": []}
    for run in range(runs):
        for key in ("veter", "seed"):
            port = free_port(pair=True)
            sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # a receiver so no ICMP errors
            sink.bind(("127.0.0.1", port))
            if key == "veter":
                p = b.publisher(port)
            else:
                p = b.start("seed-publisher", ["gst-launch-1.0", "-q"] + seed_publisher_pipeline(port, source).split())
            time.sleep(2.0)
            if not p.alive():
                print(f"  ! {key} publisher died: {p.tail()}", flush=True)
                res[key].append(None)
                b.stop_all()
                sink.close()
                continue
            c0 = cpu_seconds(p.pid)
            t0 = time.time()
            got = 0
            sink.settimeout(0.2)
            while time.time() - t0 < window:
                try:
                    got += len(sink.recv(65536))
                except socket.timeout:
                    pass
            c1 = cpu_seconds(p.pid)
            dt = time.time() - t0
            res[key].append({"cpu_per_video_s": (c1 - c0) / dt, "kbps": got * 8 / 1000 / dt, "rss": rss_mb(p.pid)})
            print(f"  publisher cpu run {run + 1}/{runs} {key:6s} {100 * (c1 - c0) / dt:.1f}% of a core, "
                  f"{got * 8 / 1000 / dt:.0f} kbit/s sent", flush=True)
            b.stop_all()
            sink.close()
    v = med([r["cpu_per_video_s"] for r in res["veter"] if r])
    s = med([r["cpu_per_video_s"] for r in res["seed"] if r])
    out.append("## 4. Publisher CPU\n")
    out.append(f"CPU time (user+sys) per second of video, 1280x720@30, 2000 kbit/s, x264, {runs} runs × {window} s, "
               "medians. Both use the same test source (videotestsrc + clock overlay, taken from "
               "`veter-publisher --dry-run`); the seed pipeline is reconstructed from the seed's documentation "
               "(x264enc low-latency profile, baseline, RTP to UDP: the script itself is not in the reference), "
               "run with `gst-launch-1.0`:\n")
    out.append("```\ngst-launch-1.0 " + seed_publisher_pipeline("PORT", source) + "\n```\n")
    out.append("veter-publisher's pipeline (`--dry-run`):\n")
    out.append("```\n" + veter_line + "\n```\n")
    out.append("| publisher | ok runs | CPU s per s of video | sent kbit/s | RSS MB | vs seed |")
    out.append("|---|---|---|---|---|---|")
    for key, label in (("veter", "veter-publisher --source test"), ("seed", "seed gst-launch pipeline")):
        rs = [r for r in res[key] if r]
        c = med([r["cpu_per_video_s"] for r in rs])
        out.append(f"| {label} | {len(rs)}/{len(res[key])} | {fmt(c, 3)} | {fmt(med([r['kbps'] for r in rs]), 0)} | "
                   f"{fmt(med([r['rss'] for r in rs]))} | {ratio(c, s) if key == 'veter' else ''} |")
    out.append("")
    out.append("The same encoder at the same bitrate sends different amounts because x264's rate control "
               "undershoots on an easy test pattern; \"sent kbit/s\" shows what each actually produced.\n")
    return res


# ---------------------------------------------------------------- plots

def plots(b, samples, fan_rows, outdir):
    gp = shutil.which("gnuplot")
    if not gp:
        return ["(gnuplot missing: no plots)"]
    made = []
    cdf_files = []
    for key, xs in samples.items():
        if not xs:
            continue
        xs = sorted(xs)
        path = os.path.join(b.work, f"cdf-{key}.dat")
        with open(path, "w") as f:
            for i, x in enumerate(xs):
                f.write(f"{x} {(i + 1) / len(xs)}\n")
        cdf_files.append((key, path))
    if cdf_files:
        png = os.path.join(outdir, "latency_cdf.png")
        plot = ", ".join(f"'{p}' using 1:2 with lines lw 2 title '{k}'" for k, p in cdf_files)
        script = (f"set terminal pngcairo size 900,500; set output '{png}'; set logscale x; "
                  "set xlabel 'capture -> arrival latency (ms, log scale)'; set ylabel 'fraction of frames'; "
                  f"set key bottom right; set grid; plot {plot}\n")
        subprocess.run([gp], input=script, text=True, check=False)
        made.append("latency_cdf.png")
    if fan_rows:
        path = os.path.join(b.work, "fanout.dat")
        with open(path, "w") as f:
            for n, (vc, vr), (tc, tr) in fan_rows:
                f.write(f"{n} {vc if vc is not None else 'NaN'} {vr if vr is not None else 'NaN'} "
                        f"{tc if tc is not None else 'NaN'} {tr if tr is not None else 'NaN'}\n")
        png = os.path.join(outdir, "fanout.png")
        script = (f"set terminal pngcairo size 900,500; set output '{png}'; set xlabel 'TCP viewers'; "
                  "set ylabel 'relay CPU (% of one core)'; set y2label 'relay RSS (MB)'; set y2tics; set ytics nomirror; "
                  "set key top left; set grid; "
                  f"plot '{path}' using 1:2 with linespoints lw 2 title 'veter-relay CPU', "
                  f"'{path}' using 1:4 with linespoints lw 2 title 'textbook CPU', "
                  f"'{path}' using 1:3 axes x1y2 with linespoints dt 2 title 'veter-relay RSS', "
                  f"'{path}' using 1:5 axes x1y2 with linespoints dt 2 title 'textbook RSS'\n")
        subprocess.run([gp], input=script, text=True, check=False)
        made.append("fanout.png")
    return made


# ---------------------------------------------------------------- main

def machine_info():
    info = {}
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in lscpu.splitlines():
            k, _, v = line.partition(":")
            info[k.strip()] = v.strip()
    except OSError:
        pass
    mem = ""
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    load = open("/proc/loadavg").read().split()[:3]
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                           text=True).stdout.strip()
    return info.get("Model name", "?"), info.get("CPU(s)", "?"), mem, load, commit + (" (+ uncommitted changes in "
                                                                                       "the tree)" if dirty else "")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--out", required=True, help="directory for RESULTS.md and plots")
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--only", default="latency,ttff,fanout,cpu")
    ap.add_argument("--command", default="bench/run.sh")
    ap.add_argument("--runs", type=int, default=0, help="runs per configuration (default 5; 1 with --smoke)")
    ap.add_argument("--counts", default="", help="fan-out viewer counts, e.g. 1,10,100,300,400")
    ap.add_argument("--record", action="store_true",
                    help="fan-out: also the relay with recording on (interleaved with recording off)")
    ap.add_argument("--window", type=float, default=0, help="fan-out measuring window in s (default 4)")
    args = ap.parse_args()
    smoke = args.smoke
    runs = args.runs or (1 if smoke else 5)
    b = Bench(args)
    os.makedirs(args.out, exist_ok=True)
    only = args.only.split(",")
    model, cpus, mem, load, commit = machine_info()
    started = datetime.datetime.now(datetime.timezone.utc)
    body = []
    samples, fan_rows = {}, []
    failures = []
    try:
        if "latency" in only:
            print("latency ...", flush=True)
            res, samples = bench_latency(b, runs, 1.5 if smoke else 8, body)
            if not any(r.get("exit_code") == 0 for rs in res.values() for r in rs):
                failures.append("latency: no chain measured")
        if "ttff" in only:
            print("time to first frame ...", flush=True)
            res = bench_ttff(b, 1 if smoke else 20, body)
            if not any(r.get("exit_code") == 0 for _, rs, _, _ in res.values() for r in rs):
                failures.append("ttff: no join measured")
        if "fanout" in only:
            print("fan-out ...", flush=True)
            counts = [int(x) for x in args.counts.split(",")] if args.counts else \
                ([1, 3] if smoke else [1, 10, 100, 300, 400])
            window = args.window or (1.0 if smoke else 4)
            data, _, fan_rows = bench_fanout(b, runs, counts, window, body, record=args.record)
            if not any("cpu_percent" in r for rs in data.values() for r in rs):
                failures.append("fanout: no measurement")
        if "cpu" in only:
            print("publisher CPU ...", flush=True)
            res = bench_publisher_cpu(b, runs, 1.0 if smoke else 8, body)
            if not any(r for rs in res.values() for r in rs):
                failures.append("cpu: no measurement")
    finally:
        b.stop_all()
    made = plots(b, samples, fan_rows, args.out)
    ended = datetime.datetime.now(datetime.timezone.utc)
    head = ["# veter benchmark results\n",
            f"- Date: {started:%Y-%m-%d %H:%M}–{ended:%H:%M} UTC" + (" (smoke mode: 1 run, seconds each; numbers "
                                                                    "are not meaningful)" if smoke else ""),
            f"- Machine: {model}, {cpus} CPUs, {mem} RAM; load average at start {' '.join(load)}, at end "
            f"{' '.join(open('/proc/loadavg').read().split()[:3])} (the machine is shared: other processes compete "
            "for the CPUs during the run)",
            f"- Commit: {commit}",
            f"- Command: `{args.command}`",
            "- Everything on loopback (127.0.0.1); Release build; medians over "
            f"{runs} run(s) per configuration; every baseline measured in the same run.",
            ""]
    text = "\n".join(head) + "\n".join(body)
    if made:
        text += "\n## Plots\n\n" + "\n".join(f"![{m}]({m})" for m in made) + "\n"
    with open(os.path.join(args.out, "RESULTS.md"), "w") as f:
        f.write(text)
    print(text)
    if failures:
        print("FAILED: " + "; ".join(failures), file=sys.stderr)
        return 1
    shutil.rmtree(b.work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
