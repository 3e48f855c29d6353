/* batchnorm2d.c — BatchNorm2d: per-channel normalisation
 *
 * Training: y = (x − μ_B)/√(σ²_B + ε)·γ + β with the batch's statistics,
 * and the running ones follow: r ← (1 − m)·r + m·(batch value), the variance
 * unbiased. Evaluation: the running statistics instead.
 */
#include "layers-private.h"

typedef struct
{
  CsLayer parent;
  int C;
  float eps, momentum;
  CsTensor weight, dweight;  /* γ (C) */
  CsTensor bias, dbias;      /* β (C) */
  CsTensor running_mean, running_var;
  gint64 num_batches_tracked;
  gboolean last_train;             /* the last forward used batch statistics */
  float *save_mean, *save_invstd;  /* (C), the statistics of the last forward */
} CsBatchNorm2d;

static gboolean
batchnorm2d_build (CsLayer *layer, JsonObject *desc, GError **error)
{
  CsBatchNorm2d *self = (CsBatchNorm2d *) layer;
  gint64 c;
  double eps, momentum;

  if (!cs_layer_expect_image (layer, error)
      || !cs_layer_get_int (layer, desc, "num_features", -1, 1, &c, error)
      || !cs_layer_get_float (layer, desc, "eps", 1e-5, 1e-12, 1.0, &eps, error)
      || !cs_layer_get_float (layer, desc, "momentum", 0.1, 0.0, 1.0, &momentum, error))
    return FALSE;
  if (c != layer->in_shape.d[0])
    {
      cs_layer_set_error (layer, error, "normalises %" G_GINT64_FORMAT " channels but the "
                          "layer before gives %" G_GINT64_FORMAT, c, layer->in_shape.d[0]);
      return FALSE;
    }

  self->C = (int) c;
  self->eps = (float) eps;
  self->momentum = (float) momentum;
  layer->out_shape = layer->in_shape;

  self->weight = self->dweight = self->bias = self->dbias = cs_tensor_view (NULL, 1, &c);
  self->running_mean = self->running_var = cs_tensor_view (NULL, 1, &c);
  cs_layer_add_param (layer, "weight", CS_PARAM_ONES, &self->weight, &self->dweight, c, c);
  cs_layer_add_param (layer, "bias", CS_PARAM_ZEROS, &self->bias, &self->dbias, c, c);
  cs_layer_add_param (layer, "running_mean", CS_BUFFER_ZEROS, &self->running_mean, NULL, c, c);
  cs_layer_add_param (layer, "running_var", CS_BUFFER_ONES, &self->running_var, NULL, c, c);
  cs_layer_add_counter (layer, "num_batches_tracked", &self->num_batches_tracked);
  return TRUE;
}

static void
batchnorm2d_reserve (CsLayer *layer, int max_batch)
{
  CsBatchNorm2d *self = (CsBatchNorm2d *) layer;
  cs_layer_alloc_scratch (layer, &self->save_mean, sizeof (float) * self->C);
  cs_layer_alloc_scratch (layer, &self->save_invstd, sizeof (float) * self->C);
}

static void
batchnorm2d_forward (CsLayer *layer, CsTensor *out, const CsTensor *inp, gboolean train)
{
  CsBatchNorm2d *self = (CsBatchNorm2d *) layer;
  int N = (int) inp->shape[0];
  int HW = (int) (inp->shape[2] * inp->shape[3]);

  layer->be->batchnorm_forward (out->data, self->save_mean, self->save_invstd,
                                self->running_mean.data, self->running_var.data,
                                inp->data, self->weight.data, self->bias.data,
                                N, self->C, HW, self->eps, self->momentum, train);
  self->last_train = train;
  if (train)
    self->num_batches_tracked++;
}

static void
batchnorm2d_backward (CsLayer *layer, CsTensor *dinp, const CsTensor *dout,
                      const CsTensor *inp, const CsTensor *out)
{
  CsBatchNorm2d *self = (CsBatchNorm2d *) layer;
  int N = (int) inp->shape[0];
  int HW = (int) (inp->shape[2] * inp->shape[3]);

  layer->be->batchnorm_backward (dinp ? dinp->data : NULL, self->dweight.data, self->dbias.data,
                                 dout->data, inp->data, self->save_mean, self->save_invstd,
                                 self->weight.data, N, self->C, HW, self->last_train);
}

static const char *const cs_batchnorm2d_keys[] = { "num_features", "eps", "momentum", NULL };

const CsLayerClass cs_batchnorm2d_class = {
  .type = "batchnorm2d",
  .title = "BatchNorm2d",
  .keys = cs_batchnorm2d_keys,
  .instance_size = sizeof (CsBatchNorm2d),
  .build = batchnorm2d_build,
  .reserve = batchnorm2d_reserve,
  .forward = batchnorm2d_forward,
  .backward = batchnorm2d_backward,
};
