/* test-worked.c — the worked example, written out and checked
 *
 * The default example's every stage against numbers worked by hand (and by
 * PyTorch); the written-out products adding up to the engine's cells;
 * stride, padding, dilation and bias against a naive convolution written
 * here; max pooling's padding and winners; average pooling with padding as
 * PyTorch counts it; the output-size formula; and every bad input refused
 * with one error naming its argument.
 *
 * The backward pass: the default example's gradients for three losses worked
 * by hand (dL/dy, the max-pool routing, ReLU's gate, dL/dk term by term,
 * dL/dx, the SGD update); dL/dk, dL/db and dL/dx against central finite
 * differences of the example itself for several geometries and both
 * poolings; the model left as it was; bad losses refused; and an engine that
 * routes a gradient wrongly caught.
 */
#include "core/backend.h"
#include "core/error.h"
#include "core/worked.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------
 * Helpers
 */

static void
assert_stage (CsWorked *w, CsWorkedStageKind kind, const char *name, int rows, int cols,
              const float *expected)
{
  const CsWorkedStage *s = cs_worked_find_stage (w, kind);

  g_assert_nonnull (s);
  g_assert_cmpstr (s->name, ==, name);
  g_assert_cmpint (s->rows, ==, rows);
  g_assert_cmpint (s->cols, ==, cols);
  for (int i = 0; i < rows * cols; i++)
    {
      if (fabsf (s->values[i] - expected[i]) > 1e-5f * MAX (1.0f, fabsf (expected[i])))
        g_test_fail_printf ("%s[%d,%d] is %.9g, expected %.9g", name, i / cols, i % cols,
                            s->values[i], expected[i]);
    }
}

static CsWorked *
worked_new_ok (const CsWorkedSpec *spec)
{
  g_autoptr(GError) error = NULL;
  CsWorked *w = cs_worked_new (spec, &error);

  g_assert_no_error (error);
  g_assert_nonnull (w);
  return w;
}

/* Every conv cell: its products add up, with the bias, to the engine's cell. */
static void
assert_sums (CsWorked *w)
{
  const CsWorkedStage *conv = cs_worked_find_stage (w, CS_WORKED_STAGE_CONV);
  const CsWorkedSpec *spec = cs_worked_get_spec (w);

  for (int r = 0; r < conv->rows; r++)
    for (int c = 0; c < conv->cols; c++)
      {
        const CsWorkedConvCell *cell = cs_worked_get_conv_cell (w, r, c);
        double sum = 0.0;

        g_assert_cmpint (cell->row, ==, r);
        g_assert_cmpint (cell->col, ==, c);
        g_assert_cmpint (cell->n_terms, ==, spec->kh * spec->kw);
        for (int t = 0; t < cell->n_terms; t++)
          {
            const CsWorkedTerm *term = &cell->terms[t];
            g_assert_cmpfloat (term->product, ==, (double) term->input * term->weight);
            sum += term->product;
          }
        g_assert_cmpfloat (sum, ==, cell->sum);
        g_assert_cmpfloat (cell->value, ==, conv->values[r * conv->cols + c]);
        g_assert_cmpfloat_with_epsilon (cell->sum + cell->bias, cell->value,
                                        1e-5 * MAX (1.0, fabs (cell->value)));
      }
}

/* ---------------------------------------------------------------------------
 * The default: DESIGN.md's example and the demo-conv preset
 */

static const float demo_input[25] = {
  3, 3, 2, 1, 0,
  2, 3, 2, 1, 0,
  3, 3, 2, 1, 0,
  4, 3, 2, 1, 0,
  1, 3, 2, 1, 0,
};

static void
test_worked_default (void)
{
  CsWorkedSpec spec;
  cs_worked_spec_init_default (&spec);
  g_autoptr(CsWorked) w = worked_new_ok (&spec);
  /* by hand: conv[0,0] = 3·0 + 3·1 + 2·2 + 2·2 + 3·2 + 2·0 + 3·0 + 3·1 + 2·2 = 24 */
  const float conv[9] = { 24, 18, 8, 26, 18, 8, 28, 18, 8 };
  /* MaxPool2d(2, 2, padding=1): windows {24}, {18, 8}, {26, 28}, {18, 8, 18, 8} */
  const float pool[4] = { 24, 18, 28, 18 };

  g_assert_cmpuint (cs_worked_get_n_stages (w), ==, 5);
  assert_stage (w, CS_WORKED_STAGE_INPUT, "input", 5, 5, demo_input);
  assert_stage (w, CS_WORKED_STAGE_CONV, "conv2d", 3, 3, conv);
  assert_stage (w, CS_WORKED_STAGE_RELU, "relu", 3, 3, conv);
  assert_stage (w, CS_WORKED_STAGE_POOL, "maxpool2d", 2, 2, pool);
  assert_stage (w, CS_WORKED_STAGE_FLATTEN, "flatten", 1, 4, pool);

  /* Shapes as the engine has them (one example) and the stages in order. */
  const char *names[] = { "input", "conv2d", "relu", "maxpool2d", "flatten" };
  const CsShape shapes[] = {
    { 3, { 1, 5, 5 } }, { 3, { 1, 3, 3 } }, { 3, { 1, 3, 3 } }, { 3, { 1, 2, 2 } },
    { 1, { 4 } },
  };
  for (guint i = 0; i < 5; i++)
    {
      const CsWorkedStage *s = cs_worked_get_stage (w, i);
      g_assert_cmpstr (s->name, ==, names[i]);
      g_assert_cmpuint (s->activation, ==, i);
      g_assert_true (cs_shape_equal (&s->shape, &shapes[i]));
      g_assert_true ((s->window != NULL) == (i == 1 || i == 3));
    }
  const CsWorkedStage *cs = cs_worked_find_stage (w, CS_WORKED_STAGE_CONV);
  g_assert_cmpint (cs->window->OH, ==, 3);
  g_assert_cmpint (cs->window->kh, ==, 3);

  /* The first window, term by term. */
  const CsWorkedConvCell *c00 = cs_worked_get_conv_cell (w, 0, 0);
  const float x00[9] = { 3, 3, 2, 2, 3, 2, 3, 3, 2 };
  const float k[9] = { 0, 1, 2, 2, 2, 0, 0, 1, 2 };
  for (int t = 0; t < 9; t++)
    {
      g_assert_cmpint (c00->terms[t].row, ==, t / 3);
      g_assert_cmpint (c00->terms[t].col, ==, t % 3);
      g_assert_cmpint (c00->terms[t].ki, ==, t / 3);
      g_assert_cmpint (c00->terms[t].kj, ==, t % 3);
      g_assert_false (c00->terms[t].padding);
      g_assert_cmpfloat (c00->terms[t].input, ==, x00[t]);
      g_assert_cmpfloat (c00->terms[t].weight, ==, k[t]);
    }
  g_assert_cmpfloat (c00->sum, ==, 24.0);
  g_assert_cmpfloat (c00->bias, ==, 0.0f);
  /* conv[2,1]: rows 2..4, columns 1..3 */
  const CsWorkedConvCell *c21 = cs_worked_get_conv_cell (w, 2, 1);
  g_assert_cmpint (c21->terms[0].row, ==, 2);
  g_assert_cmpint (c21->terms[0].col, ==, 1);
  g_assert_cmpint (c21->terms[8].row, ==, 4);
  g_assert_cmpint (c21->terms[8].col, ==, 3);
  g_assert_cmpfloat (c21->sum, ==, 18.0);
  assert_sums (w);

  /* The pooling windows: padding marked and −∞, the winners the engine's. */
  struct { int winner_row, winner_col, n_padding; } expect[4] = {
    { 0, 0, 3 }, { 0, 1, 2 }, { 2, 0, 2 }, { 1, 1, 0 },  /* a tie: 18 at [1,1] and [2,1] */
  };
  for (int o = 0; o < 4; o++)
    {
      const CsWorkedPoolCell *p = cs_worked_get_pool_cell (w, o / 2, o % 2);
      int n_padding = 0;
      g_assert_cmpint (p->n_cells, ==, 4);
      g_assert_cmpint (p->divisor, ==, 0);
      for (int t = 0; t < 4; t++)
        {
          const CsWorkedPoolTerm *cell = &p->cells[t];
          /* windows start at (2·oh − 1, 2·ow − 1) */
          g_assert_cmpint (cell->row, ==, 2 * (o / 2) - 1 + t / 2);
          g_assert_cmpint (cell->col, ==, 2 * (o % 2) - 1 + t % 2);
          if (cell->padding)
            {
              n_padding++;
              g_assert_true (isinf (cell->value) && cell->value < 0);
            }
          else
            g_assert_cmpfloat (cell->value, ==, conv[cell->row * 3 + cell->col]);
        }
      g_assert_cmpint (n_padding, ==, expect[o].n_padding);
      g_assert_cmpint (p->winner, >=, 0);
      g_assert_cmpint (p->cells[p->winner].row, ==, expect[o].winner_row);
      g_assert_cmpint (p->cells[p->winner].col, ==, expect[o].winner_col);
      g_assert_cmpfloat (p->cells[p->winner].value, ==, pool[o]);
      g_assert_cmpfloat (p->value, ==, pool[o]);
    }
}

/* The default is the demo-conv preset: the same kernel and layers, and the
 * preset run on the same input gives the same numbers. */
