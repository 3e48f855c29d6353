/* cs-training-view.c — the Training view */
#include "cs-training-view.h"

#include "cs-grid.h"
#include "cs-palette.h"
#include "cs-style.h"

#include <glib/gi18n.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#define BG_RGB      1.0, 1.0, 1.0
#define TEXT_RGB    0.13, 0.13, 0.15
/* captions and axes: in full ink for a projector (cs-style.h) */
#define DIM_V     (cs_style_high_contrast () ? 0.13 : 0.40)
#define DIM_RGB     DIM_V, DIM_V, DIM_V
#define GRID_RGB    0.88, 0.88, 0.90
#define FRAME_V   (cs_style_high_contrast () ? 0.25 : 0.60)
#define FRAME_RGB   FRAME_V, FRAME_V, FRAME_V
#define WARN_RGB    0.75, 0.11, 0.16

/* The series: ColorBrewer's Dark2, readable with the common colour
 * blindnesses and in grey. */
static const CsRgb TRAIN_RGB = { 0.106, 0.620, 0.467 };
static const CsRgb TEST_RGB  = { 0.851, 0.373, 0.008 };
static const CsRgb RIGHT_RGB = { 0.106, 0.620, 0.467 };
static const CsRgb WRONG_RGB = { 0.75, 0.11, 0.16 };
static const CsRgb TEXT      = { 0.13, 0.13, 0.15 };
#define DIM ((CsRgb) { DIM_RGB })
static const CsRgb WARN      = { 0.75, 0.11, 0.16 };

/* ---- state ------------------------------------------------------------------ */

void
cs_training_view_state_init (CsTrainingViewState *state)
{
  g_return_if_fail (state != NULL);
  memset (state, 0, sizeof *state);
  state->status.loss = state->status.loss_after = NAN;
  state->status.running_loss = state->status.running_accuracy = NAN;
  state->status.test_loss = state->status.test_accuracy = NAN;
  state->status.test_step = -1;
  state->status.viewing_step = -1;
}

void
cs_training_view_smooth (const float *values, gsize stride, gsize n, double window, float *out)
{
  double beta = 1.0 - 1.0 / MAX (window, 1.0);
  double avg = 0.0, weight = 0.0;
  for (gsize i = 0; i < n; i++)
    {
      float v = values[i * stride];
      if (isfinite (v))
        {
          avg = beta * avg + (1.0 - beta) * v;
          weight = beta * weight + (1.0 - beta);
        }
      out[i] = weight > 0.0 ? (float) (avg / weight) : NAN;
    }
}

/* The first layer with a trainable weight, or −1. */
static int
first_weight_layer (CsSnapshot *snap, const CsTensor **value, const CsTensor **grad)
{
  for (guint l = 0; l < cs_snapshot_get_n_layers (snap); l++)
    {
      *value = cs_snapshot_get_layer_param (snap, l, "weight");
      *grad = cs_snapshot_get_layer_param_grad (snap, l, "weight");
      if (*value != NULL && *grad != NULL)
        return (int) l;
    }
  return -1;
}

gboolean
cs_training_view_state_get_update (const CsTrainingViewState *state, CsWeightUpdate *u)
{
  g_return_val_if_fail (state != NULL && u != NULL, FALSE);

  const CsTrainingFrame *f = state->frame;
  if (f == NULL || f->snapshot == NULL || f->params_before == NULL || f->status.optim_step < 1)
    return FALSE;
  gsize P;
  const float *params = cs_snapshot_get_param_block (f->snapshot, &P);
  const float *grads = cs_snapshot_get_grad_block (f->snapshot, NULL);
  const float *optim = cs_snapshot_get_optim_state (f->snapshot, NULL);
  const float *before = f->params_before;
  if (params == NULL || grads == NULL || optim == NULL || f->n_params != P)
    return FALSE;

  /* the weight of the first layer with the largest gradient: the one that
   * moves most visibly */
  const CsTensor *w, *g;
  int layer = first_weight_layer (f->snapshot, &w, &g);
  if (layer < 0)
    return FALSE;
  gsize n = (gsize) cs_tensor_numel (g), best = 0;
  for (gsize i = 1; i < n; i++)
    if (fabsf (g->data[i]) > fabsf (g->data[best]))
      best = i;

  memset (u, 0, sizeof *u);
  u->index = (gsize) (w->data - params) + best;
  g_return_val_if_fail (u->index < P, FALSE);

  /* its name, PyTorch's way: 1.weight[37, 402] */
  gsize strides[CS_MAX_DIMS], s = 1;
  for (int d = w->ndim - 1; d >= 0; d--)
    {
      strides[d] = s;
      s *= (gsize) w->shape[d];
    }
  g_autoptr(GString) name = g_string_new (NULL);
  g_string_printf (name, "%d.weight[", layer);
  for (int d = 0; d < w->ndim; d++)
    g_string_append_printf (name, "%s%" G_GSIZE_FORMAT, d ? ", " : "", (best / strides[d]) % (gsize) w->shape[d]);
  g_string_append_c (name, ']');
  g_strlcpy (u->name, name->str, sizeof u->name);

  const CsOptimParams *hp = &f->status.optim.hp;
  u->optim = f->status.optim;
  u->t = f->status.optim_step;
  u->before = before[u->index];
  u->after = params[u->index];
  u->grad = grads[u->index];
  u->state1 = optim[u->index];
  u->state2 = optim[P + u->index];
  u->effective_grad = u->grad + hp->weight_decay * u->before;

  double d = u->effective_grad;
  switch (u->optim.kind)
    {
    case CS_OPTIM_SGD:
      if (hp->momentum != 0.0f)
        d = hp->nesterov ? d + hp->momentum * u->state1 : u->state1;
      u->step_value = hp->lr * d;
      break;
    case CS_OPTIM_ADAM:
      {
        double bc1 = 1.0 - pow (hp->beta1, (double) u->t);
        double bc2 = 1.0 - pow (hp->beta2, (double) u->t);
        u->step_value = hp->lr * (u->state1 / bc1) / (sqrt (u->state2 / bc2) + hp->eps);
      }
      break;
    case CS_OPTIM_RMSPROP:
      if (hp->momentum > 0.0f)
        u->step_value = hp->lr * u->state2;
      else
        u->step_value = hp->lr * d / (sqrt (u->state1) + hp->eps);
      break;
    }
  u->predicted = u->before - u->step_value;
  return TRUE;
}

static char *
num (double v)
{
  return v == 0.0 ? g_strdup ("0") : g_strdup_printf ("%.6g", v);
}

char *
cs_weight_update_to_text (const CsWeightUpdate *u)
{
  g_return_val_if_fail (u != NULL, NULL);

  const CsOptimParams *hp = &u->optim.hp;
  g_autoptr(GString) s = g_string_new (NULL);
  g_autofree char *w0 = num (u->before), *w1 = num (u->after), *g = num (u->grad);
  g_autofree char *ge = num (u->effective_grad), *lr = num (hp->lr);
  g_autofree char *s1 = num (u->state1), *s2 = num (u->state2), *pred = num (u->predicted);

  g_string_append_printf (s, _("w = %s, ∂L/∂w = %s (mean over the batch)\n"), u->name, g);
  if (hp->weight_decay != 0.0f)
    {
      g_autofree char *wd = num (hp->weight_decay);
      g_string_append_printf (s, _("with weight decay: g = ∂L/∂w + λ·w = %s + %s · %s = %s\n"),
                              g, wd, w0, ge);
    }
  const char *gname = hp->weight_decay != 0.0f ? "g" : "∂L/∂w";
  switch (u->optim.kind)
    {
    case CS_OPTIM_SGD:
      if (hp->momentum != 0.0f)
        {
          g_autofree char *mu = num (hp->momentum);
          g_string_append_printf (s, _("SGD with momentum μ = %s, step %" PRId64 ":\n"), mu, u->t);
          g_string_append_printf (s, "b ← μ·b + %s = %s\n", gname, s1);
          g_string_append_printf (s, "w ← w − lr · b%s\n", hp->nesterov ? " (Nesterov: lr · (g + μ·b))" : "");
        }
      else
        g_string_append_printf (s, "w ← w − lr · %s\n", gname);
      g_string_append_printf (s, "%s ← %s − %s · %s\n", w1, w0, lr,
                              hp->momentum != 0.0f ? s1 : ge);
      break;
    case CS_OPTIM_ADAM:
      {
        g_autofree char *b1 = num (hp->beta1), *b2 = num (hp->beta2), *eps = num (hp->eps);
        double bc1 = 1.0 - pow (hp->beta1, (double) u->t), bc2 = 1.0 - pow (hp->beta2, (double) u->t);
        g_autofree char *mh = num (u->state1 / bc1), *vh = num (u->state2 / bc2);
        g_string_append_printf (s, _("Adam, step t = %" PRId64 ", β₁ = %s, β₂ = %s, ε = %s:\n"),
                                u->t, b1, b2, eps);
        g_string_append_printf (s, "m ← β₁·m + (1 − β₁)·%s = %s\n", gname, s1);
        g_string_append_printf (s, "v ← β₂·v + (1 − β₂)·%s² = %s\n", gname, s2);
        g_string_append_printf (s, "m̂ = m / (1 − β₁ᵗ) = %s,  v̂ = v / (1 − β₂ᵗ) = %s\n", mh, vh);
        g_string_append (s, "w ← w − lr · m̂ / (√v̂ + ε)\n");
        g_string_append_printf (s, "%s ← %s − %s · %s / (√%s + %s)\n", w1, w0, lr, mh, vh, eps);
      }
      break;
    case CS_OPTIM_RMSPROP:
      {
        g_autofree char *al = num (hp->alpha), *eps = num (hp->eps);
        g_string_append_printf (s, _("RMSprop, α = %s, ε = %s:\n"), al, eps);
        g_string_append_printf (s, "s ← α·s + (1 − α)·%s² = %s\n", gname, s1);
        if (hp->momentum > 0.0f)
          {
            g_string_append_printf (s, "b ← μ·b + %s / (√s + ε) = %s\n", gname, s2);
            g_string_append_printf (s, "w ← w − lr · b:   %s ← %s − %s · %s\n", w1, w0, lr, s2);
          }
        else
          {
            g_string_append (s, "w ← w − lr · g / (√s + ε)\n");
            g_string_append_printf (s, "%s ← %s − %s · %s / (√%s + %s)\n", w1, w0, lr, ge, s1, eps);
          }
      }
      break;
    }
  g_autofree char *moved = g_strdup_printf ("%+.6g", u->after - u->before);
  g_string_append_printf (s, _("the step changed w by %s"), moved);
  return g_string_free (g_steal_pointer (&s), FALSE);
}

