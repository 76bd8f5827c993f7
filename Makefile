# relayguard build: bpf/%.bpf.c -> %.bpf.o -> bpftool gen skeleton -> %.skel.h
# -> user objects -> relayguardd, relayguardctl. Output in $(BUILD); V=1 shows
# full commands.
.DELETE_ON_ERROR:
# Skeletons and objects are intermediate files that make must keep.
.SECONDARY:
.SUFFIXES:

BUILD   ?= build
PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= gcc
CLANG   ?= clang
BPFTOOL ?= bpftool

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

ARCH_INC   := /usr/include/$(shell $(CC) -dumpmachine)
NL_CFLAGS  := $(shell pkg-config --cflags libnl-3.0 2>/dev/null)
WARN       := -Wall -Wextra -Werror
CFLAGS     ?= -O2 -g
CFLAGS     += $(WARN) -std=gnu11 -D_GNU_SOURCE -Iheaders -Iuser -I$(BUILD) \
              $(NL_CFLAGS) -MMD -MP
BPF_CFLAGS := -O2 -g -target bpf $(WARN) -D__TARGET_ARCH_x86 \
              -Iheaders -Ibpf -I$(ARCH_INC)
LDLIBS     := -lbpf -lelf -lz -lnl-route-3 -lnl-3 -lpcap -lcurl -ljson-c
TEST_LIBS  := -lcmocka
TOOL_LIBS  := $(shell pkg-config --libs libnetfilter_queue 2>/dev/null)

# Fuzz targets and their copy of the user modules: clang with libFuzzer,
# ASan and UBSan.
FUZZ_CFLAGS := -O1 -g -fsanitize=fuzzer,address,undefined \
               -fno-sanitize-recover=undefined $(WARN) -std=gnu11 \
               -D_GNU_SOURCE -Iheaders -Iuser -I$(BUILD) $(NL_CFLAGS)
FUZZ_TIME   ?= 60

# Benchmark baselines: the shared reference filter (built here) and
# xdp-filter's object for policy allow, all features (Debian libxdp1,
# pulled in by xdp-tools).
SHARED         ?= ../shared
XDP_FILTER_OBJ ?= /usr/lib/$(shell $(CC) -dumpmachine)/bpf/xdpfilt_alw_all.o
# The sampling reference gets relayguard's bench budget (bench_xdp's
# sample_bytes), so that it samples every repeat of the in-budget packet.
REF_SAMPLE_BUDGET := 1073741824
FUZZ_SMOKE  ?= 10

