/* test-backend.c — the CPU backend's fast paths against the plain loops
 *
 * GEMM (our AVX-512 kernels or OpenBLAS: meson runs this program a second
 * time with CONVSCOPE_NO_AVX512 set, which also turns off the AVX-512 loops
 * of cpu-avx512.c), the contiguous im2col/col2im, the whole convolution,
 * pooling and the element-wise operations against the reference table, over shapes that hit every edge: transposes,
 * odd sizes, strides, padding, dilation, rectangular kernels.
 */
#include "core/backend.h"
#include "core/error.h"
#include "core/parallel.h"
#include "core/rng.h"

#include <math.h>
#include <string.h>

static void
fill_random (float *x, gsize n, CsRng *rng)
{
  for (gsize i = 0; i < n; i++)
    x[i] = (float) (2.0 * cs_rng_uniform (rng) - 1.0);
}

static void
assert_close (const float *a, const float *b, gsize n, double rtol, const char *what)
{
  double scale = 1e-6, diff = 0.0;
  for (gsize i = 0; i < n; i++)
    {
      scale = MAX (scale, fabs ((double) b[i]));
      diff = MAX (diff, fabs ((double) a[i] - b[i]));
    }
  if (!(diff <= rtol * scale))
    g_test_fail_printf ("%s: largest difference %.3g at scale %.3g", what, diff, scale);
}

static void
test_gemm (void)
{
  const CsBackend *cpu = cs_backend_cpu (), *ref = cs_backend_ref ();
  /* N = 15 and 16: either side of where the AVX-512 GEMM takes over; 12
   * and 13 of where the narrow A · Bᵀ does; the others are split over the
   * two threads, by columns or by rows */
  const int sizes[][3] = { { 1, 1, 1 }, { 7, 5, 3 }, { 64, 256, 784 }, { 33, 17, 65 },
                           { 10, 128, 1 }, { 300, 15, 40 }, { 300, 16, 40 }, { 290, 70, 50 },
                           { 32, 9, 784 }, { 64, 10, 128 }, { 5, 12, 47 }, { 9, 13, 33 } };
  CsRng rng;
  cs_rng_init (&rng, 3);

  for (gsize s = 0; s < G_N_ELEMENTS (sizes); s++)
    for (int ta = 0; ta < 2; ta++)
      for (int tb = 0; tb < 2; tb++)
        {
          int M = sizes[s][0], N = sizes[s][1], K = sizes[s][2];
          int lda = ta ? M : K, ldb = tb ? K : N;
          g_autofree float *A = g_new (float, (gsize) M * K);
          g_autofree float *B = g_new (float, (gsize) K * N);
          g_autofree float *C1 = g_new (float, (gsize) M * N);
          g_autofree float *C2 = g_new (float, (gsize) M * N);
          fill_random (A, (gsize) M * K, &rng);
          fill_random (B, (gsize) K * N, &rng);
          fill_random (C1, (gsize) M * N, &rng);
          memcpy (C2, C1, sizeof (float) * M * N);
          cpu->gemm (ta, tb, M, N, K, 0.5f, A, lda, B, ldb, 0.25f, C1, N);
          ref->gemm (ta, tb, M, N, K, 0.5f, A, lda, B, ldb, 0.25f, C2, N);
          g_autofree char *what = g_strdup_printf ("gemm %d×%d×%d %c%c", M, N, K,
                                                   ta ? 'T' : 'N', tb ? 'T' : 'N');
          assert_close (C1, C2, (gsize) M * N, 1e-5, what);
        }
}

