/* image.h — pictures read from PNG and JPEG files, as grey levels
 *
 * A picture a person points Convscope at (a photo of a digit, a PNG drawn in
 * another program, one file of an image-folder dataset) becomes grey levels
 * the way PyTorch's data pipeline makes them: PIL's convert ("L"), that is
 *
 *   L = (19595 R + 38470 G + 7471 B + 2¹⁵) >> 16
 *
 * (R·299/1000 + G·587/1000 + B·114/1000 rounded, in PIL's fixed point), and
 * ToTensor's L / 255. Two things differ from PIL, on purpose: a picture with
 * an alpha channel is composited over white first (PIL drops the alpha, so a
 * transparent background turns black), and a JPEG's EXIF orientation is
 * applied (a phone's photo comes out the way it looks in any viewer; PIL
 * leaves it to the caller).
 *
 * Only PNG and JPEG are read, identified by their bytes, not their names;
 * gdk-pixbuf decodes them. Every failure is one GError whose message names
 * the file and says what is wrong with it.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CS_IMAGE_ERROR (cs_image_error_quark ())

typedef enum
{
  CS_IMAGE_ERROR_NOT_IMAGE,    /* empty, or not a picture at all */
  CS_IMAGE_ERROR_UNSUPPORTED,  /* a picture, but not PNG or JPEG */
  CS_IMAGE_ERROR_CORRUPT,      /* a PNG or JPEG that is truncated or damaged */
  CS_IMAGE_ERROR_TOO_LARGE,    /* a side longer than CS_IMAGE_MAX_SIDE */
} CsImageError;

/* Checked on the header, before the pixels are allocated */
#define CS_IMAGE_MAX_SIDE 8192

typedef struct
{
  int width, height;
  float *gray;  /* (height, width), row-major: L / 255, 0 black … 1 white */
} CsImage;

GQuark   cs_image_error_quark (void);

/* A file that cannot be read keeps its G_FILE_ERROR (the message names it);
 * everything else is CS_IMAGE_ERROR. */
CsImage *cs_image_load        (const char    *path,
                               GError       **error);
/* The same, from bytes in memory (a picture piped on standard input);
 * name stands for the file in messages. */
CsImage *cs_image_load_bytes  (GBytes        *bytes,
                               const char    *name,
                               GError       **error);
void     cs_image_free        (CsImage       *image);

/* Resizes an 8-bit grey image exactly as PIL's Image.resize ((dst_width,
 * dst_height), Image.BILINEAR) does (and so torchvision's Resize on a PIL
 * image): a triangle filter, widened by the scale when shrinking so that
 * every source pixel counts, separable, rows first, with PIL's 22-bit fixed
 * point and its rounding of the intermediate rows to bytes.
 * src: (src_height, src_width), dst: (dst_height, dst_width). */
void     cs_image_resize_u8   (const guint8  *src,
                               int            src_width,
                               int            src_height,
                               guint8        *dst,
                               int            dst_width,
                               int            dst_height);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsImage, cs_image_free)

G_END_DECLS
