/* test-gpu.c — the CUDA backend against the CPU backend
 *
 * Every comparison runs twice:
 *
 *   /core/gpu/device/…    on the GPU, cs_backend_cuda (); skipped with the
 *                         reason ("no CUDA device: …") where there is none
 *   /core/gpu/emulated/…  on the same backend with its CUDA runtime, cuBLAS
 *                         and kernels emulated on the host (core/gpu/
 *                         gpu-private.h): all of backend-cuda.c and every
 *                         kernel's arithmetic, without the device; skipped
 *                         where a GPU answers (a process uses one or the other)
 *
 * Tolerances, stated once, against the CPU backend on the same inputs:
 *
 *   exact      data movement and everything whose arithmetic is the CPU's
 *              expressions in the same order (the kernels are built with
 *              -fmad=false): im2col, col2im, bias_add, pooling both ways and
 *              its winners, ReLU/LeakyReLU, every activation backward,
 *              dropout masks, swap01, mul/add/axpy, fill, copy, MSE's
 *              gradient
 *   1e-6       of the largest value: element-wise maths through expf/tanhf
 *              (a few ulps apart on the GPU), softmax and cross-entropy, the
 *              optimizer steps, sums over the batch (bias_grad)
 *   1e-5       GEMM (cuBLAS sums in another order) and BatchNorm (its
 *              statistics are tree sums over the batch)
 *   1e-9       relative, the losses (double)
 *   1e-4       relative L2 of every gradient and parameter after one
 *              training step of each preset
 *   1e-2       relative L2 of every parameter tensor after 100 SGD steps
 *              of the MLP and the SimpleCNN from the same seed, and the
 *              same test accuracy within 0.5%. Training amplifies rounding
 *              differences: the CPU against its own reference loops
 *              (another GEMM rounding, as cuBLAS is) measured 3e-7 for the
 *              MLP and 1e-3 for the SimpleCNN, with the same accuracy.
 *   1e-3       relative L2 after CPU → GPU → CPU switching mid-run
 *
 * Each comparison reports its largest difference (g_test_message), so a
 * run on a GPU shows how close it came.
 */
#include "core/backend.h"
#include "core/dataset.h"
#include "core/error.h"
#include "core/evaluate.h"
#include "core/loss.h"
#include "core/model.h"
#include "core/optim.h"
#include "core/rng.h"

#ifdef CS_HAVE_CUDA
#include "core/gpu/gpu-private.h"
#endif

#include <math.h>
#include <string.h>

static CsDataset *digits_train, *digits_test;

/* Where there is no GPU (or no CUDA in this build): the clear message, and
 * the CPU goes on. Runs everywhere. */
static void
test_unavailable (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) chosen_error = NULL;
  const CsBackend *gpu = cs_backend_cuda (&error);
  const CsBackend *chosen = cs_backend_for_device ("cuda", &chosen_error);
  const CsBackend *automatic = cs_backend_for_device ("auto", NULL);

  if (gpu != NULL)
    {
      g_test_message ("a GPU answers: %s", cs_backend_describe (gpu));
      g_assert_true (chosen == gpu && automatic == gpu);
    }
  else
    {
      g_test_message ("%s", error->message);
      g_assert_error (error, CS_ERROR, CS_ERROR_UNSUPPORTED);
      g_assert_true (g_str_has_prefix (error->message, "no CUDA device: "));
      g_assert_null (chosen);
      g_assert_error (chosen_error, CS_ERROR, CS_ERROR_UNSUPPORTED);
      g_assert_cmpstr (chosen_error->message, ==, error->message);
      g_assert_true (automatic == cs_backend_cpu ());
    }

  /* A model on the device "auto" chose trains; with no GPU, on the CPU. */
  g_autoptr(GError) local = NULL;
  g_autoptr(CsModel) model = cs_model_new_preset ("mlp", &local);
  g_assert_no_error (local);
  g_assert_true (cs_model_reserve (model, 16, &local));
  g_assert_true (cs_model_set_device (model, automatic, &local));
  g_assert_no_error (local);
  g_assert_true (cs_model_get_backend (model) == automatic);
  CsOptimConfig config;
  cs_optim_config_init (&config, CS_OPTIM_SGD);
  g_autoptr(CsOptimizer) opt = cs_optimizer_new (model, &config);
  g_autoptr(CsBatcher) batcher = cs_batcher_new (digits_train, 16, 1);
  float x[16 * 784], probs[16 * 10];
  gint32 y[16];
  double first = 0.0, loss = 0.0;
  for (int s = 0; s < 20; s++)
    {
      guint32 n = cs_batcher_next (batcher, x, y);
      CsTensor xt = cs_tensor_view_batch (x, n, cs_model_get_input_shape (model));
      loss = cs_train_step (model, opt, &xt, y, probs, NULL);
      first = s == 0 ? loss : first;
    }
  g_assert_true (cs_model_check (model, &local));
  g_assert_true (isfinite (loss) && loss < first);
}

#ifdef CS_HAVE_CUDA

/* ---------------------------------------------------------------------------
 * Helpers
 */

enum { ON_DEVICE, EMULATED };

/* The backend under test, or NULL after g_test_skip () with the reason. */
static const CsBackend *
under_test (gconstpointer mode)
{
  g_autoptr(GError) error = NULL;
  const CsBackend *gpu = cs_backend_cuda (&error);

  if (GPOINTER_TO_INT (mode) == ON_DEVICE)
    {
      if (gpu == NULL)
        g_test_skip (error->message);
      return gpu;
    }
  if (gpu != NULL)
    {
      g_test_skip ("a GPU answers: the /core/gpu/device/ tests ran on it instead");
      return NULL;
    }
  return _cs_backend_cuda_emulated ();
}

static void
fill_random (float *x, gsize n, CsRng *rng)
{
  for (gsize i = 0; i < n; i++)
    x[i] = (float) (2.0 * cs_rng_uniform (rng) - 1.0);
}

static float *
random_floats (gsize n, CsRng *rng)
{
  float *x = g_new (float, MAX (n, 1));
  fill_random (x, n, rng);
  return x;
}

/* n values of host memory, on the backend's device */
static gpointer
up (const CsBackend *be, gconstpointer host, gsize bytes)
{
  gpointer d = be->alloc (bytes);
  g_assert_nonnull (d);
  be->upload (d, host, bytes);
  return d;
}

