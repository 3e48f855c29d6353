/* cs-draw-view.c — the Draw view: canvas, the network's input, probabilities */
#include "cs-draw-view.h"

#include "cs-palette.h"
#include "cs-style.h"

#include <glib/gi18n.h>
#include <inttypes.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <string.h>

/* Colours that are not heat maps */
#define INK_RGB 0.0, 0.0, 0.0
#define TEXT_RGB 0.13, 0.13, 0.15
/* captions and axes: in full ink for a projector (cs-style.h) */
#define DIM_V (cs_style_high_contrast () ? 0.13 : 0.40)
#define DIM_RGB DIM_V, DIM_V, DIM_V
#define FRAME_V (cs_style_high_contrast () ? 0.25 : 0.60)
#define FRAME_RGB FRAME_V, FRAME_V, FRAME_V
#define TRACK_RGB 0.925, 0.925, 0.93
/* The crop box and centre of mass: an orange that stands apart from the
 * blue-purple palette for every common form of colour blindness. */
#define ACCENT_RGB 0.90, 0.38, 0.0
#define WARN_RGB 0.75, 0.11, 0.16

/* ------------------------------------------------------------------ */
/* The state and its picture: no widget, no display                    */
/* ------------------------------------------------------------------ */

void
cs_draw_view_state_init (CsDrawViewState *state)
{
  g_return_if_fail (state != NULL);

  memset (state, 0, sizeof *state);
  state->strokes = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  state->brush = CS_DRAW_VIEW_BRUSH;
  state->prediction.empty = TRUE;
  state->prediction.predicted = -1;
  state->prediction.training_step = -1;
}

void
cs_draw_view_state_clear (CsDrawViewState *state)
{
  g_return_if_fail (state != NULL);

  g_clear_pointer (&state->strokes, g_ptr_array_unref);
  g_clear_pointer (&state->image, g_free);
  g_clear_pointer (&state->caption, g_free);
}

void
cs_draw_view_state_set_image (CsDrawViewState *state, const float *image, const char *caption)
{
  g_return_if_fail (state != NULL);

  g_clear_pointer (&state->image, g_free);
  g_clear_pointer (&state->caption, g_free);
  if (image != NULL)
    {
      state->image = g_memdup2 (image, CS_SESSION_PIXELS * sizeof (float));
      state->caption = g_strdup (caption);
    }
}

/* The loaded image as a 28 × 28 mask of its ink (A8), to paint through;
 * NULL without one. */
static cairo_surface_t *
image_mask (const CsDrawViewState *state)
{
  if (state->image == NULL)
    return NULL;
  cairo_surface_t *mask = cairo_image_surface_create (CAIRO_FORMAT_A8, CS_SESSION_SIDE,
                                                      CS_SESSION_SIDE);
  cairo_surface_flush (mask);
  guint8 *data = cairo_image_surface_get_data (mask);
  int stride = cairo_image_surface_get_stride (mask);
  for (int y = 0; y < CS_SESSION_SIDE; y++)
    for (int x = 0; x < CS_SESSION_SIDE; x++)
      data[y * stride + x] = (guint8) lround (255.0 * CLAMP (state->image[y * CS_SESSION_SIDE + x],
                                                             0.0f, 1.0f));
  cairo_surface_mark_dirty (mask);
  return mask;
}

/* The image's ink in the current source over the square (x, y, side):
 * filter NEAREST shows its pixels, BILINEAR smooths them. */
static void
paint_image (cairo_t *cr, const CsDrawViewState *state, double x, double y, double side,
             cairo_filter_t filter)
{
  cairo_surface_t *mask = image_mask (state);
  if (mask == NULL)
    return;
  cairo_save (cr);
  cairo_rectangle (cr, x, y, side, side);
  cairo_clip (cr);
  cairo_translate (cr, x, y);
  cairo_scale (cr, side / CS_SESSION_SIDE, side / CS_SESSION_SIDE);
  cairo_pattern_t *pattern = cairo_pattern_create_for_surface (mask);
  cairo_pattern_set_filter (pattern, filter);
  cairo_mask (cr, pattern);
  cairo_pattern_destroy (pattern);
  cairo_restore (cr);
  cairo_surface_destroy (mask);
}

void
cs_draw_view_state_begin_stroke (CsDrawViewState *state, double x, double y)
{
  g_return_if_fail (state != NULL && state->strokes != NULL);

  GArray *stroke = g_array_new (FALSE, FALSE, sizeof (CsDrawPoint));
  g_ptr_array_add (state->strokes, stroke);
  cs_draw_view_state_add_point (state, x, y);
}

void
cs_draw_view_state_add_point (CsDrawViewState *state, double x, double y)
{
  g_return_if_fail (state != NULL && state->strokes != NULL);
  g_return_if_fail (state->strokes->len > 0);

  GArray *stroke = g_ptr_array_index (state->strokes, state->strokes->len - 1);
  CsDrawPoint p = { CLAMP (x, -0.5, 1.5), CLAMP (y, -0.5, 1.5) };
  if (stroke->len > 0)
    {
      const CsDrawPoint *last = &g_array_index (stroke, CsDrawPoint, stroke->len - 1);
      if (last->x == p.x && last->y == p.y)
        return;
    }
  g_array_append_val (stroke, p);
}

