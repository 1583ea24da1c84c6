/*
 * Who may call a template's APIs (see template_int.h), as SAM spells it:
 * the Auth block of AWS::Serverless::Api (Lambda TOKEN/REQUEST and Cognito
 * authorizers, DefaultAuthorizer, ApiKeyRequired, UsagePlan, the CORS
 * preflight switches) and of AWS::Serverless::HttpApi (JWT and Lambda
 * authorizers, DefaultAuthorizer, EnableIamAuthorizer), each event's own
 * Auth, the AWS::ApiGateway::ApiKey / UsagePlan / UsagePlanKey resources,
 * and at the end what SAM derives: each route's authorizer, scopes and
 * key requirement, and the usage plans and keys of Auth.UsagePlan.
 */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "template_int.h"

/* A scalar or a list of scalars. */
static int one_or_list(ctx *c, yaml_node_t *n, const char *key, char (*out)[SAM_STR],
                       size_t *count)
{
    if (n->type == YAML_SEQUENCE_NODE)
        return sam__list_of(c, n, key, out, SAM_STR, SAM_MAX_LIST, count);
    *count = 1;
    return sam__scalar(c, n, key, out[0], SAM_STR);
}

static int ttl(ctx *c, yaml_node_t *id, int *out)
{
    yaml_node_t *v = sam__map_get(c, id, "ReauthorizeEvery");
    return v ? sam__integer(c, v, "ReauthorizeEvery", 0, 3600, out) : 0;
}

/* Identity.Headers / QueryStrings / StageVariables / Context. */
static int identity_sources(ctx *c, yaml_node_t *id, sam_authorizer *z)
{
    yaml_node_t *v;
    if ((v = sam__map_get(c, id, "Headers")) &&
        sam__list_of(c, v, "Headers", z->id_headers, SAM_STR, SAM_MAX_LIST, &z->n_id_headers))
        return -1;
    if ((v = sam__map_get(c, id, "QueryStrings")) &&
        sam__list_of(c, v, "QueryStrings", z->id_query, SAM_STR, SAM_MAX_LIST, &z->n_id_query))
        return -1;
    if ((v = sam__map_get(c, id, "StageVariables")) &&
        sam__list_of(c, v, "StageVariables", z->id_stage_vars, SAM_STR, SAM_MAX_LIST,
                     &z->n_id_stage_vars))
        return -1;
    if ((v = sam__map_get(c, id, "Context")) &&
        sam__list_of(c, v, "Context", z->id_context, SAM_STR, SAM_MAX_LIST, &z->n_id_context))
        return -1;
    return 0;
}

static size_t n_sources(const sam_authorizer *z)
{
    return z->n_id_headers + z->n_id_query + z->n_id_stage_vars + z->n_id_context;
}

static int rest_authorizer(ctx *c, yaml_node_t *n, sam_authorizer *z)
{
    static const char *const keys[] = {"FunctionArn", "FunctionPayloadType",
        "FunctionInvokeRole", "Identity", "UserPoolArn", "AuthorizationScopes",
        "DisableFunctionDefaultPermissions", NULL};
    static const char *const token_id[] = {"Header", "ValidationExpression", "ReauthorizeEvery",
                                           NULL};
    static const char *const request_id[] = {"Headers", "QueryStrings", "StageVariables",
                                             "Context", "ReauthorizeEvery", NULL};
    yaml_node_t *v, *id;
    if (sam__check_keys(c, n, z->name, keys))
        return -1;
    id = sam__map_get(c, n, "Identity");
    z->ttl_s = 300;
    snprintf(z->header, sizeof z->header, "Authorization");
    if ((v = sam__map_get(c, n, "UserPoolArn"))) {
        z->type = SAM_AUTHZ_COGNITO;
        if (sam__map_get(c, n, "FunctionArn"))
            return sam__fail(c, v, z->name, "an authorizer has either UserPoolArn or FunctionArn");
        if (one_or_list(c, v, "UserPoolArn", z->user_pools, &z->n_user_pools))
            return -1;
        if ((v = sam__map_get(c, n, "AuthorizationScopes")) &&
            sam__list_of(c, v, "AuthorizationScopes", z->scopes, SAM_STR, SAM_MAX_LIST,
                         &z->n_scopes))
            return -1;
    } else if ((v = sam__map_get(c, n, "FunctionArn"))) {
        char pt[32] = "TOKEN";
        if (sam__scalar(c, v, "FunctionArn", z->function_arn, sizeof z->function_arn))
            return -1;
        if ((v = sam__map_get(c, n, "FunctionPayloadType")) &&
            sam__scalar(c, v, "FunctionPayloadType", pt, sizeof pt))
            return -1;
        if (strcmp(pt, "TOKEN") && strcmp(pt, "REQUEST"))
            return sam__fail(c, v, "FunctionPayloadType", "'%s' is not TOKEN or REQUEST", pt);
        z->type = strcmp(pt, "TOKEN") ? SAM_AUTHZ_REQUEST : SAM_AUTHZ_TOKEN;
        if ((v = sam__map_get(c, n, "AuthorizationScopes")))
            return sam__fail(c, v, "AuthorizationScopes", "only Cognito authorizers take "
                             "AuthorizationScopes");
    } else {
        return sam__fail(c, n, z->name, "an authorizer needs UserPoolArn (Cognito) or "
                         "FunctionArn (Lambda)");
    }
    if (sam__check_keys(c, id, "Identity", z->type == SAM_AUTHZ_REQUEST ? request_id : token_id) ||
        ttl(c, id, &z->ttl_s))
        return -1;
    if (z->type == SAM_AUTHZ_REQUEST) {
        if (identity_sources(c, id, z))
            return -1;
        if (!n_sources(z) && z->ttl_s)
            return sam__fail(c, n, z->name, "a REQUEST authorizer needs an Identity source "
                             "(Headers, QueryStrings, StageVariables, Context) unless "
                             "ReauthorizeEvery is 0");
        return 0;
    }
    if ((v = sam__map_get(c, id, "Header")) && sam__scalar(c, v, "Header", z->header, sizeof z->header))
        return -1;
    if ((v = sam__map_get(c, id, "ValidationExpression")) &&
        sam__scalar(c, v, "ValidationExpression", z->validation, sizeof z->validation))
        return -1;
    return 0;
}

