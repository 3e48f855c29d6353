/* test-mistakes-view.c — the Mistakes view and the evaluation behind it
 *
 * The bundled pretrained MLP on the 2,000 bundled test digits: the
 * evaluation on CsMistakes' thread finds exactly the digits the network,
 * run here one digit at a time, gets wrong; the gallery lists those, the
 * most confidently wrong first; a cell of the matrix filters them; a new
 * step of the training run is evaluated again, live. The figure's pixels
 * on an image surface; the widget (its click, keys, accessible words,
 * export) with a display.
 */
#include "app/cs-mistakes.h"
#include "app/views/cs-mistakes-view.h"

#include "core/checkpoint.h"
#include "core/loss.h"
#include "core/paths.h"

#include "view-pixels.h"

#include <glib/gstdio.h>
#include <string.h>

#define W 1280
#define H 720

static gboolean have_display;

static char *
checkpoint (const char *name)
{
  g_autofree char *rel = g_strdup_printf ("checkpoints/%s.safetensors", name);
  char *path = cs_find_data_file (rel);
  g_assert_nonnull (path);
  return path;
}

static CsSession *
mlp_session (void)
{
  g_autofree char *mlp = checkpoint ("mlp");
  g_autofree char *cnn = checkpoint ("simple-cnn");
  CsSession *session = cs_session_new_for_checkpoints (mlp, cnn);
  g_assert_null (cs_session_get_message (session));
  cs_session_set_model (session, CS_SESSION_MODEL_MLP);
  return session;
}

