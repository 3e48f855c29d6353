/* tensor.h — float32 tensors, row-major NCHW, with a device tag
 *
 * A CsTensor is a small value: a pointer to data, a shape and a device. It
 * either owns its data (cs_tensor_new) or is a view of someone else's
 * (cs_tensor_view): the model's activations, parameters and gradients are all
 * views into blocks the model allocated once.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CS_MAX_DIMS 4

typedef enum
{
  CS_DEVICE_CPU,
  CS_DEVICE_CUDA,
} CsDevice;

typedef struct
{
  float *data;
  int ndim;
  gint64 shape[CS_MAX_DIMS];
  CsDevice device;
  gboolean owns_data;
} CsTensor;

/* A shape of one example (no batch dimension): (C, H, W) or (F). */
typedef struct
{
  int ndim;
  gint64 d[3];
} CsShape;

CsTensor *cs_tensor_new        (int ndim, const gint64 *shape);
CsTensor *cs_tensor_new_4d     (gint64 n, gint64 c, gint64 h, gint64 w);
CsTensor *cs_tensor_new_2d     (gint64 n, gint64 f);
void      cs_tensor_free       (CsTensor *t);
CsTensor  cs_tensor_view       (float *data, int ndim, const gint64 *shape);
CsTensor  cs_tensor_view_batch (float *data, gint64 n, const CsShape *example);
gint64    cs_tensor_numel      (const CsTensor *t);
gboolean  cs_tensor_same_shape (const CsTensor *a, const CsTensor *b);
char     *cs_tensor_shape_string (const CsTensor *t);

gint64    cs_shape_numel       (const CsShape *s);
gboolean  cs_shape_equal       (const CsShape *a, const CsShape *b);
char     *cs_shape_to_string   (const CsShape *s);

/* Memory for the engine's blocks: zeroed, 64-byte aligned, freed with cs_free. */
float    *cs_alloc_floats      (gsize n);
void      cs_free              (gpointer p);

/* Asks the C library to keep freed memory for the next allocation instead
 * of handing it back to the system: a snapshot of a few megabytes made and
 * freed ten times a second then reuses the same pages instead of faulting
 * in fresh ones each time (page faults are expensive on the machines this
 * runs on). Call it once, first thing in main (the application does). */
void      cs_memory_keep_pages (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsTensor, cs_tensor_free)

G_END_DECLS
