/* test-dataset.c — IDX files good and bad, the bundled digits, mini-batches */
#include "core/dataset.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

/* ---------------------------------------------------------------------------
 * Helpers: IDX files written into a temporary folder
 */

typedef struct
{
  char *dir;
} Fixture;

static void
fixture_setup (Fixture       *fx,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fx->dir = g_dir_make_tmp ("convscope-dataset-XXXXXX", &error);
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture       *fx,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) dir = g_dir_open (fx->dir, 0, &error);
  const char *name;

  g_assert_no_error (error);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (fx->dir, name, NULL);
      g_assert_cmpint (g_remove (path), ==, 0);
    }
  g_assert_cmpint (g_rmdir (fx->dir), ==, 0);
  g_free (fx->dir);
}

static void
append_be32 (GByteArray *a,
             guint32     v)
{
  guint8 b[4] = { v >> 24, v >> 16, v >> 8, v };
  g_byte_array_append (a, b, 4);
}

/* An IDX image file: header (magic, n, rows, cols) and n_data bytes of
 * pixels, pixel k = (7 k + 1) mod 256. */
static GByteArray *
make_images (guint32 magic,
             guint32 n,
             guint32 rows,
             guint32 cols,
             gsize   n_data)
{
  GByteArray *a = g_byte_array_new ();

  append_be32 (a, magic);
  append_be32 (a, n);
  append_be32 (a, rows);
  append_be32 (a, cols);
  for (gsize k = 0; k < n_data; k++)
    {
      guint8 p = (guint8) (7 * k + 1);
      g_byte_array_append (a, &p, 1);
    }
  return a;
}

/* An IDX label file; labels[i] = pattern[i % 5] */
static GByteArray *
make_labels (guint32 magic,
             guint32 n,
             gsize   n_data)
{
  static const guint8 pattern[5] = { 3, 0, 2, 3, 1 };
  GByteArray *a = g_byte_array_new ();

  append_be32 (a, magic);
  append_be32 (a, n);
  for (gsize i = 0; i < n_data; i++)
    g_byte_array_append (a, &pattern[i % 5], 1);
  return a;
}

static GBytes *
gzip_bytes (const guint8 *data,
            gsize         len)
{
  g_autoptr(GZlibCompressor) z =
    g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP, -1);
  g_autoptr(GOutputStream) mem = g_memory_output_stream_new_resizable ();
  g_autoptr(GOutputStream) out =
    g_converter_output_stream_new (mem, G_CONVERTER (z));
  g_autoptr(GError) error = NULL;

  g_output_stream_write_all (out, data, len, NULL, NULL, &error);
  g_assert_no_error (error);
  g_output_stream_close (out, NULL, &error);  /* closes mem too */
  g_assert_no_error (error);
  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (mem));
}

/* Writes data into fx->dir/name, gzipped if asked; returns the path. */
static char *
write_file (Fixture      *fx,
            const char   *name,
            const guint8 *data,
            gsize         len,
            gboolean      gzip)
{
  g_autofree char *path = g_build_filename (fx->dir, name, NULL);
  g_autoptr(GBytes) gz = NULL;
  g_autoptr(GError) error = NULL;

  if (gzip)
    {
      gz = gzip_bytes (data, len);
      data = g_bytes_get_data (gz, &len);
    }
  g_file_set_contents (path, (const char *) data, len, &error);
  g_assert_no_error (error);
  return g_steal_pointer (&path);
}

static char *
write_array (Fixture    *fx,
             const char *name,
             GByteArray *a,
             gboolean    gzip)
{
  char *path = write_file (fx, name, a->data, a->len, gzip);
  g_byte_array_unref (a);
  return path;
}

/* The error is domain/code and its message names the file at path. */
static void
assert_error_names (const GError *error,
                    GQuark        domain,
                    int           code,
                    const char   *path)
{
  g_autofree char *display = g_filename_display_name (path);

  g_assert_error ((GError *) error, domain, code);
  g_test_message ("%s", error->message);
  if (strstr (error->message, display) == NULL)
    g_error ("the message “%s” does not name %s", error->message, display);
}

/* Loads images and labels, expects the error, checks it names bad_path. */
static void
expect_load_error (const char *images,
                   const char *labels,
                   GQuark      domain,
                   int         code,
                   const char *bad_path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CsDataset) ds = cs_dataset_load_idx (images, labels, &error);

  g_assert_null (ds);
  assert_error_names (error, domain, code, bad_path);
}

/* A good set: 5 images of 3 × 4, labels 3 0 2 3 1 */
#define GOOD_N    5u
#define GOOD_ROWS 3u
#define GOOD_COLS 4u
#define GOOD_PIX  (GOOD_N * GOOD_ROWS * GOOD_COLS)

static char *
write_good_labels (Fixture    *fx,
                   const char *name,
                   gboolean    gzip)
{
  return write_array (fx, name, make_labels (0x801, GOOD_N, GOOD_N), gzip);
}

/* ---------------------------------------------------------------------------
 * Good files
 */

