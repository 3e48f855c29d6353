/* test-conv-view.c — the Convolution view's picture, read back pixel by pixel
 *
 * The view's state is drawn on an image surface, with no display, and the
 * pixels are checked where the layout says the cells are: the output cell
 * holding 24 has the palette's colour of 24; the current window is outlined
 * exactly on the input cells the output cell reads (dilation included);
 * padding cells are drawn as padding; stride changes the output grid; and
 * the written-out products are the engine's terms.
 */
#include "app/views/cs-conv-view.h"
#include "app/views/cs-grid.h"
#include "app/views/cs-worked-text.h"
#include "view-pixels.h"

#include <glib/gstdio.h>
#include <string.h>

#define WIDTH 1100
#define HEIGHT 720

typedef struct
{
  CsWorkedSpec spec;
  CsWorked *worked;
  GError *error;
  CsConvViewState state;
  cairo_surface_t *surface;
  int width, height;
} Fixture;

/* The default example as the view runs it: the convolution alone. */
static void
spec_default (CsWorkedSpec *spec)
{
  cs_worked_spec_init_default (spec);
  spec->relu = FALSE;
  spec->pool = CS_WORKED_POOL_NONE;
  spec->flatten = FALSE;
}

static void
fixture_run (Fixture *f, int row, int col, int width, int height)
{
  g_clear_pointer (&f->worked, cs_worked_free);
  g_clear_error (&f->error);
  g_clear_pointer (&f->surface, cairo_surface_destroy);
  f->worked = cs_worked_new (&f->spec, &f->error);
  f->state = (CsConvViewState) {
    .spec = &f->spec,
    .worked = f->worked,
    .error = f->error != NULL ? f->error->message : NULL,
    .row = row, .col = col,
    .hover_row = -1, .hover_col = -1,
  };
  f->width = width;
  f->height = height;
  f->surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  cairo_t *cr = cairo_create (f->surface);
  cs_conv_view_state_draw (&f->state, cr, width, height);
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
  cairo_destroy (cr);
  cairo_surface_flush (f->surface);
}

/* Draws the state again as it is now (after changing hover or the cell). */
static void
fixture_redraw (Fixture *f)
{
  cairo_t *cr = cairo_create (f->surface);
  cs_conv_view_state_draw (&f->state, cr, f->width, f->height);
  cairo_destroy (cr);
  cairo_surface_flush (f->surface);
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  memset (f, 0, sizeof *f);
  spec_default (&f->spec);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->worked, cs_worked_free);
  g_clear_error (&f->error);
  g_clear_pointer (&f->surface, cairo_surface_destroy);
}

static cairo_rectangle_t
cell_rect (Fixture *f, CsConvGrid grid, int row, int col)
{
  cairo_rectangle_t r;

  if (!cs_conv_view_state_cell_rect (&f->state, f->width, f->height, grid, row, col, &r))
    g_error ("no cell %d [%d,%d] in the picture", grid, row, col);
  return r;
}

/* Within 8/255 on every channel. */
static gboolean
rgb_close (CsRgb a, CsRgb b)
{
  return fabs (a.r - b.r) * 255 <= 8 && fabs (a.g - b.g) * 255 <= 8 && fabs (a.b - b.b) * 255 <= 8;
}

static CsRgb
diverging (double value, double limit)
{
  return cs_palette_color (CS_PALETTE_DIVERGING,
                           cs_palette_normalize (CS_PALETTE_DIVERGING, value, limit));
}

/* The cell's fill (its top band) is c. */
static void
assert_cell_fill (Fixture *f, CsConvGrid grid, int row, int col, CsRgb c)
{
  cairo_rectangle_t r = cell_rect (f, grid, row, col);
  double x0, y0, x1, y1;
  g_autofree char *what = g_strdup_printf ("grid %d cell [%d,%d]", grid, row, col);

  view_cell_band (&r, &x0, &y0, &x1, &y1);
  view_assert_area (f->surface, x0, y0, x1, y1, c, what);
}

/* Whether the window's outer line is drawn on the cell: the pixel half a
 * line in from its left edge, half-way down. */
static gboolean
cell_marked (Fixture *f, CsConvGrid grid, int row, int col)
{
  cairo_rectangle_t r = cell_rect (f, grid, row, col);
  double w = cs_grid_mark_width (r.width);
  guint32 px = view_pixel (f->surface, (int) (r.x + w / 2), (int) (r.y + r.height / 2));

  return view_pixel_is (px, CS_GRID_WINDOW, 2);
}

