/* backend-cuda.c — the CUDA backend: cuBLAS for GEMM, kernels.h for the rest
 *
 * One device (0), one stream for all the work in order, a second stream for
 * snapshot downloads, one cuBLAS handle. Memory is plain cudaMalloc. Every
 * CUDA or cuBLAS call is checked: the first failure is recorded with the
 * library's message, the operations after it are skipped, and check ()
 * turns it into a GError (see backend.h, "Errors"). Nothing here aborts.
 *
 * The state is the process's: the backend is used from one thread at a
 * time (the trainer's), like the cuBLAS handle it holds.
 *
 * cuBLAS is opened when the device is set up, not linked: it and its Lt
 * half are some 600 MB that every program of Convscope would otherwise map
 * at start-up (a third of a second, 200 MB resident), GPU or not.
 */
#include "core/backend-private.h"
#include "core/error.h"
#include "gpu-private.h"

#include <dlfcn.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

#define CUBLAS_SONAME "libcublas.so." G_STRINGIFY (CUBLAS_VER_MAJOR)

/* The cuBLAS functions in use, from dlopen (); the names are those
 * cublas_v2.h gives (cublasSgemm is cublasSgemm_v2). */
static struct
{
  void *lib;
  __typeof__ (cublasCreate) *create;
  __typeof__ (cublasDestroy) *destroy;
  __typeof__ (cublasSetStream) *set_stream;
  __typeof__ (cublasSetMathMode) *set_math_mode;
  __typeof__ (cublasSgemm) *sgemm;
  __typeof__ (cublasGetStatusString) *status_string;
} blas;

/* The kernels take the C types of the table, field for field. */
G_STATIC_ASSERT (sizeof (CsCudaWindow) == sizeof (CsSlidingWindow));
G_STATIC_ASSERT (G_STRUCT_OFFSET (CsCudaWindow, OW) == G_STRUCT_OFFSET (CsSlidingWindow, OW));
G_STATIC_ASSERT ((int) CS_CUDA_RELU == (int) CS_ACT_RELU);
G_STATIC_ASSERT ((int) CS_CUDA_LEAKY_RELU == (int) CS_ACT_LEAKY_RELU);
G_STATIC_ASSERT ((int) CS_CUDA_SIGMOID == (int) CS_ACT_SIGMOID);
G_STATIC_ASSERT ((int) CS_CUDA_TANH == (int) CS_ACT_TANH);
G_STATIC_ASSERT ((int) CS_CUDA_POOL_MAX == (int) CS_POOL_MAX);
G_STATIC_ASSERT ((int) CS_CUDA_POOL_AVG == (int) CS_POOL_AVG);
G_STATIC_ASSERT (sizeof (gint32) == sizeof (int32_t));

static struct
{
  const CsCudaRuntime *rt; /* the device's, or emulate.c's */
  char *setup_error;       /* why there is no backend, once set up */
  cudaStream_t stream;     /* all the work, in order */
  cudaStream_t copies;     /* snapshot downloads */
  cublasHandle_t blas;
  double *scratch;         /* device: the losses' sums */
  gsize scratch_bytes;
  char *name;              /* for describe () */

  gint failed;             /* atomic: an error is recorded */
  GMutex lock;             /* for error */
  char *error;             /* the first error since the last check */
} cu;

/* ---------------------------------------------------------------------------
 * Errors
 */

static void G_GNUC_PRINTF (1, 2)
record (const char *format, ...)
{
  va_list args;
  va_start (args, format);
  char *msg = g_strdup_vprintf (format, args);
  va_end (args);

  g_mutex_lock (&cu.lock);
  if (cu.error == NULL)
    cu.error = g_steal_pointer (&msg);
  g_atomic_int_set (&cu.failed, 1);
  g_mutex_unlock (&cu.lock);
  g_free (msg);
}

#define R (cu.rt)

static inline gboolean
failed (void)
{
  return g_atomic_int_get (&cu.failed) != 0;
}

