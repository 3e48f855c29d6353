/* test-gemm.c — the AVX-512 GEMM against the reference loops
 *
 * Shapes that hit every edge of the blocking (one element, primes, the
 * micro-tile MR × NR = 8 × 32 and the K block KC = 384 ± 1, more than one
 * A block and B panel), the GEMMs of the SimpleCNN and MLP training steps
 * at batch 64, all four transposes, row strides longer than the rows,
 * alpha ≠ 1, beta 0, 1 and 0.5, and beta = 0 over a C full of NaN; each
 * also with A packed once (cs_gemm_avx512_pack), which must give the same
 * bit for bit.
 *
 * The matrices are allocated to the last element they hold, so that
 * AddressSanitizer sees a read past the end; the padding of each row holds
 * NaN (in A and B: reading it would poison the result) or a sentinel (in C:
 * it must come back untouched).
 */
#include "core/backend.h"
#include "core/gemm-avx512.h"
#include "core/rng.h"

#include <math.h>
#include <string.h>

#define SENTINEL 12345.0f

typedef struct
{
  int M, N, K;
  gboolean ta, tb;
  int pad;      /* added to every leading dimension */
  float alpha, beta;
  gboolean nan_c;  /* fill C with NaN first (with beta 0) */
} Case;

static gboolean
skip_without_avx512 (void)
{
  if (cs_gemm_avx512_available ())
    return FALSE;
  g_test_skip ("the CPU has no AVX-512F (or CONVSCOPE_NO_AVX512 is set): "
               "the AVX-512 GEMM never runs here");
  return TRUE;
}

/* rows × cols values with row stride ld, the padding of each row NaN (or
 * pad_value); allocated to the last value of the last row. */
static float *
new_matrix (int rows, int cols, int ld, float pad_value, CsRng *rng)
{
  gsize n = rows == 0 ? 1 : (gsize) (rows - 1) * ld + MAX (cols, 1);
  float *x = g_new (float, n);
  for (gsize i = 0; i < n; i++)
    x[i] = (int) (i % ld) < cols ? (float) (2.0 * cs_rng_uniform (rng) - 1.0) : pad_value;
  return x;
}

/* Largest difference between the (M, N) blocks of x and ref, against the
 * scale of ref; fails the test above rtol. */
static void
assert_close (const float *x, const float *ref, int M, int N, int ld, double rtol,
              const char *what)
{
  double scale = 1e-6, diff = 0.0;
  for (int i = 0; i < M; i++)
    for (int j = 0; j < N; j++)
      {
        double a = x[(gsize) i * ld + j], b = ref[(gsize) i * ld + j];
        scale = MAX (scale, fabs (b));
        diff = isnan (a) ? INFINITY : MAX (diff, fabs (a - b));
        if (isinf (diff))
          {
            g_test_fail_printf ("%s: C[%d][%d] = %g, the reference says %g", what, i, j, a, b);
            return;
          }
      }
  if (!(diff <= rtol * scale))
    g_test_fail_printf ("%s: largest difference %.3g at scale %.3g", what, diff, scale);
  else if (g_test_verbose ())
    g_test_message ("%s: largest difference %.3g at scale %.3g", what, diff, scale);
}

