/*
 * The API key stage of admission (admission.h): REST methods with
 * ApiKeyRequired, checked against the template's API keys and usage plans
 * (the usage store of usage.h, built at start-up) in API Gateway's order
 * (../shared/specs/apigw-rest-auth-runtimes.md §2.3): after the
 * authorizer, before the stage/method throttle.  Internal to platform/.
 */
#ifndef NERD_ADMIT_KEYS_H
#define NERD_ADMIT_KEYS_H

#include <stddef.h>

#include "admission.h"

/* The stage: passes requests to methods that need no key; else looks the
 * key up (x-api-key, or the authorizer's usageIdentifierKey for an API
 * whose ApiKeySourceType is AUTHORIZER) and answers 403 Forbidden (key
 * missing, unknown, disabled, or in no usage plan of this API's stage),
 * 429 Too Many Requests (the plan's throttle) or 429 Limit Exceeded (its
 * quota), or passes with a->api_key and a->api_key_id filled.  Any
 * worker; no I/O. */
extern const gw_stage gw_stage_api_key;

/* At start-up, before serving: when some method of g->t requires a key,
 * opens the usage database (g->o->usage_db, NULL: .nerd/usage.sqlite3
 * under the working directory), adds the template's keys (a key without
 * Value gets the value generated for it in an earlier run, else a new
 * one, stored), plans and plan keys, starts the store into g->usage and
 * prints each key to g->o->log ("API key NAME: VALUE (...)").  Otherwise
 * g->usage stays NULL (nothing is opened).  0, or -1 with a message in
 * err. */
int gw_keys_open(gw *g, char *err, size_t errlen);

/* Writes the counts not yet written and closes the store (g->usage
 * NULL after).  No-op when none is open. */
void gw_keys_close(gw *g);

#endif