static void
down (const CsBackend *be, gpointer host, gconstpointer dev, gsize bytes)
{
  be->download (host, dev, bytes);
}

static void
expect_ok (const CsBackend *be)
{
  g_autoptr(GError) error = NULL;
  cs_backend_check (be, &error);
  g_assert_no_error (error);
}

/* got against want: bit for bit when rtol is 0, else the largest
 * difference at most rtol times the largest |want|. */
static void
compare (const float *got, const float *want, gsize n, double rtol, const char *what)
{
  double scale = 1e-30, diff = 0.0;
  gsize at = 0, differ = 0;

  for (gsize i = 0; i < n; i++)
    {
      scale = MAX (scale, fabs ((double) want[i]));
      double d = fabs ((double) got[i] - want[i]);
      if (memcmp (&got[i], &want[i], sizeof (float)) != 0)
        differ++;
      if (d > diff || (isnan (d) && !isnan (diff)))
        {
          diff = d;
          at = i;
        }
    }
  g_test_message ("%s: %" G_GSIZE_FORMAT " values, %" G_GSIZE_FORMAT " not bit-identical, "
                  "largest difference %.3g (scale %.3g)", what, n, differ, diff, scale);
  if (rtol == 0.0 ? differ != 0 : !(diff <= rtol * scale))
    g_test_fail_printf ("%s: %s; at [%" G_GSIZE_FORMAT "] %.9g against %.9g",
                        what, rtol == 0.0 ? "not bit for bit" : "beyond the tolerance",
                        at, n ? got[at] : 0.0, n ? want[at] : 0.0);
}

/* The device's values of dev (n floats) against the host's want. */
static void
compare_dev (const CsBackend *be, const float *dev, const float *want, gsize n, double rtol,
             const char *what)
{
  g_autofree float *got = g_new (float, MAX (n, 1));
  down (be, got, dev, n * sizeof (float));
  compare (got, want, n, rtol, what);
}

static void
compare_double (double got, double want, double rtol, const char *what)
{
  g_test_message ("%s: %.17g against %.17g", what, got, want);
  if (!(fabs (got - want) <= rtol * MAX (fabs (want), 1e-300)))
    g_test_fail_printf ("%s: %.17g against %.17g", what, got, want);
}

static CsSlidingWindow
make_window (const int v[11])
{
  CsSlidingWindow g = { v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], 0, 0 };
  g.OH = cs_window_out_size (g.H, g.kh, g.sh, g.ph, g.dh);
  g.OW = cs_window_out_size (g.W, g.kw, g.sw, g.pw, g.dw);
  g_assert_cmpint (g.OH, >, 0);
  g_assert_cmpint (g.OW, >, 0);
  return g;
}

/* ---------------------------------------------------------------------------
 * Every operation, forward and backward
 */

static void
test_gemm (gconstpointer mode)
{
  const CsBackend *be = under_test (mode), *cpu = cs_backend_cpu ();
  /* M, N, K, padding of the leading dimensions */
  const int sizes[][4] = {
    { 1, 1, 1, 0 }, { 7, 5, 3, 0 }, { 7, 5, 3, 2 }, { 64, 256, 784, 0 }, { 33, 17, 65, 3 },
    { 10, 128, 1, 0 }, { 32, 12544, 288, 0 },
  };
  CsRng rng;

  if (be == NULL)
    return;
  cs_rng_init (&rng, 3);
  for (gsize s = 0; s < G_N_ELEMENTS (sizes); s++)
    for (int ta = 0; ta < 2; ta++)
      for (int tb = 0; tb < 2; tb++)
        {
          int M = sizes[s][0], N = sizes[s][1], K = sizes[s][2], pad = sizes[s][3];
          int lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
          gsize na = (gsize) (ta ? K : M) * lda, nb = (gsize) (tb ? N : K) * ldb;
          gsize nc = (gsize) M * ldc;
          g_autofree float *A = random_floats (na, &rng);
          g_autofree float *B = random_floats (nb, &rng);
          g_autofree float *C = random_floats (nc, &rng);
          float *dA = up (be, A, na * sizeof (float)), *dB = up (be, B, nb * sizeof (float));
          float *dC = up (be, C, nc * sizeof (float));

          cpu->gemm (ta, tb, M, N, K, 0.5f, A, lda, B, ldb, 0.25f, C, ldc);
          be->gemm (ta, tb, M, N, K, 0.5f, dA, lda, dB, ldb, 0.25f, dC, ldc);
          g_autofree char *what = g_strdup_printf ("gemm %d×%d×%d %c%c ld+%d", M, N, K,
                                                   ta ? 'T' : 'N', tb ? 'T' : 'N', pad);
          compare_dev (be, dC, C, nc, 1e-5, what);
          be->free (dA);
          be->free (dB);
          be->free (dC);
        }
  expect_ok (be);
}

/* C, H, W, kh, kw, sh, sw, ph, pw, dh, dw */
static const int conv_geoms[][11] = {
  { 1, 5, 5, 3, 3, 1, 1, 0, 0, 1, 1 },      /* the worked example */
  { 3, 9, 9, 3, 3, 2, 2, 1, 1, 2, 2 },
  { 2, 6, 9, 2, 3, 1, 2, 0, 1, 1, 1 },
  { 4, 7, 7, 1, 1, 2, 2, 0, 0, 1, 1 },
  { 32, 14, 14, 3, 3, 1, 1, 1, 1, 1, 1 },   /* SimpleCNN's second convolution */
  { 2, 4, 4, 3, 3, 3, 1, 2, 2, 1, 2 },
  { 1, 3, 8, 5, 1, 1, 3, 2, 0, 1, 1 },
};

