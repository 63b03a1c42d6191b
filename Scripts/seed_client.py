#!/usr/bin/env python3
"""Helper of Scripts/seed-experiments (runs inside the VM of Scripts/vm, as root; stdlib only).

  seed_client.py web READY_FILE NS=INDEX_HTML...
      ONE process serving every web server of the lab: for each pair it enters network namespace NS
      (setns on this thread), listens on 0.0.0.0:80 there and answers every request with the
      contents of INDEX_HTML (HTTP/1.0, then closes), and on 0.0.0.0:7 echoes every line back
      prefixed with INDEX_HTML's text (the server's name). Touches READY_FILE once all listen.

  seed_client.py run [options]
      One experiment's measurement, every clock reading from this one process (time.time(), the
      same clock as the daemon logs' stamps written by the bash script):
        - a thread per director namespace watching the VIP come and go (rtnetlink, RTMGRP_IPV4_IFADDR,
          after a dump of the addresses already there);
        - optionally the client: a thread in the client namespace fetching http://VIP/ every
          --period s (a new TCP connection each time, --timeout s for the whole request), rotating
          over the client's source addresses; each request's start, end, source, success, body;
        - optionally --echo-conns long-lived connections from the client to the VIP's port 7, one
          line every --echo-period s on each: when each line came back, and resets;
        - this thread, in the switch namespace: an AF_PACKET socket on the bridge sees every VRRP
          advert (IP protocol 112 to 224.0.0.18; the bridge floods multicast to itself too). After
          --pre s it waits for the next advert of the master and at once acts: `cut` sets the
          master's bridge port down over rtnetlink (RTM_NEWLINK, IFF_UP cleared: a pulled cable),
          `sigterm` sends SIGTERM to --master-pid. Then it keeps watching for --post s.
      Prints the timeline (unless --quiet) and writes the measured key=value pairs to --kv-out.
"""

import argparse
import collections
import ctypes
import json
import os
import re
import selectors
import signal
import socket
import struct
import sys
import threading
import time

CLONE_NEWNET = 0x40000000
ECHO_PORT = 7
_libc = ctypes.CDLL(None, use_errno=True)


def enter_netns(name):
    """Moves the calling thread (only) into network namespace `name` (ip netns add's bind mount)."""
    fd = os.open("/run/netns/" + name, os.O_RDONLY)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, "setns(%s): %s" % (name, os.strerror(err)))
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------------------------
# web servers


