/*
 * Expressions applied to items: document paths, condition and filter
 * evaluation with the service's rules (spec §4.3: a missing attribute or
 * a value of another type makes `=` false and `<>` true, strings and
 * binaries compare as unsigned bytes, numbers numerically, sets in any
 * order; size() of a string counts UTF-16 code units as the service's
 * Java does), and projections (§4.5: the selected parts in the item's own
 * structure, list elements in list order, missing paths skipped).
 * Pure functions: thread safe.
 */
#include "ddb_int.h"

#include <stdlib.h>
#include <string.h>

const ddb_val *ddb_path_get(const ddb_val *item, const ddb_path *p)
{
    const ddb_val *cur = item;
    for (size_t i = 0; cur && i < p->n; i++) {
        const ddb_pel *el = &p->e[i];
        if (el->idx >= 0)
            cur = cur->type == DDB_L && (size_t)el->idx < cur->n ? &cur->a[el->idx] : NULL;
        else
            cur = cur->type == DDB_M ? ddb_map_get(cur, el->name, el->nl) : NULL;
    }
    return cur;
}

/* UTF-16 code units of UTF-8 text. */
static size_t utf16_len(const char *s, size_t n)
{
    size_t u = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c & 0xC0) != 0x80)
            u += c >= 0xF0 ? 2 : 1;
    }
    return u;
}

/* An operand's value: the item's attribute, a :value, or size() (into
 * tmp).  NULL when it has none. */
static const ddb_val *operand(const ddb_node *x, const ddb_val *item, ddb_val *tmp, char *buf)
{
    if (x->op == X_VALUE)
        return x->val;
    if (x->op == X_PATH)
        return item ? ddb_path_get(item, &x->path) : NULL;
    if (x->op == X_SIZE && x->n == 1) {
        const ddb_val *v = operand(x->a[0], item, tmp, buf);
        size_t n;
        if (!v)
            return NULL;
        switch (v->type) {
        case DDB_S: n = utf16_len(v->s, v->n); break;
        case DDB_B: n = v->n; break;
        case DDB_SS: case DDB_NS: case DDB_BS: case DDB_L: case DDB_M: n = v->n; break;
        default: return NULL;
        }
        ddb_dec d;
        ddb_dec_from_int((long long)n, &d);
        memset(tmp, 0, sizeof *tmp);
        tmp->type = DDB_N;
        tmp->s = buf;
        tmp->n = ddb_dec_format(&d, buf);
        return tmp;
    }
    return NULL;
}

static int scalar(const ddb_val *v)
{
    return v->type == DDB_S || v->type == DDB_N || v->type == DDB_B;
}

static int compare(ddb_op op, const ddb_val *a, const ddb_val *b)
{
    if (op == X_EQ)
        return a && b && ddb_val_equal(a, b);
    if (op == X_NE)
        return !(a && b && ddb_val_equal(a, b));
    if (!a || !b || a->type != b->type || !scalar(a))
        return 0;
    int c = ddb_val_cmp(a, b);
    switch (op) {
    case X_LT: return c < 0;
    case X_LE: return c <= 0;
    case X_GT: return c > 0;
    case X_GE: return c >= 0;
    default: return 0;
    }
}

static int has_prefix(const ddb_val *v, const ddb_val *p)
{
    return v->n >= p->n && !memcmp(v->s, p->s, p->n);
}

static int contains(const ddb_val *hay, const ddb_val *x)
{
    if (!hay || !x)
        return 0;
    if ((hay->type == DDB_S && x->type == DDB_S) || (hay->type == DDB_B && x->type == DDB_B)) {
        if (!x->n)
            return 1;
        for (size_t i = 0; i + x->n <= hay->n; i++)
            if (!memcmp(hay->s + i, x->s, x->n))
                return 1;
        return 0;
    }
    if ((hay->type == DDB_SS && x->type == DDB_S) || (hay->type == DDB_NS && x->type == DDB_N) ||
        (hay->type == DDB_BS && x->type == DDB_B) || hay->type == DDB_L) {
        for (size_t i = 0; i < hay->n; i++)
            if (ddb_val_equal(&hay->a[i], x))
                return 1;
    }
    return 0;
}

