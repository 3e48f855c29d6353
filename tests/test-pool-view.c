/* test-pool-view.c — the "ReLU, pooling, flatten" picture, pixel by pixel
 *
 * The worked example's ReLU map [[24,18,8],[26,18,8],[28,18,8]] through
 * MaxPool2d(2, 2, padding=1) → [[24,18],[28,18]]: the gold winner mark lies
 * on the right ReLU cell for every pooled cell (output [1,0] ← ReLU [2,0] =
 * 28); the padding ring is drawn as padding; average pooling gives
 * [[6,6.5],[13.5,13]] with padding counted in the divisor; flatten is
 * [24,18,28,18]; and the written-out windows are the engine's.
 */
#include "app/views/cs-grid.h"
#include "app/views/cs-pool-view.h"
#include "view-pixels.h"

#include <string.h>

#define WIDTH 1100
#define HEIGHT 760

typedef struct
{
  CsWorkedSpec spec;
  CsWorked *worked;
  GError *error;
  CsPoolViewState state;
  cairo_surface_t *surface;
  int width, height;
} Fixture;

static void
fixture_draw (Fixture *f)
{
  cairo_t *cr = cairo_create (f->surface);
  cs_pool_view_state_draw (&f->state, cr, f->width, f->height);
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
  cairo_destroy (cr);
  cairo_surface_flush (f->surface);
}

static void
fixture_run (Fixture *f, int row, int col)
{
  g_clear_pointer (&f->worked, cs_worked_free);
  g_clear_error (&f->error);
  f->worked = cs_worked_new (&f->spec, &f->error);
  f->state = (CsPoolViewState) {
    .worked = f->worked,
    .error = f->error != NULL ? f->error->message : NULL,
    .row = row, .col = col,
    .hover_row = -1, .hover_col = -1,
  };
  fixture_draw (f);
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  memset (f, 0, sizeof *f);
  cs_worked_spec_init_default (&f->spec);  /* ReLU, MaxPool2d(2, 2, 1), flatten */
  f->width = WIDTH;
  f->height = HEIGHT;
  f->surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, WIDTH, HEIGHT);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->worked, cs_worked_free);
  g_clear_error (&f->error);
  g_clear_pointer (&f->surface, cairo_surface_destroy);
}

static cairo_rectangle_t
cell_rect (Fixture *f, CsPoolGrid grid, int row, int col)
{
  cairo_rectangle_t r;

  if (!cs_pool_view_state_cell_rect (&f->state, f->width, f->height, grid, row, col, &r))
    g_error ("no cell %d [%d,%d] in the picture", grid, row, col);
  return r;
}

static CsRgb
sequential (double value, double limit)
{
  return cs_palette_color (CS_PALETTE_SEQUENTIAL,
                           cs_palette_normalize (CS_PALETTE_SEQUENTIAL, value, limit));
}

static void
assert_cell_fill (Fixture *f, CsPoolGrid grid, int row, int col, CsRgb c)
{
  cairo_rectangle_t r = cell_rect (f, grid, row, col);
  double x0, y0, x1, y1;
  g_autofree char *what = g_strdup_printf ("grid %d cell [%d,%d]", grid, row, col);

  view_cell_band (&r, &x0, &y0, &x1, &y1);
  view_assert_area (f->surface, x0, y0, x1, y1, c, what);
}

/* The gold of the winner mark, in the band it is drawn in: from 1.5 to 3
 * mark widths inside the cell's left edge, half-way down. */
static gboolean
cell_has_winner (Fixture *f, int row, int col)
{
  cairo_rectangle_t r = cell_rect (f, CS_POOL_GRID_RELU, row, col);
  double w = cs_grid_mark_width (r.width);

  return view_pixel_is (view_pixel (f->surface, (int) (r.x + 2.25 * w), (int) (r.y + r.height / 2)),
                        CS_GRID_WINNER, 2);
}

static gboolean
cell_marked (Fixture *f, CsPoolGrid grid, int row, int col)
{
  cairo_rectangle_t r = cell_rect (f, grid, row, col);
  double w = cs_grid_mark_width (r.width);

  return view_pixel_is (view_pixel (f->surface, (int) (r.x + w / 2), (int) (r.y + r.height / 2)),
                        CS_GRID_WINDOW, 2);
}

