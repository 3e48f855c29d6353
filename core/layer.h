/* layer.h — what every layer kind implements
 *
 * A layer is built from its JSON description and the shape of one example
 * arriving at it; it checks both, says the shape it produces, and declares
 * its parameters (trainable) and buffers (BatchNorm's running statistics).
 * The model then allocates one block for all of them and binds each
 * declared CsTensor as a view into it.
 *
 * Forward assigns its output. Backward accumulates the parameter gradients
 * (so zero_grad means something) and assigns the input gradient: in a
 * sequence every activation has exactly one consumer. A NULL dinp means
 * "the input gradient is not wanted".
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "backend.h"
#include "init.h"
#include "tensor.h"

G_BEGIN_DECLS

typedef struct _CsLayer CsLayer;
typedef struct _CsLayerClass CsLayerClass;

typedef enum
{
  CS_PARAM_WEIGHT,        /* initialised by the model's scheme */
  CS_PARAM_BIAS,          /* zeros, or PyTorch's U(±1/√fan_in) */
  CS_PARAM_ONES,          /* BatchNorm's γ */
  CS_PARAM_ZEROS,         /* BatchNorm's β */
  CS_BUFFER_ZEROS,        /* running mean: not trained */
  CS_BUFFER_ONES,         /* running variance: not trained */
  CS_BUFFER_COUNTER,      /* BatchNorm's num_batches_tracked: an integer */
} CsParamRole;

typedef struct
{
  char *name;              /* "weight", "bn1.running_mean" */
  CsParamRole role;
  CsTensor *value;         /* a CsTensor inside the layer, bound by the model */
  CsTensor *grad;          /* NULL for buffers */
  gint64 fan_in, fan_out;
  float *fixed;            /* initial values given in the JSON, or NULL */
  gint64 *counter;         /* CS_BUFFER_COUNTER only; value and grad are NULL */
} CsParam;

struct _CsLayerClass
{
  const char *type;        /* the JSON "type", e.g. "conv2d" */
  const char *title;       /* for people: "Conv2d" */
  const char *const *keys; /* the JSON keys it reads besides "type" */
  gsize instance_size;

  /* Read the description, check it against the input shape, set
   * self->out_shape and declare parameters. */
  gboolean (*build) (CsLayer *self, JsonObject *desc, GError **error);
  /* Allocate scratch for batches of up to max_batch examples (not per batch). */
  void (*reserve) (CsLayer *self, int max_batch);
  /* out: (N, out_shape), inp: (N, in_shape) */
  void (*forward) (CsLayer *self, CsTensor *out, const CsTensor *inp, gboolean train);
  void (*backward) (CsLayer *self, CsTensor *dinp, const CsTensor *dout,
                    const CsTensor *inp, const CsTensor *out);
  /* Set by layers whose output is their input with another shape (flatten). */
  gboolean is_view;
  void (*finalize) (CsLayer *self);
};

struct _CsLayer
{
  const CsLayerClass *klass;
  const CsBackend *be;
  guint index;             /* position in the model */
  CsShape in_shape;        /* one example */
  CsShape out_shape;
  GArray *params;          /* CsParam, in PyTorch's state-dict order */
  guint64 seed;            /* for layers that draw random numbers */
  const gint64 *step;      /* the model's optimizer step, for fresh masks */
  GArray *scratch;         /* what cs_layer_alloc_scratch () handed out */
};

/* The kinds, by JSON type; NULL if unknown. */
const CsLayerClass *cs_layer_class_lookup (const char *type);
/* All known types, comma-separated, for error messages. */
const char         *cs_layer_known_types  (void);

CsLayer  *cs_layer_new       (JsonObject *desc, const CsShape *in_shape, guint index,
                              GError **error);
void      cs_layer_free      (CsLayer *self);
void      cs_layer_set_backend (CsLayer *self, const CsBackend *be);

/* Used by layers in build (). */
void      cs_layer_add_param (CsLayer *self, const char *name, CsParamRole role,
                              CsTensor *value, CsTensor *grad,
                              gint64 fan_in, gint64 fan_out);
gboolean  cs_layer_get_int   (CsLayer *self, JsonObject *desc, const char *key,
                              gint64 fallback, gint64 min, gint64 *out, GError **error);
gboolean  cs_layer_get_pair  (CsLayer *self, JsonObject *desc, const char *key,
                              gint64 fallback, gint64 min, gint64 out[2], GError **error);
gboolean  cs_layer_get_float (CsLayer *self, JsonObject *desc, const char *key,
                              double fallback, double min, double max,
                              double *out, GError **error);
gboolean  cs_layer_get_bool  (CsLayer *self, JsonObject *desc, const char *key,
                              gboolean fallback, gboolean *out, GError **error);
/* "bias": true, false, or its initial values (a list, one per output, which
 * means true); *fixed is then a g_malloc'd copy for CsParam.fixed, else NULL. */
gboolean  cs_layer_get_bias  (CsLayer *self, JsonObject *desc, gint64 n,
                              gboolean *has_bias, float **fixed, GError **error);
/* Sets an error "layer 3 (conv2d): …" */
void      cs_layer_set_error (CsLayer *self, GError **error, const char *format, ...)
                              G_GNUC_PRINTF (3, 4);
void      cs_layer_add_counter (CsLayer *self, const char *name, gint64 *counter);
/* Takes a child's parameters as "<prefix>.<name>" (the residual block). */
void      cs_layer_adopt_params (CsLayer *self, CsLayer *child, const char *prefix);

/* Scratch for reserve (): bytes of zeroed memory of the layer's backend into
 * *slot (slot is a float ** or a gint32 **), freeing what *slot held. The
 * layer keeps track: cs_layer_free () frees it, each with the backend that
 * allocated it, so a model can move to another device and reserve again.
 * A device out of memory leaves *slot NULL and the error in the backend. */
void      cs_layer_alloc_scratch (CsLayer *self, gpointer slot, gsize bytes);

/* Checks for the shapes at build time. */
gboolean  cs_layer_expect_image (CsLayer *self, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsLayer, cs_layer_free)

G_END_DECLS
