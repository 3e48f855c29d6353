/* trainer.c — the training thread, its commands and what it publishes
 *
 * Who owns what:
 *
 *   Run (self->run)   the model, optimizer, datasets, batcher, buffers, the
 *                     watch model and every counter: the trainer thread's
 *                     alone once it has started (the constructor fills it
 *                     before). No lock.
 *   Shared            the command queue, the published status, the history,
 *                     the snapshot slot and the update function: under
 *                     self->lock, which is never held while training, while
 *                     calling a hook or an update function, or while
 *                     attaching a GSource.
 *
 * The thread loops: take every queued command (one lock), apply them in
 * order, train one batch if playing or stepping, then publish (one lock).
 * With nothing to do it sleeps on self->wake. Generations are numbered when
 * the command that starts one is queued (so the caller gets the number at
 * once), and anything published under an older number than the last queued
 * is not delivered.
 */
#include "trainer.h"

#include "error.h"
#include "evaluate.h"
#include "parallel.h"
#include "loss.h"
#include "sync-private.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#define MAX_BATCH 65536
#define RATE_WINDOW_US 500000   /* throughput measured over about this long */
#define NORM_TASKS_MAX 8         /* tasks of measure_grad_norms () at most */
#define DEAD_WINDOW 100         /* batches without activity that make a unit dead */
#define CPU_MEASURE_US 2000     /* gradient norms on the CPU while playing: at most this often */
#define GPU_MEASURE_US 100000   /* gradient norms on a GPU: at most this often */

typedef enum
{
  CMD_PLAY,
  CMD_PAUSE,
  CMD_STEP,
  CMD_RESET,
  CMD_SEED,
  CMD_OPTIM,
  CMD_LR,
  CMD_BATCH_SIZE,
  CMD_MODEL,
  CMD_DATASET,
  CMD_DEVICE,
  CMD_BACKEND,
  CMD_EVALUATE,
  CMD_EVALUATE_EACH_EPOCH,
  CMD_WATCH,
  CMD_WATCH_IMAGE,
  CMD_SNAPSHOT_FUNC,
  CMD_REQUEST_SNAPSHOT,
  CMD_INTERVALS,
  CMD_INVOKE,
  CMD_SHOW_CHECKPOINT,
  CMD_REWIND,
  CMD_ZERO_UNIT,
  CMD_FREEZE_UNIT,
  CMD_RESTORE,
} CommandKind;

typedef struct
{
  CommandKind kind;
  guint64 generation;          /* RESET, MODEL, DATASET: the one they start */
  guint64 n;                   /* STEP's count, WATCH's index, BATCH_SIZE, SEED */
  guint n2, n3;                /* INTERVALS; ZERO_UNIT, FREEZE_UNIT: layer, unit */
  gint64 step;                 /* SHOW_CHECKPOINT, REWIND */
  double lr;
  CsOptimConfig optim;
  CsModel *model;
  CsDataset *train, *test;
  char *device;
  const CsBackend *backend;
  float *image;                /* WATCH_IMAGE: n floats */
  int label;
  gboolean flag;
  CsRunState *state;           /* RESTORE */
  gpointer func;               /* SNAPSHOT_FUNC, INVOKE */
  gpointer user_data;
  GDestroyNotify destroy;
} Command;

/* What a status says of progress, kept with a checkpoint. */
typedef struct
{
  gint64 step, optim_step;
  guint32 epoch, batch;
  guint64 examples_seen;
  double loss, running_loss, running_accuracy;
  double test_loss, test_accuracy;
  gint64 test_step;
} Progress;

/* One point to rewind to: everything training reads and writes. */
typedef struct
{
  gint64 step;
  float *block;                /* (4P + B) the model's parameter block, host memory */
  guint8 *batcher;             /* cs_batcher_state_size () bytes */
  Progress progress;
  CsOptimKind optim_kind;
  guint32 epoch;               /* the run's epoch sums */
  guint64 epoch_examples, epoch_correct;
  double epoch_loss_sum;
  guint32 epoch_batches;
} Checkpoint;

/* Where a frozen unit's numbers lie in the parameter block. */
typedef struct
{
  gsize w_off, w_n;            /* its row of the weight */
  gsize b_off;                 /* its bias, when has_bias */
  gboolean has_bias;
} UnitRange;

typedef struct
{
  CsModel *model;
  CsOptimizer *opt;
  CsDataset *train, *test;
  CsBatcher *batcher;
  CsOptimConfig optim;
  int batch_size;
  guint64 seed;
  guint64 generation;
  gboolean evaluate_each_epoch;
  gint64 status_interval_us, snapshot_interval_us;

  /* One batch: x (batch, input), y (batch), probs (batch, classes). */
  float *x;
  gint32 *y;
  float *probs;
  float *probs_after;          /* (batch, classes): a Step's last batch after its update */
  CsEvaluator *evaluator;      /* the model on the test split; NULL until an evaluation,
                                * dropped when the model, its batch or the split changes */
  int capacity;
  guint32 batch_n;             /* examples in x, y and probs: the last batch trained */
  GThread *thread;             /* the trainer's, as it knows itself */

  gboolean playing;
  guint64 steps_left;

  /* This epoch's sums, for the running loss and accuracy. */
  guint32 epoch;
  guint64 epoch_examples, epoch_correct;
  double epoch_loss_sum;
  guint32 epoch_batches;

  /* Throughput over a window of running. */
  gint64 window_start;
  guint64 window_samples;

  /* When to publish. */
  gint64 next_notify, next_snapshot, next_measure;
  gboolean notify_now, snapshot_now, trained_since_snapshot;

  /* Snapshots. */
  CsTrainerSnapshotFunc snapshot_func;
  gpointer snapshot_data;
  GDestroyNotify snapshot_free;
  CsModel *watch;              /* CPU, batch of one; NULL until needed */
  int watch_index;             /* −1: watch_image */
  float *watch_image;          /* (watch_image_n) */
  gsize watch_image_n;
  int watch_label;

  /* Measurements for the history and the diagnostics. */
  float *layer_norms;          /* (n_layers) of the last batch */
  double *layer_sums;          /* (NORM_TASKS_MAX, n_layers) scratch of measure_grad_norms () */
  gboolean *layer_has;         /* (n_layers) likewise */
  CsUnitTracker **trackers;    /* (n_layers) one per ReLU layer, else NULL */
  float *dead;                 /* (n_layers) */
  float *host_scratch;         /* a GPU's activations, downloaded */
  gsize host_scratch_n;
  CsDiagnoseConfig diagnose;
  GString *message;

  /* Rewind: checkpoints[0 … n_checkpoints − 1] oldest first; those after
   * them up to n_allocated keep their buffers for reuse. */
  Checkpoint *checkpoints;     /* (max_checkpoints) */
  guint n_checkpoints, n_allocated;
  guint max_kept;              /* what fits the bytes allowed, for this model */
  gsize checkpoint_size;       /* bytes of one */
  guint checkpoint_interval, max_checkpoints;
  gsize checkpoint_bytes;
  gint64 checkpoint_spacing_us; /* while playing, at least this apart */
  gint64 last_checkpoint;      /* monotonic time of the last one taken */
  int viewing;                 /* the checkpoint shown, or −1 */

  /* Experiments: the frozen units and a scratch for their numbers (3 × the
   * floats of their ranges, on frozen_be's device) across a step. */
  CsTrainerUnit frozen[CS_TRAINER_MAX_FROZEN];
  UnitRange frozen_ranges[CS_TRAINER_MAX_FROZEN];
  guint n_frozen;
  float *frozen_scratch;
  gsize frozen_floats;
  const CsBackend *frozen_be;
  guint64 edits;

  CsTrainerStatus status;      /* the working copy, published after each round */
} Run;

struct _CsTrainer
{
  GThread *thread;
  Run run;

  GMutex lock;
  GCond wake;                  /* for the trainer: a command, or quit */
  GCond idle_cond;             /* for cs_trainer_wait_idle () */
  GQueue commands;             /* Command *, oldest first */
  gboolean quit;
  gboolean idle;               /* paused, queue empty, status published */
  guint64 generation_queued;   /* of the last command that starts one */
  CsTrainerStatus status;      /* the newest published */
  CsTrainHistory *history;     /* the run's, appended to by the trainer */
  gpointer slot;               /* the newest snapshot not taken … */
  GDestroyNotify slot_free;    /* … how to free it … */
  guint64 slot_generation;     /* … and its generation */
  GMainContext *context;       /* updates: where, */
  CsTrainerUpdateFunc update_func;   /* what, */
  gpointer update_data;
  GDestroyNotify update_data_free;
  GSource *pending;            /* and the idle source queued and not yet run */
};

static void
set_text (char *dst, gsize size, const char *src)
{
  g_strlcpy (dst, src ? src : "", size);
}

#define SET_TEXT(field, src) set_text ((field), sizeof (field), (src))

void
cs_trainer_config_init (CsTrainerConfig *config)
{
  g_return_if_fail (config != NULL);
  *config = (CsTrainerConfig) {
    .batch_size = 64,
    .seed = 1,
    .status_interval_ms = 16,
    .snapshot_interval_ms = 100,
    .evaluate_each_epoch = TRUE,
    .checkpoint_interval = 50,
    .checkpoint_spacing_ms = 250,
    .max_checkpoints = 32,
    .checkpoint_bytes = 128 << 20,
  };
  cs_optim_config_init (&config->optim, CS_OPTIM_ADAM);
  cs_train_history_limits_init (&config->history);
}

/* ---- the run (trainer thread) ----------------------------------------- */

static gboolean
check_fit (CsModel *model, const CsDataset *ds, GError **error)
{
  const CsShape *in = cs_model_get_input_shape (model);
  const CsShape *out = cs_model_get_output_shape (model);

  if (ds == NULL)
    return TRUE;
  if (cs_shape_numel (in) != (gint64) ds->rows * ds->cols || out->ndim != 1
      || out->d[0] < (gint64) ds->n_classes)
    {
      g_autofree char *ins = cs_shape_to_string (in);
      g_autofree char *outs = cs_shape_to_string (out);
      g_set_error (error, CS_ERROR, CS_ERROR_MISMATCH,
                   "the model “%s” takes %s and gives %s, but %s has %u×%u images in %u "
                   "classes", cs_model_get_name (model), ins, outs, ds->name, ds->rows,
                   ds->cols, ds->n_classes);
      return FALSE;
    }
  return TRUE;
}

static void
report_error (CsTrainer *self, const char *format, ...) G_GNUC_PRINTF (2, 3);

/* A failed command: the status says why (and pauses nothing by itself). */
static void
report_error (CsTrainer *self, const char *format, ...)
{
  Run *r = &self->run;
  va_list args;
  va_start (args, format);
  g_autofree char *text = g_strdup_vprintf (format, args);
  va_end (args);
  SET_TEXT (r->status.error, text);
  r->status.error_serial++;
  r->notify_now = TRUE;
}