/* ---- drawing ------------------------------------------------------------------ */

typedef struct
{
  double x, y, width, height;
} Rect;

static void
text (cairo_t *cr, const char *s, double size, gboolean bold, double x, double y,
      double ax, double ay, CsRgb color)
{
  cs_grid_draw_text (cr, s, size, bold, x, y, ax, ay, color);
}

/* A layout of wrapped plain text (not markup) in the given width. */
static PangoLayout *
paragraph_layout (const char *s, double size, gboolean bold, gboolean mono, double width)
{
  PangoLayout *layout = cs_grid_layout_new (s, size, bold);
  if (mono)
    {
      const PangoFontDescription *base = pango_layout_get_font_description (layout);
      PangoFontDescription *font = base ? pango_font_description_copy (base)
                                        : pango_font_description_new ();
      pango_font_description_set_family (font, "Monospace");
      pango_font_description_set_absolute_size (font, size * PANGO_SCALE);
      pango_layout_set_font_description (layout, font);
      pango_font_description_free (font);
    }
  pango_layout_set_width (layout, (int) (width * PANGO_SCALE));
  pango_layout_set_wrap (layout, PANGO_WRAP_WORD_CHAR);
  return layout;
}

static double
paragraph_height (const char *s, double size, double width)
{
  PangoLayout *layout = paragraph_layout (s, size, FALSE, FALSE, width);
  int w, h;
  pango_layout_get_pixel_size (layout, &w, &h);
  g_object_unref (layout);
  return h;
}

/* The text drawn at (x, y); returns its height. */
static double
paragraph (cairo_t *cr, const char *s, double size, gboolean bold, gboolean mono,
           double x, double y, double width, CsRgb color)
{
  PangoLayout *layout = paragraph_layout (s, size, bold, mono, width);
  int w, h;
  pango_layout_get_pixel_size (layout, &w, &h);
  cs_grid_draw_layout (cr, layout, x, y, color);
  g_object_unref (layout);
  return h;
}

typedef struct
{
  double y0, y1;        /* the axis's range */
  gboolean log;
  Rect area;            /* the plotting area, inside the axes */
  gint64 x0, x1;        /* steps */
} Axes;

static double
map_y (const Axes *a, double v)
{
  double t;
  if (a->log)
    t = (log10 (MAX (v, 1e-12)) - log10 (a->y0)) / (log10 (a->y1) - log10 (a->y0));
  else
    t = (v - a->y0) / (a->y1 - a->y0);
  t = CLAMP (t, -0.02, 1.02);
  return a->area.y + a->area.height * (1.0 - t);
}

static double
map_x (const Axes *a, double step)
{
  return a->area.x + a->area.width * (step - a->x0) / MAX ((double) (a->x1 - a->x0), 1.0);
}

