/* test-checkpoint.c — safetensors checkpoints: round trip, PyTorch's files,
 * and every kind of bad file ending in one clear error */
#include "core/checkpoint.h"
#include "core/error.h"
#include "core/safetensors.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

typedef struct
{
  char *dir;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  f->dir = g_dir_make_tmp ("convscope-ckpt-XXXXXX", &error);
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_autoptr(GDir) dir = g_dir_open (f->dir, 0, NULL);
  const char *name;
  while (dir && (name = g_dir_read_name (dir)))
    {
      g_autofree char *p = g_build_filename (f->dir, name, NULL);
      g_unlink (p);
    }
  g_rmdir (f->dir);
  g_free (f->dir);
}

static CsModel *
preset (const char *name, int batch)
{
  g_autoptr(GError) error = NULL;
  CsModel *model = cs_model_new_preset (name, &error);
  g_assert_no_error (error);
  cs_model_reserve (model, batch, &error);
  g_assert_no_error (error);
  return model;
}

static CsTensor *
random_input (CsModel *model, int batch, guint64 seed)
{
  CsTensor view = cs_tensor_view_batch (NULL, batch, cs_model_get_input_shape (model));
  CsTensor *x = cs_tensor_new (view.ndim, view.shape);
  CsRng rng;
  cs_rng_init (&rng, seed);
  for (gint64 i = 0; i < cs_tensor_numel (x); i++)
    x->data[i] = (float) cs_rng_uniform (&rng);
  return x;
}

static void
test_round_trip (Fixture *f, gconstpointer data)
{
  const char *name = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(CsModel) a = preset (name, 3);
  cs_model_init (a, 1234);
  /* Make the BatchNorm statistics non-trivial: one training forward. */
  g_autoptr(CsTensor) x = random_input (a, 3, 9);
  cs_model_forward (a, x, TRUE);
  const CsTensor *ya = cs_model_forward (a, x, FALSE);
  g_autofree float *want = g_memdup2 (ya->data, sizeof (float) * cs_tensor_numel (ya));

  g_autofree char *path = g_build_filename (f->dir, "model.safetensors", NULL);
  g_assert_true (cs_checkpoint_save (a, path, &error));
  g_assert_no_error (error);

  g_autoptr(CsModel) b = cs_checkpoint_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (cs_model_get_json (b), ==, cs_model_get_json (a));
  g_assert_cmpuint (cs_model_get_n_params (b), ==, cs_model_get_n_params (a));
  g_assert_cmpmem (cs_model_get_params (b), sizeof (float) * cs_model_get_n_params (b),
                   cs_model_get_params (a), sizeof (float) * cs_model_get_n_params (a));
  g_assert_cmpmem (cs_model_get_buffers (b), sizeof (float) * cs_model_get_n_buffers (b),
                   cs_model_get_buffers (a), sizeof (float) * cs_model_get_n_buffers (a));
  cs_model_reserve (b, 3, &error);
  g_assert_no_error (error);
  const CsTensor *yb = cs_model_forward (b, x, FALSE);
  g_assert_cmpmem (yb->data, sizeof (float) * cs_tensor_numel (yb),
                   want, sizeof (float) * cs_tensor_numel (ya));
}

/* A file written by PyTorch's state_dict (tests/golden/make-golden.py)
 * loads and predicts what PyTorch predicted in eval mode. */
