/* test-image.c — PNG and JPEG files as grey levels, good and bad; the resize
 *
 * The pictures are made here, with gdk-pixbuf, in a temporary folder: RGB
 * and RGBA, PNG and JPEG, of several sizes; the bad ones are cut, garbled or
 * not pictures at all.
 */
#include "core/image.h"

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gstdio.h>
#include <math.h>
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

  fx->dir = g_dir_make_tmp ("convscope-image-XXXXXX", &error);
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

/* ---------------------------------------------------------------------------
 * Pictures
 */

/* A pattern that takes every byte value: channel c of pixel (x, y) */
static guint8
pattern (int x,
         int y,
         int c)
{
  switch (c)
    {
    case 0: return (guint8) (x * 7 + y * 3);
    case 1: return (guint8) (x * x + y * 5 + 17);
    case 2: return (guint8) (x * y + 3);
    default: return (guint8) (x * 13 + y * 29);  /* alpha */
    }
}

static GdkPixbuf *
make_pixbuf (int      width,
             int      height,
             gboolean alpha)
{
  GdkPixbuf *pb = gdk_pixbuf_new (GDK_COLORSPACE_RGB, alpha, 8, width, height);
  int channels = gdk_pixbuf_get_n_channels (pb);
  int stride = gdk_pixbuf_get_rowstride (pb);
  guint8 *pixels = gdk_pixbuf_get_pixels (pb);

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      for (int c = 0; c < channels; c++)
        pixels[y * stride + x * channels + c] = pattern (x, y, c);
  return pb;
}

static char *
save (Fixture    *fx,
      GdkPixbuf  *pb,
      const char *name,
      const char *type)
{
  g_autofree char *path = g_build_filename (fx->dir, name, NULL);
  g_autoptr(GError) error = NULL;

  if (g_str_equal (type, "jpeg"))
    gdk_pixbuf_save (pb, path, type, &error, "quality", "100", NULL);
  else
    gdk_pixbuf_save (pb, path, type, &error, NULL);
  g_assert_no_error (error);
  return g_steal_pointer (&path);
}

static char *
write_bytes (Fixture      *fx,
             const char   *name,
             const void   *data,
             gsize         len)
{
  g_autofree char *path = g_build_filename (fx->dir, name, NULL);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, data, (gssize) len, &error);
  g_assert_no_error (error);
  return g_steal_pointer (&path);
}

static GBytes *
read_bytes (const char *path)
{
  g_autoptr(GError) error = NULL;
  char *data = NULL;
  gsize len = 0;

  g_file_get_contents (path, &data, &len, &error);
  g_assert_no_error (error);
  return g_bytes_new_take (data, len);
}

/* The grey level an independent reading of the rules gives, in 0..255 as a
 * real number: composite over white in reals, then Rec. 601 weights. */
static double
expected_level (int      x,
                int      y,
                gboolean alpha)
{
  double rgb[3];
  double a = alpha ? pattern (x, y, 3) / 255.0 : 1.0;

  for (int c = 0; c < 3; c++)
    rgb[c] = pattern (x, y, c) * a + 255.0 * (1.0 - a);
  return 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2];
}

/* Every pixel within tolerance (in levels of 255) of expected_level; and
 * each exactly some k / 255, as ToTensor's division gives. */
static void
check_pattern (const CsImage *image,
               int            width,
               int            height,
               gboolean       alpha,
               double         tolerance)
{
  double worst = 0.0;

  g_assert_nonnull (image);
  g_assert_cmpint (image->width, ==, width);
  g_assert_cmpint (image->height, ==, height);
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        float v = image->gray[y * width + x];
        long level = lrintf (v * 255.0f);
        g_assert_cmpfloat (v, ==, (float) level / 255.0f);
        worst = MAX (worst, fabs (level - expected_level (x, y, alpha)));
      }
  g_test_message ("%d × %d%s: largest difference %.2f levels", width, height,
                  alpha ? " with alpha" : "", worst);
  g_assert_cmpfloat (worst, <=, tolerance);
}

