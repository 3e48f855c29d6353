/* test-model.c — model descriptions, good and bad, and initialisation
 *
 * The presets load with the shapes, parameter counts and state-dict names
 * PyTorch would give them; the worked example of the Convolution view comes
 * out exactly; every kind of bad description is refused with a GError a
 * person can act on (and, under ASan, without a leak); the initialisation
 * schemes draw with the variance their formula says, reproducibly.
 */
#include "core/backend.h"
#include "core/error.h"
#include "core/model.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

/* ---------------------------------------------------------------------------
 * Helpers
 */

/* JSON written with single quotes, for legibility. */
static char *
unquote (const char *squoted)
{
  char *json = g_strdup (squoted);
  g_strdelimit (json, "'", '"');
  return json;
}

static CsModel *
model_new_squoted (const char *squoted)
{
  g_autofree char *json = unquote (squoted);
  g_autoptr(GError) error = NULL;
  CsModel *model = cs_model_new_from_json (json, -1, &error);

  g_assert_no_error (error);
  g_assert_nonnull (model);
  return model;
}

static void
assert_shape (const CsShape *s, int ndim, gint64 d0, gint64 d1, gint64 d2)
{
  const gint64 d[3] = { d0, d1, d2 };

  g_assert_cmpint (s->ndim, ==, ndim);
  for (int i = 0; i < ndim; i++)
    g_assert_cmpint (s->d[i], ==, d[i]);
}

/* ---------------------------------------------------------------------------
 * The presets
 */

typedef struct
{
  const char *name;
  int out_ndim;
  gint64 out[3];
  gsize n_params;
  gsize n_buffers;
  const char *const *entries;   /* the state dict, in PyTorch's order */
} PresetCase;

static const char *const mlp_entries[] = {
  "1.weight", "1.bias", "3.weight", "3.bias", NULL
};

static const char *const simple_cnn_entries[] = {
  "0.weight", "0.bias", "3.weight", "3.bias", "7.weight", "7.bias", "9.weight", "9.bias", NULL
};

#define BN(p) p ".weight", p ".bias", p ".running_mean", p ".running_var", \
              p ".num_batches_tracked"

static const char *const residual_cnn_entries[] = {
  "0.weight",
  BN ("1"),
  "3.conv1.weight", BN ("3.bn1"), "3.conv2.weight", BN ("3.bn2"),
  "6.conv1.weight", BN ("6.bn1"), "6.conv2.weight", BN ("6.bn2"), "6.shortcut.weight",
  "10.weight", "10.bias",
  NULL
};

static const char *const demo_conv_entries[] = { "0.weight", NULL };

static const PresetCase preset_cases[] = {
  /* flatten, Linear(784, 256), ReLU, Linear(256, 10) */
  { "mlp", 1, { 10 }, 784 * 256 + 256 + 256 * 10 + 10, 0, mlp_entries },
  /* Conv2d(1, 32, 3), pool, ReLU, Conv2d(32, 64, 3), pool, ReLU, flatten,
   * Linear(64·7·7, 128), ReLU, Linear(128, 10) */
  { "simple-cnn", 1, { 10 },
    (1 * 32 * 9 + 32) + (32 * 64 * 9 + 64) + (3136 * 128 + 128) + (128 * 10 + 10), 0,
    simple_cnn_entries },
  /* Conv2d(1, 8, 3) without bias, BatchNorm(8), residual 8 → 8 (two 3×3
   * convolutions and two BatchNorms), residual 8 → 16 with stride 2 (the
   * same plus a 1×1 shortcut), flatten, Linear(16·7·7, 10); each BatchNorm keeps a
   * running mean and variance */
  { "residual-cnn", 1, { 10 },
    (8 * 9) + 2 * 8
    + (8 * 8 * 9 + 2 * 8 + 8 * 8 * 9 + 2 * 8)
    + (16 * 8 * 9 + 2 * 16 + 16 * 16 * 9 + 2 * 16 + 16 * 8)
    + (16 * 7 * 7 * 10 + 10),
    2 * 8 + 2 * (2 * 8) + 2 * (2 * 16),
    residual_cnn_entries },
  /* one 3×3 kernel without bias; the output is MaxPool's 2×2, flattened */
  { "demo-conv", 1, { 4 }, 9, 0, demo_conv_entries },
};

