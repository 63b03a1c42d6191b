#!/usr/bin/env python3
"""In-VM part of Scripts/bench-metrics (see its header); python3 standard library only.

    bench-metrics.py run --ours BIN --keepalived BIN [--vs 1000] [--rs 20] [--window 20]
                         [--rate 10] [--order ours,keepalived]

For each daemon, in a network namespace of its own (bm<hex>-<daemon>, a veth lan0 with
192.168.200.1/24 whose peer lan0p is in a second namespace, bm<hex>-<daemon>-r): the 1,000 x 20 IPVS
config of Scripts/gen-ipvs-config.py plus one VRRP master (VI_1 on lan0, advert_int 1, VRID 51);
every advert is recorded on lan0p
(bench-daemon.py record). Once the kernel holds the whole table: an idle window, then a window
scraped `rate` times a second, both `window` s, the daemon's CPU sampled over each:
  ours        GET /metrics from --metrics-listen 127.0.0.1:9650 on one kept connection with
              Accept-Encoding: gzip, as Prometheus asks (every virtual and real server's state); latency = request to last
              byte. The first scrape (every block written) before the idle window and, after the
              window, one GET /metrics/ipvs (the kernel's counters, read for it), timed apart.
  keepalived  what keepalived-exporter does for a scrape without JSON: SIGUSR2 (stats) and SIGUSR1
              (data) to the daemon; latency = signal to keepalived.data rewritten
CPU per scrape = (scraped window's CPU - idle window's CPU) / scrapes. Adverts: the worst gap in the
scraped window. Prints key=value lines per daemon, prefixed with its name.
"""
import argparse
import ctypes
import gzip
import importlib.util
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def load(name, file):
    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, file))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench_daemon = load("bench_daemon", "bench-daemon.py")
_libc = ctypes.CDLL(None, use_errno=True)
PORT = 9650


