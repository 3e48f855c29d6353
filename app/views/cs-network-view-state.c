/* cs-network-view-state.c — the Network view's picture: layout, drawing, hit tests
 *
 * Two layouts, picked by the network:
 *
 *   perceptron (flatten, linear and element-wise layers only):
 *
 *     title
 *     [input 28×28] ── edges ── [hidden 16×16] ── edges ── [outputs 0–9]
 *     [weights of the selected unit] [weights × input] [the unit in words]
 *
 *   anything with feature maps (CNN Explainer's overview):
 *
 *     title
 *     [input] [conv1 32 maps] [pool] [relu] [conv2 64] … [linear] [out] | selected map
 *                                                                       | its kernels
 *                                                                       | in words
 *
 * Everything is laid out by compute_layout () from the state and the size
 * alone, so drawing, hit-testing and the tests agree on every rectangle.
 * Sizes grow with the widget (a projector gets bigger cells and type).
 * The widget around it is in cs-network-view.c.
 */
#include "cs-network-view.h"
#include "cs-style.h"

#include <glib/gi18n.h>
#include <inttypes.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <string.h>

/* ---------------------------------------------------------------------------
 * Layer kinds
 */

/* Layers that act on each value (or channel) alone, keeping the shape. */
static gboolean
is_elementwise (const char *type)
{
  static const char *const kinds[] = {
    "relu", "leaky_relu", "sigmoid", "tanh", "dropout", "softmax", NULL,
  };
  return g_strv_contains (kinds, type);
}

/* Layers whose output channel c depends on input channel c alone. */
static gboolean
is_channelwise (const char *type)
{
  static const char *const kinds[] = {
    "relu", "leaky_relu", "sigmoid", "tanh", "dropout", "maxpool2d", "avgpool2d",
    "batchnorm2d", NULL,
  };
  return g_strv_contains (kinds, type);
}

/* A perceptron: only flatten, linear and element-wise layers. */
static gboolean
is_dense_network (CsSnapshot *snap)
{
  guint n = cs_snapshot_get_n_layers (snap);
  gboolean linear = FALSE;
  for (guint l = 0; l < n; l++)
    {
      const char *type = cs_snapshot_get_layer_type (snap, l);
      if (g_str_equal (type, "linear"))
        linear = TRUE;
      else if (!g_str_equal (type, "flatten") && !is_elementwise (type))
        return FALSE;
    }
  return linear;
}

/* The linear layer that makes activation act, through element-wise layers
 * only; −1 if none. */
static int
producing_linear (CsSnapshot *snap, guint act)
{
  for (int l = (int) act - 1; l >= 0; l--)
    {
      const char *type = cs_snapshot_get_layer_type (snap, (guint) l);
      if (g_str_equal (type, "linear"))
        return l;
      if (!is_elementwise (type))
        return -1;
    }
  return -1;
}

/* The convolution whose output channel c becomes channel c of act, through
 * channel-wise layers only; −1 if none. */
static int
producing_conv (CsSnapshot *snap, guint act)
{
  for (int l = (int) act - 1; l >= 0; l--)
    {
      const char *type = cs_snapshot_get_layer_type (snap, (guint) l);
      if (g_str_equal (type, "conv2d"))
        return l;
      if (!is_channelwise (type))
        return -1;
    }
  return -1;
}

/* ---------------------------------------------------------------------------
 * Values and scales
 */

gboolean
cs_network_view_state_showing_gradients (const CsNetworkViewState *state)
{
  return state->show == CS_NETWORK_SHOW_GRADIENTS && state->snapshot != NULL
         && cs_snapshot_has_gradients (state->snapshot);
}

const float *
cs_network_view_state_get_values (const CsNetworkViewState *state, guint act)
{
  g_return_val_if_fail (state->snapshot != NULL, NULL);
  if (cs_network_view_state_showing_gradients (state))
    return cs_snapshot_get_activation_grad (state->snapshot, act);
  return cs_snapshot_get_activation (state->snapshot, act);
}

static void
value_range (const float *v, gsize n, double *min, double *max_abs)
{
  double lo = 0.0, hi = 0.0;
  for (gsize i = 0; i < n; i++)
    {
      if (!isfinite (v[i]))
        continue;
      lo = MIN (lo, v[i]);
      hi = MAX (hi, fabs (v[i]));
    }
  *min = lo;
  *max_abs = hi;
}

void
cs_network_view_state_get_scale (const CsNetworkViewState *state,
                                 guint                     act,
                                 CsPaletteKind            *kind,
                                 double                   *limit)
{
  g_return_if_fail (state->snapshot != NULL);
  const float *v = cs_network_view_state_get_values (state, act);
  double min = 0.0, max_abs = 0.0;
  if (v != NULL)
    value_range (v, (gsize) cs_shape_numel (cs_snapshot_get_shape (state->snapshot, act)),
                 &min, &max_abs);
  *kind = cs_network_view_state_showing_gradients (state) || min < 0.0
          ? CS_PALETTE_DIVERGING : CS_PALETTE_SEQUENTIAL;
  *limit = max_abs;
}

static double
max_abs (const float *v, gsize n)
{
  double lo, hi;
  value_range (v, n, &lo, &hi);
  return hi;
}

/* ---------------------------------------------------------------------------
 * Layout
 */

typedef enum
{
  COL_MAPS,     /* (C, H, W): a tile per channel */
  COL_UNITS,    /* (F) as a square grid of cells: a perceptron's layer */
  COL_STRIP,    /* (F) as a thin vertical strip */
  COL_OUTPUT,   /* a classifier's outputs: a row per class */
} ColumnKind;

typedef struct
{
  ColumnKind kind;
  guint act;
  guint n_items;
  int C, H, W;                /* maps: the shape; else C = F, H = W = 1 */
  graphene_rect_t header;     /* title and shape, above */
  graphene_rect_t area;       /* the items, tight */
  graphene_rect_t legend;     /* below */
  /* item i sits at grid column i % cols, row i / cols */
  int cols, rows;
  double x0, y0;
  double pitch_x, pitch_y;
  double item_w, item_h;
} Column;

typedef struct
{
  gboolean dense;
  double font;
  double margin;
  graphene_rect_t title;
  guint n_columns;
  Column *columns;
  graphene_rect_t detail;
} Layout;

