/*
 * The admission stages and their runner (see admission.h).  The list
 * holds the authorizer (admit_authz.c: REST Lambda TOKEN/REQUEST and
 * Cognito, HTTP Lambda and JWT), the API key with its usage plan
 * (admit_keys.c), then the throttle: the token bucket of a route (HTTP API:
 * its RouteSettings, else DefaultRouteSettings; REST: its MethodSettings
 * entry, else the stage default), as API Gateway runs them.
 */
#define _GNU_SOURCE
#include "admission.h"

#include <pthread.h>
#include <stdlib.h>

#include "admit_keys.h"
#include "authz.h"
#include "clock.h"

/* Token bucket of a route: 1 = allowed. */
static int take_token(gw *g, int route)
{
    const sam_route *r = &g->t->routes[route];
    const sam_api *a = &g->t->apis[r->api];
    double rl = r->throttled ? r->rate_limit : a->rate_limit;
    int bl = r->throttled ? r->burst_limit : a->burst_limit;
    if (bl <= 0 && rl <= 0)
        return r->throttled ? 0 : 1; /* a route set to 0/0 is closed */
    double cap = bl > 0 ? bl : rl;
    double rate = rl > 0 ? rl : cap;
    gw_bucket *b = &g->buckets[route];
    pthread_mutex_lock(&b->mu);
    double t = clk_mono_ms() / 1e3;
    if (b->last == 0)
        b->tokens = cap;
    else
        b->tokens = b->tokens + rate * (t - b->last) > cap ? cap : b->tokens + rate * (t - b->last);
    b->last = t;
    int ok = b->tokens >= 1.0;
    if (ok)
        b->tokens -= 1.0;
    pthread_mutex_unlock(&b->mu);
    return ok;
}

static gw_verdict throttle(gw_admission *a)
{
    if (a->route < 0 || take_token(a->w->g, a->route)) /* (a CORS preflight is a MOCK) */
        return GW_PASS;
    gw_answer_reply(a->r, a->dialect, GW_ANS_THROTTLED, a->ids);
    return GW_ANSWERED;
}

static const gw_stage stage_throttle = {"throttle", throttle};

/* The stages, in API Gateway's order: authorizer, API key and usage plan,
 * then the stage/method or route throttle. */
static const gw_stage *const stages[] = {
    &gw_stage_authorizer,
    &gw_stage_api_key,          /* admit_keys.c */
    &stage_throttle,
};

void gw_admit(gw_admission *a)
{
    while (a->next < sizeof stages / sizeof stages[0]) {
        gw_verdict v = stages[a->next++]->run(a);
        if (v == GW_ANSWERED) {
            a->r = NULL;
            a->answered(a);
            return;
        }
        if (v == GW_WAIT) {
            a->w->pending++; /* shutdown waits for it */
            return;
        }
    }
    a->proceed(a);
}

void gw_admit_resume(gw_admission *a, gw_verdict v)
{
    a->w->pending--;
    if (v == GW_ANSWERED) {
        a->r = NULL;
        a->answered(a);
        return;
    }
    gw_admit(a);
}

void gw_admission_fini(gw_admission *a)
{
    free(a->authorizer);
    a->authorizer = NULL;
    free(a->usage_key);
    a->usage_key = NULL;
}
