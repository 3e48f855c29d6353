/* model.h — a network as a sequence of layers described in JSON
 *
 *   { "name": "mlp", "input": [1, 28, 28], "init": "xavier_uniform",
 *     "layers": [ { "type": "flatten" },
 *                 { "type": "linear", "in_features": 784, "out_features": 256 }, … ] }
 *
 * All parameters, their gradients, the optimizer's state and the buffers
 * (BatchNorm's running statistics) live in one block:
 *
 *   [ params (P) | grads (P) | optimizer state (2P) | buffers (B) ]
 *
 * so zero_grad, an optimizer step, a device copy, a checkpoint and a UI
 * snapshot each touch one contiguous range. Activations are allocated once
 * by cs_model_reserve () for batches up to a size; the training path
 * allocates nothing.
 *
 * The block, the activations and every layer's scratch live in the memory
 * of the model's backend: the host for the CPU, the GPU for CUDA. A model
 * starts on the CPU; cs_model_set_device () moves it, between batches.
 * Pointers the model hands out (cs_model_get_params (), activations, the
 * output of a forward) are of that device. Host-side readers go through
 * cs_model_read_block () / cs_model_write_block (), cs_model_cross_entropy ()
 * or cs_backend_host_view (); on the CPU these cost nothing.
 */
#pragma once

#include <glib.h>

#include "backend.h"
#include "init.h"
#include "layer.h"
#include "tensor.h"

G_BEGIN_DECLS

typedef struct _CsModel CsModel;

/* One named tensor of the state dict: "3.conv1.weight", "1.running_mean". */
typedef struct
{
  char *name;
  guint layer;
  const CsParam *param;
} CsModelEntry;

CsModel     *cs_model_new_from_json   (const char *json, gssize length, GError **error);
CsModel     *cs_model_new_from_file   (const char *path, GError **error);
CsModel     *cs_model_new_preset      (const char *name, GError **error);
void         cs_model_free            (CsModel *model);

const char  *cs_model_get_name        (CsModel *model);
const char  *cs_model_get_title       (CsModel *model);
/* The description, compact JSON: what a checkpoint stores. */
const char  *cs_model_get_json        (CsModel *model);
const CsShape *cs_model_get_input_shape  (CsModel *model);
const CsShape *cs_model_get_output_shape (CsModel *model);
CsInitKind   cs_model_get_init        (CsModel *model);

guint        cs_model_get_n_layers    (CsModel *model);
CsLayer     *cs_model_get_layer       (CsModel *model, guint i);

/* The state dict, in PyTorch's order. */
guint        cs_model_get_n_entries   (CsModel *model);
const CsModelEntry *cs_model_get_entry (CsModel *model, guint i);
const CsModelEntry *cs_model_find_entry (CsModel *model, const char *name);

/* Parts of the block, in the memory of the model's device. */
gsize        cs_model_get_n_params    (CsModel *model);   /* trainable floats, P */
float       *cs_model_get_params      (CsModel *model);   /* (P) */
float       *cs_model_get_grads       (CsModel *model);   /* (P) */
float       *cs_model_get_optim_state (CsModel *model);   /* (2P) */
gsize        cs_model_get_n_buffers   (CsModel *model);   /* B */
float       *cs_model_get_buffers     (CsModel *model);   /* (B) */
/* Where an entry's values lie in the block, in floats from its start. */
gsize        cs_model_get_entry_offset (CsModel *model, const CsModelEntry *e);

/* The whole block (4P + B floats) in host memory, to read or change numbers
 * on the CPU (checkpoints, the UI's weight views): on the CPU the block
 * itself; on a GPU a host copy downloaded now, owned by the model, valid
 * until the next call or a move. After changing it, cs_model_write_block ()
 * sends it back (nothing to do on the CPU). NULL / FALSE: the device failed. */
float       *cs_model_read_block      (CsModel *model, GError **error);
gboolean     cs_model_write_block     (CsModel *model, GError **error);

const CsBackend *cs_model_get_backend (CsModel *model);
/* Another backend of the same device (the CPU's fast one or its reference
 * loops): parameters, gradients and activations stay where they are; the
 * layers' scratch is made again for the new backend (what a forward pass
 * left there for the backward is gone: run forward before backward). */
void         cs_model_set_backend     (CsModel *model, const CsBackend *be);
/* Moves the model to be's device between batches: parameters, gradients,
 * the optimizer's state and the buffers are copied, activations and scratch
 * allocated again there, so training goes on where it was (the activations
 * of the last batch are not kept: forward again before reading them). On
 * failure (a device out of memory, a failing GPU) the model stays where it
 * was, whole, and error says why. */
gboolean     cs_model_set_device      (CsModel *model, const CsBackend *be, GError **error);
/* cs_backend_check () of the model's backend: after a training step on a
 * GPU, FALSE with the device's error means the step did not complete (the
 * backend skipped the work after the failure). */
gboolean     cs_model_check           (CsModel *model, GError **error);

/* Fills every parameter by the model's scheme (or another), seeded; on a
 * GPU the values are drawn on the host and uploaded (check for errors). */
void         cs_model_init            (CsModel *model, guint64 seed);
void         cs_model_init_with       (CsModel *model, CsInitKind kind, guint64 seed);

/* Allocates activations for batches of up to max_batch examples, on the
 * model's device; FALSE when they do not fit. */
gboolean     cs_model_reserve         (CsModel *model, int max_batch, GError **error);
int          cs_model_get_max_batch   (CsModel *model);

/* x: (N, input shape), N ≤ max batch, in host memory or the model's device.
 * Returns the output, (N, output shape) on the model's device, a view valid
 * until the next forward. */
const CsTensor *cs_model_forward      (CsModel *model, const CsTensor *x, gboolean train);
/* The gradient of the loss with respect to the output of the last forward,
 * (N, output shape): write into it, then call cs_model_backward (). */
CsTensor     cs_model_get_output_grad (CsModel *model);
void         cs_model_backward        (CsModel *model);
/* Mean cross-entropy of the last forward's output, (N, classes), against
 * labels (N, host memory); writes d loss / d output into the output
 * gradient, ready for cs_model_backward (), and the probabilities into
 * probs (N, classes, host memory) unless it is NULL. NAN if the device
 * failed. */
double       cs_model_cross_entropy   (CsModel *model, const gint32 *labels, float *probs);
void         cs_model_zero_grad       (CsModel *model);
/* Also compute d loss / d input (saliency); off by default. */
void         cs_model_set_input_grad  (CsModel *model, gboolean wanted);

/* i = 0 is the input, i = k the output of layer k − 1; valid after a forward
 * (gradients after a backward); on the model's device (see
 * cs_backend_download_async () for reading them from a GPU). */
CsTensor     cs_model_get_activation      (CsModel *model, guint i);
CsTensor     cs_model_get_activation_grad (CsModel *model, guint i);

/* Optimizer steps taken; dropout draws fresh masks each step. */
gint64       cs_model_get_step        (CsModel *model);
void         _cs_model_set_step       (CsModel *model, gint64 step);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsModel, cs_model_free)

G_END_DECLS
