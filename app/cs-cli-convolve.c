/* cs-cli-convolve.c — convscope-cli convolve: the worked example, written out
 *
 *   convscope-cli convolve [--input "1 2 3; 4 5 6; 7 8 9"] [--kernel "1 0; 0 1"]
 *                          [--stride S] [--padding P] [--dilation D] [--bias B]
 *                          [--relu] [--pool max|avg [--pool-kernel K] …] [--flatten]
 *                          [--explain] [--json]
 *
 * The numbers are the engine's (core/worked.h runs a real model); this file
 * only prints them: each stage as an aligned grid with its shape and the
 * output-size formula, and with --explain every product and sum, an answer
 * key a teacher can hand out.
 */
#include "cs-cli.h"

#include "core/error.h"
#include "core/worked.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG "convscope-cli convolve"

static int
usage_error (const char *option, const char *format, ...) G_GNUC_PRINTF (2, 3);

/* One line on stderr, "convscope-cli convolve: --kernel: …"; exit status 2. */
static int
usage_error (const char *option, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *msg = g_strdup_vprintf (format, args);
  va_end (args);
  if (option != NULL)
    g_printerr ("%s: --%s: %s\n", PROG, option, msg);
  else
    g_printerr ("%s: %s\n", PROG, msg);
  return 2;
}

/* ---------------------------------------------------------------------------
 * Numbers for people and for JSON
 */

/* The shortest of %.6g … %.<digits>g that reads back as the same number at
 * that precision (9: a float, 17: a double); never "-0". */
static void
append_number (GString *s, double v, int digits)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE], format[8];

  if (v == 0)
    v = 0;  /* −0 → 0 */
  for (int p = 6; p <= digits; p++)
    {
      g_snprintf (format, sizeof format, "%%.%dg", p);
      g_ascii_formatd (buf, sizeof buf, format, v);
      double back = g_ascii_strtod (buf, NULL);
      if (digits <= 9 ? (float) back == (float) v : back == v)
        break;
    }
  g_string_append (s, buf);
}

static char *
number (double v, int digits)
{
  GString *s = g_string_new (NULL);
  append_number (s, v, digits);
  return g_string_free (s, FALSE);
}

/* A factor in a product: negative numbers in parentheses, "3·(-1)". */
static void
append_factor (GString *s, double v)
{
  gboolean neg = v < 0;
  if (neg)
    g_string_append_c (s, '(');
  append_number (s, v, 9);
  if (neg)
    g_string_append_c (s, ')');
}

/* "2" when both are the same, else "(2, 1)", as PyTorch writes them. */
static char *
pair (const int v[2])
{
  if (v[0] == v[1])
    return g_strdup_printf ("%d", v[0]);
  return g_strdup_printf ("(%d, %d)", v[0], v[1]);
}

/* [1, 1, 5, 5]: the stage's shape with the batch of one, as PyTorch prints it. */
static char *
shape_with_batch (const CsShape *shape, gboolean json)
{
  GString *s = g_string_new ("[1");
  for (int i = 0; i < shape->ndim; i++)
    g_string_append_printf (s, json ? ",%" G_GINT64_FORMAT : ", %" G_GINT64_FORMAT,
                            shape->d[i]);
  g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}

/* ---------------------------------------------------------------------------
 * Human output
 */

static void
print_grid (const float *values, int rows, int cols)
{
  g_autoptr(GPtrArray) cells = g_ptr_array_new_with_free_func (g_free);
  int width = 1;

  for (int i = 0; i < rows * cols; i++)
    {
      char *c = number (values[i], 9);
      width = MAX (width, (int) strlen (c));
      g_ptr_array_add (cells, c);
    }
  for (int r = 0; r < rows; r++)
    {
      GString *line = g_string_new (NULL);
      for (int c = 0; c < cols; c++)
        g_string_append_printf (line, "  %*s", width, (char *) cells->pdata[r * cols + c]);
      printf ("%s\n", line->str);
      g_string_free (line, TRUE);
    }
}

