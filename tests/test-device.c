/* test-device.c — a model on a device other than the host, without a GPU
 *
 * The "fenced" backend below is the CPU's operations on memory the host
 * cannot touch: its allocations come from an arena mapped PROT_NONE, opened
 * only while one of its own operations (or a copy in or out) runs. A model moved onto
 * it goes through exactly the code a model on a GPU goes through — uploads
 * of inputs and labels, downloads of probabilities and logits, the host copy
 * of the block for initialisation and checkpoints, reserving scratch on the
 * device, moving back and forth — and any host code that reads or writes
 * the model's numbers directly crashes the test. Since the arithmetic is
 * the CPU's, every result must agree with the CPU's bit for bit.
 *
 * The same backend fails on demand (out of memory after so many
 * allocations, an operation that fails) to show how errors surface: a
 * GError from cs_model_check (), cs_model_reserve () or
 * cs_model_set_device (), and a model that stays whole on the CPU.
 */
#include "core/backend-private.h"
#include "core/checkpoint.h"
#include "core/dataset.h"
#include "core/error.h"
#include "core/evaluate.h"
#include "core/loss.h"
#include "core/model.h"
#include "core/optim.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* ---------------------------------------------------------------------------
 * The fenced device
 */

typedef struct
{
  gpointer p;
  gsize len;
} Region;

/* Address space for every allocation of the run: never reused, so that a
 * stale pointer reads zeros rather than another buffer. */
#define ARENA_SIZE ((gsize) 16 << 30)

static struct
{
  guint8 *arena;
  gsize top;
  GArray *regions;     /* Region: the live allocations */
  int allocs_left;     /* -1: no limit; 0: the next allocation fails */
  int ops_left;        /* -1: no limit; 0: the next operation fails */
  char *failure;       /* the first failure since the last check */
  guint n_allocs;
} fence;

static void
fence_set (int prot)
{
  if (fence.top > 0)
    g_assert_cmpint (mprotect (fence.arena, fence.top, prot), ==, 0);
}

static void
fence_fail (const char *what)
{
  if (fence.failure == NULL)
    fence.failure = g_strdup (what);
}

/* Runs an operation with the device's memory open, unless a failure is
 * pending (the work is skipped, as the CUDA backend skips it). */
static gboolean
fence_open (void)
{
  if (fence.failure != NULL)
    return FALSE;
  if (fence.ops_left == 0)
    {
      fence_fail ("fenced: an operation failed (injected)");
      return FALSE;
    }
  if (fence.ops_left > 0)
    fence.ops_left--;
  fence_set (PROT_READ | PROT_WRITE);
  return TRUE;
}

static void
fence_close (void)
{
  fence_set (PROT_NONE);
}

#define FENCED(call) \
  G_STMT_START { if (fence_open ()) { call; fence_close (); } } G_STMT_END

static const CsBackend *
cpu (void)
{
  return cs_backend_cpu ();
}

static gpointer
fenced_alloc (gsize bytes)
{
  if (fence.failure != NULL)
    return NULL;
  if (fence.allocs_left == 0)
    {
      fence_fail ("fenced: out of memory (injected)");
      return NULL;
    }
  if (fence.allocs_left > 0)
    fence.allocs_left--;
  fence.n_allocs++;
  gsize page = (gsize) sysconf (_SC_PAGESIZE);
  Region r = { fence.arena + fence.top, (MAX (bytes, 1) + page - 1) / page * page };
  g_assert_cmpuint (fence.top + r.len, <=, ARENA_SIZE);
  fence.top += r.len;
  g_array_append_val (fence.regions, r);
  return r.p;
}

static void
fenced_free (gpointer p)
{
  if (p == NULL)
    return;
  for (guint i = 0; i < fence.regions->len; i++)
    {
      Region *r = &g_array_index (fence.regions, Region, i);
      if (r->p == p)
        {
          /* Gives the pages back; they stay fenced and are not used again. */
          g_assert_cmpint (madvise (r->p, r->len, MADV_DONTNEED), ==, 0);
          g_array_remove_index_fast (fence.regions, i);
          return;
        }
    }
  g_assert_not_reached ();
}

static void
fenced_upload (gpointer dst, gconstpointer src, gsize bytes)
{
  FENCED (memcpy (dst, src, bytes));
}

