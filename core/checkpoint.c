/* checkpoint.c — safetensors checkpoints with PyTorch's names */
#include "checkpoint.h"
#include "error.h"
#include "safetensors.h"

#include <string.h>

gboolean
cs_checkpoint_save (CsModel *model, const char *path, GError **error)
{
  return cs_checkpoint_save_with (model, path, "convscope", NULL, 0, NULL, error);
}

gboolean
cs_checkpoint_save_with (CsModel *model, const char *path, const char *format,
                         const CsSafetensorsTensor *extra, guint n_extra,
                         const char *const *extra_metadata, GError **error)
{
  guint n = cs_model_get_n_entries (model);
  /* The block itself on the CPU, a host copy of it on a GPU */
  const float *block = cs_model_read_block (model, error);
  if (block == NULL)
    return FALSE;
  g_autofree CsSafetensorsTensor *tensors = g_new0 (CsSafetensorsTensor, n + n_extra);
  g_autofree gint64 *counters = g_new0 (gint64, n);

  for (guint i = 0; i < n; i++)
    {
      const CsModelEntry *e = cs_model_get_entry (model, i);
      CsSafetensorsTensor *t = &tensors[i];
      t->name = e->name;
      if (e->param->role == CS_BUFFER_COUNTER)
        {
          counters[i] = GINT64_TO_LE (*e->param->counter);
          t->dtype = "I64";
          t->ndim = 0;
          t->data = &counters[i];
          t->nbytes = sizeof (gint64);
        }
      else
        {
          const CsTensor *v = e->param->value;
          t->dtype = "F32";
          t->ndim = v->ndim;
          t->shape = v->shape;
          t->data = block + cs_model_get_entry_offset (model, e);
          t->nbytes = (gsize) cs_tensor_numel (v) * sizeof (float);
        }
    }

  for (guint i = 0; i < n_extra; i++)
    tensors[n + i] = extra[i];

  g_autofree char *step = g_strdup_printf ("%" G_GINT64_FORMAT, cs_model_get_step (model));
  g_autoptr(GPtrArray) metadata = g_ptr_array_new ();
  const char *own[] = { "format", format, "model", cs_model_get_json (model), "step", step };
  for (gsize i = 0; i < G_N_ELEMENTS (own); i++)
    g_ptr_array_add (metadata, (gpointer) own[i]);
  for (const char *const *kv = extra_metadata; kv != NULL && kv[0] && kv[1]; kv += 2)
    {
      g_ptr_array_add (metadata, (gpointer) kv[0]);
      g_ptr_array_add (metadata, (gpointer) kv[1]);
    }
  g_ptr_array_add (metadata, NULL);
  return cs_safetensors_write (path, tensors, n + n_extra,
                               (const char *const *) metadata->pdata, error);
}

static char *
shape_string (int ndim, const gint64 *shape)
{
  CsTensor t = { .ndim = ndim };
  if (ndim == 0)
    return g_strdup ("() (a scalar)");
  memcpy (t.shape, shape, sizeof (gint64) * MIN (ndim, CS_MAX_DIMS));
  return ndim <= CS_MAX_DIMS ? cs_tensor_shape_string (&t) : g_strdup_printf ("%d-d", ndim);
}

static gboolean
check_entry (CsSafetensors *st, const CsModelEntry *me, GError **error)
{
  const char *file = cs_safetensors_get_display_name (st);
  const CsSafetensorsEntry *e = cs_safetensors_lookup (st, me->name);

  if (e == NULL)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_MISMATCH,
                   "%s: the tensor “%s” that this model needs is missing", file, me->name);
      return FALSE;
    }

  if (me->param->role == CS_BUFFER_COUNTER)
    {
      /* PyTorch writes a scalar; some writers make it a 1-element vector. */
      gboolean ok = g_str_equal (e->dtype, "I64") && e->nbytes == sizeof (gint64)
                    && (e->ndim == 0 || e->ndim == 1);
      if (!ok)
        g_set_error (error, CS_ERROR, CS_ERROR_MISMATCH,
                     "%s: “%s” should be one I64 value", file, me->name);
      return ok;
    }

  if (!g_str_equal (e->dtype, "F32"))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_MISMATCH,
                   "%s: “%s” is stored as %s; Convscope loads float32 (F32) checkpoints "
                   "(in PyTorch: model.float() before saving)", file, me->name, e->dtype);
      return FALSE;
    }

  const CsTensor *v = me->param->value;
  gboolean same = e->ndim == v->ndim;
  for (int d = 0; same && d < v->ndim; d++)
    same = e->shape[d] == v->shape[d];
  if (!same)
    {
      g_autofree char *want = cs_tensor_shape_string (v);
      g_autofree char *got = shape_string (e->ndim, e->shape);
      g_set_error (error, CS_ERROR, CS_ERROR_MISMATCH,
                   "%s: “%s” has shape %s in the file but the model needs %s "
                   "(a checkpoint of another model?)", file, me->name, got, want);
      return FALSE;
    }
  return TRUE;
}

