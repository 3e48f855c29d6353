/* cpu-avx512.c — the CPU backend's data-movement loops in AVX-512
 *
 * See cpu-avx512.h. Each function carries CS_AVX512 (a target attribute),
 * as gemm-avx512.c's do, so the file builds for any x86-64.
 */
#include "cpu-avx512.h"

#include <math.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)

#include "avx512-private.h"

/* lanes a … b − 1 of 16, for any a, b (clamped to 0 … 16) */
static inline __attribute__ ((always_inline)) __mmask16
lanes (int a, int b)
{
  a = CLAMP (a, 0, 16);
  b = CLAMP (b, 0, 16);
  if (b <= a)
    return 0;
  return (__mmask16) (((1u << b) - 1u) & ~((1u << a) - 1u));
}

/* The lanes m of the 16 floats at p, the others 0. A masked load that
 * straddles two cache lines is slow (twice the time of a plain load on
 * Zen 5, and most of im2col's time), so where all 16 floats lie in
 * [lo, hi), memory the caller may read, they are loaded whole and masked
 * in the register. */
static inline __attribute__ ((always_inline)) CS_AVX512 __m512
load_lanes (const float *p, __mmask16 m, const float *lo, const float *hi)
{
  guintptr a = (guintptr) p;
  if (a >= (guintptr) lo && a + 16 * sizeof (float) <= (guintptr) hi)
    {
      __m512 v = _mm512_loadu_ps (p);
      /* keeps GCC from folding the two back into a masked load */
      __asm__ ("" : "+v" (v));
      return _mm512_maskz_mov_ps (m, v);
    }
  return _mm512_maskz_loadu_ps (m, p);
}

static inline __attribute__ ((always_inline)) CS_AVX512 __m512i
load_lanes_epi32 (const gint32 *p, __mmask16 m, const gint32 *lo, const gint32 *hi)
{
  guintptr a = (guintptr) p;
  if (a >= (guintptr) lo && a + 16 * sizeof (gint32) <= (guintptr) hi)
    {
      __m512i v = _mm512_loadu_si512 (p);
      __asm__ ("" : "+v" (v));
      return _mm512_maskz_mov_epi32 (m, v);
    }
  return _mm512_maskz_loadu_epi32 (m, p);
}

/* Stores v at dst + at, lanes m of it, in a region [0, end) of dst that
 * the caller writes in increasing order of address. Masked stores are slow
 * (they were most of the time of im2col), so where the whole vector fits
 * in the region it is stored whole: the lanes past m land on values that
 * the caller writes afterwards. */
static inline __attribute__ ((always_inline)) CS_AVX512 void
store_ahead (float *dst, gsize at, gsize end, __mmask16 m, __m512 v)
{
  if (at + 16 <= end)
    _mm512_storeu_ps (dst + at, v);
  else
    _mm512_mask_storeu_ps (dst + at, m, v);
}

static inline __attribute__ ((always_inline)) CS_AVX512 void
store_ahead_epi32 (gint32 *dst, gsize at, gsize end, __mmask16 m, __m512i v)
{
  if (at + 16 <= end)
    _mm512_storeu_si512 (dst + at, v);
  else
    _mm512_mask_storeu_epi32 (dst + at, m, v);
}

/* ---------------------------------------------------------------------------
 * The convolution's columns
 */

/* Row (c, i, j) of the columns, the region [0, OH·OW) of row, when
 * OW ≤ 16: one vector per output row, the masks in registers. */
static inline __attribute__ ((always_inline)) CS_AVX512 void
im2col_row_narrow (float *row, const float *plane, const float *img, const float *img_end,
                   int off, int i, const CsSlidingWindow *g)
{
  const int OW = g->OW, OH = g->OH, W = g->W;
  const gsize P = (gsize) OH * OW;
  const __mmask16 out = lanes (0, OW), in = lanes (-off, W - off) & out;
  const __m512 zero = _mm512_setzero_ps ();
  /* the output rows whose input row ih = oh·sh − ph + i·dh is inside */
  int first = i * g->dh - g->ph, lo = 0, hi = OH;
  while (lo < OH && first + lo * g->sh < 0)
    lo++;
  while (hi > lo && first + (hi - 1) * g->sh >= g->H)
    hi--;
  /* whole-vector stores while the vector ends inside the row */
  int whole = P >= 16 ? (int) ((P - 16) / OW) + 1 : 0;

  for (int oh = 0; oh < OH; oh++)
    {
      __m512 v = zero;
      if (oh >= lo && oh < hi)
        v = load_lanes (plane + (gsize) (first + oh * g->sh) * W + off, in, img, img_end);
      if (oh < whole)
        _mm512_storeu_ps (row + (gsize) oh * OW, v);
      else
        _mm512_mask_storeu_ps (row + (gsize) oh * OW, out, v);
    }
}

