/* test-snapshot.c — what the views draw, copied out of a real model
 *
 * The presets, initialised with a seed, run forward on bundled test digits;
 * a snapshot of one example of the batch holds exactly the model's
 * activations, parameters and (after a backward) gradients for it, and
 * keeps them when the model goes on to another input or another step.
 */
#include "app/cs-snapshot.h"

#include "core/dataset.h"
#include "core/loss.h"
#include "core/model.h"

#include <math.h>
#include <string.h>

#define BATCH 3
#define SEED 20240611

typedef struct
{
  CsModel *model;
  CsDataset *digits;
  float x[BATCH * 784];
  gint32 y[BATCH];
} Fixture;

static void
load_batch (Fixture *f, guint32 first)
{
  guint32 idx[BATCH];
  for (guint i = 0; i < BATCH; i++)
    idx[i] = first + i;
  cs_dataset_fill_batch (f->digits, idx, BATCH, f->x, f->y);
}

static const CsTensor *
forward (Fixture *f)
{
  CsTensor x = cs_tensor_view (f->x, 4, (gint64[]) { BATCH, 1, 28, 28 });
  return cs_model_forward (f->model, &x, FALSE);
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  f->model = cs_model_new_preset (data, &error);
  g_assert_no_error (error);
  cs_model_init (f->model, SEED);
  g_assert_true (cs_model_reserve (f->model, BATCH, &error));
  f->digits = cs_dataset_load_named ("digits", "test", &error);
  g_assert_no_error (error);
  load_batch (f, 0);
  forward (f);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  cs_model_free (f->model);
  cs_dataset_free (f->digits);
}

static gsize
numel (CsSnapshot *snap, guint i)
{
  return (gsize) cs_shape_numel (cs_snapshot_get_shape (snap, i));
}

/* The snapshot's activations are the model's, for that example, bit for bit. */
static void
test_activations (Fixture *f, gconstpointer data)
{
  const guint example = 1;
  g_autoptr(CsSnapshot) snap = cs_snapshot_new (f->model, example, CS_SNAPSHOT_FORWARD);
  guint n = cs_model_get_n_layers (f->model);

  g_assert_cmpstr (cs_snapshot_get_name (snap), ==, data);
  g_assert_cmpstr (cs_snapshot_get_title (snap), ==, cs_model_get_title (f->model));
  g_assert_cmpuint (cs_snapshot_get_n_layers (snap), ==, n);
  g_assert_cmpuint (cs_snapshot_get_example (snap), ==, example);
  g_assert_cmpint (cs_snapshot_get_label (snap), ==, -1);
  g_assert_false (cs_snapshot_has_gradients (snap));
  for (guint l = 0; l < n; l++)
    {
      CsLayer *layer = cs_model_get_layer (f->model, l);
      g_assert_cmpstr (cs_snapshot_get_layer_type (snap, l), ==, layer->klass->type);
      g_assert_cmpstr (cs_snapshot_get_layer_title (snap, l), ==, layer->klass->title);
      g_assert_true (g_str_has_prefix (cs_snapshot_get_layer_description (snap, l),
                                       layer->klass->title));
      g_assert_true (cs_shape_equal (cs_snapshot_get_layer_in_shape (snap, l), &layer->in_shape));
      g_assert_true (cs_shape_equal (cs_snapshot_get_layer_out_shape (snap, l), &layer->out_shape));
    }
  for (guint i = 0; i <= n; i++)
    {
      CsTensor a = cs_model_get_activation (f->model, i);
      gsize k = numel (snap, i);
      g_assert_cmpint (cs_tensor_numel (&a), ==, (gint64) (k * BATCH));
      g_assert_nonnull (cs_snapshot_get_activation (snap, i));
      g_assert_cmpmem (cs_snapshot_get_activation (snap, i), k * sizeof (float),
                       a.data + example * k, k * sizeof (float));
      g_assert_null (cs_snapshot_get_activation_grad (snap, i));
    }
  /* the input is the digit itself: pixel / 255 */
  const float *x = cs_snapshot_get_activation (snap, 0);
  for (int p = 0; p < 784; p++)
    g_assert_cmpfloat (x[p], ==, f->digits->images[(gsize) example * 784 + p] / 255.0f);
}

