# Builds and briefly runs nerd's libFuzzer targets (clang).  Included by the
# top Makefile's `fuzz` target: make -f tests/fuzz/fuzz.mk run
FUZZBUILD ?= build-fuzz
MODEL ?= models/en_core_web_sm-2.2.5.nerd
FUZZ_SECONDS ?= 20
FCC = clang
FFLAGS = -std=c11 -g -O1 -Iinclude -Ilib -Iplatform -fsanitize=fuzzer,address,undefined \
         -fno-sanitize-recover=undefined -Wall -Wextra -Werror
LIB_SRC = lib/hash.c lib/unicode.c lib/tokenizer.c lib/tokfuse.c lib/model.c lib/features.c \
          lib/traindata.c lib/td_conll.c lib/td_json.c lib/td_text.c lib/td_score.c \
          lib/nn.c lib/ner.c lib/http.c lib/uniq.c lib/pipe.c platform/clock.c platform/envlimit.c platform/template.c platform/template_eval.c platform/template_api.c platform/template_auth.c platform/template_ddb.c platform/template_layer.c platform/langrt.c platform/layers.c platform/loop.c platform/runtime.c platform/envlog.c platform/process.c platform/rtapi.c platform/conn.c platform/apigw.c platform/apigw_v1.c platform/jsonw.c \
          platform/authorizer.c platform/az_event.c platform/az_policy.c
TARGETS = fuzz_extract fuzz_model fuzz_http fuzz_template fuzz_runtime_api fuzz_apigw fuzz_apigw_v1 fuzz_handler
# the load lab's scenario files (loadgen/), and HTTP responses (lib/http_resp.c:
# the load lab's and the Lambda Runtime API client's parser)
TARGETS += fuzz_scenario fuzz_http_response
# the gateway's client connections (platform/conn.c)
TARGETS += fuzz_conn
# `nerd extract`'s input lines (plain text or JSON lines)
TARGETS += fuzz_extract_line
# what Lambda authorizers answer (platform/az_policy.c)
TARGETS += fuzz_authorizer
# JWT tokens and JWKS documents (platform/jwt*.c, with OpenSSL's libcrypto)
TARGETS += fuzz_jwt fuzz_jwks
# the DynamoDB client's answer parser (function/ddb_client.c: header lines,
# CRC-32, error bodies, the retry decision)
TARGETS += fuzz_ddb_response
# the products API's parsers (function/products/pjson.c: POST bodies, exact
# decimals, items, paging tokens)
TARGETS += fuzz_products
# the training-data readers (lib/traindata.c, td_conll.c, td_json.c, td_text.c), one
# target per format, sharing tests/fuzz/fuzz_traindata.h
TD_TARGETS = fuzz_td_conll fuzz_td_spacy fuzz_td_tuples fuzz_td_spans fuzz_td_text
TARGETS += $(TD_TARGETS)
# the trainer's update on arbitrary documents and tags (lib/train*.c)
TARGETS += fuzz_train
TRAIN_SRC = lib/model_write.c lib/nn_grad.c lib/train.c lib/train_oracle.c lib/train_net.c \
            lib/train_tok2vec.c lib/train_parser.c lib/train_write.c lib/train_pool.c
JWT_SRC = platform/jwt.c platform/jwt_keys.c platform/jwt_claims.c platform/jsonw.c
# the DynamoDB service: its request decoder with the operations, and its
# expressions (platform/ddb_*.c, SQLite)
TARGETS += fuzz_ddb_request fuzz_ddb_expr
DDB_SRC = platform/ddb_err.c platform/ddb_num.c platform/ddb_value.c platform/ddb_reserved.c \
          platform/ddb_expr.c platform/ddb_update.c platform/ddb_eval.c platform/ddb_table.c \
          platform/ddb_store.c platform/ddb_items.c platform/ddb_req.c platform/ddb_ops.c platform/ddb_query.c \
          platform/ddb_batch.c platform/ddb_server.c

.PHONY: run build
build: $(TARGETS:%=$(FUZZBUILD)/%)