/* ---------------------------------------------------------------------------
 * The colours of the numbers
 */

static void
test_output_colour (Fixture *f, gconstpointer data)
{
  /* the window elsewhere first, then on the cell itself */
  for (int pass = 0; pass < 2; pass++)
    {
      fixture_run (f, pass == 0 ? 2 : 0, pass == 0 ? 2 : 0, WIDTH, HEIGHT);
      view_save (f->surface, "conv-default.png");
      g_assert_no_error (f->error);
      const CsWorkedStage *conv = cs_worked_find_stage (f->worked, CS_WORKED_STAGE_CONV);
      g_assert_cmpfloat (conv->values[0], ==, 24);
      g_assert_cmpfloat (cs_grid_limit (conv->values, 9), ==, 28);

      /* 24 in [0,0], 28 in [2,0], 8 in [1,2]: each the colour of its number
       * on the output's scale of ±28 */
      assert_cell_fill (f, CS_CONV_GRID_OUTPUT, 0, 0, diverging (24, 28));
      assert_cell_fill (f, CS_CONV_GRID_OUTPUT, 2, 0, diverging (28, 28));
      assert_cell_fill (f, CS_CONV_GRID_OUTPUT, 1, 2, diverging (8, 28));
      /* and a dark red is not a light one */
      g_assert_false (rgb_close (diverging (24, 28), diverging (8, 28)));

      /* the number is written in it, in the contrasting colour: white on 24 */
      cairo_rectangle_t r = cell_rect (f, CS_CONV_GRID_OUTPUT, 0, 0);
      CsRgb fill = diverging (24, 28);
      g_assert_cmpfloat (cs_palette_text_on (fill).r, ==, 1.0);
      int ink = view_count_other (f->surface, r.x + 0.3 * r.width, r.y + 0.35 * r.height,
                                  r.x + 0.7 * r.width, r.y + 0.65 * r.height, fill);
      g_assert_cmpint (ink, >, 30);
      int white = 0;
      for (int y = (int) (r.y + 0.35 * r.height); y < r.y + 0.65 * r.height; y++)
        for (int x = (int) (r.x + 0.3 * r.width); x < r.x + 0.7 * r.width; x++)
          white += view_pixel_is (view_pixel (f->surface, x, y), (CsRgb) { 1, 1, 1 }, 8);
      g_assert_cmpint (white, >, 20);
    }

  /* input and kernel on their own scales: 4 is the input's largest, 2 the
   * kernel's */
  assert_cell_fill (f, CS_CONV_GRID_INPUT, 3, 0, diverging (4, 4));
  assert_cell_fill (f, CS_CONV_GRID_INPUT, 4, 4, diverging (0, 4));
  assert_cell_fill (f, CS_CONV_GRID_KERNEL, 0, 2, diverging (2, 2));
  assert_cell_fill (f, CS_CONV_GRID_KERNEL, 0, 1, diverging (1, 2));
}

/* A negative output is blue, and the palette follows an edit. */
static void
test_negative (Fixture *f, gconstpointer data)
{
  for (int i = 0; i < 9; i++)
    f->spec.kernel[i] = -f->spec.kernel[i];
  fixture_run (f, 1, 1, WIDTH, HEIGHT);
  g_assert_no_error (f->error);
  CsRgb c = diverging (-24, 28);
  g_assert_cmpfloat (c.b, >, c.r);
  assert_cell_fill (f, CS_CONV_GRID_OUTPUT, 0, 0, c);
  assert_cell_fill (f, CS_CONV_GRID_KERNEL, 0, 2, diverging (-2, 2));
}

/* ---------------------------------------------------------------------------
 * The window
 */

static void
assert_window (Fixture *f, int n, const int (*cells)[2])
{
  const CsWorkedSpec *spec = cs_worked_get_spec (f->worked);

  for (int r = -spec->padding[0]; r < spec->H + spec->padding[0]; r++)
    for (int c = -spec->padding[1]; c < spec->W + spec->padding[1]; c++)
      {
        gboolean in = FALSE;
        for (int i = 0; i < n; i++)
          in |= cells[i][0] == r && cells[i][1] == c;
        if (cell_marked (f, CS_CONV_GRID_INPUT, r, c) != in)
          {
            g_test_message ("input [%d,%d] is %s the window of output [%d,%d]", r, c,
                            in ? "in" : "not in", f->state.row, f->state.col);
            g_test_fail ();
          }
      }
}

