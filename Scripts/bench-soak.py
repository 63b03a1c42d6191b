#!/usr/bin/env python3
"""The long run of Scripts/bench-soak (issue 17 point 3), inside the VM: one daemon at a time in
namespaces of its own, under the whole load for MINUTES; prints RESULT lines.

Usage (root, inside the VM; Scripts/bench-soak boots it): bench-soak.py run --daemon ours|keepalived --binary B
    --minutes M --work DIR [--vs 1000]

The lab: namespace D (the director, the daemon), S (the real servers), P (the VRRP peer that
records the adverts). D-S: veth, 192.0.2.1/24 - 192.0.2.2/24; S holds 203.0.113.1-250/32 and
routes back. D-P: veth, 198.51.100.1/24 - 198.51.100.2/24; one VRRP master (VRID 51, advert_int
1, VIP 198.51.100.100) on D.

The work:
  - VS virtual servers (198.18.x.y:80, lb_kind NAT, delay_loop 1), one real server each with a
    TCP_CHECK (connect_timeout 1, retry 0): 203.0.113.(1 + i % 250) port 10000 + i // 250. S
    answers on those ports with one nginx (one worker).
  - Flapping: every 5 s, 25 of the 250 addresses (about 100 real servers) change side: S rejects
    connections to the "down" ones with a TCP reset (an nftables set).
  - A reload (SIGHUP) every minute, between two configs: the second doubles the weight of every
    tenth real server.
  - Dumps every 10 s: SIGUSR1 (keepalived.data) and SIGUSR2 (keepalived.stats).
  - Every 10 s: descriptors (less the checks' TCP connections in flight), threads, VmRSS and
    CPU of the daemon's processes; of those descriptors, the sockets no table of the namespace
    lists (checks before their connect or after a reset, before their close), and the rest: the
    daemon's own.
  - A sleeper at the daemon's priority (0.1 s sleeps) notes how late the VM wakes a process.
  - Ours only, every 10 s: the table against what the checks say. GET /metrics
    (keepalived_real_server_up), then the kernel's table (ipvsadm -Ln), then /metrics again more
    than a second later (answers are kept for a second); every real server whose state is the
    same in both must be in the table with a weight if up, and absent if down.
"""
import argparse
import importlib.util
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.realpath(__file__))
_spec = importlib.util.spec_from_file_location("bench_daemon", os.path.join(HERE, "bench-daemon.py"))
BENCH_DAEMON = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(BENCH_DAEMON)
PORT = 9716
ADDRESSES = ["203.0.113.%d" % h for h in range(1, 251)]
FLAP_EVERY, FLAP_COUNT = 5.0, 25
RELOAD_EVERY = float(os.environ.get("BENCH_RELOAD_EVERY", "60"))
DUMP_EVERY, SAMPLE_EVERY = 10.0, 10.0


def sh(*args, check=True):
    return subprocess.run(args, check=check, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True).stdout


def vs_address(i):
    third, host = divmod(i, 254)
    return "198.18.%d.%d" % (third, host + 1)


def real_server(i):
    return ADDRESSES[i % len(ADDRESSES)], 10000 + i // len(ADDRESSES)


def config(n_vs, heavier):
    parts = ["global_defs {\n    router_id soak\n}\n",
             "vrrp_instance VI_1 {\n    interface lan0\n    state MASTER\n    priority 150\n    advert_int 1\n"
             "    virtual_router_id 51\n    virtual_ipaddress {\n        198.51.100.100/24\n    }\n}\n"]
    for i in range(n_vs):
        address, port = real_server(i)
        weight = 2 if heavier and i % 10 == 0 else 1
        parts.append("virtual_server %s 80 {\n    delay_loop 1\n    lb_algo wlc\n    lb_kind NAT\n    protocol TCP\n"
                     "    real_server %s %d {\n        weight %d\n        TCP_CHECK {\n            connect_timeout 1\n"
                     "            retry 0\n        }\n    }\n}\n" % (vs_address(i), address, port, weight))
    return "".join(parts)


def ports(n_vs):
    return sorted({real_server(i)[1] for i in range(n_vs)})


