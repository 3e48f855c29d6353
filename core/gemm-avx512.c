/* gemm-avx512.c — single-precision GEMM with AVX-512 kernels of our own
 *
 * The structure of GotoBLAS and BLIS. For C (M, N) += op(A) (M, K) · op(B) (K, N):
 *
 *   for jc over N in steps of nc                    (B panel: kc × nc, L2/L3)
 *     for pc over K in steps of kc ≤ KC_MAX
 *       for ic over M in steps of mc                (A block: mc × kc, L2)
 *         pack op(A)[ic.., pc..] into micro-panels of MR rows
 *         for jr over nc in steps of NR
 *           (first ic only) pack op(B)[pc.., jc + jr..] into a kc × NR micro-panel (L1)
 *           for ir over mc in steps of MR
 *             micro-kernel: C[MR × NR tile] = alpha · Apanel · Bpanel + beta · C
 *
 * The micro-kernel keeps an 8 × 32 tile of C in 16 zmm registers: per k it
 * loads one row of the B micro-panel (two zmm), broadcasts each of the 8
 * values of the A micro-panel's column and does 16 FMAs. The packing
 * routines absorb the four transposes, so the kernel sees one layout; they
 * pad the last micro-panels with zeros, and the kernel stores only the
 * rows that exist and masks the columns that do not.
 *
 * B is packed lazily, one micro-panel just before its first use, so that
 * when M fits one A block (every GEMM of our presets) each packed B
 * micro-panel is still in L1 when the kernels read it, and one slot of
 * the buffer serves them all. When B is not transposed, the first kernel
 * of the column does the packing itself, reading B as it computes
 * (kernel_8x32_pack_b), so that the cache misses on B overlap with FMAs.
 *
 * Every function that runs AVX-512 instructions carries CS_AVX512 (a
 * target attribute), so the file builds for any x86-64 and runs its
 * kernels only where cs_gemm_avx512_available () said so.
 */
#include "gemm-avx512.h"
#include "cpu-avx512.h"

#include <stdatomic.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#define HAVE_AVX512_KERNELS 1
#include "avx512-private.h"
#else
#define HAVE_AVX512_KERNELS 0
#endif

/* Block sizes (floats). The micro-kernel tile is MR × NR; a packed A block
 * holds at most A_FLOATS (mc · kc, kept in the 1 MB L2 with room for B),
 * a packed B panel at most B_FLOATS (kc · nc). K is cut into near-equal
 * blocks of at most KC_MAX, so that a kc × NR micro-panel of B (48 KB at
 * most) stays in L1 while the kernels of one A block go over it. */
#define MR        8
#define NR        32
#define KC_MAX    384
#define A_FLOATS  (96 * 1024)
#define B_FLOATS  (512 * 1024)

G_STATIC_ASSERT (A_FLOATS >= MR * KC_MAX && B_FLOATS >= NR * KC_MAX);

/* Whether the kernels can run here, whatever the environment says
 * (asked once, by cs_gemm_avx512_available). */
static gboolean
cpu_has_avx512f (void)
{
#if HAVE_AVX512_KERNELS
  __builtin_cpu_init ();
  /* libgcc's check includes the OS saving the zmm registers (XCR0). */
  return __builtin_cpu_supports ("avx512f");
#else
  return FALSE;
#endif
}

gboolean
cs_gemm_avx512_available (void)
{
  /* 0: not decided yet, 1: no, 2: yes. Threads that race here compute the
   * same answer; C11 atomics (not g_once, whose release ThreadSanitizer
   * cannot see inside GLib) make the sharing visible to the checker. */
  static _Atomic int state = 0;

  int s = atomic_load_explicit (&state, memory_order_acquire);
  if (s == 0)
    {
      s = cpu_has_avx512f () && g_getenv ("CONVSCOPE_NO_AVX512") == NULL ? 2 : 1;
      atomic_store_explicit (&state, s, memory_order_release);
    }
  return s == 2;
}

/* C (M, N) = beta · C, not reading C when beta is 0. */
static void
scale_c (float *C, int ldc, int M, int N, float beta)
{
  for (int i = 0; i < M; i++)
    {
      float *row = C + (gsize) i * ldc;
      if (beta == 0.0f)
        memset (row, 0, sizeof (float) * N);
      else if (beta != 1.0f)
        for (int j = 0; j < N; j++)
          row[j] *= beta;
    }
}

