/* test-imagefolder.c — image-folder datasets, against torchvision's ImageFolder
 *
 * The folders are made here, in a temporary folder, with gdk-pixbuf. One of
 * them repeats the pictures tests/golden/make-imagefolder.py gave to
 * torchvision's ImageFolder (Grayscale, Resize ((28, 28)), ToTensor), and
 * what it read is in tests/golden/imagefolder-*-ubyte: the same bytes, the
 * same labels, the same order, here.
 */
#include "core/dataset.h"
#include "core/image.h"

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gstdio.h>
#include <string.h>

typedef struct
{
  char *dir;
} Fixture;

static void
fixture_setup (Fixture       *fx,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fx->dir = g_dir_make_tmp ("convscope-imagefolder-XXXXXX", &error);
  g_assert_no_error (error);
}

static void
remove_tree (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GDir) dir = g_dir_open (path, 0, &error);
      const char *name;

      g_assert_no_error (error);
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          remove_tree (child);
        }
      g_assert_cmpint (g_rmdir (path), ==, 0);
    }
  else
    g_assert_cmpint (g_remove (path), ==, 0);
}

static void
fixture_teardown (Fixture       *fx,
                  gconstpointer  data)
{
  remove_tree (fx->dir);
  g_free (fx->dir);
}

/* fx->dir/rel, its parent folders made; returns the path */
static char *
path_in (Fixture    *fx,
         const char *rel)
{
  char *path = g_build_filename (fx->dir, rel, NULL);
  g_autofree char *parent = g_path_get_dirname (path);

  g_assert_cmpint (g_mkdir_with_parents (parent, 0700), ==, 0);
  return path;
}

static char *
make_folder (Fixture    *fx,
             const char *rel)
{
  char *path = g_build_filename (fx->dir, rel, NULL);

  g_assert_cmpint (g_mkdir_with_parents (path, 0700), ==, 0);
  return path;
}

static char *
write_file (Fixture    *fx,
            const char *rel,
            const void *data,
            gsize       len)
{
  g_autofree char *path = path_in (fx, rel);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, data, (gssize) len, &error);
  g_assert_no_error (error);
  return g_steal_pointer (&path);
}

/* The pictures of tests/golden/make-imagefolder.py: keep in step with its
 * pixel () */
static void
golden_pixel (int      x,
              int      y,
              int      k,
              gboolean grey,
              guint8  *rgb)
{
  if (grey)
    {
      rgb[0] = rgb[1] = rgb[2] = (guint8) (x * 3 + y * y + 7 * k);
      return;
    }
  rgb[0] = (guint8) (x * 7 + y * 3 + 11 * k);
  rgb[1] = (guint8) (x * x + y * 5 + 17 * k);
  rgb[2] = (guint8) (x * y + 3 * k);
}

static char *
save_picture (Fixture    *fx,
              const char *rel,
              GdkPixbuf  *pb,
              const char *type)
{
  g_autofree char *path = path_in (fx, rel);
  g_autoptr(GError) error = NULL;

  gdk_pixbuf_save (pb, path, type, &error, NULL);
  g_assert_no_error (error);
  return g_steal_pointer (&path);
}

static char *
save_golden (Fixture    *fx,
             const char *rel,
             int         width,
             int         height,
             int         k,
             gboolean    grey)
{
  g_autoptr(GdkPixbuf) pb = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, width, height);
  guint8 *pixels = gdk_pixbuf_get_pixels (pb);
  int stride = gdk_pixbuf_get_rowstride (pb);

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      golden_pixel (x, y, k, grey, pixels + y * stride + 3 * x);
  return save_picture (fx, rel, pb, "png");
}

/* A flat picture of one colour, 0xRRGGBBAA */
static char *
save_flat (Fixture    *fx,
           const char *rel,
           int         width,
           int         height,
           gboolean    alpha,
           guint32     rgba,
           const char *type)
{
  g_autoptr(GdkPixbuf) pb = gdk_pixbuf_new (GDK_COLORSPACE_RGB, alpha, 8, width, height);

  gdk_pixbuf_fill (pb, rgba);
  return save_picture (fx, rel, pb, type);
}

