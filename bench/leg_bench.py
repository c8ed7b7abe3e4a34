#!/usr/bin/env python3
"""The publisher -> relay leg on impaired links (see docs/network.md).

For each scenario: veter-relay, veter-bench-impair in front of it, veter-publisher (test source,
snow, so every frame is several packets) sending through the forwarder, and one veter-probe
--decode viewer over RTSP/TCP. Prints one Markdown table row per (scenario, mode):
frames, decoder-flagged (concealed) frames, decode errors, longest freeze, capture -> arrival
p50/p99, bytes on the leg, NACKs/repaired/unrecoverable from the relay's stats line.

  bench/leg_bench.py --bin-dir build [--duration 20] [--size 1280x720 --kbps 2000]
        [--only rtt50-loss2,...] [--modes pli,rtx]
"""
import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench import Proc, free_port, free_tcp  # noqa: E402

# name: (one-way delay ms, jitter ms, forwarder loss args)
SCENARIOS = {
    "rtt50-loss0": (25, 5, []),
    "rtt50-loss1": (25, 5, ["--loss", "0.01"]),
    "rtt50-loss2": (25, 5, ["--loss", "0.02"]),
    "rtt50-loss5": (25, 5, ["--loss", "0.05"]),
    "rtt50-burst3": (25, 5, ["--burst-loss", "0.03", "--burst-len", "3"]),
    "rtt150-loss2": (75, 5, ["--loss", "0.02"]),
}


def relay_config(workdir, ingest, rtsp, api, nack):
    path = os.path.join(workdir, f"relay-{ingest}.yml")
    with open(path, "w") as f:
        f.write(f"""log_level: info
stats_interval: 1s
rtsp:
  listen: "127.0.0.1:{rtsp}"
api: {{enabled: true, listen: "127.0.0.1:{api}"}}
metrics: {{enabled: false}}
paths:
  camera:
    ingest:
      listen: "127.0.0.1:{ingest}"
      nack: {"true" if nack else "false"}
""")
    return path


def wait_tcp(port, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return True
        except OSError:
            time.sleep(0.2)
    return False


def last_stats(log):
    with open(log) as f:
        lines = [l for l in f if "stats camera:" in l]
    if not lines:
        return {}
    return {k: v for k, v in re.findall(r" ([a-z_]+)=([0-9.]+)", lines[-1])}


def run(args, name, mode, workdir):
    delay, jitter, loss = SCENARIOS[name]
    repair = mode == "rtx"
    ingest, rtsp, api, fwd = free_port(pair=True), free_tcp(), free_tcp(), free_port(pair=True)
    exe = lambda n: os.path.join(args.bin_dir, n if n != "veter-bench-impair" else "bench/tools/" + n)
    relay = Proc("relay", [os.path.join(args.bin_dir, "src/relay/veter-relay"), "--config",
                           relay_config(workdir, ingest, rtsp, api, repair)], workdir)
    stats_file = os.path.join(workdir, f"impair-{name}-{mode}.json")
    impair = Proc("impair", [exe("veter-bench-impair"), "--listen", str(fwd), "--to", f"127.0.0.1:{ingest}",
                             "--delay-ms", str(delay), "--jitter-ms", str(jitter), "--seed", "7",
                             "--stats", stats_file] + loss, workdir)
    pub_cfg = os.path.join(workdir, f"pub-{mode}.yml")
    with open(pub_cfg, "w") as f:
        f.write(f"rtx: {'true' if repair else 'false'}\nabr: false\n")
    w, h = args.size.split("x")
    pub = Proc("publisher", [os.path.join(args.bin_dir, "src/publisher/veter-publisher"), args.size, "30",
                             str(args.kbps), "--config", pub_cfg, "--host", "127.0.0.1", "--port", str(fwd),
                             "--source", "test", "--test-pattern", "snow", "--encoder", "x264enc",
                             "--local-port", str(free_port(pair=True))], workdir)
    try:
        if not wait_tcp(rtsp):
            return None
        time.sleep(3)  # publisher start-up: the probe measures steady state
        probe = subprocess.run([os.path.join(args.bin_dir, "src/probe/veter-probe"),
                                f"rtsp://127.0.0.1:{rtsp}/camera", "--duration", str(args.duration), "--decode",
                                "--json", "--transport", "tcp"], capture_output=True, text=True,
                               timeout=args.duration + 60)
        r = json.loads(probe.stdout) if probe.stdout.strip().startswith("{") else {}
    finally:
        pub.stop()
        time.sleep(0.5)
        impair.stop()
        relay.stop()
    st = last_stats(relay.log)
    leg = {}
    if os.path.exists(stats_file):
        with open(stats_file) as f:
            leg = json.load(f)
    return r, st, leg


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", default=os.path.join(os.path.dirname(HERE), "build"))
    ap.add_argument("--duration", type=float, default=20)
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--kbps", type=int, default=2000)
    ap.add_argument("--only", default=",".join(SCENARIOS))
    ap.add_argument("--modes", default="pli,rtx")
    args = ap.parse_args()
    workdir = tempfile.mkdtemp(prefix="veter-leg-")
    print(f"# leg benchmark {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load {os.getloadavg()}, "
          f"{args.size} {args.kbps} kbit/s snow, {args.duration:.0f} s per run, logs in {workdir}")
    print("| scenario | mode | frames | concealed | decode errors | longest freeze ms | p50 ms | p99 ms | "
          "leg MB | NACKs | repaired | unrecoverable |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name in args.only.split(","):
        for mode in args.modes.split(","):
            out = run(args, name, mode, workdir)
            if not out:
                print(f"| {name} | {mode} | (relay did not start) |")
                continue
            r, st, leg = out
            lat = (r.get("latency") or {}).get("capture_to_arrival_ms") or {}
            fr = r.get("frozen") or {}
            leg_mb = (leg.get("rtp_to_relay") or {}).get("bytes_sent", 0) / 1e6
            print(f"| {name} | {mode} | {r.get('frames')} | {r.get('concealed_frames')} | {r.get('decode_errors')} | "
                  f"{fr.get('longest_ms')} | {lat.get('p50')} | {lat.get('p99')} | {leg_mb:.1f} | "
                  f"{st.get('nacks', '-')} | {st.get('repaired', '-')} | {st.get('unrecoverable', '-')} |",
                  flush=True)


if __name__ == "__main__":
    main()