static void
test_window (Fixture *f, gconstpointer data)
{
  fixture_run (f, 0, 0, WIDTH, HEIGHT);
  const CsWorkedStage *conv = cs_worked_find_stage (f->worked, CS_WORKED_STAGE_CONV);

  /* stride 1, no padding: output [r,c] reads rows r…r+2, columns c…c+2 */
  for (int row = 0; row < 3; row++)
    for (int col = 0; col < 3; col++)
      {
        int cells[9][2];
        for (int i = 0; i < 3; i++)
          for (int j = 0; j < 3; j++)
            cells[i * 3 + j][0] = row + i, cells[i * 3 + j][1] = col + j;
        f->state.row = row;
        f->state.col = col;
        fixture_redraw (f);
        if (row == 1 && col == 2)
          view_save (f->surface, "conv-window-1-2.png");
        assert_window (f, 9, (const int (*)[2]) cells);

        /* and the output cell itself, alone among the outputs */
        for (int r = 0; r < conv->rows; r++)
          for (int c = 0; c < conv->cols; c++)
            g_assert_cmpint (cell_marked (f, CS_CONV_GRID_OUTPUT, r, c), ==,
                             r == row && c == col);
      }

  /* the pointer over another output cell shows its window, dashed: some
   * of the window's colour on the top edge of input [2,2], but not the
   * solid line of the current window */
  f->state.row = f->state.col = 0;
  f->state.hover_row = f->state.hover_col = 2;
  fixture_redraw (f);
  view_save (f->surface, "conv-hover.png");
  cairo_rectangle_t r = cell_rect (f, CS_CONV_GRID_INPUT, 4, 4);
  double w = cs_grid_mark_width (r.width);
  int dark = 0, n = 0;
  for (int x = (int) r.x + 1; x < r.x + r.width - 1; x++, n++)
    dark += view_pixel_is (view_pixel (f->surface, x, (int) (r.y + 0.3 * w)), CS_GRID_WINDOW, 40);
  g_assert_cmpint (dark, >, n / 4);
  g_assert_cmpint (dark, <, n - 2);
}

static void
test_window_dilation (Fixture *f, gconstpointer data)
{
  /* dilation 2 spreads the 3×3 kernel over 5×5: one output cell reading
   * every other input cell */
  f->spec.dilation[0] = f->spec.dilation[1] = 2;
  fixture_run (f, 0, 0, WIDTH, HEIGHT);
  g_assert_no_error (f->error);
  view_save (f->surface, "conv-dilation.png");
  const int cells[9][2] = {
    { 0, 0 }, { 0, 2 }, { 0, 4 }, { 2, 0 }, { 2, 2 }, { 2, 4 }, { 4, 0 }, { 4, 2 }, { 4, 4 },
  };
  assert_window (f, 9, cells);
  cairo_rectangle_t r;
  g_assert_true (cs_conv_view_state_cell_rect (&f->state, WIDTH, HEIGHT, CS_CONV_GRID_OUTPUT,
                                               0, 0, &r));
  g_assert_false (cs_conv_view_state_cell_rect (&f->state, WIDTH, HEIGHT, CS_CONV_GRID_OUTPUT,
                                                0, 1, &r));
}

/* ---------------------------------------------------------------------------
 * Padding, stride and impossible settings
 */

