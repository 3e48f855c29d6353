/* conv2d.c — 2-d convolution (cross-correlation, as PyTorch's Conv2d)
 *
 *   out[n, co, oh, ow] = b[co] + Σ_{ci, i, j} W[co, ci, i, j] ·
 *                        inp[n, ci, oh·sh − ph + i·dh, ow·sw − pw + j·dw]
 *
 * as a GEMM: the input is unrolled into columns (im2col), cols
 * (C_in·kh·kw, OH·OW) per image, and W (C_out, C_in·kh·kw) multiplies them.
 * The backend's conv_forward and conv_backward do it (backend.h): the CPU
 * image by image, the reference and CUDA for the whole batch at once.
 *
 * JSON: in_channels, out_channels, kernel_size, stride, padding, dilation
 * (a number or [h, w]); "bias": true (default), false, or fixed initial
 * values [b₀, …] as "weight" fixes the kernel's.
 */
#include "layers-private.h"

typedef struct
{
  CsLayer parent;
  CsSlidingWindow g;
  int out_channels;
  gboolean has_bias;
  CsTensor weight, dweight;  /* (C_out, C_in, kh, kw) */
  CsTensor bias, dbias;      /* (C_out) */
  float *scratch;            /* the backend's conv_scratch () */
  int reserved;
} CsConv2d;

static gboolean
conv2d_build (CsLayer *layer, JsonObject *desc, GError **error)
{
  CsConv2d *self = (CsConv2d *) layer;
  gint64 cin, cout, k[2], s[2], p[2], d[2];
  g_autofree float *fixed_bias = NULL;

  if (!cs_layer_expect_image (layer, error)
      || !cs_layer_get_int (layer, desc, "in_channels", -1, 1, &cin, error)
      || !cs_layer_get_int (layer, desc, "out_channels", -1, 1, &cout, error)
      || !cs_layer_get_pair (layer, desc, "kernel_size", -1, 1, k, error)
      || !cs_layer_get_pair (layer, desc, "stride", 1, 1, s, error)
      || !cs_layer_get_pair (layer, desc, "padding", 0, 0, p, error)
      || !cs_layer_get_pair (layer, desc, "dilation", 1, 1, d, error)
      || !cs_layer_get_bias (layer, desc, cout, &self->has_bias, &fixed_bias, error))
    return FALSE;

  if (layer->in_shape.d[0] != cin)
    {
      cs_layer_set_error (layer, error, "expects %" G_GINT64_FORMAT " input channels "
                          "but the layer before gives %" G_GINT64_FORMAT,
                          cin, layer->in_shape.d[0]);
      return FALSE;
    }

  CsSlidingWindow *g = &self->g;
  *g = (CsSlidingWindow) {
    .C = (int) cin, .H = (int) layer->in_shape.d[1], .W = (int) layer->in_shape.d[2],
    .kh = (int) k[0], .kw = (int) k[1], .sh = (int) s[0], .sw = (int) s[1],
    .ph = (int) p[0], .pw = (int) p[1], .dh = (int) d[0], .dw = (int) d[1],
  };
  g->OH = cs_window_out_size (g->H, g->kh, g->sh, g->ph, g->dh);
  g->OW = cs_window_out_size (g->W, g->kw, g->sw, g->pw, g->dw);
  if (g->OH <= 0 || g->OW <= 0)
    {
      cs_layer_set_error (layer, error, "a %d×%d kernel (dilation %d×%d) does not fit "
                          "in the %d×%d input with padding %d×%d",
                          g->kh, g->kw, g->dh, g->dw, g->H, g->W, g->ph, g->pw);
      return FALSE;
    }

  self->out_channels = (int) cout;
  layer->out_shape = (CsShape) { 3, { cout, g->OH, g->OW } };

  gint64 fan_in = cin * k[0] * k[1], fan_out = cout * k[0] * k[1];
  gint64 wshape[4] = { cout, cin, k[0], k[1] };
  self->weight = self->dweight = cs_tensor_view (NULL, 4, wshape);
  cs_layer_add_param (layer, "weight", CS_PARAM_WEIGHT, &self->weight, &self->dweight,
                      fan_in, fan_out);
  if (self->has_bias)
    {
      self->bias = self->dbias = cs_tensor_view (NULL, 1, &cout);
      cs_layer_add_param (layer, "bias", CS_PARAM_BIAS, &self->bias, &self->dbias,
                          fan_in, fan_out);
      /* "bias": [0.5]: fixed initial values, as "weight" gives the kernel's */
      g_array_index (layer->params, CsParam, layer->params->len - 1).fixed =
        g_steal_pointer (&fixed_bias);
    }
  return TRUE;
}

static void
conv2d_reserve (CsLayer *layer, int max_batch)
{
  CsConv2d *self = (CsConv2d *) layer;
  gsize floats = layer->be->conv_scratch (max_batch, self->out_channels, &self->g);

  cs_layer_alloc_scratch (layer, &self->scratch, sizeof (float) * floats);
  self->reserved = max_batch;
}

static void
conv2d_forward (CsLayer *layer, CsTensor *out, const CsTensor *inp, gboolean train)
{
  CsConv2d *self = (CsConv2d *) layer;
  int N = (int) inp->shape[0];

  g_assert (N <= self->reserved);
  /* out (N, C_out, OH, OW) = W (C_out, C_in·kh·kw) ⊛ inp (N, C_in, H, W) + b */
  layer->be->conv_forward (out->data, self->scratch, inp->data, self->weight.data,
                           self->has_bias ? self->bias.data : NULL, N,
                           self->out_channels, &self->g);
}

static void
conv2d_backward (CsLayer *layer, CsTensor *dinp, const CsTensor *dout,
                 const CsTensor *inp, const CsTensor *out)
{
  CsConv2d *self = (CsConv2d *) layer;
  int N = (int) inp->shape[0];

  /* scratch still holds what this batch's forward left there. */
  layer->be->conv_backward (dinp != NULL ? dinp->data : NULL, self->dweight.data,
                            self->has_bias ? self->dbias.data : NULL, self->scratch,
                            dout->data, inp->data, self->weight.data, N,
                            self->out_channels, &self->g);
}

static const char *const cs_conv2d_keys[] = { "in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "bias", NULL };

const CsLayerClass cs_conv2d_class = {
  .type = "conv2d",
  .title = "Conv2d",
  .keys = cs_conv2d_keys,
  .instance_size = sizeof (CsConv2d),
  .build = conv2d_build,
  .reserve = conv2d_reserve,
  .forward = conv2d_forward,
  .backward = conv2d_backward,
};
