/*
 * The trained model as an ordinary model file: the averaged parameters
 * (as spaCy saves them; the current ones before any update) packed as the
 * engine reads them (model.h), the trainer's classes and labels, a META
 * line naming the base, and the base model's tokenizer and lexical
 * sections unchanged.  Up to 80 classes the file is format 1 (the output
 * layer 80 wide, as every earlier nerd reads it); more make it format 2
 * (the width rounded up to NN_CLS_ALIGN, in the TENSORS header).
 * Deterministic: the same trainer state, the same bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "train_int.h"

static int tensors(const tr_trainer *t, unsigned char **out, size_t *len)
{
    tr_tensors S;
    tr__views(t, t->blk_t[0] ? t->avg : t->p, &S);
    size_t offs[MODEL_N_TENSORS];
    int cols = NN_CLS_WIDTH(t->d.C);
    size_t nfl = model__tensor_layout(t->d.rows, cols, offs, MODEL_N_TENSORS);
    size_t n = MODEL_TENSOR_HDR + nfl * sizeof(float);
    unsigned char *b = calloc(1, n);
    if (!b)
        return TR_ENOMEM;
    uint32_t hdr[MODEL_TENSOR_HDR / 4] = {0};
    for (int f = 0; f < 4; f++) {
        hdr[f] = t->d.rows[f];
        hdr[4 + f] = t->d.seeds[f];
    }
    hdr[8] = (uint32_t)t->d.C;
    if (cols != NN_CLS_PAD) /* format 2: the output layer's width */
        hdr[9] = (uint32_t)cols;
    memcpy(b, hdr, sizeof hdr);
    float *fl = (float *)(void *)(b + MODEL_TENSOR_HDR);
    int k = 0;
    size_t W = NN_W;
    for (int f = 0; f < 4; f++)
        memcpy(fl + offs[k++], S.emb[f], sizeof(float) * t->d.rows[f] * W);
    nn_pack(S.mix_w, NN_P * W, 0, NN_EMB_IN, NN_P * NN_W, fl + offs[k++]);
    memcpy(fl + offs[k++], S.mix_b, sizeof(float) * NN_P * W);
    memcpy(fl + offs[k++], S.mix_g, sizeof(float) * W);
    memcpy(fl + offs[k++], S.mix_beta, sizeof(float) * W);
    for (int d = 0; d < NN_DEPTH; d++) {
        nn_pack(S.cnn_w[d], NN_P * W, 0, NN_WIN, NN_P * NN_W, fl + offs[k++]);
        memcpy(fl + offs[k++], S.cnn_b[d], sizeof(float) * NN_P * W);
        memcpy(fl + offs[k++], S.cnn_g[d], sizeof(float) * W);
        memcpy(fl + offs[k++], S.cnn_beta[d], sizeof(float) * W);
    }
    nn_pack(S.low_w, NN_LOWER, 0, NN_W, NN_LOWER, fl + offs[k++]);
    memcpy(fl + offs[k++], S.low_b, sizeof(float) * NN_HP * NN_H);
    memcpy(fl + offs[k++], S.low_pad, sizeof(float) * NN_LOWER);
    float *uw = fl + offs[k++], *ub = fl + offs[k++];
    for (int h = 0; h < NN_H; h++)
        memcpy(uw + (size_t)h * cols, S.up_w + (size_t)h * t->d.C, sizeof(float) * (size_t)t->d.C);
    memcpy(ub, S.up_b, sizeof(float) * (size_t)t->d.C);
    *out = b;
    *len = n;
    return TR_OK;
}

int tr_export(const tr_trainer *t, void **out, size_t *len)
{
    if (out)
        *out = NULL;
    if (len)
        *len = 0;
    if (!t || !out || !len || !t->base)
        return TR_EINVAL;
    if (t->d.W != NN_W || t->d.nH != NN_H || t->d.depth != NN_DEPTH || t->d.C > NN_NCLASS_MAX)
        return TR_EMODEL;
    model_blob sec[SEC_COUNT_];
    memset(sec, 0, sizeof sec);
    static const uint32_t keep[] = {SEC_PATTERNS, SEC_SPECIALS, SEC_NORMS, SEC_SYMBOLS, SEC_POOL};
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        const unsigned char *p;
        if (model__section(t->base, keep[i], &p, &sec[keep[i]].n))
            return TR_EMODEL;
        sec[keep[i]].p = p;
    }
    unsigned char *ten = NULL, *cls = NULL, *lab = NULL;
    int rc = tensors(t, &ten, &sec[SEC_TENSORS].n);
    size_t nlab = 4;
    for (int i = 0; i < t->n_labels; i++)
        nlab += strlen(t->labels[i]) + 1;
    size_t ncls = 4 + sizeof(model_class) * (size_t)t->d.C;
    cls = malloc(ncls);
    lab = malloc(nlab);
    if (!rc && (!cls || !lab))
        rc = TR_ENOMEM;
    if (!rc) {
        uint32_t n = (uint32_t)t->d.C;
        memcpy(cls, &n, 4);
        memcpy(cls + 4, t->classes, sizeof(model_class) * n);
        n = (uint32_t)t->n_labels;
        memcpy(lab, &n, 4);
        size_t o = 4;
        for (int i = 0; i < t->n_labels; i++) {
            size_t l = strlen(t->labels[i]) + 1;
            memcpy(lab + o, t->labels[i], l);
            o += l;
        }
        sec[SEC_TENSORS].p = ten;
        sec[SEC_CLASSES] = (model_blob){cls, ncls};
        sec[SEC_LABELS] = (model_blob){lab, nlab};
        sec[SEC_META] = (model_blob){t->about, strlen(t->about) + 1};
        uint32_t version = NN_CLS_WIDTH(t->d.C) == NN_CLS_PAD ? MODEL_VERSION : MODEL_VERSION_WIDE;
        rc = model__assemble(sec, version, out, len) ? TR_ENOMEM : TR_OK;
    }
    free(ten);
    free(cls);
    free(lab);
    return rc;
}

int tr_write(const tr_trainer *t, const char *path)
{
    if (!t || !path)
        return TR_EINVAL;
    void *buf;
    size_t len;
    int rc = tr_export(t, &buf, &len);
    if (rc)
        return rc;
    rc = model__write_file(path, buf, len) ? TR_EIO : TR_OK;
    free(buf);
    return rc;
}