static void
layout_clear (Layout *layout)
{
  g_clear_pointer (&layout->columns, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Layout, layout_clear)

static graphene_rect_t
rect (double x, double y, double w, double h)
{
  graphene_rect_t r;
  graphene_rect_init (&r, (float) x, (float) y, (float) MAX (w, 0.0), (float) MAX (h, 0.0));
  return r;
}

static void
set_column_shape (Column *col, CsSnapshot *snap, guint act)
{
  const CsShape *s = cs_snapshot_get_shape (snap, act);
  col->act = act;
  if (s->ndim == 3)
    {
      col->C = (int) s->d[0];
      col->H = (int) s->d[1];
      col->W = (int) s->d[2];
    }
  else
    {
      col->C = (int) cs_shape_numel (s);
      col->H = col->W = 1;
    }
  col->n_items = (guint) col->C;
}

/* A tile of a map: the largest whole multiple of the map's size that fits
 * in inner × inner (crisp pixels), or all of it when that is less than
 * twice the map's size (a whole multiple would waste up to half). */
static void
map_tile_size (const Column *col, double inner, double *w, double *h)
{
  double s = MIN (inner / col->W, inner / col->H);
  if (s >= 2.0)
    s = floor (s);
  *w = s * col->W;
  *h = s * col->H;
}

/* The columns of a perceptron: the input, each linear layer after its
 * element-wise layers, the output. */
static guint
dense_columns (CsSnapshot *snap, Column *cols)
{
  guint n = cs_snapshot_get_n_layers (snap), k = 0;
  set_column_shape (&cols[k], snap, 0);
  cols[k++].kind = cs_snapshot_get_shape (snap, 0)->ndim == 3 ? COL_MAPS : COL_UNITS;
  for (guint l = 0; l < n; l++)
    {
      if (!g_str_equal (cs_snapshot_get_layer_type (snap, l), "linear"))
        continue;
      guint act = l + 1;
      while (act < n && is_elementwise (cs_snapshot_get_layer_type (snap, act)))
        act++;
      set_column_shape (&cols[k], snap, act);
      cols[k++].kind = COL_UNITS;
    }
  if (cs_snapshot_get_n_classes (snap) > 0 && cs_snapshot_get_n_classes (snap) <= 32
      && cols[k - 1].act == n)
    cols[k - 1].kind = COL_OUTPUT;
  return k;
}

static guint
map_columns (CsSnapshot *snap, Column *cols)
{
  guint n = cs_snapshot_get_n_layers (snap);
  for (guint act = 0; act <= n; act++)
    {
      set_column_shape (&cols[act], snap, act);
      if (cs_snapshot_get_shape (snap, act)->ndim == 3)
        cols[act].kind = COL_MAPS;
      else if (act == n && cs_snapshot_get_n_classes (snap) > 0
               && cs_snapshot_get_n_classes (snap) <= 32)
        cols[act].kind = COL_OUTPUT;
      else
        cols[act].kind = COL_STRIP;
    }
  return n + 1;
}

static double
header_height (double font)
{
  return font * 2.8;
}

static double
legend_height (double font)
{
  return font * 2.6;
}

/* Places a column's items in a square-ish box: side × side for a perceptron. */
static void
place_dense_column (Column *col, double x, double y, double side, double width, double font)
{
  col->header = rect (x, y - header_height (font), width, header_height (font));
  switch (col->kind)
    {
    case COL_MAPS:
      {
        /* one tile per channel, side by side if several */
        col->cols = (int) ceil (sqrt (col->C));
        col->rows = (col->C + col->cols - 1) / col->cols;
        col->pitch_x = col->pitch_y = side / MAX (col->cols, col->rows);
        double gap = col->C > 1 ? MAX (2.0, round (col->pitch_x * 0.05)) : 0.0;
        map_tile_size (col, col->pitch_x - gap, &col->item_w, &col->item_h);
        double used = col->cols * col->pitch_x - gap + 0.0;
        col->x0 = round (x + (width - (col->C > 1 ? used : col->item_w)) / 2);
        col->y0 = round (y + (side - (col->C > 1 ? col->rows * col->pitch_y - gap : col->item_h)) / 2);
        col->area = rect (col->x0, col->y0,
                          (col->cols - 1) * col->pitch_x + col->item_w,
                          (col->rows - 1) * col->pitch_y + col->item_h);
        break;
      }
    case COL_UNITS:
      {
        col->cols = (int) ceil (sqrt (col->C));
        col->rows = (col->C + col->cols - 1) / col->cols;
        double pitch = floor (side / MAX (col->cols, col->rows));
        col->pitch_x = col->pitch_y = pitch;
        double gap = MAX (1.0, round (pitch * 0.1));
        col->item_w = col->item_h = pitch - gap;
        col->x0 = round (x + (width - (col->cols * pitch - gap)) / 2);
        col->y0 = round (y + (side - (col->rows * pitch - gap)) / 2);
        col->area = rect (col->x0, col->y0, col->cols * pitch - gap, col->rows * pitch - gap);
        break;
      }
    case COL_OUTPUT:
    case COL_STRIP:
    default:
      {
        col->cols = 1;
        col->rows = col->C;
        col->pitch_x = width;
        col->pitch_y = MIN (side / col->C, font * 3.0);
        col->item_w = width;
        col->item_h = col->pitch_y;
        col->x0 = x;
        col->y0 = round (y + (side - col->rows * col->pitch_y) / 2);
        col->area = rect (x, col->y0, width, col->rows * col->pitch_y);
        break;
      }
    }
  col->legend = rect (x, y + side + font * 0.5, width, legend_height (font));
}

static void
compute_dense_layout (const CsNetworkViewState *state, Layout *layout, double W, double H)
{
  double font = layout->font, m = layout->margin;
  layout->columns = g_new0 (Column, cs_snapshot_get_n_layers (state->snapshot) + 1);
  layout->n_columns = dense_columns (state->snapshot, layout->columns);

  double top = layout->title.origin.y + layout->title.size.height + font * 0.8;
  double avail_w = W - 2 * m;
  double band = (H - top - m) * 0.56;
  double side_h = band - header_height (font) - legend_height (font) - font * 0.5;

  guint n_cols = layout->n_columns;
  gboolean output = layout->columns[n_cols - 1].kind == COL_OUTPUT;
  guint n_square = output ? n_cols - 1 : n_cols;
  double gap_frac = 0.55;
  double side = side_h, out_w = 0.0;
  for (int iter = 0; iter < 3; iter++)
    {
      out_w = output ? MAX (12.0 * font, 0.8 * side) : 0.0;
      double side_w = (avail_w - out_w) / (n_square + gap_frac * (n_cols - 1));
      side = MIN (side_h, side_w);
    }
  side = floor (MAX (side, 4.0 * font));
  double gap = floor (gap_frac * side);
  double total = n_square * side + (n_cols - 1) * gap + out_w;
  double x = round (m + (avail_w - total) / 2);
  double y = round (top + header_height (font));
  for (guint k = 0; k < n_cols; k++)
    {
      Column *col = &layout->columns[k];
      double width = col->kind == COL_OUTPUT ? out_w : side;
      place_dense_column (col, x, y, side, width, font);
      x += width + gap;
    }
  double detail_y = y + side + legend_height (font) + font * 1.5;
  layout->detail = rect (m, detail_y, avail_w, H - m - detail_y);
}

/* The input's few channels get tiles three times the others' pitch. */
static double
map_pitch (const Column *col, double T, double height)
{
  if (col->act == 0 && col->C <= 3)
    return MIN (3 * T, height / col->C);
  return T;
}

/* The width a column of maps needs for tiles of pitch T in a height. */
static double
map_column_width (const Column *col, double T, double height, double font)
{
  switch (col->kind)
    {
    case COL_MAPS:
      {
        double pitch = map_pitch (col, T, height);
        int per_column = MAX (1, (int) floor (height / pitch));
        int sub = (col->C + per_column - 1) / per_column;
        return MAX (sub * pitch, font * 3.6);
      }
    case COL_STRIP:
      return font * 3.6;
    case COL_OUTPUT:
    default:
      return font * 13.0;
    }
}

static void
compute_map_layout (const CsNetworkViewState *state, Layout *layout, double W, double H)
{
  double font = layout->font, m = layout->margin;
  layout->columns = g_new0 (Column, cs_snapshot_get_n_layers (state->snapshot) + 1);
  layout->n_columns = map_columns (state->snapshot, layout->columns);

  double top = layout->title.origin.y + layout->title.size.height + font * 0.8;
  double detail_w = round (CLAMP (W * 0.26, 17.0 * font, 34.0 * font));
  detail_w = MIN (detail_w, W * 0.45);
  double x0 = m, x1 = W - m - detail_w - m;
  double y0 = top + header_height (font);
  double y1 = H - m - legend_height (font) - font * 0.5;
  double avail_w = x1 - x0, avail_h = y1 - y0;
  double col_gap = round (font * 0.8);

  /* The largest tile pitch T at which every column fits side by side. */
  double lo = 3.0, hi = MAX (avail_h, 3.0);
  for (int iter = 0; iter < 40; iter++)
    {
      double T = (lo + hi) / 2, width = col_gap * (layout->n_columns - 1);
      for (guint k = 0; k < layout->n_columns; k++)
        width += map_column_width (&layout->columns[k], T, avail_h, font);
      if (width <= avail_w)
        lo = T;
      else
        hi = T;
    }
  double T = floor (lo);
  /* at least 3: one pixel of white between two tiles' frames */
  double tile_gap = MAX (3.0, round (T * 0.1));

  double total = col_gap * (layout->n_columns - 1);
  for (guint k = 0; k < layout->n_columns; k++)
    total += map_column_width (&layout->columns[k], T, avail_h, font);
  double x = round (x0 + MAX (0.0, (avail_w - total) / 2));
  for (guint k = 0; k < layout->n_columns; k++)
    {
      Column *col = &layout->columns[k];
      double width = map_column_width (col, T, avail_h, font);
      col->header = rect (x, top, width, header_height (font));
      switch (col->kind)
        {
        case COL_MAPS:
          {
            double pitch = map_pitch (col, T, avail_h);
            int per_column = MAX (1, (int) floor (avail_h / pitch));
            col->cols = (col->C + per_column - 1) / per_column;
            col->rows = (col->C + col->cols - 1) / col->cols;
            col->pitch_x = col->pitch_y = pitch;
            map_tile_size (col, pitch - tile_gap, &col->item_w, &col->item_h);
            double block_w = (col->cols - 1) * pitch + col->item_w;
            double block_h = (col->rows - 1) * pitch + col->item_h;
            col->x0 = round (x + (width - block_w) / 2);
            col->y0 = round (y0 + (avail_h - block_h) / 2);
            col->area = rect (col->x0, col->y0, block_w, block_h);
            break;
          }
        case COL_STRIP:
          {
            double strip_w = round (font * 1.4);
            col->cols = 1;
            col->rows = col->C;
            col->pitch_y = MIN (avail_h / col->C, font * 1.2);
            col->pitch_x = strip_w;
            col->item_w = strip_w;
            col->item_h = col->pitch_y;
            col->x0 = round (x + (width - strip_w) / 2);
            col->y0 = round (y0 + (avail_h - col->rows * col->pitch_y) / 2);
            col->area = rect (col->x0, col->y0, strip_w, col->rows * col->pitch_y);
            break;
          }
        case COL_OUTPUT:
        default:
          {
            col->cols = 1;
            col->rows = col->C;
            col->pitch_y = MIN (avail_h / col->C, font * 2.6);
            col->pitch_x = col->item_w = width;
            col->item_h = col->pitch_y;
            col->x0 = x;
            col->y0 = round (y0 + (avail_h - col->rows * col->pitch_y) / 2);
            col->area = rect (x, col->y0, width, col->rows * col->pitch_y);
            break;
          }
        }
      col->legend = rect (x, y1 + font * 0.5, width, legend_height (font));
      x += width + col_gap;
    }
  layout->detail = rect (W - m - detail_w, top, detail_w, H - m - top);
}

static void
compute_layout (const CsNetworkViewState *state, int width, int height, Layout *layout)
{
  memset (layout, 0, sizeof *layout);
  double W = width, H = height;
  layout->font = CLAMP (13.0 * MIN (W / 1280.0, H / 800.0), 9.0, 34.0) * cs_style_type ();
  layout->margin = round (layout->font * 1.2);
  layout->title = rect (layout->margin, layout->margin * 0.6, W - 2 * layout->margin,
                        layout->font * 1.7);
  if (state->snapshot == NULL || cs_snapshot_get_activation (state->snapshot, 0) == NULL)
    return;
  /* too small to show anything legible: the placeholder says so */
  if (W < 20 * layout->font || H < 14 * layout->font)
    return;
  layout->dense = is_dense_network (state->snapshot);
  if (layout->dense)
    compute_dense_layout (state, layout, W, H);
  else
    compute_map_layout (state, layout, W, H);
}

static const Column *
find_column (const Layout *layout, guint act)
{
  for (guint k = 0; k < layout->n_columns; k++)
    if (layout->columns[k].act == act)
      return &layout->columns[k];
  return NULL;
}

static graphene_rect_t
item_rect (const Column *col, guint i)
{
  int c = (int) i % col->cols, r = (int) i / col->cols;
  return rect (col->x0 + c * col->pitch_x, col->y0 + r * col->pitch_y, col->item_w, col->item_h);
}

/* Where an edge meets item i: a unit's centre, a pixel's centre in a map,
 * an output row's left end. */
static void
edge_point (const Column *col, guint i, double *x, double *y)
{
  switch (col->kind)
    {
    case COL_MAPS:
      {
        guint plane = (guint) (col->H * col->W);
        graphene_rect_t r = item_rect (col, MIN (i / plane, col->n_items - 1));
        guint p = i % plane;
        *x = r.origin.x + (p % col->W + 0.5) * r.size.width / col->W;
        *y = r.origin.y + (p / col->W + 0.5) * r.size.height / col->H;
        break;
      }
    case COL_OUTPUT:
      {
        graphene_rect_t r = item_rect (col, i);
        *x = r.origin.x;
        *y = r.origin.y + r.size.height / 2;
        break;
      }
    case COL_UNITS:
    case COL_STRIP:
    default:
      {
        graphene_rect_t r = item_rect (col, i);
        *x = r.origin.x + r.size.width / 2;
        *y = r.origin.y + r.size.height / 2;
        break;
      }
    }
}

/* ---------------------------------------------------------------------------
 * Drawing helpers
 */

static PangoLayout *
make_text (cairo_t *cr, const char *text, double size, gboolean bold, double max_width,
           gboolean wrap)
{
  PangoLayout *pl = pango_cairo_create_layout (cr);
  PangoFontDescription *font = pango_font_description_from_string ("Sans");
  pango_font_description_set_absolute_size (font, MAX (size, 1.0) * PANGO_SCALE);
  if (bold)
    pango_font_description_set_weight (font, PANGO_WEIGHT_BOLD);
  pango_layout_set_font_description (pl, font);
  pango_font_description_free (font);
  pango_layout_set_text (pl, text, -1);
  if (max_width > 0)
    {
      pango_layout_set_width (pl, (int) (max_width * PANGO_SCALE));
      if (wrap)
        pango_layout_set_wrap (pl, PANGO_WRAP_WORD_CHAR);
      else
        pango_layout_set_ellipsize (pl, PANGO_ELLIPSIZE_END);
    }
  return pl;
}

/* Draws one line (or a wrapped paragraph) with its left, centre or right
 * (xalign 0, 0.5, 1) at x; returns its height. */
static double
draw_text (cairo_t *cr, const char *text, double x, double y, double size, double xalign,
           double max_width, gboolean bold, gboolean wrap)
{
  PangoLayout *pl = make_text (cr, text, size, bold, max_width, wrap);
  int w, h;
  if (max_width > 0)
    {
      pango_layout_set_alignment (pl, xalign > 0.75 ? PANGO_ALIGN_RIGHT
                                      : xalign > 0.25 ? PANGO_ALIGN_CENTER : PANGO_ALIGN_LEFT);
      pango_layout_get_pixel_size (pl, &w, &h);
      cairo_move_to (cr, x - xalign * max_width, y);
    }
  else
    {
      pango_layout_get_pixel_size (pl, &w, &h);
      cairo_move_to (cr, x - xalign * w, y);
    }
  pango_cairo_show_layout (cr, pl);
  g_object_unref (pl);
  return h;
}

static double
text_width (cairo_t *cr, const char *text, double size, gboolean bold)
{
  PangoLayout *pl = make_text (cr, text, size, bold, -1, FALSE);
  int w, h;
  pango_layout_get_pixel_size (pl, &w, &h);
  g_object_unref (pl);
  return w;
}

static void
set_ink (cairo_t *cr)
{
  cairo_set_source_rgb (cr, 0.13, 0.13, 0.13);
}

static void
set_muted (cairo_t *cr)
{
  double v = cs_style_high_contrast () ? 0.12 : 0.38;
  cairo_set_source_rgb (cr, v, v, v);
}

/* The highlight of a selection: orange, apart from both palettes' hues. */
static void
set_highlight (cairo_t *cr)
{
  cairo_set_source_rgb (cr, 0.90, 0.38, 0.0);
}

/* values (rows, cols) as a picture in (x, y, w, h), each value a cell. */
static void
paint_values (cairo_t *cr, const float *v, int rows, int cols, CsPaletteKind kind,
              double limit, double x, double y, double w, double h)
{
  if (w < 0.5 || h < 0.5 || rows < 1 || cols < 1)
    return;
  cairo_surface_t *img = cairo_image_surface_create (CAIRO_FORMAT_RGB24, cols, rows);
  guint8 *data = cairo_image_surface_get_data (img);
  int stride = cairo_image_surface_get_stride (img);
  cairo_surface_flush (img);
  for (int r = 0; r < rows; r++)
    {
      guint32 *row = (guint32 *) (data + (gsize) r * stride);
      for (int c = 0; c < cols; c++)
        {
          CsRgb rgb = cs_palette_color (kind, cs_palette_normalize (kind, v[r * cols + c], limit));
          if (isnan (v[r * cols + c]))
            rgb = cs_palette_color (kind, NAN);
          row[c] = ((guint32) lround (rgb.r * 255) << 16) | ((guint32) lround (rgb.g * 255) << 8)
                   | (guint32) lround (rgb.b * 255);
        }
    }
  cairo_surface_mark_dirty (img);

  cairo_save (cr);
  cairo_rectangle (cr, x, y, w, h);
  cairo_clip (cr);
  cairo_translate (cr, x, y);
  cairo_scale (cr, w / cols, h / rows);
  cairo_set_source_surface (cr, img, 0, 0);
  /* Each value a crisp cell, with exactly its colour (a map a little
   * larger than its tile loses a few rows to this); a strip of thousands of
   * values squeezed into a few hundred pixels is averaged instead. */
  gboolean shrink = w * 2 < cols || h * 2 < rows;
  cairo_pattern_set_filter (cairo_get_source (cr), shrink ? CAIRO_FILTER_GOOD : CAIRO_FILTER_NEAREST);
  cairo_pattern_set_extend (cairo_get_source (cr), CAIRO_EXTEND_PAD);
  cairo_paint (cr);
  cairo_restore (cr);
  cairo_surface_destroy (img);
}

static void
frame (cairo_t *cr, graphene_rect_t r)
{
  cairo_save (cr);
  cairo_set_source_rgb (cr, 0.62, 0.62, 0.62);
  cairo_set_line_width (cr, 1.0 * cs_style_line ());
  cairo_rectangle (cr, r.origin.x - 0.5, r.origin.y - 0.5, r.size.width + 1, r.size.height + 1);
  cairo_stroke (cr);
  cairo_restore (cr);
}

static void
outline_selected (cairo_t *cr, graphene_rect_t r, double font)
{
  double lw = MAX (2.0, round (font * 0.18));
  cairo_save (cr);
  set_highlight (cr);
  cairo_set_line_width (cr, lw);
  cairo_rectangle (cr, r.origin.x - lw / 2 - 1, r.origin.y - lw / 2 - 1,
                   r.size.width + lw + 2, r.size.height + lw + 2);
  cairo_stroke (cr);
  cairo_restore (cr);
}

/* Copies text into buf with real minus signs for the hyphens. */
static void
with_minus_signs (char *buf, gsize size, const char *text)
{
  GString *s = g_string_new (NULL);
  for (const char *p = text; *p != '\0'; p++)
    if (*p == '-')
      g_string_append (s, "−");
    else
      g_string_append_c (s, *p);
  g_strlcpy (buf, s->str, size);
  g_string_free (s, TRUE);
}

/* Significant digits, "1.93", "0.0088"; far from 1, "7.4e-5". */
static void
format_digits (char *buf, gsize size, double v, int digits, double small)
{
  char tmp[48];
  double a = fabs (v);
  if (v == 0.0 || !isfinite (v))
    g_snprintf (tmp, sizeof tmp, "%g", v);
  else if (a >= small && a < 1000)
    g_snprintf (tmp, sizeof tmp, "%.*g", digits, v);
  else
    {
      int e = (int) floor (log10 (a));
      double m = v / pow (10, e);
      if (fabs (m) >= 9.95)
        m /= 10, e++;
      g_snprintf (tmp, sizeof tmp, "%.1fe%d", m, e);
    }
  with_minus_signs (buf, size, tmp);
}

static void
format_value (char *buf, gsize size, double v)
{
  format_digits (buf, size, v, 3, 0.001);
}

/* For narrow places: "0.25", "−4.7e−3". */
static void
format_short (char *buf, gsize size, double v)
{
  format_digits (buf, size, v, 2, 0.01);
}

/* "×10⁻³" */
static void
format_power (char *buf, gsize size, int e)
{
  static const char *const digits[] = { "⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹" };
  GString *s = g_string_new ("×10");
  if (e < 0)
    g_string_append (s, "⁻");
  char num[16];
  g_snprintf (num, sizeof num, "%d", ABS (e));
  for (const char *p = num; *p; p++)
    g_string_append (s, digits[*p - '0']);
  g_strlcpy (buf, s->str, size);
  g_string_free (s, TRUE);
}

/* A legend for a heat map: the full one (three values and a caption above)
 * when there is room, else a bar with its range written under it. */
static void
draw_legend (cairo_t *cr, CsPaletteKind kind, double limit, const char *caption,
             graphene_rect_t box, double font)
{
  double size = font * 0.78;
  double bar_h = round (font * 0.75);
  double y = box.origin.y;
  double w = MIN (box.size.width, font * 16);
  double x = box.origin.x + (box.size.width - w) / 2;
  set_muted (cr);
  if (caption != NULL && w >= font * 9)
    {
      y += draw_text (cr, caption, x + w / 2, y, size, 0.5, w, FALSE, FALSE);
    }
  if (w >= font * 9)
    {
      cs_palette_draw_legend (cr, kind, limit, NULL, x, y, w, bar_h);
      return;
    }
  /* compact: the bar, "±0.52" or "0–1.3" under it */
  cairo_save (cr);
  for (int i = 0; i < 32; i++)
    {
      double lo = kind == CS_PALETTE_DIVERGING ? -1.0 : 0.0;
      double t = lo + (1.0 - lo) * (i + 0.5) / 32;
      cs_palette_set_source (cr, cs_palette_color (kind, t));
      cairo_rectangle (cr, x + w * i / 32, y, w / 32 + 0.5, bar_h);
      cairo_fill (cr);
    }
  cairo_set_source_rgb (cr, 0.3, 0.3, 0.3);
  cairo_set_line_width (cr, 1.0 * cs_style_line ());
  cairo_rectangle (cr, x + 0.5, y + 0.5, w - 1, bar_h - 1);
  cairo_stroke (cr);
  char num[32], text[48];
  format_value (num, sizeof num, limit);
  if (kind == CS_PALETTE_DIVERGING)
    g_snprintf (text, sizeof text, "±%s", num);
  else
    g_snprintf (text, sizeof text, "0–%s", num);
  set_muted (cr);
  draw_text (cr, text, x + w / 2, y + bar_h + 1, size, 0.5, box.size.width + font * 0.8,
             FALSE, FALSE);
  cairo_restore (cr);
}

static const char *
class_name (const CsNetworkViewState *state, guint k, char buf[16])
{
  if (state->class_names != NULL)
    {
      for (guint i = 0; state->class_names[i] != NULL; i++)
        if (i == k)
          return state->class_names[i];
    }
  g_snprintf (buf, 16, "%u", k);
  return buf;
}

static char *
shape_string (const CsShape *s)
{
  if (s->ndim == 3)
    return g_strdup_printf ("%" G_GINT64_FORMAT "×%" G_GINT64_FORMAT "×%" G_GINT64_FORMAT,
                            s->d[0], s->d[1], s->d[2]);
  return g_strdup_printf ("%" G_GINT64_FORMAT, cs_shape_numel (s));
}

/* "Input", "Conv2d", "Linear + ReLU"… for the column of act. */
static char *
column_title (const CsNetworkViewState *state, const Layout *layout, const Column *col)
{
  CsSnapshot *snap = state->snapshot;
  guint n = cs_snapshot_get_n_layers (snap);
  if (col->act == 0)
    return g_strdup (_("Input"));
  if (layout->dense)
    {
      int l = producing_linear (snap, col->act);
      const char *last = cs_snapshot_get_layer_title (snap, col->act - 1);
      if (col->act == n)
        return l >= 0 && (guint) l + 1 != col->act ? g_strdup_printf (_("Output: Linear + %s"), last)
                                                   : g_strdup (_("Output: Linear"));
      return l >= 0 && (guint) l + 1 != col->act ? g_strdup_printf (_("Hidden: Linear + %s"), last)
                                                 : g_strdup (_("Hidden: Linear"));
    }
  if (col->kind == COL_OUTPUT)
    return g_strdup (_("Output"));
  return g_strdup (cs_snapshot_get_layer_title (snap, col->act - 1));
}

static char *
column_subtitle (const CsNetworkViewState *state, const Layout *layout, const Column *col)
{
  const CsShape *s = cs_snapshot_get_shape (state->snapshot, col->act);
  if (col->kind == COL_UNITS)
    return g_strdup_printf (g_dngettext (NULL, "%d unit", "%d units", col->C), col->C);
  if (col->kind == COL_OUTPUT)
    {
      g_autofree char *classes = g_strdup_printf (g_dngettext (NULL, "%d class", "%d classes", col->C), col->C);
      if (cs_snapshot_get_label (state->snapshot) < 0)
        return g_steal_pointer (&classes);
      /* TRANSLATORS: the dot marks the true class of the example */
      return g_strdup_printf (_("%s · ● label"), classes);
    }
  return shape_string (s);
}

/* ---------------------------------------------------------------------------
 * Columns
 */

static void
draw_column_header (const CsNetworkViewState *state, const Layout *layout, const Column *col,
                    cairo_t *cr)
{
  double font = layout->font;
  g_autofree char *title = column_title (state, layout, col);
  g_autofree char *sub = column_subtitle (state, layout, col);
  double w = col->header.size.width + (layout->dense ? 0 : font * 0.7);
  double cx = col->header.origin.x + col->header.size.width / 2;
  double y = col->header.origin.y;
  /* narrow columns of a convolutional network: smaller type, not "MaxPoo…" */
  double size = font * 0.92, sub_size = font * 0.8;
  size = MAX (font * 0.7, MIN (size, size * w * 0.94 / MAX (1.0, text_width (cr, title, size, TRUE))));
  sub_size = MAX (font * 0.65, MIN (sub_size, sub_size * w * 0.94 / MAX (1.0, text_width (cr, sub, sub_size, FALSE))));
  set_ink (cr);
  draw_text (cr, title, cx, y, size, 0.5, w, TRUE, FALSE);
  y += font * 1.3;
  set_muted (cr);
  draw_text (cr, sub, cx, y, sub_size, 0.5, w, FALSE, FALSE);
}

static void
draw_maps (const CsNetworkViewState *state, const Layout *layout, const Column *col, cairo_t *cr)
{
  const float *v = cs_network_view_state_get_values (state, col->act);
  CsPaletteKind kind;
  double limit;
  cs_network_view_state_get_scale (state, col->act, &kind, &limit);
  gsize plane = (gsize) col->H * col->W;
  for (guint c = 0; c < col->n_items; c++)
    {
      graphene_rect_t r = item_rect (col, c);
      frame (cr, r);
      if (v != NULL)
        paint_values (cr, v + c * plane, col->H, col->W, kind, limit, r.origin.x, r.origin.y,
                      r.size.width, r.size.height);
    }
  draw_legend (cr, kind, limit,
               cs_network_view_state_showing_gradients (state) ? _("∂L/∂a") : _("value"),
               col->legend, layout->font);
}

static void
draw_units (const CsNetworkViewState *state, const Layout *layout, const Column *col, cairo_t *cr)
{
  const float *v = cs_network_view_state_get_values (state, col->act);
  CsPaletteKind kind;
  double limit;
  cs_network_view_state_get_scale (state, col->act, &kind, &limit);
  for (guint i = 0; i < col->n_items; i++)
    {
      graphene_rect_t r = item_rect (col, i);
      CsRgb rgb = v != NULL ? cs_palette_color (kind, isnan (v[i]) ? NAN
                                                : cs_palette_normalize (kind, v[i], limit))
                            : cs_palette_color (kind, 0);
      cs_palette_set_source (cr, rgb);
      cairo_rectangle (cr, r.origin.x, r.origin.y, r.size.width, r.size.height);
      cairo_fill (cr);
    }
  /* a hairline around each cell, so that white (zero) units still show */
  cairo_save (cr);
  cairo_set_source_rgba (cr, 0.5, 0.5, 0.5, 0.45);
  cairo_set_line_width (cr, 1.0 * cs_style_line ());
  for (guint i = 0; i < col->n_items; i++)
    {
      graphene_rect_t r = item_rect (col, i);
      cairo_rectangle (cr, r.origin.x + 0.5, r.origin.y + 0.5, r.size.width - 1, r.size.height - 1);
    }
  cairo_stroke (cr);
  cairo_restore (cr);
  draw_legend (cr, kind, limit,
               cs_network_view_state_showing_gradients (state) ? _("∂L/∂a") : _("activation"),
               col->legend, layout->font);
}

static void
draw_strip (const CsNetworkViewState *state, const Layout *layout, const Column *col, cairo_t *cr)
{
  const float *v = cs_network_view_state_get_values (state, col->act);
  CsPaletteKind kind;
  double limit;
  cs_network_view_state_get_scale (state, col->act, &kind, &limit);
  frame (cr, col->area);
  if (v != NULL)
    paint_values (cr, v, col->C, 1, kind, limit, col->area.origin.x, col->area.origin.y,
                  col->area.size.width, col->area.size.height);
  draw_legend (cr, kind, limit,
               cs_network_view_state_showing_gradients (state) ? _("∂L/∂a") : _("value"),
               col->legend, layout->font);
}

static void
draw_outputs (const CsNetworkViewState *state, const Layout *layout, const Column *col, cairo_t *cr)
{
  CsSnapshot *snap = state->snapshot;
  double font = layout->font;
  gboolean grads = cs_network_view_state_showing_gradients (state);
  const float *probs = cs_snapshot_get_probabilities (snap);
  const float *logits = cs_snapshot_get_logits (snap);
  const float *g = grads ? cs_snapshot_get_activation_grad (snap, col->act) : NULL;
  double glimit = g != NULL ? max_abs (g, col->n_items) : 0.0;
  int predicted = cs_snapshot_get_prediction (snap);
  int label = cs_snapshot_get_label (snap);

  double size = MIN (font, col->pitch_y * 0.62);
  double label_w = MAX (font * 1.8, size * 1.6);
  if (state->class_names != NULL)
    label_w = MAX (label_w, MIN (col->area.size.width * 0.4, font * 6));
  double value_w = size * (grads ? 4.8 : 4.0);
  /* the logits beside the probabilities, when there is room for both */
  double logit_w = !grads && logits != NULL
                   && col->area.size.width >= label_w + value_w + size * 4.0 + font * 6.0
                   ? size * 4.0 : 0.0;
  double bar_x = col->area.origin.x + label_w + font * 0.3;
  double bar_w = col->area.size.width - label_w - value_w - logit_w - font * 0.6;

  for (guint k = 0; k < col->n_items; k++)
    {
      graphene_rect_t r = item_rect (col, k);
      double cy = r.origin.y + r.size.height / 2;
      char buf[16], num[32], text[48];
      gboolean bold = (int) k == predicted;
      set_ink (cr);
      draw_text (cr, class_name (state, k, buf), col->area.origin.x + label_w, cy - size * 0.62,
                 size, 1.0, label_w, bold, FALSE);
      if ((int) k == label)
        {
          /* the true class: a small mark before its name */
          cairo_save (cr);
          cairo_set_source_rgb (cr, 0.1, 0.55, 0.2);
          cairo_arc (cr, col->area.origin.x + size * 0.25, cy, size * 0.22, 0, 2 * G_PI);
          cairo_fill (cr);
          cairo_restore (cr);
        }
      double bar_h = MAX (2.0, r.size.height * 0.62);
      /* the track */
      cairo_set_source_rgb (cr, 0.93, 0.93, 0.93);
      cairo_rectangle (cr, bar_x, cy - bar_h / 2, bar_w, bar_h);
      cairo_fill (cr);
      if (grads && g != NULL)
        {
          double t = cs_palette_normalize (CS_PALETTE_DIVERGING, g[k], glimit);
          cs_palette_set_source (cr, cs_palette_color (CS_PALETTE_DIVERGING, t));
          double mid = bar_x + bar_w / 2;
          cairo_rectangle (cr, t < 0 ? mid + t * bar_w / 2 : mid, cy - bar_h / 2,
                           fabs (t) * bar_w / 2, bar_h);
          cairo_fill (cr);
          format_short (num, sizeof num, g[k]);
          g_snprintf (text, sizeof text, "%s", num);
        }
      else if (probs != NULL)
        {
          cs_palette_set_source (cr, cs_palette_color (CS_PALETTE_SEQUENTIAL, probs[k]));
          cairo_rectangle (cr, bar_x, cy - bar_h / 2, probs[k] * bar_w, bar_h);
          cairo_fill (cr);
          g_snprintf (text, sizeof text, "%.1f %%", 100.0 * probs[k]);
        }
      else
        text[0] = '\0';
      cairo_set_source_rgb (cr, 0.55, 0.55, 0.55);
      cairo_set_line_width (cr, 1.0 * cs_style_line ());
      cairo_rectangle (cr, bar_x + 0.5, cy - bar_h / 2 + 0.5, bar_w - 1, bar_h - 1);
      cairo_stroke (cr);
      set_ink (cr);
      draw_text (cr, text, bar_x + bar_w + value_w + font * 0.3, cy - size * 0.62, size * 0.92, 1.0,
                 value_w, bold, FALSE);
      if (logit_w > 0)
        {
          format_value (num, sizeof num, logits[k]);
          set_muted (cr);
          draw_text (cr, num, col->area.origin.x + col->area.size.width, cy - size * 0.55,
                     size * 0.8, 1.0, logit_w, FALSE, FALSE);
        }
    }
  if (logit_w > 0 && col->n_items > 0)
    {
      /* the logits' heading, above their column */
      graphene_rect_t r = item_rect (col, 0);
      set_muted (cr);
      draw_text (cr, _("logit z"), col->area.origin.x + col->area.size.width,
                 r.origin.y - size * 1.2, size * 0.72, 1.0, logit_w + font, FALSE, FALSE);
      draw_text (cr, _("p"), bar_x + bar_w + value_w + font * 0.3,
                 r.origin.y - size * 1.2, size * 0.72, 1.0, value_w, FALSE, FALSE);
    }
  /* the bars' scale */
  if (grads)
    draw_legend (cr, CS_PALETTE_DIVERGING, glimit, _("∂L/∂z"), col->legend, font);
  else
    draw_legend (cr, CS_PALETTE_SEQUENTIAL, 1.0, _("softmax probability"), col->legend, font);
}

/* ---------------------------------------------------------------------------
 * Edges: the strongest contributions between two layers of a perceptron
 */

typedef struct
{
  guint from, to;
  float value;
} Edge;

/* Keeps the k strongest in edges (sorted, strongest first), in one pass. */
static void
top_k_push (Edge *edges, guint *n, guint k, Edge e)
{
  if (*n == k && fabsf (e.value) <= fabsf (edges[k - 1].value))
    return;
  guint i = *n < k ? (*n)++ : k - 1;
  while (i > 0 && fabsf (edges[i - 1].value) < fabsf (e.value))
    {
      edges[i] = edges[i - 1];
      i--;
    }
  edges[i] = e;
}

/* The edges into column `to` from column `from`: w[j, i]·x[i] forward,
 * w[j, i]·∂L/∂z[j] backward (what flows back to x[i]). Restricted to the
 * selected unit when it is in one of the two columns. */
static guint
collect_edges (const CsNetworkViewState *state, const Column *from, const Column *to,
               Edge *edges, guint k)
{
  CsSnapshot *snap = state->snapshot;
  int l = producing_linear (snap, to->act);
  if (l < 0 || k == 0)
    return 0;
  const CsTensor *w = cs_snapshot_get_layer_param (snap, (guint) l, "weight");   /* (out, in) */
  if (w == NULL)
    return 0;
  guint out = (guint) w->shape[0], in = (guint) w->shape[1];
  if (in != (guint) cs_shape_numel (cs_snapshot_get_shape (snap, from->act)))
    return 0;
  gboolean grads = cs_network_view_state_showing_gradients (state);
  const float *x = cs_snapshot_get_activation (snap, (guint) l);        /* (in) */
  const float *dz = cs_snapshot_get_activation_grad (snap, (guint) l + 1); /* (out) */
  if ((grads && dz == NULL) || (!grads && x == NULL))
    return 0;

  guint j0 = 0, j1 = out, i0 = 0, i1 = in;
  if (state->selected_act == (int) to->act && (guint) state->selected_index < out)
    j0 = (guint) state->selected_index, j1 = j0 + 1;
  else if (state->selected_act == (int) from->act && from->kind != COL_MAPS
           && (guint) state->selected_index < in)
    i0 = (guint) state->selected_index, i1 = i0 + 1;

  guint n = 0;
  for (guint j = j0; j < j1; j++)
    {
      const float *row = w->data + (gsize) j * in;
      for (guint i = i0; i < i1; i++)
        {
          float c = grads ? row[i] * dz[j] : row[i] * x[i];
          if (c != 0.0f && isfinite (c))
            top_k_push (edges, &n, k, (Edge) { i, j, c });
        }
    }
  return n;
}

static void
draw_edges (const CsNetworkViewState *state, const Layout *layout, cairo_t *cr)
{
  double font = layout->font;
  g_autofree Edge *edges = g_new (Edge, MAX (state->n_edges, 1));
  for (guint k = 1; k < layout->n_columns; k++)
    {
      const Column *from = &layout->columns[k - 1], *to = &layout->columns[k];
      guint n = collect_edges (state, from, to, edges, state->n_edges);
      if (n == 0)
        continue;
      double limit = fabsf (edges[0].value);
      /* weakest first, so the strongest are drawn on top; only between the
       * columns, so that no line hides a cell (draw_edge_ends () marks the
       * cells they start and end at) */
      cairo_save (cr);
      cairo_set_fill_rule (cr, CAIRO_FILL_RULE_EVEN_ODD);
      cairo_rectangle (cr, 0, 0, layout->detail.origin.x + layout->detail.size.width + layout->margin,
                       layout->detail.origin.y);
      for (guint c = 0; c < layout->n_columns; c++)
        {
          graphene_rect_t a = layout->columns[c].area;
          if (layout->columns[c].kind == COL_OUTPUT)
            continue;
          cairo_rectangle (cr, a.origin.x - 1, a.origin.y - 1, a.size.width + 2, a.size.height + 2);
        }
      cairo_clip (cr);
      cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
      for (guint e = n; e-- > 0;)
        {
          double t = edges[e].value / limit;
          double x0, y0, x1, y1;
          edge_point (from, edges[e].from, &x0, &y0);
          edge_point (to, edges[e].to, &x1, &y1);
          CsRgb rgb = cs_palette_color (CS_PALETTE_DIVERGING, (t < 0 ? -1 : 1) * (0.45 + 0.55 * fabs (t)));
          cairo_set_source_rgba (cr, rgb.r, rgb.g, rgb.b, 0.25 + 0.7 * fabs (t));
          cairo_set_line_width (cr, (0.5 + 2.0 * fabs (t)) * font / 13.0);
          cairo_move_to (cr, x0, y0);
          double mx = (x0 + x1) / 2;
          cairo_curve_to (cr, mx, y0, mx, y1, x1, y1);
          cairo_stroke (cr);
        }
      cairo_restore (cr);
      /* the edges' legend, in the gap between the two columns */
      double gx = from->area.origin.x + from->area.size.width + font;
      double gw = to->area.origin.x - gx - font;
      if (to->kind == COL_OUTPUT || to->kind == COL_UNITS)
        gw = to->header.origin.x - (from->header.origin.x + from->header.size.width) - 2 * font;
      gx = from->header.origin.x + from->header.size.width + font;
      if (gw > font * 4)
        draw_legend (cr, CS_PALETTE_DIVERGING, limit,
                     cs_network_view_state_showing_gradients (state) ? _("edges: w·∂L/∂z")
                                                                    : _("edges: w·x"),
                     rect (gx, from->legend.origin.y, gw, from->legend.size.height), font);
    }
}

/* Marks where the drawn edges begin and end, over the grids that hide the
 * lines: a thin ring in the edge's colour around each end. */
static void
draw_edge_ends (const CsNetworkViewState *state, const Layout *layout, cairo_t *cr)
{
  g_autofree Edge *edges = g_new (Edge, MAX (state->n_edges, 1));
  for (guint k = 1; k < layout->n_columns; k++)
    {
      const Column *from = &layout->columns[k - 1], *to = &layout->columns[k];
      if (from->kind != COL_MAPS)
        continue;
      guint n = collect_edges (state, from, to, edges, state->n_edges);
      if (n == 0)
        continue;
      double limit = fabsf (edges[0].value);
      double cw = item_rect (from, 0).size.width / from->W;
      cairo_save (cr);
      cairo_set_line_width (cr, MAX (1.0, round (cw * 0.1)));
      for (guint e = n; e-- > 0;)
        {
          double t = edges[e].value / limit, x, y;
          edge_point (from, edges[e].from, &x, &y);
          CsRgb rgb = cs_palette_color (CS_PALETTE_DIVERGING, (t < 0 ? -1 : 1) * (0.45 + 0.55 * fabs (t)));
          cairo_set_source_rgba (cr, rgb.r, rgb.g, rgb.b, 0.9);
          double s = cw * 0.5 - cairo_get_line_width (cr) / 2;
          cairo_rectangle (cr, x - s, y - s, 2 * s, 2 * s);
          cairo_stroke (cr);
        }
      cairo_restore (cr);
    }
}

/* ---------------------------------------------------------------------------
 * The detail panel: the selection's weights
 */

typedef struct
{
  gboolean valid;
  int layer;                  /* the linear or conv layer whose weights show, or −1 */
  /* a perceptron's unit: its weights laid out as the layer before */
  int pic_rows, pic_cols;
  guint pic_n;                /* in_features */
  graphene_rect_t header;
  graphene_rect_t pic_a, pic_b, legend_a, legend_b, text;
  /* a feature map: enlarged, and its kernels */
  graphene_rect_t map, map_legend;
  int k_in, kh, kw, k_cols;
  double k_pitch, k_cell, k_x, k_y;
  graphene_rect_t k_header, k_legend;
} Detail;

static gboolean
selection_valid (const CsNetworkViewState *state, const Layout *layout)
{
  if (state->snapshot == NULL || state->selected_act < 0)
    return FALSE;
  const Column *col = find_column (layout, (guint) state->selected_act);
  return col != NULL && state->selected_index >= 0
         && (guint) state->selected_index < col->n_items;
}

static void
compute_dense_detail (const CsNetworkViewState *state, const Layout *layout, Detail *d)
{
  CsSnapshot *snap = state->snapshot;
  double font = layout->font;
  graphene_rect_t box = layout->detail;
  d->header = rect (box.origin.x, box.origin.y, box.size.width, font * 1.6);
  double top = box.origin.y + font * 1.8;
  d->text = rect (box.origin.x, top, box.size.width, box.origin.y + box.size.height - top);
  if (!selection_valid (state, layout) || state->selected_act == 0)
    return;
  top += font * 1.3;   /* the pictures' caption */
  int l = producing_linear (snap, (guint) state->selected_act);
  if (l < 0 || cs_snapshot_get_layer_param (snap, (guint) l, "weight") == NULL)
    return;
  d->layer = l;
  const CsTensor *w = cs_snapshot_get_layer_param (snap, (guint) l, "weight");
  d->pic_n = (guint) w->shape[1];

  /* the layer before: its column's layout, when it has as many values */
  const Column *prev = NULL;
  for (guint k = 0; k < layout->n_columns; k++)
    if (layout->columns[k].act <= (guint) l)
      prev = &layout->columns[k];
  if (prev != NULL && prev->kind == COL_MAPS && prev->C == 1 && (guint) (prev->H * prev->W) == d->pic_n)
    d->pic_rows = prev->H, d->pic_cols = prev->W;
  else if (prev != NULL && prev->kind == COL_UNITS && (guint) prev->C == d->pic_n)
    d->pic_rows = prev->rows, d->pic_cols = prev->cols;
  else
    {
      d->pic_cols = (int) ceil (sqrt (d->pic_n));
      d->pic_rows = ((int) d->pic_n + d->pic_cols - 1) / d->pic_cols;
    }

  double side = MIN (box.origin.y + box.size.height - top - legend_height (font) - font * 0.6,
                     box.size.width * 0.27);
  double cell = floor (side / MAX (d->pic_rows, d->pic_cols));
  double pw = cell * d->pic_cols, ph = cell * d->pic_rows;
  double gap = font * 2.5;
  double x = box.origin.x;
  d->pic_a = rect (x, top, pw, ph);
  d->legend_a = rect (x, top + ph + font * 0.5, MAX (pw, font * 12), legend_height (font));
  x += MAX (pw, font * 12) + gap;
  d->pic_b = rect (x, top, pw, ph);
  d->legend_b = rect (x, top + ph + font * 0.5, MAX (pw, font * 12), legend_height (font));
  x += MAX (pw, font * 12) + gap;
  d->text = rect (x, top, box.origin.x + box.size.width - x, box.origin.y + box.size.height - top);
  d->valid = TRUE;
}

static void
compute_map_detail (const CsNetworkViewState *state, const Layout *layout, Detail *d)
{
  CsSnapshot *snap = state->snapshot;
  double font = layout->font;
  graphene_rect_t box = layout->detail;
  double x = box.origin.x, y = box.origin.y, w = box.size.width;
  d->header = rect (x, y, w, font * 1.6);
  y += font * 1.8;
  d->text = rect (x, y, w, box.origin.y + box.size.height - y);
  if (!selection_valid (state, layout))
    return;
  const Column *col = find_column (layout, (guint) state->selected_act);
  d->valid = TRUE;
  d->layer = -1;
  if (col->kind != COL_MAPS)
    return;

  /* the map, enlarged */
  double side = MIN (w * 0.62, box.size.height * 0.3);
  double mw, mh;
  map_tile_size (col, side, &mw, &mh);
  d->map = rect (round (x + (w - mw) / 2), round (y), mw, mh);
  y += mh + font * 0.4;
  d->map_legend = rect (x, y, w, legend_height (font));
  y += legend_height (font) + font * 0.6;

  int l = producing_conv (snap, (guint) state->selected_act);
  const CsTensor *kt = l >= 0 ? cs_snapshot_get_layer_param (snap, (guint) l, "weight") : NULL;
  if (kt == NULL)
    {
      d->text = rect (x, y, w, box.origin.y + box.size.height - y);
      return;
    }
  d->layer = l;
  d->k_in = (int) kt->shape[1];
  d->kh = (int) kt->shape[2];
  d->kw = (int) kt->shape[3];
  d->k_header = rect (x, y, w, font * 2.6);
  y += font * 2.7;
  /* the kernels: as large as the room left allows, over about two thirds
   * of it, the rest for the legend and the words */
  double room = box.origin.y + box.size.height - y - legend_height (font) - font * 8.0;
  double best = 0;
  int best_cols = 1;
  for (int cols = 1; cols <= d->k_in; cols++)
    {
      int rows = (d->k_in + cols - 1) / cols;
      double pitch = MIN (w / cols, room / rows);
      if (pitch > best)
        best = pitch, best_cols = cols;
    }
  double kgap = MAX (3.0, round (best * 0.1));
  double cell = floor ((best - kgap) / MAX (d->kh, d->kw));
  cell = MIN (cell, font * 4.5);
  d->k_cols = best_cols;
  d->k_cell = MAX (cell, 1.0);
  d->k_pitch = d->k_cell * MAX (d->kh, d->kw) + kgap;
  int k_rows = (d->k_in + d->k_cols - 1) / d->k_cols;
  double block_w = d->k_cols * d->k_pitch - kgap;
  d->k_x = round (x + (w - block_w) / 2);
  d->k_y = round (y);
  y += k_rows * d->k_pitch - kgap + font * 0.5;
  d->k_legend = rect (x, y, w, legend_height (font));
  y += legend_height (font) + font * 0.4;
  d->text = rect (x, y, w, box.origin.y + box.size.height - y);
}

static void
compute_detail (const CsNetworkViewState *state, const Layout *layout, Detail *d)
{
  memset (d, 0, sizeof *d);
  d->layer = -1;
  if (layout->n_columns == 0)
    return;
  if (layout->dense)
    compute_dense_detail (state, layout, d);
  else
    compute_map_detail (state, layout, d);
}

static graphene_rect_t
kernel_cell (const Detail *d, int c_in, int r, int c)
{
  int kc = c_in % d->k_cols, kr = c_in / d->k_cols;
  return rect (d->k_x + kc * d->k_pitch + c * d->k_cell, d->k_y + kr * d->k_pitch + r * d->k_cell,
               d->k_cell, d->k_cell);
}

/* The weights whose picture shows: the layer's weights, or their gradients
 * when showing gradients and the snapshot has them. */
static const CsTensor *
shown_weights (const CsNetworkViewState *state, guint layer, gboolean *are_grads)
{
  CsSnapshot *snap = state->snapshot;
  const CsTensor *g = cs_snapshot_get_layer_param_grad (snap, layer, "weight");
  *are_grads = cs_network_view_state_showing_gradients (state) && g != NULL;
  return *are_grads ? g : cs_snapshot_get_layer_param (snap, layer, "weight");
}

static void
draw_dense_detail (const CsNetworkViewState *state, const Layout *layout, const Detail *d,
                   cairo_t *cr)
{
  CsSnapshot *snap = state->snapshot;
  double font = layout->font;
  guint k = (guint) state->selected_index;
  guint act = (guint) state->selected_act;
  gboolean grads = cs_network_view_state_showing_gradients (state);
  char buf[16], a[32], b[32], c[32];

  GString *text = g_string_new (NULL);
  const Column *col = find_column (layout, act);
  g_autofree char *header = NULL;
  if (col->kind == COL_OUTPUT)
    header = g_strdup_printf (_("Output %u (“%s”)"), k, class_name (state, k, buf));
  else if (act == 0)
    {
      header = g_strdup (_("Input"));
      g_string_append (text, _("The image the network is given: it has no weights of its own."));
    }
  else
    header = g_strdup_printf (_("Hidden unit %u of %u"), k, col->n_items);

  if (d->layer >= 0)
    {
      const CsTensor *wt = cs_snapshot_get_layer_param (snap, (guint) d->layer, "weight");
      const CsTensor *bt = cs_snapshot_get_layer_param (snap, (guint) d->layer, "bias");
      const float *x = cs_snapshot_get_activation (snap, (guint) d->layer);
      const float *w = wt->data + (gsize) k * d->pic_n;
      const float *z = cs_snapshot_get_activation (snap, (guint) d->layer + 1);
      const float *dz = cs_snapshot_get_activation_grad (snap, (guint) d->layer + 1);

      /* left: the weights (or their batch gradient) */
      gboolean are_grads;
      const CsTensor *shown = shown_weights (state, (guint) d->layer, &are_grads);
      const float *pa = shown->data + (gsize) k * d->pic_n;
      /* right: w·x, or this example's ∂L/∂w = ∂L/∂z·x */
      g_autofree float *pb = g_new0 (float, (gsize) d->pic_rows * d->pic_cols);
      g_autofree float *pa_full = g_new0 (float, (gsize) d->pic_rows * d->pic_cols);
      memcpy (pa_full, pa, d->pic_n * sizeof (float));
      double sum = 0.0;
      guint best_i = 0;
      for (guint i = 0; i < d->pic_n; i++)
        {
          double wx = (double) w[i] * x[i];
          sum += wx;
          pb[i] = grads && dz != NULL ? dz[k] * x[i] : (float) wx;
          if (fabsf (pb[i]) > fabsf (pb[best_i]))
            best_i = i;
        }
      double la = max_abs (pa, d->pic_n), lb = max_abs (pb, d->pic_n);
      frame (cr, d->pic_a);
      paint_values (cr, pa_full, d->pic_rows, d->pic_cols, CS_PALETTE_DIVERGING, la,
                    d->pic_a.origin.x, d->pic_a.origin.y, d->pic_a.size.width, d->pic_a.size.height);
      frame (cr, d->pic_b);
      paint_values (cr, pb, d->pic_rows, d->pic_cols, CS_PALETTE_DIVERGING, lb,
                    d->pic_b.origin.x, d->pic_b.origin.y, d->pic_b.size.width, d->pic_b.size.height);
      draw_legend (cr, CS_PALETTE_DIVERGING, la,
                   are_grads ? _("∂L/∂w, batch") : _("weights w into it"), d->legend_a, font);
      draw_legend (cr, CS_PALETTE_DIVERGING, lb,
                   grads && dz != NULL ? _("∂L/∂w = ∂L/∂z · x, this example")
                                       : _("w · x: what each input adds"),
                   d->legend_b, font);

      double bias = bt != NULL ? bt->data[k] : 0.0;
      format_value (a, sizeof a, sum);
      format_value (b, sizeof b, bias);
      format_value (c, sizeof c, z != NULL ? z[k] : sum + bias);
      g_string_append_printf (text, _("z = Σ w·x + b = %s + %s = %s"), a, b, c);
      g_string_append_c (text, '\n');
      if (col->kind == COL_OUTPUT)
        {
          const float *p = cs_snapshot_get_probabilities (snap);
          if (p != NULL)
            {
              g_string_append_printf (text, _("softmax probability: %.1f %%"), 100.0 * p[k]);
              g_string_append_c (text, '\n');
            }
        }
      else if ((guint) d->layer + 1 != act)
        {
          const float *v = cs_snapshot_get_activation (snap, act);
          format_value (a, sizeof a, v[k]);
          g_string_append_printf (text, _("after %s: %s"),
                                  cs_snapshot_get_layer_title (snap, act - 1), a);
          g_string_append_c (text, '\n');
          if (v[k] == 0.0f)
            {
              g_string_append (text, _("The unit is off for this input: z ≤ 0."));
              g_string_append_c (text, '\n');
            }
        }
      if (grads && dz != NULL)
        {
          format_value (a, sizeof a, dz[k]);
          g_string_append_printf (text, _("∂L/∂z = %s"), a);
          g_string_append_c (text, '\n');
        }
      format_value (a, sizeof a, pb[best_i]);
      if (d->pic_rows * d->pic_cols == (int) d->pic_n && col->kind != COL_OUTPUT)
        g_string_append_printf (text, _("Strongest input: %s from row %d, column %d"), a,
                                (int) best_i / d->pic_cols, (int) best_i % d->pic_cols);
      else
        g_string_append_printf (text, _("Strongest input: %s from unit %u"), a, best_i);
      g_string_append (text, "\n\n");
      if (grads && dz != NULL)
        g_string_append (text, _("A step of gradient descent, w ← w − lr · ∂L/∂w, moves each weight "
                                 "against the right-hand picture: only the inputs that were on "
                                 "this time get changed."));
      else if (col->kind == COL_OUTPUT)
        g_string_append (text, _("Each hidden unit adds its activation times its weight to this "
                                 "logit: red weights vote for the class, blue ones against it."));
      else
        g_string_append (text, _("Red weights raise z where the input is on, blue ones lower it; "
                                 "inputs at 0 add nothing, so the right-hand picture shows only "
                                 "what this example brings."));
    }

  set_ink (cr);
  draw_text (cr, header, d->header.origin.x, d->header.origin.y, font * 1.05, 0.0,
             d->header.size.width, TRUE, FALSE);
  if (!d->valid)
    {
      set_ink (cr);
      draw_text (cr, text->str, d->text.origin.x, d->text.origin.y, font * 0.95, 0.0,
                 d->text.size.width, FALSE, TRUE);
    }
  else
    {
      set_muted (cr);
      draw_text (cr, _("Its weights, laid out as the layer before, and what each input adds "
                       "for this example:"),
                 d->pic_a.origin.x, d->pic_a.origin.y - font * 1.3, font * 0.8, 0.0,
                 d->header.size.width, FALSE, FALSE);
      set_ink (cr);
      draw_text (cr, text->str, d->text.origin.x, d->text.origin.y, font * 0.95, 0.0,
                 d->text.size.width, FALSE, TRUE);
    }
  g_string_free (text, TRUE);
}

static void
draw_map_detail (const CsNetworkViewState *state, const Layout *layout, const Detail *d,
                 cairo_t *cr)
{
  CsSnapshot *snap = state->snapshot;
  double font = layout->font;
  guint act = (guint) state->selected_act, ch = (guint) state->selected_index;
  const Column *col = find_column (layout, act);
  g_autofree char *title = column_title (state, layout, col);
  g_autofree char *header = NULL;
  char a[32], b[32];
  GString *text = g_string_new (NULL);

  if (col->kind == COL_MAPS)
    header = g_strdup_printf (_("%s: map %u of %u"), title, ch, col->n_items);
  else if (col->kind == COL_OUTPUT)
    {
      char buf[16];
      header = g_strdup_printf (_("Output %u (“%s”)"), ch, class_name (state, ch, buf));
    }
  else
    header = g_strdup_printf (_("%s: unit %u of %u"), title, ch, col->n_items);
  set_ink (cr);
  draw_text (cr, header, d->header.origin.x, d->header.origin.y, font * 1.05, 0.0,
             d->header.size.width, TRUE, FALSE);

  const float *v = cs_network_view_state_get_values (state, act);
  if (col->kind == COL_MAPS && v != NULL)
    {
      CsPaletteKind kind;
      double limit;
      cs_network_view_state_get_scale (state, act, &kind, &limit);
      gsize plane = (gsize) col->H * col->W;
      const float *m = v + ch * plane;
      frame (cr, d->map);
      paint_values (cr, m, col->H, col->W, kind, limit, d->map.origin.x, d->map.origin.y,
                    d->map.size.width, d->map.size.height);
      draw_legend (cr, kind, limit, NULL, d->map_legend, font);
      gsize best = 0;
      for (gsize i = 1; i < plane; i++)
        if (m[i] > m[best])
          best = i;
      format_value (a, sizeof a, m[best]);
      g_string_append_printf (text, _("Largest value %s at row %d, column %d."), a,
                              (int) (best / col->W), (int) (best % col->W));
      g_string_append_c (text, '\n');
    }
  else if (v != NULL)
    {
      format_value (a, sizeof a, v[ch]);
      g_string_append_printf (text, cs_network_view_state_showing_gradients (state)
                                      ? _("∂L/∂a = %s") : _("Value %s"), a);
      g_string_append_c (text, '\n');
      if (col->kind == COL_OUTPUT && cs_snapshot_get_probabilities (snap) != NULL)
        {
          g_string_append_printf (text, _("softmax probability: %.1f %%"),
                                  100.0 * cs_snapshot_get_probabilities (snap)[ch]);
          g_string_append_c (text, '\n');
        }
    }

  if (d->layer >= 0)
    {
      gboolean are_grads;
      const CsTensor *kt = shown_weights (state, (guint) d->layer, &are_grads);  /* (C_out, C_in, kh, kw) */
      gsize per = (gsize) d->k_in * d->kh * d->kw;
      const float *k = kt->data + ch * per;
      double limit = max_abs (k, per);
      const CsTensor *bias = are_grads ? cs_snapshot_get_layer_param_grad (snap, (guint) d->layer, "bias")
                                       : cs_snapshot_get_layer_param (snap, (guint) d->layer, "bias");

      /* values written in the cells: two decimals, with a common power of
       * ten when they are all small (gradients) or large */
      int e = limit > 0 ? (int) floor (log10 (limit)) : 0;
      if (e >= -1 && e < 2)
        e = 0;
      double scale = pow (10, -e);

      g_autofree char *kh = NULL;
      if (bias != NULL)
        {
          format_value (b, sizeof b, bias->data[ch]);
          kh = g_strdup_printf (g_dngettext (NULL,
                                             "%s into channel %u: %d kernel of %d×%d, bias %s",
                                             "%s into channel %u: %d kernels of %d×%d (one per input channel, in order), bias %s",
                                             d->k_in),
                                are_grads ? _("∂L/∂kernel") : _("Weights"), ch, d->k_in, d->kh,
                                d->kw, b);
        }
      else
        kh = g_strdup_printf (g_dngettext (NULL, "%s into channel %u: %d kernel of %d×%d",
                                           "%s into channel %u: %d kernels of %d×%d (one per input channel, in order)", d->k_in),
                              are_grads ? _("∂L/∂kernel") : _("Weights"), ch, d->k_in, d->kh,
                              d->kw);
      /* each kernel a small heat map, its values written when legible */
      double vsize = MIN (d->k_cell * 0.3, font * 1.3);
      gboolean numbers = vsize >= 7.5;
      if (numbers && e != 0)
        {
          char power[32];
          format_power (power, sizeof power, e);
          g_autofree char *more = g_strdup_printf (_("%s (values in the cells %s)"), kh, power);
          g_free (kh);
          kh = g_steal_pointer (&more);
        }
      set_ink (cr);
      draw_text (cr, kh, d->k_header.origin.x, d->k_header.origin.y, font * 0.9, 0.0,
                 d->k_header.size.width, FALSE, TRUE);

      for (int c_in = 0; c_in < d->k_in; c_in++)
        {
          const float *kk = k + (gsize) c_in * d->kh * d->kw;
          graphene_rect_t r0 = kernel_cell (d, c_in, 0, 0);
          graphene_rect_t box = rect (r0.origin.x, r0.origin.y, d->k_cell * d->kw, d->k_cell * d->kh);
          paint_values (cr, kk, d->kh, d->kw, CS_PALETTE_DIVERGING, limit, box.origin.x,
                        box.origin.y, box.size.width, box.size.height);
          frame (cr, box);
          if (!numbers)
            continue;
          for (int r = 0; r < d->kh; r++)
            for (int c = 0; c < d->kw; c++)
              {
                graphene_rect_t cell = kernel_cell (d, c_in, r, c);
                double val = kk[r * d->kw + c];
                CsRgb bg = cs_palette_color (CS_PALETTE_DIVERGING,
                                             cs_palette_normalize (CS_PALETTE_DIVERGING, val, limit));
                cs_palette_set_source (cr, cs_palette_text_on (bg));
                char tmp[32];
                g_snprintf (tmp, sizeof tmp, "%.2f", val * scale);
                with_minus_signs (a, sizeof a, tmp);
                double fit = MIN (vsize, vsize * cell.size.width * 0.9 / MAX (1.0, text_width (cr, a, vsize, FALSE)));
                draw_text (cr, a, cell.origin.x + cell.size.width / 2,
                           cell.origin.y + (cell.size.height - fit * 1.25) / 2, fit, 0.5, -1,
                           FALSE, FALSE);
              }
        }
      draw_legend (cr, CS_PALETTE_DIVERGING, limit,
                   are_grads ? _("∂L/∂kernel, batch") : _("kernel weight"), d->k_legend, font);

      const char *desc = cs_snapshot_get_layer_description (snap, (guint) d->layer);
      gboolean has_bias = cs_snapshot_get_layer_param (snap, (guint) d->layer, "bias") != NULL;
      if (has_bias)
        g_string_append_printf (text, g_dngettext (NULL,
                                                   "%s: output channel %u = bias + kernel ⊛ the input.",
                                                   "%s: output channel %u = bias + Σ over the %d input "
                                                   "channels of (kernel ⊛ input channel).", d->k_in),
                                desc, ch, d->k_in);
      else
        g_string_append_printf (text, g_dngettext (NULL,
                                                   "%s: output channel %u = kernel ⊛ the input.",
                                                   "%s: output channel %u = Σ over the %d input "
                                                   "channels of (kernel ⊛ input channel).", d->k_in),
                                desc, ch, d->k_in);
      if ((guint) d->layer + 1 != act)
        {
          g_string_append_c (text, ' ');
          g_string_append (text, _("Then, channel by channel:"));
          for (guint l = (guint) d->layer + 1; l < act; l++)
            g_string_append_printf (text, "%s %s", l == (guint) d->layer + 1 ? "" : ",",
                                    cs_snapshot_get_layer_title (snap, l));
          g_string_append_c (text, '.');
        }
      if (!numbers)
        {
          g_string_append_c (text, ' ');
          g_string_append (text, _("(A larger window writes each weight in its cell.)"));
        }
    }
  else if (act == 0)
    g_string_append (text, _("The image the network is given."));

  set_ink (cr);
  draw_text (cr, text->str, d->text.origin.x, d->text.origin.y, font * 0.88, 0.0,
             d->text.size.width, FALSE, TRUE);
  g_string_free (text, TRUE);
}

static void
draw_detail (const CsNetworkViewState *state, const Layout *layout, cairo_t *cr)
{
  Detail d;
  compute_detail (state, layout, &d);
  cairo_save (cr);
  cairo_rectangle (cr, layout->detail.origin.x - layout->margin / 2, layout->detail.origin.y,
                   layout->detail.size.width + layout->margin,
                   layout->detail.size.height + layout->margin / 2);
  cairo_clip (cr);
  if (!selection_valid (state, layout))
    {
      set_muted (cr);
      draw_text (cr, layout->dense ? _("Click a unit (or use the arrow keys) to see its weights.")
                                   : _("Click a feature map (or use the arrow keys) to see the kernels that made it."),
                 d.header.origin.x, d.header.origin.y, layout->font, 0.0, d.header.size.width,
                 FALSE, TRUE);
    }
  else if (layout->dense)
    draw_dense_detail (state, layout, &d, cr);
  else
    draw_map_detail (state, layout, &d, cr);
  cairo_restore (cr);
}

/* ---------------------------------------------------------------------------
 * The whole picture
 */

static void
draw_title (const CsNetworkViewState *state, const Layout *layout, cairo_t *cr)
{
  CsSnapshot *snap = state->snapshot;
  double font = layout->font;
  graphene_rect_t t = layout->title;
  g_autofree char *title = g_strdup_printf ("%s — %s", cs_snapshot_get_title (snap),
                                            cs_network_view_state_showing_gradients (state)
                                            ? _("gradients ∂L/∂a for one example")
                                            : _("activations for one example"));
  GString *right = g_string_new (NULL);
  int label = cs_snapshot_get_label (snap), pred = cs_snapshot_get_prediction (snap);
  char buf[16];
  if (label >= 0)
    g_string_append_printf (right, _("label %s"), class_name (state, (guint) label, buf));
  if (pred >= 0)
    {
      const float *p = cs_snapshot_get_probabilities (snap);
      if (right->len)
        g_string_append (right, " · ");
      g_string_append_printf (right, _("predicted %s (%.1f %%)"),
                              class_name (state, (guint) pred, buf), 100.0 * p[pred]);
    }
  if (right->len)
    g_string_append (right, " · ");
  g_string_append_printf (right, _("step %" PRId64), cs_snapshot_get_step (snap));

  double rw = text_width (cr, right->str, font * 1.0, FALSE);
  set_ink (cr);
  draw_text (cr, title, t.origin.x, t.origin.y, font * 1.15, 0.0,
             MAX (t.size.width - rw - font * 2, font * 10), TRUE, FALSE);
  set_muted (cr);
  draw_text (cr, right->str, t.origin.x + t.size.width, t.origin.y + font * 0.12, font * 1.0, 1.0,
             -1, FALSE, FALSE);
  g_string_free (right, TRUE);
}

void
cs_network_view_state_init (CsNetworkViewState *state)
{
  memset (state, 0, sizeof *state);
  state->show = CS_NETWORK_SHOW_ACTIVATIONS;
  state->selected_act = -1;
  state->selected_index = -1;
  state->n_edges = 64;
}

/* The lesson's highlight: the first column (input), the last (output), or
 * all those between (the hidden layers) */
static void
draw_highlight (const CsNetworkViewState *state, const Layout *layout, cairo_t *cr)
{
  guint first = 0, last = 0;

  if (state->highlight == NULL || layout->n_columns < 2)
    return;
  if (g_str_equal (state->highlight, "input"))
    first = last = 0;
  else if (g_str_equal (state->highlight, "output"))
    first = last = layout->n_columns - 1;
  else if (g_str_equal (state->highlight, "hidden") && layout->n_columns > 2)
    first = 1, last = layout->n_columns - 2;
  else
    return;
  graphene_rect_t r = layout->columns[first].area;
  for (guint k = first + 1; k <= last; k++)
    graphene_rect_union (&r, &layout->columns[k].area, &r);
  cs_view_draw_highlight (cr, r.origin.x, r.origin.y, r.size.width, r.size.height, layout->font);
}

void
cs_network_view_state_draw (const CsNetworkViewState *state, cairo_t *cr, int width, int height)
{
  g_return_if_fail (state != NULL && cr != NULL);
  g_auto (Layout) layout;
  compute_layout (state, width, height, &layout);

  cairo_save (cr);
  cairo_rectangle (cr, 0, 0, width, height);
  cairo_clip (cr);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);

  if (layout.n_columns == 0)
    {
      gboolean none = state->snapshot == NULL
                      || cs_snapshot_get_activation (state->snapshot, 0) == NULL;
      set_muted (cr);
      draw_text (cr, none ? _("No network to show yet: draw a digit in the Draw view.") : _("Make the window larger to see the network."),
                 width / 2.0, height / 2.0 - layout.font, layout.font * 1.2, 0.5, width, FALSE, TRUE);
      cairo_restore (cr);
      return;
    }

  draw_title (state, &layout, cr);
  for (guint k = 0; k < layout.n_columns; k++)
    {
      const Column *col = &layout.columns[k];
      draw_column_header (state, &layout, col, cr);
      switch (col->kind)
        {
        case COL_MAPS:
          draw_maps (state, &layout, col, cr);
          break;
        case COL_UNITS:
          draw_units (state, &layout, col, cr);
          break;
        case COL_STRIP:
          draw_strip (state, &layout, col, cr);
          break;
        case COL_OUTPUT:
        default:
          draw_outputs (state, &layout, col, cr);
          break;
        }
    }
  if (layout.dense)
    {
      draw_edges (state, &layout, cr);
      draw_edge_ends (state, &layout, cr);
    }
  if (selection_valid (state, &layout))
    {
      const Column *col = find_column (&layout, (guint) state->selected_act);
      graphene_rect_t r = col->kind == COL_OUTPUT || col->kind == COL_STRIP
                          ? item_rect (col, (guint) state->selected_index)
                          : item_rect (col, (guint) state->selected_index);
      if (col->kind == COL_STRIP)
        r = rect (r.origin.x, r.origin.y + r.size.height / 2 - 1, r.size.width, 2);
      outline_selected (cr, r, layout.font);
    }
  draw_detail (state, &layout, cr);
  draw_highlight (state, &layout, cr);
  cairo_restore (cr);
}

