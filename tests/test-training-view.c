/* test-training-view.c — the Training view's figure and what it writes out
 *
 * Real runs (CsTraining on a slice of the bundled digits, the MLP) give the
 * frames; the weight update the view writes out must be the engine's own
 * step for every optimizer: w after = w before − (what the formula says),
 * to float rounding. The smoothing, the plots' pixels (the training colour
 * where the curve is, the empty state's words) and a long history with a
 * spike are checked on image surfaces. No display needed.
 */
#include "app/cs-training.h"
#include "app/views/cs-training-view.h"

#include "core/dataset.h"

#include "view-pixels.h"

#include <math.h>
#include <string.h>

static CsDataset *
slice (const char *split, guint32 n)
{
  g_autoptr(GError) error = NULL;
  CsDataset *ds = cs_dataset_load_named ("digits", split, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (n, <=, ds->n);
  ds->n = n;   /* the first n: the arrays stay as they are, only fewer are read */
  return ds;
}

static CsTraining *
new_training (const char *model, int batch)
{
  g_autoptr(GError) error = NULL;
  CsTrainerConfig config;
  cs_trainer_config_init (&config);
  config.batch_size = batch;
  CsTraining *t = cs_training_new_for_data (model, slice ("train", 512), slice ("test", 128), &config, &error);
  g_assert_no_error (error);
  return t;
}

/* Runs the main context until a paused frame of the step arrives. */
static CsTrainingFrame *
wait_step (CsTraining *t, gint64 step)
{
  gint64 end = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  for (;;)
    {
      CsTrainingFrame *f = cs_training_get_frame (t);
      if (f != NULL && f->status.step == step && f->status.state == CS_TRAINER_PAUSED
          && cs_training_get_status (t)->state == CS_TRAINER_PAUSED)
        return f;
      if (g_get_monotonic_time () > end)
        g_error ("no frame of step %" G_GINT64_FORMAT " within 30 s", step);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (500);
    }
}

static void
state_of (CsTraining *t, CsTrainingViewState *s)
{
  cs_training_view_state_init (s);
  s->running = TRUE;
  s->status = *cs_training_get_status (t);
  s->history = cs_training_get_history (t);
  s->frame = cs_training_get_frame (t);
  s->previous = cs_training_get_previous_frame (t);
}

/* The update written out is the step the engine took, for every optimizer. */
static void
test_update (gconstpointer data)
{
  const char *which = data;
  g_autoptr(CsTraining) t = new_training ("mlp", 32);
  g_autoptr(GError) error = NULL;
  CsOptimConfig config;

  if (g_str_equal (which, "sgd"))
    cs_optim_config_init (&config, CS_OPTIM_SGD);
  else if (g_str_equal (which, "momentum"))
    {
      cs_optim_config_init (&config, CS_OPTIM_SGD);
      config.hp.momentum = 0.9f;
      config.hp.weight_decay = 1e-3f;
    }
  else if (g_str_equal (which, "rmsprop"))
    cs_optim_config_init (&config, CS_OPTIM_RMSPROP);
  else
    cs_optim_config_init (&config, CS_OPTIM_ADAM);
  g_assert_true (cs_training_set_optim (t, &config, &error));
  g_assert_no_error (error);

  /* the first frame, at step 0: what a person sees before pressing Step */
  cs_trainer_request_snapshot (cs_training_get_trainer (t));
  wait_step (t, 0);
  CsTrainingViewState s;
  for (gint64 step = 1; step <= 3; step++)
    {
      cs_training_step (t, 1);
      wait_step (t, step);
      state_of (t, &s);
      CsWeightUpdate u;
      g_assert_true (cs_training_view_state_get_update (&s, &u));
      g_assert_cmpint (u.t, ==, step);
      g_assert_cmpint (u.optim.kind, ==, config.kind);
      g_assert_true (g_str_has_prefix (u.name, "1.weight["));
      g_assert_cmpfloat (fabs (u.grad), >, 0.0);
      /* the weight of the first layer with the largest gradient */
      const CsTensor *g = cs_snapshot_get_param_grad (s.frame->snapshot, "1.weight");
      for (gsize i = 0; i < (gsize) cs_tensor_numel (g); i++)
        g_assert_cmpfloat (fabsf (g->data[i]), <=, fabs (u.grad));
      /* before: the weights of the step before; after: the engine's */
      if (s.previous != NULL && s.previous->status.step == step - 1)
        g_assert_cmpfloat (u.before, ==, cs_snapshot_get_param_block (s.previous->snapshot, NULL)[u.index]);
      g_assert_cmpfloat (u.after, ==, cs_snapshot_get_param_block (s.frame->snapshot, NULL)[u.index]);
      g_assert_cmpfloat (u.after, !=, u.before);
      g_test_message ("%s step %" G_GINT64_FORMAT ": %s %.9g → %.9g, formula %.9g", which, step, u.name,
                      u.before, u.after, u.predicted);
      g_assert_cmpfloat_with_epsilon (u.predicted, u.after, 1e-6 * MAX (1.0, fabs (u.after)));

      g_autofree char *text = cs_weight_update_to_text (&u);
      g_test_message ("%s", text);
      g_assert_nonnull (strstr (text, u.name));
      g_autofree char *after = g_strdup_printf ("%.6g", u.after);
      g_assert_nonnull (strstr (text, after));
      if (config.kind == CS_OPTIM_ADAM)
        g_assert_nonnull (strstr (text, "m̂"));
      if (config.hp.weight_decay != 0.0f)
        g_assert_nonnull (strstr (text, "λ"));
    }

  /* after playing, the two newest frames are not one step apart: nothing
   * is written out rather than a wrong update */
  cs_training_play (t);
  while (cs_training_get_status (t)->step < 12)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (500);
    }
  cs_training_pause (t);
  gint64 end = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  while (cs_training_get_status (t)->state != CS_TRAINER_PAUSED
         || cs_training_get_frame (t)->status.step != cs_training_get_status (t)->step)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, end);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (500);
    }
  state_of (t, &s);
  CsWeightUpdate u;
  g_assert_false (cs_training_view_state_get_update (&s, &u));
  g_assert_true (isnan (s.frame->status.loss_after));
}

