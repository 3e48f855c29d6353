/* backend-ref.c — the naive reference: every primitive as plain loops
 *
 * Written for clarity, with the formula beside each loop. The tests run the
 * CPU table against this one.
 */
#include "backend-private.h"

#include <math.h>
#include <string.h>

int
cs_window_out_size (int in, int k, int s, int p, int d)
{
  /* ⌊(H + 2p − d(k−1) − 1) / s⌋ + 1; ≤ 0 means the window does not fit */
  int span = in + 2 * p - d * (k - 1) - 1;
  if (span < 0 || s <= 0)
    return 0;
  return span / s + 1;
}

guint32
cs_dropout_hash (guint64 seed, guint64 i)
{
  guint64 z = seed + (i + 1) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return (guint32) (z >> 32);
}

void
_cs_ref_gemm (gboolean trans_a, gboolean trans_b, int M, int N, int K,
              float alpha, const float *A, int lda, const float *B, int ldb,
              float beta, float *C, int ldc)
{
  for (int i = 0; i < M; i++)
    for (int j = 0; j < N; j++)
      {
        double acc = 0.0;
        for (int k = 0; k < K; k++)
          {
            float a = trans_a ? A[(gsize) k * lda + i] : A[(gsize) i * lda + k];
            float b = trans_b ? B[(gsize) j * ldb + k] : B[(gsize) k * ldb + j];
            acc += (double) a * b;
          }
        float *c = &C[(gsize) i * ldc + j];
        *c = (float) (alpha * acc + (beta == 0.0f ? 0.0 : (double) beta * *c));
      }
}

void
_cs_ref_im2col (float *cols, const float *img, int N, const CsSlidingWindow *g)
{
  /* row (c, i, j) of cols, column (n, oh, ow):
   *   img[n, c, oh·sh − ph + i·dh, ow·sw − pw + j·dw], or 0 in the padding */
  gsize P = (gsize) g->OH * g->OW, ld = (gsize) N * P;
  for (int n = 0; n < N; n++)
    for (int c = 0; c < g->C; c++)
      for (int i = 0; i < g->kh; i++)
        for (int j = 0; j < g->kw; j++)
          {
            int row = (c * g->kh + i) * g->kw + j;
            for (int oh = 0; oh < g->OH; oh++)
              for (int ow = 0; ow < g->OW; ow++)
                {
                  int ih = oh * g->sh - g->ph + i * g->dh;
                  int iw = ow * g->sw - g->pw + j * g->dw;
                  float v = 0.0f;
                  if (ih >= 0 && ih < g->H && iw >= 0 && iw < g->W)
                    v = img[(((gsize) n * g->C + c) * g->H + ih) * g->W + iw];
                  cols[row * ld + n * P + oh * g->OW + ow] = v;
                }
          }
}

void
_cs_ref_col2im (float *img, const float *cols, int N, const CsSlidingWindow *g)
{
  gsize P = (gsize) g->OH * g->OW, ld = (gsize) N * P;
  for (int n = 0; n < N; n++)
    for (int c = 0; c < g->C; c++)
      for (int i = 0; i < g->kh; i++)
        for (int j = 0; j < g->kw; j++)
          {
            int row = (c * g->kh + i) * g->kw + j;
            for (int oh = 0; oh < g->OH; oh++)
              for (int ow = 0; ow < g->OW; ow++)
                {
                  int ih = oh * g->sh - g->ph + i * g->dh;
                  int iw = ow * g->sw - g->pw + j * g->dw;
                  if (ih >= 0 && ih < g->H && iw >= 0 && iw < g->W)
                    img[(((gsize) n * g->C + c) * g->H + ih) * g->W + iw] +=
                      cols[row * ld + n * P + oh * g->OW + ow];
                }
          }
}

void
_cs_ref_bias_add (float *out, const float *bias, int N, int C, int HW)
{
  for (int n = 0; n < N; n++)
    for (int c = 0; c < C; c++)
      for (int k = 0; k < HW; k++)
        out[((gsize) n * C + c) * HW + k] += bias[c];
}

