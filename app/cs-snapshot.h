/* cs-snapshot.h — a self-contained copy of what the views draw
 *
 * A CsSnapshot is taken from a CsModel after a forward pass (and, for the
 * gradients, after a backward pass): the model's name and layer list, one
 * example's input and every layer's activation, the parameters, and
 * optionally the activation and parameter gradients. It copies all of them,
 * so the model may train on while a view draws the snapshot, and it is
 * immutable once shared and reference counted atomically, so a trainer
 * thread can hand it to the main loop (DESIGN.md §2: only the newest
 * snapshot is kept; a stale one is dropped by its generation number).
 *
 * Activations are indexed as the model's: i = 0 is the input, i = k the
 * output of layer k − 1, n_layers the output. Shapes are of one example,
 * without the batch dimension.
 */
#pragma once

#include <glib-object.h>

#include "core/model.h"

G_BEGIN_DECLS

typedef enum
{
  /* The input and every layer's output for the example. */
  CS_SNAPSHOT_ACTIVATIONS    = 1 << 0,
  /* Every trainable parameter (weights, biases, BatchNorm's γ and β): one
   * copy of the model's parameter block. */
  CS_SNAPSHOT_PARAMS         = 1 << 1,
  /* d loss / d activation i for the example, i ≥ 1 (after a backward). */
  CS_SNAPSHOT_GRADIENTS      = 1 << 2,
  /* d loss / d input as well: only when the model computed it
   * (cs_model_set_input_grad (model, TRUE) before the backward). */
  CS_SNAPSHOT_INPUT_GRADIENT = 1 << 3,
  /* The parameters' gradients, summed over the batch as the optimizer
   * sees them (after a backward). */
  CS_SNAPSHOT_PARAM_GRADS    = 1 << 4,
  /* The optimizer's two floats per parameter (Adam's m and v, SGD's
   * momentum buffer in the first), as the model's block holds them. */
  CS_SNAPSHOT_OPTIM_STATE    = 1 << 5,

  /* What the Network view draws after a forward pass. */
  CS_SNAPSHOT_FORWARD        = CS_SNAPSHOT_ACTIVATIONS | CS_SNAPSHOT_PARAMS,
  /* … and after a backward pass (issue 5's streamed snapshots). */
  CS_SNAPSHOT_ALL            = 0x1f,
  /* … and the optimizer's state too. */
  CS_SNAPSHOT_EVERYTHING     = 0x3f,
} CsSnapshotFlags;

typedef struct _CsSnapshot CsSnapshot;

#define CS_TYPE_SNAPSHOT (cs_snapshot_get_type ())
GType            cs_snapshot_get_type             (void) G_GNUC_CONST;

/* example: the index in the batch of the model's last forward. */
CsSnapshot      *cs_snapshot_new                  (CsModel         *model,
                                                   guint            example,
                                                   CsSnapshotFlags  what);
CsSnapshot      *cs_snapshot_ref                  (CsSnapshot      *snapshot);
void             cs_snapshot_unref                (CsSnapshot      *snapshot);

/* Set by whoever takes the snapshot, before it is shared. */
void             cs_snapshot_set_label            (CsSnapshot      *snapshot,
                                                   int              label);
void             cs_snapshot_set_generation       (CsSnapshot      *snapshot,
                                                   guint64          generation);

CsSnapshotFlags  cs_snapshot_get_flags            (CsSnapshot      *snapshot);
const char      *cs_snapshot_get_name             (CsSnapshot      *snapshot);
const char      *cs_snapshot_get_title            (CsSnapshot      *snapshot);
guint            cs_snapshot_get_example          (CsSnapshot      *snapshot);
/* The true class of the example, or −1 when not known. */
int              cs_snapshot_get_label            (CsSnapshot      *snapshot);
guint64          cs_snapshot_get_generation       (CsSnapshot      *snapshot);
/* The model's optimizer steps when the snapshot was taken. */
gint64           cs_snapshot_get_step             (CsSnapshot      *snapshot);

