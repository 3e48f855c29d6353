/* cs-gradients-view-state.c — the Gradients view's picture: layout, drawing, hit tests
 *
 *     title                                                 step · norm
 *     ┌ norm plot ─────────────────────────────────────┐  legend
 *     │ one line per layer, log scale                  │  ■ 0 Conv2d  3e−2
 *     └────────────────────────────────────────────────┘  ■ 3 Conv2d  …
 *     Layer 0 Conv2d · weight 32×1×3×3
 *     [weights w]              [gradients ∂L/∂w]         [the cursor's kernel
 *     [legend]                 [legend]                   enlarged, numbers]
 *     the cursor's element in words
 *
 * compute_layout () places everything from the state and the size alone,
 * so drawing, hit-testing and the tests agree on every rectangle; sizes
 * grow with the widget (a projector gets bigger type). The widget around it
 * is in cs-gradients-view.c.
 */
#include "cs-gradients-view.h"
#include "cs-grid.h"
#include "cs-style.h"

#include <glib/gi18n.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

/* ---------------------------------------------------------------------------
 * Colours and numbers
 */

#define INK        ((CsRgb) { 0.13, 0.13, 0.13 })
#define MUTED      (cs_style_high_contrast () ? CS_GRID_INK : (CsRgb) { 0.38, 0.38, 0.38 })
#define GRID_LINE  ((CsRgb) { 0.88, 0.88, 0.88 })
#define AXIS       ((CsRgb) { 0.55, 0.55, 0.55 })
#define TOTAL      ((CsRgb) { 0.33, 0.33, 0.33 })   /* the whole gradient's line */
#define SELECTED   ((CsRgb) { 0.93, 0.93, 0.93 })   /* behind the shown layer's legend row */

/* The diverging palette at 2049 levels of t in [−1, 1], as cairo's RGB24
 * words: a 400,000-value heat map costs a table look-up per value. */
#define LUT_SIZE 2049

static const guint32 *
diverging_lut (void)
{
  static guint32 lut[LUT_SIZE];
  static gsize done = 0;

  if (g_once_init_enter (&done))
    {
      for (int i = 0; i < LUT_SIZE; i++)
        {
          CsRgb c = cs_palette_color (CS_PALETTE_DIVERGING, -1.0 + 2.0 * i / (LUT_SIZE - 1));
          lut[i] = ((guint32) lround (c.r * 255) << 16) | ((guint32) lround (c.g * 255) << 8)
                   | (guint32) lround (c.b * 255);
        }
      g_once_init_leave (&done, 1);
    }
  return lut;
}

static guint32
lut_color (const guint32 *lut, float v, double inv_limit)
{
  if (isnan (v))
    return 0x808080;
  double t = CLAMP (v * inv_limit, -1.0, 1.0);
  return lut[(int) lround ((t + 1.0) * 0.5 * (LUT_SIZE - 1))];
}

/* "10⁻⁵" */
static void
append_power (GString *s, int e)
{
  static const char *const sup[] = { "⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹" };
  g_string_append (s, "10");
  if (e < 0)
    g_string_append (s, "⁻");
  g_autofree char *num = g_strdup_printf ("%d", ABS (e));
  for (const char *p = num; *p; p++)
    g_string_append (s, sup[*p - '0']);
}

/* "0.032", "−1.5", "1000", "4.1×10⁻⁵": digits significant digits, a
 * power of ten below 10⁻⁴ and from 10⁴ on, real minus signs. */
static char *
format_number (double v, int digits)
{
  double a = fabs (v);
  char buf[G_ASCII_DTOSTR_BUF_SIZE], format[8];

  if (isnan (v))
    return g_strdup ("—");
  GString *s = g_string_new (v < 0 ? "−" : "");
  if (isinf (v))
    g_string_append (s, "∞");
  else if (a == 0.0 || (a >= 1e-4 && a < 1e4))
    {
      /* whole numbers in full: "1000", not "1e+03" */
      g_snprintf (format, sizeof format, a >= pow (10, digits) ? "%%.0f" : "%%.%dg", digits);
      g_string_append (s, g_ascii_formatd (buf, sizeof buf, format, a));
    }
  else
    {
      int e = (int) floor (log10 (a));
      g_snprintf (format, sizeof format, "%%.%dg", MAX (digits - 1, 1));
      g_ascii_formatd (buf, sizeof buf, format, a / pow (10, e));
      if (strcmp (buf, "10") == 0)
        {
          e++;
          g_strlcpy (buf, "1", sizeof buf);
        }
      g_string_append_printf (s, "%s×", buf);
      append_power (s, e);
    }
  return g_string_free (s, FALSE);
}

/* An axis label: "0.001" … "1000" written out, "10⁻⁴" and "10⁴" beyond. */
static char *
format_decade (int e)
{
  if (e >= -3 && e <= 3)
    return format_number (pow (10, e), 1);
  GString *s = g_string_new (NULL);
  append_power (s, e);
  return g_string_free (s, FALSE);
}

/* ---------------------------------------------------------------------------
 * The weights of the snapshot
 */

/* A parameter's values, or its gradient's when the snapshot has only those:
 * what tells its shape. */
static const CsTensor *
param_tensor (CsSnapshot *snap, const char *name)
{
  const CsTensor *t = cs_snapshot_get_param (snap, name);
  return t != NULL ? t : cs_snapshot_get_param_grad (snap, name);
}

/* The snapshot's parameter index of weight i, or −1. */
static int
weight_param (const CsGradientsViewState *state, guint i)
{
  if (state->snapshot == NULL)
    return -1;
  guint n = cs_snapshot_get_n_param_tensors (state->snapshot), k = 0;
  for (guint p = 0; p < n; p++)
    {
      const CsTensor *t = param_tensor (state->snapshot,
                                        cs_snapshot_get_param_tensor_name (state->snapshot, p));
      if (t == NULL || t->ndim < 2)
        continue;
      if (k++ == i)
        return (int) p;
    }
  return -1;
}

guint
cs_gradients_view_state_get_n_weights (const CsGradientsViewState *state)
{
  if (state->snapshot == NULL)
    return 0;
  guint n = cs_snapshot_get_n_param_tensors (state->snapshot), k = 0;
  for (guint p = 0; p < n; p++)
    {
      const CsTensor *t = param_tensor (state->snapshot,
                                        cs_snapshot_get_param_tensor_name (state->snapshot, p));
      k += t != NULL && t->ndim >= 2;
    }
  return k;
}

const char *
cs_gradients_view_state_get_weight_name (const CsGradientsViewState *state, guint i)
{
  int p = weight_param (state, i);
  g_return_val_if_fail (p >= 0, NULL);
  return cs_snapshot_get_param_tensor_name (state->snapshot, (guint) p);
}

guint
cs_gradients_view_state_get_weight_layer (const CsGradientsViewState *state, guint i)
{
  int p = weight_param (state, i);
  g_return_val_if_fail (p >= 0, 0);
  return cs_snapshot_get_param_tensor_layer (state->snapshot, (guint) p);
}

static char *
shape_text (const CsTensor *t)
{
  GString *s = g_string_new (NULL);
  for (int d = 0; d < t->ndim; d++)
    g_string_append_printf (s, "%s%" G_GINT64_FORMAT, d ? "×" : "", t->shape[d]);
  return g_string_free (s, FALSE);
}

char *
cs_gradients_view_state_describe_weight (const CsGradientsViewState *state, guint i)
{
  int p = weight_param (state, i);
  g_return_val_if_fail (p >= 0, NULL);
  CsSnapshot *snap = state->snapshot;
  const char *name = cs_snapshot_get_param_tensor_name (snap, (guint) p);
  guint layer = cs_snapshot_get_param_tensor_layer (snap, (guint) p);
  const char *local = strchr (name, '.') ? strchr (name, '.') + 1 : name;
  g_autofree char *shape = shape_text (param_tensor (snap, name));
  return g_strdup_printf ("%u %s · %s %s", layer, cs_snapshot_get_layer_title (snap, layer),
                          local, shape);
}

int
cs_gradients_view_state_get_shown_weight (const CsGradientsViewState *state)
{
  guint n = cs_gradients_view_state_get_n_weights (state);
  if (n == 0)
    return -1;
  return state->weight >= 0 && (guint) state->weight < n ? state->weight : 0;
}

/* What the maps of the shown weight draw. */
typedef struct
{
  int index;                   /* the weight; −1: none */
  const char *name;
  guint layer;
  const CsTensor *value, *grad;
  gsize numel;
  CsGradientsArrangement arrangement;
  int n_items;                 /* pictures */
  int item_rows, item_cols;    /* cells of a picture */
  int C_in;                    /* kernels: input channels */
} Weight;

/* The one-channel image a linear layer's input is, through flatten and
 * element-wise layers: its height and width, or FALSE. */
static gboolean
image_before (CsSnapshot *snap, guint layer, gint64 in_features, int *h, int *w)
{
  static const char *const passing[] = {
    "flatten", "relu", "leaky_relu", "sigmoid", "tanh", "dropout", NULL,
  };
  for (int act = (int) layer; act >= 0; act--)
    {
      const CsShape *s = cs_snapshot_get_shape (snap, (guint) act);
      if (s->ndim == 3)
        {
          if (s->d[0] != 1 || s->d[1] * s->d[2] != in_features)
            return FALSE;
          *h = (int) s->d[1];
          *w = (int) s->d[2];
          return TRUE;
        }
      if (act == 0 || !g_strv_contains (passing, cs_snapshot_get_layer_type (snap, (guint) act - 1)))
        return FALSE;
    }
  return FALSE;
}