/* The error is domain/code, names path and says what. */
static void
expect_error (const char *folder,
              GQuark      domain,
              int         code,
              const char *path,
              const char *what)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CsDataset) ds = cs_dataset_load_folder (folder, &error);
  g_autofree char *display = g_filename_display_name (path);

  g_assert_null (ds);
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_error (error, domain, code);
  if (strstr (error->message, display) == NULL)
    g_error ("the message “%s” does not name %s", error->message, display);
  if (what != NULL && strstr (error->message, what) == NULL)
    g_error ("the message “%s” does not say “%s”", error->message, what);
}

/* ---------------------------------------------------------------------------
 * Good folders
 */

static void
test_pytorch (Fixture       *fx,
              gconstpointer  data)
{
  /* keep in step with FILES in tests/golden/make-imagefolder.py */
  static const struct
  {
    const char *rel;
    int width, height, k;
    gboolean grey;
  } files[] = {
    { "10/b.png", 28, 28, 1, FALSE },
    { "10/a.png", 56, 56, 2, FALSE },
    { "2/Z.png", 37, 23, 3, FALSE },
    { "2/y.png", 20, 10, 4, FALSE },
    { "2/x.png", 100, 300, 5, TRUE },
    { "cat/img.png", 9, 40, 6, FALSE },
  };
  static const guint8 junk[] = { 0, 0, 0, 1, 'B', 'u', 'd', '1' };
  g_autoptr(GError) error = NULL;

  g_autofree char *root = make_folder (fx, "digits");
  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *rel = g_build_filename ("digits", files[i].rel, NULL);
      g_autofree char *path = save_golden (fx, rel, files[i].width, files[i].height,
                                           files[i].k, files[i].grey);
    }
  g_autofree char *ds_store = write_file (fx, "digits/cat/.DS_Store", junk, sizeof junk);
  g_autofree char *readme = write_file (fx, "digits/README.txt", "not a class\n", 12);
  /* Jupyter's: ImageFolder would take it for a class; here it is skipped */
  g_autofree char *hidden = save_flat (fx, "digits/.ipynb_checkpoints/a.png", 3, 3,
                                       FALSE, 0x808080ff, "png");

  g_autoptr(CsDataset) ds = cs_dataset_load_folder (root, &error);
  g_assert_no_error (error);

  g_autofree char *im = g_test_build_filename (G_TEST_DIST, "golden",
                                               "imagefolder-images-idx3-ubyte", NULL);
  g_autofree char *lb = g_test_build_filename (G_TEST_DIST, "golden",
                                               "imagefolder-labels-idx1-ubyte", NULL);
  g_autoptr(CsDataset) golden = cs_dataset_load_idx (im, lb, &error);
  g_assert_no_error (error);

  g_assert_cmpstr (ds->name, ==, "digits");
  g_assert_cmpuint (ds->n, ==, golden->n);
  g_assert_cmpuint (ds->rows, ==, 28);
  g_assert_cmpuint (ds->cols, ==, 28);
  g_assert_cmpuint (ds->n_classes, ==, 3);
  g_assert_nonnull (ds->class_names);
  g_assert_cmpuint (g_strv_length (ds->class_names), ==, 3);
  g_assert_cmpstr (ds->class_names[0], ==, "10");
  g_assert_cmpstr (ds->class_names[1], ==, "2");
  g_assert_cmpstr (ds->class_names[2], ==, "cat");
  g_assert_cmpmem (ds->labels, ds->n, golden->labels, golden->n);

  /* byte for byte: PIL's "L", its bilinear resize, ImageFolder's order */
  gsize differ = 0;
  int worst = 0;
  for (gsize k = 0; k < (gsize) ds->n * 28 * 28; k++)
    if (ds->images[k] != golden->images[k])
      {
        differ++;
        worst = MAX (worst, ABS ((int) ds->images[k] - (int) golden->images[k]));
      }
  g_test_message ("%u pictures: %" G_GSIZE_FORMAT " bytes differ from torchvision's, "
                  "by at most %d", ds->n, differ, worst);
  g_assert_cmpuint (differ, ==, 0);

  /* the 28 × 28 picture, first of class "10" after sorting (b.png is second),
   * is untouched by the resize: its grey levels, exactly */
  const guint8 *b = ds->images + 28 * 28;
  for (int y = 0; y < 28; y++)
    for (int x = 0; x < 28; x++)
      {
        guint8 rgb[3];
        golden_pixel (x, y, 1, FALSE, rgb);
        guint8 want = (guint8) ((rgb[0] * 19595u + rgb[1] * 38470u + rgb[2] * 7471u + 0x8000u) >> 16);
        g_assert_cmpuint (b[y * 28 + x], ==, want);
      }
}

