/* test-window.c — the real window, on a display (Xvfb, tests/gui/run-xvfb.sh)
 *
 * The application is started in-process: the window opens, every view is
 * reachable by its action and its switcher button, every control has an
 * accessible name, a stroke (the drag gesture's handlers) changes the
 * prediction label's accessible name, export writes whole files or none,
 * and a bad checkpoint puts a message in the window. GTK_A11Y=test, so the
 * accessible properties are read with gtk_test_accessible_*. */
#include "app/cs-application.h"
#include "app/cs-window-private.h"
#include "tests/window-fixture.h"
#include "app/views/cs-backward-view.h"
#include "app/views/cs-conv-view.h"
#include "app/views/cs-draw-view.h"
#include "app/views/cs-mistakes-view.h"
#include "app/views/cs-training-view.h"

#include <string.h>
#include "app/views/cs-view.h"

#include <glib/gstdio.h>
#include <stdio.h>

static CsApplication *app;
static CsWindow *window;

static void
iterate (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

/* Every widget under root, depth first. */
static void
collect (GtkWidget *widget, GPtrArray *out)
{
  g_ptr_array_add (out, widget);
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    collect (child, out);
}

static GPtrArray *
all_widgets (GtkWidget *root)
{
  GPtrArray *out = g_ptr_array_new ();
  collect (root, out);
  return out;
}

static gboolean
has_label (GtkWidget *widget, const char *label)
{
  g_autofree char *problem = gtk_test_accessible_check_property (GTK_ACCESSIBLE (widget),
                                                                GTK_ACCESSIBLE_PROPERTY_LABEL,
                                                                label);
  return problem == NULL;
}

static GtkWidget *
find_by_label (GtkWidget *root, const char *label)
{
  g_autoptr(GPtrArray) widgets = all_widgets (root);
  for (guint i = 0; i < widgets->len; i++)
    if (gtk_test_accessible_has_property (widgets->pdata[i], GTK_ACCESSIBLE_PROPERTY_LABEL)
        && has_label (widgets->pdata[i], label))
      return widgets->pdata[i];
  return NULL;
}

/* The widget's accessible name comes from somewhere: the label property,
 * a labelled-by relation, its own text, or a label inside it. */
static gboolean
has_accessible_name (GtkWidget *widget)
{
  if (gtk_test_accessible_has_property (GTK_ACCESSIBLE (widget), GTK_ACCESSIBLE_PROPERTY_LABEL)
      || gtk_test_accessible_has_relation (GTK_ACCESSIBLE (widget), GTK_ACCESSIBLE_RELATION_LABELLED_BY))
    return TRUE;
  if (GTK_IS_BUTTON (widget))
    {
      const char *text = gtk_button_get_label (GTK_BUTTON (widget));
      if (text != NULL && *text != '\0' && gtk_button_get_icon_name (GTK_BUTTON (widget)) == NULL)
        return TRUE;
    }
  g_autoptr(GPtrArray) inside = all_widgets (widget);
  for (guint i = 1; i < inside->len; i++)
    if (GTK_IS_LABEL (inside->pdata[i]) && *gtk_label_get_text (inside->pdata[i]) != '\0')
      return TRUE;
  return FALSE;
}

static void
test_views_reachable (void)
{
  GtkStack *stack = window->stack;
  g_autoptr(GListModel) pages = G_LIST_MODEL (gtk_stack_get_pages (stack));
  guint n = g_list_model_get_n_items (pages);
  g_assert_cmpuint (n, >=, 1);
  g_assert_nonnull (gtk_stack_get_child_by_name (stack, "draw"));

  /* one switcher button per view, in order */
  guint buttons = 0;
  for (GtkWidget *b = gtk_widget_get_first_child (GTK_WIDGET (window->switcher)); b != NULL;
       b = gtk_widget_get_next_sibling (b))
    buttons++;
  g_assert_cmpuint (buttons, ==, n);

  GtkWidget *button = gtk_widget_get_first_child (GTK_WIDGET (window->switcher));
  for (guint i = 0; i < n; i++, button = gtk_widget_get_next_sibling (button))
    {
      g_autoptr(GObject) page_obj = g_list_model_get_item (pages, i);
      GtkStackPage *page = GTK_STACK_PAGE (page_obj);
      const char *name = gtk_stack_page_get_name (page);
      GtkWidget *view = gtk_stack_page_get_child (page);
      g_test_message ("view %u: %s (%s)", i + 1, name, gtk_stack_page_get_title (page));
      g_assert_true (CS_IS_VIEW (view));
      g_assert_true (has_accessible_name (button));

      /* by the action */
      gtk_widget_activate_action (GTK_WIDGET (window), "win.show-view", "s", name);
      iterate ();
      g_assert_cmpstr (cs_window_get_view (window), ==, name);
      g_assert_true (gtk_stack_get_visible_child (stack) == view);
      g_assert_true (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (button)));

      /* and by the switcher's button, after another view was shown */
      if (n > 1)
        {
          g_autoptr(GObject) other_obj = g_list_model_get_item (pages, (i + 1) % n);
          GtkStackPage *other = GTK_STACK_PAGE (other_obj);
          cs_window_set_view (window, gtk_stack_page_get_name (other));
          iterate ();
          g_assert_false (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (button)));
        }
      /* "clicked" as a press and release give it; gtk_widget_activate ()
       * would only emit it after GtkButton's 250 ms activation flash */
      g_signal_emit_by_name (button, "clicked");
      iterate ();
      g_assert_cmpstr (cs_window_get_view (window), ==, name);
    }
  cs_window_set_view (window, "draw");
  iterate ();

  /* the worked example's views in the order of the lesson, the Backward
   * view after the forward pass */
  const char *worked[] = { "convolution", "pooling", "backward" };
  for (guint i = 0; i < G_N_ELEMENTS (worked); i++)
    {
      g_autoptr(GObject) page = g_list_model_get_item (pages, 1 + i);
      g_assert_cmpstr (gtk_stack_page_get_name (GTK_STACK_PAGE (page)), ==, worked[i]);
    }
  /* the Mistakes view after the Gradients view, on Alt+8 */
  g_autoptr(GObject) mistakes_page = g_list_model_get_item (pages, 7);
  g_assert_cmpstr (gtk_stack_page_get_name (GTK_STACK_PAGE (mistakes_page)), ==, "mistakes");
  g_assert_cmpstr (gtk_stack_page_get_title (GTK_STACK_PAGE (mistakes_page)), ==, "Mistakes");
  g_assert_true (CS_IS_MISTAKES_VIEW (gtk_stack_page_get_child (GTK_STACK_PAGE (mistakes_page))));

  GtkWidget *backward = cs_window_get_view_widget (window, "backward");
  g_assert_true (CS_IS_BACKWARD_VIEW (backward));
  g_assert_cmpstr (gtk_stack_page_get_title (gtk_stack_get_page (stack, backward)), ==,
                   "Backward");
}

