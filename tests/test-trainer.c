/* test-trainer.c — the training thread, its commands and what it streams
 *
 * A Step is one batch, bit for bit what cs_train_step () does with the
 * same seed, batcher and optimizer; N steps in the trainer give the
 * weights of N batches of a direct loop (and of convscope-cli train when
 * $CONVSCOPE_CLI names it); a reset starts the same run over; snapshots
 * hold the current weights and the watched example's activations; updates
 * reach a main context, never from before a reset; a NaN pauses with a
 * reason; a missing GPU is an error in the status and training goes on on
 * the CPU; and a thousand random commands from two threads end consistent.
 *
 * Small data (subsets of the bundled digits) and the MLP keep it fast; a
 * watchdog turns a deadlock into a failure.
 */
#include "core/checkpoint.h"
#include "core/dataset.h"
#include "core/error.h"
#include "core/evaluate.h"
#include "core/loss.h"
#include "core/model.h"
#include "core/optim.h"
#include "core/trainer.h"
#include "tests/trainer-fixture.h"
#include "core/sync-private.h"   /* locks ThreadSanitizer sees */

#ifdef CS_HAVE_CUDA
#include "core/gpu/gpu-private.h"
#endif

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

/* ---- data ----------------------------------------------------------------- */

static CsDataset *digits_train, *digits_test;

static CsModel *
mlp (void)
{
  g_autoptr(GError) error = NULL;
  CsModel *m = cs_model_new_preset ("mlp", &error);
  g_assert_no_error (error);
  return m;
}

static CsTrainer *
new_trainer (guint32 n_train, guint32 n_test, int batch, guint64 seed)
{
  g_autoptr(GError) error = NULL;
  CsTrainerConfig config;
  cs_trainer_config_init (&config);
  config.batch_size = batch;
  config.seed = seed;
  CsTrainer *t = cs_trainer_new (mlp (), subset (digits_train, 0, n_train),
                                 n_test ? subset (digits_test, 0, n_test) : NULL, &config,
                                 &error);
  g_assert_no_error (error);
  return t;
}

static CsTrainerStatus
status_of (CsTrainer *t)
{
  CsTrainerStatus s;
  cs_trainer_get_status (t, &s);
  return s;
}

/* A watchdog: aborts the test program if it is not stopped in time. */
typedef struct
{
  GMutex lock;
  GCond cond;
  gboolean done;
  int seconds;
  GThread *thread;
} Watchdog;

static gpointer
watchdog_main (gpointer data)
{
  Watchdog *w = data;
  gint64 end = g_get_monotonic_time () + (gint64) w->seconds * G_USEC_PER_SEC;
  cs_mutex_lock (&w->lock);
  while (!w->done)
    if (!cs_cond_wait_until (&w->cond, &w->lock, end))
      g_error ("deadlock? the test did not finish within %d s", w->seconds);
  cs_mutex_unlock (&w->lock);
  return NULL;
}

static Watchdog *
watchdog_start (int seconds)
{
  Watchdog *w = g_new0 (Watchdog, 1);
  g_mutex_init (&w->lock);
  g_cond_init (&w->cond);
  w->seconds = seconds;
  w->thread = g_thread_new ("watchdog", watchdog_main, w);
  return w;
}

static void
watchdog_stop (Watchdog *w)
{
  cs_mutex_lock (&w->lock);
  w->done = TRUE;
  g_cond_signal (&w->cond);
  cs_mutex_unlock (&w->lock);
  g_thread_join (w->thread);
  g_mutex_clear (&w->lock);
  g_cond_clear (&w->cond);
  g_free (w);
}

/* ---- looking at the trained model ------------------------------------------- */

typedef struct
{
  float *block;     /* 4P + B floats */
  gsize n;
  gint64 step;
  gint64 opt_step;
} Weights;

static void
weights_free (Weights *w)
{
  g_free (w->block);
  g_free (w);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Weights, weights_free)

static void
copy_weights (CsTrainer *trainer, CsModel *model, CsOptimizer *opt, gpointer data)
{
  Weights *w = data;
  g_autoptr(GError) error = NULL;
  const float *block = cs_model_read_block (model, &error);
  g_assert_no_error (error);
  w->n = 4 * cs_model_get_n_params (model) + cs_model_get_n_buffers (model);
  w->block = g_memdup2 (block, w->n * sizeof (float));
  w->step = cs_model_get_step (model);
  w->opt_step = cs_optimizer_get_step (opt);
}

/* The trained model's whole block, read on the trainer's thread. */
static Weights *
weights_of (CsTrainer *t)
{
  Weights *w = g_new0 (Weights, 1);
  cs_trainer_invoke (t, copy_weights, w, NULL);
  wait_idle (t);
  g_assert_nonnull (w->block);
  return w;
}

/* The same run, by hand: what convscope-cli train does. */
typedef struct
{
  CsModel *model;
  CsOptimizer *opt;
  CsDataset *train;
  CsBatcher *batcher;
  float *x, *probs;
  gint32 *y;
  int batch;
} Direct;

static Direct *
direct_new (guint32 n_train, int batch, guint64 seed, const CsOptimConfig *config)
{
  Direct *d = g_new0 (Direct, 1);
  g_autoptr(GError) error = NULL;
  CsOptimConfig adam;
  if (config == NULL)
    {
      cs_optim_config_init (&adam, CS_OPTIM_ADAM);
      config = &adam;
    }
  d->model = mlp ();
  g_assert_true (cs_model_reserve (d->model, batch, &error));
  cs_model_init (d->model, seed);
  d->opt = cs_optimizer_new (d->model, config);
  d->train = subset (digits_train, 0, n_train);
  d->batcher = cs_batcher_new (d->train, (guint32) batch, seed);
  d->x = g_new (float, (gsize) batch * 784);
  d->y = g_new (gint32, batch);
  d->probs = g_new (float, (gsize) batch * 10);
  d->batch = batch;
  return d;
}

static double
direct_step (Direct *d)
{
  guint32 n = cs_batcher_next (d->batcher, d->x, d->y);
  CsTensor xt = cs_tensor_view_batch (d->x, n, cs_model_get_input_shape (d->model));
  return cs_train_step (d->model, d->opt, &xt, d->y, d->probs, NULL);
}

static void
direct_free (Direct *d)
{
  cs_batcher_free (d->batcher);
  cs_dataset_free (d->train);
  cs_optimizer_free (d->opt);
  cs_model_free (d->model);
  g_free (d->x);
  g_free (d->y);
  g_free (d->probs);
  g_free (d);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Direct, direct_free)

/* Bit for bit: parameters, gradients, optimizer state, buffers. */
static void
assert_same_block (const Weights *w, CsModel *model)
{
  gsize n = 4 * cs_model_get_n_params (model) + cs_model_get_n_buffers (model);
  g_assert_cmpuint (w->n, ==, n);
  g_assert_cmpmem (w->block, n * sizeof (float), cs_model_get_params (model), n * sizeof (float));
}

/* ---- step, determinism, reset ------------------------------------------------ */

