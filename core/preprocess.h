/* preprocess.h — any picture of a digit made into the 28 × 28 input of MNIST
 *
 * MNIST's digits were made from NIST's black and white scans: each digit was
 * scaled, keeping its aspect ratio, to fit a 20 × 20 box (antialiased, so the
 * edges became grey), then placed in a 28 × 28 field with its centre of mass
 * at the centre. A network trained on MNIST knows nothing else: a digit drawn
 * small, in a corner, or dark on light is, to it, another input altogether.
 * cs_preprocess_digit() makes any picture (the Draw view's canvas, a photo, a
 * PNG of any size) into that form:
 *
 *   1. background and polarity: the background's grey level is the median of
 *      the border pixels; the ink is what departs furthest from it, darker
 *      (dark ink on light: the picture is inverted) or lighter. Result: ink
 *      high, background 0, the strongest ink 1.
 *   2. noise: ink weaker than CS_PREPROCESS_NOISE of the strongest counts as
 *      background (paper texture, JPEG ringing, a faint shadow), and a picture
 *      whose strongest ink departs less than CS_PREPROCESS_MIN_CONTRAST from
 *      the background is empty.
 *   3. crop to the ink's bounding box and scale it so that its longer side
 *      is 20 pixels, keeping the aspect ratio (area averaging when
 *      shrinking, so a stroke one pixel wide on a large canvas fades but is
 *      never lost between samples; bilinear when enlarging);
 *   4. place it so that the centre of mass of the ink lands on (14, 14), to a
 *      fraction of a pixel, clipping what falls outside. Coordinates are
 *      pixel indices: pixel (x, y) has its centre at (x, y), the field spans
 *      −½ … 27½ and its geometric centre is 13.5. That is MNIST's
 *      convention: the mean centre of mass of the bundled digits, measured
 *      this way, is (14.00, 14.00). (MNIST moved its digits by whole pixels;
 *      preprocess.c says why this does not.)
 *   5. if the strongest pixel is below 1 (a thin stroke averaged down), the
 *      image is scaled up so that it reaches 1: every MNIST digit has pixels
 *      at 252–255.
 *
 * Nothing is allocated: the work is three passes over the picture and one
 * over the ink's box, a fraction of a millisecond for a 400 × 400 canvas, so
 * the Draw view can call it on every stroke.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CS_PREPROCESS_SIDE    28     /* the output is SIDE × SIDE */
#define CS_PREPROCESS_PIXELS  (CS_PREPROCESS_SIDE * CS_PREPROCESS_SIDE)
#define CS_PREPROCESS_BOX     20     /* the ink's longer side, in output pixels */
#define CS_PREPROCESS_CENTER  14.0f  /* where the centre of mass goes, pixel-index coordinates */

/* Below this departure from the background (grey levels 0..1, about 26 of
 * 255) a picture holds no ink. */
#define CS_PREPROCESS_MIN_CONTRAST  0.1f
/* Ink weaker than this fraction of the strongest is background. The ink is
 * mapped continuously: (d − NOISE) / (1 − NOISE) of the relative departure
 * d, so the edges of strokes keep their grey. */
#define CS_PREPROCESS_NOISE         0.15f

typedef struct
{
  gboolean empty;            /* no ink: out is all zeros; of the rest, only the
                              * next three are filled in */
  gboolean inverted;         /* the ink was darker than the background */
  float background;          /* the background's grey level (median of the border) */
  float contrast;            /* |strongest ink − background| */
  int bbox_x, bbox_y;        /* the ink's bounding box in the input, pixels */
  int bbox_width, bbox_height;
  float center_x, center_y;  /* the ink's centre of mass in the input, pixel-index coordinates */
  float scale;               /* output pixels per input pixel: 20 / longer side of the box */
  float shift_x, shift_y;    /* input (x, y) lands on (scale · x + shift_x, scale · y + shift_y);
                              * the centre of mass on (14, 14) */
  float gain;                /* step 5's factor; 1 when the ink reached 1 */
} CsPreprocessInfo;

/* gray: (height, width) grey levels in 0..1 (0 black, 1 white, either
 * polarity of ink), row y starting at gray + y · stride (stride counted in
 * floats, ≥ width).
 * out: (28, 28) in 0..1, ink 1, background 0: what ToTensor gives for an
 * MNIST digit.
 * info: may be NULL.
 *
 * Returns TRUE when the picture held ink; FALSE (out all zeros, info->empty
 * set) when it held none, which is not an error. */
gboolean cs_preprocess_digit (const float      *gray,
                              int               width,
                              int               height,
                              int               stride,
                              float             out[CS_PREPROCESS_PIXELS],
                              CsPreprocessInfo *info);

/* out = round (255 · in), in clamped to 0..1: the bytes of an IDX image. */
void     cs_preprocess_to_u8 (const float      in[CS_PREPROCESS_PIXELS],
                              guint8            out[CS_PREPROCESS_PIXELS]);

G_END_DECLS