/* ---------------------------------------------------------------------------
 * Max pooling
 */

static void
test_winners (Fixture *f, gconstpointer data)
{
  /* pooled cell → the ReLU cell that wins its window (by hand, as in
   * DESIGN.md: [[24,18],[28,18]]) */
  const struct { int row, col, wr, wc; float value; } cases[] = {
    { 0, 0, 0, 0, 24 }, { 0, 1, 0, 1, 18 }, { 1, 0, 2, 0, 28 }, { 1, 1, 1, 1, 18 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      fixture_run (f, cases[i].row, cases[i].col);
      g_assert_no_error (f->error);
      g_autofree char *name = g_strdup_printf ("pool-max-%d-%d.png", cases[i].row, cases[i].col);
      view_save (f->surface, name);

      /* the engine agrees */
      const CsWorkedPoolCell *cell = cs_worked_get_pool_cell (f->worked, cases[i].row,
                                                              cases[i].col);
      g_assert_cmpint (cell->cells[cell->winner].row, ==, cases[i].wr);
      g_assert_cmpint (cell->cells[cell->winner].col, ==, cases[i].wc);
      g_assert_cmpfloat (cell->value, ==, cases[i].value);

      /* gold on the winner, on no other cell of the ReLU map or its padding */
      for (int r = -1; r <= 3; r++)
        for (int c = -1; c <= 3; c++)
          if (cell_has_winner (f, r, c) != (r == cases[i].wr && c == cases[i].wc))
            {
              g_test_message ("pooled [%d,%d]: ReLU [%d,%d] is %s the winner", cases[i].row,
                              cases[i].col, r, c,
                              r == cases[i].wr && c == cases[i].wc ? "" : "not");
              g_test_fail ();
            }

      /* the window: the 2×2 cells from (2·row − 1, 2·col − 1), padding
       * included; nothing else */
      for (int r = -1; r <= 3; r++)
        for (int c = -1; c <= 3; c++)
          {
            gboolean in = r >= 2 * cases[i].row - 1 && r <= 2 * cases[i].row
                          && c >= 2 * cases[i].col - 1 && c <= 2 * cases[i].col;
            g_assert_cmpint (cell_marked (f, CS_POOL_GRID_RELU, r, c), ==, in);
          }
      /* the pooled cell and its place in the vector */
      g_assert_true (cell_marked (f, CS_POOL_GRID_POOL, cases[i].row, cases[i].col));
      g_assert_true (cell_marked (f, CS_POOL_GRID_FLAT, 0, cases[i].row * 2 + cases[i].col));
      g_assert_false (cell_marked (f, CS_POOL_GRID_FLAT, 0, (cases[i].row * 2 + cases[i].col + 1) % 4));
    }

  /* ReLU [2,0] = 28, the largest: the darkest colour of the shared scale */
  assert_cell_fill (f, CS_POOL_GRID_POOL, 1, 0, sequential (28, 28));
  assert_cell_fill (f, CS_POOL_GRID_POOL, 0, 0, sequential (24, 28));
  assert_cell_fill (f, CS_POOL_GRID_RELU, 0, 2, sequential (8, 28));
}

static void
test_max_text (Fixture *f, gconstpointer data)
{
  const char *expected[4] = {
    "max(−∞, −∞, −∞, 24) = 24",
    "max(−∞, −∞, 18, 8) = 18",
    "max(−∞, 26, −∞, 28) = 28",
    "max(18, 8, 18, 8) = 18",
  };

  fixture_run (f, 0, 0);
  for (int i = 0; i < 4; i++)
    {
      f->state.row = i / 2;
      f->state.col = i % 2;
      g_autofree char *text = cs_pool_view_state_window_text (&f->state);
      g_assert_cmpstr (text, ==, expected[i]);
    }
  f->state.row = 1;
  f->state.col = 0;
  g_autofree char *line = cs_pool_view_state_describe (&f->state);
  g_assert_cmpstr (line, ==, "MaxPool [1,0] = max(−∞, 26, −∞, 28) = 28, from ReLU [2,0]; "
                             "flattened index 2");
}

/* ---------------------------------------------------------------------------
 * Padding, average pooling, flatten
 */

static void
test_padding (Fixture *f, gconstpointer data)
{
  for (int pass = 0; pass < 2; pass++)
    {
      f->spec.pool = pass == 0 ? CS_WORKED_POOL_MAX : CS_WORKED_POOL_AVG;
      fixture_run (f, 1, 1);
      g_assert_no_error (f->error);
      for (int i = -1; i <= 3; i++)
        {
          assert_cell_fill (f, CS_POOL_GRID_RELU, -1, i, CS_GRID_PADDING);
          assert_cell_fill (f, CS_POOL_GRID_RELU, 3, i, CS_GRID_PADDING);
          assert_cell_fill (f, CS_POOL_GRID_RELU, i, -1, CS_GRID_PADDING);
          assert_cell_fill (f, CS_POOL_GRID_RELU, i, 3, CS_GRID_PADDING);
        }
      /* with something written in them ("−∞" or "0") */
      cairo_rectangle_t r = cell_rect (f, CS_POOL_GRID_RELU, -1, -1);
      g_assert_cmpint (view_count_other (f->surface, r.x + 0.25 * r.width, r.y + 0.35 * r.height,
                                         r.x + 0.75 * r.width, r.y + 0.65 * r.height,
                                         CS_GRID_PADDING), >, 10);
      /* the map inside is the engine's ReLU, not padding */
      assert_cell_fill (f, CS_POOL_GRID_RELU, 0, 0, sequential (24, 28));
    }
  cairo_rectangle_t r;
  g_assert_false (cs_pool_view_state_cell_rect (&f->state, WIDTH, HEIGHT, CS_POOL_GRID_RELU,
                                                -2, 0, &r));
}

static void
test_average (Fixture *f, gconstpointer data)
{
  const char *expected[4] = {
    "(0 + 0 + 0 + 24)/4 = 6",
    "(0 + 0 + 18 + 8)/4 = 6.5",
    "(0 + 26 + 0 + 28)/4 = 13.5",
    "(18 + 8 + 18 + 8)/4 = 13",
  };
  const float values[4] = { 6, 6.5, 13.5, 13 };

  f->spec.pool = CS_WORKED_POOL_AVG;
  fixture_run (f, 1, 0);
  g_assert_no_error (f->error);
  view_save (f->surface, "pool-avg.png");

  for (int i = 0; i < 4; i++)
    {
      int row = i / 2, col = i % 2;
      const CsWorkedPoolCell *cell = cs_worked_get_pool_cell (f->worked, row, col);
      g_assert_cmpfloat (cell->value, ==, values[i]);
      g_assert_cmpint (cell->divisor, ==, 4);
      f->state.row = row;
      f->state.col = col;
      g_autofree char *text = cs_pool_view_state_window_text (&f->state);
      g_assert_cmpstr (text, ==, expected[i]);
      /* each pooled cell and its flattened copy in the colour of its mean */
      assert_cell_fill (f, CS_POOL_GRID_POOL, row, col, sequential (values[i], 28));
      assert_cell_fill (f, CS_POOL_GRID_FLAT, 0, i, sequential (values[i], 28));
    }

  /* no winner in average pooling: no gold anywhere */
  f->state.row = 1;
  f->state.col = 0;
  fixture_draw (f);
  int gold = 0;
  for (int y = 0; y < HEIGHT; y++)
    for (int x = 0; x < WIDTH; x++)
      gold += view_pixel_is (view_pixel (f->surface, x, y), CS_GRID_WINNER, 10);
  g_assert_cmpint (gold, ==, 0);
  g_autofree char *line = cs_pool_view_state_describe (&f->state);
  g_assert_cmpstr (line, ==, "AvgPool [1,0] = (0 + 26 + 0 + 28)/4 = 13.5; flattened index 2");
}

static void
test_flatten (Fixture *f, gconstpointer data)
{
  const float values[4] = { 24, 18, 28, 18 };
  cairo_rectangle_t r;

  fixture_run (f, 0, 0);
  for (int i = 0; i < 4; i++)
    assert_cell_fill (f, CS_POOL_GRID_FLAT, 0, i, sequential (values[i], 28));
  g_assert_false (cs_pool_view_state_cell_rect (&f->state, WIDTH, HEIGHT, CS_POOL_GRID_FLAT,
                                                0, 4, &r));
  /* in order, left to right, with its index written under each cell */
  for (int i = 1; i < 4; i++)
    g_assert_cmpfloat (cell_rect (f, CS_POOL_GRID_FLAT, 0, i).x, >,
                       cell_rect (f, CS_POOL_GRID_FLAT, 0, i - 1).x);
  r = cell_rect (f, CS_POOL_GRID_FLAT, 0, 3);
  g_assert_cmpint (view_count_other (f->surface, r.x, r.y + r.height + 1, r.x + r.width,
                                     r.y + 1.6 * r.height, CS_GRID_BACKGROUND), >, 5);
}

/* A negative convolution: ReLU makes it 0, blue turns white. */
static void
test_relu (Fixture *f, gconstpointer data)
{
  /* 20 − the example: [[−4, 2, 12], [−6, 2, 12], [−8, 2, 12]] */
  for (int i = 0; i < 9; i++)
    f->spec.kernel[i] = -f->spec.kernel[i];
  f->spec.has_bias = TRUE;
  f->spec.bias = 20;
  fixture_run (f, 0, 0);
  g_assert_no_error (f->error);
  view_save (f->surface, "pool-relu.png");

  const CsWorkedStage *conv = cs_worked_find_stage (f->worked, CS_WORKED_STAGE_CONV);
  const CsWorkedStage *relu = cs_worked_find_stage (f->worked, CS_WORKED_STAGE_RELU);
  double conv_limit = cs_grid_limit (conv->values, 9), limit = cs_grid_limit (relu->values, 9);
  int negative = 0;
  for (int i = 0; i < 9; i++)
    {
      int row = i / 3, col = i % 3;
      CsRgb c = cs_palette_color (CS_PALETTE_DIVERGING,
                                  cs_palette_normalize (CS_PALETTE_DIVERGING, conv->values[i],
                                                        conv_limit));
      assert_cell_fill (f, CS_POOL_GRID_CONV, row, col, c);
      assert_cell_fill (f, CS_POOL_GRID_RELU, row, col, sequential (MAX (conv->values[i], 0), limit));
      if (conv->values[i] < 0)
        {
          g_assert_cmpfloat (c.b, >, c.r);
          assert_cell_fill (f, CS_POOL_GRID_RELU, row, col, (CsRgb) { 1, 1, 1 });
          negative++;
        }
    }
  g_assert_cmpint (negative, ==, 3);
  g_assert_cmpfloat (limit, ==, 12);
}

static void
test_hit (Fixture *f, gconstpointer data)
{
  fixture_run (f, 0, 0);
  for (int g = 0; g <= CS_POOL_GRID_FLAT; g++)
    {
      int rows = g == CS_POOL_GRID_FLAT ? 1 : g == CS_POOL_GRID_POOL ? 2 : 3;
      int cols = g == CS_POOL_GRID_FLAT ? 4 : g == CS_POOL_GRID_POOL ? 2 : 3;
      for (int row = 0; row < rows; row++)
        for (int col = 0; col < cols; col++)
          {
            cairo_rectangle_t r = cell_rect (f, g, row, col);
            CsPoolGrid grid;
            int hr, hc;
            g_assert_true (cs_pool_view_state_hit (&f->state, WIDTH, HEIGHT, r.x + r.width / 2,
                                                   r.y + r.height / 2, &grid, &hr, &hc));
            g_assert_cmpint (grid, ==, g);
            g_assert_cmpint (hr, ==, row);
            g_assert_cmpint (hc, ==, col);
          }
    }
  cairo_rectangle_t r = cell_rect (f, CS_POOL_GRID_RELU, -1, 0);
  g_assert_false (cs_pool_view_state_hit (&f->state, WIDTH, HEIGHT, r.x + r.width / 2,
                                          r.y + r.height / 2, NULL, NULL, NULL));
}

/* A convolution too small to pool without padding: the reason, no grids. */
static void
test_refused (Fixture *f, gconstpointer data)
{
  cairo_rectangle_t r;

  f->spec.dilation[0] = f->spec.dilation[1] = 2;   /* conv output 1×1 */
  f->spec.pool_padding[0] = f->spec.pool_padding[1] = 0;
  fixture_run (f, 0, 0);
  g_assert_error (f->error, CS_WORKED_ERROR, CS_WORKED_ARG_POOL_KERNEL);
  g_assert_false (cs_pool_view_state_cell_rect (&f->state, WIDTH, HEIGHT, CS_POOL_GRID_POOL,
                                                0, 0, &r));
  g_assert_null (cs_pool_view_state_window_text (&f->state));
  g_autofree char *line = cs_pool_view_state_describe (&f->state);
  g_assert_true (g_str_has_prefix (line, "No output: pool-kernel: "));
}

static void
test_type (void)
{
  g_type_ensure (CS_TYPE_POOL_VIEW);
  g_assert_true (g_type_is_a (CS_TYPE_POOL_VIEW, CS_TYPE_VIEW));
}

/* The widget's API; skipped without a display. */
static void
test_widget (void)
{
  if (!gtk_init_check ())
    {
      g_test_skip ("no display");
      return;
    }

  CsPoolView *view = g_object_ref_sink (CS_POOL_VIEW (cs_pool_view_new ()));
  CsPoolViewState state;
  CsWorkedSpec spec;
  int row, col;

  g_assert_cmpint (cs_pool_view_get_pool (view), ==, CS_WORKED_POOL_MAX);
  cs_pool_view_set_current (view, 1, 0);
  cs_pool_view_get_state (view, &state);
  g_autofree char *max = cs_pool_view_state_window_text (&state);
  g_assert_cmpstr (max, ==, "max(−∞, 26, −∞, 28) = 28");

  cs_pool_view_set_pool (view, CS_WORKED_POOL_AVG);
  gboolean average = FALSE;
  g_object_get (view, "average", &average, NULL);
  g_assert_true (average);
  cs_pool_view_get_state (view, &state);
  g_autofree char *avg = cs_pool_view_state_window_text (&state);
  g_assert_cmpstr (avg, ==, "(0 + 26 + 0 + 28)/4 = 13.5");

  /* the Convolution view's spec, without pooling: its own pooling stays,
   * ReLU and flatten are on */
  cs_worked_spec_init_default (&spec);
  spec.relu = FALSE;
  spec.pool = CS_WORKED_POOL_NONE;
  spec.flatten = FALSE;
  spec.kernel[0] = 10;   /* conv [0,0] = 24 + 10·3 = 54 */
  cs_pool_view_set_spec (view, &spec);
  g_assert_true (cs_pool_view_get_spec (view)->relu);
  g_assert_true (cs_pool_view_get_spec (view)->flatten);
  g_assert_cmpint (cs_pool_view_get_pool (view), ==, CS_WORKED_POOL_AVG);
  g_assert_cmpint (cs_pool_view_get_spec (view)->pool_padding[0], ==, 1);
  cs_pool_view_set_current (view, 0, 0);
  cs_pool_view_get_state (view, &state);
  g_autofree char *edited = cs_pool_view_state_window_text (&state);
  g_assert_cmpstr (edited, ==, "(0 + 0 + 0 + 54)/4 = 13.5");

  cs_pool_view_set_current (view, 9, 9);
  cs_pool_view_get_current (view, &row, &col);
  g_assert_cmpint (row, ==, 1);
  g_assert_cmpint (col, ==, 1);
  g_object_unref (view);
}

int
main (int argc, char **argv)
{
  /* (for the widget test: no accessibility bus to look for) */
  g_setenv ("GTK_A11Y", "none", FALSE);
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/views/pool/winners", test_winners);
  ADD ("/views/pool/max-text", test_max_text);
  ADD ("/views/pool/padding", test_padding);
  ADD ("/views/pool/average", test_average);
  ADD ("/views/pool/flatten", test_flatten);
  ADD ("/views/pool/relu", test_relu);
  ADD ("/views/pool/hit", test_hit);
  ADD ("/views/pool/refused", test_refused);
#undef ADD
  g_test_add_func ("/views/pool/type", test_type);
  g_test_add_func ("/views/pool/widget", test_widget);
  return g_test_run ();
}
