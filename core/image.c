/* image.c — PNG and JPEG files as grey levels; PIL's bilinear resize
 *
 * The bytes are mapped, not read, and looked at before gdk-pixbuf is: the
 * signature says PNG, JPEG, or neither (then other signatures tell a GIF
 * from a text file for the message). A PNG's chunks are walked to
 * its IEND, and a JPEG's markers to its EOI, first, because gdk-pixbuf's
 * incremental loaders hand back whatever rows they got from a truncated file
 * without a word (rows never received are left as they were allocated).
 * PIL refuses such files too ("image file is truncated").
 *
 * The size is checked when the loader announces it ("size-prepared"), before
 * the pixels are allocated: asking the loader for a size of 0 × 0 there makes
 * the PNG and JPEG loaders stop, which is how gdk_pixbuf_get_file_info ()
 * stops them too.
 */
#include "image-private.h"

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <gio/gio.h>
#include <math.h>
#include <string.h>

G_DEFINE_QUARK (cs-image-error-quark, cs_image_error)

static const guint8 png_signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };

typedef enum
{
  FORMAT_PNG,
  FORMAT_JPEG,
  FORMAT_OTHER,
} Format;

static Format
sniff (const guint8 *data,
       gsize         len)
{
  if (len >= sizeof png_signature && memcmp (data, png_signature, sizeof png_signature) == 0)
    return FORMAT_PNG;
  /* SOI, then the first marker */
  if (len >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff)
    return FORMAT_JPEG;
  return FORMAT_OTHER;
}

static guint32
read_be32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) |
         ((guint32) p[2] << 8) | (guint32) p[3];
}

static void
set_truncated (const char  *display,
               const char  *name,
               gsize        len,
               GError     **error)
{
  g_set_error (error, CS_IMAGE_ERROR, CS_IMAGE_ERROR_CORRUPT,
               "%s: truncated %s image (the file ends after %" G_GSIZE_FORMAT
               " bytes, before the image's end)", display, name, len);
}

/* Walks the chunks (length, type, data, CRC) to IEND. The CRCs and the
 * chunks' contents are libpng's to check. */
static gboolean
png_check_complete (const guint8  *data,
                    gsize          len,
                    const char    *display,
                    GError       **error)
{
  gsize pos = sizeof png_signature;

  while (len - pos >= 8)
    {
      guint32 length = read_be32 (data + pos);
      if (length > G_MAXINT32)
        {
          g_set_error (error, CS_IMAGE_ERROR, CS_IMAGE_ERROR_CORRUPT,
                       "%s: damaged PNG image (a chunk %u bytes long at byte %"
                       G_GSIZE_FORMAT ")", display, length, pos);
          return FALSE;
        }
      if (len - pos - 8 < (gsize) length + 4)
        break;
      if (memcmp (data + pos + 4, "IEND", 4) == 0)
        return TRUE;
      pos += 12 + (gsize) length;
    }
  set_truncated (display, "PNG", len, error);
  return FALSE;
}

/* Walks the markers to EOI: segments by their lengths, the entropy-coded
 * data after each SOS to the next marker (0xff not followed by 0x00, a
 * stuffed byte, or by a restart marker). What follows EOI (a phone's
 * appended video) is left alone; bytes between segments are skipped to the
 * next 0xff, as libjpeg does. */
static gboolean
jpeg_check_complete (const guint8  *data,
                     gsize          len,
                     const char    *display,
                     GError       **error)
{
  gsize pos = 2;  /* after SOI */

  while (TRUE)
    {
      while (pos < len && data[pos] != 0xff)
        pos++;
      while (pos < len && data[pos] == 0xff)  /* fill bytes */
        pos++;
      if (pos >= len)
        break;

      guint8 marker = data[pos++];
      if (marker == 0xd9)  /* EOI */
        return TRUE;
      if (marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7))
        continue;  /* no length: TEM, RSTn */
      if (len - pos < 2)
        break;
      gsize length = ((gsize) data[pos] << 8) | data[pos + 1];
      if (length < 2)
        {
          g_set_error (error, CS_IMAGE_ERROR, CS_IMAGE_ERROR_CORRUPT,
                       "%s: damaged JPEG image (a segment %" G_GSIZE_FORMAT
                       " bytes long at byte %" G_GSIZE_FORMAT ")",
                       display, length, pos);
          return FALSE;
        }
      if (len - pos < length)
        break;
      pos += length;

      if (marker == 0xda)  /* SOS: the scan's data runs to the next marker */
        {
          while (pos + 1 < len &&
                 !(data[pos] == 0xff && data[pos + 1] != 0x00 &&
                   !(data[pos + 1] >= 0xd0 && data[pos + 1] <= 0xd7)))
            pos++;
          if (pos + 1 >= len)
            break;
        }
    }
  set_truncated (display, "JPEG", len, error);
  return FALSE;
}

