/* layer.c — the registry of layer kinds and what they share */
#include "layer.h"
#include "error.h"
#include "layers/layers-private.h"

#include <math.h>
#include <stdarg.h>

static const CsLayerClass *const layer_classes[] = {
  &cs_linear_class,
  &cs_conv2d_class,
  &cs_maxpool2d_class,
  &cs_avgpool2d_class,
  &cs_relu_class,
  &cs_leaky_relu_class,
  &cs_sigmoid_class,
  &cs_tanh_class,
  &cs_softmax_class,
  &cs_flatten_class,
  &cs_batchnorm2d_class,
  &cs_dropout_class,
  &cs_residual_class,
};

const CsLayerClass *
cs_layer_class_lookup (const char *type)
{
  for (gsize i = 0; i < G_N_ELEMENTS (layer_classes); i++)
    if (g_strcmp0 (layer_classes[i]->type, type) == 0)
      return layer_classes[i];
  return NULL;
}

const char *
cs_layer_known_types (void)
{
  static char *known;
  static gsize once;

  if (g_once_init_enter (&once))
    {
      GString *s = g_string_new (NULL);
      for (gsize i = 0; i < G_N_ELEMENTS (layer_classes); i++)
        g_string_append_printf (s, "%s%s", i ? ", " : "", layer_classes[i]->type);
      known = g_string_free (s, FALSE);
      g_once_init_leave (&once, 1);
    }
  return known;
}

static void
param_clear (gpointer data)
{
  CsParam *p = data;
  g_free (p->name);
  g_free (p->fixed);
}

void
cs_layer_set_error (CsLayer *self, GError **error, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *msg = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, CS_ERROR, CS_ERROR_INVALID_MODEL, "layer %u (%s): %s",
               self->index, self->klass->type, msg);
}

/* Reads a nested JSON array of numbers into a flat list. */
static gboolean
read_numbers (JsonNode *node, GArray *out)
{
  if (JSON_NODE_HOLDS_VALUE (node))
    {
      GType t = json_node_get_value_type (node);
      if (t != G_TYPE_INT64 && t != G_TYPE_DOUBLE)
        return FALSE;
      float v = (float) json_node_get_double (node);
      g_array_append_val (out, v);
      return TRUE;
    }
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return FALSE;
  JsonArray *a = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (a); i++)
    if (!read_numbers (json_array_get_element (a, i), out))
      return FALSE;
  return TRUE;
}

CsLayer *
cs_layer_new (JsonObject *desc, const CsShape *in_shape, guint index, GError **error)
{
  g_return_val_if_fail (desc != NULL && in_shape != NULL, NULL);

  const char *type = NULL;
  JsonNode *type_node = json_object_get_member (desc, "type");
  if (type_node != NULL && JSON_NODE_HOLDS_VALUE (type_node)
      && json_node_get_value_type (type_node) == G_TYPE_STRING)
    type = json_node_get_string (type_node);
  if (type == NULL)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_INVALID_MODEL,
                   "layer %u: no “type” (one of %s)", index, cs_layer_known_types ());
      return NULL;
    }

  const CsLayerClass *klass = cs_layer_class_lookup (type);
  if (klass == NULL)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_INVALID_MODEL,
                   "layer %u: unknown layer type “%s” (known types: %s)",
                   index, type, cs_layer_known_types ());
      return NULL;
    }

  /* A misspelt key would silently fall back to a default: refuse it. */
  g_autoptr(GList) members = json_object_get_members (desc);
  for (GList *l = members; l != NULL; l = l->next)
    {
      const char *key = l->data;
      gboolean known = g_str_equal (key, "type") || g_str_equal (key, "weight")
                       || g_str_equal (key, "comment");
      for (const char *const *k = klass->keys; !known && k && *k; k++)
        known = g_str_equal (key, *k);
      if (!known)
        {
          g_autofree char *list = klass->keys ? g_strjoinv (", ", (char **) klass->keys)
                                              : g_strdup ("none");
          g_set_error (error, CS_ERROR, CS_ERROR_INVALID_MODEL,
                       "layer %u (%s): unknown setting “%s” (it takes: %s)",
                       index, type, key, list);
          return NULL;
        }
    }

  g_autoptr(CsLayer) self = g_malloc0 (klass->instance_size);
  self->klass = klass;
  self->be = cs_backend_cpu ();
  self->index = index;
  self->in_shape = *in_shape;
  self->params = g_array_new (FALSE, TRUE, sizeof (CsParam));
  g_array_set_clear_func (self->params, param_clear);

  if (!klass->build (self, desc, error))
    return NULL;

  /* Fixed initial values ("weight": [[0, 1, 2], …]) for the first parameter. */
  JsonNode *fixed = json_object_get_member (desc, "weight");
  if (fixed != NULL)
    {
      if (self->params->len == 0)
        {
          cs_layer_set_error (self, error, "this layer has no weight to set");
          return NULL;
        }
      CsParam *p = &g_array_index (self->params, CsParam, 0);
      g_autoptr(GArray) values = g_array_new (FALSE, FALSE, sizeof (float));
      if (!read_numbers (fixed, values))
        {
          cs_layer_set_error (self, error, "“weight” must be a (nested) list of numbers");
          return NULL;
        }
      if ((gint64) values->len != cs_tensor_numel (p->value))
        {
          g_autofree char *shape = cs_tensor_shape_string (p->value);
          cs_layer_set_error (self, error, "“weight” has %u numbers, the weight %s needs %"
                              G_GINT64_FORMAT, values->len, shape, cs_tensor_numel (p->value));
          return NULL;
        }
      p->fixed = (float *) g_array_free (g_steal_pointer (&values), FALSE);
    }

  for (int i = 0; i < self->out_shape.ndim; i++)
    if (self->out_shape.d[i] <= 0)
      {
        g_autofree char *in = cs_shape_to_string (in_shape);
        cs_layer_set_error (self, error, "the input %s is too small for this layer: "
                            "the output would be empty", in);
        return NULL;
      }

  return g_steal_pointer (&self);
}

