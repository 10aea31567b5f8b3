# ibguard top-level Makefile.
#
#   make            build the modules and ibguardctl into build/
#   make deps       install Debian packages, fetch the guest kernel
#   make check      deps, build, every test (host and guest)
#   make check-full the same with the long fuzzing, reload and unload counts
#   make check-debug the in-guest suite on a debug kernel (KASAN, lockdep,
#                   kmemleak, fault injection) built once into the cache
#   make demo       deps, build, boot the guest and show ibguard working
#   make bench      deps, build, run the overhead benchmarks (QUICK=1: short)
#   make fuzz       fuzz the policy compiler (FUZZ_SECONDS, default 600)
#   make install    ibguardctl, man pages, completion, systemd unit, modprobe
#                   and modules-load snippets, example policy (PREFIX, DESTDIR)
#   make dkms-install  the module sources into /usr/src and `dkms add`
#
# KVER selects the guest kernel (default: the one `make deps` fetched);
# KDIR=/lib/modules/$(uname -r)/build builds for the running kernel instead.
# KERNELS picks the kernels make check runs the suite on: matrix names (6.1,
# Debian 12's own, and 6.12) or versions; default both.

ROOT    := $(CURDIR)
BUILD   := $(ROOT)/build
KVER    ?= $(shell . scripts/lib.sh; ibg_kernel_version)
KDIR    ?= /lib/modules/$(KVER)/build
KOUT    := $(BUILD)/kmod/$(subst /,_,$(KDIR))
JOBS    ?= $(shell nproc)
# Where the built modules are gathered (make check-debug: its own directory).
MODDIR  ?= $(BUILD)
KERNELS ?= 6.1 6.12

export IBGUARD_KERNEL := $(KVER)

# make install
PREFIX        ?= /usr/local
SYSCONFDIR    ?= /etc
SBINDIR       ?= $(PREFIX)/sbin
MANDIR        ?= $(PREFIX)/share/man
UNITDIR       ?= $(PREFIX)/lib/systemd/system
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
VERSION       := $(shell sed -n 's/^\#define IBGUARD_VERSION "\(.*\)"/\1/p' kmod/ibguard.h)

KSELFTEST := $(shell . scripts/lib.sh; echo $$IBGUARD_CACHE)/linux-source/tools/testing/selftests
SELFTESTS := status_test policy_test mapit nl_fuzz failload
SELFTEST_CFLAGS := -O2 -g -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare -Werror -I$(ROOT)/include/uapi \
	-I$(KSELFTEST) -I$(ROOT)/selftests/ibguard

.PHONY: all modules module-index test-modules matrix-modules ibguardctl man selftests bench-tools deps check check-full \
	check-debug demo bench fuzz install dkms-install unit-guest clean

all: modules module-index test-modules ibguardctl man selftests bench-tools

