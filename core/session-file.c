/* session-file.c — a training run in a safetensors file, and back */
#include "session-file.h"

#include "checkpoint.h"
#include "error.h"

#include <math.h>
#include <string.h>

#define MAX_BATCH 65536

CsRunState *
cs_run_state_new (void)
{
  CsRunState *state = g_new0 (CsRunState, 1);
  state->watch_label = -1;
  state->test_step = -1;
  state->loss = state->running_loss = state->running_accuracy = NAN;
  state->test_loss = state->test_accuracy = NAN;
  state->history = cs_train_history_new (0, NULL);
  return state;
}

void
cs_run_state_free (CsRunState *state)
{
  if (state == NULL)
    return;
  g_clear_pointer (&state->model, cs_model_free);
  g_free (state->dataset);
  g_free (state->order);
  g_free (state->watch_image);
  cs_train_history_free (state->history);
  g_free (state);
}

/* ---- writing ------------------------------------------------------------- */

/* Numbers as text that reads back to the same bits, whatever the locale. */
typedef struct
{
  GPtrArray *kv;     /* key, value, …, owned values */
} Metadata;

static void
put (Metadata *m, const char *key, char *value)
{
  g_ptr_array_add (m->kv, (gpointer) key);
  g_ptr_array_add (m->kv, value);
}

static void
put_int (Metadata *m, const char *key, gint64 v)
{
  put (m, key, g_strdup_printf ("%" G_GINT64_FORMAT, v));
}

static void
put_uint (Metadata *m, const char *key, guint64 v)
{
  put (m, key, g_strdup_printf ("%" G_GUINT64_FORMAT, v));
}

static void
put_double (Metadata *m, const char *key, double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  put (m, key, g_strdup (g_ascii_formatd (buf, sizeof buf, "%.17g", v)));
}

static void
tensor (GArray *out, const char *name, const char *dtype, int ndim, const gint64 *shape,
        gconstpointer data, gsize nbytes)
{
  CsSafetensorsTensor t = {
    .name = name, .dtype = dtype, .ndim = ndim, .shape = shape, .data = data, .nbytes = nbytes,
  };
  g_array_append_val (out, t);
}

