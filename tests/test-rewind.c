/* test-rewind.c — rewinding a run, experiments by hand, bounded memory
 *
 * A rewind gives back exactly the parameter block recorded at that step,
 * and training on from it repeats the run bit for bit (and equals a fresh
 * run's same steps); showing a checkpoint hands the snapshot hook its
 * weights without touching the run; the history and the checkpoints stay
 * within their bounds however long training runs, and the curves still
 * start at step 1; a frozen unit's numbers stay bit-identical while the
 * others learn; a zeroed unit is 0 and changes the prediction; commands
 * from another thread while training plays leave the run consistent.
 *
 * The MLP's layers with 16 hidden units (and the SimpleCNN for a kernel)
 * on small subsets of the bundled digits, with a fixed thread count.
 */
#include "core/dataset.h"
#include "core/diagnostics.h"
#include "core/model.h"
#include "core/optim.h"
#include "core/rng.h"
#include "core/trainer.h"
#include "tests/trainer-fixture.h"
#include "core/sync-private.h"   /* locks ThreadSanitizer sees */

#include <math.h>
#include <string.h>

static CsDataset *digits_train, *digits_test;

/* The MLP's layers with 16 hidden units: quick, also under ThreadSanitizer. */
static const char tiny_json[] =
  "{ \"name\": \"tiny\", \"input\": [1, 28, 28], \"init\": \"xavier_uniform\", "
  "  \"layers\": [ { \"type\": \"flatten\" }, "
  "    { \"type\": \"linear\", \"in_features\": 784, \"out_features\": 16 }, "
  "    { \"type\": \"relu\" }, "
  "    { \"type\": \"linear\", \"in_features\": 16, \"out_features\": 10 } ] }";

static CsModel *
model_new (const char *preset)
{
  g_autoptr(GError) error = NULL;
  CsModel *model = g_str_equal (preset, "tiny") ? cs_model_new_from_json (tiny_json, -1, &error)
                                                 : cs_model_new_preset (preset, &error);
  g_assert_no_error (error);
  return model;
}

static CsTrainer *
new_trainer_with (const char *preset, guint32 n_train, guint32 n_test, int batch,
                  CsTrainerConfig *config)
{
  g_autoptr(GError) error = NULL;
  CsTrainerConfig defaults;
  if (config == NULL)
    {
      cs_trainer_config_init (&defaults);
      config = &defaults;
    }
  config->batch_size = batch;
  CsModel *model = model_new (preset);
  CsTrainer *t = cs_trainer_new (model, subset (digits_train, 0, n_train),
                                 n_test ? subset (digits_test, 0, n_test) : NULL, config,
                                 &error);
  g_assert_no_error (error);
  return t;
}

static CsTrainer *
new_trainer (guint interval)
{
  CsTrainerConfig config;
  cs_trainer_config_init (&config);
  config.checkpoint_interval = interval;
  /* 96 examples in batches of 16: an epoch (and an evaluation) every 6 steps */
  return new_trainer_with ("tiny", 96, 32, 16, &config);
}

static CsTrainerStatus *
status_of (CsTrainer *t)
{
  static CsTrainerStatus s;
  cs_trainer_get_status (t, &s);
  return &s;
}

/* ---- the block, read on the trainer's thread ---------------------------- */

typedef struct
{
  float *block;     /* 4P + B floats */
  gsize n, P;
  gint64 step, opt_step;
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
  w->P = cs_model_get_n_params (model);
  w->n = 4 * w->P + cs_model_get_n_buffers (model);
  w->block = g_memdup2 (block, w->n * sizeof (float));
  w->step = cs_model_get_step (model);
  w->opt_step = cs_optimizer_get_step (opt);
}

static Weights *
weights_of (CsTrainer *t)
{
  Weights *w = g_new0 (Weights, 1);
  cs_trainer_invoke (t, copy_weights, w, NULL);
  wait_idle (t);
  g_assert_nonnull (w->block);
  return w;
}