static int http_authorizer(ctx *c, yaml_node_t *n, sam_authorizer *z)
{
    static const char *const keys[] = {"FunctionArn", "FunctionInvokeRole",
        "AuthorizerPayloadFormatVersion", "EnableSimpleResponses", "Identity",
        "EnableFunctionDefaultPermissions", "IdentitySource", "JwtConfiguration",
        "AuthorizationScopes", NULL};
    static const char *const lambda_id[] = {"Headers", "QueryStrings", "StageVariables",
                                            "Context", "ReauthorizeEvery", NULL};
    yaml_node_t *v, *jwt;
    if (sam__check_keys(c, n, z->name, keys))
        return -1;
    if ((jwt = sam__map_get(c, n, "JwtConfiguration"))) {
        z->type = SAM_AUTHZ_JWT;
        if ((v = sam__map_get(c, n, "FunctionArn")))
            return sam__fail(c, v, z->name, "an authorizer has either JwtConfiguration or "
                             "FunctionArn");
        if (jwt->type != YAML_MAPPING_NODE)
            return sam__fail(c, jwt, "JwtConfiguration", "expected a mapping");
        /* SAM lower-cases Issuer and Audience */
        for (yaml_node_pair_t *p = jwt->data.mapping.pairs.start; p < jwt->data.mapping.pairs.top;
             p++) {
            yaml_node_t *kn = sam__node(c, p->key), *vn = sam__pick(c, sam__node(c, p->value));
            const char *k = sam__sval(kn);
            if (k && !strcasecmp(k, "issuer")) {
                if (vn && sam__scalar(c, vn, k, z->issuer, sizeof z->issuer))
                    return -1;
            } else if (k && !strcasecmp(k, "audience")) {
                if (vn && one_or_list(c, vn, k, z->audience, &z->n_audience))
                    return -1;
            } else {
                return sam__fail(c, kn, k ? k : "JwtConfiguration", "unknown key in "
                                 "JwtConfiguration (issuer, audience)");
            }
        }
        if (!(v = sam__map_get(c, n, "IdentitySource")))
            return sam__fail(c, n, z->name, "IdentitySource is required "
                             "($request.header.Authorization)");
        if (sam__scalar(c, v, "IdentitySource", z->identity_source, sizeof z->identity_source))
            return -1;
        if (strncmp(z->identity_source, "$request.", 9) && strncmp(z->identity_source, "$context.", 9) &&
            strncmp(z->identity_source, "$stageVariables.", 16))
            return sam__fail(c, v, "IdentitySource", "'%s' is not $request.header.NAME, "
                             "$request.querystring.NAME, $context.NAME or $stageVariables.NAME",
                             z->identity_source);
        if ((v = sam__map_get(c, n, "AuthorizationScopes")) &&
            sam__list_of(c, v, "AuthorizationScopes", z->scopes, SAM_STR, SAM_MAX_LIST,
                         &z->n_scopes))
            return -1;
        return 0;
    }
    if (!(v = sam__map_get(c, n, "FunctionArn")))
        return sam__fail(c, n, z->name, "an authorizer needs JwtConfiguration (JWT) or "
                         "FunctionArn (Lambda)");
    z->type = SAM_AUTHZ_LAMBDA;
    if (sam__scalar(c, v, "FunctionArn", z->function_arn, sizeof z->function_arn))
        return -1;
    if ((v = sam__map_get(c, n, "IdentitySource")))
        return sam__fail(c, v, "IdentitySource", "IdentitySource is only supported for OAuth2 "
                         "Authorizer. For Lambda Authorizer, use the 'Identity' property instead");
    if ((v = sam__map_get(c, n, "AuthorizationScopes")))
        return sam__fail(c, v, "AuthorizationScopes", "only JWT authorizers take "
                         "AuthorizationScopes");
    char ver[16];
    if (!(v = sam__map_get(c, n, "AuthorizerPayloadFormatVersion")))
        return sam__fail(c, n, z->name, "AuthorizerPayloadFormatVersion is required "
                         "(\"1.0\" or \"2.0\")");
    if (sam__scalar(c, v, "AuthorizerPayloadFormatVersion", ver, sizeof ver))
        return -1;
    if (strcmp(ver, "1.0") && strcmp(ver, "2.0"))
        return sam__fail(c, v, "AuthorizerPayloadFormatVersion", "'%s' is not 1.0 or 2.0", ver);
    z->payload_version = ver[0] - '0';
    if ((v = sam__map_get(c, n, "EnableSimpleResponses")) &&
        sam__boolean(c, v, "EnableSimpleResponses", &z->simple_responses))
        return -1;
    if (z->simple_responses && z->payload_version != 2)
        return sam__fail(c, v, "EnableSimpleResponses", "simple responses need "
                         "AuthorizerPayloadFormatVersion 2.0");
    yaml_node_t *id = sam__map_get(c, n, "Identity");
    z->ttl_s = 0;
    if (sam__check_keys(c, id, "Identity", lambda_id) || identity_sources(c, id, z) ||
        ttl(c, id, &z->ttl_s))
        return -1;
    if (z->ttl_s && !n_sources(z))
        return sam__fail(c, id, "ReauthorizeEvery", "caching (ReauthorizeEvery > 0) needs an "
                         "Identity source to key it");
    return 0;
}