/* The classifier's output: the logits, their softmax, the prediction. */
static void
test_probabilities (Fixture *f, gconstpointer data)
{
  g_autoptr(CsSnapshot) snap = cs_snapshot_new (f->model, 0, CS_SNAPSHOT_ACTIVATIONS);
  guint n = cs_model_get_n_layers (f->model);
  g_assert_cmpuint (cs_snapshot_get_n_classes (snap), ==, 10);
  const float *z = cs_snapshot_get_logits (snap), *p = cs_snapshot_get_probabilities (snap);
  g_assert_cmpmem (z, 10 * sizeof (float), cs_snapshot_get_activation (snap, n), 10 * sizeof (float));
  double max = -INFINITY, sum = 0.0, total = 0.0;
  int best = 0;
  for (int k = 0; k < 10; k++)
    {
      max = MAX (max, z[k]);
      if (z[k] > z[best])
        best = k;
    }
  for (int k = 0; k < 10; k++)
    sum += exp (z[k] - max);
  for (int k = 0; k < 10; k++)
    {
      g_assert_cmpfloat_with_epsilon (p[k], exp (z[k] - max) / sum, 1e-6);
      total += p[k];
    }
  g_assert_cmpfloat_with_epsilon (total, 1.0, 1e-5);
  g_assert_cmpint (cs_snapshot_get_prediction (snap), ==, best);
  /* no parameters asked for, none carried */
  g_assert_null (cs_snapshot_get_layer_param (snap, 1, "weight"));
}

/* A copy: another forward pass, and then a changed parameter block, leave
 * the snapshot as it was. */
static void
test_survives_forward (Fixture *f, gconstpointer data)
{
  g_autoptr(CsSnapshot) snap = cs_snapshot_new (f->model, 2, CS_SNAPSHOT_FORWARD);
  guint n = cs_model_get_n_layers (f->model);

  /* what the model held when the snapshot was taken */
  GPtrArray *before = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i <= n; i++)
    {
      CsTensor a = cs_model_get_activation (f->model, i);
      gsize k = numel (snap, i);
      g_ptr_array_add (before, g_memdup2 (a.data + 2 * k, k * sizeof (float)));
    }
  gsize P = cs_model_get_n_params (f->model);
  g_autofree float *params = g_memdup2 (cs_model_get_params (f->model), P * sizeof (float));

  /* other digits, other weights */
  load_batch (f, 100);
  forward (f);
  float *w = cs_model_get_params (f->model);
  for (gsize i = 0; i < P; i++)
    w[i] = -w[i] + 0.25f;

  gboolean output_changed = FALSE;
  for (guint i = 0; i <= n; i++)
    {
      gsize k = numel (snap, i);
      g_assert_cmpmem (cs_snapshot_get_activation (snap, i), k * sizeof (float),
                       before->pdata[i], k * sizeof (float));
      CsTensor a = cs_model_get_activation (f->model, i);
      if (i == n)
        output_changed = memcmp (a.data + 2 * k, before->pdata[i], k * sizeof (float)) != 0;
    }
  g_assert_true (output_changed);

  /* every trainable tensor, by its state-dict name and by layer */
  for (guint e = 0; e < cs_model_get_n_entries (f->model); e++)
    {
      const CsModelEntry *entry = cs_model_get_entry (f->model, e);
      const CsTensor *t = cs_snapshot_get_param (snap, entry->name);
      if (entry->param->grad == NULL)
        {
          g_assert_null (t);
          continue;
        }
      g_assert_nonnull (t);
      g_assert_true (cs_tensor_same_shape (t, entry->param->value));
      gsize off = (gsize) (entry->param->value->data - w);
      g_assert_cmpmem (t->data, cs_tensor_numel (t) * sizeof (float), params + off,
                       cs_tensor_numel (t) * sizeof (float));
      g_assert_true (cs_snapshot_get_layer_param (snap, entry->layer, entry->param->name) == t);
      g_assert_null (cs_snapshot_get_param_grad (snap, entry->name));
    }
  g_ptr_array_unref (before);
}

