/* worked.c — the worked example: the engine computes, this file writes out
 *
 * cs_worked_new () validates the spec, describes the model in JSON, builds
 * and runs it on the one input plane, copies every activation, then
 * enumerates each output cell's terms and checks them against the engine:
 *
 *   conv[oh, ow] = b + Σ_{i,j} k[i, j] · x[oh·sh − ph + i·dh, ow·sw − pw + j·dw]
 *   relu[oh, ow] = max (0, conv[oh, ow])
 *   max[oh, ow]  = y[argmax]        (the engine's winner; padding is −∞)
 *   avg[oh, ow]  = Σ window / (kh·kw)   (padding counted as 0, as PyTorch)
 *   flatten      = the same numbers, row by row
 */
#include "worked.h"
#include "error.h"
#include "layers/layers-private.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

/* Relative tolerance between the written-out sum and the engine's cell. */
#define TOLERANCE 1e-5

G_DEFINE_QUARK (cs-worked-error-quark, cs_worked_error)

static const char *const arg_names[] = {
  [CS_WORKED_ARG_INPUT] = "input",
  [CS_WORKED_ARG_KERNEL] = "kernel",
  [CS_WORKED_ARG_STRIDE] = "stride",
  [CS_WORKED_ARG_PADDING] = "padding",
  [CS_WORKED_ARG_DILATION] = "dilation",
  [CS_WORKED_ARG_BIAS] = "bias",
  [CS_WORKED_ARG_POOL_KERNEL] = "pool-kernel",
  [CS_WORKED_ARG_POOL_STRIDE] = "pool-stride",
  [CS_WORKED_ARG_POOL_PADDING] = "pool-padding",
  [CS_WORKED_ARG_LOSS] = "loss",
  [CS_WORKED_ARG_TARGET] = "target",
  [CS_WORKED_ARG_LR] = "lr",
};

const char *
cs_worked_arg_name (CsWorkedArg arg)
{
  g_return_val_if_fail ((guint) arg < G_N_ELEMENTS (arg_names), NULL);
  return arg_names[arg];
}

/* "kernel: " + message */
static void G_GNUC_PRINTF (3, 4)
set_error (GError **error, CsWorkedArg arg, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *msg = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, CS_WORKED_ERROR, arg, "%s: %s", cs_worked_arg_name (arg), msg);
}

/* ---------------------------------------------------------------------------
 * The spec
 */

void
cs_worked_spec_init_default (CsWorkedSpec *spec)
{
  static const float x[25] = {
    3, 3, 2, 1, 0,
    2, 3, 2, 1, 0,
    3, 3, 2, 1, 0,
    4, 3, 2, 1, 0,
    1, 3, 2, 1, 0,
  };
  static const float k[9] = {
    0, 1, 2,
    2, 2, 0,
    0, 1, 2,
  };

  g_return_if_fail (spec != NULL);
  memset (spec, 0, sizeof *spec);
  spec->H = spec->W = 5;
  memcpy (spec->input, x, sizeof x);
  spec->kh = spec->kw = 3;
  memcpy (spec->kernel, k, sizeof k);
  spec->stride[0] = spec->stride[1] = 1;
  spec->dilation[0] = spec->dilation[1] = 1;
  spec->relu = TRUE;
  spec->pool = CS_WORKED_POOL_MAX;
  spec->pool_kernel[0] = spec->pool_kernel[1] = 2;
  spec->pool_stride[0] = spec->pool_stride[1] = 2;
  spec->pool_padding[0] = spec->pool_padding[1] = 1;
  spec->flatten = TRUE;
}

static gboolean
check_value (CsWorkedArg arg, const char *where, double v, GError **error)
{
  if (isfinite (v) && fabs (v) <= CS_WORKED_MAX_VALUE)
    return TRUE;
  set_error (error, arg, "%s%s%g is out of range; values must be between −%.0f and %.0f",
             where, *where ? ": " : "", v, CS_WORKED_MAX_VALUE, CS_WORKED_MAX_VALUE);
  return FALSE;
}

