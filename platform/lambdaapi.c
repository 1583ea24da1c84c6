/*
 * The Lambda API front, on the gateway's port: Invoke
 * (POST /2015-03-31/functions/{name}/invocations: RequestResponse through
 * the pools, Event queued for async.c, DryRun), ListFunctions,
 * GetFunction and GetFunctionConfiguration, in the shapes the AWS CLI and
 * SDKs parse (botocore's lambda/2015-03-31 model).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "front.h"

#define GW_ARN "arn:aws:lambda:us-east-1:123456789012:function:"
#define GW_LIST_MAX 50   /* ListFunctions: functions per page, as Lambda */
#define GW_CODE_WALK 100000 /* CodeSize: directory entries looked at, at most */

/* Answers a Lambda API error: status, x-amzn-ErrorType: type and the body
 * botocore's error shape spells ({"Type":"User","message":...}, "Message"
 * for ResourceNotFoundException and ServiceException, "Type":"Service" for
 * 5xx), and frees q. */
static void aws_error(gw_req *q, int status, const char *type, const char *msg)
{
    apigw_response r;
    memset(&r, 0, sizeof r);
    r.headers[0][0] = (char *)"x-amzn-errortype";
    r.headers[0][1] = (char *)type;
    r.n_headers = 1;
    int cap = !strcmp(type, "ResourceNotFoundException") || !strcmp(type, "ServiceException");
    char ascii[1024];
    json_t *probe = json_string(msg);
    if (!probe) { /* not UTF-8 (a name from the path): ASCII only */
        size_t k = 0;
        for (; msg[k] && k < sizeof ascii - 1; k++)
            ascii[k] = (unsigned char)msg[k] < 0x80 ? msg[k] : '?';
        ascii[k] = 0;
        msg = ascii;
    }
    json_decref(probe);
    json_t *j = json_pack("{s:s, s:s}", "Type", status >= 500 ? "Service" : "User",
                          cap ? "Message" : "message", msg);
    char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (body)
        gw_reply(q, status, &r, body, strlen(body));
    else
        gw_reply_msg(q, 500, "Internal Server Error");
    free(body);
}

/* The function a Lambda API path names (its logical id; "function", as
 * RIE's path has it, when the template has one), or -1. */
static int find_function(const gw *g, const char *name)
{
    for (size_t i = 0; i < g->t->n_functions; i++)
        if (!strcmp(g->t->functions[i].name, name) ||
            (!strcmp(name, "function") && g->t->n_functions == 1))
            return (int)i;
    return -1;
}

/* 404 ResourceNotFoundException for name, with Lambda's message. */
static void not_found(gw_req *q, const char *name, const char *qualifier)
{
    char msg[2 * SAM_STR + 128];
    snprintf(msg, sizeof msg, "Function not found: " GW_ARN "%s%s%s", name,
             qualifier ? ":" : "", qualifier ? qualifier : "");
    aws_error(q, 404, "ResourceNotFoundException", msg);
}

/* Adds up the regular files under the directory open at dfd (CodeSize, for
 * want of a zip) and their newest mtime (LastModified); symbolic links to
 * directories are not followed, depth and entries are capped.  Closes dfd. */
static void code_walk(int dfd, int depth, long long *size, time_t *mtime, long *budget)
{
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return;
    }
    struct dirent *de;
    while (*budget > 0 && (de = readdir(d)) != NULL) {
        (*budget)--;
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, 0) != 0)
            continue;
        if (S_ISREG(st.st_mode)) {
            *size += st.st_size;
            if (st.st_mtime > *mtime)
                *mtime = st.st_mtime;
        } else if (S_ISDIR(st.st_mode) && depth < 16) {
            int fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (fd >= 0)
                code_walk(fd, depth + 1, size, mtime, budget);
        }
    }
    closedir(d);
}

/* f's FunctionConfiguration, as Lambda reports a deployed $LATEST: what
 * the template gives (name, runtime, handler, memory, timeout, variables,
 * architecture) and Lambda's fixed answers for the rest (State Active,
 * PackageType Zip, 512 MB /tmp, ...).  full: GetFunction's extra fields. */
