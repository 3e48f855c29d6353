/* dataset.c — IDX files (plain or gzip), the named datasets, mini-batches
 *
 * The IDX format (LeCun's MNIST files): a big-endian header
 *
 *   0x00 0x00 <type> <rank>        magic; type 0x08 = unsigned byte
 *   <dim 0> … <dim rank-1>         one big-endian guint32 each
 *
 * then the data, row-major. Images are rank 3 (n, rows, cols), magic
 * 0x00000803; labels rank 1 (n), magic 0x00000801.
 *
 * Both headers are read and checked before anything is allocated, so a file
 * that claims 2^31 images costs 16 bytes of reading. The data is streamed
 * (through a GZlibDecompressor when the file starts with the gzip bytes
 * 1f 8b) into a buffer of exactly the declared size, and one more byte is
 * asked for to catch trailing data.
 */
#include "dataset.h"

#include "image-private.h"
#include "paths.h"
#include "rng.h"

#include <gio/gio.h>
#include <string.h>

#define IDX_TYPE_UBYTE   0x08
#define IDX_MAGIC_IMAGES 0x00000803u
#define IDX_MAGIC_LABELS 0x00000801u

#define FASHION_DIR     "/usr/share/datasets/fashion-mnist"
#define FASHION_PACKAGE "dataset-fashion-mnist"

G_DEFINE_QUARK (cs-dataset-error-quark, cs_dataset_error)

/* ---------------------------------------------------------------------------
 * One IDX file being read
 */

typedef struct
{
  GInputStream *stream;  /* decompressed when gzip */
  char *display;         /* the path, for messages */
  gboolean gzip;
  guint rank;            /* 3: images, 1: labels */
  guint32 n;             /* dims[0] */
  guint32 rows, cols;    /* images only */
  guint64 n_bytes;       /* of data after the header */
} IdxFile;

static void
idx_file_free (IdxFile *f)
{
  g_clear_object (&f->stream);
  g_free (f->display);
  g_free (f);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (IdxFile, idx_file_free)

/* A read error from the stream, said in terms of the file. Errors of the
 * gzip decoder are the file's fault (FORMAT); others (a disk error) keep
 * their G_IO_ERROR code. */
static void
idx_set_read_error (IdxFile  *f,
                    GError   *local,
                    GError  **error)
{
  if (f->gzip &&
      (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_INVALID_DATA) ||
       g_error_matches (local, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT)))
    g_set_error (error, CS_DATASET_ERROR, CS_DATASET_ERROR_FORMAT,
                 "%s: corrupt or truncated gzip data (%s)",
                 f->display, local->message);
  else
    g_set_error (error, local->domain, local->code,
                 "%s: read error: %s", f->display, local->message);
}

/* Reads up to count bytes; fewer only at the end of the file. */
static gboolean
idx_read (IdxFile  *f,
          void     *buf,
          gsize     count,
          gsize    *got,
          GError  **error)
{
  g_autoptr(GError) local = NULL;

  if (!g_input_stream_read_all (f->stream, buf, count, got, NULL, &local))
    {
      idx_set_read_error (f, local, error);
      return FALSE;
    }
  return TRUE;
}

static guint32
read_be32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) |
         ((guint32) p[2] << 8) | (guint32) p[3];
}

/* Opens path, detects gzip by its first two bytes, and wraps the stream. */
static GInputStream *
open_stream (const char  *path,
             const char  *display,
             gboolean    *gzip,
             GError     **error)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GError) local = NULL;
  g_autoptr(GFileInputStream) raw = g_file_read (file, NULL, &local);

  if (raw == NULL)
    {
      /* GIO's message names the file: "Error opening file …: No such …" */
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }

  g_autoptr(GInputStream) buffered =
    g_buffered_input_stream_new (G_INPUT_STREAM (raw));
  GBufferedInputStream *bs = G_BUFFERED_INPUT_STREAM (buffered);

  /* fill() may stop short: ask until two bytes are there or the file ends */
  while (g_buffered_input_stream_get_available (bs) < 2)
    {
      gssize r = g_buffered_input_stream_fill (bs, 2, NULL, &local);
      if (r < 0)
        {
          g_set_error (error, local->domain, local->code,
                       "%s: read error: %s", display, local->message);
          return NULL;
        }
      if (r == 0)
        break;
    }

  gsize avail = 0;
  const guint8 *head = g_buffered_input_stream_peek_buffer (bs, &avail);
  *gzip = avail >= 2 && head[0] == 0x1f && head[1] == 0x8b;
  if (!*gzip)
    return g_steal_pointer (&buffered);

  g_autoptr(GZlibDecompressor) z =
    g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP);
  return g_converter_input_stream_new (buffered, G_CONVERTER (z));
}