/* A nice step for ticks covering range with about n of them. */
static double
nice_step (double range, int n)
{
  double raw = range / MAX (n, 1);
  double p = pow (10.0, floor (log10 (raw)));
  double m = raw / p;
  return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

static void
draw_axes (cairo_t *cr, const Axes *a, double f, gboolean percent)
{
  char label[32];
  cairo_set_line_width (cr, 1.0 * cs_style_line ());
  if (a->log)
    {
      for (int e = (int) floor (log10 (a->y0)); e <= (int) ceil (log10 (a->y1)); e++)
        {
          double v = pow (10.0, e);
          if (v < a->y0 * 0.999 || v > a->y1 * 1.001)
            continue;
          double y = map_y (a, v);
          cairo_set_source_rgb (cr, GRID_RGB);
          cairo_move_to (cr, a->area.x, y);
          cairo_line_to (cr, a->area.x + a->area.width, y);
          cairo_stroke (cr);
          g_snprintf (label, sizeof label, "%g", v);
          text (cr, label, f * 0.8, FALSE, a->area.x - f * 0.3, y, 1, 0.5, DIM);
        }
    }
  else
    {
      double st = nice_step (a->y1 - a->y0, 4);
      for (double v = ceil (a->y0 / st) * st; v <= a->y1 + st * 1e-6; v += st)
        {
          double y = map_y (a, v);
          cairo_set_source_rgb (cr, GRID_RGB);
          cairo_move_to (cr, a->area.x, y);
          cairo_line_to (cr, a->area.x + a->area.width, y);
          cairo_stroke (cr);
          if (percent)
            g_snprintf (label, sizeof label, "%g%%", round (v * 1000) / 10);
          else
            g_snprintf (label, sizeof label, "%g", round (v * 1000) / 1000);
          text (cr, label, f * 0.8, FALSE, a->area.x - f * 0.3, y, 1, 0.5, DIM);
        }
    }
  /* steps along the bottom */
  double st = MAX (1.0, nice_step ((double) (a->x1 - a->x0), 5));
  for (double v = ceil (a->x0 / st) * st; v <= a->x1 + 1e-6; v += st)
    {
      double x = map_x (a, v);
      cairo_set_source_rgb (cr, GRID_RGB);
      cairo_move_to (cr, x, a->area.y);
      cairo_line_to (cr, x, a->area.y + a->area.height);
      cairo_stroke (cr);
      g_snprintf (label, sizeof label, "%.0f", v);
      text (cr, label, f * 0.8, FALSE, x, a->area.y + a->area.height + f * 0.25, 0.5, 0, DIM);
    }
  cairo_set_source_rgb (cr, FRAME_RGB);
  cairo_rectangle (cr, a->area.x, a->area.y, a->area.width, a->area.height);
  cairo_stroke (cr);
}

/* Every batch's value, decimated to the pixel columns (the lowest and the
 * highest of each column, so no spike is lost), in a light colour. */
static void
draw_raw (cairo_t *cr, const Axes *a, const CsTrainRecord *recs, gsize n, gsize offset, CsRgb c)
{
  int cols = MAX (1, (int) a->area.width);
  cairo_save (cr);
  /* the clip on whole pixels too, so that it stays a box */
  double cx = floor (a->area.x), cy = floor (a->area.y);
  cairo_rectangle (cr, cx, cy, ceil (a->area.x + a->area.width) - cx,
                   ceil (a->area.y + a->area.height) - cy);
  cairo_clip (cr);
  cairo_set_source_rgba (cr, c.r, c.g, c.b, 0.45);
  if (n <= (gsize) cols / 2)
    {
      /* few batches: a thin line through each */
      gboolean pen = FALSE;
      for (gsize i = 0; i < n; i++)
        {
          double v = *(const float *) ((const char *) &recs[i] + offset);
          if (!isfinite (v))
            continue;
          double x = map_x (a, (double) recs[i].step), y = map_y (a, v);
          if (pen)
            cairo_line_to (cr, x, y);
          else
            cairo_move_to (cr, x, y);
          pen = TRUE;
        }
      cairo_set_line_width (cr, 1.0 * cs_style_line ());
      cairo_stroke (cr);
      cairo_restore (cr);
      return;
    }
  /* One bar a pixel column wide, from the column's lowest value to its
   * highest, on whole pixels: Cairo fills pixel-aligned boxes without
   * tessellating, where a thousand stroked segments cost it milliseconds
   * a redraw while training plays. */
  double x0 = floor (a->area.x);
  int col = -1;
  double lo = 0, hi = 0;
  for (gsize i = 0; i <= n; i++)
    {
      int k = -2;
      double v = 0;
      if (i < n)
        {
          v = *(const float *) ((const char *) &recs[i] + offset);
          if (!isfinite (v))
            continue;
          k = (int) floor ((map_x (a, (double) recs[i].step) - a->area.x) / a->area.width * cols);
        }
      if (k != col)
        {
          if (col >= 0 && col < cols)
            {
              double ylo = map_y (a, lo), yhi = map_y (a, hi);
              double top = floor (MIN (ylo, yhi)), bottom = ceil (MAX (ylo, yhi));
              if (bottom - top < 2)
                bottom = top + 2;
              cairo_rectangle (cr, x0 + col, top, 1, bottom - top);
            }
          if (i == n)
            break;
          col = k;
          lo = hi = v;
        }
      else
        {
          lo = MIN (lo, v);
          hi = MAX (hi, v);
        }
    }
  cairo_fill (cr);
  cairo_restore (cr);
}

static void
draw_line (cairo_t *cr, const Axes *a, const CsTrainRecord *recs, const float *values, gsize n,
           CsRgb c, double width)
{
  cairo_save (cr);
  cairo_rectangle (cr, a->area.x, a->area.y, a->area.width, a->area.height);
  cairo_clip (cr);
  cs_palette_set_source (cr, c);
  cairo_set_line_width (cr, width);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  gboolean pen = FALSE;
  double last_x = -1e9;
  for (gsize i = 0; i < n; i++)
    {
      if (!isfinite (values[i]))
        continue;
      double x = map_x (a, (double) recs[i].step);
      /* one point per pixel is plenty for a smoothed curve */
      if (pen && x - last_x < 1.0 && i + 1 < n)
        continue;
      double y = map_y (a, values[i]);
      if (pen)
        cairo_line_to (cr, x, y);
      else
        cairo_move_to (cr, x, y);
      pen = TRUE;
      last_x = x;
    }
  cairo_stroke (cr);
  cairo_restore (cr);
}

static void
draw_evals (cairo_t *cr, const Axes *a, const CsTrainHistory *h, gboolean accuracy, CsRgb c, double f)
{
  cs_palette_set_source (cr, c);
  cairo_set_line_width (cr, 2.0 * cs_style_line ());
  for (guint i = 0; i < h->evals->len; i++)
    {
      const CsTrainEval *e = &g_array_index (h->evals, CsTrainEval, i);
      double v = accuracy ? e->test_accuracy : e->test_loss;
      if (!isfinite (v))
        continue;
      double x = map_x (a, (double) e->step), y = map_y (a, v);
      if (i == 0)
        cairo_move_to (cr, x, y);
      else
        cairo_line_to (cr, x, y);
    }
  cairo_stroke (cr);
  for (guint i = 0; i < h->evals->len; i++)
    {
      const CsTrainEval *e = &g_array_index (h->evals, CsTrainEval, i);
      double v = accuracy ? e->test_accuracy : e->test_loss;
      if (!isfinite (v))
        continue;
      cairo_arc (cr, map_x (a, (double) e->step), map_y (a, v), f * 0.3, 0, 2 * G_PI);
      cairo_fill (cr);
    }
}

static void
legend_item (cairo_t *cr, double *x, double y, double f, CsRgb c, double width, const char *label)
{
  cs_palette_set_source (cr, c);
  cairo_set_line_width (cr, width);
  cairo_move_to (cr, *x, y);
  cairo_line_to (cr, *x + f * 1.4, y);
  cairo_stroke (cr);
  double tw, th;
  cs_grid_text_extents (label, f * 0.8, FALSE, &tw, &th);
  text (cr, label, f * 0.8, FALSE, *x + f * 1.7, y, 0, 0.5, DIM);
  *x += f * 2.4 + tw;
}

/* The checkpoint shown by the rewind scale: a line at its step, named. */
static void
draw_viewing (const CsTrainingViewState *state, cairo_t *cr, const Axes *a, double f)
{
  gint64 step = state->status.viewing_step;
  if (step < 0)
    return;
  double x = map_x (a, (double) step);
  cairo_save (cr);
  cairo_set_source_rgb (cr, TEXT_RGB);   /* dark and dashed, apart from both curves */
  cairo_set_line_width (cr, MAX (1.5, f * 0.12));
  double dash = MAX (3.0, f * 0.4);
  cairo_set_dash (cr, &dash, 1, 0);
  cairo_move_to (cr, x, a->area.y);
  cairo_line_to (cr, x, a->area.y + a->area.height);
  cairo_stroke (cr);
  cairo_restore (cr);
  g_autofree char *label = g_strdup_printf (_("step %" PRId64), step);
  text (cr, label, f * 0.8, TRUE, x + f * 0.3, a->area.y + f * 0.2, 0, 0, TEXT);
}

/* One plot: the loss (accuracy FALSE) or the accuracy. */
static void
draw_plot (const CsTrainingViewState *state, cairo_t *cr, const Rect *r, double f,
           gboolean accuracy, const float *smooth)
{
  const CsTrainHistory *h = state->history;
  gsize n = h ? h->records->len : 0;
  const CsTrainRecord *recs = n ? (const CsTrainRecord *) h->records->data : NULL;

  text (cr, accuracy ? _("Accuracy") : _("Loss (cross-entropy)"), f * 1.05, TRUE, r->x, r->y, 0, 0, TEXT);
  Axes a = {
    .area = { r->x + f * 3.2, r->y + f * 2.8, r->width - f * 3.6, r->height - f * 4.2 },
    .x0 = 0,
    .x1 = MAX (n ? recs[n - 1].step : 0, 10),
    .log = !accuracy && state->log_scale,
  };
  if (a.area.width < 20 || a.area.height < 20)
    return;

  if (accuracy)
    {
      a.y0 = 0.0;
      a.y1 = 1.0;
    }
  else
    {
      double lo = INFINITY, hi = 0;
      for (gsize i = 0; i < n; i++)
        if (isfinite (recs[i].loss))
          {
            lo = MIN (lo, recs[i].loss);
            hi = MAX (hi, recs[i].loss);
          }
      if (h != NULL)
        for (guint i = 0; i < h->evals->len; i++)
          {
            float v = g_array_index (h->evals, CsTrainEval, i).test_loss;
            if (isfinite (v))
              lo = MIN (lo, v), hi = MAX (hi, v);
          }
      if (!isfinite (lo))
        lo = 0.01, hi = 2.5;   /* cross-entropy of ten classes starts near ln 10 */
      if (a.log)
        {
          a.y0 = pow (10.0, floor (log10 (MAX (lo, 1e-4))));
          a.y1 = pow (10.0, ceil (log10 (MAX (hi, a.y0 * 10))));
        }
      else
        {
          a.y0 = 0.0;
          a.y1 = MAX (hi * 1.05, 0.1);
        }
    }

  /* the legend, right of the title */
  double lx = r->x + f * 0.2, ly = r->y + f * 2.0;
  legend_item (cr, &lx, ly, f, (CsRgb) { TRAIN_RGB.r, TRAIN_RGB.g, TRAIN_RGB.b }, 1.0, _("each batch"));
  legend_item (cr, &lx, ly, f, TRAIN_RGB, 2.5, _("training, smoothed"));
  legend_item (cr, &lx, ly, f, TEST_RGB, 2.0, _("test split, each epoch"));

  draw_axes (cr, &a, f, accuracy);
  text (cr, _("step"), f * 0.8, FALSE, a.area.x + a.area.width, a.area.y + a.area.height + f * 1.2,
        1, 0, DIM);
  if (n == 0)
    {
      text (cr, _("Press Step (→) to train one batch, or Play (Space)"), f * 0.95, FALSE,
            a.area.x + a.area.width / 2, a.area.y + a.area.height / 2, 0.5, 0.5, DIM);
      return;
    }
  draw_raw (cr, &a, recs, n, accuracy ? G_STRUCT_OFFSET (CsTrainRecord, accuracy)
                                      : G_STRUCT_OFFSET (CsTrainRecord, loss), TRAIN_RGB);
  draw_line (cr, &a, recs, smooth, n, TRAIN_RGB, 2.5);
  draw_evals (cr, &a, h, accuracy, TEST_RGB, f);
  draw_viewing (state, cr, &a, f);
}

static void
draw_digit (cairo_t *cr, const float *px, int side, double x, double y, double size)
{
  cairo_surface_t *img = cairo_image_surface_create (CAIRO_FORMAT_RGB24, side, side);
  cairo_surface_flush (img);
  guint8 *data = cairo_image_surface_get_data (img);
  int stride = cairo_image_surface_get_stride (img);
  for (int r = 0; r < side; r++)
    for (int c = 0; c < side; c++)
      {
        /* ink dark on white, as on paper */
        guint8 v = (guint8) CLAMP (255.0 * (1.0 - px[r * side + c]), 0, 255);
        guint32 *p = (guint32 *) (data + r * stride) + c;
        *p = (guint32) v << 16 | (guint32) v << 8 | v;
      }
  cairo_surface_mark_dirty (img);
  cairo_save (cr);
  cairo_translate (cr, x, y);
  cairo_scale (cr, size / side, size / side);
  cairo_set_source_surface (cr, img, 0, 0);
  cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_NEAREST);
  cairo_paint (cr);
  cairo_restore (cr);
  cairo_surface_destroy (img);
}