static void
print_formulas (const CsSlidingWindow *g)
{
  g_autofree char *h = cs_window_out_size_formula (g->H, g->kh, g->sh, g->ph, g->dh);
  g_autofree char *w = cs_window_out_size_formula (g->W, g->kw, g->sw, g->pw, g->dw);
  printf ("  H_out = %s\n  W_out = %s\n", h, w);
}

/* The module as the lesson would write it in PyTorch. */
static char *
describe_stage (const CsWorkedSpec *spec, const CsWorkedStage *stage)
{
  switch (stage->kind)
    {
    case CS_WORKED_STAGE_INPUT:
      return g_strdup ("x");
    case CS_WORKED_STAGE_CONV:
      {
        g_autofree char *k = pair ((int[2]) { spec->kh, spec->kw });
        g_autofree char *s = pair (spec->stride);
        g_autofree char *p = pair (spec->padding);
        g_autofree char *d = pair (spec->dilation);
        g_autofree char *b = number (spec->bias, 9);
        GString *out = g_string_new (NULL);
        g_string_append_printf (out, "Conv2d(1, 1, kernel_size=%s", k);
        if (spec->stride[0] != 1 || spec->stride[1] != 1)
          g_string_append_printf (out, ", stride=%s", s);
        if (spec->padding[0] != 0 || spec->padding[1] != 0)
          g_string_append_printf (out, ", padding=%s", p);
        if (spec->dilation[0] != 1 || spec->dilation[1] != 1)
          g_string_append_printf (out, ", dilation=%s", d);
        if (spec->has_bias)
          g_string_append_printf (out, "), bias %s", b);
        else
          g_string_append (out, ", bias=False)");
        return g_string_free (out, FALSE);
      }
    case CS_WORKED_STAGE_RELU:
      return g_strdup ("ReLU()");
    case CS_WORKED_STAGE_POOL:
      {
        g_autofree char *k = pair (spec->pool_kernel);
        g_autofree char *s = pair (spec->pool_stride);
        g_autofree char *p = pair (spec->pool_padding);
        return g_strdup_printf ("%s(kernel_size=%s, stride=%s, padding=%s)",
                                spec->pool == CS_WORKED_POOL_MAX ? "MaxPool2d" : "AvgPool2d",
                                k, s, p);
      }
    case CS_WORKED_STAGE_FLATTEN:
      return g_strdup ("Flatten()");
    default:
      g_assert_not_reached ();
    }
}

static void
explain_conv (CsWorked *w, const CsWorkedStage *stage)
{
  for (int r = 0; r < stage->rows; r++)
    for (int c = 0; c < stage->cols; c++)
      {
        const CsWorkedConvCell *cell = cs_worked_get_conv_cell (w, r, c);
        GString *line = g_string_new (NULL);
        g_string_append_printf (line, "  %s[%d,%d] = ", stage->name, r, c);
        for (int t = 0; t < cell->n_terms; t++)
          {
            const CsWorkedTerm *term = &cell->terms[t];
            if (t > 0)
              g_string_append (line, " + ");
            if (term->padding)
              g_string_append (line, "[0]");
            else
              append_factor (line, term->input);
            g_string_append (line, "·");
            append_factor (line, term->weight);
          }
        if (cs_worked_get_spec (w)->has_bias)
          {
            g_string_append (line, cell->bias < 0 ? " - " : " + ");
            append_number (line, fabsf (cell->bias), 9);
            g_string_append (line, " (bias)");
          }
        g_string_append (line, " = ");
        append_number (line, cell->value, 9);
        printf ("%s\n", line->str);
        g_string_free (line, TRUE);
      }
}

static void
explain_relu (const CsWorkedStage *stage, const CsWorkedStage *conv)
{
  for (int i = 0; i < stage->rows * stage->cols; i++)
    {
      g_autofree char *in = number (conv->values[i], 9);
      g_autofree char *out = number (stage->values[i], 9);
      printf ("  relu[%d,%d] = max(0, %s) = %s\n", i / stage->cols, i % stage->cols, in, out);
    }
}