static void
free_buffers (Run *r)
{
  g_clear_pointer (&r->x, cs_free);
  g_clear_pointer (&r->y, g_free);
  g_clear_pointer (&r->probs, g_free);
  g_clear_pointer (&r->probs_after, g_free);
  r->capacity = 0;
  r->batch_n = 0;
}

static void
ensure_buffers (Run *r)
{
  if (r->capacity >= r->batch_size && r->x != NULL)
    return;
  free_buffers (r);
  gsize in = (gsize) cs_shape_numel (cs_model_get_input_shape (r->model));
  gsize classes = (gsize) cs_shape_numel (cs_model_get_output_shape (r->model));
  r->x = cs_alloc_floats ((gsize) r->batch_size * in);
  r->y = g_new0 (gint32, r->batch_size);
  r->probs = g_new0 (float, (gsize) r->batch_size * classes);
  r->probs_after = g_new0 (float, (gsize) r->batch_size * classes);
  r->capacity = r->batch_size;
}

static void
free_trackers (Run *r)
{
  if (r->trackers == NULL)
    return;
  for (guint i = 0; i < cs_model_get_n_layers (r->model); i++)
    cs_unit_tracker_free (r->trackers[i]);
  g_clear_pointer (&r->trackers, g_free);
  g_clear_pointer (&r->layer_norms, g_free);
  g_clear_pointer (&r->layer_sums, g_free);
  g_clear_pointer (&r->layer_has, g_free);
  g_clear_pointer (&r->dead, g_free);
}

/* A tracker of dead units after every ReLU layer. */
static void
make_trackers (Run *r)
{
  guint n = cs_model_get_n_layers (r->model);
  free_trackers (r);
  r->trackers = g_new0 (CsUnitTracker *, n);
  r->layer_norms = g_new (float, n);
  r->layer_sums = g_new (double, (gsize) NORM_TASKS_MAX * n);
  r->layer_has = g_new0 (gboolean, n);   /* which layers have parameter gradients */
  for (guint e = 0; e < cs_model_get_n_entries (r->model); e++)
    {
      const CsModelEntry *entry = cs_model_get_entry (r->model, e);
      if (entry->param->grad != NULL)
        r->layer_has[entry->layer] = TRUE;
    }
  r->dead = g_new (float, n);
  for (guint i = 0; i < n; i++)
    {
      CsLayer *layer = cs_model_get_layer (r->model, i);
      r->layer_norms[i] = NAN;
      r->dead[i] = NAN;
      if (!g_str_equal (layer->klass->type, "relu"))
        continue;
      const CsShape *s = &layer->out_shape;
      guint units = (guint) cs_shape_numel (s), per = 1;
      if (s->ndim == 3)   /* (C, H, W): a unit is a channel */
        units = (guint) s->d[0], per = (guint) (s->d[1] * s->d[2]);
      r->trackers[i] = cs_unit_tracker_new (units, per, DEAD_WINDOW);
    }
}

static char **
layer_titles (CsModel *model)
{
  guint n = cs_model_get_n_layers (model);
  char **titles = g_new0 (char *, n + 1);
  for (guint i = 0; i < n; i++)
    titles[i] = g_strdup (cs_model_get_layer (model, i)->klass->title);
  return titles;
}

/* The settings and names the status shows. */
static void
describe_run (Run *r)
{
  CsTrainerStatus *s = &r->status;
  s->optim = r->optim;
  s->batch_size = r->batch_size;
  s->seed = r->seed;
  SET_TEXT (s->model, cs_model_get_name (r->model));
  SET_TEXT (s->device, cs_model_get_backend (r->model)->name);
  SET_TEXT (s->dataset, r->train->name);
  s->train_examples = r->train->n;
  s->test_examples = r->test ? r->test->n : 0;
  s->batches_per_epoch = cs_batcher_batches_per_epoch (r->batcher);
  s->watch_index = r->watch_index;
  if (r->watch_index >= 0)
    {
      const CsDataset *ds = r->test ? r->test : r->train;
      s->watch_label = ds->labels[r->watch_index];
    }
  else
    s->watch_label = r->watch_label;

  s->n_checkpoints = r->n_checkpoints;
  for (guint i = 0; i < r->n_checkpoints; i++)
    s->checkpoints[i] = r->checkpoints[i].step;
  s->viewing_step = r->viewing >= 0 ? r->checkpoints[r->viewing].step : -1;
  s->checkpoint_bytes = r->n_allocated * r->checkpoint_size;
  s->n_frozen = r->n_frozen;
  memcpy (s->frozen, r->frozen, r->n_frozen * sizeof (CsTrainerUnit));
  s->edits = r->edits;
}

/* ---- rewind -------------------------------------------------------------- */

gsize
cs_trainer_checkpoint_size (CsModel *model, guint32 n_examples)
{
  g_return_val_if_fail (model != NULL, 0);
  gsize P = cs_model_get_n_params (model), B = cs_model_get_n_buffers (model);
  return sizeof (Checkpoint) + (4 * P + B) * sizeof (float)
         + cs_batcher_state_size_for (n_examples);
}

static void
free_checkpoints (Run *r)
{
  for (guint i = 0; i < r->n_allocated; i++)
    {
      g_free (r->checkpoints[i].block);
      g_free (r->checkpoints[i].batcher);
      r->checkpoints[i].block = NULL;
      r->checkpoints[i].batcher = NULL;
    }
  r->n_checkpoints = r->n_allocated = 0;
  r->viewing = -1;
}

static void
get_progress (const CsTrainerStatus *s, Progress *p)
{
  *p = (Progress) {
    .step = s->step, .optim_step = s->optim_step, .epoch = s->epoch, .batch = s->batch,
    .examples_seen = s->examples_seen, .loss = s->loss, .running_loss = s->running_loss,
    .running_accuracy = s->running_accuracy, .test_loss = s->test_loss,
    .test_accuracy = s->test_accuracy, .test_step = s->test_step,
  };
}

static void
set_progress (CsTrainerStatus *s, const Progress *p)
{
  s->step = p->step;
  s->optim_step = p->optim_step;
  s->epoch = p->epoch;
  s->batch = p->batch;
  s->examples_seen = p->examples_seen;
  s->loss = p->loss;
  s->running_loss = p->running_loss;
  s->running_accuracy = p->running_accuracy;
  s->test_loss = p->test_loss;
  s->test_accuracy = p->test_accuracy;
  s->test_step = p->test_step;
}

/* The slot for a new checkpoint at step: a free one, or, when max_kept
 * are held, the one whose neighbours lie closest together (never the
 * first), moved to the end. NULL when none may be kept. */
static Checkpoint *
checkpoint_slot (Run *r, gint64 step)
{
  guint n = r->n_checkpoints;
  if (n < r->max_kept)
    {
      r->n_checkpoints++;
      r->n_allocated = MAX (r->n_allocated, r->n_checkpoints);
      return &r->checkpoints[n];
    }
  if (n < 2)
    return NULL;
  guint drop = 1;
  gint64 best = G_MAXINT64;
  for (guint i = 1; i < n; i++)
    {
      gint64 next = i + 1 < n ? r->checkpoints[i + 1].step : step;
      gint64 span = next - r->checkpoints[i - 1].step;
      if (span < best)
        best = span, drop = i;
    }
  Checkpoint freed = r->checkpoints[drop];
  memmove (&r->checkpoints[drop], &r->checkpoints[drop + 1], (n - 1 - drop) * sizeof (Checkpoint));
  r->checkpoints[n - 1] = freed;
  if (r->viewing == (int) drop)
    r->viewing = -1;
  else if (r->viewing > (int) drop)
    r->viewing--;
  return &r->checkpoints[n - 1];
}

static void
take_checkpoint (CsTrainer *self)
{
  Run *r = &self->run;
  g_autoptr(GError) error = NULL;

  if (r->max_kept == 0)
    return;
  const float *src = cs_model_read_block (r->model, &error);
  if (src == NULL)
    {
      report_error (self, "no checkpoint of step %" G_GINT64_FORMAT ": %s", r->status.step,
                    error->message);
      return;
    }
  Checkpoint *c = checkpoint_slot (r, r->status.step);
  if (c == NULL)
    return;
  gsize P = cs_model_get_n_params (r->model), B = cs_model_get_n_buffers (r->model);
  if (c->block == NULL)
    {
      c->block = g_new (float, 4 * P + B);
      c->batcher = g_malloc (cs_batcher_state_size (r->batcher));
    }
  memcpy (c->block, src, (4 * P + B) * sizeof (float));
  cs_batcher_save_state (r->batcher, c->batcher);
  c->step = r->status.step;
  get_progress (&r->status, &c->progress);
  c->optim_kind = r->optim.kind;
  c->epoch = r->epoch;
  c->epoch_examples = r->epoch_examples;
  c->epoch_correct = r->epoch_correct;
  c->epoch_loss_sum = r->epoch_loss_sum;
  c->epoch_batches = r->epoch_batches;
  r->last_checkpoint = g_get_monotonic_time ();
  describe_run (r);
}

/* For a new run: how many fit, and the one of step 0. The buffers of the
 * run before are kept when they are of the same size. */
static void
start_checkpoints (CsTrainer *self)
{
  Run *r = &self->run;
  gsize size = cs_trainer_checkpoint_size (r->model, r->train->n);
  if (size != r->checkpoint_size)
    free_checkpoints (r);
  r->n_checkpoints = 0;
  r->viewing = -1;
  r->checkpoint_size = size;
  r->max_kept = (guint) MIN (r->max_checkpoints, r->checkpoint_bytes / r->checkpoint_size);
  take_checkpoint (self);
}

/* Whether a checkpoint the run may keep has no buffer yet. */
static gboolean
checkpoint_to_prepare (const Run *r)
{
  return r->n_allocated < r->max_kept && r->model != NULL && r->batcher != NULL;
}

/* Idle work: the buffer of the next checkpoint, allocated and its pages
 * touched while the trainer has nothing else to do, so that a step never
 * allocates one or pays for first touching its memory (megabytes a
 * checkpoint, and page faults are dear). One buffer a call; FALSE when
 * every checkpoint the run may keep has one. */
static gboolean
prepare_checkpoint (Run *r)
{
  if (!checkpoint_to_prepare (r))
    return FALSE;
  Checkpoint *c = &r->checkpoints[r->n_allocated];
  if (c->block == NULL)
    {
      gsize floats = 4 * cs_model_get_n_params (r->model) + cs_model_get_n_buffers (r->model);
      c->block = g_new (float, floats);
      c->batcher = g_malloc (cs_batcher_state_size (r->batcher));
      volatile char *page = (volatile char *) c->block;
      for (gsize i = 0; i < floats * sizeof (float); i += 4096)
        page[i] = 0;
    }
  r->n_allocated++;
  r->status.checkpoint_bytes = r->n_allocated * r->checkpoint_size;
  return TRUE;
}

static int
find_checkpoint (CsTrainer *self, gint64 step)
{
  Run *r = &self->run;
  for (guint i = 0; i < r->n_checkpoints; i++)
    if (r->checkpoints[i].step == step)
      return (int) i;
  report_error (self, "there is no checkpoint of step %" G_GINT64_FORMAT " to go back to",
                step);
  return -1;
}