static void
test_smooth (void)
{
  float v[6] = { 2, 2, 2, NAN, 2, 2 }, out[6];
  cs_training_view_smooth (v, 1, 6, 10, out);
  for (int i = 0; i < 6; i++)
    g_assert_cmpfloat_with_epsilon (out[i], 2.0f, 1e-6);   /* bias-corrected: no pull to 0 */

  float step[40], sm[40];
  for (int i = 0; i < 40; i++)
    step[i] = i < 20 ? 0.0f : 1.0f;
  cs_training_view_smooth (step, 1, 40, 5, sm);
  g_assert_cmpfloat (sm[19], ==, 0.0f);
  g_assert_cmpfloat (sm[20], >, 0.15f);
  g_assert_cmpfloat (sm[20], <, 0.25f);   /* 1/5 of the jump */
  for (int i = 21; i < 40; i++)
    g_assert_cmpfloat (sm[i], >, sm[i - 1]);
  g_assert_cmpfloat (sm[39], >, 0.97f);

  /* a stride: every other float */
  float pairs[8] = { 1, 9, 1, 9, 1, 9, 1, 9 }, o[4];
  cs_training_view_smooth (pairs, 2, 4, 3, o);
  for (int i = 0; i < 4; i++)
    g_assert_cmpfloat_with_epsilon (o[i], 1.0f, 1e-6);
}

static gboolean
column_has (cairo_surface_t *s, int x, int y0, int y1, CsRgb c, int tol)
{
  for (int y = y0; y <= y1; y++)
    if (view_pixel_is (view_pixel (s, x, y), c, tol))
      return TRUE;
  return FALSE;
}

static int
count_not_white (cairo_surface_t *s, int x0, int y0, int x1, int y1)
{
  int n = 0;
  for (int y = y0; y < y1; y++)
    for (int x = x0; x < x1; x++)
      n += (view_pixel (s, x, y) & 0xffffff) != 0xffffff;
  return n;
}

static const CsRgb train_rgb = { 0.106, 0.620, 0.467 };

/* A synthetic history: the loss curve is where the numbers put it, and a
 * one-batch spike in 100,000 is still drawn. */
