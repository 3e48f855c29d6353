/* model.c — building a model from JSON, its block, forward and backward */
#include "model.h"
#include "error.h"
#include "paths.h"

#include <math.h>
#include <string.h>

struct _CsModel
{
  char *name;
  char *title;
  char *json;               /* compact description */
  CsShape input_shape;
  CsInitKind init;
  GPtrArray *layers;        /* CsLayer */
  GArray *entries;          /* CsModelEntry */

  const CsBackend *be;      /* everything below lives in its device's memory */

  float *block;             /* [ params | grads | state (2P) | buffers ] */
  gsize n_params, n_buffers;
  float *host_block;        /* on a GPU: cs_model_read_block ()'s host copy */

  int max_batch;
  int last_n;               /* batch size of the last forward */
  float **acts;             /* n_layers + 1 buffers; a view layer shares */
  float **dacts;
  gboolean *acts_shared;    /* acts[i] is the same memory as acts[i - 1] */
  gboolean input_grad;
  float *probs;             /* (max_batch, output): cs_model_cross_entropy ()'s */
  gint32 *labels;           /* (max_batch), on a GPU: the labels uploaded */

  gint64 step;
  CsTensor output;          /* view returned by forward */
};

static void
entry_clear (gpointer data)
{
  CsModelEntry *e = data;
  g_free (e->name);
}

static gboolean
read_shape (JsonNode *node, CsShape *shape, GError **error)
{
  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    goto bad;
  JsonArray *a = json_node_get_array (node);
  guint n = json_array_get_length (a);
  if (n != 1 && n != 3)
    goto bad;
  shape->ndim = (int) n;
  for (guint i = 0; i < n; i++)
    {
      JsonNode *e = json_array_get_element (a, i);
      if (!JSON_NODE_HOLDS_VALUE (e) || json_node_get_value_type (e) != G_TYPE_INT64
          || json_node_get_int (e) < 1 || json_node_get_int (e) > 65536)
        goto bad;
      shape->d[i] = json_node_get_int (e);
    }
  return TRUE;

bad:
  g_set_error (error, CS_ERROR, CS_ERROR_INVALID_MODEL,
               "“input” must be the shape of one example: [channels, height, width] "
               "or [features], each between 1 and 65536");
  return FALSE;
}

static const char *
get_string (JsonObject *o, const char *key)
{
  JsonNode *n = json_object_has_member (o, key) ? json_object_get_member (o, key) : NULL;
  if (n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING)
    return json_node_get_string (n);
  return NULL;
}

static gsize
block_bytes (CsModel *model)
{
  return (4 * model->n_params + model->n_buffers) * sizeof (float);
}

static void
bind_block (CsModel *model)
{
  /* Parameters and gradients in state-dict order; buffers after the state. */
  gsize P = model->n_params;
  float *params = model->block, *grads = params + P;
  float *buffers = params + 4 * P;
  gsize off = 0, boff = 0;

  for (guint i = 0; i < model->entries->len; i++)
    {
      const CsParam *p = g_array_index (model->entries, CsModelEntry, i).param;
      if (p->role == CS_BUFFER_COUNTER)
        continue;
      gsize n = (gsize) cs_tensor_numel (p->value);
      p->value->device = model->be->device;
      if (p->grad != NULL)
        {
          p->value->data = params + off;
          p->grad->data = grads + off;
          p->grad->device = model->be->device;
          off += n;
        }
      else
        {
          p->value->data = buffers + boff;
          boff += n;
        }
    }
  g_assert (off == model->n_params && boff == model->n_buffers);
}

