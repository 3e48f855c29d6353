/* cs-grid.c — heat-map grids of numbers, the drawing the views share */
#include "cs-grid.h"
#include "cs-worked-text.h"

#include <gdk/gdkkeysyms.h>
#include <math.h>
#include <string.h>

#define FONT_FAMILY "Sans"

/* Numbers smaller than this many pixels are not written. */
#define MIN_CELL_FONT 6.0

static PangoContext *
text_context (void)
{
  static PangoContext *context;

  if (context == NULL)
    {
      PangoFontMap *map = pango_cairo_font_map_get_default ();
      cairo_font_options_t *options = cairo_font_options_create ();

      context = pango_font_map_create_context (map);
      /* Unhinted metrics: a layout measures the same at every size and on
       * every surface, so hit-testing agrees with the drawing. */
      cairo_font_options_set_hint_metrics (options, CAIRO_HINT_METRICS_OFF);
      cairo_font_options_set_hint_style (options, CAIRO_HINT_STYLE_NONE);
      cairo_font_options_set_antialias (options, CAIRO_ANTIALIAS_GRAY);
      pango_cairo_context_set_font_options (context, options);
      pango_cairo_context_set_resolution (context, 96.0);
      pango_context_set_round_glyph_positions (context, FALSE);
      cairo_font_options_destroy (options);
    }
  return context;
}

PangoLayout *
cs_grid_layout_new (const char *text, double size, gboolean bold)
{
  PangoLayout *layout = pango_layout_new (text_context ());
  PangoFontDescription *font = pango_font_description_from_string (FONT_FAMILY);

  pango_font_description_set_absolute_size (font, MAX (size, 1.0) * PANGO_SCALE);
  if (bold)
    pango_font_description_set_weight (font, PANGO_WEIGHT_BOLD);
  pango_layout_set_font_description (layout, font);
  pango_layout_set_text (layout, text, -1);
  pango_font_description_free (font);
  return layout;
}

/* The layouts of the short texts drawn again and again (labels, tick
 * numbers, a batch's 64 captions five times a second while training
 * plays): laid out once and kept, keyed by text, size and weight. A layout
 * of the shared context does not depend on the surface it is drawn on.
 * At most TEXT_CACHE_MAX; when full it starts afresh. Main thread only,
 * like the context. */
#define TEXT_CACHE_MAX 2048
#define TEXT_CACHE_LONGEST 128

static PangoLayout *
cached_layout (const char *text, double size, gboolean bold)
{
  static GHashTable *cache;
  if (strlen (text) > TEXT_CACHE_LONGEST)
    return cs_grid_layout_new (text, size, bold);
  if (cache == NULL)
    cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  char key[TEXT_CACHE_LONGEST + 48];
  g_snprintf (key, sizeof key, "%d %a %s", bold ? 1 : 0, size, text);
  PangoLayout *layout = g_hash_table_lookup (cache, key);
  if (layout == NULL)
    {
      if (g_hash_table_size (cache) >= TEXT_CACHE_MAX)
        g_hash_table_remove_all (cache);
      layout = cs_grid_layout_new (text, size, bold);
      g_hash_table_insert (cache, g_strdup (key), layout);
    }
  return g_object_ref (layout);
}

void
cs_grid_text_extents (const char *text, double size, gboolean bold, double *width,
                      double *height)
{
  PangoLayout *layout = cached_layout (text, size, bold);
  PangoRectangle logical;

  pango_layout_get_extents (layout, NULL, &logical);
  if (width != NULL)
    *width = (double) logical.width / PANGO_SCALE;
  if (height != NULL)
    *height = (double) logical.height / PANGO_SCALE;
  g_object_unref (layout);
}

void
cs_grid_draw_layout (cairo_t *cr, PangoLayout *layout, double x, double y, CsRgb color)
{
  cairo_save (cr);
  cs_palette_set_source (cr, color);
  cairo_move_to (cr, x, y);
  pango_cairo_show_layout (cr, layout);
  cairo_restore (cr);
}

void
cs_grid_draw_text (cairo_t *cr, const char *text, double size, gboolean bold, double x,
                   double y, double ax, double ay, CsRgb color)
{
  PangoLayout *layout = cached_layout (text, size, bold);
  PangoRectangle logical;

  pango_layout_get_extents (layout, NULL, &logical);
  cs_grid_draw_layout (cr, layout, x - ax * logical.width / PANGO_SCALE,
                       y - ay * logical.height / PANGO_SCALE, color);
  g_object_unref (layout);
}

double
cs_grid_mark_width (double cell)
{
  /* thicker for a projector, but still clear of the number */
  return MAX (2.0, round (cell * (cs_style_get_presentation () ? 0.08 : 0.06)));
}

