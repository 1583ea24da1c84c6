/*
 * Helpers shared by the nerd subcommands (see cli.h).
 */
#define _DEFAULT_SOURCE
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "lg_common.h"

#define MODEL_NAME "en_core_web_sm-2.2.5.nerd"

const char *cli_default_model(void)
{
    static char path[PATH_MAX + 64];
    const char *env = getenv("NERD_MODEL");
    if (env && *env)
        return env;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            const char *rel[] = {"/../models/", "/models/", "/../share/nerd/"};
            for (size_t i = 0; i < sizeof rel / sizeof *rel; i++) {
                snprintf(path, sizeof path, "%s%s%s", exe, rel[i], MODEL_NAME);
                if (access(path, R_OK) == 0)
                    return path;
            }
        }
    }
    return "models/" MODEL_NAME;
}

int cli_load_model(const char *path, ner_model **out)
{
    if (!path)
        path = cli_default_model();
    int rc = ner_model_load(path, out);
    if (rc)
        fprintf(stderr, "nerd: %s: %s\n", path, ner_strerror(rc));
    return rc;
}

void cli_json_str(FILE *f, const char *s, size_t n)
{
    lg_json_str(f, s, n); /* one JSON string writer for the CLI and the load lab */
}

void cli_json_doc(FILE *f, const ner_model *m, const char *text,
                  const ner_doc *d, int with_tokens, const char *id, size_t id_len)
{
    if (id) {
        fputs("{\"id\":", f);
        fwrite(id, 1, id_len, f);
        fputs(",\"entities\":[", f);
    } else {
        fputs("{\"entities\":[", f);
    }
    for (size_t i = 0; i < d->n_ents; i++) {
        const ner_span *e = &d->ents[i];
        fputs(i ? ",{\"text\":" : "{\"text\":", f);
        cli_json_str(f, text + e->byte_start, e->byte_end - e->byte_start);
        fputs(",\"label\":", f);
        const char *l = ner_model_label(m, e->label);
        cli_json_str(f, l, strlen(l));
        fprintf(f, ",\"start\":%u,\"end\":%u", e->start, e->end);
        if (d->scores)
            fprintf(f, ",\"score\":%.4f", (double)d->scores[i]);
        putc('}', f);
    }
    putc(']', f);
    if (with_tokens) {
        fputs(",\"tokens\":[", f);
        for (size_t i = 0; i < d->n_tokens; i++)
            fprintf(f, i ? ",[%u,%u]" : "[%u,%u]", d->tokens[i].start,
                    d->tokens[i].end);
        putc(']', f);
    }
    fputs("}\n", f);
}

long cli_read_line(FILE *f, char **buf, size_t *bufcap, size_t cap)
{
    size_t n = 0;
    int c, over = 0;
    while ((c = getc(f)) != EOF && c != '\n') {
        if (n >= cap) {
            over = 1;
            continue;
        }
        if (n + 1 >= *bufcap) {
            size_t nc = *bufcap ? *bufcap * 2 : 4096;
            if (nc > cap + 1)
                nc = cap + 1;
            char *p = realloc(*buf, nc);
            if (!p)
                return -2;
            *buf = p;
            *bufcap = nc;
        }
        (*buf)[n++] = (char)c;
    }
    if (c == EOF && n == 0 && !over)
        return -1;
    if (over)
        return -2;
    if (n && (*buf)[n - 1] == '\r')
        n--;
    if (!*buf) {
        *buf = malloc(1);
        if (!*buf)
            return -2;
        *bufcap = 1;
    }
    (*buf)[n] = 0;
    return (long)n;
}

char *cli_read_file(const char *path, size_t cap, size_t *len)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f)
        return NULL;
    char *buf = malloc(cap + 1);
    size_t n = buf ? fread(buf, 1, cap + 1, f) : 0;
    int bad = ferror(f);
    if (f != stdin)
        fclose(f);
    if (!buf || bad || n > cap) {
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    if (len)
        *len = n;
    return buf;
}

void cli_on_stop(void (*handler)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}
