// ibguardctl explain: first-match decisions, shadowed rules, missing facts,
// the flipping rule, and requests parsed from audit records and events.
#include "explain.hpp"

#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <streambuf>

#include "error.hpp"
#include "mountinfo.hpp"

namespace {

using ibguard::explain::Environment;
using ibguard::explain::FileKey;
using ibguard::explain::Request;
using ibguard::policy::Class;
using ibguard::policy::kernel_dev;
using ibguard::policy::Verdict;

// A small system: /srv/data/model.bin below /srv/data on 8:1, a uverbs
// character device, an executable, and cgroups /tenants/a below /tenants.
class World : public Environment, public ibguard::policy::Resolver {
 public:
  std::optional<std::uint32_t> user(const std::string& name, std::string& error) const override {
    if (name == "alice") return 1000;
    if (name == "root") return 0;
    error = "unknown user '" + name + "'";
    return std::nullopt;
  }
  std::optional<std::uint32_t> group(const std::string& name, std::string& error) const override {
    if (name == "rdma") return 300;
    if (name == "alice") return 1000;
    error = "unknown group '" + name + "'";
    return std::nullopt;
  }
  std::optional<FileId> file(const std::string& path, std::string& error) const override {
    auto facts = lookup(path, error);
    if (!facts) return std::nullopt;
    const bool directory = path == "/srv/data" || path == "/srv";
    return FileId{facts->key.dev, facts->key.ino, directory, !directory};
  }
  std::optional<std::uint64_t> cgroup(const std::string& path, std::string& error) const override {
    if (auto it = cgroups_.find(path); it != cgroups_.end()) return it->second.front();
    error = "cannot resolve cgroup '" + path + "'";
    return std::nullopt;
  }

  std::optional<FileFacts> file_facts(const std::string& path, std::string& error) const override {
    return lookup(path, error);
  }
  std::optional<std::string> fstype(std::uint32_t dev, std::string& error) const override {
    if (dev == kernel_dev(8, 1)) return "ext4";
    if (dev == kernel_dev(0, 5)) return "devtmpfs";
    error = "no such filesystem";
    return std::nullopt;
  }
  std::optional<std::vector<std::uint64_t>> cgroup_chain(std::uint64_t id,
                                                         std::string& error) const override {
    for (const auto& [path, chain] : cgroups_)
      if (chain.front() == id) return chain;
    error = "no such cgroup";
    return std::nullopt;
  }
  std::optional<std::vector<std::uint64_t>> cgroup_chain(const std::string& path,
                                                         std::string& error) const override {
    if (auto it = cgroups_.find(path); it != cgroups_.end()) return it->second;
    error = "no such cgroup";
    return std::nullopt;
  }
  const ibguard::policy::Resolver& resolver() const override { return *this; }

 private:
  std::optional<FileFacts> lookup(const std::string& path, std::string& error) const {
    if (auto it = files_.find(path); it != files_.end()) return it->second;
    error = "cannot resolve '" + path + "': No such file or directory";
    return std::nullopt;
  }

  const FileKey root_{kernel_dev(8, 1), 2}, srv_{kernel_dev(8, 1), 20}, data_{kernel_dev(8, 1), 21};
  std::map<std::string, FileFacts> files_{
      {"/srv/data", {data_, std::nullopt, "ext4", {srv_, root_}}},
      {"/srv/data/model.bin", {{kernel_dev(8, 1), 22}, std::nullopt, "ext4", {data_, srv_, root_}}},
      {"/srv/other.bin", {{kernel_dev(8, 1), 23}, std::nullopt, "ext4", {srv_, root_}}},
      {"/dev/infiniband/uverbs0",
       {{kernel_dev(0, 5), 30}, std::pair{231u, 192u}, "devtmpfs", {{kernel_dev(0, 5), 1}}}},
      {"/usr/bin/app", {{kernel_dev(8, 1), 50}, std::nullopt, "ext4", {root_}}},
      // Names an unprivileged user may give its files.
      {"/srv/evil\nname.bin", {{kernel_dev(8, 1), 60}, std::nullopt, "ext4", {srv_, root_}}},
      {"/srv/\x1b[2Jx.bin", {{kernel_dev(8, 1), 61}, std::nullopt, "ext4", {srv_, root_}}},
      {"/srv/my data.bin", {{kernel_dev(8, 1), 62}, std::nullopt, "ext4", {srv_, root_}}},
      {"/srv", {srv_, std::nullopt, "ext4", {root_}}},
      // /srv/data bind-mounted at /mnt/data: above it, nothing is known.
      {"/mnt/data/model.bin",
       {{kernel_dev(8, 1), 22},
        std::nullopt,
        "ext4",
        {data_},
        "/mnt/data (a mount of /srv/data of its filesystem)"}},
  };
  std::map<std::string, std::vector<std::uint64_t>> cgroups_{
      {"/", {1}}, {"/tenants", {100, 1}}, {"/tenants/a", {101, 100, 1}}};
};

const World world;

ibguard::policy::Policy compile(const std::string& text) {
  auto result = ibguard::policy::compile(text, "p.conf", world);
  EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.errors.front().message);
  return result.policy;
}