def listening(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(512)
    s.setblocking(False)
    return s


def receive(conn):
    """What conn has for us: bytes, b"" once it is closed or failed, None when nothing yet."""
    try:
        return conn.recv(4096)
    except BlockingIOError:
        return None
    except OSError:
        return b""


def cmd_web(args):
    sel = selectors.DefaultSelector()
    for pair in args.servers:
        ns, index = pair.split("=", 1)
        with open(index, "rb") as f:
            body = f.read()
        enter_netns(ns)
        resp = (b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                % len(body)) + body
        sel.register(listening(80), selectors.EVENT_READ, ("listen", resp))
        # The long-lived connections' service: each line comes back prefixed with the server's name.
        sel.register(listening(ECHO_PORT), selectors.EVENT_READ, ("echo-listen", body.strip()))
    with open(args.ready, "w") as f:
        f.write("%d\n" % os.getpid())
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    bufs = {}
    while True:
        for key, _ in sel.select(timeout=1.0):
            kind, data = key.data
            if kind in ("listen", "echo-listen"):
                try:
                    conn, _ = key.fileobj.accept()
                except OSError:
                    continue
                conn.setblocking(False)
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                bufs[conn] = b""
                sel.register(conn, selectors.EVENT_READ, ("echo" if kind == "echo-listen" else "conn", data))
                continue
            conn = key.fileobj
            chunk = receive(conn)
            if chunk is None:
                continue
            bufs[conn] += chunk
            done = not chunk
            if kind == "echo":
                *lines, bufs[conn] = bufs[conn].split(b"\n")
                if lines and chunk:
                    try:
                        conn.sendall(b"".join(data + b" " + line + b"\n" for line in lines))
                    except OSError:
                        pass
            elif chunk and (b"\r\n\r\n" in bufs[conn] or len(bufs[conn]) > 65536):
                try:
                    conn.send(data)
                except OSError:
                    pass
                done = True
            if done:
                sel.unregister(conn)
                bufs.pop(conn, None)
                conn.close()


# ---------------------------------------------------------------------------------------------
# rtnetlink

NLMSG_ERROR, NLMSG_DONE = 2, 3
RTM_NEWLINK, RTM_NEWADDR, RTM_DELADDR, RTM_GETADDR = 16, 20, 21, 22
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 1, 4, 0x300
RTMGRP_IPV4_IFADDR = 0x10
IFA_ADDRESS, IFA_LOCAL, IFA_LABEL = 1, 2, 3
IFF_UP = 1


def nl_messages(data):
    off = 0
    while off + 16 <= len(data):
        length, mtype, flags, seq, pid = struct.unpack_from("=LHHLL", data, off)
        if length < 16:
            break
        yield mtype, flags, seq, data[off + 16:off + length]
        off += (length + 3) & ~3


def rt_attrs(data):
    off = 0
    while off + 4 <= len(data):
        length, atype = struct.unpack_from("=HH", data, off)
        if length < 4:
            break
        yield atype, data[off + 4:off + length]
        off += (length + 3) & ~3


def link_set_down(sock, ifindex, seq):
    """RTM_NEWLINK with IFF_UP cleared; returns the kernel's answer (0 = done)."""
    ifi = struct.pack("=BBHiII", socket.AF_UNSPEC, 0, 0, ifindex, 0, IFF_UP)
    sock.send(struct.pack("=LHHLL", 16 + len(ifi), RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, seq, 0) + ifi)
    while True:
        for mtype, _, mseq, payload in nl_messages(sock.recv(65536)):
            if mtype == NLMSG_ERROR and mseq == seq:
                return -struct.unpack_from("=i", payload)[0]


class AddrWatch(threading.Thread):
    """Watches one namespace for the VIP: events (time, node, 'present'|'added'|'removed', ifname)."""

    def __init__(self, ns, node, vip, events, stop):
        super().__init__(daemon=True)
        self.ns, self.node, self.vip, self.events, self.stop = ns, node, vip, events, stop
        self.has_vip = None
        self.ready = threading.Event()
        self.error = None

    def run(self):
        try:
            enter_netns(self.ns)
            s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            s.bind((0, RTMGRP_IPV4_IFADDR))
            s.settimeout(0.2)
            seq = 4242
            ifa = struct.pack("=BBBBI", socket.AF_INET, 0, 0, 0, 0)
            s.send(struct.pack("=LHHLL", 16 + len(ifa), RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, seq, 0) + ifa)
            self.has_vip = False
            dumping = True
            while not self.stop.is_set():
                try:
                    data = s.recv(1 << 16)
                except socket.timeout:
                    continue
                now = time.time()
                for mtype, _, mseq, payload in nl_messages(data):
                    if mtype == NLMSG_DONE and mseq == seq:
                        dumping = False
                        self.ready.set()
                        continue
                    if mtype not in (RTM_NEWADDR, RTM_DELADDR) or len(payload) < 8:
                        continue
                    family = payload[0]
                    if family != socket.AF_INET:
                        continue
                    addr, label = None, ""
                    for atype, val in rt_attrs(payload[8:]):
                        if atype == IFA_LOCAL or (atype == IFA_ADDRESS and addr is None):
                            addr = socket.inet_ntoa(val[:4])
                        elif atype == IFA_LABEL:
                            label = val.rstrip(b"\0").decode(errors="replace")
                    if addr != self.vip:
                        continue
                    if dumping and mseq == seq:
                        self.has_vip = True
                        self.events.append((now, self.node, "present", label))
                    elif mtype == RTM_NEWADDR:
                        self.has_vip = True
                        self.events.append((now, self.node, "added", label))
                    else:
                        self.has_vip = False
                        self.events.append((now, self.node, "removed", label))
        except Exception as e:  # noqa: BLE001 - reported by the caller
            self.error = "%s: %s" % (self.node, e)
            self.ready.set()


# ---------------------------------------------------------------------------------------------
# client


class Client(threading.Thread):
    def __init__(self, ns, addrs, vip, period, timeout, stop):
        super().__init__(daemon=True)
        self.ns, self.addrs, self.vip, self.period, self.timeout, self.stop = ns, addrs, vip, period, timeout, stop
        self.requests = []  # (t0, t1, src, ok, body or error)
        self.error = None
        self.started = threading.Event()

    def one(self, src):
        deadline = time.time() + self.timeout
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.bind((src, 0))
            s.settimeout(self.timeout)
            s.connect((self.vip, 80))
            s.sendall(b"GET / HTTP/1.0\r\nHost: %s\r\nUser-Agent: seed-experiments\r\n\r\n" % self.vip.encode())
            data = b""
            while True:
                left = deadline - time.time()
                if left <= 0:
                    raise socket.timeout("timed out")
                s.settimeout(left)
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.") or b" 200 " not in head.split(b"\r\n")[0] + b" ":
                return False, "bad answer"
            return True, body.decode(errors="replace").strip() or "(empty)"
        except socket.timeout:
            return False, "timeout"
        except ConnectionRefusedError:
            return False, "refused"
        except ConnectionResetError:
            return False, "reset"
        except OSError as e:
            return False, (e.strerror or str(e)).lower()
        finally:
            s.close()

    def run(self):
        try:
            enter_netns(self.ns)
        except Exception as e:  # noqa: BLE001
            self.error = str(e)
            self.started.set()
            return
        self.started.set()
        i = 0
        nxt = time.time()
        while not self.stop.is_set():
            src = self.addrs[i % len(self.addrs)]
            i += 1
            t0 = time.time()
            ok, what = self.one(src)
            self.requests.append((t0, time.time(), src, ok, what))
            nxt += self.period
            now = time.time()
            if nxt > now:
                time.sleep(nxt - now)
            else:
                nxt = now


class EchoClients(threading.Thread):
    """Long-lived TCP connections through the VIP (the echo service on ECHO_PORT): one line on each
    every `period` s; per connection the times its lines came back, the server that answered and
    how it ended (reset, closed) if it did."""

    def __init__(self, ns, addrs, vip, count, period, stop):
        super().__init__(daemon=True)
        self.ns, self.addrs, self.vip, self.count, self.period, self.stop = ns, addrs, vip, count, period, stop
        self.conns = []  # dicts: src, sock, echoes [t], server, ended (t, why) or None
        self.error = None
        self.connected = threading.Event()

    def run(self):
        try:
            enter_netns(self.ns)
            for i in range(self.count):
                src = self.addrs[i % len(self.addrs)]
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.bind((src, 0))
                s.settimeout(2.0)
                c = {"src": src, "sock": s, "echoes": [], "server": None, "ended": None, "buf": b""}
                try:
                    s.connect((self.vip, ECHO_PORT))
                    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    s.setblocking(False)
                except OSError as e:
                    c["ended"] = (time.time(), "connect: " + (e.strerror or str(e)).lower())
                    s.close()
                self.conns.append(c)
        except Exception as e:  # noqa: BLE001 - reported by the caller
            self.error = str(e)
            self.connected.set()
            return
        self.connected.set()
        sel = selectors.DefaultSelector()
        for c in self.conns:
            if c["ended"] is None:
                sel.register(c["sock"], selectors.EVENT_READ, c)
        seq = 0
        nxt = time.time()
        while not self.stop.is_set():
            now = time.time()
            if now >= nxt:
                seq += 1
                for c in self.conns:
                    if c["ended"] is None:
                        try:
                            c["sock"].send(b"%d\n" % seq)
                        except BlockingIOError:
                            pass
                        except OSError as e:
                            self.end(sel, c, now, e)
                nxt += self.period
            for key, _ in sel.select(timeout=max(0.0, min(0.05, nxt - time.time()))):
                c = key.data
                now = time.time()
                try:
                    chunk = c["sock"].recv(4096)
                except BlockingIOError:
                    continue
                except OSError as e:
                    self.end(sel, c, now, e)
                    continue
                if not chunk:
                    self.end(sel, c, now, None)
                    continue
                c["buf"] += chunk
                *lines, c["buf"] = c["buf"].split(b"\n")
                for line in lines:
                    c["echoes"].append(now)
                    c["server"] = c["server"] or line.split(b" ", 1)[0].decode(errors="replace")
        for c in self.conns:
            if c["ended"] is None:
                c["sock"].close()

    @staticmethod
    def end(sel, c, now, error):
        why = "closed" if error is None else ("reset" if isinstance(error, ConnectionResetError) else (error.strerror or str(error)).lower())
        c["ended"] = (now, why)
        try:
            sel.unregister(c["sock"])
        except (KeyError, ValueError):
            pass
        c["sock"].close()


# ---------------------------------------------------------------------------------------------
# daemon logs (each line "EPOCH text", stamped by the bash script as it was read)

INTEREST = re.compile(
    r"Receive advertisement timeout|Entering \w+ STATE|setting VIPs|removing VIPs|gratuitous ARP"
    r"|priority 0|higher priority|Stopping|Stopped|Shutting|[Ii]nterface .* (down|up)|Netlink reports"
    r"|Netlink: .*(down|up)|(Adding|Removing) (service|virtual server)|ens33 (down|up)|fault|FAULT"
    r"|Starting|[Ee]rror|ERROR|failed|Terminat")
DATE_PREFIX = re.compile(r"^(\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}: |\d{4}-\d\d-\d\d[T ][\d:.,]+\S*\s+)")


def read_log(path):
    lines = []
    try:
        with open(path, errors="replace") as f:
            for raw in f:
                stamp, _, text = raw.rstrip("\n").partition(" ")
                try:
                    t = float(stamp)
                except ValueError:
                    continue
                lines.append((t, DATE_PREFIX.sub("", text)))
    except OSError:
        pass
    return lines


# ---------------------------------------------------------------------------------------------
# the experiment


def parse_advert(frame):
    """(src, dst, vrid, priority) of a VRRP advert in an IPv4 packet (no Ethernet header), or None."""
    if len(frame) < 28 or frame[0] >> 4 != 4 or frame[9] != 112:
        return None
    ihl = (frame[0] & 15) * 4
    vr = frame[ihl:ihl + 8]
    if len(vr) < 4:
        return None
    return socket.inet_ntoa(frame[12:16]), socket.inet_ntoa(frame[16:20]), vr[1], vr[2]


def fmt_rel(t, t0):
    return "%+8.3f" % (t - t0)


def cmd_run(a):
    sys.setswitchinterval(0.0005)
    stop = threading.Event()
    events = []  # address events
    watches = [AddrWatch(a.master_ns, "d1", a.vip, events, stop), AddrWatch(a.backup_ns, "d2", a.vip, events, stop)]
    for w in watches:
        w.start()
    for w in watches:
        w.ready.wait(5)
        if w.error:
            print("seed_client: address watch failed: %s" % w.error, file=sys.stderr)
    client = None
    if a.client_ns:
        client = Client(a.client_ns, a.client_addrs.split(","), a.vip, a.period, a.timeout, stop)
    echo = None
    if a.client_ns and a.echo_conns:
        echo = EchoClients(a.client_ns, a.client_addrs.split(","), a.vip, a.echo_conns, a.echo_period, stop)
        echo.start()
        echo.connected.wait(a.echo_conns * 2.0 + 1)

    # this thread: the switch
    enter_netns(a.switch_ns)
    ETH_P_IP = 0x0800
    ps = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_IP))
    ps.bind((a.bridge, ETH_P_IP))
    ps.settimeout(0.05)
    nl = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    nl.bind((0, 0))
    port_index = socket.if_nametoindex(a.master_port)

    adverts = []  # (t, src, prio)
    t_start = time.time()
    if client:
        client.start()
        client.started.wait(5)
    arm_at = t_start + a.pre
    t_act = t_act_done = trig = None
    act_result = ""
    give_up = arm_at + 5.0  # no master advert at all: act anyway
    end_at = None
    takeover_seen_at = None
    while True:
        try:
            frame = ps.recv(2048)
            now = time.time()
        except socket.timeout:
            frame, now = None, time.time()
        if frame is not None:
            adv = parse_advert(frame)
            if adv and adv[1] == "224.0.0.18":
                adverts.append((now, adv[0], adv[3]))
                if t_act is None and now >= arm_at and adv[0] == a.master_ip and adv[3] > 0:
                    trig = now
        if t_act is None and (trig is not None or now >= give_up):
            t_act = time.time()
            if a.action == "cut":
                err = link_set_down(nl, port_index, 77)
                act_result = "port %s down" % a.master_port + ("" if err == 0 else " FAILED: %s" % os.strerror(err))
            else:
                try:
                    os.kill(a.master_pid, signal.SIGTERM)
                    act_result = "SIGTERM to the master daemon (pid %d)" % a.master_pid
                except OSError as e:
                    act_result = "SIGTERM to pid %d FAILED: %s" % (a.master_pid, e)
            t_act_done = time.time()
            end_at = t_act + a.post
        if t_act is not None:
            if a.end_after_takeover is not None and takeover_seen_at is None and watches[1].has_vip:
                takeover_seen_at = now
                end_at = min(end_at, now + a.end_after_takeover)
            if now >= end_at:
                break
    stop.set()
    if client:
        client.join(2)
    if echo:
        echo.join(2)
    for w in watches:
        w.join(1)
    t_end = time.time()

    # ---- analysis -------------------------------------------------------------------------
    kv = collections.OrderedDict()
    out = []

    def say(s=""):
        out.append(s)

    logs = {"d1": read_log(a.log_master), "d2": read_log(a.log_backup)}
    reqs = client.requests if client else []
    oks = [r for r in reqs if r[3]]
    fails = [r for r in reqs if not r[3]]
    before = [r for r in oks if r[0] < t_act]
    after = [r for r in oks if r[0] >= t_act]

    def servers(rs):
        return ",".join(sorted(set(r[4] for r in rs))) or "none"

    # takeover: the VIP added on the backup after the action
    adds = [e for e in sorted(events) if e[1] == "d2" and e[2] == "added" and e[0] >= t_act]
    takeover = adds[0][0] - t_act if adds else None
    d1_removed = [e for e in sorted(events) if e[1] == "d1" and e[2] == "removed" and e[0] >= t_act]
    log_master_state = [t for t, txt in logs["d2"] if t >= t_act and "Entering MASTER STATE" in txt]

    def found(node, pattern):
        rx = re.compile(pattern)
        return [(t, txt) for t, txt in logs[node] if t >= t_act - 0.05 and rx.search(txt)]

    vip_re = re.escape(a.vip)
    checks = collections.OrderedDict([
        ("timeout_logged", found("d2", r"Receive advertisement timeout")),
        ("prio0_logged", found("d2", r"priority 0 advert")),
        ("master_logged", found("d2", r"Entering MASTER STATE")),
        ("vips_logged", found("d2", r"setting VIPs\.")),
        ("garp_logged", found("d2", r"Sending gratuitous ARP on ens33 for " + vip_re + r"\b")),
    ])

    gaps = []
    prev = None
    for r in sorted(oks, key=lambda r: r[1]):
        if prev is not None:
            gaps.append((r[1] - prev[1], prev, r))
        prev = r
    longest = max(gaps, key=lambda g: g[0]) if gaps else None

    master_adv = [x for x in adverts if x[1] == a.master_ip and x[2] > 0 and x[0] < t_act]
    last_adv = master_adv[-1][0] if master_adv else None

    if client:
        kv["served"] = len(oks)
        kv["failed"] = len(fails)
        kv["longest_gap"] = "%.3f" % longest[0] if longest else "-"
        kv["servers_before"] = servers(before)
        kv["servers_after"] = servers(after)
    else:
        kv["served"] = "-"
        kv["failed"] = "-"
        kv["longest_gap"] = "-"
        kv["servers_before"] = "-"
        kv["servers_after"] = "-"
    kv["backup_has_vip"] = "yes" if watches[1].has_vip else "no"
    kv["master_has_vip"] = "yes" if watches[0].has_vip else "no"
    kv["takeover_s"] = "%.3f" % takeover if takeover is not None else "-"
    kv["takeover_log_s"] = "%.3f" % (log_master_state[0] - t_act) if log_master_state else "-"
    kv["action_after_advert_ms"] = "%.1f" % (1000 * (t_act - last_adv)) if last_adv and trig else "-"
    kv["action_took_ms"] = "%.1f" % (1000 * (t_act_done - t_act))
    if client:
        per_addr = collections.OrderedDict((s, [set(), set()]) for s in a.client_addrs.split(","))
        for r in oks:
            per_addr[r[2]][0 if r[0] < t_act else 1].add(r[4])
        kv["sticky_before"] = "%d/%d" % (sum(1 for b, _ in per_addr.values() if len(b) == 1),
                                         sum(1 for b, _ in per_addr.values() if b))
        kv["sticky_after"] = "%d/%d" % (sum(1 for _, f in per_addr.values() if len(f) == 1),
                                        sum(1 for _, f in per_addr.values() if f))
        kv["failed_before"] = sum(1 for r in fails if r[0] < t_act)
        kv["failed_after"] = sum(1 for r in fails if r[0] >= t_act)
    if client:
        # Persistence across the action: addresses answered by one server before and another after.
        kv["persist_moved"] = sum(1 for b, f in per_addr.values() if len(b) == 1 and f and f != b)
    if echo:
        t_takeover = adds[0][0] if adds else None
        conns = echo.conns
        opened = [c for c in conns if c["echoes"] and c["echoes"][0] < t_act]
        reset = [c for c in opened if c["ended"] and c["ended"][1] == "reset"]
        ended = [c for c in opened if c["ended"]]
        resumed = [c for c in opened if not c["ended"] and any(t > (t_takeover or t_act) for t in c["echoes"])]

        def silence(c):
            ts = [t_act] + [t for t in c["echoes"] if t >= t_act]
            before_ = [t for t in c["echoes"] if t < t_act]
            if before_:
                ts[0] = before_[-1]
            end = c["ended"][0] if c["ended"] else t_end
            return max(b - x for x, b in zip(ts, ts[1:] + [end]))

        kv["echo_conns"] = len(conns)
        kv["echo_open_before"] = len(opened)
        kv["echo_kept"] = len(resumed)
        kv["echo_reset"] = len(reset)
        kv["echo_ended"] = len(ended)
        kv["echo_max_silence"] = "%.3f" % max((silence(c) for c in opened), default=0.0)
        kv["echo_resume_after_takeover"] = ("%.3f" % max(min(t for t in c["echoes"] if t > t_takeover) - t_takeover for c in resumed)
                                            if resumed and t_takeover else "-")
        kv["echo_servers"] = ",".join(sorted(set(c["server"] for c in opened if c["server"]))) or "none"
    for k, v in checks.items():
        kv[k] = "yes" if v else "no"
    kv["garp_lines"] = len(checks["garp_logged"])
    # The same fixed window around the action in every run ([action - pre, action + post): the client
    # starts 0..1 s earlier than that, depending on when the master's advert came): counts comparable
    # from run to run, where served/failed count the client's whole run.
    if client:
        win = [r for r in reqs if t_act - a.pre <= r[0] < t_act + a.post]
        kv["window_s"] = "%.1f" % (a.pre + a.post)
        kv["window_served"] = sum(1 for r in win if r[3])
        kv["window_failed"] = sum(1 for r in win if not r[3])
    else:
        kv["window_s"] = kv["window_served"] = kv["window_failed"] = "-"

    # ---- timeline -------------------------------------------------------------------------
    T = t_act
    verb = "cut the master's link" if a.action == "cut" else "SIGTERM the master"
    say("  timeline (seconds relative to the %s; clock of the VM)" % ("cut" if a.action == "cut" else "SIGTERM"))
    tl = []  # (t, order, who, text)
    for t, node, what, ifname in events:
        if what == "present":
            tl.append((t_start, 0, node, "holds the VIP %s%s" % (a.vip, " on " + ifname if ifname else "")))
        elif what == "added":
            tl.append((t, 1, node, "VIP %s ADDED%s -> %s holds the VIP" % (a.vip, " on " + ifname if ifname else "", node)))
        else:
            tl.append((t, 1, node, "VIP %s removed%s" % (a.vip, " from " + ifname if ifname else "")))
    if not any(e[1] == "d1" and e[2] == "present" for e in events) and not any(e[1] == "d2" and e[2] == "present" for e in events):
        tl.append((t_start, 0, "--", "nobody holds the VIP %s at the start" % a.vip))
    # adverts: a summary before, every one around and after the action
    n_before = len(master_adv)
    if n_before:
        iv = [b[0] - x[0] for x, b in zip(master_adv, master_adv[1:])]
        tl.append((master_adv[0][0], 2, "switch", "adverts from the master %s seen: %d before the action%s"
                   % (a.master_ip, n_before, ", every %.3f s on average" % (sum(iv) / len(iv)) if iv else "")))
    if last_adv:
        tl.append((last_adv, 2, "switch", "advert from %s (priority %d)%s" % (
            a.master_ip, master_adv[-1][2], " -- the one the action follows" if trig else "")))
    shown_backup = 0
    for t, src, prio in adverts:
        if t < T:
            continue
        if prio == 0:
            tl.append((t, 2, "switch", "advert from %s with PRIORITY 0 (the master resigns)" % src))
        elif src != a.master_ip and shown_backup < 2:
            shown_backup += 1
            tl.append((t, 2, "switch", "advert from %s (priority %d)%s" % (src, prio, " -- the backup's first" if shown_backup == 1 else "")))
        elif src == a.master_ip:
            tl.append((t, 2, "switch", "advert from the master %s (priority %d)" % (src, prio)))
    tl.append((T, 3, "ACTION", "%s: %s (done %.1f ms later)" % (verb, act_result, 1000 * (t_act_done - t_act))))
    # daemon log lines worth seeing: around and after the action
    for node in ("d1", "d2"):
        last = None
        rep = 0
        for t, txt in logs[node]:
            if t < T - 1.5 or not INTEREST.search(txt):
                continue
            if last is not None and txt == last[1] and t - last[0] < 0.5:
                rep += 1
                continue
            if rep:
                tl.append((last[0], 4, node + " log", "   (the line above %d more time%s)" % (rep, "s" if rep > 1 else "")))
                rep = 0
            tl.append((t, 4, node + " log", txt))
            last = (t, txt)
        if rep:
            tl.append((last[0], 4, node + " log", "   (the line above %d more time%s)" % (rep, "s" if rep > 1 else "")))
    # client: runs of the same outcome, split at the action and at the takeover
    if client:
        marks = [T] + ([adds[0][0]] if adds else [])
        seg = []

        def flush():
            if not seg:
                return
            okseg = seg[0][3]
            if okseg:
                c = collections.Counter(r[4] for r in seg)
                what = "%3d served   %s" % (len(seg), " ".join("%s x%d" % kv_ for kv_ in sorted(c.items())))
            else:
                c = collections.Counter(r[4] for r in seg)
                what = "%3d FAILED   %s" % (len(seg), ", ".join("%s x%d" % kv_ for kv_ in sorted(c.items())))
            span = "until %s" % fmt_rel(seg[-1][1], T).strip()
            tl.append((seg[0][0], 5, "client", "%s  (%s)" % (what, span)))
            seg.clear()

        for r in reqs:
            if seg and (seg[0][3] != r[3] or any(seg[0][0] < m <= r[0] for m in marks)):
                flush()
            seg.append(r)
        flush()
        if longest:
            tl.append((longest[1][1], 6, "client", "last answer before the longest gap (%.3f s, next answer at %s)"
                       % (longest[0], fmt_rel(longest[2][1], T).strip())))
    tl.sort(key=lambda x: (x[0], x[1]))
    for t, _, who, text in tl:
        say("  %s  %-7s %s" % (fmt_rel(t, T), who, text))
    say("  %s  %-7s end of the watch (%.1f s after the action)" % (fmt_rel(t_end, T), "--", t_end - T))

    if client:
        say()
        say("  requests: %d served, %d failed (%d before / %d after the action); longest gap between answers %s s"
            % (len(oks), len(fails), kv["failed_before"], kv["failed_after"], kv["longest_gap"]))
        if not oks:
            errs = collections.Counter(r[4] for r in fails)
            say("  NO request was answered at all (%s)" % ", ".join("%s x%d" % x for x in errs.most_common()))
        say("  per client address (persistence_timeout 50: one web server per address on each director):")
        say("    %-16s %-26s %s" % ("source", "before the action", "after the action"))
        for src, (b, f) in per_addr.items():
            cb = collections.Counter(r[4] for r in before if r[2] == src)
            ca = collections.Counter(r[4] for r in after if r[2] == src)
            say("    %-16s %-26s %s" % (src, " ".join("%s x%d" % x for x in sorted(cb.items())) or "-",
                                        " ".join("%s x%d" % x for x in sorted(ca.items())) or "-"))
    if echo:
        say()
        say("  long-lived connections (one line every %.1f s each): %s open before the action, %s kept after the takeover,"
            " %s reset, %s ended otherwise; longest silence %s s; the last to echo again did so %s s after the takeover"
            % (a.echo_period, kv["echo_open_before"], kv["echo_kept"], kv["echo_reset"],
               kv["echo_ended"] - kv["echo_reset"], kv["echo_max_silence"], kv["echo_resume_after_takeover"]))
        for c in echo.conns:
            if c["ended"]:
                say("    %s via %s: %s %s" % (c["src"], c["server"] or "-", c["ended"][1], fmt_rel(c["ended"][0], T).strip()))
    say()
    say("  VIP now: d1 %s, d2 %s; takeover (VIP on d2) %s s after the action; backup's 'Entering MASTER STATE' at %s s"
        % ("holds it" if watches[0].has_vip else "has not", "holds it" if watches[1].has_vip else "has not",
           kv["takeover_s"], kv["takeover_log_s"]))
    found_txt = ", ".join("%s=%s" % (k, kv[k]) for k in checks)
    say("  backup's log after the action: %s (gratuitous ARP lines: %d)" % (found_txt, kv["garp_lines"]))

    if not a.quiet:
        print("\n".join(out), flush=True)
    with open(a.kv_out, "w") as f:
        f.write(" ".join("%s=%s" % (k, v) for k, v in kv.items()) + "\n")
    if a.events_out:
        with open(a.events_out, "w") as f:
            json.dump({"t_action": t_act, "t_start": t_start, "t_end": t_end, "adverts": adverts,
                       "vip_events": events, "requests": reqs}, f)
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("web")
    w.add_argument("ready")
    w.add_argument("servers", nargs="+")
    r = sub.add_parser("run")
    r.add_argument("--vip", required=True)
    r.add_argument("--master-ns", required=True)
    r.add_argument("--backup-ns", required=True)
    r.add_argument("--switch-ns", required=True)
    r.add_argument("--bridge", default="br0")
    r.add_argument("--master-port", required=True)
    r.add_argument("--master-ip", required=True, help="source address of the master's adverts")
    r.add_argument("--action", choices=("cut", "sigterm"), required=True)
    r.add_argument("--master-pid", type=int, default=0)
    r.add_argument("--client-ns")
    r.add_argument("--client-addrs", default="")
    r.add_argument("--period", type=float, default=0.05)
    r.add_argument("--timeout", type=float, default=0.2)
    r.add_argument("--pre", type=float, default=3.0)
    r.add_argument("--post", type=float, default=6.0)
    r.add_argument("--end-after-takeover", type=float, default=None)
    r.add_argument("--echo-conns", type=int, default=0, help="long-lived connections to the VIP's echo service")
    r.add_argument("--echo-period", type=float, default=0.2)
    r.add_argument("--log-master", required=True)
    r.add_argument("--log-backup", required=True)
    r.add_argument("--kv-out", required=True)
    r.add_argument("--events-out")
    r.add_argument("--quiet", action="store_true")
    a = p.parse_args()
    return cmd_web(a) if a.cmd == "web" else cmd_run(a)


if __name__ == "__main__":
    sys.exit(main())
