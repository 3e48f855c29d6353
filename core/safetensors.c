/* safetensors.c — a strict reader and an atomic writer */
#include "safetensors.h"
#include "error.h"

#include <json-glib/json-glib.h>
#include <string.h>

#if G_BYTE_ORDER != G_LITTLE_ENDIAN
#error "safetensors data is little-endian; add byte swapping for this machine"
#endif

#define MAX_HEADER (100u << 20)

struct _CsSafetensors
{
  char *display_name;      /* the file's base name, for messages */
  GMappedFile *file;
  const guint8 *data;      /* the data section */
  gsize data_len;
  GArray *entries;         /* CsSafetensorsEntry, in header order */
  GHashTable *metadata;    /* char* → char* */
};

static void
entry_clear (gpointer p)
{
  g_free (((CsSafetensorsEntry *) p)->name);
}

static int
dtype_size (const char *dtype)
{
  static const struct { const char *name; int size; } types[] = {
    { "F64", 8 }, { "F32", 4 }, { "F16", 2 }, { "BF16", 2 }, { "I64", 8 }, { "I32", 4 },
    { "I16", 2 }, { "I8", 1 }, { "U8", 1 }, { "BOOL", 1 }, { "U16", 2 }, { "U32", 4 },
    { "U64", 8 }, { "F8_E4M3", 1 }, { "F8_E5M2", 1 },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (types); i++)
    if (g_str_equal (types[i].name, dtype))
      return types[i].size;
  return 0;
}

static gboolean
fail (CsSafetensors *st, GError **error, const char *format, ...) G_GNUC_PRINTF (3, 4);

static gboolean
fail (CsSafetensors *st, GError **error, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *msg = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, CS_ERROR, CS_ERROR_INVALID_FILE, "%s: %s", st->display_name, msg);
  return FALSE;
}

