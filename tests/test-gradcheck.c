/* test-gradcheck.c — every backward against central differences
 *
 * For each layer kind a small model is built from JSON and given seeded
 * random inputs. The loss is L = Σ out·R for a fixed random R, summed in
 * double; its analytical gradients come from one backward with dout = R,
 * its numerical ones from
 *
 *   ∂L/∂θ ≈ (L(θ + ε) − L(θ − ε)) / ((θ + ε) − (θ − ε))
 *
 * where the denominator is the difference of the two float32 values really
 * used (θ ± ε rounds). The input gradient and every parameter tensor are
 * checked: all elements of small tensors, a seeded sample of larger ones,
 * and each tensor as a whole along its gradient (grad_check_direction).
 *
 * Noise. The forward is float32: L carries rounding noise δL, which puts
 * δL/ε into a numerical gradient. The analytical side runs on the backend
 * under test (both, for the layers); the numerical side always runs on the
 * reference backend, whose GEMM sums in double, so that δL is only the
 * rounding of each activation to float32 — OpenBLAS's float sums over 784
 * or 3136 terms make it ten times larger. The two forwards must agree.
 *
 * Tolerance. An element passes when |a − n| ≤ atol + rtol·max(|a|, |n|).
 * For the layers, with gradients of order one: ε = 1e-3, atol = 1e-3,
 * rtol = 1e-2; the largest error seen is a few hundredths of that. A wrong
 * formula — a flipped sign, a missing term, an off-by-one window — misses
 * by far more (breaking a backward on purpose fails every case that uses
 * it). The full models take a mean cross-entropy, with gradients of 1e-3
 * to 1e-1, and have their own ε and atol (model_cases).
 *
 * Kinks. ReLU and max-pool are not differentiable everywhere. Where the
 * kink is at the model's input the inputs stay more than 2ε away from it
 * (|x| ≥ 0.05; distinct values spaced 0.01 for max-pool) and every element
 * must pass. Inside a residual block or a full model the test cannot steer
 * the values, and thousands of ReLU and max-pool decisions hang on some
 * parameters (a BatchNorm bias moves every unit of its channel): there an
 * element whose central difference fails is examined with L(θ ± 2ε) too
 * (grad_check_kinked) and may pass on the side free of kinks; a few
 * elements remain with kinks on both sides, and a small share of them may
 * differ or stay undetermined (grad_check_run) — a wrong formula fails
 * nearly everywhere.
 *
 * Ties are tested on their own: ReLU at 0 has gradient 0 and a max-pool
 * window of equal values sends everything to its first cell in row-major
 * order, as in PyTorch. The full models also compare the two backends'
 * outputs and gradients directly.
 */
#include "core/backend.h"
#include "core/loss.h"
#include "core/model.h"
#include "core/rng.h"

#include <math.h>
#include <string.h>

#define EPS         1e-3
#define ATOL        1e-3
#define RTOL        1e-2
#define N_SAMPLE    64
#define REF_CPU_TOL 1e-4

/* ---------------------------------------------------------------------------
 * Helpers
 */

/* The JSON of the cases is written with single quotes, for legibility. */
static CsModel *
model_new_squoted (const char *squoted)
{
  g_autofree char *json = g_strdup (squoted);
  g_autoptr(GError) error = NULL;

  g_strdelimit (json, "'", '"');
  CsModel *model = cs_model_new_from_json (json, -1, &error);
  g_assert_no_error (error);
  g_assert_nonnull (model);
  return model;
}

static CsModel *
model_new_preset (const char *name)
{
  g_autoptr(GError) error = NULL;
  CsModel *model = cs_model_new_preset (name, &error);

  g_assert_no_error (error);
  g_assert_nonnull (model);
  return model;
}

static void
fill_normal (float *x, gsize n, double scale, CsRng *rng)
{
  for (gsize i = 0; i < n; i++)
    x[i] = (float) (scale * cs_rng_normal (rng));
}

static void
fill_uniform (float *x, gsize n, double lo, double hi, CsRng *rng)
{
  for (gsize i = 0; i < n; i++)
    x[i] = (float) (lo + (hi - lo) * cs_rng_uniform (rng));
}

/* N(0, 1), redrawn where |x| < 0.05: far from ReLU's kink compared to ε. */
static void
fill_away_from_zero (float *x, gsize n, CsRng *rng)
{
  for (gsize i = 0; i < n; i++)
    do
      x[i] = (float) cs_rng_normal (rng);
    while (fabsf (x[i]) < 0.05f);
}

/* Distinct values spaced 0.01 in a random order: no max-pool window is
 * near a tie compared to ε. */
static void
fill_distinct (float *x, gsize n, CsRng *rng)
{
  g_autofree guint32 *perm = g_new (guint32, n);

  for (gsize i = 0; i < n; i++)
    perm[i] = (guint32) i;
  cs_rng_shuffle_u32 (rng, perm, n);
  for (gsize i = 0; i < n; i++)
    x[i] = 0.01f * ((float) perm[i] - (float) n / 2);
}

/* k distinct indices below n (all of them when n ≤ k), in increasing order. */
static guint32 *
sample_indices (gsize n, guint k, CsRng *rng, guint *n_out)
{
  guint32 *idx;

  if (n <= k)
    {
      idx = g_new (guint32, n);
      for (gsize i = 0; i < n; i++)
        idx[i] = (guint32) i;
      *n_out = (guint) n;
      return idx;
    }

  idx = g_new (guint32, k);
  for (guint i = 0; i < k; i++)
    {
      gboolean seen;
      do
        {
          idx[i] = cs_rng_below (rng, (guint32) n);
          seen = FALSE;
          for (guint j = 0; j < i; j++)
            seen = seen || idx[j] == idx[i];
        }
      while (seen);
    }
  for (guint i = 1; i < k; i++)
    for (guint j = i; j > 0 && idx[j - 1] > idx[j]; j--)
      {
        guint32 t = idx[j];
        idx[j] = idx[j - 1];
        idx[j - 1] = t;
      }
  *n_out = k;
  return idx;
}

/* BatchNorm's γ, β and running statistics away from 1 and 0, so that the
 * check sees them act. */
static void
randomize_batchnorm (CsModel *model, CsRng *rng)
{
  for (guint i = 0; i < cs_model_get_n_entries (model); i++)
    {
      const CsParam *p = cs_model_get_entry (model, i)->param;
      gsize n = p->value ? (gsize) cs_tensor_numel (p->value) : 0;
      if (p->role == CS_PARAM_ONES || p->role == CS_BUFFER_ONES)
        fill_uniform (p->value->data, n, 0.5, 1.5, rng);
      else if (p->role == CS_PARAM_ZEROS || p->role == CS_BUFFER_ZEROS)
        fill_uniform (p->value->data, n, -0.5, 0.5, rng);
    }
}

/* ---------------------------------------------------------------------------
 * The check
 */

typedef enum
{
  LOSS_DOT,            /* L = Σ out·R */
  LOSS_CROSS_ENTROPY,  /* L = mean cross-entropy of the logits */
} LossKind;

