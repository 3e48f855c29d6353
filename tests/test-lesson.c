/* test-lesson.c — the guided lesson and presentation mode, in the real
 * window on a display (Xvfb, tests/gui/run-xvfb.sh)
 *
 * Every page of the lesson names a view the window has and a part that
 * view can highlight; Next and Back walk all pages, switching the view and
 * moving the highlight; presentation mode makes every view draw larger and
 * leaving it restores the window's size, maximized state and view. */
#include "app/cs-application.h"
#include "app/cs-lesson.h"
#include "app/cs-window-private.h"
#include "tests/window-fixture.h"
#include "app/cs-training.h"
#include "app/views/cs-draw-view.h"
#include "app/views/cs-network-view.h"
#include "app/views/cs-style.h"
#include "app/views/cs-view.h"

#include <gdk/x11/gdkx.h>
#include <stdio.h>
#include <string.h>

static CsApplication *app;
static CsWindow *window;

/* What is pending, or a second of it: a view that animates keeps the
 * main loop busy. */
static void
iterate (void)
{
  gint64 end = g_get_monotonic_time () + G_USEC_PER_SEC;
  while (g_main_context_iteration (NULL, FALSE) && g_get_monotonic_time () < end)
    ;
}

/* Runs the main loop until done (…) or 3 s */
static gboolean
wait_until (gboolean (*done) (void))
{
  gint64 end = g_get_monotonic_time () + 3 * G_USEC_PER_SEC;
  while (!done () && g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (10000);
    }
  return done ();
}

static GPtrArray *
load_pages (void)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *pages = cs_lesson_load (CS_LESSON_RESOURCE, &error);
  g_assert_no_error (error);
  g_assert_nonnull (pages);
  return pages;
}

/* The views of the window, by page name */
static GPtrArray *
window_views (void)
{
  GPtrArray *views = g_ptr_array_new ();
  GtkWidget *stack = GTK_WIDGET (window->stack);
  for (GtkWidget *child = gtk_widget_get_first_child (stack); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (CS_IS_VIEW (child))
      g_ptr_array_add (views, child);
  return views;
}

static void
assert_highlights (CsLessonPage *page)
{
  g_autoptr(GPtrArray) views = window_views ();
  GtkWidget *shown = cs_window_get_view_widget (window, cs_lesson_page_get_view (page));
  for (guint i = 0; i < views->len; i++)
    g_assert_cmpstr (cs_view_get_highlight (views->pdata[i]), ==,
                     views->pdata[i] == shown ? cs_lesson_page_get_highlight (page) : NULL);
}

static void
test_pages_name_views (void)
{
  g_autoptr(GPtrArray) pages = load_pages ();
  g_assert_cmpuint (pages->len, >=, 10);
  g_assert_cmpuint (pages->len, ==, cs_window_get_n_lesson_pages (window));
  for (guint i = 0; i < pages->len; i++)
    {
      CsLessonPage *page = pages->pdata[i];
      const char *name = cs_lesson_page_get_view (page);
      const char *highlight = cs_lesson_page_get_highlight (page);
      g_test_message ("page %u: %s, view %s, highlight %s", i + 1, cs_lesson_page_get_title (page),
                      name, highlight);
      g_assert_true (cs_lesson_page_get_title (page)[0] != '\0');
      g_assert_nonnull (cs_lesson_page_get_text (page));
      g_assert_nonnull (cs_lesson_page_get_code (page));
      /* the code is kept as written: flush left, no blank ends */
      g_assert_false (g_ascii_isspace (cs_lesson_page_get_code (page)[0]));
      GtkWidget *view = cs_window_get_view_widget (window, name);
      g_assert_nonnull (view);
      g_assert_true (CS_IS_VIEW (view));
      g_assert_nonnull (highlight);
      g_assert_true (cs_view_has_highlight (CS_VIEW (view), highlight));
    }
}

/* A view the lesson names draws its highlight: the purple outline appears
 * on its picture, and goes when the highlight is taken off. */
static gsize
count_highlight_pixels (CsView *view)
{
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_RGB24, 1280, 720);
  cairo_t *cr = cairo_create (s);
  cs_view_draw (view, cr, 1280, 720);
  cairo_destroy (cr);
  cairo_surface_flush (s);
  const guint8 *data = cairo_image_surface_get_data (s);
  int stride = cairo_image_surface_get_stride (s);
  gsize n = 0;
  for (int y = 0; y < 720; y++)
    for (int x = 0; x < 1280; x++)
      {
        guint32 px = *(const guint32 *) (data + y * stride + 4 * x);
        int r = (px >> 16) & 0xff, g = (px >> 8) & 0xff, b = px & 0xff;
        n += abs (r - 145) <= 2 && abs (g - 64) <= 2 && abs (b - 171) <= 2;
      }
  cairo_surface_destroy (s);
  return n;
}