/* The pooling and Backward views follow the Convolution view's edits. */
static void
test_views_follow_convolution (void)
{
  CsConvView *conv = CS_CONV_VIEW (cs_window_get_view_widget (window, "convolution"));
  CsBackwardView *backward = CS_BACKWARD_VIEW (cs_window_get_view_widget (window, "backward"));
  CsWorkedSpec spec = *cs_conv_view_get_spec (conv), saved = spec;
  CsBackwardViewState state;

  spec.kernel[0] = 10;   /* conv [0,0] = 24 + 10·3 = 54 */
  cs_conv_view_set_spec (conv, &spec);
  g_assert_cmpfloat (cs_backward_view_get_spec (backward)->kernel[0], ==, 10);
  cs_backward_view_set_step (backward, 13);
  cs_backward_view_get_state (backward, &state);
  g_autofree char *update = cs_backward_view_state_update_text (&state);
  g_assert_cmpstr (update, ==, "k[0,0] ← 10 − 0.1·12 = 8.8");
  cs_conv_view_set_spec (conv, &saved);
  g_assert_cmpfloat (cs_backward_view_get_spec (backward)->kernel[0], ==, 0);
}

static void
test_accessible_names (void)
{
  g_autoptr(GPtrArray) widgets = all_widgets (GTK_WIDGET (window));
  guint controls = 0;

  for (guint i = 0; i < widgets->len; i++)
    {
      GtkWidget *w = widgets->pdata[i];
      gboolean control = GTK_IS_BUTTON (w) || GTK_IS_MENU_BUTTON (w) || GTK_IS_DROP_DOWN (w)
                      || GTK_IS_CHECK_BUTTON (w) || GTK_IS_SWITCH (w) || GTK_IS_SCALE (w)
                      || GTK_IS_SPIN_BUTTON (w) || GTK_IS_ENTRY (w)
                      || (GTK_IS_DRAWING_AREA (w) && gtk_widget_get_focusable (w));
      if (!control || !gtk_widget_get_visible (w))
        continue;
      controls++;
      if (!has_accessible_name (w))
        g_error ("a %s (%s) has no accessible name", G_OBJECT_TYPE_NAME (w),
                 gtk_widget_get_tooltip_text (w) ? gtk_widget_get_tooltip_text (w) : "no tooltip");
    }
  g_test_message ("%u controls, each with an accessible name", controls);
  g_assert_cmpuint (controls, >=, 6);

  /* the ones the end-to-end test and screen readers rely on */
  g_assert_nonnull (find_by_label (GTK_WIDGET (window), "Drawing canvas"));
  g_assert_nonnull (find_by_label (GTK_WIDGET (window), "Main Menu"));
  g_assert_nonnull (find_by_label (GTK_WIDGET (window), "Export Figure"));
  g_assert_nonnull (find_by_label (GTK_WIDGET (window), "Undo stroke"));
  GtkWidget *label = find_by_label (GTK_WIDGET (window), "Prediction: none");
  g_assert_nonnull (label);
  gtk_test_accessible_assert_role (GTK_ACCESSIBLE (label), GTK_ACCESSIBLE_ROLE_LABEL);
}

