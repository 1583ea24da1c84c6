/* libFuzzer target: the conll reader of the training data (fuzz_traindata.h). */
#define TD_FUZZ_FORMAT TD_FMT_CONLL
#include "fuzz_traindata.h"