gboolean
cs_run_state_save (const CsRunState *state, const char *path, const CsSafetensorsTensor *extra,
                   guint n_extra, const char *const *extra_metadata, GError **error)
{
  g_return_val_if_fail (state != NULL && state->model != NULL && path != NULL, FALSE);
  g_return_val_if_fail (state->order != NULL, FALSE);

  CsModel *model = state->model;
  const float *block = cs_model_read_block (model, error);
  if (block == NULL)
    return FALSE;
  gsize P = cs_model_get_n_params (model);
  const CsTrainHistory *h = state->history;
  guint R = h->records->len, E = h->evals->len, L = h->n_layers;

  /* The history, column by column. */
  g_autofree gint64 *steps = g_new (gint64, MAX (R, 1));
  g_autofree guint32 *epoch_size = g_new (guint32, 2 * MAX (R, 1));
  g_autofree float *values = g_new (float, 4 * MAX (R, 1));
  for (guint i = 0; i < R; i++)
    {
      const CsTrainRecord *r = &g_array_index (h->records, CsTrainRecord, i);
      steps[i] = GINT64_TO_LE (r->step);
      epoch_size[2 * i] = GUINT32_TO_LE (r->epoch);
      epoch_size[2 * i + 1] = GUINT32_TO_LE (r->size);
      values[4 * i] = r->loss;
      values[4 * i + 1] = r->accuracy;
      values[4 * i + 2] = r->grad_norm;
      values[4 * i + 3] = r->lr;
    }
  g_autofree gint64 *eval_steps = g_new (gint64, MAX (E, 1));
  g_autofree guint32 *eval_epochs = g_new (guint32, MAX (E, 1));
  g_autofree float *eval_values = g_new (float, 3 * MAX (E, 1));
  for (guint i = 0; i < E; i++)
    {
      const CsTrainEval *e = &g_array_index (h->evals, CsTrainEval, i);
      eval_steps[i] = GINT64_TO_LE (e->step);
      eval_epochs[i] = GUINT32_TO_LE (e->epoch);
      eval_values[3 * i] = e->train_accuracy;
      eval_values[3 * i + 1] = e->test_loss;
      eval_values[3 * i + 2] = e->test_accuracy;
    }

  gint64 s_grads[] = { (gint64) P };
  gint64 s_optim[] = { 2, (gint64) P };
  gint64 s_order[] = { state->train_examples };
  gint64 s_steps[] = { R }, s_es[] = { R, 2 }, s_values[] = { R, 4 }, s_norms[] = { R, L };
  gint64 s_esteps[] = { E }, s_evalues[] = { E, 3 };
  gint64 s_watch[] = { (gint64) state->watch_image_n };
  gint64 s_frozen[] = { state->n_frozen, 2 };
  guint32 frozen[CS_RUN_STATE_MAX_FROZEN][2];
  for (guint i = 0; i < MIN (state->n_frozen, CS_RUN_STATE_MAX_FROZEN); i++)
    for (int k = 0; k < 2; k++)
      frozen[i][k] = GUINT32_TO_LE (state->frozen[i][k]);

  g_autoptr(GArray) tensors = g_array_new (FALSE, FALSE, sizeof (CsSafetensorsTensor));
  tensor (tensors, "convscope.grads", "F32", 1, s_grads, block + P, P * sizeof (float));
  tensor (tensors, "convscope.optim_state", "F32", 2, s_optim, block + 2 * P,
          2 * P * sizeof (float));
  tensor (tensors, "convscope.batcher.order", "U32", 1, s_order, state->order,
          (gsize) state->train_examples * sizeof (guint32));
  tensor (tensors, "convscope.history.step", "I64", 1, s_steps, steps, R * sizeof (gint64));
  tensor (tensors, "convscope.history.epoch_size", "U32", 2, s_es, epoch_size,
          2 * R * sizeof (guint32));
  tensor (tensors, "convscope.history.values", "F32", 2, s_values, values, 4 * R * sizeof (float));
  tensor (tensors, "convscope.history.layer_norms", "F32", 2, s_norms, h->layer_norms->data,
          (gsize) R * L * sizeof (float));
  tensor (tensors, "convscope.evals.step", "I64", 1, s_esteps, eval_steps, E * sizeof (gint64));
  tensor (tensors, "convscope.evals.epoch", "U32", 1, s_esteps, eval_epochs, E * sizeof (guint32));
  tensor (tensors, "convscope.evals.values", "F32", 2, s_evalues, eval_values,
          3 * E * sizeof (float));
  if (state->watch_index < 0 && state->watch_image != NULL)
    tensor (tensors, "convscope.watch.image", "F32", 1, s_watch, state->watch_image,
            state->watch_image_n * sizeof (float));
  g_return_val_if_fail (state->n_frozen <= CS_RUN_STATE_MAX_FROZEN, FALSE);
  if (state->n_frozen > 0)
    tensor (tensors, "convscope.frozen", "U32", 2, s_frozen, frozen,
            state->n_frozen * 2 * sizeof (guint32));
  for (guint i = 0; i < n_extra; i++)
    {
      g_return_val_if_fail (g_str_has_prefix (extra[i].name, "app."), FALSE);
      g_array_append_val (tensors, extra[i]);
    }

  Metadata m = { g_ptr_array_new_with_free_func (NULL) };
  g_autoptr(GPtrArray) owned = g_ptr_array_new_with_free_func (g_free);
  put (&m, "version", g_strdup_printf ("%d", CS_SESSION_FILE_VERSION));
  put_uint (&m, "seed", state->seed);
  put_int (&m, "optim_step", state->optim_step);
  put (&m, "optimizer", g_strdup (cs_optim_kind_to_string (state->optim.kind)));
  const CsOptimParams *hp = &state->optim.hp;
  put_double (&m, "lr", hp->lr);
  put_double (&m, "momentum", hp->momentum);
  put_double (&m, "dampening", hp->dampening);
  put_double (&m, "weight_decay", hp->weight_decay);
  put_int (&m, "nesterov", hp->nesterov ? 1 : 0);
  put_double (&m, "beta1", hp->beta1);
  put_double (&m, "beta2", hp->beta2);
  put_double (&m, "eps", hp->eps);
  put_double (&m, "alpha", hp->alpha);
  put_int (&m, "batch_size", state->batch_size);
  put_int (&m, "evaluate_each_epoch", state->evaluate_each_epoch ? 1 : 0);
  put (&m, "dataset", g_strdup (state->dataset ? state->dataset : ""));
  put_uint (&m, "train_examples", state->train_examples);
  put_uint (&m, "test_examples", state->test_examples);
  put_uint (&m, "batcher.pos", state->pos);
  put_uint (&m, "batcher.epoch", state->epoch);
  put (&m, "batcher.rng", g_strdup_printf ("%016" G_GINT64_MODIFIER "x %016" G_GINT64_MODIFIER "x "
                                           "%016" G_GINT64_MODIFIER "x %016" G_GINT64_MODIFIER "x",
                                           state->rng.s[0], state->rng.s[1], state->rng.s[2],
                                           state->rng.s[3]));
  put_int (&m, "batcher.rng_has_spare", state->rng.has_spare ? 1 : 0);
  put_double (&m, "batcher.rng_spare", state->rng.spare);
  put_uint (&m, "epoch.examples", state->epoch_examples);
  put_uint (&m, "epoch.correct", state->epoch_correct);
  put_double (&m, "epoch.loss_sum", state->epoch_loss_sum);
  put_uint (&m, "epoch.batches", state->epoch_batches);
  put_uint (&m, "examples_seen", state->examples_seen);
  put_double (&m, "loss", state->loss);
  put_double (&m, "running_loss", state->running_loss);
  put_double (&m, "running_accuracy", state->running_accuracy);
  put_double (&m, "test_loss", state->test_loss);
  put_double (&m, "test_accuracy", state->test_accuracy);
  put_int (&m, "test_step", state->test_step);
  put_uint (&m, "history.n_older", h->n_older);
  put_int (&m, "history.stride", h->stride);
  put_int (&m, "watch_index", state->watch_index);
  put_int (&m, "watch_label", state->watch_label);
  for (guint i = 1; i < m.kv->len; i += 2)
    g_ptr_array_add (owned, m.kv->pdata[i]);
  for (const char *const *kv = extra_metadata; kv != NULL && kv[0] && kv[1]; kv += 2)
    {
      g_return_val_if_fail (g_str_has_prefix (kv[0], "app."), FALSE);
      g_ptr_array_add (m.kv, (gpointer) kv[0]);
      g_ptr_array_add (m.kv, (gpointer) kv[1]);
    }
  g_ptr_array_add (m.kv, NULL);

  gboolean ok = cs_checkpoint_save_with (model, path, CS_SESSION_FILE_FORMAT,
                                         (const CsSafetensorsTensor *) tensors->data, tensors->len,
                                         (const char *const *) m.kv->pdata, error);
  g_ptr_array_unref (m.kv);
  return ok;
}