static void
assert_same (const Weights *a, const Weights *b)
{
  g_assert_cmpuint (a->n, ==, b->n);
  g_assert_cmpmem (a->block, a->n * sizeof (float), b->block, b->n * sizeof (float));
  g_assert_cmpint (a->step, ==, b->step);
  g_assert_cmpint (a->opt_step, ==, b->opt_step);
}

static void
step_and_wait (CsTrainer *t, guint n)
{
  cs_trainer_step (t, n);
  wait_idle (t);
}

/* ---- rewind ----------------------------------------------------------------- */

static void
test_restore_exact (void)
{
  g_autoptr(CsTrainer) t = new_trainer (5);
  g_autoptr(CsTrainHistory) h = cs_train_history_new (0, NULL);

  step_and_wait (t, 10);
  g_autoptr(Weights) at10 = weights_of (t);
  cs_trainer_sync_history (t, h);
  guint records10 = h->records->len, evals10 = h->evals->len;
  CsTrainerStatus s10 = *status_of (t);
  g_assert_cmpuint (s10.n_checkpoints, ==, 3);   /* 0, 5, 10 */
  g_assert_cmpint (s10.checkpoints[0], ==, 0);
  g_assert_cmpint (s10.checkpoints[2], ==, 10);

  step_and_wait (t, 13);
  g_autoptr(Weights) at23 = weights_of (t);
  g_assert_cmpint (memcmp (at10->block, at23->block, at10->P * sizeof (float)), !=, 0);
  g_assert_cmpuint (status_of (t)->n_checkpoints, ==, 5);   /* … 15, 20 */

  cs_trainer_rewind (t, 10);
  wait_idle (t);
  g_autoptr(Weights) back = weights_of (t);
  assert_same (at10, back);

  CsTrainerStatus *s = status_of (t);
  g_assert_cmpint (s->step, ==, 10);
  g_assert_cmpint (s->optim_step, ==, 10);
  g_assert_cmpuint (s->epoch, ==, s10.epoch);
  g_assert_cmpuint (s->batch, ==, s10.batch);
  g_assert_cmpuint (s->examples_seen, ==, s10.examples_seen);
  g_assert_cmpfloat (s->loss, ==, s10.loss);
  g_assert_cmpint (s->test_step, ==, s10.test_step);
  g_assert_cmpuint (s->n_checkpoints, ==, 3);   /* the later ones are gone */
  g_assert_cmpint (s->checkpoints[2], ==, 10);
  g_assert_cmpint (s->viewing_step, ==, -1);
  g_assert_cmpuint (s->edits, ==, 1);

  cs_trainer_sync_history (t, h);
  g_assert_cmpuint (h->records->len, ==, records10);
  g_assert_cmpuint (h->evals->len, ==, evals10);
  g_assert_cmpint (g_array_index (h->records, CsTrainRecord, records10 - 1).step, ==, 10);

  /* A step without a checkpoint: refused, nothing changes. */
  guint64 errors = s->error_serial;
  cs_trainer_rewind (t, 7);
  wait_idle (t);
  g_assert_cmpuint (status_of (t)->error_serial, ==, errors + 1);
  g_autoptr(Weights) still = weights_of (t);
  assert_same (at10, still);
}

static void
test_resume_deterministic (void)
{
  g_autoptr(CsTrainer) a = new_trainer (5);
  step_and_wait (a, 25);
  g_autoptr(Weights) a25 = weights_of (a);
  g_autoptr(CsTrainHistory) ha = cs_train_history_new (0, NULL);
  cs_trainer_sync_history (a, ha);
  g_autoptr(GArray) records = g_array_copy (ha->records);

  /* back to 10, 15 steps on: the same 25 steps */
  cs_trainer_rewind (a, 10);
  step_and_wait (a, 15);
  g_autoptr(Weights) again = weights_of (a);
  assert_same (a25, again);
  cs_trainer_sync_history (a, ha);
  g_assert_cmpuint (ha->records->len, ==, records->len);
  g_assert_cmpmem (ha->records->data, records->len * sizeof (CsTrainRecord),
                   records->data, records->len * sizeof (CsTrainRecord));

  /* and a fresh run's */
  g_autoptr(CsTrainer) b = new_trainer (5);
  step_and_wait (b, 25);
  g_autoptr(Weights) b25 = weights_of (b);
  assert_same (a25, b25);

  /* back to step 0 is the start of the run */
  cs_trainer_rewind (a, 0);
  wait_idle (a);
  g_autoptr(CsTrainer) c = new_trainer (5);
  g_autoptr(Weights) c0 = weights_of (c);
  g_autoptr(Weights) a0 = weights_of (a);
  assert_same (c0, a0);
  g_assert_cmpuint (status_of (a)->n_checkpoints, ==, 1);
}