/* Other pictures, by their first bytes, to say what a file is when it is
 * not PNG or JPEG. (GIO's content-type guess would do it, but its MIME
 * database keeps allocations that LeakSanitizer reports, and it is not
 * there on every system.) */
static const struct
{
  const char *name;
  gsize offset, len;
  const char *magic;
} other_formats[] = {
  { "GIF", 0, 4, "GIF8" },
  { "TIFF", 0, 4, "II*\0" },
  { "TIFF", 0, 4, "MM\0*" },
  { "WebP", 8, 4, "WEBP" },
  { "ICO", 0, 4, "\0\0\1\0" },
  { "HEIF", 4, 8, "ftypheic" },
  { "AVIF", 4, 8, "ftypavif" },
  { "JPEG 2000", 0, 8, "\0\0\0\x0cjP  " },
  { "JPEG XL", 0, 2, "\xff\x0a" },
  { "QOI", 0, 4, "qoif" },
  { "Photoshop", 0, 4, "8BPS" },
  { "OpenEXR", 0, 4, "v/1\1" },
};

/* Text: the first kilobyte is UTF-8 (but for a character the cut splits)
 * without control characters other than white space. */
static gboolean
looks_like_text (const guint8 *data,
                 gsize         len)
{
  gsize n = MIN (len, 1024);
  const char *end = NULL;

  if (!g_utf8_validate_len ((const char *) data, n, &end) &&
      (n < len ? (gsize) (end - (const char *) data) + 4 < n : TRUE))
    return FALSE;
  for (gsize k = 0; k < (gsize) (end - (const char *) data); k++)
    if (data[k] < 0x20 && !g_ascii_isspace (data[k]))
      return FALSE;
  return TRUE;
}

/* The error for bytes that are not PNG or JPEG: another kind of picture, or
 * not a picture at all. */
static void
set_not_png_or_jpeg (const guint8  *data,
                     gsize          len,
                     const char    *display,
                     GError       **error)
{
  const char *format = NULL;

  if (len == 0)
    {
      g_set_error (error, CS_IMAGE_ERROR, CS_IMAGE_ERROR_NOT_IMAGE,
                   "%s: not an image (the file is empty)", display);
      return;
    }

  for (gsize i = 0; i < G_N_ELEMENTS (other_formats) && format == NULL; i++)
    if (len >= other_formats[i].offset + other_formats[i].len &&
        memcmp (data + other_formats[i].offset, other_formats[i].magic,
                other_formats[i].len) == 0)
      format = other_formats[i].name;

  /* PBM, PGM, PPM: "P1" to "P6" and white space, then their sizes */
  if (format == NULL && len >= 3 && data[0] == 'P' && data[1] >= '1' &&
      data[1] <= '6' && g_ascii_isspace (data[2]))
    format = "PNM (PBM, PGM or PPM)";

  if (format == NULL && looks_like_text (data, len))
    {
      /* a drawing in SVG, or text */
      if (g_strstr_len ((const char *) data, MIN (len, 1024), "<svg") != NULL)
        format = "SVG";
      else
        {
          g_set_error (error, CS_IMAGE_ERROR, CS_IMAGE_ERROR_NOT_IMAGE,
                       "%s: not an image (it holds text)", display);
          return;
        }
    }
  if (format == NULL && len >= 2 && data[0] == 'B' && data[1] == 'M')
    format = "BMP";  /* two letters: only once the file is known not to be text */

  if (format != NULL)
    g_set_error (error, CS_IMAGE_ERROR, CS_IMAGE_ERROR_UNSUPPORTED,
                 "%s: a %s image; Convscope reads PNG and JPEG images",
                 display, format);
  else
    g_set_error (error, CS_IMAGE_ERROR, CS_IMAGE_ERROR_NOT_IMAGE,
                 "%s: not an image (it does not start as a PNG or JPEG file does)",
                 display);
}

