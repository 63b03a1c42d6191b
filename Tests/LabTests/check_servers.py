#!/usr/bin/env python3
"""Real servers for the health-check lab tests (HTTP_GET, SSL_GET, TCP_CHECK). Python 3.11, stdlib.

    check_servers.py [--cert CERT.pem --key KEY.pem] [--access-log FILE] [--control ADDR:PORT] LISTENER...

LISTENER is ADDRESS:PORT=MODE[,option=value...]; ADDRESS is IPv4 or bracketed IPv6 ([2001:db8::1]:80).
Prints `READY` once every listener (and the control port) is bound; runs until SIGTERM/SIGINT (exit 0).
Bad arguments or a failed bind: a message on stderr, exit 2.

Modes (a `tls-` prefix runs the same mode inside TLS, needs --cert/--key; e.g. tls-http, tls-slow):
  http          read the request (up to the blank line, at most 64 KiB), answer, close. Options:
                  status=NNN        status code (default 200)
                  body=TEXT         body (default `ok\\n`); escapes \\n \\r \\t \\\\ \\xHH (\\x2c for a comma)
                  path-status=/p:NNN[;/q:NNN...]   status per request path (exact match, query ignored)
                  chunked=1         Transfer-Encoding: chunked, chunks of 3 bytes, one with an extension
                  length=0          no Content-Length (the body ends at close)
                  delay=SECONDS     wait that long before answering (default 0)
                The status line is HTTP/1.1 if the request was HTTP/1.1 (or chunked=1), else HTTP/1.0.
                Always `Connection: close`; HEAD gets no body.
  slow          like http (same options) but sends the response one byte every interval=SECONDS (1.0)
  garbage       read the request, send size=N (2048) random non-HTTP bytes, close
  endless       read the request, send `HTTP/1.0 200 OK` headers without Content-Length, then body
                bytes forever as fast as the peer reads
  huge-headers  read the request, send a status line then header lines forever (never the blank line)
  silent        read and discard, never answer; hold until the peer closes
  tcp           accept and hold until the peer closes (TCP_CHECK success)
  reset         accept, then close at once with RST (SO_LINGER 0); clients may see this as a failed
                connect. With read=1: read the request first (logged), then RST (a failed read).
  tls-stall     accept TCP, never start the TLS handshake; hold until the peer closes
  tls-garbage   accept TCP, wait for the ClientHello, answer size=N random bytes (not TLS), close
(A refused port needs no mode: just do not listen on it, or `close` it.)

--access-log FILE appends one line per HTTP request read (modes http, slow, garbage, endless,
huge-headers, reset with read=1, and their tls- forms), flushed at once:
    <unix time, ms> <ADDRESS:PORT of the listener> <method> <path> <Host header or ->[ sni=<name or ->]
The sni= field is present exactly on TLS connections. ADDRESS:PORT is normalized (e.g. [2001:db8::1]:80).

--control ADDR:PORT: a plain-TCP line protocol (several commands per connection are fine):
    mode ADDR:PORT MODE[,opts]   new connections of that listener get this mode        -> ok
    close ADDR:PORT              stop listening (connects are refused; open ones stay) -> ok
    open ADDR:PORT [MODE[,opts]] listen again (default: its last mode); ok once bound   -> ok
    stats ADDR:PORT              -> ok connections=N requests=M mode=MODE[,opts]
Failures answer `error <reason>`. `open` may also create a listener not given on the command line.
"""
import argparse, asyncio, errno, http, ipaddress, logging, os, re, signal, socket, ssl, struct, sys, time

HTTP_OPTIONS = {"status", "body", "path-status", "chunked", "length", "delay"}
MODES = {"http": HTTP_OPTIONS, "slow": HTTP_OPTIONS | {"interval"}, "garbage": {"size"}, "endless": set(),
         "huge-headers": set(), "silent": set(), "tcp": set(), "reset": {"read"}, "stall": set()}
MAX_REQUEST = 64 * 1024


class SpecError(Exception):
    pass


