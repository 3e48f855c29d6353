/* test-golden.c — the engine against PyTorch, number for number
 *
 * tests/golden/make-golden.py (Debian's python3-torch) wrote, for the MLP,
 * the SimpleCNN and a residual model: the initial state dict (loaded here
 * through the checkpoint reader, as a user would load a PyTorch file), one
 * batch, the logits, the loss, every gradient, the BatchNorm running
 * statistics after a forward, the eval-mode logits, and the whole state
 * after two steps of SGD, Adam and RMSprop. Each tensor's largest difference
 * relative to its own scale is reported and must stay within TOLERANCE.
 */
#include "core/checkpoint.h"
#include "core/loss.h"
#include "core/optim.h"
#include "core/safetensors.h"

#include <math.h>

#define TOLERANCE 1e-4

/* Adam and RMSprop divide each gradient by its own running magnitude, so a
 * weight whose gradient is a near-cancelling sum (in PyTorch's MLP fixture,
 * −7·10⁻⁷ against a largest gradient of 0.03) moves by a full step whose size
 * depends on the rounding of that sum. Their states are therefore held to
 * TOLERANCE for all but OUTLIER_SHARE of the elements, and every element to
 * UPDATE_SHARE of the largest update. SGD, linear in the gradient, is held
 * to TOLERANCE everywhere. */
#define OUTLIER_SHARE 0.005
#define UPDATE_SHARE 0.02

static char *
golden_path (const char *file)
{
  return g_test_build_filename (G_TEST_DIST, "golden", file, NULL);
}

static double
compare (const char *what, const float *got, const float *want, gsize n, double floor_scale)
{
  double max_diff = 0.0, scale = floor_scale;
  gsize at = 0;
  for (gsize i = 0; i < n; i++)
    {
      scale = MAX (scale, fabs ((double) want[i]));
      double d = fabs ((double) got[i] - want[i]);
      if (!(d <= max_diff))  /* also catches NaN */
        {
          max_diff = isnan (d) ? INFINITY : d;
          at = i;
        }
    }
  double rel = max_diff / scale;
  g_test_message ("%-28s n=%-7" G_GSIZE_FORMAT " max |Δ| %.3g  relative %.3g", what, n,
                  max_diff, rel);
  if (!(rel <= TOLERANCE))
    g_test_fail_printf ("%s: element %" G_GSIZE_FORMAT " is %.9g, PyTorch says %.9g "
                        "(relative difference %.3g)", what, at, got[at], want[at], rel);
  return rel;
}