Request map_request(const std::string& path, std::uint32_t prot, std::uint32_t uid = 1000) {
  Request request;
  request.cls = Class::map;
  request.map.path = path;
  ibguard::explain::complete_map_object(request.map, world);
  request.map.prot = prot;
  request.subject.uid = uid;
  request.subject.gid = uid;
  request.subject.groups = std::vector<std::uint32_t>{};
  request.subject.cgroup_chain = std::vector<std::uint64_t>{1};
  request.subject.exe = FileKey{kernel_dev(8, 1), 50};
  return request;
}

Request pkey_request(std::uint16_t pkey, std::uint32_t uid) {
  Request request;
  request.cls = Class::pkey;
  request.pkey = pkey;
  request.subnet = 0xfe80000000000000ull;
  request.device = "mlx5_0";
  request.port = 1;
  request.subject.uid = uid;
  request.subject.gid = uid;
  request.subject.groups = std::vector<std::uint32_t>{};
  request.subject.cgroup_chain = std::vector<std::uint64_t>{1};
  request.subject.exe_known = false;
  return request;
}

TEST(Explain, EarlierDenyShadowsLaterAllow) {
  auto policy = compile(
      "map tree /srv/data deny uid 1000\n"
      "map path /srv/data/model.bin allow uid 1000\n"
      "map path /srv/data/model.bin prot write allow\n");
  auto ex = ibguard::explain::explain(policy, map_request("/srv/data/model.bin", 1));
  ASSERT_TRUE(ex.rule.has_value());
  EXPECT_EQ(*ex.rule, 0u);
  EXPECT_EQ(ex.verdict, Verdict::deny);
  EXPECT_EQ(ex.shadowed, std::vector<std::size_t>{1});  // rule 3 asks write, not read
  EXPECT_EQ(ex.flip_rule, "map path /srv/data/model.bin prot read allow uid 1000");
  EXPECT_EQ(ex.insert_before, 0u);
}

TEST(Explain, NoMatchFallsToTheDefaultAndAppends) {
  auto policy = compile("default map deny\nmap path /srv/other.bin allow\n");
  auto ex = ibguard::explain::explain(policy, map_request("/srv/data/model.bin", 3));
  EXPECT_FALSE(ex.rule.has_value());
  EXPECT_EQ(ex.verdict, Verdict::deny);
  EXPECT_EQ(ex.flip_rule, "map path /srv/data/model.bin prot read,write allow uid 1000");
  EXPECT_FALSE(ex.insert_before.has_value());
  auto text =
      ibguard::explain::to_text(policy, "p.conf", map_request("/srv/data/model.bin", 3), ex);
  EXPECT_NE(text.find("decided:  by the map default (no rule matches)\n"), std::string::npos);
  EXPECT_NE(text.find("to allow it, add at the end of the policy:\n"
                      "    map path /srv/data/model.bin prot read,write allow uid 1000\n"),
            std::string::npos);
}

TEST(Explain, ProtSharedAndObjectKinds) {
  auto policy = compile(
      "map path /srv/data/model.bin prot exec deny\n"
      "map fs devtmpfs shared deny\n"
      "map chardev 231:192-223 allow group rdma\n"
      "map chardev 231 deny\n");
  auto uverbs = map_request("/dev/infiniband/uverbs0", 3);
  EXPECT_EQ(ibguard::explain::explain(policy, uverbs).rule, 3u);  // not in rdma
  uverbs.subject.groups = std::vector<std::uint32_t>{300};
  EXPECT_EQ(ibguard::explain::explain(policy, uverbs).rule, 2u);
  uverbs.map.shared = true;
  EXPECT_EQ(ibguard::explain::explain(policy, uverbs).rule, 1u);
  EXPECT_EQ(ibguard::explain::explain(policy, map_request("/srv/data/model.bin", 1)).rule,
            std::nullopt);
  EXPECT_EQ(ibguard::explain::explain(policy, map_request("/srv/data/model.bin", 5)).rule, 0u);
}