static void
test_plot (void)
{
  CsTrainHistory *h = cs_train_history_new (0, NULL);
  const gsize n = 100000;
  for (gsize i = 0; i < n; i++)
    {
      CsTrainRecord r = {
        .step = (gint64) i + 1, .size = 64, .lr = 1e-3f, .grad_norm = 1.0f,
        .loss = i == 70000 ? 4.0f : 1.0f,
        .accuracy = 0.5f,
      };
      cs_train_history_append (h, &r, NULL);
    }
  CsTrainingViewState s;
  cs_training_view_state_init (&s);
  s.running = TRUE;
  s.history = h;
  s.status.step = n;

  const int W = 1280, H = 800;
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, W, H);
  cairo_t *cr = cairo_create (surface);
  gint64 start = g_get_monotonic_time ();
  cs_training_view_state_draw (&s, cr, W, H);
  g_test_message ("100,000 batches drawn in %.1f ms", (g_get_monotonic_time () - start) / 1e3);
  cairo_surface_flush (surface);
  view_save (surface, "training-plot.png");

  /* Find the loss plot's frame: the spike's column (70% along) has the
   * training colour far above the flat line's, which lies at 1/4.2 of the
   * axis (the axis goes to 4 · 1.05). */
  double f = CLAMP (MIN (W / 80.0, H / 45.0), 9.0, 28.0);
  double px0 = f + f * 3.2, pw = W * 0.55 - 1.5 * f - f * 3.6;
  double top = f + f * 2.8, ph = (H - 2 * f) * 0.5 - f * 0.3 - f * 4.2;
  int x_spike = (int) (px0 + pw * 0.7);
  int y_flat = (int) round (top + ph * (1.0 - 1.0 / 4.2));
  int y_spike = (int) round (top + ph * (1.0 - 4.0 / 4.2));
  /* every batch's values are drawn light: the colour at 45% on white */
  const CsRgb light = { 0.45 * train_rgb.r + 0.55, 0.45 * train_rgb.g + 0.55, 0.45 * train_rgb.b + 0.55 };
  gboolean spike = FALSE;
  for (int dx = -2; dx <= 2; dx++)
    spike |= column_has (surface, x_spike + dx, y_spike - 3, y_spike + 3, light, 30);
  g_assert_true (spike);
  g_assert_true (column_has (surface, (int) (px0 + pw * 0.3), y_flat - 3, y_flat + 3, train_rgb, 40));
  /* and nothing of it half way between, away from the spike */
  int y_mid = (y_flat + y_spike) / 2;
  g_assert_false (column_has (surface, (int) (px0 + pw * 0.3), y_mid - 3, y_mid + 3, train_rgb, 90));

  /* the empty state says what to do; the no-run state why */
  CsTrainingViewState empty;
  cs_training_view_state_init (&empty);
  empty.running = TRUE;
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  cs_training_view_state_draw (&empty, cr, W, H);
  cairo_surface_flush (surface);
  view_save (surface, "training-empty.png");
  int cx = (int) (px0 + pw / 2), cy = (int) (top + ph / 2);
  g_assert_cmpint (count_not_white (surface, cx - 100, cy - 10, cx + 100, cy + 10), >, 100);

  CsTrainingViewState none;
  cs_training_view_state_init (&none);
  none.message = "The bundled digits to train on could not be read";
  cs_training_view_state_draw (&none, cr, W, H);
  cairo_surface_flush (surface);
  g_assert_cmpint (count_not_white (surface, W / 4, H / 2, 3 * W / 4, H / 2 + 40), >, 100);

  cairo_destroy (cr);
  cairo_surface_destroy (surface);
  cs_train_history_free (h);
}

/* The batch of a Step: its examples are drawn with a frame in green (right)
 * or red (wrong), as many of each as the frame says. */
static void
test_batch (void)
{
  g_autoptr(CsTraining) t = new_training ("mlp", 16);
  cs_training_step (t, 1);
  wait_step (t, 1);
  CsTrainingViewState s;
  state_of (t, &s);
  CsTrainingFrame *f = s.frame;
  g_assert_cmpuint (f->batch_size, ==, 16);
  g_assert_cmpuint (f->batch_shown, ==, 16);
  g_assert_cmpint (f->side, ==, 28);
  int right = 0;
  for (guint i = 0; i < 16; i++)
    right += f->batch_after[i] == f->batch_labels[i];

  const int W = 1280, H = 800;
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, W, H);
  cairo_t *cr = cairo_create (surface);
  cs_training_view_state_draw (&s, cr, W, H);
  cairo_surface_flush (surface);
  view_save (surface, "training-batch.png");
  /* the right-hand side holds the batch: count framed examples by the
   * top-left corner pixel of each frame along the rows */
  double fs = CLAMP (MIN (W / 80.0, H / 45.0), 9.0, 28.0);
  double x0 = W * 0.55 + 0.5 * fs, y0 = fs + fs * 1.8 + fs * 1.5;
  double cell = MIN ((W * 0.45 - 1.5 * fs) / 12, fs * 3.4);
  const CsRgb wrong_rgb = { 0.75, 0.11, 0.16 };
  int greens = 0, reds = 0;
  for (guint i = 0; i < 16; i++)
    {
      int x = (int) (x0 + (i % 12) * cell + cell * 0.92 / 2);
      int y = (int) (y0 + (i / 12) * (cell + fs * 0.95));
      gboolean green = FALSE, red = FALSE;
      for (int dy = -1; dy <= 3; dy++)
        {
          guint32 px = view_pixel (surface, x, y + dy);
          green |= view_pixel_is (px, train_rgb, 40);
          red |= view_pixel_is (px, wrong_rgb, 40);
        }
      g_assert_true (green != red);
      greens += green;
      reds += red;
    }
  g_assert_cmpint (greens, ==, right);
  g_assert_cmpint (reds, ==, 16 - right);
  cairo_destroy (cr);
  cairo_surface_destroy (surface);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/views/training/smooth", test_smooth);
  g_test_add_func ("/views/training/plot", test_plot);
  g_test_add_func ("/views/training/batch", test_batch);
  g_test_add_data_func ("/views/training/update/sgd", "sgd", test_update);
  g_test_add_data_func ("/views/training/update/momentum", "momentum", test_update);
  g_test_add_data_func ("/views/training/update/adam", "adam", test_update);
  g_test_add_data_func ("/views/training/update/rmsprop", "rmsprop", test_update);

  return g_test_run ();
}