static void
explain_pool (CsWorked *w, const CsWorkedStage *stage, const CsWorkedStage *in)
{
  gboolean is_max = cs_worked_get_spec (w)->pool == CS_WORKED_POOL_MAX;

  for (int r = 0; r < stage->rows; r++)
    for (int c = 0; c < stage->cols; c++)
      {
        const CsWorkedPoolCell *cell = cs_worked_get_pool_cell (w, r, c);
        GString *line = g_string_new (NULL);
        g_string_append_printf (line, "  %s[%d,%d] = %s(", stage->name, r, c,
                                is_max ? "max" : "");
        for (int t = 0; t < cell->n_cells; t++)
          {
            if (t > 0)
              g_string_append (line, is_max ? ", " : " + ");
            if (cell->cells[t].padding)
              g_string_append (line, is_max ? "[−∞]" : "[0]");
            else
              append_number (line, cell->cells[t].value, 9);
          }
        g_string_append_c (line, ')');
        if (!is_max)
          g_string_append_printf (line, "/%d", cell->divisor);
        g_string_append (line, " = ");
        append_number (line, cell->value, 9);
        if (is_max)
          g_string_append_printf (line, ", from %s[%d,%d]", in->name,
                                  cell->cells[cell->winner].row,
                                  cell->cells[cell->winner].col);
        printf ("%s\n", line->str);
        g_string_free (line, TRUE);
      }
}

static void
explain_flatten (const CsWorkedStage *stage, const CsWorkedStage *in)
{
  for (int i = 0; i < stage->cols; i++)
    {
      g_autofree char *v = number (stage->values[i], 9);
      printf ("  flatten[%d] = %s[%d,%d] = %s\n", i, in->name, i / in->cols, i % in->cols, v);
    }
}

static void
print_human (CsWorked *w, gboolean is_default, gboolean explain)
{
  const CsWorkedSpec *spec = cs_worked_get_spec (w);

  if (is_default)
    printf ("The worked example (the demo-conv preset): a 5×5 input, a 3×3 kernel, ReLU, "
            "max pooling, flatten.\n\n");
  if (explain)
    printf ("Cells are [row,col], counted from 0; [0] is a padding cell%s.\n\n",
            spec->pool == CS_WORKED_POOL_MAX ? ", [−∞] one of max pooling's" : "");

  for (guint i = 0; i < cs_worked_get_n_stages (w); i++)
    {
      const CsWorkedStage *stage = cs_worked_get_stage (w, i);
      const CsWorkedStage *prev = i > 0 ? cs_worked_get_stage (w, i - 1) : NULL;
      g_autofree char *what = describe_stage (spec, stage);
      g_autofree char *shape = shape_with_batch (&stage->shape, FALSE);

      if (i > 0)
        printf ("\n");
      printf ("%s: %s → %s\n", stage->name, what, shape);
      if (stage->window != NULL)
        print_formulas (stage->window);
      print_grid (stage->values, stage->rows, stage->cols);

      if (stage->kind == CS_WORKED_STAGE_INPUT)
        {
          CsShape kshape = { 3, { 1, spec->kh, spec->kw } };
          g_autofree char *ks = shape_with_batch (&kshape, FALSE);
          printf ("\nkernel: weight → %s\n", ks);
          print_grid (spec->kernel, spec->kh, spec->kw);
        }
      if (!explain)
        continue;
      switch (stage->kind)
        {
        case CS_WORKED_STAGE_CONV:
          printf ("\n");
          explain_conv (w, stage);
          break;
        case CS_WORKED_STAGE_RELU:
          printf ("\n");
          explain_relu (stage, prev);
          break;
        case CS_WORKED_STAGE_POOL:
          printf ("\n");
          explain_pool (w, stage, prev);
          break;
        case CS_WORKED_STAGE_FLATTEN:
          if (prev->rows > 1)
            {
              printf ("\n");
              explain_flatten (stage, prev);
            }
          break;
        case CS_WORKED_STAGE_INPUT:
        default:
          break;
        }
    }
}