TEST(Explain, SubjectsCgroupExeKernel) {
  auto policy = compile(
      "pkey 0x8001 allow cgroup /tenants\n"
      "pkey 0x8002 allow exe /usr/bin/app\n"
      "pkey 0x8003 allow kernel\n"
      "default pkey deny\n");
  auto request = pkey_request(0x8001, 1000);
  EXPECT_EQ(ibguard::explain::explain(policy, request).verdict, Verdict::deny);
  request.subject.cgroup_chain = std::vector<std::uint64_t>{101, 100, 1};
  EXPECT_EQ(ibguard::explain::explain(policy, request).verdict, Verdict::allow);

  request = pkey_request(0x8002, 1000);
  auto ex = ibguard::explain::explain(policy, request);  // exe unknown
  EXPECT_EQ(ex.undecidable, std::vector<std::size_t>{1});
  EXPECT_EQ(ex.notes.front(), "rule 2, p.conf:2 may match too: the task's executable is not known");
  request.subject.exe_known = true;
  request.subject.exe = FileKey{kernel_dev(8, 1), 50};
  EXPECT_EQ(ibguard::explain::explain(policy, request).rule, 1u);

  request = pkey_request(0x8003, 0);
  request.subject.kernel = true;
  ex = ibguard::explain::explain(policy, request);
  EXPECT_EQ(ex.rule, 2u);
  EXPECT_EQ(ex.flip_rule, "pkey 0x8003 subnet fe80:0000:0000:0000 deny kernel");
}

// explain --kernel: kmod/subject.c matches a kernel thread by its credentials
// (init_cred: euid and egid 0, no supplementary groups) and its cgroup (the
// root), and never by an executable. Groups and cgroup were "not known".
TEST(Explain, KernelThreadHasNoGroupsAndIsInTheRootCgroup) {
  const auto kthread = ibguard::explain::kernel_thread(world);
  EXPECT_TRUE(kthread.kernel);
  EXPECT_EQ(kthread.uid, 0u);
  EXPECT_EQ(kthread.gid, 0u);
  EXPECT_EQ(kthread.groups, std::vector<std::uint32_t>{});
  EXPECT_EQ(kthread.cgroup_chain, std::vector<std::uint64_t>{1});
  EXPECT_TRUE(kthread.exe_known);
  EXPECT_EQ(kthread.exe, std::nullopt);

  auto policy = compile(
      "pkey 0x8001 deny group rdma\n"
      "pkey 0x8001 deny cgroup /tenants\n"
      "pkey 0x8001 deny exe /usr/bin/app\n"
      "pkey 0x8001 allow cgroup /\n"
      "default pkey deny\n");
  auto request = pkey_request(0x8001, 0);
  request.subject = kthread;
  auto ex = ibguard::explain::explain(policy, request);
  EXPECT_EQ(ex.rule, 3u);
  EXPECT_EQ(ex.verdict, Verdict::allow);
  EXPECT_TRUE(ex.undecidable.empty());
  EXPECT_TRUE(ex.notes.empty()) << ex.notes.front();
  EXPECT_EQ(ex.flip_rule, "pkey 0x8001 subnet fe80:0000:0000:0000 deny kernel");
  EXPECT_EQ(ibguard::explain::describe(request),
            "pkey P_Key 0x8001 subnet fe80:0000:0000:0000 on mlx5_0 port 1 by a kernel thread");
}