static void
test_im2col_col2im (gconstpointer mode)
{
  const CsBackend *be = under_test (mode), *cpu = cs_backend_cpu ();
  CsRng rng;

  if (be == NULL)
    return;
  cs_rng_init (&rng, 4);
  for (gsize k = 0; k < G_N_ELEMENTS (conv_geoms); k++)
    {
      CsSlidingWindow g = make_window (conv_geoms[k]);
      const int N = 3;  /* a batch: image n's columns sit at n·OH·OW */
      gsize rows = (gsize) g.C * g.kh * g.kw, P = (gsize) g.OH * g.OW;
      gsize n_img = (gsize) N * g.C * g.H * g.W, n_cols = rows * N * P;
      g_autofree float *img = random_floats (n_img, &rng);
      g_autofree float *cols = g_new0 (float, n_cols);
      float *d_img = up (be, img, n_img * sizeof (float));
      float *d_cols = be->alloc (n_cols * sizeof (float));

      cpu->im2col (cols, img, N, &g);
      be->im2col (d_cols, d_img, N, &g);
      compare_dev (be, d_cols, cols, n_cols, 0.0, "im2col");

      /* col2im accumulates: into an image that is not zero */
      fill_random (cols, n_cols, &rng);
      be->upload (d_cols, cols, n_cols * sizeof (float));
      cpu->col2im (img, cols, N, &g);
      be->col2im (d_img, d_cols, N, &g);
      compare_dev (be, d_img, img, n_img, 0.0, "col2im");
      be->free (d_img);
      be->free (d_cols);
    }
  expect_ok (be);
}

static void
test_bias (gconstpointer mode)
{
  const CsBackend *be = under_test (mode), *cpu = cs_backend_cpu ();
  const int shapes[][3] = { { 2, 3, 5 }, { 64, 32, 784 }, { 64, 128, 1 }, { 1, 300, 1 } };
  CsRng rng;

  if (be == NULL)
    return;
  cs_rng_init (&rng, 5);
  for (gsize s = 0; s < G_N_ELEMENTS (shapes); s++)
    {
      int N = shapes[s][0], C = shapes[s][1], HW = shapes[s][2];
      gsize n = (gsize) N * C * HW;
      g_autofree float *out = random_floats (n, &rng);
      g_autofree float *bias = random_floats (C, &rng);
      float *d_out = up (be, out, n * sizeof (float));
      float *d_bias = up (be, bias, C * sizeof (float));

      cpu->bias_add (out, bias, N, C, HW);
      be->bias_add (d_out, d_bias, N, C, HW);
      compare_dev (be, d_out, out, n, 0.0, "bias_add");
      /* bias_grad accumulates into bias */
      cpu->bias_grad (bias, out, N, C, HW);
      be->bias_grad (d_bias, d_out, N, C, HW);
      compare_dev (be, d_bias, bias, C, 1e-6, "bias_grad");
      be->free (d_out);
      be->free (d_bias);
    }
  expect_ok (be);
}

static void
test_pool (gconstpointer mode)
{
  const CsBackend *be = under_test (mode), *cpu = cs_backend_cpu ();
  /* C, H, W, kh, kw, sh, sw, ph, pw, dh, dw */
  const int geoms[][11] = {
    { 1, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1 },      /* MaxPool2d(2, 2, padding=1) of the lesson */
    { 32, 28, 28, 2, 2, 2, 2, 0, 0, 1, 1 },   /* SimpleCNN's */
    { 3, 7, 9, 3, 2, 2, 1, 1, 1, 1, 1 },
    { 2, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1 },      /* overlapping windows */
    { 2, 9, 9, 3, 3, 2, 2, 1, 1, 2, 2 },      /* dilated (max only) */
  };
  CsRng rng;

  if (be == NULL)
    return;
  cs_rng_init (&rng, 6);
  for (gsize k = 0; k < G_N_ELEMENTS (geoms); k++)
    for (CsPoolKind kind = CS_POOL_MAX; kind <= CS_POOL_AVG; kind++)
      {
        if (kind == CS_POOL_AVG && geoms[k][9] != 1)
          continue;
        CsSlidingWindow g = make_window (geoms[k]);
        int planes = 3 * g.C;
        gsize n_in = (gsize) planes * g.H * g.W, n_out = (gsize) planes * g.OH * g.OW;
        g_autofree float *inp = random_floats (n_in, &rng);
        /* coarse values: many ties, which the first cell must win */
        for (gsize i = 0; i < n_in; i++)
          inp[i] = roundf (inp[i] * 2.0f) / 2.0f;
        if (kind == CS_POOL_MAX && n_in > 10)
          inp[n_in / 2] = NAN;  /* a NaN wins its windows */
        g_autofree float *out = g_new (float, n_out);
        g_autofree gint32 *argmax = g_new (gint32, n_out);
        g_autofree gint32 *argmax_dev = g_new (gint32, n_out);
        float *d_in = up (be, inp, n_in * sizeof (float));
        float *d_out = be->alloc (n_out * sizeof (float));
        gint32 *d_arg = be->alloc (n_out * sizeof (gint32));
        const char *name = kind == CS_POOL_MAX ? "max pool" : "average pool";

        cpu->pool_forward (out, argmax, inp, planes, &g, kind);
        be->pool_forward (d_out, d_arg, d_in, planes, &g, kind);
        compare_dev (be, d_out, out, n_out, 0.0, name);
        if (kind == CS_POOL_MAX)
          {
            down (be, argmax_dev, d_arg, n_out * sizeof (gint32));
            g_assert_cmpmem (argmax_dev, n_out * sizeof (gint32), argmax, n_out * sizeof (gint32));
          }

        g_autofree float *dout = random_floats (n_out, &rng);
        g_autofree float *dinp = g_new (float, n_in);
        float *d_dout = up (be, dout, n_out * sizeof (float));
        cpu->pool_backward (dinp, dout, argmax, planes, &g, kind);
        be->pool_backward (d_in, d_dout, d_arg, planes, &g, kind);
        compare_dev (be, d_in, dinp, n_in, 0.0, "pool backward");
        be->free (d_in);
        be->free (d_out);
        be->free (d_arg);
        be->free (d_dout);
      }
  expect_ok (be);
}