#if HAVE_AVX512_KERNELS

/* gemm_sparse_a lists the nonzeros of up to SPARSE_ROWS rows of op(A) at
 * a time, each list with room for a whole K block. */
#define SPARSE_ROWS  64
#define SPARSE_LIST  (KC_MAX + 16)
G_STATIC_ASSERT (A_FLOATS >= SPARSE_ROWS * KC_MAX);

/* The packing buffers of one thread: allocated at their full size on the
 * thread's first call, freed when the thread exits. */
typedef struct
{
  float *a;  /* A_FLOATS, 64-byte aligned */
  float *b;  /* B_FLOATS, 64-byte aligned */
  int *idx;  /* SPARSE_ROWS · SPARSE_LIST, on the first sparse product */
  float *val;
} Packs;

static void
packs_free (gpointer data)
{
  Packs *p = data;
  g_aligned_free (p->a);
  g_aligned_free (p->b);
  g_free (p->idx);
  g_free (p->val);
  g_free (p);
}

static GPrivate packs_key = G_PRIVATE_INIT (packs_free);

static Packs *
get_packs (void)
{
  Packs *p = g_private_get (&packs_key);
  if (G_UNLIKELY (p == NULL))
    {
      p = g_new0 (Packs, 1);
      p->a = g_aligned_alloc (A_FLOATS, sizeof (float), 64);
      p->b = g_aligned_alloc (B_FLOATS, sizeof (float), 64);
      g_private_set (&packs_key, p);
    }
  return p;
}

static inline __mmask16
first_n (int n)
{
  /* lanes 0 … n − 1, for 0 ≤ n ≤ 16 */
  return (__mmask16) ((1u << n) - 1u);
}

/* rows r (8 × 8, one per __m256) become columns, in place. */
static inline __attribute__ ((always_inline)) CS_AVX512 void
transpose_8x8 (__m256 r[8])
{
  __m256 t[8], u[8];
#pragma GCC unroll 16
  for (int i = 0; i < 4; i++)
    {
      t[2 * i] = _mm256_unpacklo_ps (r[2 * i], r[2 * i + 1]);
      t[2 * i + 1] = _mm256_unpackhi_ps (r[2 * i], r[2 * i + 1]);
    }
#pragma GCC unroll 16
  for (int i = 0; i < 2; i++)
    {
      u[4 * i + 0] = _mm256_shuffle_ps (t[4 * i], t[4 * i + 2], _MM_SHUFFLE (1, 0, 1, 0));
      u[4 * i + 1] = _mm256_shuffle_ps (t[4 * i], t[4 * i + 2], _MM_SHUFFLE (3, 2, 3, 2));
      u[4 * i + 2] = _mm256_shuffle_ps (t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE (1, 0, 1, 0));
      u[4 * i + 3] = _mm256_shuffle_ps (t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE (3, 2, 3, 2));
    }
#pragma GCC unroll 16
  for (int q = 0; q < 4; q++)
    {
      r[q] = _mm256_permute2f128_ps (u[q], u[4 + q], 0x20);
      r[q + 4] = _mm256_permute2f128_ps (u[q], u[4 + q], 0x31);
    }
}

/* dst: ⌈mc / MR⌉ micro-panels (kc, MR), one after the other:
 *   dst[p·kc·MR + k·MR + r] = op(A)[i0 + p·MR + r][k0 + k], 0 past row mc.
 * op(A)[i][k] is A[i·lda + k], or A[k·lda + i] when trans_a. */
