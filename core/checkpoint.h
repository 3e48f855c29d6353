/* checkpoint.h — saving and loading a model's state as safetensors
 *
 * Tensor names are those of PyTorch's state dict for an nn.Sequential of the
 * same layers ("1.weight", "3.bn1.running_mean", …), all F32 except
 * BatchNorm's num_batches_tracked (I64, a scalar, as PyTorch writes it). The
 * model's JSON goes into the metadata ("model"), so a checkpoint says what
 * network it belongs to, and a state dict saved from PyTorch opens here.
 */
#pragma once

#include <glib.h>

#include "model.h"
#include "safetensors.h"

G_BEGIN_DECLS

/* Atomic: a crash leaves the old file or the complete new one. */
gboolean  cs_checkpoint_save      (CsModel *model, const char *path, GError **error);
/* Builds the model described in the file's metadata and loads it. */
CsModel  *cs_checkpoint_load      (const char *path, GError **error);
/* Loads into an existing model; every tensor must be there with its exact
 * shape, and nothing else. On error the model is left unchanged. */
gboolean  cs_checkpoint_load_into (CsModel *model, const char *path, GError **error);

/* For files that hold more than a model (core/session-file.h): the model's
 * tensors and metadata as cs_checkpoint_save () writes them, with "format"
 * set to format, and then extra tensors and metadata (NULL-terminated
 * key, value, …; may be NULL). */
gboolean  cs_checkpoint_save_with (CsModel *model, const char *path, const char *format,
                                   const CsSafetensorsTensor *extra, guint n_extra,
                                   const char *const *extra_metadata, GError **error);
/* cs_checkpoint_load_into () from an open file, where tensors whose names
 * begin with one of extra_prefixes (NULL-terminated; may be NULL) are not
 * the model's and are left alone. */
gboolean  cs_checkpoint_read_into (CsModel *model, CsSafetensors *st,
                                   const char *const *extra_prefixes, GError **error);

G_END_DECLS