static void
test_step_one_batch (void)
{
  g_autoptr(CsTrainer) t = new_trainer (512, 0, 16, 3);
  g_autoptr(Direct) d = direct_new (512, 16, 3, NULL);

  CsTrainerStatus s = status_of (t);
  g_assert_cmpint (s.step, ==, 0);
  g_assert_cmpuint (s.examples_seen, ==, 0);
  g_assert_cmpint (s.state, ==, CS_TRAINER_PAUSED);
  g_assert_cmpint (s.batch_size, ==, 16);
  g_assert_cmpstr (s.model, ==, "mlp");
  g_assert_cmpstr (s.device, ==, "cpu");
  g_assert_cmpuint (s.batches_per_epoch, ==, 32);

  /* before any step: the initial weights */
  g_autoptr(Weights) w0 = weights_of (t);
  assert_same_block (w0, d->model);

  cs_trainer_step (t, 1);
  wait_idle (t);
  double loss = direct_step (d);
  s = status_of (t);
  g_assert_cmpint (s.step, ==, 1);
  g_assert_cmpuint (s.examples_seen, ==, 16);
  g_assert_cmpuint (s.batch, ==, 1);
  g_assert_cmpint (s.state, ==, CS_TRAINER_PAUSED);
  g_assert_cmpfloat (s.loss, ==, loss);
  g_assert_cmpfloat (s.samples_per_second, >, 0.0);

  /* one optimizer update of that batch, exactly */
  g_autoptr(Weights) w1 = weights_of (t);
  g_assert_cmpint (w1->step, ==, 1);
  g_assert_cmpint (w1->opt_step, ==, 1);
  assert_same_block (w1, d->model);

  /* the history has the batch */
  g_autoptr(CsTrainHistory) h = cs_train_history_new (0, NULL);
  cs_trainer_sync_history (t, h);
  g_assert_cmpuint (h->generation, ==, s.generation);
  g_assert_cmpuint (h->records->len, ==, 1);
  CsTrainRecord *r = &g_array_index (h->records, CsTrainRecord, 0);
  g_assert_cmpint (r->step, ==, 1);
  g_assert_cmpuint (r->size, ==, 16);
  g_assert_cmpfloat (r->loss, ==, (float) loss);
  g_assert_cmpfloat (r->grad_norm, >, 0.0f);
  g_assert_cmpuint (h->n_layers, ==, 4);   /* flatten, linear, relu, linear */
  g_assert_true (isnan (g_array_index (h->layer_norms, float, 0)));
  g_assert_cmpfloat (g_array_index (h->layer_norms, float, 1), >, 0.0f);

  /* and again */
  cs_trainer_step (t, 1);
  wait_idle (t);
  direct_step (d);
  s = status_of (t);
  g_assert_cmpint (s.step, ==, 2);
  g_assert_cmpuint (s.examples_seen, ==, 32);
  g_autoptr(Weights) w2 = weights_of (t);
  assert_same_block (w2, d->model);
}

/* What cs_trainer_peek_batch () shows, copied on the trainer's thread. */
typedef struct
{
  guint n;
  float x[16 * 784];
  gint32 y[16];
  float probs[16 * 10], probs_after[16 * 10];
  gboolean has_after;
} Peek;

static void
copy_peek (CsTrainer *trainer, CsModel *model, CsOptimizer *opt, gpointer data)
{
  Peek *p = data;
  const float *x, *probs, *after;
  const gint32 *y;
  p->n = cs_trainer_peek_batch (trainer, &x, &y, &probs, &after);
  g_assert_cmpuint (p->n, <=, 16);
  if (p->n == 0)
    {
      g_assert_null (x);
      return;
    }
  memcpy (p->x, x, p->n * 784 * sizeof (float));
  memcpy (p->y, y, p->n * sizeof (gint32));
  memcpy (p->probs, probs, p->n * 10 * sizeof (float));
  p->has_after = after != NULL;
  if (after != NULL)
    memcpy (p->probs_after, after, p->n * 10 * sizeof (float));
}

/* Mean cross-entropy of probabilities against labels. */
static double
mean_ce (const float *probs, const gint32 *y, guint n)
{
  double sum = 0.0;
  for (guint i = 0; i < n; i++)
    sum -= log (probs[i * 10 + y[i]]);
  return sum / n;
}

/* After a Step the batch it trained on can be looked at, with the loss
 * before the update and after it; a Play's batches have no "after". */
static void
test_step_batch_and_loss_after (void)
{
  g_autoptr(CsTrainer) t = new_trainer (512, 0, 16, 3);
  g_autoptr(Direct) d = direct_new (512, 16, 3, NULL);
  Peek *p = g_new0 (Peek, 1);

  cs_trainer_invoke (t, copy_peek, p, NULL);
  wait_idle (t);
  g_assert_cmpuint (p->n, ==, 0);
  g_assert_true (isnan (status_of (t).loss_after));

  /* (an invocation queued with the step would run before its batch: the
   * commands of a round are applied before the round's batch) */
  cs_trainer_step (t, 1);
  wait_idle (t);
  cs_trainer_invoke (t, copy_peek, p, NULL);
  wait_idle (t);
  double loss = direct_step (d);
  CsTrainerStatus s = status_of (t);

  /* the batch is the batcher's first, as the direct loop drew it */
  g_assert_cmpuint (p->n, ==, 16);
  g_assert_cmpmem (p->x, 16 * 784 * sizeof (float), d->x, 16 * 784 * sizeof (float));
  g_assert_cmpmem (p->y, sizeof p->y, d->y, 16 * sizeof (gint32));
  g_assert_cmpmem (p->probs, sizeof p->probs, d->probs, 16 * 10 * sizeof (float));
  g_assert_cmpfloat_with_epsilon (mean_ce (p->probs, p->y, 16), loss, 1e-5);

  /* after the step: the same batch through the new weights, lower */
  g_assert_true (p->has_after);
  g_assert_true (isfinite (s.loss_after));
  g_assert_cmpfloat_with_epsilon (mean_ce (p->probs_after, p->y, 16), s.loss_after, 1e-5);
  g_assert_cmpfloat (s.loss_after, <, s.loss);
  CsTensor xt = cs_tensor_view_batch (d->x, 16, cs_model_get_input_shape (d->model));
  cs_model_forward (d->model, &xt, FALSE);
  g_assert_cmpfloat_with_epsilon (cs_model_cross_entropy (d->model, d->y, NULL), s.loss_after, 1e-6);

  /* measuring it changed nothing in the run */
  g_autoptr(Weights) w1 = weights_of (t);
  assert_same_block (w1, d->model);

  /* a Step of three: only the third batch is measured after */
  cs_trainer_step (t, 3);
  wait_idle (t);
  for (int i = 0; i < 3; i++)
    direct_step (d);
  g_autoptr(Weights) w4 = weights_of (t);
  assert_same_block (w4, d->model);
  g_assert_true (isfinite (status_of (t).loss_after));

  /* playing: no loss after */
  cs_trainer_play (t);
  while (status_of (t).step < 8)
    g_usleep (1000);
  cs_trainer_pause (t);
  cs_trainer_invoke (t, copy_peek, p, NULL);
  wait_idle (t);
  g_assert_true (isnan (status_of (t).loss_after));
  g_assert_false (p->has_after);
  g_assert_cmpuint (p->n, ==, 16);

  /* a reset forgets the batch */
  cs_trainer_reset (t);
  cs_trainer_invoke (t, copy_peek, p, NULL);
  wait_idle (t);
  g_assert_cmpuint (p->n, ==, 0);
  g_assert_true (isnan (status_of (t).loss_after));
  g_free (p);
}

/* A snapshot hook that copies nothing: snapshots must not change training. */
static gpointer
count_snapshot (CsTrainer *t, CsModel *model, const CsTrainerStatus *s, gpointer data)
{
  g_atomic_int_inc ((gint *) data);
  return NULL;
}