/* The error is domain/code and its message names path and says what. */
static void
assert_error (const GError *error,
              GQuark        domain,
              int           code,
              const char   *path,
              const char   *what)
{
  g_autofree char *display = g_filename_display_name (path);

  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_error ((GError *) error, domain, code);
  if (strstr (error->message, display) == NULL)
    g_error ("the message “%s” does not name %s", error->message, display);
  if (what != NULL && strstr (error->message, what) == NULL)
    g_error ("the message “%s” does not say “%s”", error->message, what);
}

static void
expect_error (const char *path,
              GQuark      domain,
              int         code,
              const char *what)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CsImage) image = cs_image_load (path, &error);

  g_assert_null (image);
  assert_error (error, domain, code, path, what);
}

/* ---------------------------------------------------------------------------
 * Good pictures
 */

static void
test_png (Fixture       *fx,
          gconstpointer  data)
{
  static const int sizes[][2] = { { 1, 1 }, { 28, 28 }, { 300, 17 }, { 13, 401 } };

  for (gsize k = 0; k < G_N_ELEMENTS (sizes); k++)
    for (int alpha = 0; alpha < 2; alpha++)
      {
        int w = sizes[k][0], h = sizes[k][1];
        g_autoptr(GdkPixbuf) pb = make_pixbuf (w, h, alpha);
        g_autofree char *name = g_strdup_printf ("p%zu-%d.png", k, alpha);
        g_autofree char *path = save (fx, pb, name, "png");
        g_autoptr(GError) error = NULL;
        g_autoptr(CsImage) image = cs_image_load (path, &error);

        g_assert_no_error (error);
        /* the fixed point rounds once per channel for the alpha and once
         * for L: within a level of the real numbers */
        check_pattern (image, w, h, alpha, alpha ? 1.5 : 1.0);

        /* the same from bytes */
        g_autoptr(GBytes) bytes = read_bytes (path);
        g_autoptr(CsImage) again = cs_image_load_bytes (bytes, "stdin", &error);
        g_assert_no_error (error);
        g_assert_cmpmem (again->gray, (gsize) w * h * sizeof (float),
                         image->gray, (gsize) w * h * sizeof (float));
      }
}

static void
test_pil_levels (Fixture       *fx,
                 gconstpointer  data)
{
  /* PIL's convert ("L") of pure colours, as PIL gives them; and alpha over
   * white: transparent is white whatever its colour */
  static const struct { guint8 rgba[4]; int level; } cases[] = {
    { { 255, 0, 0, 255 }, 76 },
    { { 0, 255, 0, 255 }, 150 },
    { { 0, 0, 255, 255 }, 29 },
    { { 255, 255, 255, 255 }, 255 },
    { { 0, 0, 0, 255 }, 0 },
    { { 128, 128, 128, 255 }, 128 },
    { { 0, 0, 0, 0 }, 255 },
    { { 255, 0, 0, 0 }, 255 },
    { { 0, 0, 0, 128 }, 127 },  /* 255 · 127 / 255 */
  };
  g_autoptr(GdkPixbuf) pb = gdk_pixbuf_new (GDK_COLORSPACE_RGB, TRUE, 8,
                                            G_N_ELEMENTS (cases), 1);
  guint8 *pixels = gdk_pixbuf_get_pixels (pb);

  for (gsize k = 0; k < G_N_ELEMENTS (cases); k++)
    memcpy (pixels + 4 * k, cases[k].rgba, 4);
  g_autofree char *path = save (fx, pb, "levels.png", "png");
  g_autoptr(GError) error = NULL;
  g_autoptr(CsImage) image = cs_image_load (path, &error);
  g_assert_no_error (error);
  for (gsize k = 0; k < G_N_ELEMENTS (cases); k++)
    g_assert_cmpint (lrintf (image->gray[k] * 255.0f), ==, cases[k].level);
}

