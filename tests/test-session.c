/* test-session.c — the application's networks: loading, predicting, failing well
 *
 * Drawings are made with the Draw view's own rasteriser (strokes in
 * canvas units, the round brush), so a "7" here is a 7 as a user draws it.
 * No display needed. */
#include "app/cs-session.h"
#include "app/views/cs-draw-view.h"

#include "core/checkpoint.h"
#include "core/dataset.h"
#include "core/paths.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

typedef struct
{
  int n;
  const double *xy;   /* n points, x y x y … */
} Stroke;

/* A 1: one stroke down, slightly slanted, as people draw it. */
static const double one[] = { 0.52, 0.15, 0.50, 0.50, 0.47, 0.85 };
/* A 7: across the top, then down to the left. */
static const double seven_[] = { 0.25, 0.2, 0.75, 0.2, 0.45, 0.85 };
/* A 0: an ellipse. */
static double zero[2 * 25];

static float *
rasterize (const double *xy, int n)
{
  CsDrawViewState state;
  cs_draw_view_state_init (&state);
  cs_draw_view_state_begin_stroke (&state, xy[0], xy[1]);
  for (int i = 1; i < n; i++)
    {
      /* the pointer's motion events, every few pixels */
      for (int k = 1; k <= 10; k++)
        cs_draw_view_state_add_point (&state, xy[2 * i - 2] + (xy[2 * i] - xy[2 * i - 2]) * k / 10,
                                      xy[2 * i - 1] + (xy[2 * i + 1] - xy[2 * i - 1]) * k / 10);
    }
  float *gray = g_new (float, CS_DRAW_VIEW_RASTER * CS_DRAW_VIEW_RASTER);
  cs_draw_view_state_rasterize (&state, gray, CS_DRAW_VIEW_RASTER);
  cs_draw_view_state_clear (&state);
  return gray;
}

static int
predict (CsSession *session, const double *xy, int n, CsPrediction *out)
{
  g_autofree float *gray = rasterize (xy, n);
  cs_session_predict (session, gray, CS_DRAW_VIEW_RASTER, CS_DRAW_VIEW_RASTER,
                      CS_DRAW_VIEW_RASTER, out);
  return out->predicted;
}

static void
count_signal (gpointer instance, int *count)
{
  (*count)++;
}

static void
count_notify (GObject *object, GParamSpec *pspec, int *count)
{
  (*count)++;
}

static void
test_pretrained (void)
{
  g_autoptr(CsSession) session = cs_session_new ();
  CsPrediction p;

  g_assert_null (cs_session_get_message (session));
  g_assert_cmpstr (cs_session_get_model (session), ==, CS_SESSION_MODEL_CNN);
  g_assert_true (cs_session_get_model_trained (session));
  g_assert_cmpstr (cs_session_get_model_title (session), ==, "SimpleCNN");

  const char *models[] = { CS_SESSION_MODEL_CNN, CS_SESSION_MODEL_MLP };
  for (guint m = 0; m < G_N_ELEMENTS (models); m++)
    {
      cs_session_set_model (session, models[m]);
      g_assert_true (cs_session_get_model_trained (session));
      g_assert_cmpint (predict (session, one, 3, &p), ==, 1);
      g_assert_cmpint (predict (session, seven_, 3, &p), ==, 7);
      g_assert_cmpint (predict (session, zero, 25, &p), ==, 0);
      g_assert_true (p.trained);
      g_assert_false (p.empty);

      /* the probabilities are a softmax of the logits */
      double sum = 0;
      for (int i = 0; i < CS_SESSION_CLASSES; i++)
        {
          sum += p.probs[i];
          g_assert_cmpfloat (p.logits[i], <=, p.logits[p.predicted]);
        }
      g_assert_cmpfloat_with_epsilon (sum, 1.0, 1e-5);
      g_assert_cmpfloat (p.probs[0], >, 0.5);

      /* the input is MNIST's form: ink up to 1, the crop box around the
       * ellipse, its centre of mass near the middle */
      float max = 0;
      for (int i = 0; i < CS_SESSION_PIXELS; i++)
        max = MAX (max, p.input[i]);
      g_assert_cmpfloat (max, ==, 1.0f);
      g_assert_cmpfloat (p.bbox_x, >, 0.2);
      g_assert_cmpfloat (p.bbox_x + p.bbox_width, <, 0.8);
      g_assert_cmpfloat_with_epsilon (p.center_x, 0.5, 0.05);
      g_assert_cmpfloat_with_epsilon (p.center_y, 0.5, 0.05);
    }
}

