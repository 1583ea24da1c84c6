/* libFuzzer target: the SAM template reader on arbitrary bytes (YAML of
 * any shape, intrinsics, huge or deep documents, REST APIs, Auth blocks,
 * API keys and usage plans).  Must never crash; a loaded template must
 * respect its own bounds and point only at what it holds. */
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
        for (size_t i = 0; i < t->n_routes; i++) {
            const sam_route *r = &t->routes[i];
            if (r->function < 0 || (size_t)r->function >= t->n_functions || r->api < 0 ||
                (size_t)r->api >= t->n_apis || r->authorizer < SAM_AUTH_IAM ||
                r->authorizer >= (int)t->n_authorizers || r->n_scopes > SAM_MAX_LIST ||
                (t->apis[r->api].type == SAM_REST_API) != (r->resource >= 0) ||
                r->resource >= (int)t->n_resources)
                abort();
        }
        for (size_t i = 0; i < t->n_resources; i++)
            for (int m = 0; m < SAM_N_METHODS; m++)
                if (t->resources[i].methods[m] >= (int)t->n_routes)
                    abort();
        for (size_t i = 0; i < t->n_authorizers; i++)
            if (t->authorizers[i].function >= (int)t->n_functions)
                abort();
        for (size_t i = 0; i < t->n_plan_keys; i++)
            if (t->plan_keys[i].plan >= (int)t->n_plans || t->plan_keys[i].key >= (int)t->n_keys)
                abort();
    } else if (t) {
        abort();
    }
    free(t);
    return 0;
}