static void
test_determinism (void)
{
  const int N = 70;   /* over two epochs of 32 batches */
  g_autoptr(CsTrainer) t = new_trainer (512, 64, 16, 11);
  g_autoptr(Direct) d = direct_new (512, 16, 11, NULL);
  gint snapshots = 0;

  cs_trainer_set_snapshot_func (t, count_snapshot, &snapshots, NULL);
  cs_trainer_set_intervals (t, 0, 0);   /* every batch */
  for (int i = 0; i < 10; i++)
    {
      cs_trainer_step (t, 1);
      if (i % 3 == 0)
        wait_idle (t);
    }
  cs_trainer_evaluate (t);
  cs_trainer_watch (t, 7);
  cs_trainer_step (t, N - 10);
  wait_idle (t);

  for (int i = 0; i < N; i++)
    direct_step (d);
  CsTrainerStatus s = status_of (t);
  g_assert_cmpint (s.step, ==, N);
  g_assert_cmpuint (s.examples_seen, ==, (guint64) N * 16);
  g_assert_cmpuint (s.epoch, ==, 2);
  g_assert_cmpuint (s.batch, ==, N - 64);
  g_assert_cmpint (s.test_step, >=, 32);   /* evaluated after each epoch */
  g_assert_cmpint (g_atomic_int_get (&snapshots), >=, 2);
  g_autoptr(Weights) w = weights_of (t);
  assert_same_block (w, d->model);
}

/* ds as the two MNIST IDX files of split ("train" or "t10k") in dir. */
static void
write_idx (const char *dir, const char *split, const CsDataset *ds)
{
  g_autoptr(GError) error = NULL;
  gsize px = (gsize) ds->n * ds->rows * ds->cols;
  g_autoptr(GByteArray) images = g_byte_array_new ();
  g_autoptr(GByteArray) labels = g_byte_array_new ();
  guint32 ih[4] = { GUINT32_TO_BE (0x803), GUINT32_TO_BE (ds->n), GUINT32_TO_BE (ds->rows),
                    GUINT32_TO_BE (ds->cols) };
  guint32 lh[2] = { GUINT32_TO_BE (0x801), GUINT32_TO_BE (ds->n) };
  g_byte_array_append (images, (const guint8 *) ih, sizeof ih);
  g_byte_array_append (images, ds->images, (guint) px);
  g_byte_array_append (labels, (const guint8 *) lh, sizeof lh);
  g_byte_array_append (labels, ds->labels, ds->n);

  g_autofree char *ipath = g_strdup_printf ("%s/%s-images-idx3-ubyte", dir, split);
  g_autofree char *lpath = g_strdup_printf ("%s/%s-labels-idx1-ubyte", dir, split);
  g_file_set_contents (ipath, (const char *) images->data, images->len, &error);
  g_assert_no_error (error);
  g_file_set_contents (lpath, (const char *) labels->data, labels->len, &error);
  g_assert_no_error (error);
}

/* The trainer against convscope-cli train itself: one epoch of 1000 of the
 * bundled digits (16 batches of 64, the last of 40), the same seed and
 * threads, compared by the checkpoint the command line saves. */
static void
test_determinism_cli (void)
{
  const char *cli = g_getenv ("CONVSCOPE_CLI");
  if (cli == NULL)
    {
      g_test_skip ("set CONVSCOPE_CLI to the convscope-cli to compare with (meson test does)");
      return;
    }
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-trainer-XXXXXX", &error);
  g_assert_no_error (error);
  g_autoptr(CsDataset) train = subset (digits_train, 0, 1000);
  g_autoptr(CsDataset) test = subset (digits_test, 0, 200);
  write_idx (dir, "train", train);
  write_idx (dir, "t10k", test);

  g_autofree char *path = g_build_filename (dir, "cli.safetensors", NULL);
  g_autofree char *threads = g_strdup_printf ("%d", cs_backend_cpu_get_threads ());
  const char *argv[] = { cli, "train", "--model", "mlp", "--dataset", dir, "--epochs", "1",
                         "--batch-size", "64", "--seed", "9", "--optimizer", "adam",
                         "--threads", threads, "--device", "cpu", "--json", "--save", path,
                         NULL };
  g_autofree char *out = NULL, *err = NULL;
  int status;
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out,
                               &err, &status, &error));
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, &error))
    g_error ("%s: %s\n%s", cli, error->message, err);
  g_assert_nonnull (strstr (out, "\"train_examples\":1000,"));
  g_assert_nonnull (strstr (out, "\"step\":16,"));

  g_autoptr(CsModel) saved = cs_checkpoint_load (path, &error);
  g_assert_no_error (error);
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  for (const char *name; (name = g_dir_read_name (d)) != NULL;)
    {
      g_autofree char *file = g_build_filename (dir, name, NULL);
      g_remove (file);
    }
  g_rmdir (dir);

  CsTrainerConfig config;
  cs_trainer_config_init (&config);
  config.seed = 9;
  g_autoptr(CsTrainer) t = cs_trainer_new (mlp (), g_steal_pointer (&train),
                                           g_steal_pointer (&test), &config, &error);
  g_assert_no_error (error);
  cs_trainer_step (t, 16);
  wait_idle (t);
  CsTrainerStatus s = status_of (t);
  g_assert_cmpint (s.step, ==, 16);
  g_assert_cmpuint (s.examples_seen, ==, 1000);

  g_autoptr(Weights) w = weights_of (t);
  gsize P = cs_model_get_n_params (saved);
  g_assert_cmpmem (w->block, P * sizeof (float), cs_model_get_params (saved), P * sizeof (float));
}

static void
test_reset (void)
{
  g_autoptr(CsTrainer) t = new_trainer (256, 0, 16, 5);
  g_autoptr(Direct) fresh = direct_new (256, 16, 5, NULL);

  guint64 gen0 = status_of (t).generation;
  cs_trainer_step (t, 5);
  wait_idle (t);
  g_autoptr(Weights) first = weights_of (t);

  guint64 gen1 = cs_trainer_reset (t);
  g_assert_cmpuint (gen1, ==, gen0 + 1);
  wait_idle (t);
  CsTrainerStatus s = status_of (t);
  g_assert_cmpuint (s.generation, ==, gen1);
  g_assert_cmpint (s.step, ==, 0);
  g_assert_cmpuint (s.examples_seen, ==, 0);
  g_assert_true (isnan (s.loss));
  g_autoptr(CsTrainHistory) h = cs_train_history_new (0, NULL);
  cs_trainer_sync_history (t, h);
  g_assert_cmpuint (h->generation, ==, gen1);
  g_assert_cmpuint (h->records->len, ==, 0);

  /* the initial weights again, and the same five batches */
  g_autoptr(Weights) again0 = weights_of (t);
  assert_same_block (again0, fresh->model);
  cs_trainer_step (t, 5);
  wait_idle (t);
  g_autoptr(Weights) again = weights_of (t);
  g_assert_cmpmem (again->block, again->n * sizeof (float), first->block,
                   first->n * sizeof (float));

  /* another seed, at the next reset only */
  cs_trainer_set_seed (t, 6);
  wait_idle (t);
  g_assert_cmpint (status_of (t).step, ==, 5);
  cs_trainer_reset (t);
  wait_idle (t);
  g_autoptr(Weights) other = weights_of (t);
  g_assert_cmpuint (status_of (t).seed, ==, 6);
  g_assert_true (memcmp (other->block, again0->block, other->n * sizeof (float)) != 0);
}

/* ---- snapshots and updates --------------------------------------------------- */

/* What the tests' hook copies: the app's CsSnapshot does much the same. */
typedef struct
{
  guint64 generation;
  gint64 step, status_step;
  gsize P;
  float *params, *grads;
  float input[784], logits[10], dlogits[10];
  int label, prediction;
} Snap;

static void
snap_free (gpointer data)
{
  Snap *s = data;
  g_free (s->params);
  g_free (s->grads);
  g_free (s);
}

