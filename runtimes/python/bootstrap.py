"""The nerd platform's runtime client for Lambda's python3.x runtimes.

nerd runs it as `PYTHON bootstrap.py` (Debian's /usr/bin/python3 unless
told otherwise: docs/runtimes.md) in the function's CodeUri, as AWS's
/var/runtime/bootstrap runs /var/runtime/bootstrap.py.  Written for this
project in Python's standard library (plus simplejson when installed, as
AWS's client uses it): no AWS code.  It behaves as AWS's awslambdaric
4.0.1 does (../shared/specs/apigw-rest-auth-runtimes.md §5.1-§5.5):
sys.path built as AWS's bootstrap.py builds it (layers in /opt/python, or
in NERD_LAYER_DIRS where nerd cannot mount /opt), the `module.function`
handler imported once at init, the context object, JSON events and results
(Decimal written as its number, NaN allowed), AWS's error documents and
types, the `logging` module's Lambda format and AWS_LAMBDA_LOG_LEVEL /
AWS_LAMBDA_LOG_FORMAT, and the Runtime API on AWS_LAMBDA_RUNTIME_API over
one kept-alive connection.
"""

import os
import sys


def _version_dirs():
    """lib/pythonX.Y/site-packages names: the template's version, then
    this interpreter's when it differs."""
    env = os.environ.get("AWS_EXECUTION_ENV", "")
    names = []
    if env.startswith("AWS_Lambda_python"):
        names.append(env[len("AWS_Lambda_"):])
    own = "python%d.%d" % sys.version_info[:2]
    if own not in names:
        names.append(own)
    return names


def _set_sys_path():
    """As AWS's bootstrap.py: without a PYTHONPATH of the user's, the
    layers' python/lib/python3.N/site-packages and python/ (under /opt,
    or each of NERD_LAYER_DIRS, the last layer first), then the task root
    in front of everything; .pth files processed; PYTHONPATH set to the
    runtime directory for child processes."""
    import site
    task = os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd()
    rtdir = os.environ.get("LAMBDA_RUNTIME_DIR") or os.path.dirname(os.path.abspath(__file__))
    layer_dirs = []
    if "PYTHONPATH" not in os.environ:
        opts = [d for d in os.environ.get("NERD_LAYER_DIRS", "/opt").split(":") if d]
        for o in opts:
            for v in _version_dirs():
                layer_dirs.append(os.path.join(o, "python", "lib", v, "site-packages"))
        layer_dirs += [os.path.join(o, "python") for o in opts]
    for d in reversed(layer_dirs):
        sys.path.insert(0, d)
    sys.path.insert(0, task)
    site.addsitedir(rtdir)
    for d in layer_dirs:
        site.addsitedir(d)
    site.addsitedir(task)
    if "PYTHONPATH" not in os.environ:
        os.environ["PYTHONPATH"] = rtdir


_set_sys_path()

import decimal  # noqa: E402
import importlib  # noqa: E402
import logging  # noqa: E402
import math  # noqa: E402
import socket  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402

try:
    import simplejson as _json
    from simplejson.raw_json import RawJSON as _Raw
except ImportError:  # Debian's python3-simplejson missing: the stdlib, same output
    import json as _json
    _Raw = None

MARSHAL_ERROR = "Runtime.MarshalError"
UNMARSHAL_ERROR = "Runtime.UnmarshalError"
USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"
CONTEXT_UNMARSHAL_ERROR = "Runtime.LambdaContextUnmarshalError"

UNHANDLED_WARNING = (
    "LAMBDA_WARNING: Unhandled exception. The most likely cause is an issue in the function "
    "code. However, in rare cases, a Lambda runtime update can cause unexpected function "
    "behavior. For functions using managed runtimes, runtime updates can be triggered by a "
    "function change, or can be applied automatically. To determine if the runtime has been "
    "updated, check the runtime version in the INIT_START log entry. If this error correlates "
    "with a change in the runtime version, you may be able to mitigate this error by "
    "temporarily rolling back to the previous runtime version. For more information, see "
    "https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html\r")

