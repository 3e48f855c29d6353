/* session-file.h — a training run saved whole, to go on exactly where it was
 *
 * A CsRunState is everything a CsTrainer needs to continue a run bit for
 * bit: the model (its description; its whole block — parameters, the last
 * batch's gradients, the optimizer's state, the buffers —, BatchNorm's
 * counters and the step), the optimizer's settings and step, the batch
 * size, the seed, where the batcher is in its epoch (this epoch's order,
 * the position in it, its generator), the epoch's running sums, the
 * history, and the example watched. cs_trainer_capture () fills one between
 * two batches; cs_trainer_restore () starts a run from one.
 *
 * A session file (".convscope") is one safetensors file:
 *
 *   the model's tensors    as a checkpoint has them (core/checkpoint.h):
 *                          "1.weight", "3.bn1.running_mean", …
 *   convscope.grads        F32 (P)     the last batch's gradients
 *   convscope.optim_state  F32 (2, P)  the optimizer's two slots
 *   convscope.batcher.order  U32 (n)   this epoch's order of the training split
 *   convscope.history.*    the records (step I64, epoch and size U32, loss,
 *                          accuracy, gradient norm, lr F32, per-layer norms
 *                          F32) and evaluations
 *   convscope.watch.image  F32         the picture watched, if one is
 *   convscope.frozen       U32 (n, 2)  the units frozen by hand (layer, unit),
 *                          if any are (a file without it has none)
 *   app.*                  what the application adds (the drawing)
 *
 * and in the metadata "format": "convscope-session", "version": "1", the
 * model's JSON, and every number as text (floats written so that they read
 * back to the same bits). Loading checks everything before anything is
 * used: a truncated or damaged file, another format, a newer version, or
 * numbers that do not fit together give one GError naming the file.
 * Saving is atomic (cs_safetensors_write ()).
 */
#pragma once

#include <glib.h>

#include "diagnostics.h"
#include "model.h"
#include "optim.h"
#include "rng.h"
#include "safetensors.h"

G_BEGIN_DECLS

#define CS_SESSION_FILE_FORMAT   "convscope-session"
#define CS_SESSION_FILE_VERSION  1
#define CS_SESSION_FILE_SUFFIX   ".convscope"
#define CS_RUN_STATE_MAX_FROZEN  64   /* CS_TRAINER_MAX_FROZEN */

typedef struct
{
  /* The model on the CPU, with no activations reserved: its block, counters
   * and step are the run's; its layers are seeded with seed (dropout). */
  CsModel *model;
  guint64 seed;
  gint64 optim_step;
  CsOptimConfig optim;
  int batch_size;
  gboolean evaluate_each_epoch;

  /* The data it trains on, by name and size, and where the batcher is. */
  char *dataset;
  guint32 train_examples, test_examples;
  guint32 *order;              /* (train_examples) this epoch's */
  guint32 pos, epoch;
  CsRng rng;

  /* This epoch's sums, and the numbers the status shows. */
  guint64 epoch_examples, epoch_correct;
  double epoch_loss_sum;
  guint32 epoch_batches;
  guint64 examples_seen;
  double loss, running_loss, running_accuracy;
  double test_loss, test_accuracy;
  gint64 test_step;

  /* The example watched: test example watch_index, or, when it is −1, the
   * picture watch_image (watch_image_n floats) of class watch_label (−1:
   * not known). */
  int watch_index;
  float *watch_image;
  gsize watch_image_n;
  int watch_label;

  /* The units frozen by hand (cs_trainer_freeze_unit ()): layer, unit. */
  guint n_frozen;
  guint32 frozen[CS_RUN_STATE_MAX_FROZEN][2];

  CsTrainHistory *history;
} CsRunState;

CsRunState *cs_run_state_new  (void);
void        cs_run_state_free (CsRunState *state);

/* Writes state, and extra tensors (names beginning "app.") and metadata
 * (keys beginning "app."; NULL-terminated key, value, …) beside it. */
gboolean    cs_run_state_save (const CsRunState          *state,
                               const char                *path,
                               const CsSafetensorsTensor *extra,
                               guint                      n_extra,
                               const char *const         *extra_metadata,
                               GError                   **error);
/* Reads and checks a session file; file, when not NULL, gets the open file
 * for the caller to read its "app." tensors and metadata from. */
CsRunState *cs_run_state_load (const char                *path,
                               CsSafetensors            **file,
                               GError                   **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsRunState, cs_run_state_free)

G_END_DECLS