static void
test_jpeg (Fixture       *fx,
           gconstpointer  data)
{
  /* JPEG is lossy: a smooth picture, compared within a few levels */
  static const int sizes[][2] = { { 64, 48 }, { 17, 90 } };

  for (gsize k = 0; k < G_N_ELEMENTS (sizes); k++)
    {
      int w = sizes[k][0], h = sizes[k][1];
      g_autoptr(GdkPixbuf) pb = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, w, h);
      guint8 *pixels = gdk_pixbuf_get_pixels (pb);
      int stride = gdk_pixbuf_get_rowstride (pb);
      for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
          {
            guint8 *p = pixels + y * stride + 3 * x;
            p[0] = (guint8) (255 * x / (w - 1));
            p[1] = (guint8) (255 * y / (h - 1));
            p[2] = 100;
          }
      g_autofree char *name = g_strdup_printf ("smooth%zu.jpg", k);
      g_autofree char *path = save (fx, pb, name, "jpeg");
      g_autoptr(GError) error = NULL;
      g_autoptr(CsImage) image = cs_image_load (path, &error);

      g_assert_no_error (error);
      g_assert_cmpint (image->width, ==, w);
      g_assert_cmpint (image->height, ==, h);
      double worst = 0.0;
      for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
          {
            const guint8 *p = pixels + y * stride + 3 * x;
            double want = 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
            worst = MAX (worst, fabs (image->gray[y * w + x] * 255.0 - want));
          }
      g_test_message ("JPEG %d × %d: largest difference %.2f levels", w, h, worst);
      g_assert_cmpfloat (worst, <, 4.0);
    }
}

/* The JPEG of a picture with an EXIF block saying "orientation 6" (turn 90°
 * clockwise to show it), as a phone writes it, put after the start marker. */
static GBytes *
jpeg_with_orientation (GdkPixbuf *pb)
{
  static const guint8 app1[] = {
    0xff, 0xe1, 0x00, 0x22,               /* APP1, 34 bytes long */
    'E', 'x', 'i', 'f', 0, 0,
    'I', 'I', 0x2a, 0x00, 8, 0, 0, 0,     /* TIFF, little-endian, IFD at 8 */
    1, 0,                                 /* one entry: */
    0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0,  /* Orientation, SHORT, 1, 6 */
    0, 0, 0, 0,                           /* no next IFD */
  };
  g_autoptr(GError) error = NULL;
  g_autofree char *buf = NULL;
  gsize len = 0;

  gdk_pixbuf_save_to_buffer (pb, &buf, &len, "jpeg", &error, "quality", "100", NULL);
  g_assert_no_error (error);
  g_assert_cmpuint ((guint8) buf[0], ==, 0xff);
  g_assert_cmpuint ((guint8) buf[1], ==, 0xd8);

  GByteArray *a = g_byte_array_new ();
  g_byte_array_append (a, (const guint8 *) buf, 2);
  g_byte_array_append (a, app1, sizeof app1);
  g_byte_array_append (a, (const guint8 *) buf + 2, len - 2);
  return g_byte_array_free_to_bytes (a);
}

static void
test_jpeg_orientation (Fixture       *fx,
                       gconstpointer  data)
{
  /* 32 × 16, left half black, right half white: shown turned, 16 × 32 with
   * the black half on top */
  g_autoptr(GdkPixbuf) pb = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, 32, 16);
  guint8 *pixels = gdk_pixbuf_get_pixels (pb);
  int stride = gdk_pixbuf_get_rowstride (pb);
  for (int y = 0; y < 16; y++)
    {
      memset (pixels + y * stride, 0, 16 * 3);
      memset (pixels + y * stride + 16 * 3, 255, 16 * 3);
    }

  g_autoptr(GBytes) bytes = jpeg_with_orientation (pb);
  g_autoptr(GError) error = NULL;
  g_autoptr(CsImage) image = cs_image_load_bytes (bytes, "phone.jpg", &error);
  g_assert_no_error (error);
  g_assert_cmpint (image->width, ==, 16);
  g_assert_cmpint (image->height, ==, 32);
  for (int y = 0; y < 32; y++)
    for (int x = 0; x < 16; x++)
      {
        /* away from the edge, where JPEG rings */
        if (y == 15 || y == 16)
          continue;
        float v = image->gray[y * 16 + x];
        if (y < 16)
          g_assert_cmpfloat (v, <, 0.05f);
        else
          g_assert_cmpfloat (v, >, 0.95f);
      }
}

