/*
 * Layers in the SAM template reader: a function's `Layers` (Globals'
 * first, then its own, at most 5), each an AWS::Serverless::LayerVersion
 * of the template (`!Ref MyLayer`: its ContentUri, a local directory,
 * resolved against the template's directory) or a published layer's ARN
 * (kept, with no directory: it cannot be had locally); and the path
 * resolution CodeUri and ContentUri share.
 */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <string.h>

#include "template_int.h"

int sam__path(ctx *c, yaml_node_t *n, const char *key, char *out, size_t cap)
{
    char s[1024];
    if (sam__scalar(c, n, key, s, sizeof s))
        return -1;
    if (s[0] == '/') {
        snprintf(out, cap, "%s", s);
        return 0;
    }
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", c->t->path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = 0;
    else
        snprintf(dir, sizeof dir, ".");
    if (snprintf(out, cap, "%s/%s", dir, s) >= (int)cap)
        return sam__fail(c, n, key, "path too long");
    return 0;
}

/* The layer resource `name` (its ContentUri) into l. */
static int layer_resource(ctx *c, yaml_node_t *at, const char *name, sam_layer *l)
{
    static const char *const keys[] = {"ContentUri", "LayerName", "Description",
        "CompatibleRuntimes", "CompatibleArchitectures", "LicenseInfo", "RetentionPolicy",
        "PublishLambdaVersion", NULL};
    yaml_node_t *res = sam__map_get(c, c->resources, name);
    char type[128] = "";
    if (res && sam__scalar(c, sam__map_get(c, res, "Type"), "Type", type, sizeof type))
        return -1;
    if (strcmp(type, "AWS::Serverless::LayerVersion"))
        return sam__fail(c, at, "Layers", "'%s' is %s%s: a layer runs locally when it is an "
                         "AWS::Serverless::LayerVersion of the template (or given by ARN)",
                         name, type[0] ? "an " : "not a resource of the template", type);
    yaml_node_t *props = sam__map_get(c, res, "Properties"), *n;
    if (sam__check_keys(c, props, name, keys))
        return -1;
    if (!(n = sam__map_get(c, props, "ContentUri")))
        return sam__fail(c, props ? props : res, name, "ContentUri is required");
    yaml_node_t *arg;
    if (n->type != YAML_SCALAR_NODE && !sam__intrinsic(c, n, &arg))
        return sam__fail(c, n, "ContentUri", "only a local directory runs locally "
                         "(not an S3 location)");
    snprintf(l->name, sizeof l->name, "%s", name);
    return sam__path(c, n, "ContentUri", l->dir, sizeof l->dir);
}

int sam__function_layers(ctx *c, yaml_node_t *n, sam_function *f)
{
    if (n->type != YAML_SEQUENCE_NODE)
        return sam__fail(c, n, "Layers", "expected a list");
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++) {
        yaml_node_t *item = sam__node(c, *it);
        char v[SAM_STR];
        if (sam__scalar(c, item, "Layers", v, sizeof v))
            return -1;
        if (f->n_layers == SAM_MAX_LAYERS)
            return sam__fail(c, item, "Layers", "more than %d layers (Lambda's limit)",
                             SAM_MAX_LAYERS);
        sam_layer *l = &f->layers[f->n_layers];
        memset(l, 0, sizeof *l);
        if (!strncmp(v, "arn:", 4)) {
            if (!strstr(v, ":layer:"))
                return sam__fail(c, item, "Layers", "'%s' is not a layer version ARN", v);
            snprintf(l->name, sizeof l->name, "%s", v);
        } else if (layer_resource(c, item, v, l)) {
            return -1;
        }
        f->n_layers++;
    }
    return 0;
}
