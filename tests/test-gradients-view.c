/* test-gradients-view.c — the Gradients view's picture, pixel by pixel
 *
 * The presets, initialised with a seed, run a batch of bundled digits
 * forward and the cross-entropy backward: the view's maps draw exactly the
 * snapshot's weights and gradients (the model's own numbers), each cell in
 * the palette's colour of its value on a symmetric scale, kernels in
 * (output, input, row, column) order and templates as 28×28 pictures. The
 * norm plot is drawn from histories with known norms: each layer's line at
 * the height its norm has on the log axis, layers without parameters not
 * drawn, a single spike in 100,000 batches still drawn; a real run of the
 * trainer plots its linear layers. Before anything, a message. With a
 * display (Xvfb) the widget is checked too: its controls, keys and export.
 */
#include "app/cs-snapshot.h"
#include "app/views/cs-gradients-view.h"

#include "core/dataset.h"
#include "core/model.h"
#include "core/trainer.h"

#include "view-pixels.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#define SEED 11
#define BATCH 16
#define W 1280
#define H 800

/* ---------------------------------------------------------------------------
 * Drawing and reading
 */

static cairo_surface_t *
draw (const CsGradientsViewState *state, int width, int height)
{
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  cairo_t *cr = cairo_create (s);
  cs_gradients_view_state_draw (state, cr, width, height);
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
  cairo_destroy (cr);
  cairo_surface_flush (s);
  g_autofree char *name = g_strdelimit (g_strdup_printf ("%s-%dx%d.png", g_test_get_path (),
                                                         width, height), "/", '_');
  view_save (s, name + 1);
  return s;
}

static void
assert_colour_at (cairo_surface_t *s, double x, double y, CsRgb want, const char *what)
{
  guint32 px = view_pixel (s, (int) floor (x), (int) floor (y));
  if (!view_pixel_is (px, want, 2))
    {
      g_autofree char *got = view_pixel_string (px);
      g_error ("%s: pixel (%d, %d) is %s, expected #%02x%02x%02x", what, (int) floor (x),
               (int) floor (y), got, (int) lround (want.r * 255), (int) lround (want.g * 255),
               (int) lround (want.b * 255));
    }
}

/* The palette's colour of v on the scale ± limit. */
static CsRgb
heat (double v, double limit)
{
  return cs_palette_color (CS_PALETTE_DIVERGING,
                           cs_palette_normalize (CS_PALETTE_DIVERGING, v, limit));
}

/* Whether some pixel within r pixels of (x, y) is c. */
static gboolean
colour_near (cairo_surface_t *s, double x, double y, int r, CsRgb c)
{
  int cx = (int) floor (x), cy = (int) floor (y);
  for (int dy = -r; dy <= r; dy++)
    for (int dx = -r; dx <= r; dx++)
      {
        int px = cx + dx, py = cy + dy;
        if (px < 0 || py < 0 || px >= cairo_image_surface_get_width (s)
            || py >= cairo_image_surface_get_height (s))
          continue;
        if (view_pixel_is (view_pixel (s, px, py), c, 3))
          return TRUE;
      }
  return FALSE;
}

/* Pixels of the area (whole pixels inside it) that are c. */
static int
count_colour (cairo_surface_t *s, graphene_rect_t r, CsRgb c)
{
  int n = 0;
  for (int y = (int) ceil (r.origin.y); y < (int) floor (r.origin.y + r.size.height); y++)
    for (int x = (int) ceil (r.origin.x); x < (int) floor (r.origin.x + r.size.width); x++)
      n += view_pixel_is (view_pixel (s, x, y), c, 3);
  return n;
}

/* ---------------------------------------------------------------------------
 * A real model after a forward and backward pass
 */

typedef struct
{
  CsModel *model;
  CsSnapshot *snap;
  CsGradientsViewState state;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  f->model = cs_model_new_preset (data, &error);
  g_assert_no_error (error);
  cs_model_init (f->model, SEED);
  g_assert_true (cs_model_reserve (f->model, BATCH, &error));

  g_autoptr(CsDataset) digits = cs_dataset_load_named ("digits", "train", &error);
  g_assert_no_error (error);
  guint32 idx[BATCH];
  float x[BATCH * 784];
  gint32 y[BATCH];
  for (guint i = 0; i < BATCH; i++)
    idx[i] = 100 + 37 * i;
  cs_dataset_fill_batch (digits, idx, BATCH, x, y);
  CsTensor xt = cs_tensor_view (x, 4, (gint64[]) { BATCH, 1, 28, 28 });
  cs_model_zero_grad (f->model);
  cs_model_forward (f->model, &xt, TRUE);
  double loss = cs_model_cross_entropy (f->model, y, NULL);
  g_assert_true (isfinite (loss) && loss > 0);
  cs_model_backward (f->model);

  f->snap = cs_snapshot_new (f->model, 0, CS_SNAPSHOT_ALL);
  cs_gradients_view_state_init (&f->state);
  f->state.snapshot = f->snap;
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  cs_snapshot_unref (f->snap);
  cs_model_free (f->model);
}

static const CsParam *
model_param (Fixture *f, const char *name)
{
  const CsModelEntry *e = cs_model_find_entry (f->model, name);
  g_assert_nonnull (e);
  return e->param;
}

static double
largest_abs (const float *v, gsize n)
{
  double m = 0.0;
  for (gsize i = 0; i < n; i++)
    m = MAX (m, fabs (v[i]));
  return m;
}

/* The maps draw the model's own weights and gradients, the snapshot's
 * copies of them, on scales of ± their largest magnitude. */
