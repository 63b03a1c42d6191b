#!/usr/bin/env python3
"""Helpers of Scripts/bench-daemon (python3 standard library only).

    bench-daemon.py config OUT [--rs 400] [--vs 20] [--delay 2]
        writes the jitter benchmark's keepalived.conf to OUT (see CONFIG below) and prints the
        real-server addresses, one a line.
    bench-daemon.py record IFACE SRC VRID SECONDS OUT
        (run inside the receiving namespace) records every VRRP advert from SRC with VRID for
        SECONDS; one line per advert: kernel receive time (SO_TIMESTAMPNS, CLOCK_REALTIME),
        monotonic time at recvmsg, priority. The first line is '# start REALTIME MONOTONIC'.
    bench-daemon.py gaps FILE --from T --window W [--advert-int 1]
        the gaps between consecutive adverts whose later advert arrived in [T, T+W] (T: wall-clock
        seconds, compared with the kernel timestamps); prints key=value lines: count (adverts in
        the window), gaps, worst, p99, mean, min, worst_at (seconds after T at which the worst gap
        ended), worst_real, late (gaps >= advert_int + 5 ms) and late_list, edge (the silence
        between the last advert and the window's end, s).
    bench-daemon.py probe ADDR...
        GET /health on port 80 of each ADDR until it answers 200 (15 s at most); exit 1 if not.
    bench-daemon.py logaround LOG REALTIME [--before 3] [--after 1]
        the lines of a daemon log (ours: 'YYYY-MM-DD HH:MM:SS.mmm ...', local time) from
        REALTIME - before to REALTIME + after.
    bench-daemon.py sample PID SECONDS [--misc NAME]
        samples the process tree of PID for SECONDS: CPU (utime+stime of every process, ticks)
        and context switches of every thread (wake-ups) at both ends, VmRSS summed over the tree and Pss (smaps_rollup) summed, every second;
        with --misc, the distinct pids of descendants whose comm is NAME (the slow MISC_CHECK
        script) and the share of samples in which one ran. Prints key=value lines.
    bench-daemon.py table RESULTS
        prints the side-by-side table from the key=value results file Scripts/bench-daemon wrote.

CONFIG (jitter): one vrrp_instance VI_1 (interface lan0, state MASTER, priority 150, advert_int 1,
virtual_router_id 51, VIP 192.0.2.200/24); `vs` virtual servers 198.18.0.1.. port 80 (TCP, rr, DR,
delay_loop `delay`) with the `rs` real servers dealt out to them (real server i at
198.18.<1 + i/250>.<1 + i%250>:80, as Scripts/gen-checks-config.py numbers them), each with
    HTTP_GET { url { path /health  status_code 200 }  connect_timeout 2 }
and one more virtual server 198.18.0.250:80 (delay_loop `delay`) whose one real server
198.18.0.251:80 has MISC_CHECK { misc_path "/bin/sleep 10"  misc_timeout 15 }.
"""
import argparse
import os
import signal
import socket
import struct
import subprocess
import sys
import time

VIP = "192.0.2.200"
VRID = 51
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # 35 on x86-64 / arm64 (SO_TIMESTAMPNS_OLD)
TICK = os.sysconf("SC_CLK_TCK")