/* TRUE when e is cudaSuccess; else records "<what>: <message> (<name>)". */
static gboolean G_GNUC_PRINTF (2, 3)
ok (cudaError_t e, const char *what, ...)
{
  if (G_LIKELY (e == cudaSuccess))
    return TRUE;
  va_list args;
  va_start (args, what);
  g_autofree char *w = g_strdup_vprintf (what, args);
  va_end (args);
  record ("%s: %s (%s)", w, cudaGetErrorString (e), cudaGetErrorName (e));
  /* The runtime keeps the error for the next cudaGetLastError (), which
   * the kernels' launchers call: recorded once is enough. */
  R->get_last_error ();
  return FALSE;
}

static gboolean
ok_blas (cublasStatus_t st, const char *what)
{
  if (G_LIKELY (st == CUBLAS_STATUS_SUCCESS))
    return TRUE;
  /* cuBLAS is not open on the emulated runtime */
  record ("%s: cuBLAS: %s", what,
          blas.status_string != NULL ? blas.status_string (st) : "the operation failed");
  return FALSE;
}

/* The error in a GError; clears it when clear is TRUE. */
static gboolean
report (GError **error, gboolean clear)
{
  gboolean good = TRUE;

  g_mutex_lock (&cu.lock);
  if (cu.error != NULL)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_DEVICE, "the GPU failed: %s", cu.error);
      good = FALSE;
      if (clear)
        {
          g_clear_pointer (&cu.error, g_free);
          g_atomic_int_set (&cu.failed, 0);
        }
    }
  g_mutex_unlock (&cu.lock);
  return good;
}

static gboolean
cuda_check (GError **error)
{
  ok (R->stream_synchronize (cu.stream), "waiting for the GPU");
  return report (error, TRUE);
}

static const char *
cuda_describe (void)
{
  return cu.name;
}

/* ---------------------------------------------------------------------------
 * Memory
 */

static gpointer
cuda_alloc (gsize bytes)
{
  void *p = NULL;

  if (failed ())
    return NULL;
  bytes = MAX (bytes, sizeof (float));
  if (!ok (R->malloc (&p, bytes), "allocating %" G_GSIZE_FORMAT " bytes", bytes))
    return NULL;
  if (!ok (R->memset_async (p, 0, bytes, cu.stream), "clearing new memory"))
    {
      R->free (p);
      return NULL;
    }
  return p;
}

static void
cuda_free (gpointer p)
{
  /* Freed even after a failure, so that nothing leaks; cudaFree waits for
   * the work that may still use p. */
  if (p != NULL)
    {
      cudaError_t e = R->free (p);
      if (!failed ())
        ok (e, "freeing memory");
    }
}

static void
cuda_upload (gpointer dst, gconstpointer src, gsize bytes)
{
  if (failed () || bytes == 0)
    return;
  if (ok (R->memcpy_async (dst, src, bytes, cudaMemcpyHostToDevice, cu.stream),
          "copying %" G_GSIZE_FORMAT " bytes to the GPU", bytes))
    /* returns when done: the caller may reuse src, even page-locked */
    ok (R->stream_synchronize (cu.stream), "copying to the GPU");
}

static void
cuda_download (gpointer dst, gconstpointer src, gsize bytes)
{
  if (failed () || bytes == 0)
    return;
  if (ok (R->memcpy_async (dst, src, bytes, cudaMemcpyDeviceToHost, cu.stream),
          "copying %" G_GSIZE_FORMAT " bytes from the GPU", bytes))
    ok (R->stream_synchronize (cu.stream), "copying from the GPU");
}

static gpointer
cuda_host_alloc (gsize bytes)
{
  void *p = NULL;

  if (failed ())
    return NULL;
  if (!ok (R->host_alloc (&p, MAX (bytes, 1), cudaHostAllocDefault),
           "allocating %" G_GSIZE_FORMAT " bytes of page-locked memory", bytes))
    return NULL;
  return p;
}

static void
cuda_host_free (gpointer p)
{
  if (p != NULL)
    {
      cudaError_t e = R->host_free (p);
      if (!failed ())
        ok (e, "freeing page-locked memory");
    }
}