static void
test_padding (Fixture *f, gconstpointer data)
{
  cairo_rectangle_t r;

  fixture_run (f, 0, 0, WIDTH, HEIGHT);
  g_assert_false (cs_conv_view_state_cell_rect (&f->state, WIDTH, HEIGHT, CS_CONV_GRID_INPUT,
                                                -1, -1, &r));

  f->spec.padding[0] = f->spec.padding[1] = 1;
  fixture_run (f, 0, 0, WIDTH, HEIGHT);
  g_assert_no_error (f->error);
  view_save (f->surface, "conv-padding.png");

  /* the ring round the 5×5 input is grey padding, every cell of it */
  for (int i = -1; i <= 5; i++)
    {
      assert_cell_fill (f, CS_CONV_GRID_INPUT, -1, i, CS_GRID_PADDING);
      assert_cell_fill (f, CS_CONV_GRID_INPUT, 5, i, CS_GRID_PADDING);
      assert_cell_fill (f, CS_CONV_GRID_INPUT, i, -1, CS_GRID_PADDING);
      assert_cell_fill (f, CS_CONV_GRID_INPUT, i, 5, CS_GRID_PADDING);
    }
  /* which is no colour of the palette, 0's included */
  for (int i = -100; i <= 100; i++)
    g_assert_false (rgb_close (CS_GRID_PADDING, cs_palette_color (CS_PALETTE_DIVERGING, i / 100.0)));
  /* the data inside, and the 0 column at its right edge, are the input's */
  assert_cell_fill (f, CS_CONV_GRID_INPUT, 0, 0, diverging (3, 4));
  assert_cell_fill (f, CS_CONV_GRID_INPUT, 2, 4, diverging (0, 4));

  /* output [0,0] now reads the padding corner */
  const CsWorkedConvCell *cell = cs_worked_get_conv_cell (f->worked, 0, 0);
  g_assert_true (cell->terms[0].padding);
  const int cells[9][2] = {
    { -1, -1 }, { -1, 0 }, { -1, 1 }, { 0, -1 }, { 0, 0 }, { 0, 1 }, { 1, -1 }, { 1, 0 }, { 1, 1 },
  };
  assert_window (f, 9, cells);

  /* and the output grew to 5×5 */
  g_assert_true (cs_conv_view_state_cell_rect (&f->state, WIDTH, HEIGHT, CS_CONV_GRID_OUTPUT,
                                               4, 4, &r));
  g_assert_false (cs_conv_view_state_cell_rect (&f->state, WIDTH, HEIGHT, CS_CONV_GRID_OUTPUT,
                                                5, 0, &r));
}

static void
test_stride (Fixture *f, gconstpointer data)
{
  cairo_rectangle_t r, below;

  fixture_run (f, 0, 0, WIDTH, HEIGHT);
  g_assert_true (cs_conv_view_state_cell_rect (&f->state, WIDTH, HEIGHT, CS_CONV_GRID_OUTPUT,
                                               2, 2, &r));

  /* stride 2: ⌊(5 − 2 − 1)/2⌋ + 1 = 2, a 2×2 output [[24, 8], [28, 8]] */
  f->spec.stride[0] = f->spec.stride[1] = 2;
  fixture_run (f, 1, 1, WIDTH, HEIGHT);
  g_assert_no_error (f->error);
  view_save (f->surface, "conv-stride-2.png");
  g_assert_true (cs_conv_view_state_cell_rect (&f->state, WIDTH, HEIGHT, CS_CONV_GRID_OUTPUT,
                                               1, 1, &r));
  g_assert_false (cs_conv_view_state_cell_rect (&f->state, WIDTH, HEIGHT, CS_CONV_GRID_OUTPUT,
                                                2, 0, &r));
  g_assert_false (cs_conv_view_state_cell_rect (&f->state, WIDTH, HEIGHT, CS_CONV_GRID_OUTPUT,
                                                0, 2, &r));
  assert_cell_fill (f, CS_CONV_GRID_OUTPUT, 0, 0, diverging (24, 28));
  assert_cell_fill (f, CS_CONV_GRID_OUTPUT, 0, 1, diverging (8, 28));
  assert_cell_fill (f, CS_CONV_GRID_OUTPUT, 1, 0, diverging (28, 28));

  /* where a third row and column would be, nothing is drawn */
  r = cell_rect (f, CS_CONV_GRID_OUTPUT, 1, 1);
  below = (cairo_rectangle_t) { r.x, r.y + r.height, r.width, r.height };
  double x0, y0, x1, y1;
  view_cell_band (&below, &x0, &y0, &x1, &y1);
  view_assert_area (f->surface, x0, y0, x1, y1, CS_GRID_BACKGROUND, "below the output");
  below = (cairo_rectangle_t) { r.x + r.width, r.y, r.width, r.height };
  view_cell_band (&below, &x0, &y0, &x1, &y1);
  view_assert_area (f->surface, x0, y0, x1, y1, CS_GRID_BACKGROUND, "right of the output");

  /* output [1,1] reads rows 2…4, columns 2…4 */
  const int cells[9][2] = {
    { 2, 2 }, { 2, 3 }, { 2, 4 }, { 3, 2 }, { 3, 3 }, { 3, 4 }, { 4, 2 }, { 4, 3 }, { 4, 4 },
  };
  assert_window (f, 9, cells);
}

