/* test_regress_model.c: the model fuzzer's corpus as a test. Every file of
 * tests/fuzz-corpus/model/ (seeds, and any input that once made the fuzzer
 * report a finding) goes through the same LLVMFuzzerTestOneInput as
 * fuzz/fuzz_model.c under libFuzzer (scripts/fuzz.sh). Built with any
 * compiler; under the sanitizer build (scripts/test.sh) it also checks
 * memory and undefined behaviour. Usage: test_regress_model [FILE...] */
#include "../fuzz/fuzz_model.c"
#include "../fuzz/fuzz_replay.h"

int main(int argc, char **argv)
{
    return fz_replay_main("model", argc, argv);
}