def parse_address(text):
    """'1.2.3.4:80' or '[v6]:80' -> (ip string, port, normalized key)."""
    m = re.fullmatch(r"\[([^\]]+)\]:(\d+)", text) or re.fullmatch(r"([^:\[\]]+):(\d+)", text)
    if not m:
        raise SpecError(f"bad address {text!r} (want IPv4:PORT or [IPv6]:PORT)")
    try:
        ip = ipaddress.ip_address(m.group(1))
    except ValueError:
        raise SpecError(f"bad IP address {m.group(1)!r}")
    port = int(m.group(2))
    if not 0 < port < 65536:
        raise SpecError(f"bad port {port}")
    return str(ip), port, (f"[{ip}]:{port}" if ip.version == 6 else f"{ip}:{port}")


def parse_mode(text, have_tls):
    """'tls-http,status=404' -> dict(text, mode, tls, and the decoded options)."""
    name, *options = text.strip().split(",")
    tls = name.startswith("tls-")
    mode = name[4:] if tls else name
    if mode not in MODES or (mode == "stall" and not tls):
        raise SpecError(f"unknown mode {name!r}")
    if tls and not have_tls:
        raise SpecError(f"mode {name} needs --cert and --key")
    spec = {"text": text.strip(), "mode": mode, "tls": tls, "status": 200, "body": b"ok\n", "paths": {},
            "chunked": False, "length": True, "read": False, "delay": 0.0, "interval": 1.0, "size": 2048}
    for option in options:
        key, eq, value = option.partition("=")
        if not eq or key not in MODES[mode]:
            raise SpecError(f"option {option!r} is not valid for mode {name}")
        try:
            if key == "status":
                spec["status"] = int(value)
            elif key == "body":
                spec["body"] = value.encode().decode("unicode_escape").encode("latin-1")
            elif key == "path-status":
                for item in value.split(";"):
                    path, _, code = item.rpartition(":")
                    spec["paths"][path] = int(code)
            elif key in ("chunked", "length", "read"):
                spec[key] = value not in ("0", "no", "false")
            elif key in ("delay", "interval"):
                spec[key] = float(value)
            elif key == "size":
                spec["size"] = int(value)
        except (ValueError, UnicodeError):
            raise SpecError(f"bad value in option {option!r}")
    return spec


def garbage(size):
    # A leading NUL: never mistaken for "HTTP/" nor for a TLS record (content types 20..24).
    return b"\x00" + os.urandom(max(size - 1, 0))