CsModel *
cs_model_new_from_json (const char *json, gssize length, GError **error)
{
  g_return_val_if_fail (json != NULL, NULL);

  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local = NULL;
  if (!json_parser_load_from_data (parser, json, length, &local))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_INVALID_MODEL,
                   "the model description is not valid JSON: %s", local->message);
      return NULL;
    }
  JsonNode *root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_INVALID_MODEL,
                   "the model description must be a JSON object with “input” and “layers”");
      return NULL;
    }
  JsonObject *o = json_node_get_object (root);

  g_autoptr(CsModel) model = g_new0 (CsModel, 1);
  model->layers = g_ptr_array_new_with_free_func ((GDestroyNotify) cs_layer_free);
  model->entries = g_array_new (FALSE, TRUE, sizeof (CsModelEntry));
  g_array_set_clear_func (model->entries, entry_clear);
  model->be = cs_backend_cpu ();
  model->name = g_strdup (get_string (o, "name") ? get_string (o, "name") : "model");
  model->title = g_strdup (get_string (o, "title") ? get_string (o, "title") : model->name);
  model->json = json_to_string (root, FALSE);

  if (!read_shape (json_object_has_member (o, "input") ? json_object_get_member (o, "input")
                                                       : NULL,
                   &model->input_shape, error))
    return NULL;

  model->init = CS_INIT_PYTORCH;
  if (json_object_has_member (o, "init"))
    {
      const char *init = get_string (o, "init");
      if (init == NULL || !cs_init_kind_from_string (init, &model->init))
        {
          g_set_error (error, CS_ERROR, CS_ERROR_INVALID_MODEL,
                       "unknown “init” %s%s%s (known: %s)", init ? "“" : "",
                       init ? init : "value", init ? "”" : "", cs_init_known_kinds ());
          return NULL;
        }
    }

  JsonNode *layers = json_object_has_member (o, "layers") ? json_object_get_member (o, "layers")
                                                          : NULL;
  if (layers == NULL || !JSON_NODE_HOLDS_ARRAY (layers)
      || json_array_get_length (json_node_get_array (layers)) == 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_INVALID_MODEL,
                   "the model needs a non-empty list “layers”");
      return NULL;
    }

  JsonArray *list = json_node_get_array (layers);
  CsShape shape = model->input_shape;
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonNode *node = json_array_get_element (list, i);
      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          g_set_error (error, CS_ERROR, CS_ERROR_INVALID_MODEL,
                       "layer %u must be a JSON object with a “type”", i);
          return NULL;
        }
      CsLayer *layer = cs_layer_new (json_node_get_object (node), &shape, i, error);
      if (layer == NULL)
        return NULL;
      layer->step = &model->step;
      g_ptr_array_add (model->layers, layer);
      shape = layer->out_shape;

      for (guint k = 0; k < layer->params->len; k++)
        {
          const CsParam *p = &g_array_index (layer->params, CsParam, k);
          CsModelEntry e = { g_strdup_printf ("%u.%s", i, p->name), i, p };
          g_array_append_val (model->entries, e);
          if (p->role == CS_BUFFER_COUNTER)
            continue;
          if (p->grad != NULL)
            model->n_params += (gsize) cs_tensor_numel (p->value);
          else
            model->n_buffers += (gsize) cs_tensor_numel (p->value);
        }
    }

  if (json_object_has_member (o, "classes"))
    {
      JsonNode *n = json_object_get_member (o, "classes");
      gint64 classes = JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_INT64
                       ? json_node_get_int (n) : -1;
      if (classes < 1)
        {
          g_set_error (error, CS_ERROR, CS_ERROR_INVALID_MODEL,
                       "“classes” must be a whole number of at least 1");
          return NULL;
        }
      if (shape.ndim != 1 || shape.d[0] != classes)
        {
          g_autofree char *out = cs_shape_to_string (&shape);
          g_set_error (error, CS_ERROR, CS_ERROR_INVALID_MODEL,
                       "“classes” says %" G_GINT64_FORMAT " but the last layer gives %s",
                       classes, out);
          return NULL;
        }
    }

  if (model->n_params + model->n_buffers > ((gsize) 1 << 28))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_INVALID_MODEL,
                   "the model has %" G_GSIZE_FORMAT " parameters, more than Convscope "
                   "handles (%d)", model->n_params + model->n_buffers, 1 << 28);
      return NULL;
    }

  model->block = model->be->alloc (block_bytes (model));
  bind_block (model);
  cs_model_init (model, 0);
  return g_steal_pointer (&model);
}

CsModel *
cs_model_new_from_file (const char *path, GError **error)
{
  g_autofree char *text = NULL;
  gsize len;
  g_autoptr(GError) local = NULL;

  if (!g_file_get_contents (path, &text, &len, &local))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_IO, "%s", local->message);
      return NULL;
    }
  CsModel *model = cs_model_new_from_json (text, (gssize) len, &local);
  if (model == NULL)
    {
      g_autofree char *base = g_path_get_basename (path);
      g_set_error (error, local->domain, local->code, "%s: %s", base, local->message);
    }
  return model;
}

