/* cs-snapshot.c — copying what the views draw out of a model
 *
 * Everything lives in one block of floats, sized once in the constructor:
 *
 *   [ activations | activation gradients | params (P) | param grads (P) |
 *     optimizer state (2P) | logits | probabilities ]
 *
 * with the parts the flags did not ask for left out. The parameters are the
 * model's parameter block copied in one go (core/model.h keeps them
 * contiguous for exactly this), and the CsTensors handed out are views into
 * the copy.
 */
#include "cs-snapshot.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

typedef struct
{
  const char *type;         /* static strings of the layer's class */
  const char *title;
  char *description;
  CsShape in_shape, out_shape;
} SnapLayer;

typedef struct
{
  char *name;               /* state dict: "3.conv1.weight" */
  guint layer;
  const char *local_name;   /* inside name: "conv1.weight" */
  CsTensor value;           /* views into the block; data NULL when absent */
  CsTensor grad;
} SnapParam;

struct _CsSnapshot
{
  CsSnapshotFlags flags;
  char *name;
  char *title;
  guint example;
  int label;
  guint64 generation;
  gint64 step;

  guint n_layers;
  SnapLayer *layers;        /* (n_layers) */
  CsShape *shapes;          /* (n_layers + 1): activation i's */
  const float **acts;       /* (n_layers + 1), NULL entries when absent */
  const float **dacts;

  guint n_params;
  SnapParam *params;
  gsize P;
  const float *param_block, *grad_block, *optim_state;

  guint n_classes;
  const float *logits;
  const float *probs;

  float *block;
};

G_DEFINE_BOXED_TYPE (CsSnapshot, cs_snapshot, cs_snapshot_ref, cs_snapshot_unref)

/* Reads n floats of the model's memory into dst. Today every model lives in
 * host memory, so this is a memcpy; a CUDA model will download through its
 * backend here instead (a later merge: the gpu/ backend's device-to-host
 * copy), which is why every copy of the snapshot goes through this one
 * function. */
static void
download (float *dst, const float *src, gsize n, CsModel *model)
{
  g_assert (cs_model_get_backend (model)->device == CS_DEVICE_CPU);
  memcpy (dst, src, n * sizeof (float));
}

/* "Conv2d(in_channels=1, out_channels=32, kernel_size=3, padding=1)" from the
 * layer's JSON description, in the order its keys were written. */
static char *
describe_layer (const char *title, JsonObject *desc)
{
  GString *s = g_string_new (title);
  g_string_append_c (s, '(');
  gboolean first = TRUE;
  g_autoptr(GList) members = json_object_get_members (desc);
  for (GList *l = members; l != NULL; l = l->next)
    {
      const char *key = l->data;
      if (g_str_equal (key, "type"))
        continue;
      JsonNode *node = json_object_get_member (desc, key);
      g_autofree char *value = NULL;
      if (JSON_NODE_HOLDS_ARRAY (node) && json_array_get_length (json_node_get_array (node)) > 4)
        value = g_strdup ("[…]");   /* a fixed kernel or bias, written out in full */
      else
        value = json_to_string (node, FALSE);
      g_string_append_printf (s, "%s%s=%s", first ? "" : ", ", key, value);
      first = FALSE;
    }
  g_string_append_c (s, ')');
  return g_string_free (s, FALSE);
}

static void
describe_layers (CsSnapshot *self, CsModel *model)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonArray *layers = NULL;
  if (json_parser_load_from_data (parser, cs_model_get_json (model), -1, NULL))
    {
      JsonNode *root = json_parser_get_root (parser);
      JsonObject *o = JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
      if (o != NULL && json_object_has_member (o, "layers"))
        layers = json_object_get_array_member (o, "layers");
    }
  for (guint i = 0; i < self->n_layers; i++)
    {
      SnapLayer *l = &self->layers[i];
      JsonNode *node = layers != NULL && i < json_array_get_length (layers)
                       ? json_array_get_element (layers, i) : NULL;
      if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
        l->description = describe_layer (l->title, json_node_get_object (node));
      else
        l->description = g_strdup (l->title);
    }
}