/* The batch of the last Step (or the last batch while playing). */
static double
draw_batch (const CsTrainingViewState *state, cairo_t *cr, const Rect *r, double f)
{
  const CsTrainingFrame *fr = state->frame;
  const CsTrainerStatus *s = fr ? &fr->status : &state->status;
  double y = r->y;
  gboolean after = fr && isfinite (s->loss_after);

  if (fr == NULL || fr->batch_size == 0 || fr->side <= 0)
    {
      text (cr, _("The batch"), f * 1.05, TRUE, r->x, y, 0, 0, TEXT);
      y += f * 1.8;
      y += paragraph (cr, _("After a Step, the examples of its mini-batch are shown here, with the "
                            "class the network gave each before the update and after it."),
                      f * 0.9, FALSE, FALSE, r->x, y, r->width, DIM);
      return y - r->y + f;
    }

  g_autofree char *title =
    g_strdup_printf (after ? g_dngettext (NULL, "The batch of step %" PRId64 ": %u example",
                                          "The batch of step %" PRId64 ": %u examples", fr->batch_size)
                           : g_dngettext (NULL, "Last batch, step %" PRId64 ": %u example",
                                          "Last batch, step %" PRId64 ": %u examples", fr->batch_size),
                     s->step, fr->batch_size);
  text (cr, title, f * 1.05, TRUE, r->x, y, 0, 0, TEXT);
  y += f * 1.8;
  g_autofree char *loss = NULL;
  if (after)
    loss = g_strdup_printf (_("loss of this batch: %.4f before the update → %.4f after"),
                            s->loss, s->loss_after);
  else
    loss = g_strdup_printf (_("loss of this batch: %.4f (before its update)"), s->loss);
  text (cr, loss, f * 0.9, FALSE, r->x, y, 0, 0, after && s->loss_after < s->loss ? TEXT : DIM);
  y += f * 1.5;

  /* a grid of the examples: 16 across at most */
  guint n = fr->batch_shown;
  int across = (int) MIN (12, MAX (1, n));
  double cell = MIN (r->width / across, f * 3.4);
  int rows = (int) ((n + across - 1) / across);
  double label_h = f * 0.95;
  double avail = r->y + r->height - y;
  while (rows * (cell + label_h) > avail * 0.55 && cell > f * 1.2)
    {
      cell *= 0.9;
      across = MIN ((int) (r->width / cell), 12);
      rows = (int) ((n + across - 1) / across);
    }
  gsize px = (gsize) fr->side * fr->side;
  char lab[32];
  for (guint i = 0; i < n; i++)
    {
      double x = r->x + (i % across) * cell, yy = y + (i / across) * (cell + label_h);
      double size = cell * 0.92;
      draw_digit (cr, fr->batch_pixels + i * px, fr->side, x, yy, size);
      gint32 cls = after ? fr->batch_after[i] : fr->batch_before[i];
      gboolean right = cls == fr->batch_labels[i];
      CsRgb frame = right ? RIGHT_RGB : WRONG_RGB;
      cs_palette_set_source (cr, frame);
      cairo_set_line_width (cr, MAX (1.0, cell * 0.04));
      cairo_rectangle (cr, x + 0.5, yy + 0.5, size - 1, size - 1);
      cairo_stroke (cr);
      /* "7: 1→7": the label, the class before and after */
      if (after && fr->batch_before[i] != fr->batch_after[i])
        g_snprintf (lab, sizeof lab, "%d: %d→%d", fr->batch_labels[i], fr->batch_before[i], cls);
      else
        g_snprintf (lab, sizeof lab, "%d: %d", fr->batch_labels[i], cls);
      double fs = MIN (f * 0.7, cell * 0.22);
      text (cr, lab, fs, !right, x + size / 2, yy + size + 1, 0.5, 0, right ? DIM : WARN);
    }
  y += rows * (cell + label_h) + f * 0.3;
  int right_before = 0, right_after = 0;
  for (guint i = 0; i < n; i++)
    {
      right_before += fr->batch_before[i] == fr->batch_labels[i];
      right_after += after && fr->batch_after[i] == fr->batch_labels[i];
    }
  g_autofree char *summary = NULL;
  if (after)
    summary = g_strdup_printf (_("label: class given · green right, red wrong · %d of %u right before, "
                                 "%d after"), right_before, n, right_after);
  else
    summary = g_strdup_printf (_("label: class given · green right, red wrong · %d of %u right"),
                               right_before, n);
  y += paragraph (cr, summary, f * 0.8, FALSE, FALSE, r->x, y, r->width, DIM);
  return y - r->y + f * 0.8;
}

static void
draw_update (const CsTrainingViewState *state, cairo_t *cr, const Rect *r, double f)
{
  double y = r->y;
  text (cr, _("One weight's update"), f * 1.05, TRUE, r->x, y, 0, 0, TEXT);
  y += f * 1.8;
  CsWeightUpdate u;
  if (!cs_training_view_state_get_update (state, &u))
    {
      paragraph (cr, _("Press Step (→): the update of one weight by that batch is written out "
                       "here with its numbers."), f * 0.9, FALSE, FALSE, r->x, y, r->width, DIM);
      return;
    }
  g_autofree char *t = cs_weight_update_to_text (&u);
  /* smaller where the lines would run out of the figure (presentation's
   * larger type, a short window) */
  double size = f * 0.85;
  for (int i = 0; i < 6; i++, size *= 0.9)
    {
      PangoLayout *layout = paragraph_layout (t, size, FALSE, TRUE, r->width);
      int w, h;
      pango_layout_get_pixel_size (layout, &w, &h);
      g_object_unref (layout);
      if (y + h <= r->y + r->height)
        break;
    }
  paragraph (cr, t, size, FALSE, TRUE, r->x, y, r->width, TEXT);
}

/* What the diagnostics and the last error say, on top of everything. */
static double
draw_diagnosis (const CsTrainingViewState *state, cairo_t *cr, double x, double y, double width, double f)
{
  const CsTrainerStatus *s = &state->status;
  if (s->diagnosis[0] == '\0')
    return 0;
  double h = paragraph_height (s->diagnosis, f * 0.9, width - f * 1.6);
  cairo_set_source_rgba (cr, 0.90, 0.65, 0.04, 0.25);
  cairo_rectangle (cr, x, y, width, h + f);
  cairo_fill (cr);
  paragraph (cr, s->diagnosis, f * 0.9, FALSE, FALSE, x + f * 0.8, y + f * 0.5, width - f * 1.6, WARN);
  return h + f * 1.4;
}