static void
test_activation (gconstpointer mode)
{
  const CsBackend *be = under_test (mode), *cpu = cs_backend_cpu ();
  const char *names[] = { "relu", "leaky_relu", "sigmoid", "tanh" };
  const gsize n = 100003;
  CsRng rng;

  if (be == NULL)
    return;
  cs_rng_init (&rng, 7);
  for (CsActKind kind = CS_ACT_RELU; kind <= CS_ACT_TANH; kind++)
    {
      g_autofree float *inp = random_floats (n, &rng);
      for (gsize i = 0; i < n; i += 97)
        inp[i] = 0.0f;  /* the kink, where ReLU's derivative is 0 */
      for (gsize i = 0; i < n; i++)
        inp[i] *= 6.0f;
      g_autofree float *out = g_new (float, n);
      g_autofree float *dout = random_floats (n, &rng);
      g_autofree float *dinp = g_new (float, n);
      float *d_in = up (be, inp, n * sizeof (float));
      float *d_out = be->alloc (n * sizeof (float));
      float *d_dout = up (be, dout, n * sizeof (float));
      float *d_dinp = be->alloc (n * sizeof (float));

      cpu->act_forward (out, inp, n, kind, 0.05f);
      be->act_forward (d_out, d_in, n, kind, 0.05f);
      compare_dev (be, d_out, out, n, kind <= CS_ACT_LEAKY_RELU ? 0.0 : 1e-6, names[kind]);
      /* backward from the same forward values */
      be->upload (d_out, out, n * sizeof (float));
      cpu->act_backward (dinp, dout, inp, out, n, kind, 0.05f);
      be->act_backward (d_dinp, d_dout, d_in, d_out, n, kind, 0.05f);
      compare_dev (be, d_dinp, dinp, n, 0.0, "activation backward");
      be->free (d_in);
      be->free (d_out);
      be->free (d_dout);
      be->free (d_dinp);
    }
  expect_ok (be);
}

static void
test_softmax_losses (gconstpointer mode)
{
  const CsBackend *be = under_test (mode), *cpu = cs_backend_cpu ();
  CsRng rng;

  if (be == NULL)
    return;
  cs_rng_init (&rng, 8);
  const float scales[] = { 5.0f, 100.0f };  /* ordinary, and large logits */
  for (gsize s = 0; s < G_N_ELEMENTS (scales); s++)
    {
      const int N = 257, C = 10;
      gsize n = (gsize) N * C;
      g_autofree float *x = random_floats (n, &rng);
      for (gsize i = 0; i < n; i++)
        x[i] *= scales[s];
      g_autofree float *y = g_new (float, n);
      g_autofree float *dy = random_floats (n, &rng);
      g_autofree float *dx = g_new (float, n);
      g_autofree float *probs = g_new (float, n);
      g_autofree gint32 *labels = g_new (gint32, N);
      for (int i = 0; i < N; i++)
        labels[i] = (gint32) cs_rng_below (&rng, C);
      float *d_x = up (be, x, n * sizeof (float));
      float *d_y = be->alloc (n * sizeof (float));
      float *d_dy = up (be, dy, n * sizeof (float));
      float *d_dx = be->alloc (n * sizeof (float));
      float *d_probs = be->alloc (n * sizeof (float));
      gint32 *d_labels = up (be, labels, N * sizeof (gint32));

      cpu->softmax_forward (y, x, N, C);
      be->softmax_forward (d_y, d_x, N, C);
      compare_dev (be, d_y, y, n, 1e-6, "softmax");
      be->upload (d_y, y, n * sizeof (float));
      cpu->softmax_backward (dx, dy, y, N, C);
      be->softmax_backward (d_dx, d_dy, d_y, N, C);
      compare_dev (be, d_dx, dx, n, 1e-6, "softmax backward");

      double loss = cpu->cross_entropy (dx, probs, x, labels, N, C);
      double loss_dev = be->cross_entropy (d_dx, d_probs, d_x, d_labels, N, C);
      compare_double (loss_dev, loss, 1e-9, "cross-entropy");
      compare_dev (be, d_probs, probs, n, 1e-6, "cross-entropy probabilities");
      compare_dev (be, d_dx, dx, n, 1e-6, "cross-entropy gradient");

      /* MSE over more values than its grid has threads */
      const gsize m = 70001;
      g_autofree float *pred = random_floats (m, &rng);
      g_autofree float *target = random_floats (m, &rng);
      g_autofree float *dpred = g_new (float, m);
      float *d_pred = up (be, pred, m * sizeof (float));
      float *d_target = up (be, target, m * sizeof (float));
      float *d_dpred = be->alloc (m * sizeof (float));
      double mse = cpu->mse (dpred, pred, target, m);
      double mse_dev = be->mse (d_dpred, d_pred, d_target, m);
      compare_double (mse_dev, mse, 1e-9, "mse");
      compare_dev (be, d_dpred, dpred, m, 0.0, "mse gradient");

      for (float **p = (float *[]) { d_x, d_y, d_dy, d_dx, d_probs, d_pred, d_target, d_dpred,
                                     NULL }; *p; p++)
        be->free (*p);
      be->free (d_labels);
    }
  expect_ok (be);
}

