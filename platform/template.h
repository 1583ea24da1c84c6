/*
 * The SAM template reader of the local platform: loads a template.yaml
 * (libyaml), resolves Parameters (with --parameter-overrides), Globals,
 * !Ref / !Sub / Fn:: forms, and yields what the platform runs: functions,
 * HTTP APIs and REST APIs with their routes (REST: a resource tree per
 * API, as API Gateway builds it), and what decides who may call them:
 * authorizers, API keys, usage plans.  Invalid or unsupported input is
 * refused with an error naming the file, line and key.  Everything here is
 * plain data, fixed-size and stable: the gateway's stages read it, none
 * writes it.
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
#define SAM_MAX_RESOURCES 256      /* REST resources, all APIs together */
#define SAM_MAX_STAGE_VARS 100     /* per stage, as API Gateway allows */
#define SAM_MAX_METHOD_SETTINGS 32
#define SAM_MAX_AUTHORIZERS 16
#define SAM_MAX_KEYS 16
#define SAM_MAX_PLANS 16
#define SAM_MAX_PLAN_KEYS 32
#define SAM_STAGE 129              /* a stage name: [A-Za-z0-9_-], at most 128 */
#define SAM_MAX_LAYERS 5           /* a function's Layers, as Lambda allows */

typedef struct sam_kv {
    char key[SAM_STR];
    char value[1024];
} sam_kv;

/* One of a function's Layers: an AWS::Serverless::LayerVersion of the
 * template (its ContentUri), or a published layer's ARN (not available
 * locally: dir is ""). */
typedef struct sam_layer {
    char name[SAM_STR];         /* the layer's logical id, or the ARN as written */
    char dir[1024];             /* ContentUri resolved against the template's directory */
} sam_layer;

typedef struct sam_function {
    char name[SAM_STR];         /* logical id */
    char code_uri[1024];        /* resolved against the template's directory */
    char handler[SAM_STR];
    char runtime[64];           /* provided.al2023 | provided.al2 | provided | python3.N |
                                 * nodejsN.x (platform/langrt.h) */
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
    size_t n_layers;            /* Layers (Globals' first), in order: later ones win */
    sam_layer layers[SAM_MAX_LAYERS];
    int line;                   /* where it is defined */
} sam_function;

typedef enum sam_api_type {
    SAM_HTTP_API = 0,           /* AWS::Serverless::HttpApi (implicit: ServerlessHttpApi) */
    SAM_REST_API = 1            /* AWS::Serverless::Api (implicit: ServerlessRestApi) */
} sam_api_type;

/* Auth.UsagePlan.CreateUsagePlan of a REST API. */
typedef enum sam_plan_mode {
    SAM_PLAN_UNSET = 0,         /* no UsagePlan block */
    SAM_PLAN_NONE,
    SAM_PLAN_PER_API,           /* <Api>UsagePlan, <Api>ApiKey, <Api>UsagePlanKey */
    SAM_PLAN_SHARED             /* ServerlessUsagePlan, ServerlessApiKey, ... */
} sam_plan_mode;

/* An API's Auth block (REST and HTTP APIs; each key says which). */
typedef struct sam_api_auth {
    char default_authorizer[SAM_STR]; /* DefaultAuthorizer: a name of authorizers
                                       * (of this API), "AWS_IAM", or "" = none */
    int api_key_required;       /* REST ApiKeyRequired: default for every method */
    int default_auth_on_preflight;   /* REST AddDefaultAuthorizerToCorsPreflight (default 1) */
    int api_key_on_preflight;   /* REST AddApiKeyRequiredToCorsPreflight (default 1) */
    int iam_authorizer;         /* HTTP EnableIamAuthorizer */
    sam_plan_mode usage_plan;   /* REST UsagePlan.CreateUsagePlan */
    int usage_plan_index;       /* PER_API / SHARED: index into plans, else -1 */
    int line;                   /* where the Auth block is, 0 = none */
} sam_api_auth;

