/* libFuzzer target: the load lab's scenario-file parser
 * (loadgen/scenario.c, with request lines: loadgen/flow.c).  Any input
 * must parse or fail with a message that names its line; a parsed
 * scenario must be within the caps, survive --time-scale and read back
 * identically from lg_scenario_write's text; each of its requests renders
 * within LG_REQ_BYTES with every variable at its longest.  The input is
 * also an answer for the JSON member scanner (lg_json_member, whose
 * result must fit what it was given). */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg_flow.h"
#include "lg_scenario.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void check_stage(const lg_scenario *s, const lg_stage *st)
{
    if (!(st->duration > 0) || st->duration > LG_MAX_STAGE_S || st->users < 0 ||
        st->users > LG_MAX_USERS || st->think_min < 0 || st->think_max < st->think_min ||
        st->spawn_rate < 0 || st->rate_from < 0 || st->rate_to < 0 ||
        st->rate_from > LG_MAX_RATE || st->rate_to > LG_MAX_RATE)
        abort();
    if (s->model == LG_OPEN && (st->users || st->think_max > 0 || st->spawn_rate > 0))
        abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    static lg_scenario s, t;
    static lg_sess ss;
    static char req[LG_REQ_BYTES];
    char err[512], v[LG_VAR_MAX];
    long vl = lg_json_member((const char *)data, size, "id", v, sizeof v);
    if (vl >= (long)sizeof v || (vl >= 0 && v[vl]))
        abort();
    lg_err rc = lg_scenario_parse((const char *)data, size, "fuzz", &s, err, sizeof err);
    if (rc) {
        if ((rc != LG_ESYNTAX && rc != LG_ELIMIT) || strncmp(err, "fuzz:", 5))
            abort();
        return 0;
    }
    if (!s.n_stages || s.n_stages > LG_MAX_STAGES || !(s.timeout > 0) ||
        s.timeout > LG_MAX_TIMEOUT_S || s.connections < 1 || s.connections > LG_MAX_USERS)
        abort();
    for (size_t i = 0; i < s.n_stages; i++)
        check_stage(&s, &s.stages[i]);
    if (s.has_warmup)
        check_stage(&s, &s.warmup);
    /* every request renders, variables at their longest (control characters: the
     * most escaping), within the cap */
    lg_sess_init(&ss, 1);
    for (size_t k = 0; k < s.n_vars; k++) {
        memset(ss.val[k], 1, LG_VAR_MAX - 1);
        ss.len[k] = LG_VAR_MAX - 1;
        ss.set |= 1u << k;
    }
    uint64_t rng = 1;
    for (size_t i = 0; i < s.n_requests; i++) {
        ss.step = (uint32_t)i;
        if (s.flow_bytes > sizeof req)
            abort();
        size_t n = lg_flow_render(&s, &ss, "127.0.0.1", 65535,
                                  "/a-base-path-of-some-length", &rng, req, s.flow_bytes);
        if (!n || n > s.flow_bytes)
            abort();
    }
    /* written out it reads back to the same values, to the nanosecond or
     * 1e-9 relative for long stages (the writer keeps 12 fractional digits
     * of a second), unless a value prints in exponent form, which the
     * format lacks */
    char *buf = NULL;
    size_t bl = 0;
    FILE *f = open_memstream(&buf, &bl);
    lg_scenario_write(&s, f);
    fclose(f);
    if (!strstr(buf, "e-") && !strstr(buf, "e+")) {
        if (lg_scenario_parse(buf, bl, "written", &t, err, sizeof err))
            abort();
        if (t.n_stages != s.n_stages || t.model != s.model || t.has_warmup != s.has_warmup ||
            t.n_requests != s.n_requests || memcmp(t.requests, s.requests, sizeof s.requests))
            abort();
        for (size_t i = 0; i < s.n_stages; i++)
            if (fabs(t.stages[i].duration - s.stages[i].duration) >
                    1e-9 * fmax(1.0, s.stages[i].duration) ||
                t.stages[i].users != s.stages[i].users)
                abort();
    }
    free(buf);
    double d = lg_scenario_duration(&s);
    lg_scenario_scale(&s, 0.01);
    if (fabs(lg_scenario_duration(&s) - d * 0.01) > 1e-6 * d)
        abort();
    return 0;
}