static void
test_pytorch_file (Fixture *f, gconstpointer data)
{
  const char *name = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *file = g_strdup_printf ("%s.safetensors", name);
  g_autofree char *gfile = g_strdup_printf ("%s.golden.safetensors", name);
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "golden", file, NULL);
  g_autofree char *gpath = g_test_build_filename (G_TEST_DIST, "golden", gfile, NULL);

  g_autoptr(CsModel) model = cs_checkpoint_load (path, &error);
  g_assert_no_error (error);
  g_autoptr(CsSafetensors) golden = cs_safetensors_open (gpath, &error);
  g_assert_no_error (error);
  gsize nx = 0, ne = 0;
  g_autofree float *x = cs_safetensors_dup_f32 (golden, "x", &nx, &error);
  g_autofree float *want = cs_safetensors_dup_f32 (golden, "eval_logits", &ne, &error);
  g_assert_no_error (error);

  gint64 batch = (gint64) (nx / cs_shape_numel (cs_model_get_input_shape (model)));
  cs_model_reserve (model, (int) batch, &error);
  g_assert_no_error (error);
  CsTensor xt = cs_tensor_view_batch (x, batch, cs_model_get_input_shape (model));
  const CsTensor *y = cs_model_forward (model, &xt, FALSE);
  g_assert_cmpuint ((gsize) cs_tensor_numel (y), ==, ne);
  for (gint64 n = 0; n < batch; n++)
    {
      int best_ours = 0, best_torch = 0;
      for (int c = 0; c < 10; c++)
        {
          float o = y->data[n * 10 + c], t = want[n * 10 + c];
          g_assert_cmpfloat_with_epsilon (o, t, 1e-4 * MAX (1.0, fabsf (t)));
          if (o > y->data[n * 10 + best_ours])
            best_ours = c;
          if (t > want[n * 10 + best_torch])
            best_torch = c;
        }
      g_assert_cmpint (best_ours, ==, best_torch);
    }

  /* And our own save of it is the same set of names, shapes and values. */
  g_autofree char *out = g_build_filename (f->dir, "again.safetensors", NULL);
  g_assert_true (cs_checkpoint_save (model, out, &error));
  g_autoptr(CsSafetensors) theirs = cs_safetensors_open (path, &error);
  g_autoptr(CsSafetensors) ours = cs_safetensors_open (out, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (cs_safetensors_get_n_entries (ours), ==, cs_safetensors_get_n_entries (theirs));
  for (guint i = 0; i < cs_safetensors_get_n_entries (theirs); i++)
    {
      const CsSafetensorsEntry *t = cs_safetensors_get_entry (theirs, i);
      const CsSafetensorsEntry *o = cs_safetensors_lookup (ours, t->name);
      g_assert_nonnull (o);
      g_assert_cmpstr (o->dtype, ==, t->dtype);
      g_assert_cmpuint (o->nbytes, ==, t->nbytes);
      if (g_str_equal (t->dtype, "F32"))
        g_assert_cmpmem (cs_safetensors_get_data (ours, o), o->nbytes,
                         cs_safetensors_get_data (theirs, t), t->nbytes);
    }
}

/* ---- bad files ---------------------------------------------------------- */

static char *
write_raw (Fixture *f, const char *name, const void *data, gsize len)
{
  char *path = g_build_filename (f->dir, name, NULL);
  g_autoptr(GError) error = NULL;
  g_file_set_contents (path, data, (gssize) len, &error);
  g_assert_no_error (error);
  return path;
}

/* A file with this header and data_len bytes of zeros after it. */
static char *
write_with_header (Fixture *f, const char *name, const char *header, gsize data_len)
{
  gsize hl = strlen (header);
  g_autofree guint8 *buf = g_malloc0 (8 + hl + data_len);
  guint64 le = GUINT64_TO_LE (hl);
  memcpy (buf, &le, 8);
  memcpy (buf + 8, header, hl);
  return write_raw (f, name, buf, 8 + hl + data_len);
}

static void
expect_error (const char *path, CsModel *into, int code, const char *phrase)
{
  g_autoptr(GError) error = NULL;
  gboolean ok;
  if (into != NULL)
    ok = cs_checkpoint_load_into (into, path, &error);
  else
    {
      CsModel *m = cs_checkpoint_load (path, &error);
      ok = m != NULL;
      g_clear_pointer (&m, cs_model_free);
    }
  g_assert_false (ok);
  g_assert_error (error, CS_ERROR, code);
  g_test_message ("%s", error->message);
  g_autofree char *base = g_path_get_basename (path);
  g_assert_nonnull (strstr (error->message, base));
  if (phrase != NULL && strstr (error->message, phrase) == NULL)
    g_test_fail_printf ("“%s” does not say “%s”", error->message, phrase);
}