/* ---------------------------------------------------------------------------
 * JSON: one object per line
 */

static void
json_pair (GString *s, const char *key, const int v[2])
{
  g_string_append_printf (s, ",\"%s\":[%d,%d]", key, v[0], v[1]);
}

static void
json_values (GString *s, const float *values, int rows, int cols, gboolean flat)
{
  g_string_append (s, ",\"values\":[");
  for (int r = 0; r < rows; r++)
    {
      if (r > 0)
        g_string_append_c (s, ',');
      if (!flat)
        g_string_append_c (s, '[');
      for (int c = 0; c < cols; c++)
        {
          if (c > 0)
            g_string_append_c (s, ',');
          append_number (s, values[r * cols + c], 9);
        }
      if (!flat)
        g_string_append_c (s, ']');
    }
  g_string_append_c (s, ']');
}

/* The formulas contain no character JSON must escape ("⌊…⌋" is UTF-8). */
static void
json_formulas (GString *s, const CsSlidingWindow *g)
{
  g_autofree char *h = cs_window_out_size_formula (g->H, g->kh, g->sh, g->ph, g->dh);
  g_autofree char *w = cs_window_out_size_formula (g->W, g->kw, g->sw, g->pw, g->dw);
  g_assert (strpbrk (h, "\"\\") == NULL && strpbrk (w, "\"\\") == NULL);
  g_string_append_printf (s, ",\"output_size\":[\"%s\",\"%s\"]", h, w);
}

static void
json_conv_cells (GString *s, CsWorked *w, const CsWorkedStage *stage)
{
  g_string_append (s, ",\"cells\":[");
  for (int r = 0; r < stage->rows; r++)
    for (int c = 0; c < stage->cols; c++)
      {
        const CsWorkedConvCell *cell = cs_worked_get_conv_cell (w, r, c);
        if (r > 0 || c > 0)
          g_string_append_c (s, ',');
        g_string_append_printf (s, "{\"cell\":[%d,%d],\"terms\":[", r, c);
        for (int t = 0; t < cell->n_terms; t++)
          {
            const CsWorkedTerm *term = &cell->terms[t];
            g_string_append_printf (s, "%s{\"input\":[%d,%d],\"kernel\":[%d,%d],\"x\":",
                                    t > 0 ? "," : "", term->row, term->col, term->ki,
                                    term->kj);
            append_number (s, term->input, 9);
            g_string_append (s, ",\"w\":");
            append_number (s, term->weight, 9);
            g_string_append (s, ",\"product\":");
            append_number (s, term->product, 17);
            g_string_append_printf (s, ",\"padding\":%s}", term->padding ? "true" : "false");
          }
        g_string_append (s, "],\"sum\":");
        append_number (s, cell->sum, 17);
        g_string_append (s, ",\"bias\":");
        append_number (s, cell->bias, 9);
        g_string_append (s, ",\"value\":");
        append_number (s, cell->value, 9);
        g_string_append_c (s, '}');
      }
  g_string_append_c (s, ']');
}

