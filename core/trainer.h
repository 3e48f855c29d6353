/* trainer.h — a network training on a thread of its own
 *
 * A CsTrainer owns a model, its optimizer, the training and test splits and
 * the batcher, and trains on its own thread (DESIGN.md §2). Any thread
 * drives it with commands — play, pause, step, reset, new settings — which
 * are queued and applied by the trainer between two batches: a command
 * costs its caller one short mutex, never a wait for training.
 *
 * What it does comes back three ways, none of which makes training wait:
 *
 *   status     a small struct (CsTrainerStatus) written after every batch
 *              into a latest-wins slot: cs_trainer_get_status () copies the
 *              newest from any thread.
 *   history    one record per batch and per evaluation (core/diagnostics.h),
 *              brought up to date incrementally by cs_trainer_sync_history ().
 *   snapshots  a hook, CsTrainerSnapshotFunc, called on the trainer's
 *              thread between batches with a CPU model holding the current
 *              weights and the watched example's activations and gradients,
 *              for the application to copy what its views draw; what the
 *              hook returns goes into the latest-wins slot, replacing (and
 *              freeing) one not yet taken.
 *
 * With an update function and a GMainContext (cs_trainer_set_update_func ())
 * the trainer wakes that context when there is something new, with an idle
 * source of which there is never more than one pending: the function gets
 * the newest status and the newest snapshot, and whatever came in between
 * was simply overwritten. Statuses and snapshots from before a reset or a
 * change of model or dataset — an older generation — are never delivered
 * after the command that ends their generation has returned.
 *
 * Policy (explicit, and cheap):
 *   - the status is written after every batch (a struct copy under the lock);
 *   - the update function runs at most once per status interval (default
 *     1/60 s) while training runs, and at once with a new snapshot and
 *     after a step ends, a pause, a reset, an evaluation, an error or any
 *     other command;
 *   - the snapshot hook runs at most once per snapshot interval (default
 *     100 ms) while training runs, and at once after the same events (and
 *     cs_trainer_request_snapshot ()); never without a hook;
 *   - the per-layer gradient norms and the dead-unit counts are measured
 *     after every batch on the CPU (a pass over the gradients and the ReLU
 *     outputs), at the snapshot cadence on a GPU (where they cost a copy);
 *   - the diagnostics (core/diagnostics.h) are read after every batch; a
 *     NaN or infinite loss pauses training.
 */
#pragma once

#include <glib.h>

#include "backend.h"
#include "dataset.h"
#include "diagnostics.h"
#include "model.h"
#include "optim.h"
#include "session-file.h"

G_BEGIN_DECLS

typedef struct _CsTrainer CsTrainer;

typedef enum
{
  CS_TRAINER_PAUSED,
  CS_TRAINER_PLAYING,
  CS_TRAINER_STEPPING,      /* running the batches of a cs_trainer_step () */
} CsTrainerState;

#define CS_TRAINER_TEXT_MAX 1024
#define CS_TRAINER_MAX_CHECKPOINTS 64
#define CS_TRAINER_MAX_FROZEN 64

/* A hidden unit of a linear layer, or a kernel (an output channel) of a
 * convolution: row `unit` of the layer's weight, and its bias. */
typedef struct
{
  guint layer;               /* the layer's index in the model */
  guint unit;
} CsTrainerUnit;