static const char *
idx_type_name (guint8 type)
{
  switch (type)
    {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0b: return "short";
    case 0x0c: return "int";
    case 0x0d: return "float";
    case 0x0e: return "double";
    default:   return "unknown";
    }
}

/* Opens an IDX file of the given rank (3: images, 1: labels) and reads and
 * checks its header. Nothing of the data is read or allocated. */
static IdxFile *
idx_open (const char  *path,
          guint        rank,
          GError     **error)
{
  g_autoptr(IdxFile) f = g_new0 (IdxFile, 1);
  const char *what = rank == 3 ? "image" : "label";
  guint32 expected = rank == 3 ? IDX_MAGIC_IMAGES : IDX_MAGIC_LABELS;
  guint8 head[4 + 4 * 3];
  gsize got = 0;

  f->rank = rank;
  f->display = g_filename_display_name (path);
  f->stream = open_stream (path, f->display, &f->gzip, error);
  if (f->stream == NULL)
    return NULL;

  if (!idx_read (f, head, 4, &got, error))
    return NULL;
  if (got == 0)
    {
      g_set_error (error, CS_DATASET_ERROR, CS_DATASET_ERROR_EMPTY,
                   "%s: the file is empty (expected an IDX %s file)",
                   f->display, what);
      return NULL;
    }
  if (got < 4)
    {
      g_set_error (error, CS_DATASET_ERROR, CS_DATASET_ERROR_FORMAT,
                   "%s: not an IDX %s file (only %" G_GSIZE_FORMAT " bytes long)",
                   f->display, what, got);
      return NULL;
    }

  guint32 magic = read_be32 (head);
  guint8 type = head[2];
  if ((magic >> 16) == 0 && type != IDX_TYPE_UBYTE && head[3] == rank)
    {
      g_set_error (error, CS_DATASET_ERROR, CS_DATASET_ERROR_FORMAT,
                   "%s: IDX data of type 0x%02x (%s) is not supported, only "
                   "unsigned bytes (magic number 0x%08x, expected 0x%08x)",
                   f->display, type, idx_type_name (type), magic, expected);
      return NULL;
    }
  if (magic != expected)
    {
      if ((magic >> 16) == 0 && type == IDX_TYPE_UBYTE)
        g_set_error (error, CS_DATASET_ERROR, CS_DATASET_ERROR_FORMAT,
                     "%s: not an IDX %s file: it has %u dimension%s, not %u "
                     "(magic number 0x%08x, expected 0x%08x)",
                     f->display, what, head[3], head[3] == 1 ? "" : "s",
                     rank, magic, expected);
      else
        g_set_error (error, CS_DATASET_ERROR, CS_DATASET_ERROR_FORMAT,
                     "%s: not an IDX %s file (magic number 0x%08x, expected 0x%08x)",
                     f->display, what, magic, expected);
      return NULL;
    }

  if (!idx_read (f, head + 4, 4 * rank, &got, error))
    return NULL;
  if (got < 4 * rank)
    {
      g_set_error (error, CS_DATASET_ERROR, CS_DATASET_ERROR_FORMAT,
                   "%s: truncated IDX header (%" G_GSIZE_FORMAT " of %u bytes)",
                   f->display, 4 + got, 4 + 4 * rank);
      return NULL;
    }

  f->n = read_be32 (head + 4);
  if (f->n == 0)
    {
      g_set_error (error, CS_DATASET_ERROR, CS_DATASET_ERROR_EMPTY,
                   "%s: the file holds no %ss", f->display, what);
      return NULL;
    }

  if (rank == 1)
    {
      f->rows = f->cols = 1;
      f->n_bytes = f->n;
      if (f->n_bytes > CS_DATASET_MAX_BYTES)
        {
          g_set_error (error, CS_DATASET_ERROR, CS_DATASET_ERROR_TOO_LARGE,
                       "%s: claims %u labels, more than Convscope loads "
                       "(at most %" G_GUINT64_FORMAT ")",
                       f->display, f->n, CS_DATASET_MAX_BYTES);
          return NULL;
        }
      return g_steal_pointer (&f);
    }

  f->rows = read_be32 (head + 8);
  f->cols = read_be32 (head + 12);

  guint64 side = 0, total = 0;
  gboolean ok = g_uint64_checked_mul (&side, f->rows, f->cols) &&
                g_uint64_checked_mul (&total, side, f->n);
  if (f->rows == 0 || f->cols == 0)
    {
      g_set_error (error, CS_DATASET_ERROR, CS_DATASET_ERROR_FORMAT,
                   "%s: images of %u × %u pixels: a dimension is zero",
                   f->display, f->rows, f->cols);
      return NULL;
    }
  if (!ok)
    {
      g_set_error (error, CS_DATASET_ERROR, CS_DATASET_ERROR_TOO_LARGE,
                   "%s: claims %u images of %u × %u pixels, a size that "
                   "overflows 64 bits", f->display, f->n, f->rows, f->cols);
      return NULL;
    }
  if (f->rows > CS_DATASET_MAX_SIDE || f->cols > CS_DATASET_MAX_SIDE)
    {
      g_set_error (error, CS_DATASET_ERROR, CS_DATASET_ERROR_TOO_LARGE,
                   "%s: images of %u × %u pixels are too large "
                   "(at most %u × %u)", f->display, f->rows, f->cols,
                   CS_DATASET_MAX_SIDE, CS_DATASET_MAX_SIDE);
      return NULL;
    }
  if (total > CS_DATASET_MAX_BYTES)
    {
      g_autofree char *size = g_format_size_full (total, G_FORMAT_SIZE_IEC_UNITS);
      g_autofree char *limit = g_format_size_full (CS_DATASET_MAX_BYTES,
                                                   G_FORMAT_SIZE_IEC_UNITS);
      g_set_error (error, CS_DATASET_ERROR, CS_DATASET_ERROR_TOO_LARGE,
                   "%s: claims %u images of %u × %u pixels (%s), more than "
                   "Convscope loads (at most %s)", f->display, f->n,
                   f->rows, f->cols, size, limit);
      return NULL;
    }
  f->n_bytes = total;
  return g_steal_pointer (&f);
}