/* The snapshot hook's model and status, copied. */
typedef struct
{
  GMutex lock;
  float *params;
  gsize P;
  gint64 step, model_step;
  float logits[10];
  int calls;
} Seen;

static gpointer
seen_hook (CsTrainer *trainer, CsModel *model, const CsTrainerStatus *status, gpointer data)
{
  Seen *seen = data;
  cs_mutex_lock (&seen->lock);
  seen->P = cs_model_get_n_params (model);
  g_free (seen->params);
  seen->params = g_memdup2 (cs_model_get_params (model), seen->P * sizeof (float));
  seen->step = status->step;
  seen->model_step = cs_model_get_step (model);
  CsTensor out = cs_model_get_activation (model, cs_model_get_n_layers (model));
  memcpy (seen->logits, out.data, sizeof seen->logits);
  seen->calls++;
  cs_mutex_unlock (&seen->lock);
  return NULL;
}

static void
test_show_checkpoint (void)
{
  g_autoptr(CsTrainer) t = new_trainer (5);
  Seen seen = { 0 };
  g_mutex_init (&seen.lock);
  cs_trainer_set_snapshot_func (t, seen_hook, &seen, NULL);

  step_and_wait (t, 5);
  g_autoptr(Weights) at5 = weights_of (t);
  step_and_wait (t, 7);
  g_autoptr(Weights) at12 = weights_of (t);

  cs_trainer_show_checkpoint (t, 5);
  wait_idle (t);
  cs_mutex_lock (&seen.lock);
  g_assert_cmpint (seen.step, ==, 5);
  g_assert_cmpint (seen.model_step, ==, 5);
  g_assert_cmpmem (seen.params, seen.P * sizeof (float), at5->block, at5->P * sizeof (float));
  cs_mutex_unlock (&seen.lock);
  CsTrainerStatus *s = status_of (t);
  g_assert_cmpint (s->viewing_step, ==, 5);
  g_assert_cmpint (s->step, ==, 12);   /* the run is where it was */
  g_autoptr(Weights) run = weights_of (t);
  assert_same (at12, run);

  /* back to the run as it is */
  cs_trainer_show_checkpoint (t, -1);
  wait_idle (t);
  g_assert_cmpint (status_of (t)->viewing_step, ==, -1);
  cs_mutex_lock (&seen.lock);
  g_assert_cmpint (seen.step, ==, 12);
  g_assert_cmpmem (seen.params, seen.P * sizeof (float), at12->block, at12->P * sizeof (float));
  cs_mutex_unlock (&seen.lock);

  /* a step while one is shown trains the run, from where it is */
  cs_trainer_show_checkpoint (t, 0);
  step_and_wait (t, 1);
  s = status_of (t);
  g_assert_cmpint (s->viewing_step, ==, -1);
  g_assert_cmpint (s->step, ==, 13);

  cs_trainer_set_snapshot_func (t, NULL, NULL, NULL);
  wait_idle (t);
  g_free (seen.params);
  g_mutex_clear (&seen.lock);
}

/* ---- bounded memory ------------------------------------------------------------ */