static void
test_empty (void)
{
  g_autoptr(CsSession) session = cs_session_new ();
  g_autofree float *gray = g_new (float, 100 * 100);
  CsPrediction p;
  int changed = 0;

  for (int i = 0; i < 100 * 100; i++)
    gray[i] = 1.0f;
  g_signal_connect (session, "prediction-changed", G_CALLBACK (count_signal), &changed);
  g_assert_false (cs_session_predict (session, gray, 100, 100, 100, &p));
  g_assert_true (p.empty);
  g_assert_cmpint (p.predicted, ==, -1);
  g_assert_cmpint (changed, ==, 1);
  for (int i = 0; i < CS_SESSION_PIXELS; i++)
    g_assert_cmpfloat (p.input[i], ==, 0.0f);
  for (int i = 0; i < CS_SESSION_CLASSES; i++)
    g_assert_cmpfloat (p.probs[i], ==, 0.0f);
}

/* Switching the network predicts the same input again, and says so. */
static void
test_switch_model (void)
{
  g_autoptr(CsSession) session = cs_session_new ();
  CsPrediction p;
  int changed = 0, notified = 0;

  predict (session, seven_, 3, &p);
  float cnn_logit = p.logits[7];
  g_signal_connect (session, "prediction-changed", G_CALLBACK (count_signal), &changed);
  g_signal_connect (session, "notify::model", G_CALLBACK (count_notify), &notified);

  g_object_set (session, "model", CS_SESSION_MODEL_MLP, NULL);
  g_assert_cmpint (changed, ==, 1);
  g_assert_cmpint (notified, ==, 1);
  g_assert_cmpstr (cs_session_get_model_title (session), ==, "MLP 784-256-10");
  const CsPrediction *now = cs_session_get_prediction (session);
  g_assert_cmpint (now->predicted, ==, 7);
  g_assert_cmpfloat (now->logits[7], !=, cnn_logit);
  g_assert_cmpmem (now->input, sizeof now->input, p.input, sizeof p.input);

  cs_session_set_model (session, CS_SESSION_MODEL_MLP);   /* no change, no signal */
  g_assert_cmpint (changed, ==, 1);
  g_assert_cmpint (notified, ==, 1);
}

/* Missing, corrupt and unsuitable checkpoints: one clear message, and an
 * untrained network of the same preset that still predicts. */
static void
test_bad_checkpoints (void)
{
  g_autofree char *dir = g_dir_make_tmp ("cs-session-XXXXXX", NULL);
  g_autofree char *corrupt = g_build_filename (dir, "corrupt.safetensors", NULL);
  g_autofree char *demo = g_build_filename (dir, "demo-conv.safetensors", NULL);
  g_autofree char *good_cnn = cs_find_data_file ("checkpoints/simple-cnn.safetensors");
  g_autoptr(GError) error = NULL;
  CsPrediction p;

  g_assert_true (g_file_set_contents (corrupt, "{\"not\": \"a checkpoint\"}", -1, &error));
  g_autoptr(CsModel) conv = cs_model_new_preset ("demo-conv", &error);
  g_assert_no_error (error);
  cs_model_init (conv, 1);
  g_assert_true (cs_checkpoint_save (conv, demo, &error));
  g_assert_no_error (error);

  /* missing MLP, good CNN */
  {
    g_autoptr(CsSession) session = cs_session_new_for_checkpoints (NULL, good_cnn);
    const char *message = cs_session_get_message (session);
    g_test_message ("%s", message);
    g_assert_nonnull (strstr (message, "MLP"));
    g_assert_nonnull (strstr (message, "was not found"));
    g_assert_nonnull (strstr (message, "untrained"));
    g_assert_true (cs_session_get_model_trained (session));
    cs_session_set_model (session, CS_SESSION_MODEL_MLP);
    g_assert_false (cs_session_get_model_trained (session));
    int d = predict (session, seven_, 3, &p);
    g_assert_cmpint (d, >=, 0);
    g_assert_cmpint (d, <, 10);
    g_assert_false (p.trained);
  }
  /* corrupt CNN, an MLP checkpoint holding the 5×5 demo convolution */
  {
    g_autoptr(CsSession) session = cs_session_new_for_checkpoints (demo, corrupt);
    const char *message = cs_session_get_message (session);
    g_test_message ("%s", message);
    g_assert_nonnull (strstr (message, "corrupt.safetensors"));
    g_assert_nonnull (strstr (message, "demo-conv.safetensors"));
    g_assert_nonnull (strstr (message, "28×28"));
    g_assert_false (cs_session_get_model_trained (session));
    g_assert_cmpstr (cs_session_get_model_title (session), ==, "SimpleCNN");
    g_assert_cmpint (predict (session, one, 3, &p), >=, 0);
  }
  /* nothing at all: no presets either (an empty data folder) */
  {
    g_setenv ("CONVSCOPE_DATA_DIR", dir, TRUE);
    g_autoptr(CsSession) session = cs_session_new ();
    g_unsetenv ("CONVSCOPE_DATA_DIR");
    const char *message = cs_session_get_message (session);
    g_test_message ("%s", message);
    g_assert_nonnull (strstr (message, "nor could an untrained one be built"));
    g_assert_cmpstr (cs_session_get_model_title (session), ==, "SimpleCNN");
    g_assert_false (predict (session, one, 3, &p) >= 0);
    g_assert_false (p.empty);   /* the input is still shown */
    g_assert_cmpint (p.predicted, ==, -1);
  }

  g_unlink (corrupt);
  g_unlink (demo);
  g_rmdir (dir);
}