/* At least n doubles of device scratch, for the losses. */
static double *
scratch_doubles (gsize n)
{
  gsize bytes = n * sizeof (double);

  if (bytes > cu.scratch_bytes)
    {
      /* The work queued before may still read the old scratch. */
      if (!ok (R->stream_synchronize (cu.stream), "waiting for the GPU"))
        return NULL;
      bytes = MAX (bytes, 2 * cu.scratch_bytes);
      R->free (cu.scratch);
      cu.scratch = NULL;
      cu.scratch_bytes = 0;
      if (!ok (R->malloc ((void **) &cu.scratch, bytes), "allocating scratch"))
        return NULL;
      cu.scratch_bytes = bytes;
    }
  return cu.scratch;
}

/* ---------------------------------------------------------------------------
 * Snapshots: downloads on their own stream, through a staging buffer
 *
 * download_async copies src into the event's staging buffer on the work
 * stream (device to device, fast, in order with the work before and after
 * it, so later work may overwrite src at once), records `ready` there, and
 * has the copy stream wait for `ready` and download the staged bytes, then
 * record `done`. The work stream never waits for the host or for the copy.
 */

typedef struct
{
  CsBackendEvent parent;
  cudaEvent_t ready;   /* work stream: the staging copy is made */
  cudaEvent_t done;    /* copy stream: the last download has landed */
  char *staging;       /* device memory */
  gsize cap, used;     /* bytes */
} CsCudaEvent;

#define STAGING_ALIGN 256

static CsBackendEvent *
cuda_event_new (void)
{
  CsCudaEvent *ev = g_new0 (CsCudaEvent, 1);

  if (!ok (R->event_create (&ev->ready, cudaEventDisableTiming), "creating an event"))
    {
      g_free (ev);
      return NULL;
    }
  if (!ok (R->event_create (&ev->done, cudaEventDisableTiming), "creating an event"))
    {
      R->event_destroy (ev->ready);
      g_free (ev);
      return NULL;
    }
  return &ev->parent;
}

static void
cuda_event_free (CsBackendEvent *event)
{
  CsCudaEvent *ev = (CsCudaEvent *) event;

  /* Nothing may still copy from the staging buffer. */
  R->event_synchronize (ev->done);
  R->event_destroy (ev->ready);
  R->event_destroy (ev->done);
  R->free (ev->staging);
  g_free (ev);
}

static gboolean
cuda_event_query (CsBackendEvent *event)
{
  CsCudaEvent *ev = (CsCudaEvent *) event;
  cudaError_t e = R->event_query (ev->done);

  if (e == cudaErrorNotReady)
    return FALSE;
  ok (e, "waiting for a download");
  return TRUE;
}

static gboolean
cuda_event_sync (CsBackendEvent *event, GError **error)
{
  CsCudaEvent *ev = (CsCudaEvent *) event;

  ok (R->event_synchronize (ev->done), "waiting for a download");
  return report (error, FALSE);
}

static void
cuda_download_async (gpointer dst, gconstpointer src, gsize bytes, CsBackendEvent *event)
{
  CsCudaEvent *ev = (CsCudaEvent *) event;
  gsize size = (bytes + STAGING_ALIGN - 1) / STAGING_ALIGN * STAGING_ALIGN;

  if (failed () || bytes == 0)
    return;

  /* A group that has landed frees its staging space. */
  if (ev->used > 0)
    {
      cudaError_t e = R->event_query (ev->done);
      if (e == cudaSuccess)
        ev->used = 0;
      else if (e != cudaErrorNotReady && !ok (e, "waiting for a download"))
        return;
    }
  if (ev->used + size > ev->cap)
    {
      /* A larger buffer: first let the downloads from this one land. */
      if (ev->used > 0 && !ok (R->event_synchronize (ev->done), "waiting for a download"))
        return;
      ev->used = 0;
      if (size > ev->cap)
        {
          gsize cap = MAX (size, 2 * ev->cap);
          R->free (ev->staging);
          ev->staging = NULL;
          ev->cap = 0;
          if (!ok (R->malloc ((void **) &ev->staging, cap),
                   "allocating %" G_GSIZE_FORMAT " bytes for a snapshot", cap))
            return;
          ev->cap = cap;
        }
    }

  char *stage = ev->staging + ev->used;
  ev->used += size;
  if (ok (R->memcpy_async (stage, src, bytes, cudaMemcpyDeviceToDevice, cu.stream),
          "staging a snapshot")
      && ok (R->event_record (ev->ready, cu.stream), "staging a snapshot")
      && ok (R->stream_wait_event (cu.copies, ev->ready, 0), "queuing a snapshot")
      && ok (R->memcpy_async (dst, stage, bytes, cudaMemcpyDeviceToHost, cu.copies),
             "downloading a snapshot"))
    ok (R->event_record (ev->done, cu.copies), "downloading a snapshot");
}

