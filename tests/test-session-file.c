/* test-session-file.c — a training run saved to a file and opened again
 *
 * Saved and loaded, a run is the same bits: the whole block (parameters,
 * gradients, optimizer state, buffers), BatchNorm's counters, the steps,
 * the batch order and its generator, the history. A run restored from the
 * file into another trainer and trained N more batches equals the
 * original trained the same N, bit for bit (the residual CNN: BatchNorm
 * and dropout, whose masks follow the layers' seeds and the step); on a
 * GPU (skipped without one) the same, captured from and restored onto the
 * device. Bad files — truncated, garbage, another format, a newer version,
 * missing — and an unwritable destination give one error each, change
 * nothing, and leave no file behind.
 */
#include "core/backend.h"
#include "core/dataset.h"
#include "core/error.h"
#include "core/model.h"
#include "core/session-file.h"
#include "core/trainer.h"
#include "tests/trainer-fixture.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

static CsDataset *digits_train, *digits_test;

static CsTrainer *
new_trainer (const char *preset, guint32 n_train, guint64 seed)
{
  g_autoptr(GError) error = NULL;
  CsTrainerConfig config;
  cs_trainer_config_init (&config);
  config.batch_size = 24;
  config.seed = seed;
  CsModel *m = cs_model_new_preset (preset, &error);
  g_assert_no_error (error);
  CsTrainer *t = cs_trainer_new (m, subset (digits_train, 0, n_train),
                                 subset (digits_test, 0, 40), &config, &error);
  g_assert_no_error (error);
  return t;
}

static CsTrainerStatus
status_of (CsTrainer *t)
{
  CsTrainerStatus s;
  cs_trainer_get_status (t, &s);
  return s;
}

/* Runs a capture on the trainer's thread and waits for it. */
typedef struct
{
  CsRunState *state;
  gboolean ok;
} Capture;

static void
capture_func (CsTrainer *trainer, CsModel *model, CsOptimizer *opt, gpointer data)
{
  Capture *c = data;
  g_autoptr(GError) error = NULL;
  c->ok = cs_trainer_capture (trainer, c->state, &error);
  g_assert_no_error (error);
}

static CsRunState *
capture (CsTrainer *t)
{
  Capture c = { cs_run_state_new (), FALSE };
  cs_trainer_invoke (t, capture_func, &c, NULL);
  wait_idle (t);
  g_assert_true (c.ok);
  return c.state;
}

/* Every number two states hold, compared bit for bit; but the gradient
 * norms of the history when `norms` is FALSE: on a GPU the trainer
 * measures them at most every so many milliseconds (a download each), so
 * which records have them depends on the clock, not on the run. */
