/* cs-training.h — the application's side of the background trainer
 *
 * A CsTraining owns one CsTrainer (core/trainer.h) on the bundled digits
 * and turns what it streams into what the views draw, on the main thread:
 *
 *   status   the trainer's newest CsTrainerStatus ("updated" after each)
 *   history  the run's CsTrainHistory, brought up to date at each update
 *   frame    a CsTrainingFrame: the watched example's snapshot with every
 *            activation, gradient and parameter, and the batch last
 *            trained ("frame-changed" when a new one arrives)
 *
 * The trainer makes frames on its own thread (the snapshot hook), at most
 * every 200 ms while it plays and at once after a Step, a pause or a
 * reset, and statuses at most every 50 ms; the main loop only ever gets the newest, and never one from
 * before a reset or a change of model (DESIGN.md §2). Commands (play,
 * step, new learning rate …) return at once: they are queued for the
 * trainer, which applies them between two batches.
 */
#pragma once

#include <glib-object.h>

#include "core/trainer.h"
#include "cs-snapshot.h"

G_BEGIN_DECLS

/* The examples of a batch a frame keeps, to be shown. */
#define CS_TRAINING_BATCH_SHOWN 64

/* What the trainer streamed at one moment: immutable, reference counted. */
typedef struct
{
  CsTrainerStatus status;   /* as of the frame */
  /* The watched example (a test digit, or the drawing): every activation
   * and its gradient, the parameters, the last batch's parameter
   * gradients and, after a Step, the optimizer's state
   * (CS_SNAPSHOT_OPTIM_STATE). */
  CsSnapshot *snapshot;
  /* The last batch trained (none before the first): its size, and the
   * first batch_shown of its examples: pixels (batch_shown, side, side),
   * labels, the class the model gave each in its step's forward pass, and,
   * when the batch was a Step's last (status.loss_after is a number), the
   * class after the update, else −1. */
  guint batch_size;
  guint batch_shown;
  int side;
  float *batch_pixels;
  gint32 *batch_labels;
  gint32 *batch_before;
  gint32 *batch_after;
  /* The probability each gave its true class, before and after (NAN). */
  float *batch_p_before;
  float *batch_p_after;
  /* The parameters one step before this frame's (the model's parameter
   * block, n_params floats), when the frame before it on the trainer's
   * thread was of the step before: always right after a Step from a
   * pause. NULL otherwise. */
  float *params_before;
  gsize n_params;
} CsTrainingFrame;

#define CS_TYPE_TRAINING_FRAME (cs_training_frame_get_type ())
GType            cs_training_frame_get_type (void) G_GNUC_CONST;
CsTrainingFrame *cs_training_frame_ref      (CsTrainingFrame *frame);
void             cs_training_frame_unref    (CsTrainingFrame *frame);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsTrainingFrame, cs_training_frame_unref)

#define CS_TYPE_TRAINING (cs_training_get_type ())
G_DECLARE_FINAL_TYPE (CsTraining, cs_training, CS, TRAINING, GObject)

/* A run of the preset model ("mlp", "simple-cnn") on the bundled digits
 * (8,000 to train on, 2,000 to test), paused at step 0; NULL and an error
 * when the digits cannot be read. */
CsTraining            *cs_training_new           (const char       *model,
                                                  const CsTrainerConfig *config,
                                                  GError          **error);
/* The same on given splits (taken; test may be NULL): tests, benchmarks. */
CsTraining            *cs_training_new_for_data  (const char       *model,
                                                  CsDataset        *train,
                                                  CsDataset        *test,
                                                  const CsTrainerConfig *config,
                                                  GError          **error);

CsTrainer             *cs_training_get_trainer   (CsTraining       *self);

const CsTrainerStatus *cs_training_get_status    (CsTraining       *self);
const CsTrainHistory  *cs_training_get_history   (CsTraining       *self);
/* The newest frame, and the newest of an earlier step (for what a Step
 * changed: the two are one step apart right after a Step); NULL before
 * any. */
CsTrainingFrame       *cs_training_get_frame     (CsTraining       *self);
CsTrainingFrame       *cs_training_get_previous_frame (CsTraining  *self);
/* Updates delivered so far, and frames: for the benchmark and tests. */
guint64                cs_training_get_n_updates (CsTraining       *self);
guint64                cs_training_get_n_frames  (CsTraining       *self);

/* Whether it plays (property "playing", also TRUE while a Step runs). */
gboolean               cs_training_get_playing   (CsTraining       *self);

void                   cs_training_play          (CsTraining       *self);
void                   cs_training_pause         (CsTraining       *self);
void                   cs_training_toggle        (CsTraining       *self);
void                   cs_training_step          (CsTraining       *self,
                                                  guint             n);
void                   cs_training_reset         (CsTraining       *self);

/* The kind with PyTorch's default settings for it (its learning rate
 * too), or new settings; FALSE and a message for numbers out of range. */
gboolean               cs_training_set_optimizer (CsTraining       *self,
                                                  CsOptimKind       kind,
                                                  GError          **error);
gboolean               cs_training_set_optim     (CsTraining       *self,
                                                  const CsOptimConfig *config,
                                                  GError          **error);
gboolean               cs_training_set_learning_rate (CsTraining   *self,
                                                  double            lr,
                                                  GError          **error);
gboolean               cs_training_set_batch_size (CsTraining      *self,
                                                  int               batch_size,
                                                  GError          **error);
/* A preset's name: a new run of it, paused. */
gboolean               cs_training_set_model     (CsTraining       *self,
                                                  const char       *model,
                                                  GError          **error);
/* "auto", "cpu" or "cuda": the run moves there between batches; when the
 * device cannot be had the status's error says why and it stays. */
void                   cs_training_set_device    (CsTraining       *self,
                                                  const char       *device);
/* The frames follow this picture (28 × 28, ink 1) from now on, or test
 * example 0 again with NULL. */
void                   cs_training_watch_image   (CsTraining       *self,
                                                  const float      *pixels);

G_END_DECLS