static gboolean
check_grid (CsWorkedArg arg, int rows, int cols, const float *v, GError **error)
{
  if (rows < 1 || cols < 1)
    {
      set_error (error, arg, "is empty (%d×%d)", rows, cols);
      return FALSE;
    }
  if (rows > CS_WORKED_MAX_SIZE || cols > CS_WORKED_MAX_SIZE)
    {
      set_error (error, arg, "%d×%d is too large, at most %d×%d", rows, cols,
                 CS_WORKED_MAX_SIZE, CS_WORKED_MAX_SIZE);
      return FALSE;
    }
  for (int r = 0; r < rows; r++)
    for (int c = 0; c < cols; c++)
      {
        g_autofree char *where = g_strdup_printf ("row %d, number %d", r + 1, c + 1);
        if (!check_value (arg, where, v[r * cols + c], error))
          return FALSE;
      }
  return TRUE;
}

static gboolean
check_pair (CsWorkedArg arg, const int v[2], int min, int max, GError **error)
{
  for (int i = 0; i < 2; i++)
    if (v[i] < min || v[i] > max)
      {
        set_error (error, arg, "%d is out of range, it must be between %d and %d",
                   v[i], min, max);
        return FALSE;
      }
  return TRUE;
}

/* The convolution's output size, once the sizes are known to be in range. */
static void
conv_window (const CsWorkedSpec *spec, CsSlidingWindow *g)
{
  *g = (CsSlidingWindow) {
    .C = 1, .H = spec->H, .W = spec->W, .kh = spec->kh, .kw = spec->kw,
    .sh = spec->stride[0], .sw = spec->stride[1],
    .ph = spec->padding[0], .pw = spec->padding[1],
    .dh = spec->dilation[0], .dw = spec->dilation[1],
  };
  g->OH = cs_window_out_size (g->H, g->kh, g->sh, g->ph, g->dh);
  g->OW = cs_window_out_size (g->W, g->kw, g->sw, g->pw, g->dw);
}

static void
pool_window (const CsWorkedSpec *spec, const CsSlidingWindow *conv, CsSlidingWindow *g)
{
  *g = (CsSlidingWindow) {
    .C = 1, .H = conv->OH, .W = conv->OW,
    .kh = spec->pool_kernel[0], .kw = spec->pool_kernel[1],
    .sh = spec->pool_stride[0], .sw = spec->pool_stride[1],
    .ph = spec->pool_padding[0], .pw = spec->pool_padding[1],
    .dh = 1, .dw = 1,
  };
  g->OH = cs_window_out_size (g->H, g->kh, g->sh, g->ph, 1);
  g->OW = cs_window_out_size (g->W, g->kw, g->sw, g->pw, 1);
}