static int authorizers(ctx *c, yaml_node_t *n, int api)
{
    sam_template *t = c->t;
    if (n->type != YAML_MAPPING_NODE)
        return sam__fail(c, n, "Authorizers", "expected a mapping of authorizers");
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = sam__node(c, p->key);
        const char *name = sam__sval(kn);
        if (!name || !*name || strlen(name) >= SAM_STR || !strcmp(name, "NONE") ||
            !strcmp(name, "AWS_IAM"))
            return sam__fail(c, kn, "Authorizers", "bad authorizer name");
        size_t i;
        for (i = 0; i < t->n_authorizers && (t->authorizers[i].api != api ||
                                             strcmp(t->authorizers[i].name, name)); i++)
            ;
        if (i == SAM_MAX_AUTHORIZERS)
            return sam__fail(c, kn, name, "more than %d authorizers", SAM_MAX_AUTHORIZERS);
        sam_authorizer *z = &t->authorizers[i];
        memset(z, 0, sizeof *z); /* a resource's own replaces Globals' */
        snprintf(z->name, sizeof z->name, "%s", name);
        z->api = api;
        z->function = -1;
        z->line = (int)kn->start_mark.line + 1;
        yaml_node_t *def = sam__pick(c, sam__node(c, p->value));
        if (!def || def->type != YAML_MAPPING_NODE)
            return sam__fail(c, kn, name, "expected a mapping");
        if (t->apis[api].type == SAM_REST_API ? rest_authorizer(c, def, z) : http_authorizer(c, def, z))
            return -1;
        if (i == t->n_authorizers)
            t->n_authorizers++;
    }
    return 0;
}

/* A usage plan's {BurstLimit, RateLimit}. */
static int plan_throttle(ctx *c, yaml_node_t *n, const char *where, double *rate, int *burst)
{
    static const char *const tk[] = {"BurstLimit", "RateLimit", NULL};
    yaml_node_t *v;
    if (sam__check_keys(c, n, where, tk))
        return -1;
    if ((v = sam__map_get(c, n, "BurstLimit")) && sam__integer(c, v, "BurstLimit", 0, 1000000, burst))
        return -1;
    if ((v = sam__map_get(c, n, "RateLimit")) && sam__rate(c, v, "RateLimit", rate))
        return -1;
    return 0;
}