void CS_AVX512
cs_avx512_im2col (float *cols, gsize ld, const float *img, const CsSlidingWindow *g)
{
  const int OW = g->OW, OH = g->OH, W = g->W, H = g->H;
  const gsize P = (gsize) OH * OW;
  const float *img_end = img + (gsize) g->C * H * W;
  const __m512 zero = _mm512_setzero_ps ();
  /* the lanes of each group of 16 output columns that exist, and of those
   * the ones whose input column is inside (per j; up to 64 groups here) */
  enum { MAX_GROUPS = 64 };
  __mmask16 out_lanes[MAX_GROUPS], in_lanes[MAX_GROUPS];
  int groups = (OW + 15) / 16;

  g_assert (g->sw == 1 && groups <= MAX_GROUPS);
  for (int k = 0; k < groups; k++)
    out_lanes[k] = lanes (0, OW - 16 * k);
  for (int c = 0; c < g->C; c++)
    for (int i = 0; i < g->kh; i++)
      for (int j = 0; j < g->kw; j++)
        {
          float *row = cols + (gsize) ((c * g->kh + i) * g->kw + j) * ld;
          const float *plane = img + (gsize) c * H * W;
          /* output column ow reads input column ow + off, inside when
           * 0 ≤ ow + off < W */
          int off = j * g->dw - g->pw;
          if (groups == 1)
            {
              im2col_row_narrow (row, plane, img, img_end, off, i, g);
              continue;
            }
          for (int k = 0; k < groups; k++)
            in_lanes[k] = lanes (-off - 16 * k, W - off - 16 * k) & out_lanes[k];
          /* row (c, i, j) is the region [0, P) of row, written in order */
          for (int oh = 0; oh < OH; oh++)
            {
              gsize at = (gsize) oh * OW;
              int ih = oh * g->sh - g->ph + i * g->dh;
              if (ih < 0 || ih >= H)
                {
                  for (int k = 0; k < groups; k++)
                    store_ahead (row, at + 16 * k, P, out_lanes[k], zero);
                  continue;
                }
              const float *src = plane + (gsize) ih * W + off;
              for (int k = 0; k < groups; k++)
                store_ahead (row, at + 16 * k, P, out_lanes[k],
                             load_lanes (src + 16 * k, in_lanes[k], img, img_end));
            }
        }
}

void CS_AVX512
cs_avx512_col2im (float *img, const float *cols, gsize ld, const CsSlidingWindow *g)
{
  const int OW = g->OW, OH = g->OH, W = g->W, H = g->H;
  const gsize end = (gsize) g->C * H * W;
  const float *cols_end = cols + (gsize) (g->C * g->kh * g->kw - 1) * ld + (gsize) OH * OW;
  /* per j and group of 16 columns, the lanes w whose ow = w + off_j is
   * inside the output (and w < W) */
  enum { MAX_KW = 16, MAX_GROUPS = 16 };
  __mmask16 in[MAX_KW][MAX_GROUPS];
  int groups = (W + 15) / 16;

  g_assert (g->sh == 1 && g->sw == 1 && g->kw <= MAX_KW && groups <= MAX_GROUPS);
  for (int j = 0; j < g->kw; j++)
    for (int k = 0; k < groups; k++)
      {
        int off = g->pw - j * g->dw, w0 = 16 * k;
        in[j][k] = lanes (-off - w0, OW - off - w0) & lanes (0, W - w0);
      }

  /* img[c, h, w] = Σ_{i, j} cols[(c, i, j), (oh, ow)] over the (i, j) whose
   * oh = h + ph − i·dh, ow = w + pw − j·dw fall inside the output, i then
   * j ascending: the order in which col2im adds them. A lane outside adds
   * +0, which changes no sum (the sum starts at +0 and never becomes −0).
   * img is written in order of address. */
  for (int c = 0; c < g->C; c++)
    for (int h = 0; h < H; h++)
      for (int k = 0; k < groups; k++)
        {
          int w0 = 16 * k;
          __m512 acc = _mm512_setzero_ps ();
          for (int i = 0; i < g->kh; i++)
            {
              int oh = h + g->ph - i * g->dh;
              if (oh < 0 || oh >= OH)
                continue;
              const float *src = cols + (gsize) (c * g->kh + i) * g->kw * ld
                                 + (gsize) oh * OW + g->pw + w0;
              for (int j = 0; j < g->kw; j++)
                acc = _mm512_add_ps (acc, load_lanes (src + j * (ld - g->dw), in[j][k],
                                                      cols, cols_end));
            }
          store_ahead (img, ((gsize) c * H + h) * W + w0, end, lanes (0, W - w0), acc);
        }
}

/* The lanes of the 16 positions from `first` of a plane W wide whose
 * column lies in [a, b). */