static CS_AVX512 void
pack_a (float *restrict dst, gboolean trans_a, const float *A, int lda,
        int i0, int mc, int k0, int kc)
{
  for (int ir = 0; ir < mc; ir += MR)
    {
      int mr = MIN (MR, mc - ir);
      float *d = dst + (gsize) ir * kc;
      if (trans_a)
        {
          /* Aᵀ: MR consecutive values of each row k of A */
          const float *s = A + (gsize) k0 * lda + i0 + ir;
          __mmask16 m = first_n (mr);
          for (int k = 0; k < kc; k++)
            {
              __m512 v = _mm512_maskz_loadu_ps (m, s + (gsize) k * lda);
              _mm256_store_ps (d + k * MR, _mm512_castps512_ps256 (v));
            }
        }
      else if (mr == MR)
        {
          /* A: MR rows, each contiguous along k; 8 × 8 transposes */
          const float *s = A + (gsize) (i0 + ir) * lda + k0;
          int k = 0;
          for (; k + 8 <= kc; k += 8)
            {
              __m256 r[8];
#pragma GCC unroll 16
              for (int i = 0; i < 8; i++)
                r[i] = _mm256_loadu_ps (s + (gsize) i * lda + k);
              transpose_8x8 (r);
#pragma GCC unroll 16
              for (int i = 0; i < 8; i++)
                _mm256_store_ps (d + (k + i) * MR, r[i]);
            }
          for (; k < kc; k++)
            for (int i = 0; i < MR; i++)
              d[k * MR + i] = s[(gsize) i * lda + k];
        }
      else
        {
          const float *s = A + (gsize) (i0 + ir) * lda + k0;
          for (int k = 0; k < kc; k++)
            for (int i = 0; i < MR; i++)
              d[k * MR + i] = i < mr ? s[(gsize) i * lda + k] : 0.0f;
        }
    }
}

/* dst (kc, NR): dst[k·NR + j] = op(B)[k0 + k][j0 + j], 0 past column nr.
 * op(B)[k][j] is B[k·ldb + j], or B[j·ldb + k] when trans_b. */
static CS_AVX512 void
pack_b (float *restrict dst, gboolean trans_b, const float *B, int ldb,
        int k0, int kc, int j0, int nr)
{
  if (!trans_b)
    {
      /* B: NR consecutive values of each row k */
      const float *s = B + (gsize) k0 * ldb + j0;
      if (nr == NR)
        for (int k = 0; k < kc; k++)
          {
            const float *row = s + (gsize) k * ldb;
            _mm512_store_ps (dst + k * NR, _mm512_loadu_ps (row));
            _mm512_store_ps (dst + k * NR + 16, _mm512_loadu_ps (row + 16));
          }
      else
        {
          __mmask16 m0 = first_n (MIN (nr, 16)), m1 = first_n (MAX (nr - 16, 0));
          for (int k = 0; k < kc; k++)
            {
              const float *row = s + (gsize) k * ldb;
              _mm512_store_ps (dst + k * NR, _mm512_maskz_loadu_ps (m0, row));
              _mm512_store_ps (dst + k * NR + 16, _mm512_maskz_loadu_ps (m1, row + 16));
            }
        }
      return;
    }

  /* Bᵀ: NR rows of B, each contiguous along k; 16 × 16 transposes. At
   * the edges the rows past nr read as zeros and the last k block is
   * loaded under a mask; the blocks inside have their own loop, whose
   * constant bounds keep the 16 rows in registers. */
  for (int h = 0; h < NR; h += 16)
    {
      int rows = CLAMP (nr - h, 0, 16);
      const float *s = B + (gsize) (j0 + h) * ldb + k0;
      int k = 0;
      if (rows == 16)
        for (; k + 16 <= kc; k += 16)
          {
            __m512 r[16];
#pragma GCC unroll 16
            for (int i = 0; i < 16; i++)
              r[i] = _mm512_loadu_ps (s + (gsize) i * ldb + k);
            cs_avx512_transpose_16x16 (r);
#pragma GCC unroll 16
            for (int i = 0; i < 16; i++)
              _mm512_store_ps (dst + (k + i) * NR + h, r[i]);
          }
      for (; k < kc; k += 16)
        {
          int n = MIN (16, kc - k);
          __mmask16 m = first_n (n);
          __m512 r[16];
#pragma GCC unroll 16
          for (int i = 0; i < 16; i++)
            r[i] = i < rows ? _mm512_maskz_loadu_ps (m, s + (gsize) i * ldb + k)
                            : _mm512_setzero_ps ();
          cs_avx512_transpose_16x16 (r);
          for (int i = 0; i < n; i++)
            _mm512_store_ps (dst + (k + i) * NR + h, r[i]);
        }
    }
}

/* The micro-kernel. a: (kc, MR) micro-panel; b: (kc, NR) micro-panel with
 * row stride ldb (NR when packed); c: the tile C[0 … mr − 1][0 … nr − 1]
 * with row stride ldc;
 *   C tile = alpha · a · b + beta · C tile   (C not read when beta is 0).
 * With b_copy, b is op(B) itself and the kernel packs it into b_copy as it
 * goes (see kernel_8x32_pack_b). */