gboolean
cs_worked_spec_validate (const CsWorkedSpec *spec, GError **error)
{
  g_return_val_if_fail (spec != NULL, FALSE);
  g_return_val_if_fail (spec->pool == CS_WORKED_POOL_NONE || spec->pool == CS_WORKED_POOL_MAX
                        || spec->pool == CS_WORKED_POOL_AVG, FALSE);

  if (!check_grid (CS_WORKED_ARG_INPUT, spec->H, spec->W, spec->input, error)
      || !check_grid (CS_WORKED_ARG_KERNEL, spec->kh, spec->kw, spec->kernel, error)
      || !check_pair (CS_WORKED_ARG_STRIDE, spec->stride, 1, CS_WORKED_MAX_STEP, error)
      || !check_pair (CS_WORKED_ARG_PADDING, spec->padding, 0, CS_WORKED_MAX_STEP, error)
      || !check_pair (CS_WORKED_ARG_DILATION, spec->dilation, 1, CS_WORKED_MAX_STEP, error))
    return FALSE;
  if (spec->has_bias && !check_value (CS_WORKED_ARG_BIAS, "", spec->bias, error))
    return FALSE;

  /* The kernel, dilated, must fit in the padded input: output size ≥ 1. */
  CsSlidingWindow g;
  conv_window (spec, &g);
  if (g.OH < 1 || g.OW < 1)
    {
      const int *d = spec->dilation;
      g_autofree char *dilated = d[0] > 1 || d[1] > 1
        ? g_strdup_printf (" with dilation %d×%d spans %d×%d cells, which is", d[0], d[1],
                           d[0] * (spec->kh - 1) + 1, d[1] * (spec->kw - 1) + 1)
        : g_strdup (" is");
      set_error (error, CS_WORKED_ARG_KERNEL, "the %d×%d kernel%s larger than the %d×%d "
                 "input padded by %d×%d (%d×%d): the output would be %d×%d",
                 spec->kh, spec->kw, dilated, spec->H, spec->W, spec->padding[0],
                 spec->padding[1], spec->H + 2 * spec->padding[0],
                 spec->W + 2 * spec->padding[1], MAX (g.OH, 0), MAX (g.OW, 0));
      return FALSE;
    }
  gint64 terms = (gint64) g.OH * g.OW * spec->kh * spec->kw;
  if (terms > CS_WORKED_MAX_TERMS)
    {
      set_error (error, CS_WORKED_ARG_KERNEL, "a %d×%d kernel over %d×%d output cells makes %"
                 G_GINT64_FORMAT " products, more than the %d this writes out; use a "
                 "smaller input or kernel", spec->kh, spec->kw, g.OH, g.OW, terms,
                 CS_WORKED_MAX_TERMS);
      return FALSE;
    }

  if (spec->pool == CS_WORKED_POOL_NONE)
    return TRUE;

  if (!check_pair (CS_WORKED_ARG_POOL_KERNEL, spec->pool_kernel, 1, CS_WORKED_MAX_SIZE, error)
      || !check_pair (CS_WORKED_ARG_POOL_STRIDE, spec->pool_stride, 1, CS_WORKED_MAX_STEP,
                      error)
      || !check_pair (CS_WORKED_ARG_POOL_PADDING, spec->pool_padding, 0, CS_WORKED_MAX_STEP,
                      error))
    return FALSE;
  for (int i = 0; i < 2; i++)
    if (2 * spec->pool_padding[i] > spec->pool_kernel[i])
      {
        set_error (error, CS_WORKED_ARG_POOL_PADDING, "%d is more than half the pool kernel "
                   "%d (PyTorch refuses it too)", spec->pool_padding[i], spec->pool_kernel[i]);
        return FALSE;
      }
  CsSlidingWindow pg;
  pool_window (spec, &g, &pg);
  if (pg.OH < 1 || pg.OW < 1)
    {
      set_error (error, CS_WORKED_ARG_POOL_KERNEL, "the %d×%d window is larger than the "
                 "%d×%d map padded by %d×%d (%d×%d)", pg.kh, pg.kw, pg.H, pg.W, pg.ph, pg.pw,
                 pg.H + 2 * pg.ph, pg.W + 2 * pg.pw);
      return FALSE;
    }
  return TRUE;
}

static void
add_number (JsonBuilder *b, float v)
{
  /* Whole numbers as integers: the description reads like the preset. */
  if (v == floorf (v) && fabsf (v) <= CS_WORKED_MAX_VALUE)
    json_builder_add_int_value (b, (gint64) v);
  else
    json_builder_add_double_value (b, v);
}

static void
add_pair (JsonBuilder *b, const char *key, const int v[2])
{
  json_builder_set_member_name (b, key);
  json_builder_begin_array (b);
  json_builder_add_int_value (b, v[0]);
  json_builder_add_int_value (b, v[1]);
  json_builder_end_array (b);
}

char *
cs_worked_spec_to_json (const CsWorkedSpec *spec)
{
  g_return_val_if_fail (spec != NULL, NULL);

  g_autoptr(JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, "worked-example");
  json_builder_set_member_name (b, "input");
  json_builder_begin_array (b);
  json_builder_add_int_value (b, 1);
  json_builder_add_int_value (b, spec->H);
  json_builder_add_int_value (b, spec->W);
  json_builder_end_array (b);

  json_builder_set_member_name (b, "layers");
  json_builder_begin_array (b);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "conv2d");
  json_builder_set_member_name (b, "in_channels");
  json_builder_add_int_value (b, 1);
  json_builder_set_member_name (b, "out_channels");
  json_builder_add_int_value (b, 1);
  add_pair (b, "kernel_size", (int[2]) { spec->kh, spec->kw });
  add_pair (b, "stride", spec->stride);
  add_pair (b, "padding", spec->padding);
  add_pair (b, "dilation", spec->dilation);
  json_builder_set_member_name (b, "bias");
  if (spec->has_bias)
    {
      json_builder_begin_array (b);
      add_number (b, spec->bias);
      json_builder_end_array (b);
    }
  else
    json_builder_add_boolean_value (b, FALSE);
  json_builder_set_member_name (b, "weight");
  json_builder_begin_array (b);
  for (int i = 0; i < spec->kh; i++)
    {
      json_builder_begin_array (b);
      for (int j = 0; j < spec->kw; j++)
        add_number (b, spec->kernel[i * spec->kw + j]);
      json_builder_end_array (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);

  if (spec->relu)
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "type");
      json_builder_add_string_value (b, "relu");
      json_builder_end_object (b);
    }
  if (spec->pool != CS_WORKED_POOL_NONE)
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "type");
      json_builder_add_string_value (b, spec->pool == CS_WORKED_POOL_MAX ? "maxpool2d"
                                                                         : "avgpool2d");
      add_pair (b, "kernel_size", spec->pool_kernel);
      add_pair (b, "stride", spec->pool_stride);
      add_pair (b, "padding", spec->pool_padding);
      json_builder_end_object (b);
    }
  if (spec->flatten)
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "type");
      json_builder_add_string_value (b, "flatten");
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);

  g_autoptr(JsonNode) root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}