/* Moves everything shared to generation gen (lock held): the status, the
 * history (emptied when fresh), and the snapshot slot (emptied). Returns
 * the dropped snapshot for the caller to free after unlocking. */
static gpointer
renumber_locked (CsTrainer *self, guint64 gen, gboolean fresh, GDestroyNotify *dropped_free)
{
  Run *r = &self->run;
  gpointer dropped = NULL;

  r->generation = gen;
  r->status.generation = gen;
  if (fresh)
    {
      g_auto(GStrv) titles = layer_titles (r->model);
      cs_train_history_reset (self->history, gen, cs_model_get_n_layers (r->model),
                              (const char * const *) titles);
    }
  else
    self->history->generation = gen;
  if (self->slot != NULL && self->slot_generation < gen)
    {
      dropped = g_steal_pointer (&self->slot);
      *dropped_free = self->slot_free;
    }
  return dropped;
}

static void
renumber (CsTrainer *self, guint64 gen, gboolean fresh)
{
  GDestroyNotify dropped_free = NULL;
  cs_mutex_lock (&self->lock);
  gpointer dropped = renumber_locked (self, gen, fresh, &dropped_free);
  cs_mutex_unlock (&self->lock);
  if (dropped != NULL && dropped_free != NULL)
    dropped_free (dropped);
}

/* Starts over with the seed (after a reset, a new model or new data). */
static void
start_run (CsTrainer *self, guint64 gen)
{
  Run *r = &self->run;

  cs_model_init (r->model, r->seed);
  g_clear_pointer (&r->opt, cs_optimizer_free);
  r->opt = cs_optimizer_new (r->model, &r->optim);
  g_clear_pointer (&r->batcher, cs_batcher_free);
  r->batcher = cs_batcher_new (r->train, (guint32) r->batch_size, r->seed);
  ensure_buffers (r);
  r->batch_n = 0;
  make_trackers (r);

  r->playing = FALSE;
  r->steps_left = 0;
  r->epoch = 0;
  r->epoch_examples = r->epoch_correct = 0;
  r->epoch_loss_sum = 0.0;
  r->epoch_batches = 0;
  r->window_samples = 0;

  CsTrainerStatus *s = &r->status;
  s->state = CS_TRAINER_PAUSED;
  s->step = 0;
  s->optim_step = 0;
  s->epoch = 0;
  s->batch = 0;
  s->examples_seen = 0;
  s->eval_seconds = 0;
  s->loss = s->loss_after = s->running_loss = s->running_accuracy = NAN;
  s->test_loss = s->test_accuracy = NAN;
  s->test_step = -1;
  s->samples_per_second = 0.0;
  s->snapshot_ms = 0.0;
  s->watch_prediction = -1;
  s->diagnoses = 0;
  s->diagnosis[0] = '\0';
  r->n_frozen = 0;
  r->edits = 0;
  start_checkpoints (self);
  describe_run (r);

  renumber (self, gen, TRUE);
  r->notify_now = r->snapshot_now = TRUE;
}

static gboolean
running (const Run *r)
{
  return r->playing || r->steps_left > 0;
}

/* The L2 norm of each layer's parameter gradients; grads in host memory.
 * A pass over every gradient after every batch: split over the CPU pool
 * like the optimizer's pass before it (each thread then mostly reads what
 * its own cache holds), which keeps it to a few percent of a fast MLP's
 * step. Each task adds its range of the block into its own row of sums. */
typedef struct
{
  Run *r;
  const float *grads;
} NormJob;

static void
norm_task (int task, int n_tasks, gpointer data)
{
  const NormJob *job = data;
  CsModel *model = job->r->model;
  guint n_layers = cs_model_get_n_layers (model);
  double *sums = job->r->layer_sums + (gsize) task * n_layers;
  gsize lo, hi;
  cs_parallel_range (cs_model_get_n_params (model), task, n_tasks, 16, &lo, &hi);
  memset (sums, 0, sizeof (double) * n_layers);
  for (guint e = 0; e < cs_model_get_n_entries (model); e++)
    {
      const CsModelEntry *entry = cs_model_get_entry (model, e);
      if (entry->param->grad == NULL)
        continue;
      gsize off = cs_model_get_entry_offset (model, entry);
      gsize end = off + (gsize) cs_tensor_numel (entry->param->value);
      gsize a = MAX (off, lo), b = MIN (end, hi);
      for (gsize done = a; done < b;)
        {
          int chunk = (int) MIN (b - done, (gsize) G_MAXINT / 2);
          sums[entry->layer] += cblas_sdot (chunk, job->grads + done, 1, job->grads + done, 1);
          done += (gsize) chunk;
        }
    }
}

static float
measure_grad_norms (Run *r, const float *grads)
{
  CsModel *model = r->model;
  guint n_layers = cs_model_get_n_layers (model);
  const gboolean *has = r->layer_has;  /* set with the trackers: nothing is */
                                        /* worked out or allocated per batch */
  int tasks = CLAMP (cs_parallel_get_threads (), 1, NORM_TASKS_MAX);
  NormJob job = { r, grads };
  cs_parallel_run (tasks, norm_task, &job);

  double total = 0.0;
  for (guint i = 0; i < n_layers; i++)
    {
      double s = 0.0;
      for (int t = 0; t < tasks; t++)
        s += r->layer_sums[(gsize) t * n_layers + i];
      r->layer_norms[i] = has[i] ? (float) sqrt (s) : NAN;
      total += s;
    }
  return (float) sqrt (total);
}

/* Which units after each ReLU were active in the batch just trained. */
static void
observe_units (Run *r, int N)
{
  const CsBackend *be = cs_model_get_backend (r->model);
  for (guint i = 0; i < cs_model_get_n_layers (r->model); i++)
    {
      if (r->trackers[i] == NULL)
        continue;
      CsTensor act = cs_model_get_activation (r->model, i + 1);
      gsize n = (gsize) cs_tensor_numel (&act);
      if (be->device != CS_DEVICE_CPU && r->host_scratch_n < n)
        {
          g_free (r->host_scratch);
          r->host_scratch = g_new (float, n);
          r->host_scratch_n = n;
        }
      const float *host = cs_backend_host_view (be, r->host_scratch, act.data, n);
      cs_unit_tracker_observe (r->trackers[i], host, N);
      r->dead[i] = (float) cs_unit_tracker_dead_fraction (r->trackers[i]);
    }
}

static void
diagnose (CsTrainer *self)
{
  Run *r = &self->run;
  g_string_truncate (r->message, 0);
  CsDiagnosisFlags flags = cs_diagnose (self->history, r->dead, &r->diagnose, r->message);
  if (flags != r->status.diagnoses || strcmp (r->message->str, r->status.diagnosis) != 0)
    {
      r->status.diagnoses = flags;
      SET_TEXT (r->status.diagnosis, r->message->str);
      r->notify_now = TRUE;
    }
}

static void
evaluate (CsTrainer *self)
{
  Run *r = &self->run;
  g_autoptr(GError) error = NULL;

  if (r->test == NULL)
    {
      report_error (self, "there is no test split to evaluate on");
      return;
    }
  CsEvaluation ev = { 0 };
  gint64 t0 = g_get_monotonic_time ();
  if (r->evaluator == NULL)
    r->evaluator = cs_evaluator_new (r->model, r->test);
  cs_evaluator_run (r->evaluator, &ev, NULL, NULL, NULL);
  r->status.eval_seconds += (g_get_monotonic_time () - t0) / 1e6;
  if (!cs_model_check (r->model, &error))
    {
      report_error (self, "evaluating on the test split: %s", error->message);
      return;
    }
  r->status.test_loss = ev.loss;
  r->status.test_accuracy = ev.accuracy;
  r->status.test_step = r->status.step;

  CsTrainEval e = {
    .step = r->status.step,
    .epoch = r->status.epoch,
    .train_accuracy = r->epoch_examples ? (float) r->epoch_correct / r->epoch_examples : NAN,
    .test_loss = (float) ev.loss,
    .test_accuracy = (float) ev.accuracy,
  };
  cs_mutex_lock (&self->lock);
  cs_train_history_add_eval (self->history, &e);
  cs_mutex_unlock (&self->lock);
  /* The status carries the new figures at once; while the run plays, the
   * next snapshot comes on its usual interval (a fast model's epochs
   * would otherwise make one every few milliseconds). */
  r->notify_now = TRUE;
  if (!running (r))
    r->snapshot_now = TRUE;
  diagnose (self);
}

static void
pause_run (Run *r)
{
  r->playing = FALSE;
  r->steps_left = 0;
  r->notify_now = TRUE;
}

static void frozen_save (Run *r);
static void frozen_restore (Run *r);

