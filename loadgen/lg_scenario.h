/*
 * Load-lab scenarios as data: a small line-oriented text format (see
 * docs/loadlab.md) with a workload model (closed: virtual users with think
 * time and a spawn rate, as Locust runs them; open: an arrival rate,
 * constant or ramping), an optional warm-up after which statistics reset,
 * and stages.  The study's scenarios (light-a ... very-heavy-a) are built
 * into the binary from the scenarios/ folder.  Parsing is bounded (1 MB, 4 KB
 * lines, 256 stages) and reports the first error with its line number.
 * Thread safety: parsed scenarios are plain values; no shared state.
 */
#ifndef NERD_LG_SCENARIO_H
#define NERD_LG_SCENARIO_H

#include <stddef.h>

#include "lg_common.h"

#define LG_SCN_MAX_BYTES (1u << 20)
#define LG_SCN_MAX_LINE 4096
#define LG_SCN_NAME 64
#define LG_SCN_DESC 256

typedef enum lg_model { LG_CLOSED = 0, LG_OPEN = 1 } lg_model;

typedef struct lg_stage {
    double duration;            /* seconds */
    int users;                  /* closed: target users */
    double spawn_rate;          /* closed: users started/stopped per second; 0 = at once */
    double think_min, think_max; /* closed: seconds */
    double rate_from, rate_to;  /* open: arrivals per second, linear over the stage */
} lg_stage;

/* A request of a stateful mix (`request` lines, docs/loadlab.md): each
 * virtual user (closed model) or session (open model) sends the
 * scenario's requests in order, again and again; templates hold {{...}}
 * placeholders (generators and variables captured from earlier answers). */
#define LG_MAX_REQUESTS 8
#define LG_MAX_VARS 8               /* captured variables of a scenario */
#define LG_MAX_CAPTURES 4           /* per request */
#define LG_MAX_EXPECT 8             /* statuses per request */
#define LG_REQ_PATH 512
#define LG_REQ_NAME 128
#define LG_REQ_BODY LG_SCN_MAX_LINE
#define LG_VAR_NAME 32
#define LG_VAR_MAX 256              /* bytes of a captured value */
#define LG_REQ_BYTES 32768          /* a rendered request, head included */

typedef struct lg_request {
    char method[8];
    char path[LG_REQ_PATH];     /* template, after the target's base */
    char name[LG_REQ_NAME];     /* its row in the statistics */
    int has_body;
    char body[LG_REQ_BODY];     /* template (sent as application/json) */
    int n_expect;               /* 0: any 2xx succeeds */
    int expect[LG_MAX_EXPECT];
    int n_captures;
    int cap_var[LG_MAX_CAPTURES]; /* index into lg_scenario.vars */
    char cap_field[LG_MAX_CAPTURES][LG_VAR_NAME]; /* top-level JSON member of the answer */
} lg_request;

typedef struct lg_scenario {
    char name[LG_SCN_NAME];
    char description[LG_SCN_DESC];
    lg_model model;
    double timeout;             /* per-request timeout, seconds (default 30) */
    int connections;            /* open: connection cap (default 64) */
    int has_warmup;
    lg_stage warmup;            /* statistics reset when it ends */
    size_t n_stages;
    lg_stage stages[LG_MAX_STAGES];
    size_t n_requests;          /* 0: the classic mix (POST --path, --texts) */
    lg_request requests[LG_MAX_REQUESTS];
    size_t n_vars;
    char vars[LG_MAX_VARS][LG_VAR_NAME];
    size_t flow_bytes;          /* the largest rendered request possible (<= LG_REQ_BYTES) */
} lg_scenario;

/* Parses text[0..len) into *out.  source names the text in messages
 * ("light-a", "file.scn").  On LG_ESYNTAX or LG_ELIMIT, err (errcap
 * bytes) receives "SOURCE:LINE: message".  No allocation. */
lg_err lg_scenario_parse(const char *text, size_t len, const char *source,
                         lg_scenario *out, char *err, size_t errcap);

/* Loads NAME (a built-in scenario) or FILE (a path: contains '/' or ends
 * in ".scn") into *out; errors as for lg_scenario_parse, LG_ENOENT with
 * the list of built-in names when neither exists. */
lg_err lg_scenario_load(const char *name_or_file, lg_scenario *out, char *err,
                        size_t errcap);

/* Multiplies every duration (stages, warm-up, think times) by x and
 * every spawn rate by 1/x, so the shape of users over time is kept;
 * the request timeout and open-model rates are not changed. */
void lg_scenario_scale(lg_scenario *s, double x);

/* Seconds of the whole run (warm-up included). */
double lg_scenario_duration(const lg_scenario *s);

/* Built-in scenarios (generated from the scenarios/ folder): count, name and
 * text of the i-th. */
size_t lg_builtin_count(void);
const char *lg_builtin_name(size_t i);
const char *lg_builtin_text(size_t i, size_t *len);

/* Writes s back in the file format (for run folders and tests). */
void lg_scenario_write(const lg_scenario *s, FILE *f);

/* internal (loadgen/flow.c): a `request` line, tok[0] being "request",
 * body the text after the word "body" (NULL: none), appended to s;
 * msg (cap bytes) says what is wrong, without the file and line. */
lg_err lg__request_parse(char **tok, int nt, const char *body, lg_scenario *s, char *msg,
                         size_t cap);

/* internal (loadgen/flow.c): writes s's requests as `request` lines. */
void lg__requests_write(const lg_scenario *s, FILE *f);

/* internal: one embedded scenario file (the generated table of
 * $(BUILD)/gen/lg_scenarios.c, from loadgen/embed_scenarios.sh) */
typedef struct lg__scn_src {
    const char *name, *text;
    size_t len;
} lg__scn_src;
extern const lg__scn_src lg__scn_builtin[];
extern const size_t lg__scn_builtin_n;

#endif