static void
assert_same_state_norms (CsRunState *a, CsRunState *b, gboolean norms)
{
  gsize P = cs_model_get_n_params (a->model), B = cs_model_get_n_buffers (a->model);
  g_assert_cmpuint (P, ==, cs_model_get_n_params (b->model));
  g_assert_cmpuint (B, ==, cs_model_get_n_buffers (b->model));
  g_assert_cmpstr (cs_model_get_json (a->model), ==, cs_model_get_json (b->model));
  g_assert_true (memcmp (cs_model_read_block (a->model, NULL), cs_model_read_block (b->model, NULL),
                         (4 * P + B) * sizeof (float)) == 0);
  for (guint i = 0; i < cs_model_get_n_entries (a->model); i++)
    {
      const CsModelEntry *ea = cs_model_get_entry (a->model, i);
      const CsModelEntry *eb = cs_model_get_entry (b->model, i);
      g_assert_cmpstr (ea->name, ==, eb->name);
      if (ea->param->role == CS_BUFFER_COUNTER)
        g_assert_cmpint (*ea->param->counter, ==, *eb->param->counter);
    }
  g_assert_cmpint (cs_model_get_step (a->model), ==, cs_model_get_step (b->model));
  g_assert_cmpint (a->optim_step, ==, b->optim_step);
  g_assert_true (memcmp (&a->optim, &b->optim, sizeof a->optim) == 0);
  g_assert_cmpuint (a->seed, ==, b->seed);
  g_assert_cmpint (a->batch_size, ==, b->batch_size);
  g_assert_cmpstr (a->dataset, ==, b->dataset);
  g_assert_cmpuint (a->train_examples, ==, b->train_examples);
  g_assert_true (memcmp (a->order, b->order, a->train_examples * sizeof (guint32)) == 0);
  g_assert_cmpuint (a->pos, ==, b->pos);
  g_assert_cmpuint (a->epoch, ==, b->epoch);
  g_assert_true (memcmp (a->rng.s, b->rng.s, sizeof a->rng.s) == 0);
  g_assert_cmpuint (a->epoch_examples, ==, b->epoch_examples);
  g_assert_cmpuint (a->epoch_correct, ==, b->epoch_correct);
  g_assert_true (memcmp (&a->epoch_loss_sum, &b->epoch_loss_sum, sizeof (double)) == 0);
  g_assert_true (memcmp (&a->running_loss, &b->running_loss, sizeof (double)) == 0);
  g_assert_cmpuint (a->examples_seen, ==, b->examples_seen);
  g_assert_cmpint (a->watch_index, ==, b->watch_index);
  g_assert_cmpuint (a->watch_image_n, ==, b->watch_image_n);
  if (a->watch_image_n > 0)
    g_assert_true (memcmp (a->watch_image, b->watch_image, a->watch_image_n * sizeof (float)) == 0);

  g_assert_cmpuint (a->n_frozen, ==, b->n_frozen);
  g_assert_true (memcmp (a->frozen, b->frozen, a->n_frozen * sizeof a->frozen[0]) == 0);

  const CsTrainHistory *ha = a->history, *hb = b->history;
  g_assert_cmpuint (ha->n_layers, ==, hb->n_layers);
  g_assert_cmpuint (ha->records->len, ==, hb->records->len);
  g_assert_cmpuint (ha->evals->len, ==, hb->evals->len);
  g_assert_cmpuint (ha->n_older, ==, hb->n_older);
  g_assert_cmpint (ha->stride, ==, hb->stride);
  for (guint i = 0; i < ha->records->len; i++)
    {
      const CsTrainRecord *ra = &g_array_index (ha->records, CsTrainRecord, i);
      const CsTrainRecord *rb = &g_array_index (hb->records, CsTrainRecord, i);
      g_assert_cmpint (ra->step, ==, rb->step);
      g_assert_cmpuint (ra->epoch, ==, rb->epoch);
      g_assert_cmpuint (ra->size, ==, rb->size);
      g_assert_true (memcmp (&ra->loss, &rb->loss, sizeof (float)) == 0);
      g_assert_true (memcmp (&ra->accuracy, &rb->accuracy, sizeof (float)) == 0);
      if (norms)
        g_assert_true (memcmp (&ra->grad_norm, &rb->grad_norm, sizeof (float)) == 0);
      g_assert_true (memcmp (&ra->lr, &rb->lr, sizeof (float)) == 0);
    }
  if (norms)
    g_assert_true (memcmp (ha->layer_norms->data, hb->layer_norms->data,
                           ha->layer_norms->len * sizeof (float)) == 0);
  for (guint i = 0; i < ha->evals->len; i++)
    {
      const CsTrainEval *ea = &g_array_index (ha->evals, CsTrainEval, i);
      const CsTrainEval *eb = &g_array_index (hb->evals, CsTrainEval, i);
      g_assert_cmpint (ea->step, ==, eb->step);
      g_assert_true (memcmp (&ea->test_loss, &eb->test_loss, sizeof (float)) == 0);
      g_assert_true (memcmp (&ea->test_accuracy, &eb->test_accuracy, sizeof (float)) == 0);
    }
}

static void
assert_same_state (CsRunState *a, CsRunState *b)
{
  assert_same_state_norms (a, b, TRUE);
}