def http_response(spec, method, target, version):
    status = spec["paths"].get(target, spec["paths"].get(target.split("?")[0], spec["status"]))
    try:
        reason = http.HTTPStatus(status).phrase
    except ValueError:
        reason = "Whatever"
    body = spec["body"]
    proto = "HTTP/1.1" if version == "HTTP/1.1" or spec["chunked"] else "HTTP/1.0"
    head = [f"{proto} {status} {reason}", "Server: check_servers", "Content-Type: text/plain", "Connection: close"]
    if spec["chunked"]:
        head.append("Transfer-Encoding: chunked")
        pieces = [body[i:i + 3] for i in range(0, len(body), 3)]
        body = b"".join(b"%X%s\r\n%s\r\n" % (len(p), b";foo=bar;q=\"x y\"" if i == 1 % len(pieces) else b"", p)
                        for i, p in enumerate(pieces)) + b"0\r\n\r\n"
    elif spec["length"]:
        head.append(f"Content-Length: {len(body)}")
    if method == "HEAD":
        body = b""
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class Listener:
    def __init__(self, server, ip, port, key, spec):
        self.server, self.ip, self.port, self.key, self.spec = server, ip, port, key, spec
        self.sock = self.task = None
        self.connections = self.requests = 0

    async def open(self):
        family = socket.AF_INET6 if ":" in self.ip else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        deadline = time.monotonic() + 5   # a fresh IPv6 address is unusable while DAD runs
        while True:
            try:
                sock.bind((self.ip, self.port))
                break
            except OSError as e:
                if e.errno != errno.EADDRNOTAVAIL or time.monotonic() > deadline:
                    sock.close()
                    raise SpecError(f"cannot listen on {self.key}: {e.strerror}")
                await asyncio.sleep(0.1)
        sock.listen(512)
        sock.setblocking(False)
        self.sock = sock
        self.task = asyncio.get_running_loop().create_task(self.accept_loop())

    async def close(self):
        if self.task:
            self.task.cancel()   # let the cancelled accept unregister the fd before it is closed (and reused)
            try:
                await self.task
            except asyncio.CancelledError:
                pass
            self.sock.close()
            self.task = self.sock = None

    async def accept_loop(self):
        loop = asyncio.get_running_loop()
        while True:
            try:
                conn, _ = await loop.sock_accept(self.sock)
            except OSError:   # e.g. EMFILE: back off instead of spinning
                await asyncio.sleep(0.1)
                continue
            self.connections += 1
            self.server.spawn(self.serve(conn, self.spec))

    async def serve(self, conn, spec):
        mode, writer = spec["mode"], None
        try:
            if mode == "reset" and not spec["read"]:
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                conn.close()
                return
            use_tls = spec["tls"] and mode not in ("stall", "garbage")
            reader = asyncio.StreamReader(limit=MAX_REQUEST)
            protocol = asyncio.StreamReaderProtocol(reader)
            loop = asyncio.get_running_loop()
            transport, _ = await loop.connect_accepted_socket(
                lambda: protocol, conn, ssl=self.server.tls if use_tls else None,
                ssl_handshake_timeout=30 if use_tls else None)
            writer = asyncio.StreamWriter(transport, protocol, reader, loop)
            if mode in ("silent", "tcp", "stall"):
                while await reader.read(65536):
                    pass
                return
            if mode == "garbage" and spec["tls"]:   # tls-garbage: garbage instead of a ServerHello
                if await reader.read(65536):
                    writer.write(garbage(spec["size"]))
                    await writer.drain()
                return
            request = await self.read_request(reader, writer, use_tls)
            if request is None:
                return
            if mode == "garbage":
                writer.write(garbage(spec["size"]))
                await writer.drain()
            elif mode == "reset":
                writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.transport.abort()
            elif mode in ("http", "slow"):
                await asyncio.sleep(spec["delay"])
                response = http_response(spec, *request)
                if mode == "http":
                    writer.write(response)
                    await writer.drain()
                else:
                    for i in range(len(response)):
                        writer.write(response[i:i + 1])
                        await writer.drain()
                        if i + 1 < len(response):
                            await asyncio.sleep(spec["interval"])
            elif mode == "endless":
                writer.write(b"HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n")
                block = b"x" * 65536
                while not writer.is_closing():
                    writer.write(block)
                    await writer.drain()
                    await asyncio.sleep(0)   # drain() may not yield (TLS): let connection_lost in
            elif mode == "huge-headers":
                writer.write(b"HTTP/1.0 200 OK\r\n")
                n = 0
                while not writer.is_closing():
                    writer.write(b"".join(b"X-Filler-%d: %s\r\n" % (n + i, b"f" * 100) for i in range(256)))
                    n += 256
                    await writer.drain()
                    await asyncio.sleep(0)
        except (OSError, EOFError, ssl.SSLError, asyncio.TimeoutError, asyncio.IncompleteReadError):
            pass
        finally:
            if writer is not None:
                writer.close()
            else:
                conn.close()

    async def read_request(self, reader, writer, use_tls):
        """Reads up to the blank line; logs it; returns (method, target, version) or None."""
        data = b""
        while not re.search(rb"\r?\n\r?\n", data):
            if len(data) > MAX_REQUEST:
                return None
            chunk = await reader.read(65536)
            if not chunk:
                return None
            data += chunk
        lines = data[:re.search(rb"\r?\n\r?\n", data).start()].decode("latin-1").splitlines()
        method, target, version = (lines[0].split() + ["-", "-", "HTTP/1.0"])[:3] if lines else ("-", "-", "-")
        host = next((v.strip() for k, _, v in (line.partition(":") for line in lines[1:])
                     if k.strip().lower() == "host"), "") or "-"
        self.requests += 1
        line = f"{time.time():.3f} {self.key} {method} {target} {host}"
        if use_tls:
            ssl_object = writer.get_extra_info("ssl_object")
            line += f" sni={getattr(ssl_object, 'sni_name', None) or '-'}"
        self.server.log(line)
        return method, target, version


