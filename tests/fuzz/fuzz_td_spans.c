/* libFuzzer target: the spans reader of the training data (fuzz_traindata.h). */
#define TD_FUZZ_FORMAT TD_FMT_SPANS
#include "fuzz_traindata.h"