void
_cs_ref_bias_grad (float *dbias, const float *dout, int N, int C, int HW)
{
  for (int c = 0; c < C; c++)
    {
      double acc = 0.0;
      for (int n = 0; n < N; n++)
        for (int k = 0; k < HW; k++)
          acc += dout[((gsize) n * C + c) * HW + k];
      dbias[c] += (float) acc;
    }
}

void
_cs_ref_pool_forward (float *out, gint32 *argmax, const float *inp,
                      int planes, const CsSlidingWindow *g, CsPoolKind kind)
{
  for (int p = 0; p < planes; p++)
    {
      const float *x = inp + (gsize) p * g->H * g->W;
      for (int oh = 0; oh < g->OH; oh++)
        for (int ow = 0; ow < g->OW; ow++)
          {
            int h0 = oh * g->sh - g->ph, w0 = ow * g->sw - g->pw;
            gsize o = ((gsize) p * g->OH + oh) * g->OW + ow;
            if (kind == CS_POOL_MAX)
              {
                float best = -INFINITY;
                gint32 at = -1;
                for (int i = 0; i < g->kh; i++)
                  for (int j = 0; j < g->kw; j++)
                    {
                      int h = h0 + i * g->dh, w = w0 + j * g->dw;
                      if (h < 0 || h >= g->H || w < 0 || w >= g->W)
                        continue;  /* padding never wins */
                      float v = x[h * g->W + w];
                      if (at < 0 || v > best || isnan (v))
                        {
                          best = v;
                          at = h * g->W + w;
                          if (isnan (v))
                            goto done;
                        }
                    }
              done:
                out[o] = best;
                argmax[o] = at;
              }
            else
              {
                /* count_include_pad: the divisor counts padding, not the
                 * part of the window past the padding */
                int h1 = MIN (h0 + g->kh, g->H + g->ph);
                int w1 = MIN (w0 + g->kw, g->W + g->pw);
                int size = (h1 - h0) * (w1 - w0);
                double acc = 0.0;
                for (int h = MAX (h0, 0); h < MIN (h1, g->H); h++)
                  for (int w = MAX (w0, 0); w < MIN (w1, g->W); w++)
                    acc += x[h * g->W + w];
                out[o] = (float) (acc / size);
              }
          }
    }
}

void
_cs_ref_pool_backward (float *dinp, const float *dout, const gint32 *argmax,
                       int planes, const CsSlidingWindow *g, CsPoolKind kind)
{
  memset (dinp, 0, sizeof (float) * planes * g->H * g->W);
  for (int p = 0; p < planes; p++)
    {
      float *dx = dinp + (gsize) p * g->H * g->W;
      for (int oh = 0; oh < g->OH; oh++)
        for (int ow = 0; ow < g->OW; ow++)
          {
            gsize o = ((gsize) p * g->OH + oh) * g->OW + ow;
            if (kind == CS_POOL_MAX)
              {
                if (argmax[o] >= 0)
                  dx[argmax[o]] += dout[o];
              }
            else
              {
                int h0 = oh * g->sh - g->ph, w0 = ow * g->sw - g->pw;
                int h1 = MIN (h0 + g->kh, g->H + g->ph);
                int w1 = MIN (w0 + g->kw, g->W + g->pw);
                float share = dout[o] / (float) ((h1 - h0) * (w1 - w0));
                for (int h = MAX (h0, 0); h < MIN (h1, g->H); h++)
                  for (int w = MAX (w0, 0); w < MIN (w1, g->W); w++)
                    dx[h * g->W + w] += share;
              }
          }
    }
}

void
_cs_ref_act_forward (float *out, const float *inp, gsize n, CsActKind kind, float slope)
{
  for (gsize i = 0; i < n; i++)
    {
      float x = inp[i];
      switch (kind)
        {
        case CS_ACT_RELU: out[i] = x > 0.0f ? x : 0.0f; break;
        case CS_ACT_LEAKY_RELU: out[i] = x > 0.0f ? x : slope * x; break;
        case CS_ACT_SIGMOID: out[i] = 1.0f / (1.0f + expf (-x)); break;
        case CS_ACT_TANH: out[i] = tanhf (x); break;
        default: g_assert_not_reached ();
        }
    }
}

