/* test_regress_rangecoder.c: the rangecoder fuzzer's corpus as a test. Every file of
 * tests/fuzz-corpus/rangecoder/ (seeds, and any input that once made the fuzzer
 * report a finding) goes through the same LLVMFuzzerTestOneInput as
 * fuzz/fuzz_rangecoder.c under libFuzzer (scripts/fuzz.sh). Built with any
 * compiler; under the sanitizer build (scripts/test.sh) it also checks
 * memory and undefined behaviour. Usage: test_regress_rangecoder [FILE...] */
#include "../fuzz/fuzz_rangecoder.c"
#include "../fuzz/fuzz_replay.h"

int main(int argc, char **argv)
{
    return fz_replay_main("rangecoder", argc, argv);
}