static int
compare_offset (gconstpointer a, gconstpointer b)
{
  const CsSafetensorsEntry *x = *(CsSafetensorsEntry *const *) a;
  const CsSafetensorsEntry *y = *(CsSafetensorsEntry *const *) b;
  return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static gboolean
parse_entry (CsSafetensors *st, const char *name, JsonNode *node, GError **error)
{
  CsSafetensorsEntry e = { 0 };

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return fail (st, error, "tensor “%s” is not described by an object", name);
  JsonObject *o = json_node_get_object (node);

  JsonNode *dt = json_object_get_member (o, "dtype");
  if (dt == NULL || !JSON_NODE_HOLDS_VALUE (dt) || json_node_get_value_type (dt) != G_TYPE_STRING)
    return fail (st, error, "tensor “%s” has no dtype", name);
  const char *dtype = json_node_get_string (dt);
  int size = dtype_size (dtype);
  if (size == 0)
    return fail (st, error, "tensor “%s” has an unknown dtype “%s”", name, dtype);
  g_strlcpy (e.dtype, dtype, sizeof e.dtype);

  JsonNode *sh = json_object_get_member (o, "shape");
  if (sh == NULL || !JSON_NODE_HOLDS_ARRAY (sh))
    return fail (st, error, "tensor “%s” has no shape", name);
  JsonArray *shape = json_node_get_array (sh);
  if (json_array_get_length (shape) > G_N_ELEMENTS (e.shape))
    return fail (st, error, "tensor “%s” has more than %d dimensions", name,
                 (int) G_N_ELEMENTS (e.shape));
  e.ndim = (int) json_array_get_length (shape);
  guint64 numel = 1;
  for (int i = 0; i < e.ndim; i++)
    {
      JsonNode *d = json_array_get_element (shape, i);
      if (!JSON_NODE_HOLDS_VALUE (d) || json_node_get_value_type (d) != G_TYPE_INT64
          || json_node_get_int (d) < 0)
        return fail (st, error, "tensor “%s” has a dimension that is not a whole number ≥ 0",
                     name);
      e.shape[i] = json_node_get_int (d);
      if (!g_uint64_checked_mul (&numel, numel, (guint64) e.shape[i]))
        return fail (st, error, "tensor “%s” is impossibly large", name);
    }
  guint64 nbytes;
  if (!g_uint64_checked_mul (&nbytes, numel, (guint64) size))
    return fail (st, error, "tensor “%s” is impossibly large", name);

  JsonNode *off = json_object_get_member (o, "data_offsets");
  JsonArray *offsets = off && JSON_NODE_HOLDS_ARRAY (off) ? json_node_get_array (off) : NULL;
  if (offsets == NULL || json_array_get_length (offsets) != 2)
    return fail (st, error, "tensor “%s” has no data_offsets [begin, end]", name);
  gint64 bounds[2] = { -1, -1 };
  for (int i = 0; i < 2; i++)
    {
      JsonNode *d = json_array_get_element (offsets, i);
      if (JSON_NODE_HOLDS_VALUE (d) && json_node_get_value_type (d) == G_TYPE_INT64)
        bounds[i] = json_node_get_int (d);
    }
  gint64 begin = bounds[0], end = bounds[1];
  if (begin < 0 || end < begin)
    return fail (st, error, "tensor “%s” has invalid data_offsets", name);
  if ((guint64) end > st->data_len)
    return fail (st, error, "tensor “%s” ends at byte %" G_GINT64_FORMAT " of the data but "
                 "the file holds only %" G_GSIZE_FORMAT " bytes of data (truncated?)",
                 name, end, st->data_len);
  if ((guint64) (end - begin) != nbytes)
    return fail (st, error, "tensor “%s” has %" G_GINT64_FORMAT " bytes of data but its "
                 "shape and dtype need %" G_GUINT64_FORMAT, name, end - begin, nbytes);

  e.name = g_strdup (name);
  e.offset = (gsize) begin;
  e.nbytes = (gsize) nbytes;
  g_array_append_val (st->entries, e);
  return TRUE;
}

static gboolean
parse_header (CsSafetensors *st, const char *text, gsize len, GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local = NULL;

  if (!json_parser_load_from_data (parser, text, (gssize) len, &local))
    return fail (st, error, "the header is not valid JSON (%s)", local->message);
  JsonNode *root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return fail (st, error, "the header is not a JSON object");

  JsonObject *o = json_node_get_object (root);
  g_autoptr(GList) members = json_object_get_members (o);
  for (GList *l = members; l != NULL; l = l->next)
    {
      const char *name = l->data;
      JsonNode *node = json_object_get_member (o, name);
      if (g_str_equal (name, "__metadata__"))
        {
          if (!JSON_NODE_HOLDS_OBJECT (node))
            return fail (st, error, "__metadata__ is not an object");
          JsonObject *m = json_node_get_object (node);
          g_autoptr(GList) keys = json_object_get_members (m);
          for (GList *k = keys; k != NULL; k = k->next)
            {
              JsonNode *v = json_object_get_member (m, k->data);
              if (!JSON_NODE_HOLDS_VALUE (v) || json_node_get_value_type (v) != G_TYPE_STRING)
                return fail (st, error, "metadata “%s” is not a string", (char *) k->data);
              g_hash_table_insert (st->metadata, g_strdup (k->data),
                                   g_strdup (json_node_get_string (v)));
            }
          continue;
        }
      if (!parse_entry (st, name, node, error))
        return FALSE;
    }

  /* No two tensors may share bytes. */
  g_autoptr(GPtrArray) sorted = g_ptr_array_new ();
  for (guint i = 0; i < st->entries->len; i++)
    g_ptr_array_add (sorted, &g_array_index (st->entries, CsSafetensorsEntry, i));
  g_ptr_array_sort (sorted, compare_offset);
  for (guint i = 1; i < sorted->len; i++)
    {
      const CsSafetensorsEntry *a = sorted->pdata[i - 1], *b = sorted->pdata[i];
      if (b->offset < a->offset + a->nbytes)
        return fail (st, error, "tensors “%s” and “%s” overlap", a->name, b->name);
    }
  return TRUE;
}

CsSafetensors *
cs_safetensors_open (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);

  g_autoptr(GError) local = NULL;
  GMappedFile *file = g_mapped_file_new (path, FALSE, &local);
  if (file == NULL)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_IO, "%s", local->message);
      return NULL;
    }

  g_autoptr(CsSafetensors) st = g_new0 (CsSafetensors, 1);
  st->display_name = g_path_get_basename (path);
  st->file = file;
  st->entries = g_array_new (FALSE, TRUE, sizeof (CsSafetensorsEntry));
  g_array_set_clear_func (st->entries, entry_clear);
  st->metadata = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  gsize size = g_mapped_file_get_length (file);
  const guint8 *bytes = (const guint8 *) g_mapped_file_get_contents (file);
  if (size < 8)
    {
      fail (st, error, "too short to be a safetensors file (%" G_GSIZE_FORMAT " bytes)", size);
      return NULL;
    }
  guint64 header_len;
  memcpy (&header_len, bytes, 8);
  header_len = GUINT64_FROM_LE (header_len);
  if (header_len > size - 8)
    {
      fail (st, error, "the header claims %" G_GUINT64_FORMAT " bytes but only %"
            G_GSIZE_FORMAT " follow (truncated, or not a safetensors file)",
            header_len, size - 8);
      return NULL;
    }
  if (header_len > MAX_HEADER || header_len < 2)
    {
      fail (st, error, "implausible header length %" G_GUINT64_FORMAT
            " (not a safetensors file?)", header_len);
      return NULL;
    }
  st->data = bytes + 8 + header_len;
  st->data_len = size - 8 - (gsize) header_len;

  if (!parse_header (st, (const char *) bytes + 8, (gsize) header_len, error))
    return NULL;
  return g_steal_pointer (&st);
}

void
cs_safetensors_free (CsSafetensors *st)
{
  if (st == NULL)
    return;
  g_clear_pointer (&st->file, g_mapped_file_unref);
  g_clear_pointer (&st->entries, g_array_unref);
  g_clear_pointer (&st->metadata, g_hash_table_unref);
  g_free (st->display_name);
  g_free (st);
}

guint
cs_safetensors_get_n_entries (CsSafetensors *st)
{
  return st->entries->len;
}

