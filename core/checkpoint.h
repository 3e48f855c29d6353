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

G_BEGIN_DECLS

/* Atomic: a crash leaves the old file or the complete new one. */
gboolean  cs_checkpoint_save      (CsModel *model, const char *path, GError **error);
/* Builds the model described in the file's metadata and loads it. */
CsModel  *cs_checkpoint_load      (const char *path, GError **error);
/* Loads into an existing model; every tensor must be there with its exact
 * shape, and nothing else. On error the model is left unchanged. */
gboolean  cs_checkpoint_load_into (CsModel *model, const char *path, GError **error);

G_END_DECLS
