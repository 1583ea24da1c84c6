/*
 * Lambda proxy integrations of the API fronts (see integration.h).
 */
#define _GNU_SOURCE
#include "integration.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

/* A stage answered: the call is over. */
static void dropped(gw_admission *a) { gw_call_free((gw_call *)a); }

gw_call *gw_call_new(gw_req *r, size_t front_size)
{
    gw_call *k = malloc(sizeof *k + front_size);
    if (!k)
        return NULL;
    /* everything but the result's 4 KB log tail, which needs no clearing */
    memset(k, 0, offsetof(gw_call, pc) + offsetof(pool_call, res));
    lam_result_init(&k->pc.res);
    k->front = k + 1;
    (void)front_size;
    k->r = k->adm.r = r;
    k->w = k->adm.w = r->w;
    k->adm.time_ms = clk_epoch_ms();
    k->adm.answered = dropped;
    return k;
}

void gw_call_free(gw_call *k)
{
    if (!k)
        return;
    lam_result_fini(&k->pc.res);
    gw_admission_fini(&k->adm);
    free(k->event);
    free(k);
}

/* Hands r back to the front, once. */
static void finish(gw_call *k, gw_outcome o)
{
    gw_req *r = k->r;
    if (!r)
        return;
    k->r = NULL;
    k->w->pending--;
    k->done(k, r, o);
}

static void on_timeout(ev_loop *L, ev_timer *t)
{
    (void)L;
    finish(t->data, GW_TIMED_OUT); /* the function's result is dropped when it comes */
}

static void on_done(pool_call *pc)
{
    gw_call *k = pc->arg;
    ev_timer_stop(k->w->L, &k->timeout);
    finish(k, pc->failed ? GW_REJECTED : GW_RESULT);
    gw_call_free(k);
}

void gw_call_invoke(gw_call *k, int fi, char *event, size_t len, int timeout_ms)
{
    k->event = event;
    k->pc.fi = fi;
    k->pc.event = event;
    k->pc.len = len;
    k->pc.done = on_done;
    k->pc.arg = k;
    k->w->pending++;
    ev_timer_start(k->w->L, &k->timeout, ev_now(k->w->L) + timeout_ms, on_timeout, k);
    if (pool_invoke(k->w->g->pools, k->w->id, &k->pc) != 0) {
        ev_timer_stop(k->w->L, &k->timeout);
        finish(k, GW_REJECTED);
        gw_call_free(k);
    }
}

void gw_request_view(const gw_req *r, apigw_kv *hdrs, apigw_request *ar, const char *request_id,
                     const char *api_id, long long time_ms)
{
    const http_request *hr = r->hr;
    for (uint32_t i = 0; i < hr->n_headers; i++)
        hdrs[i] = (apigw_kv){r->buf + hr->headers[i].name, hr->headers[i].name_len,
                             r->buf + hr->headers[i].value, hr->headers[i].value_len};
    int has_body = hr->body_len > 0 || hr->chunked;
    *ar = (apigw_request){r->method, r->buf + hr->target, hr->target_len, hdrs, hr->n_headers,
                          has_body ? r->buf + hr->body : NULL, hr->body_len, hc_peer(r->c),
                          request_id, api_id, time_ms, NULL};
}

void gw_api_id(const sam_api *a, char out[64])
{
    size_t i = 0;
    for (; a->name[i] && i < 63; i++)
        out[i] = (char)tolower((unsigned char)a->name[i]);
    out[i] = 0;
}

const char *gw_host_port(const gw_req *r, char out[8])
{
    char host[256];
    const char *colon = gw_header(r, "host", host, sizeof host) ? strrchr(host, ':') : NULL;
    if (colon && colon[1] && strlen(colon + 1) < 6 && !strchr(colon, ']') &&
        strspn(colon + 1, "0123456789") == strlen(colon + 1))
        snprintf(out, 8, "%s", colon + 1);
    else
        snprintf(out, 8, "80");
    return out;
}