NBSP = "\u00a0"
JSON_LOGS = (os.environ.get("AWS_LAMBDA_LOG_FORMAT") or "").upper() == "JSON"


class Fault(Exception):
    """An error of the runtime's own kind (Runtime.*), with AWS's message."""

    def __init__(self, error_type, msg, trace=None):
        Exception.__init__(self, msg)
        self.error_type = error_type
        self.msg = msg
        self.trace = trace


# ---- JSON, as AWS's marshaller writes it ----

_ENSURE_ASCII = os.environ.get("AWS_EXECUTION_ENV") not in (
    "AWS_Lambda_python3.12", "AWS_Lambda_python3.13", "AWS_Lambda_python3.14",
    "AWS_Lambda_python3.15")
_DEC = "\u0000nerd-decimal:"


class _Encoder(_json.JSONEncoder):
    """simplejson's encoder with AWS's settings: NaN and Infinity written,
    a Decimal as its number text (Decimal NaN as NaN), non-ASCII escaped
    up to python3.11 and written as UTF-8 from python3.12."""

    def __init__(self):
        kw = {"ensure_ascii": _ENSURE_ASCII, "allow_nan": True}
        if _Raw is not None:
            kw["use_decimal"] = False
        _json.JSONEncoder.__init__(self, **kw)

    def default(self, o):
        if isinstance(o, decimal.Decimal):
            if o.is_nan():
                return math.nan
            if _Raw is not None:
                return _Raw(str(o))
            return _DEC + str(o) + "\u0000"  # replaced in to_json
        return _json.JSONEncoder.default(self, o)


_ENCODER = _Encoder()


def to_json(obj):
    s = _ENCODER.encode(obj)
    if _Raw is None and "\\u0000nerd-decimal:" in s:  # the stdlib fallback
        import re
        s = re.sub(r'"\\u0000nerd-decimal:([^"\\]*)\\u0000"', r"\1", s)
    return s


def unmarshal(body, content_type):
    if content_type != "application/json":
        return body
    try:
        return _json.loads(body)
    except Exception as e:
        raise Fault(UNMARSHAL_ERROR, "Unable to unmarshal input: {}".format(str(e)))


def marshal(result):
    if isinstance(result, bytes):
        return result, "application/unknown"
    try:
        return to_json(result).encode("utf-8"), "application/json"
    except Exception as e:
        raise Fault(MARSHAL_ERROR, "Unable to marshal response: {}".format(str(e)))


# ---- the Runtime API ----

