# sstream - Spark Streaming's DStream model as Unix filters.
#
#   make                 build/sstream-* (optimised)
#   make check           the bats suite, then again under ASan+UBSan, and
#                        the clang-format check
#   make bench           benchmarks, printed as ratios against references
#   make chaos           kill -9 trials of a whole pipeline (not in CI)
#   make install PREFIX=/usr/local [DESTDIR=...]

CC      ?= cc
PREFIX  ?= /usr/local
CFLAGS  ?= -O2 -g
override CFLAGS += -std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L \
           -D_DEFAULT_SOURCE -Ilib
LDLIBS  += -luv -lxxhash -lpcre2-8 -lm

BUILD   ?= build
LIB_SRC := $(sort $(wildcard lib/*.c))
BIN_SRC := $(sort $(wildcard bin/*.c))
LIB_OBJ := $(LIB_SRC:lib/%.c=$(BUILD)/obj/%.o)
BINS    := $(BIN_SRC:bin/%.c=$(BUILD)/%)
UNIT_SRC := $(sort $(wildcard tests/unit/*.c))
UNITS   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
HDRS    := $(wildcard lib/*.h)

SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
             -fno-sanitize-recover=undefined

.PHONY: all check test test-asan format format-check install bench chaos clean

all: $(BINS) $(UNITS)

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

test: all
	SSTREAM_BIN=$(CURDIR)/$(BUILD) tests/run

test-asan:
	$(MAKE) BUILD=build-asan CFLAGS="$(SAN_FLAGS)" all
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	SSTREAM_BIN=$(CURDIR)/build-asan SSTREAM_ASAN=1 tests/run

check: format-check test test-asan

format:
	clang-format -i lib/*.[ch] bin/*.c tests/unit/*.c

format-check:
	clang-format --dry-run -Werror lib/*.[ch] bin/*.c tests/unit/*.c

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

bench: all
	bench/run $(BENCH)

chaos: all
	tests/chaos/run --kills 100
	tests/chaos/run --kills 50 --readme
	tests/chaos/run --kills 50 --readme --corrupt

clean:
	rm -rf build build-asan bench/data