/* The strokes as a path in the square (x, y, side): round caps and joins,
 * a single point a dot. */
static void
strokes_path (cairo_t *cr, const CsDrawViewState *state, double x, double y, double side)
{
  for (guint s = 0; s < state->strokes->len; s++)
    {
      GArray *stroke = g_ptr_array_index (state->strokes, s);
      for (guint i = 0; i < stroke->len; i++)
        {
          const CsDrawPoint *p = &g_array_index (stroke, CsDrawPoint, i);
          if (i == 0)
            cairo_move_to (cr, x + p->x * side, y + p->y * side);
          cairo_line_to (cr, x + p->x * side, y + p->y * side);
        }
    }
}

static void
stroke_ink (cairo_t *cr, const CsDrawViewState *state, double x, double y, double side)
{
  cairo_save (cr);
  cairo_rectangle (cr, x, y, side, side);
  cairo_clip (cr);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_width (cr, state->brush * side);
  strokes_path (cr, state, x, y, side);
  cairo_stroke (cr);
  cairo_restore (cr);
}

void
cs_draw_view_state_rasterize (const CsDrawViewState *state, float *gray, int side)
{
  g_return_if_fail (state != NULL && state->strokes != NULL);
  g_return_if_fail (gray != NULL && side > 0);

  /* A8: the ink's coverage, 0 … 255 */
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_A8, side, side);
  cairo_t *cr = cairo_create (surface);
  cairo_set_source_rgba (cr, 0, 0, 0, 1);
  paint_image (cr, state, 0, 0, side, CAIRO_FILTER_BILINEAR);
  stroke_ink (cr, state, 0, 0, side);
  cairo_destroy (cr);
  cairo_surface_flush (surface);

  const guint8 *data = cairo_image_surface_get_data (surface);
  int stride = cairo_image_surface_get_stride (surface);
  for (int y = 0; y < side; y++)
    for (int x = 0; x < side; x++)
      gray[y * side + x] = 1.0f - data[y * stride + x] / 255.0f;
  cairo_surface_destroy (surface);
}

void
cs_draw_view_layout (int width, int height, CsDrawViewLayout *l)
{
  g_return_if_fail (l != NULL);

  double W = MAX (width, 1), H = MAX (height, 1);
  double f = CLAMP (MIN (W / 95.0, H / 48.0), 9.0, 22.0) * cs_style_type ();
  double m = CLAMP (MIN (W, H) * 0.035, 8.0, 40.0);
  double title = f * 2.4;     /* a panel's title, above it */
  double below = f * 4.6;     /* under the squares: hints, the legend, the formula */
  double gap = f * 4.2;       /* between the panels: the arrow and its words */
  double column = f * 23.0;   /* the probabilities at their narrowest */

  double side = MIN (H - 2 * m - title - below, (W - 2 * m - 2 * gap - column) / 2);
  side = MAX (side, 56.0);
  double cw = CLAMP (W - 2 * m - 2 * gap - 2 * side, column, MAX (column, side * 1.3));
  double total = 2 * side + 2 * gap + cw;
  double x0 = MAX (m, (W - total) / 2);
  /* a little above the middle: the eye starts at the top */
  double y0 = MAX (m, (H - (title + side + below)) * 0.4) + title;

  l->font = f;
  l->canvas = (CsDrawRect) { x0, y0, side, side };
  l->grid = (CsDrawRect) { x0 + side + gap, y0, side, side };
  l->legend = (CsDrawRect) { l->grid.x + f * 2.6, y0 + side + f * 0.8, side - f * 2.6, f * 0.9 };

  double cx = l->grid.x + side + gap;
  l->digit = (CsDrawRect) { cx, y0, cw, side * 0.26 };
  double label = f * 1.8, texts = f * 10.5;
  double top = y0 + side * 0.32;
  l->bars = (CsDrawRect) { cx + label, top, MAX (cw - label - texts, f * 4), y0 + side - top };
}

/* Text with its top (valign 0), middle (0.5) or bottom (1) at y and its
 * left (align 0), centre or right at x; Pango markup. */
static void
show_in (cairo_t *cr, const char *markup, double x, double y, double size, gboolean bold,
         double align, double valign, double max_width)
{
  PangoLayout *layout = pango_cairo_create_layout (cr);
  PangoFontDescription *font = pango_font_description_from_string ("Sans");
  pango_font_description_set_absolute_size (font, size * PANGO_SCALE);
  if (bold)
    pango_font_description_set_weight (font, PANGO_WEIGHT_BOLD);
  pango_layout_set_font_description (layout, font);
  pango_layout_set_markup (layout, markup, -1);
  if (max_width > 0)
    {
      pango_layout_set_width (layout, (int) (max_width * PANGO_SCALE));
      pango_layout_set_wrap (layout, PANGO_WRAP_WORD);
    }
  int w, h;
  pango_layout_get_pixel_size (layout, &w, &h);
  cairo_move_to (cr, x - align * w, y - valign * h);
  pango_cairo_show_layout (cr, layout);
  pango_font_description_free (font);
  g_object_unref (layout);
}

static void
show (cairo_t *cr, const char *markup, double x, double y, double size, gboolean bold,
      double align, double valign)
{
  show_in (cr, markup, x, y, size, bold, align, valign, -1);
}