static void
softmax (float *probs, const float *logits, guint n)
{
  double max = -INFINITY, sum = 0.0;
  for (guint k = 0; k < n; k++)
    max = MAX (max, logits[k]);
  for (guint k = 0; k < n; k++)
    sum += exp (logits[k] - max);
  for (guint k = 0; k < n; k++)
    probs[k] = (float) (exp (logits[k] - max) / sum);
}

CsSnapshot *
cs_snapshot_new (CsModel *model, guint example, CsSnapshotFlags what)
{
  g_return_val_if_fail (model != NULL, NULL);
  g_return_val_if_fail ((what & ~CS_SNAPSHOT_EVERYTHING) == 0, NULL);
  /* until download () goes through the backend (see there) */
  g_return_val_if_fail (cs_model_get_backend (model)->device == CS_DEVICE_CPU, NULL);

  guint n = cs_model_get_n_layers (model);
  gboolean want_acts = (what & CS_SNAPSHOT_ACTIVATIONS) != 0;
  gboolean want_dacts = (what & (CS_SNAPSHOT_GRADIENTS | CS_SNAPSHOT_INPUT_GRADIENT)) != 0;
  if (want_acts || want_dacts)
    {
      CsTensor x = cs_model_get_activation (model, 0);
      g_return_val_if_fail (x.ndim > 0 && example < (guint) x.shape[0], NULL);
    }

  CsSnapshot *self = g_atomic_rc_box_new0 (CsSnapshot);
  self->flags = what;
  self->name = g_strdup (cs_model_get_name (model));
  self->title = g_strdup (cs_model_get_title (model));
  self->example = example;
  self->label = -1;
  self->step = cs_model_get_step (model);
  self->P = cs_model_get_n_params (model);
  self->n_layers = n;
  self->layers = g_new0 (SnapLayer, n);
  self->shapes = g_new0 (CsShape, n + 1);
  self->acts = g_new0 (const float *, n + 1);
  self->dacts = g_new0 (const float *, n + 1);

  self->shapes[0] = *cs_model_get_input_shape (model);
  for (guint i = 0; i < n; i++)
    {
      CsLayer *layer = cs_model_get_layer (model, i);
      self->layers[i].type = layer->klass->type;
      self->layers[i].title = layer->klass->title;
      self->layers[i].in_shape = layer->in_shape;
      self->layers[i].out_shape = layer->out_shape;
      self->shapes[i + 1] = layer->out_shape;
    }
  describe_layers (self, model);

  /* The trainable parameters: the entries with a gradient. */
  guint n_entries = cs_model_get_n_entries (model);
  self->params = g_new0 (SnapParam, n_entries);
  for (guint e = 0; e < n_entries; e++)
    {
      const CsModelEntry *entry = cs_model_get_entry (model, e);
      if (entry->param->grad == NULL)
        continue;
      SnapParam *p = &self->params[self->n_params++];
      p->name = g_strdup (entry->name);
      p->layer = entry->layer;
      p->local_name = strchr (p->name, '.') + 1;
      p->value = cs_tensor_view (NULL, entry->param->value->ndim, entry->param->value->shape);
      p->grad = p->value;
    }

  /* The classifier's output. */
  const CsShape *out = &self->shapes[n];
  gboolean classifier = out->ndim == 1;
  gboolean model_softmax = classifier && n >= 1 && g_str_equal (self->layers[n - 1].type, "softmax");
  if (classifier)
    self->n_classes = (guint) out->d[0];

  /* Sizes, and then the one block. */
  gsize total = 0;
  gsize P = cs_model_get_n_params (model);
  for (guint i = 0; i <= n; i++)
    {
      gboolean shared = i > 0 && cs_model_get_layer (model, i - 1)->klass->is_view;
      gsize numel = (gsize) cs_shape_numel (&self->shapes[i]);
      if (want_acts && !shared)
        total += numel;
      if (want_dacts && !shared)
        total += numel;
    }
  if (what & CS_SNAPSHOT_PARAMS)
    total += P;
  if (what & CS_SNAPSHOT_PARAM_GRADS)
    total += P;
  if (what & CS_SNAPSHOT_OPTIM_STATE)
    total += 2 * P;
  if (want_acts && classifier)
    total += 2 * (gsize) self->n_classes;
  self->block = g_new (float, MAX (total, 1));

  float *at = self->block;
  for (guint i = 0; i <= n; i++)
    {
      /* A view layer (flatten) gives its input with another shape: the
       * model shares the memory, and so does the snapshot. */
      gboolean shared = i > 0 && cs_model_get_layer (model, i - 1)->klass->is_view;
      gsize numel = (gsize) cs_shape_numel (&self->shapes[i]);
      if (want_acts)
        {
          if (shared)
            self->acts[i] = self->acts[i - 1];
          else
            {
              CsTensor a = cs_model_get_activation (model, i);   /* (N, shape) */
              download (at, a.data + example * numel, numel, model);
              self->acts[i] = at;
              at += numel;
            }
        }
      if (want_dacts)
        {
          if (shared)
            self->dacts[i] = self->dacts[i - 1];
          else
            {
              CsTensor d = cs_model_get_activation_grad (model, i);   /* (N, shape) */
              download (at, d.data + example * numel, numel, model);
              self->dacts[i] = at;
              at += numel;
            }
        }
    }
  /* The input's gradient only when asked for: the model leaves it unwritten
   * unless cs_model_set_input_grad () was on, except where view layers
   * (a flatten) come first: they share the input's memory, and the first
   * layer that is not a view writes its input gradient there anyway. */
  if (want_dacts)
    {
      guint views = 0;
      while (views < n && cs_model_get_layer (model, views)->klass->is_view)
        views++;
      gboolean input_written = (what & CS_SNAPSHOT_INPUT_GRADIENT) || (views >= 1 && views < n);
      for (guint i = 0; i <= views && i <= n; i++)
        if (!input_written)
          self->dacts[i] = NULL;
      if (!(what & CS_SNAPSHOT_GRADIENTS))
        for (guint i = 1; i <= n; i++)
          self->dacts[i] = NULL;
    }

  if (what & CS_SNAPSHOT_PARAMS)
    {
      download (at, cs_model_get_params (model), P, model);
      float *base = at;
      self->param_block = base;
      at += P;
      for (guint k = 0, e = 0; e < n_entries; e++)
        {
          const CsModelEntry *entry = cs_model_get_entry (model, e);
          if (entry->param->grad == NULL)
            continue;
          self->params[k++].value.data = base + (entry->param->value->data - cs_model_get_params (model));
        }
    }
  if (what & CS_SNAPSHOT_PARAM_GRADS)
    {
      download (at, cs_model_get_grads (model), P, model);
      float *base = at;
      self->grad_block = base;
      at += P;
      for (guint k = 0, e = 0; e < n_entries; e++)
        {
          const CsModelEntry *entry = cs_model_get_entry (model, e);
          if (entry->param->grad == NULL)
            continue;
          self->params[k++].grad.data = base + (entry->param->grad->data - cs_model_get_grads (model));
        }
    }

  if (what & CS_SNAPSHOT_OPTIM_STATE)
    {
      download (at, cs_model_get_optim_state (model), 2 * P, model);
      self->optim_state = at;
      at += 2 * P;
    }

  if (want_acts && classifier)
    {
      float *logits = at, *probs = at + self->n_classes;
      at += 2 * (gsize) self->n_classes;
      const CsShape *before = n >= 1 ? &self->shapes[n - 1] : NULL;
      if (model_softmax && before->ndim == 1 && before->d[0] == out->d[0])
        {
          memcpy (logits, self->acts[n - 1], self->n_classes * sizeof (float));
          memcpy (probs, self->acts[n], self->n_classes * sizeof (float));
        }
      else
        {
          memcpy (logits, self->acts[n], self->n_classes * sizeof (float));
          softmax (probs, logits, self->n_classes);
        }
      self->logits = logits;
      self->probs = probs;
    }
  g_assert (at == self->block + total);
  return self;
}