typedef struct
{
  CsModel *model;
  CsTensor *x;              /* (N, input shape) */
  gboolean train;
  LossKind loss;
  float *R;                 /* (N, output shape), LOSS_DOT */
  gint32 *labels;           /* (N), LOSS_CROSS_ENTROPY */
  CsTensor *probs, *dlogits;
  double eps, atol, rtol;
  gboolean hidden_kinks;    /* kinks the inputs cannot keep away from */
  guint n_sample;
  CsRng rng;                /* for the samples */
} GradCheck;

typedef struct
{
  guint checked, failed, one_sided, undetermined;
  double worst_diff, worst_ratio;
} CheckStats;

static void
grad_check_init (GradCheck *gc, CsModel *model, int N, gboolean train, LossKind loss,
                 guint64 seed)
{
  const CsShape *in = cs_model_get_input_shape (model);
  const CsShape *out = cs_model_get_output_shape (model);
  CsTensor xs = cs_tensor_view_batch (NULL, N, in);
  gsize n_out = (gsize) N * cs_shape_numel (out);
  g_autoptr(GError) error = NULL;

  *gc = (GradCheck) {
    .model = model,
    .x = cs_tensor_new (xs.ndim, xs.shape),
    .train = train,
    .loss = loss,
    .eps = EPS,
    .atol = ATOL,
    .rtol = RTOL,
    .n_sample = N_SAMPLE,
  };
  cs_rng_init (&gc->rng, seed);

  g_assert_true (cs_model_reserve (model, N, &error));
  g_assert_no_error (error);
  cs_model_set_input_grad (model, TRUE);

  if (loss == LOSS_DOT)
    {
      gc->R = g_new (float, n_out);
      fill_uniform (gc->R, n_out, -1.0, 1.0, &gc->rng);
    }
  else
    {
      g_assert_cmpint (out->ndim, ==, 1);
      gc->labels = g_new (gint32, N);
      for (int n = 0; n < N; n++)
        gc->labels[n] = (gint32) cs_rng_below (&gc->rng, (guint32) out->d[0]);
      gc->probs = cs_tensor_new_2d (N, out->d[0]);
      gc->dlogits = cs_tensor_new_2d (N, out->d[0]);
    }
}

static void
grad_check_clear (GradCheck *gc)
{
  g_clear_pointer (&gc->x, cs_tensor_free);
  g_clear_pointer (&gc->R, g_free);
  g_clear_pointer (&gc->labels, g_free);
  g_clear_pointer (&gc->probs, cs_tensor_free);
  g_clear_pointer (&gc->dlogits, cs_tensor_free);
}

/* One forward; the loss in double. */
static double
grad_check_loss (GradCheck *gc)
{
  const CsTensor *out = cs_model_forward (gc->model, gc->x, gc->train);
  g_assert_nonnull (out);

  if (gc->loss == LOSS_CROSS_ENTROPY)
    return cs_loss_cross_entropy (cs_model_get_backend (gc->model), gc->dlogits,
                                  gc->probs, out, gc->labels);

  double L = 0.0;
  gint64 n = cs_tensor_numel (out);
  for (gint64 i = 0; i < n; i++)
    L += (double) out->data[i] * gc->R[i];
  return L;
}

/* Forward and backward: parameter gradients and d L / d input. */
static void
grad_check_backward (GradCheck *gc)
{
  grad_check_loss (gc);
  CsTensor dout = cs_model_get_output_grad (gc->model);
  gsize n = (gsize) cs_tensor_numel (&dout);

  if (gc->loss == LOSS_CROSS_ENTROPY)
    memcpy (dout.data, gc->dlogits->data, n * sizeof (float));
  else
    memcpy (dout.data, gc->R, n * sizeof (float));
  cs_model_zero_grad (gc->model);
  cs_model_backward (gc->model);
}

static gboolean
grad_check_close (GradCheck *gc, double a, double b)
{
  return fabs (a - b) <= gc->atol + gc->rtol * MAX (fabs (a), fabs (b));
}

/* The loss with v[i] set to value. */
static double
grad_check_loss_at (GradCheck *gc, float *v, gsize i, float value)
{
  float orig = v[i];
  v[i] = value;
  double L = grad_check_loss (gc);
  v[i] = orig;
  return L;
}

typedef enum
{
  ELEMENT_PASS,
  ELEMENT_PASS_AT_KINK,
  ELEMENT_UNDETERMINED,
  ELEMENT_FAIL,
} ElementResult;

/* Where kinks may lie within ±ε of θ (inside a residual block, anywhere in
 * a full model), a failed central difference is looked at more closely
 * with L(θ ± 2ε) too. Three estimates of the slope, each with a second one
 * that should agree when no kink is in its span:
 *
 *   central  (L₊ − L₋)/2ε          and (L₊₂ − L₋₂)/4ε
 *   left     (L₀ − L₋)/ε           and (L₋ − L₋₂)/ε
 *   right    (L₊ − L₀)/ε           and (L₊₂ − L₊)/ε
 *
 * A slope whose two measures agree is trusted. The element passes if a
 * trusted slope matches the analytical gradient, fails if slopes are
 * trusted but none matches, and is undetermined if none is trusted (kinks
 * on both sides). */
static ElementResult
grad_check_kinked (GradCheck *gc, float *v, gsize i, double ana, double L0,
                   double Lp, double Lm, float up, float down, double *best)
{
  float orig = v[i];
  float up2 = (float) (orig + 2 * gc->eps), down2 = (float) (orig - 2 * gc->eps);
  double Lp2 = grad_check_loss_at (gc, v, i, up2);
  double Lm2 = grad_check_loss_at (gc, v, i, down2);
  double slope[3][2] = {
    { (Lp - Lm) / ((double) up - down), (Lp2 - Lm2) / ((double) up2 - down2) },
    { (L0 - Lm) / ((double) orig - down), (Lm - Lm2) / ((double) down - down2) },
    { (Lp - L0) / ((double) up - orig), (Lp2 - Lp) / ((double) up2 - up) },
  };
  gboolean trusted = FALSE;

  *best = slope[0][0];
  for (int k = 0; k < 3; k++)
    {
      if (!grad_check_close (gc, slope[k][0], slope[k][1]))
        continue;
      trusted = TRUE;
      if (grad_check_close (gc, ana, slope[k][0]))
        {
          *best = slope[k][0];
          return ELEMENT_PASS_AT_KINK;
        }
    }
  return trusted ? ELEMENT_FAIL : ELEMENT_UNDETERMINED;
}

/* Compares the analytical gradient of the values v (n) with central
 * differences, on all of them or a sample. */