// The kernel walks a file's real parent directories up to its filesystem's
// root, whatever mount the file was reached through. Through a bind mount
// of /srv/data the path shows none of them above /mnt/data: tree rules on
// that filesystem may match, they were "no".
TEST(Explain, TreeRulesAboveABindMountMayMatch) {
  auto policy = compile(
      "map tree /srv deny\n"
      "map tree /srv/data allow\n"
      "map path /srv/other.bin deny\n");
  auto request = map_request("/mnt/data/model.bin", 1);
  auto ex = ibguard::explain::explain(policy, request);
  EXPECT_EQ(ex.rule, 1u);
  EXPECT_EQ(ex.undecidable, std::vector<std::size_t>{0});
  ASSERT_FALSE(ex.notes.empty());
  EXPECT_EQ(ex.notes.front(),
            "rule 1, p.conf:1 may match too: what lies above /mnt/data (a mount of /srv/data of "
            "its filesystem) is not known");
  EXPECT_EQ(ex.insert_before, 0u);

  // Through the filesystem's own root the walk is complete: no.
  ex = ibguard::explain::explain(policy, map_request("/srv/other.bin", 1));
  EXPECT_EQ(ex.rule, 0u);
  EXPECT_TRUE(ex.undecidable.empty());
}

// Where the walk of a path's directories ends: at the root of the mount
// the path is on (not where the device number changes: a bind mount's
// parent directory is often on the same filesystem).
TEST(Explain, AncestorsEndAtTheRootOfTheFilesMount) {
  std::vector<ibguard::MountEntry> mounts = {
      {8, 1, "/", "ext4", "/"},
      {8, 1, "/mnt/data", "ext4", "/srv/data"},
      {0, 30, "/tmp", "tmpfs", "/"},
  };
  const std::map<std::string, FileKey> keys = {
      {"/", {kernel_dev(8, 1), 2}},          {"/mnt", {kernel_dev(8, 1), 40}},
      {"/mnt/data", {kernel_dev(8, 1), 21}}, {"/srv", {kernel_dev(8, 1), 20}},
      {"/srv/data", {kernel_dev(8, 1), 21}}, {"/tmp", {kernel_dev(0, 30), 1}},
      {"/tmp/a", {kernel_dev(0, 30), 5}},
  };
  auto key_of = [&](const std::string& path) -> std::optional<FileKey> {
    if (auto it = keys.find(path); it != keys.end()) return it->second;
    return std::nullopt;
  };
  const auto disk = kernel_dev(8, 1), tmpfs = kernel_dev(0, 30);
  auto bound = ibguard::explain::ancestors_in_mount("/mnt/data/model.bin", disk, mounts, key_of);
  EXPECT_EQ(bound.keys, std::vector<FileKey>{keys.at("/mnt/data")});
  EXPECT_EQ(bound.unknown_above, "/mnt/data (a mount of /srv/data of its filesystem)");

  auto direct = ibguard::explain::ancestors_in_mount("/srv/data/model.bin", disk, mounts, key_of);
  EXPECT_EQ(direct.keys,
            (std::vector<FileKey>{keys.at("/srv/data"), keys.at("/srv"), keys.at("/")}));
  EXPECT_EQ(direct.unknown_above, std::nullopt);

  auto tmp = ibguard::explain::ancestors_in_mount("/tmp/a/b", tmpfs, mounts, key_of);
  EXPECT_EQ(tmp.keys, (std::vector<FileKey>{keys.at("/tmp/a"), keys.at("/tmp")}));
  EXPECT_EQ(tmp.unknown_above, std::nullopt);

  // A file bind-mounted onto another: it is the root of its mount.
  mounts.push_back({8, 1, "/mnt/one.bin", "ext4", "/srv/data/model.bin"});
  auto file = ibguard::explain::ancestors_in_mount("/mnt/one.bin", disk, mounts, key_of);
  EXPECT_TRUE(file.keys.empty());
  EXPECT_EQ(file.unknown_above, "/mnt/one.bin (a mount of /srv/data/model.bin of its filesystem)");

  // Mounted over: the last mount at a mount point is the one seen.
  mounts.push_back({8, 1, "/mnt/data", "ext4", "/"});
  auto over = ibguard::explain::ancestors_in_mount("/mnt/data/model.bin", disk, mounts, key_of);
  EXPECT_EQ(over.unknown_above, std::nullopt);

  // No mount table (or a chroot whose root is no mount point): unknown
  // above "/".
  auto none = ibguard::explain::ancestors_in_mount("/srv/x", disk, {}, key_of);
  EXPECT_EQ(none.keys, (std::vector<FileKey>{keys.at("/srv"), keys.at("/")}));
  EXPECT_EQ(none.unknown_above, "/ (no mount table entry)");
  // A device change the mount table does not show, a directory that
  // cannot be read: the walk ends, unknown above.
  auto changed = ibguard::explain::ancestors_in_mount("/tmp/a/b", tmpfs, {}, key_of);
  EXPECT_EQ(changed.keys, (std::vector<FileKey>{keys.at("/tmp/a"), keys.at("/tmp")}));
  EXPECT_EQ(changed.unknown_above, "/tmp (its parent is on another device)");
  auto unreadable = ibguard::explain::ancestors_in_mount("/var/x/y", disk, mounts, key_of);
  EXPECT_TRUE(unreadable.keys.empty());
  EXPECT_EQ(unreadable.unknown_above, "/var/x/y (its parent cannot be read)");
}

