#!/usr/bin/env bash
# The lab's products API in Python (lab/python/app.py, lab/template.yaml with
# ProductsRuntime=python) through tests/function/test_products.sh: the C
# function's behaviour cases through the platform's gateway and its DynamoDB
# service (a free port, data in the test's folder), one INIT_START for all of
# them (a warm environment does not import app again), and app.handler's own
# cases in process (tests/lab/app_checks.py).
NAME=$(basename "$0") NERD_PRODUCTS_RUNTIME=python exec bash tests/function/test_products.sh "$@"