/* A REST MethodSettings entry (resource path "~1"-decoded). */
typedef struct sam_method_setting {
    char path[SAM_STR];         /* "/items/{id}" */
    char method[16];            /* GET, ..., ANY, or "*" (every method of the resource) */
    double rate_limit;          /* ThrottlingRateLimit */
    int burst_limit;            /* ThrottlingBurstLimit */
    int present;                /* 1: burst limit given, 2: rate limit given */
    int line;
} sam_method_setting;

typedef struct sam_api {
    char name[SAM_STR];         /* logical id; "ServerlessHttpApi" / "ServerlessRestApi"
                                 * when implicit */
    sam_api_type type;
    char stage[SAM_STAGE];      /* REST: StageName ("Prod" for the implicit API);
                                 * HTTP: StageName, else "$default" */
    int extra_stage;            /* REST: SAM's second stage "Stage" is live too
                                 * (every SAM REST API without OpenApiVersion) */
    /* CORS.  HTTP APIs: CorsConfiguration (lists).  REST APIs: Cors, whose
     * values are API Gateway's quoted expressions, unquoted here: origins[0]
     * is AllowOrigin; rest_methods, headers[0], max_age as given. */
    int cors;                   /* CORS configured */
    size_t n_origins, n_methods, n_headers, n_expose;
    char origins[SAM_MAX_LIST][SAM_STR], methods[SAM_MAX_LIST][16];
    char headers[SAM_MAX_LIST][SAM_STR], expose[SAM_MAX_LIST][SAM_STR];
    int max_age;                /* -1 = none */
    int allow_credentials;
    char rest_methods[SAM_STR]; /* REST AllowMethods, "" = the path's methods (SAM) */
    /* throttling: HTTP DefaultRouteSettings; REST the stage's default
     * default MethodSettings entry (every resource and method) */
    double rate_limit;          /* ThrottlingRateLimit, 0 = none */
    int burst_limit;            /* ThrottlingBurstLimit, 0 = none */
    size_t n_route_settings;    /* HTTP RouteSettings: per route key ("POST /ner") */
    struct {
        char key[SAM_STR];
        double rate_limit;
        int burst_limit;
        int present;            /* a throttling limit was given */
    } route_settings[SAM_MAX_ROUTES];
    /* REST only */
    size_t n_method_settings;   /* MethodSettings entries other than the default */
    sam_method_setting method_settings[SAM_MAX_METHOD_SETTINGS];
    size_t n_vars;              /* Variables: stage variables */
    struct {
        char key[65];
        char value[513];
    } vars[SAM_MAX_STAGE_VARS];
    size_t n_binary;            /* BinaryMediaTypes, "~1" decoded ("image/png", "image/png") */
    char binary[SAM_MAX_LIST][SAM_STR];
    int key_source_authorizer;  /* ApiKeySourceType AUTHORIZER (else HEADER) */
    sam_api_auth auth;
    int line;
} sam_api;

/* Methods in a fixed order (sam_resource.methods is indexed by it). */
enum { SAM_GET, SAM_POST, SAM_PUT, SAM_PATCH, SAM_DELETE, SAM_HEAD, SAM_OPTIONS, SAM_ANY,
       SAM_N_METHODS };

/* Index of method ("GET", ..., "ANY") in the order above, or -1. */
int sam_method_index(const char *method);

#define SAM_AUTH_NONE -1        /* sam_route.authorizer: no authorizer */
#define SAM_AUTH_IAM -2         /* AWS_IAM (SigV4): not emulated beyond its presence */

