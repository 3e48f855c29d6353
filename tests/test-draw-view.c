/* test-draw-view.c — the Draw view's picture, drawn into image surfaces
 *
 * No display: the state is drawn by cs_draw_view_state_draw () and the
 * pixels read back. */
#include "app/views/cs-draw-view.h"
#include "app/views/cs-palette.h"

#include <math.h>

#define W 1280
#define H 700

typedef struct
{
  cairo_surface_t *surface;
  const guint8    *data;
  int              stride;
} Picture;

static Picture
render (const CsDrawViewState *state, int width, int height)
{
  Picture p;
  p.surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, width, height);
  cairo_t *cr = cairo_create (p.surface);
  cs_draw_view_state_draw (state, cr, width, height);
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
  cairo_destroy (cr);
  cairo_surface_flush (p.surface);
  p.data = cairo_image_surface_get_data (p.surface);
  p.stride = cairo_image_surface_get_stride (p.surface);
  if (g_getenv ("CS_TEST_SAVE_PNG") != NULL)
    {
      g_autofree char *name = g_strdup_printf ("%s/draw-view-%dx%d.png", g_get_tmp_dir (), width, height);
      cairo_surface_write_to_png (p.surface, name);
      g_test_message ("saved %s", name);
    }
  return p;
}

static void
picture_free (Picture *p)
{
  cairo_surface_destroy (p->surface);
}

/* 0..255 per channel at (x, y) */
static void
pixel (const Picture *p, double x, double y, int rgb[3])
{
  guint32 v = *(const guint32 *) (p->data + (int) y * p->stride + 4 * (int) x);
  rgb[0] = (v >> 16) & 0xff;
  rgb[1] = (v >> 8) & 0xff;
  rgb[2] = v & 0xff;
}

static gboolean
pixel_is (const Picture *p, double x, double y, CsRgb c, int tolerance)
{
  int rgb[3];
  pixel (p, x, y, rgb);
  return abs (rgb[0] - (int) round (c.r * 255)) <= tolerance
      && abs (rgb[1] - (int) round (c.g * 255)) <= tolerance
      && abs (rgb[2] - (int) round (c.b * 255)) <= tolerance;
}

static void
assert_pixel (const Picture *p, double x, double y, CsRgb c, int tolerance)
{
  int rgb[3];
  pixel (p, x, y, rgb);
  if (!pixel_is (p, x, y, c, tolerance))
    g_error ("pixel (%.0f, %.0f) is #%02x%02x%02x, expected #%02x%02x%02x", x, y, rgb[0], rgb[1],
             rgb[2], (int) round (c.r * 255), (int) round (c.g * 255), (int) round (c.b * 255));
}

static void
state_with_line (CsDrawViewState *state, double x0, double y0, double x1, double y1)
{
  cs_draw_view_state_begin_stroke (state, x0, y0);
  for (int i = 1; i <= 20; i++)
    cs_draw_view_state_add_point (state, x0 + (x1 - x0) * i / 20, y0 + (y1 - y0) * i / 20);
}

/* The layout keeps the three panels apart and inside the figure, at the
 * sizes a window takes. */
static void
test_layout (void)
{
  static const int sizes[][2] = { { 800, 480 }, { 1280, 700 }, { 1920, 980 }, { 2560, 1400 },
                                  { 640, 900 } };
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      int w = sizes[i][0], h = sizes[i][1];
      CsDrawViewLayout l;
      cs_draw_view_layout (w, h, &l);
      g_test_message ("%d×%d: font %.1f, squares %.0f, bars %.0f", w, h, l.font, l.canvas.width,
                      l.bars.width);
      g_assert_cmpfloat (l.canvas.width, ==, l.canvas.height);
      g_assert_cmpfloat (l.grid.width, ==, l.grid.height);
      g_assert_cmpfloat (l.canvas.x, >=, 0);
      g_assert_cmpfloat (l.canvas.y, >=, 0);
      g_assert_cmpfloat (l.canvas.x + l.canvas.width, <, l.grid.x);
      g_assert_cmpfloat (l.grid.x + l.grid.width, <, l.digit.x);
      g_assert_cmpfloat (l.digit.y + l.digit.height, <=, l.bars.y);
      /* the bars and the numbers beside them (10.5 fonts) fit */
      g_assert_cmpfloat (l.bars.x + l.bars.width + 10.4 * l.font, <=, w);
      g_assert_cmpfloat (l.bars.y + l.bars.height, <=, l.grid.y + l.grid.height + 0.01);
      g_assert_cmpfloat (l.legend.y + l.legend.height + 2 * l.font, <=, h);
      if (w >= 1280)
        g_assert_cmpfloat (l.canvas.width, >=, 400);
    }
}

/* Strokes are rasterised black on white with a round brush of the
 * documented width. */