static gpointer
copy_snapshot (CsTrainer *t, CsModel *model, const CsTrainerStatus *status, gpointer data)
{
  g_assert_true (cs_model_get_backend (model)->device == CS_DEVICE_CPU);
  Snap *s = g_new0 (Snap, 1);
  s->generation = status->generation;
  s->step = cs_model_get_step (model);
  s->status_step = status->step;
  s->P = cs_model_get_n_params (model);
  s->params = g_memdup2 (cs_model_get_params (model), s->P * sizeof (float));
  s->grads = g_memdup2 (cs_model_get_grads (model), s->P * sizeof (float));
  guint n = cs_model_get_n_layers (model);
  CsTensor in = cs_model_get_activation (model, 0);
  CsTensor out = cs_model_get_activation (model, n);
  CsTensor dout = cs_model_get_activation_grad (model, n);
  g_assert_cmpint (in.shape[0], ==, 1);
  memcpy (s->input, in.data, sizeof s->input);
  memcpy (s->logits, out.data, sizeof s->logits);
  memcpy (s->dlogits, dout.data, sizeof s->dlogits);
  s->label = status->watch_label;
  s->prediction = status->watch_prediction;
  if (data != NULL)
    g_atomic_int_inc ((gint *) data);
  return s;
}

/* The logits of one example through a model holding params, computed here. */
static void
forward_one (const float *params, gsize P, const float *x, float *logits)
{
  g_autoptr(CsModel) m = mlp ();
  g_autoptr(GError) error = NULL;
  g_assert_true (cs_model_reserve (m, 1, &error));
  g_assert_cmpuint (cs_model_get_n_params (m), ==, P);
  memcpy (cs_model_get_params (m), params, P * sizeof (float));
  CsTensor xt = cs_tensor_view (NULL, 4, (gint64[]) { 1, 1, 28, 28 });
  xt.data = (float *) x;
  const CsTensor *out = cs_model_forward (m, &xt, FALSE);
  memcpy (logits, out->data, 10 * sizeof (float));
}

static void
test_snapshot (void)
{
  g_autoptr(CsTrainer) t = new_trainer (256, 64, 16, 2);
  gint calls = 0;

  /* no hook, no snapshot */
  cs_trainer_step (t, 1);
  wait_idle (t);
  g_assert_null (cs_trainer_take_snapshot (t, NULL));

  cs_trainer_set_snapshot_func (t, copy_snapshot, &calls, snap_free);
  cs_trainer_step (t, 2);
  wait_idle (t);
  guint64 gen = 0;
  Snap *s = cs_trainer_take_snapshot (t, &gen);
  g_assert_nonnull (s);
  g_assert_null (cs_trainer_take_snapshot (t, NULL));   /* taken */
  CsTrainerStatus st = status_of (t);
  g_assert_cmpuint (gen, ==, st.generation);
  g_assert_cmpuint (s->generation, ==, st.generation);
  g_assert_cmpint (s->step, ==, 3);
  g_assert_cmpint (s->status_step, ==, 3);

  /* the current weights and the last batch's gradients */
  g_autoptr(Weights) w = weights_of (t);
  g_assert_cmpmem (s->params, s->P * sizeof (float), w->block, s->P * sizeof (float));
  g_assert_cmpmem (s->grads, s->P * sizeof (float), w->block + s->P, s->P * sizeof (float));

  /* test example 0 through those weights */
  float x[784], logits[10];
  gint32 y;
  guint32 idx = 0;
  cs_dataset_fill_batch (digits_test, &idx, 1, x, &y);
  g_assert_cmpmem (s->input, sizeof x, x, sizeof x);
  forward_one (s->params, s->P, x, logits);
  g_assert_cmpmem (s->logits, sizeof logits, logits, sizeof logits);
  g_assert_cmpint (s->label, ==, y);
  g_assert_cmpint (st.watch_index, ==, 0);
  g_assert_cmpint (st.watch_label, ==, y);
  gint32 pred;
  cs_argmax_rows (&pred, logits, 1, 10);
  g_assert_cmpint (s->prediction, ==, pred);
  g_assert_cmpint (st.watch_prediction, ==, pred);
  /* d loss / d logits = softmax − onehot for one example */
  double sum = 0.0, max = logits[0];
  for (int k = 1; k < 10; k++)
    max = MAX (max, logits[k]);
  for (int k = 0; k < 10; k++)
    sum += exp (logits[k] - max);
  for (int k = 0; k < 10; k++)
    g_assert_cmpfloat_with_epsilon (s->dlogits[k], exp (logits[k] - max) / sum - (k == y), 1e-5);
  snap_free (s);

  /* another example, at once even while paused */
  cs_trainer_watch (t, 5);
  wait_idle (t);
  s = cs_trainer_take_snapshot (t, NULL);
  g_assert_nonnull (s);
  idx = 5;
  cs_dataset_fill_batch (digits_test, &idx, 1, x, &y);
  g_assert_cmpmem (s->input, sizeof x, x, sizeof x);
  g_assert_cmpint (s->label, ==, y);
  g_assert_cmpint (s->step, ==, 3);
  snap_free (s);

  /* a drawn image without a label: the target is the class predicted */
  float image[784];
  for (int i = 0; i < 784; i++)
    image[i] = (i / 28 > 5 && i / 28 < 22 && i % 28 > 12 && i % 28 < 16) ? 1.0f : 0.0f;
  cs_trainer_watch_image (t, image, 784, -1);
  wait_idle (t);
  s = cs_trainer_take_snapshot (t, NULL);
  st = status_of (t);
  g_assert_cmpmem (s->input, sizeof image, image, sizeof image);
  g_assert_cmpint (st.watch_index, ==, -1);
  g_assert_cmpint (s->label, ==, -1);
  g_assert_cmpfloat (s->dlogits[s->prediction], <, 0.0f);
  snap_free (s);

  /* refused: an image of the wrong size, an example past the split */
  guint64 errors = st.error_serial;
  cs_trainer_watch_image (t, image, 100, 3);
  cs_trainer_watch (t, 64);
  wait_idle (t);
  st = status_of (t);
  g_assert_cmpuint (st.error_serial, ==, errors + 2);
  g_assert_nonnull (strstr (st.error, "no example 64"));
  g_assert_cmpint (st.watch_index, ==, -1);

  /* a snapshot on request; none left after a reset */
  cs_trainer_request_snapshot (t);
  wait_idle (t);
  guint64 generation = cs_trainer_reset (t), got = 0;
  /* the older snapshot is never handed out after the reset; the reset's
   * own may already be there (the trainer thread may have run) or not */
  s = cs_trainer_take_snapshot (t, &got);
  if (s == NULL)
    {
      wait_idle (t);
      s = cs_trainer_take_snapshot (t, &got);
    }
  g_assert_nonnull (s);
  g_assert_cmpuint (got, ==, generation);
  g_assert_cmpint (s->step, ==, 0);
  snap_free (s);
  g_assert_cmpint (g_atomic_int_get (&calls), >=, 6);
}

typedef struct
{
  GArray *statuses;        /* CsTrainerStatus, delivered */
  guint snapshots;
  guint64 min_generation;  /* none older may arrive */
  guint64 snapshot_generation;   /* of the last snapshot delivered */
  gint64 snapshot_step;
} Updates;