typedef struct sam_route {
    char method[16];            /* GET, POST, ..., or ANY */
    char path[SAM_STR];         /* /ner, /items/{id}, /{proxy+}, or $default (HTTP) */
    int function;               /* index into functions */
    int api;                    /* index into apis */
    int timeout_ms;             /* TimeoutInMillis (integration timeout): default and
                                 * maximum 30000 (HTTP), 29000 (REST) */
    int throttled;              /* 1: rate_limit/burst_limit below override the API's */
    double rate_limit;          /* HTTP: RouteSettings of the API or of the event;
                                 * REST: the method's MethodSettings entry */
    int burst_limit;
    int payload_version;        /* 1 (REST; HTTP PayloadFormatVersion "1.0") or 2 */
    int resource;               /* REST: index into resources, else -1 */
    /* Auth, resolved against the API's: */
    int authorizer;             /* index into authorizers, SAM_AUTH_NONE or SAM_AUTH_IAM */
    int api_key_required;       /* REST: the event's ApiKeyRequired, else the API's */
    size_t n_scopes;            /* AuthorizationScopes: the event's, else the
                                 * authorizer's (Cognito, JWT) */
    char scopes[SAM_MAX_LIST][SAM_STR];
    int line;
} sam_route;

/* A REST API's resource: one path part of its tree (API Gateway's
 * AWS::ApiGateway::Resource); methods hang on resources. */
typedef enum sam_part {
    SAM_PART_ROOT,              /* "/" */
    SAM_PART_LITERAL,           /* "items" */
    SAM_PART_PARAM,             /* "{id}": exactly one segment */
    SAM_PART_GREEDY             /* "{proxy+}": one or more segments, always a leaf */
} sam_part;

typedef struct sam_resource {
    int api;
    int parent;                 /* -1 for the root */
    int first_child, next_sibling;  /* -1 = none */
    sam_part kind;
    char part[SAM_STR];         /* the path part as written ("{id}") */
    char name[SAM_STR];         /* PARAM/GREEDY: the parameter's name ("id", "proxy") */
    char path[SAM_STR];         /* the resource's path ("/items/{id}"; "/" for the root) */
    char id[8];                 /* resourceId: 6 characters, stable for (API, path) */
    int methods[SAM_N_METHODS]; /* route index per method, -1 = none */
} sam_resource;

typedef enum sam_authorizer_type {
    SAM_AUTHZ_TOKEN,            /* REST Lambda authorizer, FunctionPayloadType TOKEN */
    SAM_AUTHZ_REQUEST,          /* REST Lambda authorizer, REQUEST */
    SAM_AUTHZ_COGNITO,          /* REST Cognito user pool authorizer */
    SAM_AUTHZ_LAMBDA,           /* HTTP API Lambda authorizer */
    SAM_AUTHZ_JWT               /* HTTP API JWT (OAuth2) authorizer */
} sam_authorizer_type;

typedef struct sam_authorizer {
    char name[SAM_STR];         /* its key under Auth.Authorizers */
    int api;                    /* the API whose Auth names it */
    sam_authorizer_type type;
    char function_arn[SAM_STR]; /* Lambda types: FunctionArn as written (resolved) */
    int function;               /* Lambda types: FunctionArn's function, else -1 */
    char header[SAM_STR];       /* TOKEN, COGNITO: Identity.Header ("Authorization") */
    char validation[SAM_STR];   /* TOKEN, COGNITO: Identity.ValidationExpression, "" = none */
    int ttl_s;                  /* Identity.ReauthorizeEvery: REST default 300,
                                 * HTTP Lambda default 0 (see docs/platform.md) */
    /* REQUEST and HTTP Lambda identity sources (Identity.Headers, ...) */
    size_t n_id_headers, n_id_query, n_id_stage_vars, n_id_context;
    char id_headers[SAM_MAX_LIST][SAM_STR], id_query[SAM_MAX_LIST][SAM_STR];
    char id_stage_vars[SAM_MAX_LIST][SAM_STR], id_context[SAM_MAX_LIST][SAM_STR];
    int payload_version;        /* LAMBDA: AuthorizerPayloadFormatVersion, 1 or 2 */
    int simple_responses;       /* LAMBDA: EnableSimpleResponses */
    char identity_source[SAM_STR]; /* JWT: "$request.header.Authorization" */
    char issuer[1024];          /* JWT: JwtConfiguration.issuer */
    size_t n_audience;          /* JWT: JwtConfiguration.audience */
    char audience[SAM_MAX_LIST][SAM_STR];
    size_t n_scopes;            /* COGNITO, JWT: AuthorizationScopes (route default) */
    char scopes[SAM_MAX_LIST][SAM_STR];
    size_t n_user_pools;        /* COGNITO: UserPoolArn (one or a list) */
    char user_pools[SAM_MAX_LIST][SAM_STR];
    int line;
} sam_authorizer;

