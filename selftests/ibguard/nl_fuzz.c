// SPDX-License-Identifier: GPL-2.0
/*
 * nl_fuzz: a deterministic fuzzer for the "ibguard" generic netlink family.
 * Runs as root (CAP_MAC_ADMIN) in the test guest with ibguard.ko loaded.
 *
 * usage: nl_fuzz [-n MESSAGES] [-s SEED] [-j SOCKETS] [-v] [-x SEND]
 *
 * It sends at least MESSAGES netlink messages (default 200000) over SOCKETS
 * raw NETLINK_GENERIC sockets (default 4): well-formed requests in random,
 * often wrong, order (BEGIN, ADD, COMMIT and ABORT across sockets, double
 * BEGINs, ADDs after a COMMIT, sockets closed in the middle of a load or of
 * a dump), the same requests damaged (attribute lengths and types, nlmsg_len
 * shorter or longer than the message, truncated attribute headers, genl
 * version, command, flags, oversized payloads), random attribute sets nested
 * deep, and raw bytes. Replies are read after every send (MSG_DONTWAIT).
 *
 * Replay: the bytes sent, and the socket each send goes to, depend only on
 * -n, -s and -j (splitmix64 seeded with SEED), never on the kernel's replies
 * (even the socket it believes owns the load is a guess from what it sent):
 * "nl_fuzz -n N -s SEED -j J" sends the same stream again, apart from the
 * family id the kernel assigned. -v prints a line per send with the answers;
 * -x SEND hexdumps that send in full.
 *
 * The policies it commits: valid loads are sent on purpose, so commits
 * happen. Every buffer goes through sanitize() before it is sent, which
 * walks it exactly as the kernel will (netlink_rcv_skb(), nla_for_each_attr
 * (), the last of repeated attributes wins) and makes sure that no policy
 * the kernel could accept from it denies anything to the guest's processes:
 * "default map deny" becomes allow, and so does a map rule's deny verdict
 * unless one of its subjects is a uid or gid range starting at SAFE_ID_MIN or
 * above. It also keeps every message on the ibguard family, and turns LOCK
 * (irreversible until reboot: no rmmod) into EVENT, which has no handler.
 * pkey and endport rules and the mode are left alone (the guest has no
 * InfiniBand traffic).
 *
 * Checking: the fuzzer keeps a model of the state its messages must have left
 * in the kernel, from what it sent and what the kernel answered: the staging
 * (owner socket, defaults, options, mode, rules), the active policy (the last
 * COMMIT answered with success), the generation and the mode. An answer the
 * model rules out (a second BEGIN accepted, an owner's COMMIT refused with
 * ENOENT, a missing ACK) is a mismatch. After every send holding a COMMIT,
 * after every socket it closes, every 1000 messages and at the end, it also
 * compares the model with the kernel over a socket of its own: GET_STATUS,
 * and POLICY_GET dumps (one read with a 32 KiB buffer and one with 4 KiB)
 * whenever the generation moved. A mismatch is a kernel bug, reported on
 * stderr with the sends since the last agreement. A lost reply (ENOBUFS)
 * makes the model uncertain: the fuzzer then takes the kernel's state as the
 * model (a resync) and goes on. At exit it sets the mode back to the one it
 * found, so that a run without commits leaves "ibguardctl show" as it was.
 *
 * Output: "nl_fuzz: sent N messages, M replies, K errors by errno: ...", a
 * line with the commits ("C commits, generation G0 -> G1") and the other
 * counts, and "nl_fuzz: check: ..." with the final comparison.
 *
 * Exit status: 0 done; 1 local error (usage, socket, family lookup, memory);
 * 2 the kernel's state or answers disagreed with the model, or a dump read
 * 4 KiB at a time missed rules.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/types.h>

#include "genl_util.h"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif
#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

#define MAX_SOCKETS	64
#define MSG_MAX		(72 * 1024)	/* a send: up to 64 KiB and a bit */
#define RECV_MAX	(128 * 1024)
#define SAFE_ID_MIN	100000U		/* deny map rules only for such ids */
#define HISTORY		16		/* sends kept for a report */
#define MAX_PROCESSED	64		/* messages the kernel sees in a send */
#define MAX_ATTRS	512
#define CHECK_EVERY	1000
#define MAX_REPORTS	3		/* mismatches reported in full */

/* ------------------------------------------------------------------------ */
/* The random stream */

static __u64 rng_state;

