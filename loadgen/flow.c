/*
 * Stateful request mixes of the load lab (see lg_flow.h and
 * docs/loadlab.md): the scenario's `request` lines — method, path and body
 * templates, expected statuses, captures — checked when the scenario is
 * parsed (every placeholder a generator or a variable captured by an
 * earlier request, every rendered request within LG_REQ_BYTES), rendered
 * per request for one user or session, and the answer's verdict with its
 * captures (a small bounded JSON scanner: top-level members only).
 */
#define _POSIX_C_SOURCE 200809L
#include "lg_flow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEAD_RESERVE 6144           /* request line and headers, rendered path included */
#define PATH_BOUND 4096             /* a rendered path */
#define BODY_BOUND (LG_REQ_BYTES - HEAD_RESERVE)
#define MAX_DEC_PLACES 6
#define MAX_INT 1000000000000000ull /* 1e15: generator bounds */

enum { M_PATH, M_BODY };

typedef enum { G_VAR, G_UUID, G_USER, G_ITER, G_INT, G_DEC, G_PICK, G_BAD } gen_kind;

/* One {{...}} of a template: its kind, and for G_VAR the variable. */
typedef struct ph {
    gen_kind kind;
    const char *name, *args;    /* into the template; args after ':' */
    size_t name_len, args_len;
    size_t end;                 /* offset just past "}}" */
    int var;
} ph;

static int find_var(const lg_scenario *s, const char *name, size_t n)
{
    for (size_t i = 0; i < s->n_vars; i++)
        if (strlen(s->vars[i]) == n && !memcmp(s->vars[i], name, n))
            return (int)i;
    return -1;
}

static gen_kind gen_of(const char *name, size_t n)
{
    static const struct {
        const char *w;
        gen_kind k;
    } g[] = {{"uuid", G_UUID}, {"user", G_USER}, {"iter", G_ITER}, {"int", G_INT},
             {"dec", G_DEC}, {"pick", G_PICK}};
    for (size_t i = 0; i < sizeof g / sizeof *g; i++)
        if (strlen(g[i].w) == n && !memcmp(g[i].w, name, n))
            return g[i].k;
    return G_VAR;
}

/* The placeholder starting at t[at] ("{{"): 0, or -1 when unterminated. */
static int ph_at(const lg_scenario *s, const char *t, size_t at, ph *p)
{
    const char *in = t + at + 2, *close = strstr(in, "}}");
    if (!close)
        return -1;
    size_t n = (size_t)(close - in), nl = strcspn(in, ":");
    if (nl > n)
        nl = n;
    p->name = in;
    p->name_len = nl;
    p->args = nl < n ? in + nl + 1 : in + n;
    p->args_len = nl < n ? n - nl - 1 : 0;
    p->end = (size_t)(close + 2 - t);
    p->kind = gen_of(in, nl);
    p->var = p->kind == G_VAR ? find_var(s, in, nl) : -1;
    return 0;
}

/* "123" or "12.50": the value times 10^places (places: its fractional
 * digits, at most MAX_DEC_PLACES); -1 if malformed or too large. */
static int decimal(const char *a, size_t n, uint64_t *v, int *places)
{
    uint64_t x = 0;
    int frac = -1, digits = 0;
    for (size_t i = 0; i < n; i++) {
        if (a[i] == '.' && frac < 0 && digits) {
            frac = 0;
            continue;
        }
        if (a[i] < '0' || a[i] > '9' || x > MAX_INT)
            return -1;
        x = x * 10 + (uint64_t)(a[i] - '0');
        digits++;
        if (frac >= 0 && ++frac > MAX_DEC_PLACES)
            return -1;
    }
    if (!digits || frac == 0)
        return -1;
    *v = x;
    *places = frac < 0 ? 0 : frac;
    return 0;
}

static uint64_t pow10u(int k)
{
    uint64_t p = 1;
    while (k-- > 0)
        p *= 10;
    return p;
}