static void
test_worked_default_is_preset (void)
{
  CsWorkedSpec spec;
  cs_worked_spec_init_default (&spec);
  g_autoptr(CsWorked) w = worked_new_ok (&spec);
  g_autoptr(GError) error = NULL;
  g_autoptr(CsModel) preset = cs_model_new_preset ("demo-conv", &error);
  CsModel *model = cs_worked_get_model (w);

  g_assert_no_error (error);
  g_assert_cmpuint (cs_model_get_n_layers (model), ==, cs_model_get_n_layers (preset));
  for (guint i = 0; i < cs_model_get_n_layers (model); i++)
    g_assert_true (cs_model_get_layer (model, i)->klass
                   == cs_model_get_layer (preset, i)->klass);
  g_assert_cmpuint (cs_model_get_n_entries (model), ==, 1);
  const CsParam *kw = cs_model_find_entry (model, "0.weight")->param;
  const CsParam *pw = cs_model_find_entry (preset, "0.weight")->param;
  for (int i = 0; i < 9; i++)
    {
      g_assert_cmpfloat (spec.kernel[i], ==, pw->value->data[i]);
      g_assert_cmpfloat (kw->value->data[i], ==, pw->value->data[i]);
    }

  gint64 shape[4] = { 1, 1, 5, 5 };
  CsTensor x = cs_tensor_view ((float *) demo_input, 4, shape);
  g_assert_true (cs_model_reserve (preset, 1, &error));
  const CsTensor *out = cs_model_forward (preset, &x, FALSE);
  const CsWorkedStage *flat = cs_worked_find_stage (w, CS_WORKED_STAGE_FLATTEN);
  g_assert_cmpint (cs_tensor_numel (out), ==, flat->cols);
  for (int i = 0; i < flat->cols; i++)
    g_assert_cmpfloat (out->data[i], ==, flat->values[i]);

  /* The description it ran says so too. */
  g_autofree char *json = cs_worked_spec_to_json (&spec);
  g_assert_nonnull (strstr (json, "\"bias\":false"));
  g_assert_nonnull (strstr (json, "\"weight\":[[0,1,2],[2,2,0],[0,1,2]]"));
  g_assert_nonnull (strstr (json, "\"maxpool2d\""));
}

/* ---------------------------------------------------------------------------
 * Stride, padding, dilation, bias: against a naive convolution
 */

typedef struct
{
  const char *name;
  int H, W, kh, kw;
  int stride[2], padding[2], dilation[2];
  gboolean has_bias;
  float bias;
  gboolean fractions;   /* random fractions, else small whole numbers */
} NaiveCase;

static const NaiveCase naive_cases[] = {
  { "plain", 5, 5, 3, 3, { 1, 1 }, { 0, 0 }, { 1, 1 }, FALSE, 0, FALSE },
  { "stride2", 7, 7, 3, 3, { 2, 2 }, { 0, 0 }, { 1, 1 }, FALSE, 0, FALSE },
  { "padding1", 5, 5, 3, 3, { 1, 1 }, { 1, 1 }, { 1, 1 }, FALSE, 0, FALSE },
  { "padding2-stride2", 6, 5, 3, 3, { 2, 2 }, { 2, 2 }, { 1, 1 }, FALSE, 0, FALSE },
  { "dilation2", 7, 7, 3, 3, { 1, 1 }, { 0, 0 }, { 2, 2 }, FALSE, 0, FALSE },
  { "dilation2-padding2", 5, 5, 3, 3, { 1, 1 }, { 2, 2 }, { 2, 2 }, FALSE, 0, FALSE },
  { "bias", 5, 5, 3, 3, { 1, 1 }, { 0, 0 }, { 1, 1 }, TRUE, -2.5f, FALSE },
  { "per-axis", 6, 9, 2, 3, { 1, 2 }, { 0, 1 }, { 2, 1 }, TRUE, 0.5f, FALSE },
  { "kernel-1x1", 4, 3, 1, 1, { 1, 1 }, { 1, 0 }, { 1, 1 }, TRUE, 1.0f, FALSE },
  { "kernel-as-large", 4, 4, 4, 4, { 1, 1 }, { 0, 0 }, { 1, 1 }, FALSE, 0, FALSE },
  { "fractions", 8, 8, 3, 3, { 2, 1 }, { 1, 2 }, { 1, 2 }, TRUE, 0.125f, TRUE },
  { "large", 64, 64, 5, 5, { 1, 1 }, { 2, 2 }, { 1, 1 }, TRUE, -1.0f, TRUE },
};

static void
test_worked_naive (gconstpointer data)
{
  const NaiveCase *nc = data;
  CsWorkedSpec spec;
  g_autoptr(GRand) rand = g_rand_new_with_seed (42);

  cs_worked_spec_init_default (&spec);
  spec.H = nc->H;
  spec.W = nc->W;
  spec.kh = nc->kh;
  spec.kw = nc->kw;
  memcpy (spec.stride, nc->stride, sizeof spec.stride);
  memcpy (spec.padding, nc->padding, sizeof spec.padding);
  memcpy (spec.dilation, nc->dilation, sizeof spec.dilation);
  spec.has_bias = nc->has_bias;
  spec.bias = nc->bias;
  spec.relu = FALSE;
  spec.pool = CS_WORKED_POOL_NONE;
  spec.flatten = FALSE;
  for (int i = 0; i < nc->H * nc->W; i++)
    spec.input[i] = nc->fractions ? (float) g_rand_double_range (rand, -2, 2)
                                  : (float) g_rand_int_range (rand, -4, 5);
  for (int i = 0; i < nc->kh * nc->kw; i++)
    spec.kernel[i] = nc->fractions ? (float) g_rand_double_range (rand, -1, 1)
                                   : (float) g_rand_int_range (rand, -2, 3);

  g_autoptr(CsWorked) w = worked_new_ok (&spec);
  g_assert_cmpuint (cs_worked_get_n_stages (w), ==, 2);
  g_assert_null (cs_worked_find_stage (w, CS_WORKED_STAGE_POOL));
  g_assert_null (cs_worked_get_pool_cell (w, 0, 0));

  /* ⌊(H + 2p − d(k−1) − 1)/s⌋ + 1, straight from the formula */
  const int *p = nc->padding, *d = nc->dilation, *s = nc->stride;
  int OH = (nc->H + 2 * p[0] - d[0] * (nc->kh - 1) - 1) / s[0] + 1;
  int OW = (nc->W + 2 * p[1] - d[1] * (nc->kw - 1) - 1) / s[1] + 1;
  const CsWorkedStage *conv = cs_worked_find_stage (w, CS_WORKED_STAGE_CONV);
  g_assert_cmpint (conv->rows, ==, OH);
  g_assert_cmpint (conv->cols, ==, OW);
  g_assert_true (cs_shape_equal (&conv->shape, &(CsShape) { 3, { 1, OH, OW } }));

  int n_padding = 0;
  for (int oh = 0; oh < OH; oh++)
    for (int ow = 0; ow < OW; ow++)
      {
        const CsWorkedConvCell *cell = cs_worked_get_conv_cell (w, oh, ow);
        double expected = nc->has_bias ? nc->bias : 0.0;
        for (int i = 0; i < nc->kh; i++)
          for (int j = 0; j < nc->kw; j++)
            {
              int h = oh * nc->stride[0] - nc->padding[0] + i * nc->dilation[0];
              int v = ow * nc->stride[1] - nc->padding[1] + j * nc->dilation[1];
              gboolean inside = h >= 0 && h < nc->H && v >= 0 && v < nc->W;
              double x = inside ? spec.input[h * nc->W + v] : 0.0;
              const CsWorkedTerm *t = &cell->terms[i * nc->kw + j];
              expected += x * spec.kernel[i * nc->kw + j];
              g_assert_cmpint (t->row, ==, h);
              g_assert_cmpint (t->col, ==, v);
              g_assert_cmpint (t->padding, ==, !inside);
              g_assert_cmpfloat (t->input, ==, (float) x);
              n_padding += !inside;
            }
        g_assert_cmpfloat (cell->bias, ==, nc->has_bias ? nc->bias : 0.0f);
        g_assert_cmpfloat_with_epsilon (cell->value, expected,
                                        1e-5 * MAX (1.0, fabs (expected)));
        if (!nc->fractions)
          g_assert_cmpfloat (cell->value, ==, expected);  /* small whole numbers: exact */
      }
  g_assert_cmpint (n_padding > 0, ==, nc->padding[0] > 0 || nc->padding[1] > 0);
  assert_sums (w);
}

/* ---------------------------------------------------------------------------
 * Pooling
 */

/* Bias −20 and no ReLU leave negative cells: max pooling with padding must
 * still never pick a padding cell (it pads with −∞, not 0). Expected numbers
 * from PyTorch: F.max_pool2d(F.conv2d(x, k, bias=tensor([-20.])) - 0, 2, 2, 1)
 * gives [[4, -2], [8, -2]]; with the bias −30 and MaxPool2d(3, 1, 1),
 * [[-4, -4, -12], [-2, -2, -12], [-2, -2, -12]]. */
static void
test_worked_maxpool_padding (void)
{
  CsWorkedSpec spec;
  cs_worked_spec_init_default (&spec);
  spec.has_bias = TRUE;
  spec.bias = -20;
  spec.relu = FALSE;
  spec.flatten = FALSE;

  g_autoptr(CsWorked) w = worked_new_ok (&spec);
  const float conv[9] = { 4, -2, -12, 6, -2, -12, 8, -2, -12 };
  const float pool[4] = { 4, -2, 8, -2 };
  assert_stage (w, CS_WORKED_STAGE_CONV, "conv2d", 3, 3, conv);
  assert_stage (w, CS_WORKED_STAGE_POOL, "maxpool2d", 2, 2, pool);
  g_assert_null (cs_worked_find_stage (w, CS_WORKED_STAGE_RELU));
  g_assert_cmpuint (cs_worked_get_n_stages (w), ==, 3);
  assert_sums (w);
  g_assert_cmpfloat (cs_worked_get_conv_cell (w, 0, 0)->bias, ==, -20.0f);
  g_assert_cmpfloat (cs_worked_get_conv_cell (w, 0, 0)->sum, ==, 24.0);

  /* pool[0,1]: window rows −1..0, columns 1..2: two padding cells, −2 wins */
  const CsWorkedPoolCell *p01 = cs_worked_get_pool_cell (w, 0, 1);
  g_assert_true (p01->cells[0].padding && p01->cells[1].padding);
  g_assert_false (p01->cells[2].padding || p01->cells[3].padding);
  g_assert_cmpint (p01->winner, ==, 2);
  g_assert_cmpint (p01->cells[2].row, ==, 0);
  g_assert_cmpint (p01->cells[2].col, ==, 1);

  spec.bias = -30;
  spec.pool_kernel[0] = spec.pool_kernel[1] = 3;
  spec.pool_stride[0] = spec.pool_stride[1] = 1;
  g_autoptr(CsWorked) w3 = worked_new_ok (&spec);
  const float pool3[9] = { -4, -4, -12, -2, -2, -12, -2, -2, -12 };
  assert_stage (w3, CS_WORKED_STAGE_POOL, "maxpool2d", 3, 3, pool3);
  for (int o = 0; o < 9; o++)
    {
      const CsWorkedPoolCell *p = cs_worked_get_pool_cell (w3, o / 3, o % 3);
      g_assert_cmpint (p->n_cells, ==, 9);
      g_assert_false (p->cells[p->winner].padding);
      g_assert_cmpfloat (p->cells[p->winner].value, ==, pool3[o]);
    }
  /* pool[2,2]: the corner, five padding cells, and −12 wins from [1,1] (ties
   * with [2,1]: the first in row-major order, as PyTorch) */
  const CsWorkedPoolCell *p22 = cs_worked_get_pool_cell (w3, 2, 2);
  int n_padding = 0;
  for (int t = 0; t < 9; t++)
    n_padding += p22->cells[t].padding;
  g_assert_cmpint (n_padding, ==, 5);
  g_assert_cmpint (p22->cells[p22->winner].row, ==, 1);
  g_assert_cmpint (p22->cells[p22->winner].col, ==, 1);
}