static void
run_case (const Case *c, CsRng *rng)
{
  int M = c->M, N = c->N, K = c->K;
  /* op(A) (M, K) from A (M, K) or (K, M); op(B) (K, N) from B (K, N) or (N, K) */
  int a_rows = c->ta ? K : M, a_cols = c->ta ? M : K;
  int b_rows = c->tb ? N : K, b_cols = c->tb ? K : N;
  int lda = MAX (a_cols, 1) + c->pad, ldb = MAX (b_cols, 1) + c->pad, ldc = N + c->pad;

  g_autofree float *A = new_matrix (a_rows, a_cols, lda, NAN, rng);
  g_autofree float *B = new_matrix (b_rows, b_cols, ldb, NAN, rng);
  g_autofree float *C = new_matrix (M, N, ldc, SENTINEL, rng);
  if (c->nan_c)
    for (int i = 0; i < M; i++)
      for (int j = 0; j < N; j++)
        C[(gsize) i * ldc + j] = NAN;
  gsize c_n = (gsize) (M - 1) * ldc + N;
  g_autofree float *R = g_memdup2 (C, sizeof (float) * c_n);
  g_autofree float *P = g_memdup2 (C, sizeof (float) * c_n);

  cs_gemm_avx512 (c->ta, c->tb, M, N, K, c->alpha, A, lda, B, ldb, c->beta, C, ldc);
  if (K > 0)
    {
      /* A packed once gives the same, bit for bit */
      float *packed = g_aligned_alloc (cs_gemm_avx512_packed_size (M, K), sizeof (float), 64);
      cs_gemm_avx512_pack (packed, c->ta, M, K, A, lda);
      cs_gemm_avx512_packed (packed, c->tb, M, N, K, c->alpha, B, ldb, c->beta, P, ldc);
      g_aligned_free (packed);
      for (gsize i = 0; i < c_n; i++)
        if (memcmp (&P[i], &C[i], sizeof (float)) != 0)
          {
            g_test_fail_printf ("%d×%d×%d %c%c: packed A gives %g at %" G_GSIZE_FORMAT
                                ", not %g", M, N, K, c->ta ? 'T' : 'N', c->tb ? 'T' : 'N',
                                P[i], i, C[i]);
            break;
          }
    }
  cs_backend_ref ()->gemm (c->ta, c->tb, M, N, K, c->alpha, A, lda, B, ldb, c->beta, R, ldc);

  g_autofree char *what = g_strdup_printf ("%d×%d×%d %c%c pad %d alpha %g beta %g%s",
                                           M, N, K, c->ta ? 'T' : 'N', c->tb ? 'T' : 'N',
                                           c->pad, c->alpha, c->beta,
                                           c->nan_c ? " over NaN" : "");
  assert_close (C, R, M, N, ldc, 1e-5, what);
  for (int i = 0; i < M; i++)
    for (int j = N; j < ldc && (gsize) i * ldc + j < c_n; j++)
      if (C[(gsize) i * ldc + j] != SENTINEL)
        {
          g_test_fail_printf ("%s: wrote C[%d][%d], past the row", what, i, j);
          return;
        }
}

/* Small and edge shapes, every transpose, stride, alpha and beta. */
static void
test_edges (void)
{
  if (skip_without_avx512 ())
    return;
  const int shapes[][3] = {
    { 1, 1, 1 }, { 1, 1, 7 }, { 2, 3, 5 }, { 7, 11, 13 }, { 13, 17, 19 }, { 31, 37, 41 },
    /* around the micro-tile: M = MR ± 1, N = 16, NR ± 1 */
    { 7, 31, 3 }, { 8, 32, 4 }, { 9, 33, 5 }, { 8, 15, 16 }, { 9, 16, 17 }, { 17, 17, 9 },
    { 16, 47, 8 }, { 24, 63, 31 }, { 25, 64, 33 }, { 23, 65, 15 },
    /* around the K block KC = 384: one block, two near-equal ones, three */
    { 9, 33, 383 }, { 8, 32, 384 }, { 7, 31, 385 }, { 5, 40, 769 }, { 10, 20, 1153 },
    /* long thin ones */
    { 1, 300, 17 }, { 300, 1, 17 }, { 3, 2, 1000 },
  };
  const float betas[] = { 0.0f, 1.0f, 0.5f };
  CsRng rng;
  cs_rng_init (&rng, 11);

  for (gsize s = 0; s < G_N_ELEMENTS (shapes); s++)
    for (int t = 0; t < 4; t++)
      for (int pad = 0; pad <= 5; pad += 5)
        for (gsize b = 0; b < G_N_ELEMENTS (betas); b++)
          {
            Case c = { shapes[s][0], shapes[s][1], shapes[s][2], t & 1, t >> 1, pad,
                       b == 2 ? -1.5f : 1.0f, betas[b], FALSE };
            run_case (&c, &rng);
          }
}

