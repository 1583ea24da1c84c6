/*
 * `nerd extract`: named entities of a text argument, or of each line of
 * standard input, as one JSON object per line.  An input line that is a
 * JSON object ({"id": ..., "text": ...}, JSON lines) is read as one: its
 * "text" is the text and its "id", any JSON value, is echoed byte for byte
 * (spaCy's nlp.pipe with as_tuples, Comprehend's batch Index); every other
 * line is the text itself.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f)
{
    fputs("usage: nerd extract [--model FILE] [--tokens] [--scores] [--plain] [TEXT...]\n"
          "\n"
          "Prints {\"entities\":[{\"text\",\"label\",\"start\",\"end\"}]} for TEXT (the\n"
          "arguments joined by spaces), or for each line of standard input when\n"
          "no TEXT is given (a trailing \\r is removed).  Offsets are Unicode code\n"
          "points.  A line that is a JSON object, {\"id\": ..., \"text\": \"...\"}, gives\n"
          "{\"id\": <the id as written>, \"entities\": [...]} (no \"id\" in, none out);\n"
          "any other line is the text.  A line that cannot be processed (invalid\n"
          "UTF-8, too long, a JSON line without a \"text\" string) gives\n"
          "{\"error\",\"message\"} (and its id) on its output line, a message on\n"
          "stderr, and exit status 1.\n"
          "\n"
          "  --model FILE  model file (default: $NERD_MODEL or the bundled model)\n"
          "  --tokens      also print token offsets as \"tokens\": [[start,end],...]\n"
          "  --scores      also print each entity's \"score\": the product of the\n"
          "                probabilities of the parser actions that built it\n"
          "  --plain       every line is text, even one that looks like JSON\n",
          f);
}

/* Index after the JSON string starting at s[i] == '"' (n when unclosed). */
static size_t skip_string(const char *s, size_t n, size_t i)
{
    for (i++; i < n; i++) {
        if (s[i] == '\\')
            i++;
        else if (s[i] == '"')
            return i + 1;
    }
    return n;
}

static size_t skip_ws(const char *s, size_t n, size_t i)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

/* Index after the JSON value starting at s[i] (bounded by n). */
static size_t skip_value(const char *s, size_t n, size_t i)
{
    if (i >= n)
        return n;
    if (s[i] == '"')
        return skip_string(s, n, i);
    if (s[i] == '{' || s[i] == '[') {
        size_t depth = 0;
        while (i < n) {
            char ch = s[i];
            if (ch == '"') {
                i = skip_string(s, n, i);
                continue;
            }
            if (ch == '{' || ch == '[')
                depth++;
            else if ((ch == '}' || ch == ']') && --depth == 0)
                return i + 1;
            i++;
        }
        return n;
    }
    while (i < n && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' && s[i] != '\t' &&
           s[i] != '\r' && s[i] != '\n')
        i++;
    return i;
}

/* The bytes of the value of the top-level member "id" of the JSON object
 * s[0..n) (already validated by jansson), exactly as written; 0 if there
 * is none written so (a key spelt with escapes is not found here). */
static int raw_id(const char *s, size_t n, size_t *off, size_t *len)
{
    size_t i = skip_ws(s, n, 0);
    if (i >= n || s[i] != '{')
        return 0;
    i++;
    for (;;) {
        i = skip_ws(s, n, i);
        if (i >= n || s[i] != '"')
            return 0;
        size_t k0 = i + 1, k1 = skip_string(s, n, i);
        i = skip_ws(s, n, k1);
        if (i >= n || s[i] != ':')
            return 0;
        i = skip_ws(s, n, i + 1);
        size_t v1 = skip_value(s, n, i);
        if (k1 - k0 == 3 && !memcmp(s + k0, "id\"", 3)) {
            *off = i;
            *len = v1 - i;
            return v1 > i;
        }
        i = skip_ws(s, n, v1);
        if (i >= n || s[i] != ',')
            return 0;
        i++;
    }
}

/* Writes an error line (with the id, when there is one) and the message
 * on stderr; returns 1. */
static int error_line(FILE *out, const char *id, size_t id_len, const char *err, const char *msg,
                      long lineno)
{
    fputs("{", out);
    if (id) {
        fputs("\"id\":", out);
        fwrite(id, 1, id_len, out);
        fputs(",", out);
    }
    fprintf(out, "\"error\":\"%s\",\"message\":", err);
    cli_json_str(out, msg, strlen(msg));
    fputs("}\n", out);
    if (lineno > 0)
        fprintf(stderr, "nerd extract: line %ld: %s\n", lineno, msg);
    else if (lineno == 0)
        fprintf(stderr, "nerd extract: %s\n", msg);
    return 1;
}

