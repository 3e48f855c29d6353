/* backend.h — the primitive operations every layer is written against
 *
 * Layers never loop over numbers themselves: they call the operations of a
 * CsBackend. Three tables implement it:
 *
 *   cs_backend_cpu ()   the fast path: GEMM through our AVX-512 kernels
 *                       (gemm-avx512.c) or OpenBLAS, tuned loops
 *   cs_backend_ref ()   the naive reference: plain loops, kept for the tests,
 *                       which run both and compare
 *   cs_backend_cuda ()  core/gpu/: cuBLAS and CUDA kernels on device 0
 *
 * Conventions: outputs first, then inputs, then sizes. Pointers are of the
 * backend's device. "accumulates" means +=; everything else assigns.
 *
 * Errors. The operations return nothing (the two losses return their value):
 * a device that fails (out of memory, a lost GPU) records the first error
 * and skips the work of every later operation until cs_backend_check ()
 * reports it as a GError, with the CUDA message, and clears it. Work on a
 * device is queued, so failures show up at the next check: the model checks
 * where it allocates, and whoever drives training calls cs_model_check ()
 * after each step. The CPU backends never fail (their allocations abort on
 * exhaustion, as GLib's do).
 *
 * Threads: a backend's operations and memory calls come from one thread at
 * a time (the trainer's). The CUDA backend is one stream on device 0.
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
} CsSlidingWindow;

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

/* Completion of asynchronous downloads (cs_backend_download_async ()). */
typedef struct _CsBackendEvent CsBackendEvent;

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
  void (*im2col) (float *cols, const float *img, int N, const CsSlidingWindow *g);
  /* img (N, C, H, W) accumulates the columns back (the adjoint of im2col). */
  void (*col2im) (float *img, const float *cols, int N, const CsSlidingWindow *g);

  /* A whole convolution layer over a batch, in one operation, so that each
   * backend takes its own way: the reference and CUDA unroll the batch into
   * columns and do one GEMM (the _cs_conv_*_unrolled of backend.c, made of
   * the operations above); the CPU goes image by image, so that an image's
   * columns stay in its core's cache, and writes NCHW directly.
   *
   *   out (N, C_out, OH, OW) = bias (C_out) + weight (C_out, C·kh·kw) ·
   *                            im2col (inp (N, C, H, W))
   *
   * bias may be NULL (no bias). scratch is conv_scratch (N, C_out, g)
   * floats of the backend's memory for the largest N to be used; the
   * backward may rely on what the forward of the same inp left there. */
  gsize (*conv_scratch) (int N, int C_out, const CsSlidingWindow *g);
  void (*conv_forward) (float *out, float *scratch, const float *inp, const float *weight,
                        const float *bias, int N, int C_out, const CsSlidingWindow *g);
  /* dweight (C_out, C·kh·kw) and dbias (C_out; NULL: no bias) accumulate;
   * dinp (N, C, H, W) is assigned (NULL: not wanted). */
  void (*conv_backward) (float *dinp, float *dweight, float *dbias, float *scratch,
                         const float *dout, const float *inp, const float *weight,
                         int N, int C_out, const CsSlidingWindow *g);

  /* out (N, C, HW) += bias (C) */
  void (*bias_add) (float *out, const float *bias, int N, int C, int HW);
  /* dbias (C) accumulates Σ_n,hw dout (N, C, HW) */
  void (*bias_grad) (float *dbias, const float *dout, int N, int C, int HW);

  /* out (planes, OH, OW) from inp (planes, H, W); g->C is ignored.
   * Max pooling writes the index (h·W + w) of each winner into argmax;
   * ties go to the first in row-major order, as in PyTorch. Average pooling
   * divides by the window's size including padding (count_include_pad). */
  void (*pool_forward) (float *out, gint32 *argmax, const float *inp,
                        int planes, const CsSlidingWindow *g, CsPoolKind kind);
  /* dinp (planes, H, W) = the adjoint; only the winner of a max window gets
   * gradient. Assigns. */
  void (*pool_backward) (float *dinp, const float *dout, const gint32 *argmax,
                         int planes, const CsSlidingWindow *g, CsPoolKind kind);

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

  /* Memory of the backend's device, zeroed (64-byte aligned host memory on
   * the CPU, cudaMalloc on a GPU); NULL when the device is out of memory,
   * with the error kept for check. free (NULL) does nothing. */
  gpointer (*alloc) (gsize bytes);
  void (*free) (gpointer p);
  /* Copies between host memory and the device's; both return when the
   * copy is done, after the work queued before them. */
  void (*upload) (gpointer dst, gconstpointer host_src, gsize bytes);
  void (*download) (gpointer host_dst, gconstpointer src, gsize bytes);

  /* Page-locked host memory, the destination that makes download_async
   * asynchronous (plain aligned memory on the CPU); NULL with the error kept. */
  gpointer (*host_alloc) (gsize bytes);
  void (*host_free) (gpointer p);
  /* Downloads behind the work queued so far, on a stream of their own, so
   * the device keeps computing; ev completes after the last of them. See
   * cs_backend_download_async (). */
  CsBackendEvent *(*event_new) (void);
  void (*event_free) (CsBackendEvent *ev);
  void (*download_async) (gpointer host_dst, gconstpointer src, gsize bytes,
                          CsBackendEvent *ev);
  gboolean (*event_query) (CsBackendEvent *ev);
  /* Waits for ev only; FALSE with the recorded error, which stays for check. */
  gboolean (*event_sync) (CsBackendEvent *ev, GError **error);

  /* Waits for the queued work; FALSE with the first error recorded since
   * the last check (which clears it). */
  gboolean (*check) (GError **error);
  /* What it computes on, for people: "OpenBLAS Haswell", "NVIDIA H100 …". */
  const char *(*describe) (void);
};