static void
test_rasterize (void)
{
  CsDrawViewState state;
  cs_draw_view_state_init (&state);
  state_with_line (&state, 0.2, 0.5, 0.8, 0.5);

  const int side = CS_DRAW_VIEW_RASTER;
  g_autofree float *gray = g_new (float, side * side);
  cs_draw_view_state_rasterize (&state, gray, side);

  g_assert_cmpfloat (gray[(side / 2) * side + side / 2], <, 0.01);
  g_assert_cmpfloat (gray[20 * side + side / 2], ==, 1.0f);
  g_assert_cmpfloat (gray[(side / 2) * side + 10], ==, 1.0f);   /* left of the stroke's cap */
  /* the column through the middle: brush · side dark pixels */
  double ink = 0;
  for (int y = 0; y < side; y++)
    ink += 1.0 - gray[y * side + side / 2];
  g_assert_cmpfloat (fabs (ink - CS_DRAW_VIEW_BRUSH * side), <, 1.0);

  /* a single click is a round dot */
  cs_draw_view_state_clear (&state);
  cs_draw_view_state_init (&state);
  cs_draw_view_state_begin_stroke (&state, 0.5, 0.5);
  cs_draw_view_state_rasterize (&state, gray, side);
  g_assert_cmpfloat (gray[(side / 2) * side + side / 2], <, 0.01);
  cs_draw_view_state_clear (&state);
}

/* The ink of a stroke appears on the canvas, at its place, and nowhere
 * else. */
static void
test_stroke_on_canvas (void)
{
  CsDrawViewState state;
  cs_draw_view_state_init (&state);
  state_with_line (&state, 0.2, 0.5, 0.8, 0.5);
  Picture p = render (&state, W, H);
  CsDrawViewLayout l;
  cs_draw_view_layout (W, H, &l);
  const CsRgb black = { 0, 0, 0 }, white = { 1, 1, 1 };

  for (double u = 0.25; u <= 0.75; u += 0.05)
    assert_pixel (&p, l.canvas.x + u * l.canvas.width, l.canvas.y + 0.5 * l.canvas.height, black, 8);
  /* above and below the brush's half width: paper */
  double half = CS_DRAW_VIEW_BRUSH / 2 * l.canvas.height;
  assert_pixel (&p, l.canvas.x + 0.5 * l.canvas.width, l.canvas.y + 0.5 * l.canvas.height - half - 3,
                white, 8);
  assert_pixel (&p, l.canvas.x + 0.5 * l.canvas.width, l.canvas.y + 0.5 * l.canvas.height + half + 3,
                white, 8);
  assert_pixel (&p, l.canvas.x + 0.5 * l.canvas.width, l.canvas.y + 0.2 * l.canvas.height, white, 8);
  picture_free (&p);

  /* a stroke past the canvas's edge is clipped to it */
  cs_draw_view_state_clear (&state);
  cs_draw_view_state_init (&state);
  state_with_line (&state, 0.5, 0.5, 1.4, 0.5);
  p = render (&state, W, H);
  assert_pixel (&p, l.canvas.x + 0.9 * l.canvas.width, l.canvas.y + 0.5 * l.canvas.height, black, 8);
  g_assert_false (pixel_is (&p, l.canvas.x + l.canvas.width + 8, l.canvas.y + 0.5 * l.canvas.height,
                            black, 60));
  picture_free (&p);
  cs_draw_view_state_clear (&state);
}

/* A loaded picture: its pixels on the canvas, as they are (each a square of
 * its grey), and in the raster under the strokes; cleared with them. */
static void
test_image (void)
{
  CsDrawViewState state;
  cs_draw_view_state_init (&state);
  float image[CS_SESSION_PIXELS] = { 0 };
  image[10 * 28 + 5] = 1.0f;      /* ink */
  image[10 * 28 + 6] = 0.5f;      /* half */
  cs_draw_view_state_set_image (&state, image, "Test digit 3, a 1");
  image[10 * 28 + 5] = 0;         /* copied */
  g_assert_cmpfloat (state.image[10 * 28 + 5], ==, 1.0f);
  g_assert_cmpstr (state.caption, ==, "Test digit 3, a 1");

  Picture p = render (&state, W, H);
  CsDrawViewLayout l;
  cs_draw_view_layout (W, H, &l);
  double cell = l.canvas.width / 28;
  assert_pixel (&p, l.canvas.x + 5.5 * cell, l.canvas.y + 10.5 * cell, (CsRgb) { 0, 0, 0 }, 2);
  assert_pixel (&p, l.canvas.x + 6.5 * cell, l.canvas.y + 10.5 * cell, (CsRgb) { 0.5, 0.5, 0.5 }, 3);
  assert_pixel (&p, l.canvas.x + 7.5 * cell, l.canvas.y + 10.5 * cell, (CsRgb) { 1, 1, 1 }, 2);
  picture_free (&p);

  /* the raster: the picture scaled, a stroke over it */
  const int side = CS_DRAW_VIEW_RASTER;
  g_autofree float *gray = g_new (float, side * side);
  state_with_line (&state, 0.2, 0.8, 0.8, 0.8);
  cs_draw_view_state_rasterize (&state, gray, side);
  /* the middle of a pixel: its grey (bilinear: a twentieth of each neighbour) */
  g_assert_cmpfloat (gray[105 * side + 55], <, 0.1);
  g_assert_cmpfloat_with_epsilon (gray[105 * side + 65], 0.5, 0.08);
  g_assert_cmpfloat (gray[(int) (0.8 * side) * side + side / 2], <, 0.01);  /* the stroke */
  g_assert_cmpfloat (gray[200 * side + 250], ==, 1.0f);

  cs_draw_view_state_set_image (&state, NULL, NULL);
  g_assert_null (state.image);
  g_assert_null (state.caption);
  cs_draw_view_state_clear (&state);
}

