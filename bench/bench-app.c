/* bench-app.c — training with the application on screen
 *
 *   tests/gui/run-xvfb.sh build/bench/bench-app [--model simple-cnn]
 *       [--batches 400] [--rounds 3] [--no-frame-clock] [--json]
 *
 * Needs a display (Xvfb does). Trains the same model on the bundled digits
 * two ways for the same number of batches each, alternating headless, app,
 * headless, …, headless, so that every app run lies between two headless
 * runs and is compared with their mean:
 *
 *   headless   the loop of convscope-cli train (batcher, cs_train_step,
 *              device check, and an evaluation on the test split after
 *              each epoch), nothing else
 *   app        the application's own objects: a CsSession with a drawing
 *              (re-predicted with every frame, as the Draw view's is), its
 *              CsTraining, and the Training view shown in a window and
 *              redrawn as the application redraws it, while Play runs to
 *              the same number of batches
 *
 * With --hidden the window is never shown: the session and its run stream
 * frames as usual but nothing draws them, which separates what streaming
 * costs the trainer from what drawing costs the machine.
 *
 * It reports the examples per second of each (best run), their ratio, and
 * the median of the rounds' own ratios (the steadier figure), counted two ways: over the time spent training, evaluations left
 * out, which is how convscope-cli train reports its throughput (the
 * issue's bar: app ≥ 90 % of headless); and over the wall clock, the
 * evaluations after each epoch included on both sides. Then, for the app, the frames
 * the window's frame clock painted per second while training (the display
 * gives 60; a tick callback keeps the clock running every frame, as an
 * animation would, which costs the main thread a frame cycle 60 times a
 * second: --no-frame-clock leaves it out and measures the application as
 * it is, redrawing only what changes), how many updates and frames of the
 * trainer reached the main loop, and, after the rounds, the time the
 * Training view takes to draw its figure at the window's size (mean and
 * worst of --draws draws, with the last round's history). The draws are
 * timed after training, not during it: timing them costs the main thread
 * a draw of its own, which the application does not do.
 */
#include "app/cs-session.h"
#include "app/cs-training.h"
#include "app/views/cs-training-view.h"

#include "core/dataset.h"
#include "core/evaluate.h"
#include "core/loss.h"
#include "core/optim.h"

#include <gtk/gtk.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static char *opt_model = NULL;
static int opt_batches = 400;
static int opt_rounds = 3;
static gboolean opt_json = FALSE;
static gboolean opt_no_frames = FALSE;
static gboolean opt_hidden = FALSE;
static int opt_draws = 200;

typedef struct
{
  double train_rate;   /* examples per second of training, evaluations left out */
  double wall_rate;    /* examples per second of wall clock, evaluations included */
} Rates;

static int
compare_doubles (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static Rates
run_headless (const CsDataset *train, const CsDataset *test, guint batches)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CsModel) model = cs_model_new_preset (opt_model, &error);
  g_assert_no_error (error);
  CsOptimConfig config;
  cs_optim_config_init (&config, CS_OPTIM_ADAM);
  if (!cs_model_reserve (model, 64, &error))
    g_error ("%s", error->message);
  cs_model_init (model, 1);
  g_autoptr(CsOptimizer) opt = cs_optimizer_new (model, &config);
  g_autoptr(CsBatcher) batcher = cs_batcher_new (train, 64, 1);
  const CsShape *in = cs_model_get_input_shape (model);
  float *x = cs_alloc_floats (64 * (gsize) cs_shape_numel (in));
  gint32 y[64];
  float probs[64 * 10];

  guint64 seen = 0, epoch_seen = 0;
  gint64 t0 = g_get_monotonic_time (), evaluating = 0;
  for (guint b = 0; b < batches; b++)
    {
      guint32 n = cs_batcher_next (batcher, x, y);
      CsTensor xt = cs_tensor_view_batch (x, n, in);
      double loss = cs_train_step (model, opt, &xt, y, probs, NULL);
      if (!cs_model_check (model, &error) || !isfinite (loss))
        g_error ("headless: batch %u failed", b);
      seen += n;
      epoch_seen += n;
      if (epoch_seen == train->n)
        {
          /* as convscope-cli train does after each epoch, off its clock */
          gint64 e0 = g_get_monotonic_time ();
          CsEvaluation ev;
          cs_evaluate (model, test, &ev, NULL);
          evaluating += g_get_monotonic_time () - e0;
          epoch_seen = 0;
        }
    }
  gint64 wall = g_get_monotonic_time () - t0;
  cs_free (x);
  return (Rates) { seen / ((wall - evaluating) / 1e6), seen / (wall / 1e6) };
}