/* A panel's title, bottom-left at (x, y), made smaller where it would be
 * wider than max_width (presentation's larger type, a long translation) */
static void
show_title (cairo_t *cr, const char *text, double x, double y, double f, double max_width)
{
  PangoLayout *layout = pango_cairo_create_layout (cr);
  PangoFontDescription *font = pango_font_description_from_string ("Sans Bold");
  int w;

  pango_font_description_set_absolute_size (font, f * 1.2 * PANGO_SCALE);
  pango_layout_set_font_description (layout, font);
  pango_layout_set_text (layout, text, -1);
  pango_layout_get_pixel_size (layout, &w, NULL);
  pango_font_description_free (font);
  g_object_unref (layout);
  double size = f * 1.2 * (w > max_width ? max_width / w : 1.0);
  g_autofree char *markup = g_markup_escape_text (text, -1);
  show (cr, markup, x, y, size, TRUE, 0, 1);
}

static void
draw_canvas (const CsDrawViewState *state, const CsDrawViewLayout *l, cairo_t *cr)
{
  const CsDrawRect *r = &l->canvas;
  const CsPrediction *p = &state->prediction;
  double f = l->font;

  cairo_set_source_rgb (cr, TEXT_RGB);
  show_title (cr, state->image && state->caption ? state->caption : _("Your drawing"),
              r->x, r->y - f * 0.6, f, l->grid.x - r->x - f);

  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_rectangle (cr, r->x, r->y, r->width, r->height);
  cairo_fill (cr);

  cairo_set_source_rgb (cr, INK_RGB);
  paint_image (cr, state, r->x, r->y, r->width, CAIRO_FILTER_NEAREST);
  stroke_ink (cr, state, r->x, r->y, r->width);

  cairo_set_source_rgb (cr, FRAME_RGB);
  cairo_set_line_width (cr, 1 * cs_style_line ());
  cairo_rectangle (cr, r->x - 0.5, r->y - 0.5, r->width + 1, r->height + 1);
  cairo_stroke (cr);

  if (state->strokes->len == 0 && state->image == NULL)
    {
      cairo_set_source_rgb (cr, DIM_RGB);
      show (cr, _("Draw a digit here"), r->x + r->width / 2, r->y + r->height / 2, f * 1.3,
            FALSE, 0.5, 0.5);
    }
  else if (!p->empty)
    {
      /* where the preprocessing found the ink */
      double bx = r->x + p->bbox_x * r->width, by = r->y + p->bbox_y * r->height;
      double bw = p->bbox_width * r->width, bh = p->bbox_height * r->height;
      double dash[] = { 4, 3 };
      cairo_save (cr);
      cairo_set_source_rgb (cr, ACCENT_RGB);
      cairo_set_line_width (cr, 1.5 * cs_style_line ());
      cairo_set_dash (cr, dash, 2, 0);
      cairo_rectangle (cr, bx, by, bw, bh);
      cairo_stroke (cr);
      cairo_restore (cr);
      double cx = r->x + p->center_x * r->width, cy = r->y + p->center_y * r->height;
      double arm = f * 0.7;
      cairo_set_source_rgb (cr, ACCENT_RGB);
      cairo_set_line_width (cr, 2 * cs_style_line ());
      cairo_move_to (cr, cx - arm, cy);
      cairo_line_to (cr, cx + arm, cy);
      cairo_move_to (cr, cx, cy - arm);
      cairo_line_to (cr, cx, cy + arm);
      cairo_stroke (cr);
    }

  cairo_set_source_rgb (cr, DIM_RGB);
  g_autofree char *hint = g_strdup_printf ("<span foreground='#e66100'>┄</span> %s   "
                                           "<span foreground='#e66100'>+</span> %s",
                                           _("ink box"), _("centre of mass"));
  show (cr, hint, r->x, r->y + r->height + f * 0.6, f * 0.9, FALSE, 0, 0);
  show (cr, _("Ctrl+Z undoes a stroke, Delete clears"), r->x, r->y + r->height + f * 2.1,
        f * 0.9, FALSE, 0, 0);
}

static void
draw_arrow (const CsDrawViewState *state, const CsDrawViewLayout *l, cairo_t *cr)
{
  double f = l->font;
  double x1 = l->canvas.x + l->canvas.width + f * 0.8, x2 = l->grid.x - f * 0.8;
  double y = l->canvas.y + l->canvas.height / 2;

  cairo_set_source_rgb (cr, DIM_RGB);
  cairo_set_line_width (cr, 2 * cs_style_line ());
  cairo_move_to (cr, x1, y);
  cairo_line_to (cr, x2 - f * 0.3, y);
  cairo_stroke (cr);
  cairo_move_to (cr, x2, y);
  cairo_line_to (cr, x2 - f * 0.8, y - f * 0.45);
  cairo_line_to (cr, x2 - f * 0.8, y + f * 0.45);
  cairo_close_path (cr);
  cairo_fill (cr);

  double mid = (x1 + x2) / 2;
  /* a loaded picture alone is fed as it is */
  show (cr, state->image != NULL && state->strokes->len == 0 ? _("as it is") : _("crop,\nscale,\ncentre"),
        mid, y - f * 0.5, f * 0.85, FALSE, 0.5, 1);
}

