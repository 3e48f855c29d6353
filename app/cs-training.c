/* cs-training.c — the background trainer, seen from the main loop */
#include "cs-training.h"

#include "core/loss.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

/* ---- frames ---------------------------------------------------------------- */

static void
frame_clear (gpointer data)
{
  CsTrainingFrame *f = data;
  g_clear_pointer (&f->snapshot, cs_snapshot_unref);
  g_free (f->batch_pixels);
  g_free (f->batch_labels);
  g_free (f->batch_before);
  g_free (f->batch_after);
  g_free (f->batch_p_before);
  g_free (f->batch_p_after);
  g_free (f->params_before);
}

CsTrainingFrame *
cs_training_frame_ref (CsTrainingFrame *frame)
{
  g_return_val_if_fail (frame != NULL, NULL);
  return g_atomic_rc_box_acquire (frame);
}

void
cs_training_frame_unref (CsTrainingFrame *frame)
{
  g_atomic_rc_box_release_full (frame, frame_clear);
}

G_DEFINE_BOXED_TYPE (CsTrainingFrame, cs_training_frame, cs_training_frame_ref, cs_training_frame_unref)

/* The class with the highest probability, and the one given to label. */
static void
read_row (const float *p, int classes, gint32 label, gint32 *cls, float *p_label)
{
  gint32 best = 0;
  for (int k = 1; k < classes; k++)
    if (p[k] > p[best])
      best = k;
  *cls = best;
  *p_label = label >= 0 && label < classes ? p[label] : NAN;
}

/* What the hook remembers between two frames, on the trainer's thread. */
typedef struct
{
  float *params;          /* the last frame's parameters … */
  gsize n;
  gint64 step;            /* … of this step … */
  guint64 generation;     /* … and run */
} HookMemory;

static void
hook_memory_free (gpointer data)
{
  HookMemory *m = data;
  g_free (m->params);
  g_free (m);
}

/* The snapshot hook, on the trainer's thread: copies what the views draw. */
static gpointer
make_frame (CsTrainer             *trainer,
            CsModel               *model,
            const CsTrainerStatus *status,
            gpointer               user_data)
{
  HookMemory *mem = user_data;
  CsTrainingFrame *f = g_atomic_rc_box_new0 (CsTrainingFrame);
  gboolean after_step = isfinite (status->loss_after);

  /* the weights one step before, for the update a Step made */
  gsize P = cs_model_get_n_params (model);
  const float *params = cs_model_get_params (model);   /* a CPU model */
  if (mem->params != NULL && mem->n == P && mem->generation == status->generation
      && mem->step == status->step - 1)
    {
      f->params_before = g_memdup2 (mem->params, P * sizeof (float));
      f->n_params = P;
    }
  if (mem->n != P)
    {
      g_free (mem->params);
      mem->params = g_new (float, P);
      mem->n = P;
    }
  memcpy (mem->params, params, P * sizeof (float));
  mem->step = status->step;
  mem->generation = status->generation;

  f->status = *status;
  /* the optimizer's state (2P floats) only after a Step, where the
   * Training view writes an update out */
  f->snapshot = cs_snapshot_new (model, 0, after_step ? CS_SNAPSHOT_EVERYTHING : CS_SNAPSHOT_ALL);
  cs_snapshot_set_label (f->snapshot, status->watch_label);
  cs_snapshot_set_generation (f->snapshot, status->generation);

  const float *x, *probs, *after;
  const gint32 *y;
  guint n = cs_trainer_peek_batch (trainer, &x, &y, &probs, &after);
  const CsShape *in = cs_model_get_input_shape (model);
  int classes = (int) cs_shape_numel (cs_model_get_output_shape (model));
  f->side = in->ndim == 3 ? (int) in->d[2] : 0;
  if (n == 0 || classes < 1)
    return f;

  gsize px = (gsize) cs_shape_numel (in);
  guint shown = MIN (n, CS_TRAINING_BATCH_SHOWN);
  f->batch_size = n;
  f->batch_shown = shown;
  f->batch_pixels = g_memdup2 (x, shown * px * sizeof (float));
  f->batch_labels = g_memdup2 (y, shown * sizeof (gint32));
  f->batch_before = g_new (gint32, shown);
  f->batch_after = g_new (gint32, shown);
  f->batch_p_before = g_new (float, shown);
  f->batch_p_after = g_new (float, shown);
  for (guint i = 0; i < shown; i++)
    {
      read_row (probs + (gsize) i * classes, classes, y[i], &f->batch_before[i], &f->batch_p_before[i]);
      if (after != NULL)
        read_row (after + (gsize) i * classes, classes, y[i], &f->batch_after[i], &f->batch_p_after[i]);
      else
        {
          f->batch_after[i] = -1;
          f->batch_p_after[i] = NAN;
        }
    }
  return f;
}

/* ---- the object ------------------------------------------------------------ */

struct _CsTraining
{
  GObject parent_instance;

  CsTrainer *trainer;
  CsTrainerStatus status;
  CsTrainHistory *history;
  CsTrainingFrame *frame, *previous;
  guint64 n_updates, n_frames;
  gboolean playing;
  gpointer hook_memory;   /* the hook's, freed after the trainer */
};