static int plan_limits(ctx *c, yaml_node_t *n, sam_usage_plan *u)
{
    static const char *const qk[] = {"Limit", "Period", "Offset", NULL};
    yaml_node_t *q, *v;
    if ((q = sam__map_get(c, n, "Quota"))) {
        char per[16] = "";
        if (sam__check_keys(c, q, "Quota", qk))
            return -1;
        if (!(v = sam__map_get(c, q, "Limit")))
            return sam__fail(c, q, "Quota", "Limit is required");
        if (sam__integer(c, v, "Limit", 0, 2000000000, &u->quota_limit))
            return -1;
        if (!(v = sam__map_get(c, q, "Period")))
            return sam__fail(c, q, "Quota", "Period is required (DAY, WEEK or MONTH)");
        if (sam__scalar(c, v, "Period", per, sizeof per))
            return -1;
        if (!strcmp(per, "DAY"))
            u->quota_period = SAM_PERIOD_DAY;
        else if (!strcmp(per, "WEEK"))
            u->quota_period = SAM_PERIOD_WEEK;
        else if (!strcmp(per, "MONTH"))
            u->quota_period = SAM_PERIOD_MONTH;
        else
            return sam__fail(c, v, "Period", "'%s' is not DAY, WEEK or MONTH", per);
        if ((v = sam__map_get(c, q, "Offset")) &&
            sam__integer(c, v, "Offset", 0, 2000000000, &u->quota_offset))
            return -1;
    }
    if ((q = sam__map_get(c, n, "Throttle"))) {
        u->throttled = 1;
        if (plan_throttle(c, q, "Throttle", &u->rate_limit, &u->burst_limit))
            return -1;
    }
    if ((v = sam__map_get(c, n, "UsagePlanName")) &&
        sam__scalar(c, v, "UsagePlanName", u->plan_name, sizeof u->plan_name))
        return -1;
    return 0;
}

/* The plan named name (made when missing), or -1. */
static int plan_index(ctx *c, const char *name, yaml_node_t *at)
{
    sam_template *t = c->t;
    for (size_t i = 0; i < t->n_plans; i++)
        if (!strcmp(t->plans[i].name, name))
            return (int)i;
    if (t->n_plans == SAM_MAX_PLANS)
        return sam__fail(c, at, name, "more than %d usage plans", SAM_MAX_PLANS);
    sam_usage_plan *u = &t->plans[t->n_plans];
    memset(u, 0, sizeof *u);
    snprintf(u->name, sizeof u->name, "%s", name);
    u->quota_limit = -1;
    u->line = at ? (int)at->start_mark.line + 1 : 0;
    return (int)t->n_plans++;
}

/* Auth.UsagePlan of REST API a. */
static int sam_usage_plan_block(ctx *c, yaml_node_t *n, sam_api *a)
{
    static const char *const keys[] = {"CreateUsagePlan", "UsagePlanName", "Description",
                                       "Quota", "Throttle", "Tags", NULL};
    yaml_node_t *v;
    char mode[16];
    if (sam__check_keys(c, n, "UsagePlan", keys))
        return -1;
    if (!(v = sam__map_get(c, n, "CreateUsagePlan")))
        return sam__fail(c, n, "UsagePlan", "CreateUsagePlan is required (PER_API, SHARED or NONE)");
    if (sam__scalar(c, v, "CreateUsagePlan", mode, sizeof mode))
        return -1;
    if (!strcmp(mode, "NONE")) {
        a->auth.usage_plan = SAM_PLAN_NONE;
        a->auth.usage_plan_index = -1;
        return 0;
    }
    if (strcmp(mode, "PER_API") && strcmp(mode, "SHARED"))
        return sam__fail(c, v, "CreateUsagePlan", "'%s' is not PER_API, SHARED or NONE", mode);
    a->auth.usage_plan = strcmp(mode, "SHARED") ? SAM_PLAN_PER_API : SAM_PLAN_SHARED;
    char name[SAM_STR + 16];
    if (a->auth.usage_plan == SAM_PLAN_SHARED)
        snprintf(name, sizeof name, "ServerlessUsagePlan");
    else
        snprintf(name, sizeof name, "%.*sUsagePlan", SAM_STR - 16, a->name);
    int pi = plan_index(c, name, v);
    if (pi < 0)
        return -1;
    c->t->plans[pi].generated = 1;
    a->auth.usage_plan_index = pi;
    return plan_limits(c, n, &c->t->plans[pi]);
}

int sam__api_auth(ctx *c, yaml_node_t *n, int api)
{
    static const char *const rest_keys[] = {"Authorizers", "DefaultAuthorizer", "InvokeRole",
        "AddDefaultAuthorizerToCorsPreflight", "AddApiKeyRequiredToCorsPreflight",
        "ApiKeyRequired", "ResourcePolicy", "UsagePlan", NULL};
    static const char *const http_keys[] = {"Authorizers", "DefaultAuthorizer",
                                            "EnableIamAuthorizer", NULL};
    sam_api *a = &c->t->apis[api];
    int rest = a->type == SAM_REST_API;
    yaml_node_t *v;
    if (sam__check_keys(c, n, "Auth", rest ? rest_keys : http_keys))
        return -1;
    a->auth.line = (int)n->start_mark.line + 1;
    if ((v = sam__map_get(c, n, "Authorizers")) && authorizers(c, v, api))
        return -1;
    if ((v = sam__map_get(c, n, "DefaultAuthorizer")) &&
        sam__scalar(c, v, "DefaultAuthorizer", a->auth.default_authorizer,
                    sizeof a->auth.default_authorizer))
        return -1;
    if (!rest)
        return (v = sam__map_get(c, n, "EnableIamAuthorizer")) ?
               sam__boolean(c, v, "EnableIamAuthorizer", &a->auth.iam_authorizer) : 0;
    if ((v = sam__map_get(c, n, "ApiKeyRequired")) &&
        sam__boolean(c, v, "ApiKeyRequired", &a->auth.api_key_required))
        return -1;
    if ((v = sam__map_get(c, n, "AddDefaultAuthorizerToCorsPreflight")) &&
        sam__boolean(c, v, "AddDefaultAuthorizerToCorsPreflight",
                     &a->auth.default_auth_on_preflight))
        return -1;
    if ((v = sam__map_get(c, n, "AddApiKeyRequiredToCorsPreflight")) &&
        sam__boolean(c, v, "AddApiKeyRequiredToCorsPreflight", &a->auth.api_key_on_preflight))
        return -1;
    if ((v = sam__map_get(c, n, "UsagePlan")) && sam_usage_plan_block(c, v, a))
        return -1;
    return 0;
}