/* Runs the main context until mistakes has a result of which pred says yes. */
static const CsMistakesResult *
wait_result (CsMistakes *mistakes, gboolean (*pred) (const CsMistakesResult *, gpointer),
             gpointer data)
{
  gint64 end = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  for (;;)
    {
      const CsMistakesResult *r = cs_mistakes_get_result (mistakes);
      if (r != NULL && (pred == NULL || pred (r, data)))
        return r;
      g_assert_null (cs_mistakes_get_error (mistakes));
      if (g_get_monotonic_time () > end)
        g_error ("no evaluation within 60 s");
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

/* The test digits the pretrained MLP gets wrong, one forward pass each. */
static GArray *
wrong_one_by_one (const CsDataset *test)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = checkpoint ("mlp");
  g_autoptr(CsModel) model = cs_checkpoint_load (path, &error);
  g_assert_no_error (error);
  g_assert_true (cs_model_reserve (model, 1, &error));
  GArray *wrong = g_array_new (FALSE, FALSE, sizeof (guint32));
  float x[28 * 28];
  for (guint32 i = 0; i < test->n; i++)
    {
      gint32 y, cls;
      cs_dataset_fill_batch (test, &i, 1, x, &y);
      CsTensor xt = cs_tensor_view_batch (x, 1, cs_model_get_input_shape (model));
      const CsTensor *logits = cs_model_forward (model, &xt, FALSE);
      cs_argmax_rows (&cls, logits->data, 1, 10);
      if (cls != y)
        g_array_append_val (wrong, i);
    }
  return wrong;
}

static int
compare_u32 (gconstpointer a, gconstpointer b)
{
  guint32 x = *(const guint32 *) a, y = *(const guint32 *) b;
  return x < y ? -1 : x > y;
}

/* The gallery's examples are exactly those, most sure first. */
static void
assert_gallery_is (const CsMistakesResult *r, const CsDataset *test, const guint32 *shown,
                   guint n, GArray *wrong)
{
  g_assert_cmpuint (n, ==, wrong->len);
  g_autofree guint32 *sorted = g_memdup2 (shown, n * sizeof (guint32));
  qsort (sorted, n, sizeof (guint32), compare_u32);
  g_assert_cmpmem (sorted, n * sizeof (guint32), wrong->data, wrong->len * sizeof (guint32));
  for (guint k = 0; k < n; k++)
    {
      guint32 i = shown[k];
      g_assert_cmpint (r->predicted[i], !=, test->labels[i]);
      if (k > 0)
        {
          guint32 j = shown[k - 1];
          g_assert_cmpfloat (r->probs[j * 10 + r->predicted[j]], >=, r->probs[i * 10 + r->predicted[i]]);
        }
    }
}

static void
test_evaluation (void)
{
  g_autoptr(CsSession) session = mlp_session ();
  g_autoptr(CsMistakes) mistakes = cs_mistakes_new (session);
  const CsDataset *test = cs_mistakes_get_dataset (mistakes);
  g_assert_nonnull (test);
  g_assert_cmpuint (test->n, ==, 2000);

  /* nothing is evaluated until it is active */
  for (int i = 0; i < 20; i++)
    g_main_context_iteration (NULL, FALSE);
  g_assert_null (cs_mistakes_get_result (mistakes));
  g_assert_false (cs_mistakes_get_busy (mistakes));

  cs_mistakes_set_active (mistakes, TRUE);
  const CsMistakesResult *r = wait_result (mistakes, NULL, NULL);
  g_assert_cmpstr (r->title, ==, "MLP 784-256-10");
  g_assert_true (r->trained);
  g_assert_cmpint (r->training_step, ==, -1);
  g_assert_cmpuint (r->n, ==, 2000);

  /* the totals: cs_evaluate's on the same weights */
  g_autoptr(GError) error = NULL;
  g_autofree char *path = checkpoint ("mlp");
  g_autoptr(CsModel) model = cs_checkpoint_load (path, &error);
  g_assert_true (cs_model_reserve (model, 64, &error));
  CsEvaluation ev;
  guint32 confusion[100] = { 0 };
  cs_evaluate (model, test, &ev, confusion);
  g_assert_cmpuint (r->eval.correct, ==, ev.correct);
  g_assert_cmpfloat_with_epsilon (r->eval.loss, ev.loss, 1e-5);
  g_assert_cmpmem (r->confusion, sizeof r->confusion, confusion, sizeof confusion);
  guint32 sum = 0, diagonal = 0;
  for (int i = 0; i < 100; i++)
    sum += r->confusion[i], diagonal += i / 10 == i % 10 ? r->confusion[i] : 0;
  g_assert_cmpuint (sum, ==, 2000);
  g_assert_cmpuint (diagonal, ==, ev.correct);

  /* the gallery: exactly the digits it gets wrong one by one */
  g_autoptr(GArray) wrong = wrong_one_by_one (test);
  g_assert_cmpuint (wrong->len, ==, 2000 - ev.correct);
  g_autofree guint32 *shown = g_new (guint32, 2000);
  guint n = cs_mistakes_collect (r, test, -1, shown);
  assert_gallery_is (r, test, shown, n, wrong);

  /* a cell: its count, each of true t taken for p */
  int cell = -1;
  for (int i = 0; i < 100; i++)
    if (i / 10 != i % 10 && (cell < 0 || r->confusion[i] > r->confusion[cell]))
      cell = i;
  n = cs_mistakes_collect (r, test, cell, shown);
  g_assert_cmpuint (n, ==, r->confusion[cell]);
  g_assert_cmpuint (n, >, 1);
  for (guint k = 0; k < n; k++)
    {
      g_assert_cmpint (test->labels[shown[k]], ==, cell / 10);
      g_assert_cmpint (r->predicted[shown[k]], ==, cell % 10);
    }
  /* the diagonal's are right answers: no mistakes */
  g_assert_cmpuint (cs_mistakes_collect (r, test, 3 * 10 + 3, shown), ==, 0);
}

static gboolean
of_step (const CsMistakesResult *r, gpointer data)
{
  return r->training_step == GPOINTER_TO_INT (data);
}

/* Live: a step of the training run is evaluated again, with the run's
 * weights; the other model too. */
static void
test_live (void)
{
  g_autoptr(CsSession) session = mlp_session ();
  g_autoptr(CsMistakes) mistakes = cs_mistakes_new (session);
  cs_mistakes_set_active (mistakes, TRUE);
  const CsMistakesResult *r = wait_result (mistakes, NULL, NULL);
  guint32 pretrained = r->eval.correct;

  g_autoptr(GError) error = NULL;
  CsTraining *training = cs_session_get_training (session, &error);
  g_assert_no_error (error);
  cs_training_step (training, 1);
  r = wait_result (mistakes, of_step, GINT_TO_POINTER (1));
  g_assert_false (r->trained);
  g_assert_cmpuint (r->eval.correct, !=, pretrained);  /* a fresh run: about one in ten */

  /* the numbers of the session's weights now */
  CsSessionWeights w;
  g_assert_true (cs_session_get_weights (session, &w));
  g_assert_cmpuint (w.serial, ==, r->serial);
  g_autoptr(CsModel) model = cs_model_new_from_json (w.json, -1, &error);
  g_assert_no_error (error);
  g_assert_true (cs_model_reserve (model, 32, &error));
  memcpy (cs_model_get_params (model), w.params, w.n_params * sizeof (float));
  CsEvaluation ev;
  cs_evaluate (model, cs_mistakes_get_dataset (mistakes), &ev, NULL);
  g_assert_cmpuint (r->eval.correct, ==, ev.correct);

  /* the CNN: its own network on the thread */
  cs_session_set_model (session, CS_SESSION_MODEL_CNN);
  r = wait_result (mistakes, of_step, GINT_TO_POINTER (-1));
  g_assert_cmpstr (r->title, ==, "SimpleCNN");
  g_assert_cmpuint (r->eval.correct, ==, 1948);
  g_test_message ("the SimpleCNN on the test split: %.0f ms on the thread", r->usec / 1000.0);

  /* inactive: nothing more */
  cs_mistakes_set_active (mistakes, FALSE);
  cs_session_set_model (session, CS_SESSION_MODEL_MLP);
  for (int i = 0; i < 50; i++)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  g_assert_false (cs_mistakes_get_busy (mistakes));
  g_assert_cmpstr (cs_mistakes_get_result (mistakes)->title, ==, "SimpleCNN");
}

static cairo_surface_t *
draw (const CsMistakesViewState *state, int w, int h)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, w, h);
  cairo_t *cr = cairo_create (surface);
  cs_mistakes_view_state_draw (state, cr, w, h);
  cairo_destroy (cr);
  cairo_surface_flush (surface);
  return surface;
}