/* Reads the f->n_bytes of data into buf and makes sure nothing follows. */
static gboolean
idx_read_data (IdxFile  *f,
               guint8   *buf,
               GError  **error)
{
  const char *what = f->rank == 3 ? "images" : "labels";
  gsize got = 0;

  if (!idx_read (f, buf, f->n_bytes, &got, error))
    return FALSE;
  if (got < f->n_bytes)
    {
      g_set_error (error, CS_DATASET_ERROR, CS_DATASET_ERROR_FORMAT,
                   "%s: truncated: the header declares %u %s (%"
                   G_GUINT64_FORMAT " bytes of data) but the file holds only %"
                   G_GSIZE_FORMAT, f->display, f->n, what, f->n_bytes, got);
      return FALSE;
    }

  guint8 extra;
  if (!idx_read (f, &extra, 1, &got, error))
    return FALSE;
  if (got != 0)
    {
      g_set_error (error, CS_DATASET_ERROR, CS_DATASET_ERROR_FORMAT,
                   "%s: unexpected data after the %u %s the header declares",
                   f->display, f->n, what);
      return FALSE;
    }
  return TRUE;
}

CsDataset *
cs_dataset_load_idx (const char  *images_path,
                     const char  *labels_path,
                     GError     **error)
{
  g_return_val_if_fail (images_path != NULL, NULL);
  g_return_val_if_fail (labels_path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  g_autoptr(IdxFile) im = idx_open (images_path, 3, error);
  if (im == NULL)
    return NULL;
  g_autoptr(IdxFile) lb = idx_open (labels_path, 1, error);
  if (lb == NULL)
    return NULL;

  if (im->n != lb->n)
    {
      g_set_error (error, CS_DATASET_ERROR, CS_DATASET_ERROR_MISMATCH,
                   "%s holds %u images but %s holds %u labels",
                   im->display, im->n, lb->display, lb->n);
      return NULL;
    }

  g_autoptr(CsDataset) ds = g_new0 (CsDataset, 1);
  ds->n = im->n;
  ds->rows = im->rows;
  ds->cols = im->cols;
  ds->images = g_try_malloc (im->n_bytes);
  ds->labels = g_try_malloc (lb->n_bytes);
  if (ds->images == NULL || ds->labels == NULL)
    {
      g_autofree char *size = g_format_size_full (im->n_bytes + lb->n_bytes,
                                                  G_FORMAT_SIZE_IEC_UNITS);
      g_set_error (error, CS_DATASET_ERROR, CS_DATASET_ERROR_TOO_LARGE,
                   "%s: not enough memory for %u images and their labels (%s)",
                   im->display, im->n, size);
      return NULL;
    }

  if (!idx_read_data (im, ds->images, error) ||
      !idx_read_data (lb, ds->labels, error))
    return NULL;

  guint8 max_label = 0;
  for (guint32 i = 0; i < ds->n; i++)
    max_label = MAX (max_label, ds->labels[i]);
  ds->n_classes = (guint32) max_label + 1;

  ds->name = g_path_get_basename (images_path);
  return g_steal_pointer (&ds);
}

void
cs_dataset_free (CsDataset *ds)
{
  if (ds == NULL)
    return;
  g_free (ds->images);
  g_free (ds->labels);
  g_free (ds->name);
  g_strfreev (ds->class_names);
  g_free (ds);
}

/* ---------------------------------------------------------------------------
 * Named datasets
 */

/* Sets the paths of a split's two files in dir; TRUE if both exist. */
static gboolean
split_files (const char  *dir,
             const char  *split,
             char       **images,
             char       **labels)
{
  const char *prefix = g_str_equal (split, "train") ? "train" : "t10k";
  g_autofree char *im = g_strdup_printf ("%s-images-idx3-ubyte.gz", prefix);
  g_autofree char *lb = g_strdup_printf ("%s-labels-idx1-ubyte.gz", prefix);

  *images = g_build_filename (dir, im, NULL);
  *labels = g_build_filename (dir, lb, NULL);
  return g_file_test (*images, G_FILE_TEST_IS_REGULAR) &&
         g_file_test (*labels, G_FILE_TEST_IS_REGULAR);
}

/* The folder the bundled digits are read from, or NULL (error set). */
static char *
find_digits_dir (GError **error)
{
  g_autofree char *train = cs_find_data_file ("digits/train-images-idx3-ubyte.gz");
  g_autofree char *dir = train ? g_path_get_dirname (train) : NULL;
  g_autofree char *im = NULL, *lb = NULL;

  if (dir != NULL && split_files (dir, "train", &im, &lb))
    return g_steal_pointer (&dir);

  g_autofree char *looked = cs_data_dirs_describe ();
  g_set_error (error, CS_DATASET_ERROR, CS_DATASET_ERROR_NOT_FOUND,
               "The bundled MNIST digits were not found in the digits folder of %s; "
               "is Convscope installed properly?", looked);
  return NULL;
}

static const char *
fashion_dir (void)
{
  const char *env = g_getenv ("CONVSCOPE_FASHION_DIR");
  return env != NULL && *env != '\0' ? env : FASHION_DIR;
}

gboolean
cs_dataset_fashion_available (void)
{
  g_autofree char *im = NULL, *lb = NULL, *tim = NULL, *tlb = NULL;

  return split_files (fashion_dir (), "train", &im, &lb) &&
         split_files (fashion_dir (), "test", &tim, &tlb);
}

CsDataset *
cs_dataset_load_named (const char  *name,
                       const char  *split,
                       GError     **error)
{
  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (split != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  g_autofree char *dir = NULL;
  const char *title;

  if (!g_str_equal (split, "train") && !g_str_equal (split, "test"))
    {
      g_set_error (error, CS_DATASET_ERROR, CS_DATASET_ERROR_NOT_FOUND,
                   "Unknown split “%s” of dataset “%s” (use “train” or “test”)",
                   split, name);
      return NULL;
    }

  if (g_str_equal (name, "digits"))
    {
      title = "MNIST digits (bundled)";
      dir = find_digits_dir (error);
      if (dir == NULL)
        return NULL;
    }
  else if (g_str_equal (name, "fashion"))
    {
      title = "Fashion-MNIST";
      dir = g_strdup (fashion_dir ());
    }
  else
    {
      g_set_error (error, CS_DATASET_ERROR, CS_DATASET_ERROR_NOT_FOUND,
                   "Unknown dataset “%s” (use “digits” or “fashion”)", name);
      return NULL;
    }

  g_autofree char *images = NULL, *labels = NULL;
  if (!split_files (dir, split, &images, &labels))
    {
      const char *missing =
        g_file_test (images, G_FILE_TEST_IS_REGULAR) ? labels : images;
      if (g_str_equal (name, "fashion"))
        g_set_error (error, CS_DATASET_ERROR, CS_DATASET_ERROR_NOT_FOUND,
                     "Fashion-MNIST is not installed (there is no %s); "
                     "install the Debian package %s: sudo apt install %s",
                     missing, FASHION_PACKAGE, FASHION_PACKAGE);
      else
        g_set_error (error, CS_DATASET_ERROR, CS_DATASET_ERROR_NOT_FOUND,
                     "The bundled MNIST digits are incomplete (there is no %s)",
                     missing);
      return NULL;
    }

  CsDataset *ds = cs_dataset_load_idx (images, labels, error);
  if (ds == NULL)
    return NULL;
  g_free (ds->name);
  ds->name = g_strdup_printf ("%s, %s", title, split);
  return ds;
}

/* ---------------------------------------------------------------------------
 * Image folders
 */

#define FOLDER_SIDE 28

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  /* bytes, as Python's sorted () orders the same names in UTF-8 */
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* The names in the folder at path that do not start with ".", sorted. */
static GPtrArray *
list_folder (const char  *path,
             GError     **error)
{
  /* GLib's message names the folder: "Error opening directory “…”: …" */
  g_autoptr(GDir) dir = g_dir_open (path, 0, error);
  const char *name;

  if (dir == NULL)
    return NULL;

  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (name[0] != '.')
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  return names;
}

/* Reads the class folder class_path's files as label into images and
 * labels. */
static gboolean
read_class (const char  *class_path,
            guint8       label,
            GByteArray  *images,
            GByteArray  *labels,
            GError     **error)
{
  g_autoptr(GPtrArray) files = list_folder (class_path, error);
  g_autofree char *display = g_filename_display_name (class_path);
  guint8 resized[FOLDER_SIDE * FOLDER_SIDE];
  guint count = 0;

  if (files == NULL)
    return FALSE;

  for (guint i = 0; i < files->len; i++)
    {
      g_autofree char *file = g_build_filename (class_path, files->pdata[i], NULL);
      int width = 0, height = 0;

      if (g_file_test (file, G_FILE_TEST_IS_DIR))
        {
          g_autofree char *file_display = g_filename_display_name (file);
          g_set_error (error, CS_DATASET_ERROR, CS_DATASET_ERROR_FORMAT,
                       "%s: a folder inside the class folder %s; an image folder "
                       "holds its pictures directly in its class folders",
                       file_display, display);
          return FALSE;
        }

      if ((guint64) images->len + sizeof resized > CS_DATASET_MAX_BYTES)
        {
          g_autofree char *limit = g_format_size_full (CS_DATASET_MAX_BYTES,
                                                       G_FORMAT_SIZE_IEC_UNITS);
          g_set_error (error, CS_DATASET_ERROR, CS_DATASET_ERROR_TOO_LARGE,
                       "%s: more images than Convscope loads (%s of 28 × 28 "
                       "pixels)", display, limit);
          return FALSE;
        }

      g_autofree guint8 *luma = _cs_image_load_luma (file, &width, &height, error);
      if (luma == NULL)
        return FALSE;
      cs_image_resize_u8 (luma, width, height, resized, FOLDER_SIDE, FOLDER_SIDE);
      g_byte_array_append (images, resized, sizeof resized);
      g_byte_array_append (labels, &label, 1);
      count++;
    }

  if (count == 0)
    {
      g_set_error (error, CS_DATASET_ERROR, CS_DATASET_ERROR_EMPTY,
                   "%s: the class folder holds no images", display);
      return FALSE;
    }
  return TRUE;
}

CsDataset *
cs_dataset_load_folder (const char  *path,
                        GError     **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  g_autofree char *display = g_filename_display_name (path);

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                   "%s: no such folder", display);
      return NULL;
    }
  if (!g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOTDIR,
                   "%s: not a folder (an image-folder dataset is a folder with "
                   "one sub-folder of pictures per class)", display);
      return NULL;
    }

  g_autoptr(GPtrArray) names = list_folder (path, error);
  if (names == NULL)
    return NULL;

  /* the class folders, in order; files beside them are not classes */
  g_autoptr(GStrvBuilder) classes = g_strv_builder_new ();
  guint n_classes = 0;
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *sub = g_build_filename (path, names->pdata[i], NULL);
      if (g_file_test (sub, G_FILE_TEST_IS_DIR))
        {
          g_strv_builder_add (classes, names->pdata[i]);
          n_classes++;
        }
    }
  if (n_classes == 0)
    {
      g_set_error (error, CS_DATASET_ERROR, CS_DATASET_ERROR_EMPTY,
                   "%s: no class folders in it (an image-folder dataset holds "
                   "one sub-folder of pictures per class, such as 0, 1, … 9)",
                   display);
      return NULL;
    }
  if (n_classes > CS_DATASET_MAX_CLASSES)
    {
      g_set_error (error, CS_DATASET_ERROR, CS_DATASET_ERROR_TOO_LARGE,
                   "%s: %u class folders, more than the %u Convscope's labels "
                   "can tell apart", display, n_classes, CS_DATASET_MAX_CLASSES);
      return NULL;
    }

  g_auto(GStrv) class_names = g_strv_builder_end (classes);
  g_autoptr(GByteArray) images = g_byte_array_new ();
  g_autoptr(GByteArray) labels = g_byte_array_new ();
  for (guint k = 0; k < n_classes; k++)
    {
      g_autofree char *class_path = g_build_filename (path, class_names[k], NULL);

      if (!read_class (class_path, (guint8) k, images, labels, error))
        return NULL;
    }

  g_autoptr(CsDataset) ds = g_new0 (CsDataset, 1);
  ds->n = labels->len;
  ds->rows = ds->cols = FOLDER_SIDE;
  ds->n_classes = n_classes;
  ds->images = g_byte_array_steal (images, NULL);
  ds->labels = g_byte_array_steal (labels, NULL);
  ds->class_names = g_steal_pointer (&class_names);
  ds->name = g_path_get_basename (path);
  return g_steal_pointer (&ds);
}