void
_cs_ref_act_backward (float *dinp, const float *dout, const float *inp,
                      const float *out, gsize n, CsActKind kind, float slope)
{
  for (gsize i = 0; i < n; i++)
    {
      switch (kind)
        {
        case CS_ACT_RELU: dinp[i] = inp[i] > 0.0f ? dout[i] : 0.0f; break;
        case CS_ACT_LEAKY_RELU: dinp[i] = inp[i] > 0.0f ? dout[i] : slope * dout[i]; break;
        case CS_ACT_SIGMOID: dinp[i] = dout[i] * out[i] * (1.0f - out[i]); break;
        case CS_ACT_TANH: dinp[i] = dout[i] * (1.0f - out[i] * out[i]); break;
        default: g_assert_not_reached ();
        }
    }
}

void
_cs_ref_softmax_forward (float *out, const float *inp, int N, int C)
{
  for (int n = 0; n < N; n++)
    {
      const float *x = inp + (gsize) n * C;
      float *y = out + (gsize) n * C;
      float m = x[0];
      for (int c = 1; c < C; c++)
        m = MAX (m, x[c]);
      double sum = 0.0;
      for (int c = 0; c < C; c++)
        sum += exp ((double) x[c] - m);
      for (int c = 0; c < C; c++)
        y[c] = (float) (exp ((double) x[c] - m) / sum);
    }
}

void
_cs_ref_softmax_backward (float *dinp, const float *dout, const float *out, int N, int C)
{
  /* dx_i = y_i (dy_i − Σ_j dy_j y_j) */
  for (int n = 0; n < N; n++)
    {
      const float *y = out + (gsize) n * C, *dy = dout + (gsize) n * C;
      double dot = 0.0;
      for (int c = 0; c < C; c++)
        dot += (double) dy[c] * y[c];
      for (int c = 0; c < C; c++)
        dinp[(gsize) n * C + c] = (float) (y[c] * (dy[c] - dot));
    }
}

double
_cs_ref_cross_entropy (float *dlogits, float *probs, const float *logits,
                       const gint32 *labels, int N, int C)
{
  /* loss_n = log Σ_c exp(x_c) − x_label, computed around the row's max */
  double total = 0.0;
  for (int n = 0; n < N; n++)
    {
      const float *x = logits + (gsize) n * C;
      float m = x[0];
      for (int c = 1; c < C; c++)
        m = MAX (m, x[c]);
      double sum = 0.0;
      for (int c = 0; c < C; c++)
        sum += exp ((double) x[c] - m);
      double lse = m + log (sum);
      g_assert (labels[n] >= 0 && labels[n] < C);
      total += lse - x[labels[n]];
      for (int c = 0; c < C; c++)
        {
          double p = exp ((double) x[c] - lse);
          probs[(gsize) n * C + c] = (float) p;
          dlogits[(gsize) n * C + c] = (float) ((p - (c == labels[n])) / N);
        }
    }
  return total / N;
}

double
_cs_ref_mse (float *dpred, const float *pred, const float *target, gsize n)
{
  double total = 0.0;
  for (gsize i = 0; i < n; i++)
    {
      double d = (double) pred[i] - target[i];
      total += d * d;
      dpred[i] = (float) (2.0 * d / n);
    }
  return total / n;
}