static void
check_good (const CsDataset *ds)
{
  static const guint8 labels[GOOD_N] = { 3, 0, 2, 3, 1 };

  g_assert_nonnull (ds);
  g_assert_cmpuint (ds->n, ==, GOOD_N);
  g_assert_cmpuint (ds->rows, ==, GOOD_ROWS);
  g_assert_cmpuint (ds->cols, ==, GOOD_COLS);
  g_assert_cmpuint (ds->n_classes, ==, 4);
  for (gsize k = 0; k < GOOD_PIX; k++)
    g_assert_cmpuint (ds->images[k], ==, (guint8) (7 * k + 1));
  g_assert_cmpmem (ds->labels, GOOD_N, labels, GOOD_N);
  g_assert_nonnull (ds->name);
}

static void
test_idx_good (Fixture       *fx,
               gconstpointer  data)
{
  /* every mix of plain and gzip, and names that lie about it: the bytes
   * decide, not the name */
  for (int mode = 0; mode < 4; mode++)
    {
      gboolean gz_im = mode & 1, gz_lb = mode & 2;
      g_autofree char *im_name = g_strdup_printf ("im%d%s", mode, gz_im ? ".idx" : ".gz");
      g_autofree char *lb_name = g_strdup_printf ("lb%d%s", mode, gz_lb ? "" : ".gz");
      g_autofree char *im = write_array (fx, im_name,
                                         make_images (0x803, GOOD_N, GOOD_ROWS,
                                                      GOOD_COLS, GOOD_PIX),
                                         gz_im);
      g_autofree char *lb = write_good_labels (fx, lb_name, gz_lb);
      g_autoptr(GError) error = NULL;
      g_autoptr(CsDataset) ds = cs_dataset_load_idx (im, lb, &error);

      g_assert_no_error (error);
      check_good (ds);
      g_assert_cmpstr (ds->name, ==, im_name);
    }
}

/* ---------------------------------------------------------------------------
 * Bad headers
 */

static void
test_idx_bad_magic (Fixture       *fx,
                    gconstpointer  data)
{
  for (int gz = 0; gz < 2; gz++)
    {
      g_autofree char *im = write_array (fx, "im",
                                         make_images (0x803, GOOD_N, GOOD_ROWS,
                                                      GOOD_COLS, GOOD_PIX), gz);
      g_autofree char *lb = write_good_labels (fx, "lb", gz);
      g_autofree char *junk = write_array (fx, "junk.gz",
                                           make_images (0x12345678, GOOD_N,
                                                        GOOD_ROWS, GOOD_COLS,
                                                        GOOD_PIX), gz);

      expect_load_error (junk, lb, CS_DATASET_ERROR, CS_DATASET_ERROR_FORMAT, junk);
      expect_load_error (im, junk, CS_DATASET_ERROR, CS_DATASET_ERROR_FORMAT, junk);
      /* labels given as images and the other way round */
      expect_load_error (lb, im, CS_DATASET_ERROR, CS_DATASET_ERROR_FORMAT, lb);

      g_autoptr(GError) error = NULL;
      g_autoptr(CsDataset) ds = cs_dataset_load_idx (lb, im, &error);
      g_assert_error (error, CS_DATASET_ERROR, CS_DATASET_ERROR_FORMAT);
      g_assert_nonnull (strstr (error->message, "magic number 0x00000801, expected 0x00000803"));
    }
}

static void
test_idx_wrong_rank (Fixture       *fx,
                     gconstpointer  data)
{
  g_autofree char *lb = write_good_labels (fx, "lb", FALSE);
  /* rank 2 and rank 4 image files */
  g_autofree char *r2 = write_array (fx, "r2",
                                     make_images (0x802, GOOD_N, GOOD_ROWS,
                                                  GOOD_COLS, GOOD_PIX), TRUE);
  g_autofree char *r4 = write_array (fx, "r4",
                                     make_images (0x804, GOOD_N, GOOD_ROWS,
                                                  GOOD_COLS, GOOD_PIX), FALSE);
  g_autofree char *im = write_array (fx, "im",
                                     make_images (0x803, GOOD_N, GOOD_ROWS,
                                                  GOOD_COLS, GOOD_PIX), FALSE);
  /* a rank-2 label file */
  g_autofree char *l2 = write_array (fx, "l2", make_labels (0x802, GOOD_N, GOOD_N), FALSE);

  expect_load_error (r2, lb, CS_DATASET_ERROR, CS_DATASET_ERROR_FORMAT, r2);
  expect_load_error (r4, lb, CS_DATASET_ERROR, CS_DATASET_ERROR_FORMAT, r4);
  expect_load_error (im, l2, CS_DATASET_ERROR, CS_DATASET_ERROR_FORMAT, l2);
}