int sam__event_auth(ctx *c, yaml_node_t *n, int route, sam_api_type type)
{
    static const char *const rest_keys[] = {"Authorizer", "ApiKeyRequired",
        "AuthorizationScopes", "InvokeRole", "ResourcePolicy", "OverrideApiAuth", NULL};
    static const char *const http_keys[] = {"Authorizer", "AuthorizationScopes", NULL};
    sam_route *r = &c->t->routes[route];
    yaml_node_t *v;
    if (sam__check_keys(c, n, "Auth", type == SAM_REST_API ? rest_keys : http_keys))
        return -1;
    if ((v = sam__map_get(c, n, "Authorizer")) &&
        sam__scalar(c, v, "Authorizer", c->ev_auth[route].authorizer,
                    sizeof c->ev_auth[route].authorizer))
        return -1;
    if ((v = sam__map_get(c, n, "ApiKeyRequired")) &&
        sam__boolean(c, v, "ApiKeyRequired", &c->ev_auth[route].key_required))
        return -1;
    if ((v = sam__map_get(c, n, "AuthorizationScopes"))) {
        if (sam__list_of(c, v, "AuthorizationScopes", r->scopes, SAM_STR, SAM_MAX_LIST,
                         &r->n_scopes))
            return -1;
        c->ev_auth[route].has_scopes = 1;
    }
    return 0;
}

/* ---- AWS::ApiGateway::ApiKey, UsagePlan, UsagePlanKey ---- */

/* A REST API of the template and one of its stages: *api, stage[]. */
static int api_stage(ctx *c, yaml_node_t *an, yaml_node_t *sn, int *api, char *stage)
{
    char name[SAM_STR], s[SAM_STR];
    if (sam__scalar(c, an, "ApiId", name, sizeof name))
        return -1;
    *api = -1;
    for (size_t i = 0; i < c->t->n_apis; i++)
        if (c->t->apis[i].type == SAM_REST_API && !strcmp(c->t->apis[i].name, name))
            *api = (int)i;
    if (*api < 0)
        return sam__fail(c, an, "ApiId", "'%s' is not a REST API (AWS::Serverless::Api) of this "
                         "template", name);
    const sam_api *a = &c->t->apis[*api];
    if (sam__scalar(c, sn, "Stage", s, sizeof s))
        return -1;
    /* !Ref MyApiProdStage names the stage resource SAM makes */
    size_t nl = strlen(a->name), sl = strlen(s);
    if (sl > nl + 5 && !strncmp(s, a->name, nl) && !strcmp(s + sl - 5, "Stage") &&
        sl - nl - 5 == strlen(a->stage) && !strncmp(s + nl, a->stage, strlen(a->stage)))
        snprintf(s, sizeof s, "%s", a->stage);
    if (strcmp(s, a->stage) && (!a->extra_stage || strcmp(s, "Stage")))
        return sam__fail(c, sn, "Stage", "'%s' is not a stage of %s (%s%s)", s, a->name,
                         a->stage, a->extra_stage ? " or Stage" : "");
    snprintf(stage, SAM_STAGE, "%.*s", SAM_STAGE - 1, s); /* (one of its stages: it fits) */
    return 0;
}

static int find_named(ctx *c, yaml_node_t *n, const char *key, int keys, int *out)
{
    char name[SAM_STR];
    if (sam__scalar(c, n, key, name, sizeof name))
        return -1;
    size_t cnt = keys ? c->t->n_keys : c->t->n_plans;
    for (size_t i = 0; i < cnt; i++)
        if (!strcmp(keys ? c->t->keys[i].name : c->t->plans[i].name, name)) {
            *out = (int)i;
            return 0;
        }
    return sam__fail(c, n, key, "'%s' is not an %s of this template", name,
                     keys ? "AWS::ApiGateway::ApiKey" : "AWS::ApiGateway::UsagePlan");
}

