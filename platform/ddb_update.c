/*
 * Update expressions (spec §4.6): SET (with +, -, if_not_exists,
 * list_append), REMOVE, ADD (numbers and sets) and DELETE (sets), each
 * clause once and in any order; read with ddb_expr.c's lexer, paths and
 * operands, checked as the service checks them (function names, clause
 * repeats, placeholders, overlapping paths, operand types), then applied
 * to an item.  Every value on the right of SET is computed from the item
 * as it was before the update; list elements removed by REMOVE are those
 * of the item before it too (highest index first).  Thread safe.
 */
#include "ddb_int.h"

#include <stdlib.h>
#include <string.h>

/* ---- parsing ---- */

static ddb_node *set_value(ddb__px *p)
{
    if (ddb__at(p, DDB_T_LP)) {     /* SET a = (b + :c) */
        size_t save = p->i;
        long syn0 = p->syn_at;
        p->i++;
        ddb_node *x = set_value(p);
        if (x && ddb__at(p, DDB_T_RP)) {
            p->i++;
            return x;
        }
        p->i = save;
        p->syn_at = syn0;
    }
    ddb_node *l = ddb__operand(p);
    if (!l || (!ddb__at(p, DDB_T_PLUS) && !ddb__at(p, DDB_T_MINUS)))
        return l;
    ddb_op op = ddb__at(p, DDB_T_PLUS) ? X_PLUS : X_MINUS;
    p->i++;
    p->nops++;
    ddb_node *r = ddb__operand(p), *x = r ? ddb__node(p, op, 2) : NULL;
    if (!x)
        return NULL;
    x->a[0] = l;
    x->a[1] = r;
    x->nargs = 2;
    x->fname = op == X_PLUS ? "+" : "-";
    return x;
}

static const char *upper_type(ddb_type t)
{
    switch (t) {
    case DDB_S: return "STRING";
    case DDB_N: return "NUMBER";
    case DDB_B: return "BINARY";
    case DDB_NULL: return "NULL";
    case DDB_BOOL: return "BOOLEAN";
    case DDB_L: return "LIST";
    case DDB_M: return "MAP";
    default: return NULL;
    }
}

/* Static checks of a SET value's functions and operators. */
static void check_value(ddb__px *p, const ddb_node *x)
{
    if (!x->fname)
        return;
    for (size_t i = 0; i < x->n; i++)
        check_value(p, x->a[i]);
    if (x->op != X_IFNE && x->op != X_APPEND && x->op != X_PLUS && x->op != X_MINUS) {
        if (x->op == X_FUNC)
            ddb__note(p, DDB_XE_FUNCNAME, "Invalid function name; function: %s", x->fname);
        else
            ddb__note(p, DDB_XE_FUNCNAME, "The function is not allowed in an update expression; "
                      "function: %s", x->fname);
        return;
    }
    if (x->nargs != 2) {
        ddb__note(p, DDB_XE_FUNCTION, "Incorrect number of operands for operator or function; "
                  "operator or function: %s, number of operands: %zu", x->fname, x->nargs);
        return;
    }
    if (x->op == X_IFNE) {
        if (x->a[0]->op != X_PATH)
            ddb__note(p, DDB_XE_FUNCTION, "Operator or function requires a document path; "
                      "operator or function: %s", x->fname);
        return;
    }
    ddb_type want = x->op == X_APPEND ? DDB_L : DDB_N;
    for (size_t i = 0; i < 2; i++) {
        const ddb_node *a = x->a[i];
        if (a->op == X_VALUE && a->val && a->val->type != want) {
            ddb__note(p, DDB_XE_FUNCTION, "Incorrect operand type for operator or function; "
                      "operator or function: %s, operand type: %s", x->fname,
                      ddb_type_name(a->val->type));
            return;
        }
    }
}