/* How long a prediction takes from a 280 × 280 canvas: well within a frame
 * for the MLP, a few frames at most for the CNN. */
static void
test_timing (void)
{
  g_autoptr(CsSession) session = cs_session_new ();
  g_autofree float *gray = rasterize (seven_, 3);
  const char *models[] = { CS_SESSION_MODEL_MLP, CS_SESSION_MODEL_CNN };
  CsPrediction p;

  for (guint m = 0; m < G_N_ELEMENTS (models); m++)
    {
      cs_session_set_model (session, models[m]);
      cs_session_predict (session, gray, CS_DRAW_VIEW_RASTER, CS_DRAW_VIEW_RASTER,
                          CS_DRAW_VIEW_RASTER, &p);
      const int n = 50;
      gint64 best = G_MAXINT64, total = 0;
      for (int i = 0; i < n; i++)
        {
          cs_session_predict (session, gray, CS_DRAW_VIEW_RASTER, CS_DRAW_VIEW_RASTER,
                              CS_DRAW_VIEW_RASTER, &p);
          best = MIN (best, p.forward_usec);
          total += p.forward_usec;
        }
      g_test_message ("%s: preprocessing + forward + softmax %.3f ms (best), %.3f ms (mean)",
                      cs_session_get_model_title (session), best / 1000.0, total / 1000.0 / n);
      g_assert_cmpint (best, <, 50000);
    }

  /* the forward pass alone: switching the network runs it on the same input */
  gint64 best[2] = { G_MAXINT64, G_MAXINT64 }, total[2] = { 0, 0 };
  const int n = 50;
  for (int i = 0; i < n; i++)
    for (guint m = 0; m < G_N_ELEMENTS (models); m++)
      {
        cs_session_set_model (session, models[m]);
        gint64 t = cs_session_get_prediction (session)->forward_usec;
        best[m] = MIN (best[m], t);
        total[m] += t;
      }
  for (guint m = 0; m < G_N_ELEMENTS (models); m++)
    g_test_message ("%s: forward + softmax alone %.3f ms (best), %.3f ms (mean)", models[m],
                    best[m] / 1000.0, total[m] / 1000.0 / n);
}

/* Runs the main context until the training run delivers a frame of at
 * least the given step, or fails after 30 s. */