typedef struct
{
  GtkWidget *view;
  gint64 target;
  gint64 t0, t1;
  guint64 seen;
  double eval0, eval1;      /* the run's eval_seconds at the start and the end */
  guint frames;
  gint64 first_frame, last_frame;
  gboolean done;
  double draw_ms_sum, draw_ms_max;
  guint draws;
  double main_cpu;          /* seconds of CPU the main thread spent while training played */
} AppRun;

static gboolean
on_tick (GtkWidget *widget, GdkFrameClock *clock, gpointer data)
{
  AppRun *r = data;
  gint64 now = g_get_monotonic_time ();
  if (r->t0 > 0 && !r->done)
    {
      if (r->frames == 0)
        r->first_frame = now;
      r->frames++;
      r->last_frame = now;
    }
  return G_SOURCE_CONTINUE;
}

/* The figure's draw, timed on an image surface of the view's size: what
 * the cairo renderer does for it in a frame. */
static void
time_draw (AppRun *r)
{
  int w = gtk_widget_get_width (r->view), h = gtk_widget_get_height (r->view);
  if (w <= 0 || h <= 0)
    return;
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, w, h);
  cairo_t *cr = cairo_create (s);
  gint64 t = g_get_monotonic_time ();
  cs_training_view_state_draw (cs_training_view_get_state (CS_TRAINING_VIEW (r->view)), cr, w, h);
  double ms = (g_get_monotonic_time () - t) / 1e3;
  cairo_destroy (cr);
  cairo_surface_destroy (s);
  r->draw_ms_sum += ms;
  r->draw_ms_max = MAX (r->draw_ms_max, ms);
  r->draws++;
}

static void
on_updated (CsTraining *training, AppRun *r)
{
  const CsTrainerStatus *s = cs_training_get_status (training);
  if (r->t0 == 0 || r->done)
    return;
  if (s->step >= r->target)
    {
      r->t1 = g_get_monotonic_time ();
      r->seen = s->examples_seen;
      r->eval1 = s->eval_seconds;
      r->done = TRUE;
      cs_training_pause (training);
    }
}

static Rates
run_app (GtkWidget *window, CsSession *session, guint batches, AppRun *r, CsTraining **out)
{
  g_autoptr(GError) error = NULL;
  CsTraining *training = cs_session_get_training (session, &error);
  if (training == NULL)
    g_error ("%s", error->message);
  *out = training;
  GtkWidget *view = gtk_window_get_child (GTK_WINDOW (window));
  *r = (AppRun) { .view = view };
  cs_training_reset (training);
  /* come to rest at step 0 with the window drawn */
  while (cs_training_get_status (training)->step != 0 || cs_training_get_playing (training))
    g_main_context_iteration (NULL, TRUE);
  for (int i = 0; i < 10; i++)
    g_main_context_iteration (NULL, FALSE);

  gulong id = g_signal_connect (training, "updated", G_CALLBACK (on_updated), r);
  guint tick = opt_no_frames ? 0 : gtk_widget_add_tick_callback (window, on_tick, r, NULL);
  r->target = batches;
  r->eval0 = cs_training_get_status (training)->eval_seconds;
  struct timespec c0, c1;
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &c0);
  r->t0 = g_get_monotonic_time ();
  cs_training_play (training);
  while (!r->done)
    g_main_context_iteration (NULL, TRUE);
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &c1);
  r->main_cpu = (c1.tv_sec - c0.tv_sec) + (c1.tv_nsec - c0.tv_nsec) / 1e9;
  if (tick) gtk_widget_remove_tick_callback (window, tick);
  g_signal_handler_disconnect (training, id);
  while (cs_training_get_playing (training))
    g_main_context_iteration (NULL, TRUE);
  double wall = (r->t1 - r->t0) / 1e6;
  return (Rates) { r->seen / (wall - (r->eval1 - r->eval0)), r->seen / wall };
}