class Server:
    def __init__(self, args):
        self.listeners, self.tasks, self.tls = {}, set(), None
        self.access_log = open(args.access_log, "a", encoding="utf-8") if args.access_log else None
        if args.cert:
            self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.tls.load_cert_chain(args.cert, args.key)
            self.tls.sni_callback = self.remember_sni

    @staticmethod
    def remember_sni(ssl_object, name, context):
        ssl_object.sni_name = name

    def spawn(self, coroutine):
        task = asyncio.get_running_loop().create_task(coroutine)
        self.tasks.add(task)   # the loop keeps only weak references
        task.add_done_callback(self.tasks.discard)

    def log(self, line):
        if self.access_log:
            self.access_log.write(line + "\n")
            self.access_log.flush()

    async def control(self, reader, writer):
        try:
            while line := await reader.readline():
                words = line.decode("utf-8", "replace").split(None, 2)
                if not words:
                    continue
                try:
                    answer = await self.command(words)
                except SpecError as e:
                    answer = f"error {e}"
                writer.write(answer.encode() + b"\n")
                await writer.drain()
        except (OSError, ValueError):   # ValueError: a line longer than the reader's limit
            pass
        finally:
            writer.close()

    async def command(self, words):
        verb, target, rest = words[0], (words[1] if len(words) > 1 else ""), (words[2] if len(words) > 2 else "")
        if verb not in ("mode", "close", "open", "stats"):
            return f"error unknown command {verb!r}"
        ip, port, key = parse_address(target)
        listener = self.listeners.get(key)
        if verb == "open":
            if listener and listener.task:
                return f"error {key} is already open"
            spec = parse_mode(rest, self.tls is not None) if rest.strip() else (listener and listener.spec)
            if spec is None:
                return "error open of a new listener needs a mode"
            if not listener:
                listener = Listener(self, ip, port, key, spec)
            listener.spec = spec
            await listener.open()
            self.listeners[key] = listener
            return "ok"
        if not listener:
            return f"error no listener {key}"
        if verb == "mode":
            listener.spec = parse_mode(rest, self.tls is not None)
        elif verb == "close":
            await listener.close()
        elif verb == "stats":
            return f"ok connections={listener.connections} requests={listener.requests} mode={listener.spec['text']}"
        return "ok"


def quiet_exception_handler(loop, context):
    """Peers that vanish or botch TLS are the point of these servers; anything else is a bug: say so."""
    if not isinstance(context.get("exception"), (OSError, ssl.SSLError)):
        print("check_servers:", context.get("message"), repr(context.get("exception", "")), file=sys.stderr)


async def main(args):
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(quiet_exception_handler)
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)   # e.g. "socket.send() raised exception."
    server = Server(args)
    for text in args.listeners:
        address, eq, mode = text.partition("=")
        if not eq:
            raise SpecError(f"bad listener {text!r} (want ADDRESS:PORT=MODE[,option=value...])")
        ip, port, key = parse_address(address)
        if key in server.listeners:
            raise SpecError(f"listener {key} given twice")
        server.listeners[key] = Listener(server, ip, port, key, parse_mode(mode, server.tls is not None))
    for listener in server.listeners.values():
        await listener.open()
    if args.control:
        ip, port, _ = parse_address(args.control)
        try:
            await asyncio.start_server(server.control, ip, port, reuse_address=True)
        except OSError as e:
            raise SpecError(f"cannot listen on control {args.control}: {e.strerror}")
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        print("READY", flush=True)
    except BrokenPipeError:
        pass
    await stop.wait()
    os._exit(0)   # open connections may be mid-write: leave at once, without waiting for them


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Health-check test servers; see the module docstring.")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--access-log")
    parser.add_argument("--control")
    parser.add_argument("listeners", nargs="*", metavar="LISTENER")
    args = parser.parse_args()
    if bool(args.cert) != bool(args.key):
        parser.error("--cert and --key go together")
    if not args.listeners and not args.control:
        parser.error("give at least one LISTENER or --control")
    try:
        asyncio.run(main(args))
    except SpecError as e:
        print(f"check_servers: {e}", file=sys.stderr)
        sys.exit(2)
    except (OSError, ssl.SSLError) as e:   # e.g. unreadable cert, access log
        print(f"check_servers: {e}", file=sys.stderr)
        sys.exit(2)