static void
fenced_download (gpointer dst, gconstpointer src, gsize bytes)
{
  FENCED (memcpy (dst, src, bytes));
}

static void
fenced_download_async (gpointer dst, gconstpointer src, gsize bytes, CsBackendEvent *ev)
{
  FENCED (memcpy (dst, src, bytes));
}

static gboolean
fenced_event_sync (CsBackendEvent *ev, GError **error)
{
  if (fence.failure == NULL)
    return TRUE;
  g_set_error (error, CS_ERROR, CS_ERROR_DEVICE, "%s", fence.failure);
  return FALSE;
}

static gboolean
fenced_check (GError **error)
{
  if (fence.failure == NULL)
    return TRUE;
  g_set_error (error, CS_ERROR, CS_ERROR_DEVICE, "%s", fence.failure);
  g_clear_pointer (&fence.failure, g_free);
  return FALSE;
}

static const char *
fenced_describe (void)
{
  return "fenced host memory (a test double)";
}

static void
fenced_gemm (gboolean ta, gboolean tb, int M, int N, int K, float alpha, const float *A,
             int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
  FENCED (cpu ()->gemm (ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc));
}

static void
fenced_im2col (float *cols, const float *img, int N, const CsSlidingWindow *g)
{
  FENCED (cpu ()->im2col (cols, img, N, g));
}

static void
fenced_col2im (float *img, const float *cols, int N, const CsSlidingWindow *g)
{
  FENCED (cpu ()->col2im (img, cols, N, g));
}

static gsize
fenced_conv_scratch (int N, int C_out, const CsSlidingWindow *g)
{
  return cpu ()->conv_scratch (N, C_out, g);
}

static void
fenced_conv_forward (float *out, float *scratch, const float *inp, const float *weight,
                     const float *bias, int N, int C_out, const CsSlidingWindow *g)
{
  FENCED (cpu ()->conv_forward (out, scratch, inp, weight, bias, N, C_out, g));
}

static void
fenced_conv_backward (float *dinp, float *dweight, float *dbias, float *scratch,
                      const float *dout, const float *inp, const float *weight,
                      int N, int C_out, const CsSlidingWindow *g)
{
  FENCED (cpu ()->conv_backward (dinp, dweight, dbias, scratch, dout, inp, weight, N,
                                 C_out, g));
}

static void
fenced_bias_add (float *out, const float *bias, int N, int C, int HW)
{
  FENCED (cpu ()->bias_add (out, bias, N, C, HW));
}

static void
fenced_bias_grad (float *dbias, const float *dout, int N, int C, int HW)
{
  FENCED (cpu ()->bias_grad (dbias, dout, N, C, HW));
}

static void
fenced_pool_forward (float *out, gint32 *argmax, const float *inp, int planes,
                     const CsSlidingWindow *g, CsPoolKind kind)
{
  FENCED (cpu ()->pool_forward (out, argmax, inp, planes, g, kind));
}

static void
fenced_pool_backward (float *dinp, const float *dout, const gint32 *argmax, int planes,
                      const CsSlidingWindow *g, CsPoolKind kind)
{
  FENCED (cpu ()->pool_backward (dinp, dout, argmax, planes, g, kind));
}

static void
fenced_act_forward (float *out, const float *inp, gsize n, CsActKind kind, float slope)
{
  FENCED (cpu ()->act_forward (out, inp, n, kind, slope));
}

static void
fenced_act_backward (float *dinp, const float *dout, const float *inp, const float *out,
                     gsize n, CsActKind kind, float slope)
{
  FENCED (cpu ()->act_backward (dinp, dout, inp, out, n, kind, slope));
}

static void
fenced_softmax_forward (float *out, const float *inp, int N, int C)
{
  FENCED (cpu ()->softmax_forward (out, inp, N, C));
}

static void
fenced_softmax_backward (float *dinp, const float *dout, const float *out, int N, int C)
{
  FENCED (cpu ()->softmax_backward (dinp, dout, out, N, C));
}

static double
fenced_cross_entropy (float *dlogits, float *probs, const float *logits,
                      const gint32 *labels, int N, int C)
{
  double loss = NAN;
  FENCED (loss = cpu ()->cross_entropy (dlogits, probs, logits, labels, N, C));
  return loss;
}