static __mmask16
column_lanes (gsize first, int W, int a, int b)
{
  __mmask16 m = 0;
  int l = 0, c = (int) (first % W);
  while (l < 16)
    {
      int run = MIN (16 - l, W - c);  /* lanes l … l + run − 1: columns c … */
      m |= lanes (l + a - c, l + b - c) & lanes (l, l + run);
      l += run;
      c = 0;
    }
  return m;
}

gboolean
cs_avx512_same_init (CsAvx512Same *same, const CsSlidingWindow *g)
{
  const int H = g->H, W = g->W, KK = g->kh * g->kw;
  const gsize P = (gsize) H * W;

  if (g->sh != 1 || g->sw != 1 || g->OH != H || g->OW != W || KK > 64)
    return FALSE;
  same->n_vec = (int) ((P + 15) / 16);
  if ((gsize) KK * same->n_vec > CS_AVX512_SAME_MASKS)
    return FALSE;
  for (int j = 0; j < g->kw; j++)
    {
      /* output (oh, ow) reads input (oh + di, ow + dj); first the column
       * masks of each j, in the i = 0 rows of the tables */
      int dj = j * g->dw - g->pw;
      for (int k = 0; k < same->n_vec; k++)
        {
          /* im2col: output positions whose input is inside; col2im: input
           * positions whose output is */
          same->im2col_mask[j * same->n_vec + k] = column_lanes (16 * (gsize) k, W, -dj, W - dj);
          same->col2im_mask[j * same->n_vec + k] = column_lanes (16 * (gsize) k, W, dj, W + dj);
        }
    }
  for (int i = g->kh - 1; i >= 0; i--)
    for (int j = 0; j < g->kw; j++)
      {
        int di = i * g->dh - g->ph, dj = j * g->dw - g->pw, ij = i * g->kw + j;
        same->shift[ij] = di * W + dj;
        for (int k = 0; k < same->n_vec; k++)
          {
            int f = 16 * k;
            same->im2col_mask[ij * same->n_vec + k] =
              same->im2col_mask[j * same->n_vec + k]
              & lanes (-di * W - f, (H - di) * W - f) & lanes (0, (int) P - f);
            same->col2im_mask[ij * same->n_vec + k] =
              same->col2im_mask[j * same->n_vec + k]
              & lanes (di * W - f, (H + di) * W - f) & lanes (0, (int) P - f);
          }
      }
  return TRUE;
}

void CS_AVX512
cs_avx512_im2col_same (float *cols, gsize ld, const float *img, const CsSlidingWindow *g,
                       const CsAvx512Same *same)
{
  const int KK = g->kh * g->kw, n_vec = same->n_vec;
  const gsize P = (gsize) g->H * g->W;
  const float *img_end = img + g->C * P;
  const __mmask16 tail = lanes (0, (int) (P - 16 * (n_vec - 1)));

  for (int c = 0; c < g->C; c++)
    for (int ij = 0; ij < KK; ij++)
      {
        float *row = cols + (gsize) (c * KK + ij) * ld;
        const float *src = img + c * P + same->shift[ij];
        const guint16 *m = same->im2col_mask + ij * n_vec;
        int k = 0;
        for (; k < n_vec - 1; k++)
          _mm512_storeu_ps (row + 16 * k, load_lanes (src + 16 * k, m[k], img, img_end));
        _mm512_mask_storeu_ps (row + 16 * k, tail, load_lanes (src + 16 * k, m[k], img, img_end));
      }
}

void CS_AVX512
cs_avx512_col2im_same (float *img, const float *cols, gsize ld, const CsSlidingWindow *g,
                       const CsAvx512Same *same)
{
  const int KK = g->kh * g->kw, n_vec = same->n_vec;
  const gsize P = (gsize) g->H * g->W;
  const float *cols_end = cols + (gsize) (g->C * KK - 1) * ld + P;
  const __mmask16 tail = lanes (0, (int) (P - 16 * (n_vec - 1)));

  /* img[c, p] = Σ_{i, j} cols[(c, i, j), p − shift], i then j ascending, as
   * in cs_avx512_col2im */
  for (int c = 0; c < g->C; c++)
    {
      const float *rows = cols + (gsize) c * KK * ld;
      float *dst = img + c * P;
      for (int k = 0; k < n_vec; k++)
        {
          __m512 acc = _mm512_setzero_ps ();
          for (int ij = 0; ij < KK; ij++)
            acc = _mm512_add_ps (acc, load_lanes (rows + ij * ld + 16 * k - same->shift[ij],
                                                  same->col2im_mask[ij * n_vec + k],
                                                  cols, cols_end));
          if (k < n_vec - 1)
            _mm512_storeu_ps (dst + 16 * k, acc);
          else
            _mm512_mask_storeu_ps (dst + 16 * k, tail, acc);
        }
    }
}