/* ---------------------------------------------------------------------------
 * Bad files
 */

static void
test_not_image (Fixture       *fx,
                gconstpointer  data)
{
  g_autofree char *text = write_bytes (fx, "x.png", "hello, I am not a picture\n", 26);
  g_autofree char *empty = write_bytes (fx, "empty.png", "", 0);
  static const guint8 junk[] = { 0x00, 0x01, 0x02, 0xfe, 0x42, 0x99, 0x13, 0x37, 0x00, 0x00 };
  g_autofree char *binary = write_bytes (fx, "junk.jpg", junk, sizeof junk);
  g_autofree char *missing = g_build_filename (fx->dir, "no-such.png", NULL);

  expect_error (text, CS_IMAGE_ERROR, CS_IMAGE_ERROR_NOT_IMAGE, "not an image (it holds text)");
  expect_error (empty, CS_IMAGE_ERROR, CS_IMAGE_ERROR_NOT_IMAGE, "empty");
  expect_error (binary, CS_IMAGE_ERROR, CS_IMAGE_ERROR_NOT_IMAGE, "does not start as");
  expect_error (missing, G_FILE_ERROR, G_FILE_ERROR_NOENT, NULL);
  expect_error (fx->dir, G_FILE_ERROR, G_FILE_ERROR_ISDIR, "folder");

  /* bytes: the name given stands for the file */
  g_autoptr(GBytes) bytes = g_bytes_new_static ("{ \"digit\": 7 }\n", 15);
  g_autoptr(GError) error = NULL;
  g_autoptr(CsImage) image = cs_image_load_bytes (bytes, "standard input", &error);
  g_assert_null (image);
  assert_error (error, CS_IMAGE_ERROR, CS_IMAGE_ERROR_NOT_IMAGE, "standard input", "text");
}

static void
test_unsupported (Fixture       *fx,
                  gconstpointer  data)
{
  g_autoptr(GdkPixbuf) pb = make_pixbuf (16, 16, FALSE);
  g_autofree char *bmp = save (fx, pb, "digit.bmp", "bmp");
  /* a TIFF named .png: the bytes decide */
  g_autofree char *tiff = save (fx, pb, "digit.png", "tiff");

  expect_error (bmp, CS_IMAGE_ERROR, CS_IMAGE_ERROR_UNSUPPORTED, "a BMP image");
  expect_error (tiff, CS_IMAGE_ERROR, CS_IMAGE_ERROR_UNSUPPORTED, "a TIFF image");

  /* a PGM: its header is text */
  g_autofree char *pgm = write_bytes (fx, "digit.pgm", "P5\n2 1\n255\n\x10\x20", 13);
  expect_error (pgm, CS_IMAGE_ERROR, CS_IMAGE_ERROR_UNSUPPORTED, "a PNM");
}

