/*
 * Stateful request mixes of the load lab (loadgen/flow.c): the `request`
 * lines of a scenario rendered into HTTP requests for one virtual user or
 * session — generators ({{uuid}}, {{user}}, {{iter}}, {{int:A:B}},
 * {{dec:A:B}}, {{pick:a|b}}) and variables captured from earlier answers
 * (a top-level member of a JSON answer) — and the walk through the mix:
 * which request comes next after a success or a failure.  No allocation;
 * a session is a plain value owned by the engine.  Thread safety: none
 * needed (no shared state).
 */
#ifndef NERD_LG_FLOW_H
#define NERD_LG_FLOW_H

#include <stddef.h>
#include <stdint.h>

#include "lg_scenario.h"

/* xorshift64* step: the generators' and think times' random numbers. */
static inline uint64_t lg_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

/* One user's (closed) or session's (open) place in the mix. */
typedef struct lg_sess {
    uint32_t user;              /* 1-based: {{user}} */
    uint32_t step;              /* the request to send next */
    uint64_t iter;              /* 1-based pass through the mix: {{iter}} */
    uint32_t set;               /* bit v: vars[v] holds a value */
    uint16_t len[LG_MAX_VARS];
    char val[LG_MAX_VARS][LG_VAR_MAX];
} lg_sess;

/* Starts session number user (1-based) at the first request. */
void lg_sess_init(lg_sess *ss, uint32_t user);

/* Renders request ss->step of s for host:port and base (the target's,
 * e.g. "127.0.0.1", 3000, "/Prod") into out[0..cap): the request line,
 * Host, User-Agent, Accept, and with a body Content-Type:
 * application/json and Content-Length.  Placeholders in the path are
 * percent-encoded (all but A-Z a-z 0-9 - . _ ~), in the body escaped as
 * inside a JSON string.  Returns the length, or 0 when it would not fit
 * (cap >= s->flow_bytes always fits what the parser accepted) or a
 * variable has no value. */
size_t lg_flow_render(const lg_scenario *s, const lg_sess *ss, const char *host, int port,
                      const char *base, uint64_t *rng, char *out, size_t cap);

/* The answer to request ss->step came back: status (0 for a connection
 * error or timeout) and the first body_len bytes of its body.  Decides
 * success — status in the request's expect list, else any 2xx — and, on
 * success, stores the request's captures (a capture whose member is
 * missing, not a string or number, or longer than LG_VAR_MAX makes it a
 * failure).  Then moves ss on: to the next request, or after a failure of
 * a request with captures (the later ones need them) back to the first;
 * past the last, a new iteration with no variables set.  Returns 1 for a
 * success, 0 for a failure; why (a failure with a status that was answered)
 * goes into why (cap bytes; "" otherwise): "status 404, expected 201" or
 * "no \"id\" in the answer". */
int lg_flow_done(const lg_scenario *s, lg_sess *ss, int status, const char *body,
                 size_t body_len, char *why, size_t cap);

/* Finds the top-level member field of the JSON object text[0..n) and
 * copies its value — a string (unescaped, UTF-8) or a number (as written)
 * — into out[0..cap), NUL-terminated.  Returns its length, or -1 when text
 * is not an object, the member is missing or of another type, the text is
 * malformed before the member, or the value needs cap bytes or more. */
long lg_json_member(const char *text, size_t n, const char *field, char *out, size_t cap);

#endif