static double
side (const cairo_rectangle_t *r)
{
  return MIN (r->width, r->height);
}

static void
cell_border (cairo_t *cr, const cairo_rectangle_t *r)
{
  double lw = MAX (1.0, side (r) / 60.0) * cs_style_line ();

  cairo_set_source_rgb (cr, 0.55, 0.55, 0.55);
  cairo_set_line_width (cr, lw);
  cairo_rectangle (cr, r->x + lw / 2, r->y + lw / 2, r->width - lw, r->height - lw);
  cairo_stroke (cr);
}

/* Writes text centred in r, shrunk to fit the middle 60% of its width, or
 * if that makes it much smaller than the cell, the middle 78%. FALSE when
 * it would be too small to read, and then writes nothing. */
static gboolean
cell_text (cairo_t *cr, const cairo_rectangle_t *r, const char *text, CsRgb color,
           gboolean italic)
{
  double full = side (r) * (cs_style_get_presentation () ? 0.44 : 0.36), size = full, w, h;

  if (full < MIN_CELL_FONT)
    return FALSE;  /* (without measuring: a big grid has thousands of cells) */
  cs_grid_text_extents (text, full, FALSE, &w, &h);
  if (w > r->width * 0.6)
    size = full * r->width * 0.6 / w;
  if (size < side (r) * 0.26)
    size = MIN (full, full * r->width * 0.78 / w);
  if (size < MIN_CELL_FONT)
    return FALSE;

  PangoLayout *layout = cs_grid_layout_new (text, size, FALSE);
  if (italic)
    {
      PangoFontDescription *font = pango_font_description_copy (
        pango_layout_get_font_description (layout));
      pango_font_description_set_style (font, PANGO_STYLE_ITALIC);
      pango_layout_set_font_description (layout, font);
      pango_font_description_free (font);
    }
  PangoRectangle logical;
  pango_layout_get_extents (layout, NULL, &logical);
  cs_grid_draw_layout (cr, layout,
                       r->x + (r->width - (double) logical.width / PANGO_SCALE) / 2,
                       r->y + (r->height - (double) logical.height / PANGO_SCALE) / 2, color);
  g_object_unref (layout);
  return TRUE;
}

/* value to digits significant digits, with a real minus sign */
static char *
short_number (double value, int digits)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE], format[8];

  g_snprintf (format, sizeof format, "%%.%dg", digits);
  g_ascii_formatd (buf, sizeof buf, format, value + 0.0);
  if (buf[0] == '-')
    return g_strconcat ("\xe2\x88\x92", buf + 1, NULL);
  return g_strdup (buf);
}

void
cs_grid_draw_value (cairo_t *cr, const cairo_rectangle_t *r, CsPaletteKind kind,
                    double limit, double value)
{
  CsRgb fill = cs_palette_color (kind, cs_palette_normalize (kind, value, limit));
  CsRgb ink = cs_palette_text_on (fill);
  g_autofree char *text = cs_worked_text_number (value);

  cairo_save (cr);
  cs_palette_set_source (cr, fill);
  cairo_rectangle (cr, r->x, r->y, r->width, r->height);
  cairo_fill (cr);
  cell_border (cr, r);
  /* the exact number, or if it does not fit, fewer digits of it */
  for (int digits = 3; !cell_text (cr, r, text, ink, FALSE) && digits >= 2; digits--)
    {
      g_free (text);
      text = short_number (value, digits);
    }
  cairo_restore (cr);
}

void
cs_grid_draw_padding (cairo_t *cr, const cairo_rectangle_t *r, const char *text)
{
  double lw = MAX (1.0, side (r) / 40.0);
  double dash[] = { 3 * lw, 2 * lw };

  cairo_save (cr);
  cs_palette_set_source (cr, CS_GRID_PADDING);
  cairo_rectangle (cr, r->x, r->y, r->width, r->height);
  cairo_fill (cr);
  cairo_set_source_rgb (cr, 0.45, 0.45, 0.45);
  cairo_set_line_width (cr, lw);
  cairo_set_dash (cr, dash, G_N_ELEMENTS (dash), 0);
  cairo_rectangle (cr, r->x + 1.5 * lw, r->y + 1.5 * lw, r->width - 3 * lw,
                   r->height - 3 * lw);
  cairo_stroke (cr);
  cairo_set_dash (cr, NULL, 0, 0);
  if (text != NULL)
    cell_text (cr, r, text, CS_GRID_INK_DIM, TRUE);
  cairo_restore (cr);
}

static void
inset_rect (cairo_t *cr, const cairo_rectangle_t *r, double inset)
{
  cairo_rectangle (cr, r->x + inset, r->y + inset, r->width - 2 * inset,
                   r->height - 2 * inset);
}

