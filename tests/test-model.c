/* test-model.c — model descriptions: the presets, the worked example,
 * initialisation, and one clear error for every kind of bad description */
#include "core/error.h"
#include "core/model.h"

#include <math.h>
#include <string.h>

static CsModel *
preset (const char *name)
{
  g_autoptr(GError) error = NULL;
  CsModel *model = cs_model_new_preset (name, &error);
  g_assert_no_error (error);
  return model;
}

static void
test_presets (void)
{
  static const struct
  {
    const char *name;
    gsize params;
    gint64 out;
    const char *names;
  } presets[] = {
    { "mlp", 784 * 256 + 256 + 256 * 10 + 10, 10, "1.weight 1.bias 3.weight 3.bias" },
    { "simple-cnn", 32 * 9 + 32 + 64 * 32 * 9 + 64 + 3136 * 128 + 128 + 128 * 10 + 10, 10,
      "0.weight 0.bias 3.weight 3.bias 7.weight 7.bias 9.weight 9.bias" },
    { "demo-conv", 9, 4, "0.weight" },
    { "residual-cnn",
      8 * 9 + 2 * 8                                   /* stem conv, bn */
      + 2 * (8 * 8 * 9) + 2 * 2 * 8                   /* block 8→8 */
      + 8 * 16 * 9 + 16 * 16 * 9 + 2 * 2 * 16 + 8 * 16 /* block 8→16, 1×1 shortcut */
      + 784 * 10 + 10,
      10,
      "0.weight 1.weight 1.bias 1.running_mean 1.running_var 1.num_batches_tracked "
      "3.conv1.weight 3.bn1.weight 3.bn1.bias 3.bn1.running_mean 3.bn1.running_var "
      "3.bn1.num_batches_tracked 3.conv2.weight 3.bn2.weight 3.bn2.bias 3.bn2.running_mean "
      "3.bn2.running_var 3.bn2.num_batches_tracked 6.conv1.weight 6.bn1.weight 6.bn1.bias "
      "6.bn1.running_mean 6.bn1.running_var 6.bn1.num_batches_tracked 6.conv2.weight "
      "6.bn2.weight 6.bn2.bias 6.bn2.running_mean 6.bn2.running_var "
      "6.bn2.num_batches_tracked 6.shortcut.weight 10.weight 10.bias" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (presets); i++)
    {
      g_autoptr(CsModel) model = preset (presets[i].name);
      g_assert_cmpstr (cs_model_get_name (model), ==, presets[i].name);
      g_assert_cmpuint (cs_model_get_n_params (model), ==, presets[i].params);
      const CsShape *out = cs_model_get_output_shape (model);
      g_assert_cmpint (out->ndim, ==, 1);
      g_assert_cmpint (out->d[0], ==, presets[i].out);

      g_autoptr(GString) names = g_string_new (NULL);
      for (guint k = 0; k < cs_model_get_n_entries (model); k++)
        g_string_append_printf (names, "%s%s", k ? " " : "", cs_model_get_entry (model, k)->name);
      g_assert_cmpstr (names->str, ==, presets[i].names);
    }
}

static void
assert_values (const CsTensor *t, const float *want, gsize n)
{
  g_assert_cmpint (cs_tensor_numel (t), ==, (gint64) n);
  for (gsize i = 0; i < n; i++)
    g_assert_cmpfloat (t->data[i], ==, want[i]);
}

/* DESIGN.md's worked example, exactly. */
static void
test_worked_example (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CsModel) model = preset ("demo-conv");
  cs_model_reserve (model, 1, &error);
  g_assert_no_error (error);

  float input[25] = { 3, 3, 2, 1, 0,
                      2, 3, 2, 1, 0,
                      3, 3, 2, 1, 0,
                      4, 3, 2, 1, 0,
                      1, 3, 2, 1, 0 };
  gint64 shape[4] = { 1, 1, 5, 5 };
  CsTensor x = cs_tensor_view (input, 4, shape);
  const CsTensor *out = cs_model_forward (model, &x, FALSE);

  const float kernel[9] = { 0, 1, 2, 2, 2, 0, 0, 1, 2 };
  assert_values (cs_model_get_entry (model, 0)->param->value, kernel, 9);

  CsTensor conv = cs_model_get_activation (model, 1);
  g_assert_cmpint (conv.shape[2], ==, 3);
  g_assert_cmpint (conv.shape[3], ==, 3);
  const float map[9] = { 24, 18, 8, 26, 18, 8, 28, 18, 8 };
  assert_values (&conv, map, 9);

  CsTensor relu = cs_model_get_activation (model, 2);
  assert_values (&relu, map, 9);

  CsTensor pool = cs_model_get_activation (model, 3);
  g_assert_cmpint (pool.shape[2], ==, 2);
  g_assert_cmpint (pool.shape[3], ==, 2);
  const float pooled[4] = { 24, 18, 28, 18 };
  assert_values (&pool, pooled, 4);

  g_assert_cmpint (out->ndim, ==, 2);
  assert_values (out, pooled, 4);
}