static void
json_pool_cells (GString *s, CsWorked *w, const CsWorkedStage *stage)
{
  gboolean is_max = cs_worked_get_spec (w)->pool == CS_WORKED_POOL_MAX;

  g_string_append (s, ",\"cells\":[");
  for (int r = 0; r < stage->rows; r++)
    for (int c = 0; c < stage->cols; c++)
      {
        const CsWorkedPoolCell *cell = cs_worked_get_pool_cell (w, r, c);
        if (r > 0 || c > 0)
          g_string_append_c (s, ',');
        g_string_append_printf (s, "{\"cell\":[%d,%d],\"window\":[", r, c);
        for (int t = 0; t < cell->n_cells; t++)
          {
            const CsWorkedPoolTerm *term = &cell->cells[t];
            g_string_append_printf (s, "%s{\"input\":[%d,%d],\"x\":", t > 0 ? "," : "",
                                    term->row, term->col);
            if (isinf (term->value))
              g_string_append (s, "null");  /* max pooling's −∞ */
            else
              append_number (s, term->value, 9);
            g_string_append_printf (s, ",\"padding\":%s}", term->padding ? "true" : "false");
          }
        g_string_append_c (s, ']');
        if (is_max)
          g_string_append_printf (s, ",\"winner\":[%d,%d]", cell->cells[cell->winner].row,
                                  cell->cells[cell->winner].col);
        else
          {
            g_string_append (s, ",\"sum\":");
            append_number (s, cell->sum, 17);
            g_string_append_printf (s, ",\"divisor\":%d", cell->divisor);
          }
        g_string_append (s, ",\"value\":");
        append_number (s, cell->value, 9);
        g_string_append_c (s, '}');
      }
  g_string_append_c (s, ']');
}

static void
print_json (CsWorked *w, gboolean explain)
{
  const CsWorkedSpec *spec = cs_worked_get_spec (w);

  for (guint i = 0; i < cs_worked_get_n_stages (w); i++)
    {
      const CsWorkedStage *stage = cs_worked_get_stage (w, i);
      g_autofree char *shape = shape_with_batch (&stage->shape, TRUE);
      GString *s = g_string_new (NULL);

      g_string_append_printf (s, "{\"stage\":\"%s\",\"shape\":%s", stage->name, shape);
      switch (stage->kind)
        {
        case CS_WORKED_STAGE_CONV:
          json_pair (s, "kernel_size", (int[2]) { spec->kh, spec->kw });
          json_pair (s, "stride", spec->stride);
          json_pair (s, "padding", spec->padding);
          json_pair (s, "dilation", spec->dilation);
          g_string_append (s, ",\"bias\":");
          if (spec->has_bias)
            append_number (s, spec->bias, 9);
          else
            g_string_append (s, "null");
          json_formulas (s, stage->window);
          break;
        case CS_WORKED_STAGE_POOL:
          json_pair (s, "kernel_size", spec->pool_kernel);
          json_pair (s, "stride", spec->pool_stride);
          json_pair (s, "padding", spec->pool_padding);
          json_formulas (s, stage->window);
          break;
        case CS_WORKED_STAGE_INPUT:
        case CS_WORKED_STAGE_RELU:
        case CS_WORKED_STAGE_FLATTEN:
        default:
          break;
        }
      json_values (s, stage->values, stage->rows, stage->cols,
                   stage->kind == CS_WORKED_STAGE_FLATTEN);
      if (explain && stage->kind == CS_WORKED_STAGE_CONV)
        json_conv_cells (s, w, stage);
      if (explain && stage->kind == CS_WORKED_STAGE_POOL)
        json_pool_cells (s, w, stage);
      g_string_append_c (s, '}');
      printf ("%s\n", s->str);
      g_string_free (s, TRUE);

      if (stage->kind == CS_WORKED_STAGE_INPUT)
        {
          /* the kernel, as the layer's weight (out, in, kh, kw) */
          GString *k = g_string_new (NULL);
          g_string_append_printf (k, "{\"stage\":\"kernel\",\"shape\":[1,1,%d,%d]",
                                  spec->kh, spec->kw);
          json_values (k, spec->kernel, spec->kh, spec->kw, FALSE);
          g_string_append_c (k, '}');
          printf ("%s\n", k->str);
          g_string_free (k, TRUE);
        }
    }
}

/* ---------------------------------------------------------------------------
 * Arguments
 */