def rs_addr(i):
    return "198.18.%d.%d" % (1 + i // 250, 1 + i % 250)


def render(n_rs, n_vs, delay):
    n_vs = min(n_vs, n_rs)
    out = []
    w = out.append
    w("# Scripts/bench-daemon.py: 1 vrrp_instance, %d virtual_server with %d HTTP_GET real servers"
      " (delay_loop %s), 1 slow MISC_CHECK\n\n" % (n_vs, n_rs, delay))
    w("global_defs {\n    router_id bench_daemon\n}\n\n")
    w("vrrp_instance VI_1 {\n")
    w("    interface lan0\n    state MASTER\n    virtual_router_id %d\n    priority 150\n    advert_int 1\n" % VRID)
    w("    virtual_ipaddress {\n        %s/24\n    }\n}\n\n" % VIP)
    for j in range(n_vs):
        w("virtual_server 198.18.0.%d 80 {\n" % (j + 1))
        w("    delay_loop %s\n    lb_algo rr\n    lb_kind DR\n    protocol TCP\n" % delay)
        for i in range(j, n_rs, n_vs):
            w("    real_server %s 80 {\n" % rs_addr(i))
            w("        weight 1\n")
            w("        HTTP_GET {\n")
            w("            url {\n                path /health\n                status_code 200\n            }\n")
            w("            connect_timeout 2\n")
            w("        }\n    }\n")
        w("}\n\n")
    w("virtual_server 198.18.0.250 80 {\n")
    w("    delay_loop %s\n    lb_algo rr\n    lb_kind DR\n    protocol TCP\n" % delay)
    w("    real_server 198.18.0.251 80 {\n        weight 1\n")
    w("        MISC_CHECK {\n            misc_path \"/bin/sleep 10\"\n            misc_timeout 15\n        }\n")
    w("    }\n}\n")
    return "".join(out)


def cmd_config(a):
    with open(a.out, "w") as f:
        f.write(render(a.rs, a.vs, a.delay))
    print("\n".join(rs_addr(i) for i in range(a.rs)))
    return 0


# ---------------------------------------------------------------------------------------------
# Advert recorder


def cmd_record(a):
    ifindex = socket.if_nametoindex(a.iface)
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 112)
    # 224.0.0.18 reaches a raw socket only if the interface has joined the group.
    mreqn = struct.pack("4s4si", socket.inet_aton("224.0.0.18"), socket.inet_aton("0.0.0.0"), ifindex)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreqn)
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    s.settimeout(0.2)
    src = socket.inet_aton(a.src)
    t0_real, t0_mono = time.time(), time.monotonic()
    end = t0_mono + a.seconds
    with open(a.out, "w", buffering=1) as out:
        out.write("# start %.9f %.9f\n" % (t0_real, t0_mono))
        while time.monotonic() < end:
            try:
                data, anc, _flags, _addr = s.recvmsg(2048, socket.CMSG_SPACE(16))
            except socket.timeout:
                continue
            mono = time.monotonic()
            kts = None
            for level, kind, cdata in anc:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(cdata) >= 16:
                    sec, nsec = struct.unpack("qq", cdata[:16])
                    kts = sec + nsec / 1e9
            if len(data) < 20:
                continue
            ihl = (data[0] & 0x0F) * 4
            if data[12:16] != src or len(data) < ihl + 8:
                continue
            vrrp = data[ihl:]
            if vrrp[0] != 0x21 or vrrp[1] != a.vrid:  # VRRPv2, type 1 (advertisement)
                continue
            if kts is None:
                kts = t0_real + (mono - t0_mono)
            out.write("%.9f %.9f %d\n" % (kts, mono, vrrp[2]))
    return 0