/* int:A:B and dec:A:B: both bounds scaled to the larger number of places. */
static int range(const ph *p, uint64_t *lo, uint64_t *hi, int *places)
{
    const char *c = memchr(p->args, ':', p->args_len);
    if (!c)
        return -1;
    size_t an = (size_t)(c - p->args);
    int pa, pb;
    if (decimal(p->args, an, lo, &pa) || decimal(c + 1, p->args_len - an - 1, hi, &pb))
        return -1;
    if (p->kind == G_INT && (pa || pb))
        return -1;
    *places = pa > pb ? pa : pb;
    *lo *= pow10u(*places - pa);
    *hi *= pow10u(*places - pb);
    return *lo <= *hi && *hi <= MAX_INT ? 0 : -1;
}

/* Checks a template; *bound: the most bytes it can render to. */
static lg_err check_template(const lg_scenario *s, const char *t, int mode, size_t *bound,
                             char *msg, size_t cap)
{
    size_t b = 0, esc = mode == M_PATH ? 3 : 6; /* %XX; \u00XX */
    for (size_t i = 0; t[i];) {
        if (t[i] != '{' || t[i + 1] != '{') {
            b++, i++;
            continue;
        }
        ph p;
        if (ph_at(s, t, i, &p)) {
            snprintf(msg, cap, "request: '{{' without its '}}'");
            return LG_ESYNTAX;
        }
        uint64_t lo, hi;
        int places;
        switch (p.kind) {
        case G_UUID:
        case G_USER:
        case G_ITER:
            if (p.args_len || p.name + p.name_len != p.args) {
                snprintf(msg, cap, "request: {{%.*s}} takes no arguments", (int)p.name_len,
                         p.name);
                return LG_ESYNTAX;
            }
            b += 36;
            break;
        case G_INT:
        case G_DEC:
            if (range(&p, &lo, &hi, &places)) {
                snprintf(msg, cap, "request: {{%.*s:...}}: expected %s:MIN:MAX with 0 <= MIN "
                         "<= MAX <= 1e15%s", (int)p.name_len, p.name, p.kind == G_INT ? "int" : "dec",
                         p.kind == G_INT ? ", integers" : ", at most 6 decimals");
                return LG_ESYNTAX;
            }
            b += 24;
            break;
        case G_PICK:
            if (!p.args_len) {
                snprintf(msg, cap, "request: {{pick:A|B|...}} needs at least one choice");
                return LG_ESYNTAX;
            }
            b += p.args_len * esc;
            break;
        default:
            if (p.var < 0) {
                snprintf(msg, cap, "request: {{%.*s}} is neither a generator (uuid, user, iter, "
                         "int, dec, pick) nor captured by an earlier request",
                         (int)(p.name_len > 40 ? 40 : p.name_len), p.name);
                return LG_ESYNTAX;
            }
            if (p.args_len || p.name + p.name_len != p.args) {
                snprintf(msg, cap, "request: variable {{%s}} takes no arguments", s->vars[p.var]);
                return LG_ESYNTAX;
            }
            b += (LG_VAR_MAX - 1) * esc;
        }
        i = p.end;
    }
    *bound = b;
    return LG_OK;
}

static int valid_word(const char *w, int var)
{
    size_t n = strlen(w);
    if (!n || n >= LG_VAR_NAME)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = w[i];
        int ok = (c >= 'a' && c <= 'z') || c == '_' || (i && c >= '0' && c <= '9') ||
                 (!var && ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                           c == '.'));
        if (!ok)
            return 0;
    }
    return 1;
}

static int printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
            return 0;
    return 1;
}