typedef struct
{
  int width, height;
  gboolean too_large;
} SizeCheck;

static void
on_size_prepared (GdkPixbufLoader *loader,
                  int              width,
                  int              height,
                  gpointer         user_data)
{
  SizeCheck *check = user_data;

  check->width = width;
  check->height = height;
  if (width > CS_IMAGE_MAX_SIDE || height > CS_IMAGE_MAX_SIDE)
    {
      check->too_large = TRUE;
      gdk_pixbuf_loader_set_size (loader, 0, 0);  /* stop before the pixels */
    }
}

static GdkPixbuf *
decode (GBytes      *bytes,
        const char  *display,
        GError     **error)
{
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  Format format = sniff (data, len);
  const char *name = format == FORMAT_PNG ? "PNG" : "JPEG";

  if (format == FORMAT_OTHER)
    {
      set_not_png_or_jpeg (data, len, display, error);
      return NULL;
    }
  if (format == FORMAT_PNG && !png_check_complete (data, len, display, error))
    return NULL;
  if (format == FORMAT_JPEG && !jpeg_check_complete (data, len, display, error))
    return NULL;

  g_autoptr(GError) local = NULL;
  g_autoptr(GdkPixbufLoader) loader =
    gdk_pixbuf_loader_new_with_type (format == FORMAT_PNG ? "png" : "jpeg", &local);
  if (loader == NULL)
    {
      g_set_error (error, CS_IMAGE_ERROR, CS_IMAGE_ERROR_UNSUPPORTED,
                   "%s: gdk-pixbuf cannot read %s images here (%s)",
                   display, name, local->message);
      return NULL;
    }

  SizeCheck check = { 0 };
  g_signal_connect (loader, "size-prepared", G_CALLBACK (on_size_prepared), &check);

  /* A failed write closes the loader itself; closing again is harmless. */
  gboolean ok = gdk_pixbuf_loader_write (loader, data, len, &local);
  if (ok)
    ok = gdk_pixbuf_loader_close (loader, &local);
  else
    gdk_pixbuf_loader_close (loader, NULL);

  if (check.too_large)
    {
      g_set_error (error, CS_IMAGE_ERROR, CS_IMAGE_ERROR_TOO_LARGE,
                   "%s: a %s image of %d × %d pixels is too large (at most %d × %d)",
                   display, name, check.width, check.height,
                   CS_IMAGE_MAX_SIDE, CS_IMAGE_MAX_SIDE);
      return NULL;
    }
  GdkPixbuf *pixbuf = ok ? gdk_pixbuf_loader_get_pixbuf (loader) : NULL;
  if (pixbuf == NULL)
    {
      g_set_error (error, CS_IMAGE_ERROR, CS_IMAGE_ERROR_CORRUPT,
                   "%s: damaged or truncated %s image (%s)", display, name,
                   local != NULL ? local->message : "no picture in it");
      return NULL;
    }

  /* turned as a JPEG's EXIF orientation says; a new reference either way */
  return gdk_pixbuf_apply_embedded_orientation (pixbuf);
}

/* PIL's convert ("L") of the pixbuf, alpha composited over white first:
 * (height, width) bytes. */