/* ---------------------------------------------------------------------------
 * Grids and formulas for people
 */

/* Splits one row into numbers; returns how many, or −1 with an error. */
static int
parse_row (const char *line, CsWorkedArg arg, int row, float *out, GError **error)
{
  g_auto(GStrv) tokens = g_strsplit_set (line, " \t\r,", -1);
  int n = 0;

  for (char **t = tokens; *t != NULL; t++)
    {
      if (**t == '\0')
        continue;
      if (n == CS_WORKED_MAX_SIZE)
        {
          set_error (error, arg, "row %d has more than %d numbers", row, CS_WORKED_MAX_SIZE);
          return -1;
        }
      char *end = NULL;
      double v = g_ascii_strtod (*t, &end);
      if (end == *t || *end != '\0')
        {
          set_error (error, arg, "row %d, number %d: “%s” is not a number", row, n + 1, *t);
          return -1;
        }
      g_autofree char *where = g_strdup_printf ("row %d, number %d", row, n + 1);
      if (!check_value (arg, where, v, error))
        return -1;
      out[n++] = (float) v;
    }
  return n;
}

gboolean
cs_worked_parse_grid (const char *text, CsWorkedArg arg, float *values, int *rows, int *cols,
                      GError **error)
{
  g_return_val_if_fail (text != NULL && values != NULL, FALSE);
  g_return_val_if_fail (rows != NULL && cols != NULL, FALSE);

  g_auto(GStrv) lines = g_strsplit_set (text, ";\n", -1);
  int n_lines = (int) g_strv_length (lines);
  /* A ";" or a new line at the end ends the last row, it starts none. */
  while (n_lines > 0 && g_strstrip (lines[n_lines - 1])[0] == '\0')
    n_lines--;
  if (n_lines == 0)
    {
      set_error (error, arg, "no numbers; write rows of numbers separated by “;”, "
                 "e.g. “1 2 3; 4 5 6”");
      return FALSE;
    }
  if (n_lines > CS_WORKED_MAX_SIZE)
    {
      set_error (error, arg, "%d rows, at most %d", n_lines, CS_WORKED_MAX_SIZE);
      return FALSE;
    }

  int width = 0;
  for (int r = 0; r < n_lines; r++)
    {
      float row[CS_WORKED_MAX_SIZE];
      int n = parse_row (lines[r], arg, r + 1, row, error);
      if (n < 0)
        return FALSE;
      if (n == 0)
        {
          set_error (error, arg, "row %d is empty", r + 1);
          return FALSE;
        }
      if (r == 0)
        width = n;
      else if (n != width)
        {
          set_error (error, arg, "row %d has %d number%s, row 1 has %d", r + 1, n,
                     n == 1 ? "" : "s", width);
          return FALSE;
        }
      memcpy (values + (gsize) r * width, row, (gsize) n * sizeof (float));
    }
  *rows = n_lines;
  *cols = width;
  return TRUE;
}

