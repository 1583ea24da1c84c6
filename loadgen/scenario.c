/*
 * Scenario files of the load lab (see lg_scenario.h and docs/loadlab.md):
 * a line-oriented parser with line-numbered errors, the lookup of built-in
 * scenarios (embedded from the scenarios/ folder), --time-scale and a writer of
 * the canonical form.  Stage fields left unset (-1) while parsing take the
 * file's defaults at the end, so directives may come in any order.
 */
#define _POSIX_C_SOURCE 200809L
#include "lg_scenario.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifdef LG_NO_BUILTINS
const lg__scn_src lg__scn_builtin[1] = {{"", "", 0}};
const size_t lg__scn_builtin_n = 0;
#endif

#define MAX_TOKENS 32
#define UNSET (-1.0)

typedef struct pctx {
    const char *source;
    int line;
    char *err;
    size_t errcap;
} pctx;

__attribute__((format(printf, 2, 3))) static lg_err perr(pctx *c, const char *fmt, ...)
{
    if (c->err && c->errcap) {
        int n = snprintf(c->err, c->errcap, "%s:%d: ", c->source, c->line);
        if (n >= 0 && (size_t)n < c->errcap) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(c->err + n, c->errcap - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return LG_ESYNTAX;
}

/* A non-negative decimal number "12", "0.5", ".5" (no sign, exponent,
 * hex, inf or nan), read to 12 fractional digits; *end after it.  -1 when
 * there is none. */
static double number(const char *s, const char **end)
{
    double v = 0, scale = 1;
    int digits = 0;
    const char *p = s;
    *end = s;
    for (; *p >= '0' && *p <= '9'; p++, digits++)
        if (digits < 18)
            v = v * 10 + (*p - '0');
        else
            return -1;
    if (*p == '.') {
        p++;
        for (int frac = 0; *p >= '0' && *p <= '9'; p++, digits++, frac++)
            if (frac < 12) { /* the digits lg_scenario_write keeps */
                scale /= 10;
                v += (*p - '0') * scale;
            }
    }
    *end = p;
    return digits ? v : -1;
}

/* Duration "90", "90s", "1.5m", "250ms", "2h" in seconds, rounded to the
 * nanosecond (so a written scenario reads back to the same values, and
 * one under half a nanosecond is 0); -1 if malformed. */
static double duration(const char *s)
{
    const char *e;
    double v = number(s, &e);
    if (v < 0)
        return -1;
    if (!*e || !strcmp(e, "s"))
        ;
    else if (!strcmp(e, "ms"))
        v /= 1000;
    else if (!strcmp(e, "m"))
        v *= 60;
    else if (!strcmp(e, "h"))
        v *= 3600;
    else
        return -1;
    return round(v * 1e9) / 1e9;
}

static double plain(const char *s)
{
    const char *e;
    double v = number(s, &e);
    return *e ? -1 : v;
}

static int is_number(const char *s)
{
    return plain(s) >= 0;
}

static void stage_unset(lg_stage *st)
{
    st->duration = UNSET;
    st->users = -1;
    st->spawn_rate = UNSET;
    st->think_min = st->think_max = UNSET;
    st->rate_from = st->rate_to = UNSET;
}

static lg_err think_pair(pctx *c, const char *a, const char *b, double *lo, double *hi)
{
    double x = a ? duration(a) : -1, y = b ? duration(b) : -1;
    if (x < 0 || y < 0)
        return perr(c, "think: expected MIN MAX durations (e.g. 'think 0.2 1.0' or "
                       "'think 200ms 1s')");
    if (x > y)
        return perr(c, "think: MIN %s is larger than MAX %s", a, b);
    if (y > 3600)
        return perr(c, "think: at most 1 h");
    *lo = x;
    *hi = y;
    return LG_OK;
}

static lg_err spawn_value(pctx *c, const char *a, double *out)
{
    double v = a ? plain(a) : -1;
    if (v <= 0 || v > 1e9) /* large enough for any rate after --time-scale */
        return perr(c, "spawn-rate: expected users per second in (0, 1000000000], got '%s'",
                    a ? a : "");
    *out = v;
    return LG_OK;
}

/* "warmup|stage DUR key value..." */
static lg_err stage_line(pctx *c, char **tok, int nt, lg_stage *st)
{
    stage_unset(st);
    if (nt < 2)
        return perr(c, "%s: expected a duration (e.g. '%s 60s users 5')", tok[0], tok[0]);
    double d = duration(tok[1]);
    if (d <= 0)
        return perr(c, "%s: bad duration '%s' (a positive number with an optional "
                       "unit ms, s, m or h; at least a nanosecond)", tok[0], tok[1]);
    if (d > LG_MAX_STAGE_S)
        return perr(c, "%s: duration '%s' exceeds 24 h", tok[0], tok[1]);
    st->duration = d;
    for (int i = 2; i < nt;) {
        const char *k = tok[i];
        const char *a = i + 1 < nt ? tok[i + 1] : NULL;
        if (!strcmp(k, "users")) {
            double v = a ? plain(a) : -1;
            if (v < 0 || v > LG_MAX_USERS || v != (double)(int)v)
                return perr(c, "users: expected an integer 0..%d, got '%s'", LG_MAX_USERS,
                            a ? a : "");
            st->users = (int)v;
            i += 2;
        } else if (!strcmp(k, "spawn-rate")) {
            lg_err rc = spawn_value(c, a, &st->spawn_rate);
            if (rc)
                return rc;
            i += 2;
        } else if (!strcmp(k, "think")) {
            lg_err rc = think_pair(c, a, i + 2 < nt ? tok[i + 2] : NULL, &st->think_min,
                                   &st->think_max);
            if (rc)
                return rc;
            i += 3;
        } else if (!strcmp(k, "rate")) {
            double v = a ? plain(a) : -1;
            if (v < 0 || v > LG_MAX_RATE)
                return perr(c, "rate: expected requests per second 0..%.0f, got '%s'",
                            LG_MAX_RATE, a ? a : "");
            st->rate_from = st->rate_to = v;
            i += 2;
            if (i < nt && is_number(tok[i])) {
                double w = plain(tok[i]);
                if (w > LG_MAX_RATE)
                    return perr(c, "rate: end rate '%s' exceeds %.0f", tok[i], LG_MAX_RATE);
                st->rate_to = w;
                i++;
            }
        } else {
            return perr(c, "%s: unknown key '%s' (expected users, spawn-rate, think or "
                           "rate)", tok[0], k);
        }
    }
    return LG_OK;
}

static int valid_name(const char *s)
{
    size_t n = strlen(s);
    if (!n || n >= LG_SCN_NAME)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_' || *s == '.'))
            return 0;
    return 1;
}

lg_err lg_scenario_parse(const char *text, size_t len, const char *source,
                         lg_scenario *out, char *err, size_t errcap)
{
    pctx c = {source ? source : "scenario", 0, err, errcap};
    if (err && errcap)
        err[0] = 0;
    if (!text || !out)
        return LG_EINVAL;
    memset(out, 0, sizeof *out);
    if (len > LG_SCN_MAX_BYTES) {
        perr(&c, "file larger than %u bytes", LG_SCN_MAX_BYTES);
        return LG_ELIMIT;
    }
    int model = -1, connections = -1, stage_line_no[LG_MAX_STAGES], warm_line = 0;
    int model_line = 0, conn_line = 0;
    double timeout = UNSET, think_lo = UNSET, think_hi = UNSET, spawn = UNSET;
    char buf[LG_SCN_MAX_LINE + 1];
    size_t pos = 0;
    while (pos < len) {
        c.line++;
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - (text + pos)) : len - pos;
        if (ll > LG_SCN_MAX_LINE) {
            perr(&c, "line longer than %d bytes", LG_SCN_MAX_LINE);
            return LG_ELIMIT;
        }
        memcpy(buf, text + pos, ll);
        buf[ll] = 0;
        pos += ll + (nl ? 1 : 0);
        if (memchr(buf, 0, ll))
            return perr(&c, "NUL byte in scenario text");
        char *hash = strchr(buf, '#');
        if (hash)
            *hash = 0;
        char *p0 = buf + strspn(buf, " \t\r");
        if (!strncmp(p0, "description", 11) && (!p0[11] || strchr(" \t\r", p0[11]))) {
            /* free text: the rest of the line, blanks squeezed */
            size_t o = 0;
            int blank = 0;
            for (const char *q = p0 + 11 + strspn(p0 + 11, " \t\r"); *q; q++) {
                int ws = (unsigned char)*q <= 0x20 || *q == 0x7f;
                if (ws) {
                    blank = 1;
                    continue;
                }
                if (o + 2 >= sizeof out->description)
                    return perr(&c, "description: longer than %d bytes", LG_SCN_DESC - 1);
                if (blank && o)
                    out->description[o++] = ' ';
                blank = 0;
                out->description[o++] = *q;
            }
            out->description[o] = 0;
            continue;
        }
        char *tok[MAX_TOKENS];
        const char *body = NULL; /* a request's body: the rest of the line */
        int nt = 0;
        for (char *s = buf; *s;) {
            while (*s == ' ' || *s == '\t' || *s == '\r')
                s++;
            if (!*s)
                break;
            if (nt == MAX_TOKENS)
                return perr(&c, "more than %d words on a line", MAX_TOKENS);
            tok[nt++] = s;
            while (*s && *s != ' ' && *s != '\t' && *s != '\r')
                s++;
            if (*s)
                *s++ = 0;
            if (nt > 1 && !strcmp(tok[0], "request") && !strcmp(tok[nt - 1], "body")) {
                body = s + strspn(s, " \t");
                nt--;
                break;
            }
        }
        if (!nt)
            continue;
        const char *d = tok[0], *a = nt > 1 ? tok[1] : NULL;
        lg_err rc = LG_OK;
        if (!strcmp(d, "name")) {
            if (nt != 2 || !valid_name(a))
                return perr(&c, "name: expected one word of letters, digits, '-', '_' or "
                                "'.' (at most %d)", LG_SCN_NAME - 1);
            snprintf(out->name, sizeof out->name, "%s", a);
        } else if (!strcmp(d, "model")) {
            if (nt != 2 || (strcmp(a, "closed") && strcmp(a, "open")))
                return perr(&c, "model: expected 'closed' or 'open'");
            model = !strcmp(a, "open");
            model_line = c.line;
        } else if (!strcmp(d, "think")) {
            if (nt != 3)
                return perr(&c, "think: expected MIN MAX");
            rc = think_pair(&c, tok[1], tok[2], &think_lo, &think_hi);
        } else if (!strcmp(d, "spawn-rate")) {
            if (nt != 2)
                return perr(&c, "spawn-rate: expected one number");
            rc = spawn_value(&c, a, &spawn);
        } else if (!strcmp(d, "timeout")) {
            double t = nt == 2 ? duration(a) : -1;
            if (t < 0.001 || t > LG_MAX_TIMEOUT_S)
                return perr(&c, "timeout: expected a duration from 1ms to %.0fs",
                            LG_MAX_TIMEOUT_S);
            timeout = t;
        } else if (!strcmp(d, "connections")) {
            double v = nt == 2 ? plain(a) : -1;
            if (v < 1 || v > LG_MAX_USERS || v != (double)(int)v)
                return perr(&c, "connections: expected an integer 1..%d", LG_MAX_USERS);
            connections = (int)v;
            conn_line = c.line;
        } else if (!strcmp(d, "warmup")) {
            if (out->has_warmup)
                return perr(&c, "warmup: only one warm-up (first seen on line %d)", warm_line);
            rc = stage_line(&c, tok, nt, &out->warmup);
            out->has_warmup = 1;
            warm_line = c.line;
        } else if (!strcmp(d, "stage")) {
            if (out->n_stages == LG_MAX_STAGES) {
                perr(&c, "more than %d stages", LG_MAX_STAGES);
                return LG_ELIMIT;
            }
            stage_line_no[out->n_stages] = c.line;
            rc = stage_line(&c, tok, nt, &out->stages[out->n_stages++]);
        } else if (!strcmp(d, "request")) {
            char msg[256];
            rc = lg__request_parse(tok, nt, body, out, msg, sizeof msg);
            if (rc) {
                perr(&c, "%s", msg);
                return rc;
            }
        } else {
            return perr(&c, "unknown directive '%s' (expected name, description, model, "
                            "think, spawn-rate, timeout, connections, warmup, stage or "
                            "request)", d);
        }
        if (rc)
            return rc;
    }
    if (!out->n_stages) {
        c.line = c.line ? c.line : 1;
        return perr(&c, "no stage (add e.g. 'stage 60s users 5')");
    }
    out->model = model == 1 ? LG_OPEN : LG_CLOSED;
    out->timeout = timeout > 0 ? timeout : 30.0;
    out->connections = connections > 0 ? connections : 64;
    if (!out->name[0])
        snprintf(out->name, sizeof out->name, "%s", "scenario");
    if (connections > 0 && out->model == LG_CLOSED) {
        c.line = conn_line;
        return perr(&c, "connections: only for 'model open' (closed: one per user)");
    }
    for (size_t i = 0; i <= out->n_stages; i++) {
        lg_stage *st = i < out->n_stages ? &out->stages[i] : &out->warmup;
        if (i == out->n_stages && !out->has_warmup)
            break;
        c.line = i < out->n_stages ? stage_line_no[i] : warm_line;
        const char *what = i < out->n_stages ? "stage" : "warmup";
        if (out->model == LG_CLOSED) {
            if (st->users < 0)
                return perr(&c, "%s: 'users N' is required in the closed model", what);
            if (st->rate_from >= 0)
                return perr(&c, "%s: 'rate' needs 'model open'", what);
            if (st->think_min < 0) {
                st->think_min = think_lo > 0 ? think_lo : 0;
                st->think_max = think_hi > 0 ? think_hi : 0;
            }
            if (st->spawn_rate < 0)
                st->spawn_rate = spawn > 0 ? spawn : 0;
            st->rate_from = st->rate_to = 0;
        } else {
            if (st->rate_from < 0)
                return perr(&c, "%s: 'rate R [R2]' is required in the open model", what);
            if (st->users >= 0 || st->think_min >= 0 || st->spawn_rate >= 0)
                return perr(&c, "%s: users, think and spawn-rate belong to 'model closed'",
                            what);
            st->users = 0;
            st->think_min = st->think_max = 0;
            st->spawn_rate = 0;
        }
    }
    if (out->model == LG_OPEN && (think_lo >= 0 || spawn >= 0)) {
        c.line = model_line;
        return perr(&c, "think and spawn-rate belong to 'model closed'");
    }
    return LG_OK;
}

size_t lg_builtin_count(void)
{
    return lg__scn_builtin_n;
}

const char *lg_builtin_name(size_t i)
{
    return i < lg__scn_builtin_n ? lg__scn_builtin[i].name : NULL;
}

const char *lg_builtin_text(size_t i, size_t *len)
{
    if (i >= lg__scn_builtin_n)
        return NULL;
    if (len)
        *len = lg__scn_builtin[i].len;
    return lg__scn_builtin[i].text;
}

static lg_err read_file(const char *path, char **out, size_t *len, char *err, size_t errcap)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errcap, "%s: %s", path, strerror(errno));
        return errno == ENOENT ? LG_ENOENT : LG_EIO;
    }
    char *buf = malloc(LG_SCN_MAX_BYTES + 1);
    if (!buf) {
        fclose(f);
        return LG_ENOMEM;
    }
    size_t n = fread(buf, 1, LG_SCN_MAX_BYTES + 1, f);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        snprintf(err, errcap, "%s: read error", path);
        return LG_EIO;
    }
    if (n > LG_SCN_MAX_BYTES) {
        free(buf);
        snprintf(err, errcap, "%s: larger than %u bytes", path, LG_SCN_MAX_BYTES);
        return LG_ELIMIT;
    }
    *out = buf;
    *len = n;
    return LG_OK;
}