/* ---------------------------------------------------------------------------
 * Batches
 */

void
cs_dataset_fill_batch (const CsDataset *ds,
                       const guint32   *indices,
                       guint32          n,
                       float           *x,
                       gint32          *y)
{
  g_return_if_fail (ds != NULL);
  g_return_if_fail (n == 0 || (indices != NULL && x != NULL && y != NULL));

  gsize size = (gsize) ds->rows * ds->cols;

  /* x: (n, 1, rows, cols), y: (n) */
  for (guint32 b = 0; b < n; b++)
    {
      guint32 i = indices[b];
      g_assert (i < ds->n);
      const guint8 *src = ds->images + (gsize) i * size;
      float *dst = x + (gsize) b * size;
      for (gsize k = 0; k < size; k++)
        dst[k] = (float) src[k] / 255.0f;  /* divide, as ToTensor does */
      y[b] = ds->labels[i];
    }
}

struct _CsBatcher
{
  const CsDataset *ds;  /* not owned */
  guint32 batch_size;
  guint32 *order;       /* (ds->n) this epoch's order */
  guint32 pos;          /* next position in order */
  guint32 epoch;        /* of the batch served last */
  CsRng rng;
};

CsBatcher *
cs_batcher_new (const CsDataset *ds,
                guint32          batch_size,
                guint64          seed)
{
  g_return_val_if_fail (ds != NULL, NULL);
  g_return_val_if_fail (ds->n > 0, NULL);
  g_return_val_if_fail (batch_size > 0, NULL);

  CsBatcher *b = g_new0 (CsBatcher, 1);
  b->ds = ds;
  b->batch_size = batch_size;
  b->order = g_new (guint32, ds->n);
  for (guint32 i = 0; i < ds->n; i++)
    b->order[i] = i;
  cs_rng_init (&b->rng, seed);
  cs_rng_shuffle_u32 (&b->rng, b->order, ds->n);
  return b;
}