static int api_key(ctx *c, yaml_node_t *kn, yaml_node_t *props)
{
    static const char *const keys[] = {"Name", "Value", "Enabled", "StageKeys", "CustomerId",
        "Description", "GenerateDistinctId", "Tags", NULL};
    static const char *const sk[] = {"RestApiId", "StageName", NULL};
    sam_template *t = c->t;
    yaml_node_t *v;
    if (t->n_keys == SAM_MAX_KEYS)
        return sam__fail(c, kn, sam__sval(kn), "more than %d API keys", SAM_MAX_KEYS);
    sam_api_key *k = &t->keys[t->n_keys];
    memset(k, 0, sizeof *k);
    snprintf(k->name, sizeof k->name, "%s", sam__sval(kn));
    k->line = (int)kn->start_mark.line + 1;
    if (sam__check_keys(c, props, k->name, keys))
        return -1;
    if ((v = sam__map_get(c, props, "Value"))) {
        if (sam__scalar(c, v, "Value", k->value, sizeof k->value))
            return -1;
        if (strlen(k->value) < 20)
            return sam__fail(c, v, "Value", "an API key has 20 to 128 characters");
    }
    if ((v = sam__map_get(c, props, "Enabled")) && sam__boolean(c, v, "Enabled", &k->enabled))
        return -1;
    if ((v = sam__map_get(c, props, "StageKeys"))) {
        if (v->type != YAML_SEQUENCE_NODE)
            return sam__fail(c, v, "StageKeys", "expected a list");
        for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
             it++) {
            yaml_node_t *e = sam__node(c, *it), *an, *sn;
            if (sam__check_keys(c, e, "StageKeys", sk))
                return -1;
            if (!(an = sam__map_get(c, e, "RestApiId")) || !(sn = sam__map_get(c, e, "StageName")))
                return sam__fail(c, e, "StageKeys", "RestApiId and StageName are required");
            if (k->n_stage_keys == SAM_MAX_LIST)
                return sam__fail(c, e, "StageKeys", "more than %d stages", SAM_MAX_LIST);
            if (api_stage(c, an, sn, &k->stage_keys[k->n_stage_keys].api,
                          k->stage_keys[k->n_stage_keys].stage))
                return -1;
            k->n_stage_keys++;
        }
    }
    t->n_keys++;
    return 0;
}

static int usage_plan(ctx *c, yaml_node_t *kn, yaml_node_t *props)
{
    static const char *const keys[] = {"ApiStages", "Description", "Quota", "Throttle",
                                       "UsagePlanName", "Tags", NULL};
    static const char *const ak[] = {"ApiId", "Stage", "Throttle", NULL};
    yaml_node_t *v;
    const char *name = sam__sval(kn);
    for (size_t i = 0; i < c->t->n_plans; i++)
        if (!strcmp(c->t->plans[i].name, name))
            return sam__fail(c, kn, name, "a usage plan SAM makes has this name");
    int pi = plan_index(c, name, kn);
    if (pi < 0)
        return -1;
    sam_usage_plan *u = &c->t->plans[pi];
    if (sam__check_keys(c, props, name, keys) || plan_limits(c, props, u))
        return -1;
    if (!(v = sam__map_get(c, props, "ApiStages")))
        return 0;
    if (v->type != YAML_SEQUENCE_NODE)
        return sam__fail(c, v, "ApiStages", "expected a list");
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *e = sam__node(c, *it), *an, *sn, *th;
        if (sam__check_keys(c, e, "ApiStages", ak))
            return -1;
        if (!(an = sam__map_get(c, e, "ApiId")) || !(sn = sam__map_get(c, e, "Stage")))
            return sam__fail(c, e, "ApiStages", "ApiId and Stage are required");
        if (u->n_stages == SAM_MAX_APIS)
            return sam__fail(c, e, "ApiStages", "more than %d stages", SAM_MAX_APIS);
        sam_plan_stage *st = &u->stages[u->n_stages];
        if (api_stage(c, an, sn, &st->api, st->stage))
            return -1;
        if ((th = sam__map_get(c, e, "Throttle"))) {
            if (th->type != YAML_MAPPING_NODE)
                return sam__fail(c, th, "Throttle", "expected a mapping of \"/path/METHOD\"");
            for (yaml_node_pair_t *p = th->data.mapping.pairs.start; p < th->data.mapping.pairs.top;
                 p++) {
                yaml_node_t *mk = sam__node(c, p->key), *mv = sam__node(c, p->value);
                const char *k = sam__sval(mk), *slash = k ? strrchr(k, '/') : NULL;
                if (!slash || slash == k || k[0] != '/' || strlen(k) >= SAM_STR ||
                    sam_method_index(slash + 1) < 0)
                    return sam__fail(c, mk, "Throttle", "expected a key such as \"/items/GET\"");
                if (st->n_throttle == 8)
                    return sam__fail(c, mk, "Throttle", "more than 8 methods");
                struct sam_plan_throttle *m = &st->throttle[st->n_throttle++];
                snprintf(m->path, sizeof m->path, "%.*s", (int)(slash - k), k);
                snprintf(m->method, sizeof m->method, "%s", slash + 1);
                if (plan_throttle(c, mv, k, &m->rate_limit, &m->burst_limit))
                    return -1;
            }
        }
        u->n_stages++;
    }
    return 0;
}