void
cs_training_view_state_draw (const CsTrainingViewState *state, cairo_t *cr, int width, int height)
{
  g_return_if_fail (state != NULL && cr != NULL);

  cairo_save (cr);
  cairo_set_source_rgb (cr, BG_RGB);
  cairo_paint (cr);
  double f = CLAMP (MIN (width / 80.0, height / 45.0), 9.0, 28.0) * cs_style_type ();
  double pad = f;

  if (!state->running)
    {
      text (cr, _("No training run"), f * 1.4, TRUE, width / 2.0, height / 2.0 - f, 0.5, 1, TEXT);
      if (state->message != NULL)
        paragraph (cr, state->message, f, FALSE, FALSE, width * 0.15, height / 2.0, width * 0.7, DIM);
      cairo_restore (cr);
      return;
    }

  double top = pad + draw_diagnosis (state, cr, pad, pad, width - 2 * pad, f);

  /* plots on the left, the step on the right (below them when narrow) */
  gboolean wide = width >= height * 1.1;
  Rect plots = wide ? (Rect) { pad, top, width * 0.55 - 1.5 * pad, height - top - pad }
                    : (Rect) { pad, top, width - 2 * pad, (height - top) * 0.5 - pad };
  Rect side = wide ? (Rect) { width * 0.55 + 0.5 * pad, top, width * 0.45 - 1.5 * pad, height - top - pad }
                   : (Rect) { pad, top + plots.height + pad, width - 2 * pad, height - top - plots.height - 2 * pad };

  const CsTrainHistory *h = state->history;
  gsize n = h ? h->records->len : 0;
  float *smooth = g_new (float, MAX (n, 1));
  double window = CLAMP (n / 20.0, 5.0, 200.0);
  const float *base = n ? (const float *) h->records->data : NULL;
  gsize stride = sizeof (CsTrainRecord) / sizeof (float);
  G_STATIC_ASSERT (sizeof (CsTrainRecord) % sizeof (float) == 0);

  Rect loss = { plots.x, plots.y, plots.width, plots.height * 0.5 - f * 0.3 };
  Rect acc = { plots.x, plots.y + plots.height * 0.5 + f * 0.3, plots.width, plots.height * 0.5 - f * 0.3 };
  if (n)
    cs_training_view_smooth (base + G_STRUCT_OFFSET (CsTrainRecord, loss) / sizeof (float), stride, n,
                             window, smooth);
  draw_plot (state, cr, &loss, f, FALSE, smooth);
  if (n)
    cs_training_view_smooth (base + G_STRUCT_OFFSET (CsTrainRecord, accuracy) / sizeof (float), stride, n,
                             window, smooth);
  draw_plot (state, cr, &acc, f, TRUE, smooth);
  g_free (smooth);
  if (state->highlight != NULL)
    {
      const Rect *r = g_str_equal (state->highlight, "loss") ? &loss
                      : g_str_equal (state->highlight, "accuracy") ? &acc
                      : NULL;
      if (r != NULL)
        cs_view_draw_highlight (cr, r->x, r->y, r->width, r->height, f);
    }

  double used = draw_batch (state, cr, &side, f);
  Rect upd = { side.x, side.y + used, side.width, side.height - used };
  draw_update (state, cr, &upd, f);
  cairo_restore (cr);
}

/* ---- the widget ---------------------------------------------------------------- */

struct _CsTrainingView
{
  GtkWidget parent_instance;

  CsSession *session;
  GSettings *settings;
  CsTraining *training;
  CsTrainingViewState state;
  gboolean syncing;          /* setting the controls from the status */
  gint64 last_redraw;        /* of the figure, monotonic µs */
  guint redraw_source;       /* a redraw waiting for its time */
  guint64 error_serial;

  GtkWidget *toolbar;
  GtkWidget *play_button;
  GtkWidget *step_button;
  GtkWidget *reset_button;
  GtkWidget *model_dropdown;
  GtkWidget *optimizer_dropdown;
  GtkWidget *lr_spin;
  GtkWidget *batch_spin;
  GtkWidget *device_dropdown;
  GtkWidget *log_check;
  GtkWidget *step_label;
  GtkWidget *loss_label;
  GtkWidget *accuracy_label;
  GtkWidget *rate_label;
  GtkWidget *error_bar;
  GtkWidget *error_label;
  GtkWidget *figure;

  /* Rewind: positions 0 … n − 1 are the checkpoints, n the run as it is. */
  GtkWidget *rewind_box;
  GtkWidget *rewind_scale;
  GtkWidget *rewind_label;
  GtkWidget *resume_button;
  guint rewind_n;            /* checkpoints the scale was laid out for */
};

static void cs_training_view_iface_init (CsViewInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (CsTrainingView, cs_training_view, GTK_TYPE_WIDGET,
                               G_IMPLEMENT_INTERFACE (CS_TYPE_VIEW, cs_training_view_iface_init))

enum {
  PROP_0,
  PROP_SESSION,
  PROP_SETTINGS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static const char *const optimizer_ids[] = { "sgd", "adam", "rmsprop" };
static const CsOptimKind optimizer_kinds[] = { CS_OPTIM_SGD, CS_OPTIM_ADAM, CS_OPTIM_RMSPROP };
static const char *const model_ids[] = { CS_SESSION_MODEL_MLP, CS_SESSION_MODEL_CNN };
static const char *const device_ids[] = { "auto", "cpu", "cuda" };

static guint
index_of (const char *const *ids, guint n, const char *id)
{
  for (guint i = 0; i < n; i++)
    if (g_strcmp0 (ids[i], id) == 0)
      return i;
  return 0;
}

static void
cs_training_view_draw (CsView *view, cairo_t *cr, int width, int height)
{
  cs_training_view_state_draw (&CS_TRAINING_VIEW (view)->state, cr, width, height);
}

static void
cs_training_view_iface_init (CsViewInterface *iface)
{
  static const char *const highlights[] = { "loss", "accuracy", "play", "step", "reset", NULL };

  iface->draw = cs_training_view_draw;
  iface->highlights = highlights;
}

/* The plots are drawn with the outline; the buttons get a style class
 * (style.css). */
static void
on_highlight_changed (CsTrainingView *self)
{
  const char *h = cs_view_get_highlight (CS_VIEW (self));
  const struct { const char *name; GtkWidget *button; } buttons[] = {
    { "play", self->play_button }, { "step", self->step_button }, { "reset", self->reset_button },
  };

  self->state.highlight = h;
  for (guint i = 0; i < G_N_ELEMENTS (buttons); i++)
    if (g_strcmp0 (h, buttons[i].name) == 0)
      gtk_widget_add_css_class (buttons[i].button, "lesson-highlight");
    else
      gtk_widget_remove_css_class (buttons[i].button, "lesson-highlight");
}

static void
figure_draw (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer user_data)
{
  CsTrainingView *self = user_data;
  cs_training_view_state_draw (&self->state, cr, width, height);
}

static void
set_label (GtkWidget *label, const char *s)
{
  gtk_label_set_text (GTK_LABEL (label), s);
  gtk_accessible_update_property (GTK_ACCESSIBLE (label), GTK_ACCESSIBLE_PROPERTY_LABEL, s, -1);
}

/* Whether a person is typing into the spin button (its text has the focus):
 * the status does not overwrite what they type. */
static gboolean
editing (GtkWidget *spin)
{
  GtkEditable *text = gtk_editable_get_delegate (GTK_EDITABLE (spin));
  return text != NULL && gtk_widget_has_focus (GTK_WIDGET (text));
}

/* The scale's position for the status: the checkpoint shown, or "now". */
static guint
rewind_position (const CsTrainerStatus *s)
{
  for (guint i = 0; i < s->n_checkpoints; i++)
    if (s->checkpoints[i] == s->viewing_step)
      return i;
  return s->n_checkpoints;
}

/* The rewind row from the status: one position per checkpoint and one for
 * the run as it is, the step shown in words. */
static void
sync_rewind (CsTrainingView *self)
{
  const CsTrainerStatus *s = &self->state.status;
  guint n = MIN (s->n_checkpoints, CS_TRAINER_MAX_CHECKPOINTS);
  char buf[160];

  self->syncing = TRUE;
  GtkRange *range = GTK_RANGE (self->rewind_scale);
  if (n != self->rewind_n)
    {
      gtk_range_set_range (range, 0, MAX (n, 1));
      gtk_scale_clear_marks (GTK_SCALE (self->rewind_scale));
      for (guint i = 0; i <= n; i++)
        gtk_scale_add_mark (GTK_SCALE (self->rewind_scale), i, GTK_POS_BOTTOM, NULL);
      self->rewind_n = n;
    }
  guint pos = rewind_position (s);
  if ((guint) round (gtk_range_get_value (range)) != pos)
    gtk_range_set_value (range, pos);
  self->syncing = FALSE;

  gboolean viewing = s->viewing_step >= 0;
  if (viewing)
    g_snprintf (buf, sizeof buf, _("Showing step %" PRId64 " of %" PRId64),
                s->viewing_step, s->step);
  else
    g_snprintf (buf, sizeof buf, _("Now (step %" PRId64 ")"), s->step);
  set_label (self->rewind_label, buf);
  gtk_widget_set_sensitive (self->resume_button, viewing);
  gtk_widget_set_sensitive (self->rewind_scale, n > 0);
}

/* The labels and controls from the newest status. */
static void
sync_from_status (CsTrainingView *self)
{
  const CsTrainerStatus *s = &self->state.status;
  char buf[256];

  g_snprintf (buf, sizeof buf, _("Step %" PRId64 " · epoch %u"), s->step, s->epoch + 1);
  set_label (self->step_label, buf);
  if (isfinite (s->loss))
    g_snprintf (buf, sizeof buf, _("Loss %.4f"), s->loss);
  else
    g_snprintf (buf, sizeof buf, _("Loss –"));
  set_label (self->loss_label, buf);
  if (isfinite (s->test_accuracy))
    g_snprintf (buf, sizeof buf, _("Accuracy %.1f%% · test %.1f%%"), 100 * s->running_accuracy,
                100 * s->test_accuracy);
  else if (isfinite (s->running_accuracy))
    g_snprintf (buf, sizeof buf, _("Accuracy %.1f%%"), 100 * s->running_accuracy);
  else
    g_snprintf (buf, sizeof buf, _("Accuracy –"));
  set_label (self->accuracy_label, buf);
  g_snprintf (buf, sizeof buf, _("%.0f examples/s on %s"), s->samples_per_second, s->device);
  set_label (self->rate_label, buf);

  gboolean playing = s->state != CS_TRAINER_PAUSED;
  gtk_button_set_icon_name (GTK_BUTTON (self->play_button),
                            playing ? "media-playback-pause-symbolic" : "media-playback-start-symbolic");
  const char *name = playing ? _("Pause") : _("Play");
  gtk_widget_set_tooltip_text (self->play_button, playing ? _("Pause (Space)") : _("Play (Space)"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->play_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, name, -1);

  self->syncing = TRUE;
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->model_dropdown),
                              index_of (model_ids, G_N_ELEMENTS (model_ids), s->model));
  for (guint i = 0; i < G_N_ELEMENTS (optimizer_kinds); i++)
    if (optimizer_kinds[i] == s->optim.kind)
      gtk_drop_down_set_selected (GTK_DROP_DOWN (self->optimizer_dropdown), i);
  if (!editing (self->lr_spin))
    gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->lr_spin), s->optim.hp.lr);
  if (!editing (self->batch_spin))
    gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->batch_spin), s->batch_size);
  self->syncing = FALSE;

  sync_rewind (self);

  /* a failed command (no CUDA device …) once, until the next */
  if (s->error_serial != self->error_serial && s->error[0] != '\0')
    {
      self->error_serial = s->error_serial;
      gtk_label_set_text (GTK_LABEL (self->error_label), s->error);
      gtk_widget_set_visible (self->error_bar, TRUE);
    }
}