static void
check_values (Fixture *f, const char *name)
{
  const CsParam *p = model_param (f, name);
  gsize n = 0;
  const float *g = cs_gradients_view_state_get_values (&f->state, CS_GRADIENTS_MAP_GRADIENTS, &n);
  const float *w = cs_gradients_view_state_get_values (&f->state, CS_GRADIENTS_MAP_WEIGHTS, NULL);
  g_assert_cmpuint (n, ==, (gsize) cs_tensor_numel (p->value));
  g_assert_true (g == cs_snapshot_get_param_grad (f->snap, name)->data);
  g_assert_true (w == cs_snapshot_get_param (f->snap, name)->data);
  g_assert_cmpmem (g, n * sizeof (float), p->grad->data, n * sizeof (float));
  g_assert_cmpmem (w, n * sizeof (float), p->value->data, n * sizeof (float));
  g_assert_cmpfloat (largest_abs (g, n), >, 0.0);
  g_assert_cmpfloat (cs_gradients_view_state_get_limit (&f->state, CS_GRADIENTS_MAP_GRADIENTS),
                     ==, largest_abs (p->grad->data, n));
  g_assert_cmpfloat (cs_gradients_view_state_get_limit (&f->state, CS_GRADIENTS_MAP_WEIGHTS),
                     ==, largest_abs (p->value->data, n));
}

/* Each cell of a map, at its centre, has its value's colour: every element
 * when there are few, else the largest, the smallest and a spread. */
static void
check_cells (Fixture *f, const char *name, int width, int height)
{
  const CsParam *p = model_param (f, name);
  gsize n = (gsize) cs_tensor_numel (p->value);
  cairo_surface_t *s = draw (&f->state, width, height);
  for (int m = 0; m < 2; m++)
    {
      CsGradientsMap map = m == 0 ? CS_GRADIENTS_MAP_WEIGHTS : CS_GRADIENTS_MAP_GRADIENTS;
      const float *v = m == 0 ? p->value->data : p->grad->data;
      graphene_rect_t r;
      if (!cs_gradients_view_state_get_cell_rect (&f->state, width, height, map, 0, &r))
        continue;
      double limit = largest_abs (v, n);
      gsize hi = 0, lo = 0;
      for (gsize i = 0; i < n; i++)
        {
          if (v[i] > v[hi])
            hi = i;
          if (v[i] < v[lo])
            lo = i;
        }
      gsize every = MAX (n / 997, 1);
      for (gsize i = 0; i < n; i++)
        {
          if (i % every != 0 && i != hi && i != lo)
            continue;
          g_assert_true (cs_gradients_view_state_get_cell_rect (&f->state, width, height, map, i,
                                                                &r));
          g_assert_cmpfloat (r.size.width, >=, 2.0);
          g_assert_cmpfloat (r.size.height, >=, 2.0);
          /* the cursor's cell (0) is outlined: look beside the line */
          double cx = r.origin.x + r.size.width / 2, cy = r.origin.y + r.size.height / 2;
          if (i == 0 && r.size.width >= 3)
            continue;
          g_autofree char *what = g_strdup_printf ("%s %s element %zu = %g", name,
                                                   m == 0 ? "weight" : "gradient", i, v[i]);
          assert_colour_at (s, cx, cy, heat (v[i], limit), what);
        }
    }
  cairo_surface_destroy (s);
}

static void
test_mlp_weights (Fixture *f, gconstpointer data)
{
  /* 1.weight (256, 784) and 3.weight (10, 256); the biases are left out */
  g_assert_cmpuint (cs_gradients_view_state_get_n_weights (&f->state), ==, 2);
  g_assert_cmpstr (cs_gradients_view_state_get_weight_name (&f->state, 0), ==, "1.weight");
  g_assert_cmpstr (cs_gradients_view_state_get_weight_name (&f->state, 1), ==, "3.weight");
  g_assert_cmpuint (cs_gradients_view_state_get_weight_layer (&f->state, 1), ==, 3);
  g_autofree char *d = cs_gradients_view_state_describe_weight (&f->state, 0);
  g_assert_cmpstr (d, ==, "1 Linear · weight 256×784");

  /* the first: 28×28 templates */
  g_assert_cmpint (cs_gradients_view_state_get_shown_weight (&f->state), ==, 0);
  g_assert_cmpint (cs_gradients_view_state_get_arrangement (&f->state), ==,
                   CS_GRADIENTS_ARRANGE_TEMPLATES);
  check_values (f, "1.weight");
  /* unit 5's pixel (row 3, column 4) sits 3 cells down and 4 across from
   * its pixel (0, 0) */
  graphene_rect_t a, b;
  g_assert_true (cs_gradients_view_state_get_cell_rect (&f->state, W, H, CS_GRADIENTS_MAP_WEIGHTS,
                                                        5 * 784, &a));
  g_assert_true (cs_gradients_view_state_get_cell_rect (&f->state, W, H, CS_GRADIENTS_MAP_WEIGHTS,
                                                        5 * 784 + 3 * 28 + 4, &b));
  g_assert_cmpfloat_with_epsilon (b.origin.x - a.origin.x, 4 * a.size.width, 1e-3);
  g_assert_cmpfloat_with_epsilon (b.origin.y - a.origin.y, 3 * a.size.height, 1e-3);
  /* large enough for whole-pixel cells: each cell its value's colour */
  f->state.show = CS_GRADIENTS_SHOW_GRADIENTS;
  check_cells (f, "1.weight", 2400, 2000);
  f->state.show = CS_GRADIENTS_SHOW_WEIGHTS;
  check_cells (f, "1.weight", 2400, 2000);

  /* the second: its matrix, both maps at the usual size */
  f->state.show = CS_GRADIENTS_SHOW_BOTH;
  g_assert_true (cs_gradients_view_state_select_weight (&f->state, 1));
  g_assert_cmpint (cs_gradients_view_state_get_arrangement (&f->state), ==,
                   CS_GRADIENTS_ARRANGE_MATRIX);
  check_values (f, "3.weight");
  check_cells (f, "3.weight", W, H);
  g_assert_false (cs_gradients_view_state_select_weight (&f->state, 2));
  g_assert_false (cs_gradients_view_state_select_weight (&f->state, -1));
}