static void
test_idx_wrong_type (Fixture       *fx,
                     gconstpointer  data)
{
  g_autofree char *lb = write_good_labels (fx, "lb", FALSE);
  /* 0x0d: float pixels */
  g_autofree char *im = write_array (fx, "float.idx",
                                     make_images (0x0d03, GOOD_N, GOOD_ROWS,
                                                  GOOD_COLS, 4 * GOOD_PIX), FALSE);
  g_autoptr(GError) error = NULL;
  g_autoptr(CsDataset) ds = cs_dataset_load_idx (im, lb, &error);

  g_assert_null (ds);
  assert_error_names (error, CS_DATASET_ERROR, CS_DATASET_ERROR_FORMAT, im);
  g_assert_nonnull (strstr (error->message, "float"));
}

static void
test_idx_short_header (Fixture       *fx,
                       gconstpointer  data)
{
  g_autofree char *lb = write_good_labels (fx, "lb", FALSE);
  static const guint8 two[] = { 0, 0 };
  static const guint8 half[] = { 0, 0, 8, 3, 0, 0, 0, 5, 0, 0 };
  g_autofree char *im2 = write_file (fx, "two", two, sizeof two, FALSE);
  g_autofree char *im10 = write_file (fx, "half.gz", half, sizeof half, TRUE);

  expect_load_error (im2, lb, CS_DATASET_ERROR, CS_DATASET_ERROR_FORMAT, im2);
  expect_load_error (im10, lb, CS_DATASET_ERROR, CS_DATASET_ERROR_FORMAT, im10);
}

static void
test_idx_zero_dims (Fixture       *fx,
                    gconstpointer  data)
{
  g_autofree char *lb = write_good_labels (fx, "lb", FALSE);
  g_autofree char *rows0 = write_array (fx, "rows0",
                                        make_images (0x803, GOOD_N, 0, GOOD_COLS, 0),
                                        FALSE);
  g_autofree char *cols0 = write_array (fx, "cols0",
                                        make_images (0x803, GOOD_N, GOOD_ROWS, 0, 0),
                                        TRUE);
  g_autofree char *n0 = write_array (fx, "n0",
                                     make_images (0x803, 0, GOOD_ROWS, GOOD_COLS, 0),
                                     FALSE);
  g_autofree char *im = write_array (fx, "im",
                                     make_images (0x803, GOOD_N, GOOD_ROWS,
                                                  GOOD_COLS, GOOD_PIX), FALSE);
  g_autofree char *lb0 = write_array (fx, "lb0", make_labels (0x801, 0, 0), FALSE);

  expect_load_error (rows0, lb, CS_DATASET_ERROR, CS_DATASET_ERROR_FORMAT, rows0);
  expect_load_error (cols0, lb, CS_DATASET_ERROR, CS_DATASET_ERROR_FORMAT, cols0);
  expect_load_error (n0, lb, CS_DATASET_ERROR, CS_DATASET_ERROR_EMPTY, n0);
  expect_load_error (im, lb0, CS_DATASET_ERROR, CS_DATASET_ERROR_EMPTY, lb0);
}

/* Header-only files that claim far too much: refused on the header, before
 * any allocation or reading (a file of 16 bytes that reached the reading
 * would fail as truncated, FORMAT, not TOO_LARGE). */
static void
test_idx_too_large (Fixture       *fx,
                    gconstpointer  data)
{
  g_autofree char *lb = write_good_labels (fx, "lb", FALSE);
  g_autofree char *im = write_array (fx, "im",
                                     make_images (0x803, GOOD_N, GOOD_ROWS,
                                                  GOOD_COLS, GOOD_PIX), FALSE);
  /* 2^31 images of 28 × 28: 1.6 TB */
  g_autofree char *huge = write_array (fx, "huge.gz",
                                       make_images (0x803, 1u << 31, 28, 28, 0),
                                       TRUE);
  /* a product that overflows 64 bits */
  g_autofree char *ovf = write_array (fx, "overflow",
                                      make_images (0x803, G_MAXUINT32, G_MAXUINT32,
                                                   G_MAXUINT32, 0), FALSE);
  /* one image, but too wide */
  g_autofree char *wide = write_array (fx, "wide",
                                       make_images (0x803, 1, 1, 5000, 0), FALSE);
  /* just over 1 GiB of pixels in images of the largest side */
  g_autofree char *big = write_array (fx, "big",
                                      make_images (0x803, 65, 4096, 4096, 0), FALSE);
  /* 2^31 labels */
  g_autofree char *many = write_array (fx, "many-labels",
                                       make_labels (0x801, 1u << 31, 0), FALSE);

  gint64 start = g_get_monotonic_time ();
  expect_load_error (huge, lb, CS_DATASET_ERROR, CS_DATASET_ERROR_TOO_LARGE, huge);
  expect_load_error (ovf, lb, CS_DATASET_ERROR, CS_DATASET_ERROR_TOO_LARGE, ovf);
  expect_load_error (wide, lb, CS_DATASET_ERROR, CS_DATASET_ERROR_TOO_LARGE, wide);
  expect_load_error (big, lb, CS_DATASET_ERROR, CS_DATASET_ERROR_TOO_LARGE, big);
  expect_load_error (im, many, CS_DATASET_ERROR, CS_DATASET_ERROR_TOO_LARGE, many);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 2 * G_USEC_PER_SEC);
}

/* ---------------------------------------------------------------------------
 * Bad data
 */