/* While training plays, the figure and the numbers are redrawn at most
 * every REDRAW_US: what changes between two batches is not worth the
 * processor time the trainer's threads want (on two cores the main loop
 * shares them); a pause, a step or a reset shows at once. Five times a
 * second is the rate of the run's frames (the batch grid), and keeps the
 * application within 10 % of headless training (bench/bench-app). */
#define REDRAW_US (200 * 1000)

static gboolean
redraw_now (gpointer data)
{
  CsTrainingView *self = data;
  self->redraw_source = 0;
  self->last_redraw = g_get_monotonic_time ();
  sync_from_status (self);
  gtk_widget_queue_draw (self->figure);
  return G_SOURCE_REMOVE;
}

static void
on_updated (CsTraining *training, CsTrainingView *self)
{
  self->state.status = *cs_training_get_status (training);
  self->state.history = cs_training_get_history (training);
  self->state.frame = cs_training_get_frame (training);
  self->state.previous = cs_training_get_previous_frame (training);

  gint64 now = g_get_monotonic_time ();
  if (self->state.status.state == CS_TRAINER_PAUSED || now - self->last_redraw >= REDRAW_US)
    {
      g_clear_handle_id (&self->redraw_source, g_source_remove);
      redraw_now (self);
    }
  else if (self->redraw_source == 0)
    self->redraw_source = g_timeout_add ((guint) ((self->last_redraw + REDRAW_US - now) / 1000) + 1,
                                         redraw_now, self);
}

/* The run, made the first time it is needed, with the settings' values. */
static CsTraining *
ensure_training (CsTrainingView *self)
{
  if (self->training != NULL)
    return self->training;

  g_autoptr(GError) error = NULL;
  CsTraining *training = cs_session_get_training (self->session, &error);
  if (training == NULL)
    {
      self->state.running = FALSE;
      g_free ((char *) self->state.message);
      self->state.message = g_strdup (error->message);
      gtk_widget_set_sensitive (self->toolbar, FALSE);
      gtk_widget_queue_draw (self->figure);
      return NULL;
    }
  self->training = g_object_ref (training);
  self->state.running = TRUE;
  if (self->settings != NULL)
    {
      g_autofree char *opt = g_settings_get_string (self->settings, "optimizer");
      g_autofree char *device = g_settings_get_string (self->settings, "device");
      CsOptimConfig config;
      CsOptimKind kind = CS_OPTIM_ADAM;
      cs_optim_kind_from_string (opt, &kind);
      cs_optim_config_init (&config, kind);
      config.hp.lr = (float) g_settings_get_double (self->settings, "learning-rate");
      if (!cs_training_set_optim (training, &config, &error))
        g_clear_error (&error);   /* the defaults stay */
      if (!cs_training_set_batch_size (training, g_settings_get_int (self->settings, "batch-size"), &error))
        g_clear_error (&error);
      if (!g_str_equal (device, "auto"))
        cs_training_set_device (training, device);
    }
  g_signal_connect_object (training, "updated", G_CALLBACK (on_updated), self, 0);
  on_updated (training, self);
  return training;
}

static void
on_map (CsTrainingView *self)
{
  ensure_training (self);
}

static void
toggle_action (GtkWidget *widget, const char *action, GVariant *param)
{
  CsTraining *t = ensure_training (CS_TRAINING_VIEW (widget));
  if (t != NULL)
    cs_training_toggle (t);
}

static void
step_action (GtkWidget *widget, const char *action, GVariant *param)
{
  CsTraining *t = ensure_training (CS_TRAINING_VIEW (widget));
  if (t != NULL)
    cs_training_step (t, 1);
}

static void
reset_action (GtkWidget *widget, const char *action, GVariant *param)
{
  CsTrainingView *self = CS_TRAINING_VIEW (widget);
  CsTraining *t = ensure_training (self);
  if (t != NULL)
    cs_training_reset (t);
  gtk_widget_set_visible (self->error_bar, FALSE);
}

static void
show_error (CsTrainingView *self, const char *message)
{
  gtk_label_set_text (GTK_LABEL (self->error_label), message);
  gtk_widget_set_visible (self->error_bar, TRUE);
}

static void
on_model_selected (CsTrainingView *self)
{
  if (self->syncing)
    return;
  guint i = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->model_dropdown));
  if (i < G_N_ELEMENTS (model_ids))
    cs_session_set_model (self->session, model_ids[i]);
}

static void
on_optimizer_selected (CsTrainingView *self)
{
  if (self->syncing || ensure_training (self) == NULL)
    return;
  guint i = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->optimizer_dropdown));
  if (i >= G_N_ELEMENTS (optimizer_kinds))
    return;
  g_autoptr(GError) error = NULL;
  /* PyTorch's defaults for the kind, its learning rate too */
  if (!cs_training_set_optimizer (self->training, optimizer_kinds[i], &error))
    show_error (self, error->message);
  CsOptimConfig config;
  cs_optim_config_init (&config, optimizer_kinds[i]);
  self->syncing = TRUE;
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->lr_spin), config.hp.lr);
  self->syncing = FALSE;
  if (self->settings != NULL)
    {
      g_settings_set_string (self->settings, "optimizer", optimizer_ids[i]);
      g_settings_set_double (self->settings, "learning-rate", config.hp.lr);
    }
}

static void
on_lr_changed (CsTrainingView *self)
{
  if (self->syncing || ensure_training (self) == NULL)
    return;
  double lr = gtk_spin_button_get_value (GTK_SPIN_BUTTON (self->lr_spin));
  g_autoptr(GError) error = NULL;
  if (!cs_training_set_learning_rate (self->training, lr, &error))
    show_error (self, error->message);
  else if (self->settings != NULL && lr >= 1e-6 && lr <= 10)
    g_settings_set_double (self->settings, "learning-rate", lr);
}

static void
on_batch_changed (CsTrainingView *self)
{
  if (self->syncing || ensure_training (self) == NULL)
    return;
  int b = gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (self->batch_spin));
  g_autoptr(GError) error = NULL;
  if (!cs_training_set_batch_size (self->training, b, &error))
    show_error (self, error->message);
  else if (self->settings != NULL)
    g_settings_set_int (self->settings, "batch-size", b);
}