/* bit p of a row of masks */
static inline gboolean
mask_bit (const guint16 *masks, int p)
{
  return (masks[p / 16] >> (p % 16)) & 1;
}

void CS_AVX512
cs_avx512_im2col_same_t (float *cols_t, const float *img_t, const CsSlidingWindow *g,
                         const CsAvx512Same *same)
{
  const int C = g->C, KK = g->kh * g->kw, P = g->H * g->W;
  const __m512 zero = _mm512_setzero_ps ();
  const __mmask16 tail = lanes (0, C % 16 == 0 ? 16 : C % 16);

  for (int p = 0; p < P; p++)
    {
      float *row = cols_t + (gsize) p * KK * C;
      for (int ij = 0; ij < KK; ij++)
        {
          float *dst = row + ij * C;
          if (!mask_bit (same->im2col_mask + ij * same->n_vec, p))
            {
              for (int c = 0; c < C; c += 16)
                _mm512_mask_storeu_ps (dst + c, c + 16 <= C ? 0xffff : tail, zero);
              continue;
            }
          const float *src = img_t + (gsize) (p + same->shift[ij]) * C;
          int c = 0;
          for (; c + 16 <= C; c += 16)
            _mm512_storeu_ps (dst + c, _mm512_loadu_ps (src + c));
          if (c < C)
            _mm512_mask_storeu_ps (dst + c, tail, _mm512_maskz_loadu_ps (tail, src + c));
        }
    }
}

void CS_AVX512
cs_avx512_col2im_same_t (float *img_t, const float *cols_t, const CsSlidingWindow *g,
                         const CsAvx512Same *same)
{
  const int C = g->C, KK = g->kh * g->kw, P = g->H * g->W;
  const __mmask16 tail = lanes (0, C % 16 == 0 ? 16 : C % 16);

  for (int q = 0; q < P; q++)
    for (int c = 0; c < C; c += 16)
      {
        __mmask16 m = c + 16 <= C ? 0xffff : tail;
        __m512 acc = _mm512_setzero_ps ();
        for (int ij = 0; ij < KK; ij++)
          if (mask_bit (same->col2im_mask + ij * same->n_vec, q))
            acc = _mm512_add_ps (acc, _mm512_maskz_loadu_ps (
                                   m, cols_t + (gsize) (q - same->shift[ij]) * KK * C
                                      + ij * C + c));
        _mm512_mask_storeu_ps (img_t + (gsize) q * C + c, m, acc);
      }
}

void CS_AVX512
cs_avx512_plane_sums (double *acc, const float *x, int C, int P)
{
  for (int c = 0; c < C; c++)
    {
      const float *row = x + (gsize) c * P;
      __m512d s0 = _mm512_setzero_pd (), s1 = _mm512_setzero_pd ();
      for (int k = 0; k < P; k += 16)
        {
          __m512 v = k + 16 <= P ? _mm512_loadu_ps (row + k)
                                 : _mm512_maskz_loadu_ps (lanes (0, P - k), row + k);
          s0 = _mm512_add_pd (s0, _mm512_cvtps_pd (_mm512_castps512_ps256 (v)));
          s1 = _mm512_add_pd (s1, _mm512_cvtps_pd (_mm256_castpd_ps (
                 _mm512_extractf64x4_pd (_mm512_castps_pd (v), 1))));
        }
      acc[c] += _mm512_reduce_add_pd (_mm512_add_pd (s0, s1));
    }
}

/* ---------------------------------------------------------------------------
 * The narrow C = A · Bᵀ
 */

/* A block of up to 4 rows of A by up to 4 rows of B: 16 accumulators, and
 * 8 row pointers, which stay in registers (a 2 × 12 block spilled them). */
static inline __attribute__ ((always_inline)) CS_AVX512 void
gemm_nt_narrow_block (float *C, int ldc, const float *A, int lda, const float *B, int ldb,
                      int rows, int cols, int K, float alpha, float beta)
{
  __m512 acc[4][4];
  const float *a[4], *b[4];
  const __mmask16 tail = lanes (0, K % 16);
  int k = 0;

#pragma GCC unroll 4
  for (int r = 0; r < 4; r++)
    {
      a[r] = A + (gsize) MIN (r, rows - 1) * lda;  /* rows past the last repeat it */
      b[r] = B + (gsize) MIN (r, cols - 1) * ldb;
#pragma GCC unroll 4
      for (int n = 0; n < 4; n++)
        acc[r][n] = _mm512_setzero_ps ();
    }
  for (; k + 16 <= K; k += 16)
    {
      __m512 av[4], bv[4];
#pragma GCC unroll 4
      for (int r = 0; r < 4; r++)
        {
          av[r] = _mm512_loadu_ps (a[r] + k);
          bv[r] = _mm512_loadu_ps (b[r] + k);
        }
#pragma GCC unroll 4
      for (int r = 0; r < 4; r++)
#pragma GCC unroll 4
        for (int n = 0; n < 4; n++)
          acc[r][n] = _mm512_fmadd_ps (av[r], bv[n], acc[r][n]);
    }
  if (k < K)
    {
      __m512 av[4], bv[4];
#pragma GCC unroll 4
      for (int r = 0; r < 4; r++)
        {
          av[r] = _mm512_maskz_loadu_ps (tail, a[r] + k);
          bv[r] = _mm512_maskz_loadu_ps (tail, b[r] + k);
        }
#pragma GCC unroll 4
      for (int r = 0; r < 4; r++)
#pragma GCC unroll 4
        for (int n = 0; n < 4; n++)
          acc[r][n] = _mm512_fmadd_ps (av[r], bv[n], acc[r][n]);
    }
  for (int r = 0; r < rows; r++)
    for (int n = 0; n < cols; n++)
      {
        float v = alpha * _mm512_reduce_add_ps (acc[r][n]);
        float *c = C + (gsize) r * ldc + n;
        *c = beta == 0.0f ? v : v + beta * *c;
      }
}