static void
test_idx_truncated (Fixture       *fx,
                    gconstpointer  data)
{
  for (int gz = 0; gz < 2; gz++)
    {
      g_autofree char *im = write_array (fx, "im",
                                         make_images (0x803, GOOD_N, GOOD_ROWS,
                                                      GOOD_COLS, GOOD_PIX), gz);
      g_autofree char *lb = write_good_labels (fx, "lb", gz);
      g_autofree char *im_short = write_array (fx, "im-short",
                                               make_images (0x803, GOOD_N, GOOD_ROWS,
                                                            GOOD_COLS, GOOD_PIX - 1),
                                               gz);
      g_autofree char *lb_short = write_array (fx, "lb-short",
                                               make_labels (0x801, GOOD_N, GOOD_N - 1),
                                               gz);

      expect_load_error (im_short, lb, CS_DATASET_ERROR, CS_DATASET_ERROR_FORMAT, im_short);
      expect_load_error (im, lb_short, CS_DATASET_ERROR, CS_DATASET_ERROR_FORMAT, lb_short);
    }
}

static void
test_idx_trailing (Fixture       *fx,
                   gconstpointer  data)
{
  for (int gz = 0; gz < 2; gz++)
    {
      g_autofree char *im = write_array (fx, "im",
                                         make_images (0x803, GOOD_N, GOOD_ROWS,
                                                      GOOD_COLS, GOOD_PIX), gz);
      g_autofree char *lb = write_good_labels (fx, "lb", gz);
      g_autofree char *im_long = write_array (fx, "im-long",
                                              make_images (0x803, GOOD_N, GOOD_ROWS,
                                                           GOOD_COLS, GOOD_PIX + 1),
                                              gz);
      g_autofree char *lb_long = write_array (fx, "lb-long",
                                              make_labels (0x801, GOOD_N, GOOD_N + 100),
                                              gz);

      expect_load_error (im_long, lb, CS_DATASET_ERROR, CS_DATASET_ERROR_FORMAT, im_long);
      expect_load_error (im, lb_long, CS_DATASET_ERROR, CS_DATASET_ERROR_FORMAT, lb_long);
    }
}

static void
test_idx_count_mismatch (Fixture       *fx,
                         gconstpointer  data)
{
  g_autofree char *im = write_array (fx, "im",
                                     make_images (0x803, GOOD_N, GOOD_ROWS,
                                                  GOOD_COLS, GOOD_PIX), TRUE);
  g_autofree char *lb = write_array (fx, "lb", make_labels (0x801, GOOD_N + 1, GOOD_N + 1),
                                     FALSE);
  g_autoptr(GError) error = NULL;
  g_autoptr(CsDataset) ds = cs_dataset_load_idx (im, lb, &error);

  g_assert_null (ds);
  /* both files are named */
  assert_error_names (error, CS_DATASET_ERROR, CS_DATASET_ERROR_MISMATCH, im);
  assert_error_names (error, CS_DATASET_ERROR, CS_DATASET_ERROR_MISMATCH, lb);
}

static void
test_idx_missing (Fixture       *fx,
                  gconstpointer  data)
{
  g_autofree char *lb = write_good_labels (fx, "lb", FALSE);
  g_autofree char *im = write_array (fx, "im",
                                     make_images (0x803, GOOD_N, GOOD_ROWS,
                                                  GOOD_COLS, GOOD_PIX), FALSE);
  g_autofree char *missing = g_build_filename (fx->dir, "no-such-file.gz", NULL);

  expect_load_error (missing, lb, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, missing);
  expect_load_error (im, missing, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, missing);
  /* a folder is not a file either */
  g_autoptr(GError) error = NULL;
  g_autoptr(CsDataset) ds = cs_dataset_load_idx (fx->dir, lb, &error);
  g_assert_null (ds);
  g_assert_nonnull (error);
}

static void
test_idx_empty (Fixture       *fx,
                gconstpointer  data)
{
  g_autofree char *lb = write_good_labels (fx, "lb", FALSE);
  g_autofree char *empty = write_file (fx, "empty", (const guint8 *) "", 0, FALSE);
  g_autofree char *empty_gz = write_file (fx, "empty.gz", (const guint8 *) "", 0, TRUE);

  expect_load_error (empty, lb, CS_DATASET_ERROR, CS_DATASET_ERROR_EMPTY, empty);
  expect_load_error (empty_gz, lb, CS_DATASET_ERROR, CS_DATASET_ERROR_EMPTY, empty_gz);
}

