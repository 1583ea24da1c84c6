/*
 * Internals of the SAM template reader shared by template.c (functions
 * and the whole load), template_eval.c (values: scalars, intrinsics,
 * Parameters, Conditions), template_api.c (HTTP and REST APIs, their
 * events, REST resource trees) and template_auth.c (Auth blocks,
 * authorizers, API keys and usage plans), template_layer.c (layers).
 * Not a public interface.
 */
#ifndef NERD_TEMPLATE_INT_H
#define NERD_TEMPLATE_INT_H

#include <stddef.h>
#include <yaml.h>

#include "template.h"

typedef struct ctx {
    yaml_document_t doc;
    const char *file;
    char *err;
    size_t errlen;
    sam_template *t;
    yaml_node_t *resources;
    size_t n_conds;             /* Conditions, evaluated once after Parameters */
    struct {
        const char *name;
        int value;
    } conds[SAM_MAX_PARAMS];
    yaml_node_t *globals_fn, *globals_api, *globals_http; /* Globals.Function, .Api, .HttpApi */
    struct {                    /* an event's own Auth, resolved at the end */
        char authorizer[SAM_STR];   /* Auth.Authorizer, "" = unset */
        int key_required;       /* Auth.ApiKeyRequired, -1 = unset */
        int has_scopes;         /* Auth.AuthorizationScopes given */
        int line;
    } ev_auth[SAM_MAX_ROUTES];
} ctx;


/* Errors: formats "FILE:LINE: key: message" into c->err; returns -1. */
int sam__fail(ctx *c, const yaml_node_t *n, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The same for a line known by number (checks made after reading). */
int sam__fail_at(ctx *c, int line, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
yaml_node_t *sam__node(ctx *c, int i);
const char *sam__sval(const yaml_node_t *n);      /* a scalar's text, else NULL */
const char *sam__tag(const yaml_node_t *n);
/* The intrinsic n is (!Ref, Fn::Sub, ...; NULL when none) and its argument. */
const char *sam__intrinsic(ctx *c, yaml_node_t *n, yaml_node_t **arg);
int sam__cond_value(ctx *c, const char *name);    /* 1, 0, or -1 when undefined */
yaml_node_t *sam__pick(ctx *c, yaml_node_t *n);   /* Fn::If resolved */
yaml_node_t *sam__map_get(ctx *c, yaml_node_t *map, const char *key);
int sam__copy(ctx *c, const yaml_node_t *n, const char *key, char *out, size_t cap,
              const char *s, size_t len);
/* A scalar with its intrinsics evaluated, into out (cap bytes). */
int sam__scalar(ctx *c, yaml_node_t *n, const char *key, char *out, size_t cap);
int sam__integer(ctx *c, yaml_node_t *n, const char *key, int lo, int hi, int *out);
int sam__in_list(const char *k, const char *const *list);
int sam__check_keys(ctx *c, yaml_node_t *map, const char *where, const char *const *known);
int sam__load_params(ctx *c, yaml_node_t *params, const char *const *ov, size_t nov);
int sam__load_conditions(ctx *c, yaml_node_t *conds);
/* 1 when res has no Condition or its condition holds, 0 when not, -1 on error. */
int sam__resource_enabled(ctx *c, yaml_node_t *res, const char *name);
/* 1 when name is a resource SAM generates for the template's APIs
 * (ServerlessRestApi, <Api>ProdStage, <Api>ApiKey, ...): !Ref may name it. */
int sam__generated_name(ctx *c, const char *name);
int sam__boolean(ctx *c, yaml_node_t *n, const char *key, int *out);
/* A number of requests a second (>= 0). */
int sam__rate(ctx *c, yaml_node_t *n, const char *key, double *out);
/* A list of scalars into out[max][cap_each]; *count items. */
int sam__list_of(ctx *c, yaml_node_t *n, const char *key, char (*out)[SAM_STR],
                 size_t cap_each, size_t max, size_t *count);

/* template_api.c */
int sam__api_index(ctx *c, const char *name, sam_api_type type, yaml_node_t *at);
int sam__http_api_props(ctx *c, yaml_node_t *props, sam_api *a, const char *where);
int sam__rest_api_props(ctx *c, yaml_node_t *props, sam_api *a, const char *where);
int sam__load_events(ctx *c, yaml_node_t *events, int fi);
/* After every resource: RouteSettings, REST resource trees, MethodSettings. */
int sam__finish_apis(ctx *c);

/* template_auth.c */
int sam__api_auth(ctx *c, yaml_node_t *n, int api);
int sam__event_auth(ctx *c, yaml_node_t *n, int route, sam_api_type type);
/* AWS::ApiGateway::ApiKey / UsagePlan (pass 0) and UsagePlanKey (pass 1). */
int sam__gateway_resource(ctx *c, const char *type, yaml_node_t *kn, yaml_node_t *res,
                          int pass);
/* After every resource: authorizers' functions, each route's Auth, SAM's
 * usage plans. */
int sam__finish_auth(ctx *c);

/* template_layer.c */
/* A path property (CodeUri, ContentUri) resolved against the template's
 * directory into out. */
int sam__path(ctx *c, yaml_node_t *n, const char *key, char *out, size_t cap);
/* A function's Layers list, appended to f's. */
int sam__function_layers(ctx *c, yaml_node_t *n, sam_function *f);

#endif