/* ---------------------------------------------------------------------------
 * Geometry for the widget and the tests
 */

gboolean
cs_network_view_state_get_column_rect (const CsNetworkViewState *state, int width, int height,
                                       guint act, graphene_rect_t *out)
{
  g_auto (Layout) layout;
  compute_layout (state, width, height, &layout);
  const Column *col = find_column (&layout, act);
  if (col == NULL)
    return FALSE;
  *out = col->area;
  return TRUE;
}

gboolean
cs_network_view_state_get_item_rect (const CsNetworkViewState *state, int width, int height,
                                     guint act, guint index, graphene_rect_t *out)
{
  g_auto (Layout) layout;
  compute_layout (state, width, height, &layout);
  const Column *col = find_column (&layout, act);
  if (col == NULL || index >= col->n_items)
    return FALSE;
  *out = item_rect (col, index);
  return TRUE;
}

static gboolean
column_hit (const Layout *layout, const Column *col, double x, double y, guint *index)
{
  /* within half a gap of an item counts */
  double slack = layout->font * 0.3;
  if (x < col->area.origin.x - slack || x > col->area.origin.x + col->area.size.width + slack
      || y < col->area.origin.y - slack || y > col->area.origin.y + col->area.size.height + slack)
    return FALSE;
  int c = (int) floor ((x - col->x0) / col->pitch_x);
  int r = (int) floor ((y - col->y0) / col->pitch_y);
  c = CLAMP (c, 0, col->cols - 1);
  r = CLAMP (r, 0, col->rows - 1);
  guint i = (guint) (r * col->cols + c);
  if (i >= col->n_items)
    return FALSE;
  *index = i;
  return TRUE;
}