/* An API key: AWS::ApiGateway::ApiKey, or one SAM makes for a usage plan. */
typedef struct sam_api_key {
    char name[SAM_STR];         /* logical id (SAM's: <Api>ApiKey, ServerlessApiKey) */
    char value[129];            /* Value (20 to 128 characters); "" = generated at start-up */
    int enabled;                /* Enabled (CloudFormation's default: false; SAM's keys: true) */
    size_t n_stage_keys;        /* StageKeys */
    struct {
        int api;
        char stage[SAM_STAGE];
    } stage_keys[SAM_MAX_LIST];
    int generated;              /* made by SAM (Auth.UsagePlan) */
    int line;
} sam_api_key;

typedef enum sam_period { SAM_PERIOD_DAY, SAM_PERIOD_WEEK, SAM_PERIOD_MONTH } sam_period;

/* A usage plan's stage (ApiStages) and its per-method throttles. */
typedef struct sam_plan_stage {
    int api;
    char stage[SAM_STAGE];
    size_t n_throttle;          /* Throttle: per method, "/path/METHOD" */
    struct sam_plan_throttle {
        char path[SAM_STR];
        char method[16];
        double rate_limit;
        int burst_limit;
    } throttle[8];
} sam_plan_stage;

/* A usage plan: AWS::ApiGateway::UsagePlan, or SAM's for Auth.UsagePlan. */
typedef struct sam_usage_plan {
    char name[SAM_STR];         /* logical id (SAM's: <Api>UsagePlan, ServerlessUsagePlan) */
    char plan_name[SAM_STR];    /* UsagePlanName */
    size_t n_stages;            /* ApiStages */
    sam_plan_stage stages[SAM_MAX_APIS];
    int quota_limit;            /* Quota.Limit, -1 = no quota */
    sam_period quota_period;    /* Quota.Period */
    int quota_offset;           /* Quota.Offset */
    int throttled;              /* Throttle given */
    double rate_limit;          /* Throttle.RateLimit */
    int burst_limit;            /* Throttle.BurstLimit */
    int generated;              /* made by SAM (Auth.UsagePlan) */
    int line;
} sam_usage_plan;

/* AWS::ApiGateway::UsagePlanKey: key in plan. */
typedef struct sam_plan_key {
    int plan, key;
} sam_plan_key;

typedef struct sam_template {
    char path[1024];
    size_t n_functions, n_apis, n_routes, n_params;
    sam_function functions[SAM_MAX_FUNCTIONS];
    sam_api apis[SAM_MAX_APIS];
    sam_route routes[SAM_MAX_ROUTES];
    sam_kv params[SAM_MAX_PARAMS];
    size_t n_resources, n_authorizers, n_keys, n_plans, n_plan_keys;
    sam_resource resources[SAM_MAX_RESOURCES];
    sam_authorizer authorizers[SAM_MAX_AUTHORIZERS];
    sam_api_key keys[SAM_MAX_KEYS];
    sam_usage_plan plans[SAM_MAX_PLANS];
    sam_plan_key plan_keys[SAM_MAX_PLAN_KEYS];
} sam_template;

/* The root resource of REST API api (an index into t->resources), or -1. */
int sam_rest_root(const sam_template *t, int api);

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
