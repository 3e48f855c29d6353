/* test-stepper.c — the stepping the Convolution, pooling and Backward views
 * share (app/views/cs-stepper.h)
 *
 * Its buttons are GTK widgets, so this runs on a display (a private Xvfb in
 * the gui suite) and reports SKIP without one: the current cell stays in
 * the grid, steps wrap round, the keys move as documented, Space and the
 * Play button start and stop the timer, which steps by itself, and a grid
 * of no cells disables it all.
 */
#include "app/views/cs-stepper.h"

#include <string.h>

typedef struct
{
  CsStepper *stepper;
  GtkWidget *box;
  GtkWidget *prev, *play, *next;
  int moved, rows_notified, cols_notified, playing_notified;
} Fixture;

static void
count_moved (CsStepper *stepper, Fixture *f)
{
  f->moved++;
}

static void
count_notify (CsStepper *stepper, GParamSpec *pspec, Fixture *f)
{
  if (g_str_equal (pspec->name, "row"))
    f->rows_notified++;
  else if (g_str_equal (pspec->name, "col"))
    f->cols_notified++;
  else if (g_str_equal (pspec->name, "playing"))
    f->playing_notified++;
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  memset (f, 0, sizeof *f);
  f->stepper = cs_stepper_new (GPOINTER_TO_UINT (data) != 0 ? GPOINTER_TO_UINT (data) : 1000,
                               &(CsStepperText) {
                                 .prev_name = "Previous cell", .prev_tooltip = "Previous (←)",
                                 .next_name = "Next cell", .next_tooltip = "Next (→)",
                                 .play_name = "Play: step through the cells",
                                 .play_tooltip = "Step through the cells",
                               });
  f->box = g_object_ref_sink (gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0));
  cs_stepper_append_buttons (f->stepper, GTK_BOX (f->box));
  f->prev = gtk_widget_get_first_child (f->box);
  f->play = gtk_widget_get_next_sibling (f->prev);
  f->next = gtk_widget_get_next_sibling (f->play);
  g_assert_true (GTK_IS_TOGGLE_BUTTON (f->play));
  g_assert_null (gtk_widget_get_next_sibling (f->next));
  g_signal_connect (f->stepper, "moved", G_CALLBACK (count_moved), f);
  g_signal_connect (f->stepper, "notify", G_CALLBACK (count_notify), f);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->stepper);
  g_clear_object (&f->box);
}

static void
assert_at (Fixture *f, int row, int col)
{
  int r, c;

  cs_stepper_get_current (f->stepper, &r, &c);
  g_assert_cmpint (r, ==, row);
  g_assert_cmpint (c, ==, col);
}

/* No grid: nothing moves, nothing plays, the buttons are off. */
static void
test_empty (Fixture *f, gconstpointer data)
{
  g_assert_false (gtk_widget_get_sensitive (f->next));
  g_assert_false (gtk_widget_get_sensitive (f->play));
  cs_stepper_move_to (f->stepper, 1, 1);
  cs_stepper_step (f->stepper, 1);
  assert_at (f, 0, 0);
  g_assert_false (cs_stepper_handle_key (f->stepper, GDK_KEY_Right, 0));
  g_assert_false (cs_stepper_handle_key (f->stepper, GDK_KEY_space, 0));
  cs_stepper_set_playing (f->stepper, TRUE);
  g_assert_false (cs_stepper_get_playing (f->stepper));
  g_assert_cmpint (f->moved, ==, 0);
}

static void
test_move (Fixture *f, gconstpointer data)
{
  int rows, cols;

  cs_stepper_set_size (f->stepper, 3, 4);
  cs_stepper_get_size (f->stepper, &rows, &cols);
  g_assert_cmpint (rows, ==, 3);
  g_assert_cmpint (cols, ==, 4);
  g_assert_true (gtk_widget_get_sensitive (f->next));
  g_assert_cmpint (f->moved, ==, 0);

  /* clamped into the grid; one "moved" after both notifications */
  cs_stepper_move_to (f->stepper, 7, 2);
  assert_at (f, 2, 2);
  g_assert_cmpint (f->moved, ==, 1);
  g_assert_cmpint (f->rows_notified, ==, 1);
  g_assert_cmpint (f->cols_notified, ==, 1);
  cs_stepper_move_to (f->stepper, 2, 2);
  g_assert_cmpint (f->moved, ==, 1);
  g_object_set (f->stepper, "col", 0, NULL);
  assert_at (f, 2, 0);
  g_assert_cmpint (f->rows_notified, ==, 1);
  g_assert_cmpint (f->cols_notified, ==, 2);

  /* reading order, wrapping round at both ends */
  cs_stepper_move_to (f->stepper, 2, 3);
  cs_stepper_step (f->stepper, 1);
  assert_at (f, 0, 0);
  cs_stepper_step (f->stepper, -1);
  assert_at (f, 2, 3);
  cs_stepper_step (f->stepper, -5);
  assert_at (f, 1, 2);

  /* the buttons */
  g_signal_emit_by_name (f->next, "clicked");
  assert_at (f, 1, 3);
  g_signal_emit_by_name (f->prev, "clicked");
  g_signal_emit_by_name (f->prev, "clicked");
  assert_at (f, 1, 1);

  /* a smaller grid clamps the cell; an empty one keeps it */
  cs_stepper_set_size (f->stepper, 1, 1);
  assert_at (f, 0, 0);
  cs_stepper_set_size (f->stepper, 0, 5);
  g_assert_false (gtk_widget_get_sensitive (f->prev));
  assert_at (f, 0, 0);
}