$(FUZZBUILD)/%: tests/fuzz/%.c $(LIB_SRC) $(wildcard lib/*.h include/nerd/*.h platform/*.h)
	@mkdir -p $(FUZZBUILD)
	$(FCC) $(FFLAGS) $< $(LIB_SRC) -o $@ -lpcre2-8 -lyaml -ljansson -lm

$(TD_TARGETS:%=$(FUZZBUILD)/%): tests/fuzz/fuzz_traindata.h

$(FUZZBUILD)/fuzz_train: tests/fuzz/fuzz_train.c $(TRAIN_SRC) $(LIB_SRC) $(wildcard lib/*.h include/nerd/*.h)
	@mkdir -p $(FUZZBUILD)
	$(FCC) $(FFLAGS) $< $(TRAIN_SRC) $(LIB_SRC) -o $@ -lpcre2-8 -lyaml -ljansson -lm

$(FUZZBUILD)/fuzz_handler: tests/fuzz/fuzz_handler.c function/handler.c function/handler.h function/fnhttp.c function/fnhttp.h $(LIB_SRC)
	@mkdir -p $(FUZZBUILD)
	$(FCC) $(FFLAGS) -Ifunction $< function/handler.c function/fnhttp.c $(LIB_SRC) -o $@ -lpcre2-8 -lyaml -ljansson -lm

$(FUZZBUILD)/fuzz_extract_line: tests/fuzz/fuzz_extract_line.c cli/cmd_extract.c cli/util.c cli/cli.h loadgen/common.c $(LIB_SRC)
	@mkdir -p $(FUZZBUILD)
	$(FCC) $(FFLAGS) -Icli -Iloadgen $< cli/cmd_extract.c cli/util.c loadgen/common.c $(LIB_SRC) -o $@ -lpcre2-8 -lyaml -ljansson -lm

$(FUZZBUILD)/fuzz_scenario: tests/fuzz/fuzz_scenario.c loadgen/scenario.c loadgen/flow.c loadgen/common.c $(wildcard loadgen/*.h)
	@mkdir -p $(FUZZBUILD)
	$(FCC) $(FFLAGS) -Iloadgen -DLG_NO_BUILTINS $< loadgen/scenario.c loadgen/flow.c loadgen/common.c -o $@ -lm

$(FUZZBUILD)/fuzz_http_response: tests/fuzz/fuzz_http_response.c lib/http_resp.c include/nerd/http_resp.h
	@mkdir -p $(FUZZBUILD)
	$(FCC) $(FFLAGS) $< lib/http_resp.c -o $@

$(FUZZBUILD)/fuzz_jwt $(FUZZBUILD)/fuzz_jwks: $(FUZZBUILD)/%: tests/fuzz/%.c $(JWT_SRC) platform/jwt.h platform/jwt_int.h platform/jsonw.h
	@mkdir -p $(FUZZBUILD)
	$(FCC) $(FFLAGS) $< $(JWT_SRC) -o $@ -ljansson -lcrypto

$(FUZZBUILD)/fuzz_ddb_response: tests/fuzz/fuzz_ddb_response.c function/ddb_client.c function/ddb_client.h
	@mkdir -p $(FUZZBUILD)
	$(FCC) $(FFLAGS) -Ifunction $< function/ddb_client.c -o $@ -ljansson -lcurl -lz

$(FUZZBUILD)/fuzz_products: tests/fuzz/fuzz_products.c function/products/pjson.c function/fnhttp.c \
                           function/products/products_int.h function/fnhttp.h
	@mkdir -p $(FUZZBUILD)
	$(FCC) $(FFLAGS) -Ifunction -Ifunction/products $< function/products/pjson.c function/fnhttp.c -o $@ -ljansson

$(FUZZBUILD)/fuzz_ddb_request $(FUZZBUILD)/fuzz_ddb_expr: $(FUZZBUILD)/%: tests/fuzz/%.c $(DDB_SRC) $(LIB_SRC) $(wildcard platform/ddb*.h)
	@mkdir -p $(FUZZBUILD)
	$(FCC) $(FFLAGS) $< $(DDB_SRC) $(LIB_SRC) -o $@ -lpcre2-8 -lyaml -ljansson -lsqlite3 -lz -lm

run: build
	@pass=0; fail=0; \
	for t in $(TARGETS); do \
	  c=$${t#fuzz_}; rm -rf $(FUZZBUILD)/corpus_$$c; mkdir -p $(FUZZBUILD)/corpus_$$c; \
	  if NERD_MODEL=$(MODEL) $(FUZZBUILD)/$$t -max_total_time=$(FUZZ_SECONDS) \
	       -max_len=8192 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	       $(FUZZBUILD)/corpus_$$c tests/fuzz/corpus/$$c > $(FUZZBUILD)/$$t.log 2>&1; then \
	    pass=$$((pass+1)); echo "  $$t: ok ($$(grep -a -o 'stat::number_of_executed_units: *[0-9]*' $(FUZZBUILD)/$$t.log | grep -o '[0-9]*$$') runs)"; \
	  else fail=$$((fail+1)); tail -40 $(FUZZBUILD)/$$t.log; fi; \
	done; \
	echo "fuzz: $$pass passed, $$fail failed"; [ $$fail -eq 0 ]
