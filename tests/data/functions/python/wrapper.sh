#!/bin/sh
# An AWS_LAMBDA_EXEC_WRAPPER script: gets the interpreter and the runtime
# client as its arguments, as AWS's bootstrap passes them.
echo "wrapper ran: $1 $(basename "$2")"
export WRAPPED=yes
exec "$@"