static void
test_idx_corrupt_gzip (Fixture       *fx,
                       gconstpointer  data)
{
  g_autofree char *lb = write_good_labels (fx, "lb", FALSE);
  g_autoptr(GByteArray) a = make_images (0x803, GOOD_N, GOOD_ROWS, GOOD_COLS, GOOD_PIX);
  g_autoptr(GBytes) gz = gzip_bytes (a->data, a->len);
  gsize len;
  const guint8 *bytes = g_bytes_get_data (gz, &len);
  g_autofree guint8 *bad = g_memdup2 (bytes, len);

  /* garbage in the deflate stream */
  for (gsize k = 10; k < len - 8; k++)
    bad[k] ^= 0x5a;
  g_autofree char *garbled = write_file (fx, "garbled.gz", bad, len, FALSE);
  expect_load_error (garbled, lb, CS_DATASET_ERROR, CS_DATASET_ERROR_FORMAT, garbled);

  /* a wrong CRC in the trailer: the data decodes, the check fails */
  memcpy (bad, bytes, len);
  bad[len - 8] ^= 0xff;
  g_autofree char *crc = write_file (fx, "crc.gz", bad, len, FALSE);
  expect_load_error (crc, lb, CS_DATASET_ERROR, CS_DATASET_ERROR_FORMAT, crc);

  /* the stream cut short */
  g_autofree char *cut = write_file (fx, "cut.gz", bytes, len / 2, FALSE);
  expect_load_error (cut, lb, CS_DATASET_ERROR, CS_DATASET_ERROR_FORMAT, cut);

  /* just the two magic bytes */
  g_autofree char *magic = write_file (fx, "magic.gz", bytes, 2, FALSE);
  expect_load_error (magic, lb, CS_DATASET_ERROR, CS_DATASET_ERROR_FORMAT, magic);
}

/* ---------------------------------------------------------------------------
 * The named datasets
 */

static const guint32 digits_train[10] = { 801, 902, 793, 826, 784, 690, 811, 856, 755, 782 };
static const guint32 digits_test[10] = { 200, 225, 198, 206, 196, 173, 203, 214, 189, 196 };
static const guint32 digits_all[10] = { 1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978 };

static void
check_class_counts (const CsDataset *ds,
                    const guint32   *expected)
{
  guint32 counts[256] = { 0 };

  for (guint32 i = 0; i < ds->n; i++)
    counts[ds->labels[i]]++;
  for (guint32 k = 0; k < ds->n_classes; k++)
    g_assert_cmpuint (counts[k], ==, expected[k]);
}

static void
test_digits_load (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CsDataset) train = cs_dataset_load_named ("digits", "train", &error);
  g_assert_no_error (error);
  g_autoptr(CsDataset) test = cs_dataset_load_named ("digits", "test", &error);
  g_assert_no_error (error);

  g_assert_cmpuint (train->n, ==, 8000);
  g_assert_cmpuint (test->n, ==, 2000);
  for (int s = 0; s < 2; s++)
    {
      const CsDataset *ds = s == 0 ? train : test;
      g_assert_cmpuint (ds->rows, ==, 28);
      g_assert_cmpuint (ds->cols, ==, 28);
      g_assert_cmpuint (ds->n_classes, ==, 10);
    }
  g_assert_cmpstr (train->name, ==, "MNIST digits (bundled), train");
  /* IDX files name no classes */
  g_assert_null (train->class_names);
  g_assert_cmpstr (test->name, ==, "MNIST digits (bundled), test");

  check_class_counts (train, digits_train);
  check_class_counts (test, digits_test);
  guint32 sum = 0;
  for (int k = 0; k < 10; k++)
    {
      g_assert_cmpuint (digits_train[k] + digits_test[k], ==, digits_all[k]);
      sum += digits_all[k];
    }
  g_assert_cmpuint (sum, ==, 10000);

  /* shuffled, not sorted by class: many label changes in the first 100 */
  guint changes = 0;
  for (guint32 i = 1; i < 100; i++)
    changes += train->labels[i] != train->labels[i - 1];
  g_assert_cmpuint (changes, >, 50);

  /* real digits: a dark background with some ink; MNIST's mean is ~0.13 */
  guint64 total = 0;
  for (gsize k = 0; k < (gsize) train->n * 28 * 28; k++)
    total += train->images[k];
  double mean = (double) total / ((double) train->n * 28 * 28 * 255);
  g_assert_cmpfloat (mean, >, 0.10);
  g_assert_cmpfloat (mean, <, 0.16);
}

static void
test_digits_data_dir (Fixture       *fx,
                      gconstpointer  data)
{
  g_autofree char *old = g_strdup (g_getenv ("CONVSCOPE_DATA_DIR"));
  g_autoptr(GError) error = NULL;

  /* an empty folder: a clear error, no falling back to the bundled copy */
  g_setenv ("CONVSCOPE_DATA_DIR", fx->dir, TRUE);
  g_autoptr(CsDataset) none = cs_dataset_load_named ("digits", "train", &error);
  g_assert_null (none);
  g_assert_error (error, CS_DATASET_ERROR, CS_DATASET_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, fx->dir));
  g_clear_error (&error);

  /* a folder with a digits/ subfolder is used */
  g_autofree char *sub = g_build_filename (fx->dir, "digits", NULL);
  g_assert_cmpint (g_mkdir (sub, 0700), ==, 0);
  static const char *names[] = {
    "digits/train-images-idx3-ubyte.gz", "digits/train-labels-idx1-ubyte.gz",
  };
  g_autofree char *im = write_array (fx, names[0],
                                     make_images (0x803, GOOD_N, GOOD_ROWS,
                                                  GOOD_COLS, GOOD_PIX), TRUE);
  g_autofree char *lb = write_good_labels (fx, names[1], TRUE);
  g_autoptr(CsDataset) ds = cs_dataset_load_named ("digits", "train", &error);
  g_assert_no_error (error);
  check_good (ds);

  /* the test split is missing there */
  g_autoptr(CsDataset) test = cs_dataset_load_named ("digits", "test", &error);
  g_assert_null (test);
  g_assert_error (error, CS_DATASET_ERROR, CS_DATASET_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "t10k-images-idx3-ubyte.gz"));
  g_clear_error (&error);

  g_assert_cmpint (g_remove (im), ==, 0);
  g_assert_cmpint (g_remove (lb), ==, 0);
  g_assert_cmpint (g_rmdir (sub), ==, 0);
  if (old != NULL)
    g_setenv ("CONVSCOPE_DATA_DIR", old, TRUE);
  else
    g_unsetenv ("CONVSCOPE_DATA_DIR");
}