void
_cs_ref_batchnorm_forward (float *out, float *save_mean, float *save_invstd,
                           float *running_mean, float *running_var,
                           const float *inp, const float *gamma, const float *beta,
                           int N, int C, int HW, float eps, float momentum,
                           gboolean train)
{
  gsize M = (gsize) N * HW;
  for (int c = 0; c < C; c++)
    {
      double mean, var;
      if (train)
        {
          double s = 0.0, s2 = 0.0;
          for (int n = 0; n < N; n++)
            for (int k = 0; k < HW; k++)
              s += inp[((gsize) n * C + c) * HW + k];
          mean = s / M;
          for (int n = 0; n < N; n++)
            for (int k = 0; k < HW; k++)
              {
                double d = inp[((gsize) n * C + c) * HW + k] - mean;
                s2 += d * d;
              }
          var = s2 / M;  /* biased, for normalising */
          double unbiased = M > 1 ? s2 / (M - 1) : var;
          running_mean[c] = (float) ((1.0 - momentum) * running_mean[c] + momentum * mean);
          running_var[c] = (float) ((1.0 - momentum) * running_var[c] + momentum * unbiased);
        }
      else
        {
          mean = running_mean[c];
          var = running_var[c];
        }
      double invstd = 1.0 / sqrt (var + eps);
      save_mean[c] = (float) mean;
      save_invstd[c] = (float) invstd;
      for (int n = 0; n < N; n++)
        for (int k = 0; k < HW; k++)
          {
            gsize i = ((gsize) n * C + c) * HW + k;
            out[i] = (float) ((inp[i] - mean) * invstd * gamma[c] + beta[c]);
          }
    }
}

void
_cs_ref_batchnorm_backward (float *dinp, float *dgamma, float *dbeta,
                            const float *dout, const float *inp,
                            const float *save_mean, const float *save_invstd,
                            const float *gamma, int N, int C, int HW,
                            gboolean train)
{
  /* x̂ = (x − μ)·σ⁻¹;  dx = σ⁻¹/M · (M·dx̂ − Σdx̂ − x̂·Σ(dx̂·x̂)),  dx̂ = dy·γ
   * with the batch's μ and σ; with the running ones, constants, dx = σ⁻¹·dx̂ */
  gsize M = (gsize) N * HW;
  for (int c = 0; c < C; c++)
    {
      double sum_dy = 0.0, sum_dy_xhat = 0.0;
      for (int n = 0; n < N; n++)
        for (int k = 0; k < HW; k++)
          {
            gsize i = ((gsize) n * C + c) * HW + k;
            double xhat = (inp[i] - save_mean[c]) * (double) save_invstd[c];
            sum_dy += dout[i];
            sum_dy_xhat += dout[i] * xhat;
          }
      dgamma[c] += (float) sum_dy_xhat;
      dbeta[c] += (float) sum_dy;
      if (dinp == NULL)
        continue;
      for (int n = 0; n < N; n++)
        for (int k = 0; k < HW; k++)
          {
            gsize i = ((gsize) n * C + c) * HW + k;
            double xhat = (inp[i] - save_mean[c]) * (double) save_invstd[c];
            double dxhat_m = train ? M * (double) dout[i] - sum_dy - xhat * sum_dy_xhat
                                   : M * (double) dout[i];
            dinp[i] = (float) (gamma[c] * save_invstd[c] * dxhat_m / M);
          }
    }
}

void
_cs_ref_dropout_forward (float *out, float *mask, const float *inp, gsize n,
                         float p, guint64 seed)
{
  float scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
  for (gsize i = 0; i < n; i++)
    {
      float u = (float) (cs_dropout_hash (seed, i) >> 8) * 0x1.0p-24f;
      mask[i] = u >= p ? scale : 0.0f;
      out[i] = inp[i] * mask[i];
    }
}

void
_cs_ref_swap01 (float *dst, const float *src, int A, int B, int P)
{
  for (int a = 0; a < A; a++)
    for (int b = 0; b < B; b++)
      memcpy (dst + ((gsize) b * A + a) * P, src + ((gsize) a * B + b) * P,
              sizeof (float) * P);
}

void
_cs_ref_mul (float *out, const float *a, const float *b, gsize n)
{
  for (gsize i = 0; i < n; i++)
    out[i] = a[i] * b[i];
}

void
_cs_ref_add (float *out, const float *a, const float *b, gsize n)
{
  for (gsize i = 0; i < n; i++)
    out[i] = a[i] + b[i];
}

void
_cs_ref_axpy (float *y, float a, const float *x, gsize n)
{
  for (gsize i = 0; i < n; i++)
    y[i] += a * x[i];
}

void
_cs_ref_fill (float *x, float value, gsize n)
{
  for (gsize i = 0; i < n; i++)
    x[i] = value;
}

void
_cs_ref_copy (float *dst, const float *src, gsize n)
{
  if (n > 0)
    memmove (dst, src, n * sizeof (float));
}