static double
fenced_mse (float *dpred, const float *pred, const float *target, gsize n)
{
  double loss = NAN;
  FENCED (loss = cpu ()->mse (dpred, pred, target, n));
  return loss;
}

static void
fenced_batchnorm_forward (float *out, float *save_mean, float *save_invstd,
                          float *running_mean, float *running_var, const float *inp,
                          const float *gamma, const float *beta, int N, int C, int HW,
                          float eps, float momentum, gboolean train)
{
  FENCED (cpu ()->batchnorm_forward (out, save_mean, save_invstd, running_mean, running_var,
                                     inp, gamma, beta, N, C, HW, eps, momentum, train));
}

static void
fenced_batchnorm_backward (float *dinp, float *dgamma, float *dbeta, const float *dout,
                           const float *inp, const float *save_mean, const float *save_invstd,
                           const float *gamma, int N, int C, int HW, gboolean train)
{
  FENCED (cpu ()->batchnorm_backward (dinp, dgamma, dbeta, dout, inp, save_mean, save_invstd,
                                      gamma, N, C, HW, train));
}

static void
fenced_dropout_forward (float *out, float *mask, const float *inp, gsize n, float p,
                        guint64 seed)
{
  FENCED (cpu ()->dropout_forward (out, mask, inp, n, p, seed));
}

static void
fenced_swap01 (float *dst, const float *src, int A, int B, int P)
{
  FENCED (cpu ()->swap01 (dst, src, A, B, P));
}

static void
fenced_mul (float *out, const float *a, const float *b, gsize n)
{
  FENCED (cpu ()->mul (out, a, b, n));
}

static void
fenced_add (float *out, const float *a, const float *b, gsize n)
{
  FENCED (cpu ()->add (out, a, b, n));
}

static void
fenced_axpy (float *y, float a, const float *x, gsize n)
{
  FENCED (cpu ()->axpy (y, a, x, n));
}

static void
fenced_fill (float *x, float value, gsize n)
{
  FENCED (cpu ()->fill (x, value, n));
}

static void
fenced_copy (float *dst, const float *src, gsize n)
{
  FENCED (cpu ()->copy (dst, src, n));
}

static void
fenced_sgd_update (float *param, const float *grad, float *buf, gsize n,
                   const CsOptimParams *hp, gint64 step)
{
  FENCED (cpu ()->sgd_update (param, grad, buf, n, hp, step));
}

static void
fenced_adam_update (float *param, const float *grad, float *m, float *v, gsize n,
                    const CsOptimParams *hp, gint64 step)
{
  FENCED (cpu ()->adam_update (param, grad, m, v, n, hp, step));
}

static void
fenced_rmsprop_update (float *param, const float *grad, float *square_avg, float *buf,
                       gsize n, const CsOptimParams *hp, gint64 step)
{
  FENCED (cpu ()->rmsprop_update (param, grad, square_avg, buf, n, hp, step));
}

/* It claims to be CUDA: the only other device there is. */
static const CsBackend fenced_backend = {
  .name = "fenced",
  .device = CS_DEVICE_CUDA,
  .gemm = fenced_gemm,
  .im2col = fenced_im2col,
  .col2im = fenced_col2im,
  .conv_scratch = fenced_conv_scratch,
  .conv_forward = fenced_conv_forward,
  .conv_backward = fenced_conv_backward,
  .bias_add = fenced_bias_add,
  .bias_grad = fenced_bias_grad,
  .pool_forward = fenced_pool_forward,
  .pool_backward = fenced_pool_backward,
  .act_forward = fenced_act_forward,
  .act_backward = fenced_act_backward,
  .softmax_forward = fenced_softmax_forward,
  .softmax_backward = fenced_softmax_backward,
  .cross_entropy = fenced_cross_entropy,
  .mse = fenced_mse,
  .batchnorm_forward = fenced_batchnorm_forward,
  .batchnorm_backward = fenced_batchnorm_backward,
  .dropout_forward = fenced_dropout_forward,
  .swap01 = fenced_swap01,
  .mul = fenced_mul,
  .add = fenced_add,
  .axpy = fenced_axpy,
  .fill = fenced_fill,
  .copy = fenced_copy,
  .sgd_update = fenced_sgd_update,
  .adam_update = fenced_adam_update,
  .rmsprop_update = fenced_rmsprop_update,
  .alloc = fenced_alloc,
  .free = fenced_free,
  .upload = fenced_upload,
  .download = fenced_download,
  .host_alloc = _cs_host_alloc,
  .host_free = _cs_host_free,
  .event_new = _cs_host_event_new,
  .event_free = _cs_host_event_free,
  .download_async = fenced_download_async,
  .event_query = _cs_host_event_query,
  .event_sync = fenced_event_sync,
  .check = fenced_check,
  .describe = fenced_describe,
};

