# SPDX-License-Identifier: GPL-2.0
"""ibguard's generic netlink protocol for the Python test helpers: just
enough of it to send what ibguardctl would not (half a load, a rule source
with bytes after its NUL, a dump read late). The numbers are those of
include/uapi/linux/ibguard.h."""
import os
import socket
import struct
import sys

NETLINK_GENERIC = 16
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2
NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4
NLM_F_DUMP_INTR = 0x10
NLM_F_DUMP = 0x300
NLMSG_ERROR = 2
NLMSG_DONE = 3
NLA_F_NESTED = 0x8000

CMD_GET_STATUS = 1
CMD_POLICY_BEGIN = 2
CMD_POLICY_ADD = 3
CMD_POLICY_COMMIT = 4
CMD_POLICY_ABORT = 5
CMD_POLICY_GET = 6
ATTR_RULE = 10
ATTR_MEMORY = 13
ATTR_STAGING_MEMORY = 14
RULE_CLASS = 2
RULE_VERDICT = 3
RULE_SOURCE = 5
RULE_MAP_OBJECT = 14
RULE_CHR_MAJOR = 17
RULE_CHR_MINOR_LO = 18
RULE_CHR_MINOR_HI = 19
CLASS_MAP = 2
VERDICT_DENY = 1
MAP_CHARDEV = 2
ADD_PAYLOAD = 60000  # a POLICY_ADD message carries at most 64 KiB


def attr(kind, payload):
    data = struct.pack("=HH", 4 + len(payload), kind) + payload
    return data + b"\0" * (-len(data) % 4)


def attrs(data):
    """{type: payload} of the netlink attributes in data (the last of each)."""
    found = {}
    while len(data) >= 4:
        length, kind = struct.unpack_from("=HH", data)
        if length < 4:
            break
        found[kind & 0x3FFF] = data[4:length]
        data = data[(length + 3) & ~3:]
    return found


def messages(buf):
    """(type, flags, payload) of each netlink message in buf."""
    while len(buf) >= 16:
        length, kind, flags, _, _ = struct.unpack_from("=IHHII", buf)
        yield kind, flags, buf[16:length]
        buf = buf[(length + 3) & ~3:]


def chardev_rule(minor, source=None):
    """A `map chardev 250:MINOR deny` rule; source: its text as sent, NUL included."""
    if source is None:
        source = f"map chardev 250:{minor} deny".encode() + b"\0"
    return attr(ATTR_RULE | NLA_F_NESTED,
                attr(RULE_CLASS, bytes([CLASS_MAP]))
                + attr(RULE_VERDICT, bytes([VERDICT_DENY]))
                + attr(RULE_SOURCE, source)
                + attr(RULE_MAP_OBJECT, bytes([MAP_CHARDEV]))
                + attr(RULE_CHR_MAJOR, struct.pack("=I", 250))
                + attr(RULE_CHR_MINOR_LO, struct.pack("=I", minor))
                + attr(RULE_CHR_MINOR_HI, struct.pack("=I", minor)))


class Genl:
    """A generic netlink socket talking to one family."""

    def __init__(self, family_name="ibguard"):
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
        self.sock.bind((0, 0))
        self.seq = 0
        self.family = GENL_ID_CTRL
        reply = self.request(CTRL_CMD_GETFAMILY,
                             attr(CTRL_ATTR_FAMILY_NAME, family_name.encode() + b"\0"))
        family = attrs(reply[4:]).get(CTRL_ATTR_FAMILY_ID)
        if family is None:
            sys.exit(f"{sys.argv[0]}: no generic netlink family {family_name}")
        self.family = struct.unpack("=H", family[:2])[0]

    def send(self, cmd, payload=b"", flags=NLM_F_ACK):
        self.seq += 1
        body = struct.pack("=BBH", cmd, 1, 0) + payload
        self.sock.send(struct.pack("=IHHII", 16 + len(body), self.family,
                                   NLM_F_REQUEST | flags, self.seq, 0) + body)

    def request(self, cmd, payload=b""):
        """Sends cmd and waits for its acknowledgement; returns the payload
        of the reply before it, if any (genetlink header first)."""
        self.send(cmd, payload)
        reply = b""
        while True:
            for kind, _, data in messages(self.sock.recv(1 << 20)):
                if kind == NLMSG_ERROR:
                    err = -struct.unpack_from("=i", data)[0]
                    if err:
                        sys.exit(f"{sys.argv[0]}: command {cmd}: {os.strerror(err)}")
                    return reply
                reply = data

    def status(self):
        """The GET_STATUS attributes."""
        return attrs(self.request(CMD_GET_STATUS)[4:])

    def add(self, rules):
        """POLICY_ADD messages carrying rules (attributes), each under 64 KiB."""
        batch = b""
        for rule in rules:
            batch += rule
            if len(batch) > ADD_PAYLOAD:
                self.request(CMD_POLICY_ADD, batch)
                batch = b""
        if batch:
            self.request(CMD_POLICY_ADD, batch)