/* ---- reading ------------------------------------------------------------- */

static gboolean
bad (GError **error, CsSafetensors *st, const char *format, ...) G_GNUC_PRINTF (3, 4);

static gboolean
bad (GError **error, CsSafetensors *st, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *msg = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, CS_ERROR, CS_ERROR_INVALID_FILE, "%s: %s",
               cs_safetensors_get_display_name (st), msg);
  return FALSE;
}

static gboolean
get_int (CsSafetensors *st, const char *key, gint64 min, gint64 max, gint64 *out, GError **error)
{
  const char *text = cs_safetensors_get_metadata (st, key);
  if (text == NULL)
    return bad (error, st, "the session has no “%s”", key);
  if (!g_ascii_string_to_signed (text, 10, min, max, out, NULL))
    return bad (error, st, "“%s” is “%s”, not a whole number from %" G_GINT64_FORMAT
                " to %" G_GINT64_FORMAT, key, text, min, max);
  return TRUE;
}

static gboolean
get_uint (CsSafetensors *st, const char *key, guint64 max, guint64 *out, GError **error)
{
  const char *text = cs_safetensors_get_metadata (st, key);
  if (text == NULL)
    return bad (error, st, "the session has no “%s”", key);
  if (!g_ascii_string_to_unsigned (text, 10, 0, max, out, NULL))
    return bad (error, st, "“%s” is “%s”, not a whole number up to %" G_GUINT64_FORMAT,
                key, text, max);
  return TRUE;
}

