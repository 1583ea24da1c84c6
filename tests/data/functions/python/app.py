"""Python handlers for tests/platform/test_python.sh, run by the platform's
python3.x runtime (runtimes/python/bootstrap.py): what a handler sees
(event, context, environment, sys.path), what it returns (JSON, Decimal,
bytes, unserialisable), what it logs, and how it fails."""
import json
import logging
import os
import sys
import time
from decimal import Decimal

COUNT = 0  # a warm environment keeps it: imported once, at init
print("init app pid=%d" % os.getpid())
logger = logging.getLogger()


def handler(event, context):
    global COUNT
    COUNT += 1
    print("handling %s" % event.get("rawPath", event.get("path", "-")) if isinstance(event, dict) else "handling")
    idn = context.identity
    info = {
        "count": COUNT,
        "event": event,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "aws_request_id": context.aws_request_id,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "identity": [type(idn).__name__, idn.cognito_identity_id, idn.cognito_identity_pool_id],
        "client_context": context.client_context,
        "remaining": context.get_remaining_time_in_millis(),
        "env": {k: os.environ.get(k) for k in (
            "AWS_EXECUTION_ENV", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "_HANDLER", "TZ",
            "LANG", "PATH", "PYTHONPATH", "AWS_LAMBDA_FUNCTION_NAME", "AWS_REGION",
            "AWS_LAMBDA_RUNTIME_API", "GREETING", "_X_AMZN_TRACE_ID", "NERD_LAYER_DIRS", "WRAPPED")},
        "sys_path0": sys.path[0],
        "cwd": os.getcwd(),
        "executable": sys.executable,
    }
    if isinstance(event, dict) and "requestContext" in event:  # through an API: a proxy result
        return {"statusCode": 200, "headers": {"x-runtime": "python"}, "body": json.dumps(info)}
    return info


def fail(event, context):
    raise ValueError("boom")


def marshal(event, context):
    return {"set": {1, 2}}


def raw(event, context):
    return b"raw \x00 bytes"


def decimals(event, context):
    return {"price": Decimal("1.10"), "big": Decimal("12345678901234567890.5"),
            "nan": float("nan"), "inf": float("inf"), "dnan": Decimal("NaN"), "text": "caf\u00e9"}


def logs(event, context):
    print("plain print")
    print("two\nlines")
    logger.warning("a warning %s", "formatted")
    logger.info("an info line")
    logger.error("an error line")
    context.log("context.log line\n")
    sys.stderr.write("to stderr\n")
    return "logged"


def slow(event, context):
    print("sleeping")
    time.sleep(10)
    return "woke"


def crash(event, context):
    print("crashing")
    sys.stdout.flush()
    os._exit(3)


def hog(event, context):
    blocks = [bytearray(1024 * 1024) for _ in range(400)]  # 400 MB, touched
    print("allocated %d MB" % len(blocks))
    return "survived"


def cgroup(event, context):
    """The memory limit and CPU quota of the cgroups this interpreter runs in."""
    def read(path):
        try:
            with open(path) as f:
                return f.read().strip()
        except OSError:
            return None
    out = {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, ctrls, path = line.rstrip("\n").split(":", 2)
            for c in ctrls.split(","):
                if c == "memory":
                    out["memory"] = read("/sys/fs/cgroup/memory%s/memory.limit_in_bytes" % path)
                if c == "cpu":
                    out["cpu"] = read("/sys/fs/cgroup/cpu%s/cpu.cfs_quota_us" % path)
                    out["period"] = read("/sys/fs/cgroup/cpu%s/cpu.cfs_period_us" % path)
            if ctrls == "":  # cgroup v2
                out.setdefault("memory", read("/sys/fs/cgroup%s/memory.max" % path))
                cpu = read("/sys/fs/cgroup%s/cpu.max" % path)
                out.setdefault("cpu", cpu.split()[0] if cpu else None)
                out.setdefault("period", cpu.split()[1] if cpu else None)
    return out


notcallable = 5
