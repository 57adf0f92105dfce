#!/usr/bin/env python3
"""net.py: frames, pcap streams and UDP sockets for the netdev suites.

  net.py frame DST_MAC SRC_IP DST_IP DPORT PAYLOAD [--printf]
        an Ethernet/IPv4/UDP frame from 02:00:00:00:00:02 to DST_MAC, with a
        correct IPv4 checksum (the kernel drops frames without one), as hex
        (for xxd -r -p), or as printf escapes with --printf
  net.py pcap [--be] [--nano] [--linktype N] HEX...
        a classic pcap stream of the frames given in hex, on stdout
  net.py recv ADDR PORT COUNT READY
        bind a UDP socket, create the file READY, print the payloads of COUNT
        datagrams, one per line; exit 1 after 10 seconds without one
  net.py send ADDR PORT COUNT PAYLOAD
        send COUNT UDP datagrams carrying PAYLOAD (a {} in it becomes the
        datagram's number, from 1)
  net.py seek FILE
        open FILE and lseek it; print the error's name, or "seeked"
"""
import errno
import os
import socket
import struct
import sys


def mac(text):
    return bytes(int(x, 16) for x in text.split(":"))


def checksum(header):
    s = sum(struct.unpack("!%dH" % (len(header) // 2), header))
    while s > 0xFFFF:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def frame(dst_mac, src_ip, dst_ip, dport, payload):
    udp = struct.pack("!HHHH", 12345, dport, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0,
                     socket.inet_aton(src_ip), socket.inet_aton(dst_ip))
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return mac(dst_mac) + mac("02:00:00:00:00:02") + b"\x08\x00" + ip + udp


def pcap(frames, big, nano, linktype):
    o = ">" if big else "<"
    out = struct.pack(o + "IHHiIII", 0xA1B23C4D if nano else 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype)
    for i, f in enumerate(frames):
        out += struct.pack(o + "IIII", 1700000000 + i, 0, len(f), len(f)) + f
    return out


def main():
    args = sys.argv[1:]
    op = args.pop(0)
    if op == "frame":
        f = frame(args[0], args[1], args[2], int(args[3]), args[4].encode())
        if "--printf" in args[5:]:
            print("".join("\\x%02x" % b for b in f))
        else:
            print(f.hex())
    elif op == "pcap":
        big, nano, linktype, frames = False, False, 1, []
        while args:
            a = args.pop(0)
            if a == "--be":
                big = True
            elif a == "--nano":
                nano = True
            elif a == "--linktype":
                linktype = int(args.pop(0))
            else:
                frames.append(bytes.fromhex(a))
        sys.stdout.buffer.write(pcap(frames, big, nano, linktype))
    elif op == "recv":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((args[0], int(args[1])))
        s.settimeout(10)
        open(args[3], "w").close()
        for _ in range(int(args[2])):
            try:
                data = s.recv(65536)
            except socket.timeout:
                sys.exit("recv: nothing for 10 seconds")
            print(data.decode(errors="replace"), flush=True)
    elif op == "send":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for i in range(int(args[2])):
            s.sendto(args[3].replace("{}", str(i + 1)).encode(), (args[0], int(args[1])))
    elif op == "seek":
        fd = os.open(args[0], os.O_RDONLY)
        try:
            os.lseek(fd, 10, os.SEEK_SET)
            print("seeked")
        except OSError as e:
            print(errno.errorcode[e.errno])
    else:
        sys.exit("net.py: unknown operation " + op)


if __name__ == "__main__":
    main()
