/*
 * DynamoDB expressions, read (spec §4): the lexer, document paths and
 * operands shared with update expressions (ddb_update.c), condition,
 * key-condition and filter expressions, projection expressions, and the
 * request's placeholder bookkeeping (§4.7).  Syntax errors read as the
 * service writes them (`Syntax error; token: "=", near: "== :x"`); other
 * problems are collected by kind while parsing and the first in the
 * service's order is reported (redundant parentheses, function names,
 * misused functions, reserved words, placeholders, operand counts and
 * types).  Trees are allocated in the request's arena.  Thread safe.
 */
#include "ddb_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *ddb_kind_name(ddb_kind k)
{
    static const char *const N[] = {"ConditionExpression", "KeyConditionExpression",
                                    "FilterExpression", "ProjectionExpression",
                                    "UpdateExpression"};
    return k <= DDB_X_UPDATE ? N[k] : "";
}

/* ---- lexer ---- */

static int is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_word(int c)
{
    return is_alpha(c) || (c >= '0' && c <= '9') || c == '_';
}

static int keyword(ddb_kind k, const char *s, size_t n)
{
    static const struct { const char *w; int t; int upd; } KW[] = {
        {"AND", DDB_T_AND, 0}, {"OR", DDB_T_OR, 0}, {"NOT", DDB_T_NOT, 0},
        {"BETWEEN", DDB_T_BETWEEN, 0}, {"IN", DDB_T_IN, 0},
        {"SET", DDB_T_SET, 1}, {"REMOVE", DDB_T_REMOVE, 1}, {"ADD", DDB_T_ADD, 1},
        {"DELETE", DDB_T_DELETE, 1}};
    if (k == DDB_X_PROJECTION)
        return DDB_T_NAME;
    for (size_t i = 0; i < sizeof KW / sizeof *KW; i++)
        if (KW[i].upd == (k == DDB_X_UPDATE) && strlen(KW[i].w) == n && !strncasecmp(KW[i].w, s, n))
            return KW[i].t;
    return DDB_T_NAME;
}

int ddb__px_init(ddb__px *p, ddb_arena *a, ddb_ph *ph, ddb_kind k, const char *s, size_t n,
                 ddb_err *e)
{
    memset(p, 0, sizeof *p);
    p->ar = a;
    p->ph = ph;
    p->kind = k;
    p->e = e;
    p->s = s;
    p->n = n;
    p->syn_at = -1;
    if (!n)
        return ddb_fail(e, DDB_EVALIDATION, "Invalid %s: The expression can not be empty;",
                        ddb_kind_name(k));
    if (n > DDB_MAX_EXPR)
        return ddb_fail(e, DDB_EVALIDATION, "Invalid %s: Expression size has exceeded the maximum "
                        "allowed size; expression size: %zu", ddb_kind_name(k), n);
    if (!(p->t = ddb_alloc(a, (n + 1) * sizeof *p->t)))
        return ddb_fail(e, DDB_EINTERNAL, "out of memory");
    size_t i = 0;
    while (i <= n) {
        while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
            i++;
        ddb__tok *t = &p->t[p->nt++];
        t->pos = (unsigned)i;
        if (i == n) {
            t->t = DDB_T_EOF;
            break;
        }
        unsigned char c = (unsigned char)s[i];
        size_t j = i + 1;
        if (is_alpha(c)) {
            while (j < n && is_word((unsigned char)s[j]))
                j++;
            t->t = keyword(k, s + i, j - i);
        } else if ((c == '#' || c == ':') && j < n && is_word((unsigned char)s[j])) {
            while (j < n && is_word((unsigned char)s[j]))
                j++;
            t->t = c == '#' ? DDB_T_HASH : DDB_T_COLON;
        } else if (c >= '0' && c <= '9') {   /* an index: "0", or no leading zero */
            while (c != '0' && j < n && s[j] >= '0' && s[j] <= '9')
                j++;
            t->t = DDB_T_NUM;
        } else if (c == '<' && j < n && (s[j] == '=' || s[j] == '>')) {
            t->t = s[j++] == '=' ? DDB_T_LE : DDB_T_NE;
        } else if (c == '>' && j < n && s[j] == '=') {
            t->t = DDB_T_GE;
            j++;
        } else {
            static const char P[] = "=<>()[],.+-";
            static const int T[] = {DDB_T_EQ, DDB_T_LT, DDB_T_GT, DDB_T_LP, DDB_T_RP, DDB_T_LB,
                                    DDB_T_RB, DDB_T_COMMA, DDB_T_DOT, DDB_T_PLUS, DDB_T_MINUS};
            const char *q = c ? strchr(P, c) : NULL;
            t->t = q ? T[q - P] : DDB_T_BAD;
            if (!q && c >= 0xC0)  /* one UTF-8 character */
                while (j < n && ((unsigned char)s[j] & 0xC0) == 0x80)
                    j++;
        }
        t->len = (unsigned)(j - i);
        i = j;
    }
    return 0;
}