char *
cs_window_out_size_formula (int in, int k, int s, int p, int d)
{
  g_return_val_if_fail (s > 0, NULL);

  /* ⌊span / s⌋ rounds towards −∞, also for a window that does not fit. */
  int span = in + 2 * p - d * (k - 1) - 1;
  int out = (span >= 0 ? span / s : -((-span + s - 1) / s)) + 1;
  return g_strdup_printf ("⌊(%d + 2·%d − %d·(%d−1) − 1)/%d⌋ + 1 = %d", in, p, d, k, s, out);
}

/* ---------------------------------------------------------------------------
 * The example
 */

struct _CsWorked
{
  CsWorkedSpec spec;
  CsModel *model;

  CsWorkedStage stages[5];
  float *values[5];          /* the stages' copies */
  guint n_stages;

  CsSlidingWindow conv_g, pool_g;
  CsWorkedConvCell *conv_cells;   /* (OH, OW) */
  CsWorkedTerm *terms;            /* (OH, OW, kh, kw) */
  CsWorkedPoolCell *pool_cells;   /* (pool OH, pool OW) */
  CsWorkedPoolTerm *pool_terms;   /* (pool OH, pool OW, pool kh, pool kw) */
};

void
cs_worked_free (CsWorked *self)
{
  if (self == NULL)
    return;
  for (guint i = 0; i < G_N_ELEMENTS (self->values); i++)
    g_free (self->values[i]);
  g_free (self->conv_cells);
  g_free (self->terms);
  g_free (self->pool_cells);
  g_free (self->pool_terms);
  g_clear_pointer (&self->model, cs_model_free);
  g_free (self);
}

static void
add_stage (CsWorked *self, CsWorkedStageKind kind, const char *name, guint activation,
           const CsSlidingWindow *window)
{
  CsTensor t = cs_model_get_activation (self->model, activation);
  CsWorkedStage *s = &self->stages[self->n_stages];
  gsize n = (gsize) cs_tensor_numel (&t);

  g_assert (self->n_stages < G_N_ELEMENTS (self->stages));
  g_assert (t.shape[0] == 1);
  self->values[self->n_stages] = g_memdup2 (t.data, n * sizeof (float));
  *s = (CsWorkedStage) {
    .kind = kind,
    .name = name,
    .activation = activation,
    .shape = { t.ndim - 1, { t.shape[1], t.ndim > 2 ? t.shape[2] : 0,
                             t.ndim > 3 ? t.shape[3] : 0 } },
    .rows = t.ndim == 4 ? (int) t.shape[2] : 1,
    .cols = t.ndim == 4 ? (int) t.shape[3] : (int) t.shape[1],
    .values = self->values[self->n_stages],
    .window = window,
  };
  g_assert ((gsize) s->rows * s->cols == n);
  self->n_stages++;
}

static gboolean
mismatch (GError **error, const char *stage, int row, int col, double engine, double written)
{
  g_set_error (error, CS_ERROR, CS_ERROR_MISMATCH,
               "the engine gives %s[%d,%d] = %.9g but the example writes out %.9g",
               stage, row, col, engine, written);
  return FALSE;
}

/* Every product of every convolution window, checked against the engine. */
static gboolean
explain_conv (CsWorked *self, const CsWorkedStage *conv, GError **error)
{
  const CsWorkedSpec *spec = &self->spec;
  const CsSlidingWindow *g = &self->conv_g;
  int K = g->kh * g->kw;
  float bias = spec->has_bias ? spec->bias : 0.0f;

  self->conv_cells = g_new0 (CsWorkedConvCell, (gsize) g->OH * g->OW);
  self->terms = g_new0 (CsWorkedTerm, (gsize) g->OH * g->OW * K);
  for (int oh = 0; oh < g->OH; oh++)
    for (int ow = 0; ow < g->OW; ow++)
      {
        CsWorkedConvCell *cell = &self->conv_cells[oh * g->OW + ow];
        CsWorkedTerm *terms = &self->terms[(gsize) (oh * g->OW + ow) * K];
        double sum = 0.0, magnitude = fabs (bias);

        for (int i = 0; i < g->kh; i++)
          for (int j = 0; j < g->kw; j++)
            {
              int h = oh * g->sh - g->ph + i * g->dh, w = ow * g->sw - g->pw + j * g->dw;
              gboolean pad = h < 0 || h >= g->H || w < 0 || w >= g->W;
              CsWorkedTerm *t = &terms[i * g->kw + j];
              *t = (CsWorkedTerm) {
                .row = h, .col = w, .ki = i, .kj = j,
                .input = pad ? 0.0f : spec->input[h * g->W + w],
                .weight = spec->kernel[i * g->kw + j],
                .padding = pad,
              };
              /* exact: two floats' product fits in a double; never −0 */
              t->product = (double) t->input * t->weight + 0.0;
              sum += t->product;
              magnitude += fabs (t->product);
            }
        *cell = (CsWorkedConvCell) {
          .row = oh, .col = ow, .terms = terms, .n_terms = K,
          .sum = sum, .bias = bias, .value = conv->values[oh * g->OW + ow],
        };
        if (fabs (sum + bias - cell->value) > TOLERANCE * MAX (1.0, magnitude))
          return mismatch (error, "conv2d", oh, ow, cell->value, sum + bias);
      }
  return TRUE;
}