lg_err lg_scenario_load(const char *name_or_file, lg_scenario *out, char *err, size_t errcap)
{
    if (!name_or_file || !*name_or_file || !out)
        return LG_EINVAL;
    size_t nl = strlen(name_or_file);
    int is_path = strchr(name_or_file, '/') || (nl > 4 && !strcmp(name_or_file + nl - 4, ".scn"));
    if (!is_path) {
        for (size_t i = 0; i < lg__scn_builtin_n; i++)
            if (!strcmp(lg__scn_builtin[i].name, name_or_file)) {
                lg_err rc = lg_scenario_parse(lg__scn_builtin[i].text, lg__scn_builtin[i].len,
                                              name_or_file, out, err, errcap);
                if (!rc && !strcmp(out->name, "scenario"))
                    snprintf(out->name, sizeof out->name, "%s", name_or_file);
                return rc;
            }
        size_t o = (size_t)snprintf(err, errcap, "no scenario named '%s'; built in:",
                                    name_or_file);
        for (size_t i = 0; i < lg__scn_builtin_n && o < errcap; i++)
            o += (size_t)snprintf(err + o, errcap - o, " %s", lg__scn_builtin[i].name);
        if (o < errcap)
            snprintf(err + o, errcap - o, " (or give a FILE.scn path)");
        return LG_ENOENT;
    }
    char *text;
    size_t len;
    lg_err rc = read_file(name_or_file, &text, &len, err, errcap);
    if (rc)
        return rc;
    rc = lg_scenario_parse(text, len, name_or_file, out, err, errcap);
    free(text);
    if (!rc && !strcmp(out->name, "scenario")) {
        /* default name: the file's base name without .scn */
        const char *b = strrchr(name_or_file, '/');
        b = b ? b + 1 : name_or_file;
        size_t bl = strlen(b);
        if (bl > 4 && !strcmp(b + bl - 4, ".scn"))
            bl -= 4;
        char nm[LG_SCN_NAME];
        snprintf(nm, sizeof nm, "%.*s", (int)(bl < sizeof nm - 1 ? bl : sizeof nm - 1), b);
        if (valid_name(nm))
            memcpy(out->name, nm, sizeof nm);
    }
    return rc;
}

