/* flatten.c — (N, C, H, W) → (N, C·H·W): a view, no copy
 *
 * The model gives a flatten layer the same memory for its input and its
 * output (and for their gradients), so forward and backward only copy when
 * asked to work on separate buffers.
 */
#include "layers-private.h"

static gboolean
flatten_build (CsLayer *layer, JsonObject *desc, GError **error)
{
  layer->out_shape = (CsShape) { 1, { cs_shape_numel (&layer->in_shape) } };
  return TRUE;
}

static void
flatten_forward (CsLayer *layer, CsTensor *out, const CsTensor *inp, gboolean train)
{
  if (out->data != inp->data)
    layer->be->copy (out->data, inp->data, (gsize) cs_tensor_numel (inp));
}

static void
flatten_backward (CsLayer *layer, CsTensor *dinp, const CsTensor *dout,
                  const CsTensor *inp, const CsTensor *out)
{
  if (dinp != NULL && dinp->data != dout->data)
    layer->be->copy (dinp->data, dout->data, (gsize) cs_tensor_numel (dout));
}

const CsLayerClass cs_flatten_class = {
  .type = "flatten",
  .title = "Flatten",
  .instance_size = sizeof (CsLayer),
  .build = flatten_build,
  .forward = flatten_forward,
  .backward = flatten_backward,
  .is_view = TRUE,
};