typedef struct
{
  guint64 generation;        /* changes on reset and on a new model or dataset */
  CsTrainerState state;

  /* Progress since the last reset. */
  gint64 step;               /* batches trained = optimizer steps */
  gint64 optim_step;         /* the optimizer's own count, from 0 again when its kind
                              * changes (Adam's t) */
  guint32 epoch;             /* of the last batch, from 0 */
  guint32 batch;             /* batches of that epoch done so far */
  guint32 batches_per_epoch;
  guint64 examples_seen;
  double loss;               /* of the last batch, before its step; NAN before the first */
  double loss_after;         /* of the same batch after its step (evaluation mode), when it
                              * was the last batch of a cs_trainer_step (); NAN otherwise */
  double running_loss;       /* mean over this epoch's batches so far */
  double running_accuracy;   /* share of this epoch's examples so far classified right */
  double test_loss;          /* of the last evaluation; NAN before one */
  double test_accuracy;
  gint64 test_step;          /* the step it was made at; −1 before one */
  double samples_per_second; /* training throughput over the last half second or so
                              * of running (0 before); kept while paused */
  double eval_seconds;       /* time spent evaluating on the test split since the last
                              * reset (convscope-cli train counts its throughput
                              * without it) */
  double snapshot_ms;        /* what the last snapshot cost the trainer's thread: the
                              * watched example's forward and backward and the hook */

  /* Settings in force. */
  CsOptimConfig optim;
  int batch_size;
  guint64 seed;
  char model[64];            /* cs_model_get_name () */
  char device[64];           /* the backend's name: "cpu", "cuda" */
  char dataset[128];         /* the training split's name */
  guint32 train_examples, test_examples;

  /* The example the snapshots are of. */
  int watch_index;           /* in the test split (the training split when there is
                              * none), or −1 for an image given by the caller */
  int watch_label;           /* its class, −1 when not known */
  int watch_prediction;      /* the class the model gave it at the last snapshot, −1 before */

  /* What the diagnostics say, one line per trouble, most urgent first. */
  CsDiagnosisFlags diagnoses;
  char diagnosis[CS_TRAINER_TEXT_MAX];

  /* The last command that failed (no CUDA device, a model that does not fit
   * the data …): error_serial counts failures, so that a new one can be
   * told from the one shown already. Empty before any. */
  guint64 error_serial;
  char error[CS_TRAINER_TEXT_MAX];

  /* Rewind: the steps of the checkpoints kept, oldest first (step 0
   * always), the one shown instead of the run as it is (−1: none), and the
   * bytes the checkpoints take (buffers kept for reuse included). */
  guint n_checkpoints;
  gint64 checkpoints[CS_TRAINER_MAX_CHECKPOINTS];
  gint64 viewing_step;
  gsize checkpoint_bytes;

  /* Experiments by hand: the units no optimizer step changes, and how many
   * changes by hand (zeroing, freezing, rewinding) this run has had. */
  guint n_frozen;
  CsTrainerUnit frozen[CS_TRAINER_MAX_FROZEN];
  guint64 edits;
} CsTrainerStatus;

typedef struct
{
  CsOptimConfig optim;       /* Adam with PyTorch's defaults */
  int batch_size;            /* 64 */
  guint64 seed;              /* 1: the weights and the batch order */
  guint status_interval_ms;  /* 16: updates at most this often while running */
  guint snapshot_interval_ms; /* 100: snapshots at most this often while running */
  gboolean evaluate_each_epoch; /* TRUE: on the test split after each epoch */
  /* Rewind: a checkpoint (the whole parameter block — parameters,
   * gradients, optimizer state, buffers — and the batch order) at step 0
   * and every checkpoint_interval steps (50; 0: step 0 only); at most
   * max_checkpoints (32, ≤ CS_TRAINER_MAX_CHECKPOINTS) and checkpoint_bytes
   * (128 MiB) are kept: when full, the one whose neighbours are closest is
   * dropped (never step 0), so they stay spread over the whole run.
   * While training plays, a checkpoint is taken at one of those steps only
   * when checkpoint_spacing_ms (250; 0: always) have passed since the last
   * one: a fast model's steps (half a millisecond for the MLP) would
   * otherwise copy its whole block dozens of times a second, for rewind
   * points closer together than anyone can pick. Steps asked for one by
   * one or N at a time are not thinned. */
  guint checkpoint_interval;
  guint checkpoint_spacing_ms;
  guint max_checkpoints;
  gsize checkpoint_bytes;
  CsTrainHistoryLimits history; /* cs_train_history_limits_init () */
} CsTrainerConfig;