/* The default name: the path template with each {{x...}} as [x]. */
static void default_name(const lg_scenario *s, const char *path, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; path[i] && o + 1 < cap;) {
        ph p;
        if (path[i] == '{' && path[i + 1] == '{' && !ph_at(s, path, i, &p)) {
            int w = snprintf(out + o, cap - o, "[%.*s]", (int)p.name_len, p.name);
            o = w > 0 && (size_t)w < cap - o ? o + (size_t)w : cap - 1;
            i = p.end;
            continue;
        }
        out[o++] = path[i++];
    }
    out[o] = 0;
}

lg_err lg__request_parse(char **tok, int nt, const char *body, lg_scenario *s, char *msg,
                         size_t cap)
{
    if (s->n_requests == LG_MAX_REQUESTS) {
        snprintf(msg, cap, "more than %d requests", LG_MAX_REQUESTS);
        return LG_ELIMIT;
    }
    lg_request *r = &s->requests[s->n_requests];
    memset(r, 0, sizeof *r);
    static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
    int mok = 0;
    for (size_t i = 0; nt > 1 && i < sizeof methods / sizeof *methods; i++)
        mok |= !strcmp(tok[1], methods[i]);
    if (!mok) {
        snprintf(msg, cap, "request: expected METHOD PATH (GET, POST, PUT, PATCH, DELETE or "
                 "OPTIONS), got '%.20s'", nt > 1 ? tok[1] : "");
        return LG_ESYNTAX;
    }
    snprintf(r->method, sizeof r->method, "%s", tok[1]);
    if (nt < 3 || tok[2][0] != '/' || strlen(tok[2]) >= LG_REQ_PATH || !printable(tok[2])) {
        snprintf(msg, cap, "request: expected a path starting with '/' (at most %d bytes)",
                 LG_REQ_PATH - 1);
        return LG_ESYNTAX;
    }
    snprintf(r->path, sizeof r->path, "%s", tok[2]);
    size_t bound;
    lg_err rc = check_template(s, r->path, M_PATH, &bound, msg, cap);
    if (rc)
        return rc;
    if (bound > PATH_BOUND) {
        snprintf(msg, cap, "request: the path may render to more than %d bytes", PATH_BOUND);
        return LG_ELIMIT;
    }
    int new_vars = 0;
    for (int i = 3; i < nt; i += 2) {
        const char *k = tok[i], *a = i + 1 < nt ? tok[i + 1] : NULL;
        if (!a) {
            snprintf(msg, cap, "request: '%.20s' needs a value", k);
            return LG_ESYNTAX;
        }
        if (!strcmp(k, "name")) {
            if (strlen(a) >= LG_REQ_NAME) {
                snprintf(msg, cap, "request: name longer than %d bytes", LG_REQ_NAME - 1);
                return LG_ESYNTAX;
            }
            memset(r->name, 0, sizeof r->name); /* the last name counts */
            memcpy(r->name, a, strlen(a));
        } else if (!strcmp(k, "expect")) {
            r->n_expect = 0; /* the last expect counts */
            memset(r->expect, 0, sizeof r->expect);
            for (const char *p = a; *p;) {
                char *e;
                long v = strtol(p, &e, 10);
                if (e == p || v < 100 || v > 599 || (*e && *e != ',') ||
                    r->n_expect == LG_MAX_EXPECT || *p == '+' || *p == '-' || *p == ' ') {
                    snprintf(msg, cap, "request: expect: expected statuses 100..599 separated "
                             "by commas (at most %d), got '%.40s'", LG_MAX_EXPECT, a);
                    return LG_ESYNTAX;
                }
                r->expect[r->n_expect++] = (int)v;
                p = *e ? e + 1 : e;
                if (*e && !*p) {
                    snprintf(msg, cap, "request: expect: trailing ',' in '%.40s'", a);
                    return LG_ESYNTAX;
                }
            }
        } else if (!strcmp(k, "capture")) {
            const char *eq = strchr(a, '=');
            char var[LG_VAR_NAME * 2];
            snprintf(var, sizeof var, "%.*s", eq ? (int)(eq - a) : 0, a);
            if (!eq || !valid_word(var, 1) || !valid_word(eq + 1, 0) || gen_of(var, strlen(var))
                != G_VAR) {
                snprintf(msg, cap, "request: capture: expected VAR=FIELD (VAR: a-z 0-9 _, not "
                         "a generator's name; FIELD: the answer's top-level JSON member), got "
                         "'%.40s'", a);
                return LG_ESYNTAX;
            }
            if (r->n_captures == LG_MAX_CAPTURES) {
                snprintf(msg, cap, "request: more than %d captures", LG_MAX_CAPTURES);
                return LG_ELIMIT;
            }
            int v = find_var(s, var, strlen(var));
            if (v < 0) {
                if (s->n_vars == LG_MAX_VARS) {
                    snprintf(msg, cap, "request: more than %d variables", LG_MAX_VARS);
                    return LG_ELIMIT;
                }
                v = (int)s->n_vars;
                memcpy(s->vars[v], var, strlen(var) + 1); /* valid_word: < LG_VAR_NAME */
                s->n_vars++;
                new_vars++; /* not usable in this request's own templates */
            }
            r->cap_var[r->n_captures] = v;
            snprintf(r->cap_field[r->n_captures++], LG_VAR_NAME, "%s", eq + 1);
        } else {
            snprintf(msg, cap, "request: unknown key '%.20s' (expected name, expect, capture "
                     "or body)", k);
            return LG_ESYNTAX;
        }
    }
    if (body) {
        size_t bl = strlen(body);
        while (bl && (body[bl - 1] == ' ' || body[bl - 1] == '\t' || body[bl - 1] == '\r'))
            bl--;
        if (bl >= LG_REQ_BODY) {
            snprintf(msg, cap, "request: body longer than %d bytes", LG_REQ_BODY - 1);
            return LG_ELIMIT;
        }
        memcpy(r->body, body, bl);
        r->body[bl] = 0;
        r->has_body = 1;
        /* this request's own captures are not set yet when it is sent */
        s->n_vars -= (size_t)new_vars;
        rc = check_template(s, r->body, M_BODY, &bound, msg, cap);
        s->n_vars += (size_t)new_vars;
        if (rc)
            return rc;
        if (bound > BODY_BOUND) {
            snprintf(msg, cap, "request: the body may render to more than %d bytes", BODY_BOUND);
            return LG_ELIMIT;
        }
    }
    if (!r->name[0])
        default_name(s, r->path, r->name, sizeof r->name);
    size_t need = HEAD_RESERVE + (r->has_body ? bound : 0) + 1;
    if (need > s->flow_bytes)
        s->flow_bytes = need;
    s->n_requests++;
    return LG_OK;
}

