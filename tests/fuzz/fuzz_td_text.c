/* libFuzzer target: the raw-text reader of the training data (fuzz_traindata.h). */
#define TD_FUZZ_FORMAT TD_FMT_TEXT
#include "fuzz_traindata.h"