static void
check_history (const CsTrainHistory *h, const CsTrainHistoryLimits *lim, gint64 last_step)
{
  g_assert_cmpuint (h->records->len, <=, lim->max_records);
  g_assert_cmpuint (h->evals->len, <=, lim->max_evals);
  g_assert_cmpuint (h->layer_norms->len, ==, h->records->len * h->n_layers);
  gsize bytes = h->records->len * (sizeof (CsTrainRecord) + h->n_layers * sizeof (float))
                + h->evals->len * sizeof (CsTrainEval);
  g_assert_cmpuint (bytes, <=, cs_train_history_limits_bytes (lim, h->n_layers));
  if (last_step == 0)
    return;
  const CsTrainRecord *r = (const CsTrainRecord *) h->records->data;
  guint n = h->records->len;
  g_assert_cmpint (r[0].step, ==, 1);             /* the curve starts at the start */
  g_assert_cmpint (r[n - 1].step, ==, last_step); /* and ends now */
  for (guint i = 1; i < n; i++)
    g_assert_cmpint (r[i].step, >, r[i - 1].step);
  /* the older ones evenly spaced */
  g_assert_cmpuint (h->n_older, <=, n);
  for (guint i = 1; i < h->n_older; i++)
    g_assert_cmpint (r[i].step - r[i - 1].step, ==, h->stride);
  /* the latest at full resolution */
  guint recent = MIN (n, lim->recent);
  for (guint i = n - recent + 1; i < n; i++)
    g_assert_cmpint (r[i].step, ==, r[i - 1].step + 1);
}

static void
test_history_bounded (void)
{
  CsTrainHistoryLimits lim = { .max_records = 100, .recent = 30, .max_evals = 10 };
  g_autoptr(CsTrainHistory) h = cs_train_history_new (3, NULL);
  cs_train_history_set_limits (h, &lim);
  float norms[3] = { 1, 2, 3 };
  for (gint64 step = 1; step <= 200000; step++)
    {
      CsTrainRecord rec = { .step = step, .loss = 1.0f / step, .lr = 0.1f };
      norms[0] = (float) step;
      cs_train_history_append (h, &rec, norms);
      if (step % 97 == 0)
        {
          CsTrainEval e = { .step = step };
          cs_train_history_add_eval (h, &e);
        }
      if (step % 1013 == 0 || step == 200000)
        check_history (h, &lim, step);
    }
  /* the norms moved with their records */
  for (guint i = 0; i < h->records->len; i++)
    g_assert_cmpfloat (g_array_index (h->layer_norms, float, i * 3),
                       ==, (float) g_array_index (h->records, CsTrainRecord, i).step);
  g_assert_cmpint (g_array_index (h->evals, CsTrainEval, 0).step, ==, 97);
  /* the curve spans the run evenly */
  g_assert_cmpuint (h->n_older, >=, 10);
  gint64 middle = g_array_index (h->records, CsTrainRecord, h->n_older / 2).step;
  g_assert_cmpint (middle, >, 50000);
  g_assert_cmpint (middle, <, 150000);
}

static void
test_trainer_bounded (void)
{
  CsTrainerConfig config;
  cs_trainer_config_init (&config);
  config.history = (CsTrainHistoryLimits) { .max_records = 64, .recent = 16, .max_evals = 8 };
  config.checkpoint_interval = 1;
  config.max_checkpoints = 32;
  g_autoptr(CsModel) probe = model_new ("tiny");
  gsize one = cs_trainer_checkpoint_size (probe, 64);
  config.checkpoint_bytes = 5 * one + one / 2;   /* room for 5 */
  g_autoptr(CsTrainer) t = new_trainer_with ("tiny", 64, 16, 8, &config);
  g_autoptr(CsTrainHistory) mirror = cs_train_history_new (0, NULL);

  for (int round = 1; round <= 30; round++)
    {
      step_and_wait (t, 37);
      CsTrainerStatus *s = status_of (t);
      g_assert_cmpint (s->step, ==, round * 37);
      g_assert_cmpuint (s->n_checkpoints, <=, 5);
      g_assert_cmpuint (s->checkpoint_bytes, <=, config.checkpoint_bytes);
      g_assert_cmpint (s->checkpoints[0], ==, 0);
      g_assert_cmpint (s->checkpoints[s->n_checkpoints - 1], ==, s->step);
      for (guint i = 1; i < s->n_checkpoints; i++)
        g_assert_cmpint (s->checkpoints[i], >, s->checkpoints[i - 1]);
      cs_trainer_sync_history (t, mirror);
      check_history (mirror, &config.history, s->step);
    }
  /* spread over the run, not bunched at its end */
  CsTrainerStatus *s = status_of (t);
  g_assert_cmpuint (s->n_checkpoints, ==, 5);
  g_assert_cmpint (s->checkpoints[1], <, s->step / 2);

  /* and rewinding to one of them still works */
  gint64 to = s->checkpoints[2];
  cs_trainer_rewind (t, to);
  wait_idle (t);
  g_assert_cmpint (status_of (t)->step, ==, to);
  cs_trainer_sync_history (t, mirror);
  /* up to that step: the record of step `to` itself may have been thinned */
  guint n = mirror->records->len;
  g_assert_cmpuint (n, >, 1);
  g_assert_cmpint (g_array_index (mirror->records, CsTrainRecord, 0).step, ==, 1);
  g_assert_cmpint (g_array_index (mirror->records, CsTrainRecord, n - 1).step, <=, to);
  g_assert_cmpint (g_array_index (mirror->records, CsTrainRecord, n - 1).step, >, to / 2);
  /* and training on fills the curve again */
  step_and_wait (t, 100);
  cs_trainer_sync_history (t, mirror);
  check_history (mirror, &config.history, to + 100);
}