static void
test_truncated (Fixture       *fx,
                gconstpointer  data)
{
  g_autoptr(GdkPixbuf) pb = make_pixbuf (40, 30, FALSE);
  const char *types[] = { "png", "jpeg" };

  for (gsize t = 0; t < G_N_ELEMENTS (types); t++)
    {
      g_autofree char *name = g_strdup_printf ("whole.%s", types[t]);
      g_autofree char *whole = save (fx, pb, name, types[t]);
      g_autoptr(GBytes) bytes = read_bytes (whole);
      gsize len = g_bytes_get_size (bytes);
      const guint8 *data_ = g_bytes_get_data (bytes, NULL);

      /* cut in the header, in the middle, and just before the end marker
       * (PNG's IEND chunk is 12 bytes, JPEG's EOI 2) */
      gsize cuts[] = { 20, len / 2, len - (t == 0 ? 12 : 2) };
      for (gsize k = 0; k < G_N_ELEMENTS (cuts); k++)
        {
          g_autofree char *cut_name = g_strdup_printf ("cut%zu.%s", k, types[t]);
          g_autofree char *cut = write_bytes (fx, cut_name, data_, cuts[k]);
          expect_error (cut, CS_IMAGE_ERROR, CS_IMAGE_ERROR_CORRUPT,
                        t == 0 ? "truncated PNG" : "truncated JPEG");
        }
      g_assert_cmpint (g_remove (whole), ==, 0);
    }
}

static void
test_damaged (Fixture       *fx,
              gconstpointer  data)
{
  g_autoptr(GdkPixbuf) pb = make_pixbuf (40, 30, FALSE);
  g_autofree char *whole = save (fx, pb, "whole.png", "png");
  g_autoptr(GBytes) bytes = read_bytes (whole);
  gsize len = g_bytes_get_size (bytes);
  g_autofree guint8 *bad = g_memdup2 (g_bytes_get_data (bytes, NULL), len);

  /* garbage in the chunks' data, the chunk structure kept: libpng's CRC
   * checks catch it */
  const guint8 *idat = memmem (bad, len, "IDAT", 4);
  g_assert_nonnull (idat);
  gsize at = (gsize) (idat - bad) + 8;
  for (gsize k = at; k < at + 16; k++)
    bad[k] ^= 0x5a;
  g_autofree char *garbled = write_bytes (fx, "garbled.png", bad, len);
  expect_error (garbled, CS_IMAGE_ERROR, CS_IMAGE_ERROR_CORRUPT, "damaged");

  /* a chunk claiming 2 GiB */
  memcpy (bad, g_bytes_get_data (bytes, NULL), len);
  bad[8] = 0x80;
  g_autofree char *huge = write_bytes (fx, "huge-chunk.png", bad, len);
  expect_error (huge, CS_IMAGE_ERROR, CS_IMAGE_ERROR_CORRUPT, "damaged");
  g_assert_cmpint (g_remove (whole), ==, 0);
}

static void
test_too_large (Fixture       *fx,
                gconstpointer  data)
{
  /* real files, small on disk, refused before their pixels are allocated */
  static const int sizes[][2] = { { CS_IMAGE_MAX_SIDE + 1, 1 }, { 2, 20000 } };
  const char *types[] = { "png", "jpeg" };

  for (gsize k = 0; k < G_N_ELEMENTS (sizes); k++)
    for (gsize t = 0; t < G_N_ELEMENTS (types); t++)
      {
        g_autoptr(GdkPixbuf) pb = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8,
                                                  sizes[k][0], sizes[k][1]);
        gdk_pixbuf_fill (pb, 0xffffffff);
        g_autofree char *name = g_strdup_printf ("big%zu.%s", k, types[t]);
        g_autofree char *path = save (fx, pb, name, types[t]);
        g_autofree char *size = g_strdup_printf ("%d × %d", sizes[k][0], sizes[k][1]);

        expect_error (path, CS_IMAGE_ERROR, CS_IMAGE_ERROR_TOO_LARGE, size);
      }

  /* the largest side allowed loads */
  g_autoptr(GdkPixbuf) pb = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, CS_IMAGE_MAX_SIDE, 2);
  gdk_pixbuf_fill (pb, 0x000000ff);
  g_autofree char *path = save (fx, pb, "widest.png", "png");
  g_autoptr(GError) error = NULL;
  g_autoptr(CsImage) image = cs_image_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (image->width, ==, CS_IMAGE_MAX_SIDE);
}