static void
test_impossible (Fixture *f, gconstpointer data)
{
  cairo_rectangle_t r;

  /* dilation 3: the kernel spans 7×7, more than the 5×5 input */
  f->spec.dilation[0] = f->spec.dilation[1] = 3;
  fixture_run (f, 0, 0, WIDTH, HEIGHT);
  g_assert_error (f->error, CS_WORKED_ERROR, CS_WORKED_ARG_KERNEL);
  view_save (f->surface, "conv-impossible.png");

  g_assert_false (cs_conv_view_state_cell_rect (&f->state, WIDTH, HEIGHT, CS_CONV_GRID_INPUT,
                                                0, 0, &r));
  g_assert_false (cs_conv_view_state_hit (&f->state, WIDTH, HEIGHT, WIDTH / 2, HEIGHT / 3,
                                          NULL, NULL, NULL));
  g_assert_null (cs_conv_view_state_products_text (&f->state));

  /* no heat map anywhere, but text: the reason */
  int red = 0, ink = 0;
  for (int y = 0; y < HEIGHT; y++)
    for (int x = 0; x < WIDTH; x++)
      {
        guint32 px = view_pixel (f->surface, x, y);
        int R = (px >> 16) & 0xff, G = (px >> 8) & 0xff, B = px & 0xff;
        red += R > G + 60 || B > G + 60;
        ink += R < 80 && G < 80 && B < 80;
      }
  g_assert_cmpint (red, ==, 0);
  g_assert_cmpint (ink, >, 500);

  g_autofree char *line = cs_conv_view_state_describe (&f->state);
  g_assert_true (g_str_has_prefix (line, "No output: kernel: the 3×3 kernel with dilation 3×3"));
}

/* ---------------------------------------------------------------------------
 * The products, as the engine has them
 */

/* The test's own writing of a cell, for whole numbers: "a·b + … = v". */
static char *
expected_products (const CsWorkedConvCell *cell)
{
  GString *s = g_string_new (NULL);

  for (int t = 0; t < cell->n_terms; t++)
    g_string_append_printf (s, "%s%g·%g", t > 0 ? " + " : "", cell->terms[t].input,
                            cell->terms[t].weight);
  g_string_append_printf (s, " = %g", cell->value);
  return g_string_free (s, FALSE);
}

static void
test_products (Fixture *f, gconstpointer data)
{
  fixture_run (f, 0, 0, WIDTH, HEIGHT);

  g_autofree char *text = cs_conv_view_state_products_text (&f->state);
  g_assert_cmpstr (text, ==, "3·0 + 3·1 + 2·2 + 2·2 + 3·2 + 2·0 + 3·0 + 3·1 + 2·2 = 24");
  g_autofree char *line = cs_conv_view_state_describe (&f->state);
  g_assert_cmpstr (line, ==, "Output [0,0] = 3·0 + 3·1 + 2·2 + 2·2 + 3·2 + 2·0 + 3·0 + 3·1 "
                             "+ 2·2 = 24");

  for (int row = 0; row < 3; row++)
    for (int col = 0; col < 3; col++)
      {
        f->state.row = row;
        f->state.col = col;
        g_autofree char *got = cs_conv_view_state_products_text (&f->state);
        g_autofree char *want = expected_products (cs_worked_get_conv_cell (f->worked, row, col));
        g_assert_cmpstr (got, ==, want);
      }
  f->state.row = 2;
  f->state.col = 0;
  g_autofree char *last = cs_conv_view_state_products_text (&f->state);
  g_assert_cmpstr (last, ==, "3·0 + 3·1 + 2·2 + 4·2 + 3·2 + 2·0 + 1·0 + 3·1 + 2·2 = 28");

  /* a negative weight in parentheses with a real minus, and a bias */
  f->spec.kernel[0] = -1;
  f->spec.has_bias = TRUE;
  f->spec.bias = -0.5f;
  fixture_run (f, 0, 0, WIDTH, HEIGHT);
  g_autofree char *biased = cs_conv_view_state_products_text (&f->state);
  g_assert_cmpstr (biased, ==, "3·(−1) + 3·1 + 2·2 + 2·2 + 3·2 + 2·0 + 3·0 + 3·1 + 2·2 "
                               "− 0.5 (bias) = 20.5");

  /* padding: the padding cells' zeros are written as such */
  spec_default (&f->spec);
  f->spec.padding[0] = f->spec.padding[1] = 1;
  fixture_run (f, 0, 0, WIDTH, HEIGHT);
  g_autofree char *padded = cs_conv_view_state_products_text (&f->state);
  g_assert_cmpstr (padded, ==, "0·0 + 0·1 + 0·2 + 0·2 + 3·2 + 3·0 + 0·0 + 2·1 + 3·2 = 14");

  /* an 8×8 kernel's 64 products: the first 12, "…", the last 3 */
  f->spec.H = f->spec.W = f->spec.kh = f->spec.kw = 8;
  f->spec.padding[0] = f->spec.padding[1] = 0;
  for (int i = 0; i < 64; i++)
    f->spec.input[i] = i, f->spec.kernel[i] = 1;
  fixture_run (f, 0, 0, WIDTH, HEIGHT);
  g_assert_no_error (f->error);
  g_autofree char *longer = cs_conv_view_state_products_text (&f->state);
  g_assert_cmpstr (longer, ==, "0·1 + 1·1 + 2·1 + 3·1 + 4·1 + 5·1 + 6·1 + 7·1 + 8·1 + 9·1 + "
                               "10·1 + 11·1 + … + 61·1 + 62·1 + 63·1 = 2016");
}

