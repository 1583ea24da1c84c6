/*
 * Shared helpers of the `nerd` command-line tool: model resolution, JSON
 * output of results, reading lines with a size cap.  Each subcommand lives
 * in its own cmd_*.c file and has the signature of cli_cmd.
 */
#ifndef NERD_CLI_H
#define NERD_CLI_H

#include <stdio.h>

#include "nerd/ner.h"

typedef int (*cli_cmd)(int argc, char **argv);

int cmd_extract(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_split(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_local(int argc, char **argv);
/* `nerd local jwt ...` (cli/cmd_jwt.c); argv[0] is "jwt". */
int cmd_local_jwt(int argc, char **argv);
/* `nerd local dynamodb ...` (cli/cmd_dynamodb.c); argv[0] is "dynamodb". */
int cmd_local_dynamodb(int argc, char **argv);

/* cli/cmd_dynamodb.c, for start-api and invoke: when the template has
 * tables (or force), opens the local DynamoDB service on dir (NULL: the
 * default), creates the tables, listens on port and gives every function
 * AWS_ENDPOINT_URL_DYNAMODB; *out stays NULL when nothing was started.
 * 0, or -1 after printing why. */
struct sam_template;
struct ddb_service;
int cli_ddb_start(struct sam_template *t, int port, const char *dir, int force,
                  struct ddb_service **out);

/* Default model path: $NERD_MODEL, else models/en_core_web_sm-2.2.5.nerd
 * beside the executable's parent directory, else in the working directory. */
const char *cli_default_model(void);

/* Loads a model (path NULL: the default), printing errors to stderr. */
int cli_load_model(const char *path, ner_model **out);

/* Writes s[0..n) as a JSON string (with quotes). */
void cli_json_str(FILE *f, const char *s, size_t n);

/* Writes {"entities":[...]} (and "tokens" when with_tokens) for doc, and
 * a newline; each entity has "score" (4 decimals) when d->scores is set.
 * id: NULL, or id_len bytes of JSON written first as "id" (as they are). */
void cli_json_doc(FILE *f, const ner_model *m, const char *text,
                  const ner_doc *d, int with_tokens, const char *id, size_t id_len);

/* Options of cli_extract_line(). */
#define CLI_X_TOKENS 1u /* print token offsets too */
#define CLI_X_SCORES 2u /* print entity scores (NER_SCORES) */
#define CLI_X_PLAIN 4u  /* every line is text, even a JSON object */

/* `nerd extract` on one input line line[0..n) (no newline): a line that
 * is a JSON object is {"id": ANY, "text": "..."} (the id echoed byte for
 * byte, "text" required), any other line is the text.  Writes exactly one
 * JSON line to out: the answer, or {"error","message"} (with the id) plus
 * a message on stderr naming lineno (0: no line number; negative: no
 * message).  Returns 0, or 1 after an error line. */
int cli_extract_line(ner_ctx *c, const ner_model *m, const char *line, size_t n, unsigned opts,
                     FILE *out, long lineno);

/* Reads one line (without its "\n" or "\r\n") into *buf (grown up to
 * cap bytes).  Returns the length, -1 at EOF, -2 if the line exceeds cap
 * (the rest of the line is skipped). */
long cli_read_line(FILE *f, char **buf, size_t *bufcap, size_t cap);

/* Reads the file at path ("-": stdin) whole: a malloc'd, NUL-terminated
 * buffer and its length in *len (may be NULL); NULL when it cannot be
 * read or holds more than cap bytes. */
char *cli_read_file(const char *path, size_t cap, size_t *len);

/* SIGINT and SIGTERM call handler (no SA_RESTART); SIGPIPE is ignored. */
void cli_on_stop(void (*handler)(int));

#endif