static void
grad_check_tensor (GradCheck *gc, const char *what, float *v, const float *grad, gsize n,
                   double L0, CheckStats *total)
{
  guint k;
  g_autofree guint32 *idx = sample_indices (n, gc->n_sample, &gc->rng, &k);
  g_autofree float *a = g_memdup2 (grad, n * sizeof (float));
  CheckStats st = { 0 };

  for (guint s = 0; s < k; s++)
    {
      gsize i = idx[s];
      float up = (float) (v[i] + gc->eps), down = (float) (v[i] - gc->eps);
      double Lp = grad_check_loss_at (gc, v, i, up);
      double Lm = grad_check_loss_at (gc, v, i, down);
      double num = (Lp - Lm) / ((double) up - (double) down);
      double ana = a[i];
      ElementResult r = ELEMENT_PASS;

      st.checked++;
      if (!grad_check_close (gc, ana, num))
        r = gc->hidden_kinks ? grad_check_kinked (gc, v, i, ana, L0, Lp, Lm, up, down, &num)
                             : ELEMENT_FAIL;

      switch (r)
        {
        case ELEMENT_PASS:
          break;
        case ELEMENT_PASS_AT_KINK:
          g_test_message ("  %s[%" G_GSIZE_FORMAT "]: analytical %.6g, numerical %.6g "
                          "one-sided or at 2 eps: a kink nearby", what, i, ana, num);
          st.one_sided++;
          break;
        case ELEMENT_UNDETERMINED:
          g_test_message ("  %s[%" G_GSIZE_FORMAT "]: analytical %.6g, central %.6g, "
                          "kinks on both sides: undetermined", what, i, ana, num);
          st.undetermined++;
          continue;
        case ELEMENT_FAIL:
          if (st.failed < 8)
            g_test_message ("  %s[%" G_GSIZE_FORMAT "]: analytical %.6g, numerical %.6g",
                            what, i, ana, num);
          st.failed++;
          break;
        default:
          g_assert_not_reached ();
        }
      double diff = fabs (ana - num);
      st.worst_diff = MAX (st.worst_diff, diff);
      st.worst_ratio = MAX (st.worst_ratio,
                            diff / (gc->atol + gc->rtol * MAX (fabs (ana), fabs (num))));
    }

  g_test_message ("%s: %u of %" G_GSIZE_FORMAT " checked, largest |a - n| %.3g "
                  "(%.2f of the tolerance)", what, st.checked, n, st.worst_diff,
                  st.worst_ratio);
  /* Without hidden kinks every element must agree. With them a few may
   * not (see grad_check_run), but a wrong formula fails most of a tensor. */
  if ((!gc->hidden_kinks && st.failed > 0) || st.failed * 4 > st.checked)
    g_test_fail_printf ("%s: %u of %u gradients differ from central differences",
                        what, st.failed, st.checked);

  total->checked += st.checked;
  total->failed += st.failed;
  total->one_sided += st.one_sided;
  total->undetermined += st.undetermined;
  total->worst_ratio = MAX (total->worst_ratio, st.worst_ratio);
}

/* The derivative along the gradient itself, for a whole tensor: moving
 * θ by ±ε·g/‖g‖ changes L by 2ε‖g‖ to first order. The signal is the
 * gradient's norm, not one element's, so float32 noise matters far less
 * than element by element: a wrong scale or sign of any tensor's gradient
 * shows. (A gradient wrong in direction it sees only in part; the elements
 * see that.) Where kinks hide, the side of θ free of them may stand in, as
 * for the elements. */
static void
grad_check_direction (GradCheck *gc, const char *what, float *v, const float *grad, gsize n,
                      double L0)
{
  g_autofree float *v0 = g_memdup2 (v, n * sizeof (float));
  g_autofree float *up = g_new (float, n);
  g_autofree float *down = g_new (float, n);
  double norm = 0.0, pred_up = 0.0, pred_down = 0.0;
  /* Measured over 40 seeds: below 1e-4 without kinks; with them up to 7%
   * over both sides, under 3% from the better side. */
  double tol = gc->hidden_kinks ? 5e-2 : 1e-3;

  for (gsize i = 0; i < n; i++)
    norm += (double) grad[i] * grad[i];
  norm = sqrt (norm);
  if (norm == 0.0)
    {
      g_test_message ("%s: the gradient is zero", what);
      return;
    }
  for (gsize i = 0; i < n; i++)
    {
      up[i] = (float) (v0[i] + gc->eps * grad[i] / norm);
      down[i] = (float) (v0[i] - gc->eps * grad[i] / norm);
      pred_up += (double) grad[i] * ((double) up[i] - v0[i]);
      pred_down += (double) grad[i] * ((double) v0[i] - down[i]);
    }

  memcpy (v, up, n * sizeof (float));
  double Lp = grad_check_loss (gc);
  memcpy (v, down, n * sizeof (float));
  double Lm = grad_check_loss (gc);
  memcpy (v, v0, n * sizeof (float));

  double predicted = pred_up + pred_down;
  double rel = fabs ((Lp - Lm) - predicted) / predicted;
  g_test_message ("%s: along the gradient, L changes by %.6g, predicted %.6g (%.2g relative)",
                  what, Lp - Lm, predicted, rel);
  if (rel > tol && gc->hidden_kinks)
    {
      double rel_up = fabs ((Lp - L0) - pred_up) / pred_up;
      double rel_down = fabs ((L0 - Lm) - pred_down) / pred_down;
      rel = MIN (rel_up, rel_down);
      g_test_message ("%s: one-sided along the gradient, %.2g and %.2g relative",
                      what, rel_down, rel_up);
    }
  if (rel > tol)
    g_test_fail_printf ("%s: along the gradient L changes by %.6g, the gradient predicts "
                        "%.6g", what, Lp - Lm, predicted);
}

/* The whole check: the analytical gradients on the model's backend, the
 * numerical ones on the reference backend (see the top); the two forwards
 * must agree. */
static void
grad_check_run (GradCheck *gc)
{
  CheckStats total = { 0 };
  CsModel *model = gc->model;
  const CsBackend *be = cs_model_get_backend (model);

  grad_check_backward (gc);
  CsTensor out = cs_model_get_activation (model, cs_model_get_n_layers (model));
  gsize n_out = (gsize) cs_tensor_numel (&out);
  g_autofree float *out_be = g_memdup2 (out.data, n_out * sizeof (float));

  cs_model_set_backend (model, cs_backend_ref ());
  double L0 = grad_check_loss (gc);
  double scale = 0.0, diff = 0.0;
  for (gsize i = 0; i < n_out; i++)
    {
      scale = MAX (scale, fabs (out.data[i]));
      diff = MAX (diff, fabs (out.data[i] - out_be[i]));
    }
  g_assert_cmpfloat (diff, <=, REF_CPU_TOL * scale);

  CsTensor dx = cs_model_get_activation_grad (model, 0);
  grad_check_tensor (gc, "input", gc->x->data, dx.data, (gsize) cs_tensor_numel (gc->x),
                     L0, &total);
  grad_check_direction (gc, "input", gc->x->data, dx.data, (gsize) cs_tensor_numel (gc->x),
                        L0);

  for (guint i = 0; i < cs_model_get_n_entries (model); i++)
    {
      const CsModelEntry *e = cs_model_get_entry (model, i);
      if (e->param->grad == NULL)
        continue;  /* buffers */
      grad_check_tensor (gc, e->name, e->param->value->data, e->param->grad->data,
                         (gsize) cs_tensor_numel (e->param->value), L0, &total);
      grad_check_direction (gc, e->name, e->param->value->data, e->param->grad->data,
                            (gsize) cs_tensor_numel (e->param->value), L0);
    }
  cs_model_set_backend (model, be);

  g_test_message ("%u checked: %u agree at a kink, %u undetermined, %u differ; "
                  "largest error %.2f of the tolerance", total.checked, total.one_sided,
                  total.undetermined, total.failed, total.worst_ratio);
  /* Where kinks hide, up to 5% may differ and 10% differ or stay
   * undetermined. Measured over 40 seeds: the residual block at most 1.4%
   * and 3.4%, simple-cnn 1.9% and 2.6%, residual-cnn 3.4% and 8.7% in 39
   * of them (in one, 7.9% and 9.5%: there L is rough even at the scale of
   * 1e-4, its slope over successive steps of 3e-4 wandering from 0.039 to
   * 0.063 around an analytical 0.064). A broken backward fails most of
   * each tensor it touches (grad_check_tensor allows a quarter) and usually
   * far more than 5% of the whole. (Without hidden kinks, grad_check_tensor
   * has already failed the test on any difference.) */
  if (total.failed * 100 > 5 * total.checked
      || (total.failed + total.undetermined) * 100 > 10 * total.checked)
    g_test_fail_printf ("%u of %u gradients differ from central differences and %u are "
                        "undetermined: more than kinks explain", total.failed, total.checked,
                        total.undetermined);
}