static void
on_device_selected (CsTrainingView *self)
{
  if (self->syncing || ensure_training (self) == NULL)
    return;
  guint i = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->device_dropdown));
  if (i >= G_N_ELEMENTS (device_ids))
    return;
  cs_training_set_device (self->training, device_ids[i]);
  if (self->settings != NULL)
    g_settings_set_string (self->settings, "device", device_ids[i]);
}

/* The scale moved by a person: show that checkpoint (training pauses), or
 * the run as it is at the right end. */
static void
on_rewind_moved (CsTrainingView *self)
{
  if (self->syncing || ensure_training (self) == NULL)
    return;
  const CsTrainerStatus *s = &self->state.status;
  guint pos = (guint) round (gtk_range_get_value (GTK_RANGE (self->rewind_scale)));
  gint64 step = pos < s->n_checkpoints ? s->checkpoints[pos] : -1;
  if (step != s->viewing_step)
    cs_trainer_show_checkpoint (cs_training_get_trainer (self->training), step);
}

/* Training goes on from the checkpoint shown; the later ones are dropped. */
static void
resume_action (GtkWidget *widget, const char *action, GVariant *param)
{
  CsTrainingView *self = CS_TRAINING_VIEW (widget);
  CsTraining *t = ensure_training (self);
  if (t == NULL || self->state.status.viewing_step < 0)
    return;
  cs_trainer_rewind (cs_training_get_trainer (t), self->state.status.viewing_step);
  cs_training_play (t);
}

static char *
format_rewind_value (GtkScale *scale, double value, gpointer data)
{
  CsTrainingView *self = data;
  const CsTrainerStatus *s = &self->state.status;
  guint pos = (guint) round (value);
  if (pos < s->n_checkpoints)
    return g_strdup_printf ("%" G_GINT64_FORMAT, s->checkpoints[pos]);
  return g_strdup (_("now"));
}

static void
on_log_toggled (CsTrainingView *self)
{
  self->state.log_scale = gtk_check_button_get_active (GTK_CHECK_BUTTON (self->log_check));
  gtk_widget_queue_draw (self->figure);
}

static void
on_session_model (CsTrainingView *self)
{
  self->syncing = TRUE;
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->model_dropdown),
                              index_of (model_ids, G_N_ELEMENTS (model_ids),
                                        cs_session_get_model (self->session)));
  self->syncing = FALSE;
}

/* Space, → and Ctrl+R, except while a text field is being edited. */
static gboolean
shortcut_cb (GtkWidget *widget, GVariant *args, gpointer user_data)
{
  GtkRoot *root = gtk_widget_get_root (widget);
  GtkWidget *focus = root ? gtk_root_get_focus (root) : NULL;
  const char *action = user_data;
  if (focus != NULL && GTK_IS_TEXT (focus) && !g_str_equal (action, "training.reset"))
    return FALSE;
  gtk_widget_activate_action (widget, action, NULL);
  return TRUE;
}

static GtkWidget *
labelled (GtkWidget *box, const char *title, GtkWidget *control)
{
  GtkWidget *label = gtk_label_new (title);
  gtk_widget_add_css_class (label, "dim-label");
  gtk_box_append (GTK_BOX (box), label);
  gtk_box_append (GTK_BOX (box), control);
  gtk_accessible_update_property (GTK_ACCESSIBLE (control), GTK_ACCESSIBLE_PROPERTY_LABEL, title, -1);
  return control;
}

static GtkWidget *
dropdown (const char *const *labels, GCallback cb, gpointer self)
{
  GtkWidget *d = gtk_drop_down_new_from_strings (labels);
  g_signal_connect_swapped (d, "notify::selected", cb, self);
  return d;
}

static void
cs_training_view_constructed (GObject *object)
{
  CsTrainingView *self = (CsTrainingView *) object;

  G_OBJECT_CLASS (cs_training_view_parent_class)->constructed (object);
  self->syncing = FALSE;
  if (self->session == NULL)
    self->session = cs_session_new ();
  g_signal_connect_object (self->session, "notify::model", G_CALLBACK (on_session_model), self,
                           G_CONNECT_SWAPPED);
  on_session_model (self);
  if (self->settings != NULL)
    {
      g_autofree char *device = g_settings_get_string (self->settings, "device");
      self->syncing = TRUE;
      gtk_drop_down_set_selected (GTK_DROP_DOWN (self->device_dropdown),
                                  index_of (device_ids, G_N_ELEMENTS (device_ids), device));
      self->syncing = FALSE;
    }
}

static void
cs_training_view_dispose (GObject *object)
{
  CsTrainingView *self = (CsTrainingView *) object;

  if (self->training != NULL)
    g_signal_handlers_disconnect_by_data (self->training, self);
  g_clear_object (&self->training);
  g_clear_handle_id (&self->redraw_source, g_source_remove);
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);
  g_clear_object (&self->session);
  g_clear_object (&self->settings);
  g_clear_pointer ((char **) &self->state.message, g_free);
  self->state.history = NULL;
  self->state.frame = self->state.previous = NULL;

  G_OBJECT_CLASS (cs_training_view_parent_class)->dispose (object);
}