static gboolean
get_weight (const CsGradientsViewState *state, Weight *w)
{
  memset (w, 0, sizeof *w);
  w->index = cs_gradients_view_state_get_shown_weight (state);
  if (w->index < 0)
    return FALSE;
  CsSnapshot *snap = state->snapshot;
  int p = weight_param (state, (guint) w->index);
  w->name = cs_snapshot_get_param_tensor_name (snap, (guint) p);
  w->layer = cs_snapshot_get_param_tensor_layer (snap, (guint) p);
  w->value = cs_snapshot_get_param (snap, w->name);
  w->grad = cs_snapshot_get_param_grad (snap, w->name);
  const CsTensor *t = param_tensor (snap, w->name);
  w->numel = (gsize) cs_tensor_numel (t);
  int ih, iw;
  if (t->ndim == 4)
    {
      w->arrangement = CS_GRADIENTS_ARRANGE_KERNELS;
      w->n_items = (int) (t->shape[0] * t->shape[1]);
      w->C_in = (int) t->shape[1];
      w->item_rows = (int) t->shape[2];
      w->item_cols = (int) t->shape[3];
    }
  else if (t->ndim == 2 && image_before (snap, w->layer, t->shape[1], &ih, &iw))
    {
      w->arrangement = CS_GRADIENTS_ARRANGE_TEMPLATES;
      w->n_items = (int) t->shape[0];
      w->item_rows = ih;
      w->item_cols = iw;
    }
  else
    {
      /* the matrix: one picture, (out, everything else) */
      w->arrangement = CS_GRADIENTS_ARRANGE_MATRIX;
      w->n_items = 1;
      w->item_rows = (int) t->shape[0];
      w->item_cols = (int) (w->numel / (gsize) t->shape[0]);
    }
  return TRUE;
}

CsGradientsArrangement
cs_gradients_view_state_get_arrangement (const CsGradientsViewState *state)
{
  Weight w;
  get_weight (state, &w);
  return w.arrangement;
}

static const float *
map_values (const Weight *w, CsGradientsMap map)
{
  const CsTensor *t = map == CS_GRADIENTS_MAP_WEIGHTS ? w->value : w->grad;
  return t != NULL ? t->data : NULL;
}

const float *
cs_gradients_view_state_get_values (const CsGradientsViewState *state, CsGradientsMap map,
                                    gsize *n)
{
  Weight w;
  if (!get_weight (state, &w))
    return NULL;
  if (n != NULL)
    *n = w.numel;
  return map_values (&w, map);
}

static double
values_limit (const float *v, gsize n)
{
  double limit = 0.0;
  for (gsize i = 0; i < n; i++)
    if (isfinite (v[i]))
      limit = MAX (limit, fabs (v[i]));
  return limit > 0.0 ? limit : 1.0;
}

double
cs_gradients_view_state_get_limit (const CsGradientsViewState *state, CsGradientsMap map)
{
  gsize n = 0;
  const float *v = cs_gradients_view_state_get_values (state, map, &n);
  return v != NULL ? values_limit (v, n) : 1.0;
}

/* ---------------------------------------------------------------------------
 * Layout
 */

#define MAX_LEGEND_ROWS 64

typedef struct
{
  CsGradientsMap map;
  gboolean has_values;
  double limit;
  graphene_rect_t caption;    /* above the pictures */
  graphene_rect_t area;       /* the pictures, tight */
  graphene_rect_t legend;     /* below */
  double x0, y0;              /* the first picture's corner */
} MapBox;

typedef struct
{
  double font, margin;
  graphene_rect_t title;
  gboolean too_small;
  gboolean empty;             /* neither norms nor weights: one message */

  /* the norm plot */
  gboolean plot_data;         /* FALSE: its message in the band */
  graphene_rect_t plot_band;
  graphene_rect_t plot_header;
  graphene_rect_t plot;       /* the data area */
  graphene_rect_t legend;
  guint n_rows;
  guint row_series[MAX_LEGEND_ROWS];
  guint row_color[MAX_LEGEND_ROWS];
  graphene_rect_t row_rects[MAX_LEGEND_ROWS];
  int lo_e, hi_e;             /* the y axis: 10^lo_e … 10^hi_e */
  gint64 first, last;         /* the x axis */

  /* the weights */
  gboolean weights_data;      /* FALSE: its message in the band */
  graphene_rect_t weights_band;
  graphene_rect_t weights_header;
  graphene_rect_t info;       /* the cursor in words, at the bottom */
  Weight weight;
  guint n_maps;
  MapBox maps[2];
  int cols, rows;             /* the grid of pictures */
  double pitch_x, pitch_y;
  double cell_w, cell_h;      /* of one value */
  double item_w, item_h;      /* of one picture */
  graphene_rect_t detail;     /* the cursor's picture enlarged; empty for a matrix */
  double detail_title_h;      /* its title, then a caption and a picture per map */
  double detail_caption_h;
  double detail_cell;
  double used_bottom;         /* the lowest thing drawn above the cursor's words */
} Layout;

static graphene_rect_t
rect (double x, double y, double w, double h)
{
  graphene_rect_t r;
  graphene_rect_init (&r, (float) x, (float) y, (float) MAX (w, 0.0), (float) MAX (h, 0.0));
  return r;
}

static double
right_of (graphene_rect_t r)
{
  return r.origin.x + r.size.width;
}

static double
bottom_of (graphene_rect_t r)
{
  return r.origin.y + r.size.height;
}

static gboolean
has_norms (const CsGradientsViewState *state)
{
  return state->norms != NULL && cs_gradient_norms_get_n_records (state->norms) > 0;
}

static guint
n_series (const CsGradientsViewState *state)
{
  return cs_gradient_norms_get_n_layers (state->norms) + 1;
}

/* The series drawn: layers with values in layer order, then the total. */
static gboolean
series_plotted (const CsGradientsViewState *state, guint s)
{
  return cs_gradient_norms_has_values (state->norms, s);
}

static char *
series_label (const CsGradientsViewState *state, guint s)
{
  guint n_layers = cs_gradient_norms_get_n_layers (state->norms);
  if (s == n_layers)
    return g_strdup (_("all layers"));
  const char *title = cs_gradient_norms_get_layer_title (state->norms, s);
  if (title == NULL && state->snapshot != NULL
      && cs_snapshot_get_n_layers (state->snapshot) == n_layers)
    title = cs_snapshot_get_layer_title (state->snapshot, s);
  return g_strdup_printf ("%u %s", s, title != NULL ? title : _("Layer"));
}

static double
series_value (const CsGradientsViewState *state, guint s)
{
  return state->smooth ? cs_gradient_norms_get_last_smooth (state->norms, s)
                       : cs_gradient_norms_get_last (state->norms, s);
}

static const char *
legend_header (const CsGradientsViewState *state)
{
  return state->smooth ? _("Layer · last norm, smoothed") : _("Layer · last norm");
}

static void
compute_axes (const CsGradientsViewState *state, Layout *layout)
{
  double lo = INFINITY, hi = -INFINITY;
  for (guint s = 0; s < n_series (state); s++)
    {
      double a, b;
      if (series_plotted (state, s) && cs_gradient_norms_get_range (state->norms, s, &a, &b))
        {
          lo = MIN (lo, a);
          hi = MAX (hi, b);
        }
    }
  if (!isfinite (lo))
    {
      layout->lo_e = -3;
      layout->hi_e = 0;
    }
  else
    {
      layout->lo_e = (int) floor (log10 (lo) - 0.05);
      layout->hi_e = (int) ceil (log10 (hi) + 0.05);
    }
  guint nb = cs_gradient_norms_get_n_buckets (state->norms);
  const CsNormSpan *spans = cs_gradient_norms_get_spans (state->norms);
  layout->first = spans[0].first_step;
  layout->last = spans[nb - 1].last_step;
}

static void
layout_plot (const CsGradientsViewState *state, Layout *layout)
{
  double f = layout->font;
  graphene_rect_t band = layout->plot_band;
  layout->plot_header = rect (band.origin.x, band.origin.y, band.size.width, f * 1.5);
  if (!has_norms (state))
    return;
  layout->plot_data = TRUE;
  compute_axes (state, layout);

  /* the legend: a row per series, as wide as its longest */
  double label_w = 0.0, value_w = 0.0, w, h;
  double size = f * 0.92;
  guint color = 0;
  for (guint s = 0; s < n_series (state) && layout->n_rows < MAX_LEGEND_ROWS; s++)
    {
      gboolean total = s == n_series (state) - 1;
      if (!series_plotted (state, s))
        continue;
      g_autofree char *label = series_label (state, s);
      g_autofree char *value = format_number (series_value (state, s), 2);
      cs_grid_text_extents (label, size, TRUE, &w, &h);
      label_w = MAX (label_w, w);
      cs_grid_text_extents (value, size, FALSE, &w, &h);
      value_w = MAX (value_w, w);
      layout->row_series[layout->n_rows] = s;
      layout->row_color[layout->n_rows] = total ? G_MAXUINT : color++;
      layout->n_rows++;
    }
  /* as wide with smoothing as without: the plot does not move */
  CsGradientsViewState other = *state;
  double swatch = f * 2.0, header_w, other_w;
  other.smooth = !state->smooth;
  cs_grid_text_extents (legend_header (state), f * 0.85, FALSE, &header_w, NULL);
  cs_grid_text_extents (legend_header (&other), f * 0.85, FALSE, &other_w, NULL);
  header_w = MAX (header_w, other_w);
  double legend_w = MAX (swatch + f * 0.6 + label_w + f * 1.2 + value_w + f * 0.8,
                         header_w + f * 0.8);
  legend_w = CLAMP (legend_w, f * 12, band.size.width * 0.34);
  double top = bottom_of (layout->plot_header) + f * 0.6;
  layout->legend = rect (right_of (band) - legend_w, top, legend_w, bottom_of (band) - top);
  double row_h = MIN (f * 1.7, (layout->legend.size.height - f * 1.6) / MAX (layout->n_rows, 1));
  for (guint r = 0; r < layout->n_rows; r++)
    layout->row_rects[r] = rect (layout->legend.origin.x, top + f * 1.6 + r * row_h, legend_w, row_h);

  /* the data area: decade labels on the left, steps below */
  double ylab_w;
  g_autofree char *widest = format_decade (MIN (layout->lo_e, -10));
  cs_grid_text_extents (widest, f * 0.85, FALSE, &ylab_w, &h);
  double left = band.origin.x + ylab_w + f * 0.8;
  double right = layout->legend.origin.x - f * 1.5;
  double bottom = bottom_of (band) - f * 2.8;
  layout->plot = rect (round (left), round (top + f * 0.4), round (right - left),
                       round (bottom - top - f * 0.4));
}