/* ---------------------------------------------------------------------------
 * One parameterised test per layer kind
 */

typedef enum
{
  INPUT_NORMAL,
  INPUT_AWAY_FROM_ZERO,
  INPUT_DISTINCT,
} InputKind;

typedef struct
{
  const char *path;
  const char *json;        /* single-quoted */
  int batch;
  InputKind input;
  gboolean train;
  gboolean hidden_kinks;
} LayerCase;

#define IMG(c, h, w) "'input': [" #c ", " #h ", " #w "]"

static const LayerCase layer_cases[] = {
  { "linear/bias",
    "{'input': [7], 'layers': [{'type': 'linear', 'in_features': 7, 'out_features': 5}]}",
    3, INPUT_NORMAL, TRUE, FALSE },
  { "linear/no-bias",
    "{'input': [7], 'layers': [{'type': 'linear', 'in_features': 7, 'out_features': 5,"
    " 'bias': false}]}",
    3, INPUT_NORMAL, TRUE, FALSE },
  { "conv2d/plain-3x3",
    "{" IMG (2, 6, 6) ", 'layers': [{'type': 'conv2d', 'in_channels': 2, 'out_channels': 3,"
    " 'kernel_size': 3}]}",
    2, INPUT_NORMAL, TRUE, FALSE },
  { "conv2d/stride2-pad1-dil2",
    "{" IMG (2, 9, 9) ", 'layers': [{'type': 'conv2d', 'in_channels': 2, 'out_channels': 3,"
    " 'kernel_size': 3, 'stride': 2, 'padding': 1, 'dilation': 2, 'bias': true}]}",
    2, INPUT_NORMAL, TRUE, FALSE },
  { "conv2d/kernel2x3-stride1x2-no-bias",
    "{" IMG (2, 5, 7) ", 'layers': [{'type': 'conv2d', 'in_channels': 2, 'out_channels': 3,"
    " 'kernel_size': [2, 3], 'stride': [1, 2], 'bias': false}]}",
    2, INPUT_NORMAL, TRUE, FALSE },
  { "conv2d/1x1",
    "{" IMG (3, 4, 4) ", 'layers': [{'type': 'conv2d', 'in_channels': 3, 'out_channels': 2,"
    " 'kernel_size': 1}]}",
    2, INPUT_NORMAL, TRUE, FALSE },
  { "maxpool2d/k2",
    "{" IMG (2, 6, 6) ", 'layers': [{'type': 'maxpool2d', 'kernel_size': 2}]}",
    2, INPUT_DISTINCT, TRUE, FALSE },
  { "maxpool2d/k2-pad1",
    "{" IMG (2, 5, 5) ", 'layers': [{'type': 'maxpool2d', 'kernel_size': 2, 'padding': 1}]}",
    2, INPUT_DISTINCT, TRUE, FALSE },
  { "maxpool2d/k3-stride2",
    "{" IMG (2, 7, 7) ", 'layers': [{'type': 'maxpool2d', 'kernel_size': 3, 'stride': 2}]}",
    2, INPUT_DISTINCT, TRUE, FALSE },
  { "avgpool2d/k3-stride2-pad1",
    "{" IMG (2, 7, 7) ", 'layers': [{'type': 'avgpool2d', 'kernel_size': 3, 'stride': 2,"
    " 'padding': 1}]}",
    2, INPUT_NORMAL, TRUE, FALSE },
  { "avgpool2d/k2",
    "{" IMG (2, 6, 6) ", 'layers': [{'type': 'avgpool2d', 'kernel_size': 2}]}",
    2, INPUT_NORMAL, TRUE, FALSE },
  { "relu/away-from-zero",
    "{" IMG (2, 4, 4) ", 'layers': [{'type': 'relu'}]}",
    2, INPUT_AWAY_FROM_ZERO, TRUE, FALSE },
  { "leaky_relu/slope-0.1",
    "{" IMG (2, 4, 4) ", 'layers': [{'type': 'leaky_relu', 'negative_slope': 0.1}]}",
    2, INPUT_AWAY_FROM_ZERO, TRUE, FALSE },
  { "sigmoid/plain",
    "{" IMG (2, 4, 4) ", 'layers': [{'type': 'sigmoid'}]}",
    2, INPUT_NORMAL, TRUE, FALSE },
  { "tanh/plain",
    "{" IMG (2, 4, 4) ", 'layers': [{'type': 'tanh'}]}",
    2, INPUT_NORMAL, TRUE, FALSE },
  { "softmax/after-flatten",
    "{" IMG (2, 3, 2) ", 'layers': [{'type': 'flatten'}, {'type': 'softmax'}]}",
    3, INPUT_NORMAL, TRUE, FALSE },
  { "flatten/alone",
    "{" IMG (2, 3, 3) ", 'layers': [{'type': 'flatten'}]}",
    2, INPUT_NORMAL, TRUE, FALSE },
  { "flatten/then-linear",
    "{" IMG (2, 3, 3) ", 'layers': [{'type': 'flatten'},"
    " {'type': 'linear', 'in_features': 18, 'out_features': 4}]}",
    2, INPUT_NORMAL, TRUE, FALSE },
  { "batchnorm2d/train",
    "{" IMG (3, 4, 4) ", 'layers': [{'type': 'batchnorm2d', 'num_features': 3}]}",
    2, INPUT_NORMAL, TRUE, FALSE },
  { "batchnorm2d/eval",
    "{" IMG (3, 4, 4) ", 'layers': [{'type': 'batchnorm2d', 'num_features': 3}]}",
    2, INPUT_NORMAL, FALSE, FALSE },
  { "dropout/train",
    "{" IMG (2, 4, 4) ", 'layers': [{'type': 'dropout', 'p': 0.3}]}",
    2, INPUT_NORMAL, TRUE, FALSE },
  { "dropout/eval",
    "{" IMG (2, 4, 4) ", 'layers': [{'type': 'dropout', 'p': 0.3}]}",
    2, INPUT_NORMAL, FALSE, FALSE },
  { "residual/identity-shortcut",
    "{" IMG (4, 6, 6) ", 'layers': [{'type': 'residual', 'in_channels': 4,"
    " 'out_channels': 4}]}",
    2, INPUT_NORMAL, TRUE, TRUE },
  { "residual/conv-shortcut-stride2",
    "{" IMG (4, 6, 6) ", 'layers': [{'type': 'residual', 'in_channels': 4,"
    " 'out_channels': 6, 'stride': 2}]}",
    2, INPUT_NORMAL, TRUE, TRUE },
  { "residual/conv-shortcut-eval",
    "{" IMG (4, 6, 6) ", 'layers': [{'type': 'residual', 'in_channels': 4,"
    " 'out_channels': 6, 'stride': 2}]}",
    2, INPUT_NORMAL, FALSE, TRUE },
};

