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

/* ---- the qualitative palette, as colour-blind readers see it ----------- */

static double
to_linear (double c)
{
  return c <= 0.04045 ? c / 12.92 : pow ((c + 0.055) / 1.055, 2.4);
}

static double
lab_f (double t)
{
  return t > 0.008856 ? cbrt (t) : 7.787 * t + 16.0 / 116.0;
}

/* CIELAB (D65) of linear RGB */
static void
lab_of_linear (const double rgb[3], double lab[3])
{
  double X = 0.4124 * rgb[0] + 0.3576 * rgb[1] + 0.1805 * rgb[2];
  double Y = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
  double Z = 0.0193 * rgb[0] + 0.1192 * rgb[1] + 0.9505 * rgb[2];
  double fx = lab_f (X / 0.9505), fy = lab_f (Y), fz = lab_f (Z / 1.089);
  lab[0] = 116 * fy - 16;
  lab[1] = 500 * (fx - fy);
  lab[2] = 200 * (fy - fz);
}

/* Every two line colours stay apart (CIELAB ΔE ≥ 15) for normal vision
 * and under full protanopia, deuteranopia and tritanopia (Machado, Oliveira
 * and Fernandes 2009, severity 1, on linear RGB), and each has a contrast
 * of at least 2:1 against the white background. */
static void
test_qualitative (void)
{
  static const double sim[4][3][3] = {
    { { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 } },
    { { 0.152286, 1.052583, -0.204868 }, { 0.114503, 0.786281, 0.099216 },
      { -0.003882, -0.048116, 1.051998 } },
    { { 0.367322, 0.860646, -0.227968 }, { 0.280085, 0.672501, 0.047413 },
      { -0.011820, 0.042940, 0.968881 } },
    { { 1.255528, -0.076749, -0.178779 }, { -0.078411, 0.930809, 0.147602 },
      { 0.004733, 0.691367, 0.303900 } },
  };
  const int n = CS_PALETTE_N_QUALITATIVE;
  for (int v = 0; v < 4; v++)
    {
      double lab[CS_PALETTE_N_QUALITATIVE][3];
      for (int i = 0; i < n; i++)
        {
          CsRgb c = cs_palette_qualitative ((guint) i);
          double lin[3] = { to_linear (c.r), to_linear (c.g), to_linear (c.b) }, seen[3];
          for (int k = 0; k < 3; k++)
            seen[k] = CLAMP (sim[v][k][0] * lin[0] + sim[v][k][1] * lin[1]
                             + sim[v][k][2] * lin[2], 0.0, 1.0);
          lab_of_linear (seen, lab[i]);
          if (v == 0)
            {
              double y = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2];
              g_assert_cmpfloat (1.05 / (y + 0.05), >=, 2.0);
            }
        }
      for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
          {
            double d = sqrt (pow (lab[i][0] - lab[j][0], 2) + pow (lab[i][1] - lab[j][1], 2)
                             + pow (lab[i][2] - lab[j][2], 2));
            if (d < 15.0)
              g_error ("colours %d and %d are %.1f apart in vision %d", i, j, d, v);
          }
    }
  /* then again from the start */
  CsRgb a = cs_palette_qualitative (1), b = cs_palette_qualitative (1 + n);
  assert_rgb (b, a.r, a.g, a.b);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/app/palette/ends", test_ends_and_middle);
  g_test_add_func ("/app/palette/monotone", test_monotone_lightness);
  g_test_add_func ("/app/palette/legend", test_legend_pixels);
  g_test_add_func ("/app/palette/qualitative", test_qualitative);
  return g_test_run ();
}