static void
test_im2col_col2im (void)
{
  const CsBackend *cpu = cs_backend_cpu (), *ref = cs_backend_ref ();
  /* C, H, W, kh, kw, sh, sw, ph, pw, dh, dw */
  const int geoms[][11] = {
    { 1, 5, 5, 3, 3, 1, 1, 0, 0, 1, 1 },
    { 3, 9, 9, 3, 3, 2, 2, 1, 1, 2, 2 },
    { 2, 6, 9, 2, 3, 1, 2, 0, 1, 1, 1 },
    { 4, 7, 7, 1, 1, 2, 2, 0, 0, 1, 1 },
    { 1, 28, 28, 3, 3, 1, 1, 1, 1, 1, 1 },
    { 2, 4, 4, 3, 3, 3, 1, 2, 2, 1, 2 },
    { 1, 3, 8, 5, 1, 1, 3, 2, 0, 1, 1 },
  };
  CsRng rng;
  cs_rng_init (&rng, 4);

  for (gsize k = 0; k < G_N_ELEMENTS (geoms); k++)
    for (int N = 1; N <= 5; N += 4)  /* one image, and a batch split over threads */
      {
        const int *v = geoms[k];
        CsSlidingWindow g = { v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10] };
        g.OH = cs_window_out_size (g.H, g.kh, g.sh, g.ph, g.dh);
        g.OW = cs_window_out_size (g.W, g.kw, g.sw, g.pw, g.dw);
        g_assert_cmpint (g.OH, >, 0);
        g_assert_cmpint (g.OW, >, 0);
        gsize rows = (gsize) g.C * g.kh * g.kw, ld = (gsize) N * g.OH * g.OW;
        gsize img_n = (gsize) N * g.C * g.H * g.W;

        g_autofree float *img = g_new (float, img_n);
        g_autofree float *c1 = g_new0 (float, rows * ld);
        g_autofree float *c2 = g_new0 (float, rows * ld);
        fill_random (img, img_n, &rng);
        cpu->im2col (c1, img, N, &g);
        ref->im2col (c2, img, N, &g);
        g_assert_cmpmem (c1, rows * ld * sizeof (float), c2, rows * ld * sizeof (float));

        /* col2im accumulates the adjoint: ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩ */
        g_autofree float *cols = g_new0 (float, rows * ld);
        fill_random (cols, rows * ld, &rng);
        g_autofree float *i1 = g_new (float, img_n);
        g_autofree float *i2 = g_new (float, img_n);
        fill_random (i1, img_n, &rng);
        memcpy (i2, i1, img_n * sizeof (float));
        cpu->col2im (i1, cols, N, &g);
        ref->col2im (i2, cols, N, &g);
        assert_close (i1, i2, img_n, 1e-6, "col2im");

        g_autofree float *z = g_new0 (float, img_n);
        cpu->col2im (z, cols, N, &g);
        double lhs = 0.0, rhs = 0.0;
        for (gsize i = 0; i < rows * ld; i++)
          lhs += (double) c1[i] * cols[i];
        for (gsize i = 0; i < img_n; i++)
          rhs += (double) img[i] * z[i];
        g_assert_cmpfloat_with_epsilon (lhs, rhs, 1e-4 * MAX (1.0, fabs (lhs)));
      }
}

/* The whole convolution (conv_forward, conv_backward): the CPU's image by
 * image against the reference's unrolled batch, on geometries that take
 * each of its paths: "same" padding (with dilation, a rectangular kernel,
 * planes narrower than a vector and wider than two), stride 1 without
 * padding, strides; one image split by output channels over the threads,
 * a batch split over them, and one thread; with and without bias and dinp. */
