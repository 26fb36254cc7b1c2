# tollgate: see README.md. `make` builds build/tollgate.
CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool
BUILD := build

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-missing-field-initializers
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -D_GNU_SOURCE $(WARN) -Iinclude -I$(BUILD)
SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

# The policy front end: parser, compiler and reference classifier. No BPF.
CORE_SRCS := user/util.c user/diag.c user/lexer.c user/parser.c user/compile.c user/image.c \
	user/classify.c user/packet.c
CLI_SRCS := $(CORE_SRCS) user/main.c user/cmd_policy.c
CLI_LIBS :=
HEADERS := $(wildcard include/*.h user/*.h)

.PHONY: all deps check test demo bench fuzz clean asan
all: $(BUILD)/tollgate

$(BUILD)/tollgate: $(CLI_SRCS) $(HEADERS) | $(BUILD)
	$(CC) $(CFLAGS) -o $@ $(CLI_SRCS) $(CLI_LIBS)

# The same CLI under AddressSanitizer and UBSan: the test suite runs this one.
$(BUILD)/asan/tollgate: $(CLI_SRCS) $(HEADERS) | $(BUILD)
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -O2,$(CFLAGS)) $(SAN_FLAGS) -o $@ $(CLI_SRCS) $(CLI_LIBS)
asan: $(BUILD)/asan/tollgate

# cmocka unit tests, each linked against the core under the sanitizers.
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))
$(BUILD)/tests/%: tests/unit/%.c $(CORE_SRCS) $(HEADERS) | $(BUILD)
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -O2,$(CFLAGS)) $(SAN_FLAGS) -Iuser -o $@ $< $(CORE_SRCS) -lcmocka

# libFuzzer needs clang.
$(BUILD)/fuzz/fuzz_policy: tests/fuzz/fuzz_policy.c $(CORE_SRCS) $(HEADERS) | $(BUILD)
	@mkdir -p $(dir $@)
	$(CLANG) -std=gnu11 -D_GNU_SOURCE -g -O1 -Iinclude -Iuser -fsanitize=fuzzer,address,undefined \
		-o $@ tests/fuzz/fuzz_policy.c $(CORE_SRCS)
fuzz: $(BUILD)/fuzz/fuzz_policy

$(BUILD)/bench/gen_policy: tests/bench/gen_policy.c | $(BUILD)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $<

$(BUILD):
	@mkdir -p $@

deps:
	@scripts/install-deps.sh

# The README's two commands. Both install what is missing first.
check: deps
	@$(MAKE) --no-print-directory all asan fuzz $(UNIT_TESTS) $(BUILD)/bench/gen_policy
	@tests/run.sh

test: check

demo: deps
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all $(BUILD)/bench/gen_policy
	@scripts/bench.sh

clean:
	rm -rf $(BUILD)