const CsSafetensorsEntry *
cs_safetensors_get_entry (CsSafetensors *st, guint i)
{
  g_return_val_if_fail (i < st->entries->len, NULL);
  return &g_array_index (st->entries, CsSafetensorsEntry, i);
}

const CsSafetensorsEntry *
cs_safetensors_lookup (CsSafetensors *st, const char *name)
{
  for (guint i = 0; i < st->entries->len; i++)
    if (g_str_equal (g_array_index (st->entries, CsSafetensorsEntry, i).name, name))
      return &g_array_index (st->entries, CsSafetensorsEntry, i);
  return NULL;
}

const char *
cs_safetensors_get_metadata (CsSafetensors *st, const char *key)
{
  return g_hash_table_lookup (st->metadata, key);
}

const char *
cs_safetensors_get_display_name (CsSafetensors *st)
{
  return st->display_name;
}

gconstpointer
cs_safetensors_get_data (CsSafetensors *st, const CsSafetensorsEntry *e)
{
  return st->data + e->offset;
}

gboolean
cs_safetensors_read_f32 (CsSafetensors *st, const char *name, float *dst, gsize n,
                         GError **error)
{
  const CsSafetensorsEntry *e = cs_safetensors_lookup (st, name);
  if (e == NULL)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_MISMATCH, "%s: no tensor “%s”",
                   st->display_name, name);
      return FALSE;
    }
  if (!g_str_equal (e->dtype, "F32"))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_MISMATCH,
                   "%s: tensor “%s” is %s, Convscope reads F32 (float32) only",
                   st->display_name, name, e->dtype);
      return FALSE;
    }
  if (e->nbytes != n * sizeof (float))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_MISMATCH,
                   "%s: tensor “%s” has %" G_GSIZE_FORMAT " values, %" G_GSIZE_FORMAT
                   " expected", st->display_name, name, e->nbytes / sizeof (float), n);
      return FALSE;
    }
  memcpy (dst, st->data + e->offset, e->nbytes);
  return TRUE;
}

float *
cs_safetensors_dup_f32 (CsSafetensors *st, const char *name, gsize *n, GError **error)
{
  const CsSafetensorsEntry *e = cs_safetensors_lookup (st, name);
  gsize count = e ? e->nbytes / sizeof (float) : 0;
  g_autofree float *buf = g_new (float, MAX (count, 1));
  if (!cs_safetensors_read_f32 (st, name, buf, count, error))
    return NULL;
  *n = count;
  return g_steal_pointer (&buf);
}

gboolean
cs_safetensors_write (const char *path, const CsSafetensorsTensor *tensors, guint n_tensors,
                      const char *const *metadata, GError **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  gsize offset = 0;

  json_builder_begin_object (b);
  if (metadata != NULL && metadata[0] != NULL)
    {
      json_builder_set_member_name (b, "__metadata__");
      json_builder_begin_object (b);
      for (const char *const *kv = metadata; kv[0] && kv[1]; kv += 2)
        {
          json_builder_set_member_name (b, kv[0]);
          json_builder_add_string_value (b, kv[1]);
        }
      json_builder_end_object (b);
    }
  for (guint i = 0; i < n_tensors; i++)
    {
      const CsSafetensorsTensor *t = &tensors[i];
      g_return_val_if_fail (dtype_size (t->dtype) > 0, FALSE);
      json_builder_set_member_name (b, t->name);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "dtype");
      json_builder_add_string_value (b, t->dtype);
      json_builder_set_member_name (b, "shape");
      json_builder_begin_array (b);
      for (int d = 0; d < t->ndim; d++)
        json_builder_add_int_value (b, t->shape[d]);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "data_offsets");
      json_builder_begin_array (b);
      json_builder_add_int_value (b, (gint64) offset);
      json_builder_add_int_value (b, (gint64) (offset + t->nbytes));
      json_builder_end_array (b);
      json_builder_end_object (b);
      offset += t->nbytes;
    }
  json_builder_end_object (b);

  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  gsize header_len;
  g_autofree char *header = json_generator_to_data (gen, &header_len);

  /* Pad with spaces so that the data starts 8-byte aligned. */
  gsize padded = (8 + header_len + 7) / 8 * 8 - 8;
  gsize total = 8 + padded + offset;
  g_autofree guint8 *buf = g_malloc (total);
  guint64 le = GUINT64_TO_LE ((guint64) padded);
  memcpy (buf, &le, 8);
  memcpy (buf + 8, header, header_len);
  memset (buf + 8 + header_len, ' ', padded - header_len);
  guint8 *data = buf + 8 + padded;
  for (guint i = 0; i < n_tensors; i++)
    {
      if (tensors[i].nbytes > 0)
        memcpy (data, tensors[i].data, tensors[i].nbytes);
      data += tensors[i].nbytes;
    }

  g_autoptr(GError) local = NULL;
  if (!g_file_set_contents_full (path, (const char *) buf, (gssize) total,
                                 G_FILE_SET_CONTENTS_CONSISTENT, 0644, &local))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_IO, "%s", local->message);
      return FALSE;
    }
  return TRUE;
}