TEST(Explain, MissingGroupsMakeGroupRulesUndecidable) {
  auto policy = compile("pkey 0x8001 deny group rdma\npkey any allow\n");
  auto request = pkey_request(0x8001, 1000);
  request.subject.groups.reset();
  auto ex = ibguard::explain::explain(policy, request);
  EXPECT_EQ(ex.rule, 1u);
  EXPECT_EQ(ex.undecidable, std::vector<std::size_t>{0});
  // The flipping rule goes before the rule that might decide instead.
  EXPECT_EQ(ex.insert_before, 0u);
  EXPECT_EQ(ex.flip_rule, "pkey 0x8001 subnet fe80:0000:0000:0000 deny uid 1000");
}

TEST(Explain, PkeyRangesSubnetsAndEndports) {
  auto policy = compile(
      "pkey 0x8001-0x80ff subnet fe80:: deny uid 1000\n"
      "pkey 0x8001-0x80ff allow\n"
      "endport mlx5_0 * deny\n"
      "endport * 1 allow uid 1000\n");
  auto request = pkey_request(0x8042, 1000);
  EXPECT_EQ(ibguard::explain::explain(policy, request).rule, 0u);
  request.subnet = 0xfec0000000000000ull;
  EXPECT_EQ(ibguard::explain::explain(policy, request).rule, 1u);
  request.cls = Class::endport;
  auto ex = ibguard::explain::explain(policy, request);
  EXPECT_EQ(ex.rule, 2u);
  EXPECT_EQ(ex.shadowed, std::vector<std::size_t>{3});
  EXPECT_EQ(ex.flip_rule, "endport mlx5_0 1 allow uid 1000");
}

TEST(Explain, AuditRecordAsAuditdWritesIt) {
  const std::string record =
      "type=UNKNOWN[1490] msg=audit(1796095111.592:4): lsm=ibguard class=map op=mmap "
      "verdict=deny permissive=0 revoked=0 rule=1 generation=3 dev=8:1 ino=22 "
      "path=2F7372762F646174612F6D6F64656C2E62696E prot=r shared=0 ppid=136 pid=151 "
      "auid=4294967295 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 "
      "fsgid=1000 tty=(none) ses=4294967295 comm=\"mapit\" exe=\"/usr/bin/app\" "
      "subj=unconfined groups=300,4 cgroup=101 exe_dev=8:1 exe_ino=50 res=0\x1d"
      "AUID=\"unset\" UID=\"alice\"";
  ASSERT_TRUE(ibguard::explain::is_audit_decision(record));
  auto request = ibguard::explain::request_from_audit(record, world);
  EXPECT_EQ(request.cls, Class::map);
  EXPECT_EQ(request.operation, "mmap");
  EXPECT_EQ(request.map.path, "/srv/data/model.bin");  // hex-encoded path decoded
  EXPECT_EQ(request.map.prot, 1u);
  EXPECT_EQ(request.subject.uid, 1000u);
  EXPECT_EQ(request.subject.groups, (std::vector<std::uint32_t>{300, 4}));
  EXPECT_EQ(request.subject.cgroup_chain, (std::vector<std::uint64_t>{101, 100, 1}));
  EXPECT_EQ(request.subject.exe, (FileKey{kernel_dev(8, 1), 50}));
  ASSERT_TRUE(request.map.ancestors.has_value());
  ASSERT_TRUE(request.reported.has_value());
  EXPECT_EQ(request.reported->rule, 1u);
  EXPECT_EQ(request.reported->comm, "mapit");

  auto policy = compile("map tree /srv/data deny cgroup /tenants\n");
  auto ex = ibguard::explain::explain(policy, request);
  EXPECT_EQ(ex.rule, 0u);
  EXPECT_TRUE(ex.notes.empty());
}