static void
expect_invalid (const char *json, const char *phrase)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CsModel) model = cs_model_new_from_json (json, -1, &error);
  g_assert_null (model);
  g_assert_error (error, CS_ERROR, CS_ERROR_INVALID_MODEL);
  g_test_message ("%s", error->message);
  if (strstr (error->message, phrase) == NULL)
    g_test_fail_printf ("“%s” does not say “%s”", error->message, phrase);
}

#define IMG "\"input\": [1, 28, 28], "

static void
test_bad_descriptions (void)
{
  expect_invalid ("{ this is not json", "not valid JSON");
  expect_invalid ("[1, 2, 3]", "JSON object");
  expect_invalid ("{\"layers\": [{\"type\": \"relu\"}]}", "“input”");
  expect_invalid ("{\"input\": [0, 28, 28], \"layers\": [{\"type\": \"relu\"}]}", "“input”");
  expect_invalid ("{\"input\": [1, 28], \"layers\": [{\"type\": \"relu\"}]}", "“input”");
  expect_invalid ("{\"input\": \"x\", \"layers\": [{\"type\": \"relu\"}]}", "“input”");
  expect_invalid ("{" IMG "\"layers\": []}", "non-empty list “layers”");
  expect_invalid ("{" IMG "\"layers\": 3}", "“layers”");
  expect_invalid ("{" IMG "\"layers\": [{\"kernel_size\": 3}]}", "no \"type\"");
  expect_invalid ("{" IMG "\"layers\": [7]}", "JSON object");
  expect_invalid ("{" IMG "\"layers\": [{\"type\": \"conv3d\"}]}", "unknown layer type “conv3d”");
  expect_invalid ("{" IMG "\"layers\": [{\"type\": \"conv3d\"}]}", "conv2d, maxpool2d");
  expect_invalid ("{" IMG "\"layers\": [{\"type\": \"conv2d\", \"in_channels\": 1, "
                  "\"out_channels\": 4, \"kernel\": 3}]}", "unknown setting “kernel”");
  expect_invalid ("{" IMG "\"layers\": [{\"type\": \"flatten\"}, {\"type\": \"linear\", "
                  "\"in_features\": 784, \"out_features\": 0}]}", "“out_features” is 0");
  expect_invalid ("{" IMG "\"layers\": [{\"type\": \"conv2d\", \"in_channels\": 1, "
                  "\"out_channels\": 4, \"kernel_size\": -1}]}", "“kernel_size” is -1");
  expect_invalid ("{" IMG "\"layers\": [{\"type\": \"conv2d\", \"in_channels\": 1, "
                  "\"out_channels\": 4, \"kernel_size\": 3, \"stride\": 0}]}", "“stride”");
  expect_invalid ("{" IMG "\"layers\": [{\"type\": \"flatten\"}, {\"type\": \"linear\", "
                  "\"in_features\": 100, \"out_features\": 10}]}", "gives 784");
  expect_invalid ("{" IMG "\"layers\": [{\"type\": \"conv2d\", \"in_channels\": 3, "
                  "\"out_channels\": 4, \"kernel_size\": 3}]}", "expects 3 input channels");
  expect_invalid ("{" IMG "\"layers\": [{\"type\": \"linear\", \"in_features\": 784, "
                  "\"out_features\": 10}]}", "add a flatten layer");
  expect_invalid ("{\"input\": [784], \"layers\": [{\"type\": \"conv2d\", \"in_channels\": 1, "
                  "\"out_channels\": 4, \"kernel_size\": 3}]}", "is there a flatten before it");
  expect_invalid ("{\"input\": [1, 5, 5], \"layers\": [{\"type\": \"conv2d\", \"in_channels\": 1, "
                  "\"out_channels\": 4, \"kernel_size\": 7}]}", "does not fit");
  expect_invalid ("{" IMG "\"layers\": [{\"type\": \"maxpool2d\", \"kernel_size\": 2, "
                  "\"padding\": 2}]}", "more than half");
  expect_invalid ("{" IMG "\"classes\": 10, \"layers\": [{\"type\": \"flatten\"}, "
                  "{\"type\": \"linear\", \"in_features\": 784, \"out_features\": 12}]}",
                  "“classes” says 10");
  expect_invalid ("{" IMG "\"init\": \"glorot\", \"layers\": [{\"type\": \"relu\"}]}",
                  "unknown “init” “glorot”");
  expect_invalid ("{" IMG "\"layers\": [{\"type\": \"conv2d\", \"in_channels\": 1, "
                  "\"out_channels\": 1, \"kernel_size\": 3, \"weight\": [1, 2, 3]}]}",
                  "“weight” has 3 numbers");
  expect_invalid ("{" IMG "\"layers\": [{\"type\": \"relu\", \"weight\": [1]}]}",
                  "no weight to set");
  expect_invalid ("{" IMG "\"layers\": [{\"type\": \"flatten\"}, {\"type\": \"linear\", "
                  "\"in_features\": \"784\", \"out_features\": 10}]}", "must be a whole number");
  expect_invalid ("{" IMG "\"layers\": [{\"type\": \"dropout\", \"p\": 1.5}]}", "“p” is 1.5");
  expect_invalid ("{" IMG "\"layers\": [{\"type\": \"batchnorm2d\", \"num_features\": 3}]}",
                  "normalises 3 channels");
  expect_invalid ("{" IMG "\"layers\": [{\"type\": \"residual\", \"in_channels\": 2, "
                  "\"out_channels\": 4}]}", "expects 2 input channels");
  expect_invalid ("{" IMG "\"layers\": [{\"type\": \"conv2d\", \"in_channels\": 1, "
                  "\"out_channels\": 4, \"kernel_size\": 3, \"bias\": 1}]}", "true or false");
}