guint32
cs_batcher_next (CsBatcher *b,
                 float     *x,
                 gint32    *y)
{
  g_return_val_if_fail (b != NULL, 0);

  if (b->pos == b->ds->n)
    {
      cs_rng_shuffle_u32 (&b->rng, b->order, b->ds->n);
      b->pos = 0;
      b->epoch++;
    }

  guint32 size = MIN (b->batch_size, b->ds->n - b->pos);
  cs_dataset_fill_batch (b->ds, b->order + b->pos, size, x, y);
  b->pos += size;
  return size;
}

guint32
cs_batcher_epoch (const CsBatcher *b)
{
  g_return_val_if_fail (b != NULL, 0);
  return b->epoch;
}

guint32
cs_batcher_batches_per_epoch (const CsBatcher *b)
{
  g_return_val_if_fail (b != NULL, 0);
  return (guint32) (((guint64) b->ds->n + b->batch_size - 1) / b->batch_size);
}

guint32
cs_batcher_batch_size (const CsBatcher *b)
{
  g_return_val_if_fail (b != NULL, 0);
  return b->batch_size;
}

void
cs_batcher_set_batch_size (CsBatcher *b,
                           guint32    batch_size)
{
  g_return_if_fail (b != NULL);
  g_return_if_fail (batch_size > 0);
  b->batch_size = batch_size;
}