/* ---- experiments by hand ----------------------------------------------------------- */

/* The floats of row unit of entry name (and its bias), in a copied block. */
static const float *
row_of (CsModel *model, const Weights *w, const char *name, guint unit, gsize *n)
{
  const CsModelEntry *e = cs_model_find_entry (model, name);
  g_assert_nonnull (e);
  const CsTensor *v = e->param->value;
  *n = (gsize) (cs_tensor_numel (v) / v->shape[0]);
  return w->block + cs_model_get_entry_offset (model, e) + unit * *n;
}

static void
assert_unit (CsModel *model, const Weights *a, const Weights *b, guint layer, guint unit,
             gboolean same, gboolean masked)
{
  g_autofree char *wname = g_strdup_printf ("%u.weight", layer);
  g_autofree char *bname = g_strdup_printf ("%u.bias", layer);
  gsize n, nb;
  const float *wa = row_of (model, a, wname, unit, &n), *wb = row_of (model, b, wname, unit, &n);
  const float *ba = row_of (model, a, bname, unit, &nb), *bb = row_of (model, b, bname, unit, &nb);
  gsize P = a->P;
  if (same)
    {
      /* parameters and both optimizer states, bit for bit */
      for (int part = 0; part < 4; part += part == 0 ? 2 : 1)
        {
          g_assert_cmpmem (wa + part * P, n * sizeof (float), wb + part * P, n * sizeof (float));
          g_assert_cmpmem (ba + part * P, sizeof (float), bb + part * P, sizeof (float));
        }
      /* its gradient is masked */
      for (gsize i = 0; masked && i < n; i++)
        g_assert_cmpfloat (wb[P + i], ==, 0.0f);
    }
  else
    g_assert_cmpint (memcmp (wa, wb, n * sizeof (float)), !=, 0);
}

static void
test_freeze (gconstpointer data)
{
  const char *preset = data;
  gboolean cnn = g_str_equal (preset, "simple-cnn");
  guint layer = cnn ? 0 : 1, unit = 5;   /* a conv kernel, or a hidden unit */
  g_autoptr(CsModel) model = model_new (preset);
  g_autoptr(CsTrainer) t = new_trainer_with (preset, 64, 0, 8, NULL);

  step_and_wait (t, 3);          /* the optimizer has moments for it */
  g_autoptr(Weights) before = weights_of (t);
  cs_trainer_freeze_unit (t, layer, unit, TRUE);
  step_and_wait (t, 4);
  g_autoptr(Weights) after = weights_of (t);
  CsTrainerStatus *s = status_of (t);
  g_assert_cmpuint (s->n_frozen, ==, 1);
  g_assert_true (cs_trainer_status_is_frozen (s, layer, unit));
  g_assert_false (cs_trainer_status_is_frozen (s, layer, unit + 1));
  assert_unit (model, before, after, layer, unit, TRUE, TRUE);
  assert_unit (model, before, after, layer, unit + 1, FALSE, FALSE);
  assert_unit (model, before, after, layer, unit - 1, FALSE, FALSE);

  /* thawed, it learns again */
  cs_trainer_freeze_unit (t, layer, unit, FALSE);
  step_and_wait (t, 1);
  g_autoptr(Weights) thawed = weights_of (t);
  g_assert_cmpuint (status_of (t)->n_frozen, ==, 0);
  assert_unit (model, after, thawed, layer, unit, FALSE, FALSE);

  /* a layer without units of its own is refused */
  guint64 errors = status_of (t)->error_serial;
  cs_trainer_freeze_unit (t, cnn ? 1 : 2, 0, TRUE);   /* max-pool, ReLU */
  wait_idle (t);
  g_assert_cmpuint (status_of (t)->error_serial, ==, errors + 1);
  g_assert_cmpuint (status_of (t)->n_frozen, ==, 0);
}

