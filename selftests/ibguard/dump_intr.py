#!/usr/bin/python3 -B
# SPDX-License-Identifier: GPL-2.0
"""dump_intr: does a policy dump that a load interrupts say so?

    dump_intr.py IBGUARDCTL POLICY

Sends an IBGUARD_CMD_POLICY_GET dump request; the kernel fills the first
part of the dump while the request is sent. Then loads POLICY with
IBGUARDCTL, and only then reads the dump to its end. Prints the messages
read: their kind ("header", "rule", "done") and ":intr" when one carries
NLM_F_DUMP_INTR, e.g. "header rule:intr rule done".
"""
import os
import struct
import subprocess
import sys

import ibg_netlink as nl


def main():
    ibguardctl, policy = sys.argv[1:3]
    genl = nl.Genl()
    genl.send(nl.CMD_POLICY_GET, flags=nl.NLM_F_DUMP)
    subprocess.run([ibguardctl, "load", policy], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seen = []
    while True:
        for kind, flags, payload in nl.messages(genl.sock.recv(65536)):
            intr = ":intr" if flags & nl.NLM_F_DUMP_INTR else ""
            if kind == nl.NLMSG_DONE:
                seen.append("done" + intr)
                print(" ".join(seen))
                return
            if kind == nl.NLMSG_ERROR:
                errno = -struct.unpack_from("=i", payload)[0]
                sys.exit("dump_intr: dump failed: " + os.strerror(errno))
            rule = nl.ATTR_RULE in nl.attrs(payload[4:])
            seen.append(("rule" if rule else "header") + intr)


if __name__ == "__main__":
    main()