static void
on_update (CsTrainer *t, const CsTrainerStatus *status, gpointer snapshot, gpointer data)
{
  Updates *u = data;
  g_assert_cmpuint (status->generation, >=, u->min_generation);
  if (u->statuses->len > 0)
    {
      const CsTrainerStatus *last = &g_array_index (u->statuses, CsTrainerStatus,
                                                    u->statuses->len - 1);
      g_assert_cmpuint (status->generation, >=, last->generation);
      if (status->generation == last->generation)
        g_assert_cmpint (status->step, >=, last->step);
    }
  if (snapshot != NULL)
    {
      Snap *s = snapshot;
      g_assert_cmpuint (s->generation, ==, status->generation);
      g_assert_cmpint (s->step, <=, status->step);
      u->snapshots++;
      u->snapshot_generation = s->generation;
      u->snapshot_step = s->step;
    }
  g_array_append_vals (u->statuses, status, 1);
}

/* Runs the context until pred holds, or fails after the timeout. */
static void
iterate_until (GMainContext *ctx, gboolean (*pred) (Updates *, gpointer), Updates *u,
               gpointer data)
{
  gint64 end = g_get_monotonic_time () + TIMEOUT_US;
  while (!pred (u, data))
    {
      if (g_get_monotonic_time () > end)
        g_error ("no such update within the timeout");
      g_main_context_iteration (ctx, FALSE);
      g_usleep (200);
    }
}

static gboolean
reached_step (Updates *u, gpointer data)
{
  if (u->statuses->len == 0)
    return FALSE;
  const CsTrainerStatus *last = &g_array_index (u->statuses, CsTrainerStatus,
                                                u->statuses->len - 1);
  return last->step == GPOINTER_TO_INT (data) && last->state == CS_TRAINER_PAUSED
         && last->generation >= u->min_generation;
}

static void
test_updates (void)
{
  g_autoptr(GMainContext) ctx = g_main_context_new ();
  g_main_context_push_thread_default (ctx);
  Updates u = { g_array_new (FALSE, FALSE, sizeof (CsTrainerStatus)), 0, 0, 0, 0 };
  g_autoptr(CsTrainer) t = new_trainer (1024, 256, 32, 4);

  cs_trainer_set_update_func (t, NULL, on_update, &u, NULL);
  cs_trainer_set_snapshot_func (t, copy_snapshot, NULL, snap_free);
  iterate_until (ctx, reached_step, &u, GINT_TO_POINTER (0));

  /* play for a while: updates keep coming, and the accuracy rises */
  cs_trainer_evaluate (t);
  wait_idle (t);
  double before = status_of (t).test_accuracy;
  cs_trainer_set_intervals (t, 5, 30);
  cs_trainer_play (t);
  gint64 end = g_get_monotonic_time () + G_USEC_PER_SEC;
  while (g_get_monotonic_time () < end || status_of (t).step < 64)
    {
      g_main_context_iteration (ctx, FALSE);
      g_usleep (1000);
    }
  cs_trainer_pause (t);
  wait_idle (t);
  CsTrainerStatus s = status_of (t);
  iterate_until (ctx, reached_step, &u, GINT_TO_POINTER ((int) s.step));
  g_assert_cmpuint (u.statuses->len, >=, 3);
  g_assert_cmpuint (u.snapshots, >=, 2);
  g_assert_cmpint (s.test_step, >, 0);   /* an epoch ended: evaluated */
  g_assert_cmpfloat (s.test_accuracy, >, before + 0.2);
  g_assert_cmpfloat (s.test_accuracy, >, 0.6);
  g_assert_cmpfloat (s.samples_per_second, >, 0.0);

  /* after reset () returns, nothing from before it */
  guint n_before = u.statuses->len;
  cs_trainer_step (t, 2);
  u.min_generation = cs_trainer_reset (t);
  cs_trainer_step (t, 3);
  iterate_until (ctx, reached_step, &u, GINT_TO_POINTER (3));
  g_assert_cmpuint (u.statuses->len, >, n_before);
  g_assert_cmpuint (g_array_index (u.statuses, CsTrainerStatus, u.statuses->len - 1).examples_seen,
                    ==, 3 * 32);
  /* with the snapshot of where it stopped */
  g_assert_cmpuint (u.snapshot_generation, ==, u.min_generation);
  g_assert_cmpint (u.snapshot_step, ==, 3);

  /* no more updates once the function is gone */
  cs_trainer_set_update_func (t, NULL, NULL, NULL, NULL);
  guint n = u.statuses->len;
  cs_trainer_step (t, 1);
  wait_idle (t);
  while (g_main_context_iteration (ctx, FALSE))
    ;
  g_assert_cmpuint (u.statuses->len, ==, n);

  /* an update queued and never run is undone when the trainer goes */
  cs_trainer_set_update_func (t, NULL, on_update, &u, NULL);
  g_clear_pointer (&t, cs_trainer_free);
  while (g_main_context_iteration (ctx, FALSE))
    ;
  g_assert_cmpuint (u.statuses->len, ==, n);

  g_main_context_pop_thread_default (ctx);
  g_array_unref (u.statuses);
}

/* ---- diagnostics, errors, settings ------------------------------------------- */

static void
poison (CsTrainer *t, CsModel *model, CsOptimizer *opt, gpointer data)
{
  /* after the ReLU, which would turn a NaN into 0 */
  const CsModelEntry *e = cs_model_find_entry (model, "3.bias");
  g_assert_nonnull (e);
  cs_model_get_params (model)[cs_model_get_entry_offset (model, e)] = NAN;
}

static void
test_nan_pauses (void)
{
  g_autoptr(CsTrainer) t = new_trainer (256, 0, 16, 1);

  cs_trainer_step (t, 2);
  wait_idle (t);   /* (queued together, all three would come before a batch) */
  cs_trainer_invoke (t, poison, NULL, NULL);
  cs_trainer_play (t);
  wait_idle (t);   /* it pauses by itself */
  CsTrainerStatus s = status_of (t);
  g_assert_cmpint (s.state, ==, CS_TRAINER_PAUSED);
  g_assert_cmpint (s.step, ==, 3);
  g_assert_true (isnan (s.loss));
  g_assert_cmpint (s.diagnoses, ==, CS_DIAGNOSIS_NON_FINITE);
  g_assert_nonnull (strstr (s.diagnosis, "learning rate"));
  g_assert_nonnull (strstr (s.diagnosis, "Reset"));

  /* reset clears it */
  cs_trainer_reset (t);
  cs_trainer_step (t, 1);
  wait_idle (t);
  s = status_of (t);
  g_assert_cmpint (s.diagnoses, ==, 0);
  g_assert_cmpstr (s.diagnosis, ==, "");
  g_assert_true (isfinite (s.loss));

}

/* What a learning rate far too high does to this network (the stable
 * cross-entropy keeps the loss finite): it knocks out the hidden units,
 * and the status says so while it plays on. */
static void
test_lr_too_high (void)
{
  g_autoptr(CsTrainer) t = new_trainer (256, 0, 16, 1);
  g_autoptr(GError) error = NULL;
  CsOptimConfig sgd;
  cs_optim_config_init (&sgd, CS_OPTIM_SGD);
  sgd.hp.lr = 10.0f;
  sgd.hp.momentum = 0.9f;
  g_assert_true (cs_trainer_set_optim (t, &sgd, &error));
  cs_trainer_play (t);

  gint64 end = g_get_monotonic_time () + TIMEOUT_US;
  CsTrainerStatus s;
  do
    {
      g_assert_cmpint (g_get_monotonic_time (), <, end);
      g_usleep (10000);
      s = status_of (t);
      g_assert_false (s.diagnoses & CS_DIAGNOSIS_NON_FINITE);
    }
  while (!(s.diagnoses & CS_DIAGNOSIS_DEAD_RELU));
  g_assert_cmpint (s.state, ==, CS_TRAINER_PLAYING);
  g_assert_false (s.diagnoses & CS_DIAGNOSIS_VANISHING);
  g_assert_nonnull (strstr (s.diagnosis, "dead ReLUs"));
  g_assert_nonnull (strstr (s.diagnosis, "lower it and Reset"));
  cs_trainer_pause (t);
  wait_idle (t);
}