/* The weights the Network view draws, with PyTorch's shapes. */
static void
test_view_params (Fixture *f, gconstpointer data)
{
  g_autoptr(CsSnapshot) snap = cs_snapshot_new (f->model, 0, CS_SNAPSHOT_FORWARD);
  if (g_str_equal (data, "mlp"))
    {
      const CsTensor *w1 = cs_snapshot_get_param (snap, "1.weight");
      const CsTensor *w2 = cs_snapshot_get_layer_param (snap, 3, "weight");
      g_assert_cmpint (w1->ndim, ==, 2);
      g_assert_cmpint (w1->shape[0], ==, 256);
      g_assert_cmpint (w1->shape[1], ==, 784);
      g_assert_cmpint (w2->shape[0], ==, 10);
      g_assert_cmpint (w2->shape[1], ==, 256);
      g_assert_cmpint (cs_snapshot_get_param (snap, "3.bias")->shape[0], ==, 10);
    }
  else
    {
      const guint convs[2] = { 0, 3 };
      const gint64 shapes[2][4] = { { 32, 1, 3, 3 }, { 64, 32, 3, 3 } };
      for (int c = 0; c < 2; c++)
        {
          const CsTensor *k = cs_snapshot_get_layer_param (snap, convs[c], "weight");
          g_assert_nonnull (k);
          g_assert_cmpint (k->ndim, ==, 4);
          for (int d = 0; d < 4; d++)
            g_assert_cmpint (k->shape[d], ==, shapes[c][d]);
        }
      g_assert_cmpstr (cs_snapshot_get_layer_description (snap, 0), ==,
                       "Conv2d(in_channels=1, out_channels=32, kernel_size=3, padding=1)");
    }
  g_assert_null (cs_snapshot_get_param (snap, "no.such"));
}