TEST(Explain, InterpretedAuditRecordNamesAreResolved) {
  // ausearch -i: names for ids, "yes"/"no" for res, unquoted strings.
  const std::string record =
      "type=UNKNOWN[1490] msg=audit(12/01/26 03:18:31.592:4) : lsm=ibguard class=endport "
      "op=register_agent verdict=deny permissive=1 revoked=0 rule=default generation=2 "
      "device=mock0 port=1 pid=151 auid=unset uid=alice gid=alice euid=alice egid=rdma "
      "comm=smpquery groups=1,2,3,... cgroup=1 exe_dev=8:1 exe_ino=50 res=yes";
  auto request = ibguard::explain::request_from_audit(record, world);
  EXPECT_EQ(request.cls, Class::endport);
  EXPECT_EQ(request.subject.uid, 1000u);
  EXPECT_EQ(request.subject.gid, 300u);
  EXPECT_EQ(request.device, "mock0");
  EXPECT_TRUE(request.reported->permissive);
  EXPECT_FALSE(request.reported->rule.has_value());
  EXPECT_FALSE(request.subject.groups.has_value());
}

TEST(Explain, MonitorEventJson) {
  const auto event = nlohmann::json::parse(R"({"schema_version":1,"type":"denied","class":"pkey",
      "verdict":"deny","permissive":false,"rule":2,"operation":"modify_qp","pid":7,"comm":"qp",
      "uid":1000,"gid":1000,"device":"rxe0","port":1,"pkey":"0x8001",
      "subnet":"fe80:0000:0000:0000","cgroup":101,"exe_dev":null,"exe_ino":null,
      "generation":4,"dropped":0})");
  auto request = ibguard::explain::request_from_json(event, world);
  EXPECT_EQ(request.pkey, 0x8001);
  EXPECT_EQ(request.subnet, 0xfe80000000000000ull);
  EXPECT_TRUE(request.subject.kernel);  // no executable
  EXPECT_EQ(request.reported->generation, 4u);

  auto policy = compile("pkey 0x8001 deny\n");
  auto ex = ibguard::explain::explain(policy, request);
  EXPECT_EQ(ex.rule, 0u);
  // The kernel said rule 2: the policy must have changed.
  ASSERT_EQ(ex.notes.size(), 1u);
  EXPECT_NE(ex.notes[0].find("the kernel decided deny by rule 2; this policy decides deny by "
                             "rule 1"),
            std::string::npos);
}