void lg__requests_write(const lg_scenario *s, FILE *f)
{
    for (size_t i = 0; i < s->n_requests; i++) {
        const lg_request *r = &s->requests[i];
        fprintf(f, "request %s %s name %s", r->method, r->path, r->name);
        for (int k = 0; k < r->n_expect; k++)
            fprintf(f, "%s%d", k ? "," : " expect ", r->expect[k]);
        for (int k = 0; k < r->n_captures; k++)
            fprintf(f, " capture %s=%s", s->vars[r->cap_var[k]], r->cap_field[k]);
        if (r->has_body)
            fprintf(f, " body %s", r->body);
        fputc('\n', f);
    }
}

/* ---- rendering ---------------------------------------------------------- */

void lg_sess_init(lg_sess *ss, uint32_t user)
{
    ss->user = user;
    ss->step = 0;
    ss->iter = 1;
    ss->set = 0;
}

typedef struct out {
    char *p;
    size_t n, cap;
    int full;
} out;

static void put(out *o, const char *s, size_t n)
{
    if (o->full || n > o->cap - o->n) {
        o->full = 1;
        return;
    }
    memcpy(o->p + o->n, s, n);
    o->n += n;
}

static void put_value(out *o, const char *v, size_t n, int mode)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        char e[6];
        size_t el = 1;
        e[0] = (char)c;
        if (mode == M_PATH) {
            int keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
            if (!keep) {
                e[0] = '%', e[1] = hex[c >> 4], e[2] = hex[c & 15];
                el = 3;
            }
        } else if (c == '"' || c == '\\') {
            e[0] = '\\', e[1] = (char)c;
            el = 2;
        } else if (c < 0x20 || c == 0x7f) {
            memcpy(e, "\\u00", 4);
            e[4] = hex[c >> 4], e[5] = hex[c & 15];
            el = 6;
        }
        put(o, e, el);
    }
}