static void
snapshot_clear (gpointer data)
{
  CsSnapshot *self = data;
  for (guint i = 0; i < self->n_layers; i++)
    g_free (self->layers[i].description);
  for (guint i = 0; i < self->n_params; i++)
    g_free (self->params[i].name);
  g_free (self->name);
  g_free (self->title);
  g_free (self->layers);
  g_free (self->shapes);
  g_free (self->acts);
  g_free (self->dacts);
  g_free (self->params);
  g_free (self->block);
}

CsSnapshot *
cs_snapshot_ref (CsSnapshot *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return g_atomic_rc_box_acquire (self);
}

void
cs_snapshot_unref (CsSnapshot *self)
{
  g_return_if_fail (self != NULL);
  g_atomic_rc_box_release_full (self, snapshot_clear);
}

void
cs_snapshot_set_label (CsSnapshot *self, int label)
{
  g_return_if_fail (self != NULL);
  self->label = label;
}

void
cs_snapshot_set_generation (CsSnapshot *self, guint64 generation)
{
  g_return_if_fail (self != NULL);
  self->generation = generation;
}

CsSnapshotFlags cs_snapshot_get_flags (CsSnapshot *self) { return self->flags; }
const char *cs_snapshot_get_name (CsSnapshot *self) { return self->name; }
const char *cs_snapshot_get_title (CsSnapshot *self) { return self->title; }
guint cs_snapshot_get_example (CsSnapshot *self) { return self->example; }
int cs_snapshot_get_label (CsSnapshot *self) { return self->label; }
guint64 cs_snapshot_get_generation (CsSnapshot *self) { return self->generation; }
gint64 cs_snapshot_get_step (CsSnapshot *self) { return self->step; }
guint cs_snapshot_get_n_layers (CsSnapshot *self) { return self->n_layers; }