static void
test_named_unknown (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CsDataset) a = cs_dataset_load_named ("cifar", "train", &error);
  g_assert_null (a);
  g_assert_error (error, CS_DATASET_ERROR, CS_DATASET_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "cifar"));
  g_clear_error (&error);

  g_autoptr(CsDataset) b = cs_dataset_load_named ("digits", "validation", &error);
  g_assert_null (b);
  g_assert_error (error, CS_DATASET_ERROR, CS_DATASET_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "validation"));
}

static void
test_fashion_load (void)
{
  if (!cs_dataset_fashion_available ())
    {
      g_test_skip ("Fashion-MNIST is not installed "
                   "(apt install dataset-fashion-mnist to run this test)");
      return;
    }

  g_autoptr(GError) error = NULL;
  g_autoptr(CsDataset) train = cs_dataset_load_named ("fashion", "train", &error);
  g_assert_no_error (error);
  g_autoptr(CsDataset) test = cs_dataset_load_named ("fashion", "test", &error);
  g_assert_no_error (error);

  g_assert_cmpuint (train->n, ==, 60000);
  g_assert_cmpuint (test->n, ==, 10000);
  for (int s = 0; s < 2; s++)
    {
      const CsDataset *ds = s == 0 ? train : test;
      g_assert_cmpuint (ds->rows, ==, 28);
      g_assert_cmpuint (ds->cols, ==, 28);
      g_assert_cmpuint (ds->n_classes, ==, 10);
    }
  g_assert_cmpstr (train->name, ==, "Fashion-MNIST, train");

  /* Fashion-MNIST is balanced: 6,000 and 1,000 of each class */
  guint32 six[10], one[10];
  for (int k = 0; k < 10; k++)
    {
      six[k] = 6000;
      one[k] = 1000;
    }
  check_class_counts (train, six);
  check_class_counts (test, one);
}

static void
test_fashion_missing (Fixture       *fx,
                      gconstpointer  data)
{
  g_autofree char *old = g_strdup (g_getenv ("CONVSCOPE_FASHION_DIR"));
  g_autoptr(GError) error = NULL;

  g_setenv ("CONVSCOPE_FASHION_DIR", fx->dir, TRUE);
  g_assert_false (cs_dataset_fashion_available ());
  g_autoptr(CsDataset) ds = cs_dataset_load_named ("fashion", "test", &error);
  g_assert_null (ds);
  g_assert_error (error, CS_DATASET_ERROR, CS_DATASET_ERROR_NOT_FOUND);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "dataset-fashion-mnist"));

  if (old != NULL)
    g_setenv ("CONVSCOPE_FASHION_DIR", old, TRUE);
  else
    g_unsetenv ("CONVSCOPE_FASHION_DIR");
}

/* ---------------------------------------------------------------------------
 * Batches
 */

static void
test_fill_batch (Fixture       *fx,
                 gconstpointer  data)
{
  g_autofree char *im = write_array (fx, "im",
                                     make_images (0x803, GOOD_N, GOOD_ROWS,
                                                  GOOD_COLS, GOOD_PIX), FALSE);
  g_autofree char *lb = write_good_labels (fx, "lb", FALSE);
  g_autoptr(GError) error = NULL;
  g_autoptr(CsDataset) ds = cs_dataset_load_idx (im, lb, &error);
  g_assert_no_error (error);

  const guint32 idx[3] = { 4, 0, 4 };
  float x[3 * GOOD_ROWS * GOOD_COLS];  /* (3, 1, 3, 4) */
  gint32 y[3];
  cs_dataset_fill_batch (ds, idx, 3, x, y);

  const gsize size = GOOD_ROWS * GOOD_COLS;
  for (int b = 0; b < 3; b++)
    {
      g_assert_cmpint (y[b], ==, ds->labels[idx[b]]);
      for (gsize k = 0; k < size; k++)
        {
          guint8 p = ds->images[idx[b] * size + k];
          g_assert_cmpfloat (x[b * size + k], ==, (float) p / 255.0f);
        }
    }
}