int ddb_eval(const ddb_node *c, const ddb_val *item)
{
    ddb_val t0, t1, t2;
    char b0[DDB_NUM_TEXT], b1[DDB_NUM_TEXT], b2[DDB_NUM_TEXT];
    const ddb_val *x, *y;
    switch (c->op) {
    case X_AND:
        return ddb_eval(c->a[0], item) && ddb_eval(c->a[1], item);
    case X_OR:
        return ddb_eval(c->a[0], item) || ddb_eval(c->a[1], item);
    case X_NOT:
        return !ddb_eval(c->a[0], item);
    case X_EQ: case X_NE: case X_LT: case X_LE: case X_GT: case X_GE:
        return compare(c->op, operand(c->a[0], item, &t0, b0), operand(c->a[1], item, &t1, b1));
    case X_BETWEEN: {
        x = operand(c->a[0], item, &t0, b0);
        const ddb_val *lo = operand(c->a[1], item, &t1, b1), *hi = operand(c->a[2], item, &t2, b2);
        return x && lo && hi && scalar(x) && x->type == lo->type && x->type == hi->type &&
               ddb_val_cmp(lo, x) <= 0 && ddb_val_cmp(x, hi) <= 0;
    }
    case X_IN:
        x = operand(c->a[0], item, &t0, b0);
        for (size_t i = 1; x && i < c->n; i++)
            if ((y = operand(c->a[i], item, &t1, b1)) && ddb_val_equal(x, y))
                return 1;
        return 0;
    case X_EXISTS:
        return operand(c->a[0], item, &t0, b0) != NULL;
    case X_NOT_EXISTS:
        return operand(c->a[0], item, &t0, b0) == NULL;
    case X_ATTR_TYPE:
        x = operand(c->a[0], item, &t0, b0);
        y = operand(c->a[1], item, &t1, b1);
        return x && y && y->type == DDB_S && !strcmp(ddb_type_name(x->type), y->s);
    case X_BEGINS:
        x = operand(c->a[0], item, &t0, b0);
        y = operand(c->a[1], item, &t1, b1);
        return x && y && x->type == y->type && (x->type == DDB_S || x->type == DDB_B) &&
               has_prefix(x, y);
    case X_CONTAINS:
        return contains(operand(c->a[0], item, &t0, b0), operand(c->a[1], item, &t1, b1));
    default:
        return 0;
    }
}

/* ---- projections ---- */

/* A projection's result tree: list elements keep their index in the item
 * until the end (projected lists are compacted in index order). */
typedef struct pnode {
    ddb_type type;          /* M, L, or DDB_NONE for a leaf */
    const ddb_val *leaf;    /* the item's value (whole) */
    size_t n, cap;
    struct pchild {
        const char *k;
        size_t kl;
        long idx;
        struct pnode *node;
    } *c;
} pnode;

static void pfree(pnode *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        pfree(p->c[i].node);
    free(p->c);
    free(p);
}

static pnode *pchild(pnode *p, const ddb_pel *el)
{
    for (size_t i = 0; i < p->n; i++)
        if (el->idx >= 0 ? p->c[i].idx == el->idx
                         : p->c[i].idx < 0 && p->c[i].kl == el->nl &&
                               !memcmp(p->c[i].k, el->name, el->nl))
            return p->c[i].node;
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 4;
        struct pchild *c = realloc(p->c, cap * sizeof *c);
        if (!c)
            return NULL;
        p->c = c;
        p->cap = cap;
    }
    pnode *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    p->c[p->n].k = el->name;
    p->c[p->n].kl = el->nl;
    p->c[p->n].idx = el->idx;
    p->c[p->n++].node = n;
    return n;
}

static int cmp_child(const void *x, const void *y)
{
    long a = ((const struct pchild *)x)->idx, b = ((const struct pchild *)y)->idx;
    return (a > b) - (a < b);
}

/* Builds the value of node p into out. */
static int pbuild(pnode *p, ddb_val *out)
{
    memset(out, 0, sizeof *out);
    if (p->leaf)
        return ddb_val_copy(p->leaf, out);
    out->type = p->type;
    if (p->type == DDB_L)
        qsort(p->c, p->n, sizeof *p->c, cmp_child);
    for (size_t i = 0; i < p->n; i++) {
        ddb_val v;
        if (pbuild(p->c[i].node, &v))
            return ddb_val_free(out), -1;
        int rc = p->type == DDB_L ? ddb_list_push(out, &v) : ddb_map_put(out, p->c[i].k,
                                                                          p->c[i].kl, &v);
        if (rc)
            return ddb_val_free(&v), ddb_val_free(out), -1;
    }
    return 0;
}

int ddb_project(const ddb_val *item, const ddb_proj *pr, ddb_val *out)
{
    pnode *root = calloc(1, sizeof *root);
    int rc = root ? 0 : -1;
    if (root)
        root->type = DDB_M;
    for (size_t i = 0; !rc && i < pr->n; i++) {
        const ddb_path *path = &pr->p[i];
        const ddb_val *v = ddb_path_get(item, path);
        if (!v)
            continue;
        pnode *cur = root;
        const ddb_val *src = item;
        for (size_t k = 0; cur && k < path->n; k++) {
            if (cur->leaf)      /* an enclosing path took it whole */
                break;
            cur->type = src->type;
            cur = pchild(cur, &path->e[k]);
            src = path->e[k].idx >= 0 ? &src->a[path->e[k].idx]
                                      : ddb_map_get(src, path->e[k].name, path->e[k].nl);
        }
        if (!cur)
            rc = -1;
        else if (!cur->leaf && !cur->n)
            cur->leaf = v;
    }
    if (!rc)
        rc = pbuild(root, out);
    pfree(root);
    return rc;
}