// get<std::uint32_t>() wrapped {"uid":4294967296} to uid 0: explained as
// root. Ids are held to the policy file's bounds, other numbers to their
// type's.
TEST(Explain, MonitorEventNumbersOutOfRangeAreErrors) {
  auto event = nlohmann::json::parse(R"({"type":"denied","class":"endport","verdict":"deny",
      "rule":null,"operation":"register_smi_agent","pid":7,"comm":"sm","uid":1000,"gid":1000,
      "device":"mlx5_0","port":1})");
  EXPECT_EQ(ibguard::explain::request_from_json(event, world).subject.uid, 1000u);
  auto message = [&](const char* key, nlohmann::json value) {
    auto changed = event;
    changed[key] = value;
    try {
      ibguard::explain::request_from_json(changed, world);
    } catch (const ibguard::Error& e) {
      EXPECT_EQ(e.code(), ibguard::ExitCode::invalid_input);
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(message("uid", 4294967296ull), "uid 4294967296 out of range (0-4294967294)");
  EXPECT_EQ(message("uid", 4294967295ull), "uid 4294967295 out of range (0-4294967294)");
  EXPECT_EQ(message("gid", 4294967296ull), "gid 4294967296 out of range (0-4294967294)");
  EXPECT_EQ(message("uid", -1), "invalid uid '-1' (expected a decimal or 0x hexadecimal number)");
  EXPECT_EQ(message("uid", 1000.5), "uid must be a whole number, found 1000.5");
  EXPECT_EQ(message("rule", 4294967297ull), "rule 4294967297 out of range (0-4294967295)");
  EXPECT_EQ(message("port", 4294967297ull), "port 4294967297 out of range (0-4294967295)");
  EXPECT_EQ(message("pid", -7), "pid -7 out of range (0-4294967295)");
  EXPECT_EQ(message("pid", 8), "accepted");  // a signed JSON integer that is not negative
  EXPECT_EQ(ibguard::explain::request_from_json(event, world).subject.uid, 1000u);
}

TEST(Explain, NotADecisionIsAnError) {
  EXPECT_FALSE(ibguard::explain::is_audit_decision(
      "type=SYSCALL msg=audit(1.2:3): arch=c000003e syscall=9 success=no"));
  EXPECT_THROW(ibguard::explain::request_from_json(
                   nlohmann::json::parse(R"({"type":"policy-loaded","generation":3})"), world),
               ibguard::Error);
  EXPECT_THROW(
      ibguard::explain::request_from_json(nlohmann::json::parse(R"({"type":"denied"})"), world),
      ibguard::Error);
  EXPECT_THROW(ibguard::explain::request_from_audit(
                   "type=UNKNOWN[1490] msg=audit(1.2:3): lsm=ibguard class=map op=mmap", world),
               ibguard::Error);
}

// A path with a newline made describe() print two lines and the suggested
// rule break across lines; escape sequences reached the terminal.
TEST(Explain, UntrustedNamesAreEscapedAndNeverSuggestedBroken) {
  auto policy = compile("default map deny\n");
  auto newline = map_request("/srv/evil\nname.bin", 1);
  EXPECT_EQ(ibguard::explain::describe(newline),
            "map /srv/evil\\nname.bin (dev 8:1 ino 60) prot read by uid 1000 gid 1000 groups "
            "none cgroup 1 exe 8:1 ino 50");
  auto ex = ibguard::explain::explain(policy, newline);
  EXPECT_EQ(ex.flip_rule, std::nullopt);
  EXPECT_EQ(ex.notes, std::vector<std::string>{
                          "the file's path holds a newline, which a policy file cannot express: "
                          "name the file by another path (path rules match its inode) or use a "
                          "tree or fs rule"});

  auto escape = map_request("/srv/\x1b[2Jx.bin", 1);
  ex = ibguard::explain::explain(policy, escape);
  EXPECT_EQ(ex.flip_rule, std::nullopt);
  EXPECT_EQ(ex.notes, std::vector<std::string>{
                          "the file's path holds characters that cannot be shown as they are "
                          "(escaped above): name the file by another path (path rules match its "
                          "inode) or write the rule by hand"});
  EXPECT_EQ(ibguard::explain::to_text(policy, "p.conf", escape, ex),
            "request:  map /srv/\\x1b[2Jx.bin (dev 8:1 ino 61) prot read by uid 1000 gid 1000 "
            "groups none cgroup 1 exe 8:1 ino 50\n"
            "policy:   p.conf\n"
            "verdict:  deny\n"
            "decided:  by the map default (no rule matches)\n"
            "note:     the file's path holds characters that cannot be shown as they are (escaped "
            "above): name the file by another path (path rules match its inode) or write the rule "
            "by hand\n");

  // Blanks are what quotes are for.
  ex = ibguard::explain::explain(policy, map_request("/srv/my data.bin", 1));
  EXPECT_EQ(ex.flip_rule, "map path \"/srv/my data.bin\" prot read allow uid 1000");

  auto agent = pkey_request(0, 1000);
  agent.cls = Class::endport;
  agent.device = "mlx\n0";
  EXPECT_EQ(ibguard::explain::describe(agent),
            "endport on mlx\\n0 port 1 by uid 1000 gid 1000 "
            "groups none cgroup 1");
  ex = ibguard::explain::explain(compile("endport * * deny\n"), agent);
  EXPECT_EQ(ex.flip_rule, std::nullopt);
  EXPECT_EQ(ex.notes, std::vector<std::string>{
                          "the device name 'mlx\\n0' cannot be written in a policy (1-63 "
                          "characters of A-Z, a-z, 0-9, '_', '.' and '-')"});
}

// Serves lines one at a time, as a pipe from `monitor -j` does, and
// records how much had been written when each line was asked for.
class LineByLine : public std::streambuf {
 public:
  LineByLine(std::vector<std::string> lines, const std::ostringstream& out)
      : lines_(std::move(lines)), out_(out) {}
  std::vector<std::size_t> written_before_line;  // per line served

 protected:
  int_type underflow() override {
    if (next_ == lines_.size()) return traits_type::eof();
    written_before_line.push_back(out_.str().size());
    current_ = lines_[next_++] + "\n";
    setg(current_.data(), current_.data(), current_.data() + current_.size());
    return traits_type::to_int_type(current_[0]);
  }

 private:
  std::vector<std::string> lines_;
  const std::ostringstream& out_;
  std::size_t next_ = 0;
  std::string current_;
};

const std::string monitor_line =
    R"({"schema_version":1,"type":"denied","class":"pkey","verdict":"deny","permissive":false,)"
    R"("rule":1,"operation":"modify_qp","pid":7,"comm":"qp","uid":1000,"gid":1000,)"
    R"("device":"rxe0","port":1,"pkey":"0x8001","subnet":"fe80:0000:0000:0000","generation":4,)"
    R"("dropped":0})";

// `monitor -j | explain` printed nothing until standard input ended, and one
// bad line threw away every explanation before it.
TEST(ExplainStream, ExplainsEachLineAsItComesAndSkipsBadOnes) {
  auto policy = compile("pkey 0x8001 deny\n");
  std::ostringstream out;
  LineByLine feed({monitor_line, "{not json", R"({"type":"policy-loaded","generation":5})",
                   "type=SYSCALL msg=audit(1.2:3): syscall=9", "",
                   R"({"type":"denied","class":"pkey"})", monitor_line},
                  out);
  std::istream in(&feed);
  std::vector<std::string> bad;
  const auto seen = ibguard::explain::explain_stream(
      in, out, policy, "p.conf", 4, world, true, [&](unsigned line, const std::string& message) {
        bad.push_back(std::to_string(line) + ": " + message);
      });
  EXPECT_EQ(seen.explained, 2u);
  EXPECT_EQ(seen.bad_lines, 2u);
  ASSERT_EQ(bad.size(), 2u);
  EXPECT_TRUE(bad[0].starts_with("2: [json.exception.parse_error.101] parse error")) << bad[0];
  EXPECT_TRUE(bad[1].starts_with("6: not an ibguard decision event: [json.exception.out_of_range"))
      << bad[1];
  // The first explanation was written before the second line was read.
  ASSERT_EQ(feed.written_before_line.size(), 7u);
  EXPECT_EQ(feed.written_before_line[0], 0u);
  const std::string first = out.str().substr(0, feed.written_before_line[1]);
  EXPECT_TRUE(first.starts_with(R"({"schema_version":1,"request":"pkey modify_qp P_Key 0x8001)"))
      << first;
  EXPECT_TRUE(first.ends_with("}\n")) << first;
  EXPECT_EQ(out.str(), first + first);
}

TEST(ExplainStream, TextBlocksAreSeparatedByABlankLine) {
  auto policy = compile("pkey 0x8001 deny\n");
  std::ostringstream out;
  std::istringstream in(monitor_line + "\n" + monitor_line + "\n");
  const auto seen = ibguard::explain::explain_stream(
      in, out, policy, "the active policy (generation 5)", 5, world, false,
      [](unsigned, const std::string& message) { FAIL() << message; });
  EXPECT_EQ(seen.explained, 2u);
  const std::string block =
      "request:  pkey modify_qp P_Key 0x8001 subnet fe80:0000:0000:0000 on rxe0 port 1 by uid "
      "1000 gid 1000 (pid 7 comm qp)\n"
      "reported: deny by rule 1, policy generation 4 (monitor event)\n"
      "policy:   the active policy (generation 5)\n"
      "verdict:  deny\n"
      "decided:  by rule 1, p.conf:1: pkey 0x8001 deny\n"
      "note:     the monitor event comes from policy generation 4\n"
      "to allow it, insert before rule 1, p.conf:1:\n"
      "    pkey 0x8001 subnet fe80:0000:0000:0000 allow uid 1000\n";
  EXPECT_EQ(out.str(), block + "\n" + block);
}

TEST(Explain, JsonNamesRuleAndChange) {
  auto policy = compile("map path /srv/data/model.bin deny\n");
  auto request = map_request("/srv/data/model.bin", 4);
  auto doc = ibguard::explain::to_json(policy, "p.conf", request,
                                       ibguard::explain::explain(policy, request));
  EXPECT_EQ(doc["verdict"], "deny");
  EXPECT_EQ(doc["rule"]["number"], 1);
  EXPECT_EQ(doc["rule"]["location"], "p.conf:1");
  EXPECT_EQ(doc["change"]["rule"], "map path /srv/data/model.bin prot exec allow uid 1000");
  EXPECT_EQ(doc["change"]["insert_before"], 1);
}

}  // namespace