/* n examples of 1 × 2 pixels holding their own index, little-endian, so
 * that a batch tells which examples it holds */
static CsDataset *
make_index_dataset (guint32 n)
{
  CsDataset *ds = g_new0 (CsDataset, 1);

  g_assert_cmpuint (n, <=, 65536);
  ds->n = n;
  ds->rows = 1;
  ds->cols = 2;
  ds->n_classes = 10;
  ds->images = g_new (guint8, 2 * n);
  ds->labels = g_new (guint8, n);
  for (guint32 i = 0; i < n; i++)
    {
      ds->images[2 * i] = i & 0xff;
      ds->images[2 * i + 1] = i >> 8;
      ds->labels[i] = i % 10;
    }
  ds->name = g_strdup ("index");
  return ds;
}

/* Serves one epoch; records the order in order (n) and checks that each
 * index comes exactly once, in batches of batch_size but the last. */
static void
serve_epoch (CsBatcher       *b,
             const CsDataset *ds,
             guint32          batch_size,
             guint32          epoch,
             guint32         *order)
{
  g_autofree float *x = g_new (float, (gsize) batch_size * 2);
  g_autofree gint32 *y = g_new (gint32, batch_size);
  g_autofree gboolean *seen = g_new0 (gboolean, ds->n);
  guint32 served = 0, batches = cs_batcher_batches_per_epoch (b);

  for (guint32 k = 0; k < batches; k++)
    {
      guint32 size = cs_batcher_next (b, x, y);
      guint32 want = k + 1 < batches ? batch_size
                                     : ds->n - (batches - 1) * batch_size;
      g_assert_cmpuint (size, ==, want);
      g_assert_cmpuint (cs_batcher_epoch (b), ==, epoch);
      for (guint32 j = 0; j < size; j++)
        {
          guint32 i = (guint32) (x[2 * j] * 255.0f + 0.5f) +
                      256 * (guint32) (x[2 * j + 1] * 255.0f + 0.5f);
          g_assert_cmpuint (i, <, ds->n);
          g_assert_false (seen[i]);
          g_assert_cmpint (y[j], ==, (gint32) (i % 10));
          seen[i] = TRUE;
          order[served++] = i;
        }
    }
  g_assert_cmpuint (served, ==, ds->n);
}

static void
test_batcher_epochs (void)
{
  g_autoptr(CsDataset) ds = make_index_dataset (8000);
  g_autoptr(CsBatcher) b = cs_batcher_new (ds, 64, 42);
  g_autofree guint32 *e0 = g_new (guint32, ds->n);
  g_autofree guint32 *e1 = g_new (guint32, ds->n);

  g_assert_cmpuint (cs_batcher_batches_per_epoch (b), ==, 125);
  g_assert_cmpuint (cs_batcher_batch_size (b), ==, 64);
  g_assert_cmpuint (cs_batcher_epoch (b), ==, 0);
  serve_epoch (b, ds, 64, 0, e0);
  serve_epoch (b, ds, 64, 1, e1);

  /* shuffled, and differently each epoch */
  guint same = 0, in_place = 0;
  for (guint32 i = 0; i < ds->n; i++)
    {
      same += e0[i] == e1[i];
      in_place += e0[i] == i;
    }
  g_assert_cmpuint (same, <, 100);
  g_assert_cmpuint (in_place, <, 100);
}

static void
test_batcher_reproducible (void)
{
  g_autoptr(CsDataset) ds = make_index_dataset (1000);
  g_autoptr(CsBatcher) a = cs_batcher_new (ds, 100, 7);
  g_autoptr(CsBatcher) b = cs_batcher_new (ds, 100, 7);
  g_autoptr(CsBatcher) c = cs_batcher_new (ds, 100, 8);
  g_autofree guint32 *oa = g_new (guint32, ds->n);
  g_autofree guint32 *ob = g_new (guint32, ds->n);
  g_autofree guint32 *oc = g_new (guint32, ds->n);

  for (guint32 epoch = 0; epoch < 3; epoch++)
    {
      serve_epoch (a, ds, 100, epoch, oa);
      serve_epoch (b, ds, 100, epoch, ob);
      serve_epoch (c, ds, 100, epoch, oc);
      g_assert_cmpmem (oa, ds->n * sizeof *oa, ob, ds->n * sizeof *ob);
      g_assert_true (memcmp (oa, oc, ds->n * sizeof *oa) != 0);
    }
}