static void
test_model_preset (gconstpointer data)
{
  const PresetCase *pc = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(CsModel) model = cs_model_new_preset (pc->name, &error);

  g_assert_no_error (error);
  g_assert_nonnull (model);
  g_assert_cmpstr (cs_model_get_name (model), ==, pc->name);

  const CsShape *in = cs_model_get_input_shape (model);
  if (g_str_equal (pc->name, "demo-conv"))
    assert_shape (in, 3, 1, 5, 5);
  else
    assert_shape (in, 3, 1, 28, 28);
  assert_shape (cs_model_get_output_shape (model), pc->out_ndim, pc->out[0], pc->out[1],
                pc->out[2]);

  g_test_message ("%s: %" G_GSIZE_FORMAT " parameters, %" G_GSIZE_FORMAT " buffer values",
                  pc->name, cs_model_get_n_params (model), cs_model_get_n_buffers (model));
  g_assert_cmpuint (cs_model_get_n_params (model), ==, pc->n_params);
  g_assert_cmpuint (cs_model_get_n_buffers (model), ==, pc->n_buffers);

  /* The state dict: names in order, the tensors' sizes adding up, and the
   * parameters laid out one after another in the block. */
  guint n = cs_model_get_n_entries (model);
  g_assert_cmpuint (n, ==, g_strv_length ((char **) pc->entries));
  gsize params = 0, buffers = 0;
  for (guint i = 0; i < n; i++)
    {
      const CsModelEntry *e = cs_model_get_entry (model, i);
      g_assert_cmpstr (e->name, ==, pc->entries[i]);
      g_assert_true (cs_model_find_entry (model, e->name) == e);
      if (e->param->role == CS_BUFFER_COUNTER)
        {
          g_assert_true (g_str_has_suffix (e->name, ".num_batches_tracked"));
          g_assert_null (e->param->value);
          continue;
        }
      gsize numel = (gsize) cs_tensor_numel (e->param->value);
      if (e->param->grad != NULL)
        {
          g_assert_true (e->param->value->data == cs_model_get_params (model) + params);
          g_assert_true (e->param->grad->data == cs_model_get_grads (model) + params);
          params += numel;
        }
      else
        {
          g_assert_true (e->param->value->data == cs_model_get_buffers (model) + buffers);
          buffers += numel;
        }
    }
  g_assert_cmpuint (params, ==, pc->n_params);
  g_assert_cmpuint (buffers, ==, pc->n_buffers);
  g_assert_null (cs_model_find_entry (model, "no.such.tensor"));

  /* A batch of two goes through with the expected shape. */
  g_assert_true (cs_model_reserve (model, 2, &error));
  g_assert_no_error (error);
  CsTensor x = cs_tensor_view_batch (NULL, 2, in);
  g_autoptr(CsTensor) xt = cs_tensor_new (x.ndim, x.shape);
  const CsTensor *out = cs_model_forward (model, xt, FALSE);
  g_assert_nonnull (out);
  g_assert_cmpint (out->ndim, ==, 1 + pc->out_ndim);
  g_assert_cmpint (out->shape[0], ==, 2);
  for (int i = 0; i < pc->out_ndim; i++)
    g_assert_cmpint (out->shape[1 + i], ==, pc->out[i]);

  /* The description a checkpoint stores builds the same model. */
  g_autoptr(CsModel) again = cs_model_new_from_json (cs_model_get_json (model), -1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (cs_model_get_n_params (again), ==, pc->n_params);
  g_assert_cmpuint (cs_model_get_n_entries (again), ==, n);
}

static void
test_model_preset_unknown (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CsModel) model = cs_model_new_preset ("no-such-preset", &error);

  g_assert_null (model);
  g_assert_error (error, CS_ERROR, CS_ERROR_IO);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "no-such-preset"));
  g_assert_nonnull (strstr (error->message, "mlp"));
}

/* ---------------------------------------------------------------------------
 * The worked example of the Convolution view
 */

static void
assert_values (const char *what, CsTensor t, const float *expected, gsize n)
{
  g_assert_cmpint (cs_tensor_numel (&t), ==, (gint64) n);
  for (gsize i = 0; i < n; i++)
    {
      if (t.data[i] != expected[i])
        g_test_message ("%s[%" G_GSIZE_FORMAT "] is %g, expected %g", what, i,
                        t.data[i], expected[i]);
      g_assert_cmpfloat (t.data[i], ==, expected[i]);
    }
}

