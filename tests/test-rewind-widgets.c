/* test-rewind-widgets.c — the rewind scale and the Freeze / Zero buttons,
 * in the real window on a display (Xvfb, tests/gui/run-xvfb.sh)
 *
 * Training view: after 110 steps the scale has a position per checkpoint
 * (0, 50, 100) and one for now; moving it to 50 shows step 50 (the status,
 * the words beside it, the curves' marker, and the session's prediction
 * with the weights of step 50); Resume from here trains on from step 50,
 * repeating the run's own batches (the history's records after 50 are the
 * ones it had), the checkpoint of 100 dropped.
 *
 * Network view: the selected hidden unit (or kernel) is frozen by its
 * button (the trainer says so, the button then says Unfreeze, the words
 * "(frozen)"), and zeroed: its activation is 0 in the view at once and the
 * prediction changes.
 */
#include "app/cs-application.h"
#include "app/cs-window-private.h"
#include "tests/window-fixture.h"
#include "app/views/cs-network-view.h"
#include "app/views/cs-training-view.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define TIMEOUT_US (60 * G_USEC_PER_SEC)

static CsApplication *app;
static CsWindow *window;

static void
iterate (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

typedef gboolean (*Condition) (gpointer data);

/* Runs the main loop until cond holds. */
static void
wait_for (Condition cond, gpointer data, const char *what)
{
  gint64 end = g_get_monotonic_time () + TIMEOUT_US;
  while (!cond (data))
    {
      if (g_get_monotonic_time () > end)
        g_error ("timed out waiting for %s", what);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  iterate ();
}

static void
collect (GtkWidget *widget, GPtrArray *out)
{
  g_ptr_array_add (out, widget);
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    collect (child, out);
}

static GtkWidget *
find (GtkWidget *root, GType type, const char *text)
{
  g_autoptr(GPtrArray) all = g_ptr_array_new ();
  collect (root, all);
  for (guint i = 0; i < all->len; i++)
    {
      GtkWidget *w = all->pdata[i];
      if (!G_TYPE_CHECK_INSTANCE_TYPE (w, type))
        continue;
      if (text == NULL)
        return w;
      if (GTK_IS_BUTTON (w) && g_strcmp0 (gtk_button_get_label (GTK_BUTTON (w)), text) == 0)
        return w;
      if (GTK_IS_LABEL (w) && g_str_has_prefix (gtk_label_get_text (GTK_LABEL (w)), text))
        return w;
    }
  return NULL;
}

/* ---- the rewind scale ------------------------------------------------------- */

static CsTraining *training;

static gboolean
paused_at (gpointer data)
{
  const CsTrainerStatus *s = cs_training_get_status (training);
  return s->step == GPOINTER_TO_INT (data) && s->state == CS_TRAINER_PAUSED;
}

static gboolean
showing (gpointer data)
{
  const CsTrainerStatus *s = cs_training_get_status (training);
  CsTrainingFrame *frame = cs_training_get_frame (training);
  return s->viewing_step == GPOINTER_TO_INT (data) && frame != NULL
         && frame->status.step == GPOINTER_TO_INT (data);
}

static gboolean
live_at (gpointer data)
{
  const CsTrainerStatus *s = cs_training_get_status (training);
  CsTrainingFrame *frame = cs_training_get_frame (training);
  return s->viewing_step < 0 && frame != NULL && frame->status.step == GPOINTER_TO_INT (data);
}

static gboolean
trained_past (gpointer data)
{
  const CsTrainerStatus *s = cs_training_get_status (training);
  return s->viewing_step < 0 && s->step > GPOINTER_TO_INT (data);
}

static gboolean
is_paused (gpointer data)
{
  return cs_training_get_status (training)->state == CS_TRAINER_PAUSED;
}

static void
test_slider (void)
{
  cs_window_set_view (window, "training");
  iterate ();
  GtkWidget *view = cs_window_get_view_widget (window, "training");
  training = cs_training_view_get_training (CS_TRAINING_VIEW (view));
  g_assert_nonnull (training);
  CsSession *session = cs_training_view_get_session (CS_TRAINING_VIEW (view));

  cs_training_step (training, 110);
  wait_for (paused_at, GINT_TO_POINTER (110), "110 steps");
  const CsTrainerStatus *s = cs_training_get_status (training);
  g_assert_cmpuint (s->n_checkpoints, ==, 3);
  g_assert_cmpint (s->checkpoints[1], ==, 50);
  g_autoptr(GArray) before = g_array_copy (cs_training_get_history (training)->records);
  g_assert_cmpuint (before->len, ==, 110);

  GtkWidget *scale = find (view, GTK_TYPE_SCALE, NULL);
  g_assert_nonnull (scale);
  GtkAdjustment *adj = gtk_range_get_adjustment (GTK_RANGE (scale));
  g_assert_cmpfloat (gtk_adjustment_get_upper (adj), ==, 3.0);   /* 0, 50, 100, now */
  g_assert_cmpfloat (gtk_range_get_value (GTK_RANGE (scale)), ==, 3.0);
  g_assert_nonnull (find (view, GTK_TYPE_LABEL, "Now (step 110)"));
  GtkWidget *resume = find (view, GTK_TYPE_BUTTON, "Resume from here");
  g_assert_nonnull (resume);
  g_assert_false (gtk_widget_get_sensitive (resume));

  /* to the checkpoint of step 50: shown everywhere */
  gtk_range_set_value (GTK_RANGE (scale), 1);
  wait_for (showing, GINT_TO_POINTER (50), "the checkpoint of step 50");
  g_assert_cmpint (s->step, ==, 110);   /* the run itself stays */
  g_assert_nonnull (find (view, GTK_TYPE_LABEL, "Showing step 50 of 110"));
  g_assert_true (gtk_widget_get_sensitive (resume));
  g_assert_cmpint (cs_training_view_get_state (CS_TRAINING_VIEW (view))->status.viewing_step, ==, 50);
  g_assert_cmpint (cs_session_get_prediction (session)->training_step, ==, 50);
  g_assert_cmpuint (cs_training_get_frame (training)->batch_size, ==, 0);   /* no batch of its own */

  /* and back to now */
  gtk_range_set_value (GTK_RANGE (scale), 3);
  wait_for (live_at, GINT_TO_POINTER (110), "the run as it is");
  g_assert_cmpint (s->viewing_step, ==, -1);
  g_assert_cmpint (cs_session_get_prediction (session)->training_step, ==, 110);

  /* resume from 50 */
  gtk_range_set_value (GTK_RANGE (scale), 1);
  wait_for (showing, GINT_TO_POINTER (50), "the checkpoint of step 50 again");
  g_assert_true (gtk_widget_activate (resume));
  wait_for (trained_past, GINT_TO_POINTER (55), "training on from step 50");
  cs_training_pause (training);
  wait_for (is_paused, NULL, "a pause");
  g_assert_cmpint (s->checkpoints[1], ==, 50);
  for (guint i = 2; i < s->n_checkpoints; i++)
    g_assert_cmpint (s->checkpoints[i], >, 100);   /* 100 was dropped; new ones after */
  g_assert_true (s->n_checkpoints == 2 || s->step >= 150);
  /* the same batches again: the records of steps 51 … as the first time */
  const CsTrainHistory *h = cs_training_get_history (training);
  g_assert_cmpint (g_array_index (h->records, CsTrainRecord, h->records->len - 1).step, ==, s->step);
  guint same = MIN (h->records->len, before->len);
  g_assert_cmpmem (h->records->data, same * sizeof (CsTrainRecord),
                   before->data, same * sizeof (CsTrainRecord));
  g_assert_cmpfloat (gtk_range_get_value (GTK_RANGE (scale)), ==, s->n_checkpoints);
}

/* ---- freeze and zero --------------------------------------------------------- */

static guint the_layer, the_unit;

static gboolean
frozen (gpointer data)
{
  return cs_trainer_status_is_frozen (cs_training_get_status (training), the_layer, the_unit)
         == GPOINTER_TO_INT (data);
}

static gboolean
snapshot_changed (gpointer data)
{
  CsNetworkView *network = data;
  return cs_network_view_get_snapshot (network) != g_object_get_data (G_OBJECT (network), "old");
}

static void
test_freeze_zero (void)
{
  /* a 7 on the canvas, so that the hidden units have something to see */
  CsSession *session = cs_training_view_get_session (
    CS_TRAINING_VIEW (cs_window_get_view_widget (window, "training")));
  enum { SIDE = 112 };
  g_autofree float *gray = g_new0 (float, SIDE * SIDE);
  for (int y = 20; y < 92; y++)
    for (int x = 0; x < SIDE; x++)
      {
        gboolean top = y < 32 && x >= 25 && x < 85;
        gboolean stem = x >= 70 - (y - 20) / 3 && x < 82 - (y - 20) / 3;
        gray[y * SIDE + x] = top || stem ? 1.0f : 0.0f;
      }
  g_assert_true (cs_session_predict (session, gray, SIDE, SIDE, SIDE, NULL));

  cs_window_set_view (window, "network");
  iterate ();
  CsNetworkView *network = CS_NETWORK_VIEW (cs_window_get_view_widget (window, "network"));
  training = cs_network_view_get_training (network);
  g_assert_nonnull (training);
  const CsNetworkViewState *state = cs_network_view_get_state (network);
  g_assert_nonnull (state->snapshot);
  /* the default selection: the most active hidden unit, or first-layer map */
  g_assert_true (cs_network_view_state_get_selected_unit (state, &the_layer, &the_unit));
  int act = state->selected_act;

  GtkWidget *freeze = find (GTK_WIDGET (network), GTK_TYPE_BUTTON, "Freeze");
  GtkWidget *zero = find (GTK_WIDGET (network), GTK_TYPE_BUTTON, "Zero");
  g_assert_nonnull (freeze);
  g_assert_nonnull (zero);
  g_assert_true (gtk_widget_get_sensitive (freeze));
  g_assert_true (gtk_widget_get_sensitive (zero));

  g_signal_emit_by_name (freeze, "clicked");
  wait_for (frozen, GINT_TO_POINTER (TRUE), "the unit frozen");
  g_assert_cmpstr (gtk_button_get_label (GTK_BUTTON (freeze)), ==, "Unfreeze");
  g_autoptr(GPtrArray) labels = g_ptr_array_new ();
  collect (GTK_WIDGET (network), labels);
  gboolean said = FALSE;
  for (guint i = 0; i < labels->len; i++)
    if (GTK_IS_LABEL (labels->pdata[i])
        && g_str_has_suffix (gtk_label_get_text (labels->pdata[i]), "(frozen)"))
      said = TRUE;
  g_assert_true (said);

  /* zeroed: its activation 0 in the view at once, another prediction */
  CsSnapshot *old = cs_snapshot_ref (state->snapshot);
  float probs[10];
  memcpy (probs, cs_snapshot_get_probabilities (old), sizeof probs);
  g_object_set_data (G_OBJECT (network), "old", old);
  g_signal_emit_by_name (zero, "clicked");
  wait_for (snapshot_changed, network, "the prediction with the unit zeroed");
  g_assert_cmpint (state->selected_act, ==, act);
  const CsShape *shape = cs_snapshot_get_shape (state->snapshot, (guint) act);
  gsize per = shape->ndim == 3 ? (gsize) (shape->d[1] * shape->d[2]) : 1;
  const float *a = cs_snapshot_get_activation (state->snapshot, (guint) act);
  for (gsize i = 0; i < per; i++)
    g_assert_cmpfloat (a[the_unit * per + i], ==, 0.0f);
  g_assert_cmpint (memcmp (probs, cs_snapshot_get_probabilities (state->snapshot), sizeof probs),
                   !=, 0);
  g_object_set_data (G_OBJECT (network), "old", NULL);
  cs_snapshot_unref (old);

  /* thawed */
  g_signal_emit_by_name (freeze, "clicked");
  wait_for (frozen, GINT_TO_POINTER (FALSE), "the unit thawed");
  g_assert_cmpstr (gtk_button_get_label (GTK_BUTTON (freeze)), ==, "Freeze");
}

int
main (int argc, char *argv[])
{
  window = start_window (&argc, &argv, &app);
  if (window == NULL)
    return 0;

  g_test_add_func ("/gui/rewind/slider", test_slider);
  g_test_add_func ("/gui/rewind/freeze-zero", test_freeze_zero);
  int rc = g_test_run ();

  gtk_window_destroy (GTK_WINDOW (window));
  iterate ();
  g_object_unref (app);
  return rc;
}