/* The state: pos, epoch, the generator, then the order. */
typedef struct
{
  guint32 pos;
  guint32 epoch;
  CsRng rng;
} BatcherState;

gsize
cs_batcher_state_size_for (guint32 n_examples)
{
  return sizeof (BatcherState) + (gsize) n_examples * sizeof (guint32);
}

gsize
cs_batcher_state_size (const CsBatcher *b)
{
  g_return_val_if_fail (b != NULL, 0);
  return cs_batcher_state_size_for (b->ds->n);
}

void
cs_batcher_save_state (const CsBatcher *b, gpointer state)
{
  g_return_if_fail (b != NULL && state != NULL);
  BatcherState head = { .pos = b->pos, .epoch = b->epoch, .rng = b->rng };
  memcpy (state, &head, sizeof head);
  memcpy ((char *) state + sizeof head, b->order, (gsize) b->ds->n * sizeof (guint32));
}

void
cs_batcher_restore_state (CsBatcher *b, gconstpointer state)
{
  g_return_if_fail (b != NULL && state != NULL);
  BatcherState head;
  memcpy (&head, state, sizeof head);
  g_return_if_fail (head.pos <= b->ds->n);
  b->pos = head.pos;
  b->epoch = head.epoch;
  b->rng = head.rng;
  memcpy (b->order, (const char *) state + sizeof head, (gsize) b->ds->n * sizeof (guint32));
}