static GtkGestureDrag *
canvas_gesture (GtkWidget *canvas)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (canvas);
  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GObject) c = g_list_model_get_item (controllers, i);
      if (GTK_IS_GESTURE_DRAG (c))
        return GTK_GESTURE_DRAG (c);
    }
  return NULL;
}

/* A stroke through points in canvas fractions, by the gesture's signals. */
static void
stroke (GtkWidget *canvas, const double *xy, int n)
{
  GtkGestureDrag *drag = canvas_gesture (canvas);
  double w = gtk_widget_get_width (canvas), h = gtk_widget_get_height (canvas);
  double x0 = xy[0] * w, y0 = xy[1] * h;

  g_assert_nonnull (drag);
  g_signal_emit_by_name (drag, "drag-begin", x0, y0);
  for (int i = 1; i < n; i++)
    for (int k = 1; k <= 10; k++)
      {
        double x = (xy[2 * i - 2] + (xy[2 * i] - xy[2 * i - 2]) * k / 10) * w;
        double y = (xy[2 * i - 1] + (xy[2 * i + 1] - xy[2 * i - 1]) * k / 10) * h;
        g_signal_emit_by_name (drag, "drag-update", x - x0, y - y0);
      }
  g_signal_emit_by_name (drag, "drag-end", xy[2 * n - 2] * w - x0, xy[2 * n - 1] * h - y0);
  iterate ();
}

