#!/usr/bin/python3 -B
# SPDX-License-Identifier: GPL-2.0
"""memory_figures: what a rule adds to the staging and policy memory that
GET_STATUS reports.

    memory_figures.py

Stages `map chardev 250:N deny` rules one POLICY_ADD at a time (the first
makes room for 64 rules, so the others add only what they allocate
themselves) and prints the growth of the staging memory for the second
rule and for a third whose source attribute has 1000 bytes after its NUL;
then loads a policy of the first rule alone, of the first two, and of the
first and the third, and prints the growth of the policy memory. Output:
"staging +A +B policy +C +D".
"""
import struct

import ibg_netlink as nl

JUNK_SOURCE = b"map chardev 250:3 deny\0" + b"x" * 1000


def rules(minors):
    return [nl.chardev_rule(m, JUNK_SOURCE if m == 3 else None) for m in minors]


def u64(status, kind):
    return struct.unpack("=Q", status[kind][:8])[0]


def staging(genl):
    return u64(genl.status(), nl.ATTR_STAGING_MEMORY)


def policy(genl, minors):
    genl.request(nl.CMD_POLICY_BEGIN)
    genl.add(rules(minors))
    genl.request(nl.CMD_POLICY_COMMIT)
    return u64(genl.status(), nl.ATTR_MEMORY)


def main():
    genl = nl.Genl()
    genl.request(nl.CMD_POLICY_BEGIN)
    sizes = []
    for minor in (1, 2, 3):
        genl.add(rules([minor]))
        sizes.append(staging(genl))
    genl.request(nl.CMD_POLICY_ABORT)
    one = policy(genl, [1])
    two = policy(genl, [1, 2])
    junk = policy(genl, [1, 3])
    print(f"staging +{sizes[1] - sizes[0]} +{sizes[2] - sizes[1]} "
          f"policy +{two - one} +{junk - one}")


if __name__ == "__main__":
    main()