/* ---------------------------------------------------------------------------
 * GEMM: the table's row-major C (M, N) = α·op(A)·op(B) + β·C is, read
 * column-major, Cᵀ (N, M) = α·op(B)ᵀ·op(A)ᵀ + β·Cᵀ, and a row-major matrix
 * with leading dimension ld is its own transpose column-major with the same
 * ld. So cuBLAS gets B first, then A, with the same transposition flags,
 * and m = N, n = M. cuBLAS's default math mode keeps FP32 (no TF32).
 */
static void
cuda_gemm (gboolean trans_a, gboolean trans_b, int M, int N, int K,
           float alpha, const float *A, int lda, const float *B, int ldb,
           float beta, float *C, int ldc)
{
  if (failed () || M == 0 || N == 0)
    return;
  ok_blas (R->sgemm (cu.blas, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                     trans_a ? CUBLAS_OP_T : CUBLAS_OP_N,
                     N, M, K, &alpha, B, ldb, A, lda, &beta, C, ldc),
           "matrix product");
}

/* ---------------------------------------------------------------------------
 * The other operations: the kernels of kernels.h on the work stream
 */

static inline CsCudaWindow
window (const CsSlidingWindow *g)
{
  return (CsCudaWindow) {
    .C = g->C, .H = g->H, .W = g->W, .kh = g->kh, .kw = g->kw, .sh = g->sh, .sw = g->sw,
    .ph = g->ph, .pw = g->pw, .dh = g->dh, .dw = g->dw, .OH = g->OH, .OW = g->OW,
  };
}

/* Queues a kernel unless a failure is pending; records the launch's error. */
#define LAUNCH(what, call) \
  G_STMT_START { if (!failed ()) ok ((call), "%s", what); } G_STMT_END

static void
cuda_im2col (float *cols, const float *img, int N, const CsSlidingWindow *g)
{
  LAUNCH ("im2col", R->kernels->im2col (cu.stream, cols, img, N, window (g)));
}

static void
cuda_col2im (float *img, const float *cols, int N, const CsSlidingWindow *g)
{
  LAUNCH ("col2im", R->kernels->col2im (cu.stream, img, cols, N, window (g)));
}

static void
cuda_bias_add (float *out, const float *bias, int N, int C, int HW)
{
  LAUNCH ("bias", R->kernels->bias_add (cu.stream, out, bias, N, C, HW));
}

static void
cuda_bias_grad (float *dbias, const float *dout, int N, int C, int HW)
{
  LAUNCH ("bias gradient", R->kernels->bias_grad (cu.stream, dbias, dout, N, C, HW));
}

static void
cuda_pool_forward (float *out, gint32 *argmax, const float *inp, int planes,
                   const CsSlidingWindow *g, CsPoolKind kind)
{
  LAUNCH ("pooling", R->kernels->pool_forward (cu.stream, out, argmax, inp, planes, window (g),
                                               (int) kind));
}

static void
cuda_pool_backward (float *dinp, const float *dout, const gint32 *argmax, int planes,
                    const CsSlidingWindow *g, CsPoolKind kind)
{
  LAUNCH ("pooling backward", R->kernels->pool_backward (cu.stream, dinp, dout, argmax, planes,
                                                         window (g), (int) kind));
}

