/* activation.c — ReLU, LeakyReLU, Sigmoid, Tanh: element-wise, any shape */
#include "layers-private.h"

typedef struct
{
  CsLayer parent;
  CsActKind kind;
  float slope;  /* LeakyReLU's negative_slope */
} CsActivation;

static gboolean
activation_build (CsLayer *layer, JsonObject *desc, GError **error)
{
  CsActivation *self = (CsActivation *) layer;
  const CsLayerClass *k = layer->klass;

  self->kind = k == &cs_relu_class ? CS_ACT_RELU
             : k == &cs_leaky_relu_class ? CS_ACT_LEAKY_RELU
             : k == &cs_sigmoid_class ? CS_ACT_SIGMOID
             : CS_ACT_TANH;
  if (self->kind == CS_ACT_LEAKY_RELU)
    {
      double slope;
      if (!cs_layer_get_float (layer, desc, "negative_slope", 0.01, -1e6, 1e6, &slope, error))
        return FALSE;
      self->slope = (float) slope;
    }
  layer->out_shape = layer->in_shape;
  return TRUE;
}

static void
activation_forward (CsLayer *layer, CsTensor *out, const CsTensor *inp, gboolean train)
{
  CsActivation *self = (CsActivation *) layer;
  layer->be->act_forward (out->data, inp->data, (gsize) cs_tensor_numel (inp),
                          self->kind, self->slope);
}

static void
activation_backward (CsLayer *layer, CsTensor *dinp, const CsTensor *dout,
                     const CsTensor *inp, const CsTensor *out)
{
  CsActivation *self = (CsActivation *) layer;
  if (dinp != NULL)
    layer->be->act_backward (dinp->data, dout->data, inp->data, out->data,
                             (gsize) cs_tensor_numel (inp), self->kind, self->slope);
}

static const char *const leaky_relu_keys[] = { "negative_slope", NULL };

#define ACTIVATION_CLASS(var, type_, title_, keys_)  \
  const CsLayerClass var = {                     \
    .type = type_,                               \
    .title = title_,                             \
    .keys = keys_,                               \
    .instance_size = sizeof (CsActivation),      \
    .build = activation_build,                   \
    .forward = activation_forward,               \
    .backward = activation_backward,             \
  }

ACTIVATION_CLASS (cs_relu_class, "relu", "ReLU", NULL);
ACTIVATION_CLASS (cs_leaky_relu_class, "leaky_relu", "LeakyReLU", leaky_relu_keys);
ACTIVATION_CLASS (cs_sigmoid_class, "sigmoid", "Sigmoid", NULL);
ACTIVATION_CLASS (cs_tanh_class, "tanh", "Tanh", NULL);