struct _CsBackendEvent
{
  const CsBackend *be;  /* the backend that made it; backends extend the struct */
};

const CsBackend *cs_backend_cpu (void);
const CsBackend *cs_backend_ref (void);
/* The CUDA backend on device 0, or NULL with CS_ERROR_UNSUPPORTED: "no CUDA
 * device: <the CUDA runtime's message>", or "built without CUDA". The first
 * call sets the device up (a second or so); later calls return at once. */
const CsBackend *cs_backend_cuda (GError **error);
/* The backend for a device the user chose: "cpu", "cuda", or "auto" (CUDA
 * when a device answers, else the CPU; never fails). An unknown name or an
 * unusable CUDA is a GError, and the caller stays on what it has. */
const CsBackend *cs_backend_for_device (const char *name, GError **error);
const char      *cs_backend_describe   (const CsBackend *be);

/* Waits for the backend's queued work and reports the first error recorded
 * since the last check (see "Errors" above). TRUE on the CPU. */
gboolean         cs_backend_check      (const CsBackend *be, GError **error);

/* src (n floats of be's device) readable on the host: src itself when be
 * works in host memory, else src downloaded into host_scratch. */
const float     *cs_backend_host_view  (const CsBackend *be, float *host_scratch,
                                        const float *src, gsize n);

/* Snapshots without stalling the device:
 *
 *   ev = cs_backend_event_new (be);
 *   buf = cs_backend_host_alloc (be, bytes);       page-locked: truly async
 *                                                  (into other memory the
 *                                                  call waits for the copy)
 *   cs_backend_download_async (be, buf, acts, bytes, ev);   … more copies
 *   … keep training …
 *   if (cs_backend_event_query (ev))  or  cs_backend_sync_event (ev, &error)
 *     buf holds the values src had when the download was queued
 *
 * The copy runs behind the work queued before it, on a separate stream,
 * through a device staging buffer owned by the event: src may be written by
 * later work at once, and the device does not wait for the host. Several
 * downloads may share an event: it completes after the last, and the next
 * download after it has completed starts a new group. On the CPU the copy
 * happens during the call. Device errors surface in cs_backend_check () and
 * cs_backend_sync_event (). */
CsBackendEvent  *cs_backend_event_new       (const CsBackend *be);
void             cs_backend_event_free      (CsBackendEvent *ev);
gpointer         cs_backend_host_alloc      (const CsBackend *be, gsize bytes);
void             cs_backend_host_free       (const CsBackend *be, gpointer p);
void             cs_backend_download_async  (const CsBackend *be, gpointer host_dst,
                                             gconstpointer src, gsize bytes,
                                             CsBackendEvent *ev);
/* TRUE when every download queued on ev has landed (or failed). */
gboolean         cs_backend_event_query     (CsBackendEvent *ev);
/* Waits for ev; FALSE with the device's error if anything failed. */
gboolean         cs_backend_sync_event      (CsBackendEvent *ev, GError **error);

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

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsBackendEvent, cs_backend_event_free)

G_END_DECLS