void
cs_grid_draw_mark (cairo_t *cr, const cairo_rectangle_t *r, CsGridMark mark)
{
  double w = cs_grid_mark_width (side (r));

  cairo_save (cr);
  switch (mark)
    {
    case CS_GRID_MARK_WINDOW:
      cs_palette_set_source (cr, CS_GRID_WINDOW);
      cairo_set_line_width (cr, w);
      inset_rect (cr, r, w / 2);
      cairo_stroke (cr);
      cairo_set_source_rgb (cr, 1, 1, 1);
      cairo_set_line_width (cr, w / 2);
      inset_rect (cr, r, 1.25 * w);
      cairo_stroke (cr);
      break;
    case CS_GRID_MARK_HOVER:
      {
        double dash[] = { 1.5 * w, w };
        cs_palette_set_source (cr, CS_GRID_WINDOW);
        cairo_set_line_width (cr, 0.6 * w);
        cairo_set_dash (cr, dash, G_N_ELEMENTS (dash), 0);
        inset_rect (cr, r, 0.3 * w);
        cairo_stroke (cr);
      }
      break;
    case CS_GRID_MARK_WINNER:
      cs_palette_set_source (cr, CS_GRID_WINNER);
      cairo_set_line_width (cr, 1.5 * w);
      inset_rect (cr, r, 2.25 * w);
      cairo_stroke (cr);
      break;
    default:
      g_assert_not_reached ();
    }
  cairo_restore (cr);
}

void
cs_grid_draw_tag (cairo_t *cr, const cairo_rectangle_t *r, const char *text, double align,
                  CsRgb ink, const CsRgb *box)
{
  /* A boxed tag sits on the window's lines at the bottom edge, below the
   * number (whose ink ends at about 64% of the cell's height). */
  double s = side (r), size = s * (box != NULL ? 0.17 : 0.19), w, h;
  double margin = cs_grid_mark_width (s) * (box != NULL ? 1.5 : 1.6);

  if (size < MIN_CELL_FONT)
    return;
  cs_grid_text_extents (text, size, box != NULL, &w, &h);
  double pad = size * 0.25;
  double x = r->x + (r->width - w) * align, y = r->y + r->height - margin - h;
  if (align >= 1.0)
    x -= margin;
  cairo_save (cr);
  if (box != NULL)
    {
      x = CLAMP (x, r->x + margin + pad, r->x + r->width - margin - pad - w);
      cs_palette_set_source (cr, *box);
      cairo_rectangle (cr, x - pad, y, w + 2 * pad, h);
      cairo_fill (cr);
    }
  cs_grid_draw_text (cr, text, size, box != NULL, x, y, 0, 0, ink);
  cairo_restore (cr);
}

double
cs_grid_limit (const float *values, int n)
{
  double limit = 0.0;

  for (int i = 0; i < n; i++)
    if (isfinite (values[i]))
      limit = MAX (limit, fabs (values[i]));
  return limit > 0.0 ? limit : 1.0;
}

void
cs_grid_step (int rows, int cols, int delta, int *row, int *col)
{
  int n = rows * cols;

  g_return_if_fail (row != NULL && col != NULL);
  if (n <= 0)
    return;
  int i = CLAMP (*row, 0, rows - 1) * cols + CLAMP (*col, 0, cols - 1);
  i = ((i + delta) % n + n) % n;
  *row = i / cols;
  *col = i % cols;
}

gboolean
cs_grid_step_key (guint keyval, int rows, int cols, int *row, int *col)
{
  g_return_val_if_fail (row != NULL && col != NULL, FALSE);

  switch (keyval)
    {
    case GDK_KEY_Left:
    case GDK_KEY_KP_Left:
      cs_grid_step (rows, cols, -1, row, col);
      return TRUE;
    case GDK_KEY_Right:
    case GDK_KEY_KP_Right:
      cs_grid_step (rows, cols, 1, row, col);
      return TRUE;
    case GDK_KEY_Up:
    case GDK_KEY_KP_Up:
      *row = MAX (*row - 1, 0);
      return TRUE;
    case GDK_KEY_Down:
    case GDK_KEY_KP_Down:
      *row = MIN (*row + 1, MAX (rows - 1, 0));
      return TRUE;
    case GDK_KEY_Home:
    case GDK_KEY_KP_Home:
      *row = *col = 0;
      return TRUE;
    case GDK_KEY_End:
    case GDK_KEY_KP_End:
      *row = MAX (rows - 1, 0);
      *col = MAX (cols - 1, 0);
      return TRUE;
    default:
      return FALSE;
    }
}