/* After a backward pass: the activation and parameter gradients. */
static void
test_gradients (Fixture *f, gconstpointer data)
{
  guint n = cs_model_get_n_layers (f->model);
  cs_model_zero_grad (f->model);
  const CsTensor *out = forward (f);
  CsTensor dout = cs_model_get_output_grad (f->model);
  g_autofree float *probs = g_new (float, BATCH * 10);
  CsTensor pt = cs_tensor_view (probs, 2, (gint64[]) { BATCH, 10 });
  cs_loss_cross_entropy (cs_model_get_backend (f->model), &dout, &pt, out, f->y);
  cs_model_backward (f->model);

  g_autoptr(CsSnapshot) snap = cs_snapshot_new (f->model, 1, CS_SNAPSHOT_ALL & ~CS_SNAPSHOT_INPUT_GRADIENT);
  cs_snapshot_set_label (snap, f->y[1]);
  cs_snapshot_set_generation (snap, 7);
  g_assert_cmpint (cs_snapshot_get_label (snap), ==, f->y[1]);
  g_assert_cmpuint (cs_snapshot_get_generation (snap), ==, 7);
  g_assert_true (cs_snapshot_has_gradients (snap));
  for (guint i = 1; i <= n; i++)
    {
      CsTensor d = cs_model_get_activation_grad (f->model, i);
      gsize k = numel (snap, i);
      g_assert_cmpmem (cs_snapshot_get_activation_grad (snap, i), k * sizeof (float),
                       d.data + k, k * sizeof (float));
    }
  /* the input's: a perceptron's flatten shares it, and the first linear
   * layer writes it; a convolution first leaves it unwritten */
  if (g_str_equal (data, "mlp"))
    g_assert_nonnull (cs_snapshot_get_activation_grad (snap, 0));
  else
    g_assert_null (cs_snapshot_get_activation_grad (snap, 0));

  /* dL/dlogits of the example: (p − onehot) / N */
  const float *g = cs_snapshot_get_activation_grad (snap, n);
  const float *p = cs_snapshot_get_probabilities (snap);
  for (int k = 0; k < 10; k++)
    g_assert_cmpfloat_with_epsilon (g[k], (p[k] - (k == f->y[1])) / BATCH, 1e-6);

  const char *name = g_str_equal (data, "mlp") ? "1.weight" : "0.weight";
  const CsModelEntry *entry = cs_model_find_entry (f->model, name);
  const CsTensor *dw = cs_snapshot_get_param_grad (snap, name);
  g_assert_nonnull (dw);
  g_assert_cmpmem (dw->data, cs_tensor_numel (dw) * sizeof (float), entry->param->grad->data,
                   cs_tensor_numel (dw) * sizeof (float));

  /* and with the input gradient turned on */
  cs_model_set_input_grad (f->model, TRUE);
  cs_model_zero_grad (f->model);
  forward (f);
  cs_loss_cross_entropy (cs_model_get_backend (f->model), &dout, &pt, out, f->y);
  cs_model_backward (f->model);
  g_autoptr(CsSnapshot) with_input = cs_snapshot_new (f->model, 2, CS_SNAPSHOT_ALL);
  CsTensor dx = cs_model_get_activation_grad (f->model, 0);
  g_assert_cmpmem (cs_snapshot_get_activation_grad (with_input, 0), 784 * sizeof (float),
                   dx.data + 2 * 784, 784 * sizeof (float));

  /* the blocks: parameters, gradients, and with the optimizer's state only
   * when asked for (written here by hand: a model's state is its block) */
  gsize P = cs_model_get_n_params (f->model), got = 0;
  float *state = cs_model_get_optim_state (f->model);
  for (gsize i = 0; i < 2 * P; i++)
    state[i] = (float) i * 0.5f - 3.0f;
  g_assert_null (cs_snapshot_get_optim_state (with_input, &got));
  g_assert_cmpuint (got, ==, P);
  g_autoptr(CsSnapshot) every = cs_snapshot_new (f->model, 0, CS_SNAPSHOT_EVERYTHING);
  g_assert_cmpmem (cs_snapshot_get_param_block (every, NULL), P * sizeof (float),
                   cs_model_get_params (f->model), P * sizeof (float));
  g_assert_cmpmem (cs_snapshot_get_grad_block (every, NULL), P * sizeof (float),
                   cs_model_get_grads (f->model), P * sizeof (float));
  g_assert_cmpmem (cs_snapshot_get_optim_state (every, NULL), 2 * P * sizeof (float),
                   state, 2 * P * sizeof (float));
  /* a parameter's tensor is a view into the block */
  const CsTensor *w = cs_snapshot_get_param (every, name);
  g_assert_true (w->data >= cs_snapshot_get_param_block (every, NULL));
  g_assert_true (w->data + cs_tensor_numel (w) <= cs_snapshot_get_param_block (every, NULL) + P);
  g_assert_null (cs_snapshot_get_optim_state (snap, NULL));
  g_autoptr(CsSnapshot) acts_only = cs_snapshot_new (f->model, 0, CS_SNAPSHOT_ACTIVATIONS);
  g_assert_null (cs_snapshot_get_param_block (acts_only, NULL));
}

static gpointer
read_in_thread (gpointer data)
{
  CsSnapshot *snap = data;
  double sum = 0.0;
  for (guint i = 0; i <= cs_snapshot_get_n_layers (snap); i++)
    {
      const float *a = cs_snapshot_get_activation (snap, i);
      for (gsize k = 0; k < numel (snap, i); k++)
        sum += a[k];
    }
  cs_snapshot_unref (snap);
  return GINT_TO_POINTER (isfinite (sum));
}