static void
compare_with_golden (CsSafetensors *golden, const char *name, const float *got, gsize n,
                     double floor_scale)
{
  g_autoptr(GError) error = NULL;
  gsize m = 0;
  g_autofree float *want = cs_safetensors_dup_f32 (golden, name, &m, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (m, ==, n);
  compare (name, got, want, n, floor_scale);
}

static void
compare_adaptive (const char *what, const float *got, const float *want, const float *before,
                  gsize n)
{
  double scale = 1e-3, update = 0.0, max_diff = 0.0;
  for (gsize i = 0; i < n; i++)
    {
      scale = MAX (scale, fabs ((double) want[i]));
      update = MAX (update, fabs ((double) want[i] - before[i]));
    }
  gsize outliers = 0, at = 0;
  for (gsize i = 0; i < n; i++)
    {
      double d = fabs ((double) got[i] - want[i]);
      if (!(d <= max_diff))
        {
          max_diff = isnan (d) ? INFINITY : d;
          at = i;
        }
      outliers += !(d <= TOLERANCE * scale);
    }
  g_test_message ("%-28s n=%-7" G_GSIZE_FORMAT " max |Δ| %.3g = %.3g of the largest update; "
                  "%" G_GSIZE_FORMAT " beyond %.0e relative", what, n, max_diff,
                  update > 0 ? max_diff / update : 0.0, outliers, TOLERANCE);
  if (!(max_diff <= UPDATE_SHARE * update + TOLERANCE * 1e-3)
      || outliers > OUTLIER_SHARE * n)
    g_test_fail_printf ("%s: element %" G_GSIZE_FORMAT " is %.9g, PyTorch says %.9g; %"
                        G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " elements differ",
                        what, at, got[at], want[at], outliers, n);
}

static double
meta_double (CsSafetensors *golden, const char *key)
{
  const char *v = cs_safetensors_get_metadata (golden, key);
  g_assert_nonnull (v);
  return g_ascii_strtod (v, NULL);
}

static void
load_batch (CsSafetensors *golden, CsModel *model, CsTensor **x, gint32 **labels)
{
  g_autoptr(GError) error = NULL;
  gsize nx = 0, ny = 0;
  g_autofree float *xv = cs_safetensors_dup_f32 (golden, "x", &nx, &error);
  g_assert_no_error (error);
  g_autofree float *yv = cs_safetensors_dup_f32 (golden, "y", &ny, &error);
  g_assert_no_error (error);

  const CsShape *in = cs_model_get_input_shape (model);
  g_assert_cmpuint (nx, ==, ny * (gsize) cs_shape_numel (in));
  CsTensor view = cs_tensor_view_batch (NULL, (gint64) ny, in);
  *x = cs_tensor_new (view.ndim, view.shape);
  memcpy ((*x)->data, xv, nx * sizeof (float));
  *labels = g_new (gint32, ny);
  for (gsize i = 0; i < ny; i++)
    (*labels)[i] = (gint32) yv[i];
}

static CsModel *
load_model (const char *checkpoint, int batch)
{
  g_autoptr(GError) error = NULL;
  CsModel *model = cs_checkpoint_load (checkpoint, &error);
  g_assert_no_error (error);
  cs_model_reserve (model, batch, &error);
  g_assert_no_error (error);
  return model;
}

/* One model's fixtures: its PyTorch checkpoint loaded, its golden file
 * open, and the batch they were made with. */
typedef struct
{
  char *ckpt;
  CsSafetensors *golden;
  CsModel *model;
  CsTensor *x;
  gint32 *labels;
  int batch;
} Golden;

static void
golden_setup (Golden *g, gconstpointer data)
{
  const char *name = data;
  g_autofree char *ckpt_name = g_strdup_printf ("%s.safetensors", name);
  g_autofree char *gold_name = g_strdup_printf ("%s.golden.safetensors", name);
  g_autofree char *gold = golden_path (gold_name);
  g_autoptr(GError) error = NULL;

  g->ckpt = golden_path (ckpt_name);
  g->golden = cs_safetensors_open (gold, &error);
  g_assert_no_error (error);
  g->batch = (int) meta_double (g->golden, "batch");
  g->model = load_model (g->ckpt, g->batch);
  load_batch (g->golden, g->model, &g->x, &g->labels);
}

static void
golden_teardown (Golden *g, gconstpointer data)
{
  g_free (g->ckpt);
  cs_safetensors_free (g->golden);
  cs_model_free (g->model);
  cs_tensor_free (g->x);
  g_free (g->labels);
}

static void
test_forward_backward (Golden *g, gconstpointer data)
{
  CsSafetensors *golden = g->golden;
  CsModel *model = g->model;
  CsTensor *x = g->x;
  const gint32 *labels = g->labels;
  const char *ckpt = g->ckpt;
  g_autoptr(GError) error = NULL;

  /* Train-mode forward, loss, backward. */
  cs_model_set_input_grad (model, TRUE);
  const CsTensor *logits = cs_model_forward (model, x, TRUE);
  gsize nl = (gsize) cs_tensor_numel (logits);
  compare_with_golden (golden, "logits", logits->data, nl, 1e-3);

  CsTensor dlogits = cs_model_get_output_grad (model);
  g_autofree float *probs = g_new (float, nl);
  CsTensor p = cs_tensor_view (probs, 2, logits->shape);
  float loss = (float) cs_loss_cross_entropy (cs_model_get_backend (model), &dlogits, &p,
                                              logits, labels);
  compare_with_golden (golden, "loss", &loss, 1, 1e-3);

  cs_model_zero_grad (model);
  cs_model_backward (model);
  CsTensor dx = cs_model_get_activation_grad (model, 0);
  compare_with_golden (golden, "dx", dx.data, (gsize) cs_tensor_numel (&dx), 1e-6);

  for (guint i = 0; i < cs_model_get_n_entries (model); i++)
    {
      const CsModelEntry *e = cs_model_get_entry (model, i);
      g_autofree char *name = NULL;
      if (e->param->grad != NULL)
        {
          name = g_strconcat ("grad.", e->name, NULL);
          compare_with_golden (golden, name, e->param->grad->data,
                               (gsize) cs_tensor_numel (e->param->grad), 1e-6);
        }
      else if (e->param->role != CS_BUFFER_COUNTER)
        {
          name = g_strconcat ("after_forward.", e->name, NULL);
          compare_with_golden (golden, name, e->param->value->data,
                               (gsize) cs_tensor_numel (e->param->value), 1e-6);
        }
    }

  /* Eval mode from the initial state: BatchNorm uses its running statistics. */
  cs_checkpoint_load_into (model, ckpt, &error);
  g_assert_no_error (error);
  logits = cs_model_forward (model, x, FALSE);
  compare_with_golden (golden, "eval_logits", logits->data, nl, 1e-3);
}

static void
test_optimizers (Golden *g, gconstpointer data)
{
  CsSafetensors *golden = g->golden;
  CsModel *model = g->model;
  CsTensor *x = g->x;
  const gint32 *labels = g->labels;
  const char *ckpt = g->ckpt;
  int batch = g->batch;
  g_autoptr(GError) error = NULL;

  g_autoptr(CsSafetensors) initial = cs_safetensors_open (ckpt, &error);
  g_assert_no_error (error);
  int steps = (int) meta_double (golden, "optimizer_steps");
  g_autofree float *probs = g_new (float, (gsize) batch * 10);

  for (CsOptimKind kind = CS_OPTIM_SGD; kind <= CS_OPTIM_RMSPROP; kind++)
    {
      const char *o = cs_optim_kind_to_string (kind);
      CsOptimConfig config;
      cs_optim_config_init (&config, kind);
#define HP(field, key) \
      do { g_autofree char *k = g_strconcat (o, "." key, NULL); \
           config.hp.field = (float) meta_double (golden, k); } while (0)
      HP (lr, "lr");
      HP (weight_decay, "weight_decay");
      switch (kind)
        {
        case CS_OPTIM_SGD:
          HP (momentum, "momentum");
          HP (dampening, "dampening");
          g_assert_cmpstr (cs_safetensors_get_metadata (golden, "sgd.nesterov"), ==, "false");
          break;
        case CS_OPTIM_ADAM:
          HP (beta1, "beta1");
          HP (beta2, "beta2");
          HP (eps, "eps");
          break;
        case CS_OPTIM_RMSPROP:
          HP (alpha, "alpha");
          HP (eps, "eps");
          HP (momentum, "momentum");
          g_assert_cmpstr (cs_safetensors_get_metadata (golden, "rmsprop.centered"), ==, "false");
          break;
        default:
          g_assert_not_reached ();
        }
#undef HP
      g_assert_true (cs_optim_config_validate (&config, NULL));

      cs_checkpoint_load_into (model, ckpt, &error);
      g_assert_no_error (error);
      g_autoptr(CsOptimizer) opt = cs_optimizer_new (model, &config);
      float loss = 0.0f;
      for (int s = 0; s < steps; s++)
        loss = (float) cs_train_step (model, opt, x, labels, probs, NULL);
      g_assert_cmpint (cs_optimizer_get_step (opt), ==, steps);

      g_autofree char *loss_name = g_strconcat (o, ".loss", NULL);
      compare_with_golden (golden, loss_name, &loss, 1, 1e-3);
      for (guint i = 0; i < cs_model_get_n_entries (model); i++)
        {
          const CsModelEntry *e = cs_model_get_entry (model, i);
          if (e->param->role == CS_BUFFER_COUNTER)
            {
              g_assert_cmpint (*e->param->counter, >=, steps);
              continue;
            }
          g_autofree char *name = g_strconcat (o, ".", e->name, NULL);
          gsize n = (gsize) cs_tensor_numel (e->param->value), m = 0;
          if (kind == CS_OPTIM_SGD || e->param->grad == NULL)
            {
              compare_with_golden (golden, name, e->param->value->data, n, 1e-3);
              continue;
            }
          g_autofree float *want = cs_safetensors_dup_f32 (golden, name, &m, &error);
          g_assert_no_error (error);
          g_autofree float *before = cs_safetensors_dup_f32 (initial, e->name, &m, &error);
          g_assert_no_error (error);
          g_assert_cmpuint (m, ==, n);
          compare_adaptive (name, e->param->value->data, want, before, n);
        }
    }
}

static void
test_losses (void)
{
  g_autofree char *path = golden_path ("losses.golden.safetensors");
  g_autoptr(GError) error = NULL;
  g_autoptr(CsSafetensors) golden = cs_safetensors_open (path, &error);
  g_assert_no_error (error);
  const CsBackend *backends[] = { cs_backend_cpu (), cs_backend_ref () };

  for (gsize b = 0; b < G_N_ELEMENTS (backends); b++)
    {
      const CsBackend *be = backends[b];
      g_test_message ("backend %s", be->name);
      for (int large = 0; large < 2; large++)
        {
          const char *pre = large ? "ce_large" : "ce";
          g_autofree char *kl = g_strconcat (pre, ".logits", NULL);
          g_autofree char *kt = g_strconcat (pre, ".target", NULL);
          g_autofree char *kloss = g_strconcat (pre, ".loss", NULL);
          g_autofree char *kd = g_strconcat (pre, ".dlogits", NULL);
          const CsSafetensorsEntry *e = cs_safetensors_lookup (golden, kl);
          g_assert_nonnull (e);
          gsize n = 0, nt = 0;
          g_autofree float *logits = cs_safetensors_dup_f32 (golden, kl, &n, &error);
          g_autofree float *target = cs_safetensors_dup_f32 (golden, kt, &nt, &error);
          g_assert_no_error (error);
          g_autofree gint32 *labels = g_new (gint32, nt);
          for (gsize i = 0; i < nt; i++)
            labels[i] = (gint32) target[i];
          g_autoptr(CsTensor) d = cs_tensor_new (e->ndim, e->shape);
          g_autoptr(CsTensor) p = cs_tensor_new (e->ndim, e->shape);
          CsTensor l = cs_tensor_view (logits, e->ndim, e->shape);
          float loss = (float) cs_loss_cross_entropy (be, d, p, &l, labels);
          compare_with_golden (golden, kloss, &loss, 1, 1e-3);
          compare_with_golden (golden, kd, d->data, n, 1e-6);
        }

      gsize n = 0;
      g_autofree float *pred = cs_safetensors_dup_f32 (golden, "mse.pred", &n, &error);
      g_autofree float *target = cs_safetensors_dup_f32 (golden, "mse.target", &n, &error);
      g_assert_no_error (error);
      const CsSafetensorsEntry *e = cs_safetensors_lookup (golden, "mse.pred");
      g_autoptr(CsTensor) d = cs_tensor_new (e->ndim, e->shape);
      CsTensor pv = cs_tensor_view (pred, e->ndim, e->shape);
      CsTensor tv = cs_tensor_view (target, e->ndim, e->shape);
      float loss = (float) cs_loss_mse (be, d, &pv, &tv);
      compare_with_golden (golden, "mse.loss", &loss, 1, 1e-3);
      compare_with_golden (golden, "mse.dpred", d->data, n, 1e-6);

      g_autofree float *sx = cs_safetensors_dup_f32 (golden, "softmax.x", &n, &error);
      g_autofree float *sdy = cs_safetensors_dup_f32 (golden, "softmax.dy", &n, &error);
      g_assert_no_error (error);
      e = cs_safetensors_lookup (golden, "softmax.x");
      g_autofree float *sy = g_new (float, n);
      g_autofree float *sdx = g_new (float, n);
      be->softmax_forward (sy, sx, (int) e->shape[0], (int) e->shape[1]);
      be->softmax_backward (sdx, sdy, sy, (int) e->shape[0], (int) e->shape[1]);
      compare_with_golden (golden, "softmax.y", sy, n, 1e-6);
      compare_with_golden (golden, "softmax.dx", sdx, n, 1e-6);
    }
}

static void
test_layers (void)
{
  g_autofree char *path = golden_path ("layers.golden.safetensors");
  g_autoptr(GError) error = NULL;
  g_autoptr(CsSafetensors) golden = cs_safetensors_open (path, &error);
  g_assert_no_error (error);
  const char *cases = cs_safetensors_get_metadata (golden, "cases");
  g_assert_nonnull (cases);
  g_auto(GStrv) names = g_strsplit (cases, ",", -1);
  g_assert_cmpuint (g_strv_length (names), >=, 9);

  for (char **c = names; *c; c++)
    {
      const char *name = g_strstrip (*c);
      const char *layer_json = cs_safetensors_get_metadata (golden, name);
      g_assert_nonnull (layer_json);
      g_autofree char *kx = g_strconcat (name, ".x", NULL);
      const CsSafetensorsEntry *ex = cs_safetensors_lookup (golden, kx);
      g_assert_nonnull (ex);
      g_assert_cmpint (ex->ndim, ==, 4);

      /* A one-layer model over this case's input. */
      g_autofree char *json = g_strdup_printf ("{\"input\": [%" G_GINT64_FORMAT ", %"
                                               G_GINT64_FORMAT ", %" G_GINT64_FORMAT "], "
                                               "\"layers\": [%s]}", ex->shape[1],
                                               ex->shape[2], ex->shape[3], layer_json);
      g_autoptr(CsModel) model = cs_model_new_from_json (json, -1, &error);
      g_assert_no_error (error);
      cs_model_reserve (model, (int) ex->shape[0], &error);
      g_assert_no_error (error);
      cs_model_set_input_grad (model, TRUE);

      for (guint i = 0; i < cs_model_get_n_entries (model); i++)
        {
          const CsModelEntry *e = cs_model_get_entry (model, i);
          g_autofree char *k = g_strconcat (name, ".", e->name + 2, NULL);  /* skip "0." */
          if (e->param->role == CS_BUFFER_COUNTER || cs_safetensors_lookup (golden, k) == NULL)
            continue;
          cs_safetensors_read_f32 (golden, k, e->param->value->data,
                                   (gsize) cs_tensor_numel (e->param->value), &error);
          g_assert_no_error (error);
        }

      gsize n = 0;
      g_autofree float *xv = cs_safetensors_dup_f32 (golden, kx, &n, &error);
      g_assert_no_error (error);
      CsTensor x = cs_tensor_view (xv, 4, ex->shape);
      const CsTensor *out = cs_model_forward (model, &x, TRUE);
      g_autofree char *kout = g_strconcat (name, ".out", NULL);
      compare_with_golden (golden, kout, out->data, (gsize) cs_tensor_numel (out), 1e-3);

      g_autofree char *kdout = g_strconcat (name, ".dout", NULL);
      CsTensor dout = cs_model_get_output_grad (model);
      cs_safetensors_read_f32 (golden, kdout, dout.data, (gsize) cs_tensor_numel (&dout), &error);
      g_assert_no_error (error);
      cs_model_zero_grad (model);
      cs_model_backward (model);
      CsTensor dx = cs_model_get_activation_grad (model, 0);
      g_autofree char *kdx = g_strconcat (name, ".dx", NULL);
      compare_with_golden (golden, kdx, dx.data, n, 1e-6);

      const char *grads[][2] = { { "weight", "dweight" }, { "bias", "dbias" } };
      for (gsize g = 0; g < G_N_ELEMENTS (grads); g++)
        {
          g_autofree char *pname = g_strconcat ("0.", grads[g][0], NULL);
          g_autofree char *kd = g_strconcat (name, ".", grads[g][1], NULL);
          const CsModelEntry *e = cs_model_find_entry (model, pname);
          if (e == NULL || cs_safetensors_lookup (golden, kd) == NULL)
            continue;
          compare_with_golden (golden, kd, e->param->grad->data,
                               (gsize) cs_tensor_numel (e->param->grad), 1e-6);
        }
    }
}

int
main (int argc, char **argv)
{
  static const char *const models[] = { "mlp", "simple-cnn", "residual-block" };

  g_test_init (&argc, &argv, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (models); i++)
    {
      g_autofree char *p1 = g_strdup_printf ("/core/golden/%s/forward-backward", models[i]);
      g_autofree char *p2 = g_strdup_printf ("/core/golden/%s/optimizers", models[i]);
      g_test_add (p1, Golden, models[i], golden_setup, test_forward_backward, golden_teardown);
      g_test_add (p2, Golden, models[i], golden_setup, test_optimizers, golden_teardown);
    }
  g_test_add_func ("/core/golden/losses", test_losses);
  g_test_add_func ("/core/golden/layers", test_layers);
  return g_test_run ();
}