static void
test_model_demo_conv (void)
{
  const CsBackend *backends[] = { cs_backend_ref (), cs_backend_cpu () };
  const float x[25] = {
    3, 3, 2, 1, 0,
    2, 3, 2, 1, 0,
    3, 3, 2, 1, 0,
    4, 3, 2, 1, 0,
    1, 3, 2, 1, 0,
  };
  const float kernel[9] = { 0, 1, 2, 2, 2, 0, 0, 1, 2 };
  /* conv (activation 1) and ReLU (activation 2): nothing negative */
  const float conv[9] = { 24, 18, 8, 26, 18, 8, 28, 18, 8 };
  /* MaxPool2d(2, 2, padding=1): windows {24}, {18, 8}, {26, 28}, {18, 8, 18, 8} */
  const float pool[4] = { 24, 18, 28, 18 };

  for (gsize b = 0; b < G_N_ELEMENTS (backends); b++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(CsModel) model = cs_model_new_preset ("demo-conv", &error);
      gint64 shape[4] = { 1, 1, 5, 5 };
      CsTensor xt = cs_tensor_view ((float *) x, 4, shape);

      g_assert_no_error (error);
      g_test_message ("backend %s", backends[b]->name);
      cs_model_set_backend (model, backends[b]);
      /* The kernel is fixed in the preset: any seed gives it. */
      cs_model_init (model, 12345);
      assert_values ("kernel", *cs_model_find_entry (model, "0.weight")->param->value,
                     kernel, 9);

      g_assert_true (cs_model_reserve (model, 1, &error));
      const CsTensor *out = cs_model_forward (model, &xt, FALSE);
      assert_values ("conv", cs_model_get_activation (model, 1), conv, 9);
      assert_values ("relu", cs_model_get_activation (model, 2), conv, 9);
      assert_values ("maxpool", cs_model_get_activation (model, 3), pool, 4);
      assert_values ("flatten", *out, pool, 4);
      g_assert_cmpint (out->ndim, ==, 2);
      g_assert_cmpint (out->shape[1], ==, 4);
    }
}

/* The same example with a fixed bias, "bias": [-20]: every output cell moves
 * by −20, so ReLU and the pooling now have something to do. */
static void
test_model_conv_fixed_bias (void)
{
  g_autoptr(CsModel) model = model_new_squoted (
    "{'input': [1, 5, 5], 'layers': ["
    " {'type': 'conv2d', 'in_channels': 1, 'out_channels': 1, 'kernel_size': 3,"
    "  'weight': [[0, 1, 2], [2, 2, 0], [0, 1, 2]], 'bias': [-20]},"
    " {'type': 'relu'},"
    " {'type': 'maxpool2d', 'kernel_size': 2, 'stride': 2, 'padding': 1},"
    " {'type': 'flatten'}]}");
  const float x[25] = {
    3, 3, 2, 1, 0,
    2, 3, 2, 1, 0,
    3, 3, 2, 1, 0,
    4, 3, 2, 1, 0,
    1, 3, 2, 1, 0,
  };
  const float bias[1] = { -20 };
  /* [[24, 18, 8], [26, 18, 8], [28, 18, 8]] − 20 */
  const float conv[9] = { 4, -2, -12, 6, -2, -12, 8, -2, -12 };
  const float relu[9] = { 4, 0, 0, 6, 0, 0, 8, 0, 0 };
  /* windows {4}, {0, 0}, {6, 8}, {0, 0, 0, 0} */
  const float pool[4] = { 4, 0, 8, 0 };
  gint64 shape[4] = { 1, 1, 5, 5 };
  CsTensor xt = cs_tensor_view ((float *) x, 4, shape);
  g_autoptr(GError) error = NULL;

  g_assert_cmpuint (cs_model_get_n_params (model), ==, 10);
  /* Fixed values survive any seed, as the weight's do. */
  cs_model_init (model, 777);
  assert_values ("bias", *cs_model_find_entry (model, "0.bias")->param->value, bias, 1);
  g_assert_true (cs_model_reserve (model, 1, &error));
  cs_model_forward (model, &xt, FALSE);
  assert_values ("conv", cs_model_get_activation (model, 1), conv, 9);
  assert_values ("relu", cs_model_get_activation (model, 2), relu, 9);
  assert_values ("maxpool", cs_model_get_activation (model, 3), pool, 4);

  /* "bias": true still means drawn values, false none. */
  g_autoptr(CsModel) drawn = model_new_squoted (
    "{'input': [1, 5, 5], 'layers': [{'type': 'conv2d', 'in_channels': 1,"
    " 'out_channels': 2, 'kernel_size': 3, 'bias': true}]}");
  g_assert_nonnull (cs_model_find_entry (drawn, "0.bias"));
  g_assert_null (cs_model_find_entry (drawn, "0.bias")->param->fixed);
}

