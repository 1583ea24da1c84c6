/*
 * Scoring and splitting of training data: conlleval's strict entity-level
 * counts (a predicted entity is right when its start, end and label all
 * equal a gold entity's), and the units of a file with a deterministic
 * train/dev/test assignment of them (splitmix64 shuffle).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "td_int.h"

#define MAX_SCORE_LABELS 4096

int td_score_init(td_score *s, int n_labels)
{
    memset(s, 0, sizeof *s);
    if (n_labels < 0 || n_labels > MAX_SCORE_LABELS)
        return TD_EINVAL;
    size_t n = (size_t)n_labels + 1;
    s->tp = calloc(n, sizeof *s->tp);
    s->fp = calloc(n, sizeof *s->fp);
    s->fn = calloc(n, sizeof *s->fn);
    if (!s->tp || !s->fp || !s->fn) {
        td_score_fini(s);
        return TD_ENOMEM;
    }
    s->n_labels = n_labels;
    return TD_OK;
}

void td_score_fini(td_score *s)
{
    if (!s)
        return;
    free(s->tp);
    free(s->fp);
    free(s->fn);
    memset(s, 0, sizeof *s);
}

static int scored(const td_score *s, const ner_span *sp, const int *map)
{
    int l = map ? (sp->label >= 0 ? map[sp->label] : -1) : sp->label;
    return l >= 0 && l < s->n_labels ? l : -1;
}

void td_score_add(td_score *s, const ner_span *gold, size_t ng, const int *gmap,
                  const ner_span *pred, size_t np, const int *pmap)
{
    size_t i = 0, j = 0;
    while (i < ng || j < np) {
        int gl = i < ng ? scored(s, &gold[i], gmap) : -1;
        int pl = j < np ? scored(s, &pred[j], pmap) : -1;
        if (i < ng && gl < 0) {
            i++;
            continue;
        }
        if (j < np && pl < 0) {
            j++;
            continue;
        }
        int c = i >= ng ? 1 : j >= np ? -1
              : gold[i].start != pred[j].start ? (gold[i].start < pred[j].start ? -1 : 1)
              : gold[i].end != pred[j].end ? (gold[i].end < pred[j].end ? -1 : 1) : 0;
        if (c == 0 && gl == pl) {
            s->tp[gl]++;
            i++;
            j++;
        } else if (c <= 0) {
            s->fn[gl]++; /* same offsets, other label: both counted below */
            i++;
        } else {
            s->fp[pl]++;
            j++;
        }
    }
}

void td_score_merge(td_score *a, const td_score *b)
{
    for (int l = 0; l < a->n_labels && l < b->n_labels; l++) {
        a->tp[l] += b->tp[l];
        a->fp[l] += b->fp[l];
        a->fn[l] += b->fn[l];
    }
}

void td_score_get(const td_score *s, int label, td_prf *out)
{
    memset(out, 0, sizeof *out);
    for (int l = 0; l < s->n_labels; l++)
        if (label < 0 || l == label) {
            out->tp += s->tp[l];
            out->fp += s->fp[l];
            out->fn += s->fn[l];
        }
    long tp = out->tp, fp = out->fp, fn = out->fn;
    out->p = tp + fp ? (double)tp / (double)(tp + fp) : 0;
    out->r = tp + fn ? (double)tp / (double)(tp + fn) : 0;
    out->f1 = out->p + out->r > 0 ? 2 * out->p * out->r / (out->p + out->r) : 0;
}

/* ---------------------------------------------------------------------------
 * Units and the split
 */

int td__unit_add(td_unit **u, size_t *cap, size_t *k, const td_unit *one)
{
    int rc = *k >= TD_MAX_DOCS ? TD_ETOOBIG : td__grow(u, cap, *k + 1, sizeof **u);
    if (rc) {
        free(*u);
        *u = NULL;
        return rc;
    }
    (*u)[(*k)++] = *one;
    return 0;
}

int td_units(const char *buf, size_t len, int format, int by_doc, td_unit **out, size_t *n,
             int *fmt, int *array)
{
    *out = NULL;
    *n = 0;
    *array = 0;
    if ((!buf && len) || format < 0 || format >= TD_FMT_COUNT)
        return TD_EINVAL;
    size_t bom = len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3) ? 3 : 0;
    buf += bom;
    len -= bom;
    int f = format == TD_FMT_AUTO ? (td__is_json(buf, len) ? TD_FMT_JSON : TD_FMT_CONLL)
            : format == TD_FMT_CONLL || format == TD_FMT_TEXT ? format
                                                              : TD_FMT_JSON;
    *fmt = f;
    int rc = f == TD_FMT_CONLL  ? td__units_conll(buf, len, by_doc, out, n)
             : f == TD_FMT_TEXT ? td__units_text(buf, len, out, n)
                                : td__units_json(buf, len, out, n, array);
    for (size_t i = 0; !rc && i < *n; i++)
        (*out)[i].off += bom; /* offsets into the caller's buffer */
    return rc;
}

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

int td_split_plan(size_t n, uint64_t seed, const double *ratio, int parts, unsigned char *part)
{
    if (!ratio || (!part && n) || parts < 2 || parts > 3)
        return TD_EINVAL;
    double sum = 0;
    for (int p = 0; p < parts; p++) {
        if (!isfinite(ratio[p]) || ratio[p] <= 0)
            return TD_EINVAL;
        sum += ratio[p];
    }
    size_t size[3] = {0}, rest = n;
    for (int p = parts - 1; p >= 1; p--) {
        double want = floor((double)n * ratio[p] / sum + 0.5);
        size[p] = want > (double)rest ? rest : (size_t)want;
        rest -= size[p];
    }
    size[0] = rest;
    size_t *idx = malloc((n ? n : 1) * sizeof *idx);
    if (!idx)
        return TD_ENOMEM;
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    uint64_t st = seed;
    for (size_t i = n; i > 1; i--) { /* Fisher-Yates */
        size_t j = (size_t)(splitmix64(&st) % (uint64_t)i), t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
    size_t k = 0;
    for (int p = 0; p < parts; p++)
        for (size_t c = 0; c < size[p]; c++)
            part[idx[k++]] = (unsigned char)p;
    free(idx);
    return TD_OK;
}