/* "2" or "2,1" (rows, columns); also "2x1". */
static gboolean
parse_pair (const char *option, const char *text, int out[2], int *status)
{
  g_auto(GStrv) parts = g_strsplit_set (text, ",xX", -1);
  guint n = g_strv_length (parts);

  if (n == 1 || n == 2)
    {
      gboolean ok = TRUE;
      for (guint i = 0; i < n && ok; i++)
        {
          gint64 v;
          ok = g_ascii_string_to_signed (g_strstrip (parts[i]), 10, -1000000, 1000000, &v,
                                         NULL);
          out[i] = (int) v;
        }
      if (ok)
        {
          if (n == 1)
            out[1] = out[0];
          return TRUE;
        }
    }
  *status = usage_error (option, "“%s” is not a whole number N or a pair of them H,W", text);
  return FALSE;
}

typedef struct
{
  char *input, *kernel;
  char *stride, *padding, *dilation;
  char *bias;
  gboolean relu;
  char *pool;
  char *pool_kernel, *pool_stride, *pool_padding;
  gboolean flatten;
  gboolean explain;
  gboolean json;
} ConvolveOptions;

static void
options_clear (ConvolveOptions *o)
{
  g_free (o->input);
  g_free (o->kernel);
  g_free (o->stride);
  g_free (o->padding);
  g_free (o->dilation);
  g_free (o->bias);
  g_free (o->pool);
  g_free (o->pool_kernel);
  g_free (o->pool_stride);
  g_free (o->pool_padding);
}

/* The spec the options ask for; FALSE with the exit status when they are bad. */
static gboolean
build_spec (const ConvolveOptions *o, CsWorkedSpec *spec, gboolean *is_default, int *status)
{
  g_autoptr(GError) error = NULL;

  cs_worked_spec_init_default (spec);
  *is_default = !o->input && !o->kernel && !o->stride && !o->padding && !o->dilation
                && !o->bias && !o->relu && !o->pool && !o->pool_kernel && !o->pool_stride
                && !o->pool_padding && !o->flatten;
  if (*is_default)
    return TRUE;

  /* The worked example's input and kernel unless given; the stages after the
   * convolution only when asked for. */
  spec->relu = o->relu;
  spec->flatten = o->flatten;
  spec->pool = CS_WORKED_POOL_NONE;

  if ((o->input && !cs_worked_parse_grid (o->input, CS_WORKED_ARG_INPUT, spec->input,
                                          &spec->H, &spec->W, &error))
      || (o->kernel && !cs_worked_parse_grid (o->kernel, CS_WORKED_ARG_KERNEL, spec->kernel,
                                              &spec->kh, &spec->kw, &error)))
    {
      *status = usage_error (NULL, "--%s", error->message);
      return FALSE;
    }
  if ((o->stride && !parse_pair ("stride", o->stride, spec->stride, status))
      || (o->padding && !parse_pair ("padding", o->padding, spec->padding, status))
      || (o->dilation && !parse_pair ("dilation", o->dilation, spec->dilation, status)))
    return FALSE;
  if (o->bias)
    {
      char *end = NULL;
      double b = g_ascii_strtod (o->bias, &end);
      if (end == o->bias || *end != '\0')
        {
          *status = usage_error ("bias", "“%s” is not a number", o->bias);
          return FALSE;
        }
      if (!(fabs (b) <= CS_WORKED_MAX_VALUE))
        {
          *status = usage_error ("bias", "%s is out of range; values must be between −%.0f "
                                 "and %.0f", o->bias, CS_WORKED_MAX_VALUE,
                                 CS_WORKED_MAX_VALUE);
          return FALSE;
        }
      spec->has_bias = TRUE;
      spec->bias = (float) b;
    }

  if (o->pool)
    {
      if (g_str_equal (o->pool, "max"))
        spec->pool = CS_WORKED_POOL_MAX;
      else if (g_str_equal (o->pool, "avg"))
        spec->pool = CS_WORKED_POOL_AVG;
      else
        {
          *status = usage_error ("pool", "“%s” is not max or avg", o->pool);
          return FALSE;
        }
      spec->pool_kernel[0] = spec->pool_kernel[1] = 2;
      spec->pool_padding[0] = spec->pool_padding[1] = 0;
      if ((o->pool_kernel && !parse_pair ("pool-kernel", o->pool_kernel, spec->pool_kernel,
                                          status))
          || (o->pool_padding && !parse_pair ("pool-padding", o->pool_padding,
                                              spec->pool_padding, status)))
        return FALSE;
      /* PyTorch's default stride is the kernel size */
      memcpy (spec->pool_stride, spec->pool_kernel, sizeof spec->pool_stride);
      if (o->pool_stride && !parse_pair ("pool-stride", o->pool_stride, spec->pool_stride,
                                         status))
        return FALSE;
    }
  else
    {
      const char *names[] = { "pool-kernel", "pool-stride", "pool-padding" };
      const char *given[] = { o->pool_kernel, o->pool_stride, o->pool_padding };
      for (int i = 0; i < 3; i++)
        if (given[i] != NULL)
          {
            *status = usage_error (names[i], "needs --pool max or --pool avg");
            return FALSE;
          }
    }

  if (!cs_worked_spec_validate (spec, &error))
    {
      *status = usage_error (NULL, "--%s", error->message);
      return FALSE;
    }
  return TRUE;
}