static int add_plan_key(ctx *c, int plan, int key, int line)
{
    sam_template *t = c->t;
    for (size_t i = 0; i < t->n_plan_keys; i++)
        if (t->plan_keys[i].plan == plan && t->plan_keys[i].key == key)
            return 0;
    if (t->n_plan_keys == SAM_MAX_PLAN_KEYS)
        return sam__fail_at(c, line, "UsagePlanKey", "more than %d usage plan keys",
                            SAM_MAX_PLAN_KEYS);
    t->plan_keys[t->n_plan_keys].plan = plan;
    t->plan_keys[t->n_plan_keys++].key = key;
    return 0;
}

int sam__gateway_resource(ctx *c, const char *type, yaml_node_t *kn, yaml_node_t *res, int pass)
{
    static const char *const pk[] = {"KeyId", "KeyType", "UsagePlanId", NULL};
    yaml_node_t *props = sam__map_get(c, res, "Properties"), *v;
    if (pass == 0 && !strcmp(type, "AWS::ApiGateway::ApiKey"))
        return api_key(c, kn, props);
    if (pass == 0 && !strcmp(type, "AWS::ApiGateway::UsagePlan"))
        return usage_plan(c, kn, props);
    if (pass != 1 || strcmp(type, "AWS::ApiGateway::UsagePlanKey"))
        return 0;
    int plan, key;
    char kt[32];
    if (sam__check_keys(c, props, sam__sval(kn), pk))
        return -1;
    if (!(v = sam__map_get(c, props, "KeyType")) || sam__scalar(c, v, "KeyType", kt, sizeof kt) ||
        strcmp(kt, "API_KEY"))
        return v ? sam__fail(c, v, "KeyType", "'%s' is not API_KEY", kt)
                 : sam__fail(c, kn, sam__sval(kn), "KeyType is required (API_KEY)");
    if (!(v = sam__map_get(c, props, "KeyId")))
        return sam__fail(c, kn, sam__sval(kn), "KeyId is required");
    if (find_named(c, v, "KeyId", 1, &key))
        return -1;
    if (!(v = sam__map_get(c, props, "UsagePlanId")))
        return sam__fail(c, kn, sam__sval(kn), "UsagePlanId is required");
    if (find_named(c, v, "UsagePlanId", 0, &plan))
        return -1;
    return add_plan_key(c, plan, key, (int)kn->start_mark.line + 1);
}

/* ---- what SAM derives ---- */

/* The function FunctionArn names: !GetAtt Fn.Arn, or an ARN ending in
 * function:Fn. */
static int authorizer_function(ctx *c, sam_authorizer *z)
{
    char name[SAM_STR];
    const char *s = z->function_arn, *f = strstr(s, ":function:");
    if (f) {
        snprintf(name, sizeof name, "%s", f + 10);
        name[strcspn(name, ":")] = 0;
    } else {
        snprintf(name, sizeof name, "%s", s);
        size_t l = strlen(name);
        if (l > 4 && !strcmp(name + l - 4, ".Arn"))
            name[l - 4] = 0;
    }
    for (size_t i = 0; i < c->t->n_functions; i++)
        if (!strcmp(c->t->functions[i].name, name)) {
            z->function = (int)i;
            return 0;
        }
    return sam__fail_at(c, z->line, "FunctionArn", "'%s' is not a function of this template "
                        "(write !GetAtt Function.Arn)", s);
}

static int find_authorizer(const sam_template *t, int api, const char *name)
{
    for (size_t i = 0; i < t->n_authorizers; i++)
        if (t->authorizers[i].api == api && !strcmp(t->authorizers[i].name, name))
            return (int)i;
    return -1;
}