/* Average pooling counts padding cells in the divisor (PyTorch's default
 * count_include_pad=True). Expected numbers from Debian's python3-torch:
 *   r = F.relu(F.conv2d(x, k))
 *   F.avg_pool2d(r, 2, 2, 1)  → [[6, 6.5], [13.5, 13]]
 *   F.avg_pool2d(r, 3, 1, 1) · 9 → [[86, 102, 52], [132, 156, 78], [90, 106, 52]]
 *   F.avg_pool2d(F.conv2d(x, k, bias=tensor([-20.])), 2, 2, 1) → [[1, -3.5], [3.5, -7]] */
static void
test_worked_avgpool (void)
{
  CsWorkedSpec spec;
  cs_worked_spec_init_default (&spec);
  spec.pool = CS_WORKED_POOL_AVG;

  g_autoptr(CsWorked) w = worked_new_ok (&spec);
  const float pool[4] = { 6, 6.5f, 13.5f, 13 };
  assert_stage (w, CS_WORKED_STAGE_POOL, "avgpool2d", 2, 2, pool);
  assert_stage (w, CS_WORKED_STAGE_FLATTEN, "flatten", 1, 4, pool);
  /* pool[0,0] = (0 + 0 + 0 + 24) / 4: three padding cells counted */
  const CsWorkedPoolCell *p00 = cs_worked_get_pool_cell (w, 0, 0);
  g_assert_cmpint (p00->winner, ==, -1);
  g_assert_cmpint (p00->divisor, ==, 4);
  g_assert_cmpfloat (p00->sum, ==, 24.0);
  for (int t = 0; t < 3; t++)
    {
      g_assert_true (p00->cells[t].padding);
      g_assert_cmpfloat (p00->cells[t].value, ==, 0.0f);
    }
  g_assert_false (p00->cells[3].padding);
  g_assert_cmpfloat (cs_worked_get_pool_cell (w, 1, 1)->sum, ==, 52.0);

  spec.pool_kernel[0] = spec.pool_kernel[1] = 3;
  spec.pool_stride[0] = spec.pool_stride[1] = 1;
  g_autoptr(CsWorked) w3 = worked_new_ok (&spec);
  const double sums[9] = { 86, 102, 52, 132, 156, 78, 90, 106, 52 };
  float pool3[9];
  for (int i = 0; i < 9; i++)
    pool3[i] = (float) (sums[i] / 9);
  assert_stage (w3, CS_WORKED_STAGE_POOL, "avgpool2d", 3, 3, pool3);
  for (int o = 0; o < 9; o++)
    {
      const CsWorkedPoolCell *p = cs_worked_get_pool_cell (w3, o / 3, o % 3);
      g_assert_cmpint (p->divisor, ==, 9);
      g_assert_cmpfloat (p->sum, ==, sums[o]);
    }

  spec.pool_kernel[0] = spec.pool_kernel[1] = 2;
  spec.pool_stride[0] = spec.pool_stride[1] = 2;
  spec.has_bias = TRUE;
  spec.bias = -20;
  spec.relu = FALSE;
  g_autoptr(CsWorked) wb = worked_new_ok (&spec);
  const float poolb[4] = { 1, -3.5f, 3.5f, -7 };
  assert_stage (wb, CS_WORKED_STAGE_POOL, "avgpool2d", 2, 2, poolb);
}

/* Rectangular pooling windows and strides, checked by a naive max here. */
static void
test_worked_pool_rectangular (void)
{
  CsWorkedSpec spec;
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);

  cs_worked_spec_init_default (&spec);
  spec.H = 9;
  spec.W = 8;
  for (int i = 0; i < spec.H * spec.W; i++)
    spec.input[i] = (float) g_rand_int_range (rand, -9, 10);
  spec.padding[0] = spec.padding[1] = 1;
  spec.relu = FALSE;
  spec.pool_kernel[0] = 3;
  spec.pool_kernel[1] = 2;
  spec.pool_stride[0] = 2;
  spec.pool_stride[1] = 3;
  spec.pool_padding[0] = 1;
  spec.pool_padding[1] = 0;

  g_autoptr(CsWorked) w = worked_new_ok (&spec);
  const CsWorkedStage *conv = cs_worked_find_stage (w, CS_WORKED_STAGE_CONV);
  const CsWorkedStage *pool = cs_worked_find_stage (w, CS_WORKED_STAGE_POOL);
  g_assert_cmpint (conv->rows, ==, 9);
  g_assert_cmpint (conv->cols, ==, 8);
  g_assert_cmpint (pool->rows, ==, (9 + 2 - 3) / 2 + 1);
  g_assert_cmpint (pool->cols, ==, (8 - 2) / 3 + 1);
  for (int oh = 0; oh < pool->rows; oh++)
    for (int ow = 0; ow < pool->cols; ow++)
      {
        float best = -INFINITY;
        int at = -1;
        for (int i = 0; i < 3; i++)
          for (int j = 0; j < 2; j++)
            {
              int h = oh * 2 - 1 + i, v = ow * 3 + j;
              if (h < 0 || h >= 9 || v < 0 || v >= 8)
                continue;
              if (conv->values[h * 8 + v] > best)
                {
                  best = conv->values[h * 8 + v];
                  at = h * 8 + v;
                }
            }
        const CsWorkedPoolCell *p = cs_worked_get_pool_cell (w, oh, ow);
        g_assert_cmpfloat (p->value, ==, best);
        g_assert_cmpint (p->cells[p->winner].row * 8 + p->cells[p->winner].col, ==, at);
      }
}

/* ---------------------------------------------------------------------------
 * The engine's numbers, on either backend, and a wrong engine caught
 */

/* The reference loops give the same example as OpenBLAS. */
static void
test_worked_backends (void)
{
  CsWorkedSpec spec;
  g_autoptr(GError) error = NULL;

  cs_worked_spec_init_default (&spec);
  spec.padding[0] = spec.padding[1] = 1;
  spec.dilation[1] = 2;
  spec.has_bias = TRUE;
  spec.bias = 0.25f;
  spec.pool = CS_WORKED_POOL_AVG;

  g_autoptr(CsWorked) cpu = worked_new_ok (&spec);
  g_autoptr(CsWorked) ref = cs_worked_new_with_backend (&spec, cs_backend_ref (), &error);
  g_assert_no_error (error);
  g_assert_true (cs_model_get_backend (cs_worked_get_model (ref)) == cs_backend_ref ());
  g_assert_cmpuint (cs_worked_get_n_stages (cpu), ==, cs_worked_get_n_stages (ref));
  for (guint i = 0; i < cs_worked_get_n_stages (cpu); i++)
    {
      const CsWorkedStage *a = cs_worked_get_stage (cpu, i), *b = cs_worked_get_stage (ref, i);
      g_assert_cmpint (a->rows * a->cols, ==, b->rows * b->cols);
      for (int k = 0; k < a->rows * a->cols; k++)
        g_assert_cmpfloat_with_epsilon (a->values[k], b->values[k], 1e-5);
    }
  assert_sums (ref);
}

/* A backend that gets one number wrong: the example refuses to show it. */
static CsBackend broken;

static void
conv_off_by_a_hundredth (float *out, float *scratch, const float *inp, const float *weight,
                         const float *bias, int N, int C_out, const CsSlidingWindow *g)
{
  cs_backend_ref ()->conv_forward (out, scratch, inp, weight, bias, N, C_out, g);
  out[4] += 0.01f;   /* out is (1, 1, 3, 3): conv2d[1,1] of the 3×3 map */
}

static void
pool_wrong (float *out, gint32 *argmax, const float *inp, int planes, const CsSlidingWindow *g,
            CsPoolKind kind)
{
  cs_backend_ref ()->pool_forward (out, argmax, inp, planes, g, kind);
  if (kind == CS_POOL_MAX)
    argmax[3] = 2 * g->W + 1;    /* [2,1], in the window of pool[1,1] but not its first */
  else
    out[3] += 0.5f;
}

static void
test_worked_wrong_engine (void)
{
  CsWorkedSpec spec;
  g_autoptr(GError) error = NULL;

  cs_worked_spec_init_default (&spec);
  broken = *cs_backend_ref ();
  broken.conv_forward = conv_off_by_a_hundredth;
  g_autoptr(CsWorked) w = cs_worked_new_with_backend (&spec, &broken, &error);
  g_assert_null (w);
  g_assert_error (error, CS_ERROR, CS_ERROR_MISMATCH);
  g_test_message ("%s", error->message);
  g_assert_cmpstr (error->message, ==, "the engine gives conv2d[1,1] = 18.0100002 but the "
                   "example writes out 18");
  g_clear_error (&error);

  /* max pooling: a winner that is not the first maximum is still a maximum
   * (18 ties at [1,1] and [2,1]), so that one passes; a wrong value does not */
  broken = *cs_backend_ref ();
  broken.pool_forward = pool_wrong;
  g_autoptr(CsWorked) tie = cs_worked_new_with_backend (&spec, &broken, &error);
  g_assert_no_error (error);
  const CsWorkedPoolCell *p11 = cs_worked_get_pool_cell (tie, 1, 1);
  g_assert_cmpint (p11->cells[p11->winner].row, ==, 2);   /* the engine's, as it says */

  spec.pool = CS_WORKED_POOL_AVG;
  g_autoptr(CsWorked) avg = cs_worked_new_with_backend (&spec, &broken, &error);
  g_assert_null (avg);
  g_assert_error (error, CS_ERROR, CS_ERROR_MISMATCH);
  g_assert_cmpstr (error->message, ==, "the engine gives avgpool2d[1,1] = 13.5 but the "
                   "example writes out 13");
}

