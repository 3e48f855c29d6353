/* test-palette.c — the heat-map palettes and the legend, on image surfaces */
#include "app/views/cs-palette.h"

#include <math.h>

static void
assert_rgb (CsRgb c, double r, double g, double b)
{
  g_assert_cmpfloat_with_epsilon (c.r, r, 1e-9);
  g_assert_cmpfloat_with_epsilon (c.g, g, 1e-9);
  g_assert_cmpfloat_with_epsilon (c.b, b, 1e-9);
}

static void
test_ends_and_middle (void)
{
  /* RdBu: −1 dark blue, 0 near white, +1 dark red */
  assert_rgb (cs_palette_color (CS_PALETTE_DIVERGING, -1), 0x05 / 255.0, 0x30 / 255.0, 0x61 / 255.0);
  assert_rgb (cs_palette_color (CS_PALETTE_DIVERGING, 0), 0xf7 / 255.0, 0xf7 / 255.0, 0xf7 / 255.0);
  assert_rgb (cs_palette_color (CS_PALETTE_DIVERGING, 1), 0x67 / 255.0, 0x00 / 255.0, 0x1f / 255.0);
  assert_rgb (cs_palette_color (CS_PALETTE_DIVERGING, 7), 0x67 / 255.0, 0x00 / 255.0, 0x1f / 255.0);
  assert_rgb (cs_palette_color (CS_PALETTE_SEQUENTIAL, 0), 1, 1, 1);
  assert_rgb (cs_palette_color (CS_PALETTE_SEQUENTIAL, -3), 1, 1, 1);
  assert_rgb (cs_palette_color (CS_PALETTE_SEQUENTIAL, NAN), 0.5, 0.5, 0.5);
  g_assert_cmpfloat (cs_palette_normalize (CS_PALETTE_DIVERGING, -5, 2), ==, -1);
  g_assert_cmpfloat (cs_palette_normalize (CS_PALETTE_SEQUENTIAL, 1, 4), ==, 0.25);
  g_assert_cmpfloat (cs_palette_normalize (CS_PALETTE_SEQUENTIAL, 1, 0), ==, 0);
}

/* Negative values are bluer than red, positive redder than blue, and the
 * lightness falls monotonically away from zero: the order reads without
 * telling hues apart. */
static void
test_monotone_lightness (void)
{
  double last = 2.0;
  for (int i = 0; i <= 100; i++)
    {
      CsRgb c = cs_palette_color (CS_PALETTE_DIVERGING, i / 100.0);
      double y = 0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b;
      g_assert_cmpfloat (y, <=, last + 1e-9);
      last = y;
      CsRgb n = cs_palette_color (CS_PALETTE_DIVERGING, -i / 100.0);
      if (i > 5)
        {
          g_assert_cmpfloat (c.r, >, c.b);
          g_assert_cmpfloat (n.b, >, n.r);
        }
    }
  last = 2.0;
  for (int i = 0; i <= 100; i++)
    {
      CsRgb c = cs_palette_color (CS_PALETTE_SEQUENTIAL, i / 100.0);
      double y = 0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b;
      g_assert_cmpfloat (y, <=, last + 1e-9);
      last = y;
    }
}

static void
test_legend_pixels (void)
{
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_RGB24, 300, 60);
  cairo_t *cr = cairo_create (s);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  cs_palette_draw_legend (cr, CS_PALETTE_DIVERGING, 2.5, NULL, 20, 10, 256, 16);
  cairo_destroy (cr);
  cairo_surface_flush (s);

  const guint8 *px = cairo_image_surface_get_data (s);
  int stride = cairo_image_surface_get_stride (s);
  /* left end blue, right end red, middle light */
  const guint8 *left = px + 18 * stride + 24 * 4, *right = px + 18 * stride + 270 * 4;
  const guint8 *mid = px + 18 * stride + 148 * 4;
  g_assert_cmpint (left[0], >, left[2]);   /* B > R (BGRA in memory) */
  g_assert_cmpint (right[2], >, right[0]);
  g_assert_cmpint (mid[0], >, 200);
  g_assert_cmpint (mid[1], >, 200);
  g_assert_cmpint (mid[2], >, 200);
  /* the value labels are drawn below the bar: some dark pixels there */
  int dark = 0;
  for (int y = 28; y < 50; y++)
    for (int x = 0; x < 300; x++)
      dark += px[y * stride + x * 4 + 1] < 100;
  g_assert_cmpint (dark, >, 20);
  cairo_surface_destroy (s);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/app/palette/ends", test_ends_and_middle);
  g_test_add_func ("/app/palette/monotone", test_monotone_lightness);
  g_test_add_func ("/app/palette/legend", test_legend_pixels);
  return g_test_run ();
}