def remove_namespaces(names):
    """Kills what still runs in each network namespace, then deletes it (a lab's clean-up)."""
    for name in names:
        pids = subprocess.run(["ip", "netns", "pids", name], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
        for pid in pids.split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (OSError, ValueError):
                pass
        subprocess.run(["ip", "netns", "delete", name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def percentile(values, p):
    """Percentile p (0..100) of a non-empty list, linear between the two nearest ranks (so p99
    of 60 gaps lies between the largest two, instead of being the largest)."""
    v = sorted(values)
    pos = (len(v) - 1) * p / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


def cmd_gaps(a):
    times = []
    with open(a.file) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3 and not line.startswith("#"):
                times.append(float(parts[0]))
    start_real = getattr(a, "from")
    lo, hi = start_real, start_real + a.window
    in_win = [t for t in times if lo <= t <= hi]
    gaps = []
    for prev, cur in zip(times, times[1:]):
        if lo <= cur <= hi:
            gaps.append((cur - prev, cur))
    print("count=%d" % len(in_win))
    print("gaps=%d" % len(gaps))
    if gaps:
        values = [g for g, _ in gaps]
        worst, worst_end = max(gaps)
        print("worst=%.6f" % worst)
        print("worst_at=%.3f" % (worst_end - start_real))
        print("worst_real=%.6f" % worst_end)
        print("p99=%.6f" % percentile(values, 99))
        print("mean=%.6f" % (sum(values) / len(values)))
        print("min=%.6f" % min(values))
        print("worst_dev=%.6f" % max(abs(g - a.advert_int) for g in values))
        limit = a.advert_int + 0.005
        print("late=%d" % sum(1 for g in values if g >= limit))
        print("late_list=%s" % ",".join("%.4f@%.1f" % (g, t - start_real) for g, t in gaps if g >= limit)[:2000])
    if in_win:
        print("edge=%.6f" % (hi - in_win[-1]))
    return 0


PROBE_UA = "bench-daemon-probe"


def cmd_probe(a):
    deadline = time.monotonic() + 15
    for addr in a.addrs:
        while True:
            try:
                s = socket.create_connection((addr, 80), timeout=2)
                s.sendall(b"GET /health HTTP/1.0\r\nUser-Agent: " + PROBE_UA.encode() + b"\r\nHost: "
                          + addr.encode() + b"\r\n\r\n")
                data = b""
                while True:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                s.close()
                if data.startswith(b"HTTP/1.1 200"):
                    break
                print("%s answered %r" % (addr, data[:60]))
                return 1
            except OSError as error:
                if time.monotonic() > deadline:
                    print("%s: %s" % (addr, error))
                    return 1
                time.sleep(0.2)
    return 0


def cmd_logaround(a):
    lo, hi = a.realtime - a.before, a.realtime + a.after
    with open(a.log, errors="replace") as f:
        for line in f:
            if len(line) < 23 or line[4] != "-" or line[10] != " ":
                continue
            try:
                t = time.mktime(time.strptime(line[:19], "%Y-%m-%d %H:%M:%S")) + float("0" + line[19:23])
            except ValueError:
                continue
            if lo <= t <= hi:
                print(line.rstrip("\n"))
    return 0


# ---------------------------------------------------------------------------------------------
# Process sampling


def proc_stat(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            data = f.read()
    except OSError:
        return None
    comm = data[data.index("(") + 1:data.rindex(")")]
    rest = data[data.rindex(")") + 2:].split()
    return {"comm": comm, "state": rest[0], "ppid": int(rest[1]), "ticks": int(rest[11]) + int(rest[12])}


def tree(pid):
    """pid and all its live descendants (from /proc/*/stat)."""
    parent = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            s = proc_stat(int(entry))
            if s and s["state"] not in "ZX":
                parent[int(entry)] = s["ppid"]
    found, frontier = [pid] if pid in parent else [], [pid]
    while frontier:
        p = frontier.pop()
        for child, pp in parent.items():
            if pp == p and child not in found:
                found.append(child)
                frontier.append(child)
    return found


def status_kib(pid, key):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def pss_kib(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def per_thread(pids, name, value):
    """The sum over every thread of the processes of value(text of /proc/PID/task/TID/<name>)."""
    total = 0
    for pid in pids:
        try:
            tids = os.listdir("/proc/%d/task" % pid)
        except OSError:
            continue
        for tid in tids:
            try:
                with open("/proc/%d/task/%s/%s" % (pid, tid, name)) as f:
                    total += value(f.read())
            except (OSError, ValueError, IndexError):
                continue
    return total


def switches(pids):
    """Context switches (voluntary + involuntary) of every thread of the processes: wake-ups."""
    return per_thread(pids, "status", lambda text: sum(int(line.split()[1]) for line in text.splitlines()
                                                       if line.startswith(("voluntary_ctxt_switches:", "nonvoluntary_ctxt_switches:"))))


def oncpu_ns(pids):
    """On-CPU time of every thread of the processes, in nanoseconds, from /proc/PID/task/*/schedstat
    (the scheduler's clock). The kernel scales utime+stime to the same total, but shows them in
    1/100 s: this is the same figure to the nanosecond, for windows of a few tenths of a second."""
    return per_thread(pids, "schedstat", lambda text: int(text.split()[0]))


def cmd_sample(a):
    pid = a.pid
    misc_pids, misc_samples, samples = set(), 0, 0
    rss, pss, nprocs = [], [], []
    daemon_procs = set()

    def daemon_tree():
        # the daemon's own processes: the tree minus the MISC_CHECK script (and its children)
        ps = tree(pid)
        mine = []
        for p in ps:
            s = proc_stat(p)
            if s is None:
                continue
            if a.misc and s["comm"] == a.misc:
                continue
            mine.append(p)
        return ps, mine

    def ticks(pids):
        return sum((proc_stat(p) or {"ticks": 0})["ticks"] for p in pids)

    _all, mine0 = daemon_tree()
    # Children that end inside the window lose their ticks from this sum; keepalived's and ours
    # live for the daemon's life, so this is exact for them.
    t_start = time.monotonic()
    c0 = ticks(mine0)
    w0 = switches(mine0)
    n0 = oncpu_ns(mine0)
    daemon_procs.update(mine0)
    end = t_start + a.seconds
    while True:
        now = time.monotonic()
        if now >= end:
            break
        allp, mine = daemon_tree()
        if pid not in allp:
            print("died=1")
            break
        daemon_procs.update(mine)
        samples += 1
        rss.append(sum(status_kib(p, "VmRSS") for p in mine))
        pss.append(sum(pss_kib(p) for p in mine))
        nprocs.append(len(mine))
        if a.misc:
            running = [p for p in allp if p not in mine]
            if running:
                misc_samples += 1
                misc_pids.update(running)
        time.sleep(min(a.interval, max(0.0, end - time.monotonic())))
    _allp, mine1 = daemon_tree()
    elapsed = time.monotonic() - t_start
    c1 = ticks([p for p in mine1 if p in mine0])
    w1 = switches([p for p in mine1 if p in mine0])
    n1 = oncpu_ns([p for p in mine1 if p in mine0])
    print("elapsed=%.3f" % elapsed)
    print("cpu_s=%.3f" % ((c1 - c0) / TICK))
    print("cpu_per_min=%.4f" % ((c1 - c0) / TICK * 60.0 / elapsed))
    print("oncpu_s=%.4f" % ((n1 - n0) / 1e9))
    print("oncpu_per_min=%.4f" % ((n1 - n0) / 1e9 * 60.0 / elapsed))
    print("switches_per_s=%.1f" % ((w1 - w0) / elapsed))
    if rss:
        print("rss_kib=%d" % rss[-1])
        print("rss_max_kib=%d" % max(rss))
        print("pss_kib=%d" % pss[-1])
    print("procs=%d" % (nprocs[-1] if nprocs else 0))
    print("procs_seen=%d" % len(daemon_procs))
    print("proc_names=%s" % ",".join(sorted({(proc_stat(p) or {"comm": "?"})["comm"] for p in mine1})))
    if a.misc:
        print("misc_runs=%d" % len(misc_pids))
        print("misc_share=%.3f" % (misc_samples / samples if samples else 0.0))
    return 0


# ---------------------------------------------------------------------------------------------
# The table


def load(path):
    r = {}
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if "=" in line and not line.startswith("#"):
                k, v = line.split("=", 1)
                r[k] = v
    return r


def num(r, key):
    try:
        return float(r[key])
    except (KeyError, ValueError):
        return None


def fmt(v, digits):
    return "-" if v is None else "%.*f" % (digits, v)


def cmd_table(a):
    r = load(a.results)
    w = 36
    lines = []
    say = lines.append
    say("%-*s %14s %14s %16s" % (w, "", "ours", "keepalived", "ours/keepalived"))
    say("%-*s %14s %14s %16s" % (w, "-" * w, "-" * 14, "-" * 14, "-" * 16))

    ka_vrrp_only = r.get("keepalived.jitter.mode") == "vrrp-only"

    def row(label, key, digits, scale=1.0, ratio=True, rdigits=2, load=False):
        """load: a figure of the checker load, not comparable when keepalived ran with -P."""
        o, k = num(r, "ours." + key), num(r, "keepalived." + key)
        if o is not None:
            o *= scale
        if k is not None:
            k *= scale
        rr = "-"
        if load and ka_vrrp_only and key.startswith("jitter."):
            rr = "n/a (ka -P)"
        elif ratio and o is not None and k:
            rr = "%.*f" % (rdigits, o / k)
        say("%-*s %14s %14s %16s" % (w, label, fmt(o, digits), fmt(k, digits), rr if ratio else ""))

    if "jitter.window" in r:
        say("A. advert jitter under checker load (%s s window after %s s warm-up, host lab)"
            % (r["jitter.window"], r["jitter.warmup"]))
        say("%-*s %14s %14s" % (w, "  daemon run as (vrrp-only = -P)", r.get("ours.jitter.mode", "-"),
                                r.get("keepalived.jitter.mode", "-")))
        row("  adverts received from d1", "jitter.count", 0)
        row("  worst gap (ms)", "jitter.worst", 2, 1000, rdigits=4)
        row("  p99 gap (ms)", "jitter.p99", 2, 1000, rdigits=4)
        row("  mean gap (ms)", "jitter.mean", 3, 1000, rdigits=4)
        row("  worst |gap - advert_int| (ms)", "jitter.worst_dev", 2, 1000)
        row("  gaps >= advert_int + 5 ms", "jitter.late", 0, ratio=False)
        row("  health checks/s nginx answered", "jitter.checks_per_s", 1, load=True)
        row("  slow MISC_CHECK runs seen", "jitter.misc_runs", 0, ratio=False)
        row("  daemon CPU in the window (s)", "jitter.cpu_s", 2, load=True)
        row("  context switches/s (all threads)", "jitter.switches_per_s", 0, load=True)
        row("  daemon processes", "jitter.procs", 0, ratio=False)
    if "idle.window" in r:
        if "jitter.window" in r:
            say("")
        say("B. idle cost, Configs/seed-default.conf (%s s window after %s s settle, in the VM)"
            % (r["idle.window"], r["idle.settle"]))
        row("  RSS, VmRSS summed (MiB)", "idle.rss_kib", 2, 1 / 1024)
        row("  PSS summed (MiB)", "idle.pss_kib", 2, 1 / 1024)
        row("  CPU (s per minute, utime+stime ticks)", "idle.cpu_per_min", 3)
        row("  on-CPU (s per minute, schedstat ns)", "idle.oncpu_per_min", 3)
        row("  context switches/s (all threads)", "idle.switches_per_s", 1)
        row("  processes", "idle.procs", 0, ratio=False)
    print("\n".join(lines))
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("config")
    c.add_argument("out")
    c.add_argument("--rs", type=int, default=400)
    c.add_argument("--vs", type=int, default=20)
    c.add_argument("--delay", default="2")
    c = sub.add_parser("record")
    c.add_argument("iface")
    c.add_argument("src")
    c.add_argument("vrid", type=int)
    c.add_argument("seconds", type=float)
    c.add_argument("out")
    c = sub.add_parser("gaps")
    c.add_argument("file")
    c.add_argument("--from", type=float, required=True)
    c.add_argument("--window", type=float, required=True)
    c.add_argument("--advert-int", type=float, default=1.0)
    c = sub.add_parser("probe")
    c.add_argument("addrs", nargs="+")
    c = sub.add_parser("logaround")
    c.add_argument("log")
    c.add_argument("realtime", type=float)
    c.add_argument("--before", type=float, default=3.0)
    c.add_argument("--after", type=float, default=1.0)
    c = sub.add_parser("sample")
    c.add_argument("pid", type=int)
    c.add_argument("seconds", type=float)
    c.add_argument("--interval", type=float, default=1.0)
    c.add_argument("--misc", default=None)
    c = sub.add_parser("table")
    c.add_argument("results")
    a = p.parse_args()
    return {"config": cmd_config, "probe": cmd_probe, "logaround": cmd_logaround, "record": cmd_record, "gaps": cmd_gaps, "sample": cmd_sample,
            "table": cmd_table}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
