/* bench-trainer.c — what watching training costs
 *
 *   build/bench/bench-trainer [--model mlp] [--batch-size 64] [--seconds 3]
 *                             [--rounds 3] [--threads 0] [--interval 100]
 *                             [--device cpu] [--json]
 *
 * Trains the same model on the bundled digits four ways, one after the
 * other, for about the same number of batches each, and reports the
 * training throughput (examples per second) of each:
 *
 *   headless    the loop of convscope-cli train: batcher, cs_train_step,
 *               device check (no evaluation, which the command line does
 *               not count either)
 *   trainer     the CsTrainer stepping the same batches, nobody watching
 *               (its own status, history, gradient norms, dead units and
 *               diagnostics after every batch are in)
 *   streaming   the CsTrainer with what the application does attached: a
 *               snapshot hook that copies everything the views draw
 *               (cs_snapshot_new (…, CS_SNAPSHOT_ALL), the app's own code)
 *               at most every --interval ms, status updates at most every
 *               16 ms delivered to a main loop on this thread, which keeps
 *               the newest snapshot and reads all of it as a view would
 *   every-batch the same with a snapshot after every batch (the worst case)
 *
 * Rounds alternate the four, so that a machine busy with something else
 * slows them alike; the best round of each is reported, with the ratio to
 * headless. The bar: streaming ≥ 90 % of headless.
 */
#include "app/cs-snapshot.h"

#include "core/dataset.h"
#include "core/loss.h"
#include "core/model.h"
#include "core/optim.h"
#include "core/trainer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct
{
  char *model;
  int batch_size;
  double seconds;
  int rounds;
  int threads;
  int interval;
  char *device;
  gboolean json;
} Options;

static CsDataset *train_set;
static const CsBackend *backend;

static CsModel *
open_model (const char *name)
{
  g_autoptr(GError) error = NULL;
  CsModel *m = cs_model_new_preset (name, &error);
  if (m == NULL)
    {
      fprintf (stderr, "bench-trainer: --model %s: %s\n", name, error->message);
      exit (2);
    }
  return m;
}

static CsDataset *
copy_dataset (const CsDataset *ds)
{
  CsDataset *c = g_new0 (CsDataset, 1);
  *c = *ds;
  c->images = g_memdup2 (ds->images, (gsize) ds->n * ds->rows * ds->cols);
  c->labels = g_memdup2 (ds->labels, ds->n);
  c->name = g_strdup (ds->name);
  c->class_names = NULL;
  return c;
}

/* ---- headless: the command line's loop ---------------------------------- */

static double
run_headless (const Options *o, guint batches)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CsModel) model = open_model (o->model);
  CsOptimConfig config;
  cs_optim_config_init (&config, CS_OPTIM_ADAM);
  cs_model_reserve (model, o->batch_size, &error);
  if (!cs_model_set_device (model, backend, &error))
    g_error ("headless: %s", error->message);
  cs_model_init (model, 1);
  g_autoptr(CsOptimizer) opt = cs_optimizer_new (model, &config);
  g_autoptr(CsBatcher) batcher = cs_batcher_new (train_set, (guint32) o->batch_size, 1);
  const CsShape *in = cs_model_get_input_shape (model);
  int C = (int) cs_shape_numel (cs_model_get_output_shape (model));
  float *x = cs_alloc_floats ((gsize) o->batch_size * cs_shape_numel (in));
  g_autofree gint32 *y = g_new (gint32, o->batch_size);
  g_autofree float *probs = g_new (float, (gsize) o->batch_size * C);

  guint64 seen = 0;
  gint64 t0 = g_get_monotonic_time ();
  for (guint b = 0; b < batches; b++)
    {
      guint32 n = cs_batcher_next (batcher, x, y);
      CsTensor xt = cs_tensor_view_batch (x, n, in);
      int ok = 0;
      double loss = cs_train_step (model, opt, &xt, y, probs, &ok);
      if (!cs_model_check (model, &error) || !isfinite (loss))
        g_error ("headless: batch %u failed", b);
      seen += n;
    }
  double seconds = (g_get_monotonic_time () - t0) / 1e6;
  cs_free (x);
  return seen / seconds;
}

/* ---- the trainer ------------------------------------------------------------ */

typedef struct
{
  GMainLoop *loop;
  gint64 target;
  CsSnapshot *newest;      /* what a view would hold */
  guint updates, snapshots;
  double checksum;         /* reading the snapshot, as drawing would */
  double update_ms;        /* spent in on_update */
  double snapshot_ms;      /* the trainer's cost of each, summed */
} Watcher;

static gpointer
copy_for_views (CsTrainer *t, CsModel *model, const CsTrainerStatus *status, gpointer data)
{
  CsSnapshot *s = cs_snapshot_new (model, 0, CS_SNAPSHOT_ALL);
  cs_snapshot_set_label (s, status->watch_label);
  cs_snapshot_set_generation (s, status->generation);
  return s;
}