static void
test_cnn_kernels (Fixture *f, gconstpointer data)
{
  /* the two convolutions' kernels and the two linear layers' matrices */
  g_assert_cmpuint (cs_gradients_view_state_get_n_weights (&f->state), ==, 4);
  static const char *const names[] = { "0.weight", "3.weight", "7.weight", "9.weight" };
  for (guint i = 0; i < 4; i++)
    {
      g_assert_cmpstr (cs_gradients_view_state_get_weight_name (&f->state, i), ==, names[i]);
      g_assert_true (cs_gradients_view_state_select_weight (&f->state, (int) i));
      g_assert_cmpint (cs_gradients_view_state_get_arrangement (&f->state), ==,
                       i < 2 ? CS_GRADIENTS_ARRANGE_KERNELS : CS_GRADIENTS_ARRANGE_MATRIX);
      check_values (f, names[i]);
    }

  /* every weight of every kernel of the first convolution, and of its
   * gradient, side by side at the usual size */
  cs_gradients_view_state_select_weight (&f->state, 0);
  check_cells (f, "0.weight", W, H);
  /* kernel k's cells in reading order inside one picture; the weights and
   * the gradients in the same place of their maps */
  for (gsize k = 0; k < 32; k++)
    {
      graphene_rect_t first, cell, g;
      g_assert_true (cs_gradients_view_state_get_cell_rect (&f->state, W, H,
                                                            CS_GRADIENTS_MAP_WEIGHTS, k * 9,
                                                            &first));
      g_assert_true (cs_gradients_view_state_get_cell_rect (&f->state, W, H,
                                                            CS_GRADIENTS_MAP_GRADIENTS, k * 9, &g));
      g_assert_cmpfloat (g.origin.x, >, first.origin.x + first.size.width * 3);
      g_assert_cmpfloat_with_epsilon (g.origin.y, first.origin.y, 1e-3);
      for (gsize c = 1; c < 9; c++)
        {
          g_assert_true (cs_gradients_view_state_get_cell_rect (&f->state, W, H,
                                                                CS_GRADIENTS_MAP_WEIGHTS,
                                                                k * 9 + c, &cell));
          g_assert_cmpfloat_with_epsilon (cell.origin.x - first.origin.x,
                                          (c % 3) * first.size.width, 1e-3);
          g_assert_cmpfloat_with_epsilon (cell.origin.y - first.origin.y,
                                          (c / 3) * first.size.height, 1e-3);
        }
    }

  /* the second convolution: the 64 × 32 kernels at a size where they have
   * whole-pixel cells */
  cs_gradients_view_state_select_weight (&f->state, 1);
  check_cells (f, "3.weight", 1920, 1080);
}

/* Hit tests, the cursor and its words. */
static void
test_cnn_cursor (Fixture *f, gconstpointer data)
{
  const CsParam *p = model_param (f, "0.weight");
  graphene_rect_t r;
  gsize e = 7 * 9 + 5;   /* kernel 7, row 1, column 2 */
  g_assert_true (cs_gradients_view_state_get_cell_rect (&f->state, W, H, CS_GRADIENTS_MAP_GRADIENTS,
                                                        e, &r));
  CsGradientsMap map;
  gsize hit;
  g_assert_true (cs_gradients_view_state_hit_cell (&f->state, W, H, r.origin.x + r.size.width / 2,
                                                   r.origin.y + r.size.height / 2, &map, &hit));
  g_assert_cmpint (map, ==, CS_GRADIENTS_MAP_GRADIENTS);
  g_assert_cmpuint (hit, ==, e);
  g_assert_false (cs_gradients_view_state_hit_cell (&f->state, W, H, 2, 2, &map, &hit));

  f->state.cursor = (int) e;
  g_autofree char *text = cs_gradients_view_state_describe_cursor (&f->state);
  g_assert_true (g_str_has_prefix (text, "Kernel of output channel 7 from input channel 0, row 1, "
                                         "column 2: w = "));
  g_assert_nonnull (strstr (text, "∂L/∂w = "));

  /* → the next kernel, same cell; ↓ a row of pictures down; Home, End */
  g_assert_true (cs_gradients_view_state_move_cursor (&f->state, W, H, CS_GRADIENTS_MOVE_RIGHT));
  g_assert_cmpint (f->state.cursor, ==, 8 * 9 + 5);
  g_assert_true (cs_gradients_view_state_move_cursor (&f->state, W, H, CS_GRADIENTS_MOVE_DOWN));
  int below = f->state.cursor / 9;
  graphene_rect_t k8, kb;
  cs_gradients_view_state_get_cell_rect (&f->state, W, H, CS_GRADIENTS_MAP_WEIGHTS, 8 * 9, &k8);
  cs_gradients_view_state_get_cell_rect (&f->state, W, H, CS_GRADIENTS_MAP_WEIGHTS,
                                         (gsize) below * 9, &kb);
  g_assert_cmpfloat_with_epsilon (kb.origin.x, k8.origin.x, 1e-3);
  g_assert_cmpfloat (kb.origin.y, >, k8.origin.y);
  g_assert_true (cs_gradients_view_state_move_cursor (&f->state, W, H, CS_GRADIENTS_MOVE_END));
  g_assert_cmpint (f->state.cursor / 9, ==, 31);
  g_assert_false (cs_gradients_view_state_move_cursor (&f->state, W, H, CS_GRADIENTS_MOVE_RIGHT));
  g_assert_true (cs_gradients_view_state_move_cursor (&f->state, W, H, CS_GRADIENTS_MOVE_HOME));
  g_assert_cmpint (f->state.cursor, ==, 0);

  /* the words carry the cursor's numbers */
  f->state.cursor = 4;
  g_free (text);
  text = cs_gradients_view_state_describe_cursor (&f->state);
  char w[32];
  g_snprintf (w, sizeof w, "%.3g", fabs (p->value->data[4]));
  g_assert_nonnull (strstr (text, w));

  /* a new weight starts the cursor over; a matrix moves by cells */
  g_assert_true (cs_gradients_view_state_select_weight (&f->state, 3));
  g_assert_cmpint (f->state.cursor, ==, 0);
  g_assert_true (cs_gradients_view_state_move_cursor (&f->state, W, H, CS_GRADIENTS_MOVE_DOWN));
  g_assert_cmpint (f->state.cursor, ==, 128);
  g_assert_true (cs_gradients_view_state_move_cursor (&f->state, W, H, CS_GRADIENTS_MOVE_RIGHT));
  g_assert_cmpint (f->state.cursor, ==, 129);
  g_free (text);
  text = cs_gradients_view_state_describe_cursor (&f->state);
  g_assert_true (g_str_has_prefix (text, "Output 1, input 1: "));
}

