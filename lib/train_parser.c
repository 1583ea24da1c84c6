/*
 * The parser in training (spaCy v2.2's Parser.update, greedy path): every
 * chunk state takes up to max_steps transitions, all states of a step at
 * once: the six context tokens' precomputed lower-layer rows (or the
 * slot's padding vector) plus the bias, maxout over 2 pieces, dropout, the
 * output layer; classes not yet seen as gold get the step's minimum score
 * and no gradient; the score gradient is softmax(z) minus the softmax over
 * the zero-cost valid classes (cpu_log_loss); each state then follows its
 * own best valid class (the model's, not the oracle's).  The steps are
 * recorded and backpropagated afterwards in a few large products (the
 * weights are constant within a batch).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train_int.h"

static void carve_parser(tr_work *w, const tr_dims *d, int ns, tr_carve *c)
{
    size_t S = (size_t)w->S, nH = (size_t)d->nH, C = (size_t)d->C;
    w->act = tr__take(c, (size_t)ns + 1, sizeof(int));
    w->ids = tr__take(c, S * TR_NF, sizeof(int));
    w->H = tr__take(c, S * nH, sizeof(float));
    w->hwh = tr__take(c, S * nH, 1);
    w->hmk = tr__take(c, S * nH, sizeof(float));
    w->D = tr__take(c, S * C, sizeof(float));
    w->dH = tr__take(c, S * nH, sizeof(float));
    w->sc = tr__take(c, ((size_t)ns + 1) * C, sizeof(float));
}

int tr__parse_alloc(tr_trainer *t, tr_state *st, int ns, int max_steps)
{
    tr_work *w = t->w;
    w->S = ns * max_steps;
    tr_carve c = {NULL, 0};
    carve_parser(w, &t->d, ns, &c);
    if (tr__arena_fit(&w->parena, &w->parena_cap, c.off))
        return TR_ENOMEM;
    c = (tr_carve){w->parena, 0};
    carve_parser(w, &t->d, ns, &c);
    w->st = st;
    return TR_OK;
}

/* Hidden layer of one state: v = low_b + sum of the six slots' rows (or
 * pads), maxout over its 2 pieces (first maximum wins). */
static void hidden(const tr_trainer *t, const int *ids, float *h, unsigned char *wh)
{
    int nH = t->d.nH, F = TR_NF * TR_HP * nH;
    float v[2 * 256];
    memcpy(v, t->P.low_b, sizeof(float) * 2 * (size_t)nH);
    for (int f = 0; f < TR_NF; f++) {
        const float *src = ids[f] >= 0 ? t->w->Yf + (size_t)ids[f] * F + f * 2 * nH
                                       : t->P.low_pad + f * 2 * nH;
        for (int j = 0; j < 2 * nH; j++)
            v[j] += src[j];
    }
    for (int o = 0; o < nH; o++) {
        int k = v[nH + o] > v[o];
        h[o] = v[k * nH + o];
        wh[o] = (unsigned char)k;
    }
}

/* cpu_log_loss for one state: d (C) and the loss -log P(gold). */
static double state_loss(const tr_trainer *t, const float *z, const unsigned char *valid,
                         const int *cost, float *d, unsigned char *seen)
{
    int C = t->d.C, best = -1, mincost = 1;
    for (int k = 0; k < C; k++)
        if (valid[k] && cost[k] < mincost)
            mincost = cost[k];
    for (int k = 0; k < C; k++)
        if (valid[k] && cost[k] <= mincost && (best < 0 || z[k] > z[best]))
            best = k;
    double mx = z[0];
    for (int k = 1; k < C; k++)
        if (z[k] > mx)
            mx = z[k];
    double Z = 0, gZ = 0;
    for (int k = 0; k < C; k++) {
        Z += exp((double)z[k] - mx);
        if (cost[k] <= cost[best])
            gZ += exp((double)z[k] - z[best]);
    }
    for (int k = 0; k < C; k++) {
        double p = exp((double)z[k] - mx) / Z;
        if (cost[k] <= cost[best])
            p -= exp((double)z[k] - z[best]) / gZ;
        d[k] = (float)p;
        if (valid[k] && cost[k] <= 0)
            seen[k] = 1;
    }
    return (log(Z) + mx) - (log(gZ) + z[best]);
}