static void
test_batchnorm (gconstpointer mode)
{
  const CsBackend *be = under_test (mode), *cpu = cs_backend_cpu ();
  const int shapes[][3] = { { 8, 3, 49 }, { 64, 8, 784 }, { 5, 300, 1 } };
  CsRng rng;

  if (be == NULL)
    return;
  cs_rng_init (&rng, 9);
  for (gsize s = 0; s < G_N_ELEMENTS (shapes); s++)
    for (int train = 1; train >= 0; train--)
      {
        int N = shapes[s][0], C = shapes[s][1], HW = shapes[s][2];
        gsize n = (gsize) N * C * HW;
        g_autofree float *inp = random_floats (n, &rng);
        for (gsize i = 0; i < n; i++)
          inp[i] = 3.0f * inp[i] + 0.5f;
        g_autofree float *gamma = random_floats (C, &rng);
        g_autofree float *beta = random_floats (C, &rng);
        g_autofree float *rmean = random_floats (C, &rng);
        g_autofree float *rvar = random_floats (C, &rng);
        for (int c = 0; c < C; c++)
          rvar[c] = fabsf (rvar[c]) + 0.5f;
        g_autofree float *out = g_new (float, n);
        g_autofree float *smean = g_new (float, C);
        g_autofree float *sinv = g_new (float, C);
        float *d_inp = up (be, inp, n * sizeof (float));
        float *d_gamma = up (be, gamma, C * sizeof (float));
        float *d_beta = up (be, beta, C * sizeof (float));
        float *d_rmean = up (be, rmean, C * sizeof (float));
        float *d_rvar = up (be, rvar, C * sizeof (float));
        float *d_out = be->alloc (n * sizeof (float));
        float *d_smean = be->alloc (C * sizeof (float));
        float *d_sinv = be->alloc (C * sizeof (float));

        cpu->batchnorm_forward (out, smean, sinv, rmean, rvar, inp, gamma, beta, N, C, HW,
                                1e-5f, 0.1f, train);
        be->batchnorm_forward (d_out, d_smean, d_sinv, d_rmean, d_rvar, d_inp, d_gamma, d_beta,
                               N, C, HW, 1e-5f, 0.1f, train);
        compare_dev (be, d_out, out, n, 1e-5, train ? "batchnorm (train)" : "batchnorm (eval)");
        compare_dev (be, d_smean, smean, C, 1e-5, "saved mean");
        compare_dev (be, d_sinv, sinv, C, 1e-5, "saved 1/std");
        compare_dev (be, d_rmean, rmean, C, 1e-6, "running mean");
        compare_dev (be, d_rvar, rvar, C, 1e-6, "running variance");

        /* backward from the same saved statistics, with and without dinp */
        be->upload (d_smean, smean, C * sizeof (float));
        be->upload (d_sinv, sinv, C * sizeof (float));
        g_autofree float *dout = random_floats (n, &rng);
        g_autofree float *dinp = g_new (float, n);
        g_autofree float *dgamma = random_floats (C, &rng);
        g_autofree float *dbeta = random_floats (C, &rng);
        float *d_dout = up (be, dout, n * sizeof (float));
        float *d_dinp = be->alloc (n * sizeof (float));
        float *d_dgamma = up (be, dgamma, C * sizeof (float));
        float *d_dbeta = up (be, dbeta, C * sizeof (float));
        for (int with_dinp = 1; with_dinp >= 0; with_dinp--)
          {
            cpu->batchnorm_backward (with_dinp ? dinp : NULL, dgamma, dbeta, dout, inp, smean,
                                     sinv, gamma, N, C, HW, train);
            be->batchnorm_backward (with_dinp ? d_dinp : NULL, d_dgamma, d_dbeta, d_dout, d_inp,
                                    d_smean, d_sinv, d_gamma, N, C, HW, train);
            if (with_dinp)
              compare_dev (be, d_dinp, dinp, n, 1e-5, "batchnorm backward");
            compare_dev (be, d_dgamma, dgamma, C, 1e-5, "dgamma");
            compare_dev (be, d_dbeta, dbeta, C, 1e-5, "dbeta");
          }

        for (float **p = (float *[]) { d_inp, d_gamma, d_beta, d_rmean, d_rvar, d_out, d_smean,
                                       d_sinv, d_dout, d_dinp, d_dgamma, d_dbeta, NULL };
             *p; p++)
          be->free (*p);
      }
  expect_ok (be);
}

static void
test_dropout (gconstpointer mode)
{
  const CsBackend *be = under_test (mode), *cpu = cs_backend_cpu ();
  const float ps[] = { 0.3f, 0.5f, 0.999f };
  const gsize n = 100003;
  CsRng rng;

  if (be == NULL)
    return;
  cs_rng_init (&rng, 10);
  g_autofree float *inp = random_floats (n, &rng);
  g_autofree float *out = g_new (float, n);
  g_autofree float *mask = g_new (float, n);
  float *d_in = up (be, inp, n * sizeof (float));
  float *d_out = be->alloc (n * sizeof (float));
  float *d_mask = be->alloc (n * sizeof (float));
  for (gsize k = 0; k < G_N_ELEMENTS (ps); k++)
    {
      guint64 seed = 0x243F6A8885A308D3ull * (k + 1);
      cpu->dropout_forward (out, mask, inp, n, ps[k], seed);
      be->dropout_forward (d_out, d_mask, d_in, n, ps[k], seed);
      compare_dev (be, d_mask, mask, n, 0.0, "dropout mask");
      compare_dev (be, d_out, out, n, 0.0, "dropout");
    }
  be->free (d_in);
  be->free (d_out);
  be->free (d_mask);
  expect_ok (be);
}

static void
test_elementwise (gconstpointer mode)
{
  const CsBackend *be = under_test (mode), *cpu = cs_backend_cpu ();
  const gsize n = 70001;
  CsRng rng;

  if (be == NULL)
    return;
  cs_rng_init (&rng, 11);
  g_autofree float *a = random_floats (n, &rng);
  g_autofree float *b = random_floats (n, &rng);
  g_autofree float *out = g_new (float, n);
  float *d_a = up (be, a, n * sizeof (float)), *d_b = up (be, b, n * sizeof (float));
  float *d_out = be->alloc (n * sizeof (float));

  cpu->mul (out, a, b, n);
  be->mul (d_out, d_a, d_b, n);
  compare_dev (be, d_out, out, n, 0.0, "mul");
  cpu->add (out, a, b, n);
  be->add (d_out, d_a, d_b, n);
  compare_dev (be, d_out, out, n, 0.0, "add");
  cpu->axpy (out, -0.37f, b, n);
  be->axpy (d_out, -0.37f, d_b, n);
  compare_dev (be, d_out, out, n, 0.0, "axpy");

  const float values[] = { 0.0f, -0.0f, 2.5f };
  for (gsize k = 0; k < G_N_ELEMENTS (values); k++)
    {
      cpu->fill (out, values[k], n);
      be->fill (d_out, values[k], n);
      compare_dev (be, d_out, out, n, 0.0, "fill");
    }

  /* swap01 of a small shape and of SimpleCNN's (C_out, N·P) */
  const int shapes[][3] = { { 3, 5, 7 }, { 64, 32, 196 } };
  for (gsize s = 0; s < G_N_ELEMENTS (shapes); s++)
    {
      int A = shapes[s][0], B = shapes[s][1], P = shapes[s][2];
      gsize m = (gsize) A * B * P;
      g_autofree float *src = random_floats (m, &rng);
      g_autofree float *dst = g_new (float, m);
      float *d_src = up (be, src, m * sizeof (float)), *d_dst = be->alloc (m * sizeof (float));
      cpu->swap01 (dst, src, A, B, P);
      be->swap01 (d_dst, d_src, A, B, P);
      compare_dev (be, d_dst, dst, m, 0.0, "swap01");
      be->free (d_src);
      be->free (d_dst);
    }

  /* copy, apart and overlapping (memmove) */
  be->upload (d_out, a, n * sizeof (float));
  memcpy (out, a, n * sizeof (float));
  cpu->copy (out, b, n / 2);
  be->copy (d_out, d_b, n / 2);
  compare_dev (be, d_out, out, n, 0.0, "copy");
  cpu->copy (out + 3, out, n - 3);
  be->copy (d_out + 3, d_out, n - 3);
  compare_dev (be, d_out, out, n, 0.0, "overlapping copy forwards");
  cpu->copy (out, out + 5, n - 5);
  be->copy (d_out, d_out + 5, n - 5);
  compare_dev (be, d_out, out, n, 0.0, "overlapping copy backwards");

  be->free (d_a);
  be->free (d_b);
  be->free (d_out);
  expect_ok (be);
}