CsModel *
cs_model_new_preset (const char *name, GError **error)
{
  g_autofree char *rel = g_strdup_printf ("models/%s.json", name);
  g_autofree char *path = cs_find_data_file (rel);
  if (path == NULL)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_IO,
                   "no model preset “%s” (presets: mlp, simple-cnn, demo-conv, residual-cnn)",
                   name);
      return NULL;
    }
  return cs_model_new_from_file (path, error);
}

static void
free_acts (CsModel *model)
{
  guint n = model->layers ? model->layers->len : 0;
  for (guint i = 0; model->acts && i <= n; i++)
    if (!model->acts_shared[i])
      {
        model->be->free (model->acts[i]);
        model->be->free (model->dacts[i]);
      }
  g_clear_pointer (&model->acts, g_free);
  g_clear_pointer (&model->dacts, g_free);
  g_clear_pointer (&model->acts_shared, g_free);
  g_clear_pointer (&model->probs, model->be->free);
  g_clear_pointer (&model->labels, model->be->free);
  model->max_batch = 0;
  model->last_n = 0;
}

void
cs_model_free (CsModel *model)
{
  if (model == NULL)
    return;
  free_acts (model);
  if (model->block != NULL)
    model->be->free (model->block);
  g_free (model->host_block);
  g_clear_pointer (&model->entries, g_array_unref);
  g_clear_pointer (&model->layers, g_ptr_array_unref);
  g_free (model->name);
  g_free (model->title);
  g_free (model->json);
  g_free (model);
}

const char *cs_model_get_name (CsModel *model) { return model->name; }
const char *cs_model_get_title (CsModel *model) { return model->title; }
const char *cs_model_get_json (CsModel *model) { return model->json; }
const CsShape *cs_model_get_input_shape (CsModel *model) { return &model->input_shape; }
CsInitKind cs_model_get_init (CsModel *model) { return model->init; }
guint cs_model_get_n_layers (CsModel *model) { return model->layers->len; }
gsize cs_model_get_n_params (CsModel *model) { return model->n_params; }
float *cs_model_get_params (CsModel *model) { return model->block; }
float *cs_model_get_grads (CsModel *model) { return model->block + model->n_params; }
float *cs_model_get_optim_state (CsModel *model) { return model->block + 2 * model->n_params; }
gsize cs_model_get_n_buffers (CsModel *model) { return model->n_buffers; }
float *cs_model_get_buffers (CsModel *model) { return model->block + 4 * model->n_params; }
const CsBackend *cs_model_get_backend (CsModel *model) { return model->be; }
int cs_model_get_max_batch (CsModel *model) { return model->max_batch; }
gint64 cs_model_get_step (CsModel *model) { return model->step; }
void _cs_model_set_step (CsModel *model, gint64 step) { model->step = step; }
void cs_model_set_input_grad (CsModel *model, gboolean wanted) { model->input_grad = wanted; }

const CsShape *
cs_model_get_output_shape (CsModel *model)
{
  CsLayer *last = g_ptr_array_index (model->layers, model->layers->len - 1);
  return &last->out_shape;
}

CsLayer *
cs_model_get_layer (CsModel *model, guint i)
{
  g_return_val_if_fail (i < model->layers->len, NULL);
  return g_ptr_array_index (model->layers, i);
}

guint
cs_model_get_n_entries (CsModel *model)
{
  return model->entries->len;
}

const CsModelEntry *
cs_model_get_entry (CsModel *model, guint i)
{
  g_return_val_if_fail (i < model->entries->len, NULL);
  return &g_array_index (model->entries, CsModelEntry, i);
}

const CsModelEntry *
cs_model_find_entry (CsModel *model, const char *name)
{
  for (guint i = 0; i < model->entries->len; i++)
    if (g_str_equal (g_array_index (model->entries, CsModelEntry, i).name, name))
      return &g_array_index (model->entries, CsModelEntry, i);
  return NULL;
}

static void
use_backend (CsModel *model, const CsBackend *be)
{
  model->be = be;
  for (guint i = 0; i < model->layers->len; i++)
    cs_layer_set_backend (g_ptr_array_index (model->layers, i), be);
}

