/*
 * `nerd convert`: reads a spaCy v2.2 en_core_web_sm directory (thinc msgpack
 * weights, moves, tokenizer rules) plus the NORM and symbol tables, and
 * writes one nerd model file (model.h).  The output is deterministic: the
 * same inputs give the same bytes.
 */
#ifndef NERD_CONVERT_H
#define NERD_CONVERT_H

#include <stddef.h>

/* spacy_dir: the model directory (with ner/, tokenizer, meta.json);
 * specs_dir: holds norm_exceptions.json and symbols.json.  Writes out_path
 * atomically (temp file + rename).  Returns 0 or a ner_err code, with a
 * message naming the file and problem in err. */
int ner_convert(const char *spacy_dir, const char *specs_dir,
                const char *out_path, char *err, size_t errlen);

#endif