static void
test_optimizers (gconstpointer mode)
{
  const CsBackend *be = under_test (mode), *cpu = cs_backend_cpu ();
  const gsize n = 70001;
  CsRng rng;

  if (be == NULL)
    return;
  cs_rng_init (&rng, 12);
  for (int variant = 0; variant < 7; variant++)
    {
      CsOptimConfig config;
      const char *what;
      switch (variant)
        {
        case 0: cs_optim_config_init (&config, CS_OPTIM_SGD); what = "SGD"; break;
        case 1:
          cs_optim_config_init (&config, CS_OPTIM_SGD);
          config.hp.momentum = 0.9f;
          config.hp.dampening = 0.1f;
          config.hp.weight_decay = 1e-2f;
          what = "SGD, momentum, dampening, weight decay";
          break;
        case 2:
          cs_optim_config_init (&config, CS_OPTIM_SGD);
          config.hp.momentum = 0.9f;
          config.hp.nesterov = TRUE;
          what = "SGD, Nesterov";
          break;
        case 3: cs_optim_config_init (&config, CS_OPTIM_ADAM); what = "Adam"; break;
        case 4:
          cs_optim_config_init (&config, CS_OPTIM_ADAM);
          config.hp.weight_decay = 1e-2f;
          what = "Adam, weight decay";
          break;
        case 5: cs_optim_config_init (&config, CS_OPTIM_RMSPROP); what = "RMSprop"; break;
        default:
          cs_optim_config_init (&config, CS_OPTIM_RMSPROP);
          config.hp.momentum = 0.9f;
          config.hp.weight_decay = 1e-3f;
          what = "RMSprop, momentum, weight decay";
          break;
        }
      g_autofree float *param = random_floats (n, &rng);
      g_autofree float *s1 = g_new0 (float, n);
      g_autofree float *s2 = g_new0 (float, n);
      float *d_param = up (be, param, n * sizeof (float));
      float *d_grad = be->alloc (n * sizeof (float));
      float *d_s1 = be->alloc (n * sizeof (float)), *d_s2 = be->alloc (n * sizeof (float));

      for (gint64 step = 1; step <= 3; step++)
        {
          g_autofree float *grad = random_floats (n, &rng);
          be->upload (d_grad, grad, n * sizeof (float));
          if (config.kind == CS_OPTIM_SGD)
            {
              cpu->sgd_update (param, grad, s1, n, &config.hp, step);
              be->sgd_update (d_param, d_grad, d_s1, n, &config.hp, step);
            }
          else if (config.kind == CS_OPTIM_ADAM)
            {
              cpu->adam_update (param, grad, s1, s2, n, &config.hp, step);
              be->adam_update (d_param, d_grad, d_s1, d_s2, n, &config.hp, step);
            }
          else
            {
              cpu->rmsprop_update (param, grad, s1, s2, n, &config.hp, step);
              be->rmsprop_update (d_param, d_grad, d_s1, d_s2, n, &config.hp, step);
            }
        }
      compare_dev (be, d_param, param, n, 1e-6, what);
      compare_dev (be, d_s1, s1, n, 1e-6, "first state");
      compare_dev (be, d_s2, s2, n, 1e-6, "second state");
      be->free (d_param);
      be->free (d_grad);
      be->free (d_s1);
      be->free (d_s2);
    }
  expect_ok (be);
}

/* ---------------------------------------------------------------------------
 * Models
 */

typedef struct
{
  CsModel *model;
  CsOptimizer *opt;
  CsBatcher *batcher;
  float *x, *probs;
  gint32 *y;
  double loss;
} Run;

static void
run_init (Run *r, const char *preset, const CsBackend *be, CsOptimKind kind, int batch)
{
  g_autoptr(GError) error = NULL;
  CsOptimConfig config;

  r->model = cs_model_new_preset (preset, &error);
  g_assert_no_error (error);
  g_assert_true (cs_model_reserve (r->model, batch, &error));
  cs_model_init (r->model, 42);
  g_assert_true (cs_model_set_device (r->model, be, &error));
  g_assert_no_error (error);
  cs_optim_config_init (&config, kind);
  if (kind == CS_OPTIM_SGD)
    config.hp.momentum = 0.9f;
  r->opt = cs_optimizer_new (r->model, &config);
  r->batcher = cs_batcher_new (digits_train, batch, 42);
  r->x = g_new (float, (gsize) batch * 784);
  r->y = g_new (gint32, batch);
  r->probs = g_new (float, (gsize) batch * 10);
}

static void
run_steps (Run *r, int steps)
{
  for (int s = 0; s < steps; s++)
    {
      guint32 n = cs_batcher_next (r->batcher, r->x, r->y);
      CsTensor x = cs_tensor_view_batch (r->x, n, cs_model_get_input_shape (r->model));
      r->loss = cs_train_step (r->model, r->opt, &x, r->y, r->probs, NULL);
    }
  g_autoptr(GError) error = NULL;
  cs_model_check (r->model, &error);
  g_assert_no_error (error);
}

static void
run_clear (Run *r)
{
  cs_optimizer_free (r->opt);
  cs_model_free (r->model);
  cs_batcher_free (r->batcher);
  g_free (r->x);
  g_free (r->y);
  g_free (r->probs);
}

static double
relative_l2 (const float *got, const float *want, gsize n)
{
  double d2 = 0.0, w2 = 0.0;
  for (gsize i = 0; i < n; i++)
    {
      d2 += ((double) got[i] - want[i]) * ((double) got[i] - want[i]);
      w2 += (double) want[i] * want[i];
    }
  return w2 > 0.0 ? sqrt (d2 / w2) : sqrt (d2);
}