static void
test_bad_files (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CsModel) mlp = preset ("mlp", 1);
  cs_model_init (mlp, 5);
  g_autofree char *good = g_build_filename (f->dir, "good.safetensors", NULL);
  g_assert_true (cs_checkpoint_save (mlp, good, &error));
  g_autofree char *bytes = NULL;
  gsize len;
  g_file_get_contents (good, &bytes, &len, &error);
  g_assert_no_error (error);

  /* Remember the weights: no failed load may change them. */
  gsize P = cs_model_get_n_params (mlp);
  g_autofree float *before = g_memdup2 (cs_model_get_params (mlp), P * sizeof (float));

  g_autofree char *missing = g_build_filename (f->dir, "nothing-here.safetensors", NULL);
  expect_error (missing, NULL, CS_ERROR_IO, NULL);

  g_autofree char *empty = write_raw (f, "empty.safetensors", "", 0);
  expect_error (empty, mlp, CS_ERROR_INVALID_FILE, "too short");

  g_autofree char *trunc = write_raw (f, "truncated.safetensors", bytes, len / 2);
  expect_error (trunc, mlp, CS_ERROR_INVALID_FILE, "truncated");

  guint8 huge[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, '{', '}' };
  g_autofree char *past = write_raw (f, "header-past-end.safetensors", huge, sizeof huge);
  expect_error (past, mlp, CS_ERROR_INVALID_FILE, "header claims");

  g_autofree char *notjson = write_with_header (f, "not-json.safetensors", "{\"a\": [1, 2", 0);
  expect_error (notjson, mlp, CS_ERROR_INVALID_FILE, "JSON");

  g_autofree char *f16 = write_with_header (
      f, "f16.safetensors",
      "{\"1.weight\":{\"dtype\":\"F16\",\"shape\":[256,784],\"data_offsets\":[0,401408]}}",
      401408);
  expect_error (f16, mlp, CS_ERROR_MISMATCH, "F16");

  g_autofree char *badtype = write_with_header (
      f, "bad-dtype.safetensors",
      "{\"x\":{\"dtype\":\"Q7\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4);
  expect_error (badtype, mlp, CS_ERROR_INVALID_FILE, "unknown dtype");

  g_autofree char *sizes = write_with_header (
      f, "size-mismatch.safetensors",
      "{\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8);
  expect_error (sizes, mlp, CS_ERROR_INVALID_FILE, "need");

  g_autofree char *overflow = write_with_header (
      f, "overflow.safetensors",
      "{\"x\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,16],\"data_offsets\":[0,4]}}",
      4);
  expect_error (overflow, mlp, CS_ERROR_INVALID_FILE, "large");

  g_autofree char *overlap = write_with_header (
      f, "overlap.safetensors",
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
      "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12);
  expect_error (overlap, mlp, CS_ERROR_INVALID_FILE, "overlap");

  /* Well-formed files of other models: other names, or the same names with
   * other shapes (784-128-10 instead of 784-256-10). */
  g_autoptr(CsModel) cnn = preset ("simple-cnn", 1);
  g_autofree char *other = g_build_filename (f->dir, "simple-cnn.safetensors", NULL);
  g_assert_true (cs_checkpoint_save (cnn, other, &error));
  expect_error (other, mlp, CS_ERROR_MISMATCH, "missing");
  g_autoptr(CsModel) narrow = cs_model_new_from_json (
      "{\"input\": [1, 28, 28], \"layers\": [{\"type\": \"flatten\"}, "
      "{\"type\": \"linear\", \"in_features\": 784, \"out_features\": 128}, {\"type\": \"relu\"}, "
      "{\"type\": \"linear\", \"in_features\": 128, \"out_features\": 10}]}", -1, &error);
  g_assert_no_error (error);
  g_autofree char *narrow_path = g_build_filename (f->dir, "mlp-128.safetensors", NULL);
  g_assert_true (cs_checkpoint_save (narrow, narrow_path, &error));
  expect_error (narrow_path, mlp, CS_ERROR_MISMATCH, "(128, 784) in the file but the model needs (256, 784)");

  /* A missing tensor, and an extra one. */
  const CsModelEntry *e = cs_model_get_entry (mlp, 0);
  gint64 wshape[2] = { 256, 784 };
  CsSafetensorsTensor only_weight = { e->name, "F32", 2, wshape, e->param->value->data,
                                      256 * 784 * sizeof (float) };
  g_autofree char *partial = g_build_filename (f->dir, "partial.safetensors", NULL);
  g_assert_true (cs_safetensors_write (partial, &only_weight, 1, NULL, &error));
  expect_error (partial, mlp, CS_ERROR_MISMATCH, "missing");
  /* …and without metadata it cannot say which model it is. */
  expect_error (partial, NULL, CS_ERROR_INVALID_FILE, "model description");

  g_autoptr(CsModel) extra_model = cs_model_new_from_json (
      "{\"input\": [1, 28, 28], \"layers\": [{\"type\": \"flatten\"}, "
      "{\"type\": \"linear\", \"in_features\": 784, \"out_features\": 256}]}", -1, &error);
  g_assert_no_error (error);
  expect_error (good, extra_model, CS_ERROR_MISMATCH, "does not have");

  /* Metadata with a broken model description. */
  const char *meta[] = { "model", "{\"input\": [1, 28, 28], \"layers\": [{\"type\": \"conv3d\"}]}", NULL };
  g_autofree char *badmodel = g_build_filename (f->dir, "bad-model.safetensors", NULL);
  g_assert_true (cs_safetensors_write (badmodel, &only_weight, 1, meta, &error));
  expect_error (badmodel, NULL, CS_ERROR_INVALID_FILE, "conv3d");

  g_assert_cmpmem (cs_model_get_params (mlp), P * sizeof (float), before, P * sizeof (float));
}

/* Saving over a file is atomic: the old content stays until the new one is
 * complete, and a failed save leaves no temporary file behind. */
static void
test_atomic_save (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CsModel) mlp = preset ("mlp", 1);
  g_autofree char *path = g_build_filename (f->dir, "m.safetensors", NULL);
  g_assert_true (cs_checkpoint_save (mlp, path, &error));
  cs_model_init (mlp, 77);
  g_assert_true (cs_checkpoint_save (mlp, path, &error));
  g_assert_no_error (error);

  g_autoptr(GDir) dir = g_dir_open (f->dir, 0, &error);
  g_assert_no_error (error);
  guint n = 0;
  while (g_dir_read_name (dir))
    n++;
  g_assert_cmpuint (n, ==, 1);

  g_autoptr(CsModel) back = cs_checkpoint_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (cs_model_get_params (back), cs_model_get_n_params (back) * sizeof (float),
                   cs_model_get_params (mlp), cs_model_get_n_params (mlp) * sizeof (float));

  /* A directory that does not exist: an error, nothing written. */
  g_autofree char *nowhere = g_build_filename (f->dir, "no-such-dir", "m.safetensors", NULL);
  g_assert_false (cs_checkpoint_save (mlp, nowhere, &error));
  g_assert_error (error, CS_ERROR, CS_ERROR_IO);
  g_test_message ("%s", error->message);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  const char *presets[] = { "mlp", "simple-cnn", "demo-conv", "residual-cnn" };
  for (gsize i = 0; i < G_N_ELEMENTS (presets); i++)
    {
      g_autofree char *p = g_strdup_printf ("/core/checkpoint/round-trip/%s", presets[i]);
      g_test_add (p, Fixture, presets[i], fixture_setup, test_round_trip, fixture_teardown);
    }
  const char *torch[] = { "mlp", "simple-cnn", "residual-block" };
  for (gsize i = 0; i < G_N_ELEMENTS (torch); i++)
    {
      g_autofree char *p = g_strdup_printf ("/core/checkpoint/pytorch-file/%s", torch[i]);
      g_test_add (p, Fixture, torch[i], fixture_setup, test_pytorch_file, fixture_teardown);
    }
  g_test_add ("/core/checkpoint/bad-files", Fixture, NULL, fixture_setup, test_bad_files,
              fixture_teardown);
  g_test_add ("/core/checkpoint/atomic-save", Fixture, NULL, fixture_setup, test_atomic_save,
              fixture_teardown);
  return g_test_run ();
}