static void
train_batch (CsTrainer *self)
{
  Run *r = &self->run;
  CsTrainerStatus *s = &r->status;
  g_autoptr(GError) error = NULL;

  gint64 start = g_get_monotonic_time ();
  if (r->window_samples == 0)
    r->window_start = start;

  guint32 n = cs_batcher_next (r->batcher, r->x, r->y);
  guint32 epoch = cs_batcher_epoch (r->batcher);
  if (epoch != r->epoch)
    {
      r->epoch = epoch;
      r->epoch_examples = r->epoch_correct = 0;
      r->epoch_loss_sum = 0.0;
      r->epoch_batches = 0;
    }
  CsTensor xt = cs_tensor_view_batch (r->x, n, cs_model_get_input_shape (r->model));
  int correct = 0;
  if (r->n_frozen > 0)
    frozen_save (r);
  double loss = cs_train_step (r->model, r->opt, &xt, r->y, r->probs, &correct);
  if (r->n_frozen > 0)
    frozen_restore (r);
  if (!cs_model_check (r->model, &error))
    {
      report_error (self, "step %" G_GINT64_FORMAT " failed on %s: %s; training paused",
                    cs_model_get_step (r->model), cs_model_get_backend (r->model)->name,
                    error->message);
      pause_run (r);
    }

  r->epoch_examples += n;
  r->epoch_correct += (guint64) correct;
  r->epoch_loss_sum += loss * n;
  r->epoch_batches++;
  r->batch_n = n;
  gboolean last_of_step = !r->playing && r->steps_left == 1;
  if (r->steps_left > 0)
    r->steps_left--;
  r->trained_since_snapshot = TRUE;

  /* The last batch of a Step once more, through the updated weights: what
   * the step did to the loss of the examples it learnt from. One forward,
   * only when a person steps. */
  s->loss_after = NAN;
  if (last_of_step && isfinite (loss))
    {
      cs_model_forward (r->model, &xt, FALSE);
      s->loss_after = cs_model_cross_entropy (r->model, r->y, r->probs_after);
    }

  s->step = cs_model_get_step (r->model);
  s->optim_step = cs_optimizer_get_step (r->opt);
  s->epoch = epoch;
  s->batch = r->epoch_batches;
  s->examples_seen += n;
  s->loss = loss;
  s->running_loss = r->epoch_loss_sum / r->epoch_examples;
  s->running_accuracy = (double) r->epoch_correct / r->epoch_examples;

  /* What the diagnostics read. On the CPU, which ReLU units fired: every
   * batch; the gradient norms, a pass over every gradient: every batch a
   * person steps, and while training plays at most every CPU_MEASURE_US
   * (every batch of the SimpleCNN, about one in five of the MLP's, whose
   * steps are so short that the pass alone would cost it 4%). On a GPU,
   * both at most every GPU_MEASURE_US, where they cost a download. A
   * batch not measured has NaN norms in the history. */
  const CsBackend *be = cs_model_get_backend (r->model);
  gint64 now = g_get_monotonic_time ();
  float grad_norm = NAN;
  gboolean measured = FALSE;
  if (be->device == CS_DEVICE_CPU)
    {
      if (!r->playing || now >= r->next_measure)
        {
          grad_norm = measure_grad_norms (r, cs_model_get_grads (r->model));
          measured = TRUE;
          r->next_measure = now + CPU_MEASURE_US;
        }
      observe_units (r, (int) n);
    }
  else if (now >= r->next_measure)
    {
      const float *block = cs_model_read_block (r->model, NULL);
      if (block != NULL)
        {
          grad_norm = measure_grad_norms (r, block + cs_model_get_n_params (r->model));
          measured = TRUE;
          observe_units (r, (int) n);
        }
      r->next_measure = now + GPU_MEASURE_US;
    }

  CsTrainRecord rec = {
    .step = s->step,
    .epoch = epoch,
    .size = n,
    .loss = (float) loss,
    .accuracy = (float) correct / n,
    .grad_norm = grad_norm,
    .lr = r->optim.hp.lr,
  };
  cs_mutex_lock (&self->lock);
  cs_train_history_append (self->history, &rec, measured ? r->layer_norms : NULL);
  cs_mutex_unlock (&self->lock);

  diagnose (self);
  if (s->diagnoses & CS_DIAGNOSIS_NON_FINITE)
    {
      pause_run (r);
      r->snapshot_now = TRUE;
    }

  if (r->epoch_examples == r->train->n && r->evaluate_each_epoch && r->test != NULL)
    evaluate (self);
  if (r->checkpoint_interval > 0 && s->step % r->checkpoint_interval == 0
      && (!r->playing
          || g_get_monotonic_time () - r->last_checkpoint >= r->checkpoint_spacing_us))
    take_checkpoint (self);

  /* Throughput: examples over wall-clock time while running, everything
   * included (snapshots, publishing, evaluations). */
  r->window_samples += n;
  now = g_get_monotonic_time ();
  if (now - r->window_start >= RATE_WINDOW_US || !running (r))
    {
      s->samples_per_second = r->window_samples / MAX ((now - r->window_start) / 1e6, 1e-9);
      r->window_samples = 0;
    }
}

/* The watched example through the current weights, for the hook. */
static gboolean
prepare_watch (CsTrainer *self)
{
  Run *r = &self->run;
  g_autoptr(GError) error = NULL;

  if (r->watch == NULL)
    {
      r->watch = cs_model_new_from_json (cs_model_get_json (r->model), -1, &error);
      g_assert_no_error (error);   /* the trained model's own description */
      if (!cs_model_reserve (r->watch, 1, &error))
        {
          g_clear_pointer (&r->watch, cs_model_free);
          report_error (self, "no memory for the watched example: %s", error->message);
          return FALSE;
        }
      cs_model_set_input_grad (r->watch, TRUE);
    }

  /* The whole block: parameters, gradients, optimizer state, buffers; of
   * the checkpoint shown, if one is. */
  const float *src = r->viewing >= 0 ? r->checkpoints[r->viewing].block
                                     : cs_model_read_block (r->model, &error);
  if (src == NULL)
    {
      report_error (self, "reading the model from %s: %s",
                    cs_model_get_backend (r->model)->name, error->message);
      return FALSE;
    }
  gsize P = cs_model_get_n_params (r->model), B = cs_model_get_n_buffers (r->model);
  float *dst = cs_model_read_block (r->watch, NULL);
  memcpy (dst, src, (4 * P + B) * sizeof (float));
  _cs_model_set_step (r->watch, r->viewing >= 0 ? r->checkpoints[r->viewing].step
                                                : cs_model_get_step (r->model));

  const CsShape *in = cs_model_get_input_shape (r->watch);
  gsize in_n = (gsize) cs_shape_numel (in);
  int C = (int) cs_shape_numel (cs_model_get_output_shape (r->watch));
  g_autofree float *x = g_new (float, in_n);
  g_autofree float *probs = g_new (float, C);
  gint32 label = r->watch_label;
  if (r->watch_index >= 0)
    {
      guint32 idx = (guint32) r->watch_index;
      cs_dataset_fill_batch (r->test ? r->test : r->train, &idx, 1, x, &label);
    }
  else
    memcpy (x, r->watch_image, in_n * sizeof (float));

  CsTensor xt = cs_tensor_view_batch (x, 1, in);
  const CsTensor *out = cs_model_forward (r->watch, &xt, FALSE);
  gint32 pred;
  cs_argmax_rows (&pred, out->data, 1, C);
  gint32 target = label >= 0 && label < C ? label : pred;
  cs_model_cross_entropy (r->watch, &target, probs);
  cs_model_zero_grad (r->watch);
  cs_model_backward (r->watch);
  /* the batch's gradients, not this one example's */
  memcpy (cs_model_get_grads (r->watch), src + P, P * sizeof (float));

  r->status.watch_prediction = pred;
  return TRUE;
}

/* What the hook returns for the watched example, or NULL. */
static gpointer
make_snapshot (CsTrainer *self)
{
  Run *r = &self->run;

  r->snapshot_now = FALSE;
  r->trained_since_snapshot = FALSE;
  if (r->snapshot_func == NULL)
    return NULL;
  gint64 start = g_get_monotonic_time ();
  if (!prepare_watch (self))
    return NULL;
  gpointer snap;
  if (r->viewing >= 0)
    {
      /* the checkpoint's progress with everything else as it is now */
      CsTrainerStatus shown = r->status;
      set_progress (&shown, &r->checkpoints[r->viewing].progress);
      snap = r->snapshot_func (self, r->watch, &shown, r->snapshot_data);
    }
  else
    snap = r->snapshot_func (self, r->watch, &r->status, r->snapshot_data);
  r->status.snapshot_ms = (g_get_monotonic_time () - start) / 1e3;
  return snap;
}

/* ---- delivery to the update context ------------------------------------ */

static gboolean deliver (gpointer data);

/* The idle source to attach after unlocking, or NULL (lock held). */
static GSource *
queue_update_locked (CsTrainer *self)
{
  if (self->update_func == NULL || self->pending != NULL)
    return NULL;
  GSource *source = g_idle_source_new ();
  g_source_set_callback (source, deliver, self, NULL);
  g_source_set_static_name (source, "[convscope] trainer update");
  self->pending = g_source_ref (source);
  return source;
}

static void
attach (GSource *source, GMainContext *context)
{
  if (source == NULL)
    return;
  g_source_attach (source, context);
  g_source_unref (source);
  g_main_context_unref (context);
}

static gboolean
deliver (gpointer data)
{
  CsTrainer *self = data;
  GSource *current = g_main_current_source ();

  cs_mutex_lock (&self->lock);
  if (self->pending == current)
    g_clear_pointer (&self->pending, g_source_unref);
  if (self->update_func == NULL)
    {
      cs_mutex_unlock (&self->lock);
      return G_SOURCE_REMOVE;
    }
  if (g_source_get_context (current) != self->context)
    {
      /* The update function moved to another context meanwhile. */
      GSource *next = queue_update_locked (self);
      GMainContext *context = next ? g_main_context_ref (self->context) : NULL;
      cs_mutex_unlock (&self->lock);
      attach (next, context);
      return G_SOURCE_REMOVE;
    }

  CsTrainerStatus status = self->status;
  CsTrainerUpdateFunc func = self->update_func;
  gpointer user_data = self->update_data;
  gboolean stale = status.generation < self->generation_queued;
  /* The snapshot goes with its status. One of a generation that has ended
   * is dropped; one newer than the status (taken, not yet published) stays
   * for the next update. */
  gpointer snap = NULL, dropped = NULL;
  GDestroyNotify snap_free = self->slot_free;
  if (self->slot != NULL && self->slot_generation < self->generation_queued)
    dropped = g_steal_pointer (&self->slot);
  else if (self->slot != NULL && !stale && self->slot_generation == status.generation)
    snap = g_steal_pointer (&self->slot);
  cs_mutex_unlock (&self->lock);

  /* A status of an older generation than the caller was given is not
   * shown: the trainer has a command to apply, and will post again. */
  if (!stale)
    func (self, &status, snap, user_data);
  if (snap_free != NULL)
    {
      if (snap != NULL)
        snap_free (snap);
      if (dropped != NULL)
        snap_free (dropped);
    }
  return G_SOURCE_REMOVE;
}

/* After each round: a snapshot if one is due, and the status, published
 * together (an update never sees a snapshot newer than its status). */
static void
publish (CsTrainer *self)
{
  Run *r = &self->run;
  gint64 now = g_get_monotonic_time ();
  gboolean busy = running (r);

  r->status.state = r->playing ? CS_TRAINER_PLAYING
                    : r->steps_left > 0 ? CS_TRAINER_STEPPING : CS_TRAINER_PAUSED;
  gpointer snap = NULL;
  if (r->snapshot_func != NULL
      && (r->snapshot_now
          || (r->trained_since_snapshot && (!busy || now >= r->next_snapshot))))
    {
      snap = make_snapshot (self);
      r->next_snapshot = now + r->snapshot_interval_us;
    }
  gboolean notify = r->notify_now || snap != NULL || !busy || now >= r->next_notify;

  gpointer old = NULL;
  GDestroyNotify old_free = NULL;
  cs_mutex_lock (&self->lock);
  if (snap != NULL)
    {
      old = self->slot;
      old_free = self->slot_free;
      self->slot = snap;
      self->slot_free = r->snapshot_free;
      self->slot_generation = r->generation;
    }
  self->status = r->status;
  GSource *source = notify ? queue_update_locked (self) : NULL;
  GMainContext *context = source ? g_main_context_ref (self->context) : NULL;
  cs_mutex_unlock (&self->lock);
  attach (source, context);
  if (old != NULL && old_free != NULL)
    old_free (old);

  if (notify)
    {
      r->next_notify = now + r->status_interval_us;
      r->notify_now = FALSE;
    }
}

/* ---- commands ------------------------------------------------------------ */

static void
command_free (Command *c)
{
  g_clear_pointer (&c->model, cs_model_free);
  g_clear_pointer (&c->train, cs_dataset_free);
  g_clear_pointer (&c->test, cs_dataset_free);
  g_free (c->device);
  g_free (c->image);
  if (c->kind == CMD_INVOKE && c->destroy != NULL)
    c->destroy (c->user_data);
  g_clear_pointer (&c->state, cs_run_state_free);
  g_free (c);
}

