/* gemm-avx512.h — single-precision GEMM with AVX-512 kernels of our own
 *
 * OpenBLAS is held to its AVX2 (Haswell) kernels by OPENBLAS_CORETYPE, and
 * the CPUs we run on have full-width AVX-512 FMA units; this GEMM uses them.
 * It is one thread's GEMM: the CPU backend splits C over its thread pool and
 * calls it per block, from several threads at once (its packing buffers are
 * per thread). The caller dispatches: the kernels may only run where
 * cs_gemm_avx512_available () says so. The reference is _cs_ref_gemm in
 * backend-ref.c; test-gemm runs both.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* TRUE when the CPU (and the OS) has AVX-512F and the environment variable
 * CONVSCOPE_NO_AVX512 is not set (to anything), so that benchmarks and tests
 * can compare with the OpenBLAS path. Decided once per process. */
gboolean cs_gemm_avx512_available (void);

/* C (M, N) = alpha · op(A) · op(B) + beta · C, row-major, the semantics of
 * CsBackend.gemm: op(A) (M, K) is A (M, K) with row stride lda, or Aᵀ with
 * A (K, M); op(B) (K, N) is B (K, N) with row stride ldb, or Bᵀ with
 * B (N, K). beta == 0 means C is not read (whatever it holds, NaN included,
 * is overwritten); K == 0 or alpha == 0 scales C by beta without reading A
 * or B, as BLAS does. */
void     cs_gemm_avx512           (gboolean     trans_a,
                                   gboolean     trans_b,
                                   int          M,
                                   int          N,
                                   int          K,
                                   float        alpha,
                                   const float *A,
                                   int          lda,
                                   const float *B,
                                   int          ldb,
                                   float        beta,
                                   float       *C,
                                   int          ldc);

/* The same product for an op(A) that is mostly zeros — a gradient that
 * came back through max pooling and ReLU, where most of a convolution's
 * output has none: only A's nonzero entries are multiplied. Where op(B)
 * is finite the result is cs_gemm_avx512's bit for bit (each element of C
 * sums the same nonzero products in the same order; only the sign of a sum
 * that is exactly zero may differ). Faster when at most about a third of
 * op(A) is nonzero. */
void     cs_gemm_avx512_sparse_a    (gboolean     trans_a,
                                     gboolean     trans_b,
                                     int          M,
                                     int          N,
                                     int          K,
                                     float        alpha,
                                     const float *A,
                                     int          lda,
                                     const float *B,
                                     int          ldb,
                                     float        beta,
                                     float       *C,
                                     int          ldc);

/* op(A) packed once, for several products with the same A (a
 * convolution's weights, image after image): cs_gemm_avx512_pack () lays
 * op(A) (M, K) out in cs_gemm_avx512_packed_size (M, K) floats at packed
 * (64-byte aligned), as each call of cs_gemm_avx512 () would, and
 * cs_gemm_avx512_packed () computes
 *   C (M, N) = alpha · op(A) · op(B) + beta · C
 * from it, with the results of cs_gemm_avx512 () bit for bit. K > 0. */
gsize    cs_gemm_avx512_packed_size (int          M,
                                     int          K);
void     cs_gemm_avx512_pack        (float       *packed,
                                     gboolean     trans_a,
                                     int          M,
                                     int          K,
                                     const float *A,
                                     int          lda);
void     cs_gemm_avx512_packed      (const float *packed,
                                     gboolean     trans_b,
                                     int          M,
                                     int          N,
                                     int          K,
                                     float        alpha,
                                     const float *B,
                                     int          ldb,
                                     float        beta,
                                     float       *C,
                                     int          ldc);

G_END_DECLS