static void
test_draw_and_predict (void)
{
  static const double seven[] = { 0.25, 0.2, 0.75, 0.2, 0.45, 0.85 };
  static const double one[] = { 0.52, 0.15, 0.50, 0.50, 0.47, 0.85 };
  GtkWidget *view = cs_window_get_view_widget (window, "draw");
  GtkWidget *canvas = find_by_label (view, "Drawing canvas");
  GtkWidget *label = find_by_label (view, "Prediction: none");
  CsSession *session = cs_window_get_session (window);

  g_assert_nonnull (canvas);
  g_assert_nonnull (label);
  g_assert_cmpint (gtk_widget_get_width (canvas), >, 200);
  g_assert_cmpint (gtk_widget_get_width (canvas), ==, gtk_widget_get_height (canvas));
  cs_session_set_model (session, CS_SESSION_MODEL_CNN);

  stroke (canvas, seven, 3);
  gtk_test_accessible_assert_property (label, GTK_ACCESSIBLE_PROPERTY_LABEL, "Prediction: 7");
  g_assert_cmpint (cs_draw_view_get_state (CS_DRAW_VIEW (view))->strokes->len, ==, 1);

  /* the MLP by its button's action: the same drawing predicted again */
  gtk_widget_activate_action (view, "draw.model", "s", CS_SESSION_MODEL_MLP);
  iterate ();
  g_assert_cmpstr (cs_session_get_model (session), ==, CS_SESSION_MODEL_MLP);
  gtk_test_accessible_assert_property (label, GTK_ACCESSIBLE_PROPERTY_LABEL, "Prediction: 7");
  gtk_widget_activate_action (view, "draw.model", "s", CS_SESSION_MODEL_CNN);

  /* undo, clear, undo of the clear */
  gtk_widget_activate_action (view, "draw.undo", NULL);
  iterate ();
  gtk_test_accessible_assert_property (label, GTK_ACCESSIBLE_PROPERTY_LABEL, "Prediction: none");
  stroke (canvas, one, 3);
  gtk_test_accessible_assert_property (label, GTK_ACCESSIBLE_PROPERTY_LABEL, "Prediction: 1");
  gtk_widget_activate_action (view, "draw.clear", NULL);
  iterate ();
  gtk_test_accessible_assert_property (label, GTK_ACCESSIBLE_PROPERTY_LABEL, "Prediction: none");
  gtk_widget_activate_action (view, "draw.undo", NULL);
  iterate ();
  gtk_test_accessible_assert_property (label, GTK_ACCESSIBLE_PROPERTY_LABEL, "Prediction: 1");
  cs_draw_view_clear (CS_DRAW_VIEW (view));
  iterate ();
}

static void
assert_file_starts (const char *path, const char *magic, gsize skip)
{
  g_autofree char *contents = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  g_assert_cmpuint (len, >, skip + strlen (magic));
  g_assert_nonnull (g_strstr_len (contents, MIN (len, 512), magic));
}