int ddb__at(const ddb__px *p, int t)
{
    return p->t[p->i].t == t;
}

void ddb__syntax(ddb__px *p)
{
    if ((long)p->i > p->syn_at)
        p->syn_at = (long)p->i;
}

void ddb__note(ddb__px *p, int cat, const char *fmt, ...)
{
    if (p->errs[cat])
        return;
    char buf[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (!(p->errs[cat] = ddb_strndup(p->ar, buf, strlen(buf))))
        p->oom = 1;
}

ddb_node *ddb__node(ddb__px *p, ddb_op op, size_t n)
{
    ddb_node *x = ddb_alloc(p->ar, sizeof *x);
    if (x && n && !(x->a = ddb_alloc(p->ar, n * sizeof *x->a)))
        x = NULL;
    if (!x) {
        p->oom = 1;
        return NULL;
    }
    x->op = op;
    x->n = n;
    return x;
}

int ddb__finish(ddb__px *p, const int *order, size_t n_order)
{
    const char *kind = ddb_kind_name(p->kind);
    if (p->oom)
        return ddb_fail(p->e, DDB_EINTERNAL, "out of memory");
    if (p->syn_at >= 0) {
        const ddb__tok *t = &p->t[p->syn_at];
        size_t from = p->syn_at > 0 ? p->t[p->syn_at - 1].pos : t->pos;
        const ddb__tok *nx = t->t != DDB_T_EOF ? &p->t[p->syn_at + 1] : t;
        size_t to = nx->pos + nx->len;
        if (t->t == DDB_T_EOF)
            return ddb_fail(p->e, DDB_EVALIDATION, "Invalid %s: Syntax error; token: \"<EOF>\", "
                            "near: \"%.*s\"", kind, (int)(to - from), p->s + from);
        return ddb_fail(p->e, DDB_EVALIDATION, "Invalid %s: Syntax error; token: \"%.*s\", near: "
                        "\"%.*s\"", kind, (int)t->len, p->s + t->pos, (int)(to - from),
                        p->s + from);
    }
    for (size_t i = 0; i < n_order; i++)
        if (p->errs[order[i]])
            return ddb_fail(p->e, DDB_EVALIDATION, "Invalid %s: %s", kind, p->errs[order[i]]);
    return 0;
}

/* ---- paths and operands ---- */

static int name_element(ddb__px *p, ddb_pel *el)
{
    const ddb__tok *t = &p->t[p->i];
    const char *s = p->s + t->pos;
    el->idx = -1;
    if (t->t == DDB_T_NAME) {
        if (ddb_reserved(s, t->len))
            ddb__note(p, DDB_XE_RESERVED, "Attribute name is a reserved keyword; reserved "
                      "keyword: %.*s", (int)t->len, s);
        el->name = ddb_strndup(p->ar, s, t->len);
        el->nl = t->len;
    } else if (t->t == DDB_T_HASH) {
        int k = p->ph->names ? ddb_map_index(p->ph->names, s, t->len) : -1;
        if (k < 0) {
            ddb__note(p, p->kind == DDB_X_UPDATE ? DDB_XE_NAME : DDB_XE_NAME,
                      "An expression attribute name used in the document path is not defined; "
                      "attribute name: %.*s", (int)t->len, s);
            el->name = ddb_strndup(p->ar, s, t->len);
            el->nl = t->len;
        } else {
            const ddb_val *v = &p->ph->names->m[k].v;
            p->ph->names_used[k] = 1;
            el->name = ddb_strndup(p->ar, v->s, v->n);
            el->nl = v->n;
        }
    } else {
        ddb__syntax(p);
        return -1;
    }
    if (!el->name)
        p->oom = 1;
    p->i++;
    return 0;
}

int ddb__path(ddb__px *p, ddb_path *out)
{
    ddb_pel els[64 + 1];
    size_t n = 0;
    memset(out, 0, sizeof *out);
    if (name_element(p, &els[n++]))
        return -1;
    for (;;) {
        if (ddb__at(p, DDB_T_DOT)) {
            p->i++;
            if (n == 64 || name_element(p, &els[n]))
                return ddb__syntax(p), -1;
            n++;
        } else if (ddb__at(p, DDB_T_LB)) {
            p->i++;
            const ddb__tok *t = &p->t[p->i];
            if (t->t != DDB_T_NUM || t->len > 9 ||
                n == 64)
                return ddb__syntax(p), -1;
            long v = 0;
            for (unsigned k = 0; k < t->len; k++)
                v = v * 10 + (p->s[t->pos + k] - '0');
            p->i++;
            if (!ddb__at(p, DDB_T_RB))
                return ddb__syntax(p), -1;
            p->i++;
            els[n].name = NULL;
            els[n].nl = 0;
            els[n++].idx = v;
        } else {
            break;
        }
    }
    if (!(out->e = ddb_alloc(p->ar, n * sizeof *out->e)))
        return p->oom = 1, -1;
    memcpy(out->e, els, n * sizeof *els);
    out->n = n;
    return 0;
}

static ddb_node *value_node(ddb__px *p)
{
    const ddb__tok *t = &p->t[p->i];
    const char *s = p->s + t->pos;
    ddb_node *x = ddb__node(p, X_VALUE, 0);
    if (!x)
        return NULL;
    int k = p->ph->values ? ddb_map_index(p->ph->values, s, t->len) : -1;
    if (k < 0)
        ddb__note(p, p->kind == DDB_X_UPDATE ? DDB_XE_VALUE : DDB_XE_NAME,
                  "An expression attribute value used in expression is not defined; attribute "
                  "value: %.*s", (int)t->len, s);
    else {
        p->ph->values_used[k] = 1;
        x->val = &p->ph->values->m[k].v;
    }
    p->i++;
    return x;
}

static ddb_node *operand(ddb__px *p, const ddb__tok *t);

static ddb_op function_op(const char *name, size_t n)
{
    static const struct { const char *n; ddb_op op; } F[] = {
        {"attribute_exists", X_EXISTS}, {"attribute_not_exists", X_NOT_EXISTS},
        {"attribute_type", X_ATTR_TYPE}, {"begins_with", X_BEGINS}, {"contains", X_CONTAINS},
        {"size", X_SIZE}, {"if_not_exists", X_IFNE}, {"list_append", X_APPEND}};
    for (size_t i = 0; i < sizeof F / sizeof *F; i++)
        if (strlen(F[i].n) == n && !memcmp(F[i].n, name, n))
            return F[i].op;
    return X_FUNC;
}

ddb_node *ddb__operand(ddb__px *p)
{
    const ddb__tok *t = &p->t[p->i];
    if (p->depth >= DDB_MAX_NESTING)
        return ddb__syntax(p), NULL;
    p->depth++;
    ddb_node *x = operand(p, t);
    p->depth--;
    return x;
}

/* Comma-separated operands up to ')', consumed: the first cap-*n kept in
 * args from *n on, all counted.  The count, or -1 on an error. */
static long operand_list(ddb__px *p, ddb_node **args, size_t *n, size_t cap)
{
    long total = 0;
    for (;;) {
        ddb_node *a = ddb__operand(p);
        if (!a)
            return -1;
        total++;
        if (*n < cap)
            args[(*n)++] = a;
        if (!ddb__at(p, DDB_T_COMMA))
            break;
        p->i++;
    }
    if (!ddb__at(p, DDB_T_RP))
        return ddb__syntax(p), -1;
    p->i++;
    return total;
}

static ddb_node *operand(ddb__px *p, const ddb__tok *t)
{
    if (t->t == DDB_T_LP) {
        p->i++;
        ddb_node *x = ddb__operand(p);
        if (!x)
            return NULL;
        if (!ddb__at(p, DDB_T_RP))
            return ddb__syntax(p), NULL;
        p->i++;
        x->parens++;
        return x;
    }
    if (t->t == DDB_T_COLON)
        return value_node(p);
    if (t->t == DDB_T_NAME && p->t[p->i + 1].t == DDB_T_LP) {
        ddb_node *args[8];
        size_t n = 0, total = 0;
        const char *name = ddb_strndup(p->ar, p->s + t->pos, t->len);
        ddb_op op = function_op(p->s + t->pos, t->len);
        p->i += 2;
        p->nops++;
        long got = operand_list(p, args, &n, sizeof args / sizeof *args);
        if (got < 0)
            return NULL;
        total = (size_t)got;
        ddb_node *x = ddb__node(p, op, n);
        if (!x)
            return NULL;
        memcpy(x->a, args, n * sizeof *args);
        x->fname = name;
        x->nargs = total;
        return x;
    }
    if (t->t == DDB_T_NAME || t->t == DDB_T_HASH) {
        ddb_node *x = ddb__node(p, X_PATH, 0);
        if (!x || ddb__path(p, &x->path))
            return NULL;
        return x;
    }
    ddb__syntax(p);
    return NULL;
}

void ddb_path_text(const ddb_path *p, char *out, size_t cap)
{
    size_t o = (size_t)snprintf(out, cap, "[");
    for (size_t i = 0; i < p->n && o < cap; i++) {
        if (p->e[i].idx >= 0)
            o += (size_t)snprintf(out + o, cap - o, "%s[%ld]", i ? ", " : "", p->e[i].idx);
        else
            o += (size_t)snprintf(out + o, cap - o, "%s%.*s", i ? ", " : "", (int)p->e[i].nl,
                                  p->e[i].name);
    }
    if (o < cap)
        snprintf(out + o, cap - o, "]");
}

void ddb__paths_overlap(ddb__px *p, const ddb_path *a, const ddb_path *b)
{
    char x[600], y[600];
    for (size_t i = 0; i < a->n && i < b->n; i++) {
        int ia = a->e[i].idx >= 0, ib = b->e[i].idx >= 0;
        if (ia != ib) {
            ddb_path_text(a, x, sizeof x);
            ddb_path_text(b, y, sizeof y);
            ddb__note(p, DDB_XE_CONFLICT, "Two document paths conflict with each other; must "
                      "remove or rewrite one of these paths; path one: %s, path two: %s", x, y);
            return;
        }
        if (ia ? a->e[i].idx != b->e[i].idx
               : a->e[i].nl != b->e[i].nl || memcmp(a->e[i].name, b->e[i].name, a->e[i].nl))
            return;
    }
    ddb_path_text(a, x, sizeof x);
    ddb_path_text(b, y, sizeof y);
    ddb__note(p, DDB_XE_OVERLAP, "Two document paths overlap with each other; must remove or "
              "rewrite one of these paths; path one: %s, path two: %s", x, y);
}

/* ---- conditions ---- */

static ddb_node *cond_or(ddb__px *p);

static int is_cmp(int t)
{
    return t >= DDB_T_EQ && t <= DDB_T_GE;
}

static ddb_node *comparison(ddb__px *p)
{
    ddb_node *l = ddb__operand(p);
    if (!l)
        return NULL;
    int t = p->t[p->i].t;
    if (is_cmp(t)) {
        static const ddb_op OPS[] = {X_EQ, X_NE, X_LT, X_LE, X_GT, X_GE};
        p->i++;
        ddb_node *r = ddb__operand(p), *x = r ? ddb__node(p, OPS[t - DDB_T_EQ], 2) : NULL;
        if (!x)
            return NULL;
        x->a[0] = l;
        x->a[1] = r;
        return x;
    }
    if (t == DDB_T_BETWEEN) {
        p->i++;
        ddb_node *lo = ddb__operand(p);
        if (!lo)
            return NULL;
        if (!ddb__at(p, DDB_T_AND))
            return ddb__syntax(p), NULL;
        p->i++;
        ddb_node *hi = ddb__operand(p), *x = hi ? ddb__node(p, X_BETWEEN, 3) : NULL;
        if (!x)
            return NULL;
        x->a[0] = l;
        x->a[1] = lo;
        x->a[2] = hi;
        return x;
    }
    if (t == DDB_T_IN) {
        p->i++;
        if (!ddb__at(p, DDB_T_LP))
            return ddb__syntax(p), NULL;
        p->i++;
        ddb_node *args[DDB_MAX_IN + 2];
        size_t n = 0, total = 0;
        args[n++] = l;
        long got = operand_list(p, args, &n, DDB_MAX_IN + 2);
        if (got < 0)
            return NULL;
        total = (size_t)got;
        if (total > DDB_MAX_IN)
            ddb__note(p, DDB_XE_OPERAND, "The IN operator is provided with too many operands; "
                      "number of operands: %zu", total);
        ddb_node *x = ddb__node(p, X_IN, n);
        if (!x)
            return NULL;
        memcpy(x->a, args, n * sizeof *args);
        return x;
    }
    if (l->op == X_PATH || l->op == X_VALUE) {
        ddb__syntax(p);
        return NULL;
    }
    return l;   /* a function call as a condition */
}

static ddb_node *cond_prim(ddb__px *p)
{
    if (p->depth >= DDB_MAX_NESTING)
        return ddb__syntax(p), NULL;
    if (ddb__at(p, DDB_T_LP)) {
        size_t save = p->i;
        long syn0 = p->syn_at;
        p->i++;
        p->depth++;
        ddb_node *x = cond_or(p);
        p->depth--;
        if (x && ddb__at(p, DDB_T_RP)) {
            p->i++;
            int t = p->t[p->i].t;
            if (!is_cmp(t) && t != DDB_T_BETWEEN && t != DDB_T_IN) {
                x->parens++;
                return x;
            }
        } else if (x) {
            ddb__syntax(p);
        }
        /* "(a) = :v": a parenthesized operand; the error of the first
         * reading counts only if this one fails too, and not as far */
        long syn1 = p->syn_at;
        p->i = save;
        p->syn_at = syn0;
        x = comparison(p);
        if (!x && syn1 > p->syn_at)
            p->syn_at = syn1;
        return x;
    }
    return comparison(p);
}

static ddb_node *cond_not(ddb__px *p)
{
    if (ddb__at(p, DDB_T_NOT)) {
        if (p->depth >= DDB_MAX_NESTING)
            return ddb__syntax(p), NULL;
        p->i++;
        p->depth++;
        ddb_node *a = cond_not(p), *x = a ? ddb__node(p, X_NOT, 1) : NULL;
        p->depth--;
        if (x)
            x->a[0] = a;
        return x;
    }
    return cond_prim(p);
}

/* sub (op sub)*: AND over NOTs, OR over ANDs, left to right. */
static ddb_node *chain(ddb__px *p, ddb_node *(*sub)(ddb__px *), int tok, ddb_op op)
{
    ddb_node *l = sub(p);
    while (l && ddb__at(p, tok)) {
        p->i++;
        ddb_node *r = sub(p), *x = r ? ddb__node(p, op, 2) : NULL;
        if (!x)
            return NULL;
        x->a[0] = l;
        x->a[1] = r;
        l = x;
    }
    return l;
}

static ddb_node *cond_and(ddb__px *p)
{
    return chain(p, cond_not, DDB_T_AND, X_AND);
}

static ddb_node *cond_or(ddb__px *p)
{
    return chain(p, cond_and, DDB_T_OR, X_OR);
}

/* ---- checks on a parsed condition ---- */

static int path_eq(const ddb_path *a, const ddb_path *b)
{
    if (a->n != b->n)
        return 0;
    for (size_t i = 0; i < a->n; i++) {
        if (a->e[i].idx != b->e[i].idx || a->e[i].nl != b->e[i].nl ||
            (a->e[i].name && memcmp(a->e[i].name, b->e[i].name, a->e[i].nl)))
            return 0;
    }
    return 1;
}

static const char *op_text(ddb_op op, const ddb_node *x)
{
    static const char *const T[] = {[X_EQ] = "=", [X_NE] = "<>", [X_LT] = "<", [X_LE] = "<=",
                                    [X_GT] = ">", [X_GE] = ">=", [X_BETWEEN] = "BETWEEN",
                                    [X_IN] = "IN"};
    if (op >= X_EQ && op <= X_IN)
        return T[op];
    return x->fname ? x->fname : "";
}

static void distinct(ddb__px *p, const ddb_node *x)
{
    if (x->n != 2 || x->a[0]->op != X_PATH || x->a[1]->op != X_PATH ||
        !path_eq(&x->a[0]->path, &x->a[1]->path))
        return;
    char t[600];
    ddb_path_text(&x->a[0]->path, t, sizeof t);
    ddb__note(p, DDB_XE_DISTINCT, "The first operand must be distinct from the remaining operands "
              "for this operator or function; operator: %s, first operand: %s", op_text(x->op, x),
              t);
}

/* An operand's type when known before evaluation (a :value, size()). */
static ddb_type static_type(const ddb_node *x)
{
    if (x->op == X_VALUE && x->val)
        return x->val->type;
    if (x->op == X_SIZE)
        return DDB_N;
    return DDB_NONE;
}

static void check_function(ddb__px *p, ddb_node *x)
{
    static const struct { ddb_op op; size_t n; } ARITY[] = {
        {X_EXISTS, 1}, {X_NOT_EXISTS, 1}, {X_ATTR_TYPE, 2}, {X_BEGINS, 2}, {X_CONTAINS, 2},
        {X_SIZE, 1}};
    size_t want = 0;
    for (size_t i = 0; i < sizeof ARITY / sizeof *ARITY; i++)
        if (ARITY[i].op == x->op)
            want = ARITY[i].n;
    if (!want) {
        ddb__note(p, DDB_XE_FUNCNAME, "Invalid function name; function: %s", x->fname);
        return;
    }
    if (x->nargs != want) {
        ddb__note(p, DDB_XE_OPERAND, "Incorrect number of operands for operator or function; "
                  "operator or function: %s, number of operands: %zu", x->fname, x->nargs);
        return;
    }
    distinct(p, x);
    switch (x->op) {
    case X_EXISTS:
    case X_NOT_EXISTS:
        if (x->a[0]->op != X_PATH)
            ddb__note(p, DDB_XE_FUNCTION, "Operator or function requires a document path; "
                      "operator or function: %s", x->fname);
        break;
    case X_BEGINS:
        for (size_t i = 0; i < 2; i++) {
            ddb_type t = static_type(x->a[i]);
            if (t && t != DDB_S && t != DDB_B) {
                ddb__note(p, DDB_XE_FUNCTION, "Incorrect operand type for operator or function; "
                          "operator or function: %s, operand type: %s", x->fname,
                          ddb_type_name(t));
                break;
            }
        }
        break;
    case X_ATTR_TYPE: {
        ddb_type t = static_type(x->a[1]);
        if (t != DDB_S) {
            ddb__note(p, DDB_XE_FUNCTION, "Incorrect operand type for operator or function; "
                      "operator or function: %s, operand type: %s", x->fname,
                      t ? ddb_type_name(t) : "{NS,SS,L,BS,N,M,B,BOOL,NULL,S}");
        } else if (!ddb_type_of(x->a[1]->val->s, x->a[1]->val->n)) {
            ddb__note(p, DDB_XE_FUNCTION, "Invalid attribute type name found; type: %.*s, valid "
                      "types: {N,BS,L,B,NULL,M,S,SS,NS,BOOL}", (int)x->a[1]->val->n,
                      x->a[1]->val->s);
        }
        break;
    }
    case X_SIZE: {
        ddb_type t = static_type(x->a[0]);
        if (t == DDB_N || t == DDB_BOOL || t == DDB_NULL)
            ddb__note(p, DDB_XE_FUNCTION, "Incorrect operand type for operator or function; "
                      "operator or function: %s, operand type: %s", x->fname, ddb_type_name(t));
        break;
    }
    default:
        break;
    }
}

static void misused(ddb__px *p, const ddb_node *operand)
{
    if (operand->fname && operand->op != X_SIZE)
        ddb__note(p, DDB_XE_MISUSED, "The function is not allowed to be used this way in an "
                  "expression; function: %s", operand->fname);
}

static void between_bounds(ddb__px *p, const ddb_node *lo, const ddb_node *hi)
{
    if (lo->op != X_VALUE || hi->op != X_VALUE || !lo->val || !hi->val)
        return;
    const ddb_val *a = lo->val, *b = hi->val;
    char x[300], y[300];
    const char *ta = ddb_type_name(a->type), *tb = ddb_type_name(b->type);
    snprintf(x, sizeof x, "%.*s", a->s ? (int)(a->n < 200 ? a->n : 200) : 0, a->s ? a->s : "");
    snprintf(y, sizeof y, "%.*s", b->s ? (int)(b->n < 200 ? b->n : 200) : 0, b->s ? b->s : "");
    if (a->type != b->type)
        ddb__note(p, DDB_XE_FUNCTION, "The BETWEEN operator requires same data type for lower and "
                  "upper bounds; lower bound operand: AttributeValue: {%s:%s}, upper bound "
                  "operand: AttributeValue: {%s:%s}", ta, x, tb, y);
    else if ((a->type == DDB_S || a->type == DDB_N || a->type == DDB_B) && ddb_val_cmp(a, b) > 0)
        ddb__note(p, DDB_XE_FUNCTION, "The BETWEEN operator requires upper bound to be greater "
                  "than or equal to lower bound; lower bound operand: AttributeValue: {%s:%s}, "
                  "upper bound operand: AttributeValue: {%s:%s}", ta, x, tb, y);
}

/* Walks an operand (functions inside it). */
static void check_operand(ddb__px *p, ddb_node *x)
{
    if (x->parens > 1)
        ddb__note(p, DDB_XE_PARENS, "The expression has redundant parentheses;");
    if (x->fname) {
        for (size_t i = 0; i < x->n; i++) {
            misused(p, x->a[i]);
            check_operand(p, x->a[i]);
        }
        check_function(p, x);
    }
}

static void check_cond(ddb__px *p, ddb_node *x)
{
    if (x->parens > 1)
        ddb__note(p, DDB_XE_PARENS, "The expression has redundant parentheses;");
    switch (x->op) {
    case X_AND:
    case X_OR:
    case X_NOT:
        for (size_t i = 0; i < x->n; i++) {
            if (x->a[i]->op == X_SIZE)
                ddb__note(p, DDB_XE_MISUSED, "The function is not allowed to be used this way in "
                          "an expression; function: size");
            check_cond(p, x->a[i]);
        }
        return;
    case X_EQ: case X_NE: case X_LT: case X_LE: case X_GT: case X_GE:
    case X_BETWEEN: case X_IN:
        for (size_t i = 0; i < x->n; i++) {
            misused(p, x->a[i]);
            check_operand(p, x->a[i]);
        }
        if (x->op <= X_GE)
            distinct(p, x);
        if (x->op == X_BETWEEN)
            between_bounds(p, x->a[1], x->a[2]);
        return;
    default:
        check_operand(p, x);
        if (x->op == X_SIZE)
            ddb__note(p, DDB_XE_MISUSED, "The function is not allowed to be used this way in an "
                      "expression; function: size");
        return;
    }
}

int ddb_parse_condition(ddb_arena *a, ddb_ph *ph, ddb_kind k, const char *text, size_t n,
                        ddb_node **out, ddb_err *e)
{
    static const int ORDER[] = {DDB_XE_PARENS, DDB_XE_FUNCNAME, DDB_XE_MISUSED, DDB_XE_RESERVED,
                                DDB_XE_NAME, DDB_XE_OPERAND, DDB_XE_DISTINCT, DDB_XE_FUNCTION};
    ddb__px p;
    *out = NULL;
    if (ddb__px_init(&p, a, ph, k, text, n, e))
        return e->code;
    ddb_node *x = cond_or(&p);
    if (x && !ddb__at(&p, DDB_T_EOF))
        ddb__syntax(&p);
    else if (x)
        check_cond(&p, x);
    else if (p.syn_at < 0 && !p.oom)
        ddb__syntax(&p);
    if (ddb__finish(&p, ORDER, sizeof ORDER / sizeof *ORDER))
        return e->code;
    *out = x;
    return 0;
}

/* ---- projections ---- */

int ddb_parse_projection(ddb_arena *a, ddb_ph *ph, const char *text, size_t n, ddb_proj *out,
                         ddb_err *e)
{
    static const int ORDER[] = {DDB_XE_RESERVED, DDB_XE_NAME, DDB_XE_OVERLAP, DDB_XE_CONFLICT};
    ddb__px p;
    memset(out, 0, sizeof *out);
    if (ddb__px_init(&p, a, ph, DDB_X_PROJECTION, text, n, e))
        return e->code;
    size_t cap = 16;
    ddb_path *paths = ddb_alloc(a, cap * sizeof *paths);
    if (!paths)
        return ddb_fail(e, DDB_EINTERNAL, "out of memory");
    for (;;) {
        if (out->n == cap) {
            ddb_path *more = ddb_alloc(a, 2 * cap * sizeof *more);
            if (!more)
                return ddb_fail(e, DDB_EINTERNAL, "out of memory");
            memcpy(more, paths, cap * sizeof *more);
            paths = more;
            cap *= 2;
        }
        if (ddb__path(&p, &paths[out->n]))
            break;
        out->n++;
        if (!ddb__at(&p, DDB_T_COMMA)) {
            if (!ddb__at(&p, DDB_T_EOF))
                ddb__syntax(&p);
            break;
        }
        p.i++;
    }
    for (size_t i = 0; p.syn_at < 0 && i < out->n; i++)
        for (size_t j = 0; j < i; j++)
            ddb__paths_overlap(&p, &paths[j], &paths[i]);
    if (ddb__finish(&p, ORDER, sizeof ORDER / sizeof *ORDER))
        return e->code;
    out->p = paths;
    return 0;
}

/* ---- placeholders ---- */

int ddb_ph_unused(const ddb_ph *ph, ddb_err *e)
{
    char keys[1200];
    for (int which = 0; which < 2; which++) {
        const ddb_val *m = which ? ph->values : ph->names;
        const unsigned char *used = which ? ph->values_used : ph->names_used;
        size_t o = 0;
        keys[0] = 0;
        for (size_t i = 0; m && i < m->n; i++)
            if (!used[i] && o < sizeof keys)
                o += (size_t)snprintf(keys + o, sizeof keys - o, "%s%s", o ? ", " : "",
                                      m->m[i].k);
        if (o)
            return ddb_fail(e, DDB_EVALIDATION, "Value provided in %s unused in expressions: keys: "
                            "{%s}", which ? "ExpressionAttributeValues" : "ExpressionAttributeNames",
                            keys);
    }
    return 0;
}