void
cs_batcher_save (const CsBatcher *b, guint32 *order, guint32 *pos, guint32 *epoch, CsRng *rng)
{
  g_return_if_fail (b != NULL && order != NULL && pos != NULL && epoch != NULL && rng != NULL);
  memcpy (order, b->order, (gsize) b->ds->n * sizeof (guint32));
  *pos = b->pos;
  *epoch = b->epoch;
  *rng = b->rng;
}

gboolean
cs_batcher_restore (CsBatcher *b, const guint32 *order, guint32 pos, guint32 epoch,
                    const CsRng *rng, GError **error)
{
  g_return_val_if_fail (b != NULL && order != NULL && rng != NULL, FALSE);
  guint32 n = b->ds->n;

  if (pos > n)
    {
      g_set_error (error, CS_DATASET_ERROR, CS_DATASET_ERROR_MISMATCH,
                   "position %u in an epoch of %u examples", pos, n);
      return FALSE;
    }
  g_autofree guint8 *seen = g_new0 (guint8, n);
  for (guint32 i = 0; i < n; i++)
    {
      if (order[i] >= n || seen[order[i]])
        {
          g_set_error (error, CS_DATASET_ERROR, CS_DATASET_ERROR_MISMATCH,
                       "the order of the epoch is not one of the %u examples each once", n);
          return FALSE;
        }
      seen[order[i]] = 1;
    }
  memcpy (b->order, order, (gsize) n * sizeof (guint32));
  b->pos = pos;
  b->epoch = epoch;
  b->rng = *rng;
  return TRUE;
}

void
cs_batcher_free (CsBatcher *b)
{
  if (b == NULL)
    return;
  g_free (b->order);
  g_free (b);
}
