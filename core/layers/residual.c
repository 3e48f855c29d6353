/* residual.c — the residual block of ResNet
 *
 *   out = bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)
 *
 * conv1 is 3×3 with the block's stride, conv2 3×3 with stride 1, both
 * padding 1 and without bias (BatchNorm follows). The shortcut is the
 * identity, or a 1×1 convolution (no bias) when the stride or the number of
 * channels changes. No ReLU after the sum: the model description puts one
 * after the block, where a student can see it. Parameter names follow a
 * PyTorch module with children conv1, bn1, conv2, bn2, shortcut.
 */
#include "layers-private.h"

enum { CONV1, BN1, RELU, CONV2, BN2, N_MAIN };

typedef struct
{
  CsLayer parent;
  CsLayer *main[N_MAIN];
  CsLayer *shortcut;       /* NULL: identity */
  float *act[N_MAIN];      /* (N, mid): the output of each main child */
  float *short_out;        /* (N, out): the shortcut's output */
  float *grad[2];          /* (N, mid): gradients, used in turn */
  float *dx_short;         /* (N, in): the input gradient through the shortcut */
  int reserved;
} CsResidual;

static JsonObject *
conv_desc (gint64 cin, gint64 cout, gint64 k, gint64 stride, gint64 pad)
{
  JsonObject *o = json_object_new ();
  json_object_set_string_member (o, "type", "conv2d");
  json_object_set_int_member (o, "in_channels", cin);
  json_object_set_int_member (o, "out_channels", cout);
  json_object_set_int_member (o, "kernel_size", k);
  json_object_set_int_member (o, "stride", stride);
  json_object_set_int_member (o, "padding", pad);
  json_object_set_boolean_member (o, "bias", FALSE);
  return o;
}

static JsonObject *
simple_desc (const char *type, gint64 features)
{
  JsonObject *o = json_object_new ();
  json_object_set_string_member (o, "type", type);
  if (features > 0)
    json_object_set_int_member (o, "num_features", features);
  return o;
}

static gboolean
residual_build (CsLayer *layer, JsonObject *desc, GError **error)
{
  CsResidual *self = (CsResidual *) layer;
  gint64 cin, cout, stride;

  if (!cs_layer_expect_image (layer, error)
      || !cs_layer_get_int (layer, desc, "in_channels", -1, 1, &cin, error)
      || !cs_layer_get_int (layer, desc, "out_channels", -1, 1, &cout, error)
      || !cs_layer_get_int (layer, desc, "stride", 1, 1, &stride, error))
    return FALSE;
  if (cin != layer->in_shape.d[0])
    {
      cs_layer_set_error (layer, error, "expects %" G_GINT64_FORMAT " input channels but "
                          "the layer before gives %" G_GINT64_FORMAT, cin, layer->in_shape.d[0]);
      return FALSE;
    }

  g_autoptr(JsonObject) d_conv1 = conv_desc (cin, cout, 3, stride, 1);
  g_autoptr(JsonObject) d_bn = simple_desc ("batchnorm2d", cout);
  g_autoptr(JsonObject) d_relu = simple_desc ("relu", 0);
  g_autoptr(JsonObject) d_conv2 = conv_desc (cout, cout, 3, 1, 1);
  JsonObject *descs[N_MAIN] = { d_conv1, d_bn, d_relu, d_conv2, d_bn };
  static const char *const names[N_MAIN] = { "conv1", "bn1", NULL, "conv2", "bn2" };

  CsShape shape = layer->in_shape;
  for (int i = 0; i < N_MAIN; i++)
    {
      self->main[i] = cs_layer_new (descs[i], &shape, layer->index, error);
      if (self->main[i] == NULL)
        return FALSE;
      shape = self->main[i]->out_shape;
      if (names[i] != NULL)
        cs_layer_adopt_params (layer, self->main[i], names[i]);
    }
  layer->out_shape = shape;

  if (stride != 1 || cin != cout)
    {
      g_autoptr(JsonObject) d_short = conv_desc (cin, cout, 1, stride, 0);
      self->shortcut = cs_layer_new (d_short, &layer->in_shape, layer->index, error);
      if (self->shortcut == NULL)
        return FALSE;
      g_assert (cs_shape_equal (&self->shortcut->out_shape, &shape));
      cs_layer_adopt_params (layer, self->shortcut, "shortcut");
    }
  return TRUE;
}

