/* tensor.c — float32 tensors and the engine's aligned blocks */
#include "tensor.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif
#include "error.h"

#include <string.h>

G_DEFINE_QUARK (cs-error-quark, cs_error)

float *
cs_alloc_floats (gsize n)
{
  gsize bytes = MAX (n, 1) * sizeof (float);
  bytes = (bytes + 63) & ~(gsize) 63;
  float *p = g_aligned_alloc0 (1, bytes, 64);
  return p;
}

void
cs_free (gpointer p)
{
  g_aligned_free (p);
}

void
cs_memory_keep_pages (void)
{
#ifdef __GLIBC__
  /* blocks up to 256 MiB from the heap, not mmap; the heap's top kept */
  mallopt (M_MMAP_THRESHOLD, 256 * 1024 * 1024);
  mallopt (M_TRIM_THRESHOLD, 512 * 1024 * 1024);
  mallopt (M_TOP_PAD, 16 * 1024 * 1024);
#endif
}

CsTensor *
cs_tensor_new (int ndim, const gint64 *shape)
{
  g_return_val_if_fail (ndim >= 1 && ndim <= CS_MAX_DIMS, NULL);

  CsTensor *t = g_new0 (CsTensor, 1);
  t->ndim = ndim;
  for (int i = 0; i < ndim; i++)
    {
      g_return_val_if_fail (shape[i] >= 0, NULL);
      t->shape[i] = shape[i];
    }
  t->data = cs_alloc_floats ((gsize) cs_tensor_numel (t));
  t->device = CS_DEVICE_CPU;
  t->owns_data = TRUE;
  return t;
}

CsTensor *
cs_tensor_new_4d (gint64 n, gint64 c, gint64 h, gint64 w)
{
  gint64 shape[4] = { n, c, h, w };
  return cs_tensor_new (4, shape);
}

CsTensor *
cs_tensor_new_2d (gint64 n, gint64 f)
{
  gint64 shape[2] = { n, f };
  return cs_tensor_new (2, shape);
}

void
cs_tensor_free (CsTensor *t)
{
  if (t == NULL)
    return;
  if (t->owns_data)
    cs_free (t->data);
  g_free (t);
}

CsTensor
cs_tensor_view (float *data, int ndim, const gint64 *shape)
{
  CsTensor t = { 0 };
  g_assert (ndim >= 1 && ndim <= CS_MAX_DIMS);
  t.data = data;
  t.ndim = ndim;
  memcpy (t.shape, shape, sizeof (gint64) * ndim);
  t.device = CS_DEVICE_CPU;
  t.owns_data = FALSE;
  return t;
}

CsTensor
cs_tensor_view_batch (float *data, gint64 n, const CsShape *example)
{
  gint64 shape[CS_MAX_DIMS] = { n };
  for (int i = 0; i < example->ndim; i++)
    shape[i + 1] = example->d[i];
  return cs_tensor_view (data, example->ndim + 1, shape);
}

gint64
cs_tensor_numel (const CsTensor *t)
{
  gint64 n = 1;
  for (int i = 0; i < t->ndim; i++)
    n *= t->shape[i];
  return n;
}

gboolean
cs_tensor_same_shape (const CsTensor *a, const CsTensor *b)
{
  if (a->ndim != b->ndim)
    return FALSE;
  for (int i = 0; i < a->ndim; i++)
    if (a->shape[i] != b->shape[i])
      return FALSE;
  return TRUE;
}

static char *
dims_to_string (int ndim, const gint64 *d)
{
  GString *s = g_string_new ("(");
  for (int i = 0; i < ndim; i++)
    g_string_append_printf (s, "%s%" G_GINT64_FORMAT, i ? ", " : "", d[i]);
  g_string_append_c (s, ')');
  return g_string_free (s, FALSE);
}

char *
cs_tensor_shape_string (const CsTensor *t)
{
  return dims_to_string (t->ndim, t->shape);
}

gint64
cs_shape_numel (const CsShape *s)
{
  gint64 n = 1;
  for (int i = 0; i < s->ndim; i++)
    n *= s->d[i];
  return n;
}

gboolean
cs_shape_equal (const CsShape *a, const CsShape *b)
{
  if (a->ndim != b->ndim)
    return FALSE;
  for (int i = 0; i < a->ndim; i++)
    if (a->d[i] != b->d[i])
      return FALSE;
  return TRUE;
}

char *
cs_shape_to_string (const CsShape *s)
{
  return dims_to_string (s->ndim, s->d);
}