static void
test_export (void)
{
  g_autofree char *dir = g_dir_make_tmp ("cs-export-XXXXXX", NULL);
  g_autofree char *png = g_build_filename (dir, "draw.png", NULL);
  g_autofree char *svg = g_build_filename (dir, "draw.SVG", NULL);
  g_autofree char *pdf = g_build_filename (dir, "draw.pdf", NULL);
  g_autofree char *bmp = g_build_filename (dir, "draw.bmp", NULL);
  g_autofree char *afile = g_build_filename (dir, "a-file", NULL);
  g_autofree char *under_file = g_build_filename (afile, "draw.png", NULL);
  g_autofree char *missing = g_build_filename (dir, "no", "such", "folder", "draw.pdf", NULL);
  g_autoptr(GError) error = NULL;

  cs_window_set_view (window, "draw");
  iterate ();
  g_assert_true (cs_window_export_view (window, png, &error));
  g_assert_no_error (error);
  g_assert_true (cs_window_export_view (window, svg, &error));
  g_assert_true (cs_window_export_view (window, pdf, &error));
  assert_file_starts (png, "PNG", 0);
  assert_file_starts (svg, "<svg", 0);
  assert_file_starts (pdf, "%PDF", 0);

  /* the PNG is the view's size on screen */
  GtkWidget *view = cs_window_get_view_widget (window, "draw");
  cairo_surface_t *image = cairo_image_surface_create_from_png (png);
  g_assert_cmpint (cairo_image_surface_get_width (image), ==, gtk_widget_get_width (view));
  g_assert_cmpint (cairo_image_surface_get_height (image), ==, gtk_widget_get_height (view));
  cairo_surface_destroy (image);

  /* bad places: one clear error each, and nothing left behind */
  g_assert_true (g_file_set_contents (afile, "x", -1, NULL));
  g_assert_false (cs_window_export_view (window, bmp, &error));
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, ".png, .svg or .pdf"));
  g_clear_error (&error);
  g_assert_false (cs_window_export_view (window, under_file, &error));
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  g_assert_false (cs_window_export_view (window, missing, &error));
  g_test_message ("%s", error->message);
  g_clear_error (&error);

  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  guint files = 0;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_test_message ("left: %s", name);
      g_assert_false (name[0] == '.');   /* no temporary file */
      files++;
    }
  g_assert_cmpuint (files, ==, 4);
  g_unlink (png);
  g_unlink (svg);
  g_unlink (pdf);
  g_unlink (afile);
  g_rmdir (dir);
}

/* A misclassified test digit of the Mistakes view, activated: the Draw
 * view shows it and the session predicts from that very picture. */
static void
test_mistake_to_draw (void)
{
  CsSession *session = cs_window_get_session (window);
  cs_session_set_model (session, CS_SESSION_MODEL_CNN);
  cs_window_set_view (window, "mistakes");
  CsMistakesView *view = CS_MISTAKES_VIEW (cs_window_get_view_widget (window, "mistakes"));
  CsMistakes *mistakes = cs_mistakes_view_get_mistakes (view);
  const CsMistakesViewState *state = cs_mistakes_view_get_state (view);
  CsSessionWeights w;
  g_assert_true (cs_session_get_weights (session, &w));
  gint64 end = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  while (state->result == NULL || state->result->serial != w.serial)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, end);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  g_assert_cmpuint (state->n_shown, ==, state->result->eval.n - state->result->eval.correct);
  g_assert_cmpuint (state->n_shown, >, 3);

  guint32 index = state->shown[3];
  int predicted = state->result->predicted[index];
  const CsDataset *test = cs_mistakes_get_dataset (mistakes);
  cs_mistakes_view_activate (view, 3);
  iterate ();
  g_assert_cmpstr (cs_window_get_view (window), ==, "draw");

  /* the session's input is the test digit itself, as evaluated */
  const CsPrediction *p = cs_session_get_prediction (session);
  float x[28 * 28];
  gint32 label;
  cs_dataset_fill_batch (test, &index, 1, x, &label);
  g_assert_cmpmem (p->input, sizeof p->input, x, sizeof x);
  g_assert_cmpint (p->predicted, ==, predicted);
  g_assert_cmpint (p->predicted, !=, label);
  g_assert_cmpfloat_with_epsilon (p->probs[predicted], state->result->probs[index * 10 + predicted],
                                  1e-4);
  CsDrawView *draw = CS_DRAW_VIEW (cs_window_get_view_widget (window, "draw"));
  const CsDrawViewState *ds = cs_draw_view_get_state (draw);
  g_assert_nonnull (ds->image);
  g_autofree char *caption = g_strdup_printf ("Test digit %u, a %d", index, label);
  g_assert_cmpstr (ds->caption, ==, caption);
  g_autofree char *name = g_strdup_printf ("Prediction: %d", predicted);
  g_assert_nonnull (find_by_label (GTK_WIDGET (draw), name));

  /* a stroke over it is drawn with it, and preprocessed; undo gives the
   * picture back, exactly, and undo again the canvas before it */
  static const double line[] = { 0.1, 0.1, 0.3, 0.1 };
  stroke (find_by_label (GTK_WIDGET (draw), "Drawing canvas"), line, 2);
  g_assert_nonnull (ds->image);
  cs_draw_view_undo (draw);
  g_assert_cmpmem (cs_session_get_prediction (session)->input, sizeof x, x, sizeof x);
  cs_draw_view_undo (draw);
  g_assert_null (ds->image);
  g_assert_null (ds->caption);
}