static CsTrainingFrame *
wait_frame (CsTraining *training, gint64 step)
{
  gint64 end = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  for (;;)
    {
      CsTrainingFrame *f = cs_training_get_frame (training);
      if (f != NULL && f->status.step >= step && f->status.state == CS_TRAINER_PAUSED)
        return f;
      if (g_get_monotonic_time () > end)
        g_error ("no frame of step %" G_GINT64_FORMAT " within 30 s", step);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

/* The training run: it watches the drawing, and once it has stepped the
 * drawing is predicted with its weights. */
static void
test_training (void)
{
  g_autoptr(CsSession) session = cs_session_new ();
  CsPrediction p0, p;
  int changed = 0;
  g_signal_connect (session, "prediction-changed", G_CALLBACK (count_signal), &changed);

  cs_session_set_model (session, CS_SESSION_MODEL_MLP);
  predict (session, seven_, 3, &p0);
  g_assert_true (p0.trained);
  g_assert_cmpint (p0.training_step, ==, -1);
  g_assert_null (cs_session_peek_training (session));

  g_autoptr(GError) error = NULL;
  CsTraining *training = cs_session_get_training (session, &error);
  g_assert_no_error (error);
  g_assert_nonnull (training);
  g_assert_true (cs_session_peek_training (session) == training);
  g_assert_true (cs_session_get_training (session, NULL) == training);

  /* the first frame: the fresh run, watching the drawing; the pretrained
   * network still predicts */
  CsTrainingFrame *f = wait_frame (training, 0);
  g_assert_cmpstr (f->status.model, ==, "mlp");
  g_assert_cmpint (f->status.watch_index, ==, -1);
  g_assert_cmpmem (cs_snapshot_get_activation (f->snapshot, 0), sizeof p0.input,
                   p0.input, sizeof p0.input);
  g_assert_cmpuint (f->batch_size, ==, 0);
  g_assert_cmpint (cs_session_get_prediction (session)->training_step, ==, -1);
  int before = changed;

  /* a Step: the session takes the run's weights and predicts again */
  cs_training_step (training, 1);
  f = wait_frame (training, 1);
  g_assert_cmpint (f->status.step, ==, 1);
  g_assert_cmpuint (f->status.examples_seen, ==, 64);
  g_assert_cmpint (changed, >, before);
  p = *cs_session_get_prediction (session);
  g_assert_cmpint (p.training_step, ==, 1);
  g_assert_false (p.trained);
  /* the same weights, the same input: the frame's logits */
  const float *logits = cs_snapshot_get_logits (f->snapshot);
  for (int k = 0; k < 10; k++)
    g_assert_cmpfloat_with_epsilon (p.logits[k], logits[k], 1e-5);
  /* the batch it trained on, with what the step did to it */
  g_assert_cmpuint (f->batch_size, ==, 64);
  g_assert_cmpuint (f->batch_shown, ==, 64);
  g_assert_true (isfinite (f->status.loss_after));
  g_assert_cmpfloat (f->status.loss_after, <, f->status.loss);
  g_assert_nonnull (cs_snapshot_get_optim_state (f->snapshot, NULL));
  for (guint i = 0; i < f->batch_shown; i++)
    {
      g_assert_cmpint (f->batch_labels[i], >=, 0);
      g_assert_cmpint (f->batch_after[i], >=, 0);
      g_assert_true (f->batch_p_before[i] > 0 && f->batch_p_before[i] < 1);
    }
  /* the frame before it: step 0, for what the step changed */
  CsTrainingFrame *prev = cs_training_get_previous_frame (training);
  g_assert_nonnull (prev);
  g_assert_cmpint (prev->status.step, ==, 0);

  /* a new drawing is watched at once */
  predict (session, one, 3, &p);
  g_assert_cmpint (p.training_step, ==, 1);
  cs_trainer_request_snapshot (cs_training_get_trainer (training));
  gint64 end = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  while (memcmp (cs_snapshot_get_activation (cs_training_get_frame (training)->snapshot, 0),
                 p.input, sizeof p.input) != 0)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, end);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }

  /* another model: a new run of it, and the MLP keeps what it learnt */
  guint64 generation = cs_training_get_status (training)->generation;
  cs_session_set_model (session, CS_SESSION_MODEL_CNN);
  p = *cs_session_get_prediction (session);
  g_assert_cmpint (p.training_step, ==, -1);   /* the pretrained CNN */
  f = wait_frame (training, 0);
  while (cs_training_get_status (training)->generation == generation
         || g_strcmp0 (cs_training_get_frame (training)->status.model, "simple-cnn") != 0)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, end);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  g_assert_cmpint (cs_training_get_frame (training)->status.step, ==, 0);
  g_assert_null (cs_training_get_previous_frame (training));
  cs_session_set_model (session, CS_SESSION_MODEL_MLP);
  g_assert_cmpint (cs_session_get_prediction (session)->training_step, ==, 1);
}