const char *
cs_snapshot_get_layer_type (CsSnapshot *self, guint layer)
{
  g_return_val_if_fail (layer < self->n_layers, NULL);
  return self->layers[layer].type;
}

const char *
cs_snapshot_get_layer_title (CsSnapshot *self, guint layer)
{
  g_return_val_if_fail (layer < self->n_layers, NULL);
  return self->layers[layer].title;
}

const char *
cs_snapshot_get_layer_description (CsSnapshot *self, guint layer)
{
  g_return_val_if_fail (layer < self->n_layers, NULL);
  return self->layers[layer].description;
}

const CsShape *
cs_snapshot_get_layer_in_shape (CsSnapshot *self, guint layer)
{
  g_return_val_if_fail (layer < self->n_layers, NULL);
  return &self->layers[layer].in_shape;
}

const CsShape *
cs_snapshot_get_layer_out_shape (CsSnapshot *self, guint layer)
{
  g_return_val_if_fail (layer < self->n_layers, NULL);
  return &self->layers[layer].out_shape;
}

const CsShape *
cs_snapshot_get_shape (CsSnapshot *self, guint i)
{
  g_return_val_if_fail (i <= self->n_layers, NULL);
  return &self->shapes[i];
}

const float *
cs_snapshot_get_activation (CsSnapshot *self, guint i)
{
  g_return_val_if_fail (i <= self->n_layers, NULL);
  return self->acts[i];
}

const float *
cs_snapshot_get_activation_grad (CsSnapshot *self, guint i)
{
  g_return_val_if_fail (i <= self->n_layers, NULL);
  return self->dacts[i];
}