/* beta = 0 never reads C: NaN there must not reach the result. */
static void
test_beta_zero_nan (void)
{
  if (skip_without_avx512 ())
    return;
  const int shapes[][3] = { { 1, 1, 1 }, { 8, 32, 10 }, { 9, 33, 385 }, { 64, 100, 3 } };
  CsRng rng;
  cs_rng_init (&rng, 12);
  for (gsize s = 0; s < G_N_ELEMENTS (shapes); s++)
    for (int t = 0; t < 4; t++)
      {
        Case c = { shapes[s][0], shapes[s][1], shapes[s][2], t & 1, t >> 1, 3, 0.75f, 0.0f, TRUE };
        run_case (&c, &rng);
      }
}

/* K == 0 and alpha == 0 scale C by beta (0 included) and read neither A nor B. */
static void
test_no_product (void)
{
  if (skip_without_avx512 ())
    return;
  enum { M = 5, N = 7, ldc = 9 };
  float C[(M - 1) * ldc + N];
  float A[1] = { NAN }, B[1] = { NAN };
  const float betas[] = { 0.0f, 1.0f, 0.5f };

  for (int zero_k = 0; zero_k < 2; zero_k++)
    for (gsize b = 0; b < G_N_ELEMENTS (betas); b++)
      {
        for (gsize i = 0; i < G_N_ELEMENTS (C); i++)
          C[i] = (int) (i % ldc) < N ? (float) i : SENTINEL;
        if (zero_k)
          cs_gemm_avx512 (FALSE, FALSE, M, N, 0, 1.0f, A, 1, B, N, betas[b], C, ldc);
        else
          cs_gemm_avx512 (TRUE, TRUE, M, N, 1, 0.0f, A, M, B, 1, betas[b], C, ldc);
        for (gsize i = 0; i < G_N_ELEMENTS (C); i++)
          g_assert_cmpfloat (C[i], ==, (int) (i % ldc) < N ? betas[b] * (float) i : SENTINEL);
      }
  /* and nothing at all for an empty C */
  cs_gemm_avx512 (FALSE, FALSE, 0, N, 3, 1.0f, A, 3, B, N, 0.0f, C, ldc);
  cs_gemm_avx512 (FALSE, FALSE, M, 0, 3, 1.0f, A, 3, B, 1, 0.0f, C, ldc);
}

/* The sparse form against the dense one, bit for bit: op(A) mostly zero
 * (rows with none, rows with all), every transpose, edges of the blocking
 * (K blocks, 128-column groups, SPARSE_ROWS = 64 rows of op(A)), alpha,
 * beta; and against the reference, with op(A) dense. */