static void scale_stage(lg_stage *st, double x)
{
    st->duration *= x;
    st->think_min *= x;
    st->think_max *= x;
    if (st->spawn_rate > 0)
        st->spawn_rate /= x;
}

void lg_scenario_scale(lg_scenario *s, double x)
{
    if (!(x > 0))
        return;
    if (s->has_warmup)
        scale_stage(&s->warmup, x);
    for (size_t i = 0; i < s->n_stages; i++)
        scale_stage(&s->stages[i], x);
}

double lg_scenario_duration(const lg_scenario *s)
{
    double t = s->has_warmup ? s->warmup.duration : 0;
    for (size_t i = 0; i < s->n_stages; i++)
        t += s->stages[i].duration;
    return t;
}

/* v as the format's numbers are written: plain decimal, no exponent,
 * the 12 fractional digits number() reads, trailing zeros dropped. */
static const char *num_out(double v, char buf[48])
{
    int n = snprintf(buf, 48, "%.12f", v);
    while (n > 1 && buf[n - 1] == '0')
        buf[--n] = 0;
    if (n > 1 && buf[n - 1] == '.')
        buf[--n] = 0;
    return buf;
}

static void write_stage(const lg_scenario *s, const lg_stage *st, const char *kw, FILE *f)
{
    char a[48], b[48];
    fprintf(f, "%s %ss", kw, num_out(st->duration, a));
    if (s->model == LG_CLOSED) {
        fprintf(f, " users %d", st->users);
        if (st->spawn_rate > 0)
            fprintf(f, " spawn-rate %s", num_out(st->spawn_rate, a));
        fprintf(f, " think %ss %ss", num_out(st->think_min, a), num_out(st->think_max, b));
    } else {
        fprintf(f, " rate %s", num_out(st->rate_from, a));
        if (st->rate_to != st->rate_from)
            fprintf(f, " %s", num_out(st->rate_to, a));
    }
    fputc('\n', f);
}

void lg_scenario_write(const lg_scenario *s, FILE *f)
{
    char a[48];
    fprintf(f, "name %s\n", s->name);
    if (s->description[0])
        fprintf(f, "description %s\n", s->description);
    fprintf(f, "model %s\n", s->model == LG_OPEN ? "open" : "closed");
    fprintf(f, "timeout %ss\n", num_out(s->timeout, a));
    if (s->model == LG_OPEN)
        fprintf(f, "connections %d\n", s->connections);
    if (s->has_warmup)
        write_stage(s, &s->warmup, "warmup", f);
    for (size_t i = 0; i < s->n_stages; i++)
        write_stage(s, &s->stages[i], "stage", f);
    lg__requests_write(s, f);
}
