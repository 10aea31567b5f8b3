#!/usr/bin/python3 -B
# SPDX-License-Identifier: GPL-2.0
"""close_latency: does closing an unrelated generic netlink socket wait for
a policy load?

    close_latency.py [RULES]

A child process loads a policy of RULES (default 100000) `map chardev
250:N deny` rules over ibguard's netlink protocol and times its COMMIT
request (the commit holds ibguard's lock while it builds the policy and
waits for a grace period). Meanwhile the parent opens, binds and closes
generic netlink sockets in a loop and times each close(), and the part of
it the task slept (neither ran nor waited to run: blocked on a lock, say).
Prints "commit_ms=C max_close_ms=M closes=N max_slept_ms=S".
"""
import os
import resource
import socket
import sys
import time

import ibg_netlink as nl


def load(rules):
    """Loads the policy; returns how long its COMMIT took, in seconds."""
    genl = nl.Genl()
    genl.request(nl.CMD_POLICY_BEGIN)
    genl.add(nl.chardev_rule(minor) for minor in range(rules))
    start = time.monotonic()
    genl.request(nl.CMD_POLICY_COMMIT)
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
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, nl.NETLINK_GENERIC)
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