static void
test_conv (void)
{
  const CsBackend *cpu = cs_backend_cpu (), *ref = cs_backend_ref ();
  /* C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, C_out */
  const int geoms[][12] = {
    { 1, 28, 28, 3, 3, 1, 1, 1, 1, 1, 1, 32 },    /* the SimpleCNN's */
    { 32, 14, 14, 3, 3, 1, 1, 1, 1, 1, 1, 64 },
    { 3, 9, 11, 3, 5, 1, 1, 1, 2, 1, 1, 5 },
    { 2, 8, 8, 3, 3, 1, 1, 2, 2, 2, 2, 4 },
    { 2, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 3 },
    { 1, 5, 40, 3, 3, 1, 1, 1, 1, 1, 1, 9 },
    { 1, 5, 5, 3, 3, 1, 1, 0, 0, 1, 1, 2 },
    { 3, 9, 9, 3, 3, 2, 2, 1, 1, 2, 2, 7 },
    { 2, 6, 9, 2, 3, 1, 2, 0, 1, 1, 1, 3 },
  };
  CsRng rng;
  cs_rng_init (&rng, 7);

  for (gsize k = 0; k < G_N_ELEMENTS (geoms); k++)
    for (int variant = 0; variant < 5; variant++)
      {
        /* 0: one image, 1: a batch, 2: a batch without bias or dinp,
         * 3: a batch on one thread, 4: a batch with dout mostly zero (as
         * behind max pooling: the sparse products) */
        const int *v = geoms[k];
        int N = variant == 0 ? 1 : 5, CO = v[11];
        gboolean bias = variant != 2;
        CsSlidingWindow g = { v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10] };
        g.OH = cs_window_out_size (g.H, g.kh, g.sh, g.ph, g.dh);
        g.OW = cs_window_out_size (g.W, g.kw, g.sw, g.pw, g.dw);
        gsize in_n = (gsize) N * g.C * g.H * g.W, out_n = (gsize) N * CO * g.OH * g.OW;
        gsize w_n = (gsize) CO * g.C * g.kh * g.kw;
        g_autofree char *what = g_strdup_printf ("conv %d×%d×%d k%d×%d s%d p%d d%d, N %d, "
                                                 "variant %d", g.C, g.H, g.W, g.kh, g.kw,
                                                 g.sh, g.ph, g.dh, N, variant);

        g_autofree float *x = g_new (float, in_n), *w = g_new (float, w_n);
        g_autofree float *b = g_new (float, CO), *dy = g_new (float, out_n);
        g_autofree float *y1 = g_new (float, out_n), *y2 = g_new (float, out_n);
        g_autofree float *dx1 = g_new (float, in_n), *dx2 = g_new (float, in_n);
        g_autofree float *dw1 = g_new (float, w_n), *dw2 = g_new (float, w_n);
        g_autofree float *db1 = g_new (float, CO), *db2 = g_new (float, CO);
        g_autofree float *s1 = g_new0 (float, cpu->conv_scratch (N, CO, &g));
        g_autofree float *s2 = g_new0 (float, ref->conv_scratch (N, CO, &g));
        fill_random (x, in_n, &rng);
        fill_random (w, w_n, &rng);
        fill_random (b, CO, &rng);
        fill_random (dy, out_n, &rng);
        if (variant == 4)
          for (gsize i = 0; i < out_n; i++)
            if (cs_rng_below (&rng, 8) != 0)
              dy[i] = 0.0f;
        fill_random (y1, out_n, &rng);   /* assigned: what was there goes */
        fill_random (dx1, in_n, &rng);
        memcpy (dx2, dx1, in_n * sizeof (float));
        fill_random (dw1, w_n, &rng);    /* accumulated onto */
        memcpy (dw2, dw1, w_n * sizeof (float));
        fill_random (db1, CO, &rng);
        memcpy (db2, db1, CO * sizeof (float));

        if (variant == 3)
          cs_backend_cpu_set_threads (1);
        cpu->conv_forward (y1, s1, x, w, bias ? b : NULL, N, CO, &g);
        ref->conv_forward (y2, s2, x, w, bias ? b : NULL, N, CO, &g);
        assert_close (y1, y2, out_n, 1e-5, what);
        cpu->conv_backward (bias ? dx1 : NULL, dw1, bias ? db1 : NULL, s1, dy, x, w, N, CO, &g);
        ref->conv_backward (bias ? dx2 : NULL, dw2, bias ? db2 : NULL, s2, dy, x, w, N, CO, &g);
        if (variant == 3)
          cs_backend_cpu_set_threads (2);
        assert_close (dx1, dx2, in_n, 1e-5, what);
        assert_close (dw1, dw2, w_n, 1e-5, what);
        assert_close (db1, db2, CO, 1e-6, what);
      }
}