static CsTraining *run;

static gboolean
trained_one_batch (void)
{
  CsTrainingFrame *frame = cs_training_get_frame (run);
  return frame != NULL && frame->status.optim_step >= 1;
}

static void
test_highlights_drawn (void)
{
  g_autoptr(GPtrArray) pages = load_pages ();
  g_autoptr(GError) error = NULL;
  CsSession *session = cs_window_get_session (window);

  /* something in every view: a stroke predicted, one batch trained */
  float gray[28 * 28] = { 0 };
  for (int y = 5; y < 23; y++)
    gray[y * 28 + 14] = gray[y * 28 + 15] = 1.0f;
  g_assert_true (cs_session_predict (session, gray, 28, 28, 28, NULL));
  cs_network_view_set_snapshot (CS_NETWORK_VIEW (cs_window_get_view_widget (window, "network")),
                                cs_session_get_snapshot (session));
  run = cs_session_get_training (session, &error);
  g_assert_no_error (error);
  cs_training_step (run, 1);
  g_assert_true (wait_until (trained_one_batch));
  cs_window_set_view (window, "gradients");
  iterate ();
  for (guint i = 0; i < pages->len; i++)
    {
      CsLessonPage *page = pages->pdata[i];
      CsView *view = CS_VIEW (cs_window_get_view_widget (window, cs_lesson_page_get_view (page)));
      const char *highlight = cs_lesson_page_get_highlight (page);
      /* the Training view's buttons are widgets: they get a style class */
      if (g_str_equal (highlight, "step") || g_str_equal (highlight, "reset"))
        continue;
      cs_view_set_highlight (view, NULL);
      gsize before = count_highlight_pixels (view);
      cs_view_set_highlight (view, highlight);
      gsize after = count_highlight_pixels (view);
      cs_view_set_highlight (view, NULL);
      g_test_message ("%s/%s: %" G_GSIZE_FORMAT " → %" G_GSIZE_FORMAT " outline pixels",
                      cs_lesson_page_get_view (page), highlight, before, after);
      g_assert_cmpuint (after, >, before + 400);
    }
}

