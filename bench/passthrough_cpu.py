#!/usr/bin/env python3
"""CPU of the publisher with `encoder: passthrough` against decoding and re-encoding the same H.264.

The "camera" is the test source standing in for an H.264 camera (`--source test --encoder
passthrough`: videotestsrc snow -> x264enc as the camera's encoder, 2000 kbit/s of content that
needs it). Its cost is measured on its own and is inside every other figure; on a robot the
camera's chip pays it. CPU is user+system time per frame (getrusage of the finished child), so a
loaded machine slows the runs but hardly changes the figure:

  camera       the camera stand-in alone:  gst-launch-1.0 <camera part> ! fakesink
  passthrough  gst-launch-1.0 of the publisher's own --dry-run passthrough description, up to
               rtph264pay, then a udpsink (rtpbin's BYE-then-EOS would hold a non-live run open)
  reencode     the same description with `h264parse ! avdec_h264 ! videoconvert ! <the
               publisher's own x264enc settings>` where passthrough has only h264parse
  publisher    the real veter-publisher --encoder passthrough (live, SEI, RTCP, stats), frames from
               its "stopped: N frames sent" line

gst-launch runs are not live (num-buffers, as fast as they go); the publisher runs live for
--seconds. Rounds interleave the four; medians are printed (ms of CPU per frame, and % of one
core at the frame rate).
Usage: bench/passthrough_cpu.py [--bin-dir build] [--rounds 3] [--frames 300] [--seconds 10]
                                [--size 1280x720] [--fps 30] [--kbps 2000]
"""
import argparse
import os
import re
import resource
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import time


def child_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_counted(argv):
    """CPU seconds of one child run to completion."""
    before = child_cpu()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    return child_cpu() - before


def run_publisher(argv, seconds):
    """(CPU seconds, frames) of a live publisher stopped with SIGTERM after `seconds`."""
    before = child_cpu()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(seconds)  # the measurement window of a live source
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=10)
    m = re.search(r"stopped: (\d+) frames sent", err)
    if p.returncode != 0 or not m:
        sys.exit("publisher did not stop cleanly:\n" + err)
    return child_cpu() - before, int(m.group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin-dir", default="build")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--fps", type=int, default=30)
    ap.add_argument("--kbps", type=int, default=2000)
    a = ap.parse_args()
    pub = os.path.join(a.bin_dir, "src/publisher/veter-publisher")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1] & ~1  # nobody reads it: the relay is not what is measured
    s.close()
    common = ["--source", "test", "--test-pattern", "snow", a.size, str(a.fps), str(a.kbps), "--host", "127.0.0.1",
              "--port", str(port), "--local-port", "0"]

    def dry(encoder):
        out = subprocess.run([pub, "--dry-run", "--encoder", encoder] + common, check=True, capture_output=True,
                             text=True).stdout
        return re.search(r"^pipeline: (.*)$", out, re.M).group(1)

    desc = dry("passthrough")
    x264 = re.search(r" ! (x264enc name=enc [^!]*! \S+) ! rtph264pay ", dry("x264enc")).group(1)
    parse = "h264parse name=enc config-interval=-1 ! video/x-h264,stream-format=byte-stream,alignment=au"
    assert parse in desc, desc
    # rtpbin (RTCP, rtx) is left out of the counted runs: its BYE-then-EOS would hold a non-live run
    # open; the payloader's packets go straight to a udpsink. The publisher run has all of it.
    pay_end = desc.index(" ! ", desc.index("rtph264pay name=pay"))
    counted = (desc[len("rtpbin name=rtpbin "):pay_end] + f" ! udpsink host=127.0.0.1 port={port} sync=false async=false")
    counted = counted.replace("is-live=true", f"is-live=false num-buffers={a.frames}")
    camera = counted[:counted.index(" ! h264parse name=enc")] + " ! fakesink sync=false"
    reencode = counted.replace(parse, "h264parse ! avdec_h264 ! videoconvert ! video/x-raw,format=I420 ! " + x264)
    gst = ["gst-launch-1.0", "-q"]
    ms = {k: [] for k in ("camera", "passthrough", "reencode", "publisher")}
    frames_seen = []
    for _ in range(a.rounds):
        for name, d in (("camera", camera), ("passthrough", counted), ("reencode", reencode)):
            ms[name].append(1000 * run_counted(gst + shlex.split(d)) / a.frames)  # split as a shell would
        cpu, frames = run_publisher([pub, "--encoder", "passthrough", "--log-level", "info"] + common, a.seconds)
        ms["publisher"].append(1000 * cpu / max(frames, 1))
        frames_seen.append(frames)
    load = open("/proc/loadavg").read().split()[:3]
    print(f"# {os.uname().nodename}, {os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}, "
          f"load {' '.join(load)}")
    print(f"# {a.size}@{a.fps} snow at {a.kbps} kbit/s; {a.rounds} rounds; gst-launch {a.frames} frames each; "
          f"publisher {a.seconds:g} s live ({', '.join(map(str, frames_seen))} frames)")
    print(f"{'':12} {'ms CPU/frame':>12} {'% core @' + str(a.fps) + 'fps':>14}   runs (ms/frame)")
    for k, v in ms.items():
        med = statistics.median(v)
        print(f"{k:12} {med:12.2f} {med * a.fps / 10:14.1f}   {' '.join(f'{x:.2f}' for x in v)}")
    cam = statistics.median(ms["camera"])
    pt = statistics.median(ms["passthrough"]) - cam
    re_ = statistics.median(ms["reencode"]) - cam
    # Differences of medians; compare them with the spread of the runs before reading a ratio.
    print(f"# without the camera: passthrough {pt:.2f} ms/frame, decode + re-encode {re_:.2f} ms/frame")


if __name__ == "__main__":
    main()