int ddb_parse_update(ddb_arena *a, ddb_ph *ph, const char *text, size_t n, ddb_update *out,
                     ddb_err *e)
{
    static const int ORDER[] = {DDB_XE_RESERVED, DDB_XE_FUNCNAME, DDB_XE_SECTION, DDB_XE_NAME,
                                DDB_XE_VALUE, DDB_XE_OVERLAP, DDB_XE_CONFLICT, DDB_XE_OPERAND,
                                DDB_XE_FUNCTION};
    static const char *const CLAUSE[] = {"SET", "REMOVE", "ADD", "DELETE"};
    ddb__px p;
    memset(out, 0, sizeof *out);
    if (ddb__px_init(&p, a, ph, DDB_X_UPDATE, text, n, e))
        return e->code;
    size_t cap = n / 2 + 1;     /* an action takes two characters at least */
    if (!(out->a = ddb_alloc(a, cap * sizeof *out->a)))
        return ddb_fail(e, DDB_EINTERNAL, "out of memory");
    int seen[4] = {0};
    while (!ddb__at(&p, DDB_T_EOF) && p.syn_at < 0) {
        int t = p.t[p.i].t;
        if (t < DDB_T_SET || t > DDB_T_DELETE) {
            ddb__syntax(&p);
            break;
        }
        ddb_uk k = (ddb_uk)(t - DDB_T_SET);
        if (seen[k]++)
            ddb__note(&p, DDB_XE_SECTION, "The \"%s\" section can only be used once in an update "
                      "expression;", CLAUSE[k]);
        p.i++;
        for (;;) {
            ddb_uact *u = &out->a[out->n];
            u->k = k;
            if (out->n == cap || ddb__path(&p, &u->path))
                break;
            if (k == DDB_U_SET) {
                if (!ddb__at(&p, DDB_T_EQ)) {
                    ddb__syntax(&p);
                    break;
                }
                p.i++;
                if (!(u->val = set_value(&p)))
                    break;
            } else if (k != DDB_U_REMOVE) {
                if (!ddb__at(&p, DDB_T_COLON)) {
                    ddb__syntax(&p);
                    break;
                }
                if (!(u->val = ddb__operand(&p)))
                    break;
            }
            out->n++;
            if (!ddb__at(&p, DDB_T_COMMA))
                break;
            p.i++;
        }
        if (p.syn_at < 0 && !ddb__at(&p, DDB_T_EOF) &&
            (p.t[p.i].t < DDB_T_SET || p.t[p.i].t > DDB_T_DELETE))
            ddb__syntax(&p);
    }
    if (p.syn_at < 0) {
        for (size_t i = 0; i < out->n; i++) {
            ddb_uact *u = &out->a[i];
            for (size_t j = 0; j < i; j++)
                ddb__paths_overlap(&p, &out->a[j].path, &u->path);
            if (u->k == DDB_U_SET)
                check_value(&p, u->val);
            if ((u->k == DDB_U_ADD || u->k == DDB_U_DELETE) && u->val->val) {
                ddb_type t = u->val->val->type;
                const char *up = upper_type(t);
                if (up && !(u->k == DDB_U_ADD && t == DDB_N))
                    ddb__note(&p, DDB_XE_OPERAND, "Incorrect operand type for operator or "
                              "function; operator: %s, operand type: %s, typeSet: "
                              "ALLOWED_FOR_%s_OPERAND", CLAUSE[u->k], up, CLAUSE[u->k]);
            }
        }
        if (p.nops > DDB_MAX_UPDATE_OPS)
            ddb__note(&p, DDB_XE_FUNCTION, "The expression contains too many operators; "
                      "operator count: %zu", p.nops);
    }
    return ddb__finish(&p, ORDER, sizeof ORDER / sizeof *ORDER);
}

/* ---- applying ---- */

static int bad_type(ddb_err *e)
{
    return ddb_fail(e, DDB_EVALIDATION, "An operand in the update expression has an incorrect "
                    "data type");
}

static int bad_path(ddb_err *e)
{
    return ddb_fail(e, DDB_EVALIDATION, "The document path provided in the update expression is "
                    "invalid for update");
}

static int nomem(ddb_err *e)
{
    return ddb_fail(e, DDB_EINTERNAL, "out of memory");
}