/* The side of a value's cell with the pictures in cols columns, and the
 * gap between pictures. */
static double
grid_cell (const Weight *w, int cols, double box_w, double box_h, double *gap)
{
  int rows = (w->n_items + cols - 1) / cols;
  double px = box_w / cols, py = box_h / rows;
  *gap = w->n_items > 1 ? MAX (1.0, round (MIN (px, py) * 0.1)) : 0.0;
  return MIN ((px - *gap) / w->item_cols, (py - *gap) / w->item_rows);
}

/* The grid of pictures in a box: the number of columns that makes the
 * cells largest (for kernels, a whole number of output channels per row,
 * or a whole fraction of one); crisp whole-pixel cells where they are two
 * pixels or more. */
static void
layout_grid (Layout *layout, double box_w, double box_h)
{
  const Weight *w = &layout->weight;
  if (w->arrangement == CS_GRADIENTS_ARRANGE_MATRIX)
    {
      double f = layout->font;
      layout->cols = layout->rows = 1;
      layout->cell_w = MIN (box_w / w->item_cols, f * 2.4);
      layout->cell_h = MIN (box_h / w->item_rows, f * 2.4);
      if (layout->cell_w >= 2)
        layout->cell_w = floor (layout->cell_w);
      if (layout->cell_h >= 2)
        layout->cell_h = floor (layout->cell_h);
      layout->item_w = layout->pitch_x = layout->cell_w * w->item_cols;
      layout->item_h = layout->pitch_y = layout->cell_h * w->item_rows;
      return;
    }
  int n = w->n_items;
  double best = -INFINITY;
  layout->cols = 1;
  for (int pass = 0; pass < 2; pass++)
    {
      /* the largest cells; then, of the grids within 10% of those, the
       * one with the fewest empty places (32 kernels 8 × 4, not 7 × 5) */
      int fewest = G_MAXINT;
      for (int cols = 1; cols <= n; cols++)
        {
          if (w->arrangement == CS_GRADIENTS_ARRANGE_KERNELS && w->C_in > 1
              && cols % w->C_in != 0 && w->C_in % cols != 0)
            continue;
          double gap, cell = grid_cell (w, cols, box_w, box_h, &gap);
          int empty = ((n + cols - 1) / cols) * cols - n;
          if (pass == 0)
            best = MAX (best, cell);
          else if (cell >= best - 0.1 * fabs (best) && empty < fewest)
            {
              fewest = empty;
              layout->cols = cols;
            }
        }
    }
  layout->rows = (n + layout->cols - 1) / layout->cols;
  double gap, cell = MAX (grid_cell (w, layout->cols, box_w, box_h, &gap), 0.05);
  if (cell >= 2)
    cell = floor (cell);
  layout->cell_w = layout->cell_h = cell;
  layout->item_w = cell * w->item_cols;
  layout->item_h = cell * w->item_rows;
  layout->pitch_x = layout->item_w + gap;
  layout->pitch_y = layout->item_h + gap;
}

static void
layout_weights (const CsGradientsViewState *state, Layout *layout)
{
  double f = layout->font;
  graphene_rect_t band = layout->weights_band;
  layout->weights_header = rect (band.origin.x, band.origin.y, band.size.width, f * 1.6);
  if (!get_weight (state, &layout->weight))
    return;
  layout->weights_data = TRUE;
  const Weight *w = &layout->weight;
  layout->info = rect (band.origin.x, bottom_of (band) - f * 1.4, band.size.width, f * 1.4);

  /* which maps */
  CsGradientsMap which[2];
  if (state->show == CS_GRADIENTS_SHOW_BOTH)
    {
      which[0] = CS_GRADIENTS_MAP_WEIGHTS;
      which[1] = CS_GRADIENTS_MAP_GRADIENTS;
      layout->n_maps = 2;
    }
  else
    {
      which[0] = state->show == CS_GRADIENTS_SHOW_WEIGHTS ? CS_GRADIENTS_MAP_WEIGHTS
                                                          : CS_GRADIENTS_MAP_GRADIENTS;
      layout->n_maps = 1;
    }

  double top = bottom_of (layout->weights_header) + f * 0.4;
  double bottom = layout->info.origin.y - f * 0.4;
  double left = band.origin.x, right = right_of (band);
  if (w->arrangement != CS_GRADIENTS_ARRANGE_MATRIX)
    {
      double dw = CLAMP (band.size.width * 0.2, f * 13, f * 20);
      layout->detail = rect (right - dw, top, dw, bottom - top);
      right -= dw + f * 1.5;
    }
  /* a matrix has its sizes written under it, above the legend */
  gboolean matrix = w->arrangement == CS_GRADIENTS_ARRANGE_MATRIX;
  double caption_h = f * (matrix ? 1.9 : 1.5), legend_h = f * (matrix ? 3.4 : 2.2), gap = f * 2.0;
  double box_w = (right - left - gap * (layout->n_maps - 1)) / layout->n_maps;
  double box_h = bottom - top - caption_h - legend_h;
  layout_grid (layout, box_w, box_h);
  double grid_w = (layout->cols - 1) * layout->pitch_x + layout->item_w;
  double grid_h = (layout->rows - 1) * layout->pitch_y + layout->item_h;

  /* the cursor's picture: as large as fits, a kernel's cells at most big
   * enough for their numbers */
  if (layout->detail.size.width > 0)
    {
      graphene_rect_t d = layout->detail;
      layout->detail_title_h = f * 1.5;
      layout->detail_caption_h = f * 1.2;
      double per_map = (d.size.height - layout->detail_title_h) / layout->n_maps
                       - layout->detail_caption_h - f * 0.6;
      double cell = floor (MIN (d.size.width / w->item_cols, per_map / w->item_rows));
      if (w->arrangement == CS_GRADIENTS_ARRANGE_KERNELS)
        cell = MIN (cell, floor (f * 3.6));
      layout->detail_cell = cell;
      layout->used_bottom = d.origin.y + layout->detail_title_h
                            + layout->n_maps * (layout->detail_caption_h + cell * w->item_rows
                                                + f * 0.6);
    }

  for (guint m = 0; m < layout->n_maps; m++)
    {
      MapBox *box = &layout->maps[m];
      box->map = which[m];
      const float *v = map_values (w, which[m]);
      box->has_values = v != NULL;
      box->limit = v != NULL ? values_limit (v, w->numel) : 1.0;
      double bx = left + m * (box_w + gap);
      box->x0 = round (bx + (box_w - grid_w) / 2);
      box->y0 = round (top + caption_h);
      box->area = rect (box->x0, box->y0, grid_w, grid_h);
      box->caption = rect (bx, top, box_w, caption_h);
      box->legend = rect (bx, box->y0 + grid_h + f * (matrix ? 1.7 : 0.5), box_w, f * 2.2);
      layout->used_bottom = MAX (layout->used_bottom, bottom_of (box->legend));
    }
}

/* The plot's band plot_h high from top, the weights' below it. */
static void
place_bands (const CsGradientsViewState *state, Layout *layout, double top, double avail,
             double plot_h)
{
  double f = layout->font, m = layout->margin, W = layout->title.size.width + 2 * m;
  /* (start again from the fields both depend on) */
  Layout fresh;
  memset (&fresh, 0, sizeof fresh);
  fresh.font = layout->font;
  fresh.margin = layout->margin;
  fresh.title = layout->title;
  *layout = fresh;
  layout->plot_band = rect (m, top, W - 2 * m, plot_h);
  layout->weights_band = rect (m, top + plot_h + f * 1.2, W - 2 * m, avail - plot_h - f * 1.2);
  layout_plot (state, layout);
  layout_weights (state, layout);
}

static void
compute_layout (const CsGradientsViewState *state, int width, int height, Layout *layout)
{
  memset (layout, 0, sizeof *layout);
  double W = width, H = height;
  double f = layout->font = CLAMP (13.0 * MIN (W / 1280.0, H / 800.0), 9.0, 34.0) * cs_style_type ();
  double m = layout->margin = round (f * 1.2);
  layout->title = rect (m, m * 0.6, W - 2 * m, f * 1.7);
  if (W < 36 * f || H < 28 * f)
    {
      layout->too_small = TRUE;
      return;
    }
  gboolean weights = get_weight (state, &layout->weight);
  if (!has_norms (state) && !weights)
    {
      layout->empty = TRUE;
      return;
    }
  double top = bottom_of (layout->title) + f * 0.6;
  double avail = H - m - top;
  place_bands (state, layout, top, avail, round (avail * 0.36));
  /* pictures that leave room below them (few kernels, limited by the
   * width) give it to the plot, if they keep their size */
  if (layout->weights_data)
    {
      double spare = layout->info.origin.y - f * 0.6 - layout->used_bottom;
      if (spare > f * 2)
        {
          Layout taller = *layout;
          place_bands (state, &taller, top, avail,
                       MIN (round (layout->plot_band.size.height + spare), round (avail * 0.55)));
          if (taller.cell_w == layout->cell_w && taller.cell_h == layout->cell_h
              && taller.cols == layout->cols && taller.detail_cell == layout->detail_cell)
            *layout = taller;
        }
    }
}