static inline __attribute__ ((always_inline)) CS_AVX512 void
kernel_body (int kc, const float *restrict a, const float *restrict b, gsize ldb,
             float *restrict b_copy, float *restrict c, gsize ldc, int mr, int nr,
             float alpha, float beta, int halves)
{
  /* halves (a constant): 2 for the 8 × 32 tile, 1 for its left 8 × 16,
   * all a last micro-panel of at most 16 columns needs */
  __m512 acc[MR][2];

#pragma GCC unroll 8
  for (int i = 0; i < MR; i++)
    acc[i][0] = acc[i][1] = _mm512_setzero_ps ();
  /* the tile's cache lines arrive while the FMAs run (with a short K
   * there is no time to hide, and the prefetches only add traffic) */
  if (kc >= 32)
    {
#pragma GCC unroll 8
      for (int i = 0; i < MR; i++)
        {
          _mm_prefetch ((const char *) (c + i * ldc), _MM_HINT_T0);
          _mm_prefetch ((const char *) (c + i * ldc + NR - 1), _MM_HINT_T0);
        }
    }

#pragma GCC unroll 4
  for (int k = 0; k < kc; k++)
    {
      __m512 b0 = _mm512_loadu_ps (b), b1 = halves == 2 ? _mm512_loadu_ps (b + 16) : b0;
      if (b_copy != NULL)
        {
          _mm512_store_ps (b_copy, b0);
          _mm512_store_ps (b_copy + 16, b1);
          b_copy += NR;
        }
#pragma GCC unroll 8
      for (int i = 0; i < MR; i++)
        {
          __m512 ai = _mm512_set1_ps (a[i]);
          acc[i][0] = _mm512_fmadd_ps (ai, b0, acc[i][0]);
          if (halves == 2)
            acc[i][1] = _mm512_fmadd_ps (ai, b1, acc[i][1]);
        }
      a += MR;
      b += ldb;
    }

  __m512 va = _mm512_set1_ps (alpha), vb = _mm512_set1_ps (beta);
  if (mr == MR && nr == NR)
    {
#pragma GCC unroll 8
      for (int i = 0; i < MR; i++)
        {
          float *ci = c + i * ldc;
          __m512 r0 = _mm512_mul_ps (acc[i][0], va), r1 = _mm512_mul_ps (acc[i][1], va);
          if (beta != 0.0f)
            {
              r0 = _mm512_fmadd_ps (_mm512_loadu_ps (ci), vb, r0);
              r1 = _mm512_fmadd_ps (_mm512_loadu_ps (ci + 16), vb, r1);
            }
          _mm512_storeu_ps (ci, r0);
          _mm512_storeu_ps (ci + 16, r1);
        }
      return;
    }

  __mmask16 m0 = first_n (MIN (nr, 16)), m1 = first_n (MAX (nr - 16, 0));
#pragma GCC unroll 8
  for (int i = 0; i < MR; i++)
    if (i < mr)
      {
        float *ci = c + i * ldc;
        __m512 r0 = _mm512_mul_ps (acc[i][0], va), r1 = _mm512_mul_ps (acc[i][1], va);
        if (beta != 0.0f)
          {
            r0 = _mm512_fmadd_ps (_mm512_maskz_loadu_ps (m0, ci), vb, r0);
            r1 = _mm512_fmadd_ps (_mm512_maskz_loadu_ps (m1, ci + 16), vb, r1);
          }
        _mm512_mask_storeu_ps (ci, m0, r0);
        _mm512_mask_storeu_ps (ci + 16, m1, r1);
      }
}

static CS_AVX512 void
kernel_8x32 (int kc, const float *restrict a, const float *restrict b,
             float *restrict c, gsize ldc, int mr, int nr, float alpha, float beta)
{
  kernel_body (kc, a, b, NR, NULL, c, ldc, mr, nr, alpha, beta, 2);
}

/* The same for a last micro-panel of at most 16 columns (196 = 6·32 + 4,
 * the SimpleCNN's second convolution per image): half the FMAs. */
static CS_AVX512 void
kernel_8x16 (int kc, const float *restrict a, const float *restrict b,
             float *restrict c, gsize ldc, int mr, int nr, float alpha, float beta)
{
  kernel_body (kc, a, b, NR, NULL, c, ldc, mr, nr, alpha, beta, 1);
}