void CS_AVX512
cs_avx512_gemm_nt_narrow (float *C, int ldc, const float *A, int lda, const float *B, int ldb,
                          int M, int N, int K, float alpha, float beta)
{
  g_assert (N <= CS_AVX512_NARROW_N);
  for (int m = 0; m < M; m += 4)
    for (int n = 0; n < N; n += 4)
      gemm_nt_narrow_block (C + (gsize) m * ldc + n, ldc, A + (gsize) m * lda, lda,
                            B + (gsize) n * ldb, ldb, MIN (4, M - m), MIN (4, N - n), K,
                            alpha, beta);
}

/* ---------------------------------------------------------------------------
 * Transposes and counts
 */

void CS_AVX512
cs_avx512_transpose (float *dst, gsize ldd, const float *src, gsize lds, int rows, int cols)
{
  for (int r0 = 0; r0 < rows; r0 += 16)
    for (int c0 = 0; c0 < cols; c0 += 16)
      {
        int nr = MIN (16, rows - r0), nc = MIN (16, cols - c0);
        __mmask16 in = lanes (0, nc), out = lanes (0, nr);
        __m512 v[16];
#pragma GCC unroll 16
        for (int i = 0; i < 16; i++)
          v[i] = i < nr ? _mm512_maskz_loadu_ps (in, src + (gsize) (r0 + i) * lds + c0)
                        : _mm512_setzero_ps ();
        cs_avx512_transpose_16x16 (v);
        for (int i = 0; i < nc; i++)
          {
            float *d = dst + (gsize) (c0 + i) * ldd + r0;
            if (nr == 16)
              _mm512_storeu_ps (d, v[i]);
            else
              _mm512_mask_storeu_ps (d, out, v[i]);
          }
      }
}

gsize CS_AVX512
cs_avx512_count_nonzero (const float *x, gsize n)
{
  gsize count = 0, i = 0;
  const __m512 zero = _mm512_setzero_ps ();
  for (; i + 16 <= n; i += 16)
    count += __builtin_popcount (_mm512_cmp_ps_mask (_mm512_loadu_ps (x + i), zero,
                                                     _CMP_NEQ_UQ));
  if (i < n)
    {
      __mmask16 m = lanes (0, (int) (n - i));
      count += __builtin_popcount (_mm512_mask_cmp_ps_mask (m, _mm512_maskz_loadu_ps (m, x + i),
                                                            zero, _CMP_NEQ_UQ));
    }
  return count;
}

/* ---------------------------------------------------------------------------
 * ReLU. max (x, 0) returns its second operand, +0, when x is NaN or ±0:
 * what x > 0 ? x : 0 gives.
 */

void CS_AVX512
cs_avx512_relu_forward (float *out, const float *inp, gsize n)
{
  const __m512 zero = _mm512_setzero_ps ();
  gsize i = 0;
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps (out + i, _mm512_max_ps (_mm512_loadu_ps (inp + i), zero));
  if (i < n)
    {
      __mmask16 m = lanes (0, (int) (n - i));
      _mm512_mask_storeu_ps (out + i, m, _mm512_max_ps (_mm512_maskz_loadu_ps (m, inp + i), zero));
    }
}

void CS_AVX512
cs_avx512_relu_backward (float *dinp, const float *dout, const float *inp, gsize n)
{
  const __m512 zero = _mm512_setzero_ps ();
  gsize i = 0;
  for (; i + 16 <= n; i += 16)
    {
      __mmask16 pos = _mm512_cmp_ps_mask (_mm512_loadu_ps (inp + i), zero, _CMP_GT_OQ);
      _mm512_storeu_ps (dinp + i, _mm512_maskz_mov_ps (pos, _mm512_loadu_ps (dout + i)));
    }
  if (i < n)
    {
      __mmask16 m = lanes (0, (int) (n - i));
      __mmask16 pos = _mm512_mask_cmp_ps_mask (m, _mm512_maskz_loadu_ps (m, inp + i), zero,
                                               _CMP_GT_OQ);
      _mm512_mask_storeu_ps (dinp + i, m, _mm512_maskz_loadu_ps (pos, dout + i));
    }
}

