# tollgate: see README.md. `make` builds build/tollgate.
CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool
BUILD := build

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-missing-field-initializers
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -D_GNU_SOURCE $(WARN) -Iinclude -Iuser -I$(BUILD)
SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

# user/ is the pipeline as folders; see docs/design.md. Each folder may only
# include the ones before it in this list (tests/suites/05-structure.sh checks).
LAYERS := lib policy compile model kernel export cli
srcs_of = $(wildcard $(addprefix user/,$(addsuffix /*.c,$(1))))
# The policy front end, compiler and reference model: no BPF.
CORE_SRCS := $(call srcs_of,lib policy compile model)
ALL_SRCS := $(call srcs_of,$(LAYERS))
CLI_LIBS := -lxdp -lbpf -lpcap -lmicrohttpd -lcares -lcrypto -lelf -lz -lpthread
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)
BPF_CFLAGS := -O2 -g -Wall -Werror -target bpf -Iinclude $(if $(MULTIARCH),-I/usr/include/$(MULTIARCH))
SKEL := $(BUILD)/tollgate.skel.h
HEADERS := $(wildcard include/*.h user/*/*.h)

.PHONY: all deps check test demo bench fuzz fuzz-soak clean asan format format-check
all: $(BUILD)/tollgate

# The XDP program, embedded in the CLI through a bpftool skeleton.
BPF_HEADERS := include/tollgate.h bpf/parse.h bpf/bench.h bpf/bench_parse.h
$(BUILD)/%.bpf.o: bpf/%.bpf.c $(BPF_HEADERS) | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $(subst .bpf.o,,$(notdir $<)) > $@.tmp && mv $@.tmp $@

# Every user/ source is compiled once per flavour into an archive; the CLI,
# the unit tests, the data-plane tests and the benchmark link what they use.
OBJS := $(patsubst user/%.c,$(BUILD)/obj/%.o,$(ALL_SRCS))
ASAN_OBJS := $(patsubst user/%.c,$(BUILD)/asan/obj/%.o,$(ALL_SRCS))
LIB := $(BUILD)/libtollgate.a
ASAN_LIB := $(BUILD)/asan/libtollgate.a

$(BUILD)/obj/%.o: user/%.c | $(SKEL)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/asan/obj/%.o: user/%.c | $(SKEL)
	@mkdir -p $(dir $@)
	@echo "  CC-ASAN $<"
	@$(CC) $(filter-out -O2,$(CFLAGS)) $(SAN_FLAGS) -MMD -MP -c $< -o $@

-include $(OBJS:.o=.d) $(ASAN_OBJS:.o=.d)

$(LIB): $(filter-out %/cli/main.o,$(OBJS))
	rm -f $@ && ar rcs $@ $^

$(ASAN_LIB): $(filter-out %/cli/main.o,$(ASAN_OBJS))
	rm -f $@ && ar rcs $@ $^

# What --version and tollgate_build_info report (scripts/version.sh). The
# stamp changes only when the version does, so a commit rebuilds one object.
VERSION_STAMP := $(BUILD)/version.stamp
.PHONY: FORCE
FORCE:
$(VERSION_STAMP): FORCE | $(BUILD)
	@scripts/version.sh >$@.tmp && if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi
VERSION_OBJS := $(BUILD)/obj/export/version.o $(BUILD)/asan/obj/export/version.o
$(VERSION_OBJS): $(VERSION_STAMP)
$(VERSION_OBJS): CFLAGS += -DTG_VERSION='"$(word 1,$(file <$(VERSION_STAMP)))"' \
	-DTG_COMMIT='"$(word 2,$(file <$(VERSION_STAMP)))"' \
	-DTG_LIBXDP_BUILT='"$(shell pkg-config --modversion libxdp 2>/dev/null || echo unknown)"'

$(BUILD)/tollgate: $(BUILD)/obj/cli/main.o $(LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(CLI_LIBS)

# The same CLI under AddressSanitizer and UBSan: the test suite runs this one.
$(BUILD)/asan/tollgate: $(BUILD)/asan/obj/cli/main.o $(ASAN_LIB)
	$(CC) $(filter-out -O2,$(CFLAGS)) $(SAN_FLAGS) -o $@ $^ $(CLI_LIBS)
asan: $(BUILD)/asan/tollgate

# cmocka unit tests, one per module, linked against the sanitized archive.
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))
$(BUILD)/tests/%: tests/unit/%.c $(ASAN_LIB) $(wildcard tests/unit/*.h) | $(BUILD)
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -O2,$(CFLAGS)) $(SAN_FLAGS) -Itests/unit -o $@ $< $(ASAN_LIB) -lcmocka $(CLI_LIBS)

# Data-plane tests: the real XDP program through BPF_PROG_TEST_RUN (root).
DP_TESTS := $(patsubst tests/dataplane/test_%.c,$(BUILD)/tests/dp_%,$(wildcard tests/dataplane/test_*.c))
$(BUILD)/tests/dp_%: tests/dataplane/test_%.c tests/dataplane/pktbuild.c $(ASAN_LIB) $(HEADERS) $(wildcard tests/dataplane/*.h) | $(BUILD)
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -O2,$(CFLAGS)) $(SAN_FLAGS) -Itests/dataplane -o $@ $< tests/dataplane/pktbuild.c $(ASAN_LIB) -lcmocka $(CLI_LIBS)

$(BUILD)/mkcapture: tests/dataplane/mkcapture.c tests/dataplane/pktbuild.c tests/dataplane/pktbuild.h | $(BUILD)
	$(CC) $(CFLAGS) -Itests/dataplane -o $@ tests/dataplane/mkcapture.c tests/dataplane/pktbuild.c -lpcap

# The lab: sockets for the demo and the end-to-end tests, and a foreign XDP program.
$(BUILD)/labnet: tests/lab/labnet.c | $(BUILD)
	$(CC) $(CFLAGS) -o $@ $<

$(BUILD)/xdp_pass.bpf.o: tests/lab/xdp_pass.bpf.c | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

LAB := $(BUILD)/labnet $(BUILD)/xdp_pass.bpf.o

# libFuzzer needs clang. The policy target is the front end alone; the packet
# target runs frames through the real program too, so it links the loader.
FUZZ_FLAGS := -std=gnu11 -D_GNU_SOURCE -g -O1 -Iinclude -Iuser -I$(BUILD) -fsanitize=fuzzer,address,undefined
FUZZ_PACKET_SRCS := $(CORE_SRCS) $(addprefix user/kernel/,dataplane.c generation.c link.c flows.c egress.c)
$(BUILD)/fuzz/fuzz_policy: tests/fuzz/fuzz_policy.c $(CORE_SRCS) $(HEADERS) | $(BUILD)
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_FLAGS) -o $@ tests/fuzz/fuzz_policy.c $(CORE_SRCS)

$(BUILD)/fuzz/fuzz_packet: tests/fuzz/fuzz_packet.c tests/dataplane/agree.h $(FUZZ_PACKET_SRCS) $(HEADERS) $(SKEL) | $(BUILD)
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_FLAGS) -Itests/dataplane -o $@ tests/fuzz/fuzz_packet.c $(FUZZ_PACKET_SRCS) -lxdp -lbpf -lelf -lz

FUZZERS := $(BUILD)/fuzz/fuzz_policy $(BUILD)/fuzz/fuzz_packet
fuzz: $(FUZZERS)

# make fuzz-soak [SECONDS=3600]: every fuzzer on every core, from the corpus in
# tests/fuzz/corpus; findings and the grown corpus stay under build/fuzz/.
SECONDS ?= 600
fuzz-soak: $(FUZZERS)
	@scripts/fuzz-soak.sh $(SECONDS)

$(BUILD)/bench/gen_policy: tests/bench/gen_policy.c | $(BUILD)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $<

# The data-plane benchmark: tollgate, a floor and a bare trie, side by side.
BENCH_SKELS := $(SKEL) $(BUILD)/bench_floor.skel.h $(BUILD)/bench_lpm.skel.h $(BUILD)/bench_mem.skel.h
$(BUILD)/bench/bench_dataplane: tests/bench/bench_dataplane.c tests/dataplane/pktbuild.c $(LIB) $(HEADERS) $(BENCH_SKELS) | $(BUILD)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/dataplane -o $@ $< tests/dataplane/pktbuild.c $(LIB) $(CLI_LIBS)

# Set walks at their worst (docs/benchmarks.md).
$(BUILD)/bench/bench_sets: tests/bench/bench_sets.c $(LIB) $(HEADERS) | $(BUILD)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LIB) $(CLI_LIBS)

# The packets-per-second benchmark (scripts/bench-pps.sh): a paced live-frame traffic generator and references.
$(BUILD)/bench/trafficgen.bpf.o: tests/bench/trafficgen.bpf.c tests/bench/trafficgen.h bpf/parse.h bpf/bench_parse.h include/tollgate.h | $(BUILD)
	@mkdir -p $(dir $@)
	$(CLANG) $(BPF_CFLAGS) -Ibpf -c $< -o $@

$(BUILD)/bench/trafficgen: tests/bench/trafficgen.c tests/bench/trafficgen.h $(BUILD)/bench/trafficgen.skel.h | $(BUILD)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< -lbpf -lelf -lz

$(BUILD):
	@mkdir -p $@

# clang-format 14 exactly: other versions lay out the same code differently.
CLANG_FORMAT ?= clang-format-14
FORMATTED = $(shell git ls-files 'user/*.[ch]' 'bpf/*.[ch]' 'include/*.h' 'tests/*.[ch]')
format:
	$(CLANG_FORMAT) -i --style=file $(FORMATTED)

format-check:
	$(CLANG_FORMAT) --dry-run --Werror --style=file $(FORMATTED)

deps:
	@scripts/install-deps.sh

# The README's two commands. Both install what is missing first.
check: deps
	@$(MAKE) --no-print-directory all asan fuzz $(UNIT_TESTS) $(DP_TESTS) $(BUILD)/mkcapture $(BUILD)/bench/gen_policy $(BUILD)/bench/bench_sets $(LAB)
	@tests/run.sh

test: check

# The second stage (CI runs it after check): the package, the image and the
# Ansible role, under real systemd in a VM (tests/deploy/run.sh).
.PHONY: check-deploy
check-deploy:
	@scripts/install-deps.sh --deploy
	@$(MAKE) --no-print-directory all
	@tests/deploy/run.sh

demo: deps
	@$(MAKE) --no-print-directory all $(LAB)
	@scripts/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all $(BUILD)/bench/gen_policy $(BUILD)/bench/bench_dataplane $(BUILD)/bench/bench_sets $(BUILD)/bench/trafficgen
	@scripts/bench.sh

# make install [DESTDIR=...] [PREFIX=/usr/local] [SYSCONFDIR=/etc] [SYSTEMDUNITDIR=$(PREFIX)/lib/systemd/system]
#              [EXAMPLEDIR=$(SYSCONFDIR)/tollgate/examples] [MANIFEST=yes|no]
# make uninstall with the same settings removes exactly what was installed.
.PHONY: install uninstall deb oci
export PREFIX DESTDIR SYSCONFDIR SYSTEMDUNITDIR EXAMPLEDIR MANIFEST
install: all
	@scripts/install.sh

uninstall:
	@scripts/install.sh --uninstall

# build/deb/tollgate_VERSION_ARCH.deb from the committed tree (docs/deploy.md).
deb:
	@scripts/deb.sh

# An OCI image of the package, localhost/tollgate:VERSION, and its archive
# build/oci/tollgate-VERSION.oci.tar; no registry involved (docs/deploy.md).
oci: deb
	@packaging/oci/build.sh "$$(scripts/rootfs.sh image)" $(BUILD)/deb/tollgate_*.deb $(BUILD)/oci

clean:
	rm -rf $(BUILD)