static int run_one(ner_ctx *c, const ner_model *m, const char *text, size_t n, unsigned opts,
                   FILE *out, const char *id, size_t id_len, long lineno)
{
    ner_doc d;
    int rc = ner_extract_ex(c, text, n, opts & CLI_X_SCORES ? NER_SCORES : 0, &d);
    if (rc)
        return error_line(out, id, id_len,
                          rc == NER_EUTF8 ? "invalid_utf8" : rc == NER_ETOOBIG ? "too_large"
                                                                             : "failed",
                          ner_strerror(rc), lineno);
    cli_json_doc(out, m, text, &d, (opts & CLI_X_TOKENS) != 0, id, id_len);
    return 0;
}

int cli_extract_line(ner_ctx *c, const ner_model *m, const char *line, size_t n, unsigned opts,
                     FILE *out, long lineno)
{
    if ((opts & CLI_X_PLAIN) || !n || line[0] != '{')
        return run_one(c, m, line, n, opts, out, NULL, 0, lineno);
    json_error_t je;
    /* numbers as reals: an id of any size parses (it is echoed as written) */
    json_t *j = json_loadb(line, n, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES |
                                        JSON_DECODE_INT_AS_REAL, &je);
    if (!j && json_error_code(&je) == json_error_duplicate_key) /* JSON, but which id? */
        return error_line(out, NULL, 0, "invalid_line", je.text, lineno);
    if (!json_is_object(j)) { /* not JSON: a text that starts with '{' */
        json_decref(j);
        return run_one(c, m, line, n, opts, out, NULL, 0, lineno);
    }
    int rc;
    size_t off = 0, id_len = 0;
    char *dumped = NULL;
    const char *id = NULL;
    json_t *jid = json_object_get(j, "id");
    if (jid && raw_id(line, n, &off, &id_len)) {
        id = line + off;
    } else if (jid) { /* a key written with escapes: the same value, re-encoded */
        dumped = json_dumps(jid, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!dumped) {
            rc = error_line(out, NULL, 0, "failed", ner_strerror(NER_ENOMEM), lineno);
            goto out;
        }
        id = dumped;
        id_len = strlen(dumped);
    }
    json_t *t = json_object_get(j, "text");
    if (!t)
        rc = error_line(out, id, id_len, "missing_text", "the JSON line has no \"text\" field",
                        lineno);
    else if (!json_is_string(t))
        rc = error_line(out, id, id_len, "invalid_text", "\"text\" must be a string", lineno);
    else
        rc = run_one(c, m, json_string_value(t), json_string_length(t), opts, out, id, id_len,
                     lineno);
out:
    free(dumped);
    json_decref(j);
    return rc;
}

int cmd_extract(int argc, char **argv)
{
    const char *model = NULL;
    unsigned opts = 0;
    int i;
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--model") && i + 1 < argc) {
            model = argv[++i];
        } else if (!strcmp(argv[i], "--tokens")) {
            opts |= CLI_X_TOKENS;
        } else if (!strcmp(argv[i], "--scores")) {
            opts |= CLI_X_SCORES;
        } else if (!strcmp(argv[i], "--plain")) {
            opts |= CLI_X_PLAIN;
        } else if (!strcmp(argv[i], "--")) {
            i++;
            break;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "nerd extract: unknown option %s\n", argv[i]);
            usage(stderr);
            return 2;
        } else {
            break;
        }
    }
    ner_model *m = NULL;
    ner_ctx *c = NULL;
    int status = 0, rc;
    if ((rc = cli_load_model(model, &m)))
        return 1;
    if ((rc = ner_ctx_new(m, &c))) {
        fprintf(stderr, "nerd extract: %s\n", ner_strerror(rc));
        ner_model_free(m);
        return 1;
    }
    if (i < argc) {
        size_t len = 0;
        for (int k = i; k < argc; k++)
            len += strlen(argv[k]) + 1;
        char *text = malloc(len + 1);
        if (!text) {
            status = 1;
        } else {
            size_t o = 0;
            for (int k = i; k < argc; k++) {
                size_t l = strlen(argv[k]);
                if (k > i)
                    text[o++] = ' ';
                memcpy(text + o, argv[k], l);
                o += l;
            }
            text[o] = 0;
            /* an argument is always text */
            status = run_one(c, m, text, o, opts, stdout, NULL, 0, 0);
            free(text);
        }
    } else {
        char *line = NULL;
        size_t cap = 0;
        long n, lineno = 0;
        while ((n = cli_read_line(stdin, &line, &cap, NER_MAX_TEXT)) != -1) {
            lineno++;
            if (n == -2) {
                status = error_line(stdout, NULL, 0, "too_large", ner_strerror(NER_ETOOBIG),
                                    lineno);
                continue;
            }
            status |= cli_extract_line(c, m, line, (size_t)n, opts, stdout, lineno);
        }
        free(line);
    }
    fflush(stdout);
    ner_ctx_free(c);
    ner_model_free(m);
    return status;
}