gboolean
cs_snapshot_has_gradients (CsSnapshot *self)
{
  return (self->flags & CS_SNAPSHOT_GRADIENTS) != 0;
}

guint cs_snapshot_get_n_classes (CsSnapshot *self) { return self->logits ? self->n_classes : 0; }
const float *cs_snapshot_get_logits (CsSnapshot *self) { return self->logits; }
const float *cs_snapshot_get_probabilities (CsSnapshot *self) { return self->probs; }

int
cs_snapshot_get_prediction (CsSnapshot *self)
{
  if (self->logits == NULL)
    return -1;
  int best = 0;
  for (guint k = 1; k < self->n_classes; k++)
    if (self->logits[k] > self->logits[best])
      best = (int) k;
  return best;
}

static const SnapParam *
find_param (CsSnapshot *self, const char *name)
{
  for (guint i = 0; i < self->n_params; i++)
    if (g_str_equal (self->params[i].name, name))
      return &self->params[i];
  return NULL;
}

static const SnapParam *
find_layer_param (CsSnapshot *self, guint layer, const char *name)
{
  for (guint i = 0; i < self->n_params; i++)
    if (self->params[i].layer == layer && g_str_equal (self->params[i].local_name, name))
      return &self->params[i];
  return NULL;
}

const CsTensor *
cs_snapshot_get_param (CsSnapshot *self, const char *name)
{
  g_return_val_if_fail (name != NULL, NULL);
  const SnapParam *p = find_param (self, name);
  return p != NULL && p->value.data != NULL ? &p->value : NULL;
}

const CsTensor *
cs_snapshot_get_layer_param (CsSnapshot *self, guint layer, const char *name)
{
  g_return_val_if_fail (name != NULL, NULL);
  const SnapParam *p = find_layer_param (self, layer, name);
  return p != NULL && p->value.data != NULL ? &p->value : NULL;
}

const CsTensor *
cs_snapshot_get_param_grad (CsSnapshot *self, const char *name)
{
  g_return_val_if_fail (name != NULL, NULL);
  const SnapParam *p = find_param (self, name);
  return p != NULL && p->grad.data != NULL ? &p->grad : NULL;
}

const CsTensor *
cs_snapshot_get_layer_param_grad (CsSnapshot *self, guint layer, const char *name)
{
  g_return_val_if_fail (name != NULL, NULL);
  const SnapParam *p = find_layer_param (self, layer, name);
  return p != NULL && p->grad.data != NULL ? &p->grad : NULL;
}

gboolean
cs_snapshot_same_structure (CsSnapshot *a, CsSnapshot *b)
{
  if (a == NULL || b == NULL)
    return FALSE;
  if (a == b)
    return TRUE;
  if (a->n_layers != b->n_layers || !cs_shape_equal (&a->shapes[0], &b->shapes[0]))
    return FALSE;
  for (guint i = 0; i < a->n_layers; i++)
    if (!g_str_equal (a->layers[i].type, b->layers[i].type)
        || !cs_shape_equal (&a->layers[i].out_shape, &b->layers[i].out_shape))
      return FALSE;
  return TRUE;
}

const float *
cs_snapshot_get_param_block (CsSnapshot *self, gsize *n_params)
{
  g_return_val_if_fail (self != NULL, NULL);
  if (n_params != NULL)
    *n_params = self->P;
  return self->param_block;
}

const float *
cs_snapshot_get_grad_block (CsSnapshot *self, gsize *n_params)
{
  g_return_val_if_fail (self != NULL, NULL);
  if (n_params != NULL)
    *n_params = self->P;
  return self->grad_block;
}

const float *
cs_snapshot_get_optim_state (CsSnapshot *self, gsize *n_params)
{
  g_return_val_if_fail (self != NULL, NULL);
  if (n_params != NULL)
    *n_params = self->P;
  return self->optim_state;
}