static void
test_zero (void)
{
  g_autoptr(CsModel) model = model_new ("tiny");
  g_autoptr(CsTrainer) t = new_trainer_with ("tiny", 64, 16, 8, NULL);
  Seen seen = { 0 };
  g_mutex_init (&seen.lock);
  cs_trainer_set_snapshot_func (t, seen_hook, &seen, NULL);
  step_and_wait (t, 5);

  /* the hidden unit most active for the watched example */
  g_autoptr(Weights) before = weights_of (t);
  float logits_before[10];
  cs_mutex_lock (&seen.lock);
  memcpy (logits_before, seen.logits, sizeof logits_before);
  cs_mutex_unlock (&seen.lock);
  gsize n;
  const float *w1 = row_of (model, before, "1.weight", 0, &n);
  g_autofree float *img = g_new (float, 784);
  gint32 label;
  guint32 idx = 0;
  cs_dataset_fill_batch (digits_test, &idx, 1, img, &label);
  guint best = 0;
  double best_a = -G_MAXDOUBLE;
  for (guint u = 0; u < 16; u++)
    {
      double a = row_of (model, before, "1.bias", u, &n)[0];
      for (gsize i = 0; i < 784; i++)
        a += (double) w1[u * 784 + i] * img[i];
      if (a > best_a)
        best_a = a, best = u;
    }
  g_assert_cmpfloat (best_a, >, 0.0);

  cs_trainer_zero_unit (t, 1, best);
  wait_idle (t);
  g_autoptr(Weights) zeroed = weights_of (t);
  const float *w = row_of (model, zeroed, "1.weight", best, &n);
  const float *b = row_of (model, zeroed, "1.bias", best, &n);
  for (int part = 0; part < 4; part++)   /* value, gradient, both moments */
    {
      for (gsize i = 0; i < 784; i++)
        g_assert_cmpfloat (w[part * zeroed->P + i], ==, 0.0f);
      g_assert_cmpfloat (b[part * zeroed->P], ==, 0.0f);
    }
  assert_unit (model, before, zeroed, 1, (best + 1) % 16, TRUE, FALSE);   /* the others untouched */
  g_assert_cmpuint (status_of (t)->edits, ==, 1);

  /* the watched example's prediction changed at once */
  cs_mutex_lock (&seen.lock);
  g_assert_cmpint (seen.step, ==, 5);
  g_assert_cmpint (memcmp (logits_before, seen.logits, sizeof logits_before), !=, 0);
  cs_mutex_unlock (&seen.lock);

  cs_trainer_set_snapshot_func (t, NULL, NULL, NULL);
  wait_idle (t);
  g_free (seen.params);
  g_mutex_clear (&seen.lock);
}

/* The checkpoints' buffers are made while the trainer is idle, before
 * training needs them, and a new run of the same model keeps them. */