/* ---------------------------------------------------------------------------
 * MaxPool2d (2, 2): 16 windows at a time. The two rows of a window are
 * loaded 32 values each and split into even and odd columns; the winner is
 * chosen as maxpool_2x2 chooses it, with the same comparisons. A group with
 * a NaN (or +inf beside −inf) goes through the scalar rule.
 */

static inline void
consider (float v, gint32 at, float *best, gint32 *best_at)
{
  if (isnan (*best))
    return;
  if (v > *best || isnan (v))
    {
      *best = v;
      *best_at = at;
    }
}

void CS_AVX512
cs_avx512_maxpool_2x2 (float *out, gint32 *argmax, const float *x, const CsSlidingWindow *g)
{
  const int W = g->W, OW = g->OW;
  const __m512i even = _mm512_setr_epi32 (0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
                                          28, 30);
  const __m512i odd = _mm512_add_epi32 (even, _mm512_set1_epi32 (1));
  const gsize plane = (gsize) g->OH * OW;
  const float *x_end = x + (gsize) g->H * W;

  for (int oh = 0; oh < g->OH; oh++)
    {
      const float *r0 = x + (gsize) (2 * oh) * W, *r1 = r0 + W;
      float *o = out + (gsize) oh * OW;
      gint32 *am = argmax + (gsize) oh * OW;
      for (int w0 = 0; w0 < OW; w0 += 16)
        {
          int n = MIN (16, OW - w0);
          __mmask16 m = lanes (0, n), lo = lanes (0, 2 * n), hi = lanes (0, 2 * n - 16);
          const float *p0 = r0 + 2 * w0, *p1 = r1 + 2 * w0;
          __m512 x0 = load_lanes (p0, lo, x, x_end), x1 = load_lanes (p0 + 16, hi, x, x_end);
          __m512 y0 = load_lanes (p1, lo, x, x_end), y1 = load_lanes (p1 + 16, hi, x, x_end);
          __m512 a = _mm512_permutex2var_ps (x0, even, x1);
          __m512 b = _mm512_permutex2var_ps (x0, odd, x1);
          __m512 c = _mm512_permutex2var_ps (y0, even, y1);
          __m512 d = _mm512_permutex2var_ps (y0, odd, y1);
          __m512 s = _mm512_add_ps (_mm512_add_ps (_mm512_add_ps (a, b), c), d);
          if (G_UNLIKELY (_mm512_mask_cmp_ps_mask (m, s, s, _CMP_UNORD_Q) != 0))
            {
              for (int ow = w0; ow < w0 + n; ow++)
                {
                  int w = 2 * ow, at0 = 2 * oh * W + w;
                  float best = r0[w];
                  gint32 at = at0;
                  consider (r0[w + 1], at0 + 1, &best, &at);
                  consider (r1[w], at0 + W, &best, &at);
                  consider (r1[w + 1], at0 + W + 1, &best, &at);
                  o[ow] = best;
                  am[ow] = at;
                }
              continue;
            }
          /* at0 = 2·oh·W + 2·ow (even holds 2·lane) */
          __m512i at0 = _mm512_add_epi32 (_mm512_set1_epi32 (2 * oh * W + 2 * w0), even);
          __m512 best = a;
          __m512i at = at0;
          __mmask16 k = _mm512_cmp_ps_mask (b, best, _CMP_GT_OQ);
          at = _mm512_mask_add_epi32 (at, k, at0, _mm512_set1_epi32 (1));
          best = _mm512_mask_mov_ps (best, k, b);
          k = _mm512_cmp_ps_mask (c, best, _CMP_GT_OQ);
          at = _mm512_mask_add_epi32 (at, k, at0, _mm512_set1_epi32 (W));
          best = _mm512_mask_mov_ps (best, k, c);
          k = _mm512_cmp_ps_mask (d, best, _CMP_GT_OQ);
          at = _mm512_mask_add_epi32 (at, k, at0, _mm512_set1_epi32 (W + 1));
          best = _mm512_mask_mov_ps (best, k, d);
          store_ahead (out, (gsize) oh * OW + w0, plane, m, best);
          store_ahead_epi32 (argmax, (gsize) oh * OW + w0, plane, m, at);
        }
    }
}

