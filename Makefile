# sstream - Spark Streaming's DStream model as Unix filters.
#
#   make                 build/sstream-* (optimised)
#   make check           the clang-format check, the bats suite, then again
#                        under ASan+UBSan built by gcc and by clang, and the
#                        fuzz corpora replayed under both sanitizer builds
#   make fuzz            libFuzzer on each target of tests/fuzz/ for
#                        FUZZ_SECONDS (600) each; FUZZ_TARGETS to choose,
#                        FUZZ_JOBS to run several at once
#   make bench [NAME...] benchmarks, printed as ratios against references
#                        (bench/NAME.sh only: make bench kafka)
#   make chaos           kill -9 trials of a whole pipeline (not in CI),
#                        and of one from Kafka to Kafka (tests/chaos/kafka)
#   make install PREFIX=/usr/local [DESTDIR=...]

CC      ?= cc
PREFIX  ?= /usr/local
CFLAGS  ?= -O2 -g
override CFLAGS += -std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L \
           -D_DEFAULT_SOURCE -Ilib -pthread
LDLIBS  += -luv -lxxhash -lz -lpcre2-8 -ljansson -lncurses -ltinfo -ldl -lpthread -lm

BUILD   ?= build
LIB_SRC := $(sort $(wildcard lib/*.c))
BIN_SRC := $(sort $(wildcard bin/*.c))
LIB_OBJ := $(LIB_SRC:lib/%.c=$(BUILD)/obj/%.o)
BINS    := $(BIN_SRC:bin/%.c=$(BUILD)/%)
UNIT_SRC := $(sort $(wildcard tests/unit/*.c))
UNITS   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
# tests/helpers/kafka-mock.c: librdkafka's mock cluster for tests/kafka.bats;
# tests/helpers/nats-js.c: the JetStream peer of tests/nats.bats
HELPERS := $(BUILD)/tests/kafka-mock $(BUILD)/tests/nats-js
HDRS    := $(wildcard lib/*.h)

SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
             -fno-sanitize-recover=undefined
SAN_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
           UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
CLANG   ?= clang

# Fuzz targets (tests/fuzz/TARGET.c): linked with FUZZ_MAIN, driver.c (a
# main that feeds files to the target) or clang's -fsanitize=fuzzer.
FUZZ_TARGETS ?= frame wal state window fields kafka_offsets
FUZZ_SECONDS ?= 600
FUZZ_JOBS ?= 1
FUZZ_MAIN ?= tests/fuzz/driver.c
FUZZ_BINS := $(FUZZ_TARGETS:%=$(BUILD)/fuzz/%)
# The sanitizer and fuzzing builds of make check compile on two cores.
BUILD_JOBS ?= 2
FUZZ_MAKE := $(MAKE) -j$(BUILD_JOBS) BUILD=build-fuzz CC=$(CLANG) \
             CFLAGS="$(SAN_FLAGS) -fsanitize=fuzzer-no-link" \
             FUZZ_MAIN=-fsanitize=fuzzer

.PHONY: all check test test-asan test-asan-clang fuzz fuzz-bins fuzz-replay \
        format format-check install bench chaos clean

all: $(BINS) $(UNITS) $(HELPERS)

$(BUILD)/obj/%.o: lib/%.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/libsstream.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/%: bin/%.c $(BUILD)/libsstream.a $(HDRS)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libsstream.a $(LDFLAGS) $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libsstream.a $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libsstream.a $(LDFLAGS) $(LDLIBS)

$(BUILD)/tests/kafka-mock: tests/helpers/kafka-mock.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS) -lrdkafka

$(BUILD)/tests/nats-js: tests/helpers/nats-js.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS) -lnats

$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/common.c tests/fuzz/fuzz.h \
                 tests/fuzz/driver.c $(BUILD)/libsstream.a $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< tests/fuzz/common.c $(FUZZ_MAIN) \
	    $(BUILD)/libsstream.a $(LDFLAGS) $(LDLIBS)

test: all
	SSTREAM_BIN=$(CURDIR)/$(BUILD) tests/run $(TESTS)

test-asan:
	$(MAKE) -j$(BUILD_JOBS) BUILD=build-asan CFLAGS="$(SAN_FLAGS)" all
	$(SAN_ENV) SSTREAM_BIN=$(CURDIR)/build-asan SSTREAM_ASAN=1 tests/run $(TESTS)

# clang's UBSan checks what gcc's does not (NULL + 0, for one).
test-asan-clang:
	$(MAKE) -j$(BUILD_JOBS) BUILD=build-asan-clang CC=$(CLANG) CFLAGS="$(SAN_FLAGS)" all
	$(SAN_ENV) SSTREAM_BIN=$(CURDIR)/build-asan-clang SSTREAM_ASAN=1 tests/run $(TESTS)

fuzz-bins: $(FUZZ_BINS)

# Every corpus and regression input once, under gcc's and clang's
# sanitizers: the targets linked with driver.c in the builds of test-asan
# and test-asan-clang (a replay needs no libFuzzer, and make check then
# compiles no third sanitizer build).
fuzz-replay:
	$(MAKE) -j$(BUILD_JOBS) BUILD=build-asan CFLAGS="$(SAN_FLAGS)" fuzz-bins
	$(MAKE) -j$(BUILD_JOBS) BUILD=build-asan-clang CC=$(CLANG) \
	    CFLAGS="$(SAN_FLAGS)" fuzz-bins
	$(SAN_ENV) tests/fuzz/run --replay $(FUZZ_TARGETS)

fuzz:
	$(FUZZ_MAKE) fuzz-bins
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_JOBS=$(FUZZ_JOBS) \
	    tests/fuzz/run $(FUZZ_TARGETS)

# `make check TESTS="tests/a.bats tests/b.bats"` runs only those files
# (under all three builds); the default is the whole suite.
check: format-check test test-asan test-asan-clang fuzz-replay

FORMAT_SRC = lib/*.[ch] bin/*.c tests/unit/*.c tests/fuzz/*.[ch] \
             tests/helpers/*.c

format:
	clang-format -i $(FORMAT_SRC)

format-check:
	clang-format --dry-run -Werror $(FORMAT_SRC)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man7 \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
	    $(DESTDIR)$(PREFIX)/share/zsh/site-functions
	install -m 755 $(BINS) $(DESTDIR)$(PREFIX)/bin
	install -m 644 $(wildcard man/*.1) $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 $(wildcard man/*.5) $(DESTDIR)$(PREFIX)/share/man/man5
	install -m 644 $(wildcard man/*.7) $(DESTDIR)$(PREFIX)/share/man/man7
	install -m 644 $(wildcard completions/bash/*) \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 644 $(wildcard completions/zsh/_*) \
	    $(DESTDIR)$(PREFIX)/share/zsh/site-functions

# make bench NAME...: the goals after bench name benchmarks (bench/NAME.sh),
# as BENCH=NAME does; they are not targets of their own.
ifeq ($(firstword $(MAKECMDGOALS)),bench)
BENCH_GOALS := $(wordlist 2,$(words $(MAKECMDGOALS)),$(MAKECMDGOALS))
$(eval $(BENCH_GOALS):;@:)
endif

bench: all
	@set -e; for b in $(or $(BENCH_GOALS),$(BENCH),-); do \
	    if [ "$$b" = - ]; then bench/run; else bench/run "$$b"; fi; \
	done

chaos: all
	tests/chaos/run --kills 100
	tests/chaos/run --kills 50 --readme
	tests/chaos/run --kills 50 --readme --corrupt
	tests/chaos/run --kills 50 --event-time
	tests/chaos/kafka --kills 20
	tests/chaos/kafka --kills 6 --crash-at wal-commit

clean:
	rm -rf build build-asan build-asan-clang build-fuzz bench/data