void          cs_trainer_config_init (CsTrainerConfig *config);

/* Called on the trainer's thread, between batches, with
 *
 *   model   a model on the CPU, owned by the trainer, that holds
 *           - the parameters, buffers and optimizer state of the trained
 *             model as they are after the last step (the same floats),
 *           - the parameter gradients of the last batch (what the optimizer
 *             used; zero before the first step),
 *           - the activations and activation gradients of the watched
 *             example alone: a batch of one (example 0), forward in
 *             evaluation mode, backward from the cross-entropy against its
 *             label (or, with no label, against the class predicted), with
 *             d loss / d input too.
 *           Its step is the trained model's. Read anything; keep nothing.
 *   status  the status as of the last batch.
 *
 * Returns what the UI is to get (the application's CsSnapshot), or NULL. It
 * may call the trainer's commands; it must not wait on the UI, nor on the
 * trainer (cs_trainer_wait_idle (), cs_trainer_free ()). */
typedef gpointer (*CsTrainerSnapshotFunc) (CsTrainer             *trainer,
                                           CsModel               *model,
                                           const CsTrainerStatus *status,
                                           gpointer               user_data);

/* Called in the update context: status is the newest, snapshot the newest
 * hook result since the last call (NULL when there is none), both borrowed
 * for the call (take a reference to keep the snapshot). */
typedef void (*CsTrainerUpdateFunc) (CsTrainer             *trainer,
                                     const CsTrainerStatus *status,
                                     gpointer               snapshot,
                                     gpointer               user_data);

/* Called on the trainer's thread between batches with the trained model
 * itself (on its device) and its optimizer: to save a checkpoint, or for a
 * test to look. Like the hook, it must not wait on the trainer. */
typedef void (*CsTrainerFunc) (CsTrainer   *trainer,
                               CsModel     *model,
                               CsOptimizer *optimizer,
                               gpointer     user_data);

/* Takes the model and the splits (test may be NULL); the model is reserved
 * for the batch size, initialised with the seed and kept on the CPU. Fails
 * (and frees them) when the model does not fit the data. The thread starts
 * paused. */
CsTrainer    *cs_trainer_new               (CsModel               *model,
                                            CsDataset             *train,
                                            CsDataset             *test,
                                            const CsTrainerConfig *config,
                                            GError               **error);
/* Stops the thread between two batches, joins it and frees everything;
 * call it from the update context's thread when there is one. */
void          cs_trainer_free              (CsTrainer             *trainer);

/* ---- commands: from any thread, queued, applied between batches -------- */

void          cs_trainer_play              (CsTrainer             *trainer);
/* Stops after the batch in progress; also cancels the rest of a step. */
void          cs_trainer_pause             (CsTrainer             *trainer);
/* Trains exactly n more batches and pauses (pausing a play first). */
void          cs_trainer_step              (CsTrainer             *trainer,
                                            guint                  n);
/* Starts over with the seed: weights, optimizer state, batch order,
 * counters, history; pauses. Returns the new generation. */
guint64       cs_trainer_reset             (CsTrainer             *trainer);
/* Used by the next reset (or new model or dataset). */
void          cs_trainer_set_seed          (CsTrainer             *trainer,
                                            guint64                seed);

/* Checked here (GError for numbers out of range), applied between batches:
 * a new kind of optimizer starts with a clear state, new numbers keep it. */
gboolean      cs_trainer_set_optim         (CsTrainer             *trainer,
                                            const CsOptimConfig   *config,
                                            GError               **error);
gboolean      cs_trainer_set_learning_rate (CsTrainer             *trainer,
                                            double                 lr,
                                            GError               **error);
/* 1 … 65536; the epoch carries on with batches of the new size. */
gboolean      cs_trainer_set_batch_size    (CsTrainer             *trainer,
                                            int                    batch_size,
                                            GError               **error);

/* A new model (taken), initialised with the seed: a new run, paused.
 * Returns the new generation. A model that does not fit the data is
 * refused when applied, with the error in the status, and the old one
 * stays (the generation moves on all the same). */