static void
kill_relus (CsTrainer *t, CsModel *model, CsOptimizer *opt, gpointer data)
{
  /* the hidden layer's bias (layer 1) far below zero: no unit fires */
  const CsModelEntry *e = cs_model_find_entry (model, "1.bias");
  g_assert_nonnull (e);
  float *bias = cs_model_get_params (model) + cs_model_get_entry_offset (model, e);
  for (int i = 0; i < 256; i++)
    bias[i] = -1e4f;
}

static void
test_dead_relus (void)
{
  g_autoptr(CsTrainer) t = new_trainer (256, 0, 8, 1);
  cs_trainer_step (t, 50);
  wait_idle (t);
  g_assert_cmpint (status_of (t).diagnoses, ==, 0);

  cs_trainer_invoke (t, kill_relus, NULL, NULL);
  cs_trainer_step (t, 101);
  wait_idle (t);
  CsTrainerStatus s = status_of (t);
  g_assert_true (s.diagnoses & CS_DIAGNOSIS_DEAD_RELU);
  g_assert_nonnull (strstr (s.diagnosis, "100% of the units after layer 2 (ReLU)"));
}

/* The gradient norms: every batch a person steps; while training plays,
 * at most every 2 ms (a pass over every gradient is worth it for a slow
 * model's steps, not for a fast one's), never more often, however fast or
 * slow the machine. */
static void
test_measure_while_playing (void)
{
  g_autoptr(CsTrainer) t = new_trainer (256, 0, 8, 1);
  g_autoptr(CsTrainHistory) h = cs_train_history_new (0, NULL);

  gint64 t0 = g_get_monotonic_time ();
  cs_trainer_play (t);
  while (status_of (t).step < 60)
    {
      g_assert_cmpint (g_get_monotonic_time () - t0, <, TIMEOUT_US);
      g_usleep (1000);
    }
  cs_trainer_pause (t);
  wait_idle (t);
  gint64 played_us = g_get_monotonic_time () - t0;
  cs_trainer_sync_history (t, h);
  guint n = h->records->len, measured = 0;
  g_assert_cmpuint (n, >=, 60);
  for (guint i = 0; i < n; i++)
    if (isfinite (g_array_index (h->records, CsTrainRecord, i).grad_norm))
      measured++;
  g_assert_cmpuint (measured, >=, 1);
  g_assert_cmpuint (measured, <=, played_us / 2000 + 1);
  /* the dead-unit tracking saw every batch all the same */
  g_assert_cmpint (status_of (t).diagnoses & CS_DIAGNOSIS_DEAD_RELU, ==, 0);

  cs_trainer_step (t, 5);
  wait_idle (t);
  cs_trainer_sync_history (t, h);
  g_assert_cmpuint (h->records->len, ==, n + 5);
  for (guint i = n; i < n + 5; i++)
    {
      const CsTrainRecord *r = &g_array_index (h->records, CsTrainRecord, i);
      g_assert_cmpfloat (r->grad_norm, >, 0.0f);
      g_assert_cmpfloat (g_array_index (h->layer_norms, float, i * h->n_layers + 1), >, 0.0f);
    }
}

static void
test_device (void)
{
  g_autoptr(CsTrainer) t = new_trainer (256, 0, 16, 1);
  g_autoptr(GError) error = NULL;
  const CsBackend *gpu = cs_backend_cuda (&error);

  cs_trainer_set_device (t, "cuda");
  cs_trainer_step (t, 2);
  wait_idle (t);
  CsTrainerStatus s = status_of (t);
  g_assert_cmpint (s.step, ==, 2);
  if (gpu == NULL)
    {
      /* no CUDA here: said so, and the run goes on on the CPU */
      g_assert_cmpuint (s.error_serial, ==, 1);
      g_assert_nonnull (strstr (s.error, "device “cuda”"));
      g_assert_nonnull (strstr (s.error, "stays on cpu"));
      g_assert_cmpstr (s.device, ==, "cpu");
    }
  else
    {
      g_assert_cmpuint (s.error_serial, ==, 0);
      g_assert_cmpstr (s.device, ==, gpu->name);
    }

  cs_trainer_set_device (t, "abacus");
  cs_trainer_set_device (t, "cpu");
  cs_trainer_step (t, 1);
  wait_idle (t);
  s = status_of (t);
  g_assert_cmpstr (s.device, ==, "cpu");
  g_assert_nonnull (strstr (s.error, "abacus"));
  g_assert_cmpint (s.step, ==, 3);

#ifdef CS_HAVE_CUDA
  /* On the CUDA backend (emulated on the host when there is no GPU): the
   * snapshot's model is on the CPU and holds the trained weights. */
  const CsBackend *cuda = gpu ? gpu : _cs_backend_cuda_emulated ();
  cs_trainer_set_snapshot_func (t, copy_snapshot, NULL, snap_free);
  cs_trainer_set_backend (t, cuda);
  cs_trainer_step (t, 3);
  wait_idle (t);
  s = status_of (t);
  g_assert_cmpstr (s.device, ==, cuda->name);
  g_assert_cmpint (s.step, ==, 6);
  Snap *snap = cs_trainer_take_snapshot (t, NULL);
  g_assert_nonnull (snap);
  g_assert_cmpint (snap->step, ==, 6);
  g_autoptr(Weights) w = weights_of (t);
  g_assert_cmpmem (snap->params, snap->P * sizeof (float), w->block, snap->P * sizeof (float));
  snap_free (snap);

  g_autoptr(CsTrainHistory) h = cs_train_history_new (0, NULL);
  cs_trainer_sync_history (t, h);
  g_assert_cmpuint (h->records->len, ==, 6);
  cs_trainer_set_backend (t, cs_backend_cpu ());
  cs_trainer_step (t, 1);
  wait_idle (t);
  g_assert_cmpstr (status_of (t).device, ==, "cpu");
#endif
}

/* The trainer keeps its evaluator of the test split from one evaluation
 * to the next, and makes a new one when the batch, the model or the data
 * change (AddressSanitizer would see one left reading freed buffers). */
static void
test_evaluator_changes (void)
{
  g_autoptr(CsTrainer) t = new_trainer (256, 64, 16, 1);
  g_autoptr(GError) error = NULL;

  cs_trainer_evaluate (t);
  wait_idle (t);
  CsTrainerStatus s = status_of (t);
  g_assert_cmpint (s.test_step, ==, 0);
  double acc = s.test_accuracy, loss = s.test_loss;
  g_assert_true (acc >= 0.0 && acc <= 1.0 && isfinite (loss));

  /* the same weights in batches of 40: the same answers */
  g_assert_true (cs_trainer_set_batch_size (t, 40, &error));
  cs_trainer_evaluate (t);
  wait_idle (t);
  s = status_of (t);
  g_assert_cmpfloat (s.test_accuracy, ==, acc);
  g_assert_cmpfloat_with_epsilon (s.test_loss, loss, 1e-5 * loss);

  /* another model, then other data */
  cs_trainer_set_model_preset (t, "simple-cnn", &error);
  g_assert_no_error (error);
  cs_trainer_evaluate (t);
  cs_trainer_step (t, 2);
  wait_idle (t);
  cs_trainer_evaluate (t);
  wait_idle (t);
  s = status_of (t);
  g_assert_cmpstr (s.model, ==, "simple-cnn");
  g_assert_cmpint (s.test_step, ==, 2);
  g_assert_true (isfinite (s.test_loss));

  cs_trainer_set_dataset (t, subset (digits_train, 1000, 100), subset (digits_test, 0, 30));
  cs_trainer_evaluate (t);
  wait_idle (t);
  s = status_of (t);
  g_assert_cmpuint (s.test_examples, ==, 30);
  g_assert_cmpint (s.test_step, ==, 0);
  g_assert_true (isfinite (s.test_loss));
  g_assert_cmpuint (s.error_serial, ==, 0);
}