static void
on_update (CsTrainer *t, const CsTrainerStatus *status, gpointer snapshot, gpointer data)
{
  Watcher *w = data;
  gint64 start = g_get_monotonic_time ();
  w->updates++;
  if (snapshot != NULL)
    {
      w->snapshots++;
      w->snapshot_ms += status->snapshot_ms;
      g_clear_pointer (&w->newest, cs_snapshot_unref);
      w->newest = cs_snapshot_ref (snapshot);
      /* touch every activation and parameter, as a redraw reads them */
      CsSnapshot *s = w->newest;
      for (guint i = 0; i <= cs_snapshot_get_n_layers (s); i++)
        {
          const float *a = cs_snapshot_get_activation (s, i);
          gint64 n = cs_shape_numel (cs_snapshot_get_shape (s, i));
          for (gint64 k = 0; a != NULL && k < n; k++)
            w->checksum += a[k];
        }
    }
  w->update_ms += (g_get_monotonic_time () - start) / 1e3;
  if (status->step >= w->target && status->state == CS_TRAINER_PAUSED)
    g_main_loop_quit (w->loop);
}

typedef enum
{
  QUIET,
  STREAMING,
  EVERY_BATCH,
} Mode;

static double
run_trainer (const Options *o, guint batches, Mode mode, Watcher *w)
{
  g_autoptr(GError) error = NULL;
  CsTrainerConfig config;
  cs_trainer_config_init (&config);
  config.batch_size = o->batch_size;
  config.evaluate_each_epoch = FALSE;
  config.snapshot_interval_ms = mode == EVERY_BATCH ? 0 : (guint) o->interval;
  CsTrainer *t = cs_trainer_new (open_model (o->model), copy_dataset (train_set), NULL,
                                 &config, &error);
  if (t == NULL)
    g_error ("%s", error->message);

  cs_trainer_set_backend (t, backend);
  g_autoptr(GMainContext) ctx = g_main_context_new ();
  g_main_context_push_thread_default (ctx);
  *w = (Watcher) { g_main_loop_new (ctx, FALSE), batches, NULL, 0, 0, 0.0, 0.0, 0.0 };
  if (mode != QUIET)
    {
      cs_trainer_set_snapshot_func (t, copy_for_views, NULL,
                                    (GDestroyNotify) cs_snapshot_unref);
      cs_trainer_set_update_func (t, ctx, on_update, w, NULL);
    }
  cs_trainer_wait_idle (t, 60 * G_USEC_PER_SEC);
  while (g_main_context_iteration (ctx, FALSE))
    ;
  w->updates = w->snapshots = 0;
  w->update_ms = w->snapshot_ms = 0.0;

  gint64 t0 = g_get_monotonic_time ();
  cs_trainer_step (t, batches);
  if (mode == QUIET)
    cs_trainer_wait_idle (t, 600 * G_USEC_PER_SEC);
  else
    g_main_loop_run (w->loop);
  double seconds = (g_get_monotonic_time () - t0) / 1e6;

  CsTrainerStatus s;
  cs_trainer_get_status (t, &s);
  if (s.step != (gint64) batches || !g_str_equal (s.device, backend->name))
    g_error ("the trainer stopped at step %" G_GINT64_FORMAT " of %u on %s: %s", s.step,
             batches, s.device, s.error);
  cs_trainer_free (t);
  g_clear_pointer (&w->newest, cs_snapshot_unref);
  g_main_loop_unref (w->loop);
  g_main_context_pop_thread_default (ctx);
  return s.examples_seen / seconds;
}