G_DEFINE_FINAL_TYPE (CsTraining, cs_training, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_PLAYING,
  N_PROPS
};

enum {
  UPDATED,
  FRAME_CHANGED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void
cs_training_dispose (GObject *object)
{
  CsTraining *self = (CsTraining *) object;

  /* joins the thread; nothing is delivered after this */
  g_clear_pointer (&self->trainer, cs_trainer_free);
  g_clear_pointer (&self->hook_memory, hook_memory_free);
  g_clear_pointer (&self->frame, cs_training_frame_unref);
  g_clear_pointer (&self->previous, cs_training_frame_unref);

  G_OBJECT_CLASS (cs_training_parent_class)->dispose (object);
}

static void
cs_training_finalize (GObject *object)
{
  CsTraining *self = (CsTraining *) object;

  g_clear_pointer (&self->history, cs_train_history_free);

  G_OBJECT_CLASS (cs_training_parent_class)->finalize (object);
}

static void
cs_training_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  CsTraining *self = CS_TRAINING (object);

  switch (prop_id)
    {
    case PROP_PLAYING:
      g_value_set_boolean (value, self->playing);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cs_training_class_init (CsTrainingClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = cs_training_dispose;
  object_class->finalize = cs_training_finalize;
  object_class->get_property = cs_training_get_property;

  properties[PROP_PLAYING] =
    g_param_spec_boolean ("playing", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * CsTraining::updated:
   *
   * A new status (and history) from the trainer: after a batch, at most
   * about 60 times a second while it plays, and after every command.
   */
  signals[UPDATED] =
    g_signal_new ("updated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  /**
   * CsTraining::frame-changed:
   *
   * A new frame: emitted after "updated" in the same delivery.
   */
  signals[FRAME_CHANGED] =
    g_signal_new ("frame-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
cs_training_init (CsTraining *self)
{
  self->history = cs_train_history_new (0, NULL);
}

/* In the main context: the newest status, and the newest frame or NULL. */
static void
on_update (CsTrainer             *trainer,
           const CsTrainerStatus *status,
           gpointer               snapshot,
           gpointer               user_data)
{
  CsTraining *self = user_data;
  CsTrainingFrame *frame = snapshot;

  self->status = *status;
  self->n_updates++;
  cs_trainer_sync_history (trainer, self->history);

  /* frames of an older run are gone: the trainer drops them itself, and
   * the ones kept here go with the run they showed */
  if (self->frame != NULL && self->frame->status.generation != status->generation)
    {
      g_clear_pointer (&self->frame, cs_training_frame_unref);
      g_clear_pointer (&self->previous, cs_training_frame_unref);
    }
  if (frame != NULL)
    {
      /* the previous frame is of an earlier step: one of the same step (a
       * snapshot asked for while paused) only replaces the newest */
      if (self->frame != NULL && self->frame->status.step != frame->status.step)
        {
          g_clear_pointer (&self->previous, cs_training_frame_unref);
          self->previous = g_steal_pointer (&self->frame);
        }
      g_clear_pointer (&self->frame, cs_training_frame_unref);
      self->frame = cs_training_frame_ref (frame);
      self->n_frames++;
    }

  gboolean playing = status->state != CS_TRAINER_PAUSED;
  if (playing != self->playing)
    {
      self->playing = playing;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PLAYING]);
    }
  g_signal_emit (self, signals[UPDATED], 0);
  if (frame != NULL)
    g_signal_emit (self, signals[FRAME_CHANGED], 0);
}

CsTraining *
cs_training_new_for_data (const char            *model,
                          CsDataset             *train,
                          CsDataset             *test,
                          const CsTrainerConfig *config,
                          GError               **error)
{
  g_return_val_if_fail (model != NULL, NULL);
  g_return_val_if_fail (train != NULL, NULL);

  CsModel *m = cs_model_new_preset (model, error);
  if (m == NULL)
    {
      cs_dataset_free (train);
      g_clear_pointer (&test, cs_dataset_free);
      return NULL;
    }
  CsTrainerConfig defaults;
  if (config == NULL)
    {
      cs_trainer_config_init (&defaults);
      config = &defaults;
    }
  CsTrainer *trainer = cs_trainer_new (m, train, test, config, error);
  if (trainer == NULL)
    return NULL;

  CsTraining *self = g_object_new (CS_TYPE_TRAINING, NULL);
  self->trainer = trainer;
  cs_trainer_get_status (trainer, &self->status);
  HookMemory *memory = g_new0 (HookMemory, 1);
  self->hook_memory = memory;
  cs_trainer_set_snapshot_func (trainer, make_frame, memory, (GDestroyNotify) cs_training_frame_unref);
  /* weak: the trainer (and with it every update) goes in dispose */
  cs_trainer_set_update_func (trainer, NULL, on_update, self, NULL);
  /* while it plays: the numbers 20 times a second, a frame 5 times (the
   * views redraw at most 10 times a second while training runs; each frame
   * costs the trainer's thread a forward and backward of the watched
   * example and a copy of the weights) */
  cs_trainer_set_intervals (trainer, 50, 200);
  /* the first frame: the untrained network on its watched example */
  cs_trainer_request_snapshot (trainer);
  return self;
}

CsTraining *
cs_training_new (const char            *model,
                 const CsTrainerConfig *config,
                 GError               **error)
{
  g_autoptr(GError) local = NULL;
  CsDataset *train = cs_dataset_load_named ("digits", "train", &local);
  CsDataset *test = train ? cs_dataset_load_named ("digits", "test", &local) : NULL;
  if (test == NULL)
    {
      g_clear_pointer (&train, cs_dataset_free);
      g_set_error (error, local->domain, local->code,
                   _("The bundled digits to train on could not be read: %s"), local->message);
      return NULL;
    }
  return cs_training_new_for_data (model, train, test, config, error);
}

CsTrainer *
cs_training_get_trainer (CsTraining *self)
{
  g_return_val_if_fail (CS_IS_TRAINING (self), NULL);
  return self->trainer;
}

const CsTrainerStatus *
cs_training_get_status (CsTraining *self)
{
  g_return_val_if_fail (CS_IS_TRAINING (self), NULL);
  return &self->status;
}

const CsTrainHistory *
cs_training_get_history (CsTraining *self)
{
  g_return_val_if_fail (CS_IS_TRAINING (self), NULL);
  return self->history;
}

CsTrainingFrame *
cs_training_get_frame (CsTraining *self)
{
  g_return_val_if_fail (CS_IS_TRAINING (self), NULL);
  return self->frame;
}

CsTrainingFrame *
cs_training_get_previous_frame (CsTraining *self)
{
  g_return_val_if_fail (CS_IS_TRAINING (self), NULL);
  return self->previous;
}

guint64
cs_training_get_n_updates (CsTraining *self)
{
  g_return_val_if_fail (CS_IS_TRAINING (self), 0);
  return self->n_updates;
}

guint64
cs_training_get_n_frames (CsTraining *self)
{
  g_return_val_if_fail (CS_IS_TRAINING (self), 0);
  return self->n_frames;
}

gboolean
cs_training_get_playing (CsTraining *self)
{
  g_return_val_if_fail (CS_IS_TRAINING (self), FALSE);
  return self->playing;
}

void
cs_training_play (CsTraining *self)
{
  g_return_if_fail (CS_IS_TRAINING (self));
  cs_trainer_play (self->trainer);
}

void
cs_training_pause (CsTraining *self)
{
  g_return_if_fail (CS_IS_TRAINING (self));
  cs_trainer_pause (self->trainer);
}

void
cs_training_toggle (CsTraining *self)
{
  g_return_if_fail (CS_IS_TRAINING (self));
  if (self->playing)
    cs_trainer_pause (self->trainer);
  else
    cs_trainer_play (self->trainer);
}

void
cs_training_step (CsTraining *self, guint n)
{
  g_return_if_fail (CS_IS_TRAINING (self));
  g_return_if_fail (n >= 1);
  cs_trainer_step (self->trainer, n);
}

void
cs_training_reset (CsTraining *self)
{
  g_return_if_fail (CS_IS_TRAINING (self));
  cs_trainer_reset (self->trainer);
}

gboolean
cs_training_set_optimizer (CsTraining *self, CsOptimKind kind, GError **error)
{
  g_return_val_if_fail (CS_IS_TRAINING (self), FALSE);
  CsOptimConfig config;
  cs_optim_config_init (&config, kind);
  return cs_trainer_set_optim (self->trainer, &config, error);
}

gboolean
cs_training_set_optim (CsTraining *self, const CsOptimConfig *config, GError **error)
{
  g_return_val_if_fail (CS_IS_TRAINING (self), FALSE);
  return cs_trainer_set_optim (self->trainer, config, error);
}

gboolean
cs_training_set_learning_rate (CsTraining *self, double lr, GError **error)
{
  g_return_val_if_fail (CS_IS_TRAINING (self), FALSE);
  return cs_trainer_set_learning_rate (self->trainer, lr, error);
}

gboolean
cs_training_set_batch_size (CsTraining *self, int batch_size, GError **error)
{
  g_return_val_if_fail (CS_IS_TRAINING (self), FALSE);
  return cs_trainer_set_batch_size (self->trainer, batch_size, error);
}

gboolean
cs_training_set_model (CsTraining *self, const char *model, GError **error)
{
  g_return_val_if_fail (CS_IS_TRAINING (self), FALSE);
  g_return_val_if_fail (model != NULL, FALSE);
  return cs_trainer_set_model_preset (self->trainer, model, error) != 0;
}

void
cs_training_set_device (CsTraining *self, const char *device)
{
  g_return_if_fail (CS_IS_TRAINING (self));
  g_return_if_fail (device != NULL);
  cs_trainer_set_device (self->trainer, device);
}

void
cs_training_watch_image (CsTraining *self, const float *pixels)
{
  g_return_if_fail (CS_IS_TRAINING (self));
  if (pixels == NULL)
    cs_trainer_watch (self->trainer, 0);
  else
    cs_trainer_watch_image (self->trainer, pixels, 28 * 28, -1);
}