static void
draw_grid (const CsDrawViewState *state, const CsDrawViewLayout *l, cairo_t *cr)
{
  const CsDrawRect *r = &l->grid;
  const float *v = state->prediction.input;
  double f = l->font;
  double cell = r->width / CS_SESSION_SIDE;

  cairo_set_source_rgb (cr, TEXT_RGB);
  show_title (cr, _("What the network sees: 28 × 28"), r->x, r->y - f * 0.6, f,
              l->digit.x - r->x - f);

  /* cells edge to edge, without antialiasing seams between them */
  cairo_save (cr);
  cairo_set_antialias (cr, CAIRO_ANTIALIAS_NONE);
  for (int y = 0; y < CS_SESSION_SIDE; y++)
    for (int x = 0; x < CS_SESSION_SIDE; x++)
      {
        double x0 = round (r->x + x * cell), x1 = round (r->x + (x + 1) * cell);
        double y0 = round (r->y + y * cell), y1 = round (r->y + (y + 1) * cell);
        cs_palette_set_source (cr, cs_palette_color (CS_PALETTE_SEQUENTIAL,
                                                     v[y * CS_SESSION_SIDE + x]));
        cairo_rectangle (cr, x0, y0, x1 - x0, y1 - y0);
        cairo_fill (cr);
      }
  cairo_restore (cr);

  if (cell >= 6)
    {
      cairo_set_source_rgba (cr, 0, 0, 0, 0.07);
      cairo_set_line_width (cr, 1 * cs_style_line ());
      for (int i = 1; i < CS_SESSION_SIDE; i++)
        {
          double x = round (r->x + i * cell) + 0.5, y = round (r->y + i * cell) + 0.5;
          cairo_move_to (cr, x, r->y);
          cairo_line_to (cr, x, r->y + r->height);
          cairo_move_to (cr, r->x, y);
          cairo_line_to (cr, r->x + r->width, y);
        }
      cairo_stroke (cr);
    }
  cairo_set_source_rgb (cr, FRAME_RGB);
  cairo_set_line_width (cr, 1 * cs_style_line ());
  cairo_rectangle (cr, r->x - 0.5, r->y - 0.5, r->width + 1, r->height + 1);
  cairo_stroke (cr);

  cs_palette_draw_legend (cr, CS_PALETTE_SEQUENTIAL, 1.0, _("ink"), l->legend.x, l->legend.y,
                          l->legend.width, l->legend.height);
}

static void
draw_probabilities (const CsDrawViewState *state, const CsDrawViewLayout *l, cairo_t *cr)
{
  const CsPrediction *p = &state->prediction;
  const CsDrawRect *d = &l->digit, *b = &l->bars;
  double f = l->font;
  char text[64];

  cairo_set_source_rgb (cr, TEXT_RGB);
  show_title (cr, _("Prediction"), d->x, d->y - f * 0.6, f, d->width);

  /* the digit, big, and how sure the network is */
  double size = d->height;
  CsRgb strong = cs_palette_color (CS_PALETTE_SEQUENTIAL, 0.85);
  if (p->predicted >= 0)
    {
      cs_palette_set_source (cr, strong);
      g_snprintf (text, sizeof text, "%d", p->predicted);
      show (cr, text, d->x, d->y + d->height / 2, size, TRUE, 0, 0.5);
      double tx = d->x + size * 0.9;
      cairo_set_source_rgb (cr, TEXT_RGB);
      g_snprintf (text, sizeof text, "%.1f%%", 100.0 * p->probs[p->predicted]);
      show (cr, text, tx, d->y + d->height * 0.5, f * 1.8, TRUE, 0, 1);
      cairo_set_source_rgb (cr, DIM_RGB);
      g_autofree char *by = g_markup_printf_escaped (_("sure, says the %s"),
                                                     state->model_title ? state->model_title : "");
      show_in (cr, by, tx, d->y + d->height * 0.5, f, FALSE, 0, 0, d->x + d->width - tx);
    }
  else
    {
      cairo_set_source_rgb (cr, FRAME_RGB);
      show (cr, "?", d->x, d->y + d->height / 2, size, TRUE, 0, 0.5);
      cairo_set_source_rgb (cr, DIM_RGB);
      show (cr, _("no ink yet"), d->x + size * 0.9, d->y + d->height / 2, f * 1.1, FALSE, 0, 0.5);
    }
  if (p->training_step >= 0)
    {
      /* the weights of the run in the Training view, as they are now */
      g_autofree char *run = g_strdup_printf (_("training: step %" PRId64), p->training_step);
      cairo_set_source_rgb (cr, DIM_RGB);
      show (cr, run, d->x + size * 0.9, d->y + f * 0.2, f, TRUE, 0, 0);
    }
  else if (!p->trained)
    {
      cairo_set_source_rgb (cr, WARN_RGB);
      show (cr, _("untrained weights"), d->x + size * 0.9, d->y + f * 0.2, f, TRUE, 0, 0);
    }

  /* the ten bars */
  double row = b->height / CS_SESSION_CLASSES;
  double pct_right = b->x + b->width + f * 4.4;
  double logit_right = b->x + b->width + f * 10.3;
  cairo_set_source_rgb (cr, DIM_RGB);
  show (cr, _("softmax"), pct_right, b->y, f * 0.8, FALSE, 1, 1);
  show (cr, _("logit"), logit_right, b->y, f * 0.8, FALSE, 1, 1);
  for (int i = 0; i < CS_SESSION_CLASSES; i++)
    {
      double y = b->y + i * row, mid = y + row / 2;
      double bh = MIN (row * 0.64, f * 1.6);
      gboolean best = i == p->predicted;

      cairo_set_source_rgb (cr, TRACK_RGB);
      cairo_rectangle (cr, b->x, mid - bh / 2, b->width, bh);
      cairo_fill (cr);
      if (p->predicted >= 0)
        {
          cs_palette_set_source (cr, best ? strong : cs_palette_color (CS_PALETTE_SEQUENTIAL, 0.45));
          cairo_rectangle (cr, b->x, mid - bh / 2, CLAMP (p->probs[i], 0.0, 1.0) * b->width, bh);
          cairo_fill (cr);
        }

      cairo_set_source_rgb (cr, best ? 0 : 0.25, best ? 0 : 0.25, best ? 0 : 0.27);
      g_snprintf (text, sizeof text, "%d", i);
      show (cr, text, b->x - f * 0.6, mid, f * 1.15, best, 1, 0.5);
      if (p->predicted >= 0)
        {
          g_snprintf (text, sizeof text, "%.1f%%", 100.0 * p->probs[i]);
          show (cr, text, pct_right, mid, f * 0.95, best, 1, 0.5);
          g_snprintf (text, sizeof text, "%+.2f", p->logits[i]);
          show (cr, text, logit_right, mid, f * 0.95, best, 1, 0.5);
        }
    }

  g_autofree char *formula = g_strdup_printf ("p<sub>i</sub> = e<sup>z<sub>i</sub></sup> / "
                                              "Σ<sub>j</sub> e<sup>z<sub>j</sub></sup>      z: %s",
                                              _("logit"));
  cairo_set_source_rgb (cr, DIM_RGB);
  show (cr, formula, b->x - f * 1.8, b->y + b->height + f * 0.8, f * 1.0, FALSE, 0, 0);
}