guint64       cs_trainer_set_model         (CsTrainer             *trainer,
                                            CsModel               *model);
/* The same from a preset's name or a model's JSON, parsed here: 0 and a
 * GError when they do not describe a model. */
guint64       cs_trainer_set_model_preset  (CsTrainer             *trainer,
                                            const char            *name,
                                            GError               **error);
guint64       cs_trainer_set_model_json    (CsTrainer             *trainer,
                                            const char            *json,
                                            gssize                 length,
                                            GError               **error);
/* New splits (taken; test may be NULL): a new run, paused. */
guint64       cs_trainer_set_dataset       (CsTrainer             *trainer,
                                            CsDataset             *train,
                                            CsDataset             *test);

/* "cpu", "cuda" or "auto" (cs_backend_for_device ()), or a backend: the
 * model moves between batches and training goes on there. When the device
 * cannot be had (no CUDA, out of memory) the status says why and the run
 * stays where it was. */
void          cs_trainer_set_device        (CsTrainer             *trainer,
                                            const char            *device);
void          cs_trainer_set_backend       (CsTrainer             *trainer,
                                            const CsBackend       *backend);

/* Evaluates on the test split now (between batches). */
void          cs_trainer_evaluate          (CsTrainer             *trainer);
void          cs_trainer_set_evaluate_each_epoch (CsTrainer       *trainer,
                                            gboolean               each_epoch);

/* The example the snapshots are of: test example i, or an image (pixels:
 * n floats, the model's input shape, copied; label −1 when not known). An
 * index past the split or an image of another size is refused when
 * applied, with the error in the status. */
void          cs_trainer_watch             (CsTrainer             *trainer,
                                            guint                  test_index);
void          cs_trainer_watch_image       (CsTrainer             *trainer,
                                            const float           *pixels,
                                            gsize                  n,
                                            int                    label);

/* The hook (NULL: no snapshots), and how its results are freed when they
 * are dropped (replaced, stale, or left at the end). */
void          cs_trainer_set_snapshot_func (CsTrainer             *trainer,
                                            CsTrainerSnapshotFunc  func,
                                            gpointer               user_data,
                                            GDestroyNotify         snapshot_free);
/* A snapshot after the next batch, or now when paused. */
void          cs_trainer_request_snapshot  (CsTrainer             *trainer);
void          cs_trainer_set_intervals     (CsTrainer             *trainer,
                                            guint                  status_ms,
                                            guint                  snapshot_ms);

/* Runs func on the trainer's thread between batches. */
void          cs_trainer_invoke            (CsTrainer             *trainer,
                                            CsTrainerFunc          func,
                                            gpointer               user_data,
                                            GDestroyNotify         user_data_free);

/* The last batch trained, for a snapshot hook or an invoked function (on
 * the trainer's thread, during the call; nowhere else): its n examples'
 * pixels x (n, input shape), labels (n) and the probabilities the model
 * gave them in the forward pass of their step, before the update
 * (n, classes). probs_after, when not NULL, gets those after the update:
 * only when the batch was the last of a cs_trainer_step () (the status's
 * loss_after is then a number), else NULL. Returns n: 0 before the first
 * batch of a run, and while a checkpoint is shown. */
guint         cs_trainer_peek_batch        (CsTrainer             *trainer,
                                            const float          **x,
                                            const gint32         **labels,
                                            const float          **probs,
                                            const float          **probs_after);

/* ---- rewind and experiments by hand ---------------------------------- */

/* Shows the checkpoint of that step instead of the run (the snapshot hook
 * gets its weights and progress; the status's viewing_step says so), and
 * pauses; −1 shows the run as it is again, and so does a play or a step.
 * A step with no checkpoint kept is refused when applied (status error). */
void          cs_trainer_show_checkpoint   (CsTrainer             *trainer,
                                            gint64                 step);
