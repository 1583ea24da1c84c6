/* libFuzzer target: the trainer's update (tr_update) on arbitrary
 * documents: lines "token<TAB>tag", a blank line between documents (at
 * most 8 documents, 256 tokens).  Any tag sequence (invalid BILUO, unknown
 * labels, entities on whitespace tokens, missing runs), any token bytes:
 * the update must succeed or refuse with TR_ETAG, TR_ELABEL, TR_EORACLE or
 * TR_EINVAL, never crash, and a successful one reports a finite,
 * non-negative loss.  One trainer (fine-tuning $NERD_MODEL or the bundled
 * model) serves every input; a first byte 'n' sends the tags as numbers
 * (tr_tag) instead of strings. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nerd/ner.h"
#include "nerd/train.h"

#include "fuzz_ner.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

enum { MAXD = 8, MAXT = 256 };

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    static tr_trainer *T;
    if (!T && tr_new(M, NULL, NULL, NULL, 0, &T))
        abort();
    int numeric = size > 0 && data[0] == 'n';
    char *buf = malloc(size + 1);
    memcpy(buf, data, size);
    buf[size] = 0;
    tr_token tok[MAXT];
    const char *tags[MAXT];
    tr_tag gold[MAXT];
    tr_doc docs[MAXD];
    size_t nd = 0, nt = 0, start = 0;
    char *p = buf + numeric;
    while (p && nd < MAXD) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = 0;
        char *tab = strchr(p, '\t');
        if (*p && nt < MAXT) {
            if (tab)
                *tab = 0;
            const char *tag = tab ? tab + 1 : "O";
            tok[nt] = (tr_token){p, strlen(p), NULL, 0};
            tags[nt] = tag;
            int li = tr_label_find(T, tag[0] && tag[1] == '-' ? tag + 2 : "");
            gold[nt] = (tr_tag){(uint8_t)(tag[0] == 'B' ? 1 : tag[0] == 'I' ? 2 : tag[0] == 'L' ? 3
                                          : tag[0] == 'U' ? 4 : tag[0] == 'O' ? 5 : 0),
                                (int16_t)li};
            nt++;
        }
        if ((!*p || !nl) && nt > start) {
            docs[nd++] = (tr_doc){tok + start, nt - start, numeric ? NULL : tags + start,
                                  numeric ? gold + start : NULL};
            start = nt;
        }
        p = nl ? nl + 1 : NULL;
    }
    if (nd) {
        tr_result r;
        int rc = tr_update(T, docs, nd, 0.1f, 0, &r);
        if (rc == TR_OK) {
            if (!isfinite(r.loss) || r.loss < 0 || !isfinite(r.d2) || r.tokens != nt)
                abort();
        } else if (rc != TR_ETAG && rc != TR_ELABEL && rc != TR_EORACLE && rc != TR_EINVAL) {
            abort();
        }
    }
    free(buf);
    return 0;
}