static void
test_keys (Fixture *f, gconstpointer data)
{
  cs_stepper_set_size (f->stepper, 3, 3);
  g_assert_true (cs_stepper_handle_key (f->stepper, GDK_KEY_Right, 0));
  assert_at (f, 0, 1);
  g_assert_true (cs_stepper_handle_key (f->stepper, GDK_KEY_Down, 0));
  g_assert_true (cs_stepper_handle_key (f->stepper, GDK_KEY_KP_Down, 0));
  g_assert_true (cs_stepper_handle_key (f->stepper, GDK_KEY_Down, 0));
  assert_at (f, 2, 1);  /* stops at the edge */
  g_assert_true (cs_stepper_handle_key (f->stepper, GDK_KEY_End, 0));
  assert_at (f, 2, 2);
  g_assert_true (cs_stepper_handle_key (f->stepper, GDK_KEY_Right, 0));
  assert_at (f, 0, 0);  /* wraps */
  g_assert_true (cs_stepper_handle_key (f->stepper, GDK_KEY_Left, 0));
  assert_at (f, 2, 2);
  g_assert_true (cs_stepper_handle_key (f->stepper, GDK_KEY_Up, 0));
  assert_at (f, 1, 2);
  g_assert_true (cs_stepper_handle_key (f->stepper, GDK_KEY_Home, 0));
  assert_at (f, 0, 0);

  /* not ours: other keys and anything with Ctrl or Alt (shortcuts) */
  g_assert_false (cs_stepper_handle_key (f->stepper, GDK_KEY_a, 0));
  g_assert_false (cs_stepper_handle_key (f->stepper, GDK_KEY_Right, GDK_CONTROL_MASK));
  g_assert_false (cs_stepper_handle_key (f->stepper, GDK_KEY_Right, GDK_ALT_MASK));
  assert_at (f, 0, 0);

  /* Space plays and pauses */
  g_assert_true (cs_stepper_handle_key (f->stepper, GDK_KEY_space, 0));
  g_assert_true (cs_stepper_get_playing (f->stepper));
  g_assert_true (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (f->play)));
  g_assert_cmpstr (gtk_button_get_label (GTK_BUTTON (f->play)), ==, "Pause");
  g_assert_true (cs_stepper_handle_key (f->stepper, GDK_KEY_space, 0));
  g_assert_false (cs_stepper_get_playing (f->stepper));
  g_assert_cmpstr (gtk_button_get_label (GTK_BUTTON (f->play)), ==, "Play");
  g_assert_cmpint (f->playing_notified, ==, 2);
}

static void
stop_after_three (CsStepper *stepper, Fixture *f)
{
  if (f->moved == 3)
    cs_stepper_set_playing (stepper, FALSE);
}

/* The timer steps by itself, through the Play button, and stops. */
static void
test_play (Fixture *f, gconstpointer data)
{
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  cs_stepper_set_size (f->stepper, 2, 2);
  cs_stepper_move_to (f->stepper, 1, 0);
  f->moved = 0;
  g_signal_connect (f->stepper, "moved", G_CALLBACK (stop_after_three), f);
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (f->play), TRUE);
  g_assert_true (cs_stepper_get_playing (f->stepper));
  while (cs_stepper_get_playing (f->stepper) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (cs_stepper_get_playing (f->stepper));
  g_assert_false (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (f->play)));
  g_assert_cmpint (f->moved, ==, 3);
  assert_at (f, 0, 1);   /* [1,0] → [1,1] → [0,0] → [0,1] */

  /* an empty grid stops a playing stepper */
  cs_stepper_set_playing (f->stepper, TRUE);
  cs_stepper_set_size (f->stepper, 0, 0);
  g_assert_false (cs_stepper_get_playing (f->stepper));
}

int
main (int argc, char **argv)
{
  if (!gtk_init_check ())
    {
      g_print ("1..0 # SKIP no display\n");
      return 0;
    }
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func, interval) \
  g_test_add (path, Fixture, GUINT_TO_POINTER (interval), fixture_setup, func, fixture_teardown)
  ADD ("/gui/stepper/empty", test_empty, 0);
  ADD ("/gui/stepper/move", test_move, 0);
  ADD ("/gui/stepper/keys", test_keys, 0);
  ADD ("/gui/stepper/play", test_play, 10);
#undef ADD
  return g_test_run ();
}