/* ---------------------------------------------------------------------------
 * PIL's bilinear resize
 */

static void
test_resize_small (void)
{
  guint8 out[4];

  /* 2 → 1: the two averaged, .5 rounding up: (10 + 21) / 2 = 15.5 → 16 */
  static const guint8 pair[2] = { 10, 21 };
  cs_image_resize_u8 (pair, 2, 1, out, 1, 1);
  g_assert_cmpuint (out[0], ==, 16);

  /* 1 → 2 along each axis: nothing to interpolate with, copied */
  static const guint8 one[1] = { 77 };
  cs_image_resize_u8 (one, 1, 1, out, 2, 2);
  g_assert_cmpmem (out, 4, ((guint8[]) { 77, 77, 77, 77 }), 4);

  /* 2 → 4: centres at 0.25, 0.75, ..., input centres at 0.5 and 1.5 (in
   * input pixels); weights 1, ¾ ¼, ¼ ¾, 1 */
  static const guint8 ramp[2] = { 0, 200 };
  cs_image_resize_u8 (ramp, 2, 1, out, 4, 1);
  g_assert_cmpmem (out, 4, ((guint8[]) { 0, 50, 150, 200 }), 4);

  /* 3 → 1: the triangle of half-width 3 centred on 1.5 weighs the three
   * pixels 2/3, 1, 2/3: 2/7, 3/7, 2/7 */
  static const guint8 three[3] = { 0, 110, 220 };
  cs_image_resize_u8 (three, 1, 3, out, 1, 1);
  g_assert_cmpuint (out[0], ==, 110);
  static const guint8 peak[3] = { 0, 220, 0 };
  cs_image_resize_u8 (peak, 3, 1, out, 1, 1);
  g_assert_cmpuint (out[0], ==, 94);  /* 220 · 3/7 = 94.3 */

  /* the same size: a copy */
  guint8 big[6 * 5], copy[6 * 5];
  for (int k = 0; k < 30; k++)
    big[k] = (guint8) (k * 37);
  cs_image_resize_u8 (big, 6, 5, copy, 6, 5);
  g_assert_cmpmem (copy, sizeof copy, big, sizeof big);
}

static void
test_resize_flat (void)
{
  /* any size to any size: a flat picture stays flat, exactly */
  static const int sizes[] = { 1, 2, 3, 7, 28, 29, 100, 333 };

  for (gsize a = 0; a < G_N_ELEMENTS (sizes); a++)
    for (gsize b = 0; b < G_N_ELEMENTS (sizes); b++)
      {
        int w = sizes[a], h = sizes[(a + b) % G_N_ELEMENTS (sizes)];
        int dw = sizes[b], dh = 28;
        g_autofree guint8 *src = g_new (guint8, (gsize) w * h);
        g_autofree guint8 *dst = g_new (guint8, (gsize) dw * dh);
        memset (src, 201, (gsize) w * h);
        cs_image_resize_u8 (src, w, h, dst, dw, dh);
        for (int k = 0; k < dw * dh; k++)
          g_assert_cmpuint (dst[k], ==, 201);
      }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, fn) \
  g_test_add (path, Fixture, NULL, fixture_setup, fn, fixture_teardown)

  ADD ("/core/image/png", test_png);
  ADD ("/core/image/pil-levels", test_pil_levels);
  ADD ("/core/image/jpeg", test_jpeg);
  ADD ("/core/image/jpeg-orientation", test_jpeg_orientation);
  ADD ("/core/image/not-image", test_not_image);
  ADD ("/core/image/unsupported", test_unsupported);
  ADD ("/core/image/truncated", test_truncated);
  ADD ("/core/image/damaged", test_damaged);
  ADD ("/core/image/too-large", test_too_large);
  g_test_add_func ("/core/image/resize/small", test_resize_small);
  g_test_add_func ("/core/image/resize/flat", test_resize_flat);

#undef ADD

  return g_test_run ();
}