/* ---------------------------------------------------------------------------
 * Drawing helpers
 */

static double
draw_text (cairo_t *cr, const char *text, double size, gboolean bold, double x, double y,
           double ax, double max_width, CsRgb color)
{
  PangoLayout *pl = cs_grid_layout_new (text, size, bold);
  if (max_width > 0)
    {
      pango_layout_set_width (pl, (int) (max_width * PANGO_SCALE));
      pango_layout_set_ellipsize (pl, PANGO_ELLIPSIZE_END);
    }
  PangoRectangle logical;
  pango_layout_get_extents (pl, NULL, &logical);
  double w = (double) logical.width / PANGO_SCALE, h = (double) logical.height / PANGO_SCALE;
  cs_grid_draw_layout (cr, pl, x - ax * w, y, color);
  g_object_unref (pl);
  return h;
}

/* A paragraph wrapped to width, centred on x. */
static double
draw_paragraph (cairo_t *cr, const char *text, double size, gboolean bold, double x, double y,
                double width, CsRgb color)
{
  PangoLayout *pl = cs_grid_layout_new (text, size, bold);
  pango_layout_set_width (pl, (int) (width * PANGO_SCALE));
  pango_layout_set_wrap (pl, PANGO_WRAP_WORD_CHAR);
  pango_layout_set_alignment (pl, PANGO_ALIGN_CENTER);
  PangoRectangle logical;
  pango_layout_get_extents (pl, NULL, &logical);
  cs_grid_draw_layout (cr, pl, x - width / 2, y, color);
  g_object_unref (pl);
  return (double) logical.height / PANGO_SCALE;
}

static void
set_rgb (cairo_t *cr, CsRgb c)
{
  cairo_set_source_rgb (cr, c.r, c.g, c.b);
}

static void
frame (cairo_t *cr, graphene_rect_t r, CsRgb c)
{
  cairo_save (cr);
  set_rgb (cr, c);
  cairo_set_line_width (cr, 1.0 * cs_style_line ());
  cairo_rectangle (cr, round (r.origin.x) - 0.5, round (r.origin.y) - 0.5,
                   round (r.size.width) + 1, round (r.size.height) + 1);
  cairo_stroke (cr);
  cairo_restore (cr);
}

/* The heat-map legend: a bar on the diverging palette, −limit, 0 and
 * +limit under it. */
static void
draw_legend (cairo_t *cr, double limit, graphene_rect_t box, double font)
{
  double w = MIN (box.size.width, font * 18);
  double x = box.origin.x + (box.size.width - w) / 2, y = box.origin.y;
  double bar_h = round (font * 0.7), size = font * 0.8;
  const int steps = 64;
  cairo_save (cr);
  for (int i = 0; i < steps; i++)
    {
      double t = -1.0 + 2.0 * (i + 0.5) / steps;
      cs_palette_set_source (cr, cs_palette_color (CS_PALETTE_DIVERGING, t));
      cairo_rectangle (cr, x + w * i / steps, y, w / steps + 0.5, bar_h);
      cairo_fill (cr);
    }
  set_rgb (cr, AXIS);
  cairo_set_line_width (cr, 1.0 * cs_style_line ());
  cairo_rectangle (cr, x + 0.5, y + 0.5, w - 1, bar_h - 1);
  cairo_stroke (cr);
  g_autofree char *lo = format_number (-limit, 2);
  g_autofree char *hi = format_number (limit, 2);
  draw_text (cr, lo, size, FALSE, x, y + bar_h + 1, 0.0, -1, MUTED);
  draw_text (cr, "0", size, FALSE, x + w / 2, y + bar_h + 1, 0.5, -1, MUTED);
  draw_text (cr, hi, size, FALSE, x + w, y + bar_h + 1, 1.0, -1, MUTED);
  cairo_restore (cr);
}

/* ---------------------------------------------------------------------------
 * The norm plot
 */

static double
norm_y (const Layout *layout, double v)
{
  graphene_rect_t p = layout->plot;
  double bottom = bottom_of (p);
  if (!(v > 0))
    return bottom;
  double t = (log10 (v) - layout->lo_e) / (layout->hi_e - layout->lo_e);
  return CLAMP (bottom - t * p.size.height, p.origin.y, bottom);
}

static double
step_x (const Layout *layout, double step)
{
  graphene_rect_t p = layout->plot;
  if (layout->last <= layout->first)
    return p.origin.x + p.size.width / 2;
  return p.origin.x + (step - layout->first) / (double) (layout->last - layout->first)
                      * p.size.width;
}

/* 1, 2 or 5 × 10^k: the tick spacing that puts ticks at least min_gap
 * apart on a span of `span` units drawn `width` pixels long. */
static double
nice_step (double span, double width, double min_gap)
{
  double raw = span * min_gap / MAX (width, 1.0);
  double p = pow (10, floor (log10 (MAX (raw, 1e-12))));
  for (int i = 0; i < 3; i++)
    {
      double m = (double[]) { 1, 2, 5 }[i] * p;
      if (m >= raw)
        return m;
    }
  return 10 * p;
}

static void
draw_axes (const CsGradientsViewState *state, const Layout *layout, cairo_t *cr)
{
  graphene_rect_t p = layout->plot;
  double f = layout->font, size = f * 0.85;
  double x0 = p.origin.x, x1 = right_of (p), y0 = p.origin.y, y1 = bottom_of (p);
  cairo_save (cr);
  cairo_set_line_width (cr, 1.0 * cs_style_line ());

  /* decades: a grid line and a label every `every` decades, where they fit */
  int n_dec = layout->hi_e - layout->lo_e;
  int every = 1;
  while (every < n_dec && p.size.height / n_dec * every < f * 1.6)
    every++;
  for (int e = layout->lo_e; e <= layout->hi_e; e++)
    {
      double y = round (norm_y (layout, pow (10, e))) + 0.5;
      if ((e - layout->lo_e) % every == 0)
        {
          set_rgb (cr, GRID_LINE);
          cairo_move_to (cr, x0, y);
          cairo_line_to (cr, x1, y);
          cairo_stroke (cr);
          g_autofree char *label = format_decade (e);
          draw_text (cr, label, size, FALSE, x0 - f * 0.4, y - size * 0.65, 1.0, -1, MUTED);
        }
      /* minor ticks at 2 … 9 when the decades are tall enough */
      if (e < layout->hi_e && p.size.height / n_dec >= f * 2.5)
        {
          set_rgb (cr, AXIS);
          for (int k = 2; k <= 9; k++)
            {
              double ym = round (norm_y (layout, k * pow (10, e))) + 0.5;
              cairo_move_to (cr, x0, ym);
              cairo_line_to (cr, x0 + f * 0.3, ym);
            }
          cairo_stroke (cr);
        }
    }

  /* steps */
  double span = MAX ((double) (layout->last - layout->first), 1.0);
  double tick = MAX (nice_step (span, p.size.width, f * 7), 1.0);
  double t0 = ceil (layout->first / tick) * tick;
  for (double s = t0; s <= layout->last + 1e-9; s += tick)
    {
      double x = round (step_x (layout, s)) + 0.5;
      set_rgb (cr, GRID_LINE);
      cairo_move_to (cr, x, y0);
      cairo_line_to (cr, x, y1);
      cairo_stroke (cr);
      set_rgb (cr, AXIS);
      cairo_move_to (cr, x, y1);
      cairo_line_to (cr, x, y1 + f * 0.3);
      cairo_stroke (cr);
      char label[32];
      g_snprintf (label, sizeof label, "%.0f", s);
      draw_text (cr, label, size, FALSE, x, y1 + f * 0.35, 0.5, -1, MUTED);
    }
  draw_text (cr, _("step (batches trained)"), size, FALSE, x1, y1 + f * 1.45, 1.0, -1, MUTED);

  set_rgb (cr, AXIS);
  cairo_move_to (cr, x0 - 0.5, y0);
  cairo_line_to (cr, x0 - 0.5, y1 + 0.5);
  cairo_line_to (cr, x1, y1 + 0.5);
  cairo_stroke (cr);
  cairo_restore (cr);
}

/* One series, decimated to the pixel columns of the plot: each column the
 * minimum and maximum of the buckets whose middle falls in it (the raw
 * norms), or the smoothed norm at its last bucket. */
typedef enum
{
  TRACE_RAW,
  TRACE_SMOOTH,
} Trace;

