/* cpu-avx512.h — the CPU backend's data-movement loops in AVX-512
 *
 * The loops of backend-cpu.c that a step of the SimpleCNN spends its time
 * in outside the GEMM (the convolution's columns, max pooling, ReLU, the
 * bias gradient, Adam), written with AVX-512F intrinsics. Each computes
 * exactly what the plain loop beside it in backend-cpu.c (or backend-ref.c)
 * computes, bit for bit — the same operations on each value in the same
 * order (the project builds as ISO C, so nothing is contracted into an
 * FMA) — except cs_avx512_plane_sums, which adds in double in another
 * order. test-backend runs both.
 *
 * They may only run where cs_gemm_avx512_available () says so (the same
 * answer: the CPU has AVX-512F and CONVSCOPE_NO_AVX512 is not set); the
 * file builds for any x86-64, and elsewhere to nothing (the stubs abort).
 *
 * Masked loads: a row's first lanes may lie before the row (the padding);
 * those lanes are masked off, so the memory is never read, but the vector's
 * address may point a few floats before the buffer.
 */
#pragma once

#include "backend.h"

G_BEGIN_DECLS

/* cols (C·kh·kw, OH·OW) with row stride ld from img (C, H, W): one image's
 * im2col. Only for g->sw == 1 and g->OW ≤ 1024. */
void cs_avx512_im2col        (float *cols, gsize ld, const float *img,
                              const CsSlidingWindow *g);
/* img (C, H, W) = the adjoint of im2col of cols (row stride ld): assigns
 * (no memset first), adding each pixel's contributions in the order
 * col2im accumulates them. Only for g->sh == g->sw == 1, g->kw ≤ 16 and
 * g->W ≤ 256. */
void cs_avx512_col2im        (float *img, const float *cols, gsize ld,
                              const CsSlidingWindow *g);
/* The common convolution whose output has the input's size (stride 1,
 * OH = H, OW = W: "same" padding, the SimpleCNN's): row (c, i, j) of the
 * columns is plane c shifted by (i·dh − ph)·W + j·dw − pw, less what falls
 * in the padding, so im2col is a masked copy of whole vectors and col2im
 * sums shifted whole vectors. The masks are worked out once per operation
 * (cs_avx512_same_init, FALSE where it does not apply or the tables would
 * not fit) and shared by all the images and threads. */
#define CS_AVX512_SAME_MASKS 2048
typedef struct
{
  int n_vec;                                  /* ⌈OH·OW / 16⌉ */
  int shift[64];                              /* per (i, j) */
  guint16 im2col_mask[CS_AVX512_SAME_MASKS];  /* (kh·kw, n_vec) */
  guint16 col2im_mask[CS_AVX512_SAME_MASKS];
} CsAvx512Same;

gboolean cs_avx512_same_init   (CsAvx512Same *same, const CsSlidingWindow *g);
void     cs_avx512_im2col_same (float *cols, gsize ld, const float *img,
                                const CsSlidingWindow *g, const CsAvx512Same *same);
void     cs_avx512_col2im_same (float *img, const float *cols, gsize ld,
                                const CsSlidingWindow *g, const CsAvx512Same *same);

/* The same two, transposed and tap-major, for the sparse backward: with the
 * image channels-last, img_t (P, C), a row of the columns is a copy of
 * whole rows of it,
 *   cols_t[p][ij·C + c] = img_t[p + shift[ij]][c]  (0 in the padding),
 * cols_t (P, kh·kw·C); and col2im sums whole rows,
 *   img_t[q][c] = Σ_ij cols_t[q − shift[ij]][ij·C + c],
 * over the (i, j) whose output is inside, i then j ascending (the order
 * of col2im). */
void     cs_avx512_im2col_same_t (float *cols_t, const float *img_t, const CsSlidingWindow *g,
                                  const CsAvx512Same *same);
void     cs_avx512_col2im_same_t (float *img_t, const float *cols_t, const CsSlidingWindow *g,
                                  const CsAvx512Same *same);

/* acc[c] += Σ_k x[c·P + k] for c < C, summed in double. */
void cs_avx512_plane_sums    (double *acc, const float *x, int C, int P);

/* C (M, N) = alpha · A (M, K) · Bᵀ + beta · C, B (N, K), row strides lda,
 * ldb, ldc, for N ≤ CS_AVX512_NARROW_N (C not read when beta is 0): the
 * GEMMs too narrow for the AVX-512 GEMM's 32-wide tiles, which OpenBLAS
 * did — the weight gradient of the first convolution (N = 1·3·3) and the
 * last linear layer's forward (N = 10). Dot products along K, 16 at a
 * time, two rows of A at once. */
#define CS_AVX512_NARROW_N 12
void cs_avx512_gemm_nt_narrow (float *C, int ldc, const float *A, int lda, const float *B,
                               int ldb, int M, int N, int K, float alpha, float beta);

/* dst (cols, rows) with row stride ldd = srcᵀ, src (rows, cols) with row
 * stride lds: 16 × 16 blocks through the registers. */
void cs_avx512_transpose (float *dst, gsize ldd, const float *src, gsize lds, int rows,
                          int cols);

/* How many of x[0 … n − 1] are not zero (NaN counts). */
gsize cs_avx512_count_nonzero (const float *x, gsize n);

/* out = inp > 0 ? inp : 0;  dinp = inp > 0 ? dout : 0 */
void cs_avx512_relu_forward  (float *out, const float *inp, gsize n);
void cs_avx512_relu_backward (float *dinp, const float *dout, const float *inp, gsize n);

/* One plane of MaxPool2d (2, stride 2, no padding): the winners and their
 * indices, and the adjoint (every input cell written), as backend-cpu.c's
 * maxpool_2x2 and maxpool_2x2_backward. */
void cs_avx512_maxpool_2x2          (float *out, gint32 *argmax, const float *x,
                                     const CsSlidingWindow *g);
void cs_avx512_maxpool_2x2_backward (float *dx, const float *dy, const gint32 *argmax,
                                     const CsSlidingWindow *g);

/* Adam over n values with the step's constants, as _cs_ref_adam_update. */
void cs_avx512_adam          (float *param, const float *grad, float *m, float *v, gsize n,
                              float beta1, float beta2, float eps, float weight_decay,
                              float step_size, float bc2_sqrt);

G_END_DECLS