/* Every pooling window, with the engine's winner; checked against it. */
static gboolean
explain_pool (CsWorked *self, const CsWorkedStage *in, const CsWorkedStage *pool,
              CsLayer *layer, GError **error)
{
  const CsSlidingWindow *g = &self->pool_g;
  int K = g->kh * g->kw;
  gboolean is_max = self->spec.pool == CS_WORKED_POOL_MAX;
  const gint32 *argmax = is_max ? _cs_pool2d_get_argmax (layer) : NULL;

  self->pool_cells = g_new0 (CsWorkedPoolCell, (gsize) g->OH * g->OW);
  self->pool_terms = g_new0 (CsWorkedPoolTerm, (gsize) g->OH * g->OW * K);
  for (int oh = 0; oh < g->OH; oh++)
    for (int ow = 0; ow < g->OW; ow++)
      {
        int o = oh * g->OW + ow;
        CsWorkedPoolCell *cell = &self->pool_cells[o];
        CsWorkedPoolTerm *cells = &self->pool_terms[(gsize) o * K];
        int h0 = oh * g->sh - g->ph, w0 = ow * g->sw - g->pw;
        double sum = 0.0, magnitude = 0.0;
        float best = -INFINITY;

        *cell = (CsWorkedPoolCell) {
          .row = oh, .col = ow, .cells = cells, .n_cells = K, .winner = -1,
          .value = pool->values[o],
        };
        for (int i = 0; i < g->kh; i++)
          for (int j = 0; j < g->kw; j++)
            {
              int h = h0 + i, w = w0 + j;
              gboolean pad = h < 0 || h >= g->H || w < 0 || w >= g->W;
              CsWorkedPoolTerm *t = &cells[i * g->kw + j];
              /* no ceil mode: a window never reaches past the padding */
              g_assert (h < g->H + g->ph && w < g->W + g->pw);
              *t = (CsWorkedPoolTerm) {
                .row = h, .col = w, .padding = pad,
                .value = pad ? (is_max ? -INFINITY : 0.0f) : in->values[h * g->W + w],
              };
              if (is_max && !pad)
                {
                  best = MAX (best, t->value);
                  if (argmax[o] == h * g->W + w)
                    cell->winner = i * g->kw + j;
                }
              sum += t->value;
              magnitude += fabs (t->value);
            }

        if (is_max)
          {
            /* The engine's winner is in the window and holds its maximum. */
            if (cell->winner < 0)
              return mismatch (error, pool->name, oh, ow, argmax[o], -1);
            if (cells[cell->winner].value != cell->value || best != cell->value)
              return mismatch (error, pool->name, oh, ow, cell->value, best);
          }
        else
          {
            cell->sum = sum;
            cell->divisor = K;  /* count_include_pad */
            if (fabs (sum / K - cell->value) > TOLERANCE * MAX (1.0, magnitude / K))
              return mismatch (error, pool->name, oh, ow, cell->value, sum / K);
          }
      }
  return TRUE;
}

CsWorked *
cs_worked_new (const CsWorkedSpec *spec, GError **error)
{
  return cs_worked_new_with_backend (spec, cs_backend_cpu (), error);
}

