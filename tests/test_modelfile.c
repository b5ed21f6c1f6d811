/* test_modelfile.c: model files, built-in models, and finding models by hash
 * and by name (host/format/modelfile.c). */
#include <fcntl.h>
#include <hdf5.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lmz_modelfile.h"
#include "testh5.h"
#include "testutil.h"

static char *dir;

static const char *path_in(const char *name, char *buf)
{
    snprintf(buf, 1024, "%s/%s", dir, name);
    return buf;
}

static lmz_model *random_model(const char *preset, uint64_t seed, const char *name)
{
    lmz_config cfg;
    if (lmz_config_preset(preset, &cfg) != 0)
        return NULL;
    lmz_model *m = lmz_model_alloc(&cfg);
    if (!m)
        return NULL;
    lmz_model_init_random(m, seed);
    snprintf(m->name, sizeof m->name, "%s", name);
    return m;
}

static int same_tensors(const lmz_model *a, const lmz_model *b)
{
    if (memcmp(&a->cfg, &b->cfg, sizeof a->cfg) != 0)
        return 0;
    size_t d = (size_t)a->cfg.d_model;
    return memcmp(a->emb, b->emb, 256 * d) == 0 &&
           memcmp(a->emb_mult, b->emb_mult, 256 * 4) == 0 &&
           memcmp(a->layers[0].ff2.w, b->layers[0].ff2.w, d * (size_t)a->cfg.d_ff) == 0 &&
           memcmp(a->head.bias, b->head.bias, 256 * 4) == 0 &&
           memcmp(a->hash, b->hash, 16) == 0;
}

static void test_round_trip(void)
{
    char p[1024], p2[1024];
    lmz_err err;
    lmz_model *m = random_model("tiny", 42, "my-model");
    CHECK_EQ_INT(lmz_model_save(m, path_in("m.lmzm", p), 0, &err), LMZ_OK);
    lmz_model *got = NULL;
    CHECK_EQ_INT(lmz_model_load(p, &got, &err), LMZ_OK);
    CHECK(got && same_tensors(m, got));
    CHECK(got && strcmp(got->name, "my-model") == 0);
    lmz_model_free(got);

    /* Same bytes again. */
    sleep(1);
    CHECK_EQ_INT(lmz_model_save(m, path_in("m2.lmzm", p2), 0, &err), LMZ_OK);
    size_t n1 = 0, n2 = 0;
    uint8_t *b1 = tu_read_file(p, &n1), *b2 = tu_read_file(p2, &n2);
    CHECK(b1 && b2 && n1 == n2 && memcmp(b1, b2, n1) == 0);
    free(b1);
    free(b2);

    /* No overwrite without force; with force it is replaced. */
    lmz_model *other = random_model("tiny", 43, "other");
    CHECK_EQ_INT(lmz_model_save(other, p, 0, &err), LMZ_ERR_EXISTS);
    CHECK_EQ_INT(lmz_model_load(p, &got, &err), LMZ_OK);
    CHECK(got && same_tensors(m, got));
    lmz_model_free(got);
    CHECK_EQ_INT(lmz_model_save(other, p, 1, &err), LMZ_OK);
    CHECK_EQ_INT(lmz_model_load(p, &got, &err), LMZ_OK);
    CHECK(got && same_tensors(other, got));
    lmz_model_free(got);

    /* A stale hash is refused rather than written. */
    other->emb[0] = (int8_t)(other->emb[0] == 5 ? 6 : 5);
    CHECK_EQ_INT(lmz_model_save(other, path_in("stale.lmzm", p2), 0, &err), LMZ_ERR_MODEL_INVALID);
    CHECK(access(p2, F_OK) != 0);
    lmz_model_free(other);

    /* A bigger preset. */
    lmz_model *big = random_model("200k", 1, "big");
    CHECK_EQ_INT(lmz_model_save(big, path_in("big.lmzm", p), 0, &err), LMZ_OK);
    CHECK_EQ_INT(lmz_model_load(p, &got, &err), LMZ_OK);
    CHECK(got && same_tensors(big, got));
    lmz_model_free(got);
    lmz_model_free(big);
    lmz_model_free(m);
}