void CS_AVX512
cs_avx512_maxpool_2x2_backward (float *dx, const float *dy, const gint32 *argmax,
                                const CsSlidingWindow *g)
{
  const int W = g->W, H = g->H, OH = g->OH, OW = g->OW;
  /* interleave e (even columns) and o (odd): lanes 0–15 and 16–31 */
  const __m512i mix_lo = _mm512_setr_epi32 (0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22,
                                            7, 23);
  const __m512i mix_hi = _mm512_setr_epi32 (8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14,
                                            30, 15, 31);
  const __m512i lane2 = _mm512_setr_epi32 (0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
                                           28, 30);

  const gsize plane = (gsize) H * W;
  const float *dy_end = dy + (gsize) OH * OW;
  const gint32 *argmax_end = argmax + (gsize) OH * OW;

  if (OW <= 16)
    {
      /* one group of windows per pair of rows: both rows from one load */
      const __mmask16 m = lanes (0, OW), lo = lanes (0, 2 * OW), hi = lanes (0, 2 * OW - 16);
      const __m512i one = _mm512_set1_epi32 (1), w_ = _mm512_set1_epi32 (W);
      const __m512i w1 = _mm512_set1_epi32 (W + 1);
      for (int oh = 0; oh < OH; oh++)
        {
          gsize r0 = (gsize) (2 * oh) * W, r1 = r0 + W;
          __m512 v = load_lanes (dy + (gsize) oh * OW, m, dy, dy_end);
          __m512i at = _mm512_sub_epi32 (load_lanes_epi32 (argmax + (gsize) oh * OW, m, argmax,
                                                           argmax_end),
                                         _mm512_add_epi32 (_mm512_set1_epi32 (2 * oh * W), lane2));
          __m512 e0 = _mm512_maskz_mov_ps (_mm512_cmpeq_epi32_mask (at, _mm512_setzero_si512 ()), v);
          __m512 o0 = _mm512_maskz_mov_ps (_mm512_cmpeq_epi32_mask (at, one), v);
          __m512 e1 = _mm512_maskz_mov_ps (_mm512_cmpeq_epi32_mask (at, w_), v);
          __m512 o1 = _mm512_maskz_mov_ps (_mm512_cmpeq_epi32_mask (at, w1), v);
          /* row 2·oh, then row 2·oh + 1: in order of address */
          store_ahead (dx, r0, plane, lo, _mm512_permutex2var_ps (e0, mix_lo, o0));
          if (OW > 8)
            store_ahead (dx, r0 + 16, plane, hi, _mm512_permutex2var_ps (e0, mix_hi, o0));
          store_ahead (dx, r1, plane, lo, _mm512_permutex2var_ps (e1, mix_lo, o1));
          if (OW > 8)
            store_ahead (dx, r1 + 16, plane, hi, _mm512_permutex2var_ps (e1, mix_hi, o1));
          for (int w = 2 * OW; w < W; w++)
            dx[r0 + w] = dx[r1 + w] = 0.0f;
        }
      for (int h = 2 * OH; h < H; h++)
        memset (dx + (gsize) h * W, 0, sizeof (float) * W);
      return;
    }

  /* rows 2·oh (r = 0) and 2·oh + 1 (r = 1) one after the other, each in
   * order of address, so that store_ahead may run into what comes next */
  for (int oh = 0; oh < OH; oh++)
    for (int r = 0; r < 2; r++)
      {
        gsize row = (gsize) (2 * oh + r) * W;
        const float *y = dy + (gsize) oh * OW;
        const gint32 *am = argmax + (gsize) oh * OW;
        /* the winner's offset in its window for the even and odd column */
        const __m512i want_e = _mm512_set1_epi32 (r * W), want_o = _mm512_set1_epi32 (r * W + 1);
        for (int w0 = 0; w0 < OW; w0 += 16)
          {
            int n = MIN (16, OW - w0);
            __mmask16 m = lanes (0, n);
            __m512 v = load_lanes (y + w0, m, dy, dy_end);
            /* at − (2·oh·W + 2·ow): 0, 1, W or W + 1 */
            __m512i at = _mm512_sub_epi32 (load_lanes_epi32 (am + w0, m, argmax, argmax_end),
                                           _mm512_add_epi32 (_mm512_set1_epi32 (2 * oh * W + 2 * w0),
                                                             lane2));
            __m512 e = _mm512_maskz_mov_ps (_mm512_cmpeq_epi32_mask (at, want_e), v);
            __m512 o = _mm512_maskz_mov_ps (_mm512_cmpeq_epi32_mask (at, want_o), v);
            store_ahead (dx, row + 2 * w0, plane, lanes (0, 2 * n),
                         _mm512_permutex2var_ps (e, mix_lo, o));
            if (n > 8)
              store_ahead (dx, row + 2 * w0 + 16, plane, lanes (0, 2 * n - 16),
                           _mm512_permutex2var_ps (e, mix_hi, o));
          }
        for (int w = 2 * OW; w < W; w++)
          dx[row + w] = 0.0f;
      }
  for (int h = 2 * OH; h < H; h++)
    memset (dx + (gsize) h * W, 0, sizeof (float) * W);
}