/* A window on a session whose checkpoints did not load says so. */
static void
test_bad_checkpoint_banner (void)
{
  g_autofree char *dir = g_dir_make_tmp ("cs-window-XXXXXX", NULL);
  g_autofree char *corrupt = g_build_filename (dir, "simple-cnn.safetensors", NULL);
  g_assert_true (g_file_set_contents (corrupt, "not a checkpoint", -1, NULL));
  g_autoptr(CsSession) session = cs_session_new_for_checkpoints (NULL, corrupt);

  g_assert_false (gtk_widget_get_visible (window->banner));
  CsWindow *other = g_object_new (CS_TYPE_WINDOW, "application", app, "session", session, NULL);
  gtk_window_present (GTK_WINDOW (other));
  gtk_test_widget_wait_for_draw (GTK_WIDGET (other));
  g_assert_true (gtk_widget_get_visible (other->banner));
  const char *text = gtk_label_get_text (other->banner_label);
  g_test_message ("%s", text);
  g_assert_nonnull (strstr (text, "simple-cnn.safetensors"));
  g_assert_nonnull (strstr (text, "untrained"));

  /* and still predicts, untrained */
  GtkWidget *view = cs_window_get_view_widget (other, "draw");
  static const double one[] = { 0.52, 0.15, 0.50, 0.50, 0.47, 0.85 };
  stroke (find_by_label (view, "Drawing canvas"), one, 3);
  g_assert_false (cs_session_get_prediction (session)->trained);
  g_assert_cmpint (cs_session_get_prediction (session)->predicted, >=, 0);

  gtk_widget_activate_action (GTK_WIDGET (other), "win.dismiss-banner", NULL);
  g_assert_false (gtk_widget_get_visible (other->banner));
  gtk_window_destroy (GTK_WINDOW (other));
  iterate ();
  g_unlink (corrupt);
  g_rmdir (dir);
}

static void
test_application (void)
{
  g_auto(GStrv) quit = gtk_application_get_accels_for_action (GTK_APPLICATION (app), "app.quit");
  g_auto(GStrv) export = gtk_application_get_accels_for_action (GTK_APPLICATION (app), "win.export");
  g_auto(GStrv) help = gtk_application_get_accels_for_action (GTK_APPLICATION (app),
                                                             "win.show-help-overlay");
  g_assert_true (g_strv_contains ((const char *const *) quit, "<Control>q"));
  g_assert_true (g_strv_contains ((const char *const *) export, "<Control>e"));
  g_assert_nonnull (help[0]);
  g_assert_true (g_action_group_has_action (G_ACTION_GROUP (app), "about"));
  g_assert_true (g_action_group_has_action (G_ACTION_GROUP (app), "quit"));

  /* the shortcuts window came from the resource */
  g_assert_nonnull (gtk_application_window_get_help_overlay (GTK_APPLICATION_WINDOW (window)));

  /* the about dialog */
  g_action_group_activate_action (G_ACTION_GROUP (app), "about", NULL);
  iterate ();
  GtkAboutDialog *about = NULL;
  GListModel *toplevels = gtk_window_get_toplevels ();   /* not ours */
  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GObject) w = g_list_model_get_item (toplevels, i);
      if (GTK_IS_ABOUT_DIALOG (w))
        about = GTK_ABOUT_DIALOG (w);
    }
  g_assert_nonnull (about);
  g_assert_cmpint (gtk_about_dialog_get_license_type (about), ==, GTK_LICENSE_GPL_3_0);
  g_assert_cmpstr (gtk_about_dialog_get_logo_icon_name (about), ==, CS_APPLICATION_ID);
  gtk_window_destroy (GTK_WINDOW (about));
  iterate ();
}