static void
cuda_act_forward (float *out, const float *inp, gsize n, CsActKind kind, float slope)
{
  g_return_if_fail (kind <= CS_ACT_TANH);
  LAUNCH ("activation", R->kernels->act_forward (cu.stream, out, inp, n, (int) kind, slope));
}

static void
cuda_act_backward (float *dinp, const float *dout, const float *inp, const float *out,
                   gsize n, CsActKind kind, float slope)
{
  g_return_if_fail (kind <= CS_ACT_TANH);
  LAUNCH ("activation backward",
          R->kernels->act_backward (cu.stream, dinp, dout, inp, out, n, (int) kind, slope));
}

static void
cuda_softmax_forward (float *out, const float *inp, int N, int C)
{
  LAUNCH ("softmax", R->kernels->softmax_forward (cu.stream, out, inp, N, C));
}

static void
cuda_softmax_backward (float *dinp, const float *dout, const float *out, int N, int C)
{
  LAUNCH ("softmax backward", R->kernels->softmax_backward (cu.stream, dinp, dout, out, N, C));
}

/* A loss left in device memory by a kernel: the one number that comes back. */
static double
download_double (const double *d, const char *what)
{
  double v = NAN;

  if (ok (R->memcpy_async (&v, d, sizeof v, cudaMemcpyDeviceToHost, cu.stream), "%s", what)
      && ok (R->stream_synchronize (cu.stream), "%s", what))
    return v;
  return NAN;
}

static double
cuda_cross_entropy (float *dlogits, float *probs, const float *logits,
                    const gint32 *labels, int N, int C)
{
  double *scratch;

  if (failed () || (scratch = scratch_doubles ((gsize) N + 1)) == NULL)
    return NAN;
  if (!ok (R->kernels->cross_entropy (cu.stream, dlogits, probs, scratch, scratch + 1, logits,
                                      labels, N, C), "cross-entropy"))
                                      return NAN;
  return download_double (scratch, "cross-entropy");
}

static double
cuda_mse (float *dpred, const float *pred, const float *target, gsize n)
{
  double *scratch;

  if (failed () || (scratch = scratch_doubles (1 + CS_CUDA_BLOCK)) == NULL)
    return NAN;
  if (!ok (R->kernels->mse (cu.stream, dpred, scratch, scratch + 1, pred, target, n),
                            "mean squared error"))
                            return NAN;
  return download_double (scratch, "mean squared error");
}

static void
cuda_batchnorm_forward (float *out, float *save_mean, float *save_invstd,
                        float *running_mean, float *running_var, const float *inp,
                        const float *gamma, const float *beta, int N, int C, int HW,
                        float eps, float momentum, gboolean train)
{
  LAUNCH ("batch normalisation",
          R->kernels->batchnorm_forward (cu.stream, out, save_mean, save_invstd, running_mean,
                                         running_var, inp, gamma, beta, N, C, HW, eps, momentum,
                                         train ? 1 : 0));
}

static void
cuda_batchnorm_backward (float *dinp, float *dgamma, float *dbeta, const float *dout,
                         const float *inp, const float *save_mean, const float *save_invstd,
                         const float *gamma, int N, int C, int HW, gboolean train)
{
  LAUNCH ("batch normalisation backward",
          R->kernels->batchnorm_backward (cu.stream, dinp, dgamma, dbeta, dout, inp, save_mean,
                                          save_invstd, gamma, N, C, HW, train ? 1 : 0));
}

static void
cuda_dropout_forward (float *out, float *mask, const float *inp, gsize n, float p,
                      guint64 seed)
{
  /* the scale computed as the CPU computes it */
  float scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
  LAUNCH ("dropout", R->kernels->dropout_forward (cu.stream, out, mask, inp, n, p, scale, seed));
}

static void
cuda_swap01 (float *dst, const float *src, int A, int B, int P)
{
  LAUNCH ("transpose", R->kernels->swap01 (cu.stream, dst, src, A, B, P));
}

static void
cuda_mul (float *out, const float *a, const float *b, gsize n)
{
  LAUNCH ("product", R->kernels->mul (cu.stream, out, a, b, n));
}