def sh(*args, check=True):
    return subprocess.run(list(args), check=check, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout


def enter_netns(name):
    fd = os.open("/run/netns/" + name, os.O_RDONLY)
    try:
        if _libc.setns(fd, 0x40000000) != 0:
            raise OSError(ctypes.get_errno(), "setns " + name)
    finally:
        os.close(fd)


def table_size(ns):
    out = sh("ip", "netns", "exec", ns, "ipvsadm", "-Ln", check=False)
    services = sum(1 for line in out.splitlines() if line.startswith(("TCP", "UDP")))
    dests = sum(1 for line in out.splitlines() if line.strip().startswith("->") and "RemoteAddress" not in line)
    return services, dests


def fetch(path, timeout=5):
    """GET path as Prometheus asks for it (Accept-Encoding: gzip); the whole answer, head included."""
    s = socket.create_connection(("127.0.0.1", PORT), timeout=timeout)
    s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: bench\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n")
    data = bytearray()
    while True:
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        data += chunk
    s.close()
    if not data.startswith(b"HTTP/1.1 200"):
        raise OSError("answer: %r" % bytes(data[:40]))
    return bytes(data)


def cpu_seconds(pid):
    """User + system CPU of a process, all its threads."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class KeptConnection:
    """GETs on one connection kept between scrapes, as Prometheus keeps its (HTTP/1.1
    keep-alive), opened again when the daemon closed it."""

    def __init__(self):
        self.socket = None

    def get(self, path):
        for attempt in (0, 1):
            if self.socket is None:
                self.socket = socket.create_connection(("127.0.0.1", PORT), timeout=5)
            try:
                return self.exchange(path)
            except OSError:
                self.socket.close()
                self.socket = None
                if attempt:
                    raise

    def exchange(self, path):
        self.socket.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: bench\r\nAccept-Encoding: gzip\r\n\r\n")
        data = bytearray()
        while b"\r\n\r\n" not in data:
            chunk = self.socket.recv(1 << 20)
            if not chunk:
                raise OSError("closed")
            data += chunk
        head, _, rest = bytes(data).partition(b"\r\n\r\n")
        length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")))
        body = bytearray(rest)
        while len(body) < length:
            chunk = self.socket.recv(1 << 20)
            if not chunk:
                raise OSError("closed")
            body += chunk
        if not head.startswith(b"HTTP/1.1 200"):
            raise OSError("answer: %r" % head[:40])
        if b"connection: close" in head.lower():
            self.socket.close()
            self.socket = None
        return head + b"\r\n\r\n" + bytes(body)


def timed_fetch(ns, pid, path):
    """(answer, latency, CPU the daemon spent) of one GET from inside the namespace."""
    fetched = {}

    def run():
        enter_netns(ns)
        cpu = cpu_seconds(pid)
        t0 = time.monotonic()
        fetched["answer"] = fetch(path, timeout=120)
        fetched["latency"] = time.monotonic() - t0
        fetched["cpu"] = cpu_seconds(pid) - cpu
    thread = threading.Thread(target=run)
    thread.start()
    thread.join(150)
    if "answer" not in fetched:
        raise RuntimeError("GET %s got no answer" % path)
    return fetched["answer"], fetched["latency"], fetched["cpu"]


def body(answer):
    head, _, text = answer.partition(b"\r\n\r\n")
    return gzip.decompress(text) if b"content-encoding: gzip" in head.lower() else text


def own_cost(answer):
    """(answers built, CPU seconds building them) as /metrics reports them."""
    values = {}
    for line in body(answer).splitlines():
        name, _, value = line.partition(b" ")
        if name in (b"keepalived_metrics_builds_total", b"keepalived_metrics_build_cpu_seconds_total"):
            values[name] = float(value)
    return values.get(b"keepalived_metrics_builds_total", 0), values.get(b"keepalived_metrics_build_cpu_seconds_total", 0.0)


def series(answer):
    """Samples in an answer of ours (gzip or not)."""
    return sum(1 for line in body(answer).splitlines() if line and not line.startswith(b"#"))


class Scraper(threading.Thread):
    def __init__(self, ns, kind, pid, rate, seconds, path="/metrics"):
        super().__init__(daemon=True)
        self.ns, self.kind, self.pid, self.rate, self.seconds, self.path = ns, kind, pid, rate, seconds, path
        self.latencies, self.sizes, self.errors = [], [], 0
        self.first = b""
        self.connection = KeptConnection()

    def ours(self):
        t0 = time.monotonic()
        data = self.connection.get(self.path)
        latency = time.monotonic() - t0
        if not self.sizes:
            self.first = data
        return latency, len(data)

    def keepalived(self):
        path = "/tmp/keepalived.data"
        before = os.stat(path).st_mtime_ns if os.path.exists(path) else 0
        t0 = time.monotonic()
        os.kill(self.pid, signal.SIGUSR2)
        os.kill(self.pid, signal.SIGUSR1)
        while time.monotonic() - t0 < 5:
            if os.path.exists(path) and os.stat(path).st_mtime_ns != before:
                break
            time.sleep(0.0005)
        else:
            raise OSError("keepalived.data not rewritten")
        return time.monotonic() - t0, os.path.getsize(path)

    def run(self):
        enter_netns(self.ns)
        start = time.monotonic()
        n = 0
        while time.monotonic() - start < self.seconds:
            try:
                latency, size = self.ours() if self.kind == "ours" else self.keepalived()
                self.latencies.append(latency)
                self.sizes.append(size)
            except OSError:
                self.errors += 1
            n += 1
            pause = start + n / self.rate - time.monotonic()
            if pause > 0:
                time.sleep(pause)


def per_request_ms(busy, idle_per_second, seconds, requests):
    """CPU per request in ms: a window's CPU less what the same seconds cost idle."""
    return "%.2f" % (1000 * (busy - idle_per_second * seconds) / requests)


def kv_lines(text):
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def sample(pid, seconds):
    out = subprocess.run([sys.executable, os.path.join(HERE, "bench-daemon.py"), "sample", str(pid), str(seconds)],
                         stdout=subprocess.PIPE, text=True).stdout
    return kv_lines(out)


def one(daemon, binary, args, run_id, work):
    ns = "bm%s-%s" % (run_id, daemon[:2])
    listener = ns + "-r"
    sh("ip", "netns", "add", ns)
    sh("ip", "netns", "add", listener)
    try:
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        # The other end in a namespace of its own: an advert arriving where its source address is
        # local would be dropped as a martian.
        sh("ip", "-n", ns, "link", "add", "lan0", "type", "veth", "peer", "name", "lan0p", "netns", listener)
        sh("ip", "-n", ns, "addr", "add", "192.168.200.1/24", "dev", "lan0")
        sh("ip", "-n", ns, "link", "set", "lan0", "up")
        sh("ip", "-n", listener, "addr", "add", "192.168.200.2/24", "dev", "lan0p")
        sh("ip", "-n", listener, "link", "set", "lan0p", "up")
        conf = os.path.join(work, daemon + ".conf")
        subprocess.run([sys.executable, os.path.join(HERE, "gen-ipvs-config.py"), work, "--vs", str(args.vs), "--rs", str(args.rs), "--change", "0"],
                       check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(work, "base.conf")) as f:
            text = f.read()
        text += ("\nvrrp_instance VI_1 {\n    interface lan0\n    state MASTER\n    priority 150\n    advert_int 1\n"
                 "    virtual_router_id 51\n    virtual_ipaddress {\n        192.0.2.200/24\n    }\n}\n")
        with open(conf, "w") as f:
            f.write(text)
        total = 600
        adverts = os.path.join(work, daemon + ".adverts")
        recorder = subprocess.Popen(["ip", "netns", "exec", listener, sys.executable, os.path.join(HERE, "bench-daemon.py"), "record",
                                     "lan0p", "192.168.200.1", "51", str(total), adverts])
        log = open(os.path.join(work, daemon + ".log"), "w")
        pidfile = os.path.join(work, daemon + ".pid")
        if daemon == "ours":
            command = [binary, "-n", "-l", "-f", conf, "-p", pidfile, "--metrics-listen", "127.0.0.1:%d" % PORT]
        else:
            command = [binary, "-n", "-l", "-f", conf, "-p", pidfile, "-r", pidfile + ".vrrp", "-c", pidfile + ".checkers"]
        started = time.monotonic()
        proc = subprocess.Popen(["ip", "netns", "exec", ns] + command, stdout=log, stderr=subprocess.STDOUT)
        result = {}
        try:
            while time.monotonic() - started < 300:
                if table_size(ns) == (args.vs, args.vs * args.rs):
                    break
                if proc.poll() is not None:
                    raise RuntimeError("%s exited with %s" % (daemon, proc.returncode))
                time.sleep(0.5)
            else:
                raise RuntimeError("%s: the table never reached %d x %d" % (daemon, args.vs, args.rs))
            result["table_s"] = "%.1f" % (time.monotonic() - started)
            time.sleep(5)
            if daemon == "ours":
                # The first /metrics writes every block: timed on its own, then the windows
                # measure the scrapes Prometheus makes from then on.
                _, latency, cpu = timed_fetch(ns, proc.pid, "/metrics")
                result["first_scrape_latency_ms"] = "%.0f" % (1000 * latency)
                result["first_scrape_cpu_ms"] = "%.0f" % (1000 * cpu)
                time.sleep(2)
                own_before = own_cost(timed_fetch(ns, proc.pid, "/metrics")[0])
            idle_start = time.time()
            idle = sample(proc.pid, args.window)
            scraper = Scraper(ns, daemon, proc.pid, args.rate, args.window)
            window_start = time.time()
            scraper.start()
            busy = sample(proc.pid, args.window)
            scraper.join(10)
            gaps = kv_lines(subprocess.run([sys.executable, os.path.join(HERE, "bench-daemon.py"), "gaps", adverts, "--from", "%.3f" % window_start,
                                            "--window", str(args.window)], stdout=subprocess.PIPE, text=True).stdout)
            lat = sorted(scraper.latencies)
            n = len(lat)
            result["scrapes"] = n
            result["scrape_errors"] = scraper.errors
            result["bytes_per_scrape"] = int(sum(scraper.sizes) / n) if n else 0
            result["latency_median_ms"] = "%.2f" % (1000 * lat[n // 2]) if n else "-"
            result["latency_p99_ms"] = "%.2f" % (1000 * bench_daemon.percentile(lat, 99)) if n else "-"
            result["latency_max_ms"] = "%.2f" % (1000 * lat[-1]) if n else "-"
            cpu_idle, cpu_busy = float(idle.get("cpu_s", "nan")), float(busy.get("cpu_s", "nan"))
            result["cpu_idle_s"] = "%.3f" % cpu_idle
            result["cpu_scraped_s"] = "%.3f" % cpu_busy
            result["cpu_per_scrape_ms"] = "%.2f" % (1000 * (cpu_busy - cpu_idle) / n) if n else "-"
            # The same to the nanosecond (utime+stime come in 1/100 s).
            oncpu_idle, oncpu_busy = float(idle.get("oncpu_s", "nan")), float(busy.get("oncpu_s", "nan"))
            result["oncpu_idle_s"] = "%.3f" % oncpu_idle
            result["oncpu_scraped_s"] = "%.3f" % oncpu_busy
            # A thread that ends within a window takes its time out of the threads' sum (Dispatch
            # retires idle workers): utime+stime, which keeps the time of ended threads, is the
            # measure; this one is a cross-check, left out when a window came out negative.
            valid = oncpu_idle >= 0 and oncpu_busy >= 0
            result["oncpu_per_scrape_ms"] = "%.2f" % (1000 * (oncpu_busy - oncpu_idle) / n) if n and valid else "-"
            # The same VM's own jitter: the idle window's adverts.
            idle_gaps = kv_lines(subprocess.run([sys.executable, os.path.join(HERE, "bench-daemon.py"), "gaps", adverts, "--from", "%.3f" % idle_start,
                                                 "--window", str(args.window)], stdout=subprocess.PIPE, text=True).stdout)
            result["advert_worst_gap_idle_s"] = idle_gaps.get("worst", "-")
            result["adverts_late_idle"] = idle_gaps.get("late", "-")
            result["advert_worst_gap_s"] = gaps.get("worst", "-")
            result["adverts_late"] = gaps.get("late", "-")
            result["adverts"] = gaps.get("count", "-")
            if daemon == "ours" and scraper.first:
                result["series_per_scrape"] = series(scraper.first)
                # The same bytes for nginx to serve (nginx_reference).
                with open(os.path.join(work, "metrics.gz"), "wb") as f:
                    f.write(scraper.first.partition(b"\r\n\r\n")[2])
                # The daemon's own account of the answers it built (the others were reused).
                time.sleep(1.1)
                own_after = own_cost(timed_fetch(ns, proc.pid, "/metrics")[0])
                built = own_after[0] - own_before[0]
                result["answers_built"] = built
                result["build_cpu_ms_per_answer"] = "%.2f" % (1000 * (own_after[1] - own_before[1]) / built) if built else "-"
                # The floor: the same requests for a page of a few bytes that costs no work
                # (what a request costs the daemon in this VM, whatever it asks).
                floor = Scraper(ns, daemon, proc.pid, args.rate, args.window // 2, path="/")
                floor.start()
                floor_sample = sample(proc.pid, args.window // 2)
                floor_cpu, floor_oncpu = float(floor_sample.get("cpu_s", "nan")), float(floor_sample.get("oncpu_s", "nan"))
                floor.join(10)
                if floor.latencies:
                    n_floor = len(floor.latencies)
                    result["floor_cpu_per_request_ms"] = per_request_ms(floor_cpu, cpu_idle / args.window, args.window // 2, n_floor)
                    result["floor_oncpu_per_request_ms"] = (per_request_ms(floor_oncpu, oncpu_idle / args.window, args.window // 2, n_floor)
                                                            if valid and floor_oncpu >= 0 else "-")
                # The kernel's counters, on their own path: one fetch, timed.
                answer, latency, cpu = timed_fetch(ns, proc.pid, "/metrics/ipvs")
                result["ipvs_latency_ms"] = "%.0f" % (1000 * latency)
                result["ipvs_cpu_ms"] = "%.0f" % (1000 * cpu)
                result["ipvs_bytes"] = len(answer)
                result["ipvs_series"] = series(answer)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            recorder.kill()
            recorder.wait()
            log.close()
        return result
    finally:
        bench_daemon.remove_namespaces((ns, listener))


NGINX_CONF = """daemon off;
user root;
worker_processes 1;
pid %(work)s/nginx.pid;
error_log %(work)s/nginx.error.log;
events { worker_connections 64; }
http {
    access_log off;
    sendfile on;
    keepalive_timeout 75s;
    keepalive_requests 100000;
    client_body_temp_path %(work)s; proxy_temp_path %(work)s; fastcgi_temp_path %(work)s;
    uwsgi_temp_path %(work)s; scgi_temp_path %(work)s;
    server {
        listen 127.0.0.1:%(port)d;
        location = /metrics {
            default_type "text/plain; version=0.0.4";
            add_header Content-Encoding gzip;
            alias %(work)s/metrics.gz;
        }
        location = / { return 200 "ok"; }
    }
}
"""


def nginx_reference(args, run_id, work):
    """What a web server of the field costs in this VM for the same requests: Debian's nginx (one
    worker, sendfile, keep-alive) serving ours' gzip answer as a static file, and a page of a few
    bytes, each at the scrape rate on one kept connection for half a window; CPU per request of
    its processes (the idle CPU over 5 s first taken off)."""
    ns = "bm%s-ng" % run_id
    sh("ip", "netns", "add", ns)
    try:
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        conf = os.path.join(work, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF % {"work": work, "port": PORT})
        proc = subprocess.Popen(["ip", "netns", "exec", ns, "nginx", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        result = {}
        ready = time.monotonic() + 30
        while time.monotonic() < ready and str(PORT) not in sh("ip", "netns", "exec", ns, "ss", "-Htln", check=False):
            time.sleep(0.2)
        idle = sample(proc.pid, 5)
        seconds = args.window // 2
        for path, key in (("/metrics", "metrics"), ("/", "floor")):
            scraper = Scraper(ns, "ours", proc.pid, args.rate, seconds, path=path)
            scraper.start()
            busy = sample(proc.pid, seconds)
            scraper.join(10)
            n = len(scraper.latencies)
            if n:
                for measure, name in (("cpu_s", "_cpu_per_request_ms"), ("oncpu_s", "_oncpu_per_request_ms")):
                    result[key + name] = per_request_ms(float(busy.get(measure, "nan")), float(idle.get(measure, "nan")) / 5, seconds, n)
                result[key + "_bytes"] = int(sum(scraper.sizes) / n)
            result[key + "_errors"] = scraper.errors
        return result
    finally:
        bench_daemon.remove_namespaces((ns,))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--ours", required=True)
    r.add_argument("--keepalived", required=True)
    r.add_argument("--vs", type=int, default=1000)
    r.add_argument("--rs", type=int, default=20)
    r.add_argument("--window", type=int, default=20)
    r.add_argument("--rate", type=float, default=10.0)
    r.add_argument("--order", default="ours,keepalived")
    r.add_argument("--work", required=True)
    a = p.parse_args()
    run_id = "%04x" % random.randrange(1 << 16)
    for daemon in a.order.split(","):
        try:
            result = one(daemon, a.ours if daemon == "ours" else a.keepalived, a, run_id, a.work)
        except Exception as e:  # noqa: BLE001 - reported, the other daemon still runs
            result = {"error": str(e).replace(" ", "_")}
        print(" ".join(["RESULT", daemon] + ["%s=%s" % kv for kv in result.items()]), flush=True)
    if os.path.exists(os.path.join(a.work, "metrics.gz")):
        try:
            result = nginx_reference(a, run_id, a.work)
        except Exception as e:  # noqa: BLE001 - reported
            result = {"error": str(e).replace(" ", "_")}
        print(" ".join(["RESULT", "nginx"] + ["%s=%s" % kv for kv in result.items()]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