static void
residual_reserve (CsLayer *layer, int max_batch)
{
  CsResidual *self = (CsResidual *) layer;
  gsize mid = sizeof (float) * max_batch * cs_shape_numel (&layer->out_shape);
  gsize in = sizeof (float) * max_batch * cs_shape_numel (&layer->in_shape);

  /* The children's scratch lives on the block's device too. */
  for (int i = 0; i < N_MAIN; i++)
    {
      self->main[i]->be = layer->be;
      if (self->main[i]->klass->reserve)
        self->main[i]->klass->reserve (self->main[i], max_batch);
      cs_layer_alloc_scratch (layer, &self->act[i], mid);
    }
  for (int i = 0; i < 2; i++)
    cs_layer_alloc_scratch (layer, &self->grad[i], mid);
  if (self->shortcut != NULL)
    {
      self->shortcut->be = layer->be;
      self->shortcut->klass->reserve (self->shortcut, max_batch);
      cs_layer_alloc_scratch (layer, &self->short_out, mid);
      cs_layer_alloc_scratch (layer, &self->dx_short, in);
    }
  self->reserved = max_batch;
}

static void
residual_forward (CsLayer *layer, CsTensor *out, const CsTensor *inp, gboolean train)
{
  CsResidual *self = (CsResidual *) layer;
  gint64 N = inp->shape[0];
  const CsTensor *x = inp;
  CsTensor t[N_MAIN];

  g_assert (N <= self->reserved);
  for (int i = 0; i < N_MAIN; i++)
    {
      self->main[i]->be = layer->be;
      t[i] = cs_tensor_view_batch (self->act[i], N, &self->main[i]->out_shape);
      self->main[i]->klass->forward (self->main[i], &t[i], x, train);
      x = &t[i];
    }

  gsize n = (gsize) cs_tensor_numel (out);
  if (self->shortcut != NULL)
    {
      CsTensor s = cs_tensor_view_batch (self->short_out, N, &layer->out_shape);
      self->shortcut->be = layer->be;
      self->shortcut->klass->forward (self->shortcut, &s, inp, train);
      layer->be->add (out->data, t[BN2].data, s.data, n);
    }
  else
    layer->be->add (out->data, t[BN2].data, inp->data, n);
}

static void
residual_backward (CsLayer *layer, CsTensor *dinp, const CsTensor *dout,
                   const CsTensor *inp, const CsTensor *out)
{
  CsResidual *self = (CsResidual *) layer;
  const CsBackend *be = layer->be;
  gint64 N = inp->shape[0];

  /* The sum passes dout unchanged to both branches. Main branch, backwards:
   * dout → bn2 → conv2 → relu → bn1 → conv1 → dinp. */
  const CsTensor *g = dout;
  CsTensor buf[2];
  for (int i = N_MAIN - 1; i >= 0; i--)
    {
      CsLayer *child = self->main[i];
      CsTensor act_out = cs_tensor_view_batch (self->act[i], N, &child->out_shape);
      CsTensor act_in = i > 0 ? cs_tensor_view_batch (self->act[i - 1], N, &child->in_shape)
                              : *inp;
      CsTensor *dst = NULL;
      if (i > 0)
        {
          buf[i % 2] = cs_tensor_view_batch (self->grad[i % 2], N, &child->in_shape);
          dst = &buf[i % 2];
        }
      else
        dst = dinp;
      child->klass->backward (child, dst, g, &act_in, &act_out);
      g = dst;
    }

  gsize n_in = (gsize) cs_tensor_numel (inp);
  if (self->shortcut != NULL)
    {
      CsTensor s = cs_tensor_view_batch (self->short_out, N, &layer->out_shape);
      CsTensor dxs = cs_tensor_view_batch (self->dx_short, N, &layer->in_shape);
      self->shortcut->klass->backward (self->shortcut, dinp ? &dxs : NULL, dout, inp, &s);
      if (dinp != NULL)
        be->axpy (dinp->data, 1.0f, dxs.data, n_in);
    }
  else if (dinp != NULL)
    be->axpy (dinp->data, 1.0f, dout->data, n_in);
}

static void
residual_finalize (CsLayer *layer)
{
  CsResidual *self = (CsResidual *) layer;
  /* Their scratch and ours go with cs_layer_free (). */
  for (int i = 0; i < N_MAIN; i++)
    g_clear_pointer (&self->main[i], cs_layer_free);
  g_clear_pointer (&self->shortcut, cs_layer_free);
}

static const char *const cs_residual_keys[] = { "in_channels", "out_channels", "stride", NULL };

const CsLayerClass cs_residual_class = {
  .type = "residual",
  .title = "Residual block",
  .keys = cs_residual_keys,
  .instance_size = sizeof (CsResidual),
  .build = residual_build,
  .reserve = residual_reserve,
  .forward = residual_forward,
  .backward = residual_backward,
  .finalize = residual_finalize,
};