static void
test_sparse (void)
{
  if (skip_without_avx512 ())
    return;
  const int shapes[][3] = {
    { 64, 288, 196 }, { 196, 288, 64 }, { 32, 9, 784 }, { 1, 1, 1 }, { 7, 33, 5 },
    { 65, 129, 17 }, { 130, 300, 385 }, { 3, 257, 769 }, { 200, 16, 40 },
  };
  const double densities[] = { 0.0, 0.15, 1.0 };
  CsRng rng;
  cs_rng_init (&rng, 16);

  for (gsize s = 0; s < G_N_ELEMENTS (shapes); s++)
    for (int t = 0; t < 4; t++)
      for (gsize d = 0; d < G_N_ELEMENTS (densities); d++)
        {
          int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
          gboolean ta = t & 1, tb = t >> 1;
          int lda = (ta ? M : K) + 1, ldb = (tb ? K : N) + 2, ldc = N + 3;
          gsize a_n = (gsize) (ta ? K : M) * lda, b_n = (gsize) (tb ? N : K) * ldb;
          gsize c_n = (gsize) M * ldc;
          g_autofree float *A = g_new (float, a_n), *B = g_new (float, b_n);
          g_autofree float *C1 = g_new (float, c_n), *C2 = g_new (float, c_n);
          for (gsize i = 0; i < a_n; i++)
            A[i] = cs_rng_uniform (&rng) < densities[d]
                   ? (float) (2.0 * cs_rng_uniform (&rng) - 1.0) : 0.0f;
          for (gsize i = 0; i < b_n; i++)
            B[i] = (float) (2.0 * cs_rng_uniform (&rng) - 1.0);
          for (gsize i = 0; i < c_n; i++)
            C1[i] = C2[i] = (float) (2.0 * cs_rng_uniform (&rng) - 1.0);
          float alpha = d == 1 ? 1.0f : -0.75f, beta = (float) (s % 3) * 0.5f;

          cs_gemm_avx512 (ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C1, ldc);
          cs_gemm_avx512_sparse_a (ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C2, ldc);
          for (gsize i = 0; i < c_n; i++)
            /* == and not the bits: a sum of nothing may be −0 one way */
            if (!(C1[i] == C2[i]))
              {
                g_test_fail_printf ("sparse %d×%d×%d %c%c density %.2f: %g at %" G_GSIZE_FORMAT
                                    ", the dense product gives %g", M, N, K, ta ? 'T' : 'N',
                                    tb ? 'T' : 'N', densities[d], C2[i], i, C1[i]);
                return;
              }
        }
}

/* More than one A block (M > mc) and more than one B panel (N > nc). */
static void
test_many_blocks (void)
{
  if (skip_without_avx512 ())
    return;
  CsRng rng;
  cs_rng_init (&rng, 13);
  /* With kc = 384, A blocks hold ≤ 256 rows and B panels ≤ 1344 columns
   * (A_FLOATS = 96 Ki, B_FLOATS = 512 Ki): two or three of each, alone
   * and together (the packed B panel then serves several A blocks). */
  const int shapes[][3] = { { 257, 40, 384 }, { 520, 33, 380 }, { 9, 1500, 384 },
                            { 70, 3000, 700 }, { 264, 1350, 384 } };
  for (gsize s = 0; s < G_N_ELEMENTS (shapes); s++)
    for (int t = 0; t < 4; t++)
      {
        Case c = { shapes[s][0], shapes[s][1], shapes[s][2], t & 1, t >> 1, 1, 1.0f, 0.5f, FALSE };
        run_case (&c, &rng);
      }
}

/* The GEMMs of one SimpleCNN and one MLP training step at batch 64,
 * with their own transposes and betas (forward assigns, dW accumulates). */