/* ---------------------------------------------------------------------------
 * The formula
 */

static void
test_worked_formula (void)
{
  g_autofree char *conv = cs_window_out_size_formula (5, 3, 1, 0, 1);
  g_autofree char *pool = cs_window_out_size_formula (3, 2, 2, 1, 1);
  g_autofree char *none = cs_window_out_size_formula (2, 3, 2, 0, 1);

  g_assert_cmpstr (conv, ==, "⌊(5 + 2·0 − 1·(3−1) − 1)/1⌋ + 1 = 3");
  g_assert_cmpstr (pool, ==, "⌊(3 + 2·1 − 1·(2−1) − 1)/2⌋ + 1 = 2");
  /* ⌊−1/2⌋ + 1 = 0: the window does not fit */
  g_assert_cmpstr (none, ==, "⌊(2 + 2·0 − 1·(3−1) − 1)/2⌋ + 1 = 0");
  g_assert_true (g_str_has_prefix (CS_WINDOW_OUT_SIZE_FORMULA, "⌊(H + 2p − d(k−1) − 1)/s⌋"));

  /* The same number as the engine's cs_window_out_size wherever it fits. */
  for (int in = 1; in <= 9; in++)
    for (int k = 1; k <= 4; k++)
      for (int s = 1; s <= 3; s++)
        for (int p = 0; p <= 2; p++)
          for (int d = 1; d <= 2; d++)
            {
              g_autofree char *f = cs_window_out_size_formula (in, k, s, p, d);
              int n = atoi (strrchr (f, '=') + 1);
              int engine = cs_window_out_size (in, k, s, p, d);
              if (engine > 0)
                g_assert_cmpint (n, ==, engine);
              else
                g_assert_cmpint (n, <=, 0);
            }
}

/* ---------------------------------------------------------------------------
 * Grids as text
 */