/* The figure: the diagonal grey, the worst mistake the palette's darkest,
 * an empty cell white, the pictures' ink dark; a filter's cell marked. */
static void
test_figure (void)
{
  g_autoptr(CsSession) session = mlp_session ();
  g_autoptr(CsMistakes) mistakes = cs_mistakes_new (session);
  cs_mistakes_set_active (mistakes, TRUE);
  const CsMistakesResult *r = wait_result (mistakes, NULL, NULL);
  const CsDataset *test = cs_mistakes_get_dataset (mistakes);

  g_autofree guint32 *shown = g_new (guint32, 2000);
  CsMistakesViewState state;
  cs_mistakes_view_state_init (&state);
  state.result = r;
  state.test = test;
  state.shown = shown;
  state.n_shown = cs_mistakes_collect (r, test, -1, shown);

  cairo_surface_t *s = draw (&state, W, H);
  view_save (s, "mistakes.png");
  CsMistakesLayout l;
  cs_mistakes_view_layout (W, H, &l);
  g_assert_cmpfloat (l.gallery.origin.x, >=, l.matrix.origin.x + l.matrix.size.width);
  g_assert_cmpuint (cs_mistakes_layout_per_page (&l), >=, 24);

  int worst = -1, empty = -1;
  for (int i = 0; i < 100; i++)
    if (i / 10 != i % 10)
      {
        if (worst < 0 || r->confusion[i] > r->confusion[worst])
          worst = i;
        if (r->confusion[i] == 0 && empty < 0)
          empty = i;
      }
  g_assert_cmpint (empty, >=, 0);
  graphene_rect_t g;
  cs_mistakes_layout_cell_rect (&l, 5 * 10 + 5, &g);
  /* a corner of the cell, away from its number */
  g_assert_true (view_pixel_is (view_pixel (s, g.origin.x + 4, g.origin.y + 4),
                                (CsRgb) { 0.85, 0.85, 0.86 }, 2));
  cs_mistakes_layout_cell_rect (&l, worst, &g);
  g_assert_true (view_pixel_is (view_pixel (s, g.origin.x + 4, g.origin.y + 4),
                                cs_palette_color (CS_PALETTE_SEQUENTIAL, 1.0), 2));
  cs_mistakes_layout_cell_rect (&l, empty, &g);
  g_assert_true (view_pixel_is (view_pixel (s, g.origin.x + g.size.width / 2, g.origin.y + g.size.height / 2),
                                cs_palette_color (CS_PALETTE_SEQUENTIAL, 0.0), 2));

  /* the first tile's picture: its pixels where the digit's are */
  g_assert_true (cs_mistakes_view_state_tile_rect (&state, &l, 0, &g));
  graphene_rect_t off;
  g_assert_false (cs_mistakes_view_state_tile_rect (&state, &l, cs_mistakes_layout_per_page (&l), &off));
  double px = g.origin.x + (g.size.width - l.picture) / 2, scale = l.picture / 28;
  const guint8 *img = test->images + (gsize) shown[0] * 784;
  /* ink dark (0.05, 0.05, 0.08) over white by each byte's coverage */
  int same = 0, inked = 0;
  for (int y = 0; y < 28; y++)
    for (int x = 0; x < 28; x++)
      {
        guint32 p = view_pixel (s, (int) (px + (x + 0.5) * scale), (int) (g.origin.y + (y + 0.5) * scale));
        double a = img[y * 28 + x] / 255.0;
        same += view_pixel_is (p, (CsRgb) { 1 - 0.95 * a, 1 - 0.95 * a, 1 - 0.92 * a }, 3);
        inked += a > 0.5;
      }
  g_assert_cmpint (same, ==, 784);
  g_assert_cmpint (inked, >, 20);
  /* a hit on the tile is its position; on the cell, the cell */
  g_assert_cmpint (cs_mistakes_view_state_hit_tile (&state, &l, g.origin.x + 5, g.origin.y + 5), ==, 0);
  cs_mistakes_layout_cell_rect (&l, worst, &g);
  g_assert_cmpint (cs_mistakes_layout_hit_cell (&l, g.origin.x + 1, g.origin.y + g.size.height - 1), ==, worst);
  g_assert_cmpint (cs_mistakes_layout_hit_cell (&l, l.matrix.origin.x - 2, g.origin.y), ==, -1);
  cairo_surface_destroy (s);

  /* the words */
  g_autofree char *cell = cs_mistakes_view_state_describe_cell (&state, worst);
  g_assert_nonnull (strstr (cell, "predicted"));
  g_autofree char *example = cs_mistakes_view_state_describe_example (&state, 0);
  g_autofree char *index = g_strdup_printf ("test digit %u,", shown[0]);
  g_assert_nonnull (strstr (example, index));
  g_autofree char *result = cs_mistakes_view_state_describe_result (&state);
  g_assert_true (g_str_has_prefix (result, "MLP 784-256-10, pretrained: 1878 of 2000"));

  /* small, and the empty state, draw without trouble */
  state.filter = worst;
  s = draw (&state, 400, 300);
  cairo_surface_destroy (s);
  cs_mistakes_view_state_init (&state);
  s = draw (&state, W, H);
  cairo_surface_destroy (s);
}

