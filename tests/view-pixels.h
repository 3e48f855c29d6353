/* view-pixels.h — reading the pixels of a view drawn on an image surface
 *
 * Shared by the view tests: cairo's ARGB32 pixels are native-endian
 * 0xAARRGGBB words; colours are compared as 8-bit channels within a small
 * tolerance (cairo rounds, and nothing here is antialiased where we look).
 */
#pragma once

#include <cairo.h>
#include <glib.h>
#include <math.h>

#include "app/views/cs-palette.h"

/* Set CS_TEST_PNG_DIR to keep what the tests drew, for a look. */
static inline void
view_save (cairo_surface_t *surface, const char *name)
{
  const char *dir = g_getenv ("CS_TEST_PNG_DIR");

  if (dir == NULL)
    return;
  g_autofree char *path = g_build_filename (dir, name, NULL);
  cairo_surface_write_to_png (surface, path);
}

static inline guint32
view_pixel (cairo_surface_t *surface, int x, int y)
{
  const guint8 *data = cairo_image_surface_get_data (surface);
  int stride = cairo_image_surface_get_stride (surface);

  g_assert_cmpint (x, >=, 0);
  g_assert_cmpint (y, >=, 0);
  g_assert_cmpint (x, <, cairo_image_surface_get_width (surface));
  g_assert_cmpint (y, <, cairo_image_surface_get_height (surface));
  return *(const guint32 *) (data + (gsize) y * stride + (gsize) x * 4);
}

static inline gboolean
view_pixel_is (guint32 px, CsRgb c, int tolerance)
{
  int r = (px >> 16) & 0xff, g = (px >> 8) & 0xff, b = px & 0xff;

  return abs (r - (int) lround (c.r * 255)) <= tolerance
         && abs (g - (int) lround (c.g * 255)) <= tolerance
         && abs (b - (int) lround (c.b * 255)) <= tolerance;
}

static inline char *
view_pixel_string (guint32 px)
{
  return g_strdup_printf ("#%06x", px & 0xffffff);
}

/* Every pixel of (x0, y0) … (x1, y1), device units, rounded inwards, is c. */
static inline void
view_assert_area (cairo_surface_t *surface, double x0, double y0, double x1, double y1,
                  CsRgb c, const char *what)
{
  int n = 0;

  for (int y = (int) ceil (y0); y < (int) floor (y1); y++)
    for (int x = (int) ceil (x0); x < (int) floor (x1); x++)
      {
        guint32 px = view_pixel (surface, x, y);
        if (!view_pixel_is (px, c, 2))
          {
            g_autofree char *got = view_pixel_string (px);
            g_test_message ("%s: pixel (%d, %d) is %s, expected #%02x%02x%02x", what, x, y,
                            got, (int) lround (c.r * 255), (int) lround (c.g * 255),
                            (int) lround (c.b * 255));
            g_test_fail ();
            return;
          }
        n++;
      }
  g_assert_cmpint (n, >, 20);
}

/* How many pixels of the area differ from c by more than the tolerance. */
static inline int
view_count_other (cairo_surface_t *surface, double x0, double y0, double x1, double y1,
                  CsRgb c)
{
  int n = 0;

  for (int y = (int) ceil (y0); y < (int) floor (y1); y++)
    for (int x = (int) ceil (x0); x < (int) floor (x1); x++)
      n += !view_pixel_is (view_pixel (surface, x, y), c, 24);
  return n;
}

/* The top band of a cell, clear of its border, its marks (the outer 20%) and
 * its number (the middle). */
static inline void
view_cell_band (const cairo_rectangle_t *r, double *x0, double *y0, double *x1, double *y1)
{
  *x0 = r->x + 0.3 * r->width;
  *x1 = r->x + 0.7 * r->width;
  *y0 = r->y + 0.22 * r->height;
  *y1 = r->y + 0.29 * r->height;
}
