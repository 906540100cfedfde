"""A minimal UDP DNS responder for the static-DNS check (not a general server).

    python3 responder.py BIND_ADDR NAME=IPV4 ...

Answers A questions for the given names, AAAA for them with no records, and NXDOMAIN for
everything else. Prints each question ("query NAME type N") to stderr.
"""
import socket
import struct
import sys


def main():
    records = dict(arg.split("=", 1) for arg in sys.argv[2:])
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((sys.argv[1], 53))
    while True:
        query, addr = sock.recvfrom(512)
        tid, flags = struct.unpack(">HH", query[:4])
        i, labels = 12, []
        while query[i]:
            labels.append(query[i + 1:i + 1 + query[i]].decode())
            i += 1 + query[i]
        qtype = struct.unpack(">H", query[i + 1:i + 3])[0]
        question = query[12:i + 5]
        name = ".".join(labels).lower()
        print(f"query {name} type {qtype}", file=sys.stderr, flush=True)
        answer, rcode = b"", 0
        if name not in records:
            rcode = 3  # NXDOMAIN
        elif qtype == 1:
            # Name as a pointer to the question (offset 12), class IN, TTL 30 s.
            answer = (b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 30, 4) +
                      socket.inet_aton(records[name]))
        # QR, AA, RA set; RD copied from the query.
        hdr_flags = 0x8480 | (flags & 0x0100) | rcode
        header = struct.pack(">HHHHHH", tid, hdr_flags, 1, 1 if answer else 0, 0, 0)
        sock.sendto(header + question + answer, addr)


if __name__ == "__main__":
    main()