def build_lab(tag, n_vs, work):
    d, s, p = tag + "d", tag + "s", tag + "p"
    for ns in (d, s, p):
        sh("ip", "netns", "add", ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
    sh("ip", "-n", d, "link", "add", "srv0", "type", "veth", "peer", "name", "srv0", "netns", s)
    sh("ip", "-n", d, "addr", "add", "192.0.2.1/24", "dev", "srv0")
    sh("ip", "-n", d, "link", "set", "srv0", "up")
    sh("ip", "-n", d, "route", "add", "203.0.113.0/24", "via", "192.0.2.2")
    sh("ip", "-n", s, "addr", "add", "192.0.2.2/24", "dev", "srv0")
    sh("ip", "-n", s, "link", "set", "srv0", "up")
    for address in ADDRESSES:
        sh("ip", "-n", s, "addr", "add", address + "/32", "dev", "lo")
    sh("ip", "-n", d, "link", "add", "lan0", "type", "veth", "peer", "name", "lan0", "netns", p)
    sh("ip", "-n", d, "addr", "add", "198.51.100.1/24", "dev", "lan0")
    sh("ip", "-n", d, "link", "set", "lan0", "up")
    sh("ip", "-n", p, "addr", "add", "198.51.100.2/24", "dev", "lan0")
    sh("ip", "-n", p, "link", "set", "lan0", "up")
    rules = os.path.join(work, "flap.nft")
    with open(rules, "w") as f:
        f.write("table inet soak {\n  set down { type ipv4_addr; }\n  chain input {\n"
                "    type filter hook input priority 0;\n    ip daddr @down tcp flags syn reject with tcp reset\n  }\n}\n")
    sh("ip", "netns", "exec", s, "nft", "-f", rules)
    # nginx, not a Python accept loop: in the emulated VM a Python accept costs milliseconds and
    # could not answer 1,000 connections a second, so the checks would time out for its sake.
    for folder in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        os.makedirs(os.path.join(work, "nginx", folder), exist_ok=True)
    conf = os.path.join(work, "nginx", "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF.format(dir=os.path.join(work, "nginx"),
                                  listens="\n".join("        listen %d backlog=4096;" % port for port in ports(n_vs))))
    server = subprocess.Popen(["ip", "netns", "exec", s, shutil.which("nginx") or "/usr/sbin/nginx", "-c", conf],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return d, s, p, server


NGINX_CONF = """# bench-soak: the real servers (a TCP_CHECK only connects)
worker_processes 1;
worker_rlimit_nofile 16384;
daemon off;
master_process off;
user root;
pid {dir}/nginx.pid;
error_log {dir}/error.log crit;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    keepalive_timeout 0;
    server {{
{listens}
        return 204;
    }}
}}
"""




def tree(pid):
    """The daemon's processes (keepalived: parent, VRRP and checker children)."""
    pids = [pid]
    for candidate in os.listdir("/proc"):
        if candidate.isdigit():
            try:
                with open("/proc/%s/stat" % candidate) as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        pids.append(int(candidate))
            except (OSError, ValueError, IndexError):
                pass
    return pids


LISTED = ("tcp", "tcp6", "udp", "udp6", "raw", "raw6", "unix", "netlink", "packet")
INODE_COLUMN = {"unix": 6, "packet": 8}  # the others: column 9


def socket_tables(pid):
    """The inodes of every socket that the process's namespace lists in /proc/PID/net, and among
    them the checks in flight: TCP sockets to the real servers' ports (10000-10003), whose number
    follows the load, not a leak."""
    listed, in_flight = set(), set()
    for table in LISTED:
        try:
            with open("/proc/%d/net/%s" % (pid, table)) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    inode = fields[INODE_COLUMN.get(table, 9)]
                    listed.add(inode)
                    if table in ("tcp", "tcp6") and 10000 <= int(fields[2].rsplit(":", 1)[1], 16) <= 10003:
                        in_flight.add(inode)
        except (OSError, StopIteration, ValueError, IndexError):
            pass
    return listed, in_flight


def link(path):
    try:
        return os.readlink(path)
    except OSError:
        return None  # closed meanwhile


def resources(pid):
    """Of the daemon's processes: descriptors (without the checks' connections in flight),
    threads, VmRSS, CPU seconds; of those descriptors the sockets that no table of the namespace
    lists (a TCP socket leaves the tables when the server resets it or before it connects, so
    these are checks between their socket() and connect() or between a reset and their close; a
    leaked check socket would be one too, and would pile up past the number of checkers within
    seconds at 1,000 checks a second); and where the resident memory is: anonymous (the heap and
    malloc's arenas, stacks) against file-backed, with the number of mappings."""
    r = {"fds": 0, "threads": 0, "rss_kib": 0, "cpu_s": 0.0, "unlisted": 0, "anon_kib": 0, "mappings": 0}
    for p in tree(pid):
        try:
            listed, in_flight = socket_tables(p)
            links = [n for n in map(lambda fd: link("/proc/%d/fd/%s" % (p, fd)), os.listdir("/proc/%d/fd" % p)) if n is not None]
            counted = [n for n in links if not (n.startswith("socket:[") and n[8:-1] in in_flight)]
            r["fds"] += len(counted)
            r["unlisted"] += len([n for n in counted if n.startswith("socket:[") and n[8:-1] not in listed])
            r["threads"] += len(os.listdir("/proc/%d/task" % p))
            with open("/proc/%d/status" % p) as f:
                r["rss_kib"] += next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
            with open("/proc/%d/stat" % p) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            r["cpu_s"] += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            with open("/proc/%d/smaps_rollup" % p) as f:
                r["anon_kib"] += next(int(line.split()[1]) for line in f if line.startswith("Anonymous:"))
            with open("/proc/%d/maps" % p) as f:
                r["mappings"] += sum(1 for _ in f)
        except (OSError, StopIteration, ValueError):
            pass
    return r


UP_LINE = re.compile(r'^keepalived_real_server_up\{([^}]*)\} (\S+)$', re.M)


def checks_say(namespace):
    """The state of every real server in /metrics: {(virtual server, real server): up}."""
    command = ["ip", "netns", "exec", namespace, "curl", "-s", "--max-time", "5", "http://127.0.0.1:%d/metrics" % PORT]
    text = subprocess.run(command, stdout=subprocess.PIPE, text=True).stdout
    states = {}
    for labels, value in UP_LINE.findall(text):
        pairs = dict(re.findall(r'(\w+)="([^"]*)"', labels))
        states[(pairs.get("virtual_server", ""), pairs.get("real_server", ""))] = value == "1"
    return states


def kernel_table(namespace):
    """{(virtual server, real server): weight} from ipvsadm -Ln."""
    text = sh("ip", "netns", "exec", namespace, "ipvsadm", "-Ln")
    table, service = {}, None
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0] in ("TCP", "UDP"):
            service = fields[1]
        elif len(fields) >= 4 and fields[0] == "->" and service and fields[1][0].isdigit():
            table[(service, fields[1])] = int(fields[3])
    return table