static void
test_walk (void)
{
  g_autoptr(GPtrArray) pages = load_pages ();
  guint n = pages->len;

  cs_window_set_view (window, "draw");
  g_assert_cmpint (cs_window_get_lesson_page (window), ==, -1);
  g_assert_false (gtk_widget_activate_action (GTK_WIDGET (window), "win.lesson-next", NULL)
                  && cs_window_get_lesson_page (window) != -1);

  /* the accelerators of the menu and the keyboard */
  const struct { const char *action, *accel; } accels[] = {
    { "win.lesson", "F9" },
    { "win.lesson-next", "<Alt>Right" },
    { "win.lesson-back", "<Alt>Left" },
    { "win.presentation", "F5" },
    { "win.leave-presentation", "Escape" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (accels); i++)
    {
      g_auto(GStrv) got = gtk_application_get_accels_for_action (GTK_APPLICATION (app),
                                                                accels[i].action);
      guint key, want_key;
      GdkModifierType mods, want_mods;
      gboolean found = FALSE;
      g_assert_true (gtk_accelerator_parse (accels[i].accel, &want_key, &want_mods));
      for (guint k = 0; got[k] != NULL; k++)
        found |= gtk_accelerator_parse (got[k], &key, &mods) && key == want_key && mods == want_mods;
      g_assert_true (found);
    }

  /* Page Down / Page Up: not application accelerators, which come before
   * the focused widget (the Mistakes gallery and the spin buttons page
   * with them), but the window's own bindings, which come after it */
  for (const char *const *a = (const char *const[]) { "win.lesson-next", "win.lesson-back", NULL }; *a; a++)
    {
      g_auto(GStrv) got = gtk_application_get_accels_for_action (GTK_APPLICATION (app), *a);
      for (guint k = 0; got[k] != NULL; k++)
        {
          guint key;
          GdkModifierType mods;
          g_assert_true (gtk_accelerator_parse (got[k], &key, &mods));
          g_assert_true (key != GDK_KEY_Page_Down && key != GDK_KEY_Page_Up);
        }
    }
  GtkShortcut *page_down = NULL;
  GListModel *controllers = gtk_widget_observe_controllers (GTK_WIDGET (window));
  for (guint i = 0; i < g_list_model_get_n_items (controllers) && page_down == NULL; i++)
    {
      g_autoptr(GtkEventController) c = g_list_model_get_item (controllers, i);
      if (!GTK_IS_SHORTCUT_CONTROLLER (c))
        continue;
      for (guint k = 0; k < g_list_model_get_n_items (G_LIST_MODEL (c)); k++)
        {
          g_autoptr(GtkShortcut) sc = g_list_model_get_item (G_LIST_MODEL (c), k);
          GtkShortcutTrigger *t = gtk_shortcut_get_trigger (sc);
          if (GTK_IS_KEYVAL_TRIGGER (t)
              && gtk_keyval_trigger_get_keyval (GTK_KEYVAL_TRIGGER (t)) == GDK_KEY_Page_Down
              && gtk_keyval_trigger_get_modifiers (GTK_KEYVAL_TRIGGER (t)) == 0)
            {
              g_assert_cmpint (gtk_event_controller_get_propagation_phase (c), ==, GTK_PHASE_BUBBLE);
              page_down = g_object_ref (sc);
              break;
            }
        }
    }
  g_object_unref (controllers);
  g_assert_nonnull (page_down);
  /* with the lesson closed it does nothing (and leaves the key to others) */
  g_assert_false (gtk_shortcut_action_activate (gtk_shortcut_get_action (page_down), 0,
                                                GTK_WIDGET (window), NULL));

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.lesson", NULL));
  iterate ();
  g_assert_cmpint (cs_window_get_lesson_page (window), ==, 0);
  g_assert_true (gtk_revealer_get_reveal_child (window->lesson_revealer));
  /* open, Page Down turns the page */
  g_assert_true (gtk_shortcut_action_activate (gtk_shortcut_get_action (page_down), 0,
                                               GTK_WIDGET (window), NULL));
  iterate ();
  g_assert_cmpint (cs_window_get_lesson_page (window), ==, 1);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.lesson-back", NULL));
  iterate ();
  g_object_unref (page_down);
  for (guint i = 0; i < n; i++)
    {
      CsLessonPage *page = pages->pdata[i];
      if (i > 0)
        g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.lesson-next", NULL));
      iterate ();
      g_assert_cmpint (cs_window_get_lesson_page (window), ==, (int) i);
      g_assert_cmpstr (cs_window_get_view (window), ==, cs_lesson_page_get_view (page));
      g_assert_cmpstr (gtk_label_get_text (window->lesson_title), ==, cs_lesson_page_get_title (page));
      g_autofree char *code = NULL;
      GtkTextBuffer *buffer = gtk_text_view_get_buffer (window->lesson_code);
      GtkTextIter start, end;
      gtk_text_buffer_get_bounds (buffer, &start, &end);
      code = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
      g_assert_cmpstr (code, ==, cs_lesson_page_get_code (page));
      assert_highlights (page);
    }
  /* no page after the last */
  gtk_widget_activate_action (GTK_WIDGET (window), "win.lesson-next", NULL);
  iterate ();
  g_assert_cmpint (cs_window_get_lesson_page (window), ==, (int) n - 1);

  for (int i = (int) n - 2; i >= 0; i--)
    {
      g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.lesson-back", NULL));
      iterate ();
      g_assert_cmpint (cs_window_get_lesson_page (window), ==, i);
      g_assert_cmpstr (cs_window_get_view (window), ==, cs_lesson_page_get_view (pages->pdata[i]));
      assert_highlights (pages->pdata[i]);
    }
  gtk_widget_activate_action (GTK_WIDGET (window), "win.lesson-back", NULL);
  iterate ();
  g_assert_cmpint (cs_window_get_lesson_page (window), ==, 0);

  /* the Training view's Step button, a widget, gets the style class */
  for (guint i = 0; i < n; i++)
    if (g_str_equal (cs_lesson_page_get_highlight (pages->pdata[i]), "step"))
      {
        cs_window_set_lesson_page (window, (int) i);
        GtkWidget *training = cs_window_get_view_widget (window, "training");
        g_autoptr(GPtrArray) marked = g_ptr_array_new ();
        GPtrArray *stack = g_ptr_array_new ();
        g_ptr_array_add (stack, training);
        while (stack->len > 0)
          {
            GtkWidget *w = g_ptr_array_steal_index (stack, stack->len - 1);
            if (gtk_widget_has_css_class (w, "lesson-highlight"))
              g_ptr_array_add (marked, w);
            for (GtkWidget *c = gtk_widget_get_first_child (w); c; c = gtk_widget_get_next_sibling (c))
              g_ptr_array_add (stack, c);
          }
        g_ptr_array_unref (stack);
        g_assert_cmpuint (marked->len, ==, 1);
        g_assert_cmpstr (gtk_actionable_get_action_name (marked->pdata[0]), ==, "training.step");
      }

  /* closing takes every highlight away */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.lesson", NULL));
  iterate ();
  g_assert_cmpint (cs_window_get_lesson_page (window), ==, -1);
  g_assert_false (gtk_revealer_get_reveal_child (window->lesson_revealer));
  g_autoptr(GPtrArray) views = window_views ();
  for (guint i = 0; i < views->len; i++)
    g_assert_null (cs_view_get_highlight (views->pdata[i]));
}

/* A view's picture, for comparing two */
static GBytes *
render (CsView *view, int width, int height)
{
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_RGB24, width, height);
  cairo_t *cr = cairo_create (s);
  cs_view_draw (view, cr, width, height);
  cairo_destroy (cr);
  cairo_surface_flush (s);
  GBytes *bytes = g_bytes_new (cairo_image_surface_get_data (s),
                               (gsize) cairo_image_surface_get_stride (s) * height);
  cairo_surface_destroy (s);
  return bytes;
}