int
main (int argc, char *argv[])
{
  cs_memory_keep_pages ();   /* as the application does */
  GOptionEntry entries[] = {
    { "model", 0, 0, G_OPTION_ARG_STRING, &opt_model, "mlp or simple-cnn (simple-cnn)", "NAME" },
    { "batches", 0, 0, G_OPTION_ARG_INT, &opt_batches, "batches of 64 per run (400)", "N" },
    { "rounds", 0, 0, G_OPTION_ARG_INT, &opt_rounds, "rounds of both (3)", "N" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "one JSON object", NULL },
    { "no-frame-clock", 0, 0, G_OPTION_ARG_NONE, &opt_no_frames,
      "do not keep the frame clock ticking (no frame rate; the window only redraws what changes)", NULL },
    { "draws", 0, 0, G_OPTION_ARG_INT, &opt_draws,
      "after the rounds, draw the Training view's figure N times alone and time it (200)", "N" },
    { "hidden", 0, 0, G_OPTION_ARG_NONE, &opt_hidden,
      "train with the application's objects but no window (what streaming costs the trainer alone)", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("— training with the application on screen");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "bench-app: %s\n", error->message);
      return 2;
    }
  if (opt_model == NULL)
    opt_model = g_strdup (CS_SESSION_MODEL_CNN);
  if (!gtk_init_check ())
    {
      fprintf (stderr, "bench-app: no display (run it under tests/gui/run-xvfb.sh)\n");
      return 2;
    }

  g_autoptr(CsDataset) train = cs_dataset_load_named ("digits", "train", &error);
  g_autoptr(CsDataset) test = train ? cs_dataset_load_named ("digits", "test", &error) : NULL;
  if (test == NULL)
    {
      fprintf (stderr, "bench-app: %s\n", error->message);
      return 2;
    }

  /* the application's objects: a session with a drawing, the Training view */
  CsSession *session = cs_session_new ();
  cs_session_set_model (session, opt_model);
  float gray[28 * 28];
  guint32 idx = 3;
  gint32 label;
  cs_dataset_fill_batch (train, &idx, 1, gray, &label);
  cs_session_predict (session, gray, 28, 28, 28, NULL);
  GtkWidget *window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (window), 1280, 800);
  GtkWidget *view = cs_training_view_new (session, NULL);
  gtk_window_set_child (GTK_WINDOW (window), view);
  if (!opt_hidden)
    {
      gtk_window_present (GTK_WINDOW (window));
      while (!gtk_widget_get_mapped (view))
        g_main_context_iteration (NULL, TRUE);
    }
  else
    opt_no_frames = TRUE;

  Rates best_headless = { 0 }, best_app = { 0 };
  AppRun best_run = { 0 };
  g_autofree double *ratios = g_new (double, MAX (opt_rounds, 1));
  guint64 updates = 0, frames = 0;
  /* headless, app, headless, app, …, headless: each app run is compared
   * with the mean of the headless runs either side of it, which cancels a
   * drift of the machine's speed that is steady over the round */
  Rates h = run_headless (train, test, (guint) opt_batches);
  best_headless = h;
  for (int round = 0; round < opt_rounds; round++)
    {
      AppRun r;
      CsTraining *training = NULL;
      guint64 u0 = 0, f0 = 0;
      if (cs_session_peek_training (session) != NULL)
        {
          u0 = cs_training_get_n_updates (cs_session_peek_training (session));
          f0 = cs_training_get_n_frames (cs_session_peek_training (session));
        }
      Rates a = run_app (window, session, (guint) opt_batches, &r, &training);
      Rates h2 = run_headless (train, test, (guint) opt_batches);
      Rates around = { (h.train_rate + h2.train_rate) / 2, (h.wall_rate + h2.wall_rate) / 2 };
      if (!opt_json)
        printf ("round %d: headless %.0f examples/s (mean of %.0f and %.0f), app %.0f examples/s (%.1f%%); "
                "wall clock %.0f and %.0f (%.1f%%); %.1f frames/s; main thread busy %.1f%%\n",
                round + 1, around.train_rate, h.train_rate, h2.train_rate, a.train_rate,
                100 * a.train_rate / around.train_rate,
                around.wall_rate, a.wall_rate, 100 * a.wall_rate / around.wall_rate,
                r.frames > 1 ? (r.frames - 1) / ((r.last_frame - r.first_frame) / 1e6) : 0.0,
                100 * r.main_cpu / ((r.t1 - r.t0) / 1e6));
      ratios[round] = a.train_rate / around.train_rate;
      h = h2;
      best_headless.train_rate = MAX (best_headless.train_rate, h.train_rate);
      best_headless.wall_rate = MAX (best_headless.wall_rate, h.wall_rate);
      best_app.wall_rate = MAX (best_app.wall_rate, a.wall_rate);
      if (a.train_rate > best_app.train_rate)
        {
          best_app.train_rate = a.train_rate;
          best_run = r;
          updates = cs_training_get_n_updates (training) - u0;
          frames = cs_training_get_n_frames (training) - f0;
        }
    }

  /* the figure alone, drawn again and again on the main thread's clock */
  double loop_ms = 0;
  if (opt_draws > 0 && !opt_hidden)
    {
      struct timespec c0, c1;
      clock_gettime (CLOCK_THREAD_CPUTIME_ID, &c0);
      for (int i = 0; i < opt_draws; i++)
        time_draw (&best_run);
      clock_gettime (CLOCK_THREAD_CPUTIME_ID, &c1);
      loop_ms = ((c1.tv_sec - c0.tv_sec) * 1e3 + (c1.tv_nsec - c0.tv_nsec) / 1e6) / opt_draws;
    }

  double fps = best_run.frames > 1 ? (best_run.frames - 1) / ((best_run.last_frame - best_run.first_frame) / 1e6) : 0;
  double seconds = (best_run.t1 - best_run.t0) / 1e6;
  double ratio = best_app.train_rate / best_headless.train_rate;
  /* the rounds' own ratios, each of an app run and the headless runs
   * either side of it: steadier than   * the ratio of two bests when the machine's speed drifts */
  qsort (ratios, (size_t) MAX (opt_rounds, 1), sizeof (double), compare_doubles);
  double median = opt_rounds % 2 ? ratios[opt_rounds / 2]
                                 : (ratios[opt_rounds / 2 - 1] + ratios[opt_rounds / 2]) / 2;
  double wall_ratio = best_app.wall_rate / best_headless.wall_rate;
  const char *core = g_getenv ("OPENBLAS_CORETYPE");
  if (opt_json)
    printf ("{\"model\": \"%s\", \"batches\": %d, \"headless\": %.1f, \"app\": %.1f, \"ratio\": %.4f, "
            "\"median_ratio\": %.4f, \"headless_wall\": %.1f, \"app_wall\": %.1f, \"wall_ratio\": %.4f, "
            "\"frames_per_second\": %.1f, \"draw_ms_mean\": %.2f, \"draw_ms_max\": %.2f, "
            "\"draw_cpu_ms\": %.2f, \"updates_per_second\": %.1f, \"frames_per_second_streamed\": %.1f, "
            "\"hidden\": %s, \"frame_clock\": %s, \"openblas_coretype\": \"%s\"}\n",
            opt_model, opt_batches, best_headless.train_rate, best_app.train_rate, ratio, median,
            best_headless.wall_rate, best_app.wall_rate, wall_ratio, fps,
            best_run.draws ? best_run.draw_ms_sum / best_run.draws : 0, best_run.draw_ms_max, loop_ms,
            updates / seconds, frames / seconds, opt_hidden ? "true" : "false",
            opt_no_frames ? "false" : "true", core ? core : "");
  else
    {
      printf ("%s, %d batches of 64, best of %d rounds (OPENBLAS_CORETYPE=%s)%s:\n", opt_model, opt_batches,
              opt_rounds, core ? core : "unset",
              opt_hidden ? ", no window" : opt_no_frames ? ", frame clock idle" : ", frame clock ticking");
      printf ("  headless (convscope-cli train's loop)  %8.0f examples/s of training\n", best_headless.train_rate);
      printf ("  with the application on screen         %8.0f examples/s  %.1f%% of headless\n",
              best_app.train_rate, 100 * ratio);
      printf ("  median of the rounds' own ratios                 %.1f%%\n", 100 * median);
      printf ("  the same over the wall clock, evaluations included:\n"
              "                                         %8.0f and %.0f  %.1f%%\n",
              best_headless.wall_rate, best_app.wall_rate, 100 * wall_ratio);
      printf ("  window frames painted while training   %8.1f per second\n", fps);
      printf ("  Training view figure, one draw          %8.2f ms mean, %.2f ms worst", 
              best_run.draws ? best_run.draw_ms_sum / best_run.draws : 0, best_run.draw_ms_max);
      if (loop_ms > 0)
        printf ("; %.2f ms of CPU alone", loop_ms);
      printf ("\n  trainer → main loop                     %8.1f updates/s, %.1f frames/s\n",
              updates / seconds, frames / seconds);
    }
  gtk_window_destroy (GTK_WINDOW (window));
  g_object_unref (session);
  return 0;
}