BPF_SRCS  := $(wildcard bpf/*.bpf.c)
BPF_OBJS  := $(BPF_SRCS:bpf/%.bpf.c=$(BUILD)/%.bpf.o)
SKELS     := $(BPF_SRCS:bpf/%.bpf.c=$(BUILD)/%.skel.h)
MAINS     := $(wildcard user/relayguardd.c user/relayguardctl.c)
PROGS     := $(MAINS:user/%.c=$(BUILD)/%)
LIB_SRCS  := $(filter-out $(MAINS),$(wildcard user/*.c))
LIB_OBJS  := $(LIB_SRCS:user/%.c=$(BUILD)/user/%.o)
LIB       := $(BUILD)/librelayguard.a
TEST_SRCS := $(wildcard tests/unit/test_*.c tests/bpf/test_*.c)
TESTS     := $(patsubst %.c,$(BUILD)/tests/%,$(notdir $(TEST_SRCS)))
TOOL_SRCS := $(wildcard tests/tools/*.c)
TOOLS     := $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/tools/%)
BENCH_SRCS:= $(wildcard tests/bench/bench_*.c)
BENCHES   := $(BENCH_SRCS:tests/bench/%.c=$(BUILD)/bench/%)
# The bare XDP_PASS baseline of the benchmarks is no part of the product.
BENCH_SKEL:= $(BUILD)/bare.skel.h
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZERS   := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_OBJS := $(LIB_SRCS:user/%.c=$(BUILD)/fuzz/obj/%.o)

vpath test_%.c tests/unit tests/bpf

.PHONY: all tests deps check test fuzz fuzz-smoke bench demo install deb clean

# The product: the BPF object and the two programs.
all: $(BPF_OBJS) $(PROGS)

# What the tests and benchmarks run (needs cmocka, libnetfilter-queue).
tests: $(TESTS) $(TOOLS) $(BENCHES)

deps:
	$(Q)scripts/install-deps.sh

check: deps
	$(Q)$(MAKE) --no-print-directory all tests fuzzers
	$(Q)BUILD=$(BUILD) FUZZ_SMOKE=$(FUZZ_SMOKE) tests/run.sh

test: all tests fuzzers
	$(Q)BUILD=$(BUILD) FUZZ_SMOKE=$(FUZZ_SMOKE) tests/run.sh

fuzzers: $(FUZZERS)

fuzz: deps
	$(Q)$(MAKE) --no-print-directory fuzzers
	$(Q)BUILD=$(BUILD) tests/fuzz/run.sh $(FUZZ_TIME)

bench: deps
	$(Q)$(MAKE) --no-print-directory all tests $(BUILD)/bench/xdp_ref_hash.bpf.o \
		$(BUILD)/bench/xdp_ref_sample.bpf.o
	$(Q)BUILD=$(BUILD) RG_XDP_REF=$(BUILD)/bench/xdp_ref_hash.bpf.o \
		RG_XDP_REF_SAMPLE=$(BUILD)/bench/xdp_ref_sample.bpf.o \
		RG_XDP_FILTER=$(XDP_FILTER_OBJ) tests/bench/run.sh

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)BUILD=$(BUILD) scripts/demo.sh

$(BUILD) $(BUILD)/user $(BUILD)/tests $(BUILD)/tools $(BUILD)/bench \
$(BUILD)/fuzz $(BUILD)/fuzz/obj:
	$(Q)mkdir -p $@

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h headers/*.h) | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bare.bpf.o: tests/bench/bare.bpf.c | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(BUILD)/user/%.o: user/%.c $(SKELS) | $(BUILD)/user
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/%: $(BUILD)/user/%.o $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/%: %.c $(LIB) $(SKELS) | $(BUILD)/tests
	$(call msg,TEST,$@)
	$(Q)$(CC) $(CFLAGS) -Itests $< $(LIB) $(TEST_LIBS) $(LDLIBS) -o $@

# ringload runs relayguard's program on a daemon's pinned maps.
$(BUILD)/tools/ringload: TOOL_LIBS := -lbpf -lelf -lz

$(BUILD)/tools/%: tests/tools/%.c | $(BUILD)/tools
	$(call msg,TOOL,$@)
	$(Q)$(CC) $(CFLAGS) $< $(TOOL_LIBS) -o $@

$(BUILD)/bench/%: tests/bench/%.c $(LIB) $(SKELS) $(BENCH_SKEL) | $(BUILD)/bench
	$(call msg,BENCH,$@)
	$(Q)$(CC) $(CFLAGS) -Itests $< $(LIB) $(LDLIBS) -lm -o $@

$(BUILD)/bench/xdp_ref_hash.bpf.o: $(SHARED)/bench/xdp_ref.bpf.c | $(BUILD)/bench
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -O2 -g -target bpf -I$(ARCH_INC) -c $< -o $@

$(BUILD)/bench/xdp_ref_sample.bpf.o: $(SHARED)/bench/xdp_ref.bpf.c | $(BUILD)/bench
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -O2 -g -target bpf -I$(ARCH_INC) -DWITH_SAMPLE \
		-DSAMPLE_BUDGET=$(REF_SAMPLE_BUDGET) -c $< -o $@

$(BUILD)/fuzz/obj/%.o: user/%.c $(SKELS) | $(BUILD)/fuzz/obj
	$(call msg,FUZZ-CC,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZ_OBJS) | $(BUILD)/fuzz
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $^ $(LDLIBS) -o $@

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin \
		$(DESTDIR)$(PREFIX)/share/man/man5 \
		$(DESTDIR)$(PREFIX)/share/man/man8 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/share/relayguard \
		$(DESTDIR)/etc/relayguard $(DESTDIR)/etc/logrotate.d \
		$(DESTDIR)/lib/systemd/system $(DESTDIR)/var/lib/relayguard
	install -m 0755 $(PROGS) $(DESTDIR)$(PREFIX)/sbin/
	install -m 0644 $(wildcard user/dist/*.5) $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 0644 $(wildcard user/dist/*.8) $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 0644 user/dist/relayguardctl.bash \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/relayguardctl
	install -m 0644 user/dist/relayguardd.bash \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/relayguardd
	install -m 0644 user/dist/relayguard.rules.yml \
		$(DESTDIR)$(PREFIX)/share/relayguard/
	test -e $(DESTDIR)/etc/relayguard/relayguard.conf || \
		install -m 0644 user/dist/relayguard.conf $(DESTDIR)/etc/relayguard/
	install -m 0644 user/dist/relayguard.logrotate \
		$(DESTDIR)/etc/logrotate.d/relayguard
	sed 's|/usr/local/sbin/|$(PREFIX)/sbin/|' user/dist/relayguardd.service \
		> $(DESTDIR)/lib/systemd/system/relayguardd.service

# The Debian package, built by dpkg-buildpackage (debhelper) from the
# packaging in scripts/debian, with Debian's build flags in a build folder
# of its own ($(BUILD)/deb/src/build, kept: a rebuild is incremental), and
# checked by lintian.
DEB_VERSION := $(shell dpkg-parsechangelog -l scripts/debian/changelog -S Version 2>/dev/null)
DEB_ARCH    := $(shell dpkg --print-architecture 2>/dev/null)
DEB         := $(BUILD)/relayguard_$(DEB_VERSION)_$(DEB_ARCH).deb
DEB_INPUTS  := Makefile scripts/deb.sh $(wildcard bpf/* headers/* user/*.[ch] user/dist/*) \
               $(shell find scripts/debian -type f 2>/dev/null)

deb: $(DEB)

$(DEB): $(DEB_INPUTS)
	$(call msg,DEB,$@)
	$(Q)scripts/deb.sh $(BUILD) $@

clean:
	rm -rf $(BUILD)

-include $(wildcard $(BUILD)/user/*.d $(BUILD)/tests/*.d $(BUILD)/bench/*.d)