static void
cuda_add (float *out, const float *a, const float *b, gsize n)
{
  LAUNCH ("sum", R->kernels->add (cu.stream, out, a, b, n));
}

static void
cuda_axpy (float *y, float a, const float *x, gsize n)
{
  LAUNCH ("axpy", R->kernels->axpy (cu.stream, y, a, x, n));
}

static void
cuda_fill (float *x, float value, gsize n)
{
  if (failed () || n == 0)
    return;
  if (value == 0.0f && !signbit (value))
    ok (R->memset_async (x, 0, n * sizeof (float), cu.stream), "clearing memory");
  else
    ok (R->kernels->fill (cu.stream, x, value, n), "fill");
}

static void
cuda_copy (float *dst, const float *src, gsize n)
{
  gsize bytes = n * sizeof (float);

  if (failed () || n == 0 || dst == src)
    return;
  if (dst < src + n && src < dst + n)
    {
      /* Overlapping (memmove): through the scratch. */
      float *tmp = (float *) scratch_doubles ((bytes + sizeof (double) - 1) / sizeof (double));
      if (tmp != NULL
          && ok (R->memcpy_async (tmp, src, bytes, cudaMemcpyDeviceToDevice, cu.stream), "copy"))
        ok (R->memcpy_async (dst, tmp, bytes, cudaMemcpyDeviceToDevice, cu.stream), "copy");
      return;
    }
  ok (R->memcpy_async (dst, src, bytes, cudaMemcpyDeviceToDevice, cu.stream), "copy");
}

static void
cuda_sgd_update (float *param, const float *grad, float *buf, gsize n,
                 const CsOptimParams *hp, gint64 step)
{
  LAUNCH ("SGD step", R->kernels->sgd_update (cu.stream, param, grad, buf, n, hp->lr, hp->momentum,
                                              hp->dampening, hp->weight_decay, hp->nesterov ? 1 : 0,
                                              step == 1));
}

static void
cuda_adam_update (float *param, const float *grad, float *m, float *v, gsize n,
                  const CsOptimParams *hp, gint64 step)
{
  /* as _cs_ref_adam_update computes them */
  double bc1 = 1.0 - pow (hp->beta1, (double) step);
  double bc2 = 1.0 - pow (hp->beta2, (double) step);
  float step_size = (float) (hp->lr / bc1);
  float bc2_sqrt = (float) sqrt (bc2);

  LAUNCH ("Adam step", R->kernels->adam_update (cu.stream, param, grad, m, v, n, hp->beta1,
                                                hp->beta2, hp->eps, hp->weight_decay, step_size,
                                                bc2_sqrt));
}

static void
cuda_rmsprop_update (float *param, const float *grad, float *square_avg, float *buf, gsize n,
                     const CsOptimParams *hp, gint64 step)
{
  LAUNCH ("RMSprop step", R->kernels->rmsprop_update (cu.stream, param, grad, square_avg, buf, n,
                                                      hp->lr, hp->alpha, hp->eps, hp->weight_decay,
                                                      hp->momentum));
}

static const CsBackend cuda_backend;

/* The convolution: the batch unrolled by the im2col kernel, one cuBLAS
 * GEMM, the swap and bias kernels (backend.c composes them). */
static void
cuda_conv_forward (float *out, float *scratch, const float *inp, const float *weight,
                   const float *bias, int N, int C_out, const CsSlidingWindow *g)
{
  _cs_conv_forward_unrolled (&cuda_backend, out, scratch, inp, weight, bias, N, C_out, g);
}

static void
cuda_conv_backward (float *dinp, float *dweight, float *dbias, float *scratch,
                    const float *dout, const float *inp, const float *weight,
                    int N, int C_out, const CsSlidingWindow *g)
{
  _cs_conv_backward_unrolled (&cuda_backend, dinp, dweight, dbias, scratch, dout, inp, weight,
                              N, C_out, g);
}