void
_cs_ref_sgd_update (float *param, const float *grad, float *buf, gsize n,
                    const CsOptimParams *hp, gint64 step)
{
  /* d = g + λp;  b = d (first step) or μb + (1 − τ)d;  d = b (or d + μb);  p −= lr·d */
  for (gsize i = 0; i < n; i++)
    {
      float d = grad[i] + hp->weight_decay * param[i];
      if (hp->momentum != 0.0f)
        {
          buf[i] = step == 1 ? d : hp->momentum * buf[i] + (1.0f - hp->dampening) * d;
          d = hp->nesterov ? d + hp->momentum * buf[i] : buf[i];
        }
      param[i] -= hp->lr * d;
    }
}

void
_cs_ref_adam_update (float *param, const float *grad, float *m, float *v,
                     gsize n, const CsOptimParams *hp, gint64 step)
{
  /* m = β₁m + (1−β₁)g;  v = β₂v + (1−β₂)g²;
   * p −= lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε) */
  double bc1 = 1.0 - pow (hp->beta1, (double) step);
  double bc2 = 1.0 - pow (hp->beta2, (double) step);
  float step_size = (float) (hp->lr / bc1);
  float bc2_sqrt = (float) sqrt (bc2);
  /* in locals: hp could otherwise alias the arrays, and be read again for
   * every value */
  const float beta1 = hp->beta1, beta2 = hp->beta2, eps = hp->eps, wd = hp->weight_decay;
  for (gsize i = 0; i < n; i++)
    {
      float g = grad[i] + wd * param[i];
      m[i] = beta1 * m[i] + (1.0f - beta1) * g;
      v[i] = beta2 * v[i] + (1.0f - beta2) * g * g;
      float denom = sqrtf (v[i]) / bc2_sqrt + eps;
      param[i] -= step_size * m[i] / denom;
    }
}

void
_cs_ref_rmsprop_update (float *param, const float *grad, float *square_avg,
                        float *buf, gsize n, const CsOptimParams *hp, gint64 step)
{
  /* s = αs + (1−α)g²;  b = μb + g/(√s + ε);  p −= lr·b  (or lr·g/(√s + ε)) */
  for (gsize i = 0; i < n; i++)
    {
      float g = grad[i] + hp->weight_decay * param[i];
      square_avg[i] = hp->alpha * square_avg[i] + (1.0f - hp->alpha) * g * g;
      float avg = sqrtf (square_avg[i]) + hp->eps;
      if (hp->momentum > 0.0f)
        {
          buf[i] = hp->momentum * buf[i] + g / avg;
          param[i] -= hp->lr * buf[i];
        }
      else
        param[i] -= hp->lr * g / avg;
    }
}

static const char *
ref_describe (void)
{
  return "plain loops";
}

static const CsBackend ref_backend;

static void
ref_conv_forward (float *out, float *scratch, const float *inp, const float *weight,
                  const float *bias, int N, int C_out, const CsSlidingWindow *g)
{
  _cs_conv_forward_unrolled (&ref_backend, out, scratch, inp, weight, bias, N, C_out, g);
}

static void
ref_conv_backward (float *dinp, float *dweight, float *dbias, float *scratch,
                   const float *dout, const float *inp, const float *weight,
                   int N, int C_out, const CsSlidingWindow *g)
{
  _cs_conv_backward_unrolled (&ref_backend, dinp, dweight, dbias, scratch, dout, inp, weight,
                              N, C_out, g);
}

static const CsBackend ref_backend = {
  .name = "reference",
  .device = CS_DEVICE_CPU,
  .gemm = _cs_ref_gemm,
  .im2col = _cs_ref_im2col,
  .col2im = _cs_ref_col2im,
  .conv_scratch = _cs_conv_scratch_unrolled,
  .conv_forward = ref_conv_forward,
  .conv_backward = ref_conv_backward,
  .describe = ref_describe,
  CS_BACKEND_PLAIN_LOOPS,
  CS_BACKEND_HOST_MEMORY,
};

const CsBackend *
cs_backend_ref (void)
{
  return &ref_backend;
}