/* Only the weights when the snapshot has no gradients: the gradient map
 * says why. */
static void
test_no_gradients (Fixture *f, gconstpointer data)
{
  g_autoptr(CsSnapshot) snap = cs_snapshot_new (f->model, 0, CS_SNAPSHOT_FORWARD);
  f->state.snapshot = snap;
  g_assert_cmpuint (cs_gradients_view_state_get_n_weights (&f->state), ==, 2);
  g_assert_null (cs_gradients_view_state_get_values (&f->state, CS_GRADIENTS_MAP_GRADIENTS, NULL));
  graphene_rect_t r;
  g_assert_false (cs_gradients_view_state_get_cell_rect (&f->state, W, H,
                                                         CS_GRADIENTS_MAP_GRADIENTS, 0, &r));
  g_assert_true (cs_gradients_view_state_get_cell_rect (&f->state, W, H,
                                                        CS_GRADIENTS_MAP_WEIGHTS, 0, &r));
  cairo_surface_destroy (draw (&f->state, W, H));
  f->state.snapshot = f->snap;
}

/* ---------------------------------------------------------------------------
 * The norm plot on histories with known norms
 */

/* The MLP's layers: flatten and ReLU have no parameters. */
static CsTrainHistory *
mlp_history (guint n, float norm1, float norm3, float total)
{
  static const char *const titles[] = { "Flatten", "Linear", "ReLU", "Linear", NULL };
  CsTrainHistory *h = cs_train_history_new (4, titles);
  h->generation = 1;
  for (guint i = 0; i < n; i++)
    {
      float norms[4] = { NAN, norm1, NAN, norm3 };
      CsTrainRecord rec = { .step = i + 1, .size = 64, .loss = 1.0f, .grad_norm = total };
      cs_train_history_append (h, &rec, norms);
    }
  return h;
}

/* Where the view puts a norm: the axis is log10, lo at the bottom. */
static double
expected_y (graphene_rect_t plot, double lo, double hi, double v)
{
  return plot.origin.y + plot.size.height
         - (log10 (v) - log10 (lo)) / (log10 (hi) - log10 (lo)) * plot.size.height;
}

static void
test_norm_heights (void)
{
  g_autoptr(CsTrainHistory) h = mlp_history (200, 1e-3f, 1e-1f, 1.0f);
  g_autoptr(CsGradientNorms) norms = cs_gradient_norms_new ();
  cs_gradient_norms_update (norms, h);
  CsGradientsViewState state;
  cs_gradients_view_state_init (&state);
  state.norms = norms;

  double lo, hi;
  gint64 first, last;
  g_assert_true (cs_gradients_view_state_get_axes (&state, &lo, &hi, &first, &last));
  /* whole decades, with room above and below: 10⁻⁴ … 10 */
  g_assert_cmpfloat_with_epsilon (lo, 1e-4, 1e-12);
  g_assert_cmpfloat_with_epsilon (hi, 10, 1e-9);
  g_assert_cmpint (first, ==, 1);
  g_assert_cmpint (last, ==, 200);

  /* the layers take the palette's colours in order (the ReLU takes none),
   * the whole gradient is the grey line */
  const struct { double norm; CsRgb colour; } lines[] = {
    { 1e-3, cs_palette_qualitative (0) },
    { 1e-1, cs_palette_qualitative (1) },
  };
  for (int smooth = 0; smooth < 2; smooth++)
    {
      state.smooth = smooth;
      const int sizes[][2] = { { W, H }, { 1920, 1080 } };
      for (gsize z = 0; z < G_N_ELEMENTS (sizes); z++)
        {
          int width = sizes[z][0], height = sizes[z][1];
          graphene_rect_t plot;
          g_assert_true (cs_gradients_view_state_get_plot_rect (&state, width, height, &plot));
          g_assert_cmpfloat (plot.size.height, >, 100);
          cairo_surface_t *s = draw (&state, width, height);
          for (gsize l = 0; l < G_N_ELEMENTS (lines); l++)
            {
              double y = expected_y (plot, lo, hi, lines[l].norm);
              for (int k = 1; k < 10; k++)
                {
                  double x = plot.origin.x + plot.size.width * k / 10.0;
                  assert_colour_at (s, x, y, lines[l].colour, "a layer's line");
                  /* and nowhere far above or below */
                  g_assert_false (colour_near (s, x, y - 6, 2, lines[l].colour));
                  g_assert_false (colour_near (s, x, y + 6, 2, lines[l].colour));
                }
            }
          /* the ends of the run at the ends of the axis */
          g_assert_true (colour_near (s, plot.origin.x, expected_y (plot, lo, hi, 1e-3), 1,
                                      lines[0].colour));
          g_assert_true (colour_near (s, plot.origin.x + plot.size.width,
                                      expected_y (plot, lo, hi, 1e-3), 1, lines[0].colour));
          /* the total's dashes at 1 */
          int grey = 0;
          for (int x = (int) plot.origin.x + 10; x < plot.origin.x + plot.size.width - 10; x++)
            grey += view_pixel_is (view_pixel (s, x, (int) expected_y (plot, lo, hi, 1.0)),
                                   (CsRgb) { 0.33, 0.33, 0.33 }, 3);
          g_assert_cmpint (grey, >, plot.size.width * 0.3);
          g_assert_cmpint (grey, <, plot.size.width * 0.8);
          cairo_surface_destroy (s);
        }
    }
}