void
cs_draw_view_state_draw (const CsDrawViewState *state, cairo_t *cr, int width, int height)
{
  g_return_if_fail (state != NULL && state->strokes != NULL);
  g_return_if_fail (cr != NULL);

  CsDrawViewLayout l;
  cs_draw_view_layout (width, height, &l);

  cairo_save (cr);
  cairo_set_source_rgb (cr, 0.98, 0.98, 0.98);
  cairo_rectangle (cr, 0, 0, width, height);
  cairo_fill (cr);
  draw_canvas (state, &l, cr);
  draw_arrow (state, &l, cr);
  draw_grid (state, &l, cr);
  draw_probabilities (state, &l, cr);
  if (state->highlight != NULL)
    {
      const CsDrawRect *r = g_str_equal (state->highlight, "canvas") ? &l.canvas
                            : g_str_equal (state->highlight, "input") ? &l.grid
                            : NULL;
      if (r != NULL)
        cs_view_draw_highlight (cr, r->x, r->y, r->width, r->height, l.font);
      else if (g_str_equal (state->highlight, "probabilities"))
        cs_view_draw_highlight (cr, l.digit.x, l.digit.y, l.digit.width,
                                l.bars.y + l.bars.height - l.digit.y, l.font);
    }
  cairo_restore (cr);
}

/* ------------------------------------------------------------------ */
/* The widget                                                          */
/* ------------------------------------------------------------------ */

struct _CsDrawView
{
  GtkWidget        parent_instance;

  /* Owned */
  CsSession       *session;
  CsDrawViewState  state;
  GPtrArray       *undo;          /* of UndoEntry: earlier canvases */
  float           *gray;          /* (RASTER, RASTER) */
  guint            tick_id;
  double           drag_x, drag_y;  /* where the stroke began, canvas pixels */
  gboolean         drawing;         /* a stroke is being drawn */

  /* Template widgets */
  GtkWidget       *toolbar;
  GtkWidget       *prediction_label;
  GtkWidget       *overlay;
  GtkWidget       *figure;
  GtkWidget       *canvas;
};

/* A canvas as it was: its strokes and its image. */
typedef struct
{
  GPtrArray *strokes;
  float *image;
  char *caption;
} UndoEntry;

static void
undo_entry_free (gpointer data)
{
  UndoEntry *e = data;
  g_ptr_array_unref (e->strokes);
  g_free (e->image);
  g_free (e->caption);
  g_free (e);
}