static gboolean
get_double (CsSafetensors *st, const char *key, double *out, GError **error)
{
  const char *text = cs_safetensors_get_metadata (st, key);
  char *end = NULL;
  if (text == NULL)
    return bad (error, st, "the session has no “%s”", key);
  *out = g_ascii_strtod (text, &end);
  if (end == text || *end != '\0')
    return bad (error, st, "“%s” is “%s”, not a number", key, text);
  return TRUE;
}

static gboolean
get_float (CsSafetensors *st, const char *key, float *out, GError **error)
{
  double v = 0.0;
  if (!get_double (st, key, &v, error))
    return FALSE;
  *out = (float) v;
  return TRUE;
}

/* The raw bytes of a tensor of the dtype and shape expected. */
static gconstpointer
get_tensor (CsSafetensors *st, const char *name, const char *dtype, int ndim,
            const gint64 *shape, gsize elem, GError **error)
{
  const CsSafetensorsEntry *e = cs_safetensors_lookup (st, name);
  if (e == NULL)
    {
      bad (error, st, "the session has no tensor “%s”", name);
      return NULL;
    }
  gsize numel = 1;
  gboolean same = g_str_equal (e->dtype, dtype) && e->ndim == ndim;
  for (int d = 0; same && d < ndim; d++)
    {
      same = e->shape[d] == shape[d];
      numel *= (gsize) shape[d];
    }
  if (!same || e->nbytes != numel * elem)
    {
      bad (error, st, "the tensor “%s” is not the %s of %d dimensions the session needs",
           name, dtype, ndim);
      return NULL;
    }
  /* a non-NULL pointer even for no bytes */
  return e->nbytes ? cs_safetensors_get_data (st, e) : (gconstpointer) "";
}

/* The units frozen by hand, if the file has any: each a unit of a linear
 * layer or a kernel of a convolution of the model (as the trainer's
 * unit_range () takes them). */
static gboolean
read_frozen (CsRunState *state, CsSafetensors *st, GError **error)
{
  const CsSafetensorsEntry *e = cs_safetensors_lookup (st, "convscope.frozen");
  if (e == NULL)
    return TRUE;
  gint64 n = e->ndim == 2 ? e->shape[0] : -1;
  if (n < 1 || n > CS_RUN_STATE_MAX_FROZEN)
    return bad (error, st, "“convscope.frozen” holds %s units frozen, not 1 to %d",
                n < 0 ? "no list of" : (n == 0 ? "no" : "too many"), CS_RUN_STATE_MAX_FROZEN);
  gint64 shape[] = { n, 2 };
  const guint32 *units = get_tensor (st, "convscope.frozen", "U32", 2, shape, 4, error);
  if (units == NULL)
    return FALSE;
  CsModel *model = state->model;
  for (gint64 i = 0; i < n; i++)
    {
      guint32 layer = GUINT32_FROM_LE (units[2 * i]), unit = GUINT32_FROM_LE (units[2 * i + 1]);
      gint64 rows = -1;
      if (layer < cs_model_get_n_layers (model))
        {
          const char *type = cs_model_get_layer (model, layer)->klass->type;
          for (guint k = 0; k < cs_model_get_n_entries (model); k++)
            {
              const CsModelEntry *entry = cs_model_get_entry (model, k);
              if (entry->layer == layer && entry->param->grad != NULL
                  && g_str_has_suffix (entry->name, "weight")
                  && (g_str_equal (type, "linear") || g_str_equal (type, "conv2d")))
                rows = entry->param->value->shape[0];
            }
        }
      if (unit >= rows)
        return bad (error, st, "unit %u of layer %u is frozen, which the model does not have",
                    unit, layer);
      state->frozen[i][0] = layer;
      state->frozen[i][1] = unit;
    }
  state->n_frozen = (guint) n;
  return TRUE;
}