def key_of(metric_key):
    """Metric labels (keepalived's notation, [198.18.0.1]:tcp:80) to ipvsadm's (198.18.0.1:80)."""
    def notation(label):
        match = re.match(r"^\[([^\]]+)\]:\w+:(\d+)$", label)
        return "%s:%s" % match.groups() if match else label
    return tuple(notation(label) for label in metric_key)


def compare(namespace):
    before = checks_say(namespace)
    table = kernel_table(namespace)
    time.sleep(1.2)
    after = checks_say(namespace)
    compared = mismatches = 0
    examples = []
    for key, up in before.items():
        if after.get(key) != up:
            continue
        compared += 1
        weight = table.get(key_of(key))
        if (weight is not None and weight > 0) != up:
            mismatches += 1
            if len(examples) < 3:
                examples.append("%s/%s:%s-vs-%s" % (key[0], key[1], "up" if up else "down", weight))
    return compared, mismatches, examples, len(before)


def run(a):
    tag = "sk%04x" % random.randrange(1 << 16)
    work = a.work
    live = os.path.join(work, "soak-%s.conf" % a.daemon)
    heavier = False
    with open(live, "w") as f:
        f.write(config(a.vs, heavier))
    d, s, p, server = build_lab(tag, a.vs, work)
    namespaces = (d, s, p)
    adverts = os.path.join(work, a.daemon + ".adverts")
    log_path = os.path.join(work, a.daemon + ".log")
    seconds = a.minutes * 60
    recorder = proc = sleeper_proc = None
    result = {}
    try:
        recorder = subprocess.Popen(["ip", "netns", "exec", p, sys.executable, os.path.join(HERE, "bench-daemon.py"), "record",
                                     "lan0", "198.51.100.1", "51", str(seconds + 600), adverts])
        pidfile = os.path.join(work, a.daemon + ".pid")
        command = [a.binary, "-n", "-l", "-f", live, "-p", pidfile]
        if a.daemon == "ours":
            command += ["--metrics-listen", "127.0.0.1:%d" % PORT]
        else:
            command += ["-r", pidfile + ".vrrp", "-c", pidfile + ".checkers"]
        log = open(log_path, "w")
        proc = subprocess.Popen(["ip", "netns", "exec", d] + command, stdout=log, stderr=subprocess.STDOUT)
        # Settled: the table has every service.
        started = time.monotonic()
        while time.monotonic() - started < 300:
            if sh("ip", "netns", "exec", d, "ipvsadm", "-Ln", check=False).count("TCP ") >= a.vs:
                break
            if proc.poll() is not None:
                raise RuntimeError("%s exited with %s" % (a.daemon, proc.returncode))
            time.sleep(1)
        result["settle_s"] = "%.0f" % (time.monotonic() - started)
        stalls = os.path.join(work, a.daemon + ".stalls")
        sleeper_proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "sleeper", "--out", stalls])
        window_start_real = time.time()
        start = time.monotonic()
        end = start + seconds
        next_flap = next_dump = next_sample = start
        next_reload = start + RELOAD_EVERY
        down, reloads, dumps, flaps = set(), 0, 0, 0
        samples, comparisons = [], []
        while True:
            now = time.monotonic()
            if now >= end:
                break
            if proc.poll() is not None:
                raise RuntimeError("%s exited with %s during the run" % (a.daemon, proc.returncode))
            if now >= next_flap:
                changing = random.sample(ADDRESSES, FLAP_COUNT)
                for address in changing:
                    down ^= {address}
                elements = ", ".join(sorted(down))
                rules = "flush set inet soak down\n" + ("add element inet soak down { %s }\n" % elements if down else "")
                subprocess.run(["ip", "netns", "exec", s, "nft", "-f", "-"], input=rules, text=True, check=False)
                flaps += 1
                next_flap += FLAP_EVERY
            if now >= next_reload:
                heavier = not heavier
                with open(live + ".next", "w") as f:
                    f.write(config(a.vs, heavier))
                os.replace(live + ".next", live)
                proc.send_signal(signal.SIGHUP)
                reloads += 1
                next_reload += RELOAD_EVERY
            if now >= next_dump:
                proc.send_signal(signal.SIGUSR1)
                proc.send_signal(signal.SIGUSR2)
                dumps += 1
                next_dump += DUMP_EVERY
            if now >= next_sample:
                r = resources(proc.pid)
                samples.append((now - start, r["fds"], r["threads"], r["rss_kib"], r["cpu_s"], r["unlisted"], r["fds"] - r["unlisted"]))
                with open(os.path.join(work, a.daemon + ".samples"), "a") as f:
                    f.write("%.0f %s\n" % (now - start, " ".join("%s=%s" % (k, round(v, 2)) for k, v in r.items())))
                next_sample += SAMPLE_EVERY
                if a.daemon == "ours" and now - start > 30:
                    comparisons.append(compare(d))
            time.sleep(max(0.0, min(next_flap, next_reload, next_dump, next_sample, end) - time.monotonic()))
        sleeper_proc.send_signal(signal.SIGTERM)
        sleeper_proc.wait(30)
        with open(stalls) as f:
            values = dict(line.strip().split("=", 1) for line in f if "=" in line)
        result["sleeper_worst_s"] = values.get("worst", "-")
        result["sleeper_late"] = values.get("late", "-")
        result["sleeper_list"] = values.get("worst_list", "-") or "-"
        result.update(summarize(samples, comparisons, a.minutes))
        result["reloads"] = reloads
        result["dumps"] = dumps
        result["flaps"] = flaps
        gaps = subprocess.run([sys.executable, os.path.join(HERE, "bench-daemon.py"), "gaps", adverts, "--from",
                               "%.3f" % window_start_real, "--window", str(seconds)], stdout=subprocess.PIPE, text=True).stdout
        values = dict(line.split("=", 1) for line in gaps.splitlines() if "=" in line)
        result["adverts"] = values.get("count", "-")
        result["advert_worst_gap_s"] = values.get("worst", "-")
        result["adverts_late"] = values.get("late", "-")
        result["late_list"] = values.get("late_list", "-")[:300] or "-"
        with open(log_path) as f:
            text = f.read()
        result["log_errors"] = len(re.findall(r"(?i)\berror\b", text))
        result["checker_downs"] = len(re.findall(r"(?i)Removing service|remove.*from VS", text))
    finally:
        if proc and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if recorder:
            recorder.kill()
        if sleeper_proc and sleeper_proc.poll() is None:
            sleeper_proc.kill()
        server.kill()
        BENCH_DAEMON.remove_namespaces(namespaces)
    return result


