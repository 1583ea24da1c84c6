/*
 * `nerd local`: the local serverless platform.  So far `invoke` (one event
 * through one execution environment, like `sam local invoke`) and
 * `validate` (read the template and print what would run); `start-api`
 * lands with the gateway.
 */
#define _DEFAULT_SOURCE
#include <stdlib.h>
#include <string.h>

#include <signal.h>
#include <sys/stat.h>

#include "cli.h"
#include "envlimit.h"
#include "gateway.h"
#include "langrt.h"
#include "runtime.h"
#include "template.h"

#define MAX_EVENT (6u * 1024 * 1024)
#define MAX_OVERRIDES 64
#define MAX_JWKS 32

static void usage(FILE *f)
{
    fputs("usage: nerd local start-api [--template FILE] [--port N] [--idle-timeout S]\n"
          "                            [--destinations DIR] [--client-timeout S] [--no-limits]\n"
          "                            [--head-timeout S] [--workers N] [--build-dir DIR]\n"
          "                            [--no-stage] [--usage-db FILE] [--jwks [KEY=]FILE|URL ...]\n"
          "                            [--parameter-overrides NAME=VALUE ...]\n"
          "       nerd local invoke [FUNCTION] [--template FILE] [--event FILE|-] [--no-limits]\n"
          "                         [--parameter-overrides NAME=VALUE ...]\n"
          "       nerd local validate [--template FILE] [--parameter-overrides ...]\n"
          "       nerd local jwt --help   (test keys and tokens for JWT authorizers)\n"
          "\n"
          "invoke: runs FUNCTION (a logical id of the SAM template; optional when there\n"
          "is one function) once with the event (default {}), as Lambda would: a fresh\n"
          "execution environment running CodeUri/bootstrap against a Runtime API on\n"
          "127.0.0.1.  The result payload goes to stdout; START/END/REPORT lines and the\n"
          "function's output to stderr.  Exit status 0 on success, 1 when the function\n"
          "failed (error, crash, timeout: the error JSON is printed), 2 on usage errors.\n"
          "start-api: serves the template's HTTP API routes and REST APIs on\n"
          "127.0.0.1:PORT (default 3000) until SIGINT/SIGTERM: HTTP APIs at their paths\n"
          "(payload 2.0, or 1.0 where PayloadFormatVersion says so), REST APIs under\n"
          "their stage as on AWS (/Prod/path; also /Stage/path unless OpenApiVersion is\n"
          "set; payload 1.0); --no-stage serves REST APIs at /path, as `sam local\n"
          "start-api` does.  Methods with ApiKeyRequired take the x-api-key header\n"
          "and the usage plans' throttles and quotas: keys without a Value are\n"
          "generated once and printed at start-up (\"API key NAME: VALUE\"); values and\n"
          "usage counts are kept in --usage-db FILE (default .nerd/usage.sqlite3).\n"
          "Warm environments reused,\n"
          "cold starts up to ReservedConcurrentExecutions (else 1000), then 429;\n"
          "provisioned environments initialised first; idle ones shut down after\n"
          "--idle-timeout seconds (default 300).  Event invocations (Invoke API)\n"
          "that still fail after their retries go to the function's\n"
          "EventInvokeConfig OnFailure destination, written as JSON lines to\n"
          "DIR/FUNCTION-OnFailure.jsonl (default DIR .nerd/destinations).\n"
          "MemorySize is enforced (cgroup memory limit, else RLIMIT_AS) and buys CPU\n"
          "as on Lambda (1769 MB = one vCPU, cgroup CPU quota); the first log line\n"
          "says what this machine allows.  --no-limits turns both off.\n"
          "--client-timeout S: an idle keep-alive connection is closed, and a request\n"
          "not received whole within S seconds of its first byte gets 408 (default 30).\n"
          "--head-timeout S: a request head not complete S seconds after its first byte\n"
          "gets 408 (default: the client timeout).  --workers N: event loops serving\n"
          "connections and environments (default one per CPU).\n"
          "--jwks KEY=FILE|URL: the JSON Web Key Set of a JWT (HTTP API) or Cognito\n"
          "(REST) authorizer, KEY being its name, its issuer or its UserPoolArn: a file,\n"
          "or an http:// URL on 127.0.0.1 or localhost (nothing else is contacted);\n"
          "without KEY=, for every such authorizer without its own.  An issuer that\n"
          "is itself a loopback http:// URL needs none (its /.well-known documents are\n"
          "read).  Key sets are read at start-up; `nerd local jwt` makes keys, JWKS and\n"
          "tokens (docs/auth.md).  Repeat the option for several authorizers.\n"
          "validate: loads the template and prints its functions and routes.\n"
          "  --template FILE   default template.yaml\n"
          "  --build-dir DIR   run each function from DIR/<LogicalId> where that exists\n"
          "                    (what `sam build` makes: .aws-sam/build)\n", f);
}

