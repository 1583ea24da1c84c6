/* libFuzzer target: the SAM template reader on arbitrary bytes (YAML of
 * any shape, intrinsics, huge or deep documents).  Must never crash; a
 * loaded template must respect its own bounds. */
#include <stdlib.h>

#include "template.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    char err[512];
    sam_template *t = NULL;
    const char *ov[] = {"MemorySize=1024"};
    if (sam_load_mem("fuzz.yaml", (const char *)data, size, ov, size & 1, &t, err,
                     sizeof err) == 0) {
        if (!t || t->n_functions > SAM_MAX_FUNCTIONS || t->n_routes > SAM_MAX_ROUTES ||
            t->n_apis > SAM_MAX_APIS)
            abort();
        for (size_t i = 0; i < t->n_routes; i++)
            if (t->routes[i].function < 0 || (size_t)t->routes[i].function >= t->n_functions ||
                t->routes[i].api < 0 || (size_t)t->routes[i].api >= t->n_apis)
                abort();
    } else if (t) {
        abort();
    }
    free(t);
    return 0;
}
