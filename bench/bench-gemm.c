/* bench-gemm.c — GFLOP/s of OpenBLAS's sgemm and of our AVX-512 GEMM, one
 * thread, on the GEMMs of a SimpleCNN training step at batch 64
 *
 *   build/bench/bench-gemm [--reps 7] [--min-ms 40] [--shape 64x10x128:NT …]
 *
 * Each GEMM is run with the strides, transposes and beta the layers use,
 * whole (one thread) and as the first of the two blocks cpu_gemm gives each
 * thread of two (a row or column block, with the strides of the whole).
 * Each repetition times the two implementations one after the other over
 * at least --min-ms; the table gives the best repetition and, in brackets,
 * the median, so that the noise of a shared machine shows.
 */
#include "core/gemm-avx512.h"
#include "core/rng.h"
#include "core/tensor.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct
{
  const char *name;
  gboolean ta, tb;
  int M, N, K;
  float beta;
} Shape;

/* SimpleCNN at batch 64: conv1 (1 → 32, 28 × 28, P = 784), conv2 (32 → 64,
 * 14 × 14, P = 196), linear1 3136 → 128. N·P columns per GEMM. */
static const Shape preset_shapes[] = {
  { "conv1 forward", FALSE, FALSE, 32, 50176, 9, 0.0f },       /* W · cols */
  { "conv2 forward", FALSE, FALSE, 64, 12544, 288, 0.0f },
  { "conv2 dW", FALSE, TRUE, 64, 288, 12544, 1.0f },           /* dout · colsᵀ */
  { "conv2 dcols", TRUE, FALSE, 288, 12544, 64, 0.0f },        /* Wᵀ · dout */
  { "linear1 forward", FALSE, TRUE, 64, 128, 3136, 0.0f },     /* x · Wᵀ */
  { "linear1 dW", TRUE, FALSE, 128, 3136, 64, 1.0f },          /* doutᵀ · x */
  { "linear1 dX", FALSE, FALSE, 64, 3136, 128, 0.0f },         /* dout · W */
  { "conv1 dW", FALSE, TRUE, 32, 9, 50176, 1.0f },             /* (not in the brief's list) */
};

typedef void (*GemmFunc) (gboolean ta, gboolean tb, int M, int N, int K, float alpha,
                          const float *A, int lda, const float *B, int ldb, float beta,
                          float *C, int ldc);

