/* softmax.c — Softmax over the features of each example: y = e^x / Σ e^x
 *
 * For showing probabilities inside a model. Training with cross-entropy
 * takes logits: the loss applies its own, fused softmax.
 */
#include "layers-private.h"

static gboolean
softmax_build (CsLayer *layer, JsonObject *desc, GError **error)
{
  if (layer->in_shape.ndim != 1)
    {
      g_autofree char *got = cs_shape_to_string (&layer->in_shape);
      cs_layer_set_error (layer, error, "works on a vector of features but receives %s; "
                          "add a flatten layer before it", got);
      return FALSE;
    }
  layer->out_shape = layer->in_shape;
  return TRUE;
}

static void
softmax_forward (CsLayer *layer, CsTensor *out, const CsTensor *inp, gboolean train)
{
  layer->be->softmax_forward (out->data, inp->data, (int) inp->shape[0], (int) inp->shape[1]);
}

static void
softmax_backward (CsLayer *layer, CsTensor *dinp, const CsTensor *dout,
                  const CsTensor *inp, const CsTensor *out)
{
  if (dinp != NULL)
    layer->be->softmax_backward (dinp->data, dout->data, out->data,
                                 (int) inp->shape[0], (int) inp->shape[1]);
}

const CsLayerClass cs_softmax_class = {
  .type = "softmax",
  .title = "Softmax",
  .instance_size = sizeof (CsLayer),
  .build = softmax_build,
  .forward = softmax_forward,
  .backward = softmax_backward,
};