/* The first kernel over a full-width micro-panel of op(B) = B (not
 * transposed): it reads the panel from B (row stride ldb) and packs it into
 * b_copy for the kernels below it. The loads of B, which miss the caches,
 * then overlap with FMAs instead of stalling a packing loop that has
 * nothing else to do. */
static CS_AVX512 void
kernel_8x32_pack_b (int kc, const float *restrict a, const float *restrict b, gsize ldb,
                    float *restrict b_copy, float *restrict c, gsize ldc, int mr,
                    float alpha, float beta)
{
  kernel_body (kc, a, b, ldb, b_copy, c, ldc, mr, NR, alpha, beta, 2);
}

/* n split into near-equal blocks of at most max, each a multiple of align
 * (but for the last). */
static int
block_size (int n, int max, int align)
{
  int blocks = (n + max - 1) / max;
  int b = (n + blocks - 1) / blocks;
  return MIN ((b + align - 1) / align * align, max);
}

/* The blocking of K and M, which depends on them alone (so that an A
 * packed once serves every product with it). */
static void
blocks_km (int M, int K, int *kc_blk, int *mc_blk)
{
  *kc_blk = block_size (K, KC_MAX, 1);
  *mc_blk = block_size (M, A_FLOATS / *kc_blk / MR * MR, MR);
}

/* A packed once: for each K block (from pc), for each M block (from ic),
 * the block as pack_a lays it out, at packed + pc · Mpad + ic · kc with
 * Mpad = M rounded up to MR. */
static gsize
packed_size (int M, int K)
{
  return (gsize) (M + MR - 1) / MR * MR * K;
}

static CS_AVX512 void
pack_all (float *packed, gboolean trans_a, int M, int K, const float *A, int lda)
{
  int kc_blk, mc_blk;
  gsize Mpad = (gsize) (M + MR - 1) / MR * MR;
  blocks_km (M, K, &kc_blk, &mc_blk);
  for (int pc = 0; pc < K; pc += kc_blk)
    for (int ic = 0; ic < M; ic += mc_blk)
      {
        int kc = MIN (kc_blk, K - pc);
        pack_a (packed + pc * Mpad + (gsize) ic * kc, trans_a, A, lda, ic, MIN (mc_blk, M - ic),
                pc, kc);
      }
}

/* packed_a: op(A) packed by pack_all, or NULL to pack A here. */
static CS_AVX512 void
gemm_avx512 (gboolean trans_a, gboolean trans_b, int M, int N, int K,
             float alpha, const float *A, int lda, const float *packed_a,
             const float *B, int ldb, float beta, float *C, int ldc)
{
  Packs *packs = get_packs ();
  int kc_blk, mc_blk;
  gsize Mpad = (gsize) (M + MR - 1) / MR * MR;
  blocks_km (M, K, &kc_blk, &mc_blk);
  int nc_blk = block_size (N, B_FLOATS / kc_blk / NR * NR, NR);

  for (int jc = 0; jc < N; jc += nc_blk)
    {
      int nc = MIN (nc_blk, N - jc);
      for (int pc = 0; pc < K; pc += kc_blk)
        {
          int kc = MIN (kc_blk, K - pc);
          /* the first K block applies beta, the others accumulate */
          float beta_k = pc == 0 ? beta : 1.0f;
          for (int ic = 0; ic < M; ic += mc_blk)
            {
              int mc = MIN (mc_blk, M - ic);
              const float *pa = packs->a;
              if (packed_a != NULL)
                pa = packed_a + pc * Mpad + (gsize) ic * kc;
              else
                pack_a (packs->a, trans_a, A, lda, ic, mc, pc, kc);
              for (int jr = 0; jr < nc; jr += NR)
                {
                  int nr = MIN (NR, nc - jr);
                  /* with one A block (all our presets' GEMMs) each packed
                   * micro-panel serves once: one slot, reused while hot,
                   * rather than a walk through up to 2 MB of buffer */
                  float *bp = packs->b + (mc_blk >= M ? 0 : (gsize) jr * kc);
                  float *c = C + (gsize) ic * ldc + jc + jr;
                  int ir = 0;
                  if (ic == 0 && !trans_b && nr == NR)
                    {
                      kernel_8x32_pack_b (kc, pa, B + (gsize) pc * ldb + jc + jr,
                                          (gsize) ldb, bp, c, (gsize) ldc, MIN (MR, mc),
                                          alpha, beta_k);
                      ir = MR;
                    }
                  else if (ic == 0)
                    pack_b (bp, trans_b, B, ldb, pc, kc, jc + jr, nr);
                  if (nr <= 16)
                    for (; ir < mc; ir += MR)
                      kernel_8x16 (kc, pa + (gsize) ir * kc, bp, c + (gsize) ir * ldc,
                                   (gsize) ldc, MIN (MR, mc - ir), nr, alpha, beta_k);
                  for (; ir < mc; ir += MR)
                    kernel_8x32 (kc, pa + (gsize) ir * kc, bp, c + (gsize) ir * ldc,
                                 (gsize) ldc, MIN (MR, mc - ir), nr, alpha, beta_k);
                }
            }
        }
    }
}