static void
test_model_shapes (void)
{
  if (skip_without_avx512 ())
    return;
  CsRng rng;
  cs_rng_init (&rng, 14);
  const Case cases[] = {
    /* SimpleCNN: conv1 (1 → 32, 28 × 28), conv2 (32 → 64, 14 × 14), 3136 → 128 → 10 */
    { 32, 50176, 9, FALSE, FALSE, 0, 1.0f, 0.0f },     /* conv1 forward */
    { 32, 9, 50176, FALSE, TRUE, 0, 1.0f, 1.0f },      /* conv1 dW */
    { 64, 12544, 288, FALSE, FALSE, 0, 1.0f, 0.0f },   /* conv2 forward */
    { 64, 288, 12544, FALSE, TRUE, 0, 1.0f, 1.0f },    /* conv2 dW */
    { 288, 12544, 64, TRUE, FALSE, 0, 1.0f, 0.0f },    /* conv2 dcols */
    { 64, 128, 3136, FALSE, TRUE, 0, 1.0f, 0.0f },     /* linear1 forward */
    { 128, 3136, 64, TRUE, FALSE, 0, 1.0f, 1.0f },     /* linear1 dW */
    { 64, 3136, 128, FALSE, FALSE, 0, 1.0f, 0.0f },    /* linear1 dX */
    { 64, 10, 128, FALSE, TRUE, 0, 1.0f, 0.0f },       /* linear2 forward */
    { 10, 128, 64, TRUE, FALSE, 0, 1.0f, 1.0f },       /* linear2 dW */
    { 64, 128, 10, FALSE, FALSE, 0, 1.0f, 0.0f },      /* linear2 dX */
    /* MLP 784 → 256 → 10 */
    { 64, 256, 784, FALSE, TRUE, 0, 1.0f, 0.0f },
    { 256, 784, 64, TRUE, FALSE, 0, 1.0f, 1.0f },
    { 64, 10, 256, FALSE, TRUE, 0, 1.0f, 0.0f },
    { 10, 256, 64, TRUE, FALSE, 0, 1.0f, 1.0f },
    { 64, 256, 10, FALSE, FALSE, 0, 1.0f, 0.0f },
  };
  for (gsize s = 0; s < G_N_ELEMENTS (cases); s++)
    run_case (&cases[s], &rng);
}

/* Several threads at once, each with its own packing buffers. */
typedef struct
{
  int id;
  int failures;
} Worker;

static gpointer
worker_main (gpointer data)
{
  Worker *w = data;
  CsRng rng;
  cs_rng_init (&rng, 100 + w->id);
  for (int round = 0; round < 4; round++)
    {
      int M = 8 + 13 * w->id + round, N = 40 + 31 * round, K = 300 + 50 * w->id;
      gboolean ta = (w->id + round) & 1, tb = ((w->id + round) >> 1) & 1;
      int lda = ta ? M : K, ldb = tb ? K : N;
      g_autofree float *A = new_matrix (ta ? K : M, lda, lda, NAN, &rng);
      g_autofree float *B = new_matrix (tb ? N : K, ldb, ldb, NAN, &rng);
      g_autofree float *C = g_new0 (float, (gsize) M * N);
      g_autofree float *R = g_new0 (float, (gsize) M * N);
      cs_gemm_avx512 (ta, tb, M, N, K, 1.0f, A, lda, B, ldb, 0.0f, C, N);
      cs_backend_ref ()->gemm (ta, tb, M, N, K, 1.0f, A, lda, B, ldb, 0.0f, R, N);
      double scale = 1e-6, diff = 0.0;
      for (gsize i = 0; i < (gsize) M * N; i++)
        {
          scale = MAX (scale, fabs (R[i]));
          diff = MAX (diff, fabs ((double) C[i] - R[i]));
        }
      w->failures += !(diff <= 1e-5 * scale);
    }
  return NULL;
}

static void
test_threads (void)
{
  if (skip_without_avx512 ())
    return;
  Worker workers[4];
  GThread *threads[G_N_ELEMENTS (workers)];
  for (gsize i = 0; i < G_N_ELEMENTS (workers); i++)
    {
      workers[i] = (Worker) { (int) i, 0 };
      threads[i] = g_thread_new ("gemm", worker_main, &workers[i]);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (workers); i++)
    {
      g_thread_join (threads[i]);
      g_assert_cmpint (workers[i].failures, ==, 0);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/core/gemm-avx512/edges", test_edges);
  g_test_add_func ("/core/gemm-avx512/beta-zero-nan", test_beta_zero_nan);
  g_test_add_func ("/core/gemm-avx512/no-product", test_no_product);
  g_test_add_func ("/core/gemm-avx512/many-blocks", test_many_blocks);
  g_test_add_func ("/core/gemm-avx512/sparse", test_sparse);
  g_test_add_func ("/core/gemm-avx512/model-shapes", test_model_shapes);
  g_test_add_func ("/core/gemm-avx512/threads", test_threads);
  return g_test_run ();
}