static void cs_draw_view_iface_init (CsViewInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (CsDrawView, cs_draw_view, GTK_TYPE_WIDGET,
                               G_IMPLEMENT_INTERFACE (CS_TYPE_VIEW, cs_draw_view_iface_init))

enum {
  PROP_0,
  PROP_SESSION,
  PROP_MODEL,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
cs_draw_view_draw (CsView *view, cairo_t *cr, int width, int height)
{
  cs_draw_view_state_draw (&CS_DRAW_VIEW (view)->state, cr, width, height);
}

static void
cs_draw_view_iface_init (CsViewInterface *iface)
{
  static const char *const highlights[] = { "canvas", "input", "probabilities", NULL };

  iface->draw = cs_draw_view_draw;
  iface->highlights = highlights;
}

static void
on_highlight_changed (CsDrawView *self)
{
  self->state.highlight = cs_view_get_highlight (CS_VIEW (self));
}

static void
figure_draw (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer user_data)
{
  CsDrawView *self = user_data;
  cs_draw_view_state_draw (&self->state, cr, width, height);
}

/* The transparent canvas widget lies over the canvas's square in the
 * figure: it takes the pointer, and gives the canvas a place in the
 * accessibility tree. */
static gboolean
on_get_child_position (GtkOverlay   *overlay,
                       GtkWidget    *child,
                       GdkRectangle *allocation,
                       CsDrawView   *self)
{
  CsDrawViewLayout l;
  cs_draw_view_layout (gtk_widget_get_width (GTK_WIDGET (overlay)),
                       gtk_widget_get_height (GTK_WIDGET (overlay)), &l);
  allocation->x = (int) round (l.canvas.x);
  allocation->y = (int) round (l.canvas.y);
  allocation->width = (int) round (l.canvas.width);
  allocation->height = (int) round (l.canvas.height);
  return TRUE;
}

static void
update_label (CsDrawView *self)
{
  const CsPrediction *p = &self->state.prediction;
  g_autofree char *name = NULL, *text = NULL;

  if (p->predicted >= 0)
    {
      name = g_strdup_printf (_("Prediction: %d"), p->predicted);
      text = g_markup_printf_escaped (_("Prediction: <b>%d</b>, %.1f%% sure · %s in %.2f ms"),
                              p->predicted, 100.0 * p->probs[p->predicted],
                              self->state.model_title, p->forward_usec / 1000.0);
    }
  else
    {
      name = g_strdup (_("Prediction: none"));
      text = g_strdup (_("Prediction: none yet: draw a digit on the canvas"));
    }
  gtk_label_set_markup (GTK_LABEL (self->prediction_label), text);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->prediction_label),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, name, -1);
}

static void
on_prediction_changed (CsDrawView *self, CsSession *session)
{
  self->state.prediction = *cs_session_get_prediction (session);
  self->state.model_title = cs_session_get_model_title (session);
  update_label (self);
  gtk_widget_queue_draw (self->figure);
}

static void
on_model_changed (CsDrawView *self, GParamSpec *pspec, CsSession *session)
{
  self->state.model_title = cs_session_get_model_title (session);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MODEL]);
}

static void
update_actions (CsDrawView *self)
{
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "draw.undo", self->undo->len > 0);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "draw.clear",
                                 self->state.strokes->len > 0 || self->state.image != NULL);
}

/* The strokes, for the session file. */
static void
push_strokes (CsDrawView *self)
{
  GPtrArray *strokes = self->state.strokes;
  g_autoptr(GArray) xy = g_array_new (FALSE, FALSE, sizeof (double));
  g_autofree guint32 *lengths = g_new (guint32, MAX (strokes->len, 1));
  for (guint s = 0; s < strokes->len; s++)
    {
      GArray *stroke = g_ptr_array_index (strokes, s);
      lengths[s] = stroke->len;
      for (guint i = 0; i < stroke->len; i++)
        {
          const CsDrawPoint *p = &g_array_index (stroke, CsDrawPoint, i);
          g_array_append_val (xy, p->x);
          g_array_append_val (xy, p->y);
        }
    }
  cs_session_set_strokes (self->session, (const double *) xy->data, lengths, strokes->len);
}

void
cs_draw_view_predict (CsDrawView *self)
{
  g_return_if_fail (CS_IS_DRAW_VIEW (self));

  if (self->tick_id != 0)
    {
      gtk_widget_remove_tick_callback (self->canvas, self->tick_id);
      self->tick_id = 0;
    }
  if (self->state.image != NULL && self->state.strokes->len == 0)
    {
      /* the picture as it is: it is in the network's form already */
      cs_session_predict_input (self->session, self->state.image, NULL);
      return;
    }
  cs_draw_view_state_rasterize (&self->state, self->gray, CS_DRAW_VIEW_RASTER);
  push_strokes (self);
  cs_session_predict (self->session, self->gray, CS_DRAW_VIEW_RASTER, CS_DRAW_VIEW_RASTER,
                      CS_DRAW_VIEW_RASTER, NULL);
}

/* A session was opened: its strokes are the canvas now, and undo starts
 * afresh. */
static void
on_drawing_restored (CsDrawView *self, CsSession *session)
{
  const guint32 *lengths;
  guint n_strokes;
  const double *xy = cs_session_get_strokes (session, &lengths, &n_strokes);

  self->drawing = FALSE;
  g_ptr_array_set_size (self->undo, 0);
  g_ptr_array_set_size (self->state.strokes, 0);
  for (guint s = 0; s < n_strokes; s++)
    {
      GArray *stroke = g_array_sized_new (FALSE, FALSE, sizeof (CsDrawPoint), lengths[s]);
      for (guint i = 0; i < lengths[s]; i++, xy += 2)
        {
          CsDrawPoint p = { xy[0], xy[1] };
          g_array_append_val (stroke, p);
        }
      g_ptr_array_add (self->state.strokes, stroke);
    }
  update_actions (self);
  /* the same picture again: the session's input does not change, the
   * crop box and centre of mass are measured anew */
  if (n_strokes > 0)
    cs_draw_view_predict (self);
  gtk_widget_queue_draw (self->figure);
}

