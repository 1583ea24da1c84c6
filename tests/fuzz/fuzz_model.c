/* libFuzzer target: the model loader on arbitrary bytes.  The header's
 * checksum is recomputed over the mutated bytes (when there is a header), so
 * mutations reach the structural checks behind it; any model that loads
 * must then run a sentence safely. */
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "model.h"
#include "nerd/ner.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    unsigned char *buf = aligned_alloc(64, (size + 64) / 64 * 64);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    if (size >= sizeof(model_header) && (data[0] & 1)) {
        model_header h;
        memcpy(&h, buf, sizeof h);
        h.checksum = hash_checksum(buf + sizeof h, size - sizeof h);
        memcpy(buf, &h, sizeof h);
    }
    ner_model *m = NULL;
    int rc = ner_model_load_mem(buf, size, &m);
    if (rc == NER_OK) {
        ner_ctx *c;
        if (ner_ctx_new(m, &c) == NER_OK) {
            ner_doc d;
            static const char s[] = "Alan Turing was born in London.";
            ner_extract(c, s, sizeof s - 1, &d);
            ner_ctx_free(c);
        }
    } else if (rc < 0 || rc >= NER_ERR_COUNT || m) {
        abort();
    }
    ner_model_free(m);
    free(buf);
    return 0;
}