static volatile int g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

int cmd_local(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "jwt"))
        return cmd_local_jwt(argc - 1, argv + 1);
    const char *sub = argv[1], *tpl = "template.yaml", *event_path = NULL, *fname = NULL;
    const char *ov[MAX_OVERRIDES] = {0}, *jwks[MAX_JWKS] = {0};
    size_t nov = 0, njwks = 0;
    int port = 3000, limits = 1;
    double idle = 300, client_timeout = 30, head_timeout = 0;
    int workers = 0, no_stage = 0;
    const char *dest = ".nerd/destinations", *build_dir = NULL, *usage_db = NULL;
    if (strcmp(sub, "invoke") && strcmp(sub, "validate") && strcmp(sub, "start-api")) {
        fprintf(stderr, "nerd local: unknown command '%s'\n", sub);
        usage(stderr);
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--template") && i + 1 < argc) {
            tpl = argv[++i];
        } else if (!strcmp(argv[i], "--port") && i + 1 < argc) {
            port = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--idle-timeout") && i + 1 < argc) {
            idle = atof(argv[++i]);
        } else if (!strcmp(argv[i], "--client-timeout") && i + 1 < argc) {
            client_timeout = atof(argv[++i]);
        } else if (!strcmp(argv[i], "--head-timeout") && i + 1 < argc) {
            head_timeout = atof(argv[++i]);
        } else if (!strcmp(argv[i], "--workers") && i + 1 < argc) {
            workers = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--build-dir") && i + 1 < argc) {
            build_dir = argv[++i];
        } else if (!strcmp(argv[i], "--no-limits")) {
            limits = 0;
        } else if (!strcmp(argv[i], "--no-stage")) {
            no_stage = 1;
        } else if (!strcmp(argv[i], "--usage-db") && i + 1 < argc) {
            usage_db = argv[++i];
        } else if (!strcmp(argv[i], "--jwks") && i + 1 < argc) {
            if (njwks == MAX_JWKS) {
                fprintf(stderr, "nerd local: more than %d --jwks options\n", MAX_JWKS);
                return 2;
            }
            jwks[njwks++] = argv[++i];
        } else if (!strcmp(argv[i], "--destinations") && i + 1 < argc) {
            dest = argv[++i];
        } else if (!strcmp(argv[i], "--event") && i + 1 < argc) {
            event_path = argv[++i];
        } else if (!strcmp(argv[i], "--parameter-overrides")) {
            while (i + 1 < argc && argv[i + 1][0] != '-' && nov < MAX_OVERRIDES)
                ov[nov++] = argv[++i];
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "nerd local: unknown option %s\n", argv[i]);
            usage(stderr);
            return 2;
        } else if (!fname) {
            fname = argv[i];
        } else {
            usage(stderr);
            return 2;
        }
    }
    char err[1024];
    sam_template *t;
    if (sam_load(tpl, ov, nov, &t, err, sizeof err)) {
        fprintf(stderr, "nerd local: %s\n", err);
        return 2;
    }
    for (size_t i = 0; build_dir && i < t->n_functions; i++) {
        sam_function *f = &t->functions[i];
        char dir[1200];
        struct stat st;
        int n = snprintf(dir, sizeof dir, "%s/%s", build_dir, f->name);
        if (n > 0 && (size_t)n < sizeof f->code_uri && stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
            memcpy(f->code_uri, dir, (size_t)n + 1);
    }
    if (strcmp(sub, "validate")) {
        char line[512];
        lim_probe(limits);
        lim_describe(line, sizeof line);
        fprintf(stderr, "%s\n", line);
    }
    if (!strcmp(sub, "start-api")) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);
        gw_options o = {port, idle, stderr, &g_stop, dest, client_timeout, head_timeout, workers,
                        no_stage, usage_db, jwks, njwks};
        int rc = gw_serve(t, &o, err, sizeof err);
        if (rc)
            fprintf(stderr, "nerd local: %s\n", err);
        free(t);
        return rc ? 1 : 0;
    }
    if (!strcmp(sub, "validate")) {
        for (size_t i = 0; i < t->n_functions; i++) {
            const sam_function *f = &t->functions[i];
            const lrt_runtime *r = lrt_find(f->runtime);
            int managed = r && r->lang != LRT_PROVIDED;
            printf("function %s: %s%s%s, %s, %s, %d MB, %d s timeout, reserved %d, "
                   "provisioned %d", f->name, f->code_uri, managed ? " handler " : "/bootstrap",
                   managed ? f->handler : "", f->runtime, f->arch, f->memory_mb, f->timeout_s,
                   f->reserved, f->provisioned);
            for (size_t k = 0; k < f->n_layers; k++)
                printf("%s%s", k ? ", " : ", layers ", f->layers[k].name);
            printf("\n");
        }
        for (size_t i = 0; i < t->n_routes; i++) {
            const sam_api *a = &t->apis[t->routes[i].api];
            int rest = a->type == SAM_REST_API;
            printf("route %s %s -> %s (%s%s%s%s)\n", t->routes[i].method, t->routes[i].path,
                   t->functions[t->routes[i].function].name, a->name, rest ? ", REST, stage " : "",
                   rest ? a->stage : "", rest && a->extra_stage ? " and Stage" : "");
        }
        free(t);
        return 0;
    }
    const sam_function *f = NULL;
    for (size_t i = 0; i < t->n_functions; i++)
        if (!fname || !strcmp(t->functions[i].name, fname))
            f = f && !fname ? NULL : &t->functions[i];
    if (!f) {
        fprintf(stderr, "nerd local: %s\n", fname ? "no such function in the template"
                                                  : "the template has several functions: name one");
        free(t);
        return 2;
    }
    size_t elen = 2;
    char *event = event_path ? cli_read_file(event_path, MAX_EVENT, &elen) : strdup("{}");
    if (!event) {
        fprintf(stderr, "nerd local: %s: cannot read the event (or over 6 MB)\n", event_path);
        free(t);
        return 2;
    }
    lam_env *e;
    int status = 1;
    lrt_warn(f, stderr); /* interpreter, version, layers */
    if (lam_env_start(NULL, f, stderr, -1, &e, err, sizeof err)) {
        fprintf(stderr, "nerd local: %s\n", err);
    } else {
        lam_result r;
        if (lam_env_invoke(e, event, elen, &r) == 0) {
            fwrite(r.payload ? r.payload : "", 1, r.payload ? r.payload_len : 0, stdout);
            fputc('\n', stdout);
            fflush(stdout);
            status = r.outcome == LAM_OK ? 0 : 1;
        }
        lam_result_fini(&r);
        lam_env_free(e);
    }
    free(event);
    free(t);
    return status;
}