static json_t *fn_config(const sam_function *f, int full)
{
    char arn[SAM_STR + 64], role[SAM_STR + 64], group[SAM_STR + 16], lm[40];
    long long size = 0;
    time_t mtime = 0;
    long budget = GW_CODE_WALK;
    int dfd = open(f->code_uri, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0)
        code_walk(dfd, 0, &size, &mtime, &budget);
    if (!mtime)
        mtime = time(NULL);
    struct tm tm;
    gmtime_r(&mtime, &tm);
    strftime(lm, sizeof lm, "%Y-%m-%dT%H:%M:%S.000+0000", &tm);
    snprintf(arn, sizeof arn, GW_ARN "%s", f->name);
    snprintf(role, sizeof role, "arn:aws:iam::123456789012:role/%sRole", f->name);
    snprintf(group, sizeof group, "/aws/lambda/%s", f->name);
    json_t *c = json_object(), *vars = json_object();
    if (!c || !vars) {
        json_decref(c);
        json_decref(vars);
        return NULL;
    }
    json_object_set_new(c, "FunctionName", json_string(f->name));
    json_object_set_new(c, "FunctionArn", json_string(arn));
    json_object_set_new(c, "Runtime", json_string(f->runtime));
    json_object_set_new(c, "Role", json_string(role));
    if (f->handler[0])
        json_object_set_new(c, "Handler", json_string(f->handler));
    json_object_set_new(c, "CodeSize", json_integer(size));
    json_object_set_new(c, "Description", json_string(""));
    json_object_set_new(c, "Timeout", json_integer(f->timeout_s));
    json_object_set_new(c, "MemorySize", json_integer(f->memory_mb));
    json_object_set_new(c, "LastModified", json_string(lm));
    json_object_set_new(c, "Version", json_string("$LATEST"));
    for (size_t i = 0; i < f->n_env; i++)
        json_object_set_new(vars, f->env[i].key, json_string(f->env[i].value));
    if (f->n_env)
        json_object_set_new(c, "Environment", json_pack("{s:O}", "Variables", vars));
    json_decref(vars);
    json_object_set_new(c, "TracingConfig", json_pack("{s:s}", "Mode", "PassThrough"));
    json_object_set_new(c, "State", json_string("Active"));
    json_object_set_new(c, "LastUpdateStatus", json_string("Successful"));
    json_object_set_new(c, "PackageType", json_string("Zip"));
    json_object_set_new(c, "Architectures", json_pack("[s]", f->arch));
    json_object_set_new(c, "EphemeralStorage", json_pack("{s:i}", "Size", 512));
    json_object_set_new(c, "SnapStart", json_pack("{s:s, s:s}", "ApplyOn", "None",
                                                  "OptimizationStatus", "Off"));
    if (full)
        json_object_set_new(c, "RuntimeVersionConfig",
                            json_pack("{s:s}", "RuntimeVersionArn",
                                      "arn:aws:lambda:us-east-1::runtime:nerd-local"));
    json_object_set_new(c, "LoggingConfig", json_pack("{s:s, s:s}", "LogFormat", "Text",
                                                      "LogGroup", group));
    return c;
}

/* Answers 200 with the JSON j (consumed); 500 ServiceException when it is
 * NULL or cannot be written. */
static void reply_json(gw_req *q, json_t *j)
{
    char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!body) {
        aws_error(q, 500, "ServiceException", "out of memory");
        return;
    }
    char id[40];
    clk_uuid4(id);
    apigw_response r;
    memset(&r, 0, sizeof r);
    r.headers[0][0] = (char *)"x-amzn-requestid";
    r.headers[0][1] = id;
    r.n_headers = 1;
    gw_reply(q, 200, &r, body, strlen(body));
    free(body);
}

/* GET /2015-03-31/functions/ (ListFunctions): the template's functions in
 * its order, MaxItems (1..10000) per page, at most 50, NextMarker while
 * more follow (the marker is the next function's index). */
static void list_functions(gw_req *q, const char *qs, size_t ql)
{
    gw *g = q->g;
    char v[32], *end;
    long max = GW_LIST_MAX, from = 0, k;
    if ((k = apigw_query_param(qs, ql, "MaxItems", v, sizeof v)) != -1) {
        max = k > 0 ? strtol(v, &end, 10) : 0;
        if (k <= 0 || *end || max < 1 || max > 10000) {
            aws_error(q, 400, "InvalidParameterValueException",
                      "MaxItems must be between 1 and 10000");
            return;
        }
        if (max > GW_LIST_MAX)
            max = GW_LIST_MAX;
    }
    if ((k = apigw_query_param(qs, ql, "Marker", v, sizeof v)) != -1) {
        from = k > 0 ? strtol(v, &end, 10) : -1;
        if (k <= 0 || *end || from < 0 || from > (long)g->t->n_functions) {
            aws_error(q, 400, "InvalidParameterValueException", "Invalid Marker");
            return;
        }
    }
    json_t *list = json_array(), *out = json_object();
    long stop = from + max < (long)g->t->n_functions ? from + max : (long)g->t->n_functions;
    for (long i = from; list && i < stop; i++)
        if (json_array_append_new(list, fn_config(&g->t->functions[i], 0)) != 0) {
            json_decref(list);
            list = NULL;
        }
    if (!list || !out) {
        json_decref(list);
        json_decref(out);
        reply_json(q, NULL);
        return;
    }
    json_object_set_new(out, "Functions", list);
    if (stop < (long)g->t->n_functions) {
        snprintf(v, sizeof v, "%ld", stop);
        json_object_set_new(out, "NextMarker", json_string(v));
    }
    reply_json(q, out);
}