/* The convolution gives the same bits on one thread and on two: it cuts
 * the batch into the same groups of images whatever the threads, and sums
 * their partial dW and db in group order. The SimpleCNN's second
 * convolution on a batch of 20, with dout dense and mostly zero. */
static void
test_conv_threads (void)
{
  const CsBackend *cpu = cs_backend_cpu ();
  CsSlidingWindow g = { 32, 14, 14, 3, 3, 1, 1, 1, 1, 1, 1, 14, 14 };
  const int N = 20, CO = 64;
  gsize in_n = (gsize) N * 32 * 196, out_n = (gsize) N * CO * 196, w_n = (gsize) CO * 288;
  CsRng rng;
  cs_rng_init (&rng, 8);

  g_autofree float *x = g_new (float, in_n), *w = g_new (float, w_n), *b = g_new (float, CO);
  g_autofree float *dy = g_new (float, out_n);
  g_autofree float *s = g_new0 (float, cpu->conv_scratch (N, CO, &g));
  fill_random (x, in_n, &rng);
  fill_random (w, w_n, &rng);
  fill_random (b, CO, &rng);
  for (int zeros = 0; zeros < 2; zeros++)
    {
      float *y[2], *dx[2], *dw[2], *db[2];
      fill_random (dy, out_n, &rng);
      if (zeros)
        for (gsize i = 0; i < out_n; i++)
          if (cs_rng_below (&rng, 6) != 0)
            dy[i] = 0.0f;
      for (int t = 0; t < 2; t++)
        {
          cs_backend_cpu_set_threads (t + 1);
          y[t] = g_new (float, out_n);
          dx[t] = g_new (float, in_n);
          dw[t] = g_new0 (float, w_n);
          db[t] = g_new0 (float, CO);
          cpu->conv_forward (y[t], s, x, w, b, N, CO, &g);
          cpu->conv_backward (dx[t], dw[t], db[t], s, dy, x, w, N, CO, &g);
        }
      g_assert_cmpmem (y[0], out_n * sizeof (float), y[1], out_n * sizeof (float));
      g_assert_cmpmem (dx[0], in_n * sizeof (float), dx[1], in_n * sizeof (float));
      g_assert_cmpmem (dw[0], w_n * sizeof (float), dw[1], w_n * sizeof (float));
      g_assert_cmpmem (db[0], CO * sizeof (float), db[1], CO * sizeof (float));
      for (int t = 0; t < 2; t++)
        {
          g_free (y[t]);
          g_free (dx[t]);
          g_free (dw[t]);
          g_free (db[t]);
        }
    }
  cs_backend_cpu_set_threads (2);
}

/* The 2×2 max pool has its own loop: it must pick the same winners as the
 * reference, ties to the first cell in row-major order, a NaN outright. */