static gboolean
has_prefix (const char *name, const char *const *prefixes)
{
  for (const char *const *p = prefixes; p != NULL && *p != NULL; p++)
    if (g_str_has_prefix (name, *p))
      return TRUE;
  return FALSE;
}

gboolean
cs_checkpoint_load_into (CsModel *model, const char *path, GError **error)
{
  g_autoptr(CsSafetensors) st = cs_safetensors_open (path, error);
  if (st == NULL)
    return FALSE;
  return cs_checkpoint_read_into (model, st, NULL, error);
}

gboolean
cs_checkpoint_read_into (CsModel *model, CsSafetensors *st, const char *const *extra_prefixes,
                         GError **error)
{
  const char *file = cs_safetensors_get_display_name (st);
  guint n = cs_model_get_n_entries (model);

  /* Check everything before changing anything. */
  for (guint i = 0; i < n; i++)
    if (!check_entry (st, cs_model_get_entry (model, i), error))
      return FALSE;
  for (guint i = 0; i < cs_safetensors_get_n_entries (st); i++)
    {
      const CsSafetensorsEntry *e = cs_safetensors_get_entry (st, i);
      if (cs_model_find_entry (model, e->name) == NULL && !has_prefix (e->name, extra_prefixes))
        {
          g_set_error (error, CS_ERROR, CS_ERROR_MISMATCH,
                       "%s: the file has a tensor “%s” that this model does not have "
                       "(a checkpoint of another model?)", file, e->name);
          return FALSE;
        }
    }

  /* The gradients and the optimizer's state are kept: read the block too. */
  float *block = cs_model_read_block (model, error);
  if (block == NULL)
    return FALSE;
  for (guint i = 0; i < n; i++)
    {
      const CsModelEntry *me = cs_model_get_entry (model, i);
      const CsSafetensorsEntry *e = cs_safetensors_lookup (st, me->name);
      gconstpointer src = cs_safetensors_get_data (st, e);
      if (me->param->role != CS_BUFFER_COUNTER)
        memcpy (block + cs_model_get_entry_offset (model, me), src, e->nbytes);
    }
  if (!cs_model_write_block (model, error))
    return FALSE;

  for (guint i = 0; i < n; i++)
    {
      const CsModelEntry *me = cs_model_get_entry (model, i);
      if (me->param->role == CS_BUFFER_COUNTER)
        {
          gint64 v;
          memcpy (&v, cs_safetensors_get_data (st, cs_safetensors_lookup (st, me->name)),
                  sizeof v);
          *me->param->counter = GINT64_FROM_LE (v);
        }
    }
  const char *step = cs_safetensors_get_metadata (st, "step");
  _cs_model_set_step (model, step ? g_ascii_strtoll (step, NULL, 10) : 0);
  return TRUE;
}

CsModel *
cs_checkpoint_load (const char *path, GError **error)
{
  g_autoptr(CsSafetensors) st = cs_safetensors_open (path, error);
  if (st == NULL)
    return NULL;

  const char *json = cs_safetensors_get_metadata (st, "model");
  if (json == NULL)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_INVALID_FILE,
                   "%s: no model description in the file's metadata; choose the model "
                   "first and load the file into it", cs_safetensors_get_display_name (st));
      return NULL;
    }

  g_autoptr(GError) local = NULL;
  g_autoptr(CsModel) model = cs_model_new_from_json (json, -1, &local);
  if (model == NULL)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_INVALID_FILE, "%s: its model description: %s",
                   cs_safetensors_get_display_name (st), local->message);
      return NULL;
    }
  if (!cs_checkpoint_load_into (model, path, error))
    return NULL;
  return g_steal_pointer (&model);
}
