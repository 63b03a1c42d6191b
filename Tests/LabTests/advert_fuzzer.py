#!/usr/bin/env python3
"""Floods a lab link with bad VRRP adverts (for VRRPFuzzLabTests). Python 3 stdlib, run as root in a lab node.

    advert_fuzzer.py SOURCE_ADDRESS SECONDS RATE

Sends RATE packets a second for SECONDS to 224.0.0.18 (IP protocol 112) from SOURCE_ADDRESS, built with
IP_HDRINCL so TTL and lengths can be wrong: random bytes, truncated adverts, oversized ones, bad
checksums, TTL 64, wrong version/type, wrong password, unknown VRIDs, an address count that does not
match, and mutations of a valid advert for VRID 51 that keep it invalid (a valid advert with a higher
priority would be a legitimate takeover, so none is sent). Prints the number of packets sent.
"""
import os, random, socket, struct, sys, time

source, seconds, rate = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
rng = random.Random(51)


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def advert(vrid=51, priority=50, count=1, password=b"1111", version_type=0x21, addresses=(b"\xc0\x00\x02\xc8",), fix=True):
    body = struct.pack("!BBBBBBH", version_type, vrid, priority, count, 1, 1, 0) + b"".join(addresses) + password.ljust(8, b"\0")[:8]
    if fix:
        body = body[:6] + struct.pack("!H", checksum(body)) + body[8:]
    return body


def ip(payload, ttl=255, total=None):
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total or 20 + len(payload), rng.randrange(65536), 0, ttl, 112, 0,
                         socket.inet_aton(source), socket.inet_aton("224.0.0.18"))
    return header + payload


def bad_packet():
    kind = rng.randrange(11)
    if kind == 0:
        return ip(os.urandom(rng.randrange(1, 200)))
    if kind == 1:
        return ip(advert()[:rng.randrange(0, 19)])
    if kind == 2:
        return ip(advert() + os.urandom(rng.randrange(1000, 1400)))
    if kind == 3:
        body = bytearray(advert())
        body[6] ^= 0xFF
        return ip(bytes(body))
    if kind == 4:
        return ip(advert(), ttl=64)
    if kind == 5:
        return ip(advert(version_type=rng.choice([0x11, 0x22, 0x31, 0xF1])))
    if kind == 6:
        return ip(advert(password=b"wrong"))
    if kind == 7:
        return ip(advert(vrid=rng.choice([1, 52, 200, 255]), priority=254))
    if kind == 8:
        return ip(advert(count=3))
    if kind == 9:
        body = bytearray(advert(priority=254))
        for _ in range(rng.randrange(1, 4)):
            body[rng.randrange(len(body))] = rng.randrange(256)
        # Whatever the mutation, keep it invalid: the checksum is left wrong.
        body[7] ^= 0x5A
        return ip(bytes(body))
    return ip(advert(priority=254, fix=False))


s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)
# A lab node has no route to 224.0.0.0/4: without the interface every send fails (ENETUNREACH).
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"lan0")
packets = [bad_packet() for _ in range(4096)]
sent, failed, start = 0, 0, time.monotonic()
while time.monotonic() - start < seconds:
    due = int((time.monotonic() - start) * rate)
    while sent + failed < due:
        try:
            s.sendto(packets[(sent + failed) % len(packets)], ("224.0.0.18", 0))
            sent += 1
        except OSError:
            # Counted apart: only packets that left count as sent.
            failed += 1
    time.sleep(0.001)
print(sent, failed)