static int
compare_doubles (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

int
main (int argc, char **argv)
{
  Options o = { NULL, 64, 3.0, 3, 0, 100, NULL, FALSE };
  g_autofree char *model = NULL, *device = NULL;
  g_autoptr(GError) error = NULL;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_STRING, &model, "A preset [mlp]", "NAME" },
    { "batch-size", 'b', 0, G_OPTION_ARG_INT, &o.batch_size, "Examples per batch [64]", "N" },
    { "seconds", 's', 0, G_OPTION_ARG_DOUBLE, &o.seconds, "About how long each run lasts [3]",
      "S" },
    { "rounds", 'r', 0, G_OPTION_ARG_INT, &o.rounds, "Rounds of the four runs [3]", "N" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &o.threads, "CPU threads [one per core]", "N" },
    { "interval", 'i', 0, G_OPTION_ARG_INT, &o.interval,
      "Snapshots at most every this many ms while streaming [100]", "MS" },
    { "device", 0, 0, G_OPTION_ARG_STRING, &device, "cpu or cuda [cpu]", "DEVICE" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &o.json, "One JSON object", NULL },
    { NULL },
  };
  g_autoptr(GOptionContext) oc = g_option_context_new ("— what watching training costs");
  g_option_context_add_main_entries (oc, entries, NULL);
  if (!g_option_context_parse (oc, &argc, &argv, &error))
    {
      fprintf (stderr, "bench-trainer: %s\n", error->message);
      return 2;
    }
  o.model = model ? model : "mlp";
  o.device = device ? device : "cpu";
  backend = cs_backend_for_device (o.device, &error);
  if (backend == NULL)
    {
      fprintf (stderr, "bench-trainer: --device %s: %s\n", o.device, error->message);
      return 1;
    }
  if (o.batch_size < 1 || o.rounds < 1 || o.seconds <= 0 || o.interval < 0)
    {
      fprintf (stderr, "bench-trainer: give positive numbers\n");
      return 2;
    }

  cs_memory_keep_pages ();   /* as the application does */
  cs_backend_cpu_set_threads (o.threads);
  train_set = cs_dataset_load_named ("digits", "train", &error);
  if (train_set == NULL)
    {
      fprintf (stderr, "bench-trainer: %s\n", error->message);
      return 1;
    }

  /* As many batches as --seconds of headless training takes. */
  run_headless (&o, 10);   /* warm up */
  double rate = run_headless (&o, 20);
  guint batches = (guint) MAX (50.0, o.seconds * rate / o.batch_size);

  static const char *const names[] = { "headless", "trainer", "streaming", "every-batch" };
  double *results[4];
  guint updates = 0, snapshots = 0, batch_snapshots = 0;
  double streaming_seconds = 0, update_ms = 0, snapshot_ms = 0;
  for (int m = 0; m < 4; m++)
    results[m] = g_new (double, o.rounds);
  for (int r = 0; r < o.rounds; r++)
    for (int m = 0; m < 4; m++)
      {
        Watcher w;
        if (m == 0)
          results[m][r] = run_headless (&o, batches);
        else
          results[m][r] = run_trainer (&o, batches, (Mode) (m - 1), &w);
        if (m == 2)
          {
            updates += w.updates;
            snapshots += w.snapshots;
            update_ms += w.update_ms;
            snapshot_ms += w.snapshot_ms;
            streaming_seconds += (double) batches * o.batch_size / results[m][r];
          }
        if (m == 3)
          batch_snapshots += w.snapshots;
        fprintf (stderr, "round %d  %-12s %9.0f examples/s\n", r + 1, names[m], results[m][r]);
      }

  double best[4], median[4];
  for (int m = 0; m < 4; m++)
    {
      qsort (results[m], o.rounds, sizeof (double), compare_doubles);
      best[m] = results[m][o.rounds - 1];
      median[m] = results[m][o.rounds / 2];
    }
  int threads = cs_backend_cpu_get_threads ();
  if (o.json)
    {
      printf ("{\"model\":\"%s\",\"device\":\"%s\",\"batch_size\":%d,\"batches\":%u,"
              "\"threads\":%d,\"rounds\":%d,\"snapshot_interval_ms\":%d", o.model,
              cs_backend_describe (backend), o.batch_size, batches, threads, o.rounds,
              o.interval);
      for (int m = 0; m < 4; m++)
        printf (",\"%s\":{\"best\":%.1f,\"median\":%.1f,\"ratio\":%.4f}", names[m], best[m],
                median[m], best[m] / best[0]);
      printf (",\"updates_per_s\":%.1f,\"snapshots_per_s\":%.1f,"
              "\"snapshot_ms\":%.3f,\"update_ms\":%.3f,"
              "\"every_batch_snapshots_delivered\":%u}\n",
              updates / streaming_seconds, snapshots / streaming_seconds,
              snapshot_ms / MAX (snapshots, 1), update_ms / MAX (updates, 1),
              batch_snapshots / o.rounds);
    }
  else
    {
      printf ("%s on %s, batch %d, %u batches a run, %d thread%s, best of %d rounds:\n",
              o.model, cs_backend_describe (backend), o.batch_size, batches, threads,
              threads == 1 ? "" : "s", o.rounds);
      for (int m = 0; m < 4; m++)
        printf ("  %-12s %9.0f examples/s  (median %9.0f)  %5.1f%% of headless\n", names[m],
                best[m], median[m], 100.0 * best[m] / best[0]);
      printf ("  streaming delivered %.1f updates/s and %.1f snapshots/s to the main loop; "
              "every-batch delivered %u snapshots a run (the rest were overwritten, as "
              "intended)\n", updates / streaming_seconds,
              snapshots / streaming_seconds, batch_snapshots / o.rounds);
      printf ("  a snapshot cost the trainer's thread %.2f ms (the watched example and the "
              "app's copy), an update the main loop %.3f ms: %.1f%% and %.1f%% of the "
              "streaming runs' time\n", snapshot_ms / MAX (snapshots, 1),
              update_ms / MAX (updates, 1), 100.0 * snapshot_ms / 1e3 / streaming_seconds,
              100.0 * update_ms / 1e3 / streaming_seconds);
    }
  for (int m = 0; m < 4; m++)
    g_free (results[m]);
  cs_dataset_free (train_set);
  return 0;
}