static void
cs_training_view_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  CsTrainingView *self = CS_TRAINING_VIEW (object);

  switch (prop_id)
    {
    case PROP_SESSION:
      self->session = g_value_dup_object (value);
      break;
    case PROP_SETTINGS:
      self->settings = g_value_dup_object (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cs_training_view_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CsTrainingView *self = CS_TRAINING_VIEW (object);

  switch (prop_id)
    {
    case PROP_SESSION:
      g_value_set_object (value, self->session);
      break;
    case PROP_SETTINGS:
      g_value_set_object (value, self->settings);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cs_training_view_class_init (CsTrainingViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = cs_training_view_constructed;
  object_class->dispose = cs_training_view_dispose;
  object_class->set_property = cs_training_view_set_property;
  object_class->get_property = cs_training_view_get_property;

  properties[PROP_SESSION] =
    g_param_spec_object ("session", NULL, NULL, CS_TYPE_SESSION,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SETTINGS] =
    g_param_spec_object ("settings", NULL, NULL, G_TYPE_SETTINGS,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_install_action (widget_class, "training.toggle", NULL, toggle_action);
  gtk_widget_class_install_action (widget_class, "training.step", NULL, step_action);
  gtk_widget_class_install_action (widget_class, "training.reset", NULL, reset_action);
  gtk_widget_class_install_action (widget_class, "training.resume", NULL, resume_action);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BOX_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "trainingview");
}

static void
cs_training_view_init (CsTrainingView *self)
{
  cs_training_view_state_init (&self->state);
  g_signal_connect (self, "highlight-changed", G_CALLBACK (on_highlight_changed), NULL);
  self->syncing = TRUE;   /* no commands until constructed */
  gtk_orientable_set_orientation (GTK_ORIENTABLE (gtk_widget_get_layout_manager (GTK_WIDGET (self))),
                                  GTK_ORIENTATION_VERTICAL);

  /* the controls */
  self->toolbar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  gtk_widget_add_css_class (self->toolbar, "toolbar");
  gtk_widget_set_parent (self->toolbar, GTK_WIDGET (self));

  GtkWidget *transport = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
  gtk_widget_add_css_class (transport, "linked");
  self->play_button = gtk_button_new_from_icon_name ("media-playback-start-symbolic");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (self->play_button), "training.toggle");
  self->step_button = gtk_button_new_from_icon_name ("media-skip-forward-symbolic");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (self->step_button), "training.step");
  gtk_widget_set_tooltip_text (self->step_button, _("Train exactly one mini-batch (→)"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->step_button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Step"), -1);
  self->reset_button = gtk_button_new_from_icon_name ("view-refresh-symbolic");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (self->reset_button), "training.reset");
  gtk_widget_set_tooltip_text (self->reset_button, _("Start again from the initial weights (Ctrl+R)"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->reset_button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Reset"), -1);
  gtk_box_append (GTK_BOX (transport), self->play_button);
  gtk_box_append (GTK_BOX (transport), self->step_button);
  gtk_box_append (GTK_BOX (transport), self->reset_button);
  gtk_box_append (GTK_BOX (self->toolbar), transport);

  static const char *models[] = { N_("MLP"), N_("CNN"), NULL };
  static const char *optimizers[] = { "SGD", "Adam", "RMSprop", NULL };
  const char *devices[] = { _("Automatic"), _("CPU"), _("GPU (CUDA)"), NULL };
  const char *model_labels[] = { _(models[0]), _(models[1]), NULL };
  self->model_dropdown = labelled (self->toolbar, _("Model"),
                                   dropdown (model_labels, G_CALLBACK (on_model_selected), self));
  self->optimizer_dropdown = labelled (self->toolbar, _("Optimizer"),
                                       dropdown (optimizers, G_CALLBACK (on_optimizer_selected), self));
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->optimizer_dropdown), 1);
  self->lr_spin = gtk_spin_button_new_with_range (1e-5, 10, 1e-4);
  gtk_spin_button_set_digits (GTK_SPIN_BUTTON (self->lr_spin), 5);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->lr_spin), 1e-3);
  g_signal_connect_swapped (self->lr_spin, "value-changed", G_CALLBACK (on_lr_changed), self);
  labelled (self->toolbar, _("Learning rate"), self->lr_spin);
  self->batch_spin = gtk_spin_button_new_with_range (1, 4096, 1);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->batch_spin), 64);
  g_signal_connect_swapped (self->batch_spin, "value-changed", G_CALLBACK (on_batch_changed), self);
  labelled (self->toolbar, _("Batch"), self->batch_spin);
  self->device_dropdown = labelled (self->toolbar, _("Device"),
                                    dropdown (devices, G_CALLBACK (on_device_selected), self));
  self->log_check = gtk_check_button_new_with_label (_("Log scale"));
  gtk_widget_set_tooltip_text (self->log_check, _("The loss on a logarithmic axis"));
  g_signal_connect_swapped (self->log_check, "toggled", G_CALLBACK (on_log_toggled), self);
  gtk_box_append (GTK_BOX (self->toolbar), self->log_check);

  /* the numbers, also for assistive technologies */
  GtkWidget *numbers = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  gtk_widget_add_css_class (numbers, "numbers");
  self->step_label = gtk_label_new (NULL);
  self->loss_label = gtk_label_new (NULL);
  self->accuracy_label = gtk_label_new (NULL);
  self->rate_label = gtk_label_new (NULL);
  gtk_widget_add_css_class (self->rate_label, "dim-label");
  gtk_box_append (GTK_BOX (numbers), self->step_label);
  gtk_box_append (GTK_BOX (numbers), self->loss_label);
  gtk_box_append (GTK_BOX (numbers), self->accuracy_label);
  gtk_box_append (GTK_BOX (numbers), self->rate_label);
  gtk_widget_set_parent (numbers, GTK_WIDGET (self));

  /* rewind: a checkpoint every few steps, scrubbed back through */
  self->rewind_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  gtk_widget_add_css_class (self->rewind_box, "rewind");
  gtk_widget_set_margin_start (self->rewind_box, 12);
  gtk_widget_set_margin_end (self->rewind_box, 12);
  gtk_widget_set_margin_bottom (self->rewind_box, 4);
  self->rewind_scale = gtk_scale_new_with_range (GTK_ORIENTATION_HORIZONTAL, 0, 1, 1);
  gtk_range_set_round_digits (GTK_RANGE (self->rewind_scale), 0);
  gtk_scale_set_draw_value (GTK_SCALE (self->rewind_scale), TRUE);
  gtk_scale_set_value_pos (GTK_SCALE (self->rewind_scale), GTK_POS_RIGHT);
  gtk_scale_set_format_value_func (GTK_SCALE (self->rewind_scale), format_rewind_value, self, NULL);
  gtk_range_set_value (GTK_RANGE (self->rewind_scale), 1);
  gtk_widget_set_hexpand (self->rewind_scale, TRUE);
  gtk_widget_set_tooltip_text (self->rewind_scale,
                               _("Go back through the checkpoints of this run: the views show the "
                                 "network as it was then"));
  g_signal_connect_swapped (self->rewind_scale, "value-changed", G_CALLBACK (on_rewind_moved), self);
  labelled (self->rewind_box, _("Rewind"), self->rewind_scale);
  self->rewind_label = gtk_label_new (NULL);
  gtk_label_set_width_chars (GTK_LABEL (self->rewind_label), 22);
  gtk_label_set_xalign (GTK_LABEL (self->rewind_label), 0);
  gtk_box_append (GTK_BOX (self->rewind_box), self->rewind_label);
  self->resume_button = gtk_button_new_with_label (_("Resume from here"));
  gtk_actionable_set_action_name (GTK_ACTIONABLE (self->resume_button), "training.resume");
  gtk_widget_set_tooltip_text (self->resume_button,
                               _("Train on from the step shown; the later checkpoints are dropped"));
  gtk_box_append (GTK_BOX (self->rewind_box), self->resume_button);
  gtk_widget_set_parent (self->rewind_box, GTK_WIDGET (self));

  /* a failed command: one line, until dismissed or reset */
  self->error_bar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  gtk_widget_add_css_class (self->error_bar, "banner");
  gtk_widget_add_css_class (self->error_bar, "warning");
  self->error_label = gtk_label_new (NULL);
  gtk_label_set_wrap (GTK_LABEL (self->error_label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (self->error_label), 0);
  gtk_widget_set_hexpand (self->error_label, TRUE);
  gtk_box_append (GTK_BOX (self->error_bar), gtk_image_new_from_icon_name ("dialog-warning-symbolic"));
  gtk_box_append (GTK_BOX (self->error_bar), self->error_label);
  GtkWidget *dismiss = gtk_button_new_from_icon_name ("window-close-symbolic");
  gtk_widget_add_css_class (dismiss, "flat");
  gtk_accessible_update_property (GTK_ACCESSIBLE (dismiss), GTK_ACCESSIBLE_PROPERTY_LABEL, _("Dismiss"), -1);
  g_signal_connect_swapped (dismiss, "clicked", G_CALLBACK (gtk_widget_hide), self->error_bar);
  gtk_box_append (GTK_BOX (self->error_bar), dismiss);
  gtk_widget_set_visible (self->error_bar, FALSE);
  gtk_widget_set_parent (self->error_bar, GTK_WIDGET (self));

  self->figure = gtk_drawing_area_new ();
  gtk_widget_set_hexpand (self->figure, TRUE);
  gtk_widget_set_vexpand (self->figure, TRUE);
  gtk_drawing_area_set_content_width (GTK_DRAWING_AREA (self->figure), 640);
  gtk_drawing_area_set_content_height (GTK_DRAWING_AREA (self->figure), 400);
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (self->figure), figure_draw, self, NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->figure), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Loss and accuracy curves, the last batch, and one weight's update"), -1);
  gtk_widget_set_parent (self->figure, GTK_WIDGET (self));
  /* a click on the figure takes the focus out of a text field, so that
   * Space and → work again */
  gtk_widget_set_focusable (self->figure, TRUE);
  GtkGesture *click = gtk_gesture_click_new ();
  g_signal_connect_swapped (click, "pressed", G_CALLBACK (gtk_widget_grab_focus), self->figure);
  gtk_widget_add_controller (self->figure, GTK_EVENT_CONTROLLER (click));

  g_signal_connect (self, "map", G_CALLBACK (on_map), NULL);

  GtkEventController *shortcuts = gtk_shortcut_controller_new ();
  gtk_event_controller_set_propagation_phase (shortcuts, GTK_PHASE_CAPTURE);
  gtk_shortcut_controller_set_scope (GTK_SHORTCUT_CONTROLLER (shortcuts), GTK_SHORTCUT_SCOPE_MANAGED);
  const struct { const char *key, *action; } keys[] = {
    { "space", "training.toggle" },
    { "Right", "training.step" },
    { "<Control>r", "training.reset" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (shortcuts),
                                          gtk_shortcut_new (gtk_shortcut_trigger_parse_string (keys[i].key),
                                                            gtk_callback_action_new (shortcut_cb,
                                                                                     (gpointer) keys[i].action,
                                                                                     NULL)));
  gtk_widget_add_controller (GTK_WIDGET (self), shortcuts);
  sync_from_status (self);
  self->syncing = FALSE;
}

GtkWidget *
cs_training_view_new (CsSession *session, GSettings *settings)
{
  g_return_val_if_fail (session == NULL || CS_IS_SESSION (session), NULL);
  g_return_val_if_fail (settings == NULL || G_IS_SETTINGS (settings), NULL);
  return g_object_new (CS_TYPE_TRAINING_VIEW, "session", session, "settings", settings, NULL);
}

CsSession *
cs_training_view_get_session (CsTrainingView *self)
{
  g_return_val_if_fail (CS_IS_TRAINING_VIEW (self), NULL);
  return self->session;
}

CsTraining *
cs_training_view_get_training (CsTrainingView *self)
{
  g_return_val_if_fail (CS_IS_TRAINING_VIEW (self), NULL);
  return ensure_training (self);
}

const CsTrainingViewState *
cs_training_view_get_state (CsTrainingView *self)
{
  g_return_val_if_fail (CS_IS_TRAINING_VIEW (self), NULL);
  return &self->state;
}
