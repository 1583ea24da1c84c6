#!/usr/bin/env bash
# Debian's AWS CLI (/usr/bin/aws, package awscli; not whatever `aws` comes
# first on PATH) against the Invoke API and the Lambda API of
# `nerd local start-api` (tests/data/functions/gateway.yaml): invoke with
# --log-type Tail (LogResult decodes to the invocation's START..REPORT
# lines and the function's output), a function error (FunctionError
# Unhandled), list-functions (every function of the template, also a page
# at a time), get-function and get-function-configuration (the template's
# configuration; ResourceNotFoundException for an unknown name).  Dummy
# credentials, no configuration files, loopback only.
. tests/lib.sh
if [ ! -x /usr/bin/aws ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq awscli) \
        > /tmp/nerd-awscli.log 2>&1 || give_up "cannot install awscli"
fi
dpkg -S /usr/bin/aws 2>/dev/null | grep -q '^awscli:' && ok || give_up "/usr/bin/aws is not Debian's awscli"
T=tests/data/functions/gateway.yaml
start_gateway --template "$T"
mkdir -p "$tmp/home"
aws() {
    env -u AWS_PROFILE -u AWS_DEFAULT_PROFILE HOME="$tmp/home" AWS_CONFIG_FILE="$tmp/home/none" \
        AWS_SHARED_CREDENTIALS_FILE="$tmp/home/none" AWS_ACCESS_KEY_ID=nerd-local \
        AWS_SECRET_ACCESS_KEY=nerd-local AWS_DEFAULT_REGION=us-east-1 AWS_PAGER= \
        AWS_EC2_METADATA_DISABLED=true AWS_MAX_ATTEMPTS=1 AWS_CLI_AUTO_PROMPT=off \
        /usr/bin/aws --endpoint-url "$url" --no-cli-pager --output json "$@"
}
field() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): d=d[int(k)] if isinstance(d,list) else d[k]
print(d if not isinstance(d,(dict,list)) else json.dumps(d,sort_keys=True))' "$@"; }

# invoke --log-type Tail: the payload, and LogResult = this invocation's log
aws lambda invoke --function-name Echo --log-type Tail --cli-binary-format raw-in-base64-out \
    --payload '{"a":1}' "$tmp/out" > "$tmp/meta" 2> "$tmp/err" && ok || bad "invoke: $(cat "$tmp/err")"
[ "$(cat "$tmp/out")" = '{"echo":{"a":1}}' ] && ok || bad "invoke payload: $(cat "$tmp/out")"
[ "$(field "$tmp/meta" StatusCode)" = 200 ] && [ "$(field "$tmp/meta" ExecutedVersion)" = '$LATEST' ] &&
    ok || bad "invoke metadata: $(cat "$tmp/meta")"
field "$tmp/meta" LogResult | base64 -d > "$tmp/tail"
rid=$(sed -n 's/^START RequestId: \([0-9a-f-]*\) Version: \$LATEST$/\1/p' "$tmp/tail")
[[ "$rid" =~ ^[0-9a-f-]{36}$ ]] && ok || bad "LogResult has no START line: $(cat "$tmp/tail")"
# a cold start: INIT_START and the init output, then START .. REPORT
sed -E -e 's/^(INIT_START) .*/\1/' -e 's/^init mode=echo fn=Echo mem=1769 pid=[0-9]+$/init line/' \
    -e 's/^(REPORT RequestId: [^\t]*)\tDuration: .*\tInit Duration: [0-9.]+ ms\t$/\1 cold/' \
    "$tmp/tail" > "$tmp/got"
printf '%s\n' INIT_START "init line" "START RequestId: $rid Version: \$LATEST" "deadline header ok" \
    "arn header ok" "END RequestId: $rid" "REPORT RequestId: $rid cold" > "$tmp/want"
cmp -s "$tmp/want" "$tmp/got" && ok || bad "LogResult lines: $(diff "$tmp/want" "$tmp/got")"
# warm: START .. REPORT only, the same lines as the gateway's log
aws lambda invoke --function-name Echo --log-type Tail "$tmp/out" > "$tmp/meta" 2> "$tmp/err" &&
    ok || bad "second invoke: $(cat "$tmp/err")"
field "$tmp/meta" LogResult | base64 -d > "$tmp/tail"
rid=$(sed -n 's/^START RequestId: \([0-9a-f-]*\) .*/\1/p' "$tmp/tail")
[ "$(head -1 "$tmp/tail")" = "START RequestId: $rid Version: \$LATEST" ] &&
    [ "$(tail -1 "$tmp/tail" | cut -f1)" = "REPORT RequestId: $rid" ] && ok ||
    bad "warm LogResult: $(cat "$tmp/tail")"
sed -n "/^START RequestId: $rid /,/^REPORT RequestId: $rid\t/p" "$tmp/log" | cmp -s - "$tmp/tail" &&
    ok || bad "LogResult differs from the gateway's log: $(cat "$tmp/tail")"
# without --log-type, no LogResult
aws lambda invoke --function-name Echo "$tmp/out" > "$tmp/meta" 2>&1
grep -q LogResult "$tmp/meta" && bad "LogResult without --log-type Tail" || ok

# a function error: still StatusCode 200, FunctionError Unhandled, the error payload
aws lambda invoke --function-name Error --log-type Tail "$tmp/out" > "$tmp/meta" 2> "$tmp/err" &&
    ok || bad "invoke Error: $(cat "$tmp/err")"