static const CsBackend cuda_backend = {
  .name = "cuda",
  .device = CS_DEVICE_CUDA,
  .gemm = cuda_gemm,
  .im2col = cuda_im2col,
  .col2im = cuda_col2im,
  .conv_scratch = _cs_conv_scratch_unrolled,
  .conv_forward = cuda_conv_forward,
  .conv_backward = cuda_conv_backward,
  .bias_add = cuda_bias_add,
  .bias_grad = cuda_bias_grad,
  .pool_forward = cuda_pool_forward,
  .pool_backward = cuda_pool_backward,
  .act_forward = cuda_act_forward,
  .act_backward = cuda_act_backward,
  .softmax_forward = cuda_softmax_forward,
  .softmax_backward = cuda_softmax_backward,
  .cross_entropy = cuda_cross_entropy,
  .mse = cuda_mse,
  .batchnorm_forward = cuda_batchnorm_forward,
  .batchnorm_backward = cuda_batchnorm_backward,
  .dropout_forward = cuda_dropout_forward,
  .swap01 = cuda_swap01,
  .mul = cuda_mul,
  .add = cuda_add,
  .axpy = cuda_axpy,
  .fill = cuda_fill,
  .copy = cuda_copy,
  .sgd_update = cuda_sgd_update,
  .adam_update = cuda_adam_update,
  .rmsprop_update = cuda_rmsprop_update,
  .alloc = cuda_alloc,
  .free = cuda_free,
  .upload = cuda_upload,
  .download = cuda_download,
  .host_alloc = cuda_host_alloc,
  .host_free = cuda_host_free,
  .event_new = cuda_event_new,
  .event_free = cuda_event_free,
  .download_async = cuda_download_async,
  .event_query = cuda_event_query,
  .event_sync = cuda_event_sync,
  .check = cuda_check,
  .describe = cuda_describe,
};

/* ---------------------------------------------------------------------------
 * Setting up, once
 */

static const CsCudaKernels device_kernels = {
#define LAUNCHER(name, params) .name = cs_cuda_##name,
  CS_CUDA_KERNELS (LAUNCHER)
#undef LAUNCHER
};

/* The CUDA runtime itself; sgemm is cuBLAS's, once it is open. */
static CsCudaRuntime device_runtime = {
  .kernels = &device_kernels,
  .malloc = cudaMalloc,
  .free = cudaFree,
  .host_alloc = cudaHostAlloc,
  .host_free = cudaFreeHost,
  .memset_async = cudaMemsetAsync,
  .memcpy_async = cudaMemcpyAsync,
  .stream_synchronize = cudaStreamSynchronize,
  .stream_wait_event = cudaStreamWaitEvent,
  .event_create = cudaEventCreateWithFlags,
  .event_destroy = cudaEventDestroy,
  .event_record = cudaEventRecord,
  .event_query = cudaEventQuery,
  .event_synchronize = cudaEventSynchronize,
  .get_last_error = cudaGetLastError,
};

static char *
no_device (const char *what, cudaError_t e)
{
  const char *hint = e == cudaErrorInsufficientDriver
                     ? " (no NVIDIA driver, or one older than this CUDA runtime)" : "";
  return g_strdup_printf ("no CUDA device: %s%s%s%s", what ? what : "", what ? ": " : "",
                          cudaGetErrorString (e), hint);
}

/* NULL when cuBLAS is loaded, else why not. */
static char *
open_cublas (void)
{
  blas.lib = dlopen (CUBLAS_SONAME, RTLD_NOW | RTLD_LOCAL);
  if (blas.lib == NULL)
    return g_strdup_printf ("no CUDA device: cuBLAS: %s", dlerror ());

#define SYMBOL(field, name)                                                     \
  if ((*(void **) &blas.field = dlsym (blas.lib, G_STRINGIFY (name))) == NULL)  \
    return g_strdup_printf ("no CUDA device: cuBLAS: %s: no %s", CUBLAS_SONAME,  \
                            G_STRINGIFY (name));
  SYMBOL (create, cublasCreate);
  SYMBOL (destroy, cublasDestroy);
  SYMBOL (set_stream, cublasSetStream);
  SYMBOL (set_math_mode, cublasSetMathMode);
  SYMBOL (sgemm, cublasSgemm);
  SYMBOL (status_string, cublasGetStatusString);
#undef SYMBOL
  return NULL;
}