static const CsBackend *
fenced (void)
{
  return &fenced_backend;
}

/* ---------------------------------------------------------------------------
 * Helpers
 */

static CsDataset *digits_train, *digits_test;

#define BATCH 8

typedef struct
{
  CsModel *model;
  CsOptimizer *opt;
  CsBatcher *batcher;
  float *x;
  gint32 *y;
  float *probs;
  double last_loss;
  int last_correct;
} Run;

static void
run_init (Run *r, const char *preset, CsOptimKind kind, guint64 seed)
{
  g_autoptr(GError) error = NULL;
  CsOptimConfig config;

  r->model = cs_model_new_preset (preset, &error);
  g_assert_no_error (error);
  g_assert_true (cs_model_reserve (r->model, BATCH, &error));
  g_assert_no_error (error);
  cs_model_init (r->model, seed);
  cs_optim_config_init (&config, kind);
  if (kind == CS_OPTIM_SGD)
    config.hp.momentum = 0.9f;
  r->opt = cs_optimizer_new (r->model, &config);
  r->batcher = cs_batcher_new (digits_train, BATCH, seed);
  r->x = g_new (float, (gsize) BATCH * 28 * 28);
  r->y = g_new (gint32, BATCH);
  r->probs = g_new (float, (gsize) BATCH * 10);
}

