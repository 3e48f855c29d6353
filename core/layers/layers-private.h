/* layers-private.h — the layer kinds, for the registry and for composition */
#pragma once

#include "../layer.h"

G_BEGIN_DECLS

extern const CsLayerClass cs_linear_class;
extern const CsLayerClass cs_conv2d_class;
extern const CsLayerClass cs_maxpool2d_class;
extern const CsLayerClass cs_avgpool2d_class;
extern const CsLayerClass cs_relu_class;
extern const CsLayerClass cs_leaky_relu_class;
extern const CsLayerClass cs_sigmoid_class;
extern const CsLayerClass cs_tanh_class;
extern const CsLayerClass cs_softmax_class;
extern const CsLayerClass cs_flatten_class;
extern const CsLayerClass cs_batchnorm2d_class;
extern const CsLayerClass cs_dropout_class;
extern const CsLayerClass cs_residual_class;

/* MaxPool2d's winners of the last forward, (N, C, OH, OW): the index h·W + w
 * of each window's winner in its input plane (the worked example shows it). */
const gint32 *_cs_pool2d_get_argmax (CsLayer *layer);

G_END_DECLS