static gboolean
predict_tick (GtkWidget *widget, GdkFrameClock *clock, gpointer user_data)
{
  CsDrawView *self = user_data;
  self->tick_id = 0;
  cs_draw_view_predict (self);
  return G_SOURCE_REMOVE;
}

/* At most one prediction a frame while the pointer moves. */
static void
schedule_predict (CsDrawView *self)
{
  gtk_widget_queue_draw (self->figure);
  if (self->tick_id == 0)
    self->tick_id = gtk_widget_add_tick_callback (self->canvas, predict_tick, self, NULL);
}

/* Keeps the canvas as it is, for undo. */
static void
push_undo (CsDrawView *self)
{
  UndoEntry *e = g_new0 (UndoEntry, 1);
  e->strokes = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  for (guint i = 0; i < self->state.strokes->len; i++)
    g_ptr_array_add (e->strokes, g_array_ref (g_ptr_array_index (self->state.strokes, i)));
  if (self->state.image != NULL)
    e->image = g_memdup2 (self->state.image, CS_SESSION_PIXELS * sizeof (float));
  e->caption = g_strdup (self->state.caption);
  g_ptr_array_add (self->undo, e);
}

static void
on_drag_begin (GtkGestureDrag *gesture, double x, double y, CsDrawView *self)
{
  int w = gtk_widget_get_width (self->canvas), h = gtk_widget_get_height (self->canvas);
  if (w <= 0 || h <= 0)
    return;
  push_undo (self);
  self->drag_x = x;
  self->drag_y = y;
  self->drawing = TRUE;
  cs_draw_view_state_begin_stroke (&self->state, x / w, y / h);
  gtk_widget_grab_focus (self->canvas);
  update_actions (self);
  schedule_predict (self);
}

static void
on_drag_update (GtkGestureDrag *gesture, double dx, double dy, CsDrawView *self)
{
  int w = gtk_widget_get_width (self->canvas), h = gtk_widget_get_height (self->canvas);
  if (w <= 0 || h <= 0 || !self->drawing)
    return;
  cs_draw_view_state_add_point (&self->state, (self->drag_x + dx) / w, (self->drag_y + dy) / h);
  schedule_predict (self);
}

static void
on_drag_end (GtkGestureDrag *gesture, double dx, double dy, CsDrawView *self)
{
  if (!self->drawing)
    return;
  on_drag_update (gesture, dx, dy, self);
  self->drawing = FALSE;
  cs_draw_view_predict (self);
}

void
cs_draw_view_undo (CsDrawView *self)
{
  g_return_if_fail (CS_IS_DRAW_VIEW (self));

  if (self->undo->len == 0)
    return;
  self->drawing = FALSE;
  UndoEntry *e = g_ptr_array_steal_index (self->undo, self->undo->len - 1);
  g_ptr_array_unref (self->state.strokes);
  self->state.strokes = g_steal_pointer (&e->strokes);
  g_free (self->state.image);
  self->state.image = g_steal_pointer (&e->image);
  g_free (self->state.caption);
  self->state.caption = g_steal_pointer (&e->caption);
  g_free (e);
  update_actions (self);
  cs_draw_view_predict (self);
}

void
cs_draw_view_clear (CsDrawView *self)
{
  g_return_if_fail (CS_IS_DRAW_VIEW (self));

  if (self->state.strokes->len == 0 && self->state.image == NULL)
    return;
  push_undo (self);
  self->drawing = FALSE;
  g_ptr_array_set_size (self->state.strokes, 0);
  cs_draw_view_state_set_image (&self->state, NULL, NULL);
  update_actions (self);
  cs_draw_view_predict (self);
}

void
cs_draw_view_load_image (CsDrawView *self, const float *pixels, const char *caption)
{
  g_return_if_fail (CS_IS_DRAW_VIEW (self));
  g_return_if_fail (pixels != NULL);

  push_undo (self);
  self->drawing = FALSE;
  g_ptr_array_set_size (self->state.strokes, 0);
  cs_draw_view_state_set_image (&self->state, pixels, caption);
  update_actions (self);
  cs_draw_view_predict (self);
}

static void
undo_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  cs_draw_view_undo (CS_DRAW_VIEW (widget));
}

static void
clear_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  cs_draw_view_clear (CS_DRAW_VIEW (widget));
}

