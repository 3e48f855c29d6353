/* safetensors.h — reading and writing the safetensors format
 *
 *   u64 (little-endian) N | N bytes of JSON header | data
 *
 * The header maps names to { "dtype", "shape", "data_offsets": [begin, end] }
 * (offsets into the data) and may hold "__metadata__", an object of strings.
 * Every length and offset is checked against the file before use.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  char *name;
  char dtype[8];           /* "F32", "I64", … */
  int ndim;
  gint64 shape[8];
  gsize offset;            /* into the data section */
  gsize nbytes;
} CsSafetensorsEntry;

typedef struct _CsSafetensors CsSafetensors;

CsSafetensors *cs_safetensors_open          (const char *path, GError **error);
void           cs_safetensors_free          (CsSafetensors *st);
guint          cs_safetensors_get_n_entries (CsSafetensors *st);
const CsSafetensorsEntry *cs_safetensors_get_entry (CsSafetensors *st, guint i);
const CsSafetensorsEntry *cs_safetensors_lookup    (CsSafetensors *st, const char *name);
/* NULL when absent. */
const char    *cs_safetensors_get_metadata  (CsSafetensors *st, const char *key);
const char    *cs_safetensors_get_display_name (CsSafetensors *st);
/* The raw little-endian bytes of an entry (not necessarily aligned). */
gconstpointer  cs_safetensors_get_data      (CsSafetensors *st, const CsSafetensorsEntry *e);
/* Copies an F32 entry of exactly n values into dst. */
gboolean       cs_safetensors_read_f32      (CsSafetensors *st, const char *name,
                                             float *dst, gsize n, GError **error);
/* A newly allocated copy of an F32 entry; *n gets its length. */
float         *cs_safetensors_dup_f32       (CsSafetensors *st, const char *name,
                                             gsize *n, GError **error);

typedef struct
{
  const char *name;
  const char *dtype;       /* "F32" or "I64" */
  int ndim;                /* 0 for a scalar */
  const gint64 *shape;
  gconstpointer data;      /* little-endian */
  gsize nbytes;
} CsSafetensorsTensor;

/* Writes atomically: a temporary file beside path, synced, then renamed, so
 * a crash leaves the old file or the new one, never half of one.
 * metadata: NULL-terminated key, value, key, value, … (may be NULL). */
gboolean       cs_safetensors_write         (const char *path, const CsSafetensorsTensor *tensors,
                                             guint n_tensors, const char *const *metadata,
                                             GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsSafetensors, cs_safetensors_free)

G_END_DECLS