class RuntimeApi(object):
    """HTTP/1.1 to the Runtime API over one kept-alive loopback connection
    (no timeout: /next blocks until an event comes)."""

    def __init__(self, address):
        host, _, port = address.rpartition(":")
        self.addr = (host, int(port))
        self.sock = None
        self.buf = b""
        self.agent = "aws-lambda-python/%d.%d.%d-nerd" % sys.version_info[:3]

    def call(self, method, path, body=b"", headers=None):
        if self.sock is None:
            self.sock = socket.create_connection(self.addr)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.buf = b""
        head = ["%s /2018-06-01/runtime/%s HTTP/1.1" % (method, path),
                "Host: %s:%d" % self.addr, "User-Agent: " + self.agent]
        for k, v in (headers or {}).items():
            head.append("%s: %s" % (k, v))
        if method != "GET":
            head.append("Content-Length: %d" % len(body))
        self.sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        return self._response()

    def _read(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the Runtime API closed the connection")
        self.buf += chunk

    def _response(self):
        while b"\r\n\r\n" not in self.buf:
            self._read()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                while b"\r\n" not in self.buf:
                    self._read()
                size_line, self.buf = self.buf.split(b"\r\n", 1)
                size = int(size_line.split(b";")[0], 16)
                while len(self.buf) < size + 2:
                    self._read()
                body, self.buf = body + self.buf[:size], self.buf[size + 2:]
                if size == 0:
                    break
        else:
            n = int(headers.get("content-length", "0"))
            while len(self.buf) < n:
                self._read()
            body, self.buf = self.buf[:n], self.buf[n:]
        if headers.get("connection", "").lower() == "close":
            self.sock.close()
            self.sock = None
        return status, headers, body

    def post(self, path, body, headers, expect=202):
        status, _, answer = self.call("POST", path, body, headers)
        if status != expect:
            raise RuntimeError("Request to Lambda Runtime '%s' endpoint failed. Reason: '%d'. "
                               "Response body: '%r'" % (path, status, answer))


# ---- the context object ----

class CognitoIdentity(object):
    __slots__ = ["cognito_identity_id", "cognito_identity_pool_id"]

    def __repr__(self):
        return "CognitoIdentity([cognito_identity_id=%s,cognito_identity_pool_id=%s])" % (
            self.cognito_identity_id, self.cognito_identity_pool_id)


class Client(object):
    __slots__ = ["installation_id", "app_title", "app_version_name", "app_version_code",
                 "app_package_name"]

    def __repr__(self):
        return "Client([%s])" % ",".join("%s=%s" % (k, getattr(self, k)) for k in self.__slots__)


class ClientContext(object):
    __slots__ = ["custom", "env", "client"]

    def __repr__(self):
        return "ClientContext([custom=%s,env=%s,client=%s])" % (self.custom, self.env,
                                                                self.client)


def _from_dict(cls, d):
    if d is None:
        return None
    o = cls()
    for k in cls.__slots__:
        setattr(o, k, d.get(k))
    return o


def _parse_header(value, name):
    try:
        return _json.loads(value)
    except Exception as e:
        raise Fault(CONTEXT_UNMARSHAL_ERROR, "Unable to parse {} JSON: {}".format(name, str(e)))


class LambdaContext(object):
    """What a handler gets as `context`: names and values as AWS's (the
    function's from the environment, read per invocation; memory_limit_in_mb
    a string)."""

    def __init__(self, request_id, client_context, identity, deadline_ms, arn, tenant_id):
        env = os.environ
        self.aws_request_id = request_id
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = arn
        self.tenant_id = tenant_id
        self.client_context = _from_dict(ClientContext, client_context)
        if self.client_context is not None:
            self.client_context.client = _from_dict(Client, self.client_context.client)
        self.identity = _from_dict(CognitoIdentity, {})
        if identity is not None:
            self.identity.cognito_identity_id = identity.get("cognitoIdentityId")
            self.identity.cognito_identity_pool_id = identity.get("cognitoIdentityPoolId")
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        left = self._deadline_ms - int(time.time() * 1000)
        return left if left > 0 else 0

    def log(self, msg):
        sys.stdout.write(str(msg))

    def __repr__(self):
        keys = ["aws_request_id", "log_group_name", "log_stream_name", "function_name",
                "memory_limit_in_mb", "function_version", "invoked_function_arn",
                "client_context", "identity", "tenant_id"]
        return "LambdaContext([%s])" % ",".join("%s=%s" % (k, getattr(self, k)) for k in keys)


# ---- logs ----

_REQUEST_ID = None
_TENANT_ID = None


class Unbuffered(object):
    """stdout/stderr flushed on every write, as AWS's client wraps them."""

    def __init__(self, stream):
        self.stream = stream

    def __getattr__(self, attr):
        return getattr(self.stream, attr)

    def write(self, msg):
        self.stream.write(msg)
        self.stream.flush()

    def writelines(self, msgs):
        self.stream.writelines(msgs)
        self.stream.flush()


class _Filter(logging.Filter):
    def filter(self, record):
        record.aws_request_id = _REQUEST_ID or ""
        record.tenant_id = _TENANT_ID
        return True


class _Handler(logging.Handler):
    def emit(self, record):
        sys.stdout.write(self.format(record))


_RESERVED = {"name", "msg", "args", "levelname", "levelno", "pathname", "filename", "module",
             "exc_info", "exc_text", "stack_info", "lineno", "funcName", "created", "msecs",
             "relativeCreated", "thread", "threadName", "processName", "process",
             "aws_request_id", "tenant_id", "_frame_type", "taskName"}


class JsonFormatter(logging.Formatter):
    """AWS_LAMBDA_LOG_FORMAT=JSON: one object per record."""

    def __init__(self):
        import json  # the standard library's, as AWS's formatter uses
        logging.Formatter.__init__(self, datefmt="%Y-%m-%dT%H:%M:%SZ")
        self.enc = json.JSONEncoder(ensure_ascii=False)

    def format(self, record):
        record.levelno = min(50, max(0, record.levelno)) // 10 * 10
        record.levelname = logging.getLevelName(record.levelno)
        exc = record.exc_info
        out = {
            "timestamp": self.formatTime(record, self.datefmt),
            "level": record.levelname,
            "message": record.getMessage(),
            "logger": record.name,
            "stackTrace": traceback.format_tb(exc[2]) if exc else None,
            "errorType": exc[0].__name__ if exc else None,
            "errorMessage": str(exc[1]) if exc else None,
            "requestId": getattr(record, "aws_request_id", None),
            "location": "%s:%s:%s" % (record.pathname, record.funcName, record.lineno)
            if exc else None,
        }
        if getattr(record, "tenant_id", None) is not None:
            out["tenantId"] = record.tenant_id
        for k, v in record.__dict__.items():
            if k not in _RESERVED and k not in out:
                out[k] = v
        return self.enc.encode({k: v for k, v in out.items() if v is not None}) + "\n"


def setup_logging():
    logging.Formatter.converter = time.gmtime
    handler = _Handler()
    if JSON_LOGS:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
            "%Y-%m-%dT%H:%M:%S"))
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL")
    level = {None: "", "TRACE": "DEBUG"}.get(level, level).upper()
    if isinstance(logging.getLevelName(level), int):  # a level's name
        logging.getLogger().setLevel(level)
    handler.addFilter(_Filter())
    logging.getLogger().addHandler(handler)