/* Every parameter and buffer (and, with grads, gradient) tensor of got
 * against want, in relative L2. */
static void
compare_models (CsModel *got, CsModel *want, gboolean grads, double rtol, const char *what)
{
  g_autoptr(GError) error = NULL;
  gsize P = cs_model_get_n_params (want);
  gsize bytes = (4 * P + cs_model_get_n_buffers (want)) * sizeof (float);
  g_autofree float *a = g_memdup2 (cs_model_read_block (got, &error), bytes);
  g_assert_no_error (error);
  const float *b = cs_model_read_block (want, &error);
  g_assert_no_error (error);
  double worst = 0.0;

  for (guint i = 0; i < cs_model_get_n_entries (want); i++)
    {
      const CsModelEntry *e = cs_model_get_entry (want, i);
      if (e->param->role == CS_BUFFER_COUNTER)
        {
          g_assert_cmpint (*cs_model_get_entry (got, i)->param->counter, ==, *e->param->counter);
          continue;
        }
      gsize off = cs_model_get_entry_offset (want, e), n = (gsize) cs_tensor_numel (e->param->value);
      for (int g = 0; g < (grads && e->param->grad ? 2 : 1); g++)
        {
          gsize at = off + (g ? P : 0);
          double r = relative_l2 (a + at, b + at, n);
          worst = MAX (worst, r);
          if (!(r <= rtol))
            g_test_fail_printf ("%s: %s%s differs by %.3g (relative L2), more than %.3g",
                                what, g ? "the gradient of " : "", e->name, r, rtol);
        }
    }
  g_test_message ("%s: largest relative L2 difference %.3g", what, worst);
}

/* One training step of each preset (dropout and BatchNorm included). */
static void
test_presets (gconstpointer mode)
{
  const CsBackend *be = under_test (mode);
  const char *presets[] = { "mlp", "simple-cnn", "residual-cnn" };

  if (be == NULL)
    return;
  for (gsize i = 0; i < G_N_ELEMENTS (presets); i++)
    {
      Run cpu, dev;
      run_init (&cpu, presets[i], cs_backend_cpu (), CS_OPTIM_ADAM, 32);
      run_init (&dev, presets[i], be, CS_OPTIM_ADAM, 32);
      run_steps (&cpu, 1);
      run_steps (&dev, 1);
      compare_double (dev.loss, cpu.loss, 1e-5, presets[i]);
      compare_models (dev.model, cpu.model, TRUE, 1e-4, presets[i]);
      compare (dev.probs, cpu.probs, 32 * 10, 1e-5, "probabilities");
      run_clear (&cpu);
      run_clear (&dev);
    }
}

/* 100 steps from the same seed, then the test set. */
static void
test_train (gconstpointer data)
{
  const char *preset = strchr (data, ':') + 1;
  const CsBackend *be = under_test (GINT_TO_POINTER (g_str_has_prefix (data, "device:")
                                                     ? ON_DEVICE : EMULATED));
  Run cpu, dev;
  CsEvaluation ec, ed;

  if (be == NULL)
    return;
  run_init (&cpu, preset, cs_backend_cpu (), CS_OPTIM_SGD, 64);
  run_init (&dev, preset, be, CS_OPTIM_SGD, 64);
  run_steps (&cpu, 100);
  run_steps (&dev, 100);
  g_test_message ("%s after 100 steps: loss %.6f on the CPU, %.6f on %s", preset, cpu.loss,
                  dev.loss, cs_backend_describe (be));
  compare_models (dev.model, cpu.model, FALSE, 1e-2, preset);

  cs_evaluate (cpu.model, digits_test, &ec, NULL);
  cs_evaluate (dev.model, digits_test, &ed, NULL);
  g_autoptr(GError) error = NULL;
  g_assert_true (cs_model_check (dev.model, &error));
  g_test_message ("test accuracy: %.4f on the CPU, %.4f on %s", ec.accuracy, ed.accuracy,
                  cs_backend_describe (be));
  g_assert_cmpfloat (fabs (ec.accuracy - ed.accuracy), <=, 0.005);
  g_assert_cmpfloat (ec.accuracy, >, 0.5);
  run_clear (&cpu);
  run_clear (&dev);
}

/* CPU → GPU → CPU between batches goes on where it was. */
static void
test_switch (gconstpointer mode)
{
  const CsBackend *be = under_test (mode), *cpu = cs_backend_cpu ();
  Run straight, moved;

  if (be == NULL)
    return;
  for (CsOptimKind kind = CS_OPTIM_SGD; kind <= CS_OPTIM_ADAM; kind++)
    {
      run_init (&straight, "residual-cnn", cpu, kind, 16);
      run_init (&moved, "residual-cnn", cpu, kind, 16);
      run_steps (&straight, 15);
      run_steps (&moved, 5);
      g_assert_true (cs_model_set_device (moved.model, be, NULL));
      run_steps (&moved, 5);
      g_assert_true (cs_model_set_device (moved.model, cpu, NULL));
      run_steps (&moved, 5);
      compare_models (moved.model, straight.model, TRUE, 1e-3,
                      kind == CS_OPTIM_SGD ? "switching, SGD" : "switching, Adam");
      g_assert_cmpint (cs_optimizer_get_step (moved.opt), ==, 15);
      run_clear (&straight);
      run_clear (&moved);
    }
}

/* Snapshots: downloads queued behind the work, on their own stream. */
static void
test_download_async (gconstpointer mode)
{
  const CsBackend *be = under_test (mode);
  g_autoptr(GError) error = NULL;
  Run r;

  if (be == NULL)
    return;
  run_init (&r, "simple-cnn", be, CS_OPTIM_SGD, 16);
  run_steps (&r, 1);

  g_autoptr(CsBackendEvent) ev = cs_backend_event_new (be);
  g_assert_nonnull (ev);
  gsize P = cs_model_get_n_params (r.model);
  CsTensor act = cs_model_get_activation (r.model, 3);   /* (16, 32, 14, 14) */
  gsize na = (gsize) cs_tensor_numel (&act);
  float *snap = cs_backend_host_alloc (be, (P + na) * sizeof (float));
  g_assert_nonnull (snap);
  for (int round = 0; round < 3; round++)
    {
      /* a group of two, then training goes on and overwrites the sources */
      cs_backend_download_async (be, snap, cs_model_get_params (r.model), P * sizeof (float), ev);
      cs_backend_download_async (be, snap + P, act.data, na * sizeof (float), ev);
      g_autofree float *params = g_memdup2 (cs_model_read_block (r.model, NULL),
                                            P * sizeof (float));
      g_autofree float *acts = g_new (float, na);
      be->download (acts, act.data, na * sizeof (float));
      run_steps (&r, 1);
      g_assert_true (cs_backend_sync_event (ev, &error));
      g_assert_no_error (error);
      g_assert_true (cs_backend_event_query (ev));
      compare (snap, params, P, 0.0, "snapshot of the parameters");
      compare (snap + P, acts, na, 0.0, "snapshot of an activation");
    }
  cs_backend_host_free (be, snap);
  run_clear (&r);
}

