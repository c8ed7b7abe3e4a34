#!/usr/bin/env python3
"""Soak: the relay under 20 viewers for 10 minutes, with hostile clients on the side.

    bench/soak.py --bin-dir build [--minutes 10] [--viewers 20] [--out /tmp/soak.json]

Starts veter-relay (API and metrics on), veter-publisher (test source, 1280x720@30,
2000 kbit/s), and `veter-bench-reader` with N TCP viewers for the whole run. Every
20 s a hostile burst: 300 curl-style keep-alive API/metrics requests that the client
closes, 20 DESCRIBEs on distinct query URLs, 5 SETUPs without PLAY, all closed again.
The relay's RSS and open descriptors are sampled every 5 s. Reports the RSS slope
(least squares over the run after the first minute, in KiB per minute), first/last/max
RSS and descriptor counts, and whether every viewer still received video at the end.
Loopback only. Prints one JSON object and a Markdown summary.
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time


def free_port(kind=socket.SOCK_STREAM, pair=False):
    while True:
        s = socket.socket(socket.AF_INET, kind)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        if not pair or port % 2 == 0:
            return port


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def threads(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return -1


def keepalive_get(port, path):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: curl/7.88.1\r\n\r\n".encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                return data
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        while len(body) < length:
            chunk = s.recv(65536)
            if not chunk:
                break
            body += chunk
        return head


def rtsp(sock, method, url, cseq, extra=""):
    sock.sendall(f"{method} {url} RTSP/1.0\r\nCSeq: {cseq}\r\n{extra}\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data.decode(errors="replace")


def hostile_burst(api, metrics, rtsp_port):
    for i in range(300):
        keepalive_get(api if i % 2 == 0 else metrics, "/v3/paths/list" if i % 2 == 0 else "/metrics")
    held = []
    base = f"rtsp://127.0.0.1:{rtsp_port}/camera"
    for i in range(20):
        s = socket.create_connection(("127.0.0.1", rtsp_port), timeout=5)
        rtsp(s, "DESCRIBE", f"{base}?soak={time.time_ns()}-{i}", 1, "Accept: application/sdp\r\n")
        held.append(s)
    for i in range(5):
        s = socket.create_connection(("127.0.0.1", rtsp_port), timeout=5)
        rtsp(s, "DESCRIBE", base, 1, "Accept: application/sdp\r\n")
        rtsp(s, "SETUP", base + "/stream=0", 2, "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n")
        held.append(s)
    for s in held:
        s.close()


def slope_kib_per_min(samples):
    if len(samples) < 3:
        return None
    xs = [t / 60.0 for t, _ in samples]
    ys = [r for _, r in samples]
    mx = sum(xs) / len(xs)
    my = sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--viewers", type=int, default=20)
    ap.add_argument("--out", default="")
    a = ap.parse_args()
    exe = lambda name: os.path.join(a.bin_dir, {"veter-relay": "src/relay/veter-relay",
                                                "veter-publisher": "src/publisher/veter-publisher",
                                                "veter-bench-reader": "bench/tools/veter-bench-reader"}[name])
    rtsp_port, api, metrics = free_port(), free_port(), free_port()
    ingest = free_port(socket.SOCK_DGRAM, pair=True)
    udp = free_port(socket.SOCK_DGRAM, pair=True)
    tmp = tempfile.mkdtemp(prefix="veter-soak-")
    cfg = os.path.join(tmp, "relay.yml")
    with open(cfg, "w") as f:
        f.write(f"log_level: info\nstats_interval: 60s\nrtsp:\n  listen: \"127.0.0.1:{rtsp_port}\"\n"
                f"  udp_port_range: \"{udp}-{udp + 1}\"\n  idle_timeout: 2s\n"
                f"api: {{listen: \"127.0.0.1:{api}\"}}\nmetrics: {{listen: \"127.0.0.1:{metrics}\"}}\n"
                f"paths:\n  camera:\n    ingest:\n      listen: \"127.0.0.1:{ingest}\"\n")
    log = open(os.path.join(tmp, "relay.log"), "w")
    relay = subprocess.Popen([exe("veter-relay"), "--config", cfg], stdout=log, stderr=subprocess.STDOUT)
    pub = subprocess.Popen([exe("veter-publisher"), "1280x720", "30", "2000", "--host", "127.0.0.1", "--port",
                            str(ingest), "--source", "test", "--encoder", "x264enc",
                            "--local-port", str(free_port(socket.SOCK_DGRAM, pair=True))],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    reader = None
    result = {}
    try:
        deadline = time.time() + 30
        while time.time() < deadline and "ready: publisher" not in open(os.path.join(tmp, "relay.log")).read():
            time.sleep(0.2)
        duration = a.minutes * 60
        reader = subprocess.Popen([exe("veter-bench-reader"), "--url", f"rtsp://127.0.0.1:{rtsp_port}/camera",
                                   "--viewers", str(a.viewers), "--settle", "2", "--window", str(duration),
                                   "--pid", str(relay.pid), "--connect-timeout", "30"],
                                  stdout=subprocess.PIPE, text=True)
        start = time.time()
        samples, fd_samples, thread_samples = [], [], []
        next_burst = start + 20
        bursts = 0
        while time.time() - start < duration:
            t = time.time() - start
            samples.append((t, rss_kib(relay.pid)))
            fd_samples.append((t, fds(relay.pid)))
            thread_samples.append((t, threads(relay.pid)))
            if time.time() >= next_burst:
                hostile_burst(api, metrics, rtsp_port)
                bursts += 1
                next_burst += 20
            time.sleep(5)
        out, _ = reader.communicate(timeout=120)
        r = json.loads(out.strip().splitlines()[-1])
        steady = [(t, v) for t, v in samples if t >= 60]
        result = {
            "minutes": a.minutes, "viewers": a.viewers, "hostile_bursts": bursts,
            "rss_kib_first": samples[0][1], "rss_kib_last": samples[-1][1],
            "rss_kib_max": max(v for _, v in samples),
            "rss_slope_kib_per_min_after_1min": slope_kib_per_min(steady),
            "fds_first": fd_samples[0][1], "fds_last": fd_samples[-1][1], "fds_max": max(v for _, v in fd_samples),
            "threads_first": thread_samples[0][1], "threads_last": thread_samples[-1][1],
            "threads_max": max(v for _, v in thread_samples),
            "reader": {k: r.get(k) for k in ("viewers", "streaming", "failed", "errors", "rate_kbps", "cpu_percent")
                       if k in r},
            "relay_alive": relay.poll() is None,
            "relay_log_lines": sum(1 for _ in open(os.path.join(tmp, "relay.log"))),
        }
    finally:
        for p in (reader, pub, relay):
            if p is not None and p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    p.kill()
    print(json.dumps(result))
    if a.out:
        with open(a.out, "w") as f:
            json.dump(result, f, indent=1)
    if result:
        print(f"| {a.minutes:g} min | {a.viewers} | {result['hostile_bursts']} | {result['rss_kib_first'] / 1024:.1f} → "
              f"{result['rss_kib_last'] / 1024:.1f} (max {result['rss_kib_max'] / 1024:.1f}) | "
              f"{result['rss_slope_kib_per_min_after_1min']:.1f} | {result['fds_first']} → {result['fds_last']} "
              f"(max {result['fds_max']}) | {result['threads_first']} → {result['threads_last']} |")
    return 0 if result.get("relay_alive") else 1


if __name__ == "__main__":
    sys.exit(main())