static gboolean
read_history (CsRunState *state, CsSafetensors *st, GError **error)
{
  CsModel *model = state->model;
  guint L = cs_model_get_n_layers (model);
  const CsSafetensorsEntry *e = cs_safetensors_lookup (st, "convscope.history.step");
  const CsSafetensorsEntry *v = cs_safetensors_lookup (st, "convscope.evals.step");
  if (e == NULL || e->ndim != 1 || v == NULL || v->ndim != 1)
    return bad (error, st, "the session's history is missing or malformed");
  gint64 R = e->shape[0], E = v->shape[0];
  if (R < 0 || R > G_MAXUINT / MAX (L, 4u) || E < 0 || E > G_MAXUINT / 4)
    return bad (error, st, "the session's history is too long");

  gint64 s_r[] = { R }, s_es[] = { R, 2 }, s_values[] = { R, 4 }, s_norms[] = { R, L };
  gint64 s_e[] = { E }, s_evalues[] = { E, 3 };
  const guint8 *steps = get_tensor (st, "convscope.history.step", "I64", 1, s_r, 8, error);
  const guint8 *es = steps ? get_tensor (st, "convscope.history.epoch_size", "U32", 2, s_es, 4, error) : NULL;
  const guint8 *values = es ? get_tensor (st, "convscope.history.values", "F32", 2, s_values, 4, error) : NULL;
  const guint8 *norms = values ? get_tensor (st, "convscope.history.layer_norms", "F32", 2, s_norms, 4, error) : NULL;
  const guint8 *esteps = norms ? get_tensor (st, "convscope.evals.step", "I64", 1, s_e, 8, error) : NULL;
  const guint8 *eepochs = esteps ? get_tensor (st, "convscope.evals.epoch", "U32", 1, s_e, 4, error) : NULL;
  const guint8 *evalues = eepochs ? get_tensor (st, "convscope.evals.values", "F32", 2, s_evalues, 4, error) : NULL;
  if (evalues == NULL)
    return FALSE;

  guint n = cs_model_get_n_layers (model);
  g_auto(GStrv) titles = g_new0 (char *, n + 1);
  for (guint i = 0; i < n; i++)
    titles[i] = g_strdup (cs_model_get_layer (model, i)->klass->title);
  cs_train_history_reset (state->history, 0, L, (const char *const *) titles);
  g_array_set_size (state->history->records, (guint) R);
  g_array_set_size (state->history->layer_norms, (guint) (R * L));
  g_array_set_size (state->history->evals, (guint) E);
  for (gint64 i = 0; i < R; i++)
    {
      CsTrainRecord *r = &g_array_index (state->history->records, CsTrainRecord, i);
      gint64 step;
      guint32 pair[2];
      memcpy (&step, steps + 8 * i, 8);
      memcpy (pair, es + 8 * i, 8);
      r->step = GINT64_FROM_LE (step);
      r->epoch = GUINT32_FROM_LE (pair[0]);
      r->size = GUINT32_FROM_LE (pair[1]);
      memcpy (&r->loss, values + 16 * i, 4);
      memcpy (&r->accuracy, values + 16 * i + 4, 4);
      memcpy (&r->grad_norm, values + 16 * i + 8, 4);
      memcpy (&r->lr, values + 16 * i + 12, 4);
    }
  if (R * L > 0)
    memcpy (state->history->layer_norms->data, norms, (gsize) (R * L) * sizeof (float));
  /* how the older records were thinned (core/diagnostics.h) */
  guint64 n_older;
  gint64 stride;
  if (!get_uint (st, "history.n_older", (guint64) R, &n_older, error)
      || !get_int (st, "history.stride", 1, G_MAXINT64 / 4, &stride, error))
    return FALSE;
  state->history->n_older = (guint) n_older;
  state->history->stride = stride;
  for (gint64 i = 0; i < E; i++)
    {
      CsTrainEval *ev = &g_array_index (state->history->evals, CsTrainEval, i);
      gint64 step;
      guint32 epoch;
      memcpy (&step, esteps + 8 * i, 8);
      memcpy (&epoch, eepochs + 4 * i, 4);
      ev->step = GINT64_FROM_LE (step);
      ev->epoch = GUINT32_FROM_LE (epoch);
      memcpy (&ev->train_accuracy, evalues + 12 * i, 4);
      memcpy (&ev->test_loss, evalues + 12 * i + 4, 4);
      memcpy (&ev->test_accuracy, evalues + 12 * i + 8, 4);
    }
  return TRUE;
}

