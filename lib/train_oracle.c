/*
 * The BILUO transition system in training (spaCy v2.2.4's BiluoPushDown,
 * ner.pyx): gold tags, the validity of each move in a state (training
 * documents carry no preset entities), the dynamic oracle's costs, the
 * moves themselves, the parser's six context tokens, and how a batch is
 * cut into chunks that each start from a gold configuration
 * (_init_gold_batch).  Pure functions of their arguments.
 */
#include <string.h>

#include "train_int.h"

int tr_label_find(const tr_trainer *t, const char *name)
{
    for (int i = 0; t && name && i < t->n_labels; i++)
        if (strcmp(t->labels[i], name) == 0)
            return i;
    return -1;
}

int tr__gold_tag(const tr_trainer *t, tr_tag tag, tr_gold *out)
{
    out->move = TR_MISSING;
    out->label = -1;
    if (tag.move > TR_OUT)
        return TR_ETAG;
    out->move = tag.move;
    if (tag.move >= TR_BEGIN && tag.move <= TR_UNIT) {
        if (tag.label < 0 || tag.label >= t->n_labels)
            return TR_ELABEL;
        out->label = tag.label;
    }
    return TR_OK;
}

int tr__parse_tag(const tr_trainer *t, const char *tag, tr_gold *out)
{
    out->move = TR_MISSING;
    out->label = -1;
    if (!tag || !tag[0] || strcmp(tag, "-") == 0)
        return TR_OK;
    if (strcmp(tag, "O") == 0) {
        out->move = TR_OUT;
        return TR_OK;
    }
    if (strcmp(tag, "!O") == 0) {
        out->move = TR_ISNT;
        return TR_OK;
    }
    static const char moves[] = "BILU";
    const char *m = strchr(moves, tag[0]);
    if (!m || tag[1] != '-' || !tag[2])
        return TR_ETAG;
    const char *name = tag + 2;
    out->move = (int16_t)(TR_BEGIN + (m - moves));
    if (name[0] == '!') {
        out->move = TR_ISNT;
        name++;
        if (!name[0])
            return TR_ETAG;
    }
    int li = tr_label_find(t, name);
    if (li < 0)
        return TR_ELABEL;
    out->label = (int16_t)li;
    return TR_OK;
}

static int B1(const tr_state *s) { return s->i + 1 < s->n ? s->i + 1 : -1; }

/* spaCy's E(0): the last entity's start while 0 < entities < length. */
static int E0(const tr_state *s)
{
    return s->n_ents > 0 && s->n_ents < s->n ? s->e0 : -1;
}

static int E0_label(const tr_state *s)
{
    return E0(s) >= 0 ? s->e0_label : -1;
}

int tr__valid(const tr_state *s, model_class c, const unsigned char *space)
{
    int L = c.label, sp = space[s->off + s->i];
    switch (c.move) {
    case TR_BEGIN:
        return L >= 0 && !s->open && B1(s) != -1 && !sp;
    case TR_IN:
        return L >= 0 && s->open && E0_label(s) == L && B1(s) != -1;
    case TR_LAST:
        return L >= 0 && s->open && E0_label(s) == L;
    case TR_UNIT:
        return L >= 0 && !s->open && !sp;
    case TR_OUT:
        return !s->open;
    default:
        return 0;
    }
}