gboolean
cs_network_view_state_hit (const CsNetworkViewState *state, int width, int height, double x,
                           double y, guint *act, guint *index)
{
  g_auto (Layout) layout;
  compute_layout (state, width, height, &layout);
  for (guint k = 0; k < layout.n_columns; k++)
    {
      const Column *col = &layout.columns[k];
      if (layout.dense && col->act == 0)
        continue;   /* a perceptron's input has no weights of its own */
      if (column_hit (&layout, col, x, y, index))
        {
          *act = col->act;
          return TRUE;
        }
    }
  return FALSE;
}

gboolean
cs_network_view_state_get_weight_cell_rect (const CsNetworkViewState *state, int width,
                                            int height, guint channel, guint row, guint col,
                                            graphene_rect_t *out)
{
  g_auto (Layout) layout;
  compute_layout (state, width, height, &layout);
  Detail d;
  compute_detail (state, &layout, &d);
  if (!d.valid || d.layer < 0)
    return FALSE;
  if (layout.dense)
    {
      if (channel != 0 || row >= (guint) d.pic_rows || col >= (guint) d.pic_cols
          || row * d.pic_cols + col >= d.pic_n)
        return FALSE;
      double cw = d.pic_a.size.width / d.pic_cols, chh = d.pic_a.size.height / d.pic_rows;
      *out = rect (d.pic_a.origin.x + col * cw, d.pic_a.origin.y + row * chh, cw, chh);
      return TRUE;
    }
  if (channel >= (guint) d.k_in || row >= (guint) d.kh || col >= (guint) d.kw)
    return FALSE;
  *out = kernel_cell (&d, (int) channel, (int) row, (int) col);
  return TRUE;
}