static Command *
command_new (CommandKind kind)
{
  Command *c = g_new0 (Command, 1);
  c->kind = kind;
  return c;
}

static guint64
push (CsTrainer *self, Command *c)
{
  cs_mutex_lock (&self->lock);
  if (c->kind == CMD_RESET || c->kind == CMD_MODEL || c->kind == CMD_DATASET
      || c->kind == CMD_RESTORE)
    c->generation = ++self->generation_queued;
  guint64 gen = self->generation_queued;
  g_queue_push_tail (&self->commands, c);
  self->idle = FALSE;
  g_cond_signal (&self->wake);
  cs_mutex_unlock (&self->lock);
  return gen;
}

static void
apply_batch_size (CsTrainer *self, int batch_size)
{
  Run *r = &self->run;
  g_autoptr(GError) error = NULL;

  g_clear_pointer (&r->evaluator, cs_evaluator_free);
  if (!cs_model_reserve (r->model, batch_size, &error))
    {
      report_error (self, "batch size %d: %s", batch_size, error->message);
      return;
    }
  r->batch_size = batch_size;
  ensure_buffers (r);
  cs_batcher_set_batch_size (r->batcher, (guint32) batch_size);
}

static void
apply_model (CsTrainer *self, Command *c)
{
  Run *r = &self->run;
  g_autoptr(GError) error = NULL;

  if (!check_fit (c->model, r->train, &error) || !check_fit (c->model, r->test, &error)
      || !cs_model_reserve (c->model, r->batch_size, &error))
    {
      report_error (self, "%s", error->message);
      renumber (self, c->generation, FALSE);
      return;
    }
  /* On the device the run is on, if it can be had. */
  const CsBackend *be = cs_model_get_backend (r->model);
  if (!cs_model_set_device (c->model, be, &error))
    {
      report_error (self, "the model stays on the CPU: %s", error->message);
      g_clear_error (&error);
    }
  free_trackers (r);
  free_buffers (r);
  g_clear_pointer (&r->opt, cs_optimizer_free);
  g_clear_pointer (&r->watch, cs_model_free);
  g_clear_pointer (&r->evaluator, cs_evaluator_free);
  cs_model_free (r->model);
  r->model = g_steal_pointer (&c->model);
  /* A drawn image the new model cannot take: back to the first example. */
  if (r->watch_index < 0
      && (gsize) cs_shape_numel (cs_model_get_input_shape (r->model)) != r->watch_image_n)
    {
      g_clear_pointer (&r->watch_image, g_free);
      r->watch_index = 0;
    }
  start_run (self, c->generation);
}

static void
apply_dataset (CsTrainer *self, Command *c)
{
  Run *r = &self->run;
  g_autoptr(GError) error = NULL;

  if (!check_fit (r->model, c->train, &error) || !check_fit (r->model, c->test, &error))
    {
      report_error (self, "%s", error->message);
      renumber (self, c->generation, FALSE);
      return;
    }
  g_clear_pointer (&r->batcher, cs_batcher_free);   /* it reads the old split */
  g_clear_pointer (&r->evaluator, cs_evaluator_free);
  cs_dataset_free (r->train);
  g_clear_pointer (&r->test, cs_dataset_free);
  r->train = g_steal_pointer (&c->train);
  r->test = g_steal_pointer (&c->test);
  const CsDataset *watched = r->test ? r->test : r->train;
  if (r->watch_index >= (int) watched->n)
    r->watch_index = 0;
  start_run (self, c->generation);
}

static void
apply_backend (CsTrainer *self, const CsBackend *be)
{
  Run *r = &self->run;
  g_autoptr(GError) error = NULL;
  const CsBackend *old = cs_model_get_backend (r->model);

  if (be == old)
    return;
  if (!cs_model_set_device (r->model, be, &error))
    {
      report_error (self, "%s: %s; training stays on %s", be->name, error->message, old->name);
      return;
    }
  r->next_measure = 0;
}

static void
apply_device (CsTrainer *self, const char *name)
{
  Run *r = &self->run;
  g_autoptr(GError) error = NULL;
  const CsBackend *be = cs_backend_for_device (name, &error);

  if (be == NULL)
    {
      report_error (self, "device “%s”: %s; training stays on %s", name, error->message,
                    cs_model_get_backend (r->model)->name);
      return;
    }
  apply_backend (self, be);
}

static void
apply_watch (CsTrainer *self, guint64 index)
{
  Run *r = &self->run;
  const CsDataset *ds = r->test ? r->test : r->train;

  if (index >= ds->n)
    {
      report_error (self, "there is no example %" G_GUINT64_FORMAT " to watch: %s has %u",
                    index, ds->name, ds->n);
      return;
    }
  r->watch_index = (int) index;
  g_clear_pointer (&r->watch_image, g_free);
  r->snapshot_now = TRUE;
}

static void
apply_watch_image (CsTrainer *self, Command *c)
{
  Run *r = &self->run;
  gsize in_n = (gsize) cs_shape_numel (cs_model_get_input_shape (r->model));
  gint64 classes = cs_shape_numel (cs_model_get_output_shape (r->model));

  if (c->n != in_n)
    {
      report_error (self, "an image of %" G_GUINT64_FORMAT " values cannot be watched: "
                    "the model takes %" G_GSIZE_FORMAT, c->n, in_n);
      return;
    }
  g_free (r->watch_image);
  r->watch_image = g_steal_pointer (&c->image);
  r->watch_image_n = in_n;
  r->watch_index = -1;
  r->watch_label = c->label >= 0 && c->label < classes ? c->label : -1;
  r->snapshot_now = TRUE;
}

/* ---- rewind and experiments: the commands --------------------------------- */

static void
end_viewing (Run *r)
{
  if (r->viewing < 0)
    return;
  r->viewing = -1;
  r->snapshot_now = TRUE;
}

static void
apply_show_checkpoint (CsTrainer *self, gint64 step)
{
  Run *r = &self->run;
  if (step < 0)
    {
      end_viewing (r);
      return;
    }
  int i = find_checkpoint (self, step);
  if (i < 0)
    return;
  pause_run (r);
  r->viewing = i;
  r->snapshot_now = TRUE;
}

static void
apply_rewind (CsTrainer *self, gint64 step)
{
  Run *r = &self->run;
  CsTrainerStatus *s = &r->status;
  g_autoptr(GError) error = NULL;

  int i = find_checkpoint (self, step);
  if (i < 0)
    return;
  const Checkpoint *c = &r->checkpoints[i];
  float *dst = cs_model_read_block (r->model, &error);
  gsize P = cs_model_get_n_params (r->model), B = cs_model_get_n_buffers (r->model);
  if (dst != NULL)
    {
      memcpy (dst, c->block, (4 * P + B) * sizeof (float));
      cs_model_write_block (r->model, &error);
    }
  if (error != NULL)
    {
      report_error (self, "going back to step %" G_GINT64_FORMAT ": %s", step, error->message);
      return;
    }
  pause_run (r);
  _cs_model_set_step (r->model, c->step);
  if (c->optim_kind == r->optim.kind)
    _cs_optimizer_set_step (r->opt, c->progress.optim_step);
  else
    cs_optimizer_reset (r->opt);
  cs_batcher_restore_state (r->batcher, c->batcher);
  r->epoch = c->epoch;
  r->epoch_examples = c->epoch_examples;
  r->epoch_correct = c->epoch_correct;
  r->epoch_loss_sum = c->epoch_loss_sum;
  r->epoch_batches = c->epoch_batches;
  r->batch_n = 0;
  r->window_samples = 0;
  set_progress (s, &c->progress);
  s->optim_step = cs_optimizer_get_step (r->opt);
  s->loss_after = NAN;
  s->samples_per_second = 0.0;
  s->watch_prediction = -1;
  make_trackers (r);   /* dead units: observed afresh */
  r->n_checkpoints = (guint) i + 1;
  r->viewing = -1;
  r->edits++;

  cs_mutex_lock (&self->lock);
  cs_train_history_truncate (self->history, step);
  cs_mutex_unlock (&self->lock);
  diagnose (self);
  r->snapshot_now = TRUE;
}

/* Where unit lies in layer's weight and bias, or FALSE (and why). */
static gboolean
unit_range (CsModel *model, guint layer, guint unit, UnitRange *range, GError **error)
{
  if (layer >= cs_model_get_n_layers (model))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_MISMATCH, "the model has no layer %u", layer);
      return FALSE;
    }
  const char *type = cs_model_get_layer (model, layer)->klass->type;
  if (!g_str_equal (type, "linear") && !g_str_equal (type, "conv2d"))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_UNSUPPORTED,
                   "layer %u is a %s: only a linear layer's units and a convolution's kernels "
                   "can be zeroed or frozen", layer, cs_model_get_layer (model, layer)->klass->title);
      return FALSE;
    }
  *range = (UnitRange) { 0 };
  gboolean has_weight = FALSE;
  for (guint e = 0; e < cs_model_get_n_entries (model); e++)
    {
      const CsModelEntry *entry = cs_model_get_entry (model, e);
      if (entry->layer != layer || entry->param->grad == NULL)
        continue;
      const CsTensor *v = entry->param->value;
      gsize off = cs_model_get_entry_offset (model, entry);
      if (unit >= v->shape[0])
        {
          g_set_error (error, CS_ERROR, CS_ERROR_MISMATCH, "layer %u has %" G_GINT64_FORMAT
                       " units, not %u", layer, v->shape[0], unit + 1);
          return FALSE;
        }
      gsize row = (gsize) (cs_tensor_numel (v) / v->shape[0]);
      if (g_str_has_suffix (entry->name, "weight"))
        {
          range->w_off = off + unit * row;
          range->w_n = row;
          has_weight = TRUE;
        }
      else if (g_str_has_suffix (entry->name, "bias"))
        {
          range->b_off = off + unit;
          range->has_bias = TRUE;
        }
    }
  if (!has_weight)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_MISMATCH, "layer %u has no weight", layer);
      return FALSE;
    }
  return TRUE;
}

/* Runs body for each frozen range: off and n its floats in a part of the
 * block, k where they go in each third of the scratch. */
#define FOR_EACH_FROZEN_RANGE(r, off, n, k, body)                              \
  do {                                                                         \
    gsize k = 0;                                                               \
    for (guint u_ = 0; u_ < (r)->n_frozen; u_++)                               \
      {                                                                        \
        const UnitRange *ur_ = &(r)->frozen_ranges[u_];                        \
        for (int part_ = 0; part_ < 2; part_++)                                \
          {                                                                    \
            if (part_ == 1 && !ur_->has_bias)                                  \
              continue;                                                        \
            gsize off = part_ ? ur_->b_off : ur_->w_off;                       \
            gsize n = part_ ? 1 : ur_->w_n;                                    \
            body;                                                              \
            k += n;                                                            \
          }                                                                    \
      }                                                                        \
  } while (0)