/* Embedding in a group of another file, as the archive does. */
static void test_in_group(void)
{
    char p[1024];
    lmz_err err;
    lmz_model *m = random_model("tiny", 9, "grouped");
    hid_t f = H5Fcreate(path_in("group.h5", p), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t g = H5Gcreate2(f, "deep", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    CHECK_EQ_INT(lmz_model_h5_write(g, m, &err), LMZ_OK);
    lmz_model *got = NULL;
    CHECK_EQ_INT(lmz_model_h5_read(g, &got, &err), LMZ_OK);
    CHECK(got && same_tensors(m, got));
    lmz_model_free(got);
    /* The file's root is not a model. */
    CHECK_EQ_INT(lmz_model_h5_read(f, &got, &err), LMZ_ERR_MODEL_INVALID);
    H5Gclose(g);
    H5Fclose(f);
    lmz_model_free(m);
}

static haddr_t dataset_offset(const char *path, const char *name)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    haddr_t off = H5Dget_offset(d);
    H5Dclose(d);
    H5Fclose(f);
    return off;
}

/* Change one weight by one, keeping it a valid weight. */
static void nudge_byte(const char *path, uint64_t off)
{
    int fd = open(path, O_RDWR);
    int8_t v = 0;
    CHECK(pread(fd, &v, 1, (off_t)off) == 1);
    v = (int8_t)(v < 100 ? v + 1 : v - 1);
    CHECK(pwrite(fd, &v, 1, (off_t)off) == 1);
    close(fd);
}

static void set_attr_i32(const char *path, const char *name, int32_t v)
{
    tu_h5_set_attr(path, name, H5T_NATIVE_INT32, &v);
}

static void test_damaged(void)
{
    char good[1024], bad[1024];
    lmz_err err;
    lmz_model *got = NULL;
    lmz_model *m = random_model("tiny", 5, "victim");
    CHECK_EQ_INT(lmz_model_save(m, path_in("good.lmzm", good), 0, &err), LMZ_OK);
    lmz_model_free(m);

    static const char *const tensors[] = {"emb", "layers/0/qkv/w", "head/w"};
    for (int t = 0; t < 3; t++) {
        tu_copy_file(good, path_in("bad.lmzm", bad), SIZE_MAX);
        haddr_t off = dataset_offset(bad, tensors[t]);
        CHECK(off != HADDR_UNDEF);
        nudge_byte(bad, off + 7);
        CHECK_EQ_INT(lmz_model_load(bad, &got, &err), LMZ_ERR_MODEL_INVALID);
        CHECK(strstr(err.msg, "model hash mismatch (file damaged)") != NULL);
        CHECK(strstr(err.msg, "bad.lmzm") != NULL);
        CHECK(got == NULL);
    }
    /* A configuration that does not match the datasets: every shape is
     * checked before reading. */
    static const char *const dims[] = {"d_model", "d_ff", "n_layers", "n_heads"};
    static const int32_t values[] = {32, 128, 2, 4};
    for (int k = 0; k < 4; k++) {
        tu_copy_file(good, bad, SIZE_MAX);
        set_attr_i32(bad, dims[k], values[k]);
        CHECK_EQ_INT(lmz_model_load(bad, &got, &err), LMZ_ERR_MODEL_INVALID);
    }
    /* Absurd sizes are refused before anything is allocated. */
    tu_copy_file(good, bad, SIZE_MAX);
    set_attr_i32(bad, "d_model", 1 << 30);
    CHECK_EQ_INT(lmz_model_load(bad, &got, &err), LMZ_ERR_MODEL_INVALID);
    tu_copy_file(good, bad, SIZE_MAX);
    set_attr_i32(bad, "n_layers", -1);
    CHECK_EQ_INT(lmz_model_load(bad, &got, &err), LMZ_ERR_MODEL_INVALID);
    /* Newer versions. */
    tu_copy_file(good, bad, SIZE_MAX);
    set_attr_i32(bad, "format_version", 2);
    CHECK_EQ_INT(lmz_model_load(bad, &got, &err), LMZ_ERR_VERSION);
    tu_copy_file(good, bad, SIZE_MAX);
    set_attr_i32(bad, "arith_version", 99);
    CHECK_EQ_INT(lmz_model_load(bad, &got, &err), LMZ_ERR_VERSION);
    /* Truncated, foreign, missing. */
    size_t n = 0;
    uint8_t *bytes = tu_read_file(good, &n);
    FILE *f = fopen(bad, "wb");
    fwrite(bytes, 1, n / 2, f);
    fclose(f);
    free(bytes);
    CHECK(lmz_model_load(bad, &got, &err) != LMZ_OK);
    f = fopen(bad, "wb");
    fputs("not a model", f);
    fclose(f);
    CHECK_EQ_INT(lmz_model_load(bad, &got, &err), LMZ_ERR_MODEL_INVALID);
    CHECK_EQ_INT(lmz_model_load(path_in("absent.lmzm", bad), &got, &err), LMZ_ERR_MODEL_MISSING);
}

static void test_builtins(void)
{
    lmz_err err;
    lmz_model *m = NULL;
    CHECK_EQ_INT(lmz_model_builtin("random-tiny", &m, &err), LMZ_OK);
    lmz_model *ref = random_model("tiny", 1, "x");
    CHECK(m && ref && memcmp(m->hash, ref->hash, 16) == 0);
    CHECK(m && strcmp(m->name, "random-tiny") == 0);
    lmz_model_free(ref);
    lmz_model_free(m);
    CHECK_EQ_INT(lmz_model_builtin("random-200k", &m, &err), LMZ_OK);
    CHECK(m && m->cfg.d_model == 64);
    lmz_model_free(m);
    CHECK_EQ_INT(lmz_model_builtin("random-huge", &m, &err), LMZ_ERR_MODEL_MISSING);
    CHECK(m == NULL);
    /* each kind's default is a shipped trained model, and it must resolve
     * from the models/ directory lmz was built with, to a model of that name */
    static const char *const kinds[][2] = {
        {"text", "text-general-200k-1"}, {"image", "image-200k-1"}, {"audio", "audio-200k-1"}};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        CHECK(strcmp(lmz_default_model_for_kind(kinds[k][0]), kinds[k][1]) == 0);
        int shipped = 0;
        CHECK_EQ_INT(lmz_model_resolve(lmz_default_model_for_kind(kinds[k][0]), NULL, NULL, &m,
                                       &shipped, &err),
                     LMZ_OK);
        CHECK(m && shipped == 1 && m->cfg.d_model == 64 && strcmp(m->name, kinds[k][1]) == 0);
        lmz_model_free(m);
        m = NULL;
    }
    CHECK(strcmp(lmz_default_model_for_kind("bytes"), "random-200k") == 0);
    CHECK(lmz_default_model_for_kind("something") != NULL);
}