static gboolean
not_presenting (void)
{
  return !gtk_window_is_fullscreen (GTK_WINDOW (window));
}

static int width_before;

static gboolean
restored_size (void)
{
  int w, h;
  gtk_window_get_default_size (GTK_WINDOW (window), &w, &h);
  return w == 1700 && h == 1000 && gtk_widget_get_width (GTK_WIDGET (window)) == width_before;
}

static void
test_presentation (void)
{
  g_autoptr(GPtrArray) views = window_views ();
  g_autoptr(GPtrArray) normal = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  CsDrawViewLayout before, during;

  /* no crossfade: a view fading out stays mapped, and the Gradients view
   * follows the training run while mapped */
  gtk_stack_set_transition_type (window->stack, GTK_STACK_TRANSITION_TYPE_NONE);
  gtk_window_unmaximize (GTK_WINDOW (window));
  /* wider than the window presenting needs (its header with the views
   * in presentation type): with no window manager here, full screen does
   * not happen and the window would grow to that width */
  gtk_window_set_default_size (GTK_WINDOW (window), 1700, 1000);
  cs_window_set_view (window, "convolution");
  iterate ();
  cs_draw_view_layout (1920, 1000, &before);
  width_before = gtk_widget_get_width (GTK_WIDGET (window));
  g_assert_cmpint (width_before, >, 1300);
  for (guint i = 0; i < views->len; i++)
    g_ptr_array_add (normal, render (views->pdata[i], 1920, 1000));

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.presentation", NULL));
  iterate ();
  g_assert_true (cs_window_get_presentation (window));
  g_assert_true (cs_style_get_presentation ());
  g_assert_true (gtk_widget_has_css_class (GTK_WIDGET (window), "presentation"));

  /* larger type: the Draw view's base font, measured */
  cs_draw_view_layout (1920, 1000, &during);
  g_test_message ("Draw view, 1920 × 1000: base font %.1f px, %.1f px presenting", before.font,
                  during.font);
  g_assert_cmpfloat (during.font, >=, before.font * 1.4);
  /* and every view draws differently */
  for (guint i = 0; i < views->len; i++)
    {
      g_autoptr(GBytes) now = render (views->pdata[i], 1920, 1000);
      g_assert_false (g_bytes_equal (now, normal->pdata[i]));
    }

  /* the widgets around: larger type through style.css */
  PangoContext *context = gtk_widget_get_pango_context (GTK_WIDGET (window->lesson_title));
  PangoFontDescription *font = pango_context_get_font_description (context);
  g_test_message ("the window's type presenting: %d pt",
                  pango_font_description_get_size (font) / PANGO_SCALE);
  g_assert_cmpint (pango_font_description_get_size (font) / PANGO_SCALE, >=, 14);

  /* the view changes while presenting; leaving goes back to the one before */
  cs_window_set_view (window, "training");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.leave-presentation", NULL));
  iterate ();
  g_assert_false (cs_window_get_presentation (window));
  g_assert_false (cs_style_get_presentation ());
  g_assert_false (gtk_widget_has_css_class (GTK_WIDGET (window), "presentation"));
  g_assert_true (wait_until (not_presenting));
  g_assert_true (wait_until (restored_size));
  int w, h;
  gtk_window_get_default_size (GTK_WINDOW (window), &w, &h);
  g_assert_cmpint (w, ==, 1700);
  g_assert_cmpint (h, ==, 1000);
  g_assert_false (gtk_window_is_maximized (GTK_WINDOW (window)));
  g_assert_cmpstr (cs_window_get_view (window), ==, "convolution");
  for (guint i = 0; i < views->len; i++)
    {
      g_autoptr(GBytes) now = render (views->pdata[i], 1920, 1000);
      g_assert_true (g_bytes_equal (now, normal->pdata[i]));
    }
  /* and the leaving action is off again: Escape is free */
  g_assert_false (gtk_widget_activate_action (GTK_WIDGET (window), "win.leave-presentation", NULL)
                  && cs_window_get_presentation (window));
}

