/* test_regress_block.c: the block fuzzer's corpus as a test. Every file of
 * tests/fuzz-corpus/block/ (seeds, and any input that once made the fuzzer
 * report a finding) goes through the same LLVMFuzzerTestOneInput as
 * fuzz/fuzz_block.c under libFuzzer (scripts/fuzz.sh). Built with any
 * compiler; under the sanitizer build (scripts/test.sh) it also checks
 * memory and undefined behaviour. Usage: test_regress_block [FILE...] */
#include "../fuzz/fuzz_block.c"
#include "../fuzz/fuzz_replay.h"

int main(int argc, char **argv)
{
    return fz_replay_main("block", argc, argv);
}