gboolean
cs_network_view_state_select (CsNetworkViewState *state, int act, int index)
{
  if (state->selected_act == act && state->selected_index == index)
    return FALSE;
  state->selected_act = act;
  state->selected_index = index;
  return TRUE;
}

static guint
argmax (const float *v, gsize n)
{
  gsize best = 0;
  for (gsize i = 1; i < n; i++)
    if (v[i] > v[best])
      best = i;
  return (guint) best;
}

gboolean
cs_network_view_state_select_default (CsNetworkViewState *state)
{
  CsSnapshot *snap = state->snapshot;
  if (snap == NULL || cs_snapshot_get_activation (snap, 0) == NULL)
    return FALSE;
  guint n = cs_snapshot_get_n_layers (snap);
  if (is_dense_network (snap))
    {
      /* the first hidden layer's most active unit */
      Column cols[64];
      if (n + 1 > G_N_ELEMENTS (cols))
        return FALSE;
      guint n_cols = dense_columns (snap, cols);
      guint k = n_cols > 2 ? 1 : n_cols - 1;
      const float *v = cs_snapshot_get_activation (snap, cols[k].act);
      return cs_network_view_state_select (state, (int) cols[k].act,
                                           (int) argmax (v, cols[k].n_items));
    }
  for (guint act = 1; act <= n; act++)
    {
      const CsShape *s = cs_snapshot_get_shape (snap, act);
      if (s->ndim != 3 || !g_str_equal (cs_snapshot_get_layer_type (snap, act - 1), "conv2d"))
        continue;
      /* the first convolution's map with the largest mean */
      const float *v = cs_snapshot_get_activation (snap, act);
      gsize plane = (gsize) (s->d[1] * s->d[2]);
      g_autofree float *mean = g_new0 (float, s->d[0]);
      for (gint64 c = 0; c < s->d[0]; c++)
        for (gsize i = 0; i < plane; i++)
          mean[c] += v[c * plane + i] / plane;
      return cs_network_view_state_select (state, (int) act, (int) argmax (mean, s->d[0]));
    }
  return cs_network_view_state_select (state, 0, 0);
}