static guint8 *
pixbuf_to_luma (GdkPixbuf *pixbuf)
{
  int width = gdk_pixbuf_get_width (pixbuf);
  int height = gdk_pixbuf_get_height (pixbuf);
  int channels = gdk_pixbuf_get_n_channels (pixbuf);
  int stride = gdk_pixbuf_get_rowstride (pixbuf);
  gboolean alpha = gdk_pixbuf_get_has_alpha (pixbuf);
  const guint8 *pixels = gdk_pixbuf_read_pixels (pixbuf);

  /* what the PNG and JPEG loaders give; anything else is a programming error */
  g_assert (gdk_pixbuf_get_colorspace (pixbuf) == GDK_COLORSPACE_RGB);
  g_assert (gdk_pixbuf_get_bits_per_sample (pixbuf) == 8);
  g_assert (channels == (alpha ? 4 : 3));

  guint8 *luma = g_new (guint8, (gsize) width * height);
  for (int y = 0; y < height; y++)
    {
      /* the last row may be shorter than stride: read width · channels */
      const guint8 *p = pixels + (gsize) y * stride;
      guint8 *out = luma + (gsize) y * width;
      for (int x = 0; x < width; x++, p += channels)
        {
          guint32 r = p[0], g = p[1], b = p[2];
          if (alpha)
            {
              /* c a + 255 (1 − a), in bytes, rounded */
              guint32 a = p[3], white = 255 * (255 - a);
              r = (r * a + white + 127) / 255;
              g = (g * a + white + 127) / 255;
              b = (b * a + white + 127) / 255;
            }
          out[x] = (guint8) ((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16);
        }
    }
  return luma;
}

static guint8 *
decode_luma (GBytes      *bytes,
             const char  *display,
             int         *width,
             int         *height,
             GError     **error)
{
  g_autoptr(GdkPixbuf) pixbuf = decode (bytes, display, error);

  if (pixbuf == NULL)
    return NULL;
  *width = gdk_pixbuf_get_width (pixbuf);
  *height = gdk_pixbuf_get_height (pixbuf);
  /* EXIF orientation may have turned it; the limit holds both ways round */
  g_assert (*width <= CS_IMAGE_MAX_SIDE && *height <= CS_IMAGE_MAX_SIDE);
  return pixbuf_to_luma (pixbuf);
}

/* The file's bytes, mapped; NULL with the error set. */
static GBytes *
map_file (const char  *path,
          const char  *display,
          GError     **error)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_ISDIR,
                   "%s: a folder, not an image", display);
      return NULL;
    }

  /* GLib's message names the file: "Failed to open file “…”: …" */
  g_autoptr(GMappedFile) file = g_mapped_file_new (path, FALSE, error);
  if (file == NULL)
    return NULL;
  return g_mapped_file_get_bytes (file);
}

guint8 *
_cs_image_load_luma (const char  *path,
                     int         *width,
                     int         *height,
                     GError     **error)
{
  g_autofree char *display = g_filename_display_name (path);
  g_autoptr(GBytes) bytes = map_file (path, display, error);

  if (bytes == NULL)
    return NULL;
  return decode_luma (bytes, display, width, height, error);
}

static CsImage *
image_from_luma (guint8 *luma,
                 int     width,
                 int     height)
{
  CsImage *image = g_new0 (CsImage, 1);
  gsize n = (gsize) width * height;

  image->width = width;
  image->height = height;
  image->gray = g_new (float, n);
  for (gsize k = 0; k < n; k++)
    image->gray[k] = (float) luma[k] / 255.0f;  /* divide, as ToTensor does */
  return image;
}

CsImage *
cs_image_load (const char  *path,
               GError     **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  int width = 0, height = 0;
  g_autofree guint8 *luma = _cs_image_load_luma (path, &width, &height, error);

  return luma != NULL ? image_from_luma (luma, width, height) : NULL;
}

