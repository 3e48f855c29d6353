/* test-session-save.c — the application's session saved, opened, autosaved
 *
 * A session saved and opened in another CsSession is the same: the
 * training run's whole block (weights, gradients, optimizer state), its
 * step, history and batch order, the network chosen, the drawing (its
 * input and strokes) and the view; trained on, both make the same bits.
 * A bad file (truncated, garbage, missing, a checkpoint, a newer version)
 * and an unwritable destination give one error each and change nothing.
 * The autosave writes in the background while the run trains, and opens.
 * No display needed.
 */
#include "app/cs-session.h"
#include "app/views/cs-draw-view.h"

#include "core/paths.h"
#include "core/session-file.h"
#include "tests/trainer-fixture.h"

#include <glib/gstdio.h>
#include <string.h>

#define WAIT_US (60 * G_USEC_PER_SEC)

static const double seven_[] = { 0.25, 0.2, 0.75, 0.2, 0.45, 0.85 };
static const double one[] = { 0.52, 0.15, 0.50, 0.50, 0.47, 0.85 };

/* Draws a stroke as the Draw view does: strokes into the session, the
 * raster predicted. */
static void
draw (CsSession *session, const double *xy, int n)
{
  CsDrawViewState state;
  cs_draw_view_state_init (&state);
  cs_draw_view_state_begin_stroke (&state, xy[0], xy[1]);
  for (int i = 1; i < n; i++)
    cs_draw_view_state_add_point (&state, xy[2 * i], xy[2 * i + 1]);
  g_autofree float *gray = g_new (float, CS_DRAW_VIEW_RASTER * CS_DRAW_VIEW_RASTER);
  cs_draw_view_state_rasterize (&state, gray, CS_DRAW_VIEW_RASTER);
  cs_draw_view_state_clear (&state);
  guint32 len = (guint32) n;
  cs_session_set_strokes (session, xy, &len, 1);
  cs_session_predict (session, gray, CS_DRAW_VIEW_RASTER, CS_DRAW_VIEW_RASTER,
                      CS_DRAW_VIEW_RASTER, NULL);
}

static CsTraining *
training_of (CsSession *session)
{
  g_autoptr(GError) error = NULL;
  CsTraining *training = cs_session_get_training (session, &error);
  g_assert_no_error (error);
  return training;
}

/* Waits for the run to rest, and for its last update to reach the session. */
static void
settle (CsSession *session)
{
  CsTrainer *trainer = cs_training_get_trainer (training_of (session));
  g_assert_true (cs_trainer_wait_idle (trainer, WAIT_US));
  CsTrainerStatus s;
  cs_trainer_get_status (trainer, &s);
  gint64 end = g_get_monotonic_time () + WAIT_US;
  while (cs_training_get_status (training_of (session))->generation != s.generation
         || cs_training_get_status (training_of (session))->step != s.step)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, end);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
capture_func (CsTrainer *trainer, CsModel *model, CsOptimizer *opt, gpointer data)
{
  g_assert_true (cs_trainer_capture (trainer, data, NULL));
}

/* The run as it is now, captured on its thread. */
static CsRunState *
capture (CsSession *session)
{
  CsTrainer *trainer = cs_training_get_trainer (training_of (session));
  CsRunState *state = cs_run_state_new ();
  cs_trainer_invoke (trainer, capture_func, state, NULL);
  g_assert_true (cs_trainer_wait_idle (trainer, WAIT_US));
  return state;
}

static void
assert_same_run (CsRunState *a, CsRunState *b)
{
  gsize P = cs_model_get_n_params (a->model), B = cs_model_get_n_buffers (a->model);
  g_assert_cmpstr (cs_model_get_json (a->model), ==, cs_model_get_json (b->model));
  g_assert_true (memcmp (cs_model_read_block (a->model, NULL), cs_model_read_block (b->model, NULL),
                         (4 * P + B) * sizeof (float)) == 0);
  g_assert_cmpint (cs_model_get_step (a->model), ==, cs_model_get_step (b->model));
  g_assert_cmpint (a->optim_step, ==, b->optim_step);
  g_assert_true (memcmp (&a->optim, &b->optim, sizeof a->optim) == 0);
  g_assert_cmpint (a->batch_size, ==, b->batch_size);
  g_assert_cmpuint (a->pos, ==, b->pos);
  g_assert_true (memcmp (a->order, b->order, a->train_examples * sizeof (guint32)) == 0);
  g_assert_cmpuint (a->history->records->len, ==, b->history->records->len);
  g_assert_true (memcmp (a->history->records->data, b->history->records->data,
                         a->history->records->len * sizeof (CsTrainRecord)) == 0);
  g_assert_cmpuint (a->history->evals->len, ==, b->history->evals->len);
}

