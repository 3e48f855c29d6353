/* pool2d.c — MaxPool2d and AvgPool2d, PyTorch semantics
 *
 * Output size ⌊(H + 2p − k)/s⌋ + 1 (no ceil mode), stride defaults to the
 * kernel, padding at most half the kernel. Max pooling never picks a padding
 * cell and remembers its winner for the backward pass; average pooling
 * counts the padding in its divisor (count_include_pad, PyTorch's default).
 * So MaxPool2d(2, 2, padding=1) over a 3×3 map gives 2×2.
 */
#include "layers-private.h"

typedef struct
{
  CsLayer parent;
  CsPoolKind kind;
  CsSlidingWindow g;
  gint32 *argmax;  /* (N, C, OH, OW): index of each window's winner */
} CsPool2d;

static gboolean
pool2d_build (CsLayer *layer, JsonObject *desc, GError **error)
{
  CsPool2d *self = (CsPool2d *) layer;
  gint64 k[2], s[2], p[2];

  self->kind = layer->klass == &cs_maxpool2d_class ? CS_POOL_MAX : CS_POOL_AVG;
  if (!cs_layer_expect_image (layer, error)
      || !cs_layer_get_pair (layer, desc, "kernel_size", -1, 1, k, error))
    return FALSE;
  if (!cs_layer_get_pair (layer, desc, "stride", k[0], 1, s, error))
    return FALSE;
  if (!json_object_has_member (desc, "stride"))
    s[1] = k[1];
  if (!cs_layer_get_pair (layer, desc, "padding", 0, 0, p, error))
    return FALSE;

  for (int i = 0; i < 2; i++)
    if (2 * p[i] > k[i])
      {
        cs_layer_set_error (layer, error, "padding %" G_GINT64_FORMAT " is more than half "
                            "the kernel size %" G_GINT64_FORMAT " (PyTorch refuses it too)",
                            p[i], k[i]);
        return FALSE;
      }

  CsSlidingWindow *g = &self->g;
  *g = (CsSlidingWindow) {
    .C = (int) layer->in_shape.d[0], .H = (int) layer->in_shape.d[1],
    .W = (int) layer->in_shape.d[2],
    .kh = (int) k[0], .kw = (int) k[1], .sh = (int) s[0], .sw = (int) s[1],
    .ph = (int) p[0], .pw = (int) p[1], .dh = 1, .dw = 1,
  };
  g->OH = cs_window_out_size (g->H, g->kh, g->sh, g->ph, 1);
  g->OW = cs_window_out_size (g->W, g->kw, g->sw, g->pw, 1);
  if (g->OH <= 0 || g->OW <= 0)
    {
      cs_layer_set_error (layer, error, "a %d×%d window does not fit in the %d×%d input",
                          g->kh, g->kw, g->H, g->W);
      return FALSE;
    }
  layer->out_shape = (CsShape) { 3, { g->C, g->OH, g->OW } };
  return TRUE;
}

static void
pool2d_reserve (CsLayer *layer, int max_batch)
{
  CsPool2d *self = (CsPool2d *) layer;
  if (self->kind == CS_POOL_MAX)
    cs_layer_alloc_scratch (layer, &self->argmax,
                            sizeof (gint32) * max_batch * cs_shape_numel (&layer->out_shape));
}

static void
pool2d_forward (CsLayer *layer, CsTensor *out, const CsTensor *inp, gboolean train)
{
  CsPool2d *self = (CsPool2d *) layer;
  int planes = (int) (inp->shape[0] * self->g.C);
  layer->be->pool_forward (out->data, self->argmax, inp->data, planes, &self->g, self->kind);
}

static void
pool2d_backward (CsLayer *layer, CsTensor *dinp, const CsTensor *dout,
                 const CsTensor *inp, const CsTensor *out)
{
  CsPool2d *self = (CsPool2d *) layer;
  int planes = (int) (inp->shape[0] * self->g.C);
  if (dinp != NULL)
    layer->be->pool_backward (dinp->data, dout->data, self->argmax, planes, &self->g,
                              self->kind);
}

const gint32 *
_cs_pool2d_get_argmax (CsLayer *layer)
{
  g_return_val_if_fail (layer->klass == &cs_maxpool2d_class, NULL);
  return ((CsPool2d *) layer)->argmax;
}

static const char *const pool2d_keys[] = { "kernel_size", "stride", "padding", NULL };

const CsLayerClass cs_maxpool2d_class = {
  .type = "maxpool2d",
  .title = "MaxPool2d",
  .keys = pool2d_keys,
  .instance_size = sizeof (CsPool2d),
  .build = pool2d_build,
  .reserve = pool2d_reserve,
  .forward = pool2d_forward,
  .backward = pool2d_backward,
};

const CsLayerClass cs_avgpool2d_class = {
  .type = "avgpool2d",
  .title = "AvgPool2d",
  .keys = pool2d_keys,
  .instance_size = sizeof (CsPool2d),
  .build = pool2d_build,
  .reserve = pool2d_reserve,
  .forward = pool2d_forward,
  .backward = pool2d_backward,
};