def sleeper(a):
    """The VM's own stalls: sleep 0.1 s again and again at the daemon's priority and note how late
    each wake-up came; on SIGTERM write the count, the worst and the worst ten (lateness@second of
    the window) to OUT. An advert late by what the sleeper was late by is the VM's, not the loop's."""
    lateness = []
    began = time.monotonic()
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    while not stop:
        before = time.monotonic()
        time.sleep(0.1)
        lateness.append((time.monotonic() - before - 0.1, before - began))
    worst = sorted(lateness, reverse=True)
    with open(a.out, "w") as f:
        f.write("count=%d\nworst=%.3f\nlate=%d\nworst_list=%s\n" % (
            len(lateness), worst[0][0] if worst else 0.0, len([x for x in lateness if x[0] >= 0.005]),
            ",".join("%.3f@%.0f" % x for x in worst[:10])))
    return 0


def median(values):
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else 0


def summarize(samples, comparisons, minutes):
    """Growth after warm-up: the median of the last fifth of the samples against the median of the
    first fifth after warm-up (a sixth of the run, at least 2 minutes)."""
    warm = max(120.0, minutes * 60 / 6)
    after = [s for s in samples if s[0] >= warm]
    out = {"samples": len(samples)}
    if len(after) >= 5:
        fifth = max(1, len(after) // 5)
        first, last = after[:fifth], after[-fifth:]
        for index, name in ((1, "fds"), (2, "threads"), (3, "rss_kib"), (5, "fds_unlisted"), (6, "fds_own")):
            out[name + "_warm"] = median([s[index] for s in first])
            out[name + "_end"] = median([s[index] for s in last])
            out[name + "_growth"] = out[name + "_end"] - out[name + "_warm"]
            out[name + "_max"] = max(s[index] for s in after)
        span = after[-1][0] - after[0][0]
        out["cpu_s_per_hour"] = "%.1f" % ((after[-1][4] - after[0][4]) * 3600 / span) if span > 0 else "-"
    if comparisons:
        out["table_checks"] = len(comparisons)
        out["table_compared"] = sum(c[0] for c in comparisons)
        out["table_mismatches"] = sum(c[1] for c in comparisons)
        out["table_real_servers"] = comparisons[-1][3]
        examples = [e for c in comparisons for e in c[2]][:3]
        out["table_examples"] = ";".join(examples) or "-"
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--daemon", choices=("ours", "keepalived"), required=True)
    r.add_argument("--binary", required=True)
    r.add_argument("--minutes", type=float, default=60)
    r.add_argument("--vs", type=int, default=1000)
    r.add_argument("--work", required=True)
    z = sub.add_parser("sleeper")
    z.add_argument("--out", required=True)
    a = parser.parse_args()
    if a.cmd == "sleeper":
        return sleeper(a)
    try:
        result = run(a)
    except Exception as error:  # noqa: BLE001 - reported as the result
        result = {"error": str(error).replace(" ", "_")}
    print(" ".join(["RESULT", a.daemon] + ["%s=%s" % (k, str(v).replace(" ", "_")) for k, v in result.items()]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