int tr__cost(const tr_state *s, model_class c, const tr_gold *gold)
{
    tr_gold g = gold[s->off + s->i];
    int L = c.label;
    switch (c.move) {
    case TR_BEGIN:
    case TR_UNIT: {
        int same = c.move == TR_BEGIN ? TR_BEGIN : TR_UNIT;
        if (g.move == TR_MISSING)
            return 0;
        if (g.move == same)
            return L != g.label;
        if (g.move == TR_ISNT)
            return L == g.label;
        return 1;
    }
    case TR_OUT:
        if (g.move == TR_ISNT)
            return g.label < 0;
        return g.move == TR_BEGIN || g.move == TR_UNIT;
    case TR_IN:
    case TR_LAST:
        break;
    default:
        return 9000;
    }
    int sunk = 0;
    if (s->open) {
        tr_gold g0 = gold[s->off + E0(s)];
        sunk = (g0.move != TR_BEGIN && g0.move != TR_UNIT) || g0.label != E0_label(s);
    }
    if (c.move == TR_LAST)
        return g.move == TR_IN ? !sunk : 0;
    int b1 = B1(s);
    int next = b1 >= 0 ? gold[s->off + b1].move : TR_OUT;
    int next_out = next == TR_OUT || next == TR_MISSING;
    switch (g.move) {
    case TR_LAST:
        return !(sunk && next_out);
    case TR_OUT:
        return !next_out;
    case TR_UNIT:
        return next != TR_OUT;
    default: /* MISSING, BEGIN, IN, ISNT */
        return 0;
    }
}

void tr__apply(tr_state *s, model_class c)
{
    if (c.move == TR_BEGIN || c.move == TR_UNIT) {
        s->n_ents++;
        s->e0 = s->i;
        s->e0_label = c.label;
        s->open = c.move == TR_BEGIN;
    } else if (c.move == TR_LAST) {
        s->open = 0;
    }
    s->i++;
}

void tr__context(const tr_state *s, int ids[TR_NF])
{
    int b0 = s->i, e0 = E0(s);
    int loc[TR_NF] = {b0, b0 - 1, B1(s), e0, e0 >= 1 ? e0 - 1 : -1,
                      /* spaCy: with no entity yet (E0 = -1) this is token 0 */
                      e0 + 1 < s->n ? e0 + 1 : -1};
    for (int f = 0; f < TR_NF; f++)
        ids[f] = loc[f] >= 0 ? loc[f] + s->off : -1;
}

int tr__oracle(const tr_trainer *t, const tr_state *s, const tr_gold *gold,
                  const unsigned char *space)
{
    for (int k = 0; k < t->d.C; k++)
        if (tr__valid(s, t->classes[k], space) && tr__cost(s, t->classes[k], gold) <= 0)
            return k;
    return -1;
}

static int has_gold(const tr_gold *gold, int a, int b)
{
    for (int i = a; i < b; i++)
        if (gold[i].move != TR_MISSING)
            return 1;
    return 0;
}

int tr__chunks(const tr_trainer *t, const int *offs, int nd, const tr_gold *gold,
               const unsigned char *space, int cut, tr_state *states, int *max_steps)
{
    int shortest = -1;
    for (int d = 0; d < nd; d++)
        if (shortest < 0 || offs[d + 1] - offs[d] < shortest)
            shortest = offs[d + 1] - offs[d];
    int L = cut > 0 ? cut : 1 << 30;
    if (shortest >= 0 && shortest < L)
        L = shortest;
    if (L < 5)
        L = 5;
    int ns = 0, most = 0;
    for (int d = 0; d < nd; d++) {
        int n = offs[d + 1] - offs[d];
        if (!has_gold(gold, offs[d], offs[d + 1]))
            continue;
        tr_state s = {.off = offs[d], .n = n, .e0 = -1, .e0_label = -1};
        for (int start = 0; start < n;) {
            int moves = 0;
            while (s.i < start && s.i < n) {
                int k = tr__oracle(t, &s, gold, space);
                if (k < 0)
                    return -1 - d;
                tr__apply(&s, t->classes[k]);
                moves++;
            }
            if (s.i < n && has_gold(gold, offs[d] + start,
                                    offs[d] + (start + L < n ? start + L : n))) {
                states[ns++] = s;
                if (moves > most)
                    most = moves;
            }
            start += L < n - start ? L : n - start;
        }
        if (n - s.i > most)
            most = n - s.i;
        /* the rest of the oracle must exist too (spaCy computes it all) */
        for (tr_state r = s; r.i < n;) {
            int k = tr__oracle(t, &r, gold, space);
            if (k < 0)
                return -1 - d;
            tr__apply(&r, t->classes[k]);
        }
    }
    *max_steps = most;
    return ns;
}