static void
test_maxpool_fast_path (void)
{
  const CsBackend *cpu = cs_backend_cpu (), *ref = cs_backend_ref ();
  CsRng rng;
  cs_rng_init (&rng, 5);
  const int sizes[][2] = { { 28, 28 }, { 7, 9 }, { 2, 2 }, { 5, 4 } };

  for (gsize s = 0; s < G_N_ELEMENTS (sizes); s++)
    {
      CsSlidingWindow g = { 1, sizes[s][0], sizes[s][1], 2, 2, 2, 2, 0, 0, 1, 1, 0, 0 };
      g.OH = cs_window_out_size (g.H, 2, 2, 0, 1);
      g.OW = cs_window_out_size (g.W, 2, 2, 0, 1);
      const int planes = 70;
      gsize in_n = (gsize) planes * g.H * g.W, out_n = (gsize) planes * g.OH * g.OW;
      g_autofree float *x = g_new (float, in_n);
      for (gsize i = 0; i < in_n; i++)  /* few distinct values: many ties */
        x[i] = (float) cs_rng_below (&rng, 4) - 1.0f;
      x[3] = NAN;
      x[in_n - 1] = NAN;
      x[g.W] = -INFINITY;
      g_autofree float *o1 = g_new (float, out_n), *o2 = g_new (float, out_n);
      g_autofree gint32 *a1 = g_new (gint32, out_n), *a2 = g_new (gint32, out_n);
      cpu->pool_forward (o1, a1, x, planes, &g, CS_POOL_MAX);
      ref->pool_forward (o2, a2, x, planes, &g, CS_POOL_MAX);
      g_assert_cmpmem (a1, out_n * sizeof (gint32), a2, out_n * sizeof (gint32));
      for (gsize i = 0; i < out_n; i++)
        g_assert_true (o1[i] == o2[i] || (isnan (o1[i]) && isnan (o2[i])));

      g_autofree float *dy = g_new (float, out_n);
      g_autofree float *d1 = g_new (float, in_n), *d2 = g_new (float, in_n);
      fill_random (dy, out_n, &rng);
      cpu->pool_backward (d1, dy, a1, planes, &g, CS_POOL_MAX);
      ref->pool_backward (d2, dy, a2, planes, &g, CS_POOL_MAX);
      g_assert_cmpmem (d1, in_n * sizeof (float), d2, in_n * sizeof (float));
    }
}

/* The split element-wise operations against the plain loops, on sizes large
 * enough to be split and with ragged ends. */
static void
test_split_ops (void)
{
  const CsBackend *cpu = cs_backend_cpu (), *ref = cs_backend_ref ();
  CsRng rng;
  cs_rng_init (&rng, 6);
  const gsize n = 100003;
  g_autofree float *a = g_new (float, n), *b = g_new (float, n);
  g_autofree float *o1 = g_new (float, n), *o2 = g_new (float, n), *fwd = g_new (float, n);
  fill_random (a, n, &rng);
  fill_random (b, n, &rng);
  a[10] = 0.0f;

  for (int kind = CS_ACT_RELU; kind <= CS_ACT_TANH; kind++)
    {
      cpu->act_forward (o1, a, n, kind, 0.01f);
      ref->act_forward (o2, a, n, kind, 0.01f);
      g_assert_cmpmem (o1, n * sizeof (float), o2, n * sizeof (float));
      memcpy (fwd, o2, n * sizeof (float));
      cpu->act_backward (o1, b, a, fwd, n, kind, 0.01f);
      ref->act_backward (o2, b, a, fwd, n, kind, 0.01f);
      g_assert_cmpmem (o1, n * sizeof (float), o2, n * sizeof (float));
    }

  /* bias over (N, C, HW) planes */
  const int N = 9, C = 31, HW = 197;
  gsize m = (gsize) N * C * HW;
  g_autofree float *x = g_new (float, m), *y1 = g_new (float, m), *y2 = g_new (float, m);
  g_autofree float *bias = g_new (float, C), *g1 = g_new0 (float, C), *g2 = g_new0 (float, C);
  fill_random (x, m, &rng);
  fill_random (bias, C, &rng);
  memcpy (y1, x, m * sizeof (float));
  memcpy (y2, x, m * sizeof (float));
  cpu->bias_add (y1, bias, N, C, HW);
  ref->bias_add (y2, bias, N, C, HW);
  g_assert_cmpmem (y1, m * sizeof (float), y2, m * sizeof (float));
  cpu->bias_grad (g1, x, N, C, HW);
  ref->bias_grad (g2, x, N, C, HW);
  assert_close (g1, g2, C, 1e-5, "bias_grad");
  cpu->swap01 (y1, x, N, C, HW);
  ref->swap01 (y2, x, N, C, HW);
  g_assert_cmpmem (y1, m * sizeof (float), y2, m * sizeof (float));

  /* Adam on split ranges: the same arithmetic as the plain loop */
  CsOptimParams hp = { .lr = 1e-3f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f,
                       .weight_decay = 0.01f };
  g_autofree float *p1 = g_new (float, n), *p2 = g_new (float, n);
  g_autofree float *m1 = g_new0 (float, n), *m2 = g_new0 (float, n);
  g_autofree float *v1 = g_new0 (float, n), *v2 = g_new0 (float, n);
  memcpy (p1, a, n * sizeof (float));
  memcpy (p2, a, n * sizeof (float));
  for (int step = 1; step <= 3; step++)
    {
      cpu->adam_update (p1, b, m1, v1, n, &hp, step);
      ref->adam_update (p2, b, m2, v2, n, &hp, step);
    }
  /* bit for bit: the same operations on each value, in the same order */
  g_assert_cmpmem (p1, n * sizeof (float), p2, n * sizeof (float));
  g_assert_cmpmem (m1, n * sizeof (float), m2, n * sizeof (float));
  g_assert_cmpmem (v1, n * sizeof (float), v2, n * sizeof (float));
  cpu->fill (o1, 0.0f, n);
  for (gsize i = 0; i < n; i++)
    g_assert_true (o1[i] == 0.0f);
}