static void
test_batcher_partial (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CsDataset) ds = cs_dataset_load_named ("digits", "train", &error);
  g_assert_no_error (error);

  g_autoptr(CsBatcher) b = cs_batcher_new (ds, 3000, 1);
  g_autofree float *x = g_new (float, (gsize) 3000 * 28 * 28);  /* (3000, 1, 28, 28) */
  g_autofree gint32 *y = g_new (gint32, 3000);
  static const guint32 sizes[] = { 3000, 3000, 2000, 3000, 3000, 2000, 3000 };
  static const guint32 epochs[] = { 0, 0, 0, 1, 1, 1, 2 };

  g_assert_cmpuint (cs_batcher_batches_per_epoch (b), ==, 3);
  for (gsize k = 0; k < G_N_ELEMENTS (sizes); k++)
    {
      g_assert_cmpuint (cs_batcher_next (b, x, y), ==, sizes[k]);
      g_assert_cmpuint (cs_batcher_epoch (b), ==, epochs[k]);
      for (guint32 j = 0; j < sizes[k]; j++)
        g_assert_cmpint (y[j], <, 10);
    }

  /* a batch larger than the dataset: one batch per epoch, all of it */
  g_autoptr(CsDataset) small = make_index_dataset (10);
  g_autoptr(CsBatcher) all = cs_batcher_new (small, 64, 3);
  g_autofree guint32 *order = g_new (guint32, small->n);
  g_assert_cmpuint (cs_batcher_batches_per_epoch (all), ==, 1);
  serve_epoch (all, small, 64, 0, order);
  serve_epoch (all, small, 64, 1, order);
}

/* A batch size changed in the middle of an epoch: the epoch goes on in its
 * order, each example once, and the next epoch is the one a batcher of
 * either size would serve. */
static void
test_batcher_resize (void)
{
  g_autoptr(CsDataset) ds = make_index_dataset (1000);
  g_autoptr(CsBatcher) a = cs_batcher_new (ds, 64, 5);
  g_autoptr(CsBatcher) b = cs_batcher_new (ds, 64, 5);
  g_autofree float *x = g_new (float, 100 * 2);
  g_autofree gint32 *y = g_new (gint32, 100);
  g_autofree guint32 *order = g_new (guint32, ds->n);
  g_autofree guint32 *expected = g_new (guint32, ds->n);

  serve_epoch (b, ds, 64, 0, expected);

  guint32 served = 0;
  static const guint32 sizes[] = { 64, 64, 100, 100, 100, 100, 100, 100, 100, 100, 72 };
  for (gsize k = 0; k < G_N_ELEMENTS (sizes); k++)
    {
      if (k == 2)
        {
          cs_batcher_set_batch_size (a, 100);
          g_assert_cmpuint (cs_batcher_batch_size (a), ==, 100);
        }
      guint32 n = cs_batcher_next (a, x, y);
      g_assert_cmpuint (n, ==, sizes[k]);
      g_assert_cmpuint (cs_batcher_epoch (a), ==, 0);
      for (guint32 j = 0; j < n; j++)
        order[served++] = (guint32) (x[2 * j] * 255.0f + 0.5f)
                          + 256 * (guint32) (x[2 * j + 1] * 255.0f + 0.5f);
    }
  g_assert_cmpuint (served, ==, ds->n);
  g_assert_cmpmem (order, ds->n * sizeof *order, expected, ds->n * sizeof *expected);

  /* the next epoch's order does not depend on the sizes served */
  cs_batcher_set_batch_size (a, 64);
  serve_epoch (a, ds, 64, 1, order);
  serve_epoch (b, ds, 64, 1, expected);
  g_assert_cmpmem (order, ds->n * sizeof *order, expected, ds->n * sizeof *expected);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, fn) \
  g_test_add (path, Fixture, NULL, fixture_setup, fn, fixture_teardown)

  ADD ("/core/dataset/idx/good", test_idx_good);
  ADD ("/core/dataset/idx/bad-magic", test_idx_bad_magic);
  ADD ("/core/dataset/idx/wrong-rank", test_idx_wrong_rank);
  ADD ("/core/dataset/idx/wrong-type", test_idx_wrong_type);
  ADD ("/core/dataset/idx/short-header", test_idx_short_header);
  ADD ("/core/dataset/idx/zero-dims", test_idx_zero_dims);
  ADD ("/core/dataset/idx/too-large", test_idx_too_large);
  ADD ("/core/dataset/idx/truncated", test_idx_truncated);
  ADD ("/core/dataset/idx/trailing", test_idx_trailing);
  ADD ("/core/dataset/idx/count-mismatch", test_idx_count_mismatch);
  ADD ("/core/dataset/idx/missing", test_idx_missing);
  ADD ("/core/dataset/idx/empty", test_idx_empty);
  ADD ("/core/dataset/idx/corrupt-gzip", test_idx_corrupt_gzip);
  g_test_add_func ("/core/dataset/digits/load", test_digits_load);
  ADD ("/core/dataset/digits/data-dir", test_digits_data_dir);
  g_test_add_func ("/core/dataset/named/unknown", test_named_unknown);
  g_test_add_func ("/core/dataset/fashion/load", test_fashion_load);
  ADD ("/core/dataset/fashion/missing", test_fashion_missing);
  ADD ("/core/dataset/batch/fill", test_fill_batch);
  g_test_add_func ("/core/dataset/batcher/epochs", test_batcher_epochs);
  g_test_add_func ("/core/dataset/batcher/reproducible", test_batcher_reproducible);
  g_test_add_func ("/core/dataset/batcher/partial", test_batcher_partial);
  g_test_add_func ("/core/dataset/batcher/resize", test_batcher_resize);

#undef ADD

  return g_test_run ();
}