static void
test_gradcheck_layer (gconstpointer data)
{
  const LayerCase *lc = data;
  const CsBackend *backends[] = { cs_backend_ref (), cs_backend_cpu () };

  for (gsize b = 0; b < G_N_ELEMENTS (backends); b++)
    {
      g_autoptr(CsModel) model = model_new_squoted (lc->json);
      GradCheck gc;
      CsRng rng;

      g_test_message ("backend %s", backends[b]->name);
      cs_model_set_backend (model, backends[b]);
      cs_model_init (model, 11);
      cs_rng_init (&rng, 23);
      randomize_batchnorm (model, &rng);

      grad_check_init (&gc, model, lc->batch, lc->train, LOSS_DOT, 5);
      gc.hidden_kinks = lc->hidden_kinks;
      gsize n = (gsize) cs_tensor_numel (gc.x);
      switch (lc->input)
        {
        case INPUT_NORMAL:
          fill_normal (gc.x->data, n, 1.0, &rng);
          break;
        case INPUT_AWAY_FROM_ZERO:
          fill_away_from_zero (gc.x->data, n, &rng);
          break;
        case INPUT_DISTINCT:
          fill_distinct (gc.x->data, n, &rng);
          break;
        default:
          g_assert_not_reached ();
        }

      grad_check_run (&gc);
      grad_check_clear (&gc);
    }
}

/* ---------------------------------------------------------------------------
 * Ties, dropout's mask
 */

/* ReLU at exactly 0 passes no gradient (PyTorch's convention). */
static void
test_gradcheck_relu_tie (void)
{
  const CsBackend *backends[] = { cs_backend_ref (), cs_backend_cpu () };
  const float x[6] = { 0.0f, -0.0f, 1.5f, -2.0f, 0.0f, 3.0f };
  const float expected[6] = { 0.0f, 0.0f, 1.0f, 0.0f, 0.0f, 1.0f };

  for (gsize b = 0; b < G_N_ELEMENTS (backends); b++)
    {
      g_autoptr(CsModel) model = model_new_squoted (
        "{'input': [6], 'layers': [{'type': 'relu'}]}");
      g_autoptr(GError) error = NULL;
      gint64 shape[2] = { 1, 6 };
      CsTensor xt = cs_tensor_view ((float *) x, 2, shape);

      cs_model_set_backend (model, backends[b]);
      g_assert_true (cs_model_reserve (model, 1, &error));
      cs_model_set_input_grad (model, TRUE);
      const CsTensor *out = cs_model_forward (model, &xt, TRUE);
      for (int i = 0; i < 6; i++)
        g_assert_cmpfloat (out->data[i], ==, MAX (x[i], 0.0f));

      CsTensor dout = cs_model_get_output_grad (model);
      for (int i = 0; i < 6; i++)
        dout.data[i] = 1.0f;
      cs_model_backward (model);
      CsTensor dx = cs_model_get_activation_grad (model, 0);
      for (int i = 0; i < 6; i++)
        g_assert_cmpfloat (dx.data[i], ==, expected[i]);
    }
}

/* A max-pool window of equal values sends the whole gradient to its first
 * cell in row-major order; padding never wins, even over negative values. */
static void
test_gradcheck_maxpool_tie (void)
{
  const CsBackend *backends[] = { cs_backend_ref (), cs_backend_cpu () };
  /* Four 2×2 windows over a 4×4 plane:
   *   top left: all 1        → (0, 0) wins
   *   top right: 2 at (0, 3) and (1, 2) → (0, 3) wins, first in row order
   *   bottom left: 5 at (3, 0) and (3, 1) → (3, 0) wins
   *   bottom right: all −1   → (2, 2) wins */
  const float x[16] = {
    1, 1, 0, 2,
    1, 1, 2, 0,
    4, 4, -1, -1,
    5, 5, -1, -1,
  };
  const float expected_out[4] = { 1, 2, 5, -1 };
  const float dout_v[4] = { 0.5f, -2.0f, 3.0f, 7.0f };
  const float expected_dx[16] = {
    0.5f, 0, 0, -2.0f,
    0, 0, 0, 0,
    0, 0, 7.0f, 0,
    3.0f, 0, 0, 0,
  };
  /* With padding 1 over a 3×3 plane of −1s the corner windows hold one
   * real cell and three padding cells: the real cell wins, with −1. */
  const float neg[9] = { -1, -1, -1, -1, -1, -1, -1, -1, -1 };

  for (gsize b = 0; b < G_N_ELEMENTS (backends); b++)
    {
      g_autoptr(CsModel) model = model_new_squoted (
        "{" IMG (1, 4, 4) ", 'layers': [{'type': 'maxpool2d', 'kernel_size': 2}]}");
      g_autoptr(CsModel) padded = model_new_squoted (
        "{" IMG (1, 3, 3) ", 'layers': [{'type': 'maxpool2d', 'kernel_size': 2,"
        " 'padding': 1}]}");
      g_autoptr(GError) error = NULL;
      gint64 shape[4] = { 1, 1, 4, 4 }, shape3[4] = { 1, 1, 3, 3 };
      CsTensor xt = cs_tensor_view ((float *) x, 4, shape);
      CsTensor nt = cs_tensor_view ((float *) neg, 4, shape3);

      cs_model_set_backend (model, backends[b]);
      g_assert_true (cs_model_reserve (model, 1, &error));
      cs_model_set_input_grad (model, TRUE);
      const CsTensor *out = cs_model_forward (model, &xt, TRUE);
      for (int i = 0; i < 4; i++)
        g_assert_cmpfloat (out->data[i], ==, expected_out[i]);
      CsTensor dout = cs_model_get_output_grad (model);
      memcpy (dout.data, dout_v, sizeof dout_v);
      cs_model_backward (model);
      CsTensor dx = cs_model_get_activation_grad (model, 0);
      for (int i = 0; i < 16; i++)
        g_assert_cmpfloat (dx.data[i], ==, expected_dx[i]);

      cs_model_set_backend (padded, backends[b]);
      g_assert_true (cs_model_reserve (padded, 1, &error));
      cs_model_set_input_grad (padded, TRUE);
      out = cs_model_forward (padded, &nt, TRUE);
      for (int i = 0; i < 4; i++)
        g_assert_cmpfloat (out->data[i], ==, -1.0f);
      dout = cs_model_get_output_grad (padded);
      for (int i = 0; i < 4; i++)
        dout.data[i] = 1.0f;
      cs_model_backward (padded);
      dx = cs_model_get_activation_grad (padded, 0);
      /* Windows: rows {−1, 0} × cols {−1, 0} → (0, 0); {−1, 0} × {1, 2} →
       * (0, 1); {1, 2} × {−1, 0} → (1, 0); {1, 2} × {1, 2} → (1, 1). */
      const float expected_pad[9] = { 1, 1, 0, 1, 1, 0, 0, 0, 0 };
      for (int i = 0; i < 9; i++)
        g_assert_cmpfloat (dx.data[i], ==, expected_pad[i]);
    }
}

