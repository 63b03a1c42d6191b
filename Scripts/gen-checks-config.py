#!/usr/bin/env python3
"""Generate the health-check benchmark config of Scripts/bench-checks: virtual servers whose real
servers all have an HTTP_GET checker, plus the list of real-server addresses (which the benchmark
puts on the loopback of a throw-away network namespace inside the VM, where one nginx answers them
all).

Usage: gen-checks-config.py OUTFILE [--rs 400] [--vs 20] [--delay 2]
    writes the keepalived.conf to OUTFILE and prints the real-server addresses, one a line.

Also imported by Scripts/bench-checks (functions real_servers() and render()).

Layout: `vs` virtual servers 198.18.0.1 .. 198.18.0.<vs> port 80 (protocol TCP, lb_algo rr,
lb_kind DR, delay_loop `delay`), the `rs` real servers dealt out in turn (real server i goes to
virtual server i % vs), real server i at 198.18.<1 + i // 250>.<1 + i % 250> port 80, weight 1,
each with
    HTTP_GET { url { path /health  status_code 200 }  connect_timeout 2  retry 1  delay_before_retry 1 }
No vrrp_instance, no VIP on any interface (IPVS programming does not need it). Addresses: only
the benchmarking range 198.18.0.0/15. Deterministic for given sizes.
"""
import argparse
import sys

PORT = 80
PATH = "/health"
MAX_RS = 250 * 254  # third octet 1 .. 254


def rs_addr(i):
    """Address of real server i (0-based): 198.18.1.1 .. 198.18.1.250, 198.18.2.1, ..."""
    if not 0 <= i < MAX_RS:
        raise ValueError("at most %d real servers fit in 198.18.1.0 - 198.18.254.255" % MAX_RS)
    return "198.18.%d.%d" % (1 + i // 250, 1 + i % 250)


def vs_addr(j):
    if not 0 <= j < 254:
        raise ValueError("at most 254 virtual servers (198.18.0.1 .. 198.18.0.254)")
    return "198.18.0.%d" % (j + 1)


def real_servers(n_rs):
    return [rs_addr(i) for i in range(n_rs)]


def render(n_rs, n_vs=20, delay=2, connect_timeout=2, check="http"):
    """The config; `check` is http (HTTP_GET), dns (DNS_CHECK on UDP port 53) or ping (PING_CHECK)."""
    if n_rs < 1 or n_vs < 1:
        raise ValueError("need at least one real server and one virtual server")
    n_vs = min(n_vs, n_rs)
    port, proto = (53, "UDP") if check == "dns" else (PORT, "TCP")
    out = ["# Scripts/gen-checks-config.py: %d virtual_server, %d real_server with %s, delay_loop %s\n\n"
           % (n_vs, n_rs, {"http": "HTTP_GET", "dns": "DNS_CHECK", "ping": "PING_CHECK"}[check], delay)]
    w = out.append
    for j in range(n_vs):
        w("virtual_server %s %d {\n" % (vs_addr(j), port))
        w("    delay_loop %s\n" % delay)
        w("    lb_algo rr\n")
        w("    lb_kind DR\n")
        w("    protocol %s\n" % proto)
        for i in range(j, n_rs, n_vs):
            w("    real_server %s %d {\n" % (rs_addr(i), port))
            w("        weight 1\n")
            if check == "dns":
                w("        DNS_CHECK {\n")
                w("            type A\n")
                w("            name bench.test\n")
            elif check == "ping":
                w("        PING_CHECK {\n")
            else:
                w("        HTTP_GET {\n")
                w("            url {\n")
                w("                path %s\n" % PATH)
                w("                status_code 200\n")
                w("            }\n")
            w("            connect_timeout %s\n" % connect_timeout)
            w("            retry 1\n")
            w("            delay_before_retry 1\n")
            w("        }\n")
            w("    }\n")
        w("}\n\n")
    return "".join(out)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("outfile")
    p.add_argument("--rs", type=int, default=400, help="real servers in all (default 400)")
    p.add_argument("--vs", type=int, default=20, help="virtual servers (default 20)")
    p.add_argument("--delay", default="2", help="delay_loop in seconds (default 2)")
    p.add_argument("--check", default="http", choices=["http", "dns", "ping"], help="the checker (default http)")
    a = p.parse_args()
    try:
        text = render(a.rs, a.vs, a.delay, check=a.check)
        addrs = real_servers(a.rs)
    except ValueError as error:
        print("gen-checks-config.py: %s" % error, file=sys.stderr)
        return 2
    with open(a.outfile, "w") as f:
        f.write(text)
    print("\n".join(addrs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