/* The 28 × 28 grid shows the network's input cell by cell in the
 * sequential palette: a cell holding 1 has the colour of 1. */
static void
test_grid_cells (void)
{
  CsDrawViewState state;
  cs_draw_view_state_init (&state);
  state.prediction.empty = FALSE;
  state.prediction.predicted = 3;
  state.prediction.probs[3] = 1;
  state.prediction.input[5 * 28 + 7] = 1.0f;
  state.prediction.input[10 * 28 + 10] = 0.5f;
  state.prediction.input[27 * 28 + 27] = 0.25f;

  static const int sizes[][2] = { { W, H }, { 1920, 980 }, { 800, 480 } };
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      int w = sizes[i][0], h = sizes[i][1];
      Picture p = render (&state, w, h);
      CsDrawViewLayout l;
      cs_draw_view_layout (w, h, &l);
      double cell = l.grid.width / 28;

#define CELL_CENTRE(r, c) l.grid.x + ((c) + 0.5) * cell, l.grid.y + ((r) + 0.5) * cell
      assert_pixel (&p, CELL_CENTRE (5, 7), cs_palette_color (CS_PALETTE_SEQUENTIAL, 1.0), 1);
      assert_pixel (&p, CELL_CENTRE (10, 10), cs_palette_color (CS_PALETTE_SEQUENTIAL, 0.5), 1);
      assert_pixel (&p, CELL_CENTRE (27, 27), cs_palette_color (CS_PALETTE_SEQUENTIAL, 0.25), 1);
      assert_pixel (&p, CELL_CENTRE (0, 0), cs_palette_color (CS_PALETTE_SEQUENTIAL, 0.0), 1);
      assert_pixel (&p, CELL_CENTRE (5, 8), cs_palette_color (CS_PALETTE_SEQUENTIAL, 0.0), 1);
#undef CELL_CENTRE

      /* the legend: white at its left end, the colour of 1 at its right */
      double ly = l.legend.y + l.legend.height / 2;
      assert_pixel (&p, l.legend.x + 3, ly, cs_palette_color (CS_PALETTE_SEQUENTIAL, 0.02), 6);
      assert_pixel (&p, l.legend.x + l.legend.width - 3, ly,
                    cs_palette_color (CS_PALETTE_SEQUENTIAL, 0.98), 6);
      picture_free (&p);
    }
  cs_draw_view_state_clear (&state);
}

/* How many pixels of row y, from x, differ from the bar's track. */
static int
bar_length (const Picture *p, double x, double y, double width)
{
  const CsRgb track = { 0.925, 0.925, 0.93 };
  int n = 0;
  for (int i = 0; i < (int) width; i++)
    if (!pixel_is (p, x + i + 0.5, y, track, 3))
      n++;
  return n;
}

/* Each probability is a bar as long as the probability; the predicted
 * class's is the longest and drawn in the strong colour, and the digit is
 * written big in it. */
