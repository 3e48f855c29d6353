/* linear.c — fully connected layer: out = inp · Wᵀ + b */
#include "layers-private.h"

typedef struct
{
  CsLayer parent;
  int in_features, out_features;
  gboolean has_bias;
  CsTensor weight, dweight;  /* (out, in) */
  CsTensor bias, dbias;      /* (out) */
} CsLinear;

static gboolean
linear_build (CsLayer *layer, JsonObject *desc, GError **error)
{
  CsLinear *self = (CsLinear *) layer;
  gint64 in, out;

  if (!cs_layer_get_int (layer, desc, "in_features", -1, 1, &in, error)
      || !cs_layer_get_int (layer, desc, "out_features", -1, 1, &out, error)
      || !cs_layer_get_bool (layer, desc, "bias", TRUE, &self->has_bias, error))
    return FALSE;

  if (layer->in_shape.ndim != 1 || layer->in_shape.d[0] != in)
    {
      g_autofree char *got = cs_shape_to_string (&layer->in_shape);
      if (layer->in_shape.ndim != 1)
        cs_layer_set_error (layer, error, "expects %" G_GINT64_FORMAT " features but "
                            "receives %s; add a flatten layer before it", in, got);
      else
        cs_layer_set_error (layer, error, "expects %" G_GINT64_FORMAT " input features "
                            "but the layer before gives %" G_GINT64_FORMAT,
                            in, layer->in_shape.d[0]);
      return FALSE;
    }

  self->in_features = (int) in;
  self->out_features = (int) out;
  layer->out_shape = (CsShape) { 1, { out } };

  gint64 wshape[2] = { out, in };
  self->weight = self->dweight = cs_tensor_view (NULL, 2, wshape);
  cs_layer_add_param (layer, "weight", CS_PARAM_WEIGHT, &self->weight, &self->dweight, in, out);
  if (self->has_bias)
    {
      self->bias = self->dbias = cs_tensor_view (NULL, 1, &out);
      cs_layer_add_param (layer, "bias", CS_PARAM_BIAS, &self->bias, &self->dbias, in, out);
    }
  return TRUE;
}

static void
linear_forward (CsLayer *layer, CsTensor *out, const CsTensor *inp, gboolean train)
{
  CsLinear *self = (CsLinear *) layer;
  const CsBackend *be = layer->be;
  int N = (int) inp->shape[0], I = self->in_features, O = self->out_features;

  /* out (N, O) = inp (N, I) · Wᵀ (I, O) */
  be->gemm (FALSE, TRUE, N, O, I, 1.0f, inp->data, I, self->weight.data, I,
            0.0f, out->data, O);
  if (self->has_bias)
    be->bias_add (out->data, self->bias.data, N, O, 1);
}

static void
linear_backward (CsLayer *layer, CsTensor *dinp, const CsTensor *dout,
                 const CsTensor *inp, const CsTensor *out)
{
  CsLinear *self = (CsLinear *) layer;
  const CsBackend *be = layer->be;
  int N = (int) inp->shape[0], I = self->in_features, O = self->out_features;

  /* dW (O, I) += doutᵀ (O, N) · inp (N, I) */
  be->gemm (TRUE, FALSE, O, I, N, 1.0f, dout->data, O, inp->data, I,
            1.0f, self->dweight.data, I);
  if (self->has_bias)
    be->bias_grad (self->dbias.data, dout->data, N, O, 1);
  /* dinp (N, I) = dout (N, O) · W (O, I) */
  if (dinp != NULL)
    be->gemm (FALSE, FALSE, N, I, O, 1.0f, dout->data, O, self->weight.data, I,
              0.0f, dinp->data, I);
}

static const char *const cs_linear_keys[] = { "in_features", "out_features", "bias", NULL };

const CsLayerClass cs_linear_class = {
  .type = "linear",
  .title = "Linear",
  .keys = cs_linear_keys,
  .instance_size = sizeof (CsLinear),
  .build = linear_build,
  .forward = linear_forward,
  .backward = linear_backward,
};