/* The value of a SET operand against item, into out (owned). */
static int value_of(const ddb_node *x, const ddb_val *item, ddb_val *out, ddb_err *e)
{
    memset(out, 0, sizeof *out);
    if (x->op == X_VALUE)
        return ddb_val_copy(x->val, out) ? nomem(e) : 0;
    if (x->op == X_PATH) {
        const ddb_val *v = ddb_path_get(item, &x->path);
        if (!v)
            return ddb_fail(e, DDB_EVALIDATION, "The provided expression refers to an attribute "
                            "that does not exist in the item");
        return ddb_val_copy(v, out) ? nomem(e) : 0;
    }
    if (x->op == X_IFNE) {
        const ddb_val *v = ddb_path_get(item, &x->a[0]->path);
        if (v)
            return ddb_val_copy(v, out) ? nomem(e) : 0;
        return value_of(x->a[1], item, out, e);
    }
    ddb_val a, b;
    if (value_of(x->a[0], item, &a, e))
        return e->code;
    if (value_of(x->a[1], item, &b, e)) {
        ddb_val_free(&a);
        return e->code;
    }
    int rc = 0;
    if (x->op == X_APPEND) {
        if (a.type != DDB_L || b.type != DDB_L) {
            rc = bad_type(e);
        } else {
            *out = a;
            memset(&a, 0, sizeof a);
            for (size_t i = 0; i < b.n && !rc; i++)
                if (ddb_list_push(out, &b.a[i]))
                    rc = nomem(e);
        }
    } else if (a.type != DDB_N || b.type != DDB_N) {
        rc = bad_type(e);
    } else {
        ddb_dec x1, x2, r;
        ddb_val_dec(&a, &x1);
        ddb_val_dec(&b, &x2);
        if (!(rc = ddb_dec_add(&x1, &x2, x->op == X_MINUS, &r, e)) && ddb_val_num(out, &r))
            rc = nomem(e);
    }
    ddb_val_free(&a);
    ddb_val_free(&b);
    if (rc)
        ddb_val_free(out);
    return rc;
}

/* The container holding p's last element in item (NULL when a step is
 * missing or of the wrong type). */
static ddb_val *parent_of(ddb_val *item, const ddb_path *p)
{
    ddb_path up = {p->n - 1, p->e};
    return (ddb_val *)ddb_path_get(item, &up);  /* item is ours to change */
}

/* Stores *v (taken) at p in item. */
static int set_at(ddb_val *item, const ddb_path *p, ddb_val *v, ddb_err *e)
{
    ddb_val *par = parent_of(item, p);
    const ddb_pel *last = &p->e[p->n - 1];
    if (par && last->idx < 0 && par->type == DDB_M)
        return ddb_map_put(par, last->name, last->nl, v) ? nomem(e) : 0;
    if (par && last->idx >= 0 && par->type == DDB_L) {
        if ((size_t)last->idx < par->n) {
            ddb_val_free(&par->a[last->idx]);
            par->a[last->idx] = *v;
            memset(v, 0, sizeof *v);
            return 0;
        }
        return ddb_list_push(par, v) ? nomem(e) : 0;
    }
    ddb_val_free(v);
    return bad_path(e);
}

static void remove_at(ddb_val *item, const ddb_path *p)
{
    ddb_val *par = parent_of(item, p);
    const ddb_pel *last = &p->e[p->n - 1];
    if (par && last->idx < 0 && par->type == DDB_M) {
        ddb_map_del(par, last->name, last->nl);
    } else if (par && last->idx >= 0 && par->type == DDB_L && (size_t)last->idx < par->n) {
        ddb_val_free(&par->a[last->idx]);
        memmove(&par->a[last->idx], &par->a[last->idx + 1],
                (par->n - (size_t)last->idx - 1) * sizeof *par->a);
        par->n--;
    }
}

static int cmp_vp(const void *x, const void *y)
{
    return ddb_val_cmp(*(const ddb_val *const *)x, *(const ddb_val *const *)y);
}

/* Set union (add) or difference of cur with v (same set type). */
static int set_merge(ddb_val *cur, const ddb_val *v, int add, ddb_err *e)
{
    const ddb_val **idx = malloc(((add ? cur->n : v->n) + 1) * sizeof *idx);
    if (!idx)
        return nomem(e);
    const ddb_val *base = add ? cur : v;
    for (size_t i = 0; i < base->n; i++)
        idx[i] = &base->a[i];
    qsort(idx, base->n, sizeof *idx, cmp_vp);
    int rc = 0;
    if (add) {
        /* the members to add first (idx points into cur->a, which grows);
         * v has no duplicates of its own */
        const ddb_val **more = malloc((v->n + 1) * sizeof *more);
        size_t n_more = 0;
        if (!more)
            rc = nomem(e);
        for (size_t i = 0; i < v->n && !rc; i++) {
            const ddb_val *key = &v->a[i];
            if (!bsearch(&key, idx, cur->n, sizeof *idx, cmp_vp))
                more[n_more++] = key;
        }
        free(idx);
        idx = NULL;
        for (size_t i = 0; i < n_more && !rc; i++) {
            ddb_val c;
            if (ddb_val_copy(more[i], &c) || ddb_list_push(cur, &c))
                rc = nomem(e);
        }
        free(more);
    } else {
        size_t o = 0;
        for (size_t i = 0; i < cur->n; i++) {
            const ddb_val *key = &cur->a[i];
            if (bsearch(&key, idx, v->n, sizeof *idx, cmp_vp))
                ddb_val_free(&cur->a[i]);
            else
                cur->a[o++] = cur->a[i];
        }
        cur->n = o;
    }
    free(idx);
    return rc;
}

