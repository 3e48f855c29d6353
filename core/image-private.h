/* image-private.h — the bytes behind cs_image_load, for the datasets */
#pragma once

#include "image.h"

G_BEGIN_DECLS

/* The picture at path as PIL's "L" bytes: (height, width), row-major, alpha
 * composited over white, orientation applied. Errors as cs_image_load. */
guint8 *_cs_image_load_luma (const char  *path,
                             int         *width,
                             int         *height,
                             GError     **error);

G_END_DECLS
