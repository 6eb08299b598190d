// A C target needs one source file; the header only declares libFuzzer's driver.
#include "CLibFuzzer.h"