int
cs_cli_convolve (int argc, char **argv)
{
  ConvolveOptions o = { 0 };
  GOptionEntry entries[] = {
    { "input", 'i', 0, G_OPTION_ARG_STRING, &o.input,
      "Input plane, rows separated by “;” [the example's 5×5]", "\"1 2; 3 4\"" },
    { "kernel", 'k', 0, G_OPTION_ARG_STRING, &o.kernel,
      "Kernel, written the same way [0 1 2; 2 2 0; 0 1 2]", "\"1 0; 0 1\"" },
    { "stride", 's', 0, G_OPTION_ARG_STRING, &o.stride,
      "Convolution stride, N or rows,columns [1]", "S" },
    { "padding", 'p', 0, G_OPTION_ARG_STRING, &o.padding,
      "Zero padding on each side, N or rows,columns [0]", "P" },
    { "dilation", 'd', 0, G_OPTION_ARG_STRING, &o.dilation,
      "Spacing of the kernel's cells, N or rows,columns [1]", "D" },
    { "bias", 'b', 0, G_OPTION_ARG_STRING, &o.bias,
      "Bias added to every output cell [none]", "B" },
    { "relu", 0, 0, G_OPTION_ARG_NONE, &o.relu, "Then ReLU", NULL },
    { "pool", 0, 0, G_OPTION_ARG_STRING, &o.pool,
      "Then MaxPool2d or AvgPool2d", "max|avg" },
    { "pool-kernel", 0, 0, G_OPTION_ARG_STRING, &o.pool_kernel,
      "Pooling window, N or rows,columns [2]", "K" },
    { "pool-stride", 0, 0, G_OPTION_ARG_STRING, &o.pool_stride,
      "Pooling stride [the pooling window]", "S" },
    { "pool-padding", 0, 0, G_OPTION_ARG_STRING, &o.pool_padding,
      "Pooling padding, at most half the window [0]", "P" },
    { "flatten", 0, 0, G_OPTION_ARG_NONE, &o.flatten, "Then flatten", NULL },
    { "explain", 'e', 0, G_OPTION_ARG_NONE, &o.explain,
      "Write out every product and sum: an answer key", NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &o.json,
      "One JSON object per stage and line (keys below)", NULL },
    { NULL },
  };
  g_autoptr(GOptionContext) ctx =
    g_option_context_new ("— convolve a small input by hand, with the real engine");

  if (g_get_prgname () == NULL)
    g_set_prgname (PROG);
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_summary (ctx,
    "Runs one kernel over one input plane through a real Conv2d, then optionally ReLU,\n"
    "max or average pooling and flatten, and prints every stage as a grid with its\n"
    "shape and the output size " CS_WINDOW_OUT_SIZE_FORMULA " with the numbers in.\n"
    "Grids are rows separated by “;” (or new lines), numbers by spaces or commas.\n"
    "Without any of the options that describe the example, it is the worked example of\n"
    "the Convolution view (the demo-conv preset): the 5×5 input\n"
    "  3 3 2 1 0; 2 3 2 1 0; 3 3 2 1 0; 4 3 2 1 0; 1 3 2 1 0\n"
    "convolved with 0 1 2; 2 2 0; 0 1 2, then --relu --pool max --pool-kernel 2\n"
    "--pool-stride 2 --pool-padding 1 --flatten. Given some of them, the input and\n"
    "kernel are still the example's unless set, and ReLU, pooling and flatten run only\n"
    "when asked for. Pairs are rows,columns; cells are [row,col] counted from 0.\n"
    "Max pooling pads with −∞; average pooling counts padding cells as 0 in its divisor\n"
    "(PyTorch's count_include_pad=True).");
  g_option_context_set_description (ctx,
    "Examples:\n"
    "  convscope-cli convolve --explain\n"
    "  convscope-cli convolve --input \"1 2 3; 4 5 6; 7 8 9\" --kernel \"1 0; 0 -1\" --explain\n"
    "  convscope-cli convolve --padding 1 --stride 2 --bias -20 --relu --pool avg\n"
    "  convscope-cli convolve --dilation 2 --padding 2 --json\n"
    "\n"
    "--json writes one object per line: the input, the kernel, then each stage.\n"
    "Keys of every line: \"stage\" (input, kernel, conv2d, relu, maxpool2d, avgpool2d,\n"
    "flatten), \"shape\" (with the batch of one, as PyTorch: [1, 1, H, W] or [1, F]),\n"
    "\"values\" (rows of numbers; a flat list for flatten).\n"
    "conv2d adds \"kernel_size\", \"stride\", \"padding\", \"dilation\" ([rows, columns]),\n"
    "\"bias\" (a number or null) and \"output_size\" (the two formulas, rows then columns);\n"
    "the pooling stage adds \"kernel_size\", \"stride\", \"padding\", \"output_size\".\n"
    "With --explain, conv2d adds \"cells\": [{\"cell\": [r, c], \"terms\": [{\"input\": [r, c],\n"
    "\"kernel\": [i, j], \"x\", \"w\", \"product\", \"padding\"}, …], \"sum\", \"bias\", \"value\"}, …]\n"
    "and the pooling stage \"cells\": [{\"cell\", \"window\": [{\"input\", \"x\", \"padding\"}, …],\n"
    "then \"winner\": [r, c] (max; x is null for its −∞ padding) or \"sum\" and \"divisor\"\n"
    "(avg), and \"value\"}, …]. \"value\" is always the engine's number.\n"
    "\n"
    "Exit status: 0 on success, 2 for a bad argument (one line on stderr), 1 otherwise.");

  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      options_clear (&o);
      return usage_error (NULL, "%s", error->message);
    }
  if (argc > 1)
    {
      options_clear (&o);
      return usage_error (NULL, "unexpected argument “%s” (try --help)", argv[1]);
    }

  CsWorkedSpec *spec = g_new0 (CsWorkedSpec, 1);
  gboolean is_default = FALSE;
  int status = 0;
  if (!build_spec (&o, spec, &is_default, &status))
    {
      g_free (spec);
      options_clear (&o);
      return status;
    }

  g_autoptr(CsWorked) w = cs_worked_new (spec, &error);
  g_free (spec);
  if (w == NULL)
    {
      /* the spec was validated: what is left is the engine's side */
      int code = error->domain == CS_WORKED_ERROR ? 2 : 1;
      options_clear (&o);
      if (code == 2)
        return usage_error (NULL, "--%s", error->message);
      g_printerr ("%s: %s\n", PROG, error->message);
      return code;
    }

  if (o.json)
    print_json (w, o.explain);
  else
    print_human (w, is_default, o.explain);
  options_clear (&o);
  return fflush (stdout) == 0 ? 0 : 1;
}