/* ---------------------------------------------------------------------------
 * Bad descriptions
 */

typedef struct
{
  const char *path;
  const char *json;              /* single-quoted */
  const char *phrases[3];        /* each must be in the message */
} BadCase;

#define MNIST "'input': [1, 28, 28]"

static const BadCase bad_cases[] = {
  { "not-json", "{'input': [1, 28, 28], 'layers': [",
    { "not valid JSON" } },
  { "not-json-at-all", "a model, please",
    { "not valid JSON" } },
  { "not-an-object", "[{'type': 'flatten'}]",
    { "must be a JSON object", "input", "layers" } },
  { "input/missing", "{'layers': [{'type': 'flatten'}]}",
    { "“input”", "shape of one example" } },
  { "input/zero", "{'input': [0, 28, 28], 'layers': [{'type': 'flatten'}]}",
    { "“input”", "between 1 and" } },
  { "input/two-numbers", "{'input': [1, 28], 'layers': [{'type': 'flatten'}]}",
    { "“input”", "[channels, height, width]" } },
  { "input/string", "{'input': 'x', 'layers': [{'type': 'flatten'}]}",
    { "“input”", "shape of one example" } },
  { "layers/missing", "{" MNIST "}",
    { "“layers”" } },
  { "layers/empty", "{" MNIST ", 'layers': []}",
    { "non-empty", "“layers”" } },
  { "layers/not-objects", "{" MNIST ", 'layers': ['flatten']}",
    { "layer 0", "JSON object", "“type”" } },
  { "layer/no-type", "{" MNIST ", 'layers': [{'in_features': 784}]}",
    { "layer 0", "no “type”", "linear" } },
  { "layer/unknown-type",
    "{" MNIST ", 'layers': [{'type': 'conv3d', 'in_channels': 1, 'out_channels': 8,"
    " 'kernel_size': 3}]}",
    { "“conv3d”", "known types", "conv2d" } },
  { "layer/unknown-key",
    "{" MNIST ", 'layers': [{'type': 'conv2d', 'in_channels': 1, 'out_channels': 8,"
    " 'kernel': 3}]}",
    { "unknown setting “kernel”", "kernel_size" } },
  { "size/zero-out-features",
    "{" MNIST ", 'layers': [{'type': 'flatten'},"
    " {'type': 'linear', 'in_features': 784, 'out_features': 0}]}",
    { "layer 1 (linear)", "“out_features” is 0" } },
  { "size/negative-kernel",
    "{" MNIST ", 'layers': [{'type': 'conv2d', 'in_channels': 1, 'out_channels': 8,"
    " 'kernel_size': -1}]}",
    { "“kernel_size” is -1" } },
  { "size/zero-stride",
    "{" MNIST ", 'layers': [{'type': 'maxpool2d', 'kernel_size': 2, 'stride': 0}]}",
    { "“stride” is 0" } },
  { "size/missing-out-channels",
    "{" MNIST ", 'layers': [{'type': 'conv2d', 'in_channels': 1, 'kernel_size': 3}]}",
    { "“out_channels” is missing" } },
  { "chain/linear-in-features",
    "{" MNIST ", 'layers': [{'type': 'flatten'},"
    " {'type': 'linear', 'in_features': 100, 'out_features': 10}]}",
    { "layer 1 (linear)", "100", "784" } },
  { "chain/conv-in-channels",
    "{" MNIST ", 'layers': [{'type': 'conv2d', 'in_channels': 1, 'out_channels': 8,"
    " 'kernel_size': 3}, {'type': 'conv2d', 'in_channels': 16, 'out_channels': 8,"
    " 'kernel_size': 3}]}",
    { "layer 1 (conv2d)", "16 input channels", "gives 8" } },
  { "chain/batchnorm-features",
    "{" MNIST ", 'layers': [{'type': 'batchnorm2d', 'num_features': 4}]}",
    { "4 channels", "gives 1" } },
  { "chain/linear-on-image",
    "{" MNIST ", 'layers': [{'type': 'linear', 'in_features': 784, 'out_features': 10}]}",
    { "(1, 28, 28)", "flatten" } },
  { "chain/conv-on-vector",
    "{'input': [784], 'layers': [{'type': 'conv2d', 'in_channels': 1, 'out_channels': 8,"
    " 'kernel_size': 3}]}",
    { "needs an image", "(784)" } },
  { "chain/kernel-larger-than-input",
    "{'input': [1, 5, 5], 'layers': [{'type': 'conv2d', 'in_channels': 1,"
    " 'out_channels': 1, 'kernel_size': 7}]}",
    { "7×7 kernel", "does not fit", "5×5" } },
  { "chain/pool-larger-than-input",
    "{'input': [1, 5, 5], 'layers': [{'type': 'maxpool2d', 'kernel_size': 6}]}",
    { "6×6 window", "does not fit" } },
  { "pool/padding-over-half",
    "{" MNIST ", 'layers': [{'type': 'maxpool2d', 'kernel_size': 2, 'padding': 2}]}",
    { "padding 2", "more than half", "kernel size 2" } },
  { "dropout/p-above-one",
    "{'input': [10], 'layers': [{'type': 'dropout', 'p': 1.5}]}",
    { "“p” is 1.5" } },
  { "classes/mismatch",
    "{" MNIST ", 'classes': 5, 'layers': [{'type': 'flatten'},"
    " {'type': 'linear', 'in_features': 784, 'out_features': 10}]}",
    { "“classes” says 5", "(10)" } },
  { "classes/not-a-number",
    "{" MNIST ", 'classes': '10', 'layers': [{'type': 'flatten'},"
    " {'type': 'linear', 'in_features': 784, 'out_features': 10}]}",
    { "“classes” must be a whole number" } },
  { "init/unknown",
    "{" MNIST ", 'init': 'glorot', 'layers': [{'type': 'flatten'}]}",
    { "“init”", "glorot", "xavier_uniform" } },
  { "weight/wrong-length",
    "{'input': [1, 5, 5], 'layers': [{'type': 'conv2d', 'in_channels': 1,"
    " 'out_channels': 1, 'kernel_size': 3, 'bias': false,"
    " 'weight': [[0, 1, 2], [2, 2, 0], [0, 1]]}]}",
    { "“weight” has 8 numbers", "(1, 1, 3, 3)", "needs 9" } },
  { "weight/not-numbers",
    "{'input': [1, 5, 5], 'layers': [{'type': 'conv2d', 'in_channels': 1,"
    " 'out_channels': 1, 'kernel_size': 3, 'weight': [[0, 1, 'two']]}]}",
    { "“weight”", "list of numbers" } },
  { "weight/layer-without-weight",
    "{" MNIST ", 'layers': [{'type': 'relu', 'weight': [1]}]}",
    { "layer 0 (relu)", "no weight" } },
  { "type/string-for-number",
    "{" MNIST ", 'layers': [{'type': 'flatten'},"
    " {'type': 'linear', 'in_features': '784', 'out_features': 10}]}",
    { "“in_features” must be a whole number" } },
  { "type/fraction-for-number",
    "{" MNIST ", 'layers': [{'type': 'conv2d', 'in_channels': 1, 'out_channels': 2.5,"
    " 'kernel_size': 3}]}",
    { "“out_channels” must be a whole number" } },
  { "type/string-for-bool",
    "{" MNIST ", 'layers': [{'type': 'conv2d', 'in_channels': 1, 'out_channels': 2,"
    " 'kernel_size': 3, 'bias': 'no'}]}",
    { "“bias” must be true or false" } },
  { "bias/wrong-length",
    "{'input': [1, 5, 5], 'layers': [{'type': 'conv2d', 'in_channels': 1,"
    " 'out_channels': 2, 'kernel_size': 3, 'bias': [0.5]}]}",
    { "layer 0 (conv2d)", "“bias” has 1 number,", "2 outputs" } },
  { "bias/not-numbers",
    "{'input': [1, 5, 5], 'layers': [{'type': 'conv2d', 'in_channels': 1,"
    " 'out_channels': 1, 'kernel_size': 3, 'bias': ['half']}]}",
    { "“bias” must be true or false", "its values" } },
  { "residual/in-channels",
    "{" MNIST ", 'layers': [{'type': 'residual', 'in_channels': 8, 'out_channels': 8}]}",
    { "layer 0 (residual)", "8 input channels", "gives 1" } },
};