/* After one batch: a dot for each layer, in the middle of the plot. */
static void
test_norm_one_batch (void)
{
  g_autoptr(CsTrainHistory) h = mlp_history (1, 1e-2f, 1e-1f, 2e-1f);
  g_autoptr(CsGradientNorms) norms = cs_gradient_norms_new ();
  cs_gradient_norms_update (norms, h);
  CsGradientsViewState state;
  cs_gradients_view_state_init (&state);
  state.norms = norms;
  double lo, hi;
  gint64 first, last;
  graphene_rect_t plot;
  g_assert_true (cs_gradients_view_state_get_axes (&state, &lo, &hi, &first, &last));
  g_assert_cmpint (first, ==, 1);
  g_assert_cmpint (last, ==, 1);
  g_assert_true (cs_gradients_view_state_get_plot_rect (&state, W, H, &plot));
  cairo_surface_t *s = draw (&state, W, H);
  double x = plot.origin.x + plot.size.width / 2;
  g_assert_true (colour_near (s, x, expected_y (plot, lo, hi, 1e-2), 0, cs_palette_qualitative (0)));
  g_assert_true (colour_near (s, x, expected_y (plot, lo, hi, 1e-1), 0, cs_palette_qualitative (1)));
  g_assert_false (colour_near (s, x - 8, expected_y (plot, lo, hi, 1e-2), 2,
                               cs_palette_qualitative (0)));
  cairo_surface_destroy (s);
}

/* Layers without parameters have no line and no legend row. */
static void
test_norm_layers (void)
{
  g_autoptr(CsTrainHistory) h = mlp_history (50, 2e-2f, 5e-1f, 1.0f);
  g_autoptr(CsGradientNorms) norms = cs_gradient_norms_new ();
  cs_gradient_norms_update (norms, h);
  CsGradientsViewState state;
  cs_gradients_view_state_init (&state);
  state.norms = norms;
  state.smooth = FALSE;

  graphene_rect_t r, plot;
  g_assert_false (cs_gradients_view_state_get_legend_rect (&state, W, H, 0, &r));
  g_assert_false (cs_gradients_view_state_get_legend_rect (&state, W, H, 2, &r));
  graphene_rect_t r1, r3, rt;
  g_assert_true (cs_gradients_view_state_get_legend_rect (&state, W, H, 1, &r1));
  g_assert_true (cs_gradients_view_state_get_legend_rect (&state, W, H, 3, &r3));
  g_assert_true (cs_gradients_view_state_get_legend_rect (&state, W, H, 4, &rt));
  g_assert_cmpfloat (r1.origin.y, <, r3.origin.y);
  g_assert_cmpfloat (r3.origin.y, <, rt.origin.y);
  guint series;
  g_assert_true (cs_gradients_view_state_hit_legend (&state, W, H, r3.origin.x + 5,
                                                     r3.origin.y + r3.size.height / 2, &series));
  g_assert_cmpuint (series, ==, 3);

  /* only two colours in the plot: a third would be a layer without
   * parameters drawn */
  g_assert_true (cs_gradients_view_state_get_plot_rect (&state, W, H, &plot));
  cairo_surface_t *s = draw (&state, W, H);
  g_assert_cmpint (count_colour (s, plot, cs_palette_qualitative (0)), >, 100);
  g_assert_cmpint (count_colour (s, plot, cs_palette_qualitative (1)), >, 100);
  for (guint c = 2; c < CS_PALETTE_N_QUALITATIVE - 1; c++)
    g_assert_cmpint (count_colour (s, plot, cs_palette_qualitative (c)), ==, 0);
  /* the legend swatches: layer 1 in colour 0, layer 3 in colour 1 */
  g_assert_cmpint (count_colour (s, r1, cs_palette_qualitative (0)), >, 10);
  g_assert_cmpint (count_colour (s, r3, cs_palette_qualitative (1)), >, 10);
  cairo_surface_destroy (s);
}

/* 100,000 batches with one spike: the spike is drawn, where it happened. */
static void
test_norm_spike (void)
{
  g_autoptr(CsTrainHistory) h = mlp_history (100000, 1e-2f, 1e-3f, 2e-2f);
  const guint spike = 54321;
  ((float *) h->layer_norms->data)[spike * 4 + 1] = 1e2f;
  g_autoptr(CsGradientNorms) norms = cs_gradient_norms_new ();
  cs_gradient_norms_update (norms, h);
  g_assert_cmpuint (cs_gradient_norms_get_n_buckets (norms), <=, CS_GRADIENT_NORMS_MAX_BUCKETS);
  CsGradientsViewState state;
  cs_gradients_view_state_init (&state);
  state.norms = norms;
  state.smooth = FALSE;

  double lo, hi;
  gint64 first, last;
  g_assert_true (cs_gradients_view_state_get_axes (&state, &lo, &hi, &first, &last));
  g_assert_cmpfloat_with_epsilon (hi, 1e3, 1e-6);
  graphene_rect_t plot;
  g_assert_true (cs_gradients_view_state_get_plot_rect (&state, W, H, &plot));
  cairo_surface_t *s = draw (&state, W, H);
  CsRgb colour = cs_palette_qualitative (0);
  double x = plot.origin.x + (double) spike / (100000 - 1) * plot.size.width;
  double y = expected_y (plot, lo, hi, 1e2);
  g_assert_true (colour_near (s, x, y, 2, colour));
  /* only there: at the spike's height elsewhere, no line */
  for (int k = 1; k < 10; k++)
    {
      double xo = plot.origin.x + plot.size.width * k / 10.0;
      if (fabs (xo - x) > 10)
        g_assert_false (colour_near (s, xo, y, 2, colour));
    }
  /* the rest of the line where it belongs */
  g_assert_true (colour_near (s, plot.origin.x + plot.size.width * 0.2,
                              expected_y (plot, lo, hi, 1e-2), 1, colour));
  cairo_surface_destroy (s);

  /* smoothed, the faint band of the raw norms still reaches it (the plot
   * stays where it was) */
  state.smooth = TRUE;
  graphene_rect_t smoothed;
  g_assert_true (cs_gradients_view_state_get_plot_rect (&state, W, H, &smoothed));
  g_assert_true (graphene_rect_equal (&plot, &smoothed));
  s = draw (&state, W, H);
  gboolean marked = FALSE;
  for (int dx = -2; dx <= 2 && !marked; dx++)
    for (int dy = -2; dy <= 2 && !marked; dy++)
      {
        guint32 px = view_pixel (s, (int) x + dx, (int) y + dy);
        marked = !view_pixel_is (px, (CsRgb) { 1, 1, 1 }, 8)
                 && !view_pixel_is (px, (CsRgb) { 0.88, 0.88, 0.88 }, 8);
      }
  g_assert_true (marked);
  cairo_surface_destroy (s);
}

