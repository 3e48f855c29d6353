/* backend.h — the primitive operations every layer is written against
 *
 * Layers never loop over numbers themselves: they call the operations of a
 * CsBackend. Three tables implement it:
 *
 *   cs_backend_cpu ()  the fast path: GEMM through our AVX-512 kernels
 *                      (gemm-avx512.c) or OpenBLAS, tuned loops
 *   cs_backend_ref ()  the naive reference: plain loops, kept for the tests,
 *                      which run both and compare
 *   core/gpu/          CUDA (its own issue), same table, device pointers
 *
 * Conventions: outputs first, then inputs, then sizes. Pointers are of the
 * backend's device. "accumulates" means +=; everything else assigns.
 */
#pragma once

#include <glib.h>

#include "tensor.h"

G_BEGIN_DECLS

/* Geometry of a 2-d sliding window (convolution or pooling) over one plane. */
typedef struct
{
  int C, H, W;        /* input channels and size */
  int kh, kw;         /* kernel */
  int sh, sw;         /* stride */
  int ph, pw;         /* zero padding */
  int dh, dw;         /* dilation */
  int OH, OW;         /* output size: (H + 2p - d(k-1) - 1) / s + 1 */
} CsWindow;

typedef enum
{
  CS_ACT_RELU,
  CS_ACT_LEAKY_RELU,
  CS_ACT_SIGMOID,
  CS_ACT_TANH,
} CsActKind;

typedef enum
{
  CS_POOL_MAX,
  CS_POOL_AVG,
} CsPoolKind;

typedef struct
{
  float lr;
  float momentum;
  float dampening;
  float weight_decay;
  gboolean nesterov;
  float beta1, beta2;  /* Adam */
  float eps;           /* Adam, RMSprop */
  float alpha;         /* RMSprop's smoothing constant */
} CsOptimParams;

typedef struct _CsBackend CsBackend;

struct _CsBackend
{
  const char *name;
  CsDevice device;

  /* C (M, N) = alpha · op(A) · op(B) + beta · C, row-major;
   * op(A) is (M, K), op(B) is (K, N). */
  void (*gemm) (gboolean trans_a, gboolean trans_b, int M, int N, int K,
                float alpha, const float *A, int lda, const float *B, int ldb,
                float beta, float *C, int ldc);

  /* cols (C·kh·kw, N·OH·OW) from img (N, C, H, W): image n's columns are
   * columns n·OH·OW … (n+1)·OH·OW − 1, so one GEMM covers the batch. */
  void (*im2col) (float *cols, const float *img, int N, const CsWindow *g);
  /* img (N, C, H, W) accumulates the columns back (the adjoint of im2col). */
  void (*col2im) (float *img, const float *cols, int N, const CsWindow *g);

  /* out (N, C, HW) += bias (C) */
  void (*bias_add) (float *out, const float *bias, int N, int C, int HW);
  /* dbias (C) accumulates Σ_n,hw dout (N, C, HW) */
  void (*bias_grad) (float *dbias, const float *dout, int N, int C, int HW);

  /* out (planes, OH, OW) from inp (planes, H, W); g->C is ignored.
   * Max pooling writes the index (h·W + w) of each winner into argmax;
   * ties go to the first in row-major order, as in PyTorch. Average pooling
   * divides by the window's size including padding (count_include_pad). */
  void (*pool_forward) (float *out, gint32 *argmax, const float *inp,
                        int planes, const CsWindow *g, CsPoolKind kind);
  /* dinp (planes, H, W) = the adjoint; only the winner of a max window gets
   * gradient. Assigns. */
  void (*pool_backward) (float *dinp, const float *dout, const gint32 *argmax,
                         int planes, const CsWindow *g, CsPoolKind kind);

  void (*act_forward) (float *out, const float *inp, gsize n,
                       CsActKind kind, float slope);
  /* dinp = dout · f'(inp); ReLU's derivative at 0 is 0, as in PyTorch. */
  void (*act_backward) (float *dinp, const float *dout, const float *inp,
                        const float *out, gsize n, CsActKind kind, float slope);