/* Sessions: the shortcuts, the title, the drawing and the view of a
 * session opened, and a bad file said in the banner. */
static void
test_sessions (void)
{
  static const struct { const char *action, *accel; } accels[] = {
    { "win.open", "<Control>o" }, { "win.save", "<Control>s" }, { "win.save-as", "<Shift><Control>s" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (accels); i++)
    {
      g_auto(GStrv) got = gtk_application_get_accels_for_action (GTK_APPLICATION (app),
                                                                accels[i].action);
      g_assert_true (g_strv_contains ((const char *const *) got, accels[i].accel));
    }

  g_autofree char *dir = g_dir_make_tmp ("cs-window-session-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "Lesson 1.convscope", NULL);
  CsSession *session = cs_window_get_session (window);
  GtkWidget *draw = cs_window_get_view_widget (window, "draw");
  static const double seven[] = { 0.25, 0.2, 0.75, 0.2, 0.45, 0.85 };
  cs_window_set_view (window, "draw");
  iterate ();
  cs_draw_view_clear (CS_DRAW_VIEW (draw));
  stroke (find_by_label (draw, "Drawing canvas"), seven, 3);
  g_assert_cmpuint (cs_draw_view_get_state (CS_DRAW_VIEW (draw))->strokes->len, ==, 1);
  CsPrediction drawn = *cs_session_get_prediction (session);

  g_autoptr(GError) error = NULL;
  g_assert_true (cs_session_save (session, path, &error));
  g_assert_no_error (error);
  iterate ();
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (window)), ==, "Lesson 1 — Convscope");

  /* another drawing and view, then the session again */
  cs_draw_view_clear (CS_DRAW_VIEW (draw));
  cs_window_set_view (window, "convolution");
  iterate ();
  g_assert_true (cs_window_open_session (window, path));
  iterate ();
  g_assert_cmpstr (cs_window_get_view (window), ==, "draw");
  g_assert_cmpuint (cs_draw_view_get_state (CS_DRAW_VIEW (draw))->strokes->len, ==, 1);
  const CsPrediction *p = cs_session_get_prediction (session);
  g_assert_cmpmem (p->input, sizeof p->input, drawn.input, sizeof drawn.input);
  g_assert_true (gtk_widget_get_visible (window->banner));
  g_assert_nonnull (strstr (gtk_label_get_text (window->banner_label), "Lesson 1.convscope"));

  /* a bad file: one warning, nothing else changes */
  g_autofree char *bad = g_build_filename (dir, "bad.convscope", NULL);
  g_file_set_contents (bad, "not a session", -1, NULL);
  g_assert_false (cs_window_open_session (window, bad));
  g_assert_true (gtk_widget_has_css_class (window->banner, "warning"));
  const char *text = gtk_label_get_text (window->banner_label);
  g_test_message ("%s", text);
  g_assert_nonnull (strstr (text, "could not be opened"));
  g_assert_nonnull (strstr (text, "bad.convscope"));
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (window)), ==, "Lesson 1 — Convscope");
  g_assert_cmpmem (p->input, sizeof p->input, drawn.input, sizeof drawn.input);
  gtk_widget_activate_action (GTK_WIDGET (window), "win.dismiss-banner", NULL);

  g_unlink (bad);
  g_unlink (path);
  g_rmdir (dir);
}

/* Closing the window saves its size and view. */
static void
test_remembers (void)
{
  GSettings *settings = cs_application_get_settings (app);
  g_assert_nonnull (settings);
  gtk_window_set_default_size (GTK_WINDOW (window), 1100, 720);
  cs_window_set_view (window, "draw");
  gtk_window_close (GTK_WINDOW (window));
  iterate ();
  g_assert_cmpint (g_settings_get_int (settings, "window-width"), ==, 1100);
  g_assert_cmpint (g_settings_get_int (settings, "window-height"), ==, 720);
  g_autofree char *view = g_settings_get_string (settings, "view");
  g_assert_cmpstr (view, ==, "draw");
  window = NULL;
}