/* The scratch for the frozen units' numbers on the model's device: made
 * when the set or the device changes, never per batch. */
static void
frozen_scratch (Run *r)
{
  const CsBackend *be = cs_model_get_backend (r->model);
  gsize floats = 0;
  for (guint u = 0; u < r->n_frozen; u++)
    floats += r->frozen_ranges[u].w_n + (r->frozen_ranges[u].has_bias ? 1 : 0);
  if (r->frozen_scratch != NULL && r->frozen_be == be && r->frozen_floats == floats)
    return;
  if (r->frozen_scratch != NULL)
    r->frozen_be->free (r->frozen_scratch);
  r->frozen_scratch = floats ? be->alloc (3 * floats * sizeof (float)) : NULL;
  r->frozen_be = be;
  r->frozen_floats = floats;
}

/* Before a step: the frozen units' parameters and optimizer state. */
static void
frozen_save (Run *r)
{
  frozen_scratch (r);
  const CsBackend *be = r->frozen_be;
  gsize P = cs_model_get_n_params (r->model), T = r->frozen_floats;
  const float *p = cs_model_get_params (r->model), *st = cs_model_get_optim_state (r->model);
  float *sc = r->frozen_scratch;
  FOR_EACH_FROZEN_RANGE (r, off, n, k, {
    be->copy (sc + k, p + off, n);
    be->copy (sc + T + k, st + off, n);
    be->copy (sc + 2 * T + k, st + P + off, n);
  });
}

/* After it: the same numbers back, and no gradient shown for them. */
static void
frozen_restore (Run *r)
{
  const CsBackend *be = r->frozen_be;
  gsize P = cs_model_get_n_params (r->model), T = r->frozen_floats;
  float *p = cs_model_get_params (r->model), *st = cs_model_get_optim_state (r->model);
  float *g = cs_model_get_grads (r->model);
  const float *sc = r->frozen_scratch;
  FOR_EACH_FROZEN_RANGE (r, off, n, k, {
    be->copy (p + off, sc + k, n);
    be->copy (st + off, sc + T + k, n);
    be->copy (st + P + off, sc + 2 * T + k, n);
    be->fill (g + off, 0.0f, n);
  });
}

static void
apply_zero_unit (CsTrainer *self, guint layer, guint unit)
{
  Run *r = &self->run;
  g_autoptr(GError) error = NULL;
  UnitRange ur;

  if (!unit_range (r->model, layer, unit, &ur, &error))
    {
      report_error (self, "%s", error->message);
      return;
    }
  const CsBackend *be = cs_model_get_backend (r->model);
  gsize P = cs_model_get_n_params (r->model);
  float *p = cs_model_get_params (r->model);
  /* parameters, gradients and both optimizer states: P apart in the block */
  for (int part = 0; part < 4; part++)
    {
      be->fill (p + part * P + ur.w_off, 0.0f, ur.w_n);
      if (ur.has_bias)
        be->fill (p + part * P + ur.b_off, 0.0f, 1);
    }
  end_viewing (r);
  r->edits++;
  r->snapshot_now = TRUE;
}

static void
apply_freeze_unit (CsTrainer *self, guint layer, guint unit, gboolean frozen)
{
  Run *r = &self->run;
  g_autoptr(GError) error = NULL;
  UnitRange ur;

  if (!unit_range (r->model, layer, unit, &ur, &error))
    {
      report_error (self, "%s", error->message);
      return;
    }
  guint i = 0;
  while (i < r->n_frozen && (r->frozen[i].layer != layer || r->frozen[i].unit != unit))
    i++;
  gboolean is_frozen = i < r->n_frozen;
  if (frozen == is_frozen)
    return;
  if (frozen)
    {
      if (r->n_frozen == CS_TRAINER_MAX_FROZEN)
        {
          report_error (self, "at most %d units can be frozen at once", CS_TRAINER_MAX_FROZEN);
          return;
        }
      r->frozen[r->n_frozen] = (CsTrainerUnit) { layer, unit };
      r->frozen_ranges[r->n_frozen] = ur;
      r->n_frozen++;
    }
  else
    {
      memmove (&r->frozen[i], &r->frozen[i + 1], (r->n_frozen - 1 - i) * sizeof r->frozen[0]);
      memmove (&r->frozen_ranges[i], &r->frozen_ranges[i + 1],
               (r->n_frozen - 1 - i) * sizeof r->frozen_ranges[0]);
      r->n_frozen--;
    }
  frozen_scratch (r);
  r->edits++;
}

/* ---- sessions ------------------------------------------------------------- */

gboolean
cs_trainer_capture (CsTrainer *self, CsRunState *state, GError **error)
{
  g_return_val_if_fail (self != NULL && state != NULL, FALSE);
  Run *r = &self->run;
  g_return_val_if_fail (g_thread_self () == r->thread, FALSE);

  const float *src = cs_model_read_block (r->model, error);
  if (src == NULL)
    return FALSE;

  /* A model of the same description is reused: one copy of the block. */
  if (state->model != NULL
      && (state->seed != r->seed
          || strcmp (cs_model_get_json (state->model), cs_model_get_json (r->model)) != 0))
    g_clear_pointer (&state->model, cs_model_free);
  if (state->model == NULL)
    {
      state->model = cs_model_new_from_json (cs_model_get_json (r->model), -1, error);
      if (state->model == NULL)
        return FALSE;
      cs_model_init (state->model, r->seed);   /* the layers' seeds: dropout */
    }
  gsize P = cs_model_get_n_params (r->model), B = cs_model_get_n_buffers (r->model);
  memcpy (cs_model_read_block (state->model, NULL), src, (4 * P + B) * sizeof (float));
  for (guint i = 0; i < cs_model_get_n_entries (r->model); i++)
    {
      const CsModelEntry *from = cs_model_get_entry (r->model, i);
      const CsModelEntry *to = cs_model_get_entry (state->model, i);
      if (from->param->role == CS_BUFFER_COUNTER)
        *to->param->counter = *from->param->counter;
    }
  _cs_model_set_step (state->model, cs_model_get_step (r->model));

  state->seed = r->seed;
  state->optim_step = cs_optimizer_get_step (r->opt);
  state->optim = r->optim;
  state->batch_size = r->batch_size;
  state->evaluate_each_epoch = r->evaluate_each_epoch;

  if (g_strcmp0 (state->dataset, r->train->name) != 0)
    {
      g_free (state->dataset);
      state->dataset = g_strdup (r->train->name);
    }
  if (state->order == NULL || state->train_examples != r->train->n)
    {
      g_free (state->order);
      state->order = g_new (guint32, r->train->n);
    }
  state->train_examples = r->train->n;
  state->test_examples = r->test ? r->test->n : 0;
  cs_batcher_save (r->batcher, state->order, &state->pos, &state->epoch, &state->rng);

  state->epoch_examples = r->epoch_examples;
  state->epoch_correct = r->epoch_correct;
  state->epoch_loss_sum = r->epoch_loss_sum;
  state->epoch_batches = r->epoch_batches;
  const CsTrainerStatus *s = &r->status;
  state->examples_seen = s->examples_seen;
  state->loss = s->loss;
  state->running_loss = s->running_loss;
  state->running_accuracy = s->running_accuracy;
  state->test_loss = s->test_loss;
  state->test_accuracy = s->test_accuracy;
  state->test_step = s->test_step;

  state->watch_index = r->watch_index;
  state->watch_label = r->watch_label;
  if (r->watch_index < 0)
    {
      if (state->watch_image_n != r->watch_image_n)
        {
          g_free (state->watch_image);
          state->watch_image = g_new (float, r->watch_image_n);
          state->watch_image_n = r->watch_image_n;
        }
      memcpy (state->watch_image, r->watch_image, r->watch_image_n * sizeof (float));
    }

  G_STATIC_ASSERT (CS_RUN_STATE_MAX_FROZEN == CS_TRAINER_MAX_FROZEN);
  state->n_frozen = r->n_frozen;
  for (guint i = 0; i < r->n_frozen; i++)
    {
      state->frozen[i][0] = r->frozen[i].layer;
      state->frozen[i][1] = r->frozen[i].unit;
    }

  cs_mutex_lock (&self->lock);
  cs_train_history_sync (state->history, self->history);
  cs_mutex_unlock (&self->lock);
  return TRUE;
}

static void
apply_restore (CsTrainer *self, Command *c)
{
  Run *r = &self->run;
  CsRunState *st = c->state;
  g_autoptr(GError) error = NULL;

  if (st->train_examples != r->train->n || g_strcmp0 (st->dataset, r->train->name) != 0)
    g_set_error (&error, CS_ERROR, CS_ERROR_MISMATCH,
                 "the session trained on %s (%u examples), not on %s (%u)",
                 st->dataset, st->train_examples, r->train->name, r->train->n);
  else if (check_fit (st->model, r->train, &error) && check_fit (st->model, r->test, &error)
           && cs_model_reserve (st->model, st->batch_size, &error))
    {
      const CsBackend *be = cs_model_get_backend (r->model);
      if (!cs_model_set_device (st->model, be, &error))
        {
          report_error (self, "the model stays on the CPU: %s", error->message);
          g_clear_error (&error);
        }
    }
  if (error != NULL)
    {
      report_error (self, "%s", error->message);
      renumber (self, c->generation, FALSE);
      return;
    }

  free_trackers (r);
  free_buffers (r);
  g_clear_pointer (&r->opt, cs_optimizer_free);
  g_clear_pointer (&r->watch, cs_model_free);
  g_clear_pointer (&r->batcher, cs_batcher_free);
  g_clear_pointer (&r->evaluator, cs_evaluator_free);
  cs_model_free (r->model);
  r->model = g_steal_pointer (&st->model);
  r->seed = st->seed;
  r->optim = st->optim;
  r->batch_size = st->batch_size;
  r->evaluate_each_epoch = st->evaluate_each_epoch;
  r->opt = cs_optimizer_new_resumed (r->model, &r->optim, st->optim_step);
  r->batcher = cs_batcher_new (r->train, (guint32) r->batch_size, r->seed);
  if (!cs_batcher_restore (r->batcher, st->order, st->pos, st->epoch, &st->rng, &error))
    report_error (self, "the batch order: %s; the epoch starts again", error->message);
  ensure_buffers (r);
  r->batch_n = 0;
  make_trackers (r);

  r->playing = FALSE;
  r->steps_left = 0;
  r->epoch = st->epoch;
  r->epoch_examples = st->epoch_examples;
  r->epoch_correct = st->epoch_correct;
  r->epoch_loss_sum = st->epoch_loss_sum;
  r->epoch_batches = st->epoch_batches;
  r->window_samples = 0;

  gsize in_n = (gsize) cs_shape_numel (cs_model_get_input_shape (r->model));
  const CsDataset *watched = r->test ? r->test : r->train;
  g_clear_pointer (&r->watch_image, g_free);
  r->watch_index = 0;
  r->watch_label = -1;
  if (st->watch_index < 0 && st->watch_image != NULL && st->watch_image_n == in_n)
    {
      r->watch_image = g_steal_pointer (&st->watch_image);
      r->watch_image_n = in_n;
      r->watch_index = -1;
      r->watch_label = st->watch_label;
    }
  else if (st->watch_index >= 0 && (guint) st->watch_index < watched->n)
    r->watch_index = st->watch_index;

  CsTrainerStatus *s = &r->status;
  s->state = CS_TRAINER_PAUSED;
  s->step = cs_model_get_step (r->model);
  s->optim_step = st->optim_step;
  s->epoch = st->epoch;
  s->batch = st->epoch_batches;
  s->examples_seen = st->examples_seen;
  s->loss = st->loss;
  s->loss_after = NAN;
  s->running_loss = st->running_loss;
  s->running_accuracy = st->running_accuracy;
  s->test_loss = st->test_loss;
  s->test_accuracy = st->test_accuracy;
  s->test_step = st->test_step;
  s->samples_per_second = 0.0;
  s->snapshot_ms = 0.0;
  s->eval_seconds = 0;
  s->watch_prediction = -1;
  s->diagnoses = 0;
  s->diagnosis[0] = '\0';
  /* the units the session froze, and the first checkpoint to rewind to */
  r->n_frozen = 0;
  r->edits = 0;
  for (guint i = 0; i < MIN (st->n_frozen, CS_TRAINER_MAX_FROZEN); i++)
    apply_freeze_unit (self, st->frozen[i][0], st->frozen[i][1], TRUE);
  start_checkpoints (self);
  describe_run (r);

  renumber (self, c->generation, TRUE);
  cs_mutex_lock (&self->lock);
  st->history->generation = c->generation;
  if (st->history->n_layers == self->history->n_layers)
    cs_train_history_sync (self->history, st->history);
  cs_mutex_unlock (&self->lock);
  diagnose (self);
  r->notify_now = r->snapshot_now = TRUE;
}