gboolean
cs_network_view_state_move_selection (CsNetworkViewState *state, int width, int height,
                                      CsNetworkMove move)
{
  g_auto (Layout) layout;
  compute_layout (state, width, height, &layout);
  if (layout.n_columns == 0)
    return FALSE;
  if (!selection_valid (state, &layout))
    return cs_network_view_state_select_default (state);

  guint k0 = 0;
  for (guint k = 0; k < layout.n_columns; k++)
    if (layout.columns[k].act == (guint) state->selected_act)
      k0 = k;
  const Column *col = &layout.columns[k0];
  graphene_rect_t r = item_rect (col, (guint) state->selected_index);
  double cx = r.origin.x + r.size.width / 2, cy = r.origin.y + r.size.height / 2;
  double dx = move == CS_NETWORK_MOVE_LEFT ? -1 : move == CS_NETWORK_MOVE_RIGHT ? 1 : 0;
  double dy = move == CS_NETWORK_MOVE_UP ? -1 : move == CS_NETWORK_MOVE_DOWN ? 1 : 0;

  /* the nearest item that way in the same column */
  int best = -1;
  double best_d = G_MAXDOUBLE;
  for (guint i = 0; i < col->n_items; i++)
    {
      graphene_rect_t q = item_rect (col, i);
      double qx = q.origin.x + q.size.width / 2 - cx, qy = q.origin.y + q.size.height / 2 - cy;
      double along = qx * dx + qy * dy, across = fabs (qx * dy) + fabs (qy * dx);
      if (along < 0.5)
        continue;
      double dist = along + 2.0 * across;
      if (dist < best_d)
        best_d = dist, best = (int) i;
    }
  if (best >= 0)
    return cs_network_view_state_select (state, state->selected_act, best);
  if (dx == 0)
    return FALSE;

  /* else the next column that way, at the item nearest in height */
  int k1 = (int) k0 + (int) dx;
  if (layout.dense && k1 == 0)
    return FALSE;
  if (k1 < 0 || k1 >= (int) layout.n_columns)
    return FALSE;
  const Column *next = &layout.columns[k1];
  double near_d = G_MAXDOUBLE;
  guint near = 0;
  for (guint i = 0; i < next->n_items; i++)
    {
      graphene_rect_t q = item_rect (next, i);
      double qy = fabs (q.origin.y + q.size.height / 2 - cy);
      double qx = fabs (q.origin.x + q.size.width / 2 - cx) * 0.01;
      if (qy + qx < near_d)
        near_d = qy + qx, near = i;
    }
  return cs_network_view_state_select (state, (int) next->act, (int) near);
}