void
cs_model_set_backend (CsModel *model, const CsBackend *be)
{
  g_return_if_fail (be != NULL);
  g_return_if_fail (be->device == model->be->device);
  if (be == model->be)
    return;
  use_backend (model, be);
  /* The layers' scratch is the new backend's: its size may differ (the
   * CPU's convolution keeps less than the reference's). */
  for (guint i = 0; model->max_batch > 0 && i < model->layers->len; i++)
    {
      CsLayer *layer = g_ptr_array_index (model->layers, i);
      if (layer->klass->reserve)
        layer->klass->reserve (layer, model->max_batch);
    }
}

gsize
cs_model_get_entry_offset (CsModel *model, const CsModelEntry *e)
{
  g_return_val_if_fail (e->param->role != CS_BUFFER_COUNTER, 0);
  return (gsize) (e->param->value->data - model->block);
}

/* The host copy of the block on a GPU, allocated once. */
static float *
host_mirror (CsModel *model)
{
  if (model->host_block == NULL)
    model->host_block = g_malloc (block_bytes (model));
  return model->host_block;
}

float *
cs_model_read_block (CsModel *model, GError **error)
{
  if (model->be->device == CS_DEVICE_CPU)
    return model->block;
  float *host = host_mirror (model);
  model->be->download (host, model->block, block_bytes (model));
  return cs_backend_check (model->be, error) ? host : NULL;
}

gboolean
cs_model_write_block (CsModel *model, GError **error)
{
  if (model->be->device == CS_DEVICE_CPU)
    return TRUE;
  g_return_val_if_fail (model->host_block != NULL, FALSE);
  model->be->upload (model->block, model->host_block, block_bytes (model));
  return cs_backend_check (model->be, error);
}

gboolean
cs_model_check (CsModel *model, GError **error)
{
  return cs_backend_check (model->be, error);
}

void
cs_model_init (CsModel *model, guint64 seed)
{
  cs_model_init_with (model, model->init, seed);
}

void
cs_model_init_with (CsModel *model, CsInitKind kind, guint64 seed)
{
  CsRng rng;
  cs_rng_init (&rng, seed);

  /* Drawn in host memory: the block itself, or the copy sent to the GPU
   * below (every float of it is written here, so nothing is read back). */
  float *host = model->be->device == CS_DEVICE_CPU ? model->block : host_mirror (model);

  for (guint i = 0; i < model->entries->len; i++)
    {
      const CsModelEntry *e = &g_array_index (model->entries, CsModelEntry, i);
      const CsParam *p = e->param;
      if (p->role == CS_BUFFER_COUNTER)
        {
          *p->counter = 0;
          continue;
        }
      gsize n = (gsize) cs_tensor_numel (p->value);
      float *w = host + cs_model_get_entry_offset (model, e);
      if (p->fixed != NULL)
        {
          memcpy (w, p->fixed, n * sizeof (float));
          continue;
        }
      switch (p->role)
        {
        case CS_PARAM_WEIGHT:
          cs_init_weight (w, n, kind, p->fan_in, p->fan_out, &rng);
          break;
        case CS_PARAM_BIAS:
          cs_init_bias (w, n, kind, p->fan_in, &rng);
          break;
        case CS_PARAM_ONES:
        case CS_BUFFER_ONES:
          for (gsize k = 0; k < n; k++)
            w[k] = 1.0f;
          break;
        case CS_PARAM_ZEROS:
        case CS_BUFFER_ZEROS:
          memset (w, 0, n * sizeof (float));
          break;
        case CS_BUFFER_COUNTER:
        default:
          g_assert_not_reached ();
        }
    }

  for (guint i = 0; i < model->layers->len; i++)
    {
      CsLayer *layer = g_ptr_array_index (model->layers, i);
      layer->seed = cs_rng_next_u64 (&rng);
    }

  /* A fresh network: no gradients, no optimizer history. */
  memset (host + model->n_params, 0, 3 * model->n_params * sizeof (float));
  model->step = 0;
  if (host != model->block)
    model->be->upload (model->block, host, block_bytes (model));
}