[ "$(field "$tmp/meta" StatusCode) $(field "$tmp/meta" FunctionError)" = "200 Unhandled" ] &&
    ok || bad "FunctionError: $(cat "$tmp/meta")"
[ "$(cat "$tmp/out")" = '{"errorMessage":"bad input","errorType":"Handled"}' ] && ok || bad "error payload: $(cat "$tmp/out")"
field "$tmp/meta" LogResult | base64 -d | grep -q '^END RequestId: ' && ok || bad "error's LogResult"

# list-functions: the template's functions, in its order; also a page at a time
names="Echo Error Sleepy Warm LimitedEcho"
aws lambda list-functions > "$tmp/list" 2> "$tmp/err" && ok || bad "list-functions: $(cat "$tmp/err")"
[ "$(python3 -c 'import json,sys; print(*[f["FunctionName"] for f in json.load(open(sys.argv[1]))["Functions"]])' "$tmp/list")" = "$names" ] &&
    ok || bad "list-functions names: $(head -c 400 "$tmp/list")"
aws lambda list-functions --page-size 2 --query 'Functions[].FunctionName' --output text > "$tmp/pages" 2> "$tmp/err"
[ "$(tr -s '\t\n' '  ' < "$tmp/pages" | sed 's/ $//')" = "$names" ] && ok || bad "paged list-functions: $(cat "$tmp/pages" "$tmp/err")"
aws lambda list-functions --max-items 2 > "$tmp/list2" 2>&1
[ "$(field "$tmp/list2" Functions.1.FunctionName)" = Error ] && grep -q '"NextToken"' "$tmp/list2" &&
    ok || bad "list-functions --max-items 2: $(head -c 300 "$tmp/list2")"

# get-function: Configuration from the template, Code, Tags, Concurrency
aws lambda get-function --function-name Sleepy > "$tmp/get" 2> "$tmp/err" && ok || bad "get-function: $(cat "$tmp/err")"
for kv in Configuration.FunctionName=Sleepy \
          Configuration.FunctionArn=arn:aws:lambda:us-east-1:123456789012:function:Sleepy \
          Configuration.Runtime=provided.al2023 Configuration.MemorySize=1769 Configuration.Timeout=5 \
          Configuration.Environment.Variables.MODE=sleep Configuration.Architectures.0=x86_64 \
          Configuration.PackageType=Zip Configuration.State=Active Configuration.Version='$LATEST' \
          Configuration.LastUpdateStatus=Successful Code.RepositoryType=S3 \
          Concurrency.ReservedConcurrentExecutions=2; do
    [ "$(field "$tmp/get" "${kv%%=*}" 2>&1)" = "${kv#*=}" ] && ok || bad "get-function ${kv%%=*}: $(field "$tmp/get" "${kv%%=*}" 2>&1)"
done
[[ "$(field "$tmp/get" Configuration.LastModified)" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}\+0000$ ]] &&
    ok || bad "LastModified: $(field "$tmp/get" Configuration.LastModified)"
[ "$(field "$tmp/get" Configuration.CodeSize)" = "$(stat -c %s tests/data/functions/modes/bootstrap)" ] &&
    ok || bad "CodeSize: $(field "$tmp/get" Configuration.CodeSize)"
aws lambda get-function-configuration --function-name Echo --query '[FunctionName,MemorySize,Environment.Variables.MODE]' \
    --output text > "$tmp/cfg" 2>&1
[ "$(tr '\t' ' ' < "$tmp/cfg")" = "Echo 1769 echo" ] && ok || bad "get-function-configuration: $(cat "$tmp/cfg")"

# unknown names: ResourceNotFoundException, as Lambda words it
aws lambda get-function --function-name Nope > "$tmp/out" 2> "$tmp/err"; rc=$?
[ $rc -eq 254 ] && grep -qE '^An error occurred \(ResourceNotFoundException\) when calling the GetFunction operation( \(reached max retries: 0\))?: Function not found: arn:aws:lambda:us-east-1:123456789012:function:Nope$' "$tmp/err" &&
    ok || bad "get-function Nope: rc $rc, $(cat "$tmp/err")"
aws lambda invoke --function-name Nope "$tmp/out" > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 254 ] && grep -qE '\(ResourceNotFoundException\) when calling the Invoke operation( \(reached max retries: 0\))?: Function not found: ' "$tmp/err" &&
    ok || bad "invoke Nope: rc $rc, $(cat "$tmp/err")"
aws lambda get-function --function-name Echo --qualifier 7 > /dev/null 2> "$tmp/err"
grep -q 'Function not found: arn:aws:lambda:us-east-1:123456789012:function:Echo:7$' "$tmp/err" && ok || bad "qualifier 7: $(cat "$tmp/err")"
# the raw answer: 404, x-amzn-ErrorType and the error body
curl -s -D "$tmp/h" -o "$tmp/b" "$url/2015-03-31/functions/Nope"
head -1 "$tmp/h" | grep -q '^HTTP/1.1 404' && grep -qi '^x-amzn-errortype: ResourceNotFoundException' "$tmp/h" &&
    [ "$(cat "$tmp/b")" = '{"Type":"User","Message":"Function not found: arn:aws:lambda:us-east-1:123456789012:function:Nope"}' ] &&
    ok || bad "404 answer: $(head -1 "$tmp/h") $(cat "$tmp/b")"
[ "$(curl -s -w ' %{http_code}' "$url/2015-03-31/functions/?MaxItems=0")" = '{"Type":"User","message":"MaxItems must be between 1 and 10000"} 400' ] &&
    ok || bad "MaxItems=0"
finish