/* ---------------------------------------------------------------------------
 * Adam: the reference's expression, operation for operation:
 *   g = grad + wd·p;  m = β₁m + (1−β₁)g;  v = β₂v + ((1−β₂)g)g;
 *   p = p − (step_size·m) / (√v / bc2_sqrt + ε)
 */

void CS_AVX512
cs_avx512_adam (float *param, const float *grad, float *m, float *v, gsize n,
                float beta1, float beta2, float eps, float weight_decay,
                float step_size, float bc2_sqrt)
{
  const __m512 b1 = _mm512_set1_ps (beta1), b2 = _mm512_set1_ps (beta2);
  const __m512 c1 = _mm512_set1_ps (1.0f - beta1), c2 = _mm512_set1_ps (1.0f - beta2);
  const __m512 e = _mm512_set1_ps (eps), wd = _mm512_set1_ps (weight_decay);
  const __m512 ss = _mm512_set1_ps (step_size), bc = _mm512_set1_ps (bc2_sqrt);

  for (gsize i = 0; i < n; i += 16)
    {
      __mmask16 k = n - i >= 16 ? 0xffff : lanes (0, (int) (n - i));
      __m512 p = load_lanes (param + i, k, param, param + n);
      __m512 g = _mm512_add_ps (load_lanes (grad + i, k, grad, grad + n), _mm512_mul_ps (wd, p));
      __m512 mi = _mm512_add_ps (_mm512_mul_ps (b1, load_lanes (m + i, k, m, m + n)),
                                 _mm512_mul_ps (c1, g));
      __m512 vi = _mm512_add_ps (_mm512_mul_ps (b2, load_lanes (v + i, k, v, v + n)),
                                 _mm512_mul_ps (_mm512_mul_ps (c2, g), g));
      __m512 denom = _mm512_add_ps (_mm512_div_ps (_mm512_sqrt_ps (vi), bc), e);
      p = _mm512_sub_ps (p, _mm512_div_ps (_mm512_mul_ps (ss, mi), denom));
      _mm512_mask_storeu_ps (m + i, k, mi);
      _mm512_mask_storeu_ps (v + i, k, vi);
      _mm512_mask_storeu_ps (param + i, k, p);
    }
}

#else  /* no AVX-512 kernels here: never called (cs_gemm_avx512_available says no) */

void cs_avx512_im2col (float *cols, gsize ld, const float *img, const CsSlidingWindow *g) { g_assert_not_reached (); }
void cs_avx512_col2im (float *img, const float *cols, gsize ld, const CsSlidingWindow *g) { g_assert_not_reached (); }
void cs_avx512_plane_sums (double *acc, const float *x, int C, int P) { g_assert_not_reached (); }
void cs_avx512_im2col_same_t (float *cols_t, const float *img_t, const CsSlidingWindow *g, const CsAvx512Same *same) { g_assert_not_reached (); }
void cs_avx512_col2im_same_t (float *img_t, const float *cols_t, const CsSlidingWindow *g, const CsAvx512Same *same) { g_assert_not_reached (); }
gboolean cs_avx512_same_init (CsAvx512Same *same, const CsSlidingWindow *g) { return FALSE; }
void cs_avx512_im2col_same (float *cols, gsize ld, const float *img, const CsSlidingWindow *g, const CsAvx512Same *same) { g_assert_not_reached (); }
void cs_avx512_col2im_same (float *img, const float *cols, gsize ld, const CsSlidingWindow *g, const CsAvx512Same *same) { g_assert_not_reached (); }
void cs_avx512_gemm_nt_narrow (float *C, int ldc, const float *A, int lda, const float *B, int ldb, int M, int N, int K, float alpha, float beta) { g_assert_not_reached (); }
void cs_avx512_transpose (float *dst, gsize ldd, const float *src, gsize lds, int rows, int cols) { g_assert_not_reached (); }
gsize cs_avx512_count_nonzero (const float *x, gsize n) { g_assert_not_reached (); }
void cs_avx512_relu_forward (float *out, const float *inp, gsize n) { g_assert_not_reached (); }
void cs_avx512_relu_backward (float *dinp, const float *dout, const float *inp, gsize n) { g_assert_not_reached (); }
void cs_avx512_maxpool_2x2 (float *out, gint32 *argmax, const float *x, const CsSlidingWindow *g) { g_assert_not_reached (); }
void cs_avx512_maxpool_2x2_backward (float *dx, const float *dy, const gint32 *argmax, const CsSlidingWindow *g) { g_assert_not_reached (); }
void cs_avx512_adam (float *param, const float *grad, float *m, float *v, gsize n, float beta1, float beta2, float eps, float weight_decay, float step_size, float bc2_sqrt) { g_assert_not_reached (); }

#endif
