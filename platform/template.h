/*
 * The SAM template reader of the local platform: loads a template.yaml
 * (libyaml), resolves Parameters (with --parameter-overrides), Globals,
 * !Ref / !Sub / Fn:: forms, and yields the functions, HTTP APIs and routes
 * the platform runs.  Invalid or unsupported input is refused with an error
 * naming the file, line and key.
 */
#ifndef NERD_TEMPLATE_H
#define NERD_TEMPLATE_H

#include <stddef.h>

#define SAM_MAX_FUNCTIONS 32
#define SAM_MAX_APIS 8
#define SAM_MAX_ROUTES 64
#define SAM_MAX_ENV 64
#define SAM_MAX_PARAMS 64
#define SAM_MAX_LIST 16
#define SAM_STR 256

typedef struct sam_kv {
    char key[SAM_STR];
    char value[1024];
} sam_kv;

typedef struct sam_function {
    char name[SAM_STR];         /* logical id */
    char code_uri[1024];        /* resolved against the template's directory */
    char handler[SAM_STR];
    char runtime[64];
    char arch[16];              /* x86_64 | arm64 */
    int memory_mb;              /* default 128 */
    int timeout_s;              /* default 3 */
    int reserved;               /* ReservedConcurrentExecutions, -1 = none */
    int provisioned;            /* ProvisionedConcurrentExecutions, 0 = none */
    char alias[64];             /* AutoPublishAlias, "" = none */
    size_t n_env;
    sam_kv env[SAM_MAX_ENV];
    /* EventInvokeConfig (asynchronous invocations) */
    int async_retries;          /* MaximumRetryAttempts, default 2 */
    int max_event_age_s;        /* MaximumEventAgeInSeconds, default 21600 */
    char on_failure[SAM_STR];   /* DestinationConfig.OnFailure: "Type Destination", "" = none */
    char on_success[SAM_STR];   /* DestinationConfig.OnSuccess */
    int line;                   /* where it is defined */
} sam_function;

typedef struct sam_api {
    char name[SAM_STR];         /* logical id; "ServerlessHttpApi" when implicit */
    int cors;                   /* CorsConfiguration present */
    size_t n_origins, n_methods, n_headers, n_expose;
    char origins[SAM_MAX_LIST][SAM_STR], methods[SAM_MAX_LIST][16];
    char headers[SAM_MAX_LIST][SAM_STR], expose[SAM_MAX_LIST][SAM_STR];
    int max_age;                /* -1 = none */
    int allow_credentials;
    double rate_limit;          /* DefaultRouteSettings ThrottlingRateLimit, 0 = none */
    int burst_limit;            /* ThrottlingBurstLimit, 0 = none */
    size_t n_route_settings;    /* RouteSettings: per route key ("POST /ner") */
    struct {
        char key[SAM_STR];
        double rate_limit;
        int burst_limit;
        int present;            /* a throttling limit was given */
    } route_settings[SAM_MAX_ROUTES];
} sam_api;

typedef struct sam_route {
    char method[16];            /* GET, POST, ..., or ANY */
    char path[SAM_STR];         /* /ner, /items/{id}, /{proxy+}, or $default */
    int function;               /* index into functions */
    int api;                    /* index into apis */
    int timeout_ms;             /* TimeoutInMillis (integration timeout), default 30000 */
    int throttled;              /* 1: rate_limit/burst_limit below override the API's */
    double rate_limit;          /* RouteSettings of the API or of the event */
    int burst_limit;
    int line;
} sam_route;

typedef struct sam_template {
    char path[1024];
    size_t n_functions, n_apis, n_routes, n_params;
    sam_function functions[SAM_MAX_FUNCTIONS];
    sam_api apis[SAM_MAX_APIS];
    sam_route routes[SAM_MAX_ROUTES];
    sam_kv params[SAM_MAX_PARAMS];
} sam_template;

/* Loads the template at path.  overrides: "Name=Value" strings (may be
 * NULL), as `sam --parameter-overrides` takes them.  Returns 0 and a
 * malloc'd template in *out (free with free()), or -1 with a message
 * "FILE:LINE: KEY: problem" in err. */
int sam_load(const char *path, const char *const *overrides, size_t n_overrides,
             sam_template **out, char *err, size_t errlen);

/* The same on a template held in memory; `name` is used in messages and
 * CodeUri paths are resolved against its directory. */
int sam_load_mem(const char *name, const char *yaml, size_t len,
                 const char *const *overrides, size_t n_overrides,
                 sam_template **out, char *err, size_t errlen);

#endif
