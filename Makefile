# nerd — build, test, benchmark.  See README.md.
#
#   make run     build and run the main job (installs missing Debian packages)
#   make test    unit + reference tests, again under ASan+UBSan, short fuzz runs
#   make bench   speed figures (docs/performance.md)
#   make model   rebuild models/en_core_web_sm-2.2.5.nerd from ../shared
#
CC      ?= cc
SHARED  ?= ../shared
BUILD   ?= build
SANBUILD = build-san
FUZZBUILD = build-fuzz
MODEL   = models/en_core_web_sm-2.2.5.nerd
SPACY   = $(SHARED)/data/models/en_core_web_sm-2.2.5
SPECS   = $(SHARED)/specs/sm225
FUZZ_SECONDS ?= 20

WARN    = -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes \
          -Wmissing-prototypes -Wvla -Wformat=2
OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
ALL_CFLAGS = -std=c11 $(WARN) -Iinclude -Ilib -Iplatform $(CFLAGS) $(EXTRA_CFLAGS)
LIBS    = -lpcre2-8 -lm
CLI_LIBS = -lmsgpackc -ljansson -lpthread

DEBS    = gcc make libpcre2-dev libmsgpack-dev libjansson-dev libyaml-dev
# cmake autoconf automake libtool g++: npm's aws-lambda-ric builds its native
# client at install time (tests/platform/test_node_ric.sh).
TEST_DEBS = clang libclang-rt-14-dev python3 curl cmake autoconf automake libtool g++

LIB_SRC = lib/hash.c lib/unicode.c lib/tokenizer.c lib/model.c lib/features.c \
          lib/nn.c lib/ner.c lib/http.c
CONV_SRC = lib/convert.c
CLI_SRC = cli/nerd.c cli/util.c cli/cmd_extract.c cli/cmd_convert.c \
          cli/cmd_eval.c cli/cmd_bench.c cli/cmd_local.c
PLATFORM_SRC = platform/clock.c platform/envlimit.c platform/template.c platform/runtime.c platform/apigw.c platform/gateway.c platform/metrics.c
UNIT_TESTS = test_hash test_unicode test_model test_extract test_reference test_http \
             platform/test_template platform/test_apigw

LIB_OBJ = $(LIB_SRC:%.c=$(BUILD)/%.o)
PLATFORM_OBJ = $(PLATFORM_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ = $(CLI_SRC:%.c=$(BUILD)/%.o) $(CONV_SRC:%.c=$(BUILD)/%.o)
HDRS    = $(wildcard include/nerd/*.h lib/*.h cli/*.h platform/*.h tests/*.h) lib/unicode_tables.inc

.PHONY: all run test unit san fuzz bench model deps test-deps clean check-model

all: $(BUILD)/nerd $(BUILD)/functions/hello/bootstrap

# the trivial C runtime used by the platform's soak test and benchmarks
$(BUILD)/functions/hello/bootstrap: bench/functions/hello.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $< -o $@

$(BUILD)/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libnerd.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/nerd: $(CLI_OBJ) $(PLATFORM_OBJ) $(BUILD)/libnerd.a
	$(CC) $(ALL_CFLAGS) $^ -o $@ $(CLI_LIBS) -lyaml $(LIBS)

$(BUILD)/tests/%: tests/lib/%.c $(BUILD)/libnerd.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests $< $(BUILD)/libnerd.a -o $@ -ljansson -lpthread $(LIBS)

$(BUILD)/tests/platform/%: tests/platform/%.c $(PLATFORM_OBJ) $(BUILD)/libnerd.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests $< $(PLATFORM_OBJ) $(BUILD)/libnerd.a -o $@ -lyaml -ljansson -lpthread $(LIBS)

# ---- Debian packages ---------------------------------------------------
deps:
	@missing=""; for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi

test-deps: deps
	@missing=""; for p in $(TEST_DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi
	@command -v npm >/dev/null 2>&1 || { echo "installing: nodejs npm"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; }

# ---- main job ------------------------------------------------------------
run: deps
	$(MAKE) all
	$(BUILD)/nerd extract --model $(MODEL) "Alan Turing was born on June 23, 1912, in London, England."

# ---- model ---------------------------------------------------------------
model: deps
	$(MAKE) all
	$(BUILD)/nerd convert --specs $(SPECS) $(SPACY) $(MODEL)

# ---- tests ---------------------------------------------------------------
unit: all $(UNIT_TESTS:%=$(BUILD)/tests/%)
	NERD=$(BUILD)/nerd MODEL=$(MODEL) SHARED=$(SHARED) TESTBIN=$(BUILD)/tests \
	  tests/run.sh "$(UNIT_TESTS)"

san:
	$(MAKE) unit BUILD=$(SANBUILD) CC=gcc OPT=-O1 \
	  EXTRA_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"

fuzz:
	@if command -v clang >/dev/null 2>&1; then \
	  $(MAKE) -f tests/fuzz/fuzz.mk FUZZBUILD=$(FUZZBUILD) MODEL=$(MODEL) \
	    FUZZ_SECONDS=$(FUZZ_SECONDS) run; \
	else echo "fuzz: clang not installed, skipped"; fi

test: test-deps
	$(MAKE) --no-print-directory unit
	$(MAKE) --no-print-directory san
	$(MAKE) --no-print-directory fuzz

# ---- benchmarks ----------------------------------------------------------
BENCH_DEBS = python3-numpy python3-msgpack wrk nginx-light
bench: deps
	@missing=""; for p in $(BENCH_DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi
	$(MAKE) all $(BUILD)/openloop
	bench/run.sh $(BUILD)/nerd $(MODEL) $(SHARED)

$(BUILD)/openloop: bench/openloop.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $< -o $@

clean:
	rm -rf $(BUILD) $(SANBUILD) $(FUZZBUILD)
