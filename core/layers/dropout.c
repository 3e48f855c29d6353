/* dropout.c — Dropout: in training, zero each value with probability p and
 * scale the rest by 1/(1 − p); in evaluation, pass everything through.
 *
 * The mask is a hash of (the layer's seed, the model's step, the position),
 * so a run is reproducible and a batch gets the same mask however often it
 * is evaluated before the optimizer steps (finite differences rely on it).
 */
#include "layers-private.h"

typedef struct
{
  CsLayer parent;
  float p;
  gboolean last_train;
  float *mask;  /* (N, in_shape) */
} CsDropout;

static gboolean
dropout_build (CsLayer *layer, JsonObject *desc, GError **error)
{
  CsDropout *self = (CsDropout *) layer;
  double p;

  if (!cs_layer_get_float (layer, desc, "p", 0.5, 0.0, 0.999, &p, error))
    return FALSE;
  self->p = (float) p;
  layer->out_shape = layer->in_shape;
  return TRUE;
}

static void
dropout_reserve (CsLayer *layer, int max_batch)
{
  CsDropout *self = (CsDropout *) layer;
  cs_layer_alloc_scratch (layer, &self->mask,
                          sizeof (float) * max_batch * cs_shape_numel (&layer->in_shape));
}

static void
dropout_forward (CsLayer *layer, CsTensor *out, const CsTensor *inp, gboolean train)
{
  CsDropout *self = (CsDropout *) layer;
  gsize n = (gsize) cs_tensor_numel (inp);

  self->last_train = train;
  if (!train || self->p == 0.0f)
    {
      layer->be->copy (out->data, inp->data, n);
      return;
    }
  guint64 step = layer->step ? (guint64) *layer->step : 0;
  guint64 seed = ((guint64) cs_dropout_hash (layer->seed, step) << 32)
                 | cs_dropout_hash (~layer->seed, step);
  layer->be->dropout_forward (out->data, self->mask, inp->data, n, self->p, seed);
}

static void
dropout_backward (CsLayer *layer, CsTensor *dinp, const CsTensor *dout,
                  const CsTensor *inp, const CsTensor *out)
{
  CsDropout *self = (CsDropout *) layer;
  gsize n = (gsize) cs_tensor_numel (inp);

  if (dinp == NULL)
    return;
  if (!self->last_train || self->p == 0.0f)
    layer->be->copy (dinp->data, dout->data, n);
  else
    layer->be->mul (dinp->data, dout->data, self->mask, n);
}

static const char *const cs_dropout_keys[] = { "p", NULL };

const CsLayerClass cs_dropout_class = {
  .type = "dropout",
  .title = "Dropout",
  .keys = cs_dropout_keys,
  .instance_size = sizeof (CsDropout),
  .build = dropout_build,
  .reserve = dropout_reserve,
  .forward = dropout_forward,
  .backward = dropout_backward,
};