typedef struct
{
  gpointer *slot;
  const CsBackend *be;  /* the one that allocated *slot */
} CsScratch;

void
cs_layer_alloc_scratch (CsLayer *self, gpointer slot, gsize bytes)
{
  gpointer *p = slot;
  CsScratch *s = NULL;

  if (self->scratch == NULL)
    self->scratch = g_array_new (FALSE, FALSE, sizeof (CsScratch));
  for (guint i = 0; i < self->scratch->len && s == NULL; i++)
    if (g_array_index (self->scratch, CsScratch, i).slot == p)
      s = &g_array_index (self->scratch, CsScratch, i);
  if (s == NULL)
    {
      g_array_set_size (self->scratch, self->scratch->len + 1);
      s = &g_array_index (self->scratch, CsScratch, self->scratch->len - 1);
      s->slot = p;
    }
  else if (*p != NULL)
    s->be->free (*p);
  s->be = self->be;
  *p = self->be->alloc (bytes);
}

void
cs_layer_free (CsLayer *self)
{
  if (self == NULL)
    return;
  if (self->klass->finalize)
    self->klass->finalize (self);
  for (guint i = 0; self->scratch && i < self->scratch->len; i++)
    {
      CsScratch *s = &g_array_index (self->scratch, CsScratch, i);
      g_clear_pointer (s->slot, s->be->free);
    }
  g_clear_pointer (&self->scratch, g_array_unref);
  g_clear_pointer (&self->params, g_array_unref);
  g_free (self);
}

void
cs_layer_set_backend (CsLayer *self, const CsBackend *be)
{
  self->be = be;
}

void
cs_layer_add_param (CsLayer *self, const char *name, CsParamRole role,
                    CsTensor *value, CsTensor *grad, gint64 fan_in, gint64 fan_out)
{
  CsParam p = {
    .name = g_strdup (name),
    .role = role,
    .value = value,
    .grad = grad,
    .fan_in = fan_in,
    .fan_out = fan_out,
  };
  g_assert ((grad == NULL) == (role == CS_BUFFER_ZEROS || role == CS_BUFFER_ONES));
  g_array_append_val (self->params, p);
}

void
cs_layer_add_counter (CsLayer *self, const char *name, gint64 *counter)
{
  CsParam p = {
    .name = g_strdup (name),
    .role = CS_BUFFER_COUNTER,
    .counter = counter,
  };
  g_array_append_val (self->params, p);
}

void
cs_layer_adopt_params (CsLayer *self, CsLayer *child, const char *prefix)
{
  for (guint i = 0; i < child->params->len; i++)
    {
      CsParam *c = &g_array_index (child->params, CsParam, i);
      CsParam p = *c;
      p.name = g_strdup_printf ("%s.%s", prefix, c->name);
      p.fixed = g_steal_pointer (&c->fixed);
      g_array_append_val (self->params, p);
    }
}

static JsonNode *
member (JsonObject *desc, const char *key)
{
  return json_object_has_member (desc, key) ? json_object_get_member (desc, key) : NULL;
}

