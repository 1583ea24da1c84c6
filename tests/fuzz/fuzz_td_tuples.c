/* libFuzzer target: the tuples reader of the training data (fuzz_traindata.h). */
#define TD_FUZZ_FORMAT TD_FMT_TUPLES
#include "fuzz_traindata.h"