static void
trace_series (const CsGradientsViewState *state, const Layout *layout, cairo_t *cr, guint s,
              Trace trace)
{
  guint nb = cs_gradient_norms_get_n_buckets (state->norms);
  const CsNormSpan *spans = cs_gradient_norms_get_spans (state->norms);
  const CsNormBucket *b = cs_gradient_norms_get_buckets (state->norms, s);
  gboolean started = FALSE;
  long col = G_MINLONG;
  double x = 0, lo = NAN, hi = NAN, smooth = NAN;

#define FLUSH()                                                                   \
  G_STMT_START {                                                                  \
    if (trace == TRACE_RAW && !isnan (hi))                                        \
      {                                                                           \
        double ya = norm_y (layout, hi), yb = norm_y (layout, lo);                \
        if (!started)                                                             \
          cairo_move_to (cr, x, ya);                                              \
        else                                                                      \
          cairo_line_to (cr, x, ya);                                              \
        cairo_line_to (cr, x, yb);                                                \
        started = TRUE;                                                           \
      }                                                                           \
    else if (trace == TRACE_SMOOTH && !isnan (smooth))                            \
      {                                                                           \
        double ys = norm_y (layout, smooth);                                      \
        if (!started)                                                             \
          {                                                                       \
            cairo_move_to (cr, x, ys);                                            \
            cairo_line_to (cr, x, ys);                                            \
          }                                                                       \
        else                                                                      \
          cairo_line_to (cr, x, ys);                                              \
        started = TRUE;                                                           \
      }                                                                           \
  } G_STMT_END

  for (guint k = 0; k < nb; k++)
    {
      double bx = step_x (layout, (spans[k].first_step + spans[k].last_step) / 2.0);
      long c = (long) floor (bx);
      if (c != col)
        {
          if (col != G_MINLONG)
            FLUSH ();
          col = c;
          x = bx;
          lo = hi = smooth = NAN;
        }
      if (!isnan (b[k].max))
        {
          lo = isnan (lo) ? b[k].min : MIN (lo, b[k].min);
          hi = isnan (hi) ? b[k].max : MAX (hi, b[k].max);
        }
      if (!isnan (b[k].smooth) && !isnan (b[k].max))
        smooth = b[k].smooth;
    }
  if (col != G_MINLONG)
    FLUSH ();
#undef FLUSH
}

static CsRgb
row_rgb (const Layout *layout, guint r)
{
  return layout->row_color[r] == G_MAXUINT ? TOTAL : cs_palette_qualitative (layout->row_color[r]);
}

static void
stroke_series (const CsGradientsViewState *state, const Layout *layout, cairo_t *cr, guint r,
               Trace trace, double width, double alpha)
{
  guint s = layout->row_series[r];
  CsRgb c = row_rgb (layout, r);
  cairo_save (cr);
  cairo_new_path (cr);
  trace_series (state, layout, cr, s, trace);
  cairo_set_source_rgba (cr, c.r, c.g, c.b, alpha);
  cairo_set_line_width (cr, width);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  if (layout->row_color[r] == G_MAXUINT)
    {
      double dash[] = { width * 3, width * 2 };
      cairo_set_dash (cr, dash, 2, 0);
      cairo_set_line_cap (cr, CAIRO_LINE_CAP_BUTT);
    }
  cairo_stroke (cr);
  cairo_restore (cr);
}

/* The legend row of the layer whose weight is shown. */
static int
shown_row (const Layout *layout)
{
  if (!layout->weights_data)
    return -1;
  for (guint r = 0; r < layout->n_rows; r++)
    if (layout->row_series[r] == layout->weight.layer && layout->row_color[r] != G_MAXUINT)
      return (int) r;
  return -1;
}

static void
draw_plot (const CsGradientsViewState *state, const Layout *layout, cairo_t *cr)
{
  double f = layout->font;
  graphene_rect_t band = layout->plot_band;
  draw_text (cr, _("Gradient norm of each layer, ‖∂L/∂W‖₂ per batch (log scale)"), f * 1.05,
             TRUE, band.origin.x, band.origin.y, 0.0, band.size.width, INK);
  if (!layout->plot_data)
    {
      double y = band.origin.y + band.size.height * 0.38;
      y += draw_paragraph (cr, _("Train the network to see its gradients"), f * 1.3, TRUE,
                           band.origin.x + band.size.width / 2, y, band.size.width, MUTED);
      draw_paragraph (cr, _("In the Training view, press Step (→) for one batch or Play (Space)."),
                      f, FALSE, band.origin.x + band.size.width / 2, y + f * 0.3,
                      band.size.width, MUTED);
      return;
    }

  draw_axes (state, layout, cr);
  graphene_rect_t p = layout->plot;
  double lw = MAX (2.0, round (f * 0.16));
  cairo_save (cr);
  /* lines may reach a little past the area (round caps), never the labels */
  cairo_rectangle (cr, p.origin.x - lw, p.origin.y - lw, p.size.width + 2 * lw,
                   p.size.height + 2 * lw);
  cairo_clip (cr);
  /* the whole gradient under the layers, the layers in order */
  for (int pass = 0; pass < 2; pass++)
    for (guint r = 0; r < layout->n_rows; r++)
      {
        gboolean total = layout->row_color[r] == G_MAXUINT;
        if ((pass == 0) != total)
          continue;
        if (state->smooth)
          {
            stroke_series (state, layout, cr, r, TRACE_RAW, 1.0, 0.28);
            stroke_series (state, layout, cr, r, TRACE_SMOOTH, lw, 1.0);
          }
        else
          stroke_series (state, layout, cr, r, TRACE_RAW, lw, 1.0);
      }
  cairo_restore (cr);

  /* the legend */
  double size = f * 0.92;
  graphene_rect_t lg = layout->legend;
  draw_text (cr, legend_header (state), f * 0.85, FALSE, lg.origin.x + f * 0.3, lg.origin.y, 0.0, lg.size.width, MUTED);
  int shown = shown_row (layout);
  for (guint r = 0; r < layout->n_rows; r++)
    {
      graphene_rect_t row = layout->row_rects[r];
      double cy = row.origin.y + row.size.height / 2;
      CsRgb c = row_rgb (layout, r);
      if ((int) r == shown)
        {
          set_rgb (cr, SELECTED);
          cairo_rectangle (cr, row.origin.x, row.origin.y, row.size.width, row.size.height);
          cairo_fill (cr);
        }
      cairo_save (cr);
      cairo_set_source_rgb (cr, c.r, c.g, c.b);
      cairo_set_line_width (cr, lw);
      if (layout->row_color[r] == G_MAXUINT)
        {
          double dash[] = { lw * 3, lw * 2 };
          cairo_set_dash (cr, dash, 2, 0);
        }
      cairo_move_to (cr, row.origin.x + f * 0.3, round (cy) + 0.5 * ((int) lw % 2));
      cairo_line_to (cr, row.origin.x + f * 2.3, round (cy) + 0.5 * ((int) lw % 2));
      cairo_stroke (cr);
      cairo_restore (cr);
      g_autofree char *label = series_label (state, layout->row_series[r]);
      g_autofree char *value = format_number (series_value (state, layout->row_series[r]), 2);
      double vw;
      cs_grid_text_extents (value, size, FALSE, &vw, NULL);
      draw_text (cr, label, size, (int) r == shown, row.origin.x + f * 2.9, cy - size * 0.62,
                 0.0, row.size.width - f * 3.6 - vw, INK);
      draw_text (cr, value, size, FALSE, right_of (row) - f * 0.4, cy - size * 0.62, 1.0, -1,
                 MUTED);
    }
}

/* ---------------------------------------------------------------------------
 * The weights
 */

/* Where item i of a map is. */
static graphene_rect_t
item_rect (const Layout *layout, const MapBox *box, int i)
{
  int c = i % layout->cols, r = i / layout->cols;
  return rect (box->x0 + c * layout->pitch_x, box->y0 + r * layout->pitch_y, layout->item_w,
               layout->item_h);
}

static graphene_rect_t
cell_rect (const Layout *layout, const MapBox *box, gsize element)
{
  const Weight *w = &layout->weight;
  gsize per = (gsize) w->item_rows * w->item_cols;
  int item = (int) (element / per), p = (int) (element % per);
  graphene_rect_t it = item_rect (layout, box, item);
  return rect (it.origin.x + (p % w->item_cols) * layout->cell_w,
               it.origin.y + (p / w->item_cols) * layout->cell_h, layout->cell_w,
               layout->cell_h);
}

/* Copies a picture's edge pixels into the ring around it, so that a
 * filter shrinking the picture blends its edge with itself. */
static void
pad_picture (guint8 *data, int stride, int x, int y, int w, int h)
{
  for (int r = 0; r < h; r++)
    {
      guint32 *row = (guint32 *) (data + (gsize) (y + r) * stride);
      row[x - 1] = row[x];
      row[x + w] = row[x + w - 1];
    }
  memcpy ((guint32 *) (data + (gsize) (y - 1) * stride) + x - 1,
          (guint32 *) (data + (gsize) y * stride) + x - 1, (gsize) (w + 2) * 4);
  memcpy ((guint32 *) (data + (gsize) (y + h) * stride) + x - 1,
          (guint32 *) (data + (gsize) (y + h - 1) * stride) + x - 1, (gsize) (w + 2) * 4);
}

/* All pictures of a map in one image, a value per pixel, in their grid
 * with a ring of two pixels around each; then drawn picture by picture,
 * each scaled to its rectangle. */