/* Saved and loaded: the same bits, and the extras the application adds. */
static void
test_roundtrip (void)
{
  g_autofree char *dir = temp_dir ();
  g_autofree char *path = g_build_filename (dir, "run.convscope", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(CsTrainer) t = new_trainer ("residual-cnn", 120, 3);

  /* past an epoch (120 / 24 = 5 batches) and into the next, with an
   * evaluation, another learning rate and a drawn picture watched */
  float picture[784];
  for (int i = 0; i < 784; i++)
    picture[i] = (float) (i % 29) / 28.0f;
  cs_trainer_watch_image (t, picture, 784, -1);
  cs_trainer_step (t, 3);
  g_assert_true (cs_trainer_set_learning_rate (t, 3e-3, NULL));
  cs_trainer_step (t, 4);
  wait_idle (t);
  g_autoptr(CsRunState) a = capture (t);
  g_assert_cmpint (cs_model_get_step (a->model), ==, 7);
  g_assert_cmpuint (a->epoch, ==, 1);
  g_assert_cmpuint (a->history->evals->len, ==, 1);
  g_assert_cmpint (a->watch_index, ==, -1);

  float drawing[4] = { 1, 2, 3, 4 };
  gint64 shape[] = { 2, 2 };
  CsSafetensorsTensor extra = { "app.drawing", "F32", 2, shape, drawing, sizeof drawing };
  const char *meta[] = { "app.view", "training", NULL };
  g_assert_true (cs_run_state_save (a, path, &extra, 1, meta, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_files (dir), ==, 1);   /* no temporary file left */

  g_autoptr(CsSafetensors) file = NULL;
  g_autoptr(CsRunState) b = cs_run_state_load (path, &file, &error);
  g_assert_no_error (error);
  assert_same_state (a, b);
  g_assert_cmpstr (cs_safetensors_get_metadata (file, "app.view"), ==, "training");
  float back[4];
  g_assert_true (cs_safetensors_read_f32 (file, "app.drawing", back, 4, NULL));
  g_assert_true (memcmp (back, drawing, sizeof back) == 0);

  /* the file holds a checkpoint too: the model's tensors by PyTorch's names */
  g_assert_nonnull (cs_safetensors_lookup (file, "1.running_mean"));
  remove_dir (dir);
}

/* Restored into another trainer, N more batches equal the original's N. */
static void
check_continue (const char *preset)
{
  g_autofree char *dir = temp_dir ();
  g_autofree char *path = g_build_filename (dir, "run.convscope", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(CsTrainer) a = new_trainer (preset, 100, 5);

  cs_trainer_step (a, 6);          /* into the second epoch: 100 / 24 → 5 batches */
  wait_idle (a);
  g_autoptr(CsRunState) saved = capture (a);
  g_assert_true (cs_run_state_save (saved, path, NULL, 0, NULL, &error));
  g_assert_no_error (error);
  cs_trainer_step (a, 9);
  wait_idle (a);
  g_autoptr(CsRunState) after_a = capture (a);

  /* another seed, another model: everything must come from the file */
  g_autoptr(CsTrainer) b = new_trainer ("mlp", 100, 77);
  cs_trainer_step (b, 2);
  CsRunState *loaded = cs_run_state_load (path, NULL, &error);
  g_assert_no_error (error);
  guint64 gen = cs_trainer_restore (b, loaded);
  wait_idle (b);
  CsTrainerStatus s = status_of (b);
  g_assert_cmpuint (s.generation, ==, gen);
  g_assert_cmpint (s.step, ==, 6);
  g_assert_cmpstr (s.model, ==, preset);
  g_assert_cmpuint (s.error_serial, ==, 0);
  cs_trainer_step (b, 9);
  wait_idle (b);
  g_autoptr(CsRunState) after_b = capture (b);

  assert_same_state (after_a, after_b);
  g_assert_cmpint (status_of (b).step, ==, 15);
  remove_dir (dir);
}

/* Units frozen by hand are saved, restored frozen, and stay frozen while
 * the restored run trains on as the original does; a file that freezes a
 * unit the model does not have is refused. */
static void
test_frozen (void)
{
  g_autofree char *dir = temp_dir ();
  g_autofree char *path = g_build_filename (dir, "run.convscope", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(CsTrainer) a = new_trainer ("mlp", 100, 5);

  cs_trainer_step (a, 2);
  cs_trainer_freeze_unit (a, 1, 5, TRUE);     /* hidden unit 5 */
  cs_trainer_freeze_unit (a, 3, 2, TRUE);     /* output unit 2 */
  cs_trainer_step (a, 2);
  wait_idle (a);
  g_autoptr(CsRunState) saved = capture (a);
  g_assert_cmpuint (saved->n_frozen, ==, 2);
  g_assert_true (cs_run_state_save (saved, path, NULL, 0, NULL, &error));
  g_assert_no_error (error);
  cs_trainer_step (a, 5);
  wait_idle (a);
  g_autoptr(CsRunState) after_a = capture (a);

  g_autoptr(CsTrainer) b = new_trainer ("mlp", 100, 77);
  CsRunState *loaded = cs_run_state_load (path, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (loaded->n_frozen, ==, 2);
  cs_trainer_restore (b, loaded);
  wait_idle (b);
  CsTrainerStatus s = status_of (b);
  g_assert_cmpuint (s.error_serial, ==, 0);
  g_assert_true (cs_trainer_status_is_frozen (&s, 1, 5));
  g_assert_true (cs_trainer_status_is_frozen (&s, 3, 2));
  g_assert_false (cs_trainer_status_is_frozen (&s, 1, 4));
  cs_trainer_step (b, 5);
  wait_idle (b);
  g_autoptr(CsRunState) after_b = capture (b);
  assert_same_state (after_a, after_b);

  /* a unit of the ReLU, which has none, and a unit past the layer's 256 */
  const guint32 wrong[][2] = { { 2, 0 }, { 1, 256 } };
  for (guint i = 0; i < G_N_ELEMENTS (wrong); i++)
    {
      saved->n_frozen = 1;
      saved->frozen[0][0] = wrong[i][0];
      saved->frozen[0][1] = wrong[i][1];
      g_assert_true (cs_run_state_save (saved, path, NULL, 0, NULL, &error));
      g_autoptr(CsRunState) refused = cs_run_state_load (path, NULL, &error);
      g_assert_null (refused);
      g_assert_error (error, CS_ERROR, CS_ERROR_INVALID_FILE);
      g_autofree char *want = g_strdup_printf ("unit %u of layer %u is frozen", wrong[i][1],
                                               wrong[i][0]);
      g_assert_nonnull (strstr (error->message, want));
      g_clear_error (&error);
    }
  remove_dir (dir);
}

static void
test_continue_mlp (void)
{
  check_continue ("mlp");
}

static void
test_continue_residual (void)
{
  check_continue ("residual-cnn");
}

/* On a GPU: captured from the device, restored onto it, the same bits on. */
static void
test_continue_gpu (void)
{
  g_autoptr(GError) error = NULL;
  if (cs_backend_for_device ("cuda", &error) == NULL)
    {
      g_test_skip (error->message);
      return;
    }
  g_autofree char *dir = temp_dir ();
  g_autofree char *path = g_build_filename (dir, "run.convscope", NULL);
  g_autoptr(CsTrainer) a = new_trainer ("residual-cnn", 100, 5);
  cs_trainer_set_device (a, "cuda");
  cs_trainer_step (a, 6);
  wait_idle (a);
  g_assert_cmpstr (status_of (a).device, ==, "cuda");
  g_autoptr(CsRunState) saved = capture (a);
  g_assert_true (cs_run_state_save (saved, path, NULL, 0, NULL, &error));
  g_assert_no_error (error);
  cs_trainer_step (a, 9);
  wait_idle (a);
  g_autoptr(CsRunState) after_a = capture (a);

  g_autoptr(CsTrainer) b = new_trainer ("mlp", 100, 77);
  cs_trainer_set_device (b, "cuda");
  CsRunState *loaded = cs_run_state_load (path, NULL, &error);
  g_assert_no_error (error);
  assert_same_state (saved, loaded);
  cs_trainer_restore (b, loaded);
  wait_idle (b);
  g_assert_cmpstr (status_of (b).device, ==, "cuda");
  g_assert_cmpint (status_of (b).step, ==, 6);
  cs_trainer_step (b, 9);
  wait_idle (b);
  g_autoptr(CsRunState) after_b = capture (b);
  assert_same_state_norms (after_a, after_b, FALSE);
  remove_dir (dir);
}

/* A state for other data is refused when applied; the run stays. */
static void
test_restore_other_data (void)
{
  g_autoptr(CsTrainer) a = new_trainer ("mlp", 100, 5);
  g_autoptr(CsTrainer) b = new_trainer ("mlp", 60, 5);
  cs_trainer_step (a, 2);
  cs_trainer_step (b, 1);
  wait_idle (a);
  wait_idle (b);
  cs_trainer_restore (b, capture (a));
  wait_idle (b);
  CsTrainerStatus s = status_of (b);
  g_assert_cmpuint (s.error_serial, ==, 1);
  g_assert_nonnull (strstr (s.error, "the session trained on"));
  g_assert_cmpint (s.step, ==, 1);
  g_assert_cmpuint (s.train_examples, ==, 60);
}

static void
write_bytes (const char *path, const char *bytes, gsize n)
{
  g_autoptr(GError) error = NULL;
  g_file_set_contents (path, bytes, (gssize) n, &error);
  g_assert_no_error (error);
}

static void
assert_load_fails (const char *path, const char *words)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CsSafetensors) file = NULL;
  g_autoptr(CsRunState) state = cs_run_state_load (path, &file, &error);
  g_assert_null (state);
  g_assert_null (file);
  g_assert_nonnull (error);
  if (strstr (error->message, words) == NULL)
    g_error ("“%s” does not say “%s”", error->message, words);
}

static void
test_bad_files (void)
{
  g_autofree char *dir = temp_dir ();
  g_autofree char *good = g_build_filename (dir, "good.convscope", NULL);
  g_autofree char *bad = g_build_filename (dir, "bad.convscope", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(CsTrainer) t = new_trainer ("mlp", 60, 5);
  cs_trainer_step (t, 2);
  wait_idle (t);
  g_autoptr(CsRunState) state = capture (t);
  g_assert_true (cs_run_state_save (state, good, NULL, 0, NULL, &error));
  g_autofree char *bytes = NULL;
  gsize n;
  g_assert_true (g_file_get_contents (good, &bytes, &n, NULL));

  /* truncated at several places: never loads */
  gsize cuts[] = { 0, 5, 100, n / 2, n - 1 };
  for (gsize i = 0; i < G_N_ELEMENTS (cuts); i++)
    {
      write_bytes (bad, bytes, cuts[i]);
      assert_load_fails (bad, "bad.convscope");
    }
  /* garbage */
  g_autofree char *junk = g_malloc (4096);
  for (int i = 0; i < 4096; i++)
    junk[i] = (char) (i * 7919 % 251);
  write_bytes (bad, junk, 4096);
  assert_load_fails (bad, "bad.convscope");
  /* a newer version, and another format (same lengths: only the words change) */
  g_autofree char *newer = g_memdup2 (bytes, n);
  char *v = memmem (newer, n, "\"version\":\"1\"", 13);
  g_assert_nonnull (v);
  v[11] = '7';
  write_bytes (bad, newer, n);
  assert_load_fails (bad, "newer Convscope");
  g_autofree char *other = g_memdup2 (bytes, n);
  char *f = memmem (other, n, "convscope-session", 17);
  g_assert_nonnull (f);
  memcpy (f, "convscope-sessiox", 17);
  write_bytes (bad, other, n);
  assert_load_fails (bad, "not a Convscope session");
  /* a flipped byte in the order makes it no permutation */
  g_autoptr(CsRunState) loaded = cs_run_state_load (good, NULL, &error);
  g_assert_no_error (error);
  loaded->order[0] = loaded->order[1];
  g_assert_true (cs_run_state_save (loaded, bad, NULL, 0, NULL, &error));
  g_clear_pointer (&loaded, cs_run_state_free);
  loaded = cs_run_state_load (bad, NULL, &error);   /* the file is well formed … */
  g_assert_no_error (error);
  CsTrainerStatus before = status_of (t);
  cs_trainer_restore (t, g_steal_pointer (&loaded));   /* … the trainer says so */
  wait_idle (t);
  g_assert_nonnull (strstr (status_of (t).error, "the batch order"));
  g_assert_cmpuint (status_of (t).error_serial, ==, before.error_serial + 1);
  /* missing */
  g_autofree char *missing = g_build_filename (dir, "missing.convscope", NULL);
  assert_load_fails (missing, "missing.convscope");

  /* an unwritable destination: an error, the old file as it was, nothing new */
  g_autofree char *nodir = g_build_filename (dir, "no-such-folder", "x.convscope", NULL);
  g_assert_false (cs_run_state_save (state, nodir, NULL, 0, NULL, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  if (geteuid () != 0)
    {
      g_autofree char *ro = g_build_filename (dir, "read-only", NULL);
      g_autofree char *inside = g_build_filename (ro, "x.convscope", NULL);
      g_assert_cmpint (g_mkdir (ro, 0700), ==, 0);
      write_bytes (inside, "old", 3);
      g_assert_cmpint (g_chmod (ro, 0500), ==, 0);
      g_assert_false (cs_run_state_save (state, inside, NULL, 0, NULL, &error));
      g_assert_nonnull (error);
      g_clear_error (&error);
      g_autofree char *kept = NULL;
      g_assert_true (g_file_get_contents (inside, &kept, NULL, NULL));
      g_assert_cmpstr (kept, ==, "old");
      g_assert_cmpuint (count_files (ro), ==, 1);
      g_chmod (ro, 0700);
      remove_dir (ro);
    }
  g_unlink (bad);
  g_assert_cmpuint (count_files (dir), ==, 1);
  remove_dir (dir);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_autoptr(GError) error = NULL;
  digits_train = cs_dataset_load_named ("digits", "train", &error);
  g_assert_no_error (error);
  digits_test = cs_dataset_load_named ("digits", "test", &error);
  g_assert_no_error (error);

  g_test_add_func ("/core/session-file/roundtrip", test_roundtrip);
  g_test_add_func ("/core/session-file/continue/mlp", test_continue_mlp);
  g_test_add_func ("/core/session-file/continue/residual-cnn", test_continue_residual);
  g_test_add_func ("/core/session-file/continue/gpu", test_continue_gpu);
  g_test_add_func ("/core/session-file/restore-other-data", test_restore_other_data);
  g_test_add_func ("/core/session-file/frozen", test_frozen);
  g_test_add_func ("/core/session-file/bad-files", test_bad_files);
  int ret = g_test_run ();
  cs_dataset_free (digits_train);
  cs_dataset_free (digits_test);
  return ret;
}