static void
test_prepared (void)
{
  CsTrainerConfig config;
  cs_trainer_config_init (&config);
  config.max_checkpoints = 6;
  g_autoptr(CsTrainer) t = new_trainer_with ("tiny", 96, 0, 16, &config);
  g_autoptr(CsModel) probe = model_new ("tiny");
  gsize one = cs_trainer_checkpoint_size (probe, 96);

  gint64 deadline = g_get_monotonic_time () + TIMEOUT_US;
  while (status_of (t)->checkpoint_bytes < 6 * one)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (1000);
    }
  CsTrainerStatus *s = status_of (t);
  g_assert_cmpuint (s->checkpoint_bytes, ==, 6 * one);
  g_assert_cmpuint (s->n_checkpoints, ==, 1);   /* step 0's; the rest are buffers */

  step_and_wait (t, 60);
  s = status_of (t);
  g_assert_cmpuint (s->n_checkpoints, ==, 2);   /* 0 and 50 */
  g_assert_cmpuint (s->checkpoint_bytes, ==, 6 * one);

  cs_trainer_reset (t);
  wait_idle (t);
  s = status_of (t);
  g_assert_cmpint (s->step, ==, 0);
  g_assert_cmpuint (s->n_checkpoints, ==, 1);
  g_assert_cmpuint (s->checkpoint_bytes, ==, 6 * one);
}

/* While training plays, checkpoints are at least checkpoint_spacing_ms
 * apart; steps asked for are not thinned. A spacing of a minute: the run
 * plays for far less than that, so step 0's is the only one, however fast
 * or slow the machine. */
static void
test_spacing (void)
{
  CsTrainerConfig config;
  cs_trainer_config_init (&config);
  config.checkpoint_interval = 1;
  config.checkpoint_spacing_ms = 60 * 1000;
  g_autoptr(CsTrainer) t = new_trainer_with ("tiny", 96, 0, 16, &config);

  cs_trainer_play (t);
  gint64 deadline = g_get_monotonic_time () + TIMEOUT_US;
  while (status_of (t)->step < 40)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (1000);
    }
  cs_trainer_pause (t);
  wait_idle (t);
  CsTrainerStatus *s = status_of (t);
  gint64 played = s->step;
  g_assert_cmpint (played, >=, 40);
  g_assert_cmpuint (s->n_checkpoints, ==, 1);
  g_assert_cmpint (s->checkpoints[0], ==, 0);

  /* Step 3: a checkpoint of each of them */
  step_and_wait (t, 3);
  s = status_of (t);
  g_assert_cmpuint (s->n_checkpoints, ==, 4);
  for (int i = 1; i <= 3; i++)
    g_assert_cmpint (s->checkpoints[i], ==, played + i);

  /* and with no spacing, playing keeps every one of them (up to the most kept) */
  config.checkpoint_spacing_ms = 0;
  config.max_checkpoints = CS_TRAINER_MAX_CHECKPOINTS;
  g_autoptr(CsTrainer) every = new_trainer_with ("tiny", 96, 0, 16, &config);
  cs_trainer_play (every);
  while (status_of (every)->step < 20)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (1000);
    }
  cs_trainer_pause (every);
  wait_idle (every);
  s = status_of (every);
  g_assert_cmpuint (s->n_checkpoints, ==, MIN (s->step + 1, CS_TRAINER_MAX_CHECKPOINTS));
}

/* Commands of every kind from this thread while the trainer plays: the run
 * ends consistent (ThreadSanitizer builds see every access). */
static void
test_commands_while_playing (void)
{
  CsTrainerConfig config;
  cs_trainer_config_init (&config);
  config.checkpoint_interval = 3;
  config.max_checkpoints = 6;
  config.history = (CsTrainHistoryLimits) { .max_records = 32, .recent = 8, .max_evals = 4 };
  g_autoptr(CsTrainer) t = new_trainer_with ("tiny", 64, 16, 8, &config);
  g_autoptr(CsTrainHistory) mirror = cs_train_history_new (0, NULL);
  CsRng rng;
  cs_rng_init (&rng, 7);

  cs_trainer_play (t);
  for (int i = 0; i < 300; i++)
    {
      CsTrainerStatus *s = status_of (t);
      gint64 some = s->n_checkpoints ? s->checkpoints[cs_rng_below (&rng, s->n_checkpoints)] : 0;
      switch (cs_rng_below (&rng, 7))
        {
        case 0: cs_trainer_rewind (t, some); break;
        case 1: cs_trainer_show_checkpoint (t, some); break;
        case 2: cs_trainer_zero_unit (t, 1, cs_rng_below (&rng, 16)); break;
        case 3: cs_trainer_freeze_unit (t, 1, cs_rng_below (&rng, 16), cs_rng_below (&rng, 2)); break;
        case 4: cs_trainer_freeze_unit (t, 3, cs_rng_below (&rng, 10), TRUE); break;
        case 5: cs_trainer_play (t); break;
        default: cs_trainer_step (t, 1 + cs_rng_below (&rng, 5)); break;
        }
      cs_trainer_sync_history (t, mirror);
      g_usleep (200);
    }
  cs_trainer_pause (t);
  wait_idle (t);
  CsTrainerStatus *s = status_of (t);
  g_autoptr(Weights) w = weights_of (t);
  g_assert_cmpint (w->step, ==, s->step);
  cs_trainer_sync_history (t, mirror);
  check_history (mirror, &config.history, mirror->records->len ? s->step : 0);
  g_assert_cmpuint (s->n_checkpoints, <=, 6);
  g_assert_cmpint (s->checkpoints[0], ==, 0);
}

