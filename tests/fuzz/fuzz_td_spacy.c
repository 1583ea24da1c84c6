/* libFuzzer target: the spacy reader of the training data (fuzz_traindata.h). */
#define TD_FUZZ_FORMAT TD_FMT_SPACY
#include "fuzz_traindata.h"