static void
run_steps (Run *r, int steps)
{
  for (int s = 0; s < steps; s++)
    {
      guint32 n = cs_batcher_next (r->batcher, r->x, r->y);
      CsTensor x = cs_tensor_view_batch (r->x, n, cs_model_get_input_shape (r->model));
      r->last_loss = cs_train_step (r->model, r->opt, &x, r->y, r->probs, &r->last_correct);
    }
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

/* The whole block of each model, read the way a host reader must. */
static void
assert_same_block (CsModel *a, CsModel *b)
{
  g_autoptr(GError) error = NULL;
  gsize bytes = (4 * cs_model_get_n_params (a) + cs_model_get_n_buffers (a)) * sizeof (float);
  g_autofree float *copy = g_memdup2 (cs_model_read_block (a, &error), bytes);
  g_assert_no_error (error);
  const float *other = cs_model_read_block (b, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (copy, bytes, other, bytes);
  g_assert_cmpint (cs_model_get_step (a), ==, cs_model_get_step (b));
}

static void
move (CsModel *model, const CsBackend *be)
{
  g_autoptr(GError) error = NULL;
  g_assert_true (cs_model_set_device (model, be, &error));
  g_assert_no_error (error);
  g_assert_true (cs_model_get_backend (model) == be);
}

/* ---------------------------------------------------------------------------
 * Tests
 */

static const char *const presets[] = { "mlp", "simple-cnn", "residual-cnn" };

/* Trained on the fenced device, a model takes exactly the CPU's steps. */
static void
test_train (gconstpointer data)
{
  const char *preset = data;
  Run cpu_run, dev_run;

  run_init (&cpu_run, preset, CS_OPTIM_ADAM, 5);
  run_init (&dev_run, preset, CS_OPTIM_ADAM, 5);
  move (dev_run.model, fenced ());
  g_assert_cmpuint (fence.regions->len, >, 0);

  for (int round = 0; round < 3; round++)
    {
      run_steps (&cpu_run, 2);
      run_steps (&dev_run, 2);
      g_assert_true (cs_model_check (dev_run.model, NULL));
      g_assert_cmpfloat (cpu_run.last_loss, ==, dev_run.last_loss);
      g_assert_cmpint (cpu_run.last_correct, ==, dev_run.last_correct);
      g_assert_cmpmem (cpu_run.probs, sizeof (float) * BATCH * 10,
                       dev_run.probs, sizeof (float) * BATCH * 10);
      assert_same_block (cpu_run.model, dev_run.model);
    }

  /* The model's views are tagged with its device. */
  CsTensor out = cs_model_get_activation (dev_run.model, cs_model_get_n_layers (dev_run.model));
  g_assert_cmpint (out.device, ==, CS_DEVICE_CUDA);

  run_clear (&cpu_run);
  run_clear (&dev_run);
  g_assert_cmpuint (fence.regions->len, ==, 0);  /* everything freed */
}

/* Initialisation, evaluation and a forward with device input. */
static void
test_init_evaluate (void)
{
  g_autoptr(GError) error = NULL;
  Run a, b;
  CsEvaluation ea, eb;
  g_autofree guint32 *ca = g_new0 (guint32, 100);
  g_autofree guint32 *cb = g_new0 (guint32, 100);

  run_init (&a, "simple-cnn", CS_OPTIM_SGD, 9);
  run_init (&b, "simple-cnn", CS_OPTIM_SGD, 9);
  move (b.model, fenced ());
  cs_model_init (a.model, 31);
  cs_model_init (b.model, 31);   /* drawn on the host, uploaded */
  g_assert_true (cs_model_check (b.model, &error));
  assert_same_block (a.model, b.model);

  run_steps (&a, 3);
  run_steps (&b, 3);
  CsDataset some = *digits_test;   /* the first 203 examples: a partial last batch */
  some.n = 203;
  cs_evaluate (a.model, &some, &ea, ca);
  cs_evaluate (b.model, &some, &eb, cb);
  g_assert_true (cs_model_check (b.model, &error));
  g_assert_cmpuint (ea.n, ==, some.n);
  g_assert_cmpuint (ea.correct, ==, eb.correct);
  g_assert_cmpfloat (ea.loss, ==, eb.loss);
  g_assert_cmpmem (ca, 100 * sizeof (guint32), cb, 100 * sizeof (guint32));

  /* A forward from an activation already on the device (the model's own). */
  CsTensor x = cs_tensor_view_batch (a.x, 4, cs_model_get_input_shape (a.model));
  cs_model_forward (a.model, &x, FALSE);
  cs_model_forward (b.model, &x, FALSE);
  CsTensor in_b = cs_model_get_activation (b.model, 0);
  g_assert_cmpint (in_b.device, ==, CS_DEVICE_CUDA);
  const CsTensor *out_b = cs_model_forward (b.model, &in_b, FALSE);
  float host[40];
  const float *ob = cs_backend_host_view (fenced (), host, out_b->data, 40);
  const float *oa = cs_model_get_activation (a.model, cs_model_get_n_layers (a.model)).data;
  g_assert_cmpmem (oa, sizeof host, ob, sizeof host);

  run_clear (&a);
  run_clear (&b);
}

/* Checkpoints read and write a device model through its host copy. */
static void
test_checkpoint (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("convscope-device-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "m.safetensors", NULL);
  g_autofree char *path2 = g_build_filename (dir, "n.safetensors", NULL);
  Run a, b;

  g_assert_no_error (error);
  run_init (&a, "residual-cnn", CS_OPTIM_ADAM, 3);
  run_init (&b, "residual-cnn", CS_OPTIM_ADAM, 4);
  move (a.model, fenced ());
  run_steps (&a, 2);
  g_assert_true (cs_checkpoint_save (a.model, path, &error));
  g_assert_no_error (error);

  /* Into a CPU model, then a device model: the same parameters and buffers. */
  g_assert_true (cs_checkpoint_load_into (b.model, path, &error));
  g_assert_no_error (error);
  move (b.model, fenced ());
  cs_model_init (b.model, 77);
  g_assert_true (cs_checkpoint_load_into (b.model, path, &error));
  g_assert_no_error (error);
  g_assert_true (cs_checkpoint_save (b.model, path2, &error));
  g_assert_no_error (error);

  g_autofree char *c1 = NULL, *c2 = NULL;
  gsize n1, n2;
  g_assert_true (g_file_get_contents (path, &c1, &n1, NULL));
  g_assert_true (g_file_get_contents (path2, &c2, &n2, NULL));
  g_assert_cmpmem (c1, n1, c2, n2);

  run_clear (&a);
  run_clear (&b);
  g_unlink (path);
  g_unlink (path2);
  g_rmdir (dir);
}

/* CPU → device → CPU between batches continues exactly where it was,
 * optimizer state and BatchNorm's running statistics included. */
static void
test_switch (gconstpointer data)
{
  const char *preset = data;
  Run straight, moved;

  for (CsOptimKind kind = CS_OPTIM_SGD; kind <= CS_OPTIM_RMSPROP; kind++)
    {
      run_init (&straight, preset, kind, 11);
      run_init (&moved, preset, kind, 11);
      run_steps (&straight, 6);
      run_steps (&moved, 2);
      move (moved.model, fenced ());
      run_steps (&moved, 2);
      move (moved.model, cs_backend_ref ());   /* and back, without a step between */
      move (moved.model, fenced ());
      run_steps (&moved, 1);
      move (moved.model, cs_backend_cpu ());
      run_steps (&moved, 1);
      g_assert_cmpfloat (straight.last_loss, ==, moved.last_loss);
      assert_same_block (straight.model, moved.model);
      run_clear (&straight);
      run_clear (&moved);
    }
}

/* No room on the device: the move fails with the device's message and the
 * model stays on the CPU, whole, training on as if nothing happened. */
static void
test_out_of_memory (void)
{
  Run straight, tried;

  run_init (&straight, "residual-cnn", CS_OPTIM_ADAM, 2);
  run_init (&tried, "residual-cnn", CS_OPTIM_ADAM, 2);
  run_steps (&straight, 4);
  run_steps (&tried, 2);

  /* How many allocations a move takes; each one of them may fail. */
  guint before = fence.n_allocs;
  move (straight.model, fenced ());
  guint needed = fence.n_allocs - before;
  move (straight.model, cs_backend_cpu ());
  g_assert_cmpuint (needed, >, 30);

  for (guint budget = 0; budget < needed; budget++)
    {
      g_autoptr(GError) error = NULL;
      fence.allocs_left = (int) budget;
      g_assert_false (cs_model_set_device (tried.model, fenced (), &error));
      g_assert_error (error, CS_ERROR, CS_ERROR_DEVICE);
      g_assert_cmpstr (error->message, ==, "fenced: out of memory (injected)");
      g_assert_true (cs_model_get_backend (tried.model) == cs_backend_cpu ());
      g_assert_cmpuint (fence.regions->len, ==, 0);
      g_assert_true (cs_backend_check (fenced (), NULL));
    }
  fence.allocs_left = -1;

  run_steps (&tried, 2);
  g_assert_cmpfloat (straight.last_loss, ==, tried.last_loss);
  assert_same_block (straight.model, tried.model);

  /* On the device, a larger batch that does not fit. */
  g_autoptr(GError) error = NULL;
  move (tried.model, fenced ());
  fence.allocs_left = 3;
  g_assert_false (cs_model_reserve (tried.model, 2 * BATCH, &error));
  g_assert_error (error, CS_ERROR, CS_ERROR_DEVICE);
  g_assert_cmpint (cs_model_get_max_batch (tried.model), ==, 0);
  fence.allocs_left = -1;
  g_assert_true (cs_model_reserve (tried.model, BATCH, NULL));
  run_steps (&straight, 1);
  run_steps (&tried, 1);
  assert_same_block (straight.model, tried.model);

  run_clear (&straight);
  run_clear (&tried);
}

/* An operation fails in the middle of a step: the backend skips the rest,
 * the step's loss is NAN, cs_model_check () says why once, and the model
 * (here still answering) can go back to the CPU and train on. */
static void
test_failure (void)
{
  g_autoptr(GError) error = NULL;
  Run failing;

  run_init (&failing, "simple-cnn", CS_OPTIM_SGD, 8);
  move (failing.model, fenced ());
  run_steps (&failing, 1);
  g_autofree float *before = g_memdup2 (cs_model_read_block (failing.model, NULL),
                                        sizeof (float) * cs_model_get_n_params (failing.model));

  fence.ops_left = 4;   /* the forward's fifth operation fails */
  run_steps (&failing, 1);
  fence.ops_left = -1;
  g_assert_true (isnan (failing.last_loss));
  /* Moving a model whose device has failed is refused, with the reason. */
  g_assert_false (cs_model_set_device (failing.model, cs_backend_cpu (), &error));
  g_assert_error (error, CS_ERROR, CS_ERROR_DEVICE);
  g_assert_cmpstr (error->message, ==, "fenced: an operation failed (injected)");
  g_clear_error (&error);
  g_assert_true (cs_model_check (failing.model, &error));   /* reported once */

  /* The update was skipped: the parameters are those before the failed
   * step (which the host still counted, as model.h says). */
  g_assert_cmpmem (cs_model_read_block (failing.model, NULL),
                   sizeof (float) * cs_model_get_n_params (failing.model),
                   before, sizeof (float) * cs_model_get_n_params (failing.model));
  g_assert_cmpint (cs_model_get_step (failing.model), ==, 2);

  /* Back to the CPU, training goes on. */
  move (failing.model, cs_backend_cpu ());
  run_steps (&failing, 2);
  g_assert_true (isfinite (failing.last_loss));
  g_assert_true (cs_model_check (failing.model, NULL));

  run_clear (&failing);
}

/* Snapshots: downloads queued on an event land in host memory. */
static void
test_download_async (void)
{
  g_autoptr(GError) error = NULL;
  Run r;

  run_init (&r, "mlp", CS_OPTIM_ADAM, 1);
  move (r.model, fenced ());
  run_steps (&r, 1);

  const CsBackend *be = cs_model_get_backend (r.model);
  g_autoptr(CsBackendEvent) ev = cs_backend_event_new (be);
  gsize P = cs_model_get_n_params (r.model);
  float *snap = cs_backend_host_alloc (be, sizeof (float) * (P + 256));
  CsTensor hidden = cs_model_get_activation (r.model, 2);   /* (N, 256) */
  cs_backend_download_async (be, snap, cs_model_get_params (r.model), sizeof (float) * P, ev);
  cs_backend_download_async (be, snap + P, hidden.data, sizeof (float) * 256, ev);
  g_assert_true (cs_backend_sync_event (ev, &error));
  g_assert_no_error (error);
  g_assert_true (cs_backend_event_query (ev));

  const float *block = cs_model_read_block (r.model, &error);
  g_assert_cmpmem (snap, sizeof (float) * P, block, sizeof (float) * P);
  float first[256];
  fenced_download (first, hidden.data, sizeof first);
  g_assert_cmpmem (snap + P, sizeof first, first, sizeof first);

  cs_backend_host_free (be, snap);
  run_clear (&r);
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;

  g_test_init (&argc, &argv, NULL);
  fence.arena = mmap (NULL, ARENA_SIZE, PROT_NONE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  g_assert_true (fence.arena != MAP_FAILED);
  fence.regions = g_array_new (FALSE, FALSE, sizeof (Region));
  fence.allocs_left = fence.ops_left = -1;
  digits_train = cs_dataset_load_named ("digits", "train", &error);
  g_assert_no_error (error);
  digits_test = cs_dataset_load_named ("digits", "test", &error);
  g_assert_no_error (error);

  for (gsize i = 0; i < G_N_ELEMENTS (presets); i++)
    {
      g_autofree char *train = g_strconcat ("/core/device/train/", presets[i], NULL);
      g_autofree char *sw = g_strconcat ("/core/device/switch/", presets[i], NULL);
      g_test_add_data_func (train, presets[i], test_train);
      g_test_add_data_func (sw, presets[i], test_switch);
    }
  g_test_add_func ("/core/device/init-evaluate", test_init_evaluate);
  g_test_add_func ("/core/device/checkpoint", test_checkpoint);
  g_test_add_func ("/core/device/out-of-memory", test_out_of_memory);
  g_test_add_func ("/core/device/failure", test_failure);
  g_test_add_func ("/core/device/download-async", test_download_async);

  int rc = g_test_run ();
  g_test_message ("fenced allocations: %u, %" G_GSIZE_FORMAT " MiB in all",
                  fence.n_allocs, fence.top >> 20);
  munmap (fence.arena, ARENA_SIZE);
  cs_dataset_free (digits_train);
  cs_dataset_free (digits_test);
  g_array_unref (fence.regions);
  g_free (fence.failure);
  return rc;
}