/* ---------------------------------------------------------------------------
 * Layout: hit-testing agrees with the drawing, and the picture scales
 */

static void
test_hit (Fixture *f, gconstpointer data)
{
  f->spec.padding[0] = f->spec.padding[1] = 1;
  fixture_run (f, 0, 0, WIDTH, HEIGHT);

  const int sizes[3][2] = { { 5, 5 }, { 3, 3 }, { 5, 5 } };
  for (int g = 0; g < 3; g++)
    for (int row = 0; row < sizes[g][0]; row++)
      for (int col = 0; col < sizes[g][1]; col++)
        {
          cairo_rectangle_t r = cell_rect (f, g, row, col);
          CsConvGrid grid;
          int hr, hc;
          g_assert_true (cs_conv_view_state_hit (&f->state, WIDTH, HEIGHT,
                                                 r.x + r.width / 2, r.y + r.height / 2,
                                                 &grid, &hr, &hc));
          g_assert_cmpint (grid, ==, g);
          g_assert_cmpint (hr, ==, row);
          g_assert_cmpint (hc, ==, col);
        }
  /* padding is not a cell one can edit */
  cairo_rectangle_t r = cell_rect (f, CS_CONV_GRID_INPUT, -1, 2);
  g_assert_false (cs_conv_view_state_hit (&f->state, WIDTH, HEIGHT, r.x + r.width / 2,
                                          r.y + r.height / 2, NULL, NULL, NULL));
  g_assert_false (cs_conv_view_state_hit (&f->state, WIDTH, HEIGHT, 2, 2, NULL, NULL, NULL));
}

static void
test_scale (Fixture *f, gconstpointer data)
{
  const int sizes[][2] = { { 640, 420 }, { 1280, 800 }, { 1920, 1080 }, { 3840, 2160 } };
  double last = 0;

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      fixture_run (f, 1, 1, sizes[i][0], sizes[i][1]);
      g_autofree char *name = g_strdup_printf ("conv-%dx%d.png", sizes[i][0], sizes[i][1]);
      view_save (f->surface, name);
      cairo_rectangle_t r = cell_rect (f, CS_CONV_GRID_INPUT, 0, 0);
      g_assert_cmpfloat (r.width, >, last);
      last = r.width;
      /* everything inside the picture */
      cairo_rectangle_t out = cell_rect (f, CS_CONV_GRID_OUTPUT, 2, 2);
      g_assert_cmpfloat (r.x, >, 0);
      g_assert_cmpfloat (out.x + out.width, <, sizes[i][0]);
      g_assert_cmpfloat (out.y + out.height, <, sizes[i][1]);
      assert_cell_fill (f, CS_CONV_GRID_OUTPUT, 0, 0, diverging (24, 28));
    }
}

/* ---------------------------------------------------------------------------
 * Numbers in and out
 */

