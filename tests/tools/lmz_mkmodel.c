/* lmz_mkmodel: write a seeded random model file. Test tool only.
 * usage: lmz_mkmodel PRESET SEED NAME OUT */
#include <stdio.h>
#include <stdlib.h>

#include "lmz_modelfile.h"

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: lmz_mkmodel PRESET SEED NAME OUT\n");
        return 1;
    }
    lmz_config cfg;
    if (lmz_config_preset(argv[1], &cfg) != 0) {
        fprintf(stderr, "lmz_mkmodel: unknown preset %s\n", argv[1]);
        return 1;
    }
    lmz_model *m = lmz_model_alloc(&cfg);
    if (!m)
        return 1;
    lmz_model_init_random(m, strtoull(argv[2], NULL, 10));
    snprintf(m->name, sizeof m->name, "%s", argv[3]);
    lmz_err err;
    if (lmz_model_save(m, argv[4], 0, &err)) {
        fprintf(stderr, "lmz_mkmodel: %s\n", err.msg);
        return 1;
    }
    char hex[33];
    lmz_model_hash_hex(m, hex);
    printf("%s\n", hex);
    lmz_model_free(m);
    return 0;
}