static int add_or_delete(ddb_val *item, const ddb_uact *u, ddb_err *e)
{
    const ddb_val *v = u->val->val;
    ddb_val *par = parent_of(item, &u->path);
    const ddb_pel *last = &u->path.e[u->path.n - 1];
    ddb_val *cur = NULL;
    if (par && last->idx < 0 && par->type == DDB_M)
        cur = ddb_map_get(par, last->name, last->nl);
    else if (par && last->idx >= 0 && par->type == DDB_L && (size_t)last->idx < par->n)
        cur = &par->a[last->idx];
    if (!cur) {
        if (u->k == DDB_U_DELETE)
            return 0;
        ddb_val c;
        if (ddb_val_copy(v, &c))
            return nomem(e);
        return set_at(item, &u->path, &c, e);
    }
    if (cur->type != v->type)
        return bad_type(e);
    if (v->type == DDB_N) {
        if (u->k != DDB_U_ADD)
            return bad_type(e);
        ddb_dec a, b, r;
        ddb_val_dec(cur, &a);
        ddb_val_dec(v, &b);
        if (ddb_dec_add(&a, &b, 0, &r, e))
            return e->code;
        ddb_val_free(cur);
        return ddb_val_num(cur, &r) ? nomem(e) : 0;
    }
    if (v->type != DDB_SS && v->type != DDB_NS && v->type != DDB_BS)
        return bad_type(e);
    if (set_merge(cur, v, u->k == DDB_U_ADD, e))
        return e->code;
    if (!cur->n)
        remove_at(item, &u->path);
    return 0;
}

/* REMOVE order: deeper and higher list indexes first. */
static int cmp_remove(const void *x, const void *y)
{
    const ddb_uact *a = *(const ddb_uact *const *)x, *b = *(const ddb_uact *const *)y;
    for (size_t i = 0; i < a->path.n && i < b->path.n; i++) {
        const ddb_pel *p = &a->path.e[i], *q = &b->path.e[i];
        if (p->idx != q->idx)
            return p->idx > q->idx ? -1 : 1;
    }
    return (a->path.n < b->path.n) - (a->path.n > b->path.n);
}

int ddb_apply_update(const ddb_update *u, const ddb_val *old, ddb_val *item, ddb_arena *a,
                     const char ***touched, size_t *n_touched, ddb_err *e)
{
    (void)old;
    *n_touched = 0;
    *touched = ddb_alloc(a, (u->n + 1) * sizeof **touched);
    ddb_val *vals = calloc(u->n + 1, sizeof *vals);
    const ddb_uact **rem = calloc(u->n + 1, sizeof *rem);
    size_t n_rem = 0;
    int rc = 0;
    if (!*touched || !vals || !rem)
        rc = nomem(e);
    for (size_t i = 0; i < u->n && !rc; i++) {
        const ddb_uact *x = &u->a[i];
        const char *top = x->path.e[0].name;
        size_t k;
        for (k = 0; k < *n_touched && strcmp((*touched)[k], top); k++)
            ;
        if (k == *n_touched)
            (*touched)[(*n_touched)++] = top;
        if (x->k == DDB_U_SET)
            rc = value_of(x->val, item, &vals[i], e);   /* all before any change */
        else if (x->k == DDB_U_REMOVE)
            rem[n_rem++] = x;
    }
    for (size_t i = 0; i < u->n && !rc; i++)
        if (u->a[i].k == DDB_U_SET)
            rc = set_at(item, &u->a[i].path, &vals[i], e);
    for (size_t i = 0; i < u->n && !rc; i++)
        if (u->a[i].k == DDB_U_ADD || u->a[i].k == DDB_U_DELETE)
            rc = add_or_delete(item, &u->a[i], e);
    if (!rc) {
        qsort(rem, n_rem, sizeof *rem, cmp_remove);
        for (size_t i = 0; i < n_rem; i++)
            remove_at(item, &rem[i]->path);
    }
    for (size_t i = 0; vals && i < u->n; i++)
        ddb_val_free(&vals[i]);
    free(vals);
    free(rem);
    return rc;
}