static void
test_probability_bars (void)
{
  static const float probs[10] = { 0.02f, 0.01f, 0.61f, 0.20f, 0.0f, 0.05f, 0.03f, 0.04f, 0.03f, 0.01f };
  CsDrawViewState state;
  cs_draw_view_state_init (&state);
  state.prediction.empty = FALSE;
  state.prediction.predicted = 2;
  state.prediction.trained = TRUE;
  state.model_title = "SimpleCNN";
  for (int i = 0; i < 10; i++)
    {
      state.prediction.probs[i] = probs[i];
      state.prediction.logits[i] = logf (probs[i] + 1e-6f);
    }

  Picture p = render (&state, W, H);
  CsDrawViewLayout l;
  cs_draw_view_layout (W, H, &l);
  double row = l.bars.height / 10;
  int longest = -1, best = -1;
  for (int i = 0; i < 10; i++)
    {
      int n = bar_length (&p, l.bars.x, l.bars.y + (i + 0.5) * row, l.bars.width);
      g_assert_cmpfloat (fabs (n - probs[i] * l.bars.width), <=, 2.0);
      if (n > longest)
        longest = n, best = i;
    }
  g_assert_cmpint (best, ==, 2);
  CsRgb strong = cs_palette_color (CS_PALETTE_SEQUENTIAL, 0.85);
  assert_pixel (&p, l.bars.x + 5, l.bars.y + 2.5 * row, strong, 1);
  g_assert_false (pixel_is (&p, l.bars.x + 5, l.bars.y + 3.5 * row, strong, 20));

  /* the big digit: many pixels of the strong colour in its box */
  int inked = 0;
  for (int y = (int) l.digit.y; y < l.digit.y + l.digit.height; y++)
    for (int x = (int) l.digit.x; x < l.digit.x + l.digit.height; x++)
      inked += pixel_is (&p, x, y, strong, 2);
  g_assert_cmpint (inked, >, l.digit.height * l.digit.height * 0.08);
  picture_free (&p);

  /* no prediction: empty tracks and no digit */
  state.prediction.predicted = -1;
  state.prediction.empty = TRUE;
  p = render (&state, W, H);
  for (int i = 0; i < 10; i++)
    g_assert_cmpint (bar_length (&p, l.bars.x, l.bars.y + (i + 0.5) * row, l.bars.width), ==, 0);
  inked = 0;
  for (int y = (int) l.digit.y; y < l.digit.y + l.digit.height; y++)
    for (int x = (int) l.digit.x; x < l.digit.x + l.digit.height; x++)
      inked += pixel_is (&p, x, y, strong, 2);
  g_assert_cmpint (inked, ==, 0);
  picture_free (&p);
  cs_draw_view_state_clear (&state);
}

/* The crop box the preprocessing found is drawn around the ink. */
static void
test_crop_box (void)
{
  CsDrawViewState state;
  cs_draw_view_state_init (&state);
  state_with_line (&state, 0.5, 0.2, 0.5, 0.8);
  state.prediction.empty = FALSE;
  state.prediction.predicted = 1;
  state.prediction.probs[1] = 1;
  state.prediction.bbox_x = 0.45;
  state.prediction.bbox_y = 0.15;
  state.prediction.bbox_width = 0.10;
  state.prediction.bbox_height = 0.70;
  state.prediction.center_x = 0.5;
  state.prediction.center_y = 0.5;
  Picture p = render (&state, W, H);
  CsDrawViewLayout l;
  cs_draw_view_layout (W, H, &l);
  const CsRgb accent = { 0.90, 0.38, 0.0 };
  /* the box's left edge, somewhere along a dash */
  int hits = 0;
  double x = l.canvas.x + 0.45 * l.canvas.width;
  for (double y = l.canvas.y + 0.3 * l.canvas.height; y < l.canvas.y + 0.4 * l.canvas.height; y++)
    hits += pixel_is (&p, x, y, accent, 40);
  g_assert_cmpint (hits, >, 5);
  picture_free (&p);
  cs_draw_view_state_clear (&state);
}

/* PDF and SVG surfaces take the same drawing. */
static void
test_vector_surfaces (void)
{
  CsDrawViewState state;
  cs_draw_view_state_init (&state);
  state_with_line (&state, 0.2, 0.2, 0.8, 0.8);
  cairo_surface_t *s = cairo_recording_surface_create (CAIRO_CONTENT_COLOR_ALPHA, NULL);
  cairo_t *cr = cairo_create (s);
  cs_draw_view_state_draw (&state, cr, 1000, 600);
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
  cairo_destroy (cr);
  double x, y, w, h;
  cairo_recording_surface_ink_extents (s, &x, &y, &w, &h);
  g_assert_cmpfloat (x, >=, -0.5);
  g_assert_cmpfloat (y, >=, -0.5);
  g_assert_cmpfloat (x + w, <=, 1000.5);
  g_assert_cmpfloat (y + h, <=, 600.5);
  cairo_surface_destroy (s);
  cs_draw_view_state_clear (&state);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/views/draw/layout", test_layout);
  g_test_add_func ("/views/draw/rasterize", test_rasterize);
  g_test_add_func ("/views/draw/stroke-on-canvas", test_stroke_on_canvas);
  g_test_add_func ("/views/draw/image", test_image);
  g_test_add_func ("/views/draw/grid-cells", test_grid_cells);
  g_test_add_func ("/views/draw/probability-bars", test_probability_bars);
  g_test_add_func ("/views/draw/crop-box", test_crop_box);
  g_test_add_func ("/views/draw/vector-surfaces", test_vector_surfaces);

  return g_test_run ();
}
