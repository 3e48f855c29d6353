/* cs-palette.c — heat-map colours and legends */
#include "cs-palette.h"
#include "cs-style.h"

#include <math.h>
#include <pango/pangocairo.h>

/* ColorBrewer RdBu (11 classes), from −1 (blue) to +1 (red). */
static const guint32 diverging[] = {
  0x053061, 0x2166ac, 0x4393c3, 0x92c5de, 0xd1e5f0, 0xf7f7f7,
  0xfddbc7, 0xf4a582, 0xd6604d, 0xb2182b, 0x67001f,
};

/* ColorBrewer BuPu (9 classes) with white first, from 0 to 1. */
static const guint32 sequential[] = {
  0xffffff, 0xe0ecf4, 0xbfd3e6, 0x9ebcda, 0x8c96c6,
  0x8c6bb1, 0x88419d, 0x810f7c, 0x4d004b,
};

/* Okabe & Ito's palette for colour-blind readers, without its yellow:
 * blue, vermillion, bluish green, reddish purple, orange, sky blue, black. */
static const guint32 qualitative[CS_PALETTE_N_QUALITATIVE] = {
  0x0072b2, 0xd55e00, 0x009e73, 0xcc79a7, 0xe69f00, 0x56b4e9, 0x000000,
};

static CsRgb
unpack (guint32 c)
{
  return (CsRgb) { ((c >> 16) & 0xff) / 255.0, ((c >> 8) & 0xff) / 255.0, (c & 0xff) / 255.0 };
}

static CsRgb
interpolate (const guint32 *stops, int n, double u /* 0 … 1 */)
{
  double pos = CLAMP (u, 0.0, 1.0) * (n - 1);
  int i = MIN ((int) pos, n - 2);
  double f = pos - i;
  CsRgb a = unpack (stops[i]), b = unpack (stops[i + 1]);
  return (CsRgb) { a.r + f * (b.r - a.r), a.g + f * (b.g - a.g), a.b + f * (b.b - a.b) };
}

CsRgb
cs_palette_color (CsPaletteKind kind, double t)
{
  if (isnan (t))
    return (CsRgb) { 0.5, 0.5, 0.5 };
  if (kind == CS_PALETTE_DIVERGING)
    return interpolate (diverging, G_N_ELEMENTS (diverging), (CLAMP (t, -1.0, 1.0) + 1.0) / 2.0);
  return interpolate (sequential, G_N_ELEMENTS (sequential), CLAMP (t, 0.0, 1.0));
}

CsRgb
cs_palette_qualitative (guint i)
{
  return unpack (qualitative[i % CS_PALETTE_N_QUALITATIVE]);
}

double
cs_palette_normalize (CsPaletteKind kind, double value, double limit)
{
  if (!(limit > 0.0))
    return 0.0;
  double t = value / limit;
  return kind == CS_PALETTE_DIVERGING ? CLAMP (t, -1.0, 1.0) : CLAMP (t, 0.0, 1.0);
}

CsRgb
cs_palette_text_on (CsRgb bg)
{
  /* relative luminance, sRGB weights */
  double y = 0.2126 * bg.r + 0.7152 * bg.g + 0.0722 * bg.b;
  return y > 0.45 ? (CsRgb) { 0, 0, 0 } : (CsRgb) { 1, 1, 1 };
}

void
cs_palette_set_source (cairo_t *cr, CsRgb c)
{
  cairo_set_source_rgb (cr, c.r, c.g, c.b);
}

static void
show_text (cairo_t *cr, const char *text, double x, double y, double size, double align)
{
  PangoLayout *layout = pango_cairo_create_layout (cr);
  PangoFontDescription *font = pango_font_description_from_string ("Sans");
  pango_font_description_set_absolute_size (font, size * PANGO_SCALE);
  pango_layout_set_font_description (layout, font);
  pango_layout_set_text (layout, text, -1);
  int w, h;
  pango_layout_get_pixel_size (layout, &w, &h);
  cairo_move_to (cr, x - align * w, y);
  pango_cairo_show_layout (cr, layout);
  pango_font_description_free (font);
  g_object_unref (layout);
}

void
cs_palette_draw_legend (cairo_t      *cr,
                        CsPaletteKind kind,
                        double        limit,
                        const char   *caption,
                        double        x,
                        double        y,
                        double        width,
                        double        height)
{
  const int steps = 64;
  double lo = kind == CS_PALETTE_DIVERGING ? -1.0 : 0.0;

  cairo_save (cr);
  for (int i = 0; i < steps; i++)
    {
      double t = lo + (1.0 - lo) * (i + 0.5) / steps;
      cs_palette_set_source (cr, cs_palette_color (kind, t));
      cairo_rectangle (cr, x + width * i / steps, y, width / steps + 0.5, height);
      cairo_fill (cr);
    }
  cairo_set_source_rgb (cr, 0.3, 0.3, 0.3);
  cairo_set_line_width (cr, 1.0 * cs_style_line ());
  cairo_rectangle (cr, x + 0.5, y + 0.5, width - 1.0, height - 1.0);
  cairo_stroke (cr);

  double size = MAX (9.0, height * 0.8);
  char lo_text[32], mid_text[32], hi_text[32];
  g_snprintf (lo_text, sizeof lo_text, "%.3g", kind == CS_PALETTE_DIVERGING ? -limit : 0.0);
  g_snprintf (mid_text, sizeof mid_text, "%.3g", kind == CS_PALETTE_DIVERGING ? 0.0 : limit / 2);
  g_snprintf (hi_text, sizeof hi_text, "%.3g", limit);
  cairo_set_source_rgb (cr, 0.15, 0.15, 0.15);
  show_text (cr, lo_text, x, y + height + 2, size, 0.0);
  show_text (cr, mid_text, x + width / 2, y + height + 2, size, 0.5);
  show_text (cr, hi_text, x + width, y + height + 2, size, 1.0);
  if (caption != NULL)
    show_text (cr, caption, x - 6, y + (height - size * 1.2) / 2, size, 1.0);
  cairo_restore (cr);
}