def log_error(err):
    """An error document as AWS's client logs it: text, one line whose
    parts are joined by \\r (frames indented with no-break spaces); or one
    JSON object."""
    if JSON_LOGS:
        rec = {"timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "log_level": "ERROR"}
        rec.update(err)
        sys.stdout.write(to_json(rec) + "\n")
        return
    desc = "[ERROR]"
    if err.get("errorType"):
        desc += " " + err["errorType"]
    if err.get("errorMessage"):
        desc += (":" if err.get("errorType") else "") + " " + err["errorMessage"]
    lines = [desc]
    if err.get("stackTrace") is not None:
        lines.append("Traceback (most recent call last):")
        for frame in err["stackTrace"]:
            if frame == "":
                lines.append("")
            for line in frame.splitlines():
                stripped = line.lstrip(" ")
                lines.append(NBSP * (len(line) - len(stripped)) + stripped)
    sys.stdout.write("\r".join(lines) + "\n")


# ---- errors ----

def make_error(message, error_type, trace, request_id=None):
    return {"errorMessage": message or "", "errorType": error_type or "",
            "requestId": request_id if request_id is not None else "",
            "stackTrace": trace or []}


def user_frames(tb):
    """The traceback's frames from the first one outside this file."""
    frames = [(f.filename, f.lineno, f.name, f.line) for f in traceback.extract_tb(tb)]
    for i, f in enumerate(frames):
        if "/bootstrap.py" not in f[0]:
            return frames[i:]
    return frames


def exception_error(request_id=None):
    etype, value, tb = sys.exc_info()
    return make_error(str(value), etype.__name__, traceback.format_list(user_frames(tb)),
                      request_id)


def get_handler(handler):
    """module.function (module may be a path: a/b.c) imported as AWS's client
    imports it, with its errors."""
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as e:
        raise Fault(MALFORMED_HANDLER_NAME, "Bad handler '{}': {}".format(handler, str(e)))
    try:
        if modname.split(".")[0] in sys.builtin_module_names:
            raise Fault(BUILT_IN_MODULE_CONFLICT,
                        "Cannot use built-in module {} as a handler module".format(modname))
        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as e:
        raise Fault(IMPORT_MODULE_ERROR,
                    "Unable to import module '{}': {}".format(modname, str(e)))
    except SyntaxError as e:
        trace = ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno, e.text)]
        raise Fault(USER_CODE_SYNTAX_ERROR,
                    "Syntax error in module '{}': {}".format(modname, str(e)), trace)
    try:
        return getattr(module, fname)
    except AttributeError:
        raise Fault(HANDLER_NOT_FOUND,
                    "Handler '{}' missing on module '{}'".format(fname, modname))