static void
test_formats (Fixture       *fx,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *root = make_folder (fx, "mixed");
  /* class "a": a grey JPEG, and a tiny PNG enlarged to 28 × 28;
   * class "b": a transparent PNG (white), a half-transparent black one */
  g_autofree char *p1 = save_flat (fx, "mixed/a/1.jpg", 50, 70, FALSE, 0xc8c8c8ff, "jpeg");
  g_autofree char *p2 = save_flat (fx, "mixed/a/2.png", 1, 1, FALSE, 0x102030ff, "png");
  g_autofree char *p3 = save_flat (fx, "mixed/b/1.png", 30, 28, TRUE, 0x00000000, "png");
  g_autofree char *p4 = save_flat (fx, "mixed/b/2.png", 28, 28, TRUE, 0x00000080, "png");

  g_autoptr(CsDataset) ds = cs_dataset_load_folder (root, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ds->n, ==, 4);
  g_assert_cmpuint (ds->n_classes, ==, 2);
  static const guint8 labels[] = { 0, 0, 1, 1 };
  g_assert_cmpmem (ds->labels, 4, labels, 4);

  /* L of (16, 32, 48) = 29.04 → 29; white; 127 (255 · 127 / 255, rounded down) */
  for (int k = 0; k < 28 * 28; k++)
    {
      g_assert_cmpint (ABS ((int) ds->images[k] - 200), <=, 2);
      g_assert_cmpuint (ds->images[28 * 28 + k], ==, 29);
      g_assert_cmpuint (ds->images[2 * 28 * 28 + k], ==, 255);
      g_assert_cmpuint (ds->images[3 * 28 * 28 + k], ==, 127);
    }

  /* a class folder given alone: a dataset of nothing but files is no
   * image folder */
  g_autofree char *a = g_build_filename (root, "a", NULL);
  expect_error (a, CS_DATASET_ERROR, CS_DATASET_ERROR_EMPTY, a, "no class folders");
}

static void
test_many_classes (Fixture       *fx,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *root = make_folder (fx, "many");

  /* 256 classes, the most a byte labels, named so that sorting matters */
  for (int k = 255; k >= 0; k--)
    {
      g_autofree char *rel = g_strdup_printf ("many/c%03d/x.png", k);
      g_autofree char *path = save_flat (fx, rel, 2, 2, FALSE, (guint32) k << 24 | 0xff, "png");
    }
  g_autoptr(CsDataset) ds = cs_dataset_load_folder (root, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ds->n, ==, 256);
  g_assert_cmpuint (ds->n_classes, ==, 256);
  for (int k = 0; k < 256; k++)
    {
      g_autofree char *name = g_strdup_printf ("c%03d", k);
      g_assert_cmpstr (ds->class_names[k], ==, name);
      g_assert_cmpuint (ds->labels[k], ==, k);
      /* red k: L = 19595 k / 65536, rounded */
      g_assert_cmpuint (ds->images[k * 28 * 28], ==, (k * 19595 + 0x8000) >> 16);
    }
  g_assert_null (ds->class_names[256]);

  /* one more, empty: refused on the count, before any picture is read */
  g_autofree char *extra = make_folder (fx, "many/c256");
  expect_error (root, CS_DATASET_ERROR, CS_DATASET_ERROR_TOO_LARGE, root, "257");
}

/* ---------------------------------------------------------------------------
 * Bad folders
 */

static void
test_not_a_folder (Fixture       *fx,
                   gconstpointer  data)
{
  g_autofree char *missing = g_build_filename (fx->dir, "no-such-folder", NULL);
  g_autofree char *file = write_file (fx, "file.png", "x", 1);
  g_autofree char *empty = make_folder (fx, "empty");
  g_autofree char *flat = make_folder (fx, "flat");
  g_autofree char *flat_png = save_flat (fx, "flat/1.png", 28, 28, FALSE, 0xffffffff, "png");
  g_autofree char *hidden_only = make_folder (fx, "hidden-only/.git");

  expect_error (missing, G_FILE_ERROR, G_FILE_ERROR_NOENT, missing, "no such folder");
  expect_error (file, G_FILE_ERROR, G_FILE_ERROR_NOTDIR, file, "not a folder");
  expect_error (empty, CS_DATASET_ERROR, CS_DATASET_ERROR_EMPTY, empty, "no class folders");
  expect_error (flat, CS_DATASET_ERROR, CS_DATASET_ERROR_EMPTY, flat, "no class folders");
  g_autofree char *hidden_root = g_path_get_dirname (hidden_only);
  expect_error (hidden_root, CS_DATASET_ERROR, CS_DATASET_ERROR_EMPTY, hidden_root,
                "no class folders");
}

