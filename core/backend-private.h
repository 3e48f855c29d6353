/* backend-private.h — plain-loop operations shared by the backends
 *
 * The reference table is made of these. The CPU table uses them too where a
 * plain loop the compiler vectorises is already the fast path (element-wise
 * work, optimizer updates); it replaces them where it has a faster way
 * (GEMM through OpenBLAS, im2col/col2im with contiguous copies, work split
 * over threads).
 */
#pragma once

#include "backend.h"

G_BEGIN_DECLS

void   _cs_ref_gemm (gboolean trans_a, gboolean trans_b, int M, int N, int K,
                     float alpha, const float *A, int lda, const float *B, int ldb,
                     float beta, float *C, int ldc);
void   _cs_ref_im2col (float *cols, const float *img, int N, const CsSlidingWindow *g);
void   _cs_ref_col2im (float *img, const float *cols, int N, const CsSlidingWindow *g);
void   _cs_ref_bias_add (float *out, const float *bias, int N, int C, int HW);
void   _cs_ref_bias_grad (float *dbias, const float *dout, int N, int C, int HW);
void   _cs_ref_pool_forward (float *out, gint32 *argmax, const float *inp,
                             int planes, const CsSlidingWindow *g, CsPoolKind kind);
void   _cs_ref_pool_backward (float *dinp, const float *dout, const gint32 *argmax,
                              int planes, const CsSlidingWindow *g, CsPoolKind kind);
void   _cs_ref_act_forward (float *out, const float *inp, gsize n, CsActKind kind, float slope);
void   _cs_ref_act_backward (float *dinp, const float *dout, const float *inp,
                             const float *out, gsize n, CsActKind kind, float slope);
void   _cs_ref_softmax_forward (float *out, const float *inp, int N, int C);
void   _cs_ref_softmax_backward (float *dinp, const float *dout, const float *out, int N, int C);
double _cs_ref_cross_entropy (float *dlogits, float *probs, const float *logits,
                              const gint32 *labels, int N, int C);
double _cs_ref_mse (float *dpred, const float *pred, const float *target, gsize n);
void   _cs_ref_batchnorm_forward (float *out, float *save_mean, float *save_invstd,
                                  float *running_mean, float *running_var,
                                  const float *inp, const float *gamma, const float *beta,
                                  int N, int C, int HW, float eps, float momentum,
                                  gboolean train);
void   _cs_ref_batchnorm_backward (float *dinp, float *dgamma, float *dbeta,
                                   const float *dout, const float *inp,
                                   const float *save_mean, const float *save_invstd,
                                   const float *gamma, int N, int C, int HW,
                                   gboolean train);
void   _cs_ref_dropout_forward (float *out, float *mask, const float *inp, gsize n,
                                float p, guint64 seed);
void   _cs_ref_swap01 (float *dst, const float *src, int A, int B, int P);
void   _cs_ref_mul (float *out, const float *a, const float *b, gsize n);
void   _cs_ref_add (float *out, const float *a, const float *b, gsize n);
void   _cs_ref_axpy (float *y, float a, const float *x, gsize n);
void   _cs_ref_fill (float *x, float value, gsize n);
void   _cs_ref_copy (float *dst, const float *src, gsize n);
void   _cs_ref_sgd_update (float *param, const float *grad, float *buf, gsize n,
                           const CsOptimParams *hp, gint64 step);
void   _cs_ref_adam_update (float *param, const float *grad, float *m, float *v,
                            gsize n, const CsOptimParams *hp, gint64 step);
void   _cs_ref_rmsprop_update (float *param, const float *grad, float *square_avg,
                               float *buf, gsize n, const CsOptimParams *hp, gint64 step);

/* The convolution as the layer did it before the table had it: the whole
 * batch unrolled into columns, one GEMM, the (C_out, N) swap and the bias,
 * through be's own operations. The reference and CUDA tables use it. */
gsize  _cs_conv_scratch_unrolled (int N, int C_out, const CsSlidingWindow *g);
void   _cs_conv_forward_unrolled (const CsBackend *be, float *out, float *scratch,
                                  const float *inp, const float *weight, const float *bias,
                                  int N, int C_out, const CsSlidingWindow *g);
void   _cs_conv_backward_unrolled (const CsBackend *be, float *dinp, float *dweight,
                                   float *dbias, float *scratch, const float *dout,
                                   const float *inp, const float *weight,
                                   int N, int C_out, const CsSlidingWindow *g);

/* Memory, copies and events for the backends that work in host memory
 * (backend.c): aligned allocations, memcpy, events that are done at once. */
gpointer        _cs_host_alloc (gsize bytes);
void            _cs_host_free (gpointer p);
void            _cs_host_copy_in (gpointer dst, gconstpointer src, gsize bytes);
CsBackendEvent *_cs_host_event_new (void);
void            _cs_host_event_free (CsBackendEvent *ev);
void            _cs_host_download_async (gpointer dst, gconstpointer src, gsize bytes,
                                         CsBackendEvent *ev);
gboolean        _cs_host_event_query (CsBackendEvent *ev);
gboolean        _cs_host_event_sync (CsBackendEvent *ev, GError **error);
gboolean        _cs_host_check (GError **error);

#define CS_BACKEND_HOST_MEMORY \
  .alloc = _cs_host_alloc, \
  .free = _cs_host_free, \
  .upload = _cs_host_copy_in, \
  .download = _cs_host_copy_in, \
  .host_alloc = _cs_host_alloc, \
  .host_free = _cs_host_free, \
  .event_new = _cs_host_event_new, \
  .event_free = _cs_host_event_free, \
  .download_async = _cs_host_download_async, \
  .event_query = _cs_host_event_query, \
  .event_sync = _cs_host_event_sync, \
  .check = _cs_host_check

/* The table entries whose plain loop is the only implementation so far. */
#define CS_BACKEND_PLAIN_LOOPS \
  .bias_add = _cs_ref_bias_add, \
  .bias_grad = _cs_ref_bias_grad, \
  .pool_forward = _cs_ref_pool_forward, \
  .pool_backward = _cs_ref_pool_backward, \
  .act_forward = _cs_ref_act_forward, \
  .act_backward = _cs_ref_act_backward, \
  .softmax_forward = _cs_ref_softmax_forward, \
  .softmax_backward = _cs_ref_softmax_backward, \
  .cross_entropy = _cs_ref_cross_entropy, \
  .mse = _cs_ref_mse, \
  .batchnorm_forward = _cs_ref_batchnorm_forward, \
  .batchnorm_backward = _cs_ref_batchnorm_backward, \
  .dropout_forward = _cs_ref_dropout_forward, \
  .swap01 = _cs_ref_swap01, \
  .mul = _cs_ref_mul, \
  .add = _cs_ref_add, \
  .axpy = _cs_ref_axpy, \
  .fill = _cs_ref_fill, \
  .copy = _cs_ref_copy, \
  .sgd_update = _cs_ref_sgd_update, \
  .adam_update = _cs_ref_adam_update, \
  .rmsprop_update = _cs_ref_rmsprop_update

G_END_DECLS