static void
apply (CsTrainer *self, Command *c)
{
  Run *r = &self->run;

  switch (c->kind)
    {
    case CMD_PLAY:
      end_viewing (r);
      r->playing = TRUE;
      r->steps_left = 0;
      break;
    case CMD_PAUSE:
      pause_run (r);
      break;
    case CMD_STEP:
      end_viewing (r);
      r->playing = FALSE;
      r->steps_left += c->n;
      break;
    case CMD_RESET:
      start_run (self, c->generation);
      break;
    case CMD_SEED:
      r->seed = c->n;
      break;
    case CMD_OPTIM:
      r->optim = c->optim;
      cs_optimizer_set_config (r->opt, &r->optim);
      r->status.optim_step = cs_optimizer_get_step (r->opt);
      break;
    case CMD_LR:
      r->optim.hp.lr = (float) c->lr;
      cs_optimizer_set_config (r->opt, &r->optim);
      break;
    case CMD_BATCH_SIZE:
      apply_batch_size (self, (int) c->n);
      break;
    case CMD_MODEL:
      apply_model (self, c);
      break;
    case CMD_DATASET:
      apply_dataset (self, c);
      break;
    case CMD_DEVICE:
      apply_device (self, c->device);
      break;
    case CMD_BACKEND:
      apply_backend (self, c->backend);
      break;
    case CMD_EVALUATE:
      evaluate (self);
      break;
    case CMD_EVALUATE_EACH_EPOCH:
      r->evaluate_each_epoch = c->flag;
      break;
    case CMD_WATCH:
      apply_watch (self, c->n);
      break;
    case CMD_WATCH_IMAGE:
      apply_watch_image (self, c);
      break;
    case CMD_SNAPSHOT_FUNC:
      r->snapshot_func = (CsTrainerSnapshotFunc) c->func;
      r->snapshot_data = c->user_data;
      r->snapshot_free = c->destroy;
      r->snapshot_now = c->func != NULL;
      break;
    case CMD_REQUEST_SNAPSHOT:
      r->snapshot_now = TRUE;
      break;
    case CMD_INTERVALS:
      r->status_interval_us = (gint64) c->n2 * 1000;
      r->snapshot_interval_us = (gint64) c->n3 * 1000;
      break;
    case CMD_INVOKE:
      ((CsTrainerFunc) c->func) (self, r->model, r->opt, c->user_data);
      break;
    case CMD_SHOW_CHECKPOINT:
      apply_show_checkpoint (self, c->step);
      break;
    case CMD_REWIND:
      apply_rewind (self, c->step);
      break;
    case CMD_ZERO_UNIT:
      apply_zero_unit (self, c->n2, c->n3);
      break;
    case CMD_FREEZE_UNIT:
      apply_freeze_unit (self, c->n2, c->n3, c->flag);
      break;
    case CMD_RESTORE:
      apply_restore (self, c);
      break;
    default:
      g_assert_not_reached ();
    }
  describe_run (r);
  r->notify_now = TRUE;
}

static gpointer
trainer_thread (gpointer data)
{
  CsTrainer *self = data;
  Run *r = &self->run;

  r->thread = g_thread_self ();
  for (;;)
    {
      gboolean prepare = FALSE;
      cs_mutex_lock (&self->lock);
      while (!self->quit && g_queue_is_empty (&self->commands) && !running (r))
        {
          if (!self->idle)
            {
              self->idle = TRUE;
              g_cond_broadcast (&self->idle_cond);
            }
          if ((prepare = checkpoint_to_prepare (r)))
            break;
          cs_cond_wait (&self->wake, &self->lock);
        }
      if (self->quit)
        {
          cs_mutex_unlock (&self->lock);
          break;
        }
      GQueue todo = self->commands;
      g_queue_init (&self->commands);
      cs_mutex_unlock (&self->lock);

      if (prepare)
        {
          /* nothing else to do: a checkpoint's buffer, then a look at
           * the commands again; the status says so once all are ready */
          prepare_checkpoint (r);
          if (checkpoint_to_prepare (r))
            continue;
          r->notify_now = TRUE;
        }
      for (Command *c; (c = g_queue_pop_head (&todo)) != NULL;)
        {
          apply (self, c);
          command_free (c);
        }
      if (running (r))
        train_batch (self);
      publish (self);
    }
  return NULL;
}

/* ---- construction -------------------------------------------------------- */

static gboolean
check_batch_size (int batch_size, GError **error)
{
  if (batch_size >= 1 && batch_size <= MAX_BATCH)
    return TRUE;
  g_set_error (error, CS_ERROR, CS_ERROR_UNSUPPORTED,
               "a batch size of %d: give a number from 1 to %d", batch_size, MAX_BATCH);
  return FALSE;
}

CsTrainer *
cs_trainer_new (CsModel *model, CsDataset *train, CsDataset *test,
                const CsTrainerConfig *config, GError **error)
{
  g_autoptr(CsModel) m = model;
  g_autoptr(CsDataset) tr = train;
  g_autoptr(CsDataset) te = test;
  g_return_val_if_fail (model != NULL && train != NULL, NULL);

  CsTrainerConfig defaults;
  if (config == NULL)
    {
      cs_trainer_config_init (&defaults);
      config = &defaults;
    }
  if (!cs_optim_config_validate (&config->optim, error)
      || !check_batch_size (config->batch_size, error)
      || !check_fit (model, train, error) || !check_fit (model, test, error)
      || !cs_model_reserve (model, config->batch_size, error))
    return NULL;

  CsTrainer *self = g_new0 (CsTrainer, 1);
  g_mutex_init (&self->lock);
  g_cond_init (&self->wake);
  g_cond_init (&self->idle_cond);
  g_queue_init (&self->commands);
  self->history = cs_train_history_new (0, NULL);

  Run *r = &self->run;
  r->model = g_steal_pointer (&m);
  r->train = g_steal_pointer (&tr);
  r->test = g_steal_pointer (&te);
  r->optim = config->optim;
  r->batch_size = config->batch_size;
  r->seed = config->seed;
  r->evaluate_each_epoch = config->evaluate_each_epoch;
  r->status_interval_us = (gint64) config->status_interval_ms * 1000;
  r->snapshot_interval_us = (gint64) config->snapshot_interval_ms * 1000;
  r->watch_index = 0;
  r->watch_label = -1;
  r->message = g_string_new (NULL);
  cs_diagnose_config_init (&r->diagnose);
  r->checkpoint_interval = config->checkpoint_interval;
  r->checkpoint_spacing_us = (gint64) config->checkpoint_spacing_ms * 1000;
  r->max_checkpoints = MIN (config->max_checkpoints, CS_TRAINER_MAX_CHECKPOINTS);
  r->checkpoint_bytes = config->checkpoint_bytes;
  r->checkpoints = g_new0 (Checkpoint, CS_TRAINER_MAX_CHECKPOINTS);
  r->viewing = -1;
  cs_train_history_set_limits (self->history, &config->history);

  /* Generation 1 (0 is "none": a command that failed at once). */
  self->generation_queued = 1;
  start_run (self, 1);
  self->status = r->status;

  self->thread = g_thread_new ("cs-trainer", trainer_thread, self);
  return self;
}

void
cs_trainer_free (CsTrainer *self)
{
  if (self == NULL)
    return;

  cs_mutex_lock (&self->lock);
  self->quit = TRUE;
  g_cond_signal (&self->wake);
  cs_mutex_unlock (&self->lock);
  g_thread_join (self->thread);

  /* Alone now, but for an update source still queued in its context. */
  if (self->pending != NULL)
    {
      g_source_destroy (self->pending);
      g_clear_pointer (&self->pending, g_source_unref);
    }
  for (Command *c; (c = g_queue_pop_head (&self->commands)) != NULL;)
    command_free (c);
  if (self->slot != NULL && self->slot_free != NULL)
    self->slot_free (self->slot);
  if (self->update_data_free != NULL)
    self->update_data_free (self->update_data);
  g_clear_pointer (&self->context, g_main_context_unref);

  Run *r = &self->run;
  free_trackers (r);
  free_buffers (r);
  g_clear_pointer (&r->watch, cs_model_free);
  g_clear_pointer (&r->evaluator, cs_evaluator_free);
  g_clear_pointer (&r->opt, cs_optimizer_free);
  g_clear_pointer (&r->batcher, cs_batcher_free);
  g_clear_pointer (&r->train, cs_dataset_free);
  g_clear_pointer (&r->test, cs_dataset_free);
  g_clear_pointer (&r->model, cs_model_free);
  g_free (r->watch_image);
  g_free (r->host_scratch);
  g_string_free (r->message, TRUE);
  free_checkpoints (r);
  g_free (r->checkpoints);
  if (r->frozen_scratch != NULL)
    r->frozen_be->free (r->frozen_scratch);

  cs_train_history_free (self->history);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->wake);
  g_cond_clear (&self->idle_cond);
  g_free (self);
}

/* ---- the commands' public side ------------------------------------------- */

void
cs_trainer_play (CsTrainer *self)
{
  g_return_if_fail (self != NULL);
  push (self, command_new (CMD_PLAY));
}

void
cs_trainer_pause (CsTrainer *self)
{
  g_return_if_fail (self != NULL);
  push (self, command_new (CMD_PAUSE));
}