static void
test_settings (void)
{
  g_autoptr(CsTrainer) t = new_trainer (256, 64, 16, 1);
  g_autoptr(GError) error = NULL;

  /* checked at the door */
  g_assert_false (cs_trainer_set_learning_rate (t, -1.0, &error));
  g_assert_error (error, CS_ERROR, CS_ERROR_UNSUPPORTED);
  g_clear_error (&error);
  g_assert_false (cs_trainer_set_batch_size (t, 0, &error));
  g_assert_error (error, CS_ERROR, CS_ERROR_UNSUPPORTED);
  g_clear_error (&error);
  CsOptimConfig bad;
  cs_optim_config_init (&bad, CS_OPTIM_SGD);
  bad.hp.momentum = 2.0f;
  g_assert_false (cs_trainer_set_optim (t, &bad, &error));
  g_clear_error (&error);
  g_assert_cmpuint (cs_trainer_set_model_preset (t, "no-such-model", &error), ==, 0);
  g_assert_nonnull (error);
  g_clear_error (&error);

  /* applied between batches */
  g_assert_true (cs_trainer_set_learning_rate (t, 0.002, &error));
  g_assert_true (cs_trainer_set_batch_size (t, 40, &error));
  cs_trainer_step (t, 1);
  wait_idle (t);
  CsTrainerStatus s = status_of (t);
  g_assert_cmpfloat (s.optim.hp.lr, ==, 0.002f);
  g_assert_cmpint (s.optim.kind, ==, CS_OPTIM_ADAM);
  g_assert_cmpint (s.batch_size, ==, 40);
  g_assert_cmpuint (s.examples_seen, ==, 40);
  g_assert_cmpuint (s.batches_per_epoch, ==, 7);

  CsOptimConfig sgd;
  cs_optim_config_init (&sgd, CS_OPTIM_SGD);
  g_assert_true (cs_trainer_set_optim (t, &sgd, &error));
  cs_trainer_set_evaluate_each_epoch (t, FALSE);
  cs_trainer_step (t, 7);   /* past the end of the epoch, not evaluated */
  wait_idle (t);
  s = status_of (t);
  g_assert_cmpint (s.optim.kind, ==, CS_OPTIM_SGD);
  g_assert_cmpint (s.step, ==, 8);
  g_assert_cmpuint (s.examples_seen, ==, 7 * 40 + 16);   /* the epoch's last batch: 16 */
  g_assert_cmpint (s.test_step, ==, -1);

  /* a model that does not fit the data: refused, the generation moves */
  guint64 gen = cs_trainer_set_model_json (
      t, "{\"name\": \"rgb\", \"input\": [3, 32, 32], \"layers\": [{\"type\": \"flatten\"}, "
         "{\"type\": \"linear\", \"in_features\": 3072, \"out_features\": 10}]}", -1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (gen, ==, s.generation + 1);
  wait_idle (t);
  s = status_of (t);
  g_assert_cmpuint (s.generation, ==, gen);
  g_assert_cmpstr (s.model, ==, "mlp");
  g_assert_nonnull (strstr (s.error, "rgb"));
  g_assert_cmpint (s.step, ==, 8);

  /* a model that fits: a new run */
  gen = cs_trainer_set_model_preset (t, "simple-cnn", &error);
  g_assert_no_error (error);
  cs_trainer_set_batch_size (t, 8, NULL);
  cs_trainer_step (t, 1);
  wait_idle (t);
  s = status_of (t);
  g_assert_cmpuint (s.generation, ==, gen);
  g_assert_cmpstr (s.model, ==, "simple-cnn");
  g_assert_cmpint (s.step, ==, 1);
  g_assert_cmpuint (s.examples_seen, ==, 8);
  g_autoptr(CsTrainHistory) h = cs_train_history_new (0, NULL);
  cs_trainer_sync_history (t, h);
  g_assert_cmpuint (h->n_layers, ==, 10);
  g_assert_cmpuint (h->records->len, ==, 1);

  /* new data: a new run */
  cs_trainer_set_model_preset (t, "mlp", &error);
  gen = cs_trainer_set_dataset (t, subset (digits_train, 1000, 100), NULL);
  cs_trainer_evaluate (t);
  cs_trainer_step (t, 2);
  wait_idle (t);
  s = status_of (t);
  g_assert_cmpuint (s.generation, ==, gen);
  g_assert_cmpuint (s.train_examples, ==, 100);
  g_assert_cmpuint (s.test_examples, ==, 0);
  g_assert_cmpint (s.step, ==, 2);
  g_assert_nonnull (strstr (s.error, "no test split"));
  g_assert_cmpint (s.watch_index, ==, 0);   /* of the training split now */

  /* data the model cannot take */
  CsDataset *tiny = subset (digits_train, 0, 10);
  tiny->rows = 14;
  tiny->cols = 14;   /* claims 14×14 of the first 196 bytes … */
  tiny->n = 10;
  gen = cs_trainer_set_dataset (t, tiny, NULL);
  wait_idle (t);
  s = status_of (t);
  g_assert_cmpuint (s.generation, ==, gen);
  g_assert_cmpuint (s.train_examples, ==, 100);
  g_assert_nonnull (strstr (s.error, "14×14"));
}

/* A bad model or data at construction: an error, and nothing leaks. */
static void
test_new_errors (void)
{
  g_autoptr(GError) error = NULL;
  CsTrainerConfig config;
  cs_trainer_config_init (&config);

  CsDataset *small = subset (digits_train, 0, 10);
  small->rows = small->cols = 7;
  CsTrainer *t = cs_trainer_new (mlp (), small, NULL, &config, &error);
  g_assert_null (t);
  g_assert_error (error, CS_ERROR, CS_ERROR_MISMATCH);
  g_clear_error (&error);

  config.batch_size = 0;
  t = cs_trainer_new (mlp (), subset (digits_train, 0, 10), NULL, &config, &error);
  g_assert_null (t);
  g_assert_error (error, CS_ERROR, CS_ERROR_UNSUPPORTED);
}

/* ---- a thousand random commands from two threads ------------------------------ */

typedef struct
{
  CsTrainer *trainer;
  guint32 seed;
  int n_ops;
  guint64 last_reset;      /* the generation of this thread's last reset */
} Driver;

static void
random_op (Driver *d, GRand *rand)
{
  CsTrainer *t = d->trainer;
  int op = g_rand_int_range (rand, 0, 32);

  if (op < 4)
    cs_trainer_play (t);
  else if (op < 7)
    cs_trainer_pause (t);
  else if (op < 11)
    cs_trainer_step (t, (guint) g_rand_int_range (rand, 1, 4));
  else if (op < 12)
    {
      guint64 gen = cs_trainer_reset (t);
      g_assert_cmpuint (gen, >, d->last_reset);
      d->last_reset = gen;
    }
  else if (op < 14)
    cs_trainer_set_learning_rate (t, g_rand_double_range (rand, 1e-4, 1e-2), NULL);
  else if (op < 16)
    cs_trainer_set_batch_size (t, g_rand_boolean (rand) ? 8 : 16, NULL);
  else if (op < 17)
    {
      CsOptimConfig c;
      cs_optim_config_init (&c, (CsOptimKind) g_rand_int_range (rand, 0, 3));
      cs_trainer_set_optim (t, &c, NULL);
    }
  else if (op < 19)
    cs_trainer_evaluate (t);
  else if (op < 21)
    cs_trainer_watch (t, (guint) g_rand_int_range (rand, 0, 40));
  else if (op < 23)
    cs_trainer_request_snapshot (t);
  else if (op < 26)
    {
      guint64 gen;
      Snap *s = cs_trainer_take_snapshot (t, &gen);
      if (s != NULL)
        {
          g_assert_cmpuint (s->generation, ==, gen);
          g_assert_cmpuint (gen, >=, d->last_reset);
          snap_free (s);
        }
    }
  else if (op < 29)
    {
      CsTrainerStatus s;
      cs_trainer_get_status (t, &s);
      g_assert_cmpint (s.step, >=, 0);
      g_assert_cmpuint (s.examples_seen, <=, (guint64) s.step * 16);
      g_assert_cmpuint (s.examples_seen, >=, (guint64) s.step * 8);
    }
  else if (op < 30)
    cs_trainer_set_intervals (t, (guint) g_rand_int_range (rand, 0, 20),
                              (guint) g_rand_int_range (rand, 0, 50));
  else if (op < 31)
    cs_trainer_set_seed (t, (guint64) g_rand_int_range (rand, 1, 4));
  else
    {
      g_autoptr(CsTrainHistory) h = cs_train_history_new (0, NULL);
      cs_trainer_sync_history (t, h);
      g_assert_cmpuint (h->layer_norms->len, ==, h->records->len * h->n_layers);
    }
  g_usleep ((gulong) g_rand_int_range (rand, 0, 2000));
}

static gpointer
driver_main (gpointer data)
{
  Driver *d = data;
  g_autoptr(GRand) rand = g_rand_new_with_seed (d->seed);
  for (int i = 0; i < d->n_ops; i++)
    random_op (d, rand);
  return NULL;
}

static void
test_interleavings (void)
{
  Watchdog *dog = watchdog_start (120);
  g_autoptr(GMainContext) ctx = g_main_context_new ();
  g_main_context_push_thread_default (ctx);
  Updates u = { g_array_new (FALSE, FALSE, sizeof (CsTrainerStatus)), 0, 0, 0, 0 };
  g_autoptr(CsTrainer) t = new_trainer (256, 40, 8, 1);

  cs_trainer_set_update_func (t, NULL, on_update, &u, NULL);
  cs_trainer_set_snapshot_func (t, copy_snapshot, NULL, snap_free);

  /* 500 commands here (delivering updates between them), 500 there */
  Driver other = { t, g_test_rand_int (), 500, 0 };
  Driver mine = { t, g_test_rand_int (), 500, 0 };
  GThread *thread = g_thread_new ("driver", driver_main, &other);
  g_autoptr(GRand) rand = g_rand_new_with_seed (mine.seed);
  for (int i = 0; i < mine.n_ops; i++)
    {
      random_op (&mine, rand);
      g_main_context_iteration (ctx, FALSE);
    }
  g_thread_join (thread);

  /* comes to rest, consistent */
  cs_trainer_pause (t);
  wait_idle (t);
  CsTrainerStatus s = status_of (t);
  g_assert_cmpint (s.state, ==, CS_TRAINER_PAUSED);
  g_assert_cmpuint (s.generation, >=, MAX (mine.last_reset, other.last_reset));
  g_autoptr(CsTrainHistory) h = cs_train_history_new (0, NULL);
  cs_trainer_sync_history (t, h);
  g_assert_cmpuint (h->generation, ==, s.generation);
  g_assert_cmpuint (h->records->len, ==, (guint) s.step);
  guint64 seen = 0;
  for (guint i = 0; i < h->records->len; i++)
    {
      const CsTrainRecord *r = &g_array_index (h->records, CsTrainRecord, i);
      g_assert_cmpint (r->step, ==, (gint64) i + 1);
      seen += r->size;
    }
  g_assert_cmpuint (s.examples_seen, ==, seen);
  g_autoptr(Weights) w = weights_of (t);
  g_assert_cmpint (w->step, ==, s.step);
  g_test_message ("after 1000 commands: generation %" G_GUINT64_FORMAT ", step %" G_GINT64_FORMAT
                  ", %u updates delivered, %u with a snapshot", s.generation, s.step,
                  u.statuses->len, u.snapshots);

  /* and still does exactly what it is told */
  cs_trainer_step (t, 3);
  wait_idle (t);
  g_assert_cmpint (status_of (t).step, ==, s.step + 3);
  guint64 gen = cs_trainer_reset (t);
  g_assert_cmpuint (gen, ==, s.generation + 1);
  wait_idle (t);
  g_assert_cmpint (status_of (t).step, ==, 0);

  /* the updates delivered at the end say the same */
  u.min_generation = gen;
  iterate_until (ctx, reached_step, &u, GINT_TO_POINTER (0));

  g_clear_pointer (&t, cs_trainer_free);
  g_main_context_pop_thread_default (ctx);
  g_array_unref (u.statuses);
  watchdog_stop (dog);
}

/* Freed while playing, with a step queued and updates pending. */
static void
test_free_while_playing (void)
{
  Watchdog *dog = watchdog_start (60);
  for (int round = 0; round < 5; round++)
    {
      CsTrainer *t = new_trainer (256, 40, 8, 1);
      cs_trainer_set_snapshot_func (t, copy_snapshot, NULL, snap_free);
      cs_trainer_play (t);
      g_usleep (2000 * round);
      cs_trainer_step (t, 100);
      cs_trainer_free (t);
    }
  watchdog_stop (dog);
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;

  g_test_init (&argc, &argv, NULL);
  cs_backend_cpu_set_threads (2);
  digits_train = cs_dataset_load_named ("digits", "train", &error);
  g_assert_no_error (error);
  digits_test = cs_dataset_load_named ("digits", "test", &error);
  g_assert_no_error (error);

  g_test_add_func ("/core/trainer/step/one-batch", test_step_one_batch);
  g_test_add_func ("/core/trainer/step/batch-and-loss-after", test_step_batch_and_loss_after);
  g_test_add_func ("/core/trainer/determinism/direct", test_determinism);
  g_test_add_func ("/core/trainer/determinism/cli", test_determinism_cli);
  g_test_add_func ("/core/trainer/reset", test_reset);
  g_test_add_func ("/core/trainer/snapshot", test_snapshot);
  g_test_add_func ("/core/trainer/updates", test_updates);
  g_test_add_func ("/core/trainer/diagnostics/nan", test_nan_pauses);
  g_test_add_func ("/core/trainer/diagnostics/dead-relu", test_dead_relus);
  g_test_add_func ("/core/trainer/diagnostics/lr-too-high", test_lr_too_high);
  g_test_add_func ("/core/trainer/diagnostics/measure-while-playing", test_measure_while_playing);
  g_test_add_func ("/core/trainer/device", test_device);
  g_test_add_func ("/core/trainer/settings", test_settings);
  g_test_add_func ("/core/trainer/evaluator-changes", test_evaluator_changes);
  g_test_add_func ("/core/trainer/new-errors", test_new_errors);
  g_test_add_func ("/core/trainer/interleavings", test_interleavings);
  g_test_add_func ("/core/trainer/free-while-playing", test_free_while_playing);

  int rc = g_test_run ();
  cs_dataset_free (digits_train);
  cs_dataset_free (digits_test);
  return rc;
}