/* The Training view's device choice: the GPU where there is one, else one
 * clear message and training stays on the CPU. */
static void
test_training_device (void)
{
  cs_window_set_view (window, "training");
  iterate ();
  GtkWidget *view = cs_window_get_view_widget (window, "training");
  g_assert_true (CS_IS_TRAINING_VIEW (view));
  CsTraining *training = cs_training_view_get_training (CS_TRAINING_VIEW (view));
  g_assert_nonnull (training);
  /* the label "Device", then the control named by it */
  GtkWidget *device = find_by_label (view, "Device");
  if (GTK_IS_LABEL (device))
    device = gtk_widget_get_next_sibling (device);
  g_assert_true (has_label (device, "Device"));
  g_assert_true (GTK_IS_DROP_DOWN (device));
  GListModel *items = gtk_drop_down_get_model (GTK_DROP_DOWN (device));
  g_assert_cmpuint (g_list_model_get_n_items (items), ==, 3);

  guint64 errors = cs_training_get_status (training)->error_serial;
  gtk_drop_down_set_selected (GTK_DROP_DOWN (device), 2);   /* GPU (CUDA) */
  gint64 end = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  const CsTrainerStatus *s = cs_training_get_status (training);
  while (s->error_serial == errors && !g_str_equal (s->device, "cuda"))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, end);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  iterate ();
  if (g_str_equal (s->device, "cuda"))
    g_test_message ("training moved to the GPU: %s", s->device);
  else
    {
      g_test_message ("no GPU: %s", s->error);
      g_assert_cmpstr (s->device, ==, "cpu");
      g_assert_nonnull (strstr (s->error, "CUDA"));
      /* said once, in the view */
      GtkWidget *bar = NULL;
      g_autoptr(GPtrArray) widgets = all_widgets (view);
      for (guint i = 0; i < widgets->len && bar == NULL; i++)
        if (GTK_IS_LABEL (widgets->pdata[i]) && g_str_equal (gtk_label_get_text (widgets->pdata[i]), s->error))
          bar = widgets->pdata[i];
      g_assert_nonnull (bar);
      g_assert_true (gtk_widget_is_visible (bar));
    }
  /* and back: the choice is remembered */
  gtk_drop_down_set_selected (GTK_DROP_DOWN (device), 1);
  iterate ();
  g_autoptr(GSettings) settings = g_object_ref (cs_application_get_settings (app));
  g_autofree char *saved = g_settings_get_string (settings, "device");
  g_assert_cmpstr (saved, ==, "cpu");
}

int
main (int argc, char *argv[])
{
  window = start_window (&argc, &argv, &app);
  if (window == NULL)
    return 0;

  g_test_add_func ("/gui/window/views-reachable", test_views_reachable);
  g_test_add_func ("/gui/window/views-follow-convolution", test_views_follow_convolution);
  g_test_add_func ("/gui/window/accessible-names", test_accessible_names);
  g_test_add_func ("/gui/window/draw-and-predict", test_draw_and_predict);
  g_test_add_func ("/gui/window/export", test_export);
  g_test_add_func ("/gui/window/bad-checkpoint-banner", test_bad_checkpoint_banner);
  g_test_add_func ("/gui/window/application", test_application);
  g_test_add_func ("/gui/window/training-device", test_training_device);
  g_test_add_func ("/gui/window/mistake-to-draw", test_mistake_to_draw);
  g_test_add_func ("/gui/window/sessions", test_sessions);
  g_test_add_func ("/gui/window/remembers", test_remembers);   /* closes the window: last */

  int status = g_test_run ();
  g_object_unref (app);
  return status;
}