/* ---------------------------------------------------------------------------
 * A mostly zero: only its nonzero entries are multiplied.
 *
 * The same blocking of K as gemm_avx512, and within a K block each element
 * of C sums its products from 0, k ascending, with one FMA each, then
 * C = alpha · sum + beta_k · C, as the micro-kernel does; a product with a
 * zero of A adds an exact zero there (for finite B), so leaving it out
 * changes nothing (but the sign of a zero sum). Per row of op(A) the
 * nonzeros of the K block are listed, and each adds its multiple of the
 * packed row k of op(B) to 16 vectors of accumulators at a time.
 */

/* The nonzeros of A[m][k0 … k0 + kc − 1] (A not transposed): their k − k0
 * and values; returns how many. */
static CS_AVX512 int
nonzeros (int *idx, float *val, const float *A, int lda, int m, int k0, int kc)
{
  int n = 0;
  const float *a = A + (gsize) m * lda + k0;
  const __m512i step = _mm512_setr_epi32 (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  for (int k = 0; k < kc; k += 16)
    {
      __mmask16 in = first_n (MIN (16, kc - k));
      __m512 v = _mm512_maskz_loadu_ps (in, a + k);
      __mmask16 nz = _mm512_mask_cmp_ps_mask (in, v, _mm512_setzero_ps (), _CMP_NEQ_UQ);
      /* compress in registers (to memory it is slow on Zen 4 and 5) */
      _mm512_storeu_si512 (idx + n, _mm512_maskz_compress_epi32 (
                             nz, _mm512_add_epi32 (step, _mm512_set1_epi32 (k))));
      _mm512_storeu_ps (val + n, _mm512_maskz_compress_ps (nz, v));
      n += __builtin_popcount (nz);
    }
  return n;
}

/* vecs (a constant) vectors of a row of C from j0: c[j0 …] = alpha · Σ
 * val[i] · (row idx[i] of op(B)) + beta · c. Row k of op(B) from column
 * j0 starts at p0 + k · krow, and its vector t at (t / 2) · pair +
 * (t % 2) · 16: in packed panels krow = NR and pair = kc · NR; in B itself
 * (not transposed) krow = ldb and pair = 32. */
static inline __attribute__ ((always_inline)) CS_AVX512 void
sparse_vectors (float *c, int j0, int nc, const float *p0, gsize krow, gsize pair,
                const int *idx, const float *val, int n, float alpha, float beta,
                const int vecs, __mmask16 last)
{
  /* last: the lanes of the last vector to read (in B itself the row may
   * end there; packed panels are padded with zeros) */
  __m512 acc[16];
#pragma GCC unroll 16
  for (int t = 0; t < vecs; t++)
    acc[t] = _mm512_setzero_ps ();
  for (int i = 0; i < n; i++)
    {
      __m512 a = _mm512_set1_ps (val[i]);
      const float *row = p0 + (gsize) idx[i] * krow;
#pragma GCC unroll 16
      for (int t = 0; t < vecs; t++)
        {
          const float *b = row + (t / 2) * pair + (t % 2) * 16;
          __m512 v = t == vecs - 1 && last != 0xffff ? _mm512_maskz_loadu_ps (last, b)
                                                     : _mm512_loadu_ps (b);
          acc[t] = _mm512_fmadd_ps (a, v, acc[t]);
        }
    }
  __m512 va = _mm512_set1_ps (alpha), vb = _mm512_set1_ps (beta);
#pragma GCC unroll 16
  for (int t = 0; t < vecs; t++)
    {
      float *ct = c + j0 + 16 * t;
      __mmask16 m = first_n (MIN (16, nc - j0 - 16 * t));
      __m512 r = _mm512_mul_ps (acc[t], va);
      if (beta != 0.0f)
        r = _mm512_fmadd_ps (_mm512_maskz_loadu_ps (m, ct), vb, r);
      if (m == 0xffff)
        _mm512_storeu_ps (ct, r);
      else
        _mm512_mask_storeu_ps (ct, m, r);
    }
}

/* Columns j0 … j0 + cw − 1 of a row of C (nc columns from c) = alpha · Σ
 * val[i] · (row idx[i] of op(B)) + beta · C; op(B) in the packed panels bp
 * (kc × NR each, one after the other) or, when bp is NULL, in B (not
 * transposed) from b0 with row stride ldb. */
static inline CS_AVX512 void
sparse_cols (float *c, int j0, int cw, int nc, const float *bp, int kc, const float *b0,
             int ldb, const int *idx, const float *val, int n, float alpha, float beta)
{
  const float *p0 = bp != NULL ? bp + (gsize) (j0 / NR) * kc * NR : b0 + j0;
  gsize krow = bp != NULL ? NR : (gsize) ldb, pair = bp != NULL ? (gsize) kc * NR : 32;
  int width = MIN (cw, nc - j0);
  __mmask16 last = bp != NULL ? 0xffff : first_n (width - (width - 1) / 16 * 16);
  switch ((width + 15) / 16)
    {
#define CASE(v) case v: sparse_vectors (c, j0, nc, p0, krow, pair, idx, val, n, alpha, beta, v, last); break;
      CASE (1) CASE (2) CASE (3) CASE (4) CASE (5) CASE (6) CASE (7) CASE (8)
      CASE (9) CASE (10) CASE (11) CASE (12) CASE (13) CASE (14) CASE (15) CASE (16)
#undef CASE
    default:
      g_assert_not_reached ();
    }
}

static CS_AVX512 void
gemm_sparse_a (gboolean trans_a, gboolean trans_b, int M, int N, int K,
               float alpha, const float *A, int lda, const float *B, int ldb,
               float beta, float *C, int ldc)
{
  Packs *packs = get_packs ();
  int kc_blk, mc_blk;
  blocks_km (M, K, &kc_blk, &mc_blk);
  int nc_blk = block_size (N, B_FLOATS / kc_blk / NR * NR, NR);
  int count[SPARSE_ROWS];
  if (G_UNLIKELY (packs->idx == NULL))
    {
      packs->idx = g_new (int, SPARSE_ROWS * SPARSE_LIST);
      packs->val = g_new (float, SPARSE_ROWS * SPARSE_LIST);
    }
  int *idx = packs->idx;
  float *val = packs->val;

  for (int jc = 0; jc < N; jc += nc_blk)
    {
      int nc = MIN (nc_blk, N - jc);
      for (int pc = 0; pc < K; pc += kc_blk)
        {
          int kc = MIN (kc_blk, K - pc);
          float beta_k = pc == 0 ? beta : 1.0f;
          /* 128 columns at a time (8 vectors of accumulators): every row
           * of the block goes over them before the next, so that their
           * packed rows stay near (in L1 for a short K block). Measured
           * best for the SimpleCNN's products, K = 64 and 196. */
          const int cw = 128;
          /* op(B) transposed is packed (16 × 16 transposes); B itself is
           * read where it is, its rows being op(B)'s */
          const float *bp = NULL, *b0 = B + (gsize) pc * ldb + jc;
          if (trans_b)
            {
              for (int jr = 0; jr < nc; jr += NR)
                pack_b (packs->b + (gsize) jr * kc, trans_b, B, ldb, pc, kc, jc + jr,
                        MIN (NR, nc - jr));
              bp = packs->b;
            }
          for (int m0 = 0; m0 < M; m0 += SPARSE_ROWS)
            {
              int rows = MIN (SPARSE_ROWS, M - m0);
              /* the nonzeros of each row of op(A) in the K block, k ascending */
              if (!trans_a)
                for (int r = 0; r < rows; r++)
                  count[r] = nonzeros (idx + r * SPARSE_LIST, val + r * SPARSE_LIST, A, lda,
                                       m0 + r, pc, kc);
              else
                {
                  /* op(A)'s block (rows, kc) turned into packs->a first */
                  cs_avx512_transpose (packs->a, kc, A + (gsize) pc * lda + m0, lda, kc, rows);
                  for (int r = 0; r < rows; r++)
                    count[r] = nonzeros (idx + r * SPARSE_LIST, val + r * SPARSE_LIST, packs->a,
                                         kc, r, 0, kc);
                }
              for (int j0 = 0; j0 < nc; j0 += cw)
                for (int r = 0; r < rows; r++)
                  sparse_cols (C + (gsize) (m0 + r) * ldc + jc, j0, cw, nc, bp, kc, b0, ldb,
                               idx + r * SPARSE_LIST, val + r * SPARSE_LIST, count[r], alpha,
                               beta_k);
            }
        }
    }
}

#endif /* HAVE_AVX512_KERNELS */

void
cs_gemm_avx512 (gboolean trans_a, gboolean trans_b, int M, int N, int K,
                float alpha, const float *A, int lda, const float *B, int ldb,
                float beta, float *C, int ldc)
{
  g_return_if_fail (M >= 0 && N >= 0 && K >= 0);
  g_return_if_fail (lda >= MAX (1, trans_a ? M : K));
  g_return_if_fail (ldb >= MAX (1, trans_b ? K : N));
  g_return_if_fail (ldc >= MAX (1, N));

  if (M == 0 || N == 0)
    return;
  if (K == 0 || alpha == 0.0f)
    {
      scale_c (C, ldc, M, N, beta);
      return;
    }
#if HAVE_AVX512_KERNELS
  /* The caller checks cs_gemm_avx512_available (); a benchmark may still
   * call this with CONVSCOPE_NO_AVX512 set, to compare. */
  g_assert (cpu_has_avx512f ());
  gemm_avx512 (trans_a, trans_b, M, N, K, alpha, A, lda, NULL, B, ldb, beta, C, ldc);
#else
  g_assert_not_reached ();
#endif
}

void
cs_gemm_avx512_sparse_a (gboolean trans_a, gboolean trans_b, int M, int N, int K,
                         float alpha, const float *A, int lda, const float *B, int ldb,
                         float beta, float *C, int ldc)
{
  g_return_if_fail (M >= 0 && N >= 0 && K >= 0);
  g_return_if_fail (lda >= MAX (1, trans_a ? M : K));
  g_return_if_fail (ldb >= MAX (1, trans_b ? K : N));
  g_return_if_fail (ldc >= MAX (1, N));

  if (M == 0 || N == 0)
    return;
  if (K == 0 || alpha == 0.0f)
    {
      scale_c (C, ldc, M, N, beta);
      return;
    }
#if HAVE_AVX512_KERNELS
  g_assert (cpu_has_avx512f ());
  gemm_sparse_a (trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
#else
  g_assert_not_reached ();
#endif
}

gsize
cs_gemm_avx512_packed_size (int M, int K)
{
#if HAVE_AVX512_KERNELS
  return packed_size (M, K);
#else
  return 0;
#endif
}

void
cs_gemm_avx512_pack (float *packed, gboolean trans_a, int M, int K, const float *A, int lda)
{
  g_return_if_fail (M > 0 && K > 0 && lda >= (trans_a ? M : K));
  g_return_if_fail ((guintptr) packed % 64 == 0);
#if HAVE_AVX512_KERNELS
  g_assert (cpu_has_avx512f ());
  pack_all (packed, trans_a, M, K, A, lda);
#else
  g_assert_not_reached ();
#endif
}

void
cs_gemm_avx512_packed (const float *packed, gboolean trans_b, int M, int N, int K,
                       float alpha, const float *B, int ldb, float beta, float *C, int ldc)
{
  g_return_if_fail (M > 0 && N >= 0 && K > 0);
  g_return_if_fail (ldb >= MAX (1, trans_b ? K : N));
  g_return_if_fail (ldc >= MAX (1, N));

  if (N == 0)
    return;
  if (alpha == 0.0f)
    {
      scale_c (C, ldc, M, N, beta);
      return;
    }
#if HAVE_AVX512_KERNELS
  gemm_avx512 (FALSE, trans_b, M, N, K, alpha, NULL, 0, packed, B, ldb, beta, C, ldc);
#else
  g_assert_not_reached ();
#endif
}