/* A real run: the trainer's history of the MLP plots its two linear layers,
 * each ending at the height of its last norm. */
static void
test_norm_real_run (void)
{
  g_autoptr(GError) error = NULL;
  CsModel *model = cs_model_new_preset ("mlp", &error);
  g_assert_no_error (error);
  CsDataset *train = cs_dataset_load_named ("digits", "train", &error);
  g_assert_no_error (error);
  CsTrainerConfig config;
  cs_trainer_config_init (&config);
  config.evaluate_each_epoch = FALSE;
  g_autoptr(CsTrainer) trainer = cs_trainer_new (model, train, NULL, &config, &error);
  g_assert_no_error (error);
  cs_trainer_step (trainer, 24);
  g_assert_true (cs_trainer_wait_idle (trainer, 60 * G_USEC_PER_SEC));
  g_autoptr(CsTrainHistory) h = cs_train_history_new (0, NULL);
  cs_trainer_sync_history (trainer, h);
  g_assert_cmpuint (h->records->len, ==, 24);

  g_autoptr(CsGradientNorms) norms = cs_gradient_norms_new ();
  cs_gradient_norms_update (norms, h);
  CsGradientsViewState state;
  cs_gradients_view_state_init (&state);
  state.norms = norms;
  state.smooth = FALSE;
  graphene_rect_t r, plot;
  for (guint l = 0; l < 4; l++)
    g_assert_cmpint (cs_gradients_view_state_get_legend_rect (&state, W, H, l, &r), ==, l % 2 == 1);

  double lo, hi;
  gint64 first, last;
  g_assert_true (cs_gradients_view_state_get_axes (&state, &lo, &hi, &first, &last));
  g_assert_true (cs_gradients_view_state_get_plot_rect (&state, W, H, &plot));
  cairo_surface_t *s = draw (&state, W, H);
  const float *ln = (const float *) h->layer_norms->data;
  for (guint l = 1, colour = 0; l < 4; l += 2, colour++)
    for (guint i = 0; i < 24; i += 23)
      {
        double v = ln[i * 4 + l];
        g_assert_true (isfinite (v) && v > 0);
        double x = plot.origin.x + (double) i / 23 * plot.size.width;
        g_assert_true (colour_near (s, x, expected_y (plot, lo, hi, v), 1,
                                    cs_palette_qualitative (colour)));
      }
  cairo_surface_destroy (s);

  /* more batches: the same copy, brought up to date */
  cs_trainer_step (trainer, 3);
  g_assert_true (cs_trainer_wait_idle (trainer, 60 * G_USEC_PER_SEC));
  cs_trainer_sync_history (trainer, h);
  g_assert_true (cs_gradient_norms_update (norms, h));
  g_assert_cmpuint (cs_gradient_norms_get_n_records (norms), ==, 27);
}

/* ---------------------------------------------------------------------------
 * Empty, small and other surfaces
 */

/* Dark pixels (text) in a horizontal band of the picture. */
static int
ink_in_band (cairo_surface_t *s, int y0, int y1)
{
  int n = 0;
  for (int y = y0; y < y1; y++)
    for (int x = 0; x < cairo_image_surface_get_width (s); x++)
      {
        guint32 p = view_pixel (s, x, y);
        n += ((p >> 16) & 0xff) < 128 && ((p >> 8) & 0xff) < 128 && (p & 0xff) < 128;
      }
  return n;
}

static void
test_empty (void)
{
  CsGradientsViewState state;
  cs_gradients_view_state_init (&state);
  g_autoptr(CsGradientNorms) norms = cs_gradient_norms_new ();
  for (int with_norms = 0; with_norms < 2; with_norms++)
    {
      /* no view data: a message in the middle, nothing else but the title */
      state.norms = with_norms ? norms : NULL;
      graphene_rect_t r;
      g_assert_false (cs_gradients_view_state_get_plot_rect (&state, W, H, &r));
      g_assert_false (cs_gradients_view_state_get_cell_rect (&state, W, H,
                                                             CS_GRADIENTS_MAP_WEIGHTS, 0, &r));
      g_assert_cmpuint (cs_gradients_view_state_get_n_weights (&state), ==, 0);
      g_assert_null (cs_gradients_view_state_describe_cursor (&state));
      cairo_surface_t *s = draw (&state, W, H);
      g_assert_cmpint (ink_in_band (s, H * 0.38, H * 0.6), >, 400);
      g_assert_cmpint (ink_in_band (s, H * 0.1, H * 0.36), ==, 0);
      g_assert_cmpint (ink_in_band (s, H * 0.65, H), ==, 0);
      cairo_surface_destroy (s);
    }
  /* too small: a word about it, no crash */
  cairo_surface_destroy (draw (&state, 100, 60));
  cairo_surface_destroy (draw (&state, 1, 1));
}