void tr__parse(tr_trainer *t, int ns, int max_steps, float drop, tr_result *res)
{
    tr_work *w = t->w;
    int nH = t->d.nH, C = t->d.C, nact = 0, pos = 0, any_unseen = 0;
    unsigned char seen[TR_MAX_CLASSES] = {0}, valid[TR_MAX_CLASSES];
    int cost[TR_MAX_CLASSES];
    for (int k = 0; k < C; k++)
        any_unseen |= t->unseen[k];
    for (int s = 0; s < ns; s++)
        w->act[nact++] = s;
    res->states = (size_t)ns;
    res->steps = (size_t)max_steps;
    for (int step = 0; step < max_steps && nact > 0; step++) {
        for (int j = 0; j < nact; j++) {
            int *ids = w->ids + (size_t)(pos + j) * TR_NF;
            tr__context(&w->st[w->act[j]], ids);
            hidden(t, ids, w->H + (size_t)(pos + j) * nH, w->hwh + (size_t)(pos + j) * nH);
        }
        float *H = w->H + (size_t)pos * nH, *hm = w->hmk + (size_t)pos * nH;
        w->drop_on = drop > 0;
        if (drop > 0) {
            tr__mask(t, "hidden", drop, hm, (size_t)nact * nH);
            for (size_t i = 0; i < (size_t)nact * nH; i++)
                H[i] *= hm[i];
        }
        tr__gemm_ex(t, H, (size_t)nH, nact, w->pk_up, nH, C, w->sc, (size_t)C, 0);
        float mn = INFINITY;
        for (int j = 0; j < nact; j++) {
            float *z = w->sc + (size_t)j * C;
            for (int k = 0; k < C; k++) {
                z[k] += t->P.up_b[k];
                if (z[k] < mn)
                    mn = z[k];
            }
        }
        for (int j = 0; any_unseen && j < nact; j++)
            for (int k = 0; k < C; k++)
                if (t->unseen[k])
                    w->sc[(size_t)j * C + k] = mn;
        for (int j = 0; j < nact; j++) {
            tr_state *s = &w->st[w->act[j]];
            const float *z = w->sc + (size_t)j * C;
            float *d = w->D + (size_t)(pos + j) * C;
            int best = -1;
            for (int k = 0; k < C; k++) {
                valid[k] = (unsigned char)tr__valid(s, t->classes[k], w->space);
                cost[k] = valid[k] ? tr__cost(s, t->classes[k], w->gold) : 9000;
                if (valid[k] && (best < 0 || z[k] > z[best]))
                    best = k;
            }
            res->loss += state_loss(t, z, valid, cost, d, seen);
            for (int k = 0; k < C; k++) {
                res->d2 += (double)d[k] * d[k];
                if (t->unseen[k])
                    d[k] = 0;
            }
            tr__apply(s, t->classes[best]);
            res->actions++;
            if (t->trace_n < t->trace_cap)
                t->trace[t->trace_n++] = best;
        }
        pos += nact;
        int m = 0;
        for (int j = 0; j < nact; j++)
            if (w->st[w->act[j]].i < w->st[w->act[j]].n)
                w->act[m++] = w->act[j];
        nact = m;
    }
    w->S_used = pos;
    for (int k = 0; k < C; k++)
        if (seen[k])
            t->unseen[k] = 0;
}

void tr__parse_back(tr_trainer *t)
{
    tr_work *w = t->w;
    int nH = t->d.nH, C = t->d.C, S = w->S_used, F = TR_NF * TR_HP * nH;
    if (!S)
        return;
    tr__gemm_tn(t, w->H, (size_t)nH, S, nH, w->D, (size_t)C, C, t->G.up_w, (size_t)C);
    for (int s = 0; s < S; s++)
        for (int k = 0; k < C; k++)
            t->G.up_b[k] += w->D[(size_t)s * C + k];
    tr__gemm_ex(t, w->D, (size_t)C, S, w->pt_up, C, nH, w->dH, (size_t)nH, 0);
    int masked = w->drop_on;
    for (int s = 0; s < S; s++) {
        float dv[2 * 256] = {0};
        const float *dh = w->dH + (size_t)s * nH;
        const unsigned char *wh = w->hwh + (size_t)s * nH;
        for (int o = 0; o < nH; o++)
            dv[wh[o] * nH + o] = masked ? dh[o] * w->hmk[(size_t)s * nH + o] : dh[o];
        for (int j = 0; j < 2 * nH; j++)
            t->G.low_b[j] += dv[j];
        const int *ids = w->ids + (size_t)s * TR_NF;
        for (int f = 0; f < TR_NF; f++) {
            float *dst = ids[f] >= 0 ? w->dYf + (size_t)ids[f] * F + f * 2 * nH
                                     : t->G.low_pad + f * 2 * nH;
            for (int j = 0; j < 2 * nH; j++)
                dst[j] += dv[j];
        }
    }
}