static void
openblas_gemm (gboolean ta, gboolean tb, int M, int N, int K, float alpha,
               const float *A, int lda, const float *B, int ldb, float beta,
               float *C, int ldc)
{
  cblas_sgemm (CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
               M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

/* One GEMM call: a block of a whole problem, with the whole's strides. */
typedef struct
{
  gboolean ta, tb;
  int M, N, K;
  const float *A, *B;
  float *C;
  int lda, ldb, ldc;
  float beta;
} Call;

static void
call_run (const Call *c, GemmFunc f)
{
  f (c->ta, c->tb, c->M, c->N, c->K, 1.0f, c->A, c->lda, c->B, c->ldb, c->beta, c->C, c->ldc);
}

/* Task 0 of 2 in cpu_gemm (backend-cpu.c): rows when C is taller than
 * wide (aligned to 8), else columns (aligned to 16). */
static Call
first_half (const Call *w)
{
  Call c = *w;
  if (w->M > w->N)
    {
      int units = (w->M + 7) / 8;
      c.M = MIN (units / 2 * 8, w->M);
    }
  else
    {
      int units = (w->N + 15) / 16;
      c.N = MIN (units / 2 * 16, w->N);
    }
  return c;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

/* Seconds per call over one repetition of at least min_s. */
static double
time_calls (const Call *c, GemmFunc f, double min_s)
{
  int iters = 0;
  gint64 t0 = g_get_monotonic_time (), t;
  do
    {
      call_run (c, f);
      iters++;
      t = g_get_monotonic_time ();
    }
  while ((t - t0) < min_s * 1e6);
  return (t - t0) / 1e6 / iters;
}

static void
bench (const char *name, const Call *c, int reps, double min_s, gboolean ours)
{
  double flop = 2.0 * c->M * c->N * c->K;
  double *t_blas = g_new (double, reps), *t_ours = g_new (double, reps);

  call_run (c, openblas_gemm);  /* warm the caches and the packing buffers */
  if (ours)
    call_run (c, cs_gemm_avx512);
  for (int r = 0; r < reps; r++)
    {
      t_blas[r] = time_calls (c, openblas_gemm, min_s);
      t_ours[r] = ours ? time_calls (c, cs_gemm_avx512, min_s) : NAN;
    }
  qsort (t_blas, reps, sizeof (double), cmp_double);
  qsort (t_ours, reps, sizeof (double), cmp_double);

  char dims[64];
  g_snprintf (dims, sizeof dims, "%d×%d×%d %c%c", c->M, c->N, c->K,
              c->ta ? 'T' : 'N', c->tb ? 'T' : 'N');
  printf ("%-22s %-20s %7.1f (%6.1f)  %7.1f (%6.1f)  %5.2f×\n", name, dims,
          flop / t_blas[0] / 1e9, flop / t_blas[reps / 2] / 1e9,
          flop / t_ours[0] / 1e9, flop / t_ours[reps / 2] / 1e9, t_blas[0] / t_ours[0]);
  fflush (stdout);
  g_free (t_blas);
  g_free (t_ours);
}

/* 64-byte aligned, as the model's buffers are (cs_alloc_floats): a
 * misaligned C costs both GEMMs dearly (each vector store splits a line). */
static float *
random_floats (gsize n, CsRng *rng)
{
  float *x = cs_alloc_floats (n);
  for (gsize i = 0; i < n; i++)
    x[i] = (float) (2.0 * cs_rng_uniform (rng) - 1.0);
  return x;
}

int
main (int argc, char **argv)
{
  int reps = 7;
  double min_ms = 40.0;
  g_auto(GStrv) shape_args = NULL;
  GOptionEntry entries[] = {
    { "reps", 'r', 0, G_OPTION_ARG_INT, &reps, "Repetitions per GEMM (7)", "N" },
    { "min-ms", 't', 0, G_OPTION_ARG_DOUBLE, &min_ms, "Milliseconds per repetition (40)", "MS" },
    { "shape", 's', 0, G_OPTION_ARG_STRING_ARRAY, &shape_args,
      "Time this GEMM instead of the SimpleCNN's (repeatable; beta 0)", "MxNxK:NT" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("— OpenBLAS vs AVX-512 SGEMM");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("bench-gemm: %s\n", error->message);
      return 1;
    }
  reps = CLAMP (reps, 1, 1000);

  const Shape *shapes = preset_shapes;
  gsize n_shapes = G_N_ELEMENTS (preset_shapes);
  g_autofree Shape *custom = NULL;
  if (shape_args != NULL)
    {
      n_shapes = g_strv_length (shape_args);
      custom = g_new0 (Shape, n_shapes);
      for (gsize i = 0; i < n_shapes; i++)
        {
          char ta = 'N', tb = 'N';
          Shape *sh = &custom[i];
          if (sscanf (shape_args[i], "%dx%dx%d:%c%c", &sh->M, &sh->N, &sh->K, &ta, &tb) < 3
              || sh->M <= 0 || sh->N <= 0 || sh->K <= 0)
            {
              g_printerr ("bench-gemm: “%s” is not MxNxK[:NT]\n", shape_args[i]);
              return 1;
            }
          sh->name = shape_args[i];
          sh->ta = ta == 'T';
          sh->tb = tb == 'T';
        }
      shapes = custom;
    }

  openblas_set_num_threads (1);
  /* ours runs where the CPU can, even with CONVSCOPE_NO_AVX512 set */
  gboolean ours = TRUE;
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init ();
  ours = __builtin_cpu_supports ("avx512f");
#else
  ours = FALSE;
#endif
  printf ("OpenBLAS %s, one thread; ours %s. GFLOP/s, best of %d (median):\n",
          openblas_get_corename (), ours ? "AVX-512" : "not available (no AVX-512F)", reps);
  printf ("%-22s %-20s %17s  %17s  %6s\n", "GEMM", "M×N×K op", "OpenBLAS", "ours", "speedup");

  CsRng rng;
  cs_rng_init (&rng, 1);
  for (gsize s = 0; s < n_shapes; s++)
    {
      const Shape *sh = &shapes[s];
      int lda = sh->ta ? sh->M : sh->K, ldb = sh->tb ? sh->K : sh->N;
      float *A = random_floats ((gsize) sh->M * sh->K, &rng);
      float *B = random_floats ((gsize) sh->K * sh->N, &rng);
      float *C = random_floats ((gsize) sh->M * sh->N, &rng);
      Call whole = { sh->ta, sh->tb, sh->M, sh->N, sh->K, A, B, C, lda, ldb, sh->N, sh->beta };

      /* the two agree before either is timed */
      if (ours)
        {
          g_autofree float *C2 = g_memdup2 (C, sizeof (float) * sh->M * sh->N);
          Call other = whole;
          other.C = C2;
          call_run (&whole, openblas_gemm);
          call_run (&other, cs_gemm_avx512);
          double diff = 0.0, scale = 1e-6;
          for (gsize i = 0; i < (gsize) sh->M * sh->N; i++)
            {
              scale = MAX (scale, fabs (C[i]));
              diff = MAX (diff, fabs ((double) C[i] - C2[i]));
            }
          if (!(diff <= 1e-4 * scale))
            {
              g_printerr ("bench-gemm: %s: the two differ by %g at scale %g\n", sh->name,
                          diff, scale);
              return 1;
            }
        }

      bench (sh->name, &whole, reps, min_ms / 1e3, ours);
      Call half = first_half (&whole);
      bench ("  half (2 threads)", &half, reps, min_ms / 1e3, ours);
      cs_free (A);
      cs_free (B);
      cs_free (C);
    }
  return 0;
}