void
cs_trainer_step (CsTrainer *self, guint n)
{
  g_return_if_fail (self != NULL);
  Command *c = command_new (CMD_STEP);
  c->n = n;
  push (self, c);
}

guint64
cs_trainer_reset (CsTrainer *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return push (self, command_new (CMD_RESET));
}

void
cs_trainer_set_seed (CsTrainer *self, guint64 seed)
{
  g_return_if_fail (self != NULL);
  Command *c = command_new (CMD_SEED);
  c->n = seed;
  push (self, c);
}

gboolean
cs_trainer_set_optim (CsTrainer *self, const CsOptimConfig *config, GError **error)
{
  g_return_val_if_fail (self != NULL && config != NULL, FALSE);
  if (!cs_optim_config_validate (config, error))
    return FALSE;
  Command *c = command_new (CMD_OPTIM);
  c->optim = *config;
  push (self, c);
  return TRUE;
}

gboolean
cs_trainer_set_learning_rate (CsTrainer *self, double lr, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  if (!(lr > 0.0 && lr <= 10.0))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_UNSUPPORTED,
                   "a learning rate of %g: it must be above 0 and at most 10", lr);
      return FALSE;
    }
  Command *c = command_new (CMD_LR);
  c->lr = lr;
  push (self, c);
  return TRUE;
}

gboolean
cs_trainer_set_batch_size (CsTrainer *self, int batch_size, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  if (!check_batch_size (batch_size, error))
    return FALSE;
  Command *c = command_new (CMD_BATCH_SIZE);
  c->n = (guint64) batch_size;
  push (self, c);
  return TRUE;
}

guint64
cs_trainer_set_model (CsTrainer *self, CsModel *model)
{
  g_return_val_if_fail (self != NULL && model != NULL, 0);
  Command *c = command_new (CMD_MODEL);
  c->model = model;
  return push (self, c);
}

guint64
cs_trainer_set_model_preset (CsTrainer *self, const char *name, GError **error)
{
  g_return_val_if_fail (self != NULL && name != NULL, 0);
  CsModel *model = cs_model_new_preset (name, error);
  return model ? cs_trainer_set_model (self, model) : 0;
}

guint64
cs_trainer_set_model_json (CsTrainer *self, const char *json, gssize length, GError **error)
{
  g_return_val_if_fail (self != NULL && json != NULL, 0);
  CsModel *model = cs_model_new_from_json (json, length, error);
  return model ? cs_trainer_set_model (self, model) : 0;
}

guint64
cs_trainer_set_dataset (CsTrainer *self, CsDataset *train, CsDataset *test)
{
  g_return_val_if_fail (self != NULL && train != NULL, 0);
  Command *c = command_new (CMD_DATASET);
  c->train = train;
  c->test = test;
  return push (self, c);
}

void
cs_trainer_set_device (CsTrainer *self, const char *device)
{
  g_return_if_fail (self != NULL && device != NULL);
  Command *c = command_new (CMD_DEVICE);
  c->device = g_strdup (device);
  push (self, c);
}

void
cs_trainer_set_backend (CsTrainer *self, const CsBackend *backend)
{
  g_return_if_fail (self != NULL && backend != NULL);
  Command *c = command_new (CMD_BACKEND);
  c->backend = backend;
  push (self, c);
}

void
cs_trainer_evaluate (CsTrainer *self)
{
  g_return_if_fail (self != NULL);
  push (self, command_new (CMD_EVALUATE));
}

void
cs_trainer_set_evaluate_each_epoch (CsTrainer *self, gboolean each_epoch)
{
  g_return_if_fail (self != NULL);
  Command *c = command_new (CMD_EVALUATE_EACH_EPOCH);
  c->flag = each_epoch;
  push (self, c);
}

void
cs_trainer_watch (CsTrainer *self, guint test_index)
{
  g_return_if_fail (self != NULL);
  Command *c = command_new (CMD_WATCH);
  c->n = test_index;
  push (self, c);
}

void
cs_trainer_watch_image (CsTrainer *self, const float *pixels, gsize n, int label)
{
  g_return_if_fail (self != NULL && pixels != NULL);
  Command *c = command_new (CMD_WATCH_IMAGE);
  c->image = g_memdup2 (pixels, n * sizeof (float));
  c->n = n;
  c->label = label;
  push (self, c);
}

void
cs_trainer_set_snapshot_func (CsTrainer *self, CsTrainerSnapshotFunc func, gpointer user_data,
                              GDestroyNotify snapshot_free)
{
  g_return_if_fail (self != NULL);
  Command *c = command_new (CMD_SNAPSHOT_FUNC);
  c->func = (gpointer) func;
  c->user_data = user_data;
  c->destroy = snapshot_free;
  push (self, c);
}

void
cs_trainer_request_snapshot (CsTrainer *self)
{
  g_return_if_fail (self != NULL);
  push (self, command_new (CMD_REQUEST_SNAPSHOT));
}

void
cs_trainer_set_intervals (CsTrainer *self, guint status_ms, guint snapshot_ms)
{
  g_return_if_fail (self != NULL);
  Command *c = command_new (CMD_INTERVALS);
  c->n2 = status_ms;
  c->n3 = snapshot_ms;
  push (self, c);
}

void
cs_trainer_invoke (CsTrainer *self, CsTrainerFunc func, gpointer user_data,
                   GDestroyNotify user_data_free)
{
  g_return_if_fail (self != NULL && func != NULL);
  Command *c = command_new (CMD_INVOKE);
  c->func = (gpointer) func;
  c->user_data = user_data;
  c->destroy = user_data_free;
  push (self, c);
}

void
cs_trainer_show_checkpoint (CsTrainer *self, gint64 step)
{
  g_return_if_fail (self != NULL);
  Command *c = command_new (CMD_SHOW_CHECKPOINT);
  c->step = step;
  push (self, c);
}

void
cs_trainer_rewind (CsTrainer *self, gint64 step)
{
  g_return_if_fail (self != NULL && step >= 0);
  Command *c = command_new (CMD_REWIND);
  c->step = step;
  push (self, c);
}

void
cs_trainer_zero_unit (CsTrainer *self, guint layer, guint unit)
{
  g_return_if_fail (self != NULL);
  Command *c = command_new (CMD_ZERO_UNIT);
  c->n2 = layer;
  c->n3 = unit;
  push (self, c);
}

void
cs_trainer_freeze_unit (CsTrainer *self, guint layer, guint unit, gboolean frozen)
{
  g_return_if_fail (self != NULL);
  Command *c = command_new (CMD_FREEZE_UNIT);
  c->n2 = layer;
  c->n3 = unit;
  c->flag = frozen;
  push (self, c);
}

gboolean
cs_trainer_status_is_frozen (const CsTrainerStatus *status, guint layer, guint unit)
{
  g_return_val_if_fail (status != NULL, FALSE);
  for (guint i = 0; i < MIN (status->n_frozen, CS_TRAINER_MAX_FROZEN); i++)
    if (status->frozen[i].layer == layer && status->frozen[i].unit == unit)
      return TRUE;
  return FALSE;
}

guint64
cs_trainer_restore (CsTrainer *self, CsRunState *state)
{
  g_return_val_if_fail (self != NULL && state != NULL && state->model != NULL, 0);
  Command *c = command_new (CMD_RESTORE);
  c->state = state;
  return push (self, c);
}

/* ---- what comes back ------------------------------------------------------ */

void
cs_trainer_set_update_func (CsTrainer *self, GMainContext *context, CsTrainerUpdateFunc func,
                            gpointer user_data, GDestroyNotify user_data_free)
{
  g_return_if_fail (self != NULL);

  GMainContext *ctx = context ? g_main_context_ref (context)
                              : g_main_context_ref_thread_default ();
  cs_mutex_lock (&self->lock);
  GMainContext *old_context = self->context;
  gpointer old_data = self->update_data;
  GDestroyNotify old_free = self->update_data_free;
  self->context = ctx;
  self->update_func = func;
  self->update_data = user_data;
  self->update_data_free = user_data_free;
  /* the newest status at once */
  GSource *source = queue_update_locked (self);
  GMainContext *attach_to = source ? g_main_context_ref (ctx) : NULL;
  cs_mutex_unlock (&self->lock);

  attach (source, attach_to);
  if (old_context != NULL)
    g_main_context_unref (old_context);
  if (old_free != NULL)
    old_free (old_data);
}

guint
cs_trainer_peek_batch (CsTrainer     *self,
                       const float  **x,
                       const gint32 **labels,
                       const float  **probs,
                       const float  **probs_after)
{
  g_return_val_if_fail (self != NULL, 0);
  const Run *r = &self->run;
  g_return_val_if_fail (g_thread_self () == r->thread, 0);
  /* a checkpoint shown has no batch of its own at hand */
  guint n = r->viewing >= 0 ? 0 : r->batch_n;

  if (x != NULL)
    *x = n ? r->x : NULL;
  if (labels != NULL)
    *labels = n ? r->y : NULL;
  if (probs != NULL)
    *probs = n ? r->probs : NULL;
  if (probs_after != NULL)
    *probs_after = n && isfinite (r->status.loss_after) ? r->probs_after : NULL;
  return n;
}

void
cs_trainer_get_status (CsTrainer *self, CsTrainerStatus *status)
{
  g_return_if_fail (self != NULL && status != NULL);
  cs_mutex_lock (&self->lock);
  *status = self->status;
  cs_mutex_unlock (&self->lock);
}

gpointer
cs_trainer_take_snapshot (CsTrainer *self, guint64 *generation)
{
  g_return_val_if_fail (self != NULL, NULL);

  gpointer snap = NULL, stale = NULL;
  GDestroyNotify stale_free = NULL;
  cs_mutex_lock (&self->lock);
  if (self->slot != NULL && self->slot_generation >= self->generation_queued)
    {
      snap = g_steal_pointer (&self->slot);
      if (generation != NULL)
        *generation = self->slot_generation;
    }
  else if (self->slot != NULL)
    {
      stale = g_steal_pointer (&self->slot);
      stale_free = self->slot_free;
    }
  cs_mutex_unlock (&self->lock);
  if (stale != NULL && stale_free != NULL)
    stale_free (stale);
  return snap;
}

void
cs_trainer_sync_history (CsTrainer *self, CsTrainHistory *history)
{
  g_return_if_fail (self != NULL && history != NULL);
  cs_mutex_lock (&self->lock);
  cs_train_history_sync (history, self->history);
  cs_mutex_unlock (&self->lock);
}

gboolean
cs_trainer_wait_idle (CsTrainer *self, gint64 timeout_us)
{
  g_return_val_if_fail (self != NULL, FALSE);
  gint64 end = g_get_monotonic_time () + timeout_us;
  cs_mutex_lock (&self->lock);
  while (!self->idle)
    if (!cs_cond_wait_until (&self->idle_cond, &self->lock, end))
      break;
  gboolean idle = self->idle;
  cs_mutex_unlock (&self->lock);
  return idle;
}