static void
paint_map (const Layout *layout, const MapBox *box, const float *v, cairo_t *cr)
{
  const Weight *w = &layout->weight;
  int tw = w->item_cols, th = w->item_rows;
  /* a matrix with more rows or columns than pixels: each block of
   * xstep × ystep values drawn as its strongest (averaging would wash a
   * gradient out) */
  int xstep = 1, ystep = 1;
  if (w->arrangement == CS_GRADIENTS_ARRANGE_MATRIX)
    {
      xstep = layout->cell_w < 1.0 ? (int) ceil (1.0 / layout->cell_w) : 1;
      ystep = layout->cell_h < 1.0 ? (int) ceil (1.0 / layout->cell_h) : 1;
    }
  int pw = (tw + xstep - 1) / xstep, ph = (th + ystep - 1) / ystep;
  int img_w = layout->cols * (pw + 2), img_h = layout->rows * (ph + 2);
  if (img_w > 16384 || img_h > 16384)
    return;

  cairo_surface_t *img = cairo_image_surface_create (CAIRO_FORMAT_RGB24, img_w, img_h);
  if (cairo_surface_status (img) != CAIRO_STATUS_SUCCESS)
    {
      cairo_surface_destroy (img);
      return;
    }
  cairo_surface_flush (img);
  guint8 *data = cairo_image_surface_get_data (img);
  int stride = cairo_image_surface_get_stride (img);
  const guint32 *lut = diverging_lut ();
  double inv = 1.0 / box->limit;
  gsize per = (gsize) tw * th;
  for (int i = 0; i < w->n_items; i++)
    {
      int gx = (i % layout->cols) * (pw + 2) + 1, gy = (i / layout->cols) * (ph + 2) + 1;
      const float *src = v + per * i;
      for (int r = 0; r < ph; r++)
        {
          guint32 *row = (guint32 *) (data + (gsize) (gy + r) * stride) + gx;
          if (xstep == 1 && ystep == 1)
            {
              const float *vr = src + (gsize) r * tw;
              for (int c = 0; c < tw; c++)
                row[c] = lut_color (lut, vr[c], inv);
              continue;
            }
          for (int c = 0; c < pw; c++)
            {
              float strongest = NAN;
              for (int y = r * ystep; y < MIN ((r + 1) * ystep, th); y++)
                for (int x = c * xstep; x < MIN ((c + 1) * xstep, tw); x++)
                  {
                    float a = src[(gsize) y * tw + x];
                    if (isnan (strongest) || fabsf (a) > fabsf (strongest))
                      strongest = a;
                  }
              row[c] = lut_color (lut, strongest, inv);
            }
        }
      pad_picture (data, stride, gx, gy, pw, ph);
    }
  cairo_surface_mark_dirty (img);

  double sx = layout->cell_w * xstep, sy = layout->cell_h * ystep;  /* device per pixel */
  cairo_pattern_t *pattern = cairo_pattern_create_for_surface (img);
  cairo_pattern_set_filter (pattern, sx < 1.0 || sy < 1.0 ? CAIRO_FILTER_GOOD
                                                          : CAIRO_FILTER_NEAREST);
  cairo_pattern_set_extend (pattern, CAIRO_EXTEND_PAD);
  cairo_save (cr);
  cairo_set_source (cr, pattern);
  for (int i = 0; i < w->n_items; i++)
    {
      graphene_rect_t r = item_rect (layout, box, i);
      int gx = (i % layout->cols) * (pw + 2) + 1, gy = (i / layout->cols) * (ph + 2) + 1;
      /* device → image: (x − r.x) / sx + gx */
      cairo_matrix_t m;
      cairo_matrix_init_scale (&m, 1.0 / sx, 1.0 / sy);
      cairo_matrix_translate (&m, -r.origin.x + gx * sx, -r.origin.y + gy * sy);
      cairo_pattern_set_matrix (pattern, &m);
      cairo_rectangle (cr, r.origin.x, r.origin.y, r.size.width, r.size.height);
      cairo_fill (cr);
    }
  cairo_restore (cr);
  cairo_pattern_destroy (pattern);
  cairo_surface_destroy (img);
}

static const char *
map_caption (CsGradientsMap map)
{
  return map == CS_GRADIENTS_MAP_WEIGHTS ? _("Weights w")
                                         : _("Gradients ∂L/∂w of the last batch");
}

static gsize
cursor_element (const CsGradientsViewState *state, const Weight *w)
{
  if (state->cursor < 0)
    return G_MAXSIZE;
  return MIN ((gsize) state->cursor, w->numel - 1);
}

static void
outline (cairo_t *cr, graphene_rect_t r, double lw, CsRgb c)
{
  cairo_save (cr);
  set_rgb (cr, c);
  cairo_set_line_width (cr, lw);
  cairo_rectangle (cr, r.origin.x - lw / 2, r.origin.y - lw / 2, r.size.width + lw,
                   r.size.height + lw);
  cairo_stroke (cr);
  cairo_restore (cr);
}

static void
draw_map (const CsGradientsViewState *state, const Layout *layout, const MapBox *box,
          cairo_t *cr)
{
  double f = layout->font;
  const Weight *w = &layout->weight;
  draw_text (cr, map_caption (box->map), f * 0.95, TRUE,
             box->caption.origin.x + box->caption.size.width / 2, box->caption.origin.y, 0.5,
             box->caption.size.width, INK);
  if (!box->has_values)
    {
      graphene_rect_t a = box->area;
      set_rgb (cr, CS_GRID_BACKGROUND);
      cairo_rectangle (cr, a.origin.x, a.origin.y, a.size.width, a.size.height);
      cairo_fill (cr);
      frame (cr, a, GRID_LINE);
      draw_paragraph (cr, box->map == CS_GRADIENTS_MAP_GRADIENTS
                          ? _("No gradients yet: they come with the first batch trained.")
                          : _("No weights in this snapshot."),
                      f, FALSE, a.origin.x + a.size.width / 2, a.origin.y + a.size.height / 2 - f,
                      a.size.width * 0.8, MUTED);
      return;
    }
  paint_map (layout, box, map_values (w, box->map), cr);
  if (w->arrangement == CS_GRADIENTS_ARRANGE_MATRIX)
    {
      frame (cr, box->area, AXIS);
      double size = f * 0.8;
      char text[64];
      g_snprintf (text, sizeof text, _("%d outputs ↓ · %d inputs →"), w->item_rows, w->item_cols);
      draw_text (cr, text, size, FALSE, box->area.origin.x, bottom_of (box->area) + f * 0.2,
                 0.0, MAX (box->area.size.width, f * 14), MUTED);
    }
  draw_legend (cr, box->limit, box->legend, f);

  /* the cursor: its picture framed, its cell marked */
  gsize e = cursor_element (state, w);
  if (e == G_MAXSIZE)
    return;
  /* the picture's frame in the gap around it, never over a neighbour's
   * cells; the cell's inside it */
  gsize per = (gsize) w->item_rows * w->item_cols;
  double gap = MIN (layout->pitch_x - layout->item_w, layout->pitch_y - layout->item_h);
  double lw = MIN (MAX (2.0, round (f * 0.15)), gap);
  if (w->arrangement != CS_GRADIENTS_ARRANGE_MATRIX && lw >= 1.0)
    {
      graphene_rect_t it = item_rect (layout, box, (int) (e / per));
      outline (cr, it, lw, INK);
    }
  graphene_rect_t c = cell_rect (layout, box, e);
  if (c.size.width >= 3 && c.size.height >= 3)
    {
      double l = MAX (1.0, MIN (round (f * 0.1), floor (c.size.width / 4)));
      cairo_save (cr);
      cairo_set_source_rgb (cr, 1.0, 0.69, 0.0);
      cairo_set_line_width (cr, l);
      cairo_rectangle (cr, c.origin.x + l / 2, c.origin.y + l / 2, c.size.width - l,
                       c.size.height - l);
      cairo_stroke (cr);
      cairo_restore (cr);
    }
  if (w->arrangement == CS_GRADIENTS_ARRANGE_MATRIX)
    {
      /* the row and the column pointed at from the matrix's edges */
      double a = f * 0.45;
      double cx = c.origin.x + c.size.width / 2, cy = c.origin.y + c.size.height / 2;
      double top = box->area.origin.y - 1, left = box->area.origin.x - 1;
      cairo_save (cr);
      set_rgb (cr, INK);
      cairo_move_to (cr, cx, top);
      cairo_line_to (cr, cx - a * 0.6, top - a);
      cairo_line_to (cr, cx + a * 0.6, top - a);
      cairo_close_path (cr);
      cairo_move_to (cr, left, cy);
      cairo_line_to (cr, left - a, cy - a * 0.6);
      cairo_line_to (cr, left - a, cy + a * 0.6);
      cairo_close_path (cr);
      cairo_fill (cr);
      cairo_restore (cr);
    }
}

/* A cell of an enlarged kernel: its colour, and its value to three
 * significant digits, as large as fits. */
static void
draw_value_cell (cairo_t *cr, graphene_rect_t r, double limit, double v, double size)
{
  CsRgb fill = cs_palette_color (CS_PALETTE_DIVERGING,
                                 cs_palette_normalize (CS_PALETTE_DIVERGING, v, limit));
  cairo_save (cr);
  cs_palette_set_source (cr, fill);
  cairo_rectangle (cr, r.origin.x, r.origin.y, r.size.width, r.size.height);
  cairo_fill (cr);
  set_rgb (cr, AXIS);
  cairo_set_line_width (cr, 1.0 * cs_style_line ());
  cairo_rectangle (cr, r.origin.x + 0.5, r.origin.y + 0.5, r.size.width - 1, r.size.height - 1);
  cairo_stroke (cr);
  g_autofree char *text = format_number (v, 3);
  if (size >= 6.0)
    cs_grid_draw_text (cr, text, size, FALSE, r.origin.x + r.size.width / 2,
                       r.origin.y + r.size.height / 2, 0.5, 0.5, cs_palette_text_on (fill));
  cairo_restore (cr);
}

/* The cursor's picture, enlarged: a kernel with its numbers, a template a
 * pixel per cell; one per map shown. */
