#include "lmz_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const status_names[LMZ_ERR_COUNT] = {
    [LMZ_OK] = "ok",
    [LMZ_ERR_GENERIC] = "generic",
    [LMZ_ERR_NOMEM] = "out_of_memory",
    [LMZ_ERR_IO] = "io",
    [LMZ_ERR_USAGE] = "usage",
    [LMZ_ERR_NOT_ARCHIVE] = "not_archive",
    [LMZ_ERR_VERSION] = "version",
    [LMZ_ERR_CORRUPT_INDEX] = "corrupt_index",
    [LMZ_ERR_CORRUPT_BLOCK] = "corrupt_block",
    [LMZ_ERR_MODEL_MISSING] = "model_missing",
    [LMZ_ERR_MODEL_MISMATCH] = "model_mismatch",
    [LMZ_ERR_MODEL_INVALID] = "model_invalid",
    [LMZ_ERR_EXISTS] = "exists",
    [LMZ_ERR_UNSAFE_NAME] = "unsafe_name",
    [LMZ_ERR_RANGE] = "range",
    [LMZ_ERR_NO_DEVICE] = "no_device",
    [LMZ_ERR_TRUNCATED] = "truncated",
};

const char *lmz_status_name(int code)
{
    if (code < 0 || code >= LMZ_ERR_COUNT || !status_names[code])
        return "unknown";
    return status_names[code];
}

lmz_status lmz_err_set(lmz_err *err, lmz_status code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

void lmz_err_clear(lmz_err *err)
{
    if (err) {
        err->code = LMZ_OK;
        err->msg[0] = '\0';
    }
}