static void test_find(void)
{
    char dir_a[1024], dir_b[1024], p[2200], env[4096];
    lmz_err err;
    lmz_model *got = NULL;
    path_in("a", dir_a);
    path_in("b", dir_b);
    mkdir(dir_a, 0755);
    mkdir(dir_b, 0755);
    lmz_model *mine = random_model("tiny", 77, "mine");
    lmz_model *theirs = random_model("tiny", 78, "theirs");
    snprintf(p, sizeof p, "%s/mine.lmzm", dir_a);
    CHECK_EQ_INT(lmz_model_save(mine, p, 0, &err), LMZ_OK);
    snprintf(p, sizeof p, "%s/theirs.lmzm", dir_b);
    CHECK_EQ_INT(lmz_model_save(theirs, p, 0, &err), LMZ_OK);
    /* Files that are not models do not disturb the search. */
    snprintf(p, sizeof p, "%s/junk.lmzm", dir_a);
    FILE *f = fopen(p, "wb");
    fputs("junk", f);
    fclose(f);
    char h_mine[33], h_theirs[33];
    lmz_model_hash_hex(mine, h_mine);
    lmz_model_hash_hex(theirs, h_theirs);

    /* Built-ins by hash. */
    lmz_model *tiny = random_model("tiny", 1, "x");
    char h_tiny[33];
    lmz_model_hash_hex(tiny, h_tiny);
    lmz_model_free(tiny);
    CHECK_EQ_INT(lmz_model_find_by_hash(h_tiny, NULL, NULL, &got, &err), LMZ_OK);
    CHECK(got && strcmp(got->name, "random-tiny") == 0);
    lmz_model_free(got);
    /* By model_dir. */
    CHECK_EQ_INT(lmz_model_find_by_hash(h_mine, dir_a, NULL, &got, &err), LMZ_OK);
    CHECK(got && strcmp(got->name, "mine") == 0);
    lmz_model_free(got);
    CHECK_EQ_INT(lmz_model_find_by_hash(h_theirs, dir_a, NULL, &got, &err), LMZ_ERR_MODEL_MISSING);
    CHECK(strstr(err.msg, h_theirs) != NULL && strstr(err.msg, dir_a) != NULL);
    /* By the model path (the CLI passes $LMZ_MODEL_PATH; an empty entry and a
     * missing directory are skipped). */
    snprintf(env, sizeof env, "/nonexistent/dir::%s", dir_b);
    CHECK_EQ_INT(lmz_model_find_by_hash(h_theirs, dir_a, env, &got, &err), LMZ_OK);
    CHECK(got && strcmp(got->name, "theirs") == 0);
    lmz_model_free(got);
    CHECK_EQ_INT(lmz_model_find_by_hash(h_mine, NULL, env, &got, &err), LMZ_ERR_MODEL_MISSING);
    CHECK_EQ_INT(lmz_model_find_by_hash("00000000000000000000000000000000", dir_a, env, &got, &err),
                 LMZ_ERR_MODEL_MISSING);

    /* resolve: built-in, path, name on the search path, nothing. */
    int shipped = -1;
    CHECK_EQ_INT(lmz_model_resolve("random-tiny", NULL, env, &got, &shipped, &err), LMZ_OK);
    CHECK_EQ_INT(shipped, 1);
    lmz_model_free(got);
    snprintf(p, sizeof p, "%s/mine.lmzm", dir_a);
    CHECK_EQ_INT(lmz_model_resolve(p, NULL, env, &got, &shipped, &err), LMZ_OK);
    CHECK_EQ_INT(shipped, 0);
    CHECK(got && strcmp(got->name, "mine") == 0);
    lmz_model_free(got);
    CHECK_EQ_INT(lmz_model_resolve("theirs", NULL, env, &got, &shipped, &err), LMZ_OK);
    CHECK_EQ_INT(shipped, 1);
    lmz_model_free(got);
    CHECK_EQ_INT(lmz_model_resolve("mine.lmzm", dir_a, env, &got, &shipped, &err), LMZ_OK);
    CHECK_EQ_INT(shipped, 1);
    lmz_model_free(got);
    CHECK_EQ_INT(lmz_model_resolve("nobody", dir_a, env, &got, &shipped, &err),
                 LMZ_ERR_MODEL_MISSING);
    CHECK(got == NULL);
    CHECK_EQ_INT(lmz_model_resolve("/no/such/file.lmzm", NULL, env, &got, &shipped, &err),
                 LMZ_ERR_MODEL_MISSING);
    lmz_model_free(mine);
    lmz_model_free(theirs);
}

int main(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    dir = tu_mkdtemp();
    if (!dir)
        return 1;
    test_round_trip();
    test_in_group();
    test_damaged();
    test_builtins();
    test_find();
    tu_rmtree(dir);
    free(dir);
    return tu_finish("modelfile");
}
