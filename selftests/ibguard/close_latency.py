#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""close_latency: does closing an unrelated generic netlink socket wait for
a policy commit?

    close_latency.py [RULES]

A child process loads a policy of RULES (default 100000) `map chardev 250:N deny`
rules over ibguard's netlink protocol and times its COMMIT request (the
commit holds ibguard's lock while it builds the policy and waits for a
grace period). Meanwhile the parent opens, binds and closes generic
netlink sockets in a loop and times each close(), and the part of it the
task slept (neither ran nor waited to run: blocked on a lock, say). Prints
"commit_ms=C max_close_ms=M closes=N max_slept_ms=S".
"""
import os
import resource
import socket
import struct
import sys
import time

NETLINK_GENERIC = 16
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2
NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4
NLMSG_ERROR = 2
NLA_F_NESTED = 0x8000

IBGUARD_CMD_POLICY_BEGIN = 2
IBGUARD_CMD_POLICY_ADD = 3
IBGUARD_CMD_POLICY_COMMIT = 4
IBGUARD_ATTR_RULE = 10
IBGUARD_RULE_CLASS = 2
IBGUARD_RULE_VERDICT = 3
IBGUARD_RULE_SOURCE = 5
IBGUARD_RULE_MAP_OBJECT = 14
IBGUARD_RULE_CHR_MAJOR = 17
IBGUARD_RULE_CHR_MINOR_LO = 18
IBGUARD_RULE_CHR_MINOR_HI = 19
IBGUARD_CLASS_MAP = 2
IBGUARD_VERDICT_DENY = 1
IBGUARD_MAP_CHARDEV = 2
ADD_PAYLOAD = 60000  # a POLICY_ADD message carries at most 64 KiB


def attr(kind, payload):
    data = struct.pack("=HH", 4 + len(payload), kind) + payload
    return data + b"\0" * (-len(data) % 4)


class Genl:
    def __init__(self, family_name):
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
        self.sock.bind((0, 0))
        self.seq = 0
        self.family = GENL_ID_CTRL
        reply = self.request(CTRL_CMD_GETFAMILY,
                             attr(CTRL_ATTR_FAMILY_NAME, family_name.encode() + b"\0"))
        data = reply[4:]
        while len(data) >= 4:
            length, kind = struct.unpack_from("=HH", data)
            if kind == CTRL_ATTR_FAMILY_ID:
                self.family = struct.unpack_from("=H", data, 4)[0]
                return
            data = data[(length + 3) & ~3:]
        sys.exit("close_latency: no family " + family_name)

    def request(self, cmd, payload=b""):
        """Sends cmd, waits for its answer; returns a reply's payload."""
        self.seq += 1
        body = struct.pack("=BBH", cmd, 1, 0) + payload
        self.sock.send(struct.pack("=IHHII", 16 + len(body), self.family,
                                   NLM_F_REQUEST | NLM_F_ACK, self.seq, 0) + body)
        reply = b""
        while True:
            buf = self.sock.recv(1 << 20)
            while len(buf) >= 16:
                length, kind, _, _, _ = struct.unpack_from("=IHHII", buf)
                if kind == NLMSG_ERROR:
                    err = -struct.unpack_from("=i", buf, 16)[0]
                    if err:
                        sys.exit(f"close_latency: command {cmd}: {os.strerror(err)}")
                    return reply
                reply = buf[16:length]
                buf = buf[(length + 3) & ~3:]


def rule(minor):
    source = f"map chardev 250:{minor} deny".encode() + b"\0"
    return attr(IBGUARD_ATTR_RULE | NLA_F_NESTED,
                attr(IBGUARD_RULE_CLASS, bytes([IBGUARD_CLASS_MAP]))
                + attr(IBGUARD_RULE_VERDICT, bytes([IBGUARD_VERDICT_DENY]))
                + attr(IBGUARD_RULE_SOURCE, source)
                + attr(IBGUARD_RULE_MAP_OBJECT, bytes([IBGUARD_MAP_CHARDEV]))
                + attr(IBGUARD_RULE_CHR_MAJOR, struct.pack("=I", 250))
                + attr(IBGUARD_RULE_CHR_MINOR_LO, struct.pack("=I", minor))
                + attr(IBGUARD_RULE_CHR_MINOR_HI, struct.pack("=I", minor)))


def load(rules):
    """Loads the policy; returns how long its COMMIT took, in seconds."""
    nl = Genl("ibguard")
    nl.request(IBGUARD_CMD_POLICY_BEGIN)
    batch = b""
    for minor in range(rules):
        batch += rule(minor)
        if len(batch) > ADD_PAYLOAD:
            nl.request(IBGUARD_CMD_POLICY_ADD, batch)
            batch = b""
    if batch:
        nl.request(IBGUARD_CMD_POLICY_ADD, batch)
    start = time.monotonic()
    nl.request(IBGUARD_CMD_POLICY_COMMIT)
    return time.monotonic() - start


def on_cpu(schedstat):
    """Seconds this process ran or waited to run: not asleep. Under TCG a
    task keeps running, for the guest clock, while the other vCPU has its
    turn."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    run_delay = int(os.pread(schedstat, 128, 0).split()[1])
    return usage.ru_utime + usage.ru_stime + run_delay / 1e9


def main():
    rules = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    # The loader is a process of its own: no interpreter lock between the
    # two, so a close is timed alone.
    read_end, write_end = os.pipe()
    loader = os.fork()
    if not loader:
        os.close(read_end)
        os.write(write_end, f"{load(rules) * 1000:.0f}".encode())
        os._exit(0)
    os.close(write_end)
    closes, slept, worst = 0, 0.0, 0.0
    schedstat = os.open("/proc/self/schedstat", os.O_RDONLY)
    while os.waitpid(loader, os.WNOHANG) == (0, 0):
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
        sock.bind((0, 0))
        # The time window lies within the CPU-time window: what the close
        # did not spend running or runnable, it slept.
        cpu_before = on_cpu(schedstat)
        before = time.monotonic()
        sock.close()
        took = time.monotonic() - before
        worst = max(worst, took)
        slept = max(slept, took - (on_cpu(schedstat) - cpu_before))
        closes += 1
    commit_ms = os.read(read_end, 64).decode()
    if not commit_ms:
        sys.exit("close_latency: the load failed")
    print(f"commit_ms={commit_ms} max_close_ms={worst * 1000:.0f} closes={closes} "
          f"max_slept_ms={slept * 1000:.0f}")


if __name__ == "__main__":
    main()