static void render(const lg_scenario *s, const lg_sess *ss, const char *t, int mode,
                   uint64_t *rng, out *o)
{
    for (size_t i = 0; t[i] && !o->full;) {
        size_t lit = 0;
        while (t[i + lit] && !(t[i + lit] == '{' && t[i + lit + 1] == '{'))
            lit++;
        put(o, t + i, lit);
        i += lit;
        ph p;
        if (!t[i] || ph_at(s, t, i, &p)) {
            put(o, t + i, strlen(t + i)); /* cannot happen: checked when parsed */
            return;
        }
        i = p.end;
        char v[64];
        int vl = 0;
        uint64_t r = lg_rand(rng), lo, hi;
        int places;
        switch (p.kind) {
        case G_UUID: {
            uint64_t r2 = lg_rand(rng);
            vl = snprintf(v, sizeof v, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(r >> 32),
                          (unsigned)(r >> 16) & 0xffff, (unsigned)r & 0xfff,
                          (unsigned)((r2 >> 48) & 0x3fff) | 0x8000,
                          (unsigned long long)(r2 & 0xffffffffffffull));
            break;
        }
        case G_USER:
            vl = snprintf(v, sizeof v, "%u", ss->user);
            break;
        case G_ITER:
            vl = snprintf(v, sizeof v, "%llu", (unsigned long long)ss->iter);
            break;
        case G_INT:
        case G_DEC: {
            range(&p, &lo, &hi, &places);
            uint64_t x = lo + (hi - lo == UINT64_MAX ? r : r % (hi - lo + 1)), d = pow10u(places);
            if (places)
                vl = snprintf(v, sizeof v, "%llu.%0*llu", (unsigned long long)(x / d), places,
                              (unsigned long long)(x % d));
            else
                vl = snprintf(v, sizeof v, "%llu", (unsigned long long)x);
            break;
        }
        case G_PICK: {
            size_t n = 1;
            for (size_t k = 0; k < p.args_len; k++)
                n += p.args[k] == '|';
            size_t want = (size_t)(r % n), k = 0, at = 0;
            while (k < want)
                k += p.args[at++] == '|';
            size_t cl = 0;
            while (at + cl < p.args_len && p.args[at + cl] != '|')
                cl++;
            put_value(o, p.args + at, cl, mode);
            continue;
        }
        default:
            if (p.var < 0 || !(ss->set & (1u << p.var))) {
                o->full = 1; /* no value: not renderable */
                return;
            }
            put_value(o, ss->val[p.var], ss->len[p.var], mode);
            continue;
        }
        put_value(o, v, vl > 0 ? (size_t)vl : 0, mode);
    }
}