CsWorked *
cs_worked_new_with_backend (const CsWorkedSpec *spec, const CsBackend *be, GError **error)
{
  g_return_val_if_fail (spec != NULL, NULL);
  g_return_val_if_fail (be != NULL, NULL);

  if (!cs_worked_spec_validate (spec, error))
    return NULL;

  g_autoptr(CsWorked) self = g_new0 (CsWorked, 1);
  self->spec = *spec;
  conv_window (spec, &self->conv_g);
  if (spec->pool != CS_WORKED_POOL_NONE)
    pool_window (spec, &self->conv_g, &self->pool_g);

  g_autofree char *json = cs_worked_spec_to_json (spec);
  self->model = cs_model_new_from_json (json, -1, error);
  if (self->model == NULL)
    return NULL;
  cs_model_set_backend (self->model, be);
  if (!cs_model_reserve (self->model, 1, error))
    return NULL;

  /* x: (1, 1, H, W) */
  gint64 shape[4] = { 1, 1, spec->H, spec->W };
  CsTensor x = cs_tensor_view (self->spec.input, 4, shape);
  cs_model_forward (self->model, &x, FALSE);

  guint a = 0;
  add_stage (self, CS_WORKED_STAGE_INPUT, "input", a++, NULL);
  add_stage (self, CS_WORKED_STAGE_CONV, "conv2d", a++, &self->conv_g);
  const CsWorkedStage *conv = &self->stages[1];
  g_assert (conv->rows == self->conv_g.OH && conv->cols == self->conv_g.OW);
  if (!explain_conv (self, conv, error))
    return NULL;

  if (spec->relu)
    {
      add_stage (self, CS_WORKED_STAGE_RELU, "relu", a++, NULL);
      const CsWorkedStage *relu = &self->stages[self->n_stages - 1];
      for (int i = 0; i < relu->rows * relu->cols; i++)
        if (relu->values[i] != MAX (conv->values[i], 0.0f))
          {
            mismatch (error, "relu", i / relu->cols, i % relu->cols, relu->values[i],
                      MAX (conv->values[i], 0.0f));
            return NULL;
          }
    }
  if (spec->pool != CS_WORKED_POOL_NONE)
    {
      const CsWorkedStage *in = &self->stages[self->n_stages - 1];
      CsLayer *layer = cs_model_get_layer (self->model, a - 1);
      add_stage (self, CS_WORKED_STAGE_POOL,
                 spec->pool == CS_WORKED_POOL_MAX ? "maxpool2d" : "avgpool2d", a++,
                 &self->pool_g);
      const CsWorkedStage *pool = &self->stages[self->n_stages - 1];
      g_assert (pool->rows == self->pool_g.OH && pool->cols == self->pool_g.OW);
      if (!explain_pool (self, in, pool, layer, error))
        return NULL;
    }
  if (spec->flatten)
    add_stage (self, CS_WORKED_STAGE_FLATTEN, "flatten", a++, NULL);
  g_assert (a == cs_model_get_n_layers (self->model) + 1);

  return g_steal_pointer (&self);
}

const CsWorkedSpec *cs_worked_get_spec (CsWorked *self) { return &self->spec; }
CsModel *cs_worked_get_model (CsWorked *self) { return self->model; }
guint cs_worked_get_n_stages (CsWorked *self) { return self->n_stages; }

const CsWorkedStage *
cs_worked_get_stage (CsWorked *self, guint i)
{
  g_return_val_if_fail (i < self->n_stages, NULL);
  return &self->stages[i];
}

const CsWorkedStage *
cs_worked_find_stage (CsWorked *self, CsWorkedStageKind kind)
{
  for (guint i = 0; i < self->n_stages; i++)
    if (self->stages[i].kind == kind)
      return &self->stages[i];
  return NULL;
}

const CsWorkedConvCell *
cs_worked_get_conv_cell (CsWorked *self, int row, int col)
{
  g_return_val_if_fail (row >= 0 && row < self->conv_g.OH, NULL);
  g_return_val_if_fail (col >= 0 && col < self->conv_g.OW, NULL);
  return &self->conv_cells[row * self->conv_g.OW + col];
}

const CsWorkedPoolCell *
cs_worked_get_pool_cell (CsWorked *self, int row, int col)
{
  if (self->pool_cells == NULL)
    return NULL;
  g_return_val_if_fail (row >= 0 && row < self->pool_g.OH, NULL);
  g_return_val_if_fail (col >= 0 && col < self->pool_g.OW, NULL);
  return &self->pool_cells[row * self->pool_g.OW + col];
}