static void
test_window_size (void)
{
  /* ⌊(H + 2p − d(k−1) − 1)/s⌋ + 1 */
  g_assert_cmpint (cs_window_out_size (5, 3, 1, 0, 1), ==, 3);
  g_assert_cmpint (cs_window_out_size (3, 2, 2, 1, 1), ==, 2);   /* MaxPool2d(2, 2, padding=1) on 3×3 */
  g_assert_cmpint (cs_window_out_size (28, 3, 1, 1, 1), ==, 28);
  g_assert_cmpint (cs_window_out_size (9, 3, 2, 1, 2), ==, 4);
  g_assert_cmpint (cs_window_out_size (2, 5, 1, 0, 1), ==, 0);   /* does not fit */
}

static void
test_dropout_mask (void)
{
  /* The same seed gives the same mask; about p of it is zero; kept values are scaled. */
  const CsBackend *be = cs_backend_cpu ();
  const gsize n = 100000;
  g_autofree float *x = g_new (float, n);
  g_autofree float *y = g_new (float, n);
  g_autofree float *m1 = g_new (float, n);
  g_autofree float *m2 = g_new (float, n);
  be->fill (x, 1.0f, n);
  be->dropout_forward (y, m1, x, n, 0.3f, 42);
  be->dropout_forward (y, m2, x, n, 0.3f, 42);
  g_assert_cmpmem (m1, n * sizeof (float), m2, n * sizeof (float));
  gsize zeros = 0;
  for (gsize i = 0; i < n; i++)
    {
      zeros += m1[i] == 0.0f;
      g_assert_true (m1[i] == 0.0f || fabsf (m1[i] - 1.0f / 0.7f) < 1e-6f);
    }
  g_assert_cmpfloat (fabs ((double) zeros / n - 0.3), <, 0.01);
  be->dropout_forward (y, m2, x, n, 0.3f, 43);
  g_assert_true (memcmp (m1, m2, n * sizeof (float)) != 0);
}

static void
test_host_memory (void)
{
  /* The host backends' memory is what cs_alloc_floats gives: zeroed, aligned. */
  const CsBackend *backends[] = { cs_backend_cpu (), cs_backend_ref () };

  for (gsize b = 0; b < G_N_ELEMENTS (backends); b++)
    {
      const CsBackend *be = backends[b];
      float src[37], back[37];
      for (int i = 0; i < 37; i++)
        src[i] = (float) i - 3.5f;

      float *p = be->alloc (sizeof src);
      g_assert_nonnull (p);
      g_assert_cmpuint ((guintptr) p % 64, ==, 0);
      for (int i = 0; i < 37; i++)
        g_assert_cmpfloat (p[i], ==, 0.0f);
      be->upload (p, src, sizeof src);
      be->download (back, p, sizeof src);
      g_assert_cmpmem (back, sizeof back, src, sizeof src);
      be->free (p);
      be->free (NULL);

      g_assert_true (cs_backend_host_view (be, back, src, 37) == src);
      g_assert_true (cs_backend_check (be, NULL));
      g_assert_nonnull (cs_backend_describe (be));
    }
}