/* The same on a GPU, where there is one: the block goes through the
 * device's copies (checkpoints, rewind) and its copy and fill (freeze,
 * zero). */
static void
test_device (void)
{
  g_autoptr(CsTrainer) t = new_trainer (5);
  cs_trainer_set_device (t, "cuda");
  wait_idle (t);
  if (!g_str_equal (status_of (t)->device, "cuda"))
    {
      g_autofree char *why = g_strdup_printf ("no GPU: %s", status_of (t)->error);
      g_test_skip (why);
      return;
    }
  g_autoptr(CsModel) model = model_new ("tiny");

  step_and_wait (t, 10);
  g_autoptr(Weights) at10 = weights_of (t);
  step_and_wait (t, 7);
  cs_trainer_rewind (t, 10);
  wait_idle (t);
  g_autoptr(Weights) back = weights_of (t);
  assert_same (at10, back);
  step_and_wait (t, 7);
  g_autoptr(Weights) at17 = weights_of (t);
  cs_trainer_rewind (t, 10);
  step_and_wait (t, 7);
  g_autoptr(Weights) again = weights_of (t);
  assert_same (at17, again);

  cs_trainer_freeze_unit (t, 1, 3, TRUE);
  step_and_wait (t, 3);
  g_autoptr(Weights) frozen = weights_of (t);
  assert_unit (model, again, frozen, 1, 3, TRUE, TRUE);
  assert_unit (model, again, frozen, 1, 4, FALSE, FALSE);

  cs_trainer_zero_unit (t, 1, 4);
  wait_idle (t);
  g_autoptr(Weights) zeroed = weights_of (t);
  gsize n;
  const float *w = row_of (model, zeroed, "1.weight", 4, &n);
  for (gsize i = 0; i < n; i++)
    g_assert_cmpfloat (w[i], ==, 0.0f);
  g_assert_cmpuint (status_of (t)->error_serial, ==, 0);
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

  g_test_add_func ("/core/rewind/restore-exact", test_restore_exact);
  g_test_add_func ("/core/rewind/resume-deterministic", test_resume_deterministic);
  g_test_add_func ("/core/rewind/show-checkpoint", test_show_checkpoint);
  g_test_add_func ("/core/rewind/bounded/history", test_history_bounded);
  g_test_add_func ("/core/rewind/bounded/trainer", test_trainer_bounded);
  g_test_add_data_func ("/core/experiment/freeze/mlp-unit", "tiny", test_freeze);
  g_test_add_data_func ("/core/experiment/freeze/cnn-kernel", "simple-cnn", test_freeze);
  g_test_add_func ("/core/experiment/zero", test_zero);
  g_test_add_func ("/core/rewind/spacing", test_spacing);
  g_test_add_func ("/core/rewind/prepared", test_prepared);
  g_test_add_func ("/core/experiment/commands-while-playing", test_commands_while_playing);
  g_test_add_func ("/core/rewind/device", test_device);

  int rc = g_test_run ();
  cs_dataset_free (digits_train);
  cs_dataset_free (digits_test);
  return rc;
}