size_t lg_flow_render(const lg_scenario *s, const lg_sess *ss, const char *host, int port,
                      const char *base, uint64_t *rng, char *outp, size_t cap)
{
    if (ss->step >= s->n_requests || cap <= HEAD_RESERVE)
        return 0;
    const lg_request *r = &s->requests[ss->step];
    char path[PATH_BOUND + 1];
    out po = {path, 0, PATH_BOUND, 0};
    render(s, ss, r->path, M_PATH, rng, &po);
    out bo = {outp + HEAD_RESERVE, 0, cap - HEAD_RESERVE, 0};
    if (r->has_body)
        render(s, ss, r->body, M_BODY, rng, &bo);
    if (po.full || bo.full)
        return 0;
    char head[HEAD_RESERVE];
    int hl;
    if (r->has_body)
        hl = snprintf(head, sizeof head,
                      "%s %s%.*s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: nerd-bench\r\n"
                      "Accept: */*\r\nContent-Type: application/json\r\n"
                      "Content-Length: %zu\r\n\r\n",
                      r->method, base, (int)po.n, path, host, port, bo.n);
    else
        hl = snprintf(head, sizeof head,
                      "%s %s%.*s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: nerd-bench\r\n"
                      "Accept: */*\r\n\r\n",
                      r->method, base, (int)po.n, path, host, port);
    if (hl < 0 || (size_t)hl >= sizeof head)
        return 0;
    memmove(outp + hl, outp + HEAD_RESERVE, bo.n);
    memcpy(outp, head, (size_t)hl);
    return (size_t)hl + bo.n;
}

/* ---- answers ------------------------------------------------------------ */