static void
test_surfaces (Fixture *f, gconstpointer data)
{
  g_autoptr(CsTrainHistory) h = mlp_history (300, 1e-2f, 3e-2f, 4e-2f);
  g_autoptr(CsGradientNorms) norms = cs_gradient_norms_new ();
  cs_gradient_norms_update (norms, h);
  f->state.norms = norms;
  const int sizes[][2] = { { 320, 200 }, { 640, 400 }, { 1024, 768 }, { 2560, 1440 }, { 1, 1 } };
  guint n = cs_gradients_view_state_get_n_weights (&f->state);
  for (guint wi = 0; wi < n; wi++)
    for (int show = 0; show < 3; show++)
      {
        cs_gradients_view_state_select_weight (&f->state, (int) wi);
        f->state.show = (CsGradientsShow) show;
        for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++)
          cairo_surface_destroy (draw (&f->state, sizes[i][0], sizes[i][1]));
      }

  g_autofree char *dir = g_dir_make_tmp ("gradients-view-XXXXXX", NULL);
  g_autofree char *svg = g_build_filename (dir, "gradients.svg", NULL);
  g_autofree char *pdf = g_build_filename (dir, "gradients.pdf", NULL);
  cairo_surface_t *surfaces[2] = {
    cairo_svg_surface_create (svg, W, H),
    cairo_pdf_surface_create (pdf, W, H),
  };
  for (int i = 0; i < 2; i++)
    {
      cairo_t *cr = cairo_create (surfaces[i]);
      cs_gradients_view_state_draw (&f->state, cr, W, H);
      g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
      cairo_destroy (cr);
      cairo_surface_finish (surfaces[i]);
      g_assert_cmpint (cairo_surface_status (surfaces[i]), ==, CAIRO_STATUS_SUCCESS);
      cairo_surface_destroy (surfaces[i]);
    }
  g_assert_true (g_file_test (svg, G_FILE_TEST_IS_REGULAR));
  g_unlink (svg);
  g_unlink (pdf);
  g_rmdir (dir);
  f->state.norms = NULL;
}

/* The residual CNN: weights inside its blocks are listed too; BatchNorm's
 * scales are not weights. */
static void
test_residual (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CsModel) model = cs_model_new_preset ("residual-cnn", &error);
  g_assert_no_error (error);
  cs_model_init (model, SEED);
  g_autoptr(CsSnapshot) snap = cs_snapshot_new (model, 0, CS_SNAPSHOT_PARAMS);
  CsGradientsViewState state;
  cs_gradients_view_state_init (&state);
  state.snapshot = snap;
  guint n = cs_gradients_view_state_get_n_weights (&state);
  g_assert_cmpuint (n, >=, 6);
  g_assert_cmpstr (cs_gradients_view_state_get_weight_name (&state, 0), ==, "0.weight");
  g_assert_cmpstr (cs_gradients_view_state_get_weight_name (&state, 1), ==, "3.conv1.weight");
  g_assert_cmpstr (cs_gradients_view_state_get_weight_name (&state, n - 1), ==, "10.weight");
  /* clicking layer 3 in the legend walks through its weights */
  g_assert_true (cs_gradients_view_state_select_layer (&state, 3));
  g_assert_cmpint (state.weight, ==, 1);
  g_assert_true (cs_gradients_view_state_select_layer (&state, 3));
  g_assert_cmpint (state.weight, ==, 2);
  g_assert_false (cs_gradients_view_state_select_layer (&state, 2));
  cairo_surface_destroy (draw (&state, W, H));
}

/* ---------------------------------------------------------------------------
 * The widget, with a display
 */

static gboolean have_display;