/* Without the bundled digits there is no run, and one clear error. */
static void
test_training_no_data (void)
{
  g_autofree char *empty = g_dir_make_tmp ("convscope-XXXXXX", NULL);
  g_autofree char *old = g_strdup (g_getenv ("CONVSCOPE_DATA_DIR"));
  g_setenv ("CONVSCOPE_DATA_DIR", empty, TRUE);
  g_autoptr(CsSession) session = cs_session_new_for_checkpoints (NULL, NULL);
  g_autoptr(GError) error = NULL;
  g_assert_null (cs_session_get_training (session, &error));
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "bundled digits"));
  g_clear_error (&error);
  g_assert_null (cs_session_get_training (session, &error));   /* the same, again */
  g_assert_nonnull (error);
  /* predicting still works */
  CsPrediction p;
  predict (session, seven_, 3, &p);
  g_assert_false (p.empty);
  if (old != NULL)
    g_setenv ("CONVSCOPE_DATA_DIR", old, TRUE);
  else
    g_unsetenv ("CONVSCOPE_DATA_DIR");
  g_rmdir (empty);
}

static void
on_weights_changed (CsSession *session, gpointer data)
{
  (*(int *) data)++;
}

/* A picture in the network's form (a test digit) is fed as it is; the
 * weights handed out are the network's and change with the model. */
static void
test_predict_input (void)
{
  g_autoptr(CsSession) session = cs_session_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(CsDataset) test = cs_dataset_load_named ("digits", "test", &error);
  g_assert_no_error (error);

  float x[CS_SESSION_PIXELS];
  gint32 y;
  guint32 index = 7;
  cs_dataset_fill_batch (test, &index, 1, x, &y);
  CsPrediction p;
  g_assert_true (cs_session_predict_input (session, x, &p));
  g_assert_false (p.empty);
  g_assert_cmpmem (p.input, sizeof p.input, x, sizeof x);
  g_assert_cmpint (p.predicted, ==, y);   /* the CNN gets this one right */
  g_assert_cmpfloat (p.bbox_width, >, 0.2);
  g_assert_cmpfloat (p.bbox_width, <=, 1.0);
  g_assert_cmpfloat_with_epsilon (p.center_x, 0.5, 0.1);

  /* the same picture through the preprocessing is another input */
  float gray[CS_SESSION_PIXELS];
  for (int i = 0; i < CS_SESSION_PIXELS; i++)
    gray[i] = 1.0f - x[i];
  CsPrediction q;
  cs_session_predict (session, gray, 28, 28, 28, &q);
  g_assert_true (memcmp (q.input, x, sizeof x) != 0);

  /* blank: empty */
  float blank[CS_SESSION_PIXELS] = { 0 };
  g_assert_false (cs_session_predict_input (session, blank, &p));
  g_assert_true (p.empty);

  /* the weights */
  int changed = 0;
  g_signal_connect (session, "weights-changed", G_CALLBACK (on_weights_changed), &changed);
  CsSessionWeights w, w2;
  g_assert_true (cs_session_get_weights (session, &w));
  g_assert_cmpstr (w.title, ==, "SimpleCNN");
  g_assert_true (w.trained);
  g_assert_cmpint (w.training_step, ==, -1);
  g_assert_cmpuint (w.n_params, ==, 421642);
  cs_session_set_model (session, CS_SESSION_MODEL_MLP);
  g_assert_cmpint (changed, ==, 1);
  g_assert_true (cs_session_get_weights (session, &w2));
  g_assert_cmpuint (w2.serial, !=, w.serial);
  g_assert_cmpuint (w2.n_params, ==, 784 * 256 + 256 + 256 * 10 + 10);
  g_assert_cmpstr (w2.title, ==, "MLP 784-256-10");
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  for (int i = 0; i < 25; i++)
    {
      double t = 2 * G_PI * i / 24;
      zero[2 * i] = 0.5 + 0.22 * sin (t);
      zero[2 * i + 1] = 0.5 - 0.32 * cos (t);
    }

  g_test_add_func ("/app/session/pretrained", test_pretrained);
  g_test_add_func ("/app/session/empty", test_empty);
  g_test_add_func ("/app/session/switch-model", test_switch_model);
  g_test_add_func ("/app/session/bad-checkpoints", test_bad_checkpoints);
  g_test_add_func ("/app/session/timing", test_timing);
  g_test_add_func ("/app/session/training", test_training);
  g_test_add_func ("/app/session/training-no-data", test_training_no_data);
  g_test_add_func ("/app/session/predict-input", test_predict_input);

  return g_test_run ();
}