/* GET /2015-03-31/functions/{name} (GetFunction: Configuration, Code,
 * Tags, Concurrency) and .../{name}/configuration
 * (GetFunctionConfiguration); Qualifier may only be $LATEST. */
static void get_function(gw_req *q, const char *name, int config_only, const char *qs,
                         size_t ql)
{
    gw *g = q->g;
    char qual[64];
    int fi = find_function(g, name);
    long k = apigw_query_param(qs, ql, "Qualifier", qual, sizeof qual);
    if (k == -2) {
        aws_error(q, 400, "InvalidParameterValueException", "Invalid Qualifier");
        return;
    }
    if (fi < 0 || (k >= 0 && strcmp(qual, "$LATEST"))) {
        not_found(q, name, k >= 0 ? qual : NULL);
        return;
    }
    const sam_function *f = &g->t->functions[fi];
    json_t *cfg = fn_config(f, 1);
    if (config_only || !cfg) {
        reply_json(q, cfg);
        return;
    }
    char loc[PATH_MAX + 8];
    char abs[PATH_MAX];
    snprintf(loc, sizeof loc, "file://%s", realpath(f->code_uri, abs) ? abs : f->code_uri);
    json_t *out = json_pack("{s:o, s:{s:s, s:s}, s:{s:s}}", "Configuration", cfg, "Code",
                            "RepositoryType", "S3", "Location", loc, "Tags",
                            "lambda:createdBy", "SAM");
    if (out && f->reserved >= 0)
        json_object_set_new(out, "Concurrency",
                            json_pack("{s:i}", "ReservedConcurrentExecutions", f->reserved));
    reply_json(q, out);
}

/* GET under /2015-03-31/functions (rest: the path after it): "" or "/"
 * ListFunctions, "/NAME" GetFunction, "/NAME/configuration"
 * GetFunctionConfiguration.  Returns 1 (answered), or 0 when rest is none
 * of them. */
static int lambda_get(gw_req *q, const char *rest, const char *qs, size_t ql)
{
    if (!rest[0] || !strcmp(rest, "/")) {
        list_functions(q, qs, ql);
        return 1;
    }
    const char *name = rest + 1, *slash = strchr(name, '/');
    size_t nl = slash ? (size_t)(slash - name) : strlen(name);
    if (rest[0] != '/' || !nl || nl >= SAM_STR || (slash && strcmp(slash, "/configuration")))
        return 0;
    char fn[SAM_STR];
    memcpy(fn, name, nl);
    fn[nl] = 0;
    get_function(q, fn, slash != NULL, qs, ql);
    return 1;
}

/* A RequestResponse invocation through the Invoke API. */
typedef struct inv_call {
    gw_req *q;
    int tail;           /* X-Amz-Log-Type: Tail */
    pool_call pc;
} inv_call;

static void invoke_done(pool_call *pc)
{
    inv_call *k = pc->arg;
    gw_req *q = k->q;
    q->w->pending--;
    lam_result *res = &pc->res;
    if (pc->failed) {
        aws_error(q, 429, "TooManyRequestsException", "Rate Exceeded.");
        free(k);
        return;
    }
    apigw_response r;
    memset(&r, 0, sizeof r);
    int failed = res->outcome != LAM_OK, hn = 0;
    r.headers[hn][0] = (char *)"x-amz-executed-version";
    r.headers[hn++][1] = (char *)"$LATEST";
    r.headers[hn][0] = (char *)"x-amzn-requestid";
    r.headers[hn++][1] = res->request_id;
    if (failed) {
        r.headers[hn][0] = (char *)"x-amz-function-error";
        r.headers[hn++][1] = (char *)"Unhandled";
    }
    char *tail = NULL;
    if (k->tail) {
        size_t tl;
        tail = apigw_b64_encode((const unsigned char *)res->log_tail, res->log_tail_len, &tl);
        if (tail) {
            r.headers[hn][0] = (char *)"x-amz-log-result";
            r.headers[hn++][1] = tail;
        }
    }
    r.n_headers = (size_t)hn;
    gw_reply(q, 200, &r, res->payload ? res->payload : "", res->payload ? res->payload_len : 0);
    free(tail);
    lam_result_fini(res);
    free(k);
}