# ---- the loop ----

def invoke(api, handler, status_headers_body):
    global _REQUEST_ID, _TENANT_ID
    _, h, body = status_headers_body
    rid = h.get("lambda-runtime-aws-request-id", "")
    _REQUEST_ID = rid
    _TENANT_ID = h.get("lambda-runtime-aws-tenant-id")
    trace_id = h.get("lambda-runtime-trace-id")
    if trace_id is not None:
        os.environ["_X_AMZN_TRACE_ID"] = trace_id
    else:
        os.environ.pop("_X_AMZN_TRACE_ID", None)
    err = None
    try:
        cc = h.get("lambda-runtime-client-context")
        ci = h.get("lambda-runtime-cognito-identity")
        context = LambdaContext(
            rid, _parse_header(cc, "Client Context") if cc else None,
            _parse_header(ci, "Cognito Identity") if ci else None,
            int(h.get("lambda-runtime-deadline-ms", "0")),
            h.get("lambda-runtime-invoked-function-arn"), _TENANT_ID)
        event = unmarshal(body, h.get("content-type"))
        result, ctype = marshal(handler(event, context))
    except Fault as e:
        err = make_error(e.msg, e.error_type, e.trace, rid)
    except Exception:
        err = exception_error(rid)
    if err is not None:
        log_error(err)
        api.post("invocation/%s/error" % rid, to_json(err).encode("utf-8"),
                 {"Content-Type": "application/json"})
    else:
        api.post("invocation/%s/response" % rid, result, {"Content-Type": ctype})


def main():
    sys.stdout = Unbuffered(sys.stdout)
    sys.stderr = Unbuffered(sys.stderr)
    api = RuntimeApi(os.environ["AWS_LAMBDA_RUNTIME_API"])
    err = None
    try:
        setup_logging()
        handler = get_handler(os.environ.get("_HANDLER", ""))
    except Fault as e:
        err = make_error(e.msg, e.error_type, e.trace)
    except Exception:
        etype, value, tb = sys.exc_info()
        err = make_error(str(value), etype.__name__,
                         traceback.format_list(user_frames(tb)))
    if err is not None:
        logging.warning(UNHANDLED_WARNING)
        log_error(err)
        api.post("init/error", to_json(err).encode("utf-8"),
                 {"Content-Type": "application/json",
                  "Lambda-Runtime-Function-Error-Type": err["errorType"]})
        sys.exit(1)
    while True:
        status, headers, body = api.call("GET", "invocation/next")
        if status != 200:
            raise RuntimeError("Request to Lambda Runtime 'next' endpoint failed. Reason: "
                               "'%d'. Response body: '%r'" % (status, body))
        invoke(api, handler, (status, headers, body))


if __name__ == "__main__":
    main()