static void
test_worked_parse_good (void)
{
  float v[CS_WORKED_MAX_SIZE * CS_WORKED_MAX_SIZE];
  int rows = 0, cols = 0;
  g_autoptr(GError) error = NULL;
  struct { const char *text; int rows, cols; float first, last; } cases[] = {
    { "1 2 3; 4 5 6; 7 8 9", 3, 3, 1, 9 },
    { "1,2,3;4,5,6", 2, 3, 1, 6 },
    { " 1, 2 ;3 ,4 ; ", 2, 2, 1, 4 },
    { "-1.5 2e1\n0.25 -0\n", 2, 2, -1.5f, -0.0f },
    { "7", 1, 1, 7, 7 },
    { "1\t2\t3\t4", 1, 4, 1, 4 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_assert_true (cs_worked_parse_grid (cases[i].text, CS_WORKED_ARG_INPUT, v, &rows,
                                           &cols, &error));
      g_assert_no_error (error);
      g_assert_cmpint (rows, ==, cases[i].rows);
      g_assert_cmpint (cols, ==, cases[i].cols);
      g_assert_cmpfloat (v[0], ==, cases[i].first);
      g_assert_cmpfloat (v[rows * cols - 1], ==, cases[i].last);
    }
  g_assert_true (cs_worked_parse_grid ("-1.5 2e1\n0.25 -0", CS_WORKED_ARG_KERNEL, v, &rows,
                                       &cols, &error));
  g_assert_cmpfloat (v[1], ==, 20.0f);
  g_assert_cmpfloat (v[2], ==, 0.25f);

  /* 64 × 64 is the largest */
  GString *big = g_string_new (NULL);
  for (int r = 0; r < 64; r++)
    for (int c = 0; c < 64; c++)
      g_string_append_printf (big, "%d%s", r * 64 + c, c == 63 ? ";" : " ");
  g_assert_true (cs_worked_parse_grid (big->str, CS_WORKED_ARG_INPUT, v, &rows, &cols,
                                       &error));
  g_assert_cmpint (rows, ==, 64);
  g_assert_cmpint (cols, ==, 64);
  g_assert_cmpfloat (v[64 * 64 - 1], ==, 4095.0f);
  g_string_free (big, TRUE);
}

typedef struct
{
  const char *name;
  const char *text;
  CsWorkedArg arg;
  const char *message;     /* exactly */
} BadGrid;

#define RANGE "−1000000 and 1000000"

static const BadGrid bad_grids[] = {
  { "empty", "", CS_WORKED_ARG_INPUT,
    "input: no numbers; write rows of numbers separated by “;”, e.g. “1 2 3; 4 5 6”" },
  { "blank", " ; ;\n", CS_WORKED_ARG_KERNEL,
    "kernel: no numbers; write rows of numbers separated by “;”, e.g. “1 2 3; 4 5 6”" },
  { "ragged", "1 2 3; 4 5", CS_WORKED_ARG_KERNEL, "kernel: row 2 has 2 numbers, row 1 has 3" },
  { "ragged-one", "1 2; 3 4; 5", CS_WORKED_ARG_INPUT,
    "input: row 3 has 1 number, row 1 has 2" },
  { "longer", "1; 2 3", CS_WORKED_ARG_INPUT, "input: row 2 has 2 numbers, row 1 has 1" },
  { "empty-row", "1 2;; 3 4", CS_WORKED_ARG_INPUT, "input: row 2 is empty" },
  { "not-a-number", "1 2; 3 x", CS_WORKED_ARG_INPUT,
    "input: row 2, number 2: “x” is not a number" },
  { "trailing-junk", "1 2px", CS_WORKED_ARG_KERNEL,
    "kernel: row 1, number 2: “2px” is not a number" },
  { "brackets", "[[1, 2], [3, 4]]", CS_WORKED_ARG_INPUT,
    "input: row 1, number 1: “[[1” is not a number" },
  { "nan", "1 nan", CS_WORKED_ARG_INPUT,
    "input: row 1, number 2: nan is out of range; values must be between " RANGE },
  { "inf", "-inf 1", CS_WORKED_ARG_KERNEL,
    "kernel: row 1, number 1: -inf is out of range; values must be between " RANGE },
  { "huge", "1 2; 3 1e7", CS_WORKED_ARG_INPUT,
    "input: row 2, number 2: 1e+07 is out of range; values must be between " RANGE },
};

static void
test_worked_parse_bad (gconstpointer data)
{
  const BadGrid *bg = data;
  float v[CS_WORKED_MAX_SIZE * CS_WORKED_MAX_SIZE];
  int rows = -1, cols = -1;
  g_autoptr(GError) error = NULL;

  g_assert_false (cs_worked_parse_grid (bg->text, bg->arg, v, &rows, &cols, &error));
  g_assert_error (error, CS_WORKED_ERROR, (gint) bg->arg);
  g_assert_cmpstr (error->message, ==, bg->message);
  g_assert_null (strchr (error->message, '\n'));
  g_assert_cmpint (rows, ==, -1);
}

static void
test_worked_parse_too_large (void)
{
  float v[CS_WORKED_MAX_SIZE * CS_WORKED_MAX_SIZE];
  int rows, cols;
  g_autoptr(GError) error = NULL;
  GString *tall = g_string_new (NULL), *wide = g_string_new (NULL);

  for (int i = 0; i < 65; i++)
    {
      g_string_append (tall, "1;");
      g_string_append (wide, "1 ");
    }
  g_assert_false (cs_worked_parse_grid (tall->str, CS_WORKED_ARG_INPUT, v, &rows, &cols,
                                        &error));
  g_assert_cmpstr (error->message, ==, "input: 65 rows, at most 64");
  g_clear_error (&error);
  g_assert_false (cs_worked_parse_grid (wide->str, CS_WORKED_ARG_KERNEL, v, &rows, &cols,
                                        &error));
  g_assert_cmpstr (error->message, ==, "kernel: row 1 has more than 64 numbers");
  g_string_free (tall, TRUE);
  g_string_free (wide, TRUE);
}

/* ---------------------------------------------------------------------------
 * Bad specs: one error each, naming the argument
 */

typedef struct
{
  const char *name;
  void (*change) (CsWorkedSpec *spec);
  CsWorkedArg arg;
  const char *message;
} BadSpec;

static void no_input (CsWorkedSpec *s) { s->H = 0; }
static void input_too_large (CsWorkedSpec *s) { s->H = 65; s->W = 3; }
static void input_nan (CsWorkedSpec *s) { s->input[7] = NAN; }
static void kernel_empty (CsWorkedSpec *s) { s->kw = 0; }
static void kernel_too_large (CsWorkedSpec *s) { s->kh = s->kw = 7; }
static void kernel_huge_value (CsWorkedSpec *s) { s->kernel[0] = -2e6f; }
static void dilated_too_large (CsWorkedSpec *s) { s->dilation[0] = s->dilation[1] = 3; }
static void stride_zero (CsWorkedSpec *s) { s->stride[1] = 0; }
static void stride_negative (CsWorkedSpec *s) { s->stride[0] = s->stride[1] = -1; }
static void stride_absurd (CsWorkedSpec *s) { s->stride[0] = 65; }
static void padding_negative (CsWorkedSpec *s) { s->padding[0] = -1; }
static void padding_absurd (CsWorkedSpec *s) { s->padding[1] = 1000; }
static void dilation_zero (CsWorkedSpec *s) { s->dilation[0] = 0; }
static void bias_inf (CsWorkedSpec *s) { s->has_bias = TRUE; s->bias = INFINITY; }
static void pool_kernel_zero (CsWorkedSpec *s) { s->pool_kernel[0] = 0; }
static void pool_stride_negative (CsWorkedSpec *s) { s->pool_stride[1] = -2; }
static void pool_padding_negative (CsWorkedSpec *s) { s->pool_padding[1] = -1; }

static void
kernel_over_padded (CsWorkedSpec *s)
{
  s->kh = s->kw = 5;
  s->H = 2;
  s->padding[0] = 1;
}

static void
too_many_products (CsWorkedSpec *s)
{
  s->H = s->W = s->kh = s->kw = 40;
  s->padding[0] = s->padding[1] = 20;
}

static void
pool_padding_over_half (CsWorkedSpec *s)
{
  s->pool_padding[0] = s->pool_padding[1] = 2;
}

static void
pool_too_large (CsWorkedSpec *s)
{
  s->pool_kernel[0] = s->pool_kernel[1] = 6;
  s->pool_padding[0] = s->pool_padding[1] = 0;
}

static void
avgpool_too_large (CsWorkedSpec *s)
{
  s->pool = CS_WORKED_POOL_AVG;
  s->pool_kernel[1] = 6;
}

static const BadSpec bad_specs[] = {
  { "input/empty", no_input, CS_WORKED_ARG_INPUT, "input: is empty (0×5)" },
  { "input/too-large", input_too_large, CS_WORKED_ARG_INPUT,
    "input: 65×3 is too large, at most 64×64" },
  { "input/nan", input_nan, CS_WORKED_ARG_INPUT,
    "input: row 2, number 3: nan is out of range; values must be between " RANGE },
  { "kernel/empty", kernel_empty, CS_WORKED_ARG_KERNEL, "kernel: is empty (3×0)" },
  { "kernel/larger-than-input", kernel_too_large, CS_WORKED_ARG_KERNEL,
    "kernel: the 7×7 kernel is larger than the 5×5 input padded by 0×0 (5×5): "
    "the output would be 0×0" },
  { "kernel/larger-than-padded", kernel_over_padded, CS_WORKED_ARG_KERNEL,
    "kernel: the 5×5 kernel is larger than the 2×5 input padded by 1×0 (4×5): "
    "the output would be 0×1" },
  { "kernel/huge-value", kernel_huge_value, CS_WORKED_ARG_KERNEL,
    "kernel: row 1, number 1: -2e+06 is out of range; values must be between " RANGE },
  { "kernel/dilated-too-large", dilated_too_large, CS_WORKED_ARG_KERNEL,
    "kernel: the 3×3 kernel with dilation 3×3 spans 7×7 cells, which is larger than the "
    "5×5 input padded by 0×0 (5×5): the output would be 0×0" },
  { "kernel/too-many-products", too_many_products, CS_WORKED_ARG_KERNEL,
    "kernel: a 40×40 kernel over 41×41 output cells makes 2689600 products, more than the "
    "1048576 this writes out; use a smaller input or kernel" },
  { "stride/zero", stride_zero, CS_WORKED_ARG_STRIDE,
    "stride: 0 is out of range, it must be between 1 and 64" },
  { "stride/negative", stride_negative, CS_WORKED_ARG_STRIDE,
    "stride: -1 is out of range, it must be between 1 and 64" },
  { "stride/absurd", stride_absurd, CS_WORKED_ARG_STRIDE,
    "stride: 65 is out of range, it must be between 1 and 64" },
  { "padding/negative", padding_negative, CS_WORKED_ARG_PADDING,
    "padding: -1 is out of range, it must be between 0 and 64" },
  { "padding/absurd", padding_absurd, CS_WORKED_ARG_PADDING,
    "padding: 1000 is out of range, it must be between 0 and 64" },
  { "dilation/zero", dilation_zero, CS_WORKED_ARG_DILATION,
    "dilation: 0 is out of range, it must be between 1 and 64" },
  { "bias/inf", bias_inf, CS_WORKED_ARG_BIAS,
    "bias: inf is out of range; values must be between " RANGE },
  { "pool-kernel/zero", pool_kernel_zero, CS_WORKED_ARG_POOL_KERNEL,
    "pool-kernel: 0 is out of range, it must be between 1 and 64" },
  { "pool-kernel/too-large", pool_too_large, CS_WORKED_ARG_POOL_KERNEL,
    "pool-kernel: the 6×6 window is larger than the 3×3 map padded by 0×0 (3×3)" },
  { "pool-kernel/avg-too-large", avgpool_too_large, CS_WORKED_ARG_POOL_KERNEL,
    "pool-kernel: the 2×6 window is larger than the 3×3 map padded by 1×1 (5×5)" },
  { "pool-stride/negative", pool_stride_negative, CS_WORKED_ARG_POOL_STRIDE,
    "pool-stride: -2 is out of range, it must be between 1 and 64" },
  { "pool-padding/over-half", pool_padding_over_half, CS_WORKED_ARG_POOL_PADDING,
    "pool-padding: 2 is more than half the pool kernel 2 (PyTorch refuses it too)" },
  { "pool-padding/negative", pool_padding_negative, CS_WORKED_ARG_POOL_PADDING,
    "pool-padding: -1 is out of range, it must be between 0 and 64" },
};

static void
test_worked_bad_spec (gconstpointer data)
{
  const BadSpec *bs = data;
  CsWorkedSpec spec;
  g_autoptr(GError) error = NULL;

  cs_worked_spec_init_default (&spec);
  bs->change (&spec);
  g_assert_false (cs_worked_spec_validate (&spec, &error));
  g_assert_error (error, CS_WORKED_ERROR, (gint) bs->arg);
  g_assert_cmpstr (error->message, ==, bs->message);
  g_assert_true (g_str_has_prefix (error->message, cs_worked_arg_name (bs->arg)));
  g_clear_error (&error);

  /* cs_worked_new () refuses it with the same error and builds nothing. */
  g_autoptr(CsWorked) w = cs_worked_new (&spec, &error);
  g_assert_null (w);
  g_assert_error (error, CS_WORKED_ERROR, (gint) bs->arg);
  g_assert_cmpstr (error->message, ==, bs->message);
}

/* Pool settings do not matter without pooling; absent stages are absent. */
static void
test_worked_stages_optional (void)
{
  CsWorkedSpec spec;
  cs_worked_spec_init_default (&spec);
  spec.pool = CS_WORKED_POOL_NONE;
  spec.pool_kernel[0] = 0;          /* ignored */
  spec.relu = FALSE;

  g_autoptr(CsWorked) w = worked_new_ok (&spec);
  g_assert_cmpuint (cs_worked_get_n_stages (w), ==, 3);
  g_assert_cmpstr (cs_worked_get_stage (w, 2)->name, ==, "flatten");
  const float conv[9] = { 24, 18, 8, 26, 18, 8, 28, 18, 8 };
  assert_stage (w, CS_WORKED_STAGE_FLATTEN, "flatten", 1, 9, conv);
  g_assert_true (cs_shape_equal (&cs_worked_get_stage (w, 2)->shape, &(CsShape) { 1, { 9 } }));
  g_assert_null (cs_worked_find_stage (w, CS_WORKED_STAGE_POOL));
  g_assert_null (cs_worked_find_stage (w, CS_WORKED_STAGE_RELU));

  g_assert_cmpstr (cs_worked_arg_name (CS_WORKED_ARG_POOL_PADDING), ==, "pool-padding");
}


/* ---------------------------------------------------------------------------
 * The backward pass
 */

static CsWorkedBackward *
backward_new_ok (CsWorked *w, CsWorkedLossKind kind, int cell, float target, double lr)
{
  g_autoptr(GError) error = NULL;
  CsWorkedLoss loss = { .kind = kind, .cell = cell, .target = target };
  CsWorkedBackward *b = cs_worked_backward_new (w, &loss, lr, &error);

  g_assert_no_error (error);
  g_assert_nonnull (b);
  return b;
}

static void
assert_grid (const char *what, const float *values, const float *expected, int n)
{
  for (int i = 0; i < n; i++)
    if (fabsf (values[i] - expected[i]) > 1e-5f * MAX (1.0f, fabsf (expected[i])))
      g_test_fail_printf ("%s[%d] is %.9g, expected %.9g", what, i, values[i], expected[i]);
}

/* Every written-out sum is its terms' and within 1e-5 of the engine's. */
static void
assert_backward_sums (CsWorkedBackward *b)
{
  CsWorked *w = cs_worked_backward_get_worked (b);
  const CsWorkedSpec *spec = cs_worked_get_spec (w);
  CsModel *model = cs_worked_get_model (w);
  const CsParam *weight = cs_model_find_entry (model, "0.weight")->param;

  for (int i = 0; i < spec->kh; i++)
    for (int j = 0; j < spec->kw; j++)
      {
        const CsWorkedGradCell *c = cs_worked_backward_get_kernel_cell (b, i, j);
        double sum = 0.0;
        for (int t = 0; t < c->n_terms; t++)
          {
            g_assert_cmpfloat (c->terms[t].product, ==,
                               (double) c->terms[t].factor * c->terms[t].grad);
            sum += c->terms[t].product;
          }
        g_assert_cmpfloat (sum, ==, c->sum);
        /* the engine's own gradient, the one in the model */
        g_assert_cmpfloat (c->value, ==, weight->grad->data[i * spec->kw + j]);
        g_assert_cmpfloat_with_epsilon (c->sum, c->value, 1e-5 * MAX (1.0, fabs (c->value)));
      }
  const float *dx = cs_worked_backward_find_grad (b, CS_WORKED_STAGE_INPUT);
  for (int h = 0; h < spec->H; h++)
    for (int x = 0; x < spec->W; x++)
      {
        const CsWorkedGradCell *c = cs_worked_backward_get_input_cell (b, h, x);
        double sum = 0.0;
        g_assert_cmpint (c->n_terms, <=, spec->kh * spec->kw);
        for (int t = 0; t < c->n_terms; t++)
          {
            g_assert_cmpint (c->terms[t].in_row, ==, h);
            g_assert_cmpint (c->terms[t].in_col, ==, x);
            g_assert_cmpfloat (c->terms[t].factor, ==,
                               spec->kernel[c->terms[t].ki * spec->kw + c->terms[t].kj]);
            sum += c->terms[t].product;
          }
        g_assert_cmpfloat (sum, ==, c->sum);
        g_assert_cmpfloat (c->value, ==, dx[h * spec->W + x]);
        g_assert_cmpfloat_with_epsilon (c->sum, c->value, 1e-5 * MAX (1.0, fabs (c->value)));
      }
}

/* L = Σ y on DESIGN.md's example: y = [24, 18, 28, 18], every dL/dy = 1. */
static void
test_worked_backward_sum (void)
{
  CsWorkedSpec spec;
  cs_worked_spec_init_default (&spec);
  g_autoptr(CsWorked) w = worked_new_ok (&spec);
  g_autoptr(CsWorkedBackward) b = backward_new_ok (w, CS_WORKED_LOSS_SUM, 0, 0, 0.1);
  const float ones[4] = { 1, 1, 1, 1 };
  /* max pooling sends each 1 to its window's winner: ReLU [0,0], [0,1],
   * [2,0] and [1,1] (the first of the tie 18 = 18 at [1,1] and [2,1]) */
  const float drelu[9] = { 1, 1, 0, 0, 1, 0, 1, 0, 0 };
  /* dL/dk[i,j] = x[i,j] + x[i,j+1] + x[i+1,j+1] + x[i+2,j] */
  const float dk[9] = { 12, 10, 6, 12, 10, 6, 10, 10, 6 };
  /* dL/dx: the kernel laid down at [0,0], [0,1], [1,1] and [2,0], added */
  const float dx[25] = {
    0, 1, 3, 2, 0,
    2, 4, 3, 2, 0,
    0, 4, 7, 2, 0,
    2, 2, 1, 2, 0,
    0, 1, 2, 0, 0,
  };
  const float updated[9] = { -1.2f, 0, 1.4f, 0.8f, 1, -0.6f, -1, 0, 1.4f };

  g_assert_cmpfloat (cs_worked_backward_get_value (b), ==, 88.0);
  g_assert_cmpfloat (cs_worked_backward_get_lr (b), ==, 0.1);
  assert_grid ("dL/dy", cs_worked_backward_find_grad (b, CS_WORKED_STAGE_FLATTEN), ones, 4);
  assert_grid ("dL/dpool", cs_worked_backward_find_grad (b, CS_WORKED_STAGE_POOL), ones, 4);
  assert_grid ("dL/drelu", cs_worked_backward_find_grad (b, CS_WORKED_STAGE_RELU), drelu, 9);
  /* every conv cell is positive: ReLU lets everything through */
  assert_grid ("dL/dconv", cs_worked_backward_find_grad (b, CS_WORKED_STAGE_CONV), drelu, 9);
  assert_grid ("dL/dx", cs_worked_backward_find_grad (b, CS_WORKED_STAGE_INPUT), dx, 25);
  for (int k = 0; k < 9; k++)
    {
      const CsWorkedGradCell *c = cs_worked_backward_get_kernel_cell (b, k / 3, k % 3);
      g_assert_cmpfloat (c->value, ==, dk[k]);
      g_assert_cmpfloat (c->before, ==, spec.kernel[k]);
      g_assert_cmpfloat_with_epsilon (c->after, updated[k], 1e-6);
      g_assert_cmpfloat (c->after, ==, c->before - 0.1f * c->value);
    }
  g_assert_null (cs_worked_backward_get_bias_cell (b));

  /* dL/dk[0,0], term by term: x[oh, ow] · g[oh, ow] for the nine output cells */
  const CsWorkedGradCell *k00 = cs_worked_backward_get_kernel_cell (b, 0, 0);
  const float x00[9] = { 3, 3, 2, 2, 3, 2, 3, 3, 2 };
  g_assert_cmpint (k00->n_terms, ==, 9);
  for (int t = 0; t < 9; t++)
    {
      g_assert_cmpint (k00->terms[t].row, ==, t / 3);
      g_assert_cmpint (k00->terms[t].col, ==, t % 3);
      g_assert_cmpint (k00->terms[t].in_row, ==, t / 3);
      g_assert_cmpint (k00->terms[t].in_col, ==, t % 3);
      g_assert_cmpfloat (k00->terms[t].factor, ==, x00[t]);
      g_assert_cmpfloat (k00->terms[t].grad, ==, drelu[t]);
      g_assert_false (k00->terms[t].padding);
    }
  g_assert_cmpfloat (k00->sum, ==, 12.0);

  /* dL/dx[2,2] = Σ k[i,j] · g[2 − i, 2 − j]: the nine kernel cells, of
   * which k[0,2], k[1,1], k[2,1], k[2,2] meet a gradient of 1 */
  const CsWorkedGradCell *x22 = cs_worked_backward_get_input_cell (b, 2, 2);
  g_assert_cmpint (x22->n_terms, ==, 9);
  for (int t = 0; t < 9; t++)
    {
      g_assert_cmpint (x22->terms[t].ki, ==, t / 3);
      g_assert_cmpint (x22->terms[t].kj, ==, t % 3);
      g_assert_cmpint (x22->terms[t].row, ==, 2 - t / 3);
      g_assert_cmpint (x22->terms[t].col, ==, 2 - t % 3);
    }
  g_assert_cmpfloat (x22->sum, ==, 7.0);
  /* a corner is read by one product only: x[4,4] · k[2,2] → output [2,2] */
  const CsWorkedGradCell *x44 = cs_worked_backward_get_input_cell (b, 4, 4);
  g_assert_cmpint (x44->n_terms, ==, 1);
  g_assert_cmpint (x44->terms[0].ki, ==, 2);
  g_assert_cmpint (x44->terms[0].row, ==, 2);
  g_assert_cmpfloat (x44->value, ==, 0.0f);

  /* the routing: ReLU [2,0] won pooled [1,0]; [1,0] lost the same window
   * and gets exactly 0; [2,1] lost the tie of pooled [1,1] */
  const CsWorkedRouteCell *r20 = cs_worked_backward_get_route_cell (b, 2, 0);
  g_assert_cmpint (r20->n_terms, ==, 1);
  g_assert_cmpint (r20->terms[0].row, ==, 1);
  g_assert_cmpint (r20->terms[0].col, ==, 0);
  g_assert_true (r20->terms[0].routed);
  g_assert_cmpint (r20->terms[0].divisor, ==, 1);
  g_assert_cmpfloat (r20->value, ==, 1.0f);
  for (int i = 0; i < 2; i++)
    {
      const CsWorkedRouteCell *lost = cs_worked_backward_get_route_cell (b, i == 0 ? 1 : 2,
                                                                         i == 0 ? 0 : 1);
      g_assert_cmpint (lost->n_terms, ==, 1);
      g_assert_false (lost->terms[0].routed);
      g_assert_cmpfloat (lost->terms[0].share, ==, 0.0);
      g_assert_cmpfloat (lost->value, ==, 0.0f);
    }
  assert_backward_sums (b);
}

/* The engine's MSE against t = 20, with a bias: dL/dy = 2 (y − 20) / 4. */
static void
test_worked_backward_mse (void)
{
  CsWorkedSpec spec;
  cs_worked_spec_init_default (&spec);
  spec.has_bias = TRUE;
  spec.bias = 0.5f;   /* y = [24.5, 18.5, 28.5, 18.5] */
  g_autoptr(CsWorked) w = worked_new_ok (&spec);
  g_autoptr(CsWorkedBackward) b = backward_new_ok (w, CS_WORKED_LOSS_MSE, 0, 20.5f, 0.5);
  const float dy[4] = { 2, -1, 4, -1 };
  const float dconv[9] = { 2, -1, 0, 0, -1, 0, 4, 0, 0 };
  const float dk[9] = { 12, 14, 10, 14, 14, 10, 4, 14, 10 };
  const float dx[25] = {
    0, 2, 3, -2, 0,
    4, 2, -3, -2, 0,
    0, 4, 9, -2, 0,
    8, 8, -1, -2, 0,
    0, 4, 8, 0, 0,
  };

  /* L = (4² + 2² + 8² + 2²)/4 */
  g_assert_cmpfloat_with_epsilon (cs_worked_backward_get_value (b), 22.0, 1e-6);
  assert_grid ("dL/dy", cs_worked_backward_find_grad (b, CS_WORKED_STAGE_FLATTEN), dy, 4);
  assert_grid ("dL/dconv", cs_worked_backward_find_grad (b, CS_WORKED_STAGE_CONV), dconv, 9);
  assert_grid ("dL/dx", cs_worked_backward_find_grad (b, CS_WORKED_STAGE_INPUT), dx, 25);
  for (int k = 0; k < 9; k++)
    g_assert_cmpfloat (cs_worked_backward_get_kernel_cell (b, k / 3, k % 3)->value, ==, dk[k]);

  /* dL/db = Σ g = 2 − 1 − 1 + 4 = 4; b ← 0.5 − 0.5 · 4 = −1.5 */
  const CsWorkedGradCell *bias = cs_worked_backward_get_bias_cell (b);
  g_assert_nonnull (bias);
  g_assert_cmpint (bias->n_terms, ==, 9);
  for (int t = 0; t < 9; t++)
    {
      g_assert_cmpfloat (bias->terms[t].factor, ==, 1.0f);
      g_assert_cmpfloat (bias->terms[t].grad, ==, dconv[t]);
    }
  g_assert_cmpfloat (bias->value, ==, 4.0f);
  g_assert_cmpfloat (bias->sum, ==, 4.0);
  g_assert_cmpfloat (bias->before, ==, 0.5f);
  g_assert_cmpfloat (bias->after, ==, -1.5f);
  /* k[2,0] ← 0 − 0.5 · 4 = −2 */
  g_assert_cmpfloat (cs_worked_backward_get_kernel_cell (b, 2, 0)->after, ==, -2.0f);
  assert_backward_sums (b);
}

/* L = y[2] = 28: one path back, through ReLU [2,0], to the window under it. */
static void
test_worked_backward_cell (void)
{
  CsWorkedSpec spec;
  cs_worked_spec_init_default (&spec);
  g_autoptr(CsWorked) w = worked_new_ok (&spec);
  g_autoptr(CsWorkedBackward) b = backward_new_ok (w, CS_WORKED_LOSS_CELL, 2, 0, 0.1);
  const float dy[4] = { 0, 0, 1, 0 };
  const float dconv[9] = { 0, 0, 0, 0, 0, 0, 1, 0, 0 };
  /* dL/dk = the input under the window of output [2,0]: x[2..4, 0..2] */
  const float dk[9] = { 3, 3, 2, 4, 3, 2, 1, 3, 2 };

  g_assert_cmpfloat (cs_worked_backward_get_value (b), ==, 28.0);
  assert_grid ("dL/dy", cs_worked_backward_find_grad (b, CS_WORKED_STAGE_FLATTEN), dy, 4);
  assert_grid ("dL/dconv", cs_worked_backward_find_grad (b, CS_WORKED_STAGE_CONV), dconv, 9);
  for (int k = 0; k < 9; k++)
    {
      const CsWorkedGradCell *c = cs_worked_backward_get_kernel_cell (b, k / 3, k % 3);
      g_assert_cmpfloat (c->value, ==, dk[k]);
      /* the kernel, laid down at [2,0] */
      g_assert_cmpfloat (cs_worked_backward_get_input_cell (b, 2 + k / 3, k % 3)->value, ==,
                         spec.kernel[k]);
    }
  assert_backward_sums (b);
}

/* Average pooling divides: each cell of a window gets its share, padding
 * counted in the divisor. */
static void
test_worked_backward_avgpool (void)
{
  CsWorkedSpec spec;
  cs_worked_spec_init_default (&spec);
  spec.pool = CS_WORKED_POOL_AVG;
  g_autoptr(CsWorked) w = worked_new_ok (&spec);
  g_autoptr(CsWorkedBackward) b = backward_new_ok (w, CS_WORKED_LOSS_SUM, 0, 0, 0.1);
  const float drelu[9] = { 0.25f, 0.25f, 0.25f, 0.25f, 0.25f, 0.25f, 0.25f, 0.25f, 0.25f };

  assert_grid ("dL/drelu", cs_worked_backward_find_grad (b, CS_WORKED_STAGE_RELU), drelu, 9);
  const CsWorkedRouteCell *r = cs_worked_backward_get_route_cell (b, 1, 1);
  g_assert_cmpint (r->n_terms, ==, 1);
  g_assert_true (r->terms[0].routed);
  g_assert_cmpint (r->terms[0].divisor, ==, 4);
  g_assert_cmpfloat (r->terms[0].share, ==, 0.25);
  /* dL/dk[i,j] = Σ of the 3×3 window of x at (i, j), / 4: for [0,0],
   * (3 + 3 + 2 + 2 + 3 + 2 + 3 + 3 + 2)/4 */
  g_assert_cmpfloat (cs_worked_backward_get_kernel_cell (b, 0, 0)->value, ==, 23.0f / 4);
  assert_backward_sums (b);
}

/* ReLU's gate: where conv ≤ 0 nothing passes, whatever comes from above. */
static void
test_worked_backward_relu (void)
{
  CsWorkedSpec spec;
  cs_worked_spec_init_default (&spec);
  /* 20 − the example: conv = [[−4, 2, 12], [−6, 2, 12], [−8, 2, 12]] */
  for (int i = 0; i < 9; i++)
    spec.kernel[i] = -spec.kernel[i];
  spec.has_bias = TRUE;
  spec.bias = 20;
  spec.pool = CS_WORKED_POOL_AVG;
  g_autoptr(CsWorked) w = worked_new_ok (&spec);
  g_autoptr(CsWorkedBackward) b = backward_new_ok (w, CS_WORKED_LOSS_SUM, 0, 0, 0.1);
  const float *drelu = cs_worked_backward_find_grad (b, CS_WORKED_STAGE_RELU);
  const float *dconv = cs_worked_backward_find_grad (b, CS_WORKED_STAGE_CONV);

  for (int i = 0; i < 9; i++)
    {
      g_assert_cmpfloat (drelu[i], ==, 0.25f);
      g_assert_cmpfloat (dconv[i], ==, i % 3 == 0 ? 0.0f : 0.25f);
    }
  /* dL/db = six cells of 0.25 */
  g_assert_cmpfloat (cs_worked_backward_get_bias_cell (b)->value, ==, 1.5f);
  assert_backward_sums (b);
}

/* dL/dk, dL/db and dL/dx against central differences of the example's own
 * loss, in double from the engine's float32 output; fractional numbers, so
 * no ties. Every function here is linear or quadratic between ReLU's and
 * max-pool's kinks, so the differences are exact up to rounding as long as
 * a step crosses no kink: the test checks that it does not. */
typedef struct
{
  const char *name;
  int H, W, kh, kw;
  int stride, padding, dilation;
  gboolean has_bias;
  CsWorkedPool pool;
  int pool_kernel, pool_stride, pool_padding;
  CsWorkedLossKind loss;
  guint32 seed;
} GradCase;

static const GradCase grad_cases[] = {
  { "default-geometry", 5, 5, 3, 3, 1, 0, 1, FALSE, CS_WORKED_POOL_MAX, 2, 2, 1,
    CS_WORKED_LOSS_SUM, 1 },
  { "stride2-avg", 7, 7, 3, 3, 2, 0, 1, TRUE, CS_WORKED_POOL_AVG, 2, 2, 1,
    CS_WORKED_LOSS_MSE, 2 },
  { "padding1-max-mse", 5, 5, 3, 3, 1, 1, 1, TRUE, CS_WORKED_POOL_MAX, 2, 2, 1,
    CS_WORKED_LOSS_MSE, 3 },
  { "dilation2-overlapping-max", 8, 7, 3, 2, 1, 1, 2, FALSE, CS_WORKED_POOL_MAX, 3, 1, 1,
    CS_WORKED_LOSS_MSE, 4 },
  { "one-cell-avg", 6, 6, 2, 2, 1, 0, 1, TRUE, CS_WORKED_POOL_AVG, 3, 2, 1,
    CS_WORKED_LOSS_CELL, 5 },
};

#define GRAD_STEP (1.0f / 1024)

/* L of the example at spec; the ReLU signs and max-pool winners in kinks. */
static double
grad_case_loss (const CsWorkedSpec *spec, const CsWorkedLoss *loss, GString *kinks)
{
  g_autoptr(CsWorked) w = worked_new_ok (spec);
  guint n = cs_worked_get_n_stages (w);
  const CsWorkedStage *y = cs_worked_get_stage (w, n - 1);
  const CsWorkedStage *conv = cs_worked_find_stage (w, CS_WORKED_STAGE_CONV);
  const CsWorkedStage *pool = cs_worked_find_stage (w, CS_WORKED_STAGE_POOL);
  double L = 0.0;

  for (int i = 0; i < conv->rows * conv->cols; i++)
    g_string_append_c (kinks, conv->values[i] > 0 ? '+' : '-');
  if (spec->pool == CS_WORKED_POOL_MAX)
    for (int i = 0; i < pool->rows * pool->cols; i++)
      g_string_append_printf (kinks, " %d",
                              cs_worked_get_pool_cell (w, i / pool->cols, i % pool->cols)->winner);
  for (int i = 0; i < y->rows * y->cols; i++)
    switch (loss->kind)
      {
      case CS_WORKED_LOSS_SUM:
        L += y->values[i];
        break;
      case CS_WORKED_LOSS_CELL:
        L += i == loss->cell ? y->values[i] : 0.0;
        break;
      case CS_WORKED_LOSS_MSE:
        L += ((double) y->values[i] - loss->target) * ((double) y->values[i] - loss->target)
             / (y->rows * y->cols);
        break;
      }
  return L;
}

/* (L(v + h) − L(v − h)) / 2h for one number v of the spec; NaN if a step
 * changes a ReLU sign or a max-pool winner */
static double
central_difference (CsWorkedSpec *spec, float *v, const CsWorkedLoss *loss, const char *kinks)
{
  float saved = *v;
  double L[2];
  gboolean kink = FALSE;

  for (int s = 0; s < 2; s++)
    {
      g_autoptr(GString) k = g_string_new (NULL);
      *v = saved + (s == 0 ? GRAD_STEP : -GRAD_STEP);
      L[s] = grad_case_loss (spec, loss, k);
      kink |= strcmp (k->str, kinks) != 0;
    }
  *v = saved;
  return kink ? NAN : (L[0] - L[1]) / (2.0 * GRAD_STEP);
}

static void
assert_close_fd (const char *what, int row, int col, double engine, double fd)
{
  if (isnan (fd))
    g_test_fail_printf ("%s[%d,%d]: a step of %g crosses a kink; choose another seed", what,
                        row, col, GRAD_STEP);
  else if (fabs (engine - fd) > 2e-3 * MAX (1.0, fabs (fd)))
    g_test_fail_printf ("%s[%d,%d]: the engine gives %.7g, finite differences %.7g", what, row,
                        col, engine, fd);
}

static void
test_worked_backward_finite_differences (gconstpointer data)
{
  const GradCase *gc = data;
  CsWorkedSpec spec;
  g_autoptr(GRand) rand = g_rand_new_with_seed (gc->seed);

  cs_worked_spec_init_default (&spec);
  spec.H = gc->H;
  spec.W = gc->W;
  spec.kh = gc->kh;
  spec.kw = gc->kw;
  for (int i = 0; i < gc->H * gc->W; i++)
    spec.input[i] = (float) g_rand_double_range (rand, -2, 2);
  for (int i = 0; i < gc->kh * gc->kw; i++)
    spec.kernel[i] = (float) g_rand_double_range (rand, -1, 1);
  spec.stride[0] = spec.stride[1] = gc->stride;
  spec.padding[0] = spec.padding[1] = gc->padding;
  spec.dilation[0] = spec.dilation[1] = gc->dilation;
  spec.has_bias = gc->has_bias;
  spec.bias = gc->has_bias ? (float) g_rand_double_range (rand, -0.5, 0.5) : 0.0f;
  spec.pool = gc->pool;
  spec.pool_kernel[0] = spec.pool_kernel[1] = gc->pool_kernel;
  spec.pool_stride[0] = spec.pool_stride[1] = gc->pool_stride;
  spec.pool_padding[0] = spec.pool_padding[1] = gc->pool_padding;

  g_autoptr(CsWorked) w = worked_new_ok (&spec);
  const CsWorkedStage *y = cs_worked_get_stage (w, cs_worked_get_n_stages (w) - 1);
  CsWorkedLoss loss = { .kind = gc->loss, .cell = y->rows * y->cols / 2, .target = 0.25f };
  g_autoptr(CsWorkedBackward) b = backward_new_ok (w, loss.kind, loss.cell, loss.target, 0.1);
  g_autoptr(GString) kinks = g_string_new (NULL);
  double L = grad_case_loss (&spec, &loss, kinks);
  g_assert_cmpfloat_with_epsilon (cs_worked_backward_get_value (b), L, 1e-5 * MAX (1.0, fabs (L)));
  g_test_message ("%s: L = %g, conv signs and winners %s", gc->name, L, kinks->str);
  /* some gradient must flow for the comparison to mean anything */
  g_assert_cmpfloat (fabs (cs_worked_backward_get_kernel_cell (b, 0, 0)->value)
                     + fabs (cs_worked_backward_get_input_cell (b, gc->H / 2, gc->W / 2)->value),
                     >, 1e-3);

  for (int i = 0; i < gc->kh * gc->kw; i++)
    assert_close_fd ("dL/dk", i / gc->kw, i % gc->kw,
                     cs_worked_backward_get_kernel_cell (b, i / gc->kw, i % gc->kw)->value,
                     central_difference (&spec, &spec.kernel[i], &loss, kinks->str));
  if (gc->has_bias)
    assert_close_fd ("dL/db", 0, 0, cs_worked_backward_get_bias_cell (b)->value,
                     central_difference (&spec, &spec.bias, &loss, kinks->str));
  for (int i = 0; i < gc->H * gc->W; i++)
    assert_close_fd ("dL/dx", i / gc->W, i % gc->W,
                     cs_worked_backward_get_input_cell (b, i / gc->W, i % gc->W)->value,
                     central_difference (&spec, &spec.input[i], &loss, kinks->str));
  assert_backward_sums (b);
}

/* The model keeps its weights and its forward pass; a second backward
 * pass gives the same numbers. */
static void
test_worked_backward_model_unchanged (void)
{
  CsWorkedSpec spec;
  cs_worked_spec_init_default (&spec);
  spec.padding[0] = spec.padding[1] = 1;
  spec.has_bias = TRUE;
  spec.bias = 1;
  g_autoptr(CsWorked) w = worked_new_ok (&spec);
  CsModel *model = cs_worked_get_model (w);
  gsize P = cs_model_get_n_params (model);
  g_autofree float *before = g_memdup2 (cs_model_get_params (model), P * sizeof (float));
  gint64 step = cs_model_get_step (model);

  g_autoptr(CsWorkedBackward) first = backward_new_ok (w, CS_WORKED_LOSS_MSE, 0, 3, 0.25);
  g_assert_cmpmem (cs_model_get_params (model), P * sizeof (float), before, P * sizeof (float));
  g_assert_cmpint (cs_model_get_step (model), ==, step);
  /* the update was real: some weight moved */
  gboolean moved = FALSE;
  for (int k = 0; k < 9; k++)
    moved |= cs_worked_backward_get_kernel_cell (first, k / 3, k % 3)->after != spec.kernel[k];
  g_assert_true (moved);

  g_autoptr(CsWorkedBackward) second = backward_new_ok (w, CS_WORKED_LOSS_MSE, 0, 3, 0.25);
  for (guint i = 0; i < cs_worked_get_n_stages (w); i++)
    {
      const CsWorkedStage *s = cs_worked_get_stage (w, i);
      g_assert_cmpmem (cs_worked_backward_get_grad (first, i), s->rows * s->cols * sizeof (float),
                       cs_worked_backward_get_grad (second, i), s->rows * s->cols * sizeof (float));
    }
  for (int k = 0; k < 9; k++)
    g_assert_cmpfloat (cs_worked_backward_get_kernel_cell (first, k / 3, k % 3)->after, ==,
                       cs_worked_backward_get_kernel_cell (second, k / 3, k % 3)->after);
  g_assert_cmpfloat (cs_worked_backward_get_bias_cell (first)->value, ==,
                     cs_worked_backward_get_bias_cell (second)->value);
}

static void
test_worked_backward_bad (void)
{
  CsWorkedSpec spec;
  cs_worked_spec_init_default (&spec);
  g_autoptr(CsWorked) w = worked_new_ok (&spec);
  const struct { CsWorkedLoss loss; double lr; CsWorkedArg arg; const char *message; } cases[] = {
    { { CS_WORKED_LOSS_CELL, 4, 0 }, 0.1, CS_WORKED_ARG_LOSS,
      "loss: output cell 4 is out of range, the output has 4 cells (0 to 3)" },
    { { CS_WORKED_LOSS_CELL, -1, 0 }, 0.1, CS_WORKED_ARG_LOSS,
      "loss: output cell -1 is out of range, the output has 4 cells (0 to 3)" },
    { { CS_WORKED_LOSS_MSE, 0, INFINITY }, 0.1, CS_WORKED_ARG_TARGET,
      "target: inf is out of range; it must be between −1000000 and 1000000" },
    { { 7, 0, 0 }, 0.1, CS_WORKED_ARG_LOSS, "loss: unknown kind 7" },
    { { CS_WORKED_LOSS_SUM, 0, 0 }, 0, CS_WORKED_ARG_LR,
      "lr: 0 is out of range; the learning rate must be above 0 and at most 1000" },
    { { CS_WORKED_LOSS_SUM, 0, 0 }, NAN, CS_WORKED_ARG_LR,
      "lr: nan is out of range; the learning rate must be above 0 and at most 1000" },
    { { CS_WORKED_LOSS_SUM, 0, 0 }, 1e4, CS_WORKED_ARG_LR,
      "lr: 10000 is out of range; the learning rate must be above 0 and at most 1000" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(CsWorkedBackward) b = cs_worked_backward_new (w, &cases[i].loss, cases[i].lr,
                                                              &error);
      g_assert_null (b);
      g_assert_error (error, CS_WORKED_ERROR, (int) cases[i].arg);
      g_assert_cmpstr (error->message, ==, cases[i].message);
    }
  g_assert_cmpstr (cs_worked_arg_name (CS_WORKED_ARG_LR), ==, "lr");
}

/* An engine whose max-pool backward sends a gradient to a loser. */
static void
pool_backward_to_a_loser (float *dinp, const float *dout, const gint32 *argmax, int planes,
                          const CsSlidingWindow *g, CsPoolKind kind)
{
  cs_backend_ref ()->pool_backward (dinp, dout, argmax, planes, g, kind);
  dinp[1 * g->W + 0] += 0.5f;   /* ReLU [1,0], which lost pooled [1,0] to [2,0] */
}

static void
test_worked_backward_wrong_engine (void)
{
  CsWorkedSpec spec;
  g_autoptr(GError) error = NULL;

  cs_worked_spec_init_default (&spec);
  broken = *cs_backend_ref ();
  broken.pool_backward = pool_backward_to_a_loser;
  g_autoptr(CsWorked) w = cs_worked_new_with_backend (&spec, &broken, &error);
  g_assert_no_error (error);
  CsWorkedLoss loss = { CS_WORKED_LOSS_SUM, 0, 0 };
  g_autoptr(CsWorkedBackward) b = cs_worked_backward_new (w, &loss, 0.1, &error);
  g_assert_null (b);
  g_assert_error (error, CS_ERROR, CS_ERROR_MISMATCH);
  g_assert_cmpstr (error->message, ==, "the engine gives relu[1,0] = 0.5 but the example "
                   "writes out 0");

  /* the reference loops give the same numbers as the fast backend */
  g_clear_error (&error);
  g_autoptr(CsWorked) ref = cs_worked_new_with_backend (&spec, cs_backend_ref (), &error);
  g_assert_no_error (error);
  g_autoptr(CsWorkedBackward) rb = cs_worked_backward_new (ref, &loss, 0.1, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (cs_worked_backward_get_kernel_cell (rb, 0, 0)->value, ==, 12.0f);
  assert_backward_sums (rb);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/core/worked/default", test_worked_default);
  g_test_add_func ("/core/worked/default-is-preset", test_worked_default_is_preset);
  for (gsize i = 0; i < G_N_ELEMENTS (naive_cases); i++)
    {
      g_autofree char *path = g_strconcat ("/core/worked/naive/", naive_cases[i].name, NULL);
      g_test_add_data_func (path, &naive_cases[i], test_worked_naive);
    }
  g_test_add_func ("/core/worked/maxpool/padding", test_worked_maxpool_padding);
  g_test_add_func ("/core/worked/avgpool/padding", test_worked_avgpool);
  g_test_add_func ("/core/worked/pool/rectangular", test_worked_pool_rectangular);
  g_test_add_func ("/core/worked/stages-optional", test_worked_stages_optional);
  g_test_add_func ("/core/worked/backends", test_worked_backends);
  g_test_add_func ("/core/worked/wrong-engine", test_worked_wrong_engine);
  g_test_add_func ("/core/worked/formula", test_worked_formula);
  g_test_add_func ("/core/worked/parse/good", test_worked_parse_good);
  for (gsize i = 0; i < G_N_ELEMENTS (bad_grids); i++)
    {
      g_autofree char *path = g_strconcat ("/core/worked/parse/bad/", bad_grids[i].name, NULL);
      g_test_add_data_func (path, &bad_grids[i], test_worked_parse_bad);
    }
  g_test_add_func ("/core/worked/parse/too-large", test_worked_parse_too_large);
  for (gsize i = 0; i < G_N_ELEMENTS (bad_specs); i++)
    {
      g_autofree char *path = g_strconcat ("/core/worked/bad/", bad_specs[i].name, NULL);
      g_test_add_data_func (path, &bad_specs[i], test_worked_bad_spec);
    }
  g_test_add_func ("/core/worked/backward/sum", test_worked_backward_sum);
  g_test_add_func ("/core/worked/backward/mse", test_worked_backward_mse);
  g_test_add_func ("/core/worked/backward/cell", test_worked_backward_cell);
  g_test_add_func ("/core/worked/backward/avgpool", test_worked_backward_avgpool);
  g_test_add_func ("/core/worked/backward/relu", test_worked_backward_relu);
  for (gsize i = 0; i < G_N_ELEMENTS (grad_cases); i++)
    {
      g_autofree char *path = g_strconcat ("/core/worked/backward/finite-differences/",
                                           grad_cases[i].name, NULL);
      g_test_add_data_func (path, &grad_cases[i], test_worked_backward_finite_differences);
    }
  g_test_add_func ("/core/worked/backward/model-unchanged", test_worked_backward_model_unchanged);
  g_test_add_func ("/core/worked/backward/bad", test_worked_backward_bad);
  g_test_add_func ("/core/worked/backward/wrong-engine", test_worked_backward_wrong_engine);

  return g_test_run ();
}