/* The layers: JSON type ("conv2d"), title ("Conv2d"), a PyTorch-style
 * description ("Conv2d(in_channels=1, out_channels=32, kernel_size=3,
 * padding=1)"), and the shapes of one example in and out. */
guint            cs_snapshot_get_n_layers         (CsSnapshot      *snapshot);
const char      *cs_snapshot_get_layer_type       (CsSnapshot      *snapshot,
                                                   guint            layer);
const char      *cs_snapshot_get_layer_title      (CsSnapshot      *snapshot,
                                                   guint            layer);
const char      *cs_snapshot_get_layer_description (CsSnapshot     *snapshot,
                                                   guint            layer);
const CsShape   *cs_snapshot_get_layer_in_shape   (CsSnapshot      *snapshot,
                                                   guint            layer);
const CsShape   *cs_snapshot_get_layer_out_shape  (CsSnapshot      *snapshot,
                                                   guint            layer);

/* Activation i, 0 ≤ i ≤ n_layers: its shape, and its values (or NULL when
 * the snapshot has none); the gradient likewise. */
const CsShape   *cs_snapshot_get_shape            (CsSnapshot      *snapshot,
                                                   guint            i);
const float     *cs_snapshot_get_activation       (CsSnapshot      *snapshot,
                                                   guint            i);
const float     *cs_snapshot_get_activation_grad  (CsSnapshot      *snapshot,
                                                   guint            i);
gboolean         cs_snapshot_has_gradients        (CsSnapshot      *snapshot);

/* A classifier's output (a 1-d last activation): the logits, and the
 * softmax probabilities (computed here, or the model's own when its last
 * layer is a softmax). NULL and 0 for other models. */
guint            cs_snapshot_get_n_classes        (CsSnapshot      *snapshot);
const float     *cs_snapshot_get_logits           (CsSnapshot      *snapshot);
const float     *cs_snapshot_get_probabilities    (CsSnapshot      *snapshot);
/* The class with the largest logit, or −1. */
int              cs_snapshot_get_prediction       (CsSnapshot      *snapshot);

/* A parameter by its state-dict name ("1.weight", "3.conv1.weight"), or by
 * layer and the layer's own name for it ("weight"); NULL when the snapshot
 * does not carry it. The tensor's shape is PyTorch's: (out, in) for a
 * linear weight, (C_out, C_in, kh, kw) for a kernel. */
const CsTensor  *cs_snapshot_get_param            (CsSnapshot      *snapshot,
                                                   const char      *name);
const CsTensor  *cs_snapshot_get_layer_param      (CsSnapshot      *snapshot,
                                                   guint            layer,
                                                   const char      *name);
const CsTensor  *cs_snapshot_get_param_grad       (CsSnapshot      *snapshot,
                                                   const char      *name);
const CsTensor  *cs_snapshot_get_layer_param_grad (CsSnapshot      *snapshot,
                                                   guint            layer,
                                                   const char      *name);

/* The whole parameter block (cs_model_get_params ()'s order: every
 * parameter's tensor above is a view into it), its gradients, and the
 * optimizer's state: (2, P), the first state float of every parameter,
 * then the second. NULL when the snapshot has no such part; *n_params,
 * when given, is set to P. */
const float     *cs_snapshot_get_param_block      (CsSnapshot      *snapshot,
                                                   gsize           *n_params);
const float     *cs_snapshot_get_grad_block       (CsSnapshot      *snapshot,
                                                   gsize           *n_params);
const float     *cs_snapshot_get_optim_state      (CsSnapshot      *snapshot,
                                                   gsize           *n_params);

/* Whether two snapshots come from models of the same layers and shapes
 * (a view keeps its selection across them). */
gboolean         cs_snapshot_same_structure       (CsSnapshot      *a,
                                                   CsSnapshot      *b);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsSnapshot, cs_snapshot_unref)

G_END_DECLS