static void
teardown (void)
{
  if (cu.blas != NULL)
    blas.destroy (cu.blas);
  if (cu.copies != NULL)
    cudaStreamDestroy (cu.copies);
  if (cu.stream != NULL)
    cudaStreamDestroy (cu.stream);
  cudaFree (cu.scratch);
  cu.blas = NULL;
  cu.copies = cu.stream = NULL;
  cu.scratch = NULL;
  cu.scratch_bytes = 0;
  if (blas.lib != NULL)
    dlclose (blas.lib);
  memset (&blas, 0, sizeof blas);
}

/* NULL when the device is ready, else why not. */
static char *
setup (void)
{
  struct cudaDeviceProp prop;
  int count = 0;
  cudaError_t e;
  cublasStatus_t st;

  if ((e = cudaGetDeviceCount (&count)) != cudaSuccess)
    return no_device (NULL, e);
  if (count == 0)
    return g_strdup ("no CUDA device: the CUDA runtime sees no GPU");
  if ((e = cudaSetDevice (0)) != cudaSuccess
      || (e = cudaGetDeviceProperties (&prop, 0)) != cudaSuccess)
    return no_device ("device 0", e);

  if ((e = cudaStreamCreateWithFlags (&cu.stream, cudaStreamNonBlocking)) != cudaSuccess
      || (e = cudaStreamCreateWithFlags (&cu.copies, cudaStreamNonBlocking)) != cudaSuccess)
    {
      teardown ();
      return no_device (prop.name, e);
    }
  char *why = open_cublas ();
  if (why != NULL)
    {
      teardown ();
      return why;
    }
  if ((st = blas.create (&cu.blas)) != CUBLAS_STATUS_SUCCESS
      || (st = blas.set_stream (cu.blas, cu.stream)) != CUBLAS_STATUS_SUCCESS
      || (st = blas.set_math_mode (cu.blas, CUBLAS_DEFAULT_MATH)) != CUBLAS_STATUS_SUCCESS)
    {
      why = g_strdup_printf ("no CUDA device: %s: cuBLAS: %s", prop.name,
                             blas.status_string (st));
      teardown ();
      return why;
    }

  /* The kernels must run here: a GPU older than the architectures this
   * build carries (see core/gpu/meson.build) fails now, not mid-run. */
  if ((e = cudaMalloc ((void **) &cu.scratch, 4096)) != cudaSuccess
      || (e = cs_cuda_fill (cu.stream, (float *) cu.scratch, 1.0f, 1024)) != cudaSuccess
      || (e = cudaStreamSynchronize (cu.stream)) != cudaSuccess)
    {
      teardown ();
      g_autofree char *what = g_strdup_printf ("%s (compute capability %d.%d)", prop.name,
                                               prop.major, prop.minor);
      return no_device (what, e);
    }
  cu.scratch_bytes = 4096;

  device_runtime.sgemm = blas.sgemm;
  cu.rt = &device_runtime;
  cu.name = g_strdup_printf ("%s (compute capability %d.%d, %.0f GiB)", prop.name,
                             prop.major, prop.minor, prop.totalGlobalMem / 1073741824.0);
  return NULL;
}

const CsBackend *
cs_backend_cuda (GError **error)
{
  static gsize once;

  if (g_once_init_enter (&once))
    {
      cu.setup_error = setup ();
      g_once_init_leave (&once, 1);
    }
  if (cu.setup_error != NULL)
    {
      g_set_error_literal (error, CS_ERROR, CS_ERROR_UNSUPPORTED, cu.setup_error);
      return NULL;
    }
  return &cuda_backend;
}

const CsBackend *
_cs_backend_cuda_emulated (void)
{
  static gsize once;

  if (cs_backend_cuda (NULL) != NULL)
    return NULL;
  if (g_once_init_enter (&once))
    {
      cu.rt = &_cs_cuda_runtime_emulated;
      cu.name = g_strdup ("the CUDA backend's kernels emulated on the host (no GPU)");
      g_once_init_leave (&once, 1);
    }
  return &cuda_backend;
}
