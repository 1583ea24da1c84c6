/*
 * Internals of the SAM template reader shared by template.c (resources:
 * functions, events, APIs, the whole load) and template_eval.c (values:
 * scalars, intrinsics, Parameters, Conditions).  Not a public interface.
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
} ctx;


/* Errors: formats "FILE:LINE: key: message" into c->err; returns -1. */
int sam__fail(ctx *c, const yaml_node_t *n, const char *key, const char *fmt, ...)
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

#endif