static __u64 rnd64(void)
{
	__u64 z;

	rng_state += 0x9e3779b97f4a7c15ULL;
	z = rng_state;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A number in [0, n). */
static __u32 rnd(__u32 n)
{
	return n ? rnd64() % n : 0;
}

/* True pct percent of the time. */
static bool chance(unsigned int pct)
{
	return rnd(100) < pct;
}

static __u32 rnd_range(__u32 lo, __u32 hi)
{
	return lo + rnd(hi - lo + 1);
}

/* A value on or near a boundary that matters, or anything. */
static __u64 interesting(void)
{
	static const __u64 values[] = {
		0, 1, 2, 3, 4, 5, 7, 8, 0x7f, 0x80, 0xfe, 0xff, 0x100, 0xfff,
		0x1000, 0x7fff, 0x8000, 0x8001, 0xfffe, 0xffff, 0x10000,
		0xfffff, 0x100000, 0x7fffffff, 0x80000000, 0xfffffffe,
		0xffffffff, 0x100000000ULL, 0x7fffffffffffffffULL,
		0xffffffffffffffffULL, SAFE_ID_MIN, 4095, 4096, 4242,
	};

	if (chance(70))
		return values[rnd(ARRAY_SIZE(values))];
	return rnd64() >> rnd(64);
}

/* ------------------------------------------------------------------------ */
/* Building messages, well-formed or not */

struct msgbuf {
	__u8 *data;
	size_t len, cap;
};

static __u16 get16(const __u8 *p)
{
	__u16 v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static __u32 get32(const __u8 *p)
{
	__u32 v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static __u64 get64(const __u8 *p)
{
	__u64 v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void put16(__u8 *p, __u16 v)
{
	memcpy(p, &v, sizeof(v));
}

static void put32(__u8 *p, __u32 v)
{
	memcpy(p, &v, sizeof(v));
}

static bool mb_room(const struct msgbuf *mb, size_t n)
{
	return mb->cap - mb->len >= n;
}

/* Appends n bytes of src, then pads to 4. */
static bool mb_put(struct msgbuf *mb, const void *src, size_t n)
{
	size_t padded = NLA_ALIGN(n);

	if (!mb_room(mb, padded))
		return false;
	memcpy(mb->data + mb->len, src, n);
	memset(mb->data + mb->len + n, 0, padded - n);
	mb->len += padded;
	return true;
}

/* Starts a netlink message; returns its offset or SIZE_MAX. */
static size_t nl_start(struct msgbuf *mb, __u16 type, __u16 flags, __u32 seq)
{
	struct nlmsghdr nlh = {
		.nlmsg_len = NLMSG_HDRLEN,
		.nlmsg_type = type,
		.nlmsg_flags = flags,
		.nlmsg_seq = seq,
	};
	size_t off = mb->len;

	if (!mb_put(mb, &nlh, sizeof(nlh)))
		return SIZE_MAX;
	return off;
}

static void nl_end(struct msgbuf *mb, size_t off)
{
	put32(mb->data + off, mb->len - off);
}

static void genl_put(struct msgbuf *mb, __u8 cmd, __u8 version)
{
	struct genlmsghdr genl = { .cmd = cmd, .version = version };

	if (chance(1))
		genl.reserved = rnd64();
	mb_put(mb, &genl, sizeof(genl));
}

/* An attribute of len payload bytes; data NULL means random bytes. */
static bool attr_put(struct msgbuf *mb, __u16 type, const void *data,
		     size_t len)
{
	__u8 *p = mb->data + mb->len;
	size_t i;

	if (len > 0xffff - NLA_HDRLEN ||
	    !mb_room(mb, NLA_HDRLEN + NLA_ALIGN(len)))
		return false;
	put16(p, NLA_HDRLEN + len);
	put16(p + 2, type);
	if (data)
		memcpy(p + NLA_HDRLEN, data, len);
	else
		for (i = 0; i < len; i++)
			p[NLA_HDRLEN + i] = rnd64();
	memset(p + NLA_HDRLEN + len, 0, NLA_ALIGN(len) - len);
	mb->len += NLA_HDRLEN + NLA_ALIGN(len);
	return true;
}

static size_t nest_start(struct msgbuf *mb, __u16 type)
{
	size_t off = mb->len;

	if (!attr_put(mb, type, NULL, 0))
		return SIZE_MAX;
	return off;
}

static void nest_end(struct msgbuf *mb, size_t off)
{
	size_t len;

	if (off == SIZE_MAX)
		return;
	len = mb->len - off;
	put16(mb->data + off, len > 0xffff ? 0xffff : len);
}

/* A wrong length for a value of size bytes. */
static size_t wrong_len(size_t size)
{
	static const size_t lens[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 16 };
	size_t len = lens[rnd(ARRAY_SIZE(lens))];

	while (len == size)
		len = lens[rnd(ARRAY_SIZE(lens))];
	return len;
}

/* A number of size bytes (host order); a wrong size bad_pct % of the time. */
static void num_put(struct msgbuf *mb, __u16 type, size_t size, __u64 value,
		    unsigned int bad_pct)
{
	__u8 bytes[16] = {};

	if (chance(bad_pct))
		size = wrong_len(size);
	memcpy(bytes, &value, size < 8 ? size : 8);
	attr_put(mb, type, bytes, size);
}

static const char *const good_names[] = {
	"tmpfs", "9p", "ext4", "proc", "mlx5_0", "rxe0", "mockhca0", "a",
	"x.y-z_1", "ibgfuzzfs", "overlay", "sysfs", "devtmpfs",
};

static const char *const bad_names[] = {
	"", " ", "has space", "semi;colon", "slash/name", "\xff\xfe",
	"../etc", "tab\there", "nl\n", "*", "uni\xc3\xa9",
};

static const char name_chars[] = "abcdefghijklmnopqrstuvwxyz0123456789_-.";

/*
 * A string attribute: usually a good name, sometimes one that breaks a rule
 * (bad characters, empty, no NUL, embedded NUL, too long, huge).
 */
static void str_put(struct msgbuf *mb, __u16 type, bool valid, size_t max)
{
	static char s[9000];
	const char *name;
	size_t len, i;

	if (valid || chance(40)) {
		if (chance(30)) {
			len = rnd_range(1, max < 60 ? max : 60);
			for (i = 0; i < len; i++)
				s[i] = name_chars[rnd(sizeof(name_chars) - 1)];
			s[len] = '\0';
			attr_put(mb, type, s, len + 1);
			return;
		}
		name = good_names[rnd(ARRAY_SIZE(good_names))];
		attr_put(mb, type, name, strlen(name) + 1);
		return;
	}
	switch (rnd(8)) {
	case 0:		/* a bad name */
		name = bad_names[rnd(ARRAY_SIZE(bad_names))];
		attr_put(mb, type, name, strlen(name) + 1);
		break;
	case 1:		/* no payload at all */
		attr_put(mb, type, NULL, 0);
		break;
	case 2:		/* no NUL */
		len = rnd_range(1, 300);
		memset(s, 'A' + rnd(26), len);
		attr_put(mb, type, s, len);
		break;
	case 3:		/* exactly the limit, or one past it */
		len = max + rnd(2);
		memset(s, 'b', len);
		s[len] = '\0';
		attr_put(mb, type, s, len + 1);
		break;
	case 4:		/* huge, with or without a NUL */
		len = rnd_range(4000, sizeof(s) - 1);
		memset(s, 'h', len);
		s[len] = '\0';
		attr_put(mb, type, s, chance(50) ? len + 1 : len);
		break;
	case 5:		/* an embedded NUL */
		attr_put(mb, type, "tmp\0fs", 7);
		break;
	case 6:		/* random bytes */
		attr_put(mb, type, NULL, rnd(64));
		break;
	default:	/* several NULs at the end */
		attr_put(mb, type, "ok\0\0\0", 6);
		break;
	}
}

/* count attributes of random types and sizes, nested up to depth levels. */
static void garbage_attrs(struct msgbuf *mb, unsigned int depth,
			  unsigned int count)
{
	unsigned int i;
	size_t nest;
	__u16 type;

	for (i = 0; i < count && mb_room(mb, 64); i++) {
		type = chance(80) ? rnd(40) : rnd64();
		if (depth && chance(30)) {
			nest = nest_start(mb, type |
					  (chance(80) ? NLA_F_NESTED : 0));
			garbage_attrs(mb, depth - 1, rnd_range(1, 4));
			nest_end(mb, nest);
		} else if (chance(70)) {
			num_put(mb, type, 1 << rnd(4), interesting(), 30);
		} else {
			str_put(mb, type, false, 63);
		}
	}
}

/* A chain of nests depth deep, each holding the next. */
static void deep_nest(struct msgbuf *mb, __u16 type, unsigned int depth)
{
	size_t nest;

	if (!depth || !mb_room(mb, 64)) {
		num_put(mb, type, 4, interesting(), 50);
		return;
	}
	nest = nest_start(mb, type | (chance(90) ? NLA_F_NESTED : 0));
	if (chance(30))
		num_put(mb, rnd(24), 1 << rnd(4), interesting(), 30);
	deep_nest(mb, chance(70) ? type : rnd(24), depth - 1);
	nest_end(mb, nest);
}

/* ------------------------------------------------------------------------ */
/* Rules and subjects */

enum rule_fault {
	F_NO_CLASS, F_NO_VERDICT, F_NO_SOURCE, F_BAD_CLASS, F_BAD_VERDICT,
	F_BAD_FLAGS, F_OTHER_CLASS_ATTR, F_REVERSED, F_MISSING_PART,
	F_BAD_PORT, F_BAD_NAME, F_BAD_OBJECT, F_BAD_MAJOR_MINOR, F_BAD_SUBJECT,
	F_REJECT_ATTR, F_UNKNOWN_ATTR, F_WRONG_LEN, F_GARBAGE_NEST,
	F_NO_NESTED_FLAG, F_NESTED_FLAG, F_DUPLICATE, F_HUGE_SOURCE,
	F_DEEP_NEST, F_OTHER_OBJECT_ATTR, NR_FAULTS,
};

static bool has(__u64 faults, enum rule_fault f)
{
	return faults & (1ULL << f);
}

static __u16 nest_flag(__u64 faults)
{
	return has(faults, F_NO_NESTED_FLAG) && chance(50) ? 0 : NLA_F_NESTED;
}

/* A subject; a safe one only matches ids from SAFE_ID_MIN up. */
static void subject_put(struct msgbuf *mb, __u64 faults, bool safe)
{
	size_t nest = nest_start(mb, IBGUARD_RULE_SUBJECT | nest_flag(faults));
	bool bad = has(faults, F_BAD_SUBJECT) && chance(60);
	unsigned int type = rnd(IBGUARD_SUBJ_MAX + 1);
	__u32 lo, hi, t;

	if (safe)
		type = chance(80) ? IBGUARD_SUBJ_UID : IBGUARD_SUBJ_GID;
	if (bad && chance(25))
		type = IBGUARD_SUBJ_MAX + 1 + rnd(250);
	if (!bad || chance(70))
		num_put(mb, IBGUARD_SUBJ_TYPE, 1, type, 0);
	switch (type) {
	case IBGUARD_SUBJ_UID:
	case IBGUARD_SUBJ_GID:
		lo = safe ? SAFE_ID_MIN + rnd(1000) : (__u32)interesting();
		hi = lo + rnd(chance(50) ? 10 : 100000);
		if (hi < lo)
			hi = 0xffffffff;
		if (bad && chance(50) && lo != hi) {
			t = lo;
			lo = hi;
			hi = t;
		}
		if (!bad || chance(50))
			num_put(mb, IBGUARD_SUBJ_LO, 4, lo, 0);
		if (!bad || chance(50))
			num_put(mb, IBGUARD_SUBJ_HI, 4, hi, 0);
		break;
	case IBGUARD_SUBJ_CGROUP:
		/* 1 is the root cgroup; anything else is most likely absent. */
		num_put(mb, IBGUARD_SUBJ_ID, 8, bad ? interesting() : 1,
			bad ? 30 : 0);
		break;
	case IBGUARD_SUBJ_EXE:
		if (!bad || chance(50))
			num_put(mb, IBGUARD_SUBJ_DEV, 4, interesting(), 0);
		if (!bad || chance(50))
			num_put(mb, IBGUARD_SUBJ_INO, 8, interesting(), 0);
		break;
	default:
		break;
	}
	if (bad && chance(30))
		num_put(mb, chance(50) ? IBGUARD_SUBJ_PAD :
			IBGUARD_SUBJ_ATTR_MAX + 1 + rnd(10), 4, 0, 0);
	if (bad && chance(30))
		num_put(mb, IBGUARD_SUBJ_LO + rnd(5), 1 << rnd(4), interesting(),
			60);
	nest_end(mb, nest);
}

static void source_put(struct msgbuf *mb, __u64 faults, unsigned int cls)
{
	static const char *const texts[] = {
		"pkey 0x8001 deny uid 4242",
		"endport * * deny uid 4242",
		"map fs tmpfs prot exec deny uid 4242",
		"map chardev 3000:1 deny uid 100000",
		"pkey 0x0-0xffff allow",
		"# not really a rule",
		"",
		"\"quoted\" \\ text",
		"multi\nline",
	};
	static char s[IBGUARD_MAX_SOURCE_LEN + 8];
	const char *text;
	size_t len;

	if (has(faults, F_HUGE_SOURCE) || chance(2)) {
		/* Up to one past the limit, often close to it. */
		len = chance(50) ? rnd_range(IBGUARD_MAX_SOURCE_LEN - 80,
					     IBGUARD_MAX_SOURCE_LEN) :
		      rnd_range(1000, IBGUARD_MAX_SOURCE_LEN);
		memset(s, 'a' + cls % 26, len);
		s[len] = '\0';
		attr_put(mb, IBGUARD_RULE_SOURCE, s,
			 has(faults, F_HUGE_SOURCE) && chance(30) ? len : len + 1);
		return;
	}
	if (chance(60)) {
		len = snprintf(s, sizeof(s), "fuzz rule %u class %u",
			       (unsigned int)rnd(1000000), cls);
		attr_put(mb, IBGUARD_RULE_SOURCE, s, len + 1);
		return;
	}
	text = texts[rnd(ARRAY_SIZE(texts))];
	attr_put(mb, IBGUARD_RULE_SOURCE, text, strlen(text) + 1);
}

static void pkey_attrs_put(struct msgbuf *mb, __u64 faults)
{
	__u16 lo = chance(30) ? 0x8001 : rnd64(), hi, t;

	hi = chance(40) ? lo : lo + rnd(0x10000 - lo);
	if (chance(10)) {
		lo = 0;
		hi = 0xffff;
	}
	if (has(faults, F_REVERSED) && lo == hi) {
		lo = 9;
		hi = 1;
	} else if (has(faults, F_REVERSED)) {
		t = lo;
		lo = hi;
		hi = t;
	}
	if (!has(faults, F_MISSING_PART) || chance(50))
		num_put(mb, IBGUARD_RULE_PKEY_LO, 2, lo, 0);
	if (!has(faults, F_MISSING_PART) || chance(50))
		num_put(mb, IBGUARD_RULE_PKEY_HI, 2, hi, 0);
	if (chance(30))
		num_put(mb, IBGUARD_RULE_SUBNET, 8, chance(50) ?
			0xfe80000000000000ULL : interesting(), 0);
}

static void endport_attrs_put(struct msgbuf *mb, __u64 faults)
{
	if (chance(50) || has(faults, F_BAD_NAME))
		str_put(mb, IBGUARD_RULE_DEVICE, !has(faults, F_BAD_NAME),
			IBGUARD_DEVICE_NAME_LEN - 1);
	if (has(faults, F_BAD_PORT))
		num_put(mb, IBGUARD_RULE_PORT, 4,
			chance(50) ? 0 : 256 + rnd(1000), 0);
	else if (chance(50))
		num_put(mb, IBGUARD_RULE_PORT, 4, rnd_range(1, 255), 0);
}

static void chardev_attrs_put(struct msgbuf *mb, __u64 faults)
{
	bool missing = has(faults, F_MISSING_PART);
	__u32 lo, hi, t;

	/* Majors the guest does not use, unless a fault asks for more. */
	num_put(mb, IBGUARD_RULE_CHR_MAJOR, 4,
		has(faults, F_BAD_MAJOR_MINOR) ? 4096 + rnd(100) :
		rnd_range(3000, 4095), 0);
	if (chance(40))
		return;
	lo = rnd(1 << 20);
	hi = lo + rnd((1 << 20) - lo);
	if (has(faults, F_REVERSED) && lo != hi) {
		t = lo;
		lo = hi;
		hi = t;
	}
	if (has(faults, F_BAD_MAJOR_MINOR))
		hi = (1 << 20) + rnd(10);
	if (!missing || chance(50))
		num_put(mb, IBGUARD_RULE_CHR_MINOR_LO, 4, lo, 0);
	if (!missing || chance(50))
		num_put(mb, IBGUARD_RULE_CHR_MINOR_HI, 4, hi, 0);
}

static void map_attrs_put(struct msgbuf *mb, __u64 faults)
{
	unsigned int object = rnd(IBGUARD_MAP_MAX + 1);
	bool missing = has(faults, F_MISSING_PART);

	if (has(faults, F_BAD_OBJECT))
		object = IBGUARD_MAP_MAX + 1 + rnd(250);
	if (!missing || chance(50))
		num_put(mb, IBGUARD_RULE_MAP_OBJECT, 1, object, 0);
	if (chance(50))
		num_put(mb, IBGUARD_RULE_PROT, 4, has(faults, F_BAD_FLAGS) ?
			IBGUARD_PROT_ALL + 1 + rnd(100) :
			rnd(IBGUARD_PROT_ALL + 1), 0);
	if (has(faults, F_OTHER_OBJECT_ATTR))
		object = rnd(IBGUARD_MAP_MAX + 1);
	switch (object) {
	case IBGUARD_MAP_PATH:
	case IBGUARD_MAP_TREE:
		if (!missing || chance(50))
			num_put(mb, IBGUARD_RULE_DEV, 4, interesting(), 0);
		if (!missing || chance(50))
			num_put(mb, IBGUARD_RULE_INO, 8, interesting(), 0);
		break;
	case IBGUARD_MAP_CHARDEV:
		chardev_attrs_put(mb, faults);
		break;
	default:
		if (!missing || chance(50))
			str_put(mb, IBGUARD_RULE_FSTYPE, !has(faults, F_BAD_NAME),
				IBGUARD_FSTYPE_LEN - 1);
		break;
	}
}

/* An attribute of another class than cls. */
static void other_class_attr(struct msgbuf *mb, unsigned int cls)
{
	switch ((cls + 1 + rnd(2)) % IBGUARD_NR_CLASSES) {
	case IBGUARD_CLASS_PKEY:
		num_put(mb, IBGUARD_RULE_PKEY_LO, 2, 1, 0);
		break;
	case IBGUARD_CLASS_ENDPORT:
		num_put(mb, IBGUARD_RULE_PORT, 4, 1, 0);
		break;
	default:
		num_put(mb, IBGUARD_RULE_PROT, 4, IBGUARD_PROT_READ, 0);
		break;
	}
}

/* The mistakes of a rule that come after its proper attributes. */
static void rule_extras_put(struct msgbuf *mb, __u64 faults, unsigned int cls)
{
	static const __u16 rejected[] = {
		IBGUARD_RULE_PAD, IBGUARD_RULE_INDEX, IBGUARD_RULE_HITS,
	};
	size_t nest;

	if (has(faults, F_OTHER_CLASS_ATTR))
		other_class_attr(mb, cls);
	if (has(faults, F_REJECT_ATTR))
		num_put(mb, rejected[rnd(ARRAY_SIZE(rejected))],
			chance(50) ? 4 : 8, 0, 0);
	if (has(faults, F_UNKNOWN_ATTR))
		num_put(mb, chance(20) ? 0 : IBGUARD_RULE_MAX + 1 + rnd(100),
			4, interesting(), 0);
	if (has(faults, F_WRONG_LEN))
		num_put(mb, rnd_range(IBGUARD_RULE_CLASS, IBGUARD_RULE_MAX),
			1 << rnd(4), interesting(), 100);
	if (has(faults, F_GARBAGE_NEST)) {
		nest = nest_start(mb, rnd(IBGUARD_RULE_MAX + 4) | NLA_F_NESTED);
		garbage_attrs(mb, 4, rnd_range(1, 6));
		nest_end(mb, nest);
	}
	if (has(faults, F_NESTED_FLAG))
		num_put(mb, IBGUARD_RULE_CLASS | NLA_F_NESTED, 1, cls, 0);
	if (has(faults, F_DUPLICATE)) {
		num_put(mb, IBGUARD_RULE_CLASS, 1, rnd(IBGUARD_NR_CLASSES), 0);
		num_put(mb, IBGUARD_RULE_VERDICT, 1, rnd(2), 0);
	}
	if (has(faults, F_DEEP_NEST))
		deep_nest(mb, chance(50) ? IBGUARD_RULE_SUBJECT :
			  IBGUARD_ATTR_RULE, rnd_range(2, 48));
}

/*
 * One IBGUARD_ATTR_RULE nest: valid when faults is 0 (as far as the
 * generator knows), with those mistakes otherwise.
 */
static void rule_put(struct msgbuf *mb, __u64 faults)
{
	unsigned int cls = rnd(IBGUARD_NR_CLASSES);
	unsigned int verdict = rnd(IBGUARD_VERDICT_MAX + 1);
	unsigned int nr_subjects = chance(30) ? 0 : rnd_range(1, 3), i;
	bool safe = verdict == IBGUARD_VERDICT_DENY && chance(90);
	bool subjects_first = chance(20);
	size_t nest;

	if (has(faults, F_BAD_CLASS))
		cls = IBGUARD_CLASS_MAX + 1 + rnd(250);
	if (has(faults, F_BAD_VERDICT))
		verdict = IBGUARD_VERDICT_MAX + 1 + rnd(250);
	if (safe && !nr_subjects)
		nr_subjects = 1;
	nest = nest_start(mb, IBGUARD_ATTR_RULE | nest_flag(faults));
	if (nest == SIZE_MAX)
		return;
	for (i = 0; subjects_first && i < nr_subjects; i++)
		subject_put(mb, faults, safe && !i);
	if (!has(faults, F_NO_CLASS))
		num_put(mb, IBGUARD_RULE_CLASS, 1, cls, 0);
	if (!has(faults, F_NO_VERDICT))
		num_put(mb, IBGUARD_RULE_VERDICT, 1, verdict, 0);
	if (!has(faults, F_NO_SOURCE))
		source_put(mb, faults, cls);
	if (has(faults, F_BAD_FLAGS))
		num_put(mb, IBGUARD_RULE_FLAGS, 4, chance(70) ?
			IBGUARD_RULE_SHARED :
			IBGUARD_RULE_FLAGS_ALL + 1 + rnd(1000), 0);
	else if (chance(40))
		num_put(mb, IBGUARD_RULE_FLAGS, 4, cls == IBGUARD_CLASS_MAP ?
			rnd(IBGUARD_RULE_FLAGS_ALL + 1) :
			rnd(IBGUARD_RULE_LOG + 1), 0);
	if (cls == IBGUARD_CLASS_PKEY)
		pkey_attrs_put(mb, faults);
	else if (cls == IBGUARD_CLASS_ENDPORT)
		endport_attrs_put(mb, faults);
	else
		map_attrs_put(mb, faults);
	for (i = 0; !subjects_first && i < nr_subjects; i++)
		subject_put(mb, faults, safe && !i);
	rule_extras_put(mb, faults, cls);
	nest_end(mb, nest);
}

/*
 * Mistakes for a rule: often one that passes attribute validation and is
 * for rule.c to find, otherwise up to three of any kind.
 */
static __u64 random_faults(void)
{
	static const enum rule_fault semantic[] = {
		F_NO_CLASS, F_NO_VERDICT, F_NO_SOURCE, F_OTHER_CLASS_ATTR,
		F_REVERSED, F_MISSING_PART, F_BAD_NAME, F_OTHER_OBJECT_ATTR,
		F_BAD_SUBJECT, F_DUPLICATE, F_BAD_FLAGS,
	};
	unsigned int n = rnd_range(1, 3);
	__u64 faults = 0;

	if (chance(60))
		return 1ULL << semantic[rnd(ARRAY_SIZE(semantic))];
	while (n--)
		faults |= 1ULL << rnd(NR_FAULTS);
	return faults;
}

/* ------------------------------------------------------------------------ */
/* Requests */

static __u16 family;
static __u32 next_seq = 1;

static __u16 good_flags(bool dump)
{
	__u16 flags = NLM_F_REQUEST;

	if (chance(75))
		flags |= NLM_F_ACK;
	if (dump)
		flags |= NLM_F_DUMP;
	return flags;
}

/* nr rules, or rules up to about target bytes; bad_pct % with mistakes. */
static void add_rules(struct msgbuf *mb, unsigned int nr, size_t target,
		      unsigned int bad_pct)
{
	size_t start = mb->len;
	unsigned int i;

	for (i = 0; i < nr || mb->len - start < target; i++) {
		if (!mb_room(mb, IBGUARD_MAX_SOURCE_LEN + 2048))
			break;
		rule_put(mb, chance(bad_pct) ? random_faults() : 0);
	}
}

static void begin_attrs(struct msgbuf *mb, bool valid)
{
	unsigned int bad = valid ? 0 : 10, i;

	for (i = 0; i < IBGUARD_NR_CLASSES; i++)
		if (chance(30))
			num_put(mb, IBGUARD_ATTR_DEFAULT_PKEY + i, 1,
				valid || chance(70) ? rnd(2) : interesting(),
				bad);
	if (chance(30))
		num_put(mb, IBGUARD_ATTR_OPTIONS, 4, valid || chance(50) ?
			rnd(IBGUARD_OPT_ALL + 1) : interesting(), bad);
	if (chance(30))
		num_put(mb, IBGUARD_ATTR_MODE, 1,
			valid || chance(50) ? rnd(2) : interesting(), bad);
	/* Mostly stale: the generator does not know the generation. */
	if (chance(6))
		num_put(mb, IBGUARD_ATTR_GENERATION, 8, rnd(64), bad);
}

/* The attributes of a cmd request; valid ones unless !valid. */
static void cmd_attrs(struct msgbuf *mb, __u8 cmd, bool valid)
{
	switch (cmd) {
	case IBGUARD_CMD_POLICY_BEGIN:
		begin_attrs(mb, valid);
		break;
	case IBGUARD_CMD_POLICY_ADD:
		if (chance(5))
			break;
		if (chance(4))
			add_rules(mb, 0, rnd_range(8 * 1024, 64 * 1024),
				  valid ? 0 : 3);
		else
			add_rules(mb, chance(80) ? rnd_range(1, 3) :
				  rnd_range(4, 50), 0, valid ? 0 : 30);
		break;
	case IBGUARD_CMD_POLICY_COMMIT:
		if (chance(25))
			attr_put(mb, IBGUARD_ATTR_DRY_RUN, NULL, 0);
		break;
	case IBGUARD_CMD_STATS_GET:
		if (chance(50))
			attr_put(mb, IBGUARD_ATTR_RULE_STATS, NULL, 0);
		break;
	case IBGUARD_CMD_SET_MODE:
		if (valid || chance(80))
			num_put(mb, IBGUARD_ATTR_MODE, 1, valid || chance(50) ?
				rnd(2) : interesting(), valid ? 0 : 20);
		break;
	default:
		break;
	}
}

/* A request of cmd; returns the offset of its header or SIZE_MAX. */
static size_t request(struct msgbuf *mb, __u8 cmd, __u16 flags, bool valid)
{
	size_t off = nl_start(mb, family, flags, next_seq++);

	if (off == SIZE_MAX)
		return off;
	genl_put(mb, cmd, IBGUARD_GENL_VERSION);
	cmd_attrs(mb, cmd, valid);
	nl_end(mb, off);
	return off;
}

/* nla_ok() for the attribute at pos of an area ending at end. */
static bool attr_ok(const __u8 *data, size_t pos, size_t end)
{
	return pos <= end && end - pos >= NLA_HDRLEN &&
	       get16(data + pos) >= NLA_HDRLEN &&
	       get16(data + pos) <= end - pos;
}

static size_t attr_next(const __u8 *data, size_t pos)
{
	return pos + NLA_ALIGN(get16(data + pos));
}

static __u16 attr_type(const __u8 *data, size_t pos)
{
	return get16(data + pos + 2) & NLA_TYPE_MASK;
}

static size_t attr_payload(const __u8 *data, size_t pos)
{
	return get16(data + pos) - NLA_HDRLEN;
}

static size_t attr_end(const __u8 *data, size_t pos)
{
	return pos + get16(data + pos);
}

static bool looks_nested(const __u8 *data, size_t pos)
{
	return attr_payload(data, pos) >= NLA_HDRLEN &&
	       ((get16(data + pos + 2) & NLA_F_NESTED) ||
		attr_type(data, pos) == IBGUARD_ATTR_RULE);
}

/* Offsets of the attributes in [start, end), nests included. */
static unsigned int collect_attrs(const __u8 *data, size_t start, size_t end,
				  size_t *offs, unsigned int n,
				  unsigned int depth)
{
	size_t pos;

	for (pos = start; attr_ok(data, pos, end) && n < MAX_ATTRS;
	     pos = attr_next(data, pos)) {
		offs[n++] = pos;
		if (depth < 8 && looks_nested(data, pos))
			n = collect_attrs(data, pos + NLA_HDRLEN,
					  attr_end(data, pos), offs, n,
					  depth + 1);
	}
	return n;
}

/* A new length for an attribute whose length is len, at pos of mb. */
static __u16 bad_attr_len(const struct msgbuf *mb, size_t pos, __u16 len)
{
	switch (rnd(8)) {
	case 0:
		return rnd(NLA_HDRLEN);
	case 1:
		return NLA_HDRLEN;
	case 2:
		return len + 1;
	case 3:
		return len - 1;
	case 4:
		return 0xffff;
	case 5:
		return mb->len - pos + NLA_HDRLEN;	/* past the end */
	case 6:
		return len + NLA_HDRLEN;
	default:
		return rnd64();
	}
}

static __u16 bad_flags(void)
{
	static const __u16 flags[] = {
		NLM_F_REQUEST | NLM_F_DUMP, NLM_F_REQUEST | NLM_F_ROOT,
		NLM_F_REQUEST | NLM_F_MATCH, NLM_F_REQUEST | NLM_F_DUMP | NLM_F_ACK,
		NLM_F_REQUEST | NLM_F_ECHO, NLM_F_REQUEST | NLM_F_MULTI,
		NLM_F_REQUEST | NLM_F_ATOMIC | NLM_F_ACK, NLM_F_ACK, 0,
		NLM_F_REQUEST, NLM_F_REQUEST | NLM_F_ACK | NLM_F_EXCL,
	};

	if (chance(50))
		return rnd64() | NLM_F_REQUEST;
	return flags[rnd(ARRAY_SIZE(flags))];
}

/* Damages the message at off, which ends at mb->len, once. */
static void mutate(struct msgbuf *mb, size_t off)
{
	static const __u8 versions[] = { 0, 2, 3, 255 };
	static size_t offs[MAX_ATTRS];
	size_t attrs = off + NLMSG_HDRLEN + GENL_HDRLEN, a = SIZE_MAX;
	__u8 *nlh = mb->data + off;
	unsigned int n = 0, i;

	if (mb->len > attrs)
		n = collect_attrs(mb->data, attrs, mb->len, offs, 0, 0);
	if (n)
		a = offs[rnd(n)];

	switch (rnd(16)) {
	case 0:		/* flip bits in the payload */
		for (i = rnd_range(1, 8); i && mb->len > attrs; i--)
			mb->data[rnd_range(attrs, mb->len - 1)] ^= 1 << rnd(8);
		break;
	case 1:		/* an attribute's length */
		if (a != SIZE_MAX)
			put16(mb->data + a,
			      bad_attr_len(mb, a, get16(mb->data + a)));
		break;
	case 2:		/* an attribute's type */
		if (a != SIZE_MAX)
			put16(mb->data + a + 2, chance(50) ? rnd(40) : rnd64());
		break;
	case 3:		/* the nested flag, either way */
		if (a != SIZE_MAX)
			put16(mb->data + a + 2,
			      get16(mb->data + a + 2) ^ NLA_F_NESTED);
		break;
	case 4:		/* cut short, nlmsg_len fixed or not */
		if (mb->len <= off + NLMSG_HDRLEN)
			break;
		mb->len = rnd_range(off + NLMSG_HDRLEN, mb->len - 1);
		if (chance(70))
			nl_end(mb, off);
		break;
	case 5:		/* nlmsg_len shorter than the headers */
		put32(nlh, rnd(NLMSG_HDRLEN + GENL_HDRLEN));
		break;
	case 6:		/* nlmsg_len shorter than the message */
		if (mb->len - off > NLMSG_HDRLEN + 1)
			put32(nlh, rnd_range(NLMSG_HDRLEN, mb->len - off - 1));
		break;
	case 7:		/* nlmsg_len longer than the buffer */
		put32(nlh, chance(20) ? 0xffffffff :
		      mb->len - off + rnd_range(1, 100));
		break;
	case 8:
		nlh[NLMSG_HDRLEN + 1] = versions[rnd(ARRAY_SIZE(versions))];
		break;
	case 9:
		nlh[NLMSG_HDRLEN] = chance(50) ? rnd(__IBGUARD_CMD_MAX + 3) :
				    rnd(256);
		break;
	case 10:
		put16(nlh + 6, bad_flags());
		break;
	case 11:	/* a truncated attribute header at the end */
		for (i = rnd_range(1, 3); i && mb_room(mb, 1); i--)
			mb->data[mb->len++] = rnd64();
		if (chance(80))
			nl_end(mb, off);
		break;
	case 12:	/* more attributes, known types with any length */
		garbage_attrs(mb, 3, rnd_range(1, 6));
		nl_end(mb, off);
		break;
	case 13:	/* oversized: a big attribute of some type */
		attr_put(mb, rnd(IBGUARD_ATTR_MAX + 3) |
			 (chance(50) ? NLA_F_NESTED : 0), NULL,
			 rnd_range(1000, 0xffff - NLA_HDRLEN));
		nl_end(mb, off);
		break;
	case 14:	/* a rule with mistakes */
		rule_put(mb, random_faults());
		nl_end(mb, off);
		break;
	default:	/* a zero-length attribute */
		attr_put(mb, rnd(IBGUARD_ATTR_MAX + 3), NULL, 0);
		nl_end(mb, off);
		break;
	}
}

/* Any command, any flags, attributes of random types and sizes. */
static void garbage_request(struct msgbuf *mb)
{
	__u16 flags = chance(80) ? good_flags(chance(20)) : rnd64();
	size_t off = nl_start(mb, family, flags, next_seq++);

	if (off == SIZE_MAX)
		return;
	genl_put(mb, chance(70) ? rnd(__IBGUARD_CMD_MAX + 3) : rnd(256),
		 chance(80) ? IBGUARD_GENL_VERSION : rnd(256));
	if (chance(20))
		deep_nest(mb, chance(50) ? IBGUARD_ATTR_RULE : rnd(30),
			  rnd_range(2, 64));
	else
		garbage_attrs(mb, 4, rnd_range(0, 12));
	nl_end(mb, off);
}

/* Random bytes, often behind a plausible header. */
static void raw_garbage(struct msgbuf *mb)
{
	size_t len = chance(90) ? rnd(512) : rnd(64 * 1024), i;
	__u8 *p = mb->data + mb->len;

	if (!mb_room(mb, len))
		return;
	for (i = 0; i < len; i++)
		p[i] = rnd64();
	if (len >= NLMSG_HDRLEN && chance(70)) {
		put32(p, chance(50) ? len : rnd(len + 8));
		put16(p + 4, family);
		put16(p + 6, NLM_F_REQUEST | (rnd64() & 0x3fe));
	}
	mb->len += len;
}

/* ------------------------------------------------------------------------ */
/* Sanitizing: no policy the kernel accepts may deny anything to the guest */

/* The last attribute of type in [start, end), or SIZE_MAX. */
static size_t last_attr(const __u8 *data, size_t start, size_t end,
			__u16 type)
{
	size_t pos, found = SIZE_MAX;

	for (pos = start; attr_ok(data, pos, end); pos = attr_next(data, pos))
		if (attr_type(data, pos) == type)
			found = pos;
	return found;
}

/* A subject that only ever matches ids from SAFE_ID_MIN up. */
static bool subject_is_safe(const __u8 *data, size_t nest)
{
	size_t start = nest + NLA_HDRLEN, end = attr_end(data, nest);
	size_t type = last_attr(data, start, end, IBGUARD_SUBJ_TYPE);
	size_t lo = last_attr(data, start, end, IBGUARD_SUBJ_LO);

	return type != SIZE_MAX && lo != SIZE_MAX &&
	       attr_payload(data, type) >= 1 &&
	       (data[type + NLA_HDRLEN] == IBGUARD_SUBJ_UID ||
		data[type + NLA_HDRLEN] == IBGUARD_SUBJ_GID) &&
	       attr_payload(data, lo) >= 4 &&
	       get32(data + lo + NLA_HDRLEN) >= SAFE_ID_MIN;
}

static unsigned long neutered, locks_dropped;

/* Sets a deny verdict (first payload byte) at pos to allow. */
static void neuter(__u8 *data, size_t pos)
{
	if (attr_payload(data, pos) >= 1 &&
	    data[pos + NLA_HDRLEN] == IBGUARD_VERDICT_DENY) {
		data[pos + NLA_HDRLEN] = IBGUARD_VERDICT_ALLOW;
		neutered++;
	}
}

/* A map rule that may deny gets an allow verdict unless a subject is safe. */
static void sanitize_rule(__u8 *data, size_t nest)
{
	size_t start = nest + NLA_HDRLEN, end = attr_end(data, nest), pos;
	size_t cls = last_attr(data, start, end, IBGUARD_RULE_CLASS);

	if (cls == SIZE_MAX || attr_payload(data, cls) < 1 ||
	    data[cls + NLA_HDRLEN] != IBGUARD_CLASS_MAP)
		return;
	for (pos = start; attr_ok(data, pos, end); pos = attr_next(data, pos))
		if (attr_type(data, pos) == IBGUARD_RULE_SUBJECT &&
		    subject_is_safe(data, pos))
			return;
	for (pos = start; attr_ok(data, pos, end); pos = attr_next(data, pos))
		if (attr_type(data, pos) == IBGUARD_RULE_VERDICT)
			neuter(data, pos);
}

static void sanitize_attrs(__u8 *data, size_t start, size_t end)
{
	size_t pos;

	for (pos = start; attr_ok(data, pos, end); pos = attr_next(data, pos)) {
		if (attr_type(data, pos) == IBGUARD_ATTR_DEFAULT_MAP)
			neuter(data, pos);
		else if (attr_type(data, pos) == IBGUARD_ATTR_RULE)
			sanitize_rule(data, pos);
	}
}

/* One message of a send, as netlink_rcv_skb() will see it. */
struct processed {
	size_t off;
	__u32 len, seq;
	__u16 type, flags;
	__u8 cmd;
	bool relevant;		/* a request that may change the state */
	bool answered;
	int error;
};

static struct processed processed[MAX_PROCESSED];
static unsigned int nr_processed;

static bool changes_state(__u8 cmd)
{
	return cmd == IBGUARD_CMD_POLICY_BEGIN ||
	       cmd == IBGUARD_CMD_POLICY_ADD ||
	       cmd == IBGUARD_CMD_POLICY_COMMIT ||
	       cmd == IBGUARD_CMD_POLICY_ABORT || cmd == IBGUARD_CMD_SET_MODE;
}

/*
 * Walks the send buffer as netlink_rcv_skb() does: moves every message that
 * another family would get to ibguard, makes the policies harmless and
 * records what the kernel will process.
 */
static void sanitize(struct msgbuf *mb)
{
	struct processed *m;
	size_t off = 0, msglen;
	__u8 *p;

	for (nr_processed = 0; mb->len - off >= NLMSG_HDRLEN; off += msglen) {
		p = mb->data + off;
		if (get32(p) < NLMSG_HDRLEN || get32(p) > mb->len - off)
			break;
		if (nr_processed == MAX_PROCESSED) {
			mb->len = off;	/* not looked at: not sent */
			break;
		}
		if (get16(p + 4) >= NLMSG_MIN_TYPE && get16(p + 4) != family)
			put16(p + 4, family);
		m = &processed[nr_processed++];
		memset(m, 0, sizeof(*m));
		m->off = off;
		m->len = get32(p);
		m->type = get16(p + 4);
		m->flags = get16(p + 6);
		m->seq = get32(p + 8);
		if (m->type == family && m->len >= NLMSG_HDRLEN + GENL_HDRLEN) {
			/* Irreversible until reboot: never. */
			if (p[NLMSG_HDRLEN] == IBGUARD_CMD_LOCK) {
				p[NLMSG_HDRLEN] = IBGUARD_CMD_EVENT;
				locks_dropped++;
			}
			m->cmd = p[NLMSG_HDRLEN];
			sanitize_attrs(mb->data, off + NLMSG_HDRLEN + GENL_HDRLEN,
				       off + m->len);
			m->relevant = (m->flags & NLM_F_REQUEST) &&
				      (m->flags & NLM_F_DUMP) != NLM_F_DUMP &&
				      changes_state(m->cmd);
		}
		msglen = NLMSG_ALIGN(m->len);
		if (msglen > mb->len - off)
			msglen = mb->len - off;
	}
}

/* ------------------------------------------------------------------------ */
/* Reports */

struct sent_copy {
	unsigned long index;
	unsigned int slot;
	size_t len;
	__u8 data[MSG_MAX];
};

static struct sent_copy history[HISTORY];
static unsigned long sent, sends, last_agreement;
static unsigned long mismatches;
static unsigned long long seed = 1;
static unsigned long want = 200000;
static unsigned int nr_socks = 4;
static bool verbose;
static long hexdump_send = -1;

static void hexdump(const __u8 *data, size_t len, size_t max)
{
	size_t i;

	for (i = 0; i < len && i < max; i++)
		fprintf(stderr, "%s%02x%s", i % 16 ? "" : "#   ", data[i],
			i % 16 == 15 || i + 1 == len || i + 1 == max ? "\n" :
			i % 4 == 3 ? " " : "");
	if (len > max)
		fprintf(stderr, "#   ... %zu more bytes (-x to see all)\n",
			len - max);
}

static void remember(const struct msgbuf *mb, unsigned int slot)
{
	struct sent_copy *c = &history[sends % HISTORY];

	c->index = sends;
	c->slot = slot;
	c->len = mb->len;
	memcpy(c->data, mb->data, mb->len);
	if ((long)sends == hexdump_send) {
		fprintf(stderr, "# send %lu, socket %u, %zu bytes:\n", sends,
			slot, mb->len);
		hexdump(mb->data, mb->len, MSG_MAX);
	}
}

/* A kernel state or answer the model rules out. */
static void mismatch(const char *fmt, ...)
{
	const struct sent_copy *c;
	unsigned long first;
	va_list ap;

	mismatches++;
	fprintf(stderr, "nl_fuzz: MISMATCH after send %lu (message %lu): ",
		sends, sent);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (mismatches > MAX_REPORTS)
		return;
	first = sends > HISTORY ? sends - HISTORY + 1 : 1;
	if (last_agreement + 1 > first)
		first = last_agreement + 1;
	fprintf(stderr, "# sends since the kernel last agreed (%lu..%lu):\n",
		first, sends);
	for (; first <= sends; first++) {
		c = &history[first % HISTORY];
		fprintf(stderr, "# send %lu, socket %u, %zu bytes:\n",
			c->index, c->slot, c->len);
		hexdump(c->data, c->len, 512);
	}
	fprintf(stderr, "# replay: nl_fuzz -n %lu -s %llu -j %u -v -x SEND\n",
		want, seed, nr_socks);
}

/* ------------------------------------------------------------------------ */
/* The model of the kernel's state */

struct mrule {
	__u8 cls, verdict;
	__u32 flags;
	char *source;
};

struct mpolicy {
	bool present;		/* a dump had a policy header */
	__u64 generation;
	__u8 mode;		/* dumps: the mode; staging: the one to set */
	bool set_mode;
	__u8 defaults[IBGUARD_NR_CLASSES];
	__u32 options;
	__u32 count;		/* dumps: RULE_COUNT */
	__u32 nr_rules, capacity;
	struct mrule *rules;
};

enum staging_state { STAGING_NONE, STAGING_KNOWN, STAGING_UNKNOWN };

static struct {
	struct mpolicy active, staging;
	enum staging_state state;
	unsigned int owner;	/* socket slot of a known staging */
	__u64 generation;
	__u8 mode;
	bool active_unknown;	/* a commit of unknown rules happened */
	bool uncertain;		/* answers were lost */
	bool commit_refused;	/* the staging may be gone: ask */
	__u64 dumped;		/* generation last compared with a dump */
} model;

static unsigned long commits, dry_runs, aborts, begins, adds, rules_staged;
static unsigned long mode_sets, commit_errors, resyncs;

static void oom(void)
{
	fprintf(stderr, "nl_fuzz: out of memory\n");
	exit(1);
}

static void policy_clear(struct mpolicy *p)
{
	__u32 i;

	for (i = 0; i < p->nr_rules; i++)
		free(p->rules[i].source);
	free(p->rules);
	memset(p, 0, sizeof(*p));
}

static void policy_add_rule(struct mpolicy *p, __u8 cls, __u8 verdict,
			    __u32 flags, const char *source, size_t len)
{
	struct mrule *r;

	if (p->nr_rules == p->capacity) {
		p->capacity = p->capacity ? p->capacity * 2 : 64;
		p->rules = realloc(p->rules, p->capacity * sizeof(*p->rules));
		if (!p->rules)
			oom();
	}
	r = &p->rules[p->nr_rules++];
	r->cls = cls;
	r->verdict = verdict;
	r->flags = flags;
	r->source = strndup(source, len);
	if (!r->source)
		oom();
}

/* Moves src into dst. */
static void policy_move(struct mpolicy *dst, struct mpolicy *src)
{
	policy_clear(dst);
	*dst = *src;
	memset(src, 0, sizeof(*src));
}

static void staging_drop(void)
{
	model.state = STAGING_NONE;
	policy_clear(&model.staging);
}

/* The rules of an accepted ADD, as the kernel keeps them. */
static void model_add(const __u8 *data, size_t start, size_t end)
{
	size_t pos, rs, re, cls, verdict, flags, source;

	for (pos = start; attr_ok(data, pos, end); pos = attr_next(data, pos)) {
		if (attr_type(data, pos) != IBGUARD_ATTR_RULE)
			continue;
		rs = pos + NLA_HDRLEN;
		re = attr_end(data, pos);
		cls = last_attr(data, rs, re, IBGUARD_RULE_CLASS);
		verdict = last_attr(data, rs, re, IBGUARD_RULE_VERDICT);
		flags = last_attr(data, rs, re, IBGUARD_RULE_FLAGS);
		source = last_attr(data, rs, re, IBGUARD_RULE_SOURCE);
		if (cls == SIZE_MAX || verdict == SIZE_MAX ||
		    source == SIZE_MAX) {
			mismatch("ADD accepted a rule without class, verdict or source");
			model.uncertain = true;
			continue;
		}
		policy_add_rule(&model.staging, data[cls + NLA_HDRLEN],
				data[verdict + NLA_HDRLEN],
				flags == SIZE_MAX ? 0 :
				get32(data + flags + NLA_HDRLEN),
				(const char *)data + source + NLA_HDRLEN,
				attr_payload(data, source));
	}
}

static void model_begin(const __u8 *data, size_t start, size_t end,
			unsigned int slot)
{
	size_t a;
	int i;

	if (model.state == STAGING_KNOWN && !model.uncertain &&
	    !model.commit_refused)
		mismatch("BEGIN on socket %u accepted while a load is in progress",
			 slot);
	begins++;
	policy_clear(&model.staging);
	model.state = STAGING_KNOWN;
	model.owner = slot;
	for (i = 0; i < IBGUARD_NR_CLASSES; i++) {
		a = last_attr(data, start, end, IBGUARD_ATTR_DEFAULT_PKEY + i);
		if (a != SIZE_MAX)
			model.staging.defaults[i] = data[a + NLA_HDRLEN];
	}
	a = last_attr(data, start, end, IBGUARD_ATTR_OPTIONS);
	if (a != SIZE_MAX)
		model.staging.options = get32(data + a + NLA_HDRLEN);
	a = last_attr(data, start, end, IBGUARD_ATTR_MODE);
	if (a != SIZE_MAX) {
		model.staging.set_mode = true;
		model.staging.mode = data[a + NLA_HDRLEN];
	}
}

static void model_commit(const __u8 *data, size_t start, size_t end,
			 bool owner)
{
	if (last_attr(data, start, end, IBGUARD_ATTR_DRY_RUN) != SIZE_MAX) {
		dry_runs++;
		staging_drop();
		return;
	}
	commits++;
	model.generation++;
	if (model.state == STAGING_KNOWN && owner) {
		if (model.staging.set_mode)
			model.mode = model.staging.mode;
		model.staging.set_mode = false;
		model.staging.present = true;
		model.staging.generation = model.generation;
		model.staging.count = model.staging.nr_rules;
		policy_move(&model.active, &model.staging);
	} else {
		model.active_unknown = true;
	}
	staging_drop();
}

/* A refusal the model rules out. */
static void check_refusal(const struct processed *m, bool owner,
			  unsigned int slot)
{
	if (model.uncertain)
		return;
	if (m->cmd == IBGUARD_CMD_POLICY_BEGIN && m->error == -EBUSY &&
	    model.state == STAGING_NONE)
		mismatch("BEGIN on socket %u refused with EBUSY, no load in progress",
			 slot);
	/* ADD also says ENOENT for a cgroup that does not exist. */
	if ((m->cmd == IBGUARD_CMD_POLICY_COMMIT ||
	     m->cmd == IBGUARD_CMD_POLICY_ABORT) && m->error == -ENOENT &&
	    owner && model.state == STAGING_KNOWN)
		mismatch("command %u on socket %u refused with ENOENT by its own load",
			 m->cmd, slot);
}

/* What the kernel said about one processed message of socket slot. */
static void model_apply(const struct msgbuf *mb, const struct processed *m,
			unsigned int slot)
{
	size_t start = m->off + NLMSG_HDRLEN + GENL_HDRLEN;
	size_t end = m->off + m->len, a;
	bool owner = model.state == STAGING_UNKNOWN ||
		     (model.state == STAGING_KNOWN && model.owner == slot);

	if (m->error) {
		check_refusal(m, owner, slot);
		/*
		 * A COMMIT refused after the ownership check (a policy the
		 * module will not install, memory) has freed the staging;
		 * the status read right after this send tells.
		 */
		if (m->cmd == IBGUARD_CMD_POLICY_COMMIT && owner &&
		    m->error != -EINVAL && m->error != -ERANGE &&
		    m->error != -ENOENT && m->error != -EOPNOTSUPP) {
			commit_errors++;
			model.commit_refused = true;
		}
		return;
	}
	if (m->cmd != IBGUARD_CMD_POLICY_BEGIN &&
	    m->cmd != IBGUARD_CMD_SET_MODE && !owner && !model.uncertain)
		mismatch("command %u on socket %u accepted without its own load",
			 m->cmd, slot);
	switch (m->cmd) {
	case IBGUARD_CMD_POLICY_BEGIN:
		model_begin(mb->data, start, end, slot);
		break;
	case IBGUARD_CMD_POLICY_ADD:
		adds++;
		if (model.state == STAGING_KNOWN && owner) {
			a = model.staging.nr_rules;
			model_add(mb->data, start, end);
			rules_staged += model.staging.nr_rules - a;
		}
		break;
	case IBGUARD_CMD_POLICY_COMMIT:
		model_commit(mb->data, start, end, owner);
		break;
	case IBGUARD_CMD_POLICY_ABORT:
		aborts++;
		staging_drop();
		break;
	case IBGUARD_CMD_SET_MODE:
		mode_sets++;
		a = last_attr(mb->data, start, end, IBGUARD_ATTR_MODE);
		if (a != SIZE_MAX)
			model.mode = mb->data[a + NLA_HDRLEN];
		else
			mismatch("SET_MODE without a mode accepted");
		break;
	}
}

/* ------------------------------------------------------------------------ */
/* The fuzzing sockets */

struct fsock {
	int fd;
	unsigned int recv_size;
	bool begun;		/* the generator's idea, not the kernel's */
	unsigned int adds;
};

static struct fsock socks[MAX_SOCKETS];
static __u32 recv_words[RECV_MAX / 4];
static __u8 *const recv_buf = (__u8 *)recv_words;

static unsigned long replies, acks, closes, partial_reads;
static unsigned long next_check = CHECK_EVERY;
static unsigned long recv_enobufs, recv_trunc, send_errors, missing_acks;
static unsigned long errors[4096];
static int last_send_errno;

static int open_fsock(struct fsock *fs)
{
	static const unsigned int sizes[] = { 4096, 8192, 32768, RECV_MAX };
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int one = 1, big = 4 << 20;

	fs->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fs->fd < 0 || bind(fs->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		perror("nl_fuzz: netlink socket");
		return -1;
	}
	/* Room for a dump's skbs and 64 KiB echoes: ENOBUFS stays rare. */
	if (setsockopt(fs->fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)))
		setsockopt(fs->fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	if (chance(70))
		setsockopt(fs->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one,
			   sizeof(one));
	if (chance(30))
		setsockopt(fs->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one,
			   sizeof(one));
	fs->recv_size = sizes[rnd(ARRAY_SIZE(sizes))];
	fs->begun = false;
	fs->adds = 0;
	return 0;
}

/* The processed message an error message answers, or -1. */
static int answered_message(const struct nlmsghdr *nlh, size_t avail)
{
	const struct nlmsgerr *err = NLMSG_DATA(nlh);
	bool echoed = avail >= NLMSG_LENGTH(sizeof(*err));
	unsigned int i, match = 0, which = 0;

	for (i = 0; i < nr_processed; i++) {
		if (processed[i].seq != nlh->nlmsg_seq || processed[i].answered)
			continue;
		if (echoed && (processed[i].len != err->msg.nlmsg_len ||
			       processed[i].flags != err->msg.nlmsg_flags))
			continue;
		match++;
		which = i;
	}
	if (match > 1 && processed[which].relevant)
		model.uncertain = true;
	return match ? (int)which : -1;
}

#define MAX_REASONS 128

static struct {
	char text[80];
	unsigned long count;
} reasons[MAX_REASONS];
static unsigned int nr_reasons;

static int by_count(const void *a, const void *b)
{
	const typeof(reasons[0]) *x = a, *y = b;

	return x->count < y->count ? 1 : x->count > y->count ? -1 : 0;
}

/* Counts the extended ACK message of an error reply, if it has one. */
static void count_reason(const struct nlmsghdr *nlh, size_t avail)
{
	const struct nlmsgerr *err = NLMSG_DATA(nlh);
	const __u8 *data = (const __u8 *)nlh;
	size_t pos = NLMSG_HDRLEN + sizeof(int), msg;
	unsigned int i;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) ||
	    avail < NLMSG_LENGTH(sizeof(*err)))
		return;
	pos += nlh->nlmsg_flags & NLM_F_CAPPED ? NLMSG_HDRLEN :
	       NLMSG_ALIGN(err->msg.nlmsg_len);
	msg = last_attr(data, pos, avail, NLMSGERR_ATTR_MSG);
	if (msg == SIZE_MAX || !attr_payload(data, msg))
		return;
	for (i = 0; i < nr_reasons; i++)
		if (!strncmp(reasons[i].text, (const char *)data + msg +
			     NLA_HDRLEN, sizeof(reasons[i].text) - 1))
			break;
	if (i == nr_reasons && nr_reasons < MAX_REASONS)
		snprintf(reasons[nr_reasons++].text, sizeof(reasons[i].text),
			 "%.*s", (int)attr_payload(data, msg),
			 (const char *)data + msg + NLA_HDRLEN);
	if (i < nr_reasons)
		reasons[i].count++;
}

/* Counts a reply of which avail bytes were read; records an answer. */
static void read_reply(const struct nlmsghdr *nlh, size_t avail)
{
	const struct nlmsgerr *err = NLMSG_DATA(nlh);
	int which;

	replies++;
	if (nlh->nlmsg_type != NLMSG_ERROR ||
	    avail < NLMSG_LENGTH(sizeof(int)))
		return;
	if (!err->error)
		acks++;
	else if (-err->error > 0 && -err->error < 4096)
		errors[-err->error]++;
	if (err->error)
		count_reason(nlh, avail);
	which = answered_message(nlh, avail);
	if (which >= 0) {
		processed[which].answered = true;
		processed[which].error = err->error;
	}
}

/*
 * The replies in a datagram of len bytes. One cut short by a small buffer
 * (an error echoing a big request) still has its header and error code.
 */
static void read_replies(int len, bool truncated)
{
	const struct nlmsghdr *nlh = (const void *)recv_buf;

	for (; NLMSG_OK(nlh, len); nlh = NLMSG_NEXT(nlh, len))
		read_reply(nlh, nlh->nlmsg_len);
	if (truncated && len >= (int)NLMSG_HDRLEN && nlh->nlmsg_len > len)
		read_reply(nlh, len);
}

/*
 * Reads what the socket has, up to max_reads datagrams (0: until it has no
 * more), and records the answers to the messages of the last send.
 */
static void drain(struct fsock *fs, unsigned int max_reads)
{
	struct iovec iov = { recv_buf, fs->recv_size };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	unsigned int reads;
	ssize_t n;

	for (reads = 0; !max_reads || reads < max_reads; reads++) {
		msg.msg_flags = 0;
		n = recvmsg(fs->fd, &msg, MSG_DONTWAIT);
		if (n < 0 && errno == ENOBUFS) {
			recv_enobufs++;
			model.uncertain = true;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return;
		if (msg.msg_flags & MSG_TRUNC)
			recv_trunc++;
		read_replies(n, msg.msg_flags & MSG_TRUNC);
	}
}

/* ------------------------------------------------------------------------ */
/* Asking the kernel, over a socket of its own */

static struct genl_conn obs;

static void get_status(struct genl_status *st)
{
	int err = genl_get_status(&obs, st);

	if (err) {
		fprintf(stderr, "nl_fuzz: GET_STATUS: %s\n", strerror(-err));
		exit(1);
	}
}

static int simple_request(__u8 cmd, __u16 attr, __u8 value)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	nlh = genl_request(&obs, buf, cmd, NLM_F_REQUEST | NLM_F_ACK);
	if (attr)
		mnl_attr_put_u8(nlh, attr, value);
	return genl_transact(&obs, nlh, NULL, NULL);
}

/* One message of a POLICY_GET dump into p. */
static void parse_policy_msg(const __u8 *data, size_t end, struct mpolicy *p)
{
	size_t start = NLMSG_HDRLEN + GENL_HDRLEN, pos, rs, re;
	size_t rule = last_attr(data, start, end, IBGUARD_ATTR_RULE);
	size_t cls, verdict, flags, source, index;

	if (rule != SIZE_MAX) {
		rs = rule + NLA_HDRLEN;
		re = attr_end(data, rule);
		cls = last_attr(data, rs, re, IBGUARD_RULE_CLASS);
		verdict = last_attr(data, rs, re, IBGUARD_RULE_VERDICT);
		flags = last_attr(data, rs, re, IBGUARD_RULE_FLAGS);
		source = last_attr(data, rs, re, IBGUARD_RULE_SOURCE);
		index = last_attr(data, rs, re, IBGUARD_RULE_INDEX);
		if (cls == SIZE_MAX || verdict == SIZE_MAX ||
		    flags == SIZE_MAX || source == SIZE_MAX ||
		    index == SIZE_MAX ||
		    get32(data + index + NLA_HDRLEN) != p->nr_rules) {
			/* Something the comparison will not accept. */
			policy_add_rule(p, 0xff, 0xff, 0, "<malformed rule>", 16);
			return;
		}
		policy_add_rule(p, data[cls + NLA_HDRLEN],
				data[verdict + NLA_HDRLEN],
				get32(data + flags + NLA_HDRLEN),
				(const char *)data + source + NLA_HDRLEN,
				attr_payload(data, source));
		return;
	}
	for (pos = start; attr_ok(data, pos, end); pos = attr_next(data, pos)) {
		const __u8 *v = data + pos + NLA_HDRLEN;

		switch (attr_type(data, pos)) {
		case IBGUARD_ATTR_GENERATION:
			p->present = true;
			p->generation = get64(v);
			break;
		case IBGUARD_ATTR_MODE:
			p->mode = v[0];
			break;
		case IBGUARD_ATTR_OPTIONS:
			p->options = get32(v);
			break;
		case IBGUARD_ATTR_RULE_COUNT:
			p->count = get32(v);
			break;
		case IBGUARD_ATTR_DEFAULT_PKEY:
		case IBGUARD_ATTR_DEFAULT_ENDPORT:
		case IBGUARD_ATTR_DEFAULT_MAP:
			p->defaults[attr_type(data, pos) -
				    IBGUARD_ATTR_DEFAULT_PKEY] = v[0];
			break;
		}
	}
}

/*
 * A POLICY_GET dump on a new socket, read with bufsize bytes a read, into
 * p. Returns 0, or -errno (-EINTR: the policy changed during the dump).
 */
static int dump_once(size_t bufsize, struct mpolicy *p)
{
	static __u32 words[RECV_MAX / 4];
	struct genlmsghdr genl = {
		.cmd = IBGUARD_CMD_POLICY_GET,
		.version = IBGUARD_GENL_VERSION,
	};
	__u8 *buf = (__u8 *)words;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct timeval tv = { .tv_sec = 10 };
	struct msgbuf mb = { buf, 0, sizeof(words) };
	struct iovec iov = { buf, bufsize };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	const struct nlmsghdr *nlh;
	int fd, len, err = 1;
	bool intr = false;

	policy_clear(p);
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		perror("nl_fuzz: netlink socket");
		exit(1);
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	nl_start(&mb, family, NLM_F_REQUEST | NLM_F_DUMP, 1);
	mb_put(&mb, &genl, sizeof(genl));
	nl_end(&mb, 0);
	if (send(fd, buf, mb.len, 0) < 0)
		err = -errno;
	while (err > 0) {
		len = recvmsg(fd, &msg, 0);
		if (len < 0) {
			err = -errno;
			break;
		}
		if (msg.msg_flags & MSG_TRUNC) {
			/* Not a kernel bug: say so, and stop. */
			fprintf(stderr,
				"nl_fuzz: a POLICY_GET datagram did not fit %zu bytes\n",
				bufsize);
			exit(1);
		}
		for (nlh = (const void *)buf; err > 0 && NLMSG_OK(nlh, len);
		     nlh = NLMSG_NEXT(nlh, len)) {
			if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
				intr = true;
			/* A dump's NLMSG_DONE carries its error, if any. */
			if (nlh->nlmsg_type == NLMSG_DONE)
				err = nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(int)) ?
				      *(const int *)NLMSG_DATA(nlh) : 0;
			else if (nlh->nlmsg_type == NLMSG_ERROR)
				err = ((const struct nlmsgerr *)
				       NLMSG_DATA(nlh))->error ?: -EPROTO;
			else
				parse_policy_msg((const __u8 *)nlh,
						 nlh->nlmsg_len, p);
		}
	}
	close(fd);
	return err ? err : intr ? -EINTR : 0;
}

/* 0, or -EMSGSIZE when may_not_fit and a rule did not fit the buffer. */
static int dump_policy(size_t bufsize, struct mpolicy *p, bool may_not_fit)
{
	int err, tries;

	for (tries = 0; tries < 5; tries++) {
		err = dump_once(bufsize, p);
		if (err != -EINTR)
			break;
	}
	if (err == -EMSGSIZE && may_not_fit)
		return err;
	if (err) {
		fprintf(stderr, "nl_fuzz: POLICY_GET: %s\n", strerror(-err));
		exit(1);
	}
	return 0;
}

/*
 * Whether some rule's dump message could exceed what a reader with a
 * bufsize buffer receives in one datagram: its source alone takes most.
 */
static bool model_has_rule_near(size_t bufsize)
{
	__u32 i;

	for (i = 0; i < model.active.nr_rules; i++)
		if (strlen(model.active.rules[i].source) + 512 > bufsize)
			return true;
	return false;
}

/* The first difference between what the model wants and a dump, or NULL. */
static const char *policy_diff(const struct mpolicy *want,
			       const struct mpolicy *got, char *why, size_t len)
{
	const struct mrule *w, *g;
	__u32 i;

	if (want->present != got->present)
		return got->present ? "a policy where none should be" :
		       "no policy";
	if (want->generation != got->generation) {
		snprintf(why, len, "generation %llu, expected %llu",
			 (unsigned long long)got->generation,
			 (unsigned long long)want->generation);
		return why;
	}
	if (memcmp(want->defaults, got->defaults, sizeof(want->defaults)) ||
	    want->options != got->options)
		return "defaults or options differ";
	if (got->count != want->nr_rules || got->nr_rules != want->nr_rules) {
		snprintf(why, len,
			 "%u rules dumped, header says %u, expected %u; the first rule missing has a %zu-byte source",
			 got->nr_rules, got->count, want->nr_rules,
			 got->nr_rules < want->nr_rules ?
			 strlen(want->rules[got->nr_rules].source) : 0);
		return why;
	}
	for (i = 0; i < want->nr_rules; i++) {
		w = &want->rules[i];
		g = &got->rules[i];
		if (w->cls != g->cls || w->verdict != g->verdict ||
		    w->flags != g->flags || strcmp(w->source, g->source)) {
			snprintf(why, len,
				 "rule %u: class %u verdict %u flags %#x \"%.40s\", expected class %u verdict %u flags %#x \"%.40s\"",
				 i, g->cls, g->verdict, g->flags, g->source,
				 w->cls, w->verdict, w->flags, w->source);
			return why;
		}
	}
	return NULL;
}

static unsigned long small_dump_diffs;

/*
 * Compares the active policy with a dump read 32 KiB at a time, then with
 * one read 4 KiB at a time (a libmnl MNL_SOCKET_BUFFER_SIZE reader): the
 * second is a finding of its own, the model stands on the first.
 */
static void compare_dumps(void)
{
	unsigned long before = mismatches;
	struct mpolicy got = {};
	const char *diff;
	char why[256];

	dump_policy(32768, &got, false);
	diff = policy_diff(&model.active, &got, why, sizeof(why));
	if (diff)
		mismatch("POLICY_GET dump differs from the last commit: %s",
			 diff);
	else if (got.mode != model.mode)
		mismatch("POLICY_GET dump has mode %u, expected %u", got.mode,
			 model.mode);
	model.dumped = model.generation;
	if (mismatches == before)
		last_agreement = sends;
	/*
	 * A rule whose message does not fit a 4 KiB datagram cannot reach such
	 * a reader: the dump must then end with EMSGSIZE, never short.
	 */
	if (dump_policy(4096, &got, true))
		diff = model_has_rule_near(4096) ? NULL :
		       "EMSGSIZE although every rule is small";
	else
		diff = policy_diff(&model.active, &got, why, sizeof(why));
	if (diff && ++small_dump_diffs <= 10)
		fprintf(stderr,
			"nl_fuzz: MISMATCH after send %lu: POLICY_GET dump read 4 KiB at a time differs: %s\n",
			sends, diff);
	policy_clear(&got);
}

/* Takes the kernel's state as the model's. */
static void resync(const struct genl_status *st)
{
	resyncs++;
	model.generation = st->generation;
	model.mode = st->mode;
	if (!st->staging)
		staging_drop();
	else if (model.state == STAGING_NONE || model.uncertain)
		model.state = STAGING_UNKNOWN;
	dump_policy(32768, &model.active, false);
	model.active.count = model.active.nr_rules;
	model.dumped = model.generation;
	model.uncertain = false;
	model.active_unknown = false;
}

static bool staging_agrees(const struct genl_status *st)
{
	return model.state == STAGING_UNKNOWN ||
	       !st->staging == (model.state == STAGING_NONE);
}

/* Compares the model with the kernel. */
static void check_kernel(void)
{
	struct genl_status st;
	int tries;

	get_status(&st);
	if (model.commit_refused && !st.staging)
		staging_drop();
	model.commit_refused = false;
	/* Staging is freed when the socket is released: give it a moment. */
	for (tries = 0; !model.uncertain && !staging_agrees(&st) &&
	     tries < 200; tries++) {
		usleep(10000);
		get_status(&st);
	}
	if (model.uncertain || model.active_unknown) {
		resync(&st);
		last_agreement = sends;
		return;
	}
	if (st.generation != model.generation)
		mismatch("generation %llu, expected %llu",
			 (unsigned long long)st.generation,
			 (unsigned long long)model.generation);
	else if (st.mode != model.mode)
		mismatch("mode %u, expected %u", st.mode, model.mode);
	else if (!staging_agrees(&st))
		mismatch("staging memory %llu, expected %s",
			 (unsigned long long)st.staging,
			 model.state == STAGING_NONE ? "none" : "some");
	else if (model.generation != model.dumped)
		compare_dumps();
	else
		last_agreement = sends;
	if (last_agreement != sends) {
		/* Go on from what the kernel has. */
		model.uncertain = true;
		resync(&st);
	}
}

/* ------------------------------------------------------------------------ */
/* The fuzzing loop */

static __u8 scenario_cmd(struct fsock *fs)
{
	static const __u8 others[] = {
		IBGUARD_CMD_GET_STATUS, IBGUARD_CMD_POLICY_GET,
		IBGUARD_CMD_STATS_GET, IBGUARD_CMD_STATS_RESET,
		IBGUARD_CMD_SET_MODE, IBGUARD_CMD_UNSPEC, IBGUARD_CMD_EVENT,
		__IBGUARD_CMD_MAX, IBGUARD_CMD_POLICY_GET,
	};
	unsigned int r = rnd(100);

	if (fs->begun) {
		if (r < 50)
			return IBGUARD_CMD_POLICY_ADD;
		if (r < 62)
			return IBGUARD_CMD_POLICY_COMMIT;
		if (r < 68)
			return IBGUARD_CMD_POLICY_ABORT;
		if (r < 72)
			return IBGUARD_CMD_POLICY_BEGIN;
	} else {
		if (r < 25)
			return IBGUARD_CMD_POLICY_BEGIN;
		if (r < 32)
			return IBGUARD_CMD_POLICY_ADD;
		if (r < 37)
			return IBGUARD_CMD_POLICY_COMMIT;
		if (r < 40)
			return IBGUARD_CMD_POLICY_ABORT;
	}
	return others[rnd(ARRAY_SIZE(others))];
}

/* Appends one message for socket fs. */
/*
 * The socket the generator believes owns the staging: the first to send a
 * BEGIN since the last owner's COMMIT, ABORT or close. A guess from what was
 * sent, never from the replies; right often enough to reach the parser.
 */
static int owner_guess = -1;

/* Appends one message for socket slot. */
static void one_message(struct msgbuf *mb, unsigned int slot)
{
	struct fsock *fs = &socks[slot];
	unsigned int kind = rnd(100), i;
	size_t off, before = mb->len;
	bool dump;
	__u8 cmd;

	if (kind >= 95) {
		raw_garbage(mb);
		sent += mb->len > before;
		return;
	}
	if (kind >= 85) {
		garbage_request(mb);
		sent += mb->len > before;
		return;
	}
	cmd = scenario_cmd(fs);
	dump = cmd == IBGUARD_CMD_POLICY_GET || cmd == IBGUARD_CMD_STATS_GET;
	if (chance(5))
		dump = !dump;
	/* Valid, well-formed with mistakes inside, or damaged. */
	off = request(mb, cmd, good_flags(dump),
		      kind < 45 || (kind >= 65 && chance(50)));
	if (cmd == IBGUARD_CMD_POLICY_BEGIN) {
		fs->begun = true;
		fs->adds = 0;
		if (owner_guess < 0)
			owner_guess = slot;
	} else if (cmd == IBGUARD_CMD_POLICY_ADD) {
		fs->adds++;
	} else if (cmd == IBGUARD_CMD_POLICY_COMMIT ||
		   cmd == IBGUARD_CMD_POLICY_ABORT) {
		fs->begun = false;
		if (owner_guess == (int)slot)
			owner_guess = -1;
	}
	if (off == SIZE_MAX)
		return;
	sent++;
	if (kind < 65)
		return;
	for (i = rnd_range(1, 3); i; i--)
		mutate(mb, off);
}

static void close_and_reopen(unsigned int slot)
{
	struct fsock *fs = &socks[slot];

	closes++;
	if (owner_guess == (int)slot)
		owner_guess = -1;
	if (chance(50))
		drain(fs, 1);	/* maybe in the middle of a dump */
	close(fs->fd);
	if (model.state == STAGING_KNOWN && model.owner == slot)
		staging_drop();
	check_kernel();
	if (open_fsock(fs))
		exit(1);
}

static void log_send(unsigned int slot, size_t len)
{
	unsigned int i;

	printf("# send %lu socket %u len %zu:", sends, slot, len);
	for (i = 0; i < nr_processed; i++)
		printf(" [cmd %u flags %#x len %u%s -> %s%d]",
		       processed[i].cmd, processed[i].flags, processed[i].len,
		       processed[i].relevant ? " state" : "",
		       processed[i].answered ? "" : "no answer ",
		       processed[i].error);
	printf("\n");
}

/* Takes in the answers of a send on slot. */
static void conclude_send(const struct msgbuf *mb, unsigned int slot,
			  unsigned long enobufs_before)
{
	struct processed *m;
	bool commit = false;
	unsigned int i;

	for (i = 0; i < nr_processed; i++) {
		m = &processed[i];
		if (!m->relevant)
			continue;
		if (!m->answered && (m->flags & NLM_F_ACK)) {
			if (recv_enobufs == enobufs_before) {
				missing_acks++;
				mismatch("no ACK for message %u (cmd %u) of the send",
					 i, m->cmd);
			}
			model.uncertain = true;
			continue;
		}
		if (!m->answered && recv_enobufs != enobufs_before) {
			model.uncertain = true;
			continue;
		}
		model_apply(mb, m, slot);
		if (m->cmd == IBGUARD_CMD_POLICY_COMMIT)
			commit = true;
	}
	if (commit || model.uncertain || sent >= next_check) {
		next_check = sent + CHECK_EVERY;
		check_kernel();
	}
}

static void step(struct msgbuf *mb)
{
	unsigned int slot = rnd(nr_socks), r = rnd(100), i, count = 1;
	struct fsock *fs;
	unsigned long enobufs;
	bool partial;

	if (owner_guess >= 0 && chance(50))
		slot = owner_guess;
	fs = &socks[slot];

	if (r < 2 || (fs->begun && fs->adds && r < 5)) {
		close_and_reopen(slot);
		return;
	}
	if (r < 10)
		count = rnd_range(2, 6);
	mb->len = 0;
	for (i = 0; i < count; i++)
		one_message(mb, slot);
	partial = chance(15);
	sanitize(mb);
	sends++;
	remember(mb, slot);
	if (send(fs->fd, mb->data, mb->len, 0) < 0) {
		send_errors++;
		last_send_errno = errno;
		if (verbose)
			printf("# send %lu: %s\n", sends, strerror(errno));
		return;
	}
	/*
	 * Answers to doit requests are queued before send() returns. Leave
	 * a dump half read now and then, unless the send needs checking.
	 */
	for (i = 0; i < nr_processed; i++)
		if (processed[i].relevant)
			partial = false;
	enobufs = recv_enobufs;
	if (partial)
		partial_reads++;
	drain(fs, partial ? 1 : 0);
	if (verbose)
		log_send(slot, mb->len);
	conclude_send(mb, slot, enobufs);
}

static void print_summary(double seconds, __u64 generation0)
{
	unsigned long nr_errors = 0;
	const char *name;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(errors); i++)
		nr_errors += errors[i];
	printf("nl_fuzz: sent %lu messages, %lu replies, %lu errors by errno:",
	       sent, replies, nr_errors);
	for (i = 0; i < ARRAY_SIZE(errors); i++) {
		if (!errors[i])
			continue;
		name = strerrorname_np(i);
		if (name)
			printf(" %s=%lu", name, errors[i]);
		else
			printf(" %u=%lu", i, errors[i]);
	}
	printf("\n");
	fprintf(stdout,
		"nl_fuzz: seed %llu, %u sockets, %lu sends in %.1f s; %lu commits, generation %llu -> %llu; %lu dry runs, %lu begins, %lu adds (%lu rules), %lu aborts, %lu modes set, %lu commit errors\n",
		seed, nr_socks, sends, seconds, commits,
		(unsigned long long)generation0,
		(unsigned long long)model.generation, dry_runs, begins, adds,
		rules_staged, aborts, mode_sets, commit_errors);
	qsort(reasons, nr_reasons, sizeof(reasons[0]), by_count);
	for (i = 0; i < nr_reasons; i++)
		printf("nl_fuzz: %lu refusals: %s\n", reasons[i].count,
		       reasons[i].text);
	fprintf(stdout,
		"nl_fuzz: %lu acks, %lu socket closes, %lu half-read dumps, %lu truncated reads, %lu ENOBUFS, %lu send errors (last: %s), %lu resyncs, %lu deny verdicts made allow, %lu LOCKs made EVENT\n",
		acks, closes, partial_reads, recv_trunc, recv_enobufs,
		send_errors, last_send_errno ?
		strerrorname_np(last_send_errno) : "none", resyncs, neutered,
		locks_dropped);
}