/* Reference counted across threads, and a boxed type for properties. */
static void
test_refcount (Fixture *f, gconstpointer data)
{
  CsSnapshot *snap = cs_snapshot_new (f->model, 0, CS_SNAPSHOT_FORWARD);
  GThread *threads[4];
  for (int t = 0; t < 4; t++)
    threads[t] = g_thread_new ("reader", read_in_thread, cs_snapshot_ref (snap));
  for (int t = 0; t < 4; t++)
    g_assert_true (GPOINTER_TO_INT (g_thread_join (threads[t])));

  GValue value = G_VALUE_INIT;
  g_value_init (&value, CS_TYPE_SNAPSHOT);
  g_value_set_boxed (&value, snap);
  g_assert_true (g_value_get_boxed (&value) == snap);
  CsSnapshot *copy = g_boxed_copy (CS_TYPE_SNAPSHOT, snap);
  g_assert_true (copy == snap);
  g_boxed_free (CS_TYPE_SNAPSHOT, copy);
  g_value_unset (&value);

  g_autoptr(CsSnapshot) other = cs_snapshot_new (f->model, 1, CS_SNAPSHOT_ACTIVATIONS);
  g_assert_true (cs_snapshot_same_structure (snap, other));
  cs_snapshot_unref (snap);
}

static void
test_structure (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CsModel) mlp = cs_model_new_preset ("mlp", &error);
  g_autoptr(CsModel) cnn = cs_model_new_preset ("simple-cnn", &error);
  g_assert_no_error (error);
  g_autoptr(CsSnapshot) a = cs_snapshot_new (mlp, 0, CS_SNAPSHOT_PARAMS);
  g_autoptr(CsSnapshot) b = cs_snapshot_new (cnn, 0, CS_SNAPSHOT_PARAMS);
  g_assert_false (cs_snapshot_same_structure (a, b));
  g_assert_true (cs_snapshot_same_structure (a, a));
  g_assert_false (cs_snapshot_same_structure (a, NULL));
  /* parameters alone need no forward pass */
  g_assert_null (cs_snapshot_get_activation (a, 0));
  g_assert_nonnull (cs_snapshot_get_param (a, "1.weight"));
  g_assert_cmpuint (cs_snapshot_get_n_classes (a), ==, 0);
}

/* The residual preset: parameters inside a block, by their nested names;
 * BatchNorm's running statistics are buffers, not carried. */
static void
test_residual (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CsModel) model = cs_model_new_preset ("residual-cnn", &error);
  g_assert_no_error (error);
  cs_model_init (model, SEED);
  g_assert_true (cs_model_reserve (model, 1, &error));
  float x[784] = { 0 };
  for (int i = 0; i < 784; i++)
    x[i] = (i % 29) / 28.0f;
  CsTensor xt = cs_tensor_view (x, 4, (gint64[]) { 1, 1, 28, 28 });
  cs_model_forward (model, &xt, FALSE);
  g_autoptr(CsSnapshot) snap = cs_snapshot_new (model, 0, CS_SNAPSHOT_FORWARD);
  g_assert_nonnull (cs_snapshot_get_param (snap, "3.conv1.weight"));
  g_assert_true (cs_snapshot_get_layer_param (snap, 3, "conv1.weight")
                 == cs_snapshot_get_param (snap, "3.conv1.weight"));
  g_assert_null (cs_snapshot_get_param (snap, "1.running_mean"));
  g_assert_nonnull (cs_snapshot_get_param (snap, "1.weight"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  static const char *const presets[] = { "mlp", "simple-cnn" };
  for (gsize p = 0; p < G_N_ELEMENTS (presets); p++)
    {
#define ADD(name, fn)                                                                       \
      do {                                                                                  \
        g_autofree char *path = g_strdup_printf ("/app/snapshot/%s/" name, presets[p]);     \
        g_test_add (path, Fixture, presets[p], fixture_set_up, fn, fixture_tear_down);      \
      } while (0)
      ADD ("activations", test_activations);
      ADD ("probabilities", test_probabilities);
      ADD ("survives-forward", test_survives_forward);
      ADD ("view-params", test_view_params);
      ADD ("gradients", test_gradients);
      ADD ("refcount", test_refcount);
#undef ADD
    }
  g_test_add_func ("/app/snapshot/structure", test_structure);
  g_test_add_func ("/app/snapshot/residual", test_residual);
  return g_test_run ();
}