static void
test_widget (Fixture *f, gconstpointer data)
{
  if (!have_display)
    {
      g_test_skip ("no display");
      return;
    }
  GtkWidget *window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (window), W, H);
  GtkWidget *view = cs_gradients_view_new ();
  g_assert_true (CS_IS_VIEW (view));
  gtk_window_set_child (GTK_WINDOW (window), view);
  gtk_window_present (GTK_WINDOW (window));
  gtk_test_widget_wait_for_draw (view);
  CsGradientsView *gv = CS_GRADIENTS_VIEW (view);
  const CsGradientsViewState *state = cs_gradients_view_get_state (gv);

  GtkWidget *toolbar = gtk_widget_get_first_child (view);
  GtkWidget *canvas = gtk_widget_get_last_child (view);
  GtkWidget *dropdown = gtk_widget_get_first_child (toolbar);
  GtkWidget *linked = gtk_widget_get_next_sibling (dropdown);
  GtkWidget *smooth = gtk_widget_get_next_sibling (linked);
  g_assert_true (GTK_IS_DROP_DOWN (dropdown));
  g_assert_true (GTK_IS_CHECK_BUTTON (smooth));
  g_assert_true (GTK_IS_DRAWING_AREA (canvas));
  gtk_test_accessible_assert_property (view, GTK_ACCESSIBLE_PROPERTY_LABEL, "Gradients");
  gtk_test_accessible_assert_property (dropdown, GTK_ACCESSIBLE_PROPERTY_LABEL,
                                       "Layer weights shown");
  gtk_test_accessible_assert_property (linked, GTK_ACCESSIBLE_PROPERTY_LABEL, "Show");
  g_assert_true (gtk_widget_get_focusable (canvas));
  g_assert_false (gtk_widget_get_sensitive (dropdown));

  /* a run and a snapshot */
  g_autoptr(CsTrainHistory) h = mlp_history (40, 1e-2f, 3e-2f, 4e-2f);
  cs_gradients_view_set_history (gv, h);
  g_assert_cmpuint (cs_gradient_norms_get_n_records (state->norms), ==, 40);
  cs_gradients_view_set_snapshot (gv, f->snap);
  g_assert_true (cs_gradients_view_get_snapshot (gv) == f->snap);
  GListModel *items = gtk_drop_down_get_model (GTK_DROP_DOWN (dropdown));
  g_assert_cmpuint (g_list_model_get_n_items (items), ==, 2);
  g_assert_cmpstr (gtk_string_list_get_string (GTK_STRING_LIST (items), 0), ==,
                   "1 Linear · weight 256×784");
  g_assert_true (gtk_widget_get_sensitive (dropdown));

  /* the dropdown shows the second weight; the toolbar's show buttons */
  gtk_drop_down_set_selected (GTK_DROP_DOWN (dropdown), 1);
  g_assert_cmpint (state->weight, ==, 1);
  GtkWidget *weights_only = gtk_widget_get_next_sibling (gtk_widget_get_first_child (linked));
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (weights_only), TRUE);
  g_assert_cmpint (cs_gradients_view_get_show (gv), ==, CS_GRADIENTS_SHOW_WEIGHTS);
  gtk_check_button_set_active (GTK_CHECK_BUTTON (smooth), FALSE);
  g_assert_false (cs_gradients_view_get_smooth (gv));

  /* a snapshot of the same network keeps the weight shown */
  g_autoptr(CsSnapshot) again = cs_snapshot_new (f->model, 1, CS_SNAPSHOT_ALL);
  cs_gradients_view_set_snapshot (gv, again);
  g_assert_cmpint (state->weight, ==, 1);
  g_assert_cmpuint (gtk_drop_down_get_selected (GTK_DROP_DOWN (dropdown)), ==, 1);

  /* a click in the legend shows that layer's weights; its description
   * follows the cursor */
  int cw = gtk_widget_get_width (canvas), ch = gtk_widget_get_height (canvas);
  graphene_rect_t r;
  g_assert_true (cs_gradients_view_state_get_legend_rect (state, cw, ch, 1, &r));
  GtkEventController *click = NULL;
  GListModel *controllers = gtk_widget_observe_controllers (canvas);
  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      GtkEventController *c = g_list_model_get_item (controllers, i);
      if (GTK_IS_GESTURE_CLICK (c))
        click = c;
      g_object_unref (c);
    }
  g_object_unref (controllers);
  g_signal_emit_by_name (click, "pressed", 1, (double) (r.origin.x + 4),
                         (double) (r.origin.y + r.size.height / 2));
  g_assert_cmpint (state->weight, ==, 0);
  g_assert_cmpuint (gtk_drop_down_get_selected (GTK_DROP_DOWN (dropdown)), ==, 0);
  g_assert_true (cs_gradients_view_state_get_cell_rect (state, cw, ch, CS_GRADIENTS_MAP_WEIGHTS,
                                                        3 * 784 + 100, &r));
  g_signal_emit_by_name (click, "pressed", 1, (double) (r.origin.x + r.size.width / 2),
                         (double) (r.origin.y + r.size.height / 2));
  g_assert_cmpint (state->cursor, ==, 3 * 784 + 100);
  g_autofree char *text = cs_gradients_view_state_describe_cursor (state);
  gtk_test_accessible_assert_property (canvas, GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, text);
  GtkWidget *label = gtk_widget_get_last_child (toolbar);
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (label)), ==, text);
  gtk_test_widget_wait_for_draw (view);

  /* the keys: → the next unit, same pixel; Page Down the next weight,
   * Page Up back */
  GtkEventController *keys = NULL;
  controllers = gtk_widget_observe_controllers (canvas);
  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      GtkEventController *c = g_list_model_get_item (controllers, i);
      if (GTK_IS_EVENT_CONTROLLER_KEY (c))
        keys = c;
      g_object_unref (c);
    }
  g_object_unref (controllers);
  g_assert_nonnull (keys);
  gboolean handled = FALSE;
  g_signal_emit_by_name (keys, "key-pressed", GDK_KEY_Right, 0, 0, &handled);
  g_assert_true (handled);
  g_assert_cmpint (state->cursor, ==, 4 * 784 + 100);
  g_signal_emit_by_name (keys, "key-pressed", GDK_KEY_Page_Down, 0, 0, &handled);
  g_assert_cmpint (state->weight, ==, 1);
  g_assert_cmpint (state->cursor, ==, 0);
  g_assert_cmpuint (gtk_drop_down_get_selected (GTK_DROP_DOWN (dropdown)), ==, 1);
  g_signal_emit_by_name (keys, "key-pressed", GDK_KEY_Page_Up, 0, 0, &handled);
  g_assert_cmpint (state->weight, ==, 0);
  handled = TRUE;
  g_signal_emit_by_name (keys, "key-pressed", GDK_KEY_a, 0, 0, &handled);
  g_assert_false (handled);
  g_assert_true (cs_gradients_view_set_cursor (gv, 256 * 784 - 1));
  g_assert_false (cs_gradients_view_set_cursor (gv, 256 * 784));
  g_assert_cmpint (state->cursor, ==, 256 * 784 - 1);
  g_free (text);
  text = cs_gradients_view_state_describe_cursor (state);
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (label)), ==, text);

  /* export through the CsView interface */
  g_autofree char *dir = g_dir_make_tmp ("gradients-view-XXXXXX", NULL);
  g_autofree char *png = g_build_filename (dir, "gradients.png", NULL);
  g_autoptr(GError) error = NULL;
  g_assert_true (cs_view_export (CS_VIEW (view), png, CS_EXPORT_PNG, 800, 500, &error));
  g_assert_no_error (error);
  g_unlink (png);
  g_rmdir (dir);

  /* another network: the first weight again */
  cs_gradients_view_set_snapshot (gv, NULL);
  g_assert_cmpuint (g_list_model_get_n_items (items), ==, 0);
  g_assert_false (gtk_widget_get_sensitive (dropdown));
  cs_gradients_view_set_history (gv, NULL);
  g_assert_cmpuint (cs_gradient_norms_get_n_records (state->norms), ==, 0);
  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int argc, char **argv)
{
  g_setenv ("GTK_A11Y", "test", TRUE);
  g_test_init (&argc, &argv, NULL);
  have_display = gtk_init_check ();

#define ADD(preset, name, fn) \
  g_test_add ("/app/gradients-view/" preset "/" name, Fixture, preset, fixture_set_up, fn, \
              fixture_tear_down)
  ADD ("mlp", "weights", test_mlp_weights);
  ADD ("mlp", "no-gradients", test_no_gradients);
  ADD ("mlp", "surfaces", test_surfaces);
  ADD ("mlp", "widget", test_widget);
  ADD ("simple-cnn", "kernels", test_cnn_kernels);
  ADD ("simple-cnn", "cursor", test_cnn_cursor);
  ADD ("simple-cnn", "surfaces", test_surfaces);
#undef ADD
  g_test_add_func ("/app/gradients-view/norms/heights", test_norm_heights);
  g_test_add_func ("/app/gradients-view/norms/one-batch", test_norm_one_batch);
  g_test_add_func ("/app/gradients-view/norms/layers", test_norm_layers);
  g_test_add_func ("/app/gradients-view/norms/spike", test_norm_spike);
  g_test_add_func ("/app/gradients-view/norms/real-run", test_norm_real_run);
  g_test_add_func ("/app/gradients-view/empty", test_empty);
  g_test_add_func ("/app/gradients-view/residual-cnn", test_residual);
  return g_test_run ();
}