/* Dropout in training keeps its mask while the step stays, draws a new one
 * when it moves, zeroes about p of the values and scales the rest by
 * 1/(1 − p); in evaluation it is the identity, and so is its gradient. */
static void
test_gradcheck_dropout_mask (void)
{
  const float p = 0.3f;
  g_autoptr(CsModel) model = model_new_squoted (
    "{" IMG (2, 8, 8) ", 'layers': [{'type': 'dropout', 'p': 0.3}]}");
  g_autoptr(GError) error = NULL;
  g_autoptr(CsTensor) x = cs_tensor_new_4d (4, 2, 8, 8);
  gsize n = (gsize) cs_tensor_numel (x);
  g_autofree float *first = g_new (float, n);
  CsRng rng;

  cs_rng_init (&rng, 3);
  fill_away_from_zero (x->data, n, &rng);
  cs_model_init (model, 1);
  g_assert_true (cs_model_reserve (model, 4, &error));
  cs_model_set_input_grad (model, TRUE);

  const CsTensor *out = cs_model_forward (model, x, TRUE);
  memcpy (first, out->data, n * sizeof (float));
  guint dropped = 0;
  for (gsize i = 0; i < n; i++)
    {
      if (out->data[i] == 0.0f)
        dropped++;
      else
        g_assert_cmpfloat_with_epsilon (out->data[i], x->data[i] / (1.0f - p),
                                        1e-6 * fabsf (x->data[i]));
    }
  /* 512 values: 154 expected, standard deviation 10. */
  g_test_message ("dropped %u of %" G_GSIZE_FORMAT, dropped, n);
  g_assert_cmpuint (dropped, >, 0.3 * n - 50);
  g_assert_cmpuint (dropped, <, 0.3 * n + 50);

  out = cs_model_forward (model, x, TRUE);
  g_assert_cmpmem (out->data, n * sizeof (float), first, n * sizeof (float));

  /* The backward multiplies by the same mask. */
  CsTensor dout = cs_model_get_output_grad (model);
  for (gsize i = 0; i < n; i++)
    dout.data[i] = 1.0f;
  cs_model_backward (model);
  CsTensor dx = cs_model_get_activation_grad (model, 0);
  for (gsize i = 0; i < n; i++)
    g_assert_cmpfloat (dx.data[i], ==, first[i] == 0.0f ? 0.0f : 1.0f / (1.0f - p));

  /* The next step, a fresh mask. */
  _cs_model_set_step (model, 1);
  out = cs_model_forward (model, x, TRUE);
  guint changed = 0;
  for (gsize i = 0; i < n; i++)
    changed += (out->data[i] == 0.0f) != (first[i] == 0.0f);
  g_assert_cmpuint (changed, >, n / 10);

  /* Evaluation: the identity, forwards and backwards. */
  out = cs_model_forward (model, x, FALSE);
  g_assert_cmpmem (out->data, n * sizeof (float), x->data, n * sizeof (float));
  dout = cs_model_get_output_grad (model);
  fill_normal (dout.data, n, 1.0, &rng);
  cs_model_backward (model);
  dx = cs_model_get_activation_grad (model, 0);
  g_assert_cmpmem (dx.data, n * sizeof (float), dout.data, n * sizeof (float));
}

/* ---------------------------------------------------------------------------
 * Losses
 */

/* Mean cross-entropy, in double, from the definition. */
static double
cross_entropy_double (const float *logits, const gint32 *labels, int N, int C)
{
  double total = 0.0;
  for (int n = 0; n < N; n++)
    {
      const float *x = logits + (gsize) n * C;
      double m = x[0], s = 0.0;
      for (int c = 1; c < C; c++)
        m = MAX (m, (double) x[c]);
      for (int c = 0; c < C; c++)
        s += exp ((double) x[c] - m);
      total += m + log (s) - x[labels[n]];
    }
  return total / N;
}

static void
test_gradcheck_cross_entropy (void)
{
  const CsBackend *backends[] = { cs_backend_ref (), cs_backend_cpu () };
  const int N = 4, C = 7;
  g_autoptr(CsTensor) logits = cs_tensor_new_2d (N, C);
  g_autoptr(CsTensor) probs = cs_tensor_new_2d (N, C);
  g_autoptr(CsTensor) dlogits = cs_tensor_new_2d (N, C);
  g_autoptr(CsTensor) scratch = cs_tensor_new_2d (N, C);
  g_autoptr(CsTensor) sprobs = cs_tensor_new_2d (N, C);
  gint32 labels[4] = { 0, 6, 3, 3 };
  CsRng rng;

  cs_rng_init (&rng, 17);
  fill_normal (logits->data, (gsize) N * C, 2.0, &rng);

  for (gsize b = 0; b < G_N_ELEMENTS (backends); b++)
    {
      const CsBackend *be = backends[b];
      double loss = cs_loss_cross_entropy (be, dlogits, probs, logits, labels);

      g_assert_cmpfloat_with_epsilon (loss, cross_entropy_double (logits->data, labels, N, C),
                                      1e-6);
      for (int n = 0; n < N; n++)
        {
          double s = 0.0;
          for (int c = 0; c < C; c++)
            {
              float pr = probs->data[n * C + c];
              g_assert_cmpfloat (pr, >, 0.0f);
              s += pr;
            }
          g_assert_cmpfloat_with_epsilon (s, 1.0, 1e-6);
        }

      double worst = 0.0;
      for (int i = 0; i < N * C; i++)
        {
          float orig = logits->data[i];
          float up = (float) (orig + EPS), down = (float) (orig - EPS);
          logits->data[i] = up;
          double Lp = cs_loss_cross_entropy (be, scratch, sprobs, logits, labels);
          logits->data[i] = down;
          double Lm = cs_loss_cross_entropy (be, scratch, sprobs, logits, labels);
          logits->data[i] = orig;
          double num = (Lp - Lm) / ((double) up - (double) down);
          double ana = dlogits->data[i];
          double diff = fabs (num - ana);
          worst = MAX (worst, diff);
          /* The loss is computed in double from exact logits: no noise to
           * speak of, and gradients (p − onehot)/N below 0.25. */
          g_assert_cmpfloat (diff, <=, 1e-6 + 1e-3 * MAX (fabs (num), fabs (ana)));
        }
      g_test_message ("%s: largest |a - n| %.3g", be->name, worst);
    }
}