static void
draw_detail (const CsGradientsViewState *state, const Layout *layout, cairo_t *cr)
{
  const Weight *w = &layout->weight;
  graphene_rect_t d = layout->detail;
  if (d.size.width <= 0)
    return;
  gsize e = cursor_element (state, w);
  if (e == G_MAXSIZE)
    e = 0;
  double f = layout->font;
  gsize per = (gsize) w->item_rows * w->item_cols;
  int item = (int) (e / per), p = (int) (e % per);
  char title[96];
  if (w->arrangement == CS_GRADIENTS_ARRANGE_KERNELS)
    g_snprintf (title, sizeof title, _("Kernel %d ← input %d"), item / w->C_in, item % w->C_in);
  else
    g_snprintf (title, sizeof title, _("Unit %d"), item);
  draw_text (cr, title, f * 0.95, TRUE, d.origin.x, d.origin.y, 0.0, d.size.width, INK);
  double y = d.origin.y + layout->detail_title_h;
  double caption = layout->detail_caption_h, cell = layout->detail_cell;
  if (cell < 1)
    return;
  /* one size of type for the kernel's numbers, the longest fitting */
  double size = cell * 0.26;
  for (guint m = 0; m < layout->n_maps && w->arrangement == CS_GRADIENTS_ARRANGE_KERNELS; m++)
    {
      const float *v = map_values (w, layout->maps[m].map);
      for (gsize k = 0; v != NULL && k < per; k++)
        {
          g_autofree char *text = format_number (v[per * item + k], 3);
          double tw;
          cs_grid_text_extents (text, cell * 0.26, FALSE, &tw, NULL);
          size = MIN (size, cell * 0.26 * cell * 0.86 / MAX (tw, 1.0));
        }
    }
  for (guint m = 0; m < layout->n_maps; m++)
    {
      const MapBox *box = &layout->maps[m];
      const float *v = map_values (w, box->map);
      const char *label = box->map == CS_GRADIENTS_MAP_WEIGHTS
                          ? (v != NULL ? "w" : _("w: none in this snapshot"))
                          : (v != NULL ? "∂L/∂w" : _("∂L/∂w: none yet"));
      draw_text (cr, label, f * 0.9, FALSE, d.origin.x, y, 0.0, d.size.width, MUTED);
      y += caption;
      if (v == NULL)
        {
          y += cell * w->item_rows + f * 0.6;
          continue;
        }
      const float *src = v + per * item;
      double x0 = d.origin.x;
      if (w->arrangement == CS_GRADIENTS_ARRANGE_KERNELS)
        {
          for (int r = 0; r < w->item_rows; r++)
            for (int c = 0; c < w->item_cols; c++)
              draw_value_cell (cr, rect (x0 + c * cell, y + r * cell, cell, cell), box->limit,
                               src[r * w->item_cols + c], size);
        }
      else
        {
          const guint32 *lut = diverging_lut ();
          cairo_save (cr);
          for (int r = 0; r < w->item_rows; r++)
            for (int c = 0; c < w->item_cols; c++)
              {
                guint32 px = lut_color (lut, src[r * w->item_cols + c], 1.0 / box->limit);
                cairo_set_source_rgb (cr, (px >> 16) / 255.0, ((px >> 8) & 0xff) / 255.0,
                                      (px & 0xff) / 255.0);
                cairo_rectangle (cr, x0 + c * cell, y + r * cell, cell, cell);
                cairo_fill (cr);
              }
          cairo_restore (cr);
          frame (cr, rect (x0, y, cell * w->item_cols, cell * w->item_rows), AXIS);
        }
      if (state->cursor >= 0)
        {
          graphene_rect_t cr_rect = rect (x0 + (p % w->item_cols) * cell,
                                          y + (p / w->item_cols) * cell, cell, cell);
          if (w->arrangement == CS_GRADIENTS_ARRANGE_KERNELS)
            {
              cairo_rectangle_t r = { cr_rect.origin.x, cr_rect.origin.y, cell, cell };
              cs_grid_draw_mark (cr, &r, CS_GRID_MARK_WINDOW);
            }
          else
            outline (cr, cr_rect, MAX (1.0, round (f * 0.1)), (CsRgb) { 1.0, 0.69, 0.0 });
        }
      y += cell * w->item_rows + f * 0.6;
    }
}

static void
draw_weights (const CsGradientsViewState *state, const Layout *layout, cairo_t *cr)
{
  double f = layout->font;
  graphene_rect_t band = layout->weights_band;
  if (!layout->weights_data)
    {
      const char *text = state->snapshot == NULL
                         ? _("The weights appear here with the next snapshot of the network.")
                         : _("This network has no weights to show (no convolution or linear layer).");
      draw_text (cr, _("Weights and their gradients"), f * 1.05, TRUE, band.origin.x,
                 band.origin.y, 0.0, band.size.width, INK);
      draw_paragraph (cr, text, f * 1.1, FALSE, band.origin.x + band.size.width / 2,
                      band.origin.y + band.size.height * 0.4, band.size.width, MUTED);
      return;
    }
  const Weight *w = &layout->weight;
  g_autofree char *what = cs_gradients_view_state_describe_weight (state, (guint) w->index);
  const char *how;
  switch (w->arrangement)
    {
    case CS_GRADIENTS_ARRANGE_KERNELS:
      how = w->C_in > 1 ? _("one small picture per kernel; the kernels of an output channel in a row")
                        : _("one small picture per kernel");
      break;
    case CS_GRADIENTS_ARRANGE_TEMPLATES:
      how = _("each unit's weights as a picture of the image it reads");
      break;
    case CS_GRADIENTS_ARRANGE_MATRIX:
    default:
      how = _("the weight matrix, a row per output");
      break;
    }
  g_autofree char *header = g_strdup_printf (_("Layer %s — %s"), what, how);
  draw_text (cr, header, f * 1.05, TRUE, band.origin.x, band.origin.y, 0.0, band.size.width, INK);

  for (guint m = 0; m < layout->n_maps; m++)
    draw_map (state, layout, &layout->maps[m], cr);
  draw_detail (state, layout, cr);

  g_autofree char *info = cs_gradients_view_state_describe_cursor (state);
  if (info != NULL)
    draw_text (cr, info, f * 0.95, FALSE, layout->info.origin.x, layout->info.origin.y, 0.0,
               layout->info.size.width, INK);
}

/* ---------------------------------------------------------------------------
 * The whole picture
 */

static void
draw_title (const CsGradientsViewState *state, const Layout *layout, cairo_t *cr)
{
  double f = layout->font;
  graphene_rect_t t = layout->title;
  g_autofree char *title = state->snapshot != NULL
                           ? g_strdup_printf (_("%s — gradients while training"),
                                              cs_snapshot_get_title (state->snapshot))
                           : g_strdup (_("Gradients while training"));
  g_autofree char *right = NULL;
  if (has_norms (state))
    {
      guint nb = cs_gradient_norms_get_n_buckets (state->norms);
      gint64 step = cs_gradient_norms_get_spans (state->norms)[nb - 1].last_step;
      guint total = cs_gradient_norms_get_n_layers (state->norms);
      g_autofree char *norm = format_number (cs_gradient_norms_get_last (state->norms, total), 3);
      right = g_strdup_printf (_("step %" PRId64 " · ‖∂L/∂W‖₂ = %s"), step, norm);
    }
  else if (state->snapshot != NULL)
    right = g_strdup_printf (_("step %" PRId64), cs_snapshot_get_step (state->snapshot));
  double rw = 0;
  if (right != NULL)
    {
      cs_grid_text_extents (right, f, FALSE, &rw, NULL);
      draw_text (cr, right, f, FALSE, right_of (t), t.origin.y + f * 0.12, 1.0, -1, MUTED);
    }
  draw_text (cr, title, f * 1.15, TRUE, t.origin.x, t.origin.y, 0.0,
             MAX (t.size.width - rw - f * 2, f * 10), INK);
}

void
cs_gradients_view_state_init (CsGradientsViewState *state)
{
  memset (state, 0, sizeof *state);
  state->weight = -1;
  state->show = CS_GRADIENTS_SHOW_BOTH;
  state->smooth = TRUE;
  state->cursor = 0;
}

void
cs_gradients_view_state_draw (const CsGradientsViewState *state, cairo_t *cr, int width,
                              int height)
{
  g_return_if_fail (state != NULL && cr != NULL);
  Layout layout;
  compute_layout (state, width, height, &layout);

  cairo_save (cr);
  cairo_rectangle (cr, 0, 0, width, height);
  cairo_clip (cr);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);

  double f = layout.font;
  if (layout.too_small)
    {
      draw_paragraph (cr, _("Make the window larger to see the gradients."), f, FALSE,
                      width / 2.0, height / 2.0 - f, width, MUTED);
      cairo_restore (cr);
      return;
    }
  if (layout.empty)
    {
      draw_title (state, &layout, cr);
      double y = height * 0.4;
      y += draw_paragraph (cr, _("Train the network to see its gradients"), f * 1.6, TRUE,
                           width / 2.0, y, width - 2 * layout.margin, INK);
      draw_paragraph (cr, _("In the Training view, press Step (→) for one batch or Play (Space): "
                            "each layer's gradient norm, the weights and their gradients "
                            "appear here as the network learns."),
                      f * 1.1, FALSE, width / 2.0, y + f * 0.6,
                      MIN (width - 2 * layout.margin, f * 48), MUTED);
      cairo_restore (cr);
      return;
    }

  draw_title (state, &layout, cr);
  draw_plot (state, &layout, cr);
  draw_weights (state, &layout, cr);
  if (state->highlight != NULL)
    {
      const graphene_rect_t *r = g_str_equal (state->highlight, "norms") ? &layout.plot_band
                                 : g_str_equal (state->highlight, "weights") ? &layout.weights_band
                                 : NULL;
      if (r != NULL)
        cs_view_draw_highlight (cr, r->origin.x, r->origin.y, r->size.width, r->size.height,
                                layout.font);
    }
  cairo_restore (cr);
}