static gboolean
is_fullscreen (void)
{
  return gtk_window_is_fullscreen (GTK_WINDOW (window));
}

static gboolean
is_maximized (void)
{
  return gtk_window_is_maximized (GTK_WINDOW (window));
}

/* Full screen and back to maximized: the window manager does both, so this
 * needs one. */
static void
test_presentation_fullscreen (void)
{
  GdkDisplay *display = gtk_widget_get_display (GTK_WIDGET (window));
  if (!GDK_IS_X11_DISPLAY (display)
      || !gdk_x11_screen_supports_net_wm_hint (gdk_x11_display_get_screen (display),
                                               "_NET_WM_STATE_FULLSCREEN"))
    {
      g_test_skip ("no window manager here that makes a window full screen");
      return;
    }
  gtk_window_maximize (GTK_WINDOW (window));
  g_assert_true (wait_until (is_maximized));
  cs_window_set_presentation (window, TRUE);
  g_assert_true (wait_until (is_fullscreen));
  cs_window_set_presentation (window, FALSE);
  g_assert_true (wait_until (not_presenting));
  g_assert_true (wait_until (is_maximized));
}

int
main (int argc, char *argv[])
{
  window = start_window (&argc, &argv, &app);
  if (window == NULL)
    return 0;

  g_test_add_func ("/gui/lesson/pages-name-views", test_pages_name_views);
  g_test_add_func ("/gui/lesson/walk", test_walk);
  g_test_add_func ("/gui/lesson/highlights-drawn", test_highlights_drawn);
  g_test_add_func ("/gui/presentation/type-and-restore", test_presentation);
  g_test_add_func ("/gui/presentation/fullscreen", test_presentation_fullscreen);

  int status = g_test_run ();
  gtk_window_destroy (GTK_WINDOW (window));
  g_object_unref (app);
  return status;
}