/* Logits of ±1000: exp () of them overflows; the loss must not. */
static void
test_gradcheck_cross_entropy_large (void)
{
  const CsBackend *backends[] = { cs_backend_ref (), cs_backend_cpu () };
  const int N = 3, C = 4;
  float x[12] = {
    1000.0f, -1000.0f, 999.0f, 0.0f,
    -1000.0f, -1000.0f, -999.5f, -1000.0f,
    1000.0f, 1000.0f, -1000.0f, 1000.0f,
  };
  gint32 labels[3] = { 1, 2, 3 };
  gint64 shape[2] = { N, C };
  CsTensor logits = cs_tensor_view (x, 2, shape);
  g_autoptr(CsTensor) probs = cs_tensor_new_2d (N, C);
  g_autoptr(CsTensor) dlogits = cs_tensor_new_2d (N, C);

  /* By hand: row 0: lse = 1000 + log(1 + e⁻¹), loss = lse + 1000;
   * row 1: lse = −999.5 + log(1 + 3e^−0.5), loss = log(1 + 3e^−0.5);
   * row 2: lse = 1000 + log 3, loss = log 3. */
  double expected = (2000.0 + log1p (exp (-1.0)) + log1p (3.0 * exp (-0.5)) + log (3.0)) / 3;
  g_assert_cmpfloat_with_epsilon (expected, cross_entropy_double (x, labels, N, C), 1e-9);

  for (gsize b = 0; b < G_N_ELEMENTS (backends); b++)
    {
      double loss = cs_loss_cross_entropy (backends[b], dlogits, probs, &logits, labels);
      g_test_message ("%s: loss %.9g, expected %.9g", backends[b]->name, loss, expected);
      g_assert_true (isfinite (loss));
      g_assert_cmpfloat_with_epsilon (loss, expected, 1e-9 * expected);
      for (int n = 0; n < N; n++)
        {
          double s = 0.0, sg = 0.0;
          for (int c = 0; c < C; c++)
            {
              g_assert_true (isfinite (probs->data[n * C + c]));
              g_assert_true (isfinite (dlogits->data[n * C + c]));
              s += probs->data[n * C + c];
              sg += dlogits->data[n * C + c];
            }
          g_assert_cmpfloat_with_epsilon (s, 1.0, 1e-6);
          g_assert_cmpfloat_with_epsilon (sg, 0.0, 1e-6);
        }
      /* Row 2: three equal winners share the probability. */
      g_assert_cmpfloat_with_epsilon (probs->data[8], 1.0 / 3, 1e-6);
      g_assert_cmpfloat_with_epsilon (probs->data[10], 0.0, 1e-30);
      g_assert_cmpfloat_with_epsilon (dlogits->data[11], (1.0 / 3 - 1.0) / N, 1e-6);
    }
}

static void
test_gradcheck_mse (void)
{
  const CsBackend *backends[] = { cs_backend_ref (), cs_backend_cpu () };
  const gsize n = 15;
  gint64 shape[2] = { 3, 5 };
  g_autoptr(CsTensor) pred = cs_tensor_new (2, shape);
  g_autoptr(CsTensor) target = cs_tensor_new (2, shape);
  g_autoptr(CsTensor) dpred = cs_tensor_new (2, shape);
  g_autoptr(CsTensor) scratch = cs_tensor_new (2, shape);
  CsRng rng;

  cs_rng_init (&rng, 19);
  fill_normal (pred->data, n, 1.0, &rng);
  fill_normal (target->data, n, 1.0, &rng);

  double expected = 0.0;
  for (gsize i = 0; i < n; i++)
    expected += ((double) pred->data[i] - target->data[i])
                * ((double) pred->data[i] - target->data[i]) / n;

  for (gsize b = 0; b < G_N_ELEMENTS (backends); b++)
    {
      const CsBackend *be = backends[b];
      double loss = cs_loss_mse (be, dpred, pred, target);
      g_assert_cmpfloat_with_epsilon (loss, expected, 1e-9);

      for (gsize i = 0; i < n; i++)
        {
          float orig = pred->data[i];
          float up = (float) (orig + EPS), down = (float) (orig - EPS);
          pred->data[i] = up;
          double Lp = cs_loss_mse (be, scratch, pred, target);
          pred->data[i] = down;
          double Lm = cs_loss_mse (be, scratch, pred, target);
          pred->data[i] = orig;
          double num = (Lp - Lm) / ((double) up - (double) down);
          double ana = dpred->data[i];
          /* The loss is quadratic: central differences are exact up to
           * rounding. */
          g_assert_cmpfloat (fabs (num - ana), <=, 1e-5 + 1e-3 * fabs (num));
        }
    }
}

/* ---------------------------------------------------------------------------
 * Full models
 */

typedef struct
{
  const char *preset;
  int batch;
  gboolean train;
  LossKind loss;
  guint n_sample;
  double eps, atol, rtol;
} ModelCase;

static const ModelCase model_cases[] = {
  { "mlp", 2, TRUE, LOSS_CROSS_ENTROPY, 32, 1e-3, 2e-5, 1e-2 },
  { "simple-cnn", 2, TRUE, LOSS_CROSS_ENTROPY, 32, 3e-4, 1e-4, 1e-2 },
  { "residual-cnn", 2, TRUE, LOSS_CROSS_ENTROPY, 32, 3e-4, 3e-4, 2e-2 },
  { "demo-conv", 2, TRUE, LOSS_DOT, 64, 1e-3, ATOL, RTOL },
};

static void
fill_images (float *x, gsize n, CsRng *rng)
{
  /* Pixels in [0, 1), as the datasets give them. */
  fill_uniform (x, n, 0.0, 1.0, rng);
}

static void
test_gradcheck_model (gconstpointer data)
{
  const ModelCase *mc = data;
  g_autoptr(CsModel) model = model_new_preset (mc->preset);
  GradCheck gc;
  CsRng rng;

  cs_model_init (model, 7);
  grad_check_init (&gc, model, mc->batch, mc->train, mc->loss, 13);
  gc.hidden_kinks = TRUE;
  gc.n_sample = mc->n_sample;
  gc.eps = mc->eps;
  gc.atol = mc->atol;
  gc.rtol = mc->rtol;
  cs_rng_init (&rng, 29);
  fill_images (gc.x->data, (gsize) cs_tensor_numel (gc.x), &rng);

  grad_check_run (&gc);
  grad_check_clear (&gc);
}

/* The largest difference between two tensors, relative to the largest value
 * of the reference one. */