static void bad_usage(void)
{
	fprintf(stderr, "usage: nl_fuzz [-n MESSAGES] [-s SEED] [-j SOCKETS] [-v] [-x SEND]\n");
	exit(1);
}

static unsigned long long number(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || !*s || *end)
		bad_usage();
	return v;
}

int main(int argc, char **argv)
{
	static __u32 send_words[MSG_MAX / 4];
	struct msgbuf mb = { (__u8 *)send_words, 0, sizeof(send_words) };
	struct timespec t0, t1;
	__u8 initial_mode;
	struct genl_status st;
	__u64 generation0;
	unsigned int i;
	int opt, err;

	while ((opt = getopt(argc, argv, "n:s:j:vx:")) != -1) {
		switch (opt) {
		case 'n':
			want = number(optarg);
			break;
		case 's':
			seed = number(optarg);
			break;
		case 'j':
			nr_socks = number(optarg);
			if (!nr_socks || nr_socks > MAX_SOCKETS)
				bad_usage();
			break;
		case 'v':
			verbose = true;
			break;
		case 'x':
			hexdump_send = number(optarg);
			break;
		default:
			bad_usage();
		}
	}
	if (optind != argc)
		bad_usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	rng_state = seed;

	err = genl_open(&obs);
	if (err) {
		fprintf(stderr, "nl_fuzz: cannot reach the ibguard family: %s\n",
			strerror(-err));
		return 1;
	}
	family = obs.family;
	get_status(&st);
	generation0 = st.generation;
	initial_mode = st.mode;
	model.uncertain = true;		/* the model starts from the kernel */
	resync(&st);
	resyncs = 0;
	for (i = 0; i < nr_socks; i++)
		if (open_fsock(&socks[i]))
			return 1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (sent < want)
		step(&mb);
	for (i = 0; i < nr_socks; i++) {
		close(socks[i].fd);
		if (model.state == STAGING_KNOWN && model.owner == i)
			staging_drop();
	}
	if (model.state == STAGING_UNKNOWN)
		model.uncertain = true;
	check_kernel();
	if (!mismatches && model.generation == model.dumped)
		compare_dumps();	/* also when nothing was committed */
	clock_gettime(CLOCK_MONOTONIC, &t1);

	print_summary(t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) / 1e9,
		      generation0);
	if (mismatches)
		fprintf(stdout,
			"nl_fuzz: check: %lu mismatches between the kernel and the model; details on stderr\n",
			mismatches);
	else if (commits)
		fprintf(stdout,
			"nl_fuzz: check: the active policy is the last committed one (generation %llu, %u rules)%s\n",
			(unsigned long long)model.generation,
			model.active.nr_rules,
			resyncs ? ", model resynced after lost replies" : "");
	else
		fprintf(stdout,
			"nl_fuzz: check: the active policy is the one found at start (generation %llu, %u rules)\n",
			(unsigned long long)model.generation,
			model.active.nr_rules);

	if (small_dump_diffs)
		fprintf(stdout,
			"nl_fuzz: check: %lu POLICY_GET dumps read 4 KiB at a time were incomplete; details on stderr\n",
			small_dump_diffs);

	if (model.mode != initial_mode) {
		err = simple_request(IBGUARD_CMD_SET_MODE, IBGUARD_ATTR_MODE,
				     initial_mode);
		if (err) {
			fprintf(stderr, "nl_fuzz: restoring the mode: %s\n",
				strerror(-err));
			return 1;
		}
	}
	genl_close(&obs);
	return mismatches || small_dump_diffs ? 2 : 0;
}