/* POST /2015-03-31/functions/{name}/invocations, as Lambda's Invoke API
 * answers it (RequestResponse, DryRun; Event is queued after a 202); with
 * X-Amz-Log-Type: Tail a RequestResponse answer carries X-Amz-Log-Result,
 * the base64 of the invocation's last 4 KB of log. */
static void invoke_api(gw_req *q, const char *name)
{
    gw *g = q->g;
    const http_request *hr = q->hr;
    char *buf = q->buf;
    int fi = find_function(g, name);
    apigw_response r;
    memset(&r, 0, sizeof r);
    if (fi < 0) {
        not_found(q, name, NULL);
        return;
    }
    if (hr->body_len > LAM_MAX_PAYLOAD) {
        aws_error(q, 413, "RequestTooLargeException", "Request must be smaller than "
                  "6291456 bytes for the InvokeFunction operation");
        return;
    }
    if (hr->body_len) {
        json_error_t je;
        json_t *j = json_loadb(buf + hr->body, hr->body_len, JSON_DECODE_ANY, &je);
        if (!j) {
            aws_error(q, 400, "InvalidRequestContentException",
                      "Could not parse request body into json");
            return;
        }
        json_decref(j);
    }
    char type[32] = "RequestResponse";
    gw_header(q, "x-amz-invocation-type", type, sizeof type);
    if (!strcmp(type, "DryRun")) {
        r.headers[0][0] = (char *)"x-amz-executed-version";
        r.headers[0][1] = (char *)"$LATEST";
        r.n_headers = 1;
        gw_reply(q, 204, &r, NULL, 0);
        return;
    }
    int event = !strcmp(type, "Event");
    if (!event && strcmp(type, "RequestResponse")) {
        aws_error(q, 400, "InvalidParameterValueException", "Unsupported invocation type");
        return;
    }
    char log_type[16] = "None";
    gw_header(q, "x-amz-log-type", log_type, sizeof log_type);
    const char *ev = hr->body_len ? buf + hr->body : "{}";
    size_t elen = hr->body_len ? hr->body_len : 2;
    if (event) {
        char id[40];
        clk_uuid4(id);
        if (gw_async_submit(g, q->w, fi, ev, elen, id) != 0) {
            aws_error(q, 429, "TooManyRequestsException", "Rate Exceeded.");
            return;
        }
        r.headers[0][0] = (char *)"x-amz-executed-version";
        r.headers[0][1] = (char *)"$LATEST";
        r.headers[1][0] = (char *)"x-amzn-requestid";
        r.headers[1][1] = id;
        r.n_headers = 2;
        gw_reply(q, 202, &r, NULL, 0);
        return;
    }
    inv_call *k = calloc(1, sizeof *k);
    if (!k) {
        aws_error(q, 500, "ServiceException", "out of memory");
        return;
    }
    k->q = q;
    k->tail = !strcmp(log_type, "Tail");
    k->pc.fi = fi;
    k->pc.event = ev; /* in the connection's buffer, kept until answered */
    k->pc.len = elen;
    k->pc.done = invoke_done;
    k->pc.arg = k;
    q->w->pending++;
    if (pool_invoke(g->pools, q->w->id, &k->pc) != 0) {
        q->w->pending--;
        free(k);
        aws_error(q, 429, "TooManyRequestsException", "Rate Exceeded.");
    }
}

static int serve(gw_req *q)
{
    static const char pre[] = "/2015-03-31/functions/", suf[] = "/invocations";
    size_t pl = strlen(q->path), ipl = sizeof pre - 1, isl = sizeof suf - 1;
    const char *path = q->path;
    if (pl > ipl + isl && !memcmp(path, pre, ipl) && !strcmp(path + pl - isl, suf) &&
        !strcmp(q->method, "POST")) {
        char name[SAM_STR];
        snprintf(name, sizeof name, "%.*s", (int)(pl - ipl - isl), path + ipl);
        if (!strchr(name, '/')) {
            invoke_api(q, name);
            return 1;
        }
    }
    if (!strcmp(q->method, "GET") && pl >= ipl - 1 && !memcmp(path, pre, ipl - 1))
        return lambda_get(q, path + ipl - 1, q->query, q->query_len);
    return 0;
}

const gw_front gw_front_lambda = {"lambda", serve};