static void
weight_stats (CsModel *model, const char *name, double *mean, double *var, double *maxabs)
{
  const CsModelEntry *e = cs_model_find_entry (model, name);
  g_assert_nonnull (e);
  gsize n = (gsize) cs_tensor_numel (e->param->value);
  double s = 0, s2 = 0, m = 0;
  for (gsize i = 0; i < n; i++)
    {
      double v = e->param->value->data[i];
      s += v;
      s2 += v * v;
      m = MAX (m, fabs (v));
    }
  *mean = s / n;
  *var = s2 / n - *mean * *mean;
  *maxabs = m;
}

static void
test_init (void)
{
  g_autoptr(CsModel) mlp = preset ("mlp");
  static const struct
  {
    CsInitKind kind;
    double var;     /* of the weights */
    double bound;   /* of uniform weights, or 0 */
    double bias;    /* bound of the biases (0: zero) */
  } cases[] = {
    { CS_INIT_PYTORCH, 1.0 / (3 * 784), 1 / 28.0, 1 / 28.0 },
    { CS_INIT_XAVIER_UNIFORM, 2.0 / (784 + 256), 0, 0 },
    { CS_INIT_XAVIER_NORMAL, 2.0 / (784 + 256), 0, 0 },
    { CS_INIT_KAIMING_UNIFORM, 2.0 / 784, 0, 0 },
    { CS_INIT_KAIMING_NORMAL, 2.0 / 784, 0, 0 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      cs_model_init_with (mlp, cases[i].kind, 11);
      double mean, var, maxabs;
      weight_stats (mlp, "1.weight", &mean, &var, &maxabs);
      g_test_message ("%s: mean %.2g, variance %.4g (formula %.4g)",
                      cs_init_kind_to_string (cases[i].kind), mean, var, cases[i].var);
      g_assert_cmpfloat (fabs (mean), <, 0.1 * sqrt (cases[i].var));
      g_assert_cmpfloat (fabs (var / cases[i].var - 1.0), <, 0.03);
      if (cases[i].bound > 0)
        g_assert_cmpfloat (maxabs, <=, cases[i].bound);
      weight_stats (mlp, "1.bias", &mean, &var, &maxabs);
      if (cases[i].bias > 0)
        {
          g_assert_cmpfloat (maxabs, <=, cases[i].bias);
          g_assert_cmpfloat (maxabs, >, 0.5 * cases[i].bias);
        }
      else
        g_assert_cmpfloat (maxabs, ==, 0.0);
    }

  cs_model_init_with (mlp, CS_INIT_ZEROS, 1);
  for (gsize i = 0; i < cs_model_get_n_params (mlp); i++)
    g_assert_cmpfloat (cs_model_get_params (mlp)[i], ==, 0.0f);

  /* Seeds: the same seed, the same weights; another seed, others. */
  gsize P = cs_model_get_n_params (mlp);
  cs_model_init (mlp, 5);
  g_autofree float *a = g_memdup2 (cs_model_get_params (mlp), P * sizeof (float));
  cs_model_init (mlp, 5);
  g_assert_cmpmem (a, P * sizeof (float), cs_model_get_params (mlp), P * sizeof (float));
  cs_model_init (mlp, 6);
  g_assert_true (memcmp (a, cs_model_get_params (mlp), P * sizeof (float)) != 0);

  /* BatchNorm starts as the identity: γ 1, β 0, running mean 0, variance 1. */
  g_autoptr(CsModel) res = preset ("residual-cnn");
  cs_model_init (res, 3);
  const struct { const char *name; float value; } bn[] = {
    { "1.weight", 1 }, { "1.bias", 0 }, { "1.running_mean", 0 }, { "1.running_var", 1 },
    { "6.bn2.weight", 1 }, { "6.bn2.running_var", 1 },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (bn); i++)
    {
      const CsModelEntry *e = cs_model_find_entry (res, bn[i].name);
      g_assert_nonnull (e);
      for (gint64 k = 0; k < cs_tensor_numel (e->param->value); k++)
        g_assert_cmpfloat (e->param->value->data[k], ==, bn[i].value);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/core/model/presets", test_presets);
  g_test_add_func ("/core/model/worked-example", test_worked_example);
  g_test_add_func ("/core/model/bad-descriptions", test_bad_descriptions);
  g_test_add_func ("/core/model/init", test_init);
  return g_test_run ();
}