# Out-of-tree Kbuild writes next to its sources; link the sources into a
# per-kernel directory under build/ so the tree stays clean.
define kbuild
	@test -e $(KDIR)/Makefile || { echo "no kernel headers at $(KDIR); run 'make deps'" >&2; exit 1; }
	@mkdir -p $(KOUT)/$(1)
	@find $(KOUT)/$(1) -maxdepth 1 -xtype l -delete
	@ln -sf $(ROOT)/$(2)/*.[ch] $(ROOT)/$(2)/Kbuild $(KOUT)/$(1)/
	$(MAKE) -C $(KDIR) M=$(KOUT)/$(1) IBGUARD_ROOT=$(ROOT) modules
	@mkdir -p $(MODDIR)
	@cp $(KOUT)/$(1)/*.ko $(MODDIR)/
endef

modules:
	$(call kbuild,ibguard,kmod)

# depmod's index for a guest kernel's modules with ibguard installed, which
# the guest tests that modprobe ibguard put in place (scripts/module-index);
# nothing for a kernel that is not a fetched guest kernel.
module-index: modules
	@if [ -d "$$(. scripts/lib.sh; ibg_kernel_dir $(KVER))/lib/modules/$(KVER)/kernel" ]; then \
		scripts/module-index $(KVER) $(MODDIR); fi

test-modules:
	$(call kbuild,selftests,selftests/ibguard/kmod)
	$(call kbuild,mockhca,selftests/ibguard/mockhca)
	$(call kbuild,bench,bench/floor)

# The modules for every kernel of KERNELS other than KVER (which builds into
# build/), each into build/kernels/VERSION/.
matrix-modules:
	@for k in $(KERNELS); do \
		v=$$(. scripts/lib.sh; ibg_resolve_kernel $$k) || \
			{ echo "kernel $$k has not been fetched: run make deps" >&2; exit 1; }; \
		[ "$$v" = "$(KVER)" ] || $(MAKE) --no-print-directory modules module-index test-modules \
			KVER=$$v KDIR=/lib/modules/$$v/build MODDIR=$(BUILD)/kernels/$$v || exit 1; \
	done

ibguardctl:
	@cmake -S userspace -B $(BUILD)/userspace -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD)/userspace -j $(JOBS)
	@cp $(BUILD)/userspace/ibguardctl $(BUILD)/ibguardctl

# Man pages: one scdoc source each, checked against --help by scripts/check-cli.
man: $(BUILD)/man/ibguardctl.8 $(BUILD)/man/ibguard.conf.5

$(BUILD)/man/%: dist/man/%.scd
	@mkdir -p $(dir $@)
	scdoc <$< >$@

selftests: $(addprefix $(BUILD)/selftests/,$(SELFTESTS)) $(BUILD)/selftests/qpctl \
	$(BUILD)/selftests/raceit $(BUILD)/selftests/smiagent unit-guest

# An installation for unit_test.sh, where the guest can run it as installed.
unit-guest: ibguardctl man
	@rm -rf $(BUILD)/unit-guest
	@$(MAKE) --no-print-directory -s install PREFIX=$(BUILD)/unit-guest/usr \
		SYSCONFDIR=$(BUILD)/unit-guest/etc

$(BUILD)/selftests/smiagent: selftests/ibguard/smiagent.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -Wall -Wextra -Werror -o $@ $< -libumad

$(BUILD)/selftests/raceit: selftests/ibguard/raceit.c selftests/ibguard/mockhca/mockhca_uapi.h
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -Wall -Wextra -Wno-unused-parameter -Werror -Iselftests/ibguard -o $@ $< -libverbs

$(BUILD)/selftests/qpctl: selftests/ibguard/mockhca/qpctl.c selftests/ibguard/mockhca/mockhca_uapi.h
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -Wall -Wextra -Werror -Iselftests/ibguard/mockhca -o $@ $<

$(BUILD)/selftests/%: selftests/ibguard/%.c selftests/ibguard/genl_util.c \
		selftests/ibguard/genl_util.h include/uapi/linux/ibguard.h
	@mkdir -p $(dir $@)
	$(CC) $(SELFTEST_CFLAGS) -o $@ $< selftests/ibguard/genl_util.c -lmnl

# The benchmark workloads and the BPF-LSM comparator (bench/).
bench-tools: $(BUILD)/bench/ibg-bench $(BUILD)/bench/map_guard $(BUILD)/bench/map_guard.bpf.o

$(BUILD)/bench/ibg-bench: bench/workload.c selftests/ibguard/mockhca/mockhca_uapi.h
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -Wall -Wextra -Werror -Iselftests/ibguard/mockhca -o $@ $< -libverbs

$(BUILD)/bench/map_guard: bench/bpf/map_guard.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -Wall -Wextra -Werror -o $@ $< -lbpf

$(BUILD)/bench/map_guard.bpf.o: bench/bpf/map_guard.bpf.c
	@mkdir -p $(dir $@)
	clang -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/x86_64-linux-gnu -c -o $@ $<

deps:
	@scripts/deps

check: deps
	@$(MAKE) --no-print-directory all matrix-modules
	@KERNELS="$(KERNELS)" scripts/check

check-full: deps
	@$(MAKE) --no-print-directory all matrix-modules
	@KERNELS="$(KERNELS)" IBGUARD_CHECK_FULL=1 scripts/check

check-debug: deps
	@$(MAKE) --no-print-directory ibguardctl selftests
	@scripts/check-debug

demo: deps
	@$(MAKE) --no-print-directory all
	@scripts/demo

bench: deps
	@$(MAKE) --no-print-directory all
	@scripts/bench $(if $(QUICK),--quick)

fuzz: deps
	@scripts/fuzz-parser $(or $(FUZZ_SECONDS),600)

install: ibguardctl man
	install -D -m 755 $(BUILD)/ibguardctl $(DESTDIR)$(SBINDIR)/ibguardctl
	install -D -m 644 $(BUILD)/man/ibguardctl.8 $(DESTDIR)$(MANDIR)/man8/ibguardctl.8
	install -D -m 644 $(BUILD)/man/ibguard.conf.5 $(DESTDIR)$(MANDIR)/man5/ibguard.conf.5
	install -D -m 644 dist/bash-completion/ibguardctl $(DESTDIR)$(COMPLETIONDIR)/ibguardctl
	install -D -m 644 dist/modprobe.d/ibguard.conf $(DESTDIR)$(PREFIX)/lib/modprobe.d/ibguard.conf
	install -D -m 644 dist/modules-load.d/ibguard.conf \
		$(DESTDIR)$(PREFIX)/lib/modules-load.d/ibguard.conf
	@mkdir -p $(DESTDIR)$(UNITDIR)
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
		dist/systemd/ibguard.service.in >$(DESTDIR)$(UNITDIR)/ibguard.service
	@# An administrator's policy is never overwritten.
	test -e $(DESTDIR)$(SYSCONFDIR)/ibguard/policy.conf || \
		install -D -m 600 dist/ibguard/policy.conf $(DESTDIR)$(SYSCONFDIR)/ibguard/policy.conf

# The module sources where DKMS wants them; `dkms install -m ibguard -v
# $(VERSION)` then builds and installs for each kernel, now and on updates.
dkms-install:
	rm -rf $(DESTDIR)/usr/src/ibguard-$(VERSION)
	mkdir -p $(DESTDIR)/usr/src/ibguard-$(VERSION)
	tar -c Makefile dkms.conf kmod include scripts/lib.sh | \
		tar -x -C $(DESTDIR)/usr/src/ibguard-$(VERSION)
	sed -i 's/@VERSION@/$(VERSION)/' $(DESTDIR)/usr/src/ibguard-$(VERSION)/dkms.conf
	$(if $(DESTDIR),,dkms add -m ibguard -v $(VERSION))

clean:
	rm -rf $(BUILD)
