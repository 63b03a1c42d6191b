#!/usr/bin/env python3
"""Client of Scripts/scaleout-lab (inside the VM of Scripts/vm, as root; stdlib only).

  scaleout_client.py log --ns NS --vip VIP --out FILE [--period S] [--timeout S]
      Fetches http://VIP/ from network namespace NS every --period s (a new TCP connection each
      time, --timeout s for the whole request; seed_client.py's client) until SIGTERM, and writes
      one line per request to FILE as it ends: "START END ok|fail BODY-OR-ERROR".

  scaleout_client.py rate --ns NS --vip VIP --workers N --duration S
      N threads fetching back to back for S seconds; prints "requests=N failed=N seconds=S".

  scaleout_client.py route-change --monitor FILE --prefix P --after T --want d1,d2|none
      Reads `ip -ts monitor route` output and prints how long after T (seconds since the epoch)
      the route to P first had exactly the wanted directors as next hops (10.51.0.1N is dN), to
      the kernel's notification rather than to a polling loop's wake-up; "none" if it never did
      (waiting --wait seconds, default 3, for the monitor to write its line).
"""

import argparse
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from seed_client import Client  # noqa: E402


def cmd_log(a):
    stop = threading.Event()
    client = Client(a.ns, ["0.0.0.0"], a.vip, a.period, a.timeout, stop)
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with open(a.out, "w", buffering=1) as out:
        client.start()
        client.started.wait()
        if client.error:
            print("scaleout_client: %s" % client.error, file=sys.stderr)
            return 2
        written = 0
        while not stop.is_set() or written < len(client.requests):
            while written < len(client.requests):
                t0, t1, _, ok, what = client.requests[written]
                out.write("%.6f %.6f %s %s\n" % (t0, t1, "ok" if ok else "fail", what.replace(" ", "_")))
                written += 1
            if stop.is_set():
                client.join(a.timeout + 1)
                stop_seen = len(client.requests)
                if written >= stop_seen:
                    break
            time.sleep(0.05)
    return 0


def cmd_rate(a):
    stop = threading.Event()
    clients = [Client(a.ns, ["0.0.0.0"], a.vip, 0.0, a.timeout, stop) for _ in range(a.workers)]
    for client in clients:
        client.start()
    for client in clients:
        client.started.wait()
    begin = time.time()
    time.sleep(a.duration)
    stop.set()
    for client in clients:
        client.join(a.timeout + 1)
    done = [r for client in clients for r in client.requests if begin <= r[0] and r[1] <= begin + a.duration]
    failed = sum(1 for r in done if not r[3])
    print("requests=%d failed=%d seconds=%.3f" % (len(done), failed, a.duration))
    return 0


def route_changes(monitor, prefix):
    """The route's next-hop sets in `ip -ts monitor route` output: [(time, set of directors)]."""
    import datetime
    import re
    events = []  # (time, set of directors; empty when deleted)
    current = None
    for line in open(monitor, errors="replace"):
        m = re.match(r"\[(\S+)\]\s+(Deleted\s+)?(\S+)(.*)", line)
        if m:
            if current:
                events.append(current)
            t = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f").timestamp()
            current = None
            if m.group(3) == prefix:
                current = [t, set() if m.group(2) else set(re.findall(r"via 10\.51\.0\.1(\d)", m.group(4)))]
        elif current is not None:
            current[1].update(re.findall(r"via 10\.51\.0\.1(\d)", line))
    if current:
        events.append(current)
    return events


def route_change(a):
    want = set() if a.want == "none" else {d.lstrip("d") for d in a.want.split(",")}
    # The monitor writes its line a moment after the kernel changed the route, later still in a
    # slow VM: read again for a while rather than report a change that happened as missing.
    deadline = time.monotonic() + a.wait
    while True:
        for t, hops in route_changes(a.monitor, a.prefix):
            if t >= a.after and hops == want:
                print("%.3f" % (t - a.after))
                return 0
        if time.monotonic() >= deadline:
            print("none")
            return 0
        time.sleep(0.1)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("log", "rate"):
        s = sub.add_parser(name)
        s.add_argument("--ns", required=True)
        s.add_argument("--vip", required=True)
        s.add_argument("--timeout", type=float, default=1.0)
        if name == "log":
            s.add_argument("--out", required=True)
            s.add_argument("--period", type=float, default=0.05)
        else:
            s.add_argument("--workers", type=int, default=8)
            s.add_argument("--duration", type=float, default=10.0)
    c = sub.add_parser("route-change")
    c.add_argument("--monitor", required=True)
    c.add_argument("--prefix", required=True)
    c.add_argument("--after", type=float, required=True)
    c.add_argument("--want", required=True)
    c.add_argument("--wait", type=float, default=3.0, help="seconds to wait for the monitor's line")
    a = p.parse_args()
    return {"log": cmd_log, "rate": cmd_rate, "route-change": route_change}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