static size_t ws(const char *t, size_t n, size_t i)
{
    while (i < n && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r'))
        i++;
    return i;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static long hex4(const char *t, size_t n, size_t i)
{
    if (i + 4 > n)
        return -1;
    long v = 0;
    for (size_t k = 0; k < 4; k++) {
        int h = hexval(t[i + k]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* The JSON string at t[i] ('"'): its end (past the closing quote), and
 * when o is given its unescaped bytes (o->full when they do not fit);
 * 0 when malformed. */
static size_t jstring(const char *t, size_t n, size_t i, out *o)
{
    for (i++; i < n; i++) {
        unsigned char c = (unsigned char)t[i];
        if (c == '"')
            return i + 1;
        if (c < 0x20)
            return 0;
        if (c != '\\') {
            if (o)
                put(o, t + i, 1);
            continue;
        }
        if (++i >= n)
            return 0;
        char e = t[i], b[4];
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e && simple) {
            static const char map[] = "\"\\/\b\f\n\r\t";
            if (o)
                put(o, &map[simple - "\"\\/bfnrt"], 1);
            continue;
        }
        if (e != 'u')
            return 0;
        long u = hex4(t, n, i + 1);
        if (u < 0)
            return 0;
        i += 4;
        if (u >= 0xd800 && u <= 0xdbff) { /* a surrogate pair */
            long lo = i + 2 < n && t[i + 1] == '\\' && t[i + 2] == 'u' ? hex4(t, n, i + 3) : -1;
            if (lo < 0xdc00 || lo > 0xdfff)
                return 0;
            u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
            i += 6;
        } else if (u >= 0xdc00 && u <= 0xdfff) {
            return 0;
        }
        size_t bl;
        if (u < 0x80) {
            b[0] = (char)u, bl = 1;
        } else if (u < 0x800) {
            b[0] = (char)(0xc0 | (u >> 6)), b[1] = (char)(0x80 | (u & 0x3f)), bl = 2;
        } else if (u < 0x10000) {
            b[0] = (char)(0xe0 | (u >> 12)), b[1] = (char)(0x80 | ((u >> 6) & 0x3f));
            b[2] = (char)(0x80 | (u & 0x3f)), bl = 3;
        } else {
            b[0] = (char)(0xf0 | (u >> 18)), b[1] = (char)(0x80 | ((u >> 12) & 0x3f));
            b[2] = (char)(0x80 | ((u >> 6) & 0x3f)), b[3] = (char)(0x80 | (u & 0x3f)), bl = 4;
        }
        if (o)
            put(o, b, bl);
    }
    return 0;
}

static int scalar_char(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-' || c == '+' ||
           c == '.' || c == 'E';
}

/* Skips the value at t[i]: its end, 0 when malformed.  Containers are
 * skipped by depth, strings by jstring; scalars as a run of their
 * characters (what they are is not checked: only members are read). */
static size_t skip_value(const char *t, size_t n, size_t i)
{
    if (i >= n)
        return 0;
    if (t[i] == '"')
        return jstring(t, n, i, NULL);
    if (t[i] != '{' && t[i] != '[') {
        size_t j = i;
        while (j < n && scalar_char(t[j]))
            j++;
        return j > i ? j : 0;
    }
    size_t depth = 0;
    for (; i < n; i++) {
        char c = t[i];
        if (c == '"') {
            size_t e = jstring(t, n, i, NULL);
            if (!e)
                return 0;
            i = e - 1;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (!--depth)
                return i + 1;
        }
    }
    return 0;
}

long lg_json_member(const char *t, size_t n, const char *field, char *outp, size_t cap)
{
    if (!cap)
        return -1;
    size_t i = ws(t, n, 0), fl = strlen(field);
    if (i >= n || t[i] != '{')
        return -1;
    i = ws(t, n, i + 1);
    if (i < n && t[i] == '}')
        return -1;
    while (i < n && t[i] == '"') {
        char key[LG_VAR_NAME * 2];
        out ko = {key, 0, sizeof key, 0};
        size_t e = jstring(t, n, i, &ko);
        if (!e)
            return -1;
        i = ws(t, n, e);
        if (i >= n || t[i] != ':')
            return -1;
        i = ws(t, n, i + 1);
        if (!ko.full && ko.n == fl && !memcmp(key, field, fl)) {
            out vo = {outp, 0, cap - 1, 0};
            if (i < n && t[i] == '"') {
                if (!jstring(t, n, i, &vo) || vo.full)
                    return -1;
            } else if (i < n && (t[i] == '-' || (t[i] >= '0' && t[i] <= '9'))) {
                size_t j = i;
                while (j < n && ((t[j] >= '0' && t[j] <= '9') || strchr("+-.eE", t[j])) && t[j])
                    j++;
                put(&vo, t + i, j - i);
                if (vo.full)
                    return -1;
            } else {
                return -1;
            }
            outp[vo.n] = 0;
            return (long)vo.n;
        }
        e = skip_value(t, n, i);
        if (!e)
            return -1;
        i = ws(t, n, e);
        if (i < n && t[i] == ',')
            i = ws(t, n, i + 1);
        else
            return -1; /* '}' (the member is not there) or malformed */
    }
    return -1;
}

int lg_flow_done(const lg_scenario *s, lg_sess *ss, int status, const char *body,
                 size_t body_len, char *why, size_t cap)
{
    if (cap)
        why[0] = 0;
    if (ss->step >= s->n_requests) {
        lg_sess_init(ss, ss->user);
        return 0;
    }
    const lg_request *r = &s->requests[ss->step];
    int ok = 0;
    if (status && r->n_expect) {
        for (int k = 0; k < r->n_expect; k++)
            ok |= status == r->expect[k];
        if (!ok && cap) {
            size_t o = (size_t)snprintf(why, cap, "status %d, expected ", status);
            for (int k = 0; k < r->n_expect && o < cap; k++)
                o += (size_t)snprintf(why + o, cap - o, "%s%d", k ? " or " : "", r->expect[k]);
        }
    } else {
        ok = status >= 200 && status <= 299;
    }
    for (int k = 0; ok && k < r->n_captures; k++) {
        int v = r->cap_var[k];
        long l = lg_json_member(body, body_len, r->cap_field[k], ss->val[v], LG_VAR_MAX);
        if (l < 0) {
            ok = 0;
            if (cap)
                snprintf(why, cap, "no \"%s\" in the answer", r->cap_field[k]);
            break;
        }
        ss->len[v] = (uint16_t)l;
        ss->set |= 1u << v;
    }
    ss->step = ok || !r->n_captures ? ss->step + 1 : (uint32_t)s->n_requests;
    if (ss->step >= s->n_requests) {
        ss->step = 0;
        ss->iter++;
        ss->set = 0;
    }
    return ok;
}
