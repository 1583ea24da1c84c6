/*
 * What every request of the DynamoDB service carries: its error (the
 * service's name for it, its __type namespace, status and JSON body, spec
 * §1.3) and its arena, where the request's expressions are allocated and
 * freed together.  Thread safe (no shared state).
 */
#include "ddb_int.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name, *ns;
    int status;
    int capital;        /* the text's member is "Message" */
} CODES[DDB_N_CODES] = {
    [DDB_OK] = {"", "", 200, 0},
    [DDB_EVALIDATION] = {"ValidationException", "com.amazon.coral.validate#", 400, 0},
    [DDB_ECONDITION] = {"ConditionalCheckFailedException", "com.amazonaws.dynamodb.v20120810#",
                        400, 0},
    [DDB_ENOTFOUND] = {"ResourceNotFoundException", "com.amazonaws.dynamodb.v20120810#", 400, 0},
    [DDB_EINUSE] = {"ResourceInUseException", "com.amazonaws.dynamodb.v20120810#", 400, 0},
    [DDB_ECANCELED] = {"TransactionCanceledException", "com.amazonaws.dynamodb.v20120810#", 400,
                       1},
    [DDB_EIDEMPOTENT] = {"IdempotentParameterMismatchException",
                         "com.amazonaws.dynamodb.v20120810#", 400, 0},
    [DDB_ESERIAL] = {"SerializationException", "com.amazon.coral.service#", 400, 1},
    [DDB_EUNKNOWNOP] = {"UnknownOperationException", "com.amazon.coral.service#", 400, 0},
    [DDB_EAUTH] = {"MissingAuthenticationTokenException", "com.amazon.coral.service#", 400, 0},
    [DDB_ESIGNATURE] = {"IncompleteSignatureException", "com.amazon.coral.service#", 400, 0},
    [DDB_EINTERNAL] = {"InternalServerError", "com.amazonaws.dynamodb.v20120810#", 500, 0},
};

int ddb_fail(ddb_err *e, ddb_code c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    e->code = c;
    return c;
}

const char *ddb_strerror(ddb_code c)
{
    return c < DDB_N_CODES ? CODES[c].name : "InternalServerError";
}

const char *ddb_namespace(ddb_code c)
{
    return c < DDB_N_CODES ? CODES[c].ns : "";
}

int ddb_status(ddb_code c)
{
    return c < DDB_N_CODES ? CODES[c].status : 500;
}

/* Texts quote the request (cut at a byte count): a character cut in two,
 * or any byte that is not UTF-8, becomes '?' so the body stays JSON. */
static void utf8_clean(char *s)
{
    unsigned char *u = (unsigned char *)s;
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        size_t k = u[i] < 0x80 ? 1 : (u[i] & 0xE0) == 0xC0 ? 2 : (u[i] & 0xF0) == 0xE0 ? 3
                   : (u[i] & 0xF8) == 0xF0 ? 4 : 0;
        if (k && i + k <= n && jw_utf8(s + i, k)) {
            i += k;
            continue;
        }
        u[i++] = '?';
    }
}

void ddb_err_body(const ddb_err *e, jw *w)
{
    ddb_code c = e->code > 0 && e->code < DDB_N_CODES ? (ddb_code)e->code : DDB_EINTERNAL;
    jw_lit(w, "{\"__type\":\"");
    jw_raw(w, CODES[c].ns, strlen(CODES[c].ns));
    jw_raw(w, CODES[c].name, strlen(CODES[c].name));
    jw_lit(w, "\"");
    if (e->extra)
        jw_raw(w, e->extra, strlen(e->extra));
    if (e->msg[0]) {
        char msg[sizeof e->msg];
        memcpy(msg, e->msg, sizeof msg);
        utf8_clean(msg);
        if (CODES[c].capital)
            jw_lit(w, ",\"Message\":");
        else
            jw_lit(w, ",\"message\":");
        jw_str(w, msg, strlen(msg));
    }
    jw_lit(w, "}");
}

void ddb_err_clear(ddb_err *e)
{
    free(e->extra);
    e->extra = NULL;
    e->code = DDB_OK;
    e->msg[0] = 0;
}

/* ---- arena ---- */

#define BLOCK 8192
#define ARENA_MAX (64u << 20)

struct ddb_blk {
    ddb_blk *next;
    size_t used, cap;
    max_align_t data[];
};

void *ddb_alloc(ddb_arena *a, size_t n)
{
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    if (!n)
        n = sizeof(max_align_t);
    if (n > ARENA_MAX || a->used + n > ARENA_MAX)
        return NULL;
    ddb_blk *b = a->blk;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > BLOCK ? n : BLOCK;
        b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->next = a->blk;
        b->used = 0;
        b->cap = cap;
        a->blk = b;
    }
    void *p = (char *)b->data + b->used;
    b->used += n;
    a->used += n;
    memset(p, 0, n);
    return p;
}

char *ddb_strndup(ddb_arena *a, const char *s, size_t n)
{
    char *p = ddb_alloc(a, n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = 0;
    }
    return p;
}

void ddb_arena_free(ddb_arena *a)
{
    while (a->blk) {
        ddb_blk *b = a->blk;
        a->blk = b->next;
        free(b);
    }
    a->used = 0;
}