/* ---- the widget, with a display ------------------------------------------ */

static GtkEventController *
controller_of (GtkWidget *widget, GType type)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (widget);
  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GObject) c = g_list_model_get_item (controllers, i);
      if (G_TYPE_CHECK_INSTANCE_TYPE (c, type))
        return GTK_EVENT_CONTROLLER (c);
    }
  return NULL;
}

static void
on_activated (CsMistakesView *view, guint index, gpointer data)
{
  *(gint64 *) data = index;
}

static gboolean
key (GtkWidget *area, guint keyval)
{
  gboolean handled = FALSE;
  g_signal_emit_by_name (controller_of (area, GTK_TYPE_EVENT_CONTROLLER_KEY), "key-pressed",
                         keyval, 0, 0, &handled);
  return handled;
}

static void
test_widget (void)
{
  if (!have_display)
    {
      g_test_skip ("no display");
      return;
    }
  g_autoptr(CsSession) session = mlp_session ();
  g_autoptr(CsMistakes) mistakes = cs_mistakes_new (session);
  const CsDataset *test = cs_mistakes_get_dataset (mistakes);
  GtkWidget *window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (window), W, H);
  GtkWidget *view = cs_mistakes_view_new (mistakes);
  CsMistakesView *mv = CS_MISTAKES_VIEW (view);
  const CsMistakesViewState *state = cs_mistakes_view_get_state (mv);
  g_assert_true (CS_IS_VIEW (view));
  g_assert_false (cs_mistakes_get_active (mistakes));
  gtk_window_set_child (GTK_WINDOW (window), view);
  gtk_window_present (GTK_WINDOW (window));
  gtk_test_widget_wait_for_draw (view);
  /* on screen: it evaluates */
  g_assert_true (cs_mistakes_get_active (mistakes));
  const CsMistakesResult *r = wait_result (mistakes, NULL, NULL);
  g_assert_true (state->result == r);

  GtkWidget *toolbar = gtk_widget_get_first_child (view);
  GtkWidget *overlay = gtk_widget_get_last_child (view);
  /* the overlay's focusable areas: the matrix's, then the gallery's */
  GtkWidget *areas[2] = { NULL, NULL };
  guint n_areas = 0;
  for (GtkWidget *c = gtk_widget_get_first_child (overlay); c != NULL; c = gtk_widget_get_next_sibling (c))
    if (gtk_widget_get_focusable (c) && n_areas < 2)
      areas[n_areas++] = c;
  g_assert_cmpuint (n_areas, ==, 2);
  GtkWidget *matrix = areas[0], *gallery = areas[1];
  g_assert_true (GTK_IS_DRAWING_AREA (matrix));
  GtkWidget *all = gtk_widget_get_first_child (toolbar);
  g_assert_true (GTK_IS_BUTTON (all));
  g_assert_true (gtk_widget_get_focusable (matrix));
  g_assert_true (gtk_widget_get_focusable (gallery));
  g_assert_false (gtk_widget_get_sensitive (all));

  /* the gallery: exactly the misclassified digits */
  g_autoptr(GArray) wrong = wrong_one_by_one (test);
  assert_gallery_is (r, test, state->shown, state->n_shown, wrong);
  g_autofree char *status = cs_mistakes_view_state_describe_result (state);
  g_autofree char *cell_words = cs_mistakes_view_state_describe_cell (state, 0);
  g_autofree char *described = g_strdup_printf ("%s. %s", status, cell_words);
  gtk_test_accessible_assert_property (matrix, GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, described);
  g_autofree char *first = cs_mistakes_view_state_describe_example (state, 0);
  gtk_test_accessible_assert_property (gallery, GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, first);

  /* a click on a cell: only its mistakes */
  int cell = -1;
  for (int i = 0; i < 100; i++)
    if (i / 10 != i % 10 && (cell < 0 || r->confusion[i] > r->confusion[cell]))
      cell = i;
  CsMistakesLayout l;
  cs_mistakes_view_layout (gtk_widget_get_width (overlay), gtk_widget_get_height (overlay), &l);
  graphene_rect_t g;
  cs_mistakes_layout_cell_rect (&l, cell, &g);
  graphene_point_t at = GRAPHENE_POINT_INIT (g.origin.x + g.size.width / 2, g.origin.y + g.size.height / 2), in;
  g_assert_true (gtk_widget_compute_point (overlay, matrix, &at, &in));
  g_signal_emit_by_name (controller_of (matrix, GTK_TYPE_GESTURE_CLICK), "pressed", 1,
                         (double) in.x, (double) in.y);
  g_assert_cmpint (state->filter, ==, cell);
  g_assert_cmpuint (state->n_shown, ==, r->confusion[cell]);
  for (guint k = 0; k < state->n_shown; k++)
    {
      g_assert_cmpint (test->labels[state->shown[k]], ==, cell / 10);
      g_assert_cmpint (r->predicted[state->shown[k]], ==, cell % 10);
    }
  g_assert_true (gtk_widget_get_sensitive (all));
  g_autofree char *words = cs_mistakes_view_state_describe_cell (state, cell);
  g_free (described);
  described = g_strdup_printf ("%s. %s", status, words);
  gtk_test_accessible_assert_property (matrix, GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, described);

  /* a click on a tile, and Enter on the keyboard's: "example-activated"
   * with that digit's index */
  gint64 activated = -1;
  g_signal_connect (view, "example-activated", G_CALLBACK (on_activated), &activated);
  guint last = state->n_shown - 1;
  g_assert_true (cs_mistakes_view_state_tile_rect (state, &l, last, &g));
  at = GRAPHENE_POINT_INIT (g.origin.x + g.size.width / 2, g.origin.y + 10);
  g_assert_true (gtk_widget_compute_point (overlay, gallery, &at, &in));
  g_signal_emit_by_name (controller_of (gallery, GTK_TYPE_GESTURE_CLICK), "pressed", 1,
                         (double) in.x, (double) in.y);
  g_assert_cmpint (activated, ==, state->shown[last]);
  g_assert_cmpuint (state->cursor, ==, last);
  g_assert_true (key (gallery, GDK_KEY_Home));
  activated = -1;
  g_assert_true (key (gallery, GDK_KEY_Return));
  g_assert_cmpint (activated, ==, state->shown[0]);

  /* the same cell again (or Escape): every mistake */
  g_assert_true (key (matrix, GDK_KEY_Escape));
  g_assert_cmpint (state->filter, ==, -1);
  g_assert_cmpuint (state->n_shown, ==, wrong->len);
  /* the matrix's keys: → moves, Enter filters, the diagonal shows all */
  g_assert_true (key (matrix, GDK_KEY_Home));
  g_assert_true (key (matrix, GDK_KEY_Right));
  g_assert_cmpint (state->cell, ==, 1);
  g_assert_true (key (matrix, GDK_KEY_Return));
  g_assert_cmpint (state->filter, ==, 1);
  g_assert_cmpuint (state->n_shown, ==, r->confusion[1]);
  g_assert_true (key (matrix, GDK_KEY_Left));
  g_assert_true (key (matrix, GDK_KEY_Return));
  g_assert_cmpint (state->filter, ==, -1);
  g_assert_false (key (matrix, GDK_KEY_a));

  /* pages: the MLP's 122 mistakes do not fit on one */
  guint per = cs_mistakes_layout_per_page (&l);
  g_assert_cmpuint (state->n_shown, >, per);
  g_assert_true (key (gallery, GDK_KEY_Page_Down));
  g_assert_cmpuint (state->page, ==, 1);
  g_assert_cmpuint (state->cursor, ==, per);
  g_assert_true (key (gallery, GDK_KEY_Up));
  g_assert_cmpuint (state->page, ==, 0);
  gtk_test_widget_wait_for_draw (view);

  /* export through the CsView interface */
  g_autofree char *dir = g_dir_make_tmp ("mistakes-view-XXXXXX", NULL);
  g_autofree char *png = g_build_filename (dir, "mistakes.png", NULL);
  g_autoptr(GError) error = NULL;
  g_assert_true (cs_view_export (CS_VIEW (view), png, CS_EXPORT_PNG, 1000, 600, &error));
  g_assert_no_error (error);
  g_unlink (png);
  for (int format = CS_EXPORT_SVG; format <= CS_EXPORT_PDF; format++)
    {
      g_autofree char *path = g_build_filename (dir, format == CS_EXPORT_SVG ? "m.svg" : "m.pdf", NULL);
      g_assert_true (cs_view_export (CS_VIEW (view), path, format, 1000, 600, &error));
      g_assert_no_error (error);
      GStatBuf st;
      g_assert_cmpint (g_stat (path, &st), ==, 0);
      g_assert_cmpint (st.st_size, >, 10000);
      g_unlink (path);
    }
  g_rmdir (dir);

  gtk_window_destroy (GTK_WINDOW (window));
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_false (cs_mistakes_get_active (mistakes));
}

int
main (int argc, char **argv)
{
  g_setenv ("GTK_A11Y", "test", TRUE);
  g_test_init (&argc, &argv, NULL);
  have_display = gtk_init_check ();

  g_test_add_func ("/app/mistakes-view/evaluation", test_evaluation);
  g_test_add_func ("/app/mistakes-view/live", test_live);
  g_test_add_func ("/app/mistakes-view/figure", test_figure);
  g_test_add_func ("/app/mistakes-view/widget", test_widget);
  return g_test_run ();
}