static gboolean
node_to_int (JsonNode *node, gint64 *out)
{
  if (!JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  GType t = json_node_get_value_type (node);
  if (t == G_TYPE_INT64)
    {
      *out = json_node_get_int (node);
      return TRUE;
    }
  if (t == G_TYPE_DOUBLE)
    {
      double d = json_node_get_double (node);
      if (d != floor (d) || fabs (d) > 1e15)
        return FALSE;
      *out = (gint64) d;
      return TRUE;
    }
  return FALSE;
}

#define SIZE_LIMIT (1 << 24)

gboolean
cs_layer_get_int (CsLayer *self, JsonObject *desc, const char *key,
                  gint64 fallback, gint64 min, gint64 *out, GError **error)
{
  JsonNode *node = member (desc, key);
  if (node == NULL)
    {
      if (fallback < min)
        {
          cs_layer_set_error (self, error, "“%s” is missing", key);
          return FALSE;
        }
      *out = fallback;
      return TRUE;
    }
  gint64 v;
  if (!node_to_int (node, &v))
    {
      cs_layer_set_error (self, error, "“%s” must be a whole number", key);
      return FALSE;
    }
  if (v < min || v > SIZE_LIMIT)
    {
      cs_layer_set_error (self, error, "“%s” is %" G_GINT64_FORMAT
                          ", it must be between %" G_GINT64_FORMAT " and %d",
                          key, v, min, SIZE_LIMIT);
      return FALSE;
    }
  *out = v;
  return TRUE;
}

gboolean
cs_layer_get_pair (CsLayer *self, JsonObject *desc, const char *key,
                   gint64 fallback, gint64 min, gint64 out[2], GError **error)
{
  JsonNode *node = member (desc, key);
  if (node != NULL && JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *a = json_node_get_array (node);
      if (json_array_get_length (a) != 2)
        {
          cs_layer_set_error (self, error, "“%s” must be a number or a pair [h, w]", key);
          return FALSE;
        }
      for (int i = 0; i < 2; i++)
        {
          gint64 v;
          if (!node_to_int (json_array_get_element (a, i), &v))
            {
              cs_layer_set_error (self, error, "“%s” must hold whole numbers", key);
              return FALSE;
            }
          if (v < min || v > SIZE_LIMIT)
            {
              cs_layer_set_error (self, error, "“%s” holds %" G_GINT64_FORMAT
                                  ", it must be between %" G_GINT64_FORMAT " and %d",
                                  key, v, min, SIZE_LIMIT);
              return FALSE;
            }
          out[i] = v;
        }
      return TRUE;
    }
  gint64 v;
  if (!cs_layer_get_int (self, desc, key, fallback, min, &v, error))
    return FALSE;
  out[0] = out[1] = v;
  return TRUE;
}

gboolean
cs_layer_get_float (CsLayer *self, JsonObject *desc, const char *key,
                    double fallback, double min, double max, double *out, GError **error)
{
  JsonNode *node = member (desc, key);
  if (node == NULL)
    {
      *out = fallback;
      return TRUE;
    }
  GType t = JSON_NODE_HOLDS_VALUE (node) ? json_node_get_value_type (node) : G_TYPE_INVALID;
  if (t != G_TYPE_DOUBLE && t != G_TYPE_INT64)
    {
      cs_layer_set_error (self, error, "“%s” must be a number", key);
      return FALSE;
    }
  double v = json_node_get_double (node);
  if (!(v >= min && v <= max))
    {
      cs_layer_set_error (self, error, "“%s” is %g, it must be between %g and %g",
                          key, v, min, max);
      return FALSE;
    }
  *out = v;
  return TRUE;
}

gboolean
cs_layer_get_bool (CsLayer *self, JsonObject *desc, const char *key,
                   gboolean fallback, gboolean *out, GError **error)
{
  JsonNode *node = member (desc, key);
  if (node == NULL)
    {
      *out = fallback;
      return TRUE;
    }
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    {
      cs_layer_set_error (self, error, "“%s” must be true or false", key);
      return FALSE;
    }
  *out = json_node_get_boolean (node);
  return TRUE;
}

gboolean
cs_layer_get_bias (CsLayer *self, JsonObject *desc, gint64 n, gboolean *has_bias,
                   float **fixed, GError **error)
{
  JsonNode *node = member (desc, "bias");
  *fixed = NULL;
  if (node == NULL || (JSON_NODE_HOLDS_VALUE (node)
                       && json_node_get_value_type (node) == G_TYPE_BOOLEAN))
    return cs_layer_get_bool (self, desc, "bias", TRUE, has_bias, error);

  g_autoptr(GArray) values = g_array_new (FALSE, FALSE, sizeof (float));
  if (!read_numbers (node, values))
    {
      cs_layer_set_error (self, error, "“bias” must be true or false, or its values "
                          "[b₀, b₁, …] (one per output)");
      return FALSE;
    }
  if ((gint64) values->len != n)
    {
      cs_layer_set_error (self, error, "“bias” has %u number%s, the layer has %"
                          G_GINT64_FORMAT " outputs",
                          values->len, values->len == 1 ? "" : "s", n);
      return FALSE;
    }
  *has_bias = TRUE;
  *fixed = (float *) g_array_free (g_steal_pointer (&values), FALSE);
  return TRUE;
}

gboolean
cs_layer_expect_image (CsLayer *self, GError **error)
{
  if (self->in_shape.ndim != 3)
    {
      g_autofree char *in = cs_shape_to_string (&self->in_shape);
      cs_layer_set_error (self, error, "needs an image (channels, height, width) "
                          "but receives %s; is there a flatten before it?", in);
      return FALSE;
    }
  return TRUE;
}