static double
max_rel_diff (const float *a, const float *ref, gsize n, double *scale_out)
{
  double scale = 0.0, diff = 0.0;
  for (gsize i = 0; i < n; i++)
    {
      scale = MAX (scale, fabs (ref[i]));
      diff = MAX (diff, fabs ((double) a[i] - ref[i]));
    }
  *scale_out = scale;
  return scale > 0.0 ? diff / scale : diff;
}

static void
compare_tensors (const char *what, const float *a, const float *ref, gsize n, double tol)
{
  double scale;
  double rel = max_rel_diff (a, ref, n, &scale);

  g_test_message ("%s: largest difference %.3g of the largest value %.3g", what, rel, scale);
  if (rel > tol)
    g_test_fail_printf ("%s: differs by %.3g of the largest value %.3g", what, rel, scale);
}

/* Backward accumulates the parameter gradients and assigns the input
 * gradient: two forward-backward passes over the same batch without
 * zero_grad give twice the parameter gradients and the same input
 * gradient. */
static void
test_gradcheck_accumulates (void)
{
  g_autoptr(CsModel) model = model_new_preset ("residual-cnn");
  gsize P = cs_model_get_n_params (model);
  GradCheck gc;
  CsRng rng;

  cs_model_init (model, 7);
  grad_check_init (&gc, model, 2, TRUE, LOSS_CROSS_ENTROPY, 13);
  cs_rng_init (&rng, 29);
  fill_images (gc.x->data, (gsize) cs_tensor_numel (gc.x), &rng);

  grad_check_backward (&gc);
  CsTensor dx = cs_model_get_activation_grad (model, 0);
  gsize n_in = (gsize) cs_tensor_numel (&dx);
  g_autofree float *once = g_memdup2 (cs_model_get_grads (model), P * sizeof (float));
  g_autofree float *dx_once = g_memdup2 (dx.data, n_in * sizeof (float));

  grad_check_loss (&gc);
  CsTensor dout = cs_model_get_output_grad (model);
  memcpy (dout.data, gc.dlogits->data, (gsize) cs_tensor_numel (&dout) * sizeof (float));
  cs_model_backward (model);

  /* The second sum rounds differently (OpenBLAS adds inside its kernel):
   * equal up to float32 rounding of the terms. */
  g_autofree float *doubled = g_new (float, P);
  for (gsize i = 0; i < P; i++)
    doubled[i] = 2.0f * once[i];
  compare_tensors ("grads after two passes", cs_model_get_grads (model), doubled, P, 1e-5);
  dx = cs_model_get_activation_grad (model, 0);
  compare_tensors ("input grad after two passes", dx.data, dx_once, n_in, 1e-5);

  cs_model_zero_grad (model);
  for (gsize i = 0; i < P; i++)
    g_assert_cmpfloat (cs_model_get_grads (model)[i], ==, 0.0f);
  grad_check_clear (&gc);
}

/* The same forward and backward on the reference loops and on OpenBLAS. */
static void
test_gradcheck_ref_vs_cpu (gconstpointer data)
{
  const ModelCase *mc = data;
  g_autoptr(CsModel) ref = model_new_preset (mc->preset);
  g_autoptr(CsModel) cpu = model_new_preset (mc->preset);
  CsModel *models[2] = { ref, cpu };
  GradCheck gc[2];
  CsRng rng;

  cs_model_set_backend (ref, cs_backend_ref ());
  cs_model_set_backend (cpu, cs_backend_cpu ());
  for (int m = 0; m < 2; m++)
    {
      cs_model_init (models[m], 7);
      grad_check_init (&gc[m], models[m], mc->batch, mc->train, mc->loss, 13);
      cs_rng_init (&rng, 29);
      fill_images (gc[m].x->data, (gsize) cs_tensor_numel (gc[m].x), &rng);
      grad_check_backward (&gc[m]);
    }

  CsTensor out_ref = cs_model_get_activation (ref, cs_model_get_n_layers (ref));
  CsTensor out_cpu = cs_model_get_activation (cpu, cs_model_get_n_layers (cpu));
  compare_tensors ("output", out_cpu.data, out_ref.data, (gsize) cs_tensor_numel (&out_ref),
                   REF_CPU_TOL);

  for (guint i = 0; i < cs_model_get_n_entries (ref); i++)
    {
      const CsModelEntry *er = cs_model_get_entry (ref, i);
      const CsModelEntry *ec = cs_model_get_entry (cpu, i);
      g_assert_cmpstr (er->name, ==, ec->name);
      if (er->param->role == CS_BUFFER_COUNTER)
        {
          g_assert_cmpint (*er->param->counter, ==, *ec->param->counter);
          continue;
        }
      gsize n = (gsize) cs_tensor_numel (er->param->value);
      if (er->param->grad != NULL)
        {
          g_autofree char *what = g_strconcat ("grad ", er->name, NULL);
          compare_tensors (what, ec->param->grad->data, er->param->grad->data, n, REF_CPU_TOL);
        }
      else
        compare_tensors (er->name, ec->param->value->data, er->param->value->data, n,
                         REF_CPU_TOL);
    }

  CsTensor dx_ref = cs_model_get_activation_grad (ref, 0);
  CsTensor dx_cpu = cs_model_get_activation_grad (cpu, 0);
  compare_tensors ("grad input", dx_cpu.data, dx_ref.data, (gsize) cs_tensor_numel (&dx_ref),
                   REF_CPU_TOL);

  for (int m = 0; m < 2; m++)
    grad_check_clear (&gc[m]);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (layer_cases); i++)
    {
      g_autofree char *path = g_strconcat ("/core/gradcheck/", layer_cases[i].path, NULL);
      g_test_add_data_func (path, &layer_cases[i], test_gradcheck_layer);
    }
  g_test_add_func ("/core/gradcheck/relu/tie-at-zero", test_gradcheck_relu_tie);
  g_test_add_func ("/core/gradcheck/maxpool2d/tie-first-wins", test_gradcheck_maxpool_tie);
  g_test_add_func ("/core/gradcheck/dropout/mask", test_gradcheck_dropout_mask);
  g_test_add_func ("/core/gradcheck/loss/cross-entropy", test_gradcheck_cross_entropy);
  g_test_add_func ("/core/gradcheck/loss/cross-entropy-large-logits",
                   test_gradcheck_cross_entropy_large);
  g_test_add_func ("/core/gradcheck/loss/mse", test_gradcheck_mse);

  for (gsize i = 0; i < G_N_ELEMENTS (model_cases); i++)
    {
      g_autofree char *path = g_strconcat ("/core/gradcheck/model/", model_cases[i].preset, NULL);
      g_test_add_data_func (path, &model_cases[i], test_gradcheck_model);
    }
  g_test_add_func ("/core/gradcheck/model/accumulates", test_gradcheck_accumulates);
  for (gsize i = 0; i < G_N_ELEMENTS (model_cases); i++)
    {
      g_autofree char *path = g_strconcat ("/core/gradcheck/ref-vs-cpu/",
                                           model_cases[i].preset, NULL);
      g_test_add_data_func (path, &model_cases[i], test_gradcheck_ref_vs_cpu);
    }

  return g_test_run ();
}