static int route_auth(ctx *c, int ri)
{
    sam_template *t = c->t;
    sam_route *r = &t->routes[ri];
    sam_api *a = &t->apis[r->api];
    const char *own = c->ev_auth[ri].authorizer;
    const char *name = *own ? own : a->auth.default_authorizer;
    char lower[16];
    for (size_t i = 0; i < sizeof lower; i++)
        lower[i] = (char)(r->method[i] >= 'A' && r->method[i] <= 'Z' ? r->method[i] + 32
                                                                     : r->method[i]);
    r->authorizer = SAM_AUTH_NONE;
    if (!strcmp(own, "NONE") && !a->auth.default_authorizer[0])
        return sam__fail_at(c, r->line, "Authorizer", "Unable to set Authorizer on API method "
                            "[%s] for path [%s] because 'NONE' is only a valid value when a "
                            "DefaultAuthorizer on the API is specified.", lower, r->path);
    if (!strcmp(name, "AWS_IAM")) {
        if (a->type == SAM_HTTP_API && !a->auth.iam_authorizer)
            return sam__fail_at(c, r->line, "Authorizer", "AWS_IAM needs "
                                "Auth.EnableIamAuthorizer on the HTTP API");
        r->authorizer = SAM_AUTH_IAM;
    } else if (*name && strcmp(name, "NONE")) {
        r->authorizer = find_authorizer(t, r->api, name);
        if (r->authorizer < 0)
            return sam__fail_at(c, r->line, "Authorizer", "Unable to set Authorizer [%s] on API "
                                "method [%s] for path [%s] because it wasn't defined in the "
                                "API's Authorizers.", name, lower, r->path);
        const sam_authorizer *z = &t->authorizers[r->authorizer];
        if (!c->ev_auth[ri].has_scopes && z->n_scopes) {
            r->n_scopes = z->n_scopes;
            memcpy(r->scopes, z->scopes, sizeof r->scopes);
        }
    }
    int own_key = c->ev_auth[ri].key_required;
    if (own_key == 0 && a->auth.api_key_required < 0)
        return sam__fail_at(c, r->line, "ApiKeyRequired", "Unable to set ApiKeyRequired [False] "
                            "on API method [%s] for path [%s] because the related API does not "
                            "specify any ApiKeyRequired.", lower, r->path);
    r->api_key_required = a->type == SAM_REST_API &&
                          (own_key >= 0 ? own_key : a->auth.api_key_required > 0);
    return 0;
}

/* SAM's plan, key and plan key for an API with Auth.UsagePlan. */
static int sam_plan(ctx *c, int api)
{
    sam_template *t = c->t;
    sam_api *a = &t->apis[api];
    sam_usage_plan *u = &t->plans[a->auth.usage_plan_index];
    char kname[SAM_STR];
    if (u->n_stages == SAM_MAX_APIS)
        return sam__fail_at(c, a->line, "UsagePlan", "more than %d stages", SAM_MAX_APIS);
    u->stages[u->n_stages].api = api;
    memcpy(u->stages[u->n_stages++].stage, a->stage, SAM_STAGE);
    if (a->auth.usage_plan == SAM_PLAN_SHARED)
        snprintf(kname, sizeof kname, "ServerlessApiKey");
    else
        snprintf(kname, sizeof kname, "%.*sApiKey", SAM_STR - 8, a->name);
    size_t k;
    for (k = 0; k < t->n_keys && strcmp(t->keys[k].name, kname); k++)
        ;
    if (k == t->n_keys) {
        if (k == SAM_MAX_KEYS)
            return sam__fail_at(c, a->line, "UsagePlan", "more than %d API keys", SAM_MAX_KEYS);
        memset(&t->keys[k], 0, sizeof t->keys[k]);
        snprintf(t->keys[k].name, sizeof t->keys[k].name, "%s", kname);
        t->keys[k].enabled = 1;
        t->keys[k].generated = 1;
        t->keys[k].line = a->auth.line;
        t->n_keys++;
    }
    sam_api_key *key = &t->keys[k];
    if (key->n_stage_keys < SAM_MAX_LIST) {
        key->stage_keys[key->n_stage_keys].api = api;
        memcpy(key->stage_keys[key->n_stage_keys++].stage, a->stage, SAM_STAGE);
    }
    return add_plan_key(c, a->auth.usage_plan_index, (int)k, a->auth.line);
}

int sam__finish_auth(ctx *c)
{
    sam_template *t = c->t;
    for (size_t i = 0; i < t->n_authorizers; i++) {
        sam_authorizer *z = &t->authorizers[i];
        if ((z->type == SAM_AUTHZ_TOKEN || z->type == SAM_AUTHZ_REQUEST ||
             z->type == SAM_AUTHZ_LAMBDA) && authorizer_function(c, z))
            return -1;
    }
    for (size_t i = 0; i < t->n_apis; i++) {
        const sam_api *a = &t->apis[i];
        const char *d = a->auth.default_authorizer;
        if (*d && strcmp(d, "AWS_IAM") && find_authorizer(t, (int)i, d) < 0)
            return sam__fail_at(c, a->auth.line, "DefaultAuthorizer", "Unable to set "
                                "DefaultAuthorizer because '%s' was not defined in "
                                "'Authorizers'.", d);
    }
    for (size_t i = 0; i < t->n_routes; i++)
        if (route_auth(c, (int)i))
            return -1;
    for (size_t i = 0; i < t->n_apis; i++) {
        sam_api *a = &t->apis[i];
        if (a->auth.usage_plan_index >= 0 && sam_plan(c, (int)i))
            return -1;
        if (a->auth.api_key_required < 0)
            a->auth.api_key_required = 0;
    }
    return 0;
}