static void
test_numbers (void)
{
  const struct { double v; const char *text; } cases[] = {
    { 24, "24" }, { -3, "−3" }, { 5.375, "5.375" }, { 0.1f, "0.1" }, { -0.0, "0" },
    { 1e6, "1e+06" }, { 1.0f / 3.0f, "0.33333334" }, { -INFINITY, "−∞" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = cs_worked_text_number (cases[i].v);
      g_assert_cmpstr (text, ==, cases[i].text);
    }
  g_autofree char *factor = cs_worked_text_factor (-2);
  g_assert_cmpstr (factor, ==, "(−2)");
}

static void
test_parse (void)
{
  const struct { const char *text; double v; } good[] = {
    { "2.5", 2.5 }, { " −3 ", -3 }, { "-1e3", -1000 }, { "1,5", 1.5 }, { "0", 0 },
    { "-0", 0 },
  };
  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr(GError) error = NULL;
      double v = NAN;
      g_assert_true (cs_worked_text_parse_value (good[i].text, &v, &error));
      g_assert_no_error (error);
      g_assert_cmpfloat (v, ==, good[i].v);
      if (v == 0)
        g_assert_false (signbit (v));  /* "-0" is 0 */
    }

  const struct { const char *text; const char *message; } bad[] = {
    { "abc", "“abc” is not a number" },
    { "3x", "“3x” is not a number" },
    { "", "Type a number, e.g. 3 or −1.5" },
    { "   ", "Type a number, e.g. 3 or −1.5" },
    { "nan", "“nan” is not a number" },
    { "inf", "inf is out of range: numbers must be between −1000000 and 1000000" },
    { "2e6", "2e6 is out of range: numbers must be between −1000000 and 1000000" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      double v = 7;
      g_assert_false (cs_worked_text_parse_value (bad[i].text, &v, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
      g_assert_cmpstr (error->message, ==, bad[i].message);
      g_assert_cmpfloat (v, ==, 7);
    }
}

/* ---------------------------------------------------------------------------
 * The widget's API (its picture is the state's; input needs a display and
 * is the application's test)
 */

static void
count (int *n)
{
  (*n)++;
}

static void
test_type (void)
{
  GTypeQuery query;

  /* a GObject instance must stay under 64 KiB: the specs live on the heap */
  g_type_ensure (CS_TYPE_CONV_VIEW);
  g_type_query (CS_TYPE_CONV_VIEW, &query);
  g_assert_cmpuint (query.type, ==, CS_TYPE_CONV_VIEW);
  g_assert_true (g_type_is_a (CS_TYPE_CONV_VIEW, CS_TYPE_VIEW));
  g_assert_true (g_type_is_a (CS_TYPE_CONV_VIEW, GTK_TYPE_WIDGET));
}

static void
test_widget (void)
{
  if (!gtk_init_check ())
    {
      g_test_skip ("no display");
      return;
    }

  CsConvView *view = g_object_ref_sink (CS_CONV_VIEW (cs_conv_view_new ()));
  CsConvViewState state;
  int changed = 0, row, col;

  g_signal_connect_swapped (view, "spec-changed", G_CALLBACK (count), &changed);
  g_assert_nonnull (cs_conv_view_get_worked (view));
  const CsWorkedSpec *spec = cs_conv_view_get_spec (view);
  g_assert_cmpint (spec->H, ==, 5);
  g_assert_cmpint (spec->pool, ==, CS_WORKED_POOL_MAX);  /* kept for the pooling view */

  /* the current cell stays in the output */
  cs_conv_view_set_current (view, 7, 1);
  cs_conv_view_get_current (view, &row, &col);
  g_assert_cmpint (row, ==, 2);
  g_assert_cmpint (col, ==, 1);

  /* stride 2: a 2×2 output, the cell clamped into it, one signal */
  CsWorkedSpec next = *spec;
  next.stride[0] = next.stride[1] = 2;
  cs_conv_view_set_spec (view, &next);
  g_assert_cmpint (changed, ==, 1);
  cs_conv_view_get_current (view, &row, &col);
  g_assert_cmpint (row, ==, 1);
  g_assert_cmpint (col, ==, 1);
  cs_conv_view_get_state (view, &state);
  g_autofree char *line = cs_conv_view_state_describe (&state);
  g_assert_cmpstr (line, ==, "Output [1,1] = 2·0 + 1·1 + 0·2 + 2·2 + 1·2 + 0·0 + 2·0 + 1·1 "
                             "+ 0·2 = 8");
  cs_conv_view_set_spec (view, &next);
  g_assert_cmpint (changed, ==, 1);

  /* an impossible spec: no example, no autoplay, the reason */
  next.dilation[0] = next.dilation[1] = 3;
  cs_conv_view_set_spec (view, &next);
  g_assert_cmpint (changed, ==, 2);
  g_assert_null (cs_conv_view_get_worked (view));
  cs_conv_view_set_playing (view, TRUE);
  g_assert_false (cs_conv_view_get_playing (view));
  cs_conv_view_get_state (view, &state);
  g_assert_nonnull (state.error);

  /* back, and autoplay on and off */
  cs_worked_spec_init_default (&next);
  cs_conv_view_set_spec (view, &next);
  cs_conv_view_set_playing (view, TRUE);
  g_assert_true (cs_conv_view_get_playing (view));
  cs_conv_view_set_playing (view, FALSE);
  g_assert_false (cs_conv_view_get_playing (view));

  /* exported through the CsView interface: the same picture */
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-conv-view-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *path = g_build_filename (dir, "conv.png", NULL);
  g_assert_true (cs_view_export (CS_VIEW (view), path, CS_EXPORT_PNG, 900, 600, &error));
  g_assert_no_error (error);
  cairo_surface_t *png = cairo_image_surface_create_from_png (path);
  g_assert_cmpint (cairo_surface_status (png), ==, CAIRO_STATUS_SUCCESS);
  g_assert_cmpint (cairo_image_surface_get_width (png), ==, 900);
  cairo_surface_destroy (png);
  g_unlink (path);
  g_rmdir (dir);

  g_object_unref (view);
}

/* The shared text drawing keeps the layouts of short texts: the same text
 * measures and draws the same from the cache, a different size or weight
 * is laid out anew, and more texts than the cache holds still come out
 * right. */
static void
test_text_cache (void)
{
  double w1, h1, w2, h2, wb, w16;
  cs_grid_text_extents ("7: 1→7", 12.0, FALSE, &w1, &h1);
  cs_grid_text_extents ("7: 1→7", 12.0, FALSE, &w2, &h2);
  g_assert_cmpfloat (w1, ==, w2);
  g_assert_cmpfloat (h1, ==, h2);
  cs_grid_text_extents ("7: 1→7", 12.0, TRUE, &wb, NULL);
  cs_grid_text_extents ("7: 1→7", 16.0, FALSE, &w16, NULL);
  g_assert_cmpfloat (wb, >, w1);
  g_assert_cmpfloat_with_epsilon (w16 / w1, 16.0 / 12.0, 0.05);

  /* drawn from the cache: the same pixels as the first time */
  cairo_surface_t *a = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 80, 24);
  cairo_surface_t *b = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 80, 24);
  cairo_t *cr = cairo_create (a);
  cs_grid_draw_text (cr, "loss 0.25", 12.0, FALSE, 2, 2, 0, 0, (CsRgb) { 0, 0, 0 });
  cairo_destroy (cr);
  /* past the cache's size (2,048 texts): it starts afresh */
  for (int i = 0; i < 2100; i++)
    {
      char t[16];
      g_snprintf (t, sizeof t, "%d", i);
      double w;
      cs_grid_text_extents (t, 12.0, FALSE, &w, NULL);
      g_assert_cmpfloat (w, >, 0.0);
    }
  cr = cairo_create (b);
  cs_grid_draw_text (cr, "loss 0.25", 12.0, FALSE, 2, 2, 0, 0, (CsRgb) { 0, 0, 0 });
  cairo_destroy (cr);
  cairo_surface_flush (a);
  cairo_surface_flush (b);
  g_assert_cmpmem (cairo_image_surface_get_data (a), 80 * 24 * 4, cairo_image_surface_get_data (b),
                   80 * 24 * 4);
  int inked = 0;
  const guint32 *px = (const guint32 *) cairo_image_surface_get_data (a);
  for (int i = 0; i < 80 * 24; i++)
    inked += px[i] != 0;
  g_assert_cmpint (inked, >, 20);
  cairo_surface_destroy (a);
  cairo_surface_destroy (b);
}

int
main (int argc, char **argv)
{
  /* (for the widget test: no accessibility bus to look for) */
  g_setenv ("GTK_A11Y", "none", FALSE);
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/views/conv/output-colour", test_output_colour);
  ADD ("/views/conv/negative", test_negative);
  ADD ("/views/conv/window", test_window);
  ADD ("/views/conv/window-dilation", test_window_dilation);
  ADD ("/views/conv/padding", test_padding);
  ADD ("/views/conv/stride", test_stride);
  ADD ("/views/conv/impossible", test_impossible);
  ADD ("/views/conv/products", test_products);
  ADD ("/views/conv/hit", test_hit);
  ADD ("/views/conv/scale", test_scale);
#undef ADD
  g_test_add_func ("/views/conv/numbers", test_numbers);
  g_test_add_func ("/views/conv/text-cache", test_text_cache);
  g_test_add_func ("/views/conv/parse", test_parse);
  g_test_add_func ("/views/conv/type", test_type);
  g_test_add_func ("/views/conv/widget", test_widget);
  return g_test_run ();
}