/* Activations and scratch for max_batch examples on the model's device. */
static gboolean
allocate_acts (CsModel *model, int max_batch, GError **error)
{
  const CsBackend *be = model->be;
  guint n = model->layers->len;
  gsize in = sizeof (float) * max_batch * cs_shape_numel (&model->input_shape);

  free_acts (model);
  model->acts = g_new0 (float *, n + 1);
  model->dacts = g_new0 (float *, n + 1);
  model->acts_shared = g_new0 (gboolean, n + 1);
  model->acts[0] = be->alloc (in);
  model->dacts[0] = be->alloc (in);
  for (guint i = 0; i < n; i++)
    {
      CsLayer *layer = g_ptr_array_index (model->layers, i);
      if (layer->klass->is_view)
        {
          model->acts[i + 1] = model->acts[i];
          model->dacts[i + 1] = model->dacts[i];
          model->acts_shared[i + 1] = TRUE;
        }
      else
        {
          gsize size = sizeof (float) * max_batch * cs_shape_numel (&layer->out_shape);
          model->acts[i + 1] = be->alloc (size);
          model->dacts[i + 1] = be->alloc (size);
        }
      if (layer->klass->reserve)
        layer->klass->reserve (layer, max_batch);
    }
  model->probs = be->alloc (sizeof (float) * max_batch
                            * cs_shape_numel (cs_model_get_output_shape (model)));
  if (be->device != CS_DEVICE_CPU)
    model->labels = be->alloc (sizeof (gint32) * max_batch);

  if (!cs_backend_check (be, error))
    {
      free_acts (model);
      return FALSE;
    }
  model->max_batch = max_batch;
  return TRUE;
}

gboolean
cs_model_reserve (CsModel *model, int max_batch, GError **error)
{
  g_return_val_if_fail (max_batch > 0, FALSE);

  if (max_batch == model->max_batch)
    return TRUE;

  guint n = model->layers->len;
  gsize total = (gsize) cs_shape_numel (&model->input_shape);
  for (guint i = 0; i < n; i++)
    total += (gsize) cs_shape_numel (&((CsLayer *) g_ptr_array_index (model->layers, i))->out_shape);
  if ((double) total * max_batch > (double) ((gsize) 1 << 30))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_UNSUPPORTED,
                   "a batch of %d is too large for this model's activations; try a smaller one",
                   max_batch);
      return FALSE;
    }

  return allocate_acts (model, max_batch, error);
}

/* bytes from src (memory of src_be's device) to dst (dst_be's), through the
 * host when neither is the CPU. */
static void
transfer (const CsBackend *dst_be, gpointer dst, const CsBackend *src_be, gconstpointer src,
          gsize bytes)
{
  if (src_be->device == CS_DEVICE_CPU)
    dst_be->upload (dst, src, bytes);
  else if (dst_be->device == CS_DEVICE_CPU)
    src_be->download (dst, src, bytes);
  else
    {
      g_autofree gpointer host = g_malloc (bytes);
      src_be->download (host, src, bytes);
      dst_be->upload (dst, host, bytes);
    }
}

gboolean
cs_model_set_device (CsModel *model, const CsBackend *be, GError **error)
{
  g_return_val_if_fail (model != NULL && be != NULL, FALSE);

  const CsBackend *old = model->be;
  if (be == old)
    return TRUE;
  /* A failure still pending on the old device would be copied along. */
  if (!cs_backend_check (old, error))
    return FALSE;

  /* The block first: if that fails, nothing has changed. */
  float *block = be->alloc (block_bytes (model));
  if (block == NULL)
    {
      cs_backend_check (be, error);
      return FALSE;
    }
  transfer (be, block, old, model->block, block_bytes (model));
  gboolean ok = cs_backend_check (old, error);
  ok = cs_backend_check (be, ok ? error : NULL) && ok;
  if (!ok)
    {
      be->free (block);
      return FALSE;
    }

  int max_batch = model->max_batch;
  float *old_block = model->block;
  free_acts (model);
  model->block = block;
  use_backend (model, be);
  bind_block (model);
  if (max_batch > 0 && !allocate_acts (model, max_batch, error))
    {
      /* Back where it was, whole: the old block is untouched, and the
       * layers' scratch goes back to the old device as it is reserved
       * again (each buffer freed by the backend that allocated it). */
      model->block = old_block;
      use_backend (model, old);
      bind_block (model);
      be->free (block);
      allocate_acts (model, max_batch, NULL);
      return FALSE;
    }
  old->free (old_block);
  if (be->device == CS_DEVICE_CPU)
    g_clear_pointer (&model->host_block, g_free);
  return TRUE;
}

static const CsShape *
shape_at (CsModel *model, guint i)
{
  if (i == 0)
    return &model->input_shape;
  return &((CsLayer *) g_ptr_array_index (model->layers, i - 1))->out_shape;
}

