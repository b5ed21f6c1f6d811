/* ds_prepare.c: from a kind to its producer. Kept apart from the sink
 * (ds_sink.c), which every producer calls, so that no file both calls the
 * producers and is called by them. */
#include "lmz_datasets.h"

lmz_status lmz_ds_prepare_file(lmz_ds_kind kind, const char *path, lmz_ds_sink *sink,
                               lmz_ds_info *info, lmz_err *err)
{
    switch (kind) {
    case LMZ_DS_TEXT: return lmz_ds_text(path, sink, info, err);
    case LMZ_DS_IMAGE: return lmz_ds_image(path, sink, info, err);
    case LMZ_DS_AUDIO: return lmz_ds_audio(path, sink, info, err);
    default:
        return lmz_err_set(err, LMZ_ERR_USAGE, "%s: kind '%s' takes no source files", path,
                           lmz_ds_kind_name(kind));
    }
}