static gboolean
read_rng (CsRunState *state, CsSafetensors *st, GError **error)
{
  const char *text = cs_safetensors_get_metadata (st, "batcher.rng");
  if (text == NULL)
    return bad (error, st, "the session has no “batcher.rng”");
  g_auto(GStrv) words = g_strsplit (text, " ", -1);
  if (g_strv_length (words) != 4)
    return bad (error, st, "“batcher.rng” is not four numbers");
  for (int i = 0; i < 4; i++)
    if (!g_ascii_string_to_unsigned (words[i], 16, 0, G_MAXUINT64, &state->rng.s[i], NULL))
      return bad (error, st, "“batcher.rng” is not four hexadecimal numbers");
  gint64 has_spare;
  if (!get_int (st, "batcher.rng_has_spare", 0, 1, &has_spare, error)
      || !get_double (st, "batcher.rng_spare", &state->rng.spare, error))
    return FALSE;
  state->rng.has_spare = has_spare != 0;
  return TRUE;
}

static gboolean
read_state (CsRunState *state, CsSafetensors *st, GError **error)
{
  /* What it is, before anything else. */
  const char *format = cs_safetensors_get_metadata (st, "format");
  if (g_strcmp0 (format, CS_SESSION_FILE_FORMAT) != 0)
    return bad (error, st, "not a Convscope session%s",
                g_strcmp0 (format, "convscope") == 0 ? " (it is a checkpoint of a model)" : "");
  gint64 version;
  const char *vtext = cs_safetensors_get_metadata (st, "version");
  if (vtext == NULL || !g_ascii_string_to_signed (vtext, 10, 1, G_MAXINT, &version, NULL))
    return bad (error, st, "the session has no valid version number");
  if (version != CS_SESSION_FILE_VERSION)
    return bad (error, st, "the session is of format version %s, and this Convscope reads "
                "version %d (it was saved by a newer Convscope)", vtext, CS_SESSION_FILE_VERSION);

  /* The model, seeded as the run's was, then its tensors. */
  guint64 seed;
  if (!get_uint (st, "seed", G_MAXUINT64, &seed, error))
    return FALSE;
  state->seed = seed;
  const char *json = cs_safetensors_get_metadata (st, "model");
  if (json == NULL)
    return bad (error, st, "the session has no model description");
  g_autoptr(GError) local = NULL;
  state->model = cs_model_new_from_json (json, -1, &local);
  if (state->model == NULL)
    return bad (error, st, "its model description: %s", local->message);
  cs_model_init (state->model, state->seed);
  const char *const prefixes[] = { "convscope.", "app.", NULL };
  if (!cs_checkpoint_read_into (state->model, st, prefixes, error))
    return FALSE;
  gsize P = cs_model_get_n_params (state->model);
  float *block = cs_model_read_block (state->model, error);
  if (block == NULL
      || !cs_safetensors_read_f32 (st, "convscope.grads", block + P, P, error)
      || !cs_safetensors_read_f32 (st, "convscope.optim_state", block + 2 * P, 2 * P, error))
    return FALSE;

  /* The optimizer. */
  gint64 i64;
  guint64 u64;
  const char *kind = cs_safetensors_get_metadata (st, "optimizer");
  if (kind == NULL || !cs_optim_kind_from_string (kind, &state->optim.kind))
    return bad (error, st, "no optimizer Convscope knows (“%s”)", kind ? kind : "");
  CsOptimParams *hp = &state->optim.hp;
  if (!get_float (st, "lr", &hp->lr, error) || !get_float (st, "momentum", &hp->momentum, error)
      || !get_float (st, "dampening", &hp->dampening, error)
      || !get_float (st, "weight_decay", &hp->weight_decay, error)
      || !get_int (st, "nesterov", 0, 1, &i64, error))
    return FALSE;
  hp->nesterov = i64 != 0;
  if (!get_float (st, "beta1", &hp->beta1, error) || !get_float (st, "beta2", &hp->beta2, error)
      || !get_float (st, "eps", &hp->eps, error) || !get_float (st, "alpha", &hp->alpha, error))
    return FALSE;
  if (!cs_optim_config_validate (&state->optim, &local))
    return bad (error, st, "%s", local->message);
  if (!get_int (st, "optim_step", 0, G_MAXINT64, &state->optim_step, error))
    return FALSE;
  if (!get_int (st, "batch_size", 1, MAX_BATCH, &i64, error))
    return FALSE;
  state->batch_size = (int) i64;
  if (!get_int (st, "evaluate_each_epoch", 0, 1, &i64, error))
    return FALSE;
  state->evaluate_each_epoch = i64 != 0;

  /* The data and the batcher. */
  const char *dataset = cs_safetensors_get_metadata (st, "dataset");
  if (dataset == NULL)
    return bad (error, st, "the session does not say what it trained on");
  state->dataset = g_strdup (dataset);
  if (!get_uint (st, "train_examples", G_MAXUINT32, &u64, error))
    return FALSE;
  state->train_examples = (guint32) u64;
  if (!get_uint (st, "test_examples", G_MAXUINT32, &u64, error))
    return FALSE;
  state->test_examples = (guint32) u64;
  if (!get_uint (st, "batcher.pos", state->train_examples, &u64, error))
    return FALSE;
  state->pos = (guint32) u64;
  if (!get_uint (st, "batcher.epoch", G_MAXUINT32, &u64, error))
    return FALSE;
  state->epoch = (guint32) u64;
  if (!read_rng (state, st, error))
    return FALSE;
  gint64 s_order[] = { state->train_examples };
  gconstpointer order = get_tensor (st, "convscope.batcher.order", "U32", 1, s_order, 4, error);
  if (order == NULL)
    return FALSE;
  state->order = g_new (guint32, MAX (state->train_examples, 1));
  memcpy (state->order, order, (gsize) state->train_examples * 4);
  for (guint32 i = 0; i < state->train_examples; i++)
    state->order[i] = GUINT32_FROM_LE (state->order[i]);

  /* The epoch so far and the numbers shown. */
  if (!get_uint (st, "epoch.examples", G_MAXUINT64, &state->epoch_examples, error)
      || !get_uint (st, "epoch.correct", state->epoch_examples, &state->epoch_correct, error)
      || !get_double (st, "epoch.loss_sum", &state->epoch_loss_sum, error)
      || !get_uint (st, "epoch.batches", G_MAXUINT32, &u64, error))
    return FALSE;
  state->epoch_batches = (guint32) u64;
  if (state->epoch_examples > state->train_examples)
    return bad (error, st, "more examples in the epoch than in the training split");
  if (!get_uint (st, "examples_seen", G_MAXUINT64, &state->examples_seen, error)
      || !get_double (st, "loss", &state->loss, error)
      || !get_double (st, "running_loss", &state->running_loss, error)
      || !get_double (st, "running_accuracy", &state->running_accuracy, error)
      || !get_double (st, "test_loss", &state->test_loss, error)
      || !get_double (st, "test_accuracy", &state->test_accuracy, error)
      || !get_int (st, "test_step", -1, G_MAXINT64, &state->test_step, error))
    return FALSE;

  /* The example watched. */
  if (!get_int (st, "watch_index", -1, G_MAXINT32, &i64, error))
    return FALSE;
  state->watch_index = (int) i64;
  if (!get_int (st, "watch_label", -1, G_MAXINT32, &i64, error))
    return FALSE;
  state->watch_label = (int) i64;
  if (state->watch_index < 0)
    {
      const CsSafetensorsEntry *w = cs_safetensors_lookup (st, "convscope.watch.image");
      gsize n = (gsize) cs_shape_numel (cs_model_get_input_shape (state->model));
      if (w == NULL)
        state->watch_index = 0;
      else
        {
          state->watch_image = g_new (float, n);
          state->watch_image_n = n;
          if (!cs_safetensors_read_f32 (st, "convscope.watch.image", state->watch_image, n, error))
            return FALSE;
        }
    }

  if (!read_frozen (state, st, error))
    return FALSE;
  return read_history (state, st, error);
}

CsRunState *
cs_run_state_load (const char *path, CsSafetensors **file, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);

  g_autoptr(CsSafetensors) st = cs_safetensors_open (path, error);
  if (st == NULL)
    return NULL;
  g_autoptr(CsRunState) state = cs_run_state_new ();
  if (!read_state (state, st, error))
    return NULL;
  if (file != NULL)
    *file = g_steal_pointer (&st);
  return g_steal_pointer (&state);
}