CsImage *
cs_image_load_bytes (GBytes      *bytes,
                     const char  *name,
                     GError     **error)
{
  g_return_val_if_fail (bytes != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  int width = 0, height = 0;
  g_autofree guint8 *luma = decode_luma (bytes, name, &width, &height, error);

  return luma != NULL ? image_from_luma (luma, width, height) : NULL;
}

void
cs_image_free (CsImage *image)
{
  if (image == NULL)
    return;
  g_free (image->gray);
  g_free (image);
}

/* ---------------------------------------------------------------------------
 * PIL's bilinear resize
 *
 * For output pixel o of n_out along an axis of n_in, scale = n_in / n_out:
 * the filter is centred on c = (o + ½) · scale in the input's edge
 * coordinates and is the triangle 1 − |t| of t = (i + ½ − c) / f, with
 * f = max (scale, 1), over the input pixels i from round (c − f) to
 * round (c + f), cut to the image. The weights are normalised to sum 1,
 * then made 22-bit fixed point, rounded; a sum starts at ½ and is shifted
 * back and clipped to a byte.
 */

#define PRECISION_BITS 22

typedef struct
{
  int first;   /* first input pixel */
  int count;   /* input pixels that weigh */
  int offset;  /* into the weights */
} Taps;

/* taps: (n_out); returns the weights, (n_out · (2 ⌈f⌉ + 1)) */
static gint32 *
bilinear_taps (int   n_in,
               int   n_out,
               Taps *taps)
{
  double scale = (double) n_in / n_out;
  double f = MAX (scale, 1.0);
  int max_taps = (int) ceil (f) * 2 + 1;
  gint32 *weights = g_new0 (gint32, (gsize) n_out * max_taps);
  g_autofree double *w = g_new (double, max_taps);

  for (int o = 0; o < n_out; o++)
    {
      double c = (o + 0.5) * scale;
      /* truncation after + 0.5, as PIL rounds; then cut to the image */
      int first = MAX ((int) (c - f + 0.5), 0);
      int last = MIN ((int) (c + f + 0.5), n_in);
      int count = last - first;
      double sum = 0.0;

      g_assert (count <= max_taps);
      for (int k = 0; k < count; k++)
        {
          double t = fabs ((first + k + 0.5 - c) / f);
          w[k] = t < 1.0 ? 1.0 - t : 0.0;
          sum += w[k];
        }
      taps[o].first = first;
      taps[o].count = count;
      taps[o].offset = o * max_taps;
      for (int k = 0; k < count; k++)
        {
          double v = sum != 0.0 ? w[k] / sum : w[k];
          weights[o * max_taps + k] = (gint32) (0.5 + v * (1 << PRECISION_BITS));
        }
    }
  return weights;
}

static inline guint8
clip_fixed (gint32 sum)
{
  gint32 v = sum >> PRECISION_BITS;
  return (guint8) CLAMP (v, 0, 255);
}

void
cs_image_resize_u8 (const guint8 *src,
                    int           src_width,
                    int           src_height,
                    guint8       *dst,
                    int           dst_width,
                    int           dst_height)
{
  g_return_if_fail (src != NULL && dst != NULL);
  g_return_if_fail (src_width > 0 && src_height > 0 && dst_width > 0 && dst_height > 0);

  if (src_width == dst_width && src_height == dst_height)
    {
      memcpy (dst, src, (gsize) src_width * src_height);
      return;
    }

  g_autofree Taps *ty = g_new (Taps, dst_height);
  g_autofree gint32 *wy = bilinear_taps (src_height, dst_height, ty);

  /* Rows first, into bytes, over only the input rows the columns will read
   * ([row0, row1)); PIL skips a pass whose size does not change. */
  int row0 = ty[0].first;
  int row1 = ty[dst_height - 1].first + ty[dst_height - 1].count;
  int mid_width = dst_width;
  g_autofree guint8 *mid = NULL;
  const guint8 *rows = src;

  if (src_width != dst_width)
    {
      g_autofree Taps *tx = g_new (Taps, dst_width);
      g_autofree gint32 *wx = bilinear_taps (src_width, dst_width, tx);

      mid = g_new (guint8, (gsize) (row1 - row0) * dst_width);
      for (int y = row0; y < row1; y++)
        {
          const guint8 *in = src + (gsize) y * src_width;
          guint8 *out = mid + (gsize) (y - row0) * dst_width;
          for (int x = 0; x < dst_width; x++)
            {
              const gint32 *k = wx + tx[x].offset;
              gint32 sum = 1 << (PRECISION_BITS - 1);
              for (int i = 0; i < tx[x].count; i++)
                sum += in[tx[x].first + i] * k[i];
              out[x] = clip_fixed (sum);
            }
        }
      rows = mid;
    }
  else
    {
      mid_width = src_width;
      row0 = 0;
    }

  if (src_height == dst_height)
    {
      /* only the width changed: the rows are the result */
      memcpy (dst, rows, (gsize) dst_height * dst_width);
      return;
    }

  for (int y = 0; y < dst_height; y++)
    {
      const gint32 *k = wy + ty[y].offset;
      guint8 *out = dst + (gsize) y * dst_width;
      for (int x = 0; x < dst_width; x++)
        {
          gint32 sum = 1 << (PRECISION_BITS - 1);
          for (int j = 0; j < ty[y].count; j++)
            sum += rows[(gsize) (ty[y].first + j - row0) * mid_width + x] * k[j];
          out[x] = clip_fixed (sum);
        }
    }
}