/* Goes back to the checkpoint of that step: the parameter block, the
 * optimizer's count, the batch order, the counters and the history up to
 * that step are as they were, so training from there repeats the run bit
 * for bit; the checkpoints after it are dropped (like undo). Paused. The
 * settings in force (learning rate, batch size …) stay as they are; after
 * a change of optimizer kind its state starts clear. */
void          cs_trainer_rewind            (CsTrainer             *trainer,
                                            gint64                 step);
/* Sets a unit's weights and bias, and its gradients and optimizer state,
 * to 0 now. Only a linear layer's unit or a convolution's kernel; others
 * are refused when applied (status error). */
void          cs_trainer_zero_unit         (CsTrainer             *trainer,
                                            guint                  layer,
                                            guint                  unit);
/* Freezes (or thaws) a unit: optimizer steps leave its weights, bias and
 * optimizer state bit for bit as they are, and its gradient reads 0 (at
 * most CS_TRAINER_MAX_FROZEN; a new run starts with none). */
void          cs_trainer_freeze_unit       (CsTrainer             *trainer,
                                            guint                  layer,
                                            guint                  unit,
                                            gboolean               frozen);
gboolean      cs_trainer_status_is_frozen  (const CsTrainerStatus *status,
                                            guint                  layer,
                                            guint                  unit);
/* The bytes one checkpoint of the model takes with a split of n examples. */
gsize         cs_trainer_checkpoint_size   (CsModel               *model,
                                            guint32                n_examples);

/* Sessions (core/session-file.h). On the trainer's thread only, from an
 * invoked function or the snapshot hook: copies the whole run into state,
 * reusing its memory (the model, the order, the history) when it was
 * filled from the same run before, so that a periodic capture allocates
 * nothing but what the history gained. FALSE when the device failed. */
gboolean      cs_trainer_capture           (CsTrainer             *trainer,
                                            CsRunState            *state,
                                            GError               **error);
/* A run that goes on from state (taken), paused, as a new generation:
 * weights, optimizer state and step, batch order and position, counters,
 * history and the example watched, so that training from here makes the
 * same numbers, bit for bit, as the run it was captured from. A state
 * for other data (another training split, or another size), or a model
 * that does not fit or find memory, is refused when applied, with the
 * error in the status, and the run stays (the generation moves on all the
 * same). Returns the new generation. */
guint64       cs_trainer_restore           (CsTrainer             *trainer,
                                            CsRunState            *state);

/* ---- what comes back -------------------------------------------------- */

/* Where updates go: func runs in context (NULL: the thread-default main
 * context of the caller). Set it from that context's thread; NULL func
 * stops the updates. user_data_free runs when it is replaced or the
 * trainer freed. */
void          cs_trainer_set_update_func   (CsTrainer             *trainer,
                                            GMainContext          *context,
                                            CsTrainerUpdateFunc    func,
                                            gpointer               user_data,
                                            GDestroyNotify         user_data_free);

/* The newest status, from any thread. */
void          cs_trainer_get_status        (CsTrainer             *trainer,
                                            CsTrainerStatus       *status);
/* Takes the newest snapshot out of the slot (yours; free it with the
 * hook's snapshot_free), or NULL when there is none of the current
 * generation. *generation, when given, is set to the snapshot's. */
gpointer      cs_trainer_take_snapshot     (CsTrainer             *trainer,
                                            guint64               *generation);
/* Brings history (made with cs_train_history_new (0, NULL)) up to date with
 * the run's: appends what is new, or starts over after a new generation. */
void          cs_trainer_sync_history      (CsTrainer             *trainer,
                                            CsTrainHistory        *history);

/* For tests and headless callers (the UI never waits): waits until every
 * command queued so far has been applied and the trainer is paused with
 * nothing left to step, and the status says so; FALSE after timeout_us
 * (a play never ends by itself). */
gboolean      cs_trainer_wait_idle         (CsTrainer             *trainer,
                                            gint64                 timeout_us);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsTrainer, cs_trainer_free)

G_END_DECLS