static void
test_model_bad (gconstpointer data)
{
  const BadCase *bc = data;
  g_autofree char *json = unquote (bc->json);
  g_autoptr(GError) error = NULL;
  g_autoptr(CsModel) model = cs_model_new_from_json (json, -1, &error);

  g_assert_null (model);
  g_assert_error (error, CS_ERROR, CS_ERROR_INVALID_MODEL);
  g_test_message ("%s", error->message);
  for (gsize i = 0; i < G_N_ELEMENTS (bc->phrases) && bc->phrases[i]; i++)
    if (strstr (error->message, bc->phrases[i]) == NULL)
      g_test_fail_printf ("the message “%s” does not say “%s”", error->message,
                          bc->phrases[i]);
}

/* The same through a file: the message names the file. */
static void
test_model_bad_file (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("convscope-model-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *path = g_build_filename (dir, "broken.json", NULL);
  g_autofree char *json = unquote ("{'input': [784], 'layers': [{'type': 'conv3d'}]}");

  g_assert_true (g_file_set_contents (path, json, -1, &error));
  g_autoptr(CsModel) model = cs_model_new_from_file (path, &error);
  g_assert_null (model);
  g_assert_error (error, CS_ERROR, CS_ERROR_INVALID_MODEL);
  g_test_message ("%s", error->message);
  g_assert_true (g_str_has_prefix (error->message, "broken.json: "));
  g_assert_nonnull (strstr (error->message, "conv3d"));
  g_clear_error (&error);

  g_assert_cmpint (g_remove (path), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
  model = cs_model_new_from_file (path, &error);
  g_assert_null (model);
  g_assert_error (error, CS_ERROR, CS_ERROR_IO);
  g_test_message ("%s", error->message);
}

/* ---------------------------------------------------------------------------
 * Initialisation
 */

typedef struct
{
  const char *name;
  gboolean normal;          /* else uniform */
  gboolean bias_uniform;    /* PyTorch's default: U(±1/√fan_in), else zeros */
} InitCase;

static const InitCase init_cases[] = {
  { "pytorch", FALSE, TRUE },
  { "xavier_uniform", FALSE, FALSE },
  { "xavier_normal", TRUE, FALSE },
  { "kaiming_uniform", FALSE, FALSE },
  { "kaiming_normal", TRUE, FALSE },
};

/* The variance each scheme gives the weights, as torch.nn.init defines it. */
static double
expected_variance (const char *scheme, double fan_in, double fan_out)
{
  if (g_str_equal (scheme, "pytorch"))
    return 1.0 / (3.0 * fan_in);                  /* U(±1/√fan_in) */
  if (g_str_has_prefix (scheme, "xavier"))
    return 2.0 / (fan_in + fan_out);
  if (g_str_has_prefix (scheme, "kaiming"))
    return 2.0 / fan_in;
  g_assert_not_reached ();
}

static void
check_init (const InitCase *ic, const char *layer_json, const char *in_json,
            double fan_in, double fan_out)
{
  g_autofree char *desc = g_strdup_printf ("{'input': %s, 'init': '%s', 'layers': [%s]}",
                                           in_json, ic->name, layer_json);
  g_autoptr(CsModel) model = model_new_squoted (desc);
  CsInitKind kind;

  g_assert_true (cs_init_kind_from_string (ic->name, &kind));
  g_assert_cmpint (cs_model_get_init (model), ==, kind);
  g_assert_cmpstr (cs_init_kind_to_string (kind), ==, ic->name);
  cs_model_init (model, 2024);

  const CsParam *w = cs_model_find_entry (model, "0.weight")->param;
  const CsParam *b = cs_model_find_entry (model, "0.bias")->param;
  gsize n = (gsize) cs_tensor_numel (w->value);
  double var = expected_variance (ic->name, fan_in, fan_out), sd = sqrt (var);
  double s = 0.0, s2 = 0.0, largest = 0.0;
  gsize beyond_2sd = 0;

  for (gsize i = 0; i < n; i++)
    {
      double v = w->value->data[i];
      s += v;
      s2 += v * v;
      largest = MAX (largest, fabs (v));
      beyond_2sd += fabs (v) > 2 * sd;
    }
  double mean = s / n, got = s2 / n - mean * mean;
  g_test_message ("%s, %" G_GSIZE_FORMAT " weights: variance %.4g, expected %.4g (%+.2f%%), "
                  "mean %.2g, largest |w| %.4g, beyond 2 sd %.2f%%", ic->name, n, got, var,
                  100 * (got / var - 1), mean, largest, 100.0 * beyond_2sd / n);
  /* The variance of a variance estimate is about (κ − 1)σ⁴/n: under 1%
   * relative for these sizes, so 3% is a wrong formula, not chance. */
  g_assert_cmpfloat (fabs (got / var - 1.0), <, 0.03);
  g_assert_cmpfloat (fabs (mean), <, 5.0 * sd / sqrt ((double) n));
  if (ic->normal)
    {
      /* 4.55% of a normal lies beyond 2σ; nothing of a uniform does. */
      g_assert_cmpfloat (fabs ((double) beyond_2sd / n - 0.0455), <, 0.005);
    }
  else
    {
      double bound = sqrt (3.0 * var);
      g_assert_cmpfloat (largest, <=, bound * (1 + 1e-6));
      g_assert_cmpfloat (largest, >, 0.99 * bound);
      g_assert_cmpuint (beyond_2sd, ==, 0);
    }

  gsize nb = (gsize) cs_tensor_numel (b->value);
  const float *bias = b->value->data;
  if (ic->bias_uniform)
    {
      double bound = 1.0 / sqrt (fan_in), bs2 = 0.0, blargest = 0.0;
      for (gsize i = 0; i < nb; i++)
        {
          bs2 += (double) bias[i] * bias[i];
          blargest = MAX (blargest, fabs (bias[i]));
        }
      g_test_message ("%" G_GSIZE_FORMAT " biases: mean square %.4g, expected %.4g, "
                      "largest %.4g of %.4g", nb, bs2 / nb, bound * bound / 3, blargest, bound);
      g_assert_cmpfloat (blargest, <=, bound * (1 + 1e-6));
      g_assert_cmpfloat (blargest, >, 0.8 * bound);
      /* Few biases: their mean square is known to ±(0.9/√n) relative. */
      g_assert_cmpfloat (fabs (bs2 / nb / (bound * bound / 3) - 1.0), <, 4 * 0.9 / sqrt (nb));
    }
  else
    for (gsize i = 0; i < nb; i++)
      g_assert_cmpfloat (bias[i], ==, 0.0f);
}

static void
test_model_init_linear (gconstpointer data)
{
  check_init (data, "{'type': 'linear', 'in_features': 784, 'out_features': 256}",
              "[784]", 784, 256);
}

static void
test_model_init_conv (gconstpointer data)
{
  /* fan_in = fan_out = 64·3·3 */
  check_init (data, "{'type': 'conv2d', 'in_channels': 64, 'out_channels': 64,"
              " 'kernel_size': 3}", "[64, 5, 5]", 64 * 9, 64 * 9);
}

static void
test_model_init_zeros (void)
{
  g_autoptr(CsModel) model = model_new_squoted (
    "{'input': [3, 8, 8], 'init': 'zeros', 'layers': ["
    "{'type': 'conv2d', 'in_channels': 3, 'out_channels': 4, 'kernel_size': 3},"
    "{'type': 'batchnorm2d', 'num_features': 4},"
    "{'type': 'flatten'},"
    "{'type': 'linear', 'in_features': 144, 'out_features': 10}]}");

  cs_model_init (model, 99);
  for (guint i = 0; i < cs_model_get_n_entries (model); i++)
    {
      const CsModelEntry *e = cs_model_get_entry (model, i);
      if (e->param->role == CS_BUFFER_COUNTER)
        continue;
      /* BatchNorm's γ and running variance stay 1: "zeros" is about the
       * weights that break symmetry. */
      float expected = e->param->role == CS_PARAM_ONES || e->param->role == CS_BUFFER_ONES
                       ? 1.0f : 0.0f;
      for (gint64 k = 0; k < cs_tensor_numel (e->param->value); k++)
        g_assert_cmpfloat (e->param->value->data[k], ==, expected);
    }
}

/* The same seed, the same weights; another seed, other weights. */
static void
test_model_init_seed (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CsModel) model = cs_model_new_preset ("simple-cnn", &error);
  g_assert_no_error (error);
  gsize P = cs_model_get_n_params (model);
  float *params = cs_model_get_params (model);

  cs_model_init (model, 1);
  g_autofree float *first = g_memdup2 (params, P * sizeof (float));
  cs_model_init (model, 2);
  gsize same = 0;
  for (gsize i = 0; i < P; i++)
    same += params[i] == first[i];
  g_test_message ("seeds 1 and 2: %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " values equal",
                  same, P);
  g_assert_cmpuint (same, <, P / 1000);

  /* A fresh network has no gradients and no optimizer history either. */
  float *grads = cs_model_get_grads (model);
  for (gsize i = 0; i < 3 * P; i++)
    grads[i] = 1.0f;   /* grads and the optimizer state follow in the block */
  _cs_model_set_step (model, 5);
  cs_model_init (model, 1);
  g_assert_cmpmem (params, P * sizeof (float), first, P * sizeof (float));
  for (gsize i = 0; i < 3 * P; i++)
    g_assert_cmpfloat (grads[i], ==, 0.0f);
  g_assert_cmpint (cs_model_get_step (model), ==, 0);

  /* Another model from the same description and seed: the same weights. */
  g_autoptr(CsModel) twin = cs_model_new_preset ("simple-cnn", &error);
  g_assert_no_error (error);
  cs_model_init (twin, 1);
  g_assert_cmpmem (cs_model_get_params (twin), P * sizeof (float), first, P * sizeof (float));
}

/* BatchNorm after init: γ = 1, β = 0, running mean 0 and variance 1, no
 * batches tracked; also after training forwards moved them. */
static void
test_model_init_batchnorm (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CsModel) model = cs_model_new_preset ("residual-cnn", &error);
  g_assert_no_error (error);

  for (int round = 0; round < 2; round++)
    {
      guint n_bn = 0;
      for (guint i = 0; i < cs_model_get_n_entries (model); i++)
        {
          const CsModelEntry *e = cs_model_get_entry (model, i);
          float expected;
          if (g_str_has_suffix (e->name, ".num_batches_tracked"))
            {
              g_assert_cmpint (*e->param->counter, ==, 0);
              n_bn++;
              continue;
            }
          if (g_str_has_suffix (e->name, ".running_mean"))
            expected = 0.0f;
          else if (g_str_has_suffix (e->name, ".running_var"))
            expected = 1.0f;
          else if (e->param->role == CS_PARAM_ONES)
            expected = 1.0f;     /* γ */
          else if (e->param->role == CS_PARAM_ZEROS)
            expected = 0.0f;     /* β */
          else
            continue;
          for (gint64 k = 0; k < cs_tensor_numel (e->param->value); k++)
            g_assert_cmpfloat (e->param->value->data[k], ==, expected);
        }
      g_assert_cmpuint (n_bn, ==, 5);
      if (round == 1)
        break;

      /* Two training forwards move the running statistics and count. */
      g_assert_true (cs_model_reserve (model, 2, &error));
      g_autoptr(CsTensor) x = cs_tensor_new_4d (2, 1, 28, 28);
      for (gint64 k = 0; k < cs_tensor_numel (x); k++)
        x->data[k] = (float) (k % 17) / 17.0f;
      cs_model_forward (model, x, TRUE);
      cs_model_forward (model, x, TRUE);
      const CsModelEntry *count = cs_model_find_entry (model, "1.num_batches_tracked");
      const CsModelEntry *mean = cs_model_find_entry (model, "3.bn1.running_mean");
      g_assert_cmpint (*count->param->counter, ==, 2);
      g_assert_cmpfloat (mean->param->value->data[0], !=, 0.0f);
      cs_model_init (model, 3);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (preset_cases); i++)
    {
      g_autofree char *path = g_strconcat ("/core/model/preset/", preset_cases[i].name, NULL);
      g_test_add_data_func (path, &preset_cases[i], test_model_preset);
    }
  g_test_add_func ("/core/model/preset/unknown", test_model_preset_unknown);
  g_test_add_func ("/core/model/demo-conv/worked-example", test_model_demo_conv);
  g_test_add_func ("/core/model/conv2d/fixed-bias", test_model_conv_fixed_bias);

  for (gsize i = 0; i < G_N_ELEMENTS (bad_cases); i++)
    {
      g_autofree char *path = g_strconcat ("/core/model/bad/", bad_cases[i].path, NULL);
      g_test_add_data_func (path, &bad_cases[i], test_model_bad);
    }
  g_test_add_func ("/core/model/bad/from-file", test_model_bad_file);

  for (gsize i = 0; i < G_N_ELEMENTS (init_cases); i++)
    {
      g_autofree char *lin = g_strconcat ("/core/model/init/", init_cases[i].name, "/linear", NULL);
      g_autofree char *conv = g_strconcat ("/core/model/init/", init_cases[i].name, "/conv2d",
                                           NULL);
      g_test_add_data_func (lin, &init_cases[i], test_model_init_linear);
      g_test_add_data_func (conv, &init_cases[i], test_model_init_conv);
    }
  g_test_add_func ("/core/model/init/zeros", test_model_init_zeros);
  g_test_add_func ("/core/model/init/seed", test_model_init_seed);
  g_test_add_func ("/core/model/init/batchnorm", test_model_init_batchnorm);

  return g_test_run ();
}
