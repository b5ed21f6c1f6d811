/* test_names.c: which member names may be extracted (lmz_member_name_safe). */
#include <string.h>

#include "lmz_archive.h"
#include "testutil.h"

static void test_unsafe(void)
{
    static const char *const unsafe[] = {
        "../x", "/etc/passwd", "a/../../b", "a//b", "", ".", "a\\b", "..", "a/..",
        "a/", "/", "./a", "a/./b", "x\ny", "tab\there", "del\x7f", "..\\x", "//x",
    };
    for (size_t i = 0; i < sizeof unsafe / sizeof unsafe[0]; i++) {
        if (lmz_member_name_safe(unsafe[i])) {
            fprintf(stderr, "accepted unsafe name '%s'\n", unsafe[i]);
            tu_failures++;
        }
    }
    CHECK(!lmz_member_name_safe(NULL));
    /* Too long: 4097 characters. */
    char *longname = malloc(4098);
    memset(longname, 'a', 4097);
    longname[4097] = '\0';
    CHECK(!lmz_member_name_safe(longname));
    longname[4096] = '\0';
    CHECK(lmz_member_name_safe(longname));
    free(longname);
}

static void test_safe(void)
{
    static const char *const safe[] = {
        "a", "file.txt", "dir/sub/file", "...", "..a", "a..", "a/..b/c", ".hidden",
        "dir/.hidden", "name with spaces", "caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac", "-",
        "a.b/c.d", "x/y/z/w/v/u",
    };
    for (size_t i = 0; i < sizeof safe / sizeof safe[0]; i++) {
        if (!lmz_member_name_safe(safe[i])) {
            fprintf(stderr, "rejected safe name '%s'\n", safe[i]);
            tu_failures++;
        }
    }
}

int main(void)
{
    test_unsafe();
    test_safe();
    return tu_finish("names");
}