/* ---------------------------------------------------------------------------
 * Geometry, selection and words, for the widget and the tests
 */

static const MapBox *
find_map (const Layout *layout, CsGradientsMap map)
{
  for (guint m = 0; m < layout->n_maps; m++)
    if (layout->maps[m].map == map)
      return &layout->maps[m];
  return NULL;
}

gboolean
cs_gradients_view_state_get_cell_rect (const CsGradientsViewState *state, int width, int height,
                                       CsGradientsMap map, gsize element, graphene_rect_t *out)
{
  Layout layout;
  compute_layout (state, width, height, &layout);
  const MapBox *box = layout.weights_data ? find_map (&layout, map) : NULL;
  if (box == NULL || !box->has_values || element >= layout.weight.numel)
    return FALSE;
  *out = cell_rect (&layout, box, element);
  return TRUE;
}

gboolean
cs_gradients_view_state_hit_cell (const CsGradientsViewState *state, int width, int height,
                                  double x, double y, CsGradientsMap *map, gsize *element)
{
  Layout layout;
  compute_layout (state, width, height, &layout);
  if (!layout.weights_data)
    return FALSE;
  const Weight *w = &layout.weight;
  for (guint m = 0; m < layout.n_maps; m++)
    {
      const MapBox *box = &layout.maps[m];
      if (!graphene_rect_contains_point (&box->area, &GRAPHENE_POINT_INIT ((float) x, (float) y)))
        continue;
      int col = (int) floor ((x - box->x0) / layout.pitch_x);
      int row = (int) floor ((y - box->y0) / layout.pitch_y);
      int item = row * layout.cols + col;
      if (col < 0 || col >= layout.cols || item < 0 || item >= w->n_items)
        return FALSE;
      graphene_rect_t it = item_rect (&layout, box, item);
      int c = (int) floor ((x - it.origin.x) / layout.cell_w);
      int r = (int) floor ((y - it.origin.y) / layout.cell_h);
      if (c < 0 || c >= w->item_cols || r < 0 || r >= w->item_rows)
        return FALSE;
      *map = box->map;
      *element = (gsize) item * w->item_rows * w->item_cols + (gsize) r * w->item_cols + c;
      return TRUE;
    }
  return FALSE;
}

gboolean
cs_gradients_view_state_select_weight (CsGradientsViewState *state, int i)
{
  guint n = cs_gradients_view_state_get_n_weights (state);
  if (i < 0 || (guint) i >= n)
    return FALSE;
  if (cs_gradients_view_state_get_shown_weight (state) != i)
    state->cursor = 0;
  state->weight = i;
  return TRUE;
}

gboolean
cs_gradients_view_state_select_layer (CsGradientsViewState *state, guint layer)
{
  guint n = cs_gradients_view_state_get_n_weights (state);
  int shown = cs_gradients_view_state_get_shown_weight (state);
  int first = -1, next = -1;
  for (guint i = 0; i < n; i++)
    {
      if (cs_gradients_view_state_get_weight_layer (state, i) != layer)
        continue;
      if (first < 0)
        first = (int) i;
      if (next < 0 && shown >= 0 && (int) i > shown
          && cs_gradients_view_state_get_weight_layer (state, (guint) shown) == layer)
        next = (int) i;
    }
  if (first < 0)
    return FALSE;
  return cs_gradients_view_state_select_weight (state, next >= 0 ? next : first);
}

gboolean
cs_gradients_view_state_move_cursor (CsGradientsViewState *state, int width, int height,
                                     CsGradientsMove move)
{
  Layout layout;
  compute_layout (state, width, height, &layout);
  if (!layout.weights_data)
    return FALSE;
  const Weight *w = &layout.weight;
  gsize per = (gsize) w->item_rows * w->item_cols;
  gsize e = state->cursor < 0 ? 0 : MIN ((gsize) state->cursor, w->numel - 1);
  gssize item = (gssize) (e / per), p = (gssize) (e % per);
  if (w->arrangement == CS_GRADIENTS_ARRANGE_MATRIX)
    {
      /* a matrix: the arrows move by one cell */
      gssize r = p / w->item_cols, c = p % w->item_cols;
      switch (move)
        {
        case CS_GRADIENTS_MOVE_LEFT: c = MAX (c - 1, 0); break;
        case CS_GRADIENTS_MOVE_RIGHT: c = MIN (c + 1, w->item_cols - 1); break;
        case CS_GRADIENTS_MOVE_UP: r = MAX (r - 1, 0); break;
        case CS_GRADIENTS_MOVE_DOWN: r = MIN (r + 1, w->item_rows - 1); break;
        case CS_GRADIENTS_MOVE_HOME: r = c = 0; break;
        case CS_GRADIENTS_MOVE_END: r = w->item_rows - 1; c = w->item_cols - 1; break;
        default: g_assert_not_reached ();
        }
      p = r * w->item_cols + c;
    }
  else
    switch (move)
      {
      case CS_GRADIENTS_MOVE_LEFT: item = MAX (item - 1, 0); break;
      case CS_GRADIENTS_MOVE_RIGHT: item = MIN (item + 1, w->n_items - 1); break;
      case CS_GRADIENTS_MOVE_UP: if (item - layout.cols >= 0) item -= layout.cols; break;
      case CS_GRADIENTS_MOVE_DOWN: if (item + layout.cols < w->n_items) item += layout.cols; break;
      case CS_GRADIENTS_MOVE_HOME: item = p = 0; break;
      case CS_GRADIENTS_MOVE_END: item = w->n_items - 1; break;
      default: g_assert_not_reached ();
      }
  int cursor = (int) ((gsize) item * per + (gsize) p);
  if (cursor == state->cursor)
    return FALSE;
  state->cursor = cursor;
  return TRUE;
}

char *
cs_gradients_view_state_describe_cursor (const CsGradientsViewState *state)
{
  Weight w;
  if (!get_weight (state, &w) || state->cursor < 0)
    return NULL;
  gsize e = MIN ((gsize) state->cursor, w.numel - 1);
  gsize per = (gsize) w.item_rows * w.item_cols;
  int item = (int) (e / per), p = (int) (e % per);
  int r = p / w.item_cols, c = p % w.item_cols;
  g_autofree char *where = NULL;
  switch (w.arrangement)
    {
    case CS_GRADIENTS_ARRANGE_KERNELS:
      where = g_strdup_printf (_("Kernel of output channel %d from input channel %d, row %d, column %d"),
                               item / w.C_in, item % w.C_in, r, c);
      break;
    case CS_GRADIENTS_ARRANGE_TEMPLATES:
      where = g_strdup_printf (_("Unit %d, weight of pixel (%d, %d)"), item, r, c);
      break;
    case CS_GRADIENTS_ARRANGE_MATRIX:
    default:
      where = g_strdup_printf (_("Output %d, input %d"), r, c);
      break;
    }
  g_autofree char *wv = w.value != NULL ? format_number (w.value->data[e], 3) : NULL;
  g_autofree char *gv = w.grad != NULL ? format_number (w.grad->data[e], 3) : NULL;
  GString *s = g_string_new (where);
  g_string_append (s, ": ");
  if (wv != NULL)
    g_string_append_printf (s, "w = %s", wv);
  if (wv != NULL && gv != NULL)
    g_string_append (s, ", ");
  if (gv != NULL)
    g_string_append_printf (s, "∂L/∂w = %s", gv);
  return g_string_free (s, FALSE);
}

gboolean
cs_gradients_view_state_get_plot_rect (const CsGradientsViewState *state, int width, int height,
                                       graphene_rect_t *out)
{
  Layout layout;
  compute_layout (state, width, height, &layout);
  if (!layout.plot_data)
    return FALSE;
  *out = layout.plot;
  return TRUE;
}

gboolean
cs_gradients_view_state_get_axes (const CsGradientsViewState *state, double *lo, double *hi,
                                  gint64 *first, gint64 *last)
{
  if (!has_norms (state))
    return FALSE;
  Layout layout;
  memset (&layout, 0, sizeof layout);
  compute_axes (state, &layout);
  gboolean any = FALSE;
  for (guint s = 0; s < n_series (state); s++)
    {
      double a, b;
      any |= series_plotted (state, s) && cs_gradient_norms_get_range (state->norms, s, &a, &b);
    }
  if (!any)
    return FALSE;
  *lo = pow (10, layout.lo_e);
  *hi = pow (10, layout.hi_e);
  *first = layout.first;
  *last = layout.last;
  return TRUE;
}

gboolean
cs_gradients_view_state_get_legend_rect (const CsGradientsViewState *state, int width,
                                         int height, guint series, graphene_rect_t *out)
{
  Layout layout;
  compute_layout (state, width, height, &layout);
  for (guint r = 0; r < layout.n_rows; r++)
    if (layout.row_series[r] == series)
      {
        *out = layout.row_rects[r];
        return TRUE;
      }
  return FALSE;
}

gboolean
cs_gradients_view_state_hit_legend (const CsGradientsViewState *state, int width, int height,
                                    double x, double y, guint *series)
{
  Layout layout;
  compute_layout (state, width, height, &layout);
  for (guint r = 0; r < layout.n_rows; r++)
    if (graphene_rect_contains_point (&layout.row_rects[r], &GRAPHENE_POINT_INIT ((float) x, (float) y)))
      {
        *series = layout.row_series[r];
        return TRUE;
      }
  return FALSE;
}