CsTensor
cs_model_get_activation (CsModel *model, guint i)
{
  g_return_val_if_fail (i <= model->layers->len && model->acts != NULL, (CsTensor) { 0 });
  CsTensor t = cs_tensor_view_batch (model->acts[i], model->last_n, shape_at (model, i));
  t.device = model->be->device;
  return t;
}

CsTensor
cs_model_get_activation_grad (CsModel *model, guint i)
{
  g_return_val_if_fail (i <= model->layers->len && model->dacts != NULL, (CsTensor) { 0 });
  CsTensor t = cs_tensor_view_batch (model->dacts[i], model->last_n, shape_at (model, i));
  t.device = model->be->device;
  return t;
}

CsTensor
cs_model_get_output_grad (CsModel *model)
{
  return cs_model_get_activation_grad (model, model->layers->len);
}

const CsTensor *
cs_model_forward (CsModel *model, const CsTensor *x, gboolean train)
{
  g_return_val_if_fail (x != NULL, NULL);

  int N = (int) x->shape[0];
  CsTensor expected = cs_tensor_view_batch (NULL, N, &model->input_shape);
  g_return_val_if_fail (cs_tensor_same_shape (x, &expected), NULL);
  g_return_val_if_fail (N >= 1 && N <= model->max_batch, NULL);
  g_return_val_if_fail (x->device == CS_DEVICE_CPU || x->device == model->be->device, NULL);

  model->last_n = N;
  if (x->data != model->acts[0])
    {
      gsize n = (gsize) cs_tensor_numel (x);
      if (x->device != model->be->device)
        model->be->upload (model->acts[0], x->data, n * sizeof (float));
      else
        model->be->copy (model->acts[0], x->data, n);
    }
  for (guint i = 0; i < model->layers->len; i++)
    {
      CsLayer *layer = g_ptr_array_index (model->layers, i);
      CsTensor inp = cs_tensor_view_batch (model->acts[i], N, &layer->in_shape);
      CsTensor out = cs_tensor_view_batch (model->acts[i + 1], N, &layer->out_shape);
      layer->klass->forward (layer, &out, &inp, train);
    }
  model->output = cs_model_get_activation (model, model->layers->len);
  return &model->output;
}

void
cs_model_backward (CsModel *model)
{
  g_return_if_fail (model->last_n > 0);

  int N = model->last_n;
  for (guint i = model->layers->len; i-- > 0;)
    {
      CsLayer *layer = g_ptr_array_index (model->layers, i);
      CsTensor inp = cs_tensor_view_batch (model->acts[i], N, &layer->in_shape);
      CsTensor out = cs_tensor_view_batch (model->acts[i + 1], N, &layer->out_shape);
      CsTensor dout = cs_tensor_view_batch (model->dacts[i + 1], N, &layer->out_shape);
      CsTensor dinp = cs_tensor_view_batch (model->dacts[i], N, &layer->in_shape);
      gboolean want = i > 0 || model->input_grad;
      layer->klass->backward (layer, want ? &dinp : NULL, &dout, &inp, &out);
    }
}

double
cs_model_cross_entropy (CsModel *model, const gint32 *labels, float *probs)
{
  const CsShape *out = cs_model_get_output_shape (model);
  g_return_val_if_fail (model->last_n > 0 && labels != NULL, NAN);
  g_return_val_if_fail (out->ndim == 1, NAN);

  const CsBackend *be = model->be;
  int N = model->last_n, C = (int) out->d[0];
  for (int n = 0; n < N; n++)
    g_return_val_if_fail (labels[n] >= 0 && labels[n] < C, NAN);

  /* On the CPU straight from and into the caller's memory. */
  gboolean host = be->device == CS_DEVICE_CPU;
  const gint32 *y = labels;
  if (!host)
    {
      be->upload (model->labels, labels, sizeof (gint32) * N);
      y = model->labels;
    }
  float *p = host && probs != NULL ? probs : model->probs;
  double loss = be->cross_entropy (model->dacts[model->layers->len], p,
                                   model->acts[model->layers->len], y, N, C);
  if (probs != NULL && p != probs)
    be->download (probs, p, sizeof (float) * N * C);
  return loss;
}

void
cs_model_zero_grad (CsModel *model)
{
  model->be->fill (cs_model_get_grads (model), 0.0f, model->n_params);
}