static void
test_download_async (void)
{
  const CsBackend *be = cs_backend_cpu ();
  g_autoptr(GError) error = NULL;
  g_autoptr(CsBackendEvent) ev = cs_backend_event_new (be);
  float src[2][5] = { { 1, 2, 3, 4, 5 }, { -1, -2, -3, -4, -5 } };
  float *dst = cs_backend_host_alloc (be, sizeof src);

  cs_backend_download_async (be, dst, src[1], sizeof src[1], ev);
  cs_backend_download_async (be, dst + 5, src[0], sizeof src[0], ev);
  g_assert_true (cs_backend_sync_event (ev, &error));
  g_assert_no_error (error);
  g_assert_true (cs_backend_event_query (ev));
  g_assert_cmpmem (dst, sizeof src[1], src[1], sizeof src[1]);
  g_assert_cmpmem (dst + 5, sizeof src[0], src[0], sizeof src[0]);
  cs_backend_host_free (be, dst);
}

static void
test_for_device (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) cuda_error = NULL;
  const CsBackend *cuda = cs_backend_cuda (&cuda_error);

  g_assert_true (cs_backend_for_device ("cpu", &error) == cs_backend_cpu ());
  g_assert_no_error (error);

  /* auto: the GPU when one answers, else the CPU, never an error */
  const CsBackend *be = cs_backend_for_device ("auto", &error);
  g_assert_no_error (error);
  g_assert_true (be == (cuda != NULL ? cuda : cs_backend_cpu ()));

  be = cs_backend_for_device ("cuda", &error);
  if (cuda != NULL)
    {
      g_assert_no_error (error);
      g_assert_true (be == cuda);
      g_assert_true (be->device == CS_DEVICE_CUDA);
    }
  else
    {
      /* No device (or no CUDA in this build): a message for a person. */
      g_assert_null (be);
      g_assert_error (error, CS_ERROR, CS_ERROR_UNSUPPORTED);
      g_assert_true (g_str_has_prefix (error->message, "no CUDA device: "));
      g_assert_cmpstr (error->message, ==, cuda_error->message);
      g_test_message ("%s", error->message);
      g_clear_error (&error);
    }

  g_assert_null (cs_backend_for_device ("tpu", &error));
  g_assert_error (error, CS_ERROR, CS_ERROR_UNSUPPORTED);
  g_assert_cmpstr (error->message, ==, "unknown device “tpu” (devices: auto, cpu, cuda)");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* Two threads whatever the machine, so that the split paths run. */
  cs_backend_cpu_set_threads (2);
  g_test_add_func ("/core/backend/gemm", test_gemm);
  g_test_add_func ("/core/backend/im2col-col2im", test_im2col_col2im);
  g_test_add_func ("/core/backend/conv", test_conv);
  g_test_add_func ("/core/backend/conv-threads", test_conv_threads);
  g_test_add_func ("/core/backend/maxpool-2x2", test_maxpool_fast_path);
  g_test_add_func ("/core/backend/split-ops", test_split_ops);
  g_test_add_func ("/core/backend/window-size", test_window_size);
  g_test_add_func ("/core/backend/dropout-mask", test_dropout_mask);
  g_test_add_func ("/core/backend/host-memory", test_host_memory);
  g_test_add_func ("/core/backend/download-async", test_download_async);
  g_test_add_func ("/core/backend/for-device", test_for_device);
  return g_test_run ();
}