/* A failing device: a GError with the CUDA message, work skipped until it
 * is reported, and the backend usable again after a recoverable error. */
static void
test_errors (gconstpointer mode)
{
  const CsBackend *be = under_test (mode);
  g_autoptr(GError) error = NULL;

  if (be == NULL)
    return;
  float *small = be->alloc (64 * sizeof (float));
  g_assert_nonnull (small);
  expect_ok (be);

  if (GPOINTER_TO_INT (mode) == ON_DEVICE)
    g_assert_null (be->alloc ((gsize) 1 << 52));   /* 4 PiB: out of memory */
  else
    {
      _cs_cuda_emulate_failure (0, cudaErrorMemoryAllocation);
      g_assert_null (be->alloc (100));
    }
  /* skipped, and reported once */
  be->fill (small, 1.0f, 64);
  g_assert_null (be->alloc (100));
  g_assert_false (cs_backend_check (be, &error));
  g_assert_error (error, CS_ERROR, CS_ERROR_DEVICE);
  g_test_message ("%s", error->message);
  g_assert_true (g_str_has_prefix (error->message, "the GPU failed: allocating "));
  g_assert_nonnull (strstr (error->message, "(cudaErrorMemoryAllocation)"));
  g_clear_error (&error);
  expect_ok (be);
  float host[64];
  down (be, host, small, sizeof host);
  g_assert_cmpfloat (host[0], ==, 0.0f);   /* the fill did not run */
  be->fill (small, 1.0f, 64);
  down (be, host, small, sizeof host);
  g_assert_cmpfloat (host[63], ==, 1.0f);
  be->free (small);
  expect_ok (be);

  if (GPOINTER_TO_INT (mode) == EMULATED)
    {
      /* in the middle of a training step: NAN, the reason, then on it goes */
      Run r;
      run_init (&r, "simple-cnn", be, CS_OPTIM_SGD, 16);
      run_steps (&r, 1);
      _cs_cuda_emulate_failure (1, cudaErrorLaunchFailure);   /* uploading the batch */
      guint32 n = cs_batcher_next (r.batcher, r.x, r.y);
      CsTensor x = cs_tensor_view_batch (r.x, n, cs_model_get_input_shape (r.model));
      g_assert_true (isnan (cs_train_step (r.model, r.opt, &x, r.y, r.probs, NULL)));
      g_assert_false (cs_model_check (r.model, &error));
      g_assert_error (error, CS_ERROR, CS_ERROR_DEVICE);
      g_assert_cmpstr (error->message, ==, "the GPU failed: copying to the GPU: "
                       "unspecified launch failure (cudaErrorLaunchFailure)");
      g_clear_error (&error);
      run_steps (&r, 2);
      g_assert_true (isfinite (r.loss));
      run_clear (&r);
    }
}

static void
test_dropout_hash (void)
{
  /* the device's hash, compiled for the host, is the CPU's */
  for (guint64 seed = 0; seed < 50; seed++)
    for (guint64 i = 0; i < 2000; i += 7)
      {
        guint64 s = seed * 0x9E3779B97F4A7C15ull;
        g_assert_cmpuint (cs_cuda_dropout_hash_emulate (s, i), ==, cs_dropout_hash (s, i));
      }
}

static const char *const train_cases[] = {
  "device:mlp", "device:simple-cnn", "emulated:mlp", "emulated:simple-cnn",
};

static void
add_both (const char *name, GTestDataFunc func)
{
  g_autofree char *device = g_strconcat ("/core/gpu/device/", name, NULL);
  g_autofree char *emulated = g_strconcat ("/core/gpu/emulated/", name, NULL);
  g_test_add_data_func (device, GINT_TO_POINTER (ON_DEVICE), func);
  g_test_add_data_func (emulated, GINT_TO_POINTER (EMULATED), func);
}

#endif /* CS_HAVE_CUDA */

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;

  g_test_init (&argc, &argv, NULL);
  digits_train = cs_dataset_load_named ("digits", "train", &error);
  g_assert_no_error (error);
  digits_test = cs_dataset_load_named ("digits", "test", &error);
  g_assert_no_error (error);

  g_test_add_func ("/core/gpu/unavailable", test_unavailable);
#ifdef CS_HAVE_CUDA
  g_test_add_func ("/core/gpu/dropout-hash", test_dropout_hash);
  add_both ("ops/gemm", test_gemm);
  add_both ("ops/im2col-col2im", test_im2col_col2im);
  add_both ("ops/bias", test_bias);
  add_both ("ops/pool", test_pool);
  add_both ("ops/activation", test_activation);
  add_both ("ops/softmax-losses", test_softmax_losses);
  add_both ("ops/batchnorm", test_batchnorm);
  add_both ("ops/dropout", test_dropout);
  add_both ("ops/elementwise", test_elementwise);
  add_both ("optim", test_optimizers);
  add_both ("presets", test_presets);
  add_both ("switch", test_switch);
  add_both ("download-async", test_download_async);
  add_both ("errors", test_errors);
  for (gsize i = 0; i < G_N_ELEMENTS (train_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/core/gpu/%s/train/%s",
                                               g_str_has_prefix (train_cases[i], "device")
                                               ? "device" : "emulated",
                                               strchr (train_cases[i], ':') + 1);
      g_test_add_data_func (path, train_cases[i], test_train);
    }
#endif

  int rc = g_test_run ();
  cs_dataset_free (digits_train);
  cs_dataset_free (digits_test);
  return rc;
}