/* A session that has drawn, chosen the MLP, trained and changed its lr. */
static CsSession *
busy_session (void)
{
  CsSession *session = cs_session_new ();
  cs_session_set_model (session, CS_SESSION_MODEL_MLP);
  draw (session, seven_, 3);
  CsTraining *training = training_of (session);
  g_assert_true (cs_training_set_learning_rate (training, 2e-3, NULL));
  cs_training_step (training, 3);
  cs_session_set_view (session, "training");
  settle (session);
  return session;
}

static void
test_roundtrip (void)
{
  g_autofree char *dir = temp_dir ();
  g_autofree char *path = g_build_filename (dir, "lesson.convscope", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(CsSession) a = busy_session ();

  g_assert_true (cs_session_save (a, path, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (cs_session_get_file (a), ==, path);
  g_assert_cmpuint (count_files (dir), ==, 1);

  g_autoptr(CsSession) b = cs_session_new ();
  int restored = 0;
  g_signal_connect_swapped (b, "drawing-restored", G_CALLBACK (g_atomic_int_inc), &restored);
  g_assert_cmpstr (cs_session_get_model (b), ==, CS_SESSION_MODEL_CNN);
  g_assert_true (cs_session_open (b, path, &error));
  g_assert_no_error (error);
  settle (b);
  g_assert_cmpint (restored, ==, 1);
  g_assert_cmpstr (cs_session_get_model (b), ==, CS_SESSION_MODEL_MLP);
  g_assert_cmpstr (cs_session_get_view (b), ==, "training");
  g_assert_cmpstr (cs_session_get_file (b), ==, path);
  const CsPrediction *pa = cs_session_get_prediction (a), *pb = cs_session_get_prediction (b);
  g_assert_false (pb->empty);
  g_assert_cmpmem (pa->input, sizeof pa->input, pb->input, sizeof pb->input);
  g_assert_cmpint (pb->training_step, ==, 3);
  g_assert_cmpmem (pa->logits, sizeof pa->logits, pb->logits, sizeof pb->logits);
  const guint32 *la, *lb;
  guint na, nb;
  const double *xa = cs_session_get_strokes (a, &la, &na);
  const double *xb = cs_session_get_strokes (b, &lb, &nb);
  g_assert_cmpuint (na, ==, 1);
  g_assert_cmpuint (nb, ==, 1);
  g_assert_cmpuint (la[0], ==, lb[0]);
  g_assert_cmpmem (xa, la[0] * 2 * sizeof (double), xb, lb[0] * 2 * sizeof (double));
  const CsTrainerStatus *sb = cs_training_get_status (training_of (b));
  g_assert_cmpint (sb->step, ==, 3);
  g_assert_cmpfloat (sb->optim.hp.lr, ==, 2e-3f);
  g_assert_cmpuint (cs_training_get_history (training_of (b))->records->len, ==, 3);

  g_autoptr(CsRunState) ra = capture (a);
  g_autoptr(CsRunState) rb = capture (b);
  assert_same_run (ra, rb);

  /* trained on, both the same */
  cs_training_step (training_of (a), 4);
  cs_training_step (training_of (b), 4);
  settle (a);
  settle (b);
  g_autoptr(CsRunState) ra2 = capture (a);
  g_autoptr(CsRunState) rb2 = capture (b);
  g_assert_cmpint (cs_model_get_step (ra2->model), ==, 7);
  assert_same_run (ra2, rb2);
  remove_dir (dir);
}

static void
assert_open_fails (CsSession *s, const char *path, const char *words)
{
  g_autoptr(GError) error = NULL;
  g_assert_false (cs_session_open (s, path, &error));
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  if (words != NULL && strstr (error->message, words) == NULL)
    g_error ("“%s” does not say “%s”", error->message, words);
}

static void
test_bad_files (void)
{
  g_autofree char *dir = temp_dir ();
  g_autofree char *good = g_build_filename (dir, "good.convscope", NULL);
  g_autofree char *bad = g_build_filename (dir, "bad.convscope", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(CsSession) a = busy_session ();
  g_assert_true (cs_session_save (a, good, &error));
  g_autofree char *bytes = NULL;
  gsize n;
  g_assert_true (g_file_get_contents (good, &bytes, &n, NULL));

  /* another session, in a state of its own */
  g_autoptr(CsSession) s = cs_session_new ();
  draw (s, one, 3);
  cs_training_step (training_of (s), 1);
  cs_session_set_view (s, "draw");
  settle (s);
  guint64 generation = cs_training_get_status (training_of (s))->generation;
  g_autoptr(CsRunState) before = capture (s);
  CsPrediction p = *cs_session_get_prediction (s);

  g_file_set_contents (bad, bytes, (gssize) (n / 2), NULL);
  assert_open_fails (s, bad, "bad.convscope");
  g_file_set_contents (bad, bytes, 6, NULL);
  assert_open_fails (s, bad, "bad.convscope");
  g_file_set_contents (bad, "garbage, not a session at all", -1, NULL);
  assert_open_fails (s, bad, "bad.convscope");
  g_autofree char *newer = g_memdup2 (bytes, n);
  memcpy (memmem (newer, n, "\"version\":\"1\"", 13), "\"version\":\"2\"", 13);
  g_file_set_contents (bad, newer, (gssize) n, NULL);
  assert_open_fails (s, bad, "newer Convscope");
  g_autofree char *missing = g_build_filename (dir, "missing.convscope", NULL);
  assert_open_fails (s, missing, "missing.convscope");
  g_autofree char *checkpoint = cs_find_data_file ("checkpoints/mlp.safetensors");
  if (checkpoint != NULL)
    assert_open_fails (s, checkpoint, "checkpoint");

  /* nothing changed */
  settle (s);
  g_assert_cmpuint (cs_training_get_status (training_of (s))->generation, ==, generation);
  g_autoptr(CsRunState) after = capture (s);
  assert_same_run (before, after);
  const CsPrediction *q = cs_session_get_prediction (s);
  g_assert_cmpmem (p.input, sizeof p.input, q->input, sizeof q->input);
  g_assert_cmpstr (cs_session_get_model (s), ==, CS_SESSION_MODEL_CNN);
  g_assert_cmpstr (cs_session_get_view (s), ==, "draw");
  g_assert_null (cs_session_get_file (s));

  /* an unwritable destination: an error, the session's file unchanged */
  g_autofree char *nowhere = g_build_filename (dir, "no-folder", "x.convscope", NULL);
  g_assert_false (cs_session_save (s, nowhere, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_null (cs_session_get_file (s));
  g_assert_false (g_file_test (nowhere, G_FILE_TEST_EXISTS));
  g_unlink (bad);
  g_assert_cmpuint (count_files (dir), ==, 1);
  remove_dir (dir);
}

static void
on_saved (GObject *source, GAsyncResult *result, gpointer data)
{
  int *done = data;
  g_autoptr(GError) error = NULL;
  *done = cs_session_save_finish (CS_SESSION (source), result, &error) ? 1 : -1;
  g_assert_no_error (error);
}

static void
test_async (void)
{
  g_autofree char *dir = temp_dir ();
  g_autofree char *path = g_build_filename (dir, "async.convscope", NULL);
  g_autoptr(CsSession) a = busy_session ();
  int done = 0;

  /* saved while it trains: the capture is between two batches */
  cs_training_play (training_of (a));
  cs_session_save_async (a, path, NULL, on_saved, &done);
  gint64 end = g_get_monotonic_time () + WAIT_US;
  while (done == 0)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, end);
      g_main_context_iteration (NULL, TRUE);
    }
  cs_training_pause (training_of (a));
  g_assert_cmpint (done, ==, 1);
  g_assert_cmpstr (cs_session_get_file (a), ==, path);

  g_autoptr(GError) error = NULL;
  g_autoptr(CsRunState) state = cs_run_state_load (path, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (cs_model_get_step (state->model), >=, 3);
  g_assert_cmpuint (state->history->records->len, ==, cs_model_get_step (state->model));
  settle (a);
  remove_dir (dir);
}

static void
test_autosave (void)
{
  g_autofree char *dir = temp_dir ();
  g_autofree char *path = g_build_filename (dir, "autosave.convscope", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(CsSession) a = busy_session ();

  cs_session_set_autosave (a, path, 1);
  cs_training_play (training_of (a));
  /* autosaves come while it trains: at least two, each later than the last */
  gint64 last = -1;
  int seen = 0;
  gint64 end = g_get_monotonic_time () + WAIT_US;
  while (seen < 2)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, end);
      g_main_context_iteration (NULL, TRUE);
      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        continue;
      g_autoptr(CsRunState) state = cs_run_state_load (path, NULL, &error);
      g_assert_no_error (error);
      gint64 step = cs_model_get_step (state->model);
      if (step > last)
        {
          last = step;
          seen++;
        }
    }
  cs_training_pause (training_of (a));
  settle (a);
  g_assert_true (cs_session_autosave_now (a, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_files (dir), ==, 1);

  /* opened as a new start would: the same run, no file name */
  g_autoptr(CsSession) b = cs_session_new ();
  cs_session_set_autosave (b, path, 60);
  g_assert_true (cs_session_restore_autosave (b, &error));
  g_assert_no_error (error);
  settle (b);
  g_assert_null (cs_session_get_file (b));
  g_autoptr(CsRunState) ra = capture (a);
  g_autoptr(CsRunState) rb = capture (b);
  assert_same_run (ra, rb);
  cs_session_set_autosave (a, NULL, 0);
  cs_session_set_autosave (b, NULL, 0);
  remove_dir (dir);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/app/session/save/roundtrip", test_roundtrip);
  g_test_add_func ("/app/session/save/bad-files", test_bad_files);
  g_test_add_func ("/app/session/save/async", test_async);
  g_test_add_func ("/app/session/save/autosave", test_autosave);

  return g_test_run ();
}