static void
cs_draw_view_set_session (CsDrawView *self, CsSession *session)
{
  g_assert (self->session == NULL);

  self->session = session ? g_object_ref (session) : cs_session_new ();
  g_signal_connect_object (self->session, "prediction-changed",
                           G_CALLBACK (on_prediction_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->session, "notify::model",
                           G_CALLBACK (on_model_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->session, "drawing-restored",
                           G_CALLBACK (on_drawing_restored), self, G_CONNECT_SWAPPED);
  self->state.prediction = *cs_session_get_prediction (self->session);
  self->state.model_title = cs_session_get_model_title (self->session);
  update_label (self);
}

static void
cs_draw_view_dispose (GObject *object)
{
  CsDrawView *self = (CsDrawView *) object;

  if (self->tick_id != 0)
    {
      gtk_widget_remove_tick_callback (self->canvas, self->tick_id);
      self->tick_id = 0;
    }
  gtk_widget_dispose_template (GTK_WIDGET (self), CS_TYPE_DRAW_VIEW);
  g_clear_object (&self->session);

  G_OBJECT_CLASS (cs_draw_view_parent_class)->dispose (object);
}

static void
cs_draw_view_finalize (GObject *object)
{
  CsDrawView *self = (CsDrawView *) object;

  cs_draw_view_state_clear (&self->state);
  g_clear_pointer (&self->undo, g_ptr_array_unref);
  g_clear_pointer (&self->gray, g_free);

  G_OBJECT_CLASS (cs_draw_view_parent_class)->finalize (object);
}

static void
cs_draw_view_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  CsDrawView *self = CS_DRAW_VIEW (object);

  switch (prop_id)
    {
    case PROP_SESSION:
      g_value_set_object (value, self->session);
      break;

    case PROP_MODEL:
      g_value_set_string (value, cs_session_get_model (self->session));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cs_draw_view_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  CsDrawView *self = CS_DRAW_VIEW (object);

  switch (prop_id)
    {
    case PROP_SESSION:
      cs_draw_view_set_session (self, g_value_get_object (value));
      break;

    case PROP_MODEL:
      cs_session_set_model (self->session, g_value_get_string (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cs_draw_view_class_init (CsDrawViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cs_draw_view_dispose;
  object_class->finalize = cs_draw_view_finalize;
  object_class->get_property = cs_draw_view_get_property;
  object_class->set_property = cs_draw_view_set_property;

  properties[PROP_SESSION] =
    g_param_spec_object ("session", NULL, NULL, CS_TYPE_SESSION,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  /* The session's model, for the draw.model action of the MLP / CNN buttons. */
  properties[PROP_MODEL] =
    g_param_spec_string ("model", NULL, NULL, CS_SESSION_MODEL_CNN,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/convscope/Convscope/ui/cs-draw-view.ui");
  gtk_widget_class_bind_template_child (widget_class, CsDrawView, toolbar);
  gtk_widget_class_bind_template_child (widget_class, CsDrawView, prediction_label);
  gtk_widget_class_bind_template_child (widget_class, CsDrawView, overlay);
  gtk_widget_class_bind_template_child (widget_class, CsDrawView, figure);
  gtk_widget_class_bind_template_child (widget_class, CsDrawView, canvas);
  gtk_widget_class_bind_template_callback (widget_class, on_get_child_position);
  gtk_widget_class_bind_template_callback (widget_class, on_drag_begin);
  gtk_widget_class_bind_template_callback (widget_class, on_drag_update);
  gtk_widget_class_bind_template_callback (widget_class, on_drag_end);

  gtk_widget_class_install_action (widget_class, "draw.undo", NULL, undo_action);
  gtk_widget_class_install_action (widget_class, "draw.clear", NULL, clear_action);
  gtk_widget_class_install_property_action (widget_class, "draw.model", "model");

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BOX_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "drawview");
}

static void
cs_draw_view_init (CsDrawView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  cs_draw_view_state_init (&self->state);
  g_signal_connect (self, "highlight-changed", G_CALLBACK (on_highlight_changed), NULL);
  self->undo = g_ptr_array_new_with_free_func (undo_entry_free);
  self->gray = g_new (float, CS_DRAW_VIEW_RASTER * CS_DRAW_VIEW_RASTER);

  gtk_orientable_set_orientation (GTK_ORIENTABLE (gtk_widget_get_layout_manager (GTK_WIDGET (self))),
                                  GTK_ORIENTATION_VERTICAL);
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (self->figure), figure_draw, self, NULL);
  gtk_widget_set_cursor_from_name (self->canvas, "crosshair");

  /* Undo and clear wherever the focus is while the view is shown. */
  GtkEventController *shortcuts = gtk_shortcut_controller_new ();
  gtk_shortcut_controller_set_scope (GTK_SHORTCUT_CONTROLLER (shortcuts),
                                     GTK_SHORTCUT_SCOPE_MANAGED);
  gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (shortcuts),
                                        gtk_shortcut_new (gtk_shortcut_trigger_parse_string ("<Control>z"),
                                                          gtk_named_action_new ("draw.undo")));
  gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (shortcuts),
                                        gtk_shortcut_new (gtk_shortcut_trigger_parse_string ("Delete"),
                                                          gtk_named_action_new ("draw.clear")));
  gtk_widget_add_controller (GTK_WIDGET (self), shortcuts);

  update_actions (self);
}

GtkWidget *
cs_draw_view_new (CsSession *session)
{
  g_return_val_if_fail (session == NULL || CS_IS_SESSION (session), NULL);

  return g_object_new (CS_TYPE_DRAW_VIEW, "session", session, NULL);
}

CsSession *
cs_draw_view_get_session (CsDrawView *self)
{
  g_return_val_if_fail (CS_IS_DRAW_VIEW (self), NULL);
  return self->session;
}

const CsDrawViewState *
cs_draw_view_get_state (CsDrawView *self)
{
  g_return_val_if_fail (CS_IS_DRAW_VIEW (self), NULL);
  return &self->state;
}