  /* Row-wise softmax of (N, C). */
  void (*softmax_forward) (float *out, const float *inp, int N, int C);
  void (*softmax_backward) (float *dinp, const float *dout, const float *out,
                            int N, int C);

  /* Mean cross-entropy of logits (N, C) against labels (N); writes probs
   * and dlogits = (probs - onehot) / N. Returns the loss. */
  double (*cross_entropy) (float *dlogits, float *probs, const float *logits,
                           const gint32 *labels, int N, int C);
  /* Mean squared error over n values; dpred = 2 (pred - target) / n. */
  double (*mse) (float *dpred, const float *pred, const float *target, gsize n);

  /* BatchNorm2d over inp (N, C, HW). Training: batch statistics, updates
   * the running statistics with momentum (unbiased variance), as PyTorch
   * does. Evaluation: the running statistics. Either way saves the mean and
   * 1/sqrt(var + eps) it used per channel, for the backward pass. */
  void (*batchnorm_forward) (float *out, float *save_mean, float *save_invstd,
                             float *running_mean, float *running_var,
                             const float *inp, const float *gamma, const float *beta,
                             int N, int C, int HW, float eps, float momentum,
                             gboolean train);
  /* dinp assigns (may be NULL); dgamma and dbeta accumulate. train: the
   * forward used the batch's statistics, which depend on the input;
   * otherwise the running ones, constants. */
  void (*batchnorm_backward) (float *dinp, float *dgamma, float *dbeta,
                              const float *dout, const float *inp,
                              const float *save_mean, const float *save_invstd,
                              const float *gamma, int N, int C, int HW,
                              gboolean train);

  /* Inverted dropout: mask[i] = 0 or 1 / (1 - p), drawn by a counter-based
   * hash of (seed, i) so that every device draws the same mask. */
  void (*dropout_forward) (float *out, float *mask, const float *inp, gsize n,
                           float p, guint64 seed);

  /* dst (B, A, P) = src (A, B, P): swaps the first two axes, so that a
   * batch (N, C, P) becomes (C, N, P) for one GEMM over the whole batch. */
  void (*swap01) (float *dst, const float *src, int A, int B, int P);

  /* Element-wise helpers. */
  void (*mul) (float *out, const float *a, const float *b, gsize n);
  void (*add) (float *out, const float *a, const float *b, gsize n);
  void (*axpy) (float *y, float a, const float *x, gsize n);
  void (*fill) (float *x, float value, gsize n);
  void (*copy) (float *dst, const float *src, gsize n);

  /* Optimizer updates over n parameters, PyTorch's rules; step counts from 1.
   * SGD: buf = momentum state; Adam: m, v; RMSprop: square_avg, momentum buf. */
  void (*sgd_update) (float *param, const float *grad, float *buf, gsize n,
                      const CsOptimParams *hp, gint64 step);
  void (*adam_update) (float *param, const float *grad, float *m, float *v,
                       gsize n, const CsOptimParams *hp, gint64 step);
  void (*rmsprop_update) (float *param, const float *grad, float *square_avg,
                          float *buf, gsize n, const CsOptimParams *hp, gint64 step);
};

const CsBackend *cs_backend_cpu (void);
const CsBackend *cs_backend_ref (void);

/* Threads of the CPU backend's pool (core/parallel.h); OpenBLAS itself runs
 * on one. 0 means one per processor. */
void             cs_backend_cpu_set_threads (int n);
int              cs_backend_cpu_get_threads (void);
/* The GEMM in use, for benchmarks and bug reports: "AVX-512 GEMM (own
 * kernel), OpenBLAS Haswell" where the CPU has AVX-512F (and
 * CONVSCOPE_NO_AVX512 is not set), else "OpenBLAS Haswell" (its core). */
const char      *cs_backend_cpu_describe    (void);

/* Helpers shared by the backends and the layers. */
int              cs_window_out_size (int in, int k, int s, int p, int d);
guint32          cs_dropout_hash    (guint64 seed, guint64 i);

G_END_DECLS
