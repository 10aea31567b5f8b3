#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""dump_intr: does a policy dump that a load interrupts say so?

    dump_intr.py IBGUARDCTL POLICY

Sends an IBGUARD_CMD_POLICY_GET dump request; the kernel fills the first
part of the dump while the request is sent. Then loads POLICY with
IBGUARDCTL, and only then reads the dump to its end. Prints one line per
message read: its kind ("header", "rule", "done") and "intr" when it
carries NLM_F_DUMP_INTR, e.g. "header rule:intr rule done".
"""
import os
import socket
import struct
import subprocess
import sys

NETLINK_GENERIC = 16
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2
NLM_F_REQUEST = 0x1
NLM_F_DUMP = 0x300
NLM_F_DUMP_INTR = 0x10
NLMSG_ERROR = 2
NLMSG_DONE = 3
IBGUARD_CMD_POLICY_GET = 6
IBGUARD_ATTR_RULE = 10


def attrs(data):
    """(type, payload) of each netlink attribute in data."""
    while len(data) >= 4:
        length, kind = struct.unpack_from("=HH", data)
        if length < 4:
            break
        yield kind & 0x3FFF, data[4:length]
        data = data[(length + 3) & ~3:]


def messages(buf):
    """(type, flags, payload) of each netlink message in buf."""
    while len(buf) >= 16:
        length, kind, flags, _, _ = struct.unpack_from("=IHHII", buf)
        yield kind, flags, buf[16:length]
        buf = buf[(length + 3) & ~3:]


def request(sock, family, flags, cmd, payload=b""):
    body = struct.pack("=BBH", cmd, 1, 0) + payload
    sock.send(struct.pack("=IHHII", 16 + len(body), family, NLM_F_REQUEST | flags, 1, 0)
              + body)


def family_id(sock, name):
    value = name.encode() + b"\0"
    attr = struct.pack("=HH", 4 + len(value), CTRL_ATTR_FAMILY_NAME) + value
    attr += b"\0" * (-len(attr) % 4)
    request(sock, GENL_ID_CTRL, 0, CTRL_CMD_GETFAMILY, attr)
    for kind, _, payload in messages(sock.recv(65536)):
        if kind == NLMSG_ERROR:
            sys.exit("dump_intr: no generic netlink family " + name)
        for attr_type, data in attrs(payload[4:]):
            if attr_type == CTRL_ATTR_FAMILY_ID:
                return struct.unpack("=H", data[:2])[0]
    sys.exit("dump_intr: no family id in the answer")


def main():
    ibguardctl, policy = sys.argv[1:3]
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
    sock.bind((0, 0))
    family = family_id(sock, "ibguard")
    request(sock, family, NLM_F_DUMP, IBGUARD_CMD_POLICY_GET)
    subprocess.run([ibguardctl, "load", policy], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seen = []
    while True:
        for kind, flags, payload in messages(sock.recv(65536)):
            intr = ":intr" if flags & NLM_F_DUMP_INTR else ""
            if kind == NLMSG_DONE:
                seen.append("done" + intr)
                print(" ".join(seen))
                return
            if kind == NLMSG_ERROR:
                errno = -struct.unpack_from("=i", payload)[0]
                sys.exit("dump_intr: dump failed: " + os.strerror(errno))
            rule = any(t == IBGUARD_ATTR_RULE for t, _ in attrs(payload[4:]))
            seen.append(("rule" if rule else "header") + intr)


if __name__ == "__main__":
    main()