char *
cs_network_view_state_describe_selection (const CsNetworkViewState *state)
{
  CsSnapshot *snap = state->snapshot;
  if (snap == NULL || cs_snapshot_get_activation (snap, 0) == NULL)
    return g_strdup (_("No network to show yet: draw a digit in the Draw view."));
  guint n = cs_snapshot_get_n_layers (snap);
  if (state->selected_act < 0 || (guint) state->selected_act > n || state->selected_index < 0)
    return g_strdup (_("Nothing selected"));
  guint act = (guint) state->selected_act, k = (guint) state->selected_index;
  const CsShape *s = cs_snapshot_get_shape (snap, act);
  const float *v = cs_network_view_state_get_values (state, act);
  const char *what = cs_network_view_state_showing_gradients (state) ? _("gradient") : _("activation");
  const char *layer = act == 0 ? _("Input") : cs_snapshot_get_layer_title (snap, act - 1);
  char a[32], b[32], buf[16];

  if (s->ndim == 3)
    {
      gsize plane = (gsize) (s->d[1] * s->d[2]);
      if (k >= s->d[0] || v == NULL)
        return g_strdup (_("Nothing selected"));
      double lo = G_MAXDOUBLE, hi = -G_MAXDOUBLE;
      for (gsize i = 0; i < plane; i++)
        {
          lo = MIN (lo, v[k * plane + i]);
          hi = MAX (hi, v[k * plane + i]);
        }
      format_value (a, sizeof a, lo);
      format_value (b, sizeof b, hi);
      return g_strdup_printf (_("Feature map %u of %" PRId64 " after layer %u, %s: "
                                "%s from %s to %s"),
                              k, s->d[0], act, layer, what, a, b);
    }
  guint F = (guint) cs_shape_numel (s);
  if (k >= F || v == NULL)
    return g_strdup (_("Nothing selected"));
  format_value (a, sizeof a, v[k]);
  if (act == n && cs_snapshot_get_probabilities (snap) != NULL)
    return g_strdup_printf (_("Output %s: probability %.1f %%, %s %s"),
                            class_name (state, k, buf),
                            100.0 * cs_snapshot_get_probabilities (snap)[k], what, a);
  if (is_dense_network (snap))
    return g_strdup_printf (_("Hidden unit %u of %u after layer %u, %s: %s %s"), k, F, act,
                            layer, what, a);
  return g_strdup_printf (_("Unit %u of %u after layer %u, %s: %s %s"), k, F, act, layer, what, a);
}

gboolean
cs_network_view_state_get_selected_unit (const CsNetworkViewState *state, guint *layer,
                                         guint *unit)
{
  g_return_val_if_fail (state != NULL && layer != NULL && unit != NULL, FALSE);
  CsSnapshot *snap = state->snapshot;
  if (snap == NULL || state->selected_act <= 0 || state->selected_index < 0
      || (guint) state->selected_act > cs_snapshot_get_n_layers (snap))
    return FALSE;
  guint act = (guint) state->selected_act;
  const CsShape *s = cs_snapshot_get_shape (snap, act);
  int l = s->ndim == 3 ? producing_conv (snap, act) : producing_linear (snap, act);
  if (l < 0 || (s->ndim == 3 && state->selected_index >= s->d[0])
      || (s->ndim != 3 && state->selected_index >= cs_shape_numel (s)))
    return FALSE;
  *layer = (guint) l;
  *unit = (guint) state->selected_index;
  return TRUE;
}