static void
test_empty_class (Fixture       *fx,
                  gconstpointer  data)
{
  g_autofree char *root = make_folder (fx, "d");
  g_autofree char *a = save_flat (fx, "d/0/a.png", 28, 28, FALSE, 0x000000ff, "png");
  g_autofree char *empty = make_folder (fx, "d/1");
  g_autofree char *c = save_flat (fx, "d/2/c.png", 28, 28, FALSE, 0x000000ff, "png");

  expect_error (root, CS_DATASET_ERROR, CS_DATASET_ERROR_EMPTY, empty, "no images");

  /* hidden files are not images either */
  g_autofree char *dot = write_file (fx, "d/1/.directory", "[Desktop Entry]\n", 16);
  expect_error (root, CS_DATASET_ERROR, CS_DATASET_ERROR_EMPTY, empty, "no images");
}

static void
test_bad_files (Fixture       *fx,
                gconstpointer  data)
{
  g_autofree char *root = make_folder (fx, "d");
  g_autofree char *good = save_flat (fx, "d/0/a.png", 28, 28, FALSE, 0x000000ff, "png");

  /* a text file named like a picture */
  g_autofree char *text = write_file (fx, "d/1/x.png", "hello\n", 6);
  expect_error (root, CS_IMAGE_ERROR, CS_IMAGE_ERROR_NOT_IMAGE, text, "not an image");
  g_assert_cmpint (g_remove (text), ==, 0);

  /* a file that is no picture, named as what it is */
  g_autofree char *notes = write_file (fx, "d/1/notes.txt", "a 7 with a bar\n", 15);
  expect_error (root, CS_IMAGE_ERROR, CS_IMAGE_ERROR_NOT_IMAGE, notes, "not an image");
  g_assert_cmpint (g_remove (notes), ==, 0);

  /* a PNG cut short */
  g_autofree char *whole = save_flat (fx, "whole.png", 28, 28, FALSE, 0x336699ff, "png");
  g_autofree char *bytes = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (whole, &bytes, &len, NULL));
  g_autofree char *cut = write_file (fx, "d/1/cut.png", bytes, len - 20);
  expect_error (root, CS_IMAGE_ERROR, CS_IMAGE_ERROR_CORRUPT, cut, "truncated PNG");
  g_assert_cmpint (g_remove (cut), ==, 0);

  /* a picture of another format */
  g_autofree char *bmp = save_flat (fx, "d/1/b.bmp", 28, 28, FALSE, 0x000000ff, "bmp");
  expect_error (root, CS_IMAGE_ERROR, CS_IMAGE_ERROR_UNSUPPORTED, bmp, "PNG and JPEG");
  g_assert_cmpint (g_remove (bmp), ==, 0);

  /* a folder inside a class folder */
  g_autofree char *nested = save_flat (fx, "d/1/more/c.png", 28, 28, FALSE, 0x000000ff, "png");
  g_autofree char *more = g_path_get_dirname (nested);
  expect_error (root, CS_DATASET_ERROR, CS_DATASET_ERROR_FORMAT, more, "inside the class folder");

  /* with the nested one moved up, all is well */
  g_autofree char *moved = g_build_filename (root, "1", "c.png", NULL);
  g_assert_cmpint (g_rename (nested, moved), ==, 0);
  g_assert_cmpint (g_rmdir (more), ==, 0);
  g_autoptr(GError) error = NULL;
  g_autoptr(CsDataset) ds = cs_dataset_load_folder (root, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ds->n, ==, 2);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, fn) \
  g_test_add (path, Fixture, NULL, fixture_setup, fn, fixture_teardown)

  ADD ("/core/imagefolder/pytorch", test_pytorch);
  ADD ("/core/imagefolder/formats", test_formats);
  ADD ("/core/imagefolder/many-classes", test_many_classes);
  ADD ("/core/imagefolder/not-a-folder", test_not_a_folder);
  ADD ("/core/imagefolder/empty-class", test_empty_class);
  ADD ("/core/imagefolder/bad-files", test_bad_files);

#undef ADD

  return g_test_run ();
}
